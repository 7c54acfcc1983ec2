/* The aggregation tree inside ldmsd: producers (connections to peers and their
 * mirror sets), updaters (when to pull), storage policies (what to store where) and
 * the store worker pool with bounded queues. Shared by prdcr.c, updtr.c, strgp.c,
 * store_worker.c and agg.c; the pure helpers at the end are unit-tested. */
#ifndef LDMSD_AGG_H
#define LDMSD_AGG_H

#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ldms/ldms_set.h>
#include <ldms/ldms_xprt.h>
#include <ldmsd/ldmsd_plugin.h>

#include "cfgobj.h"

struct ldmsd;
struct ldmsd_prdcr;
struct ldmsd_prdcr_set;
struct ldmsd_updtr;
struct ldmsd_strgp;
struct ldmsd_store_pool;

#define LDMSD_PRDCR_LOG "producer"
#define LDMSD_UPDTR_LOG "updater"
#define LDMSD_STRGP_LOG "strgp"

/* ---- regex lists (updtr_prdcr_add, updtr_match_add, strgp_prdcr_add) ---------------- */
enum ldmsd_match_sel {
	LDMSD_MATCH_INST = 0,
	LDMSD_MATCH_SCHEMA = 1,
};

struct ldmsd_regex_ent {
	TAILQ_ENTRY(ldmsd_regex_ent) link;
	char *str;
	enum ldmsd_match_sel sel;
	regex_t re;
};
TAILQ_HEAD(ldmsd_regex_list, ldmsd_regex_ent);

/* Compiles (POSIX extended, no sub-matches) and appends; -EEXIST if the same
 * (string, selector) is present, -EINVAL with msg filled for a bad regex. */
int ldmsd_regex_list_add(struct ldmsd_regex_list *l, const char *str, enum ldmsd_match_sel sel,
			 char *msg, size_t msglen);
/* -ENOENT if absent. */
int ldmsd_regex_list_del(struct ldmsd_regex_list *l, const char *str, enum ldmsd_match_sel sel);
void ldmsd_regex_list_free(struct ldmsd_regex_list *l);
int ldmsd_regex_list_empty(const struct ldmsd_regex_list *l);
/* Does any entry match `s`? (Empty list: no.) */
int ldmsd_regex_list_match(const struct ldmsd_regex_list *l, const char *s);
/* Set filter of an updater: an empty list selects every set; otherwise a set is
 * selected when an INST entry matches its instance or a SCHEMA entry its schema. */
int ldmsd_regex_list_match_set(const struct ldmsd_regex_list *l, const char *inst,
			       const char *schema);

/* ---- producers -------------------------------------------------------------------- */
enum ldmsd_prdcr_state {
	LDMSD_PRDCR_STOPPED = 0,
	LDMSD_PRDCR_DISCONNECTED,
	LDMSD_PRDCR_CONNECTING,
	LDMSD_PRDCR_CONNECTED,
	LDMSD_PRDCR_STOPPING,
	LDMSD_PRDCR_STANDBY,
};

enum ldmsd_prdcr_type {
	LDMSD_PRDCR_ACTIVE = 0,
	LDMSD_PRDCR_PASSIVE,
	LDMSD_PRDCR_BRIDGE,
	LDMSD_PRDCR_ADVERTISER,
	LDMSD_PRDCR_ADVERTISED,
};

/* What happens to a producer (commands, reconnect timer, transport events). */
enum ldmsd_prdcr_event {
	LDMSD_PRDCR_EV_START = 0,
	LDMSD_PRDCR_EV_STOP,
	LDMSD_PRDCR_EV_TIMER,	     /* reconnect interval elapsed */
	LDMSD_PRDCR_EV_CONNECTED,    /* transport CONNECTED */
	LDMSD_PRDCR_EV_CONN_ERROR,   /* transport ERROR / REJECTED (connect failed) */
	LDMSD_PRDCR_EV_DISCONNECTED, /* transport DISCONNECTED */
};

/* Actions the caller performs after a transition (bit mask). */
#define LDMSD_PRDCR_A_CONNECT 0x1u /* start a new connection */
#define LDMSD_PRDCR_A_CLOSE   0x2u /* close the current connection */
#define LDMSD_PRDCR_A_DIR     0x4u /* ask for the directory with updates */
#define LDMSD_PRDCR_A_RESET   0x8u /* drop the connection and every producer set */

/* The producer state machine (pure). Returns 0 with *next and *actions filled, or
 * -EBUSY when a command does not apply in this state (start while running, stop
 * while stopped/stopping). Transport events that do not apply leave the state as
 * it is with no action (stale events of a connection already given up). */
int ldmsd_prdcr_transition(enum ldmsd_prdcr_state cur, enum ldmsd_prdcr_event ev,
			   enum ldmsd_prdcr_state *next, unsigned *actions);
const char *ldmsd_prdcr_state_str(enum ldmsd_prdcr_state s);
const char *ldmsd_prdcr_type_str(enum ldmsd_prdcr_type t);
/* "active", ... -> type; -EINVAL for unknown or "local" (rejected as upstream). */
int ldmsd_prdcr_type_parse(const char *s, enum ldmsd_prdcr_type *t);

enum ldmsd_prdcr_set_state {
	LDMSD_PRDCR_SET_START = 0, /* listed by the peer, not looked up */
	LDMSD_PRDCR_SET_LOOKUP,	   /* lookup in flight */
	LDMSD_PRDCR_SET_READY,	   /* mirror exists; updates may run */
	LDMSD_PRDCR_SET_UPDATING,  /* update in flight */
	LDMSD_PRDCR_SET_DELETED,
};
const char *ldmsd_prdcr_set_state_str(enum ldmsd_prdcr_set_state s);

/* A set of a producer, from the peer's directory until it is deleted or the
 * connection ends. Reference counted: in-flight lookups/updates and store jobs
 * hold references. Fields are protected by the producer's lock. */
struct ldmsd_prdcr_set {
	int ref;		   /* atomic */
	struct ldmsd_prdcr *prdcr; /* holds a producer reference */
	char *inst_name;
	char *schema_name;
	enum ldmsd_prdcr_set_state state;
	ldms_set_t set; /* the mirror, after the lookup */
	int published;	/* the mirror is in the local registry (served to our peers) */
	int publish_failed;
	int64_t hint_interval_us; /* updt_hint_us of the peer's set; 0 = none */
	int64_t hint_offset_us;
	int hint_async;
	int64_t my_hint_interval; /* updt_hint_us we set on our mirror (our schedule) */
	int64_t my_hint_offset;
	uint64_t last_store_gn; /* data gn last handed to storage */
	int push_reg;		/* LDMSD_UPDTR_PUSH_* registered with the owner; 0 = none */
	uint64_t updates, update_errors, busy_skips, inconsistent, pushes;
	int last_err;
	struct ldmsd_store_snap *spare; /* a recycled snapshot (store_worker.c) */
	pthread_mutex_t snap_lock;
};

struct ldmsd_prdcr_set *ldmsd_prdcr_set_get(struct ldmsd_prdcr_set *ps);
void ldmsd_prdcr_set_put(struct ldmsd_prdcr_set *ps);

/* Parse a set-info `updt_hint_us` value "<interval>:<offset>" or "<interval>:"
 * (asynchronous). Returns 0 or -EINVAL. */
int ldmsd_updt_hint_parse(const char *s, int64_t *interval_us, int64_t *offset_us, int *async);

TAILQ_HEAD(ldmsd_prdcr_list, ldmsd_prdcr);
TAILQ_HEAD(ldmsd_prdcr_listen_list, ldmsd_prdcr_listen);
TAILQ_HEAD(ldmsd_updtr_list, ldmsd_updtr);
TAILQ_HEAD(ldmsd_strgp_list, ldmsd_strgp);

struct ldmsd_prdcr {
	TAILQ_ENTRY(ldmsd_prdcr) link;
	int ref; /* atomic */
	pthread_mutex_t lock;
	struct ldmsd *d;
	LDMSD_CFGOBJ_HEAD; /* name, uid, gid, perm */
	char *host;
	char *conn_host; /* cache_ip: the address resolved at prdcr_add */
	int port;
	char *port_str;
	char *xprt_name;
	enum ldmsd_prdcr_type type;
	char *auth_dom; /* NULL = DEFAULT */
	struct ldms_auth_cfg auth;
	int64_t reconnect_us;
	int rail;
	int64_t quota;
	int64_t rx_rate;
	int cache_ip;
	int adv_active; /* ADVERTISED: we connect to it (else its own connection is used) */
	/* runtime (lock) */
	enum ldmsd_prdcr_state state;
	ldms_t x;	  /* holds a reference of the producer (ldmsd_prdcr_release_x) */
	uint64_t conn_id; /* current connection's id in the connection table */
	int pending_conn; /* a peer's connection was bound: deliver CONNECTED unlocked */
	struct ldmsd_sched_task *task;
	struct ldmsd_prdcr_set **sets; /* sorted by instance name */
	size_t n_sets, cap_sets;
	uint64_t connects, disconnects;
};

struct ldmsd_prdcr *ldmsd_prdcr_get(struct ldmsd_prdcr *p);
void ldmsd_prdcr_put(struct ldmsd_prdcr *p);
/* Caller holds the aggregation lock (agg->lock, read or write). */
struct ldmsd_prdcr *ldmsd_prdcr_find(struct ldmsd *d, const char *name);
/* Update a READY set of a CONNECTED producer now (on behalf of updater u, may be
 * NULL); lookups sets in START. Called with p->lock NOT held. Returns the number
 * of operations issued. */
int ldmsd_prdcr_update_sets(struct ldmsd_prdcr *p, struct ldmsd_updtr *u, int64_t hint_interval,
			    int64_t hint_offset, int match_hint);
/* What prdcr_add, advertiser_add and an advertisement create. */
struct ldmsd_prdcr_spec {
	const char *name, *xprt, *host;
	int port; /* 0: none (passive) */
	enum ldmsd_prdcr_type type;
	int adv_active;
	int64_t reconnect_us;
	const char *auth; /* NULL = DEFAULT */
	int rail;
	int64_t quota, rx_rate;
	int cache_ip;
	uid_t uid;
	gid_t gid;
	uint32_t perm;
};
/* Creates and lists a STOPPED producer (caller holds no aggregation lock).
 * Returns 0 (*out borrowed, may be NULL) or -errno with msg filled. */
int ldmsd_prdcr_create(struct ldmsd *d, const struct ldmsd_prdcr_spec *s, struct ldmsd_prdcr **out,
		       char *msg, size_t msglen);
/* prdcr_start/prdcr_stop of one producer (-EBUSY when not applicable). */
int ldmsd_prdcr_start(struct ldmsd *d, struct ldmsd_prdcr *p, int64_t reconnect_us);
void ldmsd_prdcr_stop(struct ldmsd_prdcr *p);
/* Closes a producer's connection and drops its reference (after p->lock). */
void ldmsd_prdcr_release_x(ldms_t x);
/* Transport event of producer connection `id` (also those arriving on a listener
 * for passive producers). */
void ldmsd_prdcr_conn_event(uint64_t id, ldms_t x, struct ldms_xprt_event *e);
/* Connection-table id for a producer connection (0 on ENOMEM) and its removal. */
uint64_t ldmsd_prdcr_conn_register(struct ldmsd_prdcr *p);
void ldmsd_prdcr_conn_unregister(uint64_t id);
/* An advertised (passive) producer gets the advertiser's connection x. 0, or
 * -EBUSY (already has one), -EAGAIN (stopping: retry). */
int ldmsd_prdcr_bind(struct ldmsd_prdcr *p, ldms_t x);
/* Drops connection `id` of p if it is still the current one (it reconnects). */
void ldmsd_prdcr_drop_conn(struct ldmsd_prdcr *p, uint64_t id);

/* ---- peers that connect to us (prdcr_passive.c) ------------------------------------------
 * Every connection accepted by a listener is tracked from CONNECTED to
 * DISCONNECTED so that a passive producer can take it (matched by address at its
 * reconnect tick) and an advertisement can bind it; their events then reach the
 * producer. Called by the listener callback (listen.c) for every event; returns
 * 1 when it consumed the event (an LDMSD_ADVERTISE_REQ: a daemon-to-daemon request
 * without a verb, hence without an entry in the command registry), else 0. */
int ldmsd_agg_listen_event(struct ldmsd *d, ldms_t x, struct ldms_xprt_event *e);
/* The oldest unclaimed connection from one of host's addresses that never sent
 * a control request, claimed for producer connection `id` (a reference), or NULL. */
ldms_t ldmsd_passive_claim(struct ldmsd *d, const char *host, uint64_t id);
/* Route x's events to producer connection id (x arrived with an advertisement). */
int ldmsd_passive_claim_x(ldms_t x, uint64_t id);
void ldmsd_passive_free_all(struct ldmsd *d);

/* prdcr_listen (aggregator side of peer advertisement). */
struct ldmsd_prdcr_listen {
	TAILQ_ENTRY(ldmsd_prdcr_listen) link;
	LDMSD_CFGOBJ_HEAD; /* name, uid, gid, perm */
	char *regex_str;
	regex_t regex;
	char *cidr_str;
	uint8_t net[16]; /* IPv6 or IPv4-mapped */
	int prefix_len;	 /* bits of net; -1 = no IP filter */
	int auto_start;
	int running;
	int active; /* producers connect to the advertiser (advertiser_port) */
	char *xprt, *auth;
	int port; /* advertiser_port; 0 = the advertised port */
	int rail;
	int64_t reconnect_us, quota, rx_rate;
	char **prdcrs; /* names of the producers it created */
	size_t n_prdcrs;
};
void ldmsd_prdcr_listen_free_all(struct ldmsd *d);
/* Command handlers (listed in prdcr_cmd.c's table). */
struct ldmsd_req_ctxt;
int ldmsd_prdcr_listen_add_handler(struct ldmsd_req_ctxt *c);
int ldmsd_prdcr_listen_del_handler(struct ldmsd_req_ctxt *c);
int ldmsd_prdcr_listen_start_handler(struct ldmsd_req_ctxt *c);
int ldmsd_prdcr_listen_stop_handler(struct ldmsd_req_ctxt *c);
int ldmsd_prdcr_listen_status_handler(struct ldmsd_req_ctxt *c);
/* IPv4/IPv6 CIDR parsing and matching (pure; IPv4 as IPv4-mapped IPv6). */
int ldmsd_cidr_parse(const char *s, uint8_t net[16], int *prefix_len);
int ldmsd_cidr_match(const uint8_t net[16], int prefix_len, const char *addr);

/* Sampler side of peer advertisement (advertise.c): the advertisement an
 * ADVERTISER sends once connected, and what arrives on its connection. */
void ldmsd_advertise_send(struct ldmsd_prdcr *p, ldms_t x);
void ldmsd_advertise_recv(struct ldmsd_prdcr *p, uint64_t id, ldms_t x, const char *data,
			  size_t len);

/* updtr_stop of a push updater u: cancel the push registrations of p's sets that
 * u selects (the owners answer; p->lock NOT held). */
void ldmsd_prdcr_push_cancel(struct ldmsd_prdcr *p, struct ldmsd_updtr *u);
/* Hooks for other parts of ldmsd (message forwarding...): called on the I/O
 * thread after a producer connected (x usable) and before it is reset. */
typedef void (*ldmsd_prdcr_hook_fn)(struct ldmsd_prdcr *p, ldms_t x, int connected, void *arg);
int ldmsd_prdcr_hook_add(struct ldmsd *d, ldmsd_prdcr_hook_fn fn, void *arg);

/* ---- updaters --------------------------------------------------------------------- */
enum ldmsd_updtr_state {
	LDMSD_UPDTR_STOPPED = 0,
	LDMSD_UPDTR_RUNNING,
	LDMSD_UPDTR_STOPPING,
};

#define LDMSD_UPDTR_PUSH_ONCHANGE 1
#define LDMSD_UPDTR_PUSH_REQUEST  2

struct ldmsd_updtr_hint_task; /* updtr.c */

struct ldmsd_updtr {
	TAILQ_ENTRY(ldmsd_updtr) link;
	struct ldmsd *d;
	LDMSD_CFGOBJ_HEAD; /* name, uid, gid, perm */
	int64_t interval_us;
	int64_t offset_us;
	int sync; /* an offset was given: aligned to the wall clock grid + offset */
	int push; /* LDMSD_UPDTR_PUSH_* or 0 */
	int auto_interval;
	struct ldmsd_regex_list prdcr_list;
	struct ldmsd_regex_list match_list;
	/* runtime */
	enum ldmsd_updtr_state state;
	struct ldmsd_sched_task *task;
	struct ldmsd_updtr_hint_task *hints; /* auto_interval: one task per set hint */
	pthread_mutex_t hint_lock;
	uint64_t ticks, updates_issued;
};

/* The grid point of an updater's next run strictly after now (pure). */
int64_t ldmsd_updtr_next_us(int64_t now_us, int64_t interval_us, int64_t offset_us);
/* Schedule of an auto_interval updater for a set hint: the set's interval, the
 * set's offset plus the updater's offset (the updater offset is the delay after
 * sampling), folded into (-interval/2, interval/2]. Pure. */
void ldmsd_updtr_auto_schedule(int64_t hint_interval, int64_t hint_offset, int64_t updtr_offset,
			       int64_t *interval, int64_t *offset);
/* Does updater u cover set (inst, schema) of producer prdcr_name? Caller holds
 * agg->lock. */
/* An auto_interval updater met a set with this hint: make sure a task runs on
 * that schedule (called from the default task, producer lock held). */
void ldmsd_updtr_hint_seen(struct ldmsd_updtr *u, int64_t interval_us, int64_t offset_us);
int ldmsd_updtr_selects(struct ldmsd_updtr *u, const char *prdcr_name, const char *inst,
			const char *schema);

/* ---- storage policies --------------------------------------------------------------- */
enum ldmsd_strgp_state {
	LDMSD_STRGP_STOPPED = 0,
	LDMSD_STRGP_RUNNING,
	LDMSD_STRGP_STOPPING,
};

/* the commands' guard (cfgobj.c) reads these states as enum ldmsd_cfgobj_run */
_Static_assert(LDMSD_UPDTR_STOPPED == (int)LDMSD_CFGOBJ_STOPPED &&
		   LDMSD_UPDTR_RUNNING == (int)LDMSD_CFGOBJ_RUNNING &&
		   LDMSD_UPDTR_STOPPING == (int)LDMSD_CFGOBJ_STOPPING &&
		   LDMSD_STRGP_STOPPED == (int)LDMSD_CFGOBJ_STOPPED &&
		   LDMSD_STRGP_RUNNING == (int)LDMSD_CFGOBJ_RUNNING &&
		   LDMSD_STRGP_STOPPING == (int)LDMSD_CFGOBJ_STOPPING,
	       "updater and storage policy states are enum ldmsd_cfgobj_run values");

struct ldmsd_plugin_inst;

struct ldmsd_strgp {
	TAILQ_ENTRY(ldmsd_strgp) link;
	int ref; /* atomic */
	pthread_mutex_t lock;
	struct ldmsd *d;
	LDMSD_CFGOBJ_HEAD; /* name, uid, gid, perm */
	char *plugin;	   /* plugin instance name */
	char *container;
	char *schema; /* NULL in regex mode */
	char *regex_str;
	regex_t regex;
	int have_regex;
	char *decomp;
	int64_t flush_us;
	struct ldmsd_regex_list prdcr_list;
	char **metrics; /* strgp_metric_add order; empty = all */
	size_t n_metrics;
	/* runtime (lock) */
	enum ldmsd_strgp_state state;
	struct ldmsd_plugin_inst *pi;
	void *store_ctx;
	int opened;
	int open_failed;
	uint8_t digest[LDMS_DIGEST_LEN];
	int have_digest;
	struct ldmsd_store_policy policy;
	int *col_idx;
	char **col_names;
	size_t n_cols;
	int busy; /* a worker is storing for this policy (lock) */
	pthread_cond_t idle;
	uint64_t last_flush_us;
	uint64_t stored, drops, refused, store_errors;
	int last_store_rc;
};

struct ldmsd_strgp *ldmsd_strgp_get(struct ldmsd_strgp *s);
void ldmsd_strgp_put(struct ldmsd_strgp *s);
/* A producer set was updated: hand it to every RUNNING policy that matches (never
 * blocks). Called on the I/O thread that completed the update. */
void ldmsd_strgp_update(struct ldmsd *d, struct ldmsd_prdcr_set *ps, ldms_set_t s);

/* Column resolution: indices into the set's metrics for the wanted names, in the
 * wanted order; no wanted names = every metric in set order. Returns the number of
 * columns (idx_out sized >= max(n_want, n_set)) or -ENOENT with msg naming the
 * missing metric. Pure. */
int ldmsd_strgp_columns(const char *const *set_names, size_t n_set, const char *const *want,
			size_t n_want, int *idx_out, char *msg, size_t msglen);

/* ---- store workers ------------------------------------------------------------------- */
/* A copy of a mirror set taken when an update completed; shared by the jobs of
 * every policy storing that update. */
struct ldmsd_store_snap {
	int ref; /* atomic */
	ldms_set_t set;
	uint64_t meta_gn;
	struct ldmsd_prdcr_set *ps; /* reference */
};
/* Snapshot of ps's mirror s (recycles ps's spare copy when the metadata did not
 * change). NULL on failure. */
struct ldmsd_store_snap *ldmsd_store_snap_take(struct ldmsd_prdcr_set *ps, ldms_set_t s);
struct ldmsd_store_snap *ldmsd_store_snap_get(struct ldmsd_store_snap *sn);
void ldmsd_store_snap_put(struct ldmsd_store_snap *sn);
/* Frees a spare (unreferenced) snapshot. */
void ldmsd_store_snap_free(struct ldmsd_store_snap *sn);

struct ldmsd_store_job {
	TAILQ_ENTRY(ldmsd_store_job) link;
	struct ldmsd_strgp *strgp;     /* reference */
	struct ldmsd_store_snap *snap; /* reference */
	const void *key;	       /* (strgp, producer set): replacement key */
	const void *key2;
	uint64_t enq_us;
};
TAILQ_HEAD(ldmsd_store_job_list, ldmsd_store_job);

/* The bounded queue (pure, no locking): push never blocks. When the queue holds
 * max jobs, the oldest pending job with the same key is replaced by the new one,
 * else the oldest job is evicted. The replaced/evicted job is returned in
 * *dropped (caller frees it and counts a drop for its policy). */
struct ldmsd_store_queue {
	struct ldmsd_store_job_list jobs;
	size_t depth;
	size_t max;
};
void ldmsd_store_queue_init(struct ldmsd_store_queue *q, size_t max);
void ldmsd_store_queue_push(struct ldmsd_store_queue *q, struct ldmsd_store_job *j,
			    struct ldmsd_store_job **dropped);
struct ldmsd_store_job *ldmsd_store_queue_pop(struct ldmsd_store_queue *q);
/* Removes every job of policy s (strgp_stop); they go to *out. */
void ldmsd_store_queue_remove_strgp(struct ldmsd_store_queue *q, struct ldmsd_strgp *s,
				    struct ldmsd_store_job_list *out);

void ldmsd_store_job_free(struct ldmsd_store_job *j);

#define LDMSD_STORAGE_THREADS_DEFAULT 1
#define LDMSD_STORAGE_QUEUE_DEFAULT   1024

/* Starts the pool if needed (with agg's thread/queue settings). */
int ldmsd_store_pool_start(struct ldmsd *d);
/* Stops and joins the workers; pending jobs are dropped. */
void ldmsd_store_pool_stop(struct ldmsd *d);
/* Queue a job on the worker that owns (strgp, producer set): never blocks. */
void ldmsd_store_pool_submit(struct ldmsd *d, struct ldmsd_store_job *j);
/* Drop every queued job of s and wait until no worker is storing for it. */
void ldmsd_store_pool_drain_strgp(struct ldmsd *d, struct ldmsd_strgp *s);
/* Worker side (strgp.c): store one job. */
void ldmsd_strgp_store_job(struct ldmsd_strgp *s, struct ldmsd_store_job *j);

/* ---- the aggregation state of a daemon (agg.c) ------------------------------------------ */
struct ldmsd_prdcr_hook {
	ldmsd_prdcr_hook_fn fn;
	void *arg;
};

struct ldmsd_agg {
	/* Protects the three lists and every object's configuration. Command
	 * handlers take it for writing; I/O and scheduler callbacks for reading.
	 * Never held while waiting for a scheduler task or a worker. */
	pthread_rwlock_t lock;
	struct ldmsd_prdcr_list prdcrs;
	struct ldmsd_updtr_list updtrs;
	struct ldmsd_strgp_list strgps;
	struct ldmsd_prdcr_listen_list listens;
	struct ldmsd_prdcr_hook hooks[8];
	int n_hooks;
	/* store workers */
	int storage_threads;
	size_t storage_queue;
	struct ldmsd_store_pool *pool;
	int live_conns; /* atomic: connections not yet terminated */
};

/* The daemon's aggregation state, created on first use. NULL on ENOMEM. */
struct ldmsd_agg *ldmsd_agg(struct ldmsd *d);
/* Stops updaters, storage policies and producers, waits (bounded) for the
 * connections to end, stops the workers and frees everything. */
void ldmsd_agg_shutdown(struct ldmsd *d);
/* The scheduler (created if the daemon has none yet). */
struct ldmsd_sched *ldmsd_agg_sched(struct ldmsd *d);

/* Shutdown pieces (each file frees its own objects). */
void ldmsd_updtr_stop_all(struct ldmsd *d);
void ldmsd_updtr_free_all(struct ldmsd *d);
void ldmsd_strgp_stop_all(struct ldmsd *d);
void ldmsd_strgp_free_all(struct ldmsd *d);
void ldmsd_prdcr_stop_all(struct ldmsd *d);
void ldmsd_prdcr_free_all(struct ldmsd *d);

/* Access check of a configuration object for a control request (NET origin only;
 * files and the daemon itself are trusted). acc: 2 write/modify, 4 read. */
struct ldmsd_req_ctxt;
int ldmsd_agg_access(struct ldmsd_req_ctxt *c, uid_t uid, gid_t gid, uint32_t perm, uint32_t acc);
/* Owner of a new object: the requester (NET) or the daemon. */
void ldmsd_agg_owner(struct ldmsd_req_ctxt *c, uid_t *uid, gid_t *gid);
/* Parses perm= (octal); default 0770. */
int ldmsd_agg_perm(struct ldmsd_req_ctxt *c, uint32_t *perm);

#endif
