/* pipeline_stuck.c — an agent quiet past its idle timeout: the phase's
 * on_stuck chain (nudge, restart, escalate) and the runbook's notify command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "pipeline_engine.h"
#include "template.h"

/* The notify command ended. Its output is in the pipeline's log; a failure
 * also goes to the daemon log and to the recovery steps, so a broken notify
 * shows where the escalation does (oj pipeline status), not only in a log. */
static void notify_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                            const char *tail)
{
    const char *id = arg;
    const cJSON *v = get(d, id);
    if (status != 0 || timed_out) {
        LOG_WARN("pipeline %s: the notify command failed (status %d%s): %s", id, status,
                 timed_out ? ", timed out" : "", tail);
        if (v) {
            char detail[400];
            snprintf(detail, sizeof detail, "the notify command failed: %s %d%s%.300s",
                     timed_out ? "timed out, status" : "exit status", status,
                     tail[0] ? ": " : "", tail);
            int64_t now = oj_wall_ms();
            cJSON *n = oj_pipeline_copy(v, now);
            oj_pipeline_record_step(n, now, "notify", detail);
            save(d, id, n);
        }
    } else {
        LOG_INFO("pipeline %s: notify command ran", id);
    }
    free(arg);
}

static void escalate(struct oj_daemon *d, const char *id, const char *why)
{
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(get(d, id), now);
    oj_json_set_str(n, "state", "escalated");
    oj_pipeline_record_step(n, now, "escalate", why);
    oj_json_set_num(n, "last_step_ms", (double)now);
    if (!save(d, id, n))
        return;
    LOG_WARN("pipeline %s: escalated: %s", id, why);
    event(d, "pipeline.escalated", id, why);
    const cJSON *v = get(d, id);
    const struct oj_pipeline_def *def = oj_pl_def_of(d, v);
    if (def && def->notify) {
        struct tvars t;
        oj_pl_tvars_init(&t, d, id, v);
        char *cmd = NULL, err[512], logp[PATH_MAX + 64], bufs[4][PATH_MAX + 64], *env[5];
        if (oj_template_expand(def->notify, oj_pl_lookup, &t, 1, &cmd, err, sizeof err) != 0) {
            LOG_WARN("pipeline %s: notify: %s", id, err);
            return;
        }
        oj_pl_log_path(d, id, logp, sizeof logp);
        oj_pl_env(d, id, v, bufs, env);
        char *pid = strdup(id);
        struct oj_run_spec spec = {.command = cmd,
                                   .cwd = d->paths.root,
                                   .log_path = logp,
                                   .env = env,
                                   .timeout_ms = NOTIFY_TIMEOUT_MS};
        if (oj_runner_start(d, &spec, notify_finished, pid) != 0)
            free(pid);
        free(cmd);
    }
}

/* How long after a recovery step output still counts as its echo, not as
 * the agent coming back to life (a restarted agent's banner). */
static int64_t reset_grace(int64_t idle_timeout)
{
    int64_t g = idle_timeout / 2;
    return g > 30000 ? 30000 : g;
}

void oj_pipeline_session_stuck(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    const cJSON *v = get(d, id);
    if (v == NULL || strcmp(oj_json_str(v, "state"), "running") != 0 ||
        strcmp(oj_json_str(v, "step"), "agent") != 0 ||
        strcmp(oj_json_str(v, "session_id"), sid) != 0)
        return;
    const struct oj_pipeline_def *def = oj_pl_def_of(d, v);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
    if (ph == NULL)
        return;
    int64_t now = oj_wall_ms();
    struct oj_stuck_decision dec = oj_pipeline_stuck_decide(
        ph, (int)oj_json_int(v, "stuck_index"), (int)oj_json_int(v, "restarts"),
        oj_session_last_output_ms(d, sid), oj_json_int(v, "last_step_ms"),
        reset_grace(ph->idle_timeout_ms));
    char quiet[32], detail[200];
    oj_duration_format(now - oj_session_last_output_ms(d, sid), quiet, sizeof quiet);
    cJSON *n = oj_pipeline_copy(v, now);
    oj_json_set_num(n, "stuck_index", dec.next_index);
    oj_json_set_num(n, "last_step_ms", (double)now);
    switch (dec.action) {
    case OJ_STUCK_NUDGE: {
        char err[256];
        int rc = oj_session_type(d, sid, STUCK_NUDGE, true, err, sizeof err);
        snprintf(detail, sizeof detail, "session %s quiet for %s%s%.100s", sid, quiet,
                 rc ? "; the nudge failed: " : "", rc ? err : "");
        oj_pipeline_record_step(n, now, "nudge", detail);
        if (save(d, id, n))
            event(d, "pipeline.nudged", id, detail);
        LOG_INFO("pipeline %s: stuck: nudged (%s)", id, detail);
        return;
    }
    case OJ_STUCK_RESTART: {
        int restarts = (int)oj_json_int(v, "restarts") + 1;
        snprintf(detail, sizeof detail, "session %s quiet for %s; restart %d", sid, quiet,
                 restarts);
        oj_json_set_num(n, "restarts", restarts);
        oj_json_set_str(n, "step", "pending");
        oj_json_set_str(n, "session_id", "");
        oj_pipeline_record_step(n, now, "restart", detail);
        if (!save(d, id, n))
            return;
        oj_session_end(d, sid, "restarted: stuck");
        LOG_INFO("pipeline %s: stuck: restarting (%s)", id, detail);
        event(d, "pipeline.restarted", id, detail);
        oj_pl_drive(d, id);
        return;
    }
    case OJ_STUCK_ESCALATE:
        cJSON_Delete(n);
        snprintf(detail, sizeof detail, "session %s quiet for %s; recovery steps did not help",
                 sid, quiet);
        escalate(d, id, detail);
        return;
    }
    cJSON_Delete(n);
}
