/* rpc_pipeline.c — the pipeline commands: oj run, pipeline list / status /
 * show / nudge / restart / resume / cancel, and the agents' oj done and oj
 * checkpoint. Each checks its request, resolves the pipeline's id and
 * answers; what they do is the engine's (pipeline_commands.c, pipeline_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "engine_work.h"
#include "pipeline_commands.h"
#include "pipeline_engine.h"
#include "rpc.h"
#include "sessions_engine.h"
#include "rpc_table.h"
#include "sessions.h"
#include "utf8.h"
#include "pipelines.h"
#include "workspace_stat.h"

/* The pipeline id a user meant (oj_pipeline_find), copied into id; or false
 * with the call failed. */
static bool resolve(struct oj_daemon *d, const char *query, char *id, size_t len, void *call)
{
    const char *found;
    char why[300];
    int code = oj_pipeline_find(d, query, &found, why, sizeof why);
    if (code != OJ__STATUS_CODE__OK) {
        oj_call_fail(call, code, "%s", why);
        return false;
    }
    snprintf(id, len, "%s", found);
    return true;
}

/* oj run, answered once git has said the project can have worktrees and the
 * pipeline is journaled. */
struct run_call {
    Oj__RunResponse_Closure done;
    void *call;
};

static void run_started(struct oj_daemon *d, void *arg, int code, const char *id,
                        const char *err)
{
    struct run_call *c = arg;
    if (d != NULL && code != 0) {
        OJ_FAIL(c->call, c->done, code, "%s", err);
    } else if (d != NULL) {
        struct oj_pipeline p;
        load(d, id, &p);
        Oj__RunResponse out = OJ__RUN_RESPONSE__INIT;
        out.pipeline_id = (char *)id;
        out.workspace = (char *)p.workspace;
        out.branch = (char *)p.branch;
        c->done(&out, c->call);
        oj_pipeline_free(&p);
    }
    free(c);
}

static void rpc_run(Oj__Control_Service *svc, const Oj__RunRequest *in,
                    Oj__RunResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    oj_runbooks_refresh(d); /* an edited runbook counts at once */
    struct run_call *c = calloc(1, sizeof *c);
    char **names = calloc(in->n_inputs + 1, sizeof *names);
    char **values = calloc(in->n_inputs + 1, sizeof *values);
    if (c == NULL || names == NULL || values == NULL) {
        free(c);
        free(names);
        free(values);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    for (size_t i = 0; i < in->n_inputs; i++) {
        names[i] = in->inputs[i]->name;
        values[i] = in->inputs[i]->value;
    }
    *c = (struct run_call){done, call};
    char err[1500];
    int code = oj_pipeline_start(d, in->pipeline, in->positional, in->n_positional, names, values,
                                 in->n_inputs, in->base_ref, run_started, c, err, sizeof err);
    free(names);
    free(values);
    if (code != 0) {
        free(c);
        OJ_FAIL_RETURN(call, done, code, "%s", err);
    }
}

/* ---- the commands ------------------------------------------------------------------------- */

/* The summary of p (id): its strings stay p's. */
static void summary(const char *id, const struct oj_pipeline *p, Oj__PipelineSummary *s)
{
    oj__pipeline_summary__init(s);
    s->id = (char *)id;
    s->name = (char *)p->name;
    s->phase = (char *)p->phase;
    s->state = (char *)oj_pipeline_state_name(p->state);
    s->created_at_ms = p->created_at_ms;
    s->updated_at_ms = p->updated_at_ms;
}

/* The pipelines listed, kept until the reply is packed. A live one is the
 * brief of its record in the state (id and strings the state's: nothing
 * changes it before the reply, when it is packed on the engine at once), or,
 * when the reply waits for the archive to be read on another thread, a copy;
 * an archived one is decoded from its file and kept here. */
struct listed {
    const char *id;
    struct oj_pipeline_brief b;
    char *own_id;         /* a copy's or an archived one's: its id and */
    struct oj_pipeline p; /* its record, which b points into */
    bool archived;
};

struct list_ctx {
    bool active_only;
    bool copy; /* the live ones are copied: the reply waits for the archive */
    struct listed *e;
    size_t n, cap;
};

static struct listed *add(struct list_ctx *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct listed *grown = realloc(l->e, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        l->e = grown;
        l->cap = cap;
    }
    struct listed *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    oj_pipeline_init(&e->p);
    return e;
}

static void brief_of_copy(struct listed *e)
{
    e->id = e->own_id;
    e->b = (struct oj_pipeline_brief){e->p.name, e->p.phase, e->p.state, e->p.created_at_ms,
                                      e->p.updated_at_ms};
}

static void collect(const char *id, const cJSON *v, void *arg)
{
    struct list_ctx *l = arg;
    struct oj_pipeline_brief b;
    oj_pipeline_brief_of(v, &b);
    if (l->active_only && !oj_pipeline_state_active(b.state))
        return;
    struct listed *e = add(l);
    if (e == NULL)
        return;
    if (!l->copy) {
        e->id = id;
        e->b = b;
        return;
    }
    if ((e->own_id = strdup(id)) == NULL) {
        l->n--;
        return;
    }
    oj_pipeline_from_json(v, &e->p);
    brief_of_copy(e);
}

static void collect_archived(const char *id, struct oj_pipeline *p, void *arg)
{
    struct listed *e = add(arg);
    if (e == NULL || (e->own_id = strdup(id)) == NULL) {
        if (e)
            ((struct list_ctx *)arg)->n--;
        return;
    }
    e->p = *p; /* moved here: the walk frees an empty record */
    oj_pipeline_init(p);
    e->archived = true;
    brief_of_copy(e);
}

static int by_created(const void *a, const void *b)
{
    const Oj__PipelineSummary *x = *(Oj__PipelineSummary *const *)a,
                              *y = *(Oj__PipelineSummary *const *)b;
    return (x->created_at_ms > y->created_at_ms) - (x->created_at_ms < y->created_at_ms);
}

/* Packs and sends the list (done NULL: only frees it). */
static void answer_list(struct list_ctx *l, Oj__PipelineListResponse_Closure done, void *call)
{
    Oj__PipelineSummary *s = calloc(l->n + 1, sizeof *s);
    Oj__PipelineSummary **sp = calloc(l->n + 1, sizeof *sp);
    size_t n = s && sp ? l->n : 0;
    for (size_t i = 0; i < n; i++) {
        const struct oj_pipeline_brief *b = &l->e[i].b;
        oj__pipeline_summary__init(&s[i]);
        s[i].id = (char *)l->e[i].id;
        s[i].name = (char *)b->name;
        s[i].phase = (char *)b->phase;
        s[i].state = l->e[i].archived ? "archived" : (char *)oj_pipeline_state_name(b->state);
        s[i].created_at_ms = b->created_at_ms;
        s[i].updated_at_ms = b->updated_at_ms;
        sp[i] = &s[i];
    }
    if (n > 1)
        qsort(sp, n, sizeof *sp, by_created);
    Oj__PipelineListResponse out = OJ__PIPELINE_LIST_RESPONSE__INIT;
    out.n_pipelines = n;
    out.pipelines = sp;
    if (done)
        done(&out, call);
    free(s);
    free(sp);
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].own_id);
        oj_pipeline_free(&l->e[i].p);
    }
    free(l->e);
}

/* The archived ones are read from .oj/archive, which can be big, on a
 * thread of their own; the answer goes out from the engine (a read-only
 * one, so even while a restore holds writes), so a call is never answered
 * after the daemon's stop has abandoned it. */
struct archived_job {
    struct list_ctx l; /* the live ones copied on the engine, then the archived */
    char state_dir[PATH_MAX];
    Oj__PipelineListResponse_Closure done;
    void *call;
};

static void archived_work(void *arg)
{
    struct archived_job *j = arg;
    oj_pl_each_archived_in(j->state_dir, collect_archived, &j->l);
}

static void archived_then(struct oj_daemon *d, void *arg)
{
    struct archived_job *j = arg;
    answer_list(&j->l, d ? j->done : NULL, j->call);
    free(j);
}

static void rpc_list(Oj__Control_Service *svc, const Oj__PipelineListRequest *in,
                     Oj__PipelineListResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct list_ctx l = {.active_only = in->active_only, .copy = in->include_archived};
    const struct oj_state *state = oj_store_state(d->store);
    if (in->active_only) /* not every finished one */
        oj_state_each_where(state, "pipeline", oj_pipeline_in_play, collect, &l);
    else
        oj_state_each(state, "pipeline", collect, &l);
    if (!in->include_archived) {
        answer_list(&l, done, call);
        return;
    }
    struct archived_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        answer_list(&l, NULL, NULL);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    j->l = l;
    snprintf(j->state_dir, sizeof j->state_dir, "%s", d->paths.state_dir);
    j->done = done;
    j->call = call;
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD, archived_work, archived_then,
                       j) == 0) {
        archived_work(j); /* no thread: here, as before */
        archived_then(d, j);
    }
}

static void describe(struct oj_daemon *d, const char *id, const struct oj_pipeline *p, bool full,
                     void (*reply)(Oj__PipelineStatusResponse *, void *), void *call)
{
    Oj__PipelineSummary s;
    summary(id, p, &s);
    Oj__PipelineStatusResponse out = OJ__PIPELINE_STATUS_RESPONSE__INIT;
    out.pipeline = &s;
    out.session_id = (char *)p->session_id;
    if (oj_session_live(d, out.session_id)) {
        int64_t last = oj_session_last_output_ms(d, out.session_id), now = oj_wall_ms();
        out.idle_ms = now > last ? now - last : 0;
    }
    struct oj_session rec = {0};
    if (p->session_id[0] && oj_session_get(d, p->session_id, &rec) == 0) {
        bool asked;
        int64_t since;
        const char *prompt = oj_session_prompt(d, p->session_id, &asked, &since);
        out.agent_state = (char *)oj_session_shown_state(
            &rec, oj_session_quiet_ms(&rec, oj_wall_ms()), prompt != NULL);
        if (prompt && rec.state == OJ_SESSION_RUNNING)
            out.agent_prompt = (char *)prompt;
    }
    oj_session_clear(&rec);
    out.waiting_for_lock = (char *)p->waiting_for_lock;
    out.last_error = (char *)p->last_error;
    out.workspace = (char *)p->workspace;
    out.branch = (char *)p->branch;
    Oj__RecoveryStep *steps = calloc(p->n_recovery + 1, sizeof *steps);
    Oj__RecoveryStep **stp = calloc(p->n_recovery + 1, sizeof *stp);
    size_t n = steps && stp ? p->n_recovery : 0;
    for (size_t i = 0; i < n; i++) {
        oj__recovery_step__init(&steps[i]);
        steps[i].time_ms = p->recovery[i].time_ms;
        steps[i].action = (char *)p->recovery[i].action;
        steps[i].detail = (char *)p->recovery[i].detail;
        stp[i] = &steps[i];
    }
    out.n_recovery = n;
    out.recovery = stp;
    Oj__Input *inputs = calloc(p->n_inputs + 1, sizeof *inputs);
    Oj__Input **ip = calloc(p->n_inputs + 1, sizeof *ip);
    n = full && inputs && ip ? p->n_inputs : 0;
    for (size_t i = 0; i < n; i++) {
        oj__input__init(&inputs[i]);
        inputs[i].name = (char *)p->inputs[i].name;
        inputs[i].value = (char *)p->inputs[i].value;
        ip[i] = &inputs[i];
    }
    out.n_inputs = n;
    out.inputs = ip;
    out.step = (char *)oj_pipeline_step_name(p->step);
    out.attempt = (int32_t)p->attempt;
    out.lock_held = (char *)p->lock_held;
    Oj__Checkpoint *cp = calloc(p->n_checkpoints + 1, sizeof *cp);
    Oj__Checkpoint **cpp = calloc(p->n_checkpoints + 1, sizeof *cpp);
    n = full && cp && cpp ? p->n_checkpoints : 0;
    for (size_t i = 0; i < n; i++) {
        oj__checkpoint__init(&cp[i]);
        cp[i].time_ms = p->checkpoints[i].time_ms;
        cp[i].phase = (char *)p->checkpoints[i].phase;
        cp[i].message = (char *)p->checkpoints[i].message;
        cpp[i] = &cp[i];
    }
    out.n_checkpoints = n;
    out.checkpoints = cpp;
    const cJSON *w = oj_pl_workspace_record(d, p);
    const char *slash = strrchr(p->workspace, '/');
    const struct oj_ws_stat *st = w && slash ? oj_ws_stat_get(d, slash + 1) : NULL;
    if (st) {
        out.lines_added = st->s.added;
        out.lines_removed = st->s.removed;
        out.files_changed = st->s.files;
        out.diffstat_at_ms = st->at_ms;
    }
    out.port = oj_pl_port(d, p);
    reply(&out, call);
    free(steps);
    free(stp);
    free(inputs);
    free(ip);
    free(cp);
    free(cpp);
}

struct status_call {
    Oj__PipelineStatusResponse_Closure done;
    void *call;
    char id[16];
    bool full;
};

static void send_status(Oj__PipelineStatusResponse *out, void *arg)
{
    struct status_call *c = arg;
    c->done(out, c->call);
}

/* Engine thread, once the workspace's diff-stat is fresh (at once when it
 * was, else after git measured it on its own thread). */
static void status_then(struct oj_daemon *d, void *arg)
{
    struct status_call *c = arg;
    struct oj_pipeline p;
    if (d == NULL) {
        free(c);
        return;
    }
    if (!load(d, c->id, &p)) { /* archived while git measured */
        oj_pipeline_free(&p);
        OJ_FAIL(c->call, c->done, OJ__STATUS_CODE__NOT_FOUND,
                "pipeline %s was archived meanwhile; see `oj pipeline list --all`", c->id);
        free(c);
        return;
    }
    describe(d, c->id, &p, c->full, send_status, c);
    oj_pipeline_free(&p);
    free(c);
}

static void status_or_show(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                           Oj__PipelineStatusResponse_Closure done, void *call, bool full)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16];
    if (!resolve(d, in->id, id, sizeof id, call))
        OJ_FAILED_RETURN(call, done);
    struct status_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    *c = (struct status_call){.done = done, .call = call, .full = full};
    snprintf(c->id, sizeof c->id, "%s", id);
    struct oj_pipeline p;
    load(d, id, &p);
    const cJSON *w = oj_pl_workspace_record(d, &p);
    const char *slash = strrchr(p.workspace, '/');
    char name[200];
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : "");
    oj_pipeline_free(&p);
    /* its diff-stat measured by git off the engine, unless a recent one is kept */
    if (!oj_ws_stat_refresh(d, name, w, status_then, c))
        status_then(d, c); /* no thread: without a fresh diff-stat */
}

static void rpc_status(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__PipelineStatusResponse_Closure done, void *call)
{
    status_or_show(svc, in, done, call, false);
}

static void rpc_show(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                     Oj__PipelineStatusResponse_Closure done, void *call)
{
    status_or_show(svc, in, done, call, true);
}

/* The answer to a pipeline command: code 0 (the action's message) or a
 * status code (why it was refused). */
static void answer(void *call, Oj__ActionResponse_Closure done, const char *id, int code,
                   const char *msg)
{
    if (code != 0)
        OJ_FAIL(call, done, code, "%s", msg);
    else
        oj_reply_action(call, done, id, msg);
}

/* A nudge, answered once tmux has typed it. */
struct nudge_call {
    Oj__ActionResponse_Closure done;
    void *call;
    char id[16];
};

static void nudge_answered(struct oj_daemon *d, void *arg, int code, const char *msg)
{
    struct nudge_call *c = arg;
    if (d != NULL)
        answer(c->call, c->done, c->id, code, msg);
    free(c);
}

static void rpc_nudge(Oj__Control_Service *svc, const Oj__NudgeRequest *in,
                      Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[600];
    long at = oj_text_control_at(in->message);
    if (at >= 0) {
        snprintf(msg, sizeof msg,
                 "the nudge message holds a control byte (0x%02x at byte %ld); send keys with "
                 "`oj session send --allow-control` instead",
                 (unsigned char)in->message[at], at + 1);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, "%s", msg);
    }
    if (!resolve(d, in->id, id, sizeof id, call))
        OJ_FAILED_RETURN(call, done);
    struct nudge_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    *c = (struct nudge_call){.done = done, .call = call};
    snprintf(c->id, sizeof c->id, "%s", id);
    int code = oj_pipeline_nudge(d, id, in->message, nudge_answered, c, msg, sizeof msg);
    if (code != 0) {
        free(c);
        answer(call, done, id, code, msg);
    }
}

/* A command that takes only the pipeline (restart, resume, cancel): resolve
 * it, let the engine act, answer with what it did or why not. */
static void act_on(struct oj_daemon *d, const char *query,
                   int (*act)(struct oj_daemon *d, const char *id, char *msg, size_t len),
                   Oj__ActionResponse_Closure done, void *call)
{
    char id[16], msg[600];
    if (!resolve(d, query, id, sizeof id, call))
        OJ_FAILED_RETURN(call, done);
    answer(call, done, id, act(d, id, msg, sizeof msg), msg);
}

static void rpc_restart(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                        Oj__ActionResponse_Closure done, void *call)
{
    act_on(oj_daemon_of(svc), in->id, oj_pipeline_restart, done, call);
}

static void rpc_resume(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    act_on(oj_daemon_of(svc), in->id, oj_pipeline_resume, done, call);
}

static void rpc_cancel(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    act_on(oj_daemon_of(svc), in->id, oj_pipeline_cancel, done, call);
}

static void rpc_done(Oj__Control_Service *svc, const Oj__DoneRequest *in,
                     Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[800];
    if (oj_pipeline_done_repeat(d, in->task, in->session_id, in->error, msg, sizeof msg)) {
        oj_reply_action(call, done, in->task, msg);
        return;
    }
    if (!resolve(d, in->task, id, sizeof id, call))
        OJ_FAILED_RETURN(call, done);
    int code = oj_pipeline_done(d, id, in->phase, in->session_id, in->error, msg, sizeof msg);
    answer(call, done, id, code, msg);
}

static void rpc_checkpoint(Oj__Control_Service *svc, const Oj__CheckpointRequest *in,
                           Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[600];
    if (!resolve(d, in->task, id, sizeof id, call))
        OJ_FAILED_RETURN(call, done);
    int code = oj_pipeline_checkpoint(d, id, in->phase, in->session_id, in->message, msg,
                                      sizeof msg);
    answer(call, done, id, code, msg);
}

/* ---- output ------------------------------------------------------------------------------ */

#define LOGS_DEFAULT_MAX (1u << 20)
#define LOGS_MAX (16u << 20)

/* Whether query is a whole pipeline id (p + 6 hex digits) whose log is still
 * kept though its record left the state (archived): its output can be read. */
static bool archived_logs(struct oj_daemon *d, const char *query)
{
    bool whole = strlen(query) == 7 && query[0] == 'p';
    for (int i = 1; whole && i < 7; i++)
        whole = (query[i] >= '0' && query[i] <= '9') || (query[i] >= 'a' && query[i] <= 'f');
    char log[PATH_MAX + 64];
    if (whole)
        oj_pl_log_path(d, query, log, sizeof log);
    return whole && access(log, F_OK) == 0;
}

/* The files of a PipelineLogs, read off the state (engine_work.h). */
struct logs_read {
    Oj__PipelineLogsResponse_Closure done;
    void *call;
    struct oj_pl_logs_job *job;
    const char *state; /* static */
    char id[16];
};

static void logs_read(void *arg)
{
    struct logs_read *r = arg;
    struct oj_pl_logs l;
    int rc = oj_pipeline_logs_read(r->job, &l);
    Oj__LogPiece *pieces = calloc(l.n + 1, sizeof *pieces);
    Oj__LogPiece **ptrs = calloc(l.n + 1, sizeof *ptrs);
    if ((rc != 0 && l.n == 0) || pieces == NULL || ptrs == NULL) {
        OJ_FAIL(r->call, r->done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    } else {
        for (size_t i = 0; i < l.n; i++) {
            oj__log_piece__init(&pieces[i]);
            pieces[i].source = l.pieces[i].source;
            pieces[i].phase = l.pieces[i].phase;
            pieces[i].first = l.pieces[i].first;
            pieces[i].data.data = l.pieces[i].data;
            pieces[i].data.len = l.pieces[i].len;
            ptrs[i] = &pieces[i];
        }
        Oj__PipelineLogsResponse out = OJ__PIPELINE_LOGS_RESPONSE__INIT;
        out.pipeline_id = r->id;
        out.pieces = ptrs;
        out.n_pieces = l.n;
        out.part = l.part;
        out.offset = l.offset;
        out.state = (char *)r->state;
        out.complete = l.complete;
        out.session_id = l.session_id;
        r->done(&out, r->call);
    }
    free(pieces);
    free(ptrs);
    oj_pl_logs_free(&l);
    oj_pl_logs_job_free(r->job);
    free(r);
}

static void rpc_logs(Oj__Control_Service *svc, const Oj__PipelineLogsRequest *in,
                     Oj__PipelineLogsResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *found;
    char why[300], id[16];
    int code = oj_pipeline_find(d, in->id, &found, why, sizeof why);
    const char *state = "archived";
    bool finished = true;
    if (code == OJ__STATUS_CODE__OK) {
        snprintf(id, sizeof id, "%s", found);
        enum oj_pipeline_state st =
            oj_pipeline_state_of(oj_state_get(state_of(d), "pipeline", id));
        state = oj_pipeline_state_name(st);
        finished = !oj_pipeline_state_active(st);
    } else if (code == OJ__STATUS_CODE__NOT_FOUND && archived_logs(d, in->id)) {
        snprintf(id, sizeof id, "%s", in->id);
    } else {
        OJ_FAIL_RETURN(call, done, code, "%s", why);
    }
    size_t max = in->max_bytes == 0 ? LOGS_DEFAULT_MAX
                 : in->max_bytes > LOGS_MAX ? LOGS_MAX
                                            : in->max_bytes;
    struct logs_read *r = calloc(1, sizeof *r);
    if (r == NULL ||
        (r->job = oj_pipeline_logs_plan(d, id, finished, in->follow, in->part, in->offset,
                                        max)) == NULL) {
        free(r);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    r->done = done;
    r->call = call;
    r->state = state;
    snprintf(r->id, sizeof r->id, "%s", id);
    uint64_t est = oj_pipeline_logs_estimate(r->job);
    oj_engine_read(d, est < max ? est : max, logs_read, r);
}

void oj_rpc_register_pipeline(Oj__Control_Service *svc)
{
    svc->run = rpc_run;
    svc->pipeline_list = rpc_list;
    svc->pipeline_status = rpc_status;
    svc->pipeline_show = rpc_show;
    svc->pipeline_nudge = rpc_nudge;
    svc->pipeline_restart = rpc_restart;
    svc->pipeline_resume = rpc_resume;
    svc->pipeline_cancel = rpc_cancel;
    svc->pipeline_logs = rpc_logs;
    svc->done = rpc_done;
    svc->checkpoint = rpc_checkpoint;
}
