/* escape.h — user text (lock holders, names, messages, inputs, errors, paths)
 * as a person sees it: every control character becomes a visible escape, so
 * a value holding a newline or a terminal escape sequence cannot forge a row
 * of a table or take over the terminal. Every human-readable printer of the
 * CLI passes such values through oj_esc(); --json output never does (it
 * stays exact, with JSON's own escapes).
 *
 *   \n \r \t \e \\x7f    C0 controls and DEL (\xHH for the rest of C0)
 *   \u0080 … \u009f     C1 controls written as UTF-8 (U+009B acts like ESC [)
 *   \xHH                a byte that is not part of well-formed UTF-8
 * Everything else, UTF-8 text included, is copied as it is (a backslash too:
 * the output is for reading, not for parsing back). */
#ifndef OJ_ESCAPE_H
#define OJ_ESCAPE_H
#include <stddef.h>

/* Writes the escaped form of `in` into out (cap bytes, always NUL-terminated
 * when cap > 0, cut at an escape boundary). Returns the length the whole
 * escaped text needs, without the NUL, like snprintf. Pure. */
size_t oj_escape_text(const char *in, char *out, size_t cap);

/* The escaped form of s (NULL prints as ""), in one of a few rotating
 * buffers: valid until 16 more calls, enough for one printf's arguments. */
const char *oj_esc(const char *s);
#endif
