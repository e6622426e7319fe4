/* tmux_arg.c — see tmux_arg.h. */
#include "tmux_arg.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *oj_tmux_arg(const char *s, enum oj_tmux_expands how)
{
    size_t len = strlen(s);
    /* at worst every byte doubles, plus the '\' before a final ';' */
    char *out = malloc(2 * len + 2), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        if (s[i] == '#' && how != OJ_TMUX_WORD) {
            /* A run of '#': doubled, unless a '[' follows it, when tmux
             * keeps the whole run as it is (and would keep "##[" too). */
            size_t run = strspn(s + i, "#");
            bool style = s[i + run] == '[';
            for (size_t k = 0; k < run; k++) {
                *o++ = '#';
                if (!style)
                    *o++ = '#';
            }
            i += run;
            continue;
        }
        if (s[i] == '%' && how == OJ_TMUX_FORMAT_TIME)
            *o++ = '%';
        if (s[i] == ';' && i == len - 1)
            *o++ = '\\';
        *o++ = s[i++];
    }
    *o = '\0';
    return out;
}
