/* The message service in one process on 127.0.0.1: a raw zap peer sends the
 * captured upstream MSG / MSG_SUB frames (golden/wire/08a) and checks libldms'
 * answers byte for byte (SEND_QUOTA, MSG_SUB_REPLY), receives forwards (also
 * fragmented), and sends malformed frames; a library client checks send quota
 * (ENOBUFS, waiting, oversize), the disabled service and the stats JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ldms/ldms_msg.h"
#include "ldms/ldms_xprt.h"
#include "ldms_proto.h"
#include "msg_codec.h"
#include "msg_frames.h"
#include "msg_raw_peer.h"
#include "zap_wire.h"

#define WAIT_MS 5000

static struct ldms_listener *L, *LQ;
static int port, qport;
static struct gframe *g08a;
static size_t n08a;

static void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
}

/* ---- a local subscriber recording what it gets ---------------------------------------------- */

struct rec {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n;
	char tag[64];
	char data[256];
	size_t data_len;
	size_t big_len;
	int big_ok;
	int had_json;
	uint32_t hop_cnt;
	char src[64];
	int block; /* the callback waits while set */
	int in_cb;
};

static struct rec R = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int rec_cb(const struct ldms_msg_event *ev, void *arg)
{
	struct rec *r = arg;

	if (ev->type != LDMS_MSG_EVENT_RECV)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->in_cb = 1;
	pthread_cond_broadcast(&r->cond);
	while (r->block)
		pthread_cond_wait(&r->cond, &r->lock);
	r->in_cb = 0;
	snprintf(r->tag, sizeof(r->tag), "%s", ev->tag);
	if (ev->data_len <= sizeof(r->data)) {
		memcpy(r->data, ev->data, ev->data_len);
	} else {
		r->big_ok = 1;
		for (size_t i = 0; i < ev->data_len; i++)
			if ((uint8_t)ev->data[i] != (uint8_t)(i * 7 + 1))
				r->big_ok = 0;
	}
	r->data_len = ev->data_len;
	r->had_json = ev->json != NULL;
	r->hop_cnt = ev->hop_cnt;
	snprintf(r->src, sizeof(r->src), "%s", ev->src);
	r->n++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rec_wait(int n)
{
	struct timespec dl;
	int ok;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&R.lock);
	while (R.n < n && pthread_cond_timedwait(&R.cond, &R.lock, &dl) == 0)
		;
	ok = R.n >= n;
	pthread_mutex_unlock(&R.lock);
	return ok;
}

static const struct gframe *g(int conn, const char *what, int k)
{
	const struct gframe *f = frames_find(g08a, n08a, conn, what, k);

	assert_non_null(f);
	return f;
}

/* SEND_QUOTA {quota, rc} expected next on fd. */
static void expect_quota(int fd, uint32_t quota, uint32_t rc)
{
	uint8_t buf[256];
	struct ldms_msg m;
	uint32_t q, r;
	size_t n = read_ldms(fd, buf, sizeof(buf));

	assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SEND_QUOTA);
	assert_int_equal(msg_send_quota_decode(m.payload, m.payload_len, &q, &r), 0);
	assert_int_equal(q, quota);
	assert_int_equal(r, rc);
}

static void expect_sub_reply(int fd, uint32_t cmd, uint64_t xid, int rc, const char *text)
{
	uint8_t buf[256];
	struct ldms_msg m;
	const char *t;
	size_t tl, n = read_ldms(fd, buf, sizeof(buf));

	assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
	assert_int_equal(m.cmd, cmd);
	assert_true(m.xid == xid);
	assert_int_equal(m.rc, rc);
	assert_int_equal(msg_sub_reply_decode(m.payload, m.payload_len, &t, &tl), 0);
	assert_string_equal(t, text);
}

static void send_sub(int fd, uint32_t cmd, uint64_t xid, const char *match, int is_regex)
{
	uint8_t buf[256];
	struct msg_sub s = {.is_regex = is_regex, .rate = -1, .match = match};
	int n = msg_sub_encode(buf, sizeof(buf), cmd, xid, &s);

	assert_true(n > 0);
	send_ldms(fd, buf, (size_t)n);
}

/* One message as parts of at most `part` bytes. */
static void send_msg_parts(int fd, const char *tag, const uint8_t *data, size_t len, size_t part,
			   uint32_t hop_cnt)
{
	size_t tl = strlen(tag) + 1, total = MSG_FULL_HDR_LEN + tl + len, off = 0;
	uint8_t *all = calloc(1, total), *msg = malloc(LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN + part);
	struct msg_full_hdr h = {0};

	assert_non_null(all);
	assert_non_null(msg);
	h.msg_len = (uint32_t)(tl + len);
	h.type = LDMS_MSG_STRING;
	h.perm = 0777;
	h.tag_hash = msg_tag_hash(tag, tl - 1);
	h.hop_cnt = hop_cnt;
	msg_full_hdr_encode(all, MSG_FULL_HDR_LEN, &h);
	memcpy(all + MSG_FULL_HDR_LEN, tag, tl);
	memcpy(all + MSG_FULL_HDR_LEN + tl, data, len);
	while (off < total) {
		size_t pl = total - off < part ? total - off : part;
		struct msg_part p = {.msg_gn = 77, .len = (uint32_t)pl};
		p.bits = (off ? 0 : MSG_PART_FIRST) | (off + pl < total ? MSG_PART_MORE : 0);
		int n = msg_part_hdr_encode(msg, LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN + part, &p);
		memcpy(msg + n, all + off, pl);
		send_ldms(fd, msg, (size_t)n + pl);
		off += pl;
	}
	free(all);
	free(msg);
}

/* ---- fixtures ----------------------------------------------------------------------------------
 */

static int setup(void **state)
{
	struct ldms_xprt_opts o = {.recv_quota = -1, .rate_limit = -1, .msg_enabled = 1};
	struct ldms_err err;

	g08a = frames_load("08a-messages", &n08a);
	if (getenv("TEST_DEBUG"))
		ldms_log_level_set(LDMS_LDEBUG);
	assert_int_equal(ldms_init(1), 0);
	ldms_err_clear(&err);
	L = ldms_listen("sock", "127.0.0.1", "0", NULL, &o, srv_cb, NULL, &err);
	assert_non_null(L);
	port = ldms_listener_port(L);
	o.recv_quota = 64;
	LQ = ldms_listen("sock", "127.0.0.1", "0", NULL, &o, srv_cb, NULL, &err);
	assert_non_null(LQ);
	qport = ldms_listener_port(LQ);
	return 0;
}

static int teardown(void **state)
{
	ldms_listener_close(L);
	ldms_listener_close(LQ);
	ldms_fini();
	frames_free(g08a, n08a);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* The publisher's captured MSG: delivered at hop 1, charge 31 returned. */
static void test_receive_golden(void **state)
{
	ldms_msg_client_t c = ldms_msg_subscribe("golden_json", 0, rec_cb, &R, "test");
	const struct gframe *msg = g(2, "SENDRECV / MSG ", 0);
	const struct gframe *sq = g(2, "SENDRECV / SEND_QUOTA", 0);
	uint8_t buf[256];
	int fd = raw_session(port, -1);
	int n0 = R.n;

	assert_non_null(c);
	send_all(fd, msg->b, msg->len);
	assert_true(rec_wait(n0 + 1));
	assert_string_equal(R.tag, "golden_json");
	assert_int_equal(R.data_len, 19);
	assert_memory_equal(R.data, "{\"seq\":1,\"v\":\"a\"}\n", 19);
	assert_true(R.had_json);
	assert_int_equal(R.hop_cnt, 1);
	assert_string_equal(R.src, "0.0.0.0:0"); /* loopback: left for the next hop */
	/* the return: the captured SEND_QUOTA's LDMS bytes */
	size_t n = read_ldms(fd, buf, sizeof(buf));
	assert_int_equal(n, sq->len - ZAP_SENDRECV_HDR);
	assert_memory_equal(buf, sq->b + ZAP_SENDRECV_HDR, n);
	close(fd);
	ldms_msg_client_close(c);
}

/* MSG_SUB as captured -> the captured reply; forwards of local publishes. */
static void test_remote_sub(void **state)
{
	const struct gframe *sub = g(1, "SENDRECV / MSG_SUB ", 0);
	const struct gframe *rep = g(1, "SENDRECV / MSG_SUB_REPLY", 0);
	uint8_t buf[1024];
	struct ldms_msg m;
	struct msg_part p;
	struct msg_full_hdr h;
	char *js = NULL;
	int fd = raw_session(port, -1);
	size_t n;

	send_all(fd, sub->b, sub->len);
	n = read_ldms(fd, buf, sizeof(buf));
	assert_int_equal(n, rep->len - ZAP_SENDRECV_HDR);
	assert_memory_equal(buf, rep->b + ZAP_SENDRECV_HDR, n);

	/* a local publish is forwarded at hop 0 */
	assert_int_equal(ldms_msg_publish(NULL, "fwd_tag", LDMS_MSG_STRING, NULL, 0640, "hello", 6),
			 0);
	n = read_ldms(fd, buf, sizeof(buf));
	assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_MSG);
	assert_int_equal(msg_part_decode(m.payload, m.payload_len, &p), 0);
	assert_int_equal(p.bits, MSG_PART_FIRST);
	assert_int_equal(msg_full_hdr_decode(p.data, p.len, &h), 0);
	assert_int_equal(h.hop_cnt, 0);
	assert_int_equal(h.msg_len, 8 + 6);
	assert_int_equal(h.perm, 0640);
	assert_int_equal(h.uid, geteuid());
	assert_int_equal(h.tag_hash, msg_tag_hash("fwd_tag", 7));
	assert_true(h.hops[0].send_sec >= h.hops[0].recv_sec && h.hops[0].recv_sec > 1700000000);
	assert_int_equal(p.msg_gn, h.msg_gn);
	assert_memory_equal(p.data + MSG_FULL_HDR_LEN, "fwd_tag\0hello\0", 14);
	/* pad/reserve and unused hops are zero in ldms-c */
	for (int i = 20; i < 56; i++)
		assert_int_equal(p.data[i], 0);
	for (int i = 96 + 32; i < MSG_FULL_HDR_LEN; i++)
		assert_int_equal(p.data[i], 0);

	/* duplicate, unknown unsubscribe, regex errors */
	send_sub(fd, LDMS_CMD_MSG_SUB, 11, ".*", 1);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 11, EEXIST, "Subscription already existed");
	send_sub(fd, LDMS_CMD_MSG_UNSUB, 12, "nosuch", 0);
	expect_sub_reply(fd, LDMS_CMD_MSG_UNSUB_REPLY, 12, ENOENT, "Subscription not found");
	send_sub(fd, LDMS_CMD_MSG_SUB, 13, "((a", 1);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 13, EINVAL, "Bad regular expression");
	send_sub(fd, LDMS_CMD_MSG_SUB, 14, "(a{1,255}){1,255}){1,255}", 1);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 14, EINVAL, "Bad regular expression");

	/* the remote client in msg_client_stats, with the subscriber's address */
	assert_int_equal(ldms_msg_client_stats_json(0, &js), 0);
	json_t *j = json_loads(js, 0, NULL);
	assert_non_null(j);
	int found = 0;
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "desc")), "remote_client")) {
			found++;
			assert_string_equal(json_string_value(json_object_get(e, "match")), ".*");
			assert_true(!strncmp(json_string_value(json_object_get(e, "dest")),
					     "127.0.0.1:", 10));
			json_t *tx = json_object_get(e, "tx");
			assert_true(json_integer_value(json_object_get(tx, "count")) >= 1);
		}
	}
	assert_int_equal(found, 1);
	json_decref(j);
	free(js);

	send_sub(fd, LDMS_CMD_MSG_UNSUB, 15, ".*", 1);
	expect_sub_reply(fd, LDMS_CMD_MSG_UNSUB_REPLY, 15, 0, "OK");
	assert_int_equal(ldms_msg_client_stats_json(0, &js), 0);
	assert_null(strstr(js, "remote_client"));
	free(js);
	close(fd);
}

/* Larger than one transport message both ways. */
static void test_fragments(void **state)
{
	size_t big = 3u * 1024 * 1024 + 123;
	uint8_t *data = malloc(big), *buf = malloc(ZAP_MAX_FRAME);
	ldms_msg_client_t c = ldms_msg_subscribe("big", 0, rec_cb, &R, "test");
	int fd = raw_session(port, -1), n0 = R.n, parts = 0;
	size_t got = 0, n;
	struct ldms_msg m;
	struct msg_part p;
	uint8_t *all = malloc(MSG_FULL_HDR_LEN + 4 + big);

	assert_non_null(data);
	assert_non_null(buf);
	assert_non_null(all);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	/* in: parts of 100000 bytes */
	R.big_ok = 0;
	send_msg_parts(fd, "big", data, big, 100000, 0);
	assert_true(rec_wait(n0 + 1));
	assert_int_equal(R.data_len, big);
	assert_true(R.big_ok);
	expect_quota(fd, (uint32_t)(4 + big), 0);
	/* out: the library's own fragments */
	send_sub(fd, LDMS_CMD_MSG_SUB, 21, "big", 0);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 21, 0, "OK");
	assert_int_equal(ldms_msg_publish(NULL, "big", LDMS_MSG_STRING, NULL, 0777, data, big), 0);
	for (;;) {
		n = read_frame(fd, buf, ZAP_MAX_FRAME);
		assert_true(n > ZAP_SENDRECV_HDR);
		assert_int_equal(ldms_msg_decode(buf + ZAP_SENDRECV_HDR, n - ZAP_SENDRECV_HDR, &m),
				 0);
		if (m.cmd != LDMS_CMD_MSG)
			continue;
		assert_int_equal(msg_part_decode(m.payload, m.payload_len, &p), 0);
		assert_int_equal(!!(p.bits & MSG_PART_FIRST), parts == 0);
		assert_true(p.len <= MSG_PART_MAX);
		assert_true(got + p.len <= MSG_FULL_HDR_LEN + 4 + big);
		memcpy(all + got, p.data, p.len);
		got += p.len;
		parts++;
		if (!(p.bits & MSG_PART_MORE))
			break;
	}
	assert_int_equal(parts, 4);
	assert_int_equal(got, MSG_FULL_HDR_LEN + 4 + big);
	assert_memory_equal(all + MSG_FULL_HDR_LEN, "big", 4);
	assert_memory_equal(all + MSG_FULL_HDR_LEN + 4, data, big);
	close(fd);
	ldms_msg_client_close(c);
	free(all);
	free(data);
	free(buf);
}

/* Malformed frames are dropped; the connection and the service keep working. */
static void test_malformed(void **state)
{
	ldms_msg_client_t c = ldms_msg_subscribe("golden_json", 0, rec_cb, &R, "test");
	const struct gframe *msg = g(2, "SENDRECV / MSG ", 0);
	uint8_t b[2048];
	int fd = raw_session(port, -1), n0 = R.n, n;

	/* MSG shorter than its part header */
	memset(b, 0, sizeof(b));
	ldms_enc_req_hdr(b, sizeof(b), LDMS_CMD_MSG, 0, LDMS_REQ_HDR_LEN + 10);
	send_ldms(fd, b, LDMS_REQ_HDR_LEN + 10);
	/* a middle part without a first one */
	struct msg_part p = {.bits = MSG_PART_MORE, .len = 100};
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	send_ldms(fd, b, (size_t)n + 100);
	/* a first part whose header claims more than LDMS_MSG_SIZE_MAX */
	struct msg_full_hdr h = {.msg_len = 0xfffffff0u, .hop_cnt = 0};
	p.bits = MSG_PART_FIRST | MSG_PART_MORE;
	p.len = MSG_FULL_HDR_LEN;
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	msg_full_hdr_encode(b + n, MSG_FULL_HDR_LEN, &h);
	send_ldms(fd, b, (size_t)n + MSG_FULL_HDR_LEN);
	/* first part shorter than the full header */
	p.bits = MSG_PART_FIRST;
	p.len = 100;
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	send_ldms(fd, b, (size_t)n + 100);
	/* a claimed length the last part does not reach */
	h.msg_len = 1000;
	p.len = MSG_FULL_HDR_LEN + 10;
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	msg_full_hdr_encode(b + n, MSG_FULL_HDR_LEN, &h);
	send_ldms(fd, b, (size_t)n + p.len);
	/* a hop count beyond the loop limit: dropped, charge returned */
	send_msg_parts(fd, "golden_json", (const uint8_t *)"{}", 3, 4096, 40);
	expect_quota(fd, 12 + 3, 0);
	/* a body without a NUL (no tag): dropped, but its charge is returned */
	h.msg_len = 5;
	h.type = 0;
	p.len = MSG_FULL_HDR_LEN + 5;
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	msg_full_hdr_encode(b + n, MSG_FULL_HDR_LEN, &h);
	memcpy(b + n + MSG_FULL_HDR_LEN, "abcde", 5);
	send_ldms(fd, b, (size_t)n + p.len);
	expect_quota(fd, 5, 0);
	/* an unknown message type */
	h.msg_len = 4;
	h.type = 77;
	p.len = MSG_FULL_HDR_LEN + 4;
	n = msg_part_hdr_encode(b, sizeof(b), &p);
	msg_full_hdr_encode(b + n, MSG_FULL_HDR_LEN, &h);
	memcpy(b + n + MSG_FULL_HDR_LEN, "abc", 4);
	send_ldms(fd, b, (size_t)n + MSG_FULL_HDR_LEN + 4);
	expect_quota(fd, 4, 0);
	/* MSG_SUB without a NUL-terminated match */
	memset(b, 'x', 64);
	ldms_enc_req_hdr(b, sizeof(b), LDMS_CMD_MSG_SUB, 5, 64);
	send_ldms(fd, b, 64);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 5, EINVAL, "Malformed subscription request");
	/* short SEND_QUOTA and reconfig payloads, a stray reply */
	ldms_enc_req_hdr(b, sizeof(b), LDMS_CMD_SEND_QUOTA, 0, LDMS_REQ_HDR_LEN + 3);
	send_ldms(fd, b, LDMS_REQ_HDR_LEN + 3);
	ldms_enc_req_hdr(b, sizeof(b), LDMS_CMD_QUOTA_RECONFIG, 0, LDMS_REQ_HDR_LEN + 2);
	send_ldms(fd, b, LDMS_REQ_HDR_LEN + 2);
	n = msg_sub_reply_encode(b, sizeof(b), LDMS_CMD_MSG_SUB_REPLY, 999, 0, "OK");
	send_ldms(fd, b, (size_t)n);
	/* still alive: the captured message goes through */
	send_all(fd, msg->b, msg->len);
	assert_true(rec_wait(n0 + 1));
	assert_int_equal(R.n, n0 + 1);
	expect_quota(fd, 31, 0);
	close(fd);
	ldms_msg_client_close(c);
}

/* Send quota toward a listener with recv_quota 64 (library client). */
static void test_quota(void **state)
{
	struct ldms_xprt_opts o = {.recv_quota = -1, .rate_limit = -1, .msg_enabled = 1};
	struct ldms_msg_conn_stats st;
	struct ldms_err err;
	char data[64];
	ldms_msg_client_t c = ldms_msg_subscribe("q", 0, rec_cb, &R, "test");
	ldms_t x = ldms_xprt_new("sock", NULL, &o);
	char ps[16];
	int n0 = R.n;

	memset(data, 'd', sizeof(data));
	snprintf(ps, sizeof(ps), "%d", qport);
	assert_non_null(x);
	ldms_err_clear(&err);
	assert_int_equal(ldms_xprt_connect_sync(x, "127.0.0.1", ps, WAIT_MS, &err), 0);
	assert_int_equal(ldms_msg_conn_stats_get(x, &st), -ENOENT);
	pthread_mutex_lock(&R.lock);
	R.block = 1; /* the receiver holds the first message: no quota comes back */
	pthread_mutex_unlock(&R.lock);
	assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, NULL, 0777, data, 30), 0);
	assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, NULL, 0777, data, 30), 0);
	assert_int_equal(ldms_msg_conn_stats_get(x, &st), 0);
	assert_int_equal(st.peer_quota, 64);
	assert_int_equal(st.send_budget, 0);
	assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, NULL, 0777, data, 30), -ENOBUFS);
	assert_int_equal(ldms_msg_quota_wait(x, 32, 100), -ETIMEDOUT);
	/* a charge above the whole quota can never be sent */
	assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, NULL, 0777, data, 63), -ENOBUFS);
	assert_int_equal(ldms_msg_quota_wait(x, 65, 100), -EMSGSIZE);
	pthread_mutex_lock(&R.lock);
	R.block = 0;
	pthread_cond_broadcast(&R.cond);
	pthread_mutex_unlock(&R.lock);
	assert_int_equal(ldms_msg_quota_wait(x, 32, WAIT_MS), 0);
	assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, NULL, 0777, data, 30), 0);
	assert_true(rec_wait(n0 + 3));
	for (int i = 0; i < WAIT_MS; i++) {
		ldms_msg_conn_stats_get(x, &st);
		if (st.send_budget == 64)
			break;
		usleep(1000);
	}
	assert_int_equal(st.send_budget, 64);
	assert_int_equal(st.deposits, 3);
	/* an explicit credential that is not ours */
	struct ldms_msg_cred cr = {.uid = 12345, .gid = 12345};
	if (geteuid() != 0)
		assert_int_equal(ldms_msg_publish(x, "q", LDMS_MSG_STRING, &cr, 0777, data, 1),
				 -EPERM);
	assert_int_equal(ldms_msg_publish(x, "", LDMS_MSG_STRING, NULL, 0777, data, 1), -EINVAL);
	ldms_xprt_close(x);
	ldms_msg_client_close(c);
}

/* msg_disable: charge returned with ENOTSUP, subscriptions refused. */
static void test_disabled(void **state)
{
	const struct gframe *msg = g(2, "SENDRECV / MSG ", 0);
	int fd = raw_session(port, -1);
	char *js;

	ldms_msg_disable();
	assert_false(ldms_msg_is_enabled());
	send_all(fd, msg->b, msg->len);
	expect_quota(fd, 31, ENOTSUP);
	send_sub(fd, LDMS_CMD_MSG_SUB, 31, "x", 0);
	expect_sub_reply(fd, LDMS_CMD_MSG_SUB_REPLY, 31, ENOTSUP, "message service is disabled");
	assert_int_equal(ldms_msg_stats_json(NULL, NULL, 0, &js), -ENOTSUP);
	assert_int_equal(ldms_msg_publish(NULL, "x", LDMS_MSG_STRING, NULL, 0777, "a", 1),
			 -ENOTSUP);
	assert_null(ldms_msg_subscribe("x", 0, rec_cb, &R, "t"));
	assert_int_equal(errno, ENOTSUP);
	ldms_msg_enable();
	send_all(fd, msg->b, msg->len);
	expect_quota(fd, 31, 0);
	close(fd);
}

static int noop_cb(const struct ldms_msg_event *ev, void *arg)
{
	return ev->type == LDMS_MSG_EVENT_RECV ? 1 : 0; /* every message a drop */
}

/* msg_stats / msg_client_stats shapes, regex semantics and reset. */
static void test_stats(void **state)
{
	ldms_msg_client_t re = ldms_msg_subscribe("tat", 1, noop_cb, NULL, "regex client");
	ldms_msg_client_t ex;
	char *js;
	json_t *j, *t, *cl;

	assert_non_null(re);
	/* a tag first seen after the regex client: bound at its creation */
	assert_int_equal(ldms_msg_publish(NULL, "xstatx", LDMS_MSG_STRING, NULL, 0777, "12345", 5),
			 0);
	ex = ldms_msg_subscribe("xstatx", 0, noop_cb, NULL, "exact client");
	assert_int_equal(ldms_msg_publish(NULL, "xstatx", LDMS_MSG_JSON, NULL, 0777, "{]", 2), 0);
	assert_int_equal(ldms_msg_stats_json(NULL, "xstatx", 0, &js), 0);
	assert_non_null(strstr(js, "\"first_ts\":9223372036854775807.999999999,\"last_ts\":"
				   "0.000000000"));
	j = json_loads(js, 0, NULL);
	free(js);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	t = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(t, "msg_tag")), "xstatx");
	json_t *rx = json_object_get(t, "rx");
	assert_int_equal(json_integer_value(json_object_get(rx, "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(rx, "bytes")), 7);
	assert_true(json_is_real(json_object_get(rx, "first_ts")));
	assert_int_equal(json_object_size(json_object_get(t, "sources")), 0);
	cl = json_object_get(t, "clients");
	assert_int_equal(json_array_size(cl), 2);
	/* delivery (attach) order: the regex client first */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(cl, 0), "client_desc")),
	    "regex client");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(cl, 0), "is_regex")), 1);
	json_t *d = json_object_get(json_array_get(cl, 0), "drops");
	assert_int_equal(json_integer_value(json_object_get(d, "count")), 2);
	/* the exact client only saw the second (invalid JSON: a drop too) */
	d = json_object_get(json_array_get(cl, 1), "drops");
	assert_int_equal(json_integer_value(json_object_get(d, "count")), 1);
	json_decref(j);
	/* regex filter and reset */
	assert_int_equal(ldms_msg_stats_json("^xst", NULL, 1, &js), 0);
	assert_non_null(strstr(js, "xstatx"));
	free(js);
	assert_int_equal(ldms_msg_stats_json(NULL, "xstatx", 0, &js), 0);
	assert_non_null(strstr(js, "\"rx\":{\"bytes\":0,\"count\":0,"));
	free(js);
	assert_int_equal(ldms_msg_stats_json("((", NULL, 0, &js), -EINVAL);
	assert_int_equal(ldms_msg_stats_json(NULL, "nosuchtag", 0, &js), 0);
	assert_string_equal(js, "[]");
	free(js);
	/* client stats: regex clients first */
	assert_int_equal(ldms_msg_client_stats_json(0, &js), 0);
	j = json_loads(js, 0, NULL);
	free(js);
	assert_non_null(j);
	assert_true(json_array_size(j) >= 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "desc")),
			    "regex client");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "dest")),
			    "0.0.0.0:0");
	json_decref(j);
	ldms_msg_client_close(re);
	ldms_msg_client_close(ex);
	assert_null(ldms_msg_subscribe("((", 1, noop_cb, NULL, "bad"));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_receive_golden), cmocka_unit_test(test_remote_sub),
	    cmocka_unit_test(test_fragments),	   cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_quota),	   cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_stats),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
