/* new_id.c — see new_id.h. */
#include "new_id.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>

#include "clock.h"

void oj_new_id(char kind, char *id, size_t len, bool (*taken)(const char *id, void *arg),
               void *arg)
{
    do {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)oj_mono_ns();
        snprintf(id, len, "%c%06x", kind, r & 0xffffff);
    } while (taken(id, arg));
}
