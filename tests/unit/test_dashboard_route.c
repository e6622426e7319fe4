/* What the dashboard's http server answers (dashboard_route.h): the token
 * and the cookie, the contract's fixed paths, and no path out of the assets
 * dir however it is spelled. */
#include <criterion/criterion.h>
#include <string.h>

#include "dashboard_route.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define COOKIE "oj_token=" TOKEN

static struct oj_dash_route route(const char *uri, const char *cookie)
{
    struct oj_dash_route r;
    oj_dash_route(uri, cookie, TOKEN, &r);
    return r;
}

Test(dashboard_route, the_token_logs_in_and_nothing_is_served_without_it)
{
    cr_expect_eq(route("/?token=" TOKEN, NULL).answer, OJ_DASH_LOGIN);
    cr_expect_eq(route("/?a=b&token=" TOKEN, NULL).answer, OJ_DASH_LOGIN);
    cr_expect_eq(route("/?token=" TOKEN "0", NULL).answer, OJ_DASH_UNAUTHORIZED);
    cr_expect_eq(route("/?token=", NULL).answer, OJ_DASH_UNAUTHORIZED);
    cr_expect_eq(route("/?token=1123456789abcdef0123456789abcdef", COOKIE).answer,
                 OJ_DASH_UNAUTHORIZED, "a wrong token in the URL is refused, cookie or not");
    const char *paths[] = {"/", "/index.html", "/api/endpoints", "/vendor/xterm.js",
                           "/proto/oj.proto", "/../etc/passwd", "/app.js?token=" TOKEN};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        cr_expect_eq(route(paths[i], NULL).answer, OJ_DASH_UNAUTHORIZED, "%s", paths[i]);
        cr_expect_eq(route(paths[i], "oj_token=nope").answer, OJ_DASH_UNAUTHORIZED, "%s",
                     paths[i]);
        cr_expect_eq(route(paths[i], "other=" TOKEN).answer, OJ_DASH_UNAUTHORIZED, "%s",
                     paths[i]);
    }
    cr_expect_eq(route("/", "a=b; " COOKIE "; c=d").answer, OJ_DASH_FILE);
    cr_expect_eq(route("/", "x_oj_token=" TOKEN).answer, OJ_DASH_UNAUTHORIZED);
}

Test(dashboard_route, the_contracts_paths)
{
    struct oj_dash_route r = route("/", COOKIE);
    cr_expect_eq(r.answer, OJ_DASH_FILE);
    cr_expect_str_eq(r.rel, "index.html");
    r = route("/sub/", COOKIE);
    cr_expect_str_eq(r.rel, "sub/index.html");
    r = route("/app.js", COOKIE);
    cr_expect(r.answer == OJ_DASH_FILE && !r.proto);
    cr_expect_str_eq(r.rel, "app.js");
    r = route("/vendor/protobuf.min.js", COOKIE);
    cr_expect_str_eq(r.rel, "node_modules/protobufjs/dist/protobuf.min.js");
    r = route("/vendor/xterm.js", COOKIE);
    cr_expect_str_eq(r.rel, "node_modules/@xterm/xterm/lib/xterm.js");
    r = route("/vendor/xterm.css", COOKIE);
    cr_expect_str_eq(r.rel, "node_modules/@xterm/xterm/css/xterm.css");
    r = route("/proto/wire.proto", COOKIE);
    cr_expect(r.answer == OJ_DASH_FILE && r.proto);
    cr_expect_str_eq(r.rel, "wire.proto");
    cr_expect_eq(route("/api/endpoints", COOKIE).answer, OJ_DASH_ENDPOINTS);
    cr_expect_eq(route("/api/other", COOKIE).answer, OJ_DASH_NOT_FOUND);
    cr_expect_eq(route("/vendor/other.js", COOKIE).answer, OJ_DASH_NOT_FOUND);
    cr_expect_eq(route("/proto/other.proto", COOKIE).answer, OJ_DASH_NOT_FOUND);
    cr_expect_eq(route("/ws/" TOKEN "/rpc", COOKIE).answer, OJ_DASH_NOT_FOUND,
                 "the websocket listeners take their paths before this");
}

Test(dashboard_route, no_path_leaves_the_assets_dir)
{
    const char *bad[] = {"/..",          "/../x",         "/a/../../x",   "/%2e%2e/x",
                         "/%2E%2E%2Fx",  "/.%2e/x",       "/./index.html", "/a//b",
                         "/a\\..\\b",    "/a%5c..%5cb",   "/a%00b",        "/%zz",
                         "/%2",          "/a/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(route(bad[i], COOKIE).answer, OJ_DASH_BAD_PATH, "%s", bad[i]);
    struct oj_dash_route r = route("/a%20b/..c/d..", COOKIE);
    cr_expect_eq(r.answer, OJ_DASH_FILE, "names with dots are names");
    cr_expect_str_eq(r.rel, "a b/..c/d..");
}

Test(dashboard_route, content_types_tokens_and_loopback)
{
    cr_expect_str_eq(oj_dash_content_type("index.html"), "text/html; charset=utf-8");
    cr_expect_str_eq(oj_dash_content_type("a/app.js"), "text/javascript; charset=utf-8");
    cr_expect_str_eq(oj_dash_content_type("style.css"), "text/css; charset=utf-8");
    cr_expect_str_eq(oj_dash_content_type("oj.proto"), "text/plain; charset=utf-8");
    cr_expect_str_eq(oj_dash_content_type("a.b/noext"), "application/octet-stream");
    cr_expect(oj_dash_token_equal(TOKEN, 32, TOKEN));
    cr_expect(!oj_dash_token_equal(TOKEN, 31, TOKEN));
    cr_expect(!oj_dash_token_equal("", 0, ""), "an empty token lets no one in");
    cr_expect(!oj_dash_token_equal(NULL, 0, TOKEN));
    const char *loop[] = {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"};
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++)
        cr_expect(oj_dash_loopback(loop[i]), "%s", loop[i]);
    const char *far[] = {"0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1", ""};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
        cr_expect(!oj_dash_loopback(far[i]), "%s", far[i]);
}
