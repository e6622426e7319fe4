/* engine_work.c — see engine_work.h. */
#include "engine_work.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "work_queue.h"

struct work {
    struct oj_daemon *d;
    void (*work)(void *arg);
    void (*then)(struct oj_daemon *d, void *arg);
    void *arg;
    unsigned flags;
};

/* Engine thread: the result reaches whoever handed the work over. */
static void deliver(struct oj_daemon *d, void *arg)
{
    struct work *w = arg;
    w->then(d, w->arg);
    free(w);
    atomic_fetch_sub(&d->runners_active, 1);
}

/* The lane's thread. */
static void run(void *arg)
{
    struct work *w = arg;
    struct oj_daemon *d = w->d;
    /* Linux: the nice value of this thread alone (a thread of its own). */
    if (w->flags & OJ_WORK_LOW_PRIORITY)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), OJ_WORK_NICE);
    w->work(w->arg);
    if (w->then) {
        bool posted = w->flags & OJ_WORK_THEN_THROUGH_HOLD
                          ? oj_engine_post_through_hold(d, deliver, w)
                          : oj_engine_post(d, deliver, w);
        if (posted)
            return;
        w->then(NULL, w->arg); /* the engine is gone: only free what it holds */
    }
    free(w);
    atomic_fetch_sub(&d->runners_active, 1); /* last: d may go once it is 0 */
}

uint64_t oj_engine_work(struct oj_daemon *d, enum oj_work_lane lane, unsigned flags,
                        void (*work)(void *arg), void (*then)(struct oj_daemon *d, void *arg),
                        void *arg)
{
    struct work *w = malloc(sizeof *w);
    if (w == NULL)
        return 0;
    if (lane != OJ_LANE_ALONE) /* the tmux queue's thread is shared */
        flags &= ~(unsigned)OJ_WORK_LOW_PRIORITY;
    *w = (struct work){.d = d, .work = work, .then = then, .arg = arg, .flags = flags};
    atomic_fetch_add(&d->runners_active, 1);
    uint64_t ticket = 0;
    if (lane == OJ_LANE_TMUX && d->tmux_work)
        ticket = oj_work_queue_push(d->tmux_work, run, w);
    else if (lane == OJ_LANE_ALONE)
        ticket = oj_work_alone(run, w) == 0 ? 1 : 0;
    if (ticket == 0) {
        atomic_fetch_sub(&d->runners_active, 1);
        free(w);
    }
    return ticket;
}

struct read_job {
    struct oj_daemon *d;
    void (*read)(void *arg);
    void *arg;
};

/* A thread of its own. Counted in reads_active, not runners_active: a
 * stop waits for it before the store closes, and does not report it as a
 * shell step still running. */
static void run_read(void *arg)
{
    struct read_job *j = arg;
    struct oj_daemon *d = j->d;
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), OJ_WORK_NICE); /* bulk copying */
    j->read(j->arg); /* answers its call: the store must still be open */
    free(j);
    atomic_fetch_sub(&d->reads_active, 1);
}

void oj_engine_read(struct oj_daemon *d, uint64_t bytes, void (*read)(void *arg), void *arg)
{
    struct read_job *j = bytes > OJ_READ_INLINE_MAX ? malloc(sizeof *j) : NULL;
    if (j != NULL) {
        *j = (struct read_job){.d = d, .read = read, .arg = arg};
        atomic_fetch_add(&d->reads_active, 1);
        if (oj_work_alone(run_read, j) == 0)
            return;
        atomic_fetch_sub(&d->reads_active, 1);
        free(j);
    }
    read(arg); /* small, or no thread to be had: here, as before */
}

void oj_engine_store_users_wait(struct oj_daemon *d)
{
    /* A poll: only at stop, and both end (a read of at most 16 MiB, one
     * fdatasync). No new one starts: the engine is stopped, so nothing runs
     * at once, and reads start only from a call. */
    while (atomic_load(&d->reads_active) > 0 || atomic_load(&d->leaders_active) > 0)
        usleep(1000);
}
