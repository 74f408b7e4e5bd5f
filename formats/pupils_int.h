/*
 * pupils_int.h: pupil ids to dense pupil numbers, for the enrolment loader (issue 7).
 *
 * The ids of 2.5 M rows do not fit in any cache, so one hash table over all of them
 * waits for memory at every row. Instead each id becomes an exact key, appended to one
 * of 2^pbits partitions chosen by the key's hash, and the row notes its partition (2
 * bytes). Numbering takes one partition at a time with a table that stays in the cache,
 * on several threads, and gives every key the place of its first item; then the rows
 * are walked in order, each taking the next item of its partition. Keys are
 * compared exactly, never by hash. There are two kinds of key, and an id has exactly
 * one of them, so the two never need comparing with each other:
 *  - a code (8-byte items): ids of at most 9 ASCII bytes without NUL (the usual kind,
 *    "p01fce552"), packed 7 bits a byte into 63 bits, the top bit set;
 *  - a wide key (24-byte items) for every other id: at most 15 bytes with their length,
 *    or (offset, chunk) of the bytes kept in a side buffer.
 * Memory written per row is most of the cost (the items go to memory that is in no
 * cache), hence the small items, and no row index in them; and the codes of a few
 * thousand rows are appended together, so that the partitions' ends, evicted by the
 * parser in between, are fetched in parallel rather than one at a time.
 *
 * Numbers are dense and in order of first appearance in the file, however the rows were
 * collected: in several chunks (one per reading thread), each with its own
 * fmt_pupil_chunk (chunk k's rows follow chunk k-1's), with any pbits and any number of
 * threads.
 */
#ifndef JOS_FORMATS_PUPILS_INT_H
#define JOS_FORMATS_PUPILS_INT_H

#include "engine/engine.h"

#define FMT_PUPIL_LONG_MAX 0x7fffffffu   /* bytes of long ids per chunk */
#define FMT_PUPIL_NO_ID 0xFFFFu          /* the tag of a row that has no id */
#define FMT_PUPIL_PENDING 0xFFFEu        /* the tag of a row whose code is pending */
#define FMT_PUPIL_PEND 8192              /* codes collected before they go to partitions */

/* A code's item: the code's low and high words. Numbering puts over them the group
 * index of the key's first item (lo), then, in that first item, the pupil number (hi). */
typedef struct {
	uint32_t lo, hi;
} fmt_pupil_code;

typedef struct {
	fmt_pupil_code *v;   /* a slice of the chunk's slab, or its own once that is full */
	size_t n, cap;
	bool own;
} fmt_pupil_cvec;

/* A wide key's item; lo and hi as in a code's (lo holds the hash's low bits before). */
typedef struct {
	uint32_t lo, hi;
	uint64_t k0, k1;   /* the key: bytes and length, or (offset, LONG_TAG | chunk) */
} fmt_pupil_item;

typedef struct {
	fmt_pupil_item *v;   /* a slice of the chunk's slab, or its own once that is full */
	size_t n, cap;
	bool own;
} fmt_pupil_vec;

typedef struct {
	unsigned pbits;
	uint16_t index;          /* this chunk's place among the chunks */
	size_t each;             /* items per partition the slabs reserve */
	size_t nwide;            /* wide keys so far (up to their slab) */
	fmt_pupil_cvec *cpart;   /* 2^pbits partitions of codes */
	fmt_pupil_code *cslab;   /* every code partition's first items: one allocation */
	fmt_pupil_vec *part;     /* 2^pbits partitions of wide keys */
	fmt_pupil_item *slab;    /* the same for wide keys, once there are many */
	uint64_t *pend;          /* codes not yet in their partitions (FMT_PUPIL_PEND at most) */
	uint16_t *pendp;         /* their partitions, while they go */
	size_t npend;
	size_t tdone;            /* rows before have their final tag */
	uint16_t *tag;           /* per row: 2 x partition (+ 1 for a wide key), NO_ID or PENDING */
	size_t ntag, tagcap;
	char *longs;             /* ids of more than 15 bytes: 4-byte length, then bytes */
	size_t llen, lcap;
} fmt_pupil_chunk;

/* Tests: every hash is ANDed with this (all ones normally): fewer bits make ids share
 * partitions and table slots, which must change no number. */
extern uint64_t fmt_pupil_hash_keep;

/* The partition bits for about `expect_rows` rows (0 for small files). */
unsigned fmt_pupil_bits(size_t expect_rows);
/* expect_rows sizes the partitions up front (a hint). JOS_OK or JOS_ENOMEM. */
int fmt_pupil_chunk_init(fmt_pupil_chunk *pc, unsigned pbits, uint16_t index, size_t expect_rows);
void fmt_pupil_chunk_free(fmt_pupil_chunk *pc);
/* The id of the chunk's row `row` (rows in increasing order; a row left out has no id and
 * keeps its number). JOS_OK, JOS_EINVALID for a row out of order, or JOS_ENOMEM (then
 * the chunk is only good for fmt_pupil_chunk_free). */
int fmt_pupil_add(fmt_pupil_chunk *pc, const char *s, size_t n, uint32_t row);
/* Numbers every id: rows[rowbase[k] + row].pupil for the rows of chunk k (nrows rows in
 * all), on up to `threads` threads; *npupils = the number of distinct ids. The chunks
 * are emptied. JOS_OK or JOS_ENOMEM. */
int fmt_pupil_number(fmt_pupil_chunk *chunks, size_t nchunks, const size_t *rowbase,
		     size_t nrows, jos_enrolment *rows, uint32_t *npupils, int threads);

#endif
