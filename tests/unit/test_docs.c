/* Docs move with the code: every command in the CLI's table is documented in
 * docs/cli.md, and the README shows both quick-start commands. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "cmd.h"

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
