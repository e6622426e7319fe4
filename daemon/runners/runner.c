/* runner.c — shell steps and job commands, each on a thread of its own, so
 * the engine never waits for one. The command runs as `sh -c` through
 * oj_run_env (its own process group, killed at the time limit); its output
 * is appended to a log; the result goes back to the engine as a posted job. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "paths.h"
#include "subprocess.h"
#include "tmux.h" /* oj_shell_quote */

extern char **environ;

#define OUTPUT_MAX (256 * 1024) /* output kept per run; the rest is cut */

struct run {
    struct oj_daemon *d;
    char *command, *shown, *cwd, *log_path; /* shown: command without the pgid prefix */
    char **env;
    int64_t timeout_ms;
    oj_runner_done finished;
    void *arg;
    /* result */
    int exit_status;
    bool timed_out;
    char tail[512];
};

static void free_run(struct run *r)
{
    free(r->command);
    free(r->shown);
    free(r->cwd);
    free(r->log_path);
    for (char **e = r->env; e && *e; e++)
        free(*e);
    free(r->env);
    free(r);
}

static void deliver(struct oj_daemon *d, void *arg)
{
    struct run *r = arg;
    r->finished(d, r->arg, r->exit_status, r->timed_out, r->tail);
    free_run(r);
    atomic_fetch_sub(&d->runners_active, 1);
}

/* The last non-empty line of out, into tail. */
static void last_line(const char *out, size_t len, char *tail, size_t cap)
{
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start > 0 && out[start - 1] != '\n')
        start--;
    size_t n = len - start < cap - 1 ? len - start : cap - 1;
    memcpy(tail, out + start, n);
    tail[n] = '\0';
}

static void *run_main(void *arg)
{
    struct run *r = arg;
    char *out = malloc(OUTPUT_MAX);
    char *argv[] = {"sh", "-c", r->command, NULL};
    struct oj_proc_result res = {0};
    int64_t t0 = oj_mono_ms();
    int timeout = r->timeout_ms > 0 && r->timeout_ms < INT32_MAX ? (int)r->timeout_ms : INT32_MAX;
    if (out == NULL ||
        oj_run_env(argv, r->cwd, r->env, timeout, out, OUTPUT_MAX, 1, &res) != 0) {
        r->exit_status = 127;
        snprintf(r->tail, sizeof r->tail, "could not run sh in %.200s: %s", r->cwd,
                 out == NULL ? "out of memory" : oj_spawn_why(errno));
    } else {
        r->exit_status = res.exit_status;
        r->timed_out = res.timed_out;
        last_line(out, res.out_len, r->tail, sizeof r->tail);
        if (r->log_path) {
            int fd = open(r->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) {
                dprintf(fd, "$ %s\n", r->shown);
                if (write(fd, out, res.out_len) < 0) { /* best effort: the log is for reading */
                }
                dprintf(fd, "[exit %d%s after %lld ms]\n", res.exit_status,
                        res.timed_out ? ", timed out" : "", (long long)(oj_mono_ms() - t0));
                close(fd);
            }
        }
    }
    free(out);
    struct oj_daemon *d = r->d;
    if (!oj_engine_post(d, deliver, r)) {
        /* The daemon stopped without us (past its --timeout); the next start
         * treats the step as cut off. */
        free(r->arg);
        free_run(r);
        atomic_fetch_sub(&d->runners_active, 1);
    }
    return NULL;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int oj_runner_start(struct oj_daemon *d, const struct oj_run_spec *spec, oj_runner_done finished,
                    void *arg)
{
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    char *const *env = spec->env;
    const char *command = spec->command;
    r->d = d;
    r->shown = strdup(command);
    if (spec->pgid_file) {
        char *q = oj_shell_quote(spec->pgid_file);
        size_t len = strlen(q) + strlen(command) + 16;
        r->command = malloc(len);
        if (r->command)
            snprintf(r->command, len, "echo $$ > %s; %s", q, command);
        free(q);
    } else {
        r->command = strdup(command);
    }
    r->cwd = dup_or_null(spec->cwd);
    r->log_path = dup_or_null(spec->log_path);
    r->timeout_ms = spec->timeout_ms;
    r->finished = finished;
    r->arg = arg;
    /* The daemon's environment, with `env`'s entries put over it. */
    size_t n_extra = 0, n_base = 0;
    while (env && env[n_extra])
        n_extra++;
    while (environ[n_base])
        n_base++;
    r->env = calloc(n_base + n_extra + 2, sizeof *r->env);
    size_t k = 0;
    for (size_t i = 0; r->env && i < n_base; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < n_extra && !overridden; j++)
            overridden = strncmp(env[j], environ[i], klen) == 0;
        if (!overridden)
            r->env[k++] = strdup(environ[i]);
    }
    for (size_t j = 0; r->env && j < n_extra; j++)
        r->env[k++] = strdup(env[j]);
    /* oj's own directory first on PATH, as for sessions: `oj done`, `oj
     * workspace cleanup` and the bundled oj-fake-agent work in any step. */
    char self[PATH_MAX];
    oj_self_dir(self, sizeof self);
    const char *path = getenv("PATH");
    size_t plen = strlen(self) + (path ? strlen(path) : 16) + 8;
    char *pe = malloc(plen);
    bool replaced = false;
    if (pe)
        snprintf(pe, plen, "PATH=%s:%s", self, path ? path : "/usr/bin:/bin");
    for (size_t i = 0; pe && r->env && i < k && !replaced; i++)
        if (strncmp(r->env[i], "PATH=", 5) == 0) {
            free(r->env[i]);
            r->env[i] = pe;
            replaced = true;
        }
    if (pe && !replaced && r->env)
        r->env[k++] = pe;
    else if (!replaced)
        free(pe);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&d->runners_active, 1);
    pthread_t t;
    int rc = pthread_create(&t, &attr, run_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_fetch_sub(&d->runners_active, 1);
        free_run(r);
        LOG_ERROR("runner: cannot start a thread for `%s`", command);
        return -1;
    }
    return 0;
}

int oj_runners_wait(struct oj_daemon *d, int64_t deadline_mono_ms)
{
    /* A poll: runners are few and a stop waits at most its --timeout. */
    while (atomic_load(&d->runners_active) > 0 && oj_mono_ms() < deadline_mono_ms)
        usleep(20 * 1000);
    return atomic_load(&d->runners_active);
}
