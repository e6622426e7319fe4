/* worktree.c — git worktrees for pipeline workspaces (see worktree.h). */
#include "worktree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "subprocess.h"
#include "shell.h" /* oj_shell_quote */

/* Runs git with argv in root; 0 when it exits 0, else -1 with its last
 * output line in err; -2 when there is no git to run (err: OJ_GIT_MISSING). */
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
        int why = errno;
        struct stat st;
        /* ENOENT is the program or the directory: the directory is there */
        if (why == ENOENT && stat(root, &st) == 0) {
            snprintf(err, errlen, "%s", OJ_GIT_MISSING);
            return -2;
        }
        snprintf(err, errlen, "cannot run git %s: %s", argv[1], oj_spawn_why(why));
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

int oj_worktree_check(const char *root, char *err, size_t errlen)
{
    char why[1024];
    char *check[] = {"git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}", NULL};
    int rc = git(root, check, NULL, 0, why, sizeof why);
    if (rc == -2) {
        snprintf(err, errlen,
                 "%s; pipelines work in git worktrees: install git, then restart the daemon "
                 "(`oj daemon stop && oj daemon start`) so that it finds git on its PATH",
                 OJ_GIT_MISSING);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen,
                 "%s is not a git repository with a commit; pipelines work in git worktrees: "
                 "run `git init && git commit --allow-empty -m init` there first",
                 root);
        return -1;
    }
    return 0;
}

/* The worktree lock, waited for up to OJ_WORKTREE_LOCK_WAIT_MS: its fd, or
 * -1 with err (-2: still held by someone else). */
static int take_lock(const char *lock, char *err, size_t errlen)
{
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", lock, strerror(errno));
        return -1;
    }
    int64_t give_up = oj_mono_ms() + OJ_WORKTREE_LOCK_WAIT_MS;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(errno));
            close(fd);
            return -1;
        }
        if (oj_mono_ms() >= give_up) {
            snprintf(err, errlen, "git is busy making a pipeline's worktree (%s is held for "
                                  "more than %d s); try again when it is done",
                     lock, OJ_WORKTREE_LOCK_WAIT_MS / 1000);
            close(fd);
            return -2;
        }
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return fd;
}

/* Said plainly, not as flock's "failed to execute git" or sh's "not found". */
#define NO_GIT "command -v git >/dev/null || { echo '" OJ_GIT_MISSING "' >&2; exit 127; }\n"

char *oj_worktree_add_command(const char *path, const char *branch, const char *base,
                              const char *lock, bool again)
{
    char *qp = oj_shell_quote(path), *qb = oj_shell_quote(branch), *ql = oj_shell_quote(lock);
    char *qc = oj_shell_quote(base && base[0] ? base : "HEAD");
    char *cmd = NULL;
    if (qp && qb && ql && qc && !again &&
        asprintf(&cmd, NO_GIT "exec flock %s git worktree add --quiet -b %s %s %s", ql, qb, qp,
                 qc) < 0)
        cmd = NULL;
    if (qp && qb && ql && qc && again &&
        asprintf(&cmd,
                 NO_GIT "p=%s; b=%s; l=%s; c=%s\n"
                 /* made before a crash cut this off: nothing to do */
                 "if [ -e \"$p/.git\" ]; then exit 0; fi\n"
                 "rm -rf \"$p\" || exit 1\n"
                 /* the branch made by the try that was cut off; -f: git may
                  * still list that try's worktree (never `git worktree prune`
                  * here: it races with another pipeline's add) */
                 "if git rev-parse --verify --quiet \"refs/heads/$b\" >/dev/null; then\n"
                 "  exec flock \"$l\" git worktree add --quiet -f \"$p\" \"$b\"\n"
                 "fi\n"
                 "exec flock \"$l\" git worktree add --quiet -b \"$b\" \"$p\" \"$c\"\n",
                 qp, qb, ql, qc) < 0)
        cmd = NULL;
    free(qc);
    free(qp);
    free(qb);
    free(ql);
    return cmd;
}

int oj_worktree_remove(const char *root, const char *lock, const char *path, const char *branch,
                       char *err, size_t errlen)
{
    char why[1024];
    struct stat st;
    int fd = take_lock(lock, err, errlen);
    if (fd < 0)
        return fd;
    char *argv[] = {"git", "worktree", "remove", "--force", "--force", (char *)path, NULL};
    if (stat(path, &st) == 0) {
        if (git(root, argv, NULL, 0, why, sizeof why) != 0) {
            snprintf(err, errlen, "git worktree remove %s failed: %s", path, why);
            close(fd);
            return -1;
        }
    } else {
        /* gone already: drop git's record of it (only its own, not `git
         * worktree prune`); nothing to drop is fine */
        git(root, argv, NULL, 0, why, sizeof why);
    }
    if (branch && branch[0]) {
        /* under the lock too: it reads every worktree's HEAD */
        char *del[] = {"git", "branch", "-d", "--quiet", (char *)branch, NULL};
        git(root, del, NULL, 0, why, sizeof why); /* unmerged: the work stays on its branch */
    }
    close(fd);
    return 0;
}

int oj_worktree_each(const char *root, const char *lock, const char *under,
                     void (*fn)(const char *path, const char *branch, void *arg), void *arg,
                     char *err, size_t errlen)
{
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = take_lock(lock, err, errlen);
    if (fd < 0) {
        free(out);
        return fd;
    }
    char *argv[] = {"git", "worktree", "list", "--porcelain", NULL};
    int rc = git(root, argv, out, cap, err, errlen);
    close(fd);
    if (rc != 0) {
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

int oj_worktree_resolve_base(const char *root, const char *ref, char *sha, size_t shalen,
                             char *err, size_t errlen)
{
    char spec[300], out[256], why[1024];
    snprintf(spec, sizeof spec, "%s^{commit}", ref);
    char *argv[] = {"git", "rev-parse", "--verify", "--quiet", spec, NULL};
    int rc = git(root, argv, out, sizeof out, why, sizeof why);
    if (rc == -2) {
        snprintf(err, errlen, "%s", OJ_GIT_MISSING);
        return -2;
    }
    size_t len = strcspn(out, "\n");
    if (rc != 0 || len < 40) {
        snprintf(err, errlen, "--base %s: no such branch, tag or commit in %s (see `git branch "
                              "-a`)", ref, root);
        return -1;
    }
    snprintf(sha, shalen, "%.*s", (int)len, out);
    return 0;
}
