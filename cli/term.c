/* term.c — see term.h. */
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static enum oj_color_when color_when = OJ_COLOR_AUTO;

int oj_color_parse(const char *word)
{
    if (strcmp(word, "auto") == 0)
        return OJ_COLOR_AUTO;
    if (strcmp(word, "always") == 0)
        return OJ_COLOR_ALWAYS;
    if (strcmp(word, "never") == 0)
        return OJ_COLOR_NEVER;
    return -1;
}

void oj_color_set(enum oj_color_when when) { color_when = when; }

bool oj_color_decide(enum oj_color_when when, const char *no_color, bool tty, const char *term)
{
    if (when != OJ_COLOR_AUTO)
        return when == OJ_COLOR_ALWAYS;
    if (no_color && no_color[0]) /* https://no-color.org: set and not empty */
        return false;
    return tty && !(term && strcmp(term, "dumb") == 0);
}

bool oj_color_on(void)
{
    return oj_color_decide(color_when, getenv("NO_COLOR"), isatty(STDOUT_FILENO),
                           getenv("TERM"));
}

const char *oj_state_sgr(const char *state)
{
    static const struct {
        const char *state, *sgr;
    } map[] = {
        {"running", "32"},     {"working", "32"},   {"starting", "32"},
        {"waiting", "33"},     {"queued", "33"},    {"idle", "33"},
        {"stuck", "33"},       {"needs_input", "1;35"}, {"escalated", "1;35"},
        {"failed", "31"},      {"dead", "31"},      {"done", "36"},
        {"cancelled", "2"},    {"archived", "2"},   {"stale", "33"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(state, map[i].state) == 0)
            return map[i].sgr;
    return NULL;
}

/* Columns `s` takes: UTF-8 continuation bytes take none. */
static int columns_of(const char *s, size_t n)
{
    int cols = 0;
    for (size_t i = 0; i < n; i++)
        cols += ((unsigned char)s[i] & 0xc0) != 0x80;
    return cols;
}

const char *oj_cell(const char *state, const char *text, int width)
{
    static char bufs[8][512];
    static unsigned next;
    char *buf = bufs[next++ % 8];
    size_t len = strlen(text);
    char body[400];
    if (width > 0 && columns_of(text, len) > width) {
        /* keep width-1 columns, then "…" */
        size_t i = 0;
        int cols = 0;
        while (i < len && cols < width - 1) {
            i++;
            while (i < len && ((unsigned char)text[i] & 0xc0) == 0x80)
                i++;
            cols++;
        }
        snprintf(body, sizeof body, "%.*s\u2026", (int)i, text);
    } else {
        snprintf(body, sizeof body, "%s", text);
    }
    int pad = width > 0 ? width - columns_of(body, strlen(body)) : 0;
    if (pad < 0)
        pad = 0;
    const char *sgr = state ? oj_state_sgr(state) : NULL;
    if (sgr && oj_color_on())
        snprintf(buf, sizeof bufs[0], "\033[%sm%s\033[0m%*s", sgr, body, pad, "");
    else
        snprintf(buf, sizeof bufs[0], "%s%*s", body, pad, "");
    return buf;
}

int oj_term_columns(void)
{
    if (!isatty(STDOUT_FILENO))
        return 0; /* piped: nothing is cut */
    const char *env = getenv("COLUMNS");
    if (env && atoi(env) > 0)
        return atoi(env);
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

int oj_fit_width(int want, int others, int least)
{
    int cols = oj_term_columns();
    if (cols <= 0 || others + want <= cols)
        return want;
    int w = cols - others;
    return w < least ? (want < least ? want : least) : w;
}
