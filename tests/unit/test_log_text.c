/* A session's raw output log as text: what `oj session capture` shows once
 * the session's pane is gone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_text.h"

static void expect_text(const char *raw, unsigned lines, const char *want)
{
    char *t = oj_log_text(raw, strlen(raw), lines, 0);
    cr_assert_not_null(t);
    cr_expect_str_eq(t, want, "from %s", raw);
    free(t);
}

Test(log_text, lines_end_in_crlf_and_the_tail_counts_lines)
{
    expect_text("fake agent ready\r\ngot: hi\r\nexiting with 7\r\n", 0,
                "fake agent ready\ngot: hi\nexiting with 7\n");
    expect_text("one\r\ntwo\r\nthree\r\n", 2, "two\nthree\n");
    expect_text("one\r\ntwo\r\nthree", 1, "three\n"); /* no final line end */
    expect_text("one\r\n\r\n  \r\n\r\n", 5, "one\n");  /* trailing blank lines go */
    expect_text("", 0, "");
    expect_text("\r\n\r\n", 3, "");
}

Test(log_text, at_most_a_screen_by_default)
{
    char raw[4096] = "";
    for (int i = 1; i <= 80; i++)
        snprintf(raw + strlen(raw), sizeof raw - strlen(raw), "line %d\r\n", i);
    char *t = oj_log_text(raw, strlen(raw), 0, 0);
    int n = 0;
    for (const char *p = t; *p; p++)
        n += *p == '\n';
    cr_expect_eq(n, OJ_LOG_TEXT_LINES);
    cr_expect(strncmp(t, "line 31\n", 8) == 0, "%s", t);
    free(t);
}

Test(log_text, escape_sequences_and_control_bytes_are_dropped)
{
    expect_text("\x1b[1;32mgreen\x1b[0m and \x1b[Kplain\r\n", 0, "green and plain\n");
    expect_text("\x1b]0;window title\x07" "after\r\n", 0, "after\n");
    expect_text("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n", 0, "link\n");
    expect_text("\x1b(Bcharset \x1b=keypad\r\n", 0, "charset keypad\n");
    expect_text("bell\x07 and nul\x01\r\n", 0, "bell and nul\n");
    expect_text("tab\there\r\n", 0, "tab\there\n");
}

Test(log_text, carriage_returns_and_backspaces)
{
    expect_text("progress 10%\rprogress 99%\rdone\r\n", 0, "done\n");
    expect_text("abc\b\bX\r\n", 0, "aX\n");
    expect_text("caf\xc3\xa9\b!\r\n", 0, "caf!\n"); /* a whole character goes */
    expect_text("x\r\r\ny\r\n", 0, "x\ny\n");
}

Test(log_text, the_text_is_always_valid_utf8)
{
    expect_text("ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n", 0,
                "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
    expect_text("bad \xff \xc3 \xed\xa0\x80 \xc0\xaf end\r\n", 0,
                "bad \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
                "\xEF\xBF\xBD\xEF\xBF\xBD end\n");
}

Test(log_text, a_start_mid_stream_skips_the_cut_line)
{
    const char *raw = "\xa9 cut-off line\r\nwhole\r\n";
    char *t = oj_log_text(raw, strlen(raw), 0, 1);
    cr_expect_str_eq(t, "whole\n");
    free(t);
}
