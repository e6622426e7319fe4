/* bench_pipelines.c — the pipelines figures of `make bench`.
 *
 *   a) start latency: in a git repo with a daemon, a runbook whose first phase
 *      is an agent (oj-fake-agent with a prompt). Wall time from spawning
 *      `oj run` until the agent's session log (.oj/logs/sessions/<sid>.log,
 *      watched with inotify) holds its first line ("fake agent ready"), and
 *      until it holds the answer to the prompt the daemon typed ("got: ...");
 *      also until `oj run` itself returns. PIPE_RUNS runs
 *      (OJ_BENCH_PIPELINE_RUNS), each pipeline cancelled before the next, so
 *      each run starts the daemon's tmux server afresh (it exits with its last
 *      session). Against bare tmux doing the same session start: a fresh
 *      server on a private socket, the daemon's command sequence
 *      (set-option remain-on-exit; new-session -d; pipe-pane to a log) for
 *      the same script, then send-keys of the prompt and Enter. p50/p95/max.
 *   b) the daemon's CPU time (utime+stime from /proc; also with the children it
 *      reaped, i.e. the tmux and git commands it runs) and RSS with 10
 *      pipelines whose agents sit idle (OJ_MAX_SESSIONS defaults to 10) over
 *      OJ_BENCH_PIPELINE_SECONDS (default 15), against a fresh daemon running
 *      10 plain sessions of the same agent over the same window. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "bench.h"
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"
#include "subprocess.h"
#include "tmux.h"

#define PIPE_RUNS 20       /* timed runs per variant (OJ_BENCH_PIPELINE_RUNS) */
#define PIPE_WARMUP 2      /* untimed runs first, per variant */
#define PIPE_SECONDS 15    /* CPU window (OJ_BENCH_PIPELINE_SECONDS) */
#define N_AGENTS 10        /* pipelines / sessions held for the CPU window */
#define RUN_DEADLINE_MS 20000
#define READY_DEADLINE_MS 60000
#define SETTLE_MS 2500 /* after the agents are up: let start-up work finish */
#define FIRST_LINE "fake agent ready"
#define PROMPT_ANSWER "got: bench prompt"

static const char RUNBOOK[] =
    "{\"pipelines\": {\n"
    "  \"first\": {\"phases\": [{\"name\": \"work\", \"agent\": {\"command\": \"oj-fake-agent\",\n"
    "    \"prompt\": \"bench prompt {id}\", \"idle_timeout\": \"1h\"}}]},\n"
    "  \"idle\": {\"phases\": [{\"name\": \"wait\", \"agent\": {\"command\": \"oj-fake-agent\",\n"
    "    \"idle_timeout\": \"1h\"}}]}\n"
    "}}\n";

extern char **environ;

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct pct {
    double p50, p95, max;
};

/* Nearest-rank percentiles of n samples (sorts v). */
static struct pct percentiles(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i50 = (n * 50 + 99) / 100 - 1, i95 = (n * 95 + 99) / 100 - 1;
    return (struct pct){v[i50 < 0 ? 0 : i50], v[i95 < 0 ? 0 : i95], v[n - 1]};
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool file_has(const char *path, const char *needle)
{
    char *text = read_file(path);
    bool has = text && strstr(text, needle);
    free(text);
    return has;
}

/* The last lines of the daemon's log on stderr, for a failure report. */
static void log_tail(const struct oj_env *e)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e->dir);
    char *text = read_file(path);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    const char *from = len > 3000 ? text + len - 3000 : text;
    fprintf(stderr, "--- the end of %s:\n%s---\n", path, from);
    free(text);
}

static bool bench_fail(const struct oj_env *e, const char *what, const char *detail)
{
    int len = detail ? (int)strcspn(detail, "\n") : 0; /* oj's one-line errors end in one */
    fprintf(stderr, "oj-bench: pipelines: %s%s%.*s\n", what, detail ? ": " : "", len,
            detail ? detail : "");
    if (e)
        log_tail(e);
    return false;
}

/* ---- a daemon in a scratch project -------------------------------------------- */

struct project {
    struct oj_env e;
    bool up;          /* e is set up: tear it down */
    struct oj_paths p;
    struct oj_client *c;
};

static bool project_start(struct project *pr, bool git, const char *runbook)
{
    memset(pr, 0, sizeof *pr);
    env_setup(&pr->e, git);
    pr->up = true;
    if (runbook && env_write_runbook(&pr->e, "bench", runbook) != 0)
        return bench_fail(NULL, "cannot write the runbook", strerror(errno));
    if (env_start_daemon(&pr->e) != 0)
        return bench_fail(&pr->e, "oj daemon start failed", NULL);
    char root[PATH_MAX];
    if (realpath(pr->e.dir, root) == NULL || oj_paths_init(&pr->p, root) != 0)
        return bench_fail(NULL, "project paths", strerror(errno));
    int rv = oj_client_open(&pr->c, pr->p.sock_path, 10000);
    if (rv != 0) {
        pr->c = NULL;
        return bench_fail(&pr->e, "cannot reach the daemon", pr->p.sock_path);
    }
    return true;
}

static bool project_stop(struct project *pr)
{
    if (pr->c)
        oj_client_close(pr->c);
    pr->c = NULL;
    bool clean = !pr->up || env_teardown(&pr->e);
    pr->up = false;
    return clean;
}

/* The pipeline's step and session id (sid may be NULL); false if the call failed. */
static bool pipeline_step(struct project *pr, const char *id, char *step, size_t steplen,
                          char *sid, size_t sidlen)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = (char *)id;
    Oj__PipelineStatusResponse *resp;
    if (OJ_RPC(pr->c, oj__control__pipeline_status, &req, &resp) != OJ__STATUS_CODE__OK)
        return false;
    snprintf(step, steplen, "%s", resp->step);
    if (sid)
        snprintf(sid, sidlen, "%s", resp->session_id);
    oj_client_free_reply(resp);
    return true;
}

static void session_log(const struct project *pr, const char *sid, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.log", pr->p.session_log_dir, sid);
}

/* ---- waiting on a log directory --------------------------------------------- */

/* An inotify watch on a directory of logs: which .log appeared first, and
 * when a given one holds a line. */
struct logwatch {
    int fd;
    char dir[PATH_MAX];
    char name[256]; /* the first *.log created since the last logwatch_reset */
};

static bool logwatch_open(struct logwatch *w, const char *dir)
{
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    w->name[0] = '\0';
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0)
        return false;
    if (inotify_add_watch(w->fd, dir, IN_CREATE | IN_MODIFY) < 0) {
        close(w->fd);
        w->fd = -1;
        return false;
    }
    return true;
}

static void logwatch_close(struct logwatch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

/* Reads what is queued; notes the first *.log created. */
static void logwatch_drain(struct logwatch *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t r = read(w->fd, buf, sizeof buf);
        if (r <= 0)
            return;
        for (char *p = buf; p < buf + r;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if ((ev->mask & IN_CREATE) && ev->len > 0 && w->name[0] == '\0' &&
                ends_with(ev->name, ".log"))
                snprintf(w->name, sizeof w->name, "%s", ev->name);
            p += sizeof *ev + ev->len;
        }
    }
}

/* One timed start: t0 is when it was set off; the rest are ms after t0 (-1:
 * not seen yet). */
struct start_times {
    int64_t t0;
    double first, echo, returned;
};

/* Waits (to deadline_ms, monotonic) until the first log created in w holds
 * FIRST_LINE and PROMPT_ANSWER, noting when each was seen; pidfd (or -1) is a
 * process whose exit is timed into t->returned. True when both lines came. */
static bool watch_start(struct logwatch *w, int pidfd, struct start_times *t, int64_t deadline_ms)
{
    char path[PATH_MAX + 300] = "";
    while (oj_mono_ms() < deadline_ms) {
        struct pollfd fds[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        int64_t left = deadline_ms - oj_mono_ms();
        int n = poll(fds, pidfd >= 0 ? 2 : 1, (int)(left > 100 ? 100 : left < 0 ? 0 : left));
        int64_t now = oj_mono_ns();
        if (n < 0 && errno != EINTR)
            return false;
        if (pidfd >= 0 && (fds[1].revents & POLLIN) && t->returned < 0) {
            t->returned = (double)(now - t->t0) / 1e6;
            pidfd = -1; /* once */
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        logwatch_drain(w);
        if (w->name[0] == '\0')
            continue;
        if (path[0] == '\0')
            snprintf(path, sizeof path, "%s/%s", w->dir, w->name);
        char *text = read_file(path);
        if (text && t->first < 0 && strstr(text, FIRST_LINE))
            t->first = (double)(now - t->t0) / 1e6;
        if (text && t->echo < 0 && strstr(text, PROMPT_ANSWER))
            t->echo = (double)(now - t->t0) / 1e6;
        free(text);
        if (t->first >= 0 && t->echo >= 0)
            return true;
    }
    return false;
}

/* ---- a) `oj run` until the agent's first line ---------------------------------- */

/* One `oj run first`: times it into *t, checks the log watched is its
 * agent's, cancels the pipeline. */
static bool oj_run_once(struct project *pr, struct logwatch *w, struct start_times *t)
{
    char out_path[PATH_MAX + 32];
    snprintf(out_path, sizeof out_path, "%s/.oj/bench-run.out", pr->e.dir);
    char *args[] = {"run", "first", NULL};
    logwatch_drain(w);
    w->name[0] = '\0';
    *t = (struct start_times){.first = -1, .echo = -1, .returned = -1};
    t->t0 = oj_mono_ns();
    pid_t pid = oj_spawn_bg(&pr->e, out_path, NULL, args);
    int pidfd = pidfd_open(pid, 0);
    bool seen = watch_start(w, pidfd, t, oj_mono_ms() + RUN_DEADLINE_MS);
    if (pidfd >= 0)
        close(pidfd);
    int code = child_wait_exit(pid, 10000);
    if (t->returned < 0) /* no pidfd, or its exit came after the lines */
        t->returned = (double)(oj_mono_ns() - t->t0) / 1e6;
    if (code != 0) {
        char c[16];
        snprintf(c, sizeof c, "exit %d", code);
        return bench_fail(&pr->e, "oj run first failed", c);
    }
    char *out = read_file(out_path), id[32] = "";
    if (out == NULL || sscanf(out, "%31s", id) != 1) {
        free(out);
        return bench_fail(&pr->e, "oj run printed no pipeline id", NULL);
    }
    free(out);
    if (!seen)
        return bench_fail(&pr->e, "the agent's lines did not reach its session log in time",
                          w->name[0] ? w->name : "(no session log appeared)");
    char step[32], sid[32], want[64];
    if (!pipeline_step(pr, id, step, sizeof step, sid, sizeof sid))
        return bench_fail(&pr->e, "PipelineStatus failed", oj_client_message(pr->c));
    snprintf(want, sizeof want, "%s.log", sid);
    if (strcmp(want, w->name) != 0)
        return bench_fail(&pr->e, "the log watched is not the pipeline's agent's", w->name);
    struct oj_out o = OJ(&pr->e, "pipeline", "cancel", id);
    bool ok = o.code == 0;
    if (!ok)
        fprintf(stderr, "%s%s", o.out, o.err);
    oj_out_free(&o);
    return ok || bench_fail(&pr->e, "oj pipeline cancel failed", id);
}

static bool bench_oj_run(int runs, double *first, double *echo, double *returned)
{
    struct project pr;
    bool ok = project_start(&pr, true, RUNBOOK);
    struct logwatch w = {.fd = -1};
    if (ok && !logwatch_open(&w, pr.p.session_log_dir))
        ok = bench_fail(NULL, "inotify on the session logs", strerror(errno));
    for (int i = 0; ok && i < PIPE_WARMUP + runs; i++) {
        struct start_times t;
        ok = oj_run_once(&pr, &w, &t);
        if (ok && i >= PIPE_WARMUP) {
            first[i - PIPE_WARMUP] = t.first;
            echo[i - PIPE_WARMUP] = t.echo;
            returned[i - PIPE_WARMUP] = t.returned;
        }
    }
    logwatch_close(&w);
    return project_stop(&pr) && ok;
}

/* ---- a) the bare tmux baseline --------------------------------------------------- */

static char *tmux_env[1024]; /* ours without TMUX and TMUX_PANE, as the daemon gives tmux */

static void tmux_env_init(void)
{
    int n = 0;
    for (char **e = environ; *e && n < 1023; e++)
        if (strncmp(*e, "TMUX=", 5) != 0 && strncmp(*e, "TMUX_", 5) != 0)
            tmux_env[n++] = *e;
    tmux_env[n] = NULL;
}

/* tmux -S sock -f /dev/null args...: its exit status (-1: could not run it). */
static int tmux(const char *sock, char *const args[])
{
    char *argv[64] = {"tmux", "-S", (char *)sock, "-f", "/dev/null"};
    int n = 5;
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct oj_proc_result r;
    char out[1024];
    if (oj_run_env(argv, "/", tmux_env, 10000, out, sizeof out, 1, &r) != 0)
        return -1;
    if (r.exit_status != 0 || r.timed_out)
        fprintf(stderr, "oj-bench: tmux %s: %s", args[0], out);
    return r.timed_out ? 124 : r.exit_status;
}

struct bare_job {
    char sock[PATH_MAX + 32], cwd[PATH_MAX], pipe_cmd[PATH_MAX + 64], prompt[64];
    const char *agent;
    int failed;      /* 0, or which tmux call failed (1-3) */
    int64_t done_ns; /* when the last call returned */
};

/* What the daemon does to start an agent and hand it its prompt, without
 * the daemon: the same three tmux calls (see oj_tmux_new, oj_tmux_send). */
static void *bare_start(void *arg)
{
    struct bare_job *j = arg;
    char *create[] = {"set-option", "-g", "remain-on-exit", "on", ";",
                      "new-session", "-d", "-s", "bench", "-x", "200", "-y", "50", "-c", j->cwd,
                      (char *)j->agent, ";",
                      "pipe-pane", "-o", "-t", "=bench:", j->pipe_cmd, NULL};
    char *keys[] = {"send-keys", "-t", "=bench:", "-l", "--", j->prompt, NULL};
    char *enter[] = {"send-keys", "-t", "=bench:", "Enter", NULL};
    if (tmux(j->sock, create) != 0)
        j->failed = 1;
    else if (tmux(j->sock, keys) != 0)
        j->failed = 2;
    else if (tmux(j->sock, enter) != 0)
        j->failed = 3;
    j->done_ns = oj_mono_ns();
    return NULL;
}

static bool bench_bare(const char *agent, int runs, double *first, double *echo, double *returned)
{
    struct oj_env e;
    env_setup(&e, false);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/bare", e.dir);
    bool ok = mkdir(dir, 0700) == 0 || bench_fail(NULL, "mkdir", strerror(errno));
    struct logwatch w = {.fd = -1};
    if (ok && !logwatch_open(&w, dir))
        ok = bench_fail(NULL, "inotify on the bare logs", strerror(errno));
    tmux_env_init();
    for (int i = 0; ok && i < PIPE_WARMUP + runs; i++) {
        static struct bare_job j; /* big: not on the stack */
        memset(&j, 0, sizeof j);
        j.agent = agent;
        snprintf(j.cwd, sizeof j.cwd, "%s", e.dir);
        /* A fresh server each run, as the daemon's (it exits with its last session). */
        snprintf(j.sock, sizeof j.sock, "%s/t%d.sock", dir, i);
        char log[PATH_MAX + 32];
        snprintf(log, sizeof log, "%s/bare%d.log", dir, i);
        char *qlog = oj_shell_quote(log);
        snprintf(j.pipe_cmd, sizeof j.pipe_cmd, "exec cat >> %s", qlog);
        free(qlog);
        snprintf(j.prompt, sizeof j.prompt, "bench prompt b%d", i);

        logwatch_drain(&w);
        w.name[0] = '\0';
        struct start_times t = {.first = -1, .echo = -1, .returned = -1};
        t.t0 = oj_mono_ns();
        pthread_t th;
        if (pthread_create(&th, NULL, bare_start, &j) != 0) {
            ok = bench_fail(NULL, "thread", strerror(errno));
            break;
        }
        bool seen = watch_start(&w, -1, &t, oj_mono_ms() + RUN_DEADLINE_MS);
        pthread_join(th, NULL); /* bounded: each tmux call has a 10 s limit */
        t.returned = (double)(j.done_ns - t.t0) / 1e6;
        char *kill_server[] = {"kill-server", NULL};
        tmux(j.sock, kill_server);
        if (j.failed) {
            char which[32];
            snprintf(which, sizeof which, "call %d", j.failed);
            ok = bench_fail(NULL, "a bare tmux call failed", which);
        } else if (!seen)
            ok = bench_fail(NULL, "the agent's lines did not reach the bare log in time", log);
        else if (i >= PIPE_WARMUP) {
            first[i - PIPE_WARMUP] = t.first;
            echo[i - PIPE_WARMUP] = t.echo;
            returned[i - PIPE_WARMUP] = t.returned;
        }
    }
    logwatch_close(&w);
    /* Any server a failure left behind. */
    for (int i = 0; i < PIPE_WARMUP + runs; i++) {
        char sock[PATH_MAX + 32];
        snprintf(sock, sizeof sock, "%s/t%d.sock", dir, i);
        char *kill_server[] = {"tmux", "-S", sock, "kill-server", NULL};
        if (access(sock, F_OK) == 0)
            run_prog("/", 10000, NULL, 0, kill_server);
    }
    return env_teardown(&e) && ok;
}

/* ---- b) the daemon's CPU and memory with 10 agents waiting -------------------------- */

struct usage {
    double wall, cpu, cpu_with_children, rss_mib;
};

/* utime+stime, and cutime+cstime (children it waited for), in ticks. */
static bool cpu_ticks(pid_t pid, long *own, long *children)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = read_file(path);
    if (stat == NULL)
        return false;
    const char *p = strrchr(stat, ')');
    long ut = 0, st = 0, cut = 0, cst = 0;
    /* Fields after the command: state(3) ... utime(14) stime(15) cutime(16) cstime(17). */
    int got = p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld %ld %ld", &ut,
                         &st, &cut, &cst)
                : 0;
    free(stat);
    *own = ut + st;
    *children = cut + cst;
    return got == 4;
}

static double rss_mib(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *text = read_file(path);
    const char *line = text ? strstr(text, "\nVmRSS:") : NULL;
    long kib = line ? strtol(line + 7, NULL, 10) : -1;
    free(text);
    return kib < 0 ? -1 : (double)kib / 1024;
}

/* The daemon's usage over `seconds` of doing nothing but keeping its agents. */
static bool measure_daemon(struct project *pr, int seconds, struct usage *u)
{
    sleep_ms(SETTLE_MS);
    pid_t pid = env_daemon_pid(&pr->e);
    long own0, kids0, own1, kids1;
    if (pid <= 0 || !cpu_ticks(pid, &own0, &kids0))
        return bench_fail(&pr->e, "cannot read the daemon's /proc/<pid>/stat", NULL);
    int64_t w0 = oj_mono_ns();
    /* A plain wait is the point here: the daemon is measured doing nothing. */
    sleep_ms((int64_t)seconds * 1000);
    bool ok = cpu_ticks(pid, &own1, &kids1);
    u->wall = (double)(oj_mono_ns() - w0) / 1e9;
    u->rss_mib = rss_mib(pid);
    if (!ok || u->rss_mib < 0)
        return bench_fail(&pr->e, "the daemon went away during the measurement", NULL);
    double tck = (double)sysconf(_SC_CLK_TCK);
    u->cpu = (double)(own1 - own0) / tck;
    u->cpu_with_children = (double)(own1 - own0 + kids1 - kids0) / tck;
    return true;
}

struct ready_ctx {
    struct project *pr;
    char (*ids)[32]; /* pipeline ids, or NULL */
    char (*sids)[32];
    const char *bad; /* why not ready, for the failure report */
};

static bool agents_ready(void *arg)
{
    struct ready_ctx *r = arg;
    for (int i = 0; i < N_AGENTS; i++) {
        char log[PATH_MAX + 64], step[32];
        if (r->ids) {
            if (!pipeline_step(r->pr, r->ids[i], step, sizeof step, r->sids[i],
                               sizeof r->sids[i])) {
                r->bad = "PipelineStatus failed";
                return false;
            }
            if (strcmp(step, "agent") != 0 || r->sids[i][0] == '\0') {
                r->bad = "a pipeline is not in step agent";
                return false;
            }
        }
        session_log(r->pr, r->sids[i], log, sizeof log);
        if (!file_has(log, FIRST_LINE)) {
            r->bad = "an agent has not printed its first line";
            return false;
        }
    }
    return true;
}

/* Polls (every 50 ms, to a deadline) until every agent is up. */
static bool wait_ready(struct ready_ctx *r)
{
    int64_t deadline = oj_mono_ms() + READY_DEADLINE_MS;
    while (!agents_ready(r)) {
        if (oj_mono_ms() >= deadline)
            return bench_fail(&r->pr->e, "the agents did not come up in time", r->bad);
        sleep_ms(50);
    }
    return true;
}

static bool bench_idle_pipelines(int seconds, struct usage *u)
{
    static char ids[N_AGENTS][32], sids[N_AGENTS][32];
    struct project pr;
    bool ok = project_start(&pr, true, RUNBOOK);
    for (int i = 0; ok && i < N_AGENTS; i++) {
        struct oj_out o = OJ(&pr.e, "run", "idle");
        ok = o.code == 0 && sscanf(o.out, "%31s", ids[i]) == 1;
        if (!ok)
            bench_fail(&pr.e, "oj run idle failed", o.err);
        oj_out_free(&o);
    }
    struct ready_ctx r = {.pr = &pr, .ids = ids, .sids = sids};
    ok = ok && wait_ready(&r) && measure_daemon(&pr, seconds, u);
    /* Still all waiting on their agents, nothing restarted them? */
    r.bad = NULL;
    ok = ok && (agents_ready(&r) || bench_fail(&pr.e, "after the window", r.bad));
    return project_stop(&pr) && ok;
}

static bool bench_idle_sessions(int seconds, struct usage *u)
{
    static char sids[N_AGENTS][32];
    struct project pr;
    bool ok = project_start(&pr, false, NULL);
    for (int i = 0; ok && i < N_AGENTS; i++) {
        char name[16];
        snprintf(name, sizeof name, "agent%d", i);
        struct oj_out o = OJ(&pr.e, "session", "start", "--name", name, "--", "oj-fake-agent");
        ok = o.code == 0 && sscanf(o.out, "started session %31s", sids[i]) == 1;
        if (!ok)
            bench_fail(&pr.e, "oj session start failed", o.err);
        oj_out_free(&o);
    }
    struct ready_ctx r = {.pr = &pr, .sids = sids};
    ok = ok && wait_ready(&r) && measure_daemon(&pr, seconds, u);
    return project_stop(&pr) && ok;
}

/* ---- report --------------------------------------------------------------------------- */

static void line(const char *what, int n, struct pct p)
{
    printf("  %s, %d runs: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", what, n, p.p50, p.p95, p.max);
}

static void usage_line(const char *what, const struct usage *u)
{
    printf("  daemon with %s over %.0f s: CPU %.2f s (%.2f%% of one core); with the tmux/git "
           "commands it ran %.2f s (%.2f%%); RSS %.1f MiB\n",
           what, u->wall, u->cpu, 100 * u->cpu / u->wall, u->cpu_with_children,
           100 * u->cpu_with_children / u->wall, u->rss_mib);
}

static void ratio(const char *name, double a, double b, const char *note)
{
    if (b > 0)
        printf("ratio: %s = %.2fx%s\n", name, a / b, note);
    else
        printf("ratio: %s = n/a (the baseline measured 0)\n", name);
}

bool bench_pipelines_report(void)
{
    int runs = env_int("OJ_BENCH_PIPELINE_RUNS", PIPE_RUNS);
    int seconds = env_int("OJ_BENCH_PIPELINE_SECONDS", PIPE_SECONDS);
    /* The agent, next to oj as make installs it (sessions find it on PATH). */
    const char *bin = getenv("OJ_BIN");
    char oj[PATH_MAX], agent[PATH_MAX + 32];
    if (realpath(bin && *bin ? bin : "bin/oj", oj) == NULL)
        return bench_fail(NULL, "OJ_BIN", strerror(errno));
    *strrchr(oj, '/') = '\0';
    snprintf(agent, sizeof agent, "%s/oj-fake-agent", oj);
    if (access(agent, X_OK) != 0)
        return bench_fail(NULL, "no oj-fake-agent next to oj (make installs it)", agent);

    double *v = calloc((size_t)runs * 6, sizeof *v);
    double *oj_first = v, *oj_echo = v + runs, *oj_ret = v + 2 * runs;
    double *b_first = v + 3 * runs, *b_echo = v + 4 * runs, *b_ret = v + 5 * runs;
    struct usage up = {0}, us = {0};
    bool ok = v && bench_oj_run(runs, oj_first, oj_echo, oj_ret) &&
              bench_bare(agent, runs, b_first, b_echo, b_ret) &&
              bench_idle_sessions(seconds, &us) && bench_idle_pipelines(seconds, &up);
    if (!ok) {
        fprintf(stderr, "oj-bench: the pipeline figures could not be measured\n");
        free(v);
        return false;
    }
    struct pct of = percentiles(oj_first, runs), oe = percentiles(oj_echo, runs),
               orr = percentiles(oj_ret, runs), bf = percentiles(b_first, runs),
               be = percentiles(b_echo, runs), br = percentiles(b_ret, runs);
    free(v);

    printf("\nPipelines\n");
    printf("  start latency: a runbook whose first phase is oj-fake-agent with a prompt; each\n"
           "  pipeline cancelled before the next (so each starts a fresh tmux server); %d\n"
           "  warm-up runs each; lines seen through inotify on the session log\n",
           PIPE_WARMUP);
    line("`oj run` -> agent's first line in its log", runs, of);
    line("`oj run` -> its answer to the prompt", runs, oe);
    line("`oj run` returns", runs, orr);
    line("bare tmux (fresh server, new-session + pipe-pane) -> first line", runs, bf);
    line("bare tmux + send-keys of the prompt -> the answer", runs, be);
    line("bare tmux calls return", runs, br);
    usage_line("10 pipelines, agents idle,", &up);
    usage_line("10 plain sessions of the same agent", &us);
    ratio("oj-run-first-line/bare-tmux", of.p50, bf.p50, " (p50)");
    ratio("oj-run-answer/bare-tmux", oe.p50, be.p50, " (p50)");
    ratio("daemon-cpu 10-pipelines/10-sessions", up.cpu, us.cpu, "");
    ratio("daemon-rss 10-pipelines/10-sessions", up.rss_mib, us.rss_mib, "");
    return true;
}
