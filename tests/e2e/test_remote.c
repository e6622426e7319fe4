/* Remote access over mutual TLS (issue 13, point 3): certificates made by
 * `oj remote init`, a real daemon listening on tls+tcp://127.0.0.1, and the
 * CLI run with --remote from a directory that holds no project, so nothing
 * can reach the daemon but the TLS sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/harness.h"

extern char **environ;

static struct oj_env e;
static char client_dir[64] = "/tmp/ojc.XXXXXX"; /* no project, no git repository */
static char url[64];
static char tls[256], other[256];

/* Two free consecutive loopback ports (requests, events): both bound once
 * here to be sure; a daemon that still loses the race is started again on
 * another pair (start_remote_daemon). */
static int free_port_pair(void)
{
    for (int tries = 0; tries < 50; tries++) {
        int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        int port = 0;
        if (bind(a, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(a, (struct sockaddr *)&sa, &len) == 0) {
            port = ntohs(sa.sin_port);
            sa.sin_port = htons((uint16_t)(port + 1));
            if (port >= 65534 || bind(b, (struct sockaddr *)&sa, sizeof sa) != 0)
                port = 0;
        }
        close(a);
        close(b);
        if (port)
            return port;
    }
    cr_assert_fail("no two free consecutive ports on 127.0.0.1");
    return 0;
}

static struct oj_out remote_init_for(const char *dir, const char *host)
{
    return oj_run_in(&e, NULL, NULL, "remote", "init", dir, "--host", host, (char *)NULL);
}
static struct oj_out remote_init(const char *dir) { return remote_init_for(dir, "127.0.0.1"); }

/* `oj daemon start` with remote access on a fresh pair of ports. */
static void start_remote_daemon(void)
{
    char listen[96], cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16];
    snprintf(cert, sizeof cert, "OJ_TLS_CERT=%s/server.crt", tls);
    snprintf(key, sizeof key, "OJ_TLS_KEY=%s/server.key", tls);
    snprintf(ca, sizeof ca, "OJ_TLS_CA=%s/ca.crt", tls);
    for (int tries = 0; tries < 10; tries++) {
        snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", free_port_pair());
        snprintf(listen, sizeof listen, "OJ_REMOTE_LISTEN=%s", url);
        char *envp[] = {listen, cert, key, ca, NULL};
        struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
        bool in_use = o.code != 0 && strstr(o.err, "in use") != NULL;
        cr_assert(o.code == 0 || in_use, "daemon start failed (%d): %s", o.code, o.err);
        oj_out_free(&o);
        if (!in_use)
            return;
    }
    cr_assert_fail("every port pair tried was taken before the daemon could listen");
}

static void setup(void)
{
    env_setup(&e, true);
    snprintf(tls, sizeof tls, "%s/tls", e.dir);
    snprintf(other, sizeof other, "%s/other-ca", e.dir);
    struct oj_out o = remote_init(tls);
    cr_assert_eq(o.code, 0, "oj remote init: %s", o.err);
    oj_out_free(&o);
    snprintf(client_dir, sizeof client_dir, "/tmp/ojc.XXXXXX");
    cr_assert_not_null(mkdtemp(client_dir));
    start_remote_daemon();
}

static void teardown(void)
{
    char *rm[] = {"rm", "-rf", client_dir, NULL};
    run_prog("/", 10000, NULL, 0, rm);
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

/* Runs `oj --remote URL --cert --key --ca <args...>` in the client directory,
 * with the client certificate of `dir` (NULL: none) and the CA of `ca_dir`. */
#define MAX_ARGS 16
static struct oj_out remote_in(const char *dir, const char *ca_dir, char *const args[])
{
    static char cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16];
    snprintf(cert, sizeof cert, "%s/client.crt", dir ? dir : "");
    snprintf(key, sizeof key, "%s/client.key", dir ? dir : "");
    snprintf(ca, sizeof ca, "%s/ca.crt", ca_dir);
    char *v[MAX_ARGS + 10] = {"--remote", url, "--ca", ca};
    int n = 4;
    if (dir) {
        v[n++] = "--cert";
        v[n++] = cert;
        v[n++] = "--key";
        v[n++] = key;
    }
    for (int i = 0; args[i] && i < MAX_ARGS; i++)
        v[n++] = args[i];
    v[n] = NULL;
    return oj_run_in(&e, client_dir, NULL, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
                     v[9], v[10], v[11], v[12], v[13], v[14], v[15], (char *)NULL);
}
#define REMOTE(...) remote_in(tls, tls, (char *[]){__VA_ARGS__, NULL})

static bool file_has(const char *path, const char *text)
{
    char *t = read_file(path);
    bool has = t && strstr(t, text);
    free(t);
    return has;
}

struct file_wait {
    const char *path, *text;
};
static bool file_has_cb(void *arg)
{
    struct file_wait *w = arg;
    return file_has(w->path, w->text);
}

Test(remote, status_lock_and_follow_over_mutual_tls, .init = setup, .fini = teardown,
     .timeout = 90)
{
    struct oj_out o = REMOTE("status");
    cr_assert_eq(o.code, 0, "remote status: %s", o.err);
    cr_expect(strstr(o.out, "daemon running") != NULL, "%s", o.out);
    oj_out_free(&o);

    o = REMOTE("lock", "acquire", "x", "--holder", "me");
    cr_assert_eq(o.code, 0, "remote lock acquire: %s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "lock", "status", "x"); /* locally: the daemon really holds it for "me" */
    cr_expect(strstr(o.out, "holder:     me") != NULL, "%s", o.out);
    oj_out_free(&o);

    /* --follow through the remote events socket: the follower runs in the
     * client directory, where no local socket can be found. */
    char id[32];
    cr_assert_eq(env_start_agent(&e, "far", id, sizeof id), 0);
    char out[PATH_MAX], cert[PATH_MAX + 16], key[PATH_MAX + 16], ca[PATH_MAX + 16];
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    snprintf(cert, sizeof cert, "%s/client.crt", tls);
    snprintf(key, sizeof key, "%s/client.key", tls);
    snprintf(ca, sizeof ca, "%s/ca.crt", tls);
    char *argv[] = {e.oj, "--remote", url, "--cert", cert, "--key", key, "--ca", ca,
                    "session", "capture", id, "--follow", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, client_dir);
    pid_t f;
    cr_assert_eq(posix_spawn(&f, e.oj, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    struct file_wait ready = {out, "fake agent ready"};
    cr_assert(wait_until(file_has_cb, &ready, 15000), "the remote follower never showed the screen");

    o = REMOTE("session", "send", "far", "hello over tls");
    cr_assert_eq(o.code, 0, "remote session send: %s", o.err);
    oj_out_free(&o);
    struct file_wait got = {out, "got: hello over tls"};
    cr_assert(wait_until(file_has_cb, &got, 15000), "the agent's answer never reached the "
                                                      "remote follower");
    o = REMOTE("session", "send", "far", "exit 0");
    oj_out_free(&o);
    cr_expect_eq(child_wait_exit(f, 15000), 0, "the remote follower ends with the session");
}

/* The daemon lets in no client without a certificate of its CA, and does
 * nothing for it; the CLI refuses a daemon whose certificate is of another CA. */
Test(remote, refused_without_a_certificate_or_with_another_cas, .init = setup,
     .fini = teardown, .timeout = 90)
{
    struct oj_out o = remote_init(other);
    cr_assert_eq(o.code, 0, "second oj remote init: %s", o.err);
    oj_out_free(&o);

    char *take[] = {"lock", "acquire", "y", "--holder", "intruder", NULL};
    o = remote_in(NULL, tls, take); /* no client certificate */
    cr_expect_eq(o.code, 9, "no certificate: exit %d: %s", o.code, o.err);
    cr_expect(strstr(o.err, "TLS handshake") && strstr(o.err, "give --cert and --key"), "%s",
              o.err);
    oj_out_free(&o);

    o = remote_in(other, tls, take); /* a certificate of another CA */
    cr_expect_eq(o.code, 9, "another CA's certificate: exit %d: %s", o.code, o.err);
    cr_expect(strstr(o.err, "TLS handshake") && strstr(o.err, "refused this client's certificate"),
              "%s", o.err);
    oj_out_free(&o);

    o = remote_in(tls, other, take); /* the daemon's certificate is not of the CA trusted */
    cr_expect_eq(o.code, 9, "daemon of another CA: exit %d: %s", o.code, o.err);
    oj_out_free(&o);

    o = OJ(&e, "lock", "status", "y");
    cr_expect(strstr(o.out, "y: free") != NULL, "a refused client took the lock: %s", o.out);
    oj_out_free(&o);
    o = REMOTE("status"); /* and the daemon still serves the right client */
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* A daemon whose certificate is of the right CA but does not name the host
 * dialed is refused by the client: a stolen server certificate of the same
 * CA cannot stand in for another machine. */
Test(remote, a_daemon_certificate_for_another_host_is_refused, .timeout = 60)
{
    env_setup(&e, true);
    snprintf(tls, sizeof tls, "%s/tls", e.dir);
    struct oj_out o = remote_init_for(tls, "not-this-host.example");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    snprintf(client_dir, sizeof client_dir, "/tmp/ojc.XXXXXX");
    cr_assert_not_null(mkdtemp(client_dir));
    start_remote_daemon();
    o = REMOTE("lock", "acquire", "z", "--holder", "me");
    cr_expect_eq(o.code, 9, "exit %d: %s", o.code, o.err);
    cr_expect(strstr(o.err, "does not name the host dialed") != NULL, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "lock", "status", "z");
    cr_expect(strstr(o.out, "z: free") != NULL, "%s", o.out);
    oj_out_free(&o);
    teardown();
}

/* Commands that work on this machine's files do not act on some local
 * project when told --remote; the daemon is untouched. */
Test(remote, local_only_commands_refuse_with_remote, .init = setup, .fini = teardown)
{
    const char *cmds[][3] = {{"daemon", "stop", NULL}, {"attach", "x", NULL}, {"init", NULL}};
    pid_t pid = env_daemon_pid(&e);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *args[] = {(char *)cmds[i][0], (char *)cmds[i][1], NULL};
        struct oj_out o = remote_in(tls, tls, args);
        cr_expect_eq(o.code, 2, "oj %s: exit %d", cmds[i][0], o.code);
        cr_expect(strstr(o.err, "cannot run with --remote") != NULL, "%s", o.err);
        oj_out_free(&o);
    }
    cr_expect_eq(env_daemon_pid(&e), pid, "the daemon still runs");

    /* and a certificate without --remote is a mistake, not silently unused */
    struct oj_out o = OJ(&e, "--cert", "client.crt", "status");
    cr_expect_eq(o.code, 2, "exit %d", o.code);
    cr_expect(strstr(o.err, "go with --remote") != NULL, "%s", o.err);
    oj_out_free(&o);
}

/* A remote URL without the three files, or with a file that cannot be
 * read, refuses the start and says which. */
Test(remote, daemon_refuses_a_half_done_configuration, .timeout = 60)
{
    env_setup(&e, true);
    char listen[] = "OJ_REMOTE_LISTEN=tls+tcp://127.0.0.1:7", cert[PATH_MAX + 16],
         key[PATH_MAX + 16], ca[] = "OJ_TLS_CA=/nonexistent/ca.crt";
    snprintf(tls, sizeof tls, "%s/tls", e.dir);
    struct oj_out o = remote_init(tls);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    snprintf(cert, sizeof cert, "OJ_TLS_CERT=%s/server.crt", tls);
    snprintf(key, sizeof key, "OJ_TLS_KEY=%s/server.key", tls);

    char *half[] = {listen, cert, key, NULL};
    o = oj_run_in(&e, NULL, half, "daemon", "start", (char *)NULL);
    cr_expect_neq(o.code, 0);
    cr_expect(strstr(o.err, "OJ_REMOTE_LISTEN needs") && strstr(o.err, "missing: OJ_TLS_CA"), "%s",
              o.err);
    oj_out_free(&o);

    char *unreadable[] = {listen, cert, key, ca, NULL};
    o = oj_run_in(&e, NULL, unreadable, "daemon", "start", (char *)NULL);
    cr_expect_neq(o.code, 0);
    cr_expect(strstr(o.err, "tls_ca /nonexistent/ca.crt: cannot read it") != NULL, "%s", o.err);
    oj_out_free(&o);
    cr_expect_eq(env_daemon_pid(&e), 0, "no daemon runs");

    char *plain[] = {"OJ_REMOTE_LISTEN=tcp://127.0.0.1:7", cert, key, NULL};
    o = oj_run_in(&e, NULL, plain, "daemon", "start", (char *)NULL);
    cr_expect_neq(o.code, 0);
    cr_expect(strstr(o.err, "only TLS") != NULL, "%s", o.err);
    oj_out_free(&o);
    cr_expect(env_teardown(&e));
}

/* Files 0600, nothing overwritten. */
Test(remote, init_makes_private_files_and_never_overwrites)
{
    env_setup(&e, false);
    snprintf(tls, sizeof tls, "%s/tls", e.dir);
    struct oj_out o = remote_init(tls);
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "remote_listen") != NULL, "prints the settings to use: %s", o.out);
    oj_out_free(&o);
    const char *files[] = {"ca.crt", "ca.key", "server.crt", "server.key", "client.crt",
                           "client.key"};
    for (size_t i = 0; i < 6; i++) {
        char p[PATH_MAX + 16];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", tls, files[i]);
        cr_assert_eq(stat(p, &st), 0, "%s missing", p);
        cr_expect_eq(st.st_mode & 0777, 0600, "%s is %o", p, st.st_mode & 0777);
    }
    char before[PATH_MAX + 16];
    snprintf(before, sizeof before, "%s/ca.key", tls);
    char *key = read_file(before);
    o = remote_init(tls);
    cr_expect_eq(o.code, 5, "a second init into the same directory: exit %d", o.code);
    cr_expect(strstr(o.err, "never overwrites") != NULL, "%s", o.err);
    oj_out_free(&o);
    char *after = read_file(before);
    cr_expect(key && after && strcmp(key, after) == 0, "the CA key was replaced");
    free(key);
    free(after);
    /* a directory others can write to (where ca.crt could be swapped later) is refused */
    char open_dir[PATH_MAX + 16];
    snprintf(open_dir, sizeof open_dir, "%s/shared", e.dir);
    cr_assert_eq(mkdir(open_dir, 0700), 0);
    cr_assert_eq(chmod(open_dir, 0777), 0);
    o = remote_init(open_dir);
    cr_expect_eq(o.code, 5, "a world-writable directory: exit %d: %s", o.code, o.err);
    cr_expect(strstr(o.err, "no one else can write to") != NULL, "%s", o.err);
    oj_out_free(&o);
    char made_key[PATH_MAX + 40];
    snprintf(made_key, sizeof made_key, "%s/ca.key", open_dir);
    cr_expect_neq(access(made_key, F_OK), 0, "nothing was made there");
    cr_expect(env_teardown(&e));
}
