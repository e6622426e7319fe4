/* Which record a user meant: exact name, then exact id, then a unique id
 * prefix; and which names are refused for looking like ids. Pure rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "resolve.h"

struct rec {
    const char *id, *name;
    int64_t started;
};

/* The sessions of issue 9: named s1..s10, ids that begin like other names. */
static const struct rec sessions[] = {
    {"s5a0001", "s3", 3}, {"s3b0002", "s5", 5}, {"s3c0003", "s9", 9}, {"s1d0004", "s1", 1},
    {"s7e0005", "worker", 10}, {"s7f0006", "worker", 20}, {NULL, NULL, 0},
};

static enum oj_resolved pick(const struct rec *recs, const char *query, const char **id,
                             struct oj_resolve *m)
{
    memset(m, 0, sizeof *m);
    m->query = query;
    for (int i = 0; recs[i].id; i++)
        oj_resolve_offer(m, recs[i].id, recs[i].name, recs[i].started);
    return oj_resolve_pick(m, id);
}

static void expect_pick(const char *query, const char *want)
{
    struct oj_resolve m;
    const char *id = NULL;
    cr_expect_eq(pick(sessions, query, &id, &m), OJ_RESOLVE_FOUND, "'%s' found", query);
    cr_expect_str_eq(id ? id : "(none)", want, "'%s' means %s, not %s", query, want,
                     id ? id : "(none)");
}

Test(resolve, an_exact_name_wins_over_an_id_prefix)
{
    expect_pick("s5", "s3b0002"); /* the session named s5, not the id s5a0001 */
    expect_pick("s3", "s5a0001"); /* the session named s3, though two ids begin s3 */
    expect_pick("s1", "s1d0004");
}

Test(resolve, then_an_exact_id_then_a_unique_prefix)
{
    expect_pick("s5a0001", "s5a0001");
    expect_pick("s5a", "s5a0001");
    expect_pick("s3b", "s3b0002");
}

Test(resolve, a_name_held_twice_means_the_newest)
{
    expect_pick("worker", "s7f0006");
}

Test(resolve, an_ambiguous_prefix_lists_the_candidates)
{
    struct oj_resolve m;
    const char *id = "x";
    cr_expect_eq(pick(sessions, "s7", &id, &m), OJ_RESOLVE_AMBIGUOUS);
    cr_expect_null(id);
    char list[64];
    oj_resolve_candidates(&m, list, sizeof list);
    cr_expect_str_eq(list, "s7e0005, s7f0006");
    cr_expect_eq(pick(sessions, "q", &id, &m), OJ_RESOLVE_NONE);
}

Test(resolve, many_candidates_are_cut_short_with_an_ellipsis)
{
    struct oj_resolve m = {.query = "p"};
    char ids[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(ids[i], sizeof ids[i], "p%06x", i);
        oj_resolve_offer(&m, ids[i], NULL, 0);
    }
    const char *id;
    cr_expect_eq(oj_resolve_pick(&m, &id), OJ_RESOLVE_AMBIGUOUS);
    cr_expect_eq(m.nprefix, 12);
    char list[256], small[20];
    oj_resolve_candidates(&m, list, sizeof list);
    cr_expect(strstr(list, "p000007, ...") != NULL && strstr(list, "p000008") == NULL, "%s",
              list);
    oj_resolve_candidates(&m, small, sizeof small); /* cut, still terminated */
    cr_expect_eq(strlen(small), sizeof small - 1);
}

Test(resolve, names_shaped_like_ids_are_told_apart)
{
    const char *id_like[] = {"s", "p", "s5", "s10", "p1a2b3c", "s1a2b3c", "sad", "pace",
                             "s0123456789abcdef", NULL};
    for (int i = 0; id_like[i]; i++)
        cr_expect(oj_name_looks_like_id(id_like[i]), "'%s' looks like an id", id_like[i]);
    const char *names[] = {"sh", "sed-cmd", "s5-agent", "S5", "sA", "worker", "p1a2b3c-build",
                           "x5", "s.5", "", "seg", NULL};
    for (int i = 0; names[i]; i++)
        cr_expect_not(oj_name_looks_like_id(names[i]), "'%s' is a name", names[i]);
}

Test(resolve, no_pick_says_why_in_one_line)
{
    struct oj_resolve m;
    const char *id = "x";
    char why[512] = "";
    pick(sessions, "s7", &id, &m);
    cr_expect_eq(oj_resolve_explain(&m, "session", "oj session list", &id, why, sizeof why),
                 OJ_RESOLVE_AMBIGUOUS);
    cr_expect_str_eq(why, "'s7' matches 2 sessions (s7e0005, s7f0006); give more of the id");
    pick(sessions, "nosuch", &id, &m);
    cr_expect_eq(oj_resolve_explain(&m, "session", "oj session list", &id, why, sizeof why),
                 OJ_RESOLVE_NONE);
    cr_expect_str_eq(why, "no session 'nosuch'; list them with `oj session list`");
    why[0] = '\0';
    pick(sessions, "worker", &id, &m);
    cr_expect_eq(oj_resolve_explain(&m, "session", "oj session list", &id, why, sizeof why),
                 OJ_RESOLVE_FOUND);
    cr_expect_str_eq(id, "s7f0006");
    cr_expect_str_eq(why, "", "nothing to explain");
}
