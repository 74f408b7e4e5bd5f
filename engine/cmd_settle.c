/*
 * cmd_settle.c: `jos-settle settle` (placeholder until its issue lands).
 */
#include "engine/cli.h"

static const cli_opt opts[] = { { NULL, NULL, NULL } };

const cli_cmd cli_cmd_settle = { "settle", "...", "(not built yet)", opts, cmd_settle };

int cmd_settle(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("jos-settle: settle is not built yet\n", stderr);
	return JOS_EUSAGE;
}
