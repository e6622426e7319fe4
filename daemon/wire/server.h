/* server.h — the daemon's request socket: nng REP with one context per
 * request in flight.
 *
 * Each received RequestFrame becomes an oj_call. Ping is answered right in
 * the I/O callback; every other call is handed to the sink (the engine's
 * queue) and answered whenever its handler calls the closure, from any
 * thread, so a slow call never holds up a fast one. Contexts are pooled:
 * there are always `min_receivers` contexts waiting for the next request, and
 * a context whose call is still running simply stays with that call.
 *
 * Each request is read by request.h (frame, method, payload, the stateless
 * checks of the table in opts.rpcs) before anything else, and every reply is encoded by it (valid
 * UTF-8 throughout).
 *
 * Guarantees:
 *  - a request that changes something is never run twice for one id: a
 *    repeat (same id, same method and payload) of a finished call gets the
 *    stored reply (reply_cache.h), a repeat of a running call takes over its
 *    reply slot; another request with a remembered id gets REQUEST_ID_REUSED
 *    and does not run. Id 0 and read-only rpcs are never remembered;
 *  - requests larger than OJ_MAX_REQUEST_BYTES are refused by nng itself;
 *  - peers running as another user are disconnected;
 *  - while draining, only Ping, Status and DaemonStop are accepted; the rest
 *    get SHUTTING_DOWN.
 */
#ifndef OJ_SERVER_H
#define OJ_SERVER_H
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.pb-c.h" /* StatusCode for oj_call_fail */

struct oj_server;
struct oj_call;
struct oj_rpc_entry;

typedef void (*oj_call_sink)(struct oj_call *call, void *arg);

struct oj_server_opts {
    const char *sock_path;
    const ProtobufCServiceDescriptor *service;
    /* each rpc's read-only flag and stateless check (request.h), handed in by
     * the rpc layer; NULL: no checks, and every rpc counts as changing things */
    const struct oj_rpc_entry *rpcs;
    oj_call_sink sink;
    void *sink_arg;
    unsigned min_receivers; /* contexts kept waiting for requests; 0 = default (16) */
    const char *version;    /* the oj version every reply names; NULL = OJ_VERSION */
};

struct oj_server_stats {
    uint64_t served;
    uint32_t in_flight;
    uint32_t listener_restarts;
    size_t reply_cache_entries, reply_cache_bytes; /* replies kept for de-duplication */
};

int oj_server_start(struct oj_server **out, const struct oj_server_opts *o, char *err,
                    size_t errlen);
/* Stop taking new work (see above). */
void oj_server_set_draining(struct oj_server *s);
/* Waits until no call is in flight and every reply is handed to nng, or until
 * the monotonic deadline. Returns the number of calls still in flight. */
unsigned oj_server_wait_idle(struct oj_server *s, int64_t deadline_mono_ms);
/* How many Pings have reached the server: the watchdog's proof that a new
 * connection got through the listener. */
uint64_t oj_server_pings(struct oj_server *s);
/* Closes the old listener and listens again (the watchdog's repair). */
int oj_server_relisten(struct oj_server *s);
/* Also listens on `url` (tls+tcp://, remote.h) with `tls` (a server config
 * requiring client certificates; the listener holds it). 0, or -1 with err. */
struct nng_tls_config;
int oj_server_listen_remote(struct oj_server *s, const char *url, struct nng_tls_config *tls,
                            char *err, size_t errlen);
/* Also listens on the dashboard's websocket `url` (ws:// or wss://, on the
 * http server dashboard.h holds): connections there skip the uid check
 * (peer.h), their path holding the token. 0, or -1 with err. */
int oj_server_listen_ws(struct oj_server *s, const char *url, char *err, size_t errlen);
void oj_server_stats(struct oj_server *s, struct oj_server_stats *st);
/* Closes the socket and frees everything; calls still held by handlers must
 * have completed (wait_idle first). */
void oj_server_stop(struct oj_server *s);

/* ---- for handlers -------------------------------------------------------- */
unsigned oj_call_method_index(const struct oj_call *c);
const char *oj_call_method_name(const struct oj_call *c);
const ProtobufCMessage *oj_call_input(const struct oj_call *c);
/* Whether the call's rpc is read-only in the table the server was given. */
bool oj_call_read_only(const struct oj_call *c);
/* Whether it may run on the receiving thread when the engine is idle. */
bool oj_call_at_once(const struct oj_call *c);
/* Requests other than c received and not yet answered. */
unsigned oj_call_others_in_flight(const struct oj_call *c);
/* The sink_arg the server was started with (the daemon). */
void *oj_call_context(const struct oj_call *c);
/* Marks the call failed; the handler then calls its closure with NULL. */
void oj_call_fail(struct oj_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answering is two steps so the reply can wait for the WAL sync between
 * them: pack encodes `out` (or the failure) into a ReplyFrame now, while
 * `out` is alive; send delivers it and frees the call. Each exactly once. */
void oj_call_pack(const ProtobufCMessage *out, struct oj_call *call);
void oj_call_send(void *call);
/* pack + send, for answers that need no sync. */
void oj_call_complete(const ProtobufCMessage *out, void *call);
#endif
