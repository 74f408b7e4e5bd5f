/*
 * fuzz_ini.c: libFuzzer harness for the INI reader (formats/ini.c).
 *
 * The input is parsed from memory and from a file (a memfd): both must call back the
 * same sections and options and report the same problems. Each callback's strings are
 * checked: trimmed, one line each, valid to their NUL; a name always has a section;
 * lines increase and lie inside the input. The callback sometimes refuses a value
 * (JOS_EINVALID), as settlement.ini's loader does, and the reader must go on.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	char *s;
	size_t n, cap;
	uint32_t nlines, last;
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

	jos_errlist_init(&errs);
	int rc = fmt_ini_parse_mem((const char *)data, size, "t.ini", cb, &a, &errs);
	finish(&a, rc, &errs);
	jos_errlist_free(&errs);

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
