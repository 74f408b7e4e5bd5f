/*
 * methods.c: the contribution key methods (SPEC "Arithmetic (exact)"): the gross
 * shares g(s,m) per (school, municipality) cell under prorata, pooled and tariff, and
 * the min_school_share rule.
 *
 * Exactness: weights are millionths, so the weighted measure M(s,m) is an exact
 * integer in millionths (jos_i128). Quotas C*M/sum(M) are never formed as fractions:
 * jos_largest_remainder works on the products C*M in 128 bits and reports overflow.
 * For budgets up to 1e9 euro (1e11 cents) and 1e7 enrolments of up to 366 days with
 * weight w, C*M <= 1e11 * 3.66e9 * w * 1e6 = 3.7e26 * w, far inside 1.7e38 for any
 * sensible weight; beyond that the run is refused with JOS_EOVERFLOW, never wrapped.
 */
#include "keys/keys.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

static int overflow(jos_err *err, const char *what, const jos_dataset *ds, size_t school)
{
	if (school < ds->nschools)
		return jos_err_set(err, JOS_EOVERFLOW, "costs.csv", ds->schools[school].costs_line,
				   "%s for school %s does not fit in exact 128-bit arithmetic; "
				   "refusing to round",
				   what, ds->schools[school].id);
	return jos_err_set(err, JOS_EOVERFLOW, NULL, 0,
			   "%s does not fit in exact 128-bit arithmetic; refusing to round", what);
}

int key_weighted_measure(jos_i128 *weighted, const jos_dataset *ds, const eng_measures *m,
			 const jos_key *k, jos_err *err)
{
	size_t nc = ds->ncategories ? ds->ncategories : 1;
	jos_micro *w = malloc(nc * sizeof *w);
	if (!w)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	for (size_t c = 0; c < nc; c++)
		w[c] = ds->ncategories ? key_weight_for(k, ds->categories[c]) : JOS_MICRO_ONE;
	for (size_t i = 0; i < m->ncells; i++) {
		const eng_cell *cell = &m->cells[i];
		jos_i128 sum = 0;
		for (uint32_t j = cell->cat_first; j < cell->cat_first + cell->ncat; j++) {
			const eng_catx *cx = &m->catx[j];
			/* |w| < 2^63 and |x| < 2^63: the product fits in 127 bits */
			jos_i128 p = (jos_i128)w[cx->category] * cx->x;
			if (jos_add128(&sum, sum, p)) {
				free(w);
				return overflow(err, "the weighted measure", ds, cell->school);
			}
		}
		weighted[i] = sum;
	}
	free(w);
	return JOS_OK;
}

static int school_net_cost(jos_cents *out, const jos_dataset *ds, size_t s, jos_err *err)
{
	const jos_school *sc = &ds->schools[s];
	if (sc->cofinancing < 0 || sc->budget < sc->cofinancing)
		return jos_err_set(err, JOS_EINVALID, "costs.csv", sc->costs_line,
				   "school %s: cofinancing must lie between 0 and the budget",
				   sc->id);
	*out = sc->budget - sc->cofinancing; /* 0 <= cofinancing <= budget: no overflow */
	return JOS_OK;
}

static int lr_error(int rc, jos_err *err, const char *what, const jos_dataset *ds, size_t s)
{
	if (rc == JOS_EOVERFLOW)
		return overflow(err, what, ds, s);
	if (rc == JOS_ENOMEM)
		return jos_err_set(err, rc, NULL, 0, "out of memory");
	return jos_err_set(err, rc, NULL, 0, "internal error in the largest remainder split (%s)",
			   what);
}

int key_method_prorata(jos_cents *gross, bool *unapportioned, const jos_dataset *ds,
		       const eng_measures *m, const jos_i128 *weighted, jos_err *err)
{
	for (size_t s = 0; s < ds->nschools; s++) {
		uint32_t f = m->school_first[s], l = m->school_first[s + 1];
		jos_i128 sum = 0;
		jos_cents c = 0;
		int rc;
		for (uint32_t i = f; i < l; i++) {
			gross[i] = 0;
			if (jos_add128(&sum, sum, weighted[i]))
				return overflow(err, "the total measure", ds, s);
		}
		unapportioned[s] = sum <= 0;
		if (sum <= 0)
			continue;
		if ((rc = school_net_cost(&c, ds, s, err)) != JOS_OK)
			return rc;
		/* quota of cell i: C(s) * M(s,m) / sum_m M(s,m) */
		if ((rc = jos_largest_remainder(gross + f, c, weighted + f, l - f)) != JOS_OK)
			return lr_error(rc, err, "the prorata split", ds, s);
	}
	return JOS_OK;
}

int key_method_pooled(jos_cents *gross, bool *unapportioned, const jos_dataset *ds,
		      const eng_measures *m, const jos_i128 *weighted, jos_err *err)
{
	const size_t NM = ds->nmunis;
	jos_i128 *wm = calloc(NM ? NM : 1, sizeof *wm), *wtmp = NULL, wsum = 0;
	jos_cents *gm = calloc(NM ? NM : 1, sizeof *gm), *out = NULL, total = 0;
	size_t maxslice = 0;
	int rc = JOS_OK;

	if (!wm || !gm) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
		goto done;
	}
	/* the pool: sum of C(s) over the schools with a measure */
	for (size_t s = 0; s < ds->nschools; s++) {
		jos_i128 sum = 0;
		for (uint32_t i = m->school_first[s]; i < m->school_first[s + 1]; i++)
			if (jos_add128(&sum, sum, weighted[i])) {
				rc = overflow(err, "the total measure", ds, s);
				goto done;
			}
		unapportioned[s] = sum <= 0;
		if (sum > 0) {
			jos_cents c = 0;
			if ((rc = school_net_cost(&c, ds, s, err)) != JOS_OK)
				goto done;
			if (jos_add64(&total, total, c)) {
				rc = overflow(err, "the pooled cost", ds, SIZE_MAX);
				goto done;
			}
		}
	}
	/* per municipality: sum_s M(s,m) */
	for (size_t mu = 0; mu < NM; mu++) {
		uint32_t f = m->muni_first[mu], l = m->muni_first[mu + 1];
		if (l - f > maxslice)
			maxslice = l - f;
		for (uint32_t j = f; j < l; j++)
			if (jos_add128(&wm[mu], wm[mu], weighted[m->by_muni[j]])) {
				rc = overflow(err, "the measure of a municipality", ds, SIZE_MAX);
				goto done;
			}
		if (jos_add128(&wsum, wsum, wm[mu])) {
			rc = overflow(err, "the total measure", ds, SIZE_MAX);
			goto done;
		}
	}
	for (size_t c = 0; c < m->ncells; c++)
		gross[c] = 0;
	if (wsum <= 0 || total == 0)
		goto done;
	if ((rc = jos_largest_remainder(gm, total, wm, NM)) != JOS_OK) {
		rc = lr_error(rc, err, "the pooled split over municipalities", ds, SIZE_MAX);
		goto done;
	}
	if (!(wtmp = malloc(maxslice * sizeof *wtmp)) || !(out = malloc(maxslice * sizeof *out))) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
		goto done;
	}
	/* each municipality's part over its schools, in school order */
	for (size_t mu = 0; mu < NM; mu++) {
		uint32_t f = m->muni_first[mu], l = m->muni_first[mu + 1];
		if (gm[mu] == 0)
			continue;
		for (uint32_t j = f; j < l; j++)
			wtmp[j - f] = weighted[m->by_muni[j]];
		if ((rc = jos_largest_remainder(out, gm[mu], wtmp, l - f)) != JOS_OK) {
			rc = lr_error(rc, err, "the pooled split over schools", ds, SIZE_MAX);
			goto done;
		}
		for (uint32_t j = f; j < l; j++)
			gross[m->by_muni[j]] = out[j - f];
	}
done:
	free(wm);
	free(gm);
	free(wtmp);
	free(out);
	return rc;
}

int key_method_tariff(jos_cents *gross, const jos_dataset *ds, const eng_measures *m,
		      const jos_key *k, const jos_i128 *weighted, jos_err *err)
{
	/* days: g = tariff * (M / 1e6) / D; headcount: g = tariff * M / 1e6, half-up */
	jos_i128 den = JOS_MICRO_ONE;
	if (m->measure == JOS_MEASURE_DAYS)
		den *= m->period_days;
	for (size_t s = 0; s < ds->nschools; s++) {
		const jos_school *sc = &ds->schools[s];
		uint32_t f = m->school_first[s], l = m->school_first[s + 1];
		jos_cents t;
		if (f == l)
			continue;
		if (!key_tariff_for(k, sc->type, &t))
			return jos_err_set(err, JOS_EINVALID, "settlement.ini", k->line,
					   "key '%s' has no tariff for school type '%s' (school %s)",
					   k->id ? k->id : "", sc->type, sc->id);
		for (uint32_t i = f; i < l; i++) {
			jos_i128 num, g;
			if (jos_mul128(&num, (jos_i128)t, weighted[i]))
				return overflow(err, "tariff times measure", ds, s);
			g = jos_div_half_up(num, den);
			if (g > INT64_MAX)
				return overflow(err, "the tariff share", ds, s);
			gross[i] = (jos_cents)g;
		}
	}
	return JOS_OK;
}

int key_min_school_share(jos_cents *gross, bool *zeroed, const jos_dataset *ds,
			 const eng_measures *m, const jos_key *k, const jos_i128 *weighted,
			 jos_err *err)
{
	if (k->min_school_share <= 0)
		return JOS_OK;
	for (size_t s = 0; s < ds->nschools; s++) {
		uint32_t f = m->school_first[s], l = m->school_first[s + 1];
		jos_i128 outside = 0, total = 0, lhs, rhs;
		for (uint32_t i = f; i < l; i++) {
			if (jos_add128(&total, total, weighted[i]))
				return overflow(err, "the total measure", ds, s);
			if (!ds->munis[m->cells[i].muni].in_region)
				outside += weighted[i]; /* <= total */
		}
		/* outside / total < min_school_share, as outside * 1e6 < share * total */
		if (jos_mul128(&lhs, outside, JOS_MICRO_ONE) ||
		    jos_mul128(&rhs, total, k->min_school_share))
			return overflow(err, "the min_school_share comparison", ds, s);
		if (lhs < rhs) {
			zeroed[s] = true;
			for (uint32_t i = f; i < l; i++)
				if (!ds->munis[m->cells[i].muni].in_region)
					gross[i] = 0;
		}
	}
	return JOS_OK;
}

int key_gross_shares(jos_cents *gross, bool *unapportioned, bool *zeroed, const jos_dataset *ds,
		     const eng_measures *m, const jos_key *k, const jos_i128 *weighted,
		     jos_err *err)
{
	int rc;
	memset(gross, 0, m->ncells * sizeof *gross);
	memset(unapportioned, 0, ds->nschools * sizeof *unapportioned);
	memset(zeroed, 0, ds->nschools * sizeof *zeroed);
	if (!k->has_method)
		return jos_err_set(err, JOS_EINVALID, "settlement.ini", k->line,
				   "key '%s' has no method", k->id ? k->id : "");
	switch (k->method) {
	case KEY_PRORATA:
		rc = key_method_prorata(gross, unapportioned, ds, m, weighted, err);
		break;
	case KEY_POOLED:
		rc = key_method_pooled(gross, unapportioned, ds, m, weighted, err);
		break;
	case KEY_TARIFF:
		rc = key_method_tariff(gross, ds, m, k, weighted, err);
		break;
	default:
		return jos_err_set(err, JOS_EINTERNAL, NULL, 0, "unknown key method");
	}
	if (rc != JOS_OK)
		return rc;
	return key_min_school_share(gross, zeroed, ds, m, k, weighted, err);
}
