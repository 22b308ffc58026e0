/*
 * wc2sf, the command for people: see what the journal holds, replay what
 * failed, check the setup. This file reads the global options and hands
 * the rest of the command line to one command of the table below.
 */
#include "cli.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"


struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int help_command(int argc, char **argv);

static const struct command commands[] = {
	{ "status", cli_status,
	    "counts by state, oldest pending event, last error" },
	{ "events", cli_events,
	    "list events (--state, --topic, --id, --limit)" },
	{ "show", cli_show, "one event with all its fields and its body" },
	{ "replay", cli_replay, "send pending events now" },
	{ "prune", cli_prune, "delete finished events older than N days" },
	{ "check", cli_check,
	    "check the configuration, journal and Salesforce sign-in" },
	{ "help", help_command, "help on a command: wc2sf help COMMAND" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option main_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *out)
{
	size_t i;

	fputs("usage: wc2sf [-c CONFIG] COMMAND [OPTIONS]\n\ncommands:\n",
	    out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(out, "\noptions:\n"
	    "  -c, --config CONFIG  the configuration file (default: "
	    "$WC2SF_CONFIG,\n"
	    "                       else %s)\n"
	    "  -h, --help           this text\n"
	    "  --version            print the versions of wc2sf and its "
	    "libraries\n"
	    "\n"
	    "Every command (status, events, show, replay, prune, check) "
	    "takes\n"
	    "--json, to print one JSON document for scripts, and --help.\n"
	    "Exit status: 0 done, 1 a problem, 2 a usage mistake.\n",
	    CONFIG_DEFAULT_PATH);
}

/* After a usage mistake: the one line, and where the rest is. */
static int
usage_mistake(void)
{
	fputs("usage: wc2sf [-c CONFIG] COMMAND [OPTIONS]; "
	    "see wc2sf --help\n", stderr);
	return CLI_EXIT_USAGE;
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Name the word getopt_long() stopped at (c is what it returned). A
 * missing value is always at the end, in the last word. A long option
 * (optopt 0, or a letter only a long option has) is the whole word
 * before optind. An unknown short option may sit inside a word that
 * optind has not left yet ("-xc"), so it is named by its letter.
 */
static void
option_mistake(int c, char **argv)
{
	if (c == ':')
		cli_error("%s needs a value", argv[optind - 1]);
	else if (optopt == 0 || optopt == 'h' || optopt == 'V')
		cli_error("unexpected %s", argv[optind - 1]);
	else
		cli_error("unknown option -%c", optopt);
}

/* Run one command with argv[0] its name, getopt starting afresh. */
static int
run_command(const struct command *cmd, int argc, char **argv)
{
	optind = 0;		/* glibc: reinitialise, ordering included */
	return cmd->run(argc, argv);
}

/* `wc2sf help [COMMAND]`: the command's own --help, or the overview. */
static int
help_command(int argc, char **argv)
{
	const struct command *cmd;
	char flag[] = "--help";
	char *sub[3];

	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2) {
		cli_error("help: unexpected %s (one command at a time)",
		    argv[2]);
		return usage_mistake();
	}
	cmd = find_command(argv[1]);
	if (cmd == NULL) {
		cli_error("help: no command \"%s\"", argv[1]);
		return usage_mistake();
	}
	if (cmd->run == help_command) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	sub[0] = argv[1];
	sub[1] = flag;
	sub[2] = NULL;
	return run_command(cmd, 2, sub);
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:h", main_options,
	    NULL)) != -1) {
		switch (c) {
		case 'c':
			cli_set_config_path(optarg);
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			version_print(stdout, "wc2sf");
			return CLI_EXIT_OK;
		default:
			option_mistake(c, argv);
			return usage_mistake();
		}
	}
	if (optind >= argc) {
		cli_error("no command given");
		return usage_mistake();
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		cli_error("no command \"%s\"", argv[optind]);
		return usage_mistake();
	}
	rc = run_command(cmd, argc - optind, argv + optind);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output");
		return CLI_EXIT_PROBLEM;
	}
	return rc;
}
