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
 * branch `branch` from the commit `base` (NULL or "": HEAD), run in the project root. With `again` (a try
 * before was cut off by a crash or a stop) it first looks at what that try
 * left: a worktree already made is kept, a half-made one is made again, a
 * branch already created is reused. */
char *oj_worktree_add_command(const char *path, const char *branch, const char *base,
                              const char *lock, bool again);

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

/* ---- a workspace's base and its changes (worktree_diff.c, and resolve) ---- */

/* The commit `ref` (a branch, tag or commit; oj_base_ref_problem() passed)
 * names in the project, as a full sha into sha; 0, or -1 with a one-line err
 * naming the ref (-2: no git at all, err OJ_GIT_MISSING). */
int oj_worktree_resolve_base(const char *root, const char *ref, char *sha, size_t shalen,
                             char *err, size_t errlen);

/* How long one diff or diff-stat may take; past it git is killed (below the
 * CLI's 30 s wait for an answer, so the answer says so). */
#define OJ_DIFF_TIMEOUT_MS 20000
/* The most of a diff one WorkspaceDiff reply carries: past it the diff is cut
 * at a line end and the reply says truncated. */
#define OJ_DIFF_MAX_BYTES (2u * 1024 * 1024)
/* Untracked files named in one reply at most. */
#define OJ_DIFF_MAX_UNTRACKED 1000

/* The worktree's diff-stat against base: committed, uncommitted and untracked
 * (not ignored) changes, as `git diff --shortstat <base>` counts them with
 * every untracked file added (intent-to-add, in a copy of the index: the
 * worktree's own index is not touched). git's line into line (read it with
 * oj_diffstat_parse); 0, or -1 with err. */
int oj_worktree_diffstat(const char *path, const char *base, char *line, size_t linelen,
                         char *err, size_t errlen);

struct oj_worktree_diff {
    char *text; /* malloc'd, NUL-terminated; at most OJ_DIFF_MAX_BYTES + 1 */
    size_t len;
    bool more; /* git said more than OJ_DIFF_MAX_BYTES (cut it with oj_diff_cut) */
    char **untracked; /* malloc'd names not in text (NULL-terminated); NULL with untracked */
    size_t n_untracked;
};

/* `git diff <base>` in the worktree at path (its --stat with stat): what its
 * branch committed since base plus what is not committed yet. Untracked files
 * are named in d->untracked, or with include_untracked are in the diff as new
 * files. 0, or -1 with err. Free with oj_worktree_diff_free. */
int oj_worktree_diff(const char *path, const char *base, bool stat, bool include_untracked,
                     struct oj_worktree_diff *d, char *err, size_t errlen);
void oj_worktree_diff_free(struct oj_worktree_diff *d);
#endif
