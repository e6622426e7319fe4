/* A CLI and a daemon of different oj versions. The daemon's side is real
 * (every reply names its version, other clients' versions are logged once);
 * for the CLI's side an older or newer daemon is the real request server of
 * this build (daemon/wire/server.c) started in-process with another version
 * and, for the older one, a service without an rpc the older one lacked:
 * the one stand-in, since a test cannot run two builds. */
#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/harness.h"
#include "oj.pb-c.h"
#include "rpc_checks.h"
#include "server.h"
#include "wire.pb-c.h"

static struct oj_env e;
static struct oj_server *srv;

static void setup(void) { env_setup(&e, true); }
static void teardown(void)
{
    if (srv) {
        oj_server_wait_idle(srv, 0);
        oj_server_stop(srv);
        srv = NULL;
    }
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

/* Answers Status like a daemon would (the fields `oj status` prints) and
 * LockList with no locks. */
static void sink(struct oj_call *call, void *arg)
{
    (void)arg;
    if (strcmp(oj_call_method_name(call), "LockList") == 0) {
        Oj__LockListResponse none = OJ__LOCK_LIST_RESPONSE__INIT;
        oj_call_complete(&none.base, call);
        return;
    }
    Oj__StatusResponse out = OJ__STATUS_RESPONSE__INIT;
    out.version = "other";
    out.pid = 4242;
    oj_call_complete(&out.base, call);
}

/* oj.Control without `drop` (an rpc an older daemon did not have yet). */
static ProtobufCServiceDescriptor older;
static ProtobufCMethodDescriptor older_methods[64];
static unsigned older_by_name[64];

static int by_name(const void *a, const void *b)
{
    return strcmp(older_methods[*(const unsigned *)a].name,
                  older_methods[*(const unsigned *)b].name);
}

static const ProtobufCServiceDescriptor *service_without(const char *drop)
{
    older = oj__control__descriptor;
    unsigned n = 0;
    for (unsigned i = 0; i < oj__control__descriptor.n_methods && n < 64; i++)
        if (strcmp(oj__control__descriptor.methods[i].name, drop) != 0)
            older_methods[n++] = oj__control__descriptor.methods[i];
    for (unsigned i = 0; i < n; i++)
        older_by_name[i] = i;
    qsort(older_by_name, n, sizeof *older_by_name, by_name);
    older.n_methods = n;
    older.methods = older_methods;
    older.method_indices_by_name = older_by_name;
    return &older;
}

static void start_fake(const char *version, const ProtobufCServiceDescriptor *svc)
{
    char dir[PATH_MAX], sock[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/.oj", e.dir);
    mkdir(dir, 0700);
    snprintf(sock, sizeof sock, "%s/daemon.sock", dir);
    struct oj_server_opts o = {.sock_path = sock, .service = svc, .rpcs = oj_rpc_checks,
                               .sink = sink, .version = version};
    char err[256];
    cr_assert_eq(oj_server_start(&srv, &o, err, sizeof err), 0, "%s", err);
}

Test(version_skew, an_older_daemon_is_said_once_and_its_unknown_rpc_explained, .init = setup,
     .fini = teardown)
{
    start_fake("0.0.9", service_without("LockList"));
    struct oj_out a = OJ(&e, "status");
    cr_expect_eq(a.code, 0, "%s", a.err);
    cr_expect(strstr(a.err, "the daemon runs oj 0.0.9, older than this oj") &&
                  strstr(a.err, "oj daemon stop && oj daemon start"),
              "the first command says so: %s", a.err);
    cr_expect(strstr(a.out, "4242") != NULL, "and still does its work: %s", a.out);
    struct oj_out b = OJ(&e, "status");
    cr_expect_eq(b.code, 0);
    cr_expect_eq(b.err[0], '\0', "only once: %s", b.err);
    struct oj_out c = OJ(&e, "lock", "list");
    cr_expect_eq(c.code, 6, "an rpc the daemon does not know: exit 6 (%d)", c.code);
    cr_expect(strstr(c.err, "LockList") && strstr(c.err, "is older than this oj") &&
                  strstr(c.err, "restart it"),
              "%s", c.err);
    oj_out_free(&a), oj_out_free(&b), oj_out_free(&c);
}

Test(version_skew, a_newer_daemon_is_said_once_too, .init = setup, .fini = teardown)
{
    start_fake("99.0.0", &oj__control__descriptor);
    struct oj_out a = OJ(&e, "status");
    cr_expect_eq(a.code, 0, "%s", a.err);
    cr_expect(strstr(a.err, "the daemon runs oj 99.0.0, newer than this oj") != NULL, "%s",
              a.err);
    struct oj_out b = OJ(&e, "lock", "list");
    cr_expect_eq(b.code, 0, "%s", b.err);
    cr_expect_eq(b.err[0], '\0', "only once: %s", b.err);
    oj_out_free(&a), oj_out_free(&b);
}

static Oj__ReplyFrame *raw_call(const char *sock, const char *method, const char *client_version)
{
    nng_socket s;
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", sock);
    cr_assert_eq(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
    cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = (char *)method;
    f.client_version = (char *)client_version;
    size_t n = oj__request_frame__get_packed_size(&f);
    uint8_t buf[256];
    oj__request_frame__pack(&f, buf);
    cr_assert_eq(nng_send(s, buf, n, 0), 0);
    void *rbuf;
    size_t rlen;
    cr_assert_eq(nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC), 0);
    Oj__ReplyFrame *rf = oj__reply_frame__unpack(NULL, rlen, rbuf);
    nng_free(rbuf, rlen);
    nng_close(s);
    cr_assert_not_null(rf);
    return rf;
}

static int count(const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, word)); p++)
        n++;
    return n;
}

Test(version_skew, the_real_daemon_names_its_version_and_logs_other_clients_once, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    struct oj_out v = OJ(&e, "version");
    char mine[32] = "";
    cr_assert_eq(sscanf(v.out, "oj %31s", mine), 1, "%s", v.out);
    oj_out_free(&v);
    char sock[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/.oj/daemon.sock", e.dir);
    for (int i = 0; i < 2; i++) {
        Oj__ReplyFrame *rf = raw_call(sock, i ? "NoSuchRpc" : "Status", "0.0.1-old");
        cr_expect_str_eq(rf->daemon_version, mine, "every reply names the daemon's version");
        cr_expect_eq(rf->protocol_version, 1);
        if (i)
            cr_expect_eq(rf->status, OJ__STATUS_CODE__UNKNOWN_METHOD);
        oj__reply_frame__free_unpacked(rf, NULL);
    }
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/.oj/logs/daemon.log", e.dir);
    char *text = read_file(log);
    cr_assert_not_null(text);
    cr_expect_eq(count(text, "a client of oj 0.0.1-old talks to this daemon"), 1,
                 "logged once, not per request:\n%s", text);
    free(text);
}
