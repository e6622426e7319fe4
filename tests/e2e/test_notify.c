/* The project notifier end to end (issue 11): .oj/config.json names a
 * command and event kinds; the real daemon runs it for those events, off its
 * engine, with the event as JSON on stdin and in OJ_EVENT_* variables; a
 * failing or hanging command is a warning in the daemon log and nothing
 * waits for it; a bad config refuses the start, naming the key. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/harness.h"
#include "clock.h"

static struct oj_env e;
static char agent[PATH_MAX];

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_not_null(realpath("tests/agents/fake-agent.sh", agent));
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void write_config(const char *json)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/.oj", e.dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
}

struct file_wait {
    char path[PATH_MAX];
    const char *text;
};

static bool file_has(void *arg)
{
    struct file_wait *w = arg;
    char *t = read_file(w->path);
    bool has = t && strstr(t, w->text) != NULL;
    free(t);
    return has;
}

/* Waits until the project file `name` holds text; returns its contents. */
static char *expect_file_has(const char *name, const char *text)
{
    struct file_wait w = {.text = text};
    snprintf(w.path, sizeof w.path, "%s/%s", e.dir, name);
    if (!wait_until(file_has, &w, 15000)) {
        char *t = read_file(w.path);
        cr_assert_fail("'%s' never appeared in %s; it holds:\n%s", text, name,
                       t ? t : "(no such file)");
    }
    return read_file(w.path);
}

static void send_line(const char *id, const char *text)
{
    struct oj_out o = OJ(&e, "session", "send", id, text);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* The notifier records each event's stdin and environment, appending. */
#define RECORDER                                                                                   \
    "cat >> notified.jsonl; env | grep '^OJ_EVENT_' | sort >> notified.env; echo >> notified.env"

Test(notify, the_chosen_kinds_reach_the_command_on_stdin_and_in_the_env, .init = setup,
     .fini = teardown, .timeout = 60)
{
    write_config("{\"notifier\": {\"command\": \"" RECORDER "\","
                 " \"kinds\": [\"session.needs_input\", \"session.ended\"]}}");
    cr_assert_eq(env_start_daemon(&e), 0);
    char id[32];
    cr_assert_eq(env_start_agent(&e, "asker", id, sizeof id), 0);
    send_line(id, "permission");
    char *json = expect_file_has("notified.jsonl", "\"kind\":\"session.needs_input\"");
    cJSON *j = cJSON_Parse(json);
    cr_assert_not_null(j, "one JSON object per event on stdin: %s", json);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "session_id")->valuestring, id);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "message")->valuestring,
                     "Do you want to proceed? [y/n]");
    cJSON_Delete(j);
    free(json);
    char *env = expect_file_has("notified.env", "OJ_EVENT_KIND=session.needs_input");
    char want[64];
    snprintf(want, sizeof want, "OJ_EVENT_SESSION=%s\n", id);
    cr_expect(strstr(env, want) != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_MESSAGE=Do you want to proceed? [y/n]\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_SEQ=") != NULL && strstr(env, "OJ_EVENT_FILE=") != NULL,
              "%s", env);
    free(env);

    struct oj_out k = OJ(&e, "session", "kill", id);
    cr_assert_eq(k.code, 0, "%s", k.err);
    oj_out_free(&k);
    char *all = expect_file_has("notified.jsonl", "\"kind\":\"session.ended\"");
    cr_expect(strstr(all, "session.started") == NULL, "a kind not chosen was notified: %s", all);
    free(all);
}

static bool log_has(void *arg)
{
    struct file_wait *w = arg;
    return file_has(w);
}

Test(notify, a_failing_or_hanging_command_is_a_warning_and_nothing_waits, .init = setup,
     .fini = teardown, .timeout = 60)
{
    write_config("{\"notifier\": {\"command\": \"if [ $OJ_EVENT_KIND = session.started ]; then "
                 "echo webhook refused >&2; exit 4; fi; sleep 30\","
                 " \"kinds\": [\"session.\"], \"timeout\": \"2s\"}}");
    cr_assert_eq(env_start_daemon(&e), 0);
    char id[32];
    cr_assert_eq(env_start_agent(&e, "worker", id, sizeof id), 0);
    struct file_wait w = {.text = "(session.started) exited with status 4: webhook refused"};
    snprintf(w.path, sizeof w.path, "%s/.oj/logs/daemon.log", e.dir);
    cr_expect(wait_until(log_has, &w, 15000), "no warning for the failed notifier");

    /* session.ended: a command that hangs until its time limit. The daemon
     * answers meanwhile. */
    struct oj_out k = OJ(&e, "session", "kill", id);
    cr_assert_eq(k.code, 0, "%s", k.err);
    oj_out_free(&k);
    int64_t t0 = oj_mono_ms();
    struct oj_out s = OJ(&e, "session", "list");
    cr_expect_eq(s.code, 0);
    cr_expect_lt(oj_mono_ms() - t0, 1500, "the daemon waited for its notifier");
    oj_out_free(&s);
    w.text = "(session.ended) timed out after 2000 ms and was killed";
    cr_expect(wait_until(log_has, &w, 15000), "no warning for the notifier's time-out");
}

Test(notify, a_bad_config_refuses_the_start_naming_the_key, .init = setup, .fini = teardown)
{
    write_config("{\"notifier\": {\"command\": \"true\", \"kinds\": [\"pipeline.done\", "
                 "\"Escalated\"]}}");
    struct oj_out o = OJ(&e, "daemon", "start");
    cr_expect_eq(o.code, 1, "exit %d", o.code);
    cr_expect(strstr(o.err, "config.json: notifier.kinds[1]") != NULL, "%s", o.err);
    oj_out_free(&o);
    write_config("{\"notifier\": {\"command\": \"true\"}}");
    cr_assert_eq(env_start_daemon(&e), 0);
}
