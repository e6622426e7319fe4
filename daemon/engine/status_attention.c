/* status_attention.c — see status_attention.h. The rules (what counts, in
 * which order, what to run next) are attention.h's. */
#include "status_attention.h"

#include <stdint.h>
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
struct listed_lock {
    char *name;
    struct oj_lock_seen seen; /* as the walk saw it: its place in the order */
};
struct oj_attention_cache {
    const struct oj_state *state;
    uint64_t seq;
    uint32_t escalated, failed, more;
    size_t n;
    Oj__PipelineAttention items[OJ_ATTENTION_MAX_PIPELINES];
    /* the locks (locks() below) */
    const struct oj_state *lock_state;
    uint64_t lock_changed;
    int64_t lock_at_ms, lock_due_ms; /* walked then; walk again from due on */
    size_t n_locks;
    uint32_t locks_more;
    struct listed_lock locks[OJ_ATTENTION_MAX_LOCKS];
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

static void clear_locks(struct oj_attention_cache *k);

void oj_status_attention_forget(struct oj_daemon *d)
{
    if (d->attention_cache) {
        clear_items(d->attention_cache);
        clear_locks(d->attention_cache);
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

/* The locks worth a look are kept as of one state and its locks' last
 * change, until the first moment a lock's verdict can change with time
 * alone: a lock passing lock_held_long, a heartbeat passing its timeout, and,
 * once a second (the tick's pace), whenever a holder on this machine could
 * die or a listed stale lock could get its heartbeat back. A status before
 * then pays nothing for the locks nobody needs to see, however many there
 * are (the walk decodes every lock). */
#define LOCK_RESCAN_MS 1000

static void clear_locks(struct oj_attention_cache *k)
{
    for (size_t i = 0; i < k->n_locks; i++)
        free(k->locks[i].name);
    k->n_locks = 0;
    k->locks_more = 0;
}

/* Keeps the first OJ_ATTENTION_MAX_LOCKS in attention order, counts the rest. */
static void keep_lock(struct oj_attention_cache *k, const char *name,
                      const struct oj_lock_seen *seen)
{
    size_t at = k->n_locks;
    while (at > 0 && oj_attention_lock_order(seen, &k->locks[at - 1].seen) < 0)
        at--;
    if (at >= OJ_ATTENTION_MAX_LOCKS) {
        k->locks_more++;
        return;
    }
    struct listed_lock one = {strdup(name), *seen};
    if (one.name == NULL)
        return;
    if (k->n_locks == OJ_ATTENTION_MAX_LOCKS) { /* the last one drops out: counted */
        free(k->locks[k->n_locks - 1].name);
        k->n_locks--;
        k->locks_more++;
    }
    memmove(&k->locks[at + 1], &k->locks[at], (k->n_locks - at) * sizeof k->locks[0]);
    k->locks[at] = one;
    k->n_locks++;
}

struct lock_walk {
    struct oj_attention_cache *k;
    int64_t now, held_long;
    int64_t due; /* the first moment a verdict can change with time alone */
};

static void walk_lock(const char *name, const struct oj_lock_view *v, void *arg)
{
    struct lock_walk *w = arg;
    if (!v->held)
        return;
    struct oj_lock_seen seen = {.stale = v->stale,
                                .since_ms = v->lock.since_ms,
                                .heartbeat_ms = v->heartbeat_ms,
                                .timeout_ms = v->lock.timeout_ms,
                                .now_ms = w->now,
                                .holder_pid = v->lock.holder_pid};
    bool listed = oj_attention_lock_listed(&seen, w->held_long);
    if (listed)
        keep_lock(w->k, name, &seen);
    int64_t next = INT64_MAX; /* when this lock's verdict can change next */
    if (v->pid_checked || v->stale)
        next = w->now + LOCK_RESCAN_MS;
    if (!listed && w->held_long > 0 && v->lock.since_ms + w->held_long < next)
        next = v->lock.since_ms + w->held_long;
    if (!v->stale && v->lock.timeout_ms > 0 && v->heartbeat_ms + v->lock.timeout_ms < next)
        next = v->heartbeat_ms + v->lock.timeout_ms;
    if (next < w->due)
        w->due = next;
}

/* Walks every lock; returns when the walk must be made again at the latest. */
static int64_t rescan_locks(struct oj_daemon *d, struct oj_attention_cache *k, int64_t now)
{
    clear_locks(k);
    struct lock_walk w = {.k = k, .now = now, .held_long = d->cfg.lock_held_long_ms,
                          .due = INT64_MAX};
    oj_locks_each(d, now, walk_lock, &w);
    return w.due;
}

static void locks(struct oj_daemon *d, const Oj__PipelineWait *waits, size_t n_waits,
                  int64_t now, Oj__StatusResponse *out)
{
    struct oj_attention_cache *k = d->attention_cache;
    if (k == NULL && (k = d->attention_cache = calloc(1, sizeof *k)) == NULL)
        return;
    const struct oj_state *st = state_of(d);
    uint64_t changed = oj_state_changed(st, "lock");
    if (k->lock_state != st || k->lock_changed != changed || now >= k->lock_due_ms ||
        now < k->lock_at_ms) {
        k->lock_due_ms = rescan_locks(d, k, now);
        k->lock_state = st;
        k->lock_changed = changed;
        k->lock_at_ms = now;
    }
    out->stale_locks_more = k->locks_more;
    out->stale_locks = calloc(k->n_locks + 1, sizeof *out->stale_locks);
    const Oj__PipelineWait **w = calloc(n_waits + 1, sizeof *w);
    for (size_t i = 0; out->stale_locks && w && i < k->n_locks; i++) {
        const struct listed_lock *l = &k->locks[i];
        /* The listed few are looked at again: a heartbeat (kept outside
         * the state) may have come since the walk. */
        struct oj_lock_view v;
        if (!oj_lock_look(d, l->name, now, &v))
            continue;
        struct oj_lock_seen seen = {.stale = v.stale,
                                    .since_ms = v.lock.since_ms,
                                    .heartbeat_ms = v.heartbeat_ms,
                                    .timeout_ms = v.lock.timeout_ms,
                                    .now_ms = now,
                                    .holder_pid = v.lock.holder_pid};
        if (!oj_attention_lock_listed(&seen, d->cfg.lock_held_long_ms))
            continue;
        Oj__LockAttention *a = malloc(sizeof *a);
        if (a == NULL)
            break;
        oj__lock_attention__init(a);
        char why[160], next[300];
        oj_attention_lock_why(&seen, why, sizeof why);
        oj_attention_lock_next(l->name, seen.stale, next, sizeof next);
        a->name = dup(l->name);
        a->holder = dup(v.lock.holder);
        a->since_ms = seen.since_ms;
        a->heartbeat_ms = seen.heartbeat_ms;
        a->stale = seen.stale;
        a->why = dup(why);
        a->next = dup(next);
        size_t n = 0;
        for (size_t j = 0; j < n_waits; j++)
            if (strcmp(waits[j].lock, l->name) == 0)
                w[n++] = &waits[j];
        qsort(w, n, sizeof *w, by_since);
        a->waiters = calloc(n + 1, sizeof *a->waiters);
        for (size_t j = 0; a->waiters && j < n; j++)
            a->waiters[a->n_waiters++] = dup(w[j]->pipeline_id);
        out->stale_locks[out->n_stale_locks++] = a;
    }
    free(w);
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
