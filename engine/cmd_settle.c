/*
 * cmd_settle.c: `jos-settle settle DATA_DIR -o OUT_DIR --key KEY --cert CERT.pem
 * [--key-pass-file F | --key-pass-env NAME] [--allow-insecure-key-file] [--force]`:
 * load and validate the data, compute the settlement,
 * sign one statement per outside municipality with an agreement and pupils, and write
 * summary.csv, statements/CODE.xml and SHA256SUMS into OUT_DIR, whole or not at all.
 */
#include <limits.h>
#include <pthread.h>
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

/* ---- statements: built, signed and written on every core ---------------------------
 * Each statement is built, signed and written independently (fmt_stmt_sign on the fast
 * path shares only read-only state; fmt_outdir_write may run in several threads), so
 * the threads, the main one included, take statements in row order and each writes
 * its own file: the output folder gets the same bytes as with one thread (SHA256SUMS
 * is sorted). Each thread reuses its buffers, so a statement faults in no fresh pages.
 * When statements fail, the first in row order is reported, as with one thread: every
 * statement before it was taken before it. JOS_THREADS=1 (or a key that may not be used
 * from several threads) does everything in the main thread. */

typedef struct {
	const jos_dataset *ds;
	const eng_settlement *s;
	fmt_stmt_signer *ss;
	fmt_signer *signer;
	fmt_outdir *od;
	fmt_line_tags *tags; /* the schools' Line start tags, on the fast path */
	size_t *rows;        /* settlement rows with a statement, in order */
	size_t n;
	size_t next;         /* the next statement a thread takes */
	size_t failed;       /* the first statement that failed, n when none */
	int rc;              /* its error */
	jos_err err;
	pthread_mutex_t mu;
} stmt_pool;

static int make_statement(fmt_stmt_buf *b, const stmt_pool *p, size_t i, jos_err *err)
{
	fmt_stmt st;
	int rc = fmt_stmt_build_tagged(&st, p->ds, p->s, &p->s->rows[p->rows[i]], p->tags, err);
	if (rc == JOS_OK)
		rc = fmt_stmt_sign_buf(b, p->ss, &st, err);
	/* The tree path (libxml2 + xmlsec) can lose data under memory pressure without
	 * an error (tests/torture.sh): read it back and check it. The fast path writes
	 * its bytes itself and was proven equal to the tree path when it was opened. */
	if (rc == JOS_OK && !fmt_stmt_signer_fast(p->ss))
		rc = check_signed(b->xml, b->len, &st, p->signer, err);
	fmt_stmt_free(&st);
	if (rc == JOS_OK) {
		char rel[64];
		snprintf(rel, sizeof rel, "statements/%s.xml",
			 p->ds->munis[p->s->rows[p->rows[i]].muni].code);
		rc = fmt_outdir_write(p->od, rel, b->xml, b->len, err);
	}
	return rc;
}

static void *stmt_worker(void *arg)
{
	stmt_pool *p = arg;
	fmt_stmt_buf b = { 0 };
	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n || p->failed < p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);

		jos_err e;
		jos_err_clear(&e);
		int rc = make_statement(&b, p, i, &e);
		if (rc != JOS_OK) {
			pthread_mutex_lock(&p->mu);
			if (i < p->failed) {
				p->failed = i;
				p->rc = rc;
				p->err = e;
			}
			pthread_mutex_unlock(&p->mu);
		}
	}
	fmt_stmt_buf_free(&b);
	return NULL;
}

static int write_statements(fmt_outdir *od, const jos_dataset *ds, const eng_settlement *s,
			    fmt_signer *signer, fmt_line_tags **tags, jos_err *err)
{
	stmt_pool p;
	pthread_t tid[FMT_MAX_THREADS];
	int nt = 0, rc;
	memset(&p, 0, sizeof p);
	p.ds = ds;
	p.s = s;
	p.signer = signer;
	p.od = od;
	if ((rc = fmt_stmt_signer_open(&p.ss, signer, err)) != JOS_OK)
		return rc;
	/* the tags made on the early thread, else here */
	if (fmt_stmt_signer_fast(p.ss) && !*tags && (rc = fmt_line_tags_make(tags, ds, err)) != JOS_OK)
		goto done;
	if (fmt_stmt_signer_fast(p.ss))
		p.tags = *tags;
	p.rows = malloc((s->nrows ? s->nrows : 1) * sizeof *p.rows);
	if (!p.rows) {
		rc = jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < s->nrows; i++)
		if (s->rows[i].statement)
			p.rows[p.n++] = i;
	p.failed = p.n;
	pthread_mutex_init(&p.mu, NULL);

	/* the main thread is one of the workers */
	int want = fmt_stmt_signer_concurrent(p.ss) ? fmt_thread_count() : 1;
	for (; nt + 1 < want && (size_t)nt + 1 < p.n; nt++)
		if (pthread_create(&tid[nt], NULL, stmt_worker, &p) != 0)
			break;
	stmt_worker(&p);
	for (int t = 0; t < nt; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.failed < p.n) {
		rc = p.rc;
		*err = p.err;
	}
done:
	free(p.rows);
	fmt_stmt_signer_free(p.ss);
	return rc;
}

/* ---- the output folder made while the settlement is computed ---------------------
 * Creating 286 files in a folder costs 30-150 ms of kernel time on ext4 when files were
 * deleted there shortly before (under the folder's lock, so the statement threads took
 * turns); reopening them costs ~3 ms. So while the settlement is computed, another
 * thread makes the schools' Line tags, the temporary folder, and then an empty file for
 * every municipality that can get a statement (outside the region, with an agreement),
 * in the order the statements are written. The statements start as soon as the folder
 * is there (a file not made yet is made by its writer; the preparing thread then finds
 * it and skips it); the thread is joined before the commit. Nothing is reported from
 * there: when it fails, the folder is made at its usual place, which reports as before;
 * files never written are removed at commit; a failed run removes the folder. */
typedef struct {
	const char *path;
	const jos_dataset *ds;
	fmt_outdir *od;        /* taken by the main thread once ready */
	fmt_line_tags *tags;
	bool ready;            /* tags and folder made (or failed) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
} early_dir;

static void *make_early_dir(void *arg)
{
	early_dir *j = arg;
	fmt_line_tags *tags = NULL;
	fmt_outdir *od = NULL;
	jos_err e;
	if (fmt_line_tags_make(&tags, j->ds, &e) != JOS_OK)
		tags = NULL;   /* made by write_statements, which reports */
	if (fmt_outdir_begin(&od, j->path, &e) != JOS_OK)
		od = NULL;     /* made at its usual place, which reports */
	pthread_mutex_lock(&j->mu);
	j->tags = tags;
	j->od = od;
	j->ready = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (size_t mu = 0; od && mu < j->ds->nmunis; mu++) {
		char rel[64];
		if (j->ds->munis[mu].in_region || !j->ds->muni_agreement ||
		    j->ds->muni_agreement[mu] < 0)
			continue;
		snprintf(rel, sizeof rel, "statements/%s.xml", j->ds->munis[mu].code);
		fmt_outdir_prepare(od, rel);
	}
	return NULL;
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
	bool crypto = false, early = false;
	early_dir ed = { .ready = false };
	pthread_t early_tid;
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

	cli_keep_memory();
	fmt_phase("start");
	rc = fmt_dataset_load(&ds, a.pos[0], &problems);
	if (rc != JOS_OK || problems.nerrors) {
		cli_print_problems(stderr, &problems, 100);
		if (rc == JOS_OK)
			rc = JOS_EINVALID;
		goto done;
	}
	ed.path = a.val[OPT_OUTPUT];
	ed.ds = ds;
	pthread_mutex_init(&ed.mu, NULL);
	pthread_cond_init(&ed.cv, NULL);
	if (fmt_thread_count() > 1 && pthread_create(&early_tid, NULL, make_early_dir, &ed) == 0)
		early = true;
	if ((rc = eng_settle_mt(&s, ds, &problems, fmt_thread_count(), &err)) != JOS_OK)
		goto fail;
	cli_print_problems(stderr, &problems, 100); /* warnings */
	fmt_phase("measures and settlement");

	if ((rc = fmt_crypto_init(&err)) != JOS_OK)
		goto fail;
	crypto = true;
	/* the passphrase or PIN never comes from argv itself: a file or the environment */
	if ((rc = fmt_key_pass(&pass, a.val[OPT_PASSFILE], a.val[OPT_PASSENV], &err)) != JOS_OK)
		goto fail;
	fmt_key_opts ko = { .pass = pass, .allow_insecure = a.val[OPT_INSECURE] != NULL };
	if ((rc = fmt_signer_open_ex(&signer, a.val[OPT_KEY], a.val[OPT_CERT], &ko, &err)) != JOS_OK)
		goto fail;

	if (early) {   /* the folder made on the early thread, which goes on preparing */
		pthread_mutex_lock(&ed.mu);
		while (!ed.ready)
			pthread_cond_wait(&ed.cv, &ed.mu);
		od = ed.od;
		ed.od = NULL;
		pthread_mutex_unlock(&ed.mu);
	}
	if (!od && (rc = fmt_outdir_begin(&od, a.val[OPT_OUTPUT], &err)) != JOS_OK)
		goto fail;
	fmt_phase("open signer and OUT_DIR");
	if ((rc = write_statements(od, ds, s, signer, &ed.tags, &err)) != JOS_OK)
		goto fail;
	fmt_phase("statements");
	if ((rc = fmt_summary_csv(&summary, &summary_len, ds, s, &err)) != JOS_OK)
		goto fail;
	if ((rc = fmt_outdir_write(od, "summary.csv", summary, summary_len, &err)) != JOS_OK)
		goto fail;
	fmt_phase("summary.csv");
	if (early) {   /* done preparing before the commit removes what was not written */
		pthread_join(early_tid, NULL);
		early = false;
	}
	if ((rc = fmt_outdir_commit(od, &err)) != JOS_OK)
		goto fail;
	fmt_phase("commit OUT_DIR");
	goto done;
fail:
	cli_print_err(stderr, &err);
done:
	if (early)
		pthread_join(early_tid, NULL);
	if (ed.ds) {
		pthread_mutex_destroy(&ed.mu);
		pthread_cond_destroy(&ed.cv);
	}
	fmt_outdir_free(ed.od);   /* made early, not used: removed */
	fmt_line_tags_free(ed.tags);
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
