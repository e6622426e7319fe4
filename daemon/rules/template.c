/* template.c — see template.h. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h" /* oj_shell_quote */

struct buf {
    char *p;
    size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 128) + n;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Walks tmpl; for each placeholder calls each(key, arg). Literal text goes
 * to b when b is given. */
static int walk(const char *tmpl, struct buf *b, int (*each)(const char *key, void *arg),
                void *arg, char *err, size_t errlen)
{
    for (const char *p = tmpl; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            if (b && put(b, p, 1) != 0)
                return -1;
            p += 2;
            continue;
        }
        if (*p != '{') {
            const char *next = strpbrk(p, "{}");
            size_t n = next ? (size_t)(next - p) : strlen(p);
            if (n == 0) { /* a lone '}' */
                n = 1;
            }
            if (b && put(b, p, n) != 0)
                return -1;
            p += n;
            continue;
        }
        const char *close = strchr(p, '}');
        if (close == NULL) {
            snprintf(err, errlen, "unclosed '{' in \"%.60s\" (write {{ for a literal brace)", p);
            return -1;
        }
        char key[64];
        size_t klen = (size_t)(close - p - 1);
        if (klen == 0 || klen >= sizeof key) {
            snprintf(err, errlen, "bad placeholder \"%.*s\"", (int)(klen + 2 < 60 ? klen + 2 : 60),
                     p);
            return -1;
        }
        memcpy(key, p + 1, klen);
        key[klen] = '\0';
        if (each(key, arg) != 0) {
            snprintf(err, errlen, "unknown placeholder {%s}", key);
            return -1;
        }
        p = close + 1;
    }
    return 0;
}

struct expand_ctx {
    struct buf *b;
    oj_template_lookup lookup;
    void *arg;
    int quote;
};

static int expand_one(const char *key, void *arg)
{
    struct expand_ctx *c = arg;
    const char *v = c->lookup(key, c->arg);
    if (v == NULL)
        return -1;
    if (!c->quote)
        return put(c->b, v, strlen(v)) == 0 ? 0 : -1;
    char *q = oj_shell_quote(v);
    int rc = q && put(c->b, q, strlen(q)) == 0 ? 0 : -1;
    free(q);
    return rc;
}

int oj_template_expand(const char *tmpl, oj_template_lookup lookup, void *arg, int quote,
                       char **out, char *err, size_t errlen)
{
    struct buf b = {0};
    if (put(&b, "", 0) != 0)
        return -1;
    struct expand_ctx c = {&b, lookup, arg, quote};
    if (walk(tmpl, &b, expand_one, &c, err, errlen) != 0) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    return 0;
}

static int check_one(const char *key, void *arg)
{
    for (const char *const *k = arg; *k; k++)
        if (strcmp(*k, key) == 0)
            return 0;
    return -1;
}

int oj_template_check(const char *tmpl, const char *const known[], char *err, size_t errlen)
{
    return walk(tmpl, NULL, check_one, (void *)known, err, errlen);
}
