/*
 * main.c: jos-settle's entry point. Dispatches to one cmd_<name> per command
 * (engine/cmd_*.c) and exits with the status it returns; nothing below main exits.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli.h"

#ifndef JOS_VERSION
#define JOS_VERSION "0.0.0"
#endif

static const cli_cmd *const commands[] = { &cli_cmd_check, &cli_cmd_settle, &cli_cmd_verify,
					   &cli_cmd_scenario };
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("jos-settle: settle the cost of Jeugdhulp op School (JOS) with the municipalities\n"
	      "outside the region where pupils live; sign and verify settlement statements.\n\n"
	      "Usage:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  jos-settle %-8s %s\n", commands[i]->name, commands[i]->usage);
	fputs("  jos-settle --help | --version | COMMAND --help\n\nCommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nExit status: 0 success; 1 invalid data or a statement failed verification;\n"
	      "2 usage, I/O or crypto-environment error.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("jos-settle %s\n", JOS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i]->name) != 0)
			continue;
		/* COMMAND --help and COMMAND --version, wherever they stand before "--" */
		for (int k = 2; k < argc && strcmp(argv[k], "--") != 0; k++) {
			if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
				cli_help(stdout, commands[i]);
				return 0;
			}
			if (strcmp(argv[k], "--version") == 0) {
				printf("jos-settle %s\n", JOS_VERSION);
				return 0;
			}
		}
		return cli_exit_status(commands[i]->run(argc - 1, argv + 1));
	}
	cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	return 2;
}
