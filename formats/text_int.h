/*
 * text_int.h: text checks shared by the readers in formats/ (CSV and INI).
 */
#ifndef JOS_TEXT_INT_H
#define JOS_TEXT_INT_H

#include <stddef.h>

/* Offset of the first byte of [s, e) that is not valid UTF-8, or -1. Rejects overlong
 * forms, surrogates and code points above U+10FFFF (RFC 3629). */
ptrdiff_t fmt_utf8_invalid(const unsigned char *s, const unsigned char *e);

#endif
