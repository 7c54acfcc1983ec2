/* ldmsd's option table and parser (ldms-protocol.md §3) used by the command line and
 * by the `option` command, plus the start-up settings store: each setting is
 * validated, the first one wins (the command line is read before any file), and
 * later attempts are logged and ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldms/ldms_xprt.h>
#include <ldmsd/ldmsd_plugin.h>

#include "ldmsd.h"
#include "ldmsd_options.h"

enum opt_kind {
	K_SETTING,  /* a start-up setting (ldmsd_setting_set) */
	K_AUTH_ARG, /* -A k=v */
	K_XPRT,	    /* -x (command line only) */
	K_CONFIG,   /* -c */
	K_YAML,	    /* -y */
	K_NOOP,	    /* -F */
	K_VERSION,  /* -V */
	K_USAGE,    /* -u */
	K_HELP,	    /* -h */
	K_CHECK,    /* --check */
	K_OBSOLETE, /* -P -B -C -k -s */
	K_PEER_MAX, /* --peer_conn_max (ldms-c) */
};

struct opt_def {
	char sh;	 /* short letter, 0 if none */
	const char *lng; /* long name, NULL if none */
	int has_arg;
	enum opt_kind kind;
	int setting;	  /* K_SETTING: enum ldmsd_setting */
	const char *note; /* K_OBSOLETE: the replacement */
};

static const struct opt_def opt_defs[] = {
    {'x', "xprt", 1, K_XPRT, 0, NULL},
    {'c', NULL, 1, K_CONFIG, 0, NULL},
    {'y', NULL, 1, K_YAML, 0, NULL},
    {'l', "log_file", 1, K_SETTING, LDMSD_S_LOG_FILE, NULL},
    {'v', "log_level", 1, K_SETTING, LDMSD_S_LOG_LEVEL, NULL},
    {'L', "log_config", 1, K_SETTING, LDMSD_S_LOG_CONFIG, NULL},
    {'m', "set_memory", 1, K_SETTING, LDMSD_S_SET_MEMORY, NULL},
    {'a', "default_auth", 1, K_SETTING, LDMSD_S_DEFAULT_AUTH, NULL},
    {'A', "default_auth_args", 1, K_AUTH_ARG, 0, NULL},
    {'n', "daemon_name", 1, K_SETTING, LDMSD_S_DAEMON_NAME, NULL},
    {'r', "pid_file", 1, K_SETTING, LDMSD_S_PID_FILE, NULL},
    {0, "banner", 1, K_SETTING, LDMSD_S_BANNER, NULL},
    {0, "worker_threads", 1, K_SETTING, LDMSD_S_WORKER_THREADS, NULL},
    {0, "default_quota", 1, K_SETTING, LDMSD_S_DEFAULT_QUOTA, NULL},
    {0, "publish_kernel", 1, K_SETTING, LDMSD_S_PUBLISH_KERNEL, NULL},
    {'F', "foreground", 0, K_NOOP, 0, NULL},
    {'V', "version", 0, K_VERSION, 0, NULL},
    {'u', "usage", 1, K_USAGE, 0, NULL},
    {'h', "help", 0, K_HELP, 0, NULL},
    {0, "check", 0, K_CHECK, 0, NULL},
    {0, "peer_conn_max", 1, K_PEER_MAX, 0, NULL},
    {'P', NULL, 1, K_OBSOLETE, 0, "worker_threads"},
    {'B', NULL, 1, K_OBSOLETE, 0, "banner"},
    {'C', NULL, 1, K_OBSOLETE, 0, "default_quota"},
    {'k', NULL, 0, K_OBSOLETE, 0, "publish_kernel"},
    {'s', NULL, 1, K_OBSOLETE, 0, "publish_kernel"},
    {0, NULL, 0, 0, 0, NULL},
};

static const char *const setting_names[LDMSD_S_COUNT] = {
    [LDMSD_S_LOG_FILE] = "log_file",
    [LDMSD_S_LOG_LEVEL] = "log_level",
    [LDMSD_S_LOG_CONFIG] = "log_config",
    [LDMSD_S_SET_MEMORY] = "set_memory",
    [LDMSD_S_DEFAULT_AUTH] = "default_auth",
    [LDMSD_S_DAEMON_NAME] = "daemon_name",
    [LDMSD_S_PID_FILE] = "pid_file",
    [LDMSD_S_BANNER] = "banner",
    [LDMSD_S_WORKER_THREADS] = "worker_threads",
    [LDMSD_S_DEFAULT_QUOTA] = "default_quota",
    [LDMSD_S_PUBLISH_KERNEL] = "publish_kernel",
};

const char *ldmsd_setting_name(enum ldmsd_setting k)
{
	return k < LDMSD_S_COUNT ? setting_names[k] : "?";
}

/* Decimal integer in [lo, hi], nothing else. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *n = strdup(v);
	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

/* A validated setting value, before it is committed. */
struct setting_val {
	int i;
	int64_t sz;
	const char *str; /* points into the caller's value */
};

static int setting_parse(enum ldmsd_setting k, const char *value, struct setting_val *v,
			 struct ldms_err *err)
{
	const char *name = ldmsd_setting_name(k);
	long l;
	v->str = value;
	switch (k) {
	case LDMSD_S_LOG_FILE:
	case LDMSD_S_DAEMON_NAME:
	case LDMSD_S_PID_FILE:
	case LDMSD_S_PUBLISH_KERNEL:
		return 0;
	case LDMSD_S_LOG_LEVEL:
		/* v->i: the level set (a comma list = exactly those levels) */
		if (ldms_log_mask_parse(value, &v->i))
			return ldms_err_set(err, -EINVAL,
					    "%s: unknown level '%s' (DEBUG, INFO, WARNING, ERROR, "
					    "CRITICAL, QUIET)",
					    name, value);
		return 0;
	case LDMSD_S_LOG_CONFIG: {
		char *end;
		errno = 0;
		long mask = strtol(value, &end, 0);
		if (end == value || errno || mask < 0 || mask > INT32_MAX ||
		    (*end && *end != ':') || (*end == ':' && !end[1]))
			return ldms_err_set(err, -EINVAL, "%s: expected INT[:PATH], got '%s'", name,
					    value);
		v->i = (int)mask;
		v->str = *end == ':' ? end + 1 : NULL;
		return 0;
	}
	case LDMSD_S_SET_MEMORY:
		if (ldms_parse_size(value, &v->sz) || v->sz <= 0)
			return ldms_err_set(err, -EINVAL, "%s: invalid size '%s'", name, value);
		return 0;
	case LDMSD_S_DEFAULT_AUTH:
		if (strlen(value) >= sizeof(((struct ldmsd_settings *)0)->auth_plugin))
			return ldms_err_set(err, -EINVAL, "%s: unknown plugin '%s'", name, value);
		return 0;
	case LDMSD_S_BANNER:
		if (parse_int(value, 0, 2, &l))
			return ldms_err_set(err, -EINVAL, "%s: mode must be 0, 1 or 2, not '%s'",
					    name, value);
		v->i = (int)l;
		return 0;
	case LDMSD_S_WORKER_THREADS:
		if (parse_int(value, 1, 1024, &l))
			return ldms_err_set(err, -EINVAL,
					    "%s: expected a number of threads (1-1024), not '%s'",
					    name, value);
		v->i = (int)l;
		return 0;
	case LDMSD_S_DEFAULT_QUOTA:
		if (ldms_parse_size(value, &v->sz) || v->sz < -1)
			return ldms_err_set(err, -EINVAL, "%s: invalid quota '%s'", name, value);
		return 0;
	default:
		return ldms_err_set(err, -EINVAL, "unknown setting %d", (int)k);
	}
}

int ldmsd_setting_set(struct ldmsd *d, enum ldmsd_setting k, const char *value, const char *origin,
		      struct ldms_err *err)
{
	struct ldmsd_settings *s = &d->s;
	const char *name = ldmsd_setting_name(k);
	int running = d->state != LDMSD_STATE_STARTUP;
	int is_log = k == LDMSD_S_LOG_FILE || k == LDMSD_S_LOG_LEVEL;
	struct setting_val v = {0};
	int rc = 0;

	if (!value || !*value)
		return ldms_err_set(err, -EINVAL, "%s: a value is required", name);
	if (running && !is_log)
		return ldms_err_set(err, -EBUSY, "%s can only be set at start-up", name);
	rc = setting_parse(k, value, &v, err);
	if (rc)
		return rc;
	if (!running && s->origin[k][0]) {
		ldms_log(LDMS_LINFO, LDMSD_LOG, "%s already set by %s; ignoring '%s' from %s", name,
			 s->origin[k], value, origin);
		return 0;
	}
	switch (k) {
	case LDMSD_S_LOG_FILE:
		rc = ldms_log_open(value);
		if (rc)
			return ldms_err_set(err, rc, "cannot open log file '%s': %s", value,
					    strerror(-rc));
		rc = set_str(&s->log_file, value);
		break;
	case LDMSD_S_LOG_LEVEL:
		ldms_log_mask_set(v.i);
		s->log_level = ldms_log_level_get();
		break;
	case LDMSD_S_LOG_CONFIG:
		s->log_config_mask = v.i;
		if (v.str)
			rc = set_str(&s->log_config_path, v.str);
		break;
	case LDMSD_S_SET_MEMORY:
		s->set_memory = v.sz;
		break;
	case LDMSD_S_DEFAULT_AUTH:
		snprintf(s->auth_plugin, sizeof(s->auth_plugin), "%s", value);
		break;
	case LDMSD_S_DAEMON_NAME:
		rc = set_str(&s->daemon_name, value);
		break;
	case LDMSD_S_PID_FILE:
		rc = set_str(&s->pid_file, value);
		break;
	case LDMSD_S_BANNER:
		s->banner = v.i;
		break;
	case LDMSD_S_WORKER_THREADS:
		s->worker_threads = v.i;
		break;
	case LDMSD_S_DEFAULT_QUOTA:
		s->default_quota = v.sz;
		break;
	case LDMSD_S_PUBLISH_KERNEL:
		ldms_log(LDMS_LWARN, LDMSD_LOG,
			 "publish_kernel (%s): kernel metric sets are not supported; ignored",
			 value);
		rc = set_str(&s->publish_kernel, value);
		break;
	default:
		break;
	}
	if (rc)
		return ldms_err_set(err, rc, "%s: %s", name, strerror(-rc));
	snprintf(s->origin[k], sizeof(s->origin[k]), "%s", origin ? origin : "?");
	return 0;
}

int ldmsd_setting_auth_arg(struct ldmsd *d, const char *kv, struct ldms_err *err)
{
	struct ldmsd_settings *s = &d->s;
	if (!strchr(kv, '=') || kv[0] == '=')
		return ldms_err_set(err, -EINVAL,
				    "default_auth_args: expected NAME=VALUE, got '%s'", kv);
	if (d->state != LDMSD_STATE_STARTUP)
		return ldms_err_set(err, -EBUSY, "default_auth_args can only be set at start-up");
	if (s->auth_argc >= LDMS_AUTH_ARGS_MAX)
		return ldms_err_set(err, -E2BIG, "default_auth_args: more than %d arguments",
				    LDMS_AUTH_ARGS_MAX);
	char *n = strdup(kv);
	if (!n)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	s->auth_args[s->auth_argc++] = n;
	return 0;
}

const char *ldmsd_daemon_name(struct ldmsd *d, char *buf, size_t len)
{
	if (d->s.daemon_name) {
		snprintf(buf, len, "%s", d->s.daemon_name);
		return buf;
	}
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	struct ldmsd_listen *l = TAILQ_FIRST(&d->listeners);
	if (l)
		snprintf(buf, len, "%s:%s", host, l->port);
	else
		snprintf(buf, len, "%s", host);
	return buf;
}

/* ---- the parser ------------------------------------------------------------------------ */
static const struct opt_def *find_short(char c)
{
	for (const struct opt_def *o = opt_defs; o->kind || o->sh || o->lng; o++)
		if (o->sh == c)
			return o;
	return NULL;
}

static const struct opt_def *find_long(const char *s, size_t len)
{
	for (const struct opt_def *o = opt_defs; o->kind || o->sh || o->lng; o++)
		if (o->lng && strlen(o->lng) == len && !strncmp(o->lng, s, len))
			return o;
	return NULL;
}

static void opt_label(const struct opt_def *o, int as_long, char *buf, size_t len)
{
	if (as_long || !o->sh)
		snprintf(buf, len, "--%s", o->lng);
	else
		snprintf(buf, len, "-%c", o->sh);
}

static int cli_cfg_add(struct ldmsd_cli *cli, int is_yaml, const char *path, struct ldms_err *err)
{
	struct ldmsd_cli_cfg *n = realloc(cli->cfgs, (size_t)(cli->n_cfgs + 1) * sizeof(*n));
	if (!n)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	cli->cfgs = n;
	n[cli->n_cfgs].is_yaml = is_yaml;
	n[cli->n_cfgs].path = strdup(path);
	if (!n[cli->n_cfgs].path)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	cli->n_cfgs++;
	return 0;
}

static int opt_apply(struct ldmsd *d, const struct opt_def *o, const char *label, const char *val,
		     struct ldmsd_cli *cli, const char *origin, struct ldms_err *err)
{
	if (!cli && o->kind != K_SETTING && o->kind != K_AUTH_ARG && o->kind != K_OBSOLETE &&
	    o->kind != K_PEER_MAX)
		return ldms_err_set(err, -EINVAL,
				    "option %s is only valid on the ldmsd command line", label);
	switch (o->kind) {
	case K_SETTING:
		return ldmsd_setting_set(d, (enum ldmsd_setting)o->setting, val, origin, err);
	case K_AUTH_ARG:
		return ldmsd_setting_auth_arg(d, val, err);
	case K_XPRT:
		cli->n_xprts++;
		return ldmsd_listen_add_spec(d, val, err);
	case K_CONFIG:
	case K_YAML:
		return cli_cfg_add(cli, o->kind == K_YAML, val, err);
	case K_NOOP:
		return 0;
	case K_VERSION:
		cli->version = 1;
		return 0;
	case K_USAGE:
		free(cli->usage_plugin);
		cli->usage_plugin = strdup(val);
		return cli->usage_plugin ? 0 : ldms_err_set(err, -ENOMEM, "out of memory");
	case K_HELP:
		cli->help = 1;
		return 0;
	case K_CHECK:
		cli->check = 1;
		return 0;
	case K_OBSOLETE:
		return ldms_err_set(err, -EINVAL, "option %s is obsolete; use the '%s' command",
				    label, o->note);
	case K_PEER_MAX: {
		/* listeners started afterwards (all of them, when given on the command
		 * line or in a configuration file) */
		long n;
		if (parse_int(val, 0, 1000000, &n))
			return ldms_err_set(err, -EINVAL,
					    "%s: '%s' is not a connection count (0 = no limit)",
					    label, val);
		ldms_listen_peer_max_default_set((int)n);
		return 0;
	}
	}
	return -EINVAL;
}

int ldmsd_options_parse(struct ldmsd *d, int argc, char *const argv[], int first,
			struct ldmsd_cli *cli, const char *origin, struct ldms_err *err)
{
	char label[64];
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1])
			return ldms_err_set(err, -EINVAL, "unexpected argument '%s'", a);
		if (a[1] == '-') {
			if (!a[2])
				return ldms_err_set(err, -EINVAL, "unexpected argument '--'");
			const char *n = a + 2, *eq = strchr(n, '=');
			size_t nl = eq ? (size_t)(eq - n) : strlen(n);
			const struct opt_def *o = find_long(n, nl);
			if (!o)
				return ldms_err_set(err, -EINVAL, "unknown option '--%.*s'",
						    (int)nl, n);
			opt_label(o, 1, label, sizeof(label));
			const char *val = NULL;
			if (o->has_arg) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return ldms_err_set(err, -EINVAL,
							    "option %s requires a value", label);
			} else if (eq) {
				return ldms_err_set(err, -EINVAL, "option %s takes no value",
						    label);
			}
			int rc = opt_apply(d, o, label, val, cli, origin, err);
			if (rc)
				return rc;
			continue;
		}
		/* a cluster of short options: -Fv INFO, -vINFO */
		for (const char *p = a + 1; *p; p++) {
			const struct opt_def *o = find_short(*p);
			if (!o)
				return ldms_err_set(err, -EINVAL, "unknown option '-%c'", *p);
			opt_label(o, 0, label, sizeof(label));
			const char *val = NULL;
			if (o->has_arg) {
				if (p[1])
					val = p + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return ldms_err_set(err, -EINVAL,
							    "option %s requires a value", label);
			}
			int rc = opt_apply(d, o, label, val, cli, origin, err);
			if (rc)
				return rc;
			if (o->has_arg)
				break;
		}
	}
	return 0;
}

int ldmsd_options_parse_str(struct ldmsd *d, const char *s, const char *origin,
			    struct ldms_err *err)
{
	char *copy = strdup(s ? s : "");
	char **av = NULL;
	int ac = 0, rc = 0;
	if (!copy)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		char **n = realloc(av, (size_t)(ac + 1) * sizeof(*n));
		if (!n) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		av = n;
		av[ac++] = t;
	}
	rc = ldmsd_options_parse(d, ac, av, 0, NULL, origin, err);
out:
	free(av);
	free(copy);
	return rc;
}

void ldmsd_cli_free(struct ldmsd_cli *cli)
{
	for (int i = 0; i < cli->n_cfgs; i++)
		free(cli->cfgs[i].path);
	free(cli->cfgs);
	free(cli->usage_plugin);
	memset(cli, 0, sizeof(*cli));
}

void ldmsd_version_print(FILE *f)
{
	fprintf(f, "LDMSD Version: %s (ldms-c %s)\n", LDMSD_COMPAT_VERSION, LDMSC_VERSION);
	fprintf(f, "LDMS Protocol Version: %s\n", LDMSD_PROTO_VERSION);
	fprintf(f, "LDMSD Plugin Interface Version: %d.0.0.0\n", LDMSD_PLUGIN_API_VERSION);
}

void ldmsd_usage(FILE *f, const char *prog)
{
	fprintf(
	    f,
	    "usage: %s [OPTION...]\n"
	    "  -x XPRT:PORT[:HOST]        listen (repeatable; only 'sock' is supported)\n"
	    "  -c PATH                    configuration file (repeatable, in order)\n"
	    "  -y PATH                    YAML cluster file (needs -n and maestro_ctrl)\n"
	    "  -n, --daemon_name NAME     daemon name [HOSTNAME:PORT]\n"
	    "  -l, --log_file PATH        log file, 'syslog' for syslog [stdout]\n"
	    "  -v, --log_level LEVEL      DEBUG, INFO, WARNING, ERROR, CRITICAL, QUIET [ERROR]\n"
	    "  -L, --log_config INT[:PATH] config/query logging mask\n"
	    "  -m, --set_memory SIZE      set memory pool size\n"
	    "  -a, --default_auth PLUGIN  default authentication: none, ovis, munge [none]\n"
	    "  -A, --default_auth_args K=V  default authentication argument (repeatable)\n"
	    "  -r, --pid_file PATH        pid file\n"
	    "      --banner MODE          0 none, 1 remove at exit, 2 keep <pid_file>.version\n"
	    "      --worker_threads N     I/O threads [1]\n"
	    "      --default_quota SIZE   default receive quota of new connections\n"
	    "  -u PLUGIN                  print the usage of a plugin and exit\n"
	    "  -F                         run in the foreground (always; ignored)\n"
	    "  -V                         print the version and exit\n"
	    "      --check                check the configuration files and exit\n"
	    "      --peer_conn_max N      connections one peer address may have open on\n"
	    "                             a listener; 0 = no limit [256]\n"
	    "  -h                         this help\n"
	    "Obsolete: -P (use worker_threads), -B (banner), -C (default_quota),\n"
	    "          -k/-s (publish_kernel).\n",
	    prog);
}
