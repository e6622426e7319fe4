/* bench_main.c — oj-bench: the benchmark report behind `make bench`.
 *
 * Two figures here (and the durable-state ones in bench_store.c), each as a
 * ratio against the cheapest thing that does the same job, so the report says what oj's own layers cost rather than how fast this
 * machine is:
 *
 *   a) one Status call through the generated stubs (RequestFrame/ReplyFrame
 *      packing, request-id de-duplication, the daemon's server and handler)
 *      against a bare nng req/rep echo moving messages of the same sizes over
 *      the same transport (ipc://) in the same process;
 *   b) the wall time of running `oj status` against a live daemon against
 *      running an empty C program (process creation, exec and exit alone);
 *   c) a) again (p50 and p99) with the daemon at work: 10 live sessions and a
 *      pipeline whose agent runs, over enough round trips that several of
 *      the daemon's once-a-second ticks fall among them.
 *
 * Usage: OJ_BIN=bin/oj oj-bench [EMPTY_PROGRAM]   (else $OJ_BENCH_EMPTY)
 * OJ_BENCH_ONLY=<section,...> runs only those sections of rpc (the two figures
 * above), store, sessions, pipelines, tick, finished, memory, crc, nowait, dashboard
 * (bench.h);
 * EMPTY_PROGRAM is needed only for rpc.
 * A real daemon runs in a scratch directory for the duration. */
#include <errno.h>
#include <fcntl.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "bench.h"
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"

#define RPC_N 5000     /* timed round trips per variant */
#define RPC_WARMUP 500 /* untimed round trips first */
#define RPC_BLOCK 50   /* stub and bare alternate in blocks this long: short, so that
                          * the load of other work on the machine hits both alike */
#define SPAWN_N 200    /* timed process runs per variant */
_Static_assert(RPC_N % RPC_BLOCK == 0, "RPC_N must be whole blocks");
#define SPAWN_WARMUP 10
#define LOADED_N 20000       /* c): timed round trips per variant (about 3 s each) */
#define LOADED_SESSIONS 10
#define LOADED_SETTLE_MS 2000 /* after the agent is up: let start-up work pass */

extern char **environ;

static struct oj_env *live_env; /* torn down on failure, so no daemon is left behind */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "oj-bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    if (live_env)
        env_teardown(live_env);
    exit(1);
}

struct stats {
    double mean, p50, p99; /* in the unit the samples were given in */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct stats summarize(double *v, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (struct stats){sum / n, v[n / 2], v[(int)((long)n * 99 / 100)]};
}

/* ---- a) Status through the stubs --------------------------------------- */

static size_t req_frame_bytes, reply_frame_bytes;

/* Sizes of the frames a Status call puts on the wire, packed the way
 * common/rpc_client.c packs them (request id: a random 63-bit value, so a
 * full-width varint). */
static void measure_frames(const Oj__StatusRequest *req, const Oj__StatusResponse *resp)
{
    const uint64_t id = (1ULL << 62) | 12345;
    Oj__RequestFrame rq = OJ__REQUEST_FRAME__INIT;
    rq.method = "Status";
    rq.request_id = id;
    rq.payload.len = oj__status_request__get_packed_size(req);
    rq.payload.data = (uint8_t *)"";
    req_frame_bytes = oj__request_frame__get_packed_size(&rq);
    Oj__ReplyFrame rp = OJ__REPLY_FRAME__INIT;
    rp.status = OJ__STATUS_CODE__OK;
    rp.request_id = id;
    rp.payload.len = oj__status_response__get_packed_size(resp);
    rp.payload.data = (uint8_t *)"";
    reply_frame_bytes = oj__reply_frame__get_packed_size(&rp);
}

/* One timed Status call through the stubs, in microseconds. */
static double stub_call(struct oj_client *c)
{
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    int64_t t0 = oj_mono_ns();
    int st = OJ_RPC(c, oj__control__status, &req, &resp);
    int64_t t1 = oj_mono_ns();
    if (st != OJ__STATUS_CODE__OK)
        fail("Status failed", oj_client_message(c));
    if (req_frame_bytes == 0)
        measure_frames(&req, resp);
    oj_client_free_reply(resp);
    return (double)(t1 - t0) / 1e3;
}

/* ---- a) the bare nng baseline ------------------------------------------ */

static void *echo_server(void *arg)
{
    nng_socket s = *(nng_socket *)arg;
    for (;;) {
        nng_msg *m;
        if (nng_recvmsg(s, &m, 0) != 0)
            return NULL; /* socket closed: done */
        if (nng_msg_realloc(m, reply_frame_bytes) != 0 || nng_sendmsg(s, m, 0) != 0)
            nng_msg_free(m);
    }
}

/* One timed bare round trip (allocate, send, receive, free), in microseconds. */
static double bare_call(nng_socket req)
{
    int rv;
    int64_t t0 = oj_mono_ns();
    nng_msg *m;
    if ((rv = nng_msg_alloc(&m, req_frame_bytes)) != 0)
        fail("nng_msg_alloc", nng_strerror(rv));
    memset(nng_msg_body(m), 0x5a, req_frame_bytes);
    if ((rv = nng_sendmsg(req, m, 0)) != 0 || (rv = nng_recvmsg(req, &m, 0)) != 0)
        fail("bare round trip", nng_strerror(rv));
    if (nng_msg_len(m) != reply_frame_bytes)
        fail("bare round trip", "reply of the wrong size");
    nng_msg_free(m);
    return (double)(oj_mono_ns() - t0) / 1e3;
}

/* Times n stub calls and n bare round trips in alternating blocks of
 * RPC_BLOCK (n a multiple of it), so load that comes and goes on the machine
 * hits both alike. */
static void bench_rpc(const char *sock_path, const char *dir, int n, struct stats *stub,
                      struct stats *bare)
{
    double *us_stub = malloc(sizeof(double) * (size_t)n);
    double *us_bare = malloc(sizeof(double) * (size_t)n);
    if (us_stub == NULL || us_bare == NULL)
        fail("out of memory", NULL);
    struct oj_client *c;
    int rv = oj_client_open(&c, sock_path, 10000);
    if (rv != 0)
        fail("cannot reach the daemon", nng_strerror(rv));
    for (int i = 0; i < RPC_WARMUP; i++)
        stub_call(c); /* the first call also sizes the frames */

    char url[PATH_MAX + 32];
    snprintf(url, sizeof url, "ipc://%s/bare.sock", dir);
    nng_socket rep, req;
    if ((rv = nng_rep0_open(&rep)) != 0 || (rv = nng_listen(rep, url, NULL, 0)) != 0)
        fail("bare rep socket", nng_strerror(rv));
    pthread_t th;
    if (pthread_create(&th, NULL, echo_server, &rep) != 0)
        fail("echo thread", strerror(errno));
    if ((rv = nng_req0_open(&req)) != 0)
        fail("bare req socket", nng_strerror(rv));
    nng_socket_set_ms(req, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 10000);
    nng_socket_set_ms(req, NNG_OPT_SENDTIMEO, 10000);
    if ((rv = nng_dial(req, url, NULL, 0)) != 0) /* listener is up: synchronous dial */
        fail("bare dial", nng_strerror(rv));
    for (int i = 0; i < RPC_WARMUP; i++)
        bare_call(req);

    for (int done = 0; done < n; done += RPC_BLOCK) {
        for (int i = done; i < done + RPC_BLOCK; i++)
            us_stub[i] = stub_call(c);
        for (int i = done; i < done + RPC_BLOCK; i++)
            us_bare[i] = bare_call(req);
    }
    nng_close(req);
    nng_close(rep); /* unblocks the echo thread's receive */
    pthread_join(th, NULL);
    oj_client_close(c);
    *stub = summarize(us_stub, n);
    *bare = summarize(us_bare, n);
    free(us_stub);
    free(us_bare);
}

/* ---- b) process wall time ---------------------------------------------- */

/* Runs argv in cwd to completion, output to /dev/null; its wall time in ms.
 * A non-zero exit is fatal. */
static double spawn_once(char *const argv[], const posix_spawn_file_actions_t *fa)
{
    int64_t t0 = oj_mono_ns();
    pid_t pid;
    int rv = posix_spawn(&pid, argv[0], fa, NULL, argv, environ);
    if (rv != 0)
        fail(argv[0], strerror(rv));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int64_t t1 = oj_mono_ns();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("a benchmarked program failed", argv[0]);
    return (double)(t1 - t0) / 1e6;
}

/* Runs a and b alternately, SPAWN_N timed runs each after a warm-up. */
static void bench_spawn(char *const a[], char *const b[], const char *cwd, struct stats *sa,
                        struct stats *sb)
{
    static double ms_a[SPAWN_N], ms_b[SPAWN_N];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    for (int i = 0; i < SPAWN_WARMUP; i++) {
        spawn_once(a, &fa);
        spawn_once(b, &fa);
    }
    for (int i = 0; i < SPAWN_N; i++) {
        ms_a[i] = spawn_once(a, &fa);
        ms_b[i] = spawn_once(b, &fa);
    }
    posix_spawn_file_actions_destroy(&fa);
    *sa = summarize(ms_a, SPAWN_N);
    *sb = summarize(ms_b, SPAWN_N);
}

/* ---- c) Status with the daemon at work ------------------------------------ */

static const char LOADED_RUNBOOK[] =
    "{\"pipelines\": {\"idle\": {\"phases\": [{\"name\": \"wait\", \"agent\": {\"command\":\n"
    "  \"oj-fake-agent\", \"idle_timeout\": \"1h\"}}]}}}\n";

struct pipeline_wait {
    const char *sock;
    char id[32];
};

static bool pipeline_in_agent(void *arg)
{
    struct pipeline_wait *w = arg;
    struct oj_client *c;
    if (oj_client_open(&c, w->sock, 1000) != 0)
        return false;
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = w->id;
    Oj__PipelineStatusResponse *resp;
    bool ok = false;
    if (OJ_RPC(c, oj__control__pipeline_status, &req, &resp) == OJ__STATUS_CODE__OK) {
        ok = strcmp(resp->step, "agent") == 0;
        oj_client_free_reply(resp);
    }
    oj_client_close(c);
    return ok;
}

/* a) in a project whose daemon runs LOADED_SESSIONS sessions of the fake
 * agent and one pipeline in its agent step. */
static void loaded_rpc(struct stats *stub, struct stats *bare)
{
    struct oj_env e;
    env_setup(&e, true);
    live_env = &e;
    char root[PATH_MAX];
    if (realpath(e.dir, root) == NULL)
        fail(e.dir, strerror(errno));
    if (env_write_runbook(&e, "bench", LOADED_RUNBOOK) != 0)
        fail("cannot write the runbook", strerror(errno));
    char *envp[] = {"OJ_MAX_SESSIONS=16", NULL}; /* the sessions and the pipeline's agent */
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    if (o.code != 0)
        fail("oj daemon start failed", o.err);
    oj_out_free(&o);
    for (int i = 0; i < LOADED_SESSIONS; i++) {
        char name[16];
        snprintf(name, sizeof name, "agent%d", i);
        o = OJ(&e, "session", "start", "--name", name, "--", "oj-fake-agent");
        if (o.code != 0)
            fail("oj session start failed", o.err);
        oj_out_free(&o);
    }
    struct oj_paths p;
    if (oj_paths_init(&p, root) != 0)
        fail("socket path", strerror(errno));
    struct pipeline_wait w = {.sock = p.sock_path};
    o = OJ(&e, "run", "idle");
    if (o.code != 0 || sscanf(o.out, "%31s", w.id) != 1)
        fail("oj run failed", o.err);
    oj_out_free(&o);
    if (!wait_until(pipeline_in_agent, &w, 60000))
        fail("the pipeline's agent did not start", w.id);
    struct timespec settle = {LOADED_SETTLE_MS / 1000, (LOADED_SETTLE_MS % 1000) * 1000000L};
    nanosleep(&settle, NULL);
    bench_rpc(p.sock_path, root, LOADED_N, stub, bare);
    live_env = NULL;
    env_teardown(&e);
}

/* ---- report --------------------------------------------------------------- */

static bool daemon_answers(void *arg)
{
    struct oj_client *c;
    if (oj_client_open(&c, arg, 1000) != 0)
        return false;
    oj_client_set_retry(c, 0);
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    int st = OJ_RPC(c, oj__control__status, &req, &resp);
    oj_client_free_reply(resp);
    oj_client_close(c);
    return st == OJ__STATUS_CODE__OK;
}

static void row(const char *name, const char *unit, struct stats s)
{
    printf("  %-34s mean %8.2f %s   p50 %8.2f %s   p99 %8.2f %s\n", name, s.mean, unit, s.p50,
           unit, s.p99, unit);
}

/* Whether OJ_BENCH_ONLY (a comma-separated list; unset: everything) names it. */
static bool selected(const char *section)
{
    const char *only = getenv("OJ_BENCH_ONLY");
    if (only == NULL || *only == '\0')
        return true;
    size_t n = strlen(section);
    for (const char *p = only; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, section, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* The report's first line; a blank line after it when the rpc section follows. */
static void report_header(bool blank)
{
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
    printf("oj benchmark report (%s, %ld cores)\n%s", date, sysconf(_SC_NPROCESSORS_ONLN),
           blank ? "\n" : "");
}

static bool rpc_report(int argc, char **argv)
{
    const char *empty_arg = argc > 1 ? argv[1] : getenv("OJ_BENCH_EMPTY");
    if (empty_arg == NULL || *empty_arg == '\0')
        fail("usage: OJ_BIN=bin/oj oj-bench EMPTY_PROGRAM (or set OJ_BENCH_EMPTY)", NULL);
    char empty[PATH_MAX];
    if (realpath(empty_arg, empty) == NULL)
        fail(empty_arg, strerror(errno));

    struct oj_env e;
    env_setup(&e, false);
    live_env = &e;
    char root[PATH_MAX];
    if (realpath(e.dir, root) == NULL)
        fail(e.dir, strerror(errno));
    struct oj_out o = OJ(&e, "daemon", "start");
    if (o.code != 0) {
        fprintf(stderr, "%s%s", o.out, o.err);
        fail("oj daemon start failed", NULL);
    }
    oj_out_free(&o);
    struct oj_paths p;
    if (oj_paths_init(&p, root) != 0)
        fail("socket path", strerror(errno));
    if (!wait_until(daemon_answers, p.sock_path, 10000))
        fail("the daemon does not answer Status", p.sock_path);

    struct stats stub, bare, st_oj, st_empty, l_stub, l_bare;
    bench_rpc(p.sock_path, root, RPC_N, &stub, &bare);
    char *status_argv[] = {e.oj, "status", NULL};
    char *empty_argv[] = {empty, NULL};
    bench_spawn(status_argv, empty_argv, root, &st_oj, &st_empty);
    live_env = NULL;
    bool clean = env_teardown(&e);
    loaded_rpc(&l_stub, &l_bare);

    report_header(true);
    printf("Status round trip: generated stubs + daemon vs bare nng req/rep echo\n");
    printf("  ipc://, %d round trips each (alternating blocks of %d) after %d warm-up;\n"
           "  request frame %zu B, reply frame %zu B\n",
           RPC_N, RPC_BLOCK, RPC_WARMUP, req_frame_bytes, reply_frame_bytes);
    row("status via oj__control__status", "us", stub);
    row("bare nng req0/rep0 echo", "us", bare);
    printf("\nThe same with the daemon at work: %d live sessions and a pipeline whose agent\n"
           "  runs; %d round trips each (alternating blocks of %d)\n",
           LOADED_SESSIONS, LOADED_N, RPC_BLOCK);
    row("status via oj__control__status", "us", l_stub);
    row("bare nng req0/rep0 echo", "us", l_bare);
    printf("\n`oj status` wall time vs an empty C program (posix_spawn + waitpid)\n");
    printf("  %d runs each (alternating) after %d warm-up, stdout to /dev/null\n", SPAWN_N,
           SPAWN_WARMUP);
    row("oj status", "ms", st_oj);
    row("empty C program", "ms", st_empty);
    printf("\n");
    printf("ratio: status-stub/bare-nng = %.2fx\n", stub.mean / bare.mean);
    printf("ratio: status-stub/bare-nng p50 = %.2fx\n", stub.p50 / bare.p50);
    printf("ratio: status-stub/bare-nng p50, daemon at work = %.2fx\n", l_stub.p50 / l_bare.p50);
    printf("ratio: status-stub/bare-nng p99, daemon at work = %.2fx\n", l_stub.p99 / l_bare.p99);
    printf("ratio: oj-status/empty-program = %.2fx\n", st_oj.mean / st_empty.mean);
    return clean;
}

int main(int argc, char **argv)
{
    bool ok = true;
    if (selected("rpc"))
        ok = rpc_report(argc, argv);
    else
        report_header(false);
    fflush(stdout);
    if (selected("store"))
        ok = bench_store_report() && ok;
    fflush(stdout);
    if (selected("sessions"))
        ok = bench_sessions_report() && ok;
    fflush(stdout);
    if (selected("pipelines"))
        ok = bench_pipelines_report() && ok;
    fflush(stdout);
    if (selected("tick"))
        ok = bench_tick_report() && ok;
    fflush(stdout);
    if (selected("finished"))
        ok = bench_finished_report() && ok;
    fflush(stdout);
    if (selected("memory"))
        ok = bench_memory_report() && ok;
    fflush(stdout);
    if (selected("crc"))
        ok = bench_crc_report() && ok;
    fflush(stdout);
    if (selected("nowait"))
        ok = bench_nowait_report() && ok;
    fflush(stdout);
    if (selected("dashboard"))
        ok = bench_dashboard_report() && ok;
    return ok ? 0 : 1;
}
