/* Private to the message service (msg_*.c): messages, tag channels, clients,
 * per-connection flow-control state and the one lock that protects them all.
 * Lock rule: msg_g.lock is never held while an application callback runs; it
 * may be held while frames are posted to I/O threads (posting never calls back). */
#ifndef MSG_INT_H
#define MSG_INT_H

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ldms/ldms_msg.h"
#include "msg_codec.h"

#define MSG_LOG		  "ldms.msg"
#define MSG_HOP_LIMIT	  16 /* loop guard: deeper messages are dropped */
#define MSG_CHAN_BUCKETS  1024
#define MSG_CONN_BUCKETS  256
#define MSG_FWD_QUEUED	  1 /* forward(): waiting in the endpoint queue */
#define MSG_FWD_SKIPPED	  2 /* forward(): the subscriber may not read it (counts as tx) */
#define MSG_FWD_DUPLICATE 3 /* forward(): already sent to that connection */

struct msg_counters {
	uint64_t bytes, count;
	struct timespec first, last;
};
void msg_counters_add(struct msg_counters *c, uint64_t bytes, const struct timespec *ts);

/* Per-second bucket (Part 0.2): refilled to `rate` when the wall-clock second
 * changes; rate < 0 = unlimited. */
struct msg_bucket {
	int64_t rate;
	int64_t avail;
	time_t sec;
};
void msg_bucket_init(struct msg_bucket *b, int64_t rate);
int msg_bucket_take(struct msg_bucket *b, uint64_t n); /* 0 or -ENOBUFS */
void msg_bucket_give(struct msg_bucket *b, uint64_t n);
int msg_bucket_can(const struct msg_bucket *b, uint64_t n);

/* One message, reassembled or published. raw = full header (wire form, unused
 * after decode) + body; body = tag NUL data. */
struct msg_buf {
	atomic_int ref;
	struct msg_full_hdr h;
	uint8_t *raw;
	const char *body; /* h.msg_len bytes */
	const char *tag;
	size_t tag_len;
	const char *data;
	uint32_t data_len;
	json_t *json;
	int json_done;
	struct msg_conn *origin; /* reference; NULL for a local publish */
	uint32_t charge;	 /* returned to origin on release */
	struct timespec recv_ts;
};
struct msg_buf *msg_buf_get(struct msg_buf *m);
void msg_buf_put(struct msg_buf *m);

struct ldms_msg_client;

/* A client attached to a channel, with the (channel, client) counters. */
struct msg_bind {
	struct msg_bind *next;
	struct ldms_msg_client *c;
	struct msg_counters tx, drops;
};

struct msg_src_stat {
	struct msg_src_stat *next;
	char src[64];
	struct msg_counters rx;
};

struct msg_chan {
	struct msg_chan *hnext;
	char *tag;
	struct msg_counters rx;
	struct msg_src_stat *srcs; /* stats level 2 */
	struct msg_bind *binds;	   /* delivery order = attach order */
};

struct ldms_msg_client {
	atomic_int ref;
	struct ldms_msg_client *next; /* msg_g.clients, registration order */
	char *match;
	int is_regex;
	regex_t re;
	char *desc;
	ldms_msg_cb_t cb;
	void *arg;
	int closed;
	struct msg_counters tx, drops;
	/* remote subscriber (forwarder) */
	struct msg_conn *conn; /* reference; NULL for a local client */
	struct ldms_msg_client *conn_next;
	struct msg_bucket rate;
	char dest[64];
};
struct ldms_msg_client *msg_client_get(struct ldms_msg_client *c);
void msg_client_put(struct ldms_msg_client *c);

struct msg_pend {
	struct msg_pend *next;
	struct msg_buf *m;	   /* reference */
	struct ldms_msg_client *c; /* reference */
	uint32_t charge;
};

struct msg_subreq {
	struct msg_subreq *next;
	uint64_t xid;
	int unsub;
	char *match;
	ldms_msg_sub_cb_t cb;
	void *arg;
};

/* Message-service state of one connection (created on first use, dropped by
 * the tick once the connection is closed). */
struct msg_conn {
	atomic_int ref;
	struct msg_conn *hnext, *next;
	ldms_t x; /* reference */
	atomic_int closed;
	char peer[64];
	uid_t uid;
	gid_t gid;
	int loopback;
	struct msg_addr peer_addr;
	int legacy;
	int peer_msg_enabled;
	int peer_disabled;  /* the peer returned ENOTSUP */
	int64_t peer_quota; /* -1 unlimited */
	int64_t budget;	    /* -1 unlimited */
	uint64_t debt;
	struct msg_bucket rate;
	struct msg_pend *ph, *pt;
	uint64_t npend, pend_bytes;
	uint64_t queued, dropped, deposits;
	atomic_uint_fast64_t returned;
	/* reassembly of one multi-part message */
	uint8_t *asm_buf;
	size_t asm_len, asm_cap, asm_total;
	/* qgroup (qgroup.c, under its lock): deferred returns owed to the peer */
	struct msg_conn *qg_next;
	int qg_queued;
	uint64_t qg_pending;
	struct ldms_msg_client *rclients; /* remote subscriptions the peer holds here */
	struct msg_subreq *reqs;	  /* our MSG_SUB/UNSUB waiting for replies */
};
void msg_conn_put(struct msg_conn *k);

struct msg_global {
	pthread_mutex_t lock;
	pthread_cond_t deposit; /* broadcast on SEND_QUOTA and connection end */
	pthread_cond_t tick_cond;
	int tick_running;
	struct msg_chan *chans[MSG_CHAN_BUCKETS];
	size_t n_chans;
	struct ldms_msg_client *clients;
	struct msg_conn *conns[MSG_CONN_BUCKETS];
	struct msg_conn *conn_list;
	uint64_t next_xid;
	int stats_level;
};
extern struct msg_global msg_g;
extern atomic_int msg_enabled_flag;
extern atomic_uint_fast64_t msg_gn_next;

/* msg_core.c (lock held unless noted) */
struct msg_chan *msg_chan_find(const char *tag, int create);
int msg_client_register(struct ldms_msg_client *c);
void msg_client_unregister(struct ldms_msg_client *c);
struct msg_bind *msg_bind_find(struct msg_chan *ch, struct ldms_msg_client *c);
/* Delivers m to every client of its tag (lock NOT held). from: the connection
 * it arrived on (NULL local). */
void msg_deliver(struct msg_buf *m, struct msg_conn *from);
void msg_stats_level_init(void);
void msg_now(struct timespec *ts);

/* msg_xprt.c (lock held) */
struct msg_conn *msg_conn_find(ldms_t x, int create);
int msg_forward(struct msg_buf *m, struct ldms_msg_client *c);
/* Sends m on k (fragmented); lock held. */
int msg_send(struct msg_conn *k, struct msg_buf *m);
void msg_conn_drain(struct msg_conn *k);
/* Reassembly: appends one decoded part; a complete, well-formed message (one
 * reference, origin k) or NULL. */
struct msg_buf *msg_asm_add(struct msg_conn *k, const struct msg_part *p);
/* Fuzzing/tests: a connection state bound to no endpoint (nothing is sent). */
struct msg_conn *msg_test_conn_new(void);
void msg_test_conn_free(struct msg_conn *k);
void msg_tick_ensure(void);
/* Returns charge bytes to the sender of a network-received message, through
 * the qgroup gate (lock NOT required). */
void msg_quota_return(struct msg_conn *k, uint32_t charge, uint32_t rc);
/* The SEND_QUOTA itself, no gate. */
void msg_quota_send(struct msg_conn *k, uint64_t charge, uint32_t rc);

/* qgroup.c: 1 when the return was deferred (the qgroup owns it now). Called
 * with msg_g.lock held or not; takes only the qgroup lock. */
int msg_qgroup_defer(struct msg_conn *k, uint32_t charge);

#endif
