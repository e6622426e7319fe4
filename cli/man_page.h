/* man_page.h — oj(1) in roff, written from the command table and
 * reference.h (`oj help --man`; `make` installs it as man/man1/oj.1). */
#ifndef OJ_MAN_PAGE_H
#define OJ_MAN_PAGE_H
#include <stdio.h>

void oj_man_page(FILE *f);
#endif
