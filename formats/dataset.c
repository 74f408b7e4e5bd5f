/*
 * dataset.c: DATA_DIR into a jos_dataset (SPEC "Input: DATA_DIR").
 *
 * Files are read in a fixed order: settlement.ini, municipalities.csv, schools.csv,
 * costs.csv, enrolments.csv, agreements.csv. Each row is parsed strictly; every problem
 * goes to the error list as FILE:LINE and the bad row is skipped, so one run reports
 * everything. Right after a file is read its rows are sorted (municipalities by code,
 * schools by id in byte order), so every later reference resolves to an index in the
 * engine's order. The loader checks what is local to a row or needs the files (syntax,
 * values, uniqueness, references, a school without costs); eng_dataset_validate then
 * checks the rules across rows on the model (overlaps, agreements, keys, period).
 *
 * Cascades are avoided: a reference to an id whose own row was invalid is not reported
 * again, and references into a file that could not be read at all are not checked.
 *
 * Speed (2.5 M enrolments): no allocation per row; municipalities resolve through a
 * 10000-entry code table, schools, pupil ids and categories through open-addressing
 * hash tables. Plain enrolment lines take a fast path (enrol_fast) that keeps exactly
 * the rows enrol_row would keep and leaves every other line to it. Pupil ids are interned to dense numbers and the table that holds them
 * is freed before returning: the model never keeps a pupil id.
 */
#include "formats/formats.h"
#include "formats/pupils_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define F_SETTINGS "settlement.ini"
#define F_MUNIS "municipalities.csv"
#define F_SCHOOLS "schools.csv"
#define F_COSTS "costs.csv"
#define F_ENROL "enrolments.csv"
#define F_AGREE "agreements.csv"

#define NCODES 10000
#define SHOWN 60   /* at most this many bytes of a bad value are quoted in a message */

/* ---- string table: byte strings to dense ids ---------------------------------- */

typedef struct {
	uint64_t *slots;   /* (hash << 32) | (id + 1); 0 = empty */
	size_t mask;
	char *buf;         /* the strings, back to back */
	size_t blen, bcap;
	uint32_t *off;     /* string id starts at off[id], ends at off[id + 1] */
	size_t n, offcap;
} strtab;

/* 8 bytes at a time, then a full-avalanche finaliser (murmur3's fmix64): the table
 * index takes the low bits, which must depend on every byte. */
static uint32_t str_hash(const char *s, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
	}
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static void strtab_free(strtab *t)
{
	free(t->slots);
	free(t->buf);
	free(t->off);
	memset(t, 0, sizeof *t);
}

/* A zeroed slot array (huge pages for big ones: they are probed at random). */
static uint64_t *slots_alloc(size_t nslots)
{
	uint64_t *p = jos_big_alloc(nslots * sizeof(uint64_t));
	if (p)
		memset(p, 0, nslots * sizeof(uint64_t));
	return p;
}

static int strtab_rehash(strtab *t, size_t nslots)
{
	uint64_t *ns = slots_alloc(nslots);
	if (!ns)
		return JOS_ENOMEM;
	for (size_t i = 0; t->slots && i <= t->mask; i++) {
		uint64_t e = t->slots[i];
		if (!e)
			continue;
		size_t j = (size_t)(e >> 32) & (nslots - 1);
		while (ns[j])
			j = (j + 1) & (nslots - 1);
		ns[j] = e;
	}
	free(t->slots);
	t->slots = ns;
	t->mask = nslots - 1;
	return JOS_OK;
}

static bool strtab_eq(const strtab *t, uint32_t id, const char *s, size_t n)
{
	size_t len = t->off[id + 1] - t->off[id];
	return len == n && memcmp(t->buf + t->off[id], s, n) == 0;
}

/* The id of [s, s+n), or -1. */
static int64_t strtab_find(const strtab *t, const char *s, size_t n)
{
	if (!t->slots)
		return -1;
	uint32_t h = str_hash(s, n);
	for (size_t j = h & t->mask;; j = (j + 1) & t->mask) {
		uint64_t e = t->slots[j];
		if (!e)
			return -1;
		if ((uint32_t)(e >> 32) == h && strtab_eq(t, (uint32_t)e - 1, s, n))
			return (uint32_t)e - 1;
	}
}

/* Interns [s, s+n) whose str_hash is h: 1 = new id, 0 = known, <0 = JOS_ENOMEM (or
 * too much text). */
static int strtab_intern_h(strtab *t, const char *s, size_t n, uint32_t h, uint32_t *id)
{
	if (!t->slots || (t->n + 1) * 4 > (t->mask + 1) * 3) {
		if (strtab_rehash(t, t->slots ? (t->mask + 1) * 2 : 1024) != JOS_OK)
			return JOS_ENOMEM;
	}
	size_t j = h & t->mask;
	for (;; j = (j + 1) & t->mask) {
		uint64_t e = t->slots[j];
		if (!e)
			break;
		if ((uint32_t)(e >> 32) == h && strtab_eq(t, (uint32_t)e - 1, s, n)) {
			*id = (uint32_t)e - 1;
			return 0;
		}
	}
	if (t->n >= UINT32_MAX - 1 || t->blen + n >= UINT32_MAX)
		return JOS_ENOMEM;
	if (jos_grow((void **)&t->buf, &t->bcap, t->blen + n + 1, 1) != JOS_OK ||
	    jos_grow((void **)&t->off, &t->offcap, t->n + 2, sizeof *t->off) != JOS_OK)
		return JOS_ENOMEM;
	if (n)
		memcpy(t->buf + t->blen, s, n);
	t->off[t->n] = (uint32_t)t->blen;
	t->blen += n;
	t->off[t->n + 1] = (uint32_t)t->blen;
	*id = (uint32_t)t->n++;
	t->slots[j] = ((uint64_t)h << 32) | ((uint64_t)*id + 1);
	return 1;
}

static int strtab_intern(strtab *t, const char *s, size_t n, uint32_t *id)
{
	return strtab_intern_h(t, s, n, str_hash(s, n), id);
}

/* ---- load context ----------------------------------------------------------------- */

typedef struct {
	jos_dataset *ds;
	jos_errlist *errs;
	const char *dir;
	int fatal;                     /* JOS_ENOMEM / JOS_EIO: stop */

	bool munis_ok;                 /* municipalities.csv was read: references can be checked */
	uint32_t muni_line[NCODES];    /* first line of each code seen (valid row or not) */
	int16_t muni_idx[NCODES];      /* index into ds->munis, -1: absent or its row invalid */

	bool schools_ok;
	strtab school_ids;             /* every school_id seen in schools.csv */
	uint32_t *school_line;         /* per seen id: its first line */
	int32_t *school_idx;           /* per seen id: index into ds->schools, -1: row invalid */
	size_t school_cap;

	bool costs_ok;
	struct enrol_chunk *chunk;     /* where enrolment rows go */
	/* the last school and category a row named, as written: exports group rows by
	 * school, so most rows skip the hash lookup */
	char last_school[32];
	size_t last_school_n;          /* 0: none */
	uint32_t last_school_idx;
	/* categories as written, by a hash of their length and ends: a file's few
	 * categories, interleaved, skip the lower-casing and the hash lookup */
	struct {
		char s[32];
		size_t n;                  /* 0: empty slot */
		uint16_t id;
	} cat_cache[8];
	strtab cats;                   /* categories, lower-cased; id 0 = "" */
	char *lower;                   /* scratch for lower-casing a category */
	size_t lower_cap;

	uint32_t agree_line[NCODES];   /* first agreement line per code */
	size_t cap_munis, cap_schools, cap_agree;
} load_ctx;

static void add(load_ctx *L, const char *file, uint32_t line, const char *fmt, ...)
	JOS_PRINTF(4, 5);

static void add(load_ctx *L, const char *file, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jos_errlist_vadd(L->errs, JOS_SEV_ERROR, file, line, fmt, ap);
	va_end(ap);
}

static const fmt_field empty_field = { "", 0 };

static const fmt_field *field(const fmt_record *r, const int *idx, int col)
{
	int i = idx[col];
	return (i >= 0 && (size_t)i < r->nf) ? &r->f[i] : &empty_field;
}

static int shown(size_t n)
{
	return (int)(n > SHOWN ? SHOWN : n);
}

/* A required text field: false (and reported) when empty. */
static bool need(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
		 const char *col)
{
	if (f->n)
		return true;
	add(L, file, line, "%s is empty", col);
	return false;
}

static const char *keep(load_ctx *L, const fmt_field *f)
{
	const char *p = jos_arena_strndup(L->ds->arena, f->s, f->n);
	if (!p)
		L->fatal = JOS_ENOMEM;
	return p;
}

static bool parse_code(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
		       const char *col, char code[5])
{
	char why[JOS_WHY_MAX];
	if (!need(L, file, line, f, col))
		return false;
	if (fmt_parse_code(code, f->s, f->n, why) != JOS_OK) {
		add(L, file, line, "%s '%.*s': %s", col, shown(f->n), f->s, why);
		return false;
	}
	return true;
}

static int code_num(const char code[5])
{
	return (code[0] - '0') * 1000 + (code[1] - '0') * 100 + (code[2] - '0') * 10 +
	       (code[3] - '0');
}

/* A municipality reference: 1 = resolved into *idx, 0 = the row is unusable (reported,
 * or silently when the code's own row was invalid or municipalities.csv unreadable). */
static int resolve_muni(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
			const char *col, uint16_t *idx)
{
	char code[5];
	if (!parse_code(L, file, line, f, col, code))
		return 0;
	if (!L->munis_ok)
		return 0;
	int c = code_num(code);
	if (L->muni_idx[c] >= 0) {
		*idx = (uint16_t)L->muni_idx[c];
		return 1;
	}
	if (!L->muni_line[c])
		add(L, file, line, "unknown municipality %s (not in %s)", code, F_MUNIS);
	return 0;
}

/* [a, a+n) == [b, b+n) for n <= 16, when 16 bytes are readable at a and at b (a field
 * of a line fmt_csv_simple gave: the buffer has room after it; a 32-byte cache). */
static inline bool eq16(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	/* the first n bytes, whichever the byte order */
	static const unsigned char ones[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t m0, m1;
	memcpy(&m0, ones + 16 - n, 8);
	memcpy(&m1, ones + 24 - n, 8);
	return (((a0 ^ b0) & m0) | ((a1 ^ b1) & m1)) == 0;
}

/* The index of school id [s, s + n), the last one found remembered: >= 0; -1 unknown;
 * -2 a school whose own row was invalid. padded: 16 bytes are readable at s (eq16). */
static int64_t find_school(load_ctx *L, const char *s, size_t n, bool padded)
{
	if (n == L->last_school_n && (padded && n <= 16 ? eq16(s, L->last_school, n)
						      : memcmp(s, L->last_school, n) == 0))
		return L->last_school_idx;
	int64_t id = strtab_find(&L->school_ids, s, n);
	if (id < 0)
		return -1;
	if (L->school_idx[id] < 0)
		return -2;
	if (n <= sizeof L->last_school) {
		memcpy(L->last_school, s, n);
		L->last_school_n = n;
		L->last_school_idx = (uint32_t)L->school_idx[id];
	}
	return L->school_idx[id];
}

static int resolve_school(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
			  uint32_t *idx)
{
	if (!need(L, file, line, f, "school_id") || !L->schools_ok)
		return 0;
	int64_t k = find_school(L, f->s, f->n, false);
	if (k == -1)
		add(L, file, line, "unknown school %.*s (not in %s)", shown(f->n), f->s, F_SCHOOLS);
	if (k < 0)
		return 0;
	*idx = (uint32_t)k;
	return 1;
}

static bool parse_date(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
		       const char *col, jos_day *out)
{
	char why[JOS_WHY_MAX];
	if (fmt_parse_date(out, f->s, f->n, why) == JOS_OK)
		return true;
	add(L, file, line, "%s '%.*s': %s", col, shown(f->n), f->s, why);
	return false;
}

static bool parse_amount(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
			 const char *col, bool comma, jos_cents *out)
{
	char why[JOS_WHY_MAX];
	if (fmt_parse_amount(out, f->s, f->n, comma, why) == JOS_OK)
		return true;
	add(L, file, line, "%s '%.*s': %s", col, shown(f->n), f->s, why);
	return false;
}

/* ---- opening a CSV file ------------------------------------------------------------- */

/* 1 = open with the columns mapped into idx; 0 = missing or unusable (reported);
 * <0 = fatal (L->fatal set). */
static int open_csv(load_ctx *L, const char *name, bool required, const fmt_column *cols,
		    size_t ncols, int *idx, fmt_csv **out)
{
	char path[4096];
	struct stat st;
	size_t before = L->errs->nerrors;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", L->dir, name) >= sizeof path) {
		add(L, name, 0, "path too long");
		return L->fatal = JOS_EIO;
	}
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (required)
				add(L, name, 0, "missing");
			return 0;
		}
		add(L, name, 0, "cannot read: %s", strerror(errno));
		return L->fatal = JOS_EIO;
	}
	int rc = fmt_csv_open(out, path, name, L->errs);
	if (rc == JOS_EINVALID) {
		fmt_csv_free(*out);
		*out = NULL;
		return 0;
	}
	if (rc != JOS_OK) {
		fmt_csv_free(*out);
		*out = NULL;
		if (L->errs->nerrors == before)
			add(L, name, 0, "cannot read: %s", rc == JOS_ENOMEM ? "out of memory"
									     : strerror(errno));
		return L->fatal = rc;
	}
	rc = fmt_csv_map(*out, cols, ncols, idx, L->errs);
	if (rc != JOS_OK) {
		fmt_csv_free(*out);
		*out = NULL;
		return rc == JOS_ENOMEM ? (L->fatal = JOS_ENOMEM) : 0;
	}
	return 1;
}

/* Reads every record of c through row(); returns JOS_OK or the fatal code. */
static int read_rows(load_ctx *L, fmt_csv *c, const int *idx,
		     void (*row)(load_ctx *, const fmt_record *, const int *, bool))
{
	fmt_record rec;
	int r;
	bool comma = fmt_csv_separator(c) == ';';
	while ((r = fmt_csv_next(c, &rec, L->errs)) == 1) {
		row(L, &rec, idx, comma);
		if (L->fatal)
			return L->fatal;
	}
	if (r < 0)
		return L->fatal = (r == JOS_ENOMEM ? JOS_ENOMEM : JOS_EIO);
	return JOS_OK;
}

/* ---- municipalities.csv --------------------------------------------------------------- */

enum { MU_CODE, MU_NAME, MU_IN_REGION, MU_INHABITANTS, MU_N };
static const fmt_column muni_cols[MU_N] = {
	{ "code", true }, { "name", true }, { "in_region", true }, { "inhabitants", false }
};

static void muni_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_MUNIS;
	char code[5], why[JOS_WHY_MAX];
	jos_muni m;
	bool ok = true, have_code;
	const fmt_field *f;
	(void)comma;

	memset(&m, 0, sizeof m);
	m.line = r->line;
	m.inhabitants = -1;
	have_code = parse_code(L, F, r->line, field(r, idx, MU_CODE), "code", code);
	ok &= have_code;
	ok &= need(L, F, r->line, field(r, idx, MU_NAME), "name");
	f = field(r, idx, MU_IN_REGION);
	if (!need(L, F, r->line, f, "in_region")) {
		ok = false;
	} else if (fmt_parse_bool(&m.in_region, f->s, f->n, why) != JOS_OK) {
		add(L, F, r->line, "in_region '%.*s': %s", shown(f->n), f->s, why);
		ok = false;
	}
	f = field(r, idx, MU_INHABITANTS);
	if (f->n && fmt_parse_count(&m.inhabitants, f->s, f->n, why) != JOS_OK) {
		add(L, F, r->line, "inhabitants '%.*s': %s", shown(f->n), f->s, why);
		ok = false;
	}
	if (have_code) {
		int c = code_num(code);
		if (L->muni_line[c]) {
			add(L, F, r->line, "duplicate code %s (also at line %u)", code,
			    (unsigned)L->muni_line[c]);
			return;
		}
		L->muni_line[c] = r->line;
	}
	if (!ok)
		return;
	memcpy(m.code, code, 5);
	if (!(m.name = keep(L, field(r, idx, MU_NAME))))
		return;
	jos_dataset *ds = L->ds;
	if (jos_grow((void **)&ds->munis, &L->cap_munis, ds->nmunis + 1, sizeof *ds->munis)) {
		L->fatal = JOS_ENOMEM;
		return;
	}
	ds->munis[ds->nmunis++] = m;
}

static int muni_cmp(const void *a, const void *b)
{
	return strcmp(((const jos_muni *)a)->code, ((const jos_muni *)b)->code);
}

static int load_munis(load_ctx *L)
{
	int idx[MU_N];
	fmt_csv *c;
	int rc = open_csv(L, F_MUNIS, true, muni_cols, MU_N, idx, &c);
	if (rc <= 0)
		return rc;
	rc = read_rows(L, c, idx, muni_row);
	fmt_csv_free(c);
	if (rc)
		return rc;
	jos_dataset *ds = L->ds;
	if (ds->nmunis > 1)
		qsort(ds->munis, ds->nmunis, sizeof *ds->munis, muni_cmp);
	for (size_t i = 0; i < ds->nmunis; i++)
		L->muni_idx[code_num(ds->munis[i].code)] = (int16_t)i;
	L->munis_ok = true;
	return JOS_OK;
}

/* ---- schools.csv ---------------------------------------------------------------------- */

enum { SC_ID, SC_NAME, SC_MUNI, SC_TYPE, SC_PROVIDER, SC_N };
static const fmt_column school_cols[SC_N] = { { "school_id", true },
					      { "name", true },
					      { "municipality_code", true },
					      { "type", true },
					      { "provider", false } };

static void school_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_SCHOOLS;
	const fmt_field *fid = field(r, idx, SC_ID);
	jos_school s;
	bool ok = true;
	(void)comma;

	memset(&s, 0, sizeof s);
	s.line = r->line;
	ok &= need(L, F, r->line, fid, "school_id");
	ok &= need(L, F, r->line, field(r, idx, SC_NAME), "name");
	ok &= resolve_muni(L, F, r->line, field(r, idx, SC_MUNI), "municipality_code", &s.muni) == 1;
	ok &= need(L, F, r->line, field(r, idx, SC_TYPE), "type");
	if (fid->n) {
		uint32_t id;
		int rc = strtab_intern(&L->school_ids, fid->s, fid->n, &id);
		if (rc < 0) {
			L->fatal = JOS_ENOMEM;
			return;
		}
		if (rc == 0) {
			add(L, F, r->line, "duplicate school_id %.*s (also at line %u)", shown(fid->n),
			    fid->s, (unsigned)L->school_line[id]);
			return;
		}
		if (jos_grow((void **)&L->school_line, &L->school_cap, id + 1,
			     sizeof *L->school_line)) {
			L->fatal = JOS_ENOMEM;
			return;
		}
		L->school_line[id] = r->line;
	}
	if (!ok)
		return;
	if (!(s.id = keep(L, fid)) || !(s.name = keep(L, field(r, idx, SC_NAME))) ||
	    !(s.type = keep(L, field(r, idx, SC_TYPE))) ||
	    !(s.provider = keep(L, field(r, idx, SC_PROVIDER))))
		return;
	jos_dataset *ds = L->ds;
	if (jos_grow((void **)&ds->schools, &L->cap_schools, ds->nschools + 1,
		     sizeof *ds->schools)) {
		L->fatal = JOS_ENOMEM;
		return;
	}
	ds->schools[ds->nschools++] = s;
}

static int school_cmp(const void *a, const void *b)
{
	return strcmp(((const jos_school *)a)->id, ((const jos_school *)b)->id);
}

static int load_schools(load_ctx *L)
{
	int idx[SC_N];
	fmt_csv *c;
	int rc = open_csv(L, F_SCHOOLS, true, school_cols, SC_N, idx, &c);
	if (rc <= 0)
		return rc;
	/* room for every row the file can hold (a row has more than 8 bytes) in one block,
	 * huge pages where possible: growing by realloc copied the rows into fresh pages
	 * again and again (a fault per 4 KiB; a third of this phase at 7000 schools) */
	char path[4096];
	struct stat st;
	if (!L->ds->schools && (size_t)snprintf(path, sizeof path, "%s/%s", L->dir, F_SCHOOLS) < sizeof path &&
	    stat(path, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size < ((uint64_t)1 << 30)) {
		size_t est = (size_t)st.st_size / 8 + 16;
		if ((L->ds->schools = jos_big_alloc(est * sizeof *L->ds->schools)))
			L->cap_schools = est;
	}
	rc = read_rows(L, c, idx, school_row);
	fmt_csv_free(c);
	if (rc)
		return rc;
	jos_dataset *ds = L->ds;
	if (ds->nschools > 1)
		qsort(ds->schools, ds->nschools, sizeof *ds->schools, school_cmp);
	L->school_idx = malloc((L->school_ids.n + 1) * sizeof *L->school_idx);
	if (!L->school_idx)
		return L->fatal = JOS_ENOMEM;
	for (size_t i = 0; i < L->school_ids.n; i++)
		L->school_idx[i] = -1;
	for (size_t i = 0; i < ds->nschools; i++) {
		int64_t id = strtab_find(&L->school_ids, ds->schools[i].id, strlen(ds->schools[i].id));
		if (id >= 0)
			L->school_idx[id] = (int32_t)i;
	}
	L->schools_ok = true;
	return JOS_OK;
}

/* ---- costs.csv ------------------------------------------------------------------------- */

enum { CO_SCHOOL, CO_BUDGET, CO_COFIN, CO_N };
static const fmt_column cost_cols[CO_N] = {
	{ "school_id", true }, { "budget", true }, { "cofinancing", false }
};

/* budget >= cofinancing >= 0 for a row the model will not hold (eng_dataset_validate
 * checks the rows it keeps, with the same words). */
static void check_amounts(load_ctx *L, uint32_t line, jos_cents budget, jos_cents cofin)
{
	char a[JOS_FMT_BUF], b[JOS_FMT_BUF];
	if (budget < 0)
		add(L, F_COSTS, line, "budget %s is negative", jos_cents_format(a, budget));
	if (cofin < 0)
		add(L, F_COSTS, line, "cofinancing %s is negative", jos_cents_format(a, cofin));
	else if (budget >= 0 && cofin > budget)
		add(L, F_COSTS, line, "cofinancing %s exceeds budget %s", jos_cents_format(a, cofin),
		    jos_cents_format(b, budget));
}

static void cost_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_COSTS;
	const fmt_field *fid = field(r, idx, CO_SCHOOL), *f;
	jos_cents budget = 0, cofin = 0;
	uint32_t si = 0;
	bool ok = true;

	bool resolved = resolve_school(L, F, r->line, fid, &si) == 1;
	ok &= resolved;
	bool budget_ok = false, cofin_ok = true;
	f = field(r, idx, CO_BUDGET);
	if (need(L, F, r->line, f, "budget"))
		budget_ok = parse_amount(L, F, r->line, f, "budget", comma, &budget);
	f = field(r, idx, CO_COFIN);
	if (f->n)
		cofin_ok = parse_amount(L, F, r->line, f, "cofinancing", comma, &cofin);
	ok &= budget_ok && cofin_ok;
	if (!resolved) {
		/* the row is dropped, so the validator will not see it: its amounts' rules */
		if (budget_ok && cofin_ok)
			check_amounts(L, r->line, budget, cofin);
		return;
	}
	jos_school *s = &L->ds->schools[si];
	if (s->costs_line) {
		add(L, F, r->line, "duplicate costs for school %s (also at line %u)", s->id,
		    (unsigned)s->costs_line);
		return;
	}
	s->costs_line = r->line;
	if (!ok)
		return;
	s->has_costs = true;
	s->budget = budget;
	s->cofinancing = cofin;
}

static int load_costs(load_ctx *L)
{
	int idx[CO_N];
	fmt_csv *c;
	int rc = open_csv(L, F_COSTS, true, cost_cols, CO_N, idx, &c);
	if (rc <= 0)
		return rc;
	rc = read_rows(L, c, idx, cost_row);
	fmt_csv_free(c);
	if (rc)
		return rc;
	L->costs_ok = true;
	/* SPEC: a school without a costs row is an error at its schools.csv line. A costs
	 * row that was itself invalid has been reported already. */
	for (size_t i = 0; i < L->ds->nschools; i++) {
		const jos_school *s = &L->ds->schools[i];
		if (!s->costs_line)
			add(L, F_SCHOOLS, s->line, "school %s has no row in %s", s->id, F_COSTS);
	}
	return JOS_OK;
}

/* ---- enrolments.csv ------------------------------------------------------------------------ */

enum { EN_PUPIL, EN_SCHOOL, EN_RESIDENCE, EN_START, EN_END, EN_CATEGORY, EN_N };
static const fmt_column enrol_cols[EN_N] = {
	{ "pupil_id", true },   { "school_id", true }, { "residence_code", true },
	{ "start_date", true }, { "end_date", false }, { "category", false }
};

/* The cat_cache slot of a category of n > 0 bytes. */
static inline unsigned cat_slot(const char *s, size_t n)
{
	return (unsigned)(n + (unsigned char)s[0] * 3u + (unsigned char)s[n - 1]) & 7u;
}

/* A category's id (remembered in cat_cache); padded: 16 bytes are readable at f->s. */
static int intern_category(load_ctx *L, const fmt_field *f, bool padded, uint16_t *out)
{
	uint32_t id;
	if (f->n == 0) {
		*out = 0;
		return JOS_OK;
	}
	unsigned slot = cat_slot(f->s, f->n);
	if (f->n == L->cat_cache[slot].n && (padded && f->n <= 16
						 ? eq16(f->s, L->cat_cache[slot].s, f->n)
						 : memcmp(f->s, L->cat_cache[slot].s, f->n) == 0)) {
		*out = L->cat_cache[slot].id;
		return JOS_OK;
	}
	if (jos_grow((void **)&L->lower, &L->lower_cap, f->n, 1))
		return JOS_ENOMEM;
	for (size_t i = 0; i < f->n; i++)
		L->lower[i] = jos_lower(f->s[i]);
	int rc = strtab_intern(&L->cats, L->lower, f->n, &id);
	if (rc < 0)
		return rc;
	if (id > UINT16_MAX)
		return JOS_EINVALID;
	*out = (uint16_t)id;
	if (f->n <= sizeof L->cat_cache[slot].s) {
		memcpy(L->cat_cache[slot].s, f->s, f->n);
		L->cat_cache[slot].n = f->n;
		L->cat_cache[slot].id = *out;
	}
	return JOS_OK;
}

#define PRESIZE_MAX ((size_t)3 << 20)   /* rows reserved at most from the file size */

/* ---- enrolments.csv: read in parts on every core ------------------------------------
 * The file is cut into one part per thread at line starts; each part is read by its own
 * reader into its own rows, pupil keys (formats/pupils.c) and categories, with its own
 * copy of the load context. Where a part starts is a guess (a quoted field may hold a
 * newline), so it is checked: part k-1's reader must stop exactly where part k began.
 * Any problem at all in any part (a bad value, a wrong guess, out of memory) throws
 * the parts away and the file is read again in one part, which reports every problem
 * as always: the parts only ever serve valid files, and give the same rows, lines and
 * categories. Lines of part k are counted from 1 and shifted once part k-1 is known. */

typedef struct enrol_chunk {
	jos_enrolment *rows;
	size_t n, cap;
	fmt_pupil_chunk pupils;
	fmt_csv *csv;
	uint64_t end;           /* stop before a record that starts at or after end */
	uint64_t stop;          /* where the reader stopped */
	uint32_t stop_line;     /* the reader's line there */
	bool at_eof;            /* the reader reached the end of the file */
	bool own_rows;          /* rows is this chunk's (else a region of a shared array) */
	load_ctx *ctx;          /* this part's context */
	jos_errlist errs;
} enrol_chunk;

/* Room for one more row: an own array grows; a full region of a shared array (which
 * read_parts sizes to hold every row of its part) is left for an own array, which
 * read_parts copies from. */
static int chunk_grow(enrol_chunk *ch)
{
	if (ch->own_rows)
		return jos_grow((void **)&ch->rows, &ch->cap, ch->n + 1, sizeof *ch->rows);
	size_t cap = ch->cap < 4096 ? 8192 : ch->cap * 2;
	jos_enrolment *own = cap < SIZE_MAX / sizeof *own ? jos_big_alloc(cap * sizeof *own) : NULL;
	if (!own)
		return JOS_ENOMEM;
	if (ch->n)
		memcpy(own, ch->rows, ch->n * sizeof *own);
	ch->rows = own;
	ch->cap = cap;
	ch->own_rows = true;
	return JOS_OK;
}

static void enrol_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_ENROL;
	const fmt_field *fp = field(r, idx, EN_PUPIL), *f;
	enrol_chunk *ch = L->chunk;
	jos_enrolment e;
	bool ok = true;
	(void)comma;

	memset(&e, 0, sizeof e);
	e.line = r->line;
	e.end = JOS_DAY_OPEN;
	ok &= need(L, F, r->line, fp, "pupil_id");
	ok &= resolve_school(L, F, r->line, field(r, idx, EN_SCHOOL), &e.school) == 1;
	ok &= resolve_muni(L, F, r->line, field(r, idx, EN_RESIDENCE), "residence_code",
			   &e.residence) == 1;
	bool dates_ok = false;
	f = field(r, idx, EN_START);
	if (need(L, F, r->line, f, "start_date"))
		dates_ok = parse_date(L, F, r->line, f, "start_date", &e.start);
	f = field(r, idx, EN_END);
	if (f->n)
		dates_ok &= parse_date(L, F, r->line, f, "end_date", &e.end);
	ok &= dates_ok;
	int rc = intern_category(L, field(r, idx, EN_CATEGORY), false, &e.category);
	if (rc == JOS_EINVALID) {
		add(L, F, r->line, "too many distinct categories (at most %u)", UINT16_MAX);
		ok = false;
	} else if (rc) {
		L->fatal = JOS_ENOMEM;
		return;
	}
	if (!ok) {
		/* dropped: the validator will not see it, so its interval is checked here */
		if (dates_ok && e.end < e.start) {
			char a[16], b[16];
			jos_day_format(a, e.end);
			jos_day_format(b, e.start);
			add(L, F, r->line, "end_date %s is before start_date %s", a, b);
		}
		return;
	}
	if (ch->n >= UINT32_MAX || (ch->n == ch->cap && chunk_grow(ch) != JOS_OK) ||
	    fmt_pupil_add(&ch->pupils, fp->s, fp->n, (uint32_t)ch->n) != JOS_OK) {
		L->fatal = JOS_ENOMEM;
		return;
	}
	ch->rows[ch->n++] = e;
}

/* The municipality code of a field as fmt_parse_code reads it, for the fast path
 * (no blanks in it): its number, or -1 when fmt_parse_code would not accept it. */
static int code_fast(const fmt_field *f)
{
	size_t i = f->n >= 2 && (f->s[0] | 0x20) == 'g' && (f->s[1] | 0x20) == 'm' ? 2 : 0;
	if (f->n - i < 1 || f->n - i > 4)
		return -1;
	int c = 0;
	for (; i < f->n; i++) {
		unsigned dg = (unsigned)(unsigned char)f->s[i] - '0';
		if (dg > 9)
			return -1;
		c = c * 10 + (int)dg;
	}
	return c ? c : -1;
}

/*
 * The fast path of a plain line (fmt_csv_simple: its fields, the header's count): the
 * row enrol_row would keep, when every value is valid and resolves. 1 = kept; 0 = not
 * taken (nothing reported, nothing of the row kept: read it with fmt_csv_next and
 * enrol_row, which says what is wrong); <0 = fatal (L->fatal set).
 */
static int enrol_fast(load_ctx *L, const fmt_field *const *col, uint32_t line)
{
	const fmt_field *fp = col[EN_PUPIL], *fs = col[EN_SCHOOL], *f;
	enrol_chunk *ch = L->chunk;
	jos_enrolment e;

	if (!fp->n || !fs->n || !L->schools_ok || !L->munis_ok)
		return 0;
	int64_t k = find_school(L, fs->s, fs->n, true);
	if (k < 0)
		return 0;
	e.school = (uint32_t)k;
	int c = code_fast(col[EN_RESIDENCE]);
	if (c < 0 || L->muni_idx[c] < 0)
		return 0;
	e.residence = (uint16_t)L->muni_idx[c];
	f = col[EN_START];
	if (f->n != 10 || !fmt_date_fast(&e.start, f->s))
		return 0;
	f = col[EN_END];
	e.end = JOS_DAY_OPEN;
	if (f->n && (f->n != 10 || !fmt_date_fast(&e.end, f->s)))
		return 0;
	int rc = intern_category(L, col[EN_CATEGORY], true, &e.category);
	if (rc == JOS_EINVALID)
		return 0;
	e.line = line;
	e.pupil = 0;
	if (rc || ch->n >= UINT32_MAX || (ch->n == ch->cap && chunk_grow(ch) != JOS_OK) ||
	    fmt_pupil_add(&ch->pupils, fp->s, fp->n, (uint32_t)ch->n) != JOS_OK)
		return L->fatal = JOS_ENOMEM;
	ch->rows[ch->n++] = e;
	return 1;
}

/* A part's context: the loader's lookups (read only), its own problems and categories. */
static load_ctx *chunk_ctx(const load_ctx *L, enrol_chunk *ch)
{
	load_ctx *cx = malloc(sizeof *cx);
	uint32_t id0;
	if (!cx)
		return NULL;
	*cx = *L;
	cx->errs = &ch->errs;
	cx->fatal = JOS_OK;
	memset(&cx->cats, 0, sizeof cx->cats);
	cx->lower = NULL;
	cx->lower_cap = 0;
	memset(cx->cat_cache, 0, sizeof cx->cat_cache);   /* its ids are L's, not this part's */
	cx->chunk = ch;
	if (strtab_intern(&cx->cats, "", 0, &id0) < 0) {
		free(cx);
		return NULL;
	}
	return cx;
}

static void chunk_free(enrol_chunk *ch, bool own_ctx)
{
	if (own_ctx && ch->ctx) {
		strtab_free(&ch->ctx->cats);
		free(ch->ctx->lower);
		free(ch->ctx);
	}
	if (ch->own_rows)
		free(ch->rows);
	fmt_pupil_chunk_free(&ch->pupils);
	jos_errlist_free(&ch->errs);
	memset(ch, 0, sizeof *ch);
}

/* The fewest bytes of a valid row ("a,b,1,01-01-2025\n" is 17): rows are reserved for
 * bytes / ROW_MIN, which only touches memory as rows come, and never has to move them. */
#define ROW_MIN 16

static size_t rows_for(uint64_t bytes)
{
	uint64_t n = bytes / ROW_MIN + 16;
	return n > SIZE_MAX / sizeof(jos_enrolment) ? SIZE_MAX / sizeof(jos_enrolment) : (size_t)n;
}

/* Pupil keys sized for about `expect` rows; the rows go to [rows, rows + cap): the chunk's
 * own array when `own` (it may grow), else a region of a shared one (it may not). */
static int chunk_init(enrol_chunk *ch, unsigned pbits, uint16_t index, size_t expect,
		      jos_enrolment *rows, size_t cap, bool own)
{
	memset(ch, 0, sizeof *ch);
	jos_errlist_init(&ch->errs);
	ch->rows = rows;
	ch->cap = cap;
	ch->own_rows = own;
	if (expect > PRESIZE_MAX)   /* beyond, the keys grow as rows come */
		expect = PRESIZE_MAX;
	return fmt_pupil_chunk_init(&ch->pupils, pbits, index, expect);
}

/* Gives the unused end of a big row array back to the system. */
static void trim_rows(jos_enrolment *rows, size_t n, size_t cap)
{
	const uintptr_t page = 4096;
	uintptr_t a = ((uintptr_t)(rows + n) + page - 1) & ~(page - 1);
	uintptr_t b = (uintptr_t)(rows + cap) & ~(page - 1);
	if (cap * sizeof *rows >= ((size_t)4 << 20) && b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

#define FAST_MAXF 16   /* fields of a line the fast path takes at most */

/* Reads records until one starts at or after ch->end: plain lines by the fast path,
 * any other (and any the fast path does not take) by fmt_csv_next and enrol_row. */
static void read_chunk(enrol_chunk *ch, const int *idx)
{
	load_ctx *L = ch->ctx;
	fmt_record rec;
	fmt_field fv[FAST_MAXF + FMT_CSV_SPARE];
	int r = 1;
	bool comma = fmt_csv_separator(ch->csv) == ';';
	size_t nf = fmt_csv_header(ch->csv)->nf;
	const fmt_field *col[EN_N];   /* the line's field of each column */
	for (int i = 0; i < EN_N; i++)
		col[i] = idx[i] >= 0 && (size_t)idx[i] < nf && idx[i] < FAST_MAXF ? &fv[idx[i]] : &empty_field;
	for (;;) {
		uint32_t line;
		size_t got = nf <= FAST_MAXF ? fmt_csv_simple(ch->csv, fv, nf, ch->end, &line) : 0;
		if (got == nf) {
			int fr = enrol_fast(L, col, line);
			if (fr > 0)
				continue;
			if (fr < 0)
				break;
		}
		if (got)
			fmt_csv_simple_undo(ch->csv);
		if (fmt_csv_offset(ch->csv) >= ch->end ||
		    (r = fmt_csv_next(ch->csv, &rec, L->errs)) != 1)
			break;
		enrol_row(L, &rec, idx, comma);
		if (L->fatal)
			break;
	}
	if (r < 0 && !L->fatal)
		L->fatal = r == JOS_ENOMEM ? JOS_ENOMEM : JOS_EIO;
	ch->at_eof = r == 0;
	ch->stop = fmt_csv_offset(ch->csv);
	ch->stop_line = fmt_csv_line(ch->csv);
}

typedef struct {
	enrol_chunk *ch;
	const int *idx;
} chunk_job;

static void *chunk_main(void *arg)
{
	chunk_job *j = arg;
	read_chunk(j->ch, j->idx);
	return NULL;
}

/* The first line start at or after `from` whose line is not empty, or 0. */
static uint64_t line_start_after(int fd, uint64_t from, uint64_t size)
{
	char buf[65536];
	bool after_nl = false;
	for (uint64_t off = from; off < size;) {
		ssize_t n = pread(fd, buf, sizeof buf, (off_t)off);
		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++) {
			if (after_nl && buf[i] != '\n' && buf[i] != '\r')
				return off + (uint64_t)i;
			after_nl = buf[i] == '\n';
		}
		off += (uint64_t)n;
	}
	return 0;
}

/* Below this many bytes the file is read in one part (JOS_CHUNK_MIN: tests). */
static uint64_t chunk_min(void)
{
	const char *e = getenv("JOS_CHUNK_MIN");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (!*end)
			return v;
	}
	return (uint64_t)4 << 20;
}

/* Merges the parts' categories into L->cats in part order (the order of first use in
 * the file) and renumbers the rows; JOS_EINVALID when there are too many. */
static int merge_categories(load_ctx *L, enrol_chunk *ch, size_t nch)
{
	for (size_t k = 0; k < nch; k++) {
		const strtab *t = &ch[k].ctx->cats;
		uint16_t *map = malloc(t->n * sizeof *map);
		bool same = true;
		if (!map)
			return JOS_ENOMEM;
		for (size_t i = 0; i < t->n; i++) {
			uint32_t id;
			if (strtab_intern(&L->cats, t->buf + t->off[i], t->off[i + 1] - t->off[i], &id) < 0) {
				free(map);
				return JOS_ENOMEM;
			}
			if (id > UINT16_MAX) {
				free(map);
				return JOS_EINVALID;
			}
			map[i] = (uint16_t)id;
			same &= id == i;
		}
		for (size_t i = 0; i < ch[k].n && !same; i++)
			ch[k].rows[i].category = map[ch[k].rows[i].category];
		free(map);
	}
	return JOS_OK;
}

/* Newlines in [from, to) of the file (-1: cannot read). */
static int64_t count_lines(int fd, uint64_t from, uint64_t to)
{
	enum { BUF = 1 << 20 };
	char *buf = malloc(BUF);
	int64_t n = 0;
	if (!buf)
		return -1;
	while (from < to) {
		size_t want = to - from < BUF ? (size_t)(to - from) : BUF;
		ssize_t got = pread(fd, buf, want, (off_t)from);
		if (got <= 0) {
			n = -1;
			break;
		}
		n += (int64_t)fmt_count_byte(buf, (size_t)got, '\n');
		from += (uint64_t)got;
	}
	free(buf);
	return n;
}

typedef struct {
	int fd;
	uint64_t from, to;
	int64_t lines;
} count_job;

static void *count_main(void *arg)
{
	count_job *j = arg;
	j->lines = count_lines(j->fd, j->from, j->to);
	return NULL;
}

/* Reads the records after the header in nt parts into one row array. The parts' lines
 * are counted first (on every core): that gives each part its first line and a region
 * of the array that holds all its rows (a row takes at least a line), so the rows are
 * written where they stay. 1 = done (rows in L->chunk), 0 = not done: read the file in
 * one part (nothing of L changed). */
static int read_parts(load_ctx *L, fmt_csv *c, const int *idx, const char *path, uint64_t size,
		      int nt, unsigned pbits)
{
	enrol_chunk ch[FMT_MAX_THREADS];
	chunk_job jobs[FMT_MAX_THREADS];
	count_job cj[FMT_MAX_THREADS];
	size_t rowbase[FMT_MAX_THREADS], region[FMT_MAX_THREADS + 1];
	uint64_t begin = fmt_csv_offset(c), start[FMT_MAX_THREADS + 1];
	uint64_t line[FMT_MAX_THREADS + 1];
	jos_enrolment *rows = NULL;
	int nch = 0, done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(ch, 0, sizeof ch);
	if (fd < 0)
		return 0;
	start[nch++] = begin;
	for (int k = 1; k < nt; k++) {
		uint64_t s = line_start_after(fd, begin + (size - begin) * (uint64_t)k / (uint64_t)nt, size);
		if (s > start[nch - 1])
			start[nch++] = s;
	}
	start[nch] = size;
	if (nch < 2) {
		close(fd);
		return 0;
	}
	for (int k = 0; k < nch; k++)
		cj[k] = (count_job){ fd, start[k], start[k + 1], 0 };
	jos_run_parallel(cj, sizeof *cj, nch, count_main);
	close(fd);
	region[0] = 0;
	line[0] = fmt_csv_line(c);
	for (int k = 0; k < nch; k++) {
		if (cj[k].lines < 0 || (uint64_t)cj[k].lines > UINT32_MAX)
			return 0;
		line[k + 1] = line[k] + (uint64_t)cj[k].lines;
		region[k + 1] = region[k] + (size_t)cj[k].lines + 1;
	}
	if (line[nch] > UINT32_MAX || !(rows = jos_big_alloc(region[nch] * sizeof *rows)))
		return 0;

	for (int k = 0; k < nch; k++) {
		if (chunk_init(&ch[k], pbits, (uint16_t)k, region[k + 1] - region[k], rows + region[k],
			       region[k + 1] - region[k], false) != JOS_OK ||
		    !(ch[k].ctx = chunk_ctx(L, &ch[k])))
			goto out;
		ch[k].end = k + 1 < nch ? start[k + 1] : UINT64_MAX;
		if (k == 0) {
			ch[k].csv = c;
		} else {
			jos_errlist quiet;   /* the header's problems were reported by the first reader */
			jos_errlist_init(&quiet);
			int rc = fmt_csv_open(&ch[k].csv, path, F_ENROL, &quiet);
			jos_errlist_free(&quiet);
			if (rc != JOS_OK || fmt_csv_seek(ch[k].csv, start[k], (uint32_t)line[k]) != JOS_OK)
				goto out;
		}
		jobs[k] = (chunk_job){ &ch[k], idx };
	}
	jos_run_parallel(jobs, sizeof *jobs, nch, chunk_main);

	/* every part valid, and each one stopped where the next began */
	size_t total = 0;
	for (int k = 0; k < nch; k++) {
		const jos_errlist *e = &ch[k].errs;
		if (ch[k].ctx->fatal || e->nerrors || e->nwarnings || e->oom ||
		    (k + 1 < nch ? ch[k].stop != start[k + 1] || ch[k].stop_line != line[k + 1]
				 : !ch[k].at_eof))
			goto out;
		rowbase[k] = total;
		total += ch[k].n;
	}
	if (total > UINT32_MAX)
		goto out;
	if (merge_categories(L, ch, (size_t)nch) != JOS_OK) {
		/* back to category "" alone, so the one reader numbers (and reports) as always */
		uint32_t id0;
		strtab_free(&L->cats);
		memset(L->cat_cache, 0, sizeof L->cat_cache);
		if (strtab_intern(&L->cats, "", 0, &id0) < 0)
			L->fatal = JOS_ENOMEM;
		goto out;
	}

	/* the parts' rows one after the other (they are, unless lines held no row) */
	for (int k = 1; k < nch; k++)
		if (ch[k].rows != rows + rowbase[k])
			memmove(rows + rowbase[k], ch[k].rows, ch[k].n * sizeof *rows);
	trim_rows(rows, total, region[nch]);
	enrol_chunk *all = L->chunk;
	all->rows = rows;
	all->n = total;
	all->cap = region[nch];
	all->own_rows = true;
	rows = NULL;
	fmt_phase("load: enrolments: parts read");
	/* the parts' pupil keys go with them: number them all now */
	fmt_pupil_chunk keys[FMT_MAX_THREADS];
	for (int k = 0; k < nch; k++) {
		keys[k] = ch[k].pupils;
		memset(&ch[k].pupils, 0, sizeof ch[k].pupils);
	}
	if (fmt_pupil_number(keys, (size_t)nch, rowbase, total, all->rows, &L->ds->npupils,
			     fmt_thread_count()) != JOS_OK)
		L->fatal = JOS_ENOMEM;
	fmt_phase("load: enrolments: pupils");
	done = 1;
out:
	for (int k = 0; k < nch; k++) {
		if (k > 0)
			fmt_csv_free(ch[k].csv);
		chunk_free(&ch[k], true);
	}
	free(rows);
	return done;
}

static int load_enrolments(load_ctx *L)
{
	int idx[EN_N];
	fmt_csv *c;
	uint32_t id0;
	enrol_chunk one;
	jos_dataset *ds = L->ds;
	int rc = JOS_OK;

	memset(&one, 0, sizeof one);
	jos_errlist_init(&one.errs);
	if (strtab_intern(&L->cats, "", 0, &id0) < 0)   /* category 0 = "" */
		return L->fatal = JOS_ENOMEM;
	int orc = open_csv(L, F_ENROL, true, enrol_cols, EN_N, idx, &c);
	if (orc < 0)
		return orc;
	if (orc > 0) {
		char path[4096];
		struct stat st;
		uint64_t size = 0, begin = fmt_csv_offset(c);
		uint32_t line0 = fmt_csv_line(c);
		snprintf(path, sizeof path, "%s/%s", L->dir, F_ENROL);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > begin)
			size = (uint64_t)st.st_size;
		unsigned pbits = fmt_pupil_bits((size_t)(size / 40));
		int nt = fmt_thread_count();
		L->chunk = &one;
		if (nt > 1 && size >= chunk_min() && read_parts(L, c, idx, path, size, nt, pbits)) {
			rc = L->fatal;
		} else if (fmt_csv_seek(c, begin, line0) != JOS_OK) {
			rc = L->fatal = JOS_EIO;
		} else {
			size_t cap = rows_for(size > begin ? size - begin : 0);
			jos_enrolment *rows = jos_big_alloc(cap * sizeof *rows);
			if (!rows || chunk_init(&one, pbits, 0, (size_t)(size / 40) + 16, rows, cap,
						true) != JOS_OK) {
				if (!one.rows)
					free(rows);
				rc = L->fatal = JOS_ENOMEM;
			} else {
				one.csv = c;
				one.end = UINT64_MAX;
				one.ctx = L;
				read_chunk(&one, idx);
				size_t base = 0;
				trim_rows(one.rows, one.n, one.cap);
				if (!(rc = L->fatal) &&
				    fmt_pupil_number(&one.pupils, 1, &base, one.n, one.rows, &ds->npupils,
						     fmt_thread_count()) != JOS_OK)
					rc = L->fatal = JOS_ENOMEM;
			}
		}
		L->chunk = NULL;
		fmt_csv_free(c);
		if (rc) {
			chunk_free(&one, false);
			return rc;
		}
		ds->enrol = one.rows;   /* the model takes the rows over */
		ds->nenrol = one.n;
		one.rows = NULL;
		chunk_free(&one, false);
	}
	ds->categories = malloc(L->cats.n * sizeof *ds->categories);
	if (!ds->categories)
		return L->fatal = JOS_ENOMEM;
	for (size_t i = 0; i < L->cats.n; i++) {
		const char *s = jos_arena_strndup(ds->arena, L->cats.buf + L->cats.off[i],
						  L->cats.off[i + 1] - L->cats.off[i]);
		if (!s)
			return L->fatal = JOS_ENOMEM;
		ds->categories[i] = s;
	}
	ds->ncategories = L->cats.n;
	return JOS_OK;
}

/* ---- agreements.csv (optional) ------------------------------------------------------------ */

enum { AG_MUNI, AG_KEY, AG_REF, AG_N };
static const fmt_column agree_cols[AG_N] = {
	{ "municipality_code", true }, { "key", true }, { "reference", false }
};

static void agree_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_AGREE;
	const fmt_field *fk = field(r, idx, AG_KEY), *fr = field(r, idx, AG_REF);
	jos_agreement a;
	char code[5];
	bool ok = true;
	(void)comma;

	memset(&a, 0, sizeof a);
	a.line = r->line;
	const fmt_field *fm = field(r, idx, AG_MUNI);
	bool have_code = parse_code(L, F, r->line, fm, "municipality_code", code);
	ok &= have_code;
	if (have_code) {
		int c = code_num(code);
		if (L->agree_line[c]) {
			add(L, F, r->line, "duplicate agreement for municipality %s (also at line %u)",
			    code, (unsigned)L->agree_line[c]);
			return;
		}
		L->agree_line[c] = r->line;
		ok &= resolve_muni(L, F, r->line, fm, "municipality_code", &a.muni) == 1;
	}
	ok &= need(L, F, r->line, fk, "key");
	if (!ok)
		return;
	if (!(a.key_id = keep(L, fk)))
		return;
	a.key = eng_key_find(L->ds, a.key_id);
	if (fr->n && !(a.reference = keep(L, fr)))
		return;
	jos_dataset *ds = L->ds;
	if (jos_grow((void **)&ds->agreements, &L->cap_agree, ds->nagreements + 1,
		     sizeof *ds->agreements)) {
		L->fatal = JOS_ENOMEM;
		return;
	}
	ds->agreements[ds->nagreements++] = a;
}

static int agree_cmp(const void *a, const void *b)
{
	const jos_agreement *x = a, *y = b;
	return (x->muni > y->muni) - (x->muni < y->muni);
}

static int load_agreements(load_ctx *L)
{
	int idx[AG_N];
	fmt_csv *c;
	jos_dataset *ds = L->ds;
	int rc = open_csv(L, F_AGREE, false, agree_cols, AG_N, idx, &c);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		rc = read_rows(L, c, idx, agree_row);
		fmt_csv_free(c);
		if (rc)
			return rc;
	}
	if (ds->nagreements > 1)
		qsort(ds->agreements, ds->nagreements, sizeof *ds->agreements, agree_cmp);
	ds->muni_agreement = malloc((ds->nmunis ? ds->nmunis : 1) * sizeof *ds->muni_agreement);
	if (!ds->muni_agreement)
		return L->fatal = JOS_ENOMEM;
	for (size_t i = 0; i < ds->nmunis; i++)
		ds->muni_agreement[i] = -1;
	for (size_t i = 0; i < ds->nagreements; i++)
		ds->muni_agreement[ds->agreements[i].muni] = (int)i;
	return JOS_OK;
}

/* ---- the whole directory ------------------------------------------------------------------- */

static int load_settings(load_ctx *L)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", L->dir, F_SETTINGS);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			add(L, F_SETTINGS, 0, "missing");
			return JOS_OK;
		}
		add(L, F_SETTINGS, 0, "cannot read: %s", strerror(errno));
		return L->fatal = JOS_EIO;
	}
	if (st.st_size == 0) {   /* SPEC: a 0-byte file is an error (like the CSV reader's) */
		add(L, F_SETTINGS, 1, "empty file: a [settlement] section is required");
		return JOS_OK;
	}
	int rc = fmt_settings_load(L->ds, path, L->errs);
	if (rc != JOS_OK && rc != JOS_EINVALID)
		return L->fatal = rc;
	return JOS_OK;
}

/* The InputDigest reads every file once more: on a second core it costs no time. */
typedef struct {
	const char *dir;
	char hex[65];
	jos_err err;
	int rc;
} digest_job;

static void *digest_thread(void *arg)
{
	digest_job *j = arg;
	j->rc = fmt_input_digest(j->hex, j->dir, &j->err);
	return NULL;
}

int fmt_dataset_load(jos_dataset **out, const char *dir, jos_errlist *errs)
{
	digest_job dj;
	pthread_t dt;
	bool digesting = false;
	load_ctx *L = NULL;
	jos_dataset *ds = NULL;
	size_t before = errs->nerrors;
	struct stat st;
	int rc = JOS_OK;

	*out = NULL;
	if (stat(dir, &st) != 0) {
		jos_errlist_add(errs, JOS_SEV_ERROR, dir, 0, "%s", strerror(errno));
		return JOS_EIO;
	}
	if (!S_ISDIR(st.st_mode)) {
		jos_errlist_add(errs, JOS_SEV_ERROR, dir, 0, "not a directory");
		return JOS_EIO;
	}
	if (!(ds = eng_dataset_new()) || !(L = calloc(1, sizeof *L))) {
		rc = JOS_ENOMEM;
		goto done;
	}
	L->ds = ds;
	L->errs = errs;
	L->dir = dir;
	memset(&dj, 0, sizeof dj);
	dj.dir = dir;
	jos_err_clear(&dj.err);
	if (fmt_thread_count() > 1 && pthread_create(&dt, NULL, digest_thread, &dj) == 0)
		digesting = true;
	memset(L->muni_idx, 0xff, sizeof L->muni_idx);   /* -1 */

	if ((rc = load_settings(L)) || (rc = load_munis(L)) || (rc = load_schools(L)) ||
	    (rc = load_costs(L)))
		goto done;
	fmt_phase("load: small files");
	if ((rc = load_enrolments(L)))
		goto done;
	fmt_phase("load: enrolments");
	if ((rc = load_agreements(L)))
		goto done;
	eng_dataset_validate_mt(ds, errs, ds->nenrol >= ((size_t)1 << 20) ? fmt_thread_count() : 1);
	fmt_phase("validate");
	if (errs->oom) { /* out of memory, not invalid data (exit 2, not 1) */
		rc = JOS_ENOMEM;
		goto done;
	}
	if (digesting) {
		pthread_join(dt, NULL);
		digesting = false;
		fmt_phase("wait for InputDigest");
	} else {
		dj.rc = fmt_input_digest(dj.hex, dir, &dj.err);
	}
	if ((rc = dj.rc) != JOS_OK) {
		jos_errlist_add_err(errs, &dj.err);
		goto done;
	}
	memcpy(ds->input_digest, dj.hex, sizeof dj.hex);
	rc = errs->nerrors > before ? JOS_EINVALID : JOS_OK;
done:
	if (digesting)
		pthread_join(dt, NULL);
	if (rc == JOS_ENOMEM && errs->nerrors == before)
		jos_errlist_add(errs, JOS_SEV_ERROR, "", 0, "out of memory");
	if (L) {
		strtab_free(&L->school_ids);
		strtab_free(&L->cats);
		free(L->school_line);
		free(L->school_idx);
		free(L->lower);
		free(L);
	}
	if (rc != JOS_OK && rc != JOS_EINVALID) {
		eng_dataset_free(ds);
		return rc;
	}
	*out = ds;
	return rc;
}
