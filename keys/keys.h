/*
 * keys.h: contribution keys: the method (prorata, pooled, tariff) and the parameters
 * that modify it (SPEC "settlement.ini" and "Arithmetic").
 *
 * A jos_key owns all its strings and arrays (malloc'd); key_free releases them.
 * The same setter parses `[key NAME]` lines of settlement.ini and the overrides of
 * scenario variants, so both accept exactly the same spellings.
 */
#ifndef JOS_KEYS_H
#define JOS_KEYS_H

#include "engine/jos.h"

typedef enum { KEY_PRORATA = 0, KEY_POOLED = 1, KEY_TARIFF = 2 } key_method;

typedef struct {
	char *category;   /* lower-cased, trimmed; never empty */
	jos_micro weight; /* >= 0 */
	uint32_t line;
} key_weight;

typedef struct {
	char *type;       /* lower-cased, trimmed school type ("so/vso") */
	jos_cents cents;  /* euros per pupil-year, in cents, >= 0 */
	uint32_t line;
} key_tariff;

typedef struct jos_key {
	char *id;                 /* case-sensitive key id ("standard") */
	uint32_t line;            /* line of its [key ...] header; 0 when built in code */
	bool has_method;
	key_method method;
	int64_t min_pupils;       /* >= 0; default 0 */
	jos_micro discount;       /* 0..1e6; default 0 */
	jos_micro phase_in;       /* 0..1e6; default 1e6 */
	jos_micro min_school_share; /* 0..1e6; default 0 */
	bool has_cap;
	jos_cents cap;            /* >= 0 when has_cap */
	key_weight *weights;
	size_t nweights;
	key_tariff *tariffs;
	size_t ntariffs;
} jos_key;

/* Initialise with the SPEC defaults (no method yet). id is copied; NULL allowed. */
int key_init(jos_key *k, const char *id);
void key_free(jos_key *k);                 /* frees the members, not k itself */
int key_copy(jos_key *out, const jos_key *src);

/* Set one parameter from its text, as written in an INI file: name is matched
 * case-insensitively (method, min_pupils, discount, phase_in, cap, min_school_share,
 * weight.<category>, tariff.<type>); value is already trimmed. An empty `cap` means none.
 * On error returns JOS_EINVALID with err->msg saying why (err->file/line left for the
 * caller to fill: pass the INI's file and line through `file`/`line`). */
int key_param_set(jos_key *k, const char *name, const char *value, const char *file,
		  uint32_t line, jos_err *err);

/* The same, but a weight.<category> or tariff.<type> that the key already has is replaced
 * instead of being an error (scenario variants override a key of settlement.ini). */
int key_param_override(jos_key *k, const char *name, const char *value, const char *file,
		       uint32_t line, jos_err *err);

const char *key_method_name(key_method m);     /* "prorata" | "pooled" | "tariff" */
/* Weight of a category (any case, untrimmed ok); an empty or unlisted one weighs 1. */
jos_micro key_weight_for(const jos_key *k, const char *category);
/* Tariff of a school type; false when the key lists none for it. */
bool key_tariff_for(const jos_key *k, const char *type, jos_cents *out);

/* ---- the methods (keys/methods.c) -------------------------------------------------
 * Each computes the gross shares g(s,m) of one key per cell of the measures (SPEC
 * "Arithmetic": per key, gross shares), from the weighted measure M(s,m) per cell in
 * millionths (key_weighted_measure). Cells are in (school, municipality) order, so
 * index order is the SPEC's tie-break. Errors: JOS_EOVERFLOW (exact arithmetic would
 * leave 128 bits or a share would leave 64 bits), JOS_EINVALID (a tariff is missing),
 * JOS_ENOMEM, JOS_EINTERNAL. */
struct jos_dataset;
struct eng_measures;

/* weighted[c] = sum over the cell's categories of weight(cat) * x, exact millionths. */
int key_weighted_measure(jos_i128 *weighted, const struct jos_dataset *ds,
			 const struct eng_measures *m, const jos_key *k, jos_err *err);
/* prorata: C(s) over the cells of s by largest remainder; schools with sum M = 0 get
 * nothing and unapportioned[s] = true. */
int key_method_prorata(jos_cents *gross, bool *unapportioned, const struct jos_dataset *ds,
		       const struct eng_measures *m, const jos_i128 *weighted, jos_err *err);
/* pooled: sum of C(s) over the apportioned schools, split over municipalities by sum_s M,
 * then each municipality's part over its schools by M(s,m). */
int key_method_pooled(jos_cents *gross, bool *unapportioned, const struct jos_dataset *ds,
		      const struct eng_measures *m, const jos_i128 *weighted, jos_err *err);
/* tariff: tariff(type) * M / D half-up (headcount: tariff * M). */
int key_method_tariff(jos_cents *gross, const struct jos_dataset *ds,
		      const struct eng_measures *m, const jos_key *k, const jos_i128 *weighted,
		      jos_err *err);
/* min_school_share: zero the outside shares of each school whose outside measure is a
 * smaller share of its total than k->min_school_share (exact); zeroed[s] = true then. */
int key_min_school_share(jos_cents *gross, bool *zeroed, const struct jos_dataset *ds,
			 const struct eng_measures *m, const jos_key *k,
			 const jos_i128 *weighted, jos_err *err);
/* All of the above in order: the method of k, then min_school_share. */
int key_gross_shares(jos_cents *gross, bool *unapportioned, bool *zeroed,
		     const struct jos_dataset *ds, const struct eng_measures *m,
		     const jos_key *k, const jos_i128 *weighted, jos_err *err);

#endif
