/* wal.h — the write-ahead log file, .oj/wal.jsonl. The format is specified at
 * the top of wal.c; docs/storage.md repeats it for outside tools.
 *
 * This file only reads and formats lines and reports what a file holds; what
 * start-up does about damage is decided in recovery.c and done in store.c. */
#ifndef OJ_WAL_H
#define OJ_WAL_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OJ_WAL_SNAPSHOT_ID_MAX 64

/* The preallocated end (wal.c, PREALLOCATION): the daemon grows the file to
 * multiples of OJ_WAL_CHUNK and fills what no record uses yet with
 * OJ_WAL_FILL bytes, a byte UTF-8 never holds and that no failing disk leaves
 * behind (lost blocks read as zeros, which stay damage). */
#define OJ_WAL_FILL 0xff
#define OJ_WAL_CHUNK (256 * 1024)

struct oj_wal_record {
    uint64_t seq;
    int64_t time_ms;
    cJSON *op;   /* owned by the record; NULL when the caller did not ask for it */
    bool legacy; /* a version-1 line, whose checksum covers only the op */
    /* A base record (op type "base", the first record of a compacted or
     * restored WAL): the snapshot the WAL rests on. */
    bool base;
    uint64_t base_snapshot_seq;
    char base_snapshot[OJ_WAL_SNAPSHOT_ID_MAX];
};

/* Formats one record as its line (ending in "\n"). Returns a malloc'd buffer
 * and its length in *len, or NULL when out of memory. */
char *oj_wal_format(uint64_t seq, int64_t time_ms, const cJSON *op, size_t *len);

/* Parses and verifies one line (without its "\n"). With want_op, rec->op is
 * the parsed operation (caller frees with cJSON_Delete). Returns 0, or -1 with
 * the reason in err. Never reads outside [line, line+len). */
int oj_wal_parse_line(const char *line, size_t len, bool want_op, struct oj_wal_record *rec,
                      char *err, size_t errlen);

/* A stretch of the file as the scan found it. */
enum oj_wal_seg_kind {
    OJ_WAL_RUN,    /* valid records with consecutive seqs first_seq..last_seq */
    OJ_WAL_DAMAGE, /* lines that are not valid records (bad checksum, garbage,
                      zeroed bytes, a seq out of order, a bad unterminated tail) */
    OJ_WAL_TORN,   /* the unterminated start of a record at the very end: a
                      write cut short, never acknowledged */
};

struct oj_wal_seg {
    enum oj_wal_seg_kind kind;
    off_t start, end;             /* bytes [start, end) */
    size_t first_line, last_line; /* 1-based */
    uint64_t first_seq, last_seq; /* RUN only */
    char why[160];                /* DAMAGE, TORN: what is wrong with its first line */
};

/* What a scan of the whole file found. Segments cover the file in order. */
struct oj_wal_scan {
    off_t file_size;
    off_t data_end;                /* file_size less the preallocated end (OJ_WAL_FILL bytes
                                      that run to the end of the file); segments cover
                                      [0, data_end) */
    size_t lines;
    size_t records;                /* valid records */
    uint64_t first_seq, last_seq;  /* of the first and last valid record; 0 if none */
    uint64_t max_seq;              /* highest seq of any valid record */
    uint64_t max_claimed;          /* highest seq damaged lines seem to claim (unverified) */
    size_t legacy;                 /* valid records in format 1 (checksum over the op only) */
    bool missing_newline;          /* the final record is valid but lacks its "\n" */
    struct oj_wal_record base;     /* .base set when the first valid record is a base record */
    struct oj_wal_seg *segs;       /* malloc'd; oj_wal_scan_free */
    size_t nsegs;
    size_t damaged_segs;           /* DAMAGE segments */
};

/* Reads `path` whole. after_seq is the seq of the state the records go on
 * (the loaded snapshot's; UINT64_MAX when there is none to go on, and then no
 * tail counts as torn). Calls fn, in file order, for every valid record whose
 * seq is greater than after_seq, with the op parsed (fn may keep it by setting
 * rec->op to NULL), wherever it lies: fn decides what to apply. A missing file
 * is an empty log. fn returning non-zero stops the scan (returned as -2; the
 * scan is then incomplete). Returns 0, or -1 with err when the file cannot be
 * read (then *out needs no freeing). */
int oj_wal_scan(const char *path, uint64_t after_seq,
                int (*fn)(struct oj_wal_record *rec, void *arg), void *arg,
                struct oj_wal_scan *out, char *err, size_t errlen);
void oj_wal_scan_free(struct oj_wal_scan *scan);

/* Where the data of the open file `fd` (of `size` bytes) ends: before the run
 * of OJ_WAL_FILL bytes that reaches its end, if any. -1 when it cannot be
 * read. */
off_t oj_wal_data_end(int fd, off_t size);
#endif
