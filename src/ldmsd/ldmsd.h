/* The ldmsd daemon object every command handler works on: start-up settings (with
 * "first setting wins" bookkeeping), authentication domains, listeners, plugin
 * instances, the sampler scheduler and the life-cycle state. One per process in
 * practice; unit tests create their own. */
#ifndef LDMSD_H
#define LDMSD_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/queue.h>

#include <ldms/ldms_util.h>
#include <ldms/ldms_xprt.h>

#define LDMSD_LOG	    "ldmsd"
#define LDMSD_PROTO_VERSION "4.2.0.0"
/* The upstream release whose config language and control ids ldms-c speaks; clients
 * pick their request-id table from it (version request, "LDMSD Version"). */
#define LDMSD_COMPAT_VERSION   "4.5.3.0"
#define LDMSD_DEFAULT_PORT     "411"
#define LDMSD_DEFAULT_AUTH_DOM "DEFAULT"

/* Start-up settings reachable from the command line, `option` and the dedicated
 * priority commands. The first setting wins (the command line is read first). */
enum ldmsd_setting {
	LDMSD_S_LOG_FILE,
	LDMSD_S_LOG_LEVEL,
	LDMSD_S_LOG_CONFIG,
	LDMSD_S_SET_MEMORY,
	LDMSD_S_DEFAULT_AUTH,
	LDMSD_S_DAEMON_NAME,
	LDMSD_S_PID_FILE,
	LDMSD_S_BANNER,
	LDMSD_S_WORKER_THREADS,
	LDMSD_S_DEFAULT_QUOTA,
	LDMSD_S_PUBLISH_KERNEL,
	LDMSD_S_COUNT
};

struct ldmsd_settings {
	char origin[LDMSD_S_COUNT][300]; /* "" = not set yet, else where it was set */
	char *log_file;
	int log_level;
	int log_config_mask;
	char *log_config_path;
	int64_t set_memory;
	char auth_plugin[16];
	int auth_argc;
	char *auth_args[LDMS_AUTH_ARGS_MAX]; /* "k=v" */
	char *daemon_name;
	char *pid_file;
	int banner; /* 0 none, 1 delete at exit, 2 keep */
	int worker_threads;
	int64_t default_quota;
	char *publish_kernel;
	int msg_enabled;
	int stream_enabled;
};

enum ldmsd_state {
	LDMSD_STATE_STARTUP = 0, /* reading config files, nothing initialised */
	LDMSD_STATE_RUNNING,	 /* transports, listeners and scheduler up */
	LDMSD_STATE_STOPPING,
};

struct ldmsd_auth_dom;
struct ldmsd_listen;
struct ldmsd_plugin_inst;
struct ldmsd_sched;
struct ldmsd_agg;
struct ldmsd_req;
struct ldmsd_reply;

TAILQ_HEAD(ldmsd_auth_dom_list, ldmsd_auth_dom);
TAILQ_HEAD(ldmsd_listen_list, ldmsd_listen);
TAILQ_HEAD(ldmsd_plugin_list, ldmsd_plugin_inst);

struct ldmsd {
	pthread_mutex_t lock; /* recursive: serialises command handlers */
	enum ldmsd_state state;
	struct ldmsd_settings s;
	struct ldmsd_auth_dom_list auth_doms;
	struct ldmsd_listen_list listeners;
	struct ldmsd_plugin_list plugins;
	struct ldmsd_sched *sched;
	struct ldmsd_agg *agg; /* producers, updaters, storage policies (agg.c) */
	uint64_t cfg_cntr;     /* successful configuration-changing commands */
	int inband; /* network requests accepted (after the config files were processed) */
	int ldms_inited;
	volatile sig_atomic_t exit_requested;
	int wake_main;		/* main() waits in sigsuspend: wake it with SIGTERM on exit */
	char exe_dir[PATH_MAX]; /* directory of the running executable */
	/* Hook for control requests arriving on a listener (issue 3: the network
	 * command path). NULL = in-band configuration not available. */
	void (*ctrl_recv)(struct ldmsd *d, ldms_t x, const char *data, size_t len);
	void (*ctrl_disconnect)(struct ldmsd *d, ldms_t x);
	/* dump_cfg.c: what dump_cfg cannot read back from the objects (plugin args) */
	struct ldmsd_dump *dump;
};

/* New daemon object in STARTUP state with default settings (log level ERROR, one
 * worker thread, auth none, message service enabled). */
struct ldmsd *ldmsd_new(void);
/* Stops everything still running and frees. */
void ldmsd_free(struct ldmsd *d);

/* Initialise transports, the default auth domain, listeners, the pid file and the
 * scheduler; state -> RUNNING. Returns 0 or -errno with err filled. */
int ldmsd_start(struct ldmsd *d, struct ldms_err *err);
/* Stop samplers, unload plugins (they delete their sets), close listeners, remove
 * the pid file. Idempotent. */
void ldmsd_shutdown(struct ldmsd *d);
/* Ask the main loop to exit (daemon_exit); async-signal-safe apart from kill(). */
void ldmsd_request_exit(struct ldmsd *d);

/* ---- settings (options.c) ------------------------------------------------------------ */
/* Validates `value` for setting k and stores it unless it was set before (then it is
 * logged and ignored, returning 0). origin: "command line", "file:line". Settings
 * that only make sense before start-up give -EBUSY when the daemon is running. */
int ldmsd_setting_set(struct ldmsd *d, enum ldmsd_setting k, const char *value, const char *origin,
		      struct ldms_err *err);
const char *ldmsd_setting_name(enum ldmsd_setting k);
/* Appends a default-auth plugin argument "k=v" (-A). */
int ldmsd_setting_auth_arg(struct ldmsd *d, const char *kv, struct ldms_err *err);
/* The daemon name: the configured one, else "HOSTNAME:PORT" of the first listener. */
const char *ldmsd_daemon_name(struct ldmsd *d, char *buf, size_t len);

/* ---- auth domains and listeners (listen.c) ------------------------------------------- */
struct ldmsd_auth_dom {
	TAILQ_ENTRY(ldmsd_auth_dom) link;
	char *name;
	struct ldms_auth_cfg cfg;
};
/* NULL or "" or "DEFAULT" -> the default domain. */
struct ldmsd_auth_dom *ldmsd_auth_dom_find(struct ldmsd *d, const char *name);
int ldmsd_auth_dom_add(struct ldmsd *d, const char *name, const char *plugin, int argc,
		       char *const kv[], struct ldms_err *err);

struct ldmsd_listen {
	TAILQ_ENTRY(ldmsd_listen) link;
	char *xprt;
	char *port;
	char *host; /* NULL = all addresses */
	char *auth; /* domain name, NULL = default */
	int64_t quota;
	int64_t rx_rate;
	struct ldms_listener *l; /* NULL until started */
	struct ldmsd *d;
};
/* Records a listener (started immediately when the daemon is running). */
int ldmsd_listen_add(struct ldmsd *d, const char *xprt, const char *port, const char *host,
		     const char *auth, int64_t quota, int64_t rx_rate, struct ldms_err *err);
/* "-x xprt:port[:host]" */
int ldmsd_listen_add_spec(struct ldmsd *d, const char *spec, struct ldms_err *err);
int ldmsd_listen_start_all(struct ldmsd *d, struct ldms_err *err);
void ldmsd_listen_close_all(struct ldmsd *d);
void ldmsd_auth_doms_free(struct ldmsd *d);
int ldmsd_listen_count(struct ldmsd *d);

/* ---- control requests from the network (ctrl.c) ------------------------------------- */
/* Installs the ctrl_recv/ctrl_disconnect hooks (done by ldmsd_new). */
void ldmsd_ctrl_install(struct ldmsd *d);

/* ---- plugins (plugin.c) -------------------------------------------------------------- */
/* Stop every sampler and unload every instance (shutdown). */
void ldmsd_plugins_term_all(struct ldmsd *d);
/* Usage text of plugin `name` (loaded temporarily) for `ldmsd -u`. */
int ldmsd_plugin_usage_print(struct ldmsd *d, const char *plugin, struct ldms_err *err);
/* The directories searched for lib<plugin>.so, in order, colon-separated. */
void ldmsd_plugin_search_path(struct ldmsd *d, char *buf, size_t len);

#endif
