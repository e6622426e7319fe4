/* prompt.h — when an agent needs input: a prompt at the bottom of its output
 * (a permission question, "[y/n]", "Press Enter to continue", or a pattern of
 * its runbook agent), or a question it asked with `oj ask` that nothing has
 * answered yet. Pure: the text comes in, a verdict goes out; the session
 * domain (session_tick.c) hands in the last bytes of the log it already has.
 *
 * A pattern is a case-insensitive substring, or, written "/.../", a POSIX
 * extended regular expression (case-insensitive too). */
#ifndef OJ_PROMPT_H
#define OJ_PROMPT_H
#include <stdbool.h>
#include <stddef.h>

/* How many of the last non-blank lines a prompt is looked for in: a prompt
 * waits at the bottom of the screen; one followed by more output than this
 * was answered (or is history). A menu (the question, then its choices) fits. */
#define OJ_PROMPT_LINES 4
/* The bytes at the end of a log that are looked at (raw, escapes and all). */
#define OJ_PROMPT_TAIL_BYTES 4096
/* At most this many patterns per agent, each at most this long. */
#define OJ_PROMPT_MAX_PATTERNS 32
#define OJ_PROMPT_MAX_LEN 200

/* The built-in patterns, NULL-terminated (docs/runbooks.md lists them). */
extern const char *const oj_prompt_defaults[];

/* What is wrong with a pattern (empty, too long, a control byte, a "/.../"
 * that is not a valid regular expression), in why; NULL when it is good. */
const char *oj_prompt_pattern_problem(const char *pattern, char *why, size_t whylen);

/* The built-ins and an agent's own patterns, compiled. */
struct oj_prompts;
/* extra: the agent's patterns, one a line ('\n'-separated; NULL or "" for
 * none). A bad one is left out and named in err (the others still count);
 * NULL only when out of memory. */
struct oj_prompts *oj_prompts_new(const char *extra, char *err, size_t errlen);
void oj_prompts_free(struct oj_prompts *p); /* NULL is fine */

/* Whether the bottom of text (plain text lines, as log_text.h makes them)
 * shows a prompt: the last OJ_PROMPT_LINES non-blank lines are tried against
 * every pattern, and the lowest line that matches is copied (trimmed, cut to
 * linelen) into line. */
bool oj_prompts_find(const struct oj_prompts *p, const char *text, char *line, size_t linelen);

/* Whether the question an agent asked (`oj ask`) is answered by its output:
 * text is its output since the ask; the question counts as answered once a
 * non-blank line follows the (last) line that shows it. Output that does not
 * show the question at all answers nothing (it may be on its way, or the
 * agent's terminal does not show it: then only input sent to it answers). */
bool oj_ask_answered(const char *text, const char *question);
#endif
