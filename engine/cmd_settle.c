/*
 * cmd_settle.c: `jos-settle settle DATA_DIR -o OUT_DIR --key KEY --cert CERT.pem
 * [--key-pass-file F | --key-pass-env NAME] [--allow-insecure-key-file] [--force]`:
 * load and validate the data, compute the settlement,
 * sign one statement per outside municipality with an agreement and pupils, and write
 * summary.csv, statements/CODE.xml and SHA256SUMS into OUT_DIR, whole or not at all.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli.h"
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "formats/formats.h"

enum { OPT_OUTPUT, OPT_KEY, OPT_CERT, OPT_PASSFILE, OPT_PASSENV, OPT_INSECURE, OPT_FORCE };

static const cli_opt opts[] = {
	[OPT_OUTPUT] = { "--output", "OUT_DIR", "output folder (also -o); must be absent or empty" },
	[OPT_KEY] = { "--key", "KEY",
		      "signing key, RSA >= 2048 bits or EC P-256: a PEM file only its owner"
		      "\n                             may read (mode 0600), or an RFC 7512 PKCS#11 URI whose key"
		      "\n                             stays in the token: 'pkcs11:token=T;object=O[?module-path=M.so]'" },
	[OPT_CERT] = { "--cert", "CERT.pem", "X.509 certificate of the signing key" },
	[OPT_PASSFILE] = { "--key-pass-file", "F",
			   "file whose first line is the key's passphrase or the token's PIN" },
	[OPT_PASSENV] = { "--key-pass-env", "NAME",
			  "the environment variable NAME holds the passphrase or PIN" },
	[OPT_INSECURE] = { "--allow-insecure-key-file", NULL,
			   "accept a key file that group or others may access" },
	[OPT_FORCE] = { "--force", NULL, "replace an existing OUT_DIR as a whole" },
	{ NULL, NULL, NULL },
};

const cli_cmd cli_cmd_settle = {
	"settle",
	"DATA_DIR -o OUT_DIR --key KEY --cert CERT.pem [--key-pass-file F | --key-pass-env NAME]\n"
	"       [--allow-insecure-key-file] [--force]",
	"Compute the settlement and write signed statements, summary.csv and SHA256SUMS.",
	opts,
	cmd_settle,
};

/* What is signed must read back as what was built, with a signature that verifies: when
 * memory runs out, libxml2 can lose an element's name or text, or part of the canonical
 * form, and still return a document, which would be signed (found by tests/torture.sh).
 * Out of memory here is an error too (exit 2, never 1). */
static int check_signed(const char *xml, size_t len, const fmt_stmt *st, fmt_signer *signer,
			jos_err *err)
{
	xmlDocPtr d = len <= INT_MAX ? xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET) : NULL;
	fmt_stmt got;
	char why[256];
	int rc;
	if (!d)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "cannot read back a signed statement (out of memory?)");
	if ((rc = fmt_sign_check(signer, d, err)) != JOS_OK) {
		xmlFreeDoc(d);
		return rc;
	}
	rc = fmt_stmt_from_xml(&got, d, err);
	xmlFreeDoc(d);
	if (rc != JOS_OK)
		return jos_err_set(err, rc == JOS_ENOMEM ? rc : JOS_EINTERNAL, "", 0,
				   "a signed statement does not read back: %.200s", err->msg);
	rc = fmt_stmt_compare(st, &got, why, sizeof why);
	fmt_stmt_free(&got);
	if (rc)
		return jos_err_set(err, JOS_EINTERNAL, "", 0,
				   "a signed statement differs from what was built: %s", why);
	return JOS_OK;
}

static int write_statements(fmt_outdir *od, const jos_dataset *ds, const eng_settlement *s,
			    fmt_signer *signer, jos_err *err)
{
	int rc = JOS_OK;
	for (size_t i = 0; i < s->nrows && rc == JOS_OK; i++) {
		const eng_row *r = &s->rows[i];
		fmt_stmt st;
		void *doc = NULL;
		char *xml = NULL, rel[64];
		size_t len = 0;
		if (!r->statement)
			continue;
		memset(&st, 0, sizeof st);
		rc = fmt_stmt_build(&st, ds, s, r, err);
		if (rc == JOS_OK)
			rc = fmt_stmt_to_xml(&doc, &st, err);
		if (rc == JOS_OK)
			rc = fmt_sign(&xml, &len, signer, doc, err);
		if (rc == JOS_OK)
			rc = check_signed(xml, len, &st, signer, err);
		if (rc == JOS_OK) {
			snprintf(rel, sizeof rel, "statements/%s.xml", ds->munis[r->muni].code);
			rc = fmt_outdir_write(od, rel, xml, len, err);
		}
		free(xml);
		xmlFreeDoc(doc);
		fmt_stmt_free(&st);
	}
	return rc;
}

int cmd_settle(int argc, char **argv)
{
	cli_args a;
	jos_err err;
	jos_errlist problems;
	jos_dataset *ds = NULL;
	eng_settlement *s = NULL;
	fmt_signer *signer = NULL;
	fmt_outdir *od = NULL;
	char *pass = NULL, *summary = NULL;
	size_t summary_len = 0;
	bool crypto = false;
	int rc;

	jos_err_clear(&err);
	jos_errlist_init(&problems);
	if ((rc = cli_parse(&a, &cli_cmd_settle, argc, argv)) != JOS_OK)
		return rc;
	if (a.npos != 1) {
		rc = cli_usage_error(&cli_cmd_settle, "settle: expected one DATA_DIR, got %d arguments", a.npos);
		goto done;
	}
	if (!a.val[OPT_OUTPUT] || !a.val[OPT_KEY] || !a.val[OPT_CERT]) {
		rc = cli_usage_error(&cli_cmd_settle, "settle: -o OUT_DIR, --key and --cert are required");
		goto done;
	}
	if (a.val[OPT_PASSFILE] && a.val[OPT_PASSENV]) {
		rc = cli_usage_error(&cli_cmd_settle, "settle: give --key-pass-file or --key-pass-env, not both");
		goto done;
	}

	/* SPEC: a non-empty OUT_DIR without --force is refused before any data is read. */
	if ((rc = fmt_outdir_check(a.val[OPT_OUTPUT], a.val[OPT_FORCE] != NULL, &err)) != JOS_OK) {
		if (rc == JOS_EUSAGE) {
			rc = cli_usage_error(&cli_cmd_settle, "%s: %s", err.file, err.msg);
			goto done;
		}
		goto fail;
	}

	rc = fmt_dataset_load(&ds, a.pos[0], &problems);
	if (rc != JOS_OK || problems.nerrors) {
		cli_print_problems(stderr, &problems, 100);
		if (rc == JOS_OK)
			rc = JOS_EINVALID;
		goto done;
	}
	if ((rc = eng_settle(&s, ds, &problems, &err)) != JOS_OK)
		goto fail;
	cli_print_problems(stderr, &problems, 100); /* warnings */

	if ((rc = fmt_crypto_init(&err)) != JOS_OK)
		goto fail;
	crypto = true;
	/* the passphrase or PIN never comes from argv itself: a file or the environment */
	if ((rc = fmt_key_pass(&pass, a.val[OPT_PASSFILE], a.val[OPT_PASSENV], &err)) != JOS_OK)
		goto fail;
	fmt_key_opts ko = { .pass = pass, .allow_insecure = a.val[OPT_INSECURE] != NULL };
	if ((rc = fmt_signer_open_ex(&signer, a.val[OPT_KEY], a.val[OPT_CERT], &ko, &err)) != JOS_OK)
		goto fail;

	if ((rc = fmt_outdir_begin(&od, a.val[OPT_OUTPUT], &err)) != JOS_OK)
		goto fail;
	if ((rc = write_statements(od, ds, s, signer, &err)) != JOS_OK)
		goto fail;
	if ((rc = fmt_summary_csv(&summary, &summary_len, ds, s, &err)) != JOS_OK)
		goto fail;
	if ((rc = fmt_outdir_write(od, "summary.csv", summary, summary_len, &err)) != JOS_OK)
		goto fail;
	if ((rc = fmt_outdir_commit(od, &err)) != JOS_OK)
		goto fail;
	goto done;
fail:
	cli_print_err(stderr, &err);
done:
	fmt_key_pass_free(pass);
	free(summary);
	fmt_outdir_free(od);
	fmt_signer_free(signer);
	if (crypto)
		fmt_crypto_shutdown();
	eng_settlement_free(s);
	eng_dataset_free(ds);
	jos_errlist_free(&problems);
	cli_args_free(&a);
	return rc;
}
