/* utf8.h — text that leaves oj over the protocol is valid UTF-8.
 *
 * proto3 `string` fields must hold UTF-8, and strict decoders (Python, Go,
 * Java) refuse a whole message otherwise. Names and messages come from users
 * and may hold any bytes, and a byte-count cut (`%.80s`, a full buffer) can
 * split a multi-byte character. These helpers copy text so that it is
 * well-formed (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF): each byte that does not start a well-formed sequence becomes
 * U+FFFD, and cuts fall on character boundaries. Pure functions. */
#ifndef OJ_UTF8_H
#define OJ_UTF8_H
#include <stdbool.h>
#include <stddef.h>

#define OJ_UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, 3 bytes */

/* Length (1-4) of the well-formed sequence that starts `s` (`n` bytes
 * available), or 0 when none does. */
size_t oj_utf8_seq_len(const char *s, size_t n);

/* True when the `n` bytes at `s` are well-formed UTF-8. */
bool oj_utf8_valid(const char *s, size_t n);

/* Bytes oj_utf8_copy needs for all `n` bytes of `src` (without the NUL). */
size_t oj_utf8_fixed_len(const char *src, size_t n);

/* Copies the `n` bytes at `src` into `dst` (room for `dstlen` bytes with the
 * NUL; dstlen > 0) as valid UTF-8, stopping at a character boundary when
 * `dst` is full. Returns the bytes written, without the NUL. */
size_t oj_utf8_copy(char *dst, size_t dstlen, const char *src, size_t n);

/* The helper for putting a user's string into a message: `s` as valid UTF-8
 * of at most buflen - 1 bytes (cut at a character boundary), in `buf`, which
 * it returns. Use it where a `%.Ns` would cut: oj_utf8_show(b, 81, s). */
const char *oj_utf8_show(char *buf, size_t buflen, const char *s);

/* `n`, less an incomplete sequence at the very end of the `n` bytes at `s`:
 * the trace of a byte-count cut (snprintf into a full buffer, `%.80s`). */
size_t oj_utf8_uncut_len(const char *s, size_t n);
#endif
