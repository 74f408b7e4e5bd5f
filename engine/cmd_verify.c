/*
 * cmd_verify.c: `jos-settle verify --trust CA.pem [--data DATA_DIR] STATEMENT.xml...`
 * (SPEC "verify"). Prints `FILE: OK` or `FILE: FAILED: reason` per file on stdout.
 * Exit 0 when all are OK, 1 when any failed, 2 for usage and environment errors (an
 * unreadable trust file or DATA_DIR, a statement file that cannot be read).
 * The trust file is parsed once and the compiled schema and keys manager are reused
 * for every statement; with --data the dataset is loaded and settled once.
 * With several files and processors (fmt_thread_count; JOS_THREADS=1 for one thread)
 * statements are verified on worker threads, each with its own verifier, and the
 * results printed in the order of the arguments, as soon as each is known.
 */
#include <errno.h>
#include <pthread.h>
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
		if (rc == JOS_OK || rc == JOS_EINVALID) /* not when out of memory */
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

/* ---- one statement, and the workers ------------------------------------------ */

typedef struct {
	int rc;
	bool done;
	char why[sizeof(((jos_err *)0)->msg)];
} vresult;

typedef struct {
	const char *const *paths;
	size_t n;
	const recompute *rec;
	const char *trust;
	vresult *res;
	size_t next;
	bool threaded;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} vpool;

static void verify_one(vresult *out, fmt_verifier *v, const recompute *rec, const char *path)
{
	jos_err err;
	char *buf = NULL;
	size_t len = 0;
	struct stat sb;
	int r;
	char *why = out->why;
	size_t wl = sizeof out->why;
	jos_err_clear(&err);
	why[0] = '\0';
	if (stat(path, &sb) != 0) {
		snprintf(why, wl, "cannot read: %s", strerror(errno));
		r = JOS_EIO;
	} else if (sb.st_size > (off_t)FMT_STMT_MAX_BYTES) {
		snprintf(why, wl, "the file is larger than %zu MB: refused unread",
			 FMT_STMT_MAX_BYTES >> 20);
		r = JOS_EVERIFY;
	} else if ((r = fmt_read_file(&buf, &len, path, FMT_STMT_MAX_BYTES, &err)) != JOS_OK) {
		snprintf(why, wl, "%s", err.msg);
	} else {
		fmt_stmt st;
		r = fmt_verify_buffer(&st, v, buf, len, &err);
		if (r != JOS_OK)
			snprintf(why, wl, "%s", err.msg);
		else if (rec->ds)
			r = compare_with_data(rec, &st, why, wl);
		fmt_stmt_free(&st);
	}
	free(buf);
	out->rc = r;
}

static void *verify_worker(void *arg)
{
	vpool *p = arg;
	fmt_verifier *v = NULL;
	jos_err err;
	fmt_crypto_thread_init();
	int orc = fmt_verifier_open(&v, p->trust, &err);   /* one per thread */
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		vresult r;
		memset(&r, 0, sizeof r);
		if (orc != JOS_OK) {
			r.rc = orc;
			snprintf(r.why, sizeof r.why, "%s", err.msg);
		} else {
			verify_one(&r, v, p->rec, p->paths[i]);
		}
		r.done = true;
		pthread_mutex_lock(&p->mu);
		p->res[i] = r;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	fmt_verifier_free(v);
	return NULL;
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

	/* Each statement's tree, schema state and canonical bytes are allocated and freed
	 * again, on every thread: keep the memory for the next one (a third of the CPU time
	 * on big statements went to page faults and heap growth). */
	cli_keep_memory();
	bool failed = false, ioerr = false;
	vpool p;
	memset(&p, 0, sizeof p);
	p.paths = (const char *const *)a.pos;
	p.n = (size_t)a.npos;
	p.rec = &rec;
	p.trust = a.val[OPT_TRUST];
	p.res = calloc(p.n, sizeof *p.res);
	if (!p.res) {
		rc = jos_err_set(&err, JOS_ENOMEM, "", 0, "out of memory");
		cli_print_err(stderr, &err);
		goto done;
	}
	pthread_t tid[FMT_MAX_THREADS];
	int nt = 0, want = fmt_thread_count();
	if (want > 1 && p.n > 1) {
		pthread_mutex_init(&p.mu, NULL);
		pthread_cond_init(&p.cv, NULL);
		p.threaded = true;
		for (; nt < want && (size_t)nt < p.n; nt++)
			if (pthread_create(&tid[nt], NULL, verify_worker, &p) != 0)
				break;
	}
	for (size_t i = 0; i < p.n; i++) {
		vresult *r = &p.res[i];
		if (nt == 0) {
			verify_one(r, v, &rec, p.paths[i]);
		} else {
			pthread_mutex_lock(&p.mu);
			while (!r->done)
				pthread_cond_wait(&p.cv, &p.mu);
			pthread_mutex_unlock(&p.mu);
		}
		if (r->rc == JOS_OK) {
			printf("%s: OK\n", p.paths[i]);
		} else {
			printf("%s: FAILED: %s\n", p.paths[i], r->why);
			failed = true;
			if (r->rc != JOS_EVERIFY && r->rc != JOS_EINVALID)
				ioerr = true;
		}
	}
	for (int t = 0; t < nt; t++)
		pthread_join(tid[t], NULL);
	if (p.threaded) {
		pthread_cond_destroy(&p.cv);
		pthread_mutex_destroy(&p.mu);
	}
	free(p.res);
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
