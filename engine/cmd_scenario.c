/*
 * cmd_scenario.c: `jos-settle scenario DATA_DIR SCENARIO.ini -o REPORT.{csv,md,html,xlsx}`
 * (SPEC "Scenarios"): loads the data and the scenario file, runs every variant and
 * sweep value on the same measures (scenarios/runner.c) and writes the report whole
 * or not at all, in the format its extension names.
 *
 * Exit status: 2 for a usage error (also an unknown report extension, found before
 * any data is read) or an I/O error; 1 when the data or the scenario is invalid,
 * with every problem printed as FILE:LINE: message.
 */
#include "engine/cli.h"

#include "formats/formats.h"
#include "scenarios/scenarios.h"

enum { OPT_OUTPUT = 0 };

static const cli_opt opts[] = {
	{ "--output", "REPORT", "the report (-o); its extension chooses the format: .csv, .md, "
				".html or .xlsx" },
	{ NULL, NULL, NULL },
};

const cli_cmd cli_cmd_scenario = {
	"scenario", "DATA_DIR SCENARIO.ini -o REPORT.{csv,md,html,xlsx}",
	"compare contribution keys side by side for negotiators (nothing is signed)", opts,
	cmd_scenario
};

#define PROBLEM_LIMIT 200

int cmd_scenario(int argc, char **argv)
{
	cli_args a;
	jos_errlist errs;
	jos_err err;
	jos_dataset *ds = NULL;
	scn_scenario *sc = NULL;
	scn_result *res = NULL;
	int rc = cli_parse(&a, &cli_cmd_scenario, argc, argv);

	if (rc != JOS_OK)
		return rc;
	jos_errlist_init(&errs);
	jos_err_clear(&err);
	if (a.help) {
		cli_help(stdout, &cli_cmd_scenario);
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error(&cli_cmd_scenario, "scenario: expected DATA_DIR and SCENARIO.ini, "
				     "got %d argument%s", a.npos, a.npos == 1 ? "" : "s");
		goto done;
	}
	const char *report = a.val[OPT_OUTPUT];
	if (!report || !report[0]) {
		rc = cli_usage_error(&cli_cmd_scenario, "scenario: -o REPORT is required");
		goto done;
	}
	if (fmt_report_kind_of(report) < 0) {
		rc = cli_usage_error(&cli_cmd_scenario, "scenario: '%s': the report's extension must "
				     "be .csv, .md, .html or .xlsx", report);
		goto done;
	}

	cli_keep_memory();
	rc = fmt_dataset_load(&ds, a.pos[0], &errs);
	if (rc != JOS_OK && rc != JOS_EINVALID)
		goto print;
	/* read the scenario also when the data is invalid: the user sees every problem */
	int src = scn_scenario_load(&sc, a.pos[1], a.pos[1], rc == JOS_OK ? ds : NULL, &errs);
	if (src != JOS_OK && src != JOS_EINVALID) {
		rc = src;
		goto print;
	}
	if (rc != JOS_OK || src != JOS_OK || errs.nerrors) {
		rc = JOS_EINVALID;
		goto print;
	}
	rc = scn_run_mt(&res, ds, sc, fmt_thread_count(), &err);
	if (rc == JOS_OK)
		rc = fmt_report_write(report, res, &err);
	if (rc != JOS_OK)
		cli_print_err(stderr, &err);
print:
	cli_print_problems(stderr, &errs, PROBLEM_LIMIT);
	if (rc == JOS_OK)
		printf("%s: %zu variant%s, %zu municipalit%s%s\n", report, sc->nvariants,
		       sc->nvariants == 1 ? "" : "s", res->nmunis, res->nmunis == 1 ? "y" : "ies",
		       res->nsweep ? ", with a sweep" : "");
done:
	scn_result_free(res);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
	cli_args_free(&a);
	return rc;
}
