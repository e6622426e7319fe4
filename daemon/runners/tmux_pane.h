/* tmux_pane.h — what tmux says about one pane, as data: the type oj_tmux_list
 * fills in and the pure session rules (rules/sessions.h) read. No I/O here, so
 * the rules can include it. */
#ifndef OJ_TMUX_PANE_H
#define OJ_TMUX_PANE_H
#include <stdbool.h>

struct oj_tmux_pane {
    char session[64];
    bool dead;
    bool status_known; /* tmux recorded how it ended (it may not for a process that
                          ended before remain-on-exit took effect) */
    int exit_status;   /* when dead and known; 128+N for signal N */
    int pid;
};
#endif
