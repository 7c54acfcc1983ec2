/* Producers: the peers an aggregator pulls from. Each active producer owns at most
 * one connection; connected, it asks for the directory with updates, keeps one
 * producer set per listed set, looks sets up and updates them when its updaters
 * say so, re-publishes the mirrors locally (so the next level can pull from us) and
 * hands consistent new data to the storage policies. Any failure ends in
 * DISCONNECTED and a reconnect after the reconnect interval. */
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

/* ---- pure parts ------------------------------------------------------------------------ */
static const char *const prdcr_state_names[] = {
    [LDMSD_PRDCR_STOPPED] = "STOPPED",	     [LDMSD_PRDCR_DISCONNECTED] = "DISCONNECTED",
    [LDMSD_PRDCR_CONNECTING] = "CONNECTING", [LDMSD_PRDCR_CONNECTED] = "CONNECTED",
    [LDMSD_PRDCR_STOPPING] = "STOPPING",     [LDMSD_PRDCR_STANDBY] = "STANDBY",
};

const char *ldmsd_prdcr_state_str(enum ldmsd_prdcr_state s)
{
	if ((unsigned)s < sizeof(prdcr_state_names) / sizeof(prdcr_state_names[0]))
		return prdcr_state_names[s];
	return "UNKNOWN";
}

static const char *const prdcr_type_names[] = {
    [LDMSD_PRDCR_ACTIVE] = "active",	     [LDMSD_PRDCR_PASSIVE] = "passive",
    [LDMSD_PRDCR_BRIDGE] = "bridge",	     [LDMSD_PRDCR_ADVERTISER] = "advertiser",
    [LDMSD_PRDCR_ADVERTISED] = "advertised",
};

const char *ldmsd_prdcr_type_str(enum ldmsd_prdcr_type t)
{
	if ((unsigned)t < sizeof(prdcr_type_names) / sizeof(prdcr_type_names[0]))
		return prdcr_type_names[t];
	return "unknown";
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
	if ((unsigned)s < sizeof(prdset_state_names) / sizeof(prdset_state_names[0]))
		return prdset_state_names[s];
	return "UNKNOWN";
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

/* Apply an event; performs CONNECT/RESET/DIR itself and returns the connection to
 * close (the caller closes it after unlocking), or NULL. Caller holds p->lock. */
static ldms_t prdcr_event(struct ldmsd_prdcr *p, enum ldmsd_prdcr_event ev);

static void prdcr_connect(struct ldmsd_prdcr *p)
{
	if (p->type == LDMSD_PRDCR_PASSIVE || p->type == LDMSD_PRDCR_ADVERTISER) {
		/* the peer connects to us; ldms-c does not match incoming connections to
		 * producers yet */
		p->state = LDMSD_PRDCR_DISCONNECTED;
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
	p->x = x;
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
	}
	if (act & LDMSD_PRDCR_A_CLOSE) {
		closeme = p->x;
		p->x = NULL; /* the connection id stays until its last event */
	}
	if ((act & LDMSD_PRDCR_A_DIR) && p->type != LDMSD_PRDCR_BRIDGE) {
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

static void conn_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	uint64_t id = (uintptr_t)arg;
	struct ldmsd_prdcr *p = conn_lookup(id);
	ldms_t closeme = NULL;
	if (!p)
		return;
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		pthread_mutex_lock(&p->lock);
		if (p->conn_id == id) {
			ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Producer %s is connected (%s %s:%s)",
				 p->name, p->xprt_name, p->host, p->port_str);
			closeme = prdcr_event(p, LDMSD_PRDCR_EV_CONNECTED);
		}
		pthread_mutex_unlock(&p->lock);
		if (closeme)
			ldms_xprt_close(closeme);
		else
			hooks_call(p, x, 1);
		break;
	case LDMS_XPRT_EVENT_REJECTED:
	case LDMS_XPRT_EVENT_ERROR:
	case LDMS_XPRT_EVENT_DISCONNECTED: {
		int disc = e->type == LDMS_XPRT_EVENT_DISCONNECTED;
		if (disc)
			hooks_call(p, x, 0);
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
			closeme = prdcr_event(p, disc ? LDMSD_PRDCR_EV_DISCONNECTED
						      : LDMSD_PRDCR_EV_CONN_ERROR);
			p->conn_id = 0;
		}
		pthread_mutex_unlock(&p->lock);
		if (closeme)
			ldms_xprt_close(closeme);
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
	if (closeme)
		ldms_xprt_close(closeme);
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
			} else if (!pset_update(p, ps)) {
				n++;
			}
			break;
		case LDMSD_PRDCR_SET_UPDATING:
			ps->busy_skips++;
			break;
		default:
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* ---- commands ------------------------------------------------------------------------------ */
static void reconnect_tick(void *arg)
{
	struct ldmsd_prdcr *p = arg; /* alive: the task is freed before the producer */
	pthread_mutex_lock(&p->lock);
	ldms_t closeme = prdcr_event(p, LDMSD_PRDCR_EV_TIMER);
	pthread_mutex_unlock(&p->lock);
	if (closeme)
		ldms_xprt_close(closeme);
}

static int noent(struct ldmsd_req_ctxt *c)
{
	return ldmsd_reply_err(c, -ENOENT, "The producer specified does not exist.");
}

static int get_int(struct ldmsd_req_ctxt *c, const char *what, const char *v, long lo, long hi,
		   long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 0);
	if (errno || end == v || *end || n < lo || n > hi)
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid %s '%s'", ldmsd_req_verb(c), what,
				       v);
	*out = n;
	return 0;
}

static int prdcr_add_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd *d = c->d;
	struct ldmsd_agg *a = ldmsd_agg(d);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *type = ldmsd_req_attr(c, LDMSD_ATTR_TYPE);
	const char *xprt = ldmsd_req_attr(c, LDMSD_ATTR_XPRT);
	const char *host = ldmsd_req_attr(c, LDMSD_ATTR_HOST);
	const char *port = ldmsd_req_attr(c, LDMSD_ATTR_PORT);
	const char *rec = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	const char *auth = ldmsd_req_attr(c, LDMSD_ATTR_AUTH);
	const char *rail = ldmsd_req_attr(c, LDMSD_ATTR_RAIL);
	const char *quota = ldmsd_req_attr(c, LDMSD_ATTR_QUOTA);
	const char *rx = ldmsd_req_attr(c, LDMSD_ATTR_RX_RATE);
	const char *cache = ldmsd_req_attr(c, LDMSD_ATTR_IP);
	enum ldmsd_prdcr_type t;
	long portn = 0, railn = 1;
	int64_t reconnect, q, r = -1;
	int cache_ip = 1, rc;
	uint32_t perm;

	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: 'name' is empty");
	if (!type || ldmsd_prdcr_type_parse(type, &t))
		return ldmsd_reply_err(c, -EINVAL,
				       "prdcr_add: invalid type '%s' (active, passive, bridge, "
				       "advertiser or advertised)",
				       type ? type : "");
	if (!xprt || !*xprt)
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: 'xprt' is empty");
	if (!host || !*host)
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: 'host' is empty");
	if (t != LDMSD_PRDCR_PASSIVE &&
	    (rc = get_int(c, "port", port ? port : "", 1, 65535, &portn)))
		return rc;
	if (ldms_parse_time_us(rec ? rec : "", &reconnect) || reconnect <= 0)
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: invalid reconnect interval '%s'",
				       rec ? rec : "");
	if (rail && *rail && (rc = get_int(c, "rail", rail, 1, 1 << 16, &railn)))
		return rc;
	q = d->s.default_quota;
	if (quota && *quota && ldms_parse_size(quota, &q))
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: invalid quota '%s'", quota);
	if (rx && *rx && ldms_parse_size(rx, &r))
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: invalid rx_rate '%s'", rx);
	if (cache && *cache && ldms_parse_bool(cache, &cache_ip))
		return ldmsd_reply_err(c, -EINVAL, "prdcr_add: invalid cache_ip '%s'", cache);
	if ((rc = ldmsd_agg_perm(c, &perm)))
		return rc;
	if (ldmsd_prdcr_find(d, name))
		return ldmsd_reply_err(c, -EEXIST, "The prdcr %s already exists.", name);

	struct ldmsd_prdcr *p = calloc(1, sizeof(*p));
	if (!p)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	p->ref = 1;
	p->d = d;
	p->type = t;
	p->port = (int)portn;
	p->reconnect_us = reconnect;
	p->rail = (int)railn;
	p->quota = q;
	p->rx_rate = r;
	p->cache_ip = cache_ip;
	p->perm = perm;
	ldmsd_agg_owner(c, &p->uid, &p->gid);
	p->name = strdup(name);
	p->host = strdup(host);
	p->xprt_name = strdup(xprt);
	if (asprintf(&p->port_str, "%ld", portn) < 0)
		p->port_str = NULL;
	if (auth && *auth)
		p->auth_dom = strdup(auth);
	if (!p->name || !p->host || !p->xprt_name || !p->port_str ||
	    (auth && *auth && !p->auth_dom)) {
		prdcr_free(p);
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	struct ldmsd_auth_dom *dom = ldmsd_auth_dom_find(d, auth);
	struct ldms_err e;
	ldms_err_clear(&e);
	if (dom) {
		rc = ldms_auth_cfg_copy(&p->auth, &dom->cfg);
	} else if (auth && *auth && strcmp(auth, LDMSD_DEFAULT_AUTH_DOM)) {
		prdcr_free(p);
		return ldmsd_reply_err(c, -ENOENT,
				       "prdcr_add: authentication domain '%s' not found", auth);
	} else {
		rc = ldms_auth_cfg_init(&p->auth, d->s.auth_plugin, 0, NULL, &e);
	}
	if (rc) {
		prdcr_free(p);
		return ldmsd_reply_err(c, rc, "prdcr_add: authentication: %s",
				       e.msg[0] ? e.msg : strerror(-rc));
	}
	if (cache_ip && t != LDMSD_PRDCR_PASSIVE) {
		/* fail early on a name that does not resolve, as upstream does */
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
		char num[NI_MAXHOST];
		if (getaddrinfo(host, p->port_str, &hints, &ai)) {
			prdcr_free(p);
			return ldmsd_reply_err(c, -EAFNOSUPPORT, "Error resolving hostname '%s'",
					       host);
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
	return 0;
}

static struct ldmsd_prdcr *prdcr_get_checked(struct ldmsd_req_ctxt *c, const char *name)
{
	struct ldmsd_prdcr *p = name ? ldmsd_prdcr_find(c->d, name) : NULL;
	if (!p) {
		noent(c);
		return NULL;
	}
	if (ldmsd_agg_access(c, p->uid, p->gid, p->perm, 2)) {
		ldmsd_reply_err(c, -EACCES, "Permission denied.");
		return NULL;
	}
	return p;
}

static int prdcr_del_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_prdcr *p = prdcr_get_checked(c, ldmsd_req_attr(c, LDMSD_ATTR_NAME));
	if (!p)
		return c->reply->rc;
	pthread_mutex_lock(&p->lock);
	int busy = p->state != LDMSD_PRDCR_STOPPED;
	pthread_mutex_unlock(&p->lock);
	if (busy)
		return ldmsd_reply_err(c, -EBUSY, "The producer is in use.");
	pthread_rwlock_wrlock(&c->d->agg->lock);
	TAILQ_REMOVE(&c->d->agg->prdcrs, p, link);
	pthread_rwlock_unlock(&c->d->agg->lock);
	ldmsd_sched_task_free(p->task); /* no lock held: the tick takes p->lock */
	p->task = NULL;
	ldmsd_prdcr_put(p);
	return 0;
}

static int prdcr_start_one(struct ldmsd_req_ctxt *c, struct ldmsd_prdcr *p, int64_t reconnect)
{
	pthread_mutex_lock(&p->lock);
	if (p->state != LDMSD_PRDCR_STOPPED && p->state != LDMSD_PRDCR_STANDBY) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	if (reconnect > 0)
		p->reconnect_us = reconnect;
	ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Starting producer %s", p->name);
	if (p->type == LDMSD_PRDCR_PASSIVE || p->type == LDMSD_PRDCR_ADVERTISER)
		ldms_log(LDMS_LWARN, LDMSD_PRDCR_LOG,
			 "Producer %s: %s producers wait for the peer to connect; ldms-c does not "
			 "support that yet",
			 p->name, ldmsd_prdcr_type_str(p->type));
	ldms_t closeme = prdcr_event(p, LDMSD_PRDCR_EV_START);
	pthread_mutex_unlock(&p->lock);
	if (closeme)
		ldms_xprt_close(closeme);
	struct ldmsd_sched *s = ldmsd_agg_sched(c->d);
	if (!s)
		return -ENOMEM;
	if (!p->task && !(p->task = ldmsd_sched_task_new(s, reconnect_tick, p)))
		return -ENOMEM;
	return ldmsd_sched_task_start(p->task, p->reconnect_us, 0);
}

static int reconnect_attr(struct ldmsd_req_ctxt *c, int64_t *out)
{
	const char *rec = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	*out = 0;
	if (rec && *rec && (ldms_parse_time_us(rec, out) || *out <= 0))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid reconnect interval '%s'",
				       ldmsd_req_verb(c), rec);
	return 0;
}

static int prdcr_start_handler(struct ldmsd_req_ctxt *c)
{
	int64_t rec;
	int rc = reconnect_attr(c, &rec);
	if (rc)
		return rc;
	struct ldmsd_prdcr *p = prdcr_get_checked(c, ldmsd_req_attr(c, LDMSD_ATTR_NAME));
	if (!p)
		return c->reply->rc;
	rc = prdcr_start_one(c, p, rec);
	if (rc == -EBUSY)
		return ldmsd_reply_err(c, rc, "The producer is already running.");
	if (rc)
		return ldmsd_reply_err(c, rc, "prdcr_start %s: %s", p->name, strerror(-rc));
	return 0;
}

static void prdcr_stop_one(struct ldmsd_prdcr *p)
{
	pthread_mutex_lock(&p->lock);
	ldms_t closeme = prdcr_event(p, LDMSD_PRDCR_EV_STOP);
	pthread_mutex_unlock(&p->lock);
	if (closeme)
		ldms_xprt_close(closeme);
	if (p->task)
		ldmsd_sched_task_stop(p->task);
}

static int prdcr_stop_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_prdcr *p = prdcr_get_checked(c, ldmsd_req_attr(c, LDMSD_ATTR_NAME));
	if (!p)
		return c->reply->rc;
	pthread_mutex_lock(&p->lock);
	int stopped = p->state == LDMSD_PRDCR_STOPPED || p->state == LDMSD_PRDCR_STOPPING;
	pthread_mutex_unlock(&p->lock);
	if (stopped)
		return ldmsd_reply_err(c, -EBUSY, "The producer is already stopped.");
	prdcr_stop_one(p);
	return 0;
}

static int regex_attr(struct ldmsd_req_ctxt *c, regex_t *re)
{
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	int rc = regcomp(re, rs ? rs : "", REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char eb[200];
		regerror(rc, re, eb, sizeof(eb));
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid regular expression '%s': %s",
				       ldmsd_req_verb(c), rs ? rs : "", eb);
	}
	return 0;
}

static int prdcr_start_regex_handler(struct ldmsd_req_ctxt *c)
{
	regex_t re;
	int64_t rec;
	int rc = reconnect_attr(c, &rec);
	if (rc || (rc = regex_attr(c, &re)))
		return rc;
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_prdcr *p;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (regexec(&re, p->name, 0, NULL, 0) ||
		    ldmsd_agg_access(c, p->uid, p->gid, p->perm, 2))
			continue;
		rc = prdcr_start_one(c, p, rec);
		if (rc && rc != -EBUSY) {
			ldmsd_reply_err(c, rc, "prdcr_start_regex: %s: %s", p->name, strerror(-rc));
			break;
		}
		rc = 0;
	}
	regfree(&re);
	return rc;
}

static int prdcr_stop_regex_handler(struct ldmsd_req_ctxt *c)
{
	regex_t re;
	int rc = regex_attr(c, &re);
	if (rc)
		return rc;
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_prdcr *p;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (regexec(&re, p->name, 0, NULL, 0) ||
		    ldmsd_agg_access(c, p->uid, p->gid, p->perm, 2))
			continue;
		pthread_mutex_lock(&p->lock);
		int stopped = p->state == LDMSD_PRDCR_STOPPED || p->state == LDMSD_PRDCR_STOPPING;
		pthread_mutex_unlock(&p->lock);
		if (!stopped)
			prdcr_stop_one(p);
	}
	regfree(&re);
	return 0;
}

static int bool_attr(struct ldmsd_req_ctxt *c, uint32_t id)
{
	const char *v = ldmsd_req_attr(c, id);
	int b = 0;
	/* an empty value is python's False (ldmsd_controller sends summary that way) */
	if (v && *v && ldms_parse_bool(v, &b))
		b = 0;
	return b;
}

/* Same bytes as upstream: `[{ "name":"p1",...,"sets": []}]`. */
static void prdcr_json(struct ldmsd_buf *j, struct ldmsd_prdcr *p, int summary)
{
	pthread_mutex_lock(&p->lock);
	ldmsd_buf_append(j, "{ \"name\":", 9);
	ldmsd_buf_json_str(j, p->name);
	ldmsd_buf_printf(j, ",\"type\":\"%s\",\"host\":", ldmsd_prdcr_type_str(p->type));
	ldmsd_buf_json_str(j, p->host);
	ldmsd_buf_printf(j, ",\"port\":%d,\"transport\":", p->port);
	ldmsd_buf_json_str(j, p->xprt_name);
	ldmsd_buf_append(j, ",\"auth\":", 8);
	ldmsd_buf_json_str(j, p->auth_dom ? p->auth_dom : LDMSD_DEFAULT_AUTH_DOM);
	ldmsd_buf_printf(j,
			 ",\"rail\":\"%d\",\"quota\":\"%" PRId64 "\",\"rx_rate\":\"%" PRId64
			 "\",\"reconnect_us\":\"%" PRId64 "\",\"state\":\"%s\"",
			 p->rail, p->quota, p->rx_rate, p->reconnect_us,
			 ldmsd_prdcr_state_str(p->state));
	if (!summary) {
		ldmsd_buf_append(j, ",\"sets\": [", 10);
		for (size_t i = 0; i < p->n_sets; i++) {
			struct ldmsd_prdcr_set *ps = p->sets[i];
			ldmsd_buf_append(j,
					 i ? ",{ \"inst_name\":" : "{ \"inst_name\":", i ? 15 : 14);
			ldmsd_buf_json_str(j, ps->inst_name);
			ldmsd_buf_append(j, ",\"schema_name\":", 15);
			ldmsd_buf_json_str(j, ps->schema_name);
			ldmsd_buf_printf(j, ",\"state\":\"%s\"}",
					 ldmsd_prdcr_set_state_str(ps->state));
		}
		ldmsd_buf_append(j, "]", 1);
	}
	ldmsd_buf_append(j, "}", 1);
	pthread_mutex_unlock(&p->lock);
}

static int prdcr_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *state = ldmsd_req_attr(c, LDMSD_ATTR_STATE);
	int summary = bool_attr(c, LDMSD_ATTR_SUMMARY);
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct ldmsd_prdcr *p;
	int n = 0;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (name && *name && !ldmsd_prdcr_find(c->d, name))
		return noent(c);
	ldmsd_buf_append(j, "[", 1);
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (name && *name && strcmp(p->name, name))
			continue;
		if (state && *state && strcasecmp(state, ldmsd_prdcr_state_str(p->state)))
			continue;
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		prdcr_json(j, p, summary);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static void pset_status_json(struct ldmsd_buf *j, struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps)
{
	struct ldms_timestamp ts = {0, 0}, dur = {0, 0};
	char origin[LDMS_PRODUCER_NAME_MAX] = "";
	if (ps->set && ps->updates) {
		ldms_set_lock(ps->set);
		ts = ldms_transaction_timestamp_get(ps->set);
		dur = ldms_transaction_duration_get(ps->set);
		snprintf(origin, sizeof(origin), "%s", ldms_set_producer_name_get(ps->set));
		ldms_set_unlock(ps->set);
	}
	ldmsd_buf_append(j, "{\"inst_name\":", 13);
	ldmsd_buf_json_str(j, ps->inst_name);
	ldmsd_buf_append(j, ",\"schema_name\":", 15);
	ldmsd_buf_json_str(j, ps->schema_name);
	ldmsd_buf_printf(j, ",\"state\":\"%s\",\"origin\":", ldmsd_prdcr_set_state_str(ps->state));
	ldmsd_buf_json_str(j, origin);
	ldmsd_buf_append(j, ",\"producer\":", 12);
	ldmsd_buf_json_str(j, p->name);
	ldmsd_buf_printf(j,
			 ",\"timestamp.sec\":\"%u\",\"timestamp.usec\":\"%u\",\"duration.sec\":"
			 "\"%u\",\"duration.usec\":\"%u\"}",
			 ts.sec, ts.usec, dur.sec, dur.usec);
}

static int prdcr_set_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *prod = ldmsd_req_attr(c, LDMSD_ATTR_PRODUCER);
	const char *inst = ldmsd_req_attr(c, LDMSD_ATTR_INSTANCE);
	const char *schema = ldmsd_req_attr(c, LDMSD_ATTR_SCHEMA);
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct ldmsd_prdcr *p;
	int n = 0;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (prod && *prod && !ldmsd_prdcr_find(c->d, prod))
		return noent(c);
	ldmsd_buf_append(j, "[", 1);
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (prod && *prod && strcmp(p->name, prod))
			continue;
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->n_sets; i++) {
			struct ldmsd_prdcr_set *ps = p->sets[i];
			if ((inst && *inst && strcmp(inst, ps->inst_name)) ||
			    (schema && *schema && strcmp(schema, ps->schema_name)))
				continue;
			if (n++)
				ldmsd_buf_append(j, ",", 1);
			pset_status_json(j, p, ps);
		}
		pthread_mutex_unlock(&p->lock);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static int prdcr_stats_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	uint64_t t0 = ldms_monotonic_us();
	long cnt[LDMSD_PRDCR_STANDBY + 1] = {0};
	long total = 0, sets = 0;
	struct ldmsd_prdcr *p;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		pthread_mutex_lock(&p->lock);
		total++;
		if ((unsigned)p->state <= LDMSD_PRDCR_STANDBY)
			cnt[p->state]++;
		sets += (long)p->n_sets;
		pthread_mutex_unlock(&p->lock);
	}
	ldmsd_buf_printf(ldmsd_reply_json(c),
			 "{\"prdcr_count\":%ld,\"stopped_count\":%ld,\"disconnected_count\":%ld,"
			 "\"connecting_count\":%ld,\"connected_count\":%ld,\"stopping_count\":%ld,"
			 "\"standby_count\":%ld,\"set_count\":%ld,\"compute_time\":%" PRIu64 "}",
			 total, cnt[LDMSD_PRDCR_STOPPED], cnt[LDMSD_PRDCR_DISCONNECTED],
			 cnt[LDMSD_PRDCR_CONNECTING], cnt[LDMSD_PRDCR_CONNECTED],
			 cnt[LDMSD_PRDCR_STOPPING], cnt[LDMSD_PRDCR_STANDBY], sets,
			 ldms_monotonic_us() - t0);
	return 0;
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
			prdcr_stop_one(p);
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
		if (x)
			ldms_xprt_close(x);
		ldmsd_prdcr_put(p);
	}
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_prdcr_cmds[] = {
    {"prdcr_add", prdcr_add_handler, 0,
     ATTRS({"name", REQ}, {"type", REQ}, {"xprt", REQ}, {"host", REQ}, {"port", 0},
	   {"reconnect", REQ}, {"auth", 0}, {"perm", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0},
	   {"cache_ip", 0})},
    {"prdcr_del", prdcr_del_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_start", prdcr_start_handler, 0, ATTRS({"name", REQ}, {"reconnect", 0})},
    {"prdcr_start_regex", prdcr_start_regex_handler, 0, ATTRS({"regex", REQ}, {"reconnect", 0})},
    {"prdcr_stop", prdcr_stop_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_stop_regex", prdcr_stop_regex_handler, 0, ATTRS({"regex", REQ})},
    {"prdcr_status", prdcr_status_handler, 0, ATTRS({"name", 0}, {"summary", 0}, {"state", 0})},
    {"prdcr_set_status", prdcr_set_status_handler, 0,
     ATTRS({"producer", 0}, {"instance", 0}, {"schema", 0})},
    {"prdcr_stats", prdcr_stats_handler, 0, NULL},
    {NULL, NULL, 0, NULL},
};
