/* A new record's id is drawn again while one is taken: a pipeline id whose
 * log of an archived run still exists must not be reused (its log would mix
 * two pipelines' output). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "new_id.h"

static char refused[3][16];
static int asked;

/* Says the first three ids drawn are taken, as if their logs existed. */
static bool first_three_taken(const char *id, void *arg)
{
    (void)arg;
    if (asked < 3) {
        snprintf(refused[asked], sizeof refused[0], "%s", id);
        asked++;
        return true;
    }
    asked++;
    return false;
}

Test(new_id, an_id_in_use_is_never_handed_out)
{
    char id[16];
    oj_new_id('p', id, sizeof id, first_three_taken, NULL);
    cr_expect_eq(asked, 4, "drawn until one was free");
    for (int i = 0; i < 3; i++)
        cr_expect_str_neq(id, refused[i], "a taken id came back");
    cr_expect_eq(strlen(id), 7);
    cr_expect_eq(id[0], 'p');
    cr_expect_eq(strspn(id + 1, "0123456789abcdef"), 6, "%s", id);
}
