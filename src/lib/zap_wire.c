/* zap sock frame codec and the LDMS connection message (ldms-protocol.md §6.1-6.2).
 * Every field is encoded explicitly with its byte order; decoders check every
 * length against the buffer and the per-type layout, and answer -EPROTO on any
 * inconsistency so that the transport can drop just that connection. */
#include <errno.h>
#include <string.h>

#include "zap_wire.h"

static const uint8_t zap_sig[8] = {'S', 'O', 'C', 'K', 'E', 'T', 0, 0};
static const uint8_t zap_version[4] = {1, 3, 1, 0};
static const uint8_t ldms_version[4] = {4, 2, 0, 0};

uint32_t zap_frame_max(uint16_t type)
{
	if (type == ZAP_MSG_READ_RESP || type == ZAP_MSG_WRITE_REQ)
		return ZAP_MAX_READ_FRAME;
	return ZAP_MAX_FRAME;
}

static uint32_t zap_frame_min(uint16_t type)
{
	switch (type) {
	case ZAP_MSG_CONNECT:
		return ZAP_CONNECT_HDR;
	case ZAP_MSG_RENDEZVOUS:
		return ZAP_RENDEZVOUS_HDR;
	case ZAP_MSG_READ_REQ:
	case ZAP_MSG_READ_RESP:
	case ZAP_MSG_WRITE_REQ:
	case ZAP_MSG_WRITE_RESP:
		return ZAP_READ_REQ_LEN;
	default:
		return ZAP_SENDRECV_HDR;
	}
}

int zap_hdr_decode(const uint8_t *buf, size_t len, struct zap_hdr *h)
{
	if (len < ZAP_HDR_LEN)
		return -EAGAIN;
	h->type = wire_get_be16(buf);
	h->len = wire_get_be32(buf + 4);
	h->xid = wire_get_le32(buf + 8);
	h->ctxt = wire_get_le64(buf + 12);
	if (wire_get_be16(buf + 2) != 0)
		return -EPROTO;
	if (h->type < ZAP_MSG_CONNECT || h->type > ZAP_MSG_ACK_ACCEPTED)
		return -EPROTO;
	if (h->len < zap_frame_min(h->type) || h->len > zap_frame_max(h->type))
		return -EPROTO;
	return 0;
}

int zap_read_resp_hdr_decode(const uint8_t *buf, size_t len, struct zap_frame *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rc = zap_hdr_decode(buf, len, &f->hdr);
	if (rc)
		return rc == -EAGAIN ? -EPROTO : rc;
	if (f->hdr.type != ZAP_MSG_READ_RESP || len < ZAP_READ_RESP_HDR)
		return -EPROTO;
	f->status = wire_get_be16(buf + 20);
	f->addr = wire_get_le64(buf + 24);
	f->data_len = wire_get_be32(buf + 32);
	if ((uint64_t)f->data_len + ZAP_READ_RESP_HDR != f->hdr.len)
		return -EPROTO;
	return 0;
}

int zap_frame_decode(const uint8_t *buf, size_t len, struct zap_frame *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rc = zap_hdr_decode(buf, len, &f->hdr);
	if (rc)
		return rc == -EAGAIN ? -EPROTO : rc;
	if (f->hdr.len != len)
		return -EPROTO;
	switch (f->hdr.type) {
	case ZAP_MSG_CONNECT:
		memcpy(f->version, buf + 20, 4);
		memcpy(f->sig, buf + 24, 8);
		f->data_len = wire_get_be32(buf + 32);
		f->data = buf + ZAP_CONNECT_HDR;
		if ((uint64_t)f->data_len + ZAP_CONNECT_HDR != len)
			return -EPROTO;
		return 0;
	case ZAP_MSG_SENDRECV:
	case ZAP_MSG_ACCEPTED:
	case ZAP_MSG_REJECTED:
	case ZAP_MSG_ACK_ACCEPTED:
		f->data_len = wire_get_be32(buf + 20);
		f->data = buf + ZAP_SENDRECV_HDR;
		if ((uint64_t)f->data_len + ZAP_SENDRECV_HDR != len)
			return -EPROTO;
		return 0;
	case ZAP_MSG_RENDEZVOUS:
		f->map_key = wire_get_le32(buf + 20);
		f->acc = wire_get_be32(buf + 24);
		f->addr = wire_get_be64(buf + 28);
		f->read_len = wire_get_be32(buf + 36);
		f->data = buf + ZAP_RENDEZVOUS_HDR;
		f->data_len = (uint32_t)(len - ZAP_RENDEZVOUS_HDR);
		return 0;
	case ZAP_MSG_READ_REQ:
		if (len != ZAP_READ_REQ_LEN)
			return -EPROTO;
		f->map_key = wire_get_le32(buf + 20);
		f->addr = wire_get_be64(buf + 24);
		f->read_len = wire_get_be32(buf + 32);
		return 0;
	case ZAP_MSG_READ_RESP:
		rc = zap_read_resp_hdr_decode(buf, len, f);
		if (rc)
			return rc;
		f->data = buf + ZAP_READ_RESP_HDR;
		return 0;
	default: /* WRITE_REQ/WRITE_RESP are not used by LDMS over sock */
		return -EPROTO;
	}
}

void zap_hdr_encode(uint8_t *buf, uint16_t type, uint32_t len, uint32_t xid, uint64_t ctxt)
{
	wire_put_be16(buf, type);
	wire_put_be16(buf + 2, 0);
	wire_put_be32(buf + 4, len);
	wire_put_le32(buf + 8, xid);
	wire_put_le64(buf + 12, ctxt);
}

int zap_encode_data(uint8_t *buf, size_t cap, uint16_t type, uint32_t xid, const void *data,
		    uint32_t data_len)
{
	size_t len = (size_t)ZAP_SENDRECV_HDR + data_len;

	if (len > cap || len > ZAP_MAX_FRAME)
		return -ENOSPC;
	zap_hdr_encode(buf, type, (uint32_t)len, xid, 0);
	wire_put_be32(buf + 20, data_len);
	if (data_len)
		memcpy(buf + ZAP_SENDRECV_HDR, data, data_len);
	return (int)len;
}

int zap_encode_connect(uint8_t *buf, size_t cap, uint32_t xid, const void *data, uint32_t data_len)
{
	size_t len = (size_t)ZAP_CONNECT_HDR + data_len;

	if (len > cap || len > ZAP_MAX_FRAME)
		return -ENOSPC;
	zap_hdr_encode(buf, ZAP_MSG_CONNECT, (uint32_t)len, xid, 0);
	memcpy(buf + 20, zap_version, 4);
	memcpy(buf + 24, zap_sig, 8);
	wire_put_be32(buf + 32, data_len);
	if (data_len)
		memcpy(buf + ZAP_CONNECT_HDR, data, data_len);
	return (int)len;
}

int zap_encode_rendezvous_hdr(uint8_t *buf, size_t cap, uint32_t xid, uint32_t map_key,
			      uint32_t acc, uint64_t addr, uint32_t map_len, uint32_t msg_len)
{
	size_t len = (size_t)ZAP_RENDEZVOUS_HDR + msg_len;

	if (cap < ZAP_RENDEZVOUS_HDR || len > ZAP_MAX_FRAME)
		return -ENOSPC;
	zap_hdr_encode(buf, ZAP_MSG_RENDEZVOUS, (uint32_t)len, xid, 0);
	wire_put_le32(buf + 20, map_key);
	wire_put_be32(buf + 24, acc);
	wire_put_be64(buf + 28, addr);
	wire_put_be32(buf + 36, map_len);
	return ZAP_RENDEZVOUS_HDR;
}

int zap_encode_rendezvous(uint8_t *buf, size_t cap, uint32_t xid, uint32_t map_key, uint32_t acc,
			  uint64_t addr, uint32_t map_len, const void *msg, uint32_t msg_len)
{
	size_t len = (size_t)ZAP_RENDEZVOUS_HDR + msg_len;

	if (len > cap || len > ZAP_MAX_FRAME)
		return -ENOSPC;
	zap_encode_rendezvous_hdr(buf, cap, xid, map_key, acc, addr, map_len, msg_len);
	if (msg_len)
		memcpy(buf + ZAP_RENDEZVOUS_HDR, msg, msg_len);
	return (int)len;
}

int zap_encode_read_req(uint8_t *buf, size_t cap, uint32_t xid, uint64_t ctxt, uint32_t map_key,
			uint64_t src_ptr, uint32_t len)
{
	if (cap < ZAP_READ_REQ_LEN)
		return -ENOSPC;
	zap_hdr_encode(buf, ZAP_MSG_READ_REQ, ZAP_READ_REQ_LEN, xid, ctxt);
	wire_put_le32(buf + 20, map_key);
	wire_put_be64(buf + 24, src_ptr);
	wire_put_be32(buf + 32, len);
	return ZAP_READ_REQ_LEN;
}

int zap_encode_read_resp_hdr(uint8_t *buf, size_t cap, uint32_t xid, uint64_t ctxt, uint16_t status,
			     uint32_t data_len)
{
	if (cap < ZAP_READ_RESP_HDR || (uint64_t)data_len + ZAP_READ_RESP_HDR > ZAP_MAX_READ_FRAME)
		return -ENOSPC;
	zap_hdr_encode(buf, ZAP_MSG_READ_RESP, ZAP_READ_RESP_HDR + data_len, xid, ctxt);
	wire_put_be16(buf + 20, status);
	wire_put_be16(buf + 22, 0);
	wire_put_le64(buf + 24, 0);
	wire_put_be32(buf + 32, data_len);
	return ZAP_READ_RESP_HDR;
}

int zap_version_ok(const uint8_t version[4])
{
	return version[0] == zap_version[0] && version[1] == zap_version[1];
}

int zap_sig_ok(const uint8_t sig[8])
{
	return memcmp(sig, zap_sig, sizeof(zap_sig)) == 0;
}

/* ---- LDMS conn msg ----------------------------------------------------------- */

int ldms_conn_version_ok(const uint8_t version[4])
{
	return memcmp(version, ldms_version, 4) == 0;
}

void ldms_conn_msg_init(struct ldms_conn_msg *m, const char *auth_name, int is_rail)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->version, ldms_version, 4);
	if (auth_name) {
		size_t n = strnlen(auth_name, 16);
		memcpy(m->auth_name, auth_name, n);
	}
	m->is_rail = is_rail;
	m->conn_type = LDMS_CONN_TYPE_RAIL;
	m->rate_limit = -1;
	m->recv_quota = -1;
	m->n_eps = 1;
}

int ldms_conn_msg_decode(const uint8_t *buf, size_t len, struct ldms_conn_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < LDMS_CONN_MSG_LEGACY_LEN)
		return -EPROTO;
	memcpy(m->version, buf, 4);
	memcpy(m->auth_name, buf + 4, 16);
	m->auth_name[16] = 0;
	if (len < LDMS_CONN_MSG_RAIL_LEN)
		return 0;
	m->is_rail = 1;
	m->conn_type = wire_get_be32(buf + 20);
	m->rate_limit = (int64_t)wire_get_be64(buf + 24);
	m->recv_quota = (int64_t)wire_get_be64(buf + 32);
	m->n_eps = wire_get_be32(buf + 40);
	m->idx = wire_get_be32(buf + 44);
	m->pid = wire_get_be32(buf + 48);
	m->rail_gn = wire_get_be64(buf + 52);
	m->msg_enabled = wire_get_be32(buf + 60);
	return 0;
}

int ldms_conn_msg_encode(uint8_t *buf, size_t cap, const struct ldms_conn_msg *m)
{
	size_t len = m->is_rail ? LDMS_CONN_MSG_RAIL_LEN : LDMS_CONN_MSG_LEGACY_LEN;
	size_t n = strnlen(m->auth_name, sizeof(m->auth_name));

	if (n > 15)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	memcpy(buf, m->version, 4);
	memcpy(buf + 4, m->auth_name, n);
	if (!m->is_rail)
		return (int)len;
	wire_put_be32(buf + 20, m->conn_type);
	wire_put_be64(buf + 24, (uint64_t)m->rate_limit);
	wire_put_be64(buf + 32, (uint64_t)m->recv_quota);
	wire_put_be32(buf + 40, m->n_eps);
	wire_put_be32(buf + 44, m->idx);
	wire_put_be32(buf + 48, m->pid);
	wire_put_be64(buf + 52, m->rail_gn);
	wire_put_be32(buf + 60, m->msg_enabled);
	return (int)len;
}
