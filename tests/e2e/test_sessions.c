/* Sessions end to end: the real daemon running the fake agent in its private
 * tmux server (a socket in the test's own directory). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include "../lib/harness.h"
#include "clock.h"
#include "snapshot.h"
#include "state.h"
#include "wal.h"

static struct oj_env e;
static char agent[PATH_MAX];

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_not_null(realpath("tests/agents/fake-agent.sh", agent));
    cr_assert_eq(env_start_daemon(&e), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* Starts the fake agent; returns its id (static buffer). */
static const char *start_agent(const char *name)
{
    static char id[32];
    cr_assert_eq(env_start_agent(&e, name, id, sizeof id), 0);
    return id;
}

struct screen_wait {
    const char *id, *text;
};

static bool screen_has(void *arg)
{
    struct screen_wait *w = arg;
    struct oj_out o = OJ(&e, "session", "capture", w->id, "--tail", "50");
    bool has = o.code == 0 && strstr(o.out, w->text) != NULL;
    oj_out_free(&o);
    return has;
}

static void expect_screen(const char *id, const char *text)
{
    struct screen_wait w = {id, text};
    if (!wait_until(screen_has, &w, 10000)) {
        struct oj_out o = OJ(&e, "session", "capture", id);
        cr_assert_fail("'%s' never appeared on %s; screen:\n%s%s", text, id, o.out, o.err);
    }
}

struct logged {
    const char *path, *text;
};

static bool log_has(void *arg)
{
    struct logged *w = arg;
    char *text = read_file(w->path);
    bool yes = text && strstr(text, w->text) != NULL;
    free(text);
    return yes;
}

struct state_wait {
    const char *id, *state;
};

static cJSON *show(const char *id)
{
    struct oj_out o = OJ(&e, "session", "show", id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    oj_out_free(&o);
    return j;
}

static bool in_state(void *arg)
{
    struct state_wait *w = arg;
    cJSON *j = show(w->id);
    bool ok = j && strcmp(cJSON_GetObjectItem(j, "state")->valuestring, w->state) == 0;
    cJSON_Delete(j);
    return ok;
}

static void expect_state(const char *id, const char *state)
{
    struct state_wait w = {id, state};
    if (wait_until(in_state, &w, 10000))
        return;
    /* Say what tmux and the daemon saw, to make a failure readable. */
    char sock[PATH_MAX], panes[4096] = "", logpath[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", e.dir);
    char *lp[] = {"tmux", "-S", sock, "list-panes", "-a", "-F",
                  "#{session_name} dead=#{pane_dead} status=#{pane_dead_status}", NULL};
    run_prog("/", 5000, panes, sizeof panes, lp);
    snprintf(logpath, sizeof logpath, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(logpath);
    size_t n = log ? strlen(log) : 0;
    cr_assert_fail("session %s never became %s\ntmux: %s\nlog tail:\n%s", id, state, panes,
                   log ? log + (n > 1500 ? n - 1500 : 0) : "");
    free(log);
}

Test(sessions, start_list_send_nudge_kill, .init = setup, .fini = teardown)
{
    const char *id = start_agent("worker");
    expect_screen(id, "fake agent ready (task=worker phase=)");
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect(strstr(l.out, id) && strstr(l.out, "worker") && strstr(l.out, "running"), "%s",
              l.out);

    struct oj_out s = OJ(&e, "session", "send", "worker", "hello there");
    cr_expect_eq(s.code, 0, "%s", s.err);
    expect_screen(id, "got: hello there");
    struct oj_out n = OJ(&e, "session", "nudge", id, "wake up");
    cr_expect_eq(n.code, 0, "%s", n.err);
    expect_screen(id, "got: wake up");

    struct oj_out k = OJ(&e, "session", "kill", id);
    cr_expect_eq(k.code, 0, "%s", k.err);
    cJSON *j = show(id);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "dead");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "killed by the operator");
    cJSON_Delete(j);
    struct oj_out again = OJ(&e, "session", "send", id, "anyone?");
    cr_expect_eq(again.code, 5, "sending to a dead session is refused: %s", again.err);
    oj_out_free(&l);
    oj_out_free(&s);
    oj_out_free(&n);
    oj_out_free(&k);
    oj_out_free(&again);
}

Test(sessions, environment_and_output_log, .init = setup, .fini = teardown)
{
    /* A daemon started from inside the user's tmux must not hand that on. */
    struct oj_out stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    char *env[] = {"TMUX=/tmp/users-own-tmux,123,0", "TMUX_PANE=%9", NULL};
    struct oj_out st = oj_run_in(&e, NULL, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(st.code, 0, "%s", st.err);
    oj_out_free(&st);

    const char *id = start_agent("envy");
    expect_screen(id, "ready");
    struct oj_out s = OJ(&e, "session", "send", id, "env");
    cr_assert_eq(s.code, 0);
    char want[256];
    snprintf(want, sizeof want, "OJ_SESSION_ID=%s TMUX=%s/.oj/tmux.sock,", id, e.dir);
    expect_screen(id, want); /* tmux's own TMUX for its pane, never the user's */
    expect_screen(id, "OTTER_TASK=envy");
    snprintf(want, sizeof want, "OTTER_WORKSPACE=%s", e.dir);
    expect_screen(id, want);

    /* A burst: every line reaches the log file, in order. */
    struct oj_out b = OJ(&e, "session", "send", id, "burst 2000");
    cr_assert_eq(b.code, 0);
    expect_screen(id, "line 2000");
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", e.dir, id);
    /* the log follows the screen through tmux's pipe, a moment behind */
    struct logged last = {log, "line 2000\r\n"};
    cr_expect(wait_until(log_has, &last, 10000), "the last line never reached the log");
    char *text = read_file(log);
    cr_assert_not_null(text, "no log %s", log);
    cr_expect(strstr(text, "fake agent ready") != NULL, "the first line is in the log");
    const char *p = text;
    for (int i = 1; i <= 2000; i++) {
        char line[32];
        snprintf(line, sizeof line, "line %d\r\n", i);
        const char *at = strstr(p, line);
        if (at == NULL) {
            cr_expect_fail("line %d missing or out of order in the log", i);
            break;
        }
        p = at + strlen(line);
    }
    free(text);
    oj_out_free(&s);
    oj_out_free(&b);
}

Test(sessions, exit_status_is_recorded, .init = setup, .fini = teardown)
{
    const char *id = start_agent("quitter");
    expect_screen(id, "ready");
    struct oj_out s = OJ(&e, "session", "send", id, "exit 7");
    cr_assert_eq(s.code, 0);
    expect_state(id, "dead");
    cJSON *j = show(id);
    cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, 7);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "exited with status 7");
    cr_expect_gt(cJSON_GetObjectItem(j, "ended_at_ms")->valuedouble, 0);
    cJSON_Delete(j);
    /* remain-on-exit: the last screen is still readable. */
    expect_screen(id, "exiting with 7");
    oj_out_free(&s);
}

Test(sessions, the_session_limit_refuses_a_start, .init = setup, .fini = teardown)
{
    struct oj_out stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    char *env[] = {"OJ_MAX_SESSIONS=2", NULL};
    struct oj_out st = oj_run_in(&e, NULL, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(st.code, 0, "%s", st.err);
    start_agent("one");
    start_agent("two");
    struct oj_out third = OJ(&e, "session", "start", "--", agent);
    cr_expect_eq(third.code, 5);
    cr_expect(strstr(third.err, "session limit") && strstr(third.err, "OJ_MAX_SESSIONS=2"), "%s",
              third.err);
    struct oj_out status = OJ(&e, "status");
    cr_expect(strstr(status.out, "2 active / 2 max") != NULL, "%s", status.out);
    oj_out_free(&st);
    oj_out_free(&third);
    oj_out_free(&status);
}

static bool daemon_gone(void *arg)
{
    (void)arg;
    return env_daemon_pid(&e) == 0;
}

Test(sessions, re_adopted_after_a_crash_and_a_stop, .init = setup, .fini = teardown)
{
    const char *id = start_agent("survivor");
    expect_screen(id, "ready");
    kill(env_daemon_pid(&e), SIGKILL);
    cr_assert(wait_until(daemon_gone, NULL, 10000));
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    expect_state(id, "running");
    struct oj_out s = OJ(&e, "session", "send", id, "still here?");
    cr_expect_eq(s.code, 0, "%s", s.err);
    expect_screen(id, "got: still here?");

    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0);
    /* The stop checkpointed the session: its output position is on disk. */
    char snaps[PATH_MAX], newest[PATH_MAX + 300] = "";
    snprintf(snaps, sizeof snaps, "%s/.oj/snapshots", e.dir);
    DIR *dir = opendir(snaps);
    cr_assert_not_null(dir);
    struct dirent *de;
    while ((de = readdir(dir)))
        if (de->d_name[0] == '0' && (newest[0] == '\0' || strcmp(de->d_name, strrchr(newest, '/') + 1) > 0))
            snprintf(newest, sizeof newest, "%s/%s", snaps, de->d_name);
    closedir(dir);
    struct oj_state *st = oj_state_new();
    char err[256];
    cr_assert_eq(oj_snapshot_load(newest, st, err, sizeof err), 0, "%s", err);
    const cJSON *rec = oj_state_get(st, "session", id);
    cr_assert_not_null(rec);
    cr_expect_gt(oj_json_int(rec, "log_offset"), 0, "no output position checkpointed");
    cr_expect_gt(oj_json_int(rec, "checkpoint_ms"), 0);
    oj_state_free(st);
    struct oj_out b = OJ(&e, "daemon", "start");
    cr_assert_eq(b.code, 0);
    expect_state(id, "running");
    struct oj_out s2 = OJ(&e, "session", "send", id, "and now?");
    cr_expect_eq(s2.code, 0, "%s", s2.err);
    expect_screen(id, "got: and now?");
    oj_out_free(&a);
    oj_out_free(&s);
    oj_out_free(&stop);
    oj_out_free(&b);
    oj_out_free(&s2);
}

Test(sessions, the_tmux_server_killed_underneath, .init = setup, .fini = teardown)
{
    const char *id = start_agent("doomed");
    expect_screen(id, "ready");
    char sock[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", e.dir);
    char *kill_tmux[] = {"tmux", "-S", sock, "kill-server", NULL};
    cr_assert_eq(run_prog("/", 10000, NULL, 0, kill_tmux), 0);
    expect_state(id, "dead");
    cJSON *j = show(id);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "the tmux server is gone");
    cJSON_Delete(j);
    struct oj_out st = OJ(&e, "status");
    cr_expect_eq(st.code, 0, "the daemon keeps serving: %s", st.err);
    /* And a new session starts a new server. */
    const char *again = start_agent("phoenix");
    expect_screen(again, "ready");
    oj_out_free(&st);
}

Test(sessions, bad_requests, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "session", "capture", "nope");
    cr_expect_eq(a.code, 4, "%s", a.err);
    cr_expect(strstr(a.err, "no session 'nope'") != NULL, "%s", a.err);
    struct oj_out b = OJ(&e, "session", "start", "--cwd", "/nonexistent", "--", "true");
    cr_expect_eq(b.code, 2, "%s", b.err);
    struct oj_out c = OJ(&e, "session", "start");
    cr_expect_eq(c.code, 2, "no command: %s", c.err);
    start_agent("a1");
    start_agent("a2");
    struct oj_out d = OJ(&e, "session", "show", "s");
    cr_expect_eq(d.code, 2, "an ambiguous prefix: %s", d.err);
    cr_expect(strstr(d.err, "matches 2 sessions") != NULL, "%s", d.err);
    oj_out_free(&a);
    oj_out_free(&b);
    oj_out_free(&c);
    oj_out_free(&d);
}

Test(sessions, hostile_arguments_are_just_text, .init = setup, .fini = teardown)
{
    char evil[600], marker[200];
    snprintf(marker, sizeof marker, "%s/pwned", e.dir);
    snprintf(evil, sizeof evil, "x\"; touch %s; \"'$(touch %s)'", marker, marker);
    struct oj_out o = OJ(&e, "session", "start", "--json", "--", "printf", "[%s]\\n", evil);
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    char id[32];
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(j, "id")->valuestring);
    cJSON_Delete(j);
    expect_state(id, "dead");
    char want[620], log[PATH_MAX];
    snprintf(want, sizeof want, "[%s]", evil);
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", e.dir, id);
    /* The pane's output reaches the log through tmux's pipe a moment after
     * tmux reports the pane dead. */
    struct logged w = {log, want};
    if (!wait_until(log_has, &w, 5000)) {
        char *text = read_file(log);
        cr_expect_fail("printed literally: %s", text ? text : "(no log)");
        free(text);
    }
    cr_expect_neq(access(marker, F_OK), 0, "an argument was run as shell code");
    oj_out_free(&o);
}

struct log_count {
    const char *text;
    int want;
};

static int count_in_log(const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(path);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, text)); p++)
        n++;
    free(log);
    return n;
}

static bool log_reaches(void *arg)
{
    struct log_count *c = arg;
    return count_in_log(c->text) >= c->want;
}

Test(sessions, idle_detection_stuck_events_and_the_nudge_pause, .init = setup, .fini = teardown,
     .timeout = 60)
{
    struct oj_out stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    char *env[] = {"OJ_NUDGE_PAUSE=1500ms", NULL};
    struct oj_out st = oj_run_in(&e, NULL, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(st.code, 0, "%s", st.err);
    oj_out_free(&st);

    /* A session that never says anything. */
    struct oj_out o = OJ(&e, "session", "start", "--name", "mute", "--idle-timeout", "300ms",
                         "--json", "--", "sleep", "1000");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    char id[32], stuck[64];
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(j, "id")->valuestring);
    cJSON_Delete(j);
    oj_out_free(&o);
    snprintf(stuck, sizeof stuck, "sessions: %s is stuck", id);

    expect_state(id, "idle");
    struct log_count one = {stuck, 1}, two = {stuck, 2};
    cr_assert(wait_until(log_reaches, &one, 10000), "no stuck event");
    /* One quiet spell raises it once. */
    cr_expect_not(wait_until(log_reaches, &two, 1000), "raised twice in one quiet spell");

    /* A nudge holds idle checks off for the pause, then it is stuck again. */
    struct oj_out n = OJ(&e, "session", "nudge", id);
    cr_assert_eq(n.code, 0, "%s", n.err);
    oj_out_free(&n);
    cr_expect_not(wait_until(log_reaches, &two, 1000), "stuck again inside the nudge pause");
    cr_expect(wait_until(log_reaches, &two, 10000), "not stuck again after the pause");

    /* Output ends the idle state. */
    struct oj_out t = OJ(&e, "session", "start", "--name", "talker", "--idle-timeout", "300ms",
                         "--", agent);
    cr_assert_eq(t.code, 0, "%s", t.err);
    oj_out_free(&t);
    expect_state("talker", "idle");
    struct oj_out s = OJ(&e, "session", "send", "talker", "I am back");
    cr_assert_eq(s.code, 0);
    oj_out_free(&s);
    expect_state("talker", "running");
}

static void send_line_to(const char *id, const char *text)
{
    struct oj_out o = OJ(&e, "session", "send", id, text);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

Test(sessions, interrupt_sends_ctrl_c, .init = setup, .fini = teardown)
{
    const char *id = start_agent("busy");
    expect_screen(id, "ready");
    struct oj_out o = OJ(&e, "session", "send", id, "--interrupt");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "Ctrl-C") != NULL, "%s", o.out);
    expect_screen(id, "interrupted (Ctrl-C)");
    oj_out_free(&o);
    /* The agent took it like an agent cancelling a step: still there. */
    send_line_to(id, "still there?");
    expect_screen(id, "got: still there?");
}

Test(sessions, a_session_gone_while_the_daemon_was_down_is_marked_dead, .init = setup,
     .fini = teardown)
{
    const char *id = start_agent("ghost");
    expect_screen(id, "ready");
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0);
    char sock[PATH_MAX], target[64];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", e.dir);
    snprintf(target, sizeof target, "=%s", id);
    char *kill_session[] = {"tmux", "-S", sock, "kill-session", "-t", target, NULL};
    cr_assert_eq(run_prog("/", 10000, NULL, 0, kill_session), 0);
    /* Another session keeps the tmux server alive: only this one vanished. */
    struct oj_out start = OJ(&e, "daemon", "start");
    cr_assert_eq(start.code, 0);
    expect_state(id, "dead");
    cJSON *j = show(id);
    cr_expect(strcmp(cJSON_GetObjectItem(j, "reason")->valuestring, "vanished from tmux") == 0 ||
                  strcmp(cJSON_GetObjectItem(j, "reason")->valuestring,
                         "the tmux server is gone") == 0,
              "reason: %s", cJSON_GetObjectItem(j, "reason")->valuestring);
    cJSON_Delete(j);
    oj_out_free(&stop);
    oj_out_free(&start);
}

/* A session's name can no longer be taken for an id: names shaped like ids
 * (or id prefixes) are refused with the rule, and a name derived from the
 * command is never one. */
Test(sessions, names_shaped_like_ids_are_refused, .init = setup, .fini = teardown)
{
    const char *refused[] = {"s5", "s10", "p1a2b3c", "sad", "s", NULL};
    for (int i = 0; refused[i]; i++) {
        struct oj_out o = OJ(&e, "session", "start", "--name", refused[i], "--", "true");
        cr_expect_eq(o.code, 2, "--name %s: %s", refused[i], o.err);
        cr_expect(strstr(o.err, "looks like an id") && strstr(o.err, "0-9 and a-f"),
                  "the error gives the rule: %s", o.err);
        oj_out_free(&o);
    }
    struct oj_out l = OJ(&e, "session", "list", "--json");
    cr_expect(l.code == 0 && strstr(l.out, "\"id\"") == NULL, "nothing started: %s", l.out);
    oj_out_free(&l);
    start_agent("s5-agent");
    /* `-- sed` would be named "sed": an id prefix */
    struct oj_out o = OJ(&e, "session", "start", "--json", "--", "sed", "q", "/dev/null");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "sed-cmd");
    cJSON_Delete(j);
    oj_out_free(&o);
}

static void setup_no_daemon(void)
{
    env_setup(&e, true);
    cr_assert_not_null(realpath("tests/agents/fake-agent.sh", agent));
}

static bool tmux_has(const char *sock, const char *id)
{
    char target[64];
    snprintf(target, sizeof target, "=%s", id);
    char *has[] = {"tmux", "-S", (char *)sock, "has-session", "-t", target, NULL};
    return run_prog("/", 10000, NULL, 0, has) == 0;
}

/* Issue 9's sessions, named before names like ids were refused (a store of
 * an older oj): `kill s5` killed the session *named s3*, whose id began s5,
 * and `kill s3` was refused as ambiguous. An exact name comes first. */
Test(sessions, an_exact_name_wins_over_an_id_prefix, .init = setup_no_daemon, .fini = teardown)
{
    const char *recs[][2] = {{"s5a0001", "s3"}, {"s3b0002", "s5"}, {"s3c0003", "s9"}};
    char dir[PATH_MAX + 8], sock[PATH_MAX + 32], wal[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/.oj", e.dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(sock, sizeof sock, "%s/tmux.sock", dir);
    snprintf(wal, sizeof wal, "%s/wal.jsonl", dir);
    FILE *f = fopen(wal, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 3; i++) {
        /* live in the daemon's tmux, as the agents of a running project are */
        char *start[] = {"tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-s",
                         (char *)recs[i][0], "sleep 300", NULL};
        cr_assert_eq(run_prog(e.dir, 10000, NULL, 0, start), 0);
        char json[PATH_MAX * 3];
        snprintf(json, sizeof json,
                 "{\"type\":\"put\",\"kind\":\"session\",\"id\":\"%s\",\"value\":{\"name\":"
                 "\"%s\",\"cwd\":\"%s\",\"command\":\"sleep 300\",\"state\":\"running\","
                 "\"started_at_ms\":%lld,\"log\":\"%s/%s.log\"}}",
                 recs[i][0], recs[i][1], e.dir, (long long)oj_wall_ms(), dir, recs[i][0]);
        cJSON *op = cJSON_Parse(json);
        cr_assert_not_null(op, "%s", json);
        size_t len;
        char *line = oj_wal_format((uint64_t)i + 1, oj_wall_ms(), op, &len);
        fwrite(line, 1, len, f);
        free(line);
        cJSON_Delete(op);
    }
    fclose(f);
    cr_assert_eq(env_start_daemon(&e), 0);

    cJSON *j = show("s3");
    cr_assert_not_null(j, "`show s3` answers");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "s5a0001");
    cJSON_Delete(j);
    struct oj_out k = OJ(&e, "session", "kill", "s5");
    cr_expect_eq(k.code, 0, "%s", k.err);
    cr_expect(strstr(k.out, "s3b0002") != NULL, "killed the session named s5: %s", k.out);
    cr_expect_not(tmux_has(sock, "s3b0002"), "the session named s5 is gone");
    cr_expect(tmux_has(sock, "s5a0001"), "the session whose id begins s5 lives");
    oj_out_free(&k);
    /* ids and unique prefixes still work */
    struct oj_out byid = OJ(&e, "session", "kill", "s5a");
    cr_expect_eq(byid.code, 0, "%s", byid.err);
    cr_expect_not(tmux_has(sock, "s5a0001"));
    oj_out_free(&byid);
    struct oj_out amb = OJ(&e, "session", "show", "s3");
    cr_expect_eq(amb.code, 0, "s3 is still a name: %s", amb.err);
    oj_out_free(&amb);
}
