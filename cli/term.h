/* term.h — what the CLI's tables do on a terminal: states in colour, widths
 * that fit the window. Never when piped: colour only when stdout is a
 * terminal (or --color=always), never with NO_COLOR set (unless
 * --color=always says otherwise: a flag beats the environment). */
#ifndef OJ_TERM_H
#define OJ_TERM_H
#include <stdbool.h>
#include <stddef.h>

enum oj_color_when { OJ_COLOR_AUTO, OJ_COLOR_ALWAYS, OJ_COLOR_NEVER };

/* Parses "auto", "always", "never"; -1 for anything else. */
int oj_color_parse(const char *word);
/* Sets the choice (--color); the default is auto. */
void oj_color_set(enum oj_color_when when);
/* Whether tables are coloured now: the choice, NO_COLOR, stdout a
 * terminal, TERM not "dumb". */
bool oj_color_on(void);
/* The decision, pure: when, NO_COLOR's value (NULL: unset), whether stdout
 * is a terminal, TERM's value. */
bool oj_color_decide(enum oj_color_when when, const char *no_color, bool tty, const char *term);

/* The SGR colour of a state word (running, waiting, needs_input, idle,
 * stuck, escalated, failed, dead, done, cancelled, ...): "32", "1;35"...,
 * or NULL for a word without one. Pure. */
const char *oj_state_sgr(const char *state);

/* `text` padded with spaces to `width` columns (0: as it is; UTF-8 counts a
 * character as one column), cut with "…" when longer, and wrapped in the
 * colour of `state` when colour is on: padding stays outside the escape
 * codes so columns line up. Returns one of a few static buffers, so up to
 * eight may be used in one printf. */
const char *oj_cell(const char *state, const char *text, int width);

/* The width for a table's flexible column that wants `want` columns when
 * the rest of its row takes `others`: as much as fits the terminal
 * (oj_term_columns), at least `least`; `want` when not on a terminal. */
int oj_fit_width(int want, int others, int least);

/* Columns of the terminal stdout is (0 when it is not one: piped output is
 * never cut): the table may use that many. COLUMNS overrides the window's
 * size, as for ls. */
int oj_term_columns(void);
#endif
