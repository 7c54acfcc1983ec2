/* ldmsd_request record codec (ldms-protocol.md §6.6.1-6.6.3): message builder,
 * encoder that splits the attribute stream into records of a bounded size, and a
 * per-connection reassembler that joins the records of one msg_no and validates the
 * whole attribute list before handing it out. Every field is encoded explicitly BE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_ctrl.h"

#define DEFAULT_MAX_MSG (64u << 20)
/* With the default budget, requests (type CMD) are held to a smaller one: a
 * command is a configuration line, while replies (status JSON of a large
 * daemon) may legitimately be big. A server thus holds at most this much for
 * an unauthenticated-cost peer that never finishes its messages. */
#define DEFAULT_MAX_CMD (8u << 20)
#define MAX_PENDING	256u

struct ldms_ctrl_msg {
	uint32_t type;
	uint32_t msg_no;
	uint32_t id; /* req_id or rsp_err */
	size_t nattr, acap;
	struct ldms_ctrl_attr *attrs;
	size_t *voff; /* value offsets into buf (attrs[i].value is rebased on growth) */
	char *buf;
	size_t blen, bcap;
};

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ldms_ctrl_rec_hdr_encode(void *buf, const struct ldms_ctrl_rec_hdr *h)
{
	uint8_t *p = buf;
	put_be32(p, h->marker);
	put_be32(p + 4, h->type);
	put_be32(p + 8, h->flags);
	put_be32(p + 12, h->msg_no);
	put_be32(p + 16, h->id);
	put_be32(p + 20, h->rec_len);
}

int ldms_ctrl_rec_hdr_decode(const void *buf, size_t len, struct ldms_ctrl_rec_hdr *h)
{
	const uint8_t *p = buf;
	memset(h, 0, sizeof(*h));
	if (!buf || len < LDMS_CTRL_REC_HDR_LEN)
		return -EINVAL;
	h->marker = get_be32(p);
	h->type = get_be32(p + 4);
	h->flags = get_be32(p + 8);
	h->msg_no = get_be32(p + 12);
	h->id = get_be32(p + 16);
	h->rec_len = get_be32(p + 20);
	if (h->marker != LDMS_CTRL_MARKER) {
		h->marker = 0; /* tell callers the header is unusable */
		return -EINVAL;
	}
	if (h->type != LDMS_CTRL_TYPE_CMD && h->type != LDMS_CTRL_TYPE_RSP)
		return -EINVAL;
	if (h->rec_len < LDMS_CTRL_REC_HDR_LEN || h->rec_len > len)
		return -EINVAL;
	return 0;
}

/* ---- message object ------------------------------------------------------------ */

static struct ldms_ctrl_msg *msg_new(uint32_t type, uint32_t msg_no, uint32_t id)
{
	struct ldms_ctrl_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->type = type;
	m->msg_no = msg_no;
	m->id = id;
	return m;
}

struct ldms_ctrl_msg *ldms_ctrl_req_new(uint32_t req_id)
{
	return msg_new(LDMS_CTRL_TYPE_CMD, 0, req_id);
}

struct ldms_ctrl_msg *ldms_ctrl_rsp_new(uint32_t msg_no, uint32_t rsp_err)
{
	return msg_new(LDMS_CTRL_TYPE_RSP, msg_no, rsp_err);
}

void ldms_ctrl_msg_free(struct ldms_ctrl_msg *m)
{
	if (!m)
		return;
	free(m->attrs);
	free(m->voff);
	free(m->buf);
	free(m);
}

void ldms_ctrl_msg_set_msg_no(struct ldms_ctrl_msg *m, uint32_t msg_no)
{
	m->msg_no = msg_no;
}

void ldms_ctrl_msg_set_rsp_err(struct ldms_ctrl_msg *m, uint32_t rsp_err)
{
	if (m->type == LDMS_CTRL_TYPE_RSP)
		m->id = rsp_err;
}

/* Append one attribute; the value is stored followed by an extra NUL so that
 * string accessors never read past it. */
static int msg_attr_push(struct ldms_ctrl_msg *m, uint32_t id, const void *val, size_t len)
{
	if (len > UINT32_MAX - LDMS_CTRL_ATTR_HDR_LEN)
		return -E2BIG;
	if (m->nattr == m->acap) {
		size_t ncap = m->acap ? m->acap * 2 : 8;
		struct ldms_ctrl_attr *na = realloc(m->attrs, ncap * sizeof(*na));
		if (!na)
			return -ENOMEM;
		m->attrs = na;
		size_t *no = realloc(m->voff, ncap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		m->voff = no;
		m->acap = ncap;
	}
	if (m->blen + len + 1 > m->bcap) {
		size_t ncap = m->bcap ? m->bcap : 64;
		while (ncap < m->blen + len + 1)
			ncap *= 2;
		char *nb = realloc(m->buf, ncap);
		if (!nb)
			return -ENOMEM;
		m->buf = nb;
		m->bcap = ncap;
		for (size_t i = 0; i < m->nattr; i++)
			m->attrs[i].value = m->buf + m->voff[i];
	}
	if (len)
		memcpy(m->buf + m->blen, val, len);
	m->buf[m->blen + len] = '\0';
	m->voff[m->nattr] = m->blen;
	m->attrs[m->nattr].id = id;
	m->attrs[m->nattr].len = (uint32_t)len;
	m->attrs[m->nattr].value = m->buf + m->blen;
	m->blen += len + 1;
	m->nattr++;
	return 0;
}

int ldms_ctrl_req_attr_add(struct ldms_ctrl_msg *m, uint32_t attr_id, const char *value)
{
	if (!m)
		return -EINVAL;
	if (!value)
		return msg_attr_push(m, attr_id, NULL, 0);
	return msg_attr_push(m, attr_id, value, strlen(value) + 1);
}

int ldms_ctrl_attr_add_bin(struct ldms_ctrl_msg *m, uint32_t attr_id, const void *value, size_t len)
{
	if (!m || (len && !value))
		return -EINVAL;
	return msg_attr_push(m, attr_id, value, len);
}

int ldms_ctrl_attr_add_u32(struct ldms_ctrl_msg *m, uint32_t attr_id, uint32_t v)
{
	uint8_t b[4];
	if (!m)
		return -EINVAL;
	put_be32(b, v);
	return msg_attr_push(m, attr_id, b, 4);
}

uint32_t ldms_ctrl_msg_type(const struct ldms_ctrl_msg *m)
{
	return m->type;
}

uint32_t ldms_ctrl_msg_no(const struct ldms_ctrl_msg *m)
{
	return m->msg_no;
}

uint32_t ldms_ctrl_msg_req_id(const struct ldms_ctrl_msg *m)
{
	return m->type == LDMS_CTRL_TYPE_CMD ? m->id : 0;
}

uint32_t ldms_ctrl_msg_rsp_err(const struct ldms_ctrl_msg *m)
{
	return m->type == LDMS_CTRL_TYPE_RSP ? m->id : 0;
}

size_t ldms_ctrl_msg_attr_count(const struct ldms_ctrl_msg *m)
{
	return m->nattr;
}

const struct ldms_ctrl_attr *ldms_ctrl_msg_attr_at(const struct ldms_ctrl_msg *m, size_t idx)
{
	return idx < m->nattr ? &m->attrs[idx] : NULL;
}

const struct ldms_ctrl_attr *ldms_ctrl_msg_attr_find(const struct ldms_ctrl_msg *m,
						     uint32_t attr_id)
{
	for (size_t i = 0; i < m->nattr; i++)
		if (m->attrs[i].id == attr_id)
			return &m->attrs[i];
	return NULL;
}

const char *ldms_ctrl_msg_attr_str(const struct ldms_ctrl_msg *m, uint32_t attr_id)
{
	const struct ldms_ctrl_attr *a = ldms_ctrl_msg_attr_find(m, attr_id);
	return a ? a->value : NULL;
}

/* The stored value always has a NUL after it, so a JSON value sent without NUL is
 * already a C string; leading NULs (never seen, but python strips them) are skipped. */
const char *ldms_ctrl_msg_text(const struct ldms_ctrl_msg *m)
{
	for (size_t i = 0; i < m->nattr; i++) {
		const struct ldms_ctrl_attr *a = &m->attrs[i];
		if (a->id != LDMSD_ATTR_STRING && a->id != LDMSD_ATTR_JSON)
			continue;
		const char *v = a->value;
		while (v < a->value + a->len && *v == '\0')
			v++;
		return v;
	}
	return NULL;
}

/* ---- encoder --------------------------------------------------------------------- */

/* Serialise the attribute stream (without terminator) with wire ids for v. */
static int attr_stream(const struct ldms_ctrl_msg *m, enum ldms_ctrl_ver v, uint8_t **out,
		       size_t *out_len)
{
	size_t total = 0;
	for (size_t i = 0; i < m->nattr; i++)
		total += LDMS_CTRL_ATTR_HDR_LEN + m->attrs[i].len;
	uint8_t *s = malloc(total ? total : 1);
	if (!s)
		return -ENOMEM;
	uint8_t *p = s;
	for (size_t i = 0; i < m->nattr; i++) {
		const struct ldms_ctrl_attr *a = &m->attrs[i];
		int wid = ldms_ctrl_attr_id_to_wire(a->id, v);
		if (wid < 0) {
			free(s);
			return wid;
		}
		put_be32(p, 1);
		put_be32(p + 4, (uint32_t)wid);
		put_be32(p + 8, a->len);
		if (a->len)
			memcpy(p + 12, a->value, a->len);
		p += LDMS_CTRL_ATTR_HDR_LEN + a->len;
	}
	*out = s;
	*out_len = total;
	return 0;
}

/* Same split as upstream's python client: every record leaves room for the 4-byte
 * terminator, which only the EOM record carries. */
int ldms_ctrl_msg_send(const struct ldms_ctrl_msg *m, enum ldms_ctrl_ver v, size_t max_rec,
		       ldms_ctrl_send_fn send, void *arg)
{
	uint8_t *stream, *rec;
	size_t slen, off = 0;
	uint32_t id;
	int rc;

	if (!m || !send || max_rec < LDMS_CTRL_REC_MIN)
		return -EINVAL;
	id = m->id;
	if (max_rec > UINT32_MAX)
		max_rec = UINT32_MAX;
	if (m->type == LDMS_CTRL_TYPE_CMD) {
		int wid = ldms_ctrl_cmd_id_to_wire(m->id, v);
		if (wid < 0)
			return wid;
		id = (uint32_t)wid;
	}
	rc = attr_stream(m, v, &stream, &slen);
	if (rc)
		return rc;
	size_t chunk_max = max_rec - LDMS_CTRL_REC_HDR_LEN - 4;
	size_t first = slen < chunk_max ? slen : chunk_max;
	rec = malloc(LDMS_CTRL_REC_HDR_LEN + first + 4);
	if (!rec) {
		free(stream);
		return -ENOMEM;
	}
	do {
		size_t chunk = slen - off < chunk_max ? slen - off : chunk_max;
		struct ldms_ctrl_rec_hdr h = {
		    .marker = LDMS_CTRL_MARKER,
		    .type = m->type,
		    .flags = (off == 0 ? LDMS_CTRL_F_SOM : 0),
		    .msg_no = m->msg_no,
		    .id = id,
		};
		size_t rlen = LDMS_CTRL_REC_HDR_LEN + chunk;
		if (off + chunk == slen) {
			h.flags |= LDMS_CTRL_F_EOM;
			put_be32(rec + rlen, 0);
			rlen += 4;
		}
		h.rec_len = (uint32_t)rlen;
		ldms_ctrl_rec_hdr_encode(rec, &h);
		if (chunk)
			memcpy(rec + LDMS_CTRL_REC_HDR_LEN, stream + off, chunk);
		off += chunk;
		rc = send(arg, rec, rlen);
	} while (!rc && off < slen);
	free(rec);
	free(stream);
	return rc;
}

struct cat_buf {
	uint8_t *buf;
	size_t len, cap;
};

static int cat_send(void *arg, const void *rec, size_t len)
{
	struct cat_buf *c = arg;
	if (c->len + len > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		while (ncap < c->len + len)
			ncap *= 2;
		uint8_t *nb = realloc(c->buf, ncap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, rec, len);
	c->len += len;
	return 0;
}

int ldms_ctrl_req_encode(const struct ldms_ctrl_msg *m, enum ldms_ctrl_ver v, size_t max_rec,
			 uint8_t **buf, size_t *len)
{
	struct cat_buf c = {0};
	int rc = ldms_ctrl_msg_send(m, v, max_rec, cat_send, &c);
	if (rc) {
		free(c.buf);
		return rc;
	}
	*buf = c.buf;
	*len = c.len;
	return 0;
}

int ldms_ctrl_send_rsp_str(uint32_t msg_no, uint32_t rsp_err, const char *text, size_t max_rec,
			   ldms_ctrl_send_fn send, void *arg)
{
	struct ldms_ctrl_msg *m = ldms_ctrl_rsp_new(msg_no, rsp_err);
	int rc;
	if (!m)
		return -ENOMEM;
	rc = text ? ldms_ctrl_req_attr_add(m, LDMSD_ATTR_STRING, text) : 0;
	if (!rc)
		rc = ldms_ctrl_msg_send(m, LDMS_CTRL_V4_5, max_rec, send, arg);
	ldms_ctrl_msg_free(m);
	return rc;
}

int ldms_ctrl_send_rsp_json(uint32_t msg_no, uint32_t rsp_err, const char *json, size_t len,
			    size_t max_rec, ldms_ctrl_send_fn send, void *arg)
{
	struct ldms_ctrl_msg *m = ldms_ctrl_rsp_new(msg_no, rsp_err);
	int rc;
	if (!m)
		return -ENOMEM;
	rc = ldms_ctrl_attr_add_bin(m, LDMSD_ATTR_JSON, json, len);
	if (!rc)
		rc = ldms_ctrl_msg_send(m, LDMS_CTRL_V4_5, max_rec, send, arg);
	ldms_ctrl_msg_free(m);
	return rc;
}

/* ---- decoder / reassembler ------------------------------------------------------- */

/* Parse a complete attribute stream (terminator included) into m. Unknown wire ids
 * are kept as LDMSD_ATTR_LAST + wire id so they can never alias a canonical id. */
static int parse_attrs(struct ldms_ctrl_msg *m, const uint8_t *p, size_t len, enum ldms_ctrl_ver v)
{
	size_t off = 0;
	for (;;) {
		if (len - off < 4)
			return -EINVAL; /* no terminator */
		uint32_t discrim = get_be32(p + off);
		if (discrim == 0) {
			off += 4;
			break;
		}
		if (discrim != 1 || len - off < LDMS_CTRL_ATTR_HDR_LEN)
			return -EINVAL;
		uint32_t wid = get_be32(p + off + 4);
		uint32_t alen = get_be32(p + off + 8);
		off += LDMS_CTRL_ATTR_HDR_LEN;
		if (alen > len - off)
			return -EINVAL;
		int id = ldms_ctrl_attr_id_from_wire(wid, v);
		uint32_t cid = id >= 0 ? (uint32_t)id
				       : (wid < UINT32_MAX - LDMSD_ATTR_LAST ? LDMSD_ATTR_LAST + wid
									     : UINT32_MAX);
		/* command values are C strings (§6.6.2); replies may carry JSON
		 * without NUL, so only commands are held to it */
		if (m->type == LDMS_CTRL_TYPE_CMD && alen && cid != LDMSD_ATTR_REC_LEN &&
		    p[off + alen - 1] != '\0')
			return -EINVAL;
		int rc = msg_attr_push(m, cid, p + off, alen);
		if (rc)
			return rc;
		off += alen;
	}
	return off == len ? 0 : -EINVAL;
}

static int build_msg(const struct ldms_ctrl_rec_hdr *h, const uint8_t *payload, size_t len,
		     enum ldms_ctrl_ver v, struct ldms_ctrl_msg **out)
{
	uint32_t id = h->id;
	if (h->type == LDMS_CTRL_TYPE_CMD) {
		int cid = ldms_ctrl_cmd_id_from_wire(h->id, v);
		if (cid >= 0)
			id = (uint32_t)cid; /* unknown ids stay raw: the server answers ENOSYS */
	}
	struct ldms_ctrl_msg *m = msg_new(h->type, h->msg_no, id);
	if (!m)
		return -ENOMEM;
	int rc = parse_attrs(m, payload, len, v);
	if (rc) {
		ldms_ctrl_msg_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

struct pending {
	uint32_t type, msg_no;
	struct ldms_ctrl_rec_hdr first;
	uint8_t *buf;
	size_t len, cap;
};

struct ldms_ctrl_reasm {
	enum ldms_ctrl_ver ver;
	size_t max_msg; /* budget of all messages in progress together */
	size_t max_cmd; /* ... and of the requests among them */
	size_t pend_bytes, pend_cmd_bytes;
	size_t npend;
	struct pending pend[MAX_PENDING];
};

struct ldms_ctrl_reasm *ldms_ctrl_reasm_new(enum ldms_ctrl_ver v, size_t max_msg)
{
	struct ldms_ctrl_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ver = v;
	r->max_msg = max_msg ? max_msg : DEFAULT_MAX_MSG;
	r->max_cmd = max_msg ? max_msg : DEFAULT_MAX_CMD;
	return r;
}

void ldms_ctrl_reasm_free(struct ldms_ctrl_reasm *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->npend; i++)
		free(r->pend[i].buf);
	free(r);
}

void ldms_ctrl_reasm_set_ver(struct ldms_ctrl_reasm *r, enum ldms_ctrl_ver v)
{
	r->ver = v;
}

static struct pending *pend_find(struct ldms_ctrl_reasm *r, uint32_t type, uint32_t msg_no)
{
	for (size_t i = 0; i < r->npend; i++)
		if (r->pend[i].msg_no == msg_no && r->pend[i].type == type)
			return &r->pend[i];
	return NULL;
}

static void pend_drop(struct ldms_ctrl_reasm *r, struct pending *p)
{
	r->pend_bytes -= p->len;
	if (p->type == LDMS_CTRL_TYPE_CMD)
		r->pend_cmd_bytes -= p->len;
	free(p->buf);
	*p = r->pend[--r->npend];
}

static int pend_append(struct ldms_ctrl_reasm *r, struct pending *p, const uint8_t *d, size_t len)
{
	/* one budget for every msg_no in progress: a peer opening many messages
	 * (SOM without EOM) cannot multiply it */
	if (len > r->max_msg - r->pend_bytes)
		return -E2BIG;
	if (p->type == LDMS_CTRL_TYPE_CMD && len > r->max_cmd - r->pend_cmd_bytes)
		return -E2BIG;
	if (len == 0)
		return 0;
	if (p->len + len > p->cap) {
		size_t ncap = p->cap ? p->cap : 256;
		while (ncap < p->len + len)
			ncap *= 2;
		uint8_t *nb = realloc(p->buf, ncap);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = ncap;
	}
	memcpy(p->buf + p->len, d, len);
	p->len += len;
	r->pend_bytes += len;
	if (p->type == LDMS_CTRL_TYPE_CMD)
		r->pend_cmd_bytes += len;
	return 0;
}

int ldms_ctrl_reasm_feed(struct ldms_ctrl_reasm *r, const void *rec, size_t len,
			 struct ldms_ctrl_msg **out, struct ldms_ctrl_rec_hdr *hdr_out)
{
	struct ldms_ctrl_rec_hdr h;
	int rc;

	*out = NULL;
	rc = ldms_ctrl_rec_hdr_decode(rec, len, &h);
	if (hdr_out)
		*hdr_out = h;
	if (rc)
		return rc;
	const uint8_t *payload = (const uint8_t *)rec + LDMS_CTRL_REC_HDR_LEN;
	size_t plen = h.rec_len - LDMS_CTRL_REC_HDR_LEN;
	struct pending *p = pend_find(r, h.type, h.msg_no);

	if (h.flags & LDMS_CTRL_F_SOM) {
		if (p)
			return -EADDRINUSE;    /* the message in progress is kept */
		if (h.flags & LDMS_CTRL_F_EOM) /* common case: no copy into a pending slot */
			return plen > (h.type == LDMS_CTRL_TYPE_CMD ? r->max_cmd : r->max_msg)
				   ? -E2BIG
				   : build_msg(&h, payload, plen, r->ver, out);
		if (r->npend == MAX_PENDING)
			return -ENOBUFS;
		p = &r->pend[r->npend++];
		memset(p, 0, sizeof(*p));
		p->type = h.type;
		p->msg_no = h.msg_no;
		p->first = h;
	} else if (!p) {
		return -ENOENT;
	}
	rc = pend_append(r, p, payload, plen);
	if (rc) {
		pend_drop(r, p);
		return rc;
	}
	if (!(h.flags & LDMS_CTRL_F_EOM))
		return 0;
	rc = build_msg(&p->first, p->buf, p->len, r->ver, out);
	pend_drop(r, p);
	return rc;
}

int ldms_ctrl_msg_decode(const void *buf, size_t len, enum ldms_ctrl_ver v,
			 struct ldms_ctrl_msg **out)
{
	struct ldms_ctrl_reasm *r = ldms_ctrl_reasm_new(v, 0);
	const uint8_t *p = buf;
	size_t off = 0;
	int rc = -EINVAL;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	while (off < len) {
		struct ldms_ctrl_rec_hdr h;
		struct ldms_ctrl_msg *m = NULL;
		rc = ldms_ctrl_rec_hdr_decode(p + off, len - off, &h);
		if (rc)
			break;
		rc = ldms_ctrl_reasm_feed(r, p + off, h.rec_len, &m, NULL);
		off += h.rec_len;
		if (rc)
			break;
		if (m) {
			if (off != len) { /* trailing bytes after the message */
				ldms_ctrl_msg_free(m);
				rc = -EINVAL;
				break;
			}
			*out = m;
			break;
		}
		rc = -EINVAL; /* ran out of records before EOM */
	}
	ldms_ctrl_reasm_free(r);
	return rc;
}
