/* pipelines.h — the pipeline engine as the rest of the daemon sees it: the
 * tick, the hooks for what sessions and locks report, starting a pipeline,
 * counts for status, the graceful stop's lock release, the runbooks.
 * Engine thread only. Internals shared by the pipeline_*.c files are in
 * pipeline_engine.h. */
#ifndef OJ_PIPELINES_H
#define OJ_PIPELINES_H
#include <stddef.h>

#include "daemon.h"

/* Pipelines (pipeline_*.c), engine thread: the tick drives every active
 * pipeline; the session hooks get what the sessions tick saw (daemon_main.c). */
void oj_pipelines_tick(struct oj_daemon *d);
void oj_pipeline_session_stuck(struct oj_daemon *d, const char *pipeline_id, const char *session_id);
void oj_pipeline_session_ended(struct oj_daemon *d, const char *pipeline_id, const char *session_id);
/* `lock` was just released: the pipeline waiting longest for it takes it
 * (soon after, on the engine thread), not at the next tick. */
void oj_pipelines_lock_freed(struct oj_daemon *d, const char *lock);
/* Keeps the pipelines in play in an index of the state, so that the tick and
 * oj status visit only them (once, after the store opened). */
void oj_pipelines_index(struct oj_daemon *d);
unsigned oj_pipelines_active(struct oj_daemon *d);
unsigned oj_pipelines_queued(struct oj_daemon *d); /* agent phases waiting for a slot */
/* Pipelines waiting for a lock or a session slot (one malloc'd block: the
 * array and its strings; free() it). */
size_t oj_pipelines_waiting(struct oj_daemon *d, Oj__PipelineWait **out);
/* Graceful stop, main thread after the engine stopped: locks held by
 * pipelines are released and remembered, to be taken back at the next start. */
void oj_pipelines_release_locks(struct oj_daemon *d);
/* The pipeline a user meant: its exact id or a unique prefix (resolve.h;
 * pipelines have no names). Returns a wire status: OK with *id set (the
 * state's own key, valid while the record exists), else INVALID_ARGUMENT
 * (none given, or ambiguous) or NOT_FOUND, with the one-line why. */
int oj_pipeline_find(struct oj_daemon *d, const char *query, const char **id, char *why,
                     size_t whylen);
/* How a start ended, on the engine thread: code 0 with the new pipeline's
 * id, or a status code (wire StatusCode) with err. d is NULL when the engine
 * ended first: only free arg. */
typedef void (*oj_pipeline_started)(struct oj_daemon *d, void *arg, int code, const char *id,
                                    const char *err);
/* Starts a pipeline (oj run, scheduled jobs). What the state says (the
 * daemon takes work, the runbooks define it, the inputs bind) is checked at
 * once: a failure returns its status code with err (started is never
 * called). Whether the project is a git repository with a commit is asked
 * on a thread of its own; then, on the engine thread, the checks are made
 * again, the pipeline is journaled, its worktree started, and started(...)
 * called. base_ref (NULL or "": HEAD) is the branch, tag or commit its
 * worktree starts from: resolved to a commit on that thread too, and a ref
 * that names none refuses the start before anything is made. Returns 0 once
 * handed over. */
int oj_pipeline_start(struct oj_daemon *d, const char *pipeline, char *const *positional,
                      size_t npos, char *const *names, char *const *values, size_t nnamed,
                      const char *base_ref, oj_pipeline_started started, void *arg, char *err,
                      size_t errlen);
/* The runbooks as last loaded (NULL when none ever loaded; see
 * d->runbooks_error). refresh reloads them when .oj/runbooks changed; it is
 * called only where no definition is held (tick start, request start). */
const struct oj_runbooks *oj_runbooks_current(struct oj_daemon *d);
void oj_runbooks_refresh(struct oj_daemon *d);

/* A pipeline's output in order (pipeline_output.c; the parts and the cursor
 * are pipeline_logs.h's): from the cursor (part, offset) on, at most max
 * bytes, as pieces of one source each. follow: stop at the part of an agent
 * whose output is not all in yet (else read on past it). The cursor after them is out->part,
 * out->offset; out->session_id names the agent whose part it stands in
 * while that agent works; complete: `finished` (the pipeline is), and
 * everything is read. 0, or -1 when out of memory (what was read is
 * kept). */
struct oj_pl_piece {
    char source[16]; /* "pipeline" or the agent's session id */
    char phase[80];
    bool first;      /* the first bytes of its part */
    uint8_t *data;
    size_t len;
};
struct oj_pl_logs {
    struct oj_pl_piece *pieces;
    size_t n;
    uint32_t part;
    uint64_t offset;
    char session_id[16];
    bool complete;
};
/* In two steps, so that the files are read without the state: plan (engine
 * thread, or a call run at once; NULL when out of memory) notes what the
 * read needs of the state; read (any thread) reads the files. */
struct oj_pl_logs_job;
struct oj_pl_logs_job *oj_pipeline_logs_plan(struct oj_daemon *d, const char *id, bool finished,
                                             bool follow, uint32_t part, uint64_t offset,
                                             size_t max);
int oj_pipeline_logs_read(const struct oj_pl_logs_job *j, struct oj_pl_logs *out);
/* At least as many bytes as the read would find from the cursor on (not
 * capped at max); files only. */
uint64_t oj_pipeline_logs_estimate(const struct oj_pl_logs_job *j);
void oj_pl_logs_job_free(struct oj_pl_logs_job *j);
void oj_pl_logs_free(struct oj_pl_logs *l);

#endif
