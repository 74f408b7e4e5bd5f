/*
 * settings.c: settlement.ini into ds->set and ds->keys (SPEC "settlement.ini" and
 * "Acceptance"). The INI syntax is formats/ini.c's; this file knows the sections and
 * options: [settlement] with its fixed options and [key ID] sections whose options go
 * to key_param_set. Every unknown section or option, every duplicate and every missing
 * required option is an error at its line: a misspelt `discont` must never silently
 * change money. count_date inside the period, default_key and tariffs are checked by
 * eng_dataset_validate, which sees the whole dataset.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <string.h>

#define SETTINGS_FILE "settlement.ini"

/* [settlement] options, in the order "missing" problems are reported. */
enum {
	OPT_NAME, OPT_ISSUER, OPT_ISSUER_ID, OPT_PERIOD_START, OPT_PERIOD_END,
	OPT_STATEMENT_DATE, OPT_MEASURE, OPT_COUNT_DATE, OPT_DEFAULT_KEY, OPT_IBAN,
	OPT_PAYMENT_DAYS, NOPTS
};

static const struct {
	const char *name;
	bool required;
} settlement_opts[NOPTS] = {
	{ "name", true },         { "issuer", true },         { "issuer_id", true },
	{ "period_start", true }, { "period_end", true },     { "statement_date", true },
	{ "measure", true },      { "count_date", false },    { "default_key", true },
	{ "iban", false },        { "payment_days", false },
};

/* An option already given in a key section: normalised name (lower case, the part
 * after weight./tariff. trimmed) and its line, to report duplicates. */
typedef struct {
	size_t key;
	char *name;
	uint32_t line;
} seen_opt;

typedef enum { SEC_NONE, SEC_SETTLEMENT, SEC_KEY, SEC_SKIP } sec_kind;

typedef struct {
	jos_dataset *ds;
	const char *file;
	sec_kind sec;
	size_t key;                  /* current key when sec == SEC_KEY */
	uint32_t opt_line[NOPTS];    /* line where each [settlement] option was given */
	bool bad[NOPTS];             /* its value was rejected */
	seen_opt *seen;
	size_t nseen, capseen;
	int fatal;                   /* JOS_ENOMEM */
} settings_ctx;

static void add(settings_ctx *c, jos_errlist *errs, uint32_t line, const char *fmt, ...)
	JOS_PRINTF(4, 5);

static void add(settings_ctx *c, jos_errlist *errs, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jos_errlist_vadd(errs, JOS_SEV_ERROR, c->file, line, fmt, ap);
	va_end(ap);
}

/* "key standard" -> id "standard"; returns false when the header is not a key header.
 * *id is NULL/0 when the word is `key` but the id is missing. */
static bool key_header(const char *sec, const char **id, size_t *idn)
{
	size_t n = strlen(sec);
	if (n < 3 || jos_strncasecmp(sec, "key", 3) != 0 || (n > 3 && !jos_isblank(sec[3])))
		return false;
	*id = sec + 3;
	*idn = n - 3;
	jos_trim(id, idn);
	return true;
}

static bool has_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (jos_isblank(s[i]))
			return true;
	return false;
}

static int on_section(settings_ctx *c, const char *sec, uint32_t line, jos_errlist *errs)
{
	jos_dataset *ds = c->ds;
	const char *id;
	size_t idn;

	c->sec = SEC_SKIP;
	if (jos_strcasecmp(sec, "settlement") == 0) {
		if (ds->settings_line) {
			add(c, errs, line, "duplicate section [settlement] (also at line %u)",
			    (unsigned)ds->settings_line);
			return JOS_OK;
		}
		ds->settings_line = line;
		c->sec = SEC_SETTLEMENT;
		return JOS_OK;
	}
	if (!key_header(sec, &id, &idn)) {
		add(c, errs, line, "unknown section [%s]: expected [settlement] or [key ID]", sec);
		return JOS_OK;
	}
	if (idn == 0) {
		add(c, errs, line, "section [%s] has no key id: write [key ID]", sec);
		return JOS_OK;
	}
	if (has_blank(id, idn)) {
		add(c, errs, line, "key id '%.*s' contains a space", (int)idn, id);
		return JOS_OK;
	}
	for (size_t i = 0; i < ds->nkeys; i++) {
		if (strlen(ds->keys[i].id) == idn && memcmp(ds->keys[i].id, id, idn) == 0) {
			add(c, errs, line, "duplicate section [key %.*s] (also at line %u)", (int)idn,
			    id, (unsigned)ds->keys[i].line);
			return JOS_OK;
		}
	}
	jos_key *nk = realloc(ds->keys, (ds->nkeys + 1) * sizeof *ds->keys);
	if (!nk)
		return c->fatal = JOS_ENOMEM;
	ds->keys = nk;
	char idbuf[256];
	if (idn >= sizeof idbuf) {
		add(c, errs, line, "key id is longer than %zu characters", sizeof idbuf - 1);
		return JOS_OK;
	}
	memcpy(idbuf, id, idn);
	idbuf[idn] = '\0';
	if (key_init(&ds->keys[ds->nkeys], idbuf) != JOS_OK)
		return c->fatal = JOS_ENOMEM;
	ds->keys[ds->nkeys].line = line;
	c->key = ds->nkeys++;
	c->sec = SEC_KEY;
	return JOS_OK;
}

static const char *dup_value(settings_ctx *c, const char *v)
{
	const char *p = jos_arena_strdup(c->ds->arena, v);
	if (!p)
		c->fatal = JOS_ENOMEM;
	return p;
}

static void set_date(settings_ctx *c, int o, jos_day *out, const char *value, uint32_t line,
		     jos_errlist *errs)
{
	char why[JOS_WHY_MAX];
	if (fmt_parse_date(out, value, strlen(value), why) != JOS_OK) {
		c->bad[o] = true;
		add(c, errs, line, "%s '%s': %s", settlement_opts[o].name, value, why);
	}
}

static void on_settlement_option(settings_ctx *c, const char *name, const char *value,
				 uint32_t line, jos_errlist *errs)
{
	jos_settings *s = &c->ds->set;
	char why[JOS_WHY_MAX];
	int o;

	for (o = 0; o < NOPTS; o++)
		if (jos_strcasecmp(name, settlement_opts[o].name) == 0)
			break;
	if (o == NOPTS) {
		add(c, errs, line, "unknown option '%s' in [settlement]", name);
		return;
	}
	if (c->opt_line[o]) {
		add(c, errs, line, "duplicate option '%s' (also at line %u)", settlement_opts[o].name,
		    (unsigned)c->opt_line[o]);
		return;
	}
	c->opt_line[o] = line;
	bool empty = value[0] == '\0';
	if (empty && o != OPT_IBAN && o != OPT_PAYMENT_DAYS) {
		c->bad[o] = true;
		add(c, errs, line, "%s is empty", settlement_opts[o].name);
		return;
	}
	switch (o) {
	case OPT_NAME:
		s->name = dup_value(c, value);
		break;
	case OPT_ISSUER:
		s->issuer = dup_value(c, value);
		break;
	case OPT_ISSUER_ID:
		s->issuer_id = dup_value(c, value);
		break;
	case OPT_PERIOD_START:
		s->line_period = line;
		set_date(c, OPT_PERIOD_START, &s->period_start, value, line, errs);
		break;
	case OPT_PERIOD_END:
		set_date(c, OPT_PERIOD_END, &s->period_end, value, line, errs);
		break;
	case OPT_STATEMENT_DATE:
		set_date(c, OPT_STATEMENT_DATE, &s->statement_date, value, line, errs);
		break;
	case OPT_MEASURE:
		if (jos_strcasecmp(value, "days") == 0)
			s->measure = JOS_MEASURE_DAYS;
		else if (jos_strcasecmp(value, "headcount") == 0)
			s->measure = JOS_MEASURE_HEADCOUNT;
		else {
			c->bad[o] = true;
			add(c, errs, line, "measure '%s': use days or headcount", value);
		}
		break;
	case OPT_COUNT_DATE:
		s->line_count_date = line;
		set_date(c, OPT_COUNT_DATE, &s->count_date, value, line, errs);
		break;
	case OPT_DEFAULT_KEY:
		s->line_default_key = line;
		s->default_key = dup_value(c, value);
		break;
	case OPT_IBAN:
		if (!empty)
			s->iban = dup_value(c, value);
		break;
	case OPT_PAYMENT_DAYS:
		if (!empty && fmt_parse_count(&s->payment_days, value, strlen(value), why) != JOS_OK) {
			s->payment_days = -1;
			add(c, errs, line, "payment_days '%s': %s", value, why);
		}
		break;
	}
}

/* weight.X / tariff.X compare on X lower-cased and trimmed; others on the name. */
static char *norm_option(const char *name)
{
	size_t n = strlen(name), pre = 0;
	const char *rest;
	if (n >= 7 && (jos_strncasecmp(name, "weight.", 7) == 0 ||
		       jos_strncasecmp(name, "tariff.", 7) == 0))
		pre = 7;
	rest = name + pre;
	size_t rn = n - pre;
	jos_trim(&rest, &rn);
	char *out = malloc(pre + rn + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < pre; i++)
		out[i] = jos_lower(name[i]);
	for (size_t i = 0; i < rn; i++)
		out[pre + i] = jos_lower(rest[i]);
	out[pre + rn] = '\0';
	return out;
}

static void on_key_option(settings_ctx *c, const char *name, const char *value, uint32_t line,
			  jos_errlist *errs)
{
	jos_key *k = &c->ds->keys[c->key];
	char *norm = norm_option(name);
	jos_err err;

	if (!norm) {
		c->fatal = JOS_ENOMEM;
		return;
	}
	for (size_t i = 0; i < c->nseen; i++) {
		if (c->seen[i].key == c->key && strcmp(c->seen[i].name, norm) == 0) {
			add(c, errs, line, "duplicate option '%s' (also at line %u)", name,
			    (unsigned)c->seen[i].line);
			free(norm);
			return;
		}
	}
	if (jos_grow((void **)&c->seen, &c->capseen, c->nseen + 1, sizeof *c->seen) != JOS_OK) {
		free(norm);
		c->fatal = JOS_ENOMEM;
		return;
	}
	c->seen[c->nseen++] = (seen_opt){ c->key, norm, line };
	jos_err_clear(&err);
	int rc = key_param_set(k, name, value, c->file, line, &err);
	if (rc == JOS_ENOMEM)
		c->fatal = JOS_ENOMEM;
	else if (rc != JOS_OK)
		add(c, errs, line, "%s", err.msg);
}

static int on_line(void *ctx, const char *section, const char *name, const char *value,
		   uint32_t line, jos_errlist *errs)
{
	settings_ctx *c = ctx;
	if (c->fatal)
		return c->fatal;
	if (!name)
		return on_section(c, section ? section : "", line, errs);
	if (!value)
		value = "";
	switch (c->sec) {
	case SEC_NONE:
		add(c, errs, line, "option '%s' is outside a section: put it under [settlement] "
				   "or [key ID]", name);
		break;
	case SEC_SETTLEMENT:
		on_settlement_option(c, name, value, line, errs);
		break;
	case SEC_KEY:
		on_key_option(c, name, value, line, errs);
		break;
	case SEC_SKIP:   /* the section itself was reported */
		break;
	}
	return c->fatal;
}

/* Rules that need the whole file: required options, period order, method per key. */
static void finish(settings_ctx *c, jos_errlist *errs)
{
	jos_dataset *ds = c->ds;
	jos_settings *s = &ds->set;
	char a[16], b[16];

	if (!ds->settings_line) {
		add(c, errs, 0, "missing section [settlement]");
	} else {
		for (int o = 0; o < NOPTS; o++)
			if (settlement_opts[o].required && !c->opt_line[o])
				add(c, errs, ds->settings_line, "missing option '%s' in [settlement]",
				    settlement_opts[o].name);
		if (s->measure == JOS_MEASURE_HEADCOUNT && !c->opt_line[OPT_COUNT_DATE])
			add(c, errs, ds->settings_line,
			    "missing option 'count_date' in [settlement] (required when measure = "
			    "headcount)");
		bool period_ok = c->opt_line[OPT_PERIOD_START] && c->opt_line[OPT_PERIOD_END] &&
				 !c->bad[OPT_PERIOD_START] && !c->bad[OPT_PERIOD_END];
		if (period_ok && s->period_start > s->period_end) {
			period_ok = false;
			jos_day_format(a, s->period_end);
			jos_day_format(b, s->period_start);
			add(c, errs, c->opt_line[OPT_PERIOD_END],
			    "period_end %s is before period_start %s", a, b);
		}
		/* the validator checks count_date against the period only when both are sound */
		if (!period_ok)
			s->line_period = 0;
		if (c->bad[OPT_COUNT_DATE])
			s->line_count_date = 0;
	}
	if (s->default_key)
		s->default_key_idx = eng_key_find(ds, s->default_key);
	for (size_t i = 0; i < ds->nkeys; i++)
		if (!ds->keys[i].has_method)
			add(c, errs, ds->keys[i].line, "missing option 'method' in [key %s]",
			    ds->keys[i].id);
}

int fmt_settings_load(jos_dataset *ds, const char *path, jos_errlist *errs)
{
	settings_ctx c;
	size_t before = errs->nerrors;
	const char *base = strrchr(path, '/');

	memset(&c, 0, sizeof c);
	c.ds = ds;
	c.file = base ? base + 1 : path;
	c.sec = SEC_NONE;
	int rc = fmt_ini_parse_file(path, c.file, on_line, &c, errs);
	if (c.fatal)
		rc = c.fatal;
	if (rc == JOS_OK || rc == JOS_EINVALID) {
		finish(&c, errs);
		rc = errs->nerrors > before ? JOS_EINVALID : JOS_OK;
	}
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].name);
	free(c.seen);
	return rc;
}
