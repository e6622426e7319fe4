/*
** wal.c — the write-ahead log: .oj/wal.jsonl
**
** FORMAT (version 2, written since 2026-12)
**
** One record per line, UTF-8 JSON, each line ending in "\n":
**
**   {"seq":17,"time":1795880280362,"op":{"type":"put",...},"crc":"1a2b3c4d"}
**
**   seq   Sequence number. 1 for the first change ever made in the project, then
**         +1 per record. Never reused: compaction, restore and --recover carry
**         the count on. Always below 2^52, so every JSON reader holds it exactly.
**   time  Wall-clock time of the change, Unix milliseconds.
**   op    The operation, an object with "type" put, del, mark, batch or base
**         (state.h).
**   crc   CRC-32 (zlib's crc32, see crc32.h) of every byte of the line before
**         `,"crc":"` — the whole record but its own checksum — as 8 lowercase
**         hex digits. It is the line's last member, so the line always ends in
**         the 18 bytes `,"crc":"xxxxxxxx"}`.
**
** The writer emits the members in exactly this order without spaces. A reader
** checks the CRC against the raw bytes, never against a re-serialization
** (which could differ in number or escape formatting), then parses the JSON.
**
** A base record, {"type":"base","snapshot":"<id>","snapshot_seq":N}, is the
** first record of every WAL that compaction, restore or --recover started: it
** names the snapshot the log rests on (whose records it no longer has), and
** its seq is N + 1. It changes no entity. It is the high-water mark that
** survives compaction: start-up can tell a missing or damaged snapshot from a
** log that never had those records.
**
** Version 1 lines (before 2026-12) put "crc" third and checksummed only the
** op: {"seq":17,"time":…,"crc":"1a2b3c4d","op":{…}}. They are still read;
** everything new is written as version 2.
**
** A record is valid when its line parses as JSON with these members and its
** CRC matches. Valid records follow each other with seq +1.
**
** INTEGRITY ON LOAD: oj_wal_scan() reads the whole file and reports it as
** segments: runs of consecutive valid records, damaged lines, and a torn
** tail. Only an unterminated final line that is the start of the next record
** (no zero or control bytes, `{"seq":` and the next seq or the start of its
** digits; the next after the last good record, which is not older than the
** snapshot) is torn: an append the process never finished and never
** acknowledged. A complete line with a bad checksum, zeroed bytes or anything
** else is damage; the highest seq a damaged line still seems to claim is kept
** so that a recovery never numbers a change with it. A valid final record that
** lacks only its "\n" is kept (store_open.c adds the newline).
** recovery.c decides what start-up does with that; store.c does it.
**
** PREALLOCATION
**
** The file is grown ahead of the records, OJ_WAL_CHUNK (256 KiB) at a time,
** and the part no record uses yet is filled with OJ_WAL_FILL (0xff) bytes. A
** record then overwrites bytes that are already allocated and written, and the
** fdatasync that makes it durable has no new file size to commit: on ext4 that
** is one device write fewer per sync (docs/performance.md). So the file is
** records, then possibly a run of 0xff bytes that reaches its end: the
** preallocated end, which is no damage and holds nothing. Readers stop where
** it starts (data_end). Every other rule applies to the bytes before it, as to
** a file without one: an unterminated start of the next record just before it
** is torn (a write cut short), a valid final record without its "\n" is kept.
** Why 0xff and not zeros: no valid UTF-8 holds it, so no record or torn prefix
** ends in it; and disks do not make it: blocks lost or zeroed by a crash read
** as zeros, and zeros stay damage as before. 0xff bytes anywhere but in one run
** up to the end of the file are damage. What the fill cannot show (nor could
** the plain file): a disk that reports a flush done and then loses the write
** leaves the fill where records were, as it would leave a file cut at a record
** boundary. The daemon cuts the fill off at a clean stop.
**
** WRITING
**
** The daemon is the only writer: one engine thread writes whole lines with
** pwrite(2) just after the last record (over the fill, growing the file by
** another filled chunk when a record would not fit); a sync thread calls
** fdatasync(2) and only then are the changes acknowledged (group commit: one
** sync covers every line written before it). Heartbeats and other liveness
** data are never journaled.
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
#include "crc_tail.h"

#define OP_KEY ",\"op\":"
#define MAX_EXACT 4503599627370496.0 /* 2^52 */

char *oj_wal_format(uint64_t seq, int64_t time_ms, const cJSON *op, size_t *len)
{
    char *body = cJSON_PrintUnformatted(op);
    if (body == NULL)
        return NULL;
    size_t blen = strlen(body);
    char head[96];
    int hlen = snprintf(head, sizeof head, "{\"seq\":%" PRIu64 ",\"time\":%" PRId64 OP_KEY, seq,
                        time_ms);
    size_t n = (size_t)hlen + blen;
    char *line = malloc(n + OJ_CRC_TAIL_LEN + 2);
    if (line) {
        memcpy(line, head, (size_t)hlen);
        memcpy(line + hlen, body, blen);
        *len = n + oj_crc_tail_format(line + n, oj_crc32(line, n));
    }
    cJSON_free(body);
    return line;
}

/* The op's bytes in a version-1 line: from just after the first `,"op":`
 * (which follows "crc") to just before the final '}'. */
static const char *find_v1_op(const char *line, size_t len)
{
    size_t klen = sizeof OP_KEY - 1, ck = sizeof OJ_CRC_KEY - 1;
    bool crc_seen = false;
    for (size_t i = 0; i + klen <= len && i < 200; i++) {
        if (i + ck <= len && memcmp(line + i, OJ_CRC_KEY, ck) == 0)
            crc_seen = true;
        if (crc_seen && memcmp(line + i, OP_KEY, klen) == 0)
            return line + i + klen;
    }
    return NULL;
}

/* Fills rec->base* when op is a base record. */
static void read_base(const cJSON *op, struct oj_wal_record *rec)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(op, "type");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "snapshot");
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(op, "snapshot_seq");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, "base") != 0 || !cJSON_IsString(id) ||
        !cJSON_IsNumber(sq) || sq->valuedouble < 0 || sq->valuedouble > MAX_EXACT)
        return;
    rec->base = true;
    rec->base_snapshot_seq = (uint64_t)sq->valuedouble;
    snprintf(rec->base_snapshot, sizeof rec->base_snapshot, "%s", id->valuestring);
}

int oj_wal_parse_line(const char *line, size_t len, bool want_op, struct oj_wal_record *rec,
                      char *err, size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    if (len < 2 || line[0] != '{' || line[len - 1] != '}') {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    /* Version 2: the checksum is the last member and covers all before it. */
    uint32_t want = 0, got = 0;
    int tail = oj_crc_tail_check(line, len, &want, &got);
    bool v2 = tail >= 0;
    if (tail == 0) { /* damage, whatever else it broke */
        snprintf(err, errlen, "checksum mismatch (record says %08x, bytes give %08x)", want, got);
        return -1;
    }
    if (!v2) {
        const char *op = find_v1_op(line, len);
        if (op == NULL) {
            snprintf(err, errlen, "no checksum where the format puts it");
            return -1;
        }
        got = oj_crc32(op, (size_t)(line + len - 1 - op));
    }
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (j == NULL) {
        snprintf(err, errlen, "not valid JSON");
        return -1;
    }
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "crc");
    cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "op");
    if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > MAX_EXACT ||
        item->valuedouble != (double)(uint64_t)item->valuedouble || !cJSON_IsNumber(t) ||
        t->valuedouble > MAX_EXACT || t->valuedouble < -MAX_EXACT || !cJSON_IsString(c) ||
        strlen(c->valuestring) != 8 || !cJSON_IsObject(o)) {
        snprintf(err, errlen, "missing or malformed seq, time, crc or op");
        cJSON_Delete(j);
        return -1;
    }
    if (!v2 && !oj_crc_hex8(c->valuestring, &want)) {
        snprintf(err, errlen, "malformed crc \"%.8s\"", c->valuestring);
        cJSON_Delete(j);
        return -1;
    }
    if (want != got) {
        snprintf(err, errlen, "checksum mismatch (record says %08x, bytes give %08x)", want, got);
        cJSON_Delete(j);
        return -1;
    }
    rec->seq = (uint64_t)item->valuedouble;
    rec->time_ms = (int64_t)t->valuedouble;
    rec->legacy = !v2;
    read_base(o, rec);
    if (want_op)
        rec->op = cJSON_DetachItemViaPointer(j, o);
    cJSON_Delete(j);
    return 0;
}

/* Reads the seq number a line claims, cheaply. Returns false when the line
 * does not start like a record; *complete says whether the digits ended
 * before the line did. */
static bool quick_seq(const char *line, size_t len, uint64_t *seq, bool *complete)
{
    static const char pre[] = "{\"seq\":";
    size_t plen = sizeof pre - 1;
    if (memcmp(line, pre, len < plen ? len : plen) != 0)
        return false;
    uint64_t v = 0;
    size_t i = plen;
    for (; i < len && line[i] >= '0' && line[i] <= '9' && v < (1ull << 53); i++)
        v = v * 10 + (uint64_t)(line[i] - '0');
    *seq = v;
    *complete = i < len && i > plen;
    return true;
}

/* Is this unterminated final line the start of the record numbered `expect`,
 * cut short by a write that never finished? Only that: no zeroed or control
 * bytes, `{"seq":` and digits that are `expect` or the start of it. Anything
 * else (another seq, a whole object that fails its checksum, not a record) is
 * damage. */
static bool torn_prefix(const char *line, size_t len, uint64_t expect)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return false;
    static const char pre[] = "{\"seq\":";
    size_t plen = sizeof pre - 1;
    if (memcmp(line, pre, len < plen ? len : plen) != 0)
        return false;
    if (len <= plen)
        return true;
    char want[24];
    int wlen = snprintf(want, sizeof want, "%llu", (unsigned long long)expect);
    size_t i = plen, d = 0;
    for (; i < len && line[i] >= '0' && line[i] <= '9'; i++, d++)
        if ((int)d >= wlen || line[i] != want[d])
            return false;
    if (i == len) /* the digits ran to the end: a start of `expect` */
        return true;
    if ((int)d != wlen)
        return false;
    /* A whole JSON object is no proper prefix of a line: a complete record
     * that fails its checksum. */
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (j) {
        cJSON_Delete(j);
        return false;
    }
    return true;
}

/* The highest seq a damaged line still seems to claim (its "seq", or a base
 * record's "snapshot_seq"), when plausible; 0 when none. A recovery numbers
 * new changes past it, so that no seq the damage held is used twice. */
static uint64_t claimed_seq(const char *line, size_t len)
{
    uint64_t best = 0, v;
    bool complete;
    if (quick_seq(line, len, &v, &complete) && complete)
        best = v;
    static const char key[] = "\"snapshot_seq\":";
    size_t klen = sizeof key - 1;
    for (size_t i = 0; i + klen < len && i < 400; i++) {
        if (memcmp(line + i, key, klen) != 0)
            continue;
        v = 0;
        for (size_t k = i + klen; k < len && line[k] >= '0' && line[k] <= '9' && v < (1ull << 53);
             k++)
            v = v * 10 + (uint64_t)(line[k] - '0');
        if (v + 1 > best)
            best = v + 1; /* a base record's own seq is one more */
        break;
    }
    return best < (1ull << 52) ? best : 0;
}

struct scanner {
    struct oj_wal_scan *out;
    size_t cap;
};

#define MAX_SEGS 4096 /* a file of scattered garbage must not take unbounded memory */

static int add_seg(struct scanner *sc, enum oj_wal_seg_kind kind, off_t start, off_t end,
                   size_t lineno, uint64_t seq, const char *why)
{
    struct oj_wal_scan *o = sc->out;
    struct oj_wal_seg *last = o->nsegs ? &o->segs[o->nsegs - 1] : NULL;
    /* Past the cap, one last damage segment covers the rest of the file: the
     * byte range stays exact, only the detail is lost. */
    bool extend = last && (o->nsegs >= MAX_SEGS ||
                           (last->kind == kind &&
                            (kind != OJ_WAL_RUN || seq == last->last_seq + 1)));
    if (extend) {
        last->end = end;
        last->last_line = lineno;
        if (kind == OJ_WAL_RUN && last->kind == OJ_WAL_RUN)
            last->last_seq = seq;
        return 0;
    }
    if (o->nsegs == sc->cap) {
        size_t ncap = sc->cap ? sc->cap * 2 : 4;
        struct oj_wal_seg *g = realloc(o->segs, ncap * sizeof *g);
        if (g == NULL)
            return -1;
        o->segs = g;
        sc->cap = ncap;
    }
    struct oj_wal_seg *s = &o->segs[o->nsegs++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->start = start;
    s->end = end;
    s->first_line = s->last_line = lineno;
    s->first_seq = s->last_seq = seq;
    snprintf(s->why, sizeof s->why, "%s", why ? why : "");
    if (o->nsegs == MAX_SEGS) {
        s->kind = OJ_WAL_DAMAGE;
        s->first_seq = s->last_seq = 0;
        snprintf(s->why, sizeof s->why, "from here on too many damaged stretches to list");
    }
    if (s->kind == OJ_WAL_DAMAGE)
        o->damaged_segs++;
    return 0;
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

    /* The preallocated end is no line of the log. */
    size_t size = (size_t)st.st_size, pos = 0;
    while (size > 0 && (unsigned char)data[size - 1] == OJ_WAL_FILL)
        size--;
    out->data_end = (off_t)size;

    struct scanner sc = {.out = out};
    int rc = 0;
    char why[200];
    while (pos < size && rc == 0) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        size_t next = nl ? pos + len + 1 : size;
        size_t lineno = ++out->lines;
        uint64_t claimed;
        bool complete;
        /* Records the caller does not need are verified without keeping the op. */
        bool want = fn && !(quick_seq(line, len, &claimed, &complete) && complete &&
                            claimed <= after_seq);
        struct oj_wal_record rec;
        bool ok = oj_wal_parse_line(line, len, want, &rec, why, sizeof why) == 0;
        if (ok && out->records > 0 && rec.seq <= out->last_seq) {
            snprintf(why, sizeof why, "seq %llu comes after seq %llu",
                     (unsigned long long)rec.seq, (unsigned long long)out->last_seq);
            cJSON_Delete(rec.op);
            ok = false;
        }
        if (!ok) {
            /* The record after the last good one, or the first after the
             * snapshot; a WAL whose last record is older than the snapshot
             * cannot end in a write that was never acknowledged. */
            uint64_t expect = (out->records ? out->last_seq : after_seq) + 1;
            bool can_tear = nl == NULL && after_seq != UINT64_MAX &&
                            (out->records == 0 || out->last_seq >= after_seq);
            enum oj_wal_seg_kind k =
                can_tear && torn_prefix(line, len, expect) ? OJ_WAL_TORN : OJ_WAL_DAMAGE;
            if (k == OJ_WAL_DAMAGE) {
                uint64_t c = claimed_seq(line, len);
                if (c > out->max_claimed)
                    out->max_claimed = c;
            }
            if (nl == NULL && k == OJ_WAL_DAMAGE)
                snprintf(why + strlen(why), sizeof why - strlen(why), "%s",
                         memchr(line, '\0', len) ? " (zeroed bytes, no final newline)"
                                                 : " (no final newline)");
            if (add_seg(&sc, k, (off_t)pos, (off_t)next, lineno, 0, why) != 0)
                goto oom;
            pos = next;
            continue;
        }
        if (nl == NULL)
            out->missing_newline = true;
        if (rec.legacy)
            out->legacy++;
        if (out->records == 0) {
            out->first_seq = rec.seq;
            if (rec.base) {
                out->base = rec;
                out->base.op = NULL;
            }
        }
        out->records++;
        out->last_seq = rec.seq;
        if (rec.seq > out->max_seq)
            out->max_seq = rec.seq;
        if (add_seg(&sc, OJ_WAL_RUN, (off_t)pos, (off_t)next, lineno, rec.seq, NULL) != 0) {
            cJSON_Delete(rec.op);
            goto oom;
        }
        if (fn && rec.seq > after_seq && fn(&rec, arg) != 0)
            rc = -2;
        cJSON_Delete(rec.op);
        pos = next;
    }
    munmap((void *)data, (size_t)st.st_size);
    return rc;
oom:
    munmap((void *)data, (size_t)st.st_size);
    oj_wal_scan_free(out);
    snprintf(err, errlen, "out of memory scanning %s", path);
    return -1;
}

off_t oj_wal_data_end(int fd, off_t size)
{
    char buf[65536];
    off_t end = size;
    while (end > 0) {
        size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        ssize_t got = pread(fd, buf, n, end - (off_t)n);
        if (got != (ssize_t)n)
            return -1;
        size_t i = n;
        while (i > 0 && (unsigned char)buf[i - 1] == OJ_WAL_FILL)
            i--;
        end -= (off_t)(n - i);
        if (i > 0)
            break;
    }
    return end;
}

void oj_wal_scan_free(struct oj_wal_scan *scan)
{
    free(scan->segs);
    scan->segs = NULL;
    scan->nsegs = 0;
}
