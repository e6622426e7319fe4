/* tmux_arg.h — one word of a tmux command line, escaped so that tmux hands the
 * command exactly the text we mean (pure; the shell around tmux is tmux.c).
 *
 * tmux re-reads what it is given in up to three ways (checked against the
 * cmd-parse.y and format.c of tmux 3.2 to 3.7; 3.0 and 3.1 did not yet keep
 * a run of '#' before '[' as it is):
 *  - every word: one that ends in ';' ends the command (the next word starts
 *    another); "\;" at the end is a literal ';'.
 *  - some words are formats (new-session -c and -s, pipe-pane's command,
 *    display-message, set-option's option name, ...): "#(cmd)" runs cmd, "#{...}"
 *    and "#S" are replaced; "##" is a literal '#', and a run of '#' just
 *    before '[' (a style) is kept as it is.
 *  - a few of those are first passed through strftime (pipe-pane,
 *    display-message): '%' is a conversion, "%%" a literal '%'. */
#ifndef OJ_TMUX_ARG_H
#define OJ_TMUX_ARG_H

enum oj_tmux_expands {
    OJ_TMUX_WORD,        /* read as a word only (send-keys -l, set-buffer data, -e, -t) */
    OJ_TMUX_FORMAT,      /* also expanded as a format */
    OJ_TMUX_FORMAT_TIME, /* strftime first, then expanded as a format */
};

/* s, escaped so that tmux reading it the way `how` says gets s back; malloc'd
 * (NULL when out of memory). */
char *oj_tmux_arg(const char *s, enum oj_tmux_expands how);
#endif
