/* Onboarding: which project a directory belongs to (a nested git repository
 * is a project of its own), a missing git said as such. */
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
