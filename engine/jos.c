/*
 * jos.c: the shared core: errors, problem lists, arena, ASCII helpers, the calendar,
 * exact formatting and the largest-remainder split every key method uses.
 */
#include "engine/jos.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void jos_err_clear(jos_err *err)
{
	if (!err)
		return;
	err->file[0] = '\0';
	err->line = 0;
	err->msg[0] = '\0';
}

int jos_err_set(jos_err *err, int code, const char *file, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- problem lists ---------------------------------------------------- */

void jos_errlist_init(jos_errlist *l)
{
	memset(l, 0, sizeof *l);
}

void jos_errlist_free(jos_errlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].file);
		free(l->items[i].msg);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void jos_errlist_vadd(jos_errlist *l, jos_severity sev, const char *file, uint32_t line,
		      const char *fmt, va_list ap)
{
	char buf[1024];
	jos_problem *p;

	if (sev == JOS_SEV_ERROR)
		l->nerrors++;
	else
		l->nwarnings++;
	if (l->n >= JOS_ERRLIST_KEEP ||
	    jos_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items) != JOS_OK) {
		l->dropped++;
		return;
	}
	vsnprintf(buf, sizeof buf, fmt, ap);
	p = &l->items[l->n];
	p->sev = sev;
	p->file = dup_str(file ? file : "");
	p->line = line;
	p->msg = dup_str(buf);
	p->seq = l->n;
	if (!p->file || !p->msg) {
		free(p->file);
		free(p->msg);
		l->oom = true;
		l->dropped++;
		return;
	}
	l->n++;
}

void jos_errlist_add(jos_errlist *l, jos_severity sev, const char *file, uint32_t line,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jos_errlist_vadd(l, sev, file, line, fmt, ap);
	va_end(ap);
}

void jos_errlist_add_err(jos_errlist *l, const jos_err *err)
{
	jos_errlist_add(l, JOS_SEV_ERROR, err->file, err->line, "%s", err->msg);
}

static int file_rank(const char *path)
{
	static const char *const order[] = { "settlement.ini", "municipalities.csv", "schools.csv",
					     "costs.csv", "enrolments.csv", "agreements.csv" };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (int i = 0; i < 6; i++)
		if (strcmp(base, order[i]) == 0)
			return i;
	return 6;
}

static int problem_cmp(const void *pa, const void *pb)
{
	const jos_problem *a = pa, *b = pb;
	int ra = file_rank(a->file), rb = file_rank(b->file), c;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 6 && (c = strcmp(a->file, b->file)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void jos_errlist_sort(jos_errlist *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof *l->items, problem_cmp);
}

/* ---- arena -------------------------------------------------------------- */

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(8) unsigned char data[];
};

struct jos_arena {
	struct arena_chunk *head;
};

jos_arena *jos_arena_new(void)
{
	return calloc(1, sizeof(jos_arena));
}

void jos_arena_free(jos_arena *a)
{
	if (!a)
		return;
	for (struct arena_chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *jos_arena_alloc(jos_arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size = (size + 7) & ~(size_t)7;
	if (!c || c->size - c->used < size) {
		size_t sz = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
		struct arena_chunk *n = malloc(sizeof *n + sz);
		if (!n)
			return NULL;
		n->used = 0;
		n->size = sz;
		if (sz == size && c) { /* a big block: keep the current chunk for small ones */
			n->next = c->next;
			c->next = n;
			n->used = size;
			return n->data;
		}
		n->next = c;
		a->head = c = n;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

char *jos_arena_strndup(jos_arena *a, const char *s, size_t n)
{
	char *p = jos_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *jos_arena_strdup(jos_arena *a, const char *s)
{
	return jos_arena_strndup(a, s, strlen(s));
}

/* ---- ASCII -------------------------------------------------------------- */

int jos_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)jos_lower(*a), cb = (unsigned char)jos_lower(*b);
		if (ca != cb || !ca)
			return ca - cb;
	}
}

int jos_strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		unsigned char ca = (unsigned char)jos_lower(*a), cb = (unsigned char)jos_lower(*b);
		if (ca != cb || !ca)
			return ca - cb;
	}
	return 0;
}

void jos_trim(const char **s, size_t *n)
{
	while (*n && jos_isblank((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && jos_isblank((*s)[*n - 1]))
		(*n)--;
}

/* ---- calendar (Howard Hinnant's civil-day algorithms) ------------------- */

bool jos_date_valid(int y, int m, int d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

jos_day jos_day_from_ymd(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void jos_day_to_ymd(jos_day day, int *y, int *m, int *d)
{
	int z = day + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

void jos_day_format(char *buf, jos_day day)
{
	int y, m, d;
	jos_day_to_ymd(day, &y, &m, &d);
	snprintf(buf, 11, "%04d-%02d-%02d", y, m, d);
}

/* ---- exact formatting ----------------------------------------------------- */

static char *u128_digits(char *end, jos_u128 v)
{
	*--end = '\0';
	while (v > UINT64_MAX) {   /* 128-bit division only for the high digits */
		*--end = (char)('0' + (int)(v % 10));
		v /= 10;
	}
	uint64_t w = (uint64_t)v;
	do {
		*--end = (char)('0' + (int)(w % 10));
		w /= 10;
	} while (w);
	return end;
}

char *jos_ratio_format(char *buf, jos_i128 num, jos_i128 den, int places)
{
	char tmp[64];
	bool neg = num < 0;
	jos_u128 un = neg ? (jos_u128)0 - (jos_u128)num : (jos_u128)num;
	jos_u128 scale = 1;
	for (int i = 0; i < places; i++)
		scale *= 10;
	/* round half-up of |num|*scale/den; callers keep |num|*scale within 128 bits.
	 * Amounts and pupil-years fit in 64 bits: the same sums without 128-bit division
	 * (statements format hundreds of thousands of numbers). */
	jos_u128 q;
	const jos_u128 lim = (jos_u128)1 << 62;
	if ((jos_u128)den < lim && un < lim / scale) {
		uint64_t d = (uint64_t)den;
		q = ((uint64_t)un * (uint64_t)scale * 2 + d) / (d * 2);
	} else {
		q = (un * scale * 2 + (jos_u128)den) / ((jos_u128)den * 2);
	}
	jos_u128 ip, fp;
	if (q <= UINT64_MAX && scale <= UINT64_MAX) {
		ip = (uint64_t)q / (uint64_t)scale;
		fp = (uint64_t)q % (uint64_t)scale;
	} else {
		ip = q / scale;
		fp = q % scale;
	}
	char *p = buf;
	if (neg && q != 0)
		*p++ = '-';
	char *s = u128_digits(tmp + sizeof tmp, ip);
	size_t n = (size_t)(tmp + sizeof tmp - 1 - s);
	memcpy(p, s, n);
	p += n;
	if (places > 0) {
		*p++ = '.';
		for (int i = places - 1; i >= 0; i--) {
			if (fp <= UINT64_MAX) {
				uint64_t f = (uint64_t)fp;
				for (; i >= 0; i--) {
					p[i] = (char)('0' + (int)(f % 10));
					f /= 10;
				}
				break;
			}
			p[i] = (char)('0' + (int)(fp % 10));
			fp /= 10;
		}
		p += places;
	}
	*p = '\0';
	return buf;
}

char *jos_cents_format(char *buf, jos_cents c)
{
	return jos_ratio_format(buf, c, 100, 2);
}

char *jos_micro_format(char *buf, jos_micro m)
{
	jos_ratio_format(buf, m, JOS_MICRO_ONE, 6);
	char *dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	return buf;
}

jos_i128 jos_div_half_up(jos_i128 num, jos_i128 den)
{
	jos_i128 q = num / den, r = num % den;
	if (r * 2 >= den)
		q++;
	return q;
}

/* ---- largest remainder ---------------------------------------------------- */

typedef struct {
	jos_i128 rem;
	size_t idx;
} lr_item;

static int lr_cmp(const void *pa, const void *pb)
{
	const lr_item *a = pa, *b = pb;
	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static inline bool lr_before(const lr_item *a, const lr_item *b)
{
	return a->rem > b->rem || (a->rem == b->rem && a->idx < b->idx);
}

static inline void lr_swap(lr_item *a, lr_item *b)
{
	lr_item t = *a;
	*a = *b;
	*b = t;
}

/* Moves the k items that come first in lr order (largest remainder, then smaller index:
 * a total order, indices are unique) to v[0..k), in any order among themselves.
 * Quickselect with a median-of-three pivot, O(n) expected: a scenario sweep splits
 * every municipality's amount over its schools once per value, and a full sort of
 * every slice was most of its time. Falls back to sorting the range if it degenerates.
 * The chosen set is the same as with a full sort, so the shares are unchanged. */
static void lr_select(lr_item *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;
	int rounds = 0;
	while (hi - lo > 1) {
		if (++rounds > 128) {
			qsort(v + lo, hi - lo, sizeof *v, lr_cmp);
			return;
		}
		size_t mid = lo + (hi - lo) / 2, last = hi - 1;
		if (lr_before(&v[mid], &v[lo]))
			lr_swap(&v[mid], &v[lo]);
		if (lr_before(&v[last], &v[lo]))
			lr_swap(&v[last], &v[lo]);
		if (lr_before(&v[mid], &v[last]))
			lr_swap(&v[mid], &v[last]);
		lr_item p = v[last]; /* the median of the three */
		size_t store = lo;
		for (size_t t = lo; t < last; t++)
			if (lr_before(&v[t], &p))
				lr_swap(&v[t], &v[store++]);
		lr_swap(&v[store], &v[last]);
		/* v[store] now has its final rank */
		if (k == store || k == store + 1)
			return;
		if (k < store)
			hi = store;
		else
			lo = store + 1;
	}
}

int jos_largest_remainder(int64_t *out, int64_t total, const jos_i128 *w, size_t n)
{
	jos_i128 sum = 0, given = 0;
	lr_item stack_items[64], *items = stack_items;
	int rc = JOS_OK;

	for (size_t i = 0; i < n; i++)
		if (jos_add128(&sum, sum, w[i]))
			return JOS_EOVERFLOW;
	if (n == 0)
		return total == 0 ? JOS_OK : JOS_EINTERNAL;
	if (sum <= 0)
		return JOS_EINTERNAL;
	if (n > 64 && !(items = malloc(n * sizeof *items)))
		return JOS_ENOMEM;
	/* total * w[i] and sum in 64 bits when they fit (non-negative: the same quotient and
	 * remainder as in 128 bits), which spares the 128-bit division's library call */
	bool small = total >= 0 && sum <= (jos_i128)UINT64_MAX;
	uint64_t sum64 = (uint64_t)sum;
	for (size_t i = 0; i < n; i++) {
		jos_i128 prod;
		uint64_t p64;
		if (small && w[i] >= 0 && w[i] <= (jos_i128)UINT64_MAX &&
		    !__builtin_mul_overflow((uint64_t)total, (uint64_t)w[i], &p64)) {
			out[i] = (int64_t)(p64 / sum64);
			items[i].rem = (jos_i128)(p64 % sum64);
		} else {
			if (jos_mul128(&prod, (jos_i128)total, w[i])) {
				rc = JOS_EOVERFLOW;
				goto done;
			}
			out[i] = (int64_t)(prod / sum);
			items[i].rem = prod % sum;
		}
		items[i].idx = i;
		given += out[i];
	}
	jos_i128 left = (jos_i128)total - given;
	if (left < 0 || left > (jos_i128)n) {
		rc = JOS_EINTERNAL;
		goto done;
	}
	if (left > 0) {
		if ((size_t)left < n)
			lr_select(items, n, (size_t)left);
		for (size_t k = 0; k < (size_t)left; k++)
			out[items[k].idx]++;
	}
done:
	if (items != stack_items)
		free(items);
	return rc;
}

/* ---- arrays ----------------------------------------------------------------- */

int jos_grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return JOS_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return JOS_ENOMEM;
		ncap *= 2;
	}
	void *np = realloc(*p, ncap * size);
	if (!np)
		return JOS_ENOMEM;
	*p = np;
	*cap = ncap;
	return JOS_OK;
}

/* LSD radix sort by 11-bit digits of bits [from, to) of each value: a few passes over
 * memory in order instead of n log n compares (the enrolments of pupils with several of
 * them, 10^5 and more at national scale). Stable: equal keys keep their order. */
int jos_sort_u64_bits(uint64_t *v, size_t n, unsigned from, unsigned to)
{
	enum { BITS = 11, B = 1 << BITS };
	uint64_t *tmp, *src = v, *dst;
	if (to > 64)
		to = 64;
	if (n < 2 || from >= to)
		return JOS_OK;
	uint64_t kmask = to - from == 64 ? UINT64_MAX : ((uint64_t)1 << (to - from)) - 1;
	if (n < 64) {   /* insertion sort by the key */
		for (size_t i = 1; i < n; i++) {
			uint64_t x = v[i], kx = (x >> from) & kmask;
			size_t j = i;
			for (; j > 0 && ((v[j - 1] >> from) & kmask) > kx; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return JOS_OK;
	}
	if (!(tmp = malloc(n * sizeof *tmp)))
		return JOS_ENOMEM;
	dst = tmp;
	for (unsigned shift = from; shift < to; shift += BITS) {
		/* the last digit stops at bit `to` */
		const uint64_t dmask = to - shift < BITS ? ((uint64_t)1 << (to - shift)) - 1 : B - 1;
		size_t count[B] = { 0 }, sum = 0;
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & dmask]++;
		for (size_t d = 0; d < B; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & dmask]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
	return JOS_OK;
}

/* Only over the digits the largest value uses. */
int jos_sort_u64(uint64_t *v, size_t n)
{
	uint64_t max = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++)
		max |= v[i];
	while (bits < 64 && max >> bits)
		bits++;
	return jos_sort_u64_bits(v, n, 0, bits);
}

void jos_advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t b = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (p && b > a)
		madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)bytes;
#endif
}

void *jos_big_alloc(size_t bytes)
{
	void *p = NULL;
	if (bytes < ((size_t)2 << 20))
		return malloc(bytes ? bytes : 1);
	/* aligned, so that every 2 MiB of it can be one huge page */
	if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
		return NULL;
	jos_advise_huge(p, bytes);
	return p;
}

void jos_run_parallel(void *jobs, size_t size, int n, void *(*fn)(void *))
{
	pthread_t tid[JOS_MAX_THREADS];
	int started = 0;   /* jobs 1..started run on threads */
	if (n > JOS_MAX_THREADS)
		n = JOS_MAX_THREADS;
	for (int t = 1; t < n; t++, started++)
		if (pthread_create(&tid[t], NULL, fn, (char *)jobs + (size_t)t * size) != 0)
			break;
	if (n > 0)
		fn(jobs);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	for (int t = started + 1; t < n; t++)   /* could not start a thread: here */
		fn((char *)jobs + (size_t)t * size);
}
