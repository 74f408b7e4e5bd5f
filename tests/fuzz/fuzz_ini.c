/*
 * fuzz_ini.c: libFuzzer harness for the INI reader (formats/ini.c).
 *
 * The input is parsed from memory and from a file (a memfd): both must call back the
 * same sections and options and report the same problems. Each callback's strings are
 * checked: trimmed, one line each, valid to their NUL; a name always has a section;
 * lines increase and lie inside the input. The callback sometimes refuses a value
 * (JOS_EINVALID), as settlement.ini's loader does, and the reader must go on.
 *
 * In the memory pass every option also goes through the key parameter setter
 * (keys/keys.c), as settlement.ini's [key ...] sections and scenario overrides do:
 * key_param_set for one key, key_param_override for another. After each call the
 * key must keep its invariants (fractions 0..1, counts and money >= 0, categories and
 * types lower-cased, trimmed, non-empty and found again by key_weight_for /
 * key_tariff_for), a refusal must say why, and key_copy must copy it exactly.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/formats.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	char *s;
	size_t n, cap;
	uint32_t nlines, last;
	jos_key *keys;   /* [0] key_param_set, [1] key_param_override; NULL: not used */
} trace;

static void tr_add(trace *t, const char *s)
{
	size_t n = strlen(s);
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	memcpy(t->s + t->n, s, n + 1);
	t->n += n;
}

static void check_word(const char *w)
{
	size_t n = strlen(w);
	if (n && (jos_isblank(w[0]) || jos_isblank(w[n - 1])))
		abort();
	if (strchr(w, '\n'))
		abort();
}

static void check_canon(const char *w)
{
	size_t n = strlen(w);
	if (n == 0 || jos_isblank(w[0]) || jos_isblank(w[n - 1]))
		abort();
	for (size_t i = 0; i < n; i++)
		if (w[i] >= 'A' && w[i] <= 'Z')
			abort();
}

static void check_key(const jos_key *k)
{
	if (k->min_pupils < 0 || k->discount < 0 || k->discount > JOS_MICRO_ONE ||
	    k->phase_in < 0 || k->phase_in > JOS_MICRO_ONE || k->min_school_share < 0 ||
	    k->min_school_share > JOS_MICRO_ONE || (k->has_cap && k->cap < 0))
		abort();
	if (k->has_method && (unsigned)k->method > KEY_TARIFF)
		abort();
	for (size_t i = 0; i < k->nweights; i++) {
		check_canon(k->weights[i].category);
		if (k->weights[i].weight < 0)
			abort();
		/* the first of equal categories is the one found; they must not repeat */
		if (key_weight_for(k, k->weights[i].category) != k->weights[i].weight)
			abort();
	}
	for (size_t i = 0; i < k->ntariffs; i++) {
		jos_cents c = -1;
		check_canon(k->tariffs[i].type);
		if (k->tariffs[i].cents < 0)
			abort();
		if (!key_tariff_for(k, k->tariffs[i].type, &c) || c != k->tariffs[i].cents)
			abort();
	}
}

static void keys_option(jos_key *keys, const char *section, const char *name,
			const char *value, uint32_t line)
{
	jos_err err;
	for (int which = 0; which < 2; which++) {
		jos_err_clear(&err);
		int rc = which ? key_param_override(&keys[1], name, value, "t.ini", line, &err)
			       : key_param_set(&keys[0], name, value, "t.ini", line, &err);
		if (rc != JOS_OK && (rc != JOS_EINVALID || err.msg[0] == '\0'))
			abort();
		check_key(&keys[which]);
	}
	(void)section;
}

static int cb(void *vctx, const char *section, const char *name, const char *value,
	      uint32_t line, jos_errlist *errs)
{
	trace *t = vctx;
	if (!section || !*section || line < 1 || line > t->nlines || line <= t->last)
		abort();
	t->last = line;
	check_word(section);
	tr_add(t, "[");
	tr_add(t, section);
	tr_add(t, "]");
	if (name) {
		if (!value || !*name)
			abort();
		check_word(name);
		check_word(value);
		tr_add(t, name);
		tr_add(t, "=");
		tr_add(t, value);
		if (t->keys)
			keys_option(t->keys, section, name, value, line);
		if (strcmp(value, "bad") == 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, "t.ini", line, "bad value");
			tr_add(t, "\n");
			return JOS_EINVALID;
		}
	} else if (value) {
		abort();
	}
	tr_add(t, "\n");
	return JOS_OK;
}

static void finish(trace *t, int rc, jos_errlist *errs)
{
	char tmp[64];
	if (rc != JOS_OK && rc != JOS_EINVALID)
		abort();
	if ((rc == JOS_EINVALID) != (errs->nerrors > 0))
		abort();
	snprintf(tmp, sizeof tmp, "rc=%d\n", rc);
	tr_add(t, tmp);
	for (size_t i = 0; i < errs->n; i++) {
		if (errs->items[i].line < 1 || errs->items[i].line > t->nlines)
			abort();
		snprintf(tmp, sizeof tmp, "%u: ", (unsigned)errs->items[i].line);
		tr_add(t, tmp);
		tr_add(t, errs->items[i].msg);
		tr_add(t, "\n");
	}
}

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';

	trace a = { .nlines = nlines }, b = { .nlines = nlines };
	jos_errlist errs;
	tr_add(&a, "");
	tr_add(&b, "");

	jos_key keys[2];
	if (key_init(&keys[0], "standard") != JOS_OK || key_init(&keys[1], "standard") != JOS_OK)
		abort();
	a.keys = keys;
	jos_errlist_init(&errs);
	int rc = fmt_ini_parse_mem((const char *)data, size, "t.ini", cb, &a, &errs);
	finish(&a, rc, &errs);
	jos_errlist_free(&errs);
	for (int i = 0; i < 2; i++) {
		jos_key copy;
		if (key_copy(&copy, &keys[i]) != JOS_OK)
			abort();
		check_key(&copy);
		if (strcmp(copy.id, keys[i].id) || copy.nweights != keys[i].nweights ||
		    copy.ntariffs != keys[i].ntariffs || copy.cap != keys[i].cap ||
		    copy.has_cap != keys[i].has_cap || copy.discount != keys[i].discount ||
		    copy.phase_in != keys[i].phase_in || copy.method != keys[i].method ||
		    copy.min_pupils != keys[i].min_pupils ||
		    copy.min_school_share != keys[i].min_school_share)
			abort();
		for (size_t j = 0; j < copy.nweights; j++)
			if (strcmp(copy.weights[j].category, keys[i].weights[j].category) ||
			    copy.weights[j].weight != keys[i].weights[j].weight)
				abort();
		for (size_t j = 0; j < copy.ntariffs; j++)
			if (strcmp(copy.tariffs[j].type, keys[i].tariffs[j].type) ||
			    copy.tariffs[j].cents != keys[i].tariffs[j].cents)
				abort();
		key_free(&copy);
		key_free(&keys[i]);
	}

	if (memfd < 0 && (memfd = memfd_create("fuzz_ini", 0)) < 0)
		abort();
	if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	jos_errlist_init(&errs);
	rc = fmt_ini_parse_file(path, "t.ini", cb, &b, &errs);
	finish(&b, rc, &errs);
	jos_errlist_free(&errs);

	if (a.n != b.n || memcmp(a.s, b.s, a.n) != 0) {
		fprintf(stderr, "memory and file parses differ:\n--- memory\n%s--- file\n%s",
			a.s, b.s);
		abort();
	}
	free(a.s);
	free(b.s);
	return 0;
}
