/* engine_work.h — work the engine hands off so that it never waits for a
 * subprocess (tmux, git) or a long store operation: the work runs on another
 * thread and its result comes back to the engine thread as a posted job, as a
 * shell step's does (engine_runner.h).
 *
 * Lanes: OJ_LANE_TMUX is one queue for every tmux command, run one at a time
 * in the order the engine handed them over (a pane is typed into only after
 * it was made, the tick's list-panes sees every kill handed over before it);
 * OJ_LANE_ALONE is a thread of its own per piece of work (git, which keeps its
 * own lock, and restores). Work is counted in d->runners_active, so a
 * graceful stop waits for it as for a shell step. */
#ifndef OJ_ENGINE_WORK_H
#define OJ_ENGINE_WORK_H
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

enum oj_work_lane {
    OJ_LANE_TMUX,
    OJ_LANE_ALONE,
};

enum oj_work_flags {
    /* then runs even while writes are held (daemon.h): the restore's end, or
     * an answer to a read-only rpc, which changes nothing */
    OJ_WORK_THEN_THROUGH_HOLD = 1,
    /* work that only uses CPU and the disk in the background (a restore, a
     * snapshot, freeing a replaced state; OJ_LANE_ALONE only): its thread runs at a lower
     * priority (nice OJ_WORK_NICE), so on a busy machine the engine and the
     * server's threads, which answer requests, get a core first */
    OJ_WORK_LOW_PRIORITY = 2,
};
#define OJ_WORK_NICE 10

/* work(arg) runs on the lane; it must not touch the daemon's state (only
 * what arg holds: copies). Then then(d, arg) runs on the engine thread and
 * owns arg; then may be NULL, and work owns arg. then is called with d NULL
 * when the engine ended first (a stop past its timeout): it only frees arg,
 * and a call it holds is abandoned to the server's stop.
 *
 * Returns the work's ticket: on OJ_LANE_TMUX its place in the tmux order
 * (work with a smaller ticket ran before it), on OJ_LANE_ALONE 1; 0 when it
 * could not be handed over (out of memory, no thread): nothing runs and arg
 * stays the caller's. Engine thread. */
uint64_t oj_engine_work(struct oj_daemon *d, enum oj_work_lane lane, unsigned flags,
                        void (*work)(void *arg), void (*then)(struct oj_daemon *d, void *arg),
                        void *arg);

/* A read of files that may be large (a log range, up to 16 MiB), with which a
 * read-only rpc answers: up to OJ_READ_INLINE_MAX bytes it runs on the
 * calling thread (handing it over costs more than such a read), more on a
 * thread of its own (OJ_LANE_ALONE, at nice OJ_WORK_NICE: bulk copying, so
 * the threads that answer requests get a core first), so that nobody waits for the state
 * (engine.c state_mu: the engine and every other request) while megabytes
 * are read and packed. read(arg) must not touch the daemon's state (only
 * what arg holds: copies), owns arg and answers the call itself. `bytes` is
 * what the read will take at most. Engine thread, or a call run at once. */
#define OJ_READ_INLINE_MAX (64u * 1024)
void oj_engine_read(struct oj_daemon *d, uint64_t bytes, void (*read)(void *arg), void *arg);
/* Waits until no such read runs and no call run at once still syncs the
 * WAL on its own thread (engine.c): before the store closes (daemon_main.c),
 * once the engine is stopped. */
void oj_engine_store_users_wait(struct oj_daemon *d);
#endif
