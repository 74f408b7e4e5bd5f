/*
 * statement.c: the settlement statement as XML (SPEC "Statement XML"): fmt_stmt to an
 * unsigned libxml2 tree, back from a verified tree, compared field by field in words a
 * finance officer understands, and the embedded schema (formats/statement.xsd).
 *
 * The tree is built with its indentation as text nodes, so that the bytes written after
 * signing are exactly the bytes signed (notes/xmlsec trap 12: never re-indent). Values
 * are read back with strict parsers of the XML spellings (amounts -?d+.dd, dates
 * YYYY-MM-DD), independent of the CSV parsers: a statement has one spelling only.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#define NS_STMT "urn:jos-settle:statement:1"

/* The Makefile generates these from formats/statement.xsd. */
extern const unsigned char fmt_stmt_xsd_bytes[];
extern const size_t fmt_stmt_xsd_size;

const unsigned char *fmt_stmt_xsd(size_t *len)
{
	*len = fmt_stmt_xsd_size;
	return fmt_stmt_xsd_bytes;
}

const char *fmt_stmt_method_name(key_method m)
{
	switch (m) {
	case KEY_PRORATA: return "prorata";
	case KEY_POOLED: return "pooled";
	case KEY_TARIFF: return "tariff";
	}
	return "?";
}

const char *fmt_stmt_status_name(jos_status s)
{
	switch (s) {
	case JOS_STATUS_IN_REGION: return "in_region";
	case JOS_STATUS_INVOICED: return "invoiced";
	case JOS_STATUS_CAPPED: return "capped";
	case JOS_STATUS_BELOW_THRESHOLD: return "below_threshold";
	case JOS_STATUS_NO_AGREEMENT: return "no_agreement";
	}
	return "?";
}

void fmt_stmt_free(fmt_stmt *st)
{
	if (!st)
		return;
	free(st->statement_id);
	free(st->issuer_id);
	free(st->issuer_name);
	free(st->recipient_name);
	free(st->reference);
	free(st->iban);
	for (size_t i = 0; !st->line_strings && i < st->nlines; i++) {
		free(st->lines[i].school);
		free(st->lines[i].name);
		free(st->lines[i].type);
	}
	free(st->line_strings);
	free(st->lines);
	key_free(&st->key);
	memset(st, 0, sizeof *st);
	st->payment_days = -1;
}

/* ---- writing ------------------------------------------------------------------- */

typedef struct {
	xmlDocPtr doc;
	xmlNsPtr ns;
	bool failed;
	const char *bad;        /* a text that cannot be written in XML 1.0 */
} builder;

/* XML 1.0 has no way to write most C0 controls; refuse them instead of writing a
 * statement that no parser accepts. */
static bool xml_text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

static void indent(builder *b, xmlNodePtr parent, int depth)
{
	static const char spaces[] = "\n                                ";
	int n = 1 + 2 * depth;
	if (n > (int)sizeof spaces - 1)
		n = (int)sizeof spaces - 1;
	xmlNodePtr t = xmlNewDocTextLen(b->doc, (const xmlChar *)spaces, n);
	if (!t || !t->content || !xmlAddChild(parent, t)) { /* content: see add() */
		xmlFreeNode(t);
		b->failed = true;
	}
}

/* A child element at depth `depth` (the root's children are depth 1), with text or empty. */
static xmlNodePtr add(builder *b, xmlNodePtr parent, int depth, const char *name, const char *text)
{
	if (b->failed)
		return NULL;
	if (text && !xml_text_ok(text)) {
		b->bad = text;
		b->failed = true;
		return NULL;
	}
	indent(b, parent, depth);
	xmlNodePtr n = xmlNewTextChild(parent, b->ns, (const xmlChar *)name, (const xmlChar *)text);
	/* libxml2 returns the element even when its text node, or that node's content,
	 * could not be allocated: an element left empty would be signed (found by
	 * tests/torture.sh) */
	if (!n || (text && text[0] && (!n->children || !n->children->content)))
		b->failed = true;
	return n;
}

static void attr(builder *b, xmlNodePtr n, const char *name, const char *value)
{
	if (b->failed || !n)
		return;
	if (!value)
		value = "";
	if (!xml_text_ok(value)) {
		b->bad = value;
		b->failed = true;
		return;
	}
	xmlAttrPtr a = xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
	if (!a || (value[0] && (!a->children || !a->children->content))) /* as in add() */
		b->failed = true;
}

static void close_el(builder *b, xmlNodePtr n, int depth)
{
	if (!b->failed && n)
		indent(b, n, depth);
}

static int cmp_line_idx(const void *a, const void *b, const fmt_stmt *st)
{
	return strcmp(st->lines[*(const size_t *)a].school, st->lines[*(const size_t *)b].school);
}

/* qsort has no context argument in C11: sort a small index array by insertion. */
static void sort_lines(size_t *idx, const fmt_stmt *st)
{
	for (size_t i = 0; i < st->nlines; i++)
		idx[i] = i;
	for (size_t i = 1; i < st->nlines; i++) {
		size_t v = idx[i], j = i;
		while (j > 0 && cmp_line_idx(&idx[j - 1], &v, st) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

int fmt_stmt_to_xml(void **out_doc, const fmt_stmt *st, jos_err *err)
{
	char a[JOS_FMT_BUF], d1[16], d2[16];
	builder b = { 0 };
	size_t *idx = NULL;
	*out_doc = NULL;

	b.doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root = b.doc ? xmlNewDocNode(b.doc, NULL, (const xmlChar *)"Statement", NULL) : NULL;
	if (!root)
		goto oom;
	xmlDocSetRootElement(b.doc, root);
	b.ns = xmlNewNs(root, (const xmlChar *)NS_STMT, NULL);
	if (!b.ns)
		goto oom;
	xmlSetNs(root, b.ns);
	attr(&b, root, "Id", st->statement_id);

	xmlNodePtr h = add(&b, root, 1, "Header", NULL);
	add(&b, h, 2, "StatementId", st->statement_id);
	jos_day_format(d1, st->issue_date);
	add(&b, h, 2, "IssueDate", d1);
	xmlNodePtr n = add(&b, h, 2, "Period", NULL);
	jos_day_format(d1, st->period_start);
	jos_day_format(d2, st->period_end);
	attr(&b, n, "start", d1);
	attr(&b, n, "end", d2);
	n = add(&b, h, 2, "Issuer", NULL);
	attr(&b, n, "id", st->issuer_id);
	attr(&b, n, "name", st->issuer_name);
	n = add(&b, h, 2, "Recipient", NULL);
	attr(&b, n, "code", st->recipient_code);
	attr(&b, n, "name", st->recipient_name);

	const jos_key *k = &st->key;
	xmlNodePtr kn = add(&b, h, 2, "Key", NULL);
	attr(&b, kn, "id", k->id ? k->id : "");
	attr(&b, kn, "method", fmt_stmt_method_name(k->method));
	add(&b, kn, 3, "Measure", st->measure == JOS_MEASURE_HEADCOUNT ? "headcount" : "days");
	if (st->measure == JOS_MEASURE_HEADCOUNT) {
		jos_day_format(d1, st->count_date);
		add(&b, kn, 3, "CountDate", d1);
	}
	snprintf(a, sizeof a, "%lld", (long long)k->min_pupils);
	add(&b, kn, 3, "MinPupils", a);
	add(&b, kn, 3, "Discount", jos_micro_format(a, k->discount));
	add(&b, kn, 3, "PhaseIn", jos_micro_format(a, k->phase_in));
	if (k->has_cap)
		add(&b, kn, 3, "Cap", jos_cents_format(a, k->cap));
	add(&b, kn, 3, "MinSchoolShare", jos_micro_format(a, k->min_school_share));
	for (size_t i = 0; i < k->nweights; i++) {
		n = add(&b, kn, 3, "Weight", jos_micro_format(a, k->weights[i].weight));
		attr(&b, n, "category", k->weights[i].category);
	}
	for (size_t i = 0; i < k->ntariffs; i++) {
		n = add(&b, kn, 3, "Tariff", jos_cents_format(a, k->tariffs[i].cents));
		attr(&b, n, "type", k->tariffs[i].type);
	}
	close_el(&b, kn, 2);
	n = add(&b, h, 2, "InputDigest", st->input_digest);
	attr(&b, n, "algorithm", "sha256");
	if (st->reference)
		add(&b, h, 2, "Reference", st->reference);
	if (st->iban)
		add(&b, h, 2, "Iban", st->iban);
	if (st->payment_days >= 0) {
		snprintf(a, sizeof a, "%lld", (long long)st->payment_days);
		add(&b, h, 2, "PaymentDays", a);
	}
	close_el(&b, h, 1);

	idx = malloc((st->nlines ? st->nlines : 1) * sizeof *idx);
	if (!idx)
		goto oom;
	sort_lines(idx, st);
	xmlNodePtr ls = add(&b, root, 1, "Lines", NULL);
	for (size_t i = 0; i < st->nlines; i++) {
		const fmt_stmt_line *l = &st->lines[idx[i]];
		xmlNodePtr ln = add(&b, ls, 2, "Line", NULL);
		attr(&b, ln, "school", l->school);
		attr(&b, ln, "name", l->name);
		attr(&b, ln, "type", l->type);
		snprintf(a, sizeof a, "%lld", (long long)l->pupils);
		add(&b, ln, 3, "Pupils", a);
		add(&b, ln, 3, "PupilYears", l->pupil_years);
		add(&b, ln, 3, "SchoolNetCost", jos_cents_format(a, l->school_net_cost));
		add(&b, ln, 3, "GrossShare", jos_cents_format(a, l->gross));
		add(&b, ln, 3, "Amount", jos_cents_format(a, l->amount));
		close_el(&b, ln, 2);
	}
	close_el(&b, ls, 1);
	xmlNodePtr t = add(&b, root, 1, "Totals", NULL);
	add(&b, t, 2, "Gross", jos_cents_format(a, st->gross));
	add(&b, t, 2, "Net", jos_cents_format(a, st->net));
	add(&b, t, 2, "Status", fmt_stmt_status_name(st->status));
	close_el(&b, t, 1);
	/* fmt_sign appends ds:Signature after a last newline */
	indent(&b, root, 0);
	free(idx);
	if (b.failed) {
		xmlFreeDoc(b.doc);
		if (b.bad)
			return jos_err_set(err, JOS_EINVALID, "", 0,
					   "statement %s: a text contains a control character that XML cannot hold",
					   st->statement_id ? st->statement_id : "");
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory building the statement XML");
	}
	*out_doc = b.doc;
	return JOS_OK;
oom:
	free(idx);
	xmlFreeDoc(b.doc);
	return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory building the statement XML");
}

/* ---- reading ------------------------------------------------------------------- */

static bool parse_uint(int64_t *out, const char *s, int maxdigits)
{
	int64_t v = 0;
	int n = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++, n++) {
		if (!jos_isdigit(*s) || n >= maxdigits)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* -?[0-9]{1,16}\.[0-9]{2} */
static bool parse_cents(jos_cents *out, const char *s)
{
	bool neg = false;
	int64_t v = 0;
	int n = 0;
	if (!s)
		return false;
	if (*s == '-') {
		neg = true;
		s++;
	}
	for (; jos_isdigit(*s); s++, n++) {
		if (n >= 16)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || s[0] != '.' || !jos_isdigit(s[1]) || !jos_isdigit(s[2]) || s[3])
		return false;
	v = v * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	*out = neg ? -v : v;
	return true;
}

/* YYYY-MM-DD against the calendar */
static bool parse_date(jos_day *out, const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !jos_isdigit(s[i]))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	if (!jos_date_valid(y, m, d))
		return false;
	*out = jos_day_from_ymd(y, m, d);
	return true;
}

/* [0-9]{1,12}(\.[0-9]{1,6})? to millionths */
static bool parse_micro(jos_micro *out, const char *s)
{
	int64_t v = 0, frac = 0;
	int n = 0, f = 0;
	if (!s)
		return false;
	for (; jos_isdigit(*s); s++, n++) {
		if (n >= 12)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (n == 0)
		return false;
	if (*s == '.') {
		for (s++; jos_isdigit(*s); s++, f++) {
			if (f >= 6)
				return false;
			frac = frac * 10 + (*s - '0');
		}
		if (f == 0)
			return false;
	}
	if (*s)
		return false;
	for (; f < 6; f++)
		frac *= 10;
	*out = v * JOS_MICRO_ONE + frac;
	return true;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, NS_STMT) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* First element child from `n` on (n itself included). */
static xmlNodePtr next_el(xmlNodePtr n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

/* Text of a leaf element (malloc'd), NULL on OOM. Only text children are allowed
 * (comments were refused before; entity references cannot occur without a DTD). */
static char *text_of(const xmlNode *n)
{
	/* the usual case, one text child, without xmlNodeGetContent's buffer (verify reads
	 * some 100 000 values from a big statement) */
	if (n && n->type == XML_ELEMENT_NODE && n->children && !n->children->next &&
	    n->children->type == XML_TEXT_NODE && n->children->content)
		return strdup((const char *)n->children->content);
	xmlChar *c = xmlNodeGetContent(n);
	char *s = c ? strdup((const char *)c) : NULL;
	xmlFree(c);
	return s;
}

static char *attr_of(const xmlNode *n, const char *name)
{
	/* the usual case, as above: an attribute without namespace holding one text node */
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (!a->ns && strcmp((const char *)a->name, name) == 0) {
			if (a->children && !a->children->next && a->children->type == XML_TEXT_NODE &&
			    a->children->content)
				return strdup((const char *)a->children->content);
			break;
		}
	xmlChar *c = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s = c ? strdup((const char *)c) : NULL;
	xmlFree(c);
	return s;
}

typedef struct {
	jos_err *err;
	int rc;
} reader;

static bool bad(reader *r, const char *what)
{
	if (r->rc == JOS_OK)
		r->rc = jos_err_set(r->err, JOS_EINVALID, "", 0, "statement: %s", what);
	return false;
}

/* Expects element `name` at *cur, returns it and advances *cur to the next element. */
static xmlNodePtr expect(reader *r, xmlNodePtr *cur, const char *name)
{
	xmlNodePtr n = next_el(*cur);
	if (!is_el(n, name)) {
		char m[128];
		snprintf(m, sizeof m, "expected element %s", name);
		bad(r, m);
		return NULL;
	}
	*cur = n->next;
	return n;
}

static xmlNodePtr maybe(xmlNodePtr *cur, const char *name)
{
	xmlNodePtr n = next_el(*cur);
	if (!is_el(n, name))
		return NULL;
	*cur = n->next;
	return n;
}

static bool get_text(reader *r, char **out, xmlNodePtr n)
{
	if (!n)
		return false;
	*out = text_of(n);
	return *out ? true : bad(r, "out of memory");
}

static bool get_attr(reader *r, char **out, xmlNodePtr n, const char *name)
{
	if (!n)
		return false;
	*out = attr_of(n, name);
	if (!*out) {
		char m[128];
		snprintf(m, sizeof m, "element %s lacks attribute %s", (const char *)n->name, name);
		return bad(r, m);
	}
	return true;
}

static bool get_cents(reader *r, jos_cents *out, xmlNodePtr n)
{
	char *s = NULL;
	if (!get_text(r, &s, n))
		return false;
	bool ok = parse_cents(out, s);
	free(s);
	if (!ok) {
		char m[128];
		snprintf(m, sizeof m, "%s is not an amount like 1234.56", (const char *)n->name);
		return bad(r, m);
	}
	return true;
}

static bool get_count(reader *r, int64_t *out, xmlNodePtr n)
{
	char *s = NULL;
	if (!get_text(r, &s, n))
		return false;
	bool ok = parse_uint(out, s, 18);
	free(s);
	return ok ? true : bad(r, "a count is not a whole number");
}

static bool get_micro(reader *r, jos_micro *out, xmlNodePtr n)
{
	char *s = NULL;
	if (!get_text(r, &s, n))
		return false;
	bool ok = parse_micro(out, s);
	free(s);
	return ok ? true : bad(r, "a fraction is not a decimal with at most 6 decimals");
}

static bool date_text(reader *r, jos_day *out, char *s)
{
	bool ok = s && parse_date(out, s);
	free(s);
	return ok ? true : bad(r, "a date is not YYYY-MM-DD");
}

static bool read_key(reader *r, jos_key *k, fmt_stmt *st, xmlNodePtr kn)
{
	char *s = NULL;
	k->phase_in = JOS_MICRO_ONE;
	if (!get_attr(r, &k->id, kn, "id") || !get_attr(r, &s, kn, "method"))
		return false;
	k->has_method = true;
	if (strcmp(s, "prorata") == 0)
		k->method = KEY_PRORATA;
	else if (strcmp(s, "pooled") == 0)
		k->method = KEY_POOLED;
	else if (strcmp(s, "tariff") == 0)
		k->method = KEY_TARIFF;
	else
		k->has_method = false;
	free(s);
	if (!k->has_method)
		return bad(r, "unknown key method");
	xmlNodePtr cur = kn->children, n;
	if (!get_text(r, &s, expect(r, &cur, "Measure")))
		return false;
	st->measure = strcmp(s, "headcount") == 0 ? JOS_MEASURE_HEADCOUNT : JOS_MEASURE_DAYS;
	free(s);
	if ((n = maybe(&cur, "CountDate")) && !date_text(r, &st->count_date, text_of(n)))
		return false;
	if (!get_count(r, &k->min_pupils, expect(r, &cur, "MinPupils")) ||
	    !get_micro(r, &k->discount, expect(r, &cur, "Discount")) ||
	    !get_micro(r, &k->phase_in, expect(r, &cur, "PhaseIn")))
		return false;
	if ((n = maybe(&cur, "Cap"))) {
		k->has_cap = true;
		if (!get_cents(r, &k->cap, n))
			return false;
	}
	if (!get_micro(r, &k->min_school_share, expect(r, &cur, "MinSchoolShare")))
		return false;
	size_t cap = 0;
	while ((n = maybe(&cur, "Weight"))) {
		if (jos_grow((void **)&k->weights, &cap, k->nweights + 1, sizeof *k->weights) != JOS_OK)
			return bad(r, "out of memory");
		key_weight *w = &k->weights[k->nweights];
		memset(w, 0, sizeof *w);
		k->nweights++;
		if (!get_attr(r, &w->category, n, "category") || !get_micro(r, &w->weight, n))
			return false;
	}
	cap = 0;
	while ((n = maybe(&cur, "Tariff"))) {
		if (jos_grow((void **)&k->tariffs, &cap, k->ntariffs + 1, sizeof *k->tariffs) != JOS_OK)
			return bad(r, "out of memory");
		key_tariff *t = &k->tariffs[k->ntariffs];
		memset(t, 0, sizeof *t);
		k->ntariffs++;
		if (!get_attr(r, &t->type, n, "type") || !get_cents(r, &t->cents, n))
			return false;
	}
	if (next_el(cur))
		return bad(r, "unexpected element in Key");
	return true;
}

static bool read_line(reader *r, fmt_stmt_line *l, xmlNodePtr ln)
{
	char *s = NULL;
	if (!get_attr(r, &l->school, ln, "school") || !get_attr(r, &l->name, ln, "name") ||
	    !get_attr(r, &l->type, ln, "type"))
		return false;
	xmlNodePtr cur = ln->children;
	if (!get_count(r, &l->pupils, expect(r, &cur, "Pupils")) ||
	    !get_text(r, &s, expect(r, &cur, "PupilYears")))
		return false;
	size_t n = strlen(s);
	bool ok = n < sizeof l->pupil_years && n >= 6 && s[n - 5] == '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = i == n - 5 || jos_isdigit(s[i]);
	if (ok)
		memcpy(l->pupil_years, s, n + 1);
	free(s);
	if (!ok)
		return bad(r, "PupilYears is not a number with 4 decimals");
	return get_cents(r, &l->school_net_cost, expect(r, &cur, "SchoolNetCost")) &&
	       get_cents(r, &l->gross, expect(r, &cur, "GrossShare")) &&
	       get_cents(r, &l->amount, expect(r, &cur, "Amount"));
}

static bool read_stmt(reader *r, fmt_stmt *st, xmlDocPtr doc)
{
	char *s = NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc), n;
	if (!is_el(root, "Statement"))
		return bad(r, "the root element is not a Statement in namespace " NS_STMT);
	xmlNodePtr top = root->children;
	xmlNodePtr h = expect(r, &top, "Header");
	if (!h)
		return false;
	xmlNodePtr cur = h->children;
	if (!get_text(r, &st->statement_id, expect(r, &cur, "StatementId")))
		return false;
	if (!(n = expect(r, &cur, "IssueDate")) || !date_text(r, &st->issue_date, text_of(n)))
		return false;
	if (!(n = expect(r, &cur, "Period")) || !date_text(r, &st->period_start, attr_of(n, "start")) ||
	    !date_text(r, &st->period_end, attr_of(n, "end")))
		return false;
	if (!(n = expect(r, &cur, "Issuer")) || !get_attr(r, &st->issuer_id, n, "id") ||
	    !get_attr(r, &st->issuer_name, n, "name"))
		return false;
	if (!(n = expect(r, &cur, "Recipient")) || !get_attr(r, &s, n, "code"))
		return false;
	bool ok = strlen(s) == 4;
	for (int i = 0; ok && i < 4; i++)
		ok = jos_isdigit(s[i]);
	if (ok)
		memcpy(st->recipient_code, s, 5);
	free(s);
	if (!ok)
		return bad(r, "Recipient code is not 4 digits");
	if (!get_attr(r, &st->recipient_name, n, "name"))
		return false;
	if (!(n = expect(r, &cur, "Key")) || !read_key(r, &st->key, st, n))
		return false;
	if (!get_text(r, &s, expect(r, &cur, "InputDigest")))
		return false;
	ok = strlen(s) == 64;
	if (ok)
		memcpy(st->input_digest, s, 65);
	free(s);
	if (!ok)
		return bad(r, "InputDigest is not 64 hexadecimal digits");
	if ((n = maybe(&cur, "Reference")) && !get_text(r, &st->reference, n))
		return false;
	if ((n = maybe(&cur, "Iban")) && !get_text(r, &st->iban, n))
		return false;
	if ((n = maybe(&cur, "PaymentDays")) && !get_count(r, &st->payment_days, n))
		return false;
	if (next_el(cur))
		return bad(r, "unexpected element in Header");

	xmlNodePtr ls = expect(r, &top, "Lines");
	if (!ls)
		return false;
	size_t cap = 0;
	cur = ls->children;
	while ((n = maybe(&cur, "Line"))) {
		if (jos_grow((void **)&st->lines, &cap, st->nlines + 1, sizeof *st->lines) != JOS_OK)
			return bad(r, "out of memory");
		fmt_stmt_line *l = &st->lines[st->nlines++];
		memset(l, 0, sizeof *l);
		if (!read_line(r, l, n))
			return false;
	}
	if (next_el(cur))
		return bad(r, "unexpected element in Lines");
	xmlNodePtr t = expect(r, &top, "Totals");
	if (!t)
		return false;
	cur = t->children;
	if (!get_cents(r, &st->gross, expect(r, &cur, "Gross")) ||
	    !get_cents(r, &st->net, expect(r, &cur, "Net")) ||
	    !get_text(r, &s, expect(r, &cur, "Status")))
		return false;
	if (strcmp(s, "invoiced") == 0)
		st->status = JOS_STATUS_INVOICED;
	else if (strcmp(s, "capped") == 0)
		st->status = JOS_STATUS_CAPPED;
	else if (strcmp(s, "below_threshold") == 0)
		st->status = JOS_STATUS_BELOW_THRESHOLD;
	else
		ok = false;
	free(s);
	return ok ? true : bad(r, "Status is not invoiced, capped or below_threshold");
}

int fmt_stmt_from_xml(fmt_stmt *out, void *doc, jos_err *err)
{
	reader r = { err, JOS_OK };
	memset(out, 0, sizeof *out);
	out->payment_days = -1;
	if (!read_stmt(&r, out, (xmlDocPtr)doc)) {
		fmt_stmt_free(out);
		return r.rc != JOS_OK ? r.rc : JOS_EINVALID;
	}
	return JOS_OK;
}

/* ---- comparing ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

#define DIFF(...) do { snprintf(why, whylen, __VA_ARGS__); return 1; } while (0)

static int cmp_cents(char *why, size_t whylen, const char *where, const char *what, jos_cents got,
		     jos_cents exp)
{
	char a[JOS_FMT_BUF], b[JOS_FMT_BUF];
	if (got != exp)
		DIFF("%s%s is %s in the statement but %s recomputed from the data", where, what,
		     jos_cents_format(a, got), jos_cents_format(b, exp));
	return 0;
}

static int cmp_key(const fmt_stmt *e, const fmt_stmt *g, char *why, size_t whylen)
{
	const jos_key *ek = &e->key, *gk = &g->key;
	char a[JOS_FMT_BUF], b[JOS_FMT_BUF];
	if (!str_eq(ek->id, gk->id) || ek->method != gk->method)
		DIFF("the key is %s (%s) in the statement but %s (%s) in the data", gk->id ? gk->id : "",
		     fmt_stmt_method_name(gk->method), ek->id ? ek->id : "", fmt_stmt_method_name(ek->method));
	if (e->measure != g->measure || (e->measure == JOS_MEASURE_HEADCOUNT && e->count_date != g->count_date))
		DIFF("the measure (days or headcount on a count date) differs from the data's");
	if (ek->min_pupils != gk->min_pupils)
		DIFF("key parameter min_pupils is %lld in the statement but %lld in the data",
		     (long long)gk->min_pupils, (long long)ek->min_pupils);
#define CMP_MICRO(field, label) \
	if (ek->field != gk->field) \
		DIFF("key parameter " label " is %s in the statement but %s in the data", \
		     jos_micro_format(a, gk->field), jos_micro_format(b, ek->field))
	CMP_MICRO(discount, "discount");
	CMP_MICRO(phase_in, "phase_in");
	CMP_MICRO(min_school_share, "min_school_share");
#undef CMP_MICRO
	if (ek->has_cap != gk->has_cap || (ek->has_cap && ek->cap != gk->cap))
		DIFF("key parameter cap is %s in the statement but %s in the data",
		     gk->has_cap ? jos_cents_format(a, gk->cap) : "none",
		     ek->has_cap ? jos_cents_format(b, ek->cap) : "none");
	if (ek->nweights != gk->nweights)
		DIFF("the key's category weights differ from the data's");
	for (size_t i = 0; i < ek->nweights; i++)
		if (!str_eq(ek->weights[i].category, gk->weights[i].category) ||
		    ek->weights[i].weight != gk->weights[i].weight)
			DIFF("the key's weight of category %s differs from the data's", ek->weights[i].category);
	if (ek->ntariffs != gk->ntariffs)
		DIFF("the key's tariffs differ from the data's");
	for (size_t i = 0; i < ek->ntariffs; i++)
		if (!str_eq(ek->tariffs[i].type, gk->tariffs[i].type) ||
		    ek->tariffs[i].cents != gk->tariffs[i].cents)
			DIFF("the key's tariff for type %s differs from the data's", ek->tariffs[i].type);
	return 0;
}

int fmt_stmt_compare(const fmt_stmt *e, const fmt_stmt *g, char *why, size_t whylen)
{
	char a[16], b[16];
	if (strcmp(e->recipient_code, g->recipient_code) != 0)
		DIFF("the statement is addressed to municipality %s but was recomputed for %s",
		     g->recipient_code, e->recipient_code);
	if (e->period_start != g->period_start || e->period_end != g->period_end) {
		char c[16], d[16];
		jos_day_format(a, g->period_start);
		jos_day_format(b, g->period_end);
		jos_day_format(c, e->period_start);
		jos_day_format(d, e->period_end);
		DIFF("the period is %s to %s in the statement but %s to %s in the data", a, b, c, d);
	}
	if (cmp_key(e, g, why, whylen))
		return 1;
	/* Lines first: a changed enrolment also changes the InputDigest, and the school
	 * whose amount moved says more than the digest. Both lists are sorted by school. */
	size_t i = 0, j = 0;
	while (i < e->nlines || j < g->nlines) {
		const fmt_stmt_line *el = i < e->nlines ? &e->lines[i] : NULL;
		const fmt_stmt_line *gl = j < g->nlines ? &g->lines[j] : NULL;
		int c = !el ? 1 : !gl ? -1 : strcmp(el->school, gl->school);
		if (c < 0)
			DIFF("school %s (%s) has a line in the data's recomputation but none in the statement",
			     el->school, el->name);
		if (c > 0)
			DIFF("school %s (%s) has a line in the statement but none in the data's recomputation",
			     gl->school, gl->name);
		char where[300];
		snprintf(where, sizeof where, "school %s (%s): ", el->school, el->name);
		if (!str_eq(el->name, gl->name) || !str_eq(el->type, gl->type))
			DIFF("%sname or type is \"%s\"/%s in the statement but \"%s\"/%s in the data", where,
			     gl->name, gl->type, el->name, el->type);
		/* money first; what moved it (pupils, pupil-years) in parentheses */
		char moved[160] = "";
		if (el->pupils != gl->pupils || strcmp(el->pupil_years, gl->pupil_years) != 0)
			snprintf(moved, sizeof moved, " (Pupils %lld and PupilYears %s in the statement, "
				 "%lld and %s in the data)", (long long)gl->pupils, gl->pupil_years,
				 (long long)el->pupils, el->pupil_years);
		char a1[JOS_FMT_BUF], a2[JOS_FMT_BUF];
#define CMP_LINE(field, label) \
		if (el->field != gl->field) \
			DIFF("%s" label " is %s in the statement but %s recomputed from the data%s", where, \
			     jos_cents_format(a1, gl->field), jos_cents_format(a2, el->field), moved)
		CMP_LINE(amount, "Amount");
		CMP_LINE(gross, "GrossShare");
		CMP_LINE(school_net_cost, "SchoolNetCost");
#undef CMP_LINE
		if (el->pupils != gl->pupils)
			DIFF("%sPupils is %lld in the statement but %lld recomputed from the data", where,
			     (long long)gl->pupils, (long long)el->pupils);
		if (strcmp(el->pupil_years, gl->pupil_years) != 0)
			DIFF("%sPupilYears is %s in the statement but %s recomputed from the data", where,
			     gl->pupil_years, el->pupil_years);
		i++;
		j++;
	}
	if (cmp_cents(why, whylen, "", "Gross", g->gross, e->gross) ||
	    cmp_cents(why, whylen, "", "Net", g->net, e->net))
		return 1;
	if (e->status != g->status)
		DIFF("Status is %s in the statement but %s recomputed from the data", fmt_stmt_status_name(g->status),
		     fmt_stmt_status_name(e->status));
	if (strcmp(e->input_digest, g->input_digest) != 0)
		DIFF("InputDigest differs: the statement was made from other input files than DATA_DIR "
		     "(statement %.12s..., data %.12s...)", g->input_digest, e->input_digest);
	if (!str_eq(e->statement_id, g->statement_id))
		DIFF("StatementId is %s in the statement but %s recomputed from the data",
		     g->statement_id ? g->statement_id : "", e->statement_id ? e->statement_id : "");
	if (e->issue_date != g->issue_date) {
		jos_day_format(a, g->issue_date);
		jos_day_format(b, e->issue_date);
		DIFF("IssueDate is %s in the statement but %s in the data", a, b);
	}
	if (!str_eq(e->issuer_id, g->issuer_id) || !str_eq(e->issuer_name, g->issuer_name))
		DIFF("the issuer differs from the data's");
	if (!str_eq(e->recipient_name, g->recipient_name))
		DIFF("the recipient's name is \"%s\" in the statement but \"%s\" in the data",
		     g->recipient_name ? g->recipient_name : "", e->recipient_name ? e->recipient_name : "");
	if (!str_eq(e->reference, g->reference))
		DIFF("the agreement reference is \"%s\" in the statement but \"%s\" in the data",
		     g->reference ? g->reference : "(none)", e->reference ? e->reference : "(none)");
	if (!str_eq(e->iban, g->iban) || e->payment_days != g->payment_days)
		DIFF("the payment details (Iban, PaymentDays) differ from the data's");
	return 0;
}

/* ---- schema ------------------------------------------------------------------------ */

struct fmt_schema {
	xmlSchemaPtr schema;
	xmlSchemaValidCtxtPtr vctx;
	char first[512];
};

static void schema_error(void *ctx, xmlErrorPtr e)
{
	fmt_schema *s = ctx;
	if (s->first[0] || !e || !e->message)
		return;
	snprintf(s->first, sizeof s->first, "line %d: %s", e->line, e->message);
	size_t n = strlen(s->first);
	while (n && (s->first[n - 1] == '\n' || s->first[n - 1] == ' '))
		s->first[--n] = '\0';
}

static void schema_quiet(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

int fmt_schema_open(fmt_schema **out, jos_err *err)
{
	size_t len;
	const unsigned char *xsd = fmt_stmt_xsd(&len);
	*out = NULL;
	fmt_schema *s = calloc(1, sizeof *s);
	if (!s)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	xmlSchemaParserCtxtPtr pctx = xmlSchemaNewMemParserCtxt((const char *)xsd, (int)len);
	if (pctx) {
		xmlSchemaSetParserStructuredErrors(pctx, schema_quiet, NULL);
		s->schema = xmlSchemaParse(pctx);
		xmlSchemaFreeParserCtxt(pctx);
	}
	if (s->schema)
		s->vctx = xmlSchemaNewValidCtxt(s->schema);
	if (!s->vctx) {
		fmt_schema_free(s);
		return jos_err_set(err, JOS_EINTERNAL, "", 0, "the embedded statement schema does not compile");
	}
	xmlSchemaSetValidStructuredErrors(s->vctx, schema_error, s);
	*out = s;
	return JOS_OK;
}

void fmt_schema_free(fmt_schema *s)
{
	if (!s)
		return;
	xmlSchemaFreeValidCtxt(s->vctx);
	xmlSchemaFree(s->schema);
	free(s);
}

int fmt_schema_validate(fmt_schema *s, void *doc, jos_err *err)
{
	s->first[0] = '\0';
	int rc = xmlSchemaValidateDoc(s->vctx, (xmlDocPtr)doc);
	if (rc == 0)
		return JOS_OK;
	if (rc < 0)
		return jos_err_set(err, JOS_EINTERNAL, "", 0, "schema validation failed internally");
	return jos_err_set(err, JOS_EINVALID, "", 0, "not valid against the statement schema: %s",
			   s->first[0] ? s->first : "(no detail)");
}
