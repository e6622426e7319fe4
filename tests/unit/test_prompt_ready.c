/* When an agent just started gets its prompt typed (prompt_ready.h). */
#include <criterion/criterion.h>

#include "prompt_ready.h"

Test(prompt_ready, waits_for_output_then_a_quiet_moment)
{
    cr_expect_not(oj_prompt_ready(0, 5000, 5000), "nothing printed yet");
    cr_expect_not(oj_prompt_ready(40, 0, 50), "still printing its greeting");
    cr_expect_not(oj_prompt_ready(40, OJ_PROMPT_SETTLE_MS - 1, 900));
    cr_expect(oj_prompt_ready(40, OJ_PROMPT_SETTLE_MS, 900), "printed, then quiet");
}

Test(prompt_ready, an_agent_that_prints_nothing_gets_it_in_the_end)
{
    cr_expect_not(oj_prompt_ready(0, OJ_PROMPT_WAIT_MAX_MS - 1, OJ_PROMPT_WAIT_MAX_MS - 1));
    cr_expect(oj_prompt_ready(0, OJ_PROMPT_WAIT_MAX_MS, OJ_PROMPT_WAIT_MAX_MS));
    cr_expect(oj_prompt_ready(10, 0, OJ_PROMPT_WAIT_MAX_MS), "one that never stops printing too");
}
