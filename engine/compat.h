/*
 * compat.h: the one place where compiler extensions are allowed.
 *
 * jos-settle computes money exactly with 64-bit cents and 128-bit intermediates.
 * Every product or sum that could leave its type goes through these wrappers, which
 * report overflow (return true) and leave *out untouched, like SQLite's
 * sqlite3AddInt64. Nothing is ever allowed to wrap.
 */
#ifndef JOS_COMPAT_H
#define JOS_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
__extension__ typedef __int128 jos_i128;
__extension__ typedef unsigned __int128 jos_u128;
#define JOS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define JOS_UNUSED __attribute__((unused))
/* A hint that *p will be read soon (hash-table probes of millions of rows). */
#define JOS_PREFETCH(p) __builtin_prefetch(p)
#else
#error "jos-settle needs a compiler with 128-bit integers (gcc or clang)"
#endif

#define JOS_I128_MAX ((jos_i128)(((jos_u128)1 << 127) - 1))

/* true on overflow; *out is then unchanged. */
static inline bool jos_add64(int64_t *out, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return true;
	*out = r;
	return false;
}

static inline bool jos_mul64(int64_t *out, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return true;
	*out = r;
	return false;
}

static inline bool jos_add128(jos_i128 *out, jos_i128 a, jos_i128 b)
{
	jos_i128 r;
	if (__builtin_add_overflow(a, b, &r))
		return true;
	*out = r;
	return false;
}

static inline bool jos_mul128(jos_i128 *out, jos_i128 a, jos_i128 b)
{
	jos_i128 r;
	if (__builtin_mul_overflow(a, b, &r))
		return true;
	*out = r;
	return false;
}

#endif
