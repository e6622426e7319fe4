/* runner.h — runs `sh -c command` on a thread of its own, so that whoever
 * starts it (the engine) never waits for a command.
 *
 * The command runs through oj_run_env: in cwd, in its own process group,
 * killed at its time limit (0 = none), with the daemon's environment, `env`'s
 * entries put over it and oj's own directory first on PATH. Its output is
 * appended to log_path (after a "$ command" line, before an "[exit …]" line).
 * With pgid_file, sh first writes its pid there (its process group: a crash
 * leaves the step running without its daemon, and the next start kills the
 * group).
 *
 * The result goes back through the `post` callback handed in, called once on
 * the runner's thread when the command has ended; the runner knows nothing of
 * who receives it (the engine posts it to its queue). */
#ifndef OJ_RUNNER_H
#define OJ_RUNNER_H
#include <stdbool.h>
#include <stdint.h>

struct oj_run_spec {
    const char *command, *cwd, *log_path, *pgid_file;
    char *const *env; /* NAME=value entries put over the daemon's environment */
    int64_t timeout_ms;
};

/* How a run ended: its exit status (127 when sh could not run; tail then
 * says why), whether the time limit killed it, and its output's last line. */
struct oj_run_result {
    int exit_status;
    bool timed_out;
    char tail[512];
};

/* Called once, on the runner's thread, with the result (valid during the
 * call only). */
typedef void (*oj_run_post)(void *arg, const struct oj_run_result *res);

/* Starts the run: 0, or -1 when no thread could be started (post is then
 * never called and arg stays the caller's). */
int oj_run_start(const struct oj_run_spec *spec, oj_run_post post, void *arg);
#endif
