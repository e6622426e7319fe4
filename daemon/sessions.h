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

#include "tmux.h"

bool oj_session_active(const cJSON *v);

/* The record after comparing it with tmux: `pane` is the session's pane
 * (NULL when tmux has none), `server_gone` when no tmux server runs at all.
 * Returns the new value (caller owns) when the record must change, else NULL.
 * A dead pane whose status tmux has not recorded changes nothing: the status
 * often follows a moment later. (A process that ended before remain-on-exit
 * took effect never gets one; the caller gives up after a few ticks.) */
cJSON *oj_session_observe(const cJSON *v, const struct oj_tmux_pane *pane, bool server_gone,
                          int64_t now_ms);

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
