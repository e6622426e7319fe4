/* session_live.h — what the session domain's files share (engine thread
 * only): a session's liveness, kept in memory and never journaled, and the
 * one way a record is written. The public side is sessions_engine.h. */
#ifndef OJ_SESSION_LIVE_H
#define OJ_SESSION_LIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "prompt.h"
#include "sessions.h"

struct oj_session_live {
    int64_t last_nudge_ms;
    int64_t last_stuck_ms; /* when session.stuck was last raised */
    int64_t quiet_from_ms;  /* idle counts from here at the earliest (oj_session_rearm) */
    int dead_unknown_ticks; /* ticks its pane has been dead without a status */
    bool log_looked;        /* a tick has looked at its log (for the reaper) */
    uint64_t log_size;      /* its log's size then */
    int log_stable_ticks;   /* ticks in a row since, the log has kept that size */
    bool reap_failed;       /* removing its pane failed once (said once in the log) */
    /* the tmux queue's tickets (engine_work.h) of its last start and kill: a
     * tick whose list-panes was handed over before them does not judge it */
    uint64_t spawn_ticket, kill_ticket;
    /* Needs input (session_input.c): the prompt line or the question it
     * asked, NULL while it does not; asked: from `oj ask`. */
    char *prompt;
    bool asked;
    int64_t prompt_since_ms;
    uint64_t input_mark;       /* log offset: prompts count only in output after it */
    bool input_looked;         /* the tail was looked at, up to input_looked_end */
    uint64_t input_looked_end;
    struct oj_prompts *prompts; /* its patterns, compiled at first use */
    bool prompts_said;          /* a bad pattern was said once in the log */
};

/* Frees l and what it holds (NULL is fine). */
void oj_session_live_free(struct oj_session_live *l);

/* The tick's look at a live session's output (session_input.c): does it need
 * input now? Publishes session.needs_input when it starts to. Returns whether
 * it needs input. */
bool oj_session_look_for_input(struct oj_daemon *d, const char *id, const struct oj_session *s,
                               struct oj_session_live *l, int64_t now_ms);
/* Input reached the session (send, nudge, Ctrl-C): it does not need input,
 * and what it printed before does not count as a prompt again. */
void oj_session_input_sent(struct oj_daemon *d, const char *id);

/* The session's liveness (d->session_live), made on first use; never NULL
 * (out of memory: a scratch one that is not kept). */
struct oj_session_live *oj_session_live_of(struct oj_daemon *d, const char *id);

/* Journals s as session id's new record. 0, or -1 with err (also logged). */
int oj_session_save(struct oj_daemon *d, const char *id, const struct oj_session *s, char *err,
                    size_t errlen);

/* The log's last write (wall ms) and size; 0 and 0 when it has none. */
void oj_session_log_stat(const char *log, int64_t *mtime_ms, uint64_t *size);
#endif
