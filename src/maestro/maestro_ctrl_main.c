/* maestro_ctrl: validate an LDMS cluster YAML, generate one ldmsd v4 config per daemon,
 * print one daemon's config, start local daemons, or load the model into etcd
 * (maestro.md §2.1). Command line as upstream's argparse (long options, unique prefixes). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "configgen.h"
#include "etcd_kv.h"
#include "model.h"

#include "cfgstore_etcd.h"
#include "etcd_yaml.h"

enum opt_id {
	O_HELP,
	O_LDMS_CONFIG,
	O_CLUSTER,
	O_PREFIX,
	O_LOCAL,
	O_LOCAL_PATH,
	O_GENERATE,
	O_DAEMON_NAME,
	O_DEBUG,
	O_CHECK,
	O_COMPAT,
	O_COUNT
};

static const struct opt {
	const char *name;
	enum opt_id id;
	int has_arg;
	int ldmsc; /* ldms-c's own: not known to --upstream-compat's argparse */
} opts[] = {
    {"--help", O_HELP, 0, 0},
    {"--ldms_config", O_LDMS_CONFIG, 1, 0},
    {"--cluster", O_CLUSTER, 1, 0},
    {"--prefix", O_PREFIX, 1, 0},
    {"--local", O_LOCAL, 0, 0},
    {"--local_path", O_LOCAL_PATH, 1, 0},
    {"--generate_config_path", O_GENERATE, 1, 0},
    {"--generate-config-path", O_GENERATE, 1, 1}, /* the seed README's spelling */
    {"--daemon_name", O_DAEMON_NAME, 1, 0},
    {"--debug", O_DEBUG, 0, 0},
    {"--check", O_CHECK, 0, 1},
    {"--upstream-compat", O_COMPAT, 0, 1},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char usage_upstream[] =
    "usage: maestro_ctrl [-h] --ldms_config FILE [--cluster FILE] [--prefix STRING]\n"
    "                    [--local] [--local_path STRING]\n"
    "                    [--generate_config_path STRING] [--daemon_name STRING]\n"
    "                    [--debug]\n";
static const char usage_ldmsc[] =
    "usage: maestro_ctrl [-h] --ldms_config FILE [--cluster FILE] [--prefix STRING]\n"
    "                    [--local] [--local_path STRING]\n"
    "                    [--generate_config_path STRING] [--daemon_name STRING]\n"
    "                    [--debug] [--check] [--upstream-compat]\n";

static const char help_text[] =
    "\n"
    "LDMS cluster configuration: generate ldmsd configuration files or load etcd\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  --ldms_config FILE    LDMS cluster YAML configuration file\n"
    "  --cluster FILE        etcd cluster configuration file (etcd.yaml); loads the\n"
    "                        cluster configuration into etcd\n"
    "  --prefix STRING       etcd key prefix (default: unknown)\n"
    "  --local               write the configuration of the daemons on this host into\n"
    "                        --local_path and start ldmsd for them\n"
    "  --local_path STRING   directory for --local (default: ~); the ldmsd started is\n"
    "                        $MAESTRO_LDMSD, else ../sbin/ldmsd next to maestro_ctrl,\n"
    "                        else ldmsd from PATH\n"
    "  --generate_config_path STRING, --generate-config-path STRING\n"
    "                        write one ldmsd v4 configuration file per daemon into\n"
    "                        this (existing) directory\n"
    "  --daemon_name STRING  print the configuration of one daemon\n"
    "  --debug               more detail in error messages\n"
    "  --check               only validate the configuration (exit 0 if valid)\n"
    "  --upstream-compat     byte-for-byte upstream output (double spaces,\n"
    "                        auto_interval=True for pull updaters, ...)\n";

struct args {
	const char *val[O_COUNT];
	int set[O_COUNT];
};

static int compat_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--upstream-compat") == 0)
			return 1;
	return 0;
}

static void usage_error(int compat, const char *fmt, const char *a, const char *b)
{
	fputs(compat ? usage_upstream : usage_ldmsc, stderr);
	fprintf(stderr, "maestro_ctrl: error: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(2);
}

/* argparse's long-option matching: exact name, else a unique prefix. */
static const struct opt *match_opt(const char *arg, size_t len, int compat)
{
	const struct opt *found = NULL;
	char amb[512] = "";
	int n = 0;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (compat && opts[i].ldmsc && opts[i].id != O_COMPAT)
			continue;
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0)
			return &opts[i];
	}
	for (size_t i = 0; i < N_OPTS; i++) {
		if (compat && opts[i].ldmsc && opts[i].id != O_COMPAT)
			continue;
		if (len < 3 || strncmp(opts[i].name, arg, len) != 0)
			continue;
		if (found && found->id == opts[i].id)
			continue;
		size_t l = strlen(amb);
		snprintf(amb + l, sizeof(amb) - l, "%s%s", n ? ", " : "", opts[i].name);
		found = &opts[i];
		n++;
	}
	if (n > 1) {
		char a[256];
		snprintf(a, sizeof(a), "%.*s", (int)len, arg);
		usage_error(compat, "ambiguous option: %s could match %s", a, amb);
	}
	return found;
}

static void parse_args(int argc, char **argv, struct args *a)
{
	int compat = compat_mode(argc, argv);
	char unknown[2048] = "";
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "-h") == 0) {
			a->set[O_HELP] = 1;
			continue;
		}
		const struct opt *o = NULL;
		const char *eq = NULL;
		if (strncmp(arg, "--", 2) == 0 && arg[2]) {
			eq = strchr(arg, '=');
			o = match_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg), compat);
		}
		if (!o) {
			size_t l = strlen(unknown);
			snprintf(unknown + l, sizeof(unknown) - l, "%s%s", l ? " " : "", arg);
			continue;
		}
		if (o->has_arg) {
			const char *v = eq ? eq + 1 : NULL;
			if (!v) {
				if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1]))
					usage_error(compat, "argument %s: expected one argument%s",
						    o->id == O_GENERATE ? "--generate_config_path"
									: o->name,
						    "");
				v = argv[++i];
			}
			a->val[o->id] = v;
		} else if (eq) {
			usage_error(compat, "argument %s: ignored explicit argument '%s'", o->name,
				    eq + 1);
		}
		a->set[o->id] = 1;
	}
	if (a->set[O_HELP]) {
		fputs(compat ? usage_upstream : usage_ldmsc, stdout);
		fputs(help_text, stdout);
		exit(0);
	}
	if (!a->set[O_LDMS_CONFIG])
		usage_error(compat, "the following arguments are required: %s%s", "--ldms_config",
			    "");
	if (unknown[0])
		usage_error(compat, "unrecognized arguments: %s%s", unknown, "");
}

static void print_warning(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static int fail(const struct ldms_err *err)
{
	char buf[1200];
	fprintf(stderr, "%s\n", cy_err_format(err, buf, sizeof(buf)));
	return 1;
}

/* --local: the daemons whose addr is this host get their file in path and an ldmsd. */
static int run_local(const struct maestro_model *m, struct configgen *cg, const char *path,
		     const char *self)
{
	char host[256];
	struct ldms_err err = {0};
	if (gethostname(host, sizeof(host)) != 0)
		return fprintf(stderr, "gethostname: %s\n", strerror(errno)), 1;
	host[sizeof(host) - 1] = '\0';
	char ldmsd[PATH_MAX] = "ldmsd";
	const char *slash = strrchr(self, '/'), *env = getenv("MAESTRO_LDMSD");
	if (env && *env) {
		snprintf(ldmsd, sizeof(ldmsd), "%s", env);
	} else if (slash) {
		snprintf(ldmsd, sizeof(ldmsd), "%.*s/../sbin/ldmsd", (int)(slash - self), self);
		if (access(ldmsd, X_OK) != 0)
			snprintf(ldmsd, sizeof(ldmsd), "ldmsd");
	}
	size_t started = 0;
	for (size_t i = 0; i < m->n_daemons; i++) {
		const struct maestro_daemon *d = &m->daemons[i];
		if (strcmp(d->addr, host) != 0)
			continue;
		char *text;
		size_t len;
		if (configgen_daemon(cg, i, &text, &len, &err))
			return fail(&err);
		char conf[PATH_MAX], pid[PATH_MAX], log[PATH_MAX];
		if (snprintf(conf, sizeof(conf), "%s/%s.conf", path, d->name) >=
			(int)sizeof(conf) ||
		    snprintf(pid, sizeof(pid), "%s/%s.pid", path, d->name) >= (int)sizeof(pid) ||
		    snprintf(log, sizeof(log), "%s/%s.log", path, d->name) >= (int)sizeof(log)) {
			fprintf(stderr, "%s/%s: path too long\n", path, d->name);
			free(text);
			return 1;
		}
		FILE *f = fopen(conf, "w");
		if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "%s: %s\n", conf, strerror(errno));
			free(text);
			return 1;
		}
		free(text);
		/* the ldmsd_arg_list of upstream: -x/-a/-A per maestro_comm endpoint */
		char *av[64];
		char bufs[16][512];
		int n = 0, nb = 0;
		av[n++] = ldmsd;
		for (size_t e = 0; e < d->n_ep && n < 50 && nb < 12; e++) {
			const struct maestro_endpoint *ep = &d->ep[e];
			if (!ep->maestro_comm)
				continue;
			snprintf(bufs[nb], sizeof(bufs[nb]), "%s:%s", ep->xprt, ep->port);
			av[n++] = "-x";
			av[n++] = bufs[nb++];
			if (ep->auth.name && ep->auth.plugin) {
				av[n++] = "-a";
				av[n++] = ep->auth.plugin;
				if (ep->auth.conf) {
					snprintf(bufs[nb], sizeof(bufs[nb]), "%s%s",
						 strchr(ep->auth.conf, '=') ? "" : "conf=",
						 ep->auth.conf);
					av[n++] = "-A";
					av[n++] = bufs[nb++];
				}
			}
		}
		av[n++] = "-c";
		av[n++] = conf;
		av[n++] = "-r";
		av[n++] = pid;
		av[n++] = "-l";
		av[n++] = log;
		av[n++] = "-F";
		av[n] = NULL;
		pid_t p = fork();
		if (p < 0)
			return fprintf(stderr, "fork: %s\n", strerror(errno)), 1;
		if (p == 0) {
			setsid();
			execvp(av[0], av);
			fprintf(stderr, "%s: %s\n", av[0], strerror(errno));
			_exit(127);
		}
		printf("Started ldmsd %s (pid %d) with %s\n", d->name, (int)p, conf);
		started++;
	}
	if (!started)
		printf("No daemon of the configuration runs on host %s.\n", host);
	return 0;
}

static int etcd_load(const struct maestro_model *m, const char *cluster, const char *prefix)
{
	struct maestro_kvlist kvs;
	struct ldms_err err = {0};
	int rc;
	maestro_kvlist_init(&kvs);
	rc = maestro_model_to_kv(m, NULL, &kvs, &err);
	if (rc) {
		maestro_kvlist_free(&kvs);
		return fail(&err);
	}
	/* upstream's walk reports the optional sections that are absent */
	if (!m->has_stores)
		printf("stores not present in ldms yaml configuration file.\nContinuing..\n");
	if (!m->has_samplers)
		printf("samplers not present in ldms yaml configuration file.\nContinuing..\n");
	if (!m->has_plugins)
		printf("plugins not present in ldms yaml configuration file.\nContinuing..\n");
	fflush(stdout);
	rc = cfgstore_etcd_load(cluster, prefix, &kvs, &err);
	maestro_kvlist_free(&kvs);
	if (rc) {
		char buf[1200];
		printf("%s\n", cy_err_format(&err, buf, sizeof(buf)));
		printf("Error saving ldms cluster configuration to etcd cluster.\n");
		return 1;
	}
	printf("LDMS cluster configuration saved to etcd cluster.\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct ldms_err err = {0};
	struct maestro_model *m = NULL;
	struct configgen *cg = NULL;
	int rc = 0;
	parse_args(argc, argv, &a);
	int compat = a.set[O_COMPAT], debug = a.set[O_DEBUG];
	const char *file = a.val[O_LDMS_CONFIG];
	struct maestro_build_opts bo = {.upstream_compat = compat, .warn = print_warning};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (a.set[O_CLUSTER]) {
		/* read first, as upstream: a bad etcd.yaml stops everything (even generation) */
		struct etcd_yaml ey;
		if (etcd_yaml_load(a.val[O_CLUSTER], &ey, &err))
			return fail(&err);
		etcd_yaml_free(&ey);
	}
	if (maestro_model_load_file(file, &bo, &m, &err))
		return fail(&err);
	struct configgen_opts co = {.upstream_compat = compat};
	if (configgen_new(m, &co, NULL, &cg, &err)) {
		maestro_model_free(m);
		return fail(&err);
	}
	if (debug) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		size_t np = 0;
		for (size_t i = 0; i < m->n_pgrp; i++)
			np += m->pgrp[i].n;
		fprintf(stderr,
			"maestro_ctrl: %s: %zu daemons, %zu aggregator groups, %zu producers, "
			"%zu sampler groups, %zu plugin instances (%.3f s)\n",
			file, m->n_daemons, m->n_agrp, np, m->n_sgrp, m->n_plugins,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	if (a.set[O_CHECK]) {
		/* everything generation and the etcd load need, without writing anything */
		struct maestro_kvlist kvs;
		maestro_kvlist_init(&kvs);
		rc = maestro_model_to_kv(m, NULL, &kvs, &err);
		maestro_kvlist_free(&kvs);
		for (size_t d = 0; !rc && d < m->n_daemons; d++) {
			char *t;
			rc = configgen_daemon(cg, d, &t, NULL, &err);
			free(t);
		}
		if (rc)
			rc = fail(&err);
		else
			printf("%s: OK (%zu daemons)\n", file, m->n_daemons);
		goto out;
	}
	if (a.set[O_DAEMON_NAME]) {
		long d = maestro_model_daemon(m, a.val[O_DAEMON_NAME]);
		if (d < 0) {
			fprintf(stderr,
				"%s: Daemon %s does not exist in YAML configuration file %s\n",
				file, a.val[O_DAEMON_NAME], file);
			rc = 1;
			goto out;
		}
		char *t;
		size_t len;
		if (configgen_daemon(cg, (size_t)d, &t, &len, &err)) {
			rc = fail(&err);
			goto out;
		}
		fwrite(t, 1, len, stdout);
		fputc('\n', stdout);
		free(t);
		goto out;
	}
	if (a.set[O_LOCAL]) {
		char path[PATH_MAX];
		const char *lp = a.val[O_LOCAL_PATH] ? a.val[O_LOCAL_PATH] : "~";
		if (lp[0] == '~' && (lp[1] == '\0' || lp[1] == '/')) {
			const char *home = getenv("HOME");
			snprintf(path, sizeof(path), "%s%s", home ? home : "", lp + 1);
		} else {
			snprintf(path, sizeof(path), "%s", lp);
		}
		if ((rc = run_local(m, cg, path, argv[0])))
			goto out;
	}
	if (a.set[O_GENERATE]) {
		size_t n;
		if (configgen_write_dir(cg, a.val[O_GENERATE], &n, &err)) {
			rc = fail(&err);
			goto out;
		}
		printf("LDMSD v4 config files generated\n");
		goto out;
	}
	if (a.set[O_CLUSTER]) {
		rc = etcd_load(m, a.val[O_CLUSTER], a.val[O_PREFIX] ? a.val[O_PREFIX] : "unknown");
		goto out;
	}
	if (!a.set[O_LOCAL])
		printf("No action detected. Exiting...\n");
out:
	configgen_free(cg);
	maestro_model_free(m);
	return rc;
}
