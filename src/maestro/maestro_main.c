/* maestro: the monitor daemon (maestro.md §2.2, §10). Two ways to get the cluster
 * model: from etcd (--cluster etcd.yaml --prefix P, watched for new generations) or,
 * embedded, from the cluster YAML itself (--ldms_config FILE, reloaded on SIGHUP or when
 * the file changes). Everything after the model is shared. `maestro --status` prints the
 * state a running maestro publishes (state file, or /<prefix>/maestro/status in etcd). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ldms/ldms_util.h"
#include "cfgstore.h"
#include "cfgstore_etcd.h"
#include "coord.h"
#include "etcd.h"
#include "etcd_kv.h"
#include "etcd_yaml.h"
#include "model.h"
#include "monitor.h"
#include "monitor_engine.h"

static volatile sig_atomic_t got_hup, got_stop;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

struct opts {
	const char *cluster, *prefix, *ldms_config, *rebalance, *log_path, *log_level, *state;
	const char *member;
	double timeout, interval, probe_timeout, retry, request_timeout, member_ttl;
	int status, json, debug, start_aggs;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: maestro [-h] --cluster FILE --prefix STRING [--rebalance producers|sets]\n"
	    "               [--timeout SEC] [--log-level LEVEL] [--log FILE] [--version VERSION]\n"
	    "               [--debug]\n"
	    "       maestro --ldms_config FILE [options]   (embedded mode: no etcd)\n"
	    "       maestro --status [--ldms_config FILE | --cluster FILE --prefix STRING]\n"
	    "                        [--state FILE] [--json]\n"
	    "\n"
	    "  --cluster FILE          etcd cluster YAML (members, maestro_members)\n"
	    "  --prefix STRING         etcd prefix of the cluster configuration\n"
	    "  --ldms_config FILE      embedded mode: the LDMS cluster YAML, reloaded on SIGHUP\n"
	    "                          or when the file changes\n"
	    "  --rebalance MODE        producers (default) or sets\n"
	    "  --timeout SEC           connect timeout (default 15)\n"
	    "  --interval SEC          daemon_status period (default 1)\n"
	    "  --probe-timeout SEC     no daemon_status reply within SEC: hung (default 3)\n"
	    "  --request-timeout SEC   deadline of a configuration request (default 5)\n"
	    "  --retry SEC             reconnect / retry period (default 1)\n"
	    "  --log FILE              log file (default stderr)\n"
	    "  --log-level LEVEL       debug, info (default), warning, error, critical\n"
	    "  --member HOST:PORT      several instances (maestro_members in the etcd YAML):\n"
	    "                          which entry this instance is (default: the one whose\n"
	    "                          host is this host's name)\n"
	    "  --member-ttl SEC        lease of an instance: its groups move to the others\n"
	    "                          this long after it died (default 5)\n"
	    "  --state FILE            where the state for --status is written (embedded\n"
	    "                          default: <ldms_config>.status.json)\n"
	    "  --status                print the running maestro's state and exit\n"
	    "  --json                  with --status: the raw JSON\n");
}

/* ---- status publication (a thread, so a slow etcd never stalls the loop) -------------- */

struct publisher {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	char *pending;
	int stop;
	const char *path;
	struct etcd_client *etcd;
	char *etcd_key;
	struct coord *coord; /* several instances: the status lives as long as the lease */
	pthread_t th;
	int started;
};

static int write_file_atomic(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	if (fclose(f) || !ok || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

static void *publisher_main(void *arg)
{
	struct publisher *p = arg;
	int etcd_failed = 0;
	pthread_mutex_lock(&p->lock);
	while (!p->stop || p->pending) {
		if (!p->pending) {
			pthread_cond_wait(&p->cv, &p->lock);
			continue;
		}
		char *js = p->pending;
		p->pending = NULL;
		pthread_mutex_unlock(&p->lock);
		if (p->path) {
			int rc = write_file_atomic(p->path, js);
			if (rc)
				mlog(MLOG_ERROR, "Cannot write the state file %s: %s", p->path,
				     strerror(-rc));
		}
		if (p->etcd) {
			struct ldms_err err = {0};
			int64_t lease = p->coord ? coord_lease(p->coord) : 0;
			int rc = p->coord && !lease
				     ? 0 /* not joined (yet): nothing to say as an instance */
				     : etcd_put(p->etcd, p->etcd_key, js, lease, NULL, &err);
			if (rc && !etcd_failed)
				mlog(MLOG_WARNING, "Cannot store the state in etcd (%s): %s",
				     p->etcd_key, err.msg);
			else if (!rc && etcd_failed)
				mlog(MLOG_INFO, "State stored in etcd again");
			etcd_failed = rc != 0;
		}
		free(js);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void publish(const char *json, void *arg)
{
	struct publisher *p = arg;
	char *dup = strdup(json);
	if (!dup)
		return;
	pthread_mutex_lock(&p->lock);
	free(p->pending);
	p->pending = dup;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->lock);
}

static void wake_mon(void *arg)
{
	mon_wake(arg);
}

static int owns_unit(const char *unit, void *arg)
{
	return coord_owns(arg, unit);
}

/* ---- configuration sources ------------------------------------------------------------------ */

static void warn_cb(void *arg, const char *msg)
{
	mlog(MLOG_WARNING, "%s", msg);
}

struct file_src {
	const char *path;
	struct stat st;
	int have_st;
	unsigned loads;
	uint64_t next_check_us;
};

static int stat_changed(struct file_src *fs)
{
	struct stat st;
	if (stat(fs->path, &st))
		return 0; /* vanished or being replaced: keep the running model */
	int changed = !fs->have_st || st.st_mtim.tv_sec != fs->st.st_mtim.tv_sec ||
		      st.st_mtim.tv_nsec != fs->st.st_mtim.tv_nsec ||
		      st.st_size != fs->st.st_size || st.st_ino != fs->st.st_ino;
	return changed;
}

static int load_file(struct file_src *fs, struct engine *e)
{
	struct maestro_build_opts bo = {.warn = warn_cb};
	struct maestro_model *m = NULL;
	struct ldms_err err = {0};
	struct stat st;
	int have = !stat(fs->path, &st);
	int rc = maestro_model_load_file(fs->path, &bo, &m, &err);
	if (have) {
		fs->st = st;
		fs->have_st = 1;
	}
	if (rc) {
		char buf[1024];
		mlog(MLOG_ERROR, "%s%s", cy_err_format(&err, buf, sizeof(buf)),
		     fs->loads ? " (keeping the running configuration)" : "");
		return rc;
	}
	char label[4200];
	snprintf(label, sizeof(label), "%s #%u", fs->path, ++fs->loads);
	if (fs->loads > 1)
		mlog(MLOG_INFO, "Change in cluster configuration file %s. Reconfiguring...",
		     fs->path);
	rc = engine_set_model(e, m, label);
	if (rc) {
		maestro_model_free(m);
		mlog(MLOG_ERROR, "Cannot install the configuration: %s", strerror(-rc));
	}
	return rc;
}

struct etcd_src {
	struct cfgstore *store;
	struct coord *coord;
	atomic_int pending;
	atomic_int failing;
	uint64_t gen;
	int watching;
	int have_model;
	struct monitor *mon;
	char msg[512];
	pthread_mutex_t lock;
};

static void watch_cb(const struct cfgstore_event *ev, void *arg)
{
	struct etcd_src *s = arg;
	if (ev->rc == 0) {
		if (atomic_exchange(&s->failing, 0))
			mlog(MLOG_INFO, "etcd reachable again");
		if (ev->generation != s->gen)
			atomic_store(&s->pending, 1);
	} else if (!atomic_exchange(&s->failing, 1)) {
		mlog(MLOG_WARNING,
		     "etcd unreachable (%s): keeping the daemons as they are, retrying",
		     ev->msg ? ev->msg : strerror(-ev->rc));
	}
	mon_wake(s->mon);
}

static int load_etcd(struct etcd_src *s, struct engine *e)
{
	struct maestro_kvlist kvs;
	struct ldms_err err = {0};
	uint64_t gen = 0;
	maestro_kvlist_init(&kvs);
	int rc = cfgstore_read(s->store, &kvs, &gen, &err);
	if (rc == -ENOENT) {
		if (!atomic_exchange(&s->failing, 1))
			mlog(MLOG_WARNING,
			     "No cluster configuration stored under this prefix yet (load one with "
			     "maestro_ctrl --cluster ... --prefix ...); waiting for it");
		maestro_kvlist_free(&kvs);
		return rc;
	}
	if (rc) {
		if (!atomic_exchange(&s->failing, 1))
			mlog(MLOG_ERROR, "Unable to connect to etcd: %s%s", err.msg,
			     s->have_model ? " (keeping the daemons as they are)" : " (retrying)");
		maestro_kvlist_free(&kvs);
		return rc;
	}
	atomic_store(&s->failing, 0);
	if (s->have_model && gen == s->gen) {
		maestro_kvlist_free(&kvs);
		return 0;
	}
	struct maestro_model *m = NULL;
	rc = maestro_kv_to_model(&kvs, NULL, &m, &err);
	maestro_kvlist_free(&kvs);
	if (rc) {
		char buf[1024];
		mlog(MLOG_ERROR, "Configuration generation %llu is not usable: %s",
		     (unsigned long long)gen, ldms_err_str(&err, buf, sizeof(buf)));
		s->gen = gen;
		return rc;
	}
	if (s->have_model)
		mlog(MLOG_INFO, "Change in etcd cluster configuration. Reconfiguring...");
	if (s->coord) {
		char **units = NULL;
		size_t nu = 0;
		rc = engine_units(m, &units, &nu);
		if (!rc)
			rc = coord_set_units(s->coord, (const char *const *)units, nu);
		for (size_t i = 0; units && i < nu; i++)
			free(units[i]);
		free(units);
		if (rc) {
			maestro_model_free(m);
			return rc;
		}
	}
	char label[64];
	snprintf(label, sizeof(label), "generation %llu", (unsigned long long)gen);
	rc = engine_set_model(e, m, label);
	if (rc) {
		maestro_model_free(m);
		return rc;
	}
	s->gen = gen;
	s->have_model = 1;
	if (!s->watching) {
		struct ldms_err werr = {0};
		if (cfgstore_watch(s->store, watch_cb, s, &werr))
			mlog(MLOG_ERROR, "Cannot watch etcd: %s", werr.msg);
		else
			s->watching = 1;
	}
	return 0;
}

/* ---- --status ------------------------------------------------------------------------------- */

static const char *tstr(double t, char *buf, size_t len)
{
	if (t <= 0)
		return "-";
	time_t s = (time_t)t;
	struct tm tm;
	localtime_r(&s, &tm);
	strftime(buf, len, "%F %T", &tm);
	return buf;
}

static int print_status(const char *text, int json_out)
{
	if (json_out) {
		printf("%s\n", text);
		return 0;
	}
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j) {
		fprintf(stderr, "maestro: the state is not valid JSON: %s\n", je.text);
		return 1;
	}
	char b1[64];
	json_int_t pid = json_integer_value(json_object_get(j, "pid"));
	int running = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	printf("maestro %s (pid %lld), configuration %s, balancing by %s, state of %s\n",
	       running ? "running" : "NOT running", (long long)pid,
	       json_string_value(json_object_get(j, "config")),
	       json_string_value(json_object_get(j, "rebalance")),
	       tstr(json_real_value(json_object_get(j, "time")), b1, sizeof(b1)));
	printf("\n%-20s %-11s %-9s %-30s %-19s %s\n", "DAEMON", "ROLE", "HEALTH", "ENDPOINT",
	       "SINCE", "NOTE");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(j, "daemons"), i, d)
	{
		const char *note = json_string_value(json_object_get(d, "reason"));
		const char *lerr = json_string_value(json_object_get(d, "last_error"));
		json_t *cf = json_object_get(d, "configured");
		const char *health = json_string_value(json_object_get(d, "health"));
		printf("%-20s %-11s %-9s %-30s %-19s %s%s%s\n",
		       json_string_value(json_object_get(d, "name")),
		       json_string_value(json_object_get(d, "role")), health,
		       json_string_value(json_object_get(d, "endpoint"))
			   ? json_string_value(json_object_get(d, "endpoint"))
			   : "-",
		       tstr(json_real_value(json_object_get(d, "since")), b1, sizeof(b1)),
		       note ? note
			    : (cf && !json_is_true(cf) && health && !strcmp(health, "up")
				   ? "configuring"
				   : ""),
		       lerr ? " last error: " : "", lerr ? lerr : "");
	}
	json_t *g;
	json_array_foreach(json_object_get(j, "groups"), i, g)
	{
		printf("\nAGGREGATOR GROUP %s\n", json_string_value(json_object_get(g, "group")));
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(g, "aggregators"), k, a)
		{
			json_t *pl = json_object_get(a, "producers");
			printf("  %-18s %-9s %zu producers:",
			       json_string_value(json_object_get(a, "name")),
			       json_string_value(json_object_get(a, "health")),
			       json_array_size(pl));
			size_t q;
			json_t *p;
			json_array_foreach(pl, q, p) printf(" %s", json_string_value(p));
			json_t *sl = json_object_get(a, "sets");
			if (sl)
				printf(" (%zu sets)", json_array_size(sl));
			printf("\n");
		}
		json_t *un = json_object_get(g, "unassigned");
		if (json_array_size(un)) {
			printf("  unassigned:");
			size_t q;
			json_t *p;
			json_array_foreach(un, q, p) printf(" %s", json_string_value(p));
			printf("\n");
		}
	}
	json_t *lr = json_object_get(j, "last_rebalance");
	if (json_object_get(lr, "time")) {
		printf("\nLAST REBALANCE %s: %lld moves; reason: %s\n",
		       tstr(json_real_value(json_object_get(lr, "time")), b1, sizeof(b1)),
		       (long long)json_integer_value(json_object_get(lr, "moved")),
		       json_string_value(json_object_get(lr, "reason")));
		size_t k;
		json_t *mv;
		json_array_foreach(json_object_get(lr, "moves"), k, mv)
		    printf("  %s: %s -> %s\n", json_string_value(json_object_get(mv, "what")),
			   json_string_value(json_object_get(mv, "from")),
			   json_string_value(json_object_get(mv, "to")));
	} else {
		printf("\nLAST REBALANCE: none yet\n");
	}
	json_decref(j);
	return 0;
}

static char *state_path_for(const char *ldms_config)
{
	size_t n = strlen(ldms_config) + 16;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.status.json", ldms_config);
	return p;
}

/* /P/maestro/status, or /P/maestro/status/<instance> with several instances */
static int etcd_status_key(const char *prefix, const char *instance, char **key,
			   struct ldms_err *err)
{
	char *root = NULL;
	int rc = cfgstore_etcd_root(prefix, &root, err);
	if (rc)
		return rc;
	size_t n = strlen(root) + 32 + (instance ? strlen(instance) : 0);
	*key = malloc(n);
	if (*key)
		snprintf(*key, n, "%s/maestro/status%s%s", root, instance ? "/" : "",
			 instance ? instance : "");
	free(root);
	return *key ? 0 : -ENOMEM;
}

static int cmd_status(const struct opts *o)
{
	char *text = NULL;
	if (o->state || o->ldms_config) {
		char *path = o->state ? strdup(o->state) : state_path_for(o->ldms_config);
		FILE *f = path ? fopen(path, "r") : NULL;
		if (!f) {
			fprintf(stderr, "maestro: no state at %s: %s (is maestro running?)\n",
				path ? path : "?", strerror(errno));
			free(path);
			return 1;
		}
		json_error_t je;
		json_t *j = json_loadf(f, 0, &je);
		fclose(f);
		free(path);
		if (!j) {
			fprintf(stderr, "maestro: bad state file: %s\n", je.text);
			return 1;
		}
		text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		json_decref(j);
	} else if (o->cluster && o->prefix) {
		struct etcd_yaml y;
		struct etcd_client *c = NULL;
		struct ldms_err err = {0};
		char *key = NULL;
		struct etcd_range_result r = {0};
		int rc = etcd_yaml_load(o->cluster, &y, &err);
		if (!rc) {
			rc = etcd_yaml_client(&y, &c, &err);
			etcd_yaml_free(&y);
		}
		if (!rc)
			rc = etcd_status_key(o->prefix, NULL, &key, &err);
		/* the single instance's key and every instance's key below it */
		struct etcd_range_opts ro = {.spec = {.prefix = 1}};
		if (!rc)
			rc = etcd_range(c, key, &ro, &r, &err);
		if (!rc && !r.count)
			rc = -ENOENT;
		if (rc) {
			fprintf(stderr, "maestro: cannot read the state from etcd: %s\n",
				rc == -ENOENT ? "no state stored (is maestro running?)" : err.msg);
			etcd_range_result_free(&r);
			etcd_client_free(c);
			free(key);
			return 1;
		}
		int ret = 0;
		for (size_t i = 0; i < r.count; i++) {
			if (i && !o->json)
				printf("\n");
			ret |= print_status(r.kvs[i].value, o->json);
		}
		etcd_range_result_free(&r);
		etcd_client_free(c);
		free(key);
		return ret;
	} else {
		fprintf(
		    stderr,
		    "maestro: --status needs --ldms_config, --state or --cluster and --prefix\n");
		return 2;
	}
	int rc = text ? print_status(text, o->json) : 1;
	free(text);
	return rc;
}

/* ---- options ------------------------------------------------------------------------------- */

static int parse_sec(const char *name, const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d <= 0) {
		fprintf(stderr, "maestro: error: argument %s: invalid value: '%s'\n", name, v);
		return -1;
	}
	*out = d;
	return 0;
}

enum {
	O_CLUSTER = 1000,
	O_PREFIX,
	O_LDMS_CONFIG,
	O_REBALANCE,
	O_TIMEOUT,
	O_INTERVAL,
	O_PROBE_TIMEOUT,
	O_REQUEST_TIMEOUT,
	O_RETRY,
	O_LOG,
	O_LOG_LEVEL,
	O_STATE,
	O_STATUS,
	O_JSON,
	O_VERSION,
	O_DEBUG,
	O_START_AGGS,
	O_MEMBER,
	O_MEMBER_TTL,
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"cluster", required_argument, NULL, O_CLUSTER},
	    {"prefix", required_argument, NULL, O_PREFIX},
	    {"ldms_config", required_argument, NULL, O_LDMS_CONFIG},
	    {"rebalance", required_argument, NULL, O_REBALANCE},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"probe-timeout", required_argument, NULL, O_PROBE_TIMEOUT},
	    {"request-timeout", required_argument, NULL, O_REQUEST_TIMEOUT},
	    {"retry", required_argument, NULL, O_RETRY},
	    {"log", required_argument, NULL, O_LOG},
	    {"log-level", required_argument, NULL, O_LOG_LEVEL},
	    {"state", required_argument, NULL, O_STATE},
	    {"status", no_argument, NULL, O_STATUS},
	    {"json", no_argument, NULL, O_JSON},
	    {"version", required_argument, NULL, O_VERSION},
	    {"debug", no_argument, NULL, O_DEBUG},
	    {"start-aggregators", no_argument, NULL, O_START_AGGS},
	    {"member", required_argument, NULL, O_MEMBER},
	    {"member-ttl", required_argument, NULL, O_MEMBER_TTL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_CLUSTER:
			o->cluster = optarg;
			break;
		case O_PREFIX:
			o->prefix = optarg;
			break;
		case O_LDMS_CONFIG:
			o->ldms_config = optarg;
			break;
		case O_REBALANCE:
			o->rebalance = optarg;
			break;
		case O_TIMEOUT:
			if (parse_sec("--timeout", optarg, &o->timeout))
				return 2;
			break;
		case O_INTERVAL:
			if (parse_sec("--interval", optarg, &o->interval))
				return 2;
			break;
		case O_PROBE_TIMEOUT:
			if (parse_sec("--probe-timeout", optarg, &o->probe_timeout))
				return 2;
			break;
		case O_REQUEST_TIMEOUT:
			if (parse_sec("--request-timeout", optarg, &o->request_timeout))
				return 2;
			break;
		case O_RETRY:
			if (parse_sec("--retry", optarg, &o->retry))
				return 2;
			break;
		case O_LOG:
			o->log_path = optarg;
			break;
		case O_LOG_LEVEL:
			o->log_level = optarg;
			break;
		case O_STATE:
			o->state = optarg;
			break;
		case O_STATUS:
			o->status = 1;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_VERSION:
			break; /* parsed, unused (as upstream) */
		case O_DEBUG:
			o->debug = 1;
			break;
		case O_START_AGGS:
			o->start_aggs = 1;
			break;
		case O_MEMBER:
			o->member = optarg;
			break;
		case O_MEMBER_TTL:
			if (parse_sec("--member-ttl", optarg, &o->member_ttl))
				return 2;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			fprintf(stderr, "maestro: error: unrecognized or incomplete argument: %s\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		fprintf(stderr, "maestro: error: unrecognized arguments: %s\n", argv[optind]);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.timeout = 15,
			 .interval = 1,
			 .probe_timeout = 3,
			 .retry = 1,
			 .request_timeout = 5,
			 .member_ttl = 5};
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	if (o.status)
		return cmd_status(&o);
	if (!o.ldms_config && (!o.cluster || !o.prefix)) {
		usage(stderr);
		fprintf(stderr, "maestro: error: the following arguments are required: --cluster, "
				"--prefix (or --ldms_config for the embedded mode)\n");
		return 2;
	}
	if (o.log_level) {
		/* upstream: an unknown name silently gives the root default (WARNING) */
		int l = mlog_level_parse(o.log_level);
		mlog_set_level(l < 0 ? MLOG_WARNING : l);
	}
	if (o.log_path && (rc = mlog_open(o.log_path))) {
		fprintf(stderr, "maestro: cannot open the log file %s: %s\n", o.log_path,
			strerror(-rc));
		return 1;
	}
	int by_sets = 0;
	if (o.rebalance) {
		if (!strcmp(o.rebalance, "sets")) {
			by_sets = 1;
		} else if (strcmp(o.rebalance, "producers")) {
			mlog(MLOG_ERROR,
			     "\"rebalance\" parameter must be assigned to either \"sets\" or "
			     "\"producers\".If no argument is specified, maestro will balance "
			     "across "
			     "producers by default");
			return 1;
		}
	}
	if (o.start_aggs)
		mlog(MLOG_WARNING, "--start-aggregators is not supported: start the aggregators "
				   "yourself (maestro configures them once they listen)");

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct mon_opts mo = {
	    .connect_timeout_ms = (int)(o.timeout * 1000),
	    .request_timeout_ms = (int)(o.request_timeout * 1000),
	    .probe_interval_ms = (int)(o.interval * 1000),
	    .probe_timeout_ms = (int)(o.probe_timeout * 1000),
	    .retry_ms = (int)(o.retry * 1000),
	};
	struct monitor *mon = NULL;
	struct engine *eng = NULL;
	struct publisher pub = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct etcd_src es = {0};
	struct file_src fs = {0};
	char *state_path = NULL;
	char *instance = NULL;
	uint64_t coord_seen = 0;
	int exit_rc = 1;
	if (mon_new(&mo, &mon))
		goto out;
	es.mon = mon;

	if (o.ldms_config) {
		state_path = o.state ? strdup(o.state) : state_path_for(o.ldms_config);
	} else {
		state_path = o.state ? strdup(o.state) : NULL;
		struct ldms_err err = {0};
		struct etcd_yaml y;
		if (etcd_yaml_load(o.cluster, &y, &err)) {
			char buf[1024];
			mlog(MLOG_ERROR, "%s", ldms_err_str(&err, buf, sizeof(buf)));
			goto out;
		}
		char *self = NULL;
		if (y.has_maestro_members && y.n_maestro_members) {
			if (coord_self_id(&y, o.member, &self, &err)) {
				mlog(MLOG_ERROR, "%s", err.msg);
				etcd_yaml_free(&y);
				goto out;
			}
			if (coord_start(&y, o.prefix, self, (int)(o.member_ttl + 0.5), 500,
					wake_mon, mon, &es.coord, &err)) {
				mlog(MLOG_ERROR, "Cannot start the multi-instance coordination: %s",
				     err.msg);
				free(self);
				etcd_yaml_free(&y);
				goto out;
			}
			instance = self;
		}
		etcd_yaml_free(&y);
		if (cfgstore_open_etcd(o.cluster, o.prefix, &es.store, &err)) {
			char buf[1024];
			mlog(MLOG_ERROR, "Unable to connect to etcd: %s",
			     ldms_err_str(&err, buf, sizeof(buf)));
			goto out;
		}
		pub.etcd = cfgstore_etcd_client(es.store);
		if (etcd_status_key(o.prefix, instance, &pub.etcd_key, &err))
			goto out;
	}
	pub.path = state_path;
	pub.coord = es.coord;
	if (!pthread_create(&pub.th, NULL, publisher_main, &pub))
		pub.started = 1;

	struct engine_opts eo = {
	    .by_sets = by_sets,
	    .retry_ms = mo.retry_ms,
	    .dir_timeout_ms = mo.request_timeout_ms,
	    .on_status = publish,
	    .status_arg = &pub,
	    .owns = es.coord ? owns_unit : NULL,
	    .owns_arg = es.coord,
	    .instance = instance,
	};
	if (engine_new(mon, &eo, &eng))
		goto out;

	mlog(MLOG_INFO, "maestro starting (%s, balancing by %s)",
	     o.ldms_config ? "embedded mode" : "etcd mode", by_sets ? "sets" : "producers");
	if (o.ldms_config) {
		fs.path = o.ldms_config;
		if (load_file(&fs, eng)) {
			/* a bad file at start-up is fatal, as for maestro_ctrl */
			goto out;
		}
	} else {
		load_etcd(&es, eng);
	}

	uint64_t next_etcd_try = 0;
	while (!got_stop) {
		uint64_t now = mon_mono_us();
		if (got_hup) {
			got_hup = 0;
			mlog(MLOG_INFO, "SIGHUP: reloading the configuration");
			if (o.ldms_config) {
				if (!stat_changed(&fs))
					engine_poke(eng, "SIGHUP");
				load_file(&fs, eng);
			} else {
				es.gen = 0; /* re-read even the same generation */
				load_etcd(&es, eng);
			}
		}
		if (o.ldms_config && now >= fs.next_check_us) {
			fs.next_check_us = now + 250000;
			if (stat_changed(&fs))
				load_file(&fs, eng);
		}
		if (!o.ldms_config &&
		    (atomic_exchange(&es.pending, 0) || (!es.have_model && now >= next_etcd_try))) {
			next_etcd_try = now + (uint64_t)mo.retry_ms * 1000u;
			load_etcd(&es, eng);
		}
		if (es.coord && coord_epoch(es.coord) != coord_seen) {
			coord_seen = coord_epoch(es.coord);
			char *mem = coord_members(es.coord);
			mlog(MLOG_INFO, "Instances: %s", mem ? mem : "?");
			free(mem);
			engine_refresh_ownership(eng);
		}
		int ms = engine_step(eng);
		mon_wait(mon, ms);
	}
	mlog(MLOG_INFO, "maestro exiting; the daemons keep their configuration");
	exit_rc = 0;
out:
	if (pub.started) {
		pthread_mutex_lock(&pub.lock);
		pub.stop = 1;
		pthread_cond_signal(&pub.cv);
		pthread_mutex_unlock(&pub.lock);
		pthread_join(pub.th, NULL);
	}
	free(pub.pending);
	free(pub.etcd_key);
	if (es.coord)
		coord_stop(es.coord); /* gives its groups back at once (lease revoked) */
	if (es.store)
		cfgstore_close(es.store); /* its watch thread wakes mon: stop it first */
	engine_free(eng);
	mon_free(mon);
	free(state_path);
	free(instance);
	mlog_close();
	return exit_rc;
}
