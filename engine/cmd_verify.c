/*
 * cmd_verify.c: `jos-settle verify` (placeholder until its issue lands).
 */
#include "engine/cli.h"

static const cli_opt opts[] = { { NULL, NULL, NULL } };

const cli_cmd cli_cmd_verify = { "verify", "...", "(not built yet)", opts, cmd_verify };

int cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("jos-settle: verify is not built yet\n", stderr);
	return JOS_EUSAGE;
}
