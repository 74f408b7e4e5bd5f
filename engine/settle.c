/*
 * settle.c: the settlement: the measures once, the default key and every agreed key
 * over every municipality, one row per municipality with pupils counted by the
 * measure (SPEC "Output", "Edge rules"), and the invariants checked before anything
 * is written, the way a ledger refuses a transaction that does not balance:
 *   - under each prorata key the shares of each apportioned school sum to C(s)
 *     (for a school whose outside shares min_school_share zeroed: the inside shares
 *     plus the zeroed ones are at most C(s));
 *   - each statement's gross shares sum to its Gross and its amounts to its Net;
 *   - the summary's net total equals the statements' total.
 * A violation is JOS_EINTERNAL: a bug, never a silently wrong statement.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

const char *eng_status_name(jos_status s)
{
	switch (s) {
	case JOS_STATUS_IN_REGION:
		return "in_region";
	case JOS_STATUS_INVOICED:
		return "invoiced";
	case JOS_STATUS_CAPPED:
		return "capped";
	case JOS_STATUS_BELOW_THRESHOLD:
		return "below_threshold";
	case JOS_STATUS_NO_AGREEMENT:
		return "no_agreement";
	}
	return "?";
}

void eng_settlement_free(eng_settlement *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->results && i < s->nresults; i++)
		eng_key_result_free(s->results[i]);
	free(s->results);
	eng_measures_free(s->measures);
	free(s->rows);
	free(s);
}

int eng_row_lines(eng_line **out, size_t *n, const jos_dataset *ds, const eng_settlement *s,
		  const eng_row *r)
{
	const eng_measures *m = s->measures;
	const eng_key_result *res = r->key >= 0 && (size_t)r->key < s->nresults
					    ? s->results[r->key] : NULL;
	uint32_t f = m->muni_first[r->muni], l = m->muni_first[r->muni + 1];
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!res)
		return JOS_EINTERNAL;
	eng_line *lines = malloc((l - f ? l - f : 1) * sizeof *lines);
	if (!lines)
		return JOS_ENOMEM;
	for (uint32_t j = f; j < l; j++) {
		uint32_t c = m->by_muni[j];
		const eng_cell *cell = &m->cells[c];
		const jos_school *sc = &ds->schools[cell->school];
		if (cell->pupils < 1)
			continue;   /* headcount: no pupil on count_date at this school */
		eng_line *ln = &lines[k++];
		ln->school = cell->school;
		ln->pupils = cell->pupils;
		ln->pupil_days = cell->pupil_days;
		ln->school_net_cost = sc->budget - sc->cofinancing;
		ln->gross = res->gross[c];
		/* only a statement charges anything; other rows show net 0 */
		ln->amount = r->statement ? res->amount[c] : 0;
	}
	*out = lines;
	*n = k;
	return JOS_OK;
}

static int internal(jos_err *err, const char *fmt, const char *a, const char *b)
{
	return jos_err_set(err, JOS_EINTERNAL, NULL, 0, fmt, a, b);
}

/* Prorata: the shares of each apportioned school sum to C(s). */
static int check_prorata(const jos_dataset *ds, const eng_measures *m, const eng_key_result *r,
			 jos_err *err)
{
	for (size_t s = 0; s < ds->nschools; s++) {
		const jos_school *sc = &ds->schools[s];
		jos_cents sum = 0, c = sc->budget - sc->cofinancing;
		if (r->school_unapportioned[s])
			continue;
		for (uint32_t i = m->school_first[s]; i < m->school_first[s + 1]; i++)
			if (jos_add64(&sum, sum, r->gross[i]))
				return internal(err, "prorata shares of school %s overflow under key "
						     "'%s'", sc->id, r->key->id);
		if (r->school_outside_zeroed[s] ? sum > c : sum != c)
			return internal(err, "prorata shares of school %s do not sum to its net "
					     "cost under key '%s'", sc->id, r->key->id);
	}
	return JOS_OK;
}

/* One key over every municipality, for a thread. */
typedef struct {
	const jos_dataset *ds;
	const eng_measures *m;
	eng_key_result **res;
	const bool *used;
	size_t first, step;   /* keys first, first + step, ... */
	int *rc;              /* per key */
	jos_err *err;         /* per key */
} apply_job;

static void *apply_keys(void *arg)
{
	apply_job *jb = arg;
	for (size_t k = jb->first; k < jb->ds->nkeys; k += jb->step)
		if (jb->used[k])
			jb->rc[k] = eng_key_apply(&jb->res[k], jb->ds, jb->m, &jb->ds->keys[k],
						  &jb->err[k]);
	return NULL;
}

int eng_settle(eng_settlement **out, const jos_dataset *ds, jos_errlist *warnings, jos_err *err)
{
	return eng_settle_mt(out, ds, warnings, 1, err);
}

int eng_settle_mt(eng_settlement **out, const jos_dataset *ds, jos_errlist *warnings,
		  int nthreads, jos_err *err)
{
	eng_settlement *st = NULL;
	bool *used = NULL;
	eng_line *lines = NULL;
	int rc = JOS_OK, dk, *krc = NULL;
	jos_err *kerr = NULL;

	*out = NULL;
	dk = ds->set.default_key_idx;
	if (dk < 0 && ds->set.default_key)
		dk = eng_key_find(ds, ds->set.default_key);
	if (dk < 0 || (size_t)dk >= ds->nkeys)
		return jos_err_set(err, JOS_EINVALID, "settlement.ini", ds->set.line_default_key,
				   "default_key '%s' is not a [key] of settlement.ini",
				   ds->set.default_key ? ds->set.default_key : "");
	if (!(st = calloc(1, sizeof *st)) ||
	    !(st->results = calloc(ds->nkeys, sizeof *st->results)) ||
	    !(used = calloc(ds->nkeys, sizeof *used)) ||
	    !(krc = calloc(ds->nkeys, sizeof *krc)) || !(kerr = calloc(ds->nkeys, sizeof *kerr)) ||
	    !(st->rows = calloc(ds->nmunis ? ds->nmunis : 1, sizeof *st->rows))) {
		rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory settling");
		goto done;
	}
	st->nresults = ds->nkeys;
	if ((rc = eng_measures_build_mt(&st->measures, ds, nthreads, err)) != JOS_OK)
		goto done;
	const eng_measures *m = st->measures;

	/* the keys to apply: the default key and every agreed key */
	used[dk] = true;
	for (size_t a = 0; a < ds->nagreements; a++) {
		int k = ds->agreements[a].key;
		if (k < 0 || (size_t)k >= ds->nkeys) {
			rc = jos_err_set(err, JOS_EINVALID, "agreements.csv", ds->agreements[a].line,
					 "agreement names unknown key '%s'",
					 ds->agreements[a].key_id ? ds->agreements[a].key_id : "");
			goto done;
		}
		used[k] = true;
	}
	/* the keys are independent: key k on thread k mod nthreads; errors by key order */
	{
		apply_job jobs[ENG_MAX_THREADS];
		size_t nt = nthreads < 1 ? 1 : nthreads > ENG_MAX_THREADS ? ENG_MAX_THREADS
									   : (size_t)nthreads;
		if (nt > ds->nkeys)
			nt = ds->nkeys ? ds->nkeys : 1;
		for (size_t t = 0; t < nt; t++)
			jobs[t] = (apply_job){ ds, m, st->results, used, t, nt, krc, kerr };
		jos_run_parallel(jobs, sizeof *jobs, (int)nt, apply_keys);
	}
	for (size_t k = 0; k < ds->nkeys; k++) {
		if (!used[k])
			continue;
		if ((rc = krc[k]) != JOS_OK) {
			*err = kerr[k];
			goto done;
		}
		const eng_key_result *r = st->results[k];
		if (warnings && ds->keys[k].method != KEY_TARIFF)
			for (size_t s = 0; s < ds->nschools; s++)
				if (r->school_unapportioned[s])
					jos_errlist_add(warnings, JOS_SEV_WARNING, "schools.csv",
							ds->schools[s].line,
							"school %s has no pupils in the measure: key "
							"'%s' apportions none of its cost",
							ds->schools[s].id, ds->keys[k].id);
		if (ds->keys[k].method == KEY_PRORATA && (rc = check_prorata(ds, m, r, err)) != JOS_OK)
			goto done;
	}

	/* rows: municipalities with pupils counted by the measure, by code */
	jos_cents total_net = 0, total_lines = 0;
	for (size_t mu = 0; mu < ds->nmunis; mu++) {
		if (m->muni_pupils[mu] <= 0)
			continue;
		eng_row *row = &st->rows[st->nrows++];
		int ag = ds->muni_agreement ? ds->muni_agreement[mu] : -1;
		row->muni = (uint16_t)mu;
		row->pupils = m->muni_pupils[mu];
		row->pupil_days = m->muni_pupil_days[mu];
		if (ds->munis[mu].in_region || ag < 0) {
			row->key = dk;
			row->status = ds->munis[mu].in_region ? JOS_STATUS_IN_REGION
							      : JOS_STATUS_NO_AGREEMENT;
			row->gross = st->results[dk]->muni_gross[mu];
			row->net = 0;
			row->statement = false;
		} else {
			const eng_key_result *r = st->results[ds->agreements[ag].key];
			row->key = ds->agreements[ag].key;
			row->status = r->muni_status[mu];
			row->gross = r->muni_gross[mu];
			row->net = r->muni_net[mu];
			row->statement = true;
		}
		/* the statement's lines: gross shares sum to Gross, amounts to Net */
		size_t nl;
		jos_cents sg = 0, sa = 0;
		if ((rc = eng_row_lines(&lines, &nl, ds, st, row)) != JOS_OK) {
			rc = jos_err_set(err, rc, NULL, 0, "could not list the lines of %s",
					 ds->munis[mu].code);
			goto done;
		}
		for (size_t i = 0; i < nl; i++)
			if (jos_add64(&sg, sg, lines[i].gross) || jos_add64(&sa, sa, lines[i].amount)) {
				rc = internal(err, "line totals of %s overflow%s", ds->munis[mu].code, "");
				goto done;
			}
		free(lines);
		lines = NULL;
		if (sg != row->gross || sa != row->net) {
			rc = internal(err, "the lines of municipality %s do not sum to its totals%s",
				      ds->munis[mu].code, "");
			goto done;
		}
		if (jos_add64(&total_net, total_net, row->net) ||
		    (row->statement && jos_add64(&total_lines, total_lines, sa))) {
			rc = jos_err_set(err, JOS_EOVERFLOW, NULL, 0, "the net total overflows");
			goto done;
		}
	}
	if (total_net != total_lines) {
		rc = internal(err, "the summary's net total differs from the statements' total%s%s",
			      "", "");
		goto done;
	}
done:
	free(lines);
	free(used);
	free(krc);
	free(kerr);
	if (rc != JOS_OK)
		eng_settlement_free(st);
	else
		*out = st;
	return rc;
}
