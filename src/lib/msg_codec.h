/* Private to libldms: byte codecs of the message service requests (ldms-protocol.md
 * §6.4/§6.7 as corrected by golden/wire/README.md 11-13, 17): MSG parts with the
 * 384-byte full header, MSG_SUB/MSG_UNSUB and their replies, SEND_QUOTA, and the
 * upstream tag hash. Pure functions: encoders return bytes written or -ENOSPC /
 * -EINVAL, decoders 0 or -EPROTO. */
#ifndef MSG_CODEC_H
#define MSG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ldms_proto.h"

/* FNV-1a over signed chars seeded with the FNV prime (upstream's fnv_hash_a1_32
 * call): "golden_json" -> 0xac1d7e39. */
uint32_t msg_tag_hash(const char *tag, size_t len);

/* ---- ldms_addr (20 bytes): sa_family as htons(AF_*) @0, port BE16 @2, addr[16] @4 */
#define MSG_ADDR_LEN 20
struct msg_addr {
	uint8_t b[MSG_ADDR_LEN];
};
int msg_addr_is_zero(const struct msg_addr *a);
/* "a.b.c.d:port" ("0.0.0.0:0" when empty) */
void msg_addr_str(const struct msg_addr *a, char *buf, size_t len);

/* ---- MSG (cmd 11): request header, then
 *   @0  src       ldms_addr (20)
 *   @20 msg_gn    BE64
 *   @28 bits      u32 little-endian (host order of x86 senders): bit0 more, bit1 first
 *   @32 part      the rest of the message */
#define MSG_PART_HDR_LEN 32
#define MSG_PART_MORE	 1u
#define MSG_PART_FIRST	 2u
/* Largest part in one LDMS message. */
#define MSG_PART_MAX (LDMS_MSG_MAX - LDMS_REQ_HDR_LEN - MSG_PART_HDR_LEN)

struct msg_part {
	struct msg_addr src;
	uint64_t msg_gn;
	uint32_t bits;
	const uint8_t *data; /* decode: into the buffer */
	uint32_t len;
};
/* Request header + part header (LDMS_REQ_HDR_LEN + 32 bytes); p->len bytes follow. */
int msg_part_hdr_encode(uint8_t *buf, size_t cap, const struct msg_part *p);
/* From the request payload (after the LDMS header). */
int msg_part_decode(const uint8_t *payload, size_t len, struct msg_part *p);

/* ---- the full message header at the start of the first part (384 bytes):
 *   @0 src(20) @20 pad0(4) @24 reserve(32) @56 msg_gn BE64 @64 msg_len BE32
 *   (= strlen(tag)+1+data_len) @68 type BE32 @72 uid BE32 @76 gid BE32
 *   @80 perm BE32 @84 tag_hash u32 LE @88 hop_cnt BE32 @92 pad1(4)
 *   @96 hops[9] {recv sec, nsec, send sec, nsec: 4 x BE64}
 * then tag NUL data. Upstream leaves pad/reserve and hops beyond hop_cnt
 * uninitialised; ldms-c writes zeros there. */
#define MSG_FULL_HDR_LEN 384
#define MSG_HOPS	 9

struct msg_hop {
	int64_t recv_sec, recv_nsec, send_sec, send_nsec;
};

struct msg_full_hdr {
	struct msg_addr src;
	uint64_t msg_gn;
	uint32_t msg_len;
	uint32_t type;
	uint32_t uid, gid, perm;
	uint32_t tag_hash;
	uint32_t hop_cnt;
	struct msg_hop hops[MSG_HOPS];
};
int msg_full_hdr_encode(uint8_t *buf, size_t cap, const struct msg_full_hdr *h);
/* Hops up to min(hop_cnt, 8) are decoded, the rest zeroed. */
int msg_full_hdr_decode(const uint8_t *buf, size_t len, struct msg_full_hdr *h);

/* ---- MSG_SUB (12) / MSG_UNSUB (13): request header, then
 *   @0  bits  u32 LE: bit0 is_regex, bits1-31 the low 31 bits of htobe32(match_len)
 *   @4  rate  BE64 (bytes/s, -1 unlimited; unused by UNSUB)
 *   @12 match NUL-terminated, match_len = strlen + 1 */
#define MSG_SUB_HDR_LEN 12
struct msg_sub {
	int is_regex;
	int64_t rate;
	const char *match; /* decode: into the buffer */
};
int msg_sub_encode(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, const struct msg_sub *s);
/* From the payload; the match must be NUL-terminated within it (the bit-field
 * length is not trusted, like upstream). */
int msg_sub_decode(const uint8_t *payload, size_t len, struct msg_sub *s);

/* ---- MSG_SUB_REPLY (0x10b) / MSG_UNSUB_REPLY (0x10c): reply header (rc BE32),
 *   @20 msg_len BE32, msg bytes (NUL-terminated text) */
int msg_sub_reply_encode(uint8_t *buf, size_t cap, uint32_t cmd, uint64_t xid, uint32_t rc,
			 const char *text);
/* text: into the buffer, NUL-terminated within msg_len or "" */
int msg_sub_reply_decode(const uint8_t *payload, size_t len, const char **text, size_t *text_len);

/* ---- SEND_QUOTA (10): request header (xid 0), quota BE32, rc BE32 (24 bytes) */
#define MSG_SEND_QUOTA_LEN (LDMS_REQ_HDR_LEN + 8)
int msg_send_quota_encode(uint8_t *buf, size_t cap, uint32_t quota, uint32_t rc);
int msg_send_quota_decode(const uint8_t *payload, size_t len, uint32_t *quota, uint32_t *rc);

#endif
