/* request.h — what the daemon does with the bytes of one request before any
 * handler runs, and how every reply is encoded. No sockets and no state, so
 * the server (server.c), the unit tests and the fuzzer (tests/fuzz/
 * fuzz_request.c) all run this very path.
 *
 * Reading a request: decode the RequestFrame, find its method in the service,
 * take its digest, decode the payload as that rpc's request message, and
 * apply the rpc's stateless checks (a field that is wrong whatever the
 * daemon's state: an empty command, a negative timeout, a bad lock name).
 * What each rpc is (read-only or not, and its check) is not known here: the
 * rpc layer hands in a table of them (oj_rpc_checks, rpc_checks.c), so the
 * wire knows no rule of any domain. */
#ifndef OJ_REQUEST_H
#define OJ_REQUEST_H
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A stateless check of an rpc's decoded request: NULL when it is fine, else
 * why not (a static string, or `msg` written). */
typedef const char *(*oj_rpc_check)(const ProtobufCMessage *in, char *msg, size_t msglen);

/* One rpc as the wire needs to know it. Read-only: it changes nothing, so
 * running it twice is harmless and the daemon does not remember its id or
 * reply. A table of them ends with an entry whose name is NULL. */
enum oj_rpc_mode {
    OJ_RPC_MUTATES = 0,
    OJ_RPC_READ_ONLY = 1,
    /* A change small enough to run on the thread that received it when the
     * engine is idle (engine.c run_at_once): it only reads and writes the
     * state and the WAL, starts no subprocess, waits for nothing. Read-only
     * rpcs always may. */
    OJ_RPC_AT_ONCE = 2,
};
struct oj_rpc_entry {
    const char *name;
    unsigned mode; /* enum oj_rpc_mode bits */
    oj_rpc_check check; /* NULL: nothing is wrong with it whatever the state */
};

struct oj_request {
    uint64_t id;     /* RequestFrame.request_id; 0 when the frame did not decode */
    uint64_t digest; /* FNV-1a 64 of the method name, a NUL byte and the payload */
    const ProtobufCMethodDescriptor *method; /* NULL until the method is known */
    unsigned method_index;
    char client_version[32]; /* RequestFrame.client_version, cut to fit; "" when unsaid */
    /* Remembered by id (the reply cache, repeats of running calls): the id is
     * not 0 and the rpc is not read-only. */
    bool dedup;
    ProtobufCMessage *input; /* the decoded payload; oj_request_clear frees it */
};

/* Reads the `len` bytes of one request for service `svc`, with each rpc's
 * check from `rpcs` (NULL: no checks, and every rpc counts as changing
 * things). Returns OK (0) with *rq filled, or the oj.StatusCode to answer
 * with and a one-line message in `msg` (valid UTF-8); rq->id and rq->method
 * are set as far as the frame got. Call oj_request_clear either way. */
int oj_request_read(const ProtobufCServiceDescriptor *svc, const struct oj_rpc_entry *rpcs,
                    const void *buf, size_t len, struct oj_request *rq, char *msg, size_t msglen);
void oj_request_clear(struct oj_request *rq);

/* True when `rpcs` lists the method as read-only (an rpc it lacks changes
 * things). */
bool oj_rpc_read_only(const struct oj_rpc_entry *rpcs, const char *method);
/* True when the method is read-only or marked at_once. */
bool oj_rpc_at_once(const struct oj_rpc_entry *rpcs, const char *method);

/* Encodes a ReplyFrame: status, message (status OK: none), request id and,
 * when status is OK, `out` as payload. Every string in it, the payload's
 * included, is valid UTF-8 (pb_utf8.h); a message cut mid-character ends
 * before that character. Returns a new buffer (free() it) and its size in
 * *len, or NULL when out of memory. */
uint8_t *oj_reply_pack(uint64_t id, int status, const char *message, const ProtobufCMessage *out,
                       const char *daemon_version, size_t *len);
#endif
