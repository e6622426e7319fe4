/* peer.h — only the daemon's own user may use its sockets.
 *
 * The sockets live in a 0700 directory and are 0600 themselves, but that is
 * one mistake (a chmod, a shared fallback directory) away from letting anyone
 * in: every connection is also checked by the peer's uid, which the kernel
 * reports for a Unix socket (SO_PEERCRED; nng's NNG_OPT_IPC_PEER_UID).
 * A connection through the remote TLS listener (remote.h) has no uid; it
 * gets in by a client certificate the TLS handshake verified, and one
 * through the dashboard's websocket listeners (dashboard.h) by the token in
 * the path it reached (no uid, and a browser has no client certificate). */
#ifndef OJ_PEER_H
#define OJ_PEER_H
#include <nng/nng.h>
#include <stdbool.h>
#include <stdint.h>

/* The rule: a peer is refused unless its uid is known (`get_rv`, nng's
 * result when asked for it, is 0) and equal to ours. */
bool oj_peer_refused(int get_rv, uint64_t peer_uid, uint64_t own_uid);

/* Installs the check on `sock`: each new connection of another user is
 * closed before it carries a message, and logged as refused by `what`
 * (a static string: "server", "events"). */
int oj_peer_only_own_user(nng_socket sock, const char *what);

/* Lets every connection through listener `l` in: the dashboard's websocket
 * listeners, whose path holds the token. Called before the listener starts;
 * at most 8 such listeners (-1 beyond). */
int oj_peer_allow_listener(nng_listener l);

/* One more listener on `sock` besides its local one: with `tls` a remote
 * tls+tcp listener (mutual TLS: the handshake lets in), without it a
 * dashboard websocket listener (its path holds the token: every connection
 * is let in, oj_peer_allow_listener). 0, or -1 with why in err. The
 * watchdog does not repair these. */
struct nng_tls_config;
int oj_peer_listen_extra(nng_socket sock, const char *url, struct nng_tls_config *tls, char *err,
                         size_t errlen);
#endif
