/* new_id.h — a fresh random id for a record: one letter that says its kind
 * ('s' a session, 'p' a pipeline) and six hex digits ("s1a2b3c"). */
#ifndef OJ_NEW_ID_H
#define OJ_NEW_ID_H
#include <stdbool.h>
#include <stddef.h>

/* Writes a random id into id, drawing again while taken(id, arg) says one
 * is in use (a record has it, or a file named after it exists). */
void oj_new_id(char kind, char *id, size_t len, bool (*taken)(const char *id, void *arg),
               void *arg);
#endif
