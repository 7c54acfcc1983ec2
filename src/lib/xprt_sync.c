/* The blocking helpers tools use on top of the asynchronous transport
 * (connect_sync) and the small endpoint accessors and SEND_MSG entry point that
 * any thread may call. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xprt_int.h"

/* ---- blocking connect --------------------------------------------------------------- */

struct xsync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int refs;
	int done;
	int rc;
	char reason[512];
};

static void xsync_put(struct xsync *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
	}
}

static void sync_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	struct xsync *s = x->sync;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		s->rc = 0;
		break;
	case LDMS_XPRT_EVENT_REJECTED:
		s->rc = -EACCES;
		break;
	default:
		s->rc = -(x->close_err ? x->close_err : ECONNREFUSED);
		break;
	}
	if (e->data)
		snprintf(s->reason, sizeof(s->reason), "%.*s", (int)e->data_len, e->data);
	s->done = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	x->sync = NULL;
	xsync_put(s);
}

int ldms_xprt_connect_sync(ldms_t x, const char *host, const char *port, int timeout_ms,
			   struct ldms_err *err)
{
	struct xsync *s;
	struct timespec ts;
	int rc;

	if (!x)
		return -EINVAL;
	if (xprt_on_io_thread(NULL)) /* would wait for the loop it blocks */
		return ldms_err_set(err, -EDEADLK, "connect_sync called from an I/O thread");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	atomic_init(&s->refs, 2);
	x->sync = s;
	rc = ldms_xprt_connect(x, host, port, sync_cb, NULL);
	if (rc) {
		x->sync = NULL;
		xsync_put(s);
		xsync_put(s);
		return ldms_err_set(err, rc, "%s", x->reason[0] ? x->reason : strerror(-rc));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (timeout_ms < 0)
		timeout_ms = 0;
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->done && rc == 0)
		rc = pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	if (s->done)
		rc = s->rc;
	else
		rc = -ETIMEDOUT;
	if (rc)
		ldms_err_set(err, rc, "%s:%s: %s", host ? host : "localhost", port,
			     rc == -ETIMEDOUT ? "connection timed out"
			     : s->reason[0]   ? s->reason
					      : strerror(-rc));
	pthread_mutex_unlock(&s->lock);
	if (rc == -ETIMEDOUT)
		xprt_close_post(x);
	xsync_put(s);
	return rc;
}

/* ---- accessors ------------------------------------------------------------------------- */

int ldms_xprt_connected(ldms_t x)
{
	return x ? xprt_is_connected(x) : 0;
}

int ldms_xprt_peer_cred(ldms_t x, uid_t *uid, gid_t *gid)
{
	int rc = 0;

	if (!x)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	if (x->state != XS_CONNECTED)
		rc = -ENOTCONN;
	if (uid)
		*uid = x->peer_uid;
	if (gid)
		*gid = x->peer_gid;
	pthread_mutex_unlock(&x->lock);
	return rc;
}

int xprt_sa_host_port(const struct sockaddr_storage *sa, socklen_t len, char *host, size_t hostlen,
		      int *port)
{
	const void *a;
	int p;

	if (!len)
		return -ENOTCONN;
	if (sa->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (host && !inet_ntop(sa->ss_family, a, host, (socklen_t)hostlen))
		return -errno;
	if (port)
		*port = p;
	return 0;
}

int ldms_xprt_peer_addr(ldms_t x, char *host, size_t hostlen, int *port)
{
	return x ? xprt_sa_host_port(&x->peer_sa, x->peer_len, host, hostlen, port) : -EINVAL;
}

int ldms_xprt_local_addr(ldms_t x, char *host, size_t hostlen, int *port)
{
	return x ? xprt_sa_host_port(&x->local_sa, x->local_len, host, hostlen, port) : -EINVAL;
}

const char *ldms_xprt_auth_name(ldms_t x)
{
	return x ? x->auth_name : NULL;
}

void *ldms_xprt_ctx_get(ldms_t x)
{
	return x ? x->app_ctx : NULL;
}

void ldms_xprt_ctx_set(ldms_t x, void *ctx)
{
	if (x)
		x->app_ctx = ctx;
}

size_t ldms_xprt_msg_max(ldms_t x)
{
	return LDMS_MSG_MAX - LDMS_REQ_HDR_LEN - 4;
}

int ldms_xprt_send(ldms_t x, const void *data, size_t len)
{
	uint8_t *buf;
	size_t flen = ZAP_SENDRECV_HDR + LDMS_REQ_HDR_LEN + 4 + len;
	uint64_t t0 = ldms_monotonic_us();
	int n;

	if (!x || (!data && len))
		return -EINVAL;
	if (len > ldms_xprt_msg_max(x))
		return -EMSGSIZE;
	if (!xprt_is_connected(x))
		return -ENOTCONN;
	buf = malloc(flen);
	if (!buf)
		return -ENOMEM;
	n = ldms_enc_send(buf + ZAP_SENDRECV_HDR, flen - ZAP_SENDRECV_HDR, LDMS_CMD_SEND_MSG, 0,
			  data, (uint32_t)len);
	if (n < 0) {
		free(buf);
		return n;
	}
	zap_hdr_encode(buf, ZAP_MSG_SENDRECV, (uint32_t)flen, xprt_next_zap_xid(), 0);
	wire_put_be32(buf + 20, (uint32_t)n);
	n = xprt_post_frame(x, buf, flen);
	if (!n)
		xprt_op_record(LDMS_XPRT_OP_SEND, ldms_monotonic_us() - t0, x);
	return n;
}
