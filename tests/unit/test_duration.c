/* Durations are typed by operators (--timeout 30s, --older-than 30d). */
#include <criterion/criterion.h>
#include <string.h>

#include "duration.h"

Test(duration, parses_every_unit)
{
    int64_t ms;
    cr_assert_eq(oj_duration_parse("1500ms", &ms), 0);
    cr_expect_eq(ms, 1500);
    cr_assert_eq(oj_duration_parse("90s", &ms), 0);
    cr_expect_eq(ms, 90000);
    cr_assert_eq(oj_duration_parse("5m", &ms), 0);
    cr_expect_eq(ms, 300000);
    cr_assert_eq(oj_duration_parse("2h", &ms), 0);
    cr_expect_eq(ms, 7200000);
    cr_assert_eq(oj_duration_parse("30d", &ms), 0);
    cr_expect_eq(ms, 30LL * 86400 * 1000);
    cr_assert_eq(oj_duration_parse("0", &ms), 0, "zero is zero in every unit");
    cr_expect_eq(ms, 0);
}

/* `--older-than 30` once meant 30 seconds and archived what was meant as 30
 * days: a number without a unit is refused, and said to be. */
Test(duration, refuses_a_bare_number_but_zero)
{
    int64_t ms = 42;
    const char *bare[] = {"7", "30", "1500", NULL};
    for (int i = 0; bare[i]; i++)
        cr_expect_eq(oj_duration_parse(bare[i], &ms), OJ_DURATION_NO_UNIT, "'%s'", bare[i]);
    cr_expect_eq(ms, 42, "a refused value must not be written");
}

Test(duration, rejects_malformed_values)
{
    int64_t ms = 42;
    const char *bad[] = {"", "s", "-5s", "5x", "5 s", "5sec", "1.5h", "99999999999999999999d", NULL};
    for (int i = 0; bad[i]; i++)
        cr_expect_eq(oj_duration_parse(bad[i], &ms), -1, "'%s' should be rejected", bad[i]);
    cr_expect_eq(oj_duration_parse(NULL, &ms), -1);
    cr_expect_eq(ms, 42, "a rejected value must not be written");
}

Test(duration, formats_for_people)
{
    char buf[32];
    oj_duration_format(850, buf, sizeof buf);
    cr_expect_str_eq(buf, "850ms");
    oj_duration_format(12000, buf, sizeof buf);
    cr_expect_str_eq(buf, "12s");
    oj_duration_format(725000, buf, sizeof buf);
    cr_expect_str_eq(buf, "12m 5s");
    oj_duration_format(3 * 3600000 + 4 * 60000, buf, sizeof buf);
    cr_expect_str_eq(buf, "3h 4m");
    oj_duration_format(3LL * 86400000 + 4 * 3600000, buf, sizeof buf);
    cr_expect_str_eq(buf, "3d 4h");
}
