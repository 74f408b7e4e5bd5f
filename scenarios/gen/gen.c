/*
 * gen.c: a deterministic generator of national-scale DATA_DIRs for jos-settle
 * (`make bench`, tests/gen.sh). Usage:
 *
 *   build/gen OUT_DIR N [SEED] [--real FILE] [--schools S] [--region R]
 *
 * writes the six SPEC files into OUT_DIR with exactly N enrolment rows over the real 342
 * municipalities (FILE, default ../shared/data/real/gemeenten_nl_342.csv relative to the
 * current directory, i.e. the repo root under make): a region of R (40) municipalities
 * grown from one by neighbourship, S (default N/357, at most 7,000) schools spread over
 * the municipalities in proportion to their inhabitants, pupils mostly living in the
 * school's municipality or a neighbouring one plus a long tail of far residences, movers
 * (two back-to-back enrolments with different residences), school changers, leavers,
 * joiners and a few enrolments that ended before the period, categories weighed by the
 * keys, agreements with most outside municipalities that send pupils, two keys.
 *
 * Everything follows from SEED (splitmix64, no clock, no locale): the same arguments give
 * byte-identical files. Pupils are synthetic. Output goes through large buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/jos.h"

#define NMUNI_MAX 400
#define OBUF_SIZE (1u << 20)

/* ------------------------------------------------------------------ random numbers */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is far below what matters here). */
static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* ------------------------------------------------------------------ buffered output */

typedef struct {
	FILE *f;
	char *buf;
	size_t n;
	int failed;
} obuf;

static int obuf_open(obuf *o, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	o->n = 0;
	o->failed = 0;
	o->buf = malloc(OBUF_SIZE);
	o->f = fopen(path, "wb");
	if (!o->buf || !o->f) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		if (o->f)
			fclose(o->f);
		free(o->buf);
		o->f = NULL;
		o->buf = NULL;
		return -1;
	}
	return 0;
}

static void obuf_flush(obuf *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = 1;
	o->n = 0;
}

static inline void obuf_mem(obuf *o, const char *s, size_t n)
{
	if (o->n + n > OBUF_SIZE)
		obuf_flush(o);
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

static inline void obuf_str(obuf *o, const char *s)
{
	obuf_mem(o, s, strlen(s));
}

static inline void obuf_chr(obuf *o, char c)
{
	if (o->n + 1 > OBUF_SIZE)
		obuf_flush(o);
	o->buf[o->n++] = c;
}

static void obuf_printf(obuf *o, const char *fmt, ...) JOS_PRINTF(2, 3);
static void obuf_printf(obuf *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		obuf_mem(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A CSV field, quoted when it holds a separator, quote or line break. */
static void obuf_field(obuf *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		obuf_str(o, s);
		return;
	}
	obuf_chr(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			obuf_chr(o, '"');
		obuf_chr(o, *s);
	}
	obuf_chr(o, '"');
}

static int obuf_close(obuf *o, const char *name)
{
	int rc = 0;
	obuf_flush(o);
	if (fclose(o->f) != 0 || o->failed) {
		fprintf(stderr, "gen: writing %s failed\n", name);
		rc = -1;
	}
	free(o->buf);
	o->buf = NULL;
	o->f = NULL;
	return rc;
}

/* ------------------------------------------------------------------ municipalities */

typedef struct {
	char code[5];          /* 4 digits */
	char name[96];
	uint64_t pop;
	char nbr_names[1024];  /* ';'-separated, resolved into nbr[] */
	int nbr[24];
	uint64_t nbr_cum[24];  /* cumulative inhabitants of the neighbours */
	int nnbr;
	int in_region;
	int sends;             /* has a pupil living here */
	int nschools;
} muni;

static muni M[NMUNI_MAX];
static int nmuni;
static uint64_t pop_cum[NMUNI_MAX]; /* cumulative inhabitants, national */

/* Splits one CSV line (RFC 4180 quotes, no embedded newlines) into at most max fields,
 * in place. Returns the number of fields. */
static int csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *r = line, *w = line;
	while (n < max) {
		f[n++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					break;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
		}
		while (*r && *r != ',')
			*w++ = *r++;
		if (*r != ',') {
			*w = '\0';
			break;
		}
		r++;
		*w++ = '\0';
	}
	return n;
}

static int find_col(char **h, int nh, const char *name)
{
	for (int i = 0; i < nh; i++)
		if (strcmp(h[i], name) == 0)
			return i;
	return -1;
}

static int load_munis(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "gen: %s: %s (give the reference list with --real FILE)\n", path,
			strerror(errno));
		return -1;
	}
	char line[4096], hdr[4096];
	char *h[16], *fl[16];
	int nh = 0, ccode = -1, cname = -1, cpop = -1, cnbr = -1, lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lineno == 1) {
			memcpy(hdr, line, len + 1);
			nh = csv_split(hdr, h, 16);
			ccode = find_col(h, nh, "cbs_code");
			cname = find_col(h, nh, "gemeentenaam");
			cpop = find_col(h, nh, "inwoners");
			cnbr = find_col(h, nh, "buurgemeenten");
			if (ccode < 0 || cname < 0 || cpop < 0 || cnbr < 0) {
				fprintf(stderr, "gen: %s: expected columns cbs_code, gemeentenaam, "
					"inwoners, buurgemeenten\n", path);
				rc = -1;
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		int n = csv_split(line, fl, 16);
		if (n != nh || nmuni >= NMUNI_MAX || strlen(fl[ccode]) != 4 ||
		    strlen(fl[cname]) >= sizeof M[0].name ||
		    strlen(fl[cnbr]) >= sizeof M[0].nbr_names) {
			fprintf(stderr, "gen: %s:%d: unexpected row\n", path, lineno);
			rc = -1;
			break;
		}
		muni *m = &M[nmuni++];
		memset(m, 0, sizeof *m);
		memcpy(m->code, fl[ccode], 5);
		strcpy(m->name, fl[cname]);
		strcpy(m->nbr_names, fl[cnbr]);
		m->pop = strtoull(fl[cpop], NULL, 10);
		if (m->pop == 0)
			m->pop = 1;
	}
	fclose(f);
	if (rc == 0 && nmuni < 2) {
		fprintf(stderr, "gen: %s: no municipalities\n", path);
		rc = -1;
	}
	if (rc != 0)
		return rc;
	/* resolve neighbour names */
	for (int i = 0; i < nmuni; i++) {
		muni *m = &M[i];
		uint64_t cum = 0;
		for (char *p = m->nbr_names; *p;) {
			char *e = strchr(p, ';');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			for (int j = 0; j < nmuni; j++) {
				if (j != i && strlen(M[j].name) == len && memcmp(M[j].name, p, len) == 0 &&
				    m->nnbr < 24) {
					cum += M[j].pop;
					m->nbr[m->nnbr] = j;
					m->nbr_cum[m->nnbr++] = cum;
				}
			}
			p += len + (e ? 1 : 0);
		}
	}
	uint64_t cum = 0;
	for (int i = 0; i < nmuni; i++)
		pop_cum[i] = (cum += M[i].pop);
	return 0;
}

static int pick_national(void)
{
	uint64_t r = rng_below(pop_cum[nmuni - 1]);
	int lo = 0, hi = nmuni - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (pop_cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int pick_neighbour(int h)
{
	const muni *m = &M[h];
	if (m->nnbr == 0)
		return h;
	uint64_t r = rng_below(m->nbr_cum[m->nnbr - 1]);
	int k = 0;
	while (m->nbr_cum[k] <= r)
		k++;
	return m->nbr[k];
}

/* Grows the region by breadth-first search over neighbours from a seed municipality
 * drawn by population (islands or enclaves: draw another seed). */
static void make_region(int want)
{
	int queue[NMUNI_MAX], qh = 0, qt = 0, have = 0;
	if (want > nmuni)
		want = nmuni;
	while (have < want) {
		if (qh == qt) {
			int s = pick_national();
			if (M[s].in_region)
				continue;
			M[s].in_region = 1;
			have++;
			queue[qt++] = s;
			continue;
		}
		int c = queue[qh++];
		for (int k = 0; k < M[c].nnbr && have < want; k++) {
			int j = M[c].nbr[k];
			if (!M[j].in_region) {
				M[j].in_region = 1;
				have++;
				queue[qt++] = j;
			}
		}
	}
}

/* ------------------------------------------------------------------ schools */

enum { T_PO, T_SBO, T_SO, T_VSO, T_SOVSO, T_PRO, T_VO, NTYPES };
static const char *const type_name[NTYPES] = { "PO", "SBO", "SO", "VSO", "SO/VSO", "PRO", "VO" };
/* share of schools per mille, relative size, euros per pupil-year of the budget, tariff */
static const int type_pm[NTYPES] = { 800, 30, 25, 25, 10, 10, 100 };
static const int type_size[NTYPES] = { 10, 6, 5, 6, 6, 12, 40 };
static const int type_rate[NTYPES] = { 180, 520, 840, 790, 1080, 390, 140 };
static const char *const type_tariff[NTYPES] = { "175.00", "550.00", "850.00", "800.00",
						 "1100.00", "390.00", "125.00" };

typedef struct {
	char id[8];     /* BRIN-like: 2 digits, 2 letters, 2-digit location */
	int muni;
	int type;
	uint64_t cumw;  /* cumulative size weight: pupils are spread in proportion */
	uint64_t rows;  /* enrolment rows written */
} school;

static school *S;
static int nschools;

static void make_schools(int n)
{
	/* school k sits at cumulative-population position (k + 1/2) / n: municipalities get
	 * schools in proportion to their inhabitants */
	uint64_t total = pop_cum[nmuni - 1], cum = 0;
	int m = 0;
	nschools = n;
	for (int k = 0; k < n; k++) {
		school *s = &S[k];
		uint64_t pos = (uint64_t)(((jos_u128)total * (uint64_t)(2 * k + 1)) /
					  (uint64_t)(2 * n));
		while (pop_cum[m] <= pos)
			m++;
		s->muni = m;
		M[m].nschools++;
		int hi = (k / 676) % 100, loc = (k / 67600) % 100;
		s->id[0] = (char)('0' + hi / 10);
		s->id[1] = (char)('0' + hi % 10);
		s->id[2] = (char)('A' + (k / 26) % 26);
		s->id[3] = (char)('A' + k % 26);
		s->id[4] = (char)('0' + loc / 10);
		s->id[5] = (char)('0' + loc % 10);
		s->id[6] = '\0';
		uint64_t r = rng_below(1000), acc = 0;
		int t = 0;
		for (t = 0; t < NTYPES - 1; t++) {
			acc += (uint64_t)type_pm[t];
			if (r < acc)
				break;
		}
		s->type = t;
		/* sizes vary by a factor 0.5 .. 1.5 */
		cum += (uint64_t)type_size[t] * (50 + rng_below(101));
		s->cumw = cum;
	}
}

/* ------------------------------------------------------------------ enrolments */

typedef struct {
	jos_day first, last;  /* range of precomputed date strings */
	char (*str)[10];
} datetab;

static datetab DT;

static void dates_init(void)
{
	DT.first = jos_day_from_ymd(2010, 1, 1);
	DT.last = jos_day_from_ymd(2027, 12, 31);
	DT.str = malloc((size_t)(DT.last - DT.first + 1) * sizeof *DT.str);
	if (!DT.str)
		return;
	for (jos_day d = DT.first; d <= DT.last; d++) {
		char b[11];
		jos_day_format(b, d);
		memcpy(DT.str[d - DT.first], b, 10);
	}
}

static inline void put_date(obuf *o, jos_day d)
{
	obuf_mem(o, DT.str[d - DT.first], 10);
}

static const char *const cats[] = { "", "intensief", "lwoo", "basis" };

typedef struct {
	jos_day p_start, p_end, count;
	jos_day sy_start[8];   /* school-year starts 2018 .. 2025 */
	uint64_t next_pupil;
	uint64_t rows, movers, changers, leavers, joiners, before;
} genstate;

/* Pupil ids: a bijection of the counter on 32 bits, so they look random and never clash. */
static void put_pupil(obuf *o, uint64_t k)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t x = (uint32_t)k + 0x9E3779B9U;  /* + a constant: id 0 is not p00000000 */
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	char b[9];
	b[0] = 'p';
	for (int i = 0; i < 8; i++)
		b[1 + i] = hex[(x >> (28 - 4 * i)) & 15];
	obuf_mem(o, b, 9);
}

static int draw_residence(const school *s)
{
	int special = s->type == T_SO || s->type == T_VSO || s->type == T_SOVSO;
	uint64_t r = rng_below(1000);
	int h = s->muni, res;
	if (r < (special ? 450u : 720u))
		res = h;
	else if (r < (special ? 850u : 955u))
		res = pick_neighbour(h);
	else if (r < (special ? 930u : 985u))
		res = pick_neighbour(pick_neighbour(h));  /* two steps away */
	else
		res = pick_national();                     /* the long tail */
	M[res].sends = 1;
	return res;
}

static void put_row(obuf *o, uint64_t pupil, const school *s, int res, jos_day start,
		    jos_day end, int cat)
{
	put_pupil(o, pupil);
	obuf_chr(o, ',');
	obuf_mem(o, s->id, 6);
	obuf_chr(o, ',');
	obuf_mem(o, M[res].code, 4);
	obuf_chr(o, ',');
	put_date(o, start);
	obuf_chr(o, ',');
	if (end != JOS_DAY_OPEN)
		put_date(o, end);
	obuf_chr(o, ',');
	obuf_str(o, cats[cat]);
	obuf_chr(o, '\n');
}

static jos_day rand_day(jos_day lo, jos_day hi)
{
	return lo + (jos_day)rng_below((uint64_t)(hi - lo + 1));
}

static int draw_cat(const school *s)
{
	uint64_t r = rng_below(100);
	if (r < 10)
		return 1;                             /* intensief */
	if (s->type == T_VO && r < 25)
		return 2;                             /* lwoo */
	if (r < 40)
		return 3;                             /* basis */
	return 0;
}

/* A start date before the count date: mostly a school-year start. */
static jos_day draw_start(genstate *g)
{
	if (rng_below(10) < 8)
		return g->sy_start[rng_below(8)] + (jos_day)rng_below(10);
	return rand_day(g->sy_start[0], g->count - 1);
}

static void gen_enrolments(obuf *o, genstate *g, uint64_t n)
{
	uint64_t total_w = S[nschools - 1].cumw;
	for (int si = 0; si < nschools; si++) {
		school *s = &S[si];
		uint64_t target = (uint64_t)(((jos_u128)n * s->cumw) / total_w);
		while (g->rows < target) {
			uint64_t left = target - g->rows, r = rng_below(1000);
			uint64_t pupil = g->next_pupil++;
			int res = draw_residence(s), cat = draw_cat(s);
			jos_day start = draw_start(g);
			if (r < 40 && left >= 2) {
				/* mover: a new residence from a day inside the period */
				jos_day lo = start + 1 > g->p_start + 31 ? start + 1 : g->p_start + 31;
				jos_day move = rand_day(lo, g->p_end - 31);
				int res2 = rng_below(3) ? pick_neighbour(res) : draw_residence(s);
				M[res2].sends = 1;
				put_row(o, pupil, s, res, start, move - 1, cat);
				put_row(o, pupil, s, res2, move, JOS_DAY_OPEN, cat);
				g->rows += 2;
				g->movers++;
			} else if (r < 46 && left >= 2 && nschools > 1) {
				/* school changer: the next school in the list, same residence */
				const school *s2 = &S[(si + 1) % nschools];
				jos_day lo = start + 1 > g->p_start + 60 ? start + 1 : g->p_start + 60;
				jos_day move = rand_day(lo, g->p_end - 60);
				put_row(o, pupil, s, res, start, move - 1, cat);
				put_row(o, pupil, s2, res, move, JOS_DAY_OPEN, draw_cat(s2));
				g->rows += 2;
				g->changers++;
			} else {
				jos_day end = JOS_DAY_OPEN;
				if (r < 150) {            /* leaver */
					end = rand_day(g->p_start + 1, g->p_end - 1);
					if (end < start)
						end = start;
					g->leavers++;
				} else if (r < 200) {     /* joiner */
					start = rand_day(g->p_start + 1, g->p_end - 30);
					g->joiners++;
				} else if (r < 205) {     /* left before the period: d_e = 0 */
					start = g->sy_start[rng_below(7)];
					end = rand_day(start, g->p_start - 1);
					g->before++;
				} else if (r < 300) {     /* leaves at the end of the school year */
					end = g->p_end - 14;
				}
				put_row(o, pupil, s, res, start, end, cat);
				g->rows += 1;
			}
		}
	}
}

/* ------------------------------------------------------------------ the other files */

static int write_settlement(const char *dir, const char *region_name,
			    const char *region_code)
{
	obuf o;
	if (obuf_open(&o, dir, "settlement.ini") != 0)
		return -1;
	obuf_printf(&o,
		    "; generated by scenarios/gen (synthetic pupils)\n"
		    "[settlement]\n"
		    "name = JOS national benchmark, region around %s\n"
		    "issuer = Region around %s (generated)\n"
		    "issuer_id = %s\n"
		    "period_start = 2025-08-01\n"
		    "period_end = 2026-07-31\n"
		    "statement_date = 2026-09-15\n"
		    "measure = days\n"
		    "default_key = standard\n"
		    "iban = NL00BANK0123456789\n"
		    "payment_days = 30\n"
		    "\n[key standard]\n"
		    "method = prorata\n"
		    "min_pupils = 3\n"
		    "weight.intensief = 1.5\n"
		    "weight.lwoo = 1.25\n"
		    "\n[key tarief]\n"
		    "method = tariff\n"
		    "min_pupils = 1\n"
		    "cap = 250000.00\n",
		    region_name, region_name, region_code);
	for (int t = 0; t < NTYPES; t++)
		obuf_printf(&o, "tariff.%s = %s\n", type_name[t], type_tariff[t]);
	return obuf_close(&o, "settlement.ini");
}

static int write_municipalities(const char *dir)
{
	obuf o;
	if (obuf_open(&o, dir, "municipalities.csv") != 0)
		return -1;
	obuf_str(&o, "code,name,in_region,inhabitants\n");
	for (int i = 0; i < nmuni; i++) {
		obuf_mem(&o, M[i].code, 4);
		obuf_chr(&o, ',');
		obuf_field(&o, M[i].name);
		obuf_printf(&o, ",%s,%llu\n", M[i].in_region ? "yes" : "no",
			    (unsigned long long)M[i].pop);
	}
	return obuf_close(&o, "municipalities.csv");
}

static int write_schools_costs(const char *dir)
{
	obuf o, c;
	if (obuf_open(&o, dir, "schools.csv") != 0)
		return -1;
	if (obuf_open(&c, dir, "costs.csv") != 0) {
		obuf_close(&o, "schools.csv");
		return -1;
	}
	static const char *const providers[] = { "Jeugdhulp Noord", "Jeugdhulp Oost",
						 "Jeugdhulp Zuid", "Jeugdhulp West",
						 "Wijkteam op School" };
	obuf_str(&o, "school_id,name,municipality_code,type,provider\n");
	obuf_str(&c, "school_id,budget,cofinancing\n");
	for (int k = 0; k < nschools; k++) {
		const school *s = &S[k];
		const muni *m = &M[s->muni];
		obuf_printf(&o, "%s,", s->id);
		char name[160];
		snprintf(name, sizeof name, "%s %s %d", type_name[s->type], m->name, k + 1);
		obuf_field(&o, name);
		obuf_printf(&o, ",%s,%s,%s\n", m->code, type_name[s->type],
			    providers[(unsigned)k % 5]);
		/* budget: pupils x a rate per type, plus a base; some co-financing */
		uint64_t cents = (s->rows + 1) * (uint64_t)type_rate[s->type] * 100 +
				 500000 + rng_below(2000000);
		uint64_t cof = rng_below(10) == 0 ? cents * (5 + rng_below(20)) / 100 : 0;
		obuf_printf(&c, "%s,%llu.%02llu,", s->id, (unsigned long long)(cents / 100),
			    (unsigned long long)(cents % 100));
		if (cof)
			obuf_printf(&c, "%llu.%02llu", (unsigned long long)(cof / 100),
				    (unsigned long long)(cof % 100));
		obuf_chr(&c, '\n');
	}
	int rc = obuf_close(&o, "schools.csv");
	if (obuf_close(&c, "costs.csv") != 0)
		rc = -1;
	return rc;
}

static int write_agreements(const char *dir, int *nagree)
{
	obuf o;
	if (obuf_open(&o, dir, "agreements.csv") != 0)
		return -1;
	obuf_str(&o, "municipality_code,key,reference\n");
	*nagree = 0;
	for (int i = 0; i < nmuni; i++) {
		if (M[i].in_region || !M[i].sends)
			continue;
		uint64_t r = rng_below(100);
		if (r < 4)
			continue;                       /* no agreement (yet) */
		obuf_mem(&o, M[i].code, 4);
		obuf_str(&o, r < 80 ? ",standard," : ",tarief,");
		if (r % 10 != 0)
			obuf_printf(&o, "GEN-2025-%s", M[i].code);
		obuf_chr(&o, '\n');
		(*nagree)++;
	}
	return obuf_close(&o, "agreements.csv");
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
	fputs("usage: gen OUT_DIR N [SEED] [--real FILE] [--schools S] [--region R]\n"
	      "  writes a valid jos-settle DATA_DIR with exactly N enrolment rows\n"
	      "  --real FILE   municipalities (default ../shared/data/real/gemeenten_nl_342.csv)\n"
	      "  --schools S   number of schools (default N/357, between 10 and 7000)\n"
	      "  --region R    municipalities in the region (default 40)\n",
	      stderr);
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!jos_isdigit(*s) || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *real = "../shared/data/real/gemeenten_nl_342.csv";
	const char *pos[3] = { NULL, NULL, NULL };
	uint64_t n = 0, seed = 1, want_schools = 0, region = 40;
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		}
		if (strcmp(argv[i], "--real") == 0 && i + 1 < argc) {
			real = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--schools") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], &want_schools) != 0)
				return usage();
			continue;
		}
		if (strcmp(argv[i], "--region") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], &region) != 0)
				return usage();
			continue;
		}
		if (argv[i][0] == '-' || npos == 3)
			return usage();
		pos[npos++] = argv[i];
	}
	if (npos < 2 || parse_u64(pos[1], &n) != 0 || n == 0 || n > 100000000 ||
	    (pos[2] && parse_u64(pos[2], &seed) != 0) || region == 0 || region > NMUNI_MAX ||
	    want_schools > 67600 * 100)
		return usage();
	const char *dir = pos[0];
	rng_state = seed * 0x2545F4914F6CDD1Dull + 0x1234567ull;
	if (load_munis(real) != 0)
		return 2;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	make_region((int)(region < (uint64_t)nmuni ? region : (uint64_t)nmuni));
	int ns = (int)(want_schools ? want_schools : n / 357);
	if (!want_schools)
		ns = ns < 10 ? 10 : ns > 7000 ? 7000 : ns;
	S = calloc((size_t)ns, sizeof *S);
	dates_init();
	if (!S || !DT.str) {
		fputs("gen: out of memory\n", stderr);
		return 2;
	}
	make_schools(ns);

	genstate g;
	memset(&g, 0, sizeof g);
	g.p_start = jos_day_from_ymd(2025, 8, 1);
	g.p_end = jos_day_from_ymd(2026, 7, 31);
	g.count = jos_day_from_ymd(2025, 10, 1);
	for (int y = 0; y < 8; y++)
		g.sy_start[y] = jos_day_from_ymd(2018 + y, 8, 18);

	int rc = 0, nagree = 0, nin = 0, nsend = 0;
	obuf e;
	if (obuf_open(&e, dir, "enrolments.csv") != 0)
		return 2;
	obuf_str(&e, "pupil_id,school_id,residence_code,start_date,end_date,category\n");
	gen_enrolments(&e, &g, n);
	if (obuf_close(&e, "enrolments.csv") != 0)
		rc = 2;
	{	/* each school's quota of rows, for its budget */
		uint64_t prev = 0, total_w = S[nschools - 1].cumw;
		for (int k = 0; k < nschools; k++) {
			uint64_t t = (uint64_t)(((jos_u128)n * S[k].cumw) / total_w);
			S[k].rows = t - prev;
			prev = t;
		}
	}
	const char *region_name = "", *region_code = "";
	uint64_t best = 0;
	for (int i = 0; i < nmuni; i++) {
		if (M[i].in_region) {
			nin++;
			if (M[i].pop > best) {
				best = M[i].pop;
				region_name = M[i].name;
				region_code = M[i].code;
			}
		} else if (M[i].sends) {
			nsend++;
		}
	}
	if (rc == 0 && (write_settlement(dir, region_name, region_code) != 0 || write_municipalities(dir) != 0 ||
			write_schools_costs(dir) != 0 || write_agreements(dir, &nagree) != 0))
		rc = 2;
	fprintf(stderr,
		"gen: %s: %llu enrolments (%llu pupils; movers %llu, school changers %llu, leavers %llu, "
		"joiners %llu, ended before the period %llu), %d schools, region of %d around %s, "
		"%d outside municipalities with pupils, %d agreements\n",
		dir, (unsigned long long)g.rows, (unsigned long long)g.next_pupil,
		(unsigned long long)g.movers, (unsigned long long)g.changers,
		(unsigned long long)g.leavers, (unsigned long long)g.joiners,
		(unsigned long long)g.before, nschools, nin, region_name, nsend, nagree);
	free(S);
	free(DT.str);
	return rc;
}
