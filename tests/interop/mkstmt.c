/*
 * mkstmt.c: a tiny driver for tests/interop.sh, built by that script against
 * $BUILD/libjos.a. It writes the hand-made sample statement (tests/support/stmt.c):
 *   mkstmt sign KEY.pem CERT.pem OUT.xml   signed by our signer
 *   mkstmt template OUT.xml [ec]           unsigned, with our signature template, for
 *                                          `xmlsec1 --sign`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats/formats.h"
#include "formats/sign_int.h"
#include "tests/support/stmt.h"

int main(int argc, char **argv)
{
	jos_err err;
	fmt_stmt st;
	void *doc = NULL;
	int rc = 2;
	jos_err_clear(&err);
	if (argc < 3 || fmt_crypto_init(&err) != JOS_OK)
		return 2;
	test_stmt_sample(&st);
	if (fmt_stmt_to_xml(&doc, &st, &err) != JOS_OK)
		goto done;
	if (strcmp(argv[1], "sign") == 0 && argc == 5) {
		fmt_signer *s = NULL;
		char *out = NULL;
		size_t len = 0;
		if (fmt_signer_open(&s, argv[2], argv[3], NULL, &err) == JOS_OK &&
		    fmt_sign(&out, &len, s, doc, &err) == JOS_OK && test_write(argv[4], out, len) == 0)
			rc = 0;
		free(out);
		fmt_signer_free(s);
	} else if (strcmp(argv[1], "template") == 0) {
		bool ec = argc > 3 && strcmp(argv[3], "ec") == 0;
		if (fmt_sign_template(doc, ec, NULL, &err) == JOS_OK && xmlSaveFileEnc(argv[2], doc, "UTF-8") > 0)
			rc = 0;
	}
	if (rc != 0 && err.msg[0])
		fprintf(stderr, "mkstmt: %s\n", err.msg);
done:
	xmlFreeDoc(doc);
	fmt_stmt_free(&st);
	fmt_crypto_shutdown();
	return rc;
}
