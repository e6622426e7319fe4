/* Docs move with the code: every command in the CLI's table is documented in
 * docs/cli.md, and every rpc of oj.Control is named in docs or served. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing (tests run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
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
