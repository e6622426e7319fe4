/* notifier.c — see notifier.h. */
#include "notifier.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "event_kind.h"
#include "log.h"
#include "subprocess.h"

extern char **environ;

#define OUTPUT_MAX 4096 /* a run's output kept, for the last line of a failure */

/* One queued event: its own copies. */
struct item {
    uint64_t seq;
    int64_t time_ms;
    char *kind, *pipeline_id, *session_id, *phase, *message;
};

struct oj_notifier {
    char *command, *cwd, *tmp_dir;
    char **kinds;
    size_t n_kinds;
    int64_t timeout_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* an event was queued, or stop */
    pthread_cond_t idle; /* the thread has nothing to run (or ended) */
    struct item *queue;  /* a ring of queue_max */
    size_t queue_max, head, len;
    bool running;        /* the thread runs a command now */
    bool stopping, ended, orphaned; /* orphaned: the thread frees n when it ends */
    uint64_t dropped_spell; /* dropped since the queue last had room */
    struct oj_notifier_counts counts;
};

static char *dup0(const char *s) { return strdup(s ? s : ""); }

static void item_free(struct item *it)
{
    free(it->kind);
    free(it->pipeline_id);
    free(it->session_id);
    free(it->phase);
    free(it->message);
    memset(it, 0, sizeof *it);
}

static void notifier_free_now(struct oj_notifier *n)
{
    for (size_t i = 0; i < n->len; i++)
        item_free(&n->queue[(n->head + i) % n->queue_max]);
    for (size_t i = 0; i < n->n_kinds; i++)
        free(n->kinds[i]);
    free(n->kinds);
    free(n->queue);
    free(n->command);
    free(n->cwd);
    free(n->tmp_dir);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->wake);
    pthread_cond_destroy(&n->idle);
    free(n);
}

/* The event as JSON: the fields of oj.Event as `oj events --json` prints
 * them (proto3 JSON: 64-bit numbers as strings). */
static char *event_json(const struct item *it)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    char seq[32], t[32];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)it->seq);
    snprintf(t, sizeof t, "%lld", (long long)it->time_ms);
    cJSON_AddStringToObject(j, "seq", seq);
    cJSON_AddStringToObject(j, "time_ms", t);
    cJSON_AddStringToObject(j, "kind", it->kind);
    cJSON_AddStringToObject(j, "pipeline_id", it->pipeline_id);
    cJSON_AddStringToObject(j, "session_id", it->session_id);
    cJSON_AddStringToObject(j, "phase", it->phase);
    cJSON_AddStringToObject(j, "message", it->message);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* The daemon's environment with the OJ_EVENT_* entries of extra put over
 * it (NULL-terminated; the strings of extra are borrowed). */
static char **environment(char *const *extra)
{
    size_t n_env = 0, n_extra = 0;
    while (environ[n_env])
        n_env++;
    while (extra[n_extra])
        n_extra++;
    char **env = calloc(n_env + n_extra + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "OJ_EVENT_", 9) != 0) /* ours only, never a stale one */
            env[k++] = environ[i];
    for (size_t j = 0; j < n_extra; j++)
        env[k++] = extra[j];
    return env;
}

/* The last non-empty line of out. */
static const char *last_line(char *out, size_t len)
{
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    char *nl = strrchr(out, '\n');
    return nl ? nl + 1 : out;
}

/* Runs the command for one event (the notifier's thread, no lock held).
 * True when it exited 0; a failure is logged. */
static bool run(struct oj_notifier *n, const struct item *it)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/notify-XXXXXX", n->tmp_dir);
    int fd = mkstemp(path);
    char *json = event_json(it);
    size_t jlen = json ? strlen(json) : 0;
    bool ok = fd >= 0 && json && write(fd, json, jlen) == (ssize_t)jlen && write(fd, "\n", 1) == 1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    free(json);
    if (!ok) {
        LOG_WARN("notifier: cannot write %s for event %llu (%s): %s; not notified", path,
                 (unsigned long long)it->seq, it->kind, json ? strerror(e) : "out of memory");
        if (fd >= 0)
            unlink(path);
        return false;
    }
    char *v[9] = {0};
    int nv = 0;
    bool oom = false;
#define ENV(fmt, ...)                                                                              \
    do {                                                                                           \
        if (asprintf(&v[nv], fmt, __VA_ARGS__) < 0)                                                \
            v[nv] = NULL, oom = true;                                                              \
        else                                                                                       \
            nv++;                                                                                  \
    } while (0)
    ENV("OJ_EVENT_KIND=%s", it->kind);
    ENV("OJ_EVENT_SEQ=%llu", (unsigned long long)it->seq);
    ENV("OJ_EVENT_TIME_MS=%lld", (long long)it->time_ms);
    ENV("OJ_EVENT_PIPELINE=%s", it->pipeline_id);
    ENV("OJ_EVENT_SESSION=%s", it->session_id);
    ENV("OJ_EVENT_PHASE=%s", it->phase);
    ENV("OJ_EVENT_MESSAGE=%s", it->message);
    ENV("OJ_EVENT_FILE=%s", path);
#undef ENV
    /* stdin is the event's JSON: oj_run_env gives its children /dev/null. */
    char *command = NULL, **env = oom ? NULL : environment(v);
    if (env && asprintf(&command, "exec <\"$OJ_EVENT_FILE\"\n%s", n->command) < 0)
        command = NULL;
    char out[OUTPUT_MAX] = "";
    struct oj_proc_result res = {0};
    int timeout = n->timeout_ms > 0 && n->timeout_ms < INT32_MAX ? (int)n->timeout_ms : 10000;
    char *argv[] = {"sh", "-c", command, NULL};
    int rc = command ? oj_run_env(argv, n->cwd, env, timeout, out, sizeof out, 1, &res) : -1;
    e = errno;
    bool good = rc == 0 && res.exit_status == 0 && !res.timed_out;
    if (command == NULL)
        LOG_WARN("notifier: out of memory; event %llu (%s) not notified",
                 (unsigned long long)it->seq, it->kind);
    else if (rc != 0)
        LOG_WARN("notifier: cannot run sh for event %llu (%s): %s",
                 (unsigned long long)it->seq, it->kind, oj_spawn_why(e));
    else if (res.timed_out)
        LOG_WARN("notifier: the command for event %llu (%s) timed out after %lld ms and was "
                 "killed%s%.300s", (unsigned long long)it->seq, it->kind,
                 (long long)n->timeout_ms, res.out_len ? ": " : "", last_line(out, res.out_len));
    else if (res.exit_status != 0)
        LOG_WARN("notifier: the command for event %llu (%s) exited with status %d%s%.300s",
                 (unsigned long long)it->seq, it->kind, res.exit_status,
                 res.out_len ? ": " : "", last_line(out, res.out_len));
    else
        LOG_DEBUG("notifier: notified event %llu (%s)", (unsigned long long)it->seq, it->kind);
    unlink(path);
    free(command);
    free(env);
    for (int i = 0; i < nv; i++)
        free(v[i]);
    return good;
}

static void *notifier_main(void *arg)
{
    struct oj_notifier *n = arg;
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (n->len == 0 && !n->stopping) {
            pthread_cond_broadcast(&n->idle);
            pthread_cond_wait(&n->wake, &n->mu);
        }
        if (n->stopping)
            break;
        struct item it = n->queue[n->head];
        memset(&n->queue[n->head], 0, sizeof it);
        n->head = (n->head + 1) % n->queue_max;
        n->len--;
        if (n->dropped_spell > 0 && n->len < n->queue_max / 2) {
            LOG_WARN("notifier: the queue has room again; %llu event(s) were dropped while it was "
                     "full (%llu since the start)", (unsigned long long)n->dropped_spell,
                     (unsigned long long)n->counts.dropped);
            n->dropped_spell = 0;
        }
        n->running = true;
        pthread_mutex_unlock(&n->mu);
        bool good = run(n, &it);
        item_free(&it);
        pthread_mutex_lock(&n->mu);
        n->running = false;
        n->counts.run++;
        n->counts.failed += !good;
    }
    n->ended = true;
    pthread_cond_broadcast(&n->idle);
    bool orphaned = n->orphaned;
    pthread_mutex_unlock(&n->mu);
    if (orphaned)
        notifier_free_now(n);
    return NULL;
}

struct oj_notifier *oj_notifier_new(const struct oj_notifier_opts *o)
{
    struct oj_notifier *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->wake, NULL);
    pthread_cond_init(&n->idle, NULL);
    n->queue_max = o->queue_max ? o->queue_max : OJ_NOTIFIER_QUEUE_MAX;
    n->queue = calloc(n->queue_max, sizeof *n->queue);
    n->kinds = calloc(o->n_kinds + 1, sizeof *n->kinds);
    n->command = dup0(o->command);
    n->cwd = dup0(o->cwd);
    n->tmp_dir = dup0(o->tmp_dir);
    n->timeout_ms = o->timeout_ms;
    bool oom = !n->queue || !n->kinds || !n->command || !n->cwd || !n->tmp_dir;
    for (size_t i = 0; !oom && i < o->n_kinds; i++, n->n_kinds++)
        oom = (n->kinds[i] = strdup(o->kinds[i])) == NULL;
    if (oom || (errno = pthread_create(&n->thread, NULL, notifier_main, n)) != 0) {
        if (oom)
            errno = ENOMEM;
        int e = errno;
        notifier_free_now(n);
        errno = e;
        return NULL;
    }
    return n;
}

void oj_notifier_event(struct oj_notifier *n, const struct oj_notifier_event *e)
{
    if (n == NULL || e->kind == NULL || n->n_kinds == 0 ||
        !oj_event_kind_any((const char *const *)n->kinds, n->n_kinds, e->kind))
        return;
    pthread_mutex_lock(&n->mu);
    if (n->stopping) {
        pthread_mutex_unlock(&n->mu);
        return;
    }
    if (n->len == n->queue_max) {
        n->counts.dropped++;
        if (n->dropped_spell++ == 0)
            LOG_WARN("notifier: %zu events wait for the notifier command; dropping event %llu "
                     "(%s) and any that follow until there is room (counted)", n->queue_max,
                     (unsigned long long)e->seq, e->kind);
        pthread_mutex_unlock(&n->mu);
        return;
    }
    struct item *it = &n->queue[(n->head + n->len) % n->queue_max];
    it->seq = e->seq;
    it->time_ms = e->time_ms;
    it->kind = dup0(e->kind);
    it->pipeline_id = dup0(e->pipeline_id);
    it->session_id = dup0(e->session_id);
    it->phase = dup0(e->phase);
    it->message = dup0(e->message);
    if (!it->kind || !it->pipeline_id || !it->session_id || !it->phase || !it->message) {
        item_free(it);
        n->counts.dropped++;
        LOG_WARN("notifier: out of memory; event %llu (%s) dropped", (unsigned long long)e->seq,
                 e->kind);
    } else {
        n->len++;
        pthread_cond_signal(&n->wake);
    }
    pthread_mutex_unlock(&n->mu);
}

struct oj_notifier_counts oj_notifier_counts(struct oj_notifier *n)
{
    pthread_mutex_lock(&n->mu);
    struct oj_notifier_counts c = n->counts;
    pthread_mutex_unlock(&n->mu);
    return c;
}

void oj_notifier_free(struct oj_notifier *n, int64_t wait_ms)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    if (n->len > 0) {
        n->counts.dropped += n->len;
        LOG_WARN("notifier: the daemon stops; %zu queued event(s) are not notified", n->len);
    }
    pthread_cond_broadcast(&n->wake);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!n->ended && pthread_cond_timedwait(&n->idle, &n->mu, &until) == 0) {
    }
    if (!n->ended) {
        LOG_WARN("notifier: its command still runs at the stop; left to its time limit");
        n->orphaned = true;
        pthread_detach(n->thread);
        pthread_mutex_unlock(&n->mu);
        return;
    }
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    notifier_free_now(n);
}
