/* worktree.h — a pipeline's workspace is a git worktree of the project on a
 * branch of its own, under .oj/workspaces/ (which .oj/.gitignore keeps out
 * of `git status`). Thin wrappers over git, each with a time limit. */
#ifndef OJ_WORKTREE_H
#define OJ_WORKTREE_H
#include <stddef.h>

#define OJ_GIT_TIMEOUT_MS 30000

/* `git worktree add -b <branch> <path> HEAD` in the project. 0, or -1 with
 * git's complaint and what to do in err. */
int oj_worktree_add(const char *root, const char *path, const char *branch, char *err,
                    size_t errlen);

/* Removes the worktree (even with changes in it; a path already gone is
 * pruned) and deletes its branch when that branch is merged (`git branch -d`;
 * unmerged work stays on its branch). 0, or -1 with err. */
int oj_worktree_remove(const char *root, const char *path, const char *branch, char *err,
                       size_t errlen);

/* Calls fn for every worktree of the project below `under` (git's list).
 * Returns how many, or -1 with err. */
int oj_worktree_each(const char *root, const char *under,
                     void (*fn)(const char *path, const char *branch, void *arg), void *arg,
                     char *err, size_t errlen);
#endif
