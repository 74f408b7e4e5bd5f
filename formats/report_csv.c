/*
 * report_csv.c: the scenario report as one tidy CSV table (SPEC "Scenarios").
 *
 * One row per (variant, covered municipality); then per variant a row with
 * municipality_code = TOTAL (its totals over the covered municipalities); then per
 * sweep value a row with municipality_code = SWEEP and the swept parameter and value.
 * Columns that do not apply to a row are empty. LF, no BOM, minimal RFC 4180 quoting,
 * amounts 1234.56, the share as a percentage with 2 decimals (half-up) without '%'.
 */
#include "formats/report_int.h"

#include <string.h>

#define HEADER                                                                              \
	"variant,label,municipality_code,municipality_name,pupils,pupil_years,gross,net,"   \
	"status,delta_vs_baseline,outside_cost,share_recovered_pct,paying,largest,"        \
	"largest_code,sweep_parameter,sweep_value\n"

static void put_totals(fmt_rbuf *b, const scn_result *r, const scn_totals *t,
		       const scn_totals *base)
{
	char num[JOS_FMT_BUF];
	fmt_rb_fmt(b, "%s,", jos_cents_format(num, t->gross));
	fmt_rb_fmt(b, "%s,,", jos_cents_format(num, t->recovered));
	fmt_rb_fmt(b, "%s,", jos_cents_format(num, t->recovered - base->recovered));
	fmt_rb_fmt(b, "%s,", jos_cents_format(num, r->outside_cost));
	fmt_rb_fmt(b, "%s,", scn_share_format(num, t->recovered, r->outside_cost));
	fmt_rb_fmt(b, "%zu,", t->paying);
	fmt_rb_fmt(b, "%s,", jos_cents_format(num, t->largest));
	fmt_rb_str(b, t->largest_muni >= 0 ? r->ds->munis[t->largest_muni].code : "");
}

int fmt_report_csv(char **out, size_t *outlen, const scn_result *r, jos_err *err)
{
	fmt_rbuf b = { 0 };
	char num[JOS_FMT_BUF];
	const scn_scenario *sc = r->sc;
	const scn_totals *base = &r->totals[sc->baseline];

	*out = NULL;
	fmt_rb_str(&b, HEADER);
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_variant *var = &sc->variants[v];
		for (size_t i = 0; i < r->nmunis; i++) {
			const jos_muni *m = &r->ds->munis[r->munis[i]];
			const scn_cell *c = scn_result_cell(r, v, i);
			fmt_rb_csv(&b, var->id);
			fmt_rb_str(&b, ",");
			fmt_rb_csv(&b, var->label);
			fmt_rb_fmt(&b, ",%s,", m->code);
			fmt_rb_csv(&b, m->name);
			fmt_rb_fmt(&b, ",%lld,", (long long)r->pupils[i]);
			fmt_rb_fmt(&b, "%s,", scn_pupil_years_format(num, r->pupil_days[i], r->period_days));
			fmt_rb_fmt(&b, "%s,", jos_cents_format(num, c->gross));
			fmt_rb_fmt(&b, "%s,", jos_cents_format(num, c->net));
			fmt_rb_fmt(&b, "%s,", eng_status_name(c->status));
			fmt_rb_fmt(&b, "%s,,,,,,,\n", jos_cents_format(num, c->delta));
		}
	}
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_variant *var = &sc->variants[v];
		fmt_rb_csv(&b, var->id);
		fmt_rb_str(&b, ",");
		fmt_rb_csv(&b, var->label);
		fmt_rb_fmt(&b, ",TOTAL,,%lld,", (long long)fmt_report_sum_pupils(r));
		fmt_rb_fmt(&b, "%s,", scn_pupil_years_format(num, fmt_report_sum_pupil_days(r),
							     r->period_days));
		put_totals(&b, r, &r->totals[v], base);
		fmt_rb_str(&b, ",,\n");
	}
	for (size_t k = 0; k < r->nsweep; k++) {
		const scn_variant *var = &sc->variants[sc->sweep.variant];
		fmt_rb_csv(&b, var->id);
		fmt_rb_str(&b, ",");
		fmt_rb_csv(&b, var->label);
		fmt_rb_fmt(&b, ",SWEEP,,%lld,", (long long)fmt_report_sum_pupils(r));
		fmt_rb_fmt(&b, "%s,", scn_pupil_years_format(num, fmt_report_sum_pupil_days(r),
							     r->period_days));
		put_totals(&b, r, &r->sweep_totals[k], base);
		fmt_rb_str(&b, ",");
		fmt_rb_csv(&b, sc->sweep.parameter);
		fmt_rb_str(&b, ",");
		fmt_rb_csv(&b, sc->sweep.values[k]);
		fmt_rb_str(&b, "\n");
	}
	return fmt_rb_finish(&b, out, outlen, err);
}
