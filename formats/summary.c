/*
 * summary.c: OUT_DIR/summary.csv (SPEC "Output: OUT_DIR", "Output spellings"):
 * one row per municipality with pupils, sorted by code; LF, no BOM, minimal RFC 4180
 * quoting, in_region as yes/no, codes as 4 digits, amounts 1234.56.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	char *buf;
	size_t len, cap;
	bool oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
	if (b->oom || jos_grow((void **)&b->buf, &b->cap, b->len + n + 1, 1) != JOS_OK) {
		b->oom = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* A field, quoted only when it must be (separator, quote, CR or LF inside). */
static void sb_field(strbuf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		sb_str(b, s);
		return;
	}
	sb_put(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_put(b, "\"", 1);
		sb_put(b, p, 1);
	}
	sb_put(b, "\"", 1);
}

int fmt_summary_csv(char **out, size_t *outlen, const jos_dataset *ds, const eng_settlement *s,
		    jos_err *err)
{
	strbuf b = { 0 };
	char num[JOS_FMT_BUF];
	int64_t D = s->measures->period_days;

	*out = NULL;
	sb_str(&b, "municipality_code,municipality_name,in_region,key,pupils,pupil_years,gross,net,status\n");
	for (size_t i = 0; i < s->nrows; i++) {
		const eng_row *r = &s->rows[i];
		const jos_muni *m = &ds->munis[r->muni];
		sb_str(&b, m->code);
		sb_put(&b, ",", 1);
		sb_field(&b, m->name);
		sb_str(&b, m->in_region ? ",yes," : ",no,");
		sb_field(&b, ds->keys[r->key].id);
		snprintf(num, sizeof num, ",%lld,", (long long)r->pupils);
		sb_str(&b, num);
		sb_str(&b, jos_ratio_format(num, r->pupil_days, D, 4));
		sb_put(&b, ",", 1);
		sb_str(&b, jos_cents_format(num, r->gross));
		sb_put(&b, ",", 1);
		sb_str(&b, jos_cents_format(num, r->net));
		sb_put(&b, ",", 1);
		sb_str(&b, eng_status_name(r->status));
		sb_put(&b, "\n", 1);
	}
	if (b.oom) {
		free(b.buf);
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	}
	*out = b.buf;
	*outlen = b.len;
	return JOS_OK;
}
