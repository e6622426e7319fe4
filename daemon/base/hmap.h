/* hmap.h — a string-keyed hash map (open addressing, linear probing). Keys are
 * copied; values are opaque pointers the caller owns. Used for the in-memory
 * state, where start-up may insert a million entities. */
#ifndef OJ_HMAP_H
#define OJ_HMAP_H
#include <stdbool.h>
#include <stddef.h>

struct oj_hmap_slot {
    char *key;   /* NULL = empty */
    void *value;
    bool deleted;
};

struct oj_hmap {
    struct oj_hmap_slot *slots;
    size_t cap, count, used; /* used = count + tombstones */
};

void oj_hmap_init(struct oj_hmap *m);
void oj_hmap_free(struct oj_hmap *m); /* frees keys, not values */
void *oj_hmap_get(const struct oj_hmap *m, const char *key);
/* Sets key to value; returns the value it replaced (or NULL). -1 errors are
 * reported through *oom (out of memory; map unchanged). */
void *oj_hmap_put(struct oj_hmap *m, const char *key, void *value, bool *oom);
/* Removes key; returns its value (or NULL when absent). */
void *oj_hmap_del(struct oj_hmap *m, const char *key);

/* Iteration: for (size_t i = 0; oj_hmap_next(m, &i, &k, &v);) ... */
bool oj_hmap_next(const struct oj_hmap *m, size_t *iter, const char **key, void **value);
#endif
