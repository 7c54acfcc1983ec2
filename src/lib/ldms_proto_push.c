/* Codecs of the push messages (RENDEZVOUS type push, PUSH_REPLY, CANCEL_PUSH).
 * Byte orders follow upstream's structs: set ids are opaque and travel raw (host
 * order, little-endian on every supported host), every other integer is BE. No
 * capture of push exists; the layout is documented in docs/push.md. */
#include <errno.h>
#include <string.h>

#include "ldms_proto_push.h"
#include "zap_wire.h"

int ldms_push_rdv_encode(uint8_t *buf, size_t cap, const struct ldms_push_rdv *r)
{
	if (cap < LDMS_PUSH_RDV_LEN)
		return -ENOSPC;
	wire_put_le64(buf, r->xid);
	wire_put_be32(buf + 8, LDMS_RDV_PUSH);
	wire_put_be32(buf + 12, LDMS_PUSH_RDV_LEN);
	wire_put_le64(buf + 16, r->lookup_set_id);
	wire_put_le64(buf + 24, r->push_set_id);
	wire_put_be32(buf + 32, r->flags);
	return LDMS_PUSH_RDV_LEN;
}

int ldms_push_rdv_decode(const uint8_t *buf, size_t len, struct ldms_push_rdv *r)
{
	memset(r, 0, sizeof(*r));
	if (len < LDMS_PUSH_RDV_LEN || wire_get_be32(buf + 8) != LDMS_RDV_PUSH)
		return -EPROTO;
	r->xid = wire_get_le64(buf);
	r->lookup_set_id = wire_get_le64(buf + 16);
	r->push_set_id = wire_get_le64(buf + 24);
	r->flags = wire_get_be32(buf + 32);
	return 0;
}

int ldms_push_reply_hdr_encode(uint8_t *buf, size_t cap, const struct ldms_push_reply *r)
{
	size_t len = (size_t)LDMS_PUSH_REPLY_HDR_LEN + r->data_len;

	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < LDMS_PUSH_REPLY_HDR_LEN)
		return -ENOSPC;
	ldms_enc_reply_hdr(buf, cap, LDMS_CMD_PUSH_REPLY, 0, 0, (uint32_t)len);
	wire_put_le64(buf + 20, r->set_id);
	wire_put_be32(buf + 28, r->flags);
	wire_put_be32(buf + 32, r->data_off);
	wire_put_be32(buf + 36, r->data_len);
	return LDMS_PUSH_REPLY_HDR_LEN;
}

int ldms_push_reply_encode(uint8_t *buf, size_t cap, const struct ldms_push_reply *r)
{
	size_t len = (size_t)LDMS_PUSH_REPLY_HDR_LEN + r->data_len;
	int n;

	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOSPC;
	n = ldms_push_reply_hdr_encode(buf, cap, r);
	if (n < 0)
		return n;
	if (r->data_len)
		memcpy(buf + LDMS_PUSH_REPLY_HDR_LEN, r->data, r->data_len);
	return (int)len;
}

int ldms_push_reply_from_msg(const struct ldms_msg *m, struct ldms_push_reply *r)
{
	const uint8_t *p = m->payload;

	memset(r, 0, sizeof(*r));
	if (m->cmd != LDMS_CMD_PUSH_REPLY || m->payload_len < LDMS_PUSH_REPLY_HDR_LEN - 20)
		return -EPROTO;
	r->set_id = wire_get_le64(p);
	r->flags = wire_get_be32(p + 8);
	r->data_off = wire_get_be32(p + 12);
	r->data_len = wire_get_be32(p + 16);
	if (r->data_len != m->payload_len - (LDMS_PUSH_REPLY_HDR_LEN - 20))
		return -EPROTO;
	r->data = p + 20;
	return 0;
}

int ldms_push_reply_decode(const uint8_t *buf, size_t len, struct ldms_push_reply *r)
{
	struct ldms_msg m;

	memset(r, 0, sizeof(*r));
	if (ldms_msg_decode(buf, len, &m))
		return -EPROTO;
	return ldms_push_reply_from_msg(&m, r);
}

int ldms_cancel_push_encode(uint8_t *buf, size_t cap, uint64_t set_id)
{
	if (cap < LDMS_CANCEL_PUSH_LEN)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_CANCEL_PUSH, 0, LDMS_CANCEL_PUSH_LEN);
	wire_put_le64(buf + 16, set_id);
	return LDMS_CANCEL_PUSH_LEN;
}

int ldms_cancel_push_from_msg(const struct ldms_msg *m, uint64_t *set_id)
{
	if (m->cmd != LDMS_CMD_CANCEL_PUSH || m->payload_len < 8)
		return -EPROTO;
	*set_id = wire_get_le64(m->payload);
	return 0;
}

int ldms_cancel_push_decode(const uint8_t *buf, size_t len, uint64_t *set_id)
{
	struct ldms_msg m;

	if (ldms_msg_decode(buf, len, &m))
		return -EPROTO;
	return ldms_cancel_push_from_msg(&m, set_id);
}
