/* pipeline_record.h — a pipeline's record as a struct, and its one codec to
 * and from the JSON the WAL and snapshots hold (kind "pipeline", id "p" + 6
 * hex digits; docs/storage.md "Pipeline values"). Pure: no clock, no I/O.
 *
 * The format, member by member, in the order they are written:
 *
 *   name, inputs {"<input>":"<value>",...}, workspace, branch, created_at_ms,
 *   state, recovery [{time_ms, action, detail}], checkpoints [{time_ms,
 *   phase, message}], last_error, updated_at_ms, phase, step, session_id,
 *   waiting_for_lock, attempt, restarts, stuck_index, last_step_ms,
 *   phase_started_ms, run_started_ms, waiting_since_ms
 *        a new record has every one of them (oj_pipeline_new);
 *   step_started_ms, release_session, release_at_ms, decide_why, decide_ok,
 *   done_session, done_error, done_reply, lock_held, pause_until_ms, relock,
 *   finished_at_ms
 *        only once they have been set.
 * A member is written when the record it was read from had it, or its value
 * is not "", 0, false or empty, or the record is new and the member is one of
 * the first group; done_error and done_reply go with done_session, decide_why
 * and decide_ok with step decide. That is how the code before this codec
 * wrote them (it changed members of the JSON in place), so a record read and
 * written again has the same members with the same values; only their order
 * may differ, where the old code appended them in the order they were first
 * set.
 *
 * Reading is lenient, as the readers before this codec were: a missing or
 * mistyped string reads "", a missing number 0 (numbers are clamped to
 * +-2^53), a missing decide_ok false, a state or step this version does not
 * know OJ_PIPELINE_STATE_UNKNOWN / OJ_STEP_UNKNOWN (written back as ""), a
 * non-string input value "". Members this version does not know are dropped.
 *
 * Memory: every string of a record is its own (or the one shared empty
 * string); set them with oj_pipeline_set, which copies. A record from
 * oj_pipeline_init or oj_pipeline_from_json is freed with oj_pipeline_free,
 * and is never copied with `=` (two owners would free it twice). */
#ifndef OJ_PIPELINE_RECORD_H
#define OJ_PIPELINE_RECORD_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_PIPELINE_MAX_RECOVERY 50    /* older steps drop off; the log keeps them all */
#define OJ_PIPELINE_MAX_CHECKPOINTS 20 /* the last 20 `oj checkpoint` messages */

/* "state". Not finished: running, waiting (for a lock or a session slot),
 * escalated (to a human). Finished: done, failed, cancelled. */
enum oj_pipeline_state {
    OJ_PIPELINE_STATE_UNKNOWN, /* missing or not one of these: written as "" */
    OJ_PIPELINE_RUNNING,
    OJ_PIPELINE_WAITING,
    OJ_PIPELINE_ESCALATED,
    OJ_PIPELINE_DONE,
    OJ_PIPELINE_FAILED,
    OJ_PIPELINE_CANCELLED,
};

/* "step": what the current phase is doing. */
enum oj_pipeline_step {
    OJ_STEP_UNKNOWN,   /* missing or not one of these: written as "" */
    OJ_STEP_WORKSPACE, /* a new pipeline's worktree is being made */
    OJ_STEP_PENDING,   /* about to start */
    OJ_STEP_PAUSE,     /* a loop came back to this phase: it starts at pause_until_ms */
    OJ_STEP_LOCK,      /* waiting for the phase's lock (waiting_for_lock) */
    OJ_STEP_QUEUED,    /* waiting for a session slot */
    OJ_STEP_SHELL,     /* its shell step runs */
    OJ_STEP_AGENT,     /* its agent runs in session_id */
    OJ_STEP_DECIDE,    /* ended while no runbook loads: decide_ok, decide_why wait for one */
    OJ_STEP_OVER,      /* the pipeline finished */
};

/* The names as written ("running", "pending", ...; "" for UNKNOWN). */
const char *oj_pipeline_state_name(enum oj_pipeline_state s);
const char *oj_pipeline_step_name(enum oj_pipeline_step s);

struct oj_pipeline_input {
    const char *name, *value;
};

struct oj_pipeline_recovery { /* one recovery step: nudge, restart, escalate, ... */
    int64_t time_ms;
    const char *action, *detail;
};

struct oj_pipeline_checkpoint { /* one `oj checkpoint` */
    int64_t time_ms;
    const char *phase, *message;
};

/* Members as in docs/storage.md; strings are never NULL. */
struct oj_pipeline {
    const char *name; /* the runbook pipeline it runs */
    struct oj_pipeline_input *inputs;
    size_t n_inputs;
    const char *workspace, *branch;
    int64_t created_at_ms, updated_at_ms, finished_at_ms;
    enum oj_pipeline_state state;
    const char *phase;
    enum oj_pipeline_step step;
    int64_t attempt; /* starts of the phase's step; only grows within a phase */
    int64_t phase_started_ms, run_started_ms, step_started_ms, pause_until_ms;
    bool decide_ok;
    const char *decide_why;
    const char *session_id;
    const char *done_session, *done_error, *done_reply;
    const char *lock_held, *waiting_for_lock;
    int64_t waiting_since_ms;
    const char *last_error;
    int64_t restarts, stuck_index, last_step_ms;
    struct oj_pipeline_recovery *recovery;
    size_t n_recovery;
    struct oj_pipeline_checkpoint *checkpoints;
    size_t n_checkpoints;
    const char *release_session;
    int64_t release_at_ms;
    const char *relock;
    uint64_t present; /* the codec's: which optional members the record was read with */
};

/* An empty record: every string "", every number 0, no list. */
void oj_pipeline_init(struct oj_pipeline *p);
void oj_pipeline_free(struct oj_pipeline *p); /* leaves an empty record */

/* Sets a string member: a copy of value (NULL reads as ""). */
void oj_pipeline_set(const char **member, const char *value);

/* Appends an input (copies both strings). */
void oj_pipeline_add_input(struct oj_pipeline *p, const char *name, const char *value);
/* The value of input `name`, NULL when the pipeline has no such input. */
const char *oj_pipeline_input(const struct oj_pipeline *p, const char *name);

/* Appends a recovery step, or an `oj checkpoint`; the oldest drop off past
 * OJ_PIPELINE_MAX_RECOVERY / OJ_PIPELINE_MAX_CHECKPOINTS. */
void oj_pipeline_add_recovery(struct oj_pipeline *p, int64_t time_ms, const char *action,
                              const char *detail);
void oj_pipeline_add_checkpoint(struct oj_pipeline *p, int64_t time_ms, const char *phase,
                                const char *message);

/* What a listing shows of a stored record, read without decoding the rest
 * (a listing of ten thousand would spend its time copying what it never
 * shows). The strings are v's own, valid while v is; "" when missing. */
struct oj_pipeline_brief {
    const char *name, *phase;
    enum oj_pipeline_state state;
    int64_t created_at_ms, updated_at_ms;
};
void oj_pipeline_brief_of(const cJSON *v, struct oj_pipeline_brief *b);

/* Decodes v into p (p needs no init; free it either way). 0, or -1 when v is
 * not an object (p is then an empty record). */
int oj_pipeline_from_json(const cJSON *v, struct oj_pipeline *p);
/* The record as the WAL holds it (NULL only when out of memory). */
cJSON *oj_pipeline_to_json(const struct oj_pipeline *p);

/* Only the state of a stored record, without decoding the rest: for those
 * who look at a pipeline from another record (a workspace, a scheduled job). */
enum oj_pipeline_state oj_pipeline_state_of(const cJSON *v);
/* Only its step (for counts that need no more). */
enum oj_pipeline_step oj_pipeline_step_of(const cJSON *v);
/* Not finished: running, waiting or escalated (it still owns its workspace). */
bool oj_pipeline_state_active(enum oj_pipeline_state s);
/* The same of a stored record. */
bool oj_pipeline_active(const cJSON *v);
/* Whether the tick has anything to do for a stored record: it is active, or
 * it still has an agent to end after its grace (release_session) or a lock to
 * take back after a graceful stop (relock). The daemon keeps these in an
 * index (oj_state_index), so that what is finished costs the tick nothing. */
bool oj_pipeline_in_play(const cJSON *v);
/* Whether a stored record waits for a human: escalated, or failed (failed
 * ones stay in the live state until resumed, cancelled or archived). Kept in
 * an index too, so that oj status lists them without walking the history. */
bool oj_pipeline_needs_human(const cJSON *v);
#endif
