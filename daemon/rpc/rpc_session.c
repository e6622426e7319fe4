/* rpc_session.c — the session commands (oj session start / list / show /
 * capture / send / nudge / kill): each checks its request, calls the session
 * domain (sessions_engine.h) and builds the reply. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "rpc.h"
#include "rpc_table.h"
#include "daemon.h"
#include "log.h"
#include "resolve.h"
#include "server.h"
#include "sessions_engine.h"
#include "shell.h"
#include "pipelines.h"

#define DEFAULT_NUDGE "Are you still working on this? If you are finished, run: oj done"

/* The id of the session the query names, or NULL with the call failed. */
static const char *find(struct oj_daemon *d, const char *query, void *call)
{
    const char *id;
    char why[512];
    int code = oj_session_find(d, query, &id, why, sizeof why);
    if (code != OJ__STATUS_CODE__OK)
        oj_call_fail(call, code, "%s", why);
    return id;
}

/* info points into s, which must outlive it. */
static void describe(const char *id, const struct oj_session *s, Oj__SessionInfo *info,
                     int64_t now)
{
    oj__session_info__init(info);
    info->id = (char *)id;
    info->name = s->name;
    info->pipeline_id = s->pipeline_id;
    info->phase = s->phase;
    info->idle_ms = oj_session_quiet_ms(s, now);
    info->state = (char *)oj_session_shown_state(s, info->idle_ms);
    info->started_at_ms = s->started_at_ms;
    info->ended_at_ms = s->ended_at_ms;
    info->exit_status = s->exit_status;
    info->cwd = s->cwd;
    info->command = s->command;
    info->reason = s->reason;
    info->idle_timeout_ms = s->idle_timeout_ms;
}

/* Replies with session id as it is now. */
static void reply_info(struct oj_daemon *d, const char *id, Oj__SessionInfo_Closure done,
                       void *call)
{
    struct oj_session s;
    oj_session_get(d, id, &s);
    Oj__SessionInfo out;
    describe(id, &s, &out, oj_wall_ms());
    done(&out, call);
    oj_session_clear(&s);
}

/* The command line, each word shell-quoted: arguments are only text. */
static char *command_line(char *const *argv, size_t argc)
{
    size_t cap = 16;
    for (size_t i = 0; i < argc; i++)
        cap += strlen(argv[i]) * 4 + 3;
    char *command = malloc(cap);
    if (command == NULL)
        return NULL;
    command[0] = '\0';
    for (size_t i = 0; i < argc; i++) {
        char *q = oj_shell_quote(argv[i]);
        if (i)
            strcat(command, " ");
        strcat(command, q);
        free(q);
    }
    return command;
}

static void rpc_session_start(Oj__Control_Service *svc, const Oj__SessionStartRequest *in,
                              Oj__SessionInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char cwd[PATH_MAX];
    const char *want = in->cwd[0] ? in->cwd : d->paths.root;
    struct stat st;
    if (realpath(want, cwd) == NULL || stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode))
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "--cwd %s is not a directory", want);
    char name[80];
    if (in->name[0])
        snprintf(name, sizeof name, "%s", in->name);
    else
        oj_session_default_name(in->argv[0], name, sizeof name);
    if (!oj_session_name_ok(name))
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "session names use only letters, digits, '.', '_' and '-' (at most 64)");
    if (oj_name_looks_like_id(name)) {
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "session name '%s' looks like an id (" OJ_NAME_ID_SHAPE_RULE "); add another letter or a '-', e.g. '%s-agent'", name, name);
    }
    unsigned active = oj_sessions_active(d);
    if (active >= d->cfg.max_sessions) {
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT,
                       "the session limit is reached (%u active, OJ_MAX_SESSIONS=%u); kill one with " "`oj session kill <id>` or start the daemon with a higher OJ_MAX_SESSIONS", active, d->cfg.max_sessions);
    }
    char *command = command_line(in->argv, in->n_argv);
    if (command == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    char id[16], err[512];
    struct oj_spawn sp = {.name = name, .cwd = cwd, .command = command,
                          .idle_timeout_ms = in->idle_timeout_ms};
    int rc = oj_session_spawn(d, &sp, id, sizeof id, err, sizeof err);
    free(command);
    if (rc != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "cannot start the session: %s", err);
    reply_info(d, id, done, call);
}

/* Every session, described; the structs own what the infos point to. */
struct list_ctx {
    struct oj_session *recs;
    Oj__SessionInfo *infos;
    Oj__SessionInfo **ptrs;
    size_t n, cap;
    int64_t now;
};

static void collect(const char *id, const struct oj_session *s, void *arg)
{
    struct list_ctx *c = arg;
    if (c->n == c->cap || oj_session_copy(&c->recs[c->n], s) != 0)
        return;
    describe(id, &c->recs[c->n], &c->infos[c->n], c->now);
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
    size_t total = oj_sessions_count(d);
    struct list_ctx c = {.cap = total, .now = oj_wall_ms()};
    c.recs = calloc(total + 1, sizeof *c.recs);
    c.infos = calloc(total + 1, sizeof *c.infos);
    c.ptrs = calloc(total + 1, sizeof *c.ptrs);
    if (c.recs == NULL || c.infos == NULL || c.ptrs == NULL) {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    } else {
        oj_sessions_each(d, collect, &c);
        if (c.n > 1)
            qsort(c.ptrs, c.n, sizeof *c.ptrs, by_start);
        Oj__SessionListResponse out = OJ__SESSION_LIST_RESPONSE__INIT;
        out.n_sessions = c.n;
        out.sessions = c.ptrs;
        done(&out, call);
    }
    for (size_t i = 0; i < c.n; i++)
        oj_session_clear(&c.recs[i]);
    free(c.recs);
    free(c.infos);
    free(c.ptrs);
}

static void rpc_session_show(Oj__Control_Service *svc, const Oj__SessionRef *in,
                             Oj__SessionInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = find(d, in->id, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    reply_info(d, id, done, call);
}

static void rpc_session_capture(Oj__Control_Service *svc, const Oj__SessionCaptureRequest *in,
                                Oj__SessionCaptureResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = find(d, in->id, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    struct oj_session s;
    oj_session_get(d, id, &s);
    Oj__SessionCaptureResponse out = OJ__SESSION_CAPTURE_RESPONSE__INIT;
    out.state = (char *)oj_session_state_name(s.state);
    uint8_t *buf = NULL;
    char *text = NULL, err[512];
    if (in->range) {
        if (oj_session_log_range(&s, in->from_offset, in->to_offset, &buf, &out.data.len,
                                 &out.log_offset) != 0) {
            OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        } else {
            out.data.data = buf;
            done(&out, call);
        }
    } else if (oj_session_screen(d, id, &s, in->tail_lines, &text, &out.log_offset, err,
                                 sizeof err) != 0) {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    } else {
        out.text = text;
        done(&out, call);
    }
    free(buf);
    free(text);
    oj_session_clear(&s);
}

/* The id of a live session, or NULL with the call failed. */
static const char *live(struct oj_daemon *d, const char *query, void *call)
{
    const char *id = find(d, query, call);
    if (id == NULL)
        return NULL;
    struct oj_session s;
    oj_session_get(d, id, &s);
    if (s.state == OJ_SESSION_DEAD) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT, "session %s is dead (%s)", id, s.reason);
        id = NULL;
    }
    oj_session_clear(&s);
    return id;
}

/* Types `text` (or Ctrl-C when NULL) into a live session and answers; the
 * id of the session it reached, or NULL when the call failed (answered).
 * nudge: it counts as a nudge. */
static const char *type_into(struct oj_daemon *d, const char *query, const char *text,
                             bool nudge, const char *done_msg, Oj__ActionResponse_Closure done,
                             void *call)
{
    const char *id = live(d, query, call);
    if (id == NULL) {
        done(NULL, call);
        return NULL;
    }
    char err[512];
    int rc = text ? oj_session_type(d, id, text, nudge, err, sizeof err)
                  : oj_session_interrupt(d, id, err, sizeof err);
    if (rc != 0) {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
        return NULL;
    }
    oj_reply_action(call, done, id, done_msg);
    return id;
}

static void rpc_session_send(Oj__Control_Service *svc, const Oj__SessionSendRequest *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    long at = in->interrupt || in->allow_control ? -1 : oj_text_control_at(in->text);
    if (at >= 0) {
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "the text holds a control byte (0x%02x at byte %ld), which a terminal takes " "as a key; to send it as typed, add --allow-control", (unsigned char)in->text[at], at + 1);
    }
    type_into(oj_daemon_of(svc), in->id, in->interrupt ? NULL : in->text, false,
              in->interrupt ? "sent Ctrl-C" : "sent", done, call);
}

static void rpc_session_nudge(Oj__Control_Service *svc, const Oj__NudgeRequest *in,
                              Oj__ActionResponse_Closure done, void *call)
{
    long at = oj_text_control_at(in->message);
    if (at >= 0) {
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                       "the nudge message holds a control byte (0x%02x at byte %ld); send keys " "with `oj session send --allow-control` instead", (unsigned char)in->message[at], at + 1);
    }
    const char *id = type_into(oj_daemon_of(svc), in->id,
                               in->message[0] ? in->message : DEFAULT_NUDGE, true, "nudged", done,
                               call);
    if (id)
        LOG_INFO("sessions: nudged %s", id); /* the reply is packed; id is still valid */
}

static void rpc_session_kill(Oj__Control_Service *svc, const Oj__SessionRef *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = find(d, in->id, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    struct oj_session s;
    oj_session_get(d, id, &s);
    char err[512];
    if (s.state == OJ_SESSION_DEAD) {
        /* Not an error: what the operator wants is already so. What may be
         * left is its pane, which the tick would remove soon anyway. Its
         * record (status, reason) stays as it is. */
        bool removed = oj_session_remove_pane(d, id);
        if (removed)
            LOG_INFO("sessions: removed %s's ended pane (oj session kill)", id);
        char msg[400];
        snprintf(msg, sizeof msg, "already dead (%.300s)%s", s.reason,
                 removed ? "; removed its pane" : "");
        oj_reply_action(call, done, id, msg);
    } else if (oj_session_kill(d, id, "killed by the operator", err, sizeof err) != 0) {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    } else {
        LOG_INFO("sessions: killed %s", id);
        oj_reply_action(call, done, id, "killed");
        /* Its pipeline hears of it as of any agent that ended. */
        if (s.pipeline_id[0])
            oj_pipeline_session_ended(d, s.pipeline_id, id);
    }
    oj_session_clear(&s);
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
