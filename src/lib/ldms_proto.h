/* Private to libldms: LDMS request/reply codecs carried in zap SENDRECV frames
 * and the lookup rendezvous message (ldms-protocol.md §6.4 as corrected by
 * golden/wire/README.md). Pure functions: encoders return bytes written or
 * -ENOSPC/-EINVAL/-ENAMETOOLONG, decoders 0 or -EPROTO. */
#ifndef LDMS_PROTO_H
#define LDMS_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum ldms_cmd {
	LDMS_CMD_DIR = 0,
	LDMS_CMD_DIR_CANCEL = 1,
	LDMS_CMD_LOOKUP = 2,
	LDMS_CMD_REQ_NOTIFY = 3,
	LDMS_CMD_CANCEL_NOTIFY = 4,
	LDMS_CMD_SEND_MSG = 5,
	LDMS_CMD_AUTH_MSG = 6,
	LDMS_CMD_CANCEL_PUSH = 7,
	LDMS_CMD_AUTH = 8,
	LDMS_CMD_SET_DELETE = 9,
	LDMS_CMD_SEND_QUOTA = 10,
	LDMS_CMD_MSG = 11,
	LDMS_CMD_MSG_SUB = 12,
	LDMS_CMD_MSG_UNSUB = 13,
	LDMS_CMD_QGROUP_ASK = 14,
	LDMS_CMD_QGROUP_DONATE = 15,
	LDMS_CMD_QGROUP_DONATE_BACK = 16,
	LDMS_CMD_QUOTA_RECONFIG = 17,
	LDMS_CMD_RATE_RECONFIG = 18,
	LDMS_CMD_REPLY = 0x100,
	LDMS_CMD_DIR_REPLY = 0x101,
	LDMS_CMD_DIR_CANCEL_REPLY = 0x102,
	LDMS_CMD_DIR_UPDATE_REPLY = 0x103,
	LDMS_CMD_LOOKUP_REPLY = 0x104,
	LDMS_CMD_REQ_NOTIFY_REPLY = 0x105,
	LDMS_CMD_AUTH_CHALLENGE_REPLY = 0x106,
	LDMS_CMD_AUTH_APPROVAL_REPLY = 0x107,
	LDMS_CMD_PUSH_REPLY = 0x108,
	LDMS_CMD_AUTH_REPLY = 0x109,
	LDMS_CMD_SET_DELETE_REPLY = 0x10a,
	LDMS_CMD_MSG_SUB_REPLY = 0x10b,
	LDMS_CMD_MSG_UNSUB_REPLY = 0x10c,
};

#define LDMS_REQ_HDR_LEN     16	 /* xid u64 host, cmd BE32, len BE32 */
#define LDMS_REPLY_HDR_LEN   20	 /* + rc BE32 */
#define LDMS_LOOKUP_PATH_MAX 512 /* incl. NUL */
/* Largest LDMS message in one SENDRECV frame (1 MiB - 24 - 20, §6.1). */
#define LDMS_MSG_MAX (1024 * 1024 - 24 - 20)
/* DIR_REPLY overhead in front of the JSON text. */
#define LDMS_DIR_REPLY_HDR (LDMS_REPLY_HDR_LEN + 12)

/* A decoded request or reply; pointers refer into the decoded buffer. */
struct ldms_msg {
	uint64_t xid;
	uint32_t cmd;
	uint32_t len;
	int is_reply;		/* cmd > 0x100 */
	uint32_t rc;		/* replies */
	const uint8_t *payload; /* after the header */
	uint32_t payload_len;
	union {
		struct {
			uint32_t flags;
		} dir;
		struct {
			uint32_t flags;
			const char *path; /* NUL-terminated */
		} lookup;
		struct {
			const uint8_t *data; /* SEND_MSG, AUTH_MSG */
			uint32_t len;
		} send;
		struct {
			const char *name; /* NUL-terminated */
		} set_delete;
		struct {
			uint32_t type, more;
			const char *json; /* json_len bytes, NUL not guaranteed */
			uint32_t json_len;
		} dir_reply;
		struct {
			int64_t sec, nsec;
		} set_delete_reply;
	} u;
};

/* Decodes the header and, for the commands ldms-c uses, the payload. Unknown
 * commands decode to the header + raw payload only (caller decides). */
int ldms_msg_decode(const uint8_t *buf, size_t len, struct ldms_msg *m);

int ldms_enc_req_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t len);
int ldms_enc_reply_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
		       uint32_t len);
int ldms_enc_dir(uint8_t *buf, size_t cap, uint64_t xid, uint32_t flags);
int ldms_enc_dir_cancel(uint8_t *buf, size_t cap, uint64_t xid);
int ldms_enc_lookup(uint8_t *buf, size_t cap, uint64_t xid, uint32_t flags, const char *path);
/* SEND_MSG or AUTH_MSG: msg_len BE32 + bytes. */
int ldms_enc_send(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, const void *data,
		  uint32_t len);
int ldms_enc_set_delete(uint8_t *buf, size_t cap, uint64_t xid, const char *name);
/* DIR_REPLY / DIR_UPDATE_REPLY header only (LDMS_DIR_REPLY_HDR bytes); json_len
 * bytes of JSON must follow. */
int ldms_enc_dir_reply_hdr(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
			   uint32_t type, uint32_t more, uint32_t json_len);
/* DIR_REPLY / DIR_UPDATE_REPLY. */
int ldms_enc_dir_reply(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
		       uint32_t type, uint32_t more, const char *json, uint32_t json_len);
int ldms_enc_set_delete_reply(uint8_t *buf, size_t cap, uint64_t xid, uint32_t rc, int64_t sec,
			      int64_t nsec);
/* Header-only replies (LOOKUP_REPLY, DIR_CANCEL_REPLY, ...). */
int ldms_enc_simple_reply(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc);

/* ---- lookup rendezvous (the LDMS message inside a zap RENDEZVOUS) ------------- */
#define LDMS_RDV_LOOKUP	 1
#define LDMS_RDV_PUSH	 2
#define LDMS_RDV_HDR_LEN 48 /* up to and incl. array_card */

struct ldms_rdv_lookup {
	uint64_t xid;
	uint64_t set_id;
	uint32_t more;
	uint32_t meta_len, data_len, card, array_card;
	const char *schema;   /* NUL-terminated */
	const char *instance; /* NUL-terminated */
	size_t info_count;
	/* encode: caller's arrays; decode: malloc'ed arrays of pointers into the
	 * buffer (free with ldms_rdv_lookup_release). */
	const char **keys;
	const char **values;
	int has_prflng;
	int64_t req_recv_sec, req_recv_nsec, share_sec, share_nsec;
};

/* Encodes with the upstream quirks: schema entry length byte = strlen+1+32+1
 * with only the name copied (rest zero), host-order len and set_id, info pairs,
 * zero terminator and the "lu_prflng" profiling tail when has_prflng. Strings
 * whose ldms_name length would exceed 255 give -ENAMETOOLONG. */
int ldms_rdv_lookup_encode(uint8_t *buf, size_t cap, const struct ldms_rdv_lookup *r);
size_t ldms_rdv_lookup_size(const struct ldms_rdv_lookup *r);
/* Decodes (cmd must be LOOKUP); every length byte is checked against the buffer
 * and each name must hold a NUL within its length. */
int ldms_rdv_lookup_decode(const uint8_t *buf, size_t len, struct ldms_rdv_lookup *r);
void ldms_rdv_lookup_release(struct ldms_rdv_lookup *r);

#endif
