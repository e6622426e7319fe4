/* watchdog.c — keeps the request listener alive.
 *
 * nng 1.5.2 (Debian 12's) has a bug: a peer that connects to an ipc listener
 * and hangs up before the SP handshake leaves the listener accepting nothing
 * ever again (fixed upstream in 1.6.0). Any stray `connect()` does it, and so
 * does another process calling nng_listen on our path. So every
 * OJ_WATCHDOG_INTERVAL (500 ms) this thread dials the daemon like a client would
 * and sends a Ping. When the Ping never reaches the server (a slow answer to a
 * Ping that did arrive is only a busy daemon), it closes the listener and
 * listens again. Clients cut off by that resend their request with the same
 * id, which the server answers without running it twice. Every 4th round it
 * checks the events socket the same way: a new subscriber must receive a
 * heartbeat (a Heartbeat PubFrame on "hb/", see wire.proto); if not, that
 * listener is re-opened too (followers' dialers then reconnect and re-fetch
 * what they missed). */
#include <errno.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "watchdog.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "publisher.h"
#include "rpc_client.h"
#include "server.h"

struct oj_watchdog {
    struct oj_watchdog_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

static bool listener_answers(const char *sock_path)
{
    struct oj_client *c;
    if (oj_client_open(&c, sock_path, 3000) != 0)
        return false;
    oj_client_set_retry(c, 0);
    Oj__PingRequest req = OJ__PING_REQUEST__INIT;
    Oj__PingResponse *resp;
    int st = OJ_RPC(c, oj__control__ping, &req, &resp);
    oj_client_free_reply(resp);
    oj_client_close(c);
    return st == OJ__STATUS_CODE__OK;
}

/* The events socket has the same listener bug. A new subscriber must
 * receive a heartbeat published for it within 3 s. */
static bool events_deliver(struct oj_watchdog *w)
{
    nng_socket sub;
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", w->o.events_sock_path);
    if (nng_sub0_open(&sub) != 0)
        return true; /* cannot test: do not repair on a guess */
    nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, OJ_PUB_HEARTBEAT_TOPIC,
                   strlen(OJ_PUB_HEARTBEAT_TOPIC));
    nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 100);
    bool got = false;
    if (nng_dial(sub, url, NULL, 0) == 0) {
        uint64_t nonce = (uint64_t)oj_mono_ns();
        /* The subscription needs a moment after the connection: keep beating. */
        for (int64_t end = oj_mono_ms() + 3000; !got && oj_mono_ms() < end;) {
            oj_pub_heartbeat(w->o.publisher, nonce);
            nng_msg *m;
            if (nng_recvmsg(sub, &m, 0) == 0) {
                got = oj_pub_is_heartbeat(nng_msg_body(m), nng_msg_len(m), nonce);
                nng_msg_free(m);
            }
        }
    }
    nng_close(sub);
    return got;
}

static void *watchdog_main(void *arg)
{
    struct oj_watchdog *w = arg;
    const struct oj_watchdog_opts *o = &w->o;
    unsigned round = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        struct timespec ts = oj_deadline_in(o->interval_ms);
        int rv = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stopping || rv != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&w->mu);
        if (++round % 4 == 0 && !events_deliver(w)) {
            LOG_WARN("watchdog: the events listener on %s stopped delivering; listening again",
                     o->events_sock_path);
            oj_pub_relisten(o->publisher);
        }
        uint64_t pings = oj_server_pings(o->server);
        if (!listener_answers(o->sock_path) && oj_server_pings(o->server) == pings) {
            LOG_WARN("watchdog: the listener on %s stopped answering; listening again",
                     o->sock_path);
            if (oj_server_relisten(o->server) == 0 && listener_answers(o->sock_path))
                LOG_INFO("watchdog: listener restored");
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int oj_watchdog_start(struct oj_watchdog **out, const struct oj_watchdog_opts *o)
{
    *out = NULL;
    struct oj_watchdog *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->o = *o;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void oj_watchdog_stop(struct oj_watchdog *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
