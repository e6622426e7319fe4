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
#include "pipelines.h"

/* ---- the tick and the session hooks ------------------------------------------------- */

struct active {
    int64_t order;
    char id[16];
};

struct ids {
    struct active *at;
    size_t n, cap;
};

static void collect_active(const char *id, struct oj_pipeline *p, void *arg)
{
    struct ids *c = arg;
    if (!oj_pipeline_state_active(p->state) && p->release_session[0] == '\0' &&
        p->relock[0] == '\0')
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct active *grown = realloc(c->at, cap * sizeof *grown);
        if (grown == NULL) {
            LOG_ERROR("pipelines: out of memory; %s waits for a later tick", id);
            return;
        }
        c->at = grown;
        c->cap = cap;
    }
    struct active *a = &c->at[c->n++];
    snprintf(a->id, sizeof a->id, "%s", id);
    /* Lock waiters go in the order they started waiting; the rest by age. */
    a->order = p->waiting_since_ms > 0 ? p->waiting_since_ms : p->created_at_ms;
}

static int by_order(const void *a, const void *b)
{
    const struct active *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->id, y->id); /* the same order every tick */
}

static struct ids active_ids(struct oj_daemon *d)
{
    struct ids c = {0};
    oj_pl_each_in_play(d, collect_active, &c);
    /* a thousand queued pipelines are as easy as ten */
    if (c.n > 1)
        qsort(c.at, c.n, sizeof *c.at, by_order);
    return c;
}

/* A graceful stop released this pipeline's lock; take it back before
 * anything else can. */
static void relock(struct oj_daemon *d, const char *id)
{
    struct oj_pipeline p;
    load(d, id, &p);
    char lock[80];
    snprintf(lock, sizeof lock, "%s", p.relock);
    if (!lock[0]) {
        oj_pipeline_free(&p);
        return;
    }
    char who[256], err[512];
    int got = oj_lock_take(d, lock, id, who, sizeof who, err, sizeof err);
    oj_pipeline_touch(&p, oj_wall_ms());
    oj_pipeline_set(&p.relock, "");
    if (got == 1 && oj_pipeline_state_active(p.state))
        oj_pipeline_set(&p.lock_held, lock);
    else if (got == 1)
        oj_lock_drop(d, lock, id);
    if (save(d, id, &p))
        LOG_INFO("pipeline %s: %s %s after the restart", id,
                 got == 1 ? "took back" : "could not take back", lock);
    oj_pipeline_free(&p);
}

/* The lock the pipeline holds is still its own: heartbeat it. Else an
 * operator forced it away: recorded as a recovery step. False when that
 * could not be recorded. */
static bool check_lock(struct oj_daemon *d, const char *id, struct oj_pipeline *p, int64_t now)
{
    struct oj_lock l;
    bool held = lock_of(d, p->lock_held, &l);
    if (held && strcmp(l.holder, id) == 0) {
        oj_lock_set_heartbeat(d, p->lock_held, now);
        return true;
    }
    /* Force-released by an operator: ours no more, whoever has it now. */
    char why[300], name[81], holder[81];
    snprintf(why, sizeof why, "lost %s: released by an operator%s%s",
             oj_utf8_show(name, sizeof name, p->lock_held), held ? "; now held by " : "",
             oj_utf8_show(holder, sizeof holder, held ? l.holder : ""));
    oj_pipeline_touch(p, now);
    oj_pipeline_set(&p->lock_held, "");
    oj_pipeline_add_recovery(p, now, "lock", why);
    LOG_WARN("pipeline %s: %s", id, why);
    if (!save(d, id, p))
        return false;
    event(d, "pipeline.lock_lost", id, why);
    return true;
}

/* A shell step in the state that no runner of this daemon runs: a crash cut
 * it off. Its leftovers are killed; it runs again or its phase fails, as
 * its after_crash says. */
static void shell_cut_off(struct oj_daemon *d, const char *id, struct oj_pipeline *p, int64_t now)
{
    oj_pl_kill_shell_step(d, id); /* what is left of it */
    if (oj_runbooks_current(d) == NULL)
        return; /* its after_crash is unknown until a runbook loads: wait */
    const struct oj_pipeline_def *def = oj_pl_def_of(d, p);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, p->phase) : NULL;
    if (ph && ph->rerun_after_crash) {
        oj_pipeline_touch(p, now);
        p->step = OJ_STEP_PENDING;
        oj_pipeline_add_recovery(p, now, "rerun", "the shell step was cut off by a daemon crash");
        LOG_INFO("pipeline %s: phase %s was cut off by a crash; running it again", id, ph->name);
        if (save(d, id, p))
            event(d, "pipeline.rerun", id, "shell step cut off by a crash; running it again");
        oj_pl_drive(d, id);
    } else {
        oj_pl_phase_over(d, id, false, "the shell step was cut off by a daemon crash", true);
    }
}

/* An agent phase past its timeout fails; an agent whose session ended
 * before `oj done` fails its phase. True when either happened. */
static bool agent_over(struct oj_daemon *d, const char *id, const struct oj_pipeline *p,
                       int64_t now)
{
    const struct oj_pipeline_def *def = oj_pl_def_of(d, p);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, p->phase) : NULL;
    /* overall: from the phase's first start (a wait for a lock or a slot
     * does not count; restarts by the recovery chain do not reset it) */
    int64_t started = p->run_started_ms;
    if (ph && ph->timeout_ms > 0 && started > 0 && now - started > ph->timeout_ms &&
        p->state != OJ_PIPELINE_ESCALATED) {
        char why[128], limit[32];
        oj_duration_format(ph->timeout_ms, limit, sizeof limit);
        snprintf(why, sizeof why, "timed out after %s", limit);
        oj_pl_phase_over(d, id, false, why, true);
        return true;
    }
    if (!oj_session_live(d, p->session_id)) {
        oj_pipeline_session_ended(d, id, p->session_id);
        return true;
    }
    return false;
}

/* One pipeline's part of the tick, with its record in p (the caller's). */
static void tick_one(struct oj_daemon *d, const char *id, struct oj_pipeline *p, int64_t now)
{
    /* a finished phase's agent, after its grace */
    if (p->release_session[0] && now >= p->release_at_ms) {
        char sid[16];
        snprintf(sid, sizeof sid, "%s", p->release_session);
        oj_pipeline_touch(p, now);
        oj_pipeline_set(&p->release_session, "");
        save(d, id, p);
        oj_session_end(d, sid, "its pipeline phase ended");
        oj_pipeline_free(p);
        load(d, id, p);
    }
    if (!oj_pipeline_state_active(p->state))
        return;
    if (p->lock_held[0] && !check_lock(d, id, p, now))
        return;
    switch (p->step) {
    case OJ_STEP_DECIDE:
        if (oj_runbooks_current(d)) {
            char why[700];
            snprintf(why, sizeof why, "%s", p->decide_why);
            oj_pl_phase_over(d, id, p->decide_ok, why, true);
        }
        return;
    case OJ_STEP_WORKSPACE:
        /* oj run starts the first try itself: here it was cut off by a
         * crash or a stop (or could not start). The command keeps a
         * finished worktree and redoes a half-made one. */
        if (!atomic_load(&d->draining) && oj_hmap_get(&d->pipeline_shells, id) == NULL) {
            oj_pl_kill_shell_step(d, id); /* what is left of it */
            oj_pl_make_workspace(d, id, true);
        }
        return;
    case OJ_STEP_SHELL:
        if (oj_hmap_get(&d->pipeline_shells, id) == NULL) {
            shell_cut_off(d, id, p, now);
            return;
        }
        break;
    case OJ_STEP_AGENT:
        if (agent_over(d, id, p, now))
            return;
        break;
    default:
        break;
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
            relock(d, c.at[i].id);
    }
    int64_t now = oj_wall_ms();
    for (size_t i = 0; i < c.n; i++) {
        struct oj_pipeline p;
        if (load(d, c.at[i].id, &p))
            tick_one(d, c.at[i].id, &p, now);
        oj_pipeline_free(&p);
    }
    free(c.at);
}

void oj_pipeline_session_ended(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    struct oj_pipeline p;
    load(d, id, &p);
    bool current = oj_pipeline_state_active(p.state) && p.step == OJ_STEP_AGENT &&
                   strcmp(p.session_id, sid) == 0;
    oj_pipeline_free(&p);
    if (!current)
        return; /* not the current agent: a restart or a finished phase ended it */
    struct oj_session s;
    bool known = oj_session_get(d, sid, &s) == 0;
    char why[600];
    snprintf(why, sizeof why, "the agent's session %s ended before `oj done` (%s)", sid,
             known ? s.reason : "its record is gone");
    oj_session_clear(&s);
    oj_pl_phase_over(d, id, false, why, false);
}

void oj_pipelines_release_locks(struct oj_daemon *d)
{
    struct ids c = active_ids(d);
    int n = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct oj_pipeline p;
        load(d, c.at[i].id, &p);
        if (p.lock_held[0]) {
            char name[80];
            snprintf(name, sizeof name, "%s", p.lock_held);
            oj_lock_drop(d, name, c.at[i].id);
            oj_pipeline_touch(&p, oj_wall_ms());
            oj_pipeline_set(&p.lock_held, "");
            oj_pipeline_set(&p.relock, name);
            if (save(d, c.at[i].id, &p))
                n++;
        }
        oj_pipeline_free(&p);
    }
    if (n)
        LOG_INFO("pipelines: released %d lock(s); their pipelines take them back at the next start",
                 n);
    free(c.at);
}
