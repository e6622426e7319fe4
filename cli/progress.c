/* progress.c — see progress.h. A thread of its own wakes every 200 ms after
 * the first second; the caller stays in its blocking call (an rpc, a read of
 * the daemon's start-up pipe) and knows nothing of it. */
#include "progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "duration.h"
#include "escape.h"

#define PROGRESS_AFTER_MS 1000
#define PROGRESS_EVERY_MS 200

struct oj_progress {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    bool shown;
    int64_t started;
    char what[200];
};

/* "1.4s" below a minute, then "2m 5s". */
static void elapsed(int64_t ms, char *buf, size_t len)
{
    if (ms < 60000)
        snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
    else
        oj_duration_format(ms, buf, len);
}

static void *tick(void *arg)
{
    struct oj_progress *p = arg;
    pthread_mutex_lock(&p->mu);
    int64_t wait = PROGRESS_AFTER_MS;
    while (!p->done) {
        struct timespec until = oj_deadline_in(wait);
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (p->done)
            break;
        int64_t ms = oj_mono_ms() - p->started;
        if (ms < PROGRESS_AFTER_MS) { /* woken early (a spurious wake-up) */
            wait = PROGRESS_AFTER_MS - ms;
            continue;
        }
        char took[32];
        elapsed(ms, took, sizeof took);
        /* \r and erase-to-end: the line is rewritten where it stands */
        fprintf(stderr, "\roj: still working: %s (%s)\033[K", p->what, took);
        fflush(stderr);
        p->shown = true;
        wait = PROGRESS_EVERY_MS;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct oj_progress *oj_progress_start(const char *what)
{
    if (!isatty(STDERR_FILENO))
        return NULL;
    struct oj_progress *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->started = oj_mono_ms();
    oj_escape_text(what, p->what, sizeof p->what);
    if (pthread_create(&p->thread, NULL, tick, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void oj_progress_stop(struct oj_progress *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    if (p->shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
