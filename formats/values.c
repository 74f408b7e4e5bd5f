/*
 * values.c: the strict value parsers of the CSV dialect and settlement.ini (SPEC "CSV
 * dialect", "Acceptance"): amounts to cents, dates, booleans, municipality codes,
 * exact decimal fractions and counts.
 *
 * Nothing is guessed: `1.234,56`, `€ 12` or `12.345` are refused with a `why` that
 * says what is wrong and how to write the value instead. Numbers are parsed by hand
 * (like redis string2ll), with overflow checks, never through strtod or the locale.
 */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

#define WHY(...) snprintf(why, JOS_WHY_MAX, __VA_ARGS__)

/* Longest input echoed back inside a suggestion; longer ones get a generic example. */
#define ECHO_MAX 40

static bool has_ci(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= n; i++)
		if (jos_strncasecmp(s + i, word, w) == 0)
			return true;
	return false;
}

static bool has_byte(const char *s, size_t n, char c)
{
	return memchr(s, c, n) != NULL;
}

/* Accumulates decimal digits into *acc (acc*10 + d), false on int64 overflow. */
static bool acc_digit(int64_t *acc, char c)
{
	return !jos_mul64(acc, *acc, 10) && !jos_add64(acc, *acc, c - '0');
}

/*
 * A suggestion for an amount written with thousands separators (and maybe spaces):
 * the last '.' or ',' followed by 1-2 digits is the decimal separator, every other
 * separator is dropped. Writes "1234.56" into buf; false when no sane suggestion.
 */
static bool amount_suggest(char *buf, size_t cap, const char *s, size_t n)
{
	size_t dec = n;   /* index of the decimal separator, n = none */
	for (size_t i = n; i-- > 0;) {
		if (s[i] == '.' || s[i] == ',') {
			if (n - i - 1 >= 1 && n - i - 1 <= 2)
				dec = i;
			break;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (k + 2 >= cap)
			return false;
		if (i == dec)
			buf[k++] = '.';
		else if (jos_isdigit(c) || (c == '-' && k == 0))
			buf[k++] = c;
		else if (c != '.' && c != ',' && c != ' ' && c != '\'')
			return false;
	}
	buf[k] = '\0';
	return k > 0 && jos_isdigit(buf[k - 1]);
}

int fmt_parse_amount(jos_cents *out, const char *s, size_t n, bool allow_comma, char *why)
{
	char sug[ECHO_MAX + 8];
	const char *ex = allow_comma ? "1234.56 or 1234,56" : "1234.56";

	if (n == 0) {
		WHY("empty amount: write euros like %s", ex);
		return JOS_EINVALID;
	}
	/* Currency signs first: "€ 12", "EUR 12", "$12", "12 EUR". */
	if (has_ci(s, n, "\xe2\x82\xac") || has_byte(s, n, '$') || has_ci(s, n, "eur")) {
		WHY("currency signs are not allowed: write the amount in euros without "
		    "a sign, like %s", ex);
		return JOS_EINVALID;
	}
	if (s[0] == '+' && n > 1) {
		WHY("a '+' sign is not allowed: write %.*s", n - 1 <= ECHO_MAX ? (int)(n - 1) : 7,
		    n - 1 <= ECHO_MAX ? s + 1 : "1234.56");
		return JOS_EINVALID;
	}
	size_t i = 0;
	bool neg = false;
	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	/* Classify the rest: digits, separators, spaces, exponent letters, anything else. */
	size_t ndot = 0, ncomma = 0, nspace = 0, nexp = 0, nother = 0;
	char other = 0;
	for (size_t j = i; j < n; j++) {
		char c = s[j];
		if (jos_isdigit(c))
			continue;
		if (c == '.')
			ndot++;
		else if (c == ',')
			ncomma++;
		else if (c == ' ' || c == '\t' || c == '\'')
			nspace++;
		else if ((c == 'e' || c == 'E') && j > i)
			nexp++;
		else if ((c == '-' || c == '+') && nexp && (s[j - 1] == 'e' || s[j - 1] == 'E'))
			continue;   /* 1e-3: part of the exponent */
		else if (!nother++)
			other = c;
	}
	if (nexp && !nother) {
		WHY("exponents are not allowed: write the amount in full, like %s", ex);
		return JOS_EINVALID;
	}
	if (nother || i == n) {
		if (other == '-' || other == '+')
			WHY("a sign is only allowed as a leading '-': write euros like %s", ex);
		else if (nother && ((unsigned char)other < 0x20 || (unsigned char)other >= 0x7f))
			WHY("not an amount: write euros like %s", ex);
		else if (nother)
			WHY("unexpected character '%c' in amount: write euros like %s", other, ex);
		else
			WHY("not an amount: a '-' needs digits after it, like -%s", "12.50");
		return JOS_EINVALID;
	}
	if (nspace) {
		if (n <= ECHO_MAX && amount_suggest(sug, sizeof sug, s, n))
			WHY("spaces inside an amount are not allowed: write %s", sug);
		else
			WHY("spaces inside an amount are not allowed: write euros like %s", ex);
		return JOS_EINVALID;
	}
	if (ndot + ncomma > 1) {
		if (n <= ECHO_MAX && amount_suggest(sug, sizeof sug, s, n))
			WHY("thousands separators are not allowed: write %s", sug);
		else
			WHY("thousands separators are not allowed: write euros like %s", ex);
		return JOS_EINVALID;
	}
	size_t sep = n;
	if (ndot + ncomma == 1)
		sep = (size_t)((const char *)memchr(s + i, ndot ? '.' : ',', n - i) - s);
	size_t nint = sep - i, ndec = sep < n ? n - sep - 1 : 0;
	if (sep < n && nint == 0) {
		WHY("digits are needed before the decimal separator: write 0%.*s",
		    n - i <= ECHO_MAX ? (int)(n - i) : 3, n - i <= ECHO_MAX ? s + i : ".50");
		return JOS_EINVALID;
	}
	if (sep < n && ndec == 0) {
		WHY("a trailing decimal separator is not allowed: write %.*s or %.*s%c00",
		    n <= ECHO_MAX ? (int)(n - 1) : 4, n <= ECHO_MAX ? s : "1234",
		    n <= ECHO_MAX ? (int)(n - 1) : 4, n <= ECHO_MAX ? s : "1234", '.');
		return JOS_EINVALID;
	}
	if (ndec == 3) {
		/* 12.345: a thousands separator or three decimals; both are refused. */
		if (n <= ECHO_MAX)
			WHY("'%.*s' has 3 digits after the '%c': thousands separators and more than "
			    "2 decimals are not allowed: write %.*s%.*s for thousands, or round "
			    "to cents",
			    (int)n, s, s[sep], (int)sep, s, (int)ndec, s + sep + 1);
		else
			WHY("thousands separators and more than 2 decimals are not allowed: "
			    "write euros like %s", ex);
		return JOS_EINVALID;
	}
	if (ndec > 3) {
		WHY("more than 2 decimals: an amount is in whole cents, like %s", ex);
		return JOS_EINVALID;
	}
	if (sep < n && s[sep] == ',' && !allow_comma) {
		if (n <= ECHO_MAX)
			WHY("a decimal comma is only accepted in ';'-separated files: write %.*s.%.*s",
			    (int)sep, s, (int)ndec, s + sep + 1);
		else
			WHY("a decimal comma is only accepted in ';'-separated files: write 1234.56");
		return JOS_EINVALID;
	}
	int64_t acc = 0;
	bool ovf = false;
	for (size_t j = i; j < sep && !ovf; j++)
		ovf = !acc_digit(&acc, s[j]);
	int64_t cents = 0;
	if (ndec >= 1)
		cents = (s[sep + 1] - '0') * 10;
	if (ndec == 2)
		cents += s[sep + 2] - '0';
	if (!ovf)
		ovf = jos_mul64(&acc, acc, 100) || jos_add64(&acc, acc, cents);
	if (ovf) {
		WHY("amount is too large (at most 92233720368547758.07)");
		return JOS_EINVALID;
	}
	*out = neg ? -acc : acc;
	return JOS_OK;
}

/* Reads exactly `len` digits at s into *v; false if any is not a digit. */
static bool digits(int *v, const char *s, size_t len)
{
	int x = 0;
	for (size_t i = 0; i < len; i++) {
		if (!jos_isdigit(s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* A constant whose byte i (from the lowest) is byte i of a memcpy'd string. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE64(x) __builtin_bswap64(x)
#else
#define LE64(x) (x)
#endif

/* YYYY-MM-DD or DD-MM-YYYY (10 bytes at s) into a day, for a loader's fast path: true
 * exactly when fmt_parse_date would accept it, with the same day. */
bool fmt_date_fast(jos_day *out, const char *s)
{
	static const uint16_t before[13] = { 0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	static const uint8_t mdays[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m, d;
	bool bad;
	uint64_t w;
	memcpy(&w, s, 8);
	if (s[4] == '-' && s[7] == '-') {
		/* a digit's high nibble is 3 before and after adding 6 (no carries: <= 0x3f) */
		const uint64_t hi = LE64(0x00F0F000F0F0F0F0), want = LE64(0x0030300030303030),
			       six = LE64(0x0006060006060606);
		bad = (w & hi) != want || ((w + six) & hi) != want || !jos_isdigit(s[8]) ||
		      !jos_isdigit(s[9]);
		y = (unsigned)(s[0] - '0') * 1000 + (unsigned)(s[1] - '0') * 100 +
		    (unsigned)(s[2] - '0') * 10 + (unsigned)(s[3] - '0');
		m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
		d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	} else if (s[2] == '-' && s[5] == '-') {
		unsigned v[10];
		for (int i = 0; i < 10; i++)
			v[i] = (unsigned)(unsigned char)s[i] - '0';   /* > 9: not a digit */
		bad = (v[0] > 9) | (v[1] > 9) | (v[3] > 9) | (v[4] > 9) | (v[6] > 9) | (v[7] > 9) |
		      (v[8] > 9) | (v[9] > 9);
		d = v[0] * 10 + v[1];
		m = v[3] * 10 + v[4];
		y = v[6] * 1000 + v[7] * 100 + v[8] * 10 + v[9];
	} else {
		return false;
	}
	if (bad || y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	unsigned leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m] + (unsigned)(m == 2 && leap))
		return false;
	unsigned yy = y - 1;   /* whole years since 0001-01-01, day 719162 before 1970-01-01 */
	*out = (jos_day)(yy * 365 + yy / 4 - yy / 100 + yy / 400 + before[m] + (m > 2 && leap) + d - 1) -
	       719162;
	return true;
}

int fmt_parse_date(jos_day *out, const char *s, size_t n, char *why)
{
	int y = 0, m = 0, d = 0;
	bool iso = n == 10 && s[4] == '-' && s[7] == '-' && digits(&y, s, 4) &&
		   digits(&m, s + 5, 2) && digits(&d, s + 8, 2);
	bool dmy = !iso && n == 10 && s[2] == '-' && s[5] == '-' && digits(&d, s, 2) &&
		   digits(&m, s + 3, 2) && digits(&y, s + 6, 4);
	if (!iso && !dmy) {
		if (n == 0)
			WHY("empty date: write YYYY-MM-DD or DD-MM-YYYY");
		else if (n == 10 && (memchr(s, '/', n) || memchr(s, '.', n)))
			WHY("dates use '-' between their parts: write YYYY-MM-DD or DD-MM-YYYY");
		else if (n < 10 && n >= 6 && memchr(s, '-', n))
			WHY("not a date: days and months need two digits and years four: "
			    "write YYYY-MM-DD or DD-MM-YYYY");
		else
			WHY("not a date: write YYYY-MM-DD or DD-MM-YYYY");
		return JOS_EINVALID;
	}
	if (!jos_date_valid(y, m, d)) {
		if (m < 1 || m > 12)
			WHY("no such date: month %02d does not exist (write YYYY-MM-DD or DD-MM-YYYY)", m);
		else if (y < 1)
			WHY("no such date: year 0000 does not exist");
		else
			WHY("no such date: %04d-%02d has no day %02d", y, m, d);
		return JOS_EINVALID;
	}
	*out = jos_day_from_ymd(y, m, d);
	return JOS_OK;
}

int fmt_parse_bool(bool *out, const char *s, size_t n, char *why)
{
	static const struct { const char *w; bool v; } words[] = {
		{ "yes", true }, { "no", false }, { "ja", true }, { "nee", false },
		{ "true", true }, { "false", false }, { "1", true }, { "0", false },
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strlen(words[i].w) == n && jos_strncasecmp(s, words[i].w, n) == 0) {
			*out = words[i].v;
			return JOS_OK;
		}
	}
	WHY("%s: write yes or no (also ja/nee, true/false, 1/0)",
	    n ? "not a yes/no value" : "empty yes/no value");
	return JOS_EINVALID;
}

int fmt_parse_code(char out[5], const char *s, size_t n, char *why)
{
	size_t i = 0;
	if (n >= 2 && jos_lower(s[0]) == 'g' && jos_lower(s[1]) == 'm')
		i = 2;
	if (i == n) {
		WHY("%s: write a CBS code like GM0546, 0546 or 546",
		    n ? "no digits after GM" : "empty municipality code");
		return JOS_EINVALID;
	}
	size_t nd = 0;
	bool space = false, other = false;
	for (size_t j = i; j < n; j++) {
		if (jos_isdigit(s[j]))
			nd++;
		else if (jos_isblank(s[j]))
			space = true;
		else
			other = true;
	}
	if (other) {
		WHY("not a municipality code: write a CBS code like GM0546, 0546 or 546");
		return JOS_EINVALID;
	}
	if (space) {
		WHY("spaces inside a municipality code are not allowed: write GM0546, 0546 or 546");
		return JOS_EINVALID;
	}
	if (nd > 4) {
		WHY("a municipality code has at most 4 digits: write GM0546, 0546 or 546");
		return JOS_EINVALID;
	}
	memset(out, '0', 4);
	memcpy(out + 4 - nd, s + i, nd);
	out[4] = '\0';
	if (memcmp(out, "0000", 4) == 0) {
		WHY("0000 is not a municipality code: write a CBS code like GM0546");
		return JOS_EINVALID;
	}
	return JOS_OK;
}

int fmt_parse_micro(jos_micro *out, const char *s, size_t n, bool allow_negative, char *why)
{
	if (n == 0) {
		WHY("empty number: write a decimal like 0.5");
		return JOS_EINVALID;
	}
	size_t i = 0;
	bool neg = false;
	if (s[0] == '-') {
		if (!allow_negative) {
			WHY("must not be negative");
			return JOS_EINVALID;
		}
		neg = true;
		i = 1;
	} else if (s[0] == '+') {
		WHY("a '+' sign is not allowed: write the number without it, like 0.5");
		return JOS_EINVALID;
	}
	size_t dot = n, ndot = 0;
	bool comma = false, expo = false, other = false;
	for (size_t j = i; j < n; j++) {
		char c = s[j];
		if (jos_isdigit(c))
			continue;
		if (c == '.') {
			ndot++;
			dot = j;
		} else if (c == ',') {
			comma = true;
		} else if ((c == 'e' || c == 'E') && j > i) {
			expo = true;
		} else if ((c == '-' || c == '+') && expo && (s[j - 1] == 'e' || s[j - 1] == 'E')) {
			continue;   /* 1e-3: part of the exponent */
		} else {
			other = true;
		}
	}
	if (comma && !other && !expo) {
		WHY("the decimal separator is '.': write a decimal like 0.5, without ','");
		return JOS_EINVALID;
	}
	if (expo && !other) {
		WHY("exponents are not allowed: write the number in full, like 0.000125");
		return JOS_EINVALID;
	}
	if (other || ndot > 1 || i == n) {
		WHY("not a number: write a decimal like 0.5 (at most 6 decimals)");
		return JOS_EINVALID;
	}
	if (dot == i) {
		WHY("digits are needed before the '.': write 0%.*s",
		    n - i <= ECHO_MAX ? (int)(n - i) : 2, n - i <= ECHO_MAX ? s + i : ".5");
		return JOS_EINVALID;
	}
	if (dot == n - 1) {
		WHY("a trailing '.' is not allowed: write %.*s",
		    n <= ECHO_MAX ? (int)(n - 1) : 1, n <= ECHO_MAX ? s : "1");
		return JOS_EINVALID;
	}
	size_t ndec = dot < n ? n - dot - 1 : 0;
	if (ndec > 6) {
		WHY("more than 6 decimals: fractions are exact to 6 decimals, like 0.333333");
		return JOS_EINVALID;
	}
	int64_t acc = 0;
	bool ovf = false;
	for (size_t j = i; j < dot && j < n && !ovf; j++)
		ovf = !acc_digit(&acc, s[j]);
	int64_t frac = 0;
	for (size_t k = 0; k < 6; k++)
		frac = frac * 10 + (k < ndec ? s[dot + 1 + k] - '0' : 0);
	if (!ovf)
		ovf = jos_mul64(&acc, acc, JOS_MICRO_ONE) || jos_add64(&acc, acc, frac);
	if (ovf) {
		WHY("number is too large");
		return JOS_EINVALID;
	}
	*out = neg ? -acc : acc;
	return JOS_OK;
}

int fmt_parse_count(int64_t *out, const char *s, size_t n, char *why)
{
	if (n == 0) {
		WHY("empty number: write a whole number like 12500");
		return JOS_EINVALID;
	}
	if (s[0] == '-') {
		WHY("must not be negative: write a whole number like 12500");
		return JOS_EINVALID;
	}
	int64_t acc = 0;
	bool ovf = false, sep = false, other = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (jos_isdigit(c)) {
			if (!ovf)
				ovf = !acc_digit(&acc, c);
		} else if (c == '.' || c == ',' || c == ' ' || c == '\'') {
			sep = true;
		} else {
			other = true;
		}
	}
	if (other) {
		WHY("not a whole number: write digits only, like 12500");
		return JOS_EINVALID;
	}
	if (sep) {
		WHY("separators and decimals are not allowed: write a whole number with digits "
		    "only, like 12500");
		return JOS_EINVALID;
	}
	if (ovf) {
		WHY("number is too large");
		return JOS_EINVALID;
	}
	*out = acc;
	return JOS_OK;
}
