/* Names, paths and text are data, never tmux syntax: directories and project
 * roots holding tmux format syntax ("#(...)", "#{...}", "#S"), strftime's
 * '%', a final ';', spaces and quotes; text typed into a session; control
 * bytes only on request. The real daemon, its private tmux server. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;
static char agent[PATH_MAX];

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_not_null(realpath("tests/agents/fake-agent.sh", agent));
    cr_assert_eq(env_start_daemon(&e), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* The id printed by a successful `oj session start --json ...`. */
static void id_of(struct oj_out *o, char *id, size_t len)
{
    cr_assert_eq(o->code, 0, "session start: %s", o->err);
    cJSON *j = cJSON_Parse(o->out);
    cr_assert_not_null(j, "%s", o->out);
    snprintf(id, len, "%s", cJSON_GetObjectItem(j, "id")->valuestring);
    cJSON_Delete(j);
    oj_out_free(o);
}

struct logged {
    char path[PATH_MAX + 64];
    const char *text;
};

static bool log_has(void *arg)
{
    struct logged *w = arg;
    char *text = read_file(w->path);
    bool yes = text && strstr(text, w->text) != NULL;
    free(text);
    return yes;
}

/* Waits until the session's raw output holds `text`. */
static void expect_output(const struct oj_env *env, const char *id, const char *text)
{
    struct logged w = {.text = text};
    snprintf(w.path, sizeof w.path, "%s/.oj/logs/sessions/%s.log", env->dir, id);
    if (!wait_until(log_has, &w, 10000)) {
        char *log = read_file(w.path);
        cr_assert_fail("[%s] never reached %s's output:\n%s", text, id, log ? log : "(no log)");
        free(log);
    }
}

/* "#(touch <path>)" with every '/' written as printf's \057: a directory
 * name cannot hold a '/', and the path must be absolute to be found. */
static void touch_job(char *out, size_t len, const char *path)
{
    char octal[PATH_MAX * 4] = "";
    for (const char *p = path; *p; p++) {
        size_t n = strlen(octal);
        if (*p == '/')
            snprintf(octal + n, sizeof octal - n, "\\057");
        else
            snprintf(octal + n, sizeof octal - n, "%c", *p);
    }
    snprintf(out, len, "#(touch \"$(printf \"%s\")\")", octal);
}

/* Every directory starts its session in exactly that directory: tmux used to
 * run a "#(...)" in it, send "#{...}" and "#S" to / and take a final ';' as
 * the end of its command ("unknown command: -e"). */
Test(session_text, a_cwd_holding_tmux_syntax_is_just_that_directory, .init = setup,
     .fini = teardown)
{
    char marker[PATH_MAX], job[PATH_MAX * 4 + 64];
    snprintf(marker, sizeof marker, "%s/ran", e.dir);
    touch_job(job, sizeof job, marker);
    const char *names[] = {job,         "a#{session_name}b", "c#Sd",   "sp ace 'q' \"dq\"",
                           "semi;",     "p%Y##[x#[y#",        "both#;", "x\\;",
                           NULL};
    for (int i = 0; names[i]; i++) {
        char dir[PATH_MAX * 5];
        snprintf(dir, sizeof dir, "%s/%s", e.dir, names[i]);
        cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s", dir);
        /* odd entries relative to the oj's own directory, the others absolute */
        struct oj_out o = OJ(&e, "session", "start", "--json", "--cwd", i % 2 ? names[i] : dir,
                             "--", "pwd", "-P");
        char id[32], want[sizeof dir + 4];
        id_of(&o, id, sizeof id);
        snprintf(want, sizeof want, "%s\r\n", dir);
        expect_output(&e, id, want);
        struct oj_out s = OJ(&e, "session", "show", id, "--json");
        cJSON *j = cJSON_Parse(s.out);
        cr_assert_not_null(j, "%s", s.err);
        cr_expect_str_eq(cJSON_GetObjectItem(j, "cwd")->valuestring, dir);
        cJSON_Delete(j);
        oj_out_free(&s);
    }
    /* one more client round trip: a job started by tmux has had its time */
    struct oj_out l = OJ(&e, "session", "list");
    oj_out_free(&l);
    cr_expect_neq(access(marker, F_OK), 0, "a directory's #(...) ran as a command");
}

static struct oj_env in; /* the project, inside the scratch directory e */

/* The project inside first: its daemon and tmux server live under it. */
static void teardown_inner(void)
{
    cr_expect(env_teardown(&in), "sanitizer report in the daemon log");
    teardown();
}

/* A project whose root path is tmux syntax: sessions start there (the default
 * cwd), see it in OJ_PROJECT, and their output reaches the log under it
 * (pipe-pane's command is a format passed through strftime first). */
Test(session_text, a_project_root_holding_tmux_syntax, .timeout = 60, .fini = teardown_inner)
{
    env_setup(&e, false);
    struct oj_env outer = e;
    in = outer;
    char marker[PATH_MAX], job[PATH_MAX * 4 + 64];
    snprintf(marker, sizeof marker, "%s/ran", outer.dir);
    touch_job(job, sizeof job, marker);
    int n = snprintf(in.dir, sizeof in.dir, "%s/r%s#{host}#S%%Y;", outer.dir, job);
    cr_assert(n > 0 && (size_t)n < sizeof in.dir);
    cr_assert_eq(mkdir(in.dir, 0755), 0);
    cr_assert_eq(env_start_daemon(&in), 0);
    char sock[PATH_MAX + 32];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", in.dir);

    struct oj_out o = OJ(&in, "session", "start", "--json", "--", "sh", "-c",
                         "pwd -P; printenv OJ_PROJECT; echo finished");
    char id[32], want[PATH_MAX * 2];
    id_of(&o, id, sizeof id);
    snprintf(want, sizeof want, "%s\r\n%s\r\nfinished", in.dir, in.dir);
    expect_output(&in, id, want);
    cr_expect_eq(access(sock, F_OK), 0, "the private tmux server lives under the root");
    struct oj_out l = OJ(&in, "session", "list");
    oj_out_free(&l);
    cr_expect_neq(access(marker, F_OK), 0, "the root's #(...) ran as a command");

}

/* Text is typed as it is: a final ';' (tmux's command separator) and a final
 * "\;" (tmux's escaped one) too, by send-keys and through the paste buffer
 * that long text takes. */
Test(session_text, send_types_a_final_semicolon, .init = setup, .fini = teardown)
{
    struct oj_out o = OJ(&e, "session", "start", "--json", "--name", "typist", "--", agent);
    char id[32];
    id_of(&o, id, sizeof id);
    expect_output(&e, id, "fake agent ready");
    char long_text[700];
    memset(long_text, 'y', 600);
    snprintf(long_text + 600, sizeof long_text - 600, " #{host}#S %%Y x;");
    const char *texts[] = {"x;", "a\\;", ";", "#(true)#{host}#S;", long_text, NULL};
    for (int i = 0; texts[i]; i++) {
        struct oj_out s = OJ(&e, "session", "send", id, texts[i]);
        cr_assert_eq(s.code, 0, "%s", s.err);
        oj_out_free(&s);
        char want[800];
        snprintf(want, sizeof want, "got: %s\r\n", texts[i]);
        expect_output(&e, id, want);
    }
}

/* A session whose start fails leaves nothing behind: no dead record, no log.
 * (A tmux that refuses everything stands in for any failure.) */
Test(session_text, a_failed_start_leaves_no_record, .timeout = 60, .fini = teardown)
{
    env_setup(&e, false);
    char bin[PATH_MAX], tmux[PATH_MAX + 16], path_env[PATH_MAX * 2];
    snprintf(bin, sizeof bin, "%s/fakebin", e.dir);
    cr_assert_eq(mkdir(bin, 0755), 0);
    snprintf(tmux, sizeof tmux, "%s/tmux", bin);
    FILE *f = fopen(tmux, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\necho 'tmux for the test: refused' >&2\nexit 1\n");
    fclose(f);
    cr_assert_eq(chmod(tmux, 0755), 0);
    /* the daemon inherits the PATH of this test's own process (each test is one) */
    const char *path = getenv("PATH");
    snprintf(path_env, sizeof path_env, "%s:%s", bin, path ? path : "/usr/bin:/bin");
    cr_assert_eq(setenv("PATH", path_env, 1), 0);
    cr_assert_eq(env_start_daemon(&e), 0);

    struct oj_out o = OJ(&e, "session", "start", "--name", "doomed", "--", "true");
    cr_expect_eq(o.code, 1, "%s", o.err);
    cr_expect(strstr(o.err, "refused") != NULL, "says why: %s", o.err);
    struct oj_out l = OJ(&e, "session", "list", "--json");
    cr_expect_eq(l.code, 0, "%s", l.err);
    cJSON *j = cJSON_Parse(l.out);
    cr_assert_not_null(j, "%s", l.out);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions")), 0,
                 "a failed start left a record: %s", l.out);
    cJSON_Delete(j);
    char logs[PATH_MAX + 32], cmd[PATH_MAX + 64];
    snprintf(logs, sizeof logs, "%s/.oj/logs/sessions", e.dir);
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q .", logs);
    cr_expect_neq(system(cmd), 0, "a failed start left files in %s", logs);
    oj_out_free(&o);
    oj_out_free(&l);
}

/* Control bytes are keys, not text: refused unless asked for by name. */
Test(session_text, control_bytes_need_allow_control, .init = setup, .fini = teardown)
{
    struct oj_out o = OJ(&e, "session", "start", "--json", "--", agent);
    char id[32];
    id_of(&o, id, sizeof id);
    expect_output(&e, id, "fake agent ready");
    const char *bad[] = {"red \x1b[31m", "two\rlines", "tab\there", "del\x7f", NULL};
    for (int i = 0; bad[i]; i++) {
        struct oj_out s = OJ(&e, "session", "send", id, bad[i]);
        cr_expect_eq(s.code, 2, "[%s] refused as a usage error: %s", bad[i], s.err);
        cr_expect(strstr(s.err, "--allow-control") != NULL && strchr(s.err, '\n') ==
                      strrchr(s.err, '\n'),
                  "one line naming the flag: %s", s.err);
        oj_out_free(&s);
        struct oj_out n = OJ(&e, "session", "nudge", id, bad[i]);
        cr_expect_eq(n.code, 2, "a nudge with [%s] is refused: %s", bad[i], n.err);
        oj_out_free(&n);
    }
    /* nothing of them was typed */
    struct oj_out ok = OJ(&e, "session", "send", id, "plain after");
    cr_expect_eq(ok.code, 0, "%s", ok.err);
    oj_out_free(&ok);
    expect_output(&e, id, "got: plain after\r\n");
    char log[PATH_MAX + 64];
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", e.dir, id);
    char *text = read_file(log);
    cr_expect(text && strstr(text, "31m") == NULL && strstr(text, "lines") == NULL,
              "refused text was typed: %s", text);
    free(text);

    /* With the flag they are typed: a CR ends the line early, like Enter. */
    struct oj_out s = OJ(&e, "session", "send", "--allow-control", id, "first\rsecond");
    cr_expect_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    expect_output(&e, id, "got: first\r\n");
    expect_output(&e, id, "got: second\r\n");
}
