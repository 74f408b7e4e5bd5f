/*
 * tests/formats/report.c: the scenario report front door and shared text helpers
 * (formats/report.c): the format from the extension, whole-or-nothing writing, and
 * the escaping every writer relies on. The figures of each format are checked to the
 * cent end to end in tests/scenario.sh.
 */
#include "support/test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/report_int.h"
#include "support/dsbuild.h"

static void test_fmt_report__kind_from_extension(void **state)
{
	(void)state;
	assert_int_equal(fmt_report_kind_of("r.csv"), FMT_REPORT_CSV);
	assert_int_equal(fmt_report_kind_of("dir.x/R.MD"), FMT_REPORT_MD);
	assert_int_equal(fmt_report_kind_of("a/b.html"), FMT_REPORT_HTML);
	assert_int_equal(fmt_report_kind_of("b.Xlsx"), FMT_REPORT_XLSX);
	assert_int_equal(fmt_report_kind_of("b.htm"), -1);
	assert_int_equal(fmt_report_kind_of("b.txt"), -1);
	assert_int_equal(fmt_report_kind_of(".csv"), -1);     /* no name */
	assert_int_equal(fmt_report_kind_of("x.csv/"), -1);
	assert_int_equal(fmt_report_kind_of("csv"), -1);
}

static char *escaped(void (*fn)(fmt_rbuf *, const char *), const char *s)
{
	fmt_rbuf b = { 0 };
	char *out = NULL;
	size_t n;
	jos_err err;
	fn(&b, s);
	assert_int_equal(fmt_rb_finish(&b, &out, &n, &err), JOS_OK);
	assert_int_equal(strlen(out), n);
	return out;
}

static void test_fmt_report__escaping(void **state)
{
	(void)state;
	char *s;
	s = escaped(fmt_rb_csv, "plain");
	assert_string_equal(s, "plain");
	free(s);
	s = escaped(fmt_rb_csv, "a, \"b\"\nc");
	assert_string_equal(s, "\"a, \"\"b\"\"\nc\"");
	free(s);
	s = escaped(fmt_rb_html, "<b>'x' & \"y\"</b>");
	assert_string_equal(s, "&lt;b&gt;&#39;x&#39; &amp; &quot;y&quot;&lt;/b&gt;");
	free(s);
	s = escaped(fmt_rb_md, "a|b *c* _d_ <e> [f](g) \\\nh");
	assert_string_equal(s, "a\\|b \\*c\\* \\_d\\_ \\<e\\> \\[f\\](g) \\\\ h");
	free(s);
}

static int count_tmp(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, "jos-settle-tmp"))
			n++;
	closedir(d);
	return n;
}

/* A tiny scenario result to write. */
typedef struct {
	jos_dataset *ds;
	scn_scenario *sc;
	scn_result *r;
} fixture;

static void fixture_make(fixture *f)
{
	jos_errlist errs;
	jos_err err;
	const char *text = "[variant A]\nkey = k\n";
	f->ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(f->ds, "0100", true);
	dsb_muni(f->ds, "0200", false);
	dsb_school(f->ds, "S1", "0100", "SO", 100000, 0);
	dsb_enrol(f->ds, 0, "S1", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(f->ds, 1, "S1", "0200", "2025-08-01", NULL, NULL);
	dsb_key(f->ds, "k", "prorata");
	jos_errlist_init(&errs);
	assert_int_equal(scn_scenario_parse_mem(&f->sc, text, strlen(text), "s.ini", f->ds, &errs),
			 JOS_OK);
	jos_errlist_free(&errs);
	assert_int_equal(scn_run(&f->r, f->ds, f->sc, &err), JOS_OK);
}

static void fixture_free(fixture *f)
{
	scn_result_free(f->r);
	scn_scenario_free(f->sc);
	eng_dataset_free(f->ds);
}

static void test_fmt_report__write_whole_or_nothing(void **state)
{
	(void)state;
	fixture f;
	jos_err err;
	char dir[] = "/tmp/jos-report-XXXXXX", path[128], buf[256];
	fixture_make(&f);
	assert_non_null(mkdtemp(dir));

	/* replaces an existing report in one step */
	snprintf(path, sizeof path, "%s/r.csv", dir);
	FILE *fp = fopen(path, "w");
	fputs("old\n", fp);
	fclose(fp);
	assert_int_equal(fmt_report_write(path, f.r, &err), JOS_OK);
	fp = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_memory_equal(buf, "variant,label,", 14);
	assert_int_equal(count_tmp(dir), 0);

	/* an unknown extension is a usage error and writes nothing */
	snprintf(path, sizeof path, "%s/r.txt", dir);
	assert_int_equal(fmt_report_write(path, f.r, &err), JOS_EUSAGE);
	assert_int_equal(access(path, F_OK), -1);

	/* a folder that does not exist: an I/O error, for every format */
	const char *const exts[] = { "csv", "md", "html", "xlsx" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/missing/r.%s", dir, exts[i]);
		assert_int_equal(fmt_report_write(path, f.r, &err), JOS_EIO);
	}

	/* the target is a folder: the rename fails and the temporary file is removed */
	snprintf(path, sizeof path, "%s/sub.xlsx", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(buf, sizeof buf, "%s/sub.xlsx/inside", dir);
	fp = fopen(buf, "w");
	fclose(fp);
	assert_int_equal(fmt_report_write(path, f.r, &err), JOS_EIO);
	assert_int_equal(count_tmp(dir), 0);
	unlink(buf);
	rmdir(path);
	snprintf(path, sizeof path, "%s/r.csv", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_report__kind_from_extension),
		cmocka_unit_test(test_fmt_report__escaping),
		cmocka_unit_test(test_fmt_report__write_whole_or_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
