/*
 * dsbuild.h: build a jos_dataset in code for tests (no files). Add municipalities in
 * code order and schools in id order (the model's sort order; asserted), then
 * enrolments, keys and agreements. Every call aborts the test on misuse, so tests read
 * as data. Lines are set as if from files (header = line 1).
 */
#ifndef JOS_TEST_DSBUILD_H
#define JOS_TEST_DSBUILD_H

#include "engine/engine.h"

/* Period as "YYYY-MM-DD"; measure days; no keys yet. */
jos_dataset *dsb_new(const char *period_start, const char *period_end);
jos_day dsb_day(const char *ymd);
void dsb_headcount(jos_dataset *ds, const char *count_date);
int dsb_muni(jos_dataset *ds, const char *code4, bool in_region);
int dsb_school(jos_dataset *ds, const char *id, const char *muni_code, const char *type,
	       jos_cents budget, jos_cents cofinancing);
/* end NULL: open; category NULL or "": none. pupil: dense number (npupils follows). */
void dsb_enrol(jos_dataset *ds, uint32_t pupil, const char *school_id, const char *residence,
	       const char *start, const char *end, const char *category);
/* The same with days and indices (fast, for generated data). */
void dsb_enrol_raw(jos_dataset *ds, uint32_t pupil, uint32_t school, uint16_t residence,
		   jos_day start, jos_day end, uint16_t category);
/* Interns a category (lower-cased, trimmed like the loader) and returns its index. */
uint16_t dsb_category(jos_dataset *ds, const char *category);
/* A key with a method; the first key becomes the default key. Returns its index. */
int dsb_key(jos_dataset *ds, const char *id, const char *method);
void dsb_param(jos_dataset *ds, const char *key_id, const char *name, const char *value);
/* Agreements in municipality order. reference NULL: none. */
void dsb_agree(jos_dataset *ds, const char *code4, const char *key_id, const char *reference);
/* Index of the (school id, municipality code) cell in m, or -1 when there is none. */
long dsb_cell(const jos_dataset *ds, const eng_measures *m, const char *school, const char *code4);

#endif
