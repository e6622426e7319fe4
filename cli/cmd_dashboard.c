/* cmd_dashboard.c — `oj dashboard`: has the daemon serve the web page
 * (daemon/wire/dashboard.h) and prints its URL, token included. Opens
 * nothing: the URL is for the user to open (or to hand to a browser). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void human(const void *reply)
{
    const Oj__DashboardInfo *r = reply;
    printf("%s\n", r->url);
}

static int exec_dashboard(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__DashboardRequest req = OJ__DASHBOARD_REQUEST__INIT;
    const char *port = oj_args_get(a, "port");
    if (port) {
        char *end;
        long n = strtol(port, &end, 10);
        if (port[0] < '0' || port[0] > '9' || *end != '\0' || n < 0 || n > 65535) {
            fprintf(stderr, "oj dashboard: --port must be a port number from 0 to 65535 (0: a "
                            "free one), got '%s'\n",
                    port);
            return OJ_EXIT_USAGE;
        }
        req.port = (int32_t)n;
    }
    req.listen = (char *)(oj_args_get(a, "listen") ? oj_args_get(a, "listen") : "");
    WITH_CLIENT(ctx, c, (oj__control__dashboard_start(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human)));
}

static const struct oj_opt opts[] = {
    {"port", true, "N", "serve on port N (default: a free port)"},
    {"listen", true, "ADDR", "listen on ADDR (default 127.0.0.1); beyond loopback only with the "
                             "daemon's tls_cert and tls_key (https)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_dashboard = {
    NULL, "dashboard", "[--port N] [--listen ADDR] [--json]",
    "Serve the live web dashboard; print its URL with the access token",
    "The daemon serves the page, its files and two websockets (the same rpcs and events as the\n"
    "local sockets) on http://127.0.0.1:<port>. Nothing is served without the token in the\n"
    "printed URL (kept as an HttpOnly cookie after the first visit); the token is random per\n"
    "daemon run and never stored. Asking again while it serves prints the same URL; asking for\n"
    "another port or address then is refused (exit 5). --listen beyond 127.0.0.1 / ::1 needs\n"
    "the daemon's tls_cert and tls_key (https and wss), else it is refused (exit 2).",
    opts, 0, 0, exec_dashboard,
};
