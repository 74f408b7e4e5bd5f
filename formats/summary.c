/*
 * summary.c: OUT_DIR/summary.csv (SPEC "Output: OUT_DIR", "Output spellings"):
 * one row per municipality with pupils, sorted by code; LF, no BOM, minimal RFC 4180
 * quoting, in_region as yes/no, codes as 4 digits, amounts 1234.56.
 */
#include "formats/formats.h"
#include "formats/report_int.h"

#include <stdlib.h>
#include <string.h>

int fmt_summary_csv(char **out, size_t *outlen, const jos_dataset *ds, const eng_settlement *s,
		    jos_err *err)
{
	fmt_rbuf b = { 0 };
	char num[JOS_FMT_BUF];
	int64_t D = s->measures->period_days;

	*out = NULL;
	fmt_rb_str(&b, "municipality_code,municipality_name,in_region,key,pupils,pupil_years,gross,net,status\n");
	for (size_t i = 0; i < s->nrows; i++) {
		const eng_row *r = &s->rows[i];
		const jos_muni *m = &ds->munis[r->muni];
		fmt_rb_str(&b, m->code);
		fmt_rb_put(&b, ",", 1);
		fmt_rb_csv(&b, m->name);
		fmt_rb_str(&b, m->in_region ? ",yes," : ",no,");
		fmt_rb_csv(&b, ds->keys[r->key].id);
		snprintf(num, sizeof num, ",%lld,", (long long)r->pupils);
		fmt_rb_str(&b, num);
		fmt_rb_str(&b, jos_ratio_format(num, r->pupil_days, D, 4));
		fmt_rb_put(&b, ",", 1);
		fmt_rb_str(&b, jos_cents_format(num, r->gross));
		fmt_rb_put(&b, ",", 1);
		fmt_rb_str(&b, jos_cents_format(num, r->net));
		fmt_rb_put(&b, ",", 1);
		fmt_rb_str(&b, eng_status_name(r->status));
		fmt_rb_put(&b, "\n", 1);
	}
	return fmt_rb_finish(&b, out, outlen, err);
}
