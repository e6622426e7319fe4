/* workspace_rules.c — see workspace_rules.h. */
#include "workspace_rules.h"

#include <stdlib.h>
#include <string.h>

int oj_port_pick(const int64_t *taken, size_t ntaken, int base, int step, int count)
{
    if (base < 1 || step < 1)
        return -1;
    for (int i = 0; i < count; i++) {
        int64_t port = (int64_t)base + (int64_t)i * step;
        if (port > 65535)
            return -1;
        bool used = false;
        for (size_t k = 0; k < ntaken && !used; k++)
            used = taken[k] == port;
        if (!used)
            return (int)port;
    }
    return -1;
}

int oj_diffstat_parse(const char *text, struct oj_diffstat *s)
{
    memset(s, 0, sizeof *s);
    const char *p = text;
    while (*p == ' ' || *p == '\n')
        p++;
    if (*p == '\0')
        return 0; /* nothing changed */
    /* "N file(s) changed" [", N insertion(s)(+)"] [", N deletion(s)(-)"] */
    int parts = 0;
    while (*p) {
        char *end;
        long long n = strtoll(p, &end, 10);
        if (end == p || n < 0 || *end != ' ')
            break;
        p = end + 1;
        if (strncmp(p, "file", 4) == 0)
            s->files = n;
        else if (strncmp(p, "insertion", 9) == 0)
            s->added = n;
        else if (strncmp(p, "deletion", 8) == 0)
            s->removed = n;
        else
            break;
        parts++;
        p += strcspn(p, ",\n");
        while (*p == ',' || *p == ' ' || *p == '\n')
            p++;
    }
    if (parts == 0 || *p != '\0' || s->files == 0) {
        memset(s, 0, sizeof *s);
        return -1;
    }
    return 0;
}

size_t oj_diff_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    for (size_t i = max; i > 0; i--)
        if (text[i - 1] == '\n')
            return i;
    return max;
}

const char *oj_base_ref_problem(const char *ref)
{
    if (ref[0] == '\0')
        return "--base needs a branch, tag or commit";
    if (strlen(ref) > 250)
        return "--base is longer than 250 characters";
    if (ref[0] == '-')
        return "--base cannot start with '-'";
    for (const unsigned char *c = (const unsigned char *)ref; *c; c++)
        if (*c <= ' ' || *c == 0x7f)
            return "--base cannot hold spaces or control characters";
    return NULL;
}
