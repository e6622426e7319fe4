/* version_skew.c — see version_skew.h. */
#include "version_skew.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oj_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        char *ea, *eb;
        unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = *ea == '.' ? ea + 1 : ea + strlen(ea);
        b = *eb == '.' ? eb + 1 : eb + strlen(eb);
        if (ea == a && eb == b) /* neither moved: not numbers, compare as text */
            break;
    }
    return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
}

#define RESTART "oj daemon stop && oj daemon start"

bool oj_version_note(const char *cli, const char *daemon, char *buf, size_t len)
{
    if (strcmp(cli, daemon) == 0)
        return false;
    if (daemon[0] == '\0')
        snprintf(buf, len,
                 "note: the daemon runs an older oj than this one (%s); restart it to update "
                 "it: %s",
                 cli, RESTART);
    else if (oj_version_cmp(daemon, cli) < 0)
        snprintf(buf, len,
                 "note: the daemon runs oj %s, older than this oj %s; restart it to update it: "
                 "%s",
                 daemon, cli, RESTART);
    else
        snprintf(buf, len,
                 "note: the daemon runs oj %s, newer than this oj %s; commands new in %s are "
                 "missing here: use the oj that started the daemon",
                 daemon, cli, daemon);
    return true;
}

void oj_unknown_method_error(const char *message, const char *cli, const char *daemon, char *buf,
                             size_t len)
{
    if (daemon[0] && oj_version_cmp(daemon, cli) >= 0)
        snprintf(buf, len, "%s (daemon oj %s, this oj %s)", message, daemon, cli);
    else
        snprintf(buf, len,
                 "%s: the daemon (oj %s) is older than this oj %s; restart it to update it: %s",
                 message, daemon[0] ? daemon : "before 0.1.0", cli, RESTART);
}
