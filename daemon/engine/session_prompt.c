/* session_prompt.c — a pipeline agent's prompt, typed once the agent is
 * ready for it (prompt_ready.h; see sessions_engine.h). The wait watches the
 * session's log on a thread of its own, so neither the engine nor the tmux
 * queue waits for it. */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "daemon.h"
#include "engine_work.h"
#include "prompt_ready.h"
#include "session_live.h"
#include "sessions_engine.h"

#define POLL_MS 20

struct prompt_wait {
    char id[64], log[PATH_MAX + 32];
    char *text;
    const atomic_bool *draining; /* a graceful stop: type now, do not hold it up */
    oj_session_done done;
    void *arg;
};

static void wait_ready(void *arg)
{
    struct prompt_wait *w = arg;
    int64_t start = oj_mono_ms(), changed = start;
    uint64_t last = 0;
    for (;;) {
        int64_t mtime, now = oj_mono_ms();
        uint64_t size;
        oj_session_log_stat(w->log, &mtime, &size);
        if (size != last) {
            last = size;
            changed = now;
        }
        if (oj_prompt_ready(size, now - changed, now - start) || atomic_load(w->draining))
            return;
        struct timespec pause = {0, POLL_MS * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static void then_type(struct oj_daemon *d, void *arg)
{
    struct prompt_wait *w = arg;
    char err[512];
    if (d == NULL) {
        if (w->done)
            w->done(NULL, w->arg, -1, "the daemon stopped");
    } else if (oj_session_type(d, w->id, w->text, false, w->done, w->arg, err, sizeof err) != 0) {
        if (w->done)
            w->done(d, w->arg, -1, err);
    }
    free(w->text);
    free(w);
}

int oj_session_type_when_ready(struct oj_daemon *d, const char *id, const char *text,
                               oj_session_done done, void *arg, char *err, size_t errlen)
{
    struct oj_session s;
    if (oj_session_get(d, id, &s) != 0) {
        snprintf(err, errlen, "no session %s", id);
        return -1;
    }
    struct prompt_wait *w = calloc(1, sizeof *w);
    char *copy = strdup(text);
    if (w == NULL || copy == NULL) {
        free(w);
        free(copy);
        oj_session_clear(&s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->log, sizeof w->log, "%s", s.log);
    oj_session_clear(&s);
    w->text = copy;
    w->draining = &d->draining;
    w->done = done;
    w->arg = arg;
    if (oj_engine_work(d, OJ_LANE_ALONE, 0, wait_ready, then_type, w) == 0) {
        free(w->text);
        free(w);
        snprintf(err, errlen, "cannot start the wait for the agent (out of memory or threads)");
        return -1;
    }
    return 0;
}
