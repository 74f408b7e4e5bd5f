/*
 * cli.c: option parsing and help from the option tables, problem printing, and the
 * return-code-to-exit-status mapping shared by every cmd_<name>.
 */
#include "engine/cli.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("jos-settle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'jos-settle %s --help'.\n", cmd->name);
	else
		fputs("\nTry 'jos-settle --help'.\n", stderr);
	return JOS_EUSAGE;
}

void cli_args_free(cli_args *a)
{
	free(a->pos);
	a->pos = NULL;
}

int cli_parse(cli_args *out, const cli_cmd *cmd, int argc, char **argv)
{
	bool dashdash = false;
	memset(out, 0, sizeof *out);
	out->pos = calloc((size_t)argc + 1, sizeof *out->pos);
	if (!out->pos) {
		fputs("jos-settle: out of memory\n", stderr);
		return JOS_ENOMEM;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			out->pos[out->npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			out->help = true;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		int found = -1;
		for (int k = 0; cmd->opts && cmd->opts[k].name; k++) {
			const char *on = cmd->opts[k].name;
			if ((strlen(on) == nlen && strncmp(on, a, nlen) == 0) ||
			    (nlen == 2 && a[1] == 'o' && strcmp(on, "--output") == 0)) {
				found = k;
				break;
			}
		}
		if (found < 0) {
			cli_args_free(out);
			return cli_usage_error(cmd, "%s: unknown option '%.*s'", cmd->name, (int)nlen, a);
		}
		const cli_opt *o = &cmd->opts[found];
		if (!o->arg) {
			if (eq) {
				cli_args_free(out);
				return cli_usage_error(cmd, "%s: option '%s' takes no value", cmd->name, o->name);
			}
			out->val[found] = "";
		} else if (eq) {
			out->val[found] = eq + 1;
		} else if (i + 1 < argc) {
			out->val[found] = argv[++i];
		} else {
			cli_args_free(out);
			return cli_usage_error(cmd, "%s: option '%s' needs a value (%s)", cmd->name, o->name, o->arg);
		}
	}
	return JOS_OK;
}

void cli_help(FILE *f, const cli_cmd *cmd)
{
	fprintf(f, "Usage: jos-settle %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->opts && cmd->opts[0].name) {
		fputs("\nOptions:\n", f);
		for (int k = 0; cmd->opts[k].name; k++) {
			char left[64];
			snprintf(left, sizeof left, "%s%s%s", cmd->opts[k].name, cmd->opts[k].arg ? " " : "",
				 cmd->opts[k].arg ? cmd->opts[k].arg : "");
			fprintf(f, "  %-26s %s\n", left, cmd->opts[k].help);
		}
	}
	fputs("  --help                     show this help\n", f);
}

int cli_exit_status(int rc)
{
	switch (rc) {
	case JOS_OK:
		return 0;
	case JOS_EINVALID:
	case JOS_EVERIFY:
		return 1;
	default:
		return 2;
	}
}

void cli_print_err(FILE *f, const jos_err *err)
{
	if (err->file[0] && err->line)
		fprintf(f, "%s:%u: %s\n", err->file, err->line, err->msg);
	else if (err->file[0])
		fprintf(f, "%s: %s\n", err->file, err->msg);
	else
		fprintf(f, "jos-settle: %s\n", err->msg);
}

void cli_print_problems(FILE *f, jos_errlist *l, size_t limit)
{
	size_t shown = 0;
	jos_errlist_sort(l);
	for (size_t i = 0; i < l->n && shown < limit; i++, shown++) {
		const jos_problem *p = &l->items[i];
		const char *pre = p->sev == JOS_SEV_WARNING ? "warning: " : "";
		if (p->file[0] && p->line)
			fprintf(f, "%s:%u: %s%s\n", p->file, p->line, pre, p->msg);
		else if (p->file[0])
			fprintf(f, "%s: %s%s\n", p->file, pre, p->msg);
		else
			fprintf(f, "jos-settle: %s%s\n", pre, p->msg);
	}
	size_t total = l->nerrors + l->nwarnings;
	if (total > shown)
		fprintf(f, "... and %zu more problem%s\n", total - shown, total - shown == 1 ? "" : "s");
}

void cli_keep_memory(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
