/* The hash map under the state and its indexes. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "hmap.h"

Test(hmap, a_map_whose_entries_come_and_go_stays_small)
{
    /* An index of active pipelines: a few at a time, tens of thousands over
     * a daemon's life. Walks cost the map's size, so deleted entries must
     * not make it grow. */
    struct oj_hmap m;
    oj_hmap_init(&m);
    int v = 1;
    for (int i = 0; i < 50000; i++) {
        char key[16];
        snprintf(key, sizeof key, "p%06x", i);
        cr_assert_null(oj_hmap_put(&m, key, &v, NULL));
        if (i >= 10) {
            snprintf(key, sizeof key, "p%06x", i - 10);
            cr_assert_eq(oj_hmap_del(&m, key), &v);
        }
    }
    cr_expect_eq(m.count, 10);
    cr_expect_leq(m.cap, 64, "capacity %zu for 10 entries", m.cap);
    size_t seen = 0;
    const char *k;
    void *val;
    for (size_t it = 0; oj_hmap_next(&m, &it, &k, &val);)
        seen++;
    cr_expect_eq(seen, 10);
    oj_hmap_free(&m);
}

Test(hmap, growing_and_rehashing_keep_every_entry)
{
    struct oj_hmap m;
    oj_hmap_init(&m);
    static int vals[20000];
    static bool in[20000]; /* what the map must hold */
    for (int i = 0; i < 20000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_null(oj_hmap_put(&m, key, &vals[i], NULL));
        in[i] = true;
        if (i % 3 == 0) { /* deletes mixed in: rehashes happen with tombstones */
            snprintf(key, sizeof key, "k%d", i / 2);
            cr_assert_eq(oj_hmap_del(&m, key), in[i / 2] ? &vals[i / 2] : NULL);
            in[i / 2] = false;
        }
    }
    size_t want = 0;
    for (int i = 0; i < 20000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        cr_expect_eq(oj_hmap_get(&m, key), in[i] ? &vals[i] : NULL, "%s", key);
        want += in[i];
    }
    cr_expect_eq(m.count, want);
    oj_hmap_free(&m);
}
