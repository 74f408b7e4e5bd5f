/*
 * tests/engine/jos.c: the shared core: calendar, exact formatting, largest remainder.
 */
#include "support/test.h"

#include <stdlib.h>
#include <string.h>

#include "engine/jos.h"

static void test_jos_day__round_trip(void **state)
{
	(void)state;
	assert_int_equal(jos_day_from_ymd(1970, 1, 1), 0);
	assert_int_equal(jos_day_from_ymd(2026, 7, 31) - jos_day_from_ymd(2025, 8, 1) + 1, 365);
	assert_int_equal(jos_day_from_ymd(2024, 7, 31) - jos_day_from_ymd(2023, 8, 1) + 1, 366);
	for (jos_day d = -800000; d < 2900000; d += 37) {
		int y, m, dd;
		jos_day_to_ymd(d, &y, &m, &dd);
		assert_true(jos_date_valid(y, m, dd) || y < 1);
		assert_int_equal(jos_day_from_ymd(y, m, dd), d);
	}
	char buf[16];
	jos_day_format(buf, jos_day_from_ymd(2026, 2, 28));
	assert_string_equal(buf, "2026-02-28");
}

static void test_jos_date__calendar(void **state)
{
	(void)state;
	assert_true(jos_date_valid(2024, 2, 29));
	assert_false(jos_date_valid(2025, 2, 29));
	assert_false(jos_date_valid(1900, 2, 29));
	assert_true(jos_date_valid(2000, 2, 29));
	assert_false(jos_date_valid(2025, 4, 31));
	assert_false(jos_date_valid(2025, 13, 1));
	assert_false(jos_date_valid(2025, 0, 1));
}

static void test_jos_format__cents_and_ratios(void **state)
{
	char b[JOS_FMT_BUF];
	(void)state;
	assert_string_equal(jos_cents_format(b, 0), "0.00");
	assert_string_equal(jos_cents_format(b, 5), "0.05");
	assert_string_equal(jos_cents_format(b, -5), "-0.05");
	assert_string_equal(jos_cents_format(b, 123456), "1234.56");
	assert_string_equal(jos_cents_format(b, INT64_MAX), "92233720368547758.07");
	/* 1/3 of a year: 0.33333 -> 0.3333; 2/3 -> 0.6667; half-up at exactly .5 */
	assert_string_equal(jos_ratio_format(b, 1, 3, 4), "0.3333");
	assert_string_equal(jos_ratio_format(b, 2, 3, 4), "0.6667");
	assert_string_equal(jos_ratio_format(b, 1, 20000, 4), "0.0001");   /* 0.00005 up */
	assert_string_equal(jos_ratio_format(b, 1, 20001, 4), "0.0000");
	assert_string_equal(jos_ratio_format(b, 730, 365, 4), "2.0000");
	assert_string_equal(jos_micro_format(b, 1500000), "1.5");
	assert_string_equal(jos_micro_format(b, 0), "0");
	assert_string_equal(jos_micro_format(b, 125), "0.000125");
	assert_string_equal(jos_micro_format(b, 3000000), "3");
}

static void test_jos_largest_remainder__tie_to_lower_index(void **state)
{
	int64_t out[3];
	(void)state;
	/* 100 cents over 1:1:1 -> 33.33 each; the remainder cent goes to index 0 */
	jos_i128 w[3] = { 1, 1, 1 };
	assert_int_equal(jos_largest_remainder(out, 100, w, 3), JOS_OK);
	assert_int_equal(out[0], 34);
	assert_int_equal(out[1], 33);
	assert_int_equal(out[2], 33);
	/* 101 over 1:1:1 -> two remainder cents to indices 0 and 1 */
	assert_int_equal(jos_largest_remainder(out, 101, w, 3), JOS_OK);
	assert_int_equal(out[0], 34);
	assert_int_equal(out[1], 34);
	assert_int_equal(out[2], 33);
	/* 10 over 1:2:3: quotas 1.667, 3.333, 5 -> 1+3+5 = 9, the cent to index 0 (.667) */
	jos_i128 w2[3] = { 1, 2, 3 };
	assert_int_equal(jos_largest_remainder(out, 10, w2, 3), JOS_OK);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 5);
}

static void test_jos_largest_remainder__overflow_refused(void **state)
{
	int64_t out[2];
	(void)state;
	jos_i128 w[2] = { JOS_I128_MAX / 4, JOS_I128_MAX / 4 };
	assert_int_equal(jos_largest_remainder(out, 1000, w, 2), JOS_EOVERFLOW);
}

static void test_jos_errlist__sorted_by_file_then_line(void **state)
{
	jos_errlist l;
	(void)state;
	jos_errlist_init(&l);
	jos_errlist_add(&l, JOS_SEV_ERROR, "enrolments.csv", 9, "b");
	jos_errlist_add(&l, JOS_SEV_ERROR, "schools.csv", 3, "a");
	jos_errlist_add(&l, JOS_SEV_WARNING, "enrolments.csv", 2, "c");
	jos_errlist_sort(&l);
	assert_string_equal(l.items[0].file, "schools.csv");
	assert_int_equal(l.items[1].line, 2);
	assert_int_equal(l.items[2].line, 9);
	assert_int_equal(l.nerrors, 2);
	assert_int_equal(l.nwarnings, 1);
	jos_errlist_free(&l);
}

/* The selection of the units left over (engine/jos.c lr_select) against the plain
 * definition: sort by remainder (largest first, then smaller index) and give one unit
 * to each of the first `left`. Random slices of many sizes with many equal weights, so
 * that ties and the fallback paths are exercised. */
static int ref_cmp(const void *pa, const void *pb)
{
	const jos_i128 *a = pa, *b = pb; /* {rem, idx} pairs */
	if (a[0] != b[0])
		return a[0] > b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int u64_less(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The radix sort equals qsort: short and long arrays, small keys and full 64-bit ones. */
static void test_jos_sort_u64__equals_qsort(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 63, 64, 65, 1000, 100000 };
	uint64_t seed = 88172645463325252ULL;
	(void)state;
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (int wide = 0; wide < 2; wide++) {
			size_t n = sizes[s];
			uint64_t *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
			assert_non_null(a);
			assert_non_null(b);
			for (size_t i = 0; i < n; i++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				a[i] = b[i] = wide ? seed : (seed % 5000) << 32 | i;
			}
			assert_int_equal(jos_sort_u64(a, n), JOS_OK);
			if (n)
				qsort(b, n, sizeof *b, u64_less);
			for (size_t i = 0; i < n; i++)
				assert_true(a[i] == b[i]);
			free(a);
			free(b);
		}
}

static void test_jos_largest_remainder__selection_equals_full_sort(void **state)
{
	(void)state;
	uint64_t seed = 12345;
	static jos_i128 w[3000], pairs[6000];
	static int64_t out[3000], want[3000];
	for (int round = 0; round < 400; round++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = 1 + (size_t)((seed >> 33) % (round % 10 == 0 ? 3000 : 70));
		int64_t total = (int64_t)((seed >> 20) % 1000003);
		jos_i128 sum = 0;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* few distinct weights: many equal remainders; every 4th round
			 * weights near and beyond 64 bits (products past the 64-bit way) */
			w[i] = (jos_i128)((seed >> 40) % (round % 3 == 0 ? 3 : 1000));
			if (round % 4 == 1)
				w[i] = (w[i] + 1) * (jos_i128)(seed >> 24) * 1000003;
			else if (round % 4 == 3 && i % 2)
				w[i] = (w[i] + 1) << 64;
			sum += w[i];
		}
		if (sum == 0) {
			w[0] = 1;
			sum = 1;
		}
		int64_t given = 0;
		for (size_t i = 0; i < n; i++) {
			jos_i128 prod = (jos_i128)total * w[i];
			want[i] = (int64_t)(prod / sum);
			pairs[2 * i] = prod % sum;
			pairs[2 * i + 1] = (jos_i128)i;
			given += want[i];
		}
		qsort(pairs, n, 2 * sizeof *pairs, ref_cmp);
		for (int64_t k = 0; k < total - given; k++)
			want[(size_t)pairs[2 * k + 1]]++;
		assert_int_equal(jos_largest_remainder(out, total, w, n), JOS_OK);
		for (size_t i = 0; i < n; i++)
			if (out[i] != want[i])
				fail_msg("round %d, n %zu, item %zu: %lld != %lld", round, n, i,
					 (long long)out[i], (long long)want[i]);
	}
}

/* The formatting as it was, all in 128 bits: the reference for the 64-bit fast path. */
static void ratio_ref(char *buf, jos_i128 num, jos_i128 den, int places)
{
	char tmp[64], *t = tmp + sizeof tmp;
	bool neg = num < 0;
	jos_u128 un = neg ? (jos_u128)0 - (jos_u128)num : (jos_u128)num, scale = 1;
	for (int i = 0; i < places; i++)
		scale *= 10;
	jos_u128 q = (un * scale * 2 + (jos_u128)den) / ((jos_u128)den * 2);
	jos_u128 ip = q / scale, fp = q % scale;
	char *p = buf;
	if (neg && q != 0)
		*p++ = '-';
	*--t = '\0';
	do {
		*--t = (char)('0' + (int)(ip % 10));
		ip /= 10;
	} while (ip);
	strcpy(p, t);
	p += strlen(t);
	if (places > 0) {
		*p++ = '.';
		for (int i = places - 1; i >= 0; i--) {
			p[i] = (char)('0' + (int)(fp % 10));
			fp /= 10;
		}
		p += places;
	}
	*p = '\0';
}

static uint64_t fmt_rng = 99;
static uint64_t rnd64(void)
{
	fmt_rng = fmt_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return fmt_rng >> 11 ^ fmt_rng << 21;
}

/* Around the edges of the 64-bit fast path (2^62) and far beyond it: the same digits. */
static void test_jos_format__fast_path_equals_128_bits(void **state)
{
	(void)state;
	char got[JOS_FMT_BUF], want[JOS_FMT_BUF];
	static const int places[] = { 0, 1, 2, 4, 6, 12, 18, 19, 20, 30 };
	for (int i = 0; i < 200000; i++) {
		int pl = places[i % 10];
		int bits = 1 + (int)(rnd64() % 100);
		jos_i128 num = (jos_i128)(rnd64() >> 1);
		if (bits > 63)
			num = num << (bits - 63) | (jos_i128)(rnd64() >> 1);
		else
			num >>= 63 - bits;
		jos_i128 den = (jos_i128)(1 + (rnd64() >> (1 + rnd64() % 63)));
		if (i % 7 == 0)
			den = i % 2 ? 100 : 1000000;
		if (i % 3 == 0)
			num = -num;
		/* the contract: |num| * 10^places * 2 + den within 128 bits */
		jos_u128 un = num < 0 ? (jos_u128)0 - (jos_u128)num : (jos_u128)num, sc = 1;
		for (int k = 0; k < pl; k++)
			sc *= 10;
		if (un > (((jos_u128)1 << 126) - 1) / sc)
			continue;
		ratio_ref(want, num, den, pl);
		assert_string_equal(jos_ratio_format(got, num, den, pl), want);
	}
	const jos_i128 edge = (jos_i128)1 << 62;
	for (jos_i128 d = -3; d <= 3; d++) {
		ratio_ref(want, edge / 100 + d, 100, 2);
		assert_string_equal(jos_ratio_format(got, edge / 100 + d, 100, 2), want);
		ratio_ref(want, edge + d, edge - 1, 4);
		assert_string_equal(jos_ratio_format(got, edge + d, edge - 1, 4), want);
		ratio_ref(want, -(edge / 10000 + d), 3, 4);
		assert_string_equal(jos_ratio_format(got, -(edge / 10000 + d), 3, 4), want);
	}
}

/* jos_sort_u64_bits against qsort by (key, original place): random values, key ranges
 * with a partial last digit, the whole 64 bits, and sizes on both sides of the
 * insertion sort; the bits outside the key must not change the order. */
static int key_place_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;   /* key, place, value */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void test_jos_sort_u64_bits__stable_by_key(void **state)
{
	(void)state;
	static uint64_t v[5000], ref[3 * 5000];
	const unsigned ranges[][2] = { { 0, 64 }, { 32, 45 }, { 32, 53 }, { 5, 16 }, { 0, 3 },
				       { 40, 64 }, { 11, 22 }, { 7, 7 } };
	const size_t sizes[] = { 0, 1, 2, 5, 63, 64, 65, 1000, 5000 };
	uint64_t seed = 4242;
	for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
		for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
			unsigned from = ranges[r][0], to = ranges[r][1];
			size_t n = sizes[k];
			uint64_t kmask = to - from >= 64 ? UINT64_MAX
							 : ((uint64_t)1 << (to - from)) - 1;
			for (size_t i = 0; i < n; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				/* few distinct keys (many ties), any other bits */
				v[i] = seed ^ (seed >> 29);
				if (r % 2)
					v[i] = (v[i] & ~(kmask << from)) | ((seed >> 61) << from);
				ref[3 * i] = (v[i] >> from) & kmask;
				ref[3 * i + 1] = i;
				ref[3 * i + 2] = v[i];
			}
			qsort(ref, n, 3 * sizeof *ref, key_place_cmp);
			assert_int_equal(jos_sort_u64_bits(v, n, from, to), JOS_OK);
			for (size_t i = 0; i < n; i++)
				if (v[i] != ref[3 * i + 2])
					fail_msg("bits [%u, %u), n %zu: place %zu differs", from, to, n, i);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jos_day__round_trip),
		cmocka_unit_test(test_jos_date__calendar),
		cmocka_unit_test(test_jos_format__cents_and_ratios),
		cmocka_unit_test(test_jos_format__fast_path_equals_128_bits),
		cmocka_unit_test(test_jos_largest_remainder__tie_to_lower_index),
		cmocka_unit_test(test_jos_largest_remainder__overflow_refused),
		cmocka_unit_test(test_jos_largest_remainder__selection_equals_full_sort),
		cmocka_unit_test(test_jos_sort_u64__equals_qsort),
		cmocka_unit_test(test_jos_sort_u64_bits__stable_by_key),
		cmocka_unit_test(test_jos_errlist__sorted_by_file_then_line),
	};
	return cmocka_run_group_tests_name("engine/jos", tests, NULL, NULL);
}
