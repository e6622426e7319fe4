/* paths.h — where a project's daemon keeps its files, computed the same way by
 * the daemon and every client.
 *
 *   <root>/.oj/                 state directory (0700), ignored by git via .oj/.gitignore
 *   <root>/.oj/daemon.pid       pid file; a POSIX write lock on it marks the live daemon
 *   <root>/.oj/daemon.sock      req/rep socket (0600)
 *   <root>/.oj/events.sock      pub/sub socket (0600)
 *   <root>/.oj/tmux.sock        the daemon's private tmux server
 *   <root>/.oj/logs/sessions/   raw output of each session, <id>.log
 *   <root>/.oj/logs/daemon.log  daemon log
 *
 * A Unix socket path must be shorter than 108 bytes. When <root> is too deep
 * for that, both sockets move to a short per-user directory keyed by a hash of
 * the root: $XDG_RUNTIME_DIR/oj/ or /tmp/oj-<uid>/, as <hash>.sock,
 * <hash>.ev.sock and <hash>.tmux.sock. */
#ifndef OJ_PATHS_H
#define OJ_PATHS_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_SUN_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) on Linux */

struct oj_paths {
    char root[PATH_MAX];
    char state_dir[PATH_MAX];
    char pid_path[PATH_MAX];
    char log_dir[PATH_MAX];
    char log_path[PATH_MAX];
    char sock_dir[PATH_MAX]; /* directory holding the sockets (.oj or the fallback) */
    char sock_path[PATH_MAX];
    char events_sock_path[PATH_MAX];
    char tmux_sock_path[PATH_MAX]; /* the daemon's private tmux server */
    char session_log_dir[PATH_MAX]; /* .oj/logs/sessions: one raw output log per session */
    char worktree_lock[PATH_MAX];   /* .oj/worktree.lock: one git worktree command at a time */
    bool sock_fallback;
};

/* Walks up from `start` (absolute or relative) to the nearest directory that
 * holds a `.oj/` directory or is the top of a git repository (holds `.git`,
 * a directory or a file: a submodule, a worktree), and writes its absolute
 * path into root. So a repository nested in another one's tree is a project
 * of its own, never its parent's. A `.git` inside an `.oj/` directory does
 * not count: a pipeline's workspace (.oj/workspaces/...) belongs to the
 * project around it. Returns 1 when root holds `.oj/` (a project), 0 when it
 * is a git repository without one (no project yet), -1 when neither is found
 * up to / (or start does not exist). No git is run. */
int oj_find_root(const char *start, char *root, size_t len);

/* oj_find_root() for an existing project: 0 when the nearest root holds
 * `.oj/`, -1 otherwise (root is still written when a repository was found). */
int oj_find_project(const char *start, char *root, size_t len);

/* Fills `p` for the project at absolute path `root`. Returns 0, or -1 when even
 * the fallback socket path would be too long (errno = ENAMETOOLONG). */
int oj_paths_init(struct oj_paths *p, const char *root);

/* The directory holding the running oj binary ("" if unknown): the daemon
 * puts it first on PATH for everything it runs, so agents, shell steps and
 * jobs find `oj` (and the bundled oj-fake-agent) without an install. */
void oj_self_dir(char *buf, size_t len);

/* FNV-1a 64 (fnv.h) of the root path, the key of the fallback socket names;
 * docs/protocol.md gives the recipe for clients. */
uint64_t oj_path_hash(const char *s);

/* Creates <root>/.oj (0700), .oj/logs and .oj/.gitignore ("*", so git never
 * shows the directory), and the fallback socket directory when used (0700,
 * must be ours and not a symlink). Returns 0, or -1 with errno set and a
 * description in err. */
int oj_paths_prepare(const struct oj_paths *p, char *err, size_t errlen);
#endif
