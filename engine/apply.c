/*
 * apply.c: one key over every municipality, as if each had agreed it (SPEC
 * "Arithmetic (exact)", per municipality): G = sum of the gross shares, then in this
 * order the threshold (min_pupils), N = G * (1 - discount) * phase_in rounded half-up,
 * the cap (capped only when N > cap), and the split of N over the schools in
 * proportion to the gross shares by largest remainder (ties to the smaller school_id).
 * Inside municipalities are computed too; the settlement decides who is charged.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

void eng_key_result_free(eng_key_result *r)
{
	if (!r)
		return;
	free(r->weighted);   /* gross and amount live in the same block */
	free(r->muni_gross);
	free(r->muni_net);
	free(r->muni_status);
	free(r->school_unapportioned);
	free(r->school_outside_zeroed);
	free(r);
}

static void *alloc0(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

/* N = G * (1e6 - discount) * phase_in / 1e12, half-up. G < 2^63 and both factors are
 * at most 1e6 < 2^20, so the product stays below 2^103. */
static jos_cents net_of(jos_cents gross, const jos_key *k)
{
	jos_i128 num = (jos_i128)gross * (JOS_MICRO_ONE - k->discount) * k->phase_in;
	return (jos_cents)jos_div_half_up(num, (jos_i128)JOS_MICRO_ONE * JOS_MICRO_ONE);
}

int eng_key_apply(eng_key_result **out, const jos_dataset *ds, const eng_measures *m,
		  const jos_key *key, jos_err *err)
{
	const size_t NM = ds->nmunis, S = ds->nschools, NC = m->ncells;
	eng_key_result *r = NULL;
	jos_i128 *w = NULL;
	int64_t *split = NULL;
	size_t maxslice = 0;
	int rc = JOS_OK;

	*out = NULL;
	if (key->discount < 0 || key->discount > JOS_MICRO_ONE || key->phase_in < 0 ||
	    key->phase_in > JOS_MICRO_ONE || key->min_school_share < 0 ||
	    key->min_school_share > JOS_MICRO_ONE || key->min_pupils < 0 ||
	    (key->has_cap && key->cap < 0))
		return jos_err_set(err, JOS_EINVALID, "settlement.ini", key->line,
				   "key '%s' has a parameter out of range", key->id ? key->id : "");
	for (size_t mu = 0; mu < NM; mu++)
		if (m->muni_first[mu + 1] - m->muni_first[mu] > maxslice)
			maxslice = m->muni_first[mu + 1] - m->muni_first[mu];
	/* the per-cell arrays in one block (huge pages: 5 MB at 2.5 M enrolments) */
	if (NC > (SIZE_MAX / 2) / (sizeof *r->weighted + sizeof *r->gross + sizeof *r->amount))
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory applying a key");
	size_t cells = NC ? NC : 1;
	if (!(r = calloc(1, sizeof *r)) ||
	    !(r->weighted = jos_big_alloc(cells * (sizeof *r->weighted + sizeof *r->gross +
						   sizeof *r->amount))) ||
	    !(r->muni_gross = alloc0(NM, sizeof *r->muni_gross)) ||
	    !(r->muni_net = alloc0(NM, sizeof *r->muni_net)) ||
	    !(r->muni_status = alloc0(NM, sizeof *r->muni_status)) ||
	    !(r->school_unapportioned = alloc0(S, sizeof *r->school_unapportioned)) ||
	    !(r->school_outside_zeroed = alloc0(S, sizeof *r->school_outside_zeroed)) ||
	    !(w = alloc0(maxslice, sizeof *w)) || !(split = alloc0(maxslice, sizeof *split))) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory applying a key");
		goto done;
	}
	r->gross = (jos_cents *)(r->weighted + cells);   /* 16-byte items first: aligned */
	r->amount = r->gross + cells;
	memset(r->weighted, 0, cells * sizeof *r->weighted);
	memset(r->gross, 0, 2 * cells * sizeof *r->gross);
	r->key = key;
	if ((rc = key_weighted_measure(r->weighted, ds, m, key, err)) != JOS_OK ||
	    (rc = key_gross_shares(r->gross, r->school_unapportioned, r->school_outside_zeroed, ds,
				   m, key, r->weighted, err)) != JOS_OK)
		goto done;

	for (size_t mu = 0; mu < NM; mu++) {
		uint32_t f = m->muni_first[mu], l = m->muni_first[mu + 1];
		jos_cents g = 0, n;
		for (uint32_t j = f; j < l; j++)
			if (jos_add64(&g, g, r->gross[m->by_muni[j]])) {
				rc = jos_err_set(err, JOS_EOVERFLOW, "municipalities.csv",
						 ds->munis[mu].line,
						 "the gross share of municipality %s does not fit "
						 "in 64-bit cents",
						 ds->munis[mu].code);
				goto done;
			}
		r->muni_gross[mu] = g;
		if (m->muni_pupils[mu] < key->min_pupils) {
			n = 0;
			r->muni_status[mu] = JOS_STATUS_BELOW_THRESHOLD;
		} else {
			n = net_of(g, key);
			if (key->has_cap && n > key->cap) {
				n = key->cap;
				r->muni_status[mu] = JOS_STATUS_CAPPED;
			} else {
				r->muni_status[mu] = JOS_STATUS_INVOICED;
			}
		}
		r->muni_net[mu] = n;
		if (n == 0)
			continue; /* every amount 0 (also when every g is 0) */
		/* 0 < N <= G: split N over the schools (by_muni is in school order) */
		for (uint32_t j = f; j < l; j++)
			w[j - f] = r->gross[m->by_muni[j]];
		if ((rc = jos_largest_remainder(split, n, w, l - f)) != JOS_OK) {
			rc = jos_err_set(err, rc, "municipalities.csv", ds->munis[mu].line,
					 "splitting the net amount of municipality %s over its "
					 "schools failed (%s)",
					 ds->munis[mu].code,
					 rc == JOS_EOVERFLOW ? "overflow" : "internal error");
			goto done;
		}
		for (uint32_t j = f; j < l; j++)
			r->amount[m->by_muni[j]] = split[j - f];
	}
done:
	free(w);
	free(split);
	if (rc != JOS_OK)
		eng_key_result_free(r);
	else
		*out = r;
	return rc;
}
