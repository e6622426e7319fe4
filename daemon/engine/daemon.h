/* daemon.h — the running daemon: its settings and its parts (the entry
 * point the CLI calls is in daemon_main.h).
 *
 * Threads: the main thread waits for signals and runs start-up and shutdown;
 * nng's threads run the socket callbacks (server.c); one engine thread runs
 * every rpc handler in order, and the 1 s tick (engine.c), so handlers never
 * need locks around daemon state (a read-only call may run on nng's thread
 * instead, under state_mu, when the engine is between items); the store's sync thread fdatasyncs the WAL
 * and releases the replies waiting for it (store.c); the log watcher
 * publishes session output (watcher.c); the watchdog checks both listeners
 * (watchdog.c). */
#ifndef OJ_DAEMON_H
#define OJ_DAEMON_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "settings.h"
#include "hmap.h"
#include "oj.pb-c.h"
#include "paths.h"
#include "runbook.h"
#include "watcher.h"

struct oj_server;
struct oj_call;
struct oj_store;
struct oj_publisher;
struct oj_dashboard;
struct oj_work_queue;

struct oj_daemon {
    Oj__Control_Service svc; /* first member: handlers get &svc and find the daemon */
    struct oj_paths paths;
    struct oj_config cfg;
    struct oj_settings settings; /* where each cfg value came from (status --verbose) */
    pid_t pid;
    int64_t started_at_ms, started_mono_ms;
    struct oj_server *server;
    struct oj_store *store;

    /* liveness, kept in memory and never journaled (engine thread only):
     * lock name -> int64_t* last heartbeat (wall ms) (lock_engine.c) */
    struct oj_hmap lock_heartbeats;
    /* session id -> struct oj_session_live* (session_live.h) */
    struct oj_hmap session_live;
    /* no dead session's pane is left in tmux, as far as the last tick saw
     * (false at start and whenever a session is recorded dead) */
    bool sessions_reaped;
    /* the tick's list-panes is with tmux: no second one meanwhile (session_tick.c) */
    bool sessions_listing;
    /* pipeline id -> (void *)1 while its shell step runs here (pipeline_drive.c);
     * a shell step in the state with no entry here was cut off by a crash */
    struct oj_hmap pipeline_shells;
    /* pipeline id -> (void *)1 while its agent's session is being started in
     * tmux (pipeline_drive.c): drive starts no second one meanwhile */
    struct oj_hmap pipeline_agents_starting;
    /* job name -> (void *)1 while its command runs (cron.c): never two at once */
    struct oj_hmap cron_running;
    /* workspace name -> struct oj_ws_stat* its last diff-stat (workspace_stat.h) */
    struct oj_hmap workspace_stats;

    /* engine: one thread, one queue of calls */
    pthread_t engine_thread;
    /* Held by whoever runs on the daemon's state: the engine thread around
     * each call, job and tick it runs (so never in the middle of one), and
     * nng's thread while it answers a read-only call at once (engine.c).
     * Taken before engine_mu when both are. */
    pthread_mutex_t state_mu;
    pthread_mutex_t engine_mu;
    pthread_cond_t engine_cv;
    struct oj_call_node *queue_head, *queue_tail;
    bool engine_stopping;
    bool engine_gone; /* the engine thread ended: posted jobs are refused */
    /* a restore writes its files (engine thread only): calls and jobs that
     * may change the state wait here, in order, until the release */
    bool writes_held;
    unsigned alone_streak; /* state_mu: calls run at once in a row with no other in flight */
    bool engine_busy; /* engine_mu: the engine took an item or the tick and has not finished it */
    struct oj_call_node *deferred_head, *deferred_tail;
    /* every tmux command, one at a time in the order the engine hands them
     * over, off the engine thread (engine_work.h) */
    struct oj_work_queue *tmux_work;
    void (*engine_tick)(void *arg); /* once a second (oj_engine_set_tick) */
    void *engine_tick_arg;
    /* how long the last OJ_TICK_KEEP ticks took (µs), for `oj status`: the
     * engine writes, any thread reads (oj_engine_tick_times) */
#define OJ_TICK_KEEP 60
    _Atomic uint64_t tick_us[OJ_TICK_KEEP];
    atomic_uint tick_count;
    /* the history sweep (history_sweep.h): when the next is due (engine
     * thread), whether one runs, and what the last found (any thread) */
    int64_t history_next_ms;
    bool history_running;
    /* archive.h (engine thread): when the tick archives next; whether an
     * archive's file is being written; the archives waiting for it */
    int64_t archive_next_ms;
    bool archive_busy;
    struct oj_archive_wait *archive_queue;
    _Atomic uint64_t history_bytes, history_files, history_removed, history_removed_bytes;
    _Atomic int64_t history_swept_ms;

    struct oj_watchdog *watchdog; /* keeps both listeners alive (watchdog.h) */

    /* live output and events (publisher.c), fed by the log watcher (watcher.h) */
    struct oj_publisher *publisher;
    /* the web dashboard (dashboard.h), once `oj dashboard` asked for it; engine thread */
    struct oj_dashboard *dashboard;
    struct oj_watcher *watcher; /* made before the engine starts, freed after it stops */

    /* set by DaemonStop; the main thread acts on it */
    _Atomic int64_t stop_timeout_ms;
    /* a graceful stop began: no new oj run, no new phase starts (pipelines
     * finish their bookkeeping and carry on after the next start) */
    atomic_bool draining;
    /* shell steps and job commands whose result is not recorded yet (engine_runner.c) */
    atomic_int runners_active;
    /* reads handed to a thread of their own (engine_work.h oj_engine_read),
     * which answer their call themselves: the store is closed only after
     * the last (a read of at most 16 MiB ends; a stop waits for it) */
    atomic_int reads_active;
    /* calls run at once whose thread syncs the WAL itself after it let go
     * of the state (engine.c run_at_once): the store is closed only after
     * the last (oj_engine_store_users_wait) */
    atomic_int leaders_active;

    /* runbooks (.oj/runbooks/ *.json), reloaded when a file there changes;
     * engine thread only (pipeline_runbooks.c) */
    struct oj_runbooks *runbooks;
    int64_t runbooks_mtime_ns;
    char runbooks_error[1024]; /* why the last reload failed, "" when it did not */
    bool relocked;             /* pipelines took back their locks after a start */

    /* oj status's escalated and failed pipelines as of one state (status_attention.c):
     * repeated statuses of an unchanged state do not walk them again */
    struct oj_attention_cache *attention_cache;
};

static inline struct oj_daemon *oj_daemon_of(Oj__Control_Service *svc)
{
    return (struct oj_daemon *)svc;
}

/* ---- parts (engine.c, rpc_*.c) ------------------------------------------- */
/* The engine runs the handlers d->svc holds (filled in before the start,
 * rpc_table.h) and, once a second between calls, the tick handed in with
 * oj_engine_set_tick (before the start; none: no tick). */
void oj_engine_set_tick(struct oj_daemon *d, void (*tick)(void *arg), void *arg);
/* The last tick's duration and the longest of the last OJ_TICK_KEEP, in µs
 * (0 before the first tick). Any thread. */
void oj_engine_tick_times(struct oj_daemon *d, uint64_t *last_us, uint64_t *max_us);
int oj_engine_start(struct oj_daemon *d);
void oj_engine_submit(struct oj_call *call, void *daemon); /* the server's sink */
/* Runs job(d, arg) on the engine thread, after what is queued (any thread).
 * False when the engine has already ended (a runner outliving a stop's
 * timeout): the job will never run and the caller keeps arg. */
bool oj_engine_post(struct oj_daemon *d, void (*job)(struct oj_daemon *, void *), void *arg);
/* Engine thread: while writes are held, the engine answers read-only rpcs
 * (and runs jobs posted through the hold) and keeps every other call, posted
 * job and the tick waiting, in arrival order, until the release; so nothing
 * changes the state while a long store operation (a restore) runs off the
 * engine thread, and nothing is lost or reordered. */
void oj_engine_hold_writes(struct oj_daemon *d);
void oj_engine_release_writes(struct oj_daemon *d);
/* oj_engine_post for the job that ends a hold: it runs even while writes
 * are held. */
bool oj_engine_post_through_hold(struct oj_daemon *d, void (*job)(struct oj_daemon *, void *),
                                 void *arg);
/* Runs what is queued (waiting for a hold to end), then ends the thread and
 * the tmux queue. */
void oj_engine_stop(struct oj_daemon *d);

/* Any thread: how many bytes of the session's log the watcher has published
 * (or skipped: a log present at start is followed from its end); -1 when it
 * has not seen the log. */
static inline int64_t oj_watcher_published(struct oj_daemon *d, const char *id)
{
    return oj_watcher_position(d->watcher, id);
}
/* Any thread: the last bytes of the session's log the watcher has read
 * (oj_watcher_tail). */
static inline size_t oj_watcher_tail_of(struct oj_daemon *d, const char *id, char *buf,
                                        size_t cap, uint64_t *end)
{
    return oj_watcher_tail(d->watcher, id, buf, cap, end);
}
/* Any thread: stop tracking a session whose record is gone (archived). */
static inline void oj_watcher_forget(struct oj_daemon *d, const char *id)
{
    oj_watcher_drop(d->watcher, id);
}

#endif
