/*
 * threads.c: how many threads the fast paths may use (issue 7): JOS_THREADS when set
 * (1 = everything in the calling thread, as before the optimisation; tests compare the
 * two), else the number of online processors, at most FMT_MAX_THREADS.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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

/* Processor time of the whole process (every thread, user and system), microseconds. */
static long long cpu_us(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* JOS_TIMES=1: each call prints the wall time since the previous one to stderr, so a
 * benchmark run shows where the time goes (docs/performance.md), and the processor time
 * of all threads in that span (steadier than wall time on a shared machine; above the
 * wall time when several threads work). Off: one getenv. */
void fmt_phase(const char *name)
{
	static int on = -1;
	static struct timespec last;
	static long long last_cpu;
	struct timespec now;
	if (on < 0) {
		const char *e = getenv("JOS_TIMES");
		on = e && *e && strcmp(e, "0") != 0;
		clock_gettime(CLOCK_MONOTONIC, &last);
		last_cpu = cpu_us();
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long us = (long long)(now.tv_sec - last.tv_sec) * 1000000 +
		       (now.tv_nsec - last.tv_nsec) / 1000;
	long long cpu = cpu_us(), c = cpu - last_cpu;
	fprintf(stderr, "time: %-28s %6lld.%03lld ms  (cpu %6lld.%03lld ms)\n", name, us / 1000,
		us % 1000, c / 1000, c % 1000);
	last = now;
	last_cpu = cpu;
}
