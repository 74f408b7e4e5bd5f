/*
 * dataset.c: the dataset model's life cycle and look-ups. formats/ fills the model;
 * the engine only reads it. Arrays are malloc'd and owned by the dataset, strings live
 * in ds->arena, keys are released with key_free.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

jos_dataset *eng_dataset_new(void)
{
	jos_dataset *ds = calloc(1, sizeof *ds);
	if (!ds)
		return NULL;
	if (!(ds->arena = jos_arena_new())) {
		free(ds);
		return NULL;
	}
	ds->set.default_key_idx = -1;
	ds->set.payment_days = -1;
	ds->set.measure = JOS_MEASURE_DAYS;
	return ds;
}

void eng_dataset_free(jos_dataset *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nkeys; i++)
		key_free(&ds->keys[i]);
	free(ds->keys);
	free(ds->munis);
	free(ds->schools);
	free(ds->enrol);
	free(ds->agreements);
	free(ds->categories);
	free(ds->muni_agreement);
	jos_arena_free(ds->arena);
	free(ds);
}

int eng_muni_find(const jos_dataset *ds, const char *code4)
{
	size_t lo = 0, hi = ds->nmunis;
	if (!code4)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ds->munis[mid].code, code4);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int eng_school_find(const jos_dataset *ds, const char *id)
{
	size_t lo = 0, hi = ds->nschools;
	if (!id)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ds->schools[mid].id, id);   /* byte order: "S10" < "S9" */
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int eng_key_find(const jos_dataset *ds, const char *id)
{
	if (!id)
		return -1;
	for (size_t i = 0; i < ds->nkeys; i++)
		if (ds->keys[i].id && strcmp(ds->keys[i].id, id) == 0) /* key ids: case-sensitive */
			return (int)i;
	return -1;
}

int64_t eng_period_days(const jos_dataset *ds)
{
	return (int64_t)ds->set.period_end - (int64_t)ds->set.period_start + 1;
}
