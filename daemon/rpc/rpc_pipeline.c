/* rpc_pipeline.c — the pipeline commands: oj run, pipeline list / status /
 * show / nudge / restart / resume / cancel, and the agents' oj done and oj
 * checkpoint. The engine they act through is in pipeline_*.c. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "resolve.h"
#include "rpc_table.h"
#include "sessions.h"
#include "utf8.h"

static void match(const char *id, const cJSON *v, void *arg)
{
    (void)v;
    oj_resolve_offer(arg, id, NULL, 0); /* pipelines have no names of their own */
}

/* The pipeline id a user meant (exact or unique prefix, resolve.h), copied
 * into id; or false with the call failed. */
static bool resolve(struct oj_daemon *d, const char *query, char *id, size_t len, void *call)
{
    if (query == NULL || query[0] == '\0') {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "which pipeline? give its id (see `oj pipeline list`)");
        return false;
    }
    struct oj_resolve m = {.query = query};
    oj_state_each(state_of(d), "pipeline", match, &m);
    const char *found;
    enum oj_resolved r = oj_resolve_pick(&m, &found);
    if (r == OJ_RESOLVE_AMBIGUOUS) {
        char list[128];
        oj_resolve_candidates(&m, list, sizeof list);
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "'%s' matches %d pipelines (%s); give more of the id", query, m.nprefix,
                     list);
        return false;
    }
    if (r == OJ_RESOLVE_NONE) {
        oj_call_fail(call, OJ__STATUS_CODE__NOT_FOUND,
                     "no pipeline '%s'; list them with `oj pipeline list --all`", query);
        return false;
    }
    snprintf(id, len, "%s", found);
    return true;
}

static void rpc_run(Oj__Control_Service *svc, const Oj__RunRequest *in,
                    Oj__RunResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    oj_runbooks_refresh(d); /* an edited runbook counts at once */
    char **names = calloc(in->n_inputs + 1, sizeof *names);
    char **values = calloc(in->n_inputs + 1, sizeof *values);
    for (size_t i = 0; i < in->n_inputs; i++) {
        names[i] = in->inputs[i]->name;
        values[i] = in->inputs[i]->value;
    }
    char id[16], err[1500];
    int code;
    int rc = oj_pipeline_start(d, in->pipeline, in->positional, in->n_positional, names, values,
                               in->n_inputs, id, sizeof id, &code, err, sizeof err);
    free(names);
    free(values);
    if (rc != 0) {
        oj_call_fail(call, code, "%s", err);
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    Oj__RunResponse out = OJ__RUN_RESPONSE__INIT;
    out.pipeline_id = id;
    out.workspace = (char *)oj_json_str(v, "workspace");
    out.branch = (char *)oj_json_str(v, "branch");
    done(&out, call);
}

/* ---- the commands ------------------------------------------------------------------------- */

static void summary(const char *id, const cJSON *v, Oj__PipelineSummary *s)
{
    oj__pipeline_summary__init(s);
    s->id = (char *)id;
    s->name = (char *)oj_json_str(v, "name");
    s->phase = (char *)oj_json_str(v, "phase");
    s->state = (char *)oj_json_str(v, "state");
    s->created_at_ms = oj_json_int(v, "created_at_ms");
    s->updated_at_ms = oj_json_int(v, "updated_at_ms");
}

struct list_ctx {
    bool active_only;
    Oj__PipelineSummary *s;
    Oj__PipelineSummary **p;
    size_t n, cap;
};

static void collect(const char *id, const cJSON *v, void *arg)
{
    struct list_ctx *l = arg;
    if (l->active_only && !oj_pipeline_active(v))
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->s = realloc(l->s, l->cap * sizeof *l->s);
    }
    summary(id, v, &l->s[l->n++]);
}

static int by_created(const void *a, const void *b)
{
    const Oj__PipelineSummary *x = *(Oj__PipelineSummary *const *)a,
                              *y = *(Oj__PipelineSummary *const *)b;
    return (x->created_at_ms > y->created_at_ms) - (x->created_at_ms < y->created_at_ms);
}

/* Archived pipelines (oj maintenance archive) as summaries: id and name
 * strings are kept alive in `keep` until the reply is packed. */
static void collect_archived(struct oj_daemon *d, struct list_ctx *l, cJSON *keep)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/archive", d->paths.state_dir);
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        /* archive-*: pipelines and sessions; pipelines-*: older archives */
        if (strncmp(e->d_name, "archive-", 8) != 0 && strncmp(e->d_name, "pipelines-", 10) != 0)
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        char *text = len > 0 ? malloc((size_t)len + 1) : NULL;
        size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
        fclose(f);
        if (text == NULL)
            continue;
        text[got] = '\0';
        cJSON *doc = cJSON_Parse(text);
        free(text);
        if (doc == NULL)
            continue;
        cJSON *ps = cJSON_DetachItemFromObjectCaseSensitive(doc, "pipelines");
        cJSON_Delete(doc);
        if (ps == NULL)
            continue;
        cJSON_AddItemToArray(keep, ps);
        for (cJSON *p = ps->child; p; p = p->next) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                l->s = realloc(l->s, l->cap * sizeof *l->s);
            }
            summary(p->string, p, &l->s[l->n]);
            oj_json_set_str(p, "archived_state", "archived");
            l->s[l->n].state = (char *)oj_json_str(p, "archived_state");
            l->n++;
        }
    }
    closedir(dh);
}

static void rpc_list(Oj__Control_Service *svc, const Oj__PipelineListRequest *in,
                     Oj__PipelineListResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct list_ctx l = {.active_only = in->active_only};
    oj_state_each(state_of(d), "pipeline", collect, &l);
    cJSON *keep = cJSON_CreateArray();
    if (in->include_archived)
        collect_archived(d, &l, keep);
    l.p = calloc(l.n + 1, sizeof *l.p);
    for (size_t i = 0; i < l.n; i++)
        l.p[i] = &l.s[i];
    if (l.p && l.n > 1)
        qsort(l.p, l.n, sizeof *l.p, by_created);
    Oj__PipelineListResponse out = OJ__PIPELINE_LIST_RESPONSE__INIT;
    out.n_pipelines = l.n;
    out.pipelines = l.p;
    done(&out, call);
    free(l.p);
    free(l.s);
    cJSON_Delete(keep);
}

static void describe(struct oj_daemon *d, const char *id, const cJSON *v, bool full,
                     void (*reply)(Oj__PipelineStatusResponse *, void *), void *call)
{
    Oj__PipelineSummary s;
    summary(id, v, &s);
    Oj__PipelineStatusResponse out = OJ__PIPELINE_STATUS_RESPONSE__INIT;
    out.pipeline = &s;
    out.session_id = (char *)oj_json_str(v, "session_id");
    const cJSON *sess = oj_state_get(state_of(d), "session", out.session_id);
    if (sess && oj_session_active(sess)) {
        int64_t last = oj_session_last_output_ms(d, out.session_id), now = oj_wall_ms();
        out.idle_ms = now > last ? now - last : 0;
    }
    out.waiting_for_lock = (char *)oj_json_str(v, "waiting_for_lock");
    out.last_error = (char *)oj_json_str(v, "last_error");
    out.workspace = (char *)oj_json_str(v, "workspace");
    out.branch = (char *)oj_json_str(v, "branch");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(v, "recovery");
    size_t nrec = (size_t)cJSON_GetArraySize(rec);
    Oj__RecoveryStep *steps = calloc(nrec + 1, sizeof *steps);
    Oj__RecoveryStep **sp = calloc(nrec + 1, sizeof *sp);
    size_t i = 0;
    for (const cJSON *r = rec ? rec->child : NULL; r && i < nrec; r = r->next, i++) {
        oj__recovery_step__init(&steps[i]);
        steps[i].time_ms = oj_json_int(r, "time_ms");
        steps[i].action = (char *)oj_json_str(r, "action");
        steps[i].detail = (char *)oj_json_str(r, "detail");
        sp[i] = &steps[i];
    }
    out.n_recovery = i;
    out.recovery = sp;
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(v, "inputs");
    size_t nin = full ? (size_t)cJSON_GetArraySize(ins) : 0;
    Oj__Input *inputs = calloc(nin + 1, sizeof *inputs);
    Oj__Input **ip = calloc(nin + 1, sizeof *ip);
    i = 0;
    for (const cJSON *x = full && ins ? ins->child : NULL; x && i < nin; x = x->next, i++) {
        oj__input__init(&inputs[i]);
        inputs[i].name = x->string;
        inputs[i].value = cJSON_IsString(x) ? x->valuestring : "";
        ip[i] = &inputs[i];
    }
    out.n_inputs = i;
    out.inputs = ip;
    out.step = (char *)oj_json_str(v, "step");
    out.attempt = (int32_t)oj_json_int(v, "attempt");
    out.lock_held = (char *)oj_json_str(v, "lock_held");
    const cJSON *cps = cJSON_GetObjectItemCaseSensitive(v, "checkpoints");
    size_t ncp = full ? (size_t)cJSON_GetArraySize(cps) : 0;
    Oj__Checkpoint *cp = calloc(ncp + 1, sizeof *cp);
    Oj__Checkpoint **cpp = calloc(ncp + 1, sizeof *cpp);
    i = 0;
    for (const cJSON *x = full && cps ? cps->child : NULL; x && i < ncp; x = x->next, i++) {
        oj__checkpoint__init(&cp[i]);
        cp[i].time_ms = oj_json_int(x, "time_ms");
        cp[i].phase = (char *)oj_json_str(x, "phase");
        cp[i].message = (char *)oj_json_str(x, "message");
        cpp[i] = &cp[i];
    }
    out.n_checkpoints = i;
    out.checkpoints = cpp;
    reply(&out, call);
    free(steps);
    free(sp);
    free(inputs);
    free(ip);
    free(cp);
    free(cpp);
}

struct status_call {
    Oj__PipelineStatusResponse_Closure done;
    void *call;
};

static void send_status(Oj__PipelineStatusResponse *out, void *arg)
{
    struct status_call *c = arg;
    c->done(out, c->call);
}

static void status_or_show(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                           Oj__PipelineStatusResponse_Closure done, void *call, bool full)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    struct status_call c = {done, call};
    describe(d, id, get(d, id), full, send_status, &c);
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

static void reply_action(void *call, Oj__ActionResponse_Closure done, const char *id,
                         const char *msg)
{
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = (char *)id;
    out.message = (char *)msg;
    done(&out, call);
}

static void refuse(void *call, Oj__ActionResponse_Closure done, int code, const char *msg)
{
    oj_call_fail(call, code, "%s", msg);
    done(NULL, call);
}

static void rpc_nudge(Oj__Control_Service *svc, const Oj__NudgeRequest *in,
                      Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], sid[16], msg[600], err[256];
    long at = oj_text_control_at(in->message);
    if (at >= 0) {
        snprintf(msg, sizeof msg,
                 "the nudge message holds a control byte (0x%02x at byte %ld); send keys with "
                 "`oj session send --allow-control` instead",
                 (unsigned char)in->message[at], at + 1);
        refuse(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, msg);
        return;
    }
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    snprintf(sid, sizeof sid, "%s", oj_json_str(v, "session_id"));
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0 || !sid[0]) {
        snprintf(msg, sizeof msg,
                 "pipeline %s has no agent running (state %s, phase %s, step %s); nothing to nudge",
                 id, oj_json_str(v, "state"), oj_json_str(v, "phase"), oj_json_str(v, "step"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (oj_session_type(d, sid, in->message[0] ? in->message : STUCK_NUDGE, true, err,
                        sizeof err) != 0) {
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, err);
        return;
    }
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(v, now);
    snprintf(msg, sizeof msg, "by the operator, session %s", sid);
    oj_pipeline_record_step(n, now, "nudge", msg);
    oj_json_set_num(n, "last_step_ms", (double)now);
    save(d, id, n);
    event(d, "pipeline.nudged", id, msg);
    snprintf(msg, sizeof msg, "nudged session %s", sid);
    reply_action(call, done, id, msg);
}

/* Starts the current phase over (operator restart, resume after a failure). */
static void rerun_phase(struct oj_daemon *d, const char *id, const char *action, const char *detail)
{
    int64_t now = oj_wall_ms();
    const cJSON *v = get(d, id);
    cJSON *n = oj_pipeline_copy(v, now);
    oj_pl_let_go(d, id, n, true);
    cJSON *e = oj_pipeline_enter(n, oj_json_str(v, "phase"), now);
    cJSON_Delete(n);
    /* attempts only grow within a phase: a late result of the old run must
     * never pass for the new one's */
    oj_json_set_num(e, "attempt", (double)oj_json_int(v, "attempt"));
    oj_json_set_str(e, "state", "running");
    oj_pipeline_record_step(e, now, action, detail);
    oj_json_set_num(e, "last_step_ms", (double)now);
    if (!save(d, id, e))
        return;
    char kind[64];
    snprintf(kind, sizeof kind, "pipeline.%s",
             strcmp(action, "restart") == 0 ? "restarted" : "resumed");
    event(d, kind, id, detail);
    oj_pl_drive(d, id);
}

/* A shell step or the making of its worktree runs for the pipeline. */
static bool shell_running(struct oj_daemon *d, const char *id, const cJSON *v)
{
    return (strcmp(oj_json_str(v, "step"), "shell") == 0 ||
            strcmp(oj_json_str(v, "step"), "workspace") == 0) &&
           oj_hmap_get(&d->pipeline_shells, id) != NULL;
}

static void rpc_restart(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                        Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[400];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, sizeof msg, "pipeline %s is %s; `oj pipeline resume %s` runs a failed one "
                                  "again", id, oj_json_str(v, "state"), id);
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (strcmp(oj_json_str(v, "step"), "workspace") == 0) {
        snprintf(msg, sizeof msg, "pipeline %s is still making its workspace (its first phase "
                                  "has not started); nothing to restart yet", id);
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (shell_running(d, id, v)) {
        oj_pl_kill_shell_step(d, id); /* its late result is ignored: the attempt moves on */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    rerun_phase(d, id, "restart", "by the operator");
    snprintf(msg, sizeof msg, "restarted phase %s", phase);
    reply_action(call, done, id, msg);
}

static void rpc_resume(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[600];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    const char *state = oj_json_str(v, "state");
    struct stat st;
    if (strcmp(state, "escalated") != 0 && strcmp(state, "failed") != 0) {
        snprintf(msg, sizeof msg,
                 "pipeline %s is %s; resume is for an escalated or failed pipeline", id, state);
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (stat(oj_json_str(v, "workspace"), &st) != 0) {
        snprintf(msg, sizeof msg, "pipeline %s's workspace %s is gone (cleaned up?); start it anew "
                                  "with `oj run`", id, oj_json_str(v, "workspace"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    const cJSON *sess = oj_state_get(state_of(d), "session", oj_json_str(v, "session_id"));
    if (strcmp(state, "escalated") == 0 && strcmp(oj_json_str(v, "step"), "agent") == 0 && sess &&
        oj_session_active(sess)) {
        /* The agent still runs: give it a fresh recovery chain. */
        int64_t now = oj_wall_ms();
        cJSON *n = oj_pipeline_copy(v, now);
        oj_json_set_str(n, "state", "running");
        oj_json_set_num(n, "stuck_index", 0);
        oj_json_set_num(n, "last_step_ms", (double)now);
        /* The phase's timeout was not checked while a human decided; it
         * counts anew, or a long escalation would fail the phase at once. */
        oj_json_set_num(n, "run_started_ms", (double)now);
        oj_pipeline_record_step(n, now, "resume", "by the operator; the agent keeps running");
        if (save(d, id, n)) {
            oj_session_rearm(d, oj_json_str(get(d, id), "session_id"));
            event(d, "pipeline.resumed", id, "the agent keeps running");
        }
        snprintf(msg, sizeof msg, "resumed phase %s; its agent keeps running", phase);
    } else {
        rerun_phase(d, id, "resume", "by the operator; the phase starts again");
        snprintf(msg, sizeof msg, "resumed: phase %s starts again", phase);
    }
    reply_action(call, done, id, msg);
}

static void rpc_cancel(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[300];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, sizeof msg, "pipeline %s is already %s", id, oj_json_str(v, "state"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (shell_running(d, id, v)) {
        oj_pl_kill_shell_step(d, id); /* before the lock goes: nothing of it runs unlocked */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_pl_let_go(d, id, n, true);
    oj_json_set_str(n, "session_id", "");
    if (!save(d, id, n)) {
        refuse(call, done, OJ__STATUS_CODE__INTERNAL, "cannot record the cancel");
        return;
    }
    oj_pl_finish(d, id, "cancelled", "cancelled by the operator");
    reply_action(call, done, id, "cancelled");
}

/* The pipeline an agent's `oj done` / `oj checkpoint` is about, checked
 * against its phase and session; false with the call failed. */
static bool agent_call(struct oj_daemon *d, const char *task, const char *phase,
                       const char *session_id, char *id, size_t len, void *call)
{
    if (!resolve(d, task, id, len, call))
        return false;
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "pipeline %s is not waiting for an agent (state %s, step %s)", id,
                     oj_json_str(v, "state"), oj_json_str(v, "step"));
        return false;
    }
    if (phase[0] && strcmp(phase, oj_json_str(v, "phase")) != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "pipeline %s is in phase %s, not %s; this agent's phase is over", id,
                     oj_json_str(v, "phase"), phase);
        return false;
    }
    if (session_id[0] && strcmp(session_id, oj_json_str(v, "session_id")) != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "session %s is no longer pipeline %s's agent (now %s)", session_id, id,
                     oj_json_str(v, "session_id"));
        return false;
    }
    return true;
}

static void rpc_done(Oj__Control_Service *svc, const Oj__DoneRequest *in,
                     Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[800];
    /* The same agent saying the same again (`oj done` retried after a daemon
     * crash that came before the answer, or simply run twice) gets the first
     * answer: its phase did end. */
    const cJSON *prev = in->session_id[0] ? get(d, in->task) : NULL; /* OTTER_TASK: a full id */
    if (prev && strcmp(oj_json_str(prev, "done_session"), in->session_id) == 0 &&
        strcmp(oj_json_str(prev, "done_error"), in->error) == 0) {
        char first[701];
        snprintf(msg, sizeof msg, "%s (already recorded)",
                 oj_utf8_show(first, sizeof first, oj_json_str(prev, "done_reply")));
        reply_action(call, done, in->task, msg);
        return;
    }
    if (!agent_call(d, in->task, in->phase, in->session_id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(get(d, id), "phase"));
    bool ok = in->error[0] == '\0';
    oj_pl_phase_over(d, id, ok, in->error, false);
    const cJSON *v = get(d, id);
    if (strcmp(oj_json_str(v, "step"), "decide") == 0)
        snprintf(msg, sizeof msg, "phase %s %s; no runbook loads (see oj status), so pipeline %s "
                 "goes on once one does", phase, ok ? "done" : "failed", id);
    else if (ok)
        snprintf(msg, sizeof msg, "phase %s done; pipeline %s is now %s%s%s", phase, id,
                 oj_json_str(v, "state"), oj_pipeline_active(v) ? " in phase " : "",
                 oj_pipeline_active(v) ? oj_json_str(v, "phase") : "");
    else {
        char why[501];
        snprintf(msg, sizeof msg, "phase %s failed: %s; pipeline %s is now %s", phase,
                 oj_utf8_show(why, sizeof why, in->error), id, oj_json_str(v, "state"));
    }
    if (in->session_id[0]) { /* for a repeat of this request (above) */
        cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(n, "done_session", in->session_id);
        oj_json_set_str(n, "done_error", in->error);
        oj_json_set_str(n, "done_reply", msg);
        save(d, id, n);
    }
    reply_action(call, done, id, msg);
}

static void rpc_checkpoint(Oj__Control_Service *svc, const Oj__CheckpointRequest *in,
                           Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16];
    if (!agent_call(d, in->task, in->phase, in->session_id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(get(d, id), now);
    cJSON *cps = cJSON_GetObjectItemCaseSensitive(n, "checkpoints");
    if (!cJSON_IsArray(cps)) {
        cJSON_DeleteItemFromObjectCaseSensitive(n, "checkpoints");
        cJSON_AddItemToObject(n, "checkpoints", cps = cJSON_CreateArray());
    }
    cJSON *cp = cJSON_CreateObject();
    cJSON_AddNumberToObject(cp, "time_ms", (double)now);
    cJSON_AddStringToObject(cp, "phase", oj_json_str(n, "phase"));
    cJSON_AddStringToObject(cp, "message", in->message);
    cJSON_AddItemToArray(cps, cp);
    while (cJSON_GetArraySize(cps) > MAX_CHECKPOINTS)
        cJSON_DeleteItemFromArray(cps, 0);
    if (!save(d, id, n)) {
        refuse(call, done, OJ__STATUS_CODE__INTERNAL, "cannot record the checkpoint");
        return;
    }
    event(d, "pipeline.checkpoint", id, in->message);
    reply_action(call, done, id, "checkpoint recorded");
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
    svc->done = rpc_done;
    svc->checkpoint = rpc_checkpoint;
}
