/*
 * report_int.h: what the scenario report writers (formats/report_*.c) share: a
 * growable text buffer with escaping for CSV, Markdown and HTML, and the wording of
 * the figures (labels, amounts, shares) so that every format prints the same thing.
 * Private to formats/.
 */
#ifndef JOS_REPORT_INT_H
#define JOS_REPORT_INT_H

#include "formats/formats.h"
#include "scenarios/scenarios.h"

typedef struct {
	char *buf;
	size_t len, cap;
	bool oom;
} fmt_rbuf;

void fmt_rb_put(fmt_rbuf *b, const char *s, size_t n);
void fmt_rb_str(fmt_rbuf *b, const char *s);
void fmt_rb_fmt(fmt_rbuf *b, const char *fmt, ...) JOS_PRINTF(2, 3);
/* A CSV field with minimal RFC 4180 quoting (separator, quote, CR or LF inside). */
void fmt_rb_csv(fmt_rbuf *b, const char *s);
/* Text for HTML content and attribute values: & < > " ' escaped. */
void fmt_rb_html(fmt_rbuf *b, const char *s);
/* Text for a Markdown table cell: | \ * _ ` < > [ ] escaped with a backslash (so no
 * name turns into a tag, a link or emphasis), line breaks as spaces. */
void fmt_rb_md(fmt_rbuf *b, const char *s);
/* Hands the text to *out (malloc'd, NUL-terminated) or fails with JOS_ENOMEM. */
int fmt_rb_finish(fmt_rbuf *b, char **out, size_t *outlen, jos_err *err);

/* Shared wording. */
const char *fmt_report_apply_text(scn_apply a);          /* "all outside municipalities ..." */
/* "0629 Name" of the largest payer, or "" when nobody pays; buf >= 320 bytes. */
char *fmt_report_payer(char *buf, size_t n, const scn_result *r, const scn_totals *t);
/* "min_pupils = 3" of sweep value k. */
char *fmt_report_sweep_label(char *buf, size_t n, const scn_result *r, size_t k);
/* Sum of pupils / pupil-days over the covered municipalities. */
int64_t fmt_report_sum_pupils(const scn_result *r);
int64_t fmt_report_sum_pupil_days(const scn_result *r);

#endif
