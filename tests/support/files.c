/*
 * files.c: temporary folders and exact problem-list assertions for the tests.
 */
#include "tests/support/test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/files.h"

char *tst_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);
	assert_non_null(p);
	snprintf(p, 4096, "%s/jos-test-XXXXXX", base && base[0] ? base : "/tmp");
	assert_non_null(mkdtemp(p));
	return p;
}

void tst_write_bytes(const char *dir, const char *name, const char *content, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!content) {
		unlink(path);
		return;
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void tst_write(const char *dir, const char *name, const char *content)
{
	tst_write_bytes(dir, name, content, content ? strlen(content) : 0);
}

void tst_rmtree(char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[4096];
	if (!dir)
		return;
	if ((d = opendir(dir))) {
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

void tst_dump(const jos_errlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "  [%s] %s:%u: %s\n",
			l->items[i].sev == JOS_SEV_ERROR ? "error" : "warning", l->items[i].file,
			(unsigned)l->items[i].line, l->items[i].msg);
}

static bool matches(const jos_problem *p, jos_severity sev, const char *file, uint32_t line,
		    const char *msg)
{
	return p->sev == sev && strcmp(p->file, file) == 0 && p->line == line &&
	       strcmp(p->msg, msg) == 0;
}

void tst_expect_only_error(const jos_errlist *l, const char *file, uint32_t line,
			   const char *msg)
{
	const jos_problem *err = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].sev == JOS_SEV_ERROR && !err)
			err = &l->items[i];
	if (l->nerrors != 1 || !err || !matches(err, JOS_SEV_ERROR, file, line, msg)) {
		fprintf(stderr, "expected exactly one error: %s:%u: %s\ngot %zu:\n", file,
			(unsigned)line, msg, l->nerrors);
		tst_dump(l);
		fail();
	}
}

void tst_expect_problem(const jos_errlist *l, jos_severity sev, const char *file,
			uint32_t line, const char *msg)
{
	for (size_t i = 0; i < l->n; i++)
		if (matches(&l->items[i], sev, file, line, msg))
			return;
	fprintf(stderr, "expected %s %s:%u: %s\ngot:\n", sev == JOS_SEV_ERROR ? "error" : "warning",
		file, (unsigned)line, msg);
	tst_dump(l);
	fail();
}
