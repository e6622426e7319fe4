/* The reply cache decides whether a repeated request runs again: it must
 * remember exactly the last `capacity` ids. Checked against a plain model. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "reply_cache.h"

Test(reply_cache, remembers_and_returns_the_exact_bytes)
{
    struct oj_reply_cache *rc = oj_reply_cache_new(4);
    cr_assert_not_null(rc);
    cr_assert_eq(oj_reply_cache_put(rc, 7, 107, "seven", 5), 0);
    const void *d;
    size_t len;
    uint64_t dg;
    cr_assert(oj_reply_cache_get(rc, 7, &dg, &d, &len));
    cr_expect_eq(len, 5);
    cr_expect_eq(memcmp(d, "seven", 5), 0);
    cr_expect_not(oj_reply_cache_get(rc, 8, &dg, &d, &len));
    oj_reply_cache_free(rc);
}

Test(reply_cache, evicts_oldest_first)
{
    struct oj_reply_cache *rc = oj_reply_cache_new(3);
    for (uint64_t id = 1; id <= 5; id++)
        cr_assert_eq(oj_reply_cache_put(rc, id, 100 + id, &id, sizeof id), 0);
    const void *d;
    size_t len;
    uint64_t dg;
    cr_expect_not(oj_reply_cache_get(rc, 1, &dg, &d, &len));
    cr_expect_not(oj_reply_cache_get(rc, 2, &dg, &d, &len));
    for (uint64_t id = 3; id <= 5; id++) {
        cr_assert(oj_reply_cache_get(rc, id, &dg, &d, &len), "id %llu", (unsigned long long)id);
        cr_expect_eq(*(const uint64_t *)d, id);
    }
    cr_expect_eq(oj_reply_cache_count(rc), 3);
    oj_reply_cache_free(rc);
}

Test(reply_cache, oversized_replies_are_known_but_not_kept)
{
    struct oj_reply_cache *rc = oj_reply_cache_new(2);
    size_t big = OJ_REPLY_CACHE_MAX_BYTES + 1;
    char *buf = calloc(1, big);
    cr_assert_eq(oj_reply_cache_put(rc, 9, 109, buf, big), 0);
    const void *d = buf;
    size_t len = 1;
    uint64_t dg;
    cr_assert(oj_reply_cache_get(rc, 9, &dg, &d, &len), "the id must still count as done");
    cr_expect_null(d);
    cr_expect_eq(len, 0);
    free(buf);
    oj_reply_cache_free(rc);
}

Test(reply_cache, matches_a_model_over_many_operations)
{
    enum { CAP = 64, OPS = 20000 };
    struct oj_reply_cache *rc = oj_reply_cache_new(CAP);
    uint64_t window[CAP];
    size_t next = 0, count = 0;
    srand(12345);
    for (int i = 0; i < OPS; i++) {
        /* Random ids with many repeats of recent and old ones. */
        uint64_t id = (uint64_t)(rand() % 500) * 0x9E3779B97F4A7C15ULL;
        const void *d;
        size_t len;
        uint64_t dg;
        bool in_model = false;
        for (size_t k = 0; k < count; k++)
            in_model |= window[k] == id;
        cr_assert_eq(oj_reply_cache_get(rc, id, &dg, &d, &len), in_model, "op %d", i);
        if (!in_model) {
            cr_assert_eq(oj_reply_cache_put(rc, id, 100 + id, &id, sizeof id), 0);
            window[next] = id;
            next = (next + 1) % CAP;
            if (count < CAP)
                count++;
        } else {
            cr_assert_eq(*(const uint64_t *)d, id);
            cr_assert_eq(dg, 100 + id, "the digest stays with its id");
        }
    }
    oj_reply_cache_free(rc);
}

/* The cache tells a true repeat from another request that reuses an id: it
 * keeps the digest of the request each reply answered. */
Test(reply_cache, keeps_the_digest_of_the_request_beside_its_reply)
{
    struct oj_reply_cache *rc = oj_reply_cache_new(4);
    cr_assert_eq(oj_reply_cache_put(rc, 7, 0xabcdef, "seven", 5), 0);
    const void *d;
    size_t len;
    uint64_t dg = 0;
    cr_assert(oj_reply_cache_get(rc, 7, &dg, &d, &len));
    cr_expect_eq(dg, 0xabcdef);
    cr_assert_eq(oj_reply_cache_put(rc, 7, 0x1234, "again", 5), 0);
    cr_assert(oj_reply_cache_get(rc, 7, &dg, &d, &len));
    cr_expect_eq(dg, 0x1234, "a replaced entry takes the new digest");
    cr_expect_eq(memcmp(d, "again", 5), 0);
    oj_reply_cache_free(rc);
}

/* Issue 14: the daemon's memory is bounded whatever its clients send: a
 * thousand big replies (100 KB each) are not all kept. The newest stay
 * whole; the oldest ones' bytes go, and their ids are still known (a repeat
 * gets CONFLICT, never a second run). */
Test(reply_cache, all_the_replies_together_stay_within_a_budget)
{
    enum { N = 1024, BIG = 100 * 1024 };
    struct oj_reply_cache *rc = oj_reply_cache_new(N);
    cr_assert_not_null(rc);
    char *big = malloc(BIG);
    cr_assert_not_null(big);
    for (uint64_t id = 1; id <= N; id++) {
        memset(big, (int)(id & 0xff), BIG);
        cr_assert_eq(oj_reply_cache_put(rc, id, id, big, BIG), 0);
        cr_assert_leq(oj_reply_cache_bytes(rc), OJ_REPLY_CACHE_BUDGET_BYTES, "after %llu",
                      (unsigned long long)id);
    }
    size_t whole = 0, dropped = 0;
    for (uint64_t id = 1; id <= N; id++) {
        const void *d;
        size_t len;
        uint64_t dg;
        cr_assert(oj_reply_cache_get(rc, id, &dg, &d, &len), "id %llu forgotten",
                  (unsigned long long)id);
        if (d) {
            whole++;
            cr_expect_eq(len, BIG);
            cr_expect_eq(((const unsigned char *)d)[BIG - 1], id & 0xff);
        } else {
            dropped++;
            cr_expect_leq(id, N - OJ_REPLY_CACHE_BUDGET_BYTES / BIG, "a new one dropped: %llu",
                         (unsigned long long)id);
        }
    }
    cr_expect_eq(whole, OJ_REPLY_CACHE_BUDGET_BYTES / BIG, "the newest fill the budget");
    cr_expect_eq(whole + dropped, N);
    /* Small replies after them: the budget makes room from the oldest on. */
    for (uint64_t id = N + 1; id <= N + 10; id++)
        cr_assert_eq(oj_reply_cache_put(rc, id, id, "ok", 2), 0);
    const void *d;
    size_t len;
    uint64_t dg;
    cr_expect(oj_reply_cache_get(rc, N + 10, &dg, &d, &len) && d && len == 2);
    free(big);
    oj_reply_cache_free(rc);
}
