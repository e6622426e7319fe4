/* pipeline.h — the rules of pipelines, as pure functions on the record
 * (struct oj_pipeline, pipeline_record.h): which phase comes next, what each
 * step does to the record, what a stuck agent gets, how inputs bind. No
 * clock, no I/O: the engine that runs shell steps, sessions and locks and
 * journals the outcome is pipeline_*.c (see pipeline_engine.h); every "now"
 * here is handed in.
 *
 * A pipeline's record (docs/storage.md "Pipeline values"): its name, inputs,
 * workspace and branch; its state (running, waiting for a lock or a session
 * slot, escalated; done, failed, cancelled); its current phase and what the
 * phase is doing (step: workspace, pending, pause, lock, queued, shell,
 * agent, decide, over) and how often it started (attempt); the lock it holds
 * or waits for; its agent's session; the stuck chain (restarts, stuck_index,
 * last_step_ms); recovery steps and checkpoints; and the hand-overs between
 * two moments (release_session, decide_ok, relock). */
#ifndef OJ_PIPELINE_H
#define OJ_PIPELINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline_record.h"
#include "runbook.h"

/* Where a phase leads: the next phase's name, "done" or "fail". */
const char *oj_pipeline_after(const struct oj_pipeline_def *def, const char *phase, bool ok);

/* How long to wait before entering phase `to` after phase `from`: 0 when `to`
 * comes later in the runbook, else (a loop back: to itself or to an earlier
 * phase) the pause of `to`. Every loop has such a step back, so no loop runs
 * more often than its pause allows. */
int64_t oj_pipeline_loop_pause(const struct oj_pipeline_def *def, const char *from,
                               const char *to);

/* Binds `oj run` inputs to the pipeline's declared inputs, into p's inputs:
 * positional values in declared order, then name=value pairs (names[i],
 * values[i]). Every input must be given exactly once. 0, or -1 with err. */
int oj_pipeline_bind_inputs(const struct oj_pipeline_def *def, char *const *positional,
                            size_t npos, char *const *names, char *const *values, size_t nnamed,
                            struct oj_pipeline *p, char *err, size_t errlen);

/* A new record (p holds its inputs, nothing else): at the first phase, step
 * workspace (its worktree is being made), running. */
void oj_pipeline_new(struct oj_pipeline *p, const struct oj_pipeline_def *def,
                     const char *workspace, const char *branch, int64_t now);

/* A change at `now`: updated_at_ms. Every change to a record starts here. */
void oj_pipeline_touch(struct oj_pipeline *p, int64_t now);

/* Enters `phase`: step pending, no session, no lock wait, fresh counters
 * (attempt, restarts, the stuck chain), phase_started_ms now. */
void oj_pipeline_enter(struct oj_pipeline *p, const char *phase, int64_t now);

/* The current phase starts over (an operator's restart or resume): entered
 * again with the attempt count carried on (a late result of the old run must
 * never pass for the new one's), running, the recovery step recorded. */
void oj_pipeline_rerun(struct oj_pipeline *p, int64_t now, const char *action,
                       const char *detail);

/* The pipeline ended: done, failed or cancelled, step over, no wait; why (when
 * not "" or NULL) becomes last_error. */
void oj_pipeline_finish(struct oj_pipeline *p, enum oj_pipeline_state state, const char *why,
                        int64_t now);

/* Where the phase that ended (ok, or failed for `why`) leads, by def (NULL:
 * the pipeline is gone from the runbooks, which fails it). A failure is kept
 * in last_error. */
enum oj_phase_end {
    OJ_PHASE_END_NEXT, /* entered the next phase: pending, or pause for a loop back */
    OJ_PHASE_END_DONE, /* the pipeline is done: oj_pipeline_finish it */
    OJ_PHASE_END_FAIL, /* the pipeline failed: oj_pipeline_finish it */
};
enum oj_phase_end oj_pipeline_phase_end(struct oj_pipeline *p, const struct oj_pipeline_def *def,
                                        bool ok, const char *why, int64_t now);

/* The phase ended while no runbook loads: the outcome waits in step decide
 * for one (oj_pipeline_phase_end then). */
void oj_pipeline_decide_later(struct oj_pipeline *p, bool ok, const char *why);

/* A wait begins: for `lock` (step lock) or, lock NULL, for a session slot
 * (step queued). State waiting, waiting_since_ms now. */
void oj_pipeline_wait(struct oj_pipeline *p, const char *lock, int64_t now);
/* The phase holds `lock` now: the wait for it is over. */
void oj_pipeline_lock_taken(struct oj_pipeline *p, const char *lock);
/* Waits for `lock` now (step lock, active). */
bool oj_pipeline_waits_for(const struct oj_pipeline *p, const char *lock);
/* Of two pipelines waiting for a lock, a (id_a, waiting since since_a) has
 * waited longer than b: the earlier wait, on a tie the smaller id. The
 * longest waiter gets a free lock first. */
bool oj_pipeline_waited_longer(const char *id_a, int64_t since_a, const char *id_b,
                               int64_t since_b);

/* The step starts: a shell step, or an agent in session `sid` (also one
 * adopted after a crash). Attempt + 1, running, step_started_ms now; an
 * agent's first start also sets run_started_ms, and ends a slot wait. */
void oj_pipeline_shell_started(struct oj_pipeline *p, int64_t now);
void oj_pipeline_agent_started(struct oj_pipeline *p, const char *sid, int64_t now);
/* A runner's result still counts: the pipeline is in that phase's shell step
 * at that attempt (a cancel, a restart or a crash moved it on otherwise). */
bool oj_pipeline_shell_is(const struct oj_pipeline *p, const char *phase, int64_t attempt);

/* oj maintenance archive takes a finished pipeline (done, failed, cancelled)
 * whose last change (finished_at_ms, else updated_at_ms, else created_at_ms)
 * is known and before cutoff_ms. */
bool oj_pipeline_archivable(const struct oj_pipeline *p, int64_t cutoff_ms);
/* What the daemon archives on its own (OJ_RETAIN_FINISHED): the same, but a
 * failed pipeline waits for a human (oj pipeline resume, or cancel) as an
 * escalated one does; only `oj maintenance archive` takes it. */
bool oj_pipeline_retention_archivable(const struct oj_pipeline *p, int64_t cutoff_ms);

/* Recovery gave up on a quiet agent: escalated to a human, who resumes it. */
void oj_pipeline_escalate(struct oj_pipeline *p, const char *why, int64_t now);

/* What a stuck agent gets. The chain is the phase's on_stuck; `index` is the
 * step reached so far and `restarts` how many restarts this phase has had.
 * Output after the last step (later than `grace` after it: a restarted
 * agent's start-up banner does not count) resets the chain to its start.
 * restart:N stays on its step until N restarts are used, then moves on; a
 * chain that runs out escalates. */
struct oj_stuck_decision {
    enum oj_stuck_action action;
    int next_index; /* the index to store after acting */
};
struct oj_stuck_decision oj_pipeline_stuck_decide(const struct oj_phase_def *ph, int index,
                                                  int restarts, int64_t last_output_ms,
                                                  int64_t last_step_ms, int64_t grace_ms);

const char *oj_stuck_action_name(enum oj_stuck_action a);

/* An agent's prompt as it is typed into its terminal: one line of text. Every
 * control byte (newlines, ESC, ^C, ^D, DEL) becomes a space, in place, so
 * nothing from an input or a prompt file arrives as a key. */
void oj_pipeline_prompt_line(char *text);
#endif
