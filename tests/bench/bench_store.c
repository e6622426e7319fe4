/* bench_store.c — the durable-state figures of `make bench`.
 *
 *   a) durable changes per second (LockAcquire of a new name: one WAL record,
 *      acknowledged after fdatasync) with 1 and with 8 concurrent clients,
 *      against the raw rate of write+fdatasync on the same disk, measured in
 *      the same run. With one client each change waits for its own sync, so
 *      the ratio shows oj's overhead per change; with 8, group commit lets
 *      one sync cover several changes, so the ratio can pass 1.
 *      Also in the same run: the raw rate of pwrite+fdatasync over a file
 *      filled ahead of time (the daemon's WAL is, see docs/storage.md), and
 *      the floors (bench_floor.c): one bare nng round trip plus one such
 *      sync (the least one client can pay per change), and a bare nng server
 *      doing only the group commit, through the same two thread hand-offs
 *      as the daemon, with 1 and with 8 clients.
 *   b) start-up time (`oj daemon start` until it answers) with a WAL of
 *      100,000 and of 1,000,000 records, against only parsing the same file
 *      line by line with cJSON: the cost of CRC checks, replay and the rest. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "bench.h"
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"
#include "state.h"
#include "wal.h"

#define CHANGES_1 1500   /* changes for the single client */
#define CHANGES_8 400    /* changes per client with 8 clients */
#define RAW_SYNCS 1500
#define ECHO_N 3000      /* bare round trips for the one-client floor */

struct client_job {
    const char *sock;
    int id, n;
    int failures;
};

static void *client_main(void *arg)
{
    struct client_job *j = arg;
    struct oj_client *c;
    if (oj_client_open(&c, j->sock, 30000) != 0) {
        j->failures = j->n;
        return NULL;
    }
    for (int k = 0; k < j->n; k++) {
        char name[48];
        snprintf(name, sizeof name, "bench-%d-%d", j->id, k);
        Oj__LockAcquireRequest req = OJ__LOCK_ACQUIRE_REQUEST__INIT;
        req.name = name;
        req.holder = "bench";
        Oj__LockInfo *resp;
        if (OJ_RPC(c, oj__control__lock_acquire, &req, &resp) != OJ__STATUS_CODE__OK)
            j->failures++;
        oj_client_free_reply(resp);
    }
    oj_client_close(c);
    return NULL;
}

/* Changes per second with `clients` clients doing `each` changes. */
static double durable_rate(const char *sock, int clients, int each, int round)
{
    pthread_t t[8];
    struct client_job jobs[8];
    int64_t t0 = oj_mono_ns();
    for (int i = 0; i < clients; i++) {
        jobs[i] = (struct client_job){.sock = sock, .id = round * 100 + i, .n = each};
        pthread_create(&t[i], NULL, client_main, &jobs[i]);
    }
    int failures = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        failures += jobs[i].failures;
    }
    double secs = (double)(oj_mono_ns() - t0) / 1e9;
    if (failures)
        fprintf(stderr, "oj-bench: %d changes failed\n", failures);
    return failures ? -1 : clients * each / secs;
}

/* write(200 bytes) + fdatasync per iteration, like one WAL record. */
static double raw_sync_rate(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/raw-sync.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char rec[200];
    memset(rec, 'x', sizeof rec);
    rec[sizeof rec - 1] = '\n';
    int64_t t0 = oj_mono_ns();
    for (int i = 0; i < RAW_SYNCS; i++)
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0)
            return -1;
    double secs = (double)(oj_mono_ns() - t0) / 1e9;
    close(fd);
    unlink(path);
    return RAW_SYNCS / secs;
}

/* pwrite(200 bytes) + fdatasync per iteration over a file filled ahead of
 * time and synced: no block to allocate, no file size to commit. */
static double raw_overwrite_rate(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/raw-over.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t size = (size_t)RAW_SYNCS * 200 + 4096;
    char *fill = malloc(size);
    bool ok = fill != NULL;
    if (ok) {
        memset(fill, 0xff, size);
        ok = write(fd, fill, size) == (ssize_t)size && fsync(fd) == 0;
    }
    free(fill);
    char rec[200];
    memset(rec, 'x', sizeof rec);
    rec[sizeof rec - 1] = '\n';
    int64_t t0 = oj_mono_ns();
    for (int i = 0; ok && i < RAW_SYNCS; i++)
        ok = pwrite(fd, rec, sizeof rec, (off_t)i * 200) == (ssize_t)sizeof rec &&
             fdatasync(fd) == 0;
    double secs = (double)(oj_mono_ns() - t0) / 1e9;
    close(fd);
    unlink(path);
    return ok ? RAW_SYNCS / secs : -1;
}

static int cmp_us(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50 of a bare nng round trip (bench_floor.c), in microseconds. */
static double echo_p50_us(const char *dir)
{
    static double us[ECHO_N];
    if (bench_floor_run(dir, FLOOR_ECHO, 1, ECHO_N, us) < 0)
        return -1;
    qsort(us, ECHO_N, sizeof *us, cmp_us);
    return us[ECHO_N / 2];
}

/* Writes a WAL of n records: lock puts over 10,000 names, so later records
 * replace earlier ones as a long-lived daemon's would. */
static bool make_wal(const char *dir, int n, off_t *bytes)
{
    char path[256];
    snprintf(path, sizeof path, "%s/.oj", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    int64_t now = oj_wall_ms();
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "lock-%d", i % 10000);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "holder", "bench@host:4242");
        cJSON_AddStringToObject(v, "host", "host");
        cJSON_AddNumberToObject(v, "holder_pid", 4242);
        cJSON_AddNumberToObject(v, "since_ms", (double)(now + i));
        cJSON_AddNumberToObject(v, "timeout_ms", 0);
        cJSON *op = oj_op_put("lock", id, v);
        size_t len;
        char *line = oj_wal_format((uint64_t)i + 1, now + i, op, &len);
        fwrite(line, 1, len, f);
        free(line);
        cJSON_Delete(op);
    }
    fclose(f);
    struct stat st;
    stat(path, &st);
    *bytes = st.st_size;
    return true;
}

/* Seconds to read the file and cJSON_Parse every line, nothing else. */
static double parse_only(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", dir);
    int64_t t0 = oj_mono_ns();
    char *text = read_file(path);
    if (text == NULL)
        return -1;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        cJSON_Delete(cJSON_ParseWithLength(p, len));
        p += len + (nl ? 1 : 0);
    }
    free(text);
    return (double)(oj_mono_ns() - t0) / 1e9;
}

struct startup {
    int records;
    double start_secs, parse_secs;
    off_t bytes;
};

static bool measure_startup(int records, struct startup *r)
{
    struct oj_env e;
    env_setup(&e, false);
    r->records = records;
    bool ok = make_wal(e.dir, records, &r->bytes);
    r->parse_secs = ok ? parse_only(e.dir) : -1;
    /* Same file again, so both read it from the page cache. */
    struct oj_out o = OJ(&e, "daemon", "start");
    ok = ok && o.code == 0;
    if (!ok)
        fprintf(stderr, "oj-bench: start with %d records failed: %s\n", records, o.err);
    r->start_secs = o.secs;
    oj_out_free(&o);
    env_teardown(&e);
    return ok;
}

bool bench_store_report(void)
{
    struct oj_env e;
    env_setup(&e, false);
    struct oj_out o = OJ(&e, "daemon", "start");
    if (o.code != 0) {
        fprintf(stderr, "oj-bench: %s", o.err);
        oj_out_free(&o);
        env_teardown(&e);
        return false;
    }
    oj_out_free(&o);
    char root[PATH_MAX];
    struct oj_paths p;
    if (realpath(e.dir, root) == NULL || oj_paths_init(&p, root) != 0) {
        env_teardown(&e);
        return false;
    }
    /* oj and its floors alternate with the raw rates, so drift hits all alike. */
    double raw = raw_sync_rate(root), over = raw_overwrite_rate(root);
    double echo_us = echo_p50_us(root);
    double floor1 = bench_floor_run(root, FLOOR_COMMIT, 1, CHANGES_1, NULL);
    double one = durable_rate(p.sock_path, 1, CHANGES_1, 0);
    /* The raw rate swings by several times within seconds when other work
     * commits the file system's journal: measured between the two as well. */
    double raw_mid = raw_sync_rate(root);
    double floor8 = bench_floor_run(root, FLOOR_COMMIT, 8, CHANGES_8, NULL);
    double eight = durable_rate(p.sock_path, 8, CHANGES_8, 1);
    double raw2 = raw_sync_rate(root), over2 = raw_overwrite_rate(root); /* drift */
    env_teardown(&e);
    if (raw < 0 || raw_mid < 0 || one < 0 || eight < 0 || raw2 < 0 || over < 0 || over2 < 0 ||
        echo_us < 0 || floor1 < 0 || floor8 < 0)
        return false;
    double raw_avg = (raw + raw_mid + raw2) / 3, over_avg = (over + over2) / 2;
    /* The floor for one client: a bare round trip plus one sync. */
    double floor_rt = 1e6 / (echo_us + 1e6 / over_avg);

    struct startup s100k, s1m;
    if (!measure_startup(100000, &s100k) || !measure_startup(1000000, &s1m))
        return false;

    printf("\nDurable changes (LockAcquire of a new name, acknowledged after fdatasync)\n");
    printf("  raw write(200 B)+fdatasync on the same disk   %9.0f /s  (%.0f before, %.0f between,"
           " %.0f after)\n",
           raw_avg, raw, raw_mid, raw2);
    printf("  raw pwrite(200 B)+fdatasync, prefilled file   %9.0f /s  (%.0f before, %.0f after)\n",
           over_avg, over, over2);
    printf("  1 client,  %5d changes                       %9.0f /s\n", CHANGES_1, one);
    printf("  8 clients, %5d changes                       %9.0f /s\n", 8 * CHANGES_8, eight);
    printf("  floor, 1 client: bare nng round trip p50 %.0f us + one prefilled sync %.0f us"
           " = %.0f /s\n",
           echo_us, 1e6 / over_avg, floor_rt);
    printf("  floor, bare nng group commit (commit + sync thread), 1 client  %9.0f /s\n", floor1);
    printf("  floor, bare nng group commit (commit + sync thread), 8 clients %9.0f /s\n", floor8);
    printf("\nStart-up with a WAL of N records (oj daemon start until it answers)\n");
    const struct startup *rows[] = {&s100k, &s1m};
    for (int i = 0; i < 2; i++)
        printf("  %8d records, %6.1f MB: start %7.2f s, cJSON parse only %7.2f s\n",
               rows[i]->records, (double)rows[i]->bytes / 1e6, rows[i]->start_secs,
               rows[i]->parse_secs);
    printf("\n");
    printf("ratio: durable-changes-1-client/raw-fdatasync = %.2fx\n", one / raw_avg);
    printf("ratio: durable-changes-8-clients/raw-fdatasync = %.2fx\n", eight / raw_avg);
    printf("ratio: raw-prefilled-sync/raw-fdatasync = %.2fx\n", over_avg / raw_avg);
    printf("ratio: floor-1-client-round-trip+sync/raw-fdatasync = %.2fx\n", floor_rt / raw_avg);
    printf("ratio: floor-1-client-group-commit/raw-fdatasync = %.2fx\n", floor1 / raw_avg);
    printf("ratio: floor-8-clients-group-commit/raw-fdatasync = %.2fx\n", floor8 / raw_avg);
    printf("ratio: durable-changes-1-client/floor-group-commit = %.2fx\n", one / floor1);
    printf("ratio: durable-changes-8-clients/floor-group-commit = %.2fx\n", eight / floor8);
    printf("ratio: startup-100k/cjson-parse = %.2fx\n", s100k.start_secs / s100k.parse_secs);
    printf("ratio: startup-1M/cjson-parse = %.2fx\n", s1m.start_secs / s1m.parse_secs);
    return true;
}
