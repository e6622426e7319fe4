/* dashboard_route.h — what the dashboard's http server answers to one
 * request, decided from its URI, its Cookie header and the token alone
 * (pure: dashboard.c does the I/O). The contract with the page
 * (docs/protocol.md, "The dashboard's HTTP and websocket transports"):
 *  - GET /?token=T with the right T: 303 to / with the HttpOnly cookie
 *    oj_token=T; anything else needs that cookie, else 401;
 *  - /api/endpoints: the two websocket paths, as JSON;
 *  - /vendor/protobuf.min.js, /vendor/xterm.js, /vendor/xterm.css: files of
 *    node_modules/ in the assets dir; /proto/oj.proto, /proto/wire.proto;
 *  - any other path: that file under the assets dir (index.html for a
 *    directory); a path with a "." or ".." segment, a backslash or a NUL is
 *    refused, so nothing outside the dir is named;
 *  - /ws/...: the websocket listeners take their own two paths before this
 *    is asked; any other /ws/ path is not served. */
#ifndef OJ_DASHBOARD_ROUTE_H
#define OJ_DASHBOARD_ROUTE_H
#include <stdbool.h>
#include <stddef.h>

#define OJ_DASH_TOKEN_LEN 32 /* hex characters */
#define OJ_DASH_COOKIE "oj_token"

enum oj_dash_answer {
    OJ_DASH_LOGIN,        /* 303 to "/" with the cookie */
    OJ_DASH_UNAUTHORIZED, /* 401: no token, or a wrong one */
    OJ_DASH_BAD_PATH,     /* 403: a path that could leave the assets dir */
    OJ_DASH_NOT_FOUND,    /* 404 */
    OJ_DASH_ENDPOINTS,    /* 200, the JSON of the websocket paths */
    OJ_DASH_FILE,         /* 200, file `rel` under the assets (or proto) dir */
};

struct oj_dash_route {
    enum oj_dash_answer answer;
    bool proto;    /* rel is under the proto dir, not the assets dir */
    char rel[512]; /* for OJ_DASH_FILE: relative, no "." or ".." segment */
};

/* `uri` as sent (path and query, percent-encoded), `cookie` the Cookie
 * header or NULL, `token` the daemon's. */
void oj_dash_route(const char *uri, const char *cookie, const char *token,
                   struct oj_dash_route *out);
/* Whether `given` is `token`, in time independent of where they differ. */
bool oj_dash_token_equal(const char *given, size_t given_len, const char *token);
/* The Content-Type for a file name, by its extension. */
const char *oj_dash_content_type(const char *name);
/* Whether `addr` (an --listen value) is a loopback address: 127.0.0.0/8,
 * ::1 (with or without brackets) or localhost. */
bool oj_dash_loopback(const char *addr);
#endif
