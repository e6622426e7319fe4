/* request.h — what the daemon does with the bytes of one request before any
 * handler runs, and how every reply is encoded. No sockets and no state, so
 * the server (server.c), the unit tests and the fuzzer (tests/fuzz/
 * fuzz_request.c) all run this very path.
 *
 * Reading a request: decode the RequestFrame, find its method in the service,
 * take its digest, decode the payload as that rpc's request message, and
 * apply the rpc's stateless checks (a field that is wrong whatever the
 * daemon's state: an empty command, a negative timeout, a bad lock name). The
 * table in request.c lists every rpc of oj.Control once, with those checks and
 * whether the rpc is read-only. */
#ifndef OJ_REQUEST_H
#define OJ_REQUEST_H
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oj_request {
    uint64_t id;     /* RequestFrame.request_id; 0 when the frame did not decode */
    uint64_t digest; /* FNV-1a 64 of the method name, a NUL byte and the payload */
    const ProtobufCMethodDescriptor *method; /* NULL until the method is known */
    unsigned method_index;
    /* Remembered by id (the reply cache, repeats of running calls): the id is
     * not 0 and the rpc is not read-only. */
    bool dedup;
    ProtobufCMessage *input; /* the decoded payload; oj_request_clear frees it */
};

/* Reads the `len` bytes of one request for service `svc`. Returns OK (0) with
 * *rq filled, or the oj.StatusCode to answer with and a one-line message in
 * `msg` (valid UTF-8); rq->id and rq->method are set as far as the frame got.
 * Call oj_request_clear either way. */
int oj_request_read(const ProtobufCServiceDescriptor *svc, const void *buf, size_t len,
                    struct oj_request *rq, char *msg, size_t msglen);
void oj_request_clear(struct oj_request *rq);

/* True for the rpcs that change nothing (Ping, Status, the lists and shows):
 * the daemon does not remember their ids or replies. */
bool oj_rpc_read_only(const char *method);

/* The i-th rpc name of the table, NULL past its end (tests check the table
 * against the service, so no rpc is left unclassified). */
const char *oj_rpc_table_name(size_t i);

/* Encodes a ReplyFrame: status, message (status OK: none), request id and,
 * when status is OK, `out` as payload. Every string in it, the payload's
 * included, is valid UTF-8 (pb_utf8.h); a message cut mid-character ends
 * before that character. Returns a new buffer (free() it) and its size in
 * *len, or NULL when out of memory. */
uint8_t *oj_reply_pack(uint64_t id, int status, const char *message, const ProtobufCMessage *out,
                       size_t *len);
#endif
