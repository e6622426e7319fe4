/* oj_main.c — the CLI's entry: global options, then one table lookup.
 *
 *   oj [-C DIR] <command> [args]           top-level commands (status, run, done, ...)
 *   oj [-C DIR] <group> <command> [args]   grouped commands (daemon start, lock list, ...)
 *   oj --remote URL --cert F --key F --ca F <command> [args]   the same against a remote daemon
 *
 * oj_main() returns the exit status instead of exiting, so tests can call it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "help.h"
#include "term.h"
#include "version.h"

/* Commands that work on this machine's project files (or exec tmux here):
 * with --remote they refuse rather than act on whatever project is local. */
static bool local_only(const struct oj_cmd *c)
{
    static const char *const names[] = {"init", "daemon start", "daemon stop", "attach",
                                        "runbook list", "runbook check", "done", "checkpoint"};
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(name, names[k]) == 0)
            return true;
    return false;
}

/* --remote, --cert, --key, --ca: "--opt VALUE" or "--opt=VALUE". 1 when argv[*i]
 * is one (taken, *i past it), 0 when not, -1 on a missing value. */
static int remote_opt(struct oj_ctx *ctx, int argc, char **argv, int *i)
{
    static const char *const names[] = {"--remote", "--cert", "--key", "--ca"};
    const char **into[] = {&ctx->remote, &ctx->cert, &ctx->key, &ctx->ca};
    for (int k = 0; k < 4; k++) {
        size_t n = strlen(names[k]);
        const char *o = argv[*i];
        if (strncmp(o, names[k], n) != 0 || (o[n] != '\0' && o[n] != '='))
            continue;
        const char *v = o[n] == '=' ? o + n + 1 : *i + 1 < argc ? argv[++*i] : "";
        if (v[0] == '\0') {
            oj_errorf("%s needs a value (oj --remote tls+tcp://HOST:PORT --cert FILE --key FILE "
                      "--ca FILE <command>)", names[k]);
            return -1;
        }
        *into[k] = v;
        (*i)++;
        return 1;
    }
    return 0;
}

int oj_main(int argc, char **argv)
{
    struct oj_ctx ctx = {0};
    /* The environment first; options given beat it. */
    static const char *const vars[] = {"OJ_REMOTE", "OJ_CERT", "OJ_KEY", "OJ_CA"};
    const char **from_env[] = {&ctx.remote, &ctx.cert, &ctx.key, &ctx.ca};
    for (int k = 0; k < 4; k++) {
        const char *v = getenv(vars[k]);
        *from_env[k] = v && v[0] ? v : NULL;
    }
    int i = 1;
    bool given_tls = false;
    while (i < argc && argv[i][0] == '-') {
        const char *o = argv[i];
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            oj_help_usage(stdout);
            return OJ_EXIT_OK;
        }
        if (strcmp(o, "--version") == 0) {
            printf("oj %s (protocol %d)\n", OJ_VERSION, OJ_PROTOCOL_VERSION);
            return OJ_EXIT_OK;
        }
        if (strncmp(o, "--color", 7) == 0 && (o[7] == '\0' || o[7] == '=')) {
            const char *when = o[7] == '=' ? o + 8 : i + 1 < argc ? argv[++i] : "";
            int w = oj_color_parse(when);
            if (w < 0) {
                oj_errorf("--color takes auto, always or never, not '%s'", when);
                return OJ_EXIT_USAGE;
            }
            oj_color_set((enum oj_color_when)w);
            i++;
            continue;
        }
        const char *was_remote = ctx.remote;
        int r = remote_opt(&ctx, argc, argv, &i);
        if (r < 0)
            return OJ_EXIT_USAGE;
        if (r > 0) {
            given_tls |= ctx.remote == was_remote; /* --cert, --key or --ca */
            continue;
        }
        if (strcmp(o, "-C") == 0) {
            if (i + 1 >= argc) {
                oj_errorf("-C needs a directory (oj -C DIR <command>)");
                return OJ_EXIT_USAGE;
            }
            if (access(argv[i + 1], X_OK) != 0) {
                oj_errorf("-C %s: no such directory", argv[i + 1]);
                return OJ_EXIT_USAGE;
            }
            ctx.dir = argv[i + 1];
            i += 2;
            continue;
        }
        oj_errorf("unknown option '%s' (before the command only -C, --color, --remote, --cert, "
                  "--key, --ca, -h and --version); see `oj --help`",
                  o);
        return OJ_EXIT_USAGE;
    }
    if (i >= argc) {
        oj_help_usage(stderr);
        return OJ_EXIT_USAGE;
    }

    const char *word = argv[i++];
    const struct oj_cmd *cmd = NULL;
    const struct oj_group *g = oj_group_find(word);
    if (g) {
        if (i >= argc) {
            oj_errorf("'oj %s' needs a command; see `oj %s --help`", word, word);
            return OJ_EXIT_USAGE;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            oj_help_group(stdout, g);
            return OJ_EXIT_OK;
        }
        cmd = oj_cmd_find(word, argv[i]);
        if (cmd == NULL) {
            oj_errorf("unknown command 'oj %s %s'%s; see `oj %s --help`", word, argv[i],
                      oj_did_you_mean_command(word, argv[i]), word);
            return OJ_EXIT_USAGE;
        }
        i++;
    } else {
        cmd = oj_cmd_find(NULL, word);
        if (cmd == NULL) {
            oj_errorf("unknown command '%s'%s; see `oj --help`", word,
                      oj_did_you_mean_command(NULL, word));
            return OJ_EXIT_USAGE;
        }
    }

    struct oj_args args;
    char err[512];
    int rc = oj_args_parse(cmd, argc - i, argv + i, &args, err, sizeof err);
    if (rc > 0) {
        oj_cmd_print_help(cmd);
        return OJ_EXIT_OK;
    }
    if (rc < 0) {
        oj_errorf("%s", err);
        return OJ_EXIT_USAGE;
    }
    ctx.cmd = cmd;
    if (!ctx.remote && given_tls) {
        oj_errorf("--cert, --key and --ca go with --remote tls+tcp://HOST:PORT (or OJ_REMOTE)");
        return OJ_EXIT_USAGE;
    }
    if (ctx.remote && local_only(cmd))
        return oj_ctx_refuse_remote(&ctx);
    /* -q: a script that wants only the exit status (errors still on stderr) */
    if (args.quiet && freopen("/dev/null", "w", stdout) == NULL) {
        oj_errorf("cannot silence stdout: %s", strerror(errno));
        oj_ctx_release(&ctx);
        return OJ_EXIT_FAILURE;
    }
    rc = cmd->exec(&ctx, &args);
    oj_ctx_release(&ctx);
    return rc;
}
