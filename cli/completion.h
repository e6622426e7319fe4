/* completion.h — shell completion scripts for bash, zsh and fish, written
 * from the command table at run time (`oj completion <shell>`), so they list
 * exactly the commands and options this oj has. Live values (session names
 * and ids, pipeline ids, lock names, runbook pipelines, snapshot ids) are
 * asked of `oj _complete <kind>` (cmd_help.c), which asks the daemon with a
 * short timeout and prints nothing on error. */
#ifndef OJ_COMPLETION_H
#define OJ_COMPLETION_H
#include <stdio.h>

#include "cmd.h"

/* What a command's positional arguments name: "sessions", "pipelines",
 * "agents" (both), "locks", "runbook-pipelines", "cron", "workspaces",
 * "files", or NULL (free text). */
const char *oj_complete_kind(const struct oj_cmd *c);

/* Writes the script for `shell` ("bash", "zsh", "fish"); -1 for another. */
int oj_completion_script(FILE *f, const char *shell);
#endif
