/*
 * measures.c: the key-independent aggregates of SPEC "Arithmetic": per enrolment the
 * days d_e inside the period, and per (school, municipality) cell the measure per
 * pupil category, the distinct pupils counted by the measure and the pupil-days.
 *
 * Which enrolments make a cell: every enrolment with d_e > 0 (and, under headcount,
 * every enrolment active on count_date, which validation keeps inside the period).
 * So under headcount a cell can exist with pupils = 0 and measure 0 (a pupil who left
 * before count_date): it still carries its pupil-days (PupilYears stays sum d_e / D),
 * but it is not a statement line (eng_row_lines wants pupils >= 1) and its shares are
 * 0 under every method because its measure is 0. Under days every cell has pupils >= 1.
 *
 * Cost: O(n + S + M + P + C) time, no allocation per enrolment. Enrolment indices are
 * radix-sorted (counting sort, least significant key first) by category, municipality,
 * school, which gives the cells in (school, municipality) order and their categories
 * sorted. Distinct pupils come from a counting sort by the dense pupil number: each
 * pupil has a handful of enrolments, deduplicated in place (sorted when there are many).
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

enum { F_COUNTED = 1, F_CELL_FIRST = 2, F_MUNI_FIRST = 4 };

static int64_t enrol_days(const jos_enrolment *e, jos_day ps, jos_day pe)
{
	int64_t s = e->start > ps ? e->start : ps;
	int64_t t = e->end < pe ? e->end : pe;
	return t >= s ? t - s + 1 : 0;
}

typedef struct {
	uint64_t key;   /* muni << 32 | school */
	uint32_t idx;
} pk_item;

static int pk_cmp(const void *pa, const void *pb)
{
	const pk_item *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Stable counting sort of src[0..n) into dst by key(idx) in [0, nkeys). cnt has
 * nkeys + 1 entries. */
#define COUNTING_SORT(dst, src, n, cnt, nkeys, KEY)                                 \
	do {                                                                        \
		memset((cnt), 0, ((size_t)(nkeys) + 1) * sizeof *(cnt));            \
		for (size_t i_ = 0; i_ < (n); i_++)                                 \
			(cnt)[(size_t)(KEY((src)[i_])) + 1]++;                     \
		for (size_t k_ = 0; k_ < (size_t)(nkeys); k_++)                     \
			(cnt)[k_ + 1] += (cnt)[k_];                                 \
		for (size_t i_ = 0; i_ < (n); i_++)                                 \
			(dst)[(cnt)[(size_t)(KEY((src)[i_]))]++] = (src)[i_];      \
	} while (0)

void eng_measures_free(eng_measures *m)
{
	if (!m)
		return;
	free(m->cells);
	free(m->catx);
	free(m->school_first);
	free(m->by_muni);
	free(m->muni_first);
	free(m->muni_pupils);
	free(m->muni_pupil_days);
	free(m);
}

/* Marks F_CELL_FIRST / F_MUNI_FIRST on the first counted enrolment of each
 * (school, muni) and each muni of one pupil. g[0..n) are counted enrolments of the
 * pupil in file order. */
static int dedupe_pupil(const jos_dataset *ds, uint8_t *flags, const uint32_t *g, size_t n,
			pk_item **tmp, size_t *tmpcap)
{
	const jos_enrolment *E = ds->enrol;
	if (n <= 16) {
		for (size_t i = 0; i < n; i++) {
			const jos_enrolment *e = &E[g[i]];
			bool cell_seen = false, muni_seen = false;
			for (size_t j = 0; j < i && !cell_seen; j++) {
				const jos_enrolment *f = &E[g[j]];
				if (f->residence == e->residence) {
					muni_seen = true;
					cell_seen = f->school == e->school;
				}
			}
			if (!cell_seen)
				flags[g[i]] |= F_CELL_FIRST;
			if (!muni_seen)
				flags[g[i]] |= F_MUNI_FIRST;
		}
		return JOS_OK;
	}
	if (jos_grow((void **)tmp, tmpcap, n, sizeof **tmp) != JOS_OK)
		return JOS_ENOMEM;
	pk_item *t = *tmp;
	for (size_t i = 0; i < n; i++) {
		t[i].key = (uint64_t)E[g[i]].residence << 32 | E[g[i]].school;
		t[i].idx = g[i];
	}
	qsort(t, n, sizeof *t, pk_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || t[i].key != t[i - 1].key)
			flags[t[i].idx] |= F_CELL_FIRST;
		if (i == 0 || t[i].key >> 32 != t[i - 1].key >> 32)
			flags[t[i].idx] |= F_MUNI_FIRST;
	}
	return JOS_OK;
}

int eng_measures_build(eng_measures **out, const jos_dataset *ds, jos_err *err)
{
	const jos_enrolment *E = ds->enrol;
	const size_t n = ds->nenrol, S = ds->nschools, NM = ds->nmunis;
	const size_t NC = ds->ncategories ? ds->ncategories : 1, P = ds->npupils;
	const jos_day ps = ds->set.period_start, pe = ds->set.period_end, cd = ds->set.count_date;
	const bool headcount = ds->set.measure == JOS_MEASURE_HEADCOUNT;
	eng_measures *m = NULL;
	uint32_t *a = NULL, *b = NULL, *cnt = NULL;
	uint8_t *flags = NULL;
	pk_item *tmp = NULL;
	size_t tmpcap = 0, k = 0, nc = 0;
	int rc = JOS_OK;

	*out = NULL;
	if (eng_period_days(ds) <= 0)
		return jos_err_set(err, JOS_EINVALID, "settlement.ini", ds->set.line_period,
				   "period_end lies before period_start");
	if (n >= UINT32_MAX || P >= UINT32_MAX || S >= UINT32_MAX)
		return jos_err_set(err, JOS_EOVERFLOW, NULL, 0,
				   "too many enrolments, pupils or schools (at most %u)",
				   (unsigned)(UINT32_MAX - 1));
	for (size_t i = 0; i < n; i++)
		if (E[i].school >= S || E[i].residence >= NM || E[i].pupil >= P ||
		    (ds->ncategories && E[i].category >= ds->ncategories) ||
		    (!ds->ncategories && E[i].category != 0))
			return jos_err_set(err, JOS_EINTERNAL, "enrolments.csv", E[i].line,
					   "enrolment refers to an unknown school, municipality, "
					   "pupil or category");

	size_t maxkeys = S > NM ? S : NM;
	if (NC > maxkeys)
		maxkeys = NC;
	if (P > maxkeys)
		maxkeys = P;
	if (!(m = calloc(1, sizeof *m)) || !(a = malloc((n ? n : 1) * sizeof *a)) ||
	    !(b = malloc((n ? n : 1) * sizeof *b)) || !(flags = calloc(n ? n : 1, 1)) ||
	    !(cnt = malloc((maxkeys + 2) * sizeof *cnt)) ||
	    !(m->school_first = calloc(S + 1, sizeof *m->school_first)) ||
	    !(m->muni_first = calloc(NM + 1, sizeof *m->muni_first)) ||
	    !(m->muni_pupils = calloc(NM ? NM : 1, sizeof *m->muni_pupils)) ||
	    !(m->muni_pupil_days = calloc(NM ? NM : 1, sizeof *m->muni_pupil_days))) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory computing the measures");
		goto done;
	}
	m->period_days = eng_period_days(ds);
	m->measure = ds->set.measure;

	/* 1. the enrolments that make cells; which of them the measure counts */
	for (size_t i = 0; i < n; i++) {
		int64_t d = enrol_days(&E[i], ps, pe);
		bool counted = headcount ? (E[i].start <= cd && cd <= E[i].end) : d > 0;
		if (d > 0 || counted) {
			a[k++] = (uint32_t)i;
			if (counted) {
				flags[i] = F_COUNTED;
				b[nc++] = (uint32_t)i;
			}
		}
	}

	/* 2. distinct pupils: the counted enrolments (b) grouped by pupil */
	{
		uint32_t *byp = malloc((nc ? nc : 1) * sizeof *byp);
		if (!byp) {
			rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory computing the measures");
			goto done;
		}
#define PUPIL_OF(i) (E[(i)].pupil)
		COUNTING_SORT(byp, b, nc, cnt, P, PUPIL_OF);
#undef PUPIL_OF
		/* after the scatter, cnt[p] is the end of pupil p's group */
		size_t start = 0;
		for (size_t p = 0; p < P && rc == JOS_OK; p++) {
			size_t end = cnt[p];
			if (end - start == 1)
				flags[byp[start]] |= F_CELL_FIRST | F_MUNI_FIRST;
			else if (end > start)
				rc = dedupe_pupil(ds, flags, byp + start, end - start, &tmp, &tmpcap);
			start = end;
		}
		free(byp);
		if (rc != JOS_OK) {
			rc = jos_err_set(err, rc, NULL, 0, "out of memory computing the measures");
			goto done;
		}
	}

	/* 3. order by (school, muni, category): LSD counting sorts a -> b -> a -> b */
#define CAT_OF(i) (E[(i)].category)
#define MUNI_OF(i) (E[(i)].residence)
#define SCHOOL_OF(i) (E[(i)].school)
	COUNTING_SORT(b, a, k, cnt, NC, CAT_OF);
	COUNTING_SORT(a, b, k, cnt, NM, MUNI_OF);
	COUNTING_SORT(b, a, k, cnt, S, SCHOOL_OF);

	/* 4. cells and their categories: count, then fill */
	size_t ncells = 0, ncatx = 0;
	for (size_t i = 0; i < k; i++) {
		const jos_enrolment *e = &E[b[i]], *f = i ? &E[b[i - 1]] : NULL;
		bool new_cell = !f || f->school != e->school || f->residence != e->residence;
		ncells += new_cell;
		ncatx += new_cell || f->category != e->category;
	}
	m->cells = calloc(ncells ? ncells : 1, sizeof *m->cells);
	m->catx = calloc(ncatx ? ncatx : 1, sizeof *m->catx);
	m->by_muni = malloc((ncells ? ncells : 1) * sizeof *m->by_muni);
	if (!m->cells || !m->catx || !m->by_muni) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory computing the measures");
		goto done;
	}
	eng_cell *cell = NULL;
	eng_catx *cx = NULL;
	for (size_t i = 0; i < k; i++) {
		const jos_enrolment *e = &E[b[i]], *f = i ? &E[b[i - 1]] : NULL;
		bool new_cell = !f || f->school != e->school || f->residence != e->residence;
		if (new_cell) {
			cell = &m->cells[m->ncells++];
			cell->school = e->school;
			cell->muni = e->residence;
			cell->cat_first = (uint32_t)m->ncatx;
		}
		if (new_cell || f->category != e->category) {
			cx = &m->catx[m->ncatx++];
			cx->category = e->category;
			cell->ncat++;
		}
		int64_t d = enrol_days(e, ps, pe);
		uint8_t fl = flags[b[i]];
		cx->x += headcount ? (fl & F_COUNTED ? 1 : 0) : d;
		cell->pupil_days += d;
		cell->pupils += (fl & F_CELL_FIRST) != 0;
		m->muni_pupils[e->residence] += (fl & F_MUNI_FIRST) != 0;
		m->muni_pupil_days[e->residence] += d;
	}

	/* 5. indices: cells per school; cells by (muni, school) */
	for (size_t c = 0; c < m->ncells; c++)
		m->school_first[m->cells[c].school + 1]++;
	for (size_t s = 0; s < S; s++)
		m->school_first[s + 1] += m->school_first[s];
	for (size_t c = 0; c < m->ncells; c++)
		a[c] = (uint32_t)c;
#define CELL_MUNI(c) (m->cells[(c)].muni)
	COUNTING_SORT(m->by_muni, a, m->ncells, cnt, NM, CELL_MUNI);
#undef CELL_MUNI
	for (size_t c = 0; c < m->ncells; c++)
		m->muni_first[m->cells[c].muni + 1]++;
	for (size_t mu = 0; mu < NM; mu++)
		m->muni_first[mu + 1] += m->muni_first[mu];
#undef CAT_OF
#undef MUNI_OF
#undef SCHOOL_OF

done:
	free(a);
	free(b);
	free(cnt);
	free(flags);
	free(tmp);
	if (rc != JOS_OK)
		eng_measures_free(m);
	else
		*out = m;
	return rc;
}
