/* The in-memory state and the operations the WAL records. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "state.h"

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    cr_assert_not_null(j, "bad test JSON: %s", s);
    return j;
}

static int apply(struct oj_state *st, uint64_t seq, const char *op_json, char *err)
{
    cJSON *op = parse(op_json);
    int rc = oj_state_apply(st, seq, op, err, 256);
    cJSON_Delete(op);
    return rc;
}

Test(state, put_replace_delete)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    cr_assert_eq(apply(st, 1, "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"a\",\"value\":{\"holder\":\"x\"}}", err), 0, "%s", err);
    cr_assert_eq(apply(st, 2, "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"a\",\"value\":{\"holder\":\"y\"}}", err), 0);
    cr_assert_eq(apply(st, 3, "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p1\",\"value\":{}}", err), 0);
    const cJSON *a = oj_state_get(st, "lock", "a");
    cr_assert_not_null(a);
    cr_expect_str_eq(cJSON_GetObjectItem(a, "holder")->valuestring, "y");
    cr_expect_eq(oj_state_count(st, "lock"), 1);
    cr_expect_eq(oj_state_total(st), 2);
    cr_assert_eq(apply(st, 4, "{\"type\":\"del\",\"kind\":\"lock\",\"id\":\"a\"}", err), 0);
    cr_expect_null(oj_state_get(st, "lock", "a"));
    cr_assert_eq(apply(st, 5, "{\"type\":\"mark\",\"note\":\"hello\"}", err), 0);
    cr_expect_eq(oj_state_seq(st), 5);
    oj_state_free(st);
}

Test(state, malformed_operations_change_nothing)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    const char *bad[] = {
        "{}",
        "{\"type\":\"frob\",\"kind\":\"lock\",\"id\":\"a\"}",
        "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"a\"}",
        "{\"type\":\"put\",\"kind\":\"\",\"id\":\"a\",\"value\":{}}",
        "{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"a\",\"value\":3}",
        "{\"type\":\"batch\",\"ops\":[{\"type\":\"put\",\"kind\":\"lock\",\"id\":\"ok\",\"value\":{}},{\"type\":\"put\"}]}",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        cr_expect_eq(apply(st, (uint64_t)i + 1, bad[i], err), -1, "accepted: %s", bad[i]);
        cr_expect_gt(strlen(err), 0);
    }
    cr_expect_eq(oj_state_total(st), 0, "a bad batch must not apply its good half");
    cr_expect_eq(oj_state_seq(st), 0);
    oj_state_free(st);
}

Test(state, batch_applies_all)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    cr_assert_eq(apply(st, 7, "{\"type\":\"batch\",\"ops\":[{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"a\",\"value\":{}},{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"b\",\"value\":{}},{\"type\":\"del\",\"kind\":\"pipeline\",\"id\":\"a\"},{\"type\":\"mark\",\"note\":\"n\"}]}", err), 0, "%s", err);
    cr_expect_null(oj_state_get(st, "pipeline", "a"));
    cr_expect_not_null(oj_state_get(st, "pipeline", "b"));
    cr_expect_eq(oj_state_seq(st), 7);
    oj_state_free(st);
}

Test(state, json_round_trip)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    for (int i = 0; i < 1000; i++) {
        char op[200];
        snprintf(op, sizeof op, "{\"type\":\"put\",\"kind\":\"%s\",\"id\":\"id-%d\",\"value\":{\"n\":%d}}",
                 i % 3 ? "lock" : "pipeline", i, i);
        cr_assert_eq(apply(st, (uint64_t)i + 1, op, err), 0, "%s", err);
    }
    cJSON *j = oj_state_to_json(st);
    struct oj_state *copy = oj_state_new();
    cr_assert_eq(oj_state_load_json(copy, j, 1000, err, sizeof err), 0, "%s", err);
    cJSON *j2 = oj_state_to_json(copy);
    cr_expect(cJSON_Compare(j, j2, 1));
    cr_expect_eq(oj_state_total(copy), 1000);
    cr_expect_eq(cJSON_GetObjectItem(oj_state_get(copy, "lock", "id-998"), "n")->valueint, 998);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    oj_state_free(st);
    oj_state_free(copy);
}

/* ---- indexes ---------------------------------------------------------------- */

/* A predicate that counts how often it is asked: an index answers a walk
 * without asking it, a walk without one asks it of every entity. */
static int hot_asked;
static bool hot(const cJSON *v)
{
    hot_asked++;
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "hot"));
}

static void count_id(const char *id, const cJSON *v, void *arg)
{
    (void)v;
    cr_expect(hot(v), "%s is not hot, yet the walk gave it", id);
    ++*(int *)arg;
}

/* What a walk over hot pipelines gives, and how many times it asked hot(). */
static int walk_hot(const struct oj_state *st, int *asked)
{
    int n = 0;
    hot_asked = 0;
    oj_state_each_where(st, "pipeline", hot, count_id, &n);
    *asked = hot_asked - n; /* count_id asks once per entity given */
    cr_expect_eq(oj_state_count_where(st, "pipeline", hot), (size_t)n);
    return n;
}

static void put_hot(struct oj_state *st, uint64_t seq, int i, bool is_hot)
{
    char op[200], err[256];
    snprintf(op, sizeof op,
             "{\"type\":\"put\",\"kind\":\"pipeline\",\"id\":\"p%d\",\"value\":{\"hot\":%s}}", i,
             is_hot ? "true" : "false");
    cr_assert_eq(apply(st, seq, op, err), 0, "%s", err);
}

Test(state, an_index_follows_every_change_and_spares_the_walk_the_rest)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    uint64_t seq = 0;
    for (int i = 0; i < 1000; i++) /* before the index exists: it takes them in */
        put_hot(st, ++seq, i, i % 100 == 0);
    int asked;
    cr_expect_eq(walk_hot(st, &asked), 10);
    cr_expect_eq(asked, 1000, "no index yet: every entity is looked at");
    cr_assert_eq(oj_state_index(st, "pipeline", hot), 0);
    cr_expect_eq(walk_hot(st, &asked), 10);
    cr_expect_eq(asked, 0, "the index answers: finished ones cost nothing");

    put_hot(st, ++seq, 5, true);     /* becomes hot */
    put_hot(st, ++seq, 100, false);  /* goes cold */
    put_hot(st, ++seq, 2000, true);  /* new and hot */
    cr_assert_eq(apply(st, ++seq, "{\"type\":\"del\",\"kind\":\"pipeline\",\"id\":\"p200\"}",
                       err), 0, "%s", err);
    cr_assert_eq(apply(st, ++seq,
                       "{\"type\":\"batch\",\"ops\":[{\"type\":\"put\",\"kind\":\"pipeline\","
                       "\"id\":\"p7\",\"value\":{\"hot\":true}},{\"type\":\"del\",\"kind\":"
                       "\"pipeline\",\"id\":\"p0\"}]}", err), 0, "%s", err);
    cr_expect_eq(walk_hot(st, &asked), 10, "+p5 +p2000 +p7, -p100 -p200 -p0");
    cr_expect_eq(asked, 0);
    cr_expect_null(oj_state_get(st, "pipeline", "p200"));

    /* Replaced whole (a snapshot load): the index is rebuilt with it. */
    cJSON *j = oj_state_to_json(st);
    cJSON *cold = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pipeline"), "p7");
    cJSON_ReplaceItemInObject(cold, "hot", cJSON_CreateFalse());
    cr_assert_eq(oj_state_load_json(st, j, seq, err, sizeof err), 0, "%s", err);
    cJSON_Delete(j);
    cr_expect_eq(walk_hot(st, &asked), 9);
    cr_expect_eq(asked, 0);

    /* A state that replaces this one (a restore) keeps the same indexes. */
    struct oj_state *next = oj_state_new();
    put_hot(next, 1, 1, true);
    put_hot(next, 2, 2, false);
    cr_assert_eq(oj_state_index_like(next, st), 0);
    cr_expect_eq(walk_hot(next, &asked), 1);
    cr_expect_eq(asked, 0);
    oj_state_free(next);
    oj_state_free(st);
}

Test(state, the_view_prints_exactly_what_the_copy_prints)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    for (int i = 0; i < 300; i++) {
        char op[200];
        snprintf(op, sizeof op,
                 "{\"type\":\"put\",\"kind\":\"%s\",\"id\":\"id-%d\",\"value\":{\"n\":%d,"
                 "\"s\":\"x\\u00e9%d\",\"a\":[1,{\"b\":null}]}}",
                 i % 3 ? "lock" : "pipeline", i, i, i);
        cr_assert_eq(apply(st, (uint64_t)i + 1, op, err), 0, "%s", err);
    }
    cJSON *copy = oj_state_to_json(st), *view = oj_state_to_json_view(st);
    char *a = cJSON_PrintUnformatted(copy), *b = cJSON_PrintUnformatted(view);
    cr_expect_str_eq(b, a, "a snapshot written from the view has the same bytes");
    cJSON_Delete(view); /* leaves the state's values alone */
    cr_expect_eq(cJSON_GetObjectItem(oj_state_get(st, "lock", "id-1"), "n")->valueint, 1);
    free(a);
    free(b);
    cJSON_Delete(copy);
    oj_state_free(st);
}
