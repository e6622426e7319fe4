/* libFuzzer target: reading a request (daemon/wire/request.c), the path every
 * request takes in the daemon before any handler runs — RequestFrame, the
 * method, the payload as that rpc's request message, the rpc's stateless
 * checks (daemon/rpc/rpc_checks.c, handed in as the daemon does) — must
 * never crash, read out of bounds or leak on any bytes; and the reply the
 * daemon would send must decode, with valid UTF-8 in every string field,
 * whatever the request held. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oj.pb-c.h"
#include "pb_utf8.h"
#include "request.h"
#include "rpc_checks.h"
#include "utf8.h"
#include "wire.pb-c.h"

/* Decodes a packed ReplyFrame and checks every string in it, the payload's
 * too (as `out_desc` when the status is OK). */
static void check_reply(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *out_desc)
{
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, len, buf);
    if (r == NULL || !oj_pb_utf8_valid(&r->base, NULL))
        abort();
    if (r->status == OJ__STATUS_CODE__OK && out_desc) {
        ProtobufCMessage *m =
            protobuf_c_message_unpack(out_desc, NULL, r->payload.len, r->payload.data);
        if (m == NULL || !oj_pb_utf8_valid(m, NULL))
            abort();
        protobuf_c_message_free_unpacked(m, NULL);
    }
    oj__reply_frame__free_unpacked(r, NULL);
}

/* Drops the unknown fields protobuf-c keeps from a decoded message, nested
 * ones included: it re-encodes them as they came, tags it tolerated on input
 * (field 0, overlong varints) included, which its own decoder then refuses.
 * The daemon never sends a decoded request back, so only the strings matter
 * here. */
static void drop_unknown(ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        free(m->unknown_fields[i].data);
    free(m->unknown_fields);
    m->unknown_fields = NULL;
    m->n_unknown_fields = 0;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        char *base = (char *)m;
        size_t n = 1;
        ProtobufCMessage **items = (ProtobufCMessage **)(base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&items, base + f->offset, sizeof items);
        }
        for (size_t k = 0; k < n; k++)
            if (items[k])
                drop_unknown(items[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oj_request rq;
    char msg[512];
    int st = oj_request_read(&oj__control__descriptor, oj_rpc_checks, data, size, &rq, msg,
                             sizeof msg);
    if (!oj_utf8_valid(msg, strlen(msg)))
        abort();
    if (st == OJ__STATUS_CODE__OK ? rq.input == NULL || rq.method == NULL : msg[0] == '\0')
        abort(); /* a request that passed is decoded; one that did not says why */
    if (rq.dedup && (rq.id == 0 || oj_rpc_read_only(oj_rpc_checks, rq.method->name)))
        abort();

    /* The refusal as the server sends it, or, for a request that passed, a
     * reply whose payload is the decoded request itself (the strings a
     * handler echoes are the request's strings). */
    size_t len;
    uint8_t *reply = oj_reply_pack(rq.id, st, msg, NULL, &len);
    if (reply == NULL)
        abort();
    check_reply(reply, len, NULL);
    free(reply);
    if (st == OJ__STATUS_CODE__OK) {
        drop_unknown(rq.input);
        reply = oj_reply_pack(rq.id, st, NULL, rq.input, &len);
        if (reply == NULL)
            abort();
        check_reply(reply, len, rq.method->input);
        free(reply);
        /* A repeat of the same bytes is the same request. */
        struct oj_request again;
        char msg2[512];
        if (oj_request_read(&oj__control__descriptor, oj_rpc_checks, data, size, &again, msg2,
                            sizeof msg2) != st ||
            again.digest != rq.digest || again.id != rq.id)
            abort();
        oj_request_clear(&again);
    }
    oj_request_clear(&rq);
    return 0;
}
