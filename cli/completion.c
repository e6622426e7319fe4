/* completion.c — see completion.h. The scripts are data tables (words,
 * options per command, the kind of value each command's arguments name) and
 * one small function per shell that looks a word up in them. */
#include "completion.h"

#include <string.h>

#include "help.h"

const char *oj_complete_kind(const struct oj_cmd *c)
{
    const char *g = c->group;
    if (g == NULL) {
        if (strcmp(c->name, "run") == 0)
            return "runbook-pipelines";
        if (strcmp(c->name, "attach") == 0)
            return "agents";
        if (strcmp(c->name, "help") == 0)
            return "commands";
        if (strcmp(c->name, "completion") == 0)
            return "shells";
        return NULL;
    }
    if (strcmp(c->usage, "") == 0 || c->max_pos == 0 || strncmp(c->usage, "[--", 3) == 0)
        return NULL; /* takes no argument */
    if (strcmp(g, "session") == 0)
        return strcmp(c->name, "start") == 0 ? NULL : "sessions";
    if (strcmp(g, "pipeline") == 0)
        return "pipelines";
    if (strcmp(g, "lock") == 0)
        return "locks";
    if (strcmp(g, "cron") == 0)
        return "cron";
    if (strcmp(g, "workspace") == 0)
        return "workspaces";
    if (strcmp(g, "runbook") == 0)
        return "files";
    return NULL;
}

/* "group name" or "name": the key a script looks a command up by. */
static void key_of(const struct oj_cmd *c, char *buf, size_t len)
{
    if (c->group)
        snprintf(buf, len, "%s %s", c->group, c->name);
    else
        snprintf(buf, len, "%s", c->name);
}

/* The command's options as the shell sees them: "--a --b -f" */
static void opts_of(const struct oj_cmd *c, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; c->opts && c->opts[i].name; i++) {
        if (strcmp(c->opts[i].name, "*") == 0)
            continue;
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s--%s", n ? " " : "", c->opts[i].name);
    }
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s--help", n ? " " : "");
}

/* Options whose value is a snapshot id or a directory. */
static const char *opt_value_kind(const char *opt)
{
    if (strcmp(opt, "id") == 0)
        return "snapshots";
    if (strcmp(opt, "cwd") == 0)
        return "dirs";
    return NULL;
}

static void top_words(char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if ((*c)->group || oj_cmd_hidden(*c))
            continue;
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", n ? " " : "", (*c)->name);
    }
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " %s", g->name);
    }
}

static void group_words(const struct oj_group *g, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (!(*c)->group || strcmp((*c)->group, g->name) != 0 || oj_cmd_hidden(*c))
            continue;
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", n ? " " : "", (*c)->name);
    }
}

static void bash_script(FILE *f)
{
    char words[2048], opts[1024], key[96];
    fprintf(f, "# bash completion for oj, written by `oj completion bash` from its command "
               "table.\n"
               "# Live values come from `oj _complete <kind>` (the daemon, a short timeout).\n");
    top_words(words, sizeof words);
    fprintf(f, "_oj_top='%s'\n", words);
    fprintf(f, "_oj_group_words() {\n  case \"$1\" in\n");
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        group_words(g, words, sizeof words);
        fprintf(f, "    %s) echo '%s' ;;\n", g->name, words);
    }
    fprintf(f, "  esac\n}\n");
    fprintf(f, "_oj_opts() {\n  case \"$1\" in\n");
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (oj_cmd_hidden(*c))
            continue;
        key_of(*c, key, sizeof key);
        opts_of(*c, opts, sizeof opts);
        fprintf(f, "    '%s') echo '%s' ;;\n", key, opts);
    }
    fprintf(f, "  esac\n}\n");
    fprintf(f, "_oj_kind() {\n  case \"$1\" in\n");
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        const char *kind = oj_complete_kind(*c);
        if (kind == NULL || oj_cmd_hidden(*c))
            continue;
        key_of(*c, key, sizeof key);
        fprintf(f, "    '%s') echo %s ;;\n", key, kind);
    }
    fprintf(f, "  esac\n}\n");
    fprintf(f, "_oj_opt_kind() {\n  case \"$1\" in\n");
    const char *vk[] = {"id", "cwd"};
    for (size_t i = 0; i < 2; i++)
        fprintf(f, "    --%s) echo %s ;;\n", vk[i], opt_value_kind(vk[i]));
    fprintf(f, "  esac\n}\n");
    /* Live values are data from the daemon (a workspace name is whatever a
     * worktree under .oj/workspaces/ is called): never through compgen -W,
     * which expands $(...) in its words; each line is compared as text. */
    fputs("_oj_live() {\n"
          "  local w\n"
          "  while IFS= read -r w; do\n"
          "    [[ \"$w\" == \"$cur\"* ]] && COMPREPLY+=(\"$w\")\n"
          "  done < <(oj \"${dir[@]}\" _complete \"$1\" 2>/dev/null)\n"
          "}\n",
          f);
    fputs(
        "_oj_complete() {\n"
        "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
        "  local i=1 dir=() group= cmd= key=\n"
        "  # global options come first: -C DIR, --remote URL --cert F --key F --ca F\n"
        "  while [ $i -lt $COMP_CWORD ]; do\n"
        "    case \"${COMP_WORDS[i]}\" in\n"
        "      -C) dir=(-C \"${COMP_WORDS[i+1]}\"); i=$((i+2)) ;;\n"
        "      --remote|--cert|--key|--ca) dir+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+1]}\");"
        " i=$((i+2)) ;;\n"
        "      -*) i=$((i+1)) ;;\n"
        "      *) break ;;\n"
        "    esac\n"
        "  done\n"
        "  if [ \"$prev\" = -C ]; then COMPREPLY=($(compgen -d -- \"$cur\")); return; fi\n"
        "  if [ $i -ge $COMP_CWORD ]; then\n"
        "    COMPREPLY=($(compgen -W \"$_oj_top -C --help --version\" -- \"$cur\")); return\n"
        "  fi\n"
        "  local first=\"${COMP_WORDS[i]}\" gw\n"
        "  gw=$(_oj_group_words \"$first\")\n"
        "  if [ -n \"$gw\" ]; then\n"
        "    if [ $((i+1)) -ge $COMP_CWORD ]; then\n"
        "      COMPREPLY=($(compgen -W \"$gw --help\" -- \"$cur\")); return\n"
        "    fi\n"
        "    key=\"$first ${COMP_WORDS[i+1]}\"\n"
        "  else\n"
        "    key=\"$first\"\n"
        "  fi\n"
        "  local vk; vk=$(_oj_opt_kind \"$prev\")\n"
        "  if [ -n \"$vk\" ]; then\n"
        "    if [ \"$vk\" = dirs ]; then COMPREPLY=($(compgen -d -- \"$cur\")); return; fi\n"
        "    _oj_live \"$vk\"; return\n"
        "  fi\n"
        "  if [[ \"$cur\" == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$(_oj_opts \"$key\")\" -- \"$cur\")); return\n"
        "  fi\n"
        "  local kind; kind=$(_oj_kind \"$key\")\n"
        "  case \"$kind\" in\n"
        "    '') ;;\n"
        "    files) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
        "    commands) COMPREPLY=($(compgen -W \"$_oj_top\" -- \"$cur\")) ;;\n"
        "    shells) COMPREPLY=($(compgen -W 'bash zsh fish' -- \"$cur\")) ;;\n"
        "    *) _oj_live \"$kind\" ;;\n"
        "  esac\n"
        "  return 0 # no match is not an error\n"
        "}\n"
        "complete -F _oj_complete oj\n",
        f);
}

/* fish: one `complete` line per word; single quotes escaped for fish. */
static void fish_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static void fish_script(FILE *f)
{
    char words[2048];
    fprintf(f, "# fish completion for oj, written by `oj completion fish` from its command "
               "table.\n"
               "complete -c oj -f\n");
    top_words(words, sizeof words);
    fprintf(f, "set -l oj_top %s\n", words);
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if ((*c)->group || oj_cmd_hidden(*c))
            continue;
        fprintf(f, "complete -c oj -n \"not __fish_seen_subcommand_from $oj_top\" -a %s -d ",
                (*c)->name);
        fish_quote(f, (*c)->summary);
        fputc('\n', f);
    }
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        fprintf(f, "complete -c oj -n \"not __fish_seen_subcommand_from $oj_top\" -a %s -d ",
                g->name);
        fish_quote(f, g->summary);
        fputc('\n', f);
        group_words(g, words, sizeof words);
        for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
            if (!(*c)->group || strcmp((*c)->group, g->name) != 0 || oj_cmd_hidden(*c))
                continue;
            fprintf(f,
                    "complete -c oj -n \"__fish_seen_subcommand_from %s; and not "
                    "__fish_seen_subcommand_from %s\" -a %s -d ",
                    g->name, words, (*c)->name);
            fish_quote(f, (*c)->summary);
            fputc('\n', f);
        }
    }
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (oj_cmd_hidden(*c))
            continue;
        char cond[160];
        if ((*c)->group)
            snprintf(cond, sizeof cond, "__fish_seen_subcommand_from %s; and "
                     "__fish_seen_subcommand_from %s", (*c)->group, (*c)->name);
        else
            snprintf(cond, sizeof cond, "__fish_seen_subcommand_from %s", (*c)->name);
        for (int i = 0; (*c)->opts && (*c)->opts[i].name; i++) {
            const struct oj_opt *o = &(*c)->opts[i];
            if (strcmp(o->name, "*") == 0)
                continue;
            fprintf(f, "complete -c oj -n '%s' -l %s", cond, o->name);
            char sh = oj_opt_short(*c, i);
            if (sh)
                fprintf(f, " -s %c", sh);
            if (o->takes_value) {
                const char *vk = opt_value_kind(o->name);
                if (vk && strcmp(vk, "dirs") == 0)
                    fprintf(f, " -r -a '(__fish_complete_directories)'");
                else if (vk)
                    fprintf(f, " -r -a '(oj _complete %s 2>/dev/null)'", vk);
                else
                    fprintf(f, " -r");
            }
            fprintf(f, " -d ");
            fish_quote(f, o->help);
            fputc('\n', f);
        }
        const char *kind = oj_complete_kind(*c);
        if (kind == NULL)
            continue;
        if (strcmp(kind, "files") == 0)
            fprintf(f, "complete -c oj -n '%s' -F\n", cond);
        else if (strcmp(kind, "commands") == 0)
            fprintf(f, "complete -c oj -n '%s' -a \"$oj_top\"\n", cond);
        else if (strcmp(kind, "shells") == 0)
            fprintf(f, "complete -c oj -n '%s' -a 'bash zsh fish'\n", cond);
        else
            fprintf(f, "complete -c oj -n '%s' -a '(oj _complete %s 2>/dev/null)'\n", cond,
                    kind);
    }
}

int oj_completion_script(FILE *f, const char *shell)
{
    if (strcmp(shell, "bash") == 0) {
        bash_script(f);
        return 0;
    }
    if (strcmp(shell, "zsh") == 0) {
        /* zsh runs the bash function through its bashcompinit layer: one
         * script to keep right, and zsh users get the same words. */
        fprintf(f, "#compdef oj\n"
                   "# zsh completion for oj, written by `oj completion zsh` from its command "
                   "table.\n"
                   "autoload -U +X bashcompinit && bashcompinit\n");
        bash_script(f);
        /* Autoloaded from fpath as _oj, this file is the completion function
         * itself: after defining, complete the word being asked for. */
        fprintf(f, "if [ \"${funcstack[1]}\" = _oj ]; then _bash_complete -F _oj_complete; fi\n");
        return 0;
    }
    if (strcmp(shell, "fish") == 0) {
        fish_script(f);
        return 0;
    }
    return -1;
}
