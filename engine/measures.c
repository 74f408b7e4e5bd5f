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
 * Cost: O(n + S + M + P + C) time plus a sort of the few pupils with several counted
 * enrolments; no allocation per enrolment; the enrolments are read sequentially (three
 * passes), which matters more than anything else at 2.5 M rows. A pupil with one
 * counted enrolment (nearly all) is distinct everywhere; the others are grouped by
 * pupil and deduplicated. The included enrolments are then scattered by school into
 * 8-byte records, and within each school grouped by municipality and by category
 * with dense counters that are reset after each group.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

enum { F_COUNTED = 1, F_CELL_FIRST = 2, F_MUNI_FIRST = 4, F_INCLUDED = 8 };

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

/* One included enrolment, scattered by school: 8 bytes, read sequentially after. */
typedef struct {
	uint16_t muni, cat;
	uint32_t dfl;    /* d_e in the low 28 bits, flags above */
} rec_t;

#define REC_DAYS(r) ((int64_t)((r).dfl & 0x0FFFFFFFu))
#define REC_FLAGS(r) ((r).dfl >> 28)

static int u16_cmp(const void *pa, const void *pb)
{
	uint16_t a = *(const uint16_t *)pa, b = *(const uint16_t *)pb;
	return (a > b) - (a < b);
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

static void sort_u16(uint16_t *v, size_t n)
{
	if (n > 16) {
		qsort(v, n, sizeof *v, u16_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint16_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int eng_measures_build(eng_measures **out, const jos_dataset *ds, jos_err *err)
{
	const jos_enrolment *E = ds->enrol;
	const size_t n = ds->nenrol, S = ds->nschools, NM = ds->nmunis;
	const size_t NC = ds->ncategories ? ds->ncategories : 1, P = ds->npupils;
	const jos_day ps = ds->set.period_start, pe = ds->set.period_end, cd = ds->set.count_date;
	const bool headcount = ds->set.measure == JOS_MEASURE_HEADCOUNT;
	eng_measures *m = NULL;
	uint8_t *flags = NULL, *pcnt = NULL;
	uint32_t *spos = NULL, *mcnt = NULL, *mpos = NULL, *ccnt = NULL, *g = NULL, *cidx = NULL;
	uint16_t *tm = NULL, *tc = NULL;
	uint64_t *multi = NULL;
	int64_t *cx = NULL;
	rec_t *rec = NULL, *tmp = NULL;
	pk_item *pk = NULL;
	size_t pkcap = 0, k = 0, nmulti = 0, cellcap = 0, catxcap = 0;
	int rc = JOS_OK;

	*out = NULL;
	if (eng_period_days(ds) <= 0)
		return jos_err_set(err, JOS_EINVALID, "settlement.ini", ds->set.line_period,
				   "period_end lies before period_start");
	if (eng_period_days(ds) >= 0x0FFFFFFF)
		return jos_err_set(err, JOS_EOVERFLOW, "settlement.ini", ds->set.line_period,
				   "the period is too long");
	if (n >= UINT32_MAX || P >= UINT32_MAX || S >= UINT32_MAX)
		return jos_err_set(err, JOS_EOVERFLOW, NULL, 0,
				   "too many enrolments, pupils or schools (at most %u)",
				   (unsigned)(UINT32_MAX - 1));
	for (size_t i = 0; i < n; i++)
		if (E[i].school >= S || E[i].residence >= NM || E[i].pupil >= P ||
		    E[i].category >= NC)
			return jos_err_set(err, JOS_EINTERNAL, "enrolments.csv", E[i].line,
					   "enrolment refers to an unknown school, municipality, "
					   "pupil or category");

#define NZ(x) ((x) ? (x) : 1)
	if (!(m = calloc(1, sizeof *m)) || !(flags = calloc(NZ(n), 1)) ||
	    !(pcnt = calloc(NZ(P), 1)) || !(spos = calloc(S + 1, sizeof *spos)) ||
	    !(mcnt = calloc(NZ(NM), sizeof *mcnt)) || !(mpos = calloc(NZ(NM), sizeof *mpos)) ||
	    !(tm = malloc(NZ(NM) * sizeof *tm)) || !(ccnt = calloc(NC, sizeof *ccnt)) ||
	    !(cx = calloc(NC, sizeof *cx)) || !(tc = malloc(NC * sizeof *tc)) ||
	    !(m->school_first = calloc(S + 1, sizeof *m->school_first)) ||
	    !(m->muni_first = calloc(NM + 1, sizeof *m->muni_first)) ||
	    !(m->muni_pupils = calloc(NZ(NM), sizeof *m->muni_pupils)) ||
	    !(m->muni_pupil_days = calloc(NZ(NM), sizeof *m->muni_pupil_days)))
		goto oom;
	m->period_days = eng_period_days(ds);
	m->measure = ds->set.measure;

	/* 1. which enrolments make cells, which the measure counts; per school and per
	 *    pupil counts (sequential over the enrolments) */
	for (size_t i = 0; i < n; i++) {
		int64_t d = enrol_days(&E[i], ps, pe);
		bool counted = headcount ? (E[i].start <= cd && cd <= E[i].end) : d > 0;
		if (d > 0 || counted) {
			flags[i] = F_INCLUDED | (counted ? F_COUNTED : 0);
			spos[E[i].school + 1]++;
			k++;
			if (counted && pcnt[E[i].pupil] < 2)
				pcnt[E[i].pupil]++;
		}
	}

	/* 2. distinct pupils: a pupil with one counted enrolment is first everywhere;
	 *    the others (movers, leavers who return) are grouped by pupil and deduplicated */
	for (size_t i = 0; i < n; i++)
		if (flags[i] & F_COUNTED) {
			if (pcnt[E[i].pupil] == 1)
				flags[i] |= F_CELL_FIRST | F_MUNI_FIRST;
			else
				nmulti++;
		}
	if (nmulti) {
		if (!(multi = malloc(nmulti * sizeof *multi)) || !(g = malloc(nmulti * sizeof *g)))
			goto oom;
		size_t j = 0;
		for (size_t i = 0; i < n; i++)
			if ((flags[i] & F_COUNTED) && pcnt[E[i].pupil] == 2)
				multi[j++] = (uint64_t)E[i].pupil << 32 | i;
		qsort(multi, nmulti, sizeof *multi, u64_cmp);
		for (size_t a = 0, b; a < nmulti; a = b) {
			for (b = a; b < nmulti && multi[b] >> 32 == multi[a] >> 32; b++)
				g[b - a] = (uint32_t)multi[b];
			if ((rc = dedupe_pupil(ds, flags, g, b - a, &pk, &pkcap)) != JOS_OK)
				goto oom;
		}
	}

	/* 3. scatter the included enrolments by school into compact records */
	if (!(rec = malloc(NZ(k) * sizeof *rec)) || !(tmp = malloc(NZ(k) * sizeof *tmp)))
		goto oom;
	for (size_t s = 0; s < S; s++)
		spos[s + 1] += spos[s];
	for (size_t i = 0; i < n; i++)
		if (flags[i] & F_INCLUDED) {
			rec_t *r = &rec[spos[E[i].school]++];
			r->muni = E[i].residence;
			r->cat = E[i].category;
			r->dfl = (uint32_t)enrol_days(&E[i], ps, pe) | (uint32_t)(flags[i] & 0x0F) << 28;
		}
	free(flags);
	flags = NULL;

	/* 4. per school (spos[s] is now the end of school s): group by municipality,
	 *    then by category, with dense counters reset after each group */
	for (size_t s = 0, b0 = 0; s < S; b0 = spos[s], s++) {
		size_t b1 = spos[s], nt = 0;
		for (size_t i = b0; i < b1; i++)
			if (mcnt[rec[i].muni]++ == 0)
				tm[nt++] = rec[i].muni;
		sort_u16(tm, nt);
		for (size_t t = 0, off = b0; t < nt; t++) {
			mpos[tm[t]] = (uint32_t)off;
			off += mcnt[tm[t]];
		}
		for (size_t i = b0; i < b1; i++)
			tmp[mpos[rec[i].muni]++] = rec[i];
		for (size_t t = 0; t < nt; t++) {
			uint16_t mu = tm[t];
			size_t ge = mpos[mu], gs = ge - mcnt[mu], ntc = 0;
			mcnt[mu] = 0;
			if (jos_grow((void **)&m->cells, &cellcap, m->ncells + 1, sizeof *m->cells))
				goto oom;
			eng_cell *cell = &m->cells[m->ncells++];
			memset(cell, 0, sizeof *cell);
			cell->school = (uint32_t)s;
			cell->muni = mu;
			cell->cat_first = (uint32_t)m->ncatx;
			for (size_t i = gs; i < ge; i++) {
				unsigned fl = REC_FLAGS(tmp[i]);
				int64_t d = REC_DAYS(tmp[i]);
				uint16_t c = tmp[i].cat;
				if (ccnt[c]++ == 0)
					tc[ntc++] = c;
				cx[c] += headcount ? ((fl & F_COUNTED) != 0) : d;
				cell->pupil_days += d;
				cell->pupils += (fl & F_CELL_FIRST) != 0;
				m->muni_pupils[mu] += (fl & F_MUNI_FIRST) != 0;
			}
			m->muni_pupil_days[mu] += cell->pupil_days;
			sort_u16(tc, ntc);
			if (jos_grow((void **)&m->catx, &catxcap, m->ncatx + ntc, sizeof *m->catx))
				goto oom;
			for (size_t j = 0; j < ntc; j++) {
				m->catx[m->ncatx].category = tc[j];
				m->catx[m->ncatx++].x = cx[tc[j]];
				ccnt[tc[j]] = 0;
				cx[tc[j]] = 0;
			}
			cell->ncat = (uint32_t)ntc;
		}
	}

	/* 5. indices: cells per school; cells by (municipality, school) */
	if (!(m->by_muni = malloc(NZ(m->ncells) * sizeof *m->by_muni)))
		goto oom;
	for (size_t c = 0; c < m->ncells; c++) {
		m->school_first[m->cells[c].school + 1]++;
		m->muni_first[m->cells[c].muni + 1]++;
	}
	for (size_t s = 0; s < S; s++)
		m->school_first[s + 1] += m->school_first[s];
	for (size_t mu = 0; mu < NM; mu++)
		m->muni_first[mu + 1] += m->muni_first[mu];
	cidx = mpos;   /* reuse: next free slot per municipality */
	for (size_t mu = 0; mu < NM; mu++)
		cidx[mu] = m->muni_first[mu];
	for (size_t c = 0; c < m->ncells; c++)   /* cells are in school order: stable */
		m->by_muni[cidx[m->cells[c].muni]++] = (uint32_t)c;
#undef NZ
	goto done;
oom:
	rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory computing the measures");
done:
	free(flags);
	free(pcnt);
	free(spos);
	free(mcnt);
	free(mpos);
	free(tm);
	free(ccnt);
	free(cx);
	free(tc);
	free(multi);
	free(g);
	free(rec);
	free(tmp);
	free(pk);
	if (rc != JOS_OK)
		eng_measures_free(m);
	else
		*out = m;
	return rc;
}
