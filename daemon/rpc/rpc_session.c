/* rpc_session.c — sessions: agents (any command) in the daemon's private tmux
 * server, with their raw output in .oj/logs/sessions/<id>.log. The handlers
 * and the engine's tick run tmux (tmux.c) and journal what changed; the rules
 * are in sessions.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "duration.h"
#include "log.h"
#include "log_text.h"
#include "publisher.h"
#include "resolve.h"
#include "server.h"
#include "sessions.h"
#include "store.h"
#include "tmux.h"

#define DEFAULT_NUDGE "Are you still working on this? If you are finished, run: oj done"

static const char *str(const cJSON *v, const char *k)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, k);
    return cJSON_IsString(s) ? s->valuestring : "";
}

static const struct oj_state *state_of(struct oj_daemon *d) { return oj_store_state(d->store); }

/* Liveness of a session, in memory only (never journaled). */
struct oj_session_live {
    int64_t last_nudge_ms;
    int64_t last_stuck_ms; /* when session.stuck was last raised */
    int64_t quiet_from_ms;  /* idle counts from here at the earliest (oj_session_rearm) */
    int dead_unknown_ticks; /* ticks its pane has been dead without a status */
    bool log_looked;        /* a tick has looked at its log (for the reaper) */
    uint64_t log_size;      /* its log's size then */
    int log_stable_ticks;   /* ticks in a row since, the log has kept that size */
    bool reap_failed;       /* removing its pane failed once (said once in the log) */
};

static struct oj_session_live *live_of(struct oj_daemon *d, const char *id)
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
        free(v);
    oj_hmap_free(&d->session_live);
}

/* ---- finding sessions ------------------------------------------------------- */

struct count_ctx {
    unsigned active;
};

static void count_active(const char *id, const cJSON *v, void *arg)
{
    (void)id;
    if (oj_session_active(v))
        ((struct count_ctx *)arg)->active++;
}

unsigned oj_sessions_active(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each(state_of(d), "session", count_active, &c);
    return c.active;
}

static void match(const char *id, const cJSON *v, void *arg)
{
    oj_resolve_offer(arg, id, str(v, "name"), oj_json_int(v, "started_at_ms"));
}

/* The session id a user meant: its name (the newest session of that name),
 * its id or a unique prefix of it (resolve.h). NULL with the call failed
 * otherwise. */
static const char *resolve(struct oj_daemon *d, const char *query, void *call)
{
    if (query == NULL || query[0] == '\0') {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT, "which session? give its id or name");
        return NULL;
    }
    struct oj_resolve m = {.query = query};
    oj_state_each(state_of(d), "session", match, &m);
    const char *id;
    switch (oj_resolve_pick(&m, &id)) {
    case OJ_RESOLVE_FOUND:
        return id;
    case OJ_RESOLVE_AMBIGUOUS: {
        char list[256];
        oj_resolve_candidates(&m, list, sizeof list);
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "'%s' matches %d sessions (%s); give more of the id", query, m.nprefix,
                     list);
        return NULL;
    }
    case OJ_RESOLVE_NONE:
        break;
    }
    oj_call_fail(call, OJ__STATUS_CODE__NOT_FOUND,
                 "no session '%s'; list them with `oj session list`", query);
    return NULL;
}

/* ---- describing them ---------------------------------------------------------- */

/* The session's last output: its log's last write, or its start. */
static int64_t last_output_ms(const cJSON *v)
{
    int64_t last = oj_json_int(v, "started_at_ms");
    struct stat st;
    if (stat(str(v, "log"), &st) == 0) {
        int64_t m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (m > last)
            last = m;
    }
    return last;
}

static int64_t idle_ms(const cJSON *v, int64_t now)
{
    int64_t last = oj_json_int(v, "started_at_ms");
    struct stat st;
    if (stat(str(v, "log"), &st) == 0) {
        int64_t m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (m > last)
            last = m; /* the log's last write is the last output */
    }
    if (!oj_session_active(v)) {
        int64_t end = oj_json_int(v, "ended_at_ms");
        if (end > last)
            now = end;
    }
    return now > last ? now - last : 0;
}

static void describe(const char *id, const cJSON *v, Oj__SessionInfo *info, int64_t now)
{
    oj__session_info__init(info);
    info->id = (char *)id;
    info->name = (char *)str(v, "name");
    info->pipeline_id = (char *)str(v, "pipeline_id");
    info->phase = (char *)str(v, "phase");
    info->state = (char *)str(v, "state");
    info->idle_ms = idle_ms(v, now);
    info->started_at_ms = oj_json_int(v, "started_at_ms");
    info->ended_at_ms = oj_json_int(v, "ended_at_ms");
    info->exit_status = (int32_t)oj_json_int(v, "exit_status");
    info->cwd = (char *)str(v, "cwd");
    info->command = (char *)str(v, "command");
    info->reason = (char *)str(v, "reason");
    info->idle_timeout_ms = oj_json_int(v, "idle_timeout_ms");
    if (strcmp(info->state, "running") == 0 && info->idle_timeout_ms > 0 &&
        info->idle_ms > info->idle_timeout_ms)
        info->state = "idle"; /* derived from liveness, never journaled */
}

/* ---- changing them ------------------------------------------------------------ */

static bool save(struct oj_daemon *d, const char *id, cJSON *value, void *call)
{
    char err[512];
    if (!oj_session_active(value))
        d->sessions_reaped = false; /* the tick looks for its pane (rpc_session.c reap) */
    if (oj_store_commit(d->store, oj_op_put("session", id, value), err, sizeof err) == 0) {
        if (call)
            oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        else
            LOG_ERROR("sessions: cannot record session %s: %s", id, err);
        return false;
    }
    return true;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* A fresh id: no record has it, and no log or status file of an archived
 * session (whose files stay) or of a record a restore rolled back. */
static void new_id(struct oj_daemon *d, char *id, size_t len)
{
    for (;;) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)oj_mono_ns();
        snprintf(id, len, "s%06x", r & 0xffffff);
        char log[PATH_MAX + 32], status[PATH_MAX + 32];
        snprintf(log, sizeof log, "%s/%s.log", d->paths.session_log_dir, id);
        snprintf(status, sizeof status, "%s/%s.status", d->paths.session_log_dir, id);
        if (oj_state_get(state_of(d), "session", id) == NULL && access(log, F_OK) != 0 &&
            access(status, F_OK) != 0)
            return;
    }
}

static void rpc_session_start(Oj__Control_Service *svc, const Oj__SessionStartRequest *in,
                              Oj__SessionInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char cwd[PATH_MAX];
    const char *want = in->cwd[0] ? in->cwd : d->paths.root;
    struct stat st;
    if (realpath(want, cwd) == NULL || stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT, "--cwd %s is not a directory",
                     want);
        done(NULL, call);
        return;
    }
    char name[80];
    if (in->name[0]) {
        snprintf(name, sizeof name, "%s", in->name);
    } else {
        const char *base = strrchr(in->argv[0], '/');
        snprintf(name, sizeof name, "%.64s", base ? base + 1 : in->argv[0]);
        for (char *p = name; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                *p = '-';
        if (oj_name_looks_like_id(name)) { /* `-- sed`: a name, never an id prefix */
            char base[80];
            snprintf(base, sizeof base, "%s", name);
            snprintf(name, sizeof name, "%.60s-cmd", base);
        }
    }
    if (!good_name(name)) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "session names use only letters, digits, '.', '_' and '-' (at most 64)");
        done(NULL, call);
        return;
    }
    if (oj_name_looks_like_id(name)) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "session name '%s' looks like an id (" OJ_NAME_ID_SHAPE_RULE
                     "); add another letter or a '-', e.g. '%s-agent'",
                     name, name);
        done(NULL, call);
        return;
    }
    unsigned active = oj_sessions_active(d);
    if (active >= d->cfg.max_sessions) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "the session limit is reached (%u active, OJ_MAX_SESSIONS=%u); kill one with "
                     "`oj session kill <id>` or start the daemon with a higher OJ_MAX_SESSIONS",
                     active, d->cfg.max_sessions);
        done(NULL, call);
        return;
    }

    /* The command line, each word shell-quoted: arguments are only text. */
    size_t cap = 16;
    for (size_t i = 0; i < in->n_argv; i++)
        cap += strlen(in->argv[i]) * 4 + 3;
    char *command = malloc(cap);
    command[0] = '\0';
    for (size_t i = 0; i < in->n_argv; i++) {
        char *q = oj_shell_quote(in->argv[i]);
        if (i)
            strcat(command, " ");
        strcat(command, q);
        free(q);
    }
    char id[16], err[512];
    struct oj_spawn sp = {.name = name, .cwd = cwd, .command = command,
                          .idle_timeout_ms = in->idle_timeout_ms};
    int rc = oj_session_spawn(d, &sp, id, sizeof id, err, sizeof err);
    free(command);
    if (rc != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "cannot start the session: %s", err);
        done(NULL, call);
        return;
    }
    Oj__SessionInfo out;
    describe(id, oj_state_get(state_of(d), "session", id), &out, oj_wall_ms());
    done(&out, call);
}

int oj_session_spawn(struct oj_daemon *d, const struct oj_spawn *sp, char *id, size_t idlen,
                     char *err, size_t errlen)
{
    char log[PATH_MAX + 32], status_path[PATH_MAX + 32];
    new_id(d, id, idlen);
    snprintf(log, sizeof log, "%s/%s.log", d->paths.session_log_dir, id);
    snprintf(status_path, sizeof status_path, "%s/%s.status", d->paths.session_log_dir, id);
    int64_t now = oj_wall_ms();
    cJSON *record = oj_session_new(sp->name, sp->cwd, sp->command, log, now);
    cJSON_AddNumberToObject(record, "idle_timeout_ms", (double)sp->idle_timeout_ms);
    if (sp->pipeline_id) {
        cJSON_ReplaceItemInObjectCaseSensitive(record, "pipeline_id",
                                               cJSON_CreateString(sp->pipeline_id));
        cJSON_ReplaceItemInObjectCaseSensitive(record, "phase", cJSON_CreateString(sp->phase));
    }
    if (oj_store_commit(d->store, oj_op_put("session", id, record), err, errlen) == 0)
        return -1;

    char bindir[PATH_MAX], env_path[PATH_MAX + 4200], env_task[300], env_ws[PATH_MAX + 32],
        env_phase[128], env_id[64], env_project[PATH_MAX + 32];
    oj_self_dir(bindir, sizeof bindir);
    const char *path = getenv("PATH");
    snprintf(env_path, sizeof env_path, "PATH=%s:%s", bindir, path ? path : "/usr/bin:/bin");
    snprintf(env_task, sizeof env_task, "OTTER_TASK=%s",
             sp->pipeline_id ? sp->pipeline_id : sp->name);
    snprintf(env_ws, sizeof env_ws, "OTTER_WORKSPACE=%s", sp->cwd);
    snprintf(env_phase, sizeof env_phase, "OTTER_PHASE=%s", sp->phase ? sp->phase : "");
    snprintf(env_id, sizeof env_id, "OJ_SESSION_ID=%s", id);
    snprintf(env_project, sizeof env_project, "OJ_PROJECT=%s", d->paths.root);
    char *env[32] = {env_path, env_task, env_ws, env_phase, env_id, env_project};
    int n = 6;
    for (int i = 0; sp->env && sp->env[i] && n < 31; i++)
        env[n++] = sp->env[i];
    env[n] = NULL;
    /* The command's exit status also goes to <id>.status: tmux does not always
     * record a pane's status (a process that ends before it looks, a loaded
     * server), and the status file is what the tick falls back on.
     * PATH is set again in the command itself: tmux gives a new pane the PATH
     * of the tmux client that created it (ours), over new-session -e. The
     * wrapper ends with the command's status without ending the shell, so
     * that oj_tmux_new's wait for the last output runs. */
    char *qstatus = oj_shell_quote(status_path);
    char *qpath = oj_shell_quote(env_path + 5);
    size_t wlen = strlen(sp->command) + strlen(qstatus) + strlen(qpath) + 128;
    char *wrapped = malloc(wlen);
    snprintf(wrapped, wlen,
             "PATH=%s; export PATH; %s\noj_status=$?; printf %%s \"$oj_status\" > %s; (exit "
             "\"$oj_status\")",
             qpath, sp->command, qstatus);
    free(qstatus);
    free(qpath);
    int started = oj_tmux_new(d->paths.tmux_sock_path, id, sp->cwd, env, wrapped, log, err, errlen);
    free(wrapped);
    if (started != 0) {
        /* The caller reports the failure; a session that never ran leaves no
         * record, log or status file behind (daemon.log keeps the why). */
        LOG_ERROR("sessions: cannot start %s: %s", id, err);
        char derr[256];
        if (oj_store_commit(d->store, oj_op_del("session", id), derr, sizeof derr) == 0)
            LOG_ERROR("sessions: cannot drop the record of %s: %s", id, derr);
        unlink(log);
        unlink(status_path);
        return -1;
    }
    cJSON *running = cJSON_Duplicate(oj_state_get(state_of(d), "session", id), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(running, "state", cJSON_CreateString("running"));
    if (!save(d, id, running, NULL)) {
        snprintf(err, errlen, "cannot record session %s", id);
        return -1;
    }
    LOG_INFO("sessions: started %s (%s) in %s", id, sp->name, sp->cwd);
    oj_pub_event(d->publisher, "session.started", id, sp->pipeline_id ? sp->pipeline_id : "",
                 sp->name);
    return 0;
}

struct list_ctx {
    Oj__SessionInfo *infos;
    Oj__SessionInfo **ptrs;
    size_t n;
    int64_t now;
};

static void collect(const char *id, const cJSON *v, void *arg)
{
    struct list_ctx *c = arg;
    describe(id, v, &c->infos[c->n], c->now);
    c->ptrs[c->n] = &c->infos[c->n];
    c->n++;
}

static int by_start(const void *a, const void *b)
{
    const Oj__SessionInfo *x = *(Oj__SessionInfo *const *)a, *y = *(Oj__SessionInfo *const *)b;
    return x->started_at_ms < y->started_at_ms ? -1 : x->started_at_ms > y->started_at_ms;
}

static void rpc_session_list(Oj__Control_Service *svc, const Oj__SessionListRequest *in,
                             Oj__SessionListResponse_Closure done, void *call)
{
    (void)in;
    struct oj_daemon *d = oj_daemon_of(svc);
    size_t total = oj_state_count(state_of(d), "session");
    struct list_ctx c = {.now = oj_wall_ms()};
    c.infos = calloc(total + 1, sizeof *c.infos);
    c.ptrs = calloc(total + 1, sizeof *c.ptrs);
    if (c.infos == NULL || c.ptrs == NULL) {
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        done(NULL, call);
    } else {
        oj_state_each(state_of(d), "session", collect, &c);
        if (c.n > 1)
            qsort(c.ptrs, c.n, sizeof *c.ptrs, by_start);
        Oj__SessionListResponse out = OJ__SESSION_LIST_RESPONSE__INIT;
        out.n_sessions = c.n;
        out.sessions = c.ptrs;
        done(&out, call);
    }
    free(c.infos);
    free(c.ptrs);
}

static void rpc_session_show(Oj__Control_Service *svc, const Oj__SessionRef *in,
                             Oj__SessionInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = resolve(d, in->id, call);
    if (id == NULL) {
        done(NULL, call);
        return;
    }
    Oj__SessionInfo out;
    describe(id, oj_state_get(state_of(d), "session", id), &out, oj_wall_ms());
    done(&out, call);
}

#define RANGE_MAX (16u * 1024 * 1024)

static uint64_t log_size(const cJSON *v)
{
    struct stat st;
    return stat(str(v, "log"), &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Bytes [from, to) of the session's log (to 0 = the end), at most RANGE_MAX. */
static int read_range(const cJSON *v, uint64_t from, uint64_t to, Oj__SessionCaptureResponse *out,
                      uint8_t **buf)
{
    uint64_t size = log_size(v);
    if (to == 0 || to > size)
        to = size;
    if (from > to)
        from = to;
    if (to - from > RANGE_MAX)
        to = from + RANGE_MAX;
    *buf = malloc(to - from + 1);
    if (*buf == NULL)
        return -1;
    int fd = open(str(v, "log"), O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, *buf, to - from, (off_t)from) : 0;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        n = 0;
    out->data.data = *buf;
    out->data.len = (size_t)n;
    out->log_offset = from + (uint64_t)n;
    return 0;
}

#define LOG_TEXT_READ_MAX (1u << 20)

/* An ended session's last lines from its log (its pane is gone once its
 * output is in the log): the log's last MiB at most, as text (log_text.h).
 * malloc'd, or NULL with err. */
static char *log_tail_text(const cJSON *v, uint64_t size, unsigned lines, char *err,
                           size_t errlen)
{
    uint64_t from = size > LOG_TEXT_READ_MAX ? size - LOG_TEXT_READ_MAX : 0;
    char *raw = malloc(size - from + 1);
    if (raw == NULL) {
        snprintf(err, errlen, "daemon out of memory");
        return NULL;
    }
    ssize_t n = 0; /* no log at all: a session that never started has no output */
    int fd = open(str(v, "log"), O_RDONLY | O_CLOEXEC), e = errno;
    if (fd >= 0) {
        n = pread(fd, raw, size - from, (off_t)from);
        e = errno;
        close(fd);
    }
    if (n < 0 || (fd < 0 && e != ENOENT)) {
        snprintf(err, errlen, "cannot read %s, the output of the ended session: %s",
                 str(v, "log"), strerror(e));
        free(raw);
        return NULL;
    }
    char *text = oj_log_text(raw, (size_t)n, lines, from > 0);
    free(raw);
    if (text == NULL)
        snprintf(err, errlen, "daemon out of memory");
    return text;
}

static void rpc_session_capture(Oj__Control_Service *svc, const Oj__SessionCaptureRequest *in,
                                Oj__SessionCaptureResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = resolve(d, in->id, call);
    if (id == NULL) {
        done(NULL, call);
        return;
    }
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    Oj__SessionCaptureResponse out = OJ__SESSION_CAPTURE_RESPONSE__INIT;
    out.state = (char *)str(v, "state");
    if (in->range) {
        uint8_t *buf = NULL;
        if (read_range(v, in->from_offset, in->to_offset, &out, &buf) != 0) {
            oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
            done(NULL, call);
            return;
        }
        done(&out, call);
        free(buf);
        return;
    }
    char *text = NULL, err[512];
    /* The log size first: whatever the screen shows is at or before it. */
    out.log_offset = log_size(v);
    if (oj_tmux_capture(d->paths.tmux_sock_path, id, in->tail_lines, &text, err, sizeof err) !=
            0 &&
        (oj_session_active(v) || (text = log_tail_text(v, out.log_offset, in->tail_lines,
                                                       err, sizeof err)) == NULL)) {
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "%s", err);
        done(NULL, call);
        return;
    }
    out.text = text;
    done(&out, call);
    free(text);
}

/* The id of a live session, or NULL with the call failed. */
static const char *live(struct oj_daemon *d, const char *query, void *call)
{
    const char *id = resolve(d, query, call);
    if (id == NULL)
        return NULL;
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (!oj_session_active(v)) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT, "session %s is dead (%s)", id,
                     str(v, "reason"));
        return NULL;
    }
    return id;
}

static void reply_action(void *call, Oj__ActionResponse_Closure done, const char *id,
                         const char *msg)
{
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = (char *)id;
    out.message = (char *)msg;
    done(&out, call);
}

/* Types `text` (or Ctrl-C when NULL) into a live session and answers; the
 * id of the session it reached, or NULL when the call failed (answered). */
static const char *type_into(struct oj_daemon *d, const char *query, const char *text,
                             const char *done_msg, Oj__ActionResponse_Closure done, void *call)
{
    const char *id = live(d, query, call);
    char err[512];
    int rc = id == NULL ? -1
             : text      ? oj_tmux_send(d->paths.tmux_sock_path, id, text, err, sizeof err)
                         : oj_tmux_interrupt(d->paths.tmux_sock_path, id, err, sizeof err);
    if (id && rc != 0)
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "%s", err);
    if (rc != 0) {
        done(NULL, call);
        return NULL;
    }
    reply_action(call, done, id, done_msg);
    return id;
}

static void rpc_session_send(Oj__Control_Service *svc, const Oj__SessionSendRequest *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    long at = in->interrupt || in->allow_control ? -1 : oj_text_control_at(in->text);
    if (at >= 0) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "the text holds a control byte (0x%02x at byte %ld), which a terminal takes "
                     "as a key; to send it as typed, add --allow-control",
                     (unsigned char)in->text[at], at + 1);
        done(NULL, call);
        return;
    }
    type_into(oj_daemon_of(svc), in->id, in->interrupt ? NULL : in->text,
              in->interrupt ? "sent Ctrl-C" : "sent", done, call);
}

static void rpc_session_nudge(Oj__Control_Service *svc, const Oj__NudgeRequest *in,
                              Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    long at = oj_text_control_at(in->message);
    if (at >= 0) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "the nudge message holds a control byte (0x%02x at byte %ld); send keys "
                     "with `oj session send --allow-control` instead",
                     (unsigned char)in->message[at], at + 1);
        done(NULL, call);
        return;
    }
    const char *id = type_into(d, in->id, in->message[0] ? in->message : DEFAULT_NUDGE, "nudged",
                               done, call);
    if (id) {
        live_of(d, id)->last_nudge_ms = oj_wall_ms(); /* the reply is packed; id is still valid */
        LOG_INFO("sessions: nudged %s", id);
    }
}

static void rpc_session_kill(Oj__Control_Service *svc, const Oj__SessionRef *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = resolve(d, in->id, call);
    char err[512];
    if (id == NULL) {
        done(NULL, call);
        return;
    }
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (!oj_session_active(v)) {
        /* Not an error: what the operator wants is already so. What may be
         * left is its pane, which the tick would remove soon anyway. Its
         * record (status, reason) stays as it is. */
        bool removed = oj_tmux_kill(d->paths.tmux_sock_path, id, err, sizeof err) == 0;
        if (removed)
            LOG_INFO("sessions: removed %s's ended pane (oj session kill)", id);
        char msg[400];
        snprintf(msg, sizeof msg, "already dead (%.300s)%s", str(v, "reason"),
                 removed ? "; removed its pane" : "");
        reply_action(call, done, id, msg);
        return;
    }
    if (oj_tmux_kill(d->paths.tmux_sock_path, id, err, sizeof err) != 0)
        LOG_WARN("sessions: kill %s: %s (recording it dead anyway)", id, err);
    if (!save(d, id, oj_session_dead(v, -1, "killed by the operator", oj_wall_ms()), call)) {
        done(NULL, call);
        return;
    }
    LOG_INFO("sessions: killed %s", id);
    v = oj_state_get(state_of(d), "session", id);
    oj_pub_event(d->publisher, "session.ended", id, str(v, "pipeline_id"), "killed by the operator");
    reply_action(call, done, id, "killed");
    if (str(v, "pipeline_id")[0])
        oj_pipeline_session_ended(d, str(v, "pipeline_id"), id);
}

void oj_session_end(struct oj_daemon *d, const char *id, const char *reason)
{
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (v == NULL || !oj_session_active(v))
        return;
    char err[512];
    if (oj_tmux_kill(d->paths.tmux_sock_path, id, err, sizeof err) != 0)
        LOG_WARN("sessions: kill %s: %s (recording it dead anyway)", id, err);
    if (save(d, id, oj_session_dead(v, -1, reason, oj_wall_ms()), NULL)) {
        v = oj_state_get(state_of(d), "session", id);
        oj_pub_event(d->publisher, "session.ended", id, str(v, "pipeline_id"), reason);
    }
}

int oj_session_type(struct oj_daemon *d, const char *id, const char *text, bool nudge, char *err,
                    size_t errlen)
{
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    if (v == NULL || !oj_session_active(v)) {
        snprintf(err, errlen, "session %s is not running", id);
        return -1;
    }
    if (oj_tmux_send(d->paths.tmux_sock_path, id, text, err, errlen) != 0)
        return -1;
    if (nudge)
        live_of(d, id)->last_nudge_ms = oj_wall_ms();
    return 0;
}

void oj_session_forget(struct oj_daemon *d, const char *id)
{
    free(oj_hmap_del(&d->session_live, id));
    oj_watcher_forget(d, id);
}

void oj_session_rearm(struct oj_daemon *d, const char *id)
{
    struct oj_session_live *l = live_of(d, id);
    l->quiet_from_ms = oj_wall_ms();
    l->last_stuck_ms = 0;
}

int64_t oj_session_last_output_ms(struct oj_daemon *d, const char *id)
{
    const cJSON *v = oj_state_get(state_of(d), "session", id);
    return v ? last_output_ms(v) : 0;
}

/* ---- the tick: what tmux says about every live session ---------------------- */

struct observe_ctx {
    struct oj_daemon *d;
    struct oj_tmux_pane *panes;
    int npanes;
    bool server_gone;
    int64_t now;
    cJSON *changes; /* {id: new value} */
    cJSON *stuck;   /* [[session id, pipeline id]] for pipelines to act on */
};

/* The exit status the session's wrapper wrote, or -1. */
static int status_file(struct oj_daemon *d, const char *id)
{
    char path[PATH_MAX + 96], buf[16] = "";
    snprintf(path, sizeof path, "%s/%.64s.status", d->paths.session_log_dir, id);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 && buf[0] >= '0' && buf[0] <= '9' ? atoi(buf) : -1;
}

static const struct oj_tmux_pane *pane_of(const struct observe_ctx *o, const char *id)
{
    for (int i = 0; i < o->npanes; i++)
        if (strcmp(o->panes[i].session, id) == 0)
            return &o->panes[i];
    return NULL;
}

static void observe(const char *id, const cJSON *v, void *arg)
{
    struct observe_ctx *o = arg;
    if (!oj_session_active(v))
        return; /* dead is final (oj_session_observe); its pane is the reaper's */
    struct oj_session_live *l = live_of(o->d, id);
    const struct oj_tmux_pane *pane = pane_of(o, id);
    struct oj_session_seen seen = {.pane = pane, .server_gone = o->server_gone,
                                   .status_file = -1};
    if (o->server_gone || pane == NULL || pane->dead)
        seen.status_file = status_file(o->d, id);
    l->dead_unknown_ticks = pane && pane->dead && !pane->status_known ? l->dead_unknown_ticks + 1
                                                                      : 0;
    seen.dead_unknown_ticks = l->dead_unknown_ticks;
    cJSON *n = oj_session_observe(v, &seen, o->now);
    if (n && cJSON_Compare(n, v, true)) {
        cJSON_Delete(n); /* nothing new: nothing to write */
        n = NULL;
    }
    if (n) {
        cJSON_AddItemToObject(o->changes, id, n);
        return;
    }
    /* Still alive: quiet past its idle timeout? */
    int64_t timeout = oj_json_int(v, "idle_timeout_ms");
    if (timeout <= 0)
        return;
    int64_t last = last_output_ms(v);
    int64_t from = last > l->quiet_from_ms ? last : l->quiet_from_ms;
    if (oj_session_stuck_now(o->now, from, timeout, l->last_nudge_ms, o->d->cfg.nudge_pause_ms,
                             l->last_stuck_ms)) {
        l->last_stuck_ms = o->now;
        char quiet[32], limit[32], msg[128];
        oj_duration_format(o->now - last, quiet, sizeof quiet);
        oj_duration_format(timeout, limit, sizeof limit);
        snprintf(msg, sizeof msg, "quiet for %s (idle timeout %s)", quiet, limit);
        LOG_INFO("sessions: %s is stuck: %s", id, msg);
        oj_pub_event(o->d->publisher, "session.stuck", id, str(v, "pipeline_id"), msg);
        if (str(v, "pipeline_id")[0]) {
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateString(id));
            cJSON_AddItemToArray(pair, cJSON_CreateString(str(v, "pipeline_id")));
            cJSON_AddItemToArray(o->stuck, pair);
        }
    }
}

/* Whether the session's log is drained (oj_session_log_drained); counts the
 * ticks it kept its size. *behind: drained only by giving up on the watcher. */
static bool drained(struct oj_daemon *d, const char *id, struct oj_session_live *l, bool *behind)
{
    char path[PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/%.64s.log", d->paths.session_log_dir, id);
    struct stat st;
    uint64_t size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    l->log_stable_ticks = l->log_looked && size == l->log_size ? l->log_stable_ticks + 1 : 0;
    l->log_looked = true;
    l->log_size = size;
    int64_t published = oj_watcher_published(d, id);
    *behind = !oj_session_log_drained(size, published, 1);
    return oj_session_log_drained(size, published, l->log_stable_ticks);
}

/* Removes what is left in tmux of sessions whose end is recorded (and of
 * dead panes no record names): the pane, and with it its pipe-pane `cat`.
 * Runs on the records as they were before this tick's changes, so a session
 * recorded dead now goes at a later tick, after its last output reached the
 * log. Returns how many such panes are left for later ticks. */
static int reap(struct observe_ctx *o)
{
    int left = 0;
    for (int i = 0; i < o->npanes; i++) {
        const struct oj_tmux_pane *p = &o->panes[i];
        const cJSON *v = oj_state_get(state_of(o->d), "session", p->session);
        if (!oj_session_reap_now(v, p, true))
            continue; /* it lives: nothing to reap */
        struct oj_session_live *l = live_of(o->d, p->session);
        bool behind = false;
        if (!oj_session_reap_now(v, p, drained(o->d, p->session, l, &behind))) {
            left++;
            continue;
        }
        char err[512];
        if (oj_tmux_kill(o->d->paths.tmux_sock_path, p->session, err, sizeof err) != 0) {
            if (!l->reap_failed) /* tried again every tick, said once */
                LOG_WARN("sessions: cannot remove %s's pane (will try again): %s", p->session,
                         err);
            l->reap_failed = true;
            left++;
            continue;
        }
        if (!p->dead)
            LOG_WARN("sessions: removed %s's pane, still running though its record says dead "
                     "(a kill that failed)", p->session);
        else if (behind)
            LOG_WARN("sessions: removed %s's pane; the log watcher had not published all of its "
                     "log (the log file has it all)", p->session);
        else
            LOG_INFO("sessions: removed %s's %s pane and its output pipe", p->session,
                     v ? "ended" : "unrecorded dead");
        free(oj_hmap_del(&o->d->session_live, p->session));
    }
    return left;
}

void oj_sessions_tick(struct oj_daemon *d)
{
    if (oj_sessions_active(d) == 0 && d->sessions_reaped)
        return;
    struct observe_ctx o = {.d = d, .now = oj_wall_ms(), .changes = cJSON_CreateObject(),
                            .stuck = cJSON_CreateArray()};
    char err[512];
    o.npanes = oj_tmux_list(d->paths.tmux_sock_path, &o.panes, err, sizeof err);
    if (o.npanes == -1) {
        LOG_WARN("sessions: %s", err);
        cJSON_Delete(o.changes);
        cJSON_Delete(o.stuck);
        return;
    }
    o.server_gone = o.npanes == -2; /* no server: nothing lives in tmux, and nothing is left */
    if (o.npanes < 0)
        o.npanes = 0;
    oj_state_each(state_of(d), "session", observe, &o);
    d->sessions_reaped = reap(&o) == 0;
    for (cJSON *c = o.changes->child; c; c = c->next) {
        LOG_INFO("sessions: %s is now %s%s%s", c->string, str(c, "state"),
                 str(c, "reason")[0] ? ": " : "", str(c, "reason"));
        if (save(d, c->string, cJSON_Duplicate(c, 1), NULL) && !oj_session_active(c)) {
            oj_pub_event(d->publisher, "session.ended", c->string, str(c, "pipeline_id"),
                         str(c, "reason"));
            if (str(c, "pipeline_id")[0])
                oj_pipeline_session_ended(d, str(c, "pipeline_id"), c->string);
        }
    }
    cJSON_Delete(o.changes);
    /* After the loop: acting on a stuck agent changes the state. */
    for (cJSON *p = o.stuck->child; p; p = p->next)
        oj_pipeline_session_stuck(d, cJSON_GetArrayItem(p, 1)->valuestring,
                                  cJSON_GetArrayItem(p, 0)->valuestring);
    cJSON_Delete(o.stuck);
    free(o.panes);
}

struct checkpoint_ctx {
    struct oj_daemon *d;
    cJSON *changes;
};

static void checkpoint_one(const char *id, const cJSON *v, void *arg)
{
    struct checkpoint_ctx *c = arg;
    if (!oj_session_active(v))
        return;
    struct stat st;
    cJSON *n = cJSON_Duplicate(v, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(n, "log_offset");
    cJSON_DeleteItemFromObjectCaseSensitive(n, "checkpoint_ms");
    cJSON_AddNumberToObject(n, "log_offset", stat(str(v, "log"), &st) == 0 ? (double)st.st_size : 0);
    cJSON_AddNumberToObject(n, "checkpoint_ms", (double)oj_wall_ms());
    cJSON_AddItemToObject(c->changes, id, n);
}

void oj_sessions_checkpoint(struct oj_daemon *d)
{
    struct checkpoint_ctx c = {.d = d, .changes = cJSON_CreateObject()};
    oj_state_each(state_of(d), "session", checkpoint_one, &c);
    int n = 0;
    for (cJSON *s = c.changes->child; s; s = s->next, n++)
        save(d, s->string, cJSON_Duplicate(s, 1), NULL);
    if (n)
        LOG_INFO("sessions: checkpointed %d live session(s); they keep running in tmux", n);
    cJSON_Delete(c.changes);
}

void oj_rpc_register_session(Oj__Control_Service *svc)
{
    svc->session_start = rpc_session_start;
    svc->session_list = rpc_session_list;
    svc->session_show = rpc_session_show;
    svc->session_capture = rpc_session_capture;
    svc->session_send = rpc_session_send;
    svc->session_nudge = rpc_session_nudge;
    svc->session_kill = rpc_session_kill;
}
