/* The connection half of the message service: per-connection send budget and
 * rate (Part 0), MSG fragmentation and reassembly (B.4), forwarding to remote
 * subscribers with the pending-forward FIFO (B.5), SEND_QUOTA returns, and the
 * 1-second tick that drains rate-limited queues and drops the state of closed
 * connections. The LDMS commands arrive through xprt_cmd_handler_set. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg_int.h"
#include "xprt_int.h"

static void subreq_free(struct msg_subreq *r)
{
	free(r->match);
	free(r);
}

/* ---- connection state ---------------------------------------------------------------------- */

static uint32_t conn_slot(ldms_t x)
{
	uintptr_t p = (uintptr_t)x;
	p ^= p >> 17;
	p *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(p >> 40) & (MSG_CONN_BUCKETS - 1);
}

void msg_conn_put(struct msg_conn *k)
{
	if (!k || atomic_fetch_sub(&k->ref, 1) != 1)
		return;
	free(k->asm_buf);
	ldms_xprt_put(k->x);
	free(k);
}

static int sa_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = s6->sin6_addr.s6_addr;
		static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		return !memcmp(a, v4map, 12) && a[12] == 127;
	}
	return 1; /* unknown: leave src for the next hop, as for loopback */
}

static void sa_to_addr(const struct sockaddr_storage *sa, struct msg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		wire_put_be16(a->b, AF_INET);
		memcpy(a->b + 2, &s4->sin_port, 2);
		memcpy(a->b + 4, &s4->sin_addr, 4);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		wire_put_be16(a->b, AF_INET6);
		memcpy(a->b + 2, &s6->sin6_port, 2);
		memcpy(a->b + 4, &s6->sin6_addr, 16);
	}
}

struct msg_conn *msg_conn_find(ldms_t x, int create)
{
	uint32_t i = conn_slot(x);
	struct msg_conn *k;
	char host[48];
	int port = 0;

	for (k = msg_g.conns[i]; k; k = k->hnext)
		if (k->x == x && !atomic_load(&k->closed))
			return k;
	if (!create || !xprt_is_connected(x))
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	atomic_init(&k->ref, 1);
	k->x = ldms_xprt_get(x);
	ldms_xprt_peer_cred(x, &k->uid, &k->gid);
	if (ldms_xprt_peer_addr(x, host, sizeof(host), &port))
		snprintf(host, sizeof(host), "0.0.0.0");
	snprintf(k->peer, sizeof(k->peer), "%s:%d", host, port & 0xffff);
	k->loopback = sa_loopback(&x->peer_sa);
	sa_to_addr(&x->peer_sa, &k->peer_addr);
	k->legacy = x->peer_legacy;
	k->peer_msg_enabled = x->peer_cm.msg_enabled != 0;
	k->peer_quota = x->peer_cm.recv_quota < 0 ? -1 : x->peer_cm.recv_quota;
	k->budget = k->peer_quota;
	msg_bucket_init(&k->rate, x->peer_cm.rate_limit <= 0 ? -1 : x->peer_cm.rate_limit);
	k->hnext = msg_g.conns[i];
	msg_g.conns[i] = k;
	k->next = msg_g.conn_list;
	msg_g.conn_list = k;
	msg_tick_ensure();
	return k;
}

/* Budget then rate, all or nothing (Part 0.2). */
static int conn_take(struct msg_conn *k, uint64_t charge)
{
	if (k->budget >= 0) {
		if ((uint64_t)k->budget < charge)
			return -ENOBUFS;
		k->budget -= (int64_t)charge;
	}
	if (msg_bucket_take(&k->rate, charge)) {
		if (k->budget >= 0)
			k->budget += (int64_t)charge;
		return -ENOBUFS;
	}
	return 0;
}

static void conn_give(struct msg_conn *k, uint64_t charge)
{
	if (k->budget >= 0)
		k->budget += (int64_t)charge;
	msg_bucket_give(&k->rate, charge);
}

static void conn_deposit(struct msg_conn *k, uint64_t q)
{
	uint64_t pay = q < k->debt ? q : k->debt;

	k->debt -= pay;
	q -= pay;
	if (k->budget >= 0) {
		k->budget += (int64_t)q;
		/* a peer returning more than it was charged gets no extra credit */
		if (k->peer_quota >= 0 && k->budget > k->peer_quota)
			k->budget = k->peer_quota;
	}
}

static int post_msg(struct msg_conn *k, const uint8_t *msg, size_t len)
{
	size_t flen;
	uint8_t *f = xprt_frame_sendrecv(msg, len, &flen);

	if (!f)
		return -ENOMEM;
	return xprt_post_frame(k->x, f, flen);
}

void msg_quota_send(struct msg_conn *k, uint64_t charge, uint32_t rc)
{
	uint8_t buf[MSG_SEND_QUOTA_LEN];

	if (atomic_load(&k->closed) || !k->x)
		return;
	/* the wire field is 32 bits: a large deferred sum goes in pieces */
	do {
		uint32_t q = charge > UINT32_MAX ? UINT32_MAX : (uint32_t)charge;
		msg_send_quota_encode(buf, sizeof(buf), q, rc);
		if (post_msg(k, buf, sizeof(buf)))
			return;
		atomic_fetch_add(&k->returned, q);
		charge -= q;
	} while (charge);
}

void msg_quota_return(struct msg_conn *k, uint32_t charge, uint32_t rc)
{
	if (atomic_load(&k->closed) || !k->x)
		return;
	if (rc == 0 && msg_qgroup_defer(k, charge))
		return;
	if (charge == 0 && rc == 0)
		return;
	msg_quota_send(k, charge, rc);
}

/* ---- sending ----------------------------------------------------------------------------------
 */

int msg_send(struct msg_conn *k, struct msg_buf *m)
{
	uint8_t hdr[MSG_FULL_HDR_LEN];
	struct msg_full_hdr h = m->h;
	struct msg_part p = {.src = m->h.src, .msg_gn = m->h.msg_gn};
	size_t total = MSG_FULL_HDR_LEN + (size_t)m->h.msg_len, off = 0;
	struct timespec now;
	int rc;

	msg_now(&now);
	if (h.hop_cnt < MSG_HOPS) {
		h.hops[h.hop_cnt].send_sec = now.tv_sec;
		h.hops[h.hop_cnt].send_nsec = now.tv_nsec;
	}
	msg_full_hdr_encode(hdr, sizeof(hdr), &h);
	while (off < total) {
		size_t plen = total - off > MSG_PART_MAX ? MSG_PART_MAX : total - off;
		size_t hl = LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN;
		size_t flen = ZAP_SENDRECV_HDR + hl + plen, pos = 0;
		uint8_t *f = malloc(flen);

		if (!f)
			return -ENOMEM;
		p.bits = (off == 0 ? MSG_PART_FIRST : 0) | (off + plen < total ? MSG_PART_MORE : 0);
		p.len = (uint32_t)plen;
		zap_hdr_encode(f, ZAP_MSG_SENDRECV, (uint32_t)flen, xprt_next_zap_xid(), 0);
		wire_put_be32(f + ZAP_HDR_LEN, (uint32_t)(hl + plen));
		msg_part_hdr_encode(f + ZAP_SENDRECV_HDR, hl, &p);
		/* the part is a window on [full header | body] */
		while (pos < plen) {
			size_t o = off + pos, n;
			if (o < MSG_FULL_HDR_LEN) {
				n = MSG_FULL_HDR_LEN - o < plen - pos ? MSG_FULL_HDR_LEN - o
								      : plen - pos;
				memcpy(f + ZAP_SENDRECV_HDR + hl + pos, hdr + o, n);
			} else {
				n = plen - pos;
				memcpy(f + ZAP_SENDRECV_HDR + hl + pos,
				       m->body + (o - MSG_FULL_HDR_LEN), n);
			}
			pos += n;
		}
		rc = xprt_post_frame(k->x, f, flen);
		if (rc)
			return rc;
		off += plen;
	}
	return 0;
}

static void pend_count(struct msg_pend *p, int sent)
{
	struct msg_chan *ch;
	struct msg_bind *b = NULL;
	struct timespec now;

	if (msg_g.stats_level <= 0)
		return;
	msg_now(&now);
	ch = msg_chan_find(p->m->tag, 0);
	if (ch)
		b = msg_bind_find(ch, p->c);
	if (sent) {
		if (b)
			msg_counters_add(&b->tx, p->m->data_len, &now);
		msg_counters_add(&p->c->tx, p->m->data_len, &now);
	} else {
		if (b)
			msg_counters_add(&b->drops, p->m->data_len, &now);
		msg_counters_add(&p->c->drops, p->m->data_len, &now);
	}
}

static void pend_free(struct msg_pend *p)
{
	msg_buf_put(p->m);
	msg_client_put(p->c);
	free(p);
}

void msg_conn_drain(struct msg_conn *k)
{
	struct msg_pend *p;
	int rc;

	while ((p = k->ph) && !atomic_load(&k->closed)) {
		if (conn_take(k, p->charge))
			break;
		rc = msg_send(k, p->m);
		if (rc)
			conn_give(k, p->charge);
		k->ph = p->next;
		if (!k->ph)
			k->pt = NULL;
		k->npend--;
		k->pend_bytes -= p->charge;
		pend_count(p, rc == 0);
		pend_free(p);
	}
}

int msg_forward(struct msg_buf *m, struct ldms_msg_client *c)
{
	struct msg_conn *k = c->conn;
	uint64_t charge = m->h.msg_len;
	struct msg_pend *p;
	int rc;

	pthread_mutex_lock(&msg_g.lock);
	if (atomic_load(&k->closed) || !xprt_is_connected(k->x)) {
		rc = -ENOTCONN;
		goto out;
	}
	if (k->legacy || !k->peer_msg_enabled || k->peer_disabled) {
		rc = -ENOTSUP;
		goto out;
	}
	if (m->h.hop_cnt >= MSG_HOP_LIMIT) { /* ldms-c: loop guard */
		k->dropped++;
		rc = -ELOOP;
		goto out;
	}
	msg_conn_drain(k);
	if (k->uid != 0 &&
	    ldms_access_check(k->uid, k->gid, (uid_t)m->h.uid, (gid_t)m->h.gid, m->h.perm, 4)) {
		rc = MSG_FWD_SKIPPED;
		goto out;
	}
	if (msg_bucket_take(&c->rate, m->data_len)) {
		rc = -ENOBUFS;
		goto out;
	}
	if (!k->ph && conn_take(k, charge) == 0) {
		rc = msg_send(k, m);
		if (rc) {
			conn_give(k, charge);
			msg_bucket_give(&c->rate, m->data_len);
		}
		goto out;
	}
	msg_bucket_give(&c->rate, m->data_len);
	if (!m->origin) { /* a local publish is never queued (B.5) */
		rc = -ENOBUFS;
		goto out;
	}
	if ((k->peer_quota >= 0 && charge > (uint64_t)k->peer_quota) ||
	    (k->rate.rate >= 0 && charge > (uint64_t)k->rate.rate)) {
		/* ldms-c: it could never be sent; do not pin the sender's quota */
		k->dropped++;
		rc = -EMSGSIZE;
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	p->m = msg_buf_get(m);
	p->c = msg_client_get(c);
	p->charge = (uint32_t)charge;
	if (k->pt)
		k->pt->next = p;
	else
		k->ph = p;
	k->pt = p;
	k->npend++;
	k->pend_bytes += charge;
	k->queued++;
	rc = MSG_FWD_QUEUED;
out:
	pthread_mutex_unlock(&msg_g.lock);
	return rc;
}

/* ---- receiving ----------------------------------------------------------------------------------
 */

/* B.4: a non-root peer may only relay its own messages (gid: its own or one
 * of the user's groups; ldms-c tests the gid, upstream compared the uid). */
static int cred_ok(struct msg_conn *k, uint32_t uid, uint32_t gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256, ok = 0;

	if (k->uid == 0)
		return 1;
	if (uid != k->uid)
		return 0;
	if (gid == k->gid)
		return 1;
	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) || !res)
		return 0;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		n = 256;
	for (int i = 0; i < n && i < 256; i++)
		if ((uint32_t)groups[i] == gid)
			ok = 1;
	return ok;
}

static void asm_reset(struct msg_conn *k)
{
	free(k->asm_buf);
	k->asm_buf = NULL;
	k->asm_len = k->asm_cap = k->asm_total = 0;
}

/* Appends a part; returns a complete message (lock held) or NULL. */
struct msg_buf *msg_asm_add(struct msg_conn *k, const struct msg_part *p)
{
	struct msg_full_hdr h;
	struct msg_buf *m;
	size_t need;
	const char *z;

	if (p->bits & MSG_PART_FIRST) {
		if (k->asm_buf)
			ldms_log(LDMS_LDEBUG, MSG_LOG, "%s: incomplete message dropped", k->peer);
		asm_reset(k);
		if (msg_full_hdr_decode(p->data, p->len, &h))
			goto bad;
		if (h.msg_len < 2 || h.msg_len > LDMS_MSG_SIZE_MAX)
			goto bad;
		k->asm_total = MSG_FULL_HDR_LEN + (size_t)h.msg_len;
	} else if (!k->asm_buf) {
		ldms_log(LDMS_LDEBUG, MSG_LOG, "%s: message part without a first part dropped",
			 k->peer);
		return NULL;
	}
	need = k->asm_len + p->len;
	if (need > k->asm_total)
		goto bad;
	if (need > k->asm_cap) {
		/* grow with what really arrives: a header's claim costs nothing */
		size_t cap = k->asm_cap ? k->asm_cap : 4096;
		uint8_t *nb;
		while (cap < need)
			cap *= 2;
		if (cap > k->asm_total)
			cap = k->asm_total;
		nb = realloc(k->asm_buf, cap);
		if (!nb)
			goto bad;
		k->asm_buf = nb;
		k->asm_cap = cap;
	}
	memcpy(k->asm_buf + k->asm_len, p->data, p->len);
	k->asm_len = need;
	if (p->bits & MSG_PART_MORE)
		return NULL;
	if (k->asm_len != k->asm_total)
		goto bad;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto bad;
	atomic_init(&m->ref, 1);
	msg_full_hdr_decode(k->asm_buf, k->asm_len, &m->h);
	m->raw = k->asm_buf;
	m->body = (const char *)k->asm_buf + MSG_FULL_HDR_LEN;
	k->asm_buf = NULL;
	asm_reset(k);
	z = memchr(m->body, 0, m->h.msg_len);
	m->tag = m->body;
	m->tag_len = z ? (size_t)(z - m->body) : 0;
	m->data = z ? z + 1 : m->body;
	m->data_len = z ? (uint32_t)(m->h.msg_len - m->tag_len - 1) : 0;
	m->charge = m->h.msg_len;
	m->origin = k;
	atomic_fetch_add(&k->ref, 1);
	if (!z || !m->tag_len || m->h.type > LDMS_MSG_AVRO_SER) {
		ldms_log(LDMS_LDEBUG, MSG_LOG, "%s: malformed message (tag/type) dropped", k->peer);
		k->dropped++;
		msg_buf_put(m); /* the charge still goes back */
		return NULL;
	}
	return m;
bad:
	ldms_log(LDMS_LDEBUG, MSG_LOG, "%s: malformed message part dropped", k->peer);
	k->dropped++;
	asm_reset(k);
	return NULL;
}

static void on_msg(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	struct msg_part p;
	struct msg_conn *k;
	struct msg_buf *m = NULL;
	struct msg_full_hdr h;

	if (msg_part_decode(lm->payload, lm->payload_len, &p)) {
		ldms_log(LDMS_LDEBUG, MSG_LOG, "%s: malformed MSG dropped", x->peer_str);
		return;
	}
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (!k) {
		pthread_mutex_unlock(&msg_g.lock);
		return;
	}
	if (!ldms_msg_is_enabled()) {
		/* tell the sender to stop, and give its charge back (B.1) */
		if ((p.bits & MSG_PART_FIRST) && !msg_full_hdr_decode(p.data, p.len, &h))
			msg_quota_return(k, h.msg_len, ENOTSUP);
		asm_reset(k);
		pthread_mutex_unlock(&msg_g.lock);
		return;
	}
	m = msg_asm_add(k, &p);
	pthread_mutex_unlock(&msg_g.lock);
	if (!m)
		return;
	if (!cred_ok(k, m->h.uid, m->h.gid)) {
		ldms_log(LDMS_LDEBUG, MSG_LOG,
			 "%s: message from uid %u gid %u refused on a connection of uid %u",
			 k->peer, m->h.uid, m->h.gid, (unsigned)k->uid);
		msg_buf_put(m);
		return;
	}
	if (msg_addr_is_zero(&m->h.src) && !k->loopback)
		m->h.src = k->peer_addr;
	m->h.hop_cnt++;
	if (m->h.hop_cnt > MSG_HOP_LIMIT) {
		pthread_mutex_lock(&msg_g.lock);
		k->dropped++;
		pthread_mutex_unlock(&msg_g.lock);
		msg_buf_put(m);
		return;
	}
	msg_now(&m->recv_ts);
	if (m->h.hop_cnt < MSG_HOPS) {
		m->h.hops[m->h.hop_cnt].recv_sec = m->recv_ts.tv_sec;
		m->h.hops[m->h.hop_cnt].recv_nsec = m->recv_ts.tv_nsec;
		m->h.hops[m->h.hop_cnt].send_sec = 0;
		m->h.hops[m->h.hop_cnt].send_nsec = 0;
	}
	msg_deliver(m, k);
	msg_buf_put(m);
}

static void on_send_quota(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	struct msg_conn *k;
	uint32_t q, rc;

	if (msg_send_quota_decode(lm->payload, lm->payload_len, &q, &rc))
		return;
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (k) {
		if (rc == ENOTSUP)
			k->peer_disabled = 1;
		conn_deposit(k, q);
		k->deposits++;
		msg_conn_drain(k);
		pthread_cond_broadcast(&msg_g.deposit);
	}
	pthread_mutex_unlock(&msg_g.lock);
}

static void on_reconfig(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	struct msg_conn *k;
	int64_t v;

	if (lm->payload_len < 8)
		return;
	v = (int64_t)wire_get_be64(lm->payload);
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (k && lm->cmd == LDMS_CMD_RATE_RECONFIG) {
		k->rate.rate = v <= 0 ? -1 : v;
	} else if (k) {
		int64_t nq = v < 0 ? -1 : v;
		if (nq < 0 || k->peer_quota < 0) {
			k->budget = nq;
			k->debt = 0;
		} else if (nq >= k->peer_quota) {
			conn_deposit(k, (uint64_t)(nq - k->peer_quota));
			k->peer_quota = nq;
		} else {
			uint64_t cut = (uint64_t)(k->peer_quota - nq);
			if ((uint64_t)k->budget >= cut) {
				k->budget -= (int64_t)cut;
			} else {
				k->debt += cut - (uint64_t)k->budget;
				k->budget = 0;
			}
		}
		k->peer_quota = nq;
		msg_conn_drain(k);
		pthread_cond_broadcast(&msg_g.deposit);
	}
	pthread_mutex_unlock(&msg_g.lock);
}

/* ---- remote subscriptions, server side
 * ----------------------------------------------------------- */

static void sub_reply(struct msg_conn *k, uint32_t cmd, uint64_t xid, int rc, const char *text)
{
	uint8_t buf[LDMS_REPLY_HDR_LEN + 4 + 128];
	int n = msg_sub_reply_encode(buf, sizeof(buf), cmd, xid, (uint32_t)rc, text);

	if (n > 0)
		post_msg(k, buf, (size_t)n);
}

static struct ldms_msg_client *rclient_find(struct msg_conn *k, const char *match)
{
	for (struct ldms_msg_client *c = k->rclients; c; c = c->conn_next)
		if (!strcmp(c->match, match))
			return c;
	return NULL;
}

static int rclient_new(struct msg_conn *k, const struct msg_sub *s, const char **why)
{
	struct ldms_err err;
	struct ldms_msg_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	atomic_init(&c->ref, 1);
	c->match = strdup(s->match);
	c->desc = strdup("remote_client");
	c->is_regex = s->is_regex;
	if (!c->match || !c->desc) {
		rc = -ENOMEM;
		goto fail;
	}
	if (c->is_regex) {
		ldms_err_clear(&err);
		if (ldms_regex_check(s->match, &err) ||
		    regcomp(&c->re, s->match, REG_EXTENDED | REG_NOSUB)) {
			c->is_regex = 0;
			*why = "Bad regular expression";
			rc = -EINVAL;
			goto fail;
		}
	}
	msg_bucket_init(&c->rate, s->rate < 0 ? -1 : s->rate);
	snprintf(c->dest, sizeof(c->dest), "%s", k->peer);
	c->conn = k;
	atomic_fetch_add(&k->ref, 1);
	rc = msg_client_register(c);
	if (rc) {
		msg_client_unregister(c);
		msg_client_put(c);
		return rc;
	}
	c->conn_next = k->rclients;
	k->rclients = c; /* the connection's reference */
	return 0;
fail:
	free(c->match);
	free(c->desc);
	free(c);
	return rc;
}

static void rclient_close(struct msg_conn *k, struct ldms_msg_client *c)
{
	for (struct ldms_msg_client **pp = &k->rclients; *pp; pp = &(*pp)->conn_next)
		if (*pp == c) {
			*pp = c->conn_next;
			break;
		}
	msg_client_unregister(c);
	msg_client_put(c);
}

static void on_sub(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	struct msg_conn *k;
	struct msg_sub s;
	int unsub = lm->cmd == LDMS_CMD_MSG_UNSUB;
	uint32_t rcmd = unsub ? LDMS_CMD_MSG_UNSUB_REPLY : LDMS_CMD_MSG_SUB_REPLY;
	const char *why = "OK";
	struct ldms_msg_client *c;
	int rc = 0;

	msg_stats_level_init();
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (!k)
		goto out;
	if (!ldms_msg_is_enabled()) {
		rc = ENOTSUP;
		why = "message service is disabled";
	} else if (msg_sub_decode(lm->payload, lm->payload_len, &s)) {
		rc = EINVAL;
		why = "Malformed subscription request";
	} else if (unsub) {
		c = rclient_find(k, s.match);
		if (c) {
			rclient_close(k, c);
		} else {
			rc = ENOENT;
			why = "Subscription not found";
		}
	} else if (rclient_find(k, s.match)) {
		rc = EEXIST;
		why = "Subscription already existed";
	} else {
		rc = -rclient_new(k, &s, &why);
		if (rc && !strcmp(why, "OK"))
			why = strerror(rc);
	}
	sub_reply(k, rcmd, lm->xid, rc, why);
out:
	pthread_mutex_unlock(&msg_g.lock);
}

/* ---- remote subscriptions, subscriber side
 * -------------------------------------------------------- */

static void on_sub_reply(struct ldms_xprt *x, const struct ldms_msg *lm)
{
	struct msg_conn *k;
	struct msg_subreq *r = NULL;

	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 0);
	if (k)
		for (struct msg_subreq **pp = &k->reqs; *pp; pp = &(*pp)->next)
			if ((*pp)->xid == lm->xid) {
				r = *pp;
				*pp = r->next;
				break;
			}
	pthread_mutex_unlock(&msg_g.lock);
	if (!r)
		return;
	if (lm->rc)
		ldms_log(LDMS_LINFO, MSG_LOG, "%s: %ssubscription '%s' answered %d (%s)",
			 x->peer_str, r->unsub ? "un" : "", r->match, (int)lm->rc,
			 strerror((int)lm->rc));
	if (r->cb)
		r->cb(x, r->unsub, r->match, -(int)lm->rc, r->arg);
	subreq_free(r);
}

static int remote_req(ldms_t x, int unsub, const char *match, int is_regex, int64_t rate,
		      ldms_msg_sub_cb_t cb, void *arg)
{
	uint8_t *buf;
	struct msg_sub s = {
	    .is_regex = is_regex ? 1 : 0, .rate = rate < 0 ? -1 : rate, .match = match};
	struct msg_subreq *r;
	struct msg_conn *k;
	size_t cap;
	int n, rc;

	if (!x || !match)
		return -EINVAL;
	if (!ldms_msg_is_enabled())
		return -ENOTSUP;
	cap = LDMS_REQ_HDR_LEN + MSG_SUB_HDR_LEN + strlen(match) + 1;
	if (cap > LDMS_MSG_MAX)
		return -ENAMETOOLONG;
	buf = malloc(cap);
	r = calloc(1, sizeof(*r));
	if (!buf || !r || !(r->match = strdup(match))) {
		free(buf);
		free(r);
		return -ENOMEM;
	}
	r->unsub = unsub;
	r->cb = cb;
	r->arg = arg;
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (!k) {
		rc = -ENOTCONN;
	} else if (k->legacy) {
		rc = -ENOTSUP; /* a 4.4 peer would abort on cmd 12 */
	} else {
		r->xid = ++msg_g.next_xid;
		n = msg_sub_encode(buf, cap, unsub ? LDMS_CMD_MSG_UNSUB : LDMS_CMD_MSG_SUB, r->xid,
				   &s);
		rc = n < 0 ? n : post_msg(k, buf, (size_t)n);
		if (!rc) {
			r->next = k->reqs;
			k->reqs = r;
			r = NULL;
		}
	}
	pthread_mutex_unlock(&msg_g.lock);
	free(buf);
	if (r)
		subreq_free(r);
	return rc;
}

int ldms_msg_remote_subscribe(ldms_t x, const char *match, int is_regex, int64_t rate,
			      ldms_msg_sub_cb_t cb, void *arg)
{
	return remote_req(x, 0, match, is_regex, rate, cb, arg);
}

int ldms_msg_remote_unsubscribe(ldms_t x, const char *match, int is_regex, ldms_msg_sub_cb_t cb,
				void *arg)
{
	return remote_req(x, 1, match, is_regex, -1, cb, arg);
}

struct sub_waiter {
	atomic_int ref;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	int status;
};

static void waiter_put(struct sub_waiter *w)
{
	if (atomic_fetch_sub(&w->ref, 1) == 1) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
	}
}

static void sync_cb(ldms_t x, int is_unsub, const char *match, int status, void *arg)
{
	struct sub_waiter *w = arg;

	pthread_mutex_lock(&w->lock);
	w->done = 1;
	w->status = status;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	waiter_put(w);
}

int ldms_msg_remote_subscribe_sync(ldms_t x, const char *match, int is_regex, int64_t rate,
				   int timeout_ms)
{
	struct sub_waiter *w = calloc(1, sizeof(*w));
	struct timespec dl;
	int rc;

	if (!w)
		return -ENOMEM;
	atomic_init(&w->ref, 2);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	rc = remote_req(x, 0, match, is_regex, rate, sync_cb, w);
	if (rc) {
		waiter_put(w);
		waiter_put(w);
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->done && rc == 0)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &dl) == ETIMEDOUT)
			rc = -ETIMEDOUT;
	if (w->done)
		rc = w->status;
	pthread_mutex_unlock(&w->lock);
	waiter_put(w); /* a late answer still finds the waiter through its own reference */
	return rc;
}

/* ---- tick, teardown
 * ---------------------------------------------------------------------------------- */

/* Lock held. Requests still waiting for answers go to *reqs (answered
 * -ENOTCONN by the caller without the lock). */
static void conn_teardown(struct msg_conn *k, struct msg_subreq **reqs)
{
	struct msg_pend *p;
	struct msg_conn **pp;

	atomic_store(&k->closed, 1);
	while (k->rclients)
		rclient_close(k, k->rclients);
	while ((p = k->ph)) {
		k->ph = p->next;
		k->dropped++;
		pend_count(p, 0);
		pend_free(p); /* returns quota upstream (ldms-c, B.5) */
	}
	k->pt = NULL;
	k->npend = k->pend_bytes = 0;
	asm_reset(k);
	while (k->reqs) {
		struct msg_subreq *r = k->reqs;
		k->reqs = r->next;
		r->next = *reqs;
		*reqs = r;
	}
	for (pp = &msg_g.conns[conn_slot(k->x)]; *pp; pp = &(*pp)->hnext)
		if (*pp == k) {
			*pp = k->hnext;
			break;
		}
	for (pp = &msg_g.conn_list; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	pthread_cond_broadcast(&msg_g.deposit);
	msg_conn_put(k);
}

static struct msg_subreq *sweep_locked(void)
{
	struct msg_subreq *reqs = NULL;
	struct msg_conn *k = msg_g.conn_list, *next;

	for (; k; k = next) {
		next = k->next;
		if (atomic_load(&k->closed) || !xprt_is_connected(k->x))
			conn_teardown(k, &reqs);
		else if (k->ph)
			msg_conn_drain(k);
	}
	return reqs;
}

static void reqs_fail(struct msg_subreq *reqs)
{
	while (reqs) {
		struct msg_subreq *r = reqs;
		reqs = r->next;
		if (r->cb)
			r->cb(NULL, r->unsub, r->match, -ENOTCONN, r->arg);
		subreq_free(r);
	}
}

void xprt_msg_cleanup(struct ldms_xprt *x)
{
	struct msg_subreq *reqs = NULL;
	struct msg_conn *k;

	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 0);
	if (k)
		conn_teardown(k, &reqs);
	pthread_mutex_unlock(&msg_g.lock);
	reqs_fail(reqs);
}

void ldms_msg_sweep(void)
{
	struct msg_subreq *reqs;

	pthread_mutex_lock(&msg_g.lock);
	reqs = sweep_locked();
	pthread_mutex_unlock(&msg_g.lock);
	reqs_fail(reqs);
}

static void *tick_main(void *arg)
{
	struct msg_subreq *reqs;
	struct timespec dl;

	pthread_mutex_lock(&msg_g.lock);
	while (msg_g.conn_list) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1;
		pthread_cond_timedwait(&msg_g.tick_cond, &msg_g.lock, &dl);
		reqs = sweep_locked();
		if (reqs) {
			pthread_mutex_unlock(&msg_g.lock);
			reqs_fail(reqs);
			pthread_mutex_lock(&msg_g.lock);
		}
	}
	msg_g.tick_running = 0;
	pthread_mutex_unlock(&msg_g.lock);
	return NULL;
}

void msg_tick_ensure(void)
{
	pthread_attr_t a;
	pthread_t th;

	if (msg_g.tick_running)
		return;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &a, tick_main, NULL) == 0)
		msg_g.tick_running = 1;
	pthread_attr_destroy(&a);
}

/* ---- quota wait, observables -------------------------------------------------------------------
 */

int ldms_msg_quota_wait(ldms_t x, uint64_t need, int timeout_ms)
{
	struct timespec dl, now;
	struct msg_conn *k;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	if (timeout_ms >= 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&msg_g.lock);
	for (;;) {
		k = msg_conn_find(x, 1);
		if (!k) {
			rc = -ENOTCONN;
			break;
		}
		if ((k->peer_quota >= 0 && need > (uint64_t)k->peer_quota) ||
		    (k->rate.rate >= 0 && need > (uint64_t)k->rate.rate)) {
			rc = -EMSGSIZE;
			break;
		}
		if (k->peer_disabled) {
			rc = -ENOTSUP;
			break;
		}
		if ((k->budget < 0 || (uint64_t)k->budget >= need) && !k->ph) {
			if (msg_bucket_can(&k->rate, need))
				break;
			/* budget is there, the rate is not: next second */
			struct timespec nx;
			clock_gettime(CLOCK_REALTIME, &nx);
			nx.tv_sec++;
			nx.tv_nsec = 1000000;
			if (timeout_ms >= 0 && (nx.tv_sec > dl.tv_sec || (nx.tv_sec == dl.tv_sec &&
									  nx.tv_nsec > dl.tv_nsec)))
				nx = dl;
			pthread_cond_timedwait(&msg_g.deposit, &msg_g.lock, &nx);
		} else if (timeout_ms < 0) {
			/* bounded so that a closed connection is noticed */
			struct timespec nx;
			clock_gettime(CLOCK_REALTIME, &nx);
			nx.tv_sec++;
			pthread_cond_timedwait(&msg_g.deposit, &msg_g.lock, &nx);
		} else {
			pthread_cond_timedwait(&msg_g.deposit, &msg_g.lock, &dl);
		}
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > dl.tv_sec ||
			    (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec)) {
				k = msg_conn_find(x, 0);
				if (k && (k->budget < 0 || (uint64_t)k->budget >= need) &&
				    msg_bucket_can(&k->rate, need))
					break;
				rc = -ETIMEDOUT;
				break;
			}
		}
	}
	pthread_mutex_unlock(&msg_g.lock);
	return rc;
}

static void conn_stats_fill(struct msg_conn *k, struct ldms_msg_conn_stats *st)
{
	st->send_budget = k->budget;
	st->peer_quota = k->peer_quota;
	st->pending = k->npend;
	st->pending_bytes = k->pend_bytes;
	st->queued = k->queued;
	st->dropped = k->dropped;
	st->deposits = k->deposits;
	st->returned = atomic_load(&k->returned);
	st->peer_disabled = k->peer_disabled;
}

int ldms_msg_conn_stats_get(ldms_t x, struct ldms_msg_conn_stats *st)
{
	struct msg_conn *k;
	int rc = -ENOENT;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 0);
	if (k) {
		conn_stats_fill(k, st);
		rc = 0;
	}
	pthread_mutex_unlock(&msg_g.lock);
	return rc;
}

struct msg_conn *msg_test_conn_new(void)
{
	struct msg_conn *k = calloc(1, sizeof(*k));

	if (k) {
		atomic_init(&k->ref, 1);
		snprintf(k->peer, sizeof(k->peer), "test:0");
		k->budget = k->peer_quota = -1;
		msg_bucket_init(&k->rate, -1);
	}
	return k;
}

void msg_test_conn_free(struct msg_conn *k)
{
	asm_reset(k);
	msg_conn_put(k);
}

void ldms_msg_listener_advertise(struct ldms_listener *l, int enabled)
{
	if (l)
		__atomic_store_n(&l->opts.msg_enabled, enabled ? 1 : 0, __ATOMIC_RELAXED);
}

/* ---- registration with the transport --------------------------------------------------------- */

__attribute__((constructor)) static void msg_xprt_register(void)
{
	xprt_cmd_handler_set(LDMS_CMD_MSG, on_msg);
	xprt_cmd_handler_set(LDMS_CMD_SEND_QUOTA, on_send_quota);
	xprt_cmd_handler_set(LDMS_CMD_MSG_SUB, on_sub);
	xprt_cmd_handler_set(LDMS_CMD_MSG_UNSUB, on_sub);
	xprt_cmd_handler_set(LDMS_CMD_MSG_SUB_REPLY, on_sub_reply);
	xprt_cmd_handler_set(LDMS_CMD_MSG_UNSUB_REPLY, on_sub_reply);
	xprt_cmd_handler_set(LDMS_CMD_QUOTA_RECONFIG, on_reconfig);
	xprt_cmd_handler_set(LDMS_CMD_RATE_RECONFIG, on_reconfig);
}
