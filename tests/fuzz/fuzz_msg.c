/* libFuzzer target: the message-service codecs and the reassembly of MSG parts.
 * Byte 0 picks the mode. Reassembly: the rest is a sequence of MSG payloads
 * (2-byte big-endian length + payload) fed to one connection's reassembler;
 * every complete message must have its tag and data inside its buffer and a
 * charge equal to its length. Codecs: whatever decodes is re-encoded and must
 * decode to the same fields again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"

static void reassemble(const uint8_t *d, size_t n)
{
	struct msg_conn *k = msg_test_conn_new();
	struct msg_part p;
	struct msg_buf *m;

	if (!k)
		return;
	while (n >= 2) {
		size_t len = (size_t)d[0] << 8 | d[1];
		d += 2;
		n -= 2;
		if (len > n)
			len = n;
		if (!msg_part_decode(d, len, &p) && (m = msg_asm_add(k, &p))) {
			const char *end = m->body + m->h.msg_len;
			if (m->tag != m->body || m->tag + m->tag_len >= end || m->tag[m->tag_len] ||
			    strlen(m->tag) != m->tag_len || m->data + m->data_len != end ||
			    m->charge != m->h.msg_len || m->h.type > LDMS_MSG_AVRO_SER)
				abort();
			msg_buf_put(m);
		}
		d += len;
		n -= len;
	}
	msg_test_conn_free(k);
}

static void codecs(const uint8_t *d, size_t n)
{
	struct msg_part p, p2;
	struct msg_full_hdr h, h2;
	struct msg_sub s, s2;
	uint8_t *out = malloc(LDMS_REQ_HDR_LEN + MSG_SUB_HDR_LEN + n + 1 + MSG_FULL_HDR_LEN);
	const char *t;
	size_t tl;
	uint32_t q, rc, q2, rc2;
	int k;

	if (!out)
		return;
	if (!msg_part_decode(d, n, &p) && p.len <= MSG_PART_MAX) {
		k = msg_part_hdr_encode(out, LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN, &p);
		if (k < 0 || msg_part_decode(out + LDMS_REQ_HDR_LEN, MSG_PART_HDR_LEN, &p2) ||
		    p2.msg_gn != p.msg_gn || p2.bits != (p.bits & 3) ||
		    memcmp(p2.src.b, p.src.b, MSG_ADDR_LEN))
			abort();
	}
	if (!msg_full_hdr_decode(d, n, &h)) {
		if (msg_full_hdr_encode(out, MSG_FULL_HDR_LEN, &h) != MSG_FULL_HDR_LEN ||
		    msg_full_hdr_decode(out, MSG_FULL_HDR_LEN, &h2) || memcmp(&h, &h2, sizeof(h)))
			abort();
	}
	if (!msg_sub_decode(d, n, &s)) {
		if (strlen(s.match) >= n - MSG_SUB_HDR_LEN)
			abort();
		k = msg_sub_encode(out, LDMS_REQ_HDR_LEN + MSG_SUB_HDR_LEN + n, LDMS_CMD_MSG_SUB, 1,
				   &s);
		if (k < 0 ||
		    msg_sub_decode(out + LDMS_REQ_HDR_LEN, (size_t)k - LDMS_REQ_HDR_LEN, &s2) ||
		    s2.is_regex != s.is_regex || s2.rate != s.rate || strcmp(s2.match, s.match))
			abort();
	}
	if (!msg_sub_reply_decode(d, n, &t, &tl) && strlen(t) != tl)
		abort();
	if (!msg_send_quota_decode(d, n, &q, &rc)) {
		msg_send_quota_encode(out, MSG_SEND_QUOTA_LEN, q, rc);
		if (msg_send_quota_decode(out + LDMS_REQ_HDR_LEN, 8, &q2, &rc2) || q != q2 ||
		    rc != rc2)
			abort();
	}
	(void)msg_tag_hash((const char *)d, n);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size < 1)
		return 0;
	/* a private copy: decoders may keep pointers, and the tail must not be
	 * read past the fuzzer's buffer */
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (buf[0] & 1)
		reassemble(buf + 1, size - 1);
	else
		codecs(buf + 1, size - 1);
	free(buf);
	return 0;
}
