/* dashboard_route.c — see dashboard_route.h. */
#include "dashboard_route.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

bool oj_dash_token_equal(const char *given, size_t given_len, const char *token)
{
    size_t n = strlen(token);
    if (given == NULL || given_len != n || n == 0)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(given[i] ^ token[i]);
    return diff == 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes [s, s+n) into out; false when malformed, too long, or
 * decoding to a NUL. */
static bool decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0)
                return false;
            c = (char)(a * 16 + b);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* The value of `name` in a query string ("a=b&token=T"), or NULL. */
static const char *query_value(const char *q, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = q; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = seg - nl - 1;
            return p + nl + 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* The value of cookie `name` in a Cookie header ("a=b; oj_token=T"), or NULL. */
static const char *cookie_value(const char *h, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *semi = strchr(p, ';');
        size_t seg = semi ? (size_t)(semi - p) : strlen(p);
        if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = seg - nl - 1;
            while (*len > 0 && (p[nl + *len] == ' ' || p[nl + *len] == '\t'))
                (*len)--;
            return p + nl + 1;
        }
        p = semi ? semi + 1 : NULL;
    }
    return NULL;
}

/* A decoded path that names nothing outside its dir: every segment is a
 * plain name (no "." or "..", no backslash). */
static bool path_safe(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\') != NULL)
        return false;
    for (const char *seg = path + 1; *seg;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (n == 0 && slash) /* "//": an empty segment */
            return false;
        if (!slash)
            break;
        seg = slash + 1;
    }
    return true;
}

static const struct {
    const char *path, *rel;
    bool proto;
} fixed[] = {
    {"/vendor/protobuf.min.js", "node_modules/protobufjs/dist/protobuf.min.js", false},
    {"/vendor/xterm.js", "node_modules/@xterm/xterm/lib/xterm.js", false},
    {"/vendor/xterm.css", "node_modules/@xterm/xterm/css/xterm.css", false},
    {"/proto/oj.proto", "oj.proto", true},
    {"/proto/wire.proto", "wire.proto", true},
};

void oj_dash_route(const char *uri, const char *cookie, const char *token,
                   struct oj_dash_route *out)
{
    memset(out, 0, sizeof *out);
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    char path[512];
    bool decoded = decode(uri, plen, path, sizeof path);
    size_t tlen = 0;
    const char *t;
    if (decoded && strcmp(path, "/") == 0 && q && (t = query_value(q + 1, "token", &tlen))) {
        out->answer = oj_dash_token_equal(t, tlen, token) ? OJ_DASH_LOGIN : OJ_DASH_UNAUTHORIZED;
        return;
    }
    t = cookie ? cookie_value(cookie, OJ_DASH_COOKIE, &tlen) : NULL;
    if (!oj_dash_token_equal(t, tlen, token)) {
        out->answer = OJ_DASH_UNAUTHORIZED;
        return;
    }
    if (!decoded || !path_safe(path)) {
        out->answer = OJ_DASH_BAD_PATH;
        return;
    }
    if (strcmp(path, "/api/endpoints") == 0) {
        out->answer = OJ_DASH_ENDPOINTS;
        return;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(path, fixed[i].path) == 0) {
            out->answer = OJ_DASH_FILE;
            out->proto = fixed[i].proto;
            snprintf(out->rel, sizeof out->rel, "%s", fixed[i].rel);
            return;
        }
    if (strncmp(path, "/ws/", 4) == 0 || strncmp(path, "/vendor/", 8) == 0 ||
        strncmp(path, "/proto/", 7) == 0 || strcmp(path, "/api") == 0 ||
        strncmp(path, "/api/", 5) == 0) {
        out->answer = OJ_DASH_NOT_FOUND;
        return;
    }
    size_t n = strlen(path);
    int w = snprintf(out->rel, sizeof out->rel, "%s%s", path + 1,
                     path[n - 1] == '/' ? "index.html" : "");
    out->answer = w < 0 || (size_t)w >= sizeof out->rel ? OJ_DASH_NOT_FOUND : OJ_DASH_FILE;
}

const char *oj_dash_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".proto", "text/plain; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && strchr(dot, '/') == NULL)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

bool oj_dash_loopback(const char *addr)
{
    if (strcmp(addr, "localhost") == 0 || strcmp(addr, "::1") == 0 ||
        strcmp(addr, "[::1]") == 0)
        return true;
    struct in_addr a;
    return inet_pton(AF_INET, addr, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}
