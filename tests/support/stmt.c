/*
 * stmt.c: test helpers for statements, signing and verification (see stmt.h).
 */
#include "tests/support/stmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

void test_stmt_sample(fmt_stmt *st)
{
	memset(st, 0, sizeof *st);
	st->statement_id = xstrdup("JOS-0546-20250801-0629");
	st->issue_date = jos_day_from_ymd(2026, 9, 15);
	st->period_start = jos_day_from_ymd(2025, 8, 1);
	st->period_end = jos_day_from_ymd(2026, 7, 31);
	st->issuer_id = xstrdup("0546");
	st->issuer_name = xstrdup("Holland Rijnland");
	memcpy(st->recipient_code, "0629", 5);
	st->recipient_name = xstrdup("Wassenaar");
	st->key.id = xstrdup("standard");
	st->key.has_method = true;
	st->key.method = KEY_PRORATA;
	st->key.min_pupils = 2;
	st->key.discount = 100000;        /* 0.1 */
	st->key.phase_in = JOS_MICRO_ONE;
	st->key.min_school_share = 0;
	st->key.nweights = 1;
	st->key.weights = calloc(1, sizeof *st->key.weights);
	st->key.weights[0].category = xstrdup("lwoo");
	st->key.weights[0].weight = 1500000;
	st->measure = JOS_MEASURE_DAYS;
	memcpy(st->input_digest, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 65);
	st->reference = xstrdup("JOS-2025/17 \"Wassenaar\"");
	st->iban = xstrdup("NL00BANK0123456789");
	st->payment_days = 30;
	st->nlines = 2;
	st->lines = calloc(2, sizeof *st->lines);
	fmt_stmt_line *l = &st->lines[0];
	l->school = xstrdup("S9");
	l->name = xstrdup("Het Anker & Co <VSO>");
	l->type = xstrdup("VSO");
	l->pupils = 3;
	strcpy(l->pupil_years, "1.2500");
	l->school_net_cost = 50000000;
	l->gross = 76544;
	l->amount = 68890;
	l = &st->lines[1];
	l->school = xstrdup("S10");
	l->name = xstrdup("De Brug");
	l->type = xstrdup("SO/VSO");
	l->pupils = 2;
	strcpy(l->pupil_years, "2.0000");
	l->school_net_cost = 123456789;
	l->gross = 123456;
	l->amount = 111110;
	st->gross = 200000;
	st->net = 180000;
	st->status = JOS_STATUS_INVOICED;
}

static char pki_dir[64];

const char *test_pki_make(void)
{
	char cmd[256];
	strcpy(pki_dir, "/tmp/jos-pki-XXXXXX");
	if (!mkdtemp(pki_dir))
		abort();
	snprintf(cmd, sizeof cmd, "bash tests/support/pki.sh %s", pki_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test PKI (%s)\n", cmd);
		abort();
	}
	return pki_dir;
}

void test_pki_remove(void)
{
	char cmd[128];
	if (!pki_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf %s", pki_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", pki_dir);
	pki_dir[0] = '\0';
}

int test_crypto_pki_setup(void **state)
{
	jos_err err;
	(void)state;
	if (fmt_crypto_init(&err) != JOS_OK)
		return -1;
	test_pki_make();
	return 0;
}

int test_crypto_pki_teardown(void **state)
{
	(void)state;
	test_pki_remove();
	fmt_crypto_shutdown();
	return 0;
}

const char *test_pki(const char *name)
{
	static char buf[8][256];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", pki_dir, name);
	return buf[k];
}

char *test_sign_stmt(size_t *len, const fmt_stmt *st, const char *who)
{
	char kp[64], cp[64];
	fmt_signer *s = NULL;
	void *doc = NULL;
	char *out = NULL;
	jos_err err;
	snprintf(kp, sizeof kp, "%s.key", who);
	snprintf(cp, sizeof cp, "%s.pem", who);
	if (fmt_signer_open(&s, test_pki(kp), test_pki(cp), NULL, &err) != JOS_OK ||
	    fmt_stmt_to_xml(&doc, st, &err) != JOS_OK || fmt_sign(&out, len, s, doc, &err) != JOS_OK) {
		fprintf(stderr, "test_sign_stmt(%s): %s\n", who, err.msg);
		abort();
	}
	xmlFreeDoc(doc);
	fmt_signer_free(s);
	/* NUL-terminate for the string helpers */
	char *z = realloc(out, *len + 1);
	if (!z)
		abort();
	z[*len] = '\0';
	return z;
}

char *test_replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	if (!p)
		return NULL;
	size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), n = strlen(s);
	char *r = malloc(n - fl + tl + 1);
	if (!r)
		abort();
	memcpy(r, s, a);
	memcpy(r + a, to, tl);
	memcpy(r + a + tl, p + fl, n - a - fl + 1);
	return r;
}

int test_write(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(buf, 1, len, f);
	return (fclose(f) == 0 && w == len) ? 0 : -1;
}
