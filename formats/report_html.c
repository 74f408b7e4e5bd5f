/*
 * report_html.c: the scenario report as ONE self-contained HTML file (SPEC
 * "Scenarios"): the tables of the Markdown report plus charts drawn as inline SVG:
 * net amount per municipality and variant (grouped bars), total recovered and share
 * per variant (bars against the outside pupils' cost), and for a sweep the total
 * recovered as a line over the swept values.
 *
 * Self-contained: no scripts, no external style sheets, fonts or images, no URLs at
 * all (inline SVG inside HTML needs no xmlns). Every text from the inputs is escaped.
 * The document is well-formed XML as well as HTML (every element closed), so both
 * HTML parsers and XML tools read it. Bar lengths are integer pixels computed from
 * cents with integer arithmetic; the figures printed are the exact amounts.
 */
#include "formats/report_int.h"

#include <string.h>

static const char *const palette[] = { "#1f6fb2", "#e07b00", "#2a9d4b", "#c0392b",
				       "#7d4fb0", "#8c6d31", "#d6609f", "#5f6b6d" };
#define NPALETTE (sizeof palette / sizeof palette[0])

/* v scaled to [0, px] against max (> 0), integer pixels. */
static long scale(jos_cents v, jos_cents max, long px)
{
	if (max <= 0 || v <= 0)
		return 0;
	return (long)((jos_i128)v * px / max);
}

static void variant_name(fmt_rbuf *b, const scn_variant *v)
{
	fmt_rb_html(b, v->id);
	if (v->label[0]) {
		fmt_rb_str(b, " (");
		fmt_rb_html(b, v->label);
		fmt_rb_str(b, ")");
	}
}

static void share_text(fmt_rbuf *b, const scn_result *r, jos_cents rec)
{
	char num[JOS_FMT_BUF];
	scn_share_format(num, rec, r->outside_cost);
	fmt_rb_str(b, num[0] ? num : "n/a");
	if (num[0])
		fmt_rb_str(b, " %");
}

static void totals_cells(fmt_rbuf *b, const scn_result *r, const scn_totals *t,
			 const scn_totals *base)
{
	char num[JOS_FMT_BUF], who[320];
	fmt_rb_fmt(b, "<td class=\"n\">%s</td>", jos_cents_format(num, t->recovered));
	fmt_rb_fmt(b, "<td class=\"n\">%s</td>", jos_cents_format(num, t->recovered - base->recovered));
	fmt_rb_str(b, "<td class=\"n\">");
	share_text(b, r, t->recovered);
	fmt_rb_fmt(b, "</td><td class=\"n\">%zu</td>", t->paying);
	fmt_rb_fmt(b, "<td class=\"n\">%s</td><td>", jos_cents_format(num, t->largest));
	fmt_rb_html(b, t->largest_muni >= 0 ? fmt_report_payer(who, sizeof who, r, t) : "nobody");
	fmt_rb_str(b, "</td></tr>\n");
}

static void legend(fmt_rbuf *b, const scn_scenario *sc, long x, long y)
{
	for (size_t v = 0; v < sc->nvariants; v++) {
		long yy = y + (long)v * 18;
		fmt_rb_fmt(b, "<rect x=\"%ld\" y=\"%ld\" width=\"12\" height=\"12\" fill=\"%s\"/>",
			   x, yy, palette[v % NPALETTE]);
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\">", x + 16, yy + 10);
		variant_name(b, &sc->variants[v]);
		fmt_rb_str(b, "</text>\n");
	}
}

/* A y axis from 0 to max with 5 ticks labelled with exact amounts. */
static void axis(fmt_rbuf *b, jos_cents max, long x0, long top, long h, long x1)
{
	char num[JOS_FMT_BUF];
	for (int t = 0; t <= 4; t++) {
		jos_cents v = (jos_cents)((jos_i128)max * t / 4);
		long y = top + h - scale(v, max, h);
		fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"grid\"/>",
			   x0, y, x1, y);
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"end\">%s</text>\n", x0 - 4,
			   y + 4, jos_cents_format(num, v));
	}
}

static void chart_munis(fmt_rbuf *b, const scn_result *r)
{
	const scn_scenario *sc = r->sc;
	char num[JOS_FMT_BUF];
	jos_cents max = 0;
	for (size_t v = 0; v < sc->nvariants; v++)
		for (size_t i = 0; i < r->nmunis; i++)
			if (scn_result_cell(r, v, i)->net > max)
				max = scn_result_cell(r, v, i)->net;
	const long left = 90, top = 20, h = 240, barw = 14, gap = 18;
	long groupw = (long)sc->nvariants * barw + gap;
	long plotw = (long)r->nmunis * groupw + gap;
	long width = left + plotw + 20;
	if (width < 720)
		width = 720;
	/* the legend goes under the axis, one line per variant: long labels fit */
	long legy = top + h + 32;
	long height = legy + (long)sc->nvariants * 18 + 10;
	fmt_rb_fmt(b, "<svg width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" role=\"img\" "
		   "aria-label=\"Net amount per municipality and variant\">\n",
		   width, height, width, height);
	axis(b, max, left, top, h, left + plotw);
	for (size_t i = 0; i < r->nmunis; i++) {
		const jos_muni *m = &r->ds->munis[r->munis[i]];
		long gx = left + gap + (long)i * groupw;
		for (size_t v = 0; v < sc->nvariants; v++) {
			const scn_cell *c = scn_result_cell(r, v, i);
			long bh = scale(c->net, max, h);
			fmt_rb_fmt(b, "<rect x=\"%ld\" y=\"%ld\" width=\"%ld\" height=\"%ld\" fill=\"%s\">",
				   gx + (long)v * barw, top + h - bh, barw - 2, bh, palette[v % NPALETTE]);
			fmt_rb_str(b, "<title>");
			fmt_rb_html(b, m->code);
			fmt_rb_str(b, " ");
			fmt_rb_html(b, m->name);
			fmt_rb_str(b, ", ");
			fmt_rb_html(b, sc->variants[v].id);
			fmt_rb_fmt(b, ": %s</title></rect>\n", jos_cents_format(num, c->net));
		}
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">%s</text>\n",
			   gx + (long)sc->nvariants * barw / 2, top + h + 16, m->code);
	}
	fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"axis\"/>\n", left,
		   top + h, left + plotw, top + h);
	legend(b, sc, left, legy);
	fmt_rb_str(b, "</svg>\n");
}

static void chart_variants(fmt_rbuf *b, const scn_result *r)
{
	const scn_scenario *sc = r->sc;
	char num[JOS_FMT_BUF];
	jos_cents max = r->outside_cost;
	for (size_t v = 0; v < sc->nvariants; v++)
		if (r->totals[v].recovered > max)
			max = r->totals[v].recovered;
	const long left = 90, top = 40, h = 220, barw = 60, gap = 40;
	long plotw = (long)sc->nvariants * (barw + gap) + gap;
	long width = left + plotw + 40, height = top + h + 60;
	if (width < 420)
		width = 420;
	fmt_rb_fmt(b, "<svg width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" role=\"img\" "
		   "aria-label=\"Total recovered and share per variant\">\n",
		   width, height, width, height);
	axis(b, max, left, top, h, left + plotw);
	if (r->outside_cost > 0) {
		long y = top + h - scale(r->outside_cost, max, h);
		fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"ref\"/>",
			   left, y, left + plotw, y);
		/* its key under the axis, so it never runs into the bars' labels */
		fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"ref\"/>",
			   left, top + h + 40, left + 24, top + h + 40);
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\">outside pupils' cost %s (100 %%)</text>\n",
			   left + 30, top + h + 44, jos_cents_format(num, r->outside_cost));
	}
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_totals *t = &r->totals[v];
		long x = left + gap + (long)v * (barw + gap);
		long bh = scale(t->recovered, max, h);
		fmt_rb_fmt(b, "<rect x=\"%ld\" y=\"%ld\" width=\"%ld\" height=\"%ld\" fill=\"%s\">"
			   "<title>", x, top + h - bh, barw, bh, palette[v % NPALETTE]);
		variant_name(b, &sc->variants[v]);
		fmt_rb_fmt(b, ": %s</title></rect>\n", jos_cents_format(num, t->recovered));
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">%s</text>", x + barw / 2,
			   top + h - bh - 16, jos_cents_format(num, t->recovered));
		fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">", x + barw / 2,
			   top + h - bh - 4);
		share_text(b, r, t->recovered);
		fmt_rb_fmt(b, "</text><text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">", x + barw / 2,
			   top + h + 16);
		fmt_rb_html(b, sc->variants[v].id);
		fmt_rb_str(b, "</text>\n");
	}
	fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"axis\"/>\n", left,
		   top + h, left + plotw, top + h);
	fmt_rb_str(b, "</svg>\n");
}

static void chart_sweep(fmt_rbuf *b, const scn_result *r)
{
	const scn_scenario *sc = r->sc;
	char num[JOS_FMT_BUF];
	jos_cents max = r->outside_cost;
	for (size_t k = 0; k < r->nsweep; k++)
		if (r->sweep_totals[k].recovered > max)
			max = r->sweep_totals[k].recovered;
	const long left = 90, top = 20, h = 220;
	long step = r->nsweep > 30 ? 12 : 50;
	long plotw = (long)r->nsweep * step + step;
	long width = left + plotw + 40, height = top + h + 70;
	fmt_rb_fmt(b, "<svg width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" role=\"img\" "
		   "aria-label=\"Total recovered per swept value\">\n", width, height, width, height);
	axis(b, max, left, top, h, left + plotw);
	fmt_rb_fmt(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
		   palette[(size_t)sc->sweep.variant % NPALETTE]);
	for (size_t k = 0; k < r->nsweep; k++)
		fmt_rb_fmt(b, "%s%ld,%ld", k ? " " : "", left + step + (long)k * step,
			   top + h - scale(r->sweep_totals[k].recovered, max, h));
	fmt_rb_str(b, "\"/>\n");
	for (size_t k = 0; k < r->nsweep; k++) {
		long x = left + step + (long)k * step;
		long y = top + h - scale(r->sweep_totals[k].recovered, max, h);
		fmt_rb_fmt(b, "<circle cx=\"%ld\" cy=\"%ld\" r=\"3\" fill=\"%s\"><title>", x, y,
			   palette[(size_t)sc->sweep.variant % NPALETTE]);
		fmt_rb_html(b, sc->sweep.parameter);
		fmt_rb_str(b, " = ");
		fmt_rb_html(b, sc->sweep.values[k]);
		fmt_rb_fmt(b, ": %s (", jos_cents_format(num, r->sweep_totals[k].recovered));
		share_text(b, r, r->sweep_totals[k].recovered);
		fmt_rb_str(b, ")</title></circle>\n");
		if (r->nsweep <= 30 || k % 5 == 0) {
			fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">", x, top + h + 16);
			fmt_rb_html(b, sc->sweep.values[k]);
			fmt_rb_str(b, "</text>\n");
		}
	}
	fmt_rb_fmt(b, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" class=\"axis\"/>\n", left,
		   top + h, left + plotw, top + h);
	fmt_rb_fmt(b, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">", left + plotw / 2,
		   top + h + 40);
	fmt_rb_html(b, sc->sweep.parameter);
	fmt_rb_str(b, "</text>\n</svg>\n");
}

static const char css[] =
	"body{font-family:sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;margin:1em 0}"
	"th,td{border:1px solid #bbb;padding:3px 8px}"
	"th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.total td{font-weight:bold}"
	".chart{overflow-x:auto}"
	"svg text{font-size:11px;fill:#222}"
	"svg .grid{stroke:#ddd}svg .axis{stroke:#444}svg .ref{stroke:#c0392b;stroke-dasharray:4 3}";

int fmt_report_html(char **out, size_t *outlen, const scn_result *r, jos_err *err)
{
	fmt_rbuf b = { 0 };
	char num[JOS_FMT_BUF], d1[16], d2[16];
	const scn_scenario *sc = r->sc;
	const jos_dataset *ds = r->ds;
	const scn_variant *basev = &sc->variants[sc->baseline];
	const scn_totals *base = &r->totals[sc->baseline];

	*out = NULL;
	fmt_rb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		       "<title>");
	fmt_rb_html(&b, sc->name);
	fmt_rb_fmt(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
	fmt_rb_html(&b, sc->name);
	fmt_rb_str(&b, "</h1>\n<ul>\n<li>Data: ");
	fmt_rb_html(&b, ds->set.name ? ds->set.name : "");
	jos_day_format(d1, ds->set.period_start);
	jos_day_format(d2, ds->set.period_end);
	fmt_rb_fmt(&b, ", period %s to %s, measure %s</li>\n", d1, d2,
		   ds->set.measure == JOS_MEASURE_HEADCOUNT ? "headcount" : "days");
	fmt_rb_fmt(&b, "<li>Municipalities: %s (%zu)</li>\n<li>Baseline: ",
		   fmt_report_apply_text(sc->apply_to), r->nmunis);
	variant_name(&b, basev);
	fmt_rb_fmt(&b, "</li>\n<li>Outside pupils&#39; cost: %s EUR (their prorata share of the "
		   "schools&#39; net cost, unit weights); the share recovered is the total "
		   "recovered divided by it</li>\n<li>Amounts in EUR</li>\n</ul>\n",
		   jos_cents_format(num, r->outside_cost));

	/* variants */
	fmt_rb_str(&b, "<h2>Variants</h2>\n<table>\n<tr><th>Variant</th><th>Key</th>"
		       "<th>Recovered</th><th>vs baseline</th><th>Share of outside cost</th>"
		       "<th>Paying</th><th>Largest amount</th><th>Largest payer</th></tr>\n");
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_variant *var = &sc->variants[v];
		fmt_rb_str(&b, "<tr><td>");
		variant_name(&b, var);
		fmt_rb_fmt(&b, "</td><td>%s", key_method_name(var->key.method));
		if (var->base_key) {
			fmt_rb_str(&b, " from ");
			fmt_rb_html(&b, var->base_key);
		}
		fmt_rb_str(&b, "</td>");
		totals_cells(&b, r, &r->totals[v], base);
	}
	fmt_rb_str(&b, "</table>\n<div class=\"chart\">\n");
	chart_variants(&b, r);
	fmt_rb_str(&b, "</div>\n");

	/* net per municipality */
	fmt_rb_str(&b, "<h2>Net amount per municipality</h2>\n<table>\n<tr><th>Code</th>"
		       "<th>Municipality</th><th>Pupils</th><th>Pupil-years</th>");
	for (size_t v = 0; v < sc->nvariants; v++) {
		fmt_rb_str(&b, "<th>");
		fmt_rb_html(&b, sc->variants[v].id);
		fmt_rb_str(&b, " net</th>");
		if ((int)v != sc->baseline) {
			fmt_rb_str(&b, "<th>");
			fmt_rb_html(&b, sc->variants[v].id);
			fmt_rb_str(&b, " vs ");
			fmt_rb_html(&b, basev->id);
			fmt_rb_str(&b, "</th>");
		}
	}
	fmt_rb_str(&b, "</tr>\n");
	for (size_t i = 0; i < r->nmunis; i++) {
		const jos_muni *m = &ds->munis[r->munis[i]];
		fmt_rb_fmt(&b, "<tr><td>%s</td><td>", m->code);
		fmt_rb_html(&b, m->name);
		fmt_rb_fmt(&b, "</td><td class=\"n\">%lld</td><td class=\"n\">%s</td>",
			   (long long)r->pupils[i],
			   scn_pupil_years_format(num, r->pupil_days[i], r->period_days));
		for (size_t v = 0; v < sc->nvariants; v++) {
			const scn_cell *c = scn_result_cell(r, v, i);
			fmt_rb_fmt(&b, "<td class=\"n\">%s</td>", jos_cents_format(num, c->net));
			if ((int)v != sc->baseline)
				fmt_rb_fmt(&b, "<td class=\"n\">%s</td>", jos_cents_format(num, c->delta));
		}
		fmt_rb_str(&b, "</tr>\n");
	}
	fmt_rb_fmt(&b, "<tr class=\"total\"><td></td><td>Total</td><td class=\"n\">%lld</td>",
		   (long long)fmt_report_sum_pupils(r));
	fmt_rb_fmt(&b, "<td class=\"n\">%s</td>",
		   scn_pupil_years_format(num, fmt_report_sum_pupil_days(r), r->period_days));
	for (size_t v = 0; v < sc->nvariants; v++) {
		fmt_rb_fmt(&b, "<td class=\"n\">%s</td>", jos_cents_format(num, r->totals[v].recovered));
		if ((int)v != sc->baseline)
			fmt_rb_fmt(&b, "<td class=\"n\">%s</td>",
				   jos_cents_format(num, r->totals[v].recovered - base->recovered));
	}
	fmt_rb_str(&b, "</tr>\n</table>\n<div class=\"chart\">\n");
	chart_munis(&b, r);
	fmt_rb_str(&b, "</div>\n");

	/* detail */
	fmt_rb_str(&b, "<h2>Detail per variant</h2>\n<table>\n<tr><th>Variant</th><th>Code</th>"
		       "<th>Municipality</th><th>Gross</th><th>Net</th><th>Status</th>"
		       "<th>vs baseline</th></tr>\n");
	for (size_t v = 0; v < sc->nvariants; v++) {
		for (size_t i = 0; i < r->nmunis; i++) {
			const jos_muni *m = &ds->munis[r->munis[i]];
			const scn_cell *c = scn_result_cell(r, v, i);
			fmt_rb_str(&b, "<tr><td>");
			fmt_rb_html(&b, sc->variants[v].id);
			fmt_rb_fmt(&b, "</td><td>%s</td><td>", m->code);
			fmt_rb_html(&b, m->name);
			fmt_rb_fmt(&b, "</td><td class=\"n\">%s</td>", jos_cents_format(num, c->gross));
			fmt_rb_fmt(&b, "<td class=\"n\">%s</td>", jos_cents_format(num, c->net));
			fmt_rb_fmt(&b, "<td>%s</td>", eng_status_name(c->status));
			fmt_rb_fmt(&b, "<td class=\"n\">%s</td></tr>\n", jos_cents_format(num, c->delta));
		}
	}
	fmt_rb_str(&b, "</table>\n");

	/* sweep */
	if (r->nsweep) {
		fmt_rb_str(&b, "<h2>Sweep: ");
		fmt_rb_html(&b, sc->sweep.parameter);
		fmt_rb_str(&b, " of variant ");
		variant_name(&b, &sc->variants[sc->sweep.variant]);
		fmt_rb_str(&b, "</h2>\n<table>\n<tr><th>");
		fmt_rb_html(&b, sc->sweep.parameter);
		fmt_rb_str(&b, "</th><th>Recovered</th><th>vs baseline</th><th>Share of outside "
			       "cost</th><th>Paying</th><th>Largest amount</th><th>Largest payer"
			       "</th></tr>\n");
		for (size_t k = 0; k < r->nsweep; k++) {
			fmt_rb_str(&b, "<tr><td class=\"n\">");
			fmt_rb_html(&b, sc->sweep.values[k][0] ? sc->sweep.values[k] : "(none)");
			fmt_rb_str(&b, "</td>");
			totals_cells(&b, r, &r->sweep_totals[k], base);
		}
		fmt_rb_str(&b, "</table>\n<div class=\"chart\">\n");
		chart_sweep(&b, r);
		fmt_rb_str(&b, "</div>\n");
	}
	fmt_rb_str(&b, "</body>\n</html>\n");
	return fmt_rb_finish(&b, out, outlen, err);
}
