/*
 * scenarios.h: scenarios for negotiators (SPEC "Scenarios"): the scenario file
 * (variants of contribution keys, a baseline, an optional sweep over one parameter)
 * and the runner that applies every variant to the same measures with the same exact
 * engine as `settle`. Nothing here touches files except scn_scenario_load, which reads
 * the scenario file through formats/' INI reader; reports are written by formats/
 * (fmt_report_*).
 *
 * Ownership: scn_scenario and scn_result are owned by their caller and released with
 * their *_free (NULL accepted). A scn_result borrows the dataset and the scenario it
 * was computed from: both must outlive it.
 */
#ifndef JOS_SCENARIOS_H
#define JOS_SCENARIOS_H

#include "engine/engine.h"

/* ---- the scenario file ------------------------------------------------------ */

typedef enum { SCN_APPLY_ALL = 0, SCN_APPLY_AGREEMENTS = 1 } scn_apply;

typedef struct {
	char *id;            /* case-sensitive, from `[variant ID]` */
	char *label;         /* "" when absent */
	char *base_key;      /* settlement key id of `key =`, NULL when defined inline */
	uint32_t line;       /* line of its [variant ...] header */
	jos_key key;         /* the key it applies: base key (or defaults) + overrides */
} scn_variant;

typedef struct {
	int variant;         /* index into variants */
	char *parameter;     /* as written, trimmed ("min_pupils", "weight.lvb") */
	char **values;       /* each as written, trimmed */
	size_t nvalues;
	jos_key *keys;       /* per value: the variant's key with that value set */
	uint32_t line;       /* line of [sweep] */
} scn_sweep;

typedef struct scn_scenario {
	char *file;          /* the name printed in messages */
	char *name;          /* `name =`; defaults to the file's base name without .ini */
	int baseline;        /* index into variants; defaults to the first variant */
	scn_apply apply_to;  /* default: all */
	scn_variant *variants; /* in file order */
	size_t nvariants;
	bool has_sweep;
	scn_sweep sweep;
} scn_scenario;

/* Reads SCENARIO.ini. `file` is the name printed in messages (FILE:LINE: ...). ds is
 * the loaded dataset: `key =` must name one of its keys and a tariff variant must
 * have a tariff for every school type present; ds may be NULL (data failed to load),
 * then those checks are skipped. Every problem goes to errs; returns JOS_OK,
 * JOS_EINVALID (errs has errors, *out NULL), JOS_EIO or JOS_ENOMEM. */
int scn_scenario_load(scn_scenario **out, const char *path, const char *file,
		      const jos_dataset *ds, jos_errlist *errs);
/* The same from a memory buffer (tests); buf is borrowed. */
int scn_scenario_parse_mem(scn_scenario **out, const char *buf, size_t len, const char *file,
			   const jos_dataset *ds, jos_errlist *errs);
void scn_scenario_free(scn_scenario *sc);

/* True when `name` is a key parameter a variant or a sweep may set (method,
 * min_pupils, discount, phase_in, cap, min_school_share, weight.<c>, tariff.<t>). */
bool scn_is_key_param(const char *name);

/* ---- running it -------------------------------------------------------------- */

/* One municipality under one variant. */
typedef struct {
	jos_cents gross;     /* G */
	jos_cents net;       /* N */
	jos_cents delta;     /* N - N under the baseline */
	jos_status status;   /* invoiced | capped | below_threshold */
} scn_cell;

/* The totals of one key over the covered municipalities. */
typedef struct {
	jos_cents recovered;  /* sum of N */
	jos_cents gross;      /* sum of G */
	size_t paying;        /* municipalities with N > 0 */
	jos_cents largest;    /* max N (0 when nobody pays) */
	int largest_muni;     /* index into ds->munis; -1 when nobody pays; ties: smaller code */
} scn_totals;

typedef struct scn_result {
	const jos_dataset *ds;        /* borrowed */
	const scn_scenario *sc;       /* borrowed */
	uint16_t *munis;              /* covered municipalities, by code */
	int64_t *pupils;              /* per covered municipality */
	int64_t *pupil_days;          /* per covered municipality (PupilYears = / D) */
	size_t nmunis;
	int64_t period_days;          /* D */
	jos_cents outside_cost;       /* the denominator of the share, see README-scenario.md */
	scn_cell *cells;              /* [variant * nmunis + i] */
	scn_totals *totals;           /* per variant */
	scn_totals *sweep_totals;     /* per sweep value (NULL without a sweep) */
	size_t nsweep;
} scn_result;

/* Builds the measures once and applies every variant and every sweep value to them.
 * JOS_EOVERFLOW / JOS_EINVALID / JOS_ENOMEM / JOS_EINTERNAL with err filled. */
int scn_run(scn_result **out, const jos_dataset *ds, const scn_scenario *sc, jos_err *err);
/* The same with the measures and the sweep values on up to nthreads threads (the
 * caller's included); the result, and the problem reported, do not depend on nthreads. */
int scn_run_mt(scn_result **out, const jos_dataset *ds, const scn_scenario *sc, int nthreads,
	       jos_err *err);
void scn_result_free(scn_result *r);

static inline const scn_cell *scn_result_cell(const scn_result *r, size_t variant, size_t i)
{
	return &r->cells[variant * r->nmunis + i];
}

/* Share of the outside pupils' cost recovered: 100 * recovered / outside_cost with 2
 * decimals, half-up ("37.50"); "" when outside_cost is 0. buf: JOS_FMT_BUF bytes. */
char *scn_share_format(char *buf, jos_cents recovered, jos_cents outside_cost);
/* Pupil-years with 4 decimals, half-up. */
char *scn_pupil_years_format(char *buf, int64_t pupil_days, int64_t period_days);

#endif
