/* oj_main.c — the CLI's entry: global options, then one table lookup.
 *
 *   oj [-C DIR] <command> [args]           top-level commands (status, run, done, ...)
 *   oj [-C DIR] <group> <command> [args]   grouped commands (daemon start, lock list, ...)
 *
 * oj_main() returns the exit status instead of exiting, so tests can call it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: oj [-C DIR] <command> [args]\n\n"
               "oj runs coding agents unattended: a daemon owns pipelines, the tmux sessions\n"
               "agents run in, their git worktrees and shared locks. This tool talks to it.\n\n"
               "Commands:\n");
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
        if ((*c)->group == NULL)
            fprintf(f, "  %-28s %s\n", (*c)->name, (*c)->summary);
    fprintf(f, "\nGroups (oj <group> --help lists their commands):\n");
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        char cmds[128] = "";
        for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
            if ((*c)->group && strcmp((*c)->group, g->name) == 0) {
                if (cmds[0])
                    strncat(cmds, "|", sizeof cmds - strlen(cmds) - 1);
                strncat(cmds, (*c)->name, sizeof cmds - strlen(cmds) - 1);
            }
        }
        fprintf(f, "  %-11s %s\n  %-11s   %s\n", g->name, g->summary, "", cmds);
    }
    fprintf(f, "\nGlobal options:\n"
               "  -C DIR         run as if started in DIR\n"
               "  -h, --help     show this help\n"
               "  --version      print the version\n\n"
               "Exit status: 0 ok, 1 failed, 2 usage error, 3 daemon not running, 4 not found,\n"
               "5 conflict, 6 not implemented yet, 7 timed out, 8 daemon stopping,\n"
               "9 permission denied (the project's .oj/ belongs to another user);\n"
               "a pipeline waited for (pipeline wait, run --wait/--follow): 10 failed,\n"
               "11 cancelled, 12 escalated (a human is needed).\n"
               "See docs/cli.md for every command.\n");
}

static const struct oj_group *find_group(const char *name)
{
    for (const struct oj_group *g = oj_groups; g->name; g++)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

static void print_group_help(FILE *f, const struct oj_group *g)
{
    fprintf(f, "Usage: oj %s <command> [args]\n\n%s\n\nCommands:\n", g->name, g->summary);
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
        if ((*c)->group && strcmp((*c)->group, g->name) == 0) {
            char left[96];
            snprintf(left, sizeof left, "%s %s", (*c)->name, (*c)->usage);
            fprintf(f, "  %-44s %s\n", left, (*c)->summary);
        }
    fprintf(f, "\nSee `oj %s <command> --help` for details.\n", g->name);
}

static const struct oj_cmd *find_cmd(const char *group, const char *name)
{
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        bool same_group = group ? ((*c)->group && strcmp((*c)->group, group) == 0)
                                : (*c)->group == NULL;
        if (same_group && strcmp((*c)->name, name) == 0)
            return *c;
    }
    return NULL;
}

int oj_main(int argc, char **argv)
{
    struct oj_ctx ctx = {0};
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *o = argv[i];
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            print_usage(stdout);
            return OJ_EXIT_OK;
        }
        if (strcmp(o, "--version") == 0) {
            printf("oj %s\n", OJ_VERSION);
            return OJ_EXIT_OK;
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
        oj_errorf("unknown option '%s'; see `oj --help`", o);
        return OJ_EXIT_USAGE;
    }
    if (i >= argc) {
        print_usage(stderr);
        return OJ_EXIT_USAGE;
    }

    const char *word = argv[i++];
    const struct oj_cmd *cmd = NULL;
    const struct oj_group *g = find_group(word);
    if (g) {
        if (i >= argc) {
            oj_errorf("'oj %s' needs a command; see `oj %s --help`", word, word);
            return OJ_EXIT_USAGE;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_group_help(stdout, g);
            return OJ_EXIT_OK;
        }
        cmd = find_cmd(word, argv[i]);
        if (cmd == NULL) {
            oj_errorf("unknown command 'oj %s %s'; see `oj %s --help`", word, argv[i], word);
            return OJ_EXIT_USAGE;
        }
        i++;
    } else {
        cmd = find_cmd(NULL, word);
        if (cmd == NULL) {
            oj_errorf("unknown command '%s'; see `oj --help`", word);
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
    return cmd->exec(&ctx, &args);
}
