/*
 * ini.c: the INI reader behind settlement.ini and scenario files (SPEC "settlement.ini",
 * "Acceptance"): `name = value` lines under `[section]` headers, `;` and `#` comments
 * (a whole line, or inline only after white space: `a = b;c` keeps `b;c`, `a = b ;c`
 * gives `b`), an optional BOM, LF or CRLF, empty values (`cap =`).
 *
 * Written here rather than taken from libinih: Debian's libinih passes no line number
 * to its handler (every problem must be reported as FILE:LINE) and only knows ';' as
 * an inline comment, so it cannot meet the SPEC.
 *
 * The whole input is copied once and cut into NUL-terminated pieces in place; the
 * strings passed to the callback live until it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "formats/text_int.h"

/* Cuts an inline comment: the first ';' or '#' preceded by a space or tab. */
static void cut_comment(char *s, char **end)
{
	for (char *p = s + 1; p < *end; p++) {
		if ((*p == ';' || *p == '#') && jos_isblank(p[-1])) {
			*end = p;
			return;
		}
	}
}

/* Trims [*s, *e) of spaces and tabs and NUL-terminates it (in place). */
static char *trim_term(char *s, char *e)
{
	while (s < e && jos_isblank(*s))
		s++;
	while (e > s && jos_isblank(e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* Parses the writable text buf[0..len) (buf[len] is a spare byte). */
static int parse(char *buf, size_t len, const char *file, fmt_ini_cb cb, void *ctx,
		 jos_errlist *errs)
{
	int rc = JOS_OK;
	char *p = buf, *end = buf + len;
	const char *section = NULL;
	bool bad_section = false;   /* options under a malformed header: already reported */
	uint32_t line = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		const char *ctl = p;
		while (ctl < le && !fmt_ctl_bad((unsigned char)*ctl))
			ctl++;
		if (ctl < le) {
			if (*ctl)
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line, FMT_CTL_MSG,
						(unsigned)(unsigned char)*ctl);
			else
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line, FMT_CTL_MSG_NUL);
			rc = JOS_EINVALID;
			p = next;
			continue;
		}
		ptrdiff_t bad = fmt_utf8_invalid((const unsigned char *)p, (const unsigned char *)le);
		if (bad >= 0 && fmt_nonchar_at((const unsigned char *)p + bad,
					       (const unsigned char *)le)) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, line, FMT_NONCHAR_MSG,
					p[bad + 2] == '\xbe' ? "FFFE" : "FFFF");
			rc = JOS_EINVALID;
			p = next;
			continue;
		}
		if (bad >= 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
					"invalid UTF-8 (byte 0x%02X): save the file as UTF-8",
					(unsigned)(unsigned char)p[bad]);
			rc = JOS_EINVALID;
			p = next;
			continue;
		}
		char *s = p;
		p = next;
		while (s < le && jos_isblank(*s))
			s++;
		if (s == le || *s == ';' || *s == '#')
			continue;   /* blank line or comment */

		if (*s == '[') {
			char *close = memchr(s, ']', (size_t)(le - s));
			char *rest = close ? close + 1 : le;
			while (rest < le && jos_isblank(*rest))
				rest++;
			bad_section = true;
			section = NULL;
			if (!close) {
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
						"a section header needs a closing ']': write [name]");
				rc = JOS_EINVALID;
				continue;
			}
			if (rest < le && *rest != ';' && *rest != '#') {
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
						"unexpected text after the section header ']'");
				rc = JOS_EINVALID;
				continue;
			}
			char *name = trim_term(s + 1, close);
			if (!*name) {
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
						"empty section name: write [name]");
				rc = JOS_EINVALID;
				continue;
			}
			section = name;
			bad_section = false;
			int r = cb(ctx, section, NULL, NULL, line, errs);
			if (r == JOS_EINVALID)
				rc = JOS_EINVALID;
			else if (r != JOS_OK)
				return r;
			continue;
		}

		char *eq = memchr(s, '=', (size_t)(le - s));
		if (!eq) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
					"expected 'name = value', a [section] or a comment");
			rc = JOS_EINVALID;
			continue;
		}
		char *ve = le;
		cut_comment(eq, &ve);
		char *name = trim_term(s, eq);
		char *value = trim_term(eq + 1, ve);
		if (!*name) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
					"a setting needs a name before '=': write name = value");
			rc = JOS_EINVALID;
			continue;
		}
		if (!section) {
			if (!bad_section) {
				jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
						"'%s' is outside any section: put it under a [section] "
						"header", name);
				rc = JOS_EINVALID;
			}
			continue;
		}
		int r = cb(ctx, section, name, value, line, errs);
		if (r == JOS_EINVALID)
			rc = JOS_EINVALID;
		else if (r != JOS_OK)
			return r;
	}
	return rc;
}

int fmt_ini_parse_mem(const char *buf, size_t len, const char *file, fmt_ini_cb cb, void *ctx,
		      jos_errlist *errs)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		jos_errlist_add(errs, JOS_SEV_ERROR, file, 0, "out of memory");
		return JOS_ENOMEM;
	}
	if (len)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	int rc = parse(copy, len, file, cb, ctx, errs);
	free(copy);
	return rc;
}

int fmt_ini_parse_file(const char *path, const char *file, fmt_ini_cb cb, void *ctx,
		       jos_errlist *errs)
{
	int rc = JOS_OK;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		jos_errlist_add(errs, JOS_SEV_ERROR, file, 0, "cannot open: %s", strerror(errno));
		return JOS_EIO;
	}
	for (;;) {
		if (len + 1 >= cap && jos_grow((void **)&buf, &cap, len + 65536, 1) != JOS_OK) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, 0, "out of memory");
			rc = JOS_ENOMEM;
			goto done;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, file, 0, "cannot read: %s",
					strerror(errno));
			rc = JOS_EIO;
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	rc = parse(buf, len, file, cb, ctx, errs);
done:
	close(fd);
	free(buf);
	return rc;
}
