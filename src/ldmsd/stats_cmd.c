/* Status and statistics commands (ldms-protocol.md §1.4 "Security, status and
 * statistics"): set_stats, thread_stats, xprt_stats, log_status and the protocol
 * test command greeting. JSON keys follow upstream's replies (shared/golden/ldms/
 * ctl_*.json.txt); figures ldms-c cannot measure are left out, never invented. */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_set.h>
#include <ldms/ldms_xprt_stats.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_dump.h"
#include "ldmsd_plugin_inst.h"
#include "ldmsd_stats.h"

#define GATHER_TIMEOUT_MS 500
#define REPLY_TEXT_MAX	  (16u << 20)

/* ---- pure helpers ------------------------------------------------------------------------ */
enum ldmsd_thr_kind ldmsd_thread_kind(const char *comm)
{
	if (!strncmp(comm, "str:wrk:", 8))
		return LDMSD_THR_STORAGE;
	if (!strncmp(comm, "ldmsd:", 6))
		return LDMSD_THR_WORKER;
	return LDMSD_THR_OTHER;
}

void ldmsd_thr_window_calc(uint64_t cpu_us, uint64_t age_us, int have_prev, uint64_t prev_cpu_us,
			   uint64_t prev_wall_us, uint64_t now_wall_us, struct ldmsd_thr_window *w)
{
	if (have_prev && now_wall_us > prev_wall_us && cpu_us >= prev_cpu_us) {
		w->refresh_us = now_wall_us - prev_wall_us;
		w->active_us = cpu_us - prev_cpu_us;
	} else {
		w->refresh_us = age_us;
		w->active_us = cpu_us;
	}
	if (w->active_us > w->refresh_us)
		w->active_us = w->refresh_us; /* clock granularity */
	w->idle_us = w->refresh_us - w->active_us;
	w->utilization = w->refresh_us ? (double)w->active_us / (double)w->refresh_us : 0.0;
}

const char *ldmsd_log_levels_str(int threshold, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	if (threshold >= LDMS_LQUIET) {
		snprintf(buf, len, "QUIET");
		return buf;
	}
	if (threshold < LDMS_LDEBUG)
		threshold = LDMS_LDEBUG;
	for (int l = threshold; l < LDMS_LQUIET && off < len; l++) {
		int n =
		    snprintf(buf + off, len - off, "%s%s", off ? "," : "", ldms_log_level_name(l));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

char *ldmsd_greeting_records_text(long n, size_t max_rec)
{
	/* the codec puts at most max_rec - 24 (header) - 4 (terminator room) bytes of
	 * the attribute stream into one record; the stream of one STRING attribute is
	 * 12 (header) + text + 1 (NUL) bytes */
	size_t chunk = max_rec > LDMS_CTRL_REC_MIN ? max_rec - LDMS_CTRL_REC_HDR_LEN - 4 : 0;
	size_t len;
	if (n < 1 || chunk <= LDMS_CTRL_ATTR_HDR_LEN + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (n == 1)
		len = 1;
	else if ((size_t)(n - 1) > REPLY_TEXT_MAX / chunk) {
		errno = E2BIG;
		return NULL;
	} else
		len = (size_t)(n - 1) * chunk + 1 - LDMS_CTRL_ATTR_HDR_LEN - 1;
	char *t = malloc(len + 1);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		t[i] = (char)('0' + i % 10);
	t[len] = '\0';
	return t;
}

/* A JSON number that reads back as a float ("0.0", not "0"), as upstream's are. */
struct jdbl {
	char s[40];
};

static struct jdbl jdbl(double v)
{
	struct jdbl j;
	int n = snprintf(j.s, sizeof(j.s), "%g", v);
	if (n > 0 && (size_t)n < sizeof(j.s) - 2 && !strpbrk(j.s, ".eEn"))
		memcpy(j.s + n, ".0", 3);
	return j;
}

/* ---- set_stats ------------------------------------------------------------------------------ */
struct set_acc {
	uint64_t mem;
	double load;
};

static int set_acc_cb(ldms_set_t s, void *arg)
{
	struct set_acc *a = arg;
	a->mem += ldms_set_mem_size(s);
	if (!ldms_set_is_remote(s))
		return 0;
	/* a mirror costs its data section once per update interval (updt_hint_us) */
	char *hint = ldms_set_info_get(s, "updt_hint_us");
	if (hint) {
		char *end;
		long long iv = strtoll(hint, &end, 10);
		if (end != hint && iv > 0)
			a->load += (double)ldms_set_data_sz_get(s) * 1e6 / (double)iv;
		free(hint);
	}
	return 0;
}

int ldmsd_set_stats_json(struct ldmsd *d, struct ldmsd_buf *b)
{
	uint64_t t0 = ldms_monotonic_us();
	struct set_acc a = {0};
	size_t active = ldms_set_registry_count();
	ldms_set_registry_foreach(set_acc_cb, &a);
	size_t live = ldms_set_live_count();
	uint64_t total_kb = d->s.set_memory > 0 ? (uint64_t)d->s.set_memory / 1024 : 0;
	uint64_t used_kb = (a.mem + 1023) / 1024;
	return ldmsd_buf_printf(
	    b,
	    "{\"active_count\":%zu,\"deleting_count\":%zu,\"mem_total_kb\":%" PRIu64
	    ",\"mem_free_kb\":%" PRIu64 ",\"mem_used_kb\":%" PRIu64 ",\"set_load\":%.0f,"
	    "\"compute_time\":%" PRIu64 "}",
	    active, live > active ? live - active : 0, total_kb,
	    total_kb > used_kb ? total_kb - used_kb : 0, used_kb, a.load, ldms_monotonic_us() - t0);
}

/* ---- thread_stats -----------------------------------------------------------------------------
 */
/* The previous sample of each thread, so that utilisation covers the time since the
 * last query (upstream: a fixed 3 s window kept by the threads themselves). */
#define THR_PREV_MAX 256
static struct {
	pthread_mutex_t lock;
	int n;
	struct {
		pid_t tid;
		uint64_t cpu_us, wall_us;
	} e[THR_PREV_MAX];
} thr_prev = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void thr_window(const struct ldms_thread_usage *u, uint64_t now, struct ldmsd_thr_window *w)
{
	pthread_mutex_lock(&thr_prev.lock);
	int i;
	for (i = 0; i < thr_prev.n; i++)
		if (thr_prev.e[i].tid == u->tid)
			break;
	int have = i < thr_prev.n;
	ldmsd_thr_window_calc(u->cpu_us, u->age_us, have, have ? thr_prev.e[i].cpu_us : 0,
			      have ? thr_prev.e[i].wall_us : 0, now, w);
	if (!have && thr_prev.n == THR_PREV_MAX) {
		/* forget the oldest entry (threads come and go) */
		memmove(&thr_prev.e[0], &thr_prev.e[1], (THR_PREV_MAX - 1) * sizeof(thr_prev.e[0]));
		i = --thr_prev.n;
	}
	if (!have)
		thr_prev.n++;
	thr_prev.e[i].tid = u->tid;
	thr_prev.e[i].cpu_us = u->cpu_us;
	thr_prev.e[i].wall_us = now;
	pthread_mutex_unlock(&thr_prev.lock);
}

static void thr_common(struct ldmsd_buf *b, const char *name, const struct ldms_thread_usage *u,
		       uint64_t pthread_id, uint64_t now, struct ldmsd_thr_window *w)
{
	thr_window(u, now, w);
	ldmsd_buf_append(b, "{\"name\":", 8);
	ldmsd_buf_json_str(b, name);
	ldmsd_buf_printf(b, ",\"tid\":%d", (int)u->tid);
	if (pthread_id)
		ldmsd_buf_printf(b, ",\"thread_id\":\"%#" PRIx64 "\"", pthread_id);
	ldmsd_buf_printf(
	    b, ",\"idle_tot\":%" PRIu64 ",\"active_tot\":%" PRIu64 ",\"total_us\":%" PRIu64,
	    u->age_us - u->cpu_us, u->cpu_us, u->age_us);
}

static void thr_other(struct ldmsd_buf *b, const struct ldms_thread_usage *u, uint64_t now)
{
	struct ldmsd_thr_window w;
	thr_common(b, u->name, u, 0, now, &w);
	/* ev_cnt: wake-ups, i.e. how many times the thread got work after waiting */
	ldmsd_buf_printf(b,
			 ",\"utilization\":%s,\"idle_us\":%" PRIu64 ",\"active_us\":%" PRIu64
			 ",\"refresh_us\":%" PRIu64 ",\"ev_cnt\":%" PRIu64 "}",
			 jdbl(w.utilization).s, w.idle_us, w.active_us, w.refresh_us, u->wakeups);
}

static int thread_stats_json(struct ldmsd *d, struct ldmsd_buf *b, int reset);

/* Per-category I/O-thread time at the last `thread_stats reset`, per thread. */
#define IO_BASE_MAX 64
static struct {
	pthread_mutex_t lock;
	int n;
	struct {
		pid_t tid;
		uint64_t age_us, cat_us[LDMS_IO_CAT_COUNT];
	} e[IO_BASE_MAX];
} io_base = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* "ldms_xprt": what the thread spent its time on since start (or the last reset);
 * Idle is the rest of its wall time. */
static void io_cats(struct ldmsd_buf *b, const struct ldms_io_thread_info *t, int reset)
{
	uint64_t base_age = 0, base[LDMS_IO_CAT_COUNT] = {0}, cur[LDMS_IO_CAT_COUNT], busy = 0;
	pthread_mutex_lock(&io_base.lock);
	int i;
	for (i = 0; i < io_base.n && io_base.e[i].tid != t->tid; i++)
		;
	if (i < io_base.n) {
		base_age = io_base.e[i].age_us;
		memcpy(base, io_base.e[i].cat_us, sizeof(base));
	}
	if (reset && (i < io_base.n || io_base.n < IO_BASE_MAX)) {
		if (i == io_base.n)
			io_base.n++;
		io_base.e[i].tid = t->tid;
		io_base.e[i].age_us = t->usage.age_us;
		memcpy(io_base.e[i].cat_us, t->cat_us, sizeof(t->cat_us));
	}
	pthread_mutex_unlock(&io_base.lock);
	for (int c = 0; c < LDMS_IO_CAT_COUNT; c++) {
		cur[c] = t->cat_us[c] > base[c] ? t->cat_us[c] - base[c] : 0;
		busy += cur[c];
	}
	uint64_t wall = t->usage.age_us > base_age ? t->usage.age_us - base_age : 0;
	ldmsd_buf_printf(b, ",\"ldms_xprt\":{\"Idle\":%" PRIu64, wall > busy ? wall - busy : 0);
	for (int c = 0; c < LDMS_IO_CAT_COUNT; c++)
		ldmsd_buf_printf(b, ",\"%s\":%" PRIu64, ldms_io_cat_name(c), cur[c]);
	ldmsd_buf_append(b, "}}", 2);
}

int ldmsd_thread_stats_json(struct ldmsd *d, struct ldmsd_buf *b)
{
	return thread_stats_json(d, b, 0);
}

static int thread_stats_json(struct ldmsd *d, struct ldmsd_buf *b, int reset)
{
	uint64_t t0 = ldms_monotonic_us();
	struct ldms_xprt_snapshot snap;
	int rc = ldms_xprt_snapshot_get(&snap, GATHER_TIMEOUT_MS);
	if (rc)
		return rc;
	uint64_t now = ldms_monotonic_us();
	ldmsd_buf_printf(b, "{\"count\":%zu,\"io_threads\":[", snap.n_io);
	for (size_t i = 0; i < snap.n_io; i++) {
		const struct ldms_io_thread_info *t = &snap.io[i];
		struct ldmsd_thr_window w;
		if (i)
			ldmsd_buf_append(b, ",", 1);
		thr_common(b, "zap_sock_io", &t->usage, t->pthread_id, now, &w);
		ldmsd_buf_printf(b,
				 ",\"idle_us\":%" PRIu64 ",\"active_us\":%" PRIu64
				 ",\"refresh_us\":%" PRIu64 ",\"utilization\":%s",
				 w.idle_us, w.active_us, w.refresh_us, jdbl(w.utilization).s);
		if (t->gathered)
			ldmsd_buf_printf(b, ",\"sq_sz\":%" PRIu64 ",\"n_eps\":%d", t->sq_sz,
					 t->n_eps);
		io_cats(b, t, reset);
	}
	ldmsd_buf_append(b, "]", 1);

	pid_t tids[1024];
	int nt = ldms_thread_list(tids, 1024);
	for (int kind = LDMSD_THR_WORKER; kind <= LDMSD_THR_STORAGE; kind++) {
		ldmsd_buf_printf(b, ",\"%s\":[",
				 kind == LDMSD_THR_WORKER ? "worker_threads" : "storage threads");
		int n = 0;
		for (int i = 0; i < nt; i++) {
			struct ldms_thread_usage u;
			if (ldms_thread_usage_get(tids[i], &u) ||
			    ldmsd_thread_kind(u.name) != (enum ldmsd_thr_kind)kind)
				continue;
			if (n++)
				ldmsd_buf_append(b, ",", 1);
			thr_other(b, &u, now);
		}
		ldmsd_buf_append(b, "]", 1);
		if (kind == LDMSD_THR_WORKER)
			ldmsd_buf_printf(b, ",\"xthreads\":[]"); /* exclusive threads: none */
	}
	ldms_xprt_snapshot_free(&snap);
	return ldmsd_buf_printf(b, ",\"compute_time\":%" PRIu64 "}", ldms_monotonic_us() - t0);
}

/* ---- xprt_stats --------------------------------------------------------------------------------
 */
static struct {
	pthread_mutex_t lock;
	uint64_t t_us, total, closed, connected, rejected, auth_failed;
} xprt_base = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void op_stats_json(struct ldmsd_buf *b, const struct ldms_xprt_op_stats *o)
{
	ldmsd_buf_append(b, ",\"op_stats\":{", 13);
	for (int op = 0; op < LDMS_XPRT_OP_COUNT; op++, o++) {
		/* upstream's placeholders for an operation never seen */
		const char *none = "0.0.0.0:0:0", *type = o->count ? "sock" : "????";
		ldmsd_buf_printf(b, "%s\"%s\":{\"count\":%" PRIu64 ",\"total_us\":%" PRIu64,
				 op ? "," : "", ldms_xprt_op_name(op), o->count, o->total_us);
		ldmsd_buf_printf(b, ",\"min_us\":%" PRIu64 ",\"min_peer\":", o->min_us);
		ldmsd_buf_json_str(b, o->count && o->min_peer[0] ? o->min_peer : none);
		ldmsd_buf_printf(
		    b, ",\"min_peer_type\":\"%s\",\"max_us\":%" PRIu64 ",\"max_peer\":", type,
		    o->max_us);
		ldmsd_buf_json_str(b, o->count && o->max_peer[0] ? o->max_peer : none);
		ldmsd_buf_printf(b, ",\"max_peer_type\":\"%s\",\"mean_us\":%" PRIu64 "}", type,
				 o->count ? o->total_us / o->count : 0);
	}
	ldmsd_buf_append(b, "}", 1);
}

int ldmsd_xprt_stats_json(struct ldmsd *d, int level, int reset, struct ldmsd_buf *b)
{
	uint64_t t0 = ldms_monotonic_us();
	struct ldms_xprt_snapshot snap;
	int rc = ldms_xprt_snapshot_get(&snap, GATHER_TIMEOUT_MS);
	if (rc)
		return rc;
	int n_listen = 0, n_conn = 0, n_connecting = 0, n_close = 0, n = 0;
	ldmsd_buf_printf(b, "{\"level\":%d,\"rails\":[", level);
	struct ldmsd_listen *l;
	TAILQ_FOREACH(l, &d->listeners, link)
	{
		if (!l->l)
			continue;
		n_listen++;
		ldmsd_buf_printf(b, "%s{\"state\":\"listen\",\"n_eps\":1,\"endpoints\":{}}",
				 n++ ? "," : "");
	}
	for (size_t i = 0; i < snap.n_ep; i++) {
		const struct ldms_ep_info *e = &snap.ep[i];
		int closed = !strcmp(e->state, "close");
		n_conn += !strcmp(e->state, "connect");
		n_connecting += !strcmp(e->state, "connecting");
		n_close += closed;
		ldmsd_buf_printf(b, "%s{\"state\":\"%s\"", n++ ? "," : "", e->state);
		if (!closed) {
			ldmsd_buf_append(b, ",\"remote_host\":", 15);
			ldmsd_buf_json_str(b, e->peer);
		}
		ldmsd_buf_append(b, ",\"n_eps\":1,\"endpoints\":{", 24);
		if (!closed)
			ldmsd_buf_printf(b, "\"ep0\":{\"sq_sz\":%" PRIu64 "}", e->sq_sz);
		ldmsd_buf_append(b, "}}", 2);
	}
	const struct ldms_xprt_stats *c = &snap.counters;
	uint64_t closed_total = c->connections_total > c->connections_open
				    ? c->connections_total - c->connections_open
				    : 0;
	/* rates and duration since the last `xprt_stats reset` (else since start) */
	struct ldms_xprt_op_stats ops[LDMS_XPRT_OP_COUNT];
	ldms_xprt_op_stats_get(ops);
	pthread_mutex_lock(&xprt_base.lock);
	uint64_t b_t = xprt_base.t_us, b_total = xprt_base.total, b_closed = xprt_base.closed,
		 b_conn = xprt_base.connected, b_rej = xprt_base.rejected,
		 b_auth = xprt_base.auth_failed;
	if (reset) {
		xprt_base.t_us = snap.uptime_us;
		xprt_base.total = c->connections_total;
		xprt_base.closed = closed_total;
		xprt_base.connected = c->connected_total;
		xprt_base.rejected = c->rejected_total;
		xprt_base.auth_failed = c->auth_failed_total;
		ldms_xprt_op_stats_reset();
	}
	pthread_mutex_unlock(&xprt_base.lock);
	double dur = (double)(snap.uptime_us - b_t) / 1e6;
#define RATE(n) jdbl(dur > 0 ? (double)(n) / dur : 0.0).s
	/* the engine counts connections of both directions together: the request
	 * rate covers accepted and initiated ones, connect_rate_s those that
	 * completed authentication */
	ldmsd_buf_printf(b,
			 "],\"compute_time_us\":%" PRIu64 ",\"connect_rate_s\":%s,"
			 "\"connect_request_rate_s\":%s,\"disconnect_rate_s\":%s,"
			 "\"reject_rate_s\":%s,\"auth_fail_rate_s\":%s,\"xprt_count\":%d,"
			 "\"connect_count\":%d,\"connecting_count\":%d,\"listen_count\":%d,"
			 "\"close_count\":%d,\"duration\":%s",
			 ldms_monotonic_us() - t0, RATE(c->connected_total - b_conn),
			 RATE(c->connections_total - b_total), RATE(closed_total - b_closed),
			 RATE(c->rejected_total - b_rej), RATE(c->auth_failed_total - b_auth), n,
			 n_conn, n_connecting, n_listen, n_close, jdbl(dur).s);
#undef RATE
	op_stats_json(b, ops);
	ldmsd_buf_append(b, "}", 1);
	ldms_xprt_snapshot_free(&snap);
	return b->s ? 0 : -ENOMEM;
}

/* ---- loggers (log_status, log_level name=/regex=) ------------------------------------------ */
#define PLUGIN_LOG_DESC_SAMPLER "Sampler plugin log file."
#define PLUGIN_LOG_DESC_STORE	"Store plugin log file."

/* The subsystems ldmsd's own code passes to ldms_log (libldms registers its own). */
static const struct {
	const char *name, *desc;
} ldmsd_loggers[] = {
    {"config", "Messages for the configuration infrastructure"},
    {"ctrl", "Messages for the control request channel"},
    {"producer", "Messages for the producer infrastructure"},
    {"sampler", "Messages for the common sampler infrastructure"},
    {"strgp", "Messages for the storage policy infrastructure"},
    {"updater", "Messages for the updater infrastructure"},
};

struct live_plugins {
	struct ldmsd *d;
	char **names;
	size_t n, cap;
};

static int plugin_logger_cb(void *arg, const char *name, const char *plugin, const char *type)
{
	struct live_plugins *lp = arg;
	struct ldmsd_plugin_inst *pi = ldmsd_plugin_inst_find(lp->d, name);
	const struct ldmsd_plugin_handle *h = pi ? ldmsd_plugin_inst_handle(pi) : NULL;
	if (!h || !h->log_name)
		return 0;
	int rc =
	    ldms_logger_register(h->log_name, !strncmp(type, "store", 5) ? PLUGIN_LOG_DESC_STORE
									 : PLUGIN_LOG_DESC_SAMPLER);
	if (rc == -ENOSPC)
		return 0; /* the table is full: this one just follows the default */
	if (rc)
		return rc;
	if (lp->n == lp->cap) {
		size_t nc = lp->cap ? 2 * lp->cap : 16;
		char **v = realloc(lp->names, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		lp->names = v;
		lp->cap = nc;
	}
	if (!(lp->names[lp->n] = strdup(h->log_name)))
		return -ENOMEM;
	lp->n++;
	return 0;
}

static void live_plugins_free(struct live_plugins *lp)
{
	for (size_t i = 0; i < lp->n; i++)
		free(lp->names[i]);
	free(lp->names);
	lp->names = NULL;
	lp->n = lp->cap = 0;
}

/* Registers ldmsd's subsystems and the loaded plugins' loggers; with lp, also
 * collects the plugins' logger names (the loggers of plugins since removed stay
 * registered but are not listed). */
static int loggers_sync(struct ldmsd *d, struct live_plugins *lp)
{
	struct live_plugins tmp = {.d = d};
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(ldmsd_loggers) / sizeof(ldmsd_loggers[0]); i++)
		rc = ldms_logger_register(ldmsd_loggers[i].name, ldmsd_loggers[i].desc);
	if (!lp)
		lp = &tmp;
	lp->d = d;
	if (!rc)
		rc = ldmsd_dump_plugins_foreach(d, plugin_logger_cb, lp);
	live_plugins_free(&tmp);
	return rc;
}

/* Upstream 4.5's names of subsystems ldms-c logs under another name, so that an
 * upstream configuration's `log_level name=` works unchanged. */
static const char *logger_alias(const char *name)
{
	static const char *const map[][2] = {
	    {"xprt.ldms", "xprt"}, {"xprt.zap", "xprt"},   {"xprt.zap.sock", "xprt"},
	    {"store", "strgp"},	   {"stream", "ldms.msg"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(name, map[i][0]))
			return map[i][1];
	return name;
}

static int is_default_logger(const char *name)
{
	return !strcmp(name, LDMSD_LOG) || !strcmp(name, "ldmsd (default)");
}

struct lvl_apply {
	regex_t re;
	int mask, n, test;
};

static void log_test_lines(const char *logger)
{
	for (int l = LDMS_LDEBUG; l < LDMS_LQUIET; l++)
		ldms_log(l, logger, "log_level test: a %s message", ldms_log_level_name(l));
}

static int lvl_apply_cb(void *arg, const char *name, const char *desc, int mask)
{
	struct lvl_apply *a = arg;
	if (regexec(&a->re, name, 0, NULL, 0))
		return 0;
	int rc = ldms_logger_mask_set(name, a->mask);
	if (!rc)
		a->n++;
	if (!rc && a->test)
		log_test_lines(name);
	return rc;
}

int ldmsd_log_level_apply(struct ldmsd *d, const char *name, const char *regex, int mask, int test,
			  struct ldms_err *err)
{
	int rc = loggers_sync(d, NULL);
	if (rc)
		return ldms_err_set(err, rc, "log_level: %s", strerror(-rc));
	if (name && *name) {
		if (is_default_logger(name)) {
			ldms_log_mask_set(mask);
			d->s.log_level = ldms_log_level_get();
			if (test)
				log_test_lines(LDMSD_LOG);
			return 0;
		}
		rc = ldms_logger_mask_set(logger_alias(name), mask);
		if (rc)
			return ldms_err_set(err, rc, "log_level: logger '%s' not found", name);
		if (test)
			log_test_lines(logger_alias(name));
		return 0;
	}
	struct lvl_apply a = {.mask = mask, .test = test};
	rc = ldms_regcomp(&a.re, regex, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char eb[128];
		regerror(rc, &a.re, eb, sizeof(eb));
		return ldms_err_set(err, -EINVAL, "log_level: invalid regex '%s': %s", regex, eb);
	}
	rc = ldms_logger_foreach(lvl_apply_cb, &a);
	regfree(&a.re);
	if (rc)
		return ldms_err_set(err, rc, "log_level: %s", strerror(-rc));
	if (!a.n)
		return ldms_err_set(err, -ENOENT, "log_level: no logger matches '%s'", regex);
	return 0;
}

struct status_list {
	struct ldmsd_buf *j;
	const char *want;
	struct live_plugins *lp;
	int n, found;
};

static int status_cb(void *arg, const char *name, const char *desc, int mask)
{
	struct status_list *s = arg;
	char lv[80];
	if (s->want && *s->want && strcmp(s->want, name))
		return 0;
	if (!strcmp(desc, PLUGIN_LOG_DESC_SAMPLER) || !strcmp(desc, PLUGIN_LOG_DESC_STORE)) {
		size_t i;
		for (i = 0; i < s->lp->n && strcmp(s->lp->names[i], name); i++)
			;
		if (i == s->lp->n)
			return 0; /* the plugin is gone */
	}
	s->found = 1;
	ldmsd_buf_printf(s->j, "%s{\"name\":", s->n++ ? "," : "");
	ldmsd_buf_json_str(s->j, name);
	ldmsd_buf_append(s->j, ",\"desc\":", 8);
	ldmsd_buf_json_str(s->j, desc);
	ldmsd_buf_printf(s->j, ",\"level\":\"%s\"}", ldms_log_mask_str(mask, lv, sizeof(lv)));
	return 0;
}

static int log_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *want = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct live_plugins lp = {.d = c->d};
	int rc = loggers_sync(c->d, &lp);
	if (rc) {
		live_plugins_free(&lp);
		return ldmsd_reply_err(c, rc, "log_status: %s", strerror(-rc));
	}
	char lv[80];
	int dflt = !want || !*want || is_default_logger(want);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct status_list s = {.j = j, .want = want, .lp = &lp, .found = dflt};
	ldmsd_buf_append(j, "[", 1);
	if (dflt)
		s.n += !ldmsd_buf_printf(j,
					 "{\"name\":\"ldmsd (default)\",\"desc\":\"The default log "
					 "subsystem\",\"level\":\"%s\"}",
					 ldms_log_mask_str(ldms_log_mask_get(), lv, sizeof(lv)));
	ldms_logger_foreach(status_cb, &s);
	ldmsd_buf_append(j, "]", 1);
	live_plugins_free(&lp);
	if (!s.found) {
		ldmsd_buf_reset(j);
		return ldmsd_reply_err(c, -ENOENT, "log_status: logger '%s' not found", want);
	}
	return 0;
}

/* ---- handlers
 * ----------------------------------------------------------------------------------------- */
static int json_reply(struct ldmsd_req_ctxt *c, int rc)
{
	if (rc) {
		ldmsd_buf_reset(ldmsd_reply_json(c));
		return ldmsd_reply_err(c, rc, "%s: %s", ldmsd_req_verb(c), strerror(-rc));
	}
	return 0;
}

static int set_stats_handler(struct ldmsd_req_ctxt *c)
{
	/* `summary` is accepted: the reply is a summary already */
	return json_reply(c, ldmsd_set_stats_json(c->d, ldmsd_reply_json(c)));
}

static int thread_stats_handler(struct ldmsd_req_ctxt *c)
{
	return json_reply(c, thread_stats_json(c->d, ldmsd_reply_json(c),
					       ldmsd_req_attr(c, LDMSD_ATTR_RESET) != NULL));
}

static int xprt_stats_handler(struct ldmsd_req_ctxt *c)
{
	const char *lv = ldmsd_req_attr(c, LDMSD_ATTR_LEVEL);
	long level = 0;
	if (lv && *lv) {
		char *end;
		level = strtol(lv, &end, 10);
		if (*end || level < 0 || level > 10)
			return ldmsd_reply_err(c, -EINVAL, "xprt_stats: invalid level '%s'", lv);
	}
	return json_reply(c, ldmsd_xprt_stats_json(c->d, (int)level,
						   ldmsd_req_attr(c, LDMSD_ATTR_RESET) != NULL,
						   ldmsd_reply_json(c)));
}

static int count_attr(struct ldmsd_req_ctxt *c, uint32_t id, long *out)
{
	const char *v = ldmsd_req_attr(c, id);
	char *end;
	if (!v)
		return 0;
	*out = strtol(v, &end, 10);
	if (!*v || *end || *out < 0 || (size_t)*out > REPLY_TEXT_MAX)
		return ldmsd_reply_err(c, -EINVAL,
				       "greeting: '%s' must be a count up to %u, not "
				       "'%s'",
				       ldms_ctrl_attr_name(id), REPLY_TEXT_MAX, v);
	return 1;
}

/* The protocol test command: name -> "Hello '<name>'", test -> "Hi", offset=N -> a
 * reply of N characters, level=N -> a reply spanning N records, path -> the name
 * of the daemon that answered (the hop a forwarded request reached). */
static int greeting_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	long off = -1, level = -1;
	int rc;
	if (name) {
		ldmsd_reply_msg(c, "Hello '%s'", name);
		return 0;
	}
	if ((rc = count_attr(c, LDMSD_ATTR_LEVEL, &level)) < 0)
		return rc;
	if (rc) {
		if (level == 0)
			return 0;
		ldms_t x = c->req->origin.kind == LDMSD_ORIGIN_NET ? c->req->origin.conn : NULL;
		char *t = ldmsd_greeting_records_text(level, x ? ldms_xprt_msg_max(x) : 65536);
		if (!t)
			return ldmsd_reply_err(c, -errno, "greeting: level %ld: %s", level,
					       strerror(errno));
		ldmsd_reply_msg(c, "%s", t);
		free(t);
		return 0;
	}
	if (ldmsd_req_attr(c, LDMSD_ATTR_TEST)) {
		ldmsd_reply_msg(c, "Hi");
		return 0;
	}
	if ((rc = count_attr(c, LDMSD_ATTR_OFFSET, &off)) < 0)
		return rc;
	if (rc) {
		char *t = malloc((size_t)off + 1);
		if (!t)
			return ldmsd_reply_err(c, -ENOMEM, "out of memory");
		for (long i = 0; i < off; i++)
			t[i] = (char)('a' + i % 26);
		t[off] = '\0';
		ldmsd_reply_msg(c, "%s", t);
		free(t);
		return 0;
	}
	if (ldmsd_req_attr(c, LDMSD_ATTR_PATH)) {
		char nb[300];
		ldmsd_reply_msg(c, "%s", ldmsd_daemon_name(c->d, nb, sizeof(nb)));
		return 0;
	}
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})

const struct ldmsd_cmd_def ldmsd_stats_cmds[] = {
    {"set_stats", set_stats_handler, 0, ATTRS({"summary", 0})},
    {"thread_stats", thread_stats_handler, 0, ATTRS({"reset", 0})},
    {"xprt_stats", xprt_stats_handler, 0, ATTRS({"reset", 0}, {"level", 0})},
    {"log_status", log_status_handler, 0, ATTRS({"name", 0})},
    {"greeting", greeting_handler, 0,
     ATTRS({"name", 0}, {"offset", 0}, {"level", 0}, {"test", 0}, {"path", 0})},
    {NULL, NULL, 0, NULL},
};
