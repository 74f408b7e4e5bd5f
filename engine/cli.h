/*
 * cli.h: the command-line front end's shared parts: the option table, its parser,
 * help printed from the table, and the mapping from return codes to exit status.
 * Only engine/main.c and engine/cmd_*.c include this; they are the part of engine/
 * that touches files and prints.
 */
#ifndef JOS_CLI_H
#define JOS_CLI_H

#include <stdio.h>

#include "engine/jos.h"

typedef struct {
	const char *name;     /* "--key" */
	const char *arg;      /* "KEY.pem", or NULL for a flag */
	const char *help;
} cli_opt;

typedef struct {
	const char *name;     /* "settle" */
	const char *usage;    /* "DATA_DIR -o OUT_DIR --key KEY.pem --cert CERT.pem ..." */
	const char *summary;  /* one line */
	const cli_opt *opts;  /* terminated by {NULL} */
	int (*run)(int argc, char **argv);
} cli_cmd;

#define CLI_MAX_OPTS 16
#define CLI_MAX_POS 4096

typedef struct {
	const char *val[CLI_MAX_OPTS]; /* per option: its argument, "" for a given flag, NULL */
	char **pos;                    /* positional arguments (borrowed from argv) */
	int npos;
	bool help;
} cli_args;

/* Parses argv[1..] (argv[0] is the command name). Returns JOS_OK, or JOS_EUSAGE after
 * printing `jos-settle: message` and a --help hint to stderr. Options may appear
 * anywhere; "--" ends them; "-o" is accepted for "--output" / "-o" as listed. */
int cli_parse(cli_args *out, const cli_cmd *cmd, int argc, char **argv);
void cli_args_free(cli_args *a);
void cli_help(FILE *f, const cli_cmd *cmd);
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) JOS_PRINTF(2, 3);

/* Exit status of a return code (SPEC): 0 ok, 1 invalid data or failed verification,
 * 2 usage, I/O, crypto environment or internal. */
int cli_exit_status(int rc);
/* Prints problems sorted as `FILE:LINE: message` (warnings prefixed "warning: "),
 * at most `limit`, then "... and N more". */
void cli_print_problems(FILE *f, jos_errlist *l, size_t limit);
void cli_print_err(FILE *f, const jos_err *err);
/* For the commands that load a whole data set or verify many statements: freed memory
 * stays in the heap for the next allocation (no mmap per big block, no trim). They
 * allocate and free blocks of megabytes one after the other, and a fresh page costs a fault (more so under
 * virtualisation): at 2.5 M rows this cuts settle's page faults from ~19,500 to ~5,000
 * and its CPU time by a quarter. glibc only. */
void cli_keep_memory(void);

int cmd_check(int argc, char **argv);
int cmd_settle(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_scenario(int argc, char **argv);

extern const cli_cmd cli_cmd_check, cli_cmd_settle, cli_cmd_verify, cli_cmd_scenario;

#endif
