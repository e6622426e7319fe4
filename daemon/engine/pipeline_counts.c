/* pipeline_counts.c — the walks over every pipeline record, live or
 * archived, decoded; and what `oj status` shows of pipelines: how many are
 * active, how many agent phases wait for a session slot, who waits for what. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_engine.h"

/* ---- every record ------------------------------------------------------------------------ */

struct each_ctx {
    oj_pl_each_fn fn;
    void *arg;
};

static void each_one(const char *id, const cJSON *v, void *arg)
{
    struct each_ctx *e = arg;
    struct oj_pipeline p;
    oj_pipeline_from_json(v, &p);
    e->fn(id, &p, e->arg);
    oj_pipeline_free(&p);
}

void oj_pl_each(struct oj_daemon *d, oj_pl_each_fn fn, void *arg)
{
    struct each_ctx e = {fn, arg};
    oj_state_each(state_of(d), "pipeline", each_one, &e);
}

void oj_pl_each_in_play(struct oj_daemon *d, oj_pl_each_fn fn, void *arg)
{
    struct each_ctx e = {fn, arg};
    oj_state_each_where(state_of(d), "pipeline", oj_pipeline_in_play, each_one, &e);
}

void oj_pipelines_index(struct oj_daemon *d)
{
    if (oj_store_index(d->store, "pipeline", oj_pipeline_in_play) != 0)
        LOG_WARN("pipelines: out of memory for the index of active pipelines; the tick looks "
                 "at every pipeline");
    if (oj_store_index(d->store, "pipeline", oj_pipeline_needs_human) != 0)
        LOG_WARN("pipelines: out of memory for the index of pipelines that need a human; oj "
                 "status looks at every pipeline");
}

/* The "pipelines" of one archive file ({"<id>": record, ...}), or NULL. */
static cJSON *archived_in(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *text = len > 0 ? malloc((size_t)len + 1) : NULL;
    size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
    fclose(f);
    if (text == NULL)
        return NULL;
    text[got] = '\0';
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cJSON *ps = cJSON_DetachItemFromObjectCaseSensitive(doc, "pipelines");
    cJSON_Delete(doc);
    return ps;
}

void oj_pl_each_archived(struct oj_daemon *d, oj_pl_each_fn fn, void *arg)
{
    oj_pl_each_archived_in(d->paths.state_dir, fn, arg);
}

void oj_pl_each_archived_in(const char *state_dir, oj_pl_each_fn fn, void *arg)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/archive", state_dir);
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        /* archive-*: pipelines and sessions; pipelines-*: older archives */
        if (strncmp(e->d_name, "archive-", 8) != 0 && strncmp(e->d_name, "pipelines-", 10) != 0)
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        cJSON *ps = archived_in(path);
        for (const cJSON *v = ps ? ps->child : NULL; v; v = v->next) {
            if (v->string == NULL)
                continue; /* not an archive this version wrote */
            struct oj_pipeline p;
            oj_pipeline_from_json(v, &p);
            fn(v->string, &p, arg);
            oj_pipeline_free(&p);
        }
        cJSON_Delete(ps);
    }
    closedir(dh);
}

/* ---- counting -------------------------------------------------------------------------- */

struct count_ctx {
    unsigned active, queued;
};

/* From the stored record: a count needs no decoding. */
static void count(const char *id, const cJSON *v, void *arg)
{
    (void)id;
    struct count_ctx *c = arg;
    if (!oj_pipeline_active(v))
        return;
    c->active++;
    if (oj_pipeline_step_of(v) == OJ_STEP_QUEUED)
        c->queued++;
}

static struct count_ctx counts(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each_where(state_of(d), "pipeline", oj_pipeline_in_play, count, &c);
    return c;
}

unsigned oj_pipelines_active(struct oj_daemon *d) { return counts(d).active; }

unsigned oj_pipelines_queued(struct oj_daemon *d) { return counts(d).queued; }

/* ---- who waits ------------------------------------------------------------------------- */

/* One pipeline that waits, its strings copied (the records are decoded one
 * at a time and freed after). */
struct wait_item {
    char id[16];
    char *phase, *lock, *holder;
    int64_t since_ms;
};

struct wait_ctx {
    struct oj_daemon *d;
    struct wait_item *w;
    size_t n, cap, text; /* text: bytes of the copied strings, with their NULs */
};

static char *keep(struct wait_ctx *c, const char *s)
{
    c->text += strlen(s) + 1;
    return strdup(s);
}

static void collect_wait(const char *id, struct oj_pipeline *p, void *arg)
{
    struct wait_ctx *c = arg;
    if (!oj_pipeline_state_active(p->state) ||
        (p->step != OJ_STEP_LOCK && p->step != OJ_STEP_QUEUED))
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->w = realloc(c->w, c->cap * sizeof *c->w);
    }
    struct wait_item *w = &c->w[c->n++];
    snprintf(w->id, sizeof w->id, "%s", id);
    w->phase = keep(c, p->phase);
    w->lock = keep(c, p->waiting_for_lock);
    w->since_ms = p->waiting_since_ms ? p->waiting_since_ms : p->updated_at_ms;
    struct oj_lock l;
    bool held = p->waiting_for_lock[0] && lock_of(c->d, p->waiting_for_lock, &l);
    w->holder = keep(c, held ? l.holder : "");
}

/* collect_wait for the few that wait, decoded; the rest (agents at work)
 * are passed over from the stored record. */
static void collect_wait_of(const char *id, const cJSON *v, void *arg)
{
    enum oj_pipeline_step step = oj_pipeline_step_of(v);
    if (!oj_pipeline_active(v) || (step != OJ_STEP_LOCK && step != OJ_STEP_QUEUED))
        return;
    struct oj_pipeline p;
    oj_pipeline_from_json(v, &p);
    collect_wait(id, &p, arg);
    oj_pipeline_free(&p);
}

/* Copies s to *at and moves *at past it. */
static char *put(char **at, const char *s)
{
    char *was = *at;
    size_t n = strlen(s ? s : "") + 1;
    memcpy(was, s ? s : "", n);
    *at += n;
    return was;
}

/* The waits as one block: the array, then every string it points to, so
 * that the caller frees all of it with one free(). */
size_t oj_pipelines_waiting(struct oj_daemon *d, Oj__PipelineWait **out)
{
    struct wait_ctx c = {.d = d};
    oj_state_each_where(state_of(d), "pipeline", oj_pipeline_in_play, collect_wait_of, &c);
    Oj__PipelineWait *w = NULL;
    if (c.n > 0)
        w = malloc(c.n * (sizeof *w + sizeof c.w->id) + c.text);
    char *text = w ? (char *)(w + c.n) : NULL;
    for (size_t i = 0; i < c.n; i++) {
        if (w) {
            oj__pipeline_wait__init(&w[i]);
            w[i].pipeline_id = put(&text, c.w[i].id);
            w[i].phase = put(&text, c.w[i].phase);
            w[i].lock = put(&text, c.w[i].lock);
            w[i].holder = put(&text, c.w[i].holder);
            w[i].since_ms = c.w[i].since_ms;
        }
        free(c.w[i].phase);
        free(c.w[i].lock);
        free(c.w[i].holder);
    }
    free(c.w);
    *out = w;
    return w ? c.n : 0;
}
