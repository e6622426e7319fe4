/* remote.h — reaching a daemon over the network: nng's TLS transport with
 * mutual TLS, shared by the daemon (its listeners) and the CLI (oj --remote).
 *
 * A remote daemon has two sockets, as a local one: requests (req/rep) on
 * tls+tcp://HOST:PORT and events/output (pub/sub) on the same host at
 * PORT + 1 (docs/protocol.md, "Remote access over TLS"). Both ends present a
 * certificate and check the other's against a CA: the daemon refuses a
 * client without a certificate signed by its tls_ca, and the CLI refuses a
 * daemon whose certificate is not signed by --ca or does not name the host
 * it dialed. */
#ifndef OJ_REMOTE_H
#define OJ_REMOTE_H
#include <stdbool.h>
#include <stddef.h>

/* The one scheme accepted: plain tcp:// would carry requests unauthenticated. */
#define OJ_REMOTE_SCHEME "tls+tcp://"

/* Splits "tls+tcp://HOST:PORT" (HOST a name, an IPv4 address or a
 * bracketed IPv6 address, kept with its brackets) into host and port, the
 * port 1 to 65534 so that PORT + 1 exists. 0, or -1 with why in err (one
 * phrase, no name of the setting: the caller names it). Pure. */
int oj_remote_url_parse(const char *url, char *host, size_t hostlen, int *port, char *err,
                        size_t errlen);

/* The events socket's URL for the request socket's `url` (already parsed
 * well): the same host at PORT + 1. Pure. */
int oj_remote_events_url(const char *url, char *out, size_t outlen);

struct nng_tls_config;

/* A TLS configuration for one end: server (the daemon: a client certificate
 * signed by ca is required) or client (the CLI: the server's certificate must
 * be signed by ca and name server_name; cert and key NULL: a client without a
 * certificate, which a daemon refuses; a server with ca NULL asks clients for no
 * certificate: the dashboard's https). Reads the PEM files; an
 * unreadable, empty or invalid file is named in err ("tls_cert /x/y.pem: ...",
 * with `what` giving the names: e.g. {"tls_cert", "tls_key", "tls_ca"} or
 * {"--cert", "--key", "--ca"}). 0 with *out (nng_tls_config_free it), or -1. */
int oj_remote_tls_config(struct nng_tls_config **out, bool server, const char *cert,
                         const char *key, const char *ca, const char *server_name,
                         const char *const what[3], char *err, size_t errlen);
#endif
