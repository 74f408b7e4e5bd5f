/*
 * tests/formats/pupils.c: pupil ids to dense numbers (formats/pupils.c): the same id
 * gets the same number and different ids different ones, whatever the length and bytes
 * (ids of at most 9 ASCII bytes become 8-byte codes, others wide keys: at most 15 bytes
 * inline, longer ones beside it), however the rows are cut into chunks, however many
 * threads number them and however badly the hash spreads them; numbers are dense and
 * follow first appearance. The random tests compare every number with a plain
 * reference (sort the ids, number them by first row).
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

/* ---- random ids against a reference ------------------------------------------------ */

typedef struct {
	char *bytes;          /* every id, one after the other */
	size_t len, cap;
	size_t *off, *n;      /* row r's id: bytes + off[r], n[r] bytes */
	bool *has;            /* row r has an id (else it is left out of the chunks) */
	size_t rows;
} idset;

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void put_id(idset *ids, size_t r, const char *b, size_t n)
{
	if (ids->len + n > ids->cap) {
		while (ids->len + n > ids->cap)
			ids->cap = ids->cap ? ids->cap * 2 : 4096;
		ids->bytes = realloc(ids->bytes, ids->cap);
		assert_non_null(ids->bytes);
	}
	memcpy(ids->bytes + ids->len, b, n);
	ids->off[r] = ids->len;
	ids->n[r] = n;
	ids->len += n;
}

/* One id of the pool: every kind of key and the edges between them. */
static size_t pool_id(char *b, size_t k, uint64_t *rs)
{
	uint64_t x = rng_next(rs);
	size_t n;
	switch (k % 12) {
	case 0:   /* like the benchmark's */
		return (size_t)snprintf(b, 32, "p%08x", (unsigned)(x & 0xFFFFFFFFu));
	case 1:   /* digits, 1..12 */
		n = 1 + x % 12;
		for (size_t i = 0; i < n; i++)
			b[i] = (char)('0' + (rng_next(rs) % 10));
		return n;
	case 2:   /* printable ASCII, 0..20 */
		n = x % 21;
		for (size_t i = 0; i < n; i++)
			b[i] = (char)(32 + rng_next(rs) % 95);
		return n;
	case 3:   /* any bytes, NUL and >= 0x80 too, 0..20 */
		n = x % 21;
		for (size_t i = 0; i < n; i++)
			b[i] = (char)(rng_next(rs) & 0xFF);
		return n;
	case 4:   /* few distinct bytes, so that ids differ in one place */
		n = x % 18;
		for (size_t i = 0; i < n; i++)
			b[i] = "a\0\xff"[rng_next(rs) % 3];
		return n;
	case 5:   /* long, one prefix, the difference at the end */
		n = 16 + x % 300;
		memset(b, 'L', n);
		b[n - 1] = (char)('a' + rng_next(rs) % 26);
		b[n - 2] = (char)('a' + rng_next(rs) % 26);
		return n;
	case 6:   /* the length alone differs: trailing NULs, 0xFF */
		n = x % 18;
		memset(b, (x >> 8) & 1 ? 0 : 0xFF, n);
		if (n && (x >> 9) & 1)
			b[0] = 'z';
		return n;
	case 7:   /* 8, 9, 10 bytes with one prefix (codes and wide keys meet) */
		n = 8 + x % 3;
		memcpy(b, "abcdefghij", n);
		if ((x >> 4) & 1)
			b[n - 1] = (char)0x80;
		return n;
	case 8:   /* 15, 16, 17 bytes with one prefix (inline and beside) */
		n = 15 + x % 3;
		memset(b, 'q', n);
		b[n - 1] = (char)('0' + (rng_next(rs) % 4));
		return n;
	case 9:   /* very long */
		n = 2000 + x % 3000;
		for (size_t i = 0; i < n; i++)
			b[i] = (char)('A' + i % 7);
		b[n / 2] = (char)('a' + rng_next(rs) % 3);
		return n;
	case 10:  /* UTF-8 */
		n = (size_t)snprintf(b, 32, "\xc3\xa9l\xc3\xa8ve-%u", (unsigned)(x % 5000));
		return n;
	default:  /* 1..9 ASCII letters from few: many equal */
		n = 1 + x % 9;
		for (size_t i = 0; i < n; i++)
			b[i] = (char)('a' + rng_next(rs) % 2);
		return n;
	}
}

/* `rows` rows taking ids from a pool of `pool` ids (some rows have none when gaps). */
static void make_ids(idset *ids, size_t rows, size_t pool, uint64_t seed, bool gaps)
{
	uint64_t rs = seed * 0x9E3779B97F4A7C15ULL + 1;
	char *b = malloc(8192);
	size_t *poff = malloc(pool * sizeof *poff), *pn = malloc(pool * sizeof *pn);
	memset(ids, 0, sizeof *ids);
	assert_non_null(b);
	assert_non_null(poff);
	assert_non_null(pn);
	ids->rows = rows;
	ids->off = calloc(rows + pool, sizeof *ids->off);
	ids->n = calloc(rows + pool, sizeof *ids->n);
	ids->has = calloc(rows, sizeof *ids->has);
	assert_non_null(ids->off);
	assert_non_null(ids->n);
	assert_non_null(ids->has);
	for (size_t k = 0; k < pool; k++) {   /* kept past the rows' entries */
		put_id(ids, rows + k, b, pool_id(b, k, &rs));
		poff[k] = ids->off[rows + k];
		pn[k] = ids->n[rows + k];
	}
	for (size_t r = 0; r < rows; r++) {
		uint64_t x = rng_next(&rs);
		/* skewed: a few ids very often, most rarely, every one anywhere in the file */
		size_t k = x % 4 == 0 ? (size_t)(x >> 8) % (pool < 50 ? pool : 50) : (size_t)(x >> 8) % pool;
		ids->has[r] = !gaps || x % 13 != 0;
		ids->off[r] = poff[k];
		ids->n[r] = pn[k];
	}
	free(b);
	free(poff);
	free(pn);
}

static void free_ids(idset *ids)
{
	free(ids->bytes);
	free(ids->off);
	free(ids->n);
	free(ids->has);
}

static const idset *cmp_set;

static int cmp_rows(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	size_t nx = cmp_set->n[x], ny = cmp_set->n[y];
	int c = memcmp(cmp_set->bytes + cmp_set->off[x], cmp_set->bytes + cmp_set->off[y],
		       nx < ny ? nx : ny);
	if (c)
		return c;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The reference: ref[r] for rows with an id; the number of distinct ids. */
static uint32_t reference(const idset *ids, uint32_t *ref)
{
	size_t *idx = malloc(ids->rows * sizeof *idx), m = 0;
	size_t *first = malloc(ids->rows * sizeof *first);
	uint32_t *rank = calloc(ids->rows + 1, sizeof *rank);
	assert_non_null(idx);
	assert_non_null(first);
	assert_non_null(rank);
	for (size_t r = 0; r < ids->rows; r++)
		if (ids->has[r])
			idx[m++] = r;
	cmp_set = ids;
	qsort(idx, m, sizeof *idx, cmp_rows);   /* equal ids together, by row */
	for (size_t i = 0; i < m; i++) {
		bool same = i > 0 && ids->n[idx[i]] == ids->n[idx[i - 1]] &&
			    memcmp(ids->bytes + ids->off[idx[i]], ids->bytes + ids->off[idx[i - 1]],
				   ids->n[idx[i]]) == 0;
		first[idx[i]] = same ? first[idx[i - 1]] : idx[i];
	}
	for (size_t r = 0; r < ids->rows; r++)   /* rank[r + 1]: first rows up to r */
		rank[r + 1] = rank[r] + (ids->has[r] && first[r] == r);
	for (size_t r = 0; r < ids->rows; r++)
		if (ids->has[r])
			ref[r] = rank[first[r]];
	uint32_t np = rank[ids->rows];
	free(idx);
	free(first);
	free(rank);
	return np;
}

/* Numbers the ids cut into chunks at `cut` (nchunks - 1 cuts, increasing) on `threads`;
 * expect: the hint given to each chunk (SIZE_MAX: the chunk's rows). */
static uint32_t number_ids(const idset *ids, const size_t *cut, size_t nchunks, unsigned pbits,
			   int threads, size_t expect, jos_enrolment *rows)
{
	fmt_pupil_chunk ch[8];
	size_t base[9];
	uint32_t np = 0;
	base[0] = 0;
	for (size_t c = 1; c < nchunks; c++)
		base[c] = cut[c - 1];
	base[nchunks] = ids->rows;
	for (size_t c = 0; c < nchunks; c++) {
		size_t e = expect == SIZE_MAX ? base[c + 1] - base[c] : expect;
		assert_int_equal(fmt_pupil_chunk_init(&ch[c], pbits, (uint16_t)c, e), JOS_OK);
		for (size_t r = base[c]; r < base[c + 1]; r++)
			if (ids->has[r])
				assert_int_equal(fmt_pupil_add(&ch[c], ids->bytes + ids->off[r], ids->n[r],
							       (uint32_t)(r - base[c])), JOS_OK);
	}
	for (size_t r = 0; r < ids->rows; r++)
		rows[r].pupil = 0xDEADBEEFu;
	assert_int_equal(fmt_pupil_number(ch, nchunks, base, ids->rows, rows, &np, threads), JOS_OK);
	return np;
}

static void check_against(const idset *ids, const uint32_t *ref, uint32_t np_ref,
			  const jos_enrolment *rows, uint32_t np)
{
	assert_int_equal(np, np_ref);
	for (size_t r = 0; r < ids->rows; r++) {
		if (ids->has[r] ? rows[r].pupil != ref[r] : rows[r].pupil != 0xDEADBEEFu)
			fail_msg("row %zu: pupil %u, expected %u", r, rows[r].pupil,
				 ids->has[r] ? ref[r] : 0xDEADBEEFu);
	}
}

/* Every kind of id, cut every way, on 1..4 threads, with small and big partition
 * counts, exact, missing and no size hints: always the reference's numbers. */
static void test_fmt_pupils__random_ids_match_reference(void **state)
{
	static const size_t nch[] = { 1, 2, 3, 8 };
	static const unsigned bits[] = { 0, 3, 9 };
	const size_t R = 24000;
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		idset ids;
		uint64_t rs = seed;
		make_ids(&ids, R, seed == 1 ? 9000 : 300, seed, seed == 2);
		uint32_t *ref = malloc(R * sizeof *ref);
		jos_enrolment *rows = malloc(R * sizeof *rows);
		assert_non_null(ref);
		assert_non_null(rows);
		uint32_t np_ref = reference(&ids, ref);
		assert_true(np_ref > (seed == 1 ? 5000u : 100u));
		for (size_t ci = 0; ci < 4; ci++) {
			size_t cut[7];
			for (size_t c = 0; c + 1 < nch[ci]; c++)   /* random, increasing cuts */
				cut[c] = R * (c + 1) / nch[ci] + (size_t)(rng_next(&rs) % 1000) - 500;
			if (nch[ci] == 8)
				cut[3] = cut[2];   /* an empty chunk */
			for (size_t bi = 0; bi < 3; bi++)
				for (int t = 1; t <= 4; t++) {
					size_t expect = t == 1 ? SIZE_MAX : t == 2 ? 0 : 100;
					uint32_t np = number_ids(&ids, cut, nch[ci], bits[bi], t, expect, rows);
					check_against(&ids, ref, np_ref, rows, np);
				}
		}
		free(ref);
		free(rows);
		free_ids(&ids);
	}
}

/* A hash that keeps only a few bits puts many ids in one partition and one table slot:
 * only the exact comparison tells them apart. */
static void test_fmt_pupils__hash_collisions(void **state)
{
	static const uint64_t keep[] = { 0, 0x3, 0xC000000000000001ULL };
	const size_t R = 3000;
	idset ids;
	(void)state;
	make_ids(&ids, R, 1500, 7, true);
	uint32_t *ref = malloc(R * sizeof *ref);
	jos_enrolment *rows = malloc(R * sizeof *rows);
	assert_non_null(ref);
	assert_non_null(rows);
	uint32_t np_ref = reference(&ids, ref);
	size_t cut[2] = { R / 3, 2 * R / 3 };
	for (size_t k = 0; k < 3; k++) {
		fmt_pupil_hash_keep = keep[k];
		for (int t = 1; t <= 3; t++) {
			uint32_t np = number_ids(&ids, cut, 3, 2, t, SIZE_MAX, rows);
			check_against(&ids, ref, np_ref, rows, np);
			np = number_ids(&ids, cut, 1, 0, t, 0, rows);
			check_against(&ids, ref, np_ref, rows, np);
		}
	}
	fmt_pupil_hash_keep = ~0ULL;
	free(ref);
	free(rows);
	free_ids(&ids);
}

/* Many wide keys in big chunks: their slab is made part way (the items so far move). */
static void test_fmt_pupils__many_wide_keys(void **state)
{
	const size_t R = 40000;
	idset ids;
	(void)state;
	memset(&ids, 0, sizeof ids);
	ids.rows = R;
	ids.off = calloc(R, sizeof *ids.off);
	ids.n = calloc(R, sizeof *ids.n);
	ids.has = calloc(R, sizeof *ids.has);
	assert_non_null(ids.off);
	assert_non_null(ids.n);
	assert_non_null(ids.has);
	for (size_t r = 0; r < R; r++) {   /* 10- and 20-byte ids, every other one repeated */
		char b[32];
		unsigned v = (unsigned)((r * 2654435761u) % 25000u);
		int n = snprintf(b, sizeof b, v % 2 ? "P%09u" : "long-pupil-%09u", v);
		put_id(&ids, r, b, (size_t)n);
		ids.has[r] = true;
	}
	uint32_t *ref = malloc(R * sizeof *ref);
	jos_enrolment *rows = malloc(R * sizeof *rows);
	assert_non_null(ref);
	assert_non_null(rows);
	uint32_t np_ref = reference(&ids, ref);
	size_t cut[1] = { 17000 };
	for (int t = 1; t <= 2; t++) {
		uint32_t np = number_ids(&ids, cut, 2, 2, t, SIZE_MAX, rows);
		check_against(&ids, ref, np_ref, rows, np);
	}
	free(ref);
	free(rows);
	free_ids(&ids);
}

/* Rows must come in increasing order; a row left out keeps its number. */
static void test_fmt_pupils__rows_in_order(void **state)
{
	fmt_pupil_chunk ch;
	jos_enrolment rows[6];
	size_t base = 0;
	uint32_t np = 0;
	(void)state;
	assert_int_equal(fmt_pupil_chunk_init(&ch, 1, 0, 0), JOS_OK);
	assert_int_equal(fmt_pupil_add(&ch, "b", 1, 1), JOS_OK);
	assert_int_equal(fmt_pupil_add(&ch, "a", 1, 1), JOS_EINVALID);
	assert_int_equal(fmt_pupil_add(&ch, "a", 1, 3), JOS_OK);
	assert_int_equal(fmt_pupil_add(&ch, "b", 1, 4), JOS_OK);
	for (size_t r = 0; r < 6; r++)
		rows[r].pupil = 77;
	assert_int_equal(fmt_pupil_number(&ch, 1, &base, 6, rows, &np, 2), JOS_OK);
	assert_int_equal(np, 2);
	assert_int_equal(rows[0].pupil, 77);
	assert_int_equal(rows[1].pupil, 0);
	assert_int_equal(rows[2].pupil, 77);
	assert_int_equal(rows[3].pupil, 1);
	assert_int_equal(rows[4].pupil, 0);
	assert_int_equal(rows[5].pupil, 77);
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
		cmocka_unit_test(test_fmt_pupils__random_ids_match_reference),
		cmocka_unit_test(test_fmt_pupils__hash_collisions),
		cmocka_unit_test(test_fmt_pupils__many_wide_keys),
		cmocka_unit_test(test_fmt_pupils__rows_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
