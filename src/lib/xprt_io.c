/* The transport's I/O threads: one libevent loop per thread, a task queue per
 * loop for cross-thread hand-off (posting + event_active wake-up), the engine's
 * list of endpoints (for the set observer and shutdown) and its statistics. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/thread.h>

#include "ldms/ldms_msg.h"
#include "ldms/ldms_qgroup.h"
#include "xprt_int.h"

static struct {
	pthread_mutex_t lock;
	int started;
	int n;
	struct io_thread *io;
	unsigned rr;
	struct ldms_xprt *list;
	atomic_uint zap_xid;
	atomic_uint_fast64_t stats[XSTAT_COUNT];
} eng = {.lock = PTHREAD_MUTEX_INITIALIZER};

static __thread struct io_thread *cur_io;

struct io_thread *xprt_io_current(void)
{
	return cur_io;
}

static void io_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_thread *io = arg;
	struct xtask *t;
	int saved;

	for (;;) {
		pthread_mutex_lock(&io->lock);
		t = io->head;
		if (t) {
			io->head = t->next;
			if (!io->head)
				io->tail = NULL;
		}
		pthread_mutex_unlock(&io->lock);
		if (!t)
			break;
		saved = xprt_io_enter(LDMS_IO_CAT_OTHER); /* tasks re-label themselves */
		t->fn(t->arg);
		xprt_io_leave(saved);
		free(t);
	}
}

static void *io_main(void *arg)
{
	struct io_thread *io = arg;

	cur_io = io;
	event_base_loop(io->base, EVLOOP_NO_EXIT_ON_EMPTY);
	/* run what was queued before the stop request (closes, frees) */
	io_wake_cb(-1, 0, io);
	cur_io = NULL;
	return NULL;
}

int xprt_post(struct io_thread *io, void (*fn)(void *), void *arg)
{
	struct xtask *t;
	int rc = 0;

	if (!io)
		return -ESHUTDOWN;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->next = NULL;
	t->fn = fn;
	t->arg = arg;
	/* an endpoint may outlive ldms_fini(): only post to loops of the running engine */
	pthread_mutex_lock(&eng.lock);
	if (!eng.started || io < eng.io || io >= eng.io + eng.n) {
		rc = -ESHUTDOWN;
		goto out;
	}
	pthread_mutex_lock(&io->lock);
	if (io->stopping) {
		pthread_mutex_unlock(&io->lock);
		rc = -ESHUTDOWN;
		goto out;
	}
	if (io->tail)
		io->tail->next = t;
	else
		io->head = t;
	io->tail = t;
	pthread_mutex_unlock(&io->lock);
	event_active(io->wake, EV_READ, 0);
out:
	pthread_mutex_unlock(&eng.lock);
	if (rc)
		free(t);
	return rc;
}

int xprt_on_io_thread(struct io_thread *io)
{
	return io ? cur_io == io : cur_io != NULL;
}

struct io_thread *xprt_io_pick(void)
{
	struct io_thread *io = NULL;

	pthread_mutex_lock(&eng.lock);
	if (eng.started)
		io = &eng.io[eng.rr++ % (unsigned)eng.n];
	pthread_mutex_unlock(&eng.lock);
	return io;
}

struct io_thread *xprt_io_get(int idx)
{
	struct io_thread *io = NULL;

	pthread_mutex_lock(&eng.lock);
	if (eng.started && idx < eng.n)
		io = &eng.io[idx];
	pthread_mutex_unlock(&eng.lock);
	return io;
}

uint32_t xprt_next_zap_xid(void)
{
	return atomic_fetch_add(&eng.zap_xid, 1) + 1;
}

static void io_destroy(struct io_thread *io)
{
	if (io->wake)
		event_free(io->wake);
	if (io->base)
		event_base_free(io->base);
	pthread_mutex_destroy(&io->lock);
}

int ldms_init(int io_threads)
{
	int i, rc = 0;

	if (io_threads < 1)
		io_threads = 1;
	pthread_mutex_lock(&eng.lock);
	if (eng.started)
		goto out;
	/* libevent writes with writev(): a peer that resets the connection would
	 * kill the whole process with SIGPIPE. Unless the application installed
	 * its own disposition, ignore it (the write then fails with EPIPE). */
	{
		struct sigaction old;
		if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			signal(SIGPIPE, SIG_IGN);
	}
	if (evthread_use_pthreads()) {
		rc = -ENOSYS;
		goto out;
	}
	eng.io = calloc((size_t)io_threads, sizeof(*eng.io));
	if (!eng.io) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < io_threads; i++) {
		struct io_thread *io = &eng.io[i];

		io->idx = i;
		pthread_mutex_init(&io->lock, NULL);
		io->base = event_base_new();
		if (io->base)
			io->wake = event_new(io->base, -1, 0, io_wake_cb, io);
		if (!io->base || !io->wake || pthread_create(&io->th, NULL, io_main, io) != 0) {
			rc = -ENOMEM;
			io_destroy(io);
			while (--i >= 0) {
				event_base_loopexit(eng.io[i].base, NULL);
				pthread_join(eng.io[i].th, NULL);
				io_destroy(&eng.io[i]);
			}
			free(eng.io);
			eng.io = NULL;
			goto out;
		}
	}
	eng.n = io_threads;
	eng.started = 1;
	xprt_handshake_timeout_from_env();
	pthread_mutex_unlock(&eng.lock);
	ldms_set_observer_add(xprt_server_observer, NULL);
	return 0;
out:
	pthread_mutex_unlock(&eng.lock);
	return rc;
}

static void fini_close(struct ldms_xprt *x, void *arg)
{
	xprt_close_post(x);
}

/* After the loops stopped: what was still flushing (a peer that does not read)
 * or was accepted while we shut down is closed here, on the caller's thread
 * (the I/O threads are gone), before the event bases are freed. */
static void fini_close_now(struct ldms_xprt *x, void *arg)
{
	xprt_close_now(x, ECONNABORTED, "shutting down");
}

static void io_stop_task(void *arg)
{
	struct io_thread *io = arg;

	event_base_loopexit(io->base, NULL);
}

void ldms_fini(void)
{
	struct io_thread *io;
	int i, n;

	pthread_mutex_lock(&eng.lock);
	if (!eng.started) {
		pthread_mutex_unlock(&eng.lock);
		return;
	}
	pthread_mutex_unlock(&eng.lock);
	ldms_qgroup_stop(); /* its timer thread opens member connections */
	ldms_set_observer_del(xprt_server_observer, NULL);
	/* Close what is still open; the closes run before the stop tasks. */
	xprt_list_foreach(fini_close, NULL);
	pthread_mutex_lock(&eng.lock);
	n = eng.n;
	io = eng.io;
	pthread_mutex_unlock(&eng.lock);
	for (i = 0; i < n; i++)
		xprt_post(&io[i], io_stop_task, &io[i]);
	for (i = 0; i < n; i++) {
		pthread_join(io[i].th, NULL);
		pthread_mutex_lock(&io[i].lock);
		io[i].stopping = 1;
		pthread_mutex_unlock(&io[i].lock);
		io_wake_cb(-1, 0, &io[i]); /* anything posted after the loop stopped */
	}
	xprt_list_foreach(fini_close_now, NULL);
	pthread_mutex_lock(&eng.lock);
	eng.started = 0;
	eng.n = 0;
	eng.io = NULL;
	pthread_mutex_unlock(&eng.lock);
	for (i = 0; i < n; i++)
		io_destroy(&io[i]);
	free(io);
	ldms_msg_sweep(); /* the message service's references to the closed endpoints */
	if (xprt_test_live_count())
		ldms_log(LDMS_LWARN, XPRT_LOG, "ldms_fini: %d endpoint(s) still referenced",
			 xprt_test_live_count());
}

/* ---- endpoint list ----------------------------------------------------------------- */

void xprt_list_add(struct ldms_xprt *x)
{
	pthread_mutex_lock(&eng.lock);
	x->g_prev = NULL;
	x->g_next = eng.list;
	if (eng.list)
		eng.list->g_prev = x;
	eng.list = x;
	pthread_mutex_unlock(&eng.lock);
}

void xprt_list_del(struct ldms_xprt *x)
{
	pthread_mutex_lock(&eng.lock);
	if (x->g_prev)
		x->g_prev->g_next = x->g_next;
	else if (eng.list == x)
		eng.list = x->g_next;
	if (x->g_next)
		x->g_next->g_prev = x->g_prev;
	x->g_next = x->g_prev = NULL;
	pthread_mutex_unlock(&eng.lock);
}

void xprt_list_foreach(void (*fn)(struct ldms_xprt *x, void *arg), void *arg)
{
	struct ldms_xprt **arr = NULL, *x;
	size_t n = 0, i;

	pthread_mutex_lock(&eng.lock);
	for (x = eng.list; x; x = x->g_next)
		n++;
	if (n)
		arr = malloc(n * sizeof(*arr));
	if (arr) {
		i = 0;
		for (x = eng.list; x; x = x->g_next)
			arr[i++] = ldms_xprt_get(x);
	} else {
		n = 0;
	}
	pthread_mutex_unlock(&eng.lock);
	for (i = 0; i < n; i++) {
		fn(arr[i], arg);
		ldms_xprt_put(arr[i]);
	}
	free(arr);
}

void xprt_stat_add(int which, uint64_t n)
{
	atomic_fetch_add(&eng.stats[which], n);
}

void ldms_xprt_stats_get(struct ldms_xprt_stats *st)
{
	st->connections_open = atomic_load(&eng.stats[XSTAT_OPEN]);
	st->connections_total = atomic_load(&eng.stats[XSTAT_TOTAL]);
	st->bytes_rx = atomic_load(&eng.stats[XSTAT_RX]);
	st->bytes_tx = atomic_load(&eng.stats[XSTAT_TX]);
	st->reads_served = atomic_load(&eng.stats[XSTAT_READS]);
	st->connected_total = atomic_load(&eng.stats[XSTAT_CONNECTED]);
	st->rejected_total = atomic_load(&eng.stats[XSTAT_REJECTED]);
	st->auth_failed_total = atomic_load(&eng.stats[XSTAT_AUTH_FAIL]);
	st->disconnected_total = atomic_load(&eng.stats[XSTAT_DISCONN]);
}
