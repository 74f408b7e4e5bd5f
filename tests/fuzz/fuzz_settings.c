/*
 * fuzz_settings.c: libFuzzer harness for the settlement.ini loader (formats/settings.c,
 * over formats/ini.c and the key setter of keys/keys.c).
 *
 * fmt_settings_load reads a path, so each input is written to settlement.ini in a
 * private temporary folder (made once). Then eng_dataset_validate runs on the
 * settings-only dataset, as fmt_dataset_load does whatever settings.ini held. Checked:
 * the result is JOS_OK or JOS_EINVALID exactly as errors were added; every problem
 * names settlement.ini at a line inside the input (or 0); accepted settings have every
 * required option, keys with a method, unique ids and parameters in range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void cleanup(void)
{
	unlink(path);
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		rmdir(path);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* tmpfs when there is one: on ext4, rewriting a truncated file flushes it at
	 * close (auto_da_alloc), which made this harness wait on the disk. */
	const char *tmp = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	snprintf(path, sizeof path, "%s/fuzz_settings.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(path)) {
		perror("fuzz_settings: mkdtemp");
		exit(2);
	}
	strncat(path, "/settlement.ini", sizeof path - strlen(path) - 1);
	atexit(cleanup);
	return 0;
}

static void check_key(const jos_key *k)
{
	if (!k->id || !k->has_method || (unsigned)k->method > KEY_TARIFF || k->min_pupils < 0 ||
	    k->discount < 0 || k->discount > JOS_MICRO_ONE || k->phase_in < 0 ||
	    k->phase_in > JOS_MICRO_ONE || k->min_school_share < 0 ||
	    k->min_school_share > JOS_MICRO_ONE || (k->has_cap && k->cap < 0))
		abort();
	for (size_t i = 0; i < k->nweights; i++)
		if (!k->weights[i].category[0] || k->weights[i].weight < 0)
			abort();
	for (size_t i = 0; i < k->ntariffs; i++)
		if (!k->tariffs[i].type[0] || k->tariffs[i].cents < 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	uint32_t nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';

	jos_dataset *ds = eng_dataset_new();
	jos_errlist errs;
	if (!ds)
		abort();
	jos_errlist_init(&errs);
	int rc = fmt_settings_load(ds, path, &errs);
	if (rc != JOS_OK && rc != JOS_EINVALID)
		abort();
	if ((rc == JOS_EINVALID) != (errs.nerrors > 0))
		abort();
	for (size_t i = 0; i < errs.n; i++) {
		const jos_problem *p = &errs.items[i];
		if (p->line > nlines || strcmp(p->file, "settlement.ini") != 0) {
			fprintf(stderr, "problem outside the input (%u lines): %s:%u: %s\n",
				(unsigned)nlines, p->file, (unsigned)p->line, p->msg);
			abort();
		}
	}
	if (rc == JOS_OK) {
		const jos_settings *s = &ds->set;
		if (!s->name || !s->issuer || !s->issuer_id || !s->default_key)
			abort();
		if (s->measure != JOS_MEASURE_DAYS && s->measure != JOS_MEASURE_HEADCOUNT)
			abort();
		if (s->payment_days < -1)
			abort();
		for (size_t i = 0; i < ds->nkeys; i++) {
			check_key(&ds->keys[i]);
			for (size_t j = 0; j < i; j++)
				if (strcmp(ds->keys[i].id, ds->keys[j].id) == 0)
					abort();
		}
	}
	/* The loader validates the model whatever settlement.ini held. */
	eng_dataset_validate(ds, &errs);
	jos_errlist_free(&errs);
	eng_dataset_free(ds);
	return 0;
}
