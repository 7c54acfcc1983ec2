/* ldmsd_request client over an ldms_t: numbers requests, sends their records with
 * ldms_xprt_send, reassembles reply records from RECV events (I/O thread) and hands
 * each reply to a waiting caller or an async callback. Probes the peer's version
 * first to pick the 4.4 / 4.5 / main id table (ldms-protocol.md §6.6.5). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ldms/ldms_ctrl.h"

struct waiter {
	uint32_t msg_no;
	ldms_ctrl_rsp_cb cb; /* NULL: a synchronous caller waits on cv */
	void *arg;
	struct ldms_ctrl_msg *rsp;
	int done;
	int status;
	struct waiter *next;
};

struct ldms_ctrl_client {
	ldms_t x;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int refs;      /* caller + transport callback */
	int connected; /* 1 after CONNECTED */
	int status;    /* 0, or -errno once the connection failed/ended */
	char reason[256];
	struct ldms_ctrl_reasm *reasm;
	uint32_t next_msg_no;
	enum ldms_ctrl_ver ver;
	struct waiter *waiters;
	char *peer_version;
};

static void cli_put(struct ldms_ctrl_client *cli)
{
	pthread_mutex_lock(&cli->lock);
	int last = --cli->refs == 0;
	pthread_mutex_unlock(&cli->lock);
	if (!last)
		return;
	ldms_ctrl_reasm_free(cli->reasm);
	free(cli->peer_version);
	pthread_mutex_destroy(&cli->lock);
	pthread_cond_destroy(&cli->cv);
	free(cli);
}

/* caller holds lock */
static struct waiter *waiter_take(struct ldms_ctrl_client *cli, uint32_t msg_no)
{
	for (struct waiter **pw = &cli->waiters; *pw; pw = &(*pw)->next) {
		if ((*pw)->msg_no == msg_no) {
			struct waiter *w = *pw;
			*pw = w->next;
			return w;
		}
	}
	return NULL;
}

/* Deliver a reply (or a failure when rsp is NULL) to whoever waits for msg_no. */
static void deliver(struct ldms_ctrl_client *cli, uint32_t msg_no, int status,
		    struct ldms_ctrl_msg *rsp)
{
	pthread_mutex_lock(&cli->lock);
	struct waiter *w = waiter_take(cli, msg_no);
	if (w && !w->cb) {
		w->rsp = rsp;
		w->status = status;
		w->done = 1;
		pthread_cond_broadcast(&cli->cv);
		pthread_mutex_unlock(&cli->lock);
		return;
	}
	pthread_mutex_unlock(&cli->lock);
	if (w) {
		w->cb(cli, status, rsp, w->arg);
		free(w);
	} else {
		ldms_ctrl_msg_free(rsp); /* late reply after a timeout */
	}
}

static void fail_all(struct ldms_ctrl_client *cli, int status)
{
	struct waiter *async = NULL;
	pthread_mutex_lock(&cli->lock);
	for (struct waiter *w = cli->waiters, *n; w; w = n) {
		n = w->next;
		if (w->cb) {
			w->next = async;
			async = w;
		} else {
			w->status = status;
			w->done = 1;
		}
	}
	cli->waiters = NULL;
	pthread_cond_broadcast(&cli->cv);
	pthread_mutex_unlock(&cli->lock);
	for (struct waiter *w = async, *n; w; w = n) {
		n = w->next;
		w->cb(cli, status, NULL, w->arg);
		free(w);
	}
}

static void on_recv(struct ldms_ctrl_client *cli, const char *data, size_t len)
{
	struct ldms_ctrl_msg *m = NULL;
	struct ldms_ctrl_rec_hdr h;
	pthread_mutex_lock(&cli->lock);
	int rc = ldms_ctrl_reasm_feed(cli->reasm, data, len, &m, &h);
	pthread_mutex_unlock(&cli->lock);
	if (rc == 0 && m) {
		if (ldms_ctrl_msg_type(m) != LDMS_CTRL_TYPE_RSP) {
			ldms_ctrl_msg_free(m); /* a client does not serve requests */
			return;
		}
		deliver(cli, ldms_ctrl_msg_no(m), 0, m);
	} else if (rc && h.marker == LDMS_CTRL_MARKER) {
		/* malformed reply for a known msg_no: fail that request now rather than
		 * letting it time out */
		deliver(cli, h.msg_no, -EPROTO, NULL);
	}
}

static void client_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	struct ldms_ctrl_client *cli = arg;
	int status = 0;

	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		pthread_mutex_lock(&cli->lock);
		cli->connected = 1;
		pthread_cond_broadcast(&cli->cv);
		pthread_mutex_unlock(&cli->lock);
		return;
	case LDMS_XPRT_EVENT_RECV:
		on_recv(cli, e->data, e->data_len);
		return;
	case LDMS_XPRT_EVENT_SET_DELETE:
		return;
	case LDMS_XPRT_EVENT_REJECTED:
		status = -EACCES;
		break;
	case LDMS_XPRT_EVENT_ERROR:
		status = -ECONNREFUSED;
		break;
	case LDMS_XPRT_EVENT_DISCONNECTED:
		status = -ECONNRESET;
		break;
	}
	/* terminal event: no more callbacks reference cli */
	pthread_mutex_lock(&cli->lock);
	if (!cli->status)
		cli->status = status;
	if (e->data && e->data_len && !cli->reason[0])
		snprintf(cli->reason, sizeof(cli->reason), "%.*s",
			 (int)(e->data_len < 255 ? e->data_len : 255), e->data);
	pthread_cond_broadcast(&cli->cv);
	pthread_mutex_unlock(&cli->lock);
	fail_all(cli, status);
	cli_put(cli);
}

static void deadline_from(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

enum ldms_ctrl_ver ldms_ctrl_ver_from_json(const char *text)
{
	enum ldms_ctrl_ver v = LDMS_CTRL_V4_5;
	json_t *j;
	const char *s;
	int maj = 0, min = 0;

	if (!text)
		return v;
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!j)
		return v;
	s = json_string_value(json_object_get(j, "LDMSD Version"));
	if (s && sscanf(s, "%d.%d", &maj, &min) == 2) {
		if (maj < 4 || (maj == 4 && min <= 4))
			v = LDMS_CTRL_V4_4;
		else
			v = LDMS_CTRL_V_MAIN;
	}
	json_decref(j);
	return v;
}

struct ldms_ctrl_client *ldms_ctrl_client_connect(const char *host, const char *port,
						  const char *xprt,
						  const struct ldms_auth_cfg *auth, int timeout_ms,
						  struct ldms_err *err)
{
	struct ldms_xprt_opts opts = {
	    .recv_quota = -1, .rate_limit = -1, .msg_enabled = 0, .legacy_conn_msg = 0};
	struct ldms_auth_cfg none = {.plugin = "none"};
	struct ldms_ctrl_client *cli = calloc(1, sizeof(*cli));
	int rc;

	if (!cli) {
		ldms_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&cli->lock, NULL);
	pthread_cond_init(&cli->cv, NULL);
	cli->refs = 2; /* caller + transport callback (dropped at the terminal event) */
	cli->next_msg_no = 1;
	cli->ver = LDMS_CTRL_V4_5;
	cli->reasm = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 0);
	cli->x = ldms_xprt_new(xprt ? xprt : "sock", auth ? auth : &none, &opts);
	if (!cli->reasm || !cli->x) {
		ldms_err_set(err, -EINVAL, "cannot create the %s transport", xprt ? xprt : "sock");
		if (cli->x)
			ldms_xprt_put(cli->x);
		cli->refs = 1;
		cli_put(cli);
		return NULL;
	}
	rc = ldms_xprt_connect(cli->x, host, port, client_cb, cli);
	if (rc) {
		if (rc == -EHOSTUNREACH) /* the transport's only reason for it */
			ldms_err_set(err, rc, "cannot resolve host '%s' port '%s'",
				     host && *host ? host : "localhost", port);
		else
			ldms_err_set(err, rc, "connect to %s:%s failed: %s", host, port,
				     strerror(-rc));
		ldms_xprt_put(cli->x);
		cli->refs = 1;
		cli_put(cli);
		return NULL;
	}
	struct timespec dl;
	deadline_from(&dl, timeout_ms > 0 ? timeout_ms : 10000);
	pthread_mutex_lock(&cli->lock);
	rc = 0;
	while (!cli->connected && !cli->status && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cli->cv, &cli->lock, &dl);
	int ok = cli->connected && !cli->status;
	int st = cli->status ? cli->status : -ETIMEDOUT;
	char reason[256];
	snprintf(reason, sizeof(reason), "%s", cli->reason);
	if (strcmp(reason, strerror(-(cli->status ? cli->status : -ETIMEDOUT))) == 0)
		reason[0] = 0; /* no need to say it twice */
	pthread_mutex_unlock(&cli->lock);
	if (!ok) {
		if (st == -EACCES)
			ldms_err_set(err, st, "connection to %s:%s rejected%s%s", host, port,
				     reason[0] ? ": " : "", reason);
		else
			ldms_err_set(err, st, "cannot connect to %s:%s: %s%s%s", host, port,
				     strerror(-st), reason[0] ? ": " : "", reason);
		ldms_ctrl_client_close(cli);
		return NULL;
	}

	/* select the id table: `version` has the same id in every release */
	struct ldms_ctrl_msg *req = ldms_ctrl_req_new(LDMSD_VERSION_REQ), *rsp = NULL;
	/* a daemon that ignores control messages must not stall every connect for long */
	int probe_ms = timeout_ms > 0 && timeout_ms < 5000 ? timeout_ms : 5000;
	if (req && ldms_ctrl_request(cli, req, &rsp, probe_ms) == 0) {
		const char *t = ldms_ctrl_msg_rsp_err(rsp) ? NULL : ldms_ctrl_msg_text(rsp);
		if (t) {
			cli->peer_version = strdup(t);
			ldms_ctrl_client_set_ver(cli, ldms_ctrl_ver_from_json(t));
		}
	}
	ldms_ctrl_msg_free(req);
	ldms_ctrl_msg_free(rsp);
	if (ldms_ctrl_client_status(cli)) {
		ldms_err_set(err, ldms_ctrl_client_status(cli), "connection to %s:%s lost", host,
			     port);
		ldms_ctrl_client_close(cli);
		return NULL;
	}
	return cli;
}

void ldms_ctrl_client_close(struct ldms_ctrl_client *cli)
{
	if (!cli)
		return;
	ldms_xprt_close(cli->x);
	/* synchronous callers of other threads are woken; async ones get their cb */
	fail_all(cli, -ECONNABORTED);
	cli_put(cli);
}

enum ldms_ctrl_ver ldms_ctrl_client_ver(struct ldms_ctrl_client *cli)
{
	pthread_mutex_lock(&cli->lock);
	enum ldms_ctrl_ver v = cli->ver;
	pthread_mutex_unlock(&cli->lock);
	return v;
}

void ldms_ctrl_client_set_ver(struct ldms_ctrl_client *cli, enum ldms_ctrl_ver v)
{
	pthread_mutex_lock(&cli->lock);
	cli->ver = v;
	ldms_ctrl_reasm_set_ver(cli->reasm, v);
	pthread_mutex_unlock(&cli->lock);
}

const char *ldms_ctrl_client_peer_version(struct ldms_ctrl_client *cli)
{
	return cli->peer_version ? cli->peer_version : "";
}

int ldms_ctrl_client_status(struct ldms_ctrl_client *cli)
{
	pthread_mutex_lock(&cli->lock);
	int st = cli->status;
	pthread_mutex_unlock(&cli->lock);
	return st;
}

static int xprt_send(void *arg, const void *rec, size_t len)
{
	return ldms_xprt_send(arg, rec, len);
}

/* Register a waiter, then send; the waiter must exist before the reply can arrive. */
static int send_req(struct ldms_ctrl_client *cli, struct ldms_ctrl_msg *req, struct waiter *w)
{
	pthread_mutex_lock(&cli->lock);
	if (cli->status) {
		int st = cli->status;
		pthread_mutex_unlock(&cli->lock);
		return st;
	}
	w->msg_no = cli->next_msg_no++;
	if (cli->next_msg_no == 0)
		cli->next_msg_no = 1;
	enum ldms_ctrl_ver v = cli->ver;
	w->next = cli->waiters;
	cli->waiters = w;
	pthread_mutex_unlock(&cli->lock);

	ldms_ctrl_msg_set_msg_no(req, w->msg_no);
	size_t max = ldms_xprt_msg_max(cli->x);
	int rc = ldms_ctrl_msg_send(req, v, max, xprt_send, cli->x);
	if (rc) {
		pthread_mutex_lock(&cli->lock);
		struct waiter *t = waiter_take(cli, w->msg_no);
		pthread_mutex_unlock(&cli->lock);
		if (!t) /* a disconnect already completed w (cb called / done set) */
			return 0;
	}
	return rc;
}

int ldms_ctrl_request(struct ldms_ctrl_client *cli, struct ldms_ctrl_msg *req,
		      struct ldms_ctrl_msg **rsp, int timeout_ms)
{
	struct waiter w = {0};
	struct timespec dl;
	int rc;

	*rsp = NULL;
	rc = send_req(cli, req, &w);
	if (rc)
		return rc;
	if (timeout_ms > 0)
		deadline_from(&dl, timeout_ms);
	pthread_mutex_lock(&cli->lock);
	rc = 0;
	while (!w.done && rc != ETIMEDOUT)
		rc = timeout_ms > 0 ? pthread_cond_timedwait(&cli->cv, &cli->lock, &dl)
				    : pthread_cond_wait(&cli->cv, &cli->lock);
	if (!w.done) {
		waiter_take(cli, w.msg_no);
		pthread_mutex_unlock(&cli->lock);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&cli->lock);
	*rsp = w.rsp;
	return w.rsp ? 0 : (w.status ? w.status : -EPROTO);
}

int ldms_ctrl_request_async(struct ldms_ctrl_client *cli, struct ldms_ctrl_msg *req,
			    ldms_ctrl_rsp_cb cb, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (!cb) {
		free(w);
		return -EINVAL;
	}
	w->cb = cb;
	w->arg = arg;
	int rc = send_req(cli, req, w);
	if (rc) /* w is not registered: the callback will not run */
		free(w);
	return rc;
}
