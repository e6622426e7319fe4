/* bench_memory.c — the "memory" figures of `make bench`: the daemon's RSS
 * should be a small multiple of its live records, not of the history it
 * read, and a compaction must give back what it used.
 *
 *   empty        a daemon with nothing recorded (what the code and libraries
 *                cost): the base every other figure is measured above;
 *   live         10,000 finished pipelines and their dead sessions, one put
 *                each in the WAL: RSS above empty per record pair, against
 *                the pair's bytes in the WAL (the floor: the records as
 *                text);
 *   history      the same live records at the end of a WAL that wrote each
 *                pipeline HISTORY times as it went (a long-lived daemon's
 *                WAL): RSS above empty against live's; also the peak (VmHWM)
 *                during start-up;
 *   compacted    that daemon after `oj maintenance compact` (twice: the first
 *                big free changes how malloc behaves);
 *   restored     after `oj maintenance restore-snapshot --latest` (the state
 *                it replaces is freed);
 *   restarted    after `oj daemon stop` and a start from the snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_util.h"
#include "clock.h"

#define RECORDS 10000
#define HISTORY 10

static bool mem_fail(const char *what, const char *detail)
{
    fprintf(stderr, "oj-bench: memory: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    return false;
}

/* VmHWM (peak RSS) of pid in MiB. */
static double peak_mib(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *text = read_file(path);
    const char *line = text ? strstr(text, "\nVmHWM:") : NULL;
    long kib = line ? strtol(line + 7, NULL, 10) : -1;
    free(text);
    return kib < 0 ? -1 : (double)kib / 1024;
}

/* Writes the fixture (history: versions of each pipeline before its last)
 * into e's WAL; its size in *bytes. */
static bool write_wal(const struct oj_env *e, int history, uint64_t *bytes)
{
    char root[PATH_MAX];
    if (realpath(e->dir, root) == NULL)
        return mem_fail("realpath", e->dir);
    struct walw w;
    bool ok = walw_open(&w, root);
    int64_t now = oj_wall_ms();
    for (int v = history; ok && v >= 1; v--) /* oldest first, every pipeline in turn */
        for (int i = 0; ok && i < RECORDS; i++) {
            char id[16];
            bench_pipeline_id(i, id);
            ok = walw_put(&w, "pipeline", id, bench_finished_pipeline(root, i, v, now));
        }
    for (int i = 0; ok && i < RECORDS; i++) {
        char id[16];
        bench_session_id(i, id);
        ok = walw_put(&w, "session", id, bench_dead_session(root, i, now));
        bench_pipeline_id(i, id);
        ok = ok && walw_put(&w, "pipeline", id, bench_finished_pipeline(root, i, 0, now));
    }
    *bytes = w.bytes;
    return walw_close(&w) && ok ? true : mem_fail("cannot write the WAL", root);
}

/* Starts e's daemon; its RSS (MiB) once up, and its peak. */
static bool start(const struct oj_env *e, double *rss, double *peak)
{
    if (bench_daemon_start(e, NULL) != 0)
        return mem_fail("oj daemon start failed", e->dir);
    pid_t pid = env_daemon_pid(e);
    bench_sleep_ms(300); /* its first tick */
    *rss = bench_rss_mib(pid);
    *peak = peak_mib(pid);
    return *rss > 0 || mem_fail("no daemon RSS", e->dir);
}

static bool run(struct oj_env *e, const char *a, const char *b)
{
    struct oj_out o = OJ(e, a, b);
    bool ok = o.code == 0;
    if (!ok)
        fprintf(stderr, "oj-bench: memory: oj %s %s: %s%s", a, b, o.out, o.err);
    oj_out_free(&o);
    return ok;
}

bool bench_memory_report(void)
{
    struct oj_env empty, live, hist;
    double r_empty = 0, r_live = 0, r_hist = 0, r_c1 = 0, r_c2 = 0, r_restore = 0,
           r_restart = 0, peak = 0,
           ignored;
    uint64_t live_bytes = 0, hist_bytes = 0;
    env_setup(&empty, false);
    env_setup(&live, false);
    env_setup(&hist, false);
    bool ok = start(&empty, &r_empty, &ignored) && write_wal(&live, 0, &live_bytes) &&
              start(&live, &r_live, &ignored) && write_wal(&hist, HISTORY, &hist_bytes) &&
              start(&hist, &r_hist, &peak);
    ok = ok && run(&hist, "maintenance", "compact");
    r_c1 = ok ? bench_rss_mib(env_daemon_pid(&hist)) : 0;
    ok = ok && run(&hist, "maintenance", "compact");
    r_c2 = ok ? bench_rss_mib(env_daemon_pid(&hist)) : 0;
    struct oj_out o = OJ(&hist, "maintenance", "restore-snapshot", "--latest", "--yes");
    if (o.code != 0)
        fprintf(stderr, "oj-bench: memory: oj maintenance restore-snapshot: %s%s", o.out, o.err);
    ok = ok && o.code == 0;
    oj_out_free(&o);
    r_restore = ok ? bench_rss_mib(env_daemon_pid(&hist)) : 0;
    ok = ok && run(&hist, "daemon", "stop") && start(&hist, &r_restart, &ignored);
    ok = env_teardown(&empty) && ok;
    ok = env_teardown(&live) && ok;
    ok = env_teardown(&hist) && ok;
    if (!ok)
        return false;

    double live_mib = r_live - r_empty;
    double per_pair = live_mib * 1048576 / RECORDS, wal_per_pair = (double)live_bytes / RECORDS;
    printf("\nCost as work grows: the daemon's memory (RSS) with %d finished pipelines and\n"
           "  their dead sessions, above an empty daemon's %.1f MiB\n", RECORDS, r_empty);
    printf("  one put each (WAL %5.1f MB)               %6.1f MiB: %.0f B per pipeline+session "
           "(%.0f B in the WAL)\n", (double)live_bytes / 1e6, live_mib, per_pair, wal_per_pair);
    printf("  history: %2d versions each (WAL %5.1f MB) %6.1f MiB (peak during start-up %.1f "
           "MiB)\n", HISTORY + 1, (double)hist_bytes / 1e6, r_hist - r_empty, peak);
    printf("  after oj maintenance compact             %6.1f MiB, after a second one %.1f MiB\n",
           r_c1 - r_empty, r_c2 - r_empty);
    printf("  after oj maintenance restore-snapshot     %6.1f MiB\n", r_restore - r_empty);
    printf("  restarted from the snapshot               %6.1f MiB\n", r_restart - r_empty);
    printf("ratio: rss-per-record/wal-bytes-per-record = %.2fx (goal <= 5)\n",
           per_pair / wal_per_pair);
    printf("ratio: rss with-history/live-records-only = %.2fx (goal <= 1.1)\n",
           (r_hist - r_empty) / live_mib);
    printf("ratio: rss after-compaction/live-records-only = %.2fx (goal <= 1.1; second: %.2fx)\n",
           (r_c1 - r_empty) / live_mib, (r_c2 - r_empty) / live_mib);
    printf("ratio: rss after-restore/live-records-only = %.2fx (goal <= 1.1)\n",
           (r_restore - r_empty) / live_mib);
    printf("ratio: rss restarted-from-snapshot/live-records-only = %.2fx (goal <= 1.1)\n",
           (r_restart - r_empty) / live_mib);
    return true;
}
