/* prompt.c — see prompt.h. */
#include "prompt.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const oj_prompt_defaults[] = {
    "/do you want to [^?]*\\?/",           /* "Do you want to proceed?" */
    "/^[^a-z]*allow [^?]*\\?/",            /* "Allow this command to run?" */
    "/[[(]y(es)?/no?[])][[:space:]:?]*$/", /* "[y/n]", "(y/N)", "[yes/no]" */
    "/press (enter|return) to continue/",
    NULL,
};

struct pattern {
    bool regex;
    regex_t re;
    char *text; /* the substring, lower case (not a regex) */
};

struct oj_prompts {
    struct pattern *at;
    size_t n;
};

/* "/.../": the regex between the slashes, in out (NUL-terminated); else false. */
static bool regex_body(const char *pattern, char *out, size_t outlen)
{
    size_t n = strlen(pattern);
    if (n < 2 || pattern[0] != '/' || pattern[n - 1] != '/' || n - 2 >= outlen)
        return false;
    memcpy(out, pattern + 1, n - 2);
    out[n - 2] = '\0';
    return true;
}

const char *oj_prompt_pattern_problem(const char *pattern, char *why, size_t whylen)
{
    size_t n = strlen(pattern);
    if (n == 0)
        return "an empty pattern matches everything";
    if (n > OJ_PROMPT_MAX_LEN) {
        snprintf(why, whylen, "longer than %d characters", OJ_PROMPT_MAX_LEN);
        return why;
    }
    for (const char *c = pattern; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return "holds a control character (a pattern matches one line of text)";
    char body[OJ_PROMPT_MAX_LEN + 1];
    if (!regex_body(pattern, body, sizeof body))
        return NULL; /* a substring */
    if (body[0] == '\0')
        return "an empty regular expression matches everything";
    regex_t re;
    int rc = regcomp(&re, body, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char msg[160];
        regerror(rc, &re, msg, sizeof msg);
        snprintf(why, whylen, "not a valid regular expression: %s", msg);
        return why;
    }
    regfree(&re);
    return NULL;
}

/* Adds one pattern; false when out of memory or the pattern is bad (err). */
static bool add(struct oj_prompts *p, const char *pattern, char *err, size_t errlen)
{
    char why[256];
    const char *bad = oj_prompt_pattern_problem(pattern, why, sizeof why);
    if (bad) {
        if (err[0] == '\0')
            snprintf(err, errlen, "needs_input pattern \"%.80s\" left out: %s", pattern, bad);
        return true; /* left out; the others still count */
    }
    struct pattern *x = &p->at[p->n];
    char body[OJ_PROMPT_MAX_LEN + 1];
    memset(x, 0, sizeof *x);
    if (regex_body(pattern, body, sizeof body)) {
        if (regcomp(&x->re, body, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            return true; /* checked above: cannot happen */
        x->regex = true;
    } else {
        if ((x->text = strdup(pattern)) == NULL)
            return false;
        for (char *c = x->text; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    p->n++;
    return true;
}

struct oj_prompts *oj_prompts_new(const char *extra, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    size_t cap = sizeof oj_prompt_defaults / sizeof *oj_prompt_defaults;
    for (const char *c = extra ? extra : ""; *c; c++)
        cap += *c == '\n';
    cap += 1;
    struct oj_prompts *p = calloc(1, sizeof *p);
    if (p == NULL || (p->at = calloc(cap, sizeof *p->at)) == NULL) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; oj_prompt_defaults[i]; i++)
        if (!add(p, oj_prompt_defaults[i], err, errlen)) {
            oj_prompts_free(p);
            return NULL;
        }
    char *copy = strdup(extra ? extra : "");
    if (copy == NULL) {
        oj_prompts_free(p);
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, "\n", &save); tok && p->n < cap;
         tok = strtok_r(NULL, "\n", &save))
        if (!add(p, tok, err, errlen)) {
            free(copy);
            oj_prompts_free(p);
            return NULL;
        }
    free(copy);
    return p;
}

void oj_prompts_free(struct oj_prompts *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->at[i].regex)
            regfree(&p->at[i].re);
        free(p->at[i].text);
    }
    free(p->at);
    free(p);
}

/* Case-insensitive substring (ASCII letters; other bytes as they are). */
static bool has_text(const char *line, const char *lower)
{
    size_t n = strlen(lower);
    for (const char *s = line; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == lower[i])
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static bool matches(const struct oj_prompts *p, const char *line)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct pattern *x = &p->at[i];
        if (x->regex ? regexec(&x->re, line, 0, NULL, 0) == 0 : has_text(line, x->text))
            return true;
    }
    return false;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* The line [s, s+n) trimmed into out. */
static void copy_trimmed(const char *s, size_t n, char *out, size_t outlen)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    snprintf(out, outlen, "%.*s", (int)n, s);
}

bool oj_prompts_find(const struct oj_prompts *p, const char *text, char *line, size_t linelen)
{
    if (p == NULL || text == NULL)
        return false;
    /* From the end backwards, one non-blank line at a time. */
    const char *end = text + strlen(text);
    int seen = 0;
    char buf[1024];
    while (end > text && seen < OJ_PROMPT_LINES) {
        const char *stop = end;
        if (stop > text && stop[-1] == '\n')
            stop--;
        const char *start = stop;
        while (start > text && start[-1] != '\n')
            start--;
        size_t n = (size_t)(stop - start);
        end = start;
        if (blank(start, n))
            continue;
        seen++;
        snprintf(buf, sizeof buf, "%.*s", (int)n, start);
        if (matches(p, buf)) {
            copy_trimmed(start, n, line, linelen);
            return true;
        }
    }
    return false;
}

bool oj_ask_answered(const char *text, const char *question)
{
    if (text == NULL || question == NULL || question[0] == '\0')
        return false;
    /* The last line that shows the question. */
    const char *at = NULL;
    for (const char *s = strstr(text, question); s; s = strstr(s + 1, question))
        at = s;
    if (at == NULL)
        return false;
    const char *nl = strchr(at + strlen(question), '\n');
    if (nl == NULL)
        return false;
    return !blank(nl + 1, strlen(nl + 1));
}
