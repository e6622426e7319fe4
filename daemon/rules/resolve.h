/* resolve.h — which record a user meant, given an id, a name or an id prefix
 * (pure; the handlers feed it every record of a kind and act on the pick).
 *
 * The order, everywhere: an exact name first (the newest record of that
 * name), then an exact id, then a unique id prefix; an ambiguous prefix is an
 * error that lists the candidates. Names cannot be confused with ids because
 * a name shaped like an id is refused (oj_name_looks_like_id). */
#ifndef OJ_RESOLVE_H
#define OJ_RESOLVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_RESOLVE_LISTED 8 /* ambiguous-prefix candidates kept for the message */

struct oj_resolve {
    const char *query;
    const char *by_name; /* the newest record with that name */
    int64_t by_name_started;
    const char *exact; /* the id equal to the query */
    const char *prefix[OJ_RESOLVE_LISTED]; /* the first ids the query is a prefix of */
    int nprefix;                           /* how many ids it is a prefix of */
};

enum oj_resolved { OJ_RESOLVE_FOUND, OJ_RESOLVE_AMBIGUOUS, OJ_RESOLVE_NONE };

/* Considers one record; name may be NULL (a kind without names). The
 * strings must outlive r. */
void oj_resolve_offer(struct oj_resolve *r, const char *id, const char *name, int64_t started_ms);

/* The pick: FOUND with *id set, AMBIGUOUS (r->prefix lists candidates) or NONE. */
enum oj_resolved oj_resolve_pick(const struct oj_resolve *r, const char **id);

/* "a, b, c" (", ..." when more matched than were kept), for the ambiguity error. */
void oj_resolve_candidates(const struct oj_resolve *r, char *buf, size_t len);

/* The pick, and when there is none the one-line error for the user in why:
 * "'<query>' matches N <kind>s (a, b, c); give more of the id", or "no <kind>
 * '<query>'; list them with `<list_cmd>`". */
enum oj_resolved oj_resolve_explain(const struct oj_resolve *r, const char *kind,
                                    const char *list_cmd, const char **id, char *why,
                                    size_t len);

/* True when a name has the shape of a session or pipeline id or of a prefix
 * of one: 's' or 'p' followed only by 0-9 and a-f ("s5", "p1a2b3c", "sad",
 * "s"). Such names are refused, so that no name is also an id prefix. */
bool oj_name_looks_like_id(const char *name);

#define OJ_NAME_ID_SHAPE_RULE \
    "'s' or 'p' followed only by 0-9 and a-f is the shape of an id"
#endif
