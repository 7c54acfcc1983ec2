/* LDMS endpoints over zap sock: object lifetime, framing of the TCP stream,
 * connection set-up (CONNECT/ACCEPTED/REJECTED/ACK_ACCEPTED, §6.2), the
 * authentication exchange (§6.3), dispatch of frames to the client and server
 * halves, close, the handshake deadline, and the listener (which pauses when
 * accept() runs out of descriptors). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "xprt_int.h"

/* Output queued for a peer above which its input is no longer read: a peer
 * that does not read its answers stops being served (one answer may still
 * exceed this, e.g. a large DIR). */
#define XPRT_OUT_HIWAT (4u * 1024 * 1024)
/* Queued output above which unsolicited frames (updates pushed to a peer that
 * never reads) close the connection instead of growing the buffer. */
#define XPRT_OUT_MAX_DEFAULT (64u * 1024 * 1024)
/* Frames a peer may send before it is authenticated are small: never buffer a
 * megabyte for a stranger. */
#define XPRT_PREAUTH_FRAME_MAX	       4096u
#define XPRT_AUTH_FRAME_MAX	       (ZAP_SENDRECV_HDR + LDMS_REQ_HDR_LEN + 4 + LDMS_AUTH_MSG_MAX)
#define XPRT_HANDSHAKE_TIMEOUT_DEFAULT 30.0

static _Atomic size_t out_max = XPRT_OUT_MAX_DEFAULT;
static _Atomic double hs_timeout = XPRT_HANDSHAKE_TIMEOUT_DEFAULT;

static atomic_int live_count;
static atomic_uint_fast64_t rail_gn;
static _Atomic int64_t cred_override_uid = -1, cred_override_gid = -1;
/* requests 0..31 at [cmd], replies 0x100..0x11f at [32 + cmd - 0x100] */
static xprt_cmd_handler_t cmd_handlers[64];

int xprt_test_live_count(void)
{
	return atomic_load(&live_count);
}

void xprt_test_peer_cred_override(int64_t uid, int64_t gid)
{
	atomic_store(&cred_override_uid, uid);
	atomic_store(&cred_override_gid, gid);
}

void xprt_test_handshake_timeout_set(double seconds)
{
	atomic_store(&hs_timeout, seconds);
}

void xprt_test_out_max_set(size_t bytes)
{
	atomic_store(&out_max, bytes ? bytes : XPRT_OUT_MAX_DEFAULT);
}

/* Read once (ldms_init): getenv must not race with the daemon's `env` command. */
void xprt_handshake_timeout_from_env(void)
{
	const char *v = getenv("LDMS_XPRT_HANDSHAKE_TIMEOUT");
	char *end;
	double d;

	if (!v || !*v)
		return;
	d = strtod(v, &end);
	if (*end || d != d) {
		ldms_log(LDMS_LWARN, XPRT_LOG,
			 "ignoring LDMS_XPRT_HANDSHAKE_TIMEOUT='%s' (not a number of seconds)", v);
		return;
	}
	atomic_store(&hs_timeout, d);
}

static int cmd_slot(uint32_t cmd)
{
	if (cmd < 32)
		return (int)cmd;
	if (cmd >= LDMS_CMD_REPLY && cmd < LDMS_CMD_REPLY + 32)
		return (int)(32 + cmd - LDMS_CMD_REPLY);
	return -1;
}

int xprt_cmd_handler_set(uint32_t cmd, xprt_cmd_handler_t fn)
{
	int i = cmd_slot(cmd);

	if (i < 0)
		return -EINVAL;
	cmd_handlers[i] = fn;
	return 0;
}

static xprt_cmd_handler_t cmd_handler_get(uint32_t cmd)
{
	int i = cmd_slot(cmd);

	return i < 0 ? NULL : cmd_handlers[i];
}

/* ---- object ------------------------------------------------------------------------ */

static int auth_cfg_dup(struct ldms_auth_cfg *dst, const struct ldms_auth_cfg *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src) {
		snprintf(dst->plugin, sizeof(dst->plugin), "none");
		return 0;
	}
	return ldms_auth_cfg_copy(dst, src);
}

static void opts_init(struct ldms_xprt_opts *o, const struct ldms_xprt_opts *src)
{
	if (src) {
		*o = *src;
		return;
	}
	o->recv_quota = -1;
	o->rate_limit = -1;
	o->msg_enabled = 0;
	o->legacy_conn_msg = 0;
}

static void listener_put(struct ldms_listener *l)
{
	if (atomic_fetch_sub(&l->ref, 1) == 1) {
		xprt_peers_free(l);
		ldms_auth_cfg_free(&l->auth);
		pthread_mutex_destroy(&l->lock);
		free(l);
	}
}

static struct ldms_xprt *xprt_alloc(int active, const struct ldms_auth_cfg *auth,
				    const struct ldms_xprt_opts *opts)
{
	struct ldms_xprt *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	if (auth_cfg_dup(&x->auth_cfg, auth)) {
		free(x);
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	atomic_init(&x->ref, 1);
	atomic_init(&x->app_ref, 1);
	x->active = active;
	x->accept_fd = -1;
	x->cred_ovr_uid = -1;
	snprintf(x->auth_name, sizeof(x->auth_name), "%s", x->auth_cfg.plugin);
	opts_init(&x->opts, opts);
	x->next_id = 1;
	atomic_fetch_add(&live_count, 1);
	return x;
}

void xprt_free(struct ldms_xprt *x)
{
	xprt_peer_release(x);
	if (x->accept_fd >= 0)
		close(x->accept_fd);
	if (x->l)
		listener_put(x->l);
	ldms_auth_cfg_free(&x->auth_cfg);
	pthread_mutex_destroy(&x->lock);
	free(x->rbuf);
	free(x->maps);
	free(x);
	atomic_fetch_sub(&live_count, 1);
}

ldms_t ldms_xprt_get(ldms_t x)
{
	if (x)
		atomic_fetch_add(&x->ref, 1);
	return x;
}

void ldms_xprt_put(ldms_t x)
{
	if (x && atomic_fetch_sub(&x->ref, 1) == 1)
		xprt_free(x);
}

ldms_t ldms_xprt_new(const char *xprt, const struct ldms_auth_cfg *auth,
		     const struct ldms_xprt_opts *opts)
{
	if (xprt && strcmp(xprt, "sock") != 0) {
		errno = ENOTSUP;
		return NULL;
	}
	if (ldms_init(1)) {
		errno = ENOMEM;
		return NULL;
	}
	return xprt_alloc(1, auth, opts);
}

const char *xprt_printable(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; n && i < n - 1 && in[i]; i++)
		out[i] = (unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f ? '?' : in[i];
	if (n)
		out[i] = 0;
	return out;
}

/* ---- output --------------------------------------------------------------------------- */

void xprt_write(struct ldms_xprt *x, const void *buf, size_t len)
{
	if (!x->bev || x->state == XS_CLOSED)
		return;
	bufferevent_write(x->bev, buf, len);
	xprt_stat_add(XSTAT_TX, len);
}

void xprt_send_ldms(struct ldms_xprt *x, const void *msg, size_t len)
{
	uint8_t hdr[ZAP_SENDRECV_HDR];

	if (!x->bev || x->state == XS_CLOSED || len > ZAP_MAX_FRAME - ZAP_SENDRECV_HDR)
		return;
	zap_hdr_encode(hdr, ZAP_MSG_SENDRECV, (uint32_t)(ZAP_SENDRECV_HDR + len),
		       xprt_next_zap_xid(), 0);
	wire_put_be32(hdr + 20, (uint32_t)len);
	bufferevent_write(x->bev, hdr, sizeof(hdr));
	bufferevent_write(x->bev, msg, len);
	xprt_stat_add(XSTAT_TX, sizeof(hdr) + len);
}

uint8_t *xprt_frame_sendrecv(const void *msg, size_t len, size_t *flen)
{
	uint8_t *buf = malloc(ZAP_SENDRECV_HDR + len);
	int n;

	if (!buf)
		return NULL;
	n = zap_encode_data(buf, ZAP_SENDRECV_HDR + len, ZAP_MSG_SENDRECV, xprt_next_zap_xid(), msg,
			    (uint32_t)len);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*flen = (size_t)n;
	return buf;
}

struct frame_task {
	struct ldms_xprt *x;
	uint8_t *buf;
	size_t len;
};

static void frame_task_run(void *arg)
{
	struct frame_task *t = arg;

	xprt_io_cat(LDMS_IO_CAT_SEND);
	if (xprt_push_check(t->x) == 0)
		xprt_write(t->x, t->buf, t->len);
	ldms_xprt_put(t->x);
	free(t->buf);
	free(t);
}

int xprt_post_frame(struct ldms_xprt *x, uint8_t *buf, size_t len)
{
	struct frame_task *t = malloc(sizeof(*t));
	int rc;

	if (!t) {
		free(buf);
		return -ENOMEM;
	}
	t->x = ldms_xprt_get(x);
	t->buf = buf;
	t->len = len;
	rc = xprt_post(x->io, frame_task_run, t);
	if (rc) {
		ldms_xprt_put(x);
		free(buf);
		free(t);
	}
	return rc;
}

int xprt_push_check(struct ldms_xprt *x)
{
	size_t queued;

	if (!x->bev || x->state == XS_CLOSED)
		return -ENOTCONN;
	queued = evbuffer_get_length(bufferevent_get_output(x->bev));
	if (queued <= atomic_load(&out_max))
		return 0;
	x->overflow = 1;
	ldms_log(LDMS_LWARN, XPRT_LOG,
		 "%s does not read: %zu bytes of output queued, closing the connection",
		 x->peer_str, queued);
	xprt_close_now(x, ENOBUFS,
		       "%s does not read: %zu bytes of output queued, closing the connection",
		       x->peer_str, queued);
	return -ENOBUFS;
}

/* ---- events --------------------------------------------------------------------------- */

void xprt_deliver(struct ldms_xprt *x, enum ldms_xprt_event_type type, const char *data, size_t len,
		  ldms_set_t set)
{
	struct ldms_xprt_event e = {.type = type, .data = data, .data_len = len, .set = set};

	if (x->cb)
		x->cb(x, &e, x->cb_arg);
}

int xprt_is_connected(struct ldms_xprt *x)
{
	int rc;

	pthread_mutex_lock(&x->lock);
	rc = x->state == XS_CONNECTED;
	pthread_mutex_unlock(&x->lock);
	return rc;
}

static void set_state(struct ldms_xprt *x, enum xprt_state st)
{
	pthread_mutex_lock(&x->lock);
	x->state = st;
	pthread_mutex_unlock(&x->lock);
}

static void addr_str(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		port = ntohs(s4->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		port = ntohs(s6->sin6_port);
	}
	snprintf(buf, len, "%s:%d", h, port);
}

/* What is queued (an auth reply, a last message) still leaves, as far as the
 * socket takes it without blocking. libevent keeps the output buffer's start
 * frozen for its own writer; the bufferevent is freed right after, so thaw it. */
static void flush_best_effort(struct ldms_xprt *x)
{
	struct evbuffer *out = bufferevent_get_output(x->bev);

	if (!evbuffer_get_length(out))
		return;
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(x->bev));
}

/* ---- handshake deadline ---------------------------------------------------------------- */

static void hs_timer_stop(struct ldms_xprt *x)
{
	if (x->hs_timer) {
		event_free(x->hs_timer);
		x->hs_timer = NULL;
	}
}

static void hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldms_xprt *x = arg;
	int saved;

	if (x->state == XS_CONNECTED || x->state == XS_CLOSED)
		return;
	saved = xprt_io_enter(LDMS_IO_CAT_DISCONNECTING);
	if (!x->active)
		ldms_log(LDMS_LWARN, XPRT_LOG,
			 "%s: no complete LDMS handshake and authentication within %.3g s: "
			 "closing the connection",
			 x->peer_str, atomic_load(&hs_timeout));
	xprt_close_now(x, ETIMEDOUT, "no complete LDMS handshake within %.3g s",
		       atomic_load(&hs_timeout));
	xprt_io_leave(saved);
}

/* io thread, once the socket exists */
static void hs_timer_start(struct ldms_xprt *x)
{
	double t = atomic_load(&hs_timeout);
	struct timeval tv;

	if (!(t > 0))
		return;
	tv.tv_sec = (time_t)t;
	tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
	x->hs_timer = evtimer_new(x->io->base, hs_timeout_cb, x);
	if (x->hs_timer)
		evtimer_add(x->hs_timer, &tv);
}

void xprt_close_now(struct ldms_xprt *x, int err, const char *fmt, ...)
{
	enum xprt_state prev = x->state;
	va_list ap;

	if (prev == XS_CLOSED)
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
		va_end(ap);
	}
	x->close_err = err;
	set_state(x, XS_CLOSED);
	xprt_list_del(x);
	hs_timer_stop(x);
	if (x->bev) {
		flush_best_effort(x);
		bufferevent_free(x->bev);
		x->bev = NULL;
		xprt_stat_add(XSTAT_OPEN, (uint64_t)-1);
	}
	xprt_client_cleanup(x, -ENOTCONN);
	xprt_server_cleanup(x);
	xprt_push_cleanup(x);
	xprt_msg_cleanup(x);
	if (x->auth) {
		ldms_auth_free(x->auth);
		x->auth = NULL;
	}
	xprt_peer_release(x);
	if (prev == XS_CONNECTED) {
		xprt_stat_add(XSTAT_DISCONN, 1);
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: disconnected: %s", x->peer_str, x->reason);
		xprt_deliver(x, LDMS_XPRT_EVENT_DISCONNECTED, NULL, 0, NULL);
	} else if (x->active && prev != XS_INIT) {
		if (x->rejected || prev == XS_AUTH) {
			x->rejected = 1;
			xprt_stat_add(XSTAT_REJECTED, 1);
			x->close_err = EACCES;
			ldms_log(LDMS_LERROR, XPRT_LOG, "connection to %s rejected: %s",
				 x->peer_str, x->reason);
			xprt_deliver(x, LDMS_XPRT_EVENT_REJECTED, x->reason, strlen(x->reason),
				     NULL);
		} else {
			ldms_log(LDMS_LERROR, XPRT_LOG, "connection to %s failed: %s", x->peer_str,
				 x->reason);
			xprt_deliver(x, LDMS_XPRT_EVENT_ERROR, x->reason, strlen(x->reason), NULL);
		}
	} else if (!x->active && prev == XS_AUTH && !x->auth_failed) {
		ldms_log(LDMS_LERROR, XPRT_LOG,
			 "connection from %s closed during authentication: %s", x->peer_str,
			 x->reason);
	}
	if (!x->active && atomic_exchange(&x->app_ref, 0))
		ldms_xprt_put(x);
	ldms_xprt_put(x); /* the connection's reference */
}

static void close_task(void *arg)
{
	struct ldms_xprt *x = arg;

	xprt_io_cat(LDMS_IO_CAT_DISCONNECTING);
	if (x->state == XS_INIT || x->state == XS_CLOSED) {
		/* nothing to do */
	} else if (x->bev && !x->flush_close &&
		   evbuffer_get_length(bufferevent_get_output(x->bev))) {
		/* let queued frames (e.g. a SEND_MSG just before close) reach the peer */
		struct timeval tv = {.tv_sec = 5};
		x->flush_close = 1;
		x->close_err = ECONNABORTED;
		snprintf(x->reason, sizeof(x->reason), "closed locally");
		bufferevent_disable(x->bev, EV_READ);
		bufferevent_set_timeouts(x->bev, NULL, &tv);
	} else if (!x->flush_close) {
		xprt_close_now(x, ECONNABORTED, "closed locally");
	}
	ldms_xprt_put(x);
}

void xprt_close_post(struct ldms_xprt *x)
{
	ldms_xprt_get(x);
	if (!x->io || xprt_post(x->io, close_task, x))
		ldms_xprt_put(x);
}

void ldms_xprt_close(ldms_t x)
{
	if (!x)
		return;
	xprt_close_post(x);
	if (atomic_exchange(&x->app_ref, 0))
		ldms_xprt_put(x);
}

/* ---- set-up and authentication ------------------------------------------------------ */

static void conn_msg_own(struct ldms_xprt *x, struct ldms_conn_msg *m, int rail)
{
	ldms_conn_msg_init(m, x->auth_name, rail);
	m->pid = (uint32_t)getpid();
	m->msg_enabled = x->opts.msg_enabled ? 1 : 0;
	m->recv_quota = x->opts.recv_quota;
	m->rate_limit = x->opts.rate_limit;
}

static void auth_result(struct ldms_xprt *x, int rc, struct ldms_err *err)
{
	uid_t uid = 0;
	gid_t gid = 0;

	if (rc < 0) {
		ldms_log(LDMS_LERROR, XPRT_LOG, "authentication %s %s failed: %s",
			 x->active ? "of server" : "of peer", x->peer_str,
			 err->msg[0] ? err->msg : strerror(-rc));
		x->rejected = x->active;
		x->auth_failed = 1;
		xprt_stat_add(XSTAT_AUTH_FAIL, 1);
		xprt_close_now(x, EACCES, "%s", err->msg[0] ? err->msg : strerror(-rc));
		return;
	}
	if (rc == 0)
		return;
	ldms_auth_cred(x->auth, &uid, &gid);
	if (x->cred_ovr_uid >= 0) {
		uid = (uid_t)x->cred_ovr_uid;
		gid = (gid_t)x->cred_ovr_gid;
	}
	pthread_mutex_lock(&x->lock);
	x->peer_uid = uid;
	x->peer_gid = gid;
	x->state = XS_CONNECTED;
	pthread_mutex_unlock(&x->lock);
	xprt_stat_add(XSTAT_CONNECTED, 1);
	hs_timer_stop(x);
	ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: connected (auth %s, peer uid %u gid %u)", x->peer_str,
		 x->auth_name, (unsigned)uid, (unsigned)gid);
	xprt_deliver(x, LDMS_XPRT_EVENT_CONNECTED, NULL, 0, NULL);
}

static void auth_send(struct ldms_xprt *x, uint8_t *out, size_t out_len)
{
	uint8_t *msg;
	int n;

	if (!out_len)
		return;
	msg = malloc(LDMS_REQ_HDR_LEN + 4 + out_len);
	if (msg) {
		n = ldms_enc_send(msg, LDMS_REQ_HDR_LEN + 4 + out_len, LDMS_CMD_AUTH_MSG, 0, out,
				  (uint32_t)out_len);
		if (n > 0)
			xprt_send_ldms(x, msg, (size_t)n);
		free(msg);
	}
}

static void auth_start(struct ldms_xprt *x)
{
	struct ldms_err err;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rc;

	ldms_err_clear(&err);
	set_state(x, XS_AUTH);
	x->auth = ldms_auth_new(&x->auth_cfg, x->active, &err);
	if (!x->auth) {
		auth_result(x, err.rc ? err.rc : -EINVAL, &err);
		return;
	}
	rc = ldms_auth_begin(x->auth, (struct sockaddr *)&x->local_sa,
			     (struct sockaddr *)&x->peer_sa, &out, &out_len, &err);
	auth_send(x, out, out_len);
	free(out);
	auth_result(x, rc, &err);
}

static void auth_recv(struct ldms_xprt *x, const struct ldms_msg *m)
{
	struct ldms_err err;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rc;

	if (!x->auth || ldms_auth_approved(x->auth))
		return; /* late or duplicate: the exchange is over */
	ldms_err_clear(&err);
	rc = ldms_auth_recv(x->auth, m->u.send.data, m->u.send.len, &out, &out_len, &err);
	auth_send(x, out, out_len);
	free(out);
	auth_result(x, rc, &err);
}

/* Passive: REJECTED with a reason, then close once it is on the wire. */
static void passive_reject(struct ldms_xprt *x, const char *reason)
{
	size_t n = strlen(reason) + 1;
	uint8_t *buf = malloc(ZAP_SENDRECV_HDR + n);

	ldms_log(LDMS_LERROR, XPRT_LOG, "rejecting connection from %s: %s", x->peer_str, reason);
	xprt_stat_add(XSTAT_REJECTED, 1);
	snprintf(x->reason, sizeof(x->reason), "%s", reason);
	if (buf && zap_encode_data(buf, ZAP_SENDRECV_HDR + n, ZAP_MSG_REJECTED, xprt_next_zap_xid(),
				   reason, (uint32_t)n) > 0) {
		xprt_write(x, buf, ZAP_SENDRECV_HDR + n);
		x->flush_close = 1;
		x->close_err = EACCES;
		bufferevent_disable(x->bev, EV_READ);
		free(buf);
		return;
	}
	free(buf);
	xprt_close_now(x, EACCES, "%s", reason);
}

static void passive_connect(struct ldms_xprt *x, const struct zap_frame *f)
{
	struct ldms_conn_msg pm, m;
	char reason[256], pa[17];
	uint8_t cm[LDMS_CONN_MSG_RAIL_LEN], buf[ZAP_SENDRECV_HDR + LDMS_CONN_MSG_RAIL_LEN];
	int n;

	reason[0] = 0;
	if (!zap_version_ok(f->version))
		snprintf(reason, sizeof(reason), "unsupported zap version %u.%u (1.3 expected)",
			 f->version[0], f->version[1]);
	else if (!zap_sig_ok(f->sig))
		snprintf(reason, sizeof(reason), "transport signature mismatch (not zap sock)");
	else if (ldms_conn_msg_decode(f->data, f->data_len, &pm))
		snprintf(reason, sizeof(reason), "malformed LDMS connection message (%u bytes)",
			 f->data_len);
	else if (!ldms_conn_version_ok(pm.version))
		snprintf(reason, sizeof(reason),
			 "LDMS protocol version %u.%u.%u.%u not supported (4.2.0.0 expected)",
			 pm.version[0], pm.version[1], pm.version[2], pm.version[3]);
	else if (strcmp(pm.auth_name, x->auth_name) != 0)
		snprintf(reason, sizeof(reason),
			 "authentication method mismatch: the listener uses '%s', the peer '%s'",
			 x->auth_name, xprt_printable(pm.auth_name, pa, sizeof(pa)));
	if (reason[0]) {
		passive_reject(x, reason);
		return;
	}
	x->peer_cm = pm;
	x->peer_legacy = !pm.is_rail;
	conn_msg_own(x, &m, pm.is_rail);
	m.rail_gn = pm.rail_gn; /* upstream echoes the client's rail_gn */
	n = ldms_conn_msg_encode(cm, sizeof(cm), &m);
	n = zap_encode_data(buf, sizeof(buf), ZAP_MSG_ACCEPTED, xprt_next_zap_xid(), cm,
			    (uint32_t)n);
	xprt_write(x, buf, (size_t)n);
	set_state(x, XS_WAIT_ACK);
}

static void active_accepted(struct ldms_xprt *x, const struct zap_frame *f)
{
	struct ldms_conn_msg pm;
	uint8_t buf[ZAP_SENDRECV_HDR];
	char pa[17];

	if (ldms_conn_msg_decode(f->data, f->data_len, &pm)) {
		xprt_close_now(x, EPROTO, "malformed ACCEPTED connection message");
		return;
	}
	if (!ldms_conn_version_ok(pm.version) || strcmp(pm.auth_name, x->auth_name) != 0) {
		x->rejected = 1;
		xprt_close_now(x, EACCES,
			       "peer answered LDMS %u.%u.%u.%u with authentication '%.16s' "
			       "(expected 4.2.0.0 and '%s')",
			       pm.version[0], pm.version[1], pm.version[2], pm.version[3],
			       xprt_printable(pm.auth_name, pa, sizeof(pa)), x->auth_name);
		return;
	}
	x->peer_cm = pm;
	x->peer_legacy = !pm.is_rail;
	zap_encode_data(buf, sizeof(buf), ZAP_MSG_ACK_ACCEPTED, xprt_next_zap_xid(), NULL, 0);
	xprt_write(x, buf, sizeof(buf));
	auth_start(x);
}

static void active_rejected(struct ldms_xprt *x, const struct zap_frame *f)
{
	char reason[sizeof(x->reason)];
	size_t n = f->data_len < sizeof(reason) - 1 ? f->data_len : sizeof(reason) - 1;
	size_t i;

	memcpy(reason, f->data, n);
	reason[n] = 0;
	for (i = 0; i < n && reason[i]; i++)
		if ((unsigned char)reason[i] < 0x20)
			reason[i] = ' ';
	x->rejected = 1;
	xprt_close_now(x, EACCES, "%s", n && reason[0] ? reason : "rejected by the peer");
}

/* ---- receive ---------------------------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* thread_stats category of a received LDMS command */
static int recv_cat(uint32_t cmd)
{
	switch (cmd) {
	case LDMS_CMD_AUTH_MSG:
		return LDMS_IO_CAT_AUTH;
	case LDMS_CMD_SEND_MSG:
		return LDMS_IO_CAT_RECV;
	case LDMS_CMD_DIR:
	case LDMS_CMD_DIR_CANCEL:
		return LDMS_IO_CAT_DIR_REQ;
	case LDMS_CMD_DIR_REPLY:
	case LDMS_CMD_DIR_UPDATE_REPLY:
	case LDMS_CMD_DIR_CANCEL_REPLY:
		return LDMS_IO_CAT_DIR_REP;
	case LDMS_CMD_LOOKUP:
		return LDMS_IO_CAT_LOOKUP_REQ;
	case LDMS_CMD_LOOKUP_REPLY:
		return LDMS_IO_CAT_LOOKUP_REP;
	case LDMS_CMD_SET_DELETE:
		return LDMS_IO_CAT_SET_DELETE_REQ;
	case LDMS_CMD_SET_DELETE_REPLY:
		return LDMS_IO_CAT_SET_DELETE_REP;
	case LDMS_CMD_CANCEL_PUSH:
	case LDMS_CMD_PUSH_REPLY:
		return LDMS_IO_CAT_PUSH_REP;
	case LDMS_CMD_MSG:
		return LDMS_IO_CAT_MSG_DATA;
	case LDMS_CMD_MSG_SUB:
	case LDMS_CMD_MSG_UNSUB:
	case LDMS_CMD_MSG_SUB_REPLY:
	case LDMS_CMD_MSG_UNSUB_REPLY:
		return LDMS_IO_CAT_MSG_CLIENT;
	default:
		return LDMS_IO_CAT_OTHER;
	}
}

static void recv_ldms(struct ldms_xprt *x, const uint8_t *data, size_t len)
{
	struct ldms_msg m;
	xprt_cmd_handler_t h;
	uint64_t t0;
	int op;

	if (ldms_msg_decode(data, len, &m)) {
		xprt_close_now(x, EPROTO, "malformed LDMS message from %s", x->peer_str);
		return;
	}
	xprt_io_cat(recv_cat(m.cmd));
	if (x->state == XS_AUTH) {
		if (m.cmd == LDMS_CMD_AUTH_MSG)
			auth_recv(x, &m);
		else
			ldms_log(LDMS_LWARN, XPRT_LOG,
				 "%s: dropped LDMS command %#x received before authentication",
				 x->peer_str, m.cmd);
		return;
	}
	switch (m.cmd) {
	case LDMS_CMD_AUTH_MSG:
		break;
	case LDMS_CMD_SEND_MSG:
		t0 = ldms_monotonic_us();
		xprt_deliver(x, LDMS_XPRT_EVENT_RECV, (const char *)m.u.send.data, m.u.send.len,
			     NULL);
		xprt_op_record(LDMS_XPRT_OP_RECV, ldms_monotonic_us() - t0, x);
		break;
	case LDMS_CMD_DIR:
	case LDMS_CMD_DIR_CANCEL:
	case LDMS_CMD_LOOKUP:
	case LDMS_CMD_SET_DELETE_REPLY:
	case LDMS_CMD_REQ_NOTIFY:
	case LDMS_CMD_CANCEL_NOTIFY:
		xprt_server_recv(x, &m, now_us());
		break;
	case LDMS_CMD_CANCEL_PUSH:
		xprt_push_cancel_recv(x, &m);
		break;
	case LDMS_CMD_PUSH_REPLY:
		t0 = ldms_monotonic_us();
		xprt_push_reply_recv(x, &m);
		xprt_op_record(LDMS_XPRT_OP_PUBLISH, ldms_monotonic_us() - t0, x);
		break;
	case LDMS_CMD_DIR_REPLY:
	case LDMS_CMD_DIR_UPDATE_REPLY:
	case LDMS_CMD_DIR_CANCEL_REPLY:
	case LDMS_CMD_LOOKUP_REPLY:
	case LDMS_CMD_SET_DELETE:
	case LDMS_CMD_REQ_NOTIFY_REPLY:
		xprt_client_recv(x, &m);
		break;
	default:
		h = cmd_handler_get(m.cmd);
		op = m.cmd == LDMS_CMD_MSG	   ? LDMS_XPRT_OP_MSG_PUBLISH
		     : m.cmd == LDMS_CMD_MSG_SUB   ? LDMS_XPRT_OP_MSG_SUBSCRIBE
		     : m.cmd == LDMS_CMD_MSG_UNSUB ? LDMS_XPRT_OP_MSG_UNSUBSCRIBE
						   : -1;
		t0 = op >= 0 ? ldms_monotonic_us() : 0;
		if (h)
			h(x, &m);
		if (h && op >= 0)
			xprt_op_record(op, ldms_monotonic_us() - t0, x);
		if (!h)
			ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: ignored LDMS command %#x", x->peer_str,
				 m.cmd);
		break;
	}
}

static void dispatch(struct ldms_xprt *x, const struct zap_frame *f)
{
	uint16_t t = f->hdr.type;

	if (x->state == XS_WAIT_CONNECT || x->state == XS_WAIT_ACK || x->state == XS_WAIT_ACCEPT)
		xprt_io_cat(LDMS_IO_CAT_CONNECTING);
	else if (t == ZAP_MSG_READ_REQ)
		xprt_io_cat(LDMS_IO_CAT_UPDATE_REQ);
	else if (t == ZAP_MSG_RENDEZVOUS)
		xprt_io_cat(LDMS_IO_CAT_LOOKUP_REP); /* push registrations re-label */
	switch (x->state) {
	case XS_WAIT_CONNECT:
		if (t == ZAP_MSG_CONNECT)
			return passive_connect(x, f);
		break;
	case XS_WAIT_ACK:
		if (t == ZAP_MSG_ACK_ACCEPTED)
			return auth_start(x);
		break;
	case XS_WAIT_ACCEPT:
		if (t == ZAP_MSG_ACCEPTED)
			return active_accepted(x, f);
		if (t == ZAP_MSG_REJECTED)
			return active_rejected(x, f);
		break;
	case XS_AUTH:
		if (t == ZAP_MSG_SENDRECV)
			return recv_ldms(x, f->data, f->data_len);
		break;
	case XS_CONNECTED:
		if (t == ZAP_MSG_SENDRECV)
			return recv_ldms(x, f->data, f->data_len);
		if (t == ZAP_MSG_RENDEZVOUS)
			return xprt_client_rendezvous(x, f);
		if (t == ZAP_MSG_READ_REQ)
			return xprt_server_read_req(x, f);
		break;
	default:
		return;
	}
	xprt_close_now(x, EPROTO, "unexpected zap frame type %u from %s", t, x->peer_str);
}

/* Decided on the header alone, before any body is buffered: which frames the
 * current state accepts and how large they may be. */
static int frame_allowed(const struct ldms_xprt *x, const struct zap_hdr *h)
{
	switch (x->state) {
	case XS_WAIT_CONNECT:
		return h->type == ZAP_MSG_CONNECT &&
		       h->len <= ZAP_CONNECT_HDR + XPRT_PREAUTH_FRAME_MAX;
	case XS_WAIT_ACK:
		return h->type == ZAP_MSG_ACK_ACCEPTED &&
		       h->len <= ZAP_SENDRECV_HDR + XPRT_PREAUTH_FRAME_MAX;
	case XS_WAIT_ACCEPT:
		return (h->type == ZAP_MSG_ACCEPTED || h->type == ZAP_MSG_REJECTED) &&
		       h->len <= ZAP_SENDRECV_HDR + XPRT_PREAUTH_FRAME_MAX;
	case XS_AUTH:
		return h->type == ZAP_MSG_SENDRECV && h->len <= XPRT_AUTH_FRAME_MAX;
	case XS_CONNECTED:
		return h->type == ZAP_MSG_SENDRECV || h->type == ZAP_MSG_RENDEZVOUS ||
		       h->type == ZAP_MSG_READ_REQ || h->type == ZAP_MSG_READ_RESP;
	default:
		return 0;
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct ldms_xprt *x = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hb[ZAP_READ_RESP_HDR];
	struct zap_hdr h;
	struct zap_frame f;
	size_t avail;
	int rc, saved = xprt_io_enter(LDMS_IO_CAT_ZAP);

	ldms_xprt_get(x);
	while (x->state != XS_CLOSED && !x->flush_close) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) > XPRT_OUT_HIWAT) {
			/* the peer does not read its answers: stop reading its requests */
			x->rd_paused = 1;
			bufferevent_disable(bev, EV_READ);
			ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: input paused until the peer reads",
				 x->peer_str);
			break;
		}
		avail = evbuffer_get_length(in);
		if (avail < ZAP_HDR_LEN)
			break;
		evbuffer_copyout(in, hb, ZAP_HDR_LEN);
		if (zap_hdr_decode(hb, ZAP_HDR_LEN, &h)) {
			xprt_close_now(x, EPROTO, "malformed zap frame header from %s",
				       x->peer_str);
			break;
		}
		if (!frame_allowed(x, &h)) {
			xprt_close_now(
			    x, EPROTO,
			    "unexpected zap frame (type %u, %u bytes) from %s in state %d", h.type,
			    h.len, x->peer_str, (int)x->state);
			break;
		}
		if (h.type == ZAP_MSG_READ_RESP && x->state == XS_CONNECTED) {
			if (avail < ZAP_READ_RESP_HDR)
				break;
			evbuffer_copyout(in, hb, ZAP_READ_RESP_HDR);
			if (zap_read_resp_hdr_decode(hb, ZAP_READ_RESP_HDR, &f) ||
			    xprt_client_read_resp_check(x, &f)) {
				xprt_close_now(x, EPROTO, "unexpected READ_RESP from %s",
					       x->peer_str);
				break;
			}
			if (avail < h.len)
				break;
			evbuffer_drain(in, ZAP_READ_RESP_HDR);
			xprt_stat_add(XSTAT_RX, h.len);
			xprt_io_cat(LDMS_IO_CAT_UPDATE_COMPLETE);
			rc = xprt_client_read_resp(x, &f, in);
			xprt_io_cat(LDMS_IO_CAT_ZAP);
			if (rc) {
				xprt_close_now(x, EPROTO, "bad READ_RESP from %s", x->peer_str);
				break;
			}
			continue;
		}
		if (avail < h.len)
			break;
		if (x->rbuf_cap < h.len) {
			uint8_t *nb = realloc(x->rbuf, h.len);
			if (!nb) {
				xprt_close_now(x, ENOMEM, "out of memory");
				break;
			}
			x->rbuf = nb;
			x->rbuf_cap = h.len;
		}
		evbuffer_remove(in, x->rbuf, h.len);
		xprt_stat_add(XSTAT_RX, h.len);
		if (zap_frame_decode(x->rbuf, h.len, &f)) {
			xprt_close_now(x, EPROTO, "malformed zap frame (type %u) from %s", h.type,
				       x->peer_str);
			break;
		}
		dispatch(x, &f);
		xprt_io_cat(LDMS_IO_CAT_ZAP);
	}
	/* large scratch buffers are not kept around between frames */
	if (x->rbuf_cap > 65536) {
		free(x->rbuf);
		x->rbuf = NULL;
		x->rbuf_cap = 0;
	}
	ldms_xprt_put(x);
	xprt_io_leave(saved);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct ldms_xprt *x = arg;
	int saved;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	saved = xprt_io_enter(x->flush_close ? LDMS_IO_CAT_DISCONNECTING : LDMS_IO_CAT_ZAP);
	if (x->flush_close) {
		xprt_close_now(x, x->close_err, NULL);
	} else if (x->rd_paused && x->state != XS_CLOSED) {
		x->rd_paused = 0;
		bufferevent_enable(bev, EV_READ);
		read_cb(bev, x); /* frames already buffered */
	}
	xprt_io_leave(saved);
}

static void sock_opts(struct ldms_xprt *x)
{
	evutil_socket_t fd = bufferevent_getfd(x->bev);
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	x->local_len = sizeof(x->local_sa);
	getsockname(fd, (struct sockaddr *)&x->local_sa, &x->local_len);
}

static void event_cb_run(struct ldms_xprt *x, short what)
{
	struct ldms_conn_msg m;
	uint8_t cm[LDMS_CONN_MSG_RAIL_LEN], buf[ZAP_CONNECT_HDR + LDMS_CONN_MSG_RAIL_LEN];
	int n, err;

	if (what & BEV_EVENT_CONNECTED) {
		sock_opts(x);
		conn_msg_own(x, &m, !x->opts.legacy_conn_msg);
		m.rail_gn = atomic_fetch_add(&rail_gn, 1) + 1;
		n = ldms_conn_msg_encode(cm, sizeof(cm), &m);
		n = zap_encode_connect(buf, sizeof(buf), xprt_next_zap_xid(), cm, (uint32_t)n);
		set_state(x, XS_WAIT_ACCEPT);
		xprt_write(x, buf, (size_t)n);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		xprt_close_now(x, ECONNRESET, "%s",
			       x->state == XS_AUTH ? "the peer closed the connection during "
						     "authentication"
						   : "connection closed by the peer");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		xprt_close_now(x, ETIMEDOUT, "could not flush the connection before closing");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		err = EVUTIL_SOCKET_ERROR();
		if (!err)
			err = ECONNRESET;
		xprt_close_now(x, err, "%s", strerror(err));
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	int saved = xprt_io_enter((what & BEV_EVENT_CONNECTED) ? LDMS_IO_CAT_CONNECTING
							       : LDMS_IO_CAT_DISCONNECTING);

	event_cb_run(arg, what);
	xprt_io_leave(saved);
}

/* ---- active side -------------------------------------------------------------------- */

static void connect_task(void *arg)
{
	struct ldms_xprt *x = arg;

	xprt_io_cat(LDMS_IO_CAT_CONNECTING);
	if (x->state != XS_CONNECTING) { /* closed before we ran */
		ldms_xprt_put(x);
		return;
	}
	x->bev = bufferevent_socket_new(x->io->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!x->bev) {
		xprt_close_now(x, ENOMEM, "out of memory");
		return;
	}
	xprt_list_add(x);
	xprt_stat_add(XSTAT_OPEN, 1);
	xprt_stat_add(XSTAT_TOTAL, 1);
	bufferevent_setcb(x->bev, read_cb, write_cb, event_cb, x);
	bufferevent_enable(x->bev, EV_READ | EV_WRITE);
	hs_timer_start(x);
	if (bufferevent_socket_connect(x->bev, (struct sockaddr *)&x->peer_sa, (int)x->peer_len) <
	    0) {
		int err = EVUTIL_SOCKET_ERROR();
		xprt_close_now(x, err ? err : ECONNREFUSED, "connect: %s",
			       strerror(err ? err : ECONNREFUSED));
	}
}

int ldms_xprt_connect(ldms_t x, const char *host, const char *port, ldms_event_cb_t cb,
		      void *cb_arg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc;

	if (!x || !port || !x->active)
		return -EINVAL;
	if (!host || !host[0])
		host = "localhost";
	pthread_mutex_lock(&x->lock);
	if (x->state != XS_INIT) {
		pthread_mutex_unlock(&x->lock);
		return -EISCONN;
	}
	x->state = XS_CONNECTING;
	pthread_mutex_unlock(&x->lock);
	hints.ai_family = AF_UNSPEC;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(x->peer_sa)) {
		if (ai)
			freeaddrinfo(ai);
		set_state(x, XS_INIT);
		snprintf(x->reason, sizeof(x->reason), "cannot resolve %s:%s: %s", host, port,
			 rc ? gai_strerror(rc) : "no address");
		return -EHOSTUNREACH;
	}
	memcpy(&x->peer_sa, ai->ai_addr, ai->ai_addrlen);
	x->peer_len = (socklen_t)ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(x->peer_str, sizeof(x->peer_str), "%s:%s", host, port);
	x->cb = cb;
	x->cb_arg = cb_arg;
	x->io = xprt_io_pick();
	ldms_xprt_get(x); /* the connection's reference */
	rc = xprt_post(x->io, connect_task, x);
	if (rc) {
		set_state(x, XS_INIT);
		ldms_xprt_put(x);
	}
	return rc;
}

/* ---- passive side -------------------------------------------------------------------------- */

static void accept_task(void *arg)
{
	struct ldms_xprt *x = arg;

	xprt_io_cat(LDMS_IO_CAT_CONNECTING);
	x->bev = bufferevent_socket_new(x->io->base, x->accept_fd, BEV_OPT_CLOSE_ON_FREE);
	if (!x->bev) {
		ldms_xprt_put(x); /* app reference; xprt_free closes the fd */
		ldms_xprt_put(x);
		return;
	}
	x->accept_fd = -1;
	set_state(x, XS_WAIT_CONNECT);
	xprt_list_add(x);
	xprt_stat_add(XSTAT_OPEN, 1);
	xprt_stat_add(XSTAT_TOTAL, 1);
	sock_opts(x);
	bufferevent_setcb(x->bev, read_cb, write_cb, event_cb, x);
	bufferevent_enable(x->bev, EV_READ | EV_WRITE);
	hs_timer_start(x);
}

static void accept_one(struct ldms_listener *l, evutil_socket_t fd, struct sockaddr *sa, int salen);

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ldms_listener *l = arg;
	int saved = xprt_io_enter(LDMS_IO_CAT_CONNECTING);

	accept_one(l, fd, sa, salen);
	xprt_io_leave(saved);
}

static void accept_one(struct ldms_listener *l, evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	struct xprt_peer_key key;
	struct ldms_xprt *x;

	xprt_peer_key_of(sa, salen, &key);
	if (xprt_peer_acquire(l, &key)) {
		close(fd); /* over the per-peer limit (logged) */
		return;
	}
	x = xprt_alloc(0, &l->auth, &l->opts);
	if (!x) {
		xprt_peer_unacquire(l, &key);
		close(fd);
		return;
	}
	x->peer_key = key;
	atomic_store(&x->peer_counted, key.family != 0);
	x->accept_fd = fd;
	x->cred_ovr_uid = atomic_load(&cred_override_uid);
	x->cred_ovr_gid = atomic_load(&cred_override_gid);
	atomic_fetch_add(&l->ref, 1);
	x->l = l; /* before anything can release the peer count */
	x->cb = l->cb;
	x->cb_arg = l->cb_arg;
	if ((size_t)salen <= sizeof(x->peer_sa)) {
		memcpy(&x->peer_sa, sa, (size_t)salen);
		x->peer_len = (socklen_t)salen;
	}
	addr_str(&x->peer_sa, x->peer_str, sizeof(x->peer_str));
	x->io = xprt_io_pick();
	ldms_xprt_get(x); /* the connection's reference */
	if (xprt_post(x->io, accept_task, x)) {
		ldms_xprt_put(x);
		ldms_xprt_put(x);
	}
}

int xprt_test_accept_fd(struct ldms_listener *l, int fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(1)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (evutil_make_socket_nonblocking(fd))
		return -errno;
	accept_cb(l->evl, fd, (struct sockaddr *)&sa, sizeof(sa), l);
	return 0;
}

/* accept() fails with EMFILE/ENFILE/ENOBUFS/ENOMEM while the pending
 * connection stays queued: without a pause the level-triggered listener would
 * spin. Pause it and retry shortly; existing connections keep being served. */
#define LISTEN_RETRY_MS 100

static void listen_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldms_listener *l = arg;

	pthread_mutex_lock(&l->lock);
	if (!l->closing && l->evl)
		evconnlistener_enable(l->evl);
	pthread_mutex_unlock(&l->lock);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct ldms_listener *l = arg;
	struct timeval tv = {.tv_sec = 0, .tv_usec = LISTEN_RETRY_MS * 1000};
	int err = EVUTIL_SOCKET_ERROR();
	time_t now = time(NULL);

	pthread_mutex_lock(&l->lock);
	if (now - l->last_warn >= 10) {
		l->last_warn = now;
		ldms_log(LDMS_LERROR, XPRT_LOG,
			 "listener on port %d: accept failed: %s; pausing new connections", l->port,
			 strerror(err));
	}
	if (!l->closing && l->retry) {
		evconnlistener_disable(evl);
		evtimer_add(l->retry, &tv);
	}
	pthread_mutex_unlock(&l->lock);
}

struct ldms_listener *ldms_listen(const char *xprt, const char *host, const char *port,
				  const struct ldms_auth_cfg *auth,
				  const struct ldms_xprt_opts *opts, ldms_event_cb_t cb,
				  void *cb_arg, struct ldms_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	struct ldms_listener *l;
	struct ldms_auth *a;
	struct io_thread *io;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd;
	int rc, one = 1;

	if (xprt && strcmp(xprt, "sock") != 0) {
		ldms_err_set(err, -ENOTSUP, "transport '%s' is not supported (only 'sock')", xprt);
		return NULL;
	}
	if (!port) {
		ldms_err_set(err, -EINVAL, "no port given");
		return NULL;
	}
	if ((rc = ldms_init(1)) != 0) {
		ldms_err_set(err, rc, "cannot start the I/O threads");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l || auth_cfg_dup(&l->auth, auth)) {
		free(l);
		ldms_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&l->ref, 1);
	pthread_mutex_init(&l->lock, NULL);
	atomic_init(&l->peer_max, ldms_listen_peer_max_default());
	snprintf(l->auth_name, sizeof(l->auth_name), "%s", l->auth.plugin);
	opts_init(&l->opts, opts);
	l->cb = cb;
	l->cb_arg = cb_arg;
	a = ldms_auth_new(&l->auth, 0, err); /* refuse a listener that could never authenticate */
	if (!a)
		goto fail;
	ldms_auth_free(a);
	hints.ai_family = (host && host[0]) ? AF_UNSPEC : AF_INET;
	rc = getaddrinfo(host && host[0] ? host : NULL, port, &hints, &ai);
	if (rc || !ai) {
		ldms_err_set(err, -EINVAL, "cannot resolve %s:%s: %s", host ? host : "*", port,
			     rc ? gai_strerror(rc) : "no address");
		goto fail;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ldms_err_set(err, -errno, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		ldms_err_set(err, -errno, "cannot listen on %s:%s: %s", host ? host : "*", port,
			     strerror(errno));
		close(fd);
		goto fail;
	}
	freeaddrinfo(ai);
	ai = NULL;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		xprt_sa_host_port(&ss, sl, NULL, 0, &l->port);
	io = xprt_io_get(0);
	l->evl = io ? evconnlistener_new(io->base, accept_cb, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE, -1, fd)
		    : NULL;
	if (!l->evl) {
		close(fd);
		ldms_err_set(err, -ENOMEM, "cannot create the listener");
		goto fail;
	}
	l->retry = evtimer_new(io->base, listen_retry_cb, l);
	if (!l->retry) {
		evconnlistener_free(l->evl);
		ldms_err_set(err, -ENOMEM, "cannot create the listener");
		goto fail;
	}
	evconnlistener_set_error_cb(l->evl, accept_error_cb);
	return l;
fail:
	if (ai)
		freeaddrinfo(ai);
	xprt_peers_free(l);
	ldms_auth_cfg_free(&l->auth);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}

int ldms_listener_port(struct ldms_listener *l)
{
	return l ? l->port : -EINVAL;
}

void ldms_listener_close(struct ldms_listener *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->closing = 1;
	pthread_mutex_unlock(&l->lock);
	/* event_del() waits for a running accept (or retry) callback on another thread */
	evconnlistener_free(l->evl);
	event_free(l->retry);
	pthread_mutex_lock(&l->lock);
	l->evl = NULL;
	l->retry = NULL;
	pthread_mutex_unlock(&l->lock);
	listener_put(l);
}
