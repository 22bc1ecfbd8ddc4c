/* SPDX-License-Identifier: MIT */
/*
 * A small JSON reader for `vipi report`: parses a whole document into a
 * tree (objects keep their key order), enough for the files vipi writes.
 * Depth and size are bounded so a hostile file cannot exhaust the stack.
 */
#ifndef VIPI_PROG_JREAD_H
#define VIPI_PROG_JREAD_H

#include <stddef.h>

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	enum jv_type type;
	double num; /* JV_NUM, JV_BOOL (0/1) */
	char *str; /* JV_STR */
	size_t n; /* JV_ARR, JV_OBJ: members */
	struct jv **items;
	char **keys; /* JV_OBJ */
};

/* Parse text; NULL on error with the byte offset and reason in err. */
struct jv *jv_parse(const char *text, char *err, size_t errlen);
void jv_free(struct jv *v);
/* The member of an object, or NULL. */
const struct jv *jv_get(const struct jv *o, const char *key);
const char *jv_str(const struct jv *o, const char *key, const char *def);
double jv_num(const struct jv *o, const char *key, double def);
int jv_bool(const struct jv *o, const char *key);

#endif
