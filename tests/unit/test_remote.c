/* test_remote.c — remote.h: the tls+tcp:// URL rule and naming the
 * certificate file at fault. */
#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

Test(remote, url_parse_takes_tls_host_and_port)
{
    char host[64], err[256];
    int port = 0;
    cr_assert_eq(oj_remote_url_parse("tls+tcp://127.0.0.1:7000", host, sizeof host, &port, err,
                                     sizeof err), 0, "%s", err);
    cr_expect_str_eq(host, "127.0.0.1");
    cr_expect_eq(port, 7000);
    cr_assert_eq(oj_remote_url_parse("tls+tcp://[::1]:9", host, sizeof host, &port, err,
                                     sizeof err), 0, "%s", err);
    cr_expect_str_eq(host, "[::1]");
    cr_expect_eq(port, 9);
    cr_assert_eq(oj_remote_url_parse("tls+tcp://build.example:443", host, sizeof host, &port,
                                     err, sizeof err), 0);
    cr_expect_str_eq(host, "build.example");

    const char *bad[] = {"tcp://127.0.0.1:7000", "ipc:///tmp/x", "tls+tcp://127.0.0.1",
                         "tls+tcp://:7000", "tls+tcp://127.0.0.1:0", "tls+tcp://127.0.0.1:65535",
                         "tls+tcp://127.0.0.1:70x", "tls+tcp://::1:80", "tls+tcp://a b:80", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(oj_remote_url_parse(bad[i], host, sizeof host, &port, err, sizeof err), -1,
                     "accepted '%s'", bad[i]);
}

Test(remote, events_url_is_the_next_port)
{
    char out[128];
    cr_assert_eq(oj_remote_events_url("tls+tcp://10.0.0.2:7000", out, sizeof out), 0);
    cr_expect_str_eq(out, "tls+tcp://10.0.0.2:7001");
    cr_assert_eq(oj_remote_events_url("tls+tcp://[::1]:80", out, sizeof out), 0);
    cr_expect_str_eq(out, "tls+tcp://[::1]:81");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Every refusal names the setting and the file: unreadable, not PEM, PEM
 * that is not a certificate TLS can use. */
Test(remote, tls_config_names_the_file_at_fault)
{
    char dir[] = "/tmp/oj-remote-unit-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cert[128], key[128], junk[128], err[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(junk, sizeof junk, "%s/junk.pem", dir);
    write_file(cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    write_file(key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    write_file(junk, "hello\n");
    static const char *const names[3] = {"tls_cert", "tls_key", "tls_ca"};
    struct nng_tls_config *cfg = NULL;

    cr_expect_eq(oj_remote_tls_config(&cfg, true, "/nonexistent/c.pem", key, cert, NULL, names,
                                      err, sizeof err), -1);
    cr_expect(strstr(err, "tls_cert /nonexistent/c.pem: cannot read it") == err, "%s", err);

    cr_expect_eq(oj_remote_tls_config(&cfg, true, cert, junk, cert, NULL, names, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "tls_key ") == err && strstr(err, "junk.pem: not a PEM file") != NULL,
              "%s", err);

    cr_expect_eq(oj_remote_tls_config(&cfg, true, cert, key, cert, NULL, names, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "tls_cert ") == err && strstr(err, "not a certificate TLS can use"),
              "%s", err);
    cr_expect_null(cfg);

    unlink(cert);
    unlink(key);
    unlink(junk);
    rmdir(dir);
}

int oj_remote_san(const char *hosts, char *out, size_t len); /* cli.h */

/* An address is named as an IP and as a DNS name: nng's mbedTLS (Debian 12)
 * checks the host dialed against DNS names only. */
Test(remote, san_names_addresses_twice_and_refuses_junk)
{
    char san[256];
    cr_assert_eq(oj_remote_san("build.example,127.0.0.1", san, sizeof san), 0);
    cr_expect_str_eq(san, "DNS:build.example,IP:127.0.0.1,DNS:127.0.0.1");
    cr_assert_eq(oj_remote_san("::1", san, sizeof san), 0);
    cr_expect_str_eq(san, "IP:::1,DNS:::1");
    cr_expect_eq(oj_remote_san("", san, sizeof san), -1);
    cr_expect_eq(oj_remote_san("a b", san, sizeof san), -1);
    cr_expect_eq(oj_remote_san("x,DNS:evil", san, sizeof san), -1);
    cr_expect_eq(oj_remote_san("host:80", san, sizeof san), -1);
}
