/* Following a pipeline and seeing what needs a human, end to end: the real
 * daemon, shell steps, the fake agent in the private tmux server, git
 * worktrees. oj pipeline logs [-f], oj pipeline wait, oj run --wait /
 * --follow, oj daemon logs [-f], oj status's first sections and --watch. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;
static pid_t bg; /* a follower to stop at teardown */

static void setup(void) { env_setup(&e, true); }
static void teardown(void)
{
    if (bg > 0) {
        kill(bg, SIGKILL);
        child_wait_exit(bg, 5000);
        bg = 0;
    }
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

static void start_daemon(char *const envp[])
{
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "oj daemon start (%d): %s", o.code, o.err);
    oj_out_free(&o);
}

/* Writes .oj/runbooks/<name>.json; ' stands for ". */
static void runbook(const char *name, const char *text)
{
    cr_assert_eq(env_write_runbook_q(&e, name, text), 0, "runbook %s: %s", name, strerror(errno));
}

#define RUNBOOK_T                                                                                  \
    "{'pipelines': {"                                                                              \
    " 't': {'inputs': ['name'], 'phases': ["                                                       \
    "   {'name': 'prep', 'run': 'echo shell says hello {name}'},"                                  \
    "   {'name': 'work', 'agent': {'command': 'oj-fake-agent --work', 'prompt': 'do {name}'}},"    \
    "   {'name': 'after', 'run': 'echo shell after the agent'}]},"                                 \
    " 'talk': {'inputs': ['name'], 'phases': ["                                                    \
    "   {'name': 'prep', 'run': 'echo shell says hello {name}'},"                                  \
    "   {'name': 'work', 'agent': {'command': 'oj-fake-agent', 'prompt': 'hi {name}'}},"           \
    "   {'name': 'after', 'run': 'echo shell after the agent'}]},"                                 \
    " 'f': {'inputs': ['name'], 'phases': ["                                                       \
    "   {'name': 'boom', 'run': 'echo about to fail; exit 3'}]}}}"

static void run_ok(char id[16], const char *pipeline, const char *input)
{
    struct oj_out o = OJ(&e, "run", pipeline, input);
    cr_assert_eq(o.code, 0, "oj run %s: %s", pipeline, o.err);
    cr_assert(strlen(o.out) == 8 && o.out[0] == 'p', "oj run printed '%s'", o.out);
    memcpy(id, o.out, 7);
    id[7] = '\0';
    oj_out_free(&o);
}

/* Where `what` is in text, or a failed test. */
static const char *at(const char *text, const char *what)
{
    const char *p = strstr(text, what);
    cr_assert_not_null(p, "'%s' is missing from:\n%s", what, text);
    return p;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : "";
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

static void expect_file_has(const char *path, const char *text, int ms)
{
    struct file_wait w = {path, text};
    if (!wait_until(file_has, &w, ms)) {
        char *t = read_file(path);
        cr_assert_fail("%s never showed '%s'; it has:\n%s", path, text, t ? t : "(nothing)");
    }
}

static void expect_agent(const char *id, char sid[16])
{
    cr_assert(env_wait_pipeline_agent(&e, id, sid, 20000), "pipeline %s never started its agent",
              id);
}

static const char *state_of(const char *id)
{
    static char state[32];
    struct oj_out o = OJ(&e, "pipeline", "status", id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pipeline");
    snprintf(state, sizeof state, "%s", jstr(p, "state"));
    cJSON_Delete(j);
    oj_out_free(&o);
    return state;
}

/* ---- oj pipeline logs ------------------------------------------------------------------ */

Test(follow_pipeline, logs_show_shell_and_agent_output_in_order, .init = setup, .fini = teardown,
     .timeout = 90)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char id[16];
    run_ok(id, "t", "x");
    struct oj_out w = OJ(&e, "pipeline", "wait", id, "--timeout", "60s");
    cr_assert_eq(w.code, 0, "oj pipeline wait: exit %d (%s%s)", w.code, w.out, w.err);
    char want[64];
    snprintf(want, sizeof want, "%s: done\n", id);
    cr_expect_str_eq(w.out, want);
    oj_out_free(&w);

    char prefix[8];
    snprintf(prefix, sizeof prefix, "%.4s", id); /* a unique prefix names it */
    struct oj_out o = OJ(&e, "pipeline", "logs", prefix);
    cr_assert_eq(o.code, 0, "oj pipeline logs: %s", o.err);
    const char *shell1 = at(o.out, "shell says hello x");
    const char *head = at(o.out, "==> agent session s");
    const char *agent = at(o.out, "working on: do x");
    const char *done = at(o.out, "oj done ok");
    const char *back = at(o.out, "==> pipeline ");
    const char *shell2 = at(o.out, "shell after the agent");
    cr_expect(shell1 < head && head < agent && agent < done && done < back && back < shell2,
              "not in the order they ran:\n%s", o.out);
    cr_expect(strstr(head, "(phase work) <==\n") != NULL, "%s", o.out);
    oj_out_free(&o);

    /* --json: one PipelineLogsResponse per line, its pieces in the same order */
    o = OJ(&e, "pipeline", "logs", id, "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out); /* one reply holds it all (under 1 MiB) */
    cr_assert_not_null(j, "not one JSON object per line: %s", o.out);
    const cJSON *pieces = cJSON_GetObjectItemCaseSensitive(j, "pieces");
    cr_assert_eq(cJSON_GetArraySize(pieces), 3, "%s", o.out);
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(pieces, 0), "source"), "pipeline");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(pieces, 1), "phase"), "work");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "complete")), "%s", o.out);
    cJSON_Delete(j);
    oj_out_free(&o);

    o = OJ(&e, "pipeline", "logs", "pfffff9");
    cr_expect_eq(o.code, 4, "an unknown pipeline: exit %d %s", o.code, o.err);
    cr_expect(strstr(o.err, "pfffff9") != NULL, "%s", o.err);
    oj_out_free(&o);
}

/* Output past 64 KiB per reply is read on a thread of its own, off the
 * state (engine_work.h oj_engine_read): 1.2 MB from six shell steps (each
 * under the 256 KiB a run keeps) arrive whole and in order, cursor after
 * cursor (1 MiB per reply). */
#define SEQ_STEP(n, from, to) "{'name': 's" #n "', 'run': 'seq " #from " " #to "'}"
Test(follow_pipeline, a_large_output_arrives_whole_and_in_order, .init = setup, .fini = teardown,
     .timeout = 90)
{
    runbook("big", "{'pipelines': {'big': {'phases': [" SEQ_STEP(1, 1, 40000) ", "
                   SEQ_STEP(2, 40001, 70000) ", " SEQ_STEP(3, 70001, 100000) ", "
                   SEQ_STEP(4, 100001, 130000) ", " SEQ_STEP(5, 130001, 160000) ", "
                   SEQ_STEP(6, 160001, 190000) "]}}}");
    start_daemon(NULL);
    char id[16];
    run_ok(id, "big", NULL);
    struct oj_out o = OJ(&e, "pipeline", "wait", id, "--timeout", "60s");
    cr_assert_eq(o.code, 0, "oj pipeline wait: exit %d (%s%s)", o.code, o.out, o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "logs", id);
    cr_assert_eq(o.code, 0, "oj pipeline logs: %s", o.err);
    cr_assert_gt(strlen(o.out), 1200000, "%zu bytes", strlen(o.out));
    long want = 1; /* every line of digits is the next number */
    for (const char *p = o.out; *p && want > 0;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && strspn(p, "0123456789") == len) {
            if (strtol(p, NULL, 10) != want) {
                cr_assert_fail("line %.*s where %ld belongs (a gap, a repeat or a cut)",
                               (int)len, p, want);
                want = -1;
            } else {
                want++;
            }
        }
        p += len + (nl ? 1 : 0);
    }
    cr_expect_eq(want, 190001, "the numbers stop at %ld", want - 1);
    oj_out_free(&o);
}

Test(follow_pipeline, follow_sees_new_lines_and_ends_at_done, .init = setup, .fini = teardown,
     .timeout = 90)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char id[16], sid[16], out[PATH_MAX];
    run_ok(id, "talk", "y");
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    bg = oj_spawn_bg(&e, out, NULL, (char *[]){"pipeline", "logs", id, "-f", NULL});
    expect_agent(id, sid);
    expect_file_has(out, "shell says hello y", 20000);
    expect_file_has(out, "fake agent ready", 20000);

    /* a new line of the agent's, while the pipeline runs */
    struct oj_out s = OJ(&e, "session", "send", sid, "ping one");
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    expect_file_has(out, "got: ping one", 20000);
    cr_expect_str_eq(state_of(id), "running");
    cr_expect(process_alive(bg), "the follower ended while the pipeline runs");

    /* the agent finishes; the last shell step runs; the follower ends by itself */
    s = OJ(&e, "session", "send", sid, "done");
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    int code = child_wait_exit(bg, 30000);
    bg = 0;
    cr_expect_eq(code, 0, "oj pipeline logs -f exited %d", code);
    cr_expect_str_eq(state_of(id), "done");
    char *text = read_file(out);
    cr_assert_not_null(text);
    const char *ping = at(text, "got: ping one");
    const char *last = at(text, "shell after the agent");
    cr_expect(at(text, "shell says hello y") < ping && ping < last, "%s", text);
    free(text);
}

/* ---- oj pipeline wait, oj run --wait / --follow ------------------------------------------ */

Test(follow_pipeline, wait_says_the_outcome_in_its_exit_status, .init = setup, .fini = teardown,
     .timeout = 90)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char failed[16], talk[16];
    run_ok(failed, "f", "z");
    struct oj_out o = OJ(&e, "pipeline", "wait", failed);
    cr_expect_eq(o.code, 10, "a failed pipeline: exit %d (%s%s)", o.code, o.out, o.err);
    cr_expect(strstr(o.out, "failed") && strstr(o.out, "exit status 3"), "%s", o.out);
    oj_out_free(&o);

    run_ok(talk, "talk", "w");
    o = OJ(&e, "pipeline", "wait", talk, "--timeout", "1s");
    cr_expect_eq(o.code, 7, "still running after the timeout: exit %d (%s)", o.code, o.err);
    cr_expect(strstr(o.err, "still") && strstr(o.err, talk), "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "cancel", talk);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "wait", talk, "--json");
    cr_expect_eq(o.code, 11, "a cancelled pipeline: exit %d (%s)", o.code, o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_expect_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "pipeline"), "state"),
                     "cancelled");
    cJSON_Delete(j);
    oj_out_free(&o);

    o = OJ(&e, "pipeline", "wait", talk, "--timeout", "5");
    cr_expect_eq(o.code, 2, "a duration without a unit: exit %d", o.code);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "wait", "pfffff9");
    cr_expect_eq(o.code, 4, "an unknown pipeline: exit %d", o.code);
    oj_out_free(&o);
}

Test(follow_pipeline, run_wait_and_run_follow, .init = setup, .fini = teardown, .timeout = 90)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    struct oj_out o = OJ(&e, "run", "f", "a", "--wait");
    cr_expect_eq(o.code, 10, "run --wait of a failing pipeline: exit %d (%s%s)", o.code, o.out,
                 o.err);
    cr_expect(strstr(o.out, ": failed") != NULL, "%s", o.out);
    cr_expect(strstr(o.err, "started pipeline p") != NULL, "%s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "run", "t", "b", "--follow");
    cr_expect_eq(o.code, 0, "run --follow of a pipeline that gets done: exit %d (%s)", o.code,
                 o.err);
    const char *first = at(o.out, "shell says hello b");
    const char *agent = at(o.out, "working on: do b");
    cr_expect(first < agent && agent < at(o.out, "shell after the agent"), "%s", o.out);
    oj_out_free(&o);

    o = OJ(&e, "run", "t", "c", "--follow", "--wait");
    cr_expect_eq(o.code, 2, "--follow with --wait: exit %d", o.code);
    cr_expect(strstr(o.err, "exclude each other") != NULL, "%s", o.err);
    oj_out_free(&o);
}

/* ---- oj daemon logs --------------------------------------------------------------------- */

Test(follow_pipeline, daemon_logs_show_what_the_daemon_wrote, .init = setup, .fini = teardown,
     .timeout = 60)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char id[16], want[64];
    run_ok(id, "f", "a");
    struct oj_out o = OJ(&e, "pipeline", "wait", id);
    oj_out_free(&o);
    snprintf(want, sizeof want, "pipeline %s: failed", id);
    o = OJ(&e, "daemon", "logs", "-n", "50");
    cr_assert_eq(o.code, 0, "%s", o.err);
    at(o.out, want);
    oj_out_free(&o);
    o = OJ(&e, "daemon", "logs", "-n1");
    cr_assert_eq(o.code, 0, "%s", o.err);
    size_t lines = 0;
    for (const char *p = o.out; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 1, "-n1 printed:\n%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "daemon", "logs", "-n", "0");
    cr_expect_eq(o.code, 2, "-n 0: exit %d", o.code);
    oj_out_free(&o);

    /* -f prints what the daemon writes next */
    char out[PATH_MAX], id2[16];
    snprintf(out, sizeof out, "%s/daemon-logs.out", e.dir);
    bg = oj_spawn_bg(&e, out, NULL, (char *[]){"daemon", "logs", "-f", "-n", "1", NULL});
    expect_file_has(out, "\n", 10000); /* it is reading */
    run_ok(id2, "f", "b");
    snprintf(want, sizeof want, "pipeline %s: failed", id2);
    expect_file_has(out, want, 20000);
    kill(bg, SIGINT);
    int code = child_wait_exit(bg, 5000);
    bg = 0;
    cr_expect_eq(code, 0, "Ctrl-C leaves oj daemon logs -f with exit %d", code);
}

/* ---- oj status: what needs a human first ------------------------------------------------ */

static bool status_has(void *arg)
{
    struct oj_out o = OJ(&e, "status");
    bool yes = o.code == 0 && strstr(o.out, (const char *)arg) != NULL;
    oj_out_free(&o);
    return yes;
}

Test(status_attention, escalated_pipeline_and_a_locks_waiter_come_before_the_counts,
     .init = setup, .fini = teardown, .timeout = 90)
{
    runbook("s", "{'pipelines': {"
                 " 'stuck': {'inputs': ['name'], 'phases': [{'name': 'implement',"
                 "   'agent': {'command': 'oj-fake-agent --mute', 'idle_timeout': '1s',"
                 "             'on_stuck': ['escalate']}}]},"
                 " 'merge': {'inputs': ['name'], 'phases': [{'name': 'merge', 'lock': 'merge-lock',"
                 "   'run': 'echo merged'}]}}}");
    start_daemon((char *[]){"OJ_LOCK_HELD_LONG=1s", NULL});
    struct oj_out o = OJ(&e, "status");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "needs a human") == NULL && strstr(o.out, "locks to look") == NULL,
              "nothing needs a human yet, and nothing says so:\n%s", o.out);
    oj_out_free(&o);

    o = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "ops");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "lock", "acquire", "deploy", "--holder", "bot", "--timeout", "1s");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char merge[16], stuck[16];
    run_ok(merge, "merge", "m");
    run_ok(stuck, "stuck", "s");
    o = OJ(&e, "pipeline", "wait", stuck, "--timeout", "40s");
    cr_expect_eq(o.code, 12, "an escalated pipeline: exit %d (%s%s)", o.code, o.out, o.err);
    oj_out_free(&o);
    char want[128];
    snprintf(want, sizeof want, "waiting: %s", merge);
    cr_assert(wait_until(status_has, want, 20000), "the lock's waiter is never listed");
    cr_assert(wait_until(status_has, "deploy held by bot, stale", 20000),
              "the stale lock is never listed");

    o = OJ(&e, "status");
    cr_assert_eq(o.code, 0, "%s", o.err);
    const char *counts = at(o.out, "\npipelines:  ");
    const char *human = at(o.out, "needs a human:\n");
    snprintf(want, sizeof want, "escalated pipeline %s (stuck) in phase implement", stuck);
    const char *esc = at(o.out, want);
    snprintf(want, sizeof want, "next: oj pipeline logs %s, then oj pipeline resume %s", stuck,
             stuck);
    at(esc, want);
    const char *locks = at(o.out, "locks to look at:\n");
    snprintf(want, sizeof want, "merge-lock held by ops, held for");
    const char *held = at(o.out, want);
    snprintf(want, sizeof want, "; waiting: %s\n", merge);
    const char *waiter = at(held, want);
    at(o.out, "next: oj lock release deploy --force");
    cr_expect(human < esc && esc < locks && locks < held && waiter < counts,
              "what needs a human is not above the counts:\n%s", o.out);
    at(counts, "(1 escalated)");
    oj_out_free(&o);

    o = OJ(&e, "status", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    const cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "attention"), 0);
    cr_expect_str_eq(jstr(att, "pipeline_id"), stuck);
    cr_expect_str_eq(jstr(att, "state"), "escalated");
    cr_expect(strstr(jstr(att, "last_error"), "quiet for") != NULL, "why it escalated: %s",
              jstr(att, "last_error"));
    const cJSON *l;
    bool seen = false;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(j, "stale_locks"))
    {
        if (strcmp(jstr(l, "name"), "merge-lock") == 0) {
            seen = true;
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(l, "waiters");
            cr_expect_eq(cJSON_GetArraySize(w), 1);
            cr_expect_str_eq(cJSON_GetArrayItem(w, 0)->valuestring, merge);
        }
    }
    cr_expect(seen, "merge-lock is not in stale_locks: %s", o.out);
    cJSON_Delete(j);
    oj_out_free(&o);
}

/* At most 10 locks are listed, the longest held first, and the rest
 * counted; a lock that changes shows at once (status keeps the walk over
 * every lock until a lock changes or time alone can change a verdict). */
Test(status_attention, ten_locks_are_listed_the_longest_held_first_and_the_rest_counted,
     .init = setup, .fini = teardown, .timeout = 60)
{
    start_daemon((char *[]){"OJ_LOCK_HELD_LONG=1s", NULL});
    for (int i = 0; i < 12; i++) {
        char name[16];
        snprintf(name, sizeof name, "res-%02d", i);
        struct oj_out o = OJ(&e, "lock", "acquire", name, "--holder", "ops");
        cr_assert_eq(o.code, 0, "%s", o.err);
        oj_out_free(&o);
        usleep(2000); /* each its own since_ms, for the order */
    }
    cr_assert(wait_until(status_has, "... and 2 more stale or held long: oj lock list", 20000),
              "twelve locks held long are not shown as ten and two more");
    struct oj_out o = OJ(&e, "status");
    cr_assert_eq(o.code, 0, "%s", o.err);
    const char *p = at(o.out, "locks to look at:\n");
    for (int i = 0; i < 10; i++) {
        char want[48];
        snprintf(want, sizeof want, "res-%02d held by ops, held for", i);
        p = at(p, want); /* in order: the longest held first */
    }
    cr_expect(strstr(o.out, "res-10 held") == NULL && strstr(o.out, "res-11 held") == NULL,
              "%s", o.out);
    oj_out_free(&o);

    o = OJ(&e, "lock", "release", "res-03", "--holder", "ops");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "status", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    const cJSON *locks = cJSON_GetObjectItemCaseSensitive(j, "stale_locks"), *l;
    cr_expect_eq(cJSON_GetArraySize(locks), 10, "%s", o.out);
    cJSON_ArrayForEach(l, locks)
        cr_expect_str_neq(jstr(l, "name"), "res-03", "a released lock is still listed");
    const cJSON *more = cJSON_GetObjectItemCaseSensitive(j, "stale_locks_more");
    cr_expect(cJSON_IsNumber(more) && more->valueint == 1, "stale_locks_more: %s", o.out);
    cJSON_Delete(j);
    oj_out_free(&o);
}

Test(status_attention, watch_is_refused_off_a_terminal, .init = setup, .fini = teardown)
{
    start_daemon(NULL);
    struct oj_out o = OJ(&e, "status", "--watch");
    cr_expect_eq(o.code, 2, "status --watch with stdout a pipe: exit %d", o.code);
    cr_expect(strstr(o.err, "not") && strstr(o.err, "terminal"), "%s", o.err);
    cr_expect_str_eq(o.out, "");
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "list", "--watch");
    cr_expect_eq(o.code, 2, "pipeline list --watch with stdout a pipe: exit %d", o.code);
    oj_out_free(&o);
}

/* ---- --watch on a terminal: a tmux pane of its own, read with capture-pane ---------------- */

static char tsock[PATH_MAX];

static void tmux(char *out, size_t outlen, char *const words[])
{
    char *argv[16] = {"tmux", "-S", tsock, "-f", "/dev/null"};
    int n = 5;
    for (int i = 0; words[i] && n < 15; i++)
        argv[n++] = words[i];
    argv[n] = NULL;
    int rc = run_prog(e.dir, 10000, out, outlen, argv);
    cr_assert_eq(rc, 0, "tmux %s failed (%d)", words[0], rc);
}

struct screen_wait {
    const char *text;
    char screen[8192];
};

static bool screen_has(void *arg)
{
    struct screen_wait *w = arg;
    w->screen[0] = '\0';
    char *argv[] = {"tmux", "-S", tsock, "capture-pane", "-p", "-t", "watch", NULL};
    run_prog(e.dir, 10000, w->screen, sizeof w->screen, argv);
    return strstr(w->screen, w->text) != NULL;
}

static void expect_screen(const char *text, int ms)
{
    static struct screen_wait w;
    w.text = text;
    cr_assert(wait_until(screen_has, &w, ms), "the screen never showed '%s'; it shows:\n%s", text,
              w.screen);
}

static void kill_tmux(void)
{
    char *argv[] = {"tmux", "-S", tsock, "kill-server", NULL};
    run_prog(e.dir, 10000, NULL, 0, argv);
    teardown();
}

Test(status_attention, watch_redraws_on_an_event_and_leaves_on_ctrl_c, .init = setup,
     .fini = kill_tmux, .timeout = 60)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    snprintf(tsock, sizeof tsock, "%s/watch-tmux.sock", e.dir);
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd, "'%s' -C '%s' status --watch; echo \"watch exit=$?\"; sleep 60",
             e.oj, e.dir);
    tmux(NULL, 0, (char *[]){"new-session", "-d", "-s", "watch", "-x", "120", "-y", "40", cmd,
                             NULL});
    expect_screen("pipelines:  0 active", 15000);
    expect_screen("Ctrl-C to leave", 5000);
    char id[16];
    run_ok(id, "talk", "v");
    /* redrawn for the pipeline's events, before the 5 s periodic refresh */
    expect_screen("pipelines:  1 active", 4000);
    tmux(NULL, 0, (char *[]){"send-keys", "-t", "watch", "C-c", NULL});
    expect_screen("watch exit=0", 10000);
}

Test(status_attention, the_five_newest_failures_are_listed_and_the_rest_counted, .init = setup,
     .fini = teardown, .timeout = 120)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char ids[7][16];
    for (int i = 0; i < 7; i++) {
        run_ok(ids[i], "f", "n");
        struct oj_out o = OJ(&e, "pipeline", "wait", ids[i], "--timeout", "30s");
        cr_assert_eq(o.code, 10, "pipeline %d: exit %d (%s)", i, o.code, o.err);
        oj_out_free(&o);
    }
    struct oj_out o = OJ(&e, "status", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(j, "attention");
    cr_expect_eq(cJSON_GetArraySize(att), 5, "%s", o.out);
    cr_expect_eq(cJSON_GetObjectItemCaseSensitive(j, "attention_more")->valueint, 2);
    cr_expect_eq(cJSON_GetObjectItemCaseSensitive(j, "failed_pipelines")->valueint, 7);
    double last = 1e300;
    const cJSON *a;
    cJSON_ArrayForEach(a, att)
    {
        double since = cJSON_GetObjectItemCaseSensitive(a, "since_ms")->valuedouble;
        cr_expect(since <= last, "not newest first: %s", o.out);
        last = since;
        cr_expect(strcmp(jstr(a, "pipeline_id"), ids[0]) != 0 &&
                      strcmp(jstr(a, "pipeline_id"), ids[1]) != 0,
                  "an old failure is listed instead of counted: %s", o.out);
    }
    cJSON_Delete(j);
    oj_out_free(&o);
    o = OJ(&e, "status");
    at(o.out, "... and 2 more escalated or failed: oj pipeline list");
    at(o.out, "pipelines:  0 active, 7 failed");
    oj_out_free(&o);
}

Test(follow_pipeline, logs_survive_a_daemon_crash_with_each_agent_once, .init = setup,
     .fini = teardown, .timeout = 90)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    char id[16], sid[16];
    run_ok(id, "talk", "k");
    expect_agent(id, sid);
    cr_assert(env_crash_daemon(&e), "the daemon did not die");
    start_daemon(NULL);
    struct oj_out o = OJ(&e, "session", "send", sid, "after the crash");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "session", "send", sid, "done");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "wait", id, "--timeout", "30s");
    cr_assert_eq(o.code, 0, "%s%s", o.out, o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "logs", id, "-f"); /* finished: prints all, then ends */
    cr_assert_eq(o.code, 0, "%s", o.err);
    const char *head = at(o.out, "==> agent session ");
    cr_expect(strstr(head + 1, "==> agent session ") == NULL, "the agent shows twice:\n%s",
              o.out);
    const char *got = at(o.out, "got: after the crash");
    cr_expect(head < got && got < at(o.out, "shell after the agent"), "%s", o.out);
    oj_out_free(&o);
}

Test(status_attention, pipeline_list_watch_redraws_on_an_event, .init = setup, .fini = kill_tmux,
     .timeout = 60)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    snprintf(tsock, sizeof tsock, "%s/watch-tmux.sock", e.dir);
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd,
             "'%s' -C '%s' pipeline list --watch; echo \"watch exit=$?\"; sleep 60", e.oj, e.dir);
    tmux(NULL, 0, (char *[]){"new-session", "-d", "-s", "watch", "-x", "120", "-y", "40", cmd,
                             NULL});
    expect_screen("no pipelines", 15000);
    expect_screen("Ctrl-C to leave", 5000);
    char id[16];
    run_ok(id, "talk", "u");
    expect_screen(id, 4000); /* before the 5 s periodic refresh */
    tmux(NULL, 0, (char *[]){"send-keys", "-t", "watch", "C-c", NULL});
    expect_screen("watch exit=0", 10000);
}

Test(status_attention, a_broken_runbook_comes_before_the_counts, .init = setup, .fini = teardown)
{
    runbook("t", RUNBOOK_T);
    start_daemon(NULL);
    runbook("broken", "{'pipelines': {'b': {'phases': 3}}}");
    struct oj_out o = OJ(&e, "status");
    cr_assert_eq(o.code, 0, "%s", o.err);
    const char *bad = at(o.out, "runbooks:   NOT LOADED: ");
    at(bad, "broken.json");
    cr_expect(bad < at(o.out, "\npipelines:  "), "the broken runbook is below the counts:\n%s",
              o.out);
    oj_out_free(&o);
}
