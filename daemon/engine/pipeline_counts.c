/* pipeline_counts.c — what `oj status` shows of pipelines: how many are
 * active, how many agent phases wait for a session slot, who waits for what. */
#include <stdlib.h>
#include <string.h>

#include "pipeline_engine.h"

/* ---- counting -------------------------------------------------------------------------- */

struct count_ctx {
    unsigned active, queued;
};

static void count(const char *id, const cJSON *v, void *arg)
{
    (void)id;
    struct count_ctx *c = arg;
    if (oj_pipeline_active(v))
        c->active++;
    if (oj_pipeline_active(v) && strcmp(oj_json_str(v, "step"), "queued") == 0)
        c->queued++;
}

unsigned oj_pipelines_active(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each(state_of(d), "pipeline", count, &c);
    return c.active;
}

struct wait_ctx {
    struct oj_daemon *d;
    Oj__PipelineWait *w;
    size_t n, cap;
};

static void collect_wait(const char *id, const cJSON *v, void *arg)
{
    struct wait_ctx *c = arg;
    const char *step = oj_json_str(v, "step");
    if (!oj_pipeline_active(v) || (strcmp(step, "lock") != 0 && strcmp(step, "queued") != 0))
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->w = realloc(c->w, c->cap * sizeof *c->w);
    }
    Oj__PipelineWait *w = &c->w[c->n++];
    oj__pipeline_wait__init(w);
    w->pipeline_id = (char *)id;
    w->phase = (char *)oj_json_str(v, "phase");
    w->lock = (char *)oj_json_str(v, "waiting_for_lock");
    w->since_ms = oj_json_int(v, "waiting_since_ms");
    if (w->since_ms == 0)
        w->since_ms = oj_json_int(v, "updated_at_ms");
    const cJSON *l = w->lock[0] ? oj_state_get(state_of(c->d), "lock", w->lock) : NULL;
    w->holder = (char *)(l ? oj_json_str(l, "holder") : "");
}

size_t oj_pipelines_waiting(struct oj_daemon *d, Oj__PipelineWait **out)
{
    struct wait_ctx c = {.d = d};
    oj_state_each(state_of(d), "pipeline", collect_wait, &c);
    *out = c.w;
    return c.n;
}

unsigned oj_pipelines_queued(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each(state_of(d), "pipeline", count, &c);
    return c.queued;
}
