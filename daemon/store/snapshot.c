/*
** snapshot.c — .oj/snapshots/{seq}-{timestamp}.json
**
** FORMAT
**
** File name: the seq the snapshot covers, zero-padded to 20 digits, a dash, the
** UTC time it was taken as YYYYMMDDTHHMMSSZ, and ".json"; e.g.
** 00000000000000001234-20261128T153012Z.json. The name without ".json" is the
** snapshot id that `oj maintenance restore-snapshot --id` takes.
**
** Content (version 2): one JSON object on one line, members in exactly this
** order:
**
**   {"format":"oj-snapshot","version":2,"seq":1234,"time":1795880280362,
**    "state":{"lock":{"merge-lock":{...}},"pipeline":{...}},"crc":"89abcdef"}
**
**   seq    every WAL record up to and including this seq is reflected here;
**          it must equal the seq in the file name
**   time   when it was taken, Unix milliseconds
**   state  every entity: {"<kind>":{"<id>":<value>,...},...}; the value is what
**          the WAL's last put of that entity wrote
**   crc    CRC-32 (zlib's) of every byte before `,"crc":"` — the whole
**          snapshot but its own checksum — as 8 hex digits; the file ends in
**          `,"crc":"xxxxxxxx"}` and a newline
**
** Version 1 (before 2026-12) had "crc" before "state" and checksummed only
** the state's bytes; it is still read.
**
** A snapshot is written to a temp file, fsync'd, renamed into place and the
** directory fsync'd, so a crash leaves either the old set or the new one. At
** start-up the newest snapshot that verifies is loaded; older ones are the
** fallback.
*/
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32.h"
#include "crc_tail.h"
#include "fsutil.h"

#define STATE_KEY ",\"state\":"

int oj_snapshot_write(const char *dir, const struct oj_state *state, int64_t now_ms,
                      struct oj_snapshot_info *info, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    cJSON *sj = oj_state_to_json_view(state); /* not a second copy of the state */
    char *body = sj ? cJSON_PrintUnformatted(sj) : NULL;
    cJSON_Delete(sj);
    if (body == NULL) {
        snprintf(err, errlen, "out of memory serializing the state");
        return -1;
    }
    size_t blen = strlen(body);
    uint64_t seq = oj_state_seq(state);
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    memset(info, 0, sizeof *info);
    snprintf(info->id, sizeof info->id, "%020" PRIu64 "-%s", seq, stamp);
    info->seq = seq;
    info->time_ms = (int64_t)secs * 1000;

    char head[256], tail[32];
    int hlen = snprintf(head, sizeof head,
                        "{\"format\":\"oj-snapshot\",\"version\":2,\"seq\":%" PRIu64
                        ",\"time\":%" PRId64 STATE_KEY,
                        seq, now_ms);
    uint32_t crc = oj_crc32_update(oj_crc32(head, (size_t)hlen), body, blen);
    size_t tlen = oj_crc_tail_format(tail, crc);
    char final[4200];
    snprintf(final, sizeof final, "%s/%s.json", dir, info->id);
    struct iovec iov[] = {{head, (size_t)hlen}, {body, blen}, {tail, tlen}};
    int rc = oj_write_atomic(final, iov, 3, err, errlen);
    cJSON_free(body);
    /* The text was as big as the state; give its pages back to the system
     * (malloc keeps freed memory for itself, so the daemon's RSS would stay
     * at its peak after every snapshot and compaction). */
    malloc_trim(0);
    if (rc != 0)
        return -1;
    info->bytes = (uint64_t)hlen + blen + tlen;
    return 0;
}

/* "<20 digits>-YYYYMMDDTHHMMSSZ.json" */
static bool parse_name(const char *name, struct oj_snapshot_info *info)
{
    size_t n = strlen(name);
    if (n != 20 + 1 + 16 + 5 || strcmp(name + n - 5, ".json") != 0 || name[20] != '-')
        return false;
    uint64_t seq = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        seq = seq * 10 + (uint64_t)(name[i] - '0');
        if (seq > OJ_SEQ_MAX) /* no seq is this big: a damaged name, not a snapshot */
            return false;
    }
    struct tm tm = {0};
    const char *end = strptime(name + 21, "%Y%m%dT%H%M%SZ", &tm);
    if (end == NULL || strcmp(end, ".json") != 0)
        return false;
    memset(info, 0, sizeof *info);
    memcpy(info->id, name, n - 5);
    info->id[n - 5] = '\0';
    info->seq = seq;
    info->time_ms = (int64_t)timegm(&tm) * 1000;
    return true;
}

static int newest_first(const void *a, const void *b)
{
    const struct oj_snapshot_info *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq > y->seq ? -1 : 1;
    return x->time_ms > y->time_ms ? -1 : x->time_ms < y->time_ms;
}

int oj_snapshot_list(const char *dir, struct oj_snapshot_info **out, char *err, size_t errlen)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct oj_snapshot_info info;
        if (!parse_name(de->d_name, &info))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct oj_snapshot_info *grown = realloc(*out, (size_t)cap * sizeof **out);
            if (grown == NULL)
                break;
            *out = grown;
        }
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0)
            info.bytes = (uint64_t)st.st_size;
        (*out)[n++] = info;
    }
    closedir(d);
    if (n > 1)
        qsort(*out, (size_t)n, sizeof **out, newest_first);
    return n;
}

static int parse(const char *data, size_t len, struct oj_state *state, int *version, char *err,
                 size_t errlen)
{
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len < 2 || data[0] != '{' || data[len - 1] != '}') {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    /* Version 2: the checksum is the last member and covers all before it.
     * Version 1: it covers the bytes of "state", the last member. */
    uint32_t want = 0, got = 0;
    int tail = oj_crc_tail_check(data, len, &want, &got);
    bool v2 = tail >= 0;
    if (version)
        *version = v2 ? 2 : 1;
    if (tail == 0) { /* damage, whatever else it broke */
        snprintf(err, errlen, "checksum mismatch (file says %08x, its bytes give %08x)", want,
                 got);
        return -1;
    }
    if (!v2) {
        const char *body = NULL;
        size_t klen = sizeof STATE_KEY - 1;
        for (size_t i = 0; i + klen <= len && i < 300; i++)
            if (memcmp(data + i, STATE_KEY, klen) == 0) {
                body = data + i + klen;
                break;
            }
        if (body == NULL) {
            snprintf(err, errlen, "no checksum where the format puts it");
            return -1;
        }
        got = oj_crc32(body, (size_t)(data + len - 1 - body));
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (j == NULL) {
        snprintf(err, errlen, "not valid JSON");
        return -1;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *crc = cJSON_GetObjectItemCaseSensitive(j, "crc");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "state");
    int rc = -1;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "oj-snapshot") != 0 ||
        !cJSON_IsNumber(seq) || seq->valuedouble < 0 || seq->valuedouble > 4503599627370496.0 ||
        !cJSON_IsString(crc) || strlen(crc->valuestring) != 8 || !cJSON_IsObject(st)) {
        snprintf(err, errlen, "missing or malformed format, seq, crc or state");
    } else if (!v2 && !oj_crc_hex8(crc->valuestring, &want)) {
        snprintf(err, errlen, "malformed crc \"%s\"", crc->valuestring);
    } else if (want != got) {
        snprintf(err, errlen, "checksum mismatch (file says %08x, its bytes give %08x)", want,
                 got);
    } else {
        rc = oj_state_load_json(state, st, (uint64_t)seq->valuedouble, err, errlen);
    }
    cJSON_Delete(j);
    return rc;
}

int oj_snapshot_parse(const char *data, size_t len, struct oj_state *state, char *err,
                      size_t errlen)
{
    return parse(data, len, state, NULL, err, errlen);
}

int oj_snapshot_load(const char *path, struct oj_state *state, char *err, size_t errlen)
{
    return oj_snapshot_load_version(path, state, NULL, err, errlen);
}

int oj_snapshot_load_version(const char *path, struct oj_state *state, int *version, char *err,
                             size_t errlen)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (buf == NULL || n != (size_t)st.st_size) {
        free(buf);
        snprintf(err, errlen, "cannot read");
        return -1;
    }
    int rc = parse(buf, n, state, version, err, errlen);
    free(buf);
    /* The name says which records the snapshot stands for; a file renamed or
     * copied under another seq must not stand in for them. */
    const char *base = strrchr(path, '/');
    struct oj_snapshot_info info;
    if (rc == 0 && parse_name(base ? base + 1 : path, &info) && info.seq != oj_state_seq(state)) {
        snprintf(err, errlen, "its content is at seq %llu but its name says seq %llu",
                 (unsigned long long)oj_state_seq(state), (unsigned long long)info.seq);
        rc = -1;
    }
    return rc;
}

int oj_snapshot_prune(const char *dir, unsigned keep)
{
    struct oj_snapshot_info *list;
    char err[256];
    int n = oj_snapshot_list(dir, &list, err, sizeof err);
    int removed = 0;
    for (int i = (int)keep; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", dir, list[i].id);
        if (unlink(path) == 0)
            removed++;
    }
    free(list);
    if (removed)
        oj_fsync_dir(dir);
    return removed;
}
