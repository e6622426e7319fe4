/* pipeline_follow.h — following a pipeline from the CLI: its output in order
 * (oj pipeline logs [-f], oj run --follow) and its outcome (oj pipeline wait,
 * oj run --wait). Both read through rpcs and the events socket only, never
 * the daemon's files. */
#ifndef OJ_PIPELINE_FOLLOW_H
#define OJ_PIPELINE_FOLLOW_H
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/* Prints the pipeline's output so far (PipelineLogs); with follow, then what
 * comes until the pipeline has finished and all of it is printed, or Ctrl-C.
 * json: one PipelineLogsResponse per line. Writes the pipeline's last known
 * state into state (may be NULL). Returns an exit code. */
int oj_pipeline_print_logs(struct oj_ctx *ctx, struct oj_client *c, const char *query,
                           bool follow, bool json, char *state, size_t statelen);

/* Waits until the pipeline is done, failed, cancelled or escalated (a human
 * is needed), at most timeout_ms (0: no bound), and says which on stdout
 * (json: its PipelineStatusResponse). Returns oj_exit_for_outcome of it, or
 * OJ_EXIT_TIMEOUT. */
int oj_pipeline_await(struct oj_ctx *ctx, struct oj_client *c, const char *query,
                     int64_t timeout_ms, bool json);

/* The exit code for a pipeline's state: 0 done, OJ_EXIT_PIPELINE_FAILED,
 * OJ_EXIT_PIPELINE_CANCELLED, OJ_EXIT_NEEDS_HUMAN (escalated); -1 for a state
 * that is not an outcome (running, waiting). Pure. */
int oj_exit_for_outcome(const char *state);
#endif
