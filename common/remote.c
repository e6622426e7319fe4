/* remote.c — see remote.h. */
#include "remote.h"

#include <ctype.h>
#include <errno.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oj_remote_url_parse(const char *url, char *host, size_t hostlen, int *port, char *err,
                        size_t errlen)
{
    size_t sl = strlen(OJ_REMOTE_SCHEME);
    if (url == NULL || strncmp(url, OJ_REMOTE_SCHEME, sl) != 0) {
        snprintf(err, errlen, "must be a URL like tls+tcp://HOST:PORT (only TLS; got '%s')",
                 url ? url : "");
        return -1;
    }
    const char *h = url + sl, *colon;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        colon = close ? close + 1 : NULL;
        if (colon && *colon != ':')
            colon = NULL;
    } else {
        colon = strrchr(h, ':');
        if (colon && memchr(h, ':', (size_t)(colon - h)) != NULL)
            colon = NULL; /* an IPv6 address must be in brackets */
    }
    if (colon == NULL || colon == h || (size_t)(colon - h) >= hostlen) {
        snprintf(err, errlen, "must be tls+tcp://HOST:PORT with a host and a port, an IPv6 "
                              "address in brackets (got '%s')", url);
        return -1;
    }
    for (const char *c = h; c < colon; c++)
        if (isspace((unsigned char)*c) || *c == '/' || *c == '@') {
            snprintf(err, errlen, "has a malformed host (got '%s')", url);
            return -1;
        }
    const char *p = colon + 1;
    char *end;
    long n = isdigit((unsigned char)p[0]) ? strtol(p, &end, 10) : -1;
    if (n < 1 || n > 65534 || *end != '\0') {
        snprintf(err, errlen, "needs a port from 1 to 65534 (the events socket takes the port "
                              "after it; got '%s')", url);
        return -1;
    }
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    *port = (int)n;
    return 0;
}

int oj_remote_events_url(const char *url, char *out, size_t outlen)
{
    char host[256], err[256];
    int port;
    if (oj_remote_url_parse(url, host, sizeof host, &port, err, sizeof err) != 0)
        return -1;
    int n = snprintf(out, outlen, OJ_REMOTE_SCHEME "%s:%d", host, port + 1);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A PEM file's text: NULL with err naming it (`what` and path) and why. */
static char *read_pem(const char *what, const char *path, const char *needs, char *err,
                      size_t errlen)
{
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "%s is not set", what);
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s %s: cannot read it: %s", what, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad || n > cap) {
        snprintf(err, errlen, "%s %s: %s", what, path,
                 bad ? "cannot read it" : "larger than 1 MiB; not a PEM file");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (strstr(buf, needs) == NULL) {
        snprintf(err, errlen, "%s %s: not a PEM file with a %s (no '%s' line)", what, path,
                 strstr(needs, "KEY") ? "private key" : "certificate", needs);
        free(buf);
        return NULL;
    }
    return buf;
}

int oj_remote_tls_config(struct nng_tls_config **out, bool server, const char *cert,
                         const char *key, const char *ca, const char *server_name,
                         const char *const what[3], char *err, size_t errlen)
{
    char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL;
    nng_tls_config *cfg = NULL, *scratch = NULL;
    int rc = -1, rv;
    bool own = server || cert != NULL; /* a client may go without (the daemon refuses it) */
    if ((own && (cert_pem = read_pem(what[0], cert, "-----BEGIN CERTIFICATE-----", err,
                                     errlen)) == NULL) ||
        (own && (key_pem = read_pem(what[1], key, "PRIVATE KEY-----", err, errlen)) == NULL) ||
        ((!server || ca != NULL) &&
         (ca_pem = read_pem(what[2], ca, "-----BEGIN CERTIFICATE-----", err, errlen)) == NULL))
        goto done;
    if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) !=
            0 ||
        (rv = nng_tls_config_alloc(&scratch, NNG_TLS_MODE_CLIENT)) != 0) {
        snprintf(err, errlen, "cannot set up TLS: %s", nng_strerror(rv));
        goto done;
    }
    /* nng says only "Cryptographic error" for a bad certificate or key: the
     * certificate is parsed alone first (as a chain, on a scratch config), so
     * that the message can name the file at fault. */
    if (own && nng_tls_config_ca_chain(scratch, cert_pem, NULL) != 0) {
        snprintf(err, errlen, "%s %s: not a certificate TLS can use", what[0], cert);
        goto done;
    }
    if (own && nng_tls_config_own_cert(cfg, cert_pem, key_pem, NULL) != 0) {
        snprintf(err, errlen, "%s %s: not a private key TLS can use (unencrypted PEM, RSA or EC)",
                 what[1], key);
        goto done;
    }
    if (ca_pem && nng_tls_config_ca_chain(cfg, ca_pem, NULL) != 0) {
        snprintf(err, errlen, "%s %s: not a CA certificate TLS can use", what[2], ca);
        goto done;
    }
    /* Both ends: no certificate signed by the CA, no connection. (A server
     * without a CA asks for none: the dashboard's https, whose token is the
     * check.) */
    if ((rv = nng_tls_config_auth_mode(cfg, ca_pem ? NNG_TLS_AUTH_MODE_REQUIRED
                                                   : NNG_TLS_AUTH_MODE_NONE)) != 0 ||
        (!server && server_name && (rv = nng_tls_config_server_name(cfg, server_name)) != 0)) {
        snprintf(err, errlen, "cannot set up TLS: %s", nng_strerror(rv));
        goto done;
    }
    *out = cfg;
    cfg = NULL;
    rc = 0;
done:
    if (cfg)
        nng_tls_config_free(cfg);
    if (scratch)
        nng_tls_config_free(scratch);
    free(cert_pem);
    free(key_pem);
    free(ca_pem);
    return rc;
}
