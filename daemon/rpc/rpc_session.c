/* rpc_session.c — the session commands (oj session start / list / show /
 * capture / send / nudge / kill): each checks its request, calls the session
 * domain (sessions_engine.h) and builds the reply. What needs tmux is
 * answered once tmux has done it, from the domain's callback: the handler
 * keeps the call and the engine goes on. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "rpc.h"
#include "rpc_table.h"
#include "daemon.h"
#include "engine_work.h"
#include "log.h"
#include "resolve.h"
#include "server.h"
#include "sessions_engine.h"
#include "shell.h"
#include "pipelines.h"
#include "pipeline_engine.h"
#include "tmux_arg.h"

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
static void describe(struct oj_daemon *d, const char *id, const struct oj_session *s,
                     Oj__SessionInfo *info, int64_t now)
{
    oj__session_info__init(info);
    info->id = (char *)id;
    info->name = s->name;
    info->pipeline_id = s->pipeline_id;
    info->phase = s->phase;
    info->idle_ms = oj_session_quiet_ms(s, now);
    bool asked;
    const char *prompt = oj_session_prompt(d, id, &asked, &info->needs_input_since_ms);
    info->asked = asked;
    info->state = (char *)oj_session_shown_state(s, info->idle_ms, prompt != NULL);
    info->prompt = (char *)(prompt && s->state == OJ_SESSION_RUNNING ? prompt : "");
    if (info->prompt[0] == '\0')
        info->asked = false, info->needs_input_since_ms = 0;
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
    describe(d, id, &s, &out, oj_wall_ms());
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

/* A start, answered once tmux has made the session. */
struct start_call {
    Oj__SessionInfo_Closure done;
    void *call;
};

static void started(struct oj_daemon *d, void *arg, const char *id, int rc, const char *err)
{
    struct start_call *c = arg;
    if (d != NULL && rc != 0) {
        oj_call_fail(c->call, OJ__STATUS_CODE__INTERNAL, "cannot start the session: %s", err);
        c->done(NULL, c->call);
    } else if (d != NULL) {
        reply_info(d, id, c->done, c->call);
    }
    free(c);
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
    struct start_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        free(command);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    c->done = done;
    c->call = call;
    char id[16], err[512];
    struct oj_spawn sp = {.name = name, .cwd = cwd, .command = command,
                          .idle_timeout_ms = in->idle_timeout_ms};
    int rc = oj_session_spawn(d, &sp, id, sizeof id, started, c, err, sizeof err);
    free(command);
    if (rc != 0) {
        free(c);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "cannot start the session: %s", err);
    }
}

/* Every session, described; the structs own what the infos point to. */
struct list_ctx {
    struct oj_daemon *d;
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
    describe(c->d, id, &c->recs[c->n], &c->infos[c->n], c->now);
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
    struct list_ctx c = {.d = d, .cap = total, .now = oj_wall_ms()};
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

/* A capture, answered from the tmux queue's thread: a read-only answer
 * needs nothing more of the engine. */
struct capture_call {
    Oj__SessionCaptureResponse_Closure done;
    void *call;
    const char *state; /* static */
};

static void shown(void *arg, int rc, const char *text, uint64_t log_offset, const char *err)
{
    struct capture_call *c = arg;
    if (rc != 0) {
        OJ_FAIL(c->call, c->done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    } else {
        Oj__SessionCaptureResponse out = OJ__SESSION_CAPTURE_RESPONSE__INIT;
        out.state = (char *)c->state;
        out.text = (char *)text;
        out.log_offset = log_offset;
        c->done(&out, c->call);
    }
    free(c);
}

/* A range of a session's log (capture --follow's catch-up, the dashboard's
 * terminal), read off the state when it is large (engine_work.h). */
struct range_read {
    Oj__SessionCaptureResponse_Closure done;
    void *call;
    const char *state; /* static */
    char *log;
    uint64_t from, to;
};

static void range_read(void *arg)
{
    struct range_read *r = arg;
    Oj__SessionCaptureResponse out = OJ__SESSION_CAPTURE_RESPONSE__INIT;
    out.state = (char *)r->state;
    uint8_t *buf = NULL;
    if (oj_log_range(r->log, r->from, r->to, &buf, &out.data.len, &out.log_offset) != 0) {
        OJ_FAIL(r->call, r->done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    } else {
        out.data.data = buf;
        r->done(&out, r->call);
    }
    free(buf);
    free(r->log);
    free(r);
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
    char err[512];
    struct capture_call *c = NULL;
    struct range_read *r = NULL;
    if (in->range) {
        if ((r = calloc(1, sizeof *r)) == NULL || (r->log = strdup(s.log ? s.log : "")) == NULL) {
            free(r);
            OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
        } else {
            r->done = done;
            r->call = call;
            r->state = out.state;
            r->from = in->from_offset;
            r->to = in->to_offset;
            oj_engine_read(d, oj_session_log_range_size(&s, r->from, r->to), range_read, r);
        }
    } else if ((c = calloc(1, sizeof *c)) == NULL) {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    } else {
        *c = (struct capture_call){done, call, out.state};
        if (oj_session_screen(d, id, &s, in->tail_lines, shown, c, err, sizeof err) != 0) {
            free(c);
            OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
        }
    }
    free(buf);
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

/* Keys typed into a session, answered once tmux has typed them. */
struct type_call {
    Oj__ActionResponse_Closure done;
    void *call;
    char id[64];
    const char *done_msg; /* static */
    bool nudge;
};

static void typed(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct type_call *c = arg;
    if (d != NULL && rc != 0) {
        OJ_FAIL(c->call, c->done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    } else if (d != NULL) {
        oj_reply_action(c->call, c->done, c->id, c->done_msg);
        if (c->nudge)
            LOG_INFO("sessions: nudged %s", c->id);
    }
    free(c);
}

/* Types `text` (or Ctrl-C when NULL) into a live session and answers once it
 * is typed. nudge: it counts as a nudge. */
static void type_into(struct oj_daemon *d, const char *query, const char *text, bool nudge,
                      const char *done_msg, Oj__ActionResponse_Closure done, void *call)
{
    const char *id = live(d, query, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    struct type_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    c->done = done;
    c->call = call;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->done_msg = done_msg;
    c->nudge = nudge;
    char err[512];
    int rc = text ? oj_session_type(d, id, text, nudge, typed, c, err, sizeof err)
                  : oj_session_interrupt(d, id, typed, c, err, sizeof err);
    if (rc != 0) {
        free(c);
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    }
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
    type_into(oj_daemon_of(svc), in->id, in->message[0] ? in->message : DEFAULT_NUDGE, true,
              "nudged", done, call);
}

/* A kill, answered once tmux has removed the pane. */
struct kill_call {
    Oj__ActionResponse_Closure done;
    void *call;
    char id[64];
    char msg[400]; /* the dead session's answer; "" for a live one */
};

static void killed(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    (void)err; /* a live one is recorded dead either way (the failure is logged) */
    struct kill_call *c = arg;
    if (d != NULL && c->msg[0]) {
        if (rc == 0)
            LOG_INFO("sessions: removed %s's ended pane (oj session kill)", c->id);
        char msg[450];
        snprintf(msg, sizeof msg, "%s%s", c->msg, rc == 0 ? "; removed its pane" : "");
        oj_reply_action(c->call, c->done, c->id, msg);
    } else if (d != NULL) {
        oj_reply_action(c->call, c->done, c->id, "killed");
    }
    free(c);
}

static void rpc_session_kill(Oj__Control_Service *svc, const Oj__SessionRef *in,
                             Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = find(d, in->id, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    struct kill_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    c->done = done;
    c->call = call;
    snprintf(c->id, sizeof c->id, "%s", id);
    struct oj_session s;
    oj_session_get(d, id, &s);
    char err[512];
    if (s.state == OJ_SESSION_DEAD) {
        /* Not an error: what the operator wants is already so. What may be
         * left is its pane, which the tick would remove soon anyway. Its
         * record (status, reason) stays as it is. */
        snprintf(c->msg, sizeof c->msg, "already dead (%.300s)", s.reason);
        if (oj_session_remove_pane(d, id, killed, c, err, sizeof err) != 0)
            killed(d, c, -1, err);
    } else if (oj_session_kill(d, id, "killed by the operator", killed, c, err, sizeof err) != 0) {
        free(c);
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
    } else {
        LOG_INFO("sessions: killed %s", id);
        /* Its pipeline hears of it as of any agent that ended. */
        if (s.pipeline_id[0])
            oj_pipeline_session_ended(d, s.pipeline_id, id);
    }
    oj_session_clear(&s);
}

/* The session `oj attach <ref>` opens, into id; or a wire status with the
 * one-line why. ref is a session (id, id prefix, name) or a pipeline (id, id
 * prefix), whose current agent session it means. A ref that could mean two
 * sessions is refused: typing into the wrong agent is worse than asking. */
static int attach_pick(struct oj_daemon *d, const char *ref, char *id, size_t idlen, char *why,
                       size_t whylen)
{
    const char *sid = NULL, *pid = NULL;
    char swhy[512], pwhy[512];
    int scode = oj_session_find(d, ref, &sid, swhy, sizeof swhy);
    int pcode = oj_pipeline_find(d, ref, &pid, pwhy, sizeof pwhy);
    if (scode == OJ__STATUS_CODE__OK && pcode == OJ__STATUS_CODE__OK) {
        snprintf(why, whylen, "'%s' names both session %s and pipeline %s; give the whole id", ref,
                 sid, pid);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    if (scode != OJ__STATUS_CODE__OK && pcode != OJ__STATUS_CODE__OK) {
        bool s_ambiguous = scode == OJ__STATUS_CODE__INVALID_ARGUMENT;
        if (s_ambiguous || pcode == OJ__STATUS_CODE__INVALID_ARGUMENT) {
            snprintf(why, whylen, "%s", s_ambiguous ? swhy : pwhy);
            return OJ__STATUS_CODE__INVALID_ARGUMENT;
        }
        snprintf(why, whylen,
                 "no session or pipeline '%s'; list them with `oj session list` or `oj pipeline "
                 "list`", ref);
        return OJ__STATUS_CODE__NOT_FOUND;
    }
    if (pcode == OJ__STATUS_CODE__OK) {
        struct oj_pipeline p;
        load(d, pid, &p);
        if (p.session_id[0] == '\0' || !oj_session_live(d, p.session_id)) {
            if (p.session_id[0])
                snprintf(why, whylen,
                         "pipeline %s's agent session %s has ended; read its output with `oj "
                         "session capture %s`", pid, p.session_id, p.session_id);
            else
                snprintf(why, whylen,
                         "pipeline %s has no agent session now (%s, phase %s, step %s); `oj "
                         "pipeline status %s` shows what it does", pid,
                         oj_pipeline_state_name(p.state), p.phase[0] ? p.phase : "-",
                         oj_pipeline_step_name(p.step), pid);
            oj_pipeline_free(&p);
            return OJ__STATUS_CODE__CONFLICT;
        }
        snprintf(id, idlen, "%s", p.session_id);
        oj_pipeline_free(&p);
    } else {
        snprintf(id, idlen, "%s", sid);
    }
    struct oj_session s;
    oj_session_get(d, id, &s);
    int code = OJ__STATUS_CODE__OK;
    if (s.state == OJ_SESSION_DEAD) {
        snprintf(why, whylen,
                 "session %s is dead (%s); read its output with `oj session capture %s`", id,
                 s.reason, id);
        code = OJ__STATUS_CODE__CONFLICT;
    } else if (s.state != OJ_SESSION_RUNNING) {
        snprintf(why, whylen, "session %s is still starting; try again in a moment", id);
        code = OJ__STATUS_CODE__CONFLICT;
    }
    oj_session_clear(&s);
    return code;
}

static void rpc_session_attach(Oj__Control_Service *svc, const Oj__AttachRequest *in,
                               Oj__SessionInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[64], why[1024];
    int code = attach_pick(d, in->ref, id, sizeof id, why, sizeof why);
    if (code != OJ__STATUS_CODE__OK)
        OJ_FAIL_RETURN(call, done, code, "%s", why);
    /* tmux matches -t by prefix ("s1" finds "s10"): "=<id>" matches exactly;
     * escaped as a word, so nothing in it is tmux syntax to the client */
    char exact[80];
    snprintf(exact, sizeof exact, "=%s", id);
    char *target = oj_tmux_arg(exact, OJ_TMUX_WORD);
    if (target == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    struct oj_session s;
    oj_session_get(d, id, &s);
    Oj__SessionInfo out;
    describe(d, id, &s, &out, oj_wall_ms());
    out.tmux_socket = d->paths.tmux_sock_path;
    out.tmux_target = target;
    done(&out, call);
    oj_session_clear(&s);
    free(target);
}

/* oj ask, from inside a session: it needs input, with this question. */
static void rpc_ask(Oj__Control_Service *svc, const Oj__AskRequest *in,
                    Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *id = live(d, in->session_id, call);
    if (id == NULL)
        OJ_FAILED_RETURN(call, done);
    char err[512];
    if (oj_session_ask(d, id, in->question, err, sizeof err) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT, "%s", err);
    char msg[600];
    snprintf(msg, sizeof msg, "needs input: %s", in->question);
    oj_reply_action(call, done, id, msg);
}

void oj_rpc_register_session(Oj__Control_Service *svc)
{
    svc->ask = rpc_ask;
    svc->session_start = rpc_session_start;
    svc->session_list = rpc_session_list;
    svc->session_show = rpc_session_show;
    svc->session_capture = rpc_session_capture;
    svc->session_send = rpc_session_send;
    svc->session_nudge = rpc_session_nudge;
    svc->session_kill = rpc_session_kill;
    svc->session_attach = rpc_session_attach;
}
