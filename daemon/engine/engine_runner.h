/* engine_runner.h — running a command for the engine: runner.h's thread, with
 * its result posted back to the engine thread (engine_runner.c). */
#ifndef OJ_ENGINE_RUNNER_H
#define OJ_ENGINE_RUNNER_H
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "runner.h"

/* Runners (runner.h; engine_runner.c): starts `sh -c` as spec says on a
 * thread of its own; when it has ended, finished(d, arg, exit_status,
 * timed_out, tail) runs on the engine thread, where tail is the output's last
 * line. */
typedef void (*oj_runner_done)(struct oj_daemon *d, void *arg, int exit_status, bool timed_out,
                               const char *tail);
/* arg must come from malloc: when the result can never be delivered (the
 * engine ended first), it is freed. On -1 (no thread), arg stays the caller's. */
int oj_runner_start(struct oj_daemon *d, const struct oj_run_spec *spec, oj_runner_done finished,
                    void *arg);
/* Waits until every result is recorded or the monotonic deadline; how many remain. */
int oj_runners_wait(struct oj_daemon *d, int64_t deadline_mono_ms);

#endif
