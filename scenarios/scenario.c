/*
 * scenario.c: the scenario file reader (SPEC "Scenarios").
 *
 *   [scenario]   name, baseline, apply_to = all | agreements
 *   [variant ID] label; key = <settlement key id> (start from a copy of that key) or,
 *                without it, the key defaults plus a required `method`; then any key
 *                parameter, parsed by key_param_set exactly like settlement.ini
 *   [sweep]      variant, parameter, values = v1, v2, ...  (optional)
 *
 * The options of a section are collected first and the keys built at the end, so
 * `key =` may stand after the overrides it is overridden by. Every problem is
 * reported as FILE:LINE and reading goes on: the user sees all of them at once.
 * Unknown sections and options are errors (a misspelt `discont` must not silently
 * change money), and so are options given twice.
 */
#include "scenarios/scenarios.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

typedef struct {
	char *name, *value;
	uint32_t line;
} raw_opt;

typedef struct {
	raw_opt *opts;
	size_t n, cap;
	uint32_t key_line, label_line;
} raw_variant;

enum { SEC_NONE, SEC_SCENARIO, SEC_VARIANT, SEC_SWEEP, SEC_BAD };

typedef struct {
	scn_scenario *sc;
	raw_variant *raw;      /* parallel to sc->variants */
	size_t vcap;
	const char *file;
	int sec;
	int cur_variant;
	uint32_t scenario_line;
	uint32_t name_line, baseline_line, apply_line;
	char *baseline;
	uint32_t sw_variant_line, sw_param_line, sw_values_line;
	char *sw_variant, *sw_param, *sw_values;
	bool oom;
} parse_ctx;

static char *dupstr(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1);
	if (p)
		memcpy(p, s, n + 1);
	return p;
}

bool scn_is_key_param(const char *name)
{
	static const char *const plain[] = { "method", "min_pupils", "discount", "phase_in",
					     "cap", "min_school_share" };
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (jos_strcasecmp(name, plain[i]) == 0)
			return true;
	if (jos_strncasecmp(name, "weight.", 7) == 0 || jos_strncasecmp(name, "tariff.", 7) == 0) {
		const char *rest = name + 7;
		size_t n = strlen(rest);
		jos_trim(&rest, &n);
		return n > 0;
	}
	return false;
}

/* An override of weight.<c> / tariff.<t> replaces the entry the base key has for the
 * same category or type (compared like the engine: case-insensitive, trimmed). */
static void key_drop_entry(jos_key *k, const char *name)
{
	bool weight = jos_strncasecmp(name, "weight.", 7) == 0;
	bool tariff = jos_strncasecmp(name, "tariff.", 7) == 0;
	if (!weight && !tariff)
		return;
	const char *rest = name + 7;
	size_t n = strlen(rest);
	jos_trim(&rest, &n);
	if (weight) {
		for (size_t i = 0; i < k->nweights; i++) {
			const char *c = k->weights[i].category;
			if (strlen(c) == n && jos_strncasecmp(c, rest, n) == 0) {
				free(k->weights[i].category);
				memmove(&k->weights[i], &k->weights[i + 1],
					(k->nweights - i - 1) * sizeof *k->weights);
				k->nweights--;
				i--;
			}
		}
	} else {
		for (size_t i = 0; i < k->ntariffs; i++) {
			const char *t = k->tariffs[i].type;
			if (strlen(t) == n && jos_strncasecmp(t, rest, n) == 0) {
				free(k->tariffs[i].type);
				memmove(&k->tariffs[i], &k->tariffs[i + 1],
					(k->ntariffs - i - 1) * sizeof *k->tariffs);
				k->ntariffs--;
				i--;
			}
		}
	}
}

/* Sets one parameter as an override: replaces rather than adds. */
static int key_override(jos_key *k, const char *name, const char *value, const char *file,
			uint32_t line, jos_err *err)
{
	key_drop_entry(k, name);
	return key_param_set(k, name, value, file, line, err);
}

/* A key a variant can run: it has a method, and a tariff key has a tariff for every
 * school type present (SPEC Edge rules: the same rule as for settlement keys). */
static void key_check_complete(const jos_key *k, const jos_dataset *ds, const char *file,
			       uint32_t line, const char *what, jos_errlist *errs)
{
	if (!k->has_method) {
		jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
				"%s: `method` is required when the variant has no `key =`", what);
		return;
	}
	if (k->method != KEY_TARIFF || !ds)
		return;
	for (size_t s = 0; s < ds->nschools; s++) {
		jos_cents c;
		bool seen = false;
		for (size_t t = 0; t < s && !seen; t++)
			seen = jos_strcasecmp(ds->schools[t].type, ds->schools[s].type) == 0;
		if (seen || key_tariff_for(k, ds->schools[s].type, &c))
			continue;
		jos_errlist_add(errs, JOS_SEV_ERROR, file, line,
				"%s: tariff key has no tariff for school type '%s' (add tariff.%s = ...)",
				what, ds->schools[s].type, ds->schools[s].type);
	}
}

static int add_variant(parse_ctx *c, const char *id, uint32_t line, jos_errlist *errs)
{
	scn_scenario *sc = c->sc;
	for (size_t i = 0; i < sc->nvariants; i++) {
		if (strcmp(sc->variants[i].id, id) == 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"variant '%s' is already defined at line %u", id,
					sc->variants[i].line);
			return -1;
		}
	}
	if (sc->nvariants == c->vcap) {
		size_t ncap = c->vcap ? c->vcap * 2 : 8;
		scn_variant *nv = realloc(sc->variants, ncap * sizeof *nv);
		if (!nv)
			return -2;
		sc->variants = nv;
		raw_variant *nr = realloc(c->raw, ncap * sizeof *nr);
		if (!nr)
			return -2;
		c->raw = nr;
		c->vcap = ncap;
	}
	scn_variant *v = &sc->variants[sc->nvariants];
	memset(v, 0, sizeof *v);
	memset(&c->raw[sc->nvariants], 0, sizeof c->raw[0]);
	v->id = dupstr(id);
	v->label = dupstr("");
	v->line = line;
	if (!v->id || !v->label) {
		free(v->id);
		free(v->label);
		return -2;
	}
	if (key_init(&v->key, id) != JOS_OK) {
		free(v->id);
		free(v->label);
		return -2;
	}
	return (int)sc->nvariants++;
}

static void on_section(parse_ctx *c, const char *header, uint32_t line, jos_errlist *errs)
{
	size_t n = strlen(header);
	size_t w = 0;
	while (w < n && !jos_isblank(header[w]))
		w++;
	const char *rest = header + w;
	size_t rn = n - w;
	jos_trim(&rest, &rn);

	c->sec = SEC_BAD;
	if (w == 8 && jos_strncasecmp(header, "scenario", 8) == 0 && rn == 0) {
		if (c->scenario_line) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"[scenario] is already given at line %u", c->scenario_line);
			return;
		}
		c->scenario_line = line;
		c->sec = SEC_SCENARIO;
	} else if (w == 5 && jos_strncasecmp(header, "sweep", 5) == 0 && rn == 0) {
		if (c->sc->sweep.line) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"[sweep] is already given at line %u (one sweep per scenario)",
					c->sc->sweep.line);
			return;
		}
		c->sc->sweep.line = line;
		c->sec = SEC_SWEEP;
	} else if (w == 7 && jos_strncasecmp(header, "variant", 7) == 0) {
		if (rn == 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"a variant needs an id: [variant A]");
			return;
		}
		char id[256];
		if (rn >= sizeof id) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line, "variant id is too long");
			return;
		}
		memcpy(id, rest, rn);
		id[rn] = '\0';
		int idx = add_variant(c, id, line, errs);
		if (idx == -2) {
			c->oom = true;
			return;
		}
		if (idx < 0)
			return;
		c->cur_variant = idx;
		c->sec = SEC_VARIANT;
	} else {
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
				"unknown section [%s] (expected [scenario], [variant ID] or [sweep])",
				header);
	}
}

/* Stores a single-valued option, refusing a second one. */
static void set_once(parse_ctx *c, char **slot, uint32_t *slot_line, const char *name,
		     const char *value, uint32_t line, jos_errlist *errs)
{
	if (*slot_line) {
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
				"option '%s' is already given at line %u", name, *slot_line);
		return;
	}
	char *v = dupstr(value);
	if (!v) {
		c->oom = true;
		return;
	}
	free(*slot);
	*slot = v;
	*slot_line = line;
}

static void on_variant_option(parse_ctx *c, const char *name, const char *value, uint32_t line,
			      jos_errlist *errs)
{
	scn_variant *v = &c->sc->variants[c->cur_variant];
	raw_variant *r = &c->raw[c->cur_variant];
	if (jos_strcasecmp(name, "label") == 0) {
		set_once(c, &v->label, &r->label_line, "label", value, line, errs);
		return;
	}
	if (jos_strcasecmp(name, "key") == 0) {
		set_once(c, &v->base_key, &r->key_line, "key", value, line, errs);
		return;
	}
	if (!scn_is_key_param(name)) {
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
				"unknown option '%s' in [variant %s] (label, key or a key parameter: "
				"method, min_pupils, discount, phase_in, cap, min_school_share, "
				"weight.<category>, tariff.<type>)", name, v->id);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (jos_strcasecmp(r->opts[i].name, name) == 0) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"option '%s' is already given at line %u", name,
					r->opts[i].line);
			return;
		}
	}
	if (jos_grow((void **)&r->opts, &r->cap, r->n + 1, sizeof *r->opts) != JOS_OK) {
		c->oom = true;
		return;
	}
	raw_opt *o = &r->opts[r->n];
	o->name = dupstr(name);
	o->value = dupstr(value);
	o->line = line;
	if (!o->name || !o->value) {
		free(o->name);
		free(o->value);
		c->oom = true;
		return;
	}
	r->n++;
}

static int on_ini(void *ctx, const char *section, const char *name, const char *value,
		  uint32_t line, jos_errlist *errs)
{
	parse_ctx *c = ctx;
	if (c->oom)
		return JOS_ENOMEM;
	if (!name) {
		on_section(c, section ? section : "", line, errs);
		return c->oom ? JOS_ENOMEM : JOS_OK;
	}
	if (!value)
		value = "";
	switch (c->sec) {
	case SEC_NONE:
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
				"option '%s' stands before any section (start with [scenario])", name);
		break;
	case SEC_BAD:
		break; /* its section was reported already */
	case SEC_SCENARIO:
		if (jos_strcasecmp(name, "name") == 0) {
			set_once(c, &c->sc->name, &c->name_line, "name", value, line, errs);
		} else if (jos_strcasecmp(name, "baseline") == 0) {
			set_once(c, &c->baseline, &c->baseline_line, "baseline", value, line, errs);
		} else if (jos_strcasecmp(name, "apply_to") == 0) {
			if (c->apply_line) {
				jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
						"option 'apply_to' is already given at line %u",
						c->apply_line);
			} else if (jos_strcasecmp(value, "all") == 0) {
				c->sc->apply_to = SCN_APPLY_ALL;
			} else if (jos_strcasecmp(value, "agreements") == 0) {
				c->sc->apply_to = SCN_APPLY_AGREEMENTS;
			} else {
				jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
						"apply_to must be 'all' or 'agreements', not '%s'", value);
			}
			c->apply_line = line;
		} else {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"unknown option '%s' in [scenario] (name, baseline, apply_to)",
					name);
		}
		break;
	case SEC_VARIANT:
		on_variant_option(c, name, value, line, errs);
		break;
	case SEC_SWEEP:
		if (jos_strcasecmp(name, "variant") == 0)
			set_once(c, &c->sw_variant, &c->sw_variant_line, "variant", value, line, errs);
		else if (jos_strcasecmp(name, "parameter") == 0)
			set_once(c, &c->sw_param, &c->sw_param_line, "parameter", value, line, errs);
		else if (jos_strcasecmp(name, "values") == 0)
			set_once(c, &c->sw_values, &c->sw_values_line, "values", value, line, errs);
		else
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, line,
					"unknown option '%s' in [sweep] (variant, parameter, values)",
					name);
		break;
	}
	return c->oom ? JOS_ENOMEM : JOS_OK;
}

static int find_variant(const scn_scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->nvariants; i++)
		if (strcmp(sc->variants[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Builds each variant's key: a copy of its settlement key (or the defaults), then
 * the overrides in file order. */
static int build_variants(parse_ctx *c, const jos_dataset *ds, jos_errlist *errs, bool *ok)
{
	scn_scenario *sc = c->sc;
	for (size_t i = 0; i < sc->nvariants; i++) {
		scn_variant *v = &sc->variants[i];
		raw_variant *r = &c->raw[i];
		size_t before = errs->nerrors;
		char what[300];
		snprintf(what, sizeof what, "[variant %s]", v->id);
		if (v->base_key) {
			if (ds) {
				int k = eng_key_find(ds, v->base_key);
				if (k < 0) {
					jos_errlist_add(errs, JOS_SEV_ERROR, c->file, r->key_line,
							"key '%s' is not a key of settlement.ini", v->base_key);
				} else {
					jos_key copy;
					if (key_copy(&copy, &ds->keys[k]) != JOS_OK)
						return JOS_ENOMEM;
					key_free(&v->key);
					v->key = copy;
				}
			}
		}
		for (size_t k = 0; k < r->n; k++) {
			jos_err e;
			jos_err_clear(&e);
			int rc = key_override(&v->key, r->opts[k].name, r->opts[k].value, c->file,
					      r->opts[k].line, &e);
			if (rc == JOS_ENOMEM)
				return rc;
			if (rc != JOS_OK)
				jos_errlist_add(errs, JOS_SEV_ERROR, c->file, r->opts[k].line, "%s", e.msg);
		}
		if (errs->nerrors == before && (ds || !v->base_key))
			key_check_complete(&v->key, ds, c->file, v->line, what, errs);
		ok[i] = errs->nerrors == before;
	}
	return JOS_OK;
}

static int build_sweep(parse_ctx *c, const jos_dataset *ds, jos_errlist *errs,
		       const bool *variant_ok)
{
	scn_scenario *sc = c->sc;
	scn_sweep *sw = &sc->sweep;
	if (!sw->line)
		return JOS_OK;
	sc->has_sweep = true;
	sw->variant = -1;
	if (!c->sw_variant)
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, sw->line, "[sweep] needs `variant =`");
	if (!c->sw_param)
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, sw->line, "[sweep] needs `parameter =`");
	if (!c->sw_values)
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, sw->line, "[sweep] needs `values =`");
	if (c->sw_variant) {
		sw->variant = find_variant(sc, c->sw_variant);
		if (sw->variant < 0)
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, c->sw_variant_line,
					"sweep variant '%s' is not a variant of this scenario",
					c->sw_variant);
	}
	bool param_ok = false;
	if (c->sw_param) {
		sw->parameter = c->sw_param;
		c->sw_param = NULL;
		param_ok = scn_is_key_param(sw->parameter);
		if (!param_ok)
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, c->sw_param_line,
					"sweep parameter '%s' is not a key parameter (method, min_pupils, "
					"discount, phase_in, cap, min_school_share, weight.<category>, "
					"tariff.<type>)", sw->parameter);
	}
	if (!c->sw_values)
		return JOS_OK;
	/* split the values on ',' and trim each */
	const char *p = c->sw_values;
	size_t cap = 0;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		jos_trim(&s, &n);
		if (jos_grow((void **)&sw->values, &cap, sw->nvalues + 1, sizeof *sw->values) != JOS_OK)
			return JOS_ENOMEM;
		char *v = malloc(n + 1);
		if (!v)
			return JOS_ENOMEM;
		memcpy(v, s, n);
		v[n] = '\0';
		sw->values[sw->nvalues++] = v;
		if (!e)
			break;
		p = e + 1;
	}
	if (sw->nvalues == 1 && sw->values[0][0] == '\0') {
		jos_errlist_add(errs, JOS_SEV_ERROR, c->file, c->sw_values_line,
				"sweep values are empty: give a comma-separated list");
		return JOS_OK;
	}
	if (sw->variant < 0 || !param_ok || !variant_ok[sw->variant])
		return JOS_OK;
	sw->keys = calloc(sw->nvalues, sizeof *sw->keys);
	if (!sw->keys)
		return JOS_ENOMEM;
	const scn_variant *v = &sc->variants[sw->variant];
	for (size_t i = 0; i < sw->nvalues; i++) {
		jos_err e;
		jos_err_clear(&e);
		if (key_copy(&sw->keys[i], &v->key) != JOS_OK)
			return JOS_ENOMEM;
		int rc = key_override(&sw->keys[i], sw->parameter, sw->values[i], c->file,
				      c->sw_values_line, &e);
		if (rc == JOS_ENOMEM)
			return rc;
		if (rc != JOS_OK) {
			jos_errlist_add(errs, JOS_SEV_ERROR, c->file, c->sw_values_line,
					"sweep value %zu '%s' for %s: %s", i + 1, sw->values[i],
					sw->parameter, e.msg);
			continue;
		}
		char what[300];
		snprintf(what, sizeof what, "sweep value '%s'", sw->values[i]);
		if (ds || !v->base_key)
			key_check_complete(&sw->keys[i], ds, c->file, c->sw_values_line, what, errs);
	}
	return JOS_OK;
}

static char *default_name(const char *file)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t n = strlen(b);
	if (n > 4 && jos_strcasecmp(b + n - 4, ".ini") == 0)
		n -= 4;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, b, n);
		s[n] = '\0';
	}
	return s;
}

static void ctx_free(parse_ctx *c)
{
	if (c->raw) {
		for (size_t i = 0; i < c->sc->nvariants; i++) {
			for (size_t k = 0; k < c->raw[i].n; k++) {
				free(c->raw[i].opts[k].name);
				free(c->raw[i].opts[k].value);
			}
			free(c->raw[i].opts);
		}
	}
	free(c->raw);
	free(c->baseline);
	free(c->sw_variant);
	free(c->sw_param);
	free(c->sw_values);
}

static int parse(scn_scenario **out, const char *path, const char *buf, size_t len,
		 const char *file, const jos_dataset *ds, jos_errlist *errs)
{
	parse_ctx c;
	int rc;
	bool *variant_ok = NULL;
	size_t before = errs->nerrors;

	*out = NULL;
	memset(&c, 0, sizeof c);
	c.file = file;
	c.sec = SEC_NONE;
	c.sc = calloc(1, sizeof *c.sc);
	if (!c.sc)
		return JOS_ENOMEM;
	c.sc->file = dupstr(file);
	if (!c.sc->file) {
		rc = JOS_ENOMEM;
		goto done;
	}
	if (path)
		rc = fmt_ini_parse_file(path, file, on_ini, &c, errs);
	else
		rc = fmt_ini_parse_mem(buf, len, file, on_ini, &c, errs);
	if (c.oom)
		rc = JOS_ENOMEM;
	if (rc != JOS_OK && rc != JOS_EINVALID)
		goto done;

	scn_scenario *sc = c.sc;
	if (!sc->name && !(sc->name = default_name(file))) {
		rc = JOS_ENOMEM;
		goto done;
	}
	if (sc->nvariants == 0)
		jos_errlist_add(errs, JOS_SEV_ERROR, file, 0,
				"no variant: add at least one [variant ID] section");
	sc->baseline = 0;
	if (c.baseline && sc->nvariants > 0) {
		int b = find_variant(sc, c.baseline);
		if (b < 0)
			jos_errlist_add(errs, JOS_SEV_ERROR, file, c.baseline_line,
					"baseline '%s' is not a variant of this scenario", c.baseline);
		else
			sc->baseline = b;
	}
	variant_ok = calloc(sc->nvariants + 1, sizeof *variant_ok);
	if (!variant_ok) {
		rc = JOS_ENOMEM;
		goto done;
	}
	rc = build_variants(&c, ds, errs, variant_ok);
	if (rc != JOS_OK)
		goto done;
	rc = build_sweep(&c, ds, errs, variant_ok);
	if (rc != JOS_OK)
		goto done;
	rc = errs->nerrors > before ? JOS_EINVALID : JOS_OK;
done:
	free(variant_ok);
	ctx_free(&c);
	if (rc == JOS_OK)
		*out = c.sc;
	else
		scn_scenario_free(c.sc);
	return rc;
}

int scn_scenario_load(scn_scenario **out, const char *path, const char *file,
		      const jos_dataset *ds, jos_errlist *errs)
{
	return parse(out, path, NULL, 0, file, ds, errs);
}

int scn_scenario_parse_mem(scn_scenario **out, const char *buf, size_t len, const char *file,
			   const jos_dataset *ds, jos_errlist *errs)
{
	return parse(out, NULL, buf, len, file, ds, errs);
}

void scn_scenario_free(scn_scenario *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nvariants; i++) {
		free(sc->variants[i].id);
		free(sc->variants[i].label);
		free(sc->variants[i].base_key);
		key_free(&sc->variants[i].key);
	}
	free(sc->variants);
	for (size_t i = 0; i < sc->sweep.nvalues; i++) {
		free(sc->sweep.values[i]);
		if (sc->sweep.keys)
			key_free(&sc->sweep.keys[i]);
	}
	free(sc->sweep.values);
	free(sc->sweep.keys);
	free(sc->sweep.parameter);
	free(sc->file);
	free(sc->name);
	free(sc);
}
