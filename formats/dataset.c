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
 * hash tables. Pupil ids are interned to dense numbers and the table that holds them
 * is freed before returning: the model never keeps a pupil id.
 */
#include "formats/formats.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

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

/* Big arrays filled once from start to end (rows, pupil ids) fault in one 4 KiB page at
 * a time, which is slow under virtualisation: ask for huge pages on their 2 MiB-aligned
 * middle part. A hint only; nothing depends on it. */
static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t b = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (p && b > a)
		madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)bytes;
#endif
}

/* A zeroed slot array. Big ones (the pupil table: 32 MB at 2.5 M rows) are probed at
 * random, one cache and TLB miss per row: ask for huge pages where the system has them. */
static uint64_t *slots_alloc(size_t nslots)
{
	size_t bytes = nslots * sizeof(uint64_t);
#ifdef MADV_HUGEPAGE
	if (bytes >= ((size_t)4 << 20)) {
		void *p = NULL;
		if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
			return NULL;
		madvise(p, bytes, MADV_HUGEPAGE);
		memset(p, 0, bytes);
		return p;
	}
#endif
	return calloc(nslots, sizeof(uint64_t));
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

/* Sizes the table for about `expect` strings up front (no rehash while loading). */
static int strtab_reserve(strtab *t, size_t expect)
{
	size_t nslots = 1024;
	while (nslots / 4 * 3 < expect && nslots < ((size_t)1 << 31))
		nslots *= 2;
	if (t->slots && nslots <= t->mask + 1)
		return JOS_OK;
	return strtab_rehash(t, nslots);
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

/* ---- pupil ids: interned a few rows late -----------------------------------------------
 * The pupil table is far bigger than the caches and every probe lands at random, so
 * each row would wait for memory. Instead a row's slot is prefetched when the row is
 * read and the id interned PIPE rows later, when the slot has arrived. The ids wait in
 * a small ring (copied: the CSV fields do not outlive the row); dense numbers are still
 * given in row order. */
#define PIPE 16
#define PRESIZE_MAX ((size_t)3 << 20)   /* rows reserved at most from the file size */
#define PIPE_ID_MAX 64   /* longer ids are interned at once */

typedef struct {
	char id[PIPE][PIPE_ID_MAX];
	uint8_t len[PIPE];
	uint32_t hash[PIPE];
	size_t row[PIPE];    /* index into ds->enrol */
	size_t head, n;
} pupil_pipe;

/* ---- pupil ids on a second core ---------------------------------------------------
 * With two threads (fmt_thread_count), the ids go to a helper thread that runs them
 * through the same pipe in row order, so the dense numbers are those of one thread. The
 * reader copies each kept row's id into a batch and hands full batches over (HB_N in
 * flight at most). The helper writes only the .pupil of rows already handed over, and
 * ds->enrol is grown only after the helper has caught up (hand_drain), so nothing it
 * writes is moved under it. */
#define HB_ROWS 16384
#define HB_N 4

typedef struct {
	size_t n;
	size_t row[HB_ROWS];
	uint32_t off[HB_ROWS + 1];   /* id i is bytes[off[i], off[i + 1]) */
	char *bytes;
	size_t bcap;
} hand_batch;

typedef struct {
	bool on;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	hand_batch b[HB_N];
	size_t given, taken;         /* batches handed over / interned */
	size_t fill;                 /* rows in the batch being filled (reader only) */
	bool idle;                   /* everything handed over is interned */
	bool closing;
	int rc;                      /* JOS_ENOMEM from the helper */
} pupil_hand;

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
	strtab pupils;                 /* pupil ids -> dense numbers; freed after loading */
	pupil_pipe pipe;
	pupil_hand hand;
	strtab cats;                   /* categories, lower-cased; id 0 = "" */
	char *lower;                   /* scratch for lower-casing a category */
	size_t lower_cap;

	uint32_t agree_line[NCODES];   /* first agreement line per code */
	size_t cap_munis, cap_schools, cap_enrol, cap_agree;
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

static int resolve_school(load_ctx *L, const char *file, uint32_t line, const fmt_field *f,
			  uint32_t *idx)
{
	if (!need(L, file, line, f, "school_id") || !L->schools_ok)
		return 0;
	int64_t id = strtab_find(&L->school_ids, f->s, f->n);
	if (id < 0) {
		add(L, file, line, "unknown school %.*s (not in %s)", shown(f->n), f->s, F_SCHOOLS);
		return 0;
	}
	if (L->school_idx[id] < 0)
		return 0;
	*idx = (uint32_t)L->school_idx[id];
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

static int intern_category(load_ctx *L, const fmt_field *f, uint16_t *out)
{
	uint32_t id;
	if (f->n == 0) {
		*out = 0;
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
	return JOS_OK;
}

/* Interns the oldest waiting pupil id into its row. */
static int pupil_pop(load_ctx *L)
{
	pupil_pipe *p = &L->pipe;
	size_t k = p->head;
	if (strtab_intern_h(&L->pupils, p->id[k], p->len[k], p->hash[k],
			    &L->ds->enrol[p->row[k]].pupil) < 0)
		return JOS_ENOMEM;
	p->head = (k + 1) % PIPE;
	p->n--;
	return JOS_OK;
}

static int pupil_flush(load_ctx *L)
{
	while (L->pipe.n)
		if (pupil_pop(L) != JOS_OK)
			return JOS_ENOMEM;
	return JOS_OK;
}

static int pupil_push(load_ctx *L, const char *s, size_t n, size_t row)
{
	pupil_pipe *p = &L->pipe;
	uint32_t h = str_hash(s, n);
	if (n > PIPE_ID_MAX) {   /* rare: keep the order by draining first */
		if (pupil_flush(L) != JOS_OK)
			return JOS_ENOMEM;
		return strtab_intern_h(&L->pupils, s, n, h, &L->ds->enrol[row].pupil) < 0
			       ? JOS_ENOMEM : JOS_OK;
	}
	if (p->n == PIPE && pupil_pop(L) != JOS_OK)
		return JOS_ENOMEM;
	/* the table may still grow (rehash) before this id's turn: the prefetch is a hint */
	if (L->pupils.slots)
		JOS_PREFETCH(&L->pupils.slots[h & L->pupils.mask]);
	size_t k = (p->head + p->n) % PIPE;
	memcpy(p->id[k], s, n);
	p->len[k] = (uint8_t)n;
	p->hash[k] = h;
	p->row[k] = row;
	p->n++;
	return JOS_OK;
}

static void *hand_main(void *arg)
{
	load_ctx *L = arg;
	pupil_hand *h = &L->hand;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		if (h->taken < h->given) {
			hand_batch *b = &h->b[h->taken % HB_N];
			bool ok = h->rc == JOS_OK;
			pthread_mutex_unlock(&h->mu);
			for (size_t i = 0; i < b->n && ok; i++)
				ok = pupil_push(L, b->bytes + b->off[i], b->off[i + 1] - b->off[i],
						b->row[i]) == JOS_OK;
			pthread_mutex_lock(&h->mu);
			if (!ok)
				h->rc = JOS_ENOMEM;
			h->taken++;
			pthread_cond_broadcast(&h->cv);
			continue;
		}
		if (!h->idle) {
			bool ok = h->rc == JOS_OK;
			pthread_mutex_unlock(&h->mu);
			ok = ok && pupil_flush(L) == JOS_OK;
			pthread_mutex_lock(&h->mu);
			if (!ok)
				h->rc = JOS_ENOMEM;
			if (h->taken == h->given)
				h->idle = true;
			pthread_cond_broadcast(&h->cv);
			continue;
		}
		if (h->closing)
			break;
		pthread_cond_wait(&h->cv, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void hand_start(load_ctx *L)
{
	pupil_hand *h = &L->hand;
	memset(h, 0, sizeof *h);
	h->idle = true;
	if (fmt_thread_count() < 2)
		return;
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		return;
	}
	if (pthread_create(&h->tid, NULL, hand_main, L) != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		return;
	}
	h->on = true;
}

/* Hands the batch being filled over, if it has rows; returns the helper's error. */
static int hand_submit(pupil_hand *h)
{
	pthread_mutex_lock(&h->mu);
	if (h->fill) {
		h->b[h->given % HB_N].n = h->fill;
		h->fill = 0;
		h->given++;
		h->idle = false;
		pthread_cond_broadcast(&h->cv);
	}
	int rc = h->rc;
	pthread_mutex_unlock(&h->mu);
	return rc;
}

/* Waits until every id handed over is interned. */
static void hand_drain(pupil_hand *h)
{
	(void)hand_submit(h);
	pthread_mutex_lock(&h->mu);
	while (!h->idle)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

static int hand_add(pupil_hand *h, const char *s, size_t n, size_t row)
{
	hand_batch *b = &h->b[h->given % HB_N];
	if (h->fill == 0) {   /* a new batch: wait until the helper is done with this slot */
		pthread_mutex_lock(&h->mu);
		while (h->given - h->taken >= HB_N)
			pthread_cond_wait(&h->cv, &h->mu);
		pthread_mutex_unlock(&h->mu);
		b->off[0] = 0;
	}
	size_t used = b->off[h->fill];
	if (n > UINT32_MAX / 2 || used + n > UINT32_MAX / 2)
		return JOS_ENOMEM;
	if (used + n > b->bcap) {
		size_t cap = b->bcap ? b->bcap : (size_t)HB_ROWS * 16;
		while (cap < used + n)
			cap *= 2;
		char *nb = realloc(b->bytes, cap);
		if (!nb)
			return JOS_ENOMEM;
		b->bytes = nb;
		b->bcap = cap;
	}
	memcpy(b->bytes + used, s, n);
	b->row[h->fill] = row;
	b->off[++h->fill] = (uint32_t)(used + n);
	return h->fill == HB_ROWS ? hand_submit(h) : JOS_OK;
}

/* Stops the helper (after it has interned everything); returns its error, if any. */
static int hand_stop(pupil_hand *h)
{
	if (!h->on)
		return JOS_OK;
	hand_drain(h);
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->tid, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	for (int i = 0; i < HB_N; i++)
		free(h->b[i].bytes);
	h->on = false;
	return h->rc;
}

static void enrol_row(load_ctx *L, const fmt_record *r, const int *idx, bool comma)
{
	const char *F = F_ENROL;
	const fmt_field *fp = field(r, idx, EN_PUPIL), *f;
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
	int rc = intern_category(L, field(r, idx, EN_CATEGORY), &e.category);
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
	jos_dataset *ds = L->ds;
	if (ds->nenrol == L->cap_enrol) {
		if (L->hand.on)
			hand_drain(&L->hand);   /* the helper writes into ds->enrol */
		if (jos_grow((void **)&ds->enrol, &L->cap_enrol, ds->nenrol + 1, sizeof *ds->enrol)) {
			L->fatal = JOS_ENOMEM;
			return;
		}
	}
	ds->enrol[ds->nenrol++] = e;
	if ((L->hand.on ? hand_add(&L->hand, fp->s, fp->n, ds->nenrol - 1)
			: pupil_push(L, fp->s, fp->n, ds->nenrol - 1)) != JOS_OK)
		L->fatal = JOS_ENOMEM;
}

static int load_enrolments(load_ctx *L)
{
	int idx[EN_N];
	fmt_csv *c;
	uint32_t id0;
	if (strtab_intern(&L->cats, "", 0, &id0) < 0)   /* category 0 = "" */
		return L->fatal = JOS_ENOMEM;
	int rc = open_csv(L, F_ENROL, true, enrol_cols, EN_N, idx, &c);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* A row takes 40 bytes or more: size the pupil table and the rows for that, so
		 * neither is rehashed nor copied while 2.5 M rows stream in. */
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", L->dir, F_ENROL);
		if (stat(path, &st) == 0 && st.st_size > 0) {
			size_t expect = (size_t)st.st_size / 40 + 16;
			if (expect > PRESIZE_MAX)   /* beyond, the table grows as rows come */
				expect = PRESIZE_MAX;
			strtab *t = &L->pupils;
			if (strtab_reserve(t, expect) != JOS_OK ||
			    jos_grow((void **)&L->ds->enrol, &L->cap_enrol, expect,
				     sizeof *L->ds->enrol) != JOS_OK ||
			    jos_grow((void **)&t->off, &t->offcap, expect, sizeof *t->off) != JOS_OK ||
			    jos_grow((void **)&t->buf, &t->bcap, expect * 12, 1) != JOS_OK) {
				fmt_csv_free(c);
				return L->fatal = JOS_ENOMEM;
			}
			advise_huge(L->ds->enrol, L->cap_enrol * sizeof *L->ds->enrol);
			advise_huge(t->off, t->offcap * sizeof *t->off);
			advise_huge(t->buf, t->bcap);
		}
		hand_start(L);
		rc = read_rows(L, c, idx, enrol_row);
		fmt_csv_free(c);
		int hrc = hand_stop(&L->hand);
		if (rc)
			return rc;
		if (hrc != JOS_OK || pupil_flush(L) != JOS_OK)
			return L->fatal = JOS_ENOMEM;
	}
	jos_dataset *ds = L->ds;
	ds->npupils = (uint32_t)L->pupils.n;
	strtab_free(&L->pupils);   /* pupil ids never outlive loading */
	if (ds->nenrol && ds->nenrol < L->cap_enrol) {
		void *p = realloc(ds->enrol, ds->nenrol * sizeof *ds->enrol);
		if (p)
			ds->enrol = p;
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
	eng_dataset_validate(ds, errs);
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
		strtab_free(&L->pupils);
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
