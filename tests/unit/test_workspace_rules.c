/* The pure rules of workspace review and set-up: OJ_PORT allocation, git's
 * diff-stat line, the cut of a diff too big for a reply, --base refusals. */
#include <criterion/criterion.h>
#include <string.h>

#include "workspace_rules.h"

Test(workspace_rules, a_new_workspace_gets_the_first_port_no_live_one_holds)
{
    cr_expect_eq(oj_port_pick(NULL, 0, 20000, 1, 10), 20000);
    int64_t taken[] = {20000, 20002};
    cr_expect_eq(oj_port_pick(taken, 2, 20000, 1, 10), 20001);
    int64_t three[] = {20000, 20001, 20002};
    cr_expect_eq(oj_port_pick(three, 3, 20000, 1, 10), 20003);
    /* a step leaves room for a few ports per workspace */
    int64_t stepped[] = {30000};
    cr_expect_eq(oj_port_pick(stepped, 1, 30000, 10, 5), 30010);
    /* a port freed by a removed workspace is used again */
    int64_t gap[] = {20001};
    cr_expect_eq(oj_port_pick(gap, 1, 20000, 1, 10), 20000);
}

Test(workspace_rules, a_full_range_gives_no_port)
{
    int64_t taken[] = {20000, 20001};
    cr_expect_eq(oj_port_pick(taken, 2, 20000, 1, 2), -1);
    cr_expect_eq(oj_port_pick(NULL, 0, 65535, 1, 1), 65535);
    int64_t top[] = {65535};
    cr_expect_eq(oj_port_pick(top, 1, 65535, 1, 10), -1, "no port past 65535");
    cr_expect_eq(oj_port_pick(NULL, 0, 0, 1, 10), -1);
    cr_expect_eq(oj_port_pick(NULL, 0, 20000, 0, 10), -1);
}

Test(workspace_rules, reads_git_shortstat_lines)
{
    struct oj_diffstat s;
    cr_assert_eq(oj_diffstat_parse(" 3 files changed, 127 insertions(+), 23 deletions(-)\n", &s),
                 0);
    cr_expect_eq(s.files, 3);
    cr_expect_eq(s.added, 127);
    cr_expect_eq(s.removed, 23);
    cr_assert_eq(oj_diffstat_parse(" 1 file changed, 1 insertion(+)\n", &s), 0);
    cr_expect(s.files == 1 && s.added == 1 && s.removed == 0);
    cr_assert_eq(oj_diffstat_parse(" 2 files changed, 5 deletions(-)\n", &s), 0);
    cr_expect(s.files == 2 && s.added == 0 && s.removed == 5);
    cr_assert_eq(oj_diffstat_parse("", &s), 0, "no change prints nothing");
    cr_expect(s.files == 0 && s.added == 0 && s.removed == 0);
    cr_expect_eq(oj_diffstat_parse("fatal: bad revision 'x'\n", &s), -1);
    cr_expect_eq(s.files, 0);
    cr_expect_eq(oj_diffstat_parse(" 3 files changed, 2 bananas\n", &s), -1);
}

Test(workspace_rules, a_long_diff_is_cut_at_a_line_end_within_the_bound)
{
    const char *d = "line one\nline two\nline three\n";
    size_t len = strlen(d);
    cr_expect_eq(oj_diff_cut(d, len, len), len, "fits: all of it");
    cr_expect_eq(oj_diff_cut(d, len, 20), 18, "cut after 'line two\\n'");
    cr_expect_eq(oj_diff_cut(d, len, 9), 9, "the first line end is at the bound");
    cr_expect_eq(oj_diff_cut(d, len, 5), 5, "no line end within the bound: the bound");
}

Test(workspace_rules, refuses_base_refs_git_would_misread)
{
    cr_expect_null(oj_base_ref_problem("main"));
    cr_expect_null(oj_base_ref_problem("origin/feature-x"));
    cr_expect_null(oj_base_ref_problem("v1.2^{commit}"));
    cr_expect_not_null(oj_base_ref_problem(""));
    cr_expect_not_null(oj_base_ref_problem("--output=/tmp/x"));
    cr_expect_not_null(oj_base_ref_problem("a b"));
    cr_expect_not_null(oj_base_ref_problem("a\nb"));
}
