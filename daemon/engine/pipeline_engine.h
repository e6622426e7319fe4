/* pipeline_engine.h — what the files that run pipelines share (engine
 * thread only): the pipeline records in the store as structs (load, save,
 * each; pipeline_record.h), the template variables of a pipeline, and the
 * moves that more than one of them makes. The pure rules are in
 * pipeline.h; the entry points for the rest of the daemon in daemon.h.
 *
 *   pipeline_runbooks.c  loading .oj/runbooks, a pipeline's definition
 *   pipeline_start.c     oj run: a new pipeline and its worktree
 *   pipeline_workspace.c making a new pipeline's worktree, off the engine thread
 *   pipeline_drive.c     moving a pipeline on: locks, shell steps, agents, phase ends
 *   pipeline_tick.c      the once-a-second pass, crash leftovers, lock hand-back
 *   pipeline_stuck.c     stuck recovery: nudge, restart, escalate + notify
 *   pipeline_counts.c    what oj status counts: active, queued, waiting
 *   pipeline_commands.c  nudge, restart, resume, cancel, done, checkpoint
 *                        (pipeline_commands.h; rpc_pipeline.c answers them) */
#ifndef OJ_PIPELINE_ENGINE_H
#define OJ_PIPELINE_ENGINE_H
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"
#include "lock_engine.h"
#include "locks.h"
#include "log.h"
#include "pipeline.h"
#include "pipelines.h"
#include "publisher.h"
#include "server.h"
#include "sessions_engine.h"
#include "store.h"
#include "task_env.h"

#define STUCK_NUDGE                                                                        \
    "You have been quiet for a while. Carry on with the task; when it is finished, run: oj " \
    "done (or oj done --error \"why\" if you cannot finish it)"
#define SESSION_END_GRACE_MS 2000 /* let an agent's `oj done` print its answer */
#define NOTIFY_TIMEOUT_MS 60000

static inline const struct oj_state *state_of(struct oj_daemon *d)
{
    return oj_store_state(d->store);
}

/* The pipeline's record, decoded into p (the caller frees it with
 * oj_pipeline_free); false when there is none (p is then an empty record). */
static inline bool load(struct oj_daemon *d, const char *id, struct oj_pipeline *p)
{
    return oj_pipeline_from_json(oj_state_get(state_of(d), "pipeline", id), p) == 0;
}

/* Journals p as the pipeline's new value (p stays the caller's). */
static inline bool save(struct oj_daemon *d, const char *id, const struct oj_pipeline *p)
{
    char err[512];
    cJSON *v = oj_pipeline_to_json(p);
    if (v == NULL)
        snprintf(err, sizeof err, "out of memory");
    if (v == NULL ||
        oj_store_commit(d->store, oj_op_put("pipeline", id, v), err, sizeof err) == 0) {
        LOG_ERROR("pipeline %s: cannot record a change: %s", id, err);
        return false;
    }
    return true;
}

/* The lock `name` as recorded now, into l; false when it is free. */
static inline bool lock_of(struct oj_daemon *d, const char *name, struct oj_lock *l)
{
    const cJSON *v = oj_state_get(state_of(d), "lock", name);
    return v && oj_lock_from_json(v, l) == 0;
}

/* Publishes a pipeline.* event naming its phase and agent session (as
 * recorded now). */
static inline void event(struct oj_daemon *d, const char *kind, const char *id, const char *msg)
{
    struct oj_pipeline p;
    load(d, id, &p);
    oj_pub_phase_event(d->publisher, kind, p.session_id, id, p.phase, msg);
    oj_pipeline_free(&p);
}

/* pipeline_counts.c: calls fn for every pipeline record, decoded; for every
 * archived one (oj maintenance archive), read from .oj/archive. p is freed
 * after the call unless fn keeps it by moving it out (copying the struct,
 * then oj_pipeline_init(p)). */
typedef void (*oj_pl_each_fn)(const char *id, struct oj_pipeline *p, void *arg);
void oj_pl_each(struct oj_daemon *d, oj_pl_each_fn fn, void *arg);
/* The same for the pipelines in play only (oj_pipeline_in_play: active, or an
 * agent or a lock still to hand back), from the state's index: what is
 * finished costs nothing. Every active pipeline is among them. */
void oj_pl_each_in_play(struct oj_daemon *d, oj_pl_each_fn fn, void *arg);
void oj_pl_each_archived(struct oj_daemon *d, oj_pl_each_fn fn, void *arg);
/* The same for the .oj/ directory state_dir: reads files only, any thread
 * (the archive can be big: read it off the engine thread). */
void oj_pl_each_archived_in(const char *state_dir, oj_pl_each_fn fn, void *arg);

/* pipeline_runbooks.c: the definition of the pipeline p (NULL: none loaded,
 * or it is gone from the runbooks). */
const struct oj_pipeline_def *oj_pl_def_of(struct oj_daemon *d, const struct oj_pipeline *p);

/* Template variables of one pipeline, for oj_template_expand: its inputs,
 * then the builtins ({id}, {workspace}, {branch}, {project}, ...). */
struct tvars {
    struct oj_daemon *d;
    const char *id;
    const struct oj_pipeline *p;
    char prompt_file[PATH_MAX + 200];
};
void oj_pl_tvars_init(struct tvars *t, struct oj_daemon *d, const char *id,
                      const struct oj_pipeline *p);
const char *oj_pl_lookup(const char *key, void *arg);

/* pipeline_drive.c */
/* Moves the pipeline as far as it can go now (starts its phase's step, or
 * records the wait for a lock or a session slot). */
void oj_pl_drive(struct oj_daemon *d, const char *id);
/* The current phase ended, ok or not: lets go of its lock and agent (at once,
 * or after a grace for an agent that said `oj done`) and goes where the
 * runbook says. */
void oj_pl_phase_over(struct oj_daemon *d, const char *id, bool ok, const char *why,
                      bool end_session_now);
/* Ends the pipeline: state done, failed or cancelled. */
void oj_pl_finish(struct oj_daemon *d, const char *id, enum oj_pipeline_state state,
                  const char *why);
/* Releases the lock recorded in n (waking the next waiter) and ends or
 * schedules the end of its agent session; n is the pipeline's new value. */
void oj_pl_let_go(struct oj_daemon *d, const char *id, struct oj_pipeline *n,
                  bool end_session_now);
/* Kills what runs of the pipeline's shell step (its process group file). */
void oj_pl_kill_shell_step(struct oj_daemon *d, const char *id);
/* .oj/logs/pipelines/<id>.pgid: the process group of what runs for it */
void oj_pl_pgid_path(struct oj_daemon *d, const char *id, char *buf, size_t len);
/* .oj/logs/pipelines/<id>.log */
void oj_pl_log_path(struct oj_daemon *d, const char *id, char *buf, size_t len);
/* OTTER_TASK, OTTER_WORKSPACE, OTTER_PHASE, OJ_PROJECT and its workspace's
 * OJ_PORT for a shell command. */
void oj_pl_env(struct oj_daemon *d, const char *id, const struct oj_pipeline *p,
               struct oj_task_env *e);

/* pipeline_output.c: notes in .oj/logs/pipelines/<id>.agents that agent sid
 * of phase starts here in the pipeline's log (pipeline_logs.h). */
void oj_pl_note_agent(struct oj_daemon *d, const char *id, const char *sid, const char *phase);

/* pipeline_workspace.c: starts making the pipeline's worktree on a runner
 * thread (it is in step workspace); when done, its first phase is driven.
 * again: an earlier try may have left something (oj run's own try: false;
 * the tick's retry of a try cut off: true). */
void oj_pl_make_workspace(struct oj_daemon *d, const char *id, bool again);
/* The pipeline's workspace record ("workspace"/<its folder's name>: branch,
 * path, base, base_ref, port), or NULL (cleaned up). */
const cJSON *oj_pl_workspace_record(struct oj_daemon *d, const struct oj_pipeline *p);
/* Its workspace's OJ_PORT; 0 when it has none (made before ports, or cleaned up). */
int oj_pl_port(struct oj_daemon *d, const struct oj_pipeline *p);
#endif
