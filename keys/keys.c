/*
 * keys.c: contribution keys: defaults, copying, and the one parameter setter shared by
 * settlement.ini `[key NAME]` sections and scenario overrides (SPEC "settlement.ini").
 *
 * Every value is parsed strictly by formats/values.c (no floating point); money and
 * fractions in settlement.ini use '.' only. A parameter the setter does not know is an
 * error: a misspelt `discont` must never silently leave the discount at 0.
 */
#include "keys/keys.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

static const char *const method_names[] = { "prorata", "pooled", "tariff" };

const char *key_method_name(key_method m)
{
	if ((unsigned)m < sizeof method_names / sizeof method_names[0])
		return method_names[m];
	return "?";
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Trimmed, lower-cased copy of [s, s+n): the canonical spelling of a category or type. */
static char *dup_canon(const char *s, size_t n)
{
	jos_trim(&s, &n);
	char *p = dup_n(s, n);
	if (p)
		for (size_t i = 0; i < n; i++)
			p[i] = jos_lower(p[i]);
	return p;
}

int key_init(jos_key *k, const char *id)
{
	memset(k, 0, sizeof *k);
	k->min_pupils = 0;
	k->discount = 0;
	k->phase_in = JOS_MICRO_ONE;
	k->min_school_share = 0;
	k->has_cap = false;
	if (id && !(k->id = dup_n(id, strlen(id))))
		return JOS_ENOMEM;
	return JOS_OK;
}

void key_free(jos_key *k)
{
	if (!k)
		return;
	free(k->id);
	for (size_t i = 0; i < k->nweights; i++)
		free(k->weights[i].category);
	free(k->weights);
	for (size_t i = 0; i < k->ntariffs; i++)
		free(k->tariffs[i].type);
	free(k->tariffs);
	memset(k, 0, sizeof *k);
}

int key_copy(jos_key *out, const jos_key *src)
{
	*out = *src;
	out->id = NULL;
	out->weights = NULL;
	out->tariffs = NULL;
	out->nweights = out->ntariffs = 0;
	if (src->id && !(out->id = dup_n(src->id, strlen(src->id))))
		goto oom;
	if (src->nweights) {
		if (!(out->weights = calloc(src->nweights, sizeof *out->weights)))
			goto oom;
		for (size_t i = 0; i < src->nweights; i++) {
			out->weights[i] = src->weights[i];
			out->weights[i].category = dup_n(src->weights[i].category,
							 strlen(src->weights[i].category));
			out->nweights++;
			if (!out->weights[i].category)
				goto oom;
		}
	}
	if (src->ntariffs) {
		if (!(out->tariffs = calloc(src->ntariffs, sizeof *out->tariffs)))
			goto oom;
		for (size_t i = 0; i < src->ntariffs; i++) {
			out->tariffs[i] = src->tariffs[i];
			out->tariffs[i].type = dup_n(src->tariffs[i].type, strlen(src->tariffs[i].type));
			out->ntariffs++;
			if (!out->tariffs[i].type)
				goto oom;
		}
	}
	return JOS_OK;
oom:
	key_free(out);
	return JOS_ENOMEM;
}

/* Index of a canonical (trimmed, lower-cased) name among the weights/tariffs, or -1. */
static int find_weight(const jos_key *k, const char *s, size_t n)
{
	jos_trim(&s, &n);
	for (size_t i = 0; i < k->nweights; i++)
		if (strlen(k->weights[i].category) == n &&
		    jos_strncasecmp(k->weights[i].category, s, n) == 0)
			return (int)i;
	return -1;
}

static int find_tariff(const jos_key *k, const char *s, size_t n)
{
	jos_trim(&s, &n);
	for (size_t i = 0; i < k->ntariffs; i++)
		if (strlen(k->tariffs[i].type) == n && jos_strncasecmp(k->tariffs[i].type, s, n) == 0)
			return (int)i;
	return -1;
}

jos_micro key_weight_for(const jos_key *k, const char *category)
{
	if (!category)
		return JOS_MICRO_ONE;
	const char *s = category;
	size_t n = strlen(s);
	jos_trim(&s, &n);
	if (n == 0)
		return JOS_MICRO_ONE;
	int i = find_weight(k, s, n);
	return i < 0 ? JOS_MICRO_ONE : k->weights[i].weight;
}

bool key_tariff_for(const jos_key *k, const char *type, jos_cents *out)
{
	if (!type)
		return false;
	int i = find_tariff(k, type, strlen(type));
	if (i < 0)
		return false;
	if (out)
		*out = k->tariffs[i].cents;
	return true;
}

/* A fraction 0..1 with at most 6 decimals, exact. */
static int set_fraction(jos_micro *out, const char *pname, const char *value, const char *file,
			uint32_t line, jos_err *err)
{
	char why[JOS_WHY_MAX];
	jos_micro v;
	if (fmt_parse_micro(&v, value, strlen(value), false, why) != JOS_OK)
		return jos_err_set(err, JOS_EINVALID, file, line, "%s: %s", pname, why);
	if (v < 0 || v > JOS_MICRO_ONE)
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "%s '%s' is not a fraction between 0 and 1", pname, value);
	*out = v;
	return JOS_OK;
}

/* Adds or (replace) overwrites weight.<category> / tariff.<type>. */
static int set_weight(jos_key *k, const char *cat, size_t catn, const char *value,
		      const char *file, uint32_t line, bool replace, jos_err *err)
{
	char why[JOS_WHY_MAX];
	jos_micro v;
	jos_trim(&cat, &catn);
	if (catn == 0)
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "weight without a category: write weight.<category> = 1.5");
	if (fmt_parse_micro(&v, value, strlen(value), true, why) != JOS_OK)
		return jos_err_set(err, JOS_EINVALID, file, line, "weight.%.*s: %s", (int)catn, cat,
				   why);
	if (v < 0)
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "weight.%.*s is negative (%s): weights are 0 or more", (int)catn,
				   cat, value);
	int i = find_weight(k, cat, catn);
	if (i >= 0) {
		if (!replace)
			return jos_err_set(err, JOS_EINVALID, file, line,
					   "weight.%.*s is given twice (first at line %u)",
					   (int)catn, cat, (unsigned)k->weights[i].line);
		k->weights[i].weight = v;
		k->weights[i].line = line;
		return JOS_OK;
	}
	void *nw = realloc(k->weights, (k->nweights + 1) * sizeof *k->weights);
	if (!nw)
		return jos_err_set(err, JOS_ENOMEM, file, line, "out of memory");
	k->weights = nw;
	char *c = dup_canon(cat, catn);
	if (!c)
		return jos_err_set(err, JOS_ENOMEM, file, line, "out of memory");
	k->weights[k->nweights].category = c;
	k->weights[k->nweights].weight = v;
	k->weights[k->nweights].line = line;
	k->nweights++;
	return JOS_OK;
}

static int set_tariff(jos_key *k, const char *type, size_t typen, const char *value,
		      const char *file, uint32_t line, bool replace, jos_err *err)
{
	char why[JOS_WHY_MAX];
	jos_cents v;
	jos_trim(&type, &typen);
	if (typen == 0)
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "tariff without a school type: write tariff.<type> = 4500.00");
	if (fmt_parse_amount(&v, value, strlen(value), false, why) != JOS_OK)
		return jos_err_set(err, JOS_EINVALID, file, line, "tariff.%.*s: %s", (int)typen,
				   type, why);
	if (v < 0)
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "tariff.%.*s is negative (%s): tariffs are 0 or more", (int)typen,
				   type, value);
	int i = find_tariff(k, type, typen);
	if (i >= 0) {
		if (!replace)
			return jos_err_set(err, JOS_EINVALID, file, line,
					   "tariff.%.*s is given twice (first at line %u)",
					   (int)typen, type, (unsigned)k->tariffs[i].line);
		k->tariffs[i].cents = v;
		k->tariffs[i].line = line;
		return JOS_OK;
	}
	void *nt = realloc(k->tariffs, (k->ntariffs + 1) * sizeof *k->tariffs);
	if (!nt)
		return jos_err_set(err, JOS_ENOMEM, file, line, "out of memory");
	k->tariffs = nt;
	char *t = dup_canon(type, typen);
	if (!t)
		return jos_err_set(err, JOS_ENOMEM, file, line, "out of memory");
	k->tariffs[k->ntariffs].type = t;
	k->tariffs[k->ntariffs].cents = v;
	k->tariffs[k->ntariffs].line = line;
	k->ntariffs++;
	return JOS_OK;
}

static int param_set(jos_key *k, const char *name, const char *value, const char *file,
		     uint32_t line, bool replace, jos_err *err)
{
	char why[JOS_WHY_MAX];
	const char *nm = name;
	size_t nn = strlen(name);
	jos_trim(&nm, &nn);
	if (!value)
		value = "";

#define IS(word) (nn == sizeof(word) - 1 && jos_strncasecmp(nm, word, nn) == 0)
	if (IS("method")) {
		for (int i = 0; i < 3; i++)
			if (jos_strcasecmp(value, method_names[i]) == 0) {
				k->method = (key_method)i;
				k->has_method = true;
				return JOS_OK;
			}
		return jos_err_set(err, JOS_EINVALID, file, line,
				   "unknown method '%s': use prorata, pooled or tariff", value);
	}
	if (IS("min_pupils")) {
		int64_t v;
		if (fmt_parse_count(&v, value, strlen(value), why) != JOS_OK)
			return jos_err_set(err, JOS_EINVALID, file, line, "min_pupils: %s", why);
		k->min_pupils = v;
		return JOS_OK;
	}
	if (IS("discount"))
		return set_fraction(&k->discount, "discount", value, file, line, err);
	if (IS("phase_in"))
		return set_fraction(&k->phase_in, "phase_in", value, file, line, err);
	if (IS("min_school_share"))
		return set_fraction(&k->min_school_share, "min_school_share", value, file, line, err);
	if (IS("cap")) {
		jos_cents v;
		if (value[0] == '\0') {
			k->has_cap = false;
			k->cap = 0;
			return JOS_OK;
		}
		if (fmt_parse_amount(&v, value, strlen(value), false, why) != JOS_OK)
			return jos_err_set(err, JOS_EINVALID, file, line, "cap: %s", why);
		if (v < 0)
			return jos_err_set(err, JOS_EINVALID, file, line,
					   "cap is negative (%s): leave it empty for no cap", value);
		k->has_cap = true;
		k->cap = v;
		return JOS_OK;
	}
#undef IS
	if (nn >= 7 && jos_strncasecmp(nm, "weight.", 7) == 0)
		return set_weight(k, nm + 7, nn - 7, value, file, line, replace, err);
	if (nn >= 7 && jos_strncasecmp(nm, "tariff.", 7) == 0)
		return set_tariff(k, nm + 7, nn - 7, value, file, line, replace, err);
	return jos_err_set(err, JOS_EINVALID, file, line, "unknown key parameter '%.*s'", (int)nn,
			   nm);
}

int key_param_set(jos_key *k, const char *name, const char *value, const char *file,
		  uint32_t line, jos_err *err)
{
	return param_set(k, name, value, file, line, false, err);
}

int key_param_override(jos_key *k, const char *name, const char *value, const char *file,
		       uint32_t line, jos_err *err)
{
	return param_set(k, name, value, file, line, true, err);
}
