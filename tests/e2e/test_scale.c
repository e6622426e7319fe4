/* Cost as work grows, through the real daemon: a long history of finished
 * pipelines must not slow down what people run all the time (oj status, the
 * active list), and the daemon's memory follows its live records: what a
 * compaction or a start from a snapshot used is given back. The records are
 * written straight into the WAL with the daemon's own codecs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/harness.h"
#include "clock.h"
#include "paths.h"
#include "pipeline.h"
#include "rpc_client.h"
#include "sessions.h"
#include "state.h"
#include "wal.h"

#define FINISHED 5000

static struct oj_env a, b;

static void setup(void)
{
    env_setup(&a, false);
    env_setup(&b, false);
}

static void teardown(void)
{
    cr_expect(env_teardown(&a), "sanitizer report in the daemon log");
    cr_expect(env_teardown(&b), "sanitizer report in the daemon log");
}

static FILE *wal_open(const struct oj_env *e)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj", e->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", e->dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    return f;
}

static void wal_put(FILE *f, uint64_t seq, const char *kind, const char *id, cJSON *value)
{
    cr_assert_not_null(value);
    cJSON *op = oj_op_put(kind, id, value);
    size_t len;
    char *line = oj_wal_format(seq, oj_wall_ms(), op, &len);
    cr_assert_eq(fwrite(line, 1, len, f), len);
    free(line);
    cJSON_Delete(op);
}

/* n finished pipelines with their dead agent sessions, as real ones end. */
static uint64_t put_finished(FILE *f, uint64_t seq, int n)
{
    int64_t now = oj_wall_ms();
    for (int i = 0; i < n; i++) {
        char pid[16], sid[16], text[200];
        snprintf(pid, sizeof pid, "p%06x", i);
        snprintf(sid, sizeof sid, "s%06x", i);
        struct oj_session s;
        cr_assert_eq(oj_session_init(&s, "agent", "/tmp", "oj-fake-agent", "/tmp/x.log", pid,
                                     "work", 600000, now - 60000),
                     0);
        oj_session_mark_dead(&s, 0, "exited with status 0", now - 1000);
        wal_put(f, ++seq, "session", sid, oj_session_to_json(&s));
        oj_session_clear(&s);
        struct oj_pipeline p;
        oj_pipeline_init(&p);
        oj_pipeline_set(&p.name, "build");
        snprintf(text, sizeof text, "feature %d: write it, test it, document it", i);
        oj_pipeline_add_input(&p, "task", text);
        oj_pipeline_set(&p.workspace, "/tmp/nowhere");
        p.created_at_ms = now - 60000 + i;
        p.state = OJ_PIPELINE_RUNNING;
        oj_pipeline_enter(&p, "work", now - 50000);
        oj_pipeline_agent_started(&p, sid, now - 50000);
        oj_pipeline_add_checkpoint(&p, now - 2000, "work", "committed work/feature.md");
        oj_pipeline_finish(&p, OJ_PIPELINE_DONE, NULL, now - 1000);
        wal_put(f, ++seq, "pipeline", pid, oj_pipeline_to_json(&p));
        oj_pipeline_free(&p);
    }
    return seq;
}

/* One active pipeline, pausing for an hour between two passes of a loop. */
static uint64_t put_active(FILE *f, uint64_t seq)
{
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    oj_pipeline_set(&p.name, "loop");
    oj_pipeline_set(&p.workspace, "/tmp/nowhere");
    p.created_at_ms = oj_wall_ms();
    p.state = OJ_PIPELINE_RUNNING;
    oj_pipeline_enter(&p, "again", oj_wall_ms());
    p.step = OJ_STEP_PAUSE;
    p.pause_until_ms = oj_wall_ms() + 3600000;
    wal_put(f, ++seq, "pipeline", "pa0a0a0", oj_pipeline_to_json(&p));
    oj_pipeline_free(&p);
    return seq;
}

static void start(const struct oj_env *e)
{
    struct oj_out o = OJ(e, "daemon", "start");
    cr_assert_eq(o.code, 0, "oj daemon start: %s", o.err);
    oj_out_free(&o);
}

static struct oj_client *client(const struct oj_env *e)
{
    char root[PATH_MAX];
    struct oj_paths p;
    cr_assert_not_null(realpath(e->dir, root));
    cr_assert_eq(oj_paths_init(&p, root), 0);
    struct oj_client *c;
    cr_assert_eq(oj_client_open(&c, p.sock_path, 30000), 0);
    return c;
}

/* One Status round trip in microseconds; the active count in *active. */
static double status_us(struct oj_client *c, unsigned *active)
{
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    int64_t t0 = oj_mono_ns();
    int st = OJ_RPC(c, oj__control__status, &req, &resp);
    double us = (double)(oj_mono_ns() - t0) / 1e3;
    cr_assert_eq(st, OJ__STATUS_CODE__OK, "%s", oj_client_message(c));
    *active = resp->active_pipelines;
    oj_client_free_reply(resp);
    return us;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

Test(scale, status_and_the_active_list_do_not_grow_with_finished_pipelines, .init = setup,
     .fini = teardown, .timeout = 120)
{
    FILE *fa = wal_open(&a), *fb = wal_open(&b);
    put_active(fa, put_finished(fa, 0, FINISHED));
    put_active(fb, 0);
    fclose(fa);
    fclose(fb);
    start(&a);
    start(&b);

    /* What they show is the same: one active pipeline. */
    struct oj_out o = OJ(&a, "pipeline", "list", "--active");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "pa0a0a0") && !strstr(o.out, "p000000"), "%s", o.out);
    oj_out_free(&o);
    o = OJ(&a, "pipeline", "list");
    cr_expect(strstr(o.out, "p001387") && strstr(o.out, "pa0a0a0"), "every one is listed");
    oj_out_free(&o);

    /* And it costs the same: Status on both daemons in turn, compared by
     * medians (a burst of load on the machine moves a few calls, not them). */
    struct oj_client *ca = client(&a), *cb = client(&b);
    enum { CALLS = 200 };
    double us_a[CALLS], us_b[CALLS];
    unsigned active;
    for (int i = -20; i < CALLS; i++) { /* the first 20: warm-up */
        double ua = status_us(ca, &active);
        cr_assert_eq(active, 1, "a counts one active pipeline");
        double ub = status_us(cb, &active);
        cr_assert_eq(active, 1, "b counts one active pipeline");
        if (i >= 0) {
            us_a[i] = ua;
            us_b[i] = ub;
        }
    }
    oj_client_close(ca);
    oj_client_close(cb);
    qsort(us_a, CALLS, sizeof *us_a, by_value);
    qsort(us_b, CALLS, sizeof *us_b, by_value);
    double med_a = us_a[CALLS / 2], med_b = us_b[CALLS / 2];
    /* Before the index of active pipelines, Status decoded every record three
     * times: with 5,000 finished, about 140 times slower. */
    cr_expect_leq(med_a / med_b, 3.0,
                  "Status with %d finished pipelines: %.0f us; with none: %.0f us", FINISHED,
                  med_a, med_b);
}

static double rss_mib(const struct oj_env *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)env_daemon_pid(e));
    char *text = read_file(path);
    const char *line = text ? strstr(text, "\nVmRSS:") : NULL;
    cr_assert_not_null(line, "no daemon RSS");
    double mib = (double)strtol(line + 7, NULL, 10) / 1024;
    free(text);
    return mib;
}

Test(scale, compaction_and_a_start_from_a_snapshot_give_memory_back, .init = setup,
     .fini = teardown, .timeout = 120)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("AddressSanitizer's allocator keeps freed memory on purpose (quarantine)");
#endif
    FILE *f = wal_open(&a);
    put_finished(f, 0, FINISHED);
    fclose(f);
    start(&a);
    double live = rss_mib(&a);
    struct oj_out o = OJ(&a, "maintenance", "compact");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    /* Before: the snapshot copied the whole state and malloc kept the copy's
     * pages; RSS nearly doubled and stayed. */
    cr_expect_leq(rss_mib(&a), live * 1.3, "after compaction %.1f MiB, live records %.1f MiB",
                  rss_mib(&a), live);
    o = OJ(&a, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    start(&a); /* from the snapshot: parsed, copied into the state, the parse freed */
    cr_expect_leq(rss_mib(&a), live * 1.3, "restarted %.1f MiB, live records %.1f MiB",
                  rss_mib(&a), live);
}

struct rss_below {
    struct oj_env *env;
    double mib;
};

static bool rss_is_below(void *arg)
{
    struct rss_below *b = arg;
    return rss_mib(b->env) <= b->mib;
}

Test(scale, a_restore_gives_the_replaced_state_back, .init = setup, .fini = teardown,
     .timeout = 120)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("AddressSanitizer's allocator keeps freed memory on purpose (quarantine)");
#endif
    FILE *f = wal_open(&a);
    put_finished(f, 0, FINISHED);
    fclose(f);
    start(&a);
    double live = rss_mib(&a);
    struct oj_out o = OJ(&a, "maintenance", "compact");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&a, "maintenance", "restore-snapshot", "--latest", "--yes");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    /* For a while both states are in memory; soon after the swap only one is
     * (the replaced one is freed on a thread of its own, off the engine). */
    struct rss_below b = {.env = &a, .mib = live * 1.3};
    cr_expect(wait_until(rss_is_below, &b, 10000),
              "after a restore %.1f MiB, live records %.1f MiB", rss_mib(&a), live);
}
