/* harness.h — helpers for end-to-end tests and benchmarks: a scratch project
 * directory (optionally a git repo), running the real `oj` binary with a time
 * limit and captured output, and waiting for a condition with a deadline
 * instead of sleeping.
 *
 * The binary under test is $OJ_BIN (scripts/run-tests.sh sets it to the plain or the
 * sanitizer build); default bin/oj. */
#ifndef OJ_TEST_HARNESS_H
#define OJ_TEST_HARNESS_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct oj_env {
    char dir[128];      /* the project directory (always short: /tmp/ojt.XXXXXX) */
    char oj[PATH_MAX];  /* absolute path of the oj binary */
};

struct oj_out {
    int code;     /* exit status (128+sig when killed) */
    char *out;    /* stdout, NUL-terminated (caller frees with oj_out_free) */
    char *err;    /* stderr */
    double secs;  /* wall time */
};

/* Makes a fresh directory under /tmp (short, for socket paths); with `git`, a
 * git repo with one commit. */
void env_setup(struct oj_env *e, bool git);
/* Kills a daemon left running, checks its log for sanitizer reports, removes
 * the directory. Returns false (after printing it) if the log has a report. */
bool env_teardown(struct oj_env *e);

/* `oj daemon start` in the project; returns its exit status (stderr is
 * printed on failure). */
int env_start_daemon(const struct oj_env *e);

/* Starts tests/agents/fake-agent.sh as session `name` and writes its id into
 * id. Returns 0, or the failing exit status (stderr printed). */
int env_start_agent(const struct oj_env *e, const char *name, char *id, size_t idlen);

/* Runs `oj` with the NULL-terminated arguments in `cwd` (NULL = e->dir),
 * extra environment entries "K=V" in `envp` (may be NULL; each replaces
 * ours of the same name), 60 s limit. */
struct oj_out oj_run_in(const struct oj_env *e, const char *cwd, char *const envp[], ...);
#define OJ(e, ...) oj_run_in((e), NULL, NULL, __VA_ARGS__, (char *)NULL)
void oj_out_free(struct oj_out *o);

/* Runs any program (argv[0] from PATH) in cwd with a time limit; returns
 * the exit status. Output discarded unless `out` is given. */
int run_prog(const char *cwd, int timeout_ms, char *out, size_t outlen, char *const argv[]);

/* Polls `cond(arg)` every few milliseconds until true or timeout_ms passes. */
bool wait_until(bool (*cond)(void *), void *arg, int timeout_ms);

/* The pid holding .oj/daemon.pid in e->dir, 0 if none. */
pid_t env_daemon_pid(const struct oj_env *e);
/* True while `pid` exists and is not a zombie (an exited daemon reparented to
 * an init that has not reaped it yet is gone for our purposes). */
bool process_alive(pid_t pid);
/* Reads a whole file (NULL if missing); caller frees. */
char *read_file(const char *path);

/* ---- the WAL as a crash leaves it ---- */

/* Where the data of a WAL file ends: its size less the preallocated end (a
 * run of 0xff bytes up to the end of the file, docs/storage.md), which a
 * daemon that did not stop cleanly leaves. -1 if it cannot be read. */
off_t wal_data_end(const char *path);
/* The WAL's data (up to wal_data_end) as a string; NULL if missing. */
char *read_wal(const char *path);
/* Writes n bytes where the data ends (over the preallocated end): what a
 * write of the daemon's that was cut short leaves. */
void wal_write_at_end(const char *path, const void *bytes, size_t n);

/* ---- pipelines ---- */

/* Writes `json` as <project>/.oj/runbooks/<name>.json (creating the folders),
 * atomically (a temporary file renamed over it), and makes sure the daemon's
 * reload check sees a change even when two writes land within one tick of the
 * file system's clock. Returns 0, or -1 with errno set. */
int env_write_runbook(const struct oj_env *e, const char *name, const char *json);
/* The same with text whose ' stand for " (runbooks written inline in C). */
int env_write_runbook_q(const struct oj_env *e, const char *name, const char *text);
/* Waits up to timeout_ms until pipeline `id` runs an agent (its step is
 * "agent" with a session); that session's id in sid. False on timeout. */
bool env_wait_pipeline_agent(const struct oj_env *e, const char *id, char sid[16],
                             int timeout_ms);

/* SIGKILLs the project's daemon and waits (10 s at most) until its pid lock
 * is free. False if no daemon ran or it did not go away. */
bool env_crash_daemon(const struct oj_env *e);

/* Starts `oj -C <project> args...` (args NULL-terminated) in the background,
 * stdout to out_path (NULL: /dev/null), stderr to /dev/null, extra
 * environment entries in envp (may be NULL). Returns its pid. */
pid_t oj_spawn_bg(const struct oj_env *e, const char *out_path, char *const envp[],
                  char *const args[]);
/* Waits up to timeout_ms for a child started by oj_spawn_bg; returns its exit
 * status (128+sig when killed), or -1 after killing it at the deadline. */
int child_wait_exit(pid_t pid, int timeout_ms);
#endif
