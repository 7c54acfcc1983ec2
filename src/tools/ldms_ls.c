/* ldms_ls: list the metric sets of an LDMS daemon, optionally with their metadata
 * (-v) and values (-l), with upstream 4.5's options, output and exit codes
 * (ldms-protocol.md §5.1). Formatting lives in ldms_ls_fmt.h; this file does the
 * option parsing and the transport work (connect, dir, lookup, update). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ldms_ls_fmt.h"
#include "tool_opts.h"

#define LS_FMT "h:p:x:w:m:ESIlvua:A:VPdf:"

enum ls_format { LS_NORMAL, LS_JSON, LS_TAB };

struct ls_opts {
	struct tool_conn c;
	int waitsecs;
	int regex;
	int schema;
	int long_format;
	int verbose;
	int user_data;
	enum ls_format format;
	int nnames;
	char **names;
};

static void usage(const char *prog)
{
	printf("%s -h <hostname> -x <transport> [ name ... ]\n"
	       "\n    -h <hostname>    The name of the host to query. Default is localhost.\n"
	       "\n    -p <port_num>    The port number. The default is 411.\n"
	       "\n    -l               Show the values of the metrics in each metric set.\n"
	       "\n    -u               Show the user-defined metric meta data value.\n"
	       "\n    -x <name>        The transport name: sock. Default is sock.\n"
	       "\n    -w <secs>        The time to wait before giving up on the server.\n"
	       "                     The default is 10 seconds.\n"
	       "\n    -v               Show detail information about the metric set. Specifying\n"
	       "                     this option multiple times increases the verbosity.\n"
	       "\n    -f <fmt>         Emit set information in a machine readable format. Detail\n"
	       "                     level is controlled by the presence of -l or -v.\n"
	       "                     Format fmt is one of 'json' and 'tab'; any other is "
	       "ignored.\n"
	       "\n    -E               The <name> arguments are regular expressions.\n"
	       "\n    -S               The <name>s refers to the schema name.\n"
	       "\n    -I               The <name>s refer to the instance name (default).\n"
	       "\n    -m <memory size> Accepted for compatibility (sets are allocated on "
	       "demand).\n"
	       "\n    -a <auth>        LDMS Authentication plugin to be used (default: "
	       "'none').\n"
	       "\n    -A <key>=<value> (repeatable) LDMS Authentication plugin parameters.\n"
	       "\n    -V               Print LDMS version and exit.\n"
	       "\n    -P               Register for push updates (ldms-c: one pull update).\n",
	       prog);
	exit(1);
}

static void server_timeout(void)
{
	printf("A timeout occurred waiting for a response from the server.\n"
	       "Use the -w option to specify the amount of time to wait for the server\n");
	exit(1);
}

/* ---- synchronous lookup/update over the asynchronous API -------------------------------- */

struct ls_wait {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int done;
	int status;
	ldms_set_t set;
};

static void wait_init(struct ls_wait *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->done = 0;
	w->status = 0;
	w->set = NULL;
}

static void wait_fini(struct ls_wait *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cv);
}

static void wait_signal(struct ls_wait *w, int status)
{
	pthread_mutex_lock(&w->lock);
	w->status = status;
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->lock);
}

/* Returns 0 when signalled, -ETIMEDOUT otherwise. */
static int wait_for(struct ls_wait *w, int secs)
{
	struct timespec ts;
	int rc = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&w->lock);
	while (!w->done && rc == 0)
		rc = pthread_cond_timedwait(&w->cv, &w->lock, &ts);
	pthread_mutex_unlock(&w->lock);
	return w->done ? 0 : -ETIMEDOUT;
}

static void lookup_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	struct ls_wait *w = arg;
	if (status == 0 && s && !w->set)
		w->set = ldms_set_get(s);
	if (status || !more)
		wait_signal(w, status);
}

static void update_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	wait_signal(arg, status);
}

/* Looks up one set by exact instance name and reads it. Returns the mirror set
 * (caller puts it) or NULL with *status set. */
static ldms_set_t lookup_and_update(ldms_t x, const char *name, int secs, int *status)
{
	struct ls_wait w;
	ldms_set_t s;
	int rc;

	wait_init(&w);
	rc = ldms_xprt_lookup(x, name, LDMS_LOOKUP_BY_INSTANCE, lookup_cb, &w);
	if (rc == 0 && wait_for(&w, secs))
		server_timeout();
	s = w.set;
	if (rc == 0)
		rc = w.status;
	if (rc == 0 && !s)
		rc = -ENOENT;
	wait_fini(&w);
	if (rc) {
		if (s)
			ldms_set_put(s);
		*status = rc;
		return NULL;
	}
	wait_init(&w);
	rc = ldms_xprt_update(s, update_cb, &w);
	if (rc == 0 && wait_for(&w, secs))
		server_timeout();
	if (rc == 0)
		rc = w.status;
	wait_fini(&w);
	if (rc) {
		ldms_set_put(s);
		*status = rc;
		return NULL;
	}
	return s;
}

/* ---- name matching ----------------------------------------------------------------------- */

struct ls_match {
	regex_t *re;
	int n;
};

static int match_compile(struct ls_match *m, const struct ls_opts *o)
{
	m->n = o->nnames;
	m->re = calloc((size_t)(m->n ? m->n : 1), sizeof(*m->re));
	if (!m->re)
		return -ENOMEM;
	for (int i = 0; i < m->n; i++) {
		char *pat, errmsg[128];
		int rc;
		if (o->regex) {
			pat = strdup(o->names[i]);
		} else {
			size_t len = strlen(o->names[i]) + 3;
			pat = malloc(len);
			if (pat)
				snprintf(pat, len, "^%s$", o->names[i]);
		}
		if (!pat)
			return -ENOMEM;
		rc = ldms_regcomp(&m->re[i], pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc) {
			regerror(rc, &m->re[i], errmsg, sizeof(errmsg));
			printf("%s\n", errmsg);
			m->n = i;
			return -EINVAL;
		}
	}
	return 0;
}

static void match_free(struct ls_match *m)
{
	for (int i = 0; i < m->n; i++)
		regfree(&m->re[i]);
	free(m->re);
}

static int matched(const struct ls_match *m, const struct ls_opts *o, const struct ldms_dir_set *d)
{
	const char *name = o->schema ? d->schema_name : d->inst_name;
	if (m->n == 0)
		return 1;
	for (int i = 0; i < m->n; i++)
		if (regexec(&m->re[i], name, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static void parse_opts(int argc, char **argv, struct ls_opts *o)
{
	int op;
	long ptmp;
	char *end;

	memset(o, 0, sizeof(*o));
	tool_conn_init(&o->c);
	o->waitsecs = 10;
	if (argc == 1)
		usage(argv[0]);
	opterr = 0;
	while ((op = getopt(argc, argv, LS_FMT)) != -1) {
		switch (op) {
		case 'E':
			o->regex = 1;
			break;
		case 'S':
			o->schema = 1;
			break;
		case 'I':
			o->schema = 0;
			break;
		case 'd':
		case 'l':
		case 'P':
			o->long_format = 1;
			break;
		case 'p':
			ptmp = strtol(optarg, &end, 10);
			if (*end || ptmp < 1 || ptmp > 65535) {
				printf("ERROR: -p %s invalid port number\n", optarg);
				exit(1);
			}
			o->c.port = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				o->format = LS_JSON;
			} else if (strcmp(optarg, "tab") == 0) {
				o->format = LS_TAB;
			} else {
				printf("WARNING: format unknown: %s\n", optarg);
				o->format = LS_NORMAL;
			}
			break;
		case 'u':
			o->user_data = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'w':
			o->waitsecs = atoi(optarg);
			if (o->waitsecs <= 0)
				o->waitsecs = 10;
			break;
		case 'm': {
			int64_t sz;
			if (ldms_parse_size(optarg, &sz) || sz <= 0) {
				printf("Invalid memory size '%s'. See the -m option in the ldms_ls "
				       "help.\n",
				       optarg);
				usage(argv[0]);
			}
			break;
		}
		case 'V':
			printf("LDMS_LS Version: %s\n", LDMSC_VERSION);
			printf("LDMS Protocol Version: 4.2.0.0\n");
			exit(0);
		default:
			switch (tool_conn_opt(&o->c, op, optarg)) {
			case 1: /* -h -x -a -A */
				break;
			case -EINVAL:
				printf("ERROR: Expecting -A name=value");
				exit(1);
			case -E2BIG:
				printf("ERROR: Too many auth options");
				exit(1);
			default:
				printf("%s: unknown option %c\n", argv[0], optopt);
				usage(argv[0]);
			}
		}
	}
	o->nnames = argc - optind;
	o->names = argv + optind;
}

static void resolve(const struct ls_opts *o, const char *prog, char *addr, size_t len)
{
	struct addrinfo hints, *ai = NULL;
	int rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(o->c.host, o->c.port, &hints, &ai);
	if (rc || !ai) {
		printf("%s: %s does not resolve.\n", prog, o->c.host);
		exit(1);
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, (socklen_t)len);
	freeaddrinfo(ai);
}

static void print_set(const struct ls_opts *o, ldms_set_t s, int first)
{
	if (o->format == LS_JSON)
		ls_fmt_json_set(stdout, s, first);
	else if (o->format == LS_TAB)
		ls_fmt_tab_set_long(stdout, s, o->user_data);
	else
		ls_fmt_set_long(stdout, s, o->user_data);
}

/* The -l part: every matched set of the directory in directory order, then the
 * literal names the directory did not show (looked up by exact name, which the
 * daemon permission-checks). Returns the exit status. */
static int print_long(ldms_t x, const struct ls_opts *o, const struct ldms_dir *dir,
		      const struct ls_match *m)
{
	int rc = 0, first = 1, status;
	size_t i;
	int k;

	if (o->format == LS_JSON) {
		const char **names = calloc(dir->set_count + 1, sizeof(*names));
		size_t n = 0;
		if (!names)
			return 1;
		for (i = 0; i < dir->set_count; i++)
			if (matched(m, o, &dir->set_data[i]))
				names[n++] = dir->set_data[i].inst_name;
		ls_fmt_json_names(stdout, names, n);
		free(names);
		ls_fmt_json_data_open(stdout);
	}
	for (i = 0; i < dir->set_count; i++) {
		const struct ldms_dir_set *d = &dir->set_data[i];
		if (!matched(m, o, d))
			continue;
		ldms_set_t s = lookup_and_update(x, d->inst_name, o->waitsecs, &status);
		if (!s) {
			printf("ldms_ls: lookup failed for set '%s'\n", d->inst_name);
			rc = 1;
			continue;
		}
		print_set(o, s, first);
		first = 0;
		ldms_set_put(s);
	}
	for (k = 0; !o->regex && !o->schema && k < o->nnames; k++) {
		int seen = 0;
		for (i = 0; i < dir->set_count && !seen; i++)
			seen = strcmp(dir->set_data[i].inst_name, o->names[k]) == 0;
		if (seen)
			continue;
		ldms_set_t s = lookup_and_update(x, o->names[k], o->waitsecs, &status);
		if (!s) {
			printf("ldms_ls: %s\n", strerror(-status));
			printf("ldms_ls: lookup failed for set '%s'\n", o->names[k]);
			rc = 1;
			continue;
		}
		print_set(o, s, first);
		first = 0;
		ldms_set_put(s);
	}
	if (o->format == LS_JSON)
		ls_fmt_json_close(stdout, 1);
	return rc;
}

int main(int argc, char **argv)
{
	struct ls_opts o;
	struct ldms_auth_cfg auth;
	struct ldms_err err;
	struct ldms_dir *dir = NULL;
	struct ls_match m;
	struct ls_totals tot = {0, 0, 0};
	char addr[64];
	int rc, nmatch = 0, exit_rc = 0;
	size_t i;
	ldms_t x;

	parse_opts(argc, argv, &o);
	tool_log_to_stderr();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	resolve(&o, argv[0], addr, sizeof(addr));
	if (strcmp(o.c.xprt, "sock") != 0) {
		printf("Error creating transport.\n");
		return 1;
	}
	if (tool_auth_init(&o.c, &auth, argv[0], stdout)) {
		printf("Error creating transport.\n");
		return 1;
	}
	if (match_compile(&m, &o))
		return 1;
	x = ldms_xprt_new(o.c.xprt, &auth, NULL);
	if (!x) {
		printf("Error creating transport.\n");
		return 1;
	}
	if (o.verbose > 1 && o.format == LS_NORMAL)
		ls_fmt_host(stdout, o.c.host, addr, atoi(o.c.port), o.c.xprt);
	rc = tool_connect(&o.c, x, o.waitsecs * 1000, &err);
	if (rc) {
		printf("Connection failed/rejected.\n");
		fflush(stdout);
		ldms_auth_cfg_free(&auth);
		match_free(&m);
		ldms_fini();
		return 1;
	}
	rc = ldms_xprt_dir_sync(x, &dir, o.waitsecs * 1000);
	if (rc == -ETIMEDOUT)
		server_timeout();
	if (rc) {
		printf("Error %d looking up the metric set directory.\n", -rc);
		exit_rc = 3;
		goto out;
	}
	for (i = 0; i < dir->set_count; i++)
		nmatch += matched(&m, &o, &dir->set_data[i]);

	if (o.format == LS_JSON && !o.long_format) {
		/* names only, in the layout of the 4.5 -l -f json "set_name" list */
		const char **names = calloc(dir->set_count + 1, sizeof(*names));
		size_t n = 0;
		for (i = 0; names && i < dir->set_count; i++)
			if (matched(&m, &o, &dir->set_data[i]))
				names[n++] = dir->set_data[i].inst_name;
		ls_fmt_json_names(stdout, names, n);
		ls_fmt_json_close(stdout, 0);
		free(names);
		goto out;
	}
	int tab = o.format == LS_TAB;
	struct timespec nowts;
	clock_gettime(CLOCK_REALTIME, &nowts);
	double now = (double)nowts.tv_sec + nowts.tv_nsec / 1e9;
	if (tab && !o.verbose && !o.long_format)
		printf("#instance\n");
	if (o.verbose) {
		if (tab)
			ls_fmt_tab_verbose_header(stdout, o.verbose);
		else
			ls_fmt_verbose_header(stdout, o.verbose);
	}
	for (i = 0; i < dir->set_count; i++) {
		const struct ldms_dir_set *d = &dir->set_data[i];
		if (!matched(&m, &o, d))
			continue;
		if (o.verbose && tab)
			ls_fmt_tab_verbose_row(stdout, d, o.verbose, now, &tot);
		else if (o.verbose)
			ls_fmt_verbose_row(stdout, d, o.verbose, &tot);
		else if (!o.long_format)
			printf("%s\n", d->inst_name);
	}
	if (o.verbose) {
		if (tab)
			ls_fmt_tab_verbose_footer(stdout, &tot);
		else
			ls_fmt_verbose_footer(stdout, o.verbose, &tot);
	}

	if (o.long_format) {
		if (o.verbose && o.format == LS_NORMAL)
			printf("\n================================================================="
			       "======"
			       "\n\n");
		if (o.nnames && nmatch == 0 && (o.regex || o.schema))
			printf("ldms_ls: No metric sets matched the given criteria\n");
		else
			exit_rc = print_long(x, &o, dir, &m);
	} else if (o.nnames && nmatch == 0) {
		printf("ldms_ls: No metric sets matched the given criteria\n");
	}
out:
	fflush(stdout);
	if (dir)
		ldms_xprt_dir_free(x, dir);
	ldms_xprt_close(x);
	ldms_auth_cfg_free(&auth);
	match_free(&m);
	ldms_fini();
	return exit_rc;
}
