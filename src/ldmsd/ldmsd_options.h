/* ldmsd's command-line options (ldms-protocol.md §3), shared by main() and the
 * `option` config command: one option table, one parser, and the "first setting
 * wins" store of start-up settings. */
#ifndef LDMSD_OPTIONS_H
#define LDMSD_OPTIONS_H

#include <stdio.h>

#include <ldms/ldms_util.h>

struct ldmsd;

/* A -c or -y argument, kept in command-line order. */
struct ldmsd_cli_cfg {
	int is_yaml;
	char *path;
};

/* What only the command line can ask for. */
struct ldmsd_cli {
	struct ldmsd_cli_cfg *cfgs;
	int n_cfgs;
	int n_xprts;	    /* -x given (the listeners themselves are recorded in the daemon) */
	char *usage_plugin; /* -u */
	int version;	    /* -V */
	int help;	    /* -h */
	int check;	    /* --check: validate the configuration and exit */
};

/* Parses argv[first..argc). cli == NULL means the `option` command: options that
 * only make sense on the command line (-x -c -y -F -u -V -h --check) are refused.
 * Settings go to the daemon via ldmsd_setting_set() with `origin` for messages.
 * Returns 0 or -errno with err filled ("option -P is obsolete; use ..."). */
int ldmsd_options_parse(struct ldmsd *d, int argc, char *const argv[], int first,
			struct ldmsd_cli *cli, const char *origin, struct ldms_err *err);
/* Splits s on spaces/tabs and parses it like a command line (for `option`). */
int ldmsd_options_parse_str(struct ldmsd *d, const char *s, const char *origin,
			    struct ldms_err *err);
void ldmsd_cli_free(struct ldmsd_cli *cli);
void ldmsd_usage(FILE *f, const char *prog);
void ldmsd_version_print(FILE *f);

#endif
