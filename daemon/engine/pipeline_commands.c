/* pipeline_commands.c — what operators and agents do to a pipeline (see
 * pipeline_commands.h): nudge, restart, resume, cancel, and the agents' done
 * and checkpoint. The phase moves themselves are pipeline_drive.c's. */
#include "pipeline_commands.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "sessions.h"
#include "utf8.h"

int oj_pipeline_nudge(struct oj_daemon *d, const char *id, const char *text, char *msg,
                      size_t len)
{
    char sid[16], err[256];
    const cJSON *v = get(d, id);
    snprintf(sid, sizeof sid, "%s", oj_json_str(v, "session_id"));
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0 || !sid[0]) {
        snprintf(msg, len,
                 "pipeline %s has no agent running (state %s, phase %s, step %s); nothing to nudge",
                 id, oj_json_str(v, "state"), oj_json_str(v, "phase"), oj_json_str(v, "step"));
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (oj_session_type(d, sid, text && text[0] ? text : STUCK_NUDGE, true, err, sizeof err) !=
        0) {
        snprintf(msg, len, "%s", err);
        return OJ__STATUS_CODE__CONFLICT;
    }
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(v, now);
    snprintf(msg, len, "by the operator, session %s", sid);
    oj_pipeline_record_step(n, now, "nudge", msg);
    oj_json_set_num(n, "last_step_ms", (double)now);
    save(d, id, n);
    event(d, "pipeline.nudged", id, msg);
    snprintf(msg, len, "nudged session %s", sid);
    return 0;
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

int oj_pipeline_restart(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, len, "pipeline %s is %s; `oj pipeline resume %s` runs a failed one again",
                 id, oj_json_str(v, "state"), id);
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (strcmp(oj_json_str(v, "step"), "workspace") == 0) {
        snprintf(msg, len, "pipeline %s is still making its workspace (its first phase has not "
                           "started); nothing to restart yet", id);
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (shell_running(d, id, v)) {
        oj_pl_kill_shell_step(d, id); /* its late result is ignored: the attempt moves on */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    rerun_phase(d, id, "restart", "by the operator");
    snprintf(msg, len, "restarted phase %s", phase);
    return 0;
}

int oj_pipeline_resume(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    const cJSON *v = get(d, id);
    const char *state = oj_json_str(v, "state");
    struct stat st;
    if (strcmp(state, "escalated") != 0 && strcmp(state, "failed") != 0) {
        snprintf(msg, len, "pipeline %s is %s; resume is for an escalated or failed pipeline", id,
                 state);
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (stat(oj_json_str(v, "workspace"), &st) != 0) {
        snprintf(msg, len, "pipeline %s's workspace %s is gone (cleaned up?); start it anew with "
                           "`oj run`", id, oj_json_str(v, "workspace"));
        return OJ__STATUS_CODE__CONFLICT;
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
        snprintf(msg, len, "resumed phase %s; its agent keeps running", phase);
    } else {
        rerun_phase(d, id, "resume", "by the operator; the phase starts again");
        snprintf(msg, len, "resumed: phase %s starts again", phase);
    }
    return 0;
}

int oj_pipeline_cancel(struct oj_daemon *d, const char *id, char *msg, size_t len)
{
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, len, "pipeline %s is already %s", id, oj_json_str(v, "state"));
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (shell_running(d, id, v)) {
        oj_pl_kill_shell_step(d, id); /* before the lock goes: nothing of it runs unlocked */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_pl_let_go(d, id, n, true);
    oj_json_set_str(n, "session_id", "");
    if (!save(d, id, n)) {
        snprintf(msg, len, "cannot record the cancel");
        return OJ__STATUS_CODE__INTERNAL;
    }
    oj_pl_finish(d, id, "cancelled", "cancelled by the operator");
    snprintf(msg, len, "cancelled");
    return 0;
}

/* Is the pipeline an agent's `oj done` / `oj checkpoint` is about in that
 * agent's phase and session? 0, or a status code with why in msg. */
static int agent_check(struct oj_daemon *d, const char *id, const char *phase,
                       const char *session_id, char *msg, size_t len)
{
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0) {
        snprintf(msg, len, "pipeline %s is not waiting for an agent (state %s, step %s)", id,
                 oj_json_str(v, "state"), oj_json_str(v, "step"));
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (phase[0] && strcmp(phase, oj_json_str(v, "phase")) != 0) {
        snprintf(msg, len, "pipeline %s is in phase %s, not %s; this agent's phase is over", id,
                 oj_json_str(v, "phase"), phase);
        return OJ__STATUS_CODE__CONFLICT;
    }
    if (session_id[0] && strcmp(session_id, oj_json_str(v, "session_id")) != 0) {
        snprintf(msg, len, "session %s is no longer pipeline %s's agent (now %s)", session_id, id,
                 oj_json_str(v, "session_id"));
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
    const cJSON *prev = session_id[0] ? get(d, task) : NULL;
    if (prev && strcmp(oj_json_str(prev, "done_session"), session_id) == 0 &&
        strcmp(oj_json_str(prev, "done_error"), error) == 0) {
        char first[701];
        snprintf(msg, len, "%s (already recorded)",
                 oj_utf8_show(first, sizeof first, oj_json_str(prev, "done_reply")));
        return true;
    }
    return false;
}

int oj_pipeline_done(struct oj_daemon *d, const char *id, const char *phase_in,
                     const char *session_id, const char *error, char *msg, size_t len)
{
    int code = agent_check(d, id, phase_in, session_id, msg, len);
    if (code != 0)
        return code;
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(get(d, id), "phase"));
    bool ok = error[0] == '\0';
    oj_pl_phase_over(d, id, ok, error, false);
    const cJSON *v = get(d, id);
    if (strcmp(oj_json_str(v, "step"), "decide") == 0)
        snprintf(msg, len, "phase %s %s; no runbook loads (see oj status), so pipeline %s "
                 "goes on once one does", phase, ok ? "done" : "failed", id);
    else if (ok)
        snprintf(msg, len, "phase %s done; pipeline %s is now %s%s%s", phase, id,
                 oj_json_str(v, "state"), oj_pipeline_active(v) ? " in phase " : "",
                 oj_pipeline_active(v) ? oj_json_str(v, "phase") : "");
    else {
        char why[501];
        snprintf(msg, len, "phase %s failed: %s; pipeline %s is now %s", phase,
                 oj_utf8_show(why, sizeof why, error), id, oj_json_str(v, "state"));
    }
    if (session_id[0]) { /* for a repeat of this request (oj_pipeline_done_repeat) */
        cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(n, "done_session", session_id);
        oj_json_set_str(n, "done_error", error);
        oj_json_set_str(n, "done_reply", msg);
        save(d, id, n);
    }
    return 0;
}

int oj_pipeline_checkpoint(struct oj_daemon *d, const char *id, const char *phase,
                           const char *session_id, const char *message, char *msg, size_t len)
{
    int code = agent_check(d, id, phase, session_id, msg, len);
    if (code != 0)
        return code;
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
    cJSON_AddStringToObject(cp, "message", message);
    cJSON_AddItemToArray(cps, cp);
    while (cJSON_GetArraySize(cps) > MAX_CHECKPOINTS)
        cJSON_DeleteItemFromArray(cps, 0);
    if (!save(d, id, n)) {
        snprintf(msg, len, "cannot record the checkpoint");
        return OJ__STATUS_CODE__INTERNAL;
    }
    event(d, "pipeline.checkpoint", id, message);
    snprintf(msg, len, "checkpoint recorded");
    return 0;
}
