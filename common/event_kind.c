/* event_kind.c — see event_kind.h. */
#include "event_kind.h"

#include <string.h>

bool oj_event_kind_match(const char *filter, const char *kind)
{
    size_t n = strlen(filter);
    if (n > 0 && filter[n - 1] == '.')
        return strncmp(filter, kind, n) == 0;
    return strcmp(filter, kind) == 0;
}

bool oj_event_kind_any(const char *const *filters, size_t n, const char *kind)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (oj_event_kind_match(filters[i], kind))
            return true;
    return false;
}

const char *oj_event_kind_problem(const char *filter)
{
    if (filter[0] == '\0')
        return "an event kind is not empty";
    for (const char *c = filter; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return "an event kind uses only a-z, 0-9, '_' and '.' (e.g. pipeline.escalated, or "
                   "session. for every session event)";
    return NULL;
}
