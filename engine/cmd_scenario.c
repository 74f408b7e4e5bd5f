/*
 * cmd_scenario.c: `jos-settle scenario` (placeholder until its issue lands).
 */
#include "engine/cli.h"

static const cli_opt opts[] = { { NULL, NULL, NULL } };

const cli_cmd cli_cmd_scenario = { "scenario", "...", "(not built yet)", opts, cmd_scenario };

int cmd_scenario(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("jos-settle: scenario is not built yet\n", stderr);
	return JOS_EUSAGE;
}
