/* When an agent needs input (prompt.h): a prompt at the bottom of its output,
 * by the built-in patterns or its runbook's, and an `oj ask` question until
 * output follows it. */
#include <criterion/criterion.h>
#include <string.h>

#include "prompt.h"

static bool finds(const char *extra, const char *text, char *line, size_t len)
{
    char err[256];
    struct oj_prompts *p = oj_prompts_new(extra, err, sizeof err);
    cr_assert_not_null(p);
    bool found = oj_prompts_find(p, text, line, len);
    oj_prompts_free(p);
    return found;
}

Test(prompt, the_built_ins_know_common_prompts)
{
    const char *prompts[] = {
        "Do you want to proceed?\n",
        "  Do you want to make this edit to main.c?\n> 1. Yes\n  2. No\n",
        "Allow this command to run?\n",
        "Overwrite file.txt? [y/n] ",
        "Continue (y/N)\n",
        "Delete everything? [yes/no]:\n",
        "Press Enter to continue...\n",
        "│ Allow Bash(rm -rf build)? │\n",
    };
    for (size_t i = 0; i < sizeof prompts / sizeof *prompts; i++) {
        char line[200] = "";
        cr_expect(finds(NULL, prompts[i], line, sizeof line), "%s", prompts[i]);
        cr_expect_neq(line[0], '\0', "%s: the line is given", prompts[i]);
    }
}

Test(prompt, ordinary_output_is_no_prompt)
{
    const char *outputs[] = {
        "compiling main.c\nlinking\n",
        "I will allow for this case.\n",
        "the y/n flag is parsed\n",
        "",
    };
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        char line[200];
        cr_expect_not(finds(NULL, outputs[i], line, sizeof line), "%s", outputs[i]);
    }
}

Test(prompt, only_the_bottom_lines_count)
{
    char line[200];
    /* Answered: the prompt, then more output than a menu has lines. */
    cr_expect_not(finds(NULL, "Do you want to proceed?\ny\nok\nstep 1\nstep 2\nstep 3\n", line,
                        sizeof line));
    /* Still waiting: blank lines below it do not count. */
    cr_expect(finds(NULL, "work\nDo you want to proceed?\n\n\n  \n", line, sizeof line));
    cr_expect_str_eq(line, "Do you want to proceed?");
    /* The lowest matching line is the one given. */
    cr_expect(finds(NULL, "Proceed? [y/n]\nsure\nAgain? [y/n] \n", line, sizeof line));
    cr_expect_str_eq(line, "Again? [y/n]");
}

Test(prompt, a_typed_answer_on_the_prompt_line_ends_it)
{
    char line[200];
    cr_expect_not(finds(NULL, "Overwrite? [y/n] y\n", line, sizeof line));
}

Test(prompt, runbook_patterns_are_added_substring_or_regex)
{
    char line[200];
    cr_expect_not(finds(NULL, "Waiting for approval...\n", line, sizeof line));
    cr_expect(finds("waiting for APPROVAL", "Waiting for approval...\n", line, sizeof line));
    cr_expect(finds("nothing\n/^approve ticket #[0-9]+$/", "approve ticket #12\n", line,
                    sizeof line));
    cr_expect_str_eq(line, "approve ticket #12");
    /* The built-ins still count. */
    cr_expect(finds("waiting for approval", "Press Enter to continue\n", line, sizeof line));
}

Test(prompt, bad_patterns_are_named)
{
    char why[256];
    cr_expect_null(oj_prompt_pattern_problem("approve?", why, sizeof why));
    cr_expect_null(oj_prompt_pattern_problem("/^ok [0-9]+$/", why, sizeof why));
    cr_expect_not_null(oj_prompt_pattern_problem("", why, sizeof why));
    cr_expect_not_null(oj_prompt_pattern_problem("//", why, sizeof why));
    cr_expect_not_null(oj_prompt_pattern_problem("a\tb", why, sizeof why));
    const char *bad = oj_prompt_pattern_problem("/(unclosed/", why, sizeof why);
    cr_assert_not_null(bad);
    cr_expect(strstr(bad, "regular expression") != NULL, "%s", bad);
    /* Compiled with a bad one: the bad one is named, the rest still work. */
    char err[256];
    struct oj_prompts *p = oj_prompts_new("/(unclosed/\nready?", err, sizeof err);
    cr_assert_not_null(p);
    cr_expect(strstr(err, "(unclosed") != NULL, "%s", err);
    char line[100];
    cr_expect(oj_prompts_find(p, "ready?\n", line, sizeof line));
    oj_prompts_free(p);
    for (size_t i = 0; oj_prompt_defaults[i]; i++)
        cr_expect_null(oj_prompt_pattern_problem(oj_prompt_defaults[i], why, sizeof why), "%s",
                       oj_prompt_defaults[i]);
}

Test(prompt, an_ask_is_answered_by_output_after_its_line)
{
    cr_expect_not(oj_ask_answered("", "which branch?"), "not shown yet");
    cr_expect_not(oj_ask_answered("earlier output\n", "which branch?"));
    cr_expect_not(oj_ask_answered("oj ask: which branch?\n", "which branch?"));
    cr_expect_not(oj_ask_answered("oj ask: which branch?\n\n  \n", "which branch?"));
    cr_expect(oj_ask_answered("oj ask: which branch?\nmain\n", "which branch?"));
    cr_expect(oj_ask_answered("which branch?\nworking on main\n", "which branch?"));
}
