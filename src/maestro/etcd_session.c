/* Sessions and election on etcd (etcd.h): a lease kept alive by a thread, and etcd's
 * election recipe on top of it (candidates put a key under a prefix with their lease; the
 * oldest key is the leader; a dead instance's key vanishes with its lease). This is what
 * multi-instance maestro uses for membership, leadership and the work split. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldms/ldms_util.h"
#include "etcd_priv.h"

struct etcd_session {
	struct etcd_client *c;
	int64_t lease, ttl;
	etcd_session_lost_cb lost;
	void *arg;
	atomic_int is_lost;
	atomic_int stop;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps up to ms, or until stopped. */
static void nap(struct etcd_session *s, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->stop))
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->mu);
}

static void *keepalive_thread(void *arg)
{
	struct etcd_session *s = arg;
	double expires = mono() + (double)s->ttl;
	long period = (long)(s->ttl * 1000 / 3);
	if (period < 100)
		period = 100;
	long wait = period;
	while (!atomic_load(&s->stop)) {
		nap(s, wait);
		if (atomic_load(&s->stop))
			break;
		struct ldms_err err;
		ldms_err_clear(&err);
		int64_t ttl;
		double sent = mono();
		int rc = etcd_lease_keepalive(s->c, s->lease, &ttl, &err);
		if (!rc) {
			expires = sent + (double)ttl;
			wait = period;
			continue;
		}
		/* no member answered: keep trying while the lease may still be alive */
		if (rc != -ENOENT && mono() < expires) {
			wait = 250;
			continue;
		}
		atomic_store(&s->is_lost, 1);
		if (s->lost)
			s->lost(s->lease, err.msg, s->arg);
		break;
	}
	return NULL;
}

int etcd_session_start(struct etcd_client *c, int64_t ttl, etcd_session_lost_cb lost, void *arg,
		       struct etcd_session **out, struct ldms_err *err)
{
	if (ttl < 1)
		return ldms_err_set(err, -EINVAL, "etcd session: TTL must be at least 1 s");
	struct etcd_session *s = calloc(1, sizeof(*s));
	if (!s)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	s->c = c;
	s->lost = lost;
	s->arg = arg;
	atomic_init(&s->stop, 0);
	atomic_init(&s->is_lost, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	int rc = etcd_lease_grant(c, ttl, 0, &s->lease, &s->ttl, err);
	if (!rc && (rc = -pthread_create(&s->thread, NULL, keepalive_thread, s)))
		ldms_err_set(err, rc, "etcd session: cannot start a thread");
	if (rc) {
		if (s->lease) {
			struct ldms_err e2;
			etcd_lease_revoke(c, s->lease, &e2);
		}
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rc;
	}
	s->started = 1;
	*out = s;
	return 0;
}

int64_t etcd_session_lease(const struct etcd_session *s)
{
	return s->lease;
}

int etcd_session_lost(const struct etcd_session *s)
{
	return atomic_load(&((struct etcd_session *)s)->is_lost);
}

void etcd_session_stop(struct etcd_session *s, int revoke)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	if (revoke && !atomic_load(&s->is_lost)) {
		struct ldms_err e2;
		etcd_lease_revoke(s->c, s->lease, &e2);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- election ----------------------------------------------------------------------------------
 */

static char *candidate_key(const char *prefix, int64_t lease)
{
	char *k = NULL;
	if (asprintf(&k, "%s/%016" PRIx64, prefix, (uint64_t)lease) < 0)
		return NULL;
	return k;
}

int etcd_election_campaign(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			   const char *value, struct ldms_err *err)
{
	char *key = candidate_key(prefix, s->lease);
	if (!key)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	/* create the key if absent (keeps its create revision, i.e. its place in the
	 * queue, when campaigning again), else only update the value */
	struct etcd_cmp cmp = {.key = key, .target = ETCD_CMP_CREATE, .num = 0};
	struct etcd_op create = {
	    .type = ETCD_OP_PUT, .key = key, .value = value, .lease = s->lease};
	struct etcd_op update = create;
	struct etcd_txn t = {&cmp, 1, &create, 1, &update, 1};
	int rc = etcd_txn(c, &t, NULL, err);
	free(key);
	return rc;
}

int etcd_election_resign(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			 struct ldms_err *err)
{
	char *key = candidate_key(prefix, s->lease);
	if (!key)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	int rc = etcd_delete(c, key, NULL, NULL, NULL, err);
	free(key);
	return rc;
}

static int by_create(const void *a, const void *b)
{
	const struct etcd_kv *x = a, *y = b;
	return x->create_revision < y->create_revision ? -1
						       : x->create_revision > y->create_revision;
}

int etcd_election_candidates(struct etcd_client *c, const char *prefix,
			     struct etcd_range_result *out, struct ldms_err *err)
{
	char *dir = NULL;
	if (asprintf(&dir, "%s/", prefix) < 0)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	struct etcd_range_opts o = {.spec = {.prefix = 1}};
	int rc = etcd_range_all(c, dir, &o, 0, out, err);
	free(dir);
	if (!rc && out->count > 1)
		qsort(out->kvs, out->count, sizeof(out->kvs[0]), by_create);
	return rc;
}

int etcd_election_is_leader(struct etcd_client *c, const char *prefix, const struct etcd_session *s,
			    struct ldms_err *err)
{
	struct etcd_range_result r;
	int rc = etcd_election_candidates(c, prefix, &r, err);
	if (rc)
		return rc;
	int yes = r.count && r.kvs[0].lease == s->lease;
	etcd_range_result_free(&r);
	return yes;
}
