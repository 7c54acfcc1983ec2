/* The LDMS metric set model: schemas, sets in the upstream OVIS LDMS 4.5 memory
 * layout (shared/spec/ldms-protocol.md §4), metric access, transactions, set info
 * and the process-wide set registry that the transport serves from. */
#ifndef LDMS_SET_H
#define LDMS_SET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ldms_value_type {
	LDMS_V_NONE = 0,
	LDMS_V_CHAR = 1,
	LDMS_V_U8 = 2,
	LDMS_V_S8 = 3,
	LDMS_V_U16 = 4,
	LDMS_V_S16 = 5,
	LDMS_V_U32 = 6,
	LDMS_V_S32 = 7,
	LDMS_V_U64 = 8,
	LDMS_V_S64 = 9,
	LDMS_V_F32 = 10,
	LDMS_V_D64 = 11,
	LDMS_V_CHAR_ARRAY = 12,
	LDMS_V_U8_ARRAY = 13,
	LDMS_V_S8_ARRAY = 14,
	LDMS_V_U16_ARRAY = 15,
	LDMS_V_S16_ARRAY = 16,
	LDMS_V_U32_ARRAY = 17,
	LDMS_V_S32_ARRAY = 18,
	LDMS_V_U64_ARRAY = 19,
	LDMS_V_S64_ARRAY = 20,
	LDMS_V_F32_ARRAY = 21,
	LDMS_V_D64_ARRAY = 22,
	LDMS_V_LIST = 23,
	LDMS_V_LIST_ENTRY = 24,
	LDMS_V_RECORD_TYPE = 25,
	LDMS_V_RECORD_INST = 26,
	LDMS_V_RECORD_ARRAY = 27,
	LDMS_V_TIMESTAMP = 28,
	LDMS_V_LAST = 28,
};

#define LDMS_MDESC_F_DATA   1
#define LDMS_MDESC_F_META   2
#define LDMS_MDESC_F_RECORD 4

#define LDMS_PRODUCER_NAME_MAX 64 /* incl. NUL */
#define LDMS_SET_NAME_MAX      256
#define LDMS_DIGEST_LEN	       32

#define LDMS_SET_HDR_SIZE  144
#define LDMS_DATA_HDR_SIZE 96

#define LDMS_TRANS_NONE	 0
#define LDMS_TRANS_BEGIN 1
#define LDMS_TRANS_END	 2

struct ldms_timestamp {
	uint32_t sec;
	uint32_t usec;
};

/* "u64", "char[]", "u64[]", ... as printed by ldms_ls; NULL for out of range. */
const char *ldms_metric_type_to_str(enum ldms_value_type t);
/* Accepts the ls names and upstream's test_sampler names ("u64_array", "char_array").
 * Returns LDMS_V_NONE if unknown. */
enum ldms_value_type ldms_metric_str_to_type(const char *s);
int ldms_type_is_array(enum ldms_value_type t);
/* Element size in bytes (1 for char arrays), 0 for non-value types. */
size_t ldms_type_elem_size(enum ldms_value_type t);

/* ---- schema ----------------------------------------------------------------------- */
struct ldms_schema;
struct ldms_schema *ldms_schema_new(const char *name);
void ldms_schema_delete(struct ldms_schema *s);
/* Each returns the new metric's index or a negative errno. unit may be NULL.
 * count is the array length (char arrays: bytes incl. NUL). */
int ldms_schema_metric_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			   const char *unit);
int ldms_schema_meta_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			 const char *unit);
int ldms_schema_metric_array_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
				 uint32_t count, const char *unit);
int ldms_schema_meta_array_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			       uint32_t count, const char *unit);
int ldms_schema_array_card_set(struct ldms_schema *s, uint32_t card);
int ldms_schema_metric_count(const struct ldms_schema *s);
const char *ldms_schema_name(const struct ldms_schema *s);
void ldms_schema_digest(const struct ldms_schema *s, uint8_t out[LDMS_DIGEST_LEN]);

/* ---- sets ---------------------------------------------------------------------------
 * A set is reference counted (ldms_set_get/put). Local sets are created from a
 * schema; remote (mirror) sets are created by the transport from a lookup
 * rendezvous and filled by reads. */
typedef struct ldms_set *ldms_set_t;

/* New local set, owned by the caller (one reference). uid/gid/perm default to the
 * process defaults (ldms_set_default_authz_set). Returns NULL with errno set. */
ldms_set_t ldms_set_new(const char *instance, const struct ldms_schema *s);
ldms_set_t ldms_set_new_with_auth(const char *instance, const struct ldms_schema *s, uid_t uid,
				  gid_t gid, uint32_t perm);
void ldms_set_default_authz_set(uid_t uid, gid_t gid, uint32_t perm);
void ldms_set_default_authz_get(uid_t *uid, gid_t *gid, uint32_t *perm);

/* Remote mirror: allocates meta_len + array_card * data_len zeroed bytes. The
 * contents arrive by reads; call ldms_set_remote_validate() after meta arrives. */
ldms_set_t ldms_set_new_remote(const char *instance, const char *schema, uint32_t meta_len,
			       uint32_t data_len, uint32_t array_card);
/* Checks every offset/size in the (untrusted) meta section against the buffer:
 * header sizes match the rendezvous, dict entries, descriptors, names and value
 * slots lie inside meta/data. Returns 0 or -EPROTO. Accessors on a remote set are
 * only valid after this returned 0 for the current meta_gn. */
int ldms_set_remote_validate(ldms_set_t s);
int ldms_set_is_remote(ldms_set_t s);

ldms_set_t ldms_set_get(ldms_set_t s);
void ldms_set_put(ldms_set_t s);

/* Publishing puts a local set in the registry (visible to DIR/LOOKUP, announced to
 * directory listeners). ldms_set_delete() unpublishes, tells every peer that looked
 * it up (SET_DELETE) and drops the caller's reference. */
int ldms_set_publish(ldms_set_t s);
int ldms_set_unpublish(ldms_set_t s);
void ldms_set_delete(ldms_set_t s);

/* Registry: get a reference by instance name (NULL if none), or iterate (the
 * callback runs under the registry lock: no publish/delete from inside it).
 * Iteration is in instance-name order. Returning non-zero stops the walk. */
ldms_set_t ldms_set_by_name(const char *instance);
int ldms_set_registry_foreach(int (*cb)(ldms_set_t s, void *arg), void *arg);
size_t ldms_set_registry_count(void);

/* Observers of registry changes (the transport registers one to send DIR_UPDATE
 * and SET_DELETE). ev: ADD on publish, DEL on unpublish/delete, UPD on a set-info
 * change. Called outside the registry lock, on the caller's thread. */
enum ldms_set_event { LDMS_SET_EV_ADD = 1, LDMS_SET_EV_DEL = 2, LDMS_SET_EV_UPD = 3 };
typedef void (*ldms_set_observer_fn)(ldms_set_t s, enum ldms_set_event ev, void *arg);
int ldms_set_observer_add(ldms_set_observer_fn fn, void *arg);
void ldms_set_observer_del(ldms_set_observer_fn fn, void *arg);

/* Header access. */
const char *ldms_set_instance_name_get(ldms_set_t s);
const char *ldms_set_schema_name_get(ldms_set_t s);
const char *ldms_set_producer_name_get(ldms_set_t s);
int ldms_set_producer_name_set(ldms_set_t s, const char *name);
uint32_t ldms_set_card_get(ldms_set_t s);
uint32_t ldms_set_meta_sz_get(ldms_set_t s);
uint32_t ldms_set_data_sz_get(ldms_set_t s);
uint32_t ldms_set_heap_sz_get(ldms_set_t s);
uint32_t ldms_set_array_card_get(ldms_set_t s);
uid_t ldms_set_uid_get(ldms_set_t s);
gid_t ldms_set_gid_get(ldms_set_t s);
uint32_t ldms_set_perm_get(ldms_set_t s);
int ldms_set_uid_set(ldms_set_t s, uid_t uid);
int ldms_set_gid_set(ldms_set_t s, gid_t gid);
int ldms_set_perm_set(ldms_set_t s, uint32_t perm);
uint64_t ldms_set_meta_gn_get(ldms_set_t s);
uint64_t ldms_set_data_gn_get(ldms_set_t s);
void ldms_set_digest_get(ldms_set_t s, uint8_t out[LDMS_DIGEST_LEN]);
/* 64 upper-case hex chars + NUL into buf (>= 65 bytes). */
const char *ldms_set_digest_str(ldms_set_t s, char *buf);

/* Transactions (§4.5). The current data section is data[curr_idx]. */
int ldms_transaction_begin(ldms_set_t s);
int ldms_transaction_end(ldms_set_t s);
int ldms_set_is_consistent(ldms_set_t s);
struct ldms_timestamp ldms_transaction_timestamp_get(ldms_set_t s);
struct ldms_timestamp ldms_transaction_duration_get(ldms_set_t s);
uint32_t ldms_set_curr_idx_get(ldms_set_t s);

/* Metric metadata by index (0..card-1). */
int ldms_metric_by_name(ldms_set_t s, const char *name); /* index or -ENOENT */
const char *ldms_metric_name_get(ldms_set_t s, int i);
const char *ldms_metric_unit_get(ldms_set_t s, int i); /* "" if none */
enum ldms_value_type ldms_metric_type_get(ldms_set_t s, int i);
int ldms_metric_flags_get(ldms_set_t s, int i); /* LDMS_MDESC_F_* */
uint32_t ldms_metric_array_get_len(ldms_set_t s, int i);
uint64_t ldms_metric_user_data_get(ldms_set_t s, int i);
void ldms_metric_user_data_set(ldms_set_t s, int i, uint64_t udata);

/* Scalar setters/getters: writing a DATA metric bumps data gn, a META metric bumps
 * meta_gn (and copies it into the data header). */
void ldms_metric_set_char(ldms_set_t s, int i, char v);
void ldms_metric_set_u8(ldms_set_t s, int i, uint8_t v);
void ldms_metric_set_s8(ldms_set_t s, int i, int8_t v);
void ldms_metric_set_u16(ldms_set_t s, int i, uint16_t v);
void ldms_metric_set_s16(ldms_set_t s, int i, int16_t v);
void ldms_metric_set_u32(ldms_set_t s, int i, uint32_t v);
void ldms_metric_set_s32(ldms_set_t s, int i, int32_t v);
void ldms_metric_set_u64(ldms_set_t s, int i, uint64_t v);
void ldms_metric_set_s64(ldms_set_t s, int i, int64_t v);
void ldms_metric_set_float(ldms_set_t s, int i, float v);
void ldms_metric_set_double(ldms_set_t s, int i, double v);
char ldms_metric_get_char(ldms_set_t s, int i);
uint8_t ldms_metric_get_u8(ldms_set_t s, int i);
int8_t ldms_metric_get_s8(ldms_set_t s, int i);
uint16_t ldms_metric_get_u16(ldms_set_t s, int i);
int16_t ldms_metric_get_s16(ldms_set_t s, int i);
uint32_t ldms_metric_get_u32(ldms_set_t s, int i);
int32_t ldms_metric_get_s32(ldms_set_t s, int i);
uint64_t ldms_metric_get_u64(ldms_set_t s, int i);
int64_t ldms_metric_get_s64(ldms_set_t s, int i);
float ldms_metric_get_float(ldms_set_t s, int i);
double ldms_metric_get_double(ldms_set_t s, int i);
/* Any integer-ish scalar or array element as u64/s64/double (for generic writers). */
uint64_t ldms_metric_array_get_as_u64(ldms_set_t s, int i, uint32_t idx);
int64_t ldms_metric_array_get_as_s64(ldms_set_t s, int i, uint32_t idx);
double ldms_metric_array_get_as_double(ldms_set_t s, int i, uint32_t idx);

/* Array element access (idx < array len; out of range is ignored / returns 0). */
void ldms_metric_array_set_u8(ldms_set_t s, int i, uint32_t idx, uint8_t v);
void ldms_metric_array_set_s8(ldms_set_t s, int i, uint32_t idx, int8_t v);
void ldms_metric_array_set_u16(ldms_set_t s, int i, uint32_t idx, uint16_t v);
void ldms_metric_array_set_s16(ldms_set_t s, int i, uint32_t idx, int16_t v);
void ldms_metric_array_set_u32(ldms_set_t s, int i, uint32_t idx, uint32_t v);
void ldms_metric_array_set_s32(ldms_set_t s, int i, uint32_t idx, int32_t v);
void ldms_metric_array_set_u64(ldms_set_t s, int i, uint32_t idx, uint64_t v);
void ldms_metric_array_set_s64(ldms_set_t s, int i, uint32_t idx, int64_t v);
void ldms_metric_array_set_float(ldms_set_t s, int i, uint32_t idx, float v);
void ldms_metric_array_set_double(ldms_set_t s, int i, uint32_t idx, double v);
/* char[]: copies at most len-1 bytes and NUL-pads the rest. */
void ldms_metric_array_set_str(ldms_set_t s, int i, const char *str);
/* Pointer to the NUL-terminated string (bounded by the array length). */
const char *ldms_metric_array_get_str(ldms_set_t s, int i);
/* Raw pointer to a metric's value in the current data section (or meta). */
const void *ldms_metric_value_ptr(ldms_set_t s, int i);

/* Set info (local key/values; remote info arrives with the lookup; local wins). */
int ldms_set_info_set(ldms_set_t s, const char *key, const char *value);
int ldms_set_info_unset(ldms_set_t s, const char *key);
/* Returns a malloc'ed copy (caller frees) or NULL. */
char *ldms_set_info_get(ldms_set_t s, const char *key);
/* Iterates local then remote-only pairs in insertion order. */
int ldms_set_info_foreach(ldms_set_t s, int (*cb)(const char *key, const char *value, void *arg),
			  void *arg);
/* Replace the remote info (transport, after a lookup). */
int ldms_set_info_remote_set(ldms_set_t s, const char *const *keys, const char *const *values,
			     size_t count);

/* Raw memory (transport only): meta section followed by array_card data sections.
 * For reads from a peer: bounds are mem_size. */
void *ldms_set_mem(ldms_set_t s);
size_t ldms_set_mem_size(ldms_set_t s);
/* Opaque per-set context slots for the transport (e.g. lookers list, map key). */
void *ldms_set_xprt_ctx_get(ldms_set_t s);
void ldms_set_xprt_ctx_set(ldms_set_t s, void *ctx);
/* Mirror sets: the consumer (ldmsd updater, ldms_ls) may hang its own context. */
void *ldms_set_app_ctx_get(ldms_set_t s);
void ldms_set_app_ctx_set(ldms_set_t s, void *ctx);

/* Process-wide mutex protecting a set's memory against concurrent transaction
 * writes vs. reads serialised by the transport (optional use). */
void ldms_set_lock(ldms_set_t s);
void ldms_set_unlock(ldms_set_t s);

#endif
