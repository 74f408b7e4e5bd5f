/*
 * pupils.c: pupil ids to dense pupil numbers by hash partitions (see pupils_int.h).
 *
 * Collecting costs a hash and an append per row. Numbering takes each partition (a few
 * thousand ids at national size) with an open-addressing table of pointers to its
 * items, which fits in the cache, so the probes do not wait for memory; then each row
 * gets its partition's first number plus its local number.
 */
#include "formats/pupils_int.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

#define LONG_TAG 0xFF00000000000000ULL   /* k1 of a long id (else its top byte is the length) */
#define CODE_FLAG 0x8000000000000000ULL  /* set in every code (so no code is 0) */
#define PART_ROWS 4096                   /* rows per partition the bits aim at */
#define PART_BITS_MAX 10
#define PREFETCH_ITEMS 24                /* items ahead of a partition's end */
#define PREFETCH_ROWS 16                 /* items ahead whose rows assign fetches */
#define WIDE_SLAB_AT 32                  /* wide keys per partition that make their slab */

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = mix64(h ^ w);
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, s, n);
		h = mix64(h ^ w ^ 0x5851F42D4C957F2DULL);
	}
	return h;
}

/* The n <= 8 bytes at s as the low bytes of a word, the rest zero, with fixed-size loads
 * only (a variable-length copy and a reload is a call and a store-forwarding stall at
 * every row). Overlapping loads put the same byte in the same place twice. */
static inline uint64_t load_upto8(const char *s, size_t n)
{
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		return (uint64_t)a | (uint64_t)b << ((n - 4) * 8);
	}
	if (n == 0)
		return 0;
	return (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << (n / 2 * 8) |
	       (uint64_t)(unsigned char)s[n - 1] << ((n - 1) * 8);
}

static bool is_long(const fmt_pupil_item *it)
{
	return (it->k1 >> 56) == 0xFF;
}

unsigned fmt_pupil_bits(size_t expect_rows)
{
	unsigned b = 0;
	while (b < PART_BITS_MAX && ((size_t)PART_ROWS << (b + 1)) <= expect_rows)
		b++;
	return b;
}

int fmt_pupil_chunk_init(fmt_pupil_chunk *pc, unsigned pbits, uint16_t index, size_t expect_rows)
{
	size_t np = (size_t)1 << pbits;
	memset(pc, 0, sizeof *pc);
	pc->pbits = pbits;
	pc->index = index;
	pc->part = calloc(np, sizeof *pc->part);
	pc->cpart = calloc(np, sizeof *pc->cpart);
	if (!pc->part || !pc->cpart)
		return JOS_ENOMEM;
	size_t each = expect_rows / np;
	each += each / 8 + 8;
	if (!expect_rows || each > SIZE_MAX / sizeof *pc->slab / np)
		return JOS_OK;
	pc->each = each;
	/* one allocation, filled everywhere at once: huge pages fault in far less often */
	pc->cslab = jos_big_alloc(each * np * sizeof *pc->cslab);
	if (!pc->cslab)
		return JOS_ENOMEM;
	for (size_t p = 0; p < np; p++) {
		pc->cpart[p].v = pc->cslab + p * each;
		pc->cpart[p].cap = each;
	}
	return JOS_OK;
}

void fmt_pupil_chunk_free(fmt_pupil_chunk *pc)
{
	for (size_t p = 0; p < ((size_t)1 << pc->pbits); p++) {
		if (pc->part && pc->part[p].own)
			free(pc->part[p].v);
		if (pc->cpart && pc->cpart[p].own)
			free(pc->cpart[p].v);
	}
	free(pc->part);
	free(pc->cpart);
	free(pc->slab);
	free(pc->cslab);
	free(pc->longs);
	memset(pc, 0, sizeof *pc);
}

/* A full partition (v, *n, *cap, *own; items of `size` bytes) moves out of the slab into
 * its own, bigger array, and grows there. */
static int grow(void **v, size_t n, size_t *cap, bool *own, size_t size)
{
	void *old = *v;
	if (!*own) {
		size_t c = *cap ? *cap * 2 : 16;
		if (!(*v = malloc(c * size))) {
			*v = old;
			return JOS_ENOMEM;
		}
		if (n)
			memcpy(*v, old, n * size);
		*cap = c;
		*own = true;
		return JOS_OK;
	}
	return jos_grow(v, cap, n + 1, size);
}

/* The wide keys' slab, once the chunk has many of them (a few only would touch a huge
 * page each): the partitions' items so far move into it. */
static int wide_slab(fmt_pupil_chunk *pc)
{
	size_t np = (size_t)1 << pc->pbits;
	if (!(pc->slab = jos_big_alloc(pc->each * np * sizeof *pc->slab)))
		return JOS_ENOMEM;
	for (size_t p = 0; p < np; p++) {
		fmt_pupil_vec *v = &pc->part[p];
		fmt_pupil_item *mine = pc->slab + p * pc->each;
		if (v->n > pc->each)
			continue;   /* it stays in its own array */
		if (v->n)
			memcpy(mine, v->v, v->n * sizeof *v->v);
		if (v->own)
			free(v->v);
		v->v = mine;
		v->cap = pc->each;
		v->own = false;
	}
	return JOS_OK;
}

/* The code of an id of n <= 9 bytes, or 0 when it has a NUL or a byte >= 0x80. The 7
 * low bits of each byte, the first byte lowest; NUL-free, so the first zero group ends
 * the id and the code gives its bytes back exactly. */
static inline uint64_t id_code(const char *s, size_t n)
{
	uint64_t w, b = 0;
	unsigned first0;
	if (n >= 8) {
		memcpy(&w, s, 8);
		if (n == 9)
			b = (unsigned char)s[8];
	} else {
		w = load_upto8(s, n);
	}
	uint64_t z = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
	/* z's lowest bit is exact: the first zero byte of w */
	first0 = z ? (unsigned)__builtin_ctzll(z) >> 3 : 8u + (b != 0);
	if (first0 != n || ((w & 0x8080808080808080ULL) | (b & 0x80)))
		return 0;
	w = (w & 0x007F007F007F007FULL) | (w & 0x7F007F007F007F00ULL) >> 1;
	w = (w & 0x00003FFF00003FFFULL) | (w & 0x3FFF00003FFF0000ULL) >> 2;
	w = (w & 0x000000000FFFFFFFULL) | (w & 0x0FFFFFFF00000000ULL) >> 4;
	return w | b << 56 | CODE_FLAG;
}

static inline uint64_t code_hash(uint64_t code)
{
	return mix64(code);
}

int fmt_pupil_add(fmt_pupil_chunk *pc, const char *s, size_t n, uint32_t row)
{
	uint64_t k0, k1, h;
	if (n <= 9) {
		uint64_t code = id_code(s, n);
		if (code) {
			h = code_hash(code);
			fmt_pupil_cvec *v = &pc->cpart[pc->pbits ? h >> (64 - pc->pbits) : 0];
			if (v->n == v->cap &&
			    grow((void **)&v->v, v->n, &v->cap, &v->own, sizeof *v->v) != JOS_OK)
				return JOS_ENOMEM;
			/* the partition's lines ahead are in no cache: fetch them early (a
			 * prefetch past the end is harmless) */
			__builtin_prefetch(&v->v[v->n + PREFETCH_ITEMS], 1, 3);
			v->v[v->n++] = (fmt_pupil_code){ (uint32_t)code, (uint32_t)(code >> 32), row };
			return JOS_OK;
		}
	}
	if (!pc->slab && pc->each && ++pc->nwide == (size_t)WIDE_SLAB_AT << pc->pbits &&
	    wide_slab(pc) != JOS_OK)
		return JOS_ENOMEM;
	if (n <= 15) {
		if (n > 8) {
			memcpy(&k0, s, 8);
			k1 = load_upto8(s + 8, n - 8);
		} else {
			k0 = load_upto8(s, n);
			k1 = 0;
		}
		k1 |= (uint64_t)n << 56;
		h = mix64(k0 ^ mix64(k1 ^ 0x9E3779B97F4A7C15ULL));
	} else {
		uint32_t len = (uint32_t)n;
		if (n > FMT_PUPIL_LONG_MAX || pc->llen + 4 + n > FMT_PUPIL_LONG_MAX ||
		    jos_grow((void **)&pc->longs, &pc->lcap, pc->llen + 4 + n, 1))
			return JOS_ENOMEM;
		k0 = pc->llen;
		k1 = LONG_TAG | pc->index;
		memcpy(pc->longs + pc->llen, &len, 4);
		memcpy(pc->longs + pc->llen + 4, s, n);
		pc->llen += 4 + n;
		h = hash_bytes(s, n);
	}
	fmt_pupil_vec *v = &pc->part[pc->pbits ? h >> (64 - pc->pbits) : 0];
	if (v->n == v->cap && grow((void **)&v->v, v->n, &v->cap, &v->own, sizeof *v->v) != JOS_OK)
		return JOS_ENOMEM;
	v->v[v->n++] = (fmt_pupil_item){ k0, k1, row, (uint32_t)h };
	return JOS_OK;
}

/* ---- numbering ----------------------------------------------------------------------
 * Two passes over the partitions, on every core. The first numbers each partition's ids
 * locally (in each item's aux) and marks every id's first row in a bitmap over the rows.
 * An id's number is the count of marked rows before its first row: dense, in order of
 * first appearance in the file, so the rows of one pupil, and pupils in the order the
 * file has them, sit close together for whatever walks them by pupil next. The second
 * pass finds each local id's first row again (local ids are given in that order) and
 * writes the numbers into the rows. The bitmap and its counts per word are a few hundred
 * kilobytes at 2.5 M rows. */

typedef struct {
	fmt_pupil_chunk *chunks;
	size_t nchunks;
	const size_t *rowbase;
	jos_enrolment *rows;
	uint64_t *seen;          /* bit r: row r is its id's first (this worker's ids, then all) */
	uint32_t *before;        /* per bitmap word: marked rows in the words before it */
	size_t p0, p1;           /* this worker's partitions */
	int rc;
} number_job;

static const char *long_bytes(const fmt_pupil_chunk *chunks, const fmt_pupil_item *it, uint32_t *len)
{
	const char *p = chunks[it->k1 & 0xFFFF].longs + it->k0;
	memcpy(len, p, 4);
	return p + 4;
}

static bool same_id(const fmt_pupil_chunk *chunks, const fmt_pupil_item *a, const fmt_pupil_item *b)
{
	if (!is_long(a) || !is_long(b))
		return a->k0 == b->k0 && a->k1 == b->k1;
	uint32_t na, nb;
	const char *sa = long_bytes(chunks, a, &na), *sb = long_bytes(chunks, b, &nb);
	return na == nb && memcmp(sa, sb, na) == 0;
}

/* Local numbers of partition p into each item's aux; marks the first rows. */
static int number_part(number_job *j, size_t p, fmt_pupil_item ***tab, size_t *tabcap)
{
	size_t n = 0, size = 16;
	for (size_t c = 0; c < j->nchunks; c++)
		n += j->chunks[c].part[p].n;
	if (!n)
		return JOS_OK;
	while (size < 2 * n)
		size *= 2;
	if (size > *tabcap) {
		free(*tab);
		*tabcap = 0;
		if (!(*tab = malloc(size * sizeof **tab)))
			return JOS_ENOMEM;
		*tabcap = size;
	}
	fmt_pupil_item **t = *tab;
	size_t mask = size - 1;
	uint32_t local = 0;
	memset(t, 0, size * sizeof *t);
	for (size_t c = 0; c < j->nchunks; c++) {
		fmt_pupil_vec *v = &j->chunks[c].part[p];
		for (size_t i = 0; i < v->n; i++) {
			fmt_pupil_item *it = &v->v[i];
			for (size_t k = it->aux & mask;; k = (k + 1) & mask) {
				fmt_pupil_item *q = t[k];
				if (!q) {
					size_t r = j->rowbase[c] + it->row;
					t[k] = it;
					it->aux = local++;
					j->seen[r / 64] |= (uint64_t)1 << (r % 64);
					break;
				}
				if (same_id(j->chunks, q, it)) {
					it->aux = q->aux;
					break;
				}
			}
		}
	}
	return JOS_OK;
}

/* A code's slot in a counting table: empty unless stamp is the partition's. */
typedef struct {
	uint64_t code;
	uint32_t local;
	uint32_t stamp;
} code_slot;

/* Local numbers of code partition p into each item's lo; marks the first rows. The
 * table is the worker's, reused: slots of an earlier partition have another stamp. */
static int number_codes(number_job *j, size_t p, code_slot **tab, size_t *tabcap)
{
	size_t n = 0, size = 16;
	uint32_t stamp = (uint32_t)p + 1;
	for (size_t c = 0; c < j->nchunks; c++)
		n += j->chunks[c].cpart[p].n;
	if (!n)
		return JOS_OK;
	while (size < 2 * n)
		size *= 2;
	if (size > *tabcap) {
		free(*tab);
		*tabcap = 0;
		if (!(*tab = calloc(size, sizeof **tab)))
			return JOS_ENOMEM;
		*tabcap = size;
	}
	code_slot *t = *tab;
	size_t mask = size - 1;
	uint32_t local = 0;
	for (size_t c = 0; c < j->nchunks; c++) {
		const fmt_pupil_cvec *v = &j->chunks[c].cpart[p];
		size_t base = j->rowbase[c];
		for (size_t i = 0; i < v->n; i++) {
			fmt_pupil_code *it = &v->v[i];
			uint64_t code = it->lo | (uint64_t)it->hi << 32;
			for (size_t k = code_hash(code) & mask;; k = (k + 1) & mask) {
				code_slot *q = &t[k];
				if (q->stamp != stamp) {
					size_t r = base + it->row;
					*q = (code_slot){ code, local, stamp };
					it->lo = local++;
					j->seen[r / 64] |= (uint64_t)1 << (r % 64);
					break;
				}
				if (q->code == code) {
					it->lo = q->local;
					break;
				}
			}
		}
	}
	return JOS_OK;
}

static void *count_worker(void *arg)
{
	number_job *j = arg;
	fmt_pupil_item **tab = NULL;
	code_slot *ctab = NULL;
	size_t cap = 0, ccap = 0;
	for (size_t p = j->p0; p < j->p1 && j->rc == JOS_OK; p++)
		if ((j->rc = number_codes(j, p, &ctab, &ccap)) == JOS_OK)
			j->rc = number_part(j, p, &tab, &cap);
	free(tab);
	free(ctab);
	return NULL;
}

/* The number of the id whose first row is r: marked rows before it. */
static inline uint32_t rank(const number_job *j, size_t r)
{
	uint64_t below = j->seen[r / 64] & (((uint64_t)1 << (r % 64)) - 1);
	return j->before[r / 64] + (uint32_t)__builtin_popcountll(below);
}

static void *assign_worker(void *arg)
{
	number_job *j = arg;
	uint32_t *first = NULL;   /* per local id of the partition: its number */
	size_t cap = 0;
	for (size_t p = j->p0; p < j->p1; p++) {
		uint32_t next = 0;
		size_t n = 0;
		for (size_t c = 0; c < j->nchunks; c++)
			n += j->chunks[c].cpart[p].n + j->chunks[c].part[p].n;
		if (n > cap && jos_grow((void **)&first, &cap, n, sizeof *first)) {
			j->rc = JOS_ENOMEM;
			break;
		}
		for (size_t c = 0; c < j->nchunks; c++) {
			const fmt_pupil_cvec *v = &j->chunks[c].cpart[p];
			jos_enrolment *rows = j->rows + j->rowbase[c];
			for (size_t i = 0; i < v->n; i++) {
				const fmt_pupil_code *it = &v->v[i];
				if (i + PREFETCH_ROWS < v->n)   /* rows are far apart: fetch early */
					__builtin_prefetch(&rows[it[PREFETCH_ROWS].row], 1, 3);
				if (it->lo == next)   /* the id's first row */
					first[next++] = rank(j, j->rowbase[c] + it->row);
				rows[it->row].pupil = first[it->lo];
			}
		}
		next = 0;
		for (size_t c = 0; c < j->nchunks; c++) {
			const fmt_pupil_vec *v = &j->chunks[c].part[p];
			jos_enrolment *rows = j->rows + j->rowbase[c];
			for (size_t i = 0; i < v->n; i++) {
				const fmt_pupil_item *it = &v->v[i];
				if (it->aux == next)
					first[next++] = rank(j, j->rowbase[c] + it->row);
				rows[it->row].pupil = first[it->aux];
			}
		}
	}
	free(first);
	return NULL;
}

/* Runs fn on every worker's range of partitions; the first error, if any. */
static int run(number_job *jobs, int nt, void *(*fn)(void *))
{
	jos_run_parallel(jobs, sizeof *jobs, nt, fn);
	for (int t = 0; t < nt; t++)
		if (jobs[t].rc != JOS_OK)
			return jobs[t].rc;
	return JOS_OK;
}

int fmt_pupil_number(fmt_pupil_chunk *chunks, size_t nchunks, const size_t *rowbase,
		     size_t nrows, jos_enrolment *rows, uint32_t *npupils, int threads)
{
	number_job jobs[FMT_MAX_THREADS];
	int rc = JOS_ENOMEM;
	*npupils = 0;
	if (nchunks == 0 || nrows == 0) {
		for (size_t c = 0; c < nchunks; c++)
			fmt_pupil_chunk_free(&chunks[c]);
		return JOS_OK;
	}
	size_t np = (size_t)1 << chunks[0].pbits, nw = nrows / 64 + 1;
	int nt = threads < 1 ? 1 : threads > FMT_MAX_THREADS ? FMT_MAX_THREADS : threads;
	if ((size_t)nt > np)
		nt = (int)np;
	/* a bitmap per worker (one shared would bounce its cache lines between cores) */
	uint64_t *seen = calloc(nw * (size_t)nt, sizeof *seen);
	uint32_t *before = malloc(nw * sizeof *before);
	if (!seen || !before || nrows >= UINT32_MAX)
		goto done;
	for (int t = 0; t < nt; t++)
		jobs[t] = (number_job){ chunks, nchunks, rowbase, rows, seen + nw * (size_t)t, before,
					np * (size_t)t / (size_t)nt, np * (size_t)(t + 1) / (size_t)nt,
					JOS_OK };
	if ((rc = run(jobs, nt, count_worker)) != JOS_OK)
		goto done;
	uint32_t total = 0;
	for (size_t w = 0; w < nw; w++) {
		for (int t = 1; t < nt; t++)
			seen[w] |= seen[nw * (size_t)t + w];
		before[w] = total;
		total += (uint32_t)__builtin_popcountll(seen[w]);
	}
	for (int t = 0; t < nt; t++)
		jobs[t].seen = seen;
	if ((rc = run(jobs, nt, assign_worker)) == JOS_OK)
		*npupils = total;
done:
	free(seen);
	free(before);
	for (size_t c = 0; c < nchunks; c++)
		fmt_pupil_chunk_free(&chunks[c]);
	return rc;
}
