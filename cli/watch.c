/* watch.c — see watch.h. */
#include "watch.h"

#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define WATCH_REFRESH_MS 5000 /* for the ages shown, when nothing happens */
#define WATCH_COALESCE_MS 200 /* events this close together make one redraw */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Waits until an event arrives (then takes those that follow it within
 * WATCH_COALESCE_MS) or WATCH_REFRESH_MS pass, or Ctrl-C. */
static void await_change(nng_socket sub)
{
    int64_t until = oj_mono_ms() + WATCH_REFRESH_MS;
    bool news = false;
    while (!interrupted) {
        int64_t now = oj_mono_ms();
        if (now >= until)
            return;
        nng_msg *m;
        int rv = nng_recvmsg(sub, &m, 0); /* receive timeout 100 ms */
        if (rv == NNG_ETIMEDOUT)
            continue;
        if (rv != 0) { /* the socket is gone: fall back to the periodic refresh */
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        nng_msg_free(m);
        if (!news) {
            news = true;
            until = oj_mono_ms() + WATCH_COALESCE_MS;
        }
    }
}

int oj_watch(struct oj_ctx *ctx, struct oj_client *c, const char *what,
             int (*draw)(struct oj_client *c, void *arg), void *arg)
{
    if (!isatty(STDOUT_FILENO)) {
        oj_errorf("%s --watch redraws a terminal, and stdout is not one; run it without --watch "
                  "(once), or `oj events --follow` for a stream of what changes",
                  what);
        return OJ_EXIT_USAGE;
    }
    nng_socket sub;
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", ctx->paths.events_sock_path);
    int rv = nng_sub0_open(&sub);
    if (rv == 0) {
        nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 100);
        nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "ev/", 3);
        rv = nng_dial(sub, url, NULL, 0);
        if (rv != 0)
            nng_close(sub);
    }
    if (rv != 0) {
        oj_errorf("cannot subscribe to the daemon's events at %s: %s",
                  ctx->paths.events_sock_path, nng_strerror(rv));
        return OJ_EXIT_FAILURE;
    }
    interrupted = 0;
    struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = OJ_EXIT_OK;
    while (!interrupted) {
        fputs("\033[H\033[2J", stdout); /* home, clear: redrawn in place */
        rc = draw(c, arg);
        if (rc != OJ_EXIT_OK)
            break;
        time_t t = time(NULL);
        struct tm tm;
        char when[16];
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        printf("\n(%s; redrawn on every event; Ctrl-C to leave)\n", when);
        fflush(stdout);
        await_change(sub);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    nng_close(sub);
    return rc;
}
