/* The sampler scheduler: one libevent loop on its own thread; each task is a timer
 * re-armed after every run for the next wall-clock grid point strictly after both
 * "now" and the slot it just served, so a slow run skips missed slots (no drift, no
 * catch-up bursts) and an early wake-up never runs a slot twice. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "ldmsd.h"
#include "ldmsd_sched.h"

int64_t ldmsd_sched_next_us(int64_t now_us, int64_t interval_us, int64_t offset_us)
{
	int64_t rel = now_us - offset_us;
	int64_t k = rel / interval_us;
	if (rel % interval_us != 0 && rel < 0)
		k--; /* floor division */
	return (k + 1) * interval_us + offset_us;
}

struct ldmsd_sched {
	struct event_base *base;
	struct event *stop_ev; /* activated to end the loop, even before it started */
	pthread_t thread;
};

struct ldmsd_sched_task {
	struct ldmsd_sched *s;
	struct event *ev;
	pthread_mutex_t lock;
	int active;
	int64_t interval_us;
	int64_t offset_us;
	int64_t next_us; /* the grid point the armed timer is for */
	uint64_t runs;
	uint64_t skipped;
	ldmsd_sched_fn fn;
	void *arg;
};

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldmsd_sched *s = arg;
	event_base_loopbreak(s->base);
}

static void *sched_thread(void *arg)
{
	struct ldmsd_sched *s = arg;
	event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void threads_init(void)
{
	evthread_use_pthreads();
}

struct ldmsd_sched *ldmsd_sched_new(struct ldms_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, threads_init);
	struct ldmsd_sched *s = calloc(1, sizeof(*s));
	if (!s) {
		ldms_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	s->base = event_base_new();
	if (!s->base) {
		free(s);
		ldms_err_set(err, -ENOMEM, "scheduler: cannot create an event base");
		return NULL;
	}
	s->stop_ev = event_new(s->base, -1, 0, stop_cb, s);
	if (!s->stop_ev) {
		event_base_free(s->base);
		free(s);
		ldms_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	int rc = pthread_create(&s->thread, NULL, sched_thread, s);
	if (rc) {
		event_free(s->stop_ev);
		event_base_free(s->base);
		free(s);
		ldms_err_set(err, -rc, "scheduler: cannot start its thread: %s", strerror(rc));
		return NULL;
	}
	pthread_setname_np(s->thread, "ldmsd:sched");
	return s;
}

void ldmsd_sched_free(struct ldmsd_sched *s)
{
	if (!s)
		return;
	/* loopbreak() alone is lost if the loop has not started yet */
	event_active(s->stop_ev, 0, 0);
	pthread_join(s->thread, NULL);
	event_free(s->stop_ev);
	event_base_free(s->base);
	free(s);
}

/* Caller holds t->lock. */
static void task_arm(struct ldmsd_sched_task *t, int64_t now_us)
{
	int64_t d = t->next_us - now_us;
	if (d < 0)
		d = 0;
	struct timeval tv = {.tv_sec = d / 1000000, .tv_usec = d % 1000000};
	evtimer_add(t->ev, &tv);
}

static void task_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldmsd_sched_task *t = arg;
	pthread_mutex_lock(&t->lock);
	if (!t->active) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	int64_t slot = t->next_us;
	int64_t now = (int64_t)ldms_now_us();
	if (slot - now > 20) {
		/* woke up early (the timer runs on the monotonic clock): wait for the slot */
		task_arm(t, now);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	pthread_mutex_unlock(&t->lock);

	t->fn(t->arg);

	pthread_mutex_lock(&t->lock);
	t->runs++;
	if (t->active) {
		now = (int64_t)ldms_now_us();
		int64_t next =
		    ldmsd_sched_next_us(now > slot ? now : slot, t->interval_us, t->offset_us);
		int64_t missed = (next - slot) / t->interval_us - 1;
		if (missed > 0)
			t->skipped += (uint64_t)missed;
		t->next_us = next;
		task_arm(t, now);
	}
	pthread_mutex_unlock(&t->lock);
}

struct ldmsd_sched_task *ldmsd_sched_task_new(struct ldmsd_sched *s, ldmsd_sched_fn fn, void *arg)
{
	struct ldmsd_sched_task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->s = s;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	t->ev = evtimer_new(s->base, task_cb, t);
	if (!t->ev) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

int ldmsd_sched_task_start(struct ldmsd_sched_task *t, int64_t interval_us, int64_t offset_us)
{
	if (interval_us <= 0)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->interval_us = interval_us;
	t->offset_us = offset_us;
	int64_t now = (int64_t)ldms_now_us();
	t->next_us = ldmsd_sched_next_us(now, interval_us, offset_us);
	t->active = 1;
	task_arm(t, now);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void ldmsd_sched_task_stop(struct ldmsd_sched_task *t)
{
	pthread_mutex_lock(&t->lock);
	t->active = 0;
	pthread_mutex_unlock(&t->lock);
	/* blocks until a callback running on the scheduler thread has returned */
	event_del(t->ev);
}

void ldmsd_sched_task_free(struct ldmsd_sched_task *t)
{
	if (!t)
		return;
	ldmsd_sched_task_stop(t);
	event_free(t->ev);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

uint64_t ldmsd_sched_task_runs(const struct ldmsd_sched_task *t)
{
	return __atomic_load_n(&t->runs, __ATOMIC_RELAXED);
}

uint64_t ldmsd_sched_task_skipped(const struct ldmsd_sched_task *t)
{
	return __atomic_load_n(&t->skipped, __ATOMIC_RELAXED);
}
