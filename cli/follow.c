/* follow.c — see follow.h.
 *
 * Never silently misses output: every chunk carries its byte offset in the
 * session's log. The follower remembers the offset it has printed up to;
 * a chunk that starts further on means chunks were dropped (PUB drops for
 * slow readers, and anything published before the subscription took effect
 * is not delivered), so the missing byte range is fetched over req/rep before
 * the chunk is printed. At the end the rest of the log is fetched the same
 * way, so the last bytes are never lost to a race with the end event. After
 * 2 s without a message it also fetches whatever the log gained, so output
 * arrives even when the pub/sub path is broken, and then subscribes anew. */
#include "follow.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Prints log bytes [from, to) (to 0 = the end); returns the new offset. */
static uint64_t fetch(struct oj_client *c, const char *id, uint64_t from, uint64_t to, bool *ok)
{
    for (;;) {
        Oj__SessionCaptureRequest req = OJ__SESSION_CAPTURE_REQUEST__INIT;
        req.id = (char *)id;
        req.range = true;
        req.from_offset = from;
        req.to_offset = to;
        Oj__SessionCaptureResponse *r;
        if (OJ_RPC(c, oj__control__session_capture, &req, &r) != OJ__STATUS_CODE__OK) {
            *ok = false;
            return from;
        }
        if (r->data.len)
            fwrite(r->data.data, 1, r->data.len, stdout);
        uint64_t end = r->log_offset;
        size_t got = r->data.len;
        oj_client_free_reply(r);
        if (got == 0 || (to != 0 && end >= to))
            return end > from ? end : from;
        from = end; /* more than one reply's worth */
    }
}

static int subscribe(nng_socket *sub, struct oj_ctx *ctx, const char *topic, char *where,
                     size_t wlen)
{
    int rv = nng_sub0_open(sub);
    if (rv != 0)
        return rv;
    nng_socket_set_int(*sub, NNG_OPT_RECVBUF, 8192);
    nng_socket_set_ms(*sub, NNG_OPT_RECVTIMEO, 200);
    nng_socket_set_size(*sub, NNG_OPT_RECVMAXSZ, 4u * 1024 * 1024);
    nng_socket_set(*sub, NNG_OPT_SUB_SUBSCRIBE, topic, strlen(topic));
    nng_socket_set(*sub, NNG_OPT_SUB_SUBSCRIBE, "ev/", 3);
    rv = oj_ctx_events_dial(ctx, *sub, where, wlen); /* local, or --remote */
    if (rv != 0)
        nng_close(*sub);
    return rv;
}

struct oj_follow_step oj_follow_plan(uint64_t printed, uint64_t offset, size_t len)
{
    struct oj_follow_step st = {0};
    if (offset > printed) {
        st.gap = true;
        st.gap_from = printed;
        st.gap_to = offset;
        return st; /* after the fetch, printed == offset: nothing to skip */
    }
    uint64_t have = printed - offset; /* bytes of this chunk already printed */
    st.skip = have >= len ? len : (size_t)have;
    return st;
}

static bool session_dead(struct oj_client *c, const char *id)
{
    Oj__SessionRef req = OJ__SESSION_REF__INIT;
    req.id = (char *)id;
    Oj__SessionInfo *info;
    if (OJ_RPC(c, oj__control__session_show, &req, &info) != OJ__STATUS_CODE__OK)
        return true; /* the daemon is gone: nothing more will come */
    bool dead = strcmp(info->state, "dead") == 0;
    oj_client_free_reply(info);
    return dead;
}

int oj_follow(struct oj_ctx *ctx, struct oj_client *c, const char *query)
{
    /* The full id, for the topic. */
    Oj__SessionRef ref = OJ__SESSION_REF__INIT;
    ref.id = (char *)query;
    Oj__SessionInfo *info;
    if (OJ_RPC(c, oj__control__session_show, &ref, &info) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    char id[64], topic[96];
    snprintf(id, sizeof id, "%s", info->id);
    oj_client_free_reply(info);
    snprintf(topic, sizeof topic, "out/%s/", id);

    /* Subscribe first, then take the screen: nothing falls between the two. */
    nng_socket sub;
    char where[PATH_MAX + 8];
    int rv = subscribe(&sub, ctx, topic, where, sizeof where);
    if (rv != 0) {
        oj_errorf("cannot subscribe to the daemon's output at %s: %s", where, nng_strerror(rv));
        return OJ_EXIT_FAILURE;
    }

    Oj__SessionCaptureRequest creq = OJ__SESSION_CAPTURE_REQUEST__INIT;
    creq.id = id;
    Oj__SessionCaptureResponse *screen;
    uint64_t printed = 0; /* log offset printed up to */
    bool ended = false;
    if (OJ_RPC(c, oj__control__session_capture, &creq, &screen) == OJ__STATUS_CODE__OK) {
        fputs(screen->text, stdout);
        printed = screen->log_offset;
        ended = strcmp(screen->state, "dead") == 0;
        oj_client_free_reply(screen);
    } else if (oj_client_status(c) != OJ__STATUS_CODE__NOT_FOUND) {
        nng_close(sub);
        return oj_call_failed(c);
    } else {
        ended = true; /* dead and its screen gone: print its log */
    }
    fflush(stdout);

    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    bool ok = true;
    int64_t next_check = oj_mono_ms() + 2000;
    while (!ended && !interrupted && ok) {
        nng_msg *m;
        rv = nng_recvmsg(sub, &m, 0);
        if (rv == NNG_ETIMEDOUT) {
            /* Quiet for 2 s: is the session (and the daemon) still there, in
             * case the end event was dropped, and did output arrive that the
             * subscription did not bring? Then fetch it, and subscribe anew:
             * the events socket's listener may have been repaired since. */
            if (oj_mono_ms() >= next_check) {
                ended = session_dead(c, id);
                uint64_t before = printed;
                if (!ended)
                    printed = fetch(c, id, printed, 0, &ok);
                fflush(stdout);
                if (printed != before) {
                    nng_socket fresh;
                    if (subscribe(&fresh, ctx, topic, where, sizeof where) == 0) {
                        nng_close(sub);
                        sub = fresh;
                    }
                }
                next_check = oj_mono_ms() + 2000;
            }
            continue;
        }
        next_check = oj_mono_ms() + 2000;
        if (rv != 0)
            break;
        const uint8_t *body = nng_msg_body(m);
        size_t len = nng_msg_len(m);
        bool is_out = len >= strlen(topic) && memcmp(body, topic, strlen(topic)) == 0;
        size_t skip = is_out ? strlen(topic) : 3;
        Oj__PubFrame *f = len >= skip ? oj__pub_frame__unpack(NULL, len - skip, body + skip) : NULL;
        nng_msg_free(m);
        if (f == NULL)
            continue;
        if (is_out && f->chunk) {
            const Oj__OutputChunk *ch = f->chunk;
            struct oj_follow_step step = oj_follow_plan(printed, ch->offset, ch->data.len);
            if (step.gap) /* chunks were dropped: fetch them first */
                printed = fetch(c, id, step.gap_from, step.gap_to, &ok);
            if (ok && printed >= ch->offset) {
                step = oj_follow_plan(printed, ch->offset, ch->data.len);
                if (step.skip < ch->data.len) {
                    fwrite(ch->data.data + step.skip, 1, ch->data.len - step.skip, stdout);
                    printed = ch->offset + ch->data.len;
                }
            }
            fflush(stdout);
        } else if (f->event && strcmp(f->event->kind, "session.ended") == 0 &&
                   strcmp(f->event->session_id, id) == 0) {
            ended = true;
        }
        oj__pub_frame__free_unpacked(f, NULL);
    }
    if (ended && ok) /* the last bytes, whatever raced with the end */
        printed = fetch(c, id, printed, 0, &ok);
    fflush(stdout);
    sigaction(SIGINT, &old, NULL);
    nng_close(sub);
    if (!ok)
        return oj_call_failed(c);
    return OJ_EXIT_OK;
}
