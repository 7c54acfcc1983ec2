/* Connections to the ldmsd's maestro manages and their health (monitor.h): connects run
 * on their own threads so a slow host never stalls the loop, daemon_status probes are
 * asynchronous with a deadline, and a dropped connection is a failure at the next tick.
 * Also pushes command lists, reads status replies back, and writes maestro's log. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "ldms/ldms_util.h"
#include "monitor.h"

/* ---- log --------------------------------------------------------------------------------- */

static FILE *log_fp;
static int log_level = MLOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int mlog_level_parse(const char *s)
{
	static const struct {
		const char *n;
		int l;
	} t[] = {{"debug", MLOG_DEBUG},	     {"info", MLOG_INFO},   {"warn", MLOG_WARNING},
		 {"warning", MLOG_WARNING},  {"error", MLOG_ERROR}, {"fatal", MLOG_CRITICAL},
		 {"critical", MLOG_CRITICAL}};
	for (size_t i = 0; s && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].l;
	return -1;
}

void mlog_set_level(int level)
{
	log_level = level;
}

int mlog_enabled(int level)
{
	return level >= log_level;
}

int mlog_open(const char *path)
{
	if (!path || !strcmp(path, "-")) {
		log_fp = NULL;
		return 0;
	}
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&log_lock);
	if (log_fp)
		fclose(log_fp);
	log_fp = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void mlog_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fp)
		fclose(log_fp);
	log_fp = NULL;
	pthread_mutex_unlock(&log_lock);
}

static const char *level_name(int l)
{
	switch (l) {
	case MLOG_DEBUG:
		return "DEBUG";
	case MLOG_INFO:
		return "INFO";
	case MLOG_WARNING:
		return "WARNING";
	case MLOG_ERROR:
		return "ERROR";
	default:
		return "CRITICAL";
	}
}

void mlog(int level, const char *fmt, ...)
{
	if (level < log_level)
		return;
	struct timeval tv;
	struct tm tm;
	char ts[32];
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%F %T", &tm);
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&log_lock);
	FILE *f = log_fp ? log_fp : stderr;
	fprintf(f, "%s.%03d __main__ %s ", ts, (int)(tv.tv_usec / 1000), level_name(level));
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
	va_end(ap);
}

/* ---- time ------------------------------------------------------------------------------------ */

uint64_t mon_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

uint64_t mon_mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

const char *mon_health_str(enum mon_health h)
{
	switch (h) {
	case MON_UNMANAGED:
		return "unmanaged";
	case MON_DOWN:
		return "down";
	case MON_UP:
		return "up";
	}
	return "?";
}

/* ---- daemons ------------------------------------------------------------------------------- */

int mon_new(const struct mon_opts *o, struct monitor **out)
{
	struct monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->o = *o;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = m;
	return 0;
}

static void set_str(char **dst, const char *src)
{
	char *n = src ? strdup(src) : NULL;
	free(*dst);
	*dst = n;
}

static void close_cli(struct monitor *m, struct mon_daemon *d)
{
	struct ldms_ctrl_client *cli = d->cli;
	d->cli = NULL;
	pthread_mutex_lock(&m->lock);
	d->gen++; /* replies of the old connection are ignored from now on */
	d->probe_out = 0;
	d->probe_done = 0;
	pthread_mutex_unlock(&m->lock);
	/* may run async callbacks on this thread: m->lock must not be held */
	if (cli)
		ldms_ctrl_client_close(cli);
}

static void join_connect(struct monitor *m, struct mon_daemon *d)
{
	pthread_mutex_lock(&m->lock);
	int j = d->conn_joinable;
	d->conn_joinable = 0;
	pthread_mutex_unlock(&m->lock);
	if (j)
		pthread_join(d->conn_th, NULL);
}

static void daemon_free(struct monitor *m, struct mon_daemon *d)
{
	join_connect(m, d);
	close_cli(m, d);
	if (d->conn_result)
		ldms_ctrl_client_close(d->conn_result);
	rb_state_free(&d->applied);
	free(d->name);
	free(d->host);
	free(d->port);
	free(d->xprt);
	free(d->auth_plugin);
	free(d->auth_conf);
	free(d->reason);
	free(d->last_error);
	free(d->version);
	free(d);
}

void mon_free(struct monitor *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		daemon_free(m, m->d[i]);
	free(m->d);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cv);
	free(m);
}

struct mon_daemon *mon_find(struct monitor *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->d[i]->name, name))
			return m->d[i];
	return NULL;
}

void mon_mark_all_removed(struct monitor *m)
{
	for (size_t i = 0; i < m->n; i++)
		m->d[i]->removed = 1;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

struct mon_daemon *mon_daemon_set(struct monitor *m, const char *name, const char *host,
				  const char *port, const char *xprt, const char *auth_plugin,
				  const char *auth_conf)
{
	struct mon_daemon *d = mon_find(m, name);
	if (!d) {
		struct mon_daemon **nd = realloc(m->d, (m->n + 1) * sizeof(*nd));
		if (!nd)
			return NULL;
		m->d = nd;
		if (!(d = calloc(1, sizeof(*d))) || !(d->name = strdup(name))) {
			free(d);
			return NULL;
		}
		d->health = MON_DOWN;
		d->cfg_expect = -1;
		d->probe_cntr = -1;
		rb_state_init(&d->applied);
		m->d[m->n++] = d;
	}
	d->removed = 0;
	int managed = host && port;
	if (d->managed &&
	    (!managed || !same(d->host, host) || !same(d->port, port) || !same(d->xprt, xprt) ||
	     !same(d->auth_plugin, auth_plugin) || !same(d->auth_conf, auth_conf))) {
		/* the endpoint moved: start over with the new one */
		close_cli(m, d);
		d->health = MON_DOWN;
		d->synced = 0;
		d->next_connect_us = 0;
	}
	if (managed && !d->managed) {
		d->tried = 0;
		d->managed_at_us = mon_mono_us();
	}
	set_str(&d->host, host);
	set_str(&d->port, port);
	set_str(&d->xprt, xprt ? xprt : "sock");
	set_str(&d->auth_plugin, auth_plugin);
	set_str(&d->auth_conf, auth_conf);
	d->managed = managed;
	if (!managed)
		d->health = MON_UNMANAGED;
	else if (d->health == MON_UNMANAGED)
		d->health = MON_DOWN;
	return d;
}

void mon_wake(struct monitor *m)
{
	pthread_mutex_lock(&m->lock);
	m->wake = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->lock);
}

void mon_wait(struct monitor *m, int ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->lock);
	while (!m->wake)
		if (pthread_cond_timedwait(&m->cv, &m->lock, &dl) == ETIMEDOUT)
			break;
	m->wake = 0;
	pthread_mutex_unlock(&m->lock);
}

/* ---- connecting ------------------------------------------------------------------------------ */

struct conn_arg {
	struct monitor *m;
	struct mon_daemon *d;
	char *host, *port, *xprt, *plugin, *conf;
	int timeout_ms;
};

static void *connect_main(void *p)
{
	struct conn_arg *a = p;
	struct ldms_err err = {0};
	struct ldms_auth_cfg auth, *ap = NULL;
	struct ldms_ctrl_client *cli = NULL;
	if (a->plugin) {
		char kv[1100];
		char *args[1] = {kv};
		int argc = 0;
		if (a->conf) {
			/* the endpoint's auth conf is the plugin's option (a secret file) */
			snprintf(kv, sizeof(kv), "%s%s",
				 strchr(a->conf, '=') ? "" : "conf=", a->conf);
			argc = 1;
		}
		if (ldms_auth_cfg_init(&auth, a->plugin, argc, args, &err) == 0)
			ap = &auth;
	}
	if (!a->plugin || ap)
		cli = ldms_ctrl_client_connect(a->host, a->port, a->xprt, ap, a->timeout_ms, &err);
	if (ap)
		ldms_auth_cfg_free(ap);
	pthread_mutex_lock(&a->m->lock);
	a->d->conn_result = cli;
	snprintf(a->d->conn_err, sizeof(a->d->conn_err), "%s", cli ? "" : err.msg);
	a->d->conn_done = 1;
	a->m->wake = 1;
	pthread_cond_signal(&a->m->cv);
	pthread_mutex_unlock(&a->m->lock);
	free(a->host);
	free(a->port);
	free(a->xprt);
	free(a->plugin);
	free(a->conf);
	free(a);
	return NULL;
}

static void start_connect(struct monitor *m, struct mon_daemon *d)
{
	join_connect(m, d);
	struct conn_arg *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	a->m = m;
	a->d = d;
	a->host = strdup(d->host);
	a->port = strdup(d->port);
	a->xprt = strdup(d->xprt);
	a->plugin = d->auth_plugin ? strdup(d->auth_plugin) : NULL;
	a->conf = d->auth_conf ? strdup(d->auth_conf) : NULL;
	a->timeout_ms = m->o.connect_timeout_ms;
	pthread_mutex_lock(&m->lock);
	d->connecting = 1;
	d->conn_done = 0;
	int rc = pthread_create(&d->conn_th, NULL, connect_main, a);
	if (!rc)
		d->conn_joinable = 1;
	else
		d->connecting = 0;
	pthread_mutex_unlock(&m->lock);
	if (rc) {
		free(a->host);
		free(a->port);
		free(a->xprt);
		free(a->plugin);
		free(a->conf);
		free(a);
	}
}

static void set_health(struct mon_daemon *d, enum mon_health h, const char *why)
{
	d->changed = d->health != h || d->changed;
	d->health = h;
	d->since_us = mon_now_us();
	set_str(&d->reason, why);
}

void mon_set_down(struct monitor *m, struct mon_daemon *d, const char *why)
{
	if (d->health != MON_UP)
		return;
	close_cli(m, d);
	set_health(d, MON_DOWN, why);
	d->synced = 0;
	d->warned_down = 1;
	d->next_connect_us = mon_mono_us() + (uint64_t)m->o.retry_ms * 1000u;
	mlog(MLOG_WARNING, "Daemon %s is down: %s", d->name, why);
}

/* ---- probes --------------------------------------------------------------------------------- */

struct probe_arg {
	struct monitor *m;
	struct mon_daemon *d;
	unsigned gen;
	int cntr; /* the CFG_CNTR half of the probe */
};

static void probe_cb(struct ldms_ctrl_client *cli, int status, struct ldms_ctrl_msg *rsp, void *arg)
{
	struct probe_arg *a = arg;
	struct monitor *m = a->m;
	pthread_mutex_lock(&m->lock);
	struct mon_daemon *d = a->d;
	if (a->gen == d->gen) {
		const char *t = rsp ? ldms_ctrl_msg_text(rsp) : NULL;
		int rc = status ? status : (int)ldms_ctrl_msg_rsp_err(rsp);
		if (a->cntr) {
			d->probe_cntr = !rc && t ? strtoll(t, NULL, 10) : -1;
		} else {
			d->probe_rc = rc;
			d->probe_state[0] = 0;
			if (!rc && t) {
				/* {"state":"ready"}: the state word is all the probe needs */
				const char *s = strstr(t, "\"state\"");
				if (s && (s = strchr(s + 7, '"')))
					snprintf(d->probe_state, sizeof(d->probe_state), "%.*s",
						 (int)strcspn(s + 1, "\""), s + 1);
			}
			d->probe_done = 1;
			d->probe_out = 0;
			m->wake = 1;
			pthread_cond_signal(&m->cv);
		}
	}
	pthread_mutex_unlock(&m->lock);
	ldms_ctrl_msg_free(rsp);
	free(a);
}

static int send_probe(struct monitor *m, struct mon_daemon *d, uint32_t req, int cntr)
{
	struct probe_arg *a = calloc(1, sizeof(*a));
	struct ldms_ctrl_msg *msg = ldms_ctrl_req_new(req);
	if (!a || !msg) {
		free(a);
		ldms_ctrl_msg_free(msg);
		return -ENOMEM;
	}
	a->m = m;
	a->d = d;
	a->cntr = cntr;
	pthread_mutex_lock(&m->lock);
	a->gen = d->gen;
	pthread_mutex_unlock(&m->lock);
	int rc = ldms_ctrl_request_async(d->cli, msg, probe_cb, a);
	ldms_ctrl_msg_free(msg);
	if (rc)
		free(a);
	return rc;
}

int mon_tick(struct monitor *m)
{
	int changes = 0;
	uint64_t now = mon_mono_us();
	for (size_t i = 0; i < m->n; i++) {
		struct mon_daemon *d = m->d[i];
		if (!d->managed || d->removed) {
			if (d->cli)
				close_cli(m, d);
			continue;
		}
		/* a finished connect */
		pthread_mutex_lock(&m->lock);
		int done = d->conn_done;
		struct ldms_ctrl_client *cli = d->conn_result;
		char err[600];
		snprintf(err, sizeof(err), "%s", d->conn_err);
		if (done) {
			d->conn_done = 0;
			d->conn_result = NULL;
			d->connecting = 0;
		}
		pthread_mutex_unlock(&m->lock);
		if (done) {
			join_connect(m, d);
			d->tried = 1;
			if (cli) {
				close_cli(m, d);
				d->cli = cli;
				set_str(&d->version, ldms_ctrl_client_peer_version(cli));
				set_health(d, MON_UP, NULL);
				d->synced = 0;
				d->warned_down = 0;
				d->next_probe_us = now;
				d->cfg_expect = -1;
				pthread_mutex_lock(&m->lock);
				d->probe_cntr = -1;
				pthread_mutex_unlock(&m->lock);
				mlog(MLOG_INFO, "Connected to ldmsd %s (%s:%s %s)%s", d->name,
				     d->host, d->port, d->xprt, d->ever_up ? ", back up" : "");
				d->ever_up = 1;
				changes++;
			} else {
				if (!d->warned_down) {
					mlog(MLOG_INFO, "Could not connect to %s", d->name);
					mlog(MLOG_WARNING,
					     "Failed to communicate with LDMSD %s on %s:%s: %s",
					     d->name, d->host, d->port, err);
					d->warned_down = 1;
					set_health(d, MON_DOWN, err);
				}
				d->next_connect_us = now + (uint64_t)m->o.retry_ms * 1000u;
			}
		}
		if (d->health == MON_UP) {
			int st = d->cli ? ldms_ctrl_client_status(d->cli) : -ENOTCONN;
			if (st) {
				char why[128];
				snprintf(why, sizeof(why), "connection lost (%s)", strerror(-st));
				mon_set_down(m, d, why);
				changes++;
				continue;
			}
			pthread_mutex_lock(&m->lock);
			int pdone = d->probe_done, prc = d->probe_rc, pout = d->probe_out;
			uint64_t psent = d->probe_sent_us;
			int64_t cntr = d->probe_cntr;
			char state[32];
			snprintf(state, sizeof(state), "%s", d->probe_state);
			d->probe_done = 0;
			pthread_mutex_unlock(&m->lock);
			if (pdone) {
				if (prc < 0) {
					char why[128];
					snprintf(why, sizeof(why), "daemon_status failed (%s)",
						 strerror(-prc));
					mlog(MLOG_INFO, "Error getting daemon %s status", d->name);
					mon_set_down(m, d, why);
					changes++;
					continue;
				}
				if (prc > 0 || strcasecmp(state, "ready")) {
					/* not ready yet (starting up): not usable, check again soon
					 */
					char why[128];
					snprintf(why, sizeof(why), "state %s",
						 prc ? "error" : state);
					mlog(MLOG_INFO, "%s not ready, current state %s", d->name,
					     prc ? "error" : state);
					mon_set_down(m, d, why);
					changes++;
					continue;
				}
				if (d->synced && d->cfg_expect >= 0 && cntr >= 0 &&
				    psent > d->cfg_read_us && cntr != d->cfg_expect) {
					mlog(MLOG_INFO,
					     "%s: configuration counter %" PRId64
					     ", expected %" PRId64
					     ": configuration changed behind maestro, re-reading",
					     d->name, cntr, d->cfg_expect);
					d->synced = 0;
					changes++;
				}
			} else if (pout && now - psent > (uint64_t)m->o.probe_timeout_ms * 1000u) {
				char why[128];
				snprintf(why, sizeof(why), "no daemon_status reply in %d ms (hung)",
					 m->o.probe_timeout_ms);
				mon_set_down(m, d, why);
				changes++;
				continue;
			}
			if (!pout && now >= d->next_probe_us) {
				pthread_mutex_lock(&m->lock);
				d->probe_out = 1;
				d->probe_sent_us = now;
				pthread_mutex_unlock(&m->lock);
				d->next_probe_us = now + (uint64_t)m->o.probe_interval_ms * 1000u;
				if (send_probe(m, d, LDMSD_CFG_CNTR_REQ, 1) ||
				    send_probe(m, d, LDMSD_DAEMON_STATUS_REQ, 0)) {
					mon_set_down(m, d, "cannot send daemon_status");
					changes++;
				}
			}
		} else if (d->health == MON_DOWN) {
			pthread_mutex_lock(&m->lock);
			int busy = d->connecting;
			pthread_mutex_unlock(&m->lock);
			if (!busy && now >= d->next_connect_us)
				start_connect(m, d);
		}
	}
	return changes;
}

/* ---- requests ------------------------------------------------------------------------------- */

static int request_msg(struct monitor *m, struct mon_daemon *d, struct ldms_ctrl_msg *req,
		       const char *what, int *rsp_err, char **reply)
{
	struct ldms_ctrl_msg *rsp = NULL;
	if (reply)
		*reply = NULL;
	if (!d->cli)
		return -ENOTCONN;
	int rc = ldms_ctrl_request(d->cli, req, &rsp, m->o.request_timeout_ms);
	if (rc) {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", what,
			 rc == -ETIMEDOUT ? "no reply (hung)" : strerror(-rc));
		mon_set_down(m, d, why);
		return rc;
	}
	*rsp_err = (int)ldms_ctrl_msg_rsp_err(rsp);
	if (reply) {
		const char *t = ldms_ctrl_msg_text(rsp);
		*reply = strdup(t ? t : "");
	}
	ldms_ctrl_msg_free(rsp);
	return 0;
}

int mon_request(struct monitor *m, struct mon_daemon *d, const struct rb_cmd *c, int *rsp_err,
		char **reply)
{
	struct ldms_ctrl_msg *req = ldms_ctrl_req_new(c->req);
	if (!req)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < c->n_attr && !rc; i++)
		rc = ldms_ctrl_req_attr_add(req, c->attr[i].id, c->attr[i].value);
	if (!rc)
		rc = request_msg(m, d, req, c->text, rsp_err, reply);
	ldms_ctrl_msg_free(req);
	return rc;
}

int mon_request_line(struct monitor *m, struct mon_daemon *d, const char *line, int *rsp_err,
		     char **reply)
{
	struct rb_cmdlist l;
	rb_cmdlist_init(&l);
	int rc = rb_cmd_add_line(&l, line, 0);
	if (!rc)
		rc = mon_request(m, d, &l.c[0], rsp_err, reply);
	rb_cmdlist_free(&l);
	return rc;
}

static int tolerated(unsigned ok, int e)
{
	return e == 0 || ((ok & RB_OK_EEXIST) && e == EEXIST) ||
	       ((ok & RB_OK_EBUSY) && e == EBUSY) || ((ok & RB_OK_ENOENT) && e == ENOENT) ||
	       ((ok & RB_OK_EADDR) && e == EADDRINUSE);
}

int mon_push(struct monitor *m, struct mon_daemon *d, const struct rb_cmdlist *l,
	     unsigned char *failed)
{
	int nfail = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct rb_cmd *c = &l->c[i];
		int e = 0;
		char *reply = NULL;
		mlog(MLOG_DEBUG, "%s: %s", d->name, c->text);
		int rc = mon_request(m, d, c, &e, &reply);
		if (rc) {
			mlog(MLOG_ERROR, "%s: '%s' not sent: %s", d->name, c->text, strerror(-rc));
			free(reply);
			return rc;
		}
		if (!tolerated(c->ok, e)) {
			mlog(MLOG_ERROR, "%s: '%s' failed: error %d (%s): %s", d->name, c->text, e,
			     strerror(e), reply && reply[0] ? reply : "-");
			char buf[1024];
			snprintf(buf, sizeof(buf), "%s: error %d: %s", c->text, e,
				 reply && reply[0] ? reply : strerror(e));
			set_str(&d->last_error, buf);
			if (failed)
				failed[i] = 1;
			nfail++;
		}
		free(reply);
	}
	return nfail;
}

static int status_text(struct monitor *m, struct mon_daemon *d, const char *line, char **out)
{
	int e = 0;
	int rc = mon_request_line(m, d, line, &e, out);
	if (rc)
		return rc;
	if (e) {
		/* an empty object list comes back as ENOENT from some versions */
		free(*out);
		*out = strdup("[]");
		if (e != ENOENT)
			mlog(e == ENOSYS ? MLOG_DEBUG : MLOG_WARNING, "%s: '%s' failed: error %d",
			     d->name, line, e);
	}
	return *out ? 0 : -ENOMEM;
}

int mon_read_state(struct monitor *m, struct mon_daemon *d, const struct rb_state *want,
		   struct rb_state *out, char **prdcr_json)
{
	char *pr = NULL, *up = NULL, *sg = NULL, *pl = NULL;
	int rc;
	if ((rc = status_text(m, d, "prdcr_status", &pr)) ||
	    (rc = status_text(m, d, "updtr_status", &up)) ||
	    (rc = status_text(m, d, "strgp_status", &sg)) ||
	    (rc = status_text(m, d, "plugn_status", &pl)))
		goto out;
	struct rb_observed obs = {pr, up, sg, pl};
	rc = rb_adopt(&obs, want, out);
	if (rc == -EINVAL) {
		/* a daemon that lacks a status command: treat the lists as empty */
		struct rb_observed o2 = {pr[0] == '[' ? pr : NULL, up[0] == '[' ? up : NULL,
					 sg[0] == '[' ? sg : NULL, pl[0] == '[' ? pl : NULL};
		rc = rb_adopt(&o2, want, out);
	}
	if (!rc && prdcr_json) {
		*prdcr_json = pr;
		pr = NULL;
	}
out:
	free(pr);
	free(up);
	free(sg);
	free(pl);
	return rc;
}

int mon_read_cntr(struct monitor *m, struct mon_daemon *d)
{
	struct ldms_ctrl_msg *req = ldms_ctrl_req_new(LDMSD_CFG_CNTR_REQ);
	char *reply = NULL;
	int e = 0;
	if (!req)
		return -ENOMEM;
	int rc = request_msg(m, d, req, "CFG_CNTR", &e, &reply);
	ldms_ctrl_msg_free(req);
	if (!rc) {
		d->cfg_expect = !e && reply && reply[0] ? strtoll(reply, NULL, 10) : -1;
		d->cfg_read_us = mon_mono_us();
	}
	free(reply);
	return rc;
}

/* ---- directories (balancing by set) ------------------------------------------------------ */

int mon_dir(const char *host, const char *port, const char *xprt, const char *auth_plugin,
	    const char *auth_conf, int timeout_ms, struct mon_dirset **out, size_t *n)
{
	struct ldms_err err = {0};
	struct ldms_auth_cfg auth = {.plugin = "none"};
	int have_auth = 0;
	*out = NULL;
	*n = 0;
	if (auth_plugin) {
		char kv[1100];
		char *args[1] = {kv};
		int argc = 0;
		if (auth_conf) {
			snprintf(kv, sizeof(kv), "%s%s",
				 strchr(auth_conf, '=') ? "" : "conf=", auth_conf);
			argc = 1;
		}
		int rc = ldms_auth_cfg_init(&auth, auth_plugin, argc, args, &err);
		if (rc)
			return rc;
		have_auth = 1;
	}
	struct ldms_xprt_opts opts = {.recv_quota = -1, .rate_limit = -1};
	ldms_t x = ldms_xprt_new(xprt ? xprt : "sock", &auth, &opts);
	if (have_auth)
		ldms_auth_cfg_free(&auth);
	if (!x)
		return -EINVAL;
	int rc = ldms_xprt_connect_sync(x, host, port, timeout_ms, &err);
	struct ldms_dir *dir = NULL;
	if (!rc)
		rc = ldms_xprt_dir_sync(x, &dir, timeout_ms);
	if (!rc && dir) {
		*out = calloc(dir->set_count ? dir->set_count : 1, sizeof(**out));
		if (!*out)
			rc = -ENOMEM;
		for (size_t i = 0; !rc && i < dir->set_count; i++) {
			const struct ldms_dir_set *s = &dir->set_data[i];
			struct mon_dirset *o = &(*out)[*n];
			if (!(o->name = strdup(s->inst_name))) {
				rc = -ENOMEM;
				break;
			}
			o->data_size = s->data_size;
			for (size_t k = 0; k < s->info_count; k++)
				if (!strcmp(s->info[k].key, "updt_hint_us"))
					o->interval_us = strtoll(s->info[k].value, NULL, 10);
			(*n)++;
		}
		ldms_xprt_dir_free(x, dir);
	}
	if (rc) {
		mon_dir_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	ldms_xprt_close(x);
	return rc;
}

void mon_dir_free(struct mon_dirset *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].name);
	free(s);
}
