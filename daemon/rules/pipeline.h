/* pipeline.h — the rules of pipelines, as pure functions: which phase comes
 * next, what a stuck agent gets, how inputs bind. No clock, no I/O: the shell
 * that runs shell steps, sessions and locks and journals the outcome is
 * pipeline_*.c (see pipeline_engine.h).
 *
 * A pipeline entity ("pipeline"/<id>) holds:
 *   name, inputs {name: value}, workspace, branch, created_at_ms, updated_at_ms
 *   state    running | waiting | escalated | done | failed | cancelled
 *            ("waiting" = its phase waits for a lock or a session slot)
 *   phase    the current phase's name
 *   step     what the phase is doing: workspace (a new pipeline's worktree is
 *            being made), pending (about to start), lock (waiting
 *            for phase.lock), queued (waiting for a session slot), shell,
 *            agent, decide (ended while no runbook loads: decide_ok and
 *            decide_why wait for one), pause (a loop came back to this
 *            phase: it starts at pause_until_ms), over (the pipeline finished)
 *   attempt  how many times this phase has been started (a restart adds one)
 *   session_id, lock_held, waiting_for_lock, waiting_since_ms,
 *   phase_started_ms (entered), run_started_ms (first ran; the overall
 *   timeout counts from it), last_error, restarts, stuck_index, last_step_ms,
 *   recovery [{time_ms, action, detail}], checkpoints [{time_ms, phase, message}],
 *   relock   a lock released at a graceful stop, taken back first at start
 */
#ifndef OJ_PIPELINE_H
#define OJ_PIPELINE_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
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

/* Binds `oj run` inputs to the pipeline's declared inputs: positional values
 * in declared order, then name=value pairs (names[i], values[i]). Every input
 * must be given exactly once. Returns {name: value} or NULL with err. */
cJSON *oj_pipeline_bind_inputs(const struct oj_pipeline_def *def, char *const *positional,
                               size_t npos, char *const *names, char *const *values,
                               size_t nnamed, char *err, size_t errlen);

/* A new record, at the first phase, step workspace (its worktree is being
 * made). Takes ownership of inputs. */
cJSON *oj_pipeline_new(const struct oj_pipeline_def *def, cJSON *inputs, const char *workspace,
                       const char *branch, int64_t now);

/* Copy of v entering `phase` (step pending, fresh attempt counters). */
cJSON *oj_pipeline_enter(const cJSON *v, const char *phase, int64_t now);

/* A copy of v to change, with updated_at_ms = now. */
cJSON *oj_pipeline_copy(const cJSON *v, int64_t now);

/* Set (replace or add) a string or number member of o. */

/* Appends a recovery step (time, action, detail) to v in place. */
void oj_pipeline_record_step(cJSON *v, int64_t now, const char *action, const char *detail);

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
