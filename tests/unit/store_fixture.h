/* store_fixture.h — a scratch state directory for the store's tests
 * (test_store.c, test_recovery.c): open and close the real store on it, make
 * changes, and damage its files the ways disks and people do. Included by
 * one test file each, so the helpers are static. */
#ifndef OJ_STORE_FIXTURE_H
#define OJ_STORE_FIXTURE_H
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "wal.h"

static char dir[64], wal[128], snaps[128];
static char notes[16384];

static inline void on_note(const char *text, void *arg)
{
    (void)arg;
    strncat(notes, text, sizeof notes - strlen(notes) - 2);
    strcat(notes, "\n");
}

static inline void mk(void)
{
    snprintf(dir, sizeof dir, "/tmp/ojw.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(wal, sizeof wal, "%s/wal.jsonl", dir);
    snprintf(snaps, sizeof snaps, "%s/snapshots", dir);
    notes[0] = '\0';
}

static inline void rm(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static inline int open_store(struct oj_store **s, bool recover, char *err)
{
    struct oj_store_opts o = {.state_dir = dir, .recover = recover, .snapshot_keep = 5,
                              .note = on_note};
    return oj_store_open(s, &o, err, 1024);
}

static inline struct oj_store *must_open(void)
{
    struct oj_store *s;
    char err[1024];
    cr_assert_eq(open_store(&s, false, err), 0, "open failed: %s", err);
    return s;
}

static inline uint64_t put(struct oj_store *s, const char *kind, const char *id, int n)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "n", n);
    char err[512];
    uint64_t seq = oj_store_commit(s, oj_op_put(kind, id, v), err, sizeof err);
    cr_assert_neq(seq, 0, "%s", err);
    return seq;
}

static inline cJSON *dump(struct oj_store *s) { return oj_state_to_json(oj_store_state(s)); }

static inline off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static inline void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Flips one bit in the op of record `n` (1-based line). */
static inline void flip_in_line(int n)
{
    FILE *f = fopen(wal, "r+");
    cr_assert_not_null(f);
    char line[4096];
    long off = 0;
    for (int i = 1; i < n; i++) {
        cr_assert_not_null(fgets(line, sizeof line, f));
        off = ftell(f);
    }
    cr_assert_not_null(fgets(line, sizeof line, f));
    long at = off + (long)(strstr(line, "\"n\":") - line) + 4;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

/* Closes the store, but leaves the WAL as it was before the close: what a
 * daemon killed at this point leaves (the preallocated end included, which a
 * clean close cuts off). */
static inline void close_as_if_killed(struct oj_store *s)
{
    char keep[160], cmd[400];
    snprintf(keep, sizeof keep, "%s/wal.killed", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", wal, keep);
    cr_assert_eq(system(cmd), 0);
    oj_store_close(s, false);
    cr_assert_eq(rename(keep, wal), 0);
}

/* The whole file, NUL-terminated, its length in *len (which counts any NUL
 * bytes in it). */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Where the WAL's data ends (before its preallocated end). */
static inline off_t data_end(void)
{
    int fd = open(wal, O_RDONLY);
    cr_assert_geq(fd, 0);
    off_t end = oj_wal_data_end(fd, lseek(fd, 0, SEEK_END));
    close(fd);
    return end;
}

/* Writes n bytes at `at` in the WAL. */
static inline void write_wal_at(off_t at, const void *bytes, size_t n)
{
    int fd = open(wal, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, bytes, n, at), (ssize_t)n);
    close(fd);
}

static inline void write_snapshot_file(const char *name, const char *content)
{
    char path[256];
    mkdir(snaps, 0700);
    snprintf(path, sizeof path, "%s/%s", snaps, name);
    FILE *f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
}

#endif
