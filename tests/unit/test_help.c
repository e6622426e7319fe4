/* "Did you mean": a mistyped command or option gets the closest real one,
 * a word far from all of them gets nothing. */
#include <criterion/criterion.h>
#include <string.h>

#include "help.h"

static const char *const commands[] = {"status", "run", "done", "checkpoint", "events",
                                       "lock", "session", "pipeline", "maintenance"};
#define N (sizeof commands / sizeof *commands)

Test(help, a_typo_gets_the_closest_command)
{
    cr_expect_str_eq(oj_suggest("stauts", commands, N), "status"); /* a swap is one edit */
    cr_expect_str_eq(oj_suggest("lok", commands, N), "lock");
    cr_expect_str_eq(oj_suggest("sesion", commands, N), "session");
    cr_expect_str_eq(oj_suggest("evnets", commands, N), "events");
}

Test(help, a_unique_prefix_is_suggested_an_ambiguous_one_is_not)
{
    cr_expect_str_eq(oj_suggest("maint", commands, N), "maintenance");
    const char *const two[] = {"list", "lock"};
    cr_expect_null(oj_suggest("l", two, 2));
}

Test(help, a_word_far_from_every_command_gets_nothing)
{
    cr_expect_null(oj_suggest("frobnicate", commands, N));
    cr_expect_null(oj_suggest("xy", commands, N)); /* 2 edits from "run" is not "close" */
    cr_expect_null(oj_suggest("", commands, N));
}

Test(help, options_and_group_commands_are_suggested_in_their_own_words)
{
    cr_expect(strstr(oj_did_you_mean_command("lock", "aquire"), "'acquire'") != NULL);
    cr_expect(strstr(oj_did_you_mean_command(NULL, "stauts"), "'status'") != NULL);
    cr_expect_str_eq(oj_did_you_mean_command(NULL, "frobnicate"), "");
    const struct oj_cmd *list = oj_cmd_find("lock", "list");
    cr_assert_not_null(list);
    cr_expect(strstr(oj_did_you_mean_option(list, "jsno"), "'--json'") != NULL);
    cr_expect(strstr(oj_did_you_mean_option(list, "stal"), "'--stale'") != NULL);
}
