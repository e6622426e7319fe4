/* daemon.h — the running daemon: its settings, its parts, and the entry point
 * the CLI calls for `oj daemon start`.
 *
 * Threads: the main thread waits for signals and runs start-up and shutdown;
 * nng's threads run the socket callbacks (server.c); one engine thread runs
 * every rpc handler in order, and the 1 s tick (engine.c), so handlers never
 * need locks around daemon state; the store's sync thread fdatasyncs the WAL
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
#include "hmap.h"
#include "oj.pb-c.h"
#include "paths.h"

struct oj_server;
struct oj_call;
struct oj_store;
struct oj_publisher;

struct oj_daemon {
    Oj__Control_Service svc; /* first member: handlers get &svc and find the daemon */
    struct oj_paths paths;
    struct oj_config cfg;
    pid_t pid;
    int64_t started_at_ms, started_mono_ms;
    struct oj_server *server;
    struct oj_store *store;

    /* liveness, kept in memory and never journaled (engine thread only):
     * lock name -> int64_t* last heartbeat (wall ms) */
    struct oj_hmap lock_heartbeats;
    /* session id -> struct oj_session_live* (rpc_session.c) */
    struct oj_hmap session_live;

    /* engine: one thread, one queue of calls */
    pthread_t engine_thread;
    pthread_mutex_t engine_mu;
    pthread_cond_t engine_cv;
    struct oj_call_node *queue_head, *queue_tail;
    bool engine_stopping;

    /* watchdog */
    pthread_t watchdog_thread;
    pthread_mutex_t watchdog_mu;
    pthread_cond_t watchdog_cv;
    bool watchdog_stopping;

    /* live output and events (publisher.c), fed by the log watcher (watcher.c) */
    struct oj_publisher *publisher;
    pthread_t watch_thread;
    int watch_fd, watch_stop[2];

    /* set by DaemonStop; the main thread acts on it */
    _Atomic int64_t stop_timeout_ms;
};

static inline struct oj_daemon *oj_daemon_of(Oj__Control_Service *svc)
{
    return (struct oj_daemon *)svc;
}

struct oj_daemon_opts {
    const char *root;  /* absolute project root (holds .oj/) */
    bool foreground;   /* copy log entries to stderr */
    bool recover;      /* --recover: truncate a corrupt WAL to its last good record */
    bool rebuild;      /* --rebuild-state: ignore snapshots, replay the whole WAL */
    /* -1, or a pipe for the starting CLI: any number of "NOTE <text>\n", then
     * "READY <pid>\n", "ALREADY <pid>\n" or "ERROR <why>\n". */
    int ready_fd;
};

/* Runs the daemon until it is stopped. Returns the process exit status. Must
 * be called before anything in the process has used nng. */
int oj_daemon_run(const struct oj_daemon_opts *o);

/* ---- parts (engine.c, watchdog.c, rpc_*.c) -------------------------------- */
int oj_engine_start(struct oj_daemon *d);
void oj_engine_submit(struct oj_call *call, void *daemon); /* the server's sink */
void oj_engine_stop(struct oj_daemon *d);

int oj_watcher_start(struct oj_daemon *d);
void oj_watcher_stop(struct oj_daemon *d);

int oj_watchdog_start(struct oj_daemon *d);
void oj_watchdog_stop(struct oj_daemon *d);

/* Each rpc group fills in its handlers; unset ones answer NOT_IMPLEMENTED. */
void oj_rpc_register_daemon(Oj__Control_Service *svc);
void oj_rpc_register_lock(Oj__Control_Service *svc);
void oj_rpc_register_maintenance(Oj__Control_Service *svc);
void oj_rpc_register_session(Oj__Control_Service *svc);

/* Sessions (rpc_session.c), engine thread: how many are not dead; reconcile
 * the records with tmux (the 1 s tick); record every live session's output
 * position at a graceful stop (they keep running). */
unsigned oj_sessions_active(struct oj_daemon *d);
void oj_sessions_tick(struct oj_daemon *d);
void oj_sessions_checkpoint(struct oj_daemon *d);
void oj_sessions_forget(struct oj_daemon *d); /* frees the in-memory liveness */

/* Heartbeat bookkeeping for locks (rpc_lock.c). */
int64_t oj_lock_heartbeat(struct oj_daemon *d, const char *name, int64_t fallback_ms);
void oj_lock_set_heartbeat(struct oj_daemon *d, const char *name, int64_t ms);
void oj_lock_forget(struct oj_daemon *d);

/* Resident set size of this process in bytes (0 if unknown). */
uint64_t oj_rss_bytes(void);
#endif
