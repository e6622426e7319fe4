/* User text in human-readable output: control characters become visible
 * escapes, so a value cannot forge a table row or drive the terminal; text
 * (UTF-8 included) stays as it is. */
#include <criterion/criterion.h>
#include <string.h>

#include "escape.h"

static void expect(const char *in, const char *want)
{
    char out[256];
    size_t need = oj_escape_text(in, out, sizeof out);
    cr_expect_str_eq(out, want, "escaping %zu bytes", strlen(in));
    cr_expect_eq(need, strlen(want));
}

Test(escape, plain_text_and_utf8_stay_as_they_are)
{
    expect("", "");
    expect("alice@host:4242 merge-lock", "alice@host:4242 merge-lock");
    const char *utf8 = "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80";
    expect(utf8, utf8);
    expect("C:\\path\\n", "C:\\path\\n"); /* a backslash is only text */
}

Test(escape, control_characters_become_visible)
{
    expect("evil\nNAME  HOLDER", "evil\\nNAME  HOLDER");
    expect("a\rb\tc", "a\\rb\\tc");
    expect("\x1b[31mred\x1b[0m", "\\e[31mred\\e[0m");
    expect("bell\x07 del\x7f nul-less\x01", "bell\\x07 del\\x7f nul-less\\x01");
    expect("csi\xc2\x9b" "2J next\xc2\x85", "csi\\u009b2J next\\u0085"); /* C1 as UTF-8 */
    expect("nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok");                       /* U+00A0 is text */
}

Test(escape, bytes_that_are_not_utf8_become_hex)
{
    expect("\xff\xfe", "\\xff\\xfe");
    expect("cut \xc3", "cut \\xc3");                 /* truncated sequence */
    expect("\xc0\xaf", "\\xc0\\xaf");                /* overlong '/' */
    expect("\xed\xa0\x80", "\\xed\\xa0\\x80");       /* a UTF-16 surrogate */
    expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
    expect("\x9b" "2J", "\\x9b2J");                  /* a raw 8-bit CSI */
}

Test(escape, a_small_buffer_is_cut_at_an_escape_boundary_and_the_need_reported)
{
    char out[6];
    size_t need = oj_escape_text("ab\ncd", out, sizeof out);
    cr_expect_eq(need, 6);
    cr_expect_str_eq(out, "ab\\nc", "never half an escape");
    need = oj_escape_text("a\n", out, 3);
    cr_expect_str_eq(out, "a");
    cr_expect_eq(need, 3);
    cr_expect_eq(oj_escape_text("x\ny", NULL, 0), 4, "the length alone");
}

Test(escape, oj_esc_keeps_several_results_for_one_printf)
{
    const char *a = oj_esc("one\n"), *b = oj_esc("two\t"), *c = oj_esc(NULL);
    cr_expect_str_eq(a, "one\\n");
    cr_expect_str_eq(b, "two\\t");
    cr_expect_str_eq(c, "");
}
