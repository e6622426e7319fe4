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
    struct oj_tmux_pane dead = {.session = "s1", .dead = true, .exit_status = 3};
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
