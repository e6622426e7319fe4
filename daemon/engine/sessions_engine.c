/* sessions_engine.c — the session records, starting and ending sessions,
 * typing into them (see sessions_engine.h). Every tmux command goes to the
 * tmux queue (engine_work.h); what it answers comes back to the engine. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "engine_work.h"
#include "log.h"
#include "new_id.h"
#include "paths.h"
#include "publisher.h"
#include "resolve.h"
#include "session_live.h"
#include "sessions_engine.h"
#include "shell.h"
#include "store.h"
#include "task_env.h"
#include "tmux.h"
#include "wire.pb-c.h"

static const struct oj_state *state_of(struct oj_daemon *d) { return oj_store_state(d->store); }

/* ---- liveness, in memory only ------------------------------------------------------ */

struct oj_session_live *oj_session_live_of(struct oj_daemon *d, const char *id)
{
    struct oj_session_live *l = oj_hmap_get(&d->session_live, id);
    if (l)
        return l;
    l = calloc(1, sizeof *l);
    bool oom = l == NULL;
    if (l)
        oj_hmap_put(&d->session_live, id, l, &oom);
    if (oom) {
        free(l);
        static struct oj_session_live scratch;
        memset(&scratch, 0, sizeof scratch);
        return &scratch;
    }
    return l;
}

void oj_sessions_forget(struct oj_daemon *d)
{
    const char *k;
    void *v;
    for (size_t it = 0; oj_hmap_next(&d->session_live, &it, &k, &v);)
        oj_session_live_free(v);
    oj_hmap_free(&d->session_live);
}

void oj_session_forget(struct oj_daemon *d, const char *id)
{
    oj_session_live_free(oj_hmap_del(&d->session_live, id));
    oj_watcher_forget(d, id);
}

void oj_session_rearm(struct oj_daemon *d, const char *id)
{
    struct oj_session_live *l = oj_session_live_of(d, id);
    l->quiet_from_ms = oj_wall_ms();
    l->last_stuck_ms = 0;
}

/* ---- the records --------------------------------------------------------------------- */

int oj_session_get(struct oj_daemon *d, const char *id, struct oj_session *out)
{
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (v == NULL) {
        oj_session_from_json(NULL, out); /* an empty record */
        return -1;
    }
    if (oj_session_from_json(v, out) != 0)
        LOG_ERROR("sessions: out of memory reading %s", id);
    return 0;
}

bool oj_session_live(struct oj_daemon *d, const char *id)
{
    const cJSON *v = id && id[0] ? oj_state_get(state_of(d), "session", id) : NULL;
    return v != NULL && oj_session_active(v);
}

struct each_ctx {
    void (*fn)(const char *id, const struct oj_session *s, void *arg);
    void *arg;
};

static void each_one(const char *id, const cJSON *v, void *arg)
{
    struct each_ctx *c = arg;
    struct oj_session s;
    if (oj_session_from_json(v, &s) != 0)
        LOG_ERROR("sessions: out of memory reading %s", id);
    c->fn(id, &s, c->arg);
    oj_session_clear(&s);
}

void oj_sessions_each(struct oj_daemon *d,
                      void (*fn)(const char *id, const struct oj_session *s, void *arg),
                      void *arg)
{
    struct each_ctx c = {.fn = fn, .arg = arg};
    oj_state_each(state_of(d), "session", each_one, &c);
}

void oj_sessions_each_live(struct oj_daemon *d,
                           void (*fn)(const char *id, const struct oj_session *s, void *arg),
                           void *arg)
{
    struct each_ctx c = {.fn = fn, .arg = arg};
    oj_state_each_where(state_of(d), "session", oj_session_active, each_one, &c);
}

void oj_sessions_index(struct oj_daemon *d)
{
    if (oj_store_index(d->store, "session", oj_session_active) != 0)
        LOG_WARN("sessions: out of memory for the index of live sessions; the tick looks at "
                 "every session");
}

size_t oj_sessions_count(struct oj_daemon *d)
{
    return oj_state_count(state_of(d), "session");
}

unsigned oj_sessions_active(struct oj_daemon *d)
{
    return (unsigned)oj_state_count_where(state_of(d), "session", oj_session_active);
}

static void offer(const char *id, const struct oj_session *s, void *arg)
{
    oj_resolve_offer(arg, id, s->name, s->started_at_ms);
}

int oj_session_find(struct oj_daemon *d, const char *query, const char **id, char *why,
                    size_t whylen)
{
    *id = NULL;
    if (query == NULL || query[0] == '\0') {
        snprintf(why, whylen, "which session? give its id or name");
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    struct oj_resolve m = {.query = query};
    oj_sessions_each(d, offer, &m); /* m keeps ids only: the state's keys */
    switch (oj_resolve_explain(&m, "session", "oj session list", id, why, whylen)) {
    case OJ_RESOLVE_FOUND:
        return OJ__STATUS_CODE__OK;
    case OJ_RESOLVE_AMBIGUOUS:
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    case OJ_RESOLVE_NONE:
        break;
    }
    return OJ__STATUS_CODE__NOT_FOUND;
}

void oj_session_log_stat(const char *log, int64_t *mtime_ms, uint64_t *size)
{
    struct stat st;
    *mtime_ms = 0;
    *size = 0;
    if (stat(log, &st) != 0)
        return;
    *mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    *size = (uint64_t)st.st_size;
}

static int64_t last_output(const struct oj_session *s)
{
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(s->log, &mtime, &size);
    return oj_session_last_output(s, mtime);
}

int64_t oj_session_last_output_ms(struct oj_daemon *d, const char *id)
{
    struct oj_session s;
    int64_t last = oj_session_get(d, id, &s) == 0 ? last_output(&s) : 0;
    oj_session_clear(&s);
    return last;
}

int64_t oj_session_quiet_ms(const struct oj_session *s, int64_t now_ms)
{
    return oj_session_idle_ms(s, last_output(s), now_ms);
}

int oj_session_save(struct oj_daemon *d, const char *id, const struct oj_session *s, char *err,
                    size_t errlen)
{
    if (s->state == OJ_SESSION_DEAD)
        d->sessions_reaped = false; /* the tick looks for its pane (session_tick.c) */
    cJSON *v = oj_session_to_json(s);
    if (v == NULL)
        snprintf(err, errlen, "out of memory");
    if (v == NULL || oj_store_commit(d->store, oj_op_put("session", id, v), err, errlen) == 0) {
        LOG_ERROR("sessions: cannot record session %s: %s", id, err);
        return -1;
    }
    return 0;
}

/* ---- starting ------------------------------------------------------------------------ */

static void file_of(struct oj_daemon *d, const char *id, const char *ext, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.%s", d->paths.session_log_dir, id, ext);
}

/* Whether a new session may not have id: a record has it, or a log or
 * status file of an archived session (whose files stay) or of a record a
 * restore rolled back. */
static bool id_taken(const char *id, void *arg)
{
    struct oj_daemon *d = arg;
    char log[PATH_MAX + 32], status[PATH_MAX + 32];
    file_of(d, id, "log", log, sizeof log);
    file_of(d, id, "status", status, sizeof status);
    return oj_state_get(state_of(d), "session", id) != NULL || access(log, F_OK) == 0 ||
           access(status, F_OK) == 0;
}

/* The session's environment, built once for tmux and for its command line:
 * the task's variables (task_env.h), its id, oj's own directory first on
 * PATH, then the caller's extra entries. */
struct session_env {
    struct oj_task_env task;
    char path[PATH_MAX + 4200], id[64];
    char *env[32];
};

static void session_env(struct session_env *e, struct oj_daemon *d, const struct oj_spawn *sp,
                        const char *id)
{
    char bindir[PATH_MAX];
    oj_self_dir(bindir, sizeof bindir);
    const char *path = getenv("PATH");
    snprintf(e->path, sizeof e->path, "PATH=%s:%s", bindir, path ? path : "/usr/bin:/bin");
    oj_task_env_init(&e->task, sp->pipeline_id ? sp->pipeline_id : sp->name, sp->cwd, sp->phase,
                     d->paths.root);
    snprintf(e->id, sizeof e->id, "OJ_SESSION_ID=%s", id);
    int n = 0;
    e->env[n++] = e->path;
    for (int i = 0; i < OJ_TASK_ENV_N; i++)
        e->env[n++] = e->task.env[i];
    e->env[n++] = e->id;
    for (int i = 0; sp->env && sp->env[i] && n < 31; i++)
        e->env[n++] = sp->env[i];
    e->env[n] = NULL;
}

/* The command as the pane runs it. Its exit status also goes to
 * <id>.status: tmux does not always record a pane's status (a process that
 * ends before it looks, a loaded server), and the status file is what the
 * tick falls back on. PATH is set again in the command itself: tmux gives a
 * new pane the PATH of the tmux client that created it (ours), over
 * new-session -e. The wrapper ends with the command's status without ending
 * the shell, so that oj_tmux_new's wait for the last output runs. */
static char *wrap(const char *command, const char *status_path, const char *path)
{
    char *qstatus = oj_shell_quote(status_path);
    char *qpath = oj_shell_quote(path);
    size_t len = strlen(command) + strlen(qstatus) + strlen(qpath) + 128;
    char *wrapped = malloc(len);
    if (wrapped)
        snprintf(wrapped, len,
                 "PATH=%s; export PATH; %s\noj_status=$?; printf %%s \"$oj_status\" > %s; (exit "
                 "\"$oj_status\")",
                 qpath, command, qstatus);
    free(qstatus);
    free(qpath);
    return wrapped;
}

/* A session being started: what `tmux new-session` needs, copied, for the
 * tmux queue (engine_work.h), and whom to tell. */
struct spawn_job {
    struct session_env env; /* its pointers point into itself: never copied */
    char *extra[32];        /* the caller's env entries, copied */
    char sock[PATH_MAX], id[16], cwd[PATH_MAX], log[PATH_MAX + 32], status_path[PATH_MAX + 32];
    char name[80], pipeline_id[32];
    char *wrapped;
    int rc;
    char err[512];
    oj_session_spawned spawned;
    void *arg;
};

static void spawn_job_free(struct spawn_job *j)
{
    for (size_t i = 0; i < sizeof j->extra / sizeof *j->extra; i++)
        free(j->extra[i]);
    free(j->wrapped);
    free(j);
}

/* The tmux queue's thread. */
static void spawn_work(void *arg)
{
    struct spawn_job *j = arg;
    j->rc = oj_tmux_new(j->sock, j->id, j->cwd, j->env.env, j->wrapped, j->log, j->err,
                        sizeof j->err);
}

/* Engine thread: tmux has answered. */
static void spawn_then(struct oj_daemon *d, void *arg)
{
    struct spawn_job *j = arg;
    if (d == NULL) {
        j->spawned(NULL, j->arg, j->id, -1, "the daemon stopped");
        spawn_job_free(j);
        return;
    }
    const char *id = j->id;
    struct oj_session s;
    bool starting = oj_session_get(d, id, &s) == 0 && s.state == OJ_SESSION_STARTING;
    if (j->rc != 0) {
        /* The caller reports the failure; a session that never ran leaves no
         * record, log or status file behind (daemon.log keeps the why). */
        LOG_ERROR("sessions: cannot start %s: %s", id, j->err);
        char derr[256];
        if (starting &&
            oj_store_commit(d->store, oj_op_del("session", id), derr, sizeof derr) == 0)
            LOG_ERROR("sessions: cannot drop the record of %s: %s", id, derr);
        unlink(j->log);
        unlink(j->status_path);
        oj_session_live_free(oj_hmap_del(&d->session_live, id));
        j->spawned(d, j->arg, id, -1, j->err);
    } else if (!starting) {
        /* Killed while it started (its kill came after the start on the tmux
         * queue): the record says so already. */
        j->spawned(d, j->arg, id, 0, "");
    } else {
        s.state = OJ_SESSION_RUNNING;
        char serr[256];
        if (oj_session_save(d, id, &s, serr, sizeof serr) != 0) {
            char why[300];
            snprintf(why, sizeof why, "cannot record session %s", id);
            j->spawned(d, j->arg, id, -1, why);
        } else {
            LOG_INFO("sessions: started %s (%s) in %s", id, j->name, j->cwd);
            oj_pub_event(d->publisher, "session.started", id, j->pipeline_id, j->name);
            j->spawned(d, j->arg, id, 0, "");
        }
    }
    oj_session_clear(&s);
    spawn_job_free(j);
}

int oj_session_spawn(struct oj_daemon *d, const struct oj_spawn *sp, char *id, size_t idlen,
                     oj_session_spawned spawned, void *arg, char *err, size_t errlen)
{
    struct spawn_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        snprintf(err, errlen, "daemon out of memory");
        return -1;
    }
    oj_new_id('s', id, idlen, id_taken, d);
    snprintf(j->id, sizeof j->id, "%s", id);
    file_of(d, id, "log", j->log, sizeof j->log);
    file_of(d, id, "status", j->status_path, sizeof j->status_path);
    struct oj_session s;
    if (oj_session_init(&s, sp->name, sp->cwd, sp->command, j->log, sp->pipeline_id, sp->phase,
                        sp->idle_timeout_ms, oj_wall_ms()) != 0) {
        snprintf(err, errlen, "daemon out of memory");
        free(j);
        return -1;
    }
    if (sp->needs_input && sp->needs_input[0] &&
        (s.needs_input = strdup(sp->needs_input)) == NULL) {
        oj_session_clear(&s);
        snprintf(err, errlen, "daemon out of memory");
        free(j);
        return -1;
    }
    int rc = oj_session_save(d, id, &s, err, errlen);
    oj_session_clear(&s);
    if (rc != 0) {
        free(j);
        return -1;
    }
    struct oj_spawn copy = *sp;
    bool oom = false;
    for (size_t i = 0; sp->env && sp->env[i] && i + 1 < sizeof j->extra / sizeof *j->extra; i++)
        oom |= (j->extra[i] = strdup(sp->env[i])) == NULL;
    copy.env = j->extra;
    session_env(&j->env, d, &copy, id);
    j->wrapped = wrap(sp->command, j->status_path, j->env.path + 5);
    snprintf(j->sock, sizeof j->sock, "%s", d->paths.tmux_sock_path);
    snprintf(j->cwd, sizeof j->cwd, "%s", sp->cwd);
    snprintf(j->name, sizeof j->name, "%s", sp->name);
    snprintf(j->pipeline_id, sizeof j->pipeline_id, "%s", sp->pipeline_id ? sp->pipeline_id : "");
    j->spawned = spawned;
    j->arg = arg;
    uint64_t ticket = oom || j->wrapped == NULL
                          ? 0
                          : oj_engine_work(d, OJ_LANE_TMUX, 0, spawn_work, spawn_then, j);
    if (ticket == 0) {
        snprintf(err, errlen, "daemon out of memory");
        char derr[256];
        if (oj_store_commit(d->store, oj_op_del("session", id), derr, sizeof derr) == 0)
            LOG_ERROR("sessions: cannot drop the record of %s: %s", id, derr);
        spawn_job_free(j);
        return -1;
    }
    /* A tick whose list-panes was handed over before this does not see it. */
    oj_session_live_of(d, id)->spawn_ticket = ticket;
    return 0;
}

/* ---- ending ---------------------------------------------------------------------------- */

/* One tmux command on a session (kill, keys, Ctrl-C), for the tmux queue,
 * and whom to tell. */
enum tmux_op_kind { OP_KILL, OP_TYPE, OP_INTERRUPT };
struct tmux_op {
    enum tmux_op_kind kind;
    char sock[PATH_MAX], id[64];
    char *text;
    bool nudge;
    int rc;
    char err[512];
    oj_session_done done; /* NULL: a failure is only logged */
    void *arg;
};

static void op_work(void *arg)
{
    struct tmux_op *o = arg;
    switch (o->kind) {
    case OP_KILL:
        o->rc = oj_tmux_kill(o->sock, o->id, o->err, sizeof o->err);
        break;
    case OP_TYPE:
        o->rc = oj_tmux_send(o->sock, o->id, o->text, o->err, sizeof o->err);
        break;
    case OP_INTERRUPT:
        o->rc = oj_tmux_interrupt(o->sock, o->id, o->err, sizeof o->err);
        break;
    }
}

static void op_then(struct oj_daemon *d, void *arg)
{
    struct tmux_op *o = arg;
    if (d != NULL) {
        if (o->rc == 0 && o->nudge)
            oj_session_live_of(d, o->id)->last_nudge_ms = oj_wall_ms();
        if (o->rc != 0 && o->done == NULL)
            LOG_WARN("sessions: %s %s: %s", o->kind == OP_KILL ? "kill" : "typing into", o->id,
                     o->err);
    }
    if (o->done)
        o->done(d, o->arg, o->rc, o->err);
    free(o->text);
    free(o);
}

/* Hands op to the tmux queue: its ticket, or 0 (op freed, err says why). */
static uint64_t hand_over(struct oj_daemon *d, enum tmux_op_kind kind, const char *id,
                          const char *text, bool nudge, oj_session_done done, void *arg,
                          char *err, size_t errlen)
{
    struct tmux_op *o = calloc(1, sizeof *o);
    if (o == NULL || (text && (o->text = strdup(text)) == NULL)) {
        free(o);
        snprintf(err, errlen, "daemon out of memory");
        return 0;
    }
    o->kind = kind;
    snprintf(o->sock, sizeof o->sock, "%s", d->paths.tmux_sock_path);
    snprintf(o->id, sizeof o->id, "%s", id);
    o->nudge = nudge;
    o->done = done;
    o->arg = arg;
    uint64_t ticket = oj_engine_work(d, OJ_LANE_TMUX, 0, op_work, op_then, o);
    if (ticket == 0) {
        snprintf(err, errlen, "daemon out of memory");
        free(o->text);
        free(o);
    }
    return ticket;
}

/* Hands the kill of id's pane over; the tick leaves the pane alone until
 * tmux has done it. */
static int hand_over_kill(struct oj_daemon *d, const char *id, oj_session_done done, void *arg,
                          char *err, size_t errlen)
{
    uint64_t ticket = hand_over(d, OP_KILL, id, NULL, false, done, arg, err, errlen);
    if (ticket == 0)
        return -1;
    oj_session_live_of(d, id)->kill_ticket = ticket;
    return 0;
}

int oj_session_kill(struct oj_daemon *d, const char *id, const char *reason,
                    oj_session_done done, void *arg, char *err, size_t errlen)
{
    struct oj_session s;
    if (oj_session_get(d, id, &s) != 0 || s.state == OJ_SESSION_DEAD) {
        oj_session_clear(&s);
        return 0; /* nothing lives to kill */
    }
    /* Recorded dead first: tmux runs the kill off the engine thread. A crash
     * in between leaves a dead record with a live pane, which the tick
     * removes. */
    oj_session_mark_dead(&s, -1, reason, oj_wall_ms());
    int rc = oj_session_save(d, id, &s, err, errlen);
    if (rc == 0)
        oj_pub_event(d->publisher, "session.ended", id, s.pipeline_id, reason);
    oj_session_clear(&s);
    if (rc != 0)
        return rc;
    char herr[256];
    if (hand_over_kill(d, id, done, arg, herr, sizeof herr) != 0) {
        LOG_WARN("sessions: kill %s: %s (recorded dead; the tick removes its pane)", id, herr);
        if (done)
            done(d, arg, -1, herr);
    }
    return 0;
}

void oj_session_end(struct oj_daemon *d, const char *id, const char *reason)
{
    char err[512];
    oj_session_kill(d, id, reason, NULL, NULL, err, sizeof err); /* a failure is in the log */
}

int oj_session_remove_pane(struct oj_daemon *d, const char *id, oj_session_done done, void *arg,
                           char *err, size_t errlen)
{
    return hand_over_kill(d, id, done, arg, err, errlen);
}

/* ---- typing ------------------------------------------------------------------------------ */

/* 0 when session id lives, else -1 with err. */
static int running(struct oj_daemon *d, const char *id, char *err, size_t errlen)
{
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (v != NULL && oj_session_active(v))
        return 0;
    snprintf(err, errlen, "session %s is not running", id);
    return -1;
}

int oj_session_type(struct oj_daemon *d, const char *id, const char *text, bool nudge,
                    oj_session_done done, void *arg, char *err, size_t errlen)
{
    if (running(d, id, err, errlen) != 0 ||
        hand_over(d, OP_TYPE, id, text, nudge, done, arg, err, errlen) == 0)
        return -1;
    oj_session_input_sent(d, id);
    return 0;
}

int oj_session_interrupt(struct oj_daemon *d, const char *id, oj_session_done done, void *arg,
                         char *err, size_t errlen)
{
    if (running(d, id, err, errlen) != 0 ||
        hand_over(d, OP_INTERRUPT, id, NULL, false, done, arg, err, errlen) == 0)
        return -1;
    oj_session_input_sent(d, id);
    return 0;
}

/* ---- stopping ---------------------------------------------------------------------------- */

struct live_ids {
    char **id;
    size_t n;
    size_t cap;
};

static void collect_live(const char *id, const cJSON *v, void *arg)
{
    struct live_ids *c = arg;
    if (!oj_session_active(v))
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **grown = realloc(c->id, cap * sizeof *grown);
        if (grown == NULL)
            return;
        c->id = grown;
        c->cap = cap;
    }
    c->id[c->n] = strdup(id);
    if (c->id[c->n])
        c->n++;
}

void oj_sessions_checkpoint(struct oj_daemon *d)
{
    /* The ids first: the state does not change while it is walked. */
    struct live_ids c = {0};
    oj_state_each_where(state_of(d), "session", oj_session_active, collect_live, &c);
    int n = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct oj_session s;
        if (oj_session_get(d, c.id[i], &s) == 0) {
            int64_t mtime;
            uint64_t size;
            oj_session_log_stat(s.log, &mtime, &size);
            s.log_offset = (int64_t)size;
            s.checkpoint_ms = oj_wall_ms();
            char err[512];
            if (oj_session_save(d, c.id[i], &s, err, sizeof err) == 0)
                n++;
        }
        oj_session_clear(&s);
        free(c.id[i]);
    }
    free(c.id);
    if (n)
        LOG_INFO("sessions: checkpointed %d live session(s); they keep running in tmux", n);
}
