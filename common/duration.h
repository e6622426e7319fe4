/* duration.h — parse and print human durations ("90s", "5m", "2h", "30d", "1500ms").
 * Used by --timeout, --older-than and runbook timeouts; one grammar everywhere. */
#ifndef OJ_DURATION_H
#define OJ_DURATION_H
#include <stddef.h>
#include <stdint.h>

/* What oj_duration_parse returns for a number with no unit ("30"): the
 * caller's message says which unit to add. */
#define OJ_DURATION_NO_UNIT (-2)

/* Parses `text` into milliseconds. Accepts a non-negative integer followed by
 * one unit: ms, s, m, h, d; "0" alone is accepted too (zero in any unit).
 * Returns 0 on success, OJ_DURATION_NO_UNIT for any other bare number, -1 on a
 * malformed or overflowing value (nothing is written on failure). */
int oj_duration_parse(const char *text, int64_t *out_ms);

/* Writes a short human form ("3d 4h", "12m 5s", "850ms") of `ms` into buf. */
void oj_duration_format(int64_t ms, char *buf, size_t len);
#endif
