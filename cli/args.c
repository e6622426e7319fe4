/* args.c — option parsing driven by each command's option table. Accepts
 * `--name`, `--name value`, `--name=value`, options anywhere among the
 * positionals, and `--` to end options (everything after is positional). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int find_opt(const struct oj_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return i;
    return -1;
}

/* The one-letter aliases, few and conventional (tail's -f and -n), so they
 * are listed here rather than in every option table. */
static const struct {
    const char *group, *cmd;
    char letter;
    const char *opt;
} shorts[] = {
    {"daemon", "logs", 'f', "follow"},
    {"daemon", "logs", 'n', "lines"},
    {"pipeline", "logs", 'f', "follow"},
};

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The letter that stands for option `opt` of cmd, '\0' when none does. */
static char short_of(const struct oj_cmd *cmd, const char *opt)
{
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
        if (same(shorts[i].group, cmd->group) && strcmp(shorts[i].cmd, cmd->name) == 0 &&
            strcmp(shorts[i].opt, opt) == 0)
            return shorts[i].letter;
    return '\0';
}

static int find_short(const struct oj_cmd *cmd, char c)
{
    for (int i = 0; c && cmd->opts && cmd->opts[i].name; i++)
        if (short_of(cmd, cmd->opts[i].name) == c)
            return i;
    return -1;
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
        if (arg[1] != '-') {
            int k = find_short(cmd, arg[1]);
            if (k < 0) {
                snprintf(err, errlen, "unknown option '%s' for '%s'; see `%s --help`", arg,
                         label, label);
                return -1;
            }
            const struct oj_opt *o = &cmd->opts[k];
            if (o->takes_value) { /* -n 5 or -n5 */
                if (arg[2])
                    out->value[k] = arg + 2;
                else if (i + 1 < argc)
                    out->value[k] = argv[++i];
                else {
                    snprintf(err, errlen, "option '-%c' of '%s' needs a value (%s)", arg[1],
                             label, o->value_name ? o->value_name : "VALUE");
                    return -1;
                }
            } else if (arg[2]) {
                snprintf(err, errlen, "unknown option '%s' for '%s'; see `%s --help`", arg,
                         label, label);
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
            snprintf(err, errlen, "unknown option '--%.*s' for '%s'; see `%s --help`", (int)nlen,
                     name, label, label);
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
        if (strcmp(o->name, "*") == 0)
            snprintf(left, sizeof left, "--<%s> VALUE", o->value_name ? o->value_name : "name");
        else {
            char sh[8] = "";
            char letter = short_of(cmd, o->name);
            if (letter)
                snprintf(sh, sizeof sh, "-%c, ", letter);
            if (o->takes_value)
                snprintf(left, sizeof left, "%s--%s %s", sh, o->name,
                         o->value_name ? o->value_name : "VALUE");
            else
                snprintf(left, sizeof left, "%s--%s", sh, o->name);
        }
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "-h, --help", "show this help");
}
