/* wal.h — the write-ahead log file, .oj/wal.jsonl. The format is specified at
 * the top of wal.c; docs/storage.md repeats it for outside tools. */
#ifndef OJ_WAL_H
#define OJ_WAL_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct oj_wal_record {
    uint64_t seq;
    int64_t time_ms;
    cJSON *op; /* owned by the record; NULL when the caller did not ask for it */
};

/* Formats one record as its line (ending in "\n"). Returns a malloc'd buffer
 * and its length in *len, or NULL when out of memory. */
char *oj_wal_format(uint64_t seq, int64_t time_ms, const cJSON *op, size_t *len);

/* Parses and verifies one line (without its "\n"). With want_op, rec->op is
 * the parsed operation (caller frees with cJSON_Delete). Returns 0, or -1 with
 * the reason in err. Never reads outside [line, line+len). */
int oj_wal_parse_line(const char *line, size_t len, bool want_op, struct oj_wal_record *rec,
                      char *err, size_t errlen);

/* What a scan of the whole file found. */
struct oj_wal_scan {
    uint64_t first_seq, last_seq; /* of the valid prefix; 0 when it is empty */
    size_t records;               /* valid records in the prefix */
    off_t good_end;               /* byte offset just after the valid prefix */
    off_t file_size;
    size_t bad_line;              /* 1-based line number of the first bad line; 0 = none */
    char bad_reason[256];
    bool torn;                    /* the bad part is a torn tail: no valid record follows */
    size_t valid_after_bad;       /* valid-looking records after the bad line (corruption) */
    uint64_t max_seq_seen;        /* highest seq of any valid-looking record, even past a bad line */
};

/* Reads `path` and calls fn for each record of the valid prefix whose seq is
 * greater than after_seq, in order, with the op parsed (fn may keep it by
 * setting rec->op to NULL). A missing file is an empty log. fn returning
 * non-zero stops the scan (returned as -2). Returns 0, or -1 with err when the
 * file cannot be read. */
int oj_wal_scan(const char *path, uint64_t after_seq,
                int (*fn)(struct oj_wal_record *rec, void *arg), void *arg,
                struct oj_wal_scan *out, char *err, size_t errlen);
#endif
