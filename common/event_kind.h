/* event_kind.h — which event kinds a filter picks: `oj events --kind` and the
 * project notifier's "kinds" (.oj/config.json) use the same rule. Pure. */
#ifndef OJ_EVENT_KIND_H
#define OJ_EVENT_KIND_H
#include <stdbool.h>
#include <stddef.h>

/* Whether filter picks kind: the same kind ("pipeline.escalated"), or a
 * prefix ending in '.' ("session." picks every session event). */
bool oj_event_kind_match(const char *filter, const char *kind);
/* Whether any of the n filters picks kind; no filters pick everything. */
bool oj_event_kind_any(const char *const *filters, size_t n, const char *kind);
/* What is wrong with a filter (empty, or a character other than a-z, 0-9,
 * '_' and '.'), or NULL when it is good. */
const char *oj_event_kind_problem(const char *filter);
#endif
