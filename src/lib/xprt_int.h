/* Private to the transport engine (xprt*.c): the I/O threads and their task
 * queues, the endpoint object, and the client/server halves' entry points.
 * Rule: protocol state of an endpoint is only touched on its own I/O thread;
 * other threads post tasks (xprt_post) or take x->lock for the few fields
 * marked "lock" below. */
#ifndef XPRT_INT_H
#define XPRT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ldms/ldms_xprt.h"
#include "ldms/ldms_xprt_stats.h"
#include "ldms_auth.h"
#include "ldms_proto.h"
#include "zap_wire.h"

#define XPRT_LOG "xprt"

/* ---- I/O threads --------------------------------------------------------------- */
struct xtask {
	struct xtask *next;
	void (*fn)(void *arg);
	void *arg;
};

struct io_thread {
	pthread_t th;
	struct event_base *base;
	struct event *wake;
	pthread_mutex_t lock;
	struct xtask *head, *tail;
	int stopping;
	int idx;
	atomic_uint_fast64_t cat_us[LDMS_IO_CAT_COUNT]; /* written by the thread only */
};

/* Runs fn(arg) on io's loop (FIFO per poster). -ESHUTDOWN if the engine is down
 * (the caller keeps ownership of arg then). */
int xprt_post(struct io_thread *io, void (*fn)(void *), void *arg);
struct io_thread *xprt_io_pick(void);
struct io_thread *xprt_io_get(int idx);
int xprt_on_io_thread(struct io_thread *io); /* io NULL: any I/O thread */
struct io_thread *xprt_io_current(void);     /* NULL off the I/O threads */

/* xprt_stats.c: I/O-thread time per category (enum ldms_io_cat). A callback
 * brackets its work with enter/leave; xprt_io_cat() re-labels the time from now
 * on (a frame's handler). No-ops off the I/O threads. */
int xprt_io_enter(int cat); /* returns what leave restores */
void xprt_io_cat(int cat);
void xprt_io_leave(int saved);
/* One completed operation (enum ldms_xprt_op) that took us, with x's peer (x may be
 * NULL). Lock-free; any thread. */
void xprt_op_record(int op, uint64_t us, const struct ldms_xprt *x);
uint32_t xprt_next_zap_xid(void);

/* ---- endpoints ---------------------------------------------------------------------- */
enum xprt_state {
	XS_INIT = 0,
	XS_CONNECTING,	 /* active: TCP connect in progress */
	XS_WAIT_ACCEPT,	 /* active: CONNECT sent */
	XS_WAIT_CONNECT, /* passive: waiting for CONNECT */
	XS_WAIT_ACK,	 /* passive: ACCEPTED sent */
	XS_AUTH,
	XS_CONNECTED,
	XS_CLOSED,
};

/* A peer's address without the port: what the per-peer connection limit counts. */
struct xprt_peer_key {
	uint8_t family; /* AF_INET / AF_INET6; 0 = not counted */
	uint8_t addr[16];
};
struct xprt_peer_cnt;

struct ldms_listener {
	atomic_int ref;
	struct evconnlistener *evl;
	/* accept() failing for lack of descriptors/memory: the listener pauses
	 * (lock guards closing and the re-enable against ldms_listener_close) */
	pthread_mutex_t lock;
	struct event *retry;
	int closing;
	time_t last_warn;
	struct ldms_auth_cfg auth;
	char auth_name[17];
	struct ldms_xprt_opts opts;
	ldms_event_cb_t cb;
	void *cb_arg;
	int port;
	/* open connections per peer address (lock); above peer_max new ones are
	 * refused right after accept() */
	atomic_int peer_max; /* 0 = no limit */
	struct xprt_peer_cnt **peers;
	time_t refuse_warn;    /* last refusal logged (lock) */
	uint64_t refuse_quiet; /* refusals not logged since (lock) */
};

struct xread;	/* client: pending READ_REQ */
struct xlookup; /* client: pending LOOKUP */
struct xdir;	/* client: DIR context */
struct rset;	/* client: mirror set attached to this endpoint */
struct smap;	/* server: set shared with this peer */

struct ldms_xprt {
	pthread_mutex_t lock;
	atomic_int ref;
	atomic_int app_ref;		   /* the application's reference is still held */
	struct ldms_xprt *g_next, *g_prev; /* engine list (engine lock) */
	struct io_thread *io;
	int active;
	enum xprt_state state; /* lock for writers; io thread reads freely */
	int rejected;	       /* active: the peer refused us */
	int auth_failed;       /* this side refused the peer (already logged) */
	struct bufferevent *bev;
	uint8_t *rbuf; /* frame scratch */
	size_t rbuf_cap;
	struct ldms_listener *l; /* passive */
	struct ldms_auth_cfg auth_cfg;
	char auth_name[17];
	struct ldms_auth *auth;
	struct ldms_xprt_opts opts;
	ldms_event_cb_t cb;
	void *cb_arg;
	void *app_ctx;
	uid_t peer_uid; /* lock */
	gid_t peer_gid; /* lock */
	struct sockaddr_storage local_sa, peer_sa;
	socklen_t local_len, peer_len;
	char peer_str[64];
	struct ldms_conn_msg peer_cm;
	int peer_legacy;
	char reason[512];
	int close_err;		/* errno of the close, for connect_sync */
	int flush_close;	/* close once the output buffer drained (REJECTED sent) */
	int rd_paused;		/* input not read until the output drained */
	int overflow;		/* the peer let too much unsolicited output pile up */
	struct event *hs_timer; /* until XS_CONNECTED: bounds the handshake */
	evutil_socket_t accept_fd;
	struct xprt_peer_key peer_key; /* passive: counted against l's peer limit */
	atomic_int peer_counted;
	int64_t cred_ovr_uid, cred_ovr_gid; /* test hook, captured at accept */
	/* sync connect */
	struct xsync *sync;
	/* client half (io thread) */
	uint64_t next_id;
	uint64_t read_seq;
	struct xread *rd_head, *rd_tail;
	struct xlookup *lookups;
	struct xdir *dirs;
	struct rset *rsets;
	/* server half: maps[key] (lock: the set observer reads it from other threads) */
	struct smap **maps; /* live mappings, sorted by key */
	uint32_t nmaps;
	uint32_t next_key;
	int dir_notify;	  /* lock */
	uint64_t dir_xid; /* lock */
	uint64_t del_seq;
};

/* Engine list and statistics (xprt_io.c). */
void xprt_list_add(struct ldms_xprt *x);
void xprt_list_del(struct ldms_xprt *x);
/* Calls fn for every endpoint in the engine list with a reference held (the
 * engine lock is NOT held during fn). */
void xprt_list_foreach(void (*fn)(struct ldms_xprt *x, void *arg), void *arg);
void xprt_stat_add(int which, uint64_t n);
enum {
	XSTAT_OPEN,
	XSTAT_TOTAL,
	XSTAT_RX,
	XSTAT_TX,
	XSTAT_READS,
	XSTAT_CONNECTED, /* reached the connected state (both directions) */
	XSTAT_REJECTED,	 /* refused: by a listener (bad CONNECT, peer limit) or by a peer */
	XSTAT_AUTH_FAIL, /* authentication failed (either side) */
	XSTAT_DISCONN,	 /* connected connections that closed */
	XSTAT_COUNT
};

/* xprt.c */
void xprt_free(struct ldms_xprt *x);
/* A peer's string made safe for a log line or a reply: control and non-ASCII
 * bytes become '?', at most n - 1 characters. Returns out. */
const char *xprt_printable(const char *in, char *out, size_t n);
void xprt_handshake_timeout_from_env(void);

/* xprt_sync.c */
int xprt_sa_host_port(const struct sockaddr_storage *sa, socklen_t len, char *host, size_t hostlen,
		      int *port);
/* Writes a complete frame to the peer (io thread only). */
void xprt_write(struct ldms_xprt *x, const void *buf, size_t len);
/* Sends an LDMS message in a SENDRECV frame (io thread only). */
void xprt_send_ldms(struct ldms_xprt *x, const void *msg, size_t len);
/* Encodes a SENDRECV frame of an LDMS message into a malloc'ed buffer. */
uint8_t *xprt_frame_sendrecv(const void *msg, size_t len, size_t *flen);
/* Posts a pre-encoded frame for x's I/O thread to write (any thread; takes buf). */
int xprt_post_frame(struct ldms_xprt *x, uint8_t *buf, size_t len);
/* Closes the connection now (io thread only); reason for the log/event. */
void xprt_close_now(struct ldms_xprt *x, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Posts a close of x to its I/O thread (any thread; app reference untouched). */
void xprt_close_post(struct ldms_xprt *x);
/* Unsolicited output (DIR_UPDATE, SET_DELETE, SEND_MSG from other threads) to
 * a peer that does not read: 0 while the queued output is below the hard cap,
 * else the connection is closed and -ENOBUFS returned (io thread only). */
int xprt_push_check(struct ldms_xprt *x);
void xprt_deliver(struct ldms_xprt *x, enum ldms_xprt_event_type type, const char *data, size_t len,
		  ldms_set_t set);
int xprt_is_connected(struct ldms_xprt *x);
/* Optional handlers for LDMS commands the core does not implement (message
 * service, quotas); called on the io thread once the peer is authenticated. */
typedef void (*xprt_cmd_handler_t)(struct ldms_xprt *x, const struct ldms_msg *m);
int xprt_cmd_handler_set(uint32_t cmd, xprt_cmd_handler_t fn);

/* xprt_server.c */
/* Per-peer connection limit of listeners (docs/hostile-peers.md). */
void xprt_peer_key_of(const struct sockaddr *sa, int salen, struct xprt_peer_key *k);
/* Counts a new connection from k on l: 0, or -EMFILE (over l's limit: refused,
 * logged at most once a second per listener) */
int xprt_peer_acquire(struct ldms_listener *l, const struct xprt_peer_key *k);
void xprt_peer_unacquire(struct ldms_listener *l, const struct xprt_peer_key *k);
/* Uncounts x once (from close or free, whichever comes first; any thread). */
void xprt_peer_release(struct ldms_xprt *x);
void xprt_peers_free(struct ldms_listener *l);
void xprt_server_recv(struct ldms_xprt *x, const struct ldms_msg *m, uint64_t recv_us);
void xprt_server_read_req(struct ldms_xprt *x, const struct zap_frame *f);
void xprt_server_cleanup(struct ldms_xprt *x);
void xprt_server_observer(ldms_set_t s, enum ldms_set_event ev, void *arg);
/* Test hook: largest JSON text per DIR_REPLY (0 = the protocol maximum). */
void xprt_test_dir_chunk_set(size_t max);

/* xprt_client.c */
void xprt_client_recv(struct ldms_xprt *x, const struct ldms_msg *m);
void xprt_client_rendezvous(struct ldms_xprt *x, const struct zap_frame *f);
/* READ_RESP: header already decoded, data (data_len bytes) waiting in in.
 * Returns 0, or -EPROTO when the response does not match the FIFO head. */
int xprt_client_read_resp_check(struct ldms_xprt *x, const struct zap_frame *h);
int xprt_client_read_resp(struct ldms_xprt *x, const struct zap_frame *h, struct evbuffer *in);
void xprt_client_cleanup(struct ldms_xprt *x, int err);

/* xprt_push.c (push, docs/push.md) */
void xprt_push_rdv_recv(struct ldms_xprt *x, const struct zap_frame *f);
void xprt_push_reply_recv(struct ldms_xprt *x, const struct ldms_msg *m);
void xprt_push_cancel_recv(struct ldms_xprt *x, const struct ldms_msg *m);
/* Drops x's push peers and registrations (io thread, from xprt_close_now). */
void xprt_push_cleanup(struct ldms_xprt *x);
/* msg_xprt.c: drops the message service's state of x (io thread, from
 * xprt_close_now): remote subscriptions, queued forwards, reassembly. */
void xprt_msg_cleanup(struct ldms_xprt *x);
/* xprt_server.c: the set shared with x under a lookup set id (a reference), or NULL. */
ldms_set_t xprt_server_set_by_key(struct ldms_xprt *x, uint64_t key);
/* xprt_client.c: endpoint (a reference) and owner's set id of an attached mirror;
 * -EINVAL for a local set, -ENOTCONN when detached. */
int xprt_client_mirror_info(ldms_set_t s, struct ldms_xprt **x, uint64_t *remote_id);

/* Test hooks (tests/unit/test_xprt*.c). */
/* Seconds a connection may take from TCP accept/connect to authenticated
 * (default 30, $LDMS_XPRT_HANDSHAKE_TIMEOUT at ldms_init); <= 0 disables. */
void xprt_test_handshake_timeout_set(double seconds);
/* Queued output above which an unsolicited frame closes the connection. */
void xprt_test_out_max_set(size_t bytes);
/* Serves fd (e.g. one end of a socketpair) as if l had accepted it from
 * 127.0.0.1:1 (fuzzing the whole receive path without TCP). */
int xprt_test_accept_fd(struct ldms_listener *l, int fd);
/* Most sets ldms_xprt_dir_sync accumulates (0 = default, 2^20). */
void xprt_test_dir_sync_max_set(size_t sets);
int xprt_test_live_count(void); /* endpoint objects not yet freed */
/* Force the credential that connections accepted from now on get after
 * authentication (-1 = use the authentication result). */
void xprt_test_peer_cred_override(int64_t uid, int64_t gid);
/* Push peers of an owner's set; push_set_id of a mirror's registration (0 if none). */
int xprt_test_push_peers(ldms_set_t s);
/* peers whose registration flags include all of `flags` (LDMS_PUSH_F_*) */
int xprt_test_push_peers_with(ldms_set_t s, uint32_t flags);
uint64_t xprt_test_push_id(ldms_set_t mirror);

#endif
