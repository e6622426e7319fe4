/* pipeline_tick.c — the once-a-second pass over active pipelines: agent
 * sessions ended after their grace, lock heartbeats (or a lock an operator
 * took away), agent timeouts, ended agents, worktrees and shell steps a crash
 * cut off, waits retried; and the lock hand-back around a graceful stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "pipeline_engine.h"
#include "sessions.h"
#include "utf8.h"

/* ---- the tick and the session hooks ------------------------------------------------- */

struct ids {
    char (*id)[16];
    int64_t *order;
    size_t n, cap;
};

static void collect_active(const char *id, const cJSON *v, void *arg)
{
    struct ids *c = arg;
    if (!oj_pipeline_active(v) && oj_json_str(v, "release_session")[0] == '\0' &&
        oj_json_str(v, "relock")[0] == '\0')
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->id = realloc(c->id, c->cap * sizeof *c->id);
        c->order = realloc(c->order, c->cap * sizeof *c->order);
    }
    snprintf(c->id[c->n], sizeof c->id[c->n], "%s", id);
    /* Lock waiters go in the order they started waiting; the rest by age. */
    int64_t w = oj_json_int(v, "waiting_since_ms");
    c->order[c->n] = w > 0 ? w : oj_json_int(v, "created_at_ms");
    c->n++;
}

static struct ids active_ids(struct oj_daemon *d)
{
    struct ids c = {0};
    oj_state_each(state_of(d), "pipeline", collect_active, &c);
    /* insertion sort by order: few active pipelines */
    for (size_t i = 1; i < c.n; i++)
        for (size_t j = i; j > 0 && c.order[j] < c.order[j - 1]; j--) {
            char t[16];
            memcpy(t, c.id[j], 16);
            memcpy(c.id[j], c.id[j - 1], 16);
            memcpy(c.id[j - 1], t, 16);
            int64_t o = c.order[j];
            c.order[j] = c.order[j - 1];
            c.order[j - 1] = o;
        }
    return c;
}

/* A graceful stop released this pipeline's lock; take it back before
 * anything else can. */
static void relock(struct oj_daemon *d, const char *id)
{
    const cJSON *v = get(d, id);
    char lock[80];
    snprintf(lock, sizeof lock, "%s", oj_json_str(v, "relock"));
    if (!lock[0])
        return;
    char who[256], err[512];
    int got = oj_lock_take(d, lock, id, who, sizeof who, err, sizeof err);
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_json_set_str(n, "relock", "");
    if (got == 1 && oj_pipeline_active(v))
        oj_json_set_str(n, "lock_held", lock);
    else if (got == 1)
        oj_lock_drop(d, lock, id);
    if (save(d, id, n))
        LOG_INFO("pipeline %s: %s %s after the restart", id,
                 got == 1 ? "took back" : "could not take back", lock);
}

static void tick_one(struct oj_daemon *d, const char *id, int64_t now)
{
    const cJSON *v = get(d, id);
    /* a finished phase's agent, after its grace */
    const char *rel = oj_json_str(v, "release_session");
    if (rel[0] && now >= oj_json_int(v, "release_at_ms")) {
        char sid[16];
        snprintf(sid, sizeof sid, "%s", rel);
        cJSON *n = oj_pipeline_copy(v, now);
        oj_json_set_str(n, "release_session", "");
        save(d, id, n);
        oj_session_end(d, sid, "its pipeline phase ended");
        v = get(d, id);
    }
    if (!oj_pipeline_active(v))
        return;
    const char *lock = oj_json_str(v, "lock_held");
    if (lock[0]) {
        const cJSON *l = oj_state_get(state_of(d), "lock", lock);
        if (l && strcmp(oj_json_str(l, "holder"), id) == 0) {
            oj_lock_set_heartbeat(d, lock, now);
        } else {
            /* Force-released by an operator: ours no more, whoever has it now. */
            char why[300], name[81], holder[81];
            snprintf(why, sizeof why, "lost %s: released by an operator%s%s",
                     oj_utf8_show(name, sizeof name, lock), l ? "; now held by " : "",
                     oj_utf8_show(holder, sizeof holder, l ? oj_json_str(l, "holder") : ""));
            cJSON *n = oj_pipeline_copy(v, now);
            oj_json_set_str(n, "lock_held", "");
            oj_pipeline_record_step(n, now, "lock", why);
            LOG_WARN("pipeline %s: %s", id, why);
            if (!save(d, id, n))
                return;
            event(d, "pipeline.lock_lost", id, why);
            v = get(d, id);
        }
    }
    if (strcmp(oj_json_str(v, "step"), "decide") == 0) {
        if (oj_runbooks_current(d)) {
            char why[700];
            snprintf(why, sizeof why, "%s", oj_json_str(v, "decide_why"));
            bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "decide_ok"));
            oj_pl_phase_over(d, id, ok, why, true);
        }
        return;
    }
    const char *step = oj_json_str(v, "step");
    if (strcmp(step, "workspace") == 0) {
        /* oj run starts the first try itself: here it was cut off by a
         * crash or a stop (or could not start). The command keeps a
         * finished worktree and redoes a half-made one. */
        if (!atomic_load(&d->draining) && oj_hmap_get(&d->pipeline_shells, id) == NULL) {
            oj_pl_kill_shell_step(d, id); /* what is left of it */
            oj_pl_make_workspace(d, id, true);
        }
        return;
    }
    if (strcmp(step, "shell") == 0 && oj_hmap_get(&d->pipeline_shells, id) == NULL) {
        /* In the state, but not running here: a crash cut it off. */
        oj_pl_kill_shell_step(d, id); /* what is left of it */
        if (oj_runbooks_current(d) == NULL)
            return; /* its after_crash is unknown until a runbook loads: wait */
        const struct oj_pipeline_def *def = oj_pl_def_of(d, v);
        const struct oj_phase_def *ph =
            def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
        if (ph && ph->rerun_after_crash) {
            cJSON *n = oj_pipeline_copy(v, now);
            oj_json_set_str(n, "step", "pending");
            oj_pipeline_record_step(n, now, "rerun",
                                    "the shell step was cut off by a daemon crash");
            LOG_INFO("pipeline %s: phase %s was cut off by a crash; running it again", id,
                     ph->name);
            if (save(d, id, n)) /* v is stale from here on */
                event(d, "pipeline.rerun", id, "shell step cut off by a crash; running it again");
            oj_pl_drive(d, id);
            return;
        } else {
            oj_pl_phase_over(d, id, false, "the shell step was cut off by a daemon crash", true);
            return;
        }
    }
    if (strcmp(step, "agent") == 0) {
        const struct oj_pipeline_def *def = oj_pl_def_of(d, v);
        const struct oj_phase_def *ph =
            def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
        /* overall: from the phase's first start (a wait for a lock or a slot
         * does not count; restarts by the recovery chain do not reset it) */
        int64_t started = oj_json_int(v, "run_started_ms");
        if (ph && ph->timeout_ms > 0 && started > 0 && now - started > ph->timeout_ms &&
            strcmp(oj_json_str(v, "state"), "escalated") != 0) {
            char why[128], limit[32];
            oj_duration_format(ph->timeout_ms, limit, sizeof limit);
            snprintf(why, sizeof why, "timed out after %s", limit);
            oj_pl_phase_over(d, id, false, why, true);
            return;
        }
        const cJSON *s = oj_state_get(state_of(d), "session", oj_json_str(v, "session_id"));
        if (s == NULL || !oj_session_active(s)) {
            oj_pipeline_session_ended(d, id, oj_json_str(v, "session_id"));
            return;
        }
    }
    oj_pl_drive(d, id);
}

void oj_pipelines_tick(struct oj_daemon *d)
{
    oj_runbooks_refresh(d);
    struct ids c = active_ids(d);
    if (!d->relocked) { /* first thing after a start */
        d->relocked = true;
        for (size_t i = 0; i < c.n; i++)
            relock(d, c.id[i]);
    }
    int64_t now = oj_wall_ms();
    for (size_t i = 0; i < c.n; i++)
        tick_one(d, c.id[i], now);
    free(c.id);
    free(c.order);
}

void oj_pipeline_session_ended(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    const cJSON *v = get(d, id);
    if (v == NULL || !oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0 ||
        strcmp(oj_json_str(v, "session_id"), sid) != 0)
        return; /* not the current agent: a restart or a finished phase ended it */
    const cJSON *s = oj_state_get(state_of(d), "session", sid);
    char why[600];
    snprintf(why, sizeof why, "the agent's session %s ended before `oj done` (%s)", sid,
             s ? oj_json_str(s, "reason") : "its record is gone");
    oj_pl_phase_over(d, id, false, why, false);
}

void oj_pipelines_release_locks(struct oj_daemon *d)
{
    struct ids c = active_ids(d);
    int n = 0;
    for (size_t i = 0; i < c.n; i++) {
        const cJSON *v = get(d, c.id[i]);
        const char *lock = oj_json_str(v, "lock_held");
        if (!lock[0])
            continue;
        char name[80];
        snprintf(name, sizeof name, "%s", lock);
        oj_lock_drop(d, name, c.id[i]);
        cJSON *m = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(m, "lock_held", "");
        oj_json_set_str(m, "relock", name);
        if (save(d, c.id[i], m))
            n++;
    }
    if (n)
        LOG_INFO("pipelines: released %d lock(s); their pipelines take them back at the next start",
                 n);
    free(c.id);
    free(c.order);
}
