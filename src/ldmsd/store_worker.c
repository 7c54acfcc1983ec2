/* Store workers: a small pool of threads, each with a bounded job queue, so store
 * plugins never run on an I/O thread. A job is a snapshot of a mirror set for one
 * storage policy; jobs of one (policy, set) always go to the same worker, so rows
 * keep their order. A full queue never blocks the producer of jobs: the oldest
 * pending job of the same set is replaced (else the oldest job is dropped), and the
 * drop is counted on the policy. Also: the storage_threads/storage_queue commands. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"

/* ---- the bounded queue (pure) ------------------------------------------------------------ */
void ldmsd_store_queue_init(struct ldmsd_store_queue *q, size_t max)
{
	TAILQ_INIT(&q->jobs);
	q->depth = 0;
	q->max = max;
}

void ldmsd_store_queue_push(struct ldmsd_store_queue *q, struct ldmsd_store_job *j,
			    struct ldmsd_store_job **dropped)
{
	*dropped = NULL;
	if (q->max && q->depth >= q->max) {
		struct ldmsd_store_job *o;
		TAILQ_FOREACH(o, &q->jobs, link)
		if (o->key == j->key && o->key2 == j->key2)
			break;
		if (o) {
			/* the newer data takes the older job's place in line */
			TAILQ_INSERT_BEFORE(o, j, link);
			TAILQ_REMOVE(&q->jobs, o, link);
			*dropped = o;
			return;
		}
		o = TAILQ_FIRST(&q->jobs);
		TAILQ_REMOVE(&q->jobs, o, link);
		q->depth--;
		*dropped = o;
	}
	TAILQ_INSERT_TAIL(&q->jobs, j, link);
	q->depth++;
}

struct ldmsd_store_job *ldmsd_store_queue_pop(struct ldmsd_store_queue *q)
{
	struct ldmsd_store_job *j = TAILQ_FIRST(&q->jobs);
	if (j) {
		TAILQ_REMOVE(&q->jobs, j, link);
		q->depth--;
	}
	return j;
}

void ldmsd_store_queue_remove_strgp(struct ldmsd_store_queue *q, struct ldmsd_strgp *s,
				    struct ldmsd_store_job_list *out)
{
	struct ldmsd_store_job *j, *n;
	for (j = TAILQ_FIRST(&q->jobs); j; j = n) {
		n = TAILQ_NEXT(j, link);
		if (j->strgp != s)
			continue;
		TAILQ_REMOVE(&q->jobs, j, link);
		q->depth--;
		TAILQ_INSERT_TAIL(out, j, link);
	}
}

void ldmsd_store_job_free(struct ldmsd_store_job *j)
{
	if (!j)
		return;
	if (j->snap)
		ldmsd_store_snap_put(j->snap);
	if (j->strgp)
		ldmsd_strgp_put(j->strgp);
	free(j);
}

/* ---- snapshots ------------------------------------------------------------------------------ */
static void snap_free(struct ldmsd_store_snap *sn)
{
	if (sn->set)
		ldms_set_put(sn->set);
	free(sn);
}

void ldmsd_store_snap_free(struct ldmsd_store_snap *sn)
{
	if (sn)
		snap_free(sn);
}

struct ldmsd_store_snap *ldmsd_store_snap_take(struct ldmsd_prdcr_set *ps, ldms_set_t s)
{
	uint64_t mgn = ldms_set_meta_gn_get(s);
	size_t sz = ldms_set_mem_size(s);
	struct ldmsd_store_snap *sn;
	int fresh = 0;

	pthread_mutex_lock(&ps->snap_lock);
	sn = ps->spare;
	ps->spare = NULL;
	pthread_mutex_unlock(&ps->snap_lock);
	if (sn && ldms_set_mem_size(sn->set) != sz) {
		snap_free(sn);
		sn = NULL;
	}
	if (!sn) {
		sn = calloc(1, sizeof(*sn));
		if (!sn)
			return NULL;
		sn->set = ldms_set_new_remote(ldms_set_instance_name_get(s),
					      ldms_set_schema_name_get(s), ldms_set_meta_sz_get(s),
					      ldms_set_data_sz_get(s), ldms_set_array_card_get(s));
		if (!sn->set || ldms_set_mem_size(sn->set) != sz) {
			snap_free(sn);
			return NULL;
		}
		fresh = 1;
	}
	ldms_set_lock(s);
	memcpy(ldms_set_mem(sn->set), ldms_set_mem(s), sz);
	ldms_set_unlock(s);
	/* the descriptor table is rebuilt only when the metadata changed */
	if ((fresh || sn->meta_gn != mgn) && ldms_set_remote_validate(sn->set)) {
		snap_free(sn);
		return NULL;
	}
	sn->meta_gn = mgn;
	sn->ref = 1;
	sn->ps = ldmsd_prdcr_set_get(ps);
	return sn;
}

struct ldmsd_store_snap *ldmsd_store_snap_get(struct ldmsd_store_snap *sn)
{
	__atomic_add_fetch(&sn->ref, 1, __ATOMIC_SEQ_CST);
	return sn;
}

void ldmsd_store_snap_put(struct ldmsd_store_snap *sn)
{
	if (!sn || __atomic_sub_fetch(&sn->ref, 1, __ATOMIC_SEQ_CST))
		return;
	/* keep one copy per set for the next update: no allocation, no re-validation */
	struct ldmsd_prdcr_set *ps = sn->ps;
	sn->ps = NULL;
	pthread_mutex_lock(&ps->snap_lock);
	if (!ps->spare) {
		ps->spare = sn;
		sn = NULL;
	}
	pthread_mutex_unlock(&ps->snap_lock);
	if (sn)
		snap_free(sn);
	ldmsd_prdcr_set_put(ps);
}

/* ---- the pool ----------------------------------------------------------------------------------
 */
struct store_worker {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ldmsd_store_queue q;
	int stop;
	int idx;
	int started;
};

struct ldmsd_store_pool {
	int n;
	struct store_worker *w;
};

static void *worker_main(void *arg)
{
	struct store_worker *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct ldmsd_store_job *j = NULL;
		while (!w->stop && !(j = ldmsd_store_queue_pop(&w->q)))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		ldmsd_strgp_store_job(j->strgp, j);
		ldmsd_store_job_free(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int ldmsd_store_pool_start(struct ldmsd *d)
{
	struct ldmsd_agg *a = ldmsd_agg(d);
	if (!a)
		return -ENOMEM;
	if (a->pool)
		return 0;
	struct ldmsd_store_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = a->storage_threads > 0 ? a->storage_threads : 1;
	p->w = calloc((size_t)p->n, sizeof(*p->w));
	if (!p->w) {
		free(p);
		return -ENOMEM;
	}
	for (int i = 0; i < p->n; i++) {
		struct store_worker *w = &p->w[i];
		char nm[32];
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
		ldmsd_store_queue_init(&w->q, a->storage_queue);
		w->idx = i;
		int rc = pthread_create(&w->th, NULL, worker_main, w);
		if (rc) {
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG, "cannot start store worker %d: %s",
				 i, strerror(rc));
			p->n = i;
			break;
		}
		w->started = 1;
		snprintf(nm, sizeof(nm), "str:wrk:%d", i);
		pthread_setname_np(w->th, nm);
	}
	if (!p->n) {
		free(p->w);
		free(p);
		return -EAGAIN;
	}
	pthread_rwlock_wrlock(&a->lock);
	a->pool = p;
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

void ldmsd_store_pool_stop(struct ldmsd *d)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_store_pool *p;
	if (!a || !a->pool)
		return;
	pthread_rwlock_wrlock(&a->lock);
	p = a->pool;
	a->pool = NULL;
	pthread_rwlock_unlock(&a->lock);
	for (int i = 0; i < p->n; i++) {
		struct store_worker *w = &p->w[i];
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	for (int i = 0; i < p->n; i++) {
		struct store_worker *w = &p->w[i];
		struct ldmsd_store_job *j;
		pthread_join(w->th, NULL);
		while ((j = ldmsd_store_queue_pop(&w->q)))
			ldmsd_store_job_free(j);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
	free(p->w);
	free(p);
}

static unsigned job_hash(const void *k1, const void *k2)
{
	uintptr_t h = (uintptr_t)k1 * 0x9E3779B97F4A7C15ull ^ (uintptr_t)k2;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return (unsigned)(h ^ (h >> 32));
}

/* Called with agg->lock held for reading (the pool cannot go away meanwhile). */
void ldmsd_store_pool_submit(struct ldmsd *d, struct ldmsd_store_job *j)
{
	struct ldmsd_store_pool *p = d->agg ? d->agg->pool : NULL;
	struct ldmsd_store_job *dropped = NULL;
	if (!p) {
		__atomic_add_fetch(&j->strgp->drops, 1, __ATOMIC_RELAXED);
		ldmsd_store_job_free(j);
		return;
	}
	struct store_worker *w = &p->w[job_hash(j->key, j->key2) % (unsigned)p->n];
	pthread_mutex_lock(&w->lock);
	ldmsd_store_queue_push(&w->q, j, &dropped);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (dropped) {
		__atomic_add_fetch(&dropped->strgp->drops, 1, __ATOMIC_RELAXED);
		ldmsd_store_job_free(dropped);
	}
}

void ldmsd_store_pool_drain_strgp(struct ldmsd *d, struct ldmsd_strgp *s)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_store_job_list out = TAILQ_HEAD_INITIALIZER(out);
	struct ldmsd_store_job *j;
	if (!a)
		return;
	pthread_rwlock_rdlock(&a->lock);
	struct ldmsd_store_pool *p = a->pool;
	for (int i = 0; p && i < p->n; i++) {
		pthread_mutex_lock(&p->w[i].lock);
		ldmsd_store_queue_remove_strgp(&p->w[i].q, s, &out);
		pthread_mutex_unlock(&p->w[i].lock);
	}
	pthread_rwlock_unlock(&a->lock);
	while ((j = TAILQ_FIRST(&out))) {
		TAILQ_REMOVE(&out, j, link);
		ldmsd_store_job_free(j);
	}
}

/* ---- commands
 * ------------------------------------------------------------------------------------ */
static int storage_setting(struct ldmsd_req_ctxt *c, int threads)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	const char *v = ldmsd_req_attr(c, LDMSD_ATTR_SIZE);
	char *end;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	errno = 0;
	long n = strtol(v ? v : "", &end, 10);
	if (!v || errno || end == v || *end || n < 1 || n > (threads ? 256 : 1 << 24))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid value '%s'", ldmsd_req_verb(c),
				       v ? v : "");
	if (a->pool)
		return ldmsd_reply_err(c, -EBUSY, "%s: the store workers are already running",
				       ldmsd_req_verb(c));
	if (threads)
		a->storage_threads = (int)n;
	else
		a->storage_queue = (size_t)n;
	return 0;
}

static int storage_threads_handler(struct ldmsd_req_ctxt *c)
{
	return storage_setting(c, 1);
}

static int storage_queue_handler(struct ldmsd_req_ctxt *c)
{
	return storage_setting(c, 0);
}

const struct ldmsd_cmd_def ldmsd_store_worker_cmds[] = {
    {"storage_threads", storage_threads_handler, 0,
     (const struct ldmsd_attr_spec[]){{"count", LDMSD_ATTR_F_REQ}, {NULL, 0}}},
    {"storage_queue", storage_queue_handler, 0,
     (const struct ldmsd_attr_spec[]){{"depth", LDMSD_ATTR_F_REQ}, {NULL, 0}}},
    {NULL, NULL, 0, NULL},
};
