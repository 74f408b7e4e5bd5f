/*
 * runner.c: runs a scenario on a dataset (SPEC "Scenarios").
 *
 * The measures are aggregated ONCE (eng_measures_build: the only pass over the
 * enrolments) and every variant and every sweep value is an eng_key_apply on those
 * same measures: the same engine and the same exact arithmetic as `settle`, so a
 * variant equal to a settlement key gives exactly the settlement's amounts, and a
 * sweep of 100 values costs 100 passes over the (school, municipality) cells, not
 * over the enrolments. The measures and the sweep values run on every core (scn_run_mt).
 *
 * Covered municipalities: outside the region, with at least one pupil counted by
 * the measure, and with apply_to = agreements only those with an agreement. Each is
 * treated as if it had agreed the variant's key.
 *
 * The share recovered is recovered / outside_cost, where outside_cost is the sum over
 * the covered municipalities of their prorata share of the schools' net cost with
 * unit weights (method prorata, every other parameter at its default), computed by the
 * engine itself (largest remainder per school, in cents). See README-scenario.md.
 */
#include "scenarios/scenarios.h"

#include <stdlib.h>
#include <string.h>

/* The totals of one key over the covered municipalities. Sums of cents stay far inside
 * int64 (each N is at most the sum of C(s), which the engine holds in int64), but they
 * are checked anyway: nothing may wrap. */
static int totals_of(scn_totals *t, const scn_result *r, const eng_key_result *kr, jos_err *err)
{
	memset(t, 0, sizeof *t);
	t->largest_muni = -1;
	for (size_t i = 0; i < r->nmunis; i++) {
		uint16_t mi = r->munis[i];
		jos_cents n = kr->muni_net[mi];
		if (jos_add64(&t->recovered, t->recovered, n) ||
		    jos_add64(&t->gross, t->gross, kr->muni_gross[mi]))
			return jos_err_set(err, JOS_EOVERFLOW, NULL, 0,
					   "scenario totals exceed the range of amounts");
		if (n > 0) {
			t->paying++;
			/* munis are by code: strict > keeps the smaller code on a tie */
			if (t->largest_muni < 0 || n > t->largest) {
				t->largest = n;
				t->largest_muni = mi;
			}
		}
	}
	return JOS_OK;
}

/* The sweep values are independent: value k on job k mod njobs, each with its own rc and
 * problem, so the one reported (the first value that failed) does not depend on njobs. */
typedef struct {
	const scn_result *r;
	const eng_measures *m;
	size_t first, step;
	int *rc;
	jos_err *err;
} sweep_job;

static void *sweep_values(void *arg)
{
	const sweep_job *j = arg;
	const scn_result *r = j->r;
	for (size_t k = j->first; k < r->nsweep; k += j->step) {
		eng_key_result *kr = NULL;
		j->rc[k] = eng_key_apply(&kr, r->ds, j->m, &r->sc->sweep.keys[k], &j->err[k]);
		if (j->rc[k] == JOS_OK)
			j->rc[k] = totals_of(&r->sweep_totals[k], r, kr, &j->err[k]);
		eng_key_result_free(kr);
	}
	return NULL;
}

static int run_sweep(scn_result *r, const eng_measures *m, int nthreads, jos_err *err)
{
	sweep_job jobs[JOS_MAX_THREADS];
	size_t nt = nthreads < 1 ? 1 : nthreads > JOS_MAX_THREADS ? JOS_MAX_THREADS
								 : (size_t)nthreads;
	int *krc = calloc(r->nsweep + 1, sizeof *krc);
	jos_err *kerr = calloc(r->nsweep + 1, sizeof *kerr);
	int rc = JOS_OK;
	if (!krc || !kerr) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
		goto done;
	}
	if (nt > r->nsweep)
		nt = r->nsweep ? r->nsweep : 1;
	for (size_t t = 0; t < nt; t++)
		jobs[t] = (sweep_job){ r, m, t, nt, krc, kerr };
	jos_run_parallel(jobs, sizeof *jobs, (int)nt, sweep_values);
	for (size_t k = 0; k < r->nsweep; k++)
		if (krc[k] != JOS_OK) {
			*err = kerr[k];
			rc = krc[k];
			break;
		}
done:
	free(krc);
	free(kerr);
	return rc;
}

int scn_run(scn_result **out, const jos_dataset *ds, const scn_scenario *sc, jos_err *err)
{
	return scn_run_mt(out, ds, sc, 1, err);
}

int scn_run_mt(scn_result **out, const jos_dataset *ds, const scn_scenario *sc, int nthreads,
	       jos_err *err)
{
	eng_measures *m = NULL;
	eng_key_result *kr = NULL;
	scn_result *r = NULL;
	jos_key ref;
	bool ref_init = false;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	r->ds = ds;
	r->sc = sc;
	rc = eng_measures_build_mt(&m, ds, nthreads, err);
	if (rc != JOS_OK)
		goto done;
	r->period_days = m->period_days;

	/* covered municipalities, in code order */
	r->munis = malloc((ds->nmunis + 1) * sizeof *r->munis);
	r->pupils = malloc((ds->nmunis + 1) * sizeof *r->pupils);
	r->pupil_days = malloc((ds->nmunis + 1) * sizeof *r->pupil_days);
	if (!r->munis || !r->pupils || !r->pupil_days)
		goto oom;
	for (size_t mi = 0; mi < ds->nmunis; mi++) {
		if (ds->munis[mi].in_region || m->muni_pupils[mi] <= 0)
			continue;
		if (sc->apply_to == SCN_APPLY_AGREEMENTS &&
		    (!ds->muni_agreement || ds->muni_agreement[mi] < 0))
			continue;
		r->munis[r->nmunis] = (uint16_t)mi;
		r->pupils[r->nmunis] = m->muni_pupils[mi];
		r->pupil_days[r->nmunis] = m->muni_pupil_days[mi];
		r->nmunis++;
	}

	/* the share's denominator: unit-weight prorata shares of the covered municipalities */
	rc = key_init(&ref, "share-reference");
	if (rc != JOS_OK)
		goto done;
	ref_init = true;
	ref.has_method = true;
	ref.method = KEY_PRORATA;
	rc = eng_key_apply(&kr, ds, m, &ref, err);
	if (rc != JOS_OK)
		goto done;
	for (size_t i = 0; i < r->nmunis; i++) {
		if (jos_add64(&r->outside_cost, r->outside_cost, kr->muni_gross[r->munis[i]])) {
			rc = jos_err_set(err, JOS_EOVERFLOW, NULL, 0,
					 "outside cost exceeds the range of amounts");
			goto done;
		}
	}
	eng_key_result_free(kr);
	kr = NULL;

	/* the variants */
	r->cells = calloc(sc->nvariants * r->nmunis + 1, sizeof *r->cells);
	r->totals = calloc(sc->nvariants + 1, sizeof *r->totals);
	if (!r->cells || !r->totals)
		goto oom;
	for (size_t v = 0; v < sc->nvariants; v++) {
		rc = eng_key_apply(&kr, ds, m, &sc->variants[v].key, err);
		if (rc != JOS_OK)
			goto done;
		for (size_t i = 0; i < r->nmunis; i++) {
			scn_cell *c = &r->cells[v * r->nmunis + i];
			uint16_t mi = r->munis[i];
			c->gross = kr->muni_gross[mi];
			c->net = kr->muni_net[mi];
			c->status = kr->muni_status[mi];
		}
		rc = totals_of(&r->totals[v], r, kr, err);
		eng_key_result_free(kr);
		kr = NULL;
		if (rc != JOS_OK)
			goto done;
	}
	for (size_t v = 0; v < sc->nvariants; v++) {
		for (size_t i = 0; i < r->nmunis; i++) {
			scn_cell *c = &r->cells[v * r->nmunis + i];
			const scn_cell *b = &r->cells[(size_t)sc->baseline * r->nmunis + i];
			c->delta = c->net - b->net; /* both within [0, sum C(s)]: no overflow */
		}
	}

	/* the sweep: the same measures again, one key per value */
	if (sc->has_sweep && sc->sweep.keys) {
		r->nsweep = sc->sweep.nvalues;
		r->sweep_totals = calloc(r->nsweep + 1, sizeof *r->sweep_totals);
		if (!r->sweep_totals)
			goto oom;
		if ((rc = run_sweep(r, m, nthreads, err)) != JOS_OK)
			goto done;
	}
	rc = JOS_OK;
	goto done;
oom:
	rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
done:
	if (ref_init)
		key_free(&ref);
	eng_key_result_free(kr);
	eng_measures_free(m);
	if (rc == JOS_OK)
		*out = r;
	else
		scn_result_free(r);
	return rc;
}

void scn_result_free(scn_result *r)
{
	if (!r)
		return;
	free(r->munis);
	free(r->pupils);
	free(r->pupil_days);
	free(r->cells);
	free(r->totals);
	free(r->sweep_totals);
	free(r);
}

char *scn_share_format(char *buf, jos_cents recovered, jos_cents outside_cost)
{
	if (outside_cost <= 0) {
		buf[0] = '\0';
		return buf;
	}
	return jos_ratio_format(buf, (jos_i128)recovered * 100, outside_cost, 2);
}

char *scn_pupil_years_format(char *buf, int64_t pupil_days, int64_t period_days)
{
	if (period_days <= 0) {
		buf[0] = '\0';
		return buf;
	}
	return jos_ratio_format(buf, pupil_days, period_days, 4);
}
