// SPDX-License-Identifier: MIT
/*
 * The JSON reader behind `vipi report` (RFC 8259): recursive descent with
 * a depth limit, \u escapes decoded to UTF-8, numbers through strtod.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"

#define JV_MAX_DEPTH 64

struct jp {
	const char *s, *p;
	char *err;
	size_t errlen;
	int failed;
};

static struct jv *jv_value(struct jp *j, int depth);

static void jp_fail(struct jp *j, const char *why)
{
	if (!j->failed && j->err)
		snprintf(j->err, j->errlen, "at byte %zu: %s",
			 (size_t)(j->p - j->s), why);
	j->failed = 1;
}

static void ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static struct jv *jv_new(enum jv_type t)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

static int hex4(const char *p, unsigned int *out)
{
	unsigned int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *jv_string(struct jp *j)
{
	size_t cap = 16, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	j->p++; /* the opening quote */
	while (*j->p != '"') {
		unsigned int cp;
		char c = *j->p;

		if (n + 5 > cap) {
			char *o2 = realloc(out, cap *= 2);

			if (!o2) {
				free(out);
				return NULL;
			}
			out = o2;
		}
		if (!c || (unsigned char)c < 0x20) {
			jp_fail(j, "unterminated string");
			free(out);
			return NULL;
		}
		j->p++;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[n++] = c;
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			if (hex4(j->p, &cp)) {
				jp_fail(j, "bad \\u escape");
				free(out);
				return NULL;
			}
			j->p += 4;
			/* surrogates are kept as they are (never in vipi's
			 * files); everything else as UTF-8 */
			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else if (cp < 0x800) {
				out[n++] = (char)(0xc0 | (cp >> 6));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | (cp >> 12));
				out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			jp_fail(j, "bad escape");
			free(out);
			return NULL;
		}
	}
	j->p++;
	out[n] = '\0';
	return out;
}

static int jv_push(struct jv *v, struct jv *item, char *key)
{
	struct jv **items = realloc(v->items, (v->n + 1) * sizeof(*items));

	if (!items)
		return -1;
	v->items = items;
	if (v->type == JV_OBJ) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

		if (!keys)
			return -1;
		v->keys = keys;
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
	return 0;
}

static struct jv *jv_container(struct jp *j, int depth, int obj)
{
	struct jv *v = jv_new(obj ? JV_OBJ : JV_ARR);
	char close = obj ? '}' : ']';

	if (!v)
		return NULL;
	j->p++;
	ws(j);
	if (*j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct jv *item;

		ws(j);
		if (obj) {
			if (*j->p != '"') {
				jp_fail(j, "expected a key");
				break;
			}
			key = jv_string(j);
			if (!key)
				break;
			ws(j);
			if (*j->p != ':') {
				free(key);
				jp_fail(j, "expected ':'");
				break;
			}
			j->p++;
		}
		item = jv_value(j, depth + 1);
		if (!item || jv_push(v, item, key)) {
			free(key);
			jv_free(item);
			break;
		}
		ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			return v;
		}
		jp_fail(j, "expected ',' or a closing bracket");
		break;
	}
	jv_free(v);
	return NULL;
}

static struct jv *jv_value(struct jp *j, int depth)
{
	struct jv *v;
	char *end;

	if (depth > JV_MAX_DEPTH) {
		jp_fail(j, "nested too deep");
		return NULL;
	}
	ws(j);
	switch (*j->p) {
	case '{':
		return jv_container(j, depth, 1);
	case '[':
		return jv_container(j, depth, 0);
	case '"':
		v = jv_new(JV_STR);
		if (v && !(v->str = jv_string(j))) {
			free(v);
			return NULL;
		}
		return v;
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		unsigned int i;

		for (i = 0; i < 3; i++) {
			size_t len = strlen(words[i]);

			if (!strncmp(j->p, words[i], len)) {
				v = jv_new(i == 2 ? JV_NULL : JV_BOOL);
				if (v)
					v->num = i == 0;
				j->p += len;
				return v;
			}
		}
		break;
	}
	default:
		v = jv_new(JV_NUM);
		if (!v)
			return NULL;
		v->num = strtod(j->p, &end);
		if (end == j->p) {
			free(v);
			break;
		}
		j->p = end;
		return v;
	}
	jp_fail(j, "unexpected character");
	return NULL;
}

struct jv *jv_parse(const char *text, char *err, size_t errlen)
{
	struct jp j = { text, text, err, errlen, 0 };
	struct jv *v = jv_value(&j, 0);

	if (v) {
		ws(&j);
		if (*j.p) {
			jp_fail(&j, "text after the document");
			jv_free(v);
			return NULL;
		}
	} else {
		jp_fail(&j, "not JSON");
	}
	return v;
}

void jv_free(struct jv *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		jv_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const struct jv *jv_get(const struct jv *o, const char *key)
{
	size_t i;

	if (!o || o->type != JV_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->items[i];
	return NULL;
}

const char *jv_str(const struct jv *o, const char *key, const char *def)
{
	const struct jv *v = jv_get(o, key);

	return v && v->type == JV_STR ? v->str : def;
}

double jv_num(const struct jv *o, const char *key, double def)
{
	const struct jv *v = jv_get(o, key);

	return v && (v->type == JV_NUM || v->type == JV_BOOL) ? v->num : def;
}

int jv_bool(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->type == JV_BOOL && v->num != 0;
}
