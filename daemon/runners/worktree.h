/* worktree.h — a pipeline's workspace is a git worktree of the project on a
 * branch of its own, under .oj/workspaces/ (which .oj/.gitignore keeps out
 * of `git status`). Thin wrappers over git, each with a time limit.
 *
 * git's worktree commands are not safe to run at once in one repository
 * (an add reads every other worktree's files while another add writes
 * them), so each holds the lock file `lock` (flock; .oj/worktree.lock). */
#ifndef OJ_WORKTREE_H
#define OJ_WORKTREE_H
#include <stdbool.h>
#include <stddef.h>

#define OJ_GIT_TIMEOUT_MS 30000

/* What every git command here says when there is no git to run (ENOENT from
 * exec, not git's own failure). */
#define OJ_GIT_MISSING "git is not installed or not on PATH"

/* Whether the project is a git repository with a commit, as a worktree
 * needs. 0, or -1 with what to do in err (OJ_GIT_MISSING first when there
 * is no git at all). Quick: one `git rev-parse`. */
int oj_worktree_check(const char *root, char *err, size_t errlen);

/* How long making a worktree may take (a big checkout); it runs on a runner
 * thread, not the engine's. */
#define OJ_WORKTREE_ADD_TIMEOUT_MS 600000

/* The sh command (malloc'd) that makes the worktree at `path` on the new
 * branch `branch` from HEAD, run in the project root. With `again` (a try
 * before was cut off by a crash or a stop) it first looks at what that try
 * left: a worktree already made is kept, a half-made one is made again, a
 * branch already created is reused. */
char *oj_worktree_add_command(const char *path, const char *branch, const char *lock,
                              bool again);

/* How long the engine waits for the lock before it gives up on a remove or
 * a list (a big checkout holds it for longer). */
#define OJ_WORKTREE_LOCK_WAIT_MS 5000

/* Removes the worktree (even with changes in it; a path already gone is
 * dropped from git's list) and deletes its branch when that branch is merged
 * (`git branch -d`; unmerged work stays on its branch). 0, or -1 with err;
 * -2 when the worktree lock stayed busy (err says so). */
int oj_worktree_remove(const char *root, const char *lock, const char *path, const char *branch,
                       char *err, size_t errlen);

/* Calls fn for every worktree of the project below `under` (git's list).
 * Returns how many, or -1 with err (-2: the worktree lock stayed busy). */
int oj_worktree_each(const char *root, const char *lock, const char *under,
                     void (*fn)(const char *path, const char *branch, void *arg), void *arg,
                     char *err, size_t errlen);
#endif
