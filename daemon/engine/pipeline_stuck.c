/* pipeline_stuck.c — an agent quiet past its idle timeout: the phase's
 * on_stuck chain (nudge, restart, escalate) and the runbook's notify command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "pipeline_engine.h"
#include "template.h"
#include "engine_runner.h"

/* The notify command ended. Its output is in the pipeline's log; a failure
 * also goes to the daemon log and to the recovery steps, so a broken notify
 * shows where the escalation does (oj pipeline status), not only in a log. */
static void notify_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                            const char *tail)
{
    const char *id = arg;
    if (status != 0 || timed_out) {
        LOG_WARN("pipeline %s: the notify command failed (status %d%s): %s", id, status,
                 timed_out ? ", timed out" : "", tail);
        struct oj_pipeline p;
        if (load(d, id, &p)) {
            char detail[400];
            snprintf(detail, sizeof detail, "the notify command failed: %s %d%s%.300s",
                     timed_out ? "timed out, status" : "exit status", status,
                     tail[0] ? ": " : "", tail);
            int64_t now = oj_wall_ms();
            oj_pipeline_touch(&p, now);
            oj_pipeline_add_recovery(&p, now, "notify", detail);
            save(d, id, &p);
        }
        oj_pipeline_free(&p);
    } else {
        LOG_INFO("pipeline %s: notify command ran", id);
    }
    free(arg);
}

static void escalate(struct oj_daemon *d, const char *id, const char *why)
{
    struct oj_pipeline p;
    load(d, id, &p);
    oj_pipeline_escalate(&p, why, oj_wall_ms());
    if (!save(d, id, &p)) {
        oj_pipeline_free(&p);
        return;
    }
    LOG_WARN("pipeline %s: escalated: %s", id, why);
    event(d, "pipeline.escalated", id, why);
    const struct oj_pipeline_def *def = oj_pl_def_of(d, &p);
    if (def && def->notify) {
        struct tvars t;
        oj_pl_tvars_init(&t, d, id, &p);
        char *cmd = NULL, err[512], logp[PATH_MAX + 64];
        struct oj_task_env te;
        if (oj_template_expand(def->notify, oj_pl_lookup, &t, 1, &cmd, err, sizeof err) != 0) {
            LOG_WARN("pipeline %s: notify: %s", id, err);
            oj_pipeline_free(&p);
            return;
        }
        oj_pl_log_path(d, id, logp, sizeof logp);
        oj_pl_env(d, id, &p, &te);
        char *pid = strdup(id);
        struct oj_run_spec spec = {.command = cmd,
                                   .cwd = d->paths.root,
                                   .log_path = logp,
                                   .env = te.env,
                                   .timeout_ms = NOTIFY_TIMEOUT_MS};
        if (oj_runner_start(d, &spec, notify_finished, pid) != 0)
            free(pid);
        free(cmd);
    }
    oj_pipeline_free(&p);
}

/* How long after a recovery step output still counts as its echo, not as
 * the agent coming back to life (a restarted agent's banner). */
static int64_t reset_grace(int64_t idle_timeout)
{
    int64_t g = idle_timeout / 2;
    return g > 30000 ? 30000 : g;
}

/* The stuck chain's nudge, recorded with how it went (failure: why tmux
 * could not type it; NULL: typed) while the pipeline still waits on that
 * agent. */
static void record_nudge(struct oj_daemon *d, const char *id, const char *sid,
                         int64_t next_index, const char *quiet, const char *failure)
{
    struct oj_pipeline p;
    load(d, id, &p);
    if (p.state != OJ_PIPELINE_RUNNING || p.step != OJ_STEP_AGENT ||
        strcmp(p.session_id, sid) != 0) {
        oj_pipeline_free(&p);
        return; /* it moved on while tmux typed */
    }
    int64_t now = oj_wall_ms();
    char detail[200];
    oj_pipeline_touch(&p, now);
    p.stuck_index = next_index;
    p.last_step_ms = now;
    snprintf(detail, sizeof detail, "session %s quiet for %s%s%.100s", sid, quiet,
             failure ? "; the nudge failed: " : "", failure ? failure : "");
    oj_pipeline_add_recovery(&p, now, "nudge", detail);
    if (save(d, id, &p))
        event(d, "pipeline.nudged", id, detail);
    LOG_INFO("pipeline %s: stuck: nudged (%s)", id, detail);
    oj_pipeline_free(&p);
}

struct stuck_nudge {
    char id[16], sid[16], quiet[32];
    int64_t next_index;
};

static void stuck_nudged(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct stuck_nudge *n = arg;
    if (d != NULL)
        record_nudge(d, n->id, n->sid, n->next_index, n->quiet, rc ? err : NULL);
    free(n);
}

void oj_pipeline_session_stuck(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    struct oj_pipeline p;
    load(d, id, &p);
    const struct oj_pipeline_def *def = NULL;
    const struct oj_phase_def *ph = NULL;
    if (p.state == OJ_PIPELINE_RUNNING && p.step == OJ_STEP_AGENT &&
        strcmp(p.session_id, sid) == 0 && (def = oj_pl_def_of(d, &p)) != NULL)
        ph = oj_pipeline_phase(def, p.phase);
    if (ph == NULL) {
        oj_pipeline_free(&p);
        return;
    }
    int64_t now = oj_wall_ms();
    struct oj_stuck_decision dec = oj_pipeline_stuck_decide(
        ph, (int)p.stuck_index, (int)p.restarts, oj_session_last_output_ms(d, sid),
        p.last_step_ms, reset_grace(ph->idle_timeout_ms));
    char quiet[32], detail[200];
    oj_duration_format(now - oj_session_last_output_ms(d, sid), quiet, sizeof quiet);
    int64_t restarts = p.restarts + 1;
    oj_pipeline_touch(&p, now);
    p.stuck_index = dec.next_index;
    p.last_step_ms = now;
    switch (dec.action) {
    case OJ_STUCK_NUDGE: {
        /* Recorded once tmux has typed it (or could not). */
        oj_pipeline_free(&p);
        struct stuck_nudge *n = calloc(1, sizeof *n);
        char err[256] = "daemon out of memory";
        if (n) {
            snprintf(n->id, sizeof n->id, "%s", id);
            snprintf(n->sid, sizeof n->sid, "%s", sid);
            snprintf(n->quiet, sizeof n->quiet, "%s", quiet);
            n->next_index = dec.next_index;
            if (oj_session_type(d, sid, STUCK_NUDGE, true, stuck_nudged, n, err, sizeof err) ==
                0)
                return;
            free(n);
        }
        record_nudge(d, id, sid, dec.next_index, quiet, err);
        return;
    }
    case OJ_STUCK_RESTART:
        snprintf(detail, sizeof detail, "session %s quiet for %s; restart %d", sid, quiet,
                 (int)restarts);
        p.restarts = restarts;
        p.step = OJ_STEP_PENDING;
        oj_pipeline_set(&p.session_id, "");
        oj_pipeline_add_recovery(&p, now, "restart", detail);
        if (!save(d, id, &p))
            break;
        oj_pipeline_free(&p);
        oj_session_end(d, sid, "restarted: stuck");
        LOG_INFO("pipeline %s: stuck: restarting (%s)", id, detail);
        event(d, "pipeline.restarted", id, detail);
        oj_pl_drive(d, id);
        return;
    case OJ_STUCK_ESCALATE:
        oj_pipeline_free(&p);
        snprintf(detail, sizeof detail, "session %s quiet for %s; recovery steps did not help",
                 sid, quiet);
        escalate(d, id, detail);
        return;
    }
    oj_pipeline_free(&p);
}
