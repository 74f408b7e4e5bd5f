/*
 * jos.h: the shared core of jos-settle, used by every folder.
 *
 * Money is jos_cents (int64 cents). Fractions from the inputs have at most six
 * decimals and are kept exactly as jos_micro (millionths): 0.125 is 125000.
 * Dates are jos_day, days since 1970-01-01 in the proleptic Gregorian calendar.
 *
 * Errors: a function that can fail returns int (JOS_OK or a negative JOS_E*) and
 * fills a jos_err; validation collects many problems into a jos_errlist instead.
 * Ownership: every *_new has a *_free that accepts NULL; pointers handed out by a
 * getter are borrowed and live as long as the object they came from.
 */
#ifndef JOS_H
#define JOS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/compat.h"

typedef int64_t jos_cents;
typedef int64_t jos_micro;   /* exact decimal fraction, in millionths */
typedef int32_t jos_day;     /* days since 1970-01-01 */

#define JOS_MICRO_ONE ((jos_micro)1000000)
#define JOS_DAY_OPEN INT32_MAX   /* open end date */

/* Return codes. Exit status mapping lives in the front end (engine/main.c). */
enum {
	JOS_OK = 0,
	JOS_EINVALID = -1,  /* the data is invalid (exit 1) */
	JOS_EVERIFY = -2,   /* a statement failed verification (exit 1) */
	JOS_EUSAGE = -3,    /* bad command line (exit 2) */
	JOS_EIO = -4,       /* file system (exit 2) */
	JOS_ECRYPTO = -5,   /* keys, certificates, signing environment (exit 2) */
	JOS_ENOMEM = -6,    /* allocation failed (exit 2) */
	JOS_EOVERFLOW = -7, /* exact arithmetic would leave its range (exit 2 in settle) */
	JOS_EINTERNAL = -8, /* a broken invariant: a bug, never a wrong statement (exit 2) */
};

/* One error, with where it was found. line 0: no line (whole file or no file). */
typedef struct {
	char file[256];
	uint32_t line;
	char msg[768];
} jos_err;

void jos_err_clear(jos_err *err);
/* Fills err and returns code, so callers can `return jos_err_set(...)`. */
int jos_err_set(jos_err *err, int code, const char *file, uint32_t line, const char *fmt, ...)
	JOS_PRINTF(5, 6);

/* A list of problems found by validation; keeps going after the first. */
typedef enum { JOS_SEV_ERROR = 0, JOS_SEV_WARNING = 1 } jos_severity;

typedef struct {
	jos_severity sev;
	char *file;      /* owned; "" when none */
	uint32_t line;   /* 0 when none */
	char *msg;       /* owned */
	size_t seq;      /* insertion order, for a stable sort */
} jos_problem;

#define JOS_ERRLIST_KEEP 1000  /* problems stored; the rest are only counted */

typedef struct {
	jos_problem *items;
	size_t n, cap;
	size_t nerrors, nwarnings;   /* all counted, also those not stored */
	size_t dropped;              /* counted but not stored */
	bool oom;
} jos_errlist;

void jos_errlist_init(jos_errlist *l);
void jos_errlist_free(jos_errlist *l);
void jos_errlist_add(jos_errlist *l, jos_severity sev, const char *file, uint32_t line,
		     const char *fmt, ...) JOS_PRINTF(5, 6);
void jos_errlist_vadd(jos_errlist *l, jos_severity sev, const char *file, uint32_t line,
		      const char *fmt, va_list ap);
void jos_errlist_add_err(jos_errlist *l, const jos_err *err);
/* Sort by input-file order (settlement.ini, municipalities.csv, schools.csv, costs.csv,
 * enrolments.csv, agreements.csv, then others by name), then line, then insertion. */
void jos_errlist_sort(jos_errlist *l);

/* Arena: many small allocations freed at once (rows, names, interned strings). */
typedef struct jos_arena jos_arena;
jos_arena *jos_arena_new(void);
void jos_arena_free(jos_arena *a);
void *jos_arena_alloc(jos_arena *a, size_t size);            /* 8-byte aligned; NULL on OOM */
char *jos_arena_strndup(jos_arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *jos_arena_strdup(jos_arena *a, const char *s);

/* ASCII helpers: no locale anywhere in jos-settle. */
static inline char jos_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
static inline bool jos_isdigit(char c) { return c >= '0' && c <= '9'; }
static inline bool jos_isblank(char c) { return c == ' ' || c == '\t'; }
int jos_strcasecmp(const char *a, const char *b);
int jos_strncasecmp(const char *a, const char *b, size_t n);
/* Trim spaces and tabs (only those) from both ends of [*s, *s+*n). */
void jos_trim(const char **s, size_t *n);

/* Calendar. */
bool jos_date_valid(int y, int m, int d);
jos_day jos_day_from_ymd(int y, int m, int d);
void jos_day_to_ymd(jos_day day, int *y, int *m, int *d);
/* Writes "YYYY-MM-DD" plus NUL into buf (at least 11 bytes). */
void jos_day_format(char *buf, jos_day day);

/* Formatting of exact values (no locale, no floating point). */
#define JOS_FMT_BUF 48
/* "-1234.56": dot, two decimals, no thousands separators. Returns buf. */
char *jos_cents_format(char *buf, jos_cents c);
/* num/den with `places` decimals, rounded half-up (away from zero for negatives). den > 0. */
char *jos_ratio_format(char *buf, jos_i128 num, jos_i128 den, int places);
/* A jos_micro as a minimal decimal: 1500000 -> "1.5", 0 -> "0". */
char *jos_micro_format(char *buf, jos_micro m);

/* Exact division helpers, den > 0, num >= 0. */
jos_i128 jos_div_half_up(jos_i128 num, jos_i128 den);

/* Largest remainder (SPEC): split `total` >= 0 over n quotas total*w[i]/sum(w), w[i] >= 0,
 * sum(w) > 0. Each gets the whole part of q_i; the remaining units go one each to the largest
 * fractional parts; equal fractional parts go to the smaller index (callers order items
 * by municipality code or school_id, so index order is the SPEC's tie-break).
 * out[i] receives the shares; they sum to total exactly. Returns JOS_OK,
 * JOS_EOVERFLOW (total*w[i] does not fit in 128 bits) or JOS_ENOMEM. */
int jos_largest_remainder(int64_t *out, int64_t total, const jos_i128 *w, size_t n);

/* Dynamic array growth: ensures room for `need` items of `size` in *p (capacity *cap). */
int jos_grow(void **p, size_t *cap, size_t need, size_t size);
/* Sorts v ascending (a stable radix sort); JOS_OK or JOS_ENOMEM (v unchanged). */
int jos_sort_u64(uint64_t *v, size_t n);
/* Sorts v stably by bits [from, to) of each value alone; JOS_OK or JOS_ENOMEM. */
int jos_sort_u64_bits(uint64_t *v, size_t n, unsigned from, unsigned to);
/* Runs fn on each of the n jobs (an array of `size`-byte elements, n <= JOS_MAX_THREADS):
 * jobs 1..n-1 on threads, job 0 in the caller; a job whose thread cannot start runs in
 * the caller. Returns when all are done. */
#define JOS_MAX_THREADS 8
void jos_run_parallel(void *jobs, size_t size, int n, void *(*fn)(void *));

/* A hint for a big array that is about to be filled: back its 2 MiB-aligned middle with
 * huge pages where the system allows it (MADV_HUGEPAGE). Under virtualisation a 4 KiB
 * page fault costs ~15 us, so 40 MB touched once costs more than the work done on it.
 * Nothing depends on it; small or NULL p is ignored. */
void jos_advise_huge(void *p, size_t bytes);
/* malloc for a big array filled soon after (jos_advise_huge on it); free() it. */
void *jos_big_alloc(size_t bytes);

#endif
