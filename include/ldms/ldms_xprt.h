/* The LDMS transport over zap sock (shared/spec/ldms-protocol.md §6): endpoints,
 * authentication, directory, lookup, reads/updates, set deletion and SEND_MSG.
 * Everything runs on libldms' I/O threads (libevent); callbacks are invoked on
 * the I/O thread that owns the endpoint and must not block. The *_sync helpers
 * are for tools and tests and must not be called from an I/O thread. */
#ifndef LDMS_XPRT_H
#define LDMS_XPRT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ldms_set.h"
#include "ldms_util.h"

/* Start/stop the I/O threads (idempotent; ldms_xprt_* call init with 1 thread if
 * needed). */
int ldms_init(int io_threads);
void ldms_fini(void);

/* ---- authentication -----------------------------------------------------------
 * plugin: "none", "ovis" or "munge". Arguments as in auth_add / -A:
 *   ovis:  conf=<secret file> (else $LDMS_AUTH_FILE, ~/.ldmsauth.conf, sysconfdir...)
 *   munge: socket=<munged socket path> */
#define LDMS_AUTH_ARGS_MAX 8
struct ldms_auth_cfg {
	char plugin[16];
	int argc;
	char *argn[LDMS_AUTH_ARGS_MAX];
	char *argv[LDMS_AUTH_ARGS_MAX];
};
/* Fills cfg from a plugin name and "k=v" strings; checks the plugin exists and
 * (ovis) that the secret can be loaded. Returns 0 or -errno with err filled. */
int ldms_auth_cfg_init(struct ldms_auth_cfg *cfg, const char *plugin, int argc, char *const kv[],
		       struct ldms_err *err);
int ldms_auth_cfg_copy(struct ldms_auth_cfg *dst, const struct ldms_auth_cfg *src);
void ldms_auth_cfg_free(struct ldms_auth_cfg *cfg);

/* ---- endpoints ------------------------------------------------------------------ */
typedef struct ldms_xprt *ldms_t;

enum ldms_xprt_event_type {
	LDMS_XPRT_EVENT_CONNECTED = 1, /* authenticated and ready */
	LDMS_XPRT_EVENT_REJECTED,      /* peer refused (version, auth name, auth) */
	LDMS_XPRT_EVENT_ERROR,	       /* could not connect */
	LDMS_XPRT_EVENT_DISCONNECTED,  /* connection closed after CONNECTED */
	LDMS_XPRT_EVENT_RECV,	       /* SEND_MSG payload: data/data_len */
	LDMS_XPRT_EVENT_SET_DELETE,    /* peer deleted a set we looked up: set */
};

struct ldms_xprt_event {
	enum ldms_xprt_event_type type;
	const char *data; /* RECV payload; REJECTED/ERROR: reason text (may be NULL) */
	size_t data_len;
	ldms_set_t set; /* SET_DELETE */
};

typedef void (*ldms_event_cb_t)(ldms_t x, struct ldms_xprt_event *e, void *cb_arg);

/* Options shared by listeners and active endpoints. -1 = unlimited. */
struct ldms_xprt_opts {
	int64_t recv_quota;
	int64_t rate_limit;
	int msg_enabled;
	int legacy_conn_msg; /* active side: send the 20-byte conn msg */
};

/* ---- passive side ------------------------------------------------------------------
 * Serves sets from the registry (DIR, LOOKUP, READ) and delivers SEND_MSG payloads
 * to cb (RECV) for every accepted connection. host NULL/"" = all addresses.
 * port may be "0" to pick a free port (see ldms_listener_port). */
struct ldms_listener;
struct ldms_listener *ldms_listen(const char *xprt, const char *host, const char *port,
				  const struct ldms_auth_cfg *auth,
				  const struct ldms_xprt_opts *opts, ldms_event_cb_t cb,
				  void *cb_arg, struct ldms_err *err);
int ldms_listener_port(struct ldms_listener *l);
/* Most connections one peer address (any port) may have open on a listener at once;
 * further ones are closed right after accept() and logged (docs/hostile-peers.md).
 * 0 = no limit. The default applies to listeners created afterwards. */
#define LDMS_LISTEN_PEER_MAX_DEFAULT 256
void ldms_listen_peer_max_default_set(int max);
int ldms_listen_peer_max_default(void);
int ldms_listener_peer_max_set(struct ldms_listener *l, int max); /* 0 or -EINVAL */
void ldms_listener_close(struct ldms_listener *l);

/* ---- active side ---------------------------------------------------------------------- */
ldms_t ldms_xprt_new(const char *xprt, const struct ldms_auth_cfg *auth,
		     const struct ldms_xprt_opts *opts);
/* Asynchronous connect; cb receives CONNECTED / REJECTED / ERROR, later
 * DISCONNECTED, RECV and SET_DELETE. */
int ldms_xprt_connect(ldms_t x, const char *host, const char *port, ldms_event_cb_t cb,
		      void *cb_arg);
/* Blocking connect for tools: 0, -ECONNREFUSED, -EACCES (auth refused), -ETIMEDOUT... */
int ldms_xprt_connect_sync(ldms_t x, const char *host, const char *port, int timeout_ms,
			   struct ldms_err *err);
/* Close the connection (DISCONNECTED is delivered if it was connected) and drop
 * the caller's reference. */
void ldms_xprt_close(ldms_t x);
ldms_t ldms_xprt_get(ldms_t x);
void ldms_xprt_put(ldms_t x);
int ldms_xprt_connected(ldms_t x);

/* Peer identity and credential (from authentication: none/ovis -> 0/0). */
int ldms_xprt_peer_cred(ldms_t x, uid_t *uid, gid_t *gid);
/* "a.b.c.d" and port of the peer / local end. */
int ldms_xprt_peer_addr(ldms_t x, char *host, size_t hostlen, int *port);
int ldms_xprt_local_addr(ldms_t x, char *host, size_t hostlen, int *port);
const char *ldms_xprt_auth_name(ldms_t x);
void *ldms_xprt_ctx_get(ldms_t x);
void ldms_xprt_ctx_set(ldms_t x, void *ctx);

/* SEND_MSG: payload delivered to the peer's RECV. len <= ldms_xprt_msg_max(). */
int ldms_xprt_send(ldms_t x, const void *data, size_t len);
size_t ldms_xprt_msg_max(ldms_t x);

/* ---- directory ---------------------------------------------------------------------- */
enum ldms_dir_type {
	LDMS_DIR_LIST = 0,
	LDMS_DIR_DEL = 1,
	LDMS_DIR_ADD = 2,
	LDMS_DIR_UPD = 3,
};
#define LDMS_DIR_F_NOTIFY 1

struct ldms_kv {
	char *key;
	char *value;
};

struct ldms_dir_set {
	char *inst_name;
	char *schema_name;
	char digest_str[65];
	char flags[4];
	uint64_t meta_size, data_size, heap_size;
	uint32_t uid, gid, perm;
	uint32_t card, array_card;
	uint64_t meta_gn, data_gn;
	struct ldms_timestamp timestamp, duration;
	size_t info_count;
	struct ldms_kv *info;
};

struct ldms_dir {
	enum ldms_dir_type type;
	int more; /* more DIR replies follow */
	size_t set_count;
	struct ldms_dir_set *set_data;
};

/* The callback owns dir (release with ldms_xprt_dir_free); status is 0 or -errno
 * (dir NULL). With LDMS_DIR_F_NOTIFY the callback is called again for every later
 * ADD/UPD/DEL until ldms_xprt_dir_cancel or disconnect. */
typedef void (*ldms_dir_cb_t)(ldms_t x, int status, struct ldms_dir *dir, void *cb_arg);
int ldms_xprt_dir(ldms_t x, ldms_dir_cb_t cb, void *cb_arg, uint32_t flags);
int ldms_xprt_dir_cancel(ldms_t x);
void ldms_xprt_dir_free(ldms_t x, struct ldms_dir *dir);
/* Blocking: collects every LIST reply (following `more`) into one dir. */
int ldms_xprt_dir_sync(ldms_t x, struct ldms_dir **dir, int timeout_ms);

/* Directory JSON, encoder and decoder (also used by fuzzing and tests).
 * ldms_dir_json_entry appends one set's object to buf (returns bytes written or
 * -ENOSPC). ldms_dir_json_parse parses a whole `{ "directory" : [...] }` text of
 * len bytes (NUL optional) into *dir (type/more set by the caller). */
int ldms_dir_json_entry(ldms_set_t s, char *buf, size_t len);
int ldms_dir_json_parse(const char *json, size_t len, struct ldms_dir **dir, struct ldms_err *err);
void ldms_dir_free(struct ldms_dir *dir);

/* ---- lookup --------------------------------------------------------------------------- */
#define LDMS_LOOKUP_BY_INSTANCE 0
#define LDMS_LOOKUP_BY_SCHEMA	1
#define LDMS_LOOKUP_RE		2
#define LDMS_LOOKUP_SET_INFO	4

/* Called once per matching set (more != 0 while more follow), or once with
 * status -errno and set NULL. The set is a remote mirror with one reference owned
 * by the callee (keep it with ldms_set_get, or it is released after the callback).
 * The meta section has NOT been read yet: call ldms_xprt_update(). */
typedef void (*ldms_lookup_cb_t)(ldms_t x, int status, int more, ldms_set_t s, void *cb_arg);
int ldms_xprt_lookup(ldms_t x, const char *name, uint32_t flags, ldms_lookup_cb_t cb, void *cb_arg);

/* ---- update --------------------------------------------------------------------------
 * Reads meta (if its gn changed or it was never read) and the data section(s) that
 * are new, then calls cb with status 0 (set readable: consistent or not) or -errno.
 * Only one update per set is in flight; a second call returns -EBUSY. */
typedef void (*ldms_update_cb_t)(ldms_t x, ldms_set_t s, int status, void *cb_arg);
int ldms_xprt_update(ldms_set_t s, ldms_update_cb_t cb, void *cb_arg);
/* The endpoint a mirror set came from (borrowed), NULL for local sets. */
ldms_t ldms_set_xprt_get(ldms_set_t s);

/* ---- statistics (bench, status commands) ---------------------------------------------- */
struct ldms_xprt_stats {
	uint64_t connections_open;
	uint64_t connections_total;
	uint64_t bytes_rx, bytes_tx;
	uint64_t reads_served;
	uint64_t connected_total;    /* connections that completed authentication */
	uint64_t rejected_total;     /* refused by us (listener, peer limit) or by the peer */
	uint64_t auth_failed_total;  /* authentication failures, either side */
	uint64_t disconnected_total; /* connected connections that have closed */
};
void ldms_xprt_stats_get(struct ldms_xprt_stats *st);

/* ---- push (updtr push=, ldms-protocol.md §6.5 item 4; docs/push.md) ------------------
 * A client asks the owner of a mirror's set to send the set's bytes itself instead
 * of being read: with LDMS_XPRT_PUSH_F_CHANGE after every ldms_transaction_end of
 * the owner's set, without it only when the owner calls ldms_xprt_push(). The
 * bytes are applied to the mirror (bounds-checked; a new meta section is validated)
 * and cb runs on the endpoint's I/O thread once per push with status 0 (or -errno
 * when a push could not be applied) and the LDMS_UPD_F_* flags. Every successful
 * registration ends with exactly one call carrying LDMS_UPD_F_PUSH_LAST: status 0
 * when the owner answered ldms_xprt_cancel_push(), -ECANCELED when a new
 * registration of the same mirror replaced it, -ENOTCONN when the connection ended
 * (or was already gone). Registration needs write access of the owner's credential
 * to the mirror (0222 bits, §4.6; none/ovis authentication gives root); the owner
 * only serves peers that may read the set. */
#define LDMS_XPRT_PUSH_F_CHANGE 1
#define LDMS_UPD_F_PUSH		0x10000000u
#define LDMS_UPD_F_PUSH_LAST	0x20000000u
#define LDMS_UPD_F_MORE		0x40000000u
typedef void (*ldms_push_cb_t)(ldms_t x, ldms_set_t s, int status, uint32_t flags, void *cb_arg);
/* -EINVAL (not a mirror / no cb), -ENOTCONN, -EACCES, -ENOMEM. Registering again
 * replaces the flags and callback. */
int ldms_xprt_register_push(ldms_set_t s, uint32_t push_flags, ldms_push_cb_t cb, void *cb_arg);
/* Sends CANCEL_PUSH (the owner's answer brings the LAST call); without a
 * connection the registration ends at once. -ENOENT when not registered. */
int ldms_xprt_cancel_push(ldms_set_t s);
/* Owner side: push s now to every peer registered for it (with or without
 * CHANGE). Returns the number of peers pushed to, or -errno. */
int ldms_xprt_push(ldms_set_t s);

#endif
