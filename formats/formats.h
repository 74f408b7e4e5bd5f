/*
 * formats.h: everything that reads or writes bytes: the CSV dialect and strict value
 * parsers, the INI reader, the DATA_DIR loader, the statement XML (with its XSD),
 * signing and verification, and the summary and report writers.
 *
 * Ownership follows jos.h: *_open and *_new objects are released by the matching *_free
 * (NULL accepted); pointers returned inside records are borrowed until the next call.
 */
#ifndef JOS_FORMATS_H
#define JOS_FORMATS_H

#include <stdio.h>

#include "engine/engine.h"

/* ---- strict value parsers (SPEC "CSV dialect", "Acceptance") --------------
 * Each takes the trimmed field text [s, s+n), returns JOS_OK or JOS_EINVALID with a
 * message in why[JOS_WHY_MAX] that says what is wrong ("thousands separators are not
 * allowed: write 1234.56"). None reads the locale. */
#define JOS_WHY_MAX 160
/* Euros to cents: optional '-', digits, optional separator and 1-2 digits. The
 * separator is '.'; with allow_comma (fields of ';' files) ',' too. */
int fmt_parse_amount(jos_cents *out, const char *s, size_t n, bool allow_comma, char *why);
/* YYYY-MM-DD or DD-MM-YYYY, checked against the calendar. */
int fmt_parse_date(jos_day *out, const char *s, size_t n, char *why);
/* The 10 bytes at s as fmt_parse_date reads them, without the reasons: true exactly
 * when fmt_parse_date(out, s, 10, why) gives JOS_OK, with the same day. */
bool fmt_date_fast(jos_day *out, const char *s);
/* yes/no, ja/nee, true/false, 1/0, any case. */
int fmt_parse_bool(bool *out, const char *s, size_t n, char *why);
/* GM0546, gm0546, 0546, 546 -> "0546" (out has room for 5 bytes). 0000, 5+ digits,
 * inner spaces are errors. */
int fmt_parse_code(char out[5], const char *s, size_t n, char *why);
/* A decimal with at most 6 decimals, '.' only, no sign unless allow_negative: to
 * millionths. Range checks are the caller's. */
int fmt_parse_micro(jos_micro *out, const char *s, size_t n, bool allow_negative, char *why);
/* A non-negative integer without separators (inhabitants, min_pupils, payment_days). */
int fmt_parse_count(int64_t *out, const char *s, size_t n, char *why);

/* ---- CSV reader ------------------------------------------------------------
 * Streaming: reads through a fixed buffer (records of any size are supported; the
 * buffer grows to hold the longest record). No allocation per row or field. Fields
 * are unquoted in place and trimmed of spaces and tabs; they stay valid until the
 * next fmt_csv_next. */
typedef struct fmt_csv fmt_csv;

typedef struct {
	const char *s;   /* NOT NUL-terminated */
	size_t n;
} fmt_field;

typedef struct {
	fmt_field *f;    /* nf fields */
	size_t nf;
	uint32_t line;   /* physical line where the record starts (header = 1) */
} fmt_record;

/* Opens path and reads the header. Problems (0-byte file, invalid UTF-8, NUL,
 * ambiguous separator, ...) go to errs with FILE:LINE; `file` is the name printed.
 * Returns JOS_EIO (could not open/read) or JOS_EINVALID (header unusable). */
int fmt_csv_open(fmt_csv **out, const char *path, const char *file, jos_errlist *errs);
/* The same over a memory buffer (tests, fuzzers); buf is borrowed. */
int fmt_csv_open_mem(fmt_csv **out, const char *buf, size_t len, const char *file,
		     jos_errlist *errs);
void fmt_csv_free(fmt_csv *c);
char fmt_csv_separator(const fmt_csv *c);     /* ',' or ';' */
const fmt_record *fmt_csv_header(const fmt_csv *c);
/* Column index of a header name (case-insensitive, trimmed), or -1. */
int fmt_csv_column(const fmt_csv *c, const char *name);
/* Next data record: 1 = rec filled, 0 = end, <0 = I/O error. Empty lines and rows of
 * only separators are skipped. A record with a different field count than the header,
 * invalid UTF-8, a NUL byte or an unterminated quote is reported into errs and
 * skipped (the reader resynchronises at the next line). */
int fmt_csv_next(fmt_csv *c, fmt_record *rec, jos_errlist *errs);
/* For reading one file in parts (on several threads, one reader each): the byte offset
 * in the file of the next unread byte (after fmt_csv_next: where the next record
 * starts), and a jump to `offset`, which the caller knows to start a record at physical
 * line `line`; the header, separator and field count stay those read at open. */
uint64_t fmt_csv_offset(const fmt_csv *c);
uint32_t fmt_csv_line(const fmt_csv *c);   /* physical line at that offset */
int fmt_csv_seek(fmt_csv *c, uint64_t offset, uint32_t line);

/* A loader's fast path: when the next line starts before byte offset `end`, is complete
 * in the buffer, ends in '\n' (CR before it allowed), holds only printable ASCII without
 * blanks or quotes, and has at most maxf fields: consumes it (one physical line), puts
 * its fields into f (pointing into the buffer; f has room for maxf + FMT_CSV_SPARE
 * fields) and its line into *line, and returns the field count; fmt_csv_simple_undo
 * puts it back (then read it with fmt_csv_next). 0 otherwise, nothing consumed. The
 * fields are those fmt_csv_next would give (the count, and a line of empty fields, are
 * the caller's to check). fmt_csv_simd(level): the lines are split with 0 = no SIMD,
 * 1 = SSE2, 2 = AVX2, at most what the processor has (-1: the best); returns the level
 * chosen (tests of every way). */
#define FMT_CSV_SPARE 64
size_t fmt_csv_simple(fmt_csv *c, fmt_field *f, size_t maxf, uint64_t end, uint32_t *line);
void fmt_csv_simple_undo(fmt_csv *c);
int fmt_csv_simd(int level);
/* How many bytes of [s, s + n) are ch (SSE2 where there is). */
size_t fmt_count_byte(const char *s, size_t n, char ch);

/* Column mapping for a loader: the columns a file may have. */
typedef struct {
	const char *name;   /* matched case-insensitively against trimmed header names */
	bool required;
} fmt_column;
/* idx[i] = header index of cols[i], or -1. At the header's line: a missing required
 * column is an error ("missing required column 'budget'"), a duplicated name (any
 * case) an error, an unknown or unnamed column a warning ("unknown column 'foo'
 * ignored"). Returns JOS_OK, JOS_EINVALID (an error was added) or JOS_ENOMEM. */
int fmt_csv_map(const fmt_csv *c, const fmt_column *cols, size_t ncols, int *idx,
		jos_errlist *errs);

/* ---- INI reader ---------------------------------------------------------------
 * `name = value` lines, [section] headers, ';' or '#' comments (inline only after
 * white space), BOM and CRLF accepted. Calls back for each section header (name NULL)
 * and each option, with the 1-based line; the callback returns JOS_OK to go on or
 * adds problems to errs itself. Syntax errors go to errs. Section and option words are
 * passed as written (trimmed); callers compare case-insensitively. */
typedef int (*fmt_ini_cb)(void *ctx, const char *section, const char *name,
			  const char *value, uint32_t line, jos_errlist *errs);
int fmt_ini_parse_file(const char *path, const char *file, fmt_ini_cb cb, void *ctx,
		       jos_errlist *errs);
int fmt_ini_parse_mem(const char *buf, size_t len, const char *file, fmt_ini_cb cb, void *ctx,
		      jos_errlist *errs);

/* ---- DATA_DIR ----------------------------------------------------------------
 * Loads the six files into a model, checking every per-row rule (syntax, values,
 * unique ids, references) and then eng_dataset_validate. Every problem goes to errs;
 * a missing required file is `FILE: missing`. Returns JOS_OK, JOS_EINVALID (errs has
 * errors; *out is still filled as far as possible, or NULL) or JOS_EIO/JOS_ENOMEM. */
int fmt_dataset_load(jos_dataset **out, const char *dir, jos_errlist *errs);
/* The settlement.ini part alone (scenario overrides reuse key parsing via keys/). */
int fmt_settings_load(jos_dataset *ds, const char *path, jos_errlist *errs);
/* InputDigest over the files of dir (SPEC): lowercase hex into out[65]. */
int fmt_input_digest(char out[65], const char *dir, jos_err *err);

/* ---- statements ------------------------------------------------------------------
 * fmt_stmt is the statement's content, independent of XML: made from the engine's
 * settlement, written as XML, read back from a (verified) XML document and compared. */
typedef struct {
	char *school, *name, *type;
	int64_t pupils;
	char pupil_years[32];      /* 4 decimals, as printed */
	jos_cents school_net_cost, gross, amount;
	/* Optional (fmt_stmt_build_tagged): the Line start tag of this school as the fast
	 * signer writes it, tag_s bytes serialised then tag_c bytes canonical, at tag. NULL:
	 * written from school, name and type. Borrowed from a fmt_line_tags. */
	const char *tag;
	uint32_t tag_s, tag_c;
} fmt_stmt_line;

typedef struct {
	char *statement_id;
	jos_day issue_date, period_start, period_end;
	char *issuer_id, *issuer_name;
	char recipient_code[5];
	char *recipient_name;
	jos_key key;               /* id, method and parameters as printed */
	jos_measure measure;
	jos_day count_date;
	char input_digest[65];
	char *reference;           /* NULL when none */
	char *iban;                /* NULL when none */
	int64_t payment_days;      /* -1 when none */
	fmt_stmt_line *lines;      /* sorted by school id */
	size_t nlines;
	jos_cents gross, net;
	jos_status status;
	char *line_strings;        /* when set (fmt_stmt_build): the lines' strings live in
				      this one block, freed instead of each of them */
} fmt_stmt;

void fmt_stmt_free(fmt_stmt *st);     /* frees members */
/* The statement of settlement row r (r->statement must be true). */
int fmt_stmt_build(fmt_stmt *out, const jos_dataset *ds, const eng_settlement *s,
		   const eng_row *r, jos_err *err);
/* Every school's Line start tag escaped once for all statements (formats/sign_fast.c,
 * by the writer that writes it from the strings; a school with a text XML cannot hold
 * gets none). fmt_stmt_build_tagged is fmt_stmt_build with these tags in the lines
 * (tags NULL: none); the tags must outlive the statement. */
typedef struct fmt_line_tags fmt_line_tags;
int fmt_line_tags_make(fmt_line_tags **out, const jos_dataset *ds, jos_err *err);
bool fmt_line_tag(const fmt_line_tags *t, size_t school, const char **tag, uint32_t *tag_s,
		  uint32_t *tag_c);
void fmt_line_tags_free(fmt_line_tags *t);
int fmt_stmt_build_tagged(fmt_stmt *out, const jos_dataset *ds, const eng_settlement *s,
			  const eng_row *r, const fmt_line_tags *tags, jos_err *err);
/* Unsigned XML (namespace urn:jos-settle:statement:1), ready for fmt_sign. The caller
 * frees with xmlFreeDoc; declared as void* to keep libxml2 out of this header. */
int fmt_stmt_to_xml(void **out_doc, const fmt_stmt *st, jos_err *err);
/* The spellings of a key method ("prorata") and a status ("capped") in a statement. */
const char *fmt_stmt_method_name(key_method m);
const char *fmt_stmt_status_name(jos_status s);
/* Reads the content of a statement document (already verified). */
int fmt_stmt_from_xml(fmt_stmt *out, void *doc, jos_err *err);
/* First difference in words a finance officer understands; 0 when equal. */
int fmt_stmt_compare(const fmt_stmt *expected, const fmt_stmt *got, char *why, size_t whylen);
/* The shipped schema (formats/statement.xsd), compiled into the binary by the Makefile
 * (so verify needs no path at run time). Returns the bytes (not NUL-terminated). */
const unsigned char *fmt_stmt_xsd(size_t *len);
/* The compiled schema; compile once, validate many documents (not thread-safe: one per
 * thread). fmt_schema_validate returns JOS_EINVALID with the first problem in err->msg. */
typedef struct fmt_schema fmt_schema;
int fmt_schema_open(fmt_schema **out, jos_err *err);
void fmt_schema_free(fmt_schema *s);
int fmt_schema_validate(fmt_schema *s, void *doc, jos_err *err);
/* Statement files larger than this are refused by verify before parsing. */
#define FMT_STMT_MAX_BYTES ((size_t)10 * 1024 * 1024)

/* ---- signing and verification ------------------------------------------------- */
int fmt_crypto_init(jos_err *err);     /* once, from main, before anything else */
void fmt_crypto_shutdown(void);
/* At the start of every worker thread that uses libxml2 or xmlsec (verify). */
void fmt_crypto_thread_init(void);

/* A signer loads its key once and signs any number of documents (one at a time);
 * likewise a verifier parses the trust file and compiles the schema once. Neither is
 * shared between threads. docs/verify.md states the verification policy. */
typedef struct fmt_signer fmt_signer;
/* key_path: PEM private key (RSA >= 2048 or EC P-256); cert_path: its X.509
 * certificate, optionally followed by chain certificates (all go into X509Data);
 * pass: passphrase or NULL (never prompts). Checks key and cert match. A key file
 * that group or others may access is refused (fmt_signer_open_ex can allow it). */
int fmt_signer_open(fmt_signer **out, const char *key_path, const char *cert_path,
		    const char *pass, jos_err *err);
/* The passphrase (or PIN): the first line of file (without its line ending), or the
 * value of the environment variable env_name; never a command-line argument itself.
 * Both NULL: *out = NULL and JOS_OK. JOS_EUSAGE when both are given or the variable
 * is not set; JOS_ECRYPTO when the file cannot be read. Free with fmt_key_pass_free
 * (which wipes it). */
int fmt_key_pass(char **out, const char *file, const char *env_name, jos_err *err);
void fmt_key_pass_free(char *pass);
/* How settle's key options reach the signer. */
typedef struct {
	const char *pass;     /* passphrase of a PEM key, or a token's PIN; NULL if none (borrowed) */
	bool allow_insecure;  /* accept a key file that group or others may access */
} fmt_key_opts;
/* As fmt_signer_open; key is a PEM file or an RFC 7512 PKCS#11 URI
 * ("pkcs11:token=...;object=...[;type=private][?module-path=/path/module.so]"), whose
 * key stays in the token (signing happens there) and whose PIN is opts->pass. */
int fmt_signer_open_ex(fmt_signer **out, const char *key, const char *cert_path,
		       const fmt_key_opts *opts, jos_err *err);
void fmt_signer_free(fmt_signer *s);
/* Signs doc in place (enveloped, URI="", exc-c14n, RSA/ECDSA-SHA256, X509Data) and
 * serialises it into *out (malloc'd, *outlen bytes) exactly as signed. */
int fmt_sign(char **out, size_t *outlen, fmt_signer *s, void *doc, jos_err *err);
/* Verifies the enveloped signature of a signed statement document with the signer's own
 * key (no certificate chain): settle reads back every statement it signs, because
 * libxml2's C14N can lose output under memory pressure without an error and leave a
 * wrong digest or signature (found by tests/torture.sh). JOS_ECRYPTO when it fails. */
int fmt_sign_check(fmt_signer *s, void *doc, jos_err *err);

/* Threads the fast paths may use: JOS_THREADS when set (1: none besides the caller),
 * else the online processors; 1..FMT_MAX_THREADS. */
#define FMT_MAX_THREADS JOS_MAX_THREADS
int fmt_thread_count(void);
/* JOS_TIMES=1: prints "time: NAME  wall since the previous call" to stderr. */
void fmt_phase(const char *name);
/* Statements signed and serialised in one go, byte for byte what fmt_stmt_to_xml +
 * fmt_sign give, without building a tree when that is proven to give the same bytes
 * (formats/sign_fast.c: a test statement is signed both ways at open; JOS_SIGN_TREE=1
 * forces the tree). s is borrowed and must outlive the fmt_stmt_signer. Open from the
 * main thread; fmt_stmt_sign may then run in several threads at once when
 * fmt_stmt_signer_concurrent is true, else in one thread at a time. */
typedef struct fmt_stmt_signer fmt_stmt_signer;
int fmt_stmt_signer_open(fmt_stmt_signer **out, fmt_signer *s, jos_err *err);
bool fmt_stmt_signer_fast(const fmt_stmt_signer *ss);
bool fmt_stmt_signer_concurrent(const fmt_stmt_signer *ss);
int fmt_stmt_sign(char **out, size_t *outlen, fmt_stmt_signer *ss, const fmt_stmt *st,
		  jos_err *err);
/* The same into buffers that one thread reuses from statement to statement (fresh
 * memory for each would fault in its pages again). Zero-initialise; on success
 * b->xml[0..b->len) holds the signed statement until the next call or
 * fmt_stmt_buf_free. */
typedef struct {
	const char *xml;
	size_t len;
	void *priv;
} fmt_stmt_buf;
int fmt_stmt_sign_buf(fmt_stmt_buf *b, fmt_stmt_signer *ss, const fmt_stmt *st, jos_err *err);
void fmt_stmt_buf_free(fmt_stmt_buf *b);
void fmt_stmt_signer_free(fmt_stmt_signer *ss);

typedef struct fmt_verifier fmt_verifier;
/* trust_path: PEM file with one or more CA certificates (each a trust anchor).
 * JOS_EIO when unreadable, JOS_ECRYPTO when it holds no certificate. */
int fmt_verifier_open(fmt_verifier **out, const char *trust_path, jos_err *err);
void fmt_verifier_free(fmt_verifier *v);
/* Safe parse, shape, schema, signature, chain (at 12:00 UTC of IssueDate, or at the
 * signer certificate's notBefore when later; never the clock), arithmetic. On success fills *out_stmt (may be NULL; caller frees with
 * fmt_stmt_free) with the signed content. JOS_EVERIFY with a reason in err->msg when
 * the statement fails. The verifier remembers the last signer certificate that passed,
 * so statements of one signer are checked fast. */
int fmt_verify_buffer(fmt_stmt *out_stmt, fmt_verifier *v, const char *buf, size_t len,
		      jos_err *err);

/* ---- settlement outputs ------------------------------------------------------- */
/* summary.csv bytes (SPEC "Output spellings"); *out malloc'd. */
int fmt_summary_csv(char **out, size_t *outlen, const jos_dataset *ds, const eng_settlement *s,
		    jos_err *err);

/* ---- output folder, whole or nothing --------------------------------------------
 * Files are written into a hidden temporary folder beside OUT_DIR
 * (".NAME.jos-settle-tmp-PID") and renamed into place by fmt_outdir_commit, after
 * SHA256SUMS has been written over every other file. Until then OUT_DIR is untouched;
 * a run that fails or is killed leaves only the temporary folder, which
 * fmt_outdir_begin of the next run removes. */
typedef struct fmt_outdir fmt_outdir;
/* JOS_EUSAGE when path exists and is not an empty folder and !force (SPEC). */
int fmt_outdir_check(const char *path, bool force, jos_err *err);
int fmt_outdir_begin(fmt_outdir **out, const char *path, jos_err *err);
/* relpath like "statements/0629.xml"; sub-folders are created. Several threads may
 * write files at once (each its own relpath); SHA256SUMS lists them sorted. */
int fmt_outdir_write(fmt_outdir *o, const char *relpath, const char *data, size_t len,
		     jos_err *err);
/* Creates relpath empty now, so that fmt_outdir_write later only fills it: on Linux's
 * ext4, creating a file right after others were deleted costs ~0.1 ms (the inode table
 * is searched past the recently deleted inodes, under the folder's lock), reopening it
 * ~0.01 ms; settle prepares its statements' files while it computes. Best effort: a
 * file that cannot be made now is made by the write, which reports. A prepared file
 * that is never written is removed by fmt_outdir_commit. One thread may prepare while
 * others write (a file its writer made already is left alone); done before the commit. */
void fmt_outdir_prepare(fmt_outdir *o, const char *relpath);
int fmt_outdir_commit(fmt_outdir *o, jos_err *err);
/* Removes the temporary folder unless committed. */
void fmt_outdir_free(fmt_outdir *o);

/* Reads a whole small file (key passphrase, trust list); *out NUL-terminated, malloc'd. */
int fmt_read_file(char **out, size_t *outlen, const char *path, size_t max, jos_err *err);

/* ---- scenario reports (formats/report*.c) --------------------------------------
 * The figures of a scenario run (scenarios/scenarios.h) as a report. Every amount is
 * written from its cents exactly; in .xlsx an amount cell holds cents / 100 as the
 * spreadsheet's number, made only when the cell is written (report_xlsx.c). */
typedef struct scn_result scn_result;
typedef enum {
	FMT_REPORT_CSV = 0,
	FMT_REPORT_MD = 1,
	FMT_REPORT_HTML = 2,
	FMT_REPORT_XLSX = 3,
} fmt_report_kind;
/* The kind from the path's extension (case-insensitive), or -1. */
int fmt_report_kind_of(const char *path);
/* Text reports into *out (malloc'd, NUL-terminated, *outlen bytes). */
int fmt_report_csv(char **out, size_t *outlen, const scn_result *r, jos_err *err);
int fmt_report_md(char **out, size_t *outlen, const scn_result *r, jos_err *err);
int fmt_report_html(char **out, size_t *outlen, const scn_result *r, jos_err *err);
/* Writes the workbook to path (the caller renames it into place). */
int fmt_report_xlsx(const char *path, const scn_result *r, jos_err *err);
/* Chooses by extension (JOS_EUSAGE when none of the four) and writes path whole or
 * not at all: a temporary file beside it, flushed, renamed over it. */
int fmt_report_write(const char *path, const scn_result *r, jos_err *err);

#endif
