/* peer.c — see peer.h. */
#include "peer.h"

#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

bool oj_peer_refused(int get_rv, uint64_t peer_uid, uint64_t own_uid)
{
    return get_rv != 0 || peer_uid != own_uid;
}

/* the listener ids of oj_peer_allow_listener (0: a free entry) */
static _Atomic int allowed[8];

int oj_peer_allow_listener(nng_listener l)
{
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&allowed[i], &zero, nng_listener_id(l)))
            return 0;
    }
    return -1;
}

static bool allowed_listener(nng_pipe p)
{
    int id = nng_listener_id(nng_pipe_listener(p));
    for (size_t i = 0; id > 0 && i < sizeof allowed / sizeof allowed[0]; i++)
        if (atomic_load(&allowed[i]) == id)
            return true;
    return false;
}

static void on_pipe_add(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    if (allowed_listener(p))
        return; /* the dashboard's websocket: its path held the token */
    /* A connection through the remote (TLS) listener has no uid: it is the
     * client certificate, checked against tls_ca during the handshake
     * (NNG_TLS_AUTH_MODE_REQUIRED), that lets it in. */
    bool verified = false;
    if (nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified) == 0) {
        if (!verified) {
            LOG_WARN("%s: refused a TLS connection without a verified certificate",
                     (const char *)arg);
            nng_pipe_close(p);
        }
        return;
    }
    uint64_t uid = 0;
    int rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid);
    if (!oj_peer_refused(rv, uid, (uint64_t)geteuid()))
        return;
    if (rv != 0)
        LOG_WARN("%s: refused a connection whose user is unknown: %s", (const char *)arg,
                 nng_strerror(rv));
    else
        LOG_WARN("%s: refused a connection from uid %llu", (const char *)arg,
                 (unsigned long long)uid);
    nng_pipe_close(p);
}

int oj_peer_only_own_user(nng_socket sock, const char *what)
{
    return nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_pipe_add, (void *)what);
}

int oj_peer_listen_extra(nng_socket sock, const char *url, struct nng_tls_config *tls, char *err,
                         size_t errlen)
{
    nng_listener l;
    int rv = nng_listener_create(&l, sock, url);
    if (rv == 0) {
        if (tls)
            rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
        else if (oj_peer_allow_listener(l) != 0)
            rv = NNG_ENOSPC;
        if (rv == 0)
            rv = nng_listener_start(l, 0);
        if (rv != 0)
            nng_listener_close(l);
    }
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", url, nng_strerror(rv));
        return -1;
    }
    return 0;
}
