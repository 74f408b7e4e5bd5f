/*
 * threads.c: how many threads the fast paths may use (issue 7): JOS_THREADS when set
 * (1 = everything in the calling thread, as before the optimisation; tests compare the
 * two), else the number of online processors, at most FMT_MAX_THREADS.
 */
#include "formats/formats.h"

#include <stdlib.h>
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
