/* pipeline.c — pipeline rules (see pipeline.h). Pure: no clock, no I/O. */
#include "pipeline.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *oj_pipeline_after(const struct oj_pipeline_def *def, const char *phase, bool ok)
{
    for (int i = 0; i < def->n_phases; i++) {
        const struct oj_phase_def *ph = &def->phases[i];
        if (strcmp(ph->name, phase) != 0)
            continue;
        if (!ok)
            return ph->on_fail ? ph->on_fail : "fail";
        if (ph->next)
            return ph->next;
        return i + 1 < def->n_phases ? def->phases[i + 1].name : "done";
    }
    return "fail"; /* the phase vanished from the runbook */
}

static int phase_index(const struct oj_pipeline_def *def, const char *name)
{
    for (int i = 0; i < def->n_phases; i++)
        if (strcmp(def->phases[i].name, name) == 0)
            return i;
    return -1;
}

int64_t oj_pipeline_loop_pause(const struct oj_pipeline_def *def, const char *from,
                               const char *to)
{
    int f = phase_index(def, from), t = phase_index(def, to);
    if (t < 0 || (f >= 0 && t > f))
        return 0;
    return def->phases[t].pause_ms > 0 ? def->phases[t].pause_ms : OJ_LOOP_PAUSE_MS;
}

static int input_index(const struct oj_pipeline_def *def, const char *name)
{
    for (int i = 0; i < def->n_inputs; i++)
        if (strcmp(def->inputs[i], name) == 0)
            return i;
    return -1;
}

/* Given already, in any case: inputs are bound as they were when they were
 * a JSON object looked up without regard to case. */
static bool bound(const struct oj_pipeline *p, size_t from, const char *name)
{
    for (size_t i = from; i < p->n_inputs; i++)
        if (strcasecmp(p->inputs[i].name, name) == 0)
            return true;
    return false;
}

int oj_pipeline_bind_inputs(const struct oj_pipeline_def *def, char *const *positional,
                            size_t npos, char *const *names, char *const *values, size_t nnamed,
                            struct oj_pipeline *p, char *err, size_t errlen)
{
    if (npos > (size_t)def->n_inputs) {
        snprintf(err, errlen, "pipeline %s takes %d input%s (%s%s), not %zu", def->name,
                 def->n_inputs, def->n_inputs == 1 ? "" : "s", def->n_inputs ? def->inputs[0] : "",
                 def->n_inputs > 1 ? ", ..." : "", npos);
        return -1;
    }
    size_t first = p->n_inputs;
    for (size_t i = 0; i < npos; i++)
        oj_pipeline_add_input(p, def->inputs[i], positional[i]);
    for (size_t i = 0; i < nnamed; i++) {
        if (input_index(def, names[i]) < 0) {
            snprintf(err, errlen, "pipeline %s has no input '%s'; its inputs are in its runbook",
                     def->name, names[i]);
            return -1;
        }
        if (bound(p, first, names[i])) {
            snprintf(err, errlen, "input '%s' is given twice; give it once", names[i]);
            return -1;
        }
        oj_pipeline_add_input(p, names[i], values[i]);
    }
    for (int i = 0; i < def->n_inputs; i++)
        if (!bound(p, first, def->inputs[i])) {
            snprintf(err, errlen,
                     "input '%s' is missing; give it in order or as --%s <value> (oj run %s%s%s%s)",
                     def->inputs[i], def->inputs[i], def->name, def->n_inputs ? " <" : "",
                     def->n_inputs ? def->inputs[0] : "", def->n_inputs > 1 ? "> ..." : ">");
            return -1;
        }
    return 0;
}

void oj_pipeline_new(struct oj_pipeline *p, const struct oj_pipeline_def *def,
                     const char *workspace, const char *branch, int64_t now)
{
    oj_pipeline_set(&p->name, def->name);
    oj_pipeline_set(&p->workspace, workspace);
    oj_pipeline_set(&p->branch, branch);
    p->created_at_ms = now;
    p->state = OJ_PIPELINE_RUNNING;
    oj_pipeline_set(&p->last_error, "");
    oj_pipeline_enter(p, def->n_phases ? def->phases[0].name : "", now);
    p->step = OJ_STEP_WORKSPACE; /* its worktree first, off the engine thread */
}

void oj_pipeline_touch(struct oj_pipeline *p, int64_t now)
{
    p->updated_at_ms = now;
}

void oj_pipeline_enter(struct oj_pipeline *p, const char *phase, int64_t now)
{
    oj_pipeline_touch(p, now);
    oj_pipeline_set(&p->phase, phase);
    p->step = OJ_STEP_PENDING;
    oj_pipeline_set(&p->session_id, "");
    oj_pipeline_set(&p->waiting_for_lock, "");
    p->attempt = 0;
    p->restarts = 0;
    p->stuck_index = 0;
    p->last_step_ms = 0;
    p->phase_started_ms = now;
    p->run_started_ms = 0; /* set when the phase's agent first runs */
    p->waiting_since_ms = 0;
}

void oj_pipeline_rerun(struct oj_pipeline *p, int64_t now, const char *action,
                       const char *detail)
{
    int64_t attempt = p->attempt;
    oj_pipeline_enter(p, p->phase, now); /* oj_pipeline_set copies before it frees */
    p->attempt = attempt;
    p->state = OJ_PIPELINE_RUNNING;
    oj_pipeline_add_recovery(p, now, action, detail);
    p->last_step_ms = now;
}

void oj_pipeline_finish(struct oj_pipeline *p, enum oj_pipeline_state state, const char *why,
                        int64_t now)
{
    oj_pipeline_touch(p, now);
    p->state = state;
    p->step = OJ_STEP_OVER;
    oj_pipeline_set(&p->waiting_for_lock, "");
    p->waiting_since_ms = 0;
    p->finished_at_ms = now;
    if (why && why[0])
        oj_pipeline_set(&p->last_error, why);
}

enum oj_phase_end oj_pipeline_phase_end(struct oj_pipeline *p, const struct oj_pipeline_def *def,
                                        bool ok, const char *why, int64_t now)
{
    oj_pipeline_touch(p, now);
    char phase[80];
    snprintf(phase, sizeof phase, "%s", p->phase);
    if (!ok) {
        char msg[700];
        snprintf(msg, sizeof msg, "phase %s failed: %s", phase, why);
        oj_pipeline_set(&p->last_error, msg);
    }
    const char *next = def ? oj_pipeline_after(def, phase, ok) : "fail";
    bool done = strcmp(next, "done") == 0;
    if (done || strcmp(next, "fail") == 0) {
        oj_pipeline_set(&p->session_id, "");
        return done ? OJ_PHASE_END_DONE : OJ_PHASE_END_FAIL;
    }
    oj_pipeline_enter(p, next, now);
    p->state = OJ_PIPELINE_RUNNING;
    /* A loop back (to this phase or an earlier one) waits before its next
     * pass, so a phase whose `next` is itself cannot spin. */
    int64_t pause = oj_pipeline_loop_pause(def, phase, next);
    if (pause > 0) {
        p->step = OJ_STEP_PAUSE;
        p->pause_until_ms = now + pause;
    }
    return OJ_PHASE_END_NEXT;
}

void oj_pipeline_decide_later(struct oj_pipeline *p, bool ok, const char *why)
{
    p->step = OJ_STEP_DECIDE;
    p->state = OJ_PIPELINE_RUNNING; /* also after an escalation: the phase is over */
    oj_pipeline_set(&p->session_id, "");
    oj_pipeline_set(&p->decide_why, ok ? "" : why);
    p->decide_ok = ok;
}

void oj_pipeline_wait(struct oj_pipeline *p, const char *lock, int64_t now)
{
    p->step = lock ? OJ_STEP_LOCK : OJ_STEP_QUEUED;
    p->state = OJ_PIPELINE_WAITING;
    if (lock)
        oj_pipeline_set(&p->waiting_for_lock, lock);
    p->waiting_since_ms = now;
}

void oj_pipeline_lock_taken(struct oj_pipeline *p, const char *lock)
{
    oj_pipeline_set(&p->lock_held, lock);
    oj_pipeline_set(&p->waiting_for_lock, "");
    p->waiting_since_ms = 0;
    p->state = OJ_PIPELINE_RUNNING;
}

bool oj_pipeline_waits_for(const struct oj_pipeline *p, const char *lock)
{
    return oj_pipeline_state_active(p->state) && p->step == OJ_STEP_LOCK &&
           strcmp(p->waiting_for_lock, lock) == 0;
}

bool oj_pipeline_waited_longer(const char *id_a, int64_t since_a, const char *id_b,
                               int64_t since_b)
{
    return since_a < since_b || (since_a == since_b && strcmp(id_a, id_b) < 0);
}

void oj_pipeline_shell_started(struct oj_pipeline *p, int64_t now)
{
    p->step = OJ_STEP_SHELL;
    p->state = OJ_PIPELINE_RUNNING;
    p->attempt++;
    p->step_started_ms = now;
}

void oj_pipeline_agent_started(struct oj_pipeline *p, const char *sid, int64_t now)
{
    p->step = OJ_STEP_AGENT;
    p->state = OJ_PIPELINE_RUNNING;
    oj_pipeline_set(&p->session_id, sid);
    p->waiting_since_ms = 0;
    if (p->run_started_ms == 0)
        p->run_started_ms = now;
    p->attempt++;
    p->step_started_ms = now;
}

bool oj_pipeline_shell_is(const struct oj_pipeline *p, const char *phase, int64_t attempt)
{
    return oj_pipeline_state_active(p->state) && p->step == OJ_STEP_SHELL &&
           strcmp(p->phase, phase) == 0 && p->attempt == attempt;
}

bool oj_pipeline_archivable(const struct oj_pipeline *p, int64_t cutoff_ms)
{
    int64_t last = p->finished_at_ms > 0  ? p->finished_at_ms
                   : p->updated_at_ms > 0 ? p->updated_at_ms
                                          : p->created_at_ms;
    bool finished = p->state == OJ_PIPELINE_DONE || p->state == OJ_PIPELINE_FAILED ||
                    p->state == OJ_PIPELINE_CANCELLED;
    return finished && last > 0 && last < cutoff_ms;
}

bool oj_pipeline_retention_archivable(const struct oj_pipeline *p, int64_t cutoff_ms)
{
    return p->state != OJ_PIPELINE_FAILED && oj_pipeline_archivable(p, cutoff_ms);
}

void oj_pipeline_escalate(struct oj_pipeline *p, const char *why, int64_t now)
{
    oj_pipeline_touch(p, now);
    p->state = OJ_PIPELINE_ESCALATED;
    oj_pipeline_add_recovery(p, now, "escalate", why);
    p->last_step_ms = now;
}

static const struct oj_stuck_step default_chain[] = {
    {OJ_STUCK_NUDGE, 1}, {OJ_STUCK_RESTART, 1}, {OJ_STUCK_ESCALATE, 1}};

struct oj_stuck_decision oj_pipeline_stuck_decide(const struct oj_phase_def *ph, int index,
                                                  int restarts, int64_t last_output_ms,
                                                  int64_t last_step_ms, int64_t grace_ms)
{
    const struct oj_stuck_step *chain = ph->n_on_stuck ? ph->on_stuck : default_chain;
    int n = ph->n_on_stuck ? ph->n_on_stuck : 3;
    if (last_step_ms > 0 && last_output_ms > last_step_ms + grace_ms)
        index = 0; /* the agent showed life after the last step */
    if (index < 0)
        index = 0;
    /* Restarts used so far count against every restart step before `index`
     * and this one, so restart:N means N in all for the phase. */
    for (int i = index; i < n; i++) {
        const struct oj_stuck_step *s = &chain[i];
        if (s->action == OJ_STUCK_RESTART) {
            int allowed = 0;
            for (int j = 0; j <= i; j++)
                if (chain[j].action == OJ_STUCK_RESTART)
                    allowed += chain[j].max;
            if (restarts >= allowed)
                continue; /* used up: on to the next step */
            /* stay here while restarts remain on this step */
            return (struct oj_stuck_decision){OJ_STUCK_RESTART,
                                              restarts + 1 >= allowed ? i + 1 : i};
        }
        return (struct oj_stuck_decision){s->action, s->action == OJ_STUCK_ESCALATE ? i : i + 1};
    }
    return (struct oj_stuck_decision){OJ_STUCK_ESCALATE, n};
}

const char *oj_stuck_action_name(enum oj_stuck_action a)
{
    switch (a) {
    case OJ_STUCK_NUDGE:
        return "nudge";
    case OJ_STUCK_RESTART:
        return "restart";
    case OJ_STUCK_ESCALATE:
        return "escalate";
    }
    return "?";
}

void oj_pipeline_prompt_line(char *text)
{
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}
