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

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "publisher.h"
#include "rpc_client.h"
#include "server.h"

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
static bool events_deliver(struct oj_daemon *d)
{
    nng_socket sub;
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", d->paths.events_sock_path);
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
            oj_pub_heartbeat(d->publisher, nonce);
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
    struct oj_daemon *d = arg;
    unsigned round = 0;
    pthread_mutex_lock(&d->watchdog_mu);
    while (!d->watchdog_stopping) {
        struct timespec ts = oj_deadline_in(d->cfg.watchdog_ms);
        int rv = pthread_cond_timedwait(&d->watchdog_cv, &d->watchdog_mu, &ts);
        if (d->watchdog_stopping || rv != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&d->watchdog_mu);
        if (++round % 4 == 0 && !events_deliver(d)) {
            LOG_WARN("watchdog: the events listener on %s stopped delivering; listening again",
                     d->paths.events_sock_path);
            oj_pub_relisten(d->publisher);
        }
        uint64_t pings = oj_server_pings(d->server);
        if (!listener_answers(d->paths.sock_path) && oj_server_pings(d->server) == pings) {
            LOG_WARN("watchdog: the listener on %s stopped answering; listening again",
                     d->paths.sock_path);
            if (oj_server_relisten(d->server) == 0 && listener_answers(d->paths.sock_path))
                LOG_INFO("watchdog: listener restored");
        }
        pthread_mutex_lock(&d->watchdog_mu);
    }
    pthread_mutex_unlock(&d->watchdog_mu);
    return NULL;
}

int oj_watchdog_start(struct oj_daemon *d)
{
    pthread_mutex_init(&d->watchdog_mu, NULL);
    pthread_cond_init(&d->watchdog_cv, NULL);
    return pthread_create(&d->watchdog_thread, NULL, watchdog_main, d);
}

void oj_watchdog_stop(struct oj_daemon *d)
{
    pthread_mutex_lock(&d->watchdog_mu);
    d->watchdog_stopping = true;
    pthread_cond_signal(&d->watchdog_cv);
    pthread_mutex_unlock(&d->watchdog_mu);
    pthread_join(d->watchdog_thread, NULL);
    pthread_cond_destroy(&d->watchdog_cv);
    pthread_mutex_destroy(&d->watchdog_mu);
}
