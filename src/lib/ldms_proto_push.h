/* Private to libldms: codecs of the three push messages (ldms-protocol.md §6.5
 * item 4; layout in docs/push.md): the push RENDEZVOUS a client shares its mirror
 * with, PUSH_REPLY fragments of set memory the owner sends after a transaction,
 * and CANCEL_PUSH. Pure functions: encoders return bytes written or -ENOSPC,
 * decoders 0 or -EPROTO. */
#ifndef LDMS_PROTO_PUSH_H
#define LDMS_PROTO_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "ldms_proto.h"

/* RENDEZVOUS (type push), the LDMS message after the zap RENDEZVOUS header:
 *   @0  xid            u64 raw host order (0)
 *   @8  cmd            BE32 = 2 (LDMS_RDV_PUSH)
 *   @12 len            BE32 = 36 (upstream htonl()s it here, unlike lookup)
 *   @16 lookup_set_id  u64 raw host order: the set_id of the lookup rendezvous
 *   @24 push_set_id    u64 raw host order: chosen by the client, echoed in pushes
 *   @32 flags          BE32: 1 PUSH (always) | 2 CHANGE (push at transaction_end) */
#define LDMS_PUSH_RDV_LEN  36
#define LDMS_PUSH_F_PUSH   1u
#define LDMS_PUSH_F_CHANGE 2u

struct ldms_push_rdv {
	uint64_t xid;
	uint64_t lookup_set_id;
	uint64_t push_set_id;
	uint32_t flags;
};

int ldms_push_rdv_encode(uint8_t *buf, size_t cap, const struct ldms_push_rdv *r);
/* cmd must be 2 and the message at least 36 bytes; len is not trusted. */
int ldms_push_rdv_decode(const uint8_t *buf, size_t len, struct ldms_push_rdv *r);

/* PUSH_REPLY (reply cmd 0x108): reply header (xid 0, cmd, len, rc) then
 *   @20 set_id    u64 raw host order: the client's push_set_id
 *   @28 flags     BE32: 0x80000000 MORE (fragments follow) | 0x10000000 PUSH |
 *                 0x20000000 PUSH_LAST (registration cancelled)
 *   @32 data_off  BE32: offset of the bytes in the set memory (meta at 0)
 *   @36 data_len  BE32
 *   @40 data      data_len bytes; len = 40 + data_len */
#define LDMS_PUSH_REPLY_HDR_LEN	 40
#define LDMS_PUSH_REPLY_F_MORE	 0x80000000u
#define LDMS_PUSH_REPLY_F_PUSH	 0x10000000u
#define LDMS_PUSH_REPLY_F_LAST	 0x20000000u
#define LDMS_PUSH_REPLY_DATA_MAX (LDMS_MSG_MAX - LDMS_PUSH_REPLY_HDR_LEN)

struct ldms_push_reply {
	uint64_t set_id;
	uint32_t flags;
	uint32_t data_off;
	uint32_t data_len;
	const uint8_t *data; /* decode: points into the buffer */
};

/* Header only (40 bytes); data_len bytes must follow. -EMSGSIZE over the
 * message limit. */
int ldms_push_reply_hdr_encode(uint8_t *buf, size_t cap, const struct ldms_push_reply *r);
/* Header and r->data. */
int ldms_push_reply_encode(uint8_t *buf, size_t cap, const struct ldms_push_reply *r);
/* From an already decoded LDMS message (cmd PUSH_REPLY): data_len must fit the
 * payload exactly. */
int ldms_push_reply_from_msg(const struct ldms_msg *m, struct ldms_push_reply *r);
/* Whole LDMS message. */
int ldms_push_reply_decode(const uint8_t *buf, size_t len, struct ldms_push_reply *r);

/* CANCEL_PUSH (request cmd 7): request header (xid 0) then set_id u64 raw host
 * order = the lookup set_id. 24 bytes. */
#define LDMS_CANCEL_PUSH_LEN 24
int ldms_cancel_push_encode(uint8_t *buf, size_t cap, uint64_t set_id);
int ldms_cancel_push_from_msg(const struct ldms_msg *m, uint64_t *set_id);
int ldms_cancel_push_decode(const uint8_t *buf, size_t len, uint64_t *set_id);

#endif
