/* What a session record becomes given what tmux reports: pure rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sessions.h"

static const char *state_of(const cJSON *v)
{
    return cJSON_GetObjectItem(v, "state")->valuestring;
}

Test(sessions_rules, a_new_session_starts_then_runs)
{
    cJSON *v = oj_session_new("w", "/tmp", "'agent'", "/tmp/x.log", 1000);
    cr_expect_str_eq(state_of(v), "starting");
    cr_expect(oj_session_active(v));
    struct oj_tmux_pane live = {.session = "s1", .pid = 42};
    cJSON *n = oj_session_observe(v, &live, false, 2000);
    cr_assert_not_null(n);
    cr_expect_str_eq(state_of(n), "running");
    cr_expect_null(oj_session_observe(n, &live, false, 3000), "running and alive: no change");
    cJSON_Delete(v);
    cJSON_Delete(n);
}

Test(sessions_rules, deaths_and_their_reasons)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    struct oj_tmux_pane dead = {.session = "s1", .dead = true, .status_known = true,
                                .exit_status = 3};
    cJSON *a = oj_session_observe(v, &dead, false, 5000);
    cr_expect_str_eq(state_of(a), "dead");
    cr_expect_eq(cJSON_GetObjectItem(a, "exit_status")->valueint, 3);
    cr_expect_str_eq(cJSON_GetObjectItem(a, "reason")->valuestring, "exited with status 3");
    cr_expect_eq(cJSON_GetObjectItem(a, "ended_at_ms")->valuedouble, 5000);

    cJSON *b = oj_session_observe(v, NULL, false, 5000);
    cr_expect_str_eq(cJSON_GetObjectItem(b, "reason")->valuestring, "vanished from tmux");
    cJSON *c = oj_session_observe(v, NULL, true, 5000);
    cr_expect_str_eq(cJSON_GetObjectItem(c, "reason")->valuestring, "the tmux server is gone");
    cr_expect_not(oj_session_active(c));

    struct oj_tmux_pane live = {.session = "s1"};
    cr_expect_null(oj_session_observe(a, &live, false, 9000),
                   "a dead session is never revived by a late observation");
    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    cr_expect_null(oj_session_observe(v, &unknown, false, 5000),
                   "no status yet: wait for tmux to record it");
    struct oj_tmux_pane sig = {.session = "s1", .dead = true, .status_known = true,
                               .exit_status = 128 + 9};
    cJSON *d = oj_session_observe(v, &sig, false, 5000);
    cr_expect_str_eq(cJSON_GetObjectItem(d, "reason")->valuestring, "killed by signal 9");
    cJSON_Delete(d);
    cJSON_Delete(v);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

Test(sessions_rules, shell_quoting_makes_arguments_text)
{
    char *q = oj_shell_quote("x\"; rm -rf ~; \"'y");
    cr_expect_str_eq(q, "'x\"; rm -rf ~; \"'\\''y'");
    free(q);
    q = oj_shell_quote("");
    cr_expect_str_eq(q, "''");
    free(q);
}

Test(sessions_rules, stuck_once_per_quiet_spell_and_never_right_after_a_nudge)
{
    const int64_t T = 1000, PAUSE = 5000;
    /* Talking: not stuck. */
    cr_expect_not(oj_session_stuck_now(10500, 10000, T, 0, PAUSE, 0));
    /* Quiet past the timeout: stuck, once. */
    cr_expect(oj_session_stuck_now(11500, 10000, T, 0, PAUSE, 0));
    cr_expect_not(oj_session_stuck_now(12500, 10000, T, 0, PAUSE, 11500), "raised already");
    /* Nudged at 13000: nothing during the pause, then stuck again if still quiet. */
    cr_expect_not(oj_session_stuck_now(14000, 10000, T, 13000, PAUSE, 11500));
    cr_expect_not(oj_session_stuck_now(17999, 10000, T, 13000, PAUSE, 11500));
    cr_expect(oj_session_stuck_now(18000, 10000, T, 13000, PAUSE, 11500));
    /* New output starts a new spell. */
    cr_expect_not(oj_session_stuck_now(20500, 20000, T, 13000, PAUSE, 18000));
    cr_expect(oj_session_stuck_now(21001, 20000, T, 13000, PAUSE, 18000));
    /* No timeout: never stuck. */
    cr_expect_not(oj_session_stuck_now(99999, 0, 0, 0, PAUSE, 0));
}

Test(sessions_rules, control_bytes_are_found_where_they_are)
{
    cr_expect_eq(oj_text_control_at("plain text, UTF-8 é and ~"), -1);
    cr_expect_eq(oj_text_control_at(""), -1);
    cr_expect_eq(oj_text_control_at("\x1b[31m"), 0);
    cr_expect_eq(oj_text_control_at("ab\rc"), 2);
    cr_expect_eq(oj_text_control_at("tab\t"), 3);
    cr_expect_eq(oj_text_control_at("del\x7f"), 3);
    cr_expect_eq(oj_text_control_at("x\n"), 1);
    cr_expect_eq(oj_text_control_at(" !~"), -1, "0x20 and 0x7e are text");
}
