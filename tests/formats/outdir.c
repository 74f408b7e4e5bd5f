/*
 * tests/formats/outdir.c: the output folder appears whole or not at all.
 */
#include "support/test.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/formats.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/jos-outdir-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", root, rel);
	return stat(p, &st) == 0;
}

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static size_t entries(void)
{
	size_t n = 0;
	DIR *d = opendir(root);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

static void test_fmt_outdir__refuses_non_empty_without_force(void **state)
{
	char out[300];
	jos_err err;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_check(out, false, &err), JOS_OK); /* absent */
	mkdir(out, 0755);
	assert_int_equal(fmt_outdir_check(out, false, &err), JOS_OK); /* empty */
	put("out/foreign.txt", "x");
	assert_int_equal(fmt_outdir_check(out, false, &err), JOS_EUSAGE);
	assert_non_null(strstr(err.msg, "--force"));
	assert_int_equal(fmt_outdir_check(out, true, &err), JOS_OK);
}

static void test_fmt_outdir__commit_writes_sums_and_renames(void **state)
{
	char out[300], p[400], line[256];
	fmt_outdir *od = NULL;
	jos_err err;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "summary.csv", "abc", 3, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "statements/0629.xml", "", 0, &err), JOS_OK);
	assert_false(exists("out")); /* nothing visible before the commit */
	assert_int_equal(fmt_outdir_commit(od, &err), JOS_OK);
	fmt_outdir_free(od);
	assert_true(exists("out/summary.csv"));
	assert_true(exists("out/statements/0629.xml"));
	snprintf(p, sizeof p, "%s/SHA256SUMS", out);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	/* sorted by path; sha256("") and sha256("abc") are well known */
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  statements/0629.xml\n");
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  summary.csv\n");
	fclose(f);
	assert_int_equal(entries(), 1); /* no temporary folder left */
}

/* Two threads writing 24 files of 1 MiB (early write-backs start on the way): every file
 * whole, SHA256SUMS sorted over all of them. */
typedef struct {
	fmt_outdir *od;
	int first;
	char *data;
	int rc;
} writer_arg;

static void *write_half(void *arg)
{
	writer_arg *w = arg;
	jos_err err;
	for (int i = w->first; i < 24 && w->rc == JOS_OK; i += 2) {
		char rel[64];
		snprintf(rel, sizeof rel, "statements/%04d.xml", i);
		w->rc = fmt_outdir_write(w->od, rel, w->data + i, (size_t)1 << 20, &err);
	}
	return NULL;
}

static void test_fmt_outdir__threads_write_and_commit(void **state)
{
	char out[300], p[400], line[256];
	fmt_outdir *od = NULL;
	jos_err err;
	pthread_t t;
	(void)state;
	char *data = malloc(((size_t)1 << 20) + 24);
	assert_non_null(data);
	for (size_t i = 0; i < ((size_t)1 << 20) + 24; i++)
		data[i] = (char)('a' + i % 23);
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	writer_arg a = { od, 0, data, JOS_OK }, b = { od, 1, data, JOS_OK };
	assert_int_equal(pthread_create(&t, NULL, write_half, &b), 0);
	write_half(&a);
	pthread_join(t, NULL);
	assert_int_equal(a.rc, JOS_OK);
	assert_int_equal(b.rc, JOS_OK);
	assert_int_equal(fmt_outdir_commit(od, &err), JOS_OK);
	fmt_outdir_free(od);
	snprintf(p, sizeof p, "%s/SHA256SUMS", out);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	for (int i = 0; i < 24; i++) {
		char want[64];
		snprintf(want, sizeof want, "  statements/%04d.xml\n", i);
		assert_non_null(fgets(line, sizeof line, f));
		assert_int_equal(strlen(line), 64 + strlen(want));
		assert_string_equal(line + 64, want);
	}
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
	for (int i = 0; i < 24; i++) {   /* each file whole */
		snprintf(p, sizeof p, "%s/statements/%04d.xml", out, i);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_size, 1 << 20);
	}
	free(data);
	assert_int_equal(entries(), 1);
}

static void test_fmt_outdir__abandoned_run_leaves_nothing(void **state)
{
	char out[300];
	fmt_outdir *od = NULL;
	jos_err err;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "summary.csv", "abc", 3, &err), JOS_OK);
	fmt_outdir_free(od); /* a failure before commit */
	assert_false(exists("out"));
	assert_int_equal(entries(), 0);
}

static void test_fmt_outdir__force_replaces_whole_folder(void **state)
{
	char out[300];
	fmt_outdir *od = NULL;
	jos_err err;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	mkdir(out, 0755);
	put("out/foreign.txt", "old");
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "summary.csv", "new", 3, &err), JOS_OK);
	assert_int_equal(fmt_outdir_commit(od, &err), JOS_OK);
	fmt_outdir_free(od);
	assert_false(exists("out/foreign.txt"));
	assert_true(exists("out/summary.csv"));
	assert_int_equal(entries(), 1);
}

static void test_fmt_outdir__leftover_of_killed_run_removed(void **state)
{
	char out[300];
	fmt_outdir *od = NULL;
	jos_err err;
	(void)state;
	/* PID 2^22+1 is above Linux's largest possible pid_max: never a running process */
	mkdir(strcat(strcpy(out, root), "/.out.jos-settle-tmp-4194305"), 0755);
	put(".out.jos-settle-tmp-4194305/summary.csv", "half");
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	assert_false(exists(".out.jos-settle-tmp-4194305"));
	fmt_outdir_free(od);
	assert_int_equal(entries(), 0);
}

/* Files prepared in advance: those written hold what was written, those never written are
 * gone after the commit and absent from SHA256SUMS; a run abandoned after preparing
 * leaves nothing. */
static size_t files_in(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_fmt_outdir__prepared_files(void **state)
{
	char out[300], p[400], line[256];
	fmt_outdir *od = NULL;
	jos_err err;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	fmt_outdir_prepare(od, "statements/0001.xml");
	fmt_outdir_prepare(od, "statements/0002.xml");   /* never written */
	fmt_outdir_prepare(od, "statements/0003.xml");
	fmt_outdir_prepare(od, "statements/0003.xml");   /* again: no harm */
	fmt_outdir_prepare(od, "other/0009.xml");        /* never written, own folder */
	assert_int_equal(fmt_outdir_write(od, "statements/0001.xml", "abcdef", 6, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "statements/0003.xml", "abc", 3, &err), JOS_OK);
	assert_int_equal(fmt_outdir_write(od, "statements/0004.xml", "", 0, &err), JOS_OK);
	assert_int_equal(fmt_outdir_commit(od, &err), JOS_OK);
	fmt_outdir_free(od);
	assert_true(exists("out/statements/0001.xml"));
	assert_false(exists("out/statements/0002.xml"));
	assert_true(exists("out/statements/0003.xml"));
	assert_false(exists("out/other/0009.xml"));
	snprintf(p, sizeof p, "%s/statements", out);
	assert_int_equal(files_in(p), 3);
	snprintf(p, sizeof p, "%s/statements/0003.xml", out);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "abc");
	fclose(f);
	snprintf(p, sizeof p, "%s/SHA256SUMS", out);
	f = fopen(p, "r");
	assert_non_null(f);
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		assert_null(strstr(line, "0002"));
		assert_null(strstr(line, "0009"));
		n++;
	}
	fclose(f);
	assert_int_equal(n, 3);   /* 0001, 0003, 0004 */

	/* abandoned after preparing: nothing left */
	snprintf(out, sizeof out, "%s/out2", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	fmt_outdir_prepare(od, "statements/0001.xml");
	fmt_outdir_free(od);
	assert_false(exists("out2"));
	assert_int_equal(entries(), 1);
}

/* One thread prepares while another writes the same files in the same order (as settle
 * does): every written file holds its bytes, prepared files never written are gone. */
typedef struct {
	fmt_outdir *od;
	int n;
} prep_arg;

static void *prepare_all(void *arg)
{
	prep_arg *a = arg;
	for (int i = 0; i < a->n; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "statements/%04d.xml", i);
		fmt_outdir_prepare(a->od, rel);
	}
	return NULL;
}

static void test_fmt_outdir__prepare_while_writing(void **state)
{
	char out[300], p[400], buf[64];
	fmt_outdir *od = NULL;
	jos_err err;
	pthread_t t;
	(void)state;
	snprintf(out, sizeof out, "%s/out", root);
	assert_int_equal(fmt_outdir_begin(&od, out, &err), JOS_OK);
	prep_arg a = { od, 300 };
	assert_int_equal(pthread_create(&t, NULL, prepare_all, &a), 0);
	for (int i = 0; i < 300; i += 1 + (i % 7 == 3)) {   /* some never written */
		char rel[64];
		int n = snprintf(buf, sizeof buf, "file %d", i);
		snprintf(rel, sizeof rel, "statements/%04d.xml", i);
		assert_int_equal(fmt_outdir_write(od, rel, buf, (size_t)n, &err), JOS_OK);
	}
	pthread_join(t, NULL);
	assert_int_equal(fmt_outdir_commit(od, &err), JOS_OK);
	fmt_outdir_free(od);
	size_t written = 0;
	for (int i = 0; i < 300; i += 1 + (i % 7 == 3)) {
		snprintf(p, sizeof p, "%s/statements/%04d.xml", out, i);
		FILE *f = fopen(p, "r");
		assert_non_null(f);
		char got[64] = "";
		assert_non_null(fgets(got, sizeof got, f));
		fclose(f);
		snprintf(buf, sizeof buf, "file %d", i);
		assert_string_equal(got, buf);
		written++;
	}
	snprintf(p, sizeof p, "%s/statements", out);
	assert_int_equal(files_in(p), written);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fmt_outdir__refuses_non_empty_without_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__commit_writes_sums_and_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__threads_write_and_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__abandoned_run_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__force_replaces_whole_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__leftover_of_killed_run_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__prepared_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fmt_outdir__prepare_while_writing, setup, teardown),
	};
	return cmocka_run_group_tests_name("formats/outdir", tests, NULL, NULL);
}
