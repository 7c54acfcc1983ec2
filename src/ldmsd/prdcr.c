/* Producers: the peers an aggregator pulls from. Each producer owns at most one
 * connection (its own, or for passive/advertised ones the one the peer opened to
 * us); connected, it asks for the directory with updates, keeps one producer set
 * per listed set, looks sets up, updates them or registers push when its updaters
 * say so, re-publishes the mirrors locally (so the next level can pull from us) and
 * hands consistent new data to the storage policies. Any failure ends in
 * DISCONNECTED and a reconnect (or a wait for the peer) after the interval.
 * Bridges and advertisers (sampler side) only connect and offer their sets. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_sched.h"
#include "ldmsd_verbs.h"

/* ---- pure parts ------------------------------------------------------------------------ */
static const char *const prdcr_state_names[] = {
    [LDMSD_PRDCR_STOPPED] = "STOPPED",	     [LDMSD_PRDCR_DISCONNECTED] = "DISCONNECTED",
    [LDMSD_PRDCR_CONNECTING] = "CONNECTING", [LDMSD_PRDCR_CONNECTED] = "CONNECTED",
    [LDMSD_PRDCR_STOPPING] = "STOPPING",     [LDMSD_PRDCR_STANDBY] = "STANDBY",
};

const char *ldmsd_prdcr_state_str(enum ldmsd_prdcr_state s)
{
	return LDMSD_ENUM_NAME(prdcr_state_names, s, "UNKNOWN");
}

static const char *const prdcr_type_names[] = {
    [LDMSD_PRDCR_ACTIVE] = "active",	     [LDMSD_PRDCR_PASSIVE] = "passive",
    [LDMSD_PRDCR_BRIDGE] = "bridge",	     [LDMSD_PRDCR_ADVERTISER] = "advertiser",
    [LDMSD_PRDCR_ADVERTISED] = "advertised",
};

const char *ldmsd_prdcr_type_str(enum ldmsd_prdcr_type t)
{
	return LDMSD_ENUM_NAME(prdcr_type_names, t, "unknown");
}

int ldmsd_prdcr_type_parse(const char *s, enum ldmsd_prdcr_type *t)
{
	for (unsigned i = 0; i < sizeof(prdcr_type_names) / sizeof(prdcr_type_names[0]); i++) {
		if (!strcasecmp(s, prdcr_type_names[i])) {
			*t = (enum ldmsd_prdcr_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const prdset_state_names[] = {
    [LDMSD_PRDCR_SET_START] = "START",	   [LDMSD_PRDCR_SET_LOOKUP] = "LOOKUP",
    [LDMSD_PRDCR_SET_READY] = "READY",	   [LDMSD_PRDCR_SET_UPDATING] = "UPDATING",
    [LDMSD_PRDCR_SET_DELETED] = "DELETED",
};

const char *ldmsd_prdcr_set_state_str(enum ldmsd_prdcr_set_state s)
{
	return LDMSD_ENUM_NAME(prdset_state_names, s, "UNKNOWN");
}

int ldmsd_prdcr_transition(enum ldmsd_prdcr_state cur, enum ldmsd_prdcr_event ev,
			   enum ldmsd_prdcr_state *next, unsigned *actions)
{
	*next = cur;
	*actions = 0;
	switch (ev) {
	case LDMSD_PRDCR_EV_START:
		if (cur != LDMSD_PRDCR_STOPPED && cur != LDMSD_PRDCR_STANDBY)
			return -EBUSY;
		*next = LDMSD_PRDCR_CONNECTING;
		*actions = LDMSD_PRDCR_A_CONNECT;
		return 0;
	case LDMSD_PRDCR_EV_STOP:
		switch (cur) {
		case LDMSD_PRDCR_DISCONNECTED:
		case LDMSD_PRDCR_STANDBY:
			*next = LDMSD_PRDCR_STOPPED;
			return 0;
		case LDMSD_PRDCR_CONNECTING:
		case LDMSD_PRDCR_CONNECTED:
			/* STOPPED only once the connection's last event arrived */
			*next = LDMSD_PRDCR_STOPPING;
			*actions = LDMSD_PRDCR_A_CLOSE;
			return 0;
		default:
			return -EBUSY;
		}
	case LDMSD_PRDCR_EV_TIMER:
		if (cur == LDMSD_PRDCR_DISCONNECTED) {
			*next = LDMSD_PRDCR_CONNECTING;
			*actions = LDMSD_PRDCR_A_CONNECT;
		}
		return 0;
	case LDMSD_PRDCR_EV_CONNECTED:
		if (cur == LDMSD_PRDCR_CONNECTING) {
			*next = LDMSD_PRDCR_CONNECTED;
			*actions = LDMSD_PRDCR_A_DIR;
		} else if (cur == LDMSD_PRDCR_STOPPING) {
			*actions = LDMSD_PRDCR_A_CLOSE;
		}
		return 0;
	case LDMSD_PRDCR_EV_CONN_ERROR:
	case LDMSD_PRDCR_EV_DISCONNECTED:
		if (cur == LDMSD_PRDCR_CONNECTING || cur == LDMSD_PRDCR_CONNECTED) {
			*next = LDMSD_PRDCR_DISCONNECTED;
			*actions = LDMSD_PRDCR_A_RESET;
		} else if (cur == LDMSD_PRDCR_STOPPING) {
			*next = LDMSD_PRDCR_STOPPED;
			*actions = LDMSD_PRDCR_A_RESET;
		}
		return 0;
	}
	return -EINVAL;
}

int ldmsd_updt_hint_parse(const char *s, int64_t *interval_us, int64_t *offset_us, int *async)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	long long iv = strtoll(s, &end, 10);
	if (errno || end == s || *end != ':' || iv <= 0)
		return -EINVAL;
	const char *o = end + 1;
	if (!*o) {
		*interval_us = iv;
		*offset_us = 0;
		*async = 1;
		return 0;
	}
	long long off = strtoll(o, &end, 10);
	if (errno || end == o || *end)
		return -EINVAL;
	*interval_us = iv;
	*offset_us = off;
	*async = 0;
	return 0;
}

/* ---- connection table --------------------------------------------------------------------
 * Transport callbacks carry a connection id, never a pointer: directory callbacks
 * have no "last call", so a callback may arrive after its producer moved on or was
 * deleted. The table maps live ids to producers (with a reference). */
struct conn_ent {
	uint64_t id;
	struct ldmsd_prdcr *p;
};
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn_ent *conn_tbl;
static size_t conn_n, conn_cap;
static uint64_t conn_next = 1;

static uint64_t conn_register(struct ldmsd_prdcr *p)
{
	uint64_t id = 0;
	pthread_mutex_lock(&conn_lock);
	if (conn_n == conn_cap) {
		size_t nc = conn_cap ? 2 * conn_cap : 16;
		struct conn_ent *n = realloc(conn_tbl, nc * sizeof(*n));
		if (!n)
			goto out;
		conn_tbl = n;
		conn_cap = nc;
	}
	id = conn_next++;
	conn_tbl[conn_n++] = (struct conn_ent){.id = id, .p = ldmsd_prdcr_get(p)};
out:
	pthread_mutex_unlock(&conn_lock);
	return id;
}

static struct ldmsd_prdcr *conn_lookup(uint64_t id)
{
	struct ldmsd_prdcr *p = NULL;
	pthread_mutex_lock(&conn_lock);
	for (size_t i = 0; i < conn_n; i++) {
		if (conn_tbl[i].id == id) {
			p = ldmsd_prdcr_get(conn_tbl[i].p);
			break;
		}
	}
	pthread_mutex_unlock(&conn_lock);
	return p;
}

static void conn_unregister(uint64_t id)
{
	struct ldmsd_prdcr *p = NULL;
	pthread_mutex_lock(&conn_lock);
	for (size_t i = 0; i < conn_n; i++) {
		if (conn_tbl[i].id == id) {
			p = conn_tbl[i].p;
			conn_tbl[i] = conn_tbl[--conn_n];
			break;
		}
	}
	if (!conn_n) {
		free(conn_tbl);
		conn_tbl = NULL;
		conn_cap = 0;
	}
	pthread_mutex_unlock(&conn_lock);
	if (p)
		ldmsd_prdcr_put(p);
}

uint64_t ldmsd_prdcr_conn_register(struct ldmsd_prdcr *p)
{
	return conn_register(p);
}

void ldmsd_prdcr_conn_unregister(uint64_t id)
{
	conn_unregister(id);
}

/* ---- objects ------------------------------------------------------------------------------ */
struct ldmsd_prdcr *ldmsd_prdcr_get(struct ldmsd_prdcr *p)
{
	__atomic_add_fetch(&p->ref, 1, __ATOMIC_SEQ_CST);
	return p;
}

static void prdcr_free(struct ldmsd_prdcr *p)
{
	ldmsd_sched_task_free(p->task);
	free(p->sets);
	ldms_auth_cfg_free(&p->auth);
	pthread_mutex_destroy(&p->lock);
	free(p->name);
	free(p->host);
	free(p->conn_host);
	free(p->port_str);
	free(p->xprt_name);
	free(p->auth_dom);
	free(p);
}

void ldmsd_prdcr_put(struct ldmsd_prdcr *p)
{
	if (p && __atomic_sub_fetch(&p->ref, 1, __ATOMIC_SEQ_CST) == 0)
		prdcr_free(p);
}

struct ldmsd_prdcr *ldmsd_prdcr_find(struct ldmsd *d, const char *name)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_prdcr *p;
	if (!a)
		return NULL;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	if (!strcmp(p->name, name))
		return p;
	return NULL;
}

struct ldmsd_prdcr_set *ldmsd_prdcr_set_get(struct ldmsd_prdcr_set *ps)
{
	__atomic_add_fetch(&ps->ref, 1, __ATOMIC_SEQ_CST);
	return ps;
}

void ldmsd_prdcr_set_put(struct ldmsd_prdcr_set *ps)
{
	if (!ps || __atomic_sub_fetch(&ps->ref, 1, __ATOMIC_SEQ_CST))
		return;
	if (ps->spare)
		ldmsd_store_snap_free(ps->spare);
	if (ps->set)
		ldms_set_put(ps->set);
	pthread_mutex_destroy(&ps->snap_lock);
	ldmsd_prdcr_put(ps->prdcr);
	free(ps->inst_name);
	free(ps->schema_name);
	free(ps);
}

/* The producer's sets are sorted by instance name: status lists them in that order
 * and directory updates find them by name. Caller holds p->lock. */
static long pset_index(struct ldmsd_prdcr *p, const char *name)
{
	size_t lo = 0, hi = p->n_sets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->sets[mid]->inst_name, name);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static struct ldmsd_prdcr_set *pset_find(struct ldmsd_prdcr *p, const char *name)
{
	long i = pset_index(p, name);
	return i >= 0 ? p->sets[i] : NULL;
}

static struct ldmsd_prdcr_set *pset_add(struct ldmsd_prdcr *p, const char *name, const char *schema)
{
	long i = pset_index(p, name);
	if (i >= 0)
		return p->sets[i];
	i = -i - 1;
	if (p->n_sets == p->cap_sets) {
		size_t nc = p->cap_sets ? 2 * p->cap_sets : 16;
		struct ldmsd_prdcr_set **n = realloc(p->sets, nc * sizeof(*n));
		if (!n)
			return NULL;
		p->sets = n;
		p->cap_sets = nc;
	}
	struct ldmsd_prdcr_set *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->inst_name = strdup(name);
	ps->schema_name = strdup(schema ? schema : "");
	if (!ps->inst_name || !ps->schema_name) {
		free(ps->inst_name);
		free(ps->schema_name);
		free(ps);
		return NULL;
	}
	pthread_mutex_init(&ps->snap_lock, NULL);
	ps->ref = 1; /* the producer's */
	ps->prdcr = ldmsd_prdcr_get(p);
	ps->state = LDMSD_PRDCR_SET_START;
	memmove(&p->sets[i + 1], &p->sets[i], (p->n_sets - (size_t)i) * sizeof(*p->sets));
	p->sets[i] = ps;
	p->n_sets++;
	ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Adding the metric set '%s'", name);
	return ps;
}

/* Forget a set: unpublish our mirror (peers that looked it up get SET_DELETE),
 * drop the mirror and the producer's reference. In-flight operations hold their
 * own references and see DELETED. Caller holds p->lock. */
static void pset_release(struct ldmsd_prdcr_set *ps)
{
	ps->state = LDMSD_PRDCR_SET_DELETED;
	if (ps->push_reg && ps->set)
		(void)ldms_xprt_cancel_push(ps->set); /* the LAST push drops its reference */
	if (ps->published) {
		ldms_set_unpublish(ps->set);
		ps->published = 0;
	}
	if (ps->set) {
		ldms_set_put(ps->set);
		ps->set = NULL;
	}
	ldmsd_prdcr_set_put(ps);
}

static void pset_delete(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps)
{
	long i = pset_index(p, ps->inst_name);
	if (i < 0 || p->sets[i] != ps)
		return;
	memmove(&p->sets[i], &p->sets[i + 1], (p->n_sets - (size_t)i - 1) * sizeof(*p->sets));
	p->n_sets--;
	ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Deleting producer set %s from producer %s",
		 ps->inst_name, p->name);
	pset_release(ps);
}

/* Caller holds p->lock. */
static void prdcr_reset_sets(struct ldmsd_prdcr *p)
{
	for (size_t i = 0; i < p->n_sets; i++) {
		ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Deleting producer set %s from producer %s",
			 p->sets[i]->inst_name, p->name);
		pset_release(p->sets[i]);
	}
	p->n_sets = 0;
}

static void pset_hint_set(struct ldmsd_prdcr_set *ps, const char *hint)
{
	int64_t iv, off;
	int async;
	if (hint && !ldmsd_updt_hint_parse(hint, &iv, &off, &async)) {
		ps->hint_interval_us = iv;
		ps->hint_offset_us = off;
		ps->hint_async = async;
	} else {
		ps->hint_interval_us = 0;
		ps->hint_offset_us = 0;
		ps->hint_async = 0;
	}
}

/* ---- hooks --------------------------------------------------------------------------------- */
int ldmsd_prdcr_hook_add(struct ldmsd *d, ldmsd_prdcr_hook_fn fn, void *arg)
{
	struct ldmsd_agg *a = ldmsd_agg(d);
	if (!a)
		return -ENOMEM;
	pthread_rwlock_wrlock(&a->lock);
	int rc = -ENOSPC;
	if (a->n_hooks < (int)(sizeof(a->hooks) / sizeof(a->hooks[0]))) {
		a->hooks[a->n_hooks++] = (struct ldmsd_prdcr_hook){.fn = fn, .arg = arg};
		rc = 0;
	}
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

static void hooks_call(struct ldmsd_prdcr *p, ldms_t x, int connected)
{
	struct ldmsd_agg *a = p->d->agg;
	struct ldmsd_prdcr_hook h[8];
	int n;
	if (!a)
		return;
	pthread_rwlock_rdlock(&a->lock);
	n = a->n_hooks;
	memcpy(h, a->hooks, sizeof(h[0]) * (size_t)n);
	pthread_rwlock_unlock(&a->lock);
	for (int i = 0; i < n; i++)
		h[i].fn(p, x, connected, h[i].arg);
}

/* ---- connection -------------------------------------------------------------------------- */
static void conn_cb(ldms_t x, struct ldms_xprt_event *e, void *arg);
static void dir_cb(ldms_t x, int status, struct ldms_dir *dir, void *arg);

static void conn_end(struct ldmsd_prdcr *p)
{
	struct ldmsd_agg *a = p->d->agg;
	if (a)
		__atomic_sub_fetch(&a->live_conns, 1, __ATOMIC_SEQ_CST);
}

void ldmsd_prdcr_release_x(ldms_t x)
{
	if (!x)
		return;
	ldms_xprt_close(x);
	ldms_xprt_put(x);
}

/* The peer connects to us: passive producers and advertised ones that do not
 * connect themselves. */
static int prdcr_is_passive(const struct ldmsd_prdcr *p)
{
	return p->type == LDMSD_PRDCR_PASSIVE ||
	       (p->type == LDMSD_PRDCR_ADVERTISED && !p->adv_active);
}

/* Apply an event; performs CONNECT/RESET/DIR itself and returns the connection to
 * close (the caller releases it with ldmsd_prdcr_release_x after unlocking), or
 * NULL. Caller holds p->lock. */
static ldms_t prdcr_event(struct ldmsd_prdcr *p, enum ldmsd_prdcr_event ev);

/* A passive producer "connects" by taking a connection the peer opened: a bound
 * one (advertised) or one from its address (passive, as upstream looks it up by
 * the remote address at each reconnect tick). CONNECTED is delivered by
 * prdcr_kick() once p->lock is released. */
static void prdcr_connect_passive(struct ldmsd_prdcr *p)
{
	if (!p->x && p->type == LDMSD_PRDCR_PASSIVE) {
		uint64_t id = conn_register(p);
		ldms_t x = id ? ldmsd_passive_claim(p->d, p->host, id) : NULL;
		if (x) {
			p->x = x;
			p->conn_id = id;
			p->connects++;
			__atomic_add_fetch(&p->d->agg->live_conns, 1, __ATOMIC_SEQ_CST);
		} else if (id) {
			conn_unregister(id);
		}
	}
	if (p->x)
		p->pending_conn = 1;
	else
		p->state = LDMSD_PRDCR_DISCONNECTED; /* waiting for the peer */
}

static void prdcr_connect(struct ldmsd_prdcr *p)
{
	if (prdcr_is_passive(p)) {
		prdcr_connect_passive(p);
		return;
	}
	struct ldms_xprt_opts o = {
	    .recv_quota = p->quota,
	    .rate_limit = p->rx_rate,
	    .msg_enabled = p->d->s.msg_enabled,
	};
	ldms_t x = ldms_xprt_new(p->xprt_name, &p->auth, &o);
	if (!x) {
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG, "Producer %s: cannot create a %s endpoint",
			 p->name, p->xprt_name);
		prdcr_event(p, LDMSD_PRDCR_EV_CONN_ERROR);
		return;
	}
	uint64_t id = conn_register(p);
	const char *host = p->conn_host ? p->conn_host : p->host;
	int rc =
	    id ? ldms_xprt_connect(x, host, p->port_str, conn_cb, (void *)(uintptr_t)id) : -ENOMEM;
	if (rc) {
		if (id)
			conn_unregister(id);
		ldms_xprt_close(x);
		ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
			 "Producer %s: connection error to %s %s:%s: %s", p->name, p->xprt_name,
			 p->host, p->port_str, strerror(-rc));
		prdcr_event(p, LDMSD_PRDCR_EV_CONN_ERROR);
		return;
	}
	__atomic_add_fetch(&p->d->agg->live_conns, 1, __ATOMIC_SEQ_CST);
	p->x = ldms_xprt_get(x); /* ours; the application reference goes with the close */
	p->conn_id = id;
	p->connects++;
}

static ldms_t prdcr_event(struct ldmsd_prdcr *p, enum ldmsd_prdcr_event ev)
{
	enum ldmsd_prdcr_state next;
	unsigned act;
	ldms_t closeme = NULL;
	if (ldmsd_prdcr_transition(p->state, ev, &next, &act))
		return NULL;
	p->state = next;
	if (act & LDMSD_PRDCR_A_RESET) {
		prdcr_reset_sets(p);
		closeme = p->x;
		p->x = NULL;
		p->conn_id = 0;
		p->pending_conn = 0;
	}
	if (act & LDMSD_PRDCR_A_CLOSE) {
		closeme = p->x;
		p->x = NULL; /* the connection id stays until its last event */
		p->pending_conn = 0;
	}
	/* bridges and advertisers only offer their own sets to the peer */
	if ((act & LDMSD_PRDCR_A_DIR) && p->type != LDMSD_PRDCR_BRIDGE &&
	    p->type != LDMSD_PRDCR_ADVERTISER) {
		int rc =
		    ldms_xprt_dir(p->x, dir_cb, (void *)(uintptr_t)p->conn_id, LDMS_DIR_F_NOTIFY);
		if (rc) {
			ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
				 "Producer %s: cannot request the directory: %s", p->name,
				 strerror(-rc));
			closeme = p->x;
			p->x = NULL;
		}
	}
	if (act & LDMSD_PRDCR_A_CONNECT)
		prdcr_connect(p);
	return closeme;
}

/* A bound peer connection becomes CONNECTED (p->lock NOT held). */
static void prdcr_kick(struct ldmsd_prdcr *p)
{
	struct ldms_xprt_event e = {.type = LDMS_XPRT_EVENT_CONNECTED};
	uint64_t id = 0;
	ldms_t x = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->pending_conn && p->x) {
		id = p->conn_id;
		x = ldms_xprt_get(p->x);
	}
	p->pending_conn = 0;
	pthread_mutex_unlock(&p->lock);
	if (x) {
		ldmsd_prdcr_conn_event(id, x, &e);
		ldms_xprt_put(x);
	}
}

int ldmsd_prdcr_bind(struct ldmsd_prdcr *p, ldms_t x)
{
	int rc = 0, kick = 0;
	uint64_t id;
	pthread_mutex_lock(&p->lock);
	switch (p->state) {
	case LDMSD_PRDCR_STOPPED:
	case LDMSD_PRDCR_DISCONNECTED:
		if (p->x) { /* a stale one (a stopped producer keeps its binding) */
			rc = -EBUSY;
			break;
		}
		id = conn_register(p);
		if (!id || ldmsd_passive_claim_x(x, id)) {
			if (id)
				conn_unregister(id);
			rc = -ENOMEM;
			break;
		}
		p->x = ldms_xprt_get(x);
		p->conn_id = id;
		p->connects++;
		__atomic_add_fetch(&p->d->agg->live_conns, 1, __ATOMIC_SEQ_CST);
		if (p->state == LDMSD_PRDCR_STOPPED) {
			p->state = LDMSD_PRDCR_STANDBY; /* until prdcr_start */
		} else {
			p->state = LDMSD_PRDCR_CONNECTING;
			p->pending_conn = 1;
			kick = 1;
		}
		break;
	case LDMSD_PRDCR_STOPPING:
	case LDMSD_PRDCR_CONNECTING:
		rc = -EAGAIN;
		break;
	default: /* CONNECTED, STANDBY: a duplicate advertisement */
		rc = -EBUSY;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (kick)
		prdcr_kick(p);
	return rc;
}

void ldmsd_prdcr_drop_conn(struct ldmsd_prdcr *p, uint64_t id)
{
	ldms_t closeme = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->conn_id == id && p->x) {
		closeme = p->x;
		p->x = NULL; /* DISCONNECTED resets and reconnects */
	}
	pthread_mutex_unlock(&p->lock);
	ldmsd_prdcr_release_x(closeme);
}

static void conn_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	ldmsd_prdcr_conn_event((uintptr_t)arg, x, e);
}

void ldmsd_prdcr_conn_event(uint64_t id, ldms_t x, struct ldms_xprt_event *e)
{
	struct ldmsd_prdcr *p = conn_lookup(id);
	ldms_t closeme = NULL;
	int sampler_side;
	if (!p)
		return;
	sampler_side = p->type == LDMSD_PRDCR_ADVERTISER || p->type == LDMSD_PRDCR_BRIDGE;
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED: {
		int mine = 0;
		pthread_mutex_lock(&p->lock);
		if (p->conn_id == id) {
			mine = 1;
			ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Producer %s is connected (%s %s:%s)",
				 p->name, p->xprt_name, p->host, p->port_str);
			closeme = prdcr_event(p, LDMSD_PRDCR_EV_CONNECTED);
		}
		pthread_mutex_unlock(&p->lock);
		if (closeme) {
			ldmsd_prdcr_release_x(closeme);
		} else if (mine) {
			hooks_call(p, x, 1);
			if (p->type == LDMSD_PRDCR_ADVERTISER)
				ldmsd_advertise_send(p, x);
		}
		break;
	}
	case LDMS_XPRT_EVENT_RECV:
		/* the aggregator's answer to our advertisement, or its requests */
		if (sampler_side)
			ldmsd_advertise_recv(p, id, x, e->data, e->data_len);
		break;
	case LDMS_XPRT_EVENT_REJECTED:
	case LDMS_XPRT_EVENT_ERROR:
	case LDMS_XPRT_EVENT_DISCONNECTED: {
		int disc = e->type == LDMS_XPRT_EVENT_DISCONNECTED;
		if (disc)
			hooks_call(p, x, 0);
		if (disc && sampler_side && p->d->ctrl_disconnect)
			p->d->ctrl_disconnect(p->d, x); /* requests the aggregator sent us */
		pthread_mutex_lock(&p->lock);
		if (p->conn_id == id) {
			if (disc) {
				p->disconnects++;
				ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
					 "Producer %s is disconnected (%s %s:%s)", p->name,
					 p->xprt_name, p->host, p->port_str);
			} else {
				ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
					 "Producer %s: connection %s to %s %s:%s%s%.*s", p->name,
					 e->type == LDMS_XPRT_EVENT_REJECTED ? "rejected" : "error",
					 p->xprt_name, p->host, p->port_str, e->data ? ": " : "",
					 e->data ? (int)e->data_len : 0, e->data ? e->data : "");
			}
			if (p->state == LDMSD_PRDCR_STANDBY) {
				/* bound to an advertiser's connection but not started */
				closeme = p->x;
				p->x = NULL;
				p->state = LDMSD_PRDCR_STOPPED;
			} else {
				closeme = prdcr_event(p, disc ? LDMSD_PRDCR_EV_DISCONNECTED
							      : LDMSD_PRDCR_EV_CONN_ERROR);
			}
			p->conn_id = 0;
		}
		pthread_mutex_unlock(&p->lock);
		ldmsd_prdcr_release_x(closeme);
		conn_unregister(id);
		conn_end(p);
		break;
	}
	case LDMS_XPRT_EVENT_SET_DELETE: {
		if (!e->set)
			break;
		pthread_mutex_lock(&p->lock);
		struct ldmsd_prdcr_set *ps = pset_find(p, ldms_set_instance_name_get(e->set));
		if (p->conn_id == id && ps && ps->set == e->set) {
			ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Deleting %s in the %s state",
				 ps->inst_name, ldmsd_prdcr_set_state_str(ps->state));
			pset_delete(p, ps);
		}
		pthread_mutex_unlock(&p->lock);
		break;
	}
	default:
		break;
	}
	ldmsd_prdcr_put(p);
}

static const char *dir_set_hint(const struct ldms_dir_set *ds)
{
	for (size_t k = 0; k < ds->info_count; k++)
		if (ds->info[k].key && !strcmp(ds->info[k].key, "updt_hint_us"))
			return ds->info[k].value;
	return NULL;
}

static void dir_cb(ldms_t x, int status, struct ldms_dir *dir, void *arg)
{
	uint64_t id = (uintptr_t)arg;
	struct ldmsd_prdcr *p = conn_lookup(id);
	ldms_t closeme = NULL;
	if (!p) {
		ldms_xprt_dir_free(x, dir);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->conn_id != id || p->state != LDMSD_PRDCR_CONNECTED)
		goto out;
	if (status || !dir) {
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG, "Producer %s: directory request failed: %s",
			 p->name, strerror(status ? -status : EPROTO));
		closeme = p->x; /* without a directory we cannot follow the sets */
		p->x = NULL;
		goto out;
	}
	for (size_t i = 0; i < dir->set_count; i++) {
		const struct ldms_dir_set *ds = &dir->set_data[i];
		struct ldmsd_prdcr_set *ps;
		if (!ds->inst_name)
			continue;
		switch (dir->type) {
		case LDMS_DIR_LIST:
		case LDMS_DIR_ADD:
			ps = pset_add(p, ds->inst_name, ds->schema_name);
			if (!ps) {
				ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
					 "Producer %s: out of memory adding set %s", p->name,
					 ds->inst_name);
				break;
			}
			pset_hint_set(ps, dir_set_hint(ds));
			break;
		case LDMS_DIR_UPD:
			ps = pset_find(p, ds->inst_name);
			if (ps)
				pset_hint_set(ps, dir_set_hint(ds));
			break;
		case LDMS_DIR_DEL:
			ps = pset_find(p, ds->inst_name);
			if (ps)
				pset_delete(p, ps);
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	ldmsd_prdcr_release_x(closeme);
	ldms_xprt_dir_free(x, dir);
	ldmsd_prdcr_put(p);
}

/* ---- lookups and updates -------------------------------------------------------------------- */
static void update_cb(ldms_t x, ldms_set_t s, int status, void *arg);

/* Caller holds p->lock; ps is READY. */
static int pset_update(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps)
{
	ps->state = LDMSD_PRDCR_SET_UPDATING;
	ldmsd_prdcr_set_get(ps);
	int rc = ldms_xprt_update(ps->set, update_cb, ps);
	if (rc) {
		ps->state = LDMSD_PRDCR_SET_READY;
		if (rc == -EBUSY)
			ps->busy_skips++;
		else
			ps->update_errors++;
		ldmsd_prdcr_set_put(ps);
	}
	return rc;
}

static void lookup_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	struct ldmsd_prdcr_set *ps = arg;
	struct ldmsd_prdcr *p = ps->prdcr;
	pthread_mutex_lock(&p->lock);
	if (ps->state != LDMSD_PRDCR_SET_LOOKUP)
		goto out;
	if (status || !s) {
		ldms_log(LDMS_LERROR, LDMSD_UPDTR_LOG, "Error %d looking up set %s from %s", status,
			 ps->inst_name, p->name);
		ps->state = LDMSD_PRDCR_SET_START; /* retried at the next update */
		goto out;
	}
	if (ps->set != s) {
		if (ps->set)
			ldms_set_put(ps->set);
		ps->set = ldms_set_get(s);
		ps->my_hint_interval = ps->my_hint_offset = 0;
	}
	ps->state = LDMSD_PRDCR_SET_READY;
	ldms_log(LDMS_LINFO, LDMSD_UPDTR_LOG, "Set %s is ready", ps->inst_name);
	/* the first update reads meta and data: do it now rather than one interval later */
	pset_update(p, ps);
out:
	pthread_mutex_unlock(&p->lock);
	if (!more)
		ldmsd_prdcr_set_put(ps);
}

/* Caller holds p->lock; ps is START. */
static int pset_lookup(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps)
{
	ps->state = LDMSD_PRDCR_SET_LOOKUP;
	ldmsd_prdcr_set_get(ps);
	int rc = ldms_xprt_lookup(p->x, ps->inst_name, LDMS_LOOKUP_BY_INSTANCE, lookup_cb, ps);
	if (rc) {
		ps->state = LDMSD_PRDCR_SET_START;
		ldmsd_prdcr_set_put(ps);
	}
	return rc;
}

/* An update or a push of ps completed: count, publish our mirror, and say
 * whether the data goes to storage. Caller holds p->lock; ps->set == s. */
static int pset_complete(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps, ldms_set_t s,
			 int status, int push)
{
	if (status) {
		ps->update_errors++;
		if (status != ps->last_err)
			ldms_log(LDMS_LERROR, LDMSD_UPDTR_LOG, "Error %d %s set %s from %s: %s",
				 status, push ? "applying a push of" : "updating", ps->inst_name,
				 p->name, strerror(-status));
		ps->last_err = status;
		return 0;
	}
	if (ps->last_err)
		ldms_log(LDMS_LINFO, LDMSD_UPDTR_LOG, "Set %s updates again", ps->inst_name);
	ps->last_err = 0;
	if (push)
		ps->pushes++;
	else
		ps->updates++;
	if (!ps->published) {
		/* serve the mirror to our own peers (the next aggregation level); a name
		 * taken by another set is retried at each update, logged once */
		int rc = ldms_set_publish(s);
		if (rc && !ps->publish_failed) {
			ps->publish_failed = 1;
			ldms_log(LDMS_LWARN, LDMSD_PRDCR_LOG,
				 "Producer %s: set %s is not re-published: %s", p->name,
				 ps->inst_name,
				 rc == -EEXIST ? "a set of that name already exists here"
					       : strerror(-rc));
		} else if (!rc) {
			ps->published = 1;
			if (ps->publish_failed)
				ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
					 "Producer %s: set %s is re-published", p->name,
					 ps->inst_name);
			ps->publish_failed = 0;
		}
	}
	if (!ldms_set_is_consistent(s)) {
		ps->inconsistent++;
		return 0;
	}
	uint64_t gn = ldms_set_data_gn_get(s);
	if (gn == ps->last_store_gn)
		return 0;
	ps->last_store_gn = gn;
	return 1;
}

/* After p->lock is released: storage, and the next level's push registrations
 * of our mirror (as upstream, every good update pushes the mirror). */
static void pset_deliver(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps, ldms_set_t s,
			 int status, int store)
{
	/* s stays valid: the transport holds a reference during the callback */
	if (store)
		ldmsd_strgp_update(p->d, ps, s);
	if (!status)
		(void)ldms_xprt_push(s);
}

static void update_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	struct ldmsd_prdcr_set *ps = arg;
	struct ldmsd_prdcr *p = ps->prdcr;
	int store = 0, mine = 0;
	pthread_mutex_lock(&p->lock);
	if (ps->state != LDMSD_PRDCR_SET_DELETED && ps->set == s) {
		mine = 1;
		ps->state = LDMSD_PRDCR_SET_READY;
		store = pset_complete(p, ps, s, status, 0);
	}
	ldmsd_tstats_update_end(ps, s, mine ? status : -ECANCELED);
	pthread_mutex_unlock(&p->lock);
	if (mine)
		pset_deliver(p, ps, s, status, store);
	ldmsd_prdcr_set_put(ps);
}

/* A push of a set registered by a push updater (on the connection's I/O thread);
 * the registration holds a reference until its LAST call. */
static void push_cb(ldms_t x, ldms_set_t s, int status, uint32_t flags, void *arg)
{
	struct ldmsd_prdcr_set *ps = arg;
	struct ldmsd_prdcr *p = ps->prdcr;
	int store = 0, mine = 0;
	pthread_mutex_lock(&p->lock);
	if (flags & LDMS_UPD_F_PUSH_LAST) {
		if (ps->set == s && ps->push_reg) {
			ps->push_reg = 0;
			ldms_log(LDMS_LINFO, LDMSD_UPDTR_LOG, "Push updates of set %s ended%s%s",
				 ps->inst_name, status ? ": " : "",
				 status ? strerror(-status) : "");
		}
		pthread_mutex_unlock(&p->lock);
		ldmsd_prdcr_set_put(ps);
		return;
	}
	if (ps->state != LDMSD_PRDCR_SET_DELETED && ps->set == s) {
		mine = 1;
		store = pset_complete(p, ps, s, status, 1);
	}
	pthread_mutex_unlock(&p->lock);
	if (mine)
		pset_deliver(p, ps, s, status, store);
}

/* Caller holds p->lock; ps is READY and not registered. The owner pushes from
 * now on; the registration is retried at the next run if it failed. */
static int pset_push_register(struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps,
			      struct ldmsd_updtr *u)
{
	ldmsd_prdcr_set_get(ps);
	int rc = ldms_xprt_register_push(
	    ps->set, u->push == LDMSD_UPDTR_PUSH_ONCHANGE ? LDMS_XPRT_PUSH_F_CHANGE : 0, push_cb,
	    ps);
	if (rc) {
		ldmsd_prdcr_set_put(ps);
		ps->update_errors++;
		if (rc != ps->last_err)
			ldms_log(LDMS_LERROR, LDMSD_UPDTR_LOG, "Register push error %d Set %s: %s",
				 rc, ps->inst_name, strerror(-rc));
		ps->last_err = rc;
		return rc;
	}
	ps->push_reg = u->push;
	ldms_log(LDMS_LINFO, LDMSD_UPDTR_LOG, "Set %s: push updates registered (%s)", ps->inst_name,
		 u->push == LDMSD_UPDTR_PUSH_ONCHANGE ? "onchange" : "on request");
	return 0;
}

void ldmsd_prdcr_push_cancel(struct ldmsd_prdcr *p, struct ldmsd_updtr *u)
{
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_sets; i++) {
		struct ldmsd_prdcr_set *ps = p->sets[i];
		if (ps->push_reg && ps->set &&
		    ldmsd_regex_list_match_set(&u->match_list, ps->inst_name, ps->schema_name))
			(void)ldms_xprt_cancel_push(ps->set);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Our mirror announces the schedule it is updated on (as upstream: an L2 with
 * auto_interval follows the L1 updater), set once per change. p->lock held. */
static void pset_hint_publish(struct ldmsd_prdcr_set *ps, struct ldmsd_updtr *u, int match_hint,
			      int64_t hint_interval, int64_t hint_offset)
{
	int64_t iv = u->interval_us, off = u->offset_us;
	char buf[64];
	if (match_hint)
		ldmsd_updtr_auto_schedule(hint_interval, hint_offset, u->offset_us, &iv, &off);
	if (!ps->set || (ps->my_hint_interval == iv && ps->my_hint_offset == off))
		return;
	snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64, iv, off);
	if (!ldms_set_info_set(ps->set, "updt_hint_us", buf)) {
		ps->my_hint_interval = iv;
		ps->my_hint_offset = off;
	}
}

int ldmsd_prdcr_update_sets(struct ldmsd_prdcr *p, struct ldmsd_updtr *u, int64_t hint_interval,
			    int64_t hint_offset, int match_hint)
{
	int n = 0;
	pthread_mutex_lock(&p->lock);
	if (p->state != LDMSD_PRDCR_CONNECTED || !p->x)
		goto out;
	for (size_t i = 0; i < p->n_sets; i++) {
		struct ldmsd_prdcr_set *ps = p->sets[i];
		if (u &&
		    !ldmsd_regex_list_match_set(&u->match_list, ps->inst_name, ps->schema_name))
			continue;
		if (u && u->auto_interval) {
			int hinted = ps->hint_interval_us > 0 && !ps->hint_async;
			if (match_hint && (!hinted || ps->hint_interval_us != hint_interval ||
					   ps->hint_offset_us != hint_offset))
				continue;
			if (!match_hint && hinted && ps->state != LDMSD_PRDCR_SET_START) {
				ldmsd_updtr_hint_seen(u, ps->hint_interval_us, ps->hint_offset_us);
				continue;
			}
		}
		switch (ps->state) {
		case LDMSD_PRDCR_SET_START:
			if (!pset_lookup(p, ps))
				n++;
			break;
		case LDMSD_PRDCR_SET_READY:
			if (u)
				pset_hint_publish(ps, u, match_hint, hint_interval, hint_offset);
			if (u && u->push) {
				/* the owner sends the data: register once */
				if (!ps->push_reg && !pset_push_register(p, ps, u))
					n++;
			} else {
				ldmsd_tstats_update_begin(ps, u);
				if (!pset_update(p, ps))
					n++;
				else
					ldmsd_tstats_update_end(ps, NULL, -EAGAIN);
			}
			break;
		case LDMSD_PRDCR_SET_UPDATING:
			ps->busy_skips++;
			ldmsd_tstats_update_skip(ps, u);
			break;
		default:
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* ---- creating, starting, stopping ------------------------------------------------------------ */
static void reconnect_tick(void *arg)
{
	struct ldmsd_prdcr *p = arg; /* alive: the task is freed before the producer */
	pthread_mutex_lock(&p->lock);
	ldms_t closeme = prdcr_event(p, LDMSD_PRDCR_EV_TIMER);
	pthread_mutex_unlock(&p->lock);
	ldmsd_prdcr_release_x(closeme);
	prdcr_kick(p);
}

int ldmsd_prdcr_create(struct ldmsd *d, const struct ldmsd_prdcr_spec *sp, struct ldmsd_prdcr **out,
		       char *msg, size_t msglen)
{
	struct ldmsd_agg *a = ldmsd_agg(d);
	int rc;
	if (out)
		*out = NULL;
	if (!a) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	if (ldmsd_prdcr_find(d, sp->name)) {
		snprintf(msg, msglen, "The prdcr %s already exists.", sp->name);
		return -EEXIST;
	}
	struct ldmsd_prdcr *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->ref = 1;
	p->d = d;
	p->type = sp->type;
	p->adv_active = sp->adv_active;
	p->port = sp->port;
	p->reconnect_us = sp->reconnect_us;
	p->rail = sp->rail;
	p->quota = sp->quota;
	p->rx_rate = sp->rx_rate;
	p->cache_ip = sp->cache_ip;
	p->perm = sp->perm;
	p->uid = sp->uid;
	p->gid = sp->gid;
	p->name = strdup(sp->name);
	p->host = strdup(sp->host);
	p->xprt_name = strdup(sp->xprt);
	if (asprintf(&p->port_str, "%d", sp->port) < 0)
		p->port_str = NULL;
	if (sp->auth && *sp->auth)
		p->auth_dom = strdup(sp->auth);
	if (!p->name || !p->host || !p->xprt_name || !p->port_str ||
	    (sp->auth && *sp->auth && !p->auth_dom)) {
		prdcr_free(p);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	struct ldmsd_auth_dom *dom = ldmsd_auth_dom_find(d, sp->auth);
	struct ldms_err e;
	ldms_err_clear(&e);
	if (dom) {
		rc = ldms_auth_cfg_copy(&p->auth, &dom->cfg);
	} else if (sp->auth && *sp->auth && strcmp(sp->auth, LDMSD_DEFAULT_AUTH_DOM)) {
		prdcr_free(p);
		snprintf(msg, msglen, "authentication domain '%s' not found", sp->auth);
		return -ENOENT;
	} else {
		rc = ldms_auth_cfg_init(&p->auth, d->s.auth_plugin, 0, NULL, &e);
	}
	if (rc) {
		prdcr_free(p);
		snprintf(msg, msglen, "authentication: %s", e.msg[0] ? e.msg : strerror(-rc));
		return rc;
	}
	if (sp->cache_ip && !prdcr_is_passive(p)) {
		/* fail early on a name that does not resolve, as upstream does */
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
		char num[NI_MAXHOST];
		if (getaddrinfo(sp->host, p->port_str, &hints, &ai)) {
			prdcr_free(p);
			snprintf(msg, msglen, "Error resolving hostname '%s'", sp->host);
			return -EAFNOSUPPORT;
		}
		/* reconnects then never wait for a name server (they run on the
		 * scheduler thread) */
		if (!getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
				 NI_NUMERICHOST))
			p->conn_host = strdup(num);
		freeaddrinfo(ai);
	}
	pthread_rwlock_wrlock(&a->lock);
	TAILQ_INSERT_TAIL(&a->prdcrs, p, link);
	pthread_rwlock_unlock(&a->lock);
	if (out)
		*out = p;
	return 0;
}

int ldmsd_prdcr_start(struct ldmsd *d, struct ldmsd_prdcr *p, int64_t reconnect)
{
	pthread_mutex_lock(&p->lock);
	if (p->state != LDMSD_PRDCR_STOPPED && p->state != LDMSD_PRDCR_STANDBY) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	if (reconnect > 0)
		p->reconnect_us = reconnect;
	ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Starting producer %s", p->name);
	ldms_t closeme = prdcr_event(p, LDMSD_PRDCR_EV_START);
	pthread_mutex_unlock(&p->lock);
	ldmsd_prdcr_release_x(closeme);
	prdcr_kick(p);
	struct ldmsd_sched *s = ldmsd_agg_sched(d);
	if (!s)
		return -ENOMEM;
	if (!p->task && !(p->task = ldmsd_sched_task_new(s, reconnect_tick, p)))
		return -ENOMEM;
	return ldmsd_sched_task_start(p->task, p->reconnect_us, 0);
}

void ldmsd_prdcr_stop(struct ldmsd_prdcr *p)
{
	ldms_t closeme = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->state == LDMSD_PRDCR_STANDBY && p->x) {
		/* bound to an advertiser's connection, never started: let it go */
		closeme = p->x;
		p->x = NULL;
		p->state = LDMSD_PRDCR_STOPPING;
	} else {
		closeme = prdcr_event(p, LDMSD_PRDCR_EV_STOP);
	}
	pthread_mutex_unlock(&p->lock);
	ldmsd_prdcr_release_x(closeme);
	if (p->task)
		ldmsd_sched_task_stop(p->task);
}

/* ---- shutdown ------------------------------------------------------------------------------- */
void ldmsd_prdcr_stop_all(struct ldmsd *d)
{
	struct ldmsd_prdcr *p;
	if (!d->agg)
		return;
	TAILQ_FOREACH(p, &d->agg->prdcrs, link)
	{
		pthread_mutex_lock(&p->lock);
		int stopped = p->state == LDMSD_PRDCR_STOPPED || p->state == LDMSD_PRDCR_STOPPING;
		pthread_mutex_unlock(&p->lock);
		if (!stopped)
			ldmsd_prdcr_stop(p);
	}
}

void ldmsd_prdcr_free_all(struct ldmsd *d)
{
	struct ldmsd_prdcr *p;
	if (!d->agg)
		return;
	while ((p = TAILQ_FIRST(&d->agg->prdcrs))) {
		pthread_rwlock_wrlock(&d->agg->lock);
		TAILQ_REMOVE(&d->agg->prdcrs, p, link);
		pthread_rwlock_unlock(&d->agg->lock);
		ldmsd_sched_task_free(p->task);
		p->task = NULL;
		pthread_mutex_lock(&p->lock);
		/* a connection that did not end in time keeps its producer reference */
		prdcr_reset_sets(p);
		ldms_t x = p->x;
		p->x = NULL;
		p->state = LDMSD_PRDCR_STOPPED;
		pthread_mutex_unlock(&p->lock);
		ldmsd_prdcr_release_x(x);
		ldmsd_prdcr_put(p);
	}
}
