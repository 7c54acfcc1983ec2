/* Maestro's view of the running ldmsd's (maestro.md §10.1-§10.3, §13): one persistent
 * control connection per daemon endpoint with maestro_comm, failure at the moment a
 * connection drops, a periodic daemon_status with a deadline for hung daemons, the
 * configuration counter for daemons changed behind maestro's back, command lists pushed
 * in order, status replies read back, and maestro's log. */
#ifndef MAESTRO_MONITOR_H
#define MAESTRO_MONITOR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ldms/ldms_ctrl.h"
#include "ldms/ldms_xprt.h"
#include "rebalance.h"

/* ---- log: "YYYY-MM-DD HH:MM:SS.mmm __main__ LEVEL message" (upstream's format) ------- */
enum mlog_level {
	MLOG_DEBUG = 10,
	MLOG_INFO = 20,
	MLOG_WARNING = 30,
	MLOG_ERROR = 40,
	MLOG_CRITICAL = 50,
};
/* debug/info/warn/warning/error/fatal/critical (any case); -1 if unknown */
int mlog_level_parse(const char *s);
void mlog_set_level(int level);
/* NULL or "-" = stderr. 0 or -errno. */
int mlog_open(const char *path);
void mlog_close(void);
int mlog_enabled(int level);
void mlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- daemons --------------------------------------------------------------------------- */
enum mon_health {
	MON_UNMANAGED, /* no maestro_comm endpoint: maestro cannot talk to it */
	MON_DOWN,      /* not connected (never was, refused, lost, hung) */
	MON_UP,	       /* connected and answering */
};
const char *mon_health_str(enum mon_health h);

struct mon_opts {
	int connect_timeout_ms; /* --timeout */
	int request_timeout_ms; /* deadline of configuration requests */
	int probe_interval_ms;	/* daemon_status period */
	int probe_timeout_ms;	/* no answer by then: hung */
	int retry_ms;		/* reconnect period of a down daemon */
};

struct mon_daemon {
	/* set by mon_daemon_set() */
	char *name;
	char *host, *port, *xprt;
	char *auth_plugin; /* NULL = none */
	char *auth_conf;   /* plugin option, e.g. a secret file */
	int managed;
	int removed; /* no longer in the configuration */

	/* loop thread only */
	enum mon_health health;
	char *reason;	   /* why it is down, for the log and --status */
	uint64_t since_us; /* last health change (realtime) */
	struct ldms_ctrl_client *cli;
	unsigned gen; /* connection generation (stale callbacks are ignored) */
	uint64_t next_connect_us;
	int ever_up;
	int tried;		/* the first connection attempt has finished */
	uint64_t managed_at_us; /* monotonic: when maestro began to manage it */
	int changed;		/* health changed since the engine last looked */
	int warned_down;	/* "Could not connect" logged for this outage */
	uint64_t next_probe_us;
	int64_t cfg_expect;   /* counter after maestro's last push, -1 unknown */
	uint64_t cfg_read_us; /* when cfg_expect was read (older probes do not count) */
	int synced;	      /* `applied` holds what the daemon has */
	int in_sync;	      /* `applied` is exactly the wanted state (engine's fast path) */
	uint64_t in_sync_gen; /* ... for this model generation */
	struct rb_state applied;
	int retry;	  /* last push had failures */
	char *last_error; /* last failed command and reply, for --status */
	char *version;	  /* the daemon's version reply */

	/* shared with the I/O threads and the connect thread (mon->lock) */
	int connecting;
	pthread_t conn_th;
	int conn_joinable;
	struct ldms_ctrl_client *conn_result;
	char conn_err[600];
	int conn_done;
	int probe_out; /* a daemon_status is in flight */
	uint64_t probe_sent_us;
	int probe_done; /* a reply (or an error) arrived */
	int probe_rc;	/* 0, or -errno / errno reply */
	char probe_state[32];
	int64_t probe_cntr; /* CFG_CNTR with the probe, -1 unknown */
};

struct monitor {
	struct mon_opts o;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int wake;
	size_t n;
	struct mon_daemon **d;
};

int mon_new(const struct mon_opts *o, struct monitor **out);
/* Closes every connection and joins the connect threads. */
void mon_free(struct monitor *m);
struct mon_daemon *mon_find(struct monitor *m, const char *name);
/* Creates or updates a daemon's endpoint (host/port/xprt/auth NULL = unmanaged). A
 * changed endpoint closes the connection. Returns the daemon or NULL (ENOMEM). */
struct mon_daemon *mon_daemon_set(struct monitor *m, const char *name, const char *host,
				  const char *port, const char *xprt, const char *auth_plugin,
				  const char *auth_conf);
/* Marks every daemon removed; mon_daemon_set() revives the ones still configured. */
void mon_mark_all_removed(struct monitor *m);

/* Wakes mon_wait() (from any thread). */
void mon_wake(struct monitor *m);
/* Waits up to ms for a wake-up or a reply. */
void mon_wait(struct monitor *m, int ms);

/* One round of health work: collects connection results and probe replies, notices
 * dropped connections, hung daemons and changed configuration counters, starts
 * connects and probes that are due. Returns how many daemons changed health (their
 * `synced` is cleared when they come up). Logs every transition. */
int mon_tick(struct monitor *m);
/* The loop thread marks a daemon down (e.g. a request timed out). */
void mon_set_down(struct monitor *m, struct mon_daemon *d, const char *why);

/* Synchronous request for one command line; *reply (may be NULL) gets the reply text
 * (malloc'ed, may be empty). Returns 0 with *rsp_err = the daemon's errno, or a
 * transport error (-ETIMEDOUT, -ECONNRESET ...). */
int mon_request_line(struct monitor *m, struct mon_daemon *d, const char *line, int *rsp_err,
		     char **reply);
int mon_request(struct monitor *m, struct mon_daemon *d, const struct rb_cmd *c, int *rsp_err,
		char **reply);

/* Pushes the commands in order. A reply outside the command's tolerated errors is
 * logged with the command and the daemon's message and counted; failed[i] (if not NULL,
 * l->n entries) is set for each. A transport failure marks the daemon down and stops.
 * Returns the number of failed commands, or a negative errno for a transport failure. */
int mon_push(struct monitor *m, struct mon_daemon *d, const struct rb_cmdlist *l,
	     unsigned char *failed);

/* Reads prdcr_status/updtr_status/strgp_status/plugn_status and adopts (rb_adopt).
 * *prdcr_json (may be NULL) receives the prdcr_status text. 0 or -errno. */
int mon_read_state(struct monitor *m, struct mon_daemon *d, const struct rb_state *want,
		   struct rb_state *out, char **prdcr_json);
/* Reads the configuration counter into d->cfg_expect. */
int mon_read_cntr(struct monitor *m, struct mon_daemon *d);

/* The metric sets a daemon serves (its LDMS directory, over a separate transport to
 * host:port): instance names, data sizes and update intervals (updt_hint_us, 0 if
 * none). */
struct mon_dirset {
	char *name;
	uint64_t data_size;
	int64_t interval_us;
};
int mon_dir(const char *host, const char *port, const char *xprt, const char *auth_plugin,
	    const char *auth_conf, int timeout_ms, struct mon_dirset **out, size_t *n);
void mon_dir_free(struct mon_dirset *s, size_t n);

uint64_t mon_now_us(void);  /* realtime */
uint64_t mon_mono_us(void); /* monotonic */

#endif
