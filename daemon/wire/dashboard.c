/* dashboard.c — see dashboard.h. */
#include "dashboard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard_route.h"
#include "log.h"
#include "publisher.h"
#include "server.h"

#define MAX_FILE_BYTES (16u << 20)

/* What the request handler needs: owned by the handler (freed by nng when
 * the last request using it is done). */
struct serve {
    char token[OJ_DASH_TOKEN_LEN + 1];
    char assets[PATH_MAX], proto[PATH_MAX];
    char endpoints[256]; /* the JSON of /api/endpoints */
    bool tls;
};

struct oj_dashboard {
    nng_http_server *srv;
    char url[600], listen[256], token[OJ_DASH_TOKEN_LEN + 1];
    int port;
};

static bool has_file(const char *dir, const char *name)
{
    char p[PATH_MAX + 64];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int oj_dashboard_find_assets(char *assets, size_t alen, char *proto, size_t plen, char *err,
                             size_t errlen)
{
    char exe[PATH_MAX], cand[3][PATH_MAX + 64];
    int n = 0;
    const char *env = getenv("OJ_DASHBOARD_DIR");
    if (env && env[0]) {
        snprintf(cand[n++], sizeof cand[0], "%s", env);
    } else {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len > 0) {
            exe[len] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash)
                *slash = '\0'; /* the binary's dir */
            snprintf(cand[n++], sizeof cand[0], "%s/../share/oj/dashboard", exe);
            snprintf(cand[n++], sizeof cand[0], "%s/../daemon/dashboard", exe);
        }
    }
    for (int i = 0; i < n; i++) {
        char real[PATH_MAX];
        if (realpath(cand[i], real) == NULL || !has_file(real, "index.html"))
            continue;
        if ((size_t)snprintf(assets, alen, "%s", real) >= alen)
            continue;
        char p1[PATH_MAX + 16], p2[PATH_MAX + 16];
        snprintf(p1, sizeof p1, "%s/../proto", real);
        snprintf(p2, sizeof p2, "%s/../../proto", real);
        const char *pick = has_file(p1, "oj.proto") ? p1 : p2;
        /* no .proto files: /proto/ answers 404 */
        if ((size_t)snprintf(proto, plen, "%s", realpath(pick, real) ? real : pick) >= plen)
            proto[0] = '\0';
        return 0;
    }
    if (n == 0)
        snprintf(err, errlen, "cannot find the dashboard's files: set OJ_DASHBOARD_DIR");
    else if (env && env[0])
        snprintf(err, errlen, "OJ_DASHBOARD_DIR %s holds no index.html: set it to the dir of "
                              "the dashboard's page, or unset it", env);
    else
        snprintf(err, errlen, "cannot find the dashboard's files (no index.html in %s or %s): "
                              "`make install`, or set OJ_DASHBOARD_DIR",
                 cand[0], cand[1]);
    return -1;
}

/* The file `rel` under `dir`, read whole; NULL when missing, not a regular
 * file, too large, or (through a symlink) outside dir. */
static void *read_under(const char *dir, const char *rel, size_t *len)
{
    char path[PATH_MAX + 600], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    size_t dl = strlen(dir);
    if (realpath(path, real) == NULL || strncmp(real, dir, dl) != 0 || real[dl] != '/')
        return NULL;
    FILE *f = fopen(real, "rb");
    if (f == NULL)
        return NULL;
    struct stat st;
    void *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_FILE_BYTES &&
        (buf = malloc((size_t)st.st_size + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)st.st_size, f);
        if (ferror(f)) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static void common_headers(nng_http_res *res)
{
    /* token-guarded pages: not cached, not framed, the URL's token never sent on */
    nng_http_res_set_header(res, "Cache-Control", "no-store");
    nng_http_res_set_header(res, "Referrer-Policy", "no-referrer");
    nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff");
    nng_http_res_set_header(res, "X-Frame-Options", "DENY");
}

static nng_http_res *error_res(uint16_t status)
{
    nng_http_res *res = NULL;
    if (nng_http_res_alloc_error(&res, status) == 0)
        common_headers(res);
    return res;
}

static nng_http_res *answer(struct serve *sv, nng_http_req *req)
{
    const char *uri = nng_http_req_get_uri(req);
    struct oj_dash_route r;
    oj_dash_route(uri, nng_http_req_get_header(req, "Cookie"), sv->token, &r);
    nng_http_res *res = NULL;
    switch (r.answer) {
    case OJ_DASH_UNAUTHORIZED: {
        /* the first path segment only: a query, or a /ws/<token>/... path, may hold
         * a token, and the log must not */
        size_t n = uri[0] == '/' ? 1 + strcspn(uri + 1, "/?") : strcspn(uri, "?");
        LOG_WARN_LIMITED("dashboard: refused %s %.*s: no token, or a wrong one (401)",
                         nng_http_req_get_method(req), (int)(n > 200 ? 200 : n), uri);
        return error_res(NNG_HTTP_STATUS_UNAUTHORIZED);
    }
    case OJ_DASH_BAD_PATH:
        return error_res(NNG_HTTP_STATUS_FORBIDDEN);
    case OJ_DASH_NOT_FOUND:
        return error_res(NNG_HTTP_STATUS_NOT_FOUND);
    case OJ_DASH_LOGIN: {
        char cookie[128];
        snprintf(cookie, sizeof cookie, OJ_DASH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s",
                 sv->token, sv->tls ? "; Secure" : "");
        if (nng_http_res_alloc(&res) != 0)
            return NULL;
        nng_http_res_set_status(res, NNG_HTTP_STATUS_SEE_OTHER);
        nng_http_res_set_header(res, "Location", "/");
        nng_http_res_set_header(res, "Set-Cookie", cookie);
        /* a body, so that it has a Content-Length and the connection goes on */
        nng_http_res_set_header(res, "Content-Type", "text/plain; charset=utf-8");
        nng_http_res_copy_data(res, "See /\n", 6);
        common_headers(res);
        return res;
    }
    case OJ_DASH_ENDPOINTS:
        if (nng_http_res_alloc(&res) != 0)
            return NULL;
        nng_http_res_set_header(res, "Content-Type", "application/json");
        nng_http_res_copy_data(res, sv->endpoints, strlen(sv->endpoints));
        common_headers(res);
        return res;
    case OJ_DASH_FILE: {
        size_t len = 0;
        void *buf = read_under(r.proto ? sv->proto : sv->assets, r.rel, &len);
        if (buf == NULL)
            return error_res(NNG_HTTP_STATUS_NOT_FOUND);
        if (nng_http_res_alloc(&res) != 0 || nng_http_res_copy_data(res, buf, len) != 0) {
            if (res)
                nng_http_res_free(res);
            free(buf);
            return NULL;
        }
        free(buf);
        nng_http_res_set_header(res, "Content-Type", oj_dash_content_type(r.rel));
        common_headers(res);
        return res;
    }
    }
    return NULL;
}

/* nng's handler callback, on one of nng's threads. */
static void on_request(nng_aio *aio)
{
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    nng_http_res *res = answer(nng_http_handler_get_data(h), req);
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

/* "[::1]" for an IPv6 address, the name or IPv4 address as it is. */
static void url_host(const char *listen, char *out, size_t len)
{
    if (strchr(listen, ':') && listen[0] != '[')
        snprintf(out, len, "[%s]", listen);
    else
        snprintf(out, len, "%s", listen);
}

/* The host the printed URL names: the machine's name for a wildcard address. */
static void shown_host(const char *host, char *out, size_t len)
{
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0) {
        char name[256] = "";
        if (gethostname(name, sizeof name - 1) == 0 && name[0]) {
            snprintf(out, len, "%s", name);
            return;
        }
    }
    snprintf(out, len, "%s", host);
}

int oj_dashboard_start(struct oj_dashboard **out, const struct oj_dashboard_opts *o, char *err,
                       size_t errlen)
{
    struct oj_dashboard *d = calloc(1, sizeof *d);
    struct serve *sv = calloc(1, sizeof *sv);
    nng_http_handler *h = NULL;
    nng_url *url = NULL;
    int rv;
    if (d == NULL || sv == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    unsigned char rnd[OJ_DASH_TOKEN_LEN / 2];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        snprintf(err, errlen, "cannot make a token: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(d->token + 2 * i, 3, "%02x", rnd[i]);
    snprintf(sv->token, sizeof sv->token, "%s", d->token);
    snprintf(sv->assets, sizeof sv->assets, "%s", o->assets_dir);
    snprintf(sv->proto, sizeof sv->proto, "%s", o->proto_dir);
    sv->tls = o->tls != NULL;
    snprintf(sv->endpoints, sizeof sv->endpoints,
             "{\"rpc\": \"/ws/%s/rpc\", \"events\": \"/ws/%s/events\"}", d->token, d->token);
    snprintf(d->listen, sizeof d->listen, "%s", o->listen);

    char host[300], base[400];
    url_host(o->listen, host, sizeof host);
    snprintf(base, sizeof base, "%s://%s:%d", o->tls ? "https" : "http", host, o->port);
    if ((rv = nng_url_parse(&url, base)) != 0 || (rv = nng_http_server_hold(&d->srv, url)) != 0) {
        snprintf(err, errlen, "cannot serve on %s: %s", base, nng_strerror(rv));
        goto fail;
    }
    if ((rv = nng_http_handler_alloc(&h, "/", on_request)) != 0 ||
        (rv = nng_http_handler_set_tree(h)) != 0 ||
        (rv = nng_http_handler_set_data(h, sv, free)) != 0) {
        snprintf(err, errlen, "cannot serve on %s: %s", base, nng_strerror(rv));
        goto fail;
    }
    sv = NULL; /* the handler's now */
    if ((rv = nng_http_server_add_handler(d->srv, h)) != 0) {
        snprintf(err, errlen, "cannot serve on %s: %s", base, nng_strerror(rv));
        goto fail;
    }
    h = NULL; /* the server's now */
    if ((o->tls && (rv = nng_http_server_set_tls(d->srv, o->tls)) != 0) ||
        (rv = nng_http_server_start(d->srv)) != 0) {
        snprintf(err, errlen, "cannot serve on %s: %s", base, nng_strerror(rv));
        goto fail;
    }
    nng_sockaddr sa;
    if ((rv = nng_http_server_get_addr(d->srv, &sa)) != 0) {
        snprintf(err, errlen, "cannot serve on %s: %s", base, nng_strerror(rv));
        nng_http_server_stop(d->srv);
        goto fail;
    }
    d->port = ntohs(sa.s_family == NNG_AF_INET6 ? sa.s_in6.sa_port : sa.s_in.sa_port);
    /* The websocket listeners find this server by host and port (nng shares
     * it), so they name the port it is bound to. */
    char rpc_url[600], ev_url[600];
    const char *ws = o->tls ? "wss" : "ws";
    snprintf(rpc_url, sizeof rpc_url, "%s://%s:%d/ws/%s/rpc", ws, host, d->port, d->token);
    snprintf(ev_url, sizeof ev_url, "%s://%s:%d/ws/%s/events", ws, host, d->port, d->token);
    if (oj_server_listen_ws(o->server, rpc_url, err, errlen) != 0 ||
        oj_pub_listen_ws(o->publisher, ev_url, err, errlen) != 0) {
        /* the token in the URL names no one: a fresh one is made next time */
        char *at = strstr(err, d->token);
        if (at)
            memcpy(at, "<token>", 7), memmove(at + 7, at + OJ_DASH_TOKEN_LEN,
                                              strlen(at + OJ_DASH_TOKEN_LEN) + 1);
        nng_http_server_stop(d->srv);
        goto fail;
    }
    char shown[300];
    shown_host(host, shown, sizeof shown);
    snprintf(d->url, sizeof d->url, "%s://%s:%d/?token=%s", o->tls ? "https" : "http", shown,
             d->port, d->token);
    nng_url_free(url);
    *out = d;
    return 0;
fail:
    if (h)
        nng_http_handler_free(h);
    if (d && d->srv)
        nng_http_server_release(d->srv);
    if (url)
        nng_url_free(url);
    free(sv);
    free(d);
    return -1;
}

const char *oj_dashboard_url(const struct oj_dashboard *d) { return d->url; }
int oj_dashboard_port(const struct oj_dashboard *d) { return d->port; }
const char *oj_dashboard_token(const struct oj_dashboard *d) { return d->token; }
const char *oj_dashboard_listen(const struct oj_dashboard *d) { return d->listen; }

void oj_dashboard_stop(struct oj_dashboard *d)
{
    if (d == NULL)
        return;
    /* The handler (and its data) goes with the server, once the websocket
     * listeners, which hold it too, are closed with their sockets. */
    nng_http_server_stop(d->srv);
    nng_http_server_release(d->srv);
    free(d);
}
