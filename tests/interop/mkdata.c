/*
 * mkdata.c: a driver for tests/verify.sh, built by that script against
 * $BUILD/libjos.a: settles DATA_DIR and writes each signed statement as
 * OUT/CODE.xml (or REPS copies OUT/CODE-NNN.xml), the way `settle` does, so that
 * `verify --data` can be tested on its own.
 *   mkdata DATA_DIR KEY.pem CERT.pem OUT [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats/formats.h"
#include "tests/support/stmt.h"

int main(int argc, char **argv)
{
	jos_err err;
	jos_errlist errs, warns;
	jos_dataset *ds = NULL;
	eng_settlement *s = NULL;
	fmt_signer *sg = NULL;
	int rc = 2, reps = argc > 5 ? atoi(argv[5]) : 1;
	jos_err_clear(&err);
	jos_errlist_init(&errs);
	jos_errlist_init(&warns);
	if (argc < 5 || fmt_crypto_init(&err) != JOS_OK)
		return 2;
	if (fmt_dataset_load(&ds, argv[1], &errs) != JOS_OK || errs.nerrors) {
		fprintf(stderr, "mkdata: %s is not valid\n", argv[1]);
		goto done;
	}
	if (eng_settle(&s, ds, &warns, &err) != JOS_OK || fmt_signer_open(&sg, argv[2], argv[3], NULL, &err) != JOS_OK)
		goto done;
	for (size_t i = 0; i < s->nrows; i++) {
		if (!s->rows[i].statement)
			continue;
		for (int k = 0; k < reps; k++) {
			fmt_stmt st;
			void *doc = NULL;
			char *out = NULL, path[1024];
			size_t len;
			if (fmt_stmt_build(&st, ds, s, &s->rows[i], &err) != JOS_OK)
				goto done;
			int r = fmt_stmt_to_xml(&doc, &st, &err);
			if (r == JOS_OK)
				r = fmt_sign(&out, &len, sg, doc, &err);
			if (reps > 1)
				snprintf(path, sizeof path, "%s/%s-%03d.xml", argv[4], st.recipient_code, k);
			else
				snprintf(path, sizeof path, "%s/%s.xml", argv[4], st.recipient_code);
			if (r == JOS_OK && test_write(path, out, len) != 0)
				r = JOS_EIO;
			free(out);
			xmlFreeDoc(doc);
			fmt_stmt_free(&st);
			if (r != JOS_OK)
				goto done;
		}
	}
	rc = 0;
done:
	if (rc && err.msg[0])
		fprintf(stderr, "mkdata: %s\n", err.msg);
	fmt_signer_free(sg);
	eng_settlement_free(s);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
	jos_errlist_free(&warns);
	fmt_crypto_shutdown();
	return rc;
}
