/*
 * validate.c: the SPEC's rules that look across rows of a loaded model (SPEC "Rules",
 * "Edge rules"). formats/dataset.c has already checked each row on its own (syntax,
 * values, unique ids, references, a school without costs); this file checks what the
 * model as a whole must satisfy:
 *   - an enrolment ends on or after its start;
 *   - enrolments of one pupil never overlap, over all time, inclusive intervals;
 *     reported at the later line, naming the other;
 *   - budget >= cofinancing >= 0;
 *   - agreements only with municipalities outside the region, with keys that exist;
 *   - the default key exists; count_date (headcount) lies inside the period;
 *   - a tariff key has a tariff for every school type present;
 *   - (warning) a weight names a category that no enrolment has.
 * Pure: no files; problems carry the input file names of the rows they came from.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#define F_SETTINGS "settlement.ini"
#define F_SCHOOLS "schools.csv"
#define F_COSTS "costs.csv"
#define F_ENROL "enrolments.csv"
#define F_AGREE "agreements.csv"

typedef struct {
	jos_day start, end;
	uint32_t line;
} span;

static bool span_less(const span *a, const span *b)
{
	return a->start != b->start ? a->start < b->start : a->line < b->line;
}

static int span_cmp(const void *pa, const void *pb)
{
	const span *a = pa, *b = pb;
	return span_less(a, b) ? -1 : span_less(b, a) ? 1 : 0;
}

static void sort_spans(span *s, size_t n)
{
	if (n > 24) {
		qsort(s, n, sizeof *s, span_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		span x = s[i];
		size_t j = i;
		for (; j > 0 && span_less(&x, &s[j - 1]); j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
}

static void date_str(char buf[16], jos_day d)
{
	jos_day_format(buf, d);
}

/* With several threads (check_enrolments): each counts the pupils of a range of
 * enrolments in its own array; the arrays are summed (saturating at 2) over ranges of
 * pupils; each thread lists the rows of pupils with several from its range, and the
 * lists are joined in range order, which is file order, as with one thread. An
 * enrolment that ends before it starts sends everything to the one-thread way, which
 * reports it. */
typedef struct {
	const jos_dataset *ds;
	size_t i0, i1;       /* enrolments */
	size_t p0, p1;       /* pupils, for the sum */
	uint8_t **cnt;       /* every part's counts; cnt[0] gets the sum */
	int nparts, part;
	bool bad;            /* an enrolment of the range ends before it starts */
	uint64_t *multi;     /* (pupil, row) of the range's pupils with several */
	size_t nmulti;
	bool oom;
	size_t lo, hi;       /* the sweep: groups multi[lo, hi) of the joined list */
	const uint64_t *all;
	long overlaps;       /* found by the sweep, -1: out of memory */
} ov_job;

#define CHECKED(ds, e) ((e)->end >= (e)->start && (e)->pupil < (ds)->npupils)

static void *ov_count(void *arg)
{
	ov_job *j = arg;
	const jos_dataset *ds = j->ds;
	uint8_t *cnt = j->cnt[j->part];
	memset(cnt, 0, ds->npupils);
	for (size_t i = j->i0; i < j->i1; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (e->end < e->start)
			j->bad = true;
		else if (e->pupil < ds->npupils && cnt[e->pupil] < 2)
			cnt[e->pupil]++;
	}
	return NULL;
}

static void *ov_sum(void *arg)
{
	ov_job *j = arg;
	uint8_t *to = j->cnt[0];
	for (int t = 1; t < j->nparts; t++) {
		const uint8_t *c = j->cnt[t];
		for (size_t p = j->p0; p < j->p1; p++) {
			unsigned v = (unsigned)to[p] + c[p];
			to[p] = (uint8_t)(v > 2 ? 2 : v);
		}
	}
	return NULL;
}

static void *ov_list(void *arg)
{
	ov_job *j = arg;
	const jos_dataset *ds = j->ds;
	const uint8_t *cnt = j->cnt[0];
	/* room for the whole range: only the pages written are faulted in (huge ones) */
	if (!(j->multi = jos_big_alloc((j->i1 - j->i0 + 1) * sizeof *j->multi))) {
		j->oom = true;
		return NULL;
	}
	for (size_t i = j->i0; i < j->i1; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (!CHECKED(ds, e) || cnt[e->pupil] != 2)
			continue;
		j->multi[j->nmulti++] = (uint64_t)e->pupil << 32 | i;
	}
	return NULL;
}

/* The rows of pupils with several enrolments on nt threads, as (pupil, row) in file
 * order, into *out / *nout. JOS_OK, JOS_ENOMEM, or JOS_EINVALID when an enrolment ends
 * before it starts (nothing listed: the one-thread way reports it). */
static int list_multi_mt(const jos_dataset *ds, int nt, uint64_t **out, size_t *nout)
{
	ov_job job[ENG_MAX_THREADS];
	uint8_t *cnt[ENG_MAX_THREADS];
	int rc = JOS_OK;
	memset(job, 0, sizeof job);
	memset(cnt, 0, sizeof cnt);
	*out = NULL;
	*nout = 0;
	for (int t = 0; t < nt; t++)
		if (!(cnt[t] = jos_big_alloc(ds->npupils))) {
			rc = JOS_ENOMEM;
			goto done;
		}
	for (int t = 0; t < nt; t++) {
		job[t] = (ov_job){ .ds = ds, .cnt = cnt, .nparts = nt, .part = t };
		job[t].i0 = ds->nenrol / (size_t)nt * (size_t)t;
		job[t].i1 = t == nt - 1 ? ds->nenrol : ds->nenrol / (size_t)nt * (size_t)(t + 1);
		job[t].p0 = ds->npupils / (size_t)nt * (size_t)t;
		job[t].p1 = t == nt - 1 ? ds->npupils : ds->npupils / (size_t)nt * (size_t)(t + 1);
	}
	jos_run_parallel(job, sizeof *job, nt, ov_count);
	for (int t = 0; t < nt; t++)
		if (job[t].bad) {
			rc = JOS_EINVALID;
			goto done;
		}
	jos_run_parallel(job, sizeof *job, nt, ov_sum);
	jos_run_parallel(job, sizeof *job, nt, ov_list);
	size_t n = 0;
	for (int t = 0; t < nt; t++) {
		if (job[t].oom) {
			rc = JOS_ENOMEM;
			goto done;
		}
		n += job[t].nmulti;
	}
	if (nt == 1 || n == 0) {   /* part 0's list is the whole list */
		*out = job[0].multi;
		job[0].multi = NULL;
		*nout = job[0].nmulti;
		goto done;
	}
	if (!(*out = jos_big_alloc(n * sizeof **out))) {
		rc = JOS_ENOMEM;
		goto done;
	}
	for (int t = 0; t < nt; t++) {
		if (job[t].nmulti)
			memcpy(*out + *nout, job[t].multi, job[t].nmulti * sizeof **out);
		*nout += job[t].nmulti;
	}
done:
	for (int t = 0; t < nt; t++) {
		free(cnt[t]);
		free(job[t].multi);
	}
	return rc;
}

/* v[0..n) (pupil << 32 | row, rows increasing) sorted as jos_sort_u64 would: the rows
 * are in order already, so a stable sort by pupil alone is enough, over the bits of
 * the pupil numbers only (2 passes of 11 bits at 2.4 M pupils instead of 5). */
static int sort_by_pupil(uint64_t *v, size_t n, size_t npupils)
{
	unsigned bits = 0;
	while (bits < 32 && (npupils ? npupils - 1 : 0) >> bits)
		bits++;
	return jos_sort_u64_bits(v, n, 32, 32 + bits);
}

/* The groups of pupils in multi[lo, hi) (sorted, lo and hi at group starts): each
 * overlap is reported to errs (NULL: counted only). Returns the overlaps, -1 when out of
 * memory; *grp is a buffer for a group's spans. */
static long sweep(const jos_dataset *ds, const uint64_t *multi, size_t lo0, size_t hi0,
		  jos_errlist *errs, span **grp, size_t *grpcap)
{
	long found = 0;
	for (size_t lo = lo0, hi; lo < hi0; lo = hi) {
		for (hi = lo + 1; hi < hi0 && multi[hi] >> 32 == multi[lo] >> 32; hi++)
			;
		size_t n = hi - lo;
		if (jos_grow((void **)grp, grpcap, n, sizeof **grp) != JOS_OK)
			return -1;
		span *g = *grp;
		for (size_t k = 0; k < n; k++) {
			const jos_enrolment *e = &ds->enrol[(uint32_t)multi[lo + k]];
			g[k] = (span){ e->start, e->end, e->line };
		}
		sort_spans(g, n);
		const span *reach = &g[0];
		for (size_t k = 1; k < n; k++) {
			const span *x = &g[k];
			if (x->start <= reach->end) {
				uint32_t later = x->line > reach->line ? x->line : reach->line;
				uint32_t other = x->line > reach->line ? reach->line : x->line;
				found++;
				if (errs)
					jos_errlist_add(errs, JOS_SEV_ERROR, F_ENROL, later,
							"enrolment overlaps the one at line %u of the "
							"same pupil", (unsigned)other);
			}
			if (x->end > reach->end)
				reach = x;
		}
	}
	return found;
}

static void *ov_sweep(void *arg)
{
	ov_job *j = arg;
	span *grp = NULL;
	size_t cap = 0;
	j->overlaps = sweep(j->ds, j->all, j->lo, j->hi, NULL, &grp, &cap);
	free(grp);
	return NULL;
}

/* The sweep over nt ranges of whole groups, counting only: 0 when no enrolments
 * overlap, else (or when out of memory) nonzero, and the one-thread sweep reports. */
static long sweep_mt(const jos_dataset *ds, const uint64_t *multi, size_t n, int nt)
{
	ov_job job[ENG_MAX_THREADS];
	long total = 0;
	memset(job, 0, sizeof job);
	for (int t = 0; t < nt; t++) {
		job[t].ds = ds;
		job[t].all = multi;
		job[t].lo = t == 0 ? 0 : job[t - 1].hi;
		size_t hi = t == nt - 1 ? n : n / (size_t)nt * (size_t)(t + 1);
		if (hi < job[t].lo)
			hi = job[t].lo;
		while (hi < n && hi > 0 && multi[hi] >> 32 == multi[hi - 1] >> 32)
			hi++;   /* a group stays whole */
		job[t].hi = hi;
	}
	jos_run_parallel(job, sizeof *job, nt, ov_sweep);
	for (int t = 0; t < nt; t++)
		total |= job[t].overlaps;   /* -1 or a count: nonzero either way */
	return total;
}

/* End before start, then overlaps per pupil. A pupil with one enrolment cannot overlap:
 * only the rows of pupils with several (a saturating count per pupil) are sorted by
 * (pupil, row), each group sorted by (start, line) and swept keeping the enrolment that
 * reaches furthest: the next one overlaps it exactly when it starts on or before that
 * end (intervals are inclusive). */
static int check_enrolments(const jos_dataset *ds, jos_errlist *errs, int nthreads)
{
	uint8_t *cnt = NULL;
	uint64_t *multi = NULL;
	span *grp = NULL;
	size_t grpcap = 0, nmulti = 0, multicap = 0;
	char a[16], b[16];
	int rc = JOS_OK;

	/* several threads for big files only; any problem: the one-thread way below */
	if (nthreads > 1 && ds->nenrol >= ((size_t)1 << 12) && ds->npupils) {
		int nt = nthreads > ENG_MAX_THREADS ? ENG_MAX_THREADS : nthreads;
		rc = list_multi_mt(ds, nt, &multi, &nmulti);
		if (rc == JOS_OK)
			goto sort;
		free(multi);
		multi = NULL;
		nmulti = 0;
		rc = JOS_OK;
	}
	if (ds->npupils && !(cnt = calloc(ds->npupils, 1))) {
		rc = JOS_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < ds->nenrol; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (e->end < e->start) {
			date_str(a, e->end);
			date_str(b, e->start);
			jos_errlist_add(errs, JOS_SEV_ERROR, F_ENROL, e->line,
					"end_date %s is before start_date %s", a, b);
		} else if (CHECKED(ds, e) && cnt[e->pupil] < 2) {
			cnt[e->pupil]++;
		}
	}
	if (ds->nenrol < 2 || ds->npupils == 0)
		goto done;
	for (size_t i = 0; i < ds->nenrol; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (!CHECKED(ds, e) || cnt[e->pupil] != 2)
			continue;
		if (nmulti == multicap &&
		    jos_grow((void **)&multi, &multicap, nmulti + 1 + ds->nenrol / 16, sizeof *multi)) {
			rc = JOS_ENOMEM;
			goto done;
		}
		multi[nmulti++] = (uint64_t)e->pupil << 32 | i;
	}
	free(cnt);
	cnt = NULL;
sort:
	if ((rc = sort_by_pupil(multi, nmulti, ds->npupils)) != JOS_OK)
		goto done;
	if (nthreads > 1 && nmulti >= ((size_t)1 << 14)) {
		int nt = nthreads > ENG_MAX_THREADS ? ENG_MAX_THREADS : nthreads;
		if (sweep_mt(ds, multi, nmulti, nt) == 0)
			goto done;   /* no overlap; otherwise (or out of memory) reported below */
	}
	if (sweep(ds, multi, 0, nmulti, errs, &grp, &grpcap) < 0)
		rc = JOS_ENOMEM;
done:
	free(cnt);
	free(multi);
	free(grp);
	if (rc == JOS_ENOMEM) {
		jos_errlist_add(errs, JOS_SEV_ERROR, F_ENROL, 0,
				"out of memory while checking overlapping enrolments");
		errs->oom = true; /* the data is not invalid: the loader reports JOS_ENOMEM */
	}
	return rc;
}

static void check_costs(const jos_dataset *ds, jos_errlist *errs)
{
	char a[JOS_FMT_BUF], b[JOS_FMT_BUF];
	for (size_t i = 0; i < ds->nschools; i++) {
		const jos_school *s = &ds->schools[i];
		if (!s->has_costs)
			continue;
		if (s->budget < 0)
			jos_errlist_add(errs, JOS_SEV_ERROR, F_COSTS, s->costs_line,
					"budget %s is negative", jos_cents_format(a, s->budget));
		if (s->cofinancing < 0)
			jos_errlist_add(errs, JOS_SEV_ERROR, F_COSTS, s->costs_line,
					"cofinancing %s is negative",
					jos_cents_format(a, s->cofinancing));
		else if (s->budget >= 0 && s->cofinancing > s->budget)
			jos_errlist_add(errs, JOS_SEV_ERROR, F_COSTS, s->costs_line,
					"cofinancing %s exceeds budget %s",
					jos_cents_format(a, s->cofinancing),
					jos_cents_format(b, s->budget));
	}
}

static void check_agreements(const jos_dataset *ds, jos_errlist *errs)
{
	/* without anything from settlement.ini every key would be unknown: that file's
	 * own problem has been reported */
	bool keys_known = ds->nkeys > 0 || ds->settings_line > 0;
	for (size_t i = 0; i < ds->nagreements; i++) {
		const jos_agreement *a = &ds->agreements[i];
		const jos_muni *m = &ds->munis[a->muni];
		if (m->in_region)
			jos_errlist_add(errs, JOS_SEV_ERROR, F_AGREE, a->line,
					"agreement with municipality %s (%s), which is inside the "
					"region: agreements are only for municipalities outside it",
					m->code, m->name);
		if (a->key < 0 && keys_known)
			jos_errlist_add(errs, JOS_SEV_ERROR, F_AGREE, a->line,
					"unknown key '%s' (no [key %s] in %s)", a->key_id,
					a->key_id, F_SETTINGS);
	}
}

static void check_settings(const jos_dataset *ds, jos_errlist *errs)
{
	const jos_settings *s = &ds->set;
	char a[16], b[16], c[16];
	if (s->default_key && s->default_key_idx < 0 && eng_key_find(ds, s->default_key) < 0)
		jos_errlist_add(errs, JOS_SEV_ERROR, F_SETTINGS, s->line_default_key,
				"default_key '%s' has no [key %s] section", s->default_key,
				s->default_key);
	if (s->measure == JOS_MEASURE_HEADCOUNT && s->line_count_date && s->line_period &&
	    (s->count_date < s->period_start || s->count_date > s->period_end)) {
		date_str(a, s->count_date);
		date_str(b, s->period_start);
		date_str(c, s->period_end);
		jos_errlist_add(errs, JOS_SEV_ERROR, F_SETTINGS, s->line_count_date,
				"count_date %s is outside the period %s to %s", a, b, c);
	}
}

/* Every school type present needs a tariff in every tariff key. Types compare
 * case-insensitively (already trimmed); each missing type is reported once per key. */
static int check_tariffs(const jos_dataset *ds, jos_errlist *errs)
{
	size_t ntypes = 0;
	uint32_t *types = NULL;   /* index of the first school of each distinct type */
	bool any = false;
	for (size_t k = 0; k < ds->nkeys; k++)
		any |= ds->keys[k].has_method && ds->keys[k].method == KEY_TARIFF;
	if (!any || ds->nschools == 0)
		return JOS_OK;
	if (!(types = malloc(ds->nschools * sizeof *types))) {
		jos_errlist_add(errs, JOS_SEV_ERROR, F_SETTINGS, 0, "out of memory");
		return JOS_ENOMEM;
	}
	/* distinct types, each represented by the school with the smallest line */
	for (size_t i = 0; i < ds->nschools; i++) {
		size_t t;
		for (t = 0; t < ntypes; t++)
			if (jos_strcasecmp(ds->schools[types[t]].type, ds->schools[i].type) == 0)
				break;
		if (t == ntypes)
			types[ntypes++] = (uint32_t)i;
		else if (ds->schools[i].line < ds->schools[types[t]].line)
			types[t] = (uint32_t)i;
	}
	for (size_t k = 0; k < ds->nkeys; k++) {
		const jos_key *key = &ds->keys[k];
		jos_cents c;
		if (!key->has_method || key->method != KEY_TARIFF)
			continue;
		for (size_t t = 0; t < ntypes; t++) {
			const jos_school *s = &ds->schools[types[t]];
			if (!key_tariff_for(key, s->type, &c))
				jos_errlist_add(errs, JOS_SEV_ERROR, F_SETTINGS, key->line,
						"[key %s] has no tariff for school type '%s' "
						"(%s line %u): add tariff.%s = ...",
						key->id, s->type, F_SCHOOLS, (unsigned)s->line, s->type);
		}
	}
	free(types);
	return JOS_OK;
}

/* A weight for a category no enrolment has is almost always a misspelling that would
 * silently weigh the intended pupils 1: a warning at the weight's line. */
static void check_weights(const jos_dataset *ds, jos_errlist *errs)
{
	if (ds->nenrol == 0)
		return;
	for (size_t k = 0; k < ds->nkeys; k++) {
		const jos_key *key = &ds->keys[k];
		for (size_t w = 0; w < key->nweights; w++) {
			size_t c;
			for (c = 1; c < ds->ncategories; c++)
				if (strcmp(ds->categories[c], key->weights[w].category) == 0)
					break;
			if (c == ds->ncategories)
				jos_errlist_add(errs, JOS_SEV_WARNING, F_SETTINGS, key->weights[w].line,
						"[key %s] weight.%s: no enrolment has category '%s'",
						key->id, key->weights[w].category,
						key->weights[w].category);
		}
	}
}

size_t eng_dataset_validate(const jos_dataset *ds, jos_errlist *errs)
{
	return eng_dataset_validate_mt(ds, errs, 1);
}

size_t eng_dataset_validate_mt(const jos_dataset *ds, jos_errlist *errs, int nthreads)
{
	size_t before = errs->nerrors;
	check_settings(ds, errs);
	check_costs(ds, errs);
	check_enrolments(ds, errs, nthreads);
	check_agreements(ds, errs);
	check_tariffs(ds, errs);
	check_weights(ds, errs);
	return errs->nerrors - before;
}
