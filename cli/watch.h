/* watch.h — `--watch` for commands that show a state (oj status, oj pipeline
 * list): the screen redrawn in place whenever the daemon publishes an event
 * (several arriving together make one redraw), and every few seconds for the
 * ages it shows; Ctrl-C leaves (exit 0). Only on a terminal: refused (exit 2)
 * when stdout is not one, where a stream of redraws would only be noise. */
#ifndef OJ_WATCH_H
#define OJ_WATCH_H
#include "cli.h"

/* draw(c, arg) asks the daemon and prints one screen; it returns an exit
 * code (non-zero ends the watch with it). what names the command for the
 * refusal. */
int oj_watch(struct oj_ctx *ctx, struct oj_client *c, const char *what,
             int (*draw)(struct oj_client *c, void *arg), void *arg);
#endif
