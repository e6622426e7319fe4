/* The follower's gap logic: never print a byte twice, never skip one. */
#include <criterion/criterion.h>

#include "follow.h"

Test(follow_plan, in_order_chunks_print_whole)
{
    struct oj_follow_step s = oj_follow_plan(100, 100, 50);
    cr_expect_not(s.gap);
    cr_expect_eq(s.skip, 0);
}

Test(follow_plan, a_jump_fetches_exactly_the_missing_range)
{
    struct oj_follow_step s = oj_follow_plan(100, 180, 50);
    cr_assert(s.gap);
    cr_expect_eq(s.gap_from, 100);
    cr_expect_eq(s.gap_to, 180);
    /* After the fetch the chunk prints whole. */
    s = oj_follow_plan(180, 180, 50);
    cr_expect_not(s.gap);
    cr_expect_eq(s.skip, 0);
}

Test(follow_plan, overlap_with_the_screen_or_a_fetch_is_not_printed_twice)
{
    struct oj_follow_step s = oj_follow_plan(120, 100, 50);
    cr_expect_not(s.gap);
    cr_expect_eq(s.skip, 20, "the first 20 bytes were printed already");
    s = oj_follow_plan(500, 100, 50);
    cr_expect_eq(s.skip, 50, "an old chunk prints nothing");
}
