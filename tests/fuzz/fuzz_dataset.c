/*
 * fuzz_dataset.c: libFuzzer harness for the whole DATA_DIR path: the loader
 * (formats/dataset.c with settings.c, csv.c, values.c), eng_dataset_validate, and for
 * a dataset without errors the settlement (eng_settle) and summary.csv.
 *
 * The input is cut at each 0x01 byte into settlement.ini, municipalities.csv,
 * schools.csv, costs.csv, enrolments.csv and agreements.csv, written into a private
 * temporary folder (made once); pieces the input does not have are absent files.
 * Checked: the loader returns JOS_OK or JOS_EINVALID exactly as errors were added,
 * every problem names one of the six files at a line inside that file (or 0), and a
 * dataset it accepts settles without a broken invariant (JOS_EINTERNAL) and with
 * JOS_EOVERFLOW only as an explained refusal.
 *
 * Then every statement of the settlement goes the way settle and verify take it:
 * fmt_stmt_build, fmt_stmt_to_xml, fmt_sign, fmt_verify_buffer; what settle signs must
 * verify and carry the same content (any school name, type, reference or IBAN the
 * loader accepts must survive XML). The key and certificates are a throw-away PKI
 * made at start-up by tests/support/pki.sh (no private key is kept in the repository).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "formats/formats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"settlement.ini", "municipalities.csv", "schools.csv",
	"costs.csv",      "enrolments.csv",     "agreements.csv",
};
#define NFILES (sizeof names / sizeof names[0])

static char dir[4096], pki[4096];
static fmt_signer *signer;
static fmt_verifier *verifier;

static const char *file_path(size_t i)
{
	static char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, names[i]);
	return p;
}

static void cleanup(void)
{
	char cmd[4200];
	for (size_t i = 0; i < NFILES; i++)
		unlink(file_path(i));
	rmdir(dir);
	if (pki[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_dataset: could not remove %s\n", pki);
	}
}

/* The throw-away PKI and the signer and verifier over it. */
static void open_pki(void)
{
	char cmd[4200], key[4200], cert[4200], ca[4200];
	jos_err err;
	snprintf(pki, sizeof pki, "%s/fuzz_dataset_pki.XXXXXX", "/tmp");
	if (!mkdtemp(pki)) {
		perror("fuzz_dataset: mkdtemp");
		exit(2);
	}
	snprintf(cmd, sizeof cmd, "bash tests/support/pki.sh '%s' >/dev/null", pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz_dataset: tests/support/pki.sh failed (run from the "
				"repository root)\n");
		exit(2);
	}
	snprintf(key, sizeof key, "%s/signer-ec.key", pki);
	snprintf(cert, sizeof cert, "%s/signer-ec.pem", pki);
	snprintf(ca, sizeof ca, "%s/ca.pem", pki);
	jos_err_clear(&err);
	if (fmt_crypto_init(&err) != JOS_OK || fmt_signer_open(&signer, key, cert, NULL, &err) ||
	    fmt_verifier_open(&verifier, ca, &err) != JOS_OK) {
		fprintf(stderr, "fuzz_dataset: signer or verifier: %s\n", err.msg);
		exit(2);
	}
	/* Both hold what they need in memory: remove the keys now, so that a crash (which
	 * skips atexit) leaves no key behind. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_dataset: could not remove %s\n", pki);
	pki[0] = '\0';
}

/* Every statement: built, written, signed, verified, and the same content. */
static void statements(const jos_dataset *ds, const eng_settlement *s)
{
	/* The test certificates are valid 2020-01-01 .. 2040-01-01: a statement dated
	 * after that rightly fails the chain check. */
	bool dated_ok = ds->set.statement_date < jos_day_from_ymd(2039, 12, 31);
	for (size_t i = 0; i < s->nrows; i++) {
		const eng_row *r = &s->rows[i];
		fmt_stmt st, back;
		void *doc = NULL;
		char *xml = NULL, why[512];
		size_t len = 0;
		jos_err err;
		if (!r->statement)
			continue;
		memset(&st, 0, sizeof st);
		jos_err_clear(&err);
		if (fmt_stmt_build(&st, ds, s, r, &err) != JOS_OK ||
		    fmt_stmt_to_xml(&doc, &st, &err) != JOS_OK ||
		    fmt_sign(&xml, &len, signer, doc, &err) != JOS_OK) {
			fprintf(stderr, "fuzz_dataset: statement for %s: %s\n",
				ds->munis[r->muni].code, err.msg);
			abort();
		}
		int rc = fmt_verify_buffer(&back, verifier, xml, len, &err);
		if (rc != JOS_OK && dated_ok) {
			fprintf(stderr, "fuzz_dataset: settle's statement for %s does not verify: "
					"%s\n%.*s\n", ds->munis[r->muni].code, err.msg, (int)len, xml);
			abort();
		}
		if (rc == JOS_OK && fmt_stmt_compare(&st, &back, why, sizeof why) != 0) {
			fprintf(stderr, "fuzz_dataset: statement for %s verifies with other "
					"content: %s\n", ds->munis[r->muni].code, why);
			abort();
		}
		if (rc == JOS_OK)
			fmt_stmt_free(&back);
		free(xml);
		xmlFreeDoc(doc);
		fmt_stmt_free(&st);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* tmpfs when there is one: on ext4, rewriting a truncated file flushes it at
	 * close (auto_da_alloc), which made this harness wait on the disk. */
	const char *tmp = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	snprintf(dir, sizeof dir, "%s/fuzz_dataset.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz_dataset: mkdtemp");
		exit(2);
	}
	atexit(cleanup);
	open_pki();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t nlines[NFILES];
	const uint8_t *p = data, *end = data + size;
	for (size_t i = 0; i < NFILES; i++) {
		const char *path = file_path(i);
		nlines[i] = 1;
		if (p > end) {
			unlink(path);
			continue;
		}
		const uint8_t *q = memchr(p, 1, (size_t)(end - p));
		if (!q)
			q = end;
		FILE *f = fopen(path, "wb");
		if (!f || (q > p && fwrite(p, 1, (size_t)(q - p), f) != (size_t)(q - p)) ||
		    fclose(f) != 0)
			abort();
		for (const uint8_t *r = p; r < q; r++)
			nlines[i] += *r == '\n';
		p = q + 1;
	}

	jos_dataset *ds = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	int rc = fmt_dataset_load(&ds, dir, &errs);
	if (rc != JOS_OK && rc != JOS_EINVALID) {
		fprintf(stderr, "fuzz_dataset: fmt_dataset_load returned %d\n", rc);
		abort();
	}
	if ((rc == JOS_EINVALID) != (errs.nerrors > 0))
		abort();
	for (size_t i = 0; i < errs.n; i++) {
		const jos_problem *pr = &errs.items[i];
		size_t f;
		for (f = 0; f < NFILES; f++)
			if (strcmp(pr->file, names[f]) == 0)
				break;
		if (f == NFILES || pr->line > nlines[f]) {
			fprintf(stderr, "problem outside the input: %s:%u: %s\n", pr->file,
				(unsigned)pr->line, pr->msg);
			abort();
		}
	}
	if (rc == JOS_OK) {
		eng_settlement *s = NULL;
		jos_errlist warn;
		jos_err err;
		jos_errlist_init(&warn);
		jos_err_clear(&err);
		int src = eng_settle(&s, ds, &warn, &err);
		if (src == JOS_OK) {
			char *csv = NULL;
			size_t len = 0;
			if (fmt_summary_csv(&csv, &len, ds, s, &err) != JOS_OK) {
				fprintf(stderr, "fuzz_dataset: summary.csv: %s\n", err.msg);
				abort();
			}
			free(csv);
			statements(ds, s);
		} else if (src != JOS_EOVERFLOW || !err.msg[0]) {
			fprintf(stderr, "fuzz_dataset: eng_settle returned %d: %s\n", src, err.msg);
			abort();
		}
		eng_settlement_free(s);
		jos_errlist_free(&warn);
	}
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
	return 0;
}
