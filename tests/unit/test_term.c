/* Colour and widths of the CLI's tables: when colour is on, what colour a
 * state gets, and cells that keep columns aligned. */
#include <criterion/criterion.h>
#include <string.h>

#include "term.h"

Test(term, colour_only_on_a_terminal_and_a_flag_beats_no_color)
{
    cr_expect(oj_color_decide(OJ_COLOR_AUTO, NULL, true, "xterm-256color"));
    cr_expect_not(oj_color_decide(OJ_COLOR_AUTO, NULL, false, "xterm"), "piped: never");
    cr_expect_not(oj_color_decide(OJ_COLOR_AUTO, "1", true, "xterm"), "NO_COLOR set");
    cr_expect(oj_color_decide(OJ_COLOR_AUTO, "", true, "xterm"), "NO_COLOR empty is unset");
    cr_expect_not(oj_color_decide(OJ_COLOR_AUTO, NULL, true, "dumb"));
    cr_expect(oj_color_decide(OJ_COLOR_ALWAYS, "1", false, "dumb"), "--color=always wins");
    cr_expect_not(oj_color_decide(OJ_COLOR_NEVER, NULL, true, "xterm"));
    cr_expect_eq(oj_color_parse("always"), OJ_COLOR_ALWAYS);
    cr_expect_eq(oj_color_parse("yes"), -1);
}

Test(term, states_that_need_a_human_stand_out)
{
    cr_expect_str_eq(oj_state_sgr("needs_input"), "1;35");
    cr_expect_str_eq(oj_state_sgr("escalated"), "1;35");
    cr_expect_str_eq(oj_state_sgr("failed"), "31");
    cr_expect_str_eq(oj_state_sgr("running"), "32");
    cr_expect_null(oj_state_sgr("whatever"));
}

Test(term, a_cell_pads_outside_its_colour_and_cuts_long_text)
{
    oj_color_set(OJ_COLOR_ALWAYS);
    cr_expect_str_eq(oj_cell("failed", "failed", 8), "\033[31mfailed\033[0m  ");
    cr_expect_str_eq(oj_cell("nothing-known", "x", 3), "x  ");
    oj_color_set(OJ_COLOR_NEVER);
    cr_expect_str_eq(oj_cell("failed", "failed", 8), "failed  ");
    cr_expect_str_eq(oj_cell(NULL, "a-long-name", 6), "a-lon\u2026", "cut to 6 columns");
    cr_expect_str_eq(oj_cell(NULL, "h\u00e9llo", 5), "h\u00e9llo", "a character is one column");
    cr_expect_str_eq(oj_cell(NULL, "as-is", 0), "as-is");
    oj_color_set(OJ_COLOR_AUTO);
}
