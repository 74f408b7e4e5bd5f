/*
 * cmd_check.c: `jos-settle check DATA_DIR`: loads and validates the data, prints a
 * short summary to stdout and every problem to stderr (FILE:LINE: message, capped).
 * Exit 0 when valid (warnings allowed), 1 when the data is invalid, 2 on usage or I/O
 * errors.
 */
#include "engine/cli.h"
#include "formats/formats.h"

#include <stdlib.h>
#include <string.h>

#define CHECK_SHOW 100   /* problems printed; the rest are counted */

static const cli_opt opts[] = { { NULL, NULL, NULL } };

const cli_cmd cli_cmd_check = {
	"check", "DATA_DIR",
	"Validate the input files of DATA_DIR, print a summary and every problem\n"
	"(as FILE:LINE: message). Exit 0 when valid, 1 when the data is invalid.",
	opts, cmd_check
};

/* Distinct pupils living inside / outside the region (a pupil who moved can be both). */
static int count_pupils(const jos_dataset *ds, size_t *in, size_t *out)
{
	unsigned char *seen = calloc(ds->npupils ? ds->npupils : 1, 1);
	*in = *out = 0;
	if (!seen)
		return JOS_ENOMEM;
	for (size_t i = 0; i < ds->nenrol; i++) {
		const jos_enrolment *e = &ds->enrol[i];
		unsigned char bit = ds->munis[e->residence].in_region ? 1 : 2;
		if (e->pupil < ds->npupils && !(seen[e->pupil] & bit)) {
			seen[e->pupil] |= bit;
			if (bit == 1)
				(*in)++;
			else
				(*out)++;
		}
	}
	free(seen);
	return JOS_OK;
}

static void print_summary(FILE *f, const char *dir, const jos_dataset *ds)
{
	size_t nin = 0, pin = 0, pout = 0;
	jos_i128 budget = 0, cofin = 0;
	char b1[JOS_FMT_BUF], b2[JOS_FMT_BUF], b3[JOS_FMT_BUF];

	for (size_t i = 0; i < ds->nmunis; i++)
		nin += ds->munis[i].in_region;
	for (size_t i = 0; i < ds->nschools; i++) {
		budget += ds->schools[i].budget;
		cofin += ds->schools[i].cofinancing;
	}
	fprintf(f, "data:           %s\n", dir);
	if (ds->set.name)
		fprintf(f, "settlement:     %s\n", ds->set.name);
	fprintf(f, "municipalities: %zu (%zu inside the region, %zu outside)\n", ds->nmunis, nin,
		ds->nmunis - nin);
	fprintf(f, "schools:        %zu\n", ds->nschools);
	fprintf(f, "enrolments:     %zu\n", ds->nenrol);
	if (count_pupils(ds, &pin, &pout) == JOS_OK)
		fprintf(f, "pupils:         %u (%zu living inside the region, %zu outside)\n",
			(unsigned)ds->npupils, pin, pout);
	fprintf(f, "budget:         %s euros\n", jos_ratio_format(b1, budget, 100, 2));
	fprintf(f, "cofinancing:    %s euros\n", jos_ratio_format(b2, cofin, 100, 2));
	fprintf(f, "net cost:       %s euros\n", jos_ratio_format(b3, budget - cofin, 100, 2));
	fprintf(f, "agreements:     %zu\n", ds->nagreements);
	fprintf(f, "keys:          ");
	for (size_t k = 0; k < ds->nkeys; k++)
		fprintf(f, " %s (%s)", ds->keys[k].id,
			ds->keys[k].has_method ? key_method_name(ds->keys[k].method) : "?");
	fputc('\n', f);
}

int cmd_check(int argc, char **argv)
{
	cli_args args;
	jos_errlist errs;
	jos_dataset *ds = NULL;
	int rc = cli_parse(&args, &cli_cmd_check, argc, argv);
	if (rc != JOS_OK)
		return rc;
	if (args.help) {
		cli_help(stdout, &cli_cmd_check);
		cli_args_free(&args);
		return JOS_OK;
	}
	if (args.npos != 1) {
		rc = cli_usage_error(&cli_cmd_check, args.npos == 0 ? "check: missing DATA_DIR"
								    : "check: too many arguments");
		cli_args_free(&args);
		return rc;
	}
	const char *dir = args.pos[0];
	jos_errlist_init(&errs);
	cli_keep_memory();
	fmt_phase("start");
	rc = fmt_dataset_load(&ds, dir, &errs);
	if (ds)
		print_summary(stdout, dir, ds);
	if (rc == JOS_OK || rc == JOS_EINVALID)
		printf("result:         %s (%zu error%s, %zu warning%s)\n",
		       rc == JOS_OK ? "valid" : "INVALID", errs.nerrors,
		       errs.nerrors == 1 ? "" : "s", errs.nwarnings, errs.nwarnings == 1 ? "" : "s");
	fflush(stdout);
	cli_print_problems(stderr, &errs, CHECK_SHOW);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
	cli_args_free(&args);
	return rc;
}
