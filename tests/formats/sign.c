/*
 * Tests of formats/sign.c: enveloped signatures that verify, byte-identical RSA output,
 * key loading that never prompts, key/certificate mismatch, weak keys, and speed.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "formats/formats.h"
#include "tests/support/stmt.h"

static void test_fmt_sign__rsa_enveloped_and_verifies(void **state)
{
	(void)state;
	fmt_stmt st, got;
	fmt_verifier *v = NULL;
	jos_err err;
	size_t len;
	test_stmt_sample(&st);
	char *x = test_sign_stmt(&len, &st, "signer");
	assert_non_null(strstr(x, "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"));
	assert_non_null(strstr(x, "<ds:Reference URI=\"\">"));
	assert_non_null(strstr(x, "Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\""));
	assert_non_null(strstr(x, "Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\""));
	assert_non_null(strstr(x, "<ds:X509Certificate>MII"));
	/* the signature is the last child of Statement */
	assert_non_null(strstr(x, "</ds:Signature></Statement>"));
	assert_int_equal(fmt_verifier_open(&v, test_pki("ca.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(&got, v, x, len, &err), JOS_OK);
	assert_int_equal(got.net, 180000);
	assert_string_equal(got.lines[0].school, "S10");
	fmt_stmt_free(&got);
	fmt_verifier_free(v);
	fmt_stmt_free(&st);
	free(x);
}

/* fmt_sign_check must notice a KeyInfo certificate that is not the signer's: KeyInfo is
 * outside what URI="" signs, so the signature alone still verifies (found by
 * tests/torture.sh JOS_TORTURE_DEEP=1: a lost certificate under memory pressure). */
static void test_fmt_sign__check_requires_signers_certificate(void **state)
{
	(void)state;
	fmt_stmt st;
	fmt_signer *s = NULL;
	jos_err err;
	size_t la, lb;
	test_stmt_sample(&st);
	char *a = test_sign_stmt(&la, &st, "signer"), *b = test_sign_stmt(&lb, &st, "signer-ec");
	assert_int_equal(fmt_signer_open(&s, test_pki("signer.key"), test_pki("signer.pem"), NULL, &err), JOS_OK);
	xmlDocPtr d = xmlReadMemory(a, (int)la, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(d);
	assert_int_equal(fmt_sign_check(s, d, &err), JOS_OK);
	xmlFreeDoc(d);
	/* the EC signer's certificate put in place of the RSA signer's */
	const char *tag = "<ds:X509Certificate>";
	char *ca = strstr(a, tag), *cb = strstr(b, tag);
	assert_non_null(ca);
	assert_non_null(cb);
	char *ea = strstr(ca, "</ds:X509Certificate>"), *eb = strstr(cb, "</ds:X509Certificate>");
	size_t na = (size_t)(ea - ca), nb = (size_t)(eb - cb);
	char *from = strndup(ca, na), *to = strndup(cb, nb);
	char *forged = test_replace(a, from, to);
	d = xmlReadMemory(forged, (int)strlen(forged), NULL, NULL, XML_PARSE_NONET);
	assert_non_null(d);
	assert_int_equal(fmt_sign_check(s, d, &err), JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "signer's certificate"));
	xmlFreeDoc(d);
	/* and one without any certificate text */
	char *empty = test_replace(a, from, tag);
	d = xmlReadMemory(empty, (int)strlen(empty), NULL, NULL, XML_PARSE_NONET);
	assert_non_null(d);
	assert_int_equal(fmt_sign_check(s, d, &err), JOS_ECRYPTO);
	xmlFreeDoc(d);
	free(empty);
	free(forged);
	free(from);
	free(to);
	fmt_signer_free(s);
	free(a);
	free(b);
	fmt_stmt_free(&st);
}

static void test_fmt_sign__rsa_byte_identical(void **state)
{
	(void)state;
	fmt_stmt st;
	size_t la, lb;
	test_stmt_sample(&st);
	char *a = test_sign_stmt(&la, &st, "signer"), *b = test_sign_stmt(&lb, &st, "signer");
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	fmt_stmt_free(&st);
}

static void test_fmt_sign__ecdsa_p256_verifies(void **state)
{
	(void)state;
	fmt_stmt st;
	fmt_verifier *v = NULL;
	jos_err err;
	size_t len;
	test_stmt_sample(&st);
	char *x = test_sign_stmt(&len, &st, "signer-ec");
	assert_non_null(strstr(x, "xmldsig-more#ecdsa-sha256"));
	assert_int_equal(fmt_verifier_open(&v, test_pki("ca.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(NULL, v, x, len, &err), JOS_OK);
	fmt_verifier_free(v);
	fmt_stmt_free(&st);
	free(x);
}

static void test_fmt_sign__encrypted_key_without_pass_fails_without_prompt(void **state)
{
	(void)state;
	fmt_signer *s = NULL;
	jos_err err;
	assert_int_equal(fmt_signer_open(&s, test_pki("signer-enc.key"), test_pki("signer.pem"), NULL, &err),
			 JOS_ECRYPTO);
	assert_null(s);
	assert_non_null(strstr(err.msg, "encrypted"));
	assert_int_equal(fmt_signer_open(&s, test_pki("signer-enc.key"), test_pki("signer.pem"), "wrong", &err),
			 JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "passphrase"));
	assert_int_equal(fmt_signer_open(&s, test_pki("signer-enc.key"), test_pki("signer.pem"), "s3cret", &err),
			 JOS_OK);
	fmt_signer_free(s);
}

static void test_fmt_sign__key_and_certificate_must_match(void **state)
{
	(void)state;
	fmt_signer *s = NULL;
	jos_err err;
	assert_int_equal(fmt_signer_open(&s, test_pki("signer.key"), test_pki("attacker.pem"), NULL, &err),
			 JOS_ECRYPTO);
	assert_null(s);
	assert_non_null(strstr(err.msg, "does not belong"));
}

static void test_fmt_sign__weak_or_missing_keys_refused(void **state)
{
	(void)state;
	fmt_signer *s = NULL;
	jos_err err;
	assert_int_equal(fmt_signer_open(&s, test_pki("rsa1024.key"), test_pki("rsa1024.pem"), NULL, &err),
			 JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "1024 bits"));
	assert_int_equal(fmt_signer_open(&s, test_pki("nope.key"), test_pki("signer.pem"), NULL, &err), JOS_EIO);
	/* a certificate (mode 0644) given as the key: allowed past the mode check */
	fmt_key_opts any_mode = { .pass = NULL, .allow_insecure = true };
	assert_int_equal(fmt_signer_open_ex(&s, test_pki("signer.pem"), test_pki("signer.pem"), &any_mode, &err),
			 JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "not a PEM private key"));
	assert_null(s);
}

/* issue 7: ~300 signatures must take well under a second; the key is loaded once and
 * reused. 30 here (valgrind runs this too); tests/verify.sh times 300. */
static void test_fmt_sign__many_statements_one_key(void **state)
{
	(void)state;
	fmt_stmt st;
	fmt_signer *s = NULL;
	jos_err err;
	struct timespec t0, t1;
	test_stmt_sample(&st);
	assert_int_equal(fmt_signer_open(&s, test_pki("signer.key"), test_pki("signer.pem"), NULL, &err), JOS_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 30; i++) {
		void *doc = NULL;
		char *out = NULL;
		size_t len;
		assert_int_equal(fmt_stmt_to_xml(&doc, &st, &err), JOS_OK);
		assert_int_equal(fmt_sign(&out, &len, s, doc, &err), JOS_OK);
		free(out);
		xmlFreeDoc(doc);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# 30 statements built and signed (RSA 2048) in %.1f ms\n", ms);
	fmt_signer_free(s);
	fmt_stmt_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_sign__rsa_enveloped_and_verifies),
		cmocka_unit_test(test_fmt_sign__rsa_byte_identical),
		cmocka_unit_test(test_fmt_sign__check_requires_signers_certificate),
		cmocka_unit_test(test_fmt_sign__ecdsa_p256_verifies),
		cmocka_unit_test(test_fmt_sign__encrypted_key_without_pass_fails_without_prompt),
		cmocka_unit_test(test_fmt_sign__key_and_certificate_must_match),
		cmocka_unit_test(test_fmt_sign__weak_or_missing_keys_refused),
		cmocka_unit_test(test_fmt_sign__many_statements_one_key),
	};
	return cmocka_run_group_tests(tests, test_crypto_pki_setup, test_crypto_pki_teardown);
}
