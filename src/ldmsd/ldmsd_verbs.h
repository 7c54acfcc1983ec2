/* Shared pieces of the verbs_*.c command files (udata, oneshot, logrotate, example,
 * the legacy ldmsd_stream verbs, updtr_task and the update/store time statistics):
 * their command tables, the shutdown hook and the timing hooks the producer and
 * storage code call. */
#ifndef LDMSD_VERBS_H
#define LDMSD_VERBS_H

#include <stdint.h>

#include <ldms/ldms_set.h>

#include "ldmsd_cmd.h"

struct ldmsd;
struct ldmsd_prdcr_set;
struct ldmsd_updtr;
struct ldmsd_strgp;
struct ldmsd_store_job;

extern const struct ldmsd_cmd_def ldmsd_verbs_set_cmds[];
extern const struct ldmsd_cmd_def ldmsd_verbs_stream_cmds[];
extern const struct ldmsd_cmd_def ldmsd_verbs_stats_cmds[];

/* Cancels pending oneshot samples and closes legacy stream subscriptions of d
 * (ldmsd_shutdown, before the plugins and the scheduler go). */
void ldmsd_verbs_shutdown(struct ldmsd *d);
void ldmsd_verbs_stream_shutdown(struct ldmsd *d);

/* reset= of the statistics queries: true/false, a bare keyword = true. 0, or
 * -EINVAL with the reply naming the attribute. */
int ldmsd_verbs_reset_attr(struct ldmsd_req_ctxt *c, int *reset);

/* Next epoch second for `oneshot time=`: "now", "now+N" or an epoch number.
 * 0 with *at_us filled, -EINVAL otherwise. Pure apart from the clock. */
int ldmsd_oneshot_time_parse(const char *s, uint64_t now_us, uint64_t *at_us);

/* ---- update_time_stats / store_time_stats (verbs_tstats.c) -------------------------
 * Update timing of a producer set on behalf of updater u: begin when the update is
 * issued (producer lock held), end from its completion callback (same lock order),
 * skip when an update was not issued because the previous one is still running. */
void ldmsd_tstats_update_begin(struct ldmsd_prdcr_set *ps, struct ldmsd_updtr *u);
void ldmsd_tstats_update_end(struct ldmsd_prdcr_set *ps, ldms_set_t s, int status);
void ldmsd_tstats_update_skip(struct ldmsd_prdcr_set *ps, struct ldmsd_updtr *u);
/* One store job of policy st done: queued at j->enq_us, store call from start_us to
 * end_us (CLOCK_REALTIME us). */
void ldmsd_tstats_store(struct ldmsd_strgp *st, struct ldmsd_store_job *j, uint64_t start_us,
			uint64_t end_us);

/* Drops every timing record of d (shutdown, after the producers are gone). */
void ldmsd_tstats_forget(struct ldmsd *d);

/* The (interval, offset) schedules of an auto_interval updater's hint tasks
 * (updtr.c); returns how many exist, fills at most max. */
size_t ldmsd_updtr_hint_schedules(struct ldmsd_updtr *u, int64_t *interval_us, int64_t *offset_us,
				  size_t max);

#endif
