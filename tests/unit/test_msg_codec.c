/* Message-service codecs against the upstream captures (golden/wire/08a-messages,
 * 08b-messages-quota): every MSG, MSG_SUB, MSG_SUB_REPLY and SEND_QUOTA frame of
 * frames.txt is decoded and re-encoded; MSG bytes must equal the capture except
 * the header fields upstream leaves uninitialised (README "Other observations").
 * Plus the tag hash, the MSG_SUB bit-field quirk and malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldms_proto.h"
#include "msg_frames.h"
#include "msg_codec.h"
#include "zap_wire.h"

/* ---- tests -------------------------------------------------------------------------------------
 */

static void test_tag_hash(void **state)
{
	assert_int_equal(msg_tag_hash("golden_json", 11), 0xac1d7e39u);
	assert_int_equal(msg_tag_hash("golden_str", 10), 0xdb018842u);
	/* bytes >= 0x80 are XORed sign-extended, as upstream's (signed) char */
	uint32_t h = 0x01000193u;
	h ^= 0xffffffe9u; /* (signed char)0xe9 */
	h *= 0x01000193u;
	assert_int_equal(msg_tag_hash("\xe9", 1), h);
}

/* Re-encodes a captured MSG from its decoded fields and compares it byte for
 * byte, masking the fields upstream does not initialise. */
static void check_msg(const struct gframe *g, int *n_first, int *seen_hop[2])
{
	struct zap_frame zf;
	struct ldms_msg m;
	struct msg_part p;
	struct msg_full_hdr h;
	uint8_t *out;
	size_t tl;
	int n;

	assert_int_equal(zap_frame_decode(g->b, g->len, &zf), 0);
	assert_int_equal(ldms_msg_decode(zf.data, zf.data_len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_MSG);
	assert_int_equal(m.xid, 0);
	assert_int_equal(msg_part_decode(m.payload, m.payload_len, &p), 0);
	assert_true(msg_addr_is_zero(&p.src)); /* loopback: src stays empty */
	assert_int_equal(p.bits, MSG_PART_FIRST);
	assert_int_equal(msg_full_hdr_decode(p.data, p.len, &h), 0);
	(*n_first)++;
	assert_int_equal(h.msg_gn, p.msg_gn);
	assert_int_equal(h.msg_len, p.len - MSG_FULL_HDR_LEN);
	assert_true(h.type == 0 || h.type == 1);
	assert_int_equal(h.uid, 0);
	assert_int_equal(h.gid, 0);
	assert_int_equal(h.perm, 0777);
	assert_true(h.hop_cnt <= 1);
	seen_hop[h.hop_cnt][0]++;
	const char *tag = (const char *)p.data + MSG_FULL_HDR_LEN;
	tl = strnlen(tag, h.msg_len);
	assert_true(tl < h.msg_len);
	assert_int_equal(h.tag_hash, msg_tag_hash(tag, tl));
	/* the charge SEND_QUOTA returns: strlen(tag)+1+data_len */
	assert_true(!strcmp(tag, "golden_json") || !strcmp(tag, "golden_str"));
	assert_true(h.hops[0].recv_sec > 1700000000 && h.hops[0].send_sec >= h.hops[0].recv_sec);
	if (h.hop_cnt == 1)
		assert_true(h.hops[1].recv_sec >= h.hops[0].send_sec);

	out = calloc(1, m.len);
	assert_non_null(out);
	n = msg_part_hdr_encode(out, m.len, &p);
	assert_int_equal(n, LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN);
	assert_int_equal(msg_full_hdr_encode(out + n, m.len - (size_t)n, &h), MSG_FULL_HDR_LEN);
	memcpy(out + n + MSG_FULL_HDR_LEN, p.data + MSG_FULL_HDR_LEN, h.msg_len);
	/* mask pad0, reserve[4], pad1 and the hops beyond hop_cnt in the capture */
	uint8_t *cap = malloc(m.len);
	assert_non_null(cap);
	memcpy(cap, zf.data, m.len);
	uint8_t *fh = cap + n;
	memset(fh + 20, 0, 4);
	memset(fh + 24, 0, 32);
	memset(fh + 92, 0, 4);
	memset(fh + 96 + 32 * (h.hop_cnt + 1), 0, 32 * (MSG_HOPS - h.hop_cnt - 1));
	assert_memory_equal(out, cap, m.len);
	free(cap);
	free(out);
}

static void check_send_quota(const struct gframe *g, uint32_t want)
{
	struct zap_frame zf;
	struct ldms_msg m;
	uint32_t q, rc;
	uint8_t out[MSG_SEND_QUOTA_LEN];

	assert_int_equal(zap_frame_decode(g->b, g->len, &zf), 0);
	assert_int_equal(ldms_msg_decode(zf.data, zf.data_len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SEND_QUOTA);
	assert_int_equal(msg_send_quota_decode(m.payload, m.payload_len, &q, &rc), 0);
	assert_int_equal(q, want);
	assert_int_equal(rc, 0);
	assert_int_equal(msg_send_quota_encode(out, sizeof(out), q, rc), MSG_SEND_QUOTA_LEN);
	assert_int_equal(zf.data_len, MSG_SEND_QUOTA_LEN);
	assert_memory_equal(out, zf.data, MSG_SEND_QUOTA_LEN);
}

static void check_sub(const struct gframe *g)
{
	struct zap_frame zf;
	struct ldms_msg m;
	struct msg_sub s;
	uint8_t out[64];

	assert_int_equal(zap_frame_decode(g->b, g->len, &zf), 0);
	assert_int_equal(ldms_msg_decode(zf.data, zf.data_len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_MSG_SUB);
	assert_int_equal(msg_sub_decode(m.payload, m.payload_len, &s), 0);
	assert_int_equal(s.is_regex, 1);
	assert_true(s.rate == -1);
	assert_string_equal(s.match, ".*");
	/* the bit-field word holds htobe32(match_len) in its upper 31 bits */
	assert_memory_equal(m.payload, "\x01\x00\x00\x06", 4);
	assert_int_equal(msg_sub_encode(out, sizeof(out), LDMS_CMD_MSG_SUB, m.xid, &s), 31);
	assert_memory_equal(out, zf.data, 31);
}

static void check_sub_reply(const struct gframe *g)
{
	struct zap_frame zf;
	struct ldms_msg m;
	const char *text;
	size_t tl;
	uint8_t out[64];

	assert_int_equal(zap_frame_decode(g->b, g->len, &zf), 0);
	assert_int_equal(ldms_msg_decode(zf.data, zf.data_len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_MSG_SUB_REPLY);
	assert_int_equal(m.rc, 0);
	assert_int_equal(msg_sub_reply_decode(m.payload, m.payload_len, &text, &tl), 0);
	assert_string_equal(text, "OK");
	assert_int_equal(
	    msg_sub_reply_encode(out, sizeof(out), LDMS_CMD_MSG_SUB_REPLY, m.xid, 0, "OK"), 27);
	assert_memory_equal(out, zf.data, 27);
}

static void scenario(const char *name, uint32_t charge, int want_msgs, int want_quota)
{
	size_t n;
	struct gframe *v = frames_load(name, &n);
	int msgs = 0, quotas = 0, subs = 0, replies = 0;
	int hop0 = 0, hop1 = 0;
	int *seen[2] = {&hop0, &hop1};

	assert_true(n > 10);
	for (size_t i = 0; i < n; i++) {
		if (strstr(v[i].title, "SENDRECV / MSG_SUB_REPLY")) {
			check_sub_reply(&v[i]);
			replies++;
		} else if (strstr(v[i].title, "SENDRECV / MSG_SUB")) {
			check_sub(&v[i]);
			subs++;
		} else if (strstr(v[i].title, "SENDRECV / MSG ")) {
			int first = 0;
			check_msg(&v[i], &first, seen);
			msgs += first;
		} else if (strstr(v[i].title, "SENDRECV / SEND_QUOTA")) {
			check_send_quota(&v[i], charge);
			quotas++;
		}
	}
	assert_int_equal(msgs, want_msgs);
	assert_int_equal(quotas, want_quota);
	assert_int_equal(subs, 1);
	assert_int_equal(replies, 1);
	/* publisher -> S at hop 0, S -> A at hop 1, as many of each */
	assert_int_equal(hop0, hop1);
	frames_free(v, n);
}

static void test_08a(void **state)
{
	scenario("08a-messages", 31, 6, 6);
}

static void test_08b(void **state)
{
	/* six 23-byte charges each way */
	scenario("08b-messages-quota", 23, 12, 12);
}

/* The publisher's first MSG of 08a connection 2, encoded from scratch. */
static void test_encode_publisher_msg(void **state)
{
	size_t n;
	struct gframe *v = frames_load("08a-messages", &n), *g = NULL;
	int conn = 0;

	for (size_t i = 0; i < n && !g; i++) {
		if (!strncmp(v[i].title, "frame 1 ", 8))
			conn++;
		if (conn == 2 && strstr(v[i].title, "SENDRECV / MSG "))
			g = &v[i];
	}
	assert_non_null(g);
	const char *data = "{\"seq\":1,\"v\":\"a\"}\n";
	struct msg_full_hdr h = {0};
	h.msg_gn = 0;
	h.msg_len = 12 + 19;
	h.type = 1;
	h.perm = 0777;
	h.tag_hash = msg_tag_hash("golden_json", 11);
	h.hop_cnt = 0;
	h.hops[0].recv_sec = 1795319292;
	h.hops[0].recv_nsec = 19521201;
	h.hops[0].send_sec = 1795319292;
	h.hops[0].send_nsec = 19530549;
	struct msg_part p = {.msg_gn = 0, .bits = MSG_PART_FIRST, .len = MSG_FULL_HDR_LEN + 31};
	uint8_t out[24 + 16 + 32 + 384 + 31];
	zap_hdr_encode(out, ZAP_MSG_SENDRECV, sizeof(out), 3, 0);
	wire_put_be32(out + 20, sizeof(out) - 24);
	assert_int_equal(msg_part_hdr_encode(out + 24, sizeof(out) - 24, &p), 48);
	assert_int_equal(msg_full_hdr_encode(out + 72, 384, &h), 384);
	memcpy(out + 72 + 384, "golden_json", 12);
	memcpy(out + 72 + 384 + 12, data, 19); /* with the tool's trailing NUL */
	assert_int_equal(g->len, sizeof(out));
	uint8_t *cap = g->b;
	memset(cap + 72 + 20, 0, 36); /* pad0 + reserve */
	memset(cap + 72 + 92, 0, 4);  /* pad1 */
	memset(cap + 72 + 128, 0, 32 * 8);
	assert_memory_equal(out, cap, sizeof(out));
	frames_free(v, n);
}

static void test_malformed(void **state)
{
	uint8_t b[600] = {0};
	struct msg_part p;
	struct msg_full_hdr h;
	struct msg_sub s;
	const char *t;
	size_t tl;
	uint32_t q, rc;

	assert_int_equal(msg_part_decode(b, 31, &p), -EPROTO);
	assert_int_equal(msg_part_decode(b, 32, &p), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(msg_full_hdr_decode(b, 383, &h), -EPROTO);
	/* hop_cnt beyond the 9 slots: only 9 are read */
	wire_put_be32(b + 88, 0xffffffffu);
	assert_int_equal(msg_full_hdr_decode(b, 384, &h), 0);
	assert_int_equal(h.hop_cnt, 0xffffffffu);
	/* MSG_SUB: no NUL in the match, or no match at all */
	memset(b, 'a', sizeof(b));
	assert_int_equal(msg_sub_decode(b, 40, &s), -EPROTO);
	assert_int_equal(msg_sub_decode(b, 12, &s), -EPROTO);
	b[20] = 0;
	assert_int_equal(msg_sub_decode(b, 40, &s), 0);
	assert_int_equal(strlen(s.match), 8);
	/* replies: msg_len beyond the payload */
	wire_put_be32(b, 100);
	assert_int_equal(msg_sub_reply_decode(b, 50, &t, &tl), -EPROTO);
	wire_put_be32(b, 3);
	memcpy(b + 4, "OKX", 3); /* no NUL: empty text, not an overrun */
	assert_int_equal(msg_sub_reply_decode(b, 7, &t, &tl), 0);
	assert_int_equal(tl, 0);
	assert_int_equal(msg_send_quota_decode(b, 7, &q, &rc), -EPROTO);
	/* encoders refuse small buffers and bad commands */
	struct msg_sub sub = {.is_regex = 0, .rate = -1, .match = "x"};
	assert_int_equal(msg_sub_encode(b, 10, LDMS_CMD_MSG_SUB, 1, &sub), -ENOSPC);
	assert_int_equal(msg_sub_encode(b, sizeof(b), LDMS_CMD_MSG, 1, &sub), -EINVAL);
	assert_int_equal(msg_send_quota_encode(b, 10, 1, 0), -ENOSPC);
	struct msg_part big = {.len = MSG_PART_MAX + 1};
	assert_int_equal(msg_part_hdr_encode(b, sizeof(b), &big), -EINVAL);
	/* the unsub form carries the same layout */
	assert_int_equal(msg_sub_encode(b, sizeof(b), LDMS_CMD_MSG_UNSUB, 7, &sub), 30);
	assert_int_equal(wire_get_be32(b + 8), LDMS_CMD_MSG_UNSUB);
	assert_int_equal(wire_get_le32(b + 16), 0x04000000u); /* htobe32(2) << 1 */
}

static void test_addr_str(void **state)
{
	struct msg_addr a = {{0}};
	char s[64];

	msg_addr_str(&a, s, sizeof(s));
	assert_string_equal(s, "0.0.0.0:0");
	wire_put_be16(a.b, 2 /* AF_INET */);
	wire_put_be16(a.b + 2, 10001);
	a.b[4] = 10;
	a.b[7] = 5;
	msg_addr_str(&a, s, sizeof(s));
	assert_string_equal(s, "10.0.0.5:10001");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tag_hash),  cmocka_unit_test(test_08a),
	    cmocka_unit_test(test_08b),	      cmocka_unit_test(test_encode_publisher_msg),
	    cmocka_unit_test(test_malformed), cmocka_unit_test(test_addr_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
