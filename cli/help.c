/* help.c — see help.h. */
#include "help.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

bool oj_cmd_hidden(const struct oj_cmd *c) { return c->name[0] == '_'; }

void oj_help_usage(FILE *f)
{
    fprintf(f, "Usage: oj [-C DIR | --remote URL ...] <command> [args]\n\n"
               "oj runs coding agents unattended: a daemon owns pipelines, the tmux sessions\n"
               "agents run in, their git worktrees and shared locks. This tool talks to it.\n\n"
               "Commands:\n");
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
        if ((*c)->group == NULL && !oj_cmd_hidden(*c))
            fprintf(f, "  %-28s %s\n", (*c)->name, (*c)->summary);
    fprintf(f, "\nGroups (oj <group> --help lists their commands):\n");
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        char cmds[160] = "";
        for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
            if ((*c)->group && strcmp((*c)->group, g->name) == 0 && !oj_cmd_hidden(*c)) {
                if (cmds[0])
                    strncat(cmds, "|", sizeof cmds - strlen(cmds) - 1);
                strncat(cmds, (*c)->name, sizeof cmds - strlen(cmds) - 1);
            }
        }
        fprintf(f, "  %-11s %s\n  %-11s   %s\n", g->name, g->summary, "", cmds);
    }
    fprintf(f, "\nGlobal options:\n"
               "  -C DIR         run as if started in DIR\n"
               "  --remote URL   run the command against the daemon at tls+tcp://HOST:PORT\n"
               "                 (OJ_REMOTE), with --cert FILE --key FILE (this client's\n"
               "                 certificate) and --ca FILE (the daemon's CA); see oj remote init\n"
               "  --color WHEN   colour states in tables: auto (on a terminal; not with NO_COLOR),\n"
               "                 always, never; also after any command\n"
               "  -h, --help     show this help (oj help <command> for one command)\n"
               "  --version      print the version\n\n"
               "Exit status:");
    int col = 12;
    for (const struct oj_exit_doc *e = oj_exit_docs; e->brief; e++) {
        char item[64];
        int n = snprintf(item, sizeof item, " %d %s%s", e->code, e->brief,
                         e[1].brief ? "," : ".");
        if (col + n > 88) {
            fprintf(f, "\n");
            col = 0;
        }
        fputs(col == 0 ? item + 1 : item, f);
        col += n;
    }
    fprintf(f, "\nSee `man oj` for every command, option, variable and file.\n");
}

const struct oj_group *oj_group_find(const char *name)
{
    for (const struct oj_group *g = oj_groups; g->name; g++)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

void oj_help_group(FILE *f, const struct oj_group *g)
{
    fprintf(f, "Usage: oj %s <command> [args]\n\n%s\n\nCommands:\n", g->name, g->summary);
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
        if ((*c)->group && strcmp((*c)->group, g->name) == 0 && !oj_cmd_hidden(*c)) {
            char left[96];
            snprintf(left, sizeof left, "%s %s", (*c)->name, (*c)->usage);
            fprintf(f, "  %-44s %s\n", left, (*c)->summary);
        }
    fprintf(f, "\nSee `oj %s <command> --help` for details.\n", g->name);
}

const struct oj_cmd *oj_cmd_find(const char *group, const char *name)
{
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        bool same_group = group ? ((*c)->group && strcmp((*c)->group, group) == 0)
                                : (*c)->group == NULL;
        if (same_group && strcmp((*c)->name, name) == 0)
            return *c;
    }
    return NULL;
}

/* Optimal string alignment distance (Levenshtein plus adjacent swaps),
 * capped: words are short. */
static size_t edits(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return 64;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *oj_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word);
    if (len == 0)
        return NULL;
    const char *best = NULL, *prefix_of = NULL;
    size_t best_d = 3, prefixes = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(candidates[i], word, len) == 0) {
            prefix_of = candidates[i];
            prefixes++;
        }
        size_t d = edits(word, candidates[i]);
        if (d < best_d && d < len) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best)
        return best;
    return prefixes == 1 ? prefix_of : NULL;
}

static const char *phrase(const char *s)
{
    static char buf[160];
    if (s == NULL)
        return "";
    snprintf(buf, sizeof buf, " (did you mean '%s'?)", s);
    return buf;
}

const char *oj_did_you_mean_command(const char *group, const char *word)
{
    const char *names[128];
    size_t n = 0;
    for (const struct oj_cmd *const *c = oj_cmd_table; *c && n < 120; c++) {
        bool same_group = group ? ((*c)->group && strcmp((*c)->group, group) == 0)
                                : (*c)->group == NULL;
        if (same_group && !oj_cmd_hidden(*c))
            names[n++] = (*c)->name;
    }
    for (const struct oj_group *g = oj_groups; group == NULL && g->name && n < 128; g++)
        names[n++] = g->name;
    return phrase(oj_suggest(word, names, n));
}

const char *oj_did_you_mean_option(const struct oj_cmd *cmd, const char *word)
{
    const char *names[OJ_MAX_OPTS + 1];
    size_t n = 0;
    for (int i = 0; cmd->opts && cmd->opts[i].name && n < OJ_MAX_OPTS; i++)
        if (strcmp(cmd->opts[i].name, "*") != 0)
            names[n++] = cmd->opts[i].name;
    names[n++] = "help";
    const char *s = oj_suggest(word, names, n);
    static char buf[160];
    if (s == NULL)
        return "";
    snprintf(buf, sizeof buf, " (did you mean '--%s'?)", s);
    return buf;
}
