/*
 * fuzz_verify.c: libFuzzer harness for statement verification (formats/verify.c and
 * the statement reader behind it): statements arrive from other organisations, so
 * every byte of them is hostile until the signature and the chain say otherwise.
 *
 * One verifier is opened once on the test trust list tests/fuzz/data/verify-trust.pem
 * (public certificates only: two CAs; the seed statements in corpus/fuzz_verify were
 * signed once with throw-away keys of tests/support/pki.sh that were then deleted) and
 * fmt_verify_buffer runs on each input. Checked: the result is OK or JOS_EVERIFY with
 * a reason, and a statement that verifies reads back through fmt_stmt_to_xml and
 * fmt_stmt_from_xml to the same content (fmt_stmt_compare says equal).
 *
 * The signature-wrapping oracle: the fuzzer cannot sign, and every trusted seed
 * carries the same signed content (tests/support/stmt.c's sample). So any input that
 * verifies must have exactly that content: a mutation that verifies with different
 * content is a forged statement. The reference content is read once from the seed
 * corpus/fuzz_verify/signer.xml.
 *
 * FUZZ_VERIFY_TRUST and FUZZ_VERIFY_REF override the paths of the trust list and the
 * reference statement (default relative to the repository root, where make fuzz
 * runs); FUZZ_VERIFY_DEBUG=1 prints each result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats/formats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fmt_verifier *verifier;
static fmt_stmt reference;
static bool debug;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	jos_err err;
	const char *trust = getenv("FUZZ_VERIFY_TRUST");
	if (!trust)
		trust = "tests/fuzz/data/verify-trust.pem";
	debug = getenv("FUZZ_VERIFY_DEBUG") != NULL;
	jos_err_clear(&err);
	if (fmt_crypto_init(&err) != JOS_OK || fmt_verifier_open(&verifier, trust, &err) != JOS_OK) {
		fprintf(stderr, "fuzz_verify: cannot open the verifier on %s: %s\n", trust, err.msg);
		exit(2);
	}
	const char *ref = getenv("FUZZ_VERIFY_REF");
	char *buf = NULL;
	size_t len = 0;
	if (!ref)
		ref = "tests/fuzz/corpus/fuzz_verify/signer.xml";
	if (fmt_read_file(&buf, &len, ref, FMT_STMT_MAX_BYTES, &err) != JOS_OK ||
	    fmt_verify_buffer(&reference, verifier, buf, len, &err) != JOS_OK) {
		fprintf(stderr, "fuzz_verify: the reference statement %s does not verify: %s\n",
			ref, err.msg);
		exit(2);
	}
	free(buf);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jos_err err;
	fmt_stmt st;
	jos_err_clear(&err);
	int rc = fmt_verify_buffer(&st, verifier, (const char *)data, size, &err);
	if (debug)
		fprintf(stderr, "fuzz_verify: %s %s\n", rc == JOS_OK ? "OK" : "FAILED:", err.msg);
	if (rc != JOS_OK) {
		if (rc != JOS_EVERIFY || err.msg[0] == '\0') {
			fprintf(stderr, "fuzz_verify: rc %d, '%s'\n", rc, err.msg);
			abort();
		}
		fmt_stmt_free(&st);   /* zeroed by fmt_verify_buffer: must be harmless */
		return 0;
	}

	/* Verified: it is the signed content, nothing else. */
	char why[512];
	if (fmt_stmt_compare(&reference, &st, why, sizeof why) != 0) {
		fprintf(stderr, "fuzz_verify: FORGED: a statement verifies with content that "
				"was never signed: %s\n", why);
		abort();
	}

	/* Its content written again and read back is the same content. */
	void *doc = NULL;
	fmt_stmt back;
	memset(&back, 0, sizeof back);
	if (fmt_stmt_to_xml(&doc, &st, &err) != JOS_OK ||
	    fmt_stmt_from_xml(&back, doc, &err) != JOS_OK) {
		fprintf(stderr, "fuzz_verify: verified statement does not round-trip: %s\n", err.msg);
		abort();
	}
	if (fmt_stmt_compare(&st, &back, why, sizeof why) != 0) {
		fprintf(stderr, "fuzz_verify: round trip differs: %s\n", why);
		abort();
	}
	xmlFreeDoc(doc);
	fmt_stmt_free(&back);
	fmt_stmt_free(&st);
	return 0;
}
