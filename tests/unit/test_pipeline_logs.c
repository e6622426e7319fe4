/* The rules of reading a pipeline's output in order (rules/pipeline_logs.c)
 * and the exit status of a pipeline's outcome (cli/pipeline_follow.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "exit_codes.h"
#include "pipeline_follow.h"
#include "pipeline_logs.h"

Test(pipeline_logs, marks_round_trip_and_skip_damage)
{
    char text[512] = "", line[160];
    oj_log_mark_line(120, "s1a2b3c", "implement", line, sizeof line);
    strcat(text, line);
    strcat(text, "garbage line\n");
    strcat(text, "99 s4d5e6f review\n"); /* below the one before: raised to it */
    strcat(text, "300 s0000aa merge"); /* cut off by a crash: no newline */
    struct oj_log_mark m[8];
    size_t n = oj_log_marks_parse(text, strlen(text), m, 8);
    cr_assert_eq(n, 2);
    cr_expect_eq(m[0].offset, 120);
    cr_expect_str_eq(m[0].sid, "s1a2b3c");
    cr_expect_str_eq(m[0].phase, "implement");
    cr_expect_eq(m[1].offset, 120, "parts never overlap");
    cr_expect_str_eq(m[1].sid, "s4d5e6f");
}

Test(pipeline_logs, parts_alternate_pipeline_slices_and_sessions)
{
    struct oj_log_mark m[2] = {{.offset = 10, .sid = "sa"}, {.offset = 25, .sid = "sb"}};
    struct oj_log_part p;
    cr_assert(oj_log_part_of(m, 2, 0, &p));
    cr_expect(!p.session && p.start == 0 && p.end == 10 && !p.open);
    cr_assert(oj_log_part_of(m, 2, 1, &p));
    cr_expect(p.session && p.mark == 0);
    cr_assert(oj_log_part_of(m, 2, 2, &p));
    cr_expect(!p.session && p.start == 10 && p.end == 25 && !p.open);
    cr_assert(oj_log_part_of(m, 2, 3, &p));
    cr_expect(p.session && p.mark == 1);
    cr_assert(oj_log_part_of(m, 2, 4, &p));
    cr_expect(!p.session && p.start == 25 && p.open, "the last slice is open at its end");
    cr_expect(!oj_log_part_of(m, 2, 5, &p));
    cr_assert(oj_log_part_of(NULL, 0, 0, &p));
    cr_expect(!p.session && p.start == 0 && p.open, "no agent: the pipeline log alone");
}

Test(pipeline_logs, a_session_part_is_over_once_its_output_settled)
{
    cr_expect(oj_log_session_over(false, false, 0, 1000), "archived: over");
    cr_expect(!oj_log_session_over(true, false, 0, 99999), "alive: not over");
    cr_expect(!oj_log_session_over(true, true, 1000, 1000 + OJ_LOG_SESSION_SETTLE_MS - 1));
    cr_expect(oj_log_session_over(true, true, 1000, 1000 + OJ_LOG_SESSION_SETTLE_MS));
}

Test(pipeline_logs, outcome_exit_codes_are_distinct)
{
    cr_expect_eq(oj_exit_for_outcome("done"), 0);
    cr_expect_eq(oj_exit_for_outcome("failed"), OJ_EXIT_PIPELINE_FAILED);
    cr_expect_eq(oj_exit_for_outcome("cancelled"), OJ_EXIT_PIPELINE_CANCELLED);
    cr_expect_eq(oj_exit_for_outcome("escalated"), OJ_EXIT_NEEDS_HUMAN);
    cr_expect_eq(oj_exit_for_outcome("running"), -1);
    cr_expect_eq(oj_exit_for_outcome("waiting"), -1);
    cr_expect_eq(OJ_EXIT_PIPELINE_FAILED, 10);
    cr_expect_eq(OJ_EXIT_PIPELINE_CANCELLED, 11);
    cr_expect_eq(OJ_EXIT_NEEDS_HUMAN, 12);
}
