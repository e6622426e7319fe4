/* worktree_diff.c — a workspace's changes against the commit it was made
 * from, for `oj workspace diff` and the diff-stat column (worktree.h). Runs
 * on a thread of its own, never the engine's; every git call has a time
 * limit. git's optional locks are off (GIT_OPTIONAL_LOCKS=0): a diff never
 * writes the index an agent may be using. */
#include "worktree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subprocess.h"

/* $1 the base, $2 "with-untracked" or "", then git diff's options. Every
 * message of git goes to a file and only the last line of it to stderr, and
 * only when git fails: the output is the diff alone. With untracked files,
 * git sees them as intent-to-add in a copy of the worktree's index. */
static const char script[] =
    "b=$1; u=$2; shift 2\n"
    "export GIT_OPTIONAL_LOCKS=0\n"
    "t=$(mktemp \"${TMPDIR:-/tmp}/oj-diff.XXXXXX\") || exit 1\n"
    "trap 'rm -f \"$t\" \"$t.idx\"' EXIT\n"
    "fail() { tail -n 1 \"$t\" >&2; exit 1; }\n"
    "if [ \"$u\" = with-untracked ]; then\n"
    "  i=$(git rev-parse --git-path index 2>\"$t\") || fail\n"
    "  if [ -e \"$i\" ]; then cp \"$i\" \"$t.idx\" || exit 1; fi\n"
    "  export GIT_INDEX_FILE=\"$t.idx\"\n"
    "  git add -A -N -- . >/dev/null 2>\"$t\" || fail\n"
    "fi\n"
    "git diff --no-ext-diff --no-color --no-textconv \"$@\" \"$b\" -- 2>\"$t\" || fail\n";

/* Runs the script in path; out gets what it printed (stdout, then on failure
 * its last error line). 0 when git said the diff, else -1 with err. */
static int run_diff(const char *path, const char *base, bool untracked, const char *opt,
                    char *out, size_t outlen, size_t *outused, char *err, size_t errlen)
{
    char *argv[] = {"sh", "-c", (char *)script, "sh", (char *)base,
                    untracked ? "with-untracked" : "", (char *)opt, NULL};
    if (opt == NULL || opt[0] == '\0')
        argv[6] = NULL;
    struct oj_proc_result res;
    if (oj_run(argv, path, OJ_DIFF_TIMEOUT_MS, out, outlen, 1, &res) != 0) {
        snprintf(err, errlen, "cannot run git diff: %s", oj_spawn_why(errno));
        return -1;
    }
    if (outused)
        *outused = res.out_len;
    if (res.timed_out) {
        snprintf(err, errlen, "git diff took longer than %d s", OJ_DIFF_TIMEOUT_MS / 1000);
        return -1;
    }
    if (res.exit_status != 0) {
        size_t len = res.out_len;
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
            out[--len] = '\0';
        const char *line = strrchr(out, '\n');
        snprintf(err, errlen, "git diff %s: %s", base,
                 (line ? line + 1 : out)[0] ? (line ? line + 1 : out) : "failed");
        return -1;
    }
    return 0;
}

int oj_worktree_diffstat(const char *path, const char *base, char *line, size_t linelen,
                         char *err, size_t errlen)
{
    return run_diff(path, base, true, "--shortstat", line, linelen, NULL, err, errlen);
}

/* Names of the untracked (not ignored) files of the worktree into d. */
static int untracked(const char *path, struct oj_worktree_diff *d, char *err, size_t errlen)
{
    size_t cap = 256 * 1024;
    char *out = malloc(cap);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *argv[] = {"git", "ls-files", "--others", "--exclude-standard", "-z", NULL};
    struct oj_proc_result res;
    if (oj_run(argv, path, OJ_DIFF_TIMEOUT_MS, out, cap, 0, &res) != 0 || res.timed_out ||
        res.exit_status != 0) {
        snprintf(err, errlen, "git ls-files --others failed in %s", path);
        free(out);
        return -1;
    }
    d->untracked = calloc(OJ_DIFF_MAX_UNTRACKED + 1, sizeof *d->untracked);
    for (size_t at = 0; d->untracked && at < res.out_len &&
                        d->n_untracked < OJ_DIFF_MAX_UNTRACKED;) {
        size_t n = strnlen(out + at, res.out_len - at);
        if (at + n >= res.out_len) /* cut off by the buffer: not a whole name */
            break;
        if ((d->untracked[d->n_untracked] = strndup(out + at, n)) == NULL)
            break;
        d->n_untracked++;
        at += n + 1;
    }
    free(out);
    return 0;
}

int oj_worktree_diff(const char *path, const char *base, bool stat, bool include_untracked,
                     struct oj_worktree_diff *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    size_t cap = OJ_DIFF_MAX_BYTES + 2; /* one byte past the bound says there is more */
    if ((d->text = malloc(cap)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (run_diff(path, base, include_untracked, stat ? "--stat" : "", d->text, cap, &d->len, err,
                 errlen) != 0 ||
        (!include_untracked && untracked(path, d, err, errlen) != 0)) {
        oj_worktree_diff_free(d);
        return -1;
    }
    d->more = d->len > OJ_DIFF_MAX_BYTES;
    return 0;
}

void oj_worktree_diff_free(struct oj_worktree_diff *d)
{
    free(d->text);
    for (size_t i = 0; i < d->n_untracked; i++)
        free(d->untracked[i]);
    free(d->untracked);
    memset(d, 0, sizeof *d);
}
