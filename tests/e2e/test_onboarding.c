/* Onboarding: which project a directory belongs to (a nested git repository
 * is a project of its own), a missing git said as such, `oj init` and
 * `oj runbook list|check` without a daemon. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void setup_plain(void) { env_setup(&e, false); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static int git_in(const char *dir, const char *a, const char *b, const char *c, const char *d)
{
    char *argv[] = {"git", (char *)a, (char *)b, (char *)c, (char *)d, NULL};
    return run_prog(dir, 10000, NULL, 0, argv);
}

/* One line on stderr, starting "oj: ". */
static void expect_one_line_error(const struct oj_out *o)
{
    const char *nl = strchr(o->err, '\n');
    cr_expect(strncmp(o->err, "oj: ", 4) == 0 && nl && nl[1] == '\0',
              "the error must be one line starting 'oj: ': %s", o->err);
}

Test(onboarding, nested_git_repository_is_a_project_of_its_own, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    pid_t outer_pid = env_daemon_pid(&e);
    char sub[PATH_MAX], inner[PATH_MAX], ws[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/sub", e.dir);
    snprintf(inner, sizeof inner, "%s/sub/inner", e.dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert_eq(mkdir(inner, 0755), 0);
    cr_assert_eq(git_in(inner, "init", "-q", NULL, NULL), 0);

    /* A plain subdirectory belongs to the project above it. */
    struct oj_out o = oj_run_in(&e, sub, NULL, "status", (char *)NULL);
    cr_expect_eq(o.code, 0, "status from a subdirectory: %s", o.err);
    oj_out_free(&o);

    /* A repository of its own inside the tree is not the outer project. */
    o = oj_run_in(&e, inner, NULL, "status", (char *)NULL);
    cr_expect_eq(o.code, 3, "status in a nested repository must not reach the outer daemon: %d %s",
                 o.code, o.out);
    cr_expect(strstr(o.err, inner) && strstr(o.err, "oj init"), "%s", o.err);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "oj -C %s", e.dir);
    cr_expect(strstr(o.err, want) != NULL, "must name the -C for the outer project: %s", o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);

    /* ... unless -C says otherwise. */
    o = oj_run_in(&e, inner, NULL, "-C", e.dir, "status", (char *)NULL);
    cr_expect_eq(o.code, 0, "-C the outer project: %s", o.err);
    oj_out_free(&o);

    /* A pipeline's workspace, a worktree under .oj/, belongs to the project. */
    cr_assert_eq(git_in(e.dir, "worktree", "add", "-q", ".oj/workspaces/w"), 0);
    snprintf(ws, sizeof ws, "%s/.oj/workspaces/w", e.dir);
    o = oj_run_in(&e, ws, NULL, "status", (char *)NULL);
    cr_expect_eq(o.code, 0, "status in a workspace: %s", o.err);
    oj_out_free(&o);

    /* A start in the nested repository makes its own project and daemon. */
    o = oj_run_in(&e, inner, NULL, "daemon", "start", (char *)NULL);
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "already running") == NULL, "reached the outer daemon: %s", o.out);
    oj_out_free(&o);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/.oj/daemon.pid", inner);
    cr_expect_eq(access(p, F_OK), 0, "the nested repository must get its own .oj/");
    o = oj_run_in(&e, inner, NULL, "daemon", "stop", (char *)NULL);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    snprintf(p, sizeof p, "%s/.oj/tmux.sock", inner);
    char *kill_tmux[] = {"tmux", "-S", p, "kill-server", NULL};
    if (access(p, F_OK) == 0)
        run_prog("/", 10000, NULL, 0, kill_tmux);
    cr_expect_eq(env_daemon_pid(&e), outer_pid, "the outer daemon must be untouched");
}

/* A directory of symlinks to the programs oj needs, git not among them. */
static void path_without_git(char *dir, size_t len)
{
    snprintf(dir, len, "%s/nogit-bin", e.dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    const char *tools[] = {"sh", "tmux", "flock", "cat", "rm", "mkdir", NULL};
    const char *path = getenv("PATH");
    for (int i = 0; tools[i]; i++) {
        char found[PATH_MAX] = "";
        for (const char *p = path; p && *p && !found[0];) {
            size_t n = strcspn(p, ":");
            char cand[PATH_MAX];
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, tools[i]);
            if (access(cand, X_OK) == 0)
                snprintf(found, sizeof found, "%s", cand);
            p += n + (p[n] == ':');
        }
        cr_assert(found[0], "%s is not on PATH", tools[i]);
        char link[PATH_MAX + 64];
        snprintf(link, sizeof link, "%s/%s", dir, tools[i]);
        cr_assert_eq(symlink(found, link), 0);
    }
}

Test(onboarding, missing_git_is_said_as_such, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "b", "{\"pipelines\": {\"b\": {\"phases\": "
                                            "[{\"name\": \"s\", \"run\": \"true\"}]}}}"),
                 0);
    char bin[PATH_MAX], pathvar[PATH_MAX + 8];
    path_without_git(bin, sizeof bin);
    snprintf(pathvar, sizeof pathvar, "PATH=%s", bin);
    char *env[] = {pathvar, NULL};
    struct oj_out o = oj_run_in(&e, NULL, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = oj_run_in(&e, NULL, env, "run", "b", (char *)NULL);
    cr_expect_eq(o.code, 5, "%s", o.err);
    cr_expect(strstr(o.err, "git is not installed or not on PATH") != NULL, "%s", o.err);
    cr_expect(strstr(o.err, "not a git repository") == NULL, "%s", o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);
}

static char *path_in(const char *rel)
{
    static char p[PATH_MAX + 128];
    snprintf(p, sizeof p, "%s/%s", e.dir, rel);
    return p;
}

struct done_wait {
    const char *id;
    char seen[32];
};

/* The pipeline finished (done, failed or cancelled): its state in seen. */
static bool finished(void *arg)
{
    struct done_wait *w = arg;
    struct oj_out o = OJ(&e, "pipeline", "status", w->id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "pipeline"), "state");
    snprintf(w->seen, sizeof w->seen, "%s", cJSON_IsString(st) ? st->valuestring : "");
    cJSON_Delete(j);
    oj_out_free(&o);
    return strcmp(w->seen, "done") == 0 || strcmp(w->seen, "failed") == 0 ||
           strcmp(w->seen, "cancelled") == 0;
}

Test(onboarding, init_writes_a_starter_runbook_that_checks_and_runs, .init = setup,
     .fini = teardown)
{
    /* No daemon, a fresh git repository. */
    struct oj_out o = OJ(&e, "init");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, ".oj/runbooks/build.json") && strstr(o.out, "oj run build"), "%s",
              o.out);
    cr_expect(strstr(o.err, "not a git repository") == NULL, "%s", o.err);
    oj_out_free(&o);
    char *text = read_file(path_in(".oj/runbooks/build.json"));
    cr_assert_not_null(text, "oj init must write .oj/runbooks/build.json");
    cr_expect(strstr(text, "\"//\"") != NULL, "the starter must be commented: %s", text);
    char *gitignore = read_file(path_in(".oj/.gitignore"));
    cr_expect(gitignore != NULL, ".oj/ is made as `oj daemon start` makes it");
    free(gitignore);

    o = OJ(&e, "runbook", "check");
    cr_expect_eq(o.code, 0, "the starter must pass the check: %s", o.err);
    cr_expect(strstr(o.out, "ok, 1 pipeline and 1 job") != NULL, "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "runbook", "list");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "build") && strstr(o.out, "implement (agent)") &&
                  strstr(o.out, "merge (merge-lock)") && strstr(o.out, "cleanup") &&
                  strstr(o.out, ".oj/runbooks/build.json"),
              "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "runbook", "list", "--json");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "--json must be JSON: %s", o.out);
    const cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "pipelines"), 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p0, "name")), "build");
    cr_expect(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p0, "file")),
                     "/.oj/runbooks/build.json") != NULL);
    const cJSON *j0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "jobs"), 0);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j0, "enabled")));
    cJSON_Delete(j);
    oj_out_free(&o);
    cr_expect_eq(env_daemon_pid(&e), 0, "none of this may start a daemon");

    /* A second init changes nothing. */
    o = OJ(&e, "init");
    cr_expect_eq(o.code, 5, "%s", o.err);
    cr_expect(strstr(o.err, ".oj/runbooks/build.json") && strstr(o.err, "already exists"), "%s",
              o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);
    char *again = read_file(path_in(".oj/runbooks/build.json"));
    cr_expect(again && strcmp(again, text) == 0, "the file must be left as it was");
    free(again);
    free(text);

    /* The daemon loads it and its pipeline runs to the end: agent, check, merge. */
    cr_assert_eq(env_start_daemon(&e), 0);
    o = OJ(&e, "run", "build", "hello", "say hello");
    cr_assert_eq(o.code, 0, "%s", o.err);
    struct done_wait w = {0};
    char id[16];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(o.out, "\n"), o.out);
    w.id = id;
    cr_expect(wait_until(finished, &w, 60000), "the starter pipeline did not finish: %s", w.seen);
    cr_expect_str_eq(w.seen, "done");
    oj_out_free(&o);
    char log[4096];
    char *gl[] = {"git", "log", "--oneline", "-5", NULL};
    cr_expect_eq(run_prog(e.dir, 10000, log, sizeof log, gl), 0);
    cr_expect(strstr(log, "Merge branch 'oj/build-") != NULL, "merged into main: %s", log);
}

Test(onboarding, init_outside_git_writes_and_says_what_is_missing, .init = setup_plain,
     .fini = teardown)
{
    struct oj_out o = OJ(&e, "init");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.err, "not a git repository") && strstr(o.err, "git init"), "%s", o.err);
    oj_out_free(&o);
    cr_expect_eq(access(path_in(".oj/runbooks/build.json"), F_OK), 0);
}

Test(onboarding, init_refuses_a_starter_that_clashes, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "mine", "{\"pipelines\": {\"build\": {\"phases\": "
                                               "[{\"name\": \"s\", \"run\": \"true\"}]}}}"),
                 0);
    struct oj_out o = OJ(&e, "init");
    cr_expect_eq(o.code, 5, "%s", o.err);
    cr_expect(strstr(o.err, "also defined in") && strstr(o.err, "mine.json") &&
                  strstr(o.err, "was not written"),
              "%s", o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);
    cr_expect_neq(access(path_in(".oj/runbooks/build.json"), F_OK), 0);
}

Test(onboarding, runbook_check_and_list_without_a_daemon, .init = setup, .fini = teardown)
{
    /* No project yet. */
    struct oj_out o = OJ(&e, "runbook", "list");
    cr_expect_eq(o.code, 3, "%s", o.err);
    cr_expect(strstr(o.err, "oj init") != NULL, "%s", o.err);
    oj_out_free(&o);

    cr_assert_eq(env_write_runbook(&e, "good", "{\"pipelines\": {\"b\": {\"phases\": "
                                               "[{\"name\": \"s\", \"run\": \"true\", "
                                               "\"// why\": \"a comment\"}]}}}"),
                 0);
    o = OJ(&e, "runbook", "check");
    cr_expect_eq(o.code, 0, "a // member is a comment: %s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "runbook", "check", ".oj/runbooks/good.json");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);

    cr_assert_eq(env_write_runbook(&e, "bad", "{\"pipelines\": {\"c\": {\"phases\": "
                                              "[{\"name\": \"s\", \"run\": \"true\", "
                                              "\"timeout\": \"soon\"}]}}}"),
                 0);
    const char *cases[][2] = {{"check", NULL}, {"check", ".oj/runbooks/bad.json"}, {"list", NULL}};
    for (int i = 0; i < 3; i++) {
        o = OJ(&e, "runbook", cases[i][0], cases[i][1]);
        cr_expect_eq(o.code, 2, "%s %s: %s", cases[i][0], cases[i][1] ? cases[i][1] : "", o.err);
        cr_expect(strstr(o.err, "bad.json: pipelines.c.phases[0].timeout: not a duration"), "%s",
                  o.err);
        expect_one_line_error(&o);
        oj_out_free(&o);
    }
    o = OJ(&e, "runbook", "check", "no-such.json");
    cr_expect_eq(o.code, 4, "%s", o.err);
    cr_expect(strstr(o.err, "no-such.json") != NULL, "%s", o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);
    cr_expect_eq(env_daemon_pid(&e), 0, "no daemon is started");
}
