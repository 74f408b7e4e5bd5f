/*
 * tests/formats/csv.c: the CSV reader (formats/csv.c) against the SPEC's dialect and
 * the csv-spectrum acid test: BOM, CRLF, separators, quoting, line numbers, bad bytes,
 * ragged rows, records larger than the read buffer, and column mapping.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"

/* A growing string. */
typedef struct {
	char *s;
	size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_rec(sbuf *b, const fmt_record *r, char tag)
{
	char head[32];
	snprintf(head, sizeof head, "%c%u:", tag, (unsigned)r->line);
	sb_str(b, head);
	for (size_t i = 0; i < r->nf; i++) {
		if (i)
			sb_str(b, "|");
		sb_add(b, r->f[i].s, r->f[i].n);
	}
	sb_str(b, "\n");
}

/* The problems of l as "W file:line: msg" lines (W for warnings). */
static char *problems(const jos_errlist *l)
{
	sbuf b = { 0 };
	sb_str(&b, "");
	for (size_t i = 0; i < l->n; i++) {
		char head[320];
		snprintf(head, sizeof head, "%s%s:%u: ", l->items[i].sev == JOS_SEV_WARNING ? "W " : "",
			 l->items[i].file, (unsigned)l->items[i].line);
		sb_str(&b, head);
		sb_str(&b, l->items[i].msg);
		sb_str(&b, "\n");
	}
	return b.s;
}

/* Parses csv from memory: "H1:a|b\n2:x|y\n..." plus the problems in *errs_out. */
typedef struct {
	int rc;          /* of open */
	char sep;
	char *rows;      /* header (H) and records */
	char *errs;
} parsed;

static void parsed_free(parsed *p)
{
	free(p->rows);
	free(p->errs);
}

static parsed drain(fmt_csv *c, int rc, jos_errlist *errs)
{
	parsed p = { .rc = rc };
	sbuf b = { 0 };
	sb_str(&b, "");
	if (rc == JOS_OK) {
		fmt_record r;
		p.sep = fmt_csv_separator(c);
		sb_rec(&b, fmt_csv_header(c), 'H');
		int n;
		while ((n = fmt_csv_next(c, &r, errs)) == 1)
			sb_rec(&b, &r, ' ');
		assert_int_equal(n, 0);
	} else {
		assert_null(c);
	}
	fmt_csv_free(c);
	p.rows = b.s;
	p.errs = problems(errs);
	return p;
}

static parsed parse_n(const char *csv, size_t len)
{
	jos_errlist errs;
	fmt_csv *c = NULL;
	jos_errlist_init(&errs);
	int rc = fmt_csv_open_mem(&c, csv, len, "t.csv", &errs);
	parsed p = drain(c, rc, &errs);
	jos_errlist_free(&errs);
	return p;
}

static parsed parse(const char *csv)
{
	return parse_n(csv, strlen(csv));
}

#define EXPECT(csv, want_rows, want_errs)                                       \
	do {                                                                    \
		parsed p_ = parse(csv);                                         \
		assert_int_equal(p_.rc, JOS_OK);                                \
		assert_string_equal(p_.rows, want_rows);                        \
		assert_string_equal(p_.errs, want_errs);                        \
		parsed_free(&p_);                                               \
	} while (0)

/* ---- the SPEC's dialect ------------------------------------------------------ */

static void test_fmt_csv__simple_lf_and_crlf(void **state)
{
	(void)state;
	EXPECT("a,b,c\n1,2,3\n4,5,6\n", "H1:a|b|c\n 2:1|2|3\n 3:4|5|6\n", "");
	EXPECT("a,b,c\r\n1,2,3\r\n4,5,6\r\n", "H1:a|b|c\n 2:1|2|3\n 3:4|5|6\n", "");
	/* no final line break */
	EXPECT("a,b\r\n1,2", "H1:a|b\n 2:1|2\n", "");
	/* mixed line ends */
	EXPECT("a,b\n1,2\r\n3,4\n", "H1:a|b\n 2:1|2\n 3:3|4\n", "");
}

static void test_fmt_csv__bom(void **state)
{
	(void)state;
	parsed p = parse("\xef\xbb\xbf" "code;name\r\nGM0546;Leiden\r\n");
	assert_int_equal(p.rc, JOS_OK);
	assert_int_equal(p.sep, ';');
	assert_string_equal(p.rows, "H1:code|name\n 2:GM0546|Leiden\n");
	parsed_free(&p);
	/* a BOM alone is an empty file with no header */
	p = parse("\xef\xbb\xbf");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: no header row: the file has only blank lines\n");
	parsed_free(&p);
}

static void test_fmt_csv__semicolon_with_decimal_comma(void **state)
{
	jos_errlist errs;
	fmt_csv *c = NULL;
	fmt_record r;
	char why[JOS_WHY_MAX];
	jos_cents v;
	const char *csv = "school_id;budget;cofinancing\nS1;1234,56;0,5\nS2;\"1,5\";12.25\n";
	(void)state;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_csv_open_mem(&c, csv, strlen(csv), "costs.csv", &errs), JOS_OK);
	assert_int_equal(fmt_csv_separator(c), ';');
	bool comma = fmt_csv_separator(c) == ';';
	assert_int_equal(fmt_csv_next(c, &r, &errs), 1);
	assert_int_equal(fmt_parse_amount(&v, r.f[1].s, r.f[1].n, comma, why), JOS_OK);
	assert_int_equal(v, 123456);
	assert_int_equal(fmt_parse_amount(&v, r.f[2].s, r.f[2].n, comma, why), JOS_OK);
	assert_int_equal(v, 50);
	assert_int_equal(fmt_csv_next(c, &r, &errs), 1);
	assert_int_equal(r.line, 3);
	assert_int_equal(fmt_parse_amount(&v, r.f[1].s, r.f[1].n, comma, why), JOS_OK);
	assert_int_equal(v, 150);
	assert_int_equal(fmt_parse_amount(&v, r.f[2].s, r.f[2].n, comma, why), JOS_OK);
	assert_int_equal(v, 1225);
	assert_int_equal(fmt_csv_next(c, &r, &errs), 0);
	assert_int_equal(errs.n, 0);
	fmt_csv_free(c);
	jos_errlist_free(&errs);
}

static void test_fmt_csv__quoted_separators_quotes_newlines(void **state)
{
	(void)state;
	EXPECT("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", "H1:a|b\n 2:x,y|say \"hi\"\n", "");
	/* a quoted newline: the record keeps its first line, the next ones count it */
	EXPECT("a,b\n1,\"two\nlines\"\n3,4\n\"5\r\n\r\n6\",7\n8,9\n",
	       "H1:a|b\n 2:1|two\nlines\n 4:3|4\n 5:5\r\n\r\n6|7\n 8:8|9\n", "");
	/* ';' file with quoted ';' */
	EXPECT("a;b\n\"1;2\";3\n", "H1:a|b\n 2:1;2|3\n", "");
	/* empty quoted fields, quotes after leading blanks */
	EXPECT("a,b,c\n\"\", \"x\" ,\"\"\n", "H1:a|b|c\n 2:|x|\n", "");
	/* a bare quote inside an unquoted field is kept */
	EXPECT("a,b\n12\"5,x\"y\"\n", "H1:a|b\n 2:12\"5|x\"y\"\n", "");
	/* UTF-8 inside a quoted field */
	EXPECT("a,b\n\"Zo\xc3\xa9, terwoude\",1\n", "H1:a|b\n 2:Zo\xc3\xa9, terwoude|1\n", "");
	/* a quoted header */
	EXPECT("\"a,1\",\"b\"\"\"\nx,y\n", "H1:a,1|b\"\n 2:x|y\n", "");
}

static void test_fmt_csv__trimmed_fields_and_names(void **state)
{
	(void)state;
	EXPECT(" a \t, b\n  1  ,\t2\t\n\" x \", \" y\"\n", "H1:a|b\n 2:1|2\n 3:x|y\n", "");
}

static void test_fmt_csv__text_after_closing_quote(void **state)
{
	(void)state;
	EXPECT("a,b\n\"x\"y,2\n3,4\n", "H1:a|b\n 3:3|4\n",
	       "t.csv:2: unexpected text after a closing quote: inside a quoted field, write a "
	       "quote as \"\"\n");
}

/* Fuzz finding (fuzz_csv, 2026-11-25): text after the closing quote of a field that
 * spans lines was reported one line too late per line end inside the quotes (the
 * line was counted over text already unquoted in place, which holds those line ends
 * twice: the quoted text ends with a line end, or has "" before one). The problem
 * is on the line of the closing quote. */
static void test_fmt_csv__text_after_multiline_quote_line(void **state)
{
	(void)state;
	EXPECT("a,b\n1,\"x\n\n\"z,2\n3,4\n", "H1:a|b\n 5:3|4\n",
	       "t.csv:4: unexpected text after a closing quote: inside a quoted field, write a "
	       "quote as \"\"\n");
	/* in the header */
	parsed p = parse("a,\"b\"\"\n\"x\n1,2\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:2: unexpected text after a closing quote: inside a "
				    "quoted field, write a quote as \"\"\n");
	parsed_free(&p);
}

static void test_fmt_csv__unterminated_quote(void **state)
{
	(void)state;
	/* reported at the line where the record starts; the reader resumes on the next line */
	EXPECT("a,b\n1,2\n3,\"oops\n5,6\n7,8\n", "H1:a|b\n 2:1|2\n 4:5|6\n 5:7|8\n",
	       "t.csv:3: unterminated quote: a quoted field that starts on this line has no "
	       "closing '\"'\n");
	/* in the header: the file is unusable */
	parsed p = parse("a,\"b\n1,2\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: unterminated quote: a quoted field that starts on "
				    "this line has no closing '\"'\n");
	parsed_free(&p);
}

static void test_fmt_csv__ragged_rows(void **state)
{
	(void)state;
	EXPECT("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n1,2,3,4,5,6\n\"x\ny\",2\n6,7,8,9,10\n",
	       "H1:a|b|c|d|e\n 2:1|2|3|4|5\n 7:6|7|8|9|10\n",
	       "t.csv:3: expected 5 fields, found 4\n"
	       "t.csv:4: expected 5 fields, found 6\n"
	       "t.csv:5: expected 5 fields, found 2\n");
}

static void test_fmt_csv__empty_and_separator_only_rows_skipped(void **state)
{
	(void)state;
	EXPECT("a;b;c\n\n1;2;3\n;;\r\n;;;;\n \t\n ; ;\n\r\n4;5;6\n;;\n",
	       "H1:a|b|c\n 3:1|2|3\n 9:4|5|6\n", "");
	/* blank lines before the header: the header is where it is */
	EXPECT("\n\r\n  \na,b\n1,2\n", "H4:a|b\n 5:1|2\n", "");
	/* a row with one value and empty others is data */
	EXPECT("a;b;c\n;;x\n", "H1:a|b|c\n 2:||x\n", "");
}

static void test_fmt_csv__empty_file(void **state)
{
	(void)state;
	parsed p = parse_n("", 0);
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: empty file: a header row is required\n");
	parsed_free(&p);
	p = parse("\n\r\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:3: no header row: the file has only blank lines\n");
	parsed_free(&p);
}

static void test_fmt_csv__header_only(void **state)
{
	(void)state;
	EXPECT("a,b,c\n", "H1:a|b|c\n", "");
	EXPECT("a,b,c", "H1:a|b|c\n", "");
	EXPECT("a;b;c\r\n\r\n", "H1:a|b|c\n", "");
}

static void test_fmt_csv__invalid_utf8(void **state)
{
	(void)state;
	/* Latin-1 é on line 3, an overlong '/' on 4, a surrogate on 5, a cut sequence on 6 */
	EXPECT("name,x\nLeiden,1\nZo\xe9terwoude,2\n\xc0\xaf,3\n\xed\xa0\x80,4\nab\xe2\x82,5\n"
	       "Zo\xc3\xa9terwoude,6\n\xf0\x9f\x98\x80,7\n",
	       "H1:name|x\n 2:Leiden|1\n 7:Zo\xc3\xa9terwoude|6\n 8:\xf0\x9f\x98\x80|7\n",
	       "t.csv:3: invalid UTF-8 (byte 0xE9): save the file as UTF-8\n"
	       "t.csv:4: invalid UTF-8 (byte 0xC0): save the file as UTF-8\n"
	       "t.csv:5: invalid UTF-8 (byte 0xED): save the file as UTF-8\n"
	       "t.csv:6: invalid UTF-8 (byte 0xE2): save the file as UTF-8\n");
	/* inside a quoted field over three lines: the line of the byte */
	EXPECT("a,b\n\"x\ny\nz\xff\",1\n2,3\n", "H1:a|b\n 5:2|3\n",
	       "t.csv:4: invalid UTF-8 (byte 0xFF): save the file as UTF-8\n");
	/* in the header */
	parsed p = parse("n\xe9m,b\n1,2\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: invalid UTF-8 (byte 0xE9): save the file as UTF-8\n");
	parsed_free(&p);
}

/* Fuzz finding (fuzz_dataset, 2026-11-25): a school name with a control character
 * (0x04) passed the reader and `check`, and then `settle` failed building the XML
 * statement (XML 1.0 cannot hold C0 controls other than tab, LF and CR). The reader now
 * refuses them at their line like a NUL; tab and CR stay text. */
static void test_fmt_csv__control_characters(void **state)
{
	(void)state;
	static const char csv[] = "a,b\n1,x\x04y\n2,\"q\x01\nr\"\n3,\"t\tu\rv\"\n4,\x0b\n5,\x1f\n6,ok\n";
	parsed p = parse_n(csv, sizeof csv - 1);
	assert_int_equal(p.rc, JOS_OK);
	assert_string_equal(p.rows, "H1:a|b\n 5:3|t\tu\rv\n 8:6|ok\n");
	assert_string_equal(p.errs,
			    "t.csv:2: control character 0x04: the file must be plain text "
			    "(statements, which are XML, cannot hold it): remove it\n"
			    "t.csv:3: control character 0x01: the file must be plain text "
			    "(statements, which are XML, cannot hold it): remove it\n"
			    "t.csv:6: control character 0x0B: the file must be plain text "
			    "(statements, which are XML, cannot hold it): remove it\n"
			    "t.csv:7: control character 0x1F: the file must be plain text "
			    "(statements, which are XML, cannot hold it): remove it\n");
	parsed_free(&p);
}

/* Fuzz finding (fuzz_dataset's sign-and-verify oracle, 2026-11-25): U+FFFE and U+FFFF
 * are valid UTF-8 but no XML 1.0 character; a municipality name with one made settle
 * write a statement that verify refuses as not well-formed. The reader refuses them. */
static void test_fmt_csv__xml_nonchars(void **state)
{
	(void)state;
	EXPECT("a,b\n1,Wass\xef\xbf\xbf\n2,\"x\xef\xbf\xbe\"\n3,\xef\xbf\xbd\xef\xbb\xbf\n",
	       "H1:a|b\n 4:3|\xef\xbf\xbd\xef\xbb\xbf\n",
	       "t.csv:2: character U+FFFF is not text (statements, which are XML, cannot hold "
	       "it): remove it\n"
	       "t.csv:3: character U+FFFE is not text (statements, which are XML, cannot hold "
	       "it): remove it\n");
}

static void test_fmt_csv__nul_byte(void **state)
{
	(void)state;
	static const char csv[] = "a,b\n1,2\n3,\0\n5,6\n\"7\n\0\",8\n9,10";
	parsed p = parse_n(csv, sizeof csv - 1);
	assert_int_equal(p.rc, JOS_OK);
	assert_string_equal(p.rows, "H1:a|b\n 2:1|2\n 4:5|6\n 7:9|10\n");
	assert_string_equal(p.errs, "t.csv:3: NUL byte: the file must be UTF-8 text\n"
				    "t.csv:6: NUL byte: the file must be UTF-8 text\n");
	parsed_free(&p);
	static const char hdr[] = "a\0,b\n1,2\n";
	p = parse_n(hdr, sizeof hdr - 1);
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: NUL byte: the file must be UTF-8 text\n");
	parsed_free(&p);
}

static void test_fmt_csv__separator_detection(void **state)
{
	(void)state;
	parsed p = parse("a\n1\n");
	assert_int_equal(p.sep, ',');
	parsed_free(&p);
	p = parse("a;b,c;d\n1;2,5;3\n");
	assert_int_equal(p.sep, ';');
	assert_string_equal(p.rows, "H1:a|b,c|d\n 2:1|2,5|3\n");
	parsed_free(&p);
	p = parse("\"a;b;c\",d\n1,2\n");   /* ';' inside quotes do not count */
	assert_int_equal(p.sep, ',');
	assert_string_equal(p.rows, "H1:a;b;c|d\n 2:1|2\n");
	parsed_free(&p);
	p = parse("a,b;c\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:1: cannot tell the separator: the header has as many "
				    "',' as ';' (1) outside quotes\n");
	parsed_free(&p);
	p = parse("\n\"x,y\";a,b;c,d\n");
	assert_int_equal(p.rc, JOS_EINVALID);
	assert_string_equal(p.errs, "t.csv:2: cannot tell the separator: the header has as many "
				    "',' as ';' (2) outside quotes\n");
	parsed_free(&p);
}

static void test_fmt_csv__column_lookup(void **state)
{
	jos_errlist errs;
	fmt_csv *c = NULL;
	const char *csv = " Pupil_ID ;SCHOOL_id;x\n";
	(void)state;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_csv_open_mem(&c, csv, strlen(csv), "e.csv", &errs), JOS_OK);
	assert_int_equal(fmt_csv_column(c, "pupil_id"), 0);
	assert_int_equal(fmt_csv_column(c, " school_ID "), 1);
	assert_int_equal(fmt_csv_column(c, "X"), 2);
	assert_int_equal(fmt_csv_column(c, "pupil"), -1);
	assert_int_equal(fmt_csv_column(c, "pupil_id_"), -1);
	fmt_csv_free(c);
	jos_errlist_free(&errs);
}

static void map_case(const char *csv, int want_rc, const int *want_idx, const char *want_errs)
{
	static const fmt_column cols[] = {
		{ "school_id", true }, { "budget", true }, { "cofinancing", false },
	};
	int idx[3] = { 7, 7, 7 };
	jos_errlist errs;
	fmt_csv *c = NULL;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_csv_open_mem(&c, csv, strlen(csv), "costs.csv", &errs), JOS_OK);
	assert_int_equal(fmt_csv_map(c, cols, 3, idx, &errs), want_rc);
	for (int i = 0; i < 3; i++)
		assert_int_equal(idx[i], want_idx[i]);
	char *got = problems(&errs);
	assert_string_equal(got, want_errs);
	free(got);
	fmt_csv_free(c);
	jos_errlist_free(&errs);
}

static void test_fmt_csv__map_columns(void **state)
{
	(void)state;
	map_case("Budget,School_ID\n", JOS_OK, (const int[]){ 1, 0, -1 }, "");
	map_case("school_id,cofinancing,budget,foo\n", JOS_OK, (const int[]){ 0, 2, 1 },
		 "W costs.csv:1: unknown column 'foo' ignored\n");
	map_case("\nschool_id,cofinancing\n", JOS_EINVALID, (const int[]){ 0, -1, 1 },
		 "costs.csv:2: missing required column 'budget'\n");
	map_case("school_id;budget;BUDGET;x;X;Y\n", JOS_EINVALID, (const int[]){ 0, 1, -1 },
		 "costs.csv:1: duplicate column 'BUDGET'\n"
		 "costs.csv:1: duplicate column 'X'\n"
		 "W costs.csv:1: unknown column 'x' ignored\n"
		 "W costs.csv:1: unknown column 'X' ignored\n"
		 "W costs.csv:1: unknown column 'Y' ignored\n");
	map_case("school_id;budget;\n", JOS_OK, (const int[]){ 0, 1, -1 },
		 "W costs.csv:1: column 3 has no name and is ignored\n");
}

/* ---- through files and the read buffer ---------------------------------------- */

static char *write_temp(const char *data, size_t len)
{
	char *path = strdup("/tmp/jos-csv-test-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	close(fd);
	return path;
}

static parsed parse_file(const char *data, size_t len)
{
	jos_errlist errs;
	fmt_csv *c = NULL;
	char *path = write_temp(data, len);
	jos_errlist_init(&errs);
	int rc = fmt_csv_open(&c, path, "f.csv", &errs);
	parsed p = drain(c, rc, &errs);
	jos_errlist_free(&errs);
	unlink(path);
	free(path);
	return p;
}

/* ---- fmt_csv_simple (a loader's fast path) against fmt_csv_next ------------------------ */

/* drain, but each line fmt_csv_simple takes with the header's field count (and not all
 * empty, which fmt_csv_next skips) is read by fmt_csv_simple; *taken counts them. */
static parsed drain_simple(fmt_csv *c, int rc, jos_errlist *errs, size_t *taken)
{
	parsed p = { .rc = rc };
	sbuf b = { 0 };
	sb_str(&b, "");
	*taken = 0;
	if (rc == JOS_OK) {
		fmt_record r;
		fmt_field f[8 + FMT_CSV_SPARE];
		size_t want = fmt_csv_header(c)->nf;
		p.sep = fmt_csv_separator(c);
		sb_rec(&b, fmt_csv_header(c), 'H');
		for (;;) {
			uint32_t line = 0;
			size_t n = want <= 8 ? fmt_csv_simple(c, f, want, UINT64_MAX, &line) : 0;
			bool empty = true;
			for (size_t i = 0; i < n; i++)
				empty &= f[i].n == 0;
			if (n == want && !empty) {
				r.f = f;
				r.nf = n;
				r.line = line;
				sb_rec(&b, &r, ' ');
				(*taken)++;
				continue;
			}
			if (n)
				fmt_csv_simple_undo(c);
			int k = fmt_csv_next(c, &r, errs);
			assert_true(k >= 0);
			if (k == 0)
				break;
			sb_rec(&b, &r, ' ');
		}
	} else {
		assert_null(c);
	}
	fmt_csv_free(c);
	p.rows = b.s;
	p.errs = problems(errs);
	return p;
}

static uint64_t csv_rnd_state;

static unsigned csv_rnd(unsigned n)
{
	csv_rnd_state = csv_rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(csv_rnd_state >> 33) % n;
}

/* Random lines, most of them plain: separators of both kinds, quotes, blanks, CR, CRLF,
 * control and non-ASCII bytes (valid UTF-8 and not), empty lines, lines of 0 to ~300
 * bytes. */
static void random_csv(sbuf *b, size_t bytes, char sep)
{
	static const char *const odd[] = { "\"", " ", "\t", "\r", "\x01", "\xc3\xa9", "\xff",
					   "\"q\"\"x\"", "\"a\nb\"", "\r\n", "\x7f", "\x1f", ";", "," };
	char head[32];
	snprintf(head, sizeof head, "%sa%cb%cc\n", csv_rnd(2) ? "\xef\xbb\xbf" : "", sep, sep);
	sb_str(b, head);
	while (b->n < bytes) {
		unsigned len = csv_rnd(8) == 0 ? csv_rnd(300) : csv_rnd(40);
		int nsep = csv_rnd(10) == 0 ? (int)csv_rnd(5) : 2;
		for (unsigned i = 0; i < len; i++) {
			char ch = (char)('a' + csv_rnd(26));
			if (csv_rnd(60) == 0) {
				sb_str(b, odd[csv_rnd(sizeof odd / sizeof odd[0])]);
				continue;
			}
			if (nsep > 0 && csv_rnd(len / 3 + 1) == 0) {
				ch = sep;
				nsep--;
			}
			sb_add(b, &ch, 1);
		}
		while (nsep-- > 0 && csv_rnd(4))
			sb_add(b, &sep, 1);
		sb_str(b, csv_rnd(15) == 0 ? "\r\n" : "\n");
	}
}

/* Both ways give the same records, lines and problems, from memory and from a file (the
 * file of more than 1 MiB: lines across the read buffer's end), with every SIMD level. */
static void simple_equals_next(uint64_t seed, size_t bytes, char sep)
{
	sbuf in = { 0 };
	csv_rnd_state = seed;
	random_csv(&in, bytes, sep);
	parsed want = parse_n(in.s, in.n);
	assert_int_equal(want.rc, JOS_OK);
	assert_true(strlen(want.errs) > 0);
	char *path = write_temp(in.s, in.n);
	for (int level = 0; level <= 2; level++) {
		if (fmt_csv_simd(level) != level)
			continue;
		for (int file = 0; file < 2; file++) {
			jos_errlist errs;
			fmt_csv *c = NULL;
			size_t taken;
			jos_errlist_init(&errs);
			int rc = file ? fmt_csv_open(&c, path, "t.csv", &errs)
				      : fmt_csv_open_mem(&c, in.s, in.n, "t.csv", &errs);
			parsed got = drain_simple(c, rc, &errs, &taken);
			jos_errlist_free(&errs);
			assert_int_equal(got.rc, want.rc);
			assert_int_equal(got.sep, sep);
			assert_string_equal(got.rows, want.rows);
			assert_string_equal(got.errs, want.errs);
			assert_true(taken > 10);
			parsed_free(&got);
		}
	}
	fmt_csv_simd(-1);
	unlink(path);
	free(path);
	parsed_free(&want);
	free(in.s);
}

static void test_fmt_csv__simple_random_lines(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++)
		simple_equals_next(seed, 3000 + seed * 500, seed % 2 ? ',' : ';');
	simple_equals_next(99, (size_t)5 << 19, ',');   /* 2.5 MiB */
}

/* Edge cases one by one: each line either taken with its exact fields or left alone. */
static void test_fmt_csv__simple_edges(void **state)
{
	static const struct {
		const char *line;   /* after the header "a,b,c\n" */
		const char *fields; /* "x|y|z" when fmt_csv_simple takes it, NULL when not */
	} cases[] = {
		{ "x,y,z\n", "x|y|z" },
		{ "x,y,z\r\n", "x|y|z" },
		{ "x,y,\r\n", "x|y|" },
		{ ",,\n", "||" },
		{ "x,y,z\r\r\n", NULL },
		{ "x,y\rq,z\n", NULL },
		{ "x,y, z\n", NULL },
		{ "x,y,z \n", NULL },
		{ "x,\"y\",z\n", NULL },
		{ "x,y\",z\n", NULL },
		{ "x,y,z", NULL },        /* no line end */
		{ "x,y,\xc3\xa9\n", NULL },
		{ "x,y,\x01\n", NULL },
		{ "x,y,\x7f\n", "x|y|\x7f" },
		{ "x;y,z\n", "x;y|z" },  /* fewer fields than maxf: the caller's to check */
		{ "x,y,z,w\n", NULL },   /* more than maxf */
		{ "x,y,zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		  "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n",
		  "x|y|zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		  "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,y,z\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|y|z" },
		{ "\n", "" },            /* one empty field */
	};
	(void)state;
	for (int level = 0; level <= 2; level++) {
		if (fmt_csv_simd(level) != level)
			continue;
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			sbuf in = { 0 }, got = { 0 };
			fmt_csv *c = NULL;
			fmt_field f[3 + FMT_CSV_SPARE];
			sb_str(&in, "a,b,c\n");
			sb_str(&in, cases[k].line);
			assert_int_equal(fmt_csv_open_mem(&c, in.s, in.n, "t.csv", NULL), JOS_OK);
			uint32_t line = 0;
			assert_int_equal(fmt_csv_simple(c, f, 3, 6, &line), 0);   /* at `end` */
			size_t n = fmt_csv_simple(c, f, 3, 7, &line);
			if (!cases[k].fields) {
				assert_int_equal(n, 0);
				assert_int_equal(fmt_csv_offset(c), 6);
				assert_int_equal(fmt_csv_line(c), 2);
			} else {
				sb_str(&got, "");
				for (size_t i = 0; i < n; i++) {
					if (i)
						sb_str(&got, "|");
					sb_add(&got, f[i].s, f[i].n);
				}
				assert_string_equal(got.s, cases[k].fields);
				assert_int_equal(line, 2);
				assert_int_equal(fmt_csv_line(c), 3);
				assert_int_equal(fmt_csv_offset(c), in.n);
				fmt_csv_simple_undo(c);   /* back, and read the usual way */
				assert_int_equal(fmt_csv_line(c), 2);
				assert_int_equal(fmt_csv_offset(c), 6);
				fmt_record r;
				bool blank = strspn(cases[k].fields, "|") == strlen(cases[k].fields);
				assert_int_equal(fmt_csv_next(c, &r, NULL), n == 3 && !blank ? 1 : 0);
				if (n == 3 && !blank)
					assert_int_equal(r.line, 2);
			}
			fmt_csv_free(c);
			free(in.s);
			free(got.s);
		}
	}
	fmt_csv_simd(-1);
}

static void test_fmt_csv__one_megabyte_field(void **state)
{
	(void)state;
	/* 3 MB fields, quoted and unquoted, bigger than the 1 MiB read buffer */
	size_t big = 3u << 20;
	sbuf in = { 0 }, want = { 0 };
	char *x = malloc(big);
	assert_non_null(x);
	memset(x, 'x', big);
	x[big / 2] = '\n';   /* a quoted newline in the middle of the quoted one */
	sb_str(&in, "a,b\n1,\"");
	sb_add(&in, x, big);
	sb_str(&in, "\"\n2,");
	memset(x + big / 2, 'y', 1);
	sb_add(&in, x, big);
	sb_str(&in, "\n3,4\n");

	x[big / 2] = '\n';
	sb_str(&want, "H1:a|b\n 2:1|");
	sb_add(&want, x, big);
	sb_str(&want, "\n 4:2|");
	x[big / 2] = 'y';
	sb_add(&want, x, big);
	sb_str(&want, "\n 5:3|4\n");

	parsed p = parse_file(in.s, in.n);
	assert_int_equal(p.rc, JOS_OK);
	assert_int_equal(strlen(p.rows), want.n);
	assert_true(memcmp(p.rows, want.s, want.n) == 0);
	assert_string_equal(p.errs, "");
	parsed_free(&p);
	p = parse_n(in.s, in.n);
	assert_true(strcmp(p.rows, want.s) == 0);
	parsed_free(&p);
	free(x);
	free(in.s);
	free(want.s);
}

static void test_fmt_csv__file_equals_memory(void **state)
{
	(void)state;
	/* ~6 MB of rows with quoted fields, CRLF, errors and blank lines: every record that
	 * straddles a buffer boundary must come out as from memory. */
	sbuf in = { 0 };
	char row[200];
	sb_str(&in, "\xef\xbb\xbfpupil_id;school_id;name;amount\r\n");
	for (int i = 0; i < 120000; i++) {
		switch (i % 11) {
		case 3:
			snprintf(row, sizeof row, "P%d;S%d;\"Van \"\"der\"\"\r\nBerg; %d\";%d,%02d\r\n",
				 i, i % 97, i, i, i % 100);
			break;
		case 5:
			snprintf(row, sizeof row, ";;;\r\n\r\n");
			break;
		case 7:
			if (i % 121 == 7) {   /* fewer than JOS_ERRLIST_KEEP errors */
				snprintf(row, sizeof row, "P%d;S%d;short\r\n", i, i % 97);
				break;
			}
			/* fall through */
		default:
			snprintf(row, sizeof row, "P%d;S%d;Jansen %d;%d.%02d\r\n", i, i % 97, i, i, i % 100);
		}
		sb_str(&in, row);
	}
	parsed f = parse_file(in.s, in.n), m = parse_n(in.s, in.n);
	assert_int_equal(f.rc, JOS_OK);
	assert_true(strcmp(f.rows, m.rows) == 0);
	/* the same problems, only the file name differs */
	assert_int_equal(strlen(f.errs), strlen(m.errs));
	size_t nerr = 0;
	for (const char *q = m.errs; (q = strstr(q, ": expected 4 fields, found 3\n")); q++)
		nerr++;
	assert_int_equal(nerr, 992);
	assert_true(strncmp(m.errs, "t.csv:11: expected 4 fields, found 3\n", 37) == 0);
	assert_non_null(strstr(f.rows, "\n 5:P3|S3|Van \"der\"\r\nBerg; 3|3,03\n 7:P4|"));
	parsed_free(&f);
	parsed_free(&m);
	free(in.s);
}

static void test_fmt_csv__missing_file(void **state)
{
	jos_errlist errs;
	fmt_csv *c = (fmt_csv *)&errs;
	(void)state;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_csv_open(&c, "/nonexistent/x.csv", "x.csv", &errs), JOS_EIO);
	assert_null(c);
	assert_int_equal(errs.nerrors, 1);
	assert_string_equal(errs.items[0].file, "x.csv");
	jos_errlist_free(&errs);
	fmt_csv_free(NULL);
}

/* ---- csv-spectrum ------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	sbuf b = { 0 };
	char tmp[4096];
	size_t n;
	sb_str(&b, "");
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		sb_add(&b, tmp, n);
	fclose(f);
	*len = b.n;
	return b.s;
}

/* A minimal JSON reader for the expectations: an array of objects (or one object)
 * whose values are strings. Appends "key=value" per member, "\n" per object. */
static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return p;
}

static const char *json_str(const char *p, sbuf *out)
{
	assert_int_equal(*p, '"');
	p++;
	while (*p != '"') {
		assert_true(*p != '\0');
		if (*p != '\\') {
			sb_add(out, p++, 1);
			continue;
		}
		p++;
		char c = *p++;
		switch (c) {
		case 'n': sb_str(out, "\n"); break;
		case 'r': sb_str(out, "\r"); break;
		case 't': sb_str(out, "\t"); break;
		case 'u': {
			unsigned v = 0;
			for (int i = 0; i < 4; i++, p++)
				v = v * 16 + (unsigned)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
			char u[3];
			if (v < 0x80) {
				u[0] = (char)v;
				sb_add(out, u, 1);
			} else if (v < 0x800) {
				u[0] = (char)(0xc0 | (v >> 6));
				u[1] = (char)(0x80 | (v & 0x3f));
				sb_add(out, u, 2);
			} else {
				u[0] = (char)(0xe0 | (v >> 12));
				u[1] = (char)(0x80 | ((v >> 6) & 0x3f));
				u[2] = (char)(0x80 | (v & 0x3f));
				sb_add(out, u, 3);
			}
			break;
		}
		default: sb_add(out, &c, 1);
		}
	}
	return p + 1;
}

static const char *json_object(const char *p, sbuf *out, const char *skip_key)
{
	assert_int_equal(*p, '{');
	p = json_ws(p + 1);
	while (*p != '}') {
		sbuf k = { 0 }, v = { 0 };
		sb_str(&k, "");
		sb_str(&v, "");
		p = json_ws(json_str(p, &k));
		assert_int_equal(*p, ':');
		p = json_ws(json_str(json_ws(p + 1), &v));
		if (!skip_key || strcmp(k.s, skip_key) != 0) {
			sb_str(out, k.s);
			sb_str(out, "=");
			sb_str(out, v.s);
			sb_str(out, "\x1f");
		}
		free(k.s);
		free(v.s);
		if (*p == ',')
			p = json_ws(p + 1);
	}
	sb_str(out, "\n");
	return p + 1;
}

static void json_expect(sbuf *out, const char *json, const char *skip_key)
{
	const char *p = json_ws(json);
	if (*p == '{') {
		json_object(p, out, skip_key);
		return;
	}
	assert_int_equal(*p, '[');
	p = json_ws(p + 1);
	while (*p != ']') {
		p = json_ws(json_object(p, out, skip_key));
		if (*p == ',')
			p = json_ws(p + 1);
	}
}

/* The same shape from our reader. */
static void csv_as_json(sbuf *out, const char *csv, size_t len, const char *skip_key)
{
	jos_errlist errs;
	fmt_csv *c = NULL;
	fmt_record r;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_csv_open_mem(&c, csv, len, "spectrum.csv", &errs), JOS_OK);
	const fmt_record *h = fmt_csv_header(c);
	int n;
	while ((n = fmt_csv_next(c, &r, &errs)) == 1) {
		for (size_t i = 0; i < r.nf; i++) {
			if (skip_key && h->f[i].n == strlen(skip_key) &&
			    memcmp(h->f[i].s, skip_key, h->f[i].n) == 0)
				continue;
			sb_add(out, h->f[i].s, h->f[i].n);
			sb_str(out, "=");
			sb_add(out, r.f[i].s, r.f[i].n);
			sb_str(out, "\x1f");
		}
		sb_str(out, "\n");
	}
	assert_int_equal(n, 0);
	if (errs.n)
		fail_msg("unexpected problem: %s:%u: %s", errs.items[0].file,
			 (unsigned)errs.items[0].line, errs.items[0].msg);
	fmt_csv_free(c);
	jos_errlist_free(&errs);
}

/* Tests run from the repository root; shared/ sits beside the clone (CI, /work/main)
 * or two levels up (a helper's worktree in wt/NAME). */
static const char *spectrum_dir(void)
{
	static const char *dirs[] = { "../shared/data/csv-spectrum", "../../shared/data/csv-spectrum" };
	const char *env = getenv("JOS_CSV_SPECTRUM");
	if (env)
		return env;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char p[256];
		snprintf(p, sizeof p, "%s/csvs/simple.csv", dirs[i]);
		if (access(p, R_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

static void test_fmt_csv__csv_spectrum(void **state)
{
	static const char *names[] = {
		"comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json",
		"location_coordinates", "newlines", "newlines_crlf", "quotes_and_newlines",
		"simple", "simple_crlf", "utf8",
	};
	(void)state;
	const char *dir = spectrum_dir();
	if (!dir)
		fail_msg("csv-spectrum fixtures not found: expected ../shared/data/csv-spectrum "
			 "beside the repository (run the tests from the repository root), or set "
			 "JOS_CSV_SPECTRUM to the folder");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512];
		size_t clen, jlen;
		snprintf(path, sizeof path, "%s/csvs/%s.csv", dir, names[i]);
		char *csv = slurp(path, &clen);
		if (!csv)
			fail_msg("cannot read %s", path);
		snprintf(path, sizeof path, "%s/json/%s.json", dir, names[i]);
		char *json = slurp(path, &jlen);
		if (!json)
			fail_msg("cannot read %s", path);
		/* Upstream defect (see the fixtures' README): location_coordinates.json is one
		 * object, not an array, and its phone number is not the CSV's. Compare the rest. */
		const char *skip = strcmp(names[i], "location_coordinates") == 0
					   ? "Contact Phone Number" : NULL;
		sbuf want = { 0 }, got = { 0 };
		sb_str(&want, "");
		sb_str(&got, "");
		json_expect(&want, json, skip);
		csv_as_json(&got, csv, clen, skip);
		if (strcmp(want.s, got.s) != 0)
			fail_msg("csv-spectrum %s:\nwant: %s\ngot:  %s", names[i], want.s, got.s);
		if (skip) {
			/* ... and the phone number is the CSV's */
			free(got.s);
			got = (sbuf){ 0 };
			sb_str(&got, "");
			csv_as_json(&got, csv, clen, NULL);
			assert_non_null(strstr(got.s, "Contact Phone Number=2095257564\x1f"));
		}
		free(want.s);
		free(got.s);
		free(csv);
		free(json);
	}
}

/* fmt_count_byte against a byte-by-byte count: random bytes at every offset and length up
 * to 600, and runs of nothing but the byte (every lane counting up to 255 and past). */
static void test_fmt_count_byte__equals_plain_count(void **state)
{
	(void)state;
	static char buf[20000];
	uint64_t seed = 99;
	for (size_t i = 0; i < sizeof buf; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (seed >> 60) < 3 ? '\n' : (char)(seed >> 40);
	}
	for (size_t off = 0; off < 17; off++)
		for (size_t n = 0; n <= 600; n++) {
			size_t want = 0;
			for (size_t i = 0; i < n; i++)
				want += buf[off + i] == '\n';
			assert_int_equal(fmt_count_byte(buf + off, n, '\n'), want);
		}
	size_t want = 0;
	for (size_t i = 0; i < sizeof buf; i++)
		want += buf[i] == (char)0xC3;
	assert_int_equal(fmt_count_byte(buf, sizeof buf, (char)0xC3), want);
	memset(buf, '\n', sizeof buf);
	const size_t sizes[] = { 4079, 4080, 4081, 4096, 8160, 8161, 20000 };
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
		assert_int_equal(fmt_count_byte(buf, sizes[k], '\n'), sizes[k]);
	assert_int_equal(fmt_count_byte(buf, sizeof buf, 'x'), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_count_byte__equals_plain_count),
		cmocka_unit_test(test_fmt_csv__simple_lf_and_crlf),
		cmocka_unit_test(test_fmt_csv__bom),
		cmocka_unit_test(test_fmt_csv__semicolon_with_decimal_comma),
		cmocka_unit_test(test_fmt_csv__quoted_separators_quotes_newlines),
		cmocka_unit_test(test_fmt_csv__trimmed_fields_and_names),
		cmocka_unit_test(test_fmt_csv__text_after_closing_quote),
		cmocka_unit_test(test_fmt_csv__unterminated_quote),
		cmocka_unit_test(test_fmt_csv__ragged_rows),
		cmocka_unit_test(test_fmt_csv__empty_and_separator_only_rows_skipped),
		cmocka_unit_test(test_fmt_csv__empty_file),
		cmocka_unit_test(test_fmt_csv__header_only),
		cmocka_unit_test(test_fmt_csv__invalid_utf8),
		cmocka_unit_test(test_fmt_csv__nul_byte),
		cmocka_unit_test(test_fmt_csv__separator_detection),
		cmocka_unit_test(test_fmt_csv__column_lookup),
		cmocka_unit_test(test_fmt_csv__map_columns),
		cmocka_unit_test(test_fmt_csv__text_after_multiline_quote_line),
		cmocka_unit_test(test_fmt_csv__control_characters),
		cmocka_unit_test(test_fmt_csv__xml_nonchars),
		cmocka_unit_test(test_fmt_csv__one_megabyte_field),
		cmocka_unit_test(test_fmt_csv__file_equals_memory),
		cmocka_unit_test(test_fmt_csv__missing_file),
		cmocka_unit_test(test_fmt_csv__csv_spectrum),
		cmocka_unit_test(test_fmt_csv__simple_random_lines),
		cmocka_unit_test(test_fmt_csv__simple_edges),
	};
	return cmocka_run_group_tests_name("formats/csv", tests, NULL, NULL);
}
