/*
 * statement_build.c: the content of one statement (fmt_stmt) from the engine's
 * settlement row (SPEC "Statement XML", "Output spellings"). Kept apart from
 * statement.c so that reading and verifying statements needs nothing of the engine.
 */
#include "formats/formats.h"
#include "formats/text_int.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* A copy of s at *p (advanced past it); NULL for NULL. */
static char *put_str(char **p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = memcpy(*p, s, n);
	*p += n;
	return d;
}

int fmt_stmt_build(fmt_stmt *out, const jos_dataset *ds, const eng_settlement *s,
		   const eng_row *r, jos_err *err)
{
	return fmt_stmt_build_tagged(out, ds, s, r, NULL, err);
}

int fmt_stmt_build_tagged(fmt_stmt *out, const jos_dataset *ds, const eng_settlement *s,
			  const eng_row *r, const fmt_line_tags *tags, jos_err *err)
{
	eng_line *lines = NULL;
	size_t n = 0;
	bool oom = false;
	char day[16], id[160];
	memset(out, 0, sizeof *out);
	out->payment_days = -1;
	if (!r->statement || r->key < 0 || (size_t)r->key >= ds->nkeys)
		return jos_err_set(err, JOS_EINTERNAL, "", 0, "statement asked for a row without one");
	const jos_muni *m = &ds->munis[r->muni];
	const jos_settings *set = &ds->set;

	/* StatementId: JOS-<issuer_id>-<period start YYYYMMDD>-<recipient code>; it is also
	 * the root's Id (an NCName), so anything but [A-Za-z0-9._-] in issuer_id becomes '_'. */
	jos_day_format(day, set->period_start);
	snprintf(id, sizeof id, "JOS-%.100s-%.4s%.2s%.2s-%s", set->issuer_id, day, day + 5, day + 8,
		 m->code);
	for (char *p = id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || jos_isdigit(*p) ||
		      *p == '.' || *p == '_' || *p == '-'))
			*p = '_';
	out->statement_id = dup_or_null(id, &oom);
	out->issue_date = set->statement_date;
	out->period_start = set->period_start;
	out->period_end = set->period_end;
	out->issuer_id = dup_or_null(set->issuer_id, &oom);
	out->issuer_name = dup_or_null(set->issuer, &oom);
	memcpy(out->recipient_code, m->code, 5);
	out->recipient_name = dup_or_null(m->name, &oom);
	out->measure = set->measure;
	out->count_date = set->count_date;
	memcpy(out->input_digest, ds->input_digest, 65);
	int ai = ds->muni_agreement ? ds->muni_agreement[r->muni] : -1;
	if (ai >= 0 && ds->agreements[ai].reference && ds->agreements[ai].reference[0])
		out->reference = dup_or_null(ds->agreements[ai].reference, &oom);
	out->iban = dup_or_null(set->iban, &oom);
	out->payment_days = set->payment_days;
	out->gross = r->gross;
	out->net = r->net;
	out->status = r->status;
	if (oom)
		goto nomem;
	int rc = key_copy(&out->key, &ds->keys[r->key]);
	if (rc != JOS_OK) {
		fmt_stmt_free(out);
		return jos_err_set(err, rc, "", 0, "cannot copy key %s", ds->keys[r->key].id);
	}
	if (eng_row_lines(&lines, &n, ds, s, r) != JOS_OK)
		goto nomem;
	out->lines = malloc((n ? n : 1) * sizeof *out->lines);   /* every field set below */
	if (!out->lines)
		goto nomem;
	/* the schools' id, name and type: one block for all lines, not three strdups each */
	size_t total = 1;
	for (size_t i = 0; i < n; i++) {
		const jos_school *sc = &ds->schools[lines[i].school];
		total += (sc->id ? strlen(sc->id) + 1 : 0) + (sc->name ? strlen(sc->name) + 1 : 0) +
			 (sc->type ? strlen(sc->type) + 1 : 0);
	}
	char *sp = out->line_strings = malloc(total);
	if (!sp)
		goto nomem;
	int64_t D = eng_period_days(ds);
	for (size_t i = 0; i < n; i++) {
		const jos_school *sc = &ds->schools[lines[i].school];
		fmt_stmt_line *l = &out->lines[out->nlines++];
		l->school = put_str(&sp, sc->id);
		l->name = put_str(&sp, sc->name);
		l->type = put_str(&sp, sc->type);
		l->tag = NULL;
		l->tag_s = l->tag_c = 0;
		if (tags)
			fmt_line_tag(tags, lines[i].school, &l->tag, &l->tag_s, &l->tag_c);
		l->pupils = lines[i].pupils;
		char py[JOS_FMT_BUF];
		size_t pn = fmt_ratio4_text(py, lines[i].pupil_days, D);
		if (pn)
			py[pn] = '\0';
		else
			pn = strlen(jos_ratio_format(py, lines[i].pupil_days, D, 4));
		if (pn >= sizeof l->pupil_years)
			pn = sizeof l->pupil_years - 1;  /* > 10^26 pupil-years: cannot happen */
		memcpy(l->pupil_years, py, pn);
		l->pupil_years[pn] = '\0';
		l->school_net_cost = lines[i].school_net_cost;
		l->gross = lines[i].gross;
		l->amount = lines[i].amount;
	}
	free(lines);
	lines = NULL; /* nomem frees it too */
	if (oom)
		goto nomem;
	return JOS_OK;
nomem:
	free(lines);
	fmt_stmt_free(out);
	return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory building a statement");
}
