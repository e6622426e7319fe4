/* status_attention.c — see status_attention.h. The rules (what counts, in
 * which order, what to run next) are attention.h's. */
#include "status_attention.h"

#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "clock.h"
#include "lock_engine.h"
#include "pipeline_engine.h"
#include "sessions_engine.h"

/* ---- pipelines ------------------------------------------------------------------------- */

/* The listed ones as of one state (pointer and seq): a status of an
 * unchanged state (a watch between events, a script polling) reuses them,
 * and only a change pays the walk over the escalated and failed ones. */
struct oj_attention_cache {
    const struct oj_state *state;
    uint64_t seq;
    uint32_t escalated, failed, more;
    size_t n;
    Oj__PipelineAttention items[OJ_ATTENTION_MAX_PIPELINES];
};

struct seen_pipeline {
    const char *id; /* the state's, valid during the walk */
    bool escalated;
    int64_t since;
};

struct pipeline_ctx {
    struct seen_pipeline top[OJ_ATTENTION_MAX_PIPELINES]; /* in order */
    size_t n;
    uint32_t escalated, failed;
};

/* Keeps the first OJ_ATTENTION_MAX_PIPELINES in attention order. */
static void collect_pipeline(const char *id, const cJSON *v, void *arg)
{
    struct pipeline_ctx *c = arg;
    struct oj_pipeline_brief b;
    oj_pipeline_brief_of(v, &b);
    struct seen_pipeline one = {id, b.state == OJ_PIPELINE_ESCALATED, b.updated_at_ms};
    if (one.escalated)
        c->escalated++;
    else
        c->failed++;
    size_t at = c->n;
    while (at > 0 && oj_attention_order(one.escalated, one.since, c->top[at - 1].escalated,
                                        c->top[at - 1].since) < 0)
        at--;
    if (at >= OJ_ATTENTION_MAX_PIPELINES)
        return;
    size_t keep = c->n < OJ_ATTENTION_MAX_PIPELINES ? c->n : OJ_ATTENTION_MAX_PIPELINES - 1;
    memmove(&c->top[at + 1], &c->top[at], (keep - at) * sizeof c->top[0]);
    c->top[at] = one;
    if (c->n < OJ_ATTENTION_MAX_PIPELINES)
        c->n++;
}

static char *dup(const char *s) { return strdup(s ? s : ""); }

static void clear_items(struct oj_attention_cache *k)
{
    for (size_t i = 0; i < k->n; i++) {
        Oj__PipelineAttention *a = &k->items[i];
        free(a->pipeline_id), free(a->name), free(a->phase), free(a->state);
        free(a->last_error), free(a->next);
    }
    k->n = 0;
}

static void refill(struct oj_daemon *d, struct oj_attention_cache *k)
{
    clear_items(k);
    struct pipeline_ctx c = {0};
    oj_state_each_where(state_of(d), "pipeline", oj_pipeline_needs_human, collect_pipeline, &c);
    k->escalated = c.escalated;
    k->failed = c.failed;
    for (size_t i = 0; i < c.n; i++) {
        Oj__PipelineAttention *a = &k->items[k->n++];
        oj__pipeline_attention__init(a);
        struct oj_pipeline p;
        load(d, c.top[i].id, &p);
        char next[200];
        oj_attention_pipeline_next(c.top[i].id, next, sizeof next);
        a->pipeline_id = dup(c.top[i].id);
        a->name = dup(p.name);
        a->phase = dup(p.phase);
        a->state = dup(oj_pipeline_state_name(p.state));
        /* an escalation says why in its recovery step, not as an error */
        a->last_error = dup(p.last_error[0] || p.n_recovery == 0
                                ? p.last_error
                                : p.recovery[p.n_recovery - 1].detail);
        a->since_ms = p.updated_at_ms;
        a->next = dup(next);
        oj_pipeline_free(&p);
    }
    k->more = c.escalated + c.failed - (uint32_t)k->n;
}

static void pipelines(struct oj_daemon *d, Oj__StatusResponse *out)
{
    struct oj_attention_cache *k = d->attention_cache;
    if (k == NULL && (k = d->attention_cache = calloc(1, sizeof *k)) == NULL)
        return;
    const struct oj_state *st = state_of(d);
    if (k->state != st || k->seq != oj_state_seq(st) || k->seq == 0) {
        refill(d, k);
        k->state = st;
        k->seq = oj_state_seq(st);
    }
    out->escalated_pipelines = k->escalated;
    out->failed_pipelines = k->failed;
    out->attention_more = k->more;
    out->attention = calloc(k->n + 1, sizeof *out->attention);
    for (size_t i = 0; out->attention && i < k->n; i++)
        out->attention[out->n_attention++] = &k->items[i];
}

void oj_status_attention_forget(struct oj_daemon *d)
{
    if (d->attention_cache) {
        clear_items(d->attention_cache);
        free(d->attention_cache);
        d->attention_cache = NULL;
    }
}

/* ---- sessions -------------------------------------------------------------------------- */

struct session_ctx {
    struct oj_daemon *d;
    Oj__StatusResponse *out;
    int64_t now;
};

static void collect_session(const char *id, const struct oj_session *s, void *arg)
{
    struct session_ctx *c = arg;
    int64_t quiet = oj_session_quiet_ms(s, c->now);
    bool asked;
    int64_t since;
    const char *prompt = oj_session_prompt(c->d, id, &asked, &since);
    if (strcmp(oj_session_shown_state(s, quiet, prompt != NULL), "needs_input") != 0)
        return;
    Oj__StatusResponse *out = c->out;
    Oj__SessionAttention **grown =
        realloc(out->needs_input, (out->n_needs_input + 2) * sizeof *grown);
    Oj__SessionAttention *a = grown ? malloc(sizeof *a) : NULL;
    if (grown)
        out->needs_input = grown;
    if (a == NULL)
        return;
    oj__session_attention__init(a);
    char next[200];
    oj_attention_session_next(id, next, sizeof next);
    a->session_id = dup(id);
    a->name = dup(s->name);
    a->pipeline_id = dup(s->pipeline_id);
    a->phase = dup(s->phase);
    a->idle_ms = quiet;
    a->next = dup(next);
    a->prompt = dup(prompt);
    out->needs_input[out->n_needs_input++] = a;
}

/* ---- locks ----------------------------------------------------------------------------- */

static int by_since(const void *x, const void *y)
{
    const Oj__PipelineWait *a = *(const Oj__PipelineWait *const *)x;
    const Oj__PipelineWait *b = *(const Oj__PipelineWait *const *)y;
    return a->since_ms < b->since_ms ? -1 : a->since_ms > b->since_ms;
}

static void locks(struct oj_daemon *d, const Oj__PipelineWait *waits, size_t n_waits,
                  int64_t now, Oj__StatusResponse *out)
{
    struct oj_lock_entry *all = NULL;
    size_t n = 0;
    if (oj_locks_all(d, now, &all, &n) != 0)
        return;
    out->stale_locks = calloc(n + 1, sizeof *out->stale_locks);
    const Oj__PipelineWait **w = calloc(n_waits + 1, sizeof *w);
    for (size_t i = 0; out->stale_locks && w && i < n; i++) {
        const struct oj_lock_view *v = &all[i].v;
        if (!v->held)
            continue;
        struct oj_lock_seen seen = {.stale = v->stale,
                                    .since_ms = v->lock.since_ms,
                                    .heartbeat_ms = v->heartbeat_ms,
                                    .timeout_ms = v->lock.timeout_ms,
                                    .now_ms = now,
                                    .holder_pid = v->lock.holder_pid};
        if (!oj_attention_lock_listed(&seen, d->cfg.lock_held_long_ms))
            continue;
        Oj__LockAttention *a = malloc(sizeof *a);
        if (a == NULL)
            break;
        oj__lock_attention__init(a);
        char why[160], next[300];
        oj_attention_lock_why(&seen, why, sizeof why);
        oj_attention_lock_next(all[i].name, v->stale, next, sizeof next);
        a->name = dup(all[i].name);
        a->holder = dup(v->lock.holder);
        a->since_ms = v->lock.since_ms;
        a->heartbeat_ms = v->heartbeat_ms;
        a->stale = v->stale;
        a->why = dup(why);
        a->next = dup(next);
        size_t k = 0;
        for (size_t j = 0; j < n_waits; j++)
            if (strcmp(waits[j].lock, all[i].name) == 0)
                w[k++] = &waits[j];
        qsort(w, k, sizeof *w, by_since);
        a->waiters = calloc(k + 1, sizeof *a->waiters);
        for (size_t j = 0; a->waiters && j < k; j++)
            a->waiters[a->n_waiters++] = dup(w[j]->pipeline_id);
        out->stale_locks[out->n_stale_locks++] = a;
    }
    free(w);
    free(all);
}

void oj_status_attention(struct oj_daemon *d, const Oj__PipelineWait *waits, size_t n_waits,
                         Oj__StatusResponse *out)
{
    int64_t now = oj_wall_ms();
    pipelines(d, out);
    struct session_ctx sc = {.d = d, .out = out, .now = now};
    oj_sessions_each_live(d, collect_session, &sc);
    locks(d, waits, n_waits, now, out);
}

void oj_status_attention_free(Oj__StatusResponse *out)
{
    free(out->attention); /* its items are the cache's */
    for (size_t i = 0; i < out->n_needs_input; i++) {
        Oj__SessionAttention *a = out->needs_input[i];
        free(a->session_id), free(a->name), free(a->pipeline_id), free(a->phase);
        free(a->next), free(a->prompt), free(a);
    }
    free(out->needs_input);
    for (size_t i = 0; i < out->n_stale_locks; i++) {
        Oj__LockAttention *a = out->stale_locks[i];
        free(a->name), free(a->holder), free(a->why), free(a->next);
        for (size_t j = 0; j < a->n_waiters; j++)
            free(a->waiters[j]);
        free(a->waiters), free(a);
    }
    free(out->stale_locks);
}
