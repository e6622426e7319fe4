/* sessions.h — a session's record as a struct, its one codec to and from the
 * WAL's JSON, and the rules of sessions as pure functions on the struct: what
 * a record becomes given what tmux says now, when a pane goes, when a quiet
 * agent counts as stuck. The session domain that runs tmux and journals the
 * result is in engine/ (sessions_engine.h).
 *
 * A session entity ("session"/<id>) holds: name, cwd, command, pipeline_id,
 * phase, state ("starting", "running", "dead"), started_at_ms, ended_at_ms,
 * exit_status, reason, log, idle_timeout_ms, and after a graceful stop
 * log_offset and checkpoint_ms. "idle" is not stored: it is running with no
 * output for longer than the owner's idle timeout, derived from the log
 * file's age. */
#ifndef OJ_SESSIONS_H
#define OJ_SESSIONS_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tmux_pane.h"

/* Lifecycle: starting is journaled before the tmux session is made, running
 * once it is, dead when it ended (final: no observation changes it again). */
enum oj_session_state { OJ_SESSION_STARTING, OJ_SESSION_RUNNING, OJ_SESSION_DEAD };

/* One session's record. Every string is owned by the struct (malloc'd, never
 * NULL: "" when absent); oj_session_clear frees them. */
struct oj_session {
    char *name, *cwd;
    char *command;                /* a shell command line */
    char *pipeline_id, *phase;    /* "" for a standalone session */
    enum oj_session_state state;
    int64_t started_at_ms, ended_at_ms; /* ended_at_ms 0 while it lives */
    int exit_status;              /* once dead; -1 when unknown */
    char *reason;                 /* why it is dead, "" while it lives */
    char *log;                    /* its raw output, .oj/logs/sessions/<id>.log */
    int64_t idle_timeout_ms;      /* quiet this long raises session.stuck; 0: never */
    char *needs_input;            /* its agent's own prompt patterns (prompt.h), one a line;
                                     "" for the built-ins only (journaled only when set) */
    /* How far its log was at a graceful stop; both are written only once
     * checkpoint_ms is set (records from before any stop have neither). */
    int64_t log_offset, checkpoint_ms;
};

/* ---- the codec: the only code that knows the members' names --------------- */

/* Reads a record. A missing or mistyped member reads as "" or 0; a state
 * other than "running" or "dead" (none at all, too) reads as starting, which
 * is not dead, as before the struct. 0, or -1 when v is not an object or
 * memory ran out (s is then cleared and safe to use or clear). */
int oj_session_from_json(const cJSON *v, struct oj_session *s);
/* The record as the WAL stores it (caller owns), NULL when out of memory. */
cJSON *oj_session_to_json(const struct oj_session *s);
/* A copy of src in dst (its own strings). 0, or -1 when out of memory (dst
 * is then cleared). */
int oj_session_copy(struct oj_session *dst, const struct oj_session *src);
/* Frees the strings; s reads as an empty record afterwards. */
void oj_session_clear(struct oj_session *s);
/* "starting", "running" or "dead": as journaled and as `oj session` shows it. */
const char *oj_session_state_name(enum oj_session_state state);
/* Whether the JSON record v (as in the state) is not dead: for code that
 * holds a record, not a struct. */
bool oj_session_active(const cJSON *v);

/* A new record (state starting) for a session about to start; the strings
 * are copied, pipeline_id and phase may be NULL (a standalone session). 0, or
 * -1 when out of memory (s is then cleared). */
int oj_session_init(struct oj_session *s, const char *name, const char *cwd, const char *command,
                    const char *log, const char *pipeline_id, const char *phase,
                    int64_t idle_timeout_ms, int64_t now_ms);

/* ---- the rules ---------------------------------------------------------------- */

/* Records s dead now: state, end time, exit status and reason. */
void oj_session_mark_dead(struct oj_session *s, int exit_status, const char *reason,
                          int64_t now_ms);

/* What one tick saw of a session. */
struct oj_session_seen {
    const struct oj_tmux_pane *pane; /* its pane, NULL when tmux has none */
    bool server_gone;                /* no tmux server runs at all */
    int status_file;                 /* the status its wrapper wrote to <id>.status, -1: none */
    int dead_unknown_ticks;          /* ticks in a row (this one included) its pane has been
                                        dead with no status known */
};

/* Ticks a pane may be dead without a status before the session is recorded
 * dead anyway ("exited (tmux recorded no status)"): a loaded tmux can take
 * seconds to reap. */
#define OJ_SESSION_DEAD_UNKNOWN_TICKS 10

/* Compares the record with what the tick saw and changes s to match; true
 * when it changed (and must be journaled).
 *
 * dead is final: a dead record never changes by observation, whatever tmux
 * or the status file say later (a late, a missing or a contradicting status
 * would otherwise overwrite the real one, every tick).
 * For a live record whose pane is dead or gone (or whose server is gone),
 * the status file wins: it is the command's own status, written by the
 * wrapper just before it exits; then tmux's status; then, for a pane gone or
 * a server gone, -1 with the reason; a dead pane without any status changes
 * nothing until OJ_SESSION_DEAD_UNKNOWN_TICKS have passed (the status often
 * follows a moment later). A live pane makes a starting record running. */
bool oj_session_observe(struct oj_session *s, const struct oj_session_seen *seen, int64_t now_ms);

/* Whether the tick removes a pane from tmux (and with it the pane's output
 * pipe, the pipe-pane `cat`). s is the pane's session record, NULL when none
 * names it. A dead pane goes once its session's end is recorded (a dead
 * record: the status is safe in the state) and its log is drained (see
 * below); a live pane of a dead record at once (a kill that failed). A pane
 * no record names goes once it is dead and drained; a live one is left alone
 * (an agent whose record a restore rolled back is still someone's work). */
bool oj_session_reap_now(const struct oj_session *s, const struct oj_tmux_pane *pane,
                         bool log_drained);

/* Ticks a dead session's log may stay the same size with the log watcher
 * behind (it missed inotify events) before the pane is removed anyway. */
#define OJ_SESSION_DRAIN_GIVE_UP_TICKS 30

/* Whether a session's log is drained: the log watcher has published all of
 * it (`published`: bytes it sent or skipped, -1 when it never saw the log)
 * and the log kept its size since the last tick (stable_ticks: ticks in a
 * row it has had this size, 0 when it just changed); or it kept its size for
 * OJ_SESSION_DRAIN_GIVE_UP_TICKS whatever the watcher says. */
bool oj_session_log_drained(uint64_t size, int64_t published, int stable_ticks);

/* Whether `oj maintenance archive` takes the session: ended (dead) before
 * cutoff_ms and not referenced by a pipeline that stays in the live state. */
bool oj_session_archivable(const struct oj_session *s, int64_t cutoff_ms, bool referenced);

/* Whether the tick raises a session.stuck event now. Times are wall ms (0 =
 * never). A session is idle when it has been quiet for idle_timeout; the
 * event is raised once per quiet spell, not again until new output or a
 * nudge starts a new spell, and never within `pause` of a nudge, so one
 * quiet spell cannot set off a burst of nudges. */
bool oj_session_stuck_now(int64_t now, int64_t last_output, int64_t idle_timeout,
                          int64_t last_nudge, int64_t pause, int64_t last_raised);

/* The session's last output: its log's last write (log_mtime_ms, 0 when it
 * has no log) or its start, whichever is later. */
int64_t oj_session_last_output(const struct oj_session *s, int64_t log_mtime_ms);

/* How long the session has been quiet: from its last output to now, or to
 * its end when it ended later than its last output. */
int64_t oj_session_idle_ms(const struct oj_session *s, int64_t last_output_ms, int64_t now_ms);

/* The state `oj session list` and `show` give (derived, never journaled):
 *   starting     journaled, tmux is making it
 *   running      working: alive and not waiting for anyone
 *   needs_input  alive, and a prompt waits at the bottom of its output or it
 *                asked a question with `oj ask` (needs_input: the session
 *                domain's verdict, prompt.h)
 *   idle         running, quiet past its idle timeout
 *   dead         ended (final)
 * needs_input comes before idle: a prompt is usually quiet. */
const char *oj_session_shown_state(const struct oj_session *s, int64_t idle_ms, bool needs_input);

/* The name of a session started without --name: the command's base name
 * with every character a name may not hold made '-', at most 64; "-cmd"
 * added when that has the shape of an id (`-- sed` is a name, never an id
 * prefix). */
void oj_session_default_name(const char *argv0, char *name, size_t len);

/* Whether name is a good session name: 1 to 64 letters, digits, '.', '_' or
 * '-' (whether it looks like an id is resolve.h's oj_name_looks_like_id). */
bool oj_session_name_ok(const char *name);

/* The offset of the first control byte of text (below 0x20, or 0x7f: ESC,
 * CR, LF, Ctrl-C...), or -1. Typed into a terminal these are keys, not text:
 * `oj session send` types them only when asked (--allow-control). */
long oj_text_control_at(const char *text);
#endif
