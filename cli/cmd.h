/* cmd.h — the CLI's command table, in the manner of tmux's cmd_entry: every
 * command is one `const struct oj_cmd` (name, usage, options, arity, exec)
 * defined in the file of its group (cmd_daemon.c, cmd_lock.c, ...) and listed
 * once in cmd_table.c. Adding a command is one struct and one table row;
 * parsing, --help and usage errors come from the table. */
#ifndef OJ_CMD_H
#define OJ_CMD_H
#include <limits.h>
#include <stdbool.h>

#include "paths.h"

#define OJ_MAX_OPTS 16
#define OJ_MAX_NAMED 32

struct oj_opt {
    const char *name;       /* long name without "--" */
    bool takes_value;
    const char *value_name; /* for help: "DUR", "N", ... */
    const char *help;
};

struct oj_args {
    const struct oj_cmd *cmd;
    int npos;
    char **pos;                      /* positional arguments (and everything after "--") */
    const char *value[OJ_MAX_OPTS];  /* by option index */
    bool set[OJ_MAX_OPTS];
    /* `--<name> <value>` pairs for a command whose option table has the
     * wildcard entry {"*", ...} (oj run: inputs by name) */
    int nnamed;
    const char *named[OJ_MAX_NAMED][2];
    bool quiet; /* -q/--quiet: stdout goes nowhere (oj_main) */
    /* every value given to an option, in order, with the option's index: an
     * option given again keeps its last value in value[], all of them here
     * (oj_args_all: a repeatable option such as `oj events --kind`) */
    int nrepeat;
    int repeat_opt[OJ_MAX_NAMED];
    const char *repeat_value[OJ_MAX_NAMED];
};

struct nng_tls_config;
struct oj_ctx {
    const char *dir;  /* -C DIR, or NULL for the current directory */
    struct oj_paths paths;
    bool have_paths;
    const struct oj_cmd *cmd; /* the command being run */
    /* --remote tls+tcp://HOST:PORT (or OJ_REMOTE): the daemon is reached over
     * TLS with --cert, --key and --ca (remote.h), and no local project is used */
    const char *remote, *cert, *key, *ca;
    struct nng_tls_config *tls; /* made at the first connection; oj_ctx_release frees it */
};

struct oj_cmd {
    const char *group;   /* "daemon", "lock", ...; NULL for top-level commands */
    const char *name;    /* "start", "status", ... */
    const char *usage;   /* arguments after the command name */
    const char *summary; /* one line for listings */
    const char *help;    /* longer text for `--help` (may be NULL) */
    const struct oj_opt *opts; /* terminated by {0}; --help is implicit */
    int min_pos, max_pos;      /* max_pos -1 = unlimited */
    int (*exec)(struct oj_ctx *ctx, const struct oj_args *a);
};

/* cmd_table.c */
extern const struct oj_cmd *const oj_cmd_table[];
struct oj_group {
    const char *name;
    const char *summary;
};
extern const struct oj_group oj_groups[];

/* args.c */
int oj_args_parse(const struct oj_cmd *cmd, int argc, char **argv, struct oj_args *out,
                  char *err, size_t errlen);
bool oj_args_has(const struct oj_args *a, const char *name);
const char *oj_args_get(const struct oj_args *a, const char *name);
/* Every value given to the repeatable option name, in order, into out (at
 * most max); the count. */
int oj_args_all(const struct oj_args *a, const char *name, const char **out, int max);
void oj_cmd_print_help(const struct oj_cmd *cmd);
/* The short flag (-f, -n, -v, -q, -j) of option k of cmd, or 0. */
char oj_opt_short(const struct oj_cmd *cmd, int k);

/* Option sets shared by many commands. */
#define OJ_OPT_JSON {"json", false, NULL, "print the reply as JSON (fields as in proto/oj.proto)"}
#endif
