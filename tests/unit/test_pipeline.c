/* Pipeline rules without tmux or git: where a phase leads, how `oj run`
 * inputs bind, and what a stuck agent gets from its recovery chain. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "runbook.h"
#include "state.h"

static const char *const BUILD =
    "{\"pipelines\":{\"build\":{\"inputs\":[\"name\",\"prompt\"],\"phases\":["
    "{\"name\":\"prepare\",\"run\":\"echo {name}\"},"
    "{\"name\":\"implement\",\"agent\":{\"command\":\"agent\",\"prompt\":\"{prompt}\","
    "\"idle_timeout\":\"10s\",\"on_stuck\":[\"nudge\",\"restart:2\",\"escalate\"]},"
    "\"on_fail\":\"report\"},"
    "{\"name\":\"merge\",\"lock\":\"merge-lock\",\"run\":\"true\",\"next\":\"done\"},"
    "{\"name\":\"report\",\"run\":\"echo failed\",\"next\":\"fail\"}]}}}";

static struct oj_runbooks rb;

static void load(void)
{
    char err[512];
    memset(&rb, 0, sizeof rb);
    cr_assert_eq(oj_runbook_parse("build.json", BUILD, &rb, err, sizeof err), 0, "%s", err);
}

static void unload(void) { oj_runbooks_free(&rb); }

TestSuite(pipeline, .init = load, .fini = unload);

Test(pipeline, phases_follow_order_next_and_on_fail)
{
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    cr_expect_str_eq(oj_pipeline_after(p, "prepare", true), "implement");
    cr_expect_str_eq(oj_pipeline_after(p, "prepare", false), "fail", "default on_fail");
    cr_expect_str_eq(oj_pipeline_after(p, "implement", false), "report");
    cr_expect_str_eq(oj_pipeline_after(p, "merge", true), "done", "explicit next");
    cr_expect_str_eq(oj_pipeline_after(p, "report", true), "fail");
    cr_expect_str_eq(oj_pipeline_after(p, "vanished", true), "fail",
                     "a phase gone from the runbook cannot go on");
}

Test(pipeline, only_a_loop_back_waits_and_for_the_pause_of_the_phase_it_enters)
{
    struct oj_runbooks loop = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"poll\":{\"phases\":["
                       "{\"name\":\"a\",\"run\":\"x\",\"pause\":\"30s\"},"
                       "{\"name\":\"b\",\"run\":\"x\",\"next\":\"b\",\"on_fail\":\"a\"},"
                       "{\"name\":\"c\",\"run\":\"x\"}]}}}";
    cr_assert_eq(oj_runbook_parse("poll.json", text, &loop, err, sizeof err), 0, "%s", err);
    const struct oj_pipeline_def *p = &loop.pipelines[0];
    cr_expect_eq(oj_pipeline_loop_pause(p, "a", "b"), 0, "forward: at once");
    cr_expect_eq(oj_pipeline_loop_pause(p, "a", "c"), 0, "a jump forward: at once");
    cr_expect_eq(oj_pipeline_loop_pause(p, "b", "b"), 1000, "itself: the default pause");
    cr_expect_eq(oj_pipeline_loop_pause(p, "b", "a"), 30000,
                 "back: the pause of the phase entered");
    cr_expect_eq(oj_pipeline_loop_pause(p, "c", "a"), 30000);
    oj_runbooks_free(&loop);
}

Test(pipeline, inputs_bind_by_position_and_by_name)
{
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    char err[512];
    char *pos[] = {"auth", "add login"};
    cJSON *in = oj_pipeline_bind_inputs(p, pos, 2, NULL, NULL, 0, err, sizeof err);
    cr_assert_not_null(in, "%s", err);
    cr_expect_str_eq(oj_json_str(in, "name"), "auth");
    cr_expect_str_eq(oj_json_str(in, "prompt"), "add login");
    cJSON_Delete(in);

    char *names[] = {"prompt"}, *values[] = {"x\"; rm -rf ~; \""};
    in = oj_pipeline_bind_inputs(p, pos, 1, names, values, 1, err, sizeof err);
    cr_assert_not_null(in, "%s", err);
    cr_expect_str_eq(oj_json_str(in, "prompt"), "x\"; rm -rf ~; \"", "values are kept as given");
    cJSON_Delete(in);
}

Test(pipeline, bad_inputs_are_named)
{
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    char err[512];
    char *pos[] = {"a", "b", "c"};
    cr_expect_null(oj_pipeline_bind_inputs(p, pos, 3, NULL, NULL, 0, err, sizeof err));
    cr_expect(strstr(err, "takes 2 inputs") != NULL, "%s", err);

    cr_expect_null(oj_pipeline_bind_inputs(p, pos, 1, NULL, NULL, 0, err, sizeof err));
    cr_expect(strstr(err, "input 'prompt' is missing") && strstr(err, "--prompt"), "%s", err);

    char *names[] = {"nmae"}, *values[] = {"x"};
    cr_expect_null(oj_pipeline_bind_inputs(p, pos, 1, names, values, 1, err, sizeof err));
    cr_expect(strstr(err, "no input 'nmae'") != NULL, "%s", err);

    char *twice[] = {"name"};
    cr_expect_null(oj_pipeline_bind_inputs(p, pos, 1, twice, values, 1, err, sizeof err));
    cr_expect(strstr(err, "'name' is given twice") != NULL, "%s", err);
}

Test(pipeline, a_new_pipeline_starts_at_its_first_phase)
{
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    cJSON *v = oj_pipeline_new(p, cJSON_CreateObject(), "/ws", "oj/b", 1000);
    cr_expect_str_eq(oj_json_str(v, "state"), "running");
    cr_expect_str_eq(oj_json_str(v, "phase"), "prepare");
    cr_expect_str_eq(oj_json_str(v, "step"), "workspace", "its worktree comes first");
    cr_expect(oj_pipeline_active(v));
    cJSON *n = oj_pipeline_enter(v, "merge", 2000);
    cr_expect_str_eq(oj_json_str(n, "phase"), "merge");
    cr_expect_str_eq(oj_json_str(n, "step"), "pending");
    cr_expect_eq(oj_json_int(n, "phase_started_ms"), 2000);
    cr_expect_eq(oj_json_int(n, "restarts"), 0);
    oj_json_set_str(n, "state", "done");
    cr_expect_not(oj_pipeline_active(n));
    oj_json_set_str(n, "state", "escalated");
    cr_expect(oj_pipeline_active(n), "an escalated pipeline still owns its workspace");
    cJSON_Delete(v);
    cJSON_Delete(n);
}

Test(pipeline, recovery_steps_are_kept_in_order_and_bounded)
{
    cJSON *v = cJSON_CreateObject();
    for (int i = 0; i < 60; i++)
        oj_pipeline_record_step(v, i, i % 2 ? "restart" : "nudge", "quiet");
    cJSON *steps = cJSON_GetObjectItem(v, "recovery");
    cr_expect_eq(cJSON_GetArraySize(steps), 50, "the oldest steps drop off");
    cr_expect_eq(oj_json_int(cJSON_GetArrayItem(steps, 49), "time_ms"), 59);
    cJSON_Delete(v);
}

/* Plays a quiet agent through its chain: each call is one stuck event. */
static enum oj_stuck_action step(const struct oj_phase_def *ph, int *index, int *restarts,
                                 int64_t last_output, int64_t last_step)
{
    struct oj_stuck_decision d =
        oj_pipeline_stuck_decide(ph, *index, *restarts, last_output, last_step, 1000);
    *index = d.next_index;
    if (d.action == OJ_STUCK_RESTART)
        (*restarts)++;
    return d.action;
}

Test(pipeline, a_silent_agent_is_nudged_restarted_then_escalated)
{
    const struct oj_phase_def *ph =
        oj_pipeline_phase(oj_runbooks_pipeline(&rb, "build"), "implement");
    int index = 0, restarts = 0;
    /* Silent throughout: the last output is always before the last step. */
    cr_expect_eq(step(ph, &index, &restarts, 0, 0), OJ_STUCK_NUDGE);
    cr_expect_eq(step(ph, &index, &restarts, 0, 100), OJ_STUCK_RESTART);
    cr_expect_eq(step(ph, &index, &restarts, 0, 200), OJ_STUCK_RESTART, "restart:2");
    cr_expect_eq(step(ph, &index, &restarts, 0, 300), OJ_STUCK_ESCALATE);
    cr_expect_eq(step(ph, &index, &restarts, 0, 400), OJ_STUCK_ESCALATE, "stays escalated");
}

Test(pipeline, the_default_chain_is_nudge_restart_escalate)
{
    struct oj_phase_def ph = {.name = "p"}; /* no on_stuck */
    int index = 0, restarts = 0;
    cr_expect_eq(step(&ph, &index, &restarts, 0, 0), OJ_STUCK_NUDGE);
    cr_expect_eq(step(&ph, &index, &restarts, 0, 1), OJ_STUCK_RESTART);
    cr_expect_eq(step(&ph, &index, &restarts, 0, 2), OJ_STUCK_ESCALATE);
}

Test(pipeline, output_resets_the_chain_but_not_the_restart_budget)
{
    const struct oj_phase_def *ph =
        oj_pipeline_phase(oj_runbooks_pipeline(&rb, "build"), "implement");
    int index = 0, restarts = 0;
    cr_expect_eq(step(ph, &index, &restarts, 0, 0), OJ_STUCK_NUDGE);
    /* The agent answered the nudge well after it (past the 1 s grace), then
     * went quiet again: a fresh spell starts with a nudge. */
    cr_expect_eq(step(ph, &index, &restarts, 50000, 10000), OJ_STUCK_NUDGE);
    cr_expect_eq(step(ph, &index, &restarts, 50000, 60000), OJ_STUCK_RESTART);
    /* A restarted agent's banner comes within the grace: no reset. */
    cr_expect_eq(step(ph, &index, &restarts, 70500, 70000), OJ_STUCK_RESTART);
    /* It worked for a while after that: the chain starts over, but the two
     * restarts are spent, so after the nudge it escalates. */
    cr_expect_eq(step(ph, &index, &restarts, 200000, 70000), OJ_STUCK_NUDGE);
    cr_expect_eq(step(ph, &index, &restarts, 200000, 300000), OJ_STUCK_ESCALATE);
}

Test(pipeline, a_prompt_is_typed_as_one_line_of_text_without_keys)
{
    /* An input holding ESC [ 2 J, ^C, ^D, a tab and DEL must not reach the
     * agent as keys; ordinary and UTF-8 text stays as it is. */
    char text[] = "fix \x1b[2Jthe\tbug\r\nnow\x03\x04\x7f caf\xc3\xa9";
    oj_pipeline_prompt_line(text);
    cr_expect_str_eq(text, "fix  [2Jthe bug  now    caf\xc3\xa9");
}
