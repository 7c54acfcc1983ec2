/* LDMS request/reply codecs and the lookup rendezvous message (ldms-protocol.md
 * §6.4, golden/wire/README.md). Byte orders follow the captures: header cmd/len
 * and payload integers BE, the request xid and the rendezvous len/set_id raw
 * host order (little-endian only, §6.10). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms_proto.h"
#include "zap_wire.h"

#define PRFLNG_MARK	"lu_prflng"
#define PRFLNG_MARK_LEN 10 /* incl. NUL */
#define PRFLNG_LEN	(PRFLNG_MARK_LEN + 32)

static int str_in(const uint8_t *p, size_t len)
{
	return len > 0 && memchr(p, 0, len) != NULL;
}

int ldms_msg_decode(const uint8_t *buf, size_t len, struct ldms_msg *m)
{
	const uint8_t *p;
	uint32_t n, pl;

	memset(m, 0, sizeof(*m));
	if (len < LDMS_REQ_HDR_LEN)
		return -EPROTO;
	m->xid = wire_get_le64(buf);
	m->cmd = wire_get_be32(buf + 8);
	m->len = wire_get_be32(buf + 12);
	if (m->len != len)
		return -EPROTO;
	if (m->cmd >= LDMS_CMD_REPLY) {
		if (len < LDMS_REPLY_HDR_LEN)
			return -EPROTO;
		m->is_reply = 1;
		m->rc = wire_get_be32(buf + 16);
		p = buf + LDMS_REPLY_HDR_LEN;
	} else {
		p = buf + LDMS_REQ_HDR_LEN;
	}
	pl = (uint32_t)(len - (size_t)(p - buf));
	m->payload = p;
	m->payload_len = pl;
	switch (m->cmd) {
	case LDMS_CMD_DIR:
		if (pl < 4)
			return -EPROTO;
		m->u.dir.flags = wire_get_be32(p);
		break;
	case LDMS_CMD_LOOKUP:
		if (pl < 8)
			return -EPROTO;
		m->u.lookup.flags = wire_get_be32(p);
		n = wire_get_be32(p + 4);
		if (n == 0 || n > LDMS_LOOKUP_PATH_MAX || n > pl - 8 || !str_in(p + 8, n))
			return -EPROTO;
		m->u.lookup.path = (const char *)(p + 8);
		break;
	case LDMS_CMD_SEND_MSG:
	case LDMS_CMD_AUTH_MSG:
		if (pl < 4)
			return -EPROTO;
		n = wire_get_be32(p);
		if (n > pl - 4)
			return -EPROTO;
		m->u.send.data = p + 4;
		m->u.send.len = n;
		break;
	case LDMS_CMD_SET_DELETE:
		if (pl < 4)
			return -EPROTO;
		n = wire_get_be32(p);
		if (n == 0 || n > pl - 4 || !str_in(p + 4, n))
			return -EPROTO;
		m->u.set_delete.name = (const char *)(p + 4);
		break;
	case LDMS_CMD_DIR_REPLY:
	case LDMS_CMD_DIR_UPDATE_REPLY:
		if (pl < 12) {
			if (m->rc && pl == 0)
				break; /* error reply without body */
			return -EPROTO;
		}
		m->u.dir_reply.type = wire_get_be32(p);
		m->u.dir_reply.more = wire_get_be32(p + 4);
		n = wire_get_be32(p + 8);
		if (n > pl - 12)
			return -EPROTO;
		m->u.dir_reply.json = (const char *)(p + 12);
		m->u.dir_reply.json_len = n;
		break;
	case LDMS_CMD_SET_DELETE_REPLY:
		if (pl >= 16) {
			m->u.set_delete_reply.sec = (int64_t)wire_get_be64(p);
			m->u.set_delete_reply.nsec = (int64_t)wire_get_be64(p + 8);
		}
		break;
	default:
		break;
	}
	return 0;
}

int ldms_enc_req_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t len)
{
	if (cap < LDMS_REQ_HDR_LEN || len < LDMS_REQ_HDR_LEN)
		return -ENOSPC;
	wire_put_le64(buf, xid);
	wire_put_be32(buf + 8, cmd);
	wire_put_be32(buf + 12, len);
	return LDMS_REQ_HDR_LEN;
}

int ldms_enc_reply_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
		       uint32_t len)
{
	if (cap < LDMS_REPLY_HDR_LEN || len < LDMS_REPLY_HDR_LEN)
		return -ENOSPC;
	wire_put_le64(buf, xid);
	wire_put_be32(buf + 8, cmd);
	wire_put_be32(buf + 12, len);
	wire_put_be32(buf + 16, rc);
	return LDMS_REPLY_HDR_LEN;
}

int ldms_enc_dir(uint8_t *buf, size_t cap, uint64_t xid, uint32_t flags)
{
	if (cap < LDMS_REQ_HDR_LEN + 4)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_DIR, xid, LDMS_REQ_HDR_LEN + 4);
	wire_put_be32(buf + 16, flags);
	return LDMS_REQ_HDR_LEN + 4;
}

int ldms_enc_dir_cancel(uint8_t *buf, size_t cap, uint64_t xid)
{
	return ldms_enc_req_hdr(buf, cap, LDMS_CMD_DIR_CANCEL, xid, LDMS_REQ_HDR_LEN);
}

int ldms_enc_lookup(uint8_t *buf, size_t cap, uint64_t xid, uint32_t flags, const char *path)
{
	size_t n = strlen(path) + 1;
	size_t len = LDMS_REQ_HDR_LEN + 8 + n;

	if (n > LDMS_LOOKUP_PATH_MAX)
		return -ENAMETOOLONG;
	if (cap < len)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_LOOKUP, xid, (uint32_t)len);
	wire_put_be32(buf + 16, flags);
	wire_put_be32(buf + 20, (uint32_t)n);
	memcpy(buf + 24, path, n);
	return (int)len;
}

int ldms_enc_send(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, const void *data,
		  uint32_t dlen)
{
	size_t len = (size_t)LDMS_REQ_HDR_LEN + 4 + dlen;

	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, cmd, xid, (uint32_t)len);
	wire_put_be32(buf + 16, dlen);
	if (dlen)
		memcpy(buf + 20, data, dlen);
	return (int)len;
}

int ldms_enc_set_delete(uint8_t *buf, size_t cap, uint64_t xid, const char *name)
{
	size_t n = strlen(name) + 1;
	size_t len = LDMS_REQ_HDR_LEN + 4 + n;

	if (len > LDMS_MSG_MAX)
		return -ENAMETOOLONG;
	if (cap < len)
		return -ENOSPC;
	ldms_enc_req_hdr(buf, cap, LDMS_CMD_SET_DELETE, xid, (uint32_t)len);
	wire_put_be32(buf + 16, (uint32_t)n);
	memcpy(buf + 20, name, n);
	return (int)len;
}

int ldms_enc_dir_reply_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
			   uint32_t type, uint32_t more, uint32_t json_len)
{
	size_t len = (size_t)LDMS_DIR_REPLY_HDR + json_len;

	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < LDMS_DIR_REPLY_HDR)
		return -ENOSPC;
	ldms_enc_reply_hdr(buf, cap, cmd, xid, rc, (uint32_t)len);
	wire_put_be32(buf + 20, type);
	wire_put_be32(buf + 24, more);
	wire_put_be32(buf + 28, json_len);
	return LDMS_DIR_REPLY_HDR;
}

int ldms_enc_dir_reply(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
		       uint32_t type, uint32_t more, const char *json, uint32_t json_len)
{
	size_t len = (size_t)LDMS_DIR_REPLY_HDR + json_len;
	int n;

	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOSPC;
	n = ldms_enc_dir_reply_hdr(buf, cap, cmd, xid, rc, type, more, json_len);
	if (n < 0)
		return n;
	if (json_len)
		memcpy(buf + LDMS_DIR_REPLY_HDR, json, json_len);
	return (int)len;
}

int ldms_enc_set_delete_reply(uint8_t *buf, size_t cap, uint64_t xid, uint32_t rc, int64_t sec,
			      int64_t nsec)
{
	size_t len = LDMS_REPLY_HDR_LEN + 16;

	if (cap < len)
		return -ENOSPC;
	ldms_enc_reply_hdr(buf, cap, LDMS_CMD_SET_DELETE_REPLY, xid, rc, (uint32_t)len);
	wire_put_be64(buf + 20, (uint64_t)sec);
	wire_put_be64(buf + 28, (uint64_t)nsec);
	return (int)len;
}

int ldms_enc_simple_reply(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc)
{
	return ldms_enc_reply_hdr(buf, cap, cmd, xid, rc, LDMS_REPLY_HDR_LEN);
}

/* ---- lookup rendezvous ------------------------------------------------------------ */

/* ldms_name length bytes: schema entries reserve room for NUL + digest + NUL. */
static size_t rdv_schema_entry(const char *schema)
{
	return strlen(schema) + 1 + 32 + 1;
}

size_t ldms_rdv_lookup_size(const struct ldms_rdv_lookup *r)
{
	size_t len = LDMS_RDV_HDR_LEN;
	size_t i;

	len += 1 + rdv_schema_entry(r->schema);
	len += 1 + strlen(r->instance) + 1;
	for (i = 0; i < r->info_count; i++)
		len += 2 + strlen(r->keys[i]) + 1 + strlen(r->values[i]) + 1;
	len += 1;
	if (r->has_prflng)
		len += PRFLNG_LEN;
	return len;
}

static uint8_t *rdv_put_name(uint8_t *p, const char *s)
{
	size_t n = strlen(s) + 1;

	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

int ldms_rdv_lookup_encode(uint8_t *buf, size_t cap, const struct ldms_rdv_lookup *r)
{
	size_t len, n, i;
	uint8_t *p;

	if (rdv_schema_entry(r->schema) > 255 || strlen(r->instance) + 1 > 255)
		return -ENAMETOOLONG;
	for (i = 0; i < r->info_count; i++)
		if (strlen(r->keys[i]) + 1 > 255 || strlen(r->values[i]) + 1 > 255)
			return -ENAMETOOLONG;
	len = ldms_rdv_lookup_size(r);
	if (len > LDMS_MSG_MAX)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOSPC;
	wire_put_le64(buf, r->xid);
	wire_put_be32(buf + 8, LDMS_RDV_LOOKUP);
	wire_put_le32(buf + 12, (uint32_t)len);
	wire_put_le64(buf + 16, r->set_id);
	wire_put_be32(buf + 24, r->more);
	wire_put_be32(buf + 28, r->meta_len);
	wire_put_be32(buf + 32, r->data_len);
	wire_put_be32(buf + 36, r->card);
	wire_put_be32(buf + 40, 0); /* schema_len: unused */
	wire_put_be32(buf + 44, r->array_card);
	p = buf + LDMS_RDV_HDR_LEN;
	n = rdv_schema_entry(r->schema);
	*p++ = (uint8_t)n;
	memset(p, 0, n);
	memcpy(p, r->schema, strlen(r->schema));
	p += n;
	p = rdv_put_name(p, r->instance);
	for (i = 0; i < r->info_count; i++) {
		p = rdv_put_name(p, r->keys[i]);
		p = rdv_put_name(p, r->values[i]);
	}
	*p++ = 0;
	if (r->has_prflng) {
		memcpy(p, PRFLNG_MARK, PRFLNG_MARK_LEN);
		p += PRFLNG_MARK_LEN;
		wire_put_le64(p, (uint64_t)r->req_recv_sec);
		wire_put_le64(p + 8, (uint64_t)r->req_recv_nsec);
		wire_put_le64(p + 16, (uint64_t)r->share_sec);
		wire_put_le64(p + 24, (uint64_t)r->share_nsec);
		p += 32;
	}
	return (int)(p - buf);
}

/* Reads one ldms_name at *off; returns its string (or NULL for the zero
 * terminator) and advances *off, -EPROTO via *err on a bad entry. */
static const char *rdv_get_name(const uint8_t *buf, size_t len, size_t *off, int *err)
{
	size_t n;

	if (*off >= len) { /* tolerate a missing terminator at the very end */
		return NULL;
	}
	n = buf[*off];
	if (n == 0) {
		(*off)++;
		return NULL;
	}
	if (n > len - *off - 1 || !str_in(buf + *off + 1, n)) {
		*err = -EPROTO;
		return NULL;
	}
	*off += 1 + n;
	return (const char *)(buf + *off - n);
}

int ldms_rdv_lookup_decode(const uint8_t *buf, size_t len, struct ldms_rdv_lookup *r)
{
	size_t off, save, count = 0, i;
	const char *k, *v;
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (len < LDMS_RDV_HDR_LEN)
		return -EPROTO;
	r->xid = wire_get_le64(buf);
	if (wire_get_be32(buf + 8) != LDMS_RDV_LOOKUP || wire_get_le32(buf + 12) != len)
		return -EPROTO;
	r->set_id = wire_get_le64(buf + 16);
	r->more = wire_get_be32(buf + 24);
	r->meta_len = wire_get_be32(buf + 28);
	r->data_len = wire_get_be32(buf + 32);
	r->card = wire_get_be32(buf + 36);
	r->array_card = wire_get_be32(buf + 44);
	off = LDMS_RDV_HDR_LEN;
	r->schema = rdv_get_name(buf, len, &off, &err);
	if (err || !r->schema)
		return -EPROTO;
	r->instance = rdv_get_name(buf, len, &off, &err);
	if (err || !r->instance)
		return -EPROTO;
	save = off;
	for (;;) { /* count pairs first */
		k = rdv_get_name(buf, len, &off, &err);
		if (err)
			return -EPROTO;
		if (!k)
			break;
		v = rdv_get_name(buf, len, &off, &err);
		if (err || !v)
			return -EPROTO;
		count++;
	}
	if (len - off >= PRFLNG_LEN && memcmp(buf + off, PRFLNG_MARK, PRFLNG_MARK_LEN) == 0) {
		const uint8_t *p = buf + off + PRFLNG_MARK_LEN;

		r->has_prflng = 1;
		r->req_recv_sec = (int64_t)wire_get_le64(p);
		r->req_recv_nsec = (int64_t)wire_get_le64(p + 8);
		r->share_sec = (int64_t)wire_get_le64(p + 16);
		r->share_nsec = (int64_t)wire_get_le64(p + 24);
	}
	if (!count)
		return 0;
	r->keys = calloc(count, sizeof(*r->keys));
	r->values = calloc(count, sizeof(*r->values));
	if (!r->keys || !r->values) {
		ldms_rdv_lookup_release(r);
		return -ENOMEM;
	}
	off = save;
	for (i = 0; i < count; i++) {
		r->keys[i] = rdv_get_name(buf, len, &off, &err);
		r->values[i] = rdv_get_name(buf, len, &off, &err);
	}
	r->info_count = count;
	return 0;
}

void ldms_rdv_lookup_release(struct ldms_rdv_lookup *r)
{
	free(r->keys);
	free(r->values);
	r->keys = NULL;
	r->values = NULL;
	r->info_count = 0;
}
