/* Pure encode/decode functions of the etcd v3 JSON gateway client: base64, range ends,
 * request bodies, response parsers (responses are untrusted bytes: every field is
 * checked), the splitter of streamed responses and the gateway's error bodies.
 * No I/O here, so all of it is unit-tested and fuzzed without a server. */
#ifndef MAESTRO_ETCD_CODEC_H
#define MAESTRO_ETCD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "etcd.h"

/* ---- base64 (RFC 4648, standard alphabet, padded) ---------------------------------- */
/* malloc'ed, NUL-terminated; NULL on ENOMEM. */
char *etcd_b64_encode(const void *p, size_t n);
/* Strict: length a multiple of 4, padding only at the end, no other characters.
 * *out is malloc'ed and NUL-terminated. 0, -EINVAL or -ENOMEM. */
int etcd_b64_decode(const char *s, size_t n, char **out, size_t *out_len);

/* ---- ranges -------------------------------------------------------------------------- */
/* The exclusive end of "every key starting with key": the key with its last byte below
 * 0xff incremented and what follows dropped; a key of only 0xff bytes (or empty) gives
 * "\0" (len 1), which etcd reads as "up to the end". "/pfx/" -> "/pfx0". */
int etcd_prefix_end(const char *key, size_t n, char **out, size_t *out_len);
/* The range_end a spec stands for (*end = NULL for a single key). from_key gives "\0". */
int etcd_spec_end(const char *key, size_t n, const struct etcd_range_spec *spec, char **end,
		  size_t *end_len);

/* ---- request bodies (malloc'ed JSON text; NULL on ENOMEM or bad arguments) ----------- */
char *etcd_req_range(const char *key, size_t klen, const char *end, size_t elen, int64_t revision,
		     int64_t limit, int keys_only, int count_only);
char *etcd_req_put(const char *key, const char *value, int64_t lease);
char *etcd_req_delete(const char *key, const struct etcd_range_spec *spec);
char *etcd_req_txn(const struct etcd_txn *t);
char *etcd_req_lease_grant(int64_t ttl, int64_t id);
/* {"ID": id}: keepalive and revoke. */
char *etcd_req_lease_id(int64_t id);
char *etcd_req_watch_create(const char *key, const struct etcd_range_spec *spec,
			    int64_t start_revision, int prev_kv);

/* ---- errors ------------------------------------------------------------------------------ */
/* The gateway's error body {"error":..,"code":N,"message":..} (or the stream form
 * {"error":{"grpc_code":N,"message":..}}). Returns the negative errno for the gRPC code
 * (refined by etcd's message: too many txn ops -E2BIG, request too large -EMSGSIZE),
 * sets *grpc_code (-1 if none) and copies the message. -EPROTO if it is no error body. */
int etcd_parse_error(const char *buf, size_t n, int *grpc_code, char *msg, size_t msglen);
int etcd_grpc_errno(int grpc_code);
/* Worth trying the next member: Unavailable (no leader, timeouts) and DeadlineExceeded. */
int etcd_grpc_retryable(int grpc_code);

/* ---- responses -------------------------------------------------------------------------- */
/* All: 0, -EPROTO (not the expected shape; err says what) or -ENOMEM. Outputs are only
 * filled on success. */
int etcd_parse_range(const char *buf, size_t n, struct etcd_range_result *out,
		     struct ldms_err *err);
int etcd_parse_put(const char *buf, size_t n, int64_t *revision, struct ldms_err *err);
int etcd_parse_delete(const char *buf, size_t n, int64_t *deleted, int64_t *revision,
		      struct ldms_err *err);
int etcd_parse_txn(const char *buf, size_t n, struct etcd_txn_result *out, struct ldms_err *err);
int etcd_parse_lease_grant(const char *buf, size_t n, int64_t *id, int64_t *ttl,
			   struct ldms_err *err);
/* The streamed keep-alive answer ({"result":{"ID":..,"TTL":..}}); TTL 0 = lease gone. */
int etcd_parse_lease_keepalive(const char *buf, size_t n, int64_t *id, int64_t *ttl,
			       struct ldms_err *err);
int etcd_parse_lease_ttl(const char *buf, size_t n, int64_t *ttl, int64_t *granted,
			 struct ldms_err *err);

struct etcd_watch_msg {
	int64_t revision; /* header revision (0 when absent) */
	int64_t watch_id;
	int created;
	int canceled;
	int64_t compact_revision;
	char *cancel_reason;
	size_t nevents;
	int *types; /* ETCD_EVENT_PUT / ETCD_EVENT_DELETE */
	struct etcd_kv *kvs;
	struct etcd_kv *prev_kvs; /* prev_kvs[i].key == NULL when absent */
};
/* One streamed watch message ({"result":{...}}). A stream error ({"error":...}) returns
 * its errno and puts the message in err. */
int etcd_parse_watch_msg(const char *buf, size_t n, struct etcd_watch_msg *out,
			 struct ldms_err *err);
void etcd_watch_msg_free(struct etcd_watch_msg *m);

/* ---- streamed responses ---------------------------------------------------------------- */
/* The gateway streams one JSON object after the other (newline separated). The splitter
 * finds complete top-level objects in arbitrary chunks. */
struct etcd_jsplit {
	char *buf;
	size_t len, cap;
	size_t pos;   /* scanned up to here */
	size_t start; /* start of the current object */
	int depth, in_str, esc;
	size_t max; /* largest object accepted (0 = 64 MiB) */
};
typedef int (*etcd_jsplit_cb)(const char *obj, size_t n, void *arg);
/* Calls cb for every complete object; stops at the first non-zero cb return (returned).
 * Bytes outside objects other than whitespace: -EPROTO; an object over max: -EMSGSIZE. */
int etcd_jsplit_feed(struct etcd_jsplit *s, const char *p, size_t n, etcd_jsplit_cb cb, void *arg);
void etcd_jsplit_reset(struct etcd_jsplit *s);
void etcd_jsplit_free(struct etcd_jsplit *s);

#endif
