/* rpc_client.c — see rpc_client.h. */
#include "rpc_client.h"

#include <time.h>

#include "clock.h"
#include "version.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct oj_client {
    ProtobufCService base; /* must stay first: the stubs get &base */
    nng_socket sock;
    uint64_t next_id;
    int retry_ms;
    int status;
    char message[512];
    ProtobufCMessage *reply;
    char daemon_version[32]; /* from the last ReplyFrame; "" until one names it */
    void (*on_first_reply)(struct oj_client *c, void *arg);
    void *on_first_reply_arg;
    bool replied;
};

static void set_result(struct oj_client *c, int status, const char *fmt, const char *detail)
{
    c->status = status;
    snprintf(c->message, sizeof c->message, fmt, detail);
}

static void client_invoke(ProtobufCService *svc, unsigned method_index,
                          const ProtobufCMessage *input, ProtobufCClosure closure,
                          void *closure_data)
{
    struct oj_client *c = (struct oj_client *)svc;
    const ProtobufCMethodDescriptor *m = &svc->descriptor->methods[method_index];
    if (c->reply) {
        protobuf_c_message_free_unpacked(c->reply, NULL);
        c->reply = NULL;
    }
    c->status = OJ__STATUS_CODE__OK;
    c->message[0] = '\0';

    size_t plen = protobuf_c_message_get_packed_size(input);
    uint8_t *payload = malloc(plen ? plen : 1);
    if (payload == NULL) {
        set_result(c, OJ_RPC_UNREACHABLE, "out of memory packing %s", m->name);
        goto done;
    }
    protobuf_c_message_pack(input, payload);

    Oj__RequestFrame frame = OJ__REQUEST_FRAME__INIT;
    frame.method = (char *)m->name;
    frame.request_id = c->next_id++;
    frame.client_version = OJ_VERSION;
    frame.payload.data = payload;
    frame.payload.len = plen;
    size_t flen = oj__request_frame__get_packed_size(&frame);
    if (flen > OJ_MAX_REQUEST_BYTES) {
        free(payload);
        set_result(c, OJ__STATUS_CODE__TOO_LARGE,
                   "request %s is larger than the 4 MiB limit; send less data", m->name);
        goto done;
    }
    uint8_t *wire = malloc(flen ? flen : 1);
    if (wire == NULL) {
        free(payload);
        set_result(c, OJ_RPC_UNREACHABLE, "out of memory sending %s", m->name);
        goto done;
    }
    oj__request_frame__pack(&frame, wire);
    free(payload);

    /* A connection that breaks mid-call (the daemon's listener being repaired
     * by its watchdog, a daemon restarting) is retried with the *same* request
     * id: the daemon runs an id at most once and answers a repeat from memory,
     * so this is safe for every call. The dialer reconnects by itself. */
    nng_msg *rmsg = NULL;
    int64_t retry_until = 0; /* set at the first failure */
    for (int attempt = 0;; attempt++) {
        nng_msg *msg;
        if (nng_msg_alloc(&msg, flen) != 0) {
            free(wire);
            set_result(c, OJ_RPC_UNREACHABLE, "out of memory sending %s", m->name);
            goto done;
        }
        memcpy(nng_msg_body(msg), wire, flen);
        int rv = nng_sendmsg(c->sock, msg, 0);
        if (rv != 0)
            nng_msg_free(msg);
        else
            rv = nng_recvmsg(c->sock, &rmsg, 0);
        if (rv == 0)
            break;
        if (retry_until == 0)
            retry_until = oj_mono_ms() + c->retry_ms;
        if (rv != NNG_ETIMEDOUT && oj_mono_ms() < retry_until) {
            struct timespec ts = {0, (attempt < 5 ? 20L : 100L) * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        free(wire);
        if (rv == NNG_ETIMEDOUT)
            set_result(c, OJ_RPC_NO_ANSWER, "%s", "the daemon did not answer in time");
        else
            set_result(c, OJ_RPC_UNREACHABLE, "lost the daemon: %s", nng_strerror(rv));
        goto done;
    }
    free(wire);
    Oj__ReplyFrame *rf = oj__reply_frame__unpack(NULL, nng_msg_len(rmsg), nng_msg_body(rmsg));
    nng_msg_free(rmsg);
    if (rf == NULL || rf->request_id != frame.request_id) {
        set_result(c, OJ__STATUS_CODE__BAD_FRAME, "%s",
                   "the daemon sent a reply this client cannot read (version mismatch?)");
        if (rf)
            oj__reply_frame__free_unpacked(rf, NULL);
        goto done;
    }
    c->status = (int)rf->status;
    snprintf(c->message, sizeof c->message, "%s", rf->message ? rf->message : "");
    snprintf(c->daemon_version, sizeof c->daemon_version, "%s",
             rf->daemon_version ? rf->daemon_version : "");
    if (rf->status == OJ__STATUS_CODE__OK) {
        c->reply = protobuf_c_message_unpack(m->output, NULL, rf->payload.len, rf->payload.data);
        if (c->reply == NULL)
            set_result(c, OJ__STATUS_CODE__BAD_FRAME, "cannot decode the %s reply", m->name);
    }
    oj__reply_frame__free_unpacked(rf, NULL);
    if (!c->replied) {
        c->replied = true;
        if (c->on_first_reply)
            c->on_first_reply(c, c->on_first_reply_arg);
    }
done:
    if (closure)
        closure(c->reply, closure_data);
}

int oj_client_open(struct oj_client **out, const char *sock_path, int timeout_ms)
{
    char url[1024];
    snprintf(url, sizeof url, "ipc://%s", sock_path);
    return oj_client_open_url(out, url, NULL, timeout_ms);
}

int oj_client_open_url(struct oj_client **out, const char *url, struct nng_tls_config *tls,
                       int timeout_ms)
{
    struct oj_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NNG_ENOMEM;
    c->base.descriptor = &oj__control__descriptor;
    c->base.invoke = client_invoke;
    c->base.destroy = NULL;
    c->retry_ms = OJ_CLIENT_RETRY_MS;
    if (getrandom(&c->next_id, sizeof c->next_id, 0) != sizeof c->next_id)
        c->next_id = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
    c->next_id &= ~(1ULL << 63); /* leave headroom; ids only need to be unique */

    int rv = nng_req0_open(&c->sock);
    if (rv != 0) {
        free(c);
        return rv;
    }
    /* No timed resends: a lost connection fails the receive at once, and
     * client_invoke resends the same request (same id) itself, which the
     * daemon answers without running it twice. With nng's resend timer on, a
     * request to a daemon that died would instead wait out the whole timeout
     * for a reconnect that never comes. */
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, OJ_MAX_REPLY_BYTES);
    oj_client_set_timeout(c, timeout_ms);

    nng_dialer d;
    rv = nng_dialer_create(&d, c->sock, url);
    if (rv == 0 && tls)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls);
    if (rv == 0)
        rv = nng_dialer_start(d, 0); /* at once: an unreachable or refusing daemon says so */
    if (rv != 0) {
        nng_close(c->sock);
        free(c);
        return rv;
    }
    *out = c;
    return 0;
}

void oj_client_set_timeout(struct oj_client *c, int timeout_ms)
{
    nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, timeout_ms);
}

void oj_client_set_retry(struct oj_client *c, int retry_ms) { c->retry_ms = retry_ms; }

void oj_client_close(struct oj_client *c)
{
    if (c == NULL)
        return;
    if (c->reply)
        protobuf_c_message_free_unpacked(c->reply, NULL);
    nng_close(c->sock);
    free(c);
}

ProtobufCService *oj_client_service(struct oj_client *c) { return &c->base; }
int oj_client_status(const struct oj_client *c) { return c->status; }
const char *oj_client_message(const struct oj_client *c) { return c->message; }

ProtobufCMessage *oj_client_take_reply(struct oj_client *c)
{
    ProtobufCMessage *r = c->reply;
    c->reply = NULL;
    return r;
}

void oj_client_free_reply(void *reply)
{
    if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
}

const char *oj_status_name(int status)
{
    if (status == OJ_RPC_UNREACHABLE)
        return "UNREACHABLE";
    if (status == OJ_RPC_NO_ANSWER)
        return "NO_ANSWER";
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&oj__status_code__descriptor, status);
    return v ? v->name : "UNKNOWN";
}

const char *oj_client_daemon_version(const struct oj_client *c) { return c->daemon_version; }

void oj_client_on_first_reply(struct oj_client *c, void (*fn)(struct oj_client *c, void *arg),
                              void *arg)
{
    c->on_first_reply = fn;
    c->on_first_reply_arg = arg;
}
