/*
 * tests/formats/settings.c: settlement.ini into ds->set and ds->keys. One test per rule
 * (unknown section or option, duplicates, missing options, values), each asserting the
 * exact FILE:LINE and message.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "support/files.h"

#define SETTLEMENT                                   \
	"[settlement]\n"                 /* line 1 */ \
	"name = JOS Holland Rijnland\n"  /* 2 */      \
	"issuer = Holland Rijnland\n"    /* 3 */      \
	"issuer_id = 0546\n"             /* 4 */      \
	"period_start = 2025-08-01\n"    /* 5 */      \
	"period_end = 2026-07-31\n"      /* 6 */      \
	"statement_date = 2026-09-15\n"  /* 7 */      \
	"measure = days\n"               /* 8 */      \
	"default_key = standard\n"       /* 9 */

#define KEY                         \
	"\n"                 /* 10 */ \
	"[key standard]\n"   /* 11 */ \
	"method = prorata\n" /* 12 */

static int load(jos_dataset **ds, jos_errlist *errs, const char *ini)
{
	char path[4200];
	char *dir = tst_tmpdir();
	tst_write(dir, "settlement.ini", ini);
	snprintf(path, sizeof path, "%s/settlement.ini", dir);
	*ds = eng_dataset_new();
	assert_non_null(*ds);
	jos_errlist_init(errs);
	int rc = fmt_settings_load(*ds, path, errs);
	tst_rmtree(dir);
	return rc;
}

static void expect_one(const char *ini, uint32_t line, const char *msg)
{
	jos_dataset *ds;
	jos_errlist errs;
	int rc = load(&ds, &errs, ini);
	tst_expect_only_error(&errs, "settlement.ini", line, msg);
	assert_int_equal(rc, JOS_EINVALID);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
}

static void test_fmt_settings__valid(void **state)
{
	jos_dataset *ds;
	jos_errlist errs;
	(void)state;
	int rc = load(&ds, &errs,
		      "\xEF\xBB\xBF; a comment\r\n"
		      "[Settlement]\r\n"
		      "Name = JOS Holland Rijnland 2025-2026 ; inline comment\r\n"
		      "issuer = Holland Rijnland\r\n"
		      "ISSUER_ID = 0546\r\n"
		      "period_start = 01-08-2025\r\n"
		      "period_end = 2026-07-31\r\n"
		      "statement_date = 2026-09-15\r\n"
		      "measure = Headcount\r\n"
		      "count_date = 2025-10-01\r\n"
		      "default_key = standard\r\n"
		      "iban = NL00BANK0123456789\r\n"
		      "payment_days = 30\r\n"
		      "[KEY standard]\r\n"
		      "method = prorata\r\n"
		      "discount = 0.125\r\n"
		      "cap =\r\n"
		      "weight.Intensief = 1.5\r\n"
		      "[key Standard]\r\n"   /* key ids are case-sensitive: another key */
		      "method = tariff\r\n"
		      "tariff.SO/VSO = 4500.00\r\n");
	if (rc != JOS_OK)
		tst_dump(&errs);
	assert_int_equal(rc, JOS_OK);
	assert_string_equal(ds->set.name, "JOS Holland Rijnland 2025-2026");
	assert_string_equal(ds->set.issuer_id, "0546");
	assert_int_equal(ds->set.period_start, jos_day_from_ymd(2025, 8, 1));
	assert_int_equal(ds->set.period_end, jos_day_from_ymd(2026, 7, 31));
	assert_int_equal(ds->set.measure, JOS_MEASURE_HEADCOUNT);
	assert_int_equal(ds->set.count_date, jos_day_from_ymd(2025, 10, 1));
	assert_int_equal(ds->set.line_count_date, 10);
	assert_string_equal(ds->set.iban, "NL00BANK0123456789");
	assert_int_equal(ds->set.payment_days, 30);
	assert_int_equal(ds->settings_line, 2);
	assert_int_equal(ds->nkeys, 2);
	assert_string_equal(ds->keys[0].id, "standard");
	assert_int_equal(ds->keys[0].line, 14);
	assert_int_equal(ds->keys[0].discount, 125000);
	assert_int_equal(ds->keys[0].nweights, 1);
	assert_string_equal(ds->keys[1].id, "Standard");
	assert_int_equal(ds->keys[1].method, KEY_TARIFF);
	assert_int_equal(ds->set.default_key_idx, 0);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
}

static void test_fmt_settings__optional_absent(void **state)
{
	jos_dataset *ds;
	jos_errlist errs;
	(void)state;
	assert_int_equal(load(&ds, &errs, SETTLEMENT "iban =\n" KEY), JOS_OK);
	assert_null(ds->set.iban);
	assert_int_equal(ds->set.payment_days, -1);
	assert_int_equal(ds->set.measure, JOS_MEASURE_DAYS);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
}

static void test_fmt_settings__unknown_section(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "[keys other]\nmethod = pooled\n", 13,
		   "unknown section [keys other]: expected [settlement] or [key ID]");
}

static void test_fmt_settings__unknown_settlement_option(void **state)
{
	(void)state;
	expect_one(SETTLEMENT "currency = EUR\n" KEY, 10, "unknown option 'currency' in [settlement]");
}

static void test_fmt_settings__unknown_key_option(void **state)
{
	(void)state;
	/* a misspelt discount must never silently change money */
	expect_one(SETTLEMENT KEY "discont = 0.1\n", 13, "unknown key parameter 'discont'");
}

static void test_fmt_settings__option_outside_section(void **state)
{
	(void)state;
	expect_one("measure = days\n" SETTLEMENT KEY, 1,
		   "'measure' is outside any section: put it under a [section] header");
}

static void test_fmt_settings__duplicate_option(void **state)
{
	(void)state;
	expect_one(SETTLEMENT "Name = again\n" KEY, 10, "duplicate option 'name' (also at line 2)");
}

static void test_fmt_settings__duplicate_key_option(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "Method = pooled\n", 13,
		   "duplicate option 'Method' (also at line 12)");
}

static void test_fmt_settings__duplicate_weight(void **state)
{
	(void)state;
	/* categories compare case-insensitively after trimming */
	expect_one(SETTLEMENT KEY "weight.Intensief = 1.5\nweight. intensief = 2\n", 14,
		   "duplicate option 'weight. intensief' (also at line 13)");
}

static void test_fmt_settings__duplicate_settlement_section(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "[settlement]\n", 13,
		   "duplicate section [settlement] (also at line 1)");
}

static void test_fmt_settings__duplicate_key_section(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "[key standard]\nmethod = pooled\n", 13,
		   "duplicate section [key standard] (also at line 11)");
}

static void test_fmt_settings__key_without_id(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "[key]\nmethod = pooled\n", 13,
		   "section [key] has no key id: write [key ID]");
}

static void test_fmt_settings__missing_option(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name = x\nissuer = y\nissuer_id = 0546\nperiod_start = 2025-08-01\n"
		   "period_end = 2026-07-31\nmeasure = days\ndefault_key = standard\n" KEY,
		   1, "missing option 'statement_date' in [settlement]");
}

static void test_fmt_settings__missing_settlement_section(void **state)
{
	(void)state;
	expect_one("[key standard]\nmethod = prorata\n", 0, "missing section [settlement]");
}

static void test_fmt_settings__missing_method(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "[key other]\ndiscount = 0.5\n", 13,
		   "missing option 'method' in [key other]");
}

static void test_fmt_settings__headcount_needs_count_date(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name = x\nissuer = y\nissuer_id = 0546\nperiod_start = 2025-08-01\n"
		   "period_end = 2026-07-31\nstatement_date = 2026-09-15\nmeasure = headcount\n"
		   "default_key = standard\n" KEY,
		   1, "missing option 'count_date' in [settlement] (required when measure = headcount)");
}

static void test_fmt_settings__bad_measure(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name = x\nissuer = y\nissuer_id = 0546\nperiod_start = 2025-08-01\n"
		   "period_end = 2026-07-31\nstatement_date = 2026-09-15\nmeasure = weeks\n"
		   "default_key = standard\n" KEY,
		   8, "measure 'weeks': use days or headcount");
}

static void test_fmt_settings__bad_date(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name = x\nissuer = y\nissuer_id = 0546\nperiod_start = 2025-08-01\n"
		   "period_end = 2026-07-31\nstatement_date = 15/09/2026\nmeasure = days\n"
		   "default_key = standard\n" KEY,
		   7,
		   "statement_date '15/09/2026': dates use '-' between their parts: write "
		   "YYYY-MM-DD or DD-MM-YYYY");
}

static void test_fmt_settings__period_reversed(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name = x\nissuer = y\nissuer_id = 0546\nperiod_start = 2026-08-01\n"
		   "period_end = 2026-07-31\nstatement_date = 2026-09-15\nmeasure = days\n"
		   "default_key = standard\n" KEY,
		   6, "period_end 2026-07-31 is before period_start 2026-08-01");
}

static void test_fmt_settings__empty_required_value(void **state)
{
	(void)state;
	expect_one("[settlement]\n"
		   "name =\nissuer = y\nissuer_id = 0546\nperiod_start = 2025-08-01\n"
		   "period_end = 2026-07-31\nstatement_date = 2026-09-15\nmeasure = days\n"
		   "default_key = standard\n" KEY,
		   2, "name is empty");
}

static void test_fmt_settings__bad_payment_days(void **state)
{
	(void)state;
	expect_one(SETTLEMENT "payment_days = -5\n" KEY, 10,
		   "payment_days '-5': must not be negative: write a whole number like 12500");
}

static void test_fmt_settings__fraction_decimal_comma(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "discount = 0,5\n", 13,
		   "discount: the decimal separator is '.': write a decimal like 0.5, without ','");
}

static void test_fmt_settings__fraction_out_of_range(void **state)
{
	(void)state;
	expect_one(SETTLEMENT KEY "phase_in = 1.5\n", 13,
		   "phase_in '1.5' is not a fraction between 0 and 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_settings__valid),
		cmocka_unit_test(test_fmt_settings__optional_absent),
		cmocka_unit_test(test_fmt_settings__unknown_section),
		cmocka_unit_test(test_fmt_settings__unknown_settlement_option),
		cmocka_unit_test(test_fmt_settings__unknown_key_option),
		cmocka_unit_test(test_fmt_settings__option_outside_section),
		cmocka_unit_test(test_fmt_settings__duplicate_option),
		cmocka_unit_test(test_fmt_settings__duplicate_key_option),
		cmocka_unit_test(test_fmt_settings__duplicate_weight),
		cmocka_unit_test(test_fmt_settings__duplicate_settlement_section),
		cmocka_unit_test(test_fmt_settings__duplicate_key_section),
		cmocka_unit_test(test_fmt_settings__key_without_id),
		cmocka_unit_test(test_fmt_settings__missing_option),
		cmocka_unit_test(test_fmt_settings__missing_settlement_section),
		cmocka_unit_test(test_fmt_settings__missing_method),
		cmocka_unit_test(test_fmt_settings__headcount_needs_count_date),
		cmocka_unit_test(test_fmt_settings__bad_measure),
		cmocka_unit_test(test_fmt_settings__bad_date),
		cmocka_unit_test(test_fmt_settings__period_reversed),
		cmocka_unit_test(test_fmt_settings__empty_required_value),
		cmocka_unit_test(test_fmt_settings__bad_payment_days),
		cmocka_unit_test(test_fmt_settings__fraction_decimal_comma),
		cmocka_unit_test(test_fmt_settings__fraction_out_of_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
