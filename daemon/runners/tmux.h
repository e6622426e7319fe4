/* tmux.h — the thin shell around tmux: every call is one `tmux -S <sock>`
 * run with a time limit, on the daemon's private server (its own socket in
 * .oj/, never the user's), with TMUX* cleared from the environment so an oj
 * started inside tmux cannot talk to the wrong server. */
#ifndef OJ_TMUX_H
#define OJ_TMUX_H
#include <stdbool.h>
#include <stddef.h>

#include "shell.h"
#include "tmux_pane.h"

#define OJ_TMUX_TIMEOUT_MS 5000


/* What a pane writes after its command ended, as the OSC sequence
 * ESC ] 7777 ; <mark> BEL (terminals ignore it): once it is in the log, all
 * the command's output is. */
#define OJ_TMUX_END_MARK "oj-output-end"

/* Starts session `name` running the shell command `command` in `cwd`, with
 * the "K=V" entries of env set, remain-on-exit on, and its raw output piped
 * (appended) to log_path. After the command the pane ends with its exit
 * status once its last output is in the log (see oj_tmux_new in tmux.c); a
 * command that ends the shell itself (`exit`, `exec`) skips that wait.
 * Returns 0 or -1 with err. (A dead pane stays until
 * oj_tmux_kill; the server exits by itself once no session is left: tmux's
 * exit-empty default, which -f /dev/null keeps from any config.) */
int oj_tmux_new(const char *sock, const char *name, const char *cwd, char *const env[],
                const char *command, const char *log_path, char *err, size_t errlen);

/* All panes of the server. Returns the count (*out malloc'd), -2 when no
 * server runs, -1 on another failure (err). */
int oj_tmux_list(const char *sock, struct oj_tmux_pane **out, char *err, size_t errlen);

/* The pane's screen, last `lines` lines (0 = the whole screen), trailing
 * blank lines dropped. *text malloc'd. *dead (may be NULL): whether the pane
 * is dead; its screen then ends with tmux's "Pane is dead" line, which
 * scrolled the top line away. */
int oj_tmux_capture(const char *sock, const char *name, unsigned lines, char **text, bool *dead,
                    char *err, size_t errlen);

/* Types `text` literally, then Enter. Long text goes through a paste buffer. */
int oj_tmux_send(const char *sock, const char *name, const char *text, char *err, size_t errlen);
/* Ctrl-C. */
int oj_tmux_interrupt(const char *sock, const char *name, char *err, size_t errlen);
int oj_tmux_kill(const char *sock, const char *name, char *err, size_t errlen);

#endif
