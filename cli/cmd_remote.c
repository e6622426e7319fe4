/* cmd_remote.c — `oj remote init [DIR] [--host H,...]`: the certificates for
 * remote access (remote.h), made by openssl(1): a CA, the daemon's
 * certificate (naming the hosts clients dial) and a client certificate, all
 * signed by that CA, each file 0600 in a 0700 directory. Nothing is ever
 * overwritten. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "subprocess.h"

#define OPENSSL_TIMEOUT_MS 30000
#define CERT_DAYS "825" /* what browsers still accept for a server certificate */
#define CA_DAYS "3650"

static const char *const made[] = {"ca.crt",     "ca.key",     "server.crt", "server.key",
                                   "client.crt", "client.key", "server.csr", "client.csr"};

/* "DNS:h" for a name; "IP:h,DNS:h" for an address: mbedTLS 2.28 (nng's TLS on
 * Debian 12) compares the dialed host with DNS names only, other clients
 * with the IP entry. 0, or -1 when a host is malformed. */
int oj_remote_san(const char *hosts, char *out, size_t len)
{
    out[0] = '\0';
    char copy[1024];
    if (snprintf(copy, sizeof copy, "%s", hosts) >= (int)sizeof copy)
        return -1;
    char *save = NULL;
    size_t used = 0;
    for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        if (h[0] == '\0' || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789.-:*") != strlen(h))
            return -1;
        unsigned char addr[16];
        bool ip = inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
        if (!ip && strchr(h, ':'))
            return -1;
        int n = snprintf(out + used, len - used, "%s%s%s%sDNS:%s", used ? "," : "",
                         ip ? "IP:" : "", ip ? h : "", ip ? "," : "", h);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return used ? 0 : -1;
}

/* Runs openssl with argv (argv[0] "openssl") in dir. 0, or prints why. */
static int openssl(char *const argv[], const char *dir, const char *doing)
{
    char out[4096];
    struct oj_proc_result res;
    if (oj_run(argv, dir, OPENSSL_TIMEOUT_MS, out, sizeof out, 1, &res) != 0) {
        oj_errorf("cannot run openssl to make %s: %s (install it: apt-get install openssl)", doing,
                  oj_spawn_why(errno));
        return -1;
    }
    if (res.timed_out || res.exit_status != 0) {
        char *nl = strchr(out, '\n');
        while (nl && nl[1] != '\0' && (nl == out || strncmp(out, "-----", 5) == 0)) {
            memmove(out, nl + 1, strlen(nl + 1) + 1); /* skip openssl's progress lines */
            nl = strchr(out, '\n');
        }
        if (nl)
            *nl = '\0';
        oj_errorf("openssl failed to make %s: %s", doing,
                  res.timed_out ? "it did not finish within 30s" : out[0] ? out : "no reason given");
        return -1;
    }
    return 0;
}

static int make_all(const char *dir, const char *san)
{
    char ext_san[1200];
    snprintf(ext_san, sizeof ext_san, "subjectAltName=%s", san);
    char *ca[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                  "-days", CA_DAYS, "-subj", "/CN=oj remote access CA", "-addext",
                  "basicConstraints=critical,CA:TRUE", "-addext",
                  "keyUsage=critical,keyCertSign,cRLSign", NULL};
    char *server_req[] = {"openssl", "req", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out",
                          "server.csr", "-subj", "/CN=oj daemon", "-addext", ext_san, "-addext",
                          "extendedKeyUsage=serverAuth", NULL};
    char *server_sign[] = {"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt",
                           "-CAkey", "ca.key", "-days", CERT_DAYS, "-copy_extensions", "copyall",
                           "-out", "server.crt", NULL};
    char *client_req[] = {"openssl", "req", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out",
                          "client.csr", "-subj", "/CN=oj client", "-addext",
                          "extendedKeyUsage=clientAuth", NULL};
    char *client_sign[] = {"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt",
                           "-CAkey", "ca.key", "-days", CERT_DAYS, "-copy_extensions", "copyall",
                           "-out", "client.crt", NULL};
    int rc = openssl(ca, dir, "the CA") != 0 || openssl(server_req, dir, "the server key") != 0 ||
                     openssl(server_sign, dir, "the server certificate") != 0 ||
                     openssl(client_req, dir, "the client key") != 0 ||
                     openssl(client_sign, dir, "the client certificate") != 0
                 ? -1
                 : 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/server.csr", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/client.csr", dir);
    unlink(path);
    return rc;
}

static int exec_init(struct oj_ctx *ctx, const struct oj_args *a)
{
    (void)ctx;
    const char *want = a->npos ? a->pos[0] : "oj-tls";
    const char *hosts = oj_args_get(a, "host") ? oj_args_get(a, "host") : "localhost,127.0.0.1";
    char san[1100];
    if (oj_remote_san(hosts, san, sizeof san) != 0) {
        oj_errorf("--host takes host names and IP addresses separated by commas (got '%s')",
                  hosts);
        return OJ_EXIT_USAGE;
    }
    if (mkdir(want, 0700) != 0 && errno != EEXIST) {
        oj_errorf("cannot make directory %s: %s", want, strerror(errno));
        return OJ_EXIT_FAILURE;
    }
    char dir[PATH_MAX];
    if (realpath(want, dir) == NULL) {
        oj_errorf("cannot use directory %s: %s", want, strerror(errno));
        return OJ_EXIT_FAILURE;
    }
    /* Keys and the CA others will trust go only into a directory no one else
     * can write to: a directory made by someone else (in /tmp, say) could
     * have its ca.crt swapped after we wrote it. */
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 022) != 0) {
        oj_errorf("%s must be a directory of yours that no one else can write to (chmod 700 "
                  "it, or name a new one)",
                  dir);
        return OJ_EXIT_CONFLICT;
    }
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        char path[PATH_MAX + 16];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, made[i]);
        if (lstat(path, &st) == 0) {
            oj_errorf("%s already exists; oj remote init never overwrites certificates: use "
                      "another directory, or move the old ones away",
                      path);
            return OJ_EXIT_CONFLICT;
        }
    }
    mode_t old = umask(077); /* openssl writes the keys: never readable by others */
    int rc = make_all(dir, san);
    umask(old);
    if (rc != 0)
        return OJ_EXIT_FAILURE;
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", dir, made[i]);
        chmod(path, 0600);
    }
    const char *qdir = oj_esc(dir);
    printf("made in %s (each 0600): ca.crt and ca.key (the CA: keep ca.key safe, it signs "
           "certificates), server.crt and server.key (for %s), client.crt and client.key\n\n",
           qdir, oj_esc(hosts));
    printf("On the daemon's machine, in .oj/config.json (PORT and the one after it are used):\n"
           "  \"remote_listen\": \"tls+tcp://0.0.0.0:PORT\", \"tls_cert\": \"%s/server.crt\",\n"
           "  \"tls_key\": \"%s/server.key\", \"tls_ca\": \"%s/ca.crt\"\n\n",
           qdir, qdir, qdir);
    printf("On a client (copy client.crt, client.key and ca.crt there):\n"
           "  oj --remote tls+tcp://HOST:PORT --cert %s/client.crt --key %s/client.key "
           "--ca %s/ca.crt status\n",
           qdir, qdir, qdir);
    return OJ_EXIT_OK;
}

static const struct oj_opt init_opts[] = {
    {"host", true, "H,...", "names and addresses clients dial (default localhost,127.0.0.1)"},
    {0},
};

const struct oj_cmd oj_cmd_remote_init = {
    "remote", "init", "[DIR] [--host H,...]", "Make certificates for remote access",
    "Runs openssl to make, in DIR (default ./oj-tls, made 0700), a CA (ca.crt, ca.key), the\n"
    "daemon's certificate for the --host names and addresses (server.crt, server.key) and a\n"
    "client certificate (client.crt, client.key), each file 0600, and prints the settings to\n"
    "use. Exit 5 when any of these files already exists: nothing is overwritten.",
    init_opts, 0, 1, exec_init,
};
