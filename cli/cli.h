/* cli.h — what every command file uses: finding the project, reaching the
 * daemon, turning a failed call into one error line and an exit code, and
 * printing replies (human or --json). */
#ifndef OJ_CLI_H
#define OJ_CLI_H
#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cmd.h"
#include "escape.h"
#include "exit_codes.h"
#include "rpc_client.h"

/* Default bound on one request; OJ_TIMEOUT (a duration) overrides it. */
#define OJ_DEFAULT_CALL_TIMEOUT_MS 30000

int oj_main(int argc, char **argv);

/* "oj: <message>" on stderr, one line: control characters in the message
 * (user text echoed by it) are escaped (escape.h). */
void oj_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Finds the project (oj_find_root from -C DIR, else $OJ_PROJECT, else the
 * current directory: the nearest .oj/ or git repository, which must hold
 * .oj/) and fills ctx->paths. Prints the error and returns an exit code on
 * failure. */
int oj_ctx_project(struct oj_ctx *ctx);

/* Where a new project goes (`oj daemon start`, `oj init`): the nearest
 * directory holding .oj/ or .git from -C DIR or the current directory (as
 * oj_find_root), else that directory itself. 0, or prints why and returns
 * an exit code. */
int oj_ctx_new_root(const struct oj_ctx *ctx, char *root, size_t len);

/* oj_ctx_project() and a connection to its daemon. On failure prints why
 * ("not running", "not answering", "permission denied") and returns
 * OJ_EXIT_DAEMON_DOWN, OJ_EXIT_FAILURE or OJ_EXIT_PERMISSION. */
int oj_ctx_connect(struct oj_ctx *ctx, struct oj_client **out);
/* With --remote (ctx->remote), oj_ctx_connect dials the daemon's request socket
 * over TLS instead: no local project is looked for. A refused certificate
 * (either way) is OJ_EXIT_PERMISSION, an unreachable daemon OJ_EXIT_DAEMON_DOWN,
 * a missing or bad --cert/--key/--ca OJ_EXIT_USAGE. */

/* Dials `sock` (a SUB socket) to the daemon's events socket: the local
 * events.sock, or with --remote the remote one (remote.h). Writes what was
 * dialed into `where` for messages; nng's result. */
int oj_ctx_events_dial(struct oj_ctx *ctx, nng_socket sock, char *where, size_t wlen);

/* Prints that the command needs the project's files here and cannot run with
 * --remote; OJ_EXIT_USAGE. oj_ctx_project() says it for every command that
 * looks for the local project. */
int oj_ctx_refuse_remote(const struct oj_ctx *ctx);

/* Frees what the context made (the TLS configuration). */
void oj_ctx_release(struct oj_ctx *ctx);

/* Why the daemon cannot be reached, from what the caller saw: the holder of
 * .oj/daemon.pid (oj_pidlock_holder: > 0 a pid, 0 none, -1 could not tell,
 * with holder_errno) and whether dialing its socket was refused for lack of
 * permission. Pure. */
enum oj_reach { OJ_REACH_DOWN, OJ_REACH_NOT_ACCEPTING, OJ_REACH_DENIED };
enum oj_reach oj_reach_classify(pid_t holder, int holder_errno, bool dial_denied);

/* Prints "permission denied: ..." naming the owner of the project's .oj/
 * and returns OJ_EXIT_PERMISSION. */
int oj_permission_denied(const struct oj_ctx *ctx, const char *doing);

/* Prints the failure of the last call on `c` and returns its exit code. */
int oj_call_failed(struct oj_client *c);

/* Exit code for a StatusCode / transport code. */
int oj_exit_for_status(int status);

/* Prints `m` as JSON (one object, pretty) on stdout. */
void oj_print_json(const ProtobufCMessage *m);
/* Prints `m` as "field: value" lines: the generic human form. */
void oj_print_fields(const ProtobufCMessage *m);

/* For commands with no custom output: checks the last call's status, prints
 * its reply as JSON (--json) or fields, frees it, returns the exit code. */
int oj_print_call(struct oj_client *c, const struct oj_args *a);
/* The human form of an ActionResponse: "<id>: <message>". */
void oj_print_action(const void *reply);
/* The same with a command's own human form for the reply. */
int oj_print_reply(struct oj_client *c, const struct oj_args *a, void (*human)(const void *reply));

/* Parses a duration option (see duration.h); prints a usage error and
 * returns -1 when malformed. Leaves *ms untouched when the option is unset. */
int oj_opt_duration(const struct oj_args *a, const char *name, long long *ms);

/* Reads a duration from environment variable `var` into *ms (untouched when
 * unset or empty). A bare number, a malformed value or one outside lo..hi
 * (`range` says so in words) prints a one-line error naming the variable and
 * returns OJ_EXIT_USAGE; 0 otherwise. */
int oj_env_duration(const char *var, int64_t lo, int64_t hi, const char *range, int64_t *ms);

/* Connects, runs `body`, closes: the shape every command here shares. */
#define WITH_CLIENT(ctx, c, body)                                                                 \
    do {                                                                                          \
        struct oj_client *c;                                                                      \
        int rc_ = oj_ctx_connect((ctx), &c);                                                      \
        if (rc_ != 0)                                                                             \
            return rc_;                                                                           \
        rc_ = (body);                                                                             \
        oj_client_close(c);                                                                       \
        return rc_;                                                                               \
    } while (0)

/* Connects, calls the generated stub `stub` with `req`, prints the reply
 * (oj_print_call) and returns from the calling function with the exit code. */
#define OJ_CALL_AND_PRINT(ctx, stub, req, a)                                                      \
    WITH_CLIENT(ctx, c_, (stub(oj_client_service(c_), (req), NULL, NULL), oj_print_call(c_, (a))))

/* The subjectAltName `oj remote init` gives the daemon's certificate for the
 * comma-separated `hosts`: "DNS:name" for a name, "IP:addr,DNS:addr" for an
 * address (nng's mbedTLS matches the dialed host against DNS names only).
 * 0, or -1 when a host is malformed or it does not fit. Pure. */
int oj_remote_san(const char *hosts, char *out, size_t len);

/* The commented runbook `oj init` writes (cmd_runbook.c). */
extern const char oj_starter_runbook[];

/* Human forms: "12.3 MiB", "5m 3s". */
void oj_fmt_bytes(unsigned long long n, char *buf, size_t len);
#endif
