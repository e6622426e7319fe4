/* The web dashboard's serving half (issue 13, points 1, 2 and 4): a real
 * daemon serving a scratch assets dir (OJ_DASHBOARD_DIR), curl for the http
 * side, and nng's own websocket transport for the rpc and events sockets the
 * page uses (the same frames as the ipc sockets). */
#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "oj.pb-c.h"
#include "wire.pb-c.h"

static struct oj_env e;
static char assets_env[PATH_MAX];
static char url[256], token[64];
static int port;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A scratch assets dir: index.html and style.css under dash/, a file next
 * to it the server must never hand out, and a symlink from inside to it. */
static void setup(void)
{
    env_setup(&e, true);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/dash", e.dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/dash/index.html", e.dir);
    write_text(p, "<!doctype html><title>oj</title>dashboard-index-marker\n");
    snprintf(p, sizeof p, "%s/dash/style.css", e.dir);
    write_text(p, "body { color: black }\n");
    snprintf(p, sizeof p, "%s/secret.txt", e.dir);
    write_text(p, "secret-marker\n");
    char link[PATH_MAX];
    snprintf(link, sizeof link, "%s/dash/link.txt", e.dir);
    cr_assert_eq(symlink(p, link), 0);
    snprintf(assets_env, sizeof assets_env, "OJ_DASHBOARD_DIR=%s/dash", e.dir);
    char *envp[] = {assets_env, NULL};
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "daemon start: %s", o.err);
    oj_out_free(&o);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* `oj dashboard`, its URL parsed into port and token. */
static void start_dashboard(void)
{
    struct oj_out o = OJ(&e, "dashboard");
    cr_assert_eq(o.code, 0, "oj dashboard: %s", o.err);
    cr_assert(sscanf(o.out, "http://127.0.0.1:%d/?token=%40[0-9a-f]", &port, token) == 2,
              "not a dashboard URL: %s", o.out);
    cr_assert_eq(strlen(token), 32, "the token is 32 hex characters: %s", o.out);
    snprintf(url, sizeof url, "%.*s", (int)strcspn(o.out, "\n"), o.out);
    oj_out_free(&o);
}

/* curl with `extra` arguments on `path`; the output (headers first with
 * -D -) into out. Returns curl's exit status. */
static int curl(const char *path, const char *cookie, bool as_is, char *out, size_t outlen)
{
    char target[512], cookie_arg[128];
    snprintf(target, sizeof target, "http://127.0.0.1:%d%s", port, path);
    const char *argv[16];
    int n = 0;
    argv[n++] = "curl";
    argv[n++] = "-s";
    argv[n++] = "-m";
    argv[n++] = "10";
    argv[n++] = "-D";
    argv[n++] = "-";
    if (as_is)
        argv[n++] = "--path-as-is";
    if (cookie) {
        snprintf(cookie_arg, sizeof cookie_arg, "oj_token=%s", cookie);
        argv[n++] = "-b";
        argv[n++] = cookie_arg;
    }
    argv[n++] = target;
    argv[n] = NULL;
    out[0] = '\0';
    return run_prog(NULL, 15000, out, outlen, (char *const *)argv);
}

/* The status code of an answer curl printed with its headers. */
static int status_of(const char *out)
{
    int code = 0;
    sscanf(out, "HTTP/1.1 %d", &code);
    return code;
}

struct log_wait {
    const char *path, *needle;
};
static bool log_has(void *arg)
{
    const struct log_wait *w = arg;
    char *log = read_file(w->path);
    bool yes = log && strstr(log, w->needle);
    free(log);
    return yes;
}

Test(dashboard, token_cookie_files_and_refusals, .init = setup, .fini = teardown,
     .timeout = 120)
{
    start_dashboard();
    char out[16384];

    /* No token: 401, and the daemon's log says so. */
    cr_assert_eq(curl("/", NULL, false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 401, "%s", out);
    cr_expect_null(strstr(out, "dashboard-index-marker"), "%s", out);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/.oj/logs/daemon.log", e.dir);
    struct log_wait w = {log, "dashboard: refused GET /"};
    cr_expect(wait_until(log_has, &w, 5000), "no log line for the refused request");

    /* The URL's token: 303 to / with the HttpOnly cookie. */
    char login[128];
    snprintf(login, sizeof login, "/?token=%s", token);
    cr_assert_eq(curl(login, NULL, false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 303, "%s", out);
    char cookie[160];
    snprintf(cookie, sizeof cookie,
             "Set-Cookie: oj_token=%s; HttpOnly; SameSite=Strict; Path=/", token);
    cr_expect_not_null(strstr(out, cookie), "no HttpOnly cookie: %s", out);
    cr_expect_not_null(strstr(out, "Location: /\r\n"), "%s", out);

    /* With the cookie: the page, its files, the endpoints. */
    cr_assert_eq(curl("/", token, false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 200, "%s", out);
    cr_expect_not_null(strstr(out, "dashboard-index-marker"), "%s", out);
    cr_expect_not_null(strstr(out, "Content-Type: text/html"), "%s", out);
    cr_assert_eq(curl("/style.css", token, false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 200, "%s", out);
    cr_expect_not_null(strstr(out, "Content-Type: text/css"), "%s", out);
    cr_assert_eq(curl("/api/endpoints", token, false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 200, "%s", out);
    char json[256];
    snprintf(json, sizeof json, "{\"rpc\": \"/ws/%s/rpc\", \"events\": \"/ws/%s/events\"}",
             token, token);
    cr_expect_not_null(strstr(out, json), "%s", out);

    /* A wrong token, in the URL or the cookie: 401. */
    cr_assert_eq(curl("/?token=0123456789abcdef0123456789abcdef", NULL, false, out, sizeof out),
                 0);
    cr_expect_eq(status_of(out), 401, "%s", out);
    cr_expect_null(strstr(out, "Set-Cookie"), "%s", out);
    cr_assert_eq(curl("/", "0123456789abcdef0123456789abcdef", false, out, sizeof out), 0);
    cr_expect_eq(status_of(out), 401, "%s", out);

    /* Nothing outside the assets dir, however it is spelled. */
    const char *escapes[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/dash/../../secret.txt",
                             "/link.txt", "/%2E%2E%2Fsecret.txt"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        cr_assert_eq(curl(escapes[i], token, true, out, sizeof out), 0);
        int code = status_of(out);
        cr_expect(code == 403 || code == 404, "%s answered %d", escapes[i], code);
        cr_expect_null(strstr(out, "secret-marker"), "%s served the file: %s", escapes[i], out);
    }
    /* Any /ws/ path but the two with the token is not served. */
    cr_assert_eq(curl("/ws/0123456789abcdef0123456789abcdef/rpc", token, false, out, sizeof out),
                 0);
    cr_expect_eq(status_of(out), 404, "%s", out);

    /* Asked again: the same URL. */
    struct oj_out again = OJ(&e, "dashboard");
    cr_expect_eq(again.code, 0, "%s", again.err);
    cr_expect(strncmp(again.out, url, strlen(url)) == 0, "%s, then %s", url, again.out);
    oj_out_free(&again);
}

/* Status over the websocket, as the page's REQ socket sends it. */
Test(dashboard, rpc_over_the_websocket, .init = setup, .fini = teardown, .timeout = 60)
{
    start_dashboard();
    nng_socket s;
    cr_assert_eq(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
    char ws[256];
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/ws/%s/rpc", port, token);
    int rv = nng_dial(s, ws, NULL, 0);
    cr_assert_eq(rv, 0, "dial %s: %s", ws, nng_strerror(rv));

    Oj__StatusRequest in = OJ__STATUS_REQUEST__INIT;
    uint8_t payload[64];
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = "Status";
    f.request_id = 77;
    f.payload.data = payload;
    f.payload.len = oj__status_request__pack(&in, payload);
    uint8_t buf[256];
    size_t n = oj__request_frame__pack(&f, buf);
    cr_assert_eq(nng_send(s, buf, n, 0), 0);
    char *reply;
    size_t rlen;
    rv = nng_recv(s, &reply, &rlen, NNG_FLAG_ALLOC);
    cr_assert_eq(rv, 0, "no reply over the websocket: %s", nng_strerror(rv));
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, rlen, (uint8_t *)reply);
    nng_free(reply, rlen);
    cr_assert_not_null(r, "not a ReplyFrame");
    cr_expect_eq(r->status, OJ__STATUS_CODE__OK, "%s", r->message);
    cr_expect_eq(r->request_id, 77);
    Oj__StatusResponse *st =
        oj__status_response__unpack(NULL, r->payload.len, r->payload.data);
    cr_assert_not_null(st);
    cr_expect_eq(st->pid, env_daemon_pid(&e), "the Status of another daemon?");
    oj__status_response__free_unpacked(st, NULL);
    oj__reply_frame__free_unpacked(r, NULL);
    nng_close(s);

    /* A path with another token is no websocket at all. */
    cr_assert_eq(nng_req0_open(&s), 0);
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/ws/0123456789abcdef0123456789abcdef/rpc", port);
    cr_expect_neq(nng_dial(s, ws, NULL, 0), 0, "a wrong token's websocket was served");
    nng_close(s);

    /* A daemon serving the dashboard stops cleanly (its log is checked for
     * sanitizer reports at teardown). */
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_expect_eq(env_daemon_pid(&e), 0, "the daemon still runs");
}

/* Events over the websocket, as the page's SUB socket gets them. */
Test(dashboard, events_over_the_websocket, .init = setup, .fini = teardown, .timeout = 60)
{
    start_dashboard();
    nng_socket s;
    cr_assert_eq(nng_sub0_open(&s), 0);
    cr_assert_eq(nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "ev/", 3), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2000);
    char ws[256];
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/ws/%s/events", port, token);
    int rv = nng_dial(s, ws, NULL, 0);
    cr_assert_eq(rv, 0, "dial %s: %s", ws, nng_strerror(rv));
    /* A subscriber's first messages can race its connection: each round
     * starts a session (a session.started event each) until one arrives,
     * within a deadline. */
    bool got = false;
    for (int round = 0; round < 8 && !got; round++) {
        char name[32], id[64];
        snprintf(name, sizeof name, "dash-agent-%d", round);
        cr_assert_eq(env_start_agent(&e, name, id, sizeof id), 0);
        char *msg;
        size_t len;
        while (!got && nng_recv(s, &msg, &len, NNG_FLAG_ALLOC) == 0) {
            cr_assert(len >= 3 && memcmp(msg, "ev/", 3) == 0, "a message off the topic");
            Oj__PubFrame *f = oj__pub_frame__unpack(NULL, len - 3, (uint8_t *)msg + 3);
            cr_assert_not_null(f, "not a PubFrame after the topic");
            got = f->event && strcmp(f->event->kind, "session.started") == 0 &&
                  strcmp(f->event->session_id, id) == 0;
            oj__pub_frame__free_unpacked(f, NULL);
            nng_free(msg, len);
        }
    }
    cr_expect(got, "no session.started event arrived over the websocket");
    nng_close(s);
}

Test(dashboard, beyond_loopback_needs_tls_and_bad_ports_are_refused, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct oj_out o = OJ(&e, "dashboard", "--listen", "0.0.0.0");
    cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
    cr_expect_not_null(strstr(o.err, "tls_cert"), "%s", o.err);
    cr_expect_eq(strchr(o.err, '\n'), o.err + strlen(o.err) - 1, "one line: %s", o.err);
    cr_expect_eq(o.out[0], '\0', "a URL printed: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "dashboard", "--port", "70000");
    cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
    cr_expect_not_null(strstr(o.err, "--port"), "%s", o.err);
    oj_out_free(&o);

    /* No page where it was pointed: exit 1, naming where it looked. */
    o = OJ(&e, "daemon", "stop");
    oj_out_free(&o);
    char *nowhere[] = {"OJ_DASHBOARD_DIR=/nonexistent/dash", NULL};
    o = oj_run_in(&e, NULL, nowhere, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "dashboard");
    cr_expect_eq(o.code, 1, "exit %d: %s", o.code, o.err);
    cr_expect_not_null(strstr(o.err, "OJ_DASHBOARD_DIR /nonexistent/dash holds no index.html"),
                       "%s", o.err);
    oj_out_free(&o);
}

/* `make install` copies the page and the npm files with their paths, and an
 * installed oj (no OJ_DASHBOARD_DIR) serves them from share/oj/dashboard,
 * vendor and proto paths mapped. The page's source is a scratch copy
 * (DASH_SRC), so the test does not depend on npm having run. */
Test(dashboard, an_installed_oj_serves_the_installed_page, .init = setup, .fini = teardown,
     .timeout = 240)
{
    char repo[PATH_MAX], script[4 * PATH_MAX + 2048], out[8192];
    cr_assert_not_null(getcwd(repo, sizeof repo));
    snprintf(script, sizeof script,
             "set -e; T='%s'; mkdir -p $T/src/node_modules/protobufjs/dist "
             "$T/src/node_modules/@xterm/xterm/lib $T/src/node_modules/@xterm/xterm/css; "
             "echo page-marker > $T/src/index.html; echo 'js-marker' > $T/src/app.js; "
             "echo 'pb-marker' > $T/src/node_modules/protobufjs/dist/protobuf.min.js; "
             "echo x > $T/src/node_modules/@xterm/xterm/lib/xterm.js; "
             "echo x > $T/src/node_modules/@xterm/xterm/css/xterm.css; "
             "make -s --no-print-directory DOCS_OUT=$T/docs install DASH_SRC=$T/src "
             "PREFIX=$T/prefix >/dev/null; "
             "$T/prefix/bin/oj -C $T daemon stop >/dev/null; "
             "cd / && env -u OJ_DASHBOARD_DIR $T/prefix/bin/oj -C $T daemon start >/dev/null; "
             "u=$($T/prefix/bin/oj -C $T dashboard); p=${u#http://127.0.0.1:}; p=${p%%%%/*}; "
             "t=${u##*=}; for f in / /app.js /vendor/protobuf.min.js /proto/oj.proto; do "
             "curl -s -m 10 -b oj_token=$t http://127.0.0.1:$p$f | head -c 200; echo; done; "
             "$T/prefix/bin/oj -C $T daemon stop >/dev/null; cd '%s'; "
             "make -s --no-print-directory DOCS_OUT=$T/docs uninstall DASH_SRC=$T/src "
             "PREFIX=$T/prefix >/dev/null; test ! -e $T/prefix/share/oj/dashboard",
             e.dir, repo);
    char *argv[] = {"bash", "-c", script, NULL};
    int rc = run_prog(repo, 200000, out, sizeof out, argv);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect_not_null(strstr(out, "page-marker"), "%s", out);
    cr_expect_not_null(strstr(out, "js-marker"), "%s", out);
    cr_expect_not_null(strstr(out, "pb-marker"), "%s", out);
    cr_expect_not_null(strstr(out, "every operation the oj daemon offers"), "no /proto/oj.proto: %s", out);
}

/* Beyond loopback with the daemon's certificate: https and wss, the cookie
 * marked Secure, and no client certificate asked of the browser. */
Test(dashboard, beyond_loopback_it_serves_https_and_wss, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char tls[256], cert[PATH_MAX + 16], key[PATH_MAX + 16];
    snprintf(tls, sizeof tls, "%s/tls", e.dir);
    struct oj_out o = OJ(&e, "remote", "init", tls, "--host", "127.0.0.1");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "daemon", "stop");
    oj_out_free(&o);
    snprintf(cert, sizeof cert, "OJ_TLS_CERT=%s/server.crt", tls);
    snprintf(key, sizeof key, "OJ_TLS_KEY=%s/server.key", tls);
    char *envp[] = {assets_env, cert, key, NULL};
    o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "daemon start with tls_cert and tls_key: %s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "dashboard", "--listen", "0.0.0.0");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_assert(strncmp(o.out, "https://", 8) == 0, "not https: %s", o.out);
    const char *colon = strrchr(o.out, ':');
    cr_assert(colon && sscanf(colon, ":%d/?token=%40[0-9a-f]", &port, token) == 2, "%s", o.out);
    oj_out_free(&o);

    char target[256], ca[PATH_MAX + 8], out[8192];
    snprintf(target, sizeof target, "https://127.0.0.1:%d/?token=%s", port, token);
    snprintf(ca, sizeof ca, "%s/ca.crt", tls);
    char *curl_login[] = {"curl", "-s", "-m", "10", "-D", "-", "--cacert", ca, target, NULL};
    cr_assert_eq(run_prog(NULL, 15000, out, sizeof out, curl_login), 0, "%s", out);
    cr_expect_eq(status_of(out), 303, "%s", out);
    cr_expect_not_null(strstr(out, "HttpOnly; SameSite=Strict; Path=/; Secure"), "%s", out);
    char plain_target[256];
    snprintf(plain_target, sizeof plain_target, "http://127.0.0.1:%d/?token=%s", port, token);
    char *curl_plain[] = {"curl", "-s", "-m", "10", "-D", "-", plain_target, NULL};
    run_prog(NULL, 15000, out, sizeof out, curl_plain);
    cr_expect_neq(status_of(out), 303, "plain http was served: %s", out);

    nng_socket s;
    nng_dialer d;
    nng_tls_config *cfg;
    cr_assert_eq(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
    char ws[256];
    snprintf(ws, sizeof ws, "wss://127.0.0.1:%d/ws/%s/rpc", port, token);
    cr_assert_eq(nng_dialer_create(&d, s, ws), 0);
    char *ca_pem = read_file(ca);
    cr_assert_not_null(ca_pem);
    cr_assert_eq(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT), 0);
    cr_assert_eq(nng_tls_config_ca_chain(cfg, ca_pem, NULL), 0);
    cr_assert_eq(nng_tls_config_server_name(cfg, "127.0.0.1"), 0);
    cr_assert_eq(nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED), 0);
    cr_assert_eq(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg), 0);
    free(ca_pem);
    int rv = nng_dialer_start(d, 0);
    cr_assert_eq(rv, 0, "dial %s: %s", ws, nng_strerror(rv));
    Oj__RequestFrame f = OJ__REQUEST_FRAME__INIT;
    f.method = "Ping";
    f.request_id = 5;
    uint8_t buf[64];
    size_t n = oj__request_frame__pack(&f, buf);
    cr_assert_eq(nng_send(s, buf, n, 0), 0);
    char *reply;
    size_t rlen;
    rv = nng_recv(s, &reply, &rlen, NNG_FLAG_ALLOC);
    cr_assert_eq(rv, 0, "no reply over wss: %s", nng_strerror(rv));
    Oj__ReplyFrame *r = oj__reply_frame__unpack(NULL, rlen, (uint8_t *)reply);
    nng_free(reply, rlen);
    cr_assert_not_null(r);
    cr_expect_eq(r->status, OJ__STATUS_CODE__OK, "%s", r->message);
    cr_expect_eq(r->request_id, 5);
    oj__reply_frame__free_unpacked(r, NULL);
    nng_close(s);
    nng_tls_config_free(cfg);
}
