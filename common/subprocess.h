/* subprocess.h — run a program with a hard time limit and capture its output.
 *
 * Every call oj makes to git, tmux or sh goes through here, so none can hang
 * the caller: past `timeout_ms` the child's whole process group gets SIGKILL.
 * Children start with posix_spawn (nng is not fork-safe), in their own process
 * group, with stdin from /dev/null. */
#ifndef OJ_SUBPROCESS_H
#define OJ_SUBPROCESS_H
#include <stddef.h>

struct oj_proc_result {
    int exit_status; /* exit code, or 128+signal when killed by a signal */
    int timed_out;   /* 1 when the time limit ended it */
    size_t out_len;  /* bytes of stdout kept (at most outlen-1; NUL-terminated) */
};

/* Runs argv (argv[0] looked up in PATH) in `cwd` (NULL = inherit). Captures
 * stdout into out (may be NULL); stderr is appended to out too when
 * `merge_stderr`, else discarded. Returns 0 when the program ran (see res),
 * -1 when it could not be started (errno set). */
int oj_run(char *const argv[], const char *cwd, int timeout_ms, char *out, size_t outlen,
           int merge_stderr, struct oj_proc_result *res);

/* Why a program could not be started, from the errno oj_run() left, for the
 * end of "cannot run tmux: ...": E2BIG says its arguments were too long (not
 * that it is missing), ENOENT that it is not installed or its directory is
 * gone, anything else strerror's words. Pure. */
const char *oj_spawn_why(int errnum);

/* oj_run() with an explicit environment (NULL = this process's). */
int oj_run_env(char *const argv[], const char *cwd, char *const envp[], int timeout_ms, char *out,
               size_t outlen, int merge_stderr, struct oj_proc_result *res);
#endif
