/* The events socket, in-process: every message on it is a topic and a
 * PubFrame that a strict protobuf decoder accepts (heartbeats included), and
 * only the daemon's own user may subscribe. */
#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_utf8.h"
#include "peer.h"
#include "publisher.h"
#include "wire.pb-c.h"

static char dir[64], sock_path[128];
static struct oj_publisher *pub;
static nng_socket sub;

static void start(void)
{
    snprintf(dir, sizeof dir, "/tmp/ojpub.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock_path, sizeof sock_path, "%s/ev.sock", dir);
    char err[256], url[160];
    cr_assert_eq(oj_pub_start(&pub, sock_path, err, sizeof err), 0, "%s", err);
    snprintf(url, sizeof url, "ipc://%s", sock_path);
    cr_assert_eq(nng_sub0_open(&sub), 0);
    nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0); /* everything */
    nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 50);
    cr_assert_eq(nng_dial(sub, url, NULL, 0), 0);
}

static void stop(void)
{
    nng_close(sub);
    oj_pub_stop(pub);
    rmdir(dir);
}

/* Publishes with `send` until a message arrives (a new subscription takes a
 * moment), at most 5 s; returns the decoded frame and its topic. */
static Oj__PubFrame *next_frame(void (*send)(void), char *topic, size_t tlen)
{
    for (int i = 0; i < 100; i++) {
        send();
        nng_msg *m;
        if (nng_recvmsg(sub, &m, 0) != 0)
            continue;
        const char *body = nng_msg_body(m);
        size_t len = nng_msg_len(m);
        /* The documented split: first '/' for ev/ and hb/, second for out/. */
        const char *slash = memchr(body, '/', len);
        cr_assert_not_null(slash, "a message without a topic");
        if (strncmp(body, "out/", 4) == 0)
            slash = memchr(slash + 1, '/', len - (size_t)(slash + 1 - body));
        cr_assert_not_null(slash);
        size_t t = (size_t)(slash + 1 - body);
        snprintf(topic, tlen, "%.*s", (int)t, body);
        Oj__PubFrame *f = oj__pub_frame__unpack(NULL, len - t, (const uint8_t *)body + t);
        nng_msg_free(m);
        cr_assert_not_null(f, "the message after topic %s is not a PubFrame", topic);
        cr_expect(oj_pb_utf8_valid(&f->base, NULL), "a string that is not UTF-8 on %s", topic);
        return f;
    }
    cr_assert_fail("nothing arrived on the events socket");
    return NULL;
}

static void beat(void) { oj_pub_heartbeat(pub, 0x1234abcd); }

Test(publisher, a_heartbeat_is_a_documented_pubframe, .init = start, .fini = stop)
{
    char topic[64];
    Oj__PubFrame *f = next_frame(beat, topic, sizeof topic);
    cr_expect_str_eq(topic, "hb/");
    cr_assert_not_null(f->heartbeat, "hb/ carries PubFrame.heartbeat");
    cr_expect_null(f->chunk);
    cr_expect_null(f->event);
    cr_expect_eq(f->heartbeat->nonce, 0x1234abcd);
    cr_expect_gt(f->heartbeat->time_ms, 1600000000000LL);
    oj__pub_frame__free_unpacked(f, NULL);
}

static void bad_event(void)
{
    oj_pub_event(pub, "session.started", "s1", "", "na\xffme \xe2\x82");
}

Test(publisher, event_text_goes_out_valid_utf8, .init = start, .fini = stop)
{
    char topic[64];
    Oj__PubFrame *f = next_frame(bad_event, topic, sizeof topic);
    cr_expect_str_eq(topic, "ev/");
    cr_assert_not_null(f->event);
    cr_expect_str_eq(f->event->message, "na\xef\xbf\xbdme \xef\xbf\xbd\xef\xbf\xbd");
    oj__pub_frame__free_unpacked(f, NULL);
}

Test(publisher, the_watchdog_knows_its_own_heartbeat)
{
    uint8_t buf[64] = "hb/";
    Oj__Heartbeat hb = OJ__HEARTBEAT__INIT;
    hb.nonce = 77;
    Oj__PubFrame f = OJ__PUB_FRAME__INIT;
    f.heartbeat = &hb;
    size_t n = 3 + oj__pub_frame__pack(&f, buf + 3);
    cr_expect(oj_pub_is_heartbeat(buf, n, 77));
    cr_expect_not(oj_pub_is_heartbeat(buf, n, 78), "another check's nonce");
    cr_expect_not(oj_pub_is_heartbeat("hb/00000000000004d", 19, 77), "the old raw format");
    memcpy(buf, "ev/", 3);
    cr_expect_not(oj_pub_is_heartbeat(buf, n, 77));
}

/* Both sockets close a connection unless its peer runs as our uid (the
 * kernel's answer; an unknown uid is refused too). */
Test(publisher, only_the_daemons_own_user_is_let_in)
{
    uint64_t me = (uint64_t)geteuid();
    cr_expect_not(oj_peer_refused(0, me, me));
    cr_expect(oj_peer_refused(0, me + 1, me), "another user");
    cr_expect(oj_peer_refused(0, 0, 1000), "root is another user to a user's daemon");
    cr_expect(oj_peer_refused(NNG_ENOTSUP, me, me), "a peer whose uid cannot be told");
}

/* The tap (the project notifier's way in): every event, after it is
 * published, with the fields the subscribers get; none once it is cleared. */
static struct oj_pub_event_info tapped;
static char tapped_kind[64], tapped_message[64];
static int taps;

static void tap(void *arg, const struct oj_pub_event_info *e)
{
    cr_expect_eq(arg, &taps);
    tapped = *e;
    snprintf(tapped_kind, sizeof tapped_kind, "%s", e->kind);
    snprintf(tapped_message, sizeof tapped_message, "%s", e->message);
    taps++;
}

Test(publisher, a_tap_sees_every_event_until_cleared, .init = start, .fini = stop)
{
    oj_pub_set_tap(pub, tap, &taps);
    oj_pub_phase_event(pub, "pipeline.failed", "s1", "p1", "merge", "exit 1");
    cr_assert_eq(taps, 1);
    cr_expect_str_eq(tapped_kind, "pipeline.failed");
    cr_expect_str_eq(tapped_message, "exit 1");
    cr_expect_str_eq(tapped.phase, "merge");
    cr_expect_gt(tapped.seq, 0);
    cr_expect_gt(tapped.time_ms, 0);
    oj_pub_event(pub, "session.ended", "s1", NULL, NULL);
    cr_expect_eq(taps, 2);
    cr_expect_str_eq(tapped.pipeline_id, "", "NULL reads as \"\"");
    oj_pub_chunk(pub, "s1", 1, 0, "x", 1);
    cr_expect_eq(taps, 2, "output is no event");
    oj_pub_set_tap(pub, NULL, NULL);
    oj_pub_event(pub, "session.ended", "s1", "", "");
    cr_expect_eq(taps, 2);
}
