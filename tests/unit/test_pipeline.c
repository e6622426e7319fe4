/* Pipeline rules on the record, without a daemon, tmux or git: where a phase
 * leads, what each step does to the record, how `oj run` inputs bind, and
 * what a stuck agent gets from its recovery chain. */
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
    const struct oj_pipeline_def *def = oj_runbooks_pipeline(&rb, "build");
    char err[512];
    char *pos[] = {"auth", "add login"};
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    cr_assert_eq(oj_pipeline_bind_inputs(def, pos, 2, NULL, NULL, 0, &p, err, sizeof err), 0,
                 "%s", err);
    cr_expect_str_eq(oj_pipeline_input(&p, "name"), "auth");
    cr_expect_str_eq(oj_pipeline_input(&p, "prompt"), "add login");
    oj_pipeline_free(&p);

    char *names[] = {"prompt"}, *values[] = {"x\"; rm -rf ~; \""};
    cr_assert_eq(oj_pipeline_bind_inputs(def, pos, 1, names, values, 1, &p, err, sizeof err), 0,
                 "%s", err);
    cr_expect_str_eq(oj_pipeline_input(&p, "prompt"), "x\"; rm -rf ~; \"",
                     "values are kept as given");
    cr_assert_eq(p.n_inputs, 2);
    cr_expect_str_eq(p.inputs[0].name, "name", "positional first, in declared order");
    oj_pipeline_free(&p);
}

/* err from binding these inputs to build (which must fail). */
static const char *bind_fails(char *const *pos, size_t npos, char *const *names,
                              char *const *values, size_t nnamed, char *err, size_t errlen)
{
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    cr_expect_eq(oj_pipeline_bind_inputs(oj_runbooks_pipeline(&rb, "build"), pos, npos, names,
                                         values, nnamed, &p, err, errlen),
                 -1);
    oj_pipeline_free(&p);
    return err;
}

Test(pipeline, bad_inputs_are_named)
{
    char err[512];
    char *pos[] = {"a", "b", "c"};
    cr_expect(strstr(bind_fails(pos, 3, NULL, NULL, 0, err, sizeof err), "takes 2 inputs"), "%s",
              err);
    bind_fails(pos, 1, NULL, NULL, 0, err, sizeof err);
    cr_expect(strstr(err, "input 'prompt' is missing") && strstr(err, "--prompt"), "%s", err);
    char *names[] = {"nmae"}, *values[] = {"x"};
    cr_expect(strstr(bind_fails(pos, 1, names, values, 1, err, sizeof err), "no input 'nmae'"),
              "%s", err);
    char *twice[] = {"name"};
    cr_expect(strstr(bind_fails(pos, 1, twice, values, 1, err, sizeof err),
                     "'name' is given twice"),
              "%s", err);
}

/* A build pipeline as oj run makes it, at time 1000. */
static void new_build(struct oj_pipeline *p)
{
    oj_pipeline_init(p);
    oj_pipeline_add_input(p, "name", "auth");
    oj_pipeline_new(p, oj_runbooks_pipeline(&rb, "build"), "/ws", "oj/b", 1000);
}

Test(pipeline, a_new_pipeline_starts_at_its_first_phase)
{
    struct oj_pipeline p;
    new_build(&p);
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING);
    cr_expect_str_eq(p.name, "build");
    cr_expect_str_eq(p.phase, "prepare");
    cr_expect_eq(p.step, OJ_STEP_WORKSPACE, "its worktree comes first");
    cr_expect_eq(p.created_at_ms, 1000);
    cr_expect_eq(p.phase_started_ms, 1000);
    cr_expect(oj_pipeline_state_active(p.state));
    oj_pipeline_enter(&p, "merge", 2000);
    cr_expect_str_eq(p.phase, "merge");
    cr_expect_eq(p.step, OJ_STEP_PENDING);
    cr_expect_eq(p.phase_started_ms, 2000);
    cr_expect_eq(p.updated_at_ms, 2000);
    cr_expect_eq(p.restarts, 0);
    p.state = OJ_PIPELINE_DONE;
    cr_expect_not(oj_pipeline_state_active(p.state));
    p.state = OJ_PIPELINE_ESCALATED;
    cr_expect(oj_pipeline_state_active(p.state), "an escalated pipeline still owns its workspace");
    oj_pipeline_free(&p);
}

Test(pipeline, a_phase_that_ends_goes_where_the_runbook_says)
{
    const struct oj_pipeline_def *def = oj_runbooks_pipeline(&rb, "build");
    struct oj_pipeline p;
    new_build(&p);
    p.step = OJ_STEP_SHELL;
    p.attempt = 2;
    cr_expect_eq(oj_pipeline_phase_end(&p, def, true, "", 3000), OJ_PHASE_END_NEXT);
    cr_expect_str_eq(p.phase, "implement");
    cr_expect_eq(p.step, OJ_STEP_PENDING);
    cr_expect_eq(p.attempt, 0, "a new phase counts its own attempts");
    cr_expect_str_eq(p.last_error, "");

    oj_pipeline_agent_started(&p, "s1", 3500);
    p.state = OJ_PIPELINE_ESCALATED;
    cr_expect_eq(oj_pipeline_phase_end(&p, def, false, "tests fail", 4000), OJ_PHASE_END_NEXT);
    cr_expect_str_eq(p.phase, "report", "on_fail");
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING);
    cr_expect_str_eq(p.session_id, "");
    cr_expect_str_eq(p.last_error, "phase implement failed: tests fail");

    cr_expect_eq(oj_pipeline_phase_end(&p, def, true, "", 5000), OJ_PHASE_END_FAIL,
                 "report's next is fail: the pipeline failed even so");
    oj_pipeline_enter(&p, "merge", 6000);
    oj_pipeline_set(&p.session_id, "s2");
    cr_expect_eq(oj_pipeline_phase_end(&p, def, true, "", 7000), OJ_PHASE_END_DONE);
    cr_expect_str_eq(p.session_id, "", "the pipeline's last agent is let go");
    cr_expect_eq(oj_pipeline_phase_end(&p, NULL, true, "", 8000), OJ_PHASE_END_FAIL,
                 "a pipeline gone from the runbooks cannot go on");
    oj_pipeline_free(&p);
}

Test(pipeline, a_loop_back_pauses_before_its_next_pass)
{
    struct oj_runbooks loop = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"poll\":{\"phases\":["
                       "{\"name\":\"a\",\"run\":\"x\"},"
                       "{\"name\":\"b\",\"run\":\"x\",\"next\":\"b\"}]}}}";
    cr_assert_eq(oj_runbook_parse("poll.json", text, &loop, err, sizeof err), 0, "%s", err);
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    oj_pipeline_new(&p, &loop.pipelines[0], "/ws", "oj/p", 0);
    p.step = OJ_STEP_SHELL;
    cr_expect_eq(oj_pipeline_phase_end(&p, &loop.pipelines[0], true, "", 100), OJ_PHASE_END_NEXT);
    cr_expect_eq(p.step, OJ_STEP_PENDING, "forward: at once");
    cr_expect_eq(oj_pipeline_phase_end(&p, &loop.pipelines[0], true, "", 200), OJ_PHASE_END_NEXT);
    cr_expect_str_eq(p.phase, "b");
    cr_expect_eq(p.step, OJ_STEP_PAUSE, "back to itself: a pause first");
    cr_expect_eq(p.pause_until_ms, 200 + OJ_LOOP_PAUSE_MS);
    oj_pipeline_free(&p);
    oj_runbooks_free(&loop);
}

Test(pipeline, a_finished_pipeline_keeps_why)
{
    struct oj_pipeline p;
    new_build(&p);
    oj_pipeline_wait(&p, "merge-lock", 1500);
    oj_pipeline_finish(&p, OJ_PIPELINE_CANCELLED, "cancelled by the operator", 2000);
    cr_expect_eq(p.state, OJ_PIPELINE_CANCELLED);
    cr_expect_eq(p.step, OJ_STEP_OVER);
    cr_expect_eq(p.finished_at_ms, 2000);
    cr_expect_str_eq(p.waiting_for_lock, "", "a finished pipeline waits for nothing");
    cr_expect_eq(p.waiting_since_ms, 0);
    cr_expect_str_eq(p.last_error, "cancelled by the operator");
    oj_pipeline_finish(&p, OJ_PIPELINE_FAILED, NULL, 3000);
    cr_expect_str_eq(p.last_error, "cancelled by the operator", "no reason: the last one stays");
    oj_pipeline_free(&p);
}

Test(pipeline, an_operators_restart_keeps_counting_attempts)
{
    struct oj_pipeline p;
    new_build(&p);
    oj_pipeline_enter(&p, "implement", 2000);
    oj_pipeline_agent_started(&p, "s1", 2100);
    oj_pipeline_agent_started(&p, "s2", 2500); /* restarted by its recovery chain */
    cr_expect_eq(p.attempt, 2);
    cr_expect_eq(p.run_started_ms, 2100, "the timeout counts from the first start");
    p.restarts = 1;
    p.stuck_index = 2;
    p.state = OJ_PIPELINE_ESCALATED;
    oj_pipeline_rerun(&p, 3000, "restart", "by the operator");
    cr_expect_str_eq(p.phase, "implement");
    cr_expect_eq(p.step, OJ_STEP_PENDING);
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING);
    cr_expect_eq(p.attempt, 2, "a late result of the old run never passes for the new one's");
    cr_expect_eq(p.restarts, 0);
    cr_expect_eq(p.stuck_index, 0);
    cr_expect_eq(p.run_started_ms, 0, "the timeout counts anew");
    cr_expect_eq(p.last_step_ms, 3000);
    cr_expect_str_eq(p.session_id, "");
    cr_assert_eq(p.n_recovery, 1);
    cr_expect_str_eq(p.recovery[0].action, "restart");
    oj_pipeline_free(&p);
}

Test(pipeline, a_runners_result_counts_only_for_its_phase_and_attempt)
{
    struct oj_pipeline p;
    new_build(&p);
    p.step = OJ_STEP_PENDING;
    oj_pipeline_shell_started(&p, 1100);
    cr_expect_eq(p.step, OJ_STEP_SHELL);
    cr_expect_eq(p.attempt, 1);
    cr_expect_eq(p.step_started_ms, 1100);
    cr_expect(oj_pipeline_shell_is(&p, "prepare", 1));
    oj_pipeline_rerun(&p, 1200, "restart", "by the operator");
    oj_pipeline_shell_started(&p, 1300);
    cr_expect_not(oj_pipeline_shell_is(&p, "prepare", 1), "the killed run's late result");
    cr_expect(oj_pipeline_shell_is(&p, "prepare", 2));
    cr_expect_not(oj_pipeline_shell_is(&p, "implement", 2));
    oj_pipeline_finish(&p, OJ_PIPELINE_CANCELLED, "", 1400);
    cr_expect_not(oj_pipeline_shell_is(&p, "prepare", 2), "cancelled");
    oj_pipeline_free(&p);
}

Test(pipeline, waits_for_a_lock_or_a_slot_and_their_end)
{
    struct oj_pipeline p;
    new_build(&p);
    oj_pipeline_enter(&p, "merge", 2000);
    oj_pipeline_wait(&p, "merge-lock", 2100);
    cr_expect_eq(p.step, OJ_STEP_LOCK);
    cr_expect_eq(p.state, OJ_PIPELINE_WAITING);
    cr_expect_eq(p.waiting_since_ms, 2100);
    cr_expect(oj_pipeline_waits_for(&p, "merge-lock"));
    cr_expect_not(oj_pipeline_waits_for(&p, "other-lock"));
    oj_pipeline_lock_taken(&p, "merge-lock");
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING);
    cr_expect_str_eq(p.lock_held, "merge-lock");
    cr_expect_str_eq(p.waiting_for_lock, "");
    cr_expect_eq(p.waiting_since_ms, 0);
    cr_expect_not(oj_pipeline_waits_for(&p, "merge-lock"));
    cr_expect(oj_pipeline_waited_longer("pb", 100, "pa", 200), "first come, first served");
    cr_expect(oj_pipeline_waited_longer("pa", 100, "pb", 100), "a tie: the smaller id");
    cr_expect_not(oj_pipeline_waited_longer("pb", 100, "pa", 100));

    oj_pipeline_enter(&p, "implement", 3000);
    oj_pipeline_wait(&p, NULL, 3100);
    cr_expect_eq(p.step, OJ_STEP_QUEUED, "no lock: a wait for a session slot");
    cr_expect_eq(p.state, OJ_PIPELINE_WAITING);
    oj_pipeline_agent_started(&p, "s1", 3200);
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING);
    cr_expect_eq(p.waiting_since_ms, 0);
    cr_expect_str_eq(p.session_id, "s1");
    oj_pipeline_free(&p);
}

Test(pipeline, an_outcome_without_runbooks_waits_in_decide)
{
    struct oj_pipeline p;
    new_build(&p);
    oj_pipeline_agent_started(&p, "s1", 1100);
    p.state = OJ_PIPELINE_ESCALATED;
    oj_pipeline_decide_later(&p, false, "no luck");
    cr_expect_eq(p.step, OJ_STEP_DECIDE);
    cr_expect_eq(p.state, OJ_PIPELINE_RUNNING, "the phase is over, escalated or not");
    cr_expect_str_eq(p.session_id, "");
    cr_expect_not(p.decide_ok);
    cr_expect_str_eq(p.decide_why, "no luck");
    oj_pipeline_decide_later(&p, true, "ignored");
    cr_expect(p.decide_ok);
    cr_expect_str_eq(p.decide_why, "", "success has no reason");
    oj_pipeline_free(&p);
}

Test(pipeline, escalation_and_archiving)
{
    struct oj_pipeline p;
    new_build(&p);
    oj_pipeline_escalate(&p, "quiet", 5000);
    cr_expect_eq(p.state, OJ_PIPELINE_ESCALATED);
    cr_expect_eq(p.last_step_ms, 5000);
    cr_expect_str_eq(p.recovery[p.n_recovery - 1].action, "escalate");
    cr_expect_not(oj_pipeline_archivable(&p, 10000), "not finished");
    oj_pipeline_finish(&p, OJ_PIPELINE_DONE, "", 6000);
    cr_expect(oj_pipeline_archivable(&p, 6001));
    cr_expect_not(oj_pipeline_archivable(&p, 6000), "changed at the cutoff");
    p.finished_at_ms = 0; /* an old record: its last change then */
    p.updated_at_ms = 0;
    cr_expect(oj_pipeline_archivable(&p, 1001), "created_at_ms when nothing later is known");
    p.created_at_ms = 0;
    cr_expect_not(oj_pipeline_archivable(&p, 99999), "no time at all: never");
    oj_pipeline_free(&p);
}

/* The daemon's own archiving (OJ_RETAIN_FINISHED) leaves a failed pipeline
 * for a human to resume; done and cancelled ones go. */
Test(pipeline, retention_keeps_a_failed_pipeline_for_a_human)
{
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    p.finished_at_ms = 1000;
    p.state = OJ_PIPELINE_FAILED;
    cr_expect(oj_pipeline_archivable(&p, 5000), "the operator's archive takes it");
    cr_expect_not(oj_pipeline_retention_archivable(&p, 5000), "the daemon's own does not");
    p.state = OJ_PIPELINE_DONE;
    cr_expect(oj_pipeline_retention_archivable(&p, 5000));
    p.state = OJ_PIPELINE_CANCELLED;
    cr_expect(oj_pipeline_retention_archivable(&p, 5000));
    p.state = OJ_PIPELINE_ESCALATED;
    cr_expect_not(oj_pipeline_retention_archivable(&p, 5000));
    oj_pipeline_free(&p);
}

Test(pipeline, a_journey_through_the_rules_is_stored_and_read_back_whole)
{
    const struct oj_pipeline_def *def = oj_runbooks_pipeline(&rb, "build");
    struct oj_pipeline p;
    new_build(&p);
    p.step = OJ_STEP_PENDING; /* the worktree is made */
    oj_pipeline_shell_started(&p, 1100);
    oj_pipeline_phase_end(&p, def, true, "", 1200);
    oj_pipeline_agent_started(&p, "s1", 1300);
    oj_pipeline_add_checkpoint(&p, 1400, p.phase, "half way");
    oj_pipeline_set(&p.release_session, "s1");
    p.release_at_ms = 3500;
    oj_pipeline_phase_end(&p, def, true, "", 1500);
    oj_pipeline_wait(&p, "merge-lock", 1600);
    cJSON *v = oj_pipeline_to_json(&p);
    struct oj_pipeline q;
    cr_assert_eq(oj_pipeline_from_json(v, &q), 0);
    cJSON *w = oj_pipeline_to_json(&q);
    cr_expect(cJSON_Compare(v, w, true), "what is stored reads back the same");
    cr_expect_str_eq(q.phase, "merge");
    cr_expect_eq(q.step, OJ_STEP_LOCK);
    cr_expect_str_eq(q.waiting_for_lock, "merge-lock");
    cr_expect_str_eq(q.release_session, "s1");
    cr_expect_eq(q.n_checkpoints, 1);
    cr_expect_eq(q.run_started_ms, 0, "a new phase has not run yet");
    cJSON_Delete(v);
    cJSON_Delete(w);
    oj_pipeline_free(&q);
    oj_pipeline_free(&p);
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
