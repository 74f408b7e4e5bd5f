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

/* End before start, then overlaps per pupil. A pupil with one enrolment cannot overlap:
 * only the rows of pupils with several (a saturating count per pupil) are sorted by
 * (pupil, row), each group sorted by (start, line) and swept keeping the enrolment that
 * reaches furthest: the next one overlaps it exactly when it starts on or before that
 * end (intervals are inclusive). */
static int check_enrolments(const jos_dataset *ds, jos_errlist *errs)
{
	uint8_t *cnt = NULL;
	uint64_t *multi = NULL;
	span *grp = NULL;
	size_t grpcap = 0, nmulti = 0, multicap = 0;
	char a[16], b[16];
	int rc = JOS_OK;

	if (ds->npupils && !(cnt = calloc(ds->npupils, 1))) {
		rc = JOS_ENOMEM;
		goto done;
	}
#define CHECKED(e) ((e)->end >= (e)->start && (e)->pupil < ds->npupils)
	for (size_t i = 0; i < ds->nenrol; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (e->end < e->start) {
			date_str(a, e->end);
			date_str(b, e->start);
			jos_errlist_add(errs, JOS_SEV_ERROR, F_ENROL, e->line,
					"end_date %s is before start_date %s", a, b);
		} else if (CHECKED(e) && cnt[e->pupil] < 2) {
			cnt[e->pupil]++;
		}
	}
	if (ds->nenrol < 2 || ds->npupils == 0)
		goto done;
	for (size_t i = 0; i < ds->nenrol; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		if (!CHECKED(e) || cnt[e->pupil] != 2)
			continue;
		if (nmulti == multicap &&
		    jos_grow((void **)&multi, &multicap, nmulti + 1 + ds->nenrol / 16, sizeof *multi)) {
			rc = JOS_ENOMEM;
			goto done;
		}
		multi[nmulti++] = (uint64_t)e->pupil << 32 | i;
	}
#undef CHECKED
	free(cnt);
	cnt = NULL;
	if ((rc = jos_sort_u64(multi, nmulti)) != JOS_OK)
		goto done;

	for (size_t lo = 0, hi; lo < nmulti; lo = hi) {
		for (hi = lo + 1; hi < nmulti && multi[hi] >> 32 == multi[lo] >> 32; hi++)
			;
		size_t n = hi - lo;
		if (jos_grow((void **)&grp, &grpcap, n, sizeof *grp) != JOS_OK) {
			rc = JOS_ENOMEM;
			goto done;
		}
		for (size_t k = 0; k < n; k++) {
			const jos_enrolment *e = &ds->enrol[(uint32_t)multi[lo + k]];
			grp[k] = (span){ e->start, e->end, e->line };
		}
		sort_spans(grp, n);
		const span *reach = &grp[0];
		for (size_t k = 1; k < n; k++) {
			const span *x = &grp[k];
			if (x->start <= reach->end) {
				uint32_t later = x->line > reach->line ? x->line : reach->line;
				uint32_t other = x->line > reach->line ? reach->line : x->line;
				jos_errlist_add(errs, JOS_SEV_ERROR, F_ENROL, later,
						"enrolment overlaps the one at line %u of the same pupil",
						(unsigned)other);
			}
			if (x->end > reach->end)
				reach = x;
		}
	}
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
	size_t before = errs->nerrors;
	check_settings(ds, errs);
	check_costs(ds, errs);
	check_enrolments(ds, errs);
	check_agreements(ds, errs);
	check_tariffs(ds, errs);
	check_weights(ds, errs);
	return errs->nerrors - before;
}
