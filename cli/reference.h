/* reference.h — what oj's manual says besides the commands: exit codes, the
 * environment and the files. One table each, read by `oj --help`, the
 * generated man page (man_page.c) and checked against docs/cli.md by a test,
 * so the three cannot drift apart. */
#ifndef OJ_REFERENCE_H
#define OJ_REFERENCE_H

struct oj_exit_doc {
    int code;
    const char *brief;   /* a few words for `oj --help` */
    const char *meaning; /* the sentence for the manual */
};
extern const struct oj_exit_doc oj_exit_docs[]; /* ends with brief == NULL */

struct oj_env_doc {
    const char *name;
    const char *read_by;
    const char *meaning;
    const char *fallback; /* the default */
};
extern const struct oj_env_doc oj_env_docs[]; /* ends with name == NULL */

struct oj_file_doc {
    const char *path;
    const char *meaning;
};
extern const struct oj_file_doc oj_file_docs[]; /* ends with path == NULL */
#endif
