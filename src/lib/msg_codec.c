/* Byte codecs of the message service (MSG parts and the 384-byte full header,
 * MSG_SUB/MSG_UNSUB and replies, SEND_QUOTA) with the byte orders of the 08a/08b
 * captures: integers BE except the two bit-field words and tag_hash, which
 * x86 senders write in host (little-endian) order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "msg_codec.h"
#include "zap_wire.h"

uint32_t msg_tag_hash(const char *tag, size_t len)
{
	uint32_t h = 0x01000193u; /* upstream seeds with the FNV prime */

	for (size_t i = 0; i < len; i++) {
		/* upstream XORs a (signed) char: bytes >= 0x80 sign-extend */
		h ^= (uint32_t)(int32_t)(signed char)tag[i];
		h *= 0x01000193u;
	}
	return h;
}

int msg_addr_is_zero(const struct msg_addr *a)
{
	for (size_t i = 0; i < MSG_ADDR_LEN; i++)
		if (a->b[i])
			return 0;
	return 1;
}

void msg_addr_str(const struct msg_addr *a, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN] = "0.0.0.0";
	uint16_t fam = wire_get_be16(a->b);
	uint16_t port = wire_get_be16(a->b + 2);

	if (fam == AF_INET6) {
		inet_ntop(AF_INET6, a->b + 4, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, port);
		return;
	}
	if (fam == AF_INET)
		inet_ntop(AF_INET, a->b + 4, h, sizeof(h));
	snprintf(buf, len, "%s:%u", h, fam == AF_INET ? port : 0);
}

/* ---- MSG parts ---------------------------------------------------------------------------- */

int msg_part_hdr_encode(uint8_t *buf, size_t cap, const struct msg_part *p)
{
	size_t n = LDMS_REQ_HDR_LEN + MSG_PART_HDR_LEN;

	if (cap < n)
		return -ENOSPC;
	if (p->len > MSG_PART_MAX)
		return -EINVAL;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_MSG, 0, (uint32_t)(n + p->len));
	memcpy(buf + LDMS_REQ_HDR_LEN, p->src.b, MSG_ADDR_LEN);
	wire_put_be64(buf + LDMS_REQ_HDR_LEN + 20, p->msg_gn);
	wire_put_le32(buf + LDMS_REQ_HDR_LEN + 28, p->bits & (MSG_PART_MORE | MSG_PART_FIRST));
	return (int)n;
}

int msg_part_decode(const uint8_t *payload, size_t len, struct msg_part *p)
{
	memset(p, 0, sizeof(*p));
	if (len < MSG_PART_HDR_LEN)
		return -EPROTO;
	memcpy(p->src.b, payload, MSG_ADDR_LEN);
	p->msg_gn = wire_get_be64(payload + 20);
	p->bits = wire_get_le32(payload + 28);
	p->data = payload + MSG_PART_HDR_LEN;
	p->len = (uint32_t)(len - MSG_PART_HDR_LEN);
	return 0;
}

/* ---- full header ----------------------------------------------------------------------------- */

int msg_full_hdr_encode(uint8_t *buf, size_t cap, const struct msg_full_hdr *h)
{
	if (cap < MSG_FULL_HDR_LEN)
		return -ENOSPC;
	memset(buf, 0, MSG_FULL_HDR_LEN);
	memcpy(buf, h->src.b, MSG_ADDR_LEN);
	wire_put_be64(buf + 56, h->msg_gn);
	wire_put_be32(buf + 64, h->msg_len);
	wire_put_be32(buf + 68, h->type);
	wire_put_be32(buf + 72, h->uid);
	wire_put_be32(buf + 76, h->gid);
	wire_put_be32(buf + 80, h->perm);
	wire_put_le32(buf + 84, h->tag_hash);
	wire_put_be32(buf + 88, h->hop_cnt);
	for (uint32_t i = 0; i < MSG_HOPS && i <= h->hop_cnt; i++) {
		uint8_t *o = buf + 96 + 32 * i;
		wire_put_be64(o, (uint64_t)h->hops[i].recv_sec);
		wire_put_be64(o + 8, (uint64_t)h->hops[i].recv_nsec);
		wire_put_be64(o + 16, (uint64_t)h->hops[i].send_sec);
		wire_put_be64(o + 24, (uint64_t)h->hops[i].send_nsec);
	}
	return MSG_FULL_HDR_LEN;
}

int msg_full_hdr_decode(const uint8_t *buf, size_t len, struct msg_full_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < MSG_FULL_HDR_LEN)
		return -EPROTO;
	memcpy(h->src.b, buf, MSG_ADDR_LEN);
	h->msg_gn = wire_get_be64(buf + 56);
	h->msg_len = wire_get_be32(buf + 64);
	h->type = wire_get_be32(buf + 68);
	h->uid = wire_get_be32(buf + 72);
	h->gid = wire_get_be32(buf + 76);
	h->perm = wire_get_be32(buf + 80);
	h->tag_hash = wire_get_le32(buf + 84);
	h->hop_cnt = wire_get_be32(buf + 88);
	for (uint32_t i = 0; i < MSG_HOPS && i <= h->hop_cnt; i++) {
		const uint8_t *o = buf + 96 + 32 * i;
		h->hops[i].recv_sec = (int64_t)wire_get_be64(o);
		h->hops[i].recv_nsec = (int64_t)wire_get_be64(o + 8);
		h->hops[i].send_sec = (int64_t)wire_get_be64(o + 16);
		h->hops[i].send_nsec = (int64_t)wire_get_be64(o + 24);
	}
	return 0;
}

/* ---- MSG_SUB / MSG_UNSUB -----------------------------------------------------------------------
 */

int msg_sub_encode(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, const struct msg_sub *s)
{
	size_t mlen, n;
	uint32_t bits;

	if (!s->match || (cmd != LDMS_CMD_MSG_SUB && cmd != LDMS_CMD_MSG_UNSUB))
		return -EINVAL;
	mlen = strlen(s->match) + 1;
	n = LDMS_REQ_HDR_LEN + MSG_SUB_HDR_LEN + mlen;
	if (n > LDMS_MSG_MAX)
		return -ENAMETOOLONG;
	if (cap < n)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, cmd, xid, (uint32_t)n);
	/* upstream stores htobe32(match_len) into a 31-bit field after is_regex */
	bits = (s->is_regex ? 1u : 0u) | ((htonl((uint32_t)mlen) & 0x7fffffffu) << 1);
	wire_put_le32(buf + LDMS_REQ_HDR_LEN, bits);
	wire_put_be64(buf + LDMS_REQ_HDR_LEN + 4, (uint64_t)s->rate);
	memcpy(buf + LDMS_REQ_HDR_LEN + MSG_SUB_HDR_LEN, s->match, mlen);
	return (int)n;
}

int msg_sub_decode(const uint8_t *payload, size_t len, struct msg_sub *s)
{
	memset(s, 0, sizeof(*s));
	if (len < MSG_SUB_HDR_LEN + 1)
		return -EPROTO;
	if (!memchr(payload + MSG_SUB_HDR_LEN, 0, len - MSG_SUB_HDR_LEN))
		return -EPROTO;
	s->is_regex = (int)(wire_get_le32(payload) & 1u);
	s->rate = (int64_t)wire_get_be64(payload + 4);
	s->match = (const char *)payload + MSG_SUB_HDR_LEN;
	return 0;
}

int msg_sub_reply_encode(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
			 const char *text)
{
	size_t tl = strlen(text ? text : "") + 1;
	size_t n = LDMS_REPLY_HDR_LEN + 4 + tl;

	if (n > LDMS_MSG_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	ldms_enc_reply_hdr(buf, cap, cmd, xid, rc, (uint32_t)n);
	wire_put_be32(buf + LDMS_REPLY_HDR_LEN, (uint32_t)tl);
	memcpy(buf + LDMS_REPLY_HDR_LEN + 4, text ? text : "", tl);
	return (int)n;
}

int msg_sub_reply_decode(const uint8_t *payload, size_t len, const char **text, size_t *text_len)
{
	uint32_t n;

	*text = "";
	*text_len = 0;
	if (len < 4)
		return -EPROTO;
	n = wire_get_be32(payload);
	if (n > len - 4)
		return -EPROTO;
	if (n && memchr(payload + 4, 0, n)) {
		*text = (const char *)payload + 4;
		*text_len = strlen(*text);
	}
	return 0;
}

/* ---- SEND_QUOTA
 * ---------------------------------------------------------------------------------- */

int msg_send_quota_encode(uint8_t *buf, size_t cap, uint32_t quota, uint32_t rc)
{
	if (cap < MSG_SEND_QUOTA_LEN)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_SEND_QUOTA, 0, MSG_SEND_QUOTA_LEN);
	wire_put_be32(buf + LDMS_REQ_HDR_LEN, quota);
	wire_put_be32(buf + LDMS_REQ_HDR_LEN + 4, rc);
	return MSG_SEND_QUOTA_LEN;
}

int msg_send_quota_decode(const uint8_t *payload, size_t len, uint32_t *quota, uint32_t *rc)
{
	if (len < 8)
		return -EPROTO;
	*quota = wire_get_be32(payload);
	*rc = wire_get_be32(payload + 4);
	return 0;
}
