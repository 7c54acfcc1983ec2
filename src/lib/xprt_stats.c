/* Figures for ldmsd's status commands, read without touching the transport's
 * behaviour: thread CPU/wall usage from the kernel (per-thread CPU clocks, /proc),
 * and endpoint states/send queues collected by a task each I/O thread runs on its
 * own loop (bufferevents are not thread-safe, so only their owner may look). */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "ldms/ldms_xprt_stats.h"
#include "set_priv.h"
#include "xprt_int.h"

static uint64_t lib_t0_us;

__attribute__((constructor)) static void xprt_stats_t0(void)
{
	lib_t0_us = ldms_monotonic_us();
}

/* ---- threads --------------------------------------------------------------------------- */
/* Linux encodes a thread's CPU clock as ((~tid) << 3) | CPUCLOCK_PERTHREAD(4) |
 * CPUCLOCK_SCHED(2); glibc's pthread_getcpuclockid returns exactly that. Only tids
 * below 2^29 are representable, well above pid_max (2^22). */
static clockid_t tid_clock(pid_t tid)
{
	return (clockid_t)((~(uint32_t)tid << 3) | 6u);
}

pid_t ldms_pthread_tid(pthread_t th)
{
	clockid_t clk;
	if (pthread_getcpuclockid(th, &clk))
		return -ESRCH;
	uint32_t v = (uint32_t)clk >> 3;
	return (pid_t)(~v & ((1u << 29) - 1));
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

int ldms_thread_usage_get(pid_t tid, struct ldms_thread_usage *u)
{
	char path[64], buf[2048];
	struct timespec ts;
	memset(u, 0, sizeof(*u));
	u->tid = tid;
	if (tid <= 0 || clock_gettime(tid_clock(tid), &ts))
		return -ESRCH;
	u->cpu_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	if (!read_small(path, buf, sizeof(buf))) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(u->name, sizeof(u->name), "%.15s", buf);
	}
	/* field 22 (starttime, in clock ticks after boot); comm (field 2) may hold
	 * spaces and parentheses, so count from the last ')' */
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if (!read_small(path, buf, sizeof(buf))) {
		char *p = strrchr(buf, ')');
		unsigned long long start = 0;
		int field = 2;
		for (; p && *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (p && field == 22 && sscanf(p, "%llu", &start) == 1 &&
		    !clock_gettime(CLOCK_BOOTTIME, &ts)) {
			long hz = sysconf(_SC_CLK_TCK);
			uint64_t now =
			    (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
			uint64_t st = hz > 0 ? (uint64_t)start * 1000000u / (uint64_t)hz : 0;
			u->age_us = now > st ? now - st : 0;
		}
	}
	if (u->age_us < u->cpu_us)
		u->age_us = u->cpu_us;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if (!read_small(path, buf, sizeof(buf))) {
		const char *v = strstr(buf, "\nvoluntary_ctxt_switches:");
		unsigned long long n;
		if (v && sscanf(v + 25, "%llu", &n) == 1)
			u->wakeups = n;
	}
	return 0;
}

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return x < y ? -1 : x > y;
}

int ldms_thread_list(pid_t *tids, int max)
{
	DIR *dir = opendir("/proc/self/task");
	int n = 0;
	if (!dir)
		return 0;
	struct dirent *e;
	while ((e = readdir(dir)) && n < max) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (*e->d_name && !*end && v > 0)
			tids[n++] = (pid_t)v;
	}
	closedir(dir);
	qsort(tids, (size_t)n, sizeof(*tids), tid_cmp);
	return n;
}

/* ---- endpoint gathering --------------------------------------------------------------------- */
struct gather {
	atomic_int ref;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending;
	size_t n_io;
	struct ldms_io_thread_info *io; /* n_eps / sq_sz / gathered filled by the tasks */
	struct ldms_ep_info *ep;
	size_t n_ep, cap_ep;
};

struct gather_task {
	struct gather *g;
	int idx;
	struct io_thread *io;
};

struct ep_list {
	struct io_thread *io;
	int idx;
	struct ldms_ep_info *ep;
	size_t n, cap;
	int oom;
};

static void gather_put(struct gather *g)
{
	if (atomic_fetch_sub(&g->ref, 1) != 1)
		return;
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g->io);
	free(g->ep);
	free(g);
}

static const char *ep_state_str(enum xprt_state st)
{
	switch (st) {
	case XS_CONNECTED:
		return "connect";
	case XS_CLOSED:
		return "close";
	default:
		return "connecting";
	}
}

/* On the endpoint's own I/O thread: its state and output buffer. */
static void ep_collect(struct ldms_xprt *x, void *arg)
{
	struct ep_list *l = arg;
	if (x->io != l->io || l->oom)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 8;
		struct ldms_ep_info *n = realloc(l->ep, nc * sizeof(*n));
		if (!n) {
			l->oom = 1;
			return;
		}
		l->ep = n;
		l->cap = nc;
	}
	struct ldms_ep_info *e = &l->ep[l->n++];
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&x->lock);
	enum xprt_state st = x->state;
	pthread_mutex_unlock(&x->lock);
	e->io_idx = l->idx;
	e->active = x->active;
	e->state = ep_state_str(st);
	snprintf(e->peer, sizeof(e->peer), "%s", x->peer_str);
	e->sq_sz = x->bev ? evbuffer_get_length(bufferevent_get_output(x->bev)) : 0;
}

static void gather_run(struct gather *g, int idx, struct io_thread *io)
{
	struct ep_list l = {.io = io, .idx = idx};
	uint64_t sq = 0;
	xprt_list_foreach(ep_collect, &l);
	for (size_t i = 0; i < l.n; i++)
		sq += l.ep[i].sq_sz;
	pthread_mutex_lock(&g->lock);
	if (!l.oom && g->n_ep + l.n > g->cap_ep) {
		size_t nc = g->cap_ep ? g->cap_ep : 8;
		while (nc < g->n_ep + l.n)
			nc *= 2;
		struct ldms_ep_info *n = realloc(g->ep, nc * sizeof(*n));
		if (n) {
			g->ep = n;
			g->cap_ep = nc;
		} else {
			l.oom = 1;
		}
	}
	if (!l.oom) {
		if (l.n)
			memcpy(g->ep + g->n_ep, l.ep, l.n * sizeof(*l.ep));
		g->n_ep += l.n;
		g->io[idx].n_eps = (int)l.n;
		g->io[idx].sq_sz = sq;
		g->io[idx].gathered = 1;
	}
	g->pending--;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	free(l.ep);
}

static void gather_task_fn(void *arg)
{
	struct gather_task *t = arg;
	gather_run(t->g, t->idx, t->io);
	gather_put(t->g);
	free(t);
}

int ldms_xprt_snapshot_get(struct ldms_xprt_snapshot *s, int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->uptime_us = ldms_monotonic_us() - lib_t0_us;
	ldms_xprt_stats_get(&s->counters);

	size_t n_io = 0;
	while (n_io < 4096 && xprt_io_get((int)n_io))
		n_io++;
	struct gather *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	atomic_init(&g->ref, 1);
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
	g->n_io = n_io;
	g->io = calloc(n_io ? n_io : 1, sizeof(*g->io));
	if (!g->io) {
		gather_put(g);
		return -ENOMEM;
	}

	for (size_t i = 0; i < n_io; i++) {
		struct io_thread *io = xprt_io_get((int)i);
		struct ldms_io_thread_info *ti = &g->io[i];
		ti->idx = (int)i;
		if (!io)
			continue;
		ti->pthread_id = (uint64_t)io->th;
		ti->tid = ldms_pthread_tid(io->th);
		for (int c = 0; c < LDMS_IO_CAT_COUNT; c++)
			ti->cat_us[c] = atomic_load_explicit(&io->cat_us[c], memory_order_relaxed);
		if (ti->tid > 0)
			ldms_thread_usage_get(ti->tid, &ti->usage);
		pthread_mutex_lock(&g->lock);
		g->pending++;
		pthread_mutex_unlock(&g->lock);
		if (xprt_on_io_thread(io)) {
			/* the caller's own loop cannot run a posted task while we wait */
			gather_run(g, (int)i, io);
			continue;
		}
		struct gather_task *t = malloc(sizeof(*t));
		int rc = -ENOMEM;
		if (t) {
			*t = (struct gather_task){.g = g, .idx = (int)i, .io = io};
			atomic_fetch_add(&g->ref, 1);
			rc = xprt_post(io, gather_task_fn, t);
			if (rc) {
				atomic_fetch_sub(&g->ref, 1);
				free(t);
			}
		}
		if (rc) {
			pthread_mutex_lock(&g->lock);
			g->pending--;
			pthread_mutex_unlock(&g->lock);
		}
	}

	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	pthread_mutex_lock(&g->lock);
	while (g->pending > 0) {
		if (pthread_cond_timedwait(&g->cond, &g->lock, &dl) == ETIMEDOUT)
			break;
	}
	/* copy what arrived; late tasks still write into g, which they keep alive */
	s->n_io = n_io;
	s->io = calloc(n_io ? n_io : 1, sizeof(*s->io));
	s->n_ep = g->n_ep;
	s->ep = calloc(g->n_ep ? g->n_ep : 1, sizeof(*s->ep));
	if (s->io && s->ep) {
		if (n_io)
			memcpy(s->io, g->io, n_io * sizeof(*s->io));
		if (g->n_ep)
			memcpy(s->ep, g->ep, g->n_ep * sizeof(*s->ep));
	} else {
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&g->lock);
	gather_put(g);
	if (rc)
		ldms_xprt_snapshot_free(s);
	return rc;
}

void ldms_xprt_snapshot_free(struct ldms_xprt_snapshot *s)
{
	free(s->io);
	free(s->ep);
	s->io = NULL;
	s->ep = NULL;
	s->n_io = s->n_ep = 0;
}

/* ---- sets ------------------------------------------------------------------------------------ */
size_t ldms_set_live_count(void)
{
	return set_live_count();
}

/* ---- I/O-thread time per category ---------------------------------------------------------
 * Every callback an I/O thread runs is timed from enter to leave; the current
 * category can switch in between (a frame's handler), and nested callbacks (a
 * write callback reading buffered frames) charge the outer one's time first. */
static const char *const io_cat_names[LDMS_IO_CAT_COUNT] = {
    "Zap",
    "Other",
    "Connecting",
    "Dir Requests",
    "Dir Replies",
    "Lookup Requests",
    "Lookup Replies",
    "Update Requests",
    "Update Completes",
    "Message Service Data",
    "Message Service Client",
    "Push Requests",
    "Push Replies",
    "Set Delete Requests",
    "Set Delete Replies",
    "Send Messages",
    "Receive Messages",
    "Authentication",
    "Disconnecting",
};

const char *ldms_io_cat_name(int cat)
{
	return cat >= 0 && cat < LDMS_IO_CAT_COUNT ? io_cat_names[cat] : "?";
}

static __thread uint64_t io_last_us;
static __thread int io_depth, io_cur;

static void io_charge(uint64_t now)
{
	struct io_thread *io = xprt_io_current();
	if (io && now > io_last_us)
		atomic_fetch_add_explicit(&io->cat_us[io_cur], now - io_last_us,
					  memory_order_relaxed);
	io_last_us = now;
}

int xprt_io_enter(int cat)
{
	int saved = io_cur;
	if (!xprt_io_current())
		return saved;
	uint64_t now = ldms_monotonic_us();
	if (io_depth++ > 0)
		io_charge(now);
	else
		io_last_us = now;
	io_cur = cat;
	return saved;
}

void xprt_io_cat(int cat)
{
	if (!io_depth || cat == io_cur)
		return;
	io_charge(ldms_monotonic_us());
	io_cur = cat;
}

void xprt_io_leave(int saved)
{
	if (!io_depth)
		return;
	io_charge(ldms_monotonic_us());
	io_cur = saved;
	io_depth--;
}

/* ---- per-operation latencies -------------------------------------------------------------
 * One slot per thread that records, written by that thread only under a sequence
 * counter (readers retry over a concurrent write); a reset bumps an epoch and each
 * writer clears its own slot when it sees the change, so nothing on the recording
 * path ever takes a lock. */
#define PEER_WORDS 6 /* 48 bytes of "a.b.c.d:port" */

static const char *const op_names[LDMS_XPRT_OP_COUNT] = {
    "LOOKUP", "UPDATE", "PUBLISH",     "SET_DELETE",	"DIR_REQ",	   "DIR_REP",
    "SEND",   "RECV",	"MSG_PUBLISH", "MSG_SUBSCRIBE", "MSG_UNSUBSCRIBE",
};

const char *ldms_xprt_op_name(int op)
{
	return op >= 0 && op < LDMS_XPRT_OP_COUNT ? op_names[op] : "?";
}

struct op_acc {
	atomic_uint_fast64_t count, total, min, max;
	atomic_uint_fast64_t min_peer[PEER_WORDS], max_peer[PEER_WORDS];
};

struct op_slot {
	struct op_slot *next;
	atomic_uint seq;
	atomic_uint epoch;
	atomic_int in_use;
	struct op_acc op[LDMS_XPRT_OP_COUNT];
};

static struct {
	pthread_mutex_t lock;
	struct op_slot *_Atomic head;
	atomic_uint epoch;
	pthread_key_t key;
	pthread_once_t once;
	int key_ok;
} ops = {.lock = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT};

static __thread struct op_slot *my_slot;

/* A thread that exits hands its slot (and its counts) to the next new thread. */
static void slot_release(void *arg)
{
	struct op_slot *s = arg;
	atomic_store(&s->in_use, 0);
}

static void ops_key_init(void)
{
	ops.key_ok = !pthread_key_create(&ops.key, slot_release);
}

static struct op_slot *slot_get(void)
{
	pthread_once(&ops.once, ops_key_init);
	if (!ops.key_ok)
		return NULL;
	struct op_slot *s;
	for (s = atomic_load(&ops.head); s; s = s->next) {
		int z = 0;
		if (atomic_compare_exchange_strong(&s->in_use, &z, 1))
			break;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		atomic_init(&s->in_use, 1);
		atomic_init(&s->epoch, atomic_load(&ops.epoch));
		pthread_mutex_lock(&ops.lock);
		s->next = atomic_load(&ops.head);
		atomic_store(&ops.head, s);
		pthread_mutex_unlock(&ops.lock);
	}
	pthread_setspecific(ops.key, s);
	my_slot = s;
	return s;
}

static void peer_pack(const char *peer, atomic_uint_fast64_t *w)
{
	uint64_t v[PEER_WORDS] = {0};
	if (peer)
		strncpy((char *)v, peer, sizeof(v) - 1);
	for (int i = 0; i < PEER_WORDS; i++)
		atomic_store_explicit(&w[i], v[i], memory_order_relaxed);
}

void xprt_op_record(int op, uint64_t us, const struct ldms_xprt *x)
{
	struct op_slot *s = my_slot ? my_slot : slot_get();
	if (!s || op < 0 || op >= LDMS_XPRT_OP_COUNT)
		return;
	unsigned ep = atomic_load_explicit(&ops.epoch, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed); /* odd: writing */
	atomic_thread_fence(memory_order_release);
	if (atomic_load_explicit(&s->epoch, memory_order_relaxed) != ep) {
		for (int i = 0; i < LDMS_XPRT_OP_COUNT; i++) {
			atomic_store_explicit(&s->op[i].count, 0, memory_order_relaxed);
			atomic_store_explicit(&s->op[i].total, 0, memory_order_relaxed);
		}
		atomic_store_explicit(&s->epoch, ep, memory_order_relaxed);
	}
	struct op_acc *a = &s->op[op];
	uint64_t n = atomic_load_explicit(&a->count, memory_order_relaxed);
	atomic_store_explicit(&a->count, n + 1, memory_order_relaxed);
	atomic_store_explicit(&a->total, atomic_load_explicit(&a->total, memory_order_relaxed) + us,
			      memory_order_relaxed);
	const char *peer = x ? x->peer_str : NULL;
	if (!n || us < atomic_load_explicit(&a->min, memory_order_relaxed)) {
		atomic_store_explicit(&a->min, us, memory_order_relaxed);
		peer_pack(peer, a->min_peer);
	}
	if (!n || us > atomic_load_explicit(&a->max, memory_order_relaxed)) {
		atomic_store_explicit(&a->max, us, memory_order_relaxed);
		peer_pack(peer, a->max_peer);
	}
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_release); /* even: done */
}

static void peer_unpack(atomic_uint_fast64_t *w, char *out, size_t len)
{
	uint64_t v[PEER_WORDS];
	for (int i = 0; i < PEER_WORDS; i++)
		v[i] = atomic_load_explicit(&w[i], memory_order_relaxed);
	snprintf(out, len, "%.*s", (int)sizeof(v) - 1, (const char *)v);
}

/* A consistent copy of one slot's op; 0 if the slot predates the last reset. */
static int slot_read(struct op_slot *s, int op, unsigned ep, struct ldms_xprt_op_stats *o)
{
	struct op_acc *a = &s->op[op];
	for (int tries = 0;; tries++) {
		unsigned s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if ((s1 & 1) && tries < 10000)
			continue;
		int cur = atomic_load_explicit(&s->epoch, memory_order_relaxed) == ep;
		o->count = atomic_load_explicit(&a->count, memory_order_relaxed);
		o->total_us = atomic_load_explicit(&a->total, memory_order_relaxed);
		o->min_us = atomic_load_explicit(&a->min, memory_order_relaxed);
		o->max_us = atomic_load_explicit(&a->max, memory_order_relaxed);
		peer_unpack(a->min_peer, o->min_peer, sizeof(o->min_peer));
		peer_unpack(a->max_peer, o->max_peer, sizeof(o->max_peer));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) == s1 || tries >= 10000)
			return cur && o->count;
	}
}

void ldms_xprt_op_stats_get(struct ldms_xprt_op_stats *out)
{
	unsigned ep = atomic_load(&ops.epoch);
	memset(out, 0, LDMS_XPRT_OP_COUNT * sizeof(*out));
	for (struct op_slot *s = atomic_load(&ops.head); s; s = s->next) {
		for (int op = 0; op < LDMS_XPRT_OP_COUNT; op++) {
			struct ldms_xprt_op_stats o, *t = &out[op];
			if (!slot_read(s, op, ep, &o))
				continue;
			if (!t->count || o.min_us < t->min_us) {
				t->min_us = o.min_us;
				memcpy(t->min_peer, o.min_peer, sizeof(t->min_peer));
			}
			if (!t->count || o.max_us > t->max_us) {
				t->max_us = o.max_us;
				memcpy(t->max_peer, o.max_peer, sizeof(t->max_peer));
			}
			t->count += o.count;
			t->total_us += o.total_us;
		}
	}
}

void ldms_xprt_op_stats_reset(void)
{
	atomic_fetch_add(&ops.epoch, 1);
}
