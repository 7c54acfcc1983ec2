/* Multi-instance coordination on etcd leases (coord.h): a thread keeps this instance's
 * lease and member key alive, reads the live members and the owner keys, and takes or
 * gives back units so that unit i is held by live member i mod n. Ownership is an owner
 * key created in a transaction, so etcd alone decides who holds what. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_util.h"
#include "cfgstore_etcd.h"
#include "coord.h"
#include "etcd.h"
#include "etcd_yaml.h"
#include "monitor.h"

struct coord {
	struct etcd_client *cli;
	char *root; /* "/P.maestro" */
	char *self;
	char *member_key;
	int ttl_s, poll_ms;
	void (*wake)(void *);
	void *wake_arg;

	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int stop;
	/* lock */
	char **units;
	size_t n_units;
	unsigned char *owned;
	uint64_t epoch;
	char *members;
	int64_t lease; /* written by the thread under lock, read by others */
	/* thread only */
	uint64_t next_keepalive_us, last_ok_us;
	int lost_logged;
};

long coord_unit_owner(size_t unit_index, size_t n_members)
{
	return n_members ? (long)(unit_index % n_members) : -1;
}

int coord_self_id(const struct etcd_yaml *y, const char *member, char **id, struct ldms_err *err)
{
	char host[256] = "";
	*id = NULL;
	if (gethostname(host, sizeof(host) - 1))
		return ldms_err_set(err, -errno, "gethostname: %s", strerror(errno));
	long found = -1;
	for (size_t i = 0; i < y->n_maestro_members; i++) {
		const struct etcd_yaml_member *m = &y->maestro_members[i];
		char buf[300];
		snprintf(buf, sizeof(buf), "%s:%d", m->host, m->port);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(y->maestro_members[k].host, m->host) &&
			    (!member || y->maestro_members[k].port == m->port))
				return ldms_err_set(err, -EINVAL,
						    "%s appeared more than one time in the "
						    "maestro_members list",
						    m->host);
		if (member ? !strcmp(member, buf) : !strcmp(m->host, host)) {
			found = (long)i;
			if (!(*id = strdup(buf)))
				return ldms_err_set(err, -ENOMEM, "out of memory");
		}
	}
	if (found < 0)
		return ldms_err_set(err, -ENOENT, "`%s` is not in the maestro_members list",
				    member ? member : host);
	return 0;
}

/* ---- etcd steps ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_lease(struct coord *c, int64_t l)
{
	pthread_mutex_lock(&c->lock);
	c->lease = l;
	pthread_mutex_unlock(&c->lock);
}

static int put_member(struct coord *c, struct ldms_err *err)
{
	char val[512];
	snprintf(val, sizeof(val), "{\"id\":\"%s\",\"pid\":%d}", c->self, (int)getpid());
	return etcd_put(c->cli, c->member_key, val, c->lease, NULL, err);
}

/* the names under root/<dir>/ (key suffixes) and their values */
static int list_dir(struct coord *c, const char *dir, char ***names, char ***values, size_t *n,
		    struct ldms_err *err)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/%s/", c->root, dir);
	struct etcd_range_opts o = {.spec = {.prefix = 1}};
	struct etcd_range_result r = {0};
	int rc = etcd_range(c->cli, key, &o, &r, err);
	*names = *values = NULL;
	*n = 0;
	if (rc)
		return rc;
	size_t kl = strlen(key);
	*names = calloc(r.count + 1, sizeof(char *));
	*values = calloc(r.count + 1, sizeof(char *));
	if (!*names || !*values) {
		etcd_range_result_free(&r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r.count; i++) {
		if (r.kvs[i].key_len <= kl)
			continue;
		(*names)[*n] = strdup(r.kvs[i].key + kl);
		(*values)[*n] = strdup(r.kvs[i].value ? r.kvs[i].value : "");
		(*n)++;
	}
	etcd_range_result_free(&r);
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int take(struct coord *c, const char *unit, int *got, struct ldms_err *err)
{
	char key[2048];
	snprintf(key, sizeof(key), "%s/owner/%s", c->root, unit);
	struct etcd_cmp cmp = {
	    .key = key, .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .num = 0};
	struct etcd_op op = {.type = ETCD_OP_PUT, .key = key, .value = c->self, .lease = c->lease};
	struct etcd_txn t = {.cmp = &cmp, .ncmp = 1, .success = &op, .nsuccess = 1};
	struct etcd_txn_result r = {0};
	int rc = etcd_txn(c->cli, &t, &r, err);
	*got = !rc && r.succeeded;
	etcd_txn_result_free(&r);
	return rc;
}

static int give_back(struct coord *c, const char *unit, struct ldms_err *err)
{
	char key[2048];
	snprintf(key, sizeof(key), "%s/owner/%s", c->root, unit);
	struct etcd_cmp cmp = {
	    .key = key, .target = ETCD_CMP_VALUE, .result = ETCD_CMP_EQUAL, .value = c->self};
	struct etcd_op op = {.type = ETCD_OP_DELETE, .key = key};
	struct etcd_txn t = {.cmp = &cmp, .ncmp = 1, .success = &op, .nsuccess = 1};
	struct etcd_txn_result r = {0};
	int rc = etcd_txn(c->cli, &t, &r, err);
	etcd_txn_result_free(&r);
	return rc;
}

static void publish(struct coord *c, unsigned char *owned, size_t n, char *members)
{
	pthread_mutex_lock(&c->lock);
	int changed =
	    n != c->n_units || !c->members != !members || (members && strcmp(members, c->members));
	for (size_t i = 0; !changed && i < n; i++)
		changed = !c->owned || c->owned[i] != owned[i];
	if (n == c->n_units) {
		free(c->owned);
		c->owned = owned;
		owned = NULL;
	}
	free(c->members);
	c->members = members;
	if (changed)
		c->epoch++;
	pthread_mutex_unlock(&c->lock);
	free(owned);
	if (changed && c->wake)
		c->wake(c->wake_arg);
}

/* own nothing (lease lost, or etcd out of reach for a lease's time) */
static void drop_all(struct coord *c)
{
	pthread_mutex_lock(&c->lock);
	int had = 0;
	for (size_t i = 0; c->owned && i < c->n_units; i++)
		had |= c->owned[i];
	if (c->owned)
		memset(c->owned, 0, c->n_units);
	if (had)
		c->epoch++;
	pthread_mutex_unlock(&c->lock);
	if (had && c->wake)
		c->wake(c->wake_arg);
}

/* One round; 0 when etcd answered. */
static int step(struct coord *c)
{
	struct ldms_err err = {0};
	uint64_t now = mon_mono_us();
	int rc;
	if (!c->lease) {
		int64_t ttl = 0, l = 0;
		if ((rc = etcd_lease_grant(c->cli, c->ttl_s, 0, &l, &ttl, &err)))
			goto fail;
		set_lease(c, l);
		if ((rc = put_member(c, &err))) {
			set_lease(c, 0);
			goto fail;
		}
		mlog(MLOG_INFO, "Joined as maestro instance %s (lease %d s)", c->self, c->ttl_s);
		c->next_keepalive_us = now + (uint64_t)c->ttl_s * 1000000u / 3;
	} else if (now >= c->next_keepalive_us) {
		int64_t ttl = 0;
		rc = etcd_lease_keepalive(c->cli, c->lease, &ttl, &err);
		if (rc == -ENOENT) {
			mlog(MLOG_WARNING, "Instance %s: lease expired; joining again", c->self);
			set_lease(c, 0);
			drop_all(c);
			return 0;
		}
		if (rc)
			goto fail;
		c->next_keepalive_us = now + (uint64_t)c->ttl_s * 1000000u / 3;
	}
	char **mn = NULL, **mv = NULL, **on = NULL, **ov = NULL;
	size_t nm = 0, no = 0;
	if ((rc = list_dir(c, "members", &mn, &mv, &nm, &err)) ||
	    (rc = list_dir(c, "owner", &on, &ov, &no, &err))) {
		strv_free(mn, nm);
		strv_free(mv, nm);
		goto fail;
	}
	qsort(mn, nm, sizeof(*mn), cmp_str);
	long me = -1;
	for (size_t i = 0; i < nm; i++)
		if (!strcmp(mn[i], c->self))
			me = (long)i;
	if (me < 0) /* our key vanished (deleted by hand?): put it back */
		put_member(c, &err);
	pthread_mutex_lock(&c->lock);
	size_t nu = c->n_units;
	char **units = calloc(nu + 1, sizeof(char *));
	for (size_t i = 0; units && i < nu; i++)
		units[i] = strdup(c->units[i]);
	pthread_mutex_unlock(&c->lock);
	unsigned char *owned = calloc(nu + 1, 1);
	size_t mlen = 1;
	for (size_t i = 0; i < nm; i++)
		mlen += strlen(mn[i]) + 1;
	char *members = calloc(mlen, 1);
	for (size_t i = 0; members && i < nm; i++) {
		if (i)
			strcat(members, " ");
		strcat(members, mn[i]);
	}
	rc = 0;
	for (size_t u = 0; units && owned && u < nu && !rc; u++) {
		const char *holder = NULL;
		for (size_t k = 0; k < no; k++)
			if (!strcmp(on[k], units[u]))
				holder = ov[k];
		long w = me >= 0 ? coord_unit_owner(u, nm) : -1;
		int mine = w >= 0 && !strcmp(mn[w], c->self);
		if (holder && !strcmp(holder, c->self)) {
			if (mine) {
				owned[u] = 1;
			} else {
				mlog(MLOG_INFO, "Instance %s: giving %s to %s", c->self, units[u],
				     w >= 0 ? mn[w] : "?");
				rc = give_back(c, units[u], &err);
			}
		} else if (!holder && mine) {
			int got = 0;
			rc = take(c, units[u], &got, &err);
			owned[u] = (unsigned char)got;
			if (got)
				mlog(MLOG_INFO, "Instance %s: now managing %s", c->self, units[u]);
		}
	}
	/* owner keys of units that no longer exist */
	for (size_t k = 0; units && k < no && !rc; k++) {
		int known = 0;
		for (size_t u = 0; u < nu && !known; u++)
			known = !strcmp(on[k], units[u]);
		if (!known && !strcmp(ov[k], c->self))
			rc = give_back(c, on[k], &err);
	}
	strv_free(mn, nm);
	strv_free(mv, nm);
	strv_free(on, no);
	strv_free(ov, no);
	strv_free(units, nu);
	if (!owned || !members) {
		free(owned);
		free(members);
		return -ENOMEM;
	}
	if (rc) {
		free(owned);
		free(members);
		goto fail;
	}
	publish(c, owned, nu, members);
	c->last_ok_us = now;
	if (c->lost_logged) {
		mlog(MLOG_INFO, "Instance %s: etcd reachable again", c->self);
		c->lost_logged = 0;
	}
	return 0;
fail:
	if (!c->lost_logged)
		mlog(MLOG_WARNING, "Instance %s: etcd: %s", c->self, err.msg);
	/* after a lease's worth without etcd others may hold our units: let go of them
	 * (the daemons keep running as they are) */
	if (now - c->last_ok_us > (uint64_t)c->ttl_s * 1000000u && !c->lost_logged) {
		mlog(MLOG_WARNING,
		     "Instance %s: no contact with etcd for %d s: managing nothing "
		     "until it is back",
		     c->self, c->ttl_s);
		c->lost_logged = 1;
		set_lease(c, 0);
		drop_all(c);
	}
	return rc ? rc : -EIO;
}

static void *coord_main(void *arg)
{
	struct coord *c = arg;
	c->last_ok_us = mon_mono_us();
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		pthread_mutex_unlock(&c->lock);
		step(c);
		pthread_mutex_lock(&c->lock);
		if (c->stop)
			break;
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += (long)c->poll_ms * 1000000L;
		dl.tv_sec += dl.tv_nsec / 1000000000L;
		dl.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->cv, &c->lock, &dl);
	}
	pthread_mutex_unlock(&c->lock);
	/* leaving: give everything back at once instead of after the lease */
	if (c->lease) {
		struct ldms_err err = {0};
		etcd_lease_revoke(c->cli, c->lease, &err);
	}
	return NULL;
}

int coord_start(const struct etcd_yaml *y, const char *prefix, const char *self_id, int ttl_s,
		int poll_ms, void (*wake)(void *), void *wake_arg, struct coord **out,
		struct ldms_err *err)
{
	struct coord *c = calloc(1, sizeof(*c));
	char *root = NULL;
	int rc;
	if (!c)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((rc = cfgstore_etcd_root(prefix, &root, err)))
		goto fail;
	size_t n = strlen(root) + 16;
	c->root = malloc(n);
	if (c->root)
		snprintf(c->root, n, "%s.maestro", root);
	free(root);
	c->self = strdup(self_id);
	if (c->root && c->self) {
		n = strlen(c->root) + strlen(c->self) + 16;
		if ((c->member_key = malloc(n)))
			snprintf(c->member_key, n, "%s/members/%s", c->root, c->self);
	}
	if (!c->root || !c->self || !c->member_key) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = etcd_yaml_client(y, &c->cli, err)))
		goto fail;
	/* short: the loop must notice a lost etcd well within a lease */
	long req_ms = ttl_s * 1000L / 3;
	etcd_client_set_timeouts(c->cli, 500, req_ms > 500 ? req_ms : 500);
	c->ttl_s = ttl_s > 1 ? ttl_s : 2;
	c->poll_ms = poll_ms > 50 ? poll_ms : 50;
	c->wake = wake;
	c->wake_arg = wake_arg;
	if ((rc = -pthread_create(&c->th, NULL, coord_main, c))) {
		ldms_err_set(err, rc, "cannot start the coordination thread");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (c->cli)
		etcd_client_free(c->cli);
	free(c->root);
	free(c->self);
	free(c->member_key);
	free(c);
	return rc;
}

void coord_stop(struct coord *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->th, NULL);
	etcd_client_free(c->cli);
	strv_free(c->units, c->n_units);
	free(c->owned);
	free(c->members);
	free(c->root);
	free(c->self);
	free(c->member_key);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cv);
	free(c);
}

int coord_set_units(struct coord *c, const char *const *units, size_t n)
{
	char **nu = calloc(n + 1, sizeof(char *));
	if (!nu)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(nu[i] = strdup(units[i]))) {
			strv_free(nu, i);
			return -ENOMEM;
		}
	unsigned char *no = calloc(n + 1, 1);
	if (!no) {
		strv_free(nu, n);
		return -ENOMEM;
	}
	pthread_mutex_lock(&c->lock);
	/* units kept by name stay owned (their owner keys did not change) */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; c->owned && k < c->n_units; k++)
			if (!strcmp(nu[i], c->units[k]))
				no[i] = c->owned[k];
	strv_free(c->units, c->n_units);
	c->units = nu;
	c->n_units = n;
	free(c->owned);
	c->owned = no;
	c->epoch++;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int coord_owns(struct coord *c, const char *name)
{
	int r = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; c->owned && i < c->n_units && !r; i++)
		r = c->owned[i] && !strcmp(c->units[i], name);
	pthread_mutex_unlock(&c->lock);
	return r;
}

uint64_t coord_epoch(struct coord *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t e = c->epoch;
	pthread_mutex_unlock(&c->lock);
	return e;
}

int64_t coord_lease(struct coord *c)
{
	pthread_mutex_lock(&c->lock);
	int64_t l = c->lease;
	pthread_mutex_unlock(&c->lock);
	return l;
}

char *coord_members(struct coord *c)
{
	pthread_mutex_lock(&c->lock);
	char *m = strdup(c->members ? c->members : "");
	pthread_mutex_unlock(&c->lock);
	return m;
}
