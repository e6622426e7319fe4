/* The session record as a struct: the pure rules (what a record becomes
 * given what tmux reports, when a pane goes, when an agent is stuck) and the
 * one codec to and from the WAL's JSON, old records included. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sessions.h"
#include "shell.h"

/* A new session's record, as oj session start makes it. */
static struct oj_session fresh(void)
{
    struct oj_session s;
    cr_assert_eq(oj_session_init(&s, "w", "/tmp", "'agent'", "/tmp/x.log", NULL, NULL, 0, 1000),
                 0);
    return s;
}

static struct oj_session dead_at(int status, const char *reason, int64_t when)
{
    struct oj_session s = fresh();
    oj_session_mark_dead(&s, status, reason, when);
    return s;
}

/* What a tick saw: a pane (or none) and nothing else. */
static struct oj_session_seen saw(const struct oj_tmux_pane *pane)
{
    return (struct oj_session_seen){.pane = pane, .status_file = -1};
}

/* What a live record becomes after one observation (s is left as it was). */
static struct oj_session after(const struct oj_session *s, const struct oj_session_seen *seen,
                               int64_t now, bool *changed)
{
    struct oj_session n;
    cr_assert_eq(oj_session_copy(&n, s), 0);
    *changed = oj_session_observe(&n, seen, now);
    return n;
}

Test(sessions_rules, a_new_session_starts_then_runs)
{
    struct oj_session s = fresh();
    cr_expect_eq(s.state, OJ_SESSION_STARTING);
    cr_expect_str_eq(s.pipeline_id, "", "a standalone session");
    struct oj_tmux_pane live = {.session = "s1", .pid = 42};
    struct oj_session_seen seen = saw(&live);
    cr_expect(oj_session_observe(&s, &seen, 2000));
    cr_expect_eq(s.state, OJ_SESSION_RUNNING);
    cr_expect_not(oj_session_observe(&s, &seen, 3000), "running and alive: no change");
    cr_expect_eq(s.state, OJ_SESSION_RUNNING);
    oj_session_clear(&s);
}

Test(sessions_rules, deaths_and_their_reasons)
{
    struct oj_session v = fresh();
    bool changed;
    struct oj_tmux_pane dead = {.session = "s1", .dead = true, .status_known = true,
                                .exit_status = 3};
    struct oj_session_seen seen = saw(&dead);
    struct oj_session a = after(&v, &seen, 5000, &changed);
    cr_expect(changed);
    cr_expect_eq(a.state, OJ_SESSION_DEAD);
    cr_expect_eq(a.exit_status, 3);
    cr_expect_str_eq(a.reason, "exited with status 3");
    cr_expect_eq(a.ended_at_ms, 5000);

    seen = saw(NULL);
    struct oj_session b = after(&v, &seen, 5000, &changed);
    cr_expect_str_eq(b.reason, "vanished from tmux");
    seen.server_gone = true;
    struct oj_session c = after(&v, &seen, 5000, &changed);
    cr_expect_str_eq(c.reason, "the tmux server is gone");
    cr_expect_eq(c.state, OJ_SESSION_DEAD);

    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    seen = saw(&unknown);
    seen.dead_unknown_ticks = 1;
    struct oj_session w = after(&v, &seen, 5000, &changed);
    cr_expect_not(changed, "no status yet: wait for tmux to record it");
    cr_expect_eq(w.state, OJ_SESSION_STARTING);
    seen.dead_unknown_ticks = OJ_SESSION_DEAD_UNKNOWN_TICKS;
    struct oj_session u = after(&v, &seen, 5000, &changed);
    cr_expect_str_eq(u.reason, "exited (tmux recorded no status)");
    cr_expect_eq(u.exit_status, -1);
    struct oj_tmux_pane sig = {.session = "s1", .dead = true, .status_known = true,
                               .exit_status = 128 + 9};
    seen = saw(&sig);
    struct oj_session d = after(&v, &seen, 5000, &changed);
    cr_expect_str_eq(d.reason, "killed by signal 9");
    struct oj_session *all[] = {&v, &a, &b, &c, &w, &u, &d};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        oj_session_clear(all[i]);
}

Test(sessions_rules, the_status_file_is_the_commands_own_status)
{
    struct oj_session v = fresh();
    struct oj_tmux_pane unknown = {.session = "s1", .dead = true};
    struct oj_tmux_pane other = {.session = "s1", .dead = true, .status_known = true,
                                 .exit_status = 129};
    struct oj_tmux_pane live = {.session = "s1"};
    const struct oj_tmux_pane *panes[] = {&unknown, &other, NULL};
    bool changed;
    for (int i = 0; i < 3; i++)
        for (int gone = 0; gone < 2; gone++) {
            struct oj_session_seen seen = saw(panes[i]);
            seen.server_gone = gone;
            seen.status_file = 3;
            struct oj_session n = after(&v, &seen, 5000, &changed);
            cr_assert(changed, "pane %d, server gone %d", i, gone);
            cr_expect_eq(n.exit_status, 3, "pane %d, server gone %d", i, gone);
            cr_expect_str_eq(n.reason, "exited with status 3");
            oj_session_clear(&n);
        }
    /* A status file while the pane still runs: the wrapper is about to exit. */
    struct oj_session_seen seen = saw(&live);
    seen.status_file = 3;
    struct oj_session n = after(&v, &seen, 5000, &changed);
    cr_expect_eq(n.state, OJ_SESSION_RUNNING);
    oj_session_clear(&n);
    oj_session_clear(&v);
}

/* Issue 9 item 5: a dead record is final. Whatever a later tick sees (a
 * pane dead with no status for any number of ticks, a different status, a
 * status file, a live pane, no pane, no server), nothing changes. */
Test(sessions_rules, dead_is_final_whatever_a_tick_sees)
{
    struct oj_session dead = dead_at(3, "exited with status 3", 2000);
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
                    cr_expect_not(oj_session_observe(&dead, &seen, 9000),
                                  "pane %d, file %d, ticks %d, server gone %d changed it", p,
                                  files[f], ticks[t], gone);
                }
    cr_expect_eq(dead.state, OJ_SESSION_DEAD);
    cr_expect_eq(dead.exit_status, 3);
    cr_expect_eq(dead.ended_at_ms, 2000);
    cr_expect_str_eq(dead.reason, "exited with status 3");
    oj_session_clear(&dead);
}

Test(sessions_rules, what_the_reaper_removes)
{
    struct oj_session v = fresh();
    struct oj_session dead = dead_at(0, "exited with status 0", 2000);
    struct oj_tmux_pane dead_pane = {.session = "s1", .dead = true, .status_known = true};
    struct oj_tmux_pane live_pane = {.session = "s1"};
    /* A live session's pane: never, drained or not. */
    cr_expect_not(oj_session_reap_now(&v, &live_pane, true));
    cr_expect_not(oj_session_reap_now(&v, &dead_pane, true), "its end is not recorded yet");
    /* A recorded end: once the log is drained. */
    cr_expect(oj_session_reap_now(&dead, &dead_pane, true));
    cr_expect_not(oj_session_reap_now(&dead, &dead_pane, false), "output still on its way");
    cr_expect(oj_session_reap_now(&dead, &live_pane, false), "a failed kill, finished");
    cr_expect_not(oj_session_reap_now(&dead, NULL, true), "nothing left");
    /* No record: only a dead pane. */
    cr_expect(oj_session_reap_now(NULL, &dead_pane, true));
    cr_expect_not(oj_session_reap_now(NULL, &dead_pane, false));
    cr_expect_not(oj_session_reap_now(NULL, &live_pane, true), "someone's agent, unrecorded");
    oj_session_clear(&dead);
    oj_session_clear(&v);
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
    struct oj_session v = fresh();
    struct oj_session dead = dead_at(0, "exited with status 0", 5000);
    cr_expect_not(oj_session_archivable(&v, 99999, false), "a live session stays");
    cr_expect(oj_session_archivable(&dead, 5001, false));
    cr_expect_not(oj_session_archivable(&dead, 5000, false), "not older than the cut-off");
    cr_expect_not(oj_session_archivable(&dead, 99999, true), "a pipeline still names it");
    /* A record from before ended_at_ms: its start (1000) is the bound. */
    dead.ended_at_ms = 0;
    cr_expect(oj_session_archivable(&dead, 1001, false));
    cr_expect_not(oj_session_archivable(&dead, 1000, false));
    oj_session_clear(&dead);
    oj_session_clear(&v);
}

Test(sessions_rules, idle_time_and_the_state_shown)
{
    struct oj_session s = fresh(); /* started at 1000 */
    s.state = OJ_SESSION_RUNNING;
    cr_expect_eq(oj_session_last_output(&s, 0), 1000, "no log: its start");
    cr_expect_eq(oj_session_last_output(&s, 4000), 4000, "the log's last write");
    cr_expect_eq(oj_session_last_output(&s, 500), 1000, "a log older than the session");
    cr_expect_eq(oj_session_idle_ms(&s, 4000, 9000), 5000);
    cr_expect_eq(oj_session_idle_ms(&s, 9500, 9000), 0, "output after now: not idle");
    cr_expect_str_eq(oj_session_shown_state(&s, 5000, false), "running", "no idle timeout");
    s.idle_timeout_ms = 3000;
    cr_expect_str_eq(oj_session_shown_state(&s, 3000, false), "running",
                     "quiet for exactly the timeout");
    cr_expect_str_eq(oj_session_shown_state(&s, 3001, false), "idle");
    s.state = OJ_SESSION_STARTING;
    cr_expect_str_eq(oj_session_shown_state(&s, 9000, false), "starting");
    /* Ended: idle counts up to its end, then stops. */
    oj_session_mark_dead(&s, 0, "exited with status 0", 6000);
    cr_expect_eq(oj_session_idle_ms(&s, 4000, 99000), 2000);
    cr_expect_eq(oj_session_idle_ms(&s, 7000, 99000), 92000, "output after its recorded end");
    cr_expect_str_eq(oj_session_shown_state(&s, 92000, false), "dead");
    cr_expect_str_eq(oj_session_shown_state(&s, 92000, true), "dead", "dead is final");
    oj_session_clear(&s);
}

Test(sessions_rules, needs_input_comes_before_idle)
{
    struct oj_session s = fresh();
    s.state = OJ_SESSION_RUNNING;
    s.idle_timeout_ms = 3000;
    cr_expect_str_eq(oj_session_shown_state(&s, 10, true), "needs_input");
    cr_expect_str_eq(oj_session_shown_state(&s, 9000, true), "needs_input", "a prompt is quiet");
    cr_expect_str_eq(oj_session_shown_state(&s, 9000, false), "idle");
    s.state = OJ_SESSION_STARTING;
    cr_expect_str_eq(oj_session_shown_state(&s, 10, true), "starting");
    oj_session_clear(&s);
}

Test(sessions_rules, an_agents_prompt_patterns_are_journaled_only_when_set)
{
    struct oj_session s = fresh();
    cJSON *v = oj_session_to_json(&s);
    cr_expect_null(cJSON_GetObjectItem(v, "needs_input"), "records stay as they were");
    cJSON_Delete(v);
    s.needs_input = strdup("approve?\n/^ok$/");
    v = oj_session_to_json(&s);
    struct oj_session back;
    cr_assert_eq(oj_session_from_json(v, &back), 0);
    cr_expect_str_eq(back.needs_input, "approve?\n/^ok$/");
    struct oj_session copy;
    cr_assert_eq(oj_session_copy(&copy, &back), 0);
    cr_expect_str_eq(copy.needs_input, "approve?\n/^ok$/");
    cJSON_Delete(v);
    oj_session_clear(&s);
    oj_session_clear(&back);
    oj_session_clear(&copy);
}

Test(sessions_rules, a_name_from_the_command_and_which_names_are_good)
{
    char name[80];
    oj_session_default_name("/usr/bin/claude", name, sizeof name);
    cr_expect_str_eq(name, "claude");
    oj_session_default_name("my agent+v2", name, sizeof name);
    cr_expect_str_eq(name, "my-agent-v2");
    oj_session_default_name("sed", name, sizeof name);
    cr_expect_str_eq(name, "sed-cmd", "`-- sed` is a name, never an id prefix");
    oj_session_default_name("/", name, sizeof name);
    cr_expect_str_eq(name, "");
    cr_expect_not(oj_session_name_ok(name), "an empty name is refused");
    char longest[100];
    memset(longest, 'a', 99);
    longest[99] = '\0';
    oj_session_default_name(longest, name, sizeof name);
    cr_expect_eq(strlen(name), 64);
    cr_expect(oj_session_name_ok(name));
    cr_expect_not(oj_session_name_ok("a/b"));
    cr_expect(oj_session_name_ok("w.1_x-y"));
    char over[66];
    memset(over, 'b', 65);
    over[65] = '\0';
    cr_expect_not(oj_session_name_ok(over), "at most 64");
}

/* ---- the codec ---------------------------------------------------------------- */

/* Records exactly as the code before the struct journaled them (from a real
 * WAL): a start, a death (whose members the old code moved to the end), and
 * a live session checkpointed by a graceful stop. */
static const char OLD_STARTING[] =
    "{\"name\":\"live\",\"cwd\":\"/tmp/p\",\"command\":\"'sleep' '100'\",\"pipeline_id\":\"\","
    "\"phase\":\"\",\"state\":\"starting\",\"started_at_ms\":1796647257483,\"ended_at_ms\":0,"
    "\"exit_status\":0,\"reason\":\"\",\"log\":\"/tmp/p/.oj/logs/sessions/s77dc40.log\","
    "\"idle_timeout_ms\":300000}";
static const char OLD_DEAD[] =
    "{\"name\":\"p1a2b3c-work\",\"cwd\":\"/tmp/p/.oj/workspaces/w\",\"command\":\"sh -c 'exit 3'\","
    "\"pipeline_id\":\"p1a2b3c\",\"phase\":\"work\",\"started_at_ms\":1796647257498,"
    "\"log\":\"/tmp/p/.oj/logs/sessions/s496f95.log\",\"idle_timeout_ms\":0,\"state\":\"dead\","
    "\"ended_at_ms\":1796647258456,\"exit_status\":-1,\"reason\":\"killed by the operator\"}";
static const char OLD_CHECKPOINTED[] =
    "{\"name\":\"live\",\"cwd\":\"/tmp/p\",\"command\":\"'sleep' '100'\",\"pipeline_id\":\"\","
    "\"phase\":\"\",\"state\":\"running\",\"started_at_ms\":1796647257483,\"ended_at_ms\":0,"
    "\"exit_status\":0,\"reason\":\"\",\"log\":\"/tmp/p/.oj/logs/sessions/s77dc40.log\","
    "\"idle_timeout_ms\":300000,\"log_offset\":4096,\"checkpoint_ms\":1796647260805}";

static struct oj_session decode(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    cr_assert_not_null(v);
    struct oj_session s;
    cr_assert_eq(oj_session_from_json(v, &s), 0);
    cJSON_Delete(v);
    return s;
}

/* Encoding s gives back the same members with the same values as text. */
static void expect_same_record(const struct oj_session *s, const char *text)
{
    cJSON *want = cJSON_Parse(text), *got = oj_session_to_json(s);
    cr_assert_not_null(got);
    char *g = cJSON_PrintUnformatted(got);
    cr_expect(cJSON_Compare(want, got, true), "wrote %s\nfor   %s", g, text);
    free(g);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

Test(sessions_codec, reads_what_the_old_code_wrote_and_writes_it_back_the_same)
{
    struct oj_session a = decode(OLD_STARTING);
    cr_expect_str_eq(a.name, "live");
    cr_expect_str_eq(a.cwd, "/tmp/p");
    cr_expect_str_eq(a.command, "'sleep' '100'");
    cr_expect_str_eq(a.pipeline_id, "");
    cr_expect_eq(a.state, OJ_SESSION_STARTING);
    cr_expect_eq(a.started_at_ms, 1796647257483);
    cr_expect_eq(a.idle_timeout_ms, 300000);
    cr_expect_eq(a.checkpoint_ms, 0);
    expect_same_record(&a, OLD_STARTING);

    struct oj_session b = decode(OLD_DEAD);
    cr_expect_eq(b.state, OJ_SESSION_DEAD);
    cr_expect_str_eq(b.pipeline_id, "p1a2b3c");
    cr_expect_str_eq(b.phase, "work");
    cr_expect_eq(b.exit_status, -1);
    cr_expect_eq(b.ended_at_ms, 1796647258456);
    cr_expect_str_eq(b.reason, "killed by the operator");
    expect_same_record(&b, OLD_DEAD);

    struct oj_session c = decode(OLD_CHECKPOINTED);
    cr_expect_eq(c.state, OJ_SESSION_RUNNING);
    cr_expect_eq(c.log_offset, 4096);
    cr_expect_eq(c.checkpoint_ms, 1796647260805);
    expect_same_record(&c, OLD_CHECKPOINTED);
    /* What happens to it later keeps the checkpoint, as before. */
    oj_session_mark_dead(&c, 0, "exited with status 0", 1796647270000);
    cJSON *dead = oj_session_to_json(&c);
    cr_expect_eq(cJSON_GetObjectItem(dead, "checkpoint_ms")->valuedouble, 1796647260805.0);
    cr_expect_str_eq(cJSON_GetObjectItem(dead, "state")->valuestring, "dead");
    cJSON_Delete(dead);
    oj_session_clear(&a);
    oj_session_clear(&b);
    oj_session_clear(&c);
}

Test(sessions_codec, a_new_record_is_written_as_it_always_was)
{
    struct oj_session s;
    cr_assert_eq(oj_session_init(&s, "p1-work", "/w", "agent --go", "/l/s1.log", "p1", "work",
                                 60000, 1234),
                 0);
    cJSON *v = oj_session_to_json(&s);
    char *text = cJSON_PrintUnformatted(v);
    /* Member names, values and order byte for byte as oj_session_new wrote them. */
    cr_expect_str_eq(text, "{\"name\":\"p1-work\",\"cwd\":\"/w\",\"command\":\"agent --go\","
                           "\"pipeline_id\":\"p1\",\"phase\":\"work\",\"state\":\"starting\","
                           "\"started_at_ms\":1234,\"ended_at_ms\":0,\"exit_status\":0,"
                           "\"reason\":\"\",\"log\":\"/l/s1.log\",\"idle_timeout_ms\":60000}");
    free(text);
    cJSON_Delete(v);
    oj_session_clear(&s);
}

Test(sessions_codec, every_state_and_member_survives_a_round_trip)
{
    const enum oj_session_state states[] = {OJ_SESSION_STARTING, OJ_SESSION_RUNNING,
                                            OJ_SESSION_DEAD};
    for (int i = 0; i < 3; i++) {
        struct oj_session s;
        cr_assert_eq(oj_session_init(&s, "n", "/c", "cmd 'x'", "/l", "p9", "ph", 7, 11), 0);
        s.state = states[i];
        s.ended_at_ms = 13;
        s.exit_status = 128 + 15;
        oj_session_mark_dead(&s, 143, "killed by signal 15", 13);
        s.state = states[i];
        s.log_offset = 17;
        s.checkpoint_ms = 19;
        cJSON *v = oj_session_to_json(&s);
        struct oj_session back;
        cr_assert_eq(oj_session_from_json(v, &back), 0);
        cr_expect_eq(back.state, states[i], "%s", oj_session_state_name(states[i]));
        cr_expect_eq(oj_session_active(v), states[i] != OJ_SESSION_DEAD);
        cr_expect_str_eq(back.name, "n");
        cr_expect_str_eq(back.cwd, "/c");
        cr_expect_str_eq(back.command, "cmd 'x'");
        cr_expect_str_eq(back.log, "/l");
        cr_expect_str_eq(back.pipeline_id, "p9");
        cr_expect_str_eq(back.phase, "ph");
        cr_expect_str_eq(back.reason, "killed by signal 15");
        cr_expect_eq(back.idle_timeout_ms, 7);
        cr_expect_eq(back.started_at_ms, 11);
        cr_expect_eq(back.ended_at_ms, 13);
        cr_expect_eq(back.exit_status, 143);
        cr_expect_eq(back.log_offset, 17);
        cr_expect_eq(back.checkpoint_ms, 19);
        /* A copy is a record of its own. */
        struct oj_session copy;
        cr_assert_eq(oj_session_copy(&copy, &back), 0);
        oj_session_clear(&back);
        cr_expect_str_eq(copy.reason, "killed by signal 15");
        cJSON *again = oj_session_to_json(&copy);
        cr_expect(cJSON_Compare(v, again, true));
        cJSON_Delete(again);
        oj_session_clear(&copy);
        cJSON_Delete(v);
        oj_session_clear(&s);
    }
}

Test(sessions_codec, missing_or_odd_members_read_as_empty_and_zero)
{
    struct oj_session s = decode("{}");
    cr_expect_str_eq(s.name, "");
    cr_expect_str_eq(s.reason, "");
    cr_expect_str_eq(s.log, "");
    cr_expect_eq(s.started_at_ms, 0);
    cr_expect_eq(s.exit_status, 0);
    cr_expect_eq(s.state, OJ_SESSION_STARTING, "no state is not dead, as before the struct");
    oj_session_clear(&s);
    s = decode("{\"state\":\"idle\",\"name\":7,\"started_at_ms\":\"soon\","
               "\"ended_at_ms\":1e300,\"exit_status\":1e12}");
    cr_expect_eq(s.state, OJ_SESSION_STARTING, "an unknown state is not dead");
    cr_expect_str_eq(s.name, "", "a number where a string belongs");
    cr_expect_eq(s.started_at_ms, 0, "a string where a number belongs");
    cr_expect_eq(s.ended_at_ms, 9007199254740992LL, "clamped to 2^53");
    cr_expect_eq(s.exit_status, -1, "no int holds it: unknown");
    oj_session_clear(&s);
    cr_expect_eq(oj_session_from_json(NULL, &s), -1);
    cJSON *arr = cJSON_CreateArray();
    cr_expect_eq(oj_session_from_json(arr, &s), -1);
    cr_expect_str_eq(s.name, "", "a failed read leaves an empty record");
    cJSON_Delete(arr);
    oj_session_clear(&s);
    /* oj_session_active on JSON goes through the same reading. */
    cJSON *v = cJSON_Parse("{\"state\":\"dead\"}");
    cr_expect_not(oj_session_active(v));
    cJSON_Delete(v);
    v = cJSON_Parse("{\"state\":\"Dead\"}");
    cr_expect(oj_session_active(v), "state names are exact");
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
