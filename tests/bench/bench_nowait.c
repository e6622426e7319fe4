/* bench_nowait.c — "requests blocked by one slow git, tmux or restore"
 * (issue 14; docs/performance.md, "The engine never waits").
 *
 * One client calls Status through the generated stubs, back to back, and
 * each round trip is timed, on one daemon in one run, while one slow
 * operation runs:
 *
 *   git      `oj workspace cleanup --stale` whose `git worktree remove` takes
 *            SLOW_MS (a `git` first on the daemon's PATH sleeps, then runs
 *            the real one);
 *   tmux     `oj session capture` whose `tmux capture-pane` takes SLOW_MS
 *            (the same, for tmux);
 *   restore  `oj maintenance restore-snapshot --latest` of a snapshot of
 *            RESTORE_LOCKS locks (a second or more of loading and writing);
 *   snapshot `oj maintenance snapshot` of the same state (not in the issue's
 *            figure: the other long store operation, done the same way);
 *   reads    16 MiB ranges of a session's log read back to back for SLOW_MS
 *            by a second client (what capture --follow's catch-up and the
 *            dashboard's terminal ask for; read off the state since
 *            engine_work.h oj_engine_read);
 *   busy     no oj at all: a shell busy loop at nice 10 (the priority of the
 *            daemon's store work) for 1.5 s, a second floor for the restore
 *            and the snapshot: what a background job that needs one of the
 *            two cores costs Status on this machine, whoever runs it.
 *
 * The floor is the same client with nothing slow running, measured for
 * SLOW_MS right before each operation (so the machine's load, which other
 * work on it changes, is the same for both); its samples are pooled. The
 * figure is p99 of Status while the operation runs ÷ p99 of the floor (goal:
 * unchanged); the max is the longest a Status waited. A daemon whose engine
 * ran these itself answered no Status until they were done: its max is the
 * operation's duration and its p99 is too once the operation is longer than
 * 1% of the calls. Run it against an older oj (OJ_BIN) to see that. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "bench.h"
#include "clock.h"
#include "paths.h"
#include "rpc_client.h"
#include "state.h"
#include "wal.h"

#define SLOW_MS 2000         /* the slow git or tmux command; each floor window */
#define ROUNDS 3             /* each operation, each after a floor window */
#define RESTORE_LOCKS 200000 /* the restored snapshot's size */
#define MAX_SAMPLES 4000000  /* per figure: a Status takes more than 5 us */

/* A figure's samples, pooled over the rounds. */
struct figure {
    const char *name;
    double *v; /* microseconds */
    int n;
    double p50, p99, max;
    double secs; /* how long the slow operation ran, the longest round */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarize(struct figure *f)
{
    qsort(f->v, (size_t)f->n, sizeof *f->v, cmp_double);
    f->p50 = f->n ? f->v[f->n / 2] : 0;
    f->p99 = f->n ? f->v[(int)((long)f->n * 99 / 100)] : 0;
    f->max = f->n ? f->v[f->n - 1] : 0;
}

/* One Status round trip in microseconds; -1 when it failed. */
static double status_us(struct oj_client *c)
{
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    Oj__StatusResponse *resp;
    int64_t t0 = oj_mono_ns();
    int st = OJ_RPC(c, oj__control__status, &req, &resp);
    int64_t t1 = oj_mono_ns();
    oj_client_free_reply(resp);
    return st == OJ__STATUS_CODE__OK ? (double)(t1 - t0) / 1e3 : -1;
}

static bool sample(struct oj_client *c, struct figure *f)
{
    double us = status_us(c);
    if (us < 0) {
        fprintf(stderr, "oj-bench: nowait: Status failed: %s\n", oj_client_message(c));
        return false;
    }
    if (f->n < MAX_SAMPLES)
        f->v[f->n++] = us;
    return true;
}

/* SLOW_MS of Status back to back with nothing slow running. */
static bool floor_window(struct oj_client *c, struct figure *fl)
{
    int64_t end = oj_mono_ns() + (int64_t)SLOW_MS * 1000000;
    while (oj_mono_ns() < end)
        if (!sample(c, fl))
            return false;
    return true;
}

static bool exists(void *path) { return access(path, F_OK) == 0; }

/* A floor window, then `oj args...` (e NULL: the program args[0]) in the
 * background, and Status back to
 * back from the moment the file `started` exists (the slow part began; NULL:
 * at once) until the command has ended. False when something failed. */
static bool during(struct oj_env *e, struct oj_client *c, char *const args[], const char *started,
                   struct figure *fl, struct figure *f)
{
    if (!floor_window(c, fl))
        return false;
    if (started)
        unlink(started);
    pid_t pid;
    if (e) {
        pid = oj_spawn_bg(e, NULL, NULL, args);
    } else if ((pid = fork()) == 0) { /* not oj: args[0] itself */
        execvp(args[0], args);
        _exit(127);
    }
    int64_t t0 = oj_mono_ns();
    if (started && !wait_until(exists, (void *)started, 20000)) {
        fprintf(stderr, "oj-bench: %s: the slow part never started\n", f->name);
        child_wait_exit(pid, 30000);
        return false;
    }
    int status = 0;
    for (;;) {
        if (!sample(c, f)) {
            child_wait_exit(pid, 30000);
            return false;
        }
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
    }
    double secs = (double)(oj_mono_ns() - t0) / 1e9;
    if (secs > f->secs)
        f->secs = secs;
    int want = e ? 0 : 124; /* timeout(1) ends the busy loop */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
        fprintf(stderr, "oj-bench: %s: the command failed\n", f->name);
        return false;
    }
    return true;
}

/* The `reads` operation: a second client reads the whole log of session
 * `sid` (LOG_BYTES) again and again for SLOW_MS. */
#define LOG_BYTES (16u << 20)
struct reads_job {
    const char *sock, *sid;
    volatile bool failed; /* written by the thread, read after the join */
};

static void *reads_main(void *arg)
{
    struct reads_job *j = arg;
    struct oj_client *c;
    if (oj_client_open(&c, j->sock, 60000) != 0) {
        j->failed = true;
        return NULL;
    }
    int64_t end = oj_mono_ns() + (int64_t)SLOW_MS * 1000000;
    while (oj_mono_ns() < end && !j->failed) {
        Oj__SessionCaptureRequest req = OJ__SESSION_CAPTURE_REQUEST__INIT;
        req.id = (char *)j->sid;
        req.range = true;
        Oj__SessionCaptureResponse *r = NULL;
        j->failed = OJ_RPC(c, oj__control__session_capture, &req, &r) != OJ__STATUS_CODE__OK ||
                    r->data.len != LOG_BYTES;
        oj_client_free_reply(r);
    }
    oj_client_close(c);
    return NULL;
}

/* A floor window, then the reads, with Status back to back until they end. */
static bool during_reads(struct oj_client *c, struct reads_job *j, struct figure *fl,
                         struct figure *f)
{
    if (!floor_window(c, fl))
        return false;
    pthread_t t;
    if (pthread_create(&t, NULL, reads_main, j) != 0)
        return false;
    int64_t t0 = oj_mono_ns();
    bool ok = true;
    while (ok && oj_mono_ns() < t0 + (int64_t)SLOW_MS * 1000000)
        ok = sample(c, f);
    pthread_join(t, NULL);
    double secs = (double)(oj_mono_ns() - t0) / 1e9;
    if (secs > f->secs)
        f->secs = secs;
    if (j->failed)
        fprintf(stderr, "oj-bench: %s: a read failed\n", f->name);
    return ok && !j->failed;
}

/* Makes session sid's log LOG_BYTES of lines, as if it had printed them. */
static bool big_log(const char *dir, const char *sid)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/.oj/logs/sessions/%s.log", dir, sid);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    char line[64];
    for (size_t done = 0; done < LOG_BYTES;) {
        int n = snprintf(line, sizeof line, "output line %zu of a busy agent\r\n", done);
        if ((size_t)n > LOG_BYTES - done)
            n = (int)(LOG_BYTES - done);
        fwrite(line, 1, (size_t)n, f);
        done += (size_t)n;
    }
    return fclose(f) == 0;
}

/* A program `name` first on PATH (for the daemon started next) that, when
 * its arguments hold `word`, touches <dir>/<name>-slow and sleeps SLOW_MS
 * before it runs the real one. */
static bool wrap_slow(const char *dir, const char *name, const char *word)
{
    char real[PATH_MAX] = "", cmd[64];
    snprintf(cmd, sizeof cmd, "command -v %s", name);
    char *find[] = {"sh", "-c", cmd, NULL};
    if (run_prog("/", 10000, real, sizeof real, find) != 0)
        return false;
    real[strcspn(real, "\n")] = '\0';
    char bindir[PATH_MAX], path[PATH_MAX + 64];
    snprintf(bindir, sizeof bindir, "%s/slow-bin", dir);
    mkdir(bindir, 0700);
    snprintf(path, sizeof path, "%s/%s", bindir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    fprintf(f,
            "#!/bin/sh\ncase \" $* \" in *\" %s \"*) : > '%s/%s-slow'; sleep %d.%03d;; esac\n"
            "exec '%s' \"$@\"\n",
            word, dir, name, SLOW_MS / 1000, SLOW_MS % 1000, real);
    fclose(f);
    chmod(path, 0755);
    const char *old = getenv("PATH");
    if (strncmp(old, bindir, strlen(bindir)) != 0) {
        char *np = malloc(strlen(bindir) + strlen(old) + 2);
        sprintf(np, "%s:%s", bindir, old);
        setenv("PATH", np, 1);
        free(np);
    }
    return true;
}

/* A WAL of n locks of distinct names, for a big state. */
static bool big_wal(const char *dir, int n)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    int64_t now = oj_wall_ms();
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "lock-%d", i);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "holder", "bench@host:4242");
        cJSON_AddStringToObject(v, "host", "host");
        cJSON_AddNumberToObject(v, "holder_pid", 4242);
        cJSON_AddNumberToObject(v, "since_ms", (double)now);
        cJSON_AddNumberToObject(v, "timeout_ms", 0);
        cJSON *op = oj_op_put("lock", id, v);
        size_t len;
        char *line = oj_wal_format((uint64_t)i + 1, now, op, &len);
        fwrite(line, 1, len, f);
        free(line);
        cJSON_Delete(op);
    }
    return fclose(f) == 0;
}

static bool ok_cmd(struct oj_env *e, struct oj_out o, const char *what)
{
    bool ok = o.code == 0;
    if (!ok)
        fprintf(stderr, "oj-bench: %s failed (%d): %s%s", what, o.code, o.out, o.err);
    oj_out_free(&o);
    (void)e;
    return ok;
}

static bool pipeline_done(void *arg)
{
    void **a = arg;
    struct oj_out o = OJ((struct oj_env *)a[0], "pipeline", "status", (char *)a[1], "--json");
    bool done = o.code == 0 && strstr(o.out, "\"done\"") != NULL;
    oj_out_free(&o);
    return done;
}

/* Runs the pipeline `quick` to its end: it leaves a worktree that
 * `oj workspace cleanup --stale` removes. */
static bool finished_pipeline(struct oj_env *e)
{
    struct oj_out r = OJ(e, "run", "quick");
    char id[32] = "";
    if (r.code == 0)
        snprintf(id, sizeof id, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    if (!ok_cmd(e, r, "oj run"))
        return false;
    void *arg[] = {e, id};
    return wait_until(pipeline_done, arg, 30000);
}

static void row(const struct figure *f, bool slow)
{
    printf("  %-34s %7d calls  p50 %7.1f us  p99 %7.1f us  max %9.1f us", f->name, f->n, f->p50,
           f->p99, f->max);
    if (slow)
        printf("  (ran %.2f s)", f->secs);
    printf("\n");
}

#define NFIGS 7 /* the floor, then git, tmux, restore, snapshot, a busy loop and log reads */

static bool run(struct oj_env *e, struct figure figs[NFIGS])
{
    if (!big_wal(e->dir, RESTORE_LOCKS) || !wrap_slow(e->dir, "git", "worktree remove") ||
        !wrap_slow(e->dir, "tmux", "capture-pane"))
        return false;
    if (!ok_cmd(e, OJ(e, "daemon", "start"), "oj daemon start"))
        return false;
    if (env_write_runbook(e, "quick",
                          "{\"pipelines\":{\"quick\":{\"inputs\":[],\"phases\":[{\"name\":"
                          "\"step\",\"run\":\"true\"}]}}}") != 0)
        return false;
    struct oj_out s = OJ(e, "session", "start", "--name", "idle", "--", "sleep", "600");
    char sid[32] = "";
    if (s.code == 0)
        sscanf(s.out, "started session %31s", sid);
    if (!ok_cmd(e, s, "oj session start"))
        return false;
    /* A second idle session, whose log holds 16 MiB for the reads. */
    struct oj_out s2 = OJ(e, "session", "start", "--name", "loud", "--", "sleep", "600");
    char sid2[32] = "";
    if (s2.code == 0)
        sscanf(s2.out, "started session %31s", sid2);
    if (!ok_cmd(e, s2, "oj session start") || !big_log(e->dir, sid2))
        return false;
    /* What each restore brings back: the locks and the sessions. */
    if (!ok_cmd(e, OJ(e, "maintenance", "snapshot"), "oj maintenance snapshot"))
        return false;

    char root[PATH_MAX];
    struct oj_paths p;
    if (realpath(e->dir, root) == NULL || oj_paths_init(&p, root) != 0)
        return false;
    struct oj_client *c;
    if (oj_client_open(&c, p.sock_path, 60000) != 0)
        return false;
    char git_mark[PATH_MAX + 16], tmux_mark[PATH_MAX + 16];
    snprintf(git_mark, sizeof git_mark, "%s/git-slow", e->dir);
    snprintf(tmux_mark, sizeof tmux_mark, "%s/tmux-slow", e->dir);
    char *cleanup[] = {"workspace", "cleanup", "--stale", NULL};
    char *capture[] = {"session", "capture", sid, NULL};
    char *restore_args[] = {"maintenance", "restore-snapshot", "--latest", "--yes", NULL};
    char *snapshot_args[] = {"maintenance", "snapshot", NULL};
    char *busy_args[] = {"nice", "-n", "10", "timeout", "1.5", "sh", "-c", "while :; do :; done",
                         NULL};
    for (int i = 0; i < 500; i++) /* warm-up */
        status_us(c);
    struct reads_job reads = {.sock = p.sock_path, .sid = sid2};
    bool ok = true;
    for (int r = 0; r < ROUNDS && ok; r++)
        ok = finished_pipeline(e) && during(e, c, cleanup, git_mark, &figs[0], &figs[1]) &&
             during(e, c, capture, tmux_mark, &figs[0], &figs[2]) &&
             during(e, c, restore_args, NULL, &figs[0], &figs[3]) &&
             during(e, c, snapshot_args, NULL, &figs[0], &figs[4]) &&
             during(NULL, c, busy_args, NULL, &figs[0], &figs[5]) &&
             during_reads(c, &reads, &figs[0], &figs[6]);
    oj_client_close(c);
    return ok;
}

bool bench_nowait_report(void)
{
    struct figure figs[NFIGS] = {{.name = "nothing slow running (floor)"},
                                 {.name = "a slow git worktree remove"},
                                 {.name = "a slow tmux capture-pane"},
                                 {.name = "a restore of 200,000 locks"},
                                 {.name = "a snapshot of 200,000 locks"},
                                 {.name = "a busy loop at nice 10, 1.5 s"},
                                 {.name = "16 MiB log reads, back to back"}};
    bool ok = true;
    for (int i = 0; i < NFIGS; i++)
        ok = (figs[i].v = malloc(MAX_SAMPLES * sizeof *figs[i].v)) != NULL && ok;
    char *saved_path = strdup(getenv("PATH"));
    struct oj_env e;
    env_setup(&e, true);
    ok = ok && saved_path && run(&e, figs);
    env_teardown(&e);
    if (saved_path)
        setenv("PATH", saved_path, 1);
    free(saved_path);
    for (int i = 0; i < NFIGS; i++) {
        summarize(&figs[i]);
        free(figs[i].v);
    }
    if (!ok)
        return false;
    printf("\nStatus while one slow operation runs (one client, Status back to back, one daemon; "
           "%d rounds, each operation after %.0f s with nothing slow)\n",
           ROUNDS, SLOW_MS / 1000.0);
    for (int i = 0; i < NFIGS; i++)
        row(&figs[i], i > 0);
    printf("\n");
    const char *tags[] = {NULL,       "slow-git",  "slow-tmux", "restore",
                          "snapshot", "busy-loop", "log-reads"};
    for (int i = 1; i < NFIGS; i++)
        printf("ratio: status-p99-during-%s/status-p99 = %.2fx\n", tags[i],
               figs[i].p99 / figs[0].p99);
    /* The restore and the snapshot need a core for their work: against a
     * busy loop in another process at the same priority, what is oj's own. */
    for (int i = 3; i <= 4; i++)
        printf("ratio: status-p99-during-%s/status-p99-during-busy-loop = %.2fx\n", tags[i],
               figs[i].p99 / figs[5].p99);
    /* An engine that waits for the operation keeps one Status waiting as
     * long as the operation runs: 1.00x. */
    double blocked = 0;
    for (int i = 1; i < NFIGS; i++)
        if (figs[i].max / 1e6 / figs[i].secs > blocked)
            blocked = figs[i].max / 1e6 / figs[i].secs;
    printf("ratio: longest-status-wait/slow-op-duration = %.3fx (worst of them)\n", blocked);
    return true;
}
