/* template.h — runbook templates: "{name}" placeholders filled with values.
 * Every value is shell-quoted where it lands, so an input such as
 * x"; rm -rf ~; " is only ever text in the command it ends up in. */
#ifndef OJ_TEMPLATE_H
#define OJ_TEMPLATE_H
#include <stddef.h>

/* Returns the value for `key`, or NULL when there is no such placeholder. */
typedef const char *(*oj_template_lookup)(const char *key, void *arg);

/* Expands `tmpl` into a malloc'd string in *out. "{key}" becomes the
 * shell-quoted value (quote = true) or the raw value (quote = false, for
 * text that is not a command, like an agent prompt); "{{" and "}}" are
 * literal braces. Returns 0, or -1 with the unknown or unclosed placeholder
 * named in err. */
int oj_template_expand(const char *tmpl, oj_template_lookup lookup, void *arg, int quote,
                       char **out, char *err, size_t errlen);

/* The placeholders a template uses, checked against the known names
 * (NULL-terminated); -1 with the first unknown one named in err. */
int oj_template_check(const char *tmpl, const char *const known[], char *err, size_t errlen);
#endif
