/* Private to libldms: the zap sock frame codec (ldms-protocol.md §6.1, with the
 * corrections of golden/wire/README.md) and the LDMS connection message carried
 * in CONNECT/ACCEPTED (§6.2). Pure functions over caller buffers: encoders return
 * the number of bytes written or -ENOSPC, decoders 0 or -EPROTO. */
#ifndef ZAP_WIRE_H
#define ZAP_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum zap_msg_type {
	ZAP_MSG_CONNECT = 1,
	ZAP_MSG_SENDRECV = 2,
	ZAP_MSG_RENDEZVOUS = 3,
	ZAP_MSG_READ_REQ = 4,
	ZAP_MSG_READ_RESP = 5,
	ZAP_MSG_WRITE_REQ = 6,
	ZAP_MSG_WRITE_RESP = 7,
	ZAP_MSG_ACCEPTED = 8,
	ZAP_MSG_REJECTED = 9,
	ZAP_MSG_ACK_ACCEPTED = 10,
};

/* zap error codes carried in READ_RESP.status (upstream zap_err_t order). */
enum zap_err {
	ZAP_ERR_OK = 0,
	ZAP_ERR_PARAMETER,
	ZAP_ERR_TRANSPORT,
	ZAP_ERR_ENDPOINT,
	ZAP_ERR_ADDRESS,
	ZAP_ERR_ROUTE,
	ZAP_ERR_MAPPING,
	ZAP_ERR_RESOURCE,
	ZAP_ERR_BUSY,
	ZAP_ERR_NO_SPACE,
	ZAP_ERR_INVALID_MAP_TYPE,
	ZAP_ERR_CONNECT,
	ZAP_ERR_NOT_CONNECTED,
	ZAP_ERR_HOST_UNREACHABLE,
	ZAP_ERR_LOCAL_LEN,
	ZAP_ERR_LOCAL_OPERATION,
	ZAP_ERR_LOCAL_PERMISSION,
	ZAP_ERR_REMOTE_MAP,
	ZAP_ERR_REMOTE_LEN,
	ZAP_ERR_REMOTE_PERMISSION,
	ZAP_ERR_REMOTE_OPERATION,
};

#define ZAP_HDR_LEN	   20
#define ZAP_SENDRECV_HDR   24 /* header + data_len */
#define ZAP_CONNECT_HDR	   36 /* header + version + sig + data_len */
#define ZAP_RENDEZVOUS_HDR 40 /* header + key + acc + addr + data_len */
#define ZAP_READ_REQ_LEN   36
#define ZAP_READ_RESP_HDR  36
#define ZAP_MAX_FRAME	   (1024 * 1024)	/* SOCKBUF_SZ: every frame but READ_RESP */
#define ZAP_MAX_READ_FRAME (256u * 1024 * 1024) /* hard cap on READ_RESP frames */
#define ZAP_ACC_READ	   1
#define ZAP_ACC_WRITE	   2

struct zap_hdr {
	uint16_t type;
	uint32_t len;  /* whole frame */
	uint32_t xid;  /* host order, opaque */
	uint64_t ctxt; /* host order, opaque */
};

/* A decoded frame; pointers refer into the decoded buffer. */
struct zap_frame {
	struct zap_hdr hdr;
	uint8_t version[4];  /* CONNECT */
	uint8_t sig[8];	     /* CONNECT */
	uint32_t map_key;    /* RENDEZVOUS rmap_key, READ_REQ src_map_key */
	uint32_t acc;	     /* RENDEZVOUS */
	uint64_t addr;	     /* RENDEZVOUS addr, READ_REQ src_ptr, READ_RESP dst_ptr */
	uint32_t read_len;   /* READ_REQ data_len; RENDEZVOUS mapped length */
	uint16_t status;     /* READ_RESP */
	const uint8_t *data; /* CONNECT/SENDRECV/ACCEPTED/REJECTED/ACK_ACCEPTED data,
				RENDEZVOUS LDMS message, READ_RESP bytes */
	uint32_t data_len;
};

/* Header only: needs ZAP_HDR_LEN bytes; checks reserved == 0, a known type and
 * the frame length against the per-type limits. 0 or -EPROTO (-EAGAIN if short). */
int zap_hdr_decode(const uint8_t *buf, size_t len, struct zap_hdr *h);
/* Largest acceptable msg_len for a frame type. */
uint32_t zap_frame_max(uint16_t type);
/* A whole frame of exactly len bytes (len must equal hdr.len). READ_RESP may be
 * decoded from its 36-byte header alone with zap_read_resp_hdr_decode(). */
int zap_frame_decode(const uint8_t *buf, size_t len, struct zap_frame *f);
int zap_read_resp_hdr_decode(const uint8_t *buf, size_t len, struct zap_frame *f);

void zap_hdr_encode(uint8_t *buf, uint16_t type, uint32_t len, uint32_t xid, uint64_t ctxt);
/* SENDRECV, ACCEPTED, REJECTED, ACK_ACCEPTED: header + data_len + data. */
int zap_encode_data(uint8_t *buf, size_t cap, uint16_t type, uint32_t xid, const void *data,
		    uint32_t data_len);
/* CONNECT with zap version 1.3.1.0 and "SOCKET\0\0". */
int zap_encode_connect(uint8_t *buf, size_t cap, uint32_t xid, const void *data, uint32_t data_len);
/* RENDEZVOUS: msg is the LDMS rendezvous message; map_len the mapped length. */
int zap_encode_rendezvous(uint8_t *buf, size_t cap, uint32_t xid, uint32_t map_key, uint32_t acc,
			  uint64_t addr, uint32_t map_len, const void *msg, uint32_t msg_len);
/* RENDEZVOUS header only (40 bytes); msg_len bytes of LDMS message must follow. */
int zap_encode_rendezvous_hdr(uint8_t *buf, size_t cap, uint32_t xid, uint32_t map_key,
			      uint32_t acc, uint64_t addr, uint32_t map_len, uint32_t msg_len);
int zap_encode_read_req(uint8_t *buf, size_t cap, uint32_t xid, uint64_t ctxt, uint32_t map_key,
			uint64_t src_ptr, uint32_t len);
/* READ_RESP header only (36 bytes); data_len bytes of data must follow. */
int zap_encode_read_resp_hdr(uint8_t *buf, size_t cap, uint32_t xid, uint64_t ctxt, uint16_t status,
			     uint32_t data_len);

/* Connect-time checks (CONNECT version/signature). */
int zap_version_ok(const uint8_t version[4]); /* major.minor == 1.3 */
int zap_sig_ok(const uint8_t sig[8]);	      /* "SOCKET\0\0" */

/* ---- LDMS connection message (CONNECT/ACCEPTED data) ---------------------- */
#define LDMS_CONN_MSG_LEGACY_LEN 20
#define LDMS_CONN_MSG_RAIL_LEN	 64
#define LDMS_CONN_TYPE_RAIL	 1

struct ldms_conn_msg {
	uint8_t version[4]; /* 4.2.0.0 */
	char auth_name[17]; /* NUL-terminated copy of the 16-byte field */
	int is_rail;	    /* 64-byte form */
	uint32_t conn_type;
	int64_t rate_limit;
	int64_t recv_quota;
	uint32_t n_eps, idx, pid;
	uint64_t rail_gn;
	uint32_t msg_enabled;
};

/* < 20 bytes: -EPROTO; 20..63 (incl. the 51-byte IB variant): legacy fields only;
 * >= 64: rail form. */
int ldms_conn_msg_decode(const uint8_t *buf, size_t len, struct ldms_conn_msg *m);
/* 20 bytes (is_rail 0) or 64 bytes. auth_name longer than 15 chars: -EINVAL. */
int ldms_conn_msg_encode(uint8_t *buf, size_t cap, const struct ldms_conn_msg *m);
void ldms_conn_msg_init(struct ldms_conn_msg *m, const char *auth_name, int is_rail);
int ldms_conn_version_ok(const uint8_t version[4]); /* all four bytes == 4.2.0.0 */

/* Byte helpers shared by the codecs. */
static inline void wire_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wire_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void wire_put_be64(uint8_t *p, uint64_t v)
{
	wire_put_be32(p, (uint32_t)(v >> 32));
	wire_put_be32(p + 4, (uint32_t)v);
}
/* "host order" fields: ldms-c supports little-endian hosts only (§6.10). */
static inline void wire_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void wire_put_le64(uint8_t *p, uint64_t v)
{
	wire_put_le32(p, (uint32_t)v);
	wire_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t wire_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t wire_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t wire_get_be64(const uint8_t *p)
{
	return ((uint64_t)wire_get_be32(p) << 32) | wire_get_be32(p + 4);
}
static inline uint32_t wire_get_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}
static inline uint64_t wire_get_le64(const uint8_t *p)
{
	return ((uint64_t)wire_get_le32(p + 4) << 32) | wire_get_le32(p);
}

#endif
