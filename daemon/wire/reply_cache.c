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
    size_t capacity, next, count;
    int32_t *index; /* ring slot + 1; 0 = empty, -1 = deleted (tombstone) */
    size_t index_size, tombstones;
    size_t bytes; /* of every entry's data */
};

static size_t hash_id(uint64_t id, size_t size)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)(id & (size - 1));
}

struct oj_reply_cache *oj_reply_cache_new(size_t capacity)
{
    struct oj_reply_cache *rc = calloc(1, sizeof *rc);
    if (rc == NULL || capacity == 0)
        goto fail;
    rc->capacity = capacity;
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

/* Over the budget: the oldest replies' bytes go (not `keep`'s, the newest),
 * their ids stay. */
static void keep_to_budget(struct oj_reply_cache *rc, const struct entry *keep)
{
    /* the oldest entry is the next to be overwritten, or slot 0 before the
     * ring is full */
    size_t at = rc->count == rc->capacity ? rc->next : 0;
    for (size_t n = 0; rc->bytes > OJ_REPLY_CACHE_BUDGET_BYTES && n < rc->capacity; n++) {
        struct entry *e = &rc->ring[(at + n) % rc->capacity];
        if (!e->used || e->data == NULL || e == keep)
            continue;
        rc->bytes -= e->len;
        free(e->data);
        e->data = NULL;
        e->len = 0;
    }
}

int oj_reply_cache_put(struct oj_reply_cache *rc, uint64_t id, uint64_t digest, const void *data,
                       size_t len)
{
    void *copy = NULL;
    if (len <= OJ_REPLY_CACHE_MAX_BYTES) {
        copy = malloc(len ? len : 1);
        if (copy == NULL)
            return -1;
        if (len) /* data may be NULL for an empty reply */
            memcpy(copy, data, len);
    } else {
        len = 0;
    }
    bool found;
    size_t pos = probe(rc, id, &found);
    if (found) { /* same id again: replace the stored reply */
        struct entry *e = &rc->ring[rc->index[pos] - 1];
        rc->bytes -= e->len;
        free(e->data);
        e->digest = digest;
        e->data = copy;
        e->len = len;
        rc->bytes += len;
        keep_to_budget(rc, e);
        return 0;
    }
    struct entry *e = &rc->ring[rc->next];
    if (e->used) {
        index_remove(rc, e->id);
        rc->bytes -= e->len;
        free(e->data);
        rc->count--;
    }
    /* The eviction may have freed a better position on the probe path. */
    pos = probe(rc, id, &found);
    e->id = id;
    e->digest = digest;
    e->data = copy;
    e->len = len;
    e->used = true;
    if (rc->index[pos] < 0)
        rc->tombstones--;
    rc->index[pos] = (int32_t)rc->next + 1;
    rc->next = (rc->next + 1) % rc->capacity;
    rc->count++;
    rc->bytes += len;
    keep_to_budget(rc, e);

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
