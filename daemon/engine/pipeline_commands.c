/* pipeline_commands.c — what operators and agents do to a pipeline (see
 * pipeline_commands.h): nudge, restart, resume, cancel, and the agents' done
 * and checkpoint. The phase moves themselves are pipeline_drive.c's. */
#include "pipeline_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "resolve.h"
#include "sessions.h"
#include "utf8.h"

/* An operator's nudge being typed: recorded once tmux has typed it. */
struct nudge {
    char id[16], sid[32];
    oj_pipeline_answered answered;
    void *arg;
};

static void nudged(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct nudge *n = arg;
    char msg[600];
    if (d == NULL) {
        n->answered(NULL, n->arg, OJ__STATUS_CODE__SHUTTING_DOWN, "the daemon stopped");
    } else if (rc != 0) {
        n->answered(d, n->arg, OJ__STATUS_CODE__CONFLICT, err);
    } else {
        struct oj_pipeline p;
        load(d, n->id, &p);
        int64_t now = oj_wall_ms();
        oj_pipeline_touch(&p, now);
        snprintf(msg, sizeof msg, "by the operator, session %s", n->sid);
        oj_pipeline_add_recovery(&p, now, "nudge", msg);
        p.last_step_ms = now;
        save(d, n->id, &p);
        oj_pipeline_free(&p);
        event(d, "pipeline.nudged", n->id, msg);
        snprintf(msg, sizeof msg, "nudged session %s", n->sid);
        n->answered(d, n->arg, 0, msg);
    }
    free(n);
}

int oj_pipeline_nudge(struct oj_daemon *d, const char *id, const char *text,
                      oj_pipeline_answered answered, void *arg, char *msg, size_t len)
{
    char err[256];
    struct oj_pipeline p;
    load(d, id, &p);
    int code = 0;
    struct nudge *n = NULL;
    if (!oj_pipeline_state_active(p.state) || p.step != OJ_STEP_AGENT || !p.session_id[0]) {
        snprintf(msg, len,
                 "pipeline %s has no agent running (state %s, phase %s, step %s); nothing to nudge",
                 id, oj_pipeline_state_name(p.state), p.phase, oj_pipeline_step_name(p.step));
        code = OJ__STATUS_CODE__CONFLICT;
    } else if ((n = calloc(1, sizeof *n)) == NULL) {
        snprintf(msg, len, "daemon out of memory");
        code = OJ__STATUS_CODE__INTERNAL;
    } else {
        snprintf(n->id, sizeof n->id, "%s", id);
        snprintf(n->sid, sizeof n->sid, "%s", p.session_id);
        n->answered = answered;
        n->arg = arg;
        if (oj_session_type(d, p.session_id, text && text[0] ? text : STUCK_NUDGE, true, nudged,
                            n, err, sizeof err) != 0) {
            free(n);
            snprintf(msg, len, "%s", err);
            code = OJ__STATUS_CODE__CONFLICT;
        }
    }
    oj_pipeline_free(&p);
    return code;
}

/* Starts the current phase over (operator restart, resume after a failure);
 * kind: the event, pipeline.restarted or pipeline.resumed. */
static void rerun_phase(struct oj_daemon *d, const char *id, const char *action,
                        const char *kind, const char *detail)
{
    int64_t now = oj_wall_ms();
    struct oj_pipeline p;
    load(d, id, &p);
    oj_pipeline_touch(&p, now);
    oj_pl_let_go(d, id, &p, true);
    oj_pipeline_rerun(&p, now, action, detail);
    bool saved = save(d, id, &p);
    oj_pipeline_free(&p);
    if (!saved)
        return;
    event(d, kind, id, detail);
    oj_pl_drive(d, id);
}

/* A shell step or the making of its worktree runs for the pipeline. */
static bool shell_running(struct oj_daemon *d, const char *id, const struct oj_pipeline *p)
{
    return (p->step == OJ_STEP_SHELL || p->step == OJ_STEP_WORKSPACE) &&
           oj_hmap_get(&d->pipeline_shells, id) != NULL;
}

/* Kills what runs of the pipeline's step: its late result is ignored (the
 * attempt moves on, or the pipeline ends), and nothing of it runs after its
 * lock is gone. */
static void stop_shell(struct oj_daemon *d, const char *id, const struct oj_pipeline *p)
{
    if (shell_running(d, id, p)) {
        oj_pl_kill_shell_step(d, id);
        oj_hmap_del(&d->pipeline_shells, id);
    }
}

int oj_pipeline_restart(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    struct oj_pipeline p;
    load(d, id, &p);
    int code = OJ__STATUS_CODE__CONFLICT;
    if (!oj_pipeline_state_active(p.state)) {
        snprintf(msg, len, "pipeline %s is %s; `oj pipeline resume %s` runs a failed one again",
                 id, oj_pipeline_state_name(p.state), id);
    } else if (p.step == OJ_STEP_WORKSPACE) {
        snprintf(msg, len, "pipeline %s is still making its workspace (its first phase has not "
                           "started); nothing to restart yet", id);
    } else {
        stop_shell(d, id, &p);
        char phase[80];
        snprintf(phase, sizeof phase, "%s", p.phase);
        rerun_phase(d, id, "restart", "pipeline.restarted", "by the operator");
        snprintf(msg, len, "restarted phase %s", phase);
        code = 0;
    }
    oj_pipeline_free(&p);
    return code;
}

/* An escalated pipeline whose agent still runs goes on with it: a fresh
 * recovery chain and a fresh timeout. */
static void resume_agent(struct oj_daemon *d, const char *id, struct oj_pipeline *p)
{
    int64_t now = oj_wall_ms();
    oj_pipeline_touch(p, now);
    p->state = OJ_PIPELINE_RUNNING;
    p->stuck_index = 0;
    p->last_step_ms = now;
    /* The phase's timeout was not checked while a human decided; it counts
     * anew, or a long escalation would fail the phase at once. */
    p->run_started_ms = now;
    oj_pipeline_add_recovery(p, now, "resume", "by the operator; the agent keeps running");
    if (save(d, id, p)) {
        oj_session_rearm(d, p->session_id);
        event(d, "pipeline.resumed", id, "the agent keeps running");
    }
}

int oj_pipeline_resume(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    struct oj_pipeline p;
    load(d, id, &p);
    struct stat st;
    int code = OJ__STATUS_CODE__CONFLICT;
    if (p.state != OJ_PIPELINE_ESCALATED && p.state != OJ_PIPELINE_FAILED) {
        snprintf(msg, len, "pipeline %s is %s; resume is for an escalated or failed pipeline", id,
                 oj_pipeline_state_name(p.state));
    } else if (stat(p.workspace, &st) != 0) {
        snprintf(msg, len, "pipeline %s's workspace %s is gone (cleaned up?); start it anew with "
                           "`oj run`", id, p.workspace);
    } else {
        char phase[80];
        snprintf(phase, sizeof phase, "%s", p.phase);
        if (p.state == OJ_PIPELINE_ESCALATED && p.step == OJ_STEP_AGENT &&
            oj_session_live(d, p.session_id)) {
            resume_agent(d, id, &p);
            snprintf(msg, len, "resumed phase %s; its agent keeps running", phase);
        } else {
            rerun_phase(d, id, "resume", "pipeline.resumed",
                        "by the operator; the phase starts again");
            snprintf(msg, len, "resumed: phase %s starts again", phase);
        }
        code = 0;
    }
    oj_pipeline_free(&p);
    return code;
}

int oj_pipeline_cancel(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    struct oj_pipeline p;
    load(d, id, &p);
    int code = 0;
    if (!oj_pipeline_state_active(p.state)) {
        snprintf(msg, len, "pipeline %s is already %s", id, oj_pipeline_state_name(p.state));
        code = OJ__STATUS_CODE__CONFLICT;
    } else {
        stop_shell(d, id, &p); /* before the lock goes: nothing of it runs unlocked */
        oj_pipeline_touch(&p, oj_wall_ms());
        oj_pl_let_go(d, id, &p, true);
        oj_pipeline_set(&p.session_id, "");
        if (!save(d, id, &p)) {
            snprintf(msg, len, "cannot record the cancel");
            code = OJ__STATUS_CODE__INTERNAL;
        } else {
            oj_pl_finish(d, id, OJ_PIPELINE_CANCELLED, "cancelled by the operator");
            snprintf(msg, len, "cancelled");
        }
    }
    oj_pipeline_free(&p);
    return code;
}

/* Is the pipeline p (id) an agent's `oj done` / `oj checkpoint` is about in
 * that agent's phase and session? 0, or a status code with why in msg. */
static int agent_check(const char *id, const struct oj_pipeline *p, const char *phase,
                       const char *session_id, char *msg, size_t len)
{
    if (!oj_pipeline_state_active(p->state) || p->step != OJ_STEP_AGENT) {
        snprintf(msg, len, "pipeline %s is not waiting for an agent (state %s, step %s)", id,
                 oj_pipeline_state_name(p->state), oj_pipeline_step_name(p->step));
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (phase[0] && strcmp(phase, p->phase) != 0) {
        snprintf(msg, len, "pipeline %s is in phase %s, not %s; this agent's phase is over", id,
                 p->phase, phase);
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (session_id[0] && strcmp(session_id, p->session_id) != 0) {
        snprintf(msg, len, "session %s is no longer pipeline %s's agent (now %s)", session_id, id,
                 p->session_id);
        return OJ__STATUS_CODE__CONFLICT;
    }
    return 0;
}

bool oj_pipeline_done_repeat(struct oj_daemon *d, const char *task, const char *session_id,
                             const char *error, char *msg, size_t len)
{
    /* The same agent saying the same again (`oj done` retried after a daemon
     * crash that came before the answer, or simply run twice) gets the first
     * answer: its phase did end. */
    struct oj_pipeline p;
    bool again = session_id[0] && load(d, task, &p) && strcmp(p.done_session, session_id) == 0 &&
                 strcmp(p.done_error, error) == 0;
    if (again) {
        char first[701];
        snprintf(msg, len, "%s (already recorded)",
                 oj_utf8_show(first, sizeof first, p.done_reply));
    }
    if (session_id[0])
        oj_pipeline_free(&p);
    return again;
}

int oj_pipeline_done(struct oj_daemon *d, const char *id, const char *phase_in,
                     const char *session_id, const char *error, char *msg, size_t len)
{
    struct oj_pipeline p;
    load(d, id, &p);
    int code = agent_check(id, &p, phase_in, session_id, msg, len);
    char phase[80];
    snprintf(phase, sizeof phase, "%s", p.phase);
    oj_pipeline_free(&p);
    if (code != 0)
        return code;
    bool ok = error[0] == '\0';
    oj_pl_phase_over(d, id, ok, error, false);
    load(d, id, &p);
    bool active = oj_pipeline_state_active(p.state);
    const char *state = oj_pipeline_state_name(p.state);
    if (p.step == OJ_STEP_DECIDE)
        snprintf(msg, len, "phase %s %s; no runbook loads (see oj status), so pipeline %s "
                 "goes on once one does", phase, ok ? "done" : "failed", id);
    else if (ok)
        snprintf(msg, len, "phase %s done; pipeline %s is now %s%s%s", phase, id, state,
                 active ? " in phase " : "", active ? p.phase : "");
    else {
        char why[501];
        snprintf(msg, len, "phase %s failed: %s; pipeline %s is now %s", phase,
                 oj_utf8_show(why, sizeof why, error), id, state);
    }
    if (session_id[0]) { /* for a repeat of this request (oj_pipeline_done_repeat) */
        oj_pipeline_touch(&p, oj_wall_ms());
        oj_pipeline_set(&p.done_session, session_id);
        oj_pipeline_set(&p.done_error, error);
        oj_pipeline_set(&p.done_reply, msg);
        save(d, id, &p);
    }
    oj_pipeline_free(&p);
    return 0;
}

int oj_pipeline_checkpoint(struct oj_daemon *d, const char *id, const char *phase,
                           const char *session_id, const char *message, char *msg, size_t len)
{
    struct oj_pipeline p;
    load(d, id, &p);
    int code = agent_check(id, &p, phase, session_id, msg, len);
    if (code == 0) {
        int64_t now = oj_wall_ms();
        oj_pipeline_touch(&p, now);
        oj_pipeline_add_checkpoint(&p, now, p.phase, message);
        if (!save(d, id, &p)) {
            snprintf(msg, len, "cannot record the checkpoint");
            code = OJ__STATUS_CODE__INTERNAL;
        } else {
            event(d, "pipeline.checkpoint", id, message);
            snprintf(msg, len, "checkpoint recorded");
        }
    }
    oj_pipeline_free(&p);
    return code;
}

/* ---- which pipeline ------------------------------------------------------------ */

static void offer(const char *id, const cJSON *v, void *arg)
{
    (void)v;
    oj_resolve_offer(arg, id, NULL, 0); /* pipelines have no names of their own */
}

int oj_pipeline_find(struct oj_daemon *d, const char *query, const char **id, char *why,
                     size_t whylen)
{
    *id = NULL;
    if (query == NULL || query[0] == '\0') {
        snprintf(why, whylen, "which pipeline? give its id (see `oj pipeline list`)");
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    struct oj_resolve m = {.query = query};
    oj_state_each(state_of(d), "pipeline", offer, &m);
    switch (oj_resolve_explain(&m, "pipeline", "oj pipeline list --all", id, why, whylen)) {
    case OJ_RESOLVE_FOUND:
        return OJ__STATUS_CODE__OK;
    case OJ_RESOLVE_AMBIGUOUS:
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    case OJ_RESOLVE_NONE:
        break;
    }
    return OJ__STATUS_CODE__NOT_FOUND;
}
