/* cron.h — scheduled jobs with their effects (engine thread only): the
 * tick that starts the due ones, a command job on a runner thread, a
 * pipeline job through oj_pipeline_start, and the job's record in the store.
 * The rules (enabled, due, skip) are in cron_job.h; `oj cron` is rpc_cron.c.
 *
 * A command job runs like a shell step (runner.c) in the project root, its
 * output in .oj/logs/cron/<name>.log, never twice at once (the daemon's
 * cron_running table, in memory only); a pipeline job starts that pipeline
 * with the job's inputs, and skips its turn while the pipeline it started
 * last is still active. */
#ifndef OJ_CRON_H
#define OJ_CRON_H
#include <stdbool.h>
#include <stddef.h>

#include "cron_job.h"

struct oj_daemon;

/* Once a second: records jobs seen for the first time and runs the due
 * ones (none while the daemon is stopping). */
void oj_cron_tick(struct oj_daemon *d);

/* The job `name` in the runbooks, reloaded first when they changed (NULL:
 * no such job). */
const struct oj_job_def *oj_cron_find(struct oj_daemon *d, const char *name);
/* Its record; false (and r as for a job never seen) when it has none yet. */
bool oj_cron_record(struct oj_daemon *d, const char *name, struct oj_cron_rec *r);

/* How a run's start went, on the engine thread: rc 0, or -1 with err. d is
 * NULL when the engine ended first: only free arg. */
typedef void (*oj_cron_ran)(struct oj_daemon *d, void *arg, int rc, const char *err);
/* Runs job j now (oj cron run, the tick): -1 with err when it cannot (its
 * command still runs, its last pipeline is still active, or it could not
 * start; ran is then not called), else 0, and ran (may be NULL) follows once
 * it has started (a pipeline job's start asks git first, off the engine
 * thread: oj_pipeline_start) with the job's record written. */
int oj_cron_run(struct oj_daemon *d, const struct oj_job_def *j, oj_cron_ran ran, void *arg,
                char *err, size_t errlen);
/* oj cron enable / disable: the operator's setting, which wins over the
 * runbook's. 0, or -1 when it cannot be recorded. */
int oj_cron_set_enabled(struct oj_daemon *d, const struct oj_job_def *j, bool on);

/* Frees the table of running commands (at the stop). */
void oj_cron_forget(struct oj_daemon *d);
#endif
