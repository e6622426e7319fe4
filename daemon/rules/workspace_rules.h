/* workspace_rules.h — the pure rules of a workspace's review and set-up:
 * which OJ_PORT a new workspace gets, what git's diff-stat line says, where a
 * diff too big for one reply is cut, and which --base refs are refused before
 * git is asked. No I/O: the git calls are in runners/worktree.c. */
#ifndef OJ_WORKSPACE_RULES_H
#define OJ_WORKSPACE_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first free port of the range base, base+step, ... (count of them)
 * that no entry of taken[] holds; -1 when all are taken. A port past 65535
 * ends the range early. */
int oj_port_pick(const int64_t *taken, size_t ntaken, int base, int step, int count);

/* How many ports a range has (OJ_PORT_BASE, OJ_PORT_STEP pick where it starts and
 * how far apart; this is how many live workspaces it serves at once). */
#define OJ_PORT_COUNT 1000

struct oj_diffstat {
    int64_t files, added, removed;
};

/* Reads git's `--shortstat` line (" 3 files changed, 10 insertions(+), 2
 * deletions(-)"; a part is left out when 0; "" when nothing changed) into s.
 * -1 when the text is neither (s then zero). */
int oj_diffstat_parse(const char *text, struct oj_diffstat *s);

/* The size a diff of len bytes is sent with when at most max bytes may be:
 * len when it fits, else up to and including the last '\n' within max (max
 * itself when the first max bytes hold no line end). */
size_t oj_diff_cut(const char *text, size_t len, size_t max);

/* Why a --base value is refused before git is asked, or NULL: empty, too
 * long, starting with '-' (git would read an option) or holding a control
 * character or a space. */
const char *oj_base_ref_problem(const char *ref);
#endif
