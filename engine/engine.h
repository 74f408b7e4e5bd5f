/*
 * engine.h: the settlement engine: the dataset model, its validation, the measures
 * and the apportionment. Pure computation: structs in, structs out; no FILE*, no
 * clock, no environment. formats/ fills a jos_dataset from DATA_DIR; the front end
 * (engine/main.c and engine/cmd_*.c) is the only part of engine/ that touches files.
 *
 * Index order is the SPEC's order: ds->munis is sorted by 4-digit code and
 * ds->schools by school_id in byte order, so "the smaller code" of every tie-break
 * is simply the smaller index.
 */
#ifndef JOS_ENGINE_H
#define JOS_ENGINE_H

#include "engine/jos.h"
#include "keys/keys.h"

/* ---- dataset model ------------------------------------------------------ */

typedef enum { JOS_MEASURE_DAYS = 0, JOS_MEASURE_HEADCOUNT = 1 } jos_measure;

typedef struct {
	const char *name, *issuer, *issuer_id;
	jos_day period_start, period_end, statement_date;
	jos_measure measure;
	jos_day count_date;          /* only for headcount */
	const char *default_key;     /* key id as written */
	int default_key_idx;         /* index into ds->keys, -1 when unresolved */
	const char *iban;            /* NULL when absent */
	int64_t payment_days;        /* -1 when absent */
	uint32_t line_period, line_count_date, line_default_key; /* for messages */
} jos_settings;

typedef struct {
	char code[5];        /* 4 digits, NUL-terminated: "0546" */
	const char *name;
	bool in_region;
	int64_t inhabitants; /* -1 when not given */
	uint32_t line;
} jos_muni;

typedef struct {
	const char *id;         /* school_id as written (trimmed) */
	const char *name;
	uint16_t muni;          /* index into ds->munis */
	const char *type;       /* as written (trimmed): "SO/VSO" */
	const char *provider;   /* "" when absent */
	uint32_t line;
	bool has_costs;
	jos_cents budget, cofinancing;
	uint32_t costs_line;
} jos_school;

/* 24 bytes: 2.5 M of them fit in 60 MB. */
typedef struct {
	uint32_t pupil;      /* dense pupil number 0..npupils-1 (ids are not kept) */
	uint32_t school;     /* index into ds->schools */
	uint16_t residence;  /* index into ds->munis */
	uint16_t category;   /* index into ds->categories; 0 = empty */
	jos_day start, end;  /* inclusive; end == JOS_DAY_OPEN when open */
	uint32_t line;
} jos_enrolment;

typedef struct {
	uint16_t muni;          /* index into ds->munis */
	int key;                /* index into ds->keys, -1 when unresolved */
	const char *key_id;     /* as written */
	const char *reference;  /* NULL when none */
	uint32_t line;
} jos_agreement;

typedef struct jos_dataset {
	jos_settings set;
	uint32_t settings_line;  /* line of [settlement] */
	jos_key *keys;          /* owned, key_free each; in file order */
	size_t nkeys;
	jos_muni *munis;        /* sorted by code */
	size_t nmunis;
	jos_school *schools;    /* sorted by id (byte order) */
	size_t nschools;
	jos_enrolment *enrol;   /* file order */
	size_t nenrol;
	jos_agreement *agreements; /* sorted by municipality */
	size_t nagreements;
	const char **categories;   /* [0] = "", the rest lower-cased and trimmed */
	size_t ncategories;
	uint32_t npupils;
	int *muni_agreement;       /* per municipality: index into agreements or -1 */
	char input_digest[65];     /* lowercase hex SHA-256 (SPEC InputDigest) */
	jos_arena *arena;          /* owns every string above */
} jos_dataset;

jos_dataset *eng_dataset_new(void);
void eng_dataset_free(jos_dataset *ds);
/* Finds by exact 4-digit code / school id; -1 when absent (binary search). */
int eng_muni_find(const jos_dataset *ds, const char *code4);
int eng_school_find(const jos_dataset *ds, const char *id);
int eng_key_find(const jos_dataset *ds, const char *id);
int64_t eng_period_days(const jos_dataset *ds);   /* D = end - start + 1 */

/* ---- validation ----------------------------------------------------------- */

/* The SPEC's cross-row rules on a loaded model: end >= start, budget >= cofinancing
  * >= 0, overlapping enrolments of one pupil (reported at the
 * later line, naming the other), agreements only outside the region and with known
 * keys, count_date inside the period, default key exists, a tariff for every school
 * type present, ... Every problem goes into errs (FILE:LINE). Returns the number of
 * errors added. */
size_t eng_dataset_validate(const jos_dataset *ds, jos_errlist *errs);
/* The same, the per-enrolment checks on up to nthreads threads (the caller's included);
 * the problems and their order do not depend on nthreads. Each thread needs a count per
 * pupil of its own (fresh memory): at 250 k rows one thread took 1.2 ms, two 4.5 ms; at
 * 2.5 M, 14.7 ms and 12.2 ms. The caller chooses. */
size_t eng_dataset_validate_mt(const jos_dataset *ds, jos_errlist *errs, int nthreads);

/* ---- measures ------------------------------------------------------------- */

/* Key-independent aggregates per (school, municipality) cell with at least one
 * enrolment with d_e > 0 (or, under headcount, active on count_date). Weights differ
 * per key, so the measure is kept per category: the weighted measure of a cell under
 * key k is sum over its catx of weight_k(cat) * x. Under headcount a cell can have
 * pupils = 0 and x = 0 (its pupils left before count_date): it keeps its pupil_days,
 * has a 0 share under every method and is not a statement line. muni_pupil_days is
 * the sum of d_e over all the municipality's enrolments (PupilYears = that / D). */
typedef struct {
	uint16_t category;
	int64_t x;        /* days: sum of d_e; headcount: enrolments active on count_date */
} eng_catx;

typedef struct {
	uint32_t school;
	uint16_t muni;
	int64_t pupils;      /* distinct pupils counted by the measure */
	int64_t pupil_days;  /* sum of d_e, unweighted (PupilYears = pupil_days / D) */
	uint32_t cat_first, ncat; /* slice of measures->catx */
} eng_cell;

typedef struct eng_measures {
	eng_cell *cells;        /* sorted by (school, muni) */
	size_t ncells;
	eng_catx *catx;
	size_t ncatx;
	uint32_t *school_first; /* cells of school s: [school_first[s], school_first[s+1]) */
	uint32_t *by_muni;      /* cell indices sorted by (muni, school) */
	uint32_t *muni_first;   /* by_muni slice of municipality m: [muni_first[m], muni_first[m+1]) */
	int64_t *muni_pupils;   /* per municipality: distinct pupils counted by the measure */
	int64_t *muni_pupil_days;
	int64_t period_days;    /* D */
	jos_measure measure;
} eng_measures;

int eng_measures_build(eng_measures **out, const jos_dataset *ds, jos_err *err);
/* The same on up to nthreads threads (the caller's included); the result does not
 * depend on nthreads. Pure computation: the front end chooses nthreads. */
#define ENG_MAX_THREADS JOS_MAX_THREADS
int eng_measures_build_mt(eng_measures **out, const jos_dataset *ds, int nthreads, jos_err *err);
void eng_measures_free(eng_measures *m);

/* ---- one key over every municipality ---------------------------------------- */

typedef enum {
	JOS_STATUS_IN_REGION = 0,
	JOS_STATUS_INVOICED,
	JOS_STATUS_CAPPED,
	JOS_STATUS_BELOW_THRESHOLD,
	JOS_STATUS_NO_AGREEMENT,
} jos_status;
const char *eng_status_name(jos_status s); /* "in_region", "invoiced", ... */

/* The result of applying one key to every municipality, as if each had agreed it.
 * Arrays are indexed by cell (cells of measures) or by municipality. */
typedef struct eng_key_result {
	const jos_key *key;         /* borrowed */
	jos_i128 *weighted;         /* per cell: M(s,m) in millionths (weights are exact) */
	jos_cents *gross;           /* per cell: g(s,m) after min_school_share */
	jos_cents *amount;          /* per cell: line amount of N split over the schools */
	jos_cents *muni_gross;      /* per municipality: G */
	jos_cents *muni_net;        /* per municipality: N after threshold, discount,
				       phase_in and cap */
	jos_status *muni_status;    /* invoiced | capped | below_threshold */
	bool *school_unapportioned; /* per school: sum of M = 0 (a warning) */
	bool *school_outside_zeroed; /* per school: min_school_share set its outside
					shares to 0 */
} eng_key_result;

int eng_key_apply(eng_key_result **out, const jos_dataset *ds, const eng_measures *m,
		  const jos_key *key, jos_err *err);
void eng_key_result_free(eng_key_result *r);

/* ---- the settlement --------------------------------------------------------- */

typedef struct {
	uint16_t muni;
	int key;               /* index into ds->keys whose G is shown */
	jos_status status;
	int64_t pupils, pupil_days;
	jos_cents gross, net;
	bool statement;        /* outside, with agreement and pupils */
} eng_row;

typedef struct eng_settlement {
	eng_measures *measures;     /* owned */
	eng_key_result **results;   /* per ds key, NULL where unused; owned */
	size_t nresults;            /* = ds->nkeys */
	eng_row *rows;              /* municipalities with pupils, by code */
	size_t nrows;
} eng_settlement;

/* Computes the settlement and checks its invariants (prorata shares of each school
 * sum to C(s); each statement's amounts sum to its net). Warnings (schools that
 * apportion nothing) go into warnings. JOS_EOVERFLOW / JOS_EINTERNAL on failure. */
int eng_settle(eng_settlement **out, const jos_dataset *ds, jos_errlist *warnings, jos_err *err);
/* The same on up to nthreads threads (measures and keys); the result does not depend
 * on nthreads. */
int eng_settle_mt(eng_settlement **out, const jos_dataset *ds, jos_errlist *warnings,
		  int nthreads, jos_err *err);
void eng_settlement_free(eng_settlement *s);

/* A statement line: a school where the recipient has a pupil counted by the measure. */
typedef struct {
	uint32_t school;
	int64_t pupils, pupil_days;
	jos_cents school_net_cost, gross, amount;
} eng_line;

/* The lines of row r, sorted by school; *out is malloc'd (caller frees). */
int eng_row_lines(eng_line **out, size_t *n, const jos_dataset *ds, const eng_settlement *s,
		  const eng_row *r);

#endif
