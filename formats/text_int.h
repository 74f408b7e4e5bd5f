/*
 * text_int.h: text checks shared by the readers in formats/ (CSV and INI), and the XML
 * escapes shared by the statement writer (sign_fast.c) and the verifier (verify.c).
 */
#ifndef JOS_TEXT_INT_H
#define JOS_TEXT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Offset of the first byte of [s, e) that is not valid UTF-8, or -1. Rejects overlong
 * forms, surrogates and code points above U+10FFFF (RFC 3629), and also U+FFFE and
 * U+FFFF: valid UTF-8, but no XML 1.0 character (fmt_nonchar_at tells them apart for
 * the message). */
ptrdiff_t fmt_utf8_invalid(const unsigned char *s, const unsigned char *e);

/* True when [p, e) starts with U+FFFE or U+FFFF (EF BF BE / EF BF BF). */
static inline bool fmt_nonchar_at(const unsigned char *p, const unsigned char *e)
{
	return e - p >= 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf);
}
#define FMT_NONCHAR_MSG "character U+%s is not text (statements, which are XML, cannot " \
	"hold it): remove it"

/* A byte no input text may hold: NUL and the C0 controls other than tab, LF and CR.
 * Texts of the inputs end up in XML statements, and XML 1.0 cannot hold these at all
 * (not even as &#4;): a name with one would pass `check` and then fail `settle`. */
static inline bool fmt_ctl_bad(unsigned char b)
{
	return b < 0x20 && b != '\t' && b != '\n' && b != '\r';
}

/* The message for such a byte (the same words in every reader). */
#define FMT_CTL_MSG_NUL "NUL byte: the file must be UTF-8 text"
#define FMT_CTL_MSG "control character 0x%02X: the file must be plain text (statements, " \
	"which are XML, cannot hold it): remove it"

/* What byte c becomes in XML text (attr false) or in an attribute value (attr true), or
 * NULL when it stands as it is: exclusive C14N's escapes (canon), else those of libxml2's
 * serialiser, which the statement writer must match byte for byte (CR as &#13;, and in
 * attributes also > and TAB/LF as decimal references). */
static inline const char *fmt_xml_escape(char c, bool attr, bool canon)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return attr && canon ? NULL : "&gt;";
	case '"': return attr ? "&quot;" : NULL;
	case '\t': return !attr ? NULL : canon ? "&#x9;" : "&#9;";
	case '\n': return !attr ? NULL : canon ? "&#xA;" : "&#10;";
	case '\r': return canon ? "&#xD;" : "&#13;";
	default: return NULL;
	}
}

/* c cents as jos_cents_format writes them ("-0.05", "1234.50"), at p (room for 23
 * bytes, no NUL); returns the length. Statements print hundreds of thousands. */
static inline size_t fmt_cents_text(char *p, int64_t c)
{
	char tmp[24], *t = tmp + sizeof tmp;
	uint64_t u = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
	uint64_t ip = u / 100;
	unsigned fp = (unsigned)(u % 100);
	*--t = (char)('0' + fp % 10);
	*--t = (char)('0' + fp / 10);
	*--t = '.';
	do {
		*--t = (char)('0' + (int)(ip % 10));
		ip /= 10;
	} while (ip);
	if (c < 0)
		*--t = '-';
	size_t n = (size_t)(tmp + sizeof tmp - t);
	memcpy(p, t, n);
	return n;
}

/* num / den rounded half-up to 4 decimals, as jos_ratio_format(p, num, den, 4) writes
 * it, at p (no NUL) for 0 <= num < 2^44 and 0 < den < 2^32 (pupil-years: pupil-days over
 * the period's days); returns the length, or 0 outside that range (use jos_ratio_format). */
static inline size_t fmt_ratio4_text(char *p, int64_t num, int64_t den)
{
	if (num < 0 || den <= 0 || num >= (int64_t)1 << 44 || den >= (int64_t)1 << 32)
		return 0;
	uint64_t d = (uint64_t)den;
	uint64_t q = ((uint64_t)num * 20000 + d) / (d * 2);
	uint64_t ip = q / 10000;
	unsigned fp = (unsigned)(q % 10000);
	char tmp[24], *t = tmp + sizeof tmp;
	for (int i = 0; i < 4; i++) {
		*--t = (char)('0' + fp % 10);
		fp /= 10;
	}
	*--t = '.';
	do {
		*--t = (char)('0' + (int)(ip % 10));
		ip /= 10;
	} while (ip);
	size_t n = (size_t)(tmp + sizeof tmp - t);
	memcpy(p, t, n);
	return n;
}

#endif
