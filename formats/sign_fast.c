/*
 * sign_fast.c: signed statements without a libxml2 tree (issue 7, national scale).
 *
 * fmt_stmt_to_xml + fmt_sign build a tree of ~15 nodes per Line, and xmlsec's enveloped
 * transform then tests every node against an XPath node set before exclusive C14N: at
 * 2.5 M enrolments that is most of `settle`. Here the statement is written straight into
 * two buffers: the serialised document (the bytes libxml2 writes) and its exclusive
 * canonical form minus the signature (the bytes xmlsec digests). The SignedInfo is
 * canonicalised from its fixed text, signed with OpenSSL, and the KeyInfo is the one
 * xmlsec writes for this signer.
 *
 * The bytes must be exactly those of the tree path. That is not assumed: when a
 * fmt_stmt_signer opens, it signs a test statement both ways (with every character that
 * needs escaping, in texts and attributes, non-ASCII, an empty text, unsorted lines) and
 * takes the signature layout (everything but the digest and the signature value) from
 * xmlsec's output. RSA PKCS#1 v1.5 is deterministic, so the two must be identical byte
 * for byte; for ECDSA everything but SignatureValue must be, and xmlsec's signature must
 * verify over our canonical SignedInfo. If anything differs (another libxml2 or xmlsec,
 * an unusual key), every statement takes the tree path. JOS_SIGN_TREE=1 forces the tree
 * path (tests compare the two).
 *
 * Thread safety: after open, fmt_stmt_sign on the fast path only reads the signer and
 * the layout and uses its own OpenSSL contexts, so several threads may sign at once when
 * fmt_stmt_signer_concurrent says so (a key of OpenSSL's default provider; a hardware
 * or engine key is used from one thread). The tree path is one thread only.
 */
#include "formats/formats.h"
#include "formats/text_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>

#include "formats/sign_int.h"

struct fmt_stmt_signer {
	fmt_signer *signer;     /* borrowed */
	EVP_PKEY *pk;           /* borrowed from the signer's xmlsec key */
	bool fast, concurrent, ec;
	int ec_half;            /* bytes of r and of s in an ECDSA SignatureValue */
	/* the serialised signature around the digest and the signature value */
	char *sig_a, *sig_b, *sig_tail;
	size_t sig_a_len, sig_b_len, sig_tail_len;
	/* canonical SignedInfo around the digest */
	char *si_a, *si_b;
	size_t si_a_len, si_b_len;
};

/* ---- growing buffers ------------------------------------------------------------- */

typedef struct {
	char *p;
	size_t n, cap;
	bool oom;
} tbuf;

static bool tb_reserve(tbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->cap - b->n >= more)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->n < more) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void tb_put_slow(tbuf *b, const char *s, size_t n)
{
	if (n && tb_reserve(b, n)) {
		memcpy(b->p + b->n, s, n);
		b->n += n;
	}
}

/* Most puts are a few bytes into room that is there: no call. */
static inline void tb_put(tbuf *b, const char *s, size_t n)
{
	if (!b->oom && b->cap - b->n >= n) {
		memcpy(b->p + b->n, s, n);
		b->n += n;
		return;
	}
	tb_put_slow(b, s, n);
}

#define TB_LIT(b, lit) tb_put((b), (lit), sizeof(lit) - 1)

static void tb_puts(tbuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

/* ---- the statement as text -------------------------------------------------------
 * s: as xmlDocDumpMemoryEnc(doc, "UTF-8") writes the tree of fmt_stmt_to_xml;
 * c: its exclusive C14N (no declaration, attributes sorted, empty elements as
 *    start-end pairs, C14N's escapes), without the ds:Signature still to come. */

typedef struct {
	tbuf s, c;
	const char *bad;   /* a text XML 1.0 cannot hold */
} writer;

typedef struct {
	const char *name, *value;
} xattr;

static bool xml_text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

/* A text both forms write as is: no character to escape, none XML cannot hold. */
static bool plain_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == '&' || *p == '<' || *p == '>')
			return false;
	return true;
}

/* s escaped as text (attr false) or an attribute value: libxml2's escapes, or C14N's
 * when canon (fmt_xml_escape). */
static void esc(tbuf *b, const char *s, bool attr, bool canon)
{
	const char *run = s;
	for (; *s; s++) {
		const char *e = fmt_xml_escape(*s, attr, canon);
		if (!e)
			continue;
		tb_put(b, run, (size_t)(s - run));
		tb_puts(b, e);
		run = s + 1;
	}
	tb_put(b, run, (size_t)(s - run));
}

static void both(writer *w, const char *s)
{
	size_t n = strlen(s);
	tb_put(&w->s, s, n);
	tb_put(&w->c, s, n);
}

static void ind(writer *w, int depth)
{
	static const char spaces[] = "\n                                ";
	int n = 1 + 2 * depth;
	if (n > (int)sizeof spaces - 1)
		n = (int)sizeof spaces - 1;
	tb_put(&w->s, spaces, (size_t)n);
	tb_put(&w->c, spaces, (size_t)n);
}

static void put_attrs(writer *w, const xattr *a, size_t na)
{
	size_t ord[4];
	for (size_t i = 0; i < na; i++) {
		const char *v = a[i].value ? a[i].value : "";
		if (!xml_text_ok(v))
			w->bad = v;
		tb_put(&w->s, " ", 1);
		tb_puts(&w->s, a[i].name);
		tb_put(&w->s, "=\"", 2);
		esc(&w->s, v, true, false);
		tb_put(&w->s, "\"", 1);
		/* C14N: unqualified attributes sorted by name */
		size_t j = i;
		while (j > 0 && strcmp(a[ord[j - 1]].name, a[i].name) > 0) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = i;
	}
	for (size_t k = 0; k < na; k++) {
		const xattr *x = &a[ord[k]];
		tb_put(&w->c, " ", 1);
		tb_puts(&w->c, x->name);
		tb_put(&w->c, "=\"", 2);
		esc(&w->c, x->value ? x->value : "", true, true);
		tb_put(&w->c, "\"", 1);
	}
}

/* An element at depth with attributes and text (text NULL: empty element). */
static void leaf(writer *w, int depth, const char *name, const xattr *a, size_t na,
		 const char *text)
{
	ind(w, depth);
	tb_put(&w->s, "<", 1);
	tb_put(&w->c, "<", 1);
	both(w, name);
	put_attrs(w, a, na);
	if (!text) {
		tb_put(&w->s, "/>", 2);
		tb_put(&w->c, "></", 3);
		tb_puts(&w->c, name);
		tb_put(&w->c, ">", 1);
		return;
	}
	{
		if (!xml_text_ok(text))
			w->bad = text;
		tb_put(&w->s, ">", 1);
		tb_put(&w->c, ">", 1);
		esc(&w->s, text, false, false);
		esc(&w->c, text, false, true);
		both(w, "</");
	}
	both(w, name);
	both(w, ">");
}

/* The start of an element with children. */
static void open_el(writer *w, int depth, const char *name, const xattr *a, size_t na)
{
	ind(w, depth);
	both(w, "<");
	both(w, name);
	put_attrs(w, a, na);
	both(w, ">");
}

static void close_el(writer *w, int depth, const char *name)
{
	ind(w, depth);
	both(w, "</");
	both(w, name);
	both(w, ">");
}

static void line_open(writer *w, const char *school, const char *name, const char *type)
{
	xattr la[] = { { "school", school }, { "name", name }, { "type", type } };
	open_el(w, 2, "Line", la, 3);
}

/* The literal lit at p, p advanced past it. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* A Line's children with the longest numbers (pupil-years apart): 5 elements' tags,
 * 4 numbers of at most 23 bytes. */
#define LINE_ROOM 256

/* v in decimal at p, as "%lld" writes it; its length (at most 20). */
static size_t i64_put(char *p, int64_t v)
{
	char tmp[24], *t = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--t = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		*--t = '-';
	size_t n = (size_t)(tmp + sizeof tmp - t);
	memcpy(p, t, n);
	return n;
}

static int cmp_line_ptr(const void *a, const void *b)
{
	const fmt_stmt_line *x = *(const fmt_stmt_line *const *)a;
	const fmt_stmt_line *y = *(const fmt_stmt_line *const *)b;
	int c = strcmp(x->school, y->school);
	/* the tree path sorts stably; keep equal ids in their order */
	return c ? c : (x < y ? -1 : x > y);
}

/* The same elements, in the same order, as fmt_stmt_to_xml. */
static void write_stmt(writer *w, const fmt_stmt *st)
{
	char a[JOS_FMT_BUF], d1[16], d2[16];
	tb_puts(&w->s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	both(w, "<Statement xmlns=\"urn:jos-settle:statement:1\"");
	xattr id[] = { { "Id", st->statement_id } };
	put_attrs(w, id, 1);
	both(w, ">");

	open_el(w, 1, "Header", NULL, 0);
	leaf(w, 2, "StatementId", NULL, 0, st->statement_id ? st->statement_id : "");
	jos_day_format(d1, st->issue_date);
	leaf(w, 2, "IssueDate", NULL, 0, d1);
	jos_day_format(d1, st->period_start);
	jos_day_format(d2, st->period_end);
	xattr per[] = { { "start", d1 }, { "end", d2 } };
	leaf(w, 2, "Period", per, 2, NULL);
	xattr iss[] = { { "id", st->issuer_id }, { "name", st->issuer_name } };
	leaf(w, 2, "Issuer", iss, 2, NULL);
	xattr rec[] = { { "code", st->recipient_code }, { "name", st->recipient_name } };
	leaf(w, 2, "Recipient", rec, 2, NULL);

	const jos_key *k = &st->key;
	xattr key[] = { { "id", k->id ? k->id : "" }, { "method", fmt_stmt_method_name(k->method) } };
	open_el(w, 2, "Key", key, 2);
	leaf(w, 3, "Measure", NULL, 0, st->measure == JOS_MEASURE_HEADCOUNT ? "headcount" : "days");
	if (st->measure == JOS_MEASURE_HEADCOUNT) {
		jos_day_format(d1, st->count_date);
		leaf(w, 3, "CountDate", NULL, 0, d1);
	}
	snprintf(a, sizeof a, "%lld", (long long)k->min_pupils);
	leaf(w, 3, "MinPupils", NULL, 0, a);
	leaf(w, 3, "Discount", NULL, 0, jos_micro_format(a, k->discount));
	leaf(w, 3, "PhaseIn", NULL, 0, jos_micro_format(a, k->phase_in));
	if (k->has_cap)
		leaf(w, 3, "Cap", NULL, 0, jos_cents_format(a, k->cap));
	leaf(w, 3, "MinSchoolShare", NULL, 0, jos_micro_format(a, k->min_school_share));
	for (size_t i = 0; i < k->nweights; i++) {
		xattr cat[] = { { "category", k->weights[i].category } };
		leaf(w, 3, "Weight", cat, 1, jos_micro_format(a, k->weights[i].weight));
	}
	for (size_t i = 0; i < k->ntariffs; i++) {
		xattr ty[] = { { "type", k->tariffs[i].type } };
		leaf(w, 3, "Tariff", ty, 1, jos_cents_format(a, k->tariffs[i].cents));
	}
	close_el(w, 2, "Key");
	xattr alg[] = { { "algorithm", "sha256" } };
	leaf(w, 2, "InputDigest", alg, 1, st->input_digest);
	if (st->reference)
		leaf(w, 2, "Reference", NULL, 0, st->reference);
	if (st->iban)
		leaf(w, 2, "Iban", NULL, 0, st->iban);
	if (st->payment_days >= 0) {
		snprintf(a, sizeof a, "%lld", (long long)st->payment_days);
		leaf(w, 2, "PaymentDays", NULL, 0, a);
	}
	close_el(w, 1, "Header");

	/* lines by school id; fmt_stmt_build already gives them in that order */
	const fmt_stmt_line **ord = malloc((st->nlines ? st->nlines : 1) * sizeof *ord);
	if (!ord) {
		w->s.oom = true;
		return;
	}
	bool sorted = true;
	for (size_t i = 0; i < st->nlines; i++) {
		ord[i] = &st->lines[i];
		if (i && strcmp(ord[i - 1]->school, ord[i]->school) > 0)
			sorted = false;
	}
	if (!sorted)
		qsort(ord, st->nlines, sizeof *ord, cmp_line_ptr);
	open_el(w, 1, "Lines", NULL, 0);
	for (size_t i = 0; i < st->nlines; i++) {
		const fmt_stmt_line *l = ord[i];
		if (l->tag) {   /* the school's start tag, escaped once (fmt_line_tags) */
			tb_put(&w->s, l->tag, l->tag_s);
			tb_put(&w->c, l->tag + l->tag_s, l->tag_c);
		} else {
			line_open(w, l->school, l->name, l->type);
		}
		if (!plain_text(l->pupil_years)) {   /* not from fmt_stmt_build: the long way */
			snprintf(a, sizeof a, "%lld", (long long)l->pupils);
			leaf(w, 3, "Pupils", NULL, 0, a);
			leaf(w, 3, "PupilYears", NULL, 0, l->pupil_years);
			leaf(w, 3, "SchoolNetCost", NULL, 0, jos_cents_format(a, l->school_net_cost));
			leaf(w, 3, "GrossShare", NULL, 0, jos_cents_format(a, l->gross));
			leaf(w, 3, "Amount", NULL, 0, jos_cents_format(a, l->amount));
			close_el(w, 2, "Line");
			continue;
		}
		/* numbers and the pupil-years need no escaping, and the children have no
		 * attributes: serialised and canonical bytes are the same, written once,
		 * into room reserved for the longest numbers */
		tbuf *b = &w->s;
		size_t pyl = strlen(l->pupil_years);
		if (!tb_reserve(b, LINE_ROOM + pyl))
			break;
		char *p0 = b->p + b->n, *p = p0;
		PUT_LIT(p, "\n      <Pupils>");
		p += i64_put(p, l->pupils);
		PUT_LIT(p, "</Pupils>\n      <PupilYears>");
		memcpy(p, l->pupil_years, pyl);
		p += pyl;
		PUT_LIT(p, "</PupilYears>\n      <SchoolNetCost>");
		p += fmt_cents_text(p, l->school_net_cost);
		PUT_LIT(p, "</SchoolNetCost>\n      <GrossShare>");
		p += fmt_cents_text(p, l->gross);
		PUT_LIT(p, "</GrossShare>\n      <Amount>");
		p += fmt_cents_text(p, l->amount);
		PUT_LIT(p, "</Amount>\n    </Line>");
		b->n += (size_t)(p - p0);
		tb_put(&w->c, p0, (size_t)(p - p0));
	}
	free(ord);
	close_el(w, 1, "Lines");
	open_el(w, 1, "Totals", NULL, 0);
	leaf(w, 2, "Gross", NULL, 0, jos_cents_format(a, st->gross));
	leaf(w, 2, "Net", NULL, 0, jos_cents_format(a, st->net));
	leaf(w, 2, "Status", NULL, 0, fmt_stmt_status_name(st->status));
	close_el(w, 1, "Totals");
	ind(w, 0);
	/* the canonical form ends here; the serialised one gets the signature first */
	tb_puts(&w->c, "</Statement>");
}

/* ---- Line start tags, escaped once per school --------------------------------------- */

struct fmt_line_tags {
	char *text;          /* every tag, serialised then canonical */
	size_t *off;         /* per school: its tag in text, SIZE_MAX when none */
	uint32_t *ns, *nc;   /* per school: the bytes of each form */
	size_t nschools;
};

int fmt_line_tags_make(fmt_line_tags **out, const jos_dataset *ds, jos_err *err)
{
	fmt_line_tags *t = calloc(1, sizeof *t);
	size_t S = ds->nschools ? ds->nschools : 1;
	writer w;
	tbuf all = { 0 };
	memset(&w, 0, sizeof w);
	*out = NULL;
	if (!t || !(t->off = malloc(S * sizeof *t->off)) || !(t->ns = malloc(S * sizeof *t->ns)) ||
	    !(t->nc = malloc(S * sizeof *t->nc)))
		goto nomem;
	t->nschools = ds->nschools;
	/* all of it in one block: a text grows at most 6 times by escaping (&quot;), and
	 * the tag adds 40 bytes to each form; growing by realloc copied it into fresh pages */
	size_t room = 64;
	for (size_t i = 0; i < ds->nschools; i++) {
		const jos_school *sc = &ds->schools[i];
		size_t len = (sc->id ? strlen(sc->id) : 0) + (sc->name ? strlen(sc->name) : 0) +
			     (sc->type ? strlen(sc->type) : 0);
		room += 2 * (6 * len + 48);
	}
	if (!tb_reserve(&all, room))
		goto nomem;
	for (size_t i = 0; i < ds->nschools; i++) {
		const jos_school *sc = &ds->schools[i];
		w.s.n = w.c.n = 0;
		w.bad = NULL;
		line_open(&w, sc->id, sc->name, sc->type);
		if (w.s.oom || w.c.oom)
			goto nomem;
		t->off[i] = SIZE_MAX;
		if (w.bad || w.s.n > UINT32_MAX || w.c.n > UINT32_MAX)
			continue;   /* written from the strings, which reports the text */
		t->off[i] = all.n;
		t->ns[i] = (uint32_t)w.s.n;
		t->nc[i] = (uint32_t)w.c.n;
		tb_put(&all, w.s.p, w.s.n);
		tb_put(&all, w.c.p, w.c.n);
		if (all.oom)
			goto nomem;
	}
	free(w.s.p);
	free(w.c.p);
	t->text = all.p;
	*out = t;
	return JOS_OK;
nomem:
	free(w.s.p);
	free(w.c.p);
	free(all.p);
	fmt_line_tags_free(t);
	return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
}

bool fmt_line_tag(const fmt_line_tags *t, size_t school, const char **tag, uint32_t *tag_s,
		  uint32_t *tag_c)
{
	if (!t || school >= t->nschools || t->off[school] == SIZE_MAX)
		return false;
	*tag = t->text + t->off[school];
	*tag_s = t->ns[school];
	*tag_c = t->nc[school];
	return true;
}

void fmt_line_tags_free(fmt_line_tags *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->off);
	free(t->ns);
	free(t->nc);
	free(t);
}

/* ---- base64 as xmlsec writes it: lines of 64, no final line feed ------------------ */

static void b64(tbuf *b, const unsigned char *d, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		char q[4] = { tab[(v >> 18) & 63], tab[(v >> 12) & 63],
			      i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '=' };
		for (int j = 0; j < 4; j++) {
			if (col == 64) {
				tb_put(b, "\n", 1);
				col = 0;
			}
			tb_put(b, &q[j], 1);
			col++;
		}
	}
}

/* ---- signing -------------------------------------------------------------------- */

/* The signature value as xmlsec writes it: RSA as is, ECDSA as r || s. */
static int sign_si(tbuf *out, const fmt_stmt_signer *ss, const char *si, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t slen = 0;
	int ok = m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ss->pk) == 1 &&
		 EVP_DigestSign(m, NULL, &slen, (const unsigned char *)si, len) == 1 &&
		 (sig = malloc(slen)) != NULL &&
		 EVP_DigestSign(m, sig, &slen, (const unsigned char *)si, len) == 1;
	EVP_MD_CTX_free(m);
	if (ok && ss->ec) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
		unsigned char raw[132];
		int h = ss->ec_half;
		ok = es && h > 0 && 2 * h <= (int)sizeof raw &&
		     BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, h) == h &&
		     BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + h, h) == h;
		ECDSA_SIG_free(es);
		if (ok)
			b64(out, raw, (size_t)(2 * h));
	} else if (ok) {
		b64(out, sig, slen);
	}
	free(sig);
	return ok ? JOS_OK : JOS_ECRYPTO;
}

/* Signs st the fast way into S (the document), C (its canonical form) and SI (the
 * canonical SignedInfo), emptied first; their memory is reused from call to call. */
static int sign_fast_into(tbuf *S, tbuf *C, tbuf *SI, const fmt_stmt_signer *ss,
			  const fmt_stmt *st, jos_err *err)
{
	writer w;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = JOS_OK;
	memset(&w, 0, sizeof w);
	w.s = *S;
	w.c = *C;
	tbuf si = *SI;
	w.s.n = w.c.n = si.n = 0;
	w.s.oom = w.c.oom = si.oom = false;

	write_stmt(&w, st);
	if (w.bad) {
		rc = jos_err_set(err, JOS_EINVALID, "", 0,
				 "statement %s: a text contains a control character that XML cannot hold",
				 st->statement_id ? st->statement_id : "");
		goto done;
	}
	if (w.s.oom || w.c.oom)
		goto nomem;
	if (EVP_Digest(w.c.p, w.c.n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "SHA-256 failed");
		goto done;
	}
	tb_put(&si, ss->si_a, ss->si_a_len);
	size_t d0 = si.n;
	b64(&si, md, mdlen);
	size_t d1 = si.n;
	tb_put(&si, ss->si_b, ss->si_b_len);
	if (si.oom)
		goto nomem;

	tb_put(&w.s, ss->sig_a, ss->sig_a_len);
	tb_put(&w.s, si.p + d0, d1 - d0);
	tb_put(&w.s, ss->sig_b, ss->sig_b_len);
	if (sign_si(&w.s, ss, si.p, si.n) != JOS_OK) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "signing failed");
		goto done;
	}
	tb_put(&w.s, ss->sig_tail, ss->sig_tail_len);
	if (w.s.oom)
		goto nomem;
	goto done;
nomem:
	rc = jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory writing the statement");
done:
	*S = w.s;
	*C = w.c;
	*SI = si;
	return rc;
}

static int sign_fast(char **out, size_t *outlen, const fmt_stmt_signer *ss, const fmt_stmt *st,
		     jos_err *err)
{
	tbuf s = { 0 }, c = { 0 }, si = { 0 };
	int rc = sign_fast_into(&s, &c, &si, ss, st, err);
	*out = NULL;
	*outlen = 0;
	if (rc == JOS_OK) {
		*out = s.p;
		*outlen = s.n;
		s.p = NULL;
	}
	free(s.p);
	free(c.p);
	free(si.p);
	return rc;
}

static int sign_tree(char **out, size_t *outlen, fmt_signer *s, const fmt_stmt *st, jos_err *err)
{
	void *doc = NULL;
	int rc = fmt_stmt_to_xml(&doc, st, err);
	if (rc == JOS_OK)
		rc = fmt_sign(out, outlen, s, doc, err);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- the check at open ------------------------------------------------------------ */

/* A statement with everything that needs escaping or sorting. */
static void test_stmt(fmt_stmt *st, fmt_stmt_line lines[3], key_weight *wt, key_tariff *tf)
{
	static char nasty[] = "A & B <c> \"d\" 'e' \t\n\r x ]]> \xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e";
	memset(st, 0, sizeof *st);
	st->statement_id = "JOS-0001-20250801-0002";
	st->issue_date = 20000;
	st->period_start = 19900;
	st->period_end = 20264;
	st->issuer_id = "0001";
	st->issuer_name = nasty;
	memcpy(st->recipient_code, "0002", 5);
	st->recipient_name = "S\xc3\xba" "dwest-Frysl\xc3\xa2n & <x> \"q\"\t>";
	st->key.id = "k&<>\"\t";
	st->key.method = KEY_PRORATA;
	st->key.min_pupils = 3;
	st->key.discount = 125000;
	st->key.phase_in = 1000000;
	st->key.has_cap = true;
	st->key.cap = 123456;
	wt->category = "c&<\">\r";
	wt->weight = 1500000;
	st->key.weights = wt;
	st->key.nweights = 1;
	tf->type = "so/vso&>";
	tf->cents = 110000;
	st->key.tariffs = tf;
	st->key.ntariffs = 1;
	st->measure = JOS_MEASURE_HEADCOUNT;
	st->count_date = 19950;
	memset(st->input_digest, 'a', 64);
	st->reference = nasty;
	st->iban = "";
	st->payment_days = 30;
	const char *ids[3] = { "S2", "S1", "S3" };
	for (int i = 0; i < 3; i++) {
		memset(&lines[i], 0, sizeof lines[i]);
		lines[i].school = (char *)ids[i];
		lines[i].name = nasty;
		lines[i].type = "SO/VSO";
		lines[i].pupils = i + 1;
		memcpy(lines[i].pupil_years, "0.5000", 7);
		lines[i].school_net_cost = -12345;
		lines[i].gross = 100;
		lines[i].amount = 99;
	}
	st->lines = lines;
	st->nlines = 3;
	st->gross = 300;
	st->net = 297;
	st->status = JOS_STATUS_CAPPED;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Between a and b in [p, e), or NULL. */
static const char *find(const char *p, const char *e, const char *what)
{
	size_t n = strlen(what);
	for (; p + n <= e; p++)
		if (*p == *what && memcmp(p, what, n) == 0)
			return p;
	return NULL;
}

/* Serialised SignedInfo part to its exclusive C14N: the apex declares ds, and empty
 * elements become start-end pairs (xmlsec's SignedInfo has one attribute per element,
 * so there is nothing to sort). Knows only what xmlsec writes; the check proves it. */
static bool canon_si(tbuf *b, const char *p, const char *e, bool apex)
{
	const char *run = p;
	if (apex) {
		static const char si[] = "<ds:SignedInfo>";
		if ((size_t)(e - p) < sizeof si - 1 || memcmp(p, si, sizeof si - 1) != 0)
			return false;
		tb_puts(b, "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">");
		run = p = p + sizeof si - 1;
	}
	for (; p < e; p++) {
		if (*p == '&' || *p == '\r')
			return false;
		if (p + 1 < e && p[0] == '/' && p[1] == '>') {
			/* the element's name: back to its '<' */
			const char *lt = p;
			while (lt > run && *lt != '<')
				lt--;
			if (*lt != '<')
				return false;
			size_t nl = strcspn(lt + 1, " />");
			tb_put(b, run, (size_t)(p - run));
			tb_puts(b, "></");
			tb_put(b, lt + 1, nl);
			tb_puts(b, ">");
			run = p + 2;
			p++;
		}
	}
	tb_put(b, run, (size_t)(e - run));
	return !b->oom;
}

/* ECDSA r || s back to DER, to let OpenSSL verify xmlsec's signature. */
static bool verify_raw(const fmt_stmt_signer *ss, const char *si, size_t silen,
		       const char *b64v, size_t b64len)
{
	unsigned char raw[200], *der = NULL;
	char clean[300];
	size_t n = 0;
	for (size_t i = 0; i < b64len && n < sizeof clean - 1; i++)
		if (b64v[i] != '\n')
			clean[n++] = b64v[i];
	clean[n] = '\0';
	int rl = EVP_DecodeBlock(raw, (const unsigned char *)clean, (int)n);
	while (rl > 0 && n > 0 && clean[n - 1] == '=') {
		rl--;
		n--;
	}
	int h = ss->ec_half;
	if (rl != 2 * h)
		return false;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, h, NULL), *s = BN_bin2bn(raw + h, h, NULL);
	bool ok = es && r && s && ECDSA_SIG_set0(es, r, s) == 1;
	if (ok)
		r = s = NULL;
	int dl = ok ? i2d_ECDSA_SIG(es, &der) : -1;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	ok = ok && dl > 0 && m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, ss->pk) == 1 &&
	     EVP_DigestVerify(m, der, (size_t)dl, (const unsigned char *)si, silen) == 1;
	EVP_MD_CTX_free(m);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

/* Signs the test statement with xmlsec, takes the layout from its output, signs it the
 * fast way and compares. false: use the tree path. */
static bool self_check(fmt_stmt_signer *ss, jos_err *err)
{
	fmt_stmt st;
	fmt_stmt_line lines[3];
	key_weight wt;
	key_tariff tf;
	char *ref = NULL, *got = NULL;
	size_t rlen = 0, glen = 0;
	tbuf si = { 0 };
	bool ok = false;
	jos_err e2;
	test_stmt(&st, lines, &wt, &tf);
	if (sign_tree(&ref, &rlen, ss->signer, &st, &e2) != JOS_OK)
		goto done;
	const char *end = ref + rlen;
	const char *p0 = find(ref, end, "<ds:Signature");
	const char *p1 = p0 ? find(p0, end, "<ds:DigestValue>") : NULL;
	const char *p2 = p1 ? find(p1, end, "</ds:DigestValue>") : NULL;
	const char *p3 = p2 ? find(p2, end, "<ds:SignatureValue>") : NULL;
	const char *p4 = p3 ? find(p3, end, "</ds:SignatureValue>") : NULL;
	const char *q0 = p0 ? find(p0, end, "<ds:SignedInfo>") : NULL;
	const char *q1 = p2 ? find(p2, end, "</ds:SignedInfo>") : NULL;
	if (!p4 || !q0 || !q1 || q0 > p1 || q1 > p3)
		goto done;
	p1 += strlen("<ds:DigestValue>");
	p3 += strlen("<ds:SignatureValue>");
	q1 += strlen("</ds:SignedInfo>");
	ss->sig_a = dupn(p0, (size_t)(p1 - p0));
	ss->sig_a_len = (size_t)(p1 - p0);
	ss->sig_b = dupn(p2, (size_t)(p3 - p2));
	ss->sig_b_len = (size_t)(p3 - p2);
	ss->sig_tail = dupn(p4, (size_t)(end - p4));
	ss->sig_tail_len = (size_t)(end - p4);
	tbuf a = { 0 }, b = { 0 };
	bool ca = canon_si(&a, q0, p1, true), cb = canon_si(&b, p2, q1, false);
	ss->si_a = a.p;
	ss->si_a_len = a.n;
	ss->si_b = b.p;
	ss->si_b_len = b.n;
	if (!ss->sig_a || !ss->sig_b || !ss->sig_tail || !ca || !cb)
		goto done;

	if (sign_fast(&got, &glen, ss, &st, &e2) != JOS_OK)
		goto done;
	if (!ss->ec) {
		ok = glen == rlen && memcmp(got, ref, rlen) == 0;
		goto done;
	}
	/* ECDSA: equal but for the signature value, and xmlsec's value verifies over our
	 * canonical SignedInfo (so that is what xmlsec signed) */
	const char *g3 = find(got, got + glen, "<ds:SignatureValue>");
	const char *g4 = g3 ? find(g3, got + glen, "</ds:SignatureValue>") : NULL;
	if (!g4 || (size_t)(g3 - got) + strlen("<ds:SignatureValue>") != (size_t)(p3 - ref) ||
	    memcmp(got, ref, (size_t)(p3 - ref)) != 0 || (size_t)(got + glen - g4) != ss->sig_tail_len ||
	    memcmp(g4, ss->sig_tail, ss->sig_tail_len) != 0)
		goto done;
	tb_put(&si, ss->si_a, ss->si_a_len);
	tb_put(&si, p1, (size_t)(p2 - p1));
	tb_put(&si, ss->si_b, ss->si_b_len);
	ok = !si.oom && verify_raw(ss, si.p, si.n, p3, (size_t)(p4 - p3));
done:
	(void)err;
	free(ref);
	free(got);
	free(si.p);
	return ok;
}

/* ---- the API ---------------------------------------------------------------------- */

int fmt_stmt_signer_open(fmt_stmt_signer **out, fmt_signer *s, jos_err *err)
{
	fmt_stmt_signer *ss = calloc(1, sizeof *ss);
	*out = NULL;
	if (!ss)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	ss->signer = s;
	const char *force = getenv("JOS_SIGN_TREE");
	xmlSecKeyPtr key = fmt_signer_xmlsec_key(s);
	xmlSecKeyDataPtr kd = key ? xmlSecKeyGetValue(key) : NULL;
	ss->pk = kd ? xmlSecOpenSSLEvpKeyDataGetEvp(kd) : NULL;
	if (ss->pk && !(force && *force && strcmp(force, "0") != 0)) {
		int id = EVP_PKEY_get_base_id(ss->pk);
		ss->ec = id == EVP_PKEY_EC;
		ss->ec_half = (EVP_PKEY_get_bits(ss->pk) + 7) / 8;
		if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
			ss->fast = self_check(ss, err);
		const OSSL_PROVIDER *pv = EVP_PKEY_get0_provider(ss->pk);
		const char *pn = pv ? OSSL_PROVIDER_get0_name(pv) : NULL;
		ss->concurrent = ss->fast && pn && (strcmp(pn, "default") == 0 || strcmp(pn, "fips") == 0);
	}
	*out = ss;
	return JOS_OK;
}

bool fmt_stmt_signer_fast(const fmt_stmt_signer *ss)
{
	return ss->fast;
}

bool fmt_stmt_signer_concurrent(const fmt_stmt_signer *ss)
{
	return ss->concurrent;
}

int fmt_stmt_sign(char **out, size_t *outlen, fmt_stmt_signer *ss, const fmt_stmt *st,
		  jos_err *err)
{
	if (ss->fast)
		return sign_fast(out, outlen, ss, st, err);
	return sign_tree(out, outlen, ss->signer, st, err);
}

/* The buffers of a fmt_stmt_buf. */
typedef struct {
	tbuf s, c, si;
	char *tree;   /* the tree path's output */
} stmt_bufs;

int fmt_stmt_sign_buf(fmt_stmt_buf *b, fmt_stmt_signer *ss, const fmt_stmt *st, jos_err *err)
{
	stmt_bufs *p = b->priv;
	int rc;
	b->xml = NULL;
	b->len = 0;
	if (!p && !(p = b->priv = calloc(1, sizeof *p)))
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	free(p->tree);
	p->tree = NULL;
	if (ss->fast) {
		if ((rc = sign_fast_into(&p->s, &p->c, &p->si, ss, st, err)) == JOS_OK) {
			b->xml = p->s.p;
			b->len = p->s.n;
		}
		return rc;
	}
	if ((rc = sign_tree(&p->tree, &b->len, ss->signer, st, err)) == JOS_OK)
		b->xml = p->tree;
	return rc;
}

void fmt_stmt_buf_free(fmt_stmt_buf *b)
{
	stmt_bufs *p = b ? b->priv : NULL;
	if (p) {
		free(p->s.p);
		free(p->c.p);
		free(p->si.p);
		free(p->tree);
		free(p);
	}
	if (b)
		memset(b, 0, sizeof *b);
}

void fmt_stmt_signer_free(fmt_stmt_signer *ss)
{
	if (!ss)
		return;
	free(ss->sig_a);
	free(ss->sig_b);
	free(ss->sig_tail);
	free(ss->si_a);
	free(ss->si_b);
	free(ss);
}
