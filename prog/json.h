/* SPDX-License-Identifier: MIT */
/*
 * A tiny streaming JSON writer for the tools' --json output and the
 * benchmark files: it tracks nesting so commas are always right, escapes
 * strings, and writes 64-bit register values as "0x..." strings (JSON
 * numbers lose precision past 2^53 in most parsers).
 */
#ifndef VIPI_PROG_JSON_H
#define VIPI_PROG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	bool pretty;
	unsigned int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, FILE *f, bool pretty);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* The key of the next value inside an object. */
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
/* printf("%.*f"); non-finite values become null */
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* "0x1f": a register value, lossless for every JSON reader */
void json_hex(struct json *j, uint64_t v);

/* A value already rendered as JSON text (e.g. by another writer). */
void json_raw(struct json *j, const char *text);

/* key + value in one call */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_i64(struct json *j, const char *key, int64_t v);
void json_kv_double(struct json *j, const char *key, double v, int decimals);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_hex(struct json *j, const char *key, uint64_t v);

/* End the document with a newline (pretty or not). */
void json_finish(struct json *j);

#endif
