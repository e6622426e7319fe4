/* shell.h — quoting a value for sh, the one way oj puts a value into a shell
 * command (runbook templates, tmux commands, git and shell steps). Pure. */
#ifndef OJ_SHELL_H
#define OJ_SHELL_H

/* Single-quotes s for sh (a'b -> 'a'\''b'); malloc'd. */
char *oj_shell_quote(const char *s);
#endif
