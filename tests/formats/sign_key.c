/*
 * Tests of formats/sign_key.c: key files that group or others may access are refused
 * (unless allowed), the passphrase or PIN from a file or the environment, RFC 7512
 * URIs (module-path taken out, a PIN in the URI refused), a token that cannot be
 * reached fails without prompting, and the sign-and-verify self-test. The signing
 * itself inside a softhsm2 token is tested end to end by tests/pkcs11.sh.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "formats/formats.h"
#include "formats/sign_int.h"
#include "tests/support/stmt.h"

/* A copy of the PKI's signer.key with the given mode; returns its path. */
static const char *pem_copy(const char *name, mode_t mode)
{
	char *buf = NULL;
	size_t len = 0;
	jos_err err;
	const char *path = test_pki(name);
	assert_int_equal(fmt_read_file(&buf, &len, test_pki("signer.key"), 1 << 20, &err), JOS_OK);
	remove(path);
	assert_int_equal(test_write(path, buf, len), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(buf);
	return path;
}

static void test_fmt_sign_key__owner_only_file_is_read(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	jos_err err;
	const char *p = pem_copy("k600.key", 0600);
	assert_int_equal(fmt_key_file_read(&buf, &len, p, false, &err), JOS_OK);
	assert_true(len > 100);
	assert_int_equal(strlen(buf), len);
	assert_memory_equal(buf, "-----BEGIN PRIVATE KEY-----", 27);
	free(buf);
	/* 0400 too: only the owner's bits count */
	p = pem_copy("k400.key", 0400);
	assert_int_equal(fmt_key_file_read(&buf, &len, p, false, &err), JOS_OK);
	free(buf);
}

static void test_fmt_sign_key__group_or_other_access_refused(void **state)
{
	(void)state;
	static const mode_t modes[] = { 0640, 0604, 0644, 0620, 0602, 0610 };
	char *buf = NULL, want[16];
	size_t len = 0;
	jos_err err;
	fmt_signer *s = NULL;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		const char *p = pem_copy("open.key", modes[i]);
		assert_int_equal(fmt_key_file_read(&buf, &len, p, false, &err), JOS_ECRYPTO);
		assert_null(buf);
		assert_string_equal(err.file, p);
		assert_non_null(strstr(err.msg, "group or others"));
		assert_non_null(strstr(err.msg, "--allow-insecure-key-file"));
		snprintf(want, sizeof want, "mode %04o", (unsigned)modes[i]);
		assert_non_null(strstr(err.msg, want));
		/* fmt_signer_open refuses it by default */
		assert_int_equal(fmt_signer_open(&s, p, test_pki("signer.pem"), NULL, &err), JOS_ECRYPTO);
		assert_null(s);
		assert_non_null(strstr(err.msg, "group or others"));
	}
}

static void test_fmt_sign_key__insecure_file_allowed_when_asked(void **state)
{
	(void)state;
	jos_err err;
	fmt_signer *s = NULL;
	const char *p = pem_copy("open.key", 0644);
	fmt_key_opts o = { .pass = NULL, .allow_insecure = true };
	assert_int_equal(fmt_signer_open_ex(&s, p, test_pki("signer.pem"), &o, &err), JOS_OK);
	assert_non_null(s);
	fmt_signer_free(s);
	s = NULL;
	o.allow_insecure = false;
	assert_int_equal(fmt_signer_open_ex(&s, p, test_pki("signer.pem"), &o, &err), JOS_ECRYPTO);
	assert_null(s);
}

static void test_fmt_sign_key__not_a_regular_file_or_missing(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	jos_err err;
	const char *dir = test_pki("db");
	assert_int_equal(fmt_key_file_read(&buf, &len, dir, true, &err), JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(fmt_key_file_read(&buf, &len, test_pki("nope.key"), false, &err), JOS_EIO);
	assert_null(buf);
}

static void test_fmt_sign_key__pass_from_environment(void **state)
{
	(void)state;
	char *pass = NULL;
	jos_err err;
	fmt_signer *s = NULL;
	assert_int_equal(setenv("JOS_TEST_KEY_PASS", "s3cret", 1), 0);
	assert_int_equal(fmt_key_pass(&pass, NULL, "JOS_TEST_KEY_PASS", &err), JOS_OK);
	assert_string_equal(pass, "s3cret");
	fmt_key_opts o = { .pass = pass, .allow_insecure = false };
	assert_int_equal(fmt_signer_open_ex(&s, test_pki("signer-enc.key"), test_pki("signer.pem"), &o, &err),
			 JOS_OK);
	fmt_signer_free(s);
	fmt_key_pass_free(pass);
	/* the value is taken as is: no trimming of a trailing newline or spaces */
	assert_int_equal(setenv("JOS_TEST_KEY_PASS", "s3cret \n", 1), 0);
	assert_int_equal(fmt_key_pass(&pass, NULL, "JOS_TEST_KEY_PASS", &err), JOS_OK);
	assert_string_equal(pass, "s3cret \n");
	fmt_key_pass_free(pass);
	/* a variable that is not set is a usage error naming it */
	assert_int_equal(unsetenv("JOS_TEST_KEY_PASS"), 0);
	pass = NULL;
	assert_int_equal(fmt_key_pass(&pass, NULL, "JOS_TEST_KEY_PASS", &err), JOS_EUSAGE);
	assert_null(pass);
	assert_non_null(strstr(err.msg, "JOS_TEST_KEY_PASS is not set"));
	/* an empty value is a value */
	assert_int_equal(setenv("JOS_TEST_KEY_PASS", "", 1), 0);
	assert_int_equal(fmt_key_pass(&pass, NULL, "JOS_TEST_KEY_PASS", &err), JOS_OK);
	assert_string_equal(pass, "");
	fmt_key_pass_free(pass);
	unsetenv("JOS_TEST_KEY_PASS");
}

static void test_fmt_sign_key__pass_from_file_or_nowhere(void **state)
{
	(void)state;
	char *pass = (char *)"x";
	jos_err err;
	const char *f = test_pki("pass.txt");
	assert_int_equal(test_write(f, "s3cret\r\nsecond line\n", 20), 0);
	assert_int_equal(fmt_key_pass(&pass, f, NULL, &err), JOS_OK);
	assert_string_equal(pass, "s3cret");
	fmt_key_pass_free(pass);
	assert_int_equal(fmt_key_pass(&pass, NULL, NULL, &err), JOS_OK);
	assert_null(pass);
	assert_int_equal(fmt_key_pass(&pass, test_pki("nope.txt"), NULL, &err), JOS_ECRYPTO);
	assert_null(pass);
	assert_int_equal(fmt_key_pass(&pass, f, "HOME", &err), JOS_EUSAGE);
	assert_null(pass);
	assert_non_null(strstr(err.msg, "not both"));
	fmt_key_pass_free(NULL);
}

static void test_fmt_sign_key__pkcs11_uri_recognised(void **state)
{
	(void)state;
	assert_true(fmt_key_is_pkcs11("pkcs11:token=jos;object=signer"));
	assert_true(fmt_key_is_pkcs11("PKCS11:token=jos"));
	assert_false(fmt_key_is_pkcs11("pkcs11.pem"));
	assert_false(fmt_key_is_pkcs11("./pkcs11:token=jos"));
	assert_false(fmt_key_is_pkcs11("signer.key"));
	assert_false(fmt_key_is_pkcs11(NULL));
}

static void test_fmt_sign_key__pkcs11_uri_split(void **state)
{
	(void)state;
	char *u = NULL, *m = NULL;
	jos_err err;
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m, "pkcs11:token=jos;object=signer;type=private", &err),
			 JOS_OK);
	assert_string_equal(u, "pkcs11:token=jos;object=signer;type=private");
	assert_null(m);
	free(u);
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m,
					      "pkcs11:token=jos;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so",
					      &err),
			 JOS_OK);
	assert_string_equal(u, "pkcs11:token=jos;object=signer");
	assert_string_equal(m, "/usr/lib/softhsm/libsofthsm2.so");
	free(u);
	free(m);
	/* other query attributes stay, in order; module-path is percent-decoded */
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m,
					      "pkcs11:object=a%20b?x-a=1&module-path=/opt/my%20hsm/m.so&x-b=2",
					      &err),
			 JOS_OK);
	assert_string_equal(u, "pkcs11:object=a%20b?x-a=1&x-b=2");
	assert_string_equal(m, "/opt/my hsm/m.so");
	free(u);
	free(m);
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m, "pkcs11:token=jos?module-path=", &err), JOS_EUSAGE);
	assert_null(u);
	assert_null(m);
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m, "pkcs11:token=jos?module-path=/a%00b.so", &err),
			 JOS_EUSAGE);
	assert_int_equal(fmt_pkcs11_uri_split(&u, &m, "pkcs11:token=jos?module-name=softhsm2", &err),
			 JOS_EUSAGE);
	assert_non_null(strstr(err.msg, "module-path"));
	assert_null(u);
}

static void test_fmt_sign_key__pkcs11_pin_in_uri_refused(void **state)
{
	(void)state;
	static const char *const uris[] = {
		"pkcs11:token=jos;object=signer?pin-value=1234",
		"pkcs11:token=jos;object=signer?module-path=/x.so&pin-source=file:/tmp/pin",
		"pkcs11:token=jos;pin-value=1234;object=signer",
		"pkcs11:pin-source=/tmp/pin",
	};
	char *u = NULL, *m = NULL;
	jos_err err;
	fmt_signer *s = NULL;
	for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		assert_int_equal(fmt_pkcs11_uri_split(&u, &m, uris[i], &err), JOS_EUSAGE);
		assert_null(u);
		assert_null(m);
		assert_non_null(strstr(err.msg, "--key-pass-env"));
		fmt_key_opts o = { .pass = "1234", .allow_insecure = false };
		assert_int_equal(fmt_signer_open_ex(&s, uris[i], test_pki("signer.pem"), &o, &err), JOS_EUSAGE);
		assert_null(s);
	}
}

/* No token behind the URI: a clear error, no prompt (stdin is not read). */
static void test_fmt_sign_key__pkcs11_unreachable_token_fails(void **state)
{
	(void)state;
	jos_err err;
	fmt_signer *s = NULL;
	fmt_key_opts o = { .pass = "1234", .allow_insecure = false };
	assert_int_equal(fmt_signer_open_ex(&s, "pkcs11:token=nowhere;object=x?module-path=/nonexistent/p11.so",
					    test_pki("signer.pem"), &o, &err),
			 JOS_ECRYPTO);
	assert_null(s);
	assert_non_null(strstr(err.msg, "pkcs11:token=nowhere;object=x"));
	/* the certificate is read first: a missing one is reported before any token work */
	assert_int_equal(fmt_signer_open_ex(&s, "pkcs11:token=nowhere;object=x", test_pki("nope.pem"), &o, &err),
			 JOS_EIO);
}

static EVP_PKEY *read_key(const char *name)
{
	FILE *f = fopen(test_pki(name), "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static X509 *read_cert(const char *name)
{
	FILE *f = fopen(test_pki(name), "r");
	assert_non_null(f);
	X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(c);
	return c;
}

static void test_fmt_sign_key__selftest_signs_and_verifies(void **state)
{
	(void)state;
	jos_err err;
	EVP_PKEY *rsa = read_key("signer.key"), *ec = read_key("signer-ec.key");
	X509 *rc = read_cert("signer.pem"), *ecc = read_cert("signer-ec.pem"), *att = read_cert("attacker.pem");
	assert_int_equal(fmt_key_selftest(rsa, X509_get0_pubkey(rc), "signer.key", &err), JOS_OK);
	assert_int_equal(fmt_key_selftest(ec, X509_get0_pubkey(ecc), "signer-ec.key", &err), JOS_OK);
	/* the same name and algorithm, another key: the signature does not verify */
	assert_int_equal(fmt_key_selftest(rsa, X509_get0_pubkey(att), "signer.key", &err), JOS_ECRYPTO);
	assert_non_null(strstr(err.msg, "does not verify"));
	assert_int_equal(fmt_key_selftest(ec, X509_get0_pubkey(rc), "signer-ec.key", &err), JOS_ECRYPTO);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	X509_free(rc);
	X509_free(ecc);
	X509_free(att);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_sign_key__owner_only_file_is_read),
		cmocka_unit_test(test_fmt_sign_key__group_or_other_access_refused),
		cmocka_unit_test(test_fmt_sign_key__insecure_file_allowed_when_asked),
		cmocka_unit_test(test_fmt_sign_key__not_a_regular_file_or_missing),
		cmocka_unit_test(test_fmt_sign_key__pass_from_environment),
		cmocka_unit_test(test_fmt_sign_key__pass_from_file_or_nowhere),
		cmocka_unit_test(test_fmt_sign_key__pkcs11_uri_recognised),
		cmocka_unit_test(test_fmt_sign_key__pkcs11_uri_split),
		cmocka_unit_test(test_fmt_sign_key__pkcs11_pin_in_uri_refused),
		cmocka_unit_test(test_fmt_sign_key__pkcs11_unreachable_token_fails),
		cmocka_unit_test(test_fmt_sign_key__selftest_signs_and_verifies),
	};
	return cmocka_run_group_tests(tests, test_crypto_pki_setup, test_crypto_pki_teardown);
}
