/* zap frame codec and LDMS conn msg: decode the golden frames captured from
 * upstream (shared/golden/wire) and re-encode them byte for byte; malformed and
 * oversized frames are refused with -EPROTO. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire_vectors.h"
#include "zap_wire.h"

static void test_connect_rail(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("connect_rail", &len);
	struct zap_frame f;
	struct ldms_conn_msg m;
	uint8_t cm[64], out[256];
	int n;

	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_CONNECT);
	assert_int_equal(f.hdr.len, 100);
	assert_int_equal(f.hdr.xid, 1);
	assert_true(zap_version_ok(f.version));
	assert_true(zap_sig_ok(f.sig));
	assert_int_equal(f.data_len, 64);
	assert_int_equal(ldms_conn_msg_decode(f.data, f.data_len, &m), 0);
	assert_true(ldms_conn_version_ok(m.version));
	assert_string_equal(m.auth_name, "none");
	assert_true(m.is_rail);
	assert_int_equal(m.conn_type, 1);
	assert_true(m.rate_limit == -1 && m.recv_quota == -1);
	assert_int_equal(m.n_eps, 1);
	assert_int_equal(m.idx, 0);
	assert_int_equal(m.pid, 3076);
	assert_int_equal(m.rail_gn, 1);
	assert_int_equal(m.msg_enabled, 1);

	/* re-encode from scratch */
	ldms_conn_msg_init(&m, "none", 1);
	m.pid = 3076;
	m.rail_gn = 1;
	m.msg_enabled = 1;
	assert_int_equal(ldms_conn_msg_encode(cm, sizeof(cm), &m), 64);
	n = zap_encode_connect(out, sizeof(out), 1, cm, 64);
	assert_int_equal(n, (int)len);
	assert_memory_equal(out, g, len);
	free(g);
}

static void test_accepted_rail(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("accepted_rail", &len);
	struct zap_frame f;
	struct ldms_conn_msg m;
	uint8_t cm[64], out[256];

	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_ACCEPTED);
	assert_int_equal(ldms_conn_msg_decode(f.data, f.data_len, &m), 0);
	assert_int_equal(m.pid, 3039);
	assert_int_equal(m.msg_enabled, 0);
	ldms_conn_msg_init(&m, "none", 1);
	m.pid = 3039;
	m.rail_gn = 1;
	assert_int_equal(ldms_conn_msg_encode(cm, sizeof(cm), &m), 64);
	assert_int_equal(zap_encode_data(out, sizeof(out), ZAP_MSG_ACCEPTED, 1, cm, 64), (int)len);
	assert_memory_equal(out, g, len);
	free(g);
}

static void test_legacy(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("connect_legacy", &len);
	struct zap_frame f;
	struct ldms_conn_msg m;
	uint8_t cm[64], out[256];

	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.data_len, 20);
	assert_int_equal(ldms_conn_msg_decode(f.data, f.data_len, &m), 0);
	assert_false(m.is_rail);
	assert_string_equal(m.auth_name, "none");
	ldms_conn_msg_init(&m, "none", 0);
	assert_int_equal(ldms_conn_msg_encode(cm, sizeof(cm), &m), 20);
	assert_int_equal(zap_encode_connect(out, sizeof(out), 1, cm, 20), (int)len);
	assert_memory_equal(out, g, len);
	free(g);

	g = wire_vector("accepted_legacy", &len);
	assert_int_equal(zap_encode_data(out, sizeof(out), ZAP_MSG_ACCEPTED, 1, cm, 20), (int)len);
	assert_memory_equal(out, g, len);
	free(g);
	/* too short conn msg */
	assert_int_equal(ldms_conn_msg_decode(cm, 19, &m), -EPROTO);
	/* over-long auth name */
	ldms_conn_msg_init(&m, "none", 0);
	strcpy(m.auth_name, "0123456789abcdef");
	assert_int_equal(ldms_conn_msg_encode(cm, sizeof(cm), &m), -EINVAL);
}

static void test_ack_accepted(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("ack_accepted", &len);
	struct zap_frame f;
	uint8_t out[64];

	assert_int_equal(len, 24);
	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_ACK_ACCEPTED);
	assert_int_equal(f.data_len, 0);
	assert_int_equal(zap_encode_data(out, sizeof(out), ZAP_MSG_ACK_ACCEPTED, 2, NULL, 0), 24);
	assert_memory_equal(out, g, len);
	free(g);
}

static void test_read_req_resp(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("read_req", &len);
	struct zap_frame f;
	uint8_t out[64];

	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_READ_REQ);
	assert_int_equal(f.hdr.xid, 5);
	assert_true(f.hdr.ctxt == 0x00007f42f80011c0ULL);
	assert_int_equal(f.map_key, 2);
	assert_true(f.addr == 0x00007ff0cdcbb060ULL);
	assert_int_equal(f.read_len, 2968);
	assert_int_equal(zap_encode_read_req(out, sizeof(out), 5, 0x00007f42f80011c0ULL, 2,
					     0x00007ff0cdcbb060ULL, 2968),
			 36);
	assert_memory_equal(out, g, len);
	free(g);

	g = wire_vector("read_resp_data", &len);
	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_READ_RESP);
	assert_int_equal(f.status, 0);
	assert_int_equal(f.data_len, 544);
	assert_ptr_equal(f.data, g + 36);
	assert_int_equal(zap_encode_read_resp_hdr(out, sizeof(out), f.hdr.xid, f.hdr.ctxt, 0, 544),
			 36);
	assert_memory_equal(out, g, 36);
	/* header-only decode, as the transport streams the data */
	assert_int_equal(zap_read_resp_hdr_decode(g, 36, &f), 0);
	assert_int_equal(f.data_len, 544);
	free(g);
}

static void test_rendezvous_frame(void **state)
{
	size_t len;
	unsigned char *g = wire_vector("rendezvous", &len);
	struct zap_frame f;
	uint8_t out[512];

	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_RENDEZVOUS);
	assert_int_equal(f.map_key, 2);
	assert_int_equal(f.acc, 3);
	assert_true(f.addr == 0x00007ff0cdcbb060ULL);
	assert_int_equal(f.read_len, 3512);
	assert_int_equal(f.data_len, 172);
	assert_int_equal(zap_encode_rendezvous(out, sizeof(out), f.hdr.xid, 2, 3,
					       0x00007ff0cdcbb060ULL, 3512, f.data, f.data_len),
			 (int)len);
	assert_memory_equal(out, g, len);
	free(g);
}

static void test_sendrecv(void **state)
{
	const char *names[] = {
	    "dir",	"dir_reply",	  "lookup",  "set_delete", "set_delete_reply",
	    "send_msg", "dir_update_add", "auth_msg"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len;
		unsigned char *g = wire_vector(names[i], &len);
		struct zap_frame f;
		uint8_t out[2048];

		assert_int_equal(zap_frame_decode(g, len, &f), 0);
		assert_int_equal(f.hdr.type, ZAP_MSG_SENDRECV);
		assert_int_equal(zap_encode_data(out, sizeof(out), ZAP_MSG_SENDRECV, f.hdr.xid,
						 f.data, f.data_len),
				 (int)len);
		assert_memory_equal(out, g, len);
		free(g);
	}
}

static void test_malformed(void **state)
{
	size_t len, i;
	unsigned char *g = wire_vector("connect_rail", &len);
	struct zap_frame f;
	struct zap_hdr h;
	uint8_t b[64];

	/* every truncation is refused */
	for (i = 0; i < len; i++)
		assert_int_equal(zap_frame_decode(g, i, &f), -EPROTO);
	/* data_len disagreeing with msg_len */
	g[35] = 65;
	assert_int_equal(zap_frame_decode(g, len, &f), -EPROTO);
	g[35] = 64;
	/* reserved field */
	g[3] = 1;
	assert_int_equal(zap_frame_decode(g, len, &f), -EPROTO);
	g[3] = 0;
	assert_int_equal(zap_frame_decode(g, len, &f), 0);
	free(g);

	/* unknown type, short header, oversized non-read frame, small READ_RESP ok */
	zap_hdr_encode(b, 11, 24, 1, 0);
	assert_int_equal(zap_hdr_decode(b, 24, &h), -EPROTO);
	assert_int_equal(zap_hdr_decode(b, 10, &h), -EAGAIN);
	zap_hdr_encode(b, ZAP_MSG_SENDRECV, ZAP_MAX_FRAME + 1, 1, 0);
	assert_int_equal(zap_hdr_decode(b, 24, &h), -EPROTO);
	zap_hdr_encode(b, ZAP_MSG_SENDRECV, ZAP_MAX_FRAME, 1, 0);
	assert_int_equal(zap_hdr_decode(b, 24, &h), 0);
	zap_hdr_encode(b, ZAP_MSG_READ_RESP, ZAP_MAX_FRAME + 100, 1, 0);
	assert_int_equal(zap_hdr_decode(b, 24, &h), 0);
	zap_hdr_encode(b, ZAP_MSG_SENDRECV, 12, 1, 0);
	assert_int_equal(zap_hdr_decode(b, 24, &h), -EPROTO);
	/* READ_REQ must be exactly 36 bytes */
	memset(b, 0, sizeof(b));
	zap_hdr_encode(b, ZAP_MSG_READ_REQ, 40, 1, 0);
	assert_int_equal(zap_frame_decode(b, 40, &f), -EPROTO);
	/* WRITE_REQ is not used over sock */
	zap_hdr_encode(b, ZAP_MSG_WRITE_REQ, 36, 1, 0);
	assert_int_equal(zap_frame_decode(b, 36, &f), -EPROTO);
	/* encoders refuse small buffers */
	assert_int_equal(zap_encode_read_req(b, 35, 1, 0, 1, 0, 1), -ENOSPC);
	assert_int_equal(zap_encode_data(b, 23, ZAP_MSG_SENDRECV, 1, NULL, 0), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_rail),  cmocka_unit_test(test_accepted_rail),
	    cmocka_unit_test(test_legacy),	  cmocka_unit_test(test_ack_accepted),
	    cmocka_unit_test(test_read_req_resp), cmocka_unit_test(test_rendezvous_frame),
	    cmocka_unit_test(test_sendrecv),	  cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
