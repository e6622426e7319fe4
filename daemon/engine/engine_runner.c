/* engine_runner.c — the engine's side of runners (runner.h): a run's result
 * is posted to the engine's queue and handed to the starter's callback there,
 * where the state lives; d->runners_active counts the runs whose result is not
 * recorded yet, so a graceful stop can wait for them (oj_runners_wait). */
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "runner.h"
#include "engine_runner.h"

struct posted_run {
    struct oj_daemon *d;
    oj_runner_done finished;
    void *arg;
    struct oj_run_result res;
};

/* Engine thread: the result reaches its starter. */
static void deliver(struct oj_daemon *d, void *arg)
{
    struct posted_run *p = arg;
    p->finished(d, p->arg, p->res.exit_status, p->res.timed_out, p->res.tail);
    free(p);
    atomic_fetch_sub(&d->runners_active, 1);
}

/* Runner thread: the command ended. */
static void post_result(void *arg, const struct oj_run_result *res)
{
    struct posted_run *p = arg;
    struct oj_daemon *d = p->d;
    p->res = *res;
    if (!oj_engine_post(d, deliver, p)) {
        /* The daemon stopped without us (past its --timeout); the next start
         * treats the step as cut off. */
        free(p->arg);
        free(p);
        atomic_fetch_sub(&d->runners_active, 1); /* last: d may go once it is 0 */
    }
}

int oj_runner_start(struct oj_daemon *d, const struct oj_run_spec *spec, oj_runner_done finished,
                    void *arg)
{
    struct posted_run *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -1;
    p->d = d;
    p->finished = finished;
    p->arg = arg;
    atomic_fetch_add(&d->runners_active, 1);
    if (oj_run_start(spec, post_result, p) != 0) {
        atomic_fetch_sub(&d->runners_active, 1);
        free(p);
        return -1;
    }
    return 0;
}

int oj_runners_wait(struct oj_daemon *d, int64_t deadline_mono_ms)
{
    /* A poll: runners are few and a stop waits at most its --timeout. */
    while (atomic_load(&d->runners_active) > 0 && oj_mono_ms() < deadline_mono_ms)
        usleep(20 * 1000);
    return atomic_load(&d->runners_active);
}
