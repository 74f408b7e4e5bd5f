/*
 * threads.c: how many threads the fast paths may use (issue 7): JOS_THREADS when set
 * (1 = everything in the calling thread, as before the optimisation; tests compare the
 * two), else the number of online processors, at most FMT_MAX_THREADS.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int fmt_thread_count(void)
{
	const char *e = getenv("JOS_THREADS");
	long n;
	if (e && *e) {
		char *end;
		n = strtol(e, &end, 10);
		if (*end || n < 1)
			n = 1;
	} else {
		n = sysconf(_SC_NPROCESSORS_ONLN);
	}
	return n < 1 ? 1 : n > FMT_MAX_THREADS ? FMT_MAX_THREADS : (int)n;
}

/* JOS_TIMES=1: each call prints the wall time since the previous one to stderr, so a
 * benchmark run shows where the time goes (docs/performance.md). Off: one getenv. */
void fmt_phase(const char *name)
{
	static int on = -1;
	static struct timespec last;
	struct timespec now;
	if (on < 0) {
		const char *e = getenv("JOS_TIMES");
		on = e && *e && strcmp(e, "0") != 0;
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long us = (long long)(now.tv_sec - last.tv_sec) * 1000000 +
		       (now.tv_nsec - last.tv_nsec) / 1000;
	fprintf(stderr, "time: %-28s %6lld.%03lld ms\n", name, us / 1000, us % 1000);
	last = now;
}

void *fmt_alloc_huge(size_t bytes)
{
#ifdef MADV_HUGEPAGE
	if (bytes >= ((size_t)4 << 20)) {
		void *p = NULL;
		if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
			return NULL;
		madvise(p, bytes, MADV_HUGEPAGE);
		return p;
	}
#endif
	return malloc(bytes ? bytes : 1);
}
