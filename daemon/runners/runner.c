/* runner.c — see runner.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#include "clock.h"
#include "log.h"
#include "paths.h"
#include "shell.h"
#include "subprocess.h"

extern char **environ;

#define OUTPUT_MAX (256 * 1024) /* output kept per run; the rest is cut */

struct run {
    char *command, *shown, *cwd, *log_path; /* shown: command without the pgid prefix */
    char **env;
    int64_t timeout_ms;
    oj_run_post post;
    void *arg;
    struct oj_run_result res;
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
        r->res.exit_status = 127;
        snprintf(r->res.tail, sizeof r->res.tail, "could not run sh in %.200s: %s", r->cwd,
                 out == NULL ? "out of memory" : oj_spawn_why(errno));
    } else {
        r->res.exit_status = res.exit_status;
        r->res.timed_out = res.timed_out;
        last_line(out, res.out_len, r->res.tail, sizeof r->res.tail);
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
    r->post(r->arg, &r->res);
    free_run(r);
    return NULL;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int oj_run_start(const struct oj_run_spec *spec, oj_run_post post, void *arg)
{
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    char *const *env = spec->env;
    const char *command = spec->command;
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
    r->post = post;
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
    pthread_t t;
    int rc = pthread_create(&t, &attr, run_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free_run(r);
        LOG_ERROR("runner: cannot start a thread for `%s`", command);
        return -1;
    }
    return 0;
}
