/* log_text.h — a session's raw output log as plain text lines: what
 * `oj session capture` shows of a session whose tmux pane is gone (removed
 * once the session ended and its output reached the log). A pure function:
 * no terminal is emulated beyond the line level. */
#ifndef OJ_LOG_TEXT_H
#define OJ_LOG_TEXT_H
#include <stddef.h>

/* The screen height oj gives its panes: the lines shown when none are asked. */
#define OJ_LOG_TEXT_LINES 50

/* The last `lines` lines (0 = OJ_LOG_TEXT_LINES) of raw terminal output, as
 * text: escape sequences (CSI, OSC, DCS and the like) dropped, "\r\n" a line
 * end, a lone "\r" starts the line over (a progress line shows its last
 * state), backspace takes back a character, other control bytes dropped,
 * invalid UTF-8 replaced by U+FFFD; trailing blank lines dropped; every line
 * ends in "\n". With `partial_start`, raw begins mid-stream and its first
 * line (perhaps cut) is skipped. malloc'd; NULL when out of memory. */
char *oj_log_text(const char *raw, size_t len, unsigned lines, int partial_start);
#endif
