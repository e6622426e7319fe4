/* resolve.c — see resolve.h. */
#include "resolve.h"

#include <stdio.h>
#include <string.h>

void oj_resolve_offer(struct oj_resolve *r, const char *id, const char *name, int64_t started_ms)
{
    if (name && strcmp(name, r->query) == 0 &&
        (r->by_name == NULL || started_ms > r->by_name_started)) {
        r->by_name = id;
        r->by_name_started = started_ms;
    }
    if (strcmp(id, r->query) == 0) {
        r->exact = id;
    } else if (strncmp(id, r->query, strlen(r->query)) == 0) {
        if (r->nprefix < OJ_RESOLVE_LISTED)
            r->prefix[r->nprefix] = id;
        r->nprefix++;
    }
}

enum oj_resolved oj_resolve_pick(const struct oj_resolve *r, const char **id)
{
    *id = r->by_name ? r->by_name : r->exact ? r->exact : r->nprefix == 1 ? r->prefix[0] : NULL;
    if (*id)
        return OJ_RESOLVE_FOUND;
    return r->nprefix > 1 ? OJ_RESOLVE_AMBIGUOUS : OJ_RESOLVE_NONE;
}

void oj_resolve_candidates(const struct oj_resolve *r, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < r->nprefix && i < OJ_RESOLVE_LISTED; i++) {
        strncat(buf, i ? ", " : "", len - strlen(buf) - 1);
        strncat(buf, r->prefix[i], len - strlen(buf) - 1);
    }
    if (r->nprefix > OJ_RESOLVE_LISTED)
        strncat(buf, ", ...", len - strlen(buf) - 1);
}

enum oj_resolved oj_resolve_explain(const struct oj_resolve *r, const char *kind,
                                    const char *list_cmd, const char **id, char *why,
                                    size_t len)
{
    enum oj_resolved got = oj_resolve_pick(r, id);
    if (got == OJ_RESOLVE_AMBIGUOUS) {
        char list[256];
        oj_resolve_candidates(r, list, sizeof list);
        snprintf(why, len, "'%s' matches %d %ss (%s); give more of the id", r->query, r->nprefix,
                 kind, list);
    } else if (got == OJ_RESOLVE_NONE) {
        snprintf(why, len, "no %s '%s'; list them with `%s`", kind, r->query, list_cmd);
    }
    return got;
}

bool oj_name_looks_like_id(const char *name)
{
    if (name[0] != 's' && name[0] != 'p')
        return false;
    return strspn(name + 1, "0123456789abcdef") == strlen(name + 1);
}
