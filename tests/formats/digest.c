/*
 * tests/formats/digest.c: the InputDigest (SPEC): sha256 over NAME "\n" LENGTH "\n" BYTES
 * of each input file that exists, in the fixed order. Expected values were computed
 * independently with
 *   for f in settlement.ini municipalities.csv schools.csv costs.csv enrolments.csv \
 *            agreements.csv; do [ -e $f ] && { printf '%s\n%s\n' $f $(stat -c%s $f); cat $f; }
 *   done | sha256sum
 */
#include "support/test.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/formats.h"
#include "support/files.h"

static const char *const files[][2] = {
	{ "settlement.ini", "[settlement]\nname = Test\n" },
	{ "municipalities.csv", "code,name,in_region\n0546,Leiden,yes\n" },
	{ "schools.csv", "school_id,name,municipality_code,type\r\nS1,School 1,0546,SO\r\n" },
	{ "costs.csv", "school_id,budget\nS1,1000.00\n" },
	{ "enrolments.csv", "" },
	{ "agreements.csv", "municipality_code,key\n0629,standard\n" },
};

static char *setup(void)
{
	char *dir = tst_tmpdir();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		tst_write(dir, files[i][0], files[i][1]);
	tst_write(dir, "README.txt", "not an input: ignored\n");
	return dir;
}

static void test_fmt_digest__all_files(void **state)
{
	char hex[65];
	jos_err err;
	(void)state;
	char *dir = setup();
	assert_int_equal(fmt_input_digest(hex, dir, &err), JOS_OK);
	assert_string_equal(hex, "55bcf100bd08554ebb7e36353f58553deeb2ea93dfaa1565710f74fa298aa0c8");
	tst_rmtree(dir);
}

static void test_fmt_digest__absent_file_contributes_nothing(void **state)
{
	char hex[65];
	jos_err err;
	(void)state;
	char *dir = setup();
	tst_write(dir, "agreements.csv", NULL);
	assert_int_equal(fmt_input_digest(hex, dir, &err), JOS_OK);
	assert_string_equal(hex, "e1405a02315373c606378ab762ad85f6d8b100f11a90c505267c721c72bd296a");
	tst_rmtree(dir);
}

static void test_fmt_digest__bytes_as_on_disk(void **state)
{
	char a[65], b[65];
	jos_err err;
	(void)state;
	char *dir = setup();
	assert_int_equal(fmt_input_digest(a, dir, &err), JOS_OK);
	/* the same content with LF instead of CRLF is another input */
	tst_write(dir, "schools.csv", "school_id,name,municipality_code,type\nS1,School 1,0546,SO\n");
	assert_int_equal(fmt_input_digest(b, dir, &err), JOS_OK);
	assert_string_not_equal(a, b);
	tst_rmtree(dir);
}

static void test_fmt_digest__unreadable_file(void **state)
{
	char hex[65], path[4200];
	jos_err err;
	(void)state;
	char *dir = setup();
	tst_write(dir, "agreements.csv", NULL);
	snprintf(path, sizeof path, "%s/agreements.csv", dir);
	assert_int_equal(mkdir(path, 0700), 0);   /* a folder where a file should be */
	assert_int_equal(fmt_input_digest(hex, dir, &err), JOS_EIO);
	assert_string_equal(err.file, "agreements.csv");
	rmdir(path);
	tst_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_digest__all_files),
		cmocka_unit_test(test_fmt_digest__absent_file_contributes_nothing),
		cmocka_unit_test(test_fmt_digest__bytes_as_on_disk),
		cmocka_unit_test(test_fmt_digest__unreadable_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
