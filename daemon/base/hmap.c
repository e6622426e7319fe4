/* hmap.c — see hmap.h. */
#include "hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"

static uint64_t hash(const char *s) { return oj_fnv1a64_str(s); }

void oj_hmap_init(struct oj_hmap *m) { memset(m, 0, sizeof *m); }

void oj_hmap_free(struct oj_hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct oj_hmap_slot *find(const struct oj_hmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        struct oj_hmap_slot *s = &m->slots[i];
        if (s->key == NULL && !s->deleted)
            return NULL;
        if (s->key && strcmp(s->key, key) == 0)
            return s;
    }
}

void *oj_hmap_get(const struct oj_hmap *m, const char *key)
{
    struct oj_hmap_slot *s = find(m, key);
    return s ? s->value : NULL;
}

static int grow(struct oj_hmap *m)
{
    /* Half full at most after the rehash: twice the size when the entries
     * filled it, the same or smaller when deleted ones (tombstones) did. A
     * map whose entries come and go (an index of active pipelines) must not
     * grow with everything that ever passed through it: walks cost its size. */
    size_t cap = 16;
    while (m->count * 2 >= cap)
        cap *= 2;
    struct oj_hmap_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct oj_hmap_slot *o = &m->slots[i];
        if (o->key == NULL)
            continue;
        size_t j = hash(o->key) & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j].key = o->key;
        slots[j].value = o->value;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->count;
    return 0;
}

void *oj_hmap_put(struct oj_hmap *m, const char *key, void *value, bool *oom)
{
    if (oom)
        *oom = false;
    struct oj_hmap_slot *s = find(m, key);
    if (s) {
        void *old = s->value;
        s->value = value;
        return old;
    }
    if ((m->used + 1) * 10 >= m->cap * 7 && grow(m) != 0) {
        if (oom)
            *oom = true;
        return NULL;
    }
    char *k = strdup(key);
    if (k == NULL) {
        if (oom)
            *oom = true;
        return NULL;
    }
    size_t mask = m->cap - 1;
    size_t i = hash(key) & mask;
    while (m->slots[i].key)
        i = (i + 1) & mask;
    if (!m->slots[i].deleted)
        m->used++;
    m->slots[i] = (struct oj_hmap_slot){.key = k, .value = value};
    m->count++;
    return NULL;
}

void *oj_hmap_del(struct oj_hmap *m, const char *key)
{
    struct oj_hmap_slot *s = find(m, key);
    if (s == NULL)
        return NULL;
    void *v = s->value;
    free(s->key);
    s->key = NULL;
    s->value = NULL;
    s->deleted = true;
    m->count--;
    return v;
}

bool oj_hmap_next(const struct oj_hmap *m, size_t *iter, const char **key, void **value)
{
    for (; *iter < m->cap; (*iter)++) {
        struct oj_hmap_slot *s = &m->slots[*iter];
        if (s->key) {
            *key = s->key;
            *value = s->value;
            (*iter)++;
            return true;
        }
    }
    return false;
}
