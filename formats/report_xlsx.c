/*
 * report_xlsx.c: the scenario report as a spreadsheet (SPEC "Scenarios"), written with
 * libxlsxwriter (Debian libxlsxwriter-dev). One sheet per table: About, Variants,
 * Net by municipality, Detail, and Sweep when there is one. Numbers are stored as
 * numbers, never as text: amounts with a euro number format, shares with a percent
 * format, pupil-years with 4 decimals, counts as integers.
 *
 * A spreadsheet number is an IEEE double: an amount cell holds cents / 100, made in
 * write_cents() and nowhere else, at the very last step (writing the cell). That is
 * the nearest double to the exact decimal, i.e. the same value Excel stores when the
 * amount is typed in, and it reads back to the same cents (|amount| < 2^53 cents).
 * Shares and pupil-years are rounded half-up exactly first (4 resp. 6 decimals as a
 * fraction) and only then made a double. All computing stays in integers.
 *
 * The workbook's creation time is the settlement's statement_date: the clock is never
 * read, so the same inputs give the same file.
 */
#include "formats/report_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <xlsxwriter.h>

typedef struct {
	lxw_workbook *wb;
	lxw_format *bold, *euro, *euro_bold, *pct, *py, *text;
	lxw_error e;    /* first error */
} xctx;

static void note(xctx *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && x->e == LXW_NO_ERROR)
		x->e = e;
}

/* The one place where an amount becomes a double (see the file comment). */
static void write_cents(xctx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, jos_cents c,
			lxw_format *f)
{
	note(x, worksheet_write_number(ws, row, col, (double)c / 100.0, f));
}

/* num/den rounded half-up to `places` decimals, then as a double. */
static void write_ratio(xctx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, jos_i128 num,
			jos_i128 den, int places, lxw_format *f)
{
	jos_i128 scale = 1;
	for (int i = 0; i < places; i++)
		scale *= 10;
	if (den <= 0) {
		note(x, worksheet_write_blank(ws, row, col, f));
		return;
	}
	bool neg = num < 0;
	jos_i128 q = jos_div_half_up((neg ? -num : num) * scale, den);
	note(x, worksheet_write_number(ws, row, col, (double)(neg ? -q : q) / (double)scale, f));
}

static void write_int(xctx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t v)
{
	note(x, worksheet_write_number(ws, row, col, (double)v, NULL));
}

static void write_str(xctx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const char *s,
		      lxw_format *f)
{
	if (s && s[0])
		note(x, worksheet_write_string(ws, row, col, s, f));
}

static void header(xctx *x, lxw_worksheet *ws, const char *const *cols, size_t n)
{
	for (size_t c = 0; c < n; c++)
		write_str(x, ws, 0, (lxw_col_t)c, cols[c], x->bold);
	worksheet_freeze_panes(ws, 1, 0);
}

static void totals_row(xctx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
		       const scn_result *r, const scn_totals *t, const scn_totals *base)
{
	write_cents(x, ws, row, col, t->recovered, x->euro);
	write_cents(x, ws, row, col + 1, t->recovered - base->recovered, x->euro);
	write_ratio(x, ws, row, col + 2, t->recovered, r->outside_cost, 4, x->pct);
	write_int(x, ws, row, col + 3, (int64_t)t->paying);
	write_cents(x, ws, row, col + 4, t->largest, x->euro);
	if (t->largest_muni >= 0) {
		const jos_muni *m = &r->ds->munis[t->largest_muni];
		write_str(x, ws, row, col + 5, m->code, x->text);
		write_str(x, ws, row, col + 6, m->name, NULL);
	}
}

static void sheet_about(xctx *x, const scn_result *r)
{
	const scn_scenario *sc = r->sc;
	const jos_dataset *ds = r->ds;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, "About");
	char d[16], buf[600];
	lxw_row_t row = 0;
	if (!ws) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	write_str(x, ws, row, 0, "Scenario", x->bold);
	write_str(x, ws, row++, 1, sc->name, NULL);
	write_str(x, ws, row, 0, "Data", x->bold);
	write_str(x, ws, row++, 1, ds->set.name, NULL);
	jos_day_format(d, ds->set.period_start);
	write_str(x, ws, row, 0, "Period start", x->bold);
	write_str(x, ws, row++, 1, d, x->text);
	jos_day_format(d, ds->set.period_end);
	write_str(x, ws, row, 0, "Period end", x->bold);
	write_str(x, ws, row++, 1, d, x->text);
	write_str(x, ws, row, 0, "Measure", x->bold);
	write_str(x, ws, row++, 1, ds->set.measure == JOS_MEASURE_HEADCOUNT ? "headcount" : "days",
		  NULL);
	write_str(x, ws, row, 0, "Municipalities", x->bold);
	snprintf(buf, sizeof buf, "%s (%zu)", fmt_report_apply_text(sc->apply_to), r->nmunis);
	write_str(x, ws, row++, 1, buf, NULL);
	write_str(x, ws, row, 0, "Baseline", x->bold);
	write_str(x, ws, row++, 1, sc->variants[sc->baseline].id, NULL);
	write_str(x, ws, row, 0, "Outside pupils' cost", x->bold);
	write_cents(x, ws, row++, 1, r->outside_cost, x->euro);
	write_str(x, ws, row++, 0,
		  "Outside pupils' cost: the covered municipalities' prorata share of the "
		  "schools' net cost with unit weights. Share recovered = recovered / that cost.",
		  NULL);
	note(x, worksheet_set_column(ws, 0, 0, 22, NULL));
	note(x, worksheet_set_column(ws, 1, 1, 40, NULL));
}

static void sheet_variants(xctx *x, const scn_result *r)
{
	static const char *const cols[] = { "variant", "label", "method", "base_key",
					    "recovered", "vs_baseline", "share_recovered",
					    "paying", "largest", "largest_code", "largest_name" };
	const scn_scenario *sc = r->sc;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, "Variants");
	if (!ws) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	header(x, ws, cols, sizeof cols / sizeof cols[0]);
	for (size_t v = 0; v < sc->nvariants; v++) {
		const scn_variant *var = &sc->variants[v];
		lxw_row_t row = (lxw_row_t)(v + 1);
		write_str(x, ws, row, 0, var->id, x->text);
		write_str(x, ws, row, 1, var->label, NULL);
		write_str(x, ws, row, 2, key_method_name(var->key.method), NULL);
		write_str(x, ws, row, 3, var->base_key, NULL);
		totals_row(x, ws, row, 4, r, &r->totals[v], &r->totals[sc->baseline]);
	}
	note(x, worksheet_set_column(ws, 0, 10, 15, NULL));
}

static void sheet_net(xctx *x, const scn_result *r)
{
	const scn_scenario *sc = r->sc;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, "Net by municipality");
	char head[600];
	if (!ws) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	write_str(x, ws, 0, 0, "municipality_code", x->bold);
	write_str(x, ws, 0, 1, "municipality_name", x->bold);
	write_str(x, ws, 0, 2, "pupils", x->bold);
	write_str(x, ws, 0, 3, "pupil_years", x->bold);
	lxw_col_t col = 4;
	for (size_t v = 0; v < sc->nvariants; v++) {
		snprintf(head, sizeof head, "%s net", sc->variants[v].id);
		write_str(x, ws, 0, col++, head, x->bold);
		if ((int)v != sc->baseline) {
			snprintf(head, sizeof head, "%s vs %s", sc->variants[v].id,
				 sc->variants[sc->baseline].id);
			write_str(x, ws, 0, col++, head, x->bold);
		}
	}
	worksheet_freeze_panes(ws, 1, 2);
	for (size_t i = 0; i < r->nmunis; i++) {
		const jos_muni *m = &r->ds->munis[r->munis[i]];
		lxw_row_t row = (lxw_row_t)(i + 1);
		write_str(x, ws, row, 0, m->code, x->text);
		write_str(x, ws, row, 1, m->name, NULL);
		write_int(x, ws, row, 2, r->pupils[i]);
		write_ratio(x, ws, row, 3, r->pupil_days[i], r->period_days, 4, x->py);
		col = 4;
		for (size_t v = 0; v < sc->nvariants; v++) {
			const scn_cell *c = scn_result_cell(r, v, i);
			write_cents(x, ws, row, col++, c->net, x->euro);
			if ((int)v != sc->baseline)
				write_cents(x, ws, row, col++, c->delta, x->euro);
		}
	}
	lxw_row_t row = (lxw_row_t)(r->nmunis + 1);
	write_str(x, ws, row, 0, "TOTAL", x->bold);
	write_int(x, ws, row, 2, fmt_report_sum_pupils(r));
	write_ratio(x, ws, row, 3, fmt_report_sum_pupil_days(r), r->period_days, 4, x->py);
	col = 4;
	for (size_t v = 0; v < sc->nvariants; v++) {
		write_cents(x, ws, row, col++, r->totals[v].recovered, x->euro_bold);
		if ((int)v != sc->baseline)
			write_cents(x, ws, row, col++,
				    r->totals[v].recovered - r->totals[sc->baseline].recovered,
				    x->euro_bold);
	}
	note(x, worksheet_set_column(ws, 0, col, 15, NULL));
	note(x, worksheet_set_column(ws, 1, 1, 28, NULL));
}

static void sheet_detail(xctx *x, const scn_result *r)
{
	static const char *const cols[] = { "variant", "municipality_code", "municipality_name",
					    "pupils", "pupil_years", "gross", "net", "status",
					    "delta_vs_baseline" };
	const scn_scenario *sc = r->sc;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, "Detail");
	if (!ws) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	header(x, ws, cols, sizeof cols / sizeof cols[0]);
	lxw_row_t row = 1;
	for (size_t v = 0; v < sc->nvariants; v++) {
		for (size_t i = 0; i < r->nmunis; i++, row++) {
			const jos_muni *m = &r->ds->munis[r->munis[i]];
			const scn_cell *c = scn_result_cell(r, v, i);
			write_str(x, ws, row, 0, sc->variants[v].id, x->text);
			write_str(x, ws, row, 1, m->code, x->text);
			write_str(x, ws, row, 2, m->name, NULL);
			write_int(x, ws, row, 3, r->pupils[i]);
			write_ratio(x, ws, row, 4, r->pupil_days[i], r->period_days, 4, x->py);
			write_cents(x, ws, row, 5, c->gross, x->euro);
			write_cents(x, ws, row, 6, c->net, x->euro);
			write_str(x, ws, row, 7, eng_status_name(c->status), NULL);
			write_cents(x, ws, row, 8, c->delta, x->euro);
		}
	}
	note(x, worksheet_set_column(ws, 0, 8, 15, NULL));
	note(x, worksheet_set_column(ws, 2, 2, 28, NULL));
}

static void sheet_sweep(xctx *x, const scn_result *r)
{
	static const char *const cols[] = { "variant", "parameter", "value", "recovered",
					    "vs_baseline", "share_recovered", "paying", "largest",
					    "largest_code", "largest_name" };
	const scn_scenario *sc = r->sc;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, "Sweep");
	if (!ws) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	header(x, ws, cols, sizeof cols / sizeof cols[0]);
	for (size_t k = 0; k < r->nsweep; k++) {
		lxw_row_t row = (lxw_row_t)(k + 1);
		write_str(x, ws, row, 0, sc->variants[sc->sweep.variant].id, x->text);
		write_str(x, ws, row, 1, sc->sweep.parameter, NULL);
		/* the value as written (text): a method name, a fraction or an amount */
		write_str(x, ws, row, 2, sc->sweep.values[k], x->text);
		totals_row(x, ws, row, 3, r, &r->sweep_totals[k], &r->totals[sc->baseline]);
	}
	note(x, worksheet_set_column(ws, 0, 9, 15, NULL));
}

int fmt_report_xlsx(const char *path, const scn_result *r, jos_err *err)
{
	xctx x;
	memset(&x, 0, sizeof x);
	/* libxlsxwriter prints its own message when it cannot create the file: find out
	 * first, quietly, by creating it ourselves (it is rewritten by workbook_close) */
	FILE *probe = fopen(path, "wb");
	if (!probe)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot write: %s", strerror(errno));
	fclose(probe);
	x.wb = workbook_new(path);
	if (!x.wb)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot create the workbook");
	/* reproducible: the statement date instead of the clock */
	lxw_doc_properties props;
	memset(&props, 0, sizeof props);
	props.title = r->sc->name;
	props.created = (time_t)r->ds->set.statement_date * 86400;
	note(&x, workbook_set_properties(x.wb, &props));

	x.bold = workbook_add_format(x.wb);
	x.euro = workbook_add_format(x.wb);
	x.euro_bold = workbook_add_format(x.wb);
	x.pct = workbook_add_format(x.wb);
	x.py = workbook_add_format(x.wb);
	x.text = workbook_add_format(x.wb);
	if (!x.bold || !x.euro || !x.euro_bold || !x.pct || !x.py || !x.text) {
		workbook_close(x.wb);
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	}
	format_set_bold(x.bold);
	format_set_num_format(x.euro, "\xe2\x82\xac #,##0.00;\xe2\x82\xac -#,##0.00");
	format_set_num_format(x.euro_bold, "\xe2\x82\xac #,##0.00;\xe2\x82\xac -#,##0.00");
	format_set_bold(x.euro_bold);
	format_set_num_format(x.pct, "0.00%");
	format_set_num_format(x.py, "0.0000");
	format_set_num_format(x.text, "@");

	sheet_about(&x, r);
	sheet_variants(&x, r);
	sheet_net(&x, r);
	sheet_detail(&x, r);
	if (r->nsweep)
		sheet_sweep(&x, r);
	lxw_error ce = workbook_close(x.wb);
	note(&x, ce);
	if (x.e != LXW_NO_ERROR)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot write the workbook: %s",
				   lxw_strerror(x.e));
	return JOS_OK;
}
