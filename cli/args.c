/* args.c — option parsing driven by each command's option table. Accepts
 * `--name`, `--name value`, `--name=value`, options anywhere among the
 * positionals, and `--` to end options (everything after is positional).
 * The common options have the short forms of git's and tmux's habits
 * (-f, -n, -v, -q, -j), wherever a command has the long one. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "help.h"
#include "term.h"

/* Short flags: one letter for the long options many commands share. A
 * letter stands for the first of its long names the command has. */
static const struct {
    char letter;
    const char *name;
} shorts[] = {
    {'f', "follow"}, {'n', "tail"}, {'n', "lines"}, {'v', "verbose"},
    {'q', "quiet"},  {'j', "json"},
};

static int find_opt(const struct oj_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return i;
    return -1;
}

/* The option index the short flag `letter` stands for in cmd, or -1. */
static int find_short(const struct oj_cmd *cmd, char letter)
{
    for (size_t i = 0; i < sizeof shorts / sizeof *shorts; i++) {
        if (shorts[i].letter != letter)
            continue;
        int k = find_opt(cmd, shorts[i].name, strlen(shorts[i].name));
        if (k >= 0)
            return k;
    }
    return -1;
}

char oj_opt_short(const struct oj_cmd *cmd, int k)
{
    for (char c = 'a'; c <= 'z'; c++)
        if (find_short(cmd, c) == k)
            return c;
    return 0;
}

static void cmd_label(const struct oj_cmd *cmd, char *buf, size_t len)
{
    if (cmd->group)
        snprintf(buf, len, "oj %s %s", cmd->group, cmd->name);
    else
        snprintf(buf, len, "oj %s", cmd->name);
}

int oj_args_parse(const struct oj_cmd *cmd, int argc, char **argv, struct oj_args *out,
                  char *err, size_t errlen)
{
    char label[64];
    cmd_label(cmd, label, sizeof label);
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    out->pos = argv; /* positionals are compacted to the front of argv */
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (opts_done || arg[0] != '-' || arg[1] == '\0') {
            out->pos[out->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return 1; /* caller prints help */
        /* --color[=WHEN] is every command's, as --help is */
        if (strncmp(arg, "--color", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
            const char *when = arg[7] == '=' ? arg + 8 : i + 1 < argc ? argv[++i] : "";
            int w = oj_color_parse(when);
            if (w < 0) {
                snprintf(err, errlen, "--color takes auto, always or never, not '%s'", when);
                return -1;
            }
            oj_color_set((enum oj_color_when)w);
            continue;
        }
        /* -q/--quiet is every command's too (unless it has a --quiet of its own):
         * nothing on stdout, the exit status says how it went */
        if ((strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) &&
            find_opt(cmd, "quiet", 5) < 0) {
            out->quiet = true;
            continue;
        }
        if (arg[1] != '-') {
            /* -x, -xVALUE or -x VALUE for a short flag */
            int k = find_short(cmd, arg[1]);
            if (k < 0) {
                snprintf(err, errlen, "unknown option '%s' for '%s'; see `%s --help`", arg,
                         label, label);
                return -1;
            }
            const struct oj_opt *o = &cmd->opts[k];
            if (o->takes_value) {
                if (arg[2])
                    out->value[k] = arg + 2;
                else if (i + 1 < argc)
                    out->value[k] = argv[++i];
                else {
                    snprintf(err, errlen, "option '-%c' (--%s) of '%s' needs a value (%s)",
                             arg[1], o->name, label, o->value_name ? o->value_name : "VALUE");
                    return -1;
                }
            } else if (arg[2]) {
                snprintf(err, errlen, "option '-%c' (--%s) of '%s' takes no value; unexpected "
                                      "'%s'",
                         arg[1], o->name, label, arg);
                return -1;
            }
            out->set[k] = true;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_opt(cmd, name, nlen);
        if (k < 0 && nlen > 0 && find_opt(cmd, "*", 1) >= 0) {
            if (out->nnamed == OJ_MAX_NAMED) {
                snprintf(err, errlen, "too many --name value options for '%s' (at most %d)",
                         label, OJ_MAX_NAMED);
                return -1;
            }
            static char names[OJ_MAX_NAMED][128];
            snprintf(names[out->nnamed], sizeof names[0], "%.*s", (int)(nlen < 127 ? nlen : 127),
                     name);
            const char *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (val == NULL) {
                snprintf(err, errlen, "option '--%s' of '%s' needs a value", names[out->nnamed],
                         label);
                return -1;
            }
            out->named[out->nnamed][0] = names[out->nnamed];
            out->named[out->nnamed][1] = val;
            out->nnamed++;
            continue;
        }
        if (k < 0) {
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)(nlen < 63 ? nlen : 63), name);
            snprintf(err, errlen, "unknown option '--%s' for '%s'%s; see `%s --help`", word,
                     label, oj_did_you_mean_option(cmd, word), label);
            return -1;
        }
        const struct oj_opt *o = &cmd->opts[k];
        if (o->takes_value) {
            if (eq)
                out->value[k] = eq + 1;
            else if (i + 1 < argc)
                out->value[k] = argv[++i];
            else {
                snprintf(err, errlen, "option '--%s' of '%s' needs a value (%s)", o->name, label,
                         o->value_name ? o->value_name : "VALUE");
                return -1;
            }
        } else if (eq) {
            snprintf(err, errlen, "option '--%s' of '%s' takes no value", o->name, label);
            return -1;
        }
        if (o->takes_value) {
            if (out->nrepeat == OJ_MAX_NAMED) {
                snprintf(err, errlen, "'%s' takes at most %d options with values; '--%s' is one "
                                      "too many", label, OJ_MAX_NAMED, o->name);
                return -1;
            }
            out->repeat_opt[out->nrepeat] = k;
            out->repeat_value[out->nrepeat++] = out->value[k];
        }
        out->set[k] = true;
    }
    if (out->npos < cmd->min_pos) {
        snprintf(err, errlen, "'%s' needs %s; usage: %s %s", label,
                 cmd->min_pos == 1 ? "an argument" : "more arguments", label, cmd->usage);
        return -1;
    }
    if (cmd->max_pos >= 0 && out->npos > cmd->max_pos) {
        snprintf(err, errlen, "'%s' takes %s; unexpected '%s' (usage: %s %s)", label,
                 cmd->max_pos == 0 ? "no arguments" : "fewer arguments", out->pos[cmd->max_pos],
                 label, cmd->usage);
        return -1;
    }
    return 0;
}

bool oj_args_has(const struct oj_args *a, const char *name)
{
    int k = find_opt(a->cmd, name, strlen(name));
    return k >= 0 && a->set[k];
}

const char *oj_args_get(const struct oj_args *a, const char *name)
{
    int k = find_opt(a->cmd, name, strlen(name));
    return k >= 0 && a->set[k] ? a->value[k] : NULL;
}

int oj_args_all(const struct oj_args *a, const char *name, const char **out, int max)
{
    int k = find_opt(a->cmd, name, strlen(name)), n = 0;
    for (int i = 0; k >= 0 && i < a->nrepeat && n < max; i++)
        if (a->repeat_opt[i] == k)
            out[n++] = a->repeat_value[i];
    return n;
}

void oj_cmd_print_help(const struct oj_cmd *cmd)
{
    char label[64];
    cmd_label(cmd, label, sizeof label);
    printf("Usage: %s %s\n\n%s\n", label, cmd->usage, cmd->summary);
    if (cmd->help)
        printf("\n%s\n", cmd->help);
    printf("\nOptions:\n");
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
        char left[48];
        const struct oj_opt *o = &cmd->opts[i];
        char sh[8] = "";
        if (oj_opt_short(cmd, i))
            snprintf(sh, sizeof sh, "-%c, ", oj_opt_short(cmd, i));
        if (strcmp(o->name, "*") == 0)
            snprintf(left, sizeof left, "--<%s> VALUE", o->value_name ? o->value_name : "name");
        else if (o->takes_value)
            snprintf(left, sizeof left, "%s--%s %s", sh, o->name,
                     o->value_name ? o->value_name : "VALUE");
        else
            snprintf(left, sizeof left, "%s--%s", sh, o->name);
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "--color WHEN", "colour states: auto (on a terminal), always, never");
    printf("  %-24s %s\n", "-q, --quiet", "print nothing on stdout; the exit status says it all");
    printf("  %-24s %s\n", "-h, --help", "show this help");
}
