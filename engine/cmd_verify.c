/*
 * cmd_verify.c: `jos-settle verify --trust CA.pem [--data DATA_DIR] STATEMENT.xml...`
 * (SPEC "verify"). Prints `FILE: OK` or `FILE: FAILED: reason` per file on stdout.
 * Exit 0 when all are OK, 1 when any failed, 2 for usage and environment errors (an
 * unreadable trust file or DATA_DIR, a statement file that cannot be read).
 * The trust file is parsed once and the compiled schema and keys manager are reused
 * for every statement; with --data the dataset is loaded and settled once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/cli.h"
#include "formats/formats.h"

static const cli_opt opts[] = {
	{ "--trust", "CA.pem", "PEM file with the trusted CA certificate(s) (several allowed)" },
	{ "--data", "DATA_DIR", "also recompute each statement from this data and compare" },
	{ NULL, NULL, NULL },
};
enum { OPT_TRUST, OPT_DATA };

const cli_cmd cli_cmd_verify = {
	"verify", "--trust CA.pem [--data DATA_DIR] STATEMENT.xml...",
	"Verify signed settlement statements: safe parsing, schema, one enveloped signature over\n"
	"the whole document, a certificate chaining to --trust at the statement's IssueDate,\n"
	"and the arithmetic. Prints `FILE: OK` or `FILE: FAILED: reason` per file.",
	opts, cmd_verify,
};

/* The recomputation for --data: the dataset and its settlement, made once. */
typedef struct {
	jos_dataset *ds;
	eng_settlement *s;
} recompute;

static int recompute_open(recompute *r, const char *dir)
{
	jos_errlist errs, warns;
	jos_err err;
	jos_errlist_init(&errs);
	jos_errlist_init(&warns);
	jos_err_clear(&err);
	int rc = fmt_dataset_load(&r->ds, dir, &errs);
	if (rc != JOS_OK || errs.nerrors > 0) {
		fprintf(stderr, "jos-settle: verify --data %s: the data is not valid:\n", dir);
		cli_print_problems(stderr, &errs, 50);
		if (rc == JOS_OK)
			rc = JOS_EINVALID;
		goto done;
	}
	rc = eng_settle(&r->s, r->ds, &warns, &err);
	if (rc != JOS_OK)
		cli_print_err(stderr, &err);
done:
	jos_errlist_free(&errs);
	jos_errlist_free(&warns);
	return rc;
}

static void recompute_free(recompute *r)
{
	eng_settlement_free(r->s);
	eng_dataset_free(r->ds);
}

/* JOS_OK when the data gives the same statement; JOS_EVERIFY with why otherwise. */
static int compare_with_data(const recompute *r, const fmt_stmt *got, char *why, size_t whylen)
{
	int m = eng_muni_find(r->ds, got->recipient_code);
	const eng_row *row = NULL;
	for (size_t i = 0; m >= 0 && i < r->s->nrows; i++)
		if (r->s->rows[i].muni == (uint16_t)m && r->s->rows[i].statement)
			row = &r->s->rows[i];
	if (!row) {
		snprintf(why, whylen, "the data gives no statement for municipality %s", got->recipient_code);
		return JOS_EVERIFY;
	}
	fmt_stmt exp;
	jos_err err;
	int rc = fmt_stmt_build(&exp, r->ds, r->s, row, &err);
	if (rc != JOS_OK) {
		snprintf(why, whylen, "cannot recompute the statement: %.600s", err.msg);
		return rc;
	}
	rc = fmt_stmt_compare(&exp, got, why, whylen) ? JOS_EVERIFY : JOS_OK;
	fmt_stmt_free(&exp);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	cli_args a;
	fmt_verifier *v = NULL;
	recompute rec = { NULL, NULL };
	jos_err err;
	bool crypto = false;
	int rc = cli_parse(&a, &cli_cmd_verify, argc, argv);
	if (rc != JOS_OK)
		return rc;
	if (a.help) {
		cli_help(stdout, &cli_cmd_verify);
		goto done;
	}
	if (!a.val[OPT_TRUST] || !a.val[OPT_TRUST][0]) {
		rc = cli_usage_error(&cli_cmd_verify, "verify: --trust CA.pem is required");
		goto done;
	}
	if (a.npos == 0) {
		rc = cli_usage_error(&cli_cmd_verify, "verify: give at least one STATEMENT.xml");
		goto done;
	}
	jos_err_clear(&err);
	if ((rc = fmt_crypto_init(&err)) != JOS_OK) {
		cli_print_err(stderr, &err);
		goto done;
	}
	crypto = true;
	if ((rc = fmt_verifier_open(&v, a.val[OPT_TRUST], &err)) != JOS_OK) {
		cli_print_err(stderr, &err);
		goto done;
	}
	if (a.val[OPT_DATA] && (rc = recompute_open(&rec, a.val[OPT_DATA])) != JOS_OK)
		goto done;

	bool failed = false, ioerr = false;
	for (int i = 0; i < a.npos; i++) {
		const char *path = a.pos[i];
		char why[sizeof err.msg];
		char *buf = NULL;
		size_t len = 0;
		struct stat sb;
		int r;
		why[0] = '\0';
		if (stat(path, &sb) != 0) {
			snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
			r = JOS_EIO;
		} else if (sb.st_size > (off_t)FMT_STMT_MAX_BYTES) {
			snprintf(why, sizeof why, "the file is larger than %zu MB: refused unread",
				 FMT_STMT_MAX_BYTES >> 20);
			r = JOS_EVERIFY;
		} else if ((r = fmt_read_file(&buf, &len, path, FMT_STMT_MAX_BYTES, &err)) != JOS_OK) {
			snprintf(why, sizeof why, "%s", err.msg);
		} else {
			fmt_stmt st;
			r = fmt_verify_buffer(&st, v, buf, len, &err);
			if (r != JOS_OK)
				snprintf(why, sizeof why, "%s", err.msg);
			else if (rec.ds)
				r = compare_with_data(&rec, &st, why, sizeof why);
			fmt_stmt_free(&st);
		}
		free(buf);
		if (r == JOS_OK) {
			printf("%s: OK\n", path);
		} else {
			printf("%s: FAILED: %s\n", path, why);
			failed = true;
			if (r != JOS_EVERIFY && r != JOS_EINVALID)
				ioerr = true;
		}
	}
	fflush(stdout);
	rc = ioerr ? JOS_EIO : failed ? JOS_EVERIFY : JOS_OK;
done:
	recompute_free(&rec);
	fmt_verifier_free(v);
	if (crypto)
		fmt_crypto_shutdown();
	cli_args_free(&a);
	return rc;
}
