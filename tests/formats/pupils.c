/*
 * tests/formats/pupils.c: pupil ids to dense numbers (formats/pupils.c): the same id
 * gets the same number and different ids different ones, whatever the length (0..16
 * bytes are kept in the key, longer ones beside it), however the rows are cut into
 * chunks and however many threads number them; numbers are dense and follow first
 * appearance.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pupils_int.h"

#define ROWS 30000

/* Row r's id: ids of every length 1..40 and bytes that differ only late in the id. */
static size_t make_id(char *buf, unsigned v)
{
	static const size_t lens[] = { 1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 40 };
	size_t n = lens[v % (sizeof lens / sizeof lens[0])];
	memset(buf, 'x', n);
	/* the value in the last bytes, so long ids share their first 16 bytes */
	for (size_t i = 0; i < n && i < 6; i++)
		buf[n - 1 - i] = (char)('a' + (v >> (4 * i)) % 16);
	return n;
}

/* Numbers ROWS rows whose ids repeat, cut into `nchunks`, on `threads`. */
static uint32_t number(jos_enrolment *rows, unsigned pbits, size_t nchunks, int threads)
{
	fmt_pupil_chunk ch[8];
	size_t base[8];
	uint32_t np = 0;
	char id[64];
	for (size_t c = 0; c < nchunks; c++) {
		assert_int_equal(fmt_pupil_chunk_init(&ch[c], pbits, (uint16_t)c, ROWS / nchunks), JOS_OK);
		base[c] = ROWS * c / nchunks;
	}
	for (size_t r = 0; r < ROWS; r++) {
		size_t c = nchunks - 1;
		while (base[c] > r)
			c--;
		unsigned v = ((unsigned)r * 2654435761u) % 17000u;
		size_t n = make_id(id, v);
		assert_int_equal(fmt_pupil_add(&ch[c], id, n, (uint32_t)(r - base[c])), JOS_OK);
	}
	assert_int_equal(fmt_pupil_number(ch, nchunks, base, ROWS, rows, &np, threads), JOS_OK);
	return np;
}

typedef struct {
	char s[48];
	size_t n;
} idbuf;

static int idbuf_cmp(const void *a, const void *b)
{
	const idbuf *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->s, y->s, x->n);
}

static void check_numbers(const jos_enrolment *rows, uint32_t np)
{
	uint32_t *first = malloc(np * sizeof *first);   /* the first row of each number */
	uint32_t *seen = calloc(17000, sizeof *seen);    /* number + 1 of each id value */
	char a[64], b[64];
	assert_non_null(first);
	assert_non_null(seen);
	for (uint32_t p = 0; p < np; p++)
		first[p] = UINT32_MAX;
	for (uint32_t r = 0; r < ROWS; r++) {
		unsigned v = (r * 2654435761u) % 17000u;
		uint32_t p = rows[r].pupil;
		assert_true(p < np);
		if (seen[v])
			assert_int_equal(p, seen[v] - 1);   /* the same id, the same number */
		seen[v] = p + 1;
		if (first[p] == UINT32_MAX)
			first[p] = r;
		/* the same number, the same id */
		unsigned w = (first[p] * 2654435761u) % 17000u;
		size_t na = make_id(a, v), nb = make_id(b, w);
		assert_true(na == nb && memcmp(a, b, na) == 0);
	}
	/* dense, and no two numbers for one id */
	idbuf *ids = malloc(np * sizeof *ids);
	assert_non_null(ids);
	for (uint32_t p = 0; p < np; p++) {
		assert_true(first[p] != UINT32_MAX);
		ids[p].n = make_id(ids[p].s, (first[p] * 2654435761u) % 17000u);
	}
	qsort(ids, np, sizeof *ids, idbuf_cmp);
	for (uint32_t p = 1; p < np; p++)
		assert_int_not_equal(idbuf_cmp(&ids[p - 1], &ids[p]), 0);
	free(ids);
	free(first);
	free(seen);
}

static void test_fmt_pupils__same_id_same_number(void **state)
{
	jos_enrolment *rows = calloc(ROWS, sizeof *rows);
	(void)state;
	assert_non_null(rows);
	uint32_t np = number(rows, 4, 1, 1);
	assert_true(np > 10000);
	check_numbers(rows, np);
	free(rows);
}

/* Chunks and threads change nothing: the numbers of 1 chunk on 1 thread. */
static void test_fmt_pupils__chunks_and_threads_agree(void **state)
{
	jos_enrolment *one = calloc(ROWS, sizeof *one), *other = calloc(ROWS, sizeof *other);
	static const size_t chunks[] = { 2, 3, 8 };
	(void)state;
	assert_non_null(one);
	assert_non_null(other);
	uint32_t np = number(one, 5, 1, 1);
	for (size_t c = 0; c < 3; c++)
		for (int t = 1; t <= 4; t++) {
			memset(other, 0, ROWS * sizeof *other);
			assert_int_equal(number(other, 5, chunks[c], t), np);
			assert_memory_equal(one, other, ROWS * sizeof *one);
		}
	check_numbers(one, np);
	free(one);
	free(other);
}

/* Numbers in order of first appearance, with one partition or many. */
static void test_fmt_pupils__first_appearance(void **state)
{
	jos_enrolment *rows = calloc(ROWS, sizeof *rows);
	(void)state;
	assert_non_null(rows);
	uint32_t np = number(rows, 0, 3, 2), next = 0;
	for (uint32_t r = 0; r < ROWS; r++) {
		assert_true(rows[r].pupil <= next);
		if (rows[r].pupil == next)
			next++;
	}
	assert_int_equal(next, np);
	memset(rows, 0, ROWS * sizeof *rows);
	assert_int_equal(number(rows, 6, 2, 2), np);
	next = 0;
	for (uint32_t r = 0; r < ROWS; r++) {
		assert_true(rows[r].pupil <= next);
		if (rows[r].pupil == next)
			next++;
	}
	assert_int_equal(next, np);
	check_numbers(rows, np);
	free(rows);
}

static void test_fmt_pupils__bits(void **state)
{
	(void)state;
	assert_int_equal(fmt_pupil_bits(0), 0);
	assert_int_equal(fmt_pupil_bits(8191), 0);
	assert_int_equal(fmt_pupil_bits(8192), 1);
	assert_int_equal(fmt_pupil_bits(2500000), 9);
	assert_int_equal(fmt_pupil_bits((size_t)1 << 40), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_pupils__same_id_same_number),
		cmocka_unit_test(test_fmt_pupils__chunks_and_threads_agree),
		cmocka_unit_test(test_fmt_pupils__first_appearance),
		cmocka_unit_test(test_fmt_pupils__bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
