/*
 * fuzz_csv.c: libFuzzer harness for the streaming CSV reader (formats/csv.c).
 *
 * The input is read twice: from memory (fmt_csv_open_mem) and as a file through
 * read() (fmt_csv_open on a memfd). The fuzz build compiles csv.c with a read buffer
 * of a few bytes (CSV_BUF_INITIAL), so in file mode every record crosses buffer
 * refills: both readings must give the same header, records and problems, byte for
 * byte. Also checked: records have the header's field count, lines increase and lie
 * inside the input, fields are trimmed, every problem has a line inside the input,
 * fmt_csv_column finds each header name, fmt_csv_map keeps its contract.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A growing byte string. */
typedef struct {
	char *s;
	size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_fmt(sbuf *b, const char *fmt, ...) JOS_PRINTF(2, 3);

static void sb_fmt(sbuf *b, const char *fmt, ...)
{
	char tmp[1200];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k < 0)
		abort();
	sb_add(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void sb_rec(sbuf *b, const fmt_record *r, uint32_t nlines)
{
	if (r->line < 1 || r->line > nlines)
		abort();
	sb_fmt(b, "%u:%zu", (unsigned)r->line, r->nf);
	for (size_t i = 0; i < r->nf; i++) {
		const fmt_field *f = &r->f[i];
		if (f->n && (jos_isblank(f->s[0]) || jos_isblank(f->s[f->n - 1])))
			abort();   /* fields are trimmed */
		sb_fmt(b, "|%zu:", f->n);
		sb_add(b, f->s, f->n);
	}
	sb_add(b, "\n", 1);
}

static const fmt_column cols[] = {
	{ "school_id", true }, { "name", false }, { "budget", false }, { "a", false },
};

/* Reads everything from an opened (or failed) reader into out; checks invariants. */
static void drain(sbuf *out, fmt_csv *c, int rc, jos_errlist *errs, uint32_t nlines)
{
	sb_fmt(out, "rc=%d\n", rc);
	if (rc == JOS_OK) {
		const fmt_record *h = fmt_csv_header(c);
		if (h->nf == 0)
			abort();
		char sep = fmt_csv_separator(c);
		if (sep != ',' && sep != ';')
			abort();
		sb_fmt(out, "sep=%c\n", sep);
		sb_rec(out, h, nlines);
		for (size_t i = 0; i < h->nf; i++) {
			/* names are NUL-terminated copies; the first equal name is found */
			if (h->f[i].s[h->f[i].n] != '\0')
				abort();
			if (strlen(h->f[i].s) != h->f[i].n)
				continue;   /* cannot happen: a NUL is refused */
			int j = fmt_csv_column(c, h->f[i].s);
			if (j < 0 || (size_t)j > i || h->f[j].n != h->f[i].n)
				abort();
		}
		int idx[sizeof cols / sizeof cols[0]];
		int mrc = fmt_csv_map(c, cols, sizeof cols / sizeof cols[0], idx, errs);
		if (mrc != JOS_OK && mrc != JOS_EINVALID)
			abort();
		for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
			if (idx[i] < -1 || idx[i] >= (int)h->nf)
				abort();
			if (idx[i] >= 0 && (h->f[idx[i]].n != strlen(cols[i].name) ||
					    jos_strncasecmp(h->f[idx[i]].s, cols[i].name,
							    h->f[idx[i]].n) != 0))
				abort();
			if (cols[i].required && idx[i] < 0 && mrc != JOS_EINVALID)
				abort();
		}
		uint32_t last = h->line;
		fmt_record r;
		int n;
		while ((n = fmt_csv_next(c, &r, errs)) == 1) {
			if (r.nf != h->nf || r.line <= last)
				abort();
			last = r.line;
			sb_rec(out, &r, nlines);
		}
		if (n != 0)
			abort();
	} else {
		if (c != NULL || rc != JOS_EINVALID || errs->nerrors == 0)
			abort();
	}
	fmt_csv_free(c);
	for (size_t i = 0; i < errs->n; i++) {
		const jos_problem *p = &errs->items[i];
		if (p->line < 1 || p->line > nlines || strcmp(p->file, "t.csv") != 0) {
			fprintf(stderr, "problem outside the input (%u lines): %s:%u: %s\n",
				(unsigned)nlines, p->file, (unsigned)p->line, p->msg);
			abort();
		}
		sb_fmt(out, "%s %u: %s\n", p->sev == JOS_SEV_WARNING ? "W" : "E",
		       (unsigned)p->line, p->msg);
	}
}

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';

	sbuf a = { 0 }, b = { 0 };
	jos_errlist errs;
	fmt_csv *c = NULL;

	jos_errlist_init(&errs);
	int rc = fmt_csv_open_mem(&c, (const char *)data, size, "t.csv", &errs);
	drain(&a, c, rc, &errs, nlines);
	jos_errlist_free(&errs);

	/* The same bytes through read(), refilling a tiny buffer. */
	if (memfd < 0 && (memfd = memfd_create("fuzz_csv", 0)) < 0)
		abort();
	if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	jos_errlist_init(&errs);
	c = NULL;
	rc = fmt_csv_open(&c, path, "t.csv", &errs);
	drain(&b, c, rc, &errs, nlines);
	jos_errlist_free(&errs);

	if (a.n != b.n || memcmp(a.s, b.s, a.n) != 0) {
		fprintf(stderr, "memory and file readings differ:\n--- memory\n%s--- file\n%s",
			a.s, b.s);
		abort();
	}
	free(a.s);
	free(b.s);
	return 0;
}
