/*
 * Tests of formats/sign_fast.c: statements signed without a tree are byte for byte those
 * of fmt_stmt_to_xml + fmt_sign (RSA), equal but for the signature value and verifying
 * (ECDSA), with hostile texts, many lines, out-of-order lines; control characters are
 * refused as by the tree path; JOS_SIGN_TREE=1 forces the tree; signing from two
 * threads at once gives the same bytes.
 */
#include "support/test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats/formats.h"
#include "formats/text_int.h"
#include "support/dsbuild.h"
#include "tests/support/stmt.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

/* The sample with texts that need every escape, non-ASCII, an empty IBAN, a headcount
 * key with a cap and a tariff, and n lines in reverse order. */
static void hostile_stmt(fmt_stmt *st, size_t n)
{
	static const char nasty[] = "A&B <c> \"d\" 'e'\t\n\r ]]> \xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e >";
	test_stmt_sample(st);
	free(st->issuer_name);
	st->issuer_name = xstrdup(nasty);
	free(st->recipient_name);
	st->recipient_name = xstrdup("S\xc3\xba" "dwest-Frysl\xc3\xa2n \"&\" <>");
	free(st->reference);
	st->reference = xstrdup(nasty);
	free(st->iban);
	st->iban = xstrdup("");
	st->measure = JOS_MEASURE_HEADCOUNT;
	st->count_date = jos_day_from_ymd(2025, 10, 1);
	st->key.has_cap = true;
	st->key.cap = 12345678;
	st->key.ntariffs = 1;
	st->key.tariffs = calloc(1, sizeof *st->key.tariffs);
	st->key.tariffs[0].type = xstrdup("so/vso");
	st->key.tariffs[0].cents = 110000;
	for (size_t i = 0; i < st->nlines; i++) {
		free(st->lines[i].school);
		free(st->lines[i].name);
		free(st->lines[i].type);
	}
	free(st->lines);
	st->lines = calloc(n, sizeof *st->lines);
	st->nlines = n;
	for (size_t i = 0; i < n; i++) {
		fmt_stmt_line *l = &st->lines[i];
		char id[32];
		snprintf(id, sizeof id, "S%05zu", n - i);
		l->school = xstrdup(id);
		l->name = xstrdup(i % 2 ? nasty : "De Brug");
		l->type = xstrdup("SO/VSO");
		l->pupils = (int64_t)i + 1;
		strcpy(l->pupil_years, "1.2500");
		l->school_net_cost = -5;
		l->gross = 100;
		l->amount = 90;
	}
}

/* NUL-terminated, for strstr */
static char *z(char *p, size_t len)
{
	char *q = realloc(p, len + 1);
	if (!q)
		abort();
	q[len] = '\0';
	return q;
}

static char *tree_sign(size_t *len, fmt_signer *s, const fmt_stmt *st)
{
	void *doc = NULL;
	char *out = NULL;
	jos_err err;
	assert_int_equal(fmt_stmt_to_xml(&doc, st, &err), JOS_OK);
	assert_int_equal(fmt_sign(&out, len, s, doc, &err), JOS_OK);
	xmlFreeDoc(doc);
	return z(out, *len);
}

static fmt_signer *open_signer(const char *who)
{
	char kp[64], cp[64];
	fmt_signer *s = NULL;
	jos_err err;
	snprintf(kp, sizeof kp, "%s.key", who);
	snprintf(cp, sizeof cp, "%s.pem", who);
	assert_int_equal(fmt_signer_open(&s, test_pki(kp), test_pki(cp), NULL, &err), JOS_OK);
	return s;
}

static void test_fmt_sign_fast__rsa_same_bytes_as_tree(void **state)
{
	(void)state;
	size_t sizes[] = { 0, 1, 2, 500 };
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	jos_err err;
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	assert_true(fmt_stmt_signer_fast(ss));
	assert_true(fmt_stmt_signer_concurrent(ss));
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		fmt_stmt st;
		size_t la = 0, lb = 0;
		char *a = NULL;
		hostile_stmt(&st, sizes[k]);
		assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_OK);
		char *b = tree_sign(&lb, s, &st);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
		fmt_stmt_free(&st);
	}
	/* and the plain sample */
	fmt_stmt st;
	size_t la = 0, lb = 0;
	char *a = NULL;
	test_stmt_sample(&st);
	assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_OK);
	char *b = tree_sign(&lb, s, &st);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

static void test_fmt_sign_fast__ecdsa_same_but_signature_and_verifies(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer-ec");
	fmt_stmt_signer *ss = NULL;
	fmt_verifier *v = NULL;
	jos_err err;
	fmt_stmt st, got;
	size_t la = 0, lb = 0;
	char *a = NULL;
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	assert_true(fmt_stmt_signer_fast(ss));
	test_stmt_sample(&st);
	assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_OK);
	a = z(a, la);
	char *b = tree_sign(&lb, s, &st);
	const char *sa = strstr(a, "<ds:SignatureValue>"), *sb = strstr(b, "<ds:SignatureValue>");
	assert_non_null(sa);
	assert_non_null(sb);
	assert_int_equal(sa - a, sb - b);
	assert_memory_equal(a, b, (size_t)(sa - a));
	const char *ea = strstr(sa, "</ds:SignatureValue>"), *eb = strstr(sb, "</ds:SignatureValue>");
	assert_non_null(ea);
	assert_non_null(eb);
	assert_int_equal(la - (size_t)(ea - a), lb - (size_t)(eb - b));
	assert_memory_equal(ea, eb, la - (size_t)(ea - a));
	assert_int_equal(fmt_verifier_open(&v, test_pki("ca.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(&got, v, a, la, &err), JOS_OK);
	assert_int_equal(got.net, st.net);
	fmt_stmt_free(&got);
	fmt_verifier_free(v);
	free(a);
	free(b);
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

static void test_fmt_sign_fast__rsa_output_verifies(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	fmt_verifier *v = NULL;
	jos_err err;
	fmt_stmt st, got;
	size_t la = 0;
	char *a = NULL;
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	test_stmt_sample(&st);
	assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_OK);
	assert_int_equal(fmt_verifier_open(&v, test_pki("ca.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(&got, v, a, la, &err), JOS_OK);
	assert_string_equal(got.lines[0].school, "S10");
	fmt_stmt_free(&got);
	fmt_verifier_free(v);
	free(a);
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

static void test_fmt_sign_fast__control_character_refused(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	jos_err err;
	fmt_stmt st;
	char *a = NULL;
	size_t la = 0;
	void *doc = NULL;
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	test_stmt_sample(&st);
	free(st.lines[1].name);
	st.lines[1].name = xstrdup("bad\x01name");
	assert_int_equal(fmt_stmt_to_xml(&doc, &st, &err), JOS_EINVALID);
	assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_EINVALID);
	assert_null(a);
	assert_non_null(strstr(err.msg, "control character"));
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

static void test_fmt_sign_fast__env_forces_tree(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	jos_err err;
	fmt_stmt st;
	char *a = NULL;
	size_t la = 0, lb = 0;
	setenv("JOS_SIGN_TREE", "1", 1);
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	unsetenv("JOS_SIGN_TREE");
	assert_false(fmt_stmt_signer_fast(ss));
	assert_false(fmt_stmt_signer_concurrent(ss));
	hostile_stmt(&st, 3);
	assert_int_equal(fmt_stmt_sign(&a, &la, ss, &st, &err), JOS_OK);
	char *b = tree_sign(&lb, s, &st);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

typedef struct {
	fmt_stmt_signer *ss;
	const fmt_stmt *st;
	char *out;
	size_t len;
	int rc;
} job;

static void *sign_job(void *arg)
{
	job *j = arg;
	jos_err err;
	for (int i = 0; i < 5; i++) {
		free(j->out);
		j->out = NULL;
		j->rc = fmt_stmt_sign(&j->out, &j->len, j->ss, j->st, &err);
		if (j->rc != JOS_OK)
			break;
	}
	return NULL;
}

static void test_fmt_sign_fast__two_threads_same_bytes(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	jos_err err;
	fmt_stmt st;
	pthread_t t[2];
	job j[2];
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	hostile_stmt(&st, 50);
	for (int i = 0; i < 2; i++) {
		j[i] = (job){ ss, &st, NULL, 0, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, sign_job, &j[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	size_t lb = 0;
	char *b = tree_sign(&lb, s, &st);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(j[i].rc, JOS_OK);
		assert_int_equal(j[i].len, lb);
		assert_memory_equal(j[i].out, b, lb);
		free(j[i].out);
	}
	free(b);
	fmt_stmt_free(&st);
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

/* fmt_cents_text (the lines' amounts) writes what jos_cents_format writes. */
static void test_fmt_sign_fast__cents_text_as_jos_cents_format(void **state)
{
	(void)state;
	int64_t edge[] = { 0, 1, -1, 5, -5, 9, -9, 10, -10, 99, -99, 100, -100, 101, -101, 12345,
			   -12345, 1000000000000LL, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
			   (int64_t)1 << 62, -((int64_t)1 << 62), ((int64_t)1 << 62) - 1 };
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < 200000 + sizeof edge / sizeof edge[0]; i++) {
		int64_t v;
		if (i < sizeof edge / sizeof edge[0]) {
			v = edge[i];
		} else {   /* xorshift, at every magnitude */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v = (int64_t)(x >> (x % 64));
			if (x & 1)
				v = -v;
		}
		char want[JOS_FMT_BUF], got[32];
		jos_cents_format(want, v);
		size_t n = fmt_cents_text(got, v);
		got[n] = '\0';
		assert_string_equal(got, want);
	}
}

/* Schools whose names, ids and types need every escape, one with a control character:
 * statements built with the schools' Line tags (fmt_line_tags) sign to the bytes of
 * those built without them, and of the tree; the control character is refused alike. */
static jos_dataset *tag_sample(bool with_ctl)
{
	static const char *names[] = {
		"A&B <c> \"d\" 'e'\t\n\r ]]> \xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e >", "De Brug", "",
		"tab\there", "cr\rlf\nq\"", "Bad \x01 name",
	};
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	ds->set.issuer_id = "0772";
	ds->set.statement_date = dsb_day("2026-09-15");
	memset(ds->input_digest, 'b', 64);
	ds->input_digest[64] = '\0';
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	const char *ids[] = { "S\t1", "S\"2", "S&3", "S<4", "S>5", "SZ6" };   /* in byte order */
	const char *types[] = { "SO/VSO", "so&vso", "<PO>", "VO\"", "SBO", "PRO" };
	size_t n = with_ctl ? 6 : 5;
	for (size_t i = 0; i < n; i++) {
		int k = dsb_school(ds, ids[i], "0100", types[i], 100000 + (jos_cents)i * 777, 0);
		ds->schools[k].name = jos_arena_strdup(ds->arena, names[i]);
		dsb_enrol(ds, (uint32_t)(3 * i), ids[i], "0200", "2025-08-01", NULL, NULL);
		dsb_enrol(ds, (uint32_t)(3 * i + 1), ids[i], "0300", "2025-09-01", "2026-02-03", NULL);
		dsb_enrol(ds, (uint32_t)(3 * i + 2), ids[i], "0100", "2025-08-01", NULL, NULL);
	}
	dsb_key(ds, "standard", "prorata");
	dsb_param(ds, "standard", "min_pupils", "0");
	dsb_agree(ds, "0200", "standard", "R&1");
	dsb_agree(ds, "0300", "standard", NULL);
	return ds;
}

static void test_fmt_sign_fast__line_tags_same_bytes(void **state)
{
	(void)state;
	fmt_signer *s = open_signer("signer");
	fmt_stmt_signer *ss = NULL;
	jos_err err;
	assert_int_equal(fmt_stmt_signer_open(&ss, s, &err), JOS_OK);
	assert_true(fmt_stmt_signer_fast(ss));
	for (int ctl = 0; ctl < 2; ctl++) {
		jos_dataset *ds = tag_sample(ctl);
		eng_settlement *st = NULL;
		fmt_line_tags *tags = NULL;
		assert_int_equal(eng_settle(&st, ds, NULL, &err), JOS_OK);
		assert_int_equal(fmt_line_tags_make(&tags, ds, &err), JOS_OK);
		for (size_t i = 0; i < ds->nschools; i++) {
			const char *tag = NULL;
			uint32_t ns = 0, nc = 0;
			bool has = fmt_line_tag(tags, i, &tag, &ns, &nc);
			assert_int_equal(has, i != 5);   /* the control character: no tag */
			if (has)   /* the serialised form opens the Line with its school's id */
				assert_true(ns > 20 && nc > 20 && memcmp(tag, "\n    <Line school=\"", 19) == 0);
		}
		assert_false(fmt_line_tag(tags, ds->nschools, &(const char *){ NULL },
					  &(uint32_t){ 0 }, &(uint32_t){ 0 }));
		size_t nst = 0;
		for (size_t r = 0; r < st->nrows; r++) {
			if (!st->rows[r].statement)
				continue;
			nst++;
			fmt_stmt a, b;
			char *xa = NULL, *xb = NULL;
			size_t la = 0, lb = 0;
			jos_err ea, eb;
			assert_int_equal(fmt_stmt_build(&a, ds, st, &st->rows[r], &err), JOS_OK);
			assert_int_equal(fmt_stmt_build_tagged(&b, ds, st, &st->rows[r], tags, &err),
					 JOS_OK);
			assert_int_equal(a.nlines, ctl ? 6 : 5);
			size_t ntag = 0;
			for (size_t i = 0; i < b.nlines; i++)
				ntag += b.lines[i].tag != NULL;
			assert_int_equal(ntag, 5);
			int ra = fmt_stmt_sign(&xa, &la, ss, &a, &ea);
			int rb = fmt_stmt_sign(&xb, &lb, ss, &b, &eb);
			assert_int_equal(ra, rb);
			if (ctl) {
				assert_int_equal(rb, JOS_EINVALID);
				assert_string_equal(ea.msg, eb.msg);
			} else {
				assert_int_equal(rb, JOS_OK);
				assert_int_equal(la, lb);
				assert_memory_equal(xa, xb, la);
				size_t lt = 0;
				char *xt = tree_sign(&lt, s, &b);
				assert_int_equal(lt, lb);
				assert_memory_equal(xt, xb, lb);
				free(xt);
			}
			free(xa);
			free(xb);
			fmt_stmt_free(&a);
			fmt_stmt_free(&b);
		}
		assert_int_equal(nst, 2);
		fmt_line_tags_free(tags);
		eng_settlement_free(st);
		eng_dataset_free(ds);
	}
	fmt_stmt_signer_free(ss);
	fmt_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_sign_fast__rsa_same_bytes_as_tree),
		cmocka_unit_test(test_fmt_sign_fast__ecdsa_same_but_signature_and_verifies),
		cmocka_unit_test(test_fmt_sign_fast__rsa_output_verifies),
		cmocka_unit_test(test_fmt_sign_fast__control_character_refused),
		cmocka_unit_test(test_fmt_sign_fast__env_forces_tree),
		cmocka_unit_test(test_fmt_sign_fast__two_threads_same_bytes),
		cmocka_unit_test(test_fmt_sign_fast__cents_text_as_jos_cents_format),
		cmocka_unit_test(test_fmt_sign_fast__line_tags_same_bytes),
	};
	return cmocka_run_group_tests(tests, test_crypto_pki_setup, test_crypto_pki_teardown);
}
