/* An agent that needs input, end to end (issue 11): the fake agent prints a
 * permission prompt or calls `oj ask`, and `oj session list/show`, `oj
 * pipeline status` and the events say so until input reaches it. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"

static struct oj_env e;
static char agent[PATH_MAX];
static pid_t follower; /* an `oj events --follow` to stop at teardown */
static char events[PATH_MAX];

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_not_null(realpath("tests/agents/fake-agent.sh", agent));
    cr_assert_eq(env_start_daemon(&e), 0);
}

static void teardown(void)
{
    if (follower > 0) {
        kill(follower, SIGINT);
        child_wait_exit(follower, 5000);
        follower = 0;
    }
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

static cJSON *show(const char *id)
{
    struct oj_out o = OJ(&e, "session", "show", id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    oj_out_free(&o);
    return j;
}

static const char *jstr(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

struct state_wait {
    const char *id, *state;
};

static bool in_state(void *arg)
{
    struct state_wait *w = arg;
    cJSON *j = show(w->id);
    bool ok = j && strcmp(jstr(j, "state"), w->state) == 0;
    cJSON_Delete(j);
    return ok;
}

static void expect_state(const char *id, const char *state)
{
    struct state_wait w = {id, state};
    if (wait_until(in_state, &w, 10000))
        return;
    cJSON *j = show(id);
    struct oj_out c = OJ(&e, "session", "capture", id);
    cr_assert_fail("%s never became %s: it is %s; screen:\n%s", id, state,
                   j ? jstr(j, "state") : "?", c.out);
}

struct file_wait {
    const char *path, *text;
};

static bool file_has(void *arg)
{
    struct file_wait *w = arg;
    char *t = read_file(w->path);
    bool has = t && strstr(t, w->text) != NULL;
    free(t);
    return has;
}

static void expect_file_has(const char *path, const char *text)
{
    struct file_wait w = {path, text};
    if (!wait_until(file_has, &w, 10000)) {
        char *t = read_file(path);
        cr_assert_fail("'%s' never appeared in %s; it holds:\n%s", text, path,
                       t ? t : "(no such file)");
    }
}

static int count_of(const char *path, const char *what)
{
    char *t = read_file(path);
    int n = 0;
    for (const char *p = t; p && (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    free(t);
    return n;
}

static void send_line(const char *id, const char *text)
{
    struct oj_out o = OJ(&e, "session", "send", id, text);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* Follows the session events into `events` (only session.* kinds, so the
 * prefix filter is what is tested), once the follower is seen to receive:
 * a session started after it subscribed shows up in its output. */
static void follow_session_events(void)
{
    snprintf(events, sizeof events, "%s/events.out", e.dir);
    follower = oj_spawn_bg(&e, events, NULL,
                           (char *[]){"events", "--follow", "--json", "--kind", "session.", NULL});
    for (int i = 0; i < 20; i++) {
        char name[32], id[32];
        snprintf(name, sizeof name, "probe%d", i);
        struct oj_out o = OJ(&e, "session", "start", "--name", name, "--", "true");
        cr_assert_eq(o.code, 0, "%s", o.err);
        oj_out_free(&o);
        cJSON *j = show(name);
        snprintf(id, sizeof id, "%s", jstr(j, "id"));
        cJSON_Delete(j);
        struct file_wait w = {events, id};
        if (wait_until(file_has, &w, 1000))
            return;
    }
    cr_assert_fail("the events follower never received an event");
}

/* Ticks pass (the tick is once a second) without anything to wait for: to
 * see that something does NOT happen. */
static bool never(void *arg)
{
    (void)arg;
    return false;
}

Test(needs_input, a_permission_prompt_then_its_answer, .init = setup, .fini = teardown,
     .timeout = 60)
{
    follow_session_events();
    char id[32];
    cr_assert_eq(env_start_agent(&e, "asker", id, sizeof id), 0);
    expect_state(id, "running");

    send_line(id, "permission");
    expect_state(id, "needs_input");
    cJSON *j = show(id);
    cr_expect_str_eq(jstr(j, "prompt"), "Do you want to proceed? [y/n]");
    cr_expect(!cJSON_IsTrue(cJSON_GetObjectItem(j, "asked")), "a prompt, not an oj ask");
    cJSON_Delete(j);
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect(strstr(l.out, "needs_input (\"Do you want to proceed? [y/n]\")") != NULL, "%s",
              l.out);
    oj_out_free(&l);
    expect_file_has(events, "\"kind\":\"session.needs_input\"");
    expect_file_has(events, "Do you want to proceed? [y/n]");
    /* Once per entry into the state, not every tick. */
    wait_until(never, NULL, 2500);
    cr_expect_eq(count_of(events, "session.needs_input"), 1);
    cr_expect_gt(count_of(events, "session.started"), 0, "--kind session. passes them all");

    /* The answer: working again at once, and the old prompt stays answered. */
    send_line(id, "y");
    j = show(id);
    cr_expect_str_eq(jstr(j, "state"), "running");
    cr_expect_str_eq(jstr(j, "prompt"), "");
    cJSON_Delete(j);
    wait_until(never, NULL, 2500);
    expect_state(id, "running");
    struct oj_out c = OJ(&e, "session", "capture", id);
    cr_expect(strstr(c.out, "permission answer: y") != NULL, "%s", c.out);
    oj_out_free(&c);

    /* A second prompt is a second entry. */
    send_line(id, "permission");
    expect_state(id, "needs_input");
    wait_until(never, NULL, 1500);
    cr_expect_eq(count_of(events, "session.needs_input"), 2);
}

Test(needs_input, oj_ask_holds_until_input_or_output, .init = setup, .fini = teardown,
     .timeout = 60)
{
    char id[32];
    cr_assert_eq(env_start_agent(&e, "asker", id, sizeof id), 0);
    expect_state(id, "running");

    send_line(id, "ask which branch should I merge into?");
    expect_state(id, "needs_input");
    cJSON *j = show(id);
    cr_expect_str_eq(jstr(j, "prompt"), "which branch should I merge into?");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "asked")));
    cJSON_Delete(j);
    struct oj_out s = OJ(&e, "session", "show", id);
    cr_expect(strstr(s.out, "asks:      which branch should I merge into?") != NULL, "%s", s.out);
    oj_out_free(&s);
    /* Quiet after its question: it still waits (ticks pass). */
    wait_until(never, NULL, 2500);
    expect_state(id, "needs_input");
    /* Input answers it. */
    send_line(id, "main");
    expect_state(id, "running");

    /* Output after the question's line answers it too. */
    send_line(id, "asklater shall I go on?");
    expect_state(id, "needs_input");
    expect_state(id, "running");
    struct oj_out c = OJ(&e, "session", "capture", id);
    cr_expect(strstr(c.out, "went on without an answer") != NULL, "%s", c.out);
    oj_out_free(&c);
}

Test(needs_input, oj_ask_outside_a_session_is_refused, .init = setup, .fini = teardown)
{
    char *env[] = {"OJ_SESSION_ID=", NULL};
    struct oj_out o = oj_run_in(&e, NULL, env, "ask", "anyone there?", (char *)NULL);
    cr_expect_eq(o.code, 2, "usage error: %d", o.code);
    cr_expect(strstr(o.err, "OJ_SESSION_ID is not set") != NULL, "%s", o.err);
    oj_out_free(&o);
    /* A session id that names no live session. */
    char *env2[] = {"OJ_SESSION_ID=s999999", NULL};
    o = oj_run_in(&e, NULL, env2, "ask", "anyone there?", (char *)NULL);
    cr_expect_neq(o.code, 0);
    cr_expect(strstr(o.err, "s999999") != NULL, "%s", o.err);
    oj_out_free(&o);
}

/* Writes .oj/runbooks/<name>.json; the text uses ' for " to stay readable. */
static void runbook(const char *name, const char *text)
{
    cr_assert_eq(env_write_runbook_q(&e, name, text), 0, "cannot write runbook %s: %s", name, strerror(errno));
}

struct status_wait {
    const char *id, *text;
};

static bool status_has(void *arg)
{
    struct status_wait *w = arg;
    struct oj_out o = OJ(&e, "pipeline", "status", w->id);
    bool has = o.code == 0 && strstr(o.out, w->text) != NULL;
    oj_out_free(&o);
    return has;
}

Test(needs_input, a_runbook_pattern_shows_in_pipeline_status, .init = setup, .fini = teardown,
     .timeout = 60)
{
    runbook("deploy", "{'pipelines': {'deploy': {'inputs': ['name'], 'phases': ["
                      "  {'name': 'ship', 'agent': {"
                      "     'command': 'echo Waiting for approval of {name}; oj-fake-agent',"
                      "     'needs_input': ['waiting for APPROVAL', '/^never [0-9]+$/']}}]}}}");
    struct oj_out r = OJ(&e, "run", "deploy", "v2");
    cr_assert_eq(r.code, 0, "%s", r.err);
    char id[16];
    snprintf(id, sizeof id, "%.7s", r.out);
    oj_out_free(&r);
    struct status_wait w = {id, "needs:     input: Waiting for approval of v2"};
    if (!wait_until(status_has, &w, 15000)) {
        struct oj_out o = OJ(&e, "pipeline", "status", id);
        cr_assert_fail("pipeline status never showed the prompt:\n%s%s", o.out, o.err);
    }
    struct oj_out o = OJ(&e, "pipeline", "status", id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    cr_expect_str_eq(jstr(j, "agent_state"), "needs_input");
    cr_expect_str_eq(jstr(j, "agent_prompt"), "Waiting for approval of v2");
    cJSON_Delete(j);
    oj_out_free(&o);

    /* A pattern that is not a regular expression is refused by the check. */
    runbook("bad", "{'pipelines': {'bad': {'phases': [{'name': 'a', 'agent': {"
                   "  'command': 'x', 'needs_input': ['/(unclosed/']}}]}}}");
    struct oj_out c = OJ(&e, "runbook", "check");
    cr_expect_neq(c.code, 0);
    cr_expect(strstr(c.err, "needs_input") && strstr(c.err, "regular expression"), "%s%s", c.out,
              c.err);
    oj_out_free(&c);
}

/* The bottom of its output is read again from the log by a new daemon: an
 * agent still waiting at a prompt needs input after a restart too. */
Test(needs_input, a_prompt_is_seen_again_after_a_daemon_restart, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char id[32];
    cr_assert_eq(env_start_agent(&e, "asker", id, sizeof id), 0);
    expect_state(id, "running");
    send_line(id, "permission");
    expect_state(id, "needs_input");
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert_eq(env_start_daemon(&e), 0);
    expect_state(id, "needs_input");
    cJSON *j = show(id);
    cr_expect_str_eq(jstr(j, "prompt"), "Do you want to proceed? [y/n]");
    cJSON_Delete(j);
    send_line(id, "n");
    expect_state(id, "running");
}

/* oj status puts an agent waiting for an answer above the counts, with what
 * it asks and the command to answer it. */
Test(needs_input, status_lists_an_agent_needing_input_first, .init = setup, .fini = teardown,
     .timeout = 60)
{
    char id[32];
    cr_assert_eq(env_start_agent(&e, "asker", id, sizeof id), 0);
    expect_state(id, "running");
    struct oj_out before = OJ(&e, "status");
    cr_expect(strstr(before.out, "waiting for an answer") == NULL, "%s", before.out);
    oj_out_free(&before);
    send_line(id, "permission");
    expect_state(id, "needs_input");
    struct oj_out s = OJ(&e, "status");
    cr_assert_eq(s.code, 0, "%s", s.err);
    const char *listed = strstr(s.out, "agents waiting for an answer:");
    const char *counts = strstr(s.out, "pipelines:");
    cr_expect(listed && counts && listed < counts, "listed before the counts:\n%s", s.out);
    char want[64];
    snprintf(want, sizeof want, "session %s (asker)", id);
    cr_expect(strstr(s.out, want) != NULL, "%s", s.out);
    cr_expect(strstr(s.out, "asks: Do you want to proceed? [y/n]") != NULL, "%s", s.out);
    oj_out_free(&s);
    struct oj_out j = OJ(&e, "status", "--json");
    cJSON *r = cJSON_Parse(j.out);
    const cJSON *arr = cJSON_GetObjectItem(r, "needs_input");
    cr_expect(cJSON_GetArraySize(arr) == 1 &&
                  strcmp(jstr(cJSON_GetArrayItem(arr, 0), "session_id"), id) == 0,
              "%s", j.out);
    cJSON_Delete(r);
    oj_out_free(&j);
    send_line(id, "y");
    expect_state(id, "running");
    struct oj_out after = OJ(&e, "status");
    cr_expect(strstr(after.out, "waiting for an answer") == NULL, "answered: %s", after.out);
    oj_out_free(&after);
}
