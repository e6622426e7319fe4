/* reply_cache.c — see reply_cache.h. A ring of entries in arrival order plus
 * an open-addressing index from id to ring slot, so lookups stay O(1) however
 * busy the daemon is. */
#include "reply_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t id;
    uint64_t digest;
    void *data;
    size_t len;
    bool used;
};

struct oj_reply_cache {
    struct entry *ring;
    size_t capacity, oldest, span, count; /* see advance_oldest */
    size_t bytes, budget; /* stored reply bytes, and their upper bound */
    int32_t *index; /* ring slot + 1; 0 = empty, -1 = deleted (tombstone) */
    size_t index_size, tombstones;
};

static size_t hash_id(uint64_t id, size_t size)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)(id & (size - 1));
}

struct oj_reply_cache *oj_reply_cache_new(size_t capacity, size_t budget)
{
    struct oj_reply_cache *rc = calloc(1, sizeof *rc);
    if (rc == NULL || capacity == 0)
        goto fail;
    rc->capacity = capacity;
    rc->budget = budget ? budget : OJ_REPLY_CACHE_BUDGET_BYTES;
    rc->index_size = 16;
    while (rc->index_size < capacity * 2)
        rc->index_size <<= 1;
    rc->ring = calloc(capacity, sizeof *rc->ring);
    rc->index = calloc(rc->index_size, sizeof *rc->index);
    if (rc->ring == NULL || rc->index == NULL)
        goto fail;
    return rc;
fail:
    oj_reply_cache_free(rc);
    return NULL;
}

void oj_reply_cache_free(struct oj_reply_cache *rc)
{
    if (rc == NULL)
        return;
    if (rc->ring)
        for (size_t i = 0; i < rc->capacity; i++)
            free(rc->ring[i].data);
    free(rc->ring);
    free(rc->index);
    free(rc);
}

/* Index position holding `id`, or the first free position on its probe path
 * when absent (*found false). */
static size_t probe(const struct oj_reply_cache *rc, uint64_t id, bool *found)
{
    size_t mask = rc->index_size - 1, h = hash_id(id, rc->index_size);
    size_t first_free = (size_t)-1;
    for (size_t n = 0; n < rc->index_size; n++, h = (h + 1) & mask) {
        int32_t v = rc->index[h];
        if (v == 0) {
            *found = false;
            return first_free != (size_t)-1 ? first_free : h;
        }
        if (v < 0) {
            if (first_free == (size_t)-1)
                first_free = h;
            continue;
        }
        if (rc->ring[v - 1].id == id) {
            *found = true;
            return h;
        }
    }
    *found = false;
    return first_free;
}

static void index_remove(struct oj_reply_cache *rc, uint64_t id)
{
    bool found;
    size_t pos = probe(rc, id, &found);
    if (found) {
        rc->index[pos] = -1;
        rc->tombstones++;
    }
}

/* Forgets the entry in ring slot i (the slot becomes a hole). */
static void drop(struct oj_reply_cache *rc, size_t i)
{
    struct entry *e = &rc->ring[i];
    index_remove(rc, e->id);
    rc->bytes -= e->len;
    free(e->data);
    memset(e, 0, sizeof *e);
    rc->count--;
}

/* Frees the oldest slot of the arc, forgetting its entry if it holds one.
 * The arc (`span` slots from `oldest`) holds the entries in arrival order,
 * with holes where an entry was replaced by a newer put of its id. */
static void advance_oldest(struct oj_reply_cache *rc)
{
    if (rc->ring[rc->oldest].used)
        drop(rc, rc->oldest);
    rc->oldest = (rc->oldest + 1) % rc->capacity;
    rc->span--;
}

int oj_reply_cache_put(struct oj_reply_cache *rc, uint64_t id, uint64_t digest, const void *data,
                       size_t len)
{
    void *copy = NULL;
    if (len <= OJ_REPLY_CACHE_MAX_BYTES && len <= rc->budget) {
        copy = malloc(len ? len : 1);
        if (copy == NULL)
            return -1;
        if (len) /* data may be NULL for an empty reply */
            memcpy(copy, data, len);
    } else {
        len = 0; /* remembered as done, its bytes not kept */
    }
    bool found;
    size_t pos = probe(rc, id, &found);
    if (found) /* same id again: the new reply is the newest entry */
        drop(rc, (size_t)rc->index[pos] - 1);
    if (rc->span == rc->capacity)
        advance_oldest(rc);
    while (rc->count > 0 && rc->bytes + len > rc->budget)
        advance_oldest(rc);
    if (rc->count == 0) { /* nothing left: start the arc afresh */
        rc->oldest = 0;
        rc->span = 0;
    }
    size_t next = (rc->oldest + rc->span) % rc->capacity;
    struct entry *e = &rc->ring[next];
    /* The eviction may have freed a better position on the probe path. */
    pos = probe(rc, id, &found);
    e->id = id;
    e->digest = digest;
    e->data = copy;
    e->len = len;
    e->used = true;
    rc->bytes += len;
    if (rc->index[pos] < 0)
        rc->tombstones--;
    rc->index[pos] = (int32_t)next + 1;
    rc->span++;
    rc->count++;

    /* Too many tombstones make probes long: rebuild the index in place. */
    if (rc->tombstones > rc->index_size / 4) {
        memset(rc->index, 0, rc->index_size * sizeof *rc->index);
        rc->tombstones = 0;
        for (size_t i = 0; i < rc->capacity; i++) {
            if (!rc->ring[i].used)
                continue;
            size_t p = probe(rc, rc->ring[i].id, &found);
            rc->index[p] = (int32_t)i + 1;
        }
    }
    return 0;
}

bool oj_reply_cache_get(const struct oj_reply_cache *rc, uint64_t id, uint64_t *digest,
                        const void **data, size_t *len)
{
    bool found;
    size_t pos = probe(rc, id, &found);
    if (!found)
        return false;
    const struct entry *e = &rc->ring[rc->index[pos] - 1];
    *digest = e->digest;
    *data = e->data;
    *len = e->len;
    return true;
}

size_t oj_reply_cache_count(const struct oj_reply_cache *rc) { return rc->count; }
size_t oj_reply_cache_bytes(const struct oj_reply_cache *rc) { return rc->bytes; }
