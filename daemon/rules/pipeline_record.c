/* pipeline_record.c — the pipeline record's codec (see pipeline_record.h). The
 * table `members` is the format: every member's name, type and when it is
 * written, in the order it is written. */
#include "pipeline_record.h"

#include <stdlib.h>
#include <string.h>

#include "json.h" /* oj_json_number only: inline, no call into base/ */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- strings ----------------------------------------------------------------- */

/* Every empty string of a record is this one, so "" costs no allocation and
 * a string that cannot be copied (out of memory) reads as "". */
static const char empty[] = "";

static const char *copy(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return empty;
    char *c = strdup(s);
    return c ? c : empty;
}

static void drop(const char *s)
{
    if (s && s != empty)
        free((char *)s);
}

void oj_pipeline_set(const char **member, const char *value)
{
    const char *old = *member;
    *member = copy(value); /* first: value may be *member itself */
    drop(old);
}

/* ---- states and steps ------------------------------------------------------------ */

static const char *const state_names[] = {
    [OJ_PIPELINE_STATE_UNKNOWN] = "", [OJ_PIPELINE_RUNNING] = "running",
    [OJ_PIPELINE_WAITING] = "waiting", [OJ_PIPELINE_ESCALATED] = "escalated",
    [OJ_PIPELINE_DONE] = "done",      [OJ_PIPELINE_FAILED] = "failed",
    [OJ_PIPELINE_CANCELLED] = "cancelled",
};

static const char *const step_names[] = {
    [OJ_STEP_UNKNOWN] = "",        [OJ_STEP_WORKSPACE] = "workspace", [OJ_STEP_PENDING] = "pending",
    [OJ_STEP_PAUSE] = "pause",     [OJ_STEP_LOCK] = "lock",           [OJ_STEP_QUEUED] = "queued",
    [OJ_STEP_SHELL] = "shell",     [OJ_STEP_AGENT] = "agent",         [OJ_STEP_DECIDE] = "decide",
    [OJ_STEP_OVER] = "over",
};

const char *oj_pipeline_state_name(enum oj_pipeline_state s)
{
    return (size_t)s < COUNT(state_names) ? state_names[s] : "";
}

const char *oj_pipeline_step_name(enum oj_pipeline_step s)
{
    return (size_t)s < COUNT(step_names) ? step_names[s] : "";
}

/* The index of name in names (0, the unknown one, when it is none of them). */
static int name_index(const char *const *names, size_t n, const cJSON *v)
{
    if (!cJSON_IsString(v))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], v->valuestring) == 0)
            return (int)i;
    return 0;
}

bool oj_pipeline_state_active(enum oj_pipeline_state s)
{
    return s == OJ_PIPELINE_RUNNING || s == OJ_PIPELINE_WAITING || s == OJ_PIPELINE_ESCALATED;
}

enum oj_pipeline_state oj_pipeline_state_of(const cJSON *v)
{
    return (enum oj_pipeline_state)name_index(
        state_names, COUNT(state_names), cJSON_GetObjectItemCaseSensitive(v, "state"));
}

enum oj_pipeline_step oj_pipeline_step_of(const cJSON *v)
{
    return (enum oj_pipeline_step)name_index(step_names, COUNT(step_names),
                                             cJSON_GetObjectItemCaseSensitive(v, "step"));
}

bool oj_pipeline_active(const cJSON *v)
{
    return oj_pipeline_state_active(oj_pipeline_state_of(v));
}

/* A string member that decodes to something other than "". */
static bool has_text(const cJSON *v, const char *member)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, member);
    return cJSON_IsString(m) && m->valuestring[0] != '\0';
}

bool oj_pipeline_in_play(const cJSON *v)
{
    return oj_pipeline_active(v) || has_text(v, "release_session") || has_text(v, "relock");
}

bool oj_pipeline_needs_human(const cJSON *v)
{
    enum oj_pipeline_state s = oj_pipeline_state_of(v);
    return s == OJ_PIPELINE_ESCALATED || s == OJ_PIPELINE_FAILED;
}

/* ---- the format -------------------------------------------------------------------- */

enum kind { STR, NUM, BOOL, STATE, STEP, INPUTS, RECOVERY, CHECKPOINTS };
enum when {
    ALWAYS,      /* as SET, and always in a new record (one not read from JSON) */
    SET,         /* once read with it, or not "", 0 or false */
    WITH_DONE,   /* as SET, and whenever done_session is set */
    WITH_DECIDE, /* as SET, and whenever the step is decide */
};

struct member {
    const char *name;
    enum kind kind;
    size_t off; /* of the field in struct oj_pipeline */
    enum when when;
};

#define M(field, kind, when) {#field, kind, offsetof(struct oj_pipeline, field), when}
static const struct member members[] = {
    M(name, STR, ALWAYS),
    M(inputs, INPUTS, ALWAYS),
    M(workspace, STR, ALWAYS),
    M(branch, STR, ALWAYS),
    M(created_at_ms, NUM, ALWAYS),
    M(state, STATE, ALWAYS),
    M(recovery, RECOVERY, ALWAYS),
    M(checkpoints, CHECKPOINTS, ALWAYS),
    M(last_error, STR, ALWAYS),
    M(updated_at_ms, NUM, ALWAYS),
    M(phase, STR, ALWAYS),
    M(step, STEP, ALWAYS),
    M(session_id, STR, ALWAYS),
    M(waiting_for_lock, STR, ALWAYS),
    M(attempt, NUM, ALWAYS),
    M(restarts, NUM, ALWAYS),
    M(stuck_index, NUM, ALWAYS),
    M(last_step_ms, NUM, ALWAYS),
    M(phase_started_ms, NUM, ALWAYS),
    M(run_started_ms, NUM, ALWAYS),
    M(waiting_since_ms, NUM, ALWAYS),
    M(step_started_ms, NUM, SET),
    M(release_session, STR, SET),
    M(release_at_ms, NUM, SET),
    M(decide_why, STR, WITH_DECIDE),
    M(decide_ok, BOOL, WITH_DECIDE),
    M(done_session, STR, SET),
    M(done_error, STR, WITH_DONE),
    M(done_reply, STR, WITH_DONE),
    M(lock_held, STR, SET),
    M(pause_until_ms, NUM, SET),
    M(relock, STR, SET),
    M(finished_at_ms, NUM, SET),
};
#undef M
_Static_assert(COUNT(members) <= 64, "present is a 64-bit set");

#define FIELD(p, m, type) ((type *)(void *)((char *)(p) + (m)->off))
#define CFIELD(p, m, type) ((const type *)(const void *)((const char *)(p) + (m)->off))

/* ---- lists ---------------------------------------------------------------------------- */

/* Grows a list by one zeroed element; NULL when out of memory. */
static void *grow(void **list, size_t *n, size_t size)
{
    char *l = realloc(*list, (*n + 1) * size);
    if (l == NULL)
        return NULL;
    *list = l;
    memset(l + *n * size, 0, size);
    return l + (*n)++ * size;
}

void oj_pipeline_add_input(struct oj_pipeline *p, const char *name, const char *value)
{
    struct oj_pipeline_input *in = grow((void **)&p->inputs, &p->n_inputs, sizeof *in);
    if (in) {
        in->name = copy(name);
        in->value = copy(value);
    }
}

const char *oj_pipeline_input(const struct oj_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->n_inputs; i++)
        if (strcmp(p->inputs[i].name, name) == 0)
            return p->inputs[i].value;
    return NULL;
}

void oj_pipeline_add_recovery(struct oj_pipeline *p, int64_t time_ms, const char *action,
                              const char *detail)
{
    struct oj_pipeline_recovery *r = grow((void **)&p->recovery, &p->n_recovery, sizeof *r);
    if (r) {
        r->time_ms = time_ms;
        r->action = copy(action);
        r->detail = copy(detail);
    }
    while (p->n_recovery > OJ_PIPELINE_MAX_RECOVERY) {
        drop(p->recovery[0].action);
        drop(p->recovery[0].detail);
        memmove(p->recovery, p->recovery + 1, --p->n_recovery * sizeof *p->recovery);
    }
}

void oj_pipeline_add_checkpoint(struct oj_pipeline *p, int64_t time_ms, const char *phase,
                                const char *message)
{
    struct oj_pipeline_checkpoint *c =
        grow((void **)&p->checkpoints, &p->n_checkpoints, sizeof *c);
    if (c) {
        c->time_ms = time_ms;
        c->phase = copy(phase);
        c->message = copy(message);
    }
    while (p->n_checkpoints > OJ_PIPELINE_MAX_CHECKPOINTS) {
        drop(p->checkpoints[0].phase);
        drop(p->checkpoints[0].message);
        memmove(p->checkpoints, p->checkpoints + 1, --p->n_checkpoints * sizeof *p->checkpoints);
    }
}

/* ---- a record ---------------------------------------------------------------------------- */

void oj_pipeline_init(struct oj_pipeline *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < COUNT(members); i++)
        if (members[i].kind == STR)
            *FIELD(p, &members[i], const char *) = empty;
}

void oj_pipeline_free(struct oj_pipeline *p)
{
    for (size_t i = 0; i < COUNT(members); i++)
        if (members[i].kind == STR)
            drop(*FIELD(p, &members[i], const char *));
    for (size_t i = 0; i < p->n_inputs; i++) {
        drop(p->inputs[i].name);
        drop(p->inputs[i].value);
    }
    for (size_t i = 0; i < p->n_recovery; i++) {
        drop(p->recovery[i].action);
        drop(p->recovery[i].detail);
    }
    for (size_t i = 0; i < p->n_checkpoints; i++) {
        drop(p->checkpoints[i].phase);
        drop(p->checkpoints[i].message);
    }
    free(p->inputs);
    free(p->recovery);
    free(p->checkpoints);
    oj_pipeline_init(p);
}

/* ---- reading ----------------------------------------------------------------------------- */

static const char *text(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *item(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static void read_member(const struct member *m, const cJSON *v, struct oj_pipeline *p)
{
    switch (m->kind) {
    case STR:
        oj_pipeline_set(FIELD(p, m, const char *), text(v));
        return;
    case NUM:
        *FIELD(p, m, int64_t) = oj_json_number(v);
        return;
    case BOOL:
        *FIELD(p, m, bool) = cJSON_IsTrue(v);
        return;
    case STATE:
        p->state = (enum oj_pipeline_state)name_index(state_names, COUNT(state_names), v);
        return;
    case STEP:
        p->step = (enum oj_pipeline_step)name_index(step_names, COUNT(step_names), v);
        return;
    case INPUTS:
        for (const cJSON *in = cJSON_IsObject(v) ? v->child : NULL; in; in = in->next)
            if (in->string)
                oj_pipeline_add_input(p, in->string, text(in));
        return;
    case RECOVERY: /* every one read, also past the bound: only a new step trims */
        for (const cJSON *r = cJSON_IsArray(v) ? v->child : NULL; r; r = r->next) {
            struct oj_pipeline_recovery *s =
                grow((void **)&p->recovery, &p->n_recovery, sizeof *s);
            if (s == NULL)
                return;
            s->time_ms = oj_json_number(item(r, "time_ms"));
            s->action = copy(text(item(r, "action")));
            s->detail = copy(text(item(r, "detail")));
        }
        return;
    case CHECKPOINTS:
        for (const cJSON *c = cJSON_IsArray(v) ? v->child : NULL; c; c = c->next) {
            struct oj_pipeline_checkpoint *s =
                grow((void **)&p->checkpoints, &p->n_checkpoints, sizeof *s);
            if (s == NULL)
                return;
            s->time_ms = oj_json_number(item(c, "time_ms"));
            s->phase = copy(text(item(c, "phase")));
            s->message = copy(text(item(c, "message")));
        }
        return;
    }
}

/* The index of member `name` in the table, -1 when none; looked for from
 * `hint` on first, since records mostly hold their members in table order. */
static int member_index(const char *name, size_t hint)
{
    for (size_t k = 0; k < COUNT(members); k++) {
        size_t i = (hint + k) % COUNT(members);
        if (strcmp(members[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int oj_pipeline_from_json(const cJSON *v, struct oj_pipeline *p)
{
    oj_pipeline_init(p);
    if (!cJSON_IsObject(v))
        return -1;
    size_t hint = 0;
    for (const cJSON *c = v->child; c; c = c->next) {
        int i = c->string ? member_index(c->string, hint) : -1;
        if (i < 0)
            continue;
        hint = (size_t)i + 1;
        /* a member given twice: the first counts, as for every reader before */
        if (!(p->present & (UINT64_C(1) << i))) {
            p->present |= UINT64_C(1) << i;
            read_member(&members[i], c, p);
        }
    }
    return 0;
}

void oj_pipeline_brief_of(const cJSON *v, struct oj_pipeline_brief *b)
{
    *b = (struct oj_pipeline_brief){.name = "", .phase = ""};
    uint64_t seen = 0; /* a member given twice: the first counts, as in from_json */
    int wanted = 5;    /* done once all five are read: the rest is never looked at */
    size_t hint = 0;
    for (const cJSON *c = cJSON_IsObject(v) ? v->child : NULL; c && wanted > 0; c = c->next) {
        int i = c->string ? member_index(c->string, hint) : -1;
        if (i < 0 || (seen & (UINT64_C(1) << i)))
            continue;
        hint = (size_t)i + 1;
        seen |= UINT64_C(1) << i;
        const struct member *m = &members[i];
        wanted--;
        if (m->off == offsetof(struct oj_pipeline, name))
            b->name = text(c);
        else if (m->off == offsetof(struct oj_pipeline, phase))
            b->phase = text(c);
        else if (m->kind == STATE)
            b->state = (enum oj_pipeline_state)name_index(state_names, COUNT(state_names), c);
        else if (m->off == offsetof(struct oj_pipeline, created_at_ms))
            b->created_at_ms = oj_json_number(c);
        else if (m->off == offsetof(struct oj_pipeline, updated_at_ms))
            b->updated_at_ms = oj_json_number(c);
        else
            wanted++; /* not one of the five */
    }
}

/* ---- writing ----------------------------------------------------------------------------- */

static bool is_default(const struct member *m, const struct oj_pipeline *p)
{
    switch (m->kind) {
    case STR:
        return (*CFIELD(p, m, const char *))[0] == '\0';
    case NUM:
        return *CFIELD(p, m, int64_t) == 0;
    case BOOL:
        return !*CFIELD(p, m, bool);
    case STATE:
        return p->state == OJ_PIPELINE_STATE_UNKNOWN;
    case STEP:
        return p->step == OJ_STEP_UNKNOWN;
    case INPUTS:
        return p->n_inputs == 0;
    case RECOVERY:
        return p->n_recovery == 0;
    case CHECKPOINTS:
        return p->n_checkpoints == 0;
    }
    return false;
}

static bool written(size_t i, const struct oj_pipeline *p)
{
    const struct member *m = &members[i];
    if ((p->present & (UINT64_C(1) << i)) || !is_default(m, p))
        return true;
    switch (m->when) {
    case ALWAYS:
        return p->present == 0; /* a new record */
    case WITH_DONE:
        return p->done_session[0] != '\0';
    case WITH_DECIDE:
        return p->step == OJ_STEP_DECIDE;
    case SET:
        break;
    }
    return false;
}

static cJSON *write_member(const struct member *m, const struct oj_pipeline *p)
{
    switch (m->kind) {
    case STR:
        return cJSON_CreateString(*CFIELD(p, m, const char *));
    case NUM:
        return cJSON_CreateNumber((double)*CFIELD(p, m, int64_t));
    case BOOL:
        return cJSON_CreateBool(*CFIELD(p, m, bool));
    case STATE:
        return cJSON_CreateString(oj_pipeline_state_name(p->state));
    case STEP:
        return cJSON_CreateString(oj_pipeline_step_name(p->step));
    case INPUTS: {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; o && i < p->n_inputs; i++)
            cJSON_AddStringToObject(o, p->inputs[i].name, p->inputs[i].value);
        return o;
    }
    case RECOVERY: {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < p->n_recovery; i++) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddNumberToObject(s, "time_ms", (double)p->recovery[i].time_ms);
            cJSON_AddStringToObject(s, "action", p->recovery[i].action);
            cJSON_AddStringToObject(s, "detail", p->recovery[i].detail);
            cJSON_AddItemToArray(a, s);
        }
        return a;
    }
    case CHECKPOINTS: {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < p->n_checkpoints; i++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "time_ms", (double)p->checkpoints[i].time_ms);
            cJSON_AddStringToObject(c, "phase", p->checkpoints[i].phase);
            cJSON_AddStringToObject(c, "message", p->checkpoints[i].message);
            cJSON_AddItemToArray(a, c);
        }
        return a;
    }
    }
    return NULL;
}

cJSON *oj_pipeline_to_json(const struct oj_pipeline *p)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < COUNT(members); i++)
        if (written(i, p))
            cJSON_AddItemToObject(o, members[i].name, write_member(&members[i], p));
    return o;
}
