/* The LDMS message service ("streams", shared/spec/qgroup-streams.md Part B):
 * publish tagged STRING/JSON messages to the local process or to a peer, local
 * subscriptions by exact tag or regex, remote subscriptions on a connection
 * (the peer forwards matching messages to us), per-connection send quota and
 * rate with the SEND_QUOTA return, and the msg_stats / msg_client_stats JSON.
 * Callbacks run on an I/O thread (or the publisher's thread for local
 * publishes) and must not block. */
#ifndef LDMS_MSG_H
#define LDMS_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ldms_xprt.h"

enum ldms_msg_type {
	LDMS_MSG_STRING = 0,
	LDMS_MSG_JSON = 1,
	LDMS_MSG_AVRO_SER = 2,
};

/* "string"/"json"/"avro_ser" (case-insensitive) -> type; -EINVAL if unknown. */
int ldms_msg_type_parse(const char *s, enum ldms_msg_type *t);
const char *ldms_msg_type_str(enum ldms_msg_type t);

/* ---- service switch (msg_enable / msg_disable). On by default. ---------------------
 * Disabled: publish/subscribe return -ENOTSUP, incoming messages are dropped and
 * their charge is returned with rc ENOTSUP, MSG_SUB is refused with ENOTSUP. */
void ldms_msg_enable(void);
void ldms_msg_disable(void);
int ldms_msg_is_enabled(void);
/* What connections accepted by l from now on advertise as "message service
 * enabled" in their conn msg (ldmsd's msg_enable / msg_disable at run time). */
void ldms_msg_listener_advertise(struct ldms_listener *l, int enabled);

/* ---- publishing ------------------------------------------------------------------- */
struct ldms_msg_cred {
	uid_t uid;
	gid_t gid;
};

/* x NULL: deliver to this process's clients (which includes forwarding to remote
 * subscribers). x set: send to the peer only (its recv quota must cover
 * strlen(tag)+1+len, else -ENOBUFS at once: nothing is queued). cred NULL = the
 * effective uid/gid; an explicit cred must be one of our ids unless we are root
 * (-EPERM). perm: 9 permission bits (0777 typical). Errors: -ENOTSUP (service or
 * peer's service disabled, legacy peer), -ENOTCONN, -EINVAL, -EPERM, -ENOBUFS,
 * -EMSGSIZE (over LDMS_MSG_SIZE_MAX). */
int ldms_msg_publish(ldms_t x, const char *tag, enum ldms_msg_type type,
		     const struct ldms_msg_cred *cred, uint32_t perm, const void *data, size_t len);
#define LDMS_MSG_SIZE_MAX (64u * 1024 * 1024) /* tag + NUL + data accepted per message */

/* The charge of a message on a connection's quota. */
static inline uint64_t ldms_msg_charge(const char *tag, size_t len)
{
	size_t n = 0;
	while (tag[n])
		n++;
	return (uint64_t)n + 1 + len;
}

/* After -ENOBUFS: wait until x's send quota (and rate) can cover `need` bytes.
 * 0 when it can; -ETIMEDOUT (timeout_ms >= 0 elapsed; < 0 waits forever);
 * -ENOTCONN when the connection ended; -EMSGSIZE when `need` exceeds the peer's
 * whole quota or rate (it can never be sent). Not from an I/O thread. */
int ldms_msg_quota_wait(ldms_t x, uint64_t need, int timeout_ms);

/* ---- local subscriptions ----------------------------------------------------------- */
enum ldms_msg_event_type {
	LDMS_MSG_EVENT_RECV = 1,	 /* a message */
	LDMS_MSG_EVENT_CLIENT_CLOSE = 2, /* last event of a closed client */
};

struct ldms_msg_event {
	enum ldms_msg_event_type type;
	const char *tag;
	enum ldms_msg_type msg_type;
	const char *data; /* data_len bytes (a trailing NUL is part of them if sent) */
	size_t data_len;
	const void *json; /* JSON messages: the parsed json_t * (jansson), NULL if invalid */
	uid_t uid;
	gid_t gid;
	uint32_t perm;
	char src[64]; /* "a.b.c.d:port" of the original publisher, "0.0.0.0:0" unknown */
	uint64_t msg_gn;
	uint32_t hop_cnt;
	struct timespec recv_ts;
	ldms_t x; /* the connection it arrived on; NULL for a local publish */
};

/* A non-zero return counts as a drop for this client. */
typedef int (*ldms_msg_cb_t)(const struct ldms_msg_event *ev, void *arg);
typedef struct ldms_msg_client *ldms_msg_client_t;

/* match: a tag, or with is_regex an unanchored POSIX extended regex (also applied
 * to tags first seen later). desc: free text shown in msg_client_stats. NULL with
 * errno set on failure (ENOTSUP disabled, EINVAL bad regex, ENOMEM). */
ldms_msg_client_t ldms_msg_subscribe(const char *match, int is_regex, ldms_msg_cb_t cb, void *arg,
				     const char *desc);
/* No callback starts after this returns; the CLIENT_CLOSE event follows the last
 * one (possibly on another thread). */
void ldms_msg_client_close(ldms_msg_client_t c);

/* ---- remote subscriptions (MSG_SUB / MSG_UNSUB on a connection) -------------------------
 * rate: bytes of payload per second the peer may forward (-1 unlimited). The
 * status callback (optional) runs on x's I/O thread with the peer's answer:
 * 0, -EEXIST (already subscribed), -ENOENT (unsubscribe of an unknown match),
 * -ENOTSUP (peer's service disabled), -ENOTCONN (connection ended first). */
typedef void (*ldms_msg_sub_cb_t)(ldms_t x, int is_unsub, const char *match, int status, void *arg);
int ldms_msg_remote_subscribe(ldms_t x, const char *match, int is_regex, int64_t rate,
			      ldms_msg_sub_cb_t cb, void *arg);
int ldms_msg_remote_unsubscribe(ldms_t x, const char *match, int is_regex, ldms_msg_sub_cb_t cb,
				void *arg);
/* Blocking forms for tools: the peer's answer, or -ETIMEDOUT. */
int ldms_msg_remote_subscribe_sync(ldms_t x, const char *match, int is_regex, int64_t rate,
				   int timeout_ms);

/* ---- statistics --------------------------------------------------------------------------
 * JSON as upstream's msg_stats / msg_client_stats (malloc'ed text in *json).
 * msg_stats: regex filters tags by regex, tag selects one tag (both NULL: all).
 * reset: return the values, then zero every counter returned. Stats level from
 * $LDMS_MSG_STATS_LEVEL (0 none, 1 per tag and client (default), 2 + sources). */
int ldms_msg_stats_json(const char *regex, const char *tag, int reset, char **json);
int ldms_msg_client_stats_json(int reset, char **json);

/* Per-connection flow-control observables (tests, spec B.9 extras). */
struct ldms_msg_conn_stats {
	int64_t send_budget; /* -1 unlimited */
	int64_t peer_quota;  /* the peer's recv_quota, -1 unlimited */
	uint64_t pending;    /* forwards waiting for quota */
	uint64_t pending_bytes;
	uint64_t queued;   /* forwards that had to wait (total) */
	uint64_t dropped;  /* forwards dropped (disconnect, oversize, hop limit) */
	uint64_t deposits; /* SEND_QUOTA received */
	uint64_t returned; /* bytes returned to the peer with SEND_QUOTA */
	int peer_disabled;
};
/* -ENOENT when the message service has no state for x (nothing exchanged yet). */
int ldms_msg_conn_stats_get(ldms_t x, struct ldms_msg_conn_stats *st);
/* Every connection known to the service, as a JSON array of objects (for status
 * commands): {"peer","send_budget","peer_quota","pending","pending_bytes",
 * "queued","dropped","deposits","returned"}. */
int ldms_msg_conn_stats_json(char **json);

/* Drops the state of closed connections now (normally done by a 1 s tick). */
void ldms_msg_sweep(void);

#endif
