/* cli_support.c — see cli.h. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"
#include "version_skew.h"
#include "duration.h"
#include "pb_json.h"
#include "pidlock.h"
#include "remote.h"

void oj_errorf(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "oj: %s\n", oj_esc(msg));
}

/* The "no project here" error: for a git repository of its own nested in a
 * project's tree, names that project and the -C that reaches it. */
static void no_project(const char *start, const char *repo)
{
    char abs[PATH_MAX], outer[PATH_MAX], parent[PATH_MAX + 4];
    if (repo == NULL) {
        if (realpath(start, abs) == NULL)
            snprintf(abs, sizeof abs, "%s", start);
        oj_errorf("no oj project at %s or above it (no .oj/ directory); start one with `oj init` "
                  "or `oj daemon start`",
                  abs);
        return;
    }
    snprintf(parent, sizeof parent, "%s/..", repo);
    if (strcmp(repo, "/") != 0 && oj_find_project(parent, outer, sizeof outer) == 0)
        oj_errorf("no oj project in the git repository %s (a nested repository is a project of "
                  "its own, not part of %s); start one with `oj init` or `oj daemon start`, or "
                  "use `oj -C %s ...` for the outer one",
                  repo, outer, outer);
    else
        oj_errorf("no oj project in the git repository %s (no .oj/ directory); start one with "
                  "`oj init` or `oj daemon start`",
                  repo);
}

/* "oj lock acquire", for messages. */
static const char *cmd_name(const struct oj_ctx *ctx, char *buf, size_t len)
{
    if (ctx->cmd == NULL)
        snprintf(buf, len, "this command");
    else
        snprintf(buf, len, "oj %s%s%s", ctx->cmd->group ? ctx->cmd->group : "",
                 ctx->cmd->group ? " " : "", ctx->cmd->name);
    return buf;
}

int oj_ctx_refuse_remote(const struct oj_ctx *ctx)
{
    char name[64];
    oj_errorf("`%s` works on the project's files on this machine and cannot run with --remote "
              "(OJ_REMOTE); run it on the daemon's machine, or without --remote",
              cmd_name(ctx, name, sizeof name));
    return OJ_EXIT_USAGE;
}

int oj_ctx_project(struct oj_ctx *ctx)
{
    if (ctx->have_paths)
        return 0;
    if (ctx->remote)
        return oj_ctx_refuse_remote(ctx);
    /* Inside a session the daemon sets OJ_PROJECT, so `oj done` finds its
     * daemon from any working directory. */
    const char *env = getenv("OJ_PROJECT");
    const char *start = ctx->dir ? ctx->dir : env && *env ? env : ".";
    char root[PATH_MAX];
    int found = oj_find_root(start, root, sizeof root);
    if (found != 1) {
        no_project(start, found == 0 ? root : NULL);
        return OJ_EXIT_DAEMON_DOWN;
    }
    if (oj_paths_init(&ctx->paths, root) != 0) {
        oj_errorf("project path %s is too long for a socket; set XDG_RUNTIME_DIR to a short "
                  "directory",
                  root);
        return OJ_EXIT_FAILURE;
    }
    ctx->have_paths = true;
    return 0;
}

int oj_ctx_new_root(const struct oj_ctx *ctx, char *root, size_t len)
{
    const char *start = ctx->dir ? ctx->dir : ".";
    if (oj_find_root(start, root, len) >= 0)
        return 0;
    char abs[PATH_MAX];
    if (realpath(start, abs) == NULL) {
        oj_errorf("cannot use directory %s: %s", start, strerror(errno));
        return OJ_EXIT_USAGE;
    }
    if (strlen(abs) >= len) {
        oj_errorf("directory %s is too long a path", abs);
        return OJ_EXIT_FAILURE;
    }
    memcpy(root, abs, strlen(abs) + 1);
    return 0;
}

int oj_env_duration(const char *var, int64_t lo, int64_t hi, const char *range, int64_t *ms)
{
    const char *t = getenv(var);
    if (t == NULL || *t == '\0')
        return 0;
    int64_t v;
    int rc = oj_duration_parse(t, &v);
    if (rc == OJ_DURATION_NO_UNIT) {
        oj_errorf("%s needs a unit: %ss or %sm (got '%s'; a bare number other than 0 is "
                  "refused)",
                  var, t, t, t);
        return OJ_EXIT_USAGE;
    }
    if (rc != 0 || v < lo || v > hi) {
        oj_errorf("%s must be a duration %s, like 30s or 2m (got '%s')", var, range, t);
        return OJ_EXIT_USAGE;
    }
    *ms = v;
    return 0;
}

enum oj_reach oj_reach_classify(pid_t holder, int holder_errno, bool dial_denied)
{
    if (dial_denied || (holder < 0 && (holder_errno == EACCES || holder_errno == EPERM)))
        return OJ_REACH_DENIED;
    return holder > 0 ? OJ_REACH_NOT_ACCEPTING : OJ_REACH_DOWN;
}

int oj_permission_denied(const struct oj_ctx *ctx, const char *doing)
{
    struct stat st;
    char owner[64] = "another user";
    if (stat(ctx->paths.state_dir, &st) == 0) {
        const struct passwd *pw = getpwuid(st.st_uid);
        if (pw)
            snprintf(owner, sizeof owner, "%s (uid %d)", pw->pw_name, (int)st.st_uid);
        else
            snprintf(owner, sizeof owner, "uid %d", (int)st.st_uid);
    }
    oj_errorf("permission denied: cannot %s: %s belongs to %s and only its owner can reach its "
              "daemon; run oj as that user",
              doing, ctx->paths.state_dir, owner);
    return OJ_EXIT_PERMISSION;
}

/* After the first reply of a connection: a daemon of another oj version is
 * said once (per pair of versions, remembered in .oj/version-note) on
 * stderr, never in the way of stdout. */
static void version_check(struct oj_client *c, void *arg)
{
    struct oj_ctx *ctx = arg;
    char note[300];
    if (!oj_version_note(OJ_VERSION, oj_client_daemon_version(c), note, sizeof note))
        return;
    if (ctx->remote) { /* no .oj/ here to remember it in: said each time */
        oj_errorf("%s", note);
        return;
    }
    char path[PATH_MAX + 32], pair[80], seen[80] = "";
    snprintf(path, sizeof path, "%s/version-note", ctx->paths.state_dir);
    snprintf(pair, sizeof pair, "%s %s\n", oj_client_daemon_version(c), OJ_VERSION);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(seen, sizeof seen, f) == NULL)
            seen[0] = '\0';
        fclose(f);
    }
    if (strcmp(seen, pair) == 0)
        return;
    oj_errorf("%s", note);
    if ((f = fopen(path, "w")) != NULL) {
        fputs(pair, f);
        fclose(f);
    }
}

/* The client TLS configuration for --remote, made once. */
static int remote_tls(struct oj_ctx *ctx)
{
    if (ctx->tls)
        return 0;
    char host[256], err[1200];
    int port;
    if (oj_remote_url_parse(ctx->remote, host, sizeof host, &port, err, sizeof err) != 0) {
        oj_errorf("--remote %s", err);
        return OJ_EXIT_USAGE;
    }
    if (!ctx->ca || !ctx->cert != !ctx->key) {
        oj_errorf("--remote needs --ca and, for a daemon to let this client in, --cert and --key "
                  "(or OJ_CA, OJ_CERT, OJ_KEY): the CA that signed the daemon's certificate, this "
                  "client's certificate and its key; `oj remote init` makes them");
        return OJ_EXIT_USAGE;
    }
    /* The daemon's certificate must name the host dialed (a bracketed IPv6
     * address is named without its brackets). */
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    static const char *const names[3] = {"--cert", "--key", "--ca"};
    if (oj_remote_tls_config(&ctx->tls, false, ctx->cert, ctx->key, ctx->ca, host, names, err,
                             sizeof err) != 0) {
        oj_errorf("%s", err);
        return OJ_EXIT_USAGE;
    }
    return 0;
}

/* Why dialing a remote daemon failed, in one line; its exit code. */
static int remote_failed(const struct oj_ctx *ctx, const char *what, int rv)
{
    bool tls_failed = rv == NNG_ECRYPTO || rv == NNG_ECONNSHUT || rv == NNG_EPEERAUTH ||
                      rv == NNG_ECLOSED || rv == NNG_ECONNRESET;
    if (tls_failed && ctx->cert == NULL) {
        oj_errorf("the TLS handshake with %s failed (%s): the daemon lets in only clients with a "
                  "certificate signed by its CA; give --cert and --key", what, nng_strerror(rv));
        return OJ_EXIT_PERMISSION;
    }
    if (tls_failed) {
        oj_errorf("the TLS handshake with %s failed (%s): the daemon refused this client's "
                  "certificate %s (not signed by its tls_ca), or the daemon's certificate is not "
                  "signed by --ca %s or does not name the host dialed",
                  what, nng_strerror(rv), ctx->cert, ctx->ca);
        return OJ_EXIT_PERMISSION;
    }
    oj_errorf("cannot reach the daemon at %s: %s; is it running with remote_listen set to "
              "this address?", what, nng_strerror(rv));
    return OJ_EXIT_DAEMON_DOWN;
}

int oj_ctx_events_dial(struct oj_ctx *ctx, nng_socket sock, char *where, size_t wlen)
{
    char url[PATH_MAX + 8];
    if (ctx->remote) {
        if (remote_tls(ctx) != 0 || oj_remote_events_url(ctx->remote, url, sizeof url) != 0)
            return NNG_EINVAL;
        snprintf(where, wlen, "%s", url);
    } else {
        snprintf(url, sizeof url, "ipc://%s", ctx->paths.events_sock_path);
        snprintf(where, wlen, "%s", ctx->paths.events_sock_path);
    }
    nng_dialer d;
    int rv = nng_dialer_create(&d, sock, url);
    if (rv == 0 && ctx->tls)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, ctx->tls);
    if (rv == 0)
        rv = nng_dialer_start(d, 0);
    return rv;
}

void oj_ctx_release(struct oj_ctx *ctx)
{
    if (ctx->tls)
        nng_tls_config_free(ctx->tls);
    ctx->tls = NULL;
}

int oj_ctx_connect(struct oj_ctx *ctx, struct oj_client **out)
{
    if (ctx->remote) {
        int64_t timeout = OJ_DEFAULT_CALL_TIMEOUT_MS;
        int rc = oj_env_duration("OJ_TIMEOUT", 1, 86400000, "from 1ms to 1d", &timeout);
        if (rc == 0)
            rc = remote_tls(ctx);
        if (rc != 0)
            return rc;
        int rv = oj_client_open_url(out, ctx->remote, ctx->tls, (int)timeout);
        if (rv != 0)
            return remote_failed(ctx, ctx->remote, rv);
        oj_client_on_first_reply(*out, version_check, ctx);
        return 0;
    }
    int rc = oj_ctx_project(ctx);
    if (rc != 0)
        return rc;
    int64_t timeout = OJ_DEFAULT_CALL_TIMEOUT_MS;
    rc = oj_env_duration("OJ_TIMEOUT", 1, 86400000, "from 1ms to 1d", &timeout);
    if (rc != 0)
        return rc;
    int rv = oj_client_open(out, ctx->paths.sock_path, (int)timeout);
    if (rv == 0) {
        oj_client_on_first_reply(*out, version_check, ctx);
        return 0;
    }
    pid_t holder = oj_pidlock_holder(ctx->paths.pid_path);
    int holder_errno = errno;
    switch (oj_reach_classify(holder, holder_errno, rv == NNG_EPERM)) {
    case OJ_REACH_DENIED:
        return oj_permission_denied(ctx, "reach the daemon");
    case OJ_REACH_NOT_ACCEPTING:
        oj_errorf("daemon (pid %d) is running but not accepting connections on %s; see %s",
                  (int)holder, ctx->paths.sock_path, ctx->paths.log_path);
        return OJ_EXIT_FAILURE;
    case OJ_REACH_DOWN:
        break;
    }
    oj_errorf("daemon is not running in %s; start it with `oj daemon start`", ctx->paths.root);
    return OJ_EXIT_DAEMON_DOWN;
}

int oj_exit_for_status(int status)
{
    switch (status) {
    case OJ__STATUS_CODE__OK:
        return OJ_EXIT_OK;
    case OJ__STATUS_CODE__INVALID_ARGUMENT:
        return OJ_EXIT_USAGE;
    case OJ__STATUS_CODE__NOT_FOUND:
        return OJ_EXIT_NOT_FOUND;
    case OJ__STATUS_CODE__CONFLICT:
        return OJ_EXIT_CONFLICT;
    case OJ__STATUS_CODE__NOT_IMPLEMENTED:
    case OJ__STATUS_CODE__UNKNOWN_METHOD: /* an older daemon: restart it */
        return OJ_EXIT_NOT_IMPLEMENTED;
    case OJ__STATUS_CODE__TIMEOUT:
    case OJ_RPC_NO_ANSWER:
        return OJ_EXIT_TIMEOUT;
    case OJ__STATUS_CODE__SHUTTING_DOWN:
        return OJ_EXIT_SHUTTING_DOWN;
    case OJ_RPC_UNREACHABLE:
        return OJ_EXIT_DAEMON_DOWN;
    default:
        return OJ_EXIT_FAILURE;
    }
}

int oj_call_failed(struct oj_client *c)
{
    int st = oj_client_status(c);
    const char *msg = oj_client_message(c);
    if (st == OJ_RPC_NO_ANSWER)
        oj_errorf("%s; check `oj status` and .oj/logs/daemon.log, or raise OJ_TIMEOUT", msg);
    else if (st == OJ_RPC_UNREACHABLE)
        oj_errorf("%s; is the daemon still running? (`oj status`)", msg);
    else if (st == OJ__STATUS_CODE__NOT_IMPLEMENTED)
        oj_errorf("%s; this command arrives in a later version", msg);
    else if (st == OJ__STATUS_CODE__UNKNOWN_METHOD) {
        char line[700];
        oj_unknown_method_error(msg, OJ_VERSION, oj_client_daemon_version(c), line, sizeof line);
        oj_errorf("%s", line);
    }
    else
        oj_errorf("%s", msg[0] ? msg : oj_status_name(st));
    return oj_exit_for_status(st);
}

void oj_print_json(const ProtobufCMessage *m)
{
    cJSON *j = oj_pb_to_json(m);
    char *s = cJSON_Print(j);
    if (s) {
        puts(s);
        free(s);
    }
    cJSON_Delete(j);
}

static void print_json_fields(const cJSON *obj, int indent)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (cJSON_IsObject(it)) {
            printf("%*s%s:\n", indent, "", oj_esc(it->string));
            print_json_fields(it, indent + 2);
        } else if (cJSON_IsArray(it)) {
            printf("%*s%s: %d item(s)\n", indent, "", oj_esc(it->string),
                   cJSON_GetArraySize(it));
            for (const cJSON *e = it->child; e; e = e->next) {
                if (cJSON_IsObject(e)) {
                    printf("%*s-\n", indent + 2, "");
                    print_json_fields(e, indent + 4);
                } else {
                    char *s = cJSON_PrintUnformatted(e);
                    printf("%*s- %s\n", indent + 2, "", s ? oj_esc(s) : "?");
                    free(s);
                }
            }
        } else if (cJSON_IsString(it)) {
            printf("%*s%s: %s\n", indent, "", oj_esc(it->string), oj_esc(it->valuestring));
        } else {
            char *s = cJSON_PrintUnformatted(it);
            printf("%*s%s: %s\n", indent, "", oj_esc(it->string), s ? oj_esc(s) : "?");
            free(s);
        }
    }
}

void oj_print_fields(const ProtobufCMessage *m)
{
    cJSON *j = oj_pb_to_json(m);
    print_json_fields(j, 0);
    cJSON_Delete(j);
}

int oj_print_reply(struct oj_client *c, const struct oj_args *a, void (*human)(const void *reply))
{
    if (oj_client_status(c) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    ProtobufCMessage *reply = oj_client_take_reply(c);
    if (oj_args_has(a, "json"))
        oj_print_json(reply);
    else
        human(reply);
    oj_client_free_reply(reply);
    return OJ_EXIT_OK;
}

static void print_fields_any(const void *reply) { oj_print_fields(reply); }

int oj_print_call(struct oj_client *c, const struct oj_args *a)
{
    return oj_print_reply(c, a, print_fields_any);
}

int oj_opt_duration(const struct oj_args *a, const char *name, long long *ms)
{
    const char *v = oj_args_get(a, name);
    if (v == NULL)
        return 0;
    int64_t out;
    int rc = oj_duration_parse(v, &out);
    if (rc == OJ_DURATION_NO_UNIT) {
        oj_errorf("--%s needs a unit: %ss, %sm, %sh or %sd (a bare number other than 0 is "
                  "refused)",
                  name, v, v, v, v);
        return -1;
    }
    if (rc != 0) {
        oj_errorf("--%s: '%s' is not a duration; use a number with s, m, h or d (e.g. 30s, 5m, "
                  "30d)",
                  name, v);
        return -1;
    }
    *ms = out;
    return 0;
}

void oj_fmt_bytes(unsigned long long n, char *buf, size_t len)
{
    if (n < 1024)
        snprintf(buf, len, "%llu B", n);
    else if (n < 1024ULL * 1024)
        snprintf(buf, len, "%.1f KiB", n / 1024.0);
    else if (n < 1024ULL * 1024 * 1024)
        snprintf(buf, len, "%.1f MiB", n / (1024.0 * 1024));
    else
        snprintf(buf, len, "%.2f GiB", n / (1024.0 * 1024 * 1024));
}

void oj_print_action(const void *reply)
{
    const Oj__ActionResponse *r = reply;
    printf("%s: %s\n", oj_esc(r->id), oj_esc(r->message));
}
