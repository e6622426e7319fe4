/* help.h — everything `oj` prints about itself: the usage, a group's
 * commands, a command's help, "did you mean" for a mistyped word; all of it
 * from the command table (cmd_table.c) and reference.h. */
#ifndef OJ_HELP_H
#define OJ_HELP_H
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

void oj_help_usage(FILE *f);
const struct oj_group *oj_group_find(const char *name);
void oj_help_group(FILE *f, const struct oj_group *g);
/* The command `name` of `group` (NULL: a top-level command). */
const struct oj_cmd *oj_cmd_find(const char *group, const char *name);
/* Whether a command is for scripts only (its name starts with '_'): not
 * listed in help, the manual or completions. */
bool oj_cmd_hidden(const struct oj_cmd *c);

/* The candidate closest to `word` when it is close enough to be a typo (at
 * most 2 edits, an adjacent swap counting as one, and fewer edits than
 * `word` has letters) or `word` is a prefix of exactly one candidate; else
 * NULL. Pure. */
const char *oj_suggest(const char *word, const char *const *candidates, size_t n);
/* " (did you mean 'x'?)" or "" for an unknown top-level word, a group's
 * command, or an option of `cmd` (word without its dashes). Static buffer. */
const char *oj_did_you_mean_command(const char *group, const char *word);
const char *oj_did_you_mean_option(const struct oj_cmd *cmd, const char *word);
#endif
