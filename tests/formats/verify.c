/*
 * Tests of formats/verify.c: the attack battery (issue 4). Each case starts from a
 * valid signed statement and must be FAILED with a reason, without a crash; the traps
 * of notes/xmlsec-1.2.37.md are also proved against the xmlsec stage on its own, as if
 * the shape checks before it were bypassed.
 */
#include "support/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "formats/formats.h"
#include "formats/sign_int.h"
#include "tests/support/stmt.h"

static fmt_verifier *V;     /* trusts ca.pem */
static char *GOOD;          /* the sample signed by signer (RSA 2048) */
static size_t GOODLEN;

/* FAILED with a reason containing `want`. */
static void expect_failed(const char *buf, size_t len, const char *want)
{
	jos_err err;
	fmt_stmt st;
	int rc = fmt_verify_buffer(&st, V, buf, len, &err);
	if (rc != JOS_EVERIFY || !strstr(err.msg, want))
		fprintf(stderr, "rc %d, reason: %s\n(wanted: %s)\n", rc, err.msg, want);
	assert_int_equal(rc, JOS_EVERIFY);
	assert_non_null(strstr(err.msg, want));
}

static void expect_failed_str(const char *s, const char *want)
{
	assert_non_null(s);
	expect_failed(s, strlen(s), want);
}

/* Signs the sample with a template of our choosing, through xmlsec directly, the way
 * an attacker would (sha1, KeyValue, a second Reference, a 1024-bit key). */
static char *sign_custom(const fmt_stmt *st, const char *who, xmlSecTransformId sm, xmlSecTransformId dm,
			 bool keyvalue, const char *second_uri)
{
	char kp[64], cp[64];
	void *vdoc = NULL;
	jos_err err;
	snprintf(kp, sizeof kp, "%s.key", who);
	snprintf(cp, sizeof cp, "%s.pem", who);
	assert_int_equal(fmt_stmt_to_xml(&vdoc, st, &err), JOS_OK);
	xmlDocPtr doc = vdoc;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlSecKeyPtr key = xmlSecCryptoAppKeyLoad(test_pki(kp), xmlSecKeyDataFormatPem, NULL, NULL, NULL);
	assert_non_null(key);
	if (!keyvalue)
		assert_true(xmlSecCryptoAppKeyCertLoad(key, test_pki(cp), xmlSecKeyDataFormatPem) >= 0);
	xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, sm, NULL, BAD_CAST "ds");
	xmlAddChild(root, sig);
	xmlNodePtr ref = xmlSecTmplSignatureAddReference(sig, dm, NULL, BAD_CAST "", NULL);
	xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId);
	xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId);
	if (second_uri) {
		xmlAttrPtr id = xmlHasProp(root, BAD_CAST "Id");
		xmlAddID(NULL, doc, BAD_CAST st->statement_id, id);
		xmlNodePtr r2 = xmlSecTmplSignatureAddReference(sig, dm, NULL, BAD_CAST second_uri, NULL);
		xmlSecTmplReferenceAddTransform(r2, xmlSecTransformExclC14NId);
	}
	xmlNodePtr ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
	if (keyvalue)
		xmlSecTmplKeyInfoAddKeyValue(ki);
	else
		xmlSecTmplX509DataAddCertificate(xmlSecTmplKeyInfoAddX509Data(ki));
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
	ctx->signKey = key;
	assert_int_equal(xmlSecDSigCtxSign(ctx, sig), 0);
	xmlSecDSigCtxDestroy(ctx);
	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	char *out = strdup((const char *)mem);
	xmlFree(mem);
	xmlFreeDoc(doc);
	return out;
}

/* The xmlsec stage alone on a parsed document, at 2026-09-15 noon, any key. */
static int xmlsec_stage(const char *x, char *why, size_t whylen)
{
	xmlDocPtr doc = xmlReadMemory(x, (int)strlen(x), "t.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	int rc = fmt_verify_xmlsec(V, doc, fmt_verify_time(jos_day_from_ymd(2026, 9, 15)), NULL, why, whylen);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- the good ones ---------------------------------------------------------------- */

static void test_fmt_verify__valid_statement_ok(void **state)
{
	(void)state;
	jos_err err;
	fmt_stmt st;
	assert_int_equal(fmt_verify_buffer(&st, V, GOOD, GOODLEN, &err), JOS_OK);
	assert_string_equal(st.recipient_code, "0629");
	assert_int_equal(st.nlines, 2);
	assert_int_equal(st.lines[1].amount, 68890);
	fmt_stmt_free(&st);
}

static void test_fmt_verify__trust_bundle_split(void **state)
{
	(void)state;
	fmt_verifier *v = NULL;
	jos_err err;
	/* trust.pem holds other-ca first and ca second (trap 9) */
	assert_int_equal(fmt_verifier_open(&v, test_pki("trust.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(NULL, v, GOOD, GOODLEN, &err), JOS_OK);
	fmt_verifier_free(v);
	assert_int_equal(fmt_verifier_open(&v, test_pki("other-ca.pem"), &err), JOS_OK);
	assert_int_equal(fmt_verify_buffer(NULL, v, GOOD, GOODLEN, &err), JOS_EVERIFY);
	assert_non_null(strstr(err.msg, "does not chain"));
	fmt_verifier_free(v);
	assert_int_equal(fmt_verifier_open(&v, test_pki("nope.pem"), &err), JOS_EIO);
	assert_int_equal(fmt_verifier_open(&v, test_pki("signer.key"), &err), JOS_ECRYPTO);
	assert_null(v);
}

/* ---- content changed after signing --------------------------------------------------- */

static void test_fmt_verify__amount_changed(void **state)
{
	(void)state;
	char *x = test_replace(GOOD, "<Amount>1111.10</Amount>", "<Amount>1011.10</Amount>");
	expect_failed_str(x, "signature does not match");
	free(x);
	/* changed consistently with Net, so that the arithmetic holds */
	char *y = test_replace(GOOD, "<GrossShare>1234.56</GrossShare>", "<GrossShare>1334.56</GrossShare>");
	char *z = test_replace(y, "<Gross>2000.00</Gross>", "<Gross>2100.00</Gross>");
	expect_failed_str(z, "signature does not match");
	free(y);
	free(z);
}

static void test_fmt_verify__line_added_or_removed(void **state)
{
	(void)state;
	const char *a = strstr(GOOD, "    <Line school=\"S9\""), *b = strstr(GOOD, "  </Lines>");
	assert_non_null(a);
	assert_non_null(b);
	char *line = strndup(a, (size_t)(b - a));
	char *extra = malloc(strlen(line) * 2 + 1);
	strcpy(extra, line);
	strcat(extra, line);
	char *added = test_replace(GOOD, line, extra);
	expect_failed_str(added, "signature does not match");
	char *removed = test_replace(GOOD, line, "");
	expect_failed_str(removed, "signature does not match");
	free(line);
	free(extra);
	free(added);
	free(removed);
}

static void test_fmt_verify__wrapping(void **state)
{
	(void)state;
	const char *body = strstr(GOOD, "<Statement");
	char *forged = test_replace(body, "<Amount>1111.10</Amount>", "<Amount>1.10</Amount>");
	/* 1. the signed root moved under a new root, a forged copy beside it */
	size_t n = strlen(body) * 2 + 200;
	char *w = malloc(n);
	snprintf(w, n, "<?xml version=\"1.0\"?>\n<Wrapper xmlns=\"urn:jos-settle:statement:1\">%s%s</Wrapper>",
		 forged, body);
	expect_failed_str(w, "root element is not a Statement");
	free(w);
	/* 2. a forged Statement whose last child is the real signature, the signed
	 * original hidden in a ds:Object */
	const char *sig = strstr(GOOD, "<ds:Signature");
	char *forged_nosig = strndup(forged, (size_t)(strstr(forged, "<ds:Signature") - forged));
	w = malloc(n + strlen(sig));
	snprintf(w, n + strlen(sig),
		 "%s<ds:Object xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">%.*s</Statement></ds:Object>%s",
		 forged_nosig, (int)(strstr(body, "<ds:Signature") - body), body, sig);
	expect_failed_str(w, "ds:Object is not allowed");
	free(w);
	/* 3. the signed original nested inside the forged one: two signatures */
	char *outer = strndup(forged, (size_t)(strstr(forged, "</Statement>") - forged));
	w = malloc(n + 100);
	snprintf(w, n + 100, "%s%s</Statement>", outer, body);
	expect_failed_str(w, "duplicate Id");
	/* ... and with another Id on the forged outer one */
	char *w2 = test_replace(w, "Id=\"JOS-0546-20250801-0629\"", "Id=\"forged\"");
	expect_failed_str(w2, "more than one ds:Signature");
	free(w2);
	free(w);
	free(outer);
	free(forged_nosig);
	free(forged);
}

static void test_fmt_verify__duplicated_elements(void **state)
{
	(void)state;
	const char *a = strstr(GOOD, "  <Lines>"), *b = strstr(GOOD, "  <Totals>");
	char *lines = strndup(a, (size_t)(b - a));
	char *altered = test_replace(lines, "<Amount>1111.10</Amount>", "<Amount>11.10</Amount>");
	size_t n = strlen(lines) + strlen(altered) + 1;
	char *both = malloc(n);
	snprintf(both, n, "%s%s", altered, lines);
	char *x = test_replace(GOOD, lines, both);
	expect_failed_str(x, "schema");
	free(x);
	/* a duplicated Header */
	a = strstr(GOOD, "  <Header>");
	b = strstr(GOOD, "  <Lines>");
	char *hdr = strndup(a, (size_t)(b - a));
	char *two = malloc(strlen(hdr) * 2 + 1);
	strcpy(two, hdr);
	strcat(two, hdr);
	x = test_replace(GOOD, hdr, two);
	expect_failed_str(x, "schema");
	free(x);
	free(hdr);
	free(two);
	free(both);
	free(altered);
	free(lines);
}

static void test_fmt_verify__comment_injection(void **state)
{
	(void)state;
	char *x = test_replace(GOOD, "<Amount>1111.10</Amount>", "<Amount>1<!---->111.10</Amount>");
	expect_failed_str(x, "comment is not allowed");
	/* trap 3: the signature itself would still verify (exclusive C14N drops comments) */
	char why[300];
	assert_int_equal(xmlsec_stage(x, why, sizeof why), JOS_OK);
	free(x);
	char *pi = test_replace(GOOD, "<Header>", "<Header><?jos x?>");
	expect_failed_str(pi, "processing instruction");
	free(pi);
	char *cd = test_replace(GOOD, "<Status>invoiced</Status>", "<Status><![CDATA[invoiced]]></Status>");
	expect_failed_str(cd, "CDATA");
	free(cd);
}

static void test_fmt_verify__signature_removed_or_moved(void **state)
{
	(void)state;
	const char *a = strstr(GOOD, "<ds:Signature"), *b = strstr(GOOD, "</ds:Signature>");
	char *sig = strndup(a, (size_t)(b - a) + strlen("</ds:Signature>"));
	char *x = test_replace(GOOD, sig, "");
	expect_failed_str(x, "not signed");
	/* Signature not the last child: moved before Totals */
	size_t n = strlen(sig) + 20;
	char *moved = malloc(n);
	snprintf(moved, n, "%s  <Totals>", sig);
	char *y = test_replace(x, "  <Totals>", moved);
	expect_failed_str(y, "last child");
	/* ... or into the Header */
	snprintf(moved, n, "%s</Header>", sig);
	char *z = test_replace(x, "</Header>", moved);
	expect_failed_str(z, "last child");
	free(x);
	free(y);
	free(z);
	free(moved);
	free(sig);
}

static void alarm_fail(int sig)
{
	(void)sig;
	static const char m[] = "a file:// Reference was opened: trap 2 not defended\n";
	if (write(2, m, sizeof m - 1) < 0)
		_exit(98);
	_exit(99);
}

static void test_fmt_verify__second_reference_not_read(void **state)
{
	(void)state;
	fmt_stmt st;
	char fifo[300], uri[320], why[300];
	test_stmt_sample(&st);
	char *x = sign_custom(&st, "signer", xmlSecTransformRsaSha256Id, xmlSecTransformSha256Id, false,
			      "#JOS-0546-20250801-0629");
	expect_failed_str(x, "exactly one Reference");
	/* a file:// Reference to a FIFO: opening it would block, and the alarm fails the test */
	snprintf(fifo, sizeof fifo, "%s", test_pki("fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(uri, sizeof uri, "URI=\"file://%s\"", fifo);
	char *y = test_replace(x, "URI=\"#JOS-0546-20250801-0629\"", uri);
	signal(SIGALRM, alarm_fail);
	alarm(20);
	expect_failed_str(y, "exactly one Reference");
	/* trap 2: the xmlsec stage alone refuses it too, without opening it */
	assert_int_not_equal(xmlsec_stage(y, why, sizeof why), JOS_OK);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	unlink(fifo);
	free(x);
	free(y);
	fmt_stmt_free(&st);
}

/* ---- keys, certificates, algorithms ---------------------------------------------------- */

static void test_fmt_verify__self_signed_certificate_swapped(void **state)
{
	(void)state;
	fmt_stmt st;
	size_t len;
	char why[300];
	test_stmt_sample(&st);
	st.lines[0].amount = 1;     /* the attacker's own figures, consistently signed */
	st.lines[1].amount = 179999;
	char *x = test_sign_stmt(&len, &st, "attacker");
	expect_failed(x, len, "does not chain");
	/* the xmlsec stage alone also refuses the untrusted certificate */
	assert_int_not_equal(xmlsec_stage(x, why, sizeof why), JOS_OK);
	free(x);
	fmt_stmt_free(&st);
}

static void test_fmt_verify__bare_keyvalue(void **state)
{
	(void)state;
	fmt_stmt st;
	char why[300];
	test_stmt_sample(&st);
	char *x = sign_custom(&st, "attacker", xmlSecTransformRsaSha256Id, xmlSecTransformSha256Id, true, NULL);
	assert_non_null(strstr(x, "<ds:KeyValue>"));
	expect_failed_str(x, "KeyInfo must hold only X509Data");
	/* trap 1 and 7: xmlsec itself must not take the bare key */
	assert_int_not_equal(xmlsec_stage(x, why, sizeof why), JOS_OK);
	free(x);
	fmt_stmt_free(&st);
}

static void test_fmt_verify__weak_algorithm_rsa_sha1(void **state)
{
	(void)state;
	fmt_stmt st;
	char why[300];
	test_stmt_sample(&st);
	char *x = sign_custom(&st, "signer", xmlSecTransformRsaSha1Id, xmlSecTransformSha256Id, false, NULL);
	expect_failed_str(x, "xmldsig#rsa-sha1 is not allowed");
	/* trap 8: and xmlsec's allow-list refuses it on its own */
	assert_int_not_equal(xmlsec_stage(x, why, sizeof why), JOS_OK);
	free(x);
	x = sign_custom(&st, "signer", xmlSecTransformRsaSha256Id, xmlSecTransformSha1Id, false, NULL);
	expect_failed_str(x, "digest algorithm http://www.w3.org/2000/09/xmldsig#sha1 is not allowed");
	assert_int_not_equal(xmlsec_stage(x, why, sizeof why), JOS_OK);
	free(x);
	fmt_stmt_free(&st);
}

static void test_fmt_verify__rsa_1024_refused(void **state)
{
	(void)state;
	fmt_stmt st;
	test_stmt_sample(&st);
	char *x = sign_custom(&st, "rsa1024", xmlSecTransformRsaSha256Id, xmlSecTransformSha256Id, false, NULL);
	expect_failed_str(x, "RSA key of 1024 bits");
	free(x);
	fmt_stmt_free(&st);
}

static void test_fmt_verify__certificate_validity_at_issue_date(void **state)
{
	(void)state;
	fmt_stmt st;
	size_t len;
	jos_err err;
	test_stmt_sample(&st);
	char *x = test_sign_stmt(&len, &st, "expired");    /* valid 2020-01-01 .. 2021-01-01 */
	expect_failed(x, len, "certificate has expired");
	free(x);
	/* a certificate issued after the IssueDate is checked at its own start: statements
	 * are dated before they are signed (README, "Verification time") */
	x = test_sign_stmt(&len, &st, "notyet");           /* valid 2030 .. 2035 */
	assert_int_equal(fmt_verify_buffer(NULL, V, x, len, &err), JOS_OK);
	free(x);
	/* the same expired certificate is fine for a statement issued in its lifetime:
	 * the IssueDate decides, not the clock */
	st.issue_date = jos_day_from_ymd(2020, 6, 1);
	x = test_sign_stmt(&len, &st, "expired");
	assert_int_equal(fmt_verify_buffer(NULL, V, x, len, &err), JOS_OK);
	free(x);
	fmt_stmt_free(&st);
}

/* ---- hostile XML -------------------------------------------------------------------------- */

static void test_fmt_verify__billion_laughs(void **state)
{
	(void)state;
	const char *bl =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE Statement [\n"
		"<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
		"<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
		"]>\n<Statement xmlns=\"urn:jos-settle:statement:1\">&g;</Statement>\n";
	expect_failed_str(bl, "DOCTYPE");
	/* trap 5: the ~80-byte nested entities that overflow xmlSecFindNode's stack */
	expect_failed_str("<!DOCTYPE a[<!ENTITY b \"&c;\"><!ENTITY c \"&b;\">]><a>&b;</a>", "DOCTYPE");
	/* the same inside the real statement */
	char *x = test_replace(GOOD, "<Statement ", "<!DOCTYPE Statement [<!ENTITY b \"&c;\"><!ENTITY c \"&b;\">]>\n<Statement ");
	char *y = test_replace(x, "<Net>1800.00</Net>", "<Net>&b;</Net>");
	expect_failed_str(y, "DOCTYPE");
	free(x);
	free(y);
}

static void test_fmt_verify__external_entity(void **state)
{
	(void)state;
	char *x = test_replace(GOOD, "<Statement ", "<!DOCTYPE Statement [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Statement ");
	char *y = test_replace(x, "<Reference>", "<Reference>&xxe;");
	expect_failed_str(y, "DOCTYPE");
	free(x);
	free(y);
}

/* The byte scan cannot see a DOCTYPE in UTF-16; the parser's hook must. */
static void test_fmt_verify__doctype_in_utf16(void **state)
{
	(void)state;
	const char *s = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "
			"\"file:///etc/passwd\">]><a>&x;</a>";
	size_t n = strlen(s);
	char *u = malloc(2 * n + 2);
	u[0] = (char)0xff;
	u[1] = (char)0xfe;
	for (size_t i = 0; i < n; i++) {
		u[2 + 2 * i] = s[i];
		u[3 + 2 * i] = 0;
	}
	expect_failed(u, 2 * n + 2, "DOCTYPE");
	free(u);
}

static void test_fmt_verify__fifty_megabytes(void **state)
{
	(void)state;
	size_t n = 50u << 20;
	char *big = malloc(n);
	const char *tail = strstr(GOOD, "  <Totals>");
	size_t head = (size_t)(tail - GOOD), tl = strlen(tail);
	memcpy(big, GOOD, head);
	memset(big + head, ' ', n - head - tl);
	memcpy(big + n - tl, tail, tl);
	expect_failed(big, n, "larger than 10 MB");
	free(big);
}

static void test_fmt_verify__malformed_and_deep(void **state)
{
	(void)state;
	expect_failed(GOOD, GOODLEN / 2, "not well-formed");
	expect_failed("", 0, "not well-formed");
	size_t n = 20000;
	char *deep = malloc(n * 8 + 200);
	strcpy(deep, "<Statement xmlns=\"urn:jos-settle:statement:1\">");
	for (size_t i = 0; i < 3000; i++)
		strcat(deep + strlen(deep) - 0, "<a>");
	strcat(deep, "</Statement>");
	expect_failed_str(deep, "not well-formed");
	strcpy(deep, "<Statement xmlns=\"urn:jos-settle:statement:1\">");
	for (size_t i = 0; i < 100; i++)
		strcat(deep, "<a>");
	for (size_t i = 0; i < 100; i++)
		strcat(deep, "</a>");
	strcat(deep, "</Statement>");
	expect_failed_str(deep, "nested deeper");
	free(deep);
	char *ns = test_replace(GOOD, "urn:jos-settle:statement:1", "urn:evil");
	expect_failed_str(ns, "root element is not a Statement");
	free(ns);
}

/* trap 6: nothing of ours turns entity substitution or external DTD loading on */
static void test_fmt_verify__no_global_entity_settings(void **state)
{
	(void)state;
	int old = xmlSubstituteEntitiesDefault(0);
	assert_int_equal(old, 0);
	assert_int_equal(xmlLoadExtDtdDefaultValue, 0);
}

static void test_fmt_verify__xinclude_and_foreign_elements(void **state)
{
	(void)state;
	char *x = test_replace(GOOD, "<Header>",
			       "<Header><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"/etc/passwd\" parse=\"text\"/>");
	expect_failed_str(x, "foreign namespace");
	free(x);
}

static void test_fmt_verify__duplicate_id(void **state)
{
	(void)state;
	char *x = test_replace(GOOD, "<ds:Signature ", "<ds:Signature Id=\"JOS-0546-20250801-0629\" ");
	expect_failed_str(x, "duplicate Id");
	free(x);
}

/* ---- arithmetic of a statement signed by the trusted signer itself ----------------------- */

static void test_fmt_verify__arithmetic(void **state)
{
	(void)state;
	fmt_stmt st;
	size_t len;
	test_stmt_sample(&st);
	st.net = 180001;
	char *x = test_sign_stmt(&len, &st, "signer");
	expect_failed(x, len, "the line Amounts sum to 1800.00 but Net is 1800.01");
	free(x);
	st.net = 180000;
	st.gross = 199999;
	x = test_sign_stmt(&len, &st, "signer");
	expect_failed(x, len, "GrossShares sum to 2000.00 but Gross is 1999.99");
	free(x);
	st.gross = 200000;
	st.status = JOS_STATUS_BELOW_THRESHOLD;
	x = test_sign_stmt(&len, &st, "signer");
	expect_failed(x, len, "below_threshold");
	free(x);
	fmt_stmt_free(&st);
}

static int setup(void **state)
{
	jos_err err;
	fmt_stmt st;
	(void)state;
	if (fmt_crypto_init(&err) != JOS_OK)
		return -1;
	test_pki_make();
	if (fmt_verifier_open(&V, test_pki("ca.pem"), &err) != JOS_OK)
		return -1;
	test_stmt_sample(&st);
	GOOD = test_sign_stmt(&GOODLEN, &st, "signer");
	fmt_stmt_free(&st);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(GOOD);
	fmt_verifier_free(V);
	test_pki_remove();
	fmt_crypto_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_verify__valid_statement_ok),
		cmocka_unit_test(test_fmt_verify__trust_bundle_split),
		cmocka_unit_test(test_fmt_verify__amount_changed),
		cmocka_unit_test(test_fmt_verify__line_added_or_removed),
		cmocka_unit_test(test_fmt_verify__wrapping),
		cmocka_unit_test(test_fmt_verify__duplicated_elements),
		cmocka_unit_test(test_fmt_verify__comment_injection),
		cmocka_unit_test(test_fmt_verify__signature_removed_or_moved),
		cmocka_unit_test(test_fmt_verify__second_reference_not_read),
		cmocka_unit_test(test_fmt_verify__self_signed_certificate_swapped),
		cmocka_unit_test(test_fmt_verify__bare_keyvalue),
		cmocka_unit_test(test_fmt_verify__weak_algorithm_rsa_sha1),
		cmocka_unit_test(test_fmt_verify__rsa_1024_refused),
		cmocka_unit_test(test_fmt_verify__certificate_validity_at_issue_date),
		cmocka_unit_test(test_fmt_verify__billion_laughs),
		cmocka_unit_test(test_fmt_verify__external_entity),
		cmocka_unit_test(test_fmt_verify__doctype_in_utf16),
		cmocka_unit_test(test_fmt_verify__fifty_megabytes),
		cmocka_unit_test(test_fmt_verify__malformed_and_deep),
		cmocka_unit_test(test_fmt_verify__no_global_entity_settings),
		cmocka_unit_test(test_fmt_verify__xinclude_and_foreign_elements),
		cmocka_unit_test(test_fmt_verify__duplicate_id),
		cmocka_unit_test(test_fmt_verify__arithmetic),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
