/* The quota group (qgroup-streams.md Part A): the return gate every quota return
 * of a network-received message passes (A.6), the pending-return FIFO released
 * at each wall-clock window reset (A.7), the member connections and the
 * ASK / DONATE / DONATE_BACK exchange (A.5, A.8), and the timer thread that runs
 * the reset at every k*R and the ask routine at every j*A. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldms/ldms_qgroup.h"
#include "msg_int.h"
#include "xprt_int.h"

#define QG_LOG	       "qgroup"
#define QG_MSG_LEN     (LDMS_REQ_HDR_LEN + 16)
#define QG_HOST_MAX    255
#define QG_PORT_MAX    31
#define QG_XPRT_MAX    31
#define QG_MEMBERS_MAX 1024

enum qg_mstate { QGM_DISCONNECTED = 0, QGM_CONNECTING, QGM_CONNECTED };

struct qg_member {
	struct qg_member *next; /* sorted by host, then port */
	char host[QG_HOST_MAX + 1];
	char port[QG_PORT_MAX + 1];
	char xprt[QG_XPRT_MAX + 1];
	struct ldms_auth_cfg auth;
	enum qg_mstate state;
	ldms_t x;	  /* our application reference while connecting/connected */
	uint64_t conn_id; /* 0: no connection; events of other ids are stale */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* timer wake-up, BUSY -> STARTED */
	enum ldms_qgroup_state state;
	struct ldms_qgroup_cfg cfg;
	uint64_t quota;
	struct qg_member *members;
	struct msg_conn *ph, *pt; /* connections owed deferred returns (FIFO) */
	pthread_t th;
	int th_running;
	int stop_req;
	uint64_t next_conn_id;
	int drain_on_donate;
	struct ldms_qgroup_stats st;
} qg = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int running(void)
{
	return qg.state == LDMS_QGROUP_STARTED || qg.state == LDMS_QGROUP_BUSY;
}

/* The window id: its start in µs (A.4). Lock held. */
static uint64_t window_id(void)
{
	uint64_t r = qg.cfg.reset_usec;

	return r ? now_us() / r * r : 0;
}

static int unlimited(void)
{
	return qg.cfg.quota == LDMS_QGROUP_UNLIMITED;
}

const char *ldms_qgroup_state_str(enum ldms_qgroup_state s)
{
	switch (s) {
	case LDMS_QGROUP_STOPPED:
		return "STOPPED";
	case LDMS_QGROUP_STARTED:
		return "STARTED";
	case LDMS_QGROUP_BUSY:
		return "BUSY";
	case LDMS_QGROUP_STOPPING:
		return "STOPPING";
	}
	return "UNKNOWN";
}

static const char *mstate_str(enum qg_mstate s)
{
	return s == QGM_CONNECTED    ? "CONNECTED"
	       : s == QGM_CONNECTING ? "CONNECTING"
				     : "DISCONNECTED";
}

/* ---- the return gate (A.6) and the reset (A.7) ------------------------------------------------
 */

int msg_qgroup_defer(struct msg_conn *k, uint32_t charge)
{
	int deferred = 0;

	pthread_mutex_lock(&qg.lock);
	if (!running() || unlimited()) {
		/* the gate is open */
	} else if (qg.quota >= charge) {
		qg.quota -= charge;
		qg.st.returned_now++;
	} else {
		k->qg_pending += charge;
		qg.st.deferred++;
		qg.st.pending_bytes += charge;
		if (!k->qg_queued) {
			k->qg_queued = 1;
			atomic_fetch_add(&k->ref, 1);
			k->qg_next = NULL;
			if (qg.pt)
				qg.pt->qg_next = k;
			else
				qg.ph = k;
			qg.pt = k;
		}
		deferred = 1;
	}
	pthread_mutex_unlock(&qg.lock);
	return deferred;
}

/* Walks the pending FIFO with `budget` bytes (lock held): entries that fit are
 * returned (FIFO with skip); closed connections are dropped without charge.
 * full: the budget is a whole fresh window (ldms-c releases an entry larger
 * than the whole quota then, rather than stalling its sender forever). */
static uint64_t pending_release(uint64_t budget, int full, int all)
{
	struct msg_conn **pp = &qg.ph, *k, *prev = NULL;

	while ((k = *pp)) {
		uint64_t p = k->qg_pending;
		int closed = atomic_load(&k->closed);
		int fits = all || p <= budget || (full && budget == qg.cfg.quota);
		if (!closed && !fits) {
			prev = k;
			pp = &k->qg_next;
			continue;
		}
		*pp = k->qg_next;
		if (qg.pt == k)
			qg.pt = prev;
		k->qg_queued = 0;
		k->qg_next = NULL;
		k->qg_pending = 0;
		qg.st.pending_bytes -= p;
		if (closed) {
			qg.st.dropped_closed += p;
		} else {
			if (p > budget) {
				if (!all)
					ldms_log(
					    LDMS_LWARN, QG_LOG,
					    "%s: deferred return of %llu bytes exceeds the whole "
					    "qgroup quota %llu: released anyway",
					    k->peer, (unsigned long long)p,
					    (unsigned long long)qg.cfg.quota);
				budget = 0;
			} else if (!all) {
				budget -= p;
			}
			qg.st.returned_at_reset += p;
			msg_quota_send(k, p, 0);
		}
		msg_conn_put(k);
	}
	return budget;
}

static void reset_locked(void)
{
	/* unused budget and unused donations are discarded */
	qg.quota = pending_release(qg.cfg.quota, 1, 0);
	qg.st.resets++;
}

/* ---- ASK / DONATE / DONATE_BACK (A.8) ----------------------------------------------------------
 */

static int qg_send(ldms_t x, uint32_t cmd, uint64_t xid, uint64_t q, uint64_t window)
{
	uint8_t m[QG_MSG_LEN];
	size_t flen;
	uint8_t *f;

	ldms_enc_req_hdr(m, sizeof(m), cmd, xid, QG_MSG_LEN);
	wire_put_be64(m + LDMS_REQ_HDR_LEN, q);
	wire_put_be64(m + LDMS_REQ_HDR_LEN + 8, window);
	f = xprt_frame_sendrecv(m, sizeof(m), &flen);
	if (!f)
		return -ENOMEM;
	return xprt_post_frame(x, f, flen);
}

/* Lock held. */
static void do_ask(struct qg_member *m)
{
	uint64_t t;

	if (!running() || m->state != QGM_CONNECTED || !m->x || qg.quota >= qg.cfg.ask_mark)
		return;
	/* upstream puts htobe64(its µs clock) in the header xid: the bytes on the
	 * wire are the big-endian timestamp */
	t = now_us();
	if (qg_send(m->x, LDMS_CMD_QGROUP_ASK, __builtin_bswap64(t), qg.cfg.ask_amount,
		    window_id()) == 0)
		qg.st.asks_sent++;
}

static int qg_decode(const struct ldms_msg *lm, uint64_t *q, uint64_t *window)
{
	if (lm->payload_len < 16)
		return -EPROTO;
	*q = wire_get_be64(lm->payload);
	*window = wire_get_be64(lm->payload + 8);
	return 0;
}

static void on_ask(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	uint64_t q, w, give;

	if (qg_decode(lm, &q, &w))
		return;
	pthread_mutex_lock(&qg.lock);
	if (!running())
		goto out; /* ldms-c: a stopped or unconfigured group ignores asks */
	qg.st.asks_recv++;
	if (w != window_id()) {
		qg.st.asks_ignored_window++;
		goto out;
	}
	if (unlimited() || qg.quota <= qg.cfg.ask_mark) {
		qg.st.asks_refused++;
		goto out;
	}
	give = qg.quota - qg.cfg.ask_mark;
	if (give > q)
		give = q;
	qg.quota -= give;
	if (qg_send(x, LDMS_CMD_QGROUP_DONATE, lm->xid, give, w) == 0)
		qg.st.donated += give; /* else lost until the reset */
out:
	pthread_mutex_unlock(&qg.lock);
}

static void on_donate(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	uint64_t q, w, fill, back;

	if (qg_decode(lm, &q, &w))
		return;
	pthread_mutex_lock(&qg.lock);
	if (!running() || w != window_id())
		goto out; /* a donation from another window is lost */
	qg.st.donations_recv += q;
	fill = qg.quota < qg.cfg.quota ? qg.cfg.quota - qg.quota : 0;
	if (fill > q)
		fill = q;
	qg.quota += fill;
	back = q - fill;
	if (back && qg_send(x, LDMS_CMD_QGROUP_DONATE_BACK, lm->xid, back, w) == 0)
		qg.st.donated_back += back;
	if (qg.drain_on_donate && qg.ph)
		qg.quota = pending_release(qg.quota, 0, 0);
out:
	pthread_mutex_unlock(&qg.lock);
}

static void on_donate_back(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	uint64_t q, w;

	if (qg_decode(lm, &q, &w))
		return;
	pthread_mutex_lock(&qg.lock);
	if (running() && w == window_id()) {
		qg.quota += q; /* no cap, as upstream */
		qg.st.donations_back_recv += q;
	}
	pthread_mutex_unlock(&qg.lock);
}

/* ---- member connections (A.5) ---------------------------------------------------------------- */

static struct qg_member *member_by_conn(uint64_t id)
{
	for (struct qg_member *m = qg.members; id && m; m = m->next)
		if (m->conn_id == id)
			return m;
	return NULL;
}

static void member_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	uint64_t id = (uintptr_t)arg;
	struct qg_member *m;
	ldms_t closeme = NULL;

	if (e->type == LDMS_XPRT_EVENT_RECV || e->type == LDMS_XPRT_EVENT_SET_DELETE)
		return;
	pthread_mutex_lock(&qg.lock);
	m = member_by_conn(id);
	if (m && e->type == LDMS_XPRT_EVENT_CONNECTED) {
		m->state = QGM_CONNECTED;
		do_ask(m);
	} else if (m) {
		m->state = QGM_DISCONNECTED;
		m->conn_id = 0;
		if (m->x == x)
			closeme = x;
		m->x = NULL;
	}
	pthread_mutex_unlock(&qg.lock);
	if (closeme)
		ldms_xprt_close(closeme);
}

struct qg_connect {
	ldms_t x;
	uint64_t id;
	char host[QG_HOST_MAX + 1];
	char port[QG_PORT_MAX + 1];
};

/* The ask routine (lock held on entry and exit; released while connecting). */
static void ask_tick(void)
{
	struct ldms_xprt_opts o = {.recv_quota = -1, .rate_limit = -1};
	struct qg_connect *todo = NULL;
	size_t n = 0, cap = 0;

	if (qg.state != LDMS_QGROUP_STARTED)
		return;
	qg.state = LDMS_QGROUP_BUSY;
	o.msg_enabled = ldms_msg_is_enabled();
	for (struct qg_member *m = qg.members; m; m = m->next) {
		if (m->state == QGM_CONNECTED) {
			do_ask(m);
			continue;
		}
		if (m->state != QGM_DISCONNECTED)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct qg_connect *nt = realloc(todo, nc * sizeof(*nt));
			if (!nt)
				break;
			todo = nt;
			cap = nc;
		}
		m->x = ldms_xprt_new(m->xprt, &m->auth, &o);
		if (!m->x)
			continue;
		m->conn_id = ++qg.next_conn_id;
		m->state = QGM_CONNECTING;
		todo[n].x = ldms_xprt_get(m->x);
		todo[n].id = m->conn_id;
		memcpy(todo[n].host, m->host, sizeof(todo[n].host));
		memcpy(todo[n].port, m->port, sizeof(todo[n].port));
		n++;
	}
	pthread_mutex_unlock(&qg.lock);
	for (size_t i = 0; i < n; i++) {
		int rc = ldms_xprt_connect(todo[i].x, todo[i].host, todo[i].port, member_cb,
					   (void *)(uintptr_t)todo[i].id);
		if (rc) {
			ldms_t closeme = NULL;
			pthread_mutex_lock(&qg.lock);
			struct qg_member *m = member_by_conn(todo[i].id);
			if (m) {
				m->state = QGM_DISCONNECTED;
				m->conn_id = 0;
				closeme = m->x;
				m->x = NULL;
			}
			pthread_mutex_unlock(&qg.lock);
			if (closeme)
				ldms_xprt_close(closeme);
		}
		ldms_xprt_put(todo[i].x);
	}
	free(todo);
	pthread_mutex_lock(&qg.lock);
	if (qg.state == LDMS_QGROUP_BUSY)
		qg.state = LDMS_QGROUP_STARTED;
	pthread_cond_broadcast(&qg.cond);
}

/* ---- timer thread (A.4) ------------------------------------------------------------------------
 */

static void *qg_main(void *arg)
{
	pthread_mutex_lock(&qg.lock);
	while (!qg.stop_req) {
		uint64_t now = now_us(), a = qg.cfg.ask_usec, r = qg.cfg.reset_usec;
		uint64_t na = (now / a + 1) * a, nr = (now / r + 1) * r;
		uint64_t t = na < nr ? na : nr;
		struct timespec ts = {.tv_sec = (time_t)(t / 1000000u),
				      .tv_nsec = (long)(t % 1000000u) * 1000};
		while (!qg.stop_req && now_us() < t)
			pthread_cond_timedwait(&qg.cond, &qg.lock, &ts);
		if (qg.stop_req)
			break;
		now = now_us();
		if (now >= nr)
			reset_locked();
		if (now >= na)
			ask_tick();
	}
	pthread_mutex_unlock(&qg.lock);
	return NULL;
}

/* ---- configuration ------------------------------------------------------------------------------
 */

int ldms_qgroup_config(const struct ldms_qgroup_cfg *cfg, unsigned mask)
{
	int rc = 0;

	pthread_mutex_lock(&qg.lock);
	if (qg.state != LDMS_QGROUP_STOPPED) {
		rc = -EBUSY;
	} else {
		if (mask & LDMS_QGROUP_CFG_QUOTA)
			qg.cfg.quota = cfg->quota;
		if (mask & LDMS_QGROUP_CFG_ASK_MARK)
			qg.cfg.ask_mark = cfg->ask_mark;
		if (mask & LDMS_QGROUP_CFG_ASK_AMOUNT)
			qg.cfg.ask_amount = cfg->ask_amount;
		if (mask & LDMS_QGROUP_CFG_ASK_USEC)
			qg.cfg.ask_usec = cfg->ask_usec;
		if (mask & LDMS_QGROUP_CFG_RESET_USEC)
			qg.cfg.reset_usec = cfg->reset_usec;
		if (qg.cfg.quota && qg.cfg.ask_mark >= qg.cfg.quota)
			ldms_log(LDMS_LWARN, QG_LOG,
				 "ask_mark %llu >= quota %llu: this member will always ask and "
				 "never donate",
				 (unsigned long long)qg.cfg.ask_mark,
				 (unsigned long long)qg.cfg.quota);
	}
	pthread_mutex_unlock(&qg.lock);
	return rc;
}

void ldms_qgroup_config_get(struct ldms_qgroup_cfg *cfg)
{
	pthread_mutex_lock(&qg.lock);
	*cfg = qg.cfg;
	pthread_mutex_unlock(&qg.lock);
}

static int member_cmp(const struct qg_member *m, const char *host, const char *port)
{
	int c = strcmp(m->host, host);

	return c ? c : strcmp(m->port, port);
}

int ldms_qgroup_member_add(const char *xprt, const char *host, const char *port,
			   const struct ldms_auth_cfg *auth)
{
	struct qg_member *m, **pp;
	size_t count = 0;
	int rc = 0;

	if (!port || !*port)
		port = "411";
	if (!xprt || !*xprt || !host || !*host)
		return -EINVAL;
	if (strlen(host) > QG_HOST_MAX || strlen(port) > QG_PORT_MAX || strlen(xprt) > QG_XPRT_MAX)
		return -ENAMETOOLONG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memcpy(m->host, host, strlen(host) + 1);
	memcpy(m->port, port, strlen(port) + 1);
	memcpy(m->xprt, xprt, strlen(xprt) + 1);
	if (auth)
		rc = ldms_auth_cfg_copy(&m->auth, auth);
	else
		snprintf(m->auth.plugin, sizeof(m->auth.plugin), "none");
	if (rc) {
		free(m);
		return rc;
	}
	pthread_mutex_lock(&qg.lock);
	if (qg.state != LDMS_QGROUP_STOPPED) {
		rc = -EBUSY;
		goto out;
	}
	for (pp = &qg.members; *pp && member_cmp(*pp, host, port) < 0; pp = &(*pp)->next)
		count++;
	if (*pp && member_cmp(*pp, host, port) == 0) {
		rc = -EEXIST;
		goto out;
	}
	for (struct qg_member *o = *pp; o; o = o->next)
		count++;
	if (count >= QG_MEMBERS_MAX) {
		rc = -ENOSPC;
		goto out;
	}
	m->next = *pp;
	*pp = m;
	m = NULL;
out:
	pthread_mutex_unlock(&qg.lock);
	if (m) {
		ldms_auth_cfg_free(&m->auth);
		free(m);
	}
	return rc;
}

int ldms_qgroup_member_del(const char *host, const char *port)
{
	struct qg_member *m = NULL, **pp;
	int rc = -ENOENT;

	if (!port || !*port)
		port = "411";
	if (!host)
		return -EINVAL;
	pthread_mutex_lock(&qg.lock);
	if (qg.state != LDMS_QGROUP_STOPPED) {
		rc = -EBUSY;
	} else {
		for (pp = &qg.members; *pp; pp = &(*pp)->next)
			if (!member_cmp(*pp, host, port)) {
				m = *pp;
				*pp = m->next;
				rc = 0;
				break;
			}
	}
	pthread_mutex_unlock(&qg.lock);
	if (m) {
		ldms_auth_cfg_free(&m->auth);
		free(m);
	}
	return rc;
}

/* ---- start / stop -------------------------------------------------------------------------------
 */

int ldms_qgroup_start(void)
{
	int rc = 0;

	pthread_mutex_lock(&qg.lock);
	if (qg.state != LDMS_QGROUP_STOPPED) {
		rc = -EBUSY;
	} else if (!qg.cfg.quota || !qg.cfg.ask_mark || !qg.cfg.ask_amount || !qg.cfg.ask_usec ||
		   !qg.cfg.reset_usec) {
		rc = -EINVAL;
	} else {
		reset_locked();
		qg.stop_req = 0;
		qg.state = LDMS_QGROUP_STARTED;
		if (pthread_create(&qg.th, NULL, qg_main, NULL)) {
			qg.state = LDMS_QGROUP_STOPPED;
			rc = -EAGAIN;
		} else {
			qg.th_running = 1;
		}
	}
	pthread_mutex_unlock(&qg.lock);
	return rc;
}

int ldms_qgroup_stop(void)
{
	ldms_t *closeme = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	pthread_mutex_lock(&qg.lock);
	if (qg.state == LDMS_QGROUP_STOPPED || qg.state == LDMS_QGROUP_STOPPING) {
		pthread_mutex_unlock(&qg.lock);
		return -EINVAL;
	}
	while (qg.state == LDMS_QGROUP_BUSY)
		pthread_cond_wait(&qg.cond, &qg.lock);
	qg.state = LDMS_QGROUP_STOPPING;
	qg.stop_req = 1;
	pthread_cond_broadcast(&qg.cond);
	pthread_mutex_unlock(&qg.lock);
	if (qg.th_running) {
		pthread_join(qg.th, NULL);
		qg.th_running = 0;
	}
	pthread_mutex_lock(&qg.lock);
	/* The members are DISCONNECTED as soon as their connections are closed:
	 * later events of those connections are stale (this may run on an I/O
	 * thread, which must not wait for them). */
	for (struct qg_member *m = qg.members; m; m = m->next) {
		if (m->x) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 8;
				ldms_t *nv = realloc(closeme, nc * sizeof(*nv));
				if (!nv)
					break;
				closeme = nv;
				cap = nc;
			}
			closeme[n++] = m->x;
			m->x = NULL;
		}
		m->state = QGM_DISCONNECTED;
		m->conn_id = 0;
	}
	/* ldms-c: the gate opens, so every deferred return goes now */
	pending_release(0, 0, 1);
	qg.state = LDMS_QGROUP_STOPPED;
	pthread_mutex_unlock(&qg.lock);
	for (size_t i = 0; i < n; i++)
		ldms_xprt_close(closeme[i]);
	free(closeme);
	return rc;
}

enum ldms_qgroup_state ldms_qgroup_state_get(void)
{
	enum ldms_qgroup_state s;

	pthread_mutex_lock(&qg.lock);
	s = qg.state;
	pthread_mutex_unlock(&qg.lock);
	return s;
}

uint64_t ldms_qgroup_quota_get(void)
{
	uint64_t q;

	pthread_mutex_lock(&qg.lock);
	q = qg.quota;
	pthread_mutex_unlock(&qg.lock);
	return q;
}

void ldms_qgroup_stats_get(struct ldms_qgroup_stats *st)
{
	pthread_mutex_lock(&qg.lock);
	*st = qg.st;
	pthread_mutex_unlock(&qg.lock);
}

void ldms_qgroup_drain_on_donate(int on)
{
	pthread_mutex_lock(&qg.lock);
	qg.drain_on_donate = on ? 1 : 0;
	pthread_mutex_unlock(&qg.lock);
}

/* ---- qgroup_info -------------------------------------------------------------------------------
 */

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int ldms_qgroup_info_json(char **json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*json = NULL;
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&qg.lock);
	fprintf(f,
		"{\"state\":\"%s\",\"quota\":%llu,\"config\":{\"quota\":%llu,\"ask_mark\":%llu,"
		"\"ask_amount\":%llu,\"ask_usec\":%llu,\"reset_usec\":%llu},\"members\":[",
		ldms_qgroup_state_str(qg.state), (unsigned long long)qg.quota,
		(unsigned long long)qg.cfg.quota, (unsigned long long)qg.cfg.ask_mark,
		(unsigned long long)qg.cfg.ask_amount, (unsigned long long)qg.cfg.ask_usec,
		(unsigned long long)qg.cfg.reset_usec);
	for (struct qg_member *m = qg.members; m; m = m->next) {
		fprintf(f, "{\"state\":\"%s\",\"host\":", mstate_str(m->state));
		jstr(f, m->host);
		fputs(",\"port\":", f);
		jstr(f, m->port);
		fputs(",\"xprt\":", f);
		jstr(f, m->xprt);
		fputs(",\"auth\":", f);
		jstr(f, m->auth.plugin);
		fputs(",\"auth_options\":{", f); /* {} also without options, as upstream */
		for (int i = 0; i < m->auth.argc; i++) {
			if (i)
				fputc(',', f);
			jstr(f, m->auth.argn[i] ? m->auth.argn[i] : "");
			fputc(':', f);
			jstr(f, m->auth.argv[i] ? m->auth.argv[i] : "");
		}
		fputs("}}", f);
		if (m->next)
			fputc(',', f);
	}
	fputs("]}", f);
	pthread_mutex_unlock(&qg.lock);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*json = buf;
	return 0;
}

__attribute__((constructor)) static void qgroup_register(void)
{
	xprt_cmd_handler_set(LDMS_CMD_QGROUP_ASK, on_ask);
	xprt_cmd_handler_set(LDMS_CMD_QGROUP_DONATE, on_donate);
	xprt_cmd_handler_set(LDMS_CMD_QGROUP_DONATE_BACK, on_donate_back);
	if (getenv("LDMS_QGROUP_DRAIN_ON_DONATE"))
		qg.drain_on_donate = atoi(getenv("LDMS_QGROUP_DRAIN_ON_DONATE")) != 0;
}
