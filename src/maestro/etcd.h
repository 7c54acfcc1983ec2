/* etcd v3 client over the JSON gateway of etcd >= 3.4 (POST /v3/kv/..., /v3/lease/...,
 * /v3/watch; keys and values travel base64-encoded). Every request tries the members in
 * turn, starting with the last one that answered, with short timeouts (docs/etcd-cfgstore.md).
 * Functions return 0 or a negative errno and fill the caller's struct ldms_err. */
#ifndef MAESTRO_ETCD_H
#define MAESTRO_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct ldms_err;
struct etcd_client;
struct etcd_watch;

/* One key/value as etcd returns it. key and value are NUL-terminated copies; the
 * lengths count the bytes without the terminator (etcd keys/values are bytes). */
struct etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

struct etcd_range_result {
	int64_t revision; /* store revision the range was read at */
	struct etcd_kv *kvs;
	size_t count;  /* entries in kvs */
	int64_t total; /* keys in the whole range (etcd's "count") */
	int more;      /* a limit cut the range short */
};
void etcd_range_result_free(struct etcd_range_result *r);

/* Where a range or a delete ends (exclusive). Exactly one way is used:
 * prefix: every key starting with `key`; from_key: every key >= `key`;
 * range_end != NULL: [key, range_end); none: the single key. */
struct etcd_range_spec {
	const char *range_end;
	int prefix;
	int from_key;
};

struct etcd_range_opts {
	struct etcd_range_spec spec;
	int64_t revision; /* 0 = latest */
	int64_t limit;	  /* 0 = no limit */
	int keys_only;
	int count_only;
};

/* ---- client ------------------------------------------------------------------------ */

/* urls: "http://host:port" base URLs, tried in order. */
int etcd_client_new(const char *const *urls, size_t nurls, struct etcd_client **out,
		    struct ldms_err *err);
void etcd_client_free(struct etcd_client *c);
/* connect_ms: per member connection timeout (default 1000); request_ms: whole request
 * (default 15000); 0 keeps the current value. */
void etcd_client_set_timeouts(struct etcd_client *c, long connect_ms, long request_ms);
size_t etcd_client_member_count(const struct etcd_client *c);
const char *etcd_client_member_url(const struct etcd_client *c, size_t i);

/* ---- kv -------------------------------------------------------------------------------- */

int etcd_range(struct etcd_client *c, const char *key, const struct etcd_range_opts *opts,
	       struct etcd_range_result *out, struct ldms_err *err);
/* The whole range at one revision (opts->revision, or the revision of the first page),
 * read in pages of `page` keys (0 = 10000); opts->limit is ignored. */
int etcd_range_all(struct etcd_client *c, const char *key, const struct etcd_range_opts *opts,
		   size_t page, struct etcd_range_result *out, struct ldms_err *err);
/* Single-key get: -ENOENT when absent. kv is filled (free with etcd_kv_free). */
int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *kv, int64_t *revision,
	     struct ldms_err *err);
void etcd_kv_free(struct etcd_kv *kv);
int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
	     int64_t *revision, struct ldms_err *err);
int etcd_delete(struct etcd_client *c, const char *key, const struct etcd_range_spec *spec,
		int64_t *deleted, int64_t *revision, struct ldms_err *err);

/* Drops the history before revision (etcd's compaction; watchers and reads at older
 * revisions then get "compacted"). physical: wait until the backend has done it. */
int etcd_compact(struct etcd_client *c, int64_t revision, int physical, struct ldms_err *err);

/* ---- transactions --------------------------------------------------------------------- */

enum etcd_cmp_target {
	ETCD_CMP_VERSION,
	ETCD_CMP_CREATE,
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE,
};
enum etcd_cmp_result {
	ETCD_CMP_EQUAL,
	ETCD_CMP_GREATER,
	ETCD_CMP_LESS,
	ETCD_CMP_NOT_EQUAL,
};
/* A key that does not exist has version, create and mod revision 0. */
struct etcd_cmp {
	const char *key;
	enum etcd_cmp_target target;
	enum etcd_cmp_result result;
	int64_t num;	   /* VERSION, CREATE, MOD, LEASE */
	const char *value; /* VALUE */
};

enum etcd_op_type {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
};
struct etcd_op {
	enum etcd_op_type type;
	const char *key;
	struct etcd_range_spec spec; /* RANGE, DELETE */
	const char *value;	     /* PUT */
	int64_t lease;		     /* PUT */
	int64_t revision, limit;     /* RANGE */
	int keys_only;		     /* RANGE */
};

struct etcd_txn {
	const struct etcd_cmp *cmp;
	size_t ncmp;
	const struct etcd_op *success;
	size_t nsuccess;
	const struct etcd_op *failure;
	size_t nfailure;
};

struct etcd_op_result {
	enum etcd_op_type type;
	struct etcd_range_result range; /* RANGE */
	int64_t deleted;		/* DELETE */
};
struct etcd_txn_result {
	int64_t revision;
	int succeeded;
	struct etcd_op_result *ops;
	size_t nops;
};
void etcd_txn_result_free(struct etcd_txn_result *r);

/* out may be NULL when only success matters (then *succeeded is not reported: use out). */
int etcd_txn(struct etcd_client *c, const struct etcd_txn *txn, struct etcd_txn_result *out,
	     struct ldms_err *err);

/* Many independent transactions, up to `window` (0 = 8) in flight at once on the member
 * that answered last, so that etcd commits them together. body(i, arg) returns the
 * malloc'ed request body of transaction i (etcd_req_txn() of etcd_codec.h); it is called
 * in order, just before i is sent. status[i]: 1 committed with its compares true, -1
 * compares false (no new transaction is started after one), 0 not done. Returns 0 when
 * nothing failed, else the first error (err names the member); the caller redoes the
 * transactions left at 0 with etcd_txn(), which fails over to other members. */
typedef char *(*etcd_txn_body_fn)(size_t i, void *arg);
int etcd_txn_pipeline(struct etcd_client *c, size_t n, etcd_txn_body_fn body, void *arg,
		      size_t window, int *status, struct ldms_err *err);

/* ---- leases ------------------------------------------------------------------------------ */

/* id 0 lets etcd choose. */
int etcd_lease_grant(struct etcd_client *c, int64_t ttl, int64_t id, int64_t *out_id,
		     int64_t *out_ttl, struct ldms_err *err);
/* One keep-alive; *ttl = the renewed TTL. -ENOENT when the lease expired or is unknown. */
int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl, struct ldms_err *err);
int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct ldms_err *err);
/* Remaining TTL (-1 = expired/unknown, as etcd says) and granted TTL. */
int etcd_lease_ttl(struct etcd_client *c, int64_t id, int64_t *ttl, int64_t *granted,
		   struct ldms_err *err);

/* ---- sessions and election ---------------------------------------------------------------
 * A session is a lease kept alive by a thread (keep-alive every TTL/3). It is lost when
 * etcd says the lease is gone or when no member answered for a whole TTL; lost(lease, why,
 * arg) is then called once, on the session's thread. */
struct etcd_session;
typedef void (*etcd_session_lost_cb)(int64_t lease, const char *why, void *arg);
int etcd_session_start(struct etcd_client *c, int64_t ttl, etcd_session_lost_cb lost, void *arg,
		       struct etcd_session **out, struct ldms_err *err);
int64_t etcd_session_lease(const struct etcd_session *s);
int etcd_session_lost(const struct etcd_session *s);
/* Stops the thread; revoke != 0 also revokes the lease (its keys vanish at once). */
void etcd_session_stop(struct etcd_session *s, int revoke);

/* Election under a prefix (etcd's recipe): a candidate is the key "<prefix>/<lease in
 * hex>" attached to its session's lease, holding `value` (e.g. "host:port"); candidates
 * in create-revision order form the queue, the first is the leader. A candidate whose
 * session dies disappears with its lease. Campaigning again only updates the value. */
int etcd_election_campaign(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			   const char *value, struct ldms_err *err);
int etcd_election_resign(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			 struct ldms_err *err);
/* The live candidates, leader first (kv.lease tells whose). Watch "<prefix>/" (prefix
 * spec) to learn about changes. */
int etcd_election_candidates(struct etcd_client *c, const char *prefix,
			     struct etcd_range_result *out, struct ldms_err *err);
/* 1 if the session's candidate leads, 0 if not, or a negative errno. */
int etcd_election_is_leader(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			    struct ldms_err *err);

/* ---- watch ---------------------------------------------------------------------------------- */

enum etcd_event_type {
	ETCD_EVENT_PUT,
	ETCD_EVENT_DELETE,
	/* The watch is (re-)established; revision = the store revision at that moment. */
	ETCD_EVENT_CREATED,
	/* Events before compact_revision are gone; the watch resumes from there. A reader
	 * that must not miss a change re-reads its state. */
	ETCD_EVENT_COMPACTED,
	/* No member answers (msg says why); the watch keeps retrying. */
	ETCD_EVENT_ERROR,
};
struct etcd_event {
	enum etcd_event_type type;
	const struct etcd_kv *kv;      /* PUT, DELETE (DELETE: key and mod_revision only) */
	const struct etcd_kv *prev_kv; /* when asked for and known */
	int64_t revision;	       /* PUT/DELETE: kv->mod_revision; else header revision */
	int64_t compact_revision;      /* COMPACTED */
	const char *msg;	       /* ERROR */
};
typedef void (*etcd_watch_cb)(const struct etcd_event *ev, void *arg);

struct etcd_watch_opts {
	struct etcd_range_spec spec;
	int64_t start_revision; /* 0 = changes after the watch is created */
	int prev_kv;
	long retry_ms; /* pause before reconnecting after every member failed (default 1000) */
};

/* Starts a thread that streams events to cb (called on that thread, one event at a time).
 * After a broken stream it reconnects, to the next member when needed, and resumes after
 * the last revision it delivered, so no event is lost or repeated. */
int etcd_watch_start(struct etcd_client *c, const char *key, const struct etcd_watch_opts *opts,
		     etcd_watch_cb cb, void *arg, struct etcd_watch **out, struct ldms_err *err);
/* Stops and joins the thread (not from the callback). */
void etcd_watch_stop(struct etcd_watch *w);

#endif
