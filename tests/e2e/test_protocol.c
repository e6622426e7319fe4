/* The wire protocol against the real daemon, as a third-party client sees
 * it: request ids name one request, every reply and every published message
 * decodes with a strict decoder, and only the daemon's own user gets in. */
#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "oj.pb-c.h"
#include "pb_utf8.h"
#include "wire.pb-c.h"

static struct oj_env e;

static void setup(void)
{
    env_setup(&e, false);
    cr_assert_eq(env_start_daemon(&e), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static nng_socket dial_req(void)
{
    nng_socket s;
    char url[256];
    snprintf(url, sizeof url, "ipc://%s/.oj/daemon.sock", e.dir);
    cr_assert_eq(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 20000);
    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
    cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
    return s;
}

/* Sends one frame; returns the reply's raw bytes (caller frees) and size. */
static uint8_t *call_raw(nng_socket s, const char *method, uint64_t id, const ProtobufCMessage *in,
                         size_t *rlen)
{
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = (char *)method;
    f.request_id = id;
    uint8_t *payload = NULL;
    if (in) {
        f.payload.len = protobuf_c_message_get_packed_size(in);
        payload = malloc(f.payload.len + 1);
        protobuf_c_message_pack(in, payload);
        f.payload.data = payload;
    }
    size_t len = oj__request_frame__get_packed_size(&f);
    uint8_t *buf = malloc(len + 1);
    oj__request_frame__pack(&f, buf);
    cr_assert_eq(nng_send(s, buf, len, 0), 0);
    free(buf);
    free(payload);
    nng_msg *m;
    cr_assert_eq(nng_recvmsg(s, &m, 0), 0, "no reply to %s", method);
    *rlen = nng_msg_len(m);
    uint8_t *out = malloc(*rlen + 1);
    memcpy(out, nng_msg_body(m), *rlen);
    nng_msg_free(m);
    return out;
}

static Oj__ReplyFrame *call(nng_socket s, const char *method, uint64_t id,
                            const ProtobufCMessage *in)
{
    size_t len;
    uint8_t *raw = call_raw(s, method, id, in, &len);
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, len, raw);
    free(raw);
    cr_assert_not_null(r, "the %s reply is not a ReplyFrame", method);
    return r;
}

static Oj__ReplyFrame *acquire(nng_socket s, uint64_t id, const char *lock)
{
    Oj__LockAcquireRequest rq = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    rq.name = (char *)lock;
    rq.holder = "tester";
    return call(s, "LockAcquire", id, &rq.base);
}

/* `oj lock status <name>` says held (true) or free (false). */
static bool held(const char *lock)
{
    struct oj_out o = OJ(&e, "lock", "status", lock);
    cr_assert_eq(o.code, 0, "%s", o.err);
    bool h = strstr(o.out, "free") == NULL;
    oj_out_free(&o);
    return h;
}

/* A different request with a request id the daemon remembers neither runs
 * nor gets the first one's answer; id 0 (the field left unset) always runs. */
Test(protocol, a_request_id_names_one_request, .init = setup, .fini = teardown, .timeout = 120)
{
    nng_socket s = dial_req();
    Oj__ReplyFrame *a = acquire(s, 4242, "rid-a");
    cr_expect_eq(a->status, OJ__STATUS_CODE__OK, "%s", a->message);
    Oj__ReplyFrame *b = acquire(s, 4242, "rid-b");
    cr_expect_eq(b->status, OJ__STATUS_CODE__REQUEST_ID_REUSED, "rid-b got status %d: %s",
                 b->status, b->message);
    cr_expect(strstr(b->message, "new request id") != NULL, "%s", b->message);
    cr_expect_not(held("rid-b"), "the refused request must not have run");

    Oj__LockReleaseRequest rel = OJ__LOCK_RELEASE_REQUEST__INIT;
    rel.name = "rid-a";
    rel.holder = "tester";
    Oj__ReplyFrame *r = call(s, "LockRelease", 4242, &rel.base);
    cr_expect_eq(r->status, OJ__STATUS_CODE__REQUEST_ID_REUSED);
    cr_expect_eq(r->payload.len, 0, "a LockRelease must never get a LockInfo");
    cr_expect(held("rid-a"), "the release did not run either");

    Oj__ReplyFrame *c = acquire(s, 0, "rid-c");
    Oj__ReplyFrame *d = acquire(s, 0, "rid-d");
    cr_expect_eq(c->status, OJ__STATUS_CODE__OK, "%s", c->message);
    cr_expect_eq(d->status, OJ__STATUS_CODE__OK, "%s", d->message);
    cr_expect(held("rid-c") && held("rid-d"), "every request with id 0 runs");
    Oj__ReplyFrame *again = call(s, "LockRelease", 0, &rel.base);
    cr_expect_eq(again->status, OJ__STATUS_CODE__OK, "%s", again->message);
    cr_expect_not(held("rid-a"));
    Oj__ReplyFrame *replies[] = {a, b, r, c, d, again};
    for (size_t i = 0; i < sizeof replies / sizeof *replies; i++)
        oj__reply_frame__free_unpacked(replies[i], NULL);
    nng_close(s);
}

/* ---- every reply decodes strictly, whatever the strings sent ---- */

enum { VARIANTS = 8 };
static char hostile[VARIANTS][1024];

/* Names no proto3 decoder accepts back as they are: a byte that is not
 * UTF-8, then multi-byte characters at every alignment, so that any cut by
 * byte count (`%.80s`, a full buffer) lands inside one in some variant. */
static void make_hostile(void)
{
    static const char *const chars[] = {"\xe2\x82\xac", "\xf0\x9f\x98\x80"}; /* €, 😀 */
    for (int v = 0; v < VARIANTS; v++) {
        char *h = hostile[v];
        strcpy(h, v == VARIANTS - 1 ? "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80" : "\xff");
        for (int k = 0; k < v % 4; k++)
            strcat(h, "x");
        while (strlen(h) < 600)
            strcat(h, chars[v / 4 % 2]);
    }
}

/* A request of type `d` with every string field set to `s` (repeated fields
 * get two), nested messages likewise; bools and numbers stay 0. */
static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, char *s)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m;
        bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (rep) {
                char **arr = malloc(2 * sizeof *arr);
                arr[0] = arr[1] = s;
                size_t n = 2;
                memcpy(base + f->quantifier_offset, &n, sizeof n);
                memcpy(base + f->offset, &arr, sizeof arr);
            } else {
                memcpy(base + f->offset, &s, sizeof s);
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            ProtobufCMessage *sub = fill(f->descriptor, s);
            if (rep) {
                ProtobufCMessage **arr = malloc(sizeof *arr);
                arr[0] = sub;
                size_t n = 1;
                memcpy(base + f->quantifier_offset, &n, sizeof n);
                memcpy(base + f->offset, &arr, sizeof arr);
            } else {
                memcpy(base + f->offset, &sub, sizeof sub);
            }
        }
    }
    return m;
}

/* Whether a request of type `d` can carry a string at all. */
static bool has_strings(const ProtobufCMessageDescriptor *d)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_STRING ||
            (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE && has_strings(d->fields[i].descriptor)))
            return true;
    return false;
}

static void unfill(ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m;
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            void **arr;
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&arr, base + f->offset, sizeof arr);
            for (size_t k = 0; f->type == PROTOBUF_C_TYPE_MESSAGE && k < n; k++)
                unfill(arr[k]);
            free(arr);
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            ProtobufCMessage *sub;
            memcpy(&sub, base + f->offset, sizeof sub);
            unfill(sub);
        }
    }
    free(m);
}

static int saved;

/* Checks a reply with oj's strict validator (every string field, payload
 * included) and keeps its bytes for the Python check. */
static void check_and_keep(const char *method, const ProtobufCMethodDescriptor *md,
                           const uint8_t *raw, size_t len)
{
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, len, raw);
    cr_assert_not_null(r, "%s: not a ReplyFrame", method);
    const char *bad = NULL;
    cr_expect(oj_pb_utf8_valid(&r->base, &bad), "%s (%d): ReplyFrame.%s is not UTF-8: %s",
              method, r->status, bad, r->message);
    if (r->status == OJ__STATUS_CODE__OK && md) {
        ProtobufCMessage *out =
            protobuf_c_message_unpack(md->output, NULL, r->payload.len, r->payload.data);
        cr_assert_not_null(out, "%s: the payload is not a %s", method, md->output->name);
        cr_expect(oj_pb_utf8_valid(out, &bad), "%s: %s.%s is not UTF-8", method,
                  md->output->name, bad);
        protobuf_c_message_free_unpacked(out, NULL);
    }
    oj__reply_frame__free_unpacked(r, NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/replies/%04d-%s.bin", e.dir, saved++, md ? method : "_");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(raw, 1, len, f);
    fclose(f);
}

static void send_and_check(nng_socket s, const char *method, const ProtobufCMessage *in)
{
    const ProtobufCMethodDescriptor *md =
        protobuf_c_service_descriptor_get_method_by_name(&oj__control__descriptor, method);
    size_t len;
    uint8_t *raw = call_raw(s, method, (uint64_t)saved + 1000, in, &len);
    check_and_keep(method, md, raw, len);
    free(raw);
}

/* Python's protobuf (C++ implementation, as Debian ships it) refuses a
 * message whose string field is not UTF-8: decode every kept reply with it. */
static const char STRICT_PY[] =
    "import os, sys\n"
    "import oj_pb2, wire_pb2\n"
    "svc = oj_pb2.DESCRIPTOR.services_by_name['Control']\n"
    "bad = n = 0\n"
    "for name in sorted(os.listdir(sys.argv[1])):\n"
    "    method = name[5:-4]\n"
    "    data = open(os.path.join(sys.argv[1], name), 'rb').read()\n"
    "    try:\n"
    "        r = wire_pb2.ReplyFrame.FromString(data)\n"
    "        if r.status == wire_pb2.OK and method != '_':\n"
    "            out = getattr(oj_pb2, svc.methods_by_name[method].output_type.name)\n"
    "            out.FromString(r.payload)\n"
    "        n += 1\n"
    "    except Exception as ex:\n"
    "        bad += 1\n"
    "        print('cannot decode', name, type(ex).__name__, ex)\n"
    "print(f'decoded {n}, refused {bad}')\n"
    "sys.exit(1 if bad else 0)\n";

Test(protocol, every_reply_decodes_strictly_whatever_the_strings_sent, .init = setup,
     .fini = teardown, .timeout = 300)
{
    make_hostile();
    char dir[300];
    snprintf(dir, sizeof dir, "%s/replies", e.dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    nng_socket s = dial_req();
    const ProtobufCServiceDescriptor *svc = &oj__control__descriptor;
    for (int v = 0; v < VARIANTS; v++) {
        /* An unknown method named with the hostile bytes: echoed in the message. */
        size_t len;
        uint8_t *raw = call_raw(s, hostile[v], 900 + (uint64_t)v, NULL, &len);
        check_and_keep(hostile[v], NULL, raw, len);
        free(raw);
        /* Every rpc whose request carries strings, with every one hostile. */
        for (unsigned i = 0; i < svc->n_methods; i++) {
            const ProtobufCMethodDescriptor *md = &svc->methods[i];
            if (!has_strings(md->input))
                continue;
            ProtobufCMessage *in = fill(md->input, hostile[v]);
            send_and_check(s, md->name, in);
            unfill(in);
        }
    }

    /* Stored, then echoed in OK payloads and in a refusal: a lock holder. */
    char holder[200];
    snprintf(holder, sizeof holder, "%.150s", hostile[1]); /* cut mid-character on purpose */
    Oj__LockAcquireRequest la = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    la.name = "utf8-lock";
    la.holder = holder;
    send_and_check(s, "LockAcquire", &la.base);
    Oj__LockRef ref = OJ__LOCK_REF__INIT;
    ref.name = "utf8-lock";
    send_and_check(s, "LockStatus", &ref.base);
    Oj__LockListRequest ll = OJ__LOCK_LIST_REQUEST__INIT;
    send_and_check(s, "LockList", &ll.base);
    la.holder = "someone-else";
    send_and_check(s, "LockAcquire", &la.base); /* CONFLICT: "held by <holder>" */
    nng_close(s);

    char out[8192], gen[300], script[300], pypath[320];
    snprintf(gen, sizeof gen, "--python_out=%s", e.dir);
    char *protoc[] = {"protoc", gen, "-Iproto", "proto/wire.proto", "proto/oj.proto", NULL};
    cr_assert_eq(run_prog(NULL, 30000, out, sizeof out, protoc), 0, "protoc: %s", out);
    snprintf(script, sizeof script, "%s/strict.py", e.dir);
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs(STRICT_PY, f);
    fclose(f);
    snprintf(pypath, sizeof pypath, "PYTHONPATH=%s", e.dir);
    char *py[] = {"env", pypath, "/usr/bin/python3", script, dir, NULL};
    int rc = run_prog(NULL, 120000, out, sizeof out, py);
    cr_expect_eq(rc, 0, "Python could not decode every reply (exit %d): %s", rc, out);
    char want[64];
    snprintf(want, sizeof want, "decoded %d, refused 0", saved);
    cr_expect(strstr(out, want) != NULL, "want '%s' in: %s", want, out);
}

/* ---- the events socket ---- */

struct seen {
    int out, ev, hb;
};

/* Splits one message as docs/protocol.md says (the topic ends at its first
 * '/', at its second for out/) and checks that the PubFrame after it has
 * exactly the field its topic names, with valid UTF-8 strings. */
static void check_pub_message(const char *body, size_t len, struct seen *seen)
{
    const char *slash = memchr(body, '/', len);
    cr_assert_not_null(slash, "a message without a topic: %.20s", body);
    bool out = strncmp(body, "out/", 4) == 0;
    if (out)
        slash = memchr(slash + 1, '/', len - (size_t)(slash + 1 - body));
    cr_assert_not_null(slash);
    size_t t = (size_t)(slash + 1 - body);
    Oj__PubFrame *f = oj__pub_frame__unpack(NULL, len - t, (const uint8_t *)body + t);
    cr_assert_not_null(f, "%.*s: not a PubFrame", (int)t, body);
    const char *bad = NULL;
    cr_expect(oj_pb_utf8_valid(&f->base, &bad), "%.*s: %s is not UTF-8", (int)t, body, bad);
    int fields = (f->chunk != NULL) + (f->event != NULL) + (f->heartbeat != NULL);
    cr_expect_eq(fields, 1, "%.*s: %d PubFrame fields set", (int)t, body, fields);
    if (out) {
        cr_expect_not_null(f->chunk, "%.*s carries no chunk", (int)t, body);
        seen->out++;
    } else if (t == 3 && memcmp(body, "ev/", 3) == 0) {
        cr_expect_not_null(f->event, "ev/ carries no event");
        seen->ev++;
    } else if (t == 3 && memcmp(body, "hb/", 3) == 0) {
        cr_expect_not_null(f->heartbeat, "hb/ carries no heartbeat");
        seen->hb++;
    } else {
        cr_expect_fail("an undocumented topic: %.*s", (int)t, body);
    }
    oj__pub_frame__free_unpacked(f, NULL);
}

/* A subscriber of everything: each message is one of the documented three
 * and decodes as documented, heartbeats included. */
Test(protocol, every_message_on_the_events_socket_decodes_as_documented, .init = setup,
     .fini = teardown, .timeout = 120)
{
    nng_socket sub;
    char url[256];
    snprintf(url, sizeof url, "ipc://%s/.oj/events.sock", e.dir);
    cr_assert_eq(nng_sub0_open(&sub), 0);
    nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 200);
    nng_socket_set_size(sub, NNG_OPT_RECVMAXSZ, 0);
    cr_assert_eq(nng_dial(sub, url, NULL, 0), 0);

    struct seen seen = {0};
    char id[32] = "";
    bool sent = false;
    /* The subscription needs a moment: start the session once a heartbeat
     * (every 2 s) shows it works, then wait for its output and events. */
    for (int i = 0; i < 150 && !(seen.out && seen.ev && seen.hb); i++) {
        if (seen.hb && !sent) {
            cr_assert_eq(env_start_agent(&e, "pubcheck", id, sizeof id), 0);
            sent = true;
        }
        nng_msg *m;
        if (nng_recvmsg(sub, &m, 0) != 0)
            continue;
        check_pub_message(nng_msg_body(m), nng_msg_len(m), &seen);
        nng_msg_free(m);
    }
    cr_expect_gt(seen.hb, 0, "no heartbeat in 30 s");
    cr_expect_gt(seen.ev, 0, "no event after a session started");
    cr_expect_gt(seen.out, 0, "no output chunk after a session started");
    nng_close(sub);
    if (id[0]) {
        struct oj_out k = OJ(&e, "session", "kill", id);
        oj_out_free(&k);
    }
}

static bool log_has(void *arg)
{
    char path[300];
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(path);
    bool yes = log && strstr(log, (const char *)arg) != NULL;
    free(log);
    return yes;
}

/* Another user is refused on both sockets even when file permissions would
 * let them in. Needs root, to run the client as uid 65534 (nobody). */
Test(protocol, another_user_is_refused_on_both_sockets, .init = setup, .fini = teardown,
     .timeout = 120)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to run a client as another user");
    char path[300];
    /* Open every door the file system has: only the uid check is left. */
    cr_assert_eq(chmod(e.dir, 0711), 0);
    snprintf(path, sizeof path, "%s/.oj", e.dir);
    cr_assert_eq(chmod(path, 0711), 0);
    snprintf(path, sizeof path, "%s/.oj/events.sock", e.dir);
    cr_assert_eq(chmod(path, 0666), 0);
    snprintf(path, sizeof path, "%s/.oj/daemon.sock", e.dir);
    cr_assert_eq(chmod(path, 0666), 0);

    char ev_url[300], req_url[300], frame_path[300];
    snprintf(ev_url, sizeof ev_url, "ipc://%s/.oj/events.sock", e.dir);
    snprintf(req_url, sizeof req_url, "ipc://%s/.oj/daemon.sock", e.dir);
    snprintf(frame_path, sizeof frame_path, "%s/ping.bin", e.dir);
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = "Ping";
    f.request_id = 77;
    uint8_t buf[64];
    size_t n = oj__request_frame__pack(&f, buf);
    FILE *fp = fopen(frame_path, "wb");
    cr_assert_not_null(fp);
    fwrite(buf, 1, n, fp);
    fclose(fp);
    chmod(frame_path, 0644);

#define AS_NOBODY "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"
    char *sub_root[] = {"nngcat", "--sub0", "--dial", ev_url, "--subscribe", "hb/",
                        "--quoted", "--recv-timeout", "6", "--count", "1", NULL};
    char *sub_other[] = {AS_NOBODY, "nngcat", "--sub0", "--dial", ev_url, "--subscribe", "hb/",
                         "--quoted", "--recv-timeout", "6", "--count", "1", NULL};
    char *req_root[] = {"nngcat", "--req0", "--dial", req_url, "--file", frame_path,
                        "--quoted", "--recv-timeout", "4", NULL};
    char *req_other[] = {AS_NOBODY, "nngcat", "--req0", "--dial", req_url, "--file",
                         frame_path, "--quoted", "--recv-timeout", "4", NULL};
    char out[4096];
    /* The control: with these permissions our own user gets through. */
    run_prog(NULL, 20000, out, sizeof out, sub_root);
    cr_assert(strstr(out, "\"hb/") != NULL, "root got no heartbeat: %s", out);
    run_prog(NULL, 20000, out, sizeof out, req_root);
    cr_assert(strstr(out, "\"") != NULL, "root got no reply to Ping: %s", out);

    run_prog(NULL, 20000, out, sizeof out, sub_other);
    cr_expect(strstr(out, "hb/") == NULL, "uid 65534 received from the events socket: %s", out);
    cr_expect(wait_until(log_has, "events: refused a connection from uid 65534", 5000),
              "the daemon log does not say it refused the subscriber");
    run_prog(NULL, 20000, out, sizeof out, req_other);
    cr_expect(strstr(out, "\"") == NULL, "uid 65534 got a reply: %s", out);
    cr_expect(wait_until(log_has, "server: refused a connection from uid 65534", 5000));
}
