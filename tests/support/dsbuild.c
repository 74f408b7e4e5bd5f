/*
 * dsbuild.c: a tiny in-memory dataset builder for tests (see dsbuild.h).
 */
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/dsbuild.h"

/* Arrays grow to the next power of two (at least 16): capacity is implied by n. */
static void grow(void **p, size_t n, size_t size)
{
	if (n >= 16 && (n & (n - 1)) != 0)
		return;
	size_t cap = n < 16 ? 16 : n * 2;
	if (n < 16 && *p)
		return;
	void *np = realloc(*p, cap * size);
	assert_non_null(np);
	*p = np;
}

jos_day dsb_day(const char *ymd)
{
	int y, m, d;
	assert_int_equal(sscanf(ymd, "%d-%d-%d", &y, &m, &d), 3);
	assert_true(jos_date_valid(y, m, d));
	return jos_day_from_ymd(y, m, d);
}

jos_dataset *dsb_new(const char *period_start, const char *period_end)
{
	jos_dataset *ds = eng_dataset_new();
	assert_non_null(ds);
	ds->set.name = "test";
	ds->set.issuer = "Test Region";
	ds->set.issuer_id = "0546";
	ds->set.period_start = dsb_day(period_start);
	ds->set.period_end = dsb_day(period_end);
	ds->set.statement_date = ds->set.period_end;
	ds->set.measure = JOS_MEASURE_DAYS;
	grow((void **)&ds->categories, 0, sizeof *ds->categories);
	ds->categories[ds->ncategories++] = "";
	return ds;
}

void dsb_headcount(jos_dataset *ds, const char *count_date)
{
	ds->set.measure = JOS_MEASURE_HEADCOUNT;
	ds->set.count_date = dsb_day(count_date);
}

int dsb_muni(jos_dataset *ds, const char *code4, bool in_region)
{
	assert_int_equal(strlen(code4), 4);
	assert_true(ds->nmunis == 0 || strcmp(ds->munis[ds->nmunis - 1].code, code4) < 0);
	assert_int_equal(ds->nagreements, 0);
	grow((void **)&ds->munis, ds->nmunis, sizeof *ds->munis);
	jos_muni *m = &ds->munis[ds->nmunis];
	memset(m, 0, sizeof *m);
	memcpy(m->code, code4, 5);
	char name[32];
	snprintf(name, sizeof name, "Gemeente %s", code4);
	m->name = jos_arena_strdup(ds->arena, name);
	m->in_region = in_region;
	m->inhabitants = -1;
	m->line = (uint32_t)ds->nmunis + 2;
	return (int)ds->nmunis++;
}

int dsb_school(jos_dataset *ds, const char *id, const char *muni_code, const char *type,
	       jos_cents budget, jos_cents cofinancing)
{
	assert_true(ds->nschools == 0 || strcmp(ds->schools[ds->nschools - 1].id, id) < 0);
	int mu = eng_muni_find(ds, muni_code);
	assert_true(mu >= 0);
	grow((void **)&ds->schools, ds->nschools, sizeof *ds->schools);
	jos_school *s = &ds->schools[ds->nschools];
	memset(s, 0, sizeof *s);
	s->id = jos_arena_strdup(ds->arena, id);
	s->name = s->id;
	s->muni = (uint16_t)mu;
	s->type = jos_arena_strdup(ds->arena, type);
	s->provider = "";
	s->line = (uint32_t)ds->nschools + 2;
	s->has_costs = true;
	s->budget = budget;
	s->cofinancing = cofinancing;
	s->costs_line = s->line;
	return (int)ds->nschools++;
}

uint16_t dsb_category(jos_dataset *ds, const char *category)
{
	char buf[64];
	size_t n = 0;
	if (!category)
		category = "";
	const char *s = category;
	size_t len = strlen(s);
	jos_trim(&s, &len);
	assert_true(len < sizeof buf);
	for (n = 0; n < len; n++)
		buf[n] = jos_lower(s[n]);
	buf[n] = '\0';
	for (size_t i = 0; i < ds->ncategories; i++)
		if (strcmp(ds->categories[i], buf) == 0)
			return (uint16_t)i;
	grow((void **)&ds->categories, ds->ncategories, sizeof *ds->categories);
	ds->categories[ds->ncategories] = jos_arena_strdup(ds->arena, buf);
	return (uint16_t)ds->ncategories++;
}

void dsb_enrol_raw(jos_dataset *ds, uint32_t pupil, uint32_t school, uint16_t residence,
		   jos_day start, jos_day end, uint16_t category)
{
	assert_true(school < ds->nschools && residence < ds->nmunis &&
		    category < ds->ncategories);
	grow((void **)&ds->enrol, ds->nenrol, sizeof *ds->enrol);
	jos_enrolment *e = &ds->enrol[ds->nenrol];
	e->pupil = pupil;
	e->school = school;
	e->residence = residence;
	e->category = category;
	e->start = start;
	e->end = end;
	e->line = (uint32_t)ds->nenrol + 2;
	ds->nenrol++;
	if (pupil >= ds->npupils)
		ds->npupils = pupil + 1;
}

void dsb_enrol(jos_dataset *ds, uint32_t pupil, const char *school_id, const char *residence,
	       const char *start, const char *end, const char *category)
{
	int s = eng_school_find(ds, school_id), m = eng_muni_find(ds, residence);
	assert_true(s >= 0 && m >= 0);
	dsb_enrol_raw(ds, pupil, (uint32_t)s, (uint16_t)m, dsb_day(start),
		      end ? dsb_day(end) : JOS_DAY_OPEN, dsb_category(ds, category));
}

int dsb_key(jos_dataset *ds, const char *id, const char *method)
{
	jos_err err;
	grow((void **)&ds->keys, ds->nkeys, sizeof *ds->keys);
	jos_key *k = &ds->keys[ds->nkeys];
	assert_int_equal(key_init(k, id), JOS_OK);
	k->line = (uint32_t)(10 * (ds->nkeys + 1));
	ds->nkeys++;
	assert_int_equal(key_param_set(k, "method", method, "settlement.ini", k->line, &err),
			 JOS_OK);
	if (ds->nkeys == 1) {
		ds->set.default_key = k->id;
		ds->set.default_key_idx = 0;
	}
	return (int)ds->nkeys - 1;
}

void dsb_param(jos_dataset *ds, const char *key_id, const char *name, const char *value)
{
	jos_err err;
	int k = eng_key_find(ds, key_id);
	assert_true(k >= 0);
	int rc = key_param_set(&ds->keys[k], name, value, "settlement.ini", 1, &err);
	if (rc != JOS_OK)
		fail_msg("%s = %s: %s", name, value, err.msg);
}

void dsb_agree(jos_dataset *ds, const char *code4, const char *key_id, const char *reference)
{
	int m = eng_muni_find(ds, code4), k = eng_key_find(ds, key_id);
	assert_true(m >= 0);
	assert_true(ds->nagreements == 0 || ds->agreements[ds->nagreements - 1].muni < m);
	if (!ds->muni_agreement) {
		ds->muni_agreement = malloc((ds->nmunis ? ds->nmunis : 1) * sizeof(int));
		assert_non_null(ds->muni_agreement);
		for (size_t i = 0; i < ds->nmunis; i++)
			ds->muni_agreement[i] = -1;
	}
	grow((void **)&ds->agreements, ds->nagreements, sizeof *ds->agreements);
	jos_agreement *a = &ds->agreements[ds->nagreements];
	a->muni = (uint16_t)m;
	a->key = k;
	a->key_id = jos_arena_strdup(ds->arena, key_id);
	a->reference = reference ? jos_arena_strdup(ds->arena, reference) : NULL;
	a->line = (uint32_t)ds->nagreements + 2;
	ds->muni_agreement[m] = (int)ds->nagreements++;
}

long dsb_cell(const jos_dataset *ds, const eng_measures *m, const char *school, const char *code4)
{
	int s = eng_school_find(ds, school), mu = eng_muni_find(ds, code4);
	if (s < 0 || mu < 0)
		return -1;
	for (uint32_t i = m->school_first[s]; i < m->school_first[s + 1]; i++)
		if (m->cells[i].muni == mu)
			return (long)i;
	return -1;
}
