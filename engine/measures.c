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
 * Cost: O(n + S + M + P + C) time (a radix sort of the few pupils with several counted
 * enrolments), two passes over the enrolments and no array per enrolment when the file
 * lists the schools in order (otherwise one 4-byte index per enrolment, in school order,
 * file order within a school: the bench's generator interleaves neighbouring schools).
 * Memory that is touched once is what costs most at 2.5 M rows (a page fault per 4 KiB
 * under virtualisation), so:
 *   1. per enrolment d_e and whether it is counted; per pupil the number of counted
 *      enrolments (0, 1, 2 = several), one byte;
 *   2. school by school, each enrolment goes into the school's open cells (one per
 *      municipality, with a short list of categories); when the school is done its
 *      cells are appended in municipality order. A pupil with one counted enrolment
 *      (nearly all) is distinct everywhere and counted at once. With several threads,
 *      each takes a range of schools with about as many enrolments and the parts are
 *      joined in school order: integer sums and the same cells, whatever the count;
 *   3. the others (movers, leavers who return) are grouped by pupil, deduplicated and
 *      added to their cells and municipalities.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

static int64_t enrol_days(const jos_enrolment *e, jos_day ps, jos_day pe)
{
	int64_t s = e->start > ps ? e->start : ps;
	int64_t t = e->end < pe ? e->end : pe;
	return t >= s ? t - s + 1 : 0;
}

/* A counted enrolment of a pupil with several: its cell (its open cell until the
 * school is flushed) and municipality. */
typedef struct {
	uint32_t pupil, cell;
	uint16_t muni;
} multi_rec;

static int mr_cmp(const void *pa, const void *pb)
{
	const multi_rec *a = pa, *b = pb;
	if (a->muni != b->muni)
		return a->muni < b->muni ? -1 : 1;
	return (a->cell > b->cell) - (a->cell < b->cell);
}

/* Stable LSD radix sort of v[0..n) by pupil < 2^bits, 11 bits a pass; tmp holds n.
 * Returns the array that holds the result (v or tmp). */
static multi_rec *sort_by_pupil(multi_rec *v, multi_rec *tmp, size_t n, unsigned bits)
{
	uint32_t cnt[2048];
	for (unsigned sh = 0; sh < bits; sh += 11) {
		memset(cnt, 0, sizeof cnt);
		for (size_t i = 0; i < n; i++)
			cnt[v[i].pupil >> sh & 2047]++;
		for (uint32_t d = 0, sum = 0; d < 2048; d++) {
			uint32_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[v[i].pupil >> sh & 2047]++] = v[i];
		multi_rec *t = v;
		v = tmp;
		tmp = t;
	}
	return v;
}

static int u16_cmp(const void *pa, const void *pb)
{
	uint16_t a = *(const uint16_t *)pa, b = *(const uint16_t *)pb;
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

/* Counts one pupil with several counted enrolments g[0..n) (any order): once in each
 * of its cells and once in each of its municipalities. */
static void dedupe_pupil(eng_measures *m, multi_rec *g, size_t n)
{
	if (n <= 16) {
		for (size_t i = 0; i < n; i++) {
			bool cell_seen = false, muni_seen = false;
			for (size_t j = 0; j < i && !cell_seen; j++)
				if (g[j].muni == g[i].muni) {
					muni_seen = true;
					cell_seen = g[j].cell == g[i].cell;
				}
			if (!cell_seen)
				m->cells[g[i].cell].pupils++;
			if (!muni_seen)
				m->muni_pupils[g[i].muni]++;
		}
		return;
	}
	qsort(g, n, sizeof *g, mr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || g[i].cell != g[i - 1].cell)
			m->cells[g[i].cell].pupils++;
		if (i == 0 || g[i].muni != g[i - 1].muni)
			m->muni_pupils[g[i].muni]++;
	}
}

/* The open cells of the school at hand: one per municipality met, each with a list of
 * its categories, in arrays indexed by the order the municipalities were met. dense,
 * when municipalities times categories is small (always, in practice), finds the
 * category of an open cell in one step instead of walking the list. */
typedef struct {
	uint32_t next;   /* next category of the same cell, NONE at the end */
	uint16_t cat;
	int64_t x;
} cat_acc;

#define NONE UINT32_MAX
#define DENSE_MAX ((size_t)1 << 20)

typedef struct {
	uint32_t *slot;      /* per municipality: 1 + its open cell, 0 when none */
	uint16_t *mu;        /* per open cell: the municipality */
	uint16_t *sorted;    /* the municipalities sorted, at flush */
	int64_t *days, *pupils;
	uint32_t *head;      /* per open cell: its first category */
	uint32_t *cell;      /* per open cell: its index in the part's cells, at flush */
	uint32_t *dense;     /* [open cell * NC + category]: its accumulator or NONE */
	size_t nopen, nc;
	cat_acc *acc;        /* category accumulators of the open cells */
	size_t nacc, acccap;
	cat_acc *tc;         /* one cell's categories, sorted at flush */
	size_t tccap;
} school_acc;

/* What one thread makes of a range of schools; the parts are joined in school order. */
typedef struct {
	eng_cell *cells;
	size_t ncells, cellcap;
	eng_catx *catx;
	size_t ncatx, catxcap;
	int64_t *muni_pupils, *muni_pupil_days;   /* per municipality */
	multi_rec *multi;    /* counted enrolments of pupils with several; cell: of this part */
	size_t nmulti, multicap;
} part_out;

/* jos_grow for the big arrays, which are filled as they grow: a fresh aligned block
 * (huge pages) and a copy of the used part, instead of realloc's 4 KiB faults. */
static int grow_big(void **p, size_t *cap, size_t used, size_t need, size_t size)
{
	if (need <= *cap)
		return JOS_OK;
	size_t ncap = *cap ? *cap : 1024;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return JOS_ENOMEM;
		ncap *= 2;
	}
	void *np = jos_big_alloc(ncap * size);
	if (!np)
		return JOS_ENOMEM;
	if (used)
		memcpy(np, *p, used * size);
	free(*p);
	*p = np;
	*cap = ncap;
	return JOS_OK;
}

static void school_acc_free(school_acc *a)
{
	free(a->slot);
	free(a->mu);
	free(a->sorted);
	free(a->days);
	free(a->pupils);
	free(a->head);
	free(a->cell);
	free(a->dense);
	free(a->acc);
	free(a->tc);
}

static int school_acc_init(school_acc *a, size_t NM, size_t NC)
{
	memset(a, 0, sizeof *a);
	a->nc = NC;
	if (!(a->slot = calloc(NM, sizeof *a->slot)) || !(a->mu = malloc(NM * sizeof *a->mu)) ||
	    !(a->sorted = malloc(NM * sizeof *a->sorted)) ||
	    !(a->days = malloc(NM * sizeof *a->days)) ||
	    !(a->pupils = malloc(NM * sizeof *a->pupils)) ||
	    !(a->head = malloc(NM * sizeof *a->head)) || !(a->cell = malloc(NM * sizeof *a->cell)) ||
	    (NM * NC <= DENSE_MAX && !(a->dense = malloc(NM * NC * sizeof *a->dense))))
		return JOS_ENOMEM;
	if (a->dense)
		memset(a->dense, 0xFF, NM * NC * sizeof *a->dense);
	return JOS_OK;
}

/* Appends the open cells of school s to the part in municipality order and closes
 * them. */
static int flush_school(part_out *o, school_acc *a, uint32_t s)
{
	size_t nt = a->nopen;
	if (nt == 0)
		return JOS_OK;
	memcpy(a->sorted, a->mu, nt * sizeof *a->sorted);
	sort_u16(a->sorted, nt);
	if (grow_big((void **)&o->cells, &o->cellcap, o->ncells, o->ncells + nt, sizeof *o->cells) ||
	    grow_big((void **)&o->catx, &o->catxcap, o->ncatx, o->ncatx + a->nacc,
		     sizeof *o->catx))
		return JOS_ENOMEM;
	for (size_t t = 0; t < nt; t++) {
		uint16_t mu = a->sorted[t];
		uint32_t l = a->slot[mu] - 1;
		size_t ntc = 0;
		a->slot[mu] = 0;
		for (uint32_t j = a->head[l]; j != NONE; j = a->acc[j].next) {
			if (jos_grow((void **)&a->tc, &a->tccap, ntc + 1, sizeof *a->tc))
				return JOS_ENOMEM;
			if (a->dense)
				a->dense[(size_t)l * a->nc + a->acc[j].cat] = NONE;
			/* insertion by category: a cell has few */
			size_t q = ntc++;
			for (; q > 0 && a->tc[q - 1].cat > a->acc[j].cat; q--)
				a->tc[q] = a->tc[q - 1];
			a->tc[q] = a->acc[j];
		}
		a->cell[l] = (uint32_t)o->ncells;
		eng_cell *cell = &o->cells[o->ncells++];
		memset(cell, 0, sizeof *cell);
		cell->school = s;
		cell->muni = mu;
		cell->pupils = a->pupils[l];
		cell->pupil_days = a->days[l];
		cell->cat_first = (uint32_t)o->ncatx;
		cell->ncat = (uint32_t)ntc;
		for (size_t j = 0; j < ntc; j++) {
			o->catx[o->ncatx].category = a->tc[j].cat;
			o->catx[o->ncatx++].x = a->tc[j].x;
		}
		o->muni_pupil_days[mu] += a->days[l];
	}
	a->nopen = 0;
	a->nacc = 0;
	return JOS_OK;
}

/* Step 2 for the schools [s0, s1): enrolments order[spos[s0] .. spos[s1]), or, when the
 * file lists the schools in order, E[j0 ..] until the first of a later school. */
typedef struct {
	const jos_dataset *ds;
	const uint8_t *pcnt;
	const uint32_t *order, *spos;
	size_t s0, s1, j0;
	bool in_order;
	part_out out;
	int rc;
} pass2_job;

static void *pass2(void *arg)
{
	pass2_job *jb = arg;
	const jos_dataset *ds = jb->ds;
	const jos_enrolment *E = ds->enrol;
	const size_t n = ds->nenrol, NM = ds->nmunis ? ds->nmunis : 1;
	const size_t NC = ds->ncategories ? ds->ncategories : 1;
	const jos_day ps = ds->set.period_start, pe = ds->set.period_end, cd = ds->set.count_date;
	const bool headcount = ds->set.measure == JOS_MEASURE_HEADCOUNT, in_order = jb->in_order;
	const uint8_t *pcnt = jb->pcnt;
	const uint32_t *order = jb->order;
	part_out *o = &jb->out;
	school_acc a;

	if ((jb->rc = school_acc_init(&a, NM, NC)) != JOS_OK)
		goto done;
	size_t j = in_order ? jb->j0 : jb->spos[jb->s0];
	for (size_t s = jb->s0; s < jb->s1; s++) {
		size_t end = in_order ? n : jb->spos[s + 1], mark = o->nmulti;
		for (; j < end; j++) {
			size_t i = in_order ? j : order[j];
			const jos_enrolment *e = &E[i];
			int64_t d = enrol_days(e, ps, pe);
			bool counted = headcount ? (e->start <= cd && cd <= e->end) : d > 0;
			if (!(d > 0 || counted))
				continue;
			if (e->school != s)
				break;   /* in order: the next school's first enrolment */
			uint16_t mu = e->residence, c = e->category;
			uint32_t l = a.slot[mu], q;
			if (l == 0) {
				l = (uint32_t)a.nopen++;
				a.slot[mu] = l + 1;
				a.mu[l] = mu;
				a.days[l] = 0;
				a.pupils[l] = 0;
				a.head[l] = NONE;
			} else {
				l--;
			}
			if (a.dense) {
				q = a.dense[(size_t)l * NC + c];
			} else {
				q = a.head[l];
				while (q != NONE && a.acc[q].cat != c)
					q = a.acc[q].next;
			}
			if (q == NONE) {
				if (jos_grow((void **)&a.acc, &a.acccap, a.nacc + 1, sizeof *a.acc)) {
					jb->rc = JOS_ENOMEM;
					goto done;
				}
				q = (uint32_t)a.nacc++;
				a.acc[q].next = a.head[l];
				a.acc[q].cat = c;
				a.acc[q].x = 0;
				a.head[l] = q;
				if (a.dense)
					a.dense[(size_t)l * NC + c] = q;
			}
			a.acc[q].x += headcount ? counted : d;
			a.days[l] += d;
			if (!counted)
				continue;
			if (pcnt[e->pupil] == 1) {
				a.pupils[l]++;
				o->muni_pupils[mu]++;
				continue;
			}
			if (grow_big((void **)&o->multi, &o->multicap, o->nmulti, o->nmulti + 1,
				     sizeof *o->multi)) {
				jb->rc = JOS_ENOMEM;
				goto done;
			}
			/* the open cell until the flush */
			o->multi[o->nmulti].pupil = e->pupil;
			o->multi[o->nmulti].cell = l;
			o->multi[o->nmulti++].muni = mu;
		}
		if ((jb->rc = flush_school(o, &a, (uint32_t)s)) != JOS_OK)
			goto done;
		for (size_t x = mark; x < o->nmulti; x++)   /* open cell -> the part's cell */
			o->multi[x].cell = a.cell[o->multi[x].cell];
	}
done:
	school_acc_free(&a);
	return NULL;
}

/* Appends part p (of a later range of schools) to part o. */
static int join_part(part_out *o, const part_out *p, size_t NM)
{
	if (grow_big((void **)&o->cells, &o->cellcap, o->ncells, o->ncells + p->ncells,
		     sizeof *o->cells) ||
	    grow_big((void **)&o->catx, &o->catxcap, o->ncatx, o->ncatx + p->ncatx,
		     sizeof *o->catx) ||
	    grow_big((void **)&o->multi, &o->multicap, o->nmulti, o->nmulti + p->nmulti,
		     sizeof *o->multi))
		return JOS_ENOMEM;
	for (size_t c = 0; c < p->ncells; c++) {
		o->cells[o->ncells + c] = p->cells[c];
		o->cells[o->ncells + c].cat_first += (uint32_t)o->ncatx;
	}
	if (p->ncatx)
		memcpy(o->catx + o->ncatx, p->catx, p->ncatx * sizeof *o->catx);
	for (size_t x = 0; x < p->nmulti; x++) {
		o->multi[o->nmulti + x] = p->multi[x];
		o->multi[o->nmulti + x].cell += (uint32_t)o->ncells;
	}
	o->ncells += p->ncells;
	o->ncatx += p->ncatx;
	o->nmulti += p->nmulti;
	for (size_t mu = 0; mu < NM; mu++) {
		o->muni_pupils[mu] += p->muni_pupils[mu];
		o->muni_pupil_days[mu] += p->muni_pupil_days[mu];
	}
	return JOS_OK;
}

static void part_free(part_out *p)
{
	free(p->cells);
	free(p->catx);
	free(p->multi);
	free(p->muni_pupils);
	free(p->muni_pupil_days);
}

int eng_measures_build(eng_measures **out, const jos_dataset *ds, jos_err *err)
{
	return eng_measures_build_mt(out, ds, 1, err);
}

int eng_measures_build_mt(eng_measures **out, const jos_dataset *ds, int nthreads, jos_err *err)
{
	const jos_enrolment *E = ds->enrol;
	const size_t n = ds->nenrol, S = ds->nschools, NM = ds->nmunis;
	const size_t NC = ds->ncategories ? ds->ncategories : 1, P = ds->npupils;
	const jos_day ps = ds->set.period_start, pe = ds->set.period_end, cd = ds->set.count_date;
	const bool headcount = ds->set.measure == JOS_MEASURE_HEADCOUNT;
	eng_measures *m = NULL;
	uint8_t *pcnt = NULL;
	uint32_t *spos = NULL, *sfirst = NULL, *order = NULL, *cidx = NULL;
	multi_rec *mtmp = NULL;
	pass2_job job[ENG_MAX_THREADS];
	int nt = 0;
	size_t k = 0, nmulti = 0;
	uint32_t last_school = 0;
	bool in_order = true;
	int rc = JOS_OK;

	*out = NULL;
	memset(job, 0, sizeof job);
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

#define NZ(x) ((x) ? (x) : 1)
	if (!(m = calloc(1, sizeof *m)) || !(pcnt = jos_big_alloc(NZ(P))) ||
	    !(spos = calloc(S + 1, sizeof *spos)) || !(sfirst = malloc(NZ(S) * sizeof *sfirst)) ||
	    !(m->school_first = calloc(S + 1, sizeof *m->school_first)) ||
	    !(m->muni_first = calloc(NM + 1, sizeof *m->muni_first)) ||
	    !(m->muni_pupils = calloc(NZ(NM), sizeof *m->muni_pupils)) ||
	    !(m->muni_pupil_days = calloc(NZ(NM), sizeof *m->muni_pupil_days)))
		goto oom;
	memset(pcnt, 0, NZ(P));
	memset(sfirst, 0xFF, NZ(S) * sizeof *sfirst);
	m->period_days = eng_period_days(ds);
	m->measure = ds->set.measure;

	/* 1. which enrolments make cells, which the measure counts; per school and per
	 *    pupil counts; whether the schools come one after the other in order */
	for (size_t i = 0; i < n; i++) {
		const jos_enrolment *e = &E[i];
		if (e->school >= S || e->residence >= NM || e->pupil >= P || e->category >= NC) {
			rc = jos_err_set(err, JOS_EINTERNAL, "enrolments.csv", e->line,
					 "enrolment refers to an unknown school, municipality, "
					 "pupil or category");
			goto done;
		}
		int64_t d = enrol_days(e, ps, pe);
		bool counted = headcount ? (e->start <= cd && cd <= e->end) : d > 0;
		if (d > 0 || counted) {
			if (spos[e->school + 1]++ == 0)
				sfirst[e->school] = (uint32_t)i;
			k++;
			if (e->school < last_school)
				in_order = false;
			last_school = e->school;
			if (counted) {   /* 1 -> 2: both enrolments are "several" */
				uint8_t *pc = &pcnt[e->pupil];
				nmulti += *pc == 0 ? 0 : *pc == 1 ? 2 : 1;
				*pc += *pc < 2;
			}
		}
	}
	for (size_t s = 0; s < S; s++)
		spos[s + 1] += spos[s];
	/* otherwise: the included enrolments by school, in file order within a school */
	if (!in_order) {
		if (!(order = jos_big_alloc(NZ(k) * sizeof *order)))
			goto oom;
		for (size_t i = 0; i < n; i++) {
			int64_t d = enrol_days(&E[i], ps, pe);
			bool counted = headcount ? (E[i].start <= cd && cd <= E[i].end) : d > 0;
			if (d > 0 || counted)
				order[spos[E[i].school]++] = (uint32_t)i;
		}
		for (size_t s = S; s > 0; s--)   /* back to the starts */
			spos[s] = spos[s - 1];
		spos[0] = 0;
	}

	/* 2. school by school: open cells, flushed in municipality order; ranges of schools
	 *    with about as many enrolments each go to the threads, and are joined in order */
	nt = nthreads < 1 ? 1 : nthreads > ENG_MAX_THREADS ? ENG_MAX_THREADS : nthreads;
	for (int t = 0, s = 0; t < nt; t++) {
		pass2_job *jb = &job[t];
		jb->ds = ds;
		jb->pcnt = pcnt;
		jb->order = order;
		jb->spos = spos;
		jb->in_order = in_order;
		jb->s0 = (size_t)s;
		size_t want = k / (size_t)nt * (size_t)(t + 1);
		if (t == nt - 1)
			s = (int)S;
		while ((size_t)s < S && spos[s + 1] <= want)   /* spos[s + 1]: the end of s */
			s++;
		jb->s1 = (size_t)s;
		if (in_order) {
			jb->j0 = n;
			for (size_t q = jb->s0; q < jb->s1; q++)
				if (sfirst[q] != NONE) {
					jb->j0 = sfirst[q];
					break;
				}
		}
		if (t == 0) {   /* part 0 owns m's arrays until the parts are joined */
			jb->out.muni_pupils = m->muni_pupils;
			jb->out.muni_pupil_days = m->muni_pupil_days;
			m->muni_pupils = m->muni_pupil_days = NULL;
		} else if (!(jb->out.muni_pupils = calloc(NZ(NM), sizeof *jb->out.muni_pupils)) ||
			   !(jb->out.muni_pupil_days = calloc(NZ(NM),
							      sizeof *jb->out.muni_pupil_days))) {
			goto oom;
		}
	}
	jos_run_parallel(job, sizeof *job, nt, pass2);
	for (int t = 0; t < nt; t++)
		if (job[t].rc != JOS_OK)
			goto oom;
	for (int t = 1; t < nt; t++)
		if (join_part(&job[0].out, &job[t].out, NM) != JOS_OK)
			goto oom;
	part_out *o = &job[0].out;
	m->cells = o->cells;
	m->ncells = o->ncells;
	m->catx = o->catx;
	m->ncatx = o->ncatx;
	m->muni_pupils = o->muni_pupils;
	m->muni_pupil_days = o->muni_pupil_days;
	o->cells = NULL;
	o->catx = NULL;
	o->muni_pupils = o->muni_pupil_days = NULL;
	if (o->nmulti != nmulti) {
		rc = jos_err_set(err, JOS_EINTERNAL, NULL, 0, "measures: counted enrolments of "
				 "pupils with several differ between the passes");
		goto done;
	}

	/* 3. indices: cells per school; cells by (municipality, school) */
	if (!(m->by_muni = malloc(NZ(m->ncells) * sizeof *m->by_muni)) ||
	    !(cidx = malloc(NZ(NM) * sizeof *cidx)))
		goto oom;
	for (size_t c = 0; c < m->ncells; c++) {
		m->school_first[m->cells[c].school + 1]++;
		m->muni_first[m->cells[c].muni + 1]++;
	}
	for (size_t s = 0; s < S; s++)
		m->school_first[s + 1] += m->school_first[s];
	for (size_t mu = 0; mu < NM; mu++)
		m->muni_first[mu + 1] += m->muni_first[mu];
	for (size_t mu = 0; mu < NM; mu++)   /* next free slot per municipality */
		cidx[mu] = m->muni_first[mu];
	for (size_t c = 0; c < m->ncells; c++)   /* cells are in school order: stable */
		m->by_muni[cidx[m->cells[c].muni]++] = (uint32_t)c;

	/* 4. pupils with several counted enrolments: grouped by pupil */
	if (nmulti) {
		unsigned bits = 0;
		while (bits < 32 && (P - 1) >> bits)
			bits++;
		if (!(mtmp = jos_big_alloc(nmulti * sizeof *mtmp)))
			goto oom;
		multi_rec *v = sort_by_pupil(o->multi, mtmp, nmulti, bits);
		for (size_t x = 0, y; x < nmulti; x = y) {
			for (y = x + 1; y < nmulti && v[y].pupil == v[x].pupil; y++)
				;
			dedupe_pupil(m, v + x, y - x);
		}
	}
#undef NZ
	goto done;
oom:
	rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory computing the measures");
done:
	free(pcnt);
	free(spos);
	free(sfirst);
	free(order);
	free(cidx);
	free(mtmp);
	for (int t = 0; t < ENG_MAX_THREADS; t++)
		part_free(&job[t].out);
	if (rc != JOS_OK)
		eng_measures_free(m);
	else
		*out = m;
	return rc;
}
