/* pipeline.c — pipeline rules (see pipeline.h). Pure: no clock, no I/O. */
#include "pipeline.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

#define MAX_RECOVERY_STEPS 50 /* older steps drop off; the log keeps them all */

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

cJSON *oj_pipeline_bind_inputs(const struct oj_pipeline_def *def, char *const *positional,
                               size_t npos, char *const *names, char *const *values,
                               size_t nnamed, char *err, size_t errlen)
{
    if (npos > (size_t)def->n_inputs) {
        snprintf(err, errlen, "pipeline %s takes %d input%s (%s%s), not %zu", def->name,
                 def->n_inputs, def->n_inputs == 1 ? "" : "s", def->n_inputs ? def->inputs[0] : "",
                 def->n_inputs > 1 ? ", ..." : "", npos);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < npos; i++)
        cJSON_AddStringToObject(o, def->inputs[i], positional[i]);
    for (size_t i = 0; i < nnamed; i++) {
        if (input_index(def, names[i]) < 0) {
            snprintf(err, errlen, "pipeline %s has no input '%s'; its inputs are in its runbook",
                     def->name, names[i]);
            cJSON_Delete(o);
            return NULL;
        }
        if (cJSON_HasObjectItem(o, names[i])) {
            snprintf(err, errlen, "input '%s' is given twice; give it once", names[i]);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddStringToObject(o, names[i], values[i]);
    }
    for (int i = 0; i < def->n_inputs; i++)
        if (!cJSON_HasObjectItem(o, def->inputs[i])) {
            snprintf(err, errlen,
                     "input '%s' is missing; give it in order or as --%s <value> (oj run %s%s%s%s)",
                     def->inputs[i], def->inputs[i], def->name, def->n_inputs ? " <" : "",
                     def->n_inputs ? def->inputs[0] : "", def->n_inputs > 1 ? "> ..." : ">");
            cJSON_Delete(o);
            return NULL;
        }
    return o;
}

cJSON *oj_pipeline_new(const struct oj_pipeline_def *def, cJSON *inputs, const char *workspace,
                       const char *branch, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", def->name);
    cJSON_AddItemToObject(o, "inputs", inputs);
    cJSON_AddStringToObject(o, "workspace", workspace);
    cJSON_AddStringToObject(o, "branch", branch);
    cJSON_AddNumberToObject(o, "created_at_ms", (double)now);
    cJSON_AddStringToObject(o, "state", "running");
    cJSON_AddItemToObject(o, "recovery", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "checkpoints", cJSON_CreateArray());
    cJSON_AddStringToObject(o, "last_error", "");
    cJSON *n = oj_pipeline_enter(o, def->n_phases ? def->phases[0].name : "", now);
    cJSON_Delete(o);
    oj_json_set_str(n, "step", "workspace"); /* its worktree first, off the engine thread */
    return n;
}

cJSON *oj_pipeline_copy(const cJSON *v, int64_t now)
{
    cJSON *n = cJSON_Duplicate(v, 1);
    oj_json_set_num(n, "updated_at_ms", (double)now);
    return n;
}

cJSON *oj_pipeline_enter(const cJSON *v, const char *phase, int64_t now)
{
    cJSON *n = oj_pipeline_copy(v, now);
    oj_json_set_str(n, "phase", phase);
    oj_json_set_str(n, "step", "pending");
    oj_json_set_str(n, "session_id", "");
    oj_json_set_str(n, "waiting_for_lock", "");
    oj_json_set_num(n, "attempt", 0);
    oj_json_set_num(n, "restarts", 0);
    oj_json_set_num(n, "stuck_index", 0);
    oj_json_set_num(n, "last_step_ms", 0);
    oj_json_set_num(n, "phase_started_ms", (double)now);
    oj_json_set_num(n, "run_started_ms", 0); /* set when the phase first runs */
    oj_json_set_num(n, "waiting_since_ms", 0);
    return n;
}

void oj_pipeline_record_step(cJSON *v, int64_t now, const char *action, const char *detail)
{
    cJSON *steps = cJSON_GetObjectItemCaseSensitive(v, "recovery");
    if (!cJSON_IsArray(steps)) {
        steps = cJSON_CreateArray();
        cJSON_DeleteItemFromObjectCaseSensitive(v, "recovery");
        cJSON_AddItemToObject(v, "recovery", steps);
    }
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "time_ms", (double)now);
    cJSON_AddStringToObject(s, "action", action);
    cJSON_AddStringToObject(s, "detail", detail);
    cJSON_AddItemToArray(steps, s);
    while (cJSON_GetArraySize(steps) > MAX_RECOVERY_STEPS)
        cJSON_DeleteItemFromArray(steps, 0);
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
