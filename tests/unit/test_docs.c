/* Docs move with the code: every command in the CLI's table is documented in
 * docs/cli.md, and the README shows both quick-start commands. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "cmd.h"
#include "help.h"
#include "reference.h"

/* The file's text; tests run from the repository root. */
static char *slurp(const char *path)
{
    char *text = read_file(path);
    cr_assert_not_null(text, "%s is missing (tests run from the repository root)", path);
    return text;
}

Test(docs, cli_reference_covers_every_command)
{
    char *doc = slurp("docs/cli.md");
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (oj_cmd_hidden(*c))
            continue; /* for scripts (completion), not for people */
        char want[128];
        if ((*c)->group)
            snprintf(want, sizeof want, "`oj %s %s", (*c)->group, (*c)->name);
        else
            snprintf(want, sizeof want, "`oj %s", (*c)->name);
        cr_expect(strstr(doc, want) != NULL, "docs/cli.md does not document %s`", want);
    }
    free(doc);
}

Test(docs, readme_shows_both_quick_start_commands)
{
    char *readme = slurp("README.md");
    cr_expect(strstr(readme, "make demo") != NULL);
    cr_expect(strstr(readme, "make test") != NULL);
    free(readme);
}

/* The man page's exit codes and variables (reference.c) are the ones
 * docs/cli.md documents, row for row. */
Test(docs, exit_codes_and_environment_match_the_cli_reference)
{
    char *doc = slurp("docs/cli.md");
    int codes = 0;
    for (const struct oj_exit_doc *x = oj_exit_docs; x->brief; x++, codes++) {
        char want[32];
        snprintf(want, sizeof want, "\n| %d | ", x->code);
        cr_expect(strstr(doc, want) != NULL, "docs/cli.md lacks exit code %d", x->code);
    }
    for (int code = codes; code < 100; code++) {
        char row[32];
        snprintf(row, sizeof row, "\n| %d | ", code);
        cr_expect(strstr(doc, row) == NULL, "exit code %d is in docs/cli.md, not in reference.c",
                  code);
    }
    for (const struct oj_env_doc *v = oj_env_docs; v->name; v++) {
        char want[64];
        snprintf(want, sizeof want, "`%s`", v->name);
        cr_expect(strstr(doc, want) != NULL, "docs/cli.md lacks %s", v->name);
    }
    /* every variable row of the doc's table is in reference.c */
    const char *table = strstr(doc, "## Environment");
    cr_assert_not_null(table);
    const char *end = strstr(table + 1, "\n## ");
    for (const char *p = table; (p = strstr(p, "\n| `")) && (!end || p < end); p++) {
        char name[64] = "";
        if (sscanf(p, "\n| `%63[A-Z_]`", name) != 1)
            continue;
        bool known = false;
        for (const struct oj_env_doc *v = oj_env_docs; v->name; v++)
            known = known || strcmp(v->name, name) == 0;
        cr_expect(known, "%s is in docs/cli.md's table, not in cli/reference.c", name);
    }
    free(doc);
}
