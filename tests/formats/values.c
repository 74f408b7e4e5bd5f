/*
 * tests/formats/values.c: the strict value parsers (SPEC "CSV dialect", "Acceptance"):
 * every accepted spelling and every refused one, with the message that explains it.
 */
#include "support/test.h"

#include <string.h>

#include "formats/formats.h"

static char why[JOS_WHY_MAX];

static int amount(jos_cents *out, const char *s, bool comma)
{
	why[0] = '\0';
	return fmt_parse_amount(out, s, strlen(s), comma, why);
}

/* Asserts that s is refused as an amount with a message containing `part`. */
#define AMOUNT_BAD(s, comma, part)                                              \
	do {                                                                    \
		jos_cents v_ = 777;                                             \
		assert_int_equal(amount(&v_, s, comma), JOS_EINVALID);          \
		assert_int_equal(v_, 777);                                      \
		if (!strstr(why, part))                                         \
			fail_msg("'%s': why '%s' lacks '%s'", s, why, part);    \
	} while (0)

#define AMOUNT_OK(s, comma, cents)                                              \
	do {                                                                    \
		jos_cents v_ = 777;                                             \
		if (amount(&v_, s, comma) != JOS_OK)                            \
			fail_msg("'%s' refused: %s", s, why);                   \
		assert_int_equal(v_, cents);                                    \
	} while (0)

static void test_fmt_values__amount_accepted(void **state)
{
	(void)state;
	AMOUNT_OK("0", false, 0);
	AMOUNT_OK("12", false, 1200);
	AMOUNT_OK("12.5", false, 1250);
	AMOUNT_OK("12.05", false, 1205);
	AMOUNT_OK("-12.05", false, -1205);
	AMOUNT_OK("-0", false, 0);
	AMOUNT_OK("007.10", false, 710);
	AMOUNT_OK("1234567.89", false, 123456789);
	AMOUNT_OK("12,5", true, 1250);
	AMOUNT_OK("1234,56", true, 123456);
	AMOUNT_OK("12.50", true, 1250);   /* '.' is always accepted */
	AMOUNT_OK("92233720368547758.07", false, INT64_MAX);
	AMOUNT_OK("-92233720368547758.07", false, -INT64_MAX);
}

static void test_fmt_values__amount_refused(void **state)
{
	(void)state;
	AMOUNT_BAD("", false, "empty amount");
	AMOUNT_BAD("+12", false, "'+' sign is not allowed: write 12");
	AMOUNT_BAD("+", false, "sign is only allowed as a leading '-'");
	AMOUNT_BAD("12.", false, "trailing decimal separator is not allowed: write 12 or 12.00");
	AMOUNT_BAD("12,", true, "trailing decimal separator is not allowed: write 12 or 12.00");
	AMOUNT_BAD(".5", false, "digits are needed before the decimal separator: write 0.5");
	AMOUNT_BAD("1e5", false, "exponents are not allowed");
	AMOUNT_BAD("1.5E3", false, "exponents are not allowed");
	AMOUNT_BAD("1e-2", false, "exponents are not allowed");
	AMOUNT_BAD("\xe2\x82\xac 12", false, "currency signs are not allowed");
	AMOUNT_BAD("\xe2\x82\xac" "12,50", true, "currency signs are not allowed");
	AMOUNT_BAD("$12", false, "currency signs are not allowed");
	AMOUNT_BAD("EUR 12", false, "currency signs are not allowed");
	AMOUNT_BAD("12 eur", false, "currency signs are not allowed");
	AMOUNT_BAD("1.234,56", true, "thousands separators are not allowed: write 1234.56");
	AMOUNT_BAD("1.234,56", false, "thousands separators are not allowed: write 1234.56");
	AMOUNT_BAD("1,234.56", false, "thousands separators are not allowed: write 1234.56");
	AMOUNT_BAD("1,234,567", false, "thousands separators are not allowed: write 1234567");
	AMOUNT_BAD("1 234,56", true, "spaces inside an amount are not allowed: write 1234.56");
	AMOUNT_BAD("12.345", false, "'12.345' has 3 digits after the '.'");
	AMOUNT_BAD("12.345", false, "write 12345 for thousands");
	AMOUNT_BAD("12,345", true, "thousands separators and more than 2 decimals are not allowed");
	AMOUNT_BAD("12.3456", false, "more than 2 decimals");
	AMOUNT_BAD("12,5", false, "decimal comma is only accepted in ';'-separated files: write 12.5");
	AMOUNT_BAD("-", false, "a '-' needs digits after it");
	AMOUNT_BAD("--5", false, "sign is only allowed as a leading '-'");
	AMOUNT_BAD("5-", false, "sign is only allowed as a leading '-'");
	AMOUNT_BAD("12a", false, "unexpected character 'a'");
	AMOUNT_BAD("abc", false, "unexpected character 'a'");
	AMOUNT_BAD("92233720368547758.08", false, "too large");
	AMOUNT_BAD("99999999999999999999999", false, "too large");
}

static int date(jos_day *out, const char *s)
{
	why[0] = '\0';
	return fmt_parse_date(out, s, strlen(s), why);
}

#define DATE_BAD(s, part)                                                       \
	do {                                                                    \
		jos_day d_ = 77;                                                \
		assert_int_equal(date(&d_, s), JOS_EINVALID);                   \
		assert_int_equal(d_, 77);                                       \
		if (!strstr(why, part))                                         \
			fail_msg("'%s': why '%s' lacks '%s'", s, why, part);    \
	} while (0)

static void test_fmt_values__date(void **state)
{
	jos_day d;
	(void)state;
	assert_int_equal(date(&d, "2025-08-01"), JOS_OK);
	assert_int_equal(d, jos_day_from_ymd(2025, 8, 1));
	assert_int_equal(date(&d, "01-08-2025"), JOS_OK);
	assert_int_equal(d, jos_day_from_ymd(2025, 8, 1));
	assert_int_equal(date(&d, "29-02-2024"), JOS_OK);
	assert_int_equal(d, jos_day_from_ymd(2024, 2, 29));
	assert_int_equal(date(&d, "1970-01-01"), JOS_OK);
	assert_int_equal(d, 0);
	DATE_BAD("", "empty date");
	DATE_BAD("2025-02-29", "no such date: 2025-02 has no day 29");
	DATE_BAD("31-04-2025", "no such date: 2025-04 has no day 31");
	DATE_BAD("2025-13-01", "month 13 does not exist");
	DATE_BAD("2025-00-10", "month 00 does not exist");
	DATE_BAD("2025-01-00", "has no day 00");
	DATE_BAD("0000-01-01", "year 0000");
	DATE_BAD("2025/08/01", "dates use '-' between their parts");
	DATE_BAD("01.08.2025", "dates use '-' between their parts");
	DATE_BAD("1-8-2025", "days and months need two digits");
	DATE_BAD("2025-8-1", "days and months need two digits");
	DATE_BAD("20250801", "not a date: write YYYY-MM-DD or DD-MM-YYYY");
	DATE_BAD("2025-08-01T00:00", "not a date");
	DATE_BAD("25-08-01", "not a date");
	DATE_BAD("2025-08-0a", "not a date");
	DATE_BAD("08-01-25", "not a date");
}

static void test_fmt_values__bool(void **state)
{
	static const char *yes[] = { "yes", "YES", "Ja", "ja", "true", "TRUE", "1" };
	static const char *no[] = { "no", "No", "nee", "NEE", "false", "False", "0" };
	static const char *bad[] = { "", "y", "n", "j", "2", "yes!", "nein", "ja ", "01" };
	bool b;
	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		assert_int_equal(fmt_parse_bool(&b, yes[i], strlen(yes[i]), why), JOS_OK);
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		assert_int_equal(fmt_parse_bool(&b, no[i], strlen(no[i]), why), JOS_OK);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(fmt_parse_bool(&b, bad[i], strlen(bad[i]), why), JOS_EINVALID);
		assert_non_null(strstr(why, "write yes or no (also ja/nee, true/false, 1/0)"));
	}
	fmt_parse_bool(&b, "", 0, why);
	assert_non_null(strstr(why, "empty yes/no value"));
}

#define CODE_OK(s, want)                                                        \
	do {                                                                    \
		char c_[5] = "xxxx";                                            \
		if (fmt_parse_code(c_, s, strlen(s), why) != JOS_OK)            \
			fail_msg("'%s' refused: %s", s, why);                   \
		assert_string_equal(c_, want);                                  \
	} while (0)

#define CODE_BAD(s, part)                                                       \
	do {                                                                    \
		char c_[5];                                                     \
		assert_int_equal(fmt_parse_code(c_, s, strlen(s), why), JOS_EINVALID); \
		if (!strstr(why, part))                                         \
			fail_msg("'%s': why '%s' lacks '%s'", s, why, part);    \
	} while (0)

static void test_fmt_values__code(void **state)
{
	(void)state;
	CODE_OK("GM0546", "0546");
	CODE_OK("gm0546", "0546");
	CODE_OK("0546", "0546");
	CODE_OK("546", "0546");
	CODE_OK("GM546", "0546");
	CODE_OK("1", "0001");
	CODE_OK("0001", "0001");
	CODE_OK("1969", "1969");
	CODE_BAD("", "empty municipality code");
	CODE_BAD("GM", "no digits after GM");
	CODE_BAD("0000", "0000 is not a municipality code");
	CODE_BAD("0", "0000 is not a municipality code");
	CODE_BAD("GM0000", "0000 is not a municipality code");
	CODE_BAD("05460", "at most 4 digits");
	CODE_BAD("GM12345", "at most 4 digits");
	CODE_BAD("05 46", "spaces inside a municipality code are not allowed");
	CODE_BAD("GM 0546", "spaces inside a municipality code are not allowed");
	CODE_BAD("GX0546", "not a municipality code");
	CODE_BAD("-546", "not a municipality code");
	CODE_BAD("5.46", "not a municipality code");
}

#define MICRO_OK(s, neg, want)                                                  \
	do {                                                                    \
		jos_micro m_ = 777;                                             \
		if (fmt_parse_micro(&m_, s, strlen(s), neg, why) != JOS_OK)     \
			fail_msg("'%s' refused: %s", s, why);                   \
		assert_int_equal(m_, want);                                     \
	} while (0)

#define MICRO_BAD(s, neg, part)                                                 \
	do {                                                                    \
		jos_micro m_ = 777;                                             \
		assert_int_equal(fmt_parse_micro(&m_, s, strlen(s), neg, why), JOS_EINVALID); \
		assert_int_equal(m_, 777);                                      \
		if (!strstr(why, part))                                         \
			fail_msg("'%s': why '%s' lacks '%s'", s, why, part);    \
	} while (0)

static void test_fmt_values__micro(void **state)
{
	(void)state;
	MICRO_OK("0", false, 0);
	MICRO_OK("1", false, 1000000);
	MICRO_OK("0.5", false, 500000);
	MICRO_OK("0.125", false, 125000);
	MICRO_OK("0.333333", false, 333333);
	MICRO_OK("0.000001", false, 1);
	MICRO_OK("1.5", false, 1500000);
	MICRO_OK("4500.00", false, 4500000000);
	MICRO_OK("-0.25", true, -250000);
	MICRO_OK("9223372036854.775807", false, INT64_MAX);
	MICRO_BAD("", false, "empty number");
	MICRO_BAD("-0.25", false, "must not be negative");
	MICRO_BAD("+0.25", false, "'+' sign is not allowed");
	MICRO_BAD("0,5", false, "the decimal separator is '.'");
	MICRO_BAD("0.3333333", false, "more than 6 decimals");
	MICRO_BAD("1e-3", false, "exponents are not allowed");
	MICRO_BAD(".5", false, "digits are needed before the '.': write 0.5");
	MICRO_BAD("1.", false, "trailing '.' is not allowed: write 1");
	MICRO_BAD("1.2.3", false, "not a number");
	MICRO_BAD("half", false, "not a number");
	MICRO_BAD("-", true, "not a number");
	MICRO_BAD("10 %", false, "not a number");
	MICRO_BAD("9223372036854.775808", false, "too large");
}

#define COUNT_BAD(s, part)                                                      \
	do {                                                                    \
		int64_t v_ = 777;                                               \
		assert_int_equal(fmt_parse_count(&v_, s, strlen(s), why), JOS_EINVALID); \
		assert_int_equal(v_, 777);                                      \
		if (!strstr(why, part))                                         \
			fail_msg("'%s': why '%s' lacks '%s'", s, why, part);    \
	} while (0)

static void test_fmt_values__count(void **state)
{
	int64_t v;
	(void)state;
	assert_int_equal(fmt_parse_count(&v, "0", 1, why), JOS_OK);
	assert_int_equal(v, 0);
	assert_int_equal(fmt_parse_count(&v, "125000", 6, why), JOS_OK);
	assert_int_equal(v, 125000);
	assert_int_equal(fmt_parse_count(&v, "9223372036854775807", 19, why), JOS_OK);
	assert_int_equal(v, INT64_MAX);
	COUNT_BAD("", "empty number");
	COUNT_BAD("-5", "must not be negative");
	COUNT_BAD("125.000", "separators and decimals are not allowed");
	COUNT_BAD("125,000", "separators and decimals are not allowed");
	COUNT_BAD("125 000", "separators and decimals are not allowed");
	COUNT_BAD("12.5", "separators and decimals are not allowed");
	COUNT_BAD("+5", "not a whole number");
	COUNT_BAD("1e6", "not a whole number");
	COUNT_BAD("9223372036854775808", "too large");
}

/* fmt_date_fast accepts exactly what fmt_parse_date accepts, with the same day: every
 * year 0000-9999 with months 00-13 and days 00-32 (1-27 only up to 2400) in both orders (Feb 29 of 1900, 2000,
 * 2023, 2024 among them), then random 10-byte strings of digits, dashes and others. */
static void test_fmt_values__date_fast(void **state)
{
	char s[48], whyb[JOS_WHY_MAX];
	jos_day a = 0, b = 0;
	unsigned long long ok = 0;
	(void)state;
	for (int y = 0; y <= 9999; y++) {
		for (int m = 0; m <= 13; m++) {
			for (int d = 0; d <= 32; d++) {
				if (y > 2400 && y < 9990 && d > 1 && d < 28)
					continue;   /* (time: every day of 0000-2400 and 9990-9999) */
				for (int dmy = 0; dmy < 2; dmy++) {
					if (dmy)
						snprintf(s, sizeof s, "%02d-%02d-%04d", d, m, y);
					else
						snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
					bool slow = fmt_parse_date(&a, s, 10, whyb) == JOS_OK;
					bool fast = fmt_date_fast(&b, s);
					if (slow != fast || (slow && a != b))
						fail_msg("%s: parse_date %d (%d), fast %d (%d)", s, slow, (int)a,
							 fast, (int)b);
					ok += slow;
				}
			}
		}
	}
	/* the days of 0001-01-01 .. 2400-12-31 and 9990-01-01 .. 9999-12-31, and days
	 * 1, 28-31 of the months of the 7589 years between (1840 of them leap years) */
	assert_int_equal(ok, 2 * (876582ULL + 3652 + 7589 * (7 * 5 + 4 * 4 + 2) + 1840));
	assert_true(fmt_date_fast(&b, "2024-02-29") && b == 19782);
	assert_false(fmt_date_fast(&b, "2023-02-29"));
	assert_true(fmt_date_fast(&b, "1970-01-01") && b == 0);
	assert_true(fmt_date_fast(&b, "31-12-1969") && b == -1);
	static const char alphabet[] = "0123456789-/.: a\xff";
	uint64_t r = 7;
	for (int k = 0; k < 300000; k++) {
		for (int i = 0; i < 10; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			unsigned v = (unsigned)(r >> 33);
			/* mostly digits, dashes where a date has them */
			if ((i == 4 || i == 7 || i == 2 || i == 5) && v % 3)
				s[i] = '-';
			else if (v % 16)
				s[i] = (char)('0' + (v >> 4) % ((i == 5 || i == 8 || i == 3 || i == 0) ? 4 : 10));
			else
				s[i] = alphabet[(v >> 8) % (sizeof alphabet - 1)];
		}
		s[10] = '\0';
		bool slow = fmt_parse_date(&a, s, 10, whyb) == JOS_OK;
		bool fast = fmt_date_fast(&b, s);
		if (slow != fast || (slow && a != b))
			fail_msg("%s: parse_date %d (%d), fast %d (%d)", s, slow, (int)a, fast, (int)b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_values__amount_accepted),
		cmocka_unit_test(test_fmt_values__amount_refused),
		cmocka_unit_test(test_fmt_values__date),
		cmocka_unit_test(test_fmt_values__bool),
		cmocka_unit_test(test_fmt_values__code),
		cmocka_unit_test(test_fmt_values__micro),
		cmocka_unit_test(test_fmt_values__count),
		cmocka_unit_test(test_fmt_values__date_fast),
	};
	return cmocka_run_group_tests_name("formats/values", tests, NULL, NULL);
}
