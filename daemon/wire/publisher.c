/* publisher.c — see publisher.h. */
#include "publisher.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pb_utf8.h"
#include "peer.h"
#include "wire.pb-c.h"

struct oj_publisher {
    nng_socket sock;
    nng_listener listener;
    char url[1100];
    char path[1024];
    _Atomic uint64_t event_seq;
    /* the tap (oj_pub_set_tap): arg is stored before the function, so a
     * publisher that sees the function sees its arg */
    void *_Atomic tap_arg;
    _Atomic oj_pub_tap tap;
};

static int listen_on(struct oj_publisher *p, char *err, size_t errlen)
{
    unlink(p->path); /* we hold the daemon's lock: a file here is stale */
    int rv = nng_listener_create(&p->listener, p->sock, p->url);
    if (rv == 0)
        rv = nng_listener_set_int(p->listener, NNG_OPT_IPC_PERMISSIONS, 0600);
    if (rv == 0)
        rv = nng_listener_start(p->listener, 0);
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", p->url, nng_strerror(rv));
        return -1;
    }
    return 0;
}

int oj_pub_start(struct oj_publisher **out, const char *sock_path, char *err, size_t errlen)
{
    struct oj_publisher *p = calloc(1, sizeof *p);
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(p->path, sizeof p->path, "%s", sock_path);
    snprintf(p->url, sizeof p->url, "ipc://%s", sock_path);
    int rv = nng_pub0_open(&p->sock);
    if (rv != 0) {
        snprintf(err, errlen, "cannot open the events socket: %s", nng_strerror(rv));
        free(p);
        return -1;
    }
    nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, 8192);
    oj_peer_only_own_user(p->sock, "events"); /* as the request socket: peer.h */
    if (listen_on(p, err, errlen) != 0) {
        nng_close(p->sock);
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int oj_pub_relisten(struct oj_publisher *p)
{
    char err[256];
    nng_listener_close(p->listener);
    int rc = listen_on(p, err, sizeof err);
    if (rc != 0)
        LOG_ERROR("publisher: %s", err);
    return rc;
}

int oj_pub_listen_remote(struct oj_publisher *p, const char *url, struct nng_tls_config *tls,
                         char *err, size_t errlen)
{
    return oj_peer_listen_extra(p->sock, url, tls, err, errlen);
}

int oj_pub_listen_ws(struct oj_publisher *p, const char *url, char *err, size_t errlen)
{
    return oj_peer_listen_extra(p->sock, url, NULL, err, errlen);
}

void oj_pub_stop(struct oj_publisher *p)
{
    if (p == NULL)
        return;
    nng_close(p->sock);
    unlink(p->path);
    free(p);
}

static void publish(struct oj_publisher *p, const char *topic, const Oj__PubFrame *f)
{
    /* Strings go out valid UTF-8 (pb_utf8.h): an event's message can hold a
     * user's text. The common case packs straight into the message. */
    uint8_t *fixed = NULL;
    size_t tlen = strlen(topic), flen = 0;
    if (oj_pb_utf8_valid(&f->base, NULL))
        flen = oj__pub_frame__get_packed_size(f);
    else if ((fixed = oj_pb_pack_utf8(&f->base, &flen)) == NULL)
        return;
    nng_msg *m;
    if (nng_msg_alloc(&m, tlen + flen) != 0) {
        free(fixed);
        return;
    }
    memcpy(nng_msg_body(m), topic, tlen);
    if (fixed)
        memcpy((uint8_t *)nng_msg_body(m) + tlen, fixed, flen);
    else
        oj__pub_frame__pack(f, (uint8_t *)nng_msg_body(m) + tlen);
    free(fixed);
    if (nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK) != 0)
        nng_msg_free(m); /* PUB never blocks; a lost message is repaired by readers */
}

void oj_pub_chunk(struct oj_publisher *p, const char *session_id, uint64_t seq, uint64_t offset,
                  const void *data, size_t len)
{
    if (p == NULL)
        return;
    char topic[128];
    snprintf(topic, sizeof topic, "out/%s/", session_id);
    Oj__OutputChunk c = OJ__OUTPUT_CHUNK__INIT;
    c.session_id = (char *)session_id;
    c.seq = seq;
    c.offset = offset;
    c.data.data = (uint8_t *)data;
    c.data.len = len;
    c.time_ms = oj_wall_ms();
    Oj__PubFrame f = OJ__PUB_FRAME__INIT;
    f.chunk = &c;
    publish(p, topic, &f);
}

void oj_pub_event(struct oj_publisher *p, const char *kind, const char *session_id,
                  const char *pipeline_id, const char *message)
{
    oj_pub_phase_event(p, kind, session_id, pipeline_id, "", message);
}

void oj_pub_phase_event(struct oj_publisher *p, const char *kind, const char *session_id,
                        const char *pipeline_id, const char *phase, const char *message)
{
    if (p == NULL)
        return;
    Oj__Event e = OJ__EVENT__INIT;
    e.seq = atomic_fetch_add(&p->event_seq, 1) + 1;
    e.time_ms = oj_wall_ms();
    e.kind = (char *)kind;
    e.session_id = (char *)(session_id ? session_id : "");
    e.pipeline_id = (char *)(pipeline_id ? pipeline_id : "");
    e.phase = (char *)(phase ? phase : "");
    e.message = (char *)(message ? message : "");
    Oj__PubFrame f = OJ__PUB_FRAME__INIT;
    f.event = &e;
    publish(p, "ev/", &f);
    oj_pub_tap tap = atomic_load(&p->tap);
    if (tap) {
        struct oj_pub_event_info info = {e.seq,        e.time_ms,       e.kind, e.pipeline_id,
                                         e.session_id, e.phase, e.message};
        tap(atomic_load(&p->tap_arg), &info);
    }
}

void oj_pub_set_tap(struct oj_publisher *p, oj_pub_tap tap, void *arg)
{
    if (p == NULL)
        return;
    atomic_store(&p->tap, NULL);
    atomic_store(&p->tap_arg, arg);
    atomic_store(&p->tap, tap);
}

void oj_pub_heartbeat(struct oj_publisher *p, uint64_t nonce)
{
    Oj__Heartbeat hb = OJ__HEARTBEAT__INIT;
    hb.nonce = nonce;
    hb.time_ms = oj_wall_ms();
    Oj__PubFrame f = OJ__PUB_FRAME__INIT;
    f.heartbeat = &hb;
    publish(p, OJ_PUB_HEARTBEAT_TOPIC, &f);
}

bool oj_pub_is_heartbeat(const void *msg, size_t len, uint64_t nonce)
{
    size_t tlen = strlen(OJ_PUB_HEARTBEAT_TOPIC);
    if (len < tlen || memcmp(msg, OJ_PUB_HEARTBEAT_TOPIC, tlen) != 0)
        return false;
    Oj__PubFrame *f = oj__pub_frame__unpack(NULL, len - tlen, (const uint8_t *)msg + tlen);
    bool yes = f && f->heartbeat && f->heartbeat->nonce == nonce;
    if (f)
        oj__pub_frame__free_unpacked(f, NULL);
    return yes;
}
