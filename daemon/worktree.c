/* worktree.c — git worktrees for pipeline workspaces (see worktree.h). */
#include "worktree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "subprocess.h"

/* Runs git with argv in root; 0 when it exits 0, else -1 with its last
 * output line in err. */
static int git(const char *root, char *const argv[], char *out, size_t outlen, char *err,
               size_t errlen)
{
    char buf[4096];
    if (out == NULL) {
        out = buf;
        outlen = sizeof buf;
    }
    struct oj_proc_result res;
    if (oj_run(argv, root, OJ_GIT_TIMEOUT_MS, out, outlen, 1, &res) != 0) {
        snprintf(err, errlen, "cannot run git: install it (scripts/install-deps.sh)");
        return -1;
    }
    if (res.timed_out) {
        snprintf(err, errlen, "git %s timed out after %d s", argv[1], OJ_GIT_TIMEOUT_MS / 1000);
        return -1;
    }
    if (res.exit_status != 0) {
        size_t len = res.out_len;
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
            out[--len] = '\0';
        char *line = strrchr(out, '\n');
        snprintf(err, errlen, "%s", line ? line + 1 : out);
        return -1;
    }
    return 0;
}

int oj_worktree_add(const char *root, const char *path, const char *branch, char *err,
                    size_t errlen)
{
    char why[1024];
    char *check[] = {"git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}", NULL};
    if (git(root, check, NULL, 0, why, sizeof why) != 0) {
        snprintf(err, errlen,
                 "%s is not a git repository with a commit; pipelines work in git worktrees: "
                 "run `git init && git commit --allow-empty -m init` there first",
                 root);
        return -1;
    }
    char *argv[] = {"git", "worktree", "add", "--quiet", "-b", (char *)branch, (char *)path,
                    "HEAD", NULL};
    if (git(root, argv, NULL, 0, why, sizeof why) != 0) {
        snprintf(err, errlen, "git worktree add %s failed: %s", path, why);
        return -1;
    }
    return 0;
}

int oj_worktree_remove(const char *root, const char *path, const char *branch, char *err,
                       size_t errlen)
{
    char why[1024];
    struct stat st;
    if (stat(path, &st) == 0) {
        char *argv[] = {"git", "worktree", "remove", "--force", "--force", (char *)path, NULL};
        if (git(root, argv, NULL, 0, why, sizeof why) != 0) {
            snprintf(err, errlen, "git worktree remove %s failed: %s", path, why);
            return -1;
        }
    } else {
        char *prune[] = {"git", "worktree", "prune", NULL};
        git(root, prune, NULL, 0, why, sizeof why);
    }
    if (branch && branch[0]) {
        char *del[] = {"git", "branch", "-d", "--quiet", (char *)branch, NULL};
        git(root, del, NULL, 0, why, sizeof why); /* unmerged: the work stays on its branch */
    }
    return 0;
}

int oj_worktree_each(const char *root, const char *under,
                     void (*fn)(const char *path, const char *branch, void *arg), void *arg,
                     char *err, size_t errlen)
{
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *argv[] = {"git", "worktree", "list", "--porcelain", NULL};
    if (git(root, argv, out, cap, err, errlen) != 0) {
        free(out);
        return -1;
    }
    /* Records: "worktree <path>\nHEAD <sha>\nbranch refs/heads/<b>\n\n" */
    int n = 0;
    size_t ulen = strlen(under);
    char path[4096] = "", branch[1024] = "";
    char *line = out;
    for (;;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "worktree ", 9) == 0) {
            snprintf(path, sizeof path, "%s", line + 9);
            branch[0] = '\0';
        } else if (strncmp(line, "branch refs/heads/", 18) == 0) {
            snprintf(branch, sizeof branch, "%s", line + 18);
        }
        if (line[0] == '\0' || next == NULL) { /* end of a record */
            if (path[0] && strncmp(path, under, ulen) == 0 && path[ulen] == '/') {
                fn(path, branch, arg);
                n++;
            }
            path[0] = '\0';
        }
        if (next == NULL)
            break;
        line = next;
    }
    free(out);
    return n;
}
