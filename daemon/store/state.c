/* state.c — see state.h. Kinds are few, so they are a short list; ids within
 * a kind are a hash map, and so is each index (its values are the kind's). */
#include "state.h"

#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

#define MAX_KINDS 16

struct kind {
    char *name;
    struct oj_hmap ids; /* id -> cJSON* (owned) */
    uint64_t changed;   /* change_clock at its last put or del */
};

/* Counts every put and del of every state in the process, so that a kind's
 * `changed` is never the same for two different contents, even across a
 * restore's new state (oj_state_changed). Atomic: a restore loads its state
 * on a work thread while the engine's is read. */
static _Atomic uint64_t change_clock;

/* The ids of `kind` whose value pred says yes to; values are the state's. */
struct index {
    char *kind;
    oj_state_pred pred;
    struct oj_hmap ids; /* id -> cJSON* (the kind's own) */
    bool broken;        /* out of memory once: walks look at everything */
};

struct oj_state {
    struct kind kinds[MAX_KINDS];
    int nkinds;
    uint64_t seq;
    struct index indexes[OJ_STATE_MAX_INDEXES];
    int nindexes;
};

struct oj_state *oj_state_new(void) { return calloc(1, sizeof(struct oj_state)); }

uint64_t oj_state_changed(const struct oj_state *s, const char *kind)
{
    const struct kind *k = NULL;
    for (int i = 0; i < s->nkinds && k == NULL; i++)
        if (strcmp(s->kinds[i].name, kind) == 0)
            k = &s->kinds[i];
    return k ? k->changed : 0;
}

/* Files the entity id of kind (value; NULL: it is gone) in every index of
 * its kind. */
static void reindex(struct oj_state *s, const char *kind, const char *id, cJSON *value)
{
    for (int i = 0; i < s->nindexes; i++) {
        struct index *x = &s->indexes[i];
        if (x->broken || strcmp(x->kind, kind) != 0)
            continue;
        bool oom = false;
        if (value && x->pred(value))
            oj_hmap_put(&x->ids, id, value, &oom);
        else
            oj_hmap_del(&x->ids, id);
        if (oom) { /* a miss would hide an entity from a walk: walk everything */
            x->broken = true;
            oj_hmap_free(&x->ids);
        }
    }
}

static void clear(struct oj_state *s)
{
    for (int i = 0; i < s->nindexes; i++) { /* kept, empty (and whole again): the entities go */
        oj_hmap_free(&s->indexes[i].ids);
        s->indexes[i].broken = false;
    }
    for (int i = 0; i < s->nkinds; i++) {
        const char *k;
        void *v;
        for (size_t it = 0; oj_hmap_next(&s->kinds[i].ids, &it, &k, &v);)
            cJSON_Delete(v);
        oj_hmap_free(&s->kinds[i].ids);
        free(s->kinds[i].name);
    }
    s->nkinds = 0;
}

void oj_state_free(struct oj_state *s)
{
    if (s == NULL)
        return;
    clear(s);
    for (int i = 0; i < s->nindexes; i++)
        free(s->indexes[i].kind);
    free(s);
}

uint64_t oj_state_seq(const struct oj_state *s) { return s->seq; }
void oj_state_set_seq(struct oj_state *s, uint64_t seq) { s->seq = seq; }

static struct kind *find_kind(const struct oj_state *s, const char *name)
{
    for (int i = 0; i < s->nkinds; i++)
        if (strcmp(s->kinds[i].name, name) == 0)
            return (struct kind *)&s->kinds[i];
    return NULL;
}

static struct kind *get_kind(struct oj_state *s, const char *name)
{
    struct kind *k = find_kind(s, name);
    if (k || s->nkinds == MAX_KINDS)
        return k;
    k = &s->kinds[s->nkinds];
    k->name = strdup(name);
    if (k->name == NULL)
        return NULL;
    oj_hmap_init(&k->ids);
    s->nkinds++;
    return k;
}

const cJSON *oj_state_get(const struct oj_state *s, const char *kind, const char *id)
{
    struct kind *k = find_kind(s, kind);
    return k ? oj_hmap_get(&k->ids, id) : NULL;
}

size_t oj_state_count(const struct oj_state *s, const char *kind)
{
    struct kind *k = find_kind(s, kind);
    return k ? k->ids.count : 0;
}

size_t oj_state_total(const struct oj_state *s)
{
    size_t n = 0;
    for (int i = 0; i < s->nkinds; i++)
        n += s->kinds[i].ids.count;
    return n;
}

void oj_state_each(const struct oj_state *s, const char *kind,
                   void (*fn)(const char *id, const cJSON *value, void *arg), void *arg)
{
    struct kind *k = find_kind(s, kind);
    if (k == NULL)
        return;
    const char *id;
    void *v;
    for (size_t it = 0; oj_hmap_next(&k->ids, &it, &id, &v);)
        fn(id, v, arg);
}

/* ---- indexes ---------------------------------------------------------------- */

static const struct index *index_of(const struct oj_state *s, const char *kind,
                                    oj_state_pred pred)
{
    for (int i = 0; i < s->nindexes; i++)
        if (s->indexes[i].pred == pred && !s->indexes[i].broken &&
            strcmp(s->indexes[i].kind, kind) == 0)
            return &s->indexes[i];
    return NULL;
}

int oj_state_index(struct oj_state *s, const char *kind, oj_state_pred pred)
{
    if (index_of(s, kind, pred))
        return 0;
    if (s->nindexes == OJ_STATE_MAX_INDEXES)
        return -1;
    struct index *x = &s->indexes[s->nindexes];
    *x = (struct index){.kind = strdup(kind), .pred = pred};
    if (x->kind == NULL)
        return -1;
    oj_hmap_init(&x->ids);
    s->nindexes++;
    struct kind *k = find_kind(s, kind);
    const char *id;
    void *v;
    for (size_t it = 0; k && oj_hmap_next(&k->ids, &it, &id, &v);)
        reindex(s, kind, id, v);
    return x->broken ? -1 : 0;
}

int oj_state_index_like(struct oj_state *to, const struct oj_state *from)
{
    int rc = 0;
    for (int i = 0; i < from->nindexes; i++)
        if (oj_state_index(to, from->indexes[i].kind, from->indexes[i].pred) != 0)
            rc = -1;
    return rc;
}

struct where_ctx {
    oj_state_pred pred;
    void (*fn)(const char *id, const cJSON *value, void *arg);
    void *arg;
    size_t n;
};

static void if_pred(const char *id, const cJSON *value, void *arg)
{
    struct where_ctx *w = arg;
    if (w->pred(value)) {
        w->n++;
        if (w->fn)
            w->fn(id, value, w->arg);
    }
}

void oj_state_each_where(const struct oj_state *s, const char *kind, oj_state_pred pred,
                         void (*fn)(const char *id, const cJSON *value, void *arg), void *arg)
{
    const struct index *x = index_of(s, kind, pred);
    if (x == NULL) {
        struct where_ctx w = {pred, fn, arg, 0};
        oj_state_each(s, kind, if_pred, &w);
        return;
    }
    const char *id;
    void *v;
    for (size_t it = 0; oj_hmap_next(&x->ids, &it, &id, &v);)
        fn(id, v, arg);
}

size_t oj_state_count_where(const struct oj_state *s, const char *kind, oj_state_pred pred)
{
    const struct index *x = index_of(s, kind, pred);
    if (x)
        return x->ids.count;
    struct where_ctx w = {pred, NULL, NULL, 0};
    oj_state_each(s, kind, if_pred, &w);
    return w.n;
}

/* ---- operations ------------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(f) && f->valuestring[0] ? f->valuestring : NULL;
}

/* Takes ownership of value. */
static int put(struct oj_state *s, const char *kind, const char *id, cJSON *value, char *err,
               size_t errlen)
{
    struct kind *k = get_kind(s, kind);
    bool oom = false;
    cJSON *old = k ? oj_hmap_put(&k->ids, id, value, &oom) : NULL;
    if (k == NULL || oom) {
        snprintf(err, errlen, k ? "out of memory" : "too many kinds of entity (max %d)",
                 MAX_KINDS);
        cJSON_Delete(value);
        return -1;
    }
    reindex(s, kind, id, value);
    cJSON_Delete(old);
    k->changed = atomic_fetch_add(&change_clock, 1) + 1;
    return 0;
}

int oj_state_check(const cJSON *op, char *err, size_t errlen)
{
    const char *type = str_field(op, "type");
    if (type == NULL) {
        snprintf(err, errlen, "operation has no \"type\"");
        return -1;
    }
    if (strcmp(type, "mark") == 0)
        return 0;
    if (strcmp(type, "base") == 0) {
        const cJSON *sq = cJSON_GetObjectItemCaseSensitive(op, "snapshot_seq");
        if (str_field(op, "snapshot") == NULL || !cJSON_IsNumber(sq) || sq->valuedouble < 0) {
            snprintf(err, errlen, "base operation needs \"snapshot\" and \"snapshot_seq\"");
            return -1;
        }
        return 0;
    }
    if (strcmp(type, "batch") == 0) {
        const cJSON *ops = cJSON_GetObjectItemCaseSensitive(op, "ops"), *o;
        if (!cJSON_IsArray(ops)) {
            snprintf(err, errlen, "batch operation has no \"ops\" array");
            return -1;
        }
        cJSON_ArrayForEach(o, ops)
        {
            const char *t = str_field(o, "type");
            if (t && (strcmp(t, "batch") == 0 || strcmp(t, "base") == 0)) {
                snprintf(err, errlen, "a batch holds no %s operation", t);
                return -1;
            }
            if (oj_state_check(o, err, errlen) != 0)
                return -1;
        }
        return 0;
    }
    const char *kind = str_field(op, "kind"), *id = str_field(op, "id");
    if (kind == NULL || id == NULL) {
        snprintf(err, errlen, "%s operation needs non-empty \"kind\" and \"id\"", type);
        return -1;
    }
    if (strcmp(type, "put") == 0) {
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(op, "value"))) {
            snprintf(err, errlen, "put of %s/%s has no object \"value\"", kind, id);
            return -1;
        }
        return 0;
    }
    if (strcmp(type, "del") == 0)
        return 0;
    snprintf(err, errlen, "unknown operation type \"%s\"", type);
    return -1;
}

/* Applies an operation oj_state_check has accepted. */
static int apply_checked(struct oj_state *s, const cJSON *op, char *err, size_t errlen)
{
    const char *type = str_field(op, "type");
    if (strcmp(type, "batch") == 0) {
        const cJSON *ops = cJSON_GetObjectItemCaseSensitive(op, "ops"), *o;
        cJSON_ArrayForEach(o, ops)
        {
            if (apply_checked(s, o, err, errlen) != 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "put") != 0 && strcmp(type, "del") != 0)
        return 0; /* mark, base: no entity changes */
    const char *kind = str_field(op, "kind"), *id = str_field(op, "id");
    if (strcmp(type, "del") == 0) {
        struct kind *k = find_kind(s, kind);
        if (k) {
            reindex(s, kind, id, NULL);
            cJSON_Delete(oj_hmap_del(&k->ids, id));
            k->changed = atomic_fetch_add(&change_clock, 1) + 1;
        }
        return 0;
    }
    cJSON *copy = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(op, "value"), 1);
    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return put(s, kind, id, copy, err, errlen);
}

int oj_state_apply(struct oj_state *s, uint64_t seq, const cJSON *op, char *err, size_t errlen)
{
    /* Checked whole before anything is applied: a bad batch changes nothing. */
    if (oj_state_check(op, err, errlen) != 0 || apply_checked(s, op, err, errlen) != 0)
        return -1;
    s->seq = seq;
    return 0;
}

cJSON *oj_state_to_json(const struct oj_state *s)
{
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < s->nkinds; i++) {
        if (s->kinds[i].ids.count == 0)
            continue;
        cJSON *k = cJSON_AddObjectToObject(root, s->kinds[i].name);
        const char *id;
        void *v;
        for (size_t it = 0; oj_hmap_next(&s->kinds[i].ids, &it, &id, &v);)
            cJSON_AddItemToObject(k, id, cJSON_Duplicate(v, 1));
    }
    return root;
}

cJSON *oj_state_to_json_view(const struct oj_state *s)
{
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; root && i < s->nkinds; i++) {
        if (s->kinds[i].ids.count == 0)
            continue;
        cJSON *k = cJSON_AddObjectToObject(root, s->kinds[i].name);
        const char *id;
        void *v;
        for (size_t it = 0; k && oj_hmap_next(&s->kinds[i].ids, &it, &id, &v);)
            if (!cJSON_AddItemReferenceToObject(k, id, v)) {
                cJSON_Delete(root);
                return NULL;
            }
    }
    return root;
}

int oj_state_load_json(struct oj_state *s, const cJSON *json, uint64_t seq, char *err,
                       size_t errlen)
{
    if (!cJSON_IsObject(json)) {
        snprintf(err, errlen, "state is not a JSON object");
        return -1;
    }
    clear(s);
    for (const cJSON *k = json->child; k; k = k->next) {
        if (!cJSON_IsObject(k)) {
            snprintf(err, errlen, "state kind \"%s\" is not an object", k->string);
            return -1;
        }
        for (const cJSON *e = k->child; e; e = e->next) {
            if (!cJSON_IsObject(e)) {
                snprintf(err, errlen, "entity %s/%s is not an object", k->string, e->string);
                return -1;
            }
            if (put(s, k->string, e->string, cJSON_Duplicate(e, 1), err, errlen) != 0)
                return -1;
        }
    }
    s->seq = seq;
    return 0;
}

cJSON *oj_op_put(const char *kind, const char *id, cJSON *value)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "type", "put");
    cJSON_AddStringToObject(op, "kind", kind);
    cJSON_AddStringToObject(op, "id", id);
    cJSON_AddItemToObject(op, "value", value);
    return op;
}

cJSON *oj_op_del(const char *kind, const char *id)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "type", "del");
    cJSON_AddStringToObject(op, "kind", kind);
    cJSON_AddStringToObject(op, "id", id);
    return op;
}

cJSON *oj_op_batch(cJSON *ops)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "type", "batch");
    cJSON_AddItemToObject(op, "ops", ops);
    return op;
}

cJSON *oj_op_base(const char *snapshot_id, uint64_t snapshot_seq)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "type", "base");
    cJSON_AddStringToObject(op, "snapshot", snapshot_id);
    cJSON_AddNumberToObject(op, "snapshot_seq", (double)snapshot_seq);
    return op;
}

cJSON *oj_op_mark(const char *note)
{
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "type", "mark");
    cJSON_AddStringToObject(op, "note", note);
    return op;
}
