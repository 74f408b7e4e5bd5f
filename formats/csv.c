/*
 * csv.c: the streaming CSV reader of the SPEC's dialect ("CSV dialect", "Acceptance").
 *
 * UTF-8 with an optional BOM, LF or CRLF, RFC 4180 quoting; the separator (',' or ';')
 * is detected from the header line. The file is read with read() into one buffer
 * (1 MiB, grown only to hold a longer record); fields point into that buffer and are
 * unquoted in place, so reading a row allocates nothing.
 *
 * Each record is cut by a fast path: one table-driven loop finds separators, the end
 * of line, NUL bytes and the other controls XML cannot hold (formats/text_int.h),
 * non-ASCII bytes (then checked as UTF-8) and quotes. A record
 * with a quote takes the slow path: a scan that finds where the record ends (quoted
 * newlines included), then a pass that unquotes in place. The scan never writes, so
 * a record cut off by the end of the buffer is simply scanned again after a refill.
 *
 * A quote opens a quoted field only at the start of a field (after blanks); a bare
 * '"' inside an unquoted field is kept as written (csv-spectrum's location_coordinates).
 *
 * fmt_csv_simple is a loader's faster way for the plain lines of a big file (printable
 * ASCII, no blanks or quotes): split with SIMD masks, no field trimming, nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "formats/text_int.h"

/* The fuzz build (make fuzz) sets a buffer of a few bytes, so that every record
 * crosses refills. */
#ifndef CSV_BUF_INITIAL
#define CSV_BUF_INITIAL ((size_t)1 << 20)
#endif

/* Zero bytes kept readable after buf[len]: fmt_csv_simple reads 64 at a time. */
#define CSV_PAD 64

/* Byte classes of the fast path; 0 = ordinary byte. */
enum { CL_PLAIN = 0, CL_SEP, CL_NL, CL_QUOTE, CL_NUL, CL_HIGH };

/* What reading one record gave. */
enum { REC_EOF = 0, REC_OK = 1, REC_BAD = 2, REC_AGAIN = 3 };

struct fmt_csv {
	int fd;                 /* -1 for a memory buffer */
	char *file;             /* name printed in problems */
	char *buf;              /* cap + 1 + CSV_PAD bytes; buf[len] is a NUL sentinel,
				 * and so are the CSV_PAD bytes after it */
	size_t cap, len, pos;   /* [pos, len) is not consumed yet */
	uint64_t base;          /* file offset of buf[0] */
	bool eof;
	uint32_t line;          /* physical line at pos */
	char sep;
	unsigned char cls[256];
	fmt_field *f;           /* fields of the current record */
	size_t fcap;
	fmt_record hdr;         /* fields point into names */
	char *names;
	size_t simple_prev;     /* where the line fmt_csv_simple took last started */
};

static void problem(jos_errlist *errs, const fmt_csv *c, uint32_t line, const char *fmt, ...)
	JOS_PRINTF(4, 5);

static void problem(jos_errlist *errs, const fmt_csv *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	if (!errs)
		return;
	va_start(ap, fmt);
	jos_errlist_vadd(errs, JOS_SEV_ERROR, c->file, line, fmt, ap);
	va_end(ap);
}

static void warning(jos_errlist *errs, const fmt_csv *c, uint32_t line, const char *fmt, ...)
	JOS_PRINTF(4, 5);

static void warning(jos_errlist *errs, const fmt_csv *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	if (!errs)
		return;
	va_start(ap, fmt);
	jos_errlist_vadd(errs, JOS_SEV_WARNING, c->file, line, fmt, ap);
	va_end(ap);
}

/* A NUL or a control character XML cannot hold, at line. */
static void ctl_problem(jos_errlist *errs, const fmt_csv *c, uint32_t line, unsigned char b)
{
	if (b)
		problem(errs, c, line, FMT_CTL_MSG, (unsigned)b);
	else
		problem(errs, c, line, FMT_CTL_MSG_NUL);
}

/*
 * Reads more bytes: moves the unconsumed tail to the front, grows the buffer when it
 * is full (a record longer than the buffer), and reads once. Sets eof on end of file.
 */
static int refill(fmt_csv *c, jos_errlist *errs)
{
	if (c->eof)
		return JOS_OK;
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->base += c->pos;
		c->pos = 0;
	}
	if (c->len == c->cap) {
		if (c->cap > SIZE_MAX / 4) {
			problem(errs, c, c->line, "record too large");
			return JOS_ENOMEM;
		}
		char *nb = realloc(c->buf, c->cap * 2 + 1 + CSV_PAD);
		if (!nb) {
			problem(errs, c, c->line, "out of memory reading a record of %zu bytes", c->len);
			return JOS_ENOMEM;
		}
		c->buf = nb;
		c->cap *= 2;
	}
	ssize_t n;
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		problem(errs, c, 0, "cannot read: %s", strerror(errno));
		return JOS_EIO;
	}
	if (n == 0)
		c->eof = true;
	c->len += (size_t)n;
	memset(c->buf + c->len, 0, 1 + CSV_PAD);
	return JOS_OK;
}

static void set_separator(fmt_csv *c, char sep)
{
	c->sep = sep;
	memset(c->cls, CL_PLAIN, 128);
	memset(c->cls + 128, CL_HIGH, 128);
	c->cls[(unsigned char)sep] = CL_SEP;
	c->cls['\n'] = CL_NL;
	c->cls['"'] = CL_QUOTE;
	for (int b = 0; b < 0x20; b++)
		if (fmt_ctl_bad((unsigned char)b))
			c->cls[b] = CL_NUL;   /* NUL and the controls XML cannot hold */
}

/* Appends the trimmed field [s, e) to the record; grows c->f only for a record with
 * more fields than any before (so not per row). */
static inline int push_field(fmt_csv *c, size_t *nf, const char *s, const char *e)
{
	if (*nf == c->fcap &&
	    jos_grow((void **)&c->f, &c->fcap, *nf + 1, sizeof *c->f) != JOS_OK)
		return JOS_ENOMEM;
	while (s < e && jos_isblank(*s))
		s++;
	while (e > s && jos_isblank(e[-1]))
		e--;
	c->f[*nf].s = s;
	c->f[*nf].n = (size_t)(e - s);
	(*nf)++;
	return JOS_OK;
}

ptrdiff_t fmt_utf8_invalid(const unsigned char *s, const unsigned char *e)
{
	const unsigned char *p = s;
	while (p < e) {
		unsigned char b = *p;
		if (b < 0x80) {
			p++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 2;
			if (b == 0xe0)
				lo = 0xa0;
			else if (b == 0xed)
				hi = 0x9f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 3;
			if (b == 0xf0)
				lo = 0x90;
			else if (b == 0xf4)
				hi = 0x8f;
		} else {
			return p - s;
		}
		if ((size_t)(e - p) <= need || p[1] < lo || p[1] > hi)
			return p - s;
		for (size_t k = 2; k <= need; k++)
			if ((p[k] & 0xc0) != 0x80)
				return p - s;
		if (fmt_nonchar_at(p, e))
			return p - s;
		p += need + 1;
	}
	return -1;
}

static uint32_t count_nl(const char *s, const char *e)
{
	return (uint32_t)fmt_count_byte(s, (size_t)(e - s), '\n');
}

/* Checks [s, e) for UTF-8; reports the first bad byte at its physical line. */
static bool utf8_ok(fmt_csv *c, const char *s, const char *e, jos_errlist *errs)
{
	ptrdiff_t bad = fmt_utf8_invalid((const unsigned char *)s, (const unsigned char *)e);
	if (bad < 0)
		return true;
	uint32_t line = c->line + count_nl(s, s + bad);
	if (fmt_nonchar_at((const unsigned char *)s + bad, (const unsigned char *)e))
		problem(errs, c, line, FMT_NONCHAR_MSG, s[bad + 2] == '\xbe' ? "FFFE" : "FFFF");
	else
		problem(errs, c, line, "invalid UTF-8 (byte 0x%02X): save the file as UTF-8",
			(unsigned)(unsigned char)s[bad]);
	return false;
}

/* Skips the rest of the physical line at pos (after a bad record): REC_BAD, or a
 * negative error of refill. */
static int skip_line(fmt_csv *c, jos_errlist *errs)
{
	for (;;) {
		char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
		if (nl) {
			c->pos = (size_t)(nl - c->buf) + 1;
			break;
		}
		c->pos = c->len;
		if (c->eof)
			break;
		int rc = refill(c, errs);
		if (rc != JOS_OK)
			return rc;
	}
	c->line++;
	return REC_BAD;
}

/*
 * Slow-path scan: where does the record starting at pos end? Sets *end to its '\n'
 * (or to len at end of file). Never writes. Returns REC_OK, REC_AGAIN (need more
 * bytes) or REC_BAD (unterminated quote, or a NUL or control byte: reported, *end set
 * past it).
 */
static int scan_quoted(fmt_csv *c, char **end, const char **nul, bool *high)
{
	char *p = c->buf + c->pos, *e = c->buf + c->len;
	bool start = true, inq = false;
	*nul = NULL;
	*high = false;
	for (; p < e; p++) {
		char ch = *p;
		if (fmt_ctl_bad((unsigned char)ch) && !*nul)
			*nul = p;
		if ((unsigned char)ch >= 0x80)
			*high = true;
		if (inq) {
			if (ch == '"') {
				if (p + 1 == e && !c->eof)
					return REC_AGAIN;   /* "" or end of quote: cannot tell yet */
				if (p + 1 < e && p[1] == '"')
					p++;
				else
					inq = false;
			}
			continue;
		}
		if (ch == '\n') {
			*end = p;
			return REC_OK;
		}
		if (ch == c->sep) {
			start = true;
		} else if (ch == '"' && start) {
			inq = true;
			start = false;
		} else if (!jos_isblank(ch)) {
			start = false;
		}
	}
	if (!c->eof)
		return REC_AGAIN;
	*end = e;
	return inq ? REC_BAD : REC_OK;
}

/*
 * Slow-path split of the complete record [s, e) (e excludes the line end and a CR
 * before it): unquotes in place. false (reported) on text after a closing quote.
 * Line ends inside quotes are counted as they are read: once a field is unquoted in
 * place, [s, r) holds some bytes twice and count_nl over it would count too many.
 */
static int split_quoted(fmt_csv *c, size_t *nf, char *s, char *e, jos_errlist *errs)
{
	char *p = s;
	uint32_t nl = 0;   /* line ends read so far */
	for (;;) {
		char *q = p;
		while (q < e && jos_isblank(*q))
			q++;
		char *fs, *fe;
		if (q < e && *q == '"') {
			char *w = q, *r = q + 1;
			for (;;) {
				/* scan_quoted saw the closing quote, so r < e here */
				if (*r == '"') {
					if (r + 1 < e && r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				nl += *r == '\n';
				*w++ = *r++;
			}
			fs = q;
			fe = w;
			while (r < e && jos_isblank(*r))
				r++;
			if (r < e && *r != c->sep) {
				problem(errs, c, c->line + nl,
					"unexpected text after a closing quote: inside a quoted field, "
					"write a quote as \"\"");
				return REC_BAD;
			}
			p = r;
		} else {
			char *r = q;
			while (r < e && *r != c->sep)
				r++;
			fs = q;
			fe = r;
			p = r;
		}
		if (push_field(c, nf, fs, fe) != JOS_OK)
			return JOS_ENOMEM;
		if (p >= e)
			return REC_OK;
		p++;   /* the separator */
		if (p == e) {
			if (push_field(c, nf, p, p) != JOS_OK)
				return JOS_ENOMEM;
			return REC_OK;
		}
	}
}

/*
 * Reads the next record at pos into c->f. REC_OK (rec filled; *nl = line ends
 * inside it), REC_EOF, REC_BAD (reported and skipped), REC_AGAIN never escapes;
 * negative on I/O or memory errors.
 */
static int read_record(fmt_csv *c, size_t *out_nf, uint32_t *nl_inside, jos_errlist *errs)
{
	for (;;) {
		if (c->pos == c->len) {
			if (c->eof)
				return REC_EOF;
			int rc = refill(c, errs);
			if (rc != JOS_OK)
				return rc;
			continue;
		}
		char *rs = c->buf + c->pos, *p = rs, *fs = rs;
		const unsigned char *cls = c->cls;
		size_t nf = 0;
		bool high = false;
		for (;;) {
			while (cls[(unsigned char)*p] == CL_PLAIN)
				p++;
			switch (cls[(unsigned char)*p]) {
			case CL_SEP:
				if (push_field(c, &nf, fs, p) != JOS_OK)
					return JOS_ENOMEM;
				fs = ++p;
				continue;
			case CL_HIGH:
				high = true;
				p++;
				continue;
			case CL_QUOTE:
				goto slow;
			case CL_NL:
				break;
			default:   /* NUL (the sentinel or a real one) or a control byte */
				if (p == c->buf + c->len) {
					if (!c->eof) {
						int rc = refill(c, errs);
						if (rc != JOS_OK)
							return rc;
						goto again;
					}
					break;
				}
				ctl_problem(errs, c, c->line, (unsigned char)*p);
				return skip_line(c, errs);
			}
			break;
		}
		/* Fast path: the record is [rs, p), p at '\n' or the end. */
		{
			char *fe = p;
			if (fe > fs && fe[-1] == '\r')
				fe--;
			if (push_field(c, &nf, fs, fe) != JOS_OK)
				return JOS_ENOMEM;
			if (high && !utf8_ok(c, rs, p, errs)) {
				return skip_line(c, errs);
			}
			c->pos = (size_t)(p - c->buf) + (p < c->buf + c->len);
			*out_nf = nf;
			*nl_inside = 0;
			return REC_OK;
		}
	slow: {
			char *end;
			const char *nul;
			int rc = scan_quoted(c, &end, &nul, &high);
			if (rc == REC_AGAIN) {
				rc = refill(c, errs);
				if (rc != JOS_OK)
					return rc;
				goto again;
			}
			rs = c->buf + c->pos;
			if (rc == REC_BAD) {
				problem(errs, c, c->line,
					"unterminated quote: a quoted field that starts on this line "
					"has no closing '\"'");
				return skip_line(c, errs);
			}
			uint32_t nl = count_nl(rs, end);
			size_t after = (size_t)(end - c->buf) + (end < c->buf + c->len);
			if (nul) {
				ctl_problem(errs, c, c->line + count_nl(rs, nul),
					    (unsigned char)*nul);
			} else if (!high || utf8_ok(c, rs, end, errs)) {
				char *e = end;
				if (e > rs && e[-1] == '\r')
					e--;
				nf = 0;
				rc = split_quoted(c, &nf, rs, e, errs);
				if (rc < 0)
					return rc;
				if (rc == REC_OK) {
					c->pos = after;
					*out_nf = nf;
					*nl_inside = nl;
					return REC_OK;
				}
			}
			c->pos = after;
			c->line += nl + 1;
			return REC_BAD;
		}
	again:;
	}
}

static bool all_empty(const fmt_field *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		if (f[i].n)
			return false;
	return true;
}

/* The header: skips blank lines, detects the separator, keeps copies of the names. */
static int read_header(fmt_csv *c, jos_errlist *errs)
{
	int rc;
	/* at least 3 bytes for the BOM, unless the file is shorter */
	while (c->len < 3 && !c->eof)
		if ((rc = refill(c, errs)) != JOS_OK)
			return rc;
	if (c->len == 0) {
		problem(errs, c, 1, "empty file: a header row is required");
		return JOS_EINVALID;
	}
	if (c->len >= 3 && memcmp(c->buf, "\xef\xbb\xbf", 3) == 0)
		c->pos = 3;

	for (;;) {
		/* Count ',' and ';' outside quotes on the header record. Both are taken as
		 * field boundaries for deciding where a quoted field starts. */
		char *p = c->buf + c->pos, *e = c->buf + c->len;
		size_t ncomma = 0, nsemi = 0;
		bool start = true, inq = false, blank = true, complete = false;
		for (; p < e; p++) {
			char ch = *p;
			if (inq) {
				if (ch == '"') {
					if (p + 1 == e && !c->eof)
						break;
					if (p + 1 < e && p[1] == '"')
						p++;
					else
						inq = false;
				}
				continue;
			}
			if (ch == '\n') {
				complete = true;
				break;
			}
			if (ch == ',' || ch == ';') {
				ncomma += ch == ',';
				nsemi += ch == ';';
				start = true;
				blank = false;
			} else if (ch == '"' && start) {
				inq = true;
				start = false;
				blank = false;
			} else if (!jos_isblank(ch) && ch != '\r') {
				start = false;
				blank = false;
			}
		}
		if (!complete && !c->eof) {
			if ((rc = refill(c, errs)) != JOS_OK)
				return rc;
			continue;
		}
		if (blank && !inq) {
			if (!complete) {
				problem(errs, c, c->line, "no header row: the file has only blank lines");
				return JOS_EINVALID;
			}
			if ((rc = skip_line(c, errs)) < 0)
				return rc;
			continue;
		}
		if (ncomma && ncomma == nsemi) {
			problem(errs, c, c->line,
				"cannot tell the separator: the header has as many ',' as ';' "
				"(%zu) outside quotes", ncomma);
			return JOS_EINVALID;
		}
		set_separator(c, nsemi > ncomma ? ';' : ',');
		break;
	}

	size_t nf;
	uint32_t nl;
	uint32_t line = c->line;
	rc = read_record(c, &nf, &nl, errs);
	if (rc < 0)
		return rc;
	if (rc != REC_OK)
		return JOS_EINVALID;   /* reported */
	size_t total = 0;
	for (size_t i = 0; i < nf; i++)
		total += c->f[i].n + 1;
	c->names = malloc(total ? total : 1);
	c->hdr.f = malloc(nf * sizeof *c->hdr.f);
	if (!c->names || !c->hdr.f)
		return JOS_ENOMEM;
	char *w = c->names;
	for (size_t i = 0; i < nf; i++) {
		memcpy(w, c->f[i].s, c->f[i].n);
		w[c->f[i].n] = '\0';
		c->hdr.f[i].s = w;
		c->hdr.f[i].n = c->f[i].n;
		w += c->f[i].n + 1;
	}
	c->hdr.nf = nf;
	c->hdr.line = line;
	c->line += nl + 1;
	return JOS_OK;
}

static int simd_level = -1;   /* fmt_csv_simple's way: see fmt_csv_simd */

static int open_common(fmt_csv **out, fmt_csv *c, const char *file, jos_errlist *errs)
{
	int rc = JOS_OK;
	c->file = malloc(strlen(file) + 1);
	if (!c->file) {
		rc = JOS_ENOMEM;
		goto done;
	}
	strcpy(c->file, file);
	c->line = 1;
	set_separator(c, ',');
	if (simd_level < 0)   /* here, before any reader runs on a thread */
		fmt_csv_simd(-1);
	rc = read_header(c, errs);
done:
	if (rc != JOS_OK) {
		if (rc == JOS_ENOMEM)
			problem(errs, c, 0, "out of memory");
		fmt_csv_free(c);
		return rc;
	}
	*out = c;
	return JOS_OK;
}

int fmt_csv_open(fmt_csv **out, const char *path, const char *file, jos_errlist *errs)
{
	*out = NULL;
	fmt_csv *c = calloc(1, sizeof *c);
	if (!c)
		return JOS_ENOMEM;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		int e = errno;
		if (errs)
			jos_errlist_add(errs, JOS_SEV_ERROR, file, 0, "cannot open: %s", strerror(e));
		free(c);
		return JOS_EIO;
	}
	c->cap = CSV_BUF_INITIAL;
	c->buf = malloc(c->cap + 1 + CSV_PAD);
	if (!c->buf) {
		close(c->fd);
		free(c);
		return JOS_ENOMEM;
	}
	memset(c->buf, 0, 1 + CSV_PAD);
	return open_common(out, c, file, errs);
}

int fmt_csv_open_mem(fmt_csv **out, const char *buf, size_t len, const char *file,
		     jos_errlist *errs)
{
	*out = NULL;
	fmt_csv *c = calloc(1, sizeof *c);
	if (!c)
		return JOS_ENOMEM;
	c->fd = -1;
	/* A private copy: fields are unquoted in place. */
	c->buf = malloc(len + 1 + CSV_PAD);
	if (!c->buf) {
		free(c);
		return JOS_ENOMEM;
	}
	if (len)
		memcpy(c->buf, buf, len);
	memset(c->buf + len, 0, 1 + CSV_PAD);
	c->cap = c->len = len;
	c->eof = true;
	return open_common(out, c, file, errs);
}

uint64_t fmt_csv_offset(const fmt_csv *c)
{
	return c->base + c->pos;
}

uint32_t fmt_csv_line(const fmt_csv *c)
{
	return c->line;
}

int fmt_csv_seek(fmt_csv *c, uint64_t offset, uint32_t line)
{
	if (c->fd < 0) {   /* the whole file is in buf */
		if (offset > c->len)
			return JOS_EIO;
		c->pos = (size_t)offset;
		c->line = line;
		return JOS_OK;
	}
	if (offset > (uint64_t)INT64_MAX || lseek(c->fd, (off_t)offset, SEEK_SET) < 0)
		return JOS_EIO;
	c->base = offset;
	c->pos = c->len = 0;
	memset(c->buf, 0, 1 + CSV_PAD);
	c->eof = false;
	c->line = line;
	return JOS_OK;
}

void fmt_csv_free(fmt_csv *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->file);
	free(c->buf);
	free(c->f);
	free(c->hdr.f);
	free(c->names);
	free(c);
}

char fmt_csv_separator(const fmt_csv *c)
{
	return c->sep;
}

const fmt_record *fmt_csv_header(const fmt_csv *c)
{
	return &c->hdr;
}

int fmt_csv_column(const fmt_csv *c, const char *name)
{
	const char *s = name;
	size_t n = strlen(name);
	jos_trim(&s, &n);
	for (size_t i = 0; i < c->hdr.nf; i++)
		if (c->hdr.f[i].n == n && jos_strncasecmp(c->hdr.f[i].s, s, n) == 0)
			return (int)i;
	return -1;
}

int fmt_csv_next(fmt_csv *c, fmt_record *rec, jos_errlist *errs)
{
	for (;;) {
		size_t nf;
		uint32_t nl, line = c->line;
		int rc = read_record(c, &nf, &nl, errs);
		if (rc < 0)
			return rc;
		if (rc == REC_EOF)
			return 0;
		if (rc == REC_BAD)
			continue;
		c->line += nl + 1;
		if (all_empty(c->f, nf))
			continue;   /* empty line, or only separators */
		if (nf != c->hdr.nf) {
			problem(errs, c, line, "expected %zu fields, found %zu", c->hdr.nf, nf);
			continue;
		}
		rec->f = c->f;
		rec->nf = nf;
		rec->line = line;
		return 1;
	}
}

/* ---- simple lines (a loader's fast path) ----------------------------------------------
 * Most lines of a big export are plain: printable ASCII without blanks or quotes. Such a
 * line is split with 64-byte masks (AVX2 or SSE2 when the processor has it): bit i of `sep` is a
 * separator at p[i], bit i of `stop` a byte that is not plain ('"', a blank, a control
 * byte, '\n', CR or a byte >= 0x80; the NUL sentinel at len is one too). Anything else
 * is left to fmt_csv_next. */

static inline void masks_scalar(const char *p, char sep, uint64_t *sepm, uint64_t *stop)
{
	uint64_t a = 0, b = 0;
	for (int i = 0; i < 64; i++) {
		unsigned char ch = (unsigned char)p[i];
		a |= (uint64_t)(p[i] == sep) << i;
		b |= (uint64_t)(ch <= 0x20 || ch >= 0x80 || ch == '"') << i;
	}
	*sepm = a;
	*stop = b;
}

#ifdef __SSE2__
#include <emmintrin.h>

static inline void masks_sse2(const char *p, char sep, uint64_t *sepm, uint64_t *stop)
{
	const __m128i vs = _mm_set1_epi8(sep), vq = _mm_set1_epi8('"'), v20 = _mm_set1_epi8(0x20);
	uint64_t a = 0, b = 0;
#define MASK16(k)                                                                              \
	do {                                                                                   \
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * (k)));    \
		/* signed: 0x21..0x7f are above 0x20, bytes >= 0x80 are negative */           \
		__m128i plain = _mm_andnot_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpgt_epi8(v, v20)); \
		a |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vs)) << (16 * (k)); \
		b |= (uint64_t)(unsigned)_mm_movemask_epi8(plain) << (16 * (k));               \
	} while (0)
	MASK16(0);
	MASK16(1);
	MASK16(2);
	MASK16(3);
#undef MASK16
	*sepm = a;
	*stop = ~b;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

__attribute__((target("avx2"))) static void masks_avx2(const char *p, char sep, uint64_t *sepm,
						       uint64_t *stop)
{
	const __m256i vs = _mm256_set1_epi8(sep), vq = _mm256_set1_epi8('"'),
		      v20 = _mm256_set1_epi8(0x20);
	__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	__m256i p0 = _mm256_andnot_si256(_mm256_cmpeq_epi8(v0, vq), _mm256_cmpgt_epi8(v0, v20));
	__m256i p1 = _mm256_andnot_si256(_mm256_cmpeq_epi8(v1, vq), _mm256_cmpgt_epi8(v1, v20));
	*sepm = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, vs)) |
		(uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, vs)) << 32;
	*stop = ~((uint64_t)(uint32_t)_mm256_movemask_epi8(p0) |
		  (uint64_t)(uint32_t)_mm256_movemask_epi8(p1) << 32);
}
#endif
#endif

/* How many bytes of [s, s + n) are ch: 16 bytes at a time with SSE2 (per-lane counts in
 * bytes, summed every 255 blocks), the rest one by one. */
size_t fmt_count_byte(const char *s, size_t n, char ch)
{
	size_t k = 0, i = 0;
#ifdef __SSE2__
	const __m128i want = _mm_set1_epi8(ch), zero = _mm_setzero_si128();
	while (n - i >= 16) {
		__m128i acc = zero;
		for (int r = 0; r < 255 && n - i >= 16; r++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, want));   /* a match is -1 */
		}
		__m128i sum = _mm_sad_epu8(acc, zero);
		k += (size_t)_mm_cvtsi128_si64(sum) +
		     (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
	}
#endif
	for (; i < n; i++)
		k += s[i] == ch;
	return k;
}

/* simd_level: 0 scalar, 1 SSE2, 2 AVX2; -1 not chosen yet (then the best there is) */

static int simd_best(void)
{
#ifdef HAVE_AVX2_PATH
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return 2;
#endif
#ifdef __SSE2__
	return 1;
#else
	return 0;
#endif
}

int fmt_csv_simd(int level)
{
	int best = simd_best();
	simd_level = level < 0 || level > best ? best : level;
	return simd_level;
}

static inline void masks(const char *p, char sep, uint64_t *sepm, uint64_t *stop)
{
	switch (simd_level) {
#ifdef HAVE_AVX2_PATH
	case 2:
		masks_avx2(p, sep, sepm, stop);
		return;
#endif
#ifdef __SSE2__
	case 1:
		masks_sse2(p, sep, sepm, stop);
		return;
#endif
	default:
		masks_scalar(p, sep, sepm, stop);
	}
}

size_t fmt_csv_simple(fmt_csv *c, fmt_field *f, size_t maxf, uint64_t end, uint32_t *line)
{
	const char *p = c->buf + c->pos, *fs = p;
	size_t nf = 0;
	if (c->base + c->pos >= end)
		return 0;
	for (;;) {
		uint64_t sepm, stop;
		masks(p, c->sep, &sepm, &stop);
		if (stop)
			sepm &= (stop & -stop) - 1;   /* the separators before the first stop */
		for (; sepm; sepm &= sepm - 1) {   /* f has room for 64 more than maxf */
			const char *q = p + __builtin_ctzll(sepm);
			f[nf].s = fs;
			f[nf].n = (size_t)(q - fs);
			nf++;
			fs = q + 1;
		}
		if (nf >= maxf)
			return 0;
		if (stop) {
			const char *e = p + __builtin_ctzll(stop), *nl = *e == '\r' ? e + 1 : e;
			/* the sentinel at len is no '\n', so nl < len */
			if (*nl != '\n')
				return 0;
			f[nf].s = fs;
			f[nf].n = (size_t)(e - fs);
			c->simple_prev = c->pos;
			c->pos = (size_t)(nl + 1 - c->buf);
			*line = c->line++;
			return nf + 1;
		}
		p += 64;   /* no stop, so p + 64 <= len: buf[len + 63] is readable */
	}
}

void fmt_csv_simple_undo(fmt_csv *c)
{
	c->pos = c->simple_prev;
	c->line--;
}

static int name_cmp(const void *a, const void *b)
{
	const fmt_field *x = *(const fmt_field *const *)a, *y = *(const fmt_field *const *)b;
	size_t n = x->n < y->n ? x->n : y->n;
	int r = jos_strncasecmp(x->s, y->s, n);
	if (r)
		return r;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x < y ? -1 : x > y;
}

int fmt_csv_map(const fmt_csv *c, const fmt_column *cols, size_t ncols, int *idx,
		jos_errlist *errs)
{
	const fmt_record *h = &c->hdr;
	bool bad = false;
	for (size_t i = 0; i < ncols; i++)
		idx[i] = -1;

	/* Duplicated names, any case, known or not: sort pointers and compare neighbours. */
	const fmt_field **sorted = malloc((h->nf ? h->nf : 1) * sizeof *sorted);
	if (!sorted) {
		problem(errs, c, h->line, "out of memory");
		return JOS_ENOMEM;
	}
	for (size_t j = 0; j < h->nf; j++)
		sorted[j] = &h->f[j];
	qsort(sorted, h->nf, sizeof *sorted, name_cmp);
	for (size_t j = 1; j < h->nf; j++) {
		if (sorted[j]->n && sorted[j]->n == sorted[j - 1]->n &&
		    jos_strncasecmp(sorted[j]->s, sorted[j - 1]->s, sorted[j]->n) == 0 &&
		    (j + 1 == h->nf || sorted[j + 1]->n != sorted[j]->n ||
		     jos_strncasecmp(sorted[j + 1]->s, sorted[j]->s, sorted[j]->n) != 0)) {
			problem(errs, c, h->line, "duplicate column '%s'", sorted[j]->s);
			bad = true;
		}
	}
	free(sorted);

	for (size_t j = 0; j < h->nf; j++) {
		const fmt_field *f = &h->f[j];
		size_t i;
		for (i = 0; i < ncols; i++)
			if (strlen(cols[i].name) == f->n && jos_strncasecmp(cols[i].name, f->s, f->n) == 0)
				break;
		if (i < ncols) {
			if (idx[i] < 0)
				idx[i] = (int)j;
		} else if (f->n == 0) {
			warning(errs, c, h->line, "column %zu has no name and is ignored", j + 1);
		} else {
			warning(errs, c, h->line, "unknown column '%s' ignored", f->s);
		}
	}
	for (size_t i = 0; i < ncols; i++) {
		if (cols[i].required && idx[i] < 0) {
			problem(errs, c, h->line, "missing required column '%s'", cols[i].name);
			bad = true;
		}
	}
	return bad ? JOS_EINVALID : JOS_OK;
}
