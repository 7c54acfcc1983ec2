/* The quota group in one process: the control plane (config, members in
 * (host, port) order, EBUSY/EEXIST/ENOENT/EINVAL, qgroup_info JSON), the return
 * gate (returns paid from the budget, deferred when short, released by stop),
 * and the ASK / DONATE / DONATE_BACK exchange with a raw peer: amounts, window
 * checks, the echoed big-endian xid, the fill cap and the surplus sent back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "ldms/ldms_msg.h"
#include "ldms/ldms_qgroup.h"
#include "ldms/ldms_xprt.h"
#include "msg_codec.h"
#include "msg_frames.h"
#include "msg_raw_peer.h"

#define WAIT_MS 5000
#define HOUR_US 3600000000ull
#define QG_LEN	(LDMS_REQ_HDR_LEN + 16)

static struct ldms_listener *L;
static int port;
static char portstr[16];
static struct gframe *g08a;
static size_t n08a;

static void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
}

static int setup(void **state)
{
	struct ldms_xprt_opts o = {.recv_quota = -1, .rate_limit = -1, .msg_enabled = 1};
	struct ldms_err err;

	g08a = frames_load("08a-messages", &n08a);
	assert_int_equal(ldms_init(2), 0);
	ldms_err_clear(&err);
	L = ldms_listen("sock", "127.0.0.1", "0", NULL, &o, srv_cb, NULL, &err);
	assert_non_null(L);
	port = ldms_listener_port(L);
	snprintf(portstr, sizeof(portstr), "%d", port);
	return 0;
}

static int teardown(void **state)
{
	ldms_listener_close(L);
	ldms_fini();
	frames_free(g08a, n08a);
	return 0;
}

static void cfg_all(uint64_t quota, uint64_t mark, uint64_t amount, uint64_t ask_us,
		    uint64_t reset_us)
{
	struct ldms_qgroup_cfg c = {.quota = quota,
				    .ask_mark = mark,
				    .ask_amount = amount,
				    .ask_usec = ask_us,
				    .reset_usec = reset_us};

	assert_int_equal(ldms_qgroup_config(&c, 31), 0);
}

static uint64_t window_now(uint64_t reset_us)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return now / reset_us * reset_us;
}

static json_t *info(void)
{
	char *js = NULL;
	json_t *j;

	assert_int_equal(ldms_qgroup_info_json(&js), 0);
	j = json_loads(js, 0, NULL);
	free(js);
	assert_non_null(j);
	return j;
}

static void test_control_plane(void **state)
{
	json_t *j, *m;

	assert_int_equal(ldms_qgroup_state_get(), LDMS_QGROUP_STOPPED);
	assert_int_equal(ldms_qgroup_start(), -EINVAL); /* nothing configured: no defaults */
	assert_int_equal(ldms_qgroup_stop(), -EINVAL);
	cfg_all(1024, 200, 100, 100000, 1000000);
	assert_int_equal(ldms_qgroup_member_add("sock", "127.0.0.1", "10099", NULL), 0);
	assert_int_equal(ldms_qgroup_member_add("sock", "127.0.0.1", "10012", NULL), 0);
	assert_int_equal(ldms_qgroup_member_add("sock", "127.0.0.1", "10012", NULL), -EEXIST);
	assert_int_equal(ldms_qgroup_member_add("sock", "aaa", NULL, NULL), 0); /* port 411 */
	char longhost[300];
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = 0;
	assert_int_equal(ldms_qgroup_member_add("sock", longhost, NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(ldms_qgroup_member_del("127.0.0.1", "1"), -ENOENT);
	assert_int_equal(ldms_qgroup_member_del("aaa", NULL), 0);

	j = info();
	assert_string_equal(json_string_value(json_object_get(j, "state")), "STOPPED");
	json_t *c = json_object_get(j, "config");
	assert_int_equal(json_integer_value(json_object_get(c, "quota")), 1024);
	assert_int_equal(json_integer_value(json_object_get(c, "ask_mark")), 200);
	assert_int_equal(json_integer_value(json_object_get(c, "ask_amount")), 100);
	assert_int_equal(json_integer_value(json_object_get(c, "ask_usec")), 100000);
	assert_int_equal(json_integer_value(json_object_get(c, "reset_usec")), 1000000);
	m = json_object_get(j, "members");
	assert_int_equal(json_array_size(m), 2);
	/* (host, port) order: "10012" < "10099" */
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "port")),
			    "10012");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "state")),
			    "DISCONNECTED");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "auth")),
			    "none");
	assert_true(json_is_object(json_object_get(json_array_get(m, 1), "auth_options")));
	json_decref(j);

	assert_int_equal(ldms_qgroup_start(), 0);
	assert_int_equal(ldms_qgroup_start(), -EBUSY);
	assert_int_equal(ldms_qgroup_config(&(struct ldms_qgroup_cfg){.quota = 5}, 1), -EBUSY);
	assert_int_equal(ldms_qgroup_member_add("sock", "x", NULL, NULL), -EBUSY);
	assert_int_equal(ldms_qgroup_member_del("127.0.0.1", "10012"), -EBUSY);
	assert_true(ldms_qgroup_quota_get() == 1024);
	assert_int_equal(ldms_qgroup_stop(), 0);
	assert_int_equal(ldms_qgroup_stop(), -EINVAL);
	j = info();
	m = json_object_get(j, "members");
	for (size_t i = 0; i < json_array_size(m); i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(m, i), "state")),
		    "DISCONNECTED");
	json_decref(j);
	assert_int_equal(ldms_qgroup_member_del("127.0.0.1", "10012"), 0);
	assert_int_equal(ldms_qgroup_member_del("127.0.0.1", "10099"), 0);
}

/* Returns go out while the budget pays for them, later ones wait; stop
 * releases what waits. */
static void test_return_gate(void **state)
{
	const struct gframe *msg = frames_find(g08a, n08a, 2, "SENDRECV / MSG ", 0);
	struct ldms_qgroup_stats st0, st;
	uint8_t buf[256];
	struct ldms_msg m;
	uint32_t q, rc;
	int fd;

	assert_non_null(msg);
	cfg_all(100, 10, 10, HOUR_US, HOUR_US); /* no reset or ask during the test */
	assert_int_equal(ldms_qgroup_start(), 0);
	ldms_qgroup_stats_get(&st0);
	fd = raw_session(port, -1);
	for (int i = 0; i < 3; i++) { /* 3 x 31 of 100 */
		send_all(fd, msg->b, msg->len);
		size_t n = read_ldms(fd, buf, sizeof(buf));
		assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
		assert_int_equal(m.cmd, LDMS_CMD_SEND_QUOTA);
		assert_int_equal(msg_send_quota_decode(m.payload, m.payload_len, &q, &rc), 0);
		assert_int_equal(q, 31);
	}
	assert_true(ldms_qgroup_quota_get() == 7);
	send_all(fd, msg->b, msg->len); /* 7 < 31: deferred */
	for (int i = 0; i < WAIT_MS; i++) {
		ldms_qgroup_stats_get(&st);
		if (st.deferred > st0.deferred)
			break;
		usleep(1000);
	}
	assert_int_equal(st.deferred - st0.deferred, 1);
	assert_int_equal(st.pending_bytes, 31);
	assert_int_equal(st.returned_now - st0.returned_now, 3);
	assert_true(ldms_qgroup_quota_get() == 7);
	assert_int_equal(ldms_qgroup_stop(), 0); /* ldms-c: the deferred return goes now */
	size_t n = read_ldms(fd, buf, sizeof(buf));
	assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SEND_QUOTA);
	assert_int_equal(msg_send_quota_decode(m.payload, m.payload_len, &q, &rc), 0);
	assert_int_equal(q, 31);
	ldms_qgroup_stats_get(&st);
	assert_int_equal(st.pending_bytes, 0);
	/* stopped: the gate is open */
	send_all(fd, msg->b, msg->len);
	n = read_ldms(fd, buf, sizeof(buf));
	assert_int_equal(ldms_msg_decode(buf, n, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SEND_QUOTA);
	close(fd);
}

static void send_qg(int fd, uint32_t cmd, uint64_t xid, uint64_t q, uint64_t w)
{
	uint8_t b[QG_LEN];

	ldms_enc_req_hdr(b, sizeof(b), cmd, xid, QG_LEN);
	wire_put_be64(b + LDMS_REQ_HDR_LEN, q);
	wire_put_be64(b + LDMS_REQ_HDR_LEN + 8, w);
	send_ldms(fd, b, sizeof(b));
}

static void expect_qg(int fd, uint32_t cmd, uint64_t xid, uint64_t q, uint64_t w)
{
	uint8_t b[256];
	struct ldms_msg m;
	size_t n = read_ldms(fd, b, sizeof(b));

	assert_int_equal(ldms_msg_decode(b, n, &m), 0);
	assert_int_equal(m.cmd, cmd);
	assert_true(m.xid == xid);
	assert_int_equal(m.payload_len, 16);
	assert_true(wire_get_be64(m.payload) == q);
	assert_true(wire_get_be64(m.payload + 8) == w);
}

static void test_ask_donate(void **state)
{
	struct ldms_qgroup_stats st0, st;
	uint64_t w, xid = 0x142e6d5dd5600600ull; /* a captured (09) xid, echoed raw */
	int fd = raw_session(port, -1);

	cfg_all(1000, 500, 200, HOUR_US, HOUR_US);
	/* a stopped group ignores asks: the next answer is the one after start */
	send_qg(fd, LDMS_CMD_QGROUP_ASK, 1, 200, window_now(HOUR_US));
	{ /* a round trip: the ask above has been handled */
		uint8_t b[256];
		struct msg_sub s = {.rate = -1, .match = "nosuch"};
		int n = msg_sub_encode(b, sizeof(b), LDMS_CMD_MSG_UNSUB, 3, &s);
		send_ldms(fd, b, (size_t)n);
		n = (int)read_ldms(fd, b, sizeof(b));
		assert_int_equal(wire_get_be32(b + 8), LDMS_CMD_MSG_UNSUB_REPLY);
	}
	assert_int_equal(ldms_qgroup_start(), 0);
	ldms_qgroup_stats_get(&st0);
	w = window_now(HOUR_US);
	send_qg(fd, LDMS_CMD_QGROUP_ASK, xid, 200, w - HOUR_US); /* other window: ignored */
	{
		/* the captured ASK of 09, in our window: our DONATE has the captured
		 * bytes (xid echoed raw, q 200) but for the window */
		size_t n9;
		struct gframe *g9 = frames_load("09-qgroup", &n9);
		const struct gframe *ask = frames_find(g9, n9, 2, "QGROUP_ASK", 0);
		const struct gframe *don = frames_find(g9, n9, 2, "QGROUP_DONATE ", 0);
		uint8_t a[64], b[256];
		assert_non_null(ask);
		assert_non_null(don);
		assert_int_equal(ask->len, ZAP_SENDRECV_HDR + QG_LEN);
		memcpy(a, ask->b + ZAP_SENDRECV_HDR, QG_LEN);
		assert_true(wire_get_le64(a) == xid);
		wire_put_be64(a + LDMS_REQ_HDR_LEN + 8, w);
		send_ldms(fd, a, QG_LEN);
		size_t n = read_ldms(fd, b, sizeof(b));
		assert_int_equal(n, QG_LEN);
		memcpy(a, don->b + ZAP_SENDRECV_HDR, QG_LEN);
		wire_put_be64(a + LDMS_REQ_HDR_LEN + 8, w);
		assert_memory_equal(b, a, QG_LEN);
		frames_free(g9, n9);
	}
	assert_true(ldms_qgroup_quota_get() == 800);
	send_qg(fd, LDMS_CMD_QGROUP_ASK, xid + 1, 400, w); /* only down to the mark */
	expect_qg(fd, LDMS_CMD_QGROUP_DONATE, xid + 1, 300, w);
	assert_true(ldms_qgroup_quota_get() == 500);
	send_qg(fd, LDMS_CMD_QGROUP_ASK, xid + 2, 200, w); /* at the mark: refused */
	/* a donation fills up to the quota; the surplus goes back */
	send_qg(fd, LDMS_CMD_QGROUP_DONATE, xid + 3, 700, w);
	expect_qg(fd, LDMS_CMD_QGROUP_DONATE_BACK, xid + 3, 200, w);
	assert_true(ldms_qgroup_quota_get() == 1000);
	send_qg(fd, LDMS_CMD_QGROUP_DONATE, xid + 4, 50, w - HOUR_US); /* lost */
	send_qg(fd, LDMS_CMD_QGROUP_DONATE_BACK, xid + 5, 50, w);      /* no cap */
	for (int i = 0; i < WAIT_MS && ldms_qgroup_quota_get() != 1050; i++)
		usleep(1000);
	assert_true(ldms_qgroup_quota_get() == 1050);
	/* malformed: short payloads are ignored */
	uint8_t b[LDMS_REQ_HDR_LEN + 4] = {0};
	ldms_enc_req_hdr(b, sizeof(b), LDMS_CMD_QGROUP_ASK, 9, sizeof(b));
	send_ldms(fd, b, sizeof(b));
	send_qg(fd, LDMS_CMD_QGROUP_ASK, xid + 6, 100, w);
	expect_qg(fd, LDMS_CMD_QGROUP_DONATE, xid + 6, 100, w);
	ldms_qgroup_stats_get(&st);
	assert_int_equal(st.asks_recv - st0.asks_recv, 5);
	assert_int_equal(st.asks_ignored_window - st0.asks_ignored_window, 1);
	assert_int_equal(st.asks_refused - st0.asks_refused, 1);
	assert_int_equal(st.donated - st0.donated, 600);
	assert_int_equal(st.donated_back - st0.donated_back, 200);
	assert_int_equal(ldms_qgroup_stop(), 0);
	close(fd);
}

/* A member is connected by the ask routine; being below the mark it asks. */
static void test_member_connects_and_asks(void **state)
{
	struct ldms_qgroup_stats st0, st;
	json_t *j;
	const char *s = NULL;

	cfg_all(1000, 2000, 100, 50000, HOUR_US); /* mark above quota: it always asks */
	assert_int_equal(ldms_qgroup_member_add("sock", "127.0.0.1", portstr, NULL), 0);
	ldms_qgroup_stats_get(&st0);
	assert_int_equal(ldms_qgroup_start(), 0);
	for (int i = 0; i < WAIT_MS / 10; i++) {
		j = info();
		s = json_string_value(
		    json_object_get(json_array_get(json_object_get(j, "members"), 0), "state"));
		int up = s && !strcmp(s, "CONNECTED");
		json_decref(j);
		ldms_qgroup_stats_get(&st);
		if (up && st.asks_recv > st0.asks_recv)
			break;
		usleep(10000);
	}
	/* asking itself is harmless: below its own mark it never donates */
	assert_true(st.asks_sent > st0.asks_sent);
	assert_true(st.asks_recv > st0.asks_recv);
	assert_int_equal(st.donated, st0.donated);
	assert_int_equal(ldms_qgroup_stop(), 0);
	j = info();
	s = json_string_value(
	    json_object_get(json_array_get(json_object_get(j, "members"), 0), "state"));
	assert_string_equal(s, "DISCONNECTED");
	json_decref(j);
	assert_int_equal(ldms_qgroup_member_del("127.0.0.1", portstr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_control_plane),
	    cmocka_unit_test(test_return_gate),
	    cmocka_unit_test(test_ask_donate),
	    cmocka_unit_test(test_member_connects_and_asks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
