/* bench_sessions.c — the sessions figures of `make bench`.
 *
 *   a) follow latency: an agent prints its own wall-clock time (ns) every
 *      50 ms; `oj session capture --follow` runs with its stdout on a pipe
 *      read here, and each line's latency is the time it is read minus the
 *      time in it: tmux -> pipe-pane -> log file -> inotify -> PUB -> SUB ->
 *      the follower's stdout. p50 and p99 over 200 lines.
 *   b) the daemon's CPU time (utime+stime from /proc) with 10 idle sessions
 *      over a minute (OJ_BENCH_IDLE_SECONDS), as a share of one core. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

#define LATENCY_SAMPLES 200

extern char **environ;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool follow_latency(struct oj_env *e, double *p50_ms, double *p99_ms)
{
    struct oj_out s = OJ(e, "session", "start", "--name", "clock", "--", "sh", "-c",
                         "while :; do date +T%s%N; sleep 0.05; done");
    bool ok = s.code == 0;
    oj_out_free(&s);
    if (!ok)
        return false;
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    char *argv[] = {e->oj, "-C", e->dir, "session", "capture", "clock", "--follow", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid;
    if (posix_spawn(&pid, e->oj, &fa, NULL, argv, environ) != 0)
        return false;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);

    int64_t samples[LATENCY_SAMPLES];
    int n = 0, skip = 5; /* the screen and the first lines predate the follower */
    char buf[65536];
    size_t used = 0;
    int64_t deadline = oj_mono_ms() + 60000;
    while (n < LATENCY_SAMPLES && oj_mono_ms() < deadline) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t r = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (r <= 0)
            break;
        int64_t now = wall_ns();
        used += (size_t)r;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            char *t = strchr(line, 'T');
            if (t && t[1] >= '0' && t[1] <= '9') {
                int64_t ts = strtoll(t + 1, NULL, 10);
                if (skip > 0)
                    skip--;
                else if (n < LATENCY_SAMPLES && now > ts)
                    samples[n++] = now - ts;
            }
            line = nl + 1;
        }
        used = strlen(line);
        memmove(buf, line, used);
    }
    kill(pid, SIGINT);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    if (n < LATENCY_SAMPLES / 2)
        return false;
    qsort(samples, (size_t)n, sizeof *samples, cmp_i64);
    *p50_ms = (double)samples[n / 2] / 1e6;
    *p99_ms = (double)samples[(n * 99) / 100] / 1e6;
    return true;
}

static long cpu_ticks(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = read_file(path);
    if (stat == NULL)
        return -1;
    const char *p = strrchr(stat, ')');
    long utime = 0, stime = 0;
    /* Fields after the command: state(3) ... utime(14) stime(15). */
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime);
    free(stat);
    return utime + stime;
}

bool bench_sessions_report(void)
{
    struct oj_env e;
    env_setup(&e, false);
    struct oj_out o = OJ(&e, "daemon", "start");
    bool ok = o.code == 0;
    oj_out_free(&o);
    double p50 = 0, p99 = 0;
    ok = ok && follow_latency(&e, &p50, &p99);
    if (!ok) {
        fprintf(stderr, "oj-bench: follow latency could not be measured\n");
        env_teardown(&e);
        return false;
    }
    struct oj_out k = OJ(&e, "session", "kill", "clock");
    oj_out_free(&k);

    for (int i = 0; i < 10 && ok; i++) {
        char name[16];
        snprintf(name, sizeof name, "idle%d", i);
        struct oj_out s = OJ(&e, "session", "start", "--name", name, "--", "sleep", "100000");
        ok = s.code == 0;
        oj_out_free(&s);
    }
    int seconds = 60;
    const char *env = getenv("OJ_BENCH_IDLE_SECONDS");
    if (env && atoi(env) > 0)
        seconds = atoi(env);
    pid_t daemon = env_daemon_pid(&e);
    long t0 = cpu_ticks(daemon);
    int64_t w0 = oj_mono_ms();
    /* A plain wait is the point here: the daemon is measured doing nothing. */
    struct timespec ts = {seconds, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    long t1 = cpu_ticks(daemon);
    double wall = (double)(oj_mono_ms() - w0) / 1000;
    env_teardown(&e);
    if (!ok || t0 < 0 || t1 < 0)
        return false;
    double cpu = (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK);

    printf("\nSessions\n");
    printf("  follow latency (agent prints -> follower prints), %d lines: p50 %.1f ms, p99 %.1f ms\n",
           LATENCY_SAMPLES, p50, p99);
    printf("  daemon CPU with 10 idle sessions over %.0f s: %.2f s (%.2f%% of one core)\n", wall,
           cpu, 100 * cpu / wall);
    return true;
}
