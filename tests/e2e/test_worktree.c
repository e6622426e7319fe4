/* The worktree command a pipeline's workspace is made with, against a real
 * git repository: it must be safe to run again after a crash cut it off. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "subprocess.h"
#include "tmux.h"
#include "worktree.h"

static struct oj_env e;
static char ws[PATH_MAX + 64], lock[PATH_MAX + 32];

static void setup(void)
{
    env_setup(&e, true);
    snprintf(ws, sizeof ws, "%s/.oj/workspaces/build-p123456", e.dir);
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/.oj", e.dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/.oj/workspaces", e.dir);
    mkdir(dir, 0700);
    snprintf(lock, sizeof lock, "%s/.oj/worktree.lock", e.dir);
}
static void teardown(void) { env_teardown(&e); }

/* Runs the command as the daemon does: sh -c in the project root. */
static int make_it(bool again, char *out, size_t outlen)
{
    char *cmd = oj_worktree_add_command(ws, "oj/build-p123456", NULL, lock, again);
    cr_assert_not_null(cmd);
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rc = run_prog(e.dir, 30000, out, outlen, argv);
    free(cmd);
    return rc;
}

static bool is_worktree(void)
{
    char out[4096];
    char *argv[] = {"git", "worktree", "list", "--porcelain", NULL};
    return run_prog(e.dir, 10000, out, sizeof out, argv) == 0 && strstr(out, ws) != NULL;
}

static bool on_branch(void)
{
    char out[256];
    char *argv[] = {"git", "-C", ws, "rev-parse", "--abbrev-ref", "HEAD", NULL};
    return run_prog("/", 10000, out, sizeof out, argv) == 0 &&
           strcmp(out, "oj/build-p123456\n") == 0;
}

Test(worktree, the_command_makes_a_worktree_and_is_safe_to_run_again, .init = setup,
     .fini = teardown)
{
    char out[4096];
    cr_assert_eq(make_it(false, out, sizeof out), 0, "%s", out);
    cr_expect(is_worktree() && on_branch(), "a worktree on its own branch");

    /* Run again (the crash came after git finished): kept as it is. */
    char mark[sizeof ws + 32];
    snprintf(mark, sizeof mark, "%s/work-in-progress.txt", ws);
    FILE *f = fopen(mark, "w");
    cr_assert_not_null(f);
    fputs("keep me\n", f);
    fclose(f);
    cr_expect_eq(make_it(true, out, sizeof out), 0, "%s", out);
    struct stat st;
    cr_expect_eq(stat(mark, &st), 0, "a made worktree is left alone");

    /* Half made (the directory without its .git link; the branch exists):
     * made again on the branch it already has. */
    char cmd[sizeof ws + 32];
    snprintf(cmd, sizeof cmd, "rm -f '%s/.git'", ws);
    cr_assert_eq(system(cmd), 0);
    cr_expect_eq(make_it(true, out, sizeof out), 0, "%s", out);
    cr_expect(is_worktree() && on_branch(), "made again, on the same branch");
}

Test(worktree, a_path_with_quotes_and_spaces_is_only_a_path, .init = setup, .fini = teardown)
{
    snprintf(ws, sizeof ws, "%s/.oj/workspaces/it's a \"dir\" $(touch HACKED)", e.dir);
    char out[4096];
    cr_assert_eq(make_it(false, out, sizeof out), 0, "%s", out);
    cr_expect(is_worktree());
    /* and the longer command for a try after a crash, on a half-made one */
    char dotgit[sizeof ws + 8];
    snprintf(dotgit, sizeof dotgit, "%s/.git", ws);
    cr_assert_eq(unlink(dotgit), 0);
    cr_assert_eq(make_it(true, out, sizeof out), 0, "%s", out);
    cr_expect(is_worktree() && on_branch());
    char hacked[PATH_MAX + 16];
    snprintf(hacked, sizeof hacked, "%s/HACKED", e.dir);
    struct stat st;
    cr_expect_neq(stat(hacked, &st), 0, "the path ran as a command");
}

/* Pipelines started together make their worktrees at the same time. */
Test(worktree, several_made_at_once_all_succeed, .init = setup, .fini = teardown)
{
    enum { N = 6 };
    FILE *runs[N];
    for (int i = 0; i < N; i++) {
        char path[PATH_MAX + 64], branch[32];
        snprintf(path, sizeof path, "%s/.oj/workspaces/w%d", e.dir, i);
        snprintf(branch, sizeof branch, "oj/w%d", i);
        char *cmd = oj_worktree_add_command(path, branch, NULL, lock, false);
        char *dir = oj_shell_quote(e.dir);
        char *line = NULL;
        cr_assert(asprintf(&line, "cd %s && { %s\n} 2>&1", dir, cmd) > 0);
        runs[i] = popen(line, "r");
        cr_assert_not_null(runs[i]);
        free(line);
        free(dir);
        free(cmd);
    }
    for (int i = 0; i < N; i++) {
        char out[2048] = "";
        size_t n = fread(out, 1, sizeof out - 1, runs[i]);
        out[n] = '\0';
        int status = pclose(runs[i]);
        cr_expect_eq(status, 0, "worktree %d: %s", i, out);
    }
    char out[8192];
    char *argv[] = {"git", "worktree", "list", NULL};
    cr_assert_eq(run_prog(e.dir, 10000, out, sizeof out, argv), 0);
    int count = 0;
    for (const char *p = out; (p = strstr(p, "[oj/w")) != NULL; p++)
        count++;
    cr_expect_eq(count, N, "%s", out);
}

/* No git on PATH (sh and flock only): said as such, not as flock's "failed
 * to execute" or as "not a git repository". */
Test(worktree, a_missing_git_is_said_as_such, .init = setup, .fini = teardown)
{
    char bin[PATH_MAX + 16], link[PATH_MAX + 32], pathvar[PATH_MAX + 32];
    snprintf(bin, sizeof bin, "%s/nogit-bin", e.dir);
    cr_assert_eq(mkdir(bin, 0755), 0);
    const char *tools[][2] = {{"/bin/sh", "sh"}, {"/usr/bin/flock", "flock"}};
    for (int i = 0; i < 2; i++) {
        snprintf(link, sizeof link, "%s/%s", bin, tools[i][1]);
        cr_assert_eq(symlink(tools[i][0], link), 0);
    }
    snprintf(pathvar, sizeof pathvar, "PATH=%s", bin);
    for (int again = 0; again < 2; again++) {
        char *cmd = oj_worktree_add_command(ws, "oj/build-p123456", NULL, lock, again);
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        char *env[] = {pathvar, NULL};
        char out[4096];
        struct oj_proc_result r;
        cr_assert_eq(oj_run_env(argv, e.dir, env, 30000, out, sizeof out, 1, &r), 0);
        cr_expect_neq(r.exit_status, 0);
        cr_expect(strstr(out, "git is not installed or not on PATH") != NULL, "%s", out);
        free(cmd);
    }
    cr_assert_eq(setenv("PATH", bin, 1), 0);
    char err[1024];
    cr_expect_eq(oj_worktree_check(e.dir, err, sizeof err), -1);
    cr_expect(strstr(err, "git is not installed or not on PATH") != NULL, "%s", err);
    cr_expect(strstr(err, "not a git repository") == NULL, "%s", err);
}
