/* Quota group (shared/spec/qgroup-streams.md Part A): a per-process budget that
 * must pay for every quota return of a network-received message; a short budget
 * defers the return to the next wall-clock window, which throttles the senders.
 * Members lend each other budget (QGROUP_ASK / DONATE / DONATE_BACK). One group
 * per process; every function is thread-safe. */
#ifndef LDMS_QGROUP_H
#define LDMS_QGROUP_H

#include <stdint.h>

#include "ldms_xprt.h"

#define LDMS_QGROUP_UNLIMITED UINT64_MAX

enum ldms_qgroup_state {
	LDMS_QGROUP_STOPPED = 0,
	LDMS_QGROUP_STARTED,
	LDMS_QGROUP_BUSY, /* the ask routine is walking the members */
	LDMS_QGROUP_STOPPING,
};

struct ldms_qgroup_cfg {
	uint64_t quota;	     /* bytes per window */
	uint64_t ask_mark;   /* ask for more below this */
	uint64_t ask_amount; /* bytes asked per ASK */
	uint64_t ask_usec;   /* ask interval */
	uint64_t reset_usec; /* window length */
};
/* Fields selected by the mask (1 quota, 2 ask_mark, 4 ask_amount, 8 ask_usec,
 * 16 reset_usec) change. -EBUSY unless STOPPED. */
#define LDMS_QGROUP_CFG_QUOTA	   1u
#define LDMS_QGROUP_CFG_ASK_MARK   2u
#define LDMS_QGROUP_CFG_ASK_AMOUNT 4u
#define LDMS_QGROUP_CFG_ASK_USEC   8u
#define LDMS_QGROUP_CFG_RESET_USEC 16u
int ldms_qgroup_config(const struct ldms_qgroup_cfg *cfg, unsigned mask);
void ldms_qgroup_config_get(struct ldms_qgroup_cfg *cfg);

/* -EEXIST (same host and port), -EBUSY (not STOPPED), -ENAMETOOLONG (host > 255,
 * port/xprt > 31 characters), -EINVAL. auth NULL = none. port NULL = "411". */
int ldms_qgroup_member_add(const char *xprt, const char *host, const char *port,
			   const struct ldms_auth_cfg *auth);
int ldms_qgroup_member_del(const char *host, const char *port); /* -ENOENT, -EBUSY */

/* start: -EBUSY unless STOPPED, -EINVAL if a config value is 0. stop: -EINVAL
 * if already stopped; closes the member connections and releases every
 * deferred return (ldms-c). */
int ldms_qgroup_start(void);
int ldms_qgroup_stop(void);
enum ldms_qgroup_state ldms_qgroup_state_get(void);
const char *ldms_qgroup_state_str(enum ldms_qgroup_state s);
/* The current budget. */
uint64_t ldms_qgroup_quota_get(void);

/* qgroup_info JSON (malloc'ed). */
int ldms_qgroup_info_json(char **json);

/* Counters for tests and benchmarks (spec B.9 extras). */
struct ldms_qgroup_stats {
	uint64_t asks_sent, asks_recv, asks_ignored_window, asks_refused;
	uint64_t donated, donations_recv, donated_back, donations_back_recv;
	uint64_t returned_now, deferred, returned_at_reset, dropped_closed;
	uint64_t pending_bytes; /* deferred returns still waiting */
	uint64_t resets;
};
void ldms_qgroup_stats_get(struct ldms_qgroup_stats *st);

/* Release deferred returns as soon as donated budget arrives (A.6 option;
 * default off: only the reset releases them). */
void ldms_qgroup_drain_on_donate(int on);

#endif
