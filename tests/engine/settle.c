/*
 * tests/engine/settle.c: the settlement rows and statuses, statement lines, warnings,
 * and properties over many random datasets: the invariants hold, and settling a
 * dataset's schools in two runs gives the same per-school prorata shares. Period
 * 2025-08-01..2026-07-31 (D = 365).
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/dsbuild.h"

static void pupils(jos_dataset *ds, uint32_t *next, const char *school, const char *code, int n)
{
	for (int i = 0; i < n; i++)
		dsb_enrol(ds, (*next)++, school, code, "2025-08-01", NULL, NULL);
}

static const eng_row *row_of(const eng_settlement *s, const jos_dataset *ds, const char *code)
{
	int mu = eng_muni_find(ds, code);
	for (size_t i = 0; i < s->nrows; i++)
		if (s->rows[i].muni == mu)
			return &s->rows[i];
	return NULL;
}

/*
 * 0100 inside; 0200 agreed `deal` (min_school_share 0.5); 0300 no agreement; 0400
 * agreed `strict` (min_pupils 5); 0500 agreed but without pupils; 0600 agreed
 * `capped` (cap 10.00). School A: C = 120.00, six pupils (0100, 0200, 0300, 0400 one
 * each, 0600 two): 2000 cents per pupil under every prorata key. School B: no pupils
 * (a warning per key). School C: C = 10.00, nine pupils of 0100 and one of 0200.
 */
static jos_dataset *example(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	uint32_t p = 0;
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_muni(ds, "0400", false);
	dsb_muni(ds, "0500", false);
	dsb_muni(ds, "0600", false);
	dsb_school(ds, "A", "0100", "SO", 12000, 0);
	dsb_school(ds, "B", "0100", "SO", 5000, 0);
	dsb_school(ds, "C", "0100", "VSO", 3000, 2000);
	pupils(ds, &p, "A", "0100", 1);
	pupils(ds, &p, "A", "0200", 1);
	pupils(ds, &p, "A", "0300", 1);
	pupils(ds, &p, "A", "0400", 1);
	pupils(ds, &p, "A", "0600", 2);
	pupils(ds, &p, "C", "0100", 9);
	pupils(ds, &p, "C", "0200", 1);
	dsb_key(ds, "standard", "prorata");
	dsb_key(ds, "deal", "prorata");
	dsb_param(ds, "deal", "min_school_share", "0.5");
	dsb_key(ds, "strict", "prorata");
	dsb_param(ds, "strict", "min_pupils", "5");
	dsb_key(ds, "capped", "prorata");
	dsb_param(ds, "capped", "cap", "10.00");
	dsb_key(ds, "unused", "pooled");
	dsb_agree(ds, "0200", "deal", "REF-1");
	dsb_agree(ds, "0400", "strict", NULL);
	dsb_agree(ds, "0500", "deal", NULL);
	dsb_agree(ds, "0600", "capped", NULL);
	return ds;
}

static void test_eng_settle__rows_and_statuses(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	eng_settlement *s;
	jos_errlist w;
	jos_err err;
	jos_errlist_init(&w);
	assert_int_equal(eng_settle(&s, ds, &w, &err), JOS_OK);
	/* 0500 has no pupils: no row */
	assert_int_equal(s->nrows, 5);
	assert_null(row_of(s, ds, "0500"));
	/* inside: gross under the default key = A's 2000 + C's 1000 * 9/10 = 2900 */
	const eng_row *r = row_of(s, ds, "0100");
	assert_int_equal(r->status, JOS_STATUS_IN_REGION);
	assert_int_equal(r->key, 0);
	assert_int_equal(r->gross, 2900);
	assert_int_equal(r->net, 0);
	assert_int_equal(r->pupils, 10);
	assert_int_equal(r->pupil_days, 3650);
	assert_false(r->statement);
	/* 0200 under deal: A's 2000; C's outside share 1/10 < 0.5, so C's 100 becomes 0 */
	r = row_of(s, ds, "0200");
	assert_int_equal(r->status, JOS_STATUS_INVOICED);
	assert_int_equal(r->key, 1);
	assert_int_equal(r->gross, 2000);
	assert_int_equal(r->net, 2000);
	assert_int_equal(r->pupils, 2);
	assert_true(r->statement);
	eng_line *lines;
	size_t n;
	assert_int_equal(eng_row_lines(&lines, &n, ds, s, r), JOS_OK);
	assert_int_equal(n, 2);   /* C stays a line with GrossShare 0.00 */
	assert_int_equal(lines[0].school, 0);
	assert_int_equal(lines[0].gross, 2000);
	assert_int_equal(lines[0].amount, 2000);
	assert_int_equal(lines[0].school_net_cost, 12000);
	assert_int_equal(lines[1].school, 2);
	assert_int_equal(lines[1].pupils, 1);
	assert_int_equal(lines[1].pupil_days, 365);
	assert_int_equal(lines[1].school_net_cost, 1000);   /* budget - cofinancing */
	assert_int_equal(lines[1].gross, 0);
	assert_int_equal(lines[1].amount, 0);
	free(lines);
	/* 0300 without agreement: the exposure under the default key, net 0 */
	r = row_of(s, ds, "0300");
	assert_int_equal(r->status, JOS_STATUS_NO_AGREEMENT);
	assert_int_equal(r->key, 0);
	assert_int_equal(r->gross, 2000);
	assert_int_equal(r->net, 0);
	assert_false(r->statement);
	assert_int_equal(eng_row_lines(&lines, &n, ds, s, r), JOS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(lines[0].gross, 2000);
	assert_int_equal(lines[0].amount, 0);
	free(lines);
	/* 0400: 1 pupil < 5: gross shown, net 0, still a statement */
	r = row_of(s, ds, "0400");
	assert_int_equal(r->status, JOS_STATUS_BELOW_THRESHOLD);
	assert_int_equal(r->key, 2);
	assert_int_equal(r->gross, 2000);
	assert_int_equal(r->net, 0);
	assert_true(r->statement);
	/* 0600: 4000 > cap 1000 */
	r = row_of(s, ds, "0600");
	assert_int_equal(r->status, JOS_STATUS_CAPPED);
	assert_int_equal(r->gross, 4000);
	assert_int_equal(r->net, 1000);
	assert_int_equal(eng_row_lines(&lines, &n, ds, s, r), JOS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(lines[0].pupils, 2);
	assert_int_equal(lines[0].pupil_days, 730);
	assert_int_equal(lines[0].amount, 1000);
	free(lines);
	/* B has no pupils: one warning per key used (standard, deal, strict, capped) */
	assert_int_equal(w.nwarnings, 4);
	assert_int_equal(w.nerrors, 0);
	assert_non_null(strstr(w.items[0].msg, "B"));
	assert_non_null(strstr(w.items[0].msg, "'standard'"));
	assert_null(s->results[4]);   /* unused key: not computed */
	assert_string_equal(eng_status_name(JOS_STATUS_BELOW_THRESHOLD), "below_threshold");
	assert_string_equal(eng_status_name(JOS_STATUS_NO_AGREEMENT), "no_agreement");
	assert_string_equal(eng_status_name(JOS_STATUS_IN_REGION), "in_region");
	assert_string_equal(eng_status_name(JOS_STATUS_CAPPED), "capped");
	assert_string_equal(eng_status_name(JOS_STATUS_INVOICED), "invoiced");
	eng_settlement_free(s);
	jos_errlist_free(&w);
	eng_dataset_free(ds);
}

static void test_eng_settle__headcount_lines(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	eng_settlement *s;
	jos_err err;
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	dsb_school(ds, "B", "0100", "SO", 10000, 0);
	dsb_enrol(ds, 0, "A", "0200", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 1, "B", "0200", "2025-08-01", "2025-08-31", NULL);  /* left before */
	dsb_enrol(ds, 2, "B", "0300", "2025-08-01", "2025-08-31", NULL);  /* idem */
	dsb_headcount(ds, "2025-10-01");
	dsb_key(ds, "k", "prorata");
	dsb_agree(ds, "0200", "k", NULL);
	dsb_agree(ds, "0300", "k", NULL);
	assert_int_equal(eng_settle(&s, ds, NULL, &err), JOS_OK);
	/* 0300 has no pupil on count_date: no row, no statement */
	assert_int_equal(s->nrows, 1);
	const eng_row *r = &s->rows[0];
	assert_int_equal(r->muni, 1);
	assert_int_equal(r->pupils, 1);
	assert_int_equal(r->pupil_days, 365 + 31);   /* PupilYears stays sum d_e / D */
	assert_int_equal(r->gross, 10000);            /* B measures 0: apportions nothing */
	eng_line *lines;
	size_t n;
	assert_int_equal(eng_row_lines(&lines, &n, ds, s, r), JOS_OK);
	assert_int_equal(n, 1);   /* B has no pupil of 0200 on count_date: no line */
	assert_int_equal(lines[0].school, 0);
	free(lines);
	eng_settlement_free(s);
	eng_dataset_free(ds);
}

static void test_eng_settle__unknown_default_key(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	eng_settlement *s = NULL;
	jos_err err;
	dsb_muni(ds, "0100", true);
	dsb_key(ds, "k", "prorata");
	ds->set.default_key_idx = -1;
	ds->set.default_key = "nope";
	assert_int_equal(eng_settle(&s, ds, NULL, &err), JOS_EINVALID);
	assert_null(s);
	eng_dataset_free(ds);
}

/* ---- properties over random datasets ------------------------------------------ */

static uint64_t rng;
static uint64_t rnd64(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 11;
}
static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

#define GMAX_M 8
#define GMAX_S 7
#define GMAX_E 300

typedef struct {
	int nm, ns, ne;
	char code[GMAX_M][5];
	bool inreg[GMAX_M];
	jos_cents budget[GMAX_S], cof[GMAX_S];
	const char *type[GMAX_S];
	struct {
		uint32_t pupil, school;
		uint16_t muni, cat;
		jos_day start, end;
	} e[GMAX_E];
	char params[3][12][2][32];   /* per key k1,k2 (and std): name, value */
	int nparams[3];
	const char *method[3];
	int agree[GMAX_M];          /* -1 none, 1 k1, 2 k2, 0 std */
	bool headcount;
} gen_t;

static void fraction(char *buf, size_t n)
{
	uint32_t v = rnd(4) == 0 ? (rnd(2) ? 0 : 1000000) : rnd(1000001);
	snprintf(buf, n, "%u.%06u", v / 1000000, v % 1000000);
}

static void generate(gen_t *g)
{
	static const char *types[] = { "SO", "VSO", "SO/VSO" };
	static const char *methods[] = { "prorata", "pooled", "tariff" };
	memset(g, 0, sizeof *g);
	g->nm = 1 + (int)rnd(GMAX_M);
	g->ns = 1 + (int)rnd(GMAX_S);
	g->ne = (int)rnd(GMAX_E);
	int code = 0;
	for (int i = 0; i < g->nm; i++) {
		code += 1 + (int)rnd(300);
		snprintf(g->code[i], 5, "%04u", (unsigned)code % 10000u);
		g->inreg[i] = rnd(3) == 0;
	}
	for (int s = 0; s < g->ns; s++) {
		switch (rnd(4)) {
		case 0: g->budget[s] = 100000000000LL; break;   /* 1e9 euro */
		case 1: g->budget[s] = rnd(100); break;
		default: g->budget[s] = (jos_cents)rnd(1000000000); break;
		}
		g->cof[s] = rnd(3) ? 0 : (jos_cents)(rnd64() % (uint64_t)(g->budget[s] + 1));
		g->type[s] = types[rnd(3)];
	}
	uint32_t npupils = 1 + rnd(80);
	jos_day ps = jos_day_from_ymd(2025, 8, 1);
	for (int i = 0; i < g->ne; i++) {
		g->e[i].pupil = rnd(npupils);
		g->e[i].school = rnd((uint32_t)g->ns);
		g->e[i].muni = (uint16_t)rnd((uint32_t)g->nm);
		g->e[i].cat = (uint16_t)rnd(3);
		g->e[i].start = ps - 60 + (jos_day)rnd(480);
		g->e[i].end = rnd(4) ? g->e[i].start + (jos_day)rnd(400) : JOS_DAY_OPEN;
	}
	g->headcount = rnd(4) == 0;
	g->method[0] = "prorata";   /* std: plain prorata (the split property uses it) */
	for (int k = 1; k < 3; k++) {
		g->method[k] = methods[rnd(3)];
		int np = 0;
#define PARAM(nm) snprintf(g->params[k][np][0], 32, "%s", nm)
		if (rnd(2)) { PARAM("min_pupils"); snprintf(g->params[k][np++][1], 32, "%u", rnd(25)); }
		if (rnd(2)) { PARAM("discount"); fraction(g->params[k][np++][1], 32); }
		if (rnd(2)) { PARAM("phase_in"); fraction(g->params[k][np++][1], 32); }
		if (rnd(2)) { PARAM("min_school_share"); fraction(g->params[k][np++][1], 32); }
		if (rnd(2)) {
			PARAM("cap");
			snprintf(g->params[k][np++][1], 32, "%u.%02u", rnd(100000), rnd(100));
		}
		if (rnd(2)) { PARAM("weight.c1"); snprintf(g->params[k][np++][1], 32, "%u.%u", rnd(4), rnd(10)); }
		PARAM("tariff.so"); snprintf(g->params[k][np++][1], 32, "%u.%02u", rnd(10000), rnd(100));
		PARAM("tariff.vso"); snprintf(g->params[k][np++][1], 32, "%u", rnd(10000));
		PARAM("tariff.so/vso"); snprintf(g->params[k][np++][1], 32, "%u", rnd(10000));
#undef PARAM
		g->nparams[k] = np;
	}
	for (int i = 0; i < g->nm; i++)
		g->agree[i] = g->inreg[i] ? -1 : (int)rnd(4) - 1;
}

/* The dataset of g restricted to the schools in mask. */
static jos_dataset *build(const gen_t *g, unsigned mask)
{
	static const char *keys[] = { "std", "k1", "k2" };
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	int32_t sidx[GMAX_S];
	char id[16];
	for (int i = 0; i < g->nm; i++)
		dsb_muni(ds, g->code[i], g->inreg[i]);
	for (int s = 0, n = 0; s < g->ns; s++) {
		sidx[s] = -1;
		if (!(mask & (1u << s)))
			continue;
		snprintf(id, sizeof id, "S%d", s % 10);
		dsb_school(ds, id, g->code[0], g->type[s], g->budget[s], g->cof[s]);
		sidx[s] = n++;
	}
	dsb_category(ds, "c1");
	dsb_category(ds, "c2");
	for (int i = 0; i < g->ne; i++)
		if (sidx[g->e[i].school] >= 0)
			dsb_enrol_raw(ds, g->e[i].pupil, (uint32_t)sidx[g->e[i].school], g->e[i].muni,
				      g->e[i].start, g->e[i].end, g->e[i].cat);
	if (g->headcount)
		dsb_headcount(ds, "2026-02-01");
	for (int k = 0; k < 3; k++) {
		dsb_key(ds, keys[k], g->method[k]);
		for (int p = 0; p < g->nparams[k]; p++)
			dsb_param(ds, keys[k], g->params[k][p][0], g->params[k][p][1]);
	}
	for (int i = 0; i < g->nm; i++)
		if (g->agree[i] >= 0)
			dsb_agree(ds, g->code[i], keys[g->agree[i]], NULL);
	return ds;
}

static size_t seen_status[5], seen_statements;

/* The invariants, checked from outside the engine. */
static void check_invariants(const jos_dataset *ds, const eng_settlement *s)
{
	const eng_measures *m = s->measures;
	jos_cents sum_net = 0, sum_lines = 0;
	/* std (prorata, no min_school_share): each apportioned school's shares sum to C */
	const eng_key_result *std = s->results[0];
	for (size_t sc = 0; sc < ds->nschools; sc++) {
		jos_cents sum = 0;
		for (uint32_t i = m->school_first[sc]; i < m->school_first[sc + 1]; i++)
			sum += std->gross[i];
		if (std->school_unapportioned[sc])
			assert_int_equal(sum, 0);
		else
			assert_int_equal(sum, ds->schools[sc].budget - ds->schools[sc].cofinancing);
	}
	for (size_t i = 0; i < s->nrows; i++) {
		const eng_row *r = &s->rows[i];
		const jos_key *k = &ds->keys[r->key];
		seen_status[r->status]++;
		seen_statements += r->statement && r->net > 0;
		if (i)
			assert_true(r->muni > s->rows[i - 1].muni);
		assert_true(r->pupils > 0);
		assert_true(r->net >= 0 && r->net <= r->gross);
		if (!r->statement)
			assert_int_equal(r->net, 0);
		if (r->status == JOS_STATUS_CAPPED)
			assert_int_equal(r->net, k->cap);
		if (r->status == JOS_STATUS_INVOICED && k->has_cap)
			assert_true(r->net <= k->cap);
		if (r->status == JOS_STATUS_BELOW_THRESHOLD)
			assert_true(r->pupils < k->min_pupils);
		eng_line *lines;
		size_t n;
		jos_cents sg = 0, sa = 0;
		assert_int_equal(eng_row_lines(&lines, &n, ds, s, r), JOS_OK);
		assert_true(n >= 1);
		for (size_t j = 0; j < n; j++) {
			if (j)
				assert_true(lines[j].school > lines[j - 1].school);
			assert_true(lines[j].pupils >= 1);
			sg += lines[j].gross;
			sa += lines[j].amount;
		}
		free(lines);
		assert_int_equal(sg, r->gross);
		assert_int_equal(sa, r->net);
		sum_net += r->net;
		if (r->statement)
			sum_lines += sa;
	}
	assert_int_equal(sum_net, sum_lines);
}

static jos_cents std_share(const jos_dataset *ds, const eng_settlement *s, const char *school,
			   int muni)
{
	int sc = eng_school_find(ds, school);
	const eng_measures *m = s->measures;
	for (uint32_t i = m->school_first[sc]; i < m->school_first[sc + 1]; i++)
		if (m->cells[i].muni == muni)
			return s->results[0]->gross[i];
	return -1;
}

/* a and b are the same settlement (as eng_settle_mt with any thread count must give). */
static void assert_same_settlement(const jos_dataset *ds, const eng_settlement *a,
				   const eng_settlement *b)
{
	const eng_measures *ma = a->measures, *mb = b->measures;
	assert_int_equal(ma->ncells, mb->ncells);
	assert_int_equal(ma->ncatx, mb->ncatx);
	assert_memory_equal(ma->cells, mb->cells, ma->ncells * sizeof *ma->cells);
	for (size_t i = 0; i < ma->ncatx; i++) {   /* field by field: eng_catx has padding */
		assert_int_equal(ma->catx[i].category, mb->catx[i].category);
		assert_int_equal(ma->catx[i].x, mb->catx[i].x);
	}
	assert_memory_equal(ma->by_muni, mb->by_muni, ma->ncells * sizeof *ma->by_muni);
	assert_memory_equal(ma->muni_pupils, mb->muni_pupils, ds->nmunis * sizeof *ma->muni_pupils);
	assert_memory_equal(ma->muni_pupil_days, mb->muni_pupil_days,
			    ds->nmunis * sizeof *ma->muni_pupil_days);
	assert_int_equal(a->nrows, b->nrows);
	assert_memory_equal(a->rows, b->rows, a->nrows * sizeof *a->rows);
	for (size_t k = 0; k < ds->nkeys; k++) {
		assert_true((a->results[k] == NULL) == (b->results[k] == NULL));
		if (!a->results[k])
			continue;
		assert_memory_equal(a->results[k]->gross, b->results[k]->gross,
				    ma->ncells * sizeof(jos_cents));
		assert_memory_equal(a->results[k]->amount, b->results[k]->amount,
				    ma->ncells * sizeof(jos_cents));
		assert_memory_equal(a->results[k]->muni_net, b->results[k]->muni_net,
				    ds->nmunis * sizeof(jos_cents));
	}
}

static void test_eng_settle__random_invariants_and_split(void **state)
{
	(void)state;
	gen_t *g = malloc(sizeof *g);
	assert_non_null(g);
	rng = 20260901;
	for (int iter = 0; iter < 300; iter++) {
		generate(g);
		unsigned all = (1u << g->ns) - 1, half = 0x55u & all;
		jos_dataset *ds = build(g, all), *d1 = build(g, half), *d2 = build(g, all & ~half);
		eng_settlement *s, *s1, *s2;
		jos_err err;
		int rc = eng_settle(&s, ds, NULL, &err);
		if (rc != JOS_OK)
			fail_msg("iteration %d: %s", iter, err.msg);
		check_invariants(ds, s);
		/* threads split the measures and the keys: the same settlement */
		eng_settlement *smt;
		assert_int_equal(eng_settle_mt(&smt, ds, NULL, 2 + iter % 4, &err), JOS_OK);
		assert_same_settlement(ds, s, smt);
		eng_settlement_free(smt);
		assert_int_equal(eng_settle(&s1, d1, NULL, &err), JOS_OK);
		assert_int_equal(eng_settle(&s2, d2, NULL, &err), JOS_OK);
		/* per-school prorata shares do not depend on the other schools */
		for (int sc = 0; sc < g->ns; sc++) {
			char id[16];
			snprintf(id, sizeof id, "S%d", sc % 10);
			const jos_dataset *dp = (half >> sc) & 1 ? d1 : d2;
			const eng_settlement *sp = (half >> sc) & 1 ? s1 : s2;
			for (int mu = 0; mu < g->nm; mu++)
				assert_int_equal(std_share(ds, s, id, mu), std_share(dp, sp, id, mu));
		}
		eng_settlement_free(s);
		eng_settlement_free(s1);
		eng_settlement_free(s2);
		eng_dataset_free(ds);
		eng_dataset_free(d1);
		eng_dataset_free(d2);
	}
	free(g);
	/* the generator reaches every status, and statements that charge something */
	for (int st = 0; st < 5; st++)
		assert_true(seen_status[st] > 10);
	assert_true(seen_statements > 100);
}

/* Budgets of 1e9 euro and weights up to 1000 stay exact; beyond 128 bits: refused. */
static void test_eng_settle__large_is_exact_or_refused(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	eng_settlement *s;
	jos_err err;
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_school(ds, "A", "0100", "SO", 100000000000LL, 1);
	dsb_school(ds, "B", "0100", "SO", 100000000000LL, 0);
	uint16_t heavy = dsb_category(ds, "heavy");
	for (uint32_t i = 0; i < 20000; i++)
		dsb_enrol_raw(ds, i, i % 2, (uint16_t)(i % 3), ds->set.period_start - 5,
			      JOS_DAY_OPEN, i % 7 ? 0 : heavy);
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "weight.heavy", "1000");
	dsb_agree(ds, "0200", "k", NULL);
	assert_int_equal(eng_settle(&s, ds, NULL, &err), JOS_OK);
	check_invariants(ds, s);
	eng_settlement_free(s);
	/* weight 1e12 with a budget of 4.6e16 euro: C * M needs more than 127 bits */
	ds->schools[0].budget = INT64_MAX / 2;
	ds->schools[0].cofinancing = 0;
	jos_err e2;
	assert_int_equal(key_param_override(&ds->keys[0], "weight.heavy", "1000000000000",
					    "settlement.ini", 1, &e2), JOS_OK);
	s = NULL;
	assert_int_equal(eng_settle(&s, ds, NULL, &err), JOS_EOVERFLOW);
	assert_null(s);
	assert_non_null(strstr(err.msg, "128-bit"));
	eng_dataset_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eng_settle__rows_and_statuses),
		cmocka_unit_test(test_eng_settle__headcount_lines),
		cmocka_unit_test(test_eng_settle__unknown_default_key),
		cmocka_unit_test(test_eng_settle__random_invariants_and_split),
		cmocka_unit_test(test_eng_settle__large_is_exact_or_refused),
	};
	return cmocka_run_group_tests_name("engine/settle", tests, NULL, NULL);
}
