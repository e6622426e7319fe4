/* bench_finished.c — the "finished" figures of `make bench`: what a long
 * history of finished pipelines costs the commands people run all the time,
 * and what the `oj` client's own start-up costs.
 *
 * Two daemons: one with nothing, one with 10,000 finished pipelines and their
 * dead sessions (written straight into its WAL). Process wall times
 * (posix_spawn to waitpid, stdout to /dev/null; medians), alternating:
 *
 *   `oj status` on each: status must not grow with finished pipelines;
 *   `oneshot` (tests/bench/oneshot_main.c.in: one nng req/rep round trip as a
 *      program, nothing of oj in it) sending the same Status request to the
 *      empty daemon: the floor under `oj status`, so that the difference is
 *      the client's own start-up and work;
 *   `oj pipeline list` with the 10,000, against `oneshot` fetching a reply of
 *      the same size from a bare nng echo: moving the listing from one
 *      process to another, nothing else;
 *   `oj pipeline list --active` with the 10,000 (none active), alternating
 *      with the status runs.
 *
 * And in-process round trips (the daemon's side alone): Status on each
 * daemon, PipelineList with the 10,000. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bench.h"
#include "bench_util.h"
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"
#include "wire.pb-c.h"

#define FINISHED 10000
#define RUNS 100      /* per cheap command */
#define LIST_RUNS 30  /* per listing of 10,000 */
#define WARMUP 5
#define RPC_CALLS 2000 /* in-process Status calls per daemon */
#define LIST_CALLS 20

static bool fin_fail(const char *what, const char *detail)
{
    fprintf(stderr, "oj-bench: finished: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    return false;
}

struct daemon {
    struct oj_env e;
    char root[PATH_MAX];
    struct oj_paths p;
    bool up;
};

static bool daemon_up(struct daemon *d, int finished)
{
    env_setup(&d->e, false);
    d->up = true;
    if (realpath(d->e.dir, d->root) == NULL || oj_paths_init(&d->p, d->root) != 0)
        return fin_fail("project paths", strerror(errno));
    struct walw w;
    bool ok = walw_open(&w, d->root);
    int64_t now = oj_wall_ms();
    for (int i = 0; ok && i < finished; i++) {
        char id[16];
        bench_session_id(i, id);
        ok = walw_put(&w, "session", id, bench_dead_session(d->root, i, now));
        bench_pipeline_id(i, id);
        ok = ok && walw_put(&w, "pipeline", id, bench_finished_pipeline(d->root, i, 0, now));
    }
    if (!walw_close(&w) || !ok)
        return fin_fail("cannot write the WAL", d->root);
    return bench_daemon_start(&d->e, NULL) == 0 || fin_fail("oj daemon start failed", d->root);
}

static bool daemon_down(struct daemon *d)
{
    bool clean = !d->up || env_teardown(&d->e);
    d->up = false;
    return clean;
}

/* ---- in-process round trips ------------------------------------------------------- */

/* One Status round trip, in microseconds (-1: failed). */
static double status_rpc_us(struct oj_client *c)
{
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    int64_t t0 = oj_mono_ns();
    int st = OJ_RPC(c, oj__control__status, &req, &resp);
    double us = (double)(oj_mono_ns() - t0) / 1e3;
    oj_client_free_reply(resp);
    return st == OJ__STATUS_CODE__OK ? us : -1;
}

/* Median Status round trips on two daemons, one call on each in turn, so
 * that load coming and going on the machine hits both alike. */
static bool status_rpcs(const char *sock_a, const char *sock_b, int n, double *a, double *b)
{
    struct oj_client *ca = NULL, *cb = NULL;
    bool ok = oj_client_open(&ca, sock_a, 30000) == 0 && oj_client_open(&cb, sock_b, 30000) == 0;
    double *va = calloc((size_t)n, sizeof *va), *vb = calloc((size_t)n, sizeof *vb);
    ok = ok && va && vb;
    for (int i = -50; ok && i < n; i++) { /* the first 50: warm-up */
        double ua, ub; /* each goes first in turn */
        if (i % 2) {
            ua = status_rpc_us(ca);
            ub = status_rpc_us(cb);
        } else {
            ub = status_rpc_us(cb);
            ua = status_rpc_us(ca);
        }
        ok = ua > 0 && ub > 0;
        if (ok && i >= 0) {
            va[i] = ua;
            vb[i] = ub;
        }
    }
    if (ca)
        oj_client_close(ca);
    if (cb)
        oj_client_close(cb);
    *a = ok ? bench_median(va, n) : -1;
    *b = ok ? bench_median(vb, n) : -1;
    free(va);
    free(vb);
    return ok;
}

/* Mean PipelineList round trip (ms) and the reply's packed size. */
static double list_rpc_ms(const char *sock, int n, size_t *bytes, size_t *count)
{
    struct oj_client *c;
    if (oj_client_open(&c, sock, 60000) != 0)
        return -1;
    double sum = 0;
    for (int i = 0; i < n + 1; i++) {
        Oj__PipelineListRequest req = OJ__PIPELINE_LIST_REQUEST__INIT;
        Oj__PipelineListResponse *resp;
        int64_t t0 = oj_mono_ns();
        int st = OJ_RPC(c, oj__control__pipeline_list, &req, &resp);
        if (i >= 1)
            sum += (double)(oj_mono_ns() - t0) / 1e6;
        if (st == OJ__STATUS_CODE__OK) {
            *bytes = oj__pipeline_list_response__get_packed_size(resp);
            *count = resp->n_pipelines;
        }
        oj_client_free_reply(resp);
        if (st != OJ__STATUS_CODE__OK) {
            oj_client_close(c);
            return -1;
        }
    }
    oj_client_close(c);
    return sum / n;
}

/* ---- the oneshot's request and the bare echo ---------------------------------------- */

/* A Status RequestFrame with a fresh request id (the daemon answers a repeated
 * id from its reply cache), as hex. */
static void status_frame_hex(char *hex, size_t len)
{
    static uint64_t n;
    uint64_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        id = (uint64_t)getpid() << 20;
    id = (id & ~(1ULL << 63)) + ++n;
    Oj__RequestFrame rq = OJ__REQUEST_FRAME__INIT;
    rq.method = "Status";
    rq.request_id = id;
    rq.payload.len = 0;
    rq.payload.data = (uint8_t *)"";
    uint8_t buf[128];
    size_t n_bytes = oj__request_frame__pack(&rq, buf);
    for (size_t i = 0; i < n_bytes && 2 * i + 2 < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", buf[i]);
}

struct echo {
    nng_socket s;
    size_t reply_bytes;
    pthread_t th;
};

static void *echo_main(void *arg)
{
    struct echo *e = arg;
    for (;;) {
        nng_msg *m;
        if (nng_recvmsg(e->s, &m, 0) != 0)
            return NULL; /* closed: done */
        if (nng_msg_realloc(m, e->reply_bytes) != 0 || nng_sendmsg(e->s, m, 0) != 0)
            nng_msg_free(m);
    }
}

static bool echo_start(struct echo *e, const char *path, size_t reply_bytes)
{
    char url[PATH_MAX + 64];
    snprintf(url, sizeof url, "ipc://%s", path);
    e->reply_bytes = reply_bytes;
    return nng_rep0_open(&e->s) == 0 && nng_listen(e->s, url, NULL, 0) == 0 &&
           pthread_create(&e->th, NULL, echo_main, e) == 0;
}

static void echo_stop(struct echo *e)
{
    nng_close(e->s);
    pthread_join(e->th, NULL);
}

/* ---- report -------------------------------------------------------------------------------- */

/* The cheap ones alternate with each other, the listings with each other: a
 * cheap call right after a listing of 10,000 would wait for the daemon to
 * free what that one built. */
enum { OJ_STATUS_EMPTY, OJ_STATUS_10K, ONESHOT_STATUS, OJ_LIST_ACTIVE_10K, N_CHEAP };
enum { OJ_LIST_10K, ONESHOT_LIST, N_LIST };

bool bench_finished_report(void)
{
    const char *oneshot_arg = getenv("OJ_BENCH_ONESHOT");
    char oneshot[PATH_MAX];
    if (oneshot_arg == NULL || realpath(oneshot_arg, oneshot) == NULL)
        return fin_fail("OJ_BENCH_ONESHOT must name the oneshot program (make bench builds it)",
                        oneshot_arg);
    static struct daemon empty, full;
    static double cheap[N_CHEAP][RUNS], list[N_LIST][LIST_RUNS];
    struct echo echo = {0};
    bool echo_up = false;
    double rpc_empty = -1, rpc_full = -1, rpc_list = -1;
    size_t list_bytes = 0, list_count = 0;
    bool ok = daemon_up(&empty, 0) && daemon_up(&full, FINISHED);
    if (ok) {
        rpc_list = list_rpc_ms(full.p.sock_path, LIST_CALLS, &list_bytes, &list_count);
        ok = rpc_list > 0 && list_count == FINISHED &&
             status_rpcs(empty.p.sock_path, full.p.sock_path, RPC_CALLS, &rpc_empty, &rpc_full);
        if (!ok)
            fin_fail("the in-process calls failed", NULL);
    }
    char echo_sock[PATH_MAX + 32];
    snprintf(echo_sock, sizeof echo_sock, "%s/echo.sock", empty.root);
    /* the reply frame around the listing: status, request id, payload's tag and length */
    ok = ok && ((echo_up = echo_start(&echo, echo_sock, list_bytes + 16)) ||
                fin_fail("the bare echo", echo_sock));
    char hex[300];
    char *st_argv[] = {empty.e.oj, "status", NULL};
    char *list_argv[] = {full.e.oj, "pipeline", "list", NULL};
    char *active_argv[] = {full.e.oj, "pipeline", "list", "--active", NULL};
    char *one_status[] = {oneshot, empty.p.sock_path, hex, NULL};
    char *one_list[] = {oneshot, echo_sock, "00", NULL};
    for (int i = -WARMUP; ok && i < RUNS; i++) {
        status_frame_hex(hex, sizeof hex);
        char **argv[N_CHEAP] = {st_argv, st_argv, one_status, active_argv};
        const char *cwd[N_CHEAP] = {empty.root, full.root, empty.root, full.root};
        double v[N_CHEAP];
        for (int n = 0; n < N_CHEAP; n++) { /* each goes first in turn */
            int k = (n + i + WARMUP) % N_CHEAP;
            v[k] = bench_spawn_ms(argv[k], cwd[k]);
        }
        for (int k = 0; k < N_CHEAP; k++) {
            ok = ok && v[k] > 0;
            if (i >= 0)
                cheap[k][i] = v[k];
        }
        if (!ok)
            fin_fail("a status run failed", NULL);
    }
    for (int i = -1; ok && i < LIST_RUNS; i++) {
        double v[N_LIST] = {bench_spawn_ms(list_argv, full.root),
                            bench_spawn_ms(one_list, empty.root)};
        for (int k = 0; k < N_LIST; k++) {
            ok = ok && v[k] > 0;
            if (i >= 0)
                list[k][i] = v[k];
        }
        if (!ok)
            fin_fail("a listing run failed", NULL);
    }
    if (echo_up)
        echo_stop(&echo);
    ok = daemon_down(&empty) && ok;
    ok = daemon_down(&full) && ok;
    if (!ok)
        return false;

    double st_empty = bench_median(cheap[OJ_STATUS_EMPTY], RUNS),
           st_full = bench_median(cheap[OJ_STATUS_10K], RUNS),
           one_st = bench_median(cheap[ONESHOT_STATUS], RUNS),
           ls = bench_median(list[OJ_LIST_10K], LIST_RUNS),
           one_ls = bench_median(list[ONESHOT_LIST], LIST_RUNS),
           ls_active = bench_median(cheap[OJ_LIST_ACTIVE_10K], RUNS);
    printf("\nCost as work grows: 10,000 finished pipelines (and their dead sessions)\n");
    printf("  process wall time, median of %d runs (listings: %d), alternating:\n", RUNS,
           LIST_RUNS);
    printf("  oj status, nothing recorded            %7.2f ms\n", st_empty);
    printf("  oj status, 10,000 finished             %7.2f ms\n", st_full);
    printf("  oneshot Status (bare nng client)       %7.2f ms\n", one_st);
    printf("  oj pipeline list, 10,000 finished      %7.2f ms\n", ls);
    printf("  oneshot fetching as many bytes (%4zu KB) %6.2f ms\n", (list_bytes + 1023) / 1024,
           one_ls);
    printf("  oj pipeline list --active, 10,000 finished %5.2f ms\n", ls_active);
    printf("  in process: Status median %.0f us (nothing) / %.0f us (10,000 finished); "
           "PipelineList mean %.2f ms\n", rpc_empty, rpc_full, rpc_list);
    printf("ratio: oj-status 10k-finished/nothing = %.2fx (goal <= 1.1)\n", st_full / st_empty);
    printf("ratio: status-rpc 10k-finished/nothing = %.2fx (goal <= 1.1)\n", rpc_full / rpc_empty);
    printf("ratio: oj-pipeline-list-active-10k-finished/oj-status = %.2fx (goal <= 1.2)\n",
           ls_active / st_full);
    printf("ratio: oj-pipeline-list-10k/oneshot-same-bytes = %.2fx (the floor: moving them)\n",
           ls / one_ls);
    printf("slope: oj-pipeline-list per pipeline above that floor = %.2f us (goal <= 5)\n",
           (ls - one_ls) * 1000 / FINISHED);
    printf("ratio: oj-status/oneshot-status = %.2fx (the client's own start-up; goal <= 1.2)\n",
           st_empty / one_st);
    return true;
}
