/*
** wal.c — the write-ahead log: .oj/wal.jsonl
**
** FORMAT
**
** One record per line, UTF-8 JSON, each line ending in "\n":
**
**   {"seq":17,"time":1795880280362,"crc":"1a2b3c4d","op":{"type":"put",...}}
**
**   seq   Sequence number. 1 for the first change ever made in the project, then
**         +1 per record. Never reused: compaction and restore carry the count on
**         (a snapshot records the seq it covers). Always below 2^52, so every
**         JSON reader holds it exactly.
**   time  Wall-clock time of the change, Unix milliseconds.
**   crc   CRC-32 (zlib's crc32, see crc32.h) of the exact bytes of the "op"
**         value as they appear in this line, from its opening '{' to its
**         matching '}', written as 8 lowercase hex digits.
**   op    The operation, an object with "type" put, del or mark (state.h).
**
** The writer emits the four members in exactly this order without spaces, so
** the op's bytes run from just after `,"op":` to just before the line's final
** '}'. A reader finds them the same way and checks the CRC against those raw
** bytes, never against a re-serialization (which could differ in number or
** escape formatting).
**
** A record is valid when its line is complete ("\n"-terminated), parses as
** JSON with these members, its CRC matches, and its seq is exactly one more
** than the previous record's.
**
** INTEGRITY ON LOAD (store.c acts on what oj_wal_scan reports)
**
**   - A bad final part with no valid record after it is a torn write (the
**     process died mid-append): it is cut off, with a warning in the log.
**   - A bad line followed by a valid record is corruption: start-up stops and
**     names the line and the last good seq; `oj daemon start --recover` saves
**     the bad part beside the log and truncates to the last good record.
**
** WRITING
**
** The daemon is the only writer: one engine thread appends whole lines with
** write(2) on an O_APPEND descriptor; a sync thread calls fdatasync(2) and only
** then are the changes acknowledged (group commit: one sync covers every line
** written before it). Heartbeats and other liveness data are never journaled.
*/
#include "wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"

#define OP_KEY ",\"op\":"

char *oj_wal_format(uint64_t seq, int64_t time_ms, const cJSON *op, size_t *len)
{
    char *body = cJSON_PrintUnformatted(op);
    if (body == NULL)
        return NULL;
    size_t blen = strlen(body);
    char head[128];
    int hlen = snprintf(head, sizeof head, "{\"seq\":%" PRIu64 ",\"time\":%" PRId64
                        ",\"crc\":\"%08x\"" OP_KEY,
                        seq, time_ms, oj_crc32(body, blen));
    char *line = malloc((size_t)hlen + blen + 3);
    if (line) {
        memcpy(line, head, (size_t)hlen);
        memcpy(line + hlen, body, blen);
        memcpy(line + (size_t)hlen + blen, "}\n", 3);
        *len = (size_t)hlen + blen + 2;
    }
    cJSON_free(body);
    return line;
}

/* memmem for the op key within the first bytes of the line. */
static const char *find_op(const char *line, size_t len)
{
    size_t klen = sizeof OP_KEY - 1;
    for (size_t i = 0; i + klen <= len && i < 200; i++)
        if (memcmp(line + i, OP_KEY, klen) == 0)
            return line + i + klen;
    return NULL;
}

int oj_wal_parse_line(const char *line, size_t len, bool want_op, struct oj_wal_record *rec,
                      char *err, size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    if (len < 2 || line[0] != '{' || line[len - 1] != '}') {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    const char *op = find_op(line, len);
    if (op == NULL) {
        snprintf(err, errlen, "no \"op\" member where the format puts it");
        return -1;
    }
    size_t oplen = (size_t)(line + len - 1 - op);
    const cJSON *item;
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (j == NULL) {
        snprintf(err, errlen, "not valid JSON");
        return -1;
    }
    item = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "crc");
    cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "op");
    if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 4503599627370496.0 ||
        !cJSON_IsNumber(t) || t->valuedouble > 4503599627370496.0 ||
        t->valuedouble < -4503599627370496.0 || !cJSON_IsString(c) || strlen(c->valuestring) != 8 ||
        !cJSON_IsObject(o)) {
        snprintf(err, errlen, "missing or malformed seq, time, crc or op");
        cJSON_Delete(j);
        return -1;
    }
    char *end;
    unsigned long want = strtoul(c->valuestring, &end, 16);
    uint32_t got = oj_crc32(op, oplen);
    if (*end != '\0' || (uint32_t)want != got) {
        snprintf(err, errlen, "checksum mismatch (record says %s, bytes give %08x)",
                 c->valuestring, got);
        cJSON_Delete(j);
        return -1;
    }
    rec->seq = (uint64_t)item->valuedouble;
    rec->time_ms = (int64_t)t->valuedouble;
    if (want_op)
        rec->op = cJSON_DetachItemViaPointer(j, o);
    cJSON_Delete(j);
    return 0;
}

/* Reads the seq number a line claims, cheaply, for lines before after_seq. */
static bool quick_seq(const char *line, size_t len, uint64_t *seq)
{
    static const char pre[] = "{\"seq\":";
    if (len < sizeof pre || memcmp(line, pre, sizeof pre - 1) != 0)
        return false;
    uint64_t v = 0;
    size_t i = sizeof pre - 1;
    if (i >= len || line[i] < '0' || line[i] > '9')
        return false;
    for (; i < len && line[i] >= '0' && line[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(line[i] - '0');
    *seq = v;
    return true;
}

int oj_wal_scan(const char *path, uint64_t after_seq,
                int (*fn)(struct oj_wal_record *rec, void *arg), void *arg,
                struct oj_wal_scan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        /* mmap would say "No such device" */
        snprintf(err, errlen,
                 "%s is %s, not the WAL file; move it away (mv %s %s.aside) and start again",
                 path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file", path, path);
        close(fd);
        return -1;
    }
    out->file_size = st.st_size;
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    const char *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    madvise((void *)data, (size_t)st.st_size, MADV_SEQUENTIAL);

    int rc = 0;
    size_t size = (size_t)st.st_size, pos = 0, lineno = 0;
    uint64_t prev = 0;
    char why[200];
    while (pos < size) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        lineno++;
        struct oj_wal_record rec;
        bool ok;
        uint64_t claimed;
        bool skip = prev != 0 && quick_seq(line, len, &claimed) && claimed <= after_seq;
        if (nl == NULL) {
            snprintf(why, sizeof why, "incomplete line (no newline)");
            ok = false;
        } else {
            ok = oj_wal_parse_line(line, len, !skip, &rec, why, sizeof why) == 0;
            if (ok && prev != 0 && rec.seq != prev + 1) {
                snprintf(why, sizeof why, "sequence jumps from %llu to %llu",
                         (unsigned long long)prev, (unsigned long long)rec.seq);
                cJSON_Delete(rec.op);
                ok = false;
            }
        }
        if (!ok) {
            out->bad_line = lineno;
            snprintf(out->bad_reason, sizeof out->bad_reason, "%s", why);
            /* Torn or corrupt? Look for any valid record after this line. */
            size_t p2 = nl ? (size_t)(nl - data) + 1 : size;
            while (p2 < size) {
                const char *l2 = data + p2;
                const char *n2 = memchr(l2, '\n', size - p2);
                size_t len2 = n2 ? (size_t)(n2 - l2) : size - p2;
                struct oj_wal_record r2;
                if (n2 && oj_wal_parse_line(l2, len2, false, &r2, why, sizeof why) == 0) {
                    out->valid_after_bad++;
                    if (r2.seq > out->max_seq_seen)
                        out->max_seq_seen = r2.seq;
                }
                p2 = n2 ? (size_t)(n2 - data) + 1 : size;
            }
            out->torn = out->valid_after_bad == 0;
            break;
        }
        if (out->records == 0)
            out->first_seq = rec.seq;
        out->records++;
        out->last_seq = prev = rec.seq;
        if (rec.seq > out->max_seq_seen)
            out->max_seq_seen = rec.seq;
        pos += len + 1;
        out->good_end = (off_t)pos;
        if (!skip && rec.seq > after_seq && fn) {
            int r = fn(&rec, arg);
            cJSON_Delete(rec.op);
            if (r != 0) {
                rc = -2;
                break;
            }
        } else {
            cJSON_Delete(rec.op);
        }
    }
    munmap((void *)data, size);
    return rc;
}
