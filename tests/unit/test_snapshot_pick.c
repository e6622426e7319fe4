/* Which snapshot `--id` names: the id, the seq, or a unique prefix. */
#include <criterion/criterion.h>
#include <string.h>

#include "snapshot_pick.h"

static const char *const ids[] = {
    "00000000000000001234-20261128T153012Z", /* newest first */
    "00000000000000001200-20261128T150000Z",
    "00000000000000000012-20261128T140000Z",
    "00000000000000000012-20261128T130000Z", /* same seq, taken earlier */
};
#define N 4

static int pick(const char *q, char *why)
{
    return oj_snapshot_pick(ids, N, q, why, 300);
}

Test(snapshot_pick, the_whole_id_the_seq_or_a_unique_prefix)
{
    char why[300];
    cr_expect_eq(pick("00000000000000001200-20261128T150000Z", why), 1);
    cr_expect_eq(pick("1234", why), 0, "the seq");
    cr_expect_eq(pick("12", why), 2, "a seq is matched whole, the newest of it first");
    cr_expect_eq(pick("1234-", why), 0, "a prefix without the zeros");
    cr_expect_eq(pick("000000000000000012-", why), OJ_SNAPSHOT_PICK_NONE, "%s", why);
    cr_expect_eq(pick("0000000000000000120", why), 1, "a prefix with them");
    cr_expect_eq(pick("12-20261128T13", why), 3);
}

Test(snapshot_pick, an_ambiguous_prefix_names_the_candidates)
{
    char why[300];
    cr_expect_eq(pick("1", why), OJ_SNAPSHOT_PICK_AMBIGUOUS);
    cr_expect_eq(pick("123", why), 0, "only 1234 starts so");
    cr_expect_eq(pick("120", why), 1, "only 1200 starts so");
    cr_expect_eq(pick("0000000000000000", why), OJ_SNAPSHOT_PICK_AMBIGUOUS);
    cr_expect(strstr(why, "matches 4 snapshots") && strstr(why, ids[3]), "%s", why);
    cr_expect_eq(pick("99", why), OJ_SNAPSHOT_PICK_NONE);
    cr_expect(strstr(why, "no snapshot '99'") && strstr(why, "oj maintenance snapshots"), "%s",
              why);
    cr_expect_eq(oj_snapshot_pick(ids, 0, "1", why, sizeof why), OJ_SNAPSHOT_PICK_NONE);
}
