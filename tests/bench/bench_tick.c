/* bench_tick.c — the "tick" figures of `make bench`: what the engine's
 * once-a-second tick costs as the work grows.
 *
 * Four daemons: 10, 100 and 1,000 active pipelines, each with its agent
 * (oj-fake-agent) up and sitting idle (it prints nothing), and 100 active
 * pipelines with 10,000 finished ones (and their dead sessions) next to them:
 * the tick must not visit what is finished. For each, the CPU time of the
 * engine thread ("oj:engine", from /proc/<pid>/task/<tid>/schedstat, ns) over
 * one window of OJ_BENCH_TICK_SECONDS (default 30) that all four share: with
 * no request coming in, that is the tick's cost. Also the whole daemon's CPU
 * (every thread), the tmux commands it ran (list-panes every second, waited
 * for: cutime+cstime), and the tmux server's own CPU for answering them.
 *
 * The pipelines are written straight into the WAL (step pending in an agent
 * phase, OJ_MAX_SESSIONS = N), so each daemon starts their agents itself at
 * its first tick; the window opens once every agent printed its first line
 * and a few seconds passed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bench_util.h"
#include "clock.h"
#include "paths.h"
#include "pipeline.h"
#include "rpc_client.h"

#define TICK_SECONDS 30
#define READY_DEADLINE_MS 180000
#define SETTLE_MS 3000
#define FINISHED 10000
#define FIRST_LINE "fake agent ready"

static const char RUNBOOK[] =
    "{\"pipelines\": {\"idle\": {\"phases\": [{\"name\": \"wait\", \"agent\": {\"command\": "
    "\"oj-fake-agent\", \"idle_timeout\": \"1h\"}}]}}}\n";

struct tick_usage {
    int active, finished;
    double wall;                      /* seconds measured */
    double engine, daemon, children;  /* CPU seconds */
    double tmux_server;               /* CPU seconds, -1 when unknown */
    double rss_mib;
};

static bool tick_fail(const char *what, const char *detail)
{
    fprintf(stderr, "oj-bench: tick: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return false;
}

/* Active pipelines in step pending of agent phase "wait" (ids from 0x800000
 * on, clear of the finished ones'), then `finished` finished pipelines with
 * their dead sessions. */
static bool write_state(const char *dir, int active, int finished)
{
    char work[PATH_MAX + 8];
    snprintf(work, sizeof work, "%s/work", dir);
    if (mkdir(work, 0700) != 0)
        return tick_fail("mkdir", work);
    struct walw w;
    if (!walw_open(&w, dir))
        return tick_fail("cannot write the WAL", dir);
    int64_t now = oj_wall_ms();
    bool ok = true;
    for (int i = 0; ok && i < finished; i++) {
        char id[16];
        bench_session_id(i, id);
        ok = walw_put(&w, "session", id, bench_dead_session(dir, i, now));
        bench_pipeline_id(i, id);
        ok = ok && walw_put(&w, "pipeline", id, bench_finished_pipeline(dir, i, 0, now));
    }
    for (int i = 0; ok && i < active; i++) {
        struct oj_pipeline p;
        oj_pipeline_init(&p);
        oj_pipeline_set(&p.name, "idle");
        oj_pipeline_set(&p.workspace, work);
        p.state = OJ_PIPELINE_RUNNING;
        p.created_at_ms = now - active + i;
        oj_pipeline_enter(&p, "wait", now);
        char id[16];
        bench_pipeline_id(0x800000 + i, id);
        ok = walw_put(&w, "pipeline", id, oj_pipeline_to_json(&p));
        oj_pipeline_free(&p);
    }
    return walw_close(&w) && ok;
}

/* How many session logs hold the agent's first line. */
static int agents_up(const char *log_dir)
{
    DIR *d = opendir(log_dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".log") != 0)
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", log_dir, e->d_name);
        char *text = read_file(path);
        n += text && strstr(text, FIRST_LINE);
        free(text);
    }
    closedir(d);
    return n;
}

/* Active pipelines and sessions as the daemon counts them; false when the
 * call failed. */
static bool counts(const char *sock, unsigned *pipelines, unsigned *sessions)
{
    struct oj_client *c;
    if (oj_client_open(&c, sock, 60000) != 0)
        return false;
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    bool ok = OJ_RPC(c, oj__control__status, &req, &resp) == OJ__STATUS_CODE__OK;
    if (ok) {
        *pipelines = resp->active_pipelines;
        *sessions = resp->active_sessions;
    }
    oj_client_free_reply(resp);
    oj_client_close(c);
    return ok;
}

/* The pid of the daemon's tmux server, 0 when unknown. */
static pid_t tmux_server(const struct oj_paths *p)
{
    char out[64] = "";
    char *argv[] = {"tmux", "-S", (char *)p->tmux_sock_path, "display-message", "-p", "#{pid}",
                    NULL};
    if (run_prog("/", 10000, out, sizeof out, argv) != 0)
        return 0;
    return (pid_t)atoi(out);
}

/* One daemon of the measurement. */
struct fixture {
    struct oj_env e;
    bool up;
    struct oj_paths p;
    pid_t pid, tmux;
    int64_t engine, daemon, children, tmux_cpu; /* at the window's start */
};

static bool fixture_start(struct fixture *f, int active, int finished)
{
    env_setup(&f->e, false);
    f->up = true;
    char root[PATH_MAX];
    if (realpath(f->e.dir, root) == NULL || oj_paths_init(&f->p, root) != 0)
        return tick_fail("project paths", f->e.dir);
    if (env_write_runbook(&f->e, "bench", RUNBOOK) != 0 || !write_state(root, active, finished))
        return false;
    char max_sessions[32];
    snprintf(max_sessions, sizeof max_sessions, "OJ_MAX_SESSIONS=%d", active);
    char *envp[] = {max_sessions, NULL};
    if (bench_daemon_start(&f->e, envp) != 0)
        return tick_fail("oj daemon start failed", root);
    int64_t deadline = oj_mono_ms() + READY_DEADLINE_MS;
    int up = 0;
    while ((up = agents_up(f->p.session_log_dir)) < active && oj_mono_ms() < deadline)
        bench_sleep_ms(250);
    if (up < active) {
        char n[64];
        snprintf(n, sizeof n, "%d of %d", up, active);
        return tick_fail("the agents did not all come up in time", n);
    }
    f->pid = env_daemon_pid(&f->e);
    f->tmux = tmux_server(&f->p);
    return f->pid > 0 || tick_fail("no daemon pid", root);
}

static bool window_start(struct fixture *f)
{
    f->engine = bench_threads_cpu_ns(f->pid, "oj:engine");
    f->daemon = bench_threads_cpu_ns(f->pid, NULL);
    f->children = bench_children_cpu_ns(f->pid);
    f->tmux_cpu = f->tmux ? bench_threads_cpu_ns(f->tmux, NULL) : -1;
    return f->engine > 0 || tick_fail("cannot read the engine thread's CPU time",
                                      "(no thread oj:engine?)");
}

static bool window_end(struct fixture *f, int active, int finished, double wall,
                       struct tick_usage *u)
{
    int64_t e1 = bench_threads_cpu_ns(f->pid, "oj:engine"), d1 = bench_threads_cpu_ns(f->pid, NULL);
    int64_t c1 = bench_children_cpu_ns(f->pid);
    int64_t t1 = f->tmux ? bench_threads_cpu_ns(f->tmux, NULL) : -1;
    *u = (struct tick_usage){.active = active, .finished = finished, .wall = wall};
    u->rss_mib = bench_rss_mib(f->pid);
    if (e1 < 0 || d1 < 0)
        return tick_fail("the daemon went away during the measurement", NULL);
    u->engine = (double)(e1 - f->engine) / 1e9;
    u->daemon = (double)(d1 - f->daemon) / 1e9;
    u->children = (double)(c1 - f->children) / 1e9;
    u->tmux_server = f->tmux_cpu >= 0 && t1 >= 0 ? (double)(t1 - f->tmux_cpu) / 1e9 : -1;
    /* Still every agent up and its pipeline active: nothing was restarted. */
    unsigned np = 0, ns = 0;
    if (!counts(f->p.sock_path, &np, &ns) || np != (unsigned)active || ns != (unsigned)active) {
        char n[96];
        snprintf(n, sizeof n, "%u pipelines and %u sessions active, %d expected", np, ns, active);
        return tick_fail("after the window", n);
    }
    return true;
}

static double pct(double cpu, double wall) { return 100 * cpu / wall; }

static void usage_row(const struct tick_usage *u)
{
    char what[64];
    snprintf(what, sizeof what, "%5d active%s", u->active, u->finished ? " + 10000 finished" : "");
    printf("  %-26s engine %6.3f%%  daemon %6.3f%%  +tmux cmds %6.3f%%  tmux server %6.3f%%"
           "  RSS %6.1f MiB\n",
           what, pct(u->engine, u->wall), pct(u->daemon, u->wall), pct(u->children, u->wall),
           u->tmux_server >= 0 ? pct(u->tmux_server, u->wall) : -1.0, u->rss_mib);
}

bool bench_tick_report(void)
{
    int seconds = bench_env_int("OJ_BENCH_TICK_SECONDS", TICK_SECONDS);
    /* All four run at once and are measured over the same window, so that
     * whatever else the machine does hits them alike. */
    static const int active[4] = {10, 100, 1000, 100}, finished[4] = {0, 0, 0, FINISHED};
    static struct fixture f[4];
    struct tick_usage u[4];
    bool ok = true;
    for (int i = 0; ok && i < 4; i++)
        ok = fixture_start(&f[i], active[i], finished[i]);
    if (ok)
        bench_sleep_ms(SETTLE_MS);
    for (int i = 0; ok && i < 4; i++)
        ok = window_start(&f[i]);
    int64_t w0 = oj_mono_ns();
    if (ok)
        bench_sleep_ms((int64_t)seconds * 1000); /* the daemons are measured doing nothing */
    double wall = (double)(oj_mono_ns() - w0) / 1e9;
    for (int i = 0; ok && i < 4; i++)
        ok = window_end(&f[i], active[i], finished[i], wall, &u[i]);
    for (int i = 0; i < 4; i++)
        if (f[i].up) {
            ok = env_teardown(&f[i].e) && ok;
            f[i].up = false;
        }
    if (!ok)
        return false;

    printf("\nCost as work grows: the tick (agents up and idle, no requests; one %d s window\n"
           "  for all four; %% of one core: the engine thread, the whole daemon, the tmux\n"
           "  commands it ran, the tmux server answering them)\n", seconds);
    for (int i = 0; i < 4; i++)
        usage_row(&u[i]);
    /* per active pipeline, per tick (one a second) */
    double per100 = u[1].engine / u[1].wall / 100 * 1e6,
           per1000 = u[2].engine / u[2].wall / 1000 * 1e6;
    printf("  engine per active pipeline per tick: %.1f us at 100, %.1f us at 1000\n", per100,
           per1000);
    const struct tick_usage *h = &u[1];
    printf("ratio: tick-cpu-100-idle-pipelines/one-core = %.4f (goal < 0.02); the whole daemon,"
           " its tmux commands and the tmux server: %.4f\n", h->engine / h->wall,
           (h->daemon + h->children + (h->tmux_server > 0 ? h->tmux_server : 0)) / h->wall);
    printf("ratio: tick-cpu-per-pipeline 1000/100 = %.2fx (goal <= 1.2: at most linear)\n",
           per1000 / per100);
    /* Not 1.0: the same walk over a bigger heap and bigger maps misses the
     * cache more. Before the index every tick decoded every finished record. */
    printf("ratio: tick-cpu 100-active+10k-finished/100-active = %.2fx (goal <= 1.5: the "
           "finished cost nothing)\n", u[3].engine / u[1].engine);
    return true;
}
