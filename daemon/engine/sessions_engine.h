/* sessions_engine.h — the session domain: agents (any command) in the
 * daemon's private tmux server, with their raw output in
 * .oj/logs/sessions/<id>.log. These functions journal what changed (store.h),
 * publish session.* events and hand tmux commands (tmux.h) to the tmux queue
 * (engine_work.h), which runs them one at a time, in order, off the engine
 * thread: the engine never waits for tmux. Whoever needs tmux's answer gets
 * it in a callback, on the engine thread unless said otherwise. The rules
 * they follow are pure functions on struct oj_session (sessions.h). Engine
 * thread only, except where said.
 *
 *   sessions_engine.c  the records, starting and ending sessions, typing into them
 *   session_tick.c     the once-a-second pass: tmux compared with the records
 *   session_output.c   a session's screen and log, for `oj session capture`
 *
 * The domain knows nothing of pipelines: its tick returns what ended or went
 * quiet, and whoever runs the tick hands that on (daemon_main.c). */
#ifndef OJ_SESSIONS_ENGINE_H
#define OJ_SESSIONS_ENGINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessions.h"

struct oj_daemon;

/* ---- reading the records ------------------------------------------------------ */

/* The record of session id, decoded into *out (caller clears). 0, or -1 when
 * there is none (out is then empty). */
int oj_session_get(struct oj_daemon *d, const char *id, struct oj_session *out);
/* Whether session id has a record and is not dead. */
bool oj_session_live(struct oj_daemon *d, const char *id);
/* Calls fn for every session, in no particular order; id and s live for the
 * call only. fn must not change the state. */
void oj_sessions_each(struct oj_daemon *d,
                      void (*fn)(const char *id, const struct oj_session *s, void *arg),
                      void *arg);
/* The same for the sessions that are not dead, from the state's index: the
 * dead ones (as many as every agent that ever ran) cost nothing. */
void oj_sessions_each_live(struct oj_daemon *d,
                           void (*fn)(const char *id, const struct oj_session *s, void *arg),
                           void *arg);
/* Keeps the live sessions in an index of the state (once, after the store
 * opened), for oj_sessions_each_live and oj_sessions_active. */
void oj_sessions_index(struct oj_daemon *d);
/* The session a user meant: its name (the newest session of that name), its
 * id or a unique prefix of it (resolve.h). Returns a wire status: OK with
 * *id set (the state's own key, valid while the record exists), else
 * INVALID_ARGUMENT or NOT_FOUND with a one-line error in why. */
int oj_session_find(struct oj_daemon *d, const char *query, const char **id, char *why,
                    size_t whylen);
/* How many session records there are, dead ones too. */
size_t oj_sessions_count(struct oj_daemon *d);
/* How many sessions are not dead (the session limit counts these). */
unsigned oj_sessions_active(struct oj_daemon *d);
/* The session's last output (wall ms): its log's last write, or its start; 0
 * when there is no such session. */
int64_t oj_session_last_output_ms(struct oj_daemon *d, const char *id);
/* How long the session has been quiet (oj_session_idle_ms). */
int64_t oj_session_quiet_ms(const struct oj_session *s, int64_t now_ms);

/* ---- starting and ending ------------------------------------------------------ */

/* What to start: env holds extra "NAME=value" entries (NULL-terminated)
 * over the session environment (OTTER_TASK, OTTER_WORKSPACE, OTTER_PHASE,
 * OJ_PROJECT, OJ_SESSION_ID, and oj's own directory first on PATH). */
struct oj_spawn {
    const char *name, *cwd, *command; /* command: a shell command line */
    char *const *env;
    int64_t idle_timeout_ms;
    const char *pipeline_id, *phase; /* NULL for a standalone session */
    const char *needs_input; /* its own prompt patterns, one a line (prompt.h); NULL: none */
};
/* What tmux did, on the engine thread: rc 0, or -1 with err. d is NULL when
 * the engine ended first (a stop past its timeout): only free arg. */
typedef void (*oj_session_done)(struct oj_daemon *d, void *arg, int rc, const char *err);
/* A start's end, on the engine thread: rc 0 (the session runs, or was killed
 * while it started: its record says so), or -1 with err (the session is never
 * recorded). d NULL as for oj_session_done. */
typedef void (*oj_session_spawned)(struct oj_daemon *d, void *arg, const char *id, int rc,
                                   const char *err);
/* Starts a session: journals it (starting), writes the new id and hands
 * `tmux new-session` over; spawned(...) follows once tmux has answered.
 * Returns 0, or -1 with err when it could not even be journaled (spawned is
 * then never called). */
int oj_session_spawn(struct oj_daemon *d, const struct oj_spawn *sp, char *id, size_t idlen,
                     oj_session_spawned spawned, void *arg, char *err, size_t errlen);
/* Records a live session dead with `reason`, publishes session.ended and
 * hands the kill of its pane over; done (may be NULL: a failure is logged)
 * follows once tmux has done it. 0 (also when nothing lives: done is then
 * not called), or -1 with err when it could not be journaled. */
int oj_session_kill(struct oj_daemon *d, const char *id, const char *reason,
                    oj_session_done done, void *arg, char *err, size_t errlen);
/* oj_session_kill for the session's owner: a no-op when it is dead; a
 * failure is logged. */
void oj_session_end(struct oj_daemon *d, const char *id, const char *reason);
/* Removes what is left in tmux of an ended session now (the tick would, once
 * its output is in the log); done's rc is 0 when something was removed. 0, or
 * -1 with err (done is then not called). */
int oj_session_remove_pane(struct oj_daemon *d, const char *id, oj_session_done done, void *arg,
                           char *err, size_t errlen);

/* ---- typing into them ----------------------------------------------------------- */

/* Types text into a live session (then Enter); nudge: once it is typed, it
 * counts as a nudge (no session.stuck again until the nudge pause has
 * passed). done (may be NULL: a failure is logged) follows. 0, or -1 with
 * err (not running; done is then not called). */
int oj_session_type(struct oj_daemon *d, const char *id, const char *text, bool nudge,
                    oj_session_done done, void *arg, char *err, size_t errlen);
/* Types an agent's first line (a pipeline phase's prompt) as
 * oj_session_type does, once the agent is ready for it: it has printed
 * something and gone quiet, or enough time passed (prompt_ready.h); during a
 * graceful stop at once (session_prompt.c). done as for oj_session_type (also
 * when the session ended meanwhile: rc -1). 0, or -1 with err (done is then
 * not called). */
int oj_session_type_when_ready(struct oj_daemon *d, const char *id, const char *text,
                               oj_session_done done, void *arg, char *err, size_t errlen);
/* Sends Ctrl-C to a live session; as oj_session_type. */
int oj_session_interrupt(struct oj_daemon *d, const char *id, oj_session_done done, void *arg,
                         char *err, size_t errlen);

/* ---- needing input (session_input.c) ------------------------------------------------ */

/* The prompt line or question session id waits at (NULL when it does not need
 * input; valid until the next tick or call here); *asked: from `oj ask`,
 * *since: when it began. */
const char *oj_session_prompt(struct oj_daemon *d, const char *id, bool *asked, int64_t *since);
/* `oj ask`: session id (live) needs input with this question until input is
 * sent to it or it prints output after the question (prompt.h); publishes
 * session.needs_input. 0, or -1 with err (not running). */
int oj_session_ask(struct oj_daemon *d, const char *id, const char *question, char *err,
                   size_t errlen);

/* A new quiet spell from now: session.stuck is raised again once it has been
 * quiet for its idle timeout from now (a resumed pipeline's agent). */
void oj_session_rearm(struct oj_daemon *d, const char *id);

/* ---- output (session_output.c) ---------------------------------------------------- */

/* The session's screen, last `lines` lines (0: all of it), with log_offset
 * the log size it covers; an ended session whose pane is gone gives its log's
 * last lines as text. shown(arg, 0, text, log_offset, "") or shown(arg, -1,
 * NULL, 0, err) runs on the tmux queue's thread, not the engine's (no daemon
 * state there; a read-only rpc answers from it); text lives for the call. 0,
 * or -1 with err when it could not be handed over (shown is then not
 * called). */
typedef void (*oj_session_shown)(void *arg, int rc, const char *text, uint64_t log_offset,
                                 const char *err);
int oj_session_screen(struct oj_daemon *d, const char *id, const struct oj_session *s,
                      unsigned lines, oj_session_shown shown, void *arg, char *err,
                      size_t errlen);
/* Bytes [from, to) of the session log at `log` (to 0: its end), at most
 * 16 MiB: *buf malloc'd with *len bytes, *end the offset after them. 0, or
 * -1 when out of memory. Only the file: any thread. */
int oj_log_range(const char *log, uint64_t from, uint64_t to, uint8_t **buf, size_t *len,
                 uint64_t *end);
/* How many bytes oj_log_range would read of s's log now. */
uint64_t oj_session_log_range_size(const struct oj_session *s, uint64_t from, uint64_t to);

/* ---- the tick (session_tick.c) ------------------------------------------------------ */

/* What the tick saw happen to a session, for its pipeline (pipeline_id ""
 * for a standalone session). */
enum oj_session_event_kind {
    OJ_SESSION_ENDED, /* recorded dead this tick */
    OJ_SESSION_STUCK, /* quiet past its idle timeout (session.stuck raised) */
};
struct oj_session_event {
    enum oj_session_event_kind kind;
    char session_id[32], pipeline_id[32];
};
struct oj_session_events {
    struct oj_session_event *at;
    size_t n, cap;
};
void oj_session_events_free(struct oj_session_events *ev);

/* Hands `tmux list-panes` over (not while the last one's answer is still to
 * come, nor when no session lives and none is left to remove). When tmux has
 * answered, on the engine thread, compares the records with it: re-adopts
 * sessions that outlived a daemon (a live pane), records ended ones
 * (publishing session.ended), raises session.stuck for quiet ones, hands the
 * kills of ended sessions' panes over once their output is in the log; then
 * calls events(d, ev, arg) with what ended, then what went quiet, in that
 * order (acting on either changes the state, so it comes after the pass). A
 * session started or killed after the list was handed over is left for the
 * next tick. */
typedef void (*oj_session_events_fn)(struct oj_daemon *d, const struct oj_session_events *ev,
                                     void *arg);
void oj_sessions_tick(struct oj_daemon *d, oj_session_events_fn events, void *arg);

/* ---- stopping --------------------------------------------------------------------- */

/* Graceful stop (main thread, engine gone): records every live session's
 * log position; they keep running in tmux and the next start re-adopts them. */
void oj_sessions_checkpoint(struct oj_daemon *d);
/* Drops what is kept in memory for a session whose record is gone (archived). */
void oj_session_forget(struct oj_daemon *d, const char *id);
/* Frees the in-memory liveness of every session (at the stop). */
void oj_sessions_forget(struct oj_daemon *d);
#endif
