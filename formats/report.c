/*
 * report.c: the scenario report front door (SPEC "Scenarios"): the format follows the
 * output's extension (.csv, .md, .html, .xlsx), and the report appears whole or not at
 * all: it is written to a temporary file beside the target, flushed, and renamed over
 * it. Also the text buffer and the wording the four writers share (report_int.h).
 */
#include "formats/report_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- text buffer ------------------------------------------------------------- */

void fmt_rb_put(fmt_rbuf *b, const char *s, size_t n)
{
	if (b->oom || jos_grow((void **)&b->buf, &b->cap, b->len + n + 1, 1) != JOS_OK) {
		b->oom = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void fmt_rb_str(fmt_rbuf *b, const char *s)
{
	fmt_rb_put(b, s, strlen(s));
}

void fmt_rb_fmt(fmt_rbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof tmp) {
		fmt_rb_put(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fmt_rb_put(b, big, (size_t)n);
	free(big);
}

void fmt_rb_csv(fmt_rbuf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fmt_rb_str(b, s);
		return;
	}
	fmt_rb_put(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			fmt_rb_put(b, "\"", 1);
		fmt_rb_put(b, p, 1);
	}
	fmt_rb_put(b, "\"", 1);
}

void fmt_rb_html(fmt_rbuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '&': fmt_rb_str(b, "&amp;"); break;
		case '<': fmt_rb_str(b, "&lt;"); break;
		case '>': fmt_rb_str(b, "&gt;"); break;
		case '"': fmt_rb_str(b, "&quot;"); break;
		case '\'': fmt_rb_str(b, "&#39;"); break;
		default: fmt_rb_put(b, p, 1);
		}
	}
}

void fmt_rb_md(fmt_rbuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (strchr("|\\*_`<>[]", *p))
			fmt_rb_put(b, "\\", 1);
		if (*p == '\r' || *p == '\n')
			fmt_rb_put(b, " ", 1);
		else
			fmt_rb_put(b, p, 1);
	}
}

int fmt_rb_finish(fmt_rbuf *b, char **out, size_t *outlen, jos_err *err)
{
	if (!b->oom && !b->buf)
		fmt_rb_put(b, "", 0);
	if (b->oom) {
		free(b->buf);
		b->buf = NULL;
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	}
	*out = b->buf;
	*outlen = b->len;
	b->buf = NULL;
	return JOS_OK;
}

/* ---- shared wording ---------------------------------------------------------- */

const char *fmt_report_apply_text(scn_apply a)
{
	return a == SCN_APPLY_AGREEMENTS
		       ? "outside municipalities with pupils and an agreement"
		       : "all outside municipalities with pupils";
}

char *fmt_report_payer(char *buf, size_t n, const scn_result *r, const scn_totals *t)
{
	if (t->largest_muni < 0) {
		buf[0] = '\0';
		return buf;
	}
	const jos_muni *m = &r->ds->munis[t->largest_muni];
	snprintf(buf, n, "%s %s", m->code, m->name);
	return buf;
}

char *fmt_report_sweep_label(char *buf, size_t n, const scn_result *r, size_t k)
{
	snprintf(buf, n, "%s = %s", r->sc->sweep.parameter, r->sc->sweep.values[k]);
	return buf;
}

int64_t fmt_report_sum_pupils(const scn_result *r)
{
	int64_t s = 0;
	for (size_t i = 0; i < r->nmunis; i++)
		s += r->pupils[i];
	return s;
}

int64_t fmt_report_sum_pupil_days(const scn_result *r)
{
	int64_t s = 0;
	for (size_t i = 0; i < r->nmunis; i++)
		s += r->pupil_days[i];
	return s;
}

/* ---- choosing and writing ---------------------------------------------------- */

int fmt_report_kind_of(const char *path)
{
	static const struct {
		const char *ext;
		fmt_report_kind kind;
	} exts[] = { { ".csv", FMT_REPORT_CSV }, { ".md", FMT_REPORT_MD },
		     { ".html", FMT_REPORT_HTML }, { ".xlsx", FMT_REPORT_XLSX } };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t e = strlen(exts[i].ext);
		if (n > e && jos_strcasecmp(base + n - e, exts[i].ext) == 0)
			return (int)exts[i].kind;
	}
	return -1;
}

/* "DIR/.BASE.jos-settle-tmp-PID" beside path. */
static int temp_path(char **out, const char *path, jos_err *err)
{
	const char *slash = strrchr(path, '/');
	size_t dn = slash ? (size_t)(slash - path + 1) : 0;
	const char *base = path + dn;
	size_t n = strlen(path) + 64;
	char *t = malloc(n);
	if (!t)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	snprintf(t, n, "%.*s.%s.jos-settle-tmp-%ld", (int)dn, path, base, (long)getpid());
	*out = t;
	return JOS_OK;
}

static int write_all(const char *tmp, const char *data, size_t len, const char *shown, jos_err *err)
{
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return jos_err_set(err, JOS_EIO, shown, 0, "cannot write: %s", strerror(errno));
	bool ok = fwrite(data, 1, len, f) == len;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	int e = errno;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		return jos_err_set(err, JOS_EIO, shown, 0, "cannot write: %s", strerror(e ? e : EIO));
	return JOS_OK;
}

int fmt_report_write(const char *path, const scn_result *r, jos_err *err)
{
	int kind = fmt_report_kind_of(path);
	char *tmp = NULL, *data = NULL;
	size_t len = 0;
	int rc;

	if (kind < 0)
		return jos_err_set(err, JOS_EUSAGE, NULL, 0,
				   "%s: the report's extension must be .csv, .md, .html or .xlsx", path);
	rc = temp_path(&tmp, path, err);
	if (rc != JOS_OK)
		return rc;
	switch ((fmt_report_kind)kind) {
	case FMT_REPORT_CSV:
		rc = fmt_report_csv(&data, &len, r, err);
		break;
	case FMT_REPORT_MD:
		rc = fmt_report_md(&data, &len, r, err);
		break;
	case FMT_REPORT_HTML:
		rc = fmt_report_html(&data, &len, r, err);
		break;
	case FMT_REPORT_XLSX:
		rc = fmt_report_xlsx(tmp, r, err);
		break;
	}
	if (rc == JOS_OK && data)
		rc = write_all(tmp, data, len, path, err);
	if (rc == JOS_OK && rename(tmp, path) != 0)
		rc = jos_err_set(err, JOS_EIO, path, 0, "cannot write: %s", strerror(errno));
	if (rc != JOS_OK)
		unlink(tmp);
	free(data);
	free(tmp);
	return rc;
}
