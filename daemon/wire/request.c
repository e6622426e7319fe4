/* request.c — see request.h. */
#include "request.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "oj.pb-c.h"
#include "pb_utf8.h"
#include "utf8.h"
#include "wire.pb-c.h"

/* The entry for `method`, NULL when the table (or no table) lacks it. */
static const struct oj_rpc_entry *entry_of(const struct oj_rpc_entry *rpcs, const char *method)
{
    for (const struct oj_rpc_entry *e = rpcs; e && e->name; e++)
        if (strcmp(e->name, method) == 0)
            return e;
    return NULL;
}

bool oj_rpc_read_only(const struct oj_rpc_entry *rpcs, const char *method)
{
    const struct oj_rpc_entry *e = entry_of(rpcs, method);
    return e && (e->mode & OJ_RPC_READ_ONLY); /* an rpc missing from the table counts as changing things */
}

bool oj_rpc_at_once(const struct oj_rpc_entry *rpcs, const char *method)
{
    const struct oj_rpc_entry *e = entry_of(rpcs, method);
    return e && (e->mode & (OJ_RPC_READ_ONLY | OJ_RPC_AT_ONCE));
}

int oj_request_read(const ProtobufCServiceDescriptor *svc, const struct oj_rpc_entry *rpcs,
                    const void *buf, size_t len, struct oj_request *rq, char *msg, size_t msglen)
{
    memset(rq, 0, sizeof *rq);
    msg[0] = '\0';
    Oj__RequestFrame *f = oj__request_frame__unpack(NULL, len, buf);
    if (f == NULL) {
        snprintf(msg, msglen, "request is not an oj.RequestFrame; see proto/wire.proto");
        return OJ__STATUS_CODE__BAD_FRAME;
    }
    rq->id = f->request_id;
    if (f->client_version)
        snprintf(rq->client_version, sizeof rq->client_version, "%s", f->client_version);
    const ProtobufCMethodDescriptor *m =
        protobuf_c_service_descriptor_get_method_by_name(svc, f->method);
    if (m == NULL) {
        char shown[81];
        snprintf(msg, msglen, "unknown method '%s'; see service oj.Control in proto/oj.proto",
                 oj_utf8_show(shown, sizeof shown, f->method));
        oj__request_frame__free_unpacked(f, NULL);
        return OJ__STATUS_CODE__UNKNOWN_METHOD;
    }
    rq->method = m;
    rq->method_index = (unsigned)(m - svc->methods);
    uint64_t h = oj_fnv1a64(m->name, strlen(m->name) + 1); /* the NUL ends the name */
    rq->digest = oj_fnv1a64_add(h, f->payload.data, f->payload.len);
    rq->dedup = rq->id != 0 && !oj_rpc_read_only(rpcs, m->name);
    rq->input = protobuf_c_message_unpack(m->input, NULL, f->payload.len, f->payload.data);
    oj__request_frame__free_unpacked(f, NULL);
    if (rq->input == NULL) {
        snprintf(msg, msglen, "payload of %s is not a valid %s", m->name, m->input->name);
        return OJ__STATUS_CODE__BAD_FRAME;
    }
    const struct oj_rpc_entry *e = entry_of(rpcs, m->name);
    const char *bad = e && e->check ? e->check(rq->input, msg, msglen) : NULL;
    if (bad) {
        if (bad != msg)
            snprintf(msg, msglen, "%s", bad);
        return OJ__STATUS_CODE__INVALID_ARGUMENT;
    }
    return OJ__STATUS_CODE__OK;
}

void oj_request_clear(struct oj_request *rq)
{
    if (rq->input)
        protobuf_c_message_free_unpacked(rq->input, NULL);
    rq->input = NULL;
}

uint8_t *oj_reply_pack(uint64_t id, int status, const char *message, const ProtobufCMessage *out,
                       const char *daemon_version, size_t *len)
{
    Oj__ReplyFrame rf = OJ__REPLY_FRAME__INIT;
    rf.status = (Oj__StatusCode)status;
    rf.request_id = id;
    rf.daemon_version = (char *)(daemon_version ? daemon_version : OJ_VERSION);
    rf.protocol_version = OJ_PROTOCOL_VERSION;
    /* The message, valid UTF-8: a character cut by a full buffer goes, and
     * bytes that are not UTF-8 (a user's name echoed) become U+FFFD. */
    char *text = NULL;
    if (message && message[0]) {
        size_t n = oj_utf8_uncut_len(message, strlen(message));
        size_t need = oj_utf8_fixed_len(message, n) + 1;
        text = malloc(need);
        if (text == NULL)
            return NULL;
        oj_utf8_copy(text, need, message, n);
        rf.message = text;
    }
    uint8_t *payload = NULL;
    if (out && status == OJ__STATUS_CODE__OK) {
        payload = oj_pb_pack_utf8(out, &rf.payload.len);
        if (payload == NULL) {
            free(text);
            return NULL;
        }
        rf.payload.data = payload;
    }
    *len = oj__reply_frame__get_packed_size(&rf);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        oj__reply_frame__pack(&rf, buf);
    free(payload);
    free(text);
    return buf;
}
