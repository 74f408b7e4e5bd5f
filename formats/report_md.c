/*
 * report_md.c: the scenario report as Markdown tables a negotiator pastes into a memo
 * (SPEC "Scenarios"): the variants with their totals, the net amount per municipality
 * and variant with the difference against the baseline, the detail per variant
 * (gross, net, status), and the sweep. Amounts are in euros, written 1234.56 exactly;
 * shares are percentages with 2 decimals, half-up.
 */
#include "formats/report_int.h"

#include <string.h>

static void variant_name(fmt_rbuf *b, const scn_variant *v)
{
	fmt_rb_md(b, v->id);
	if (v->label[0]) {
		fmt_rb_str(b, " (");
		fmt_rb_md(b, v->label);
		fmt_rb_str(b, ")");
	}
}

static void totals_cells(fmt_rbuf *b, const scn_result *r, const scn_totals *t,
			 const scn_totals *base)
{
	char num[JOS_FMT_BUF], who[320];
	fmt_rb_fmt(b, " %s |", jos_cents_format(num, t->recovered));
	fmt_rb_fmt(b, " %s |", jos_cents_format(num, t->recovered - base->recovered));
	scn_share_format(num, t->recovered, r->outside_cost);
	fmt_rb_fmt(b, " %s%s |", num[0] ? num : "n/a", num[0] ? " %" : "");
	fmt_rb_fmt(b, " %zu |", t->paying);
	fmt_rb_fmt(b, " %s | ", jos_cents_format(num, t->largest));
	fmt_rb_md(b, t->largest_muni >= 0 ? fmt_report_payer(who, sizeof who, r, t) : "nobody");
	fmt_rb_str(b, " |\n");
}

int fmt_report_md(char **out, size_t *outlen, const scn_result *r, jos_err *err)
{
	fmt_rbuf b = { 0 };
	char num[JOS_FMT_BUF], d1[16], d2[16];
	const scn_scenario *sc = r->sc;
	const jos_dataset *ds = r->ds;
	const scn_variant *basev = &sc->variants[sc->baseline];
	const scn_totals *base = &r->totals[sc->baseline];

	*out = NULL;
	fmt_rb_str(&b, "# ");
	fmt_rb_md(&b, sc->name);
	fmt_rb_str(&b, "\n\n");
	jos_day_format(d1, ds->set.period_start);
	jos_day_format(d2, ds->set.period_end);
	fmt_rb_str(&b, "- Data: ");
	fmt_rb_md(&b, ds->set.name ? ds->set.name : "");
	fmt_rb_fmt(&b, ", period %s to %s, measure %s\n", d1, d2,
		   ds->set.measure == JOS_MEASURE_HEADCOUNT ? "headcount" : "days");
	fmt_rb_fmt(&b, "- Municipalities: %s (%zu)\n", fmt_report_apply_text(sc->apply_to),
		   r->nmunis);
	fmt_rb_str(&b, "- Baseline: ");
	variant_name(&b, basev);
	fmt_rb_str(&b, "\n");
	fmt_rb_fmt(&b, "- Outside pupils' cost: %s EUR (their prorata share of the schools' "
		   "net cost, unit weights); the share recovered is the total recovered "
		   "divided by it\n", jos_cents_format(num, r->outside_cost));
	fmt_rb_str(&b, "- Amounts in EUR\n\n");

	/* variants */
	fmt_rb_str(&b, "## Variants\n\n| Variant | Key | Recovered | vs baseline | Share of "
		       "outside cost | Paying | Largest amount | Largest payer |\n"
		       "|---|---|--:|--:|--:|--:|--:|---|\n");
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_variant *var = &sc->variants[v];
		fmt_rb_str(&b, "| ");
		variant_name(&b, var);
		fmt_rb_fmt(&b, " | %s", key_method_name(var->key.method));
		if (var->base_key) {
			fmt_rb_str(&b, " from ");
			fmt_rb_md(&b, var->base_key);
		}
		fmt_rb_str(&b, " |");
		totals_cells(&b, r, &r->totals[v], base);
	}

	/* net per municipality and variant */
	fmt_rb_str(&b, "\n## Net amount per municipality\n\n| Code | Municipality | Pupils | "
		       "Pupil-years |");
	for (size_t v = 0; v < sc->nvariants; v++) {
		fmt_rb_str(&b, " ");
		fmt_rb_md(&b, sc->variants[v].id);
		fmt_rb_str(&b, " net |");
		if ((int)v != sc->baseline) {
			fmt_rb_str(&b, " ");
			fmt_rb_md(&b, sc->variants[v].id);
			fmt_rb_str(&b, " vs ");
			fmt_rb_md(&b, basev->id);
			fmt_rb_str(&b, " |");
		}
	}
	fmt_rb_str(&b, "\n|---|---|--:|--:|");
	for (size_t v = 0; v < sc->nvariants; v++)
		fmt_rb_str(&b, (int)v != sc->baseline ? "--:|--:|" : "--:|");
	fmt_rb_str(&b, "\n");
	for (size_t i = 0; i < r->nmunis; i++) {
		const jos_muni *m = &ds->munis[r->munis[i]];
		fmt_rb_fmt(&b, "| %s | ", m->code);
		fmt_rb_md(&b, m->name);
		fmt_rb_fmt(&b, " | %lld | %s |", (long long)r->pupils[i],
			   scn_pupil_years_format(num, r->pupil_days[i], r->period_days));
		for (size_t v = 0; v < sc->nvariants; v++) {
			const scn_cell *c = scn_result_cell(r, v, i);
			fmt_rb_fmt(&b, " %s |", jos_cents_format(num, c->net));
			if ((int)v != sc->baseline)
				fmt_rb_fmt(&b, " %s |", jos_cents_format(num, c->delta));
		}
		fmt_rb_str(&b, "\n");
	}
	fmt_rb_fmt(&b, "| | **Total** | %lld | %s |", (long long)fmt_report_sum_pupils(r),
		   scn_pupil_years_format(num, fmt_report_sum_pupil_days(r), r->period_days));
	for (size_t v = 0; v < sc->nvariants; v++) {
		fmt_rb_fmt(&b, " **%s** |", jos_cents_format(num, r->totals[v].recovered));
		if ((int)v != sc->baseline)
			fmt_rb_fmt(&b, " **%s** |",
				   jos_cents_format(num, r->totals[v].recovered - base->recovered));
	}
	fmt_rb_str(&b, "\n");

	/* detail per variant */
	fmt_rb_str(&b, "\n## Detail per variant\n\n| Variant | Code | Municipality | Gross | Net "
		       "| Status | vs baseline |\n|---|---|---|--:|--:|---|--:|\n");
	for (size_t v = 0; v < sc->nvariants; v++) {
		for (size_t i = 0; i < r->nmunis; i++) {
			const jos_muni *m = &ds->munis[r->munis[i]];
			const scn_cell *c = scn_result_cell(r, v, i);
			fmt_rb_str(&b, "| ");
			fmt_rb_md(&b, sc->variants[v].id);
			fmt_rb_fmt(&b, " | %s | ", m->code);
			fmt_rb_md(&b, m->name);
			fmt_rb_fmt(&b, " | %s |", jos_cents_format(num, c->gross));
			fmt_rb_fmt(&b, " %s |", jos_cents_format(num, c->net));
			fmt_rb_fmt(&b, " %s |", eng_status_name(c->status));
			fmt_rb_fmt(&b, " %s |\n", jos_cents_format(num, c->delta));
		}
	}

	/* sweep */
	if (r->nsweep) {
		const scn_variant *var = &sc->variants[sc->sweep.variant];
		fmt_rb_str(&b, "\n## Sweep: ");
		fmt_rb_md(&b, sc->sweep.parameter);
		fmt_rb_str(&b, " of variant ");
		variant_name(&b, var);
		fmt_rb_str(&b, "\n\n| ");
		fmt_rb_md(&b, sc->sweep.parameter);
		fmt_rb_str(&b, " | Recovered | vs baseline | Share of outside cost | Paying | "
			       "Largest amount | Largest payer |\n|--:|--:|--:|--:|--:|--:|---|\n");
		for (size_t k = 0; k < r->nsweep; k++) {
			fmt_rb_str(&b, "| ");
			fmt_rb_md(&b, sc->sweep.values[k][0] ? sc->sweep.values[k] : "(none)");
			fmt_rb_str(&b, " |");
			totals_cells(&b, r, &r->sweep_totals[k], base);
		}
	}
	return fmt_rb_finish(&b, out, outlen, err);
}
