/*
 * cmd_settle.c: `jos-settle settle DATA_DIR -o OUT_DIR --key KEY.pem --cert CERT.pem
 * [--key-pass-file F] [--force]`: load and validate the data, compute the settlement,
 * sign one statement per outside municipality with an agreement and pupils, and write
 * summary.csv, statements/CODE.xml and SHA256SUMS into OUT_DIR, whole or not at all.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/cli.h"
#include <libxml/tree.h>

#include "formats/formats.h"

enum { OPT_OUTPUT, OPT_KEY, OPT_CERT, OPT_PASSFILE, OPT_FORCE };

static const cli_opt opts[] = {
	[OPT_OUTPUT] = { "--output", "OUT_DIR", "output folder (also -o); must be absent or empty" },
	[OPT_KEY] = { "--key", "KEY.pem", "signing key (PEM; RSA >= 2048 bits or EC P-256)" },
	[OPT_CERT] = { "--cert", "CERT.pem", "X.509 certificate of the signing key" },
	[OPT_PASSFILE] = { "--key-pass-file", "F", "file whose first line is the key's passphrase" },
	[OPT_FORCE] = { "--force", NULL, "replace an existing OUT_DIR as a whole" },
	{ NULL, NULL, NULL },
};

const cli_cmd cli_cmd_settle = {
	"settle",
	"DATA_DIR -o OUT_DIR --key KEY.pem --cert CERT.pem [--key-pass-file F] [--force]",
	"Compute the settlement and write signed statements, summary.csv and SHA256SUMS.",
	opts,
	cmd_settle,
};

/* The passphrase is the file's first line, without its line ending. */
static int read_pass(char **out, const char *path, jos_err *err)
{
	size_t len;
	int rc = fmt_read_file(out, &len, path, 4096, err);
	if (rc)
		return rc == JOS_EIO ? JOS_ECRYPTO : rc;
	(*out)[strcspn(*out, "\r\n")] = '\0';
	return JOS_OK;
}

static int write_statements(fmt_outdir *od, const jos_dataset *ds, const eng_settlement *s,
			    fmt_signer *signer, jos_err *err)
{
	fmt_stmt_signer *ss = NULL;
	int rc = fmt_stmt_signer_open(&ss, signer, err);
	for (size_t i = 0; i < s->nrows && rc == JOS_OK; i++) {
		const eng_row *r = &s->rows[i];
		fmt_stmt st;
		char *xml = NULL, rel[64];
		size_t len = 0;
		if (!r->statement)
			continue;
		memset(&st, 0, sizeof st);
		rc = fmt_stmt_build(&st, ds, s, r, err);
		if (rc == JOS_OK)
			rc = fmt_stmt_sign(&xml, &len, ss, &st, err);
		if (rc == JOS_OK) {
			snprintf(rel, sizeof rel, "statements/%s.xml", ds->munis[r->muni].code);
			rc = fmt_outdir_write(od, rel, xml, len, err);
		}
		free(xml);
		fmt_stmt_free(&st);
	}
	fmt_stmt_signer_free(ss);
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
	if (a.val[OPT_PASSFILE] && (rc = read_pass(&pass, a.val[OPT_PASSFILE], &err)) != JOS_OK)
		goto fail;
	if ((rc = fmt_signer_open(&signer, a.val[OPT_KEY], a.val[OPT_CERT], pass, &err)) != JOS_OK)
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
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
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
