/*
 * pupils.c: pupil ids to dense pupil numbers by hash partitions (see pupils_int.h).
 *
 * Collecting costs an exact key and a 2-byte tag per row; the codes of FMT_PUPIL_PEND
 * rows at a time are then appended to their partitions in one go (flush).
 * Numbering takes each partition (a few thousand ids at national size) with an
 * open-addressing table that fits in the cache, so the probes do not wait for memory,
 * and writes over each key the place of its first item. Then the rows of each chunk are
 * walked in order on their own thread: a row takes its partition's next item; a first
 * item gives its row the chunk's next pupil number and keeps it for the later ones. Rows
 * whose first item is in an earlier chunk are set once every chunk is walked.
 */
#include "formats/pupils_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

#define LONG_TAG 0xFF00000000000000ULL   /* k1 of a long id (else its top byte is the length) */
#define CODE_FLAG 0x8000000000000000ULL  /* set in every code (so no code is 0) */
#define PART_ROWS 4096                   /* rows per partition the bits aim at */
#define PART_BITS_MAX 10
#define COUNT_AHEAD 32                   /* codes ahead that counting fetches */
#define PROBE_AHEAD 8                    /* codes ahead whose table slots counting fetches */
#define WIDE_SLAB_AT 32                  /* wide keys per partition that make their slab */

uint64_t fmt_pupil_hash_keep = ~0ULL;

_Static_assert(sizeof(fmt_pupil_code) == 8, "8-byte codes");
_Static_assert(sizeof(fmt_pupil_item) % 4 == 0, "items of whole words");
_Static_assert(((size_t)2 << PART_BITS_MAX) <= FMT_PUPIL_PENDING, "tags below PENDING");

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
	size_t np;
	memset(pc, 0, sizeof *pc);
	if (pbits > PART_BITS_MAX)
		pbits = PART_BITS_MAX;
	np = (size_t)1 << pbits;
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
	if (!(pc->pend = malloc(FMT_PUPIL_PEND * sizeof *pc->pend)) ||
	    !(pc->pendp = malloc(FMT_PUPIL_PEND * sizeof *pc->pendp)))
		return JOS_ENOMEM;
	pc->tagcap = expect_rows + expect_rows / 8 + 16;   /* a hint: room to spare */
	pc->tag = jos_big_alloc(pc->tagcap * sizeof *pc->tag);
	if (!pc->cslab || !pc->tag)
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
	free(pc->tag);
	free(pc->pend);
	free(pc->pendp);
	free(pc->longs);
	memset(pc, 0, sizeof *pc);
}

/* A full partition (*v, n items of `size` bytes, *cap, *own) moves out of the slab into
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
	return mix64(code) & fmt_pupil_hash_keep;
}

/* Room for tag[row]; rows skipped before it have no id. */
static int tag_room(fmt_pupil_chunk *pc, uint32_t row)
{
	if (row < pc->ntag)
		return JOS_EINVALID;
	if (row >= pc->tagcap && jos_grow((void **)&pc->tag, &pc->tagcap, (size_t)row + 1,
					  sizeof *pc->tag))
		return JOS_ENOMEM;
	while (pc->ntag < row)
		pc->tag[pc->ntag++] = FMT_PUPIL_NO_ID;
	return JOS_OK;
}

static int add_wide(fmt_pupil_chunk *pc, const char *s, size_t n, uint32_t row)
{
	uint64_t k0, k1, h;
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
		h = mix64(k0 ^ mix64(k1 ^ 0x9E3779B97F4A7C15ULL)) & fmt_pupil_hash_keep;
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
		h = hash_bytes(s, n) & fmt_pupil_hash_keep;
	}
	size_t p = pc->pbits ? h >> (64 - pc->pbits) : 0;
	fmt_pupil_vec *v = &pc->part[p];
	if (v->n == v->cap && grow((void **)&v->v, v->n, &v->cap, &v->own, sizeof *v->v) != JOS_OK)
		return JOS_ENOMEM;
	v->v[v->n++] = (fmt_pupil_item){ (uint32_t)h, 0, k0, k1 };
	pc->tag[pc->ntag++] = (uint16_t)(2 * p + 1);
	return JOS_OK;
}

/* The pending codes to their partitions, in order, and their rows' tags. */
static int flush(fmt_pupil_chunk *pc)
{
	unsigned shift = 64 - pc->pbits;
	size_t r = pc->tdone, n = pc->npend;
	uint16_t *pp = pc->pendp;
	for (size_t i = 0; i < n; i++) {
		pp[i] = (uint16_t)(pc->pbits ? code_hash(pc->pend[i]) >> shift : 0);
		const fmt_pupil_cvec *a = &pc->cpart[pp[i]];
		__builtin_prefetch(a->v + a->n, 1, 3);   /* the ends are in no cache */
		while (pc->tag[r] != FMT_PUPIL_PENDING)
			r++;
		pc->tag[r++] = (uint16_t)(2 * pp[i]);
	}
	pc->tdone = r;
	for (size_t i = 0; i < n; i++) {
		uint64_t code = pc->pend[i];
		fmt_pupil_cvec *v = &pc->cpart[pp[i]];
		if (v->n == v->cap &&
		    grow((void **)&v->v, v->n, &v->cap, &v->own, sizeof *v->v) != JOS_OK)
			return JOS_ENOMEM;   /* the chunk is of no more use (only to free) */
		v->v[v->n++] = (fmt_pupil_code){ (uint32_t)code, (uint32_t)(code >> 32) };
	}
	pc->npend = 0;
	return JOS_OK;
}

int fmt_pupil_add(fmt_pupil_chunk *pc, const char *s, size_t n, uint32_t row)
{
	if (row != pc->ntag || row >= pc->tagcap || !pc->pendp) {
		int rc = tag_room(pc, row);
		if (rc != JOS_OK)
			return rc;
		if (!pc->pend && !(pc->pend = malloc(FMT_PUPIL_PEND * sizeof *pc->pend)))
			return JOS_ENOMEM;
		if (!pc->pendp && !(pc->pendp = malloc(FMT_PUPIL_PEND * sizeof *pc->pendp)))
			return JOS_ENOMEM;
	}
	uint64_t code = n <= 9 ? id_code(s, n) : 0;
	if (!code)
		return add_wide(pc, s, n, row);
	if (pc->npend == FMT_PUPIL_PEND && flush(pc) != JOS_OK)
		return JOS_ENOMEM;
	pc->pend[pc->npend++] = code;
	pc->tag[pc->ntag++] = FMT_PUPIL_PENDING;   /* its partition comes with the flush */
	return JOS_OK;
}

/* ---- numbering ----------------------------------------------------------------------
 * The partitions of the two kinds make 2 x 2^pbits groups ("vp" = the tag); a group's
 * items are those of chunk 0, then chunk 1, ...; an item's place in that order is its
 * group index. Counting (on every core, a range of partitions each) writes in each
 * item's lo the group index of its key's first item, and counts each group's keys new
 * before each chunk (nnew). Then each chunk is walked in row order (a chunk per thread):
 * a row takes the next item of its group; a first item gives the chunk's next pupil
 * number (the chunk starts after the pupils new in the chunks before) and keeps it in
 * its hi; a later item of the chunk reads its first item's hi; an item whose first item
 * is in an earlier chunk is noted and set once every chunk is done. */

typedef struct {
	uint32_t row;          /* in all rows */
	uint32_t vp;
	uint32_t first;        /* group index of the first item */
} late_row;

typedef struct {
	fmt_pupil_chunk *chunks;
	size_t nchunks, nvp;
	const size_t *rowbase;
	jos_enrolment *rows;
	uint32_t *nnew;        /* per chunk (and one more) and group: keys new before the chunk */
	uint32_t *gstart;      /* per chunk (and one more) and group: its items before the chunk */
	const uint32_t *cbase; /* per chunk: pupils new in the chunks before */
	size_t p0, p1;         /* counting: this worker's partitions */
	size_t c0, cstep;      /* walking: chunks c0, c0 + cstep, ... */
	late_row *late;        /* walking: rows whose first item is in an earlier chunk */
	size_t nlate, latecap;
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

/* First items of the wide keys of partition p. */
static int count_wide(number_job *j, size_t p, fmt_pupil_item ***tab, size_t *tabcap)
{
	size_t n = 0, size = 16, vp = 2 * p + 1;
	for (size_t c = 0; c < j->nchunks; c++)
		n += j->chunks[c].part[p].n;
	if (!n) {
		for (size_t c = 0; c <= j->nchunks; c++)
			j->nnew[c * j->nvp + vp] = 0;
		return JOS_OK;
	}
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
	uint32_t g = 0, keys = 0;
	memset(t, 0, size * sizeof *t);
	for (size_t c = 0; c < j->nchunks; c++) {
		fmt_pupil_vec *v = &j->chunks[c].part[p];
		j->nnew[c * j->nvp + vp] = keys;
		for (size_t i = 0; i < v->n; i++, g++) {
			fmt_pupil_item *it = &v->v[i];
			for (size_t k = it->lo & mask;; k = (k + 1) & mask) {
				fmt_pupil_item *q = t[k];
				if (!q) {
					t[k] = it;
					it->lo = g;
					keys++;
					break;
				}
				if (same_id(j->chunks, q, it)) {
					it->lo = q->lo;
					break;
				}
			}
		}
	}
	j->nnew[j->nchunks * j->nvp + vp] = keys;
	return JOS_OK;
}

/* A code's slot in a counting table: empty unless stamp is the partition's. */
typedef struct {
	uint64_t code;
	uint32_t first;
	uint32_t stamp;
} code_slot;

/* First items of the codes of partition p. The table is the worker's, reused: slots of
 * an earlier partition have another stamp. */
static int count_codes(number_job *j, size_t p, code_slot **tab, size_t *tabcap)
{
	size_t n = 0, size = 16, vp = 2 * p;
	uint32_t stamp = (uint32_t)p + 1;
	for (size_t c = 0; c < j->nchunks; c++)
		n += j->chunks[c].cpart[p].n;
	while (size < 2 * n)
		size *= 2;
	if (n && size > *tabcap) {
		free(*tab);
		*tabcap = 0;
		if (!(*tab = calloc(size, sizeof **tab)))
			return JOS_ENOMEM;
		*tabcap = size;
	}
	code_slot *t = *tab;
	size_t mask = size - 1;
	uint32_t g = 0, keys = 0;
	for (size_t c = 0; c < j->nchunks; c++) {
		const fmt_pupil_cvec *v = &j->chunks[c].cpart[p];
		uint64_t ahead[PROBE_AHEAD];   /* hashes of the next items, their slots fetched */
		j->nnew[c * j->nvp + vp] = keys;
		for (size_t i = 0; i < PROBE_AHEAD && i < v->n; i++) {
			ahead[i] = code_hash(v->v[i].lo | (uint64_t)v->v[i].hi << 32);
			__builtin_prefetch(&t[ahead[i] & mask], 1, 3);
		}
		for (size_t i = 0; i < v->n; i++, g++) {
			fmt_pupil_code *it = &v->v[i];
			uint64_t code = it->lo | (uint64_t)it->hi << 32, h = ahead[i % PROBE_AHEAD];
			__builtin_prefetch(it + COUNT_AHEAD, 1, 3);
			if (i + PROBE_AHEAD < v->n) {
				const fmt_pupil_code *a = it + PROBE_AHEAD;
				uint64_t ha = code_hash(a->lo | (uint64_t)a->hi << 32);
				ahead[i % PROBE_AHEAD] = ha;
				__builtin_prefetch(&t[ha & mask], 1, 3);
			}
			for (size_t k = h & mask;; k = (k + 1) & mask) {
				code_slot *q = &t[k];
				if (q->stamp != stamp) {
					*q = (code_slot){ code, g, stamp };
					it->lo = g;
					keys++;
					break;
				}
				if (q->code == code) {
					it->lo = q->first;
					break;
				}
			}
		}
	}
	j->nnew[j->nchunks * j->nvp + vp] = keys;
	return JOS_OK;
}

static void *count_worker(void *arg)
{
	number_job *j = arg;
	fmt_pupil_item **tab = NULL;
	code_slot *ctab = NULL;
	size_t cap = 0, ccap = 0;
	for (size_t p = j->p0; p < j->p1 && j->rc == JOS_OK; p++)
		if ((j->rc = count_codes(j, p, &ctab, &ccap)) == JOS_OK)
			j->rc = count_wide(j, p, &tab, &cap);
	free(tab);
	free(ctab);
	return NULL;
}

/* Items of every kind as words: lo is word 0, hi word 1; an item is 2 words (a code)
 * or 6 (a wide key). */
#define WORDS(vp) ((vp) & 1 ? sizeof(fmt_pupil_item) / 4 : sizeof(fmt_pupil_code) / 4)
_Static_assert(offsetof(fmt_pupil_item, lo) == 0 && offsetof(fmt_pupil_item, hi) == 4 &&
	       offsetof(fmt_pupil_code, lo) == 0 && offsetof(fmt_pupil_code, hi) == 4,
	       "lo and hi first in both kinds of item");

static uint32_t *group_items(const fmt_pupil_chunk *pc, size_t vp)
{
	return vp & 1 ? &pc->part[vp / 2].v->lo : &pc->cpart[vp / 2].v->lo;
}

/* A group's state while its chunk is walked. */
typedef struct {
	uint32_t *items;       /* the chunk's items of the group, as words */
	uint32_t g;            /* the group index of the next item */
	uint32_t g0;           /* of the chunk's first item */
} walk_group;

static int walk_chunk(number_job *j, size_t c, walk_group *wg)
{
	const fmt_pupil_chunk *pc = &j->chunks[c];
	const uint32_t *g0 = j->gstart + c * j->nvp;
	uint32_t pupil = j->cbase[c];
	jos_enrolment *rows = j->rows + j->rowbase[c];
	for (size_t vp = 0; vp < j->nvp; vp++) {
		bool some = g0[vp + j->nvp] > g0[vp];
		wg[vp] = (walk_group){ some ? group_items(pc, vp) : NULL, g0[vp], g0[vp] };
	}
	const uint16_t *tag = pc->tag;
	for (size_t r = 0; r < pc->ntag; r++) {
		unsigned vp = tag[r];
		if (vp == FMT_PUPIL_NO_ID)
			continue;
		walk_group *w = &wg[vp];
		size_t words = WORDS(vp);
		uint32_t *it = w->items + (size_t)(w->g - w->g0) * words;
		uint32_t first = it[0];
		/* a group's next items are far away in time: fetch them early (512 streams
		 * are too many for the hardware to follow) */
		__builtin_prefetch(it + 16 * words, 1, 3);
		if (first == w->g) {   /* the key's first row */
			it[1] = pupil;
			rows[r].pupil = pupil++;
		} else if (first >= w->g0) {
			rows[r].pupil = w->items[(size_t)(first - w->g0) * words + 1];
		} else {   /* first seen in an earlier chunk: once that one is walked */
			if (j->nlate == j->latecap &&
			    jos_grow((void **)&j->late, &j->latecap, j->nlate + 1, sizeof *j->late))
				return JOS_ENOMEM;
			j->late[j->nlate++] = (late_row){ (uint32_t)(j->rowbase[c] + r), vp, first };
		}
		w->g++;
	}
	return JOS_OK;
}

static void *walk_worker(void *arg)
{
	number_job *j = arg;
	walk_group *g = malloc(j->nvp * sizeof *g);
	if (!g) {
		j->rc = JOS_ENOMEM;
		return NULL;
	}
	for (size_t c = j->c0; c < j->nchunks && j->rc == JOS_OK; c += j->cstep)
		j->rc = walk_chunk(j, c, g);
	free(g);
	return NULL;
}

static void *late_worker(void *arg)
{
	number_job *j = arg;
	for (size_t i = 0; i < j->nlate; i++) {
		const late_row *l = &j->late[i];
		size_t c = 0;
		while (j->gstart[(c + 1) * j->nvp + l->vp] <= l->first)
			c++;
		const uint32_t *items = group_items(&j->chunks[c], l->vp);
		uint32_t k = l->first - j->gstart[c * j->nvp + l->vp];
		j->rows[l->row].pupil = items[(size_t)k * WORDS(l->vp) + 1];
	}
	return NULL;
}

/* Runs fn on n workers; the first error, if any. */
static int run(number_job *jobs, int n, void *(*fn)(void *))
{
	jos_run_parallel(jobs, sizeof *jobs, n, fn);
	for (int t = 0; t < n; t++)
		if (jobs[t].rc != JOS_OK)
			return jobs[t].rc;
	return JOS_OK;
}

int fmt_pupil_number(fmt_pupil_chunk *chunks, size_t nchunks, const size_t *rowbase,
		     size_t nrows, jos_enrolment *rows, uint32_t *npupils, int threads)
{
	number_job jobs[FMT_MAX_THREADS];
	int rc = JOS_ENOMEM, nt = threads < 1 ? 1 : threads > FMT_MAX_THREADS ? FMT_MAX_THREADS : threads;
	uint32_t *nnew = NULL, *gstart = NULL, *cbase = NULL;
	*npupils = 0;
	memset(jobs, 0, sizeof jobs);
	if (nchunks == 0 || nrows == 0) {
		rc = JOS_OK;
		goto done;
	}
	size_t np = (size_t)1 << chunks[0].pbits, nvp = 2 * np;
	if (nrows >= UINT32_MAX)
		goto done;
	for (size_t c = 0; c < nchunks; c++)
		if (flush(&chunks[c]) != JOS_OK)
			goto done;
	nnew = malloc((nchunks + 1) * nvp * sizeof *nnew);
	gstart = malloc((nchunks + 1) * nvp * sizeof *gstart);
	cbase = malloc(nchunks * sizeof *cbase);
	if (!nnew || !gstart || !cbase)
		goto done;
	for (size_t vp = 0; vp < nvp; vp++) {
		size_t g = 0;
		for (size_t c = 0; c < nchunks; c++) {
			gstart[c * nvp + vp] = (uint32_t)g;
			g += vp & 1 ? chunks[c].part[vp / 2].n : chunks[c].cpart[vp / 2].n;
		}
		gstart[nchunks * nvp + vp] = (uint32_t)g;
	}

	int ct = (size_t)nt > np ? (int)np : nt, wt = (size_t)nt > nchunks ? (int)nchunks : nt;
	for (int t = 0; t < nt; t++)
		jobs[t] = (number_job){ .chunks = chunks, .nchunks = nchunks, .nvp = nvp,
					.rowbase = rowbase, .rows = rows, .nnew = nnew,
					.gstart = gstart, .cbase = cbase,
					.p0 = np * (size_t)t / (size_t)ct,
					.p1 = np * (size_t)(t + 1) / (size_t)ct,
					.c0 = (size_t)t, .cstep = (size_t)wt };
	if ((rc = run(jobs, ct, count_worker)) != JOS_OK)
		goto done;

	/* each chunk's first pupil: the keys new in the chunks before */
	size_t total = 0;
	for (size_t c = 0; c <= nchunks; c++) {
		size_t before = 0;
		for (size_t vp = 0; vp < nvp; vp++)
			before += nnew[c * nvp + vp];
		if (c < nchunks)
			cbase[c] = (uint32_t)before;
		else
			total = before;
	}
	if ((rc = run(jobs, wt, walk_worker)) != JOS_OK)
		goto done;
	run(jobs, wt, late_worker);
	*npupils = (uint32_t)total;
done:
	for (int t = 0; t < FMT_MAX_THREADS; t++)
		free(jobs[t].late);
	free(nnew);
	free(gstart);
	free(cbase);
	for (size_t c = 0; c < nchunks; c++)
		fmt_pupil_chunk_free(&chunks[c]);
	return rc;
}
