/* What a session record becomes given what tmux reports: pure rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sessions.h"
#include "shell.h"

static const char *state_of(const cJSON *v)
{
    return cJSON_GetObjectItem(v, "state")->valuestring;
}

/* What a tick saw: a pane (or none) and nothing else. */
static struct oj_session_seen saw(const struct oj_tmux_pane *pane)
{
    return (struct oj_session_seen){.pane = pane, .status_file = -1};
}

static const char *reason_of(const cJSON *v)
{
    return cJSON_GetObjectItem(v, "reason")->valuestring;
}

static int status_of(const cJSON *v) { return cJSON_GetObjectItem(v, "exit_status")->valueint; }

Test(sessions_rules, a_new_session_starts_then_runs)
{
    cJSON *v = oj_session_new("w", "/tmp", "'agent'", "/tmp/x.log", 1000);
    cr_expect_str_eq(state_of(v), "starting");
    cr_expect(oj_session_active(v));
    struct oj_tmux_pane live = {.session = "s1", .pid = 42};
    struct oj_session_seen seen = saw(&live);
    cJSON *n = oj_session_observe(v, &seen, 2000);
    cr_assert_not_null(n);
    cr_expect_str_eq(state_of(n), "running");
    cr_expect_null(oj_session_observe(n, &seen, 3000), "running and alive: no change");
    cJSON_Delete(v);
    cJSON_Delete(n);
}

Test(sessions_rules, deaths_and_their_reasons)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    struct oj_tmux_pane dead = {.session = "s1", .dead = true, .status_known = true,
                                .exit_status = 3};
    struct oj_session_seen seen = saw(&dead);
    cJSON *a = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(state_of(a), "dead");
    cr_expect_eq(status_of(a), 3);
    cr_expect_str_eq(reason_of(a), "exited with status 3");
    cr_expect_eq(cJSON_GetObjectItem(a, "ended_at_ms")->valuedouble, 5000);

    seen = saw(NULL);
    cJSON *b = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(reason_of(b), "vanished from tmux");
    seen.server_gone = true;
    cJSON *c = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(reason_of(c), "the tmux server is gone");
    cr_expect_not(oj_session_active(c));

    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    seen = saw(&unknown);
    seen.dead_unknown_ticks = 1;
    cr_expect_null(oj_session_observe(v, &seen, 5000), "no status yet: wait for tmux to record it");
    seen.dead_unknown_ticks = OJ_SESSION_DEAD_UNKNOWN_TICKS;
    cJSON *u = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(reason_of(u), "exited (tmux recorded no status)");
    cr_expect_eq(status_of(u), -1);
    struct oj_tmux_pane sig = {.session = "s1", .dead = true, .status_known = true,
                               .exit_status = 128 + 9};
    seen = saw(&sig);
    cJSON *d = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(reason_of(d), "killed by signal 9");
    cJSON_Delete(d);
    cJSON_Delete(u);
    cJSON_Delete(v);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

Test(sessions_rules, the_status_file_is_the_commands_own_status)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    struct oj_tmux_pane other = {.session = "s1", .dead = true, .status_known = true,
                                 .exit_status = 129};
    struct oj_tmux_pane live = {.session = "s1"};
    const struct oj_tmux_pane *panes[] = {&unknown, &other, NULL};
    for (int i = 0; i < 3; i++)
        for (int gone = 0; gone < 2; gone++) {
            struct oj_session_seen seen = saw(panes[i]);
            seen.server_gone = gone;
            seen.status_file = 3;
            cJSON *n = oj_session_observe(v, &seen, 5000);
            cr_assert_not_null(n, "pane %d, server gone %d", i, gone);
            cr_expect_eq(status_of(n), 3, "pane %d, server gone %d", i, gone);
            cr_expect_str_eq(reason_of(n), "exited with status 3");
            cJSON_Delete(n);
        }
    /* A status file while the pane still runs: the wrapper is about to exit. */
    struct oj_session_seen seen = saw(&live);
    seen.status_file = 3;
    cJSON *n = oj_session_observe(v, &seen, 5000);
    cr_expect_str_eq(state_of(n), "running");
    cJSON_Delete(n);
    cJSON_Delete(v);
}

/* Issue 9 item 5: a dead record is final. Whatever a later tick sees (a
 * pane dead with no status for any number of ticks, a different status, a
 * status file, a live pane, no pane, no server), nothing changes. */
Test(sessions_rules, dead_is_final_whatever_a_tick_sees)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    cJSON *dead = oj_session_dead(v, 3, "exited with status 3", 2000);
    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    struct oj_tmux_pane other = {.session = "s1", .dead = true, .status_known = true,
                                 .exit_status = 7};
    struct oj_tmux_pane live = {.session = "s1"};
    const struct oj_tmux_pane *panes[] = {&unknown, &other, &live, NULL};
    const int files[] = {-1, 0, 3, 9};
    const int ticks[] = {0, 1, OJ_SESSION_DEAD_UNKNOWN_TICKS, OJ_SESSION_DEAD_UNKNOWN_TICKS + 700};
    for (int p = 0; p < 4; p++)
        for (int f = 0; f < 4; f++)
            for (int t = 0; t < 4; t++)
                for (int gone = 0; gone < 2; gone++) {
                    struct oj_session_seen seen = {.pane = panes[p], .server_gone = gone,
                                                   .status_file = files[f],
                                                   .dead_unknown_ticks = ticks[t]};
                    cr_expect_null(oj_session_observe(dead, &seen, 9000),
                                   "pane %d, file %d, ticks %d, server gone %d changed it", p,
                                   files[f], ticks[t], gone);
                }
    cJSON_Delete(dead);
    cJSON_Delete(v);
}

Test(sessions_rules, what_the_reaper_removes)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    cJSON *dead = oj_session_dead(v, 0, "exited with status 0", 2000);
    struct oj_tmux_pane dead_pane = {.session = "s1", .dead = true, .status_known = true};
    struct oj_tmux_pane live_pane = {.session = "s1"};
    /* A live session's pane: never, drained or not. */
    cr_expect_not(oj_session_reap_now(v, &live_pane, true));
    cr_expect_not(oj_session_reap_now(v, &dead_pane, true), "its end is not recorded yet");
    /* A recorded end: once the log is drained. */
    cr_expect(oj_session_reap_now(dead, &dead_pane, true));
    cr_expect_not(oj_session_reap_now(dead, &dead_pane, false), "output still on its way");
    cr_expect(oj_session_reap_now(dead, &live_pane, false), "a failed kill, finished");
    cr_expect_not(oj_session_reap_now(dead, NULL, true), "nothing left");
    /* No record: only a dead pane. */
    cr_expect(oj_session_reap_now(NULL, &dead_pane, true));
    cr_expect_not(oj_session_reap_now(NULL, &dead_pane, false));
    cr_expect_not(oj_session_reap_now(NULL, &live_pane, true), "someone's agent, unrecorded");
    cJSON_Delete(dead);
    cJSON_Delete(v);
}

Test(sessions_rules, a_log_is_drained_when_published_and_still)
{
    cr_expect(oj_session_log_drained(100, 100, 1));
    cr_expect_not(oj_session_log_drained(100, 100, 0), "it just grew: more may come");
    cr_expect_not(oj_session_log_drained(100, 60, 1), "the watcher is behind");
    cr_expect_not(oj_session_log_drained(100, -1, 1), "the watcher never saw it");
    cr_expect(oj_session_log_drained(0, -1, 1), "an empty or missing log");
    cr_expect(oj_session_log_drained(100, 60, OJ_SESSION_DRAIN_GIVE_UP_TICKS),
              "still for long: the watcher missed events");
}

Test(sessions_rules, archive_takes_old_ended_unreferenced_sessions)
{
    cJSON *v = oj_session_new("w", "/tmp", "c", "/l", 1000);
    cJSON *dead = oj_session_dead(v, 0, "exited with status 0", 5000);
    cr_expect_not(oj_session_archivable(v, 99999, false), "a live session stays");
    cr_expect(oj_session_archivable(dead, 5001, false));
    cr_expect_not(oj_session_archivable(dead, 5000, false), "not older than the cut-off");
    cr_expect_not(oj_session_archivable(dead, 99999, true), "a pipeline still names it");
    cJSON_Delete(dead);
    cJSON_Delete(v);
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
