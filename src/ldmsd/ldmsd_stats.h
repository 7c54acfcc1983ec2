/* Status and statistics of the daemon itself (stats_cmd.c): the JSON bodies of
 * set_stats, thread_stats, xprt_stats and log_status, reusable by other queries
 * (daemon_status thread_stats), and the thread classification they rely on. */
#ifndef LDMSD_STATS_H
#define LDMSD_STATS_H

#include "ldmsd.h"
#include "ldmsd_cmd.h"

/* Which thread_stats list a thread belongs to, from its kernel name: store workers
 * ("str:wrk:N") -> storage threads, "ldmsd:*" (the sampler scheduler) -> worker
 * threads; anything else is not reported (the main thread, library helpers). */
enum ldmsd_thr_kind {
	LDMSD_THR_OTHER = 0,
	LDMSD_THR_WORKER,
	LDMSD_THR_STORAGE,
};
enum ldmsd_thr_kind ldmsd_thread_kind(const char *comm);

/* Utilisation window of one thread: the time since the previous query of the same
 * thread (since it started, the first time). Pure; unit-tested. */
struct ldmsd_thr_window {
	uint64_t active_us, idle_us, refresh_us;
	double utilization;
};
void ldmsd_thr_window_calc(uint64_t cpu_us, uint64_t age_us, int have_prev, uint64_t prev_cpu_us,
			   uint64_t prev_wall_us, uint64_t now_wall_us, struct ldmsd_thr_window *w);

/* "INFO,WARNING,ERROR,CRITICAL" for threshold INFO; "QUIET" for QUIET. */
const char *ldmsd_log_levels_str(int threshold, char *buf, size_t len);

/* log_level with name= (one logger; "ldmsd" = the default) or regex= (every
 * registered logger whose name matches): mask as from ldms_log_mask_parse (-1 =
 * back to following the default). test: log one line per level to each. 0 or
 * -ENOENT (no such logger / no match), -EINVAL (bad regex) with err filled. */
int ldmsd_log_level_apply(struct ldmsd *d, const char *name, const char *regex, int mask, int test,
			  struct ldms_err *err);

/* Append the JSON objects to b. 0 or -ENOMEM. */
int ldmsd_set_stats_json(struct ldmsd *d, struct ldmsd_buf *b);
int ldmsd_thread_stats_json(struct ldmsd *d, struct ldmsd_buf *b);
/* reset: later replies count rates, duration and op_stats from now on (the
 * thread_stats command's reset does the same for the I/O threads' "ldms_xprt") */
int ldmsd_xprt_stats_json(struct ldmsd *d, int level, int reset, struct ldmsd_buf *b);

/* Reply text of `greeting level=N`: sized so that, sent as one STRING attribute in
 * records of at most max_rec bytes, the reply takes exactly N records. NULL (ENOMEM,
 * or E2BIG beyond 16 MiB). */
char *ldmsd_greeting_records_text(long n, size_t max_rec);

#endif
