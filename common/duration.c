/* duration.c — see duration.h. */
#include "duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int oj_duration_parse(const char *text, int64_t *out_ms)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    int64_t n = 0;
    const char *p = text;
    while (isdigit((unsigned char)*p)) {
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*p - '0');
        p++;
    }
    int64_t unit;
    if (*p == '\0') {
        /* "30" was once 30 seconds, and archived what an operator meant as 30
         * days: a bare number is refused, but for 0 (zero in every unit). */
        if (n != 0)
            return OJ_DURATION_NO_UNIT;
        *out_ms = 0;
        return 0;
    }
    if (strcmp(p, "s") == 0)
        unit = 1000;
    else if (strcmp(p, "ms") == 0)
        unit = 1;
    else if (strcmp(p, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp(p, "h") == 0)
        unit = 3600 * 1000;
    else if (strcmp(p, "d") == 0)
        unit = 86400 * 1000;
    else
        return -1;
    if (n > INT64_MAX / unit)
        return -1;
    *out_ms = n * unit;
    return 0;
}

void oj_duration_format(int64_t ms, char *buf, size_t len)
{
    if (ms < 0)
        ms = 0;
    int64_t s = ms / 1000;
    if (s == 0)
        snprintf(buf, len, "%lldms", (long long)ms);
    else if (s < 60)
        snprintf(buf, len, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}
