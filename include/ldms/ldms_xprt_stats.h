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
struct ldms_io_thread_info {
	int idx;
	pid_t tid;
	uint64_t pthread_id; /* pthread_t value, as upstream prints "0x..." */
	struct ldms_thread_usage usage;
	int gathered;	/* n_eps/sq_sz are valid: the thread answered in time */
	int n_eps;	/* endpoints it serves */
	uint64_t sq_sz; /* bytes waiting in their send buffers */
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

/* ---- sets ---------------------------------------------------------------------------- */
/* Set objects alive in this process (published or not: being created, mirrors not
 * yet published, deleted but still referenced). */
size_t ldms_set_live_count(void);

#endif
