/* rpc_client.h — the generated oj.Control stubs, bound to nng.
 *
 * protoc-c generates one typed function per rpc (oj__control__status(), ...)
 * that calls service->invoke(). oj_client implements invoke over an nng REQ
 * socket: it packs the request into a RequestFrame, sends it, waits for the
 * ReplyFrame and unpacks the payload with the method's own descriptor. So no
 * method has hand-written packing code, and a new rpc in oj.proto is callable
 * as soon as it is generated.
 *
 * Call sequence:
 *     struct oj_client *c;
 *     if (oj_client_open(&c, sock_path, 10000) != 0) ... daemon not reachable
 *     Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
 *     Oj__StatusResponse *resp;
 *     int st = OJ_RPC(c, oj__control__status, &req, &resp);
 *     if (st == OJ__STATUS_CODE__OK) { ...; oj_client_free_reply(resp); }
 *     else fprintf(stderr, "%s\n", oj_client_message(c));
 *     oj_client_close(c);
 *
 * A client is used by one thread at a time; open one per thread.
 * Every request carries a fresh random id that the daemon de-duplicates, so
 * a request is never run twice, however often it is sent: the REQ socket
 * never resends on a timer (NNG_OPT_REQ_RESENDTIME infinite), and the client
 * resends the same request after a broken connection.
 */
#ifndef OJ_RPC_CLIENT_H
#define OJ_RPC_CLIENT_H
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "oj.pb-c.h"
#include "wire.pb-c.h"

/* Largest request a client sends and the daemon accepts (NNG_OPT_RECVMAXSZ).
 * Checked on the client before sending: nng_close was seen to hang after the
 * peer dropped an oversized message. */
#define OJ_MAX_REQUEST_BYTES (4u * 1024 * 1024)
/* Largest reply a client accepts (session captures can be big). */
#define OJ_MAX_REPLY_BYTES (64u * 1024 * 1024)
/* How long a graceful stop may take when DaemonStop's timeout_ms is 0 (and
 * SIGTERM's); `oj daemon stop` waits as long by default. */
#define OJ_DEFAULT_STOP_TIMEOUT_MS 10000

/* How long a call keeps retrying after its connection broke or was refused
 * (the daemon's watchdog repairs a dead listener within ~2.5 s). */
#define OJ_CLIENT_RETRY_MS 5000

/* Status codes for failures that happen before a reply exists; the positive
 * codes are oj.StatusCode from wire.proto. */
enum {
    OJ_RPC_UNREACHABLE = -1, /* could not send, or the connection broke */
    OJ_RPC_NO_ANSWER = -2,   /* no reply within the client's timeout */
};

struct oj_client;

/* Connects to the daemon socket at `sock_path`. timeout_ms bounds each call.
 * Returns 0, or an nng error code (NNG_ECONNREFUSED, NNG_ENOENT: nobody
 * listening). */
int oj_client_open(struct oj_client **out, const char *sock_path, int timeout_ms);
/* The same for any nng URL; `tls` (NULL for ipc://) is the client's TLS
 * configuration for tls+tcp:// (remote.h), held by the dialer. */
struct nng_tls_config;
int oj_client_open_url(struct oj_client **out, const char *url, struct nng_tls_config *tls,
                       int timeout_ms);
void oj_client_close(struct oj_client *c);
void oj_client_set_timeout(struct oj_client *c, int timeout_ms);
/* How long a call retries over a broken connection (default OJ_CLIENT_RETRY_MS;
 * 0 = fail at once, for probes such as the daemon's watchdog). */
void oj_client_set_retry(struct oj_client *c, int retry_ms);

/* The ProtobufCService to hand to the generated oj__control__* stubs. */
ProtobufCService *oj_client_service(struct oj_client *c);

/* After a call: its status (OK = 0), the one-line message that came with a
 * failure, and the decoded response (caller owns it; NULL unless OK). */
int oj_client_status(const struct oj_client *c);
const char *oj_client_message(const struct oj_client *c);
ProtobufCMessage *oj_client_take_reply(struct oj_client *c);
void oj_client_free_reply(void *reply);

/* The oj version of the daemon that sent the last reply ("" before one, or
 * from a daemon older than ReplyFrame.daemon_version). */
const char *oj_client_daemon_version(const struct oj_client *c);
/* Calls fn once, after the first reply frame this client decodes (the CLI
 * compares versions there: version_skew.h). */
void oj_client_on_first_reply(struct oj_client *c, void (*fn)(struct oj_client *c, void *arg),
                              void *arg);

/* Calls the generated stub `stub` with `req`; stores the response in *out
 * (NULL on failure) and evaluates to the call's status. */
#define OJ_RPC(c, stub, req, out)                                                \
    (stub(oj_client_service(c), (req), NULL, NULL),                              \
     *(out) = (void *)oj_client_take_reply(c), oj_client_status(c))

/* Name of a StatusCode, e.g. "NOT_FOUND"; "UNREACHABLE"/"NO_ANSWER" for the
 * transport codes above. */
const char *oj_status_name(int status);
#endif
