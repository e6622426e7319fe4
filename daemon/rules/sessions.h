/* sessions.h — the rules of session records, as pure functions: what a
 * session's record becomes given what tmux says now. The shell that runs
 * tmux and journals the result is rpc_session.c.
 *
 * A session entity ("session"/<id>) holds: name, cwd, command, pipeline_id,
 * phase, state (starting, running, dead), started_at_ms, ended_at_ms,
 * exit_status, reason, log, and at a graceful stop log_offset and
 * checkpoint_ms. "idle" is not stored: it is running with no output for
 * longer than the owner's idle timeout, derived from the log file's age. */
#ifndef OJ_SESSIONS_H
#define OJ_SESSIONS_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "tmux_pane.h"

bool oj_session_active(const cJSON *v);

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

/* The record after comparing it with what the tick saw. Returns the new
 * value (caller owns) when the record must change, else NULL.
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
cJSON *oj_session_observe(const cJSON *v, const struct oj_session_seen *seen, int64_t now_ms);

/* Whether the tick removes a pane from tmux (and with it the pane's output
 * pipe, the pipe-pane `cat`). v is the pane's session record, NULL when none
 * names it. A dead pane goes once its session's end is recorded (a dead
 * record: the status is safe in the state) and its log is drained (see
 * below); a live pane of a dead record at once (a kill that failed). A pane
 * no record names goes once it is dead and drained; a live one is left alone
 * (an agent whose record a restore rolled back is still someone's work). */
bool oj_session_reap_now(const cJSON *v, const struct oj_tmux_pane *pane, bool log_drained);

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
bool oj_session_archivable(const cJSON *v, int64_t cutoff_ms, bool referenced);

/* Whether the tick raises a session.stuck event now. Times are wall ms (0 =
 * never). A session is idle when it has been quiet for idle_timeout; the
 * event is raised once per quiet spell, not again until new output or a
 * nudge starts a new spell, and never within `pause` of a nudge, so one
 * quiet spell cannot set off a burst of nudges. */
bool oj_session_stuck_now(int64_t now, int64_t last_output, int64_t idle_timeout,
                          int64_t last_nudge, int64_t pause, int64_t last_raised);

/* A new record for a session about to start. */
cJSON *oj_session_new(const char *name, const char *cwd, const char *command, const char *log,
                      int64_t now_ms);

/* The offset of the first control byte of text (below 0x20, or 0x7f: ESC,
 * CR, LF, Ctrl-C...), or -1. Typed into a terminal these are keys, not text:
 * `oj session send` types them only when asked (--allow-control). */
long oj_text_control_at(const char *text);

/* Copy of v with state dead, end time, exit status and reason. */
cJSON *oj_session_dead(const cJSON *v, int exit_status, const char *reason, int64_t now_ms);
#endif
