/* dashboard.h — the daemon's web dashboard server (oj dashboard): nng's
 * http server serving the page's files, plus two of nng's websocket
 * listeners on the same host and port: the request socket's (server.h) on
 * /ws/<token>/rpc and the events socket's (publisher.h) on
 * /ws/<token>/events. So the browser is one more client of the same server
 * code and the same published frames; nothing here waits on the engine
 * (files are read on nng's threads). What is answered to what is
 * dashboard_route.h; docs/protocol.md, "The dashboard's HTTP and websocket
 * transports", is the contract. */
#ifndef OJ_DASHBOARD_H
#define OJ_DASHBOARD_H
#include <stddef.h>

struct oj_server;
struct oj_publisher;
struct nng_tls_config;
struct oj_dashboard;

struct oj_dashboard_opts {
    const char *listen; /* a host or address; its loopback-or-TLS rule is the caller's */
    int port;           /* 0: a free one */
    const char *assets_dir, *proto_dir;
    struct nng_tls_config *tls; /* NULL: http and ws; else https and wss (the server holds it) */
    struct oj_server *server;
    struct oj_publisher *publisher;
};

/* Where the page's files are: $OJ_DASHBOARD_DIR, else next to the running
 * binary: <bin>/../share/oj/dashboard (installed), <bin>/../daemon/dashboard
 * (the source tree); the first holding index.html. The .proto files: the
 * `proto` folder beside the assets' parent (share/oj/proto) or beside the
 * daemon folder (proto/). 0, or -1 with err saying where it looked. */
int oj_dashboard_find_assets(char *assets, size_t alen, char *proto, size_t plen, char *err,
                             size_t errlen);

/* Starts serving with a new random token. 0, or -1 with err. */
int oj_dashboard_start(struct oj_dashboard **out, const struct oj_dashboard_opts *o, char *err,
                       size_t errlen);
/* The page's URL with the token (http(s)://HOST:PORT/?token=T), the port,
 * the token, and the address asked for. Valid until stop. */
const char *oj_dashboard_url(const struct oj_dashboard *d);
int oj_dashboard_port(const struct oj_dashboard *d);
const char *oj_dashboard_token(const struct oj_dashboard *d);
const char *oj_dashboard_listen(const struct oj_dashboard *d);
/* Stops serving pages (the websocket listeners close with their sockets). */
void oj_dashboard_stop(struct oj_dashboard *d);
#endif
