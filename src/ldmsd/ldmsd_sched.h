/* The sampler scheduler: periodic tasks aligned to the wall clock (interval grid plus
 * offset) run on the scheduler's own libevent loop thread, so sampling never blocks
 * transport I/O. A slow task skips the slots it missed instead of drifting. */
#ifndef LDMSD_SCHED_H
#define LDMSD_SCHED_H

#include <stdint.h>

#include <ldms/ldms_util.h>

/* The first grid point strictly after now_us: the smallest t > now_us with
 * t = k * interval_us + offset_us (k integer; negative offsets allowed).
 * interval_us must be > 0. */
int64_t ldmsd_sched_next_us(int64_t now_us, int64_t interval_us, int64_t offset_us);

struct ldmsd_sched;
struct ldmsd_sched_task;
typedef void (*ldmsd_sched_fn)(void *arg);

/* Starts the scheduler thread. NULL with err filled on failure. */
struct ldmsd_sched *ldmsd_sched_new(struct ldms_err *err);
/* Stops the thread; all tasks must have been freed. */
void ldmsd_sched_free(struct ldmsd_sched *s);

struct ldmsd_sched_task *ldmsd_sched_task_new(struct ldmsd_sched *s, ldmsd_sched_fn fn, void *arg);
/* (Re)start with a schedule; the first run is at the next grid point. */
int ldmsd_sched_task_start(struct ldmsd_sched_task *t, int64_t interval_us, int64_t offset_us);
/* Stops the task; when it returns the callback is not running and will not run
 * again. Must not be called from the task's own callback. */
void ldmsd_sched_task_stop(struct ldmsd_sched_task *t);
void ldmsd_sched_task_free(struct ldmsd_sched_task *t);
/* Number of times the callback ran / slots skipped because a run was late. */
uint64_t ldmsd_sched_task_runs(const struct ldmsd_sched_task *t);
uint64_t ldmsd_sched_task_skipped(const struct ldmsd_sched_task *t);

#endif
