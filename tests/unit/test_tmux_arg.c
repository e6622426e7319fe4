/* Escaping a word for tmux: what tmux's command parser, format expander and
 * strftime pass get must give back the text we meant. The round trip through
 * a real tmux is in tests/e2e/test_tmux.c; here are the exact rules. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "tmux_arg.h"

static void expect_arg(const char *in, enum oj_tmux_expands how, const char *want)
{
    char *got = oj_tmux_arg(in, how);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "[%s] (how %d): got [%s], want [%s]", in, (int)how, got, want);
    free(got);
}

Test(tmux_arg, a_final_semicolon_is_data_for_every_word)
{
    for (int how = OJ_TMUX_WORD; how <= OJ_TMUX_FORMAT_TIME; how++) {
        expect_arg("x;", how, "x\\;");
        expect_arg(";", how, "\\;");
        /* tmux turns a final "\;" into ";", so a text ending in "\;" needs
         * one more backslash */
        expect_arg("a\\;", how, "a\\\\;");
        expect_arg(";;", how, ";\\;");
    }
    /* only the last byte is tmux's separator */
    expect_arg("a;b", OJ_TMUX_WORD, "a;b");
    expect_arg("", OJ_TMUX_WORD, "");
    expect_arg("plain words", OJ_TMUX_WORD, "plain words");
}

Test(tmux_arg, a_word_that_is_no_format_keeps_its_hashes_and_percents)
{
    expect_arg("#(touch x)#{session_name}#S%Y", OJ_TMUX_WORD, "#(touch x)#{session_name}#S%Y");
}

Test(tmux_arg, hashes_in_a_format_are_doubled)
{
    expect_arg("d#(touch /tmp/x)", OJ_TMUX_FORMAT, "d##(touch /tmp/x)");
    expect_arg("#{session_name}", OJ_TMUX_FORMAT, "##{session_name}");
    expect_arg("a#Sb", OJ_TMUX_FORMAT, "a##Sb");
    expect_arg("###", OJ_TMUX_FORMAT, "######");
    expect_arg("end#", OJ_TMUX_FORMAT, "end##");
    expect_arg("#,#}", OJ_TMUX_FORMAT, "##,##}");
    /* '%' means nothing to the format expander */
    expect_arg("100%", OJ_TMUX_FORMAT, "100%");
}

Test(tmux_arg, a_run_of_hashes_before_a_bracket_is_kept_as_tmux_keeps_it)
{
    expect_arg("a#[b", OJ_TMUX_FORMAT, "a#[b");
    expect_arg("a##[b", OJ_TMUX_FORMAT, "a##[b");
    expect_arg("#a##[b#", OJ_TMUX_FORMAT, "##a##[b##");
    expect_arg("[#]", OJ_TMUX_FORMAT, "[##]");
}

Test(tmux_arg, percents_are_doubled_where_strftime_runs_first)
{
    expect_arg("%Y-%m %%", OJ_TMUX_FORMAT_TIME, "%%Y-%%m %%%%");
    expect_arg("cat >> '/p#%S;'", OJ_TMUX_FORMAT_TIME, "cat >> '/p##%%S;'");
    expect_arg("#%;", OJ_TMUX_FORMAT_TIME, "##%%\\;");
}
