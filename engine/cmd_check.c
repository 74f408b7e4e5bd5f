/*
 * cmd_check.c: `jos-settle check` (placeholder until its issue lands).
 */
#include "engine/cli.h"

static const cli_opt opts[] = { { NULL, NULL, NULL } };

const cli_cmd cli_cmd_check = { "check", "...", "(not built yet)", opts, cmd_check };

int cmd_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("jos-settle: check is not built yet\n", stderr);
	return JOS_EUSAGE;
}
