/* Read-only figures about libldms' threads, endpoints and sets for ldmsd's status
 * commands (thread_stats, xprt_stats, set_stats): per-thread CPU/wall usage from the
 * kernel, endpoint states and send-queue depths gathered on each endpoint's own I/O
 * thread, and the engine counters. Nothing here changes transport behaviour. */
#ifndef LDMS_XPRT_STATS_H
#define LDMS_XPRT_STATS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ldms_xprt.h"

/* ---- any thread of this process ------------------------------------------------- */
struct ldms_thread_usage {
	pid_t tid;
	char name[16];	  /* the kernel's thread name (comm) */
	uint64_t cpu_us;  /* CPU time used since the thread started */
	uint64_t age_us;  /* wall time since the thread started (10 ms resolution) */
	uint64_t wakeups; /* voluntary context switches: how often it blocked for work */
};
/* 0, or -ESRCH when tid is not a live thread of this process. */
int ldms_thread_usage_get(pid_t tid, struct ldms_thread_usage *u);
/* Linux thread id of a live pthread of this process; -ESRCH if it is gone. */
pid_t ldms_pthread_tid(pthread_t th);
/* Every thread of this process (tids, ascending). Returns the count (at most max). */
int ldms_thread_list(pid_t *tids, int max);

/* ---- the transport engine --------------------------------------------------------- */
/* What an I/O thread spent its busy time on (thread_stats "ldms_xprt"; upstream 4.5
 * names; "Idle" is the thread's age minus all of these). */
enum ldms_io_cat {
	LDMS_IO_CAT_ZAP = 0, /* framing, socket reads/writes, libevent */
	LDMS_IO_CAT_OTHER,
	LDMS_IO_CAT_CONNECTING,
	LDMS_IO_CAT_DIR_REQ,
	LDMS_IO_CAT_DIR_REP,
	LDMS_IO_CAT_LOOKUP_REQ,
	LDMS_IO_CAT_LOOKUP_REP,
	LDMS_IO_CAT_UPDATE_REQ,
	LDMS_IO_CAT_UPDATE_COMPLETE,
	LDMS_IO_CAT_MSG_DATA,
	LDMS_IO_CAT_MSG_CLIENT,
	LDMS_IO_CAT_PUSH_REQ,
	LDMS_IO_CAT_PUSH_REP,
	LDMS_IO_CAT_SET_DELETE_REQ,
	LDMS_IO_CAT_SET_DELETE_REP,
	LDMS_IO_CAT_SEND,
	LDMS_IO_CAT_RECV,
	LDMS_IO_CAT_AUTH,
	LDMS_IO_CAT_DISCONNECTING,
	LDMS_IO_CAT_COUNT
};
const char *ldms_io_cat_name(int cat); /* "Zap", "Dir Requests", ... */

struct ldms_io_thread_info {
	int idx;
	pid_t tid;
	uint64_t pthread_id; /* pthread_t value, as upstream prints "0x..." */
	struct ldms_thread_usage usage;
	int gathered;			    /* n_eps/sq_sz are valid: the thread answered in time */
	int n_eps;			    /* endpoints it serves */
	uint64_t sq_sz;			    /* bytes waiting in their send buffers */
	uint64_t cat_us[LDMS_IO_CAT_COUNT]; /* busy time per category since start */
};

struct ldms_ep_info {
	int io_idx;
	int active;	   /* 1 = we connected, 0 = accepted on a listener */
	const char *state; /* "connecting", "connect" (connected), "close" */
	char peer[64];	   /* "a.b.c.d:port" */
	uint64_t sq_sz;
};

struct ldms_xprt_snapshot {
	size_t n_io;
	struct ldms_io_thread_info *io;
	size_t n_ep;
	struct ldms_ep_info *ep;
	uint64_t uptime_us; /* since libldms was loaded */
	struct ldms_xprt_stats counters;
};
/* Gathers a snapshot: each I/O thread reports its own endpoints (their buffers are
 * only safe to read there). Threads that do not answer within timeout_ms (busy, or
 * waiting for the caller) are reported with gathered = 0 and without endpoints.
 * Callable from any thread, I/O threads included. 0 or -ENOMEM. */
int ldms_xprt_snapshot_get(struct ldms_xprt_snapshot *s, int timeout_ms);
void ldms_xprt_snapshot_free(struct ldms_xprt_snapshot *s);

/* ---- per-operation latencies (xprt_stats "op_stats") ------------------------------------
 * LOOKUP: ldms_xprt_lookup() to its last reply; UPDATE: ldms_xprt_update() to its
 * completion; DIR_REQ: ldms_xprt_dir() to the end of the listing; DIR_REP: serving
 * a DIR request; SEND: ldms_xprt_send(); RECV: delivering a received message to the
 * application; SET_DELETE: handling a peer's SET_DELETE; PUBLISH: applying a pushed
 * update; MSG_*: handling a received message-service publish / subscribe /
 * unsubscribe. Counted per thread without locks; read by summing. */
enum ldms_xprt_op {
	LDMS_XPRT_OP_LOOKUP = 0,
	LDMS_XPRT_OP_UPDATE,
	LDMS_XPRT_OP_PUBLISH,
	LDMS_XPRT_OP_SET_DELETE,
	LDMS_XPRT_OP_DIR_REQ,
	LDMS_XPRT_OP_DIR_REP,
	LDMS_XPRT_OP_SEND,
	LDMS_XPRT_OP_RECV,
	LDMS_XPRT_OP_MSG_PUBLISH,
	LDMS_XPRT_OP_MSG_SUBSCRIBE,
	LDMS_XPRT_OP_MSG_UNSUBSCRIBE,
	LDMS_XPRT_OP_COUNT
};
const char *ldms_xprt_op_name(int op); /* "LOOKUP", "DIR_REQ", ... */

struct ldms_xprt_op_stats {
	uint64_t count, total_us, min_us, max_us;
	char min_peer[48], max_peer[48]; /* "a.b.c.d:port" of the peer; "" if none */
};
/* out[LDMS_XPRT_OP_COUNT]: figures since start or the last reset. */
void ldms_xprt_op_stats_get(struct ldms_xprt_op_stats *out);
void ldms_xprt_op_stats_reset(void);

/* ---- sets ---------------------------------------------------------------------------- */
/* Set objects alive in this process (published or not: being created, mirrors not
 * yet published, deleted but still referenced). */
size_t ldms_set_live_count(void);

#endif
