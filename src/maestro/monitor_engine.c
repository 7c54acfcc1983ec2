/* Rebalance passes (monitor_engine.h): read back what (re)connected daemons run, balance
 * every aggregator group with the previous assignment as input, diff each daemon's
 * applied state against the wanted one and push stops everywhere, then starts. The
 * assignment survives configuration changes by names, so a reload moves nothing that
 * still fits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "balance.h"
#include "model.h"
#include "monitor_engine.h"

#define MAX_MOVES_KEPT 256

struct samp_dir {
	char *daemon;
	struct mon_dirset *sets;
	size_t n;
	int valid;
};

struct move {
	char *what, *from, *to;
};

struct engine {
	struct monitor *mon;
	struct engine_opts o;
	struct maestro_model *model;
	char *label;
	struct rb_assign assign;
	int dirty;
	char reason[1024];
	uint64_t retry_at; /* monotonic µs, 0 = none */
	unsigned retries;  /* consecutive passes that needed a retry (back-off) */
	int first;
	uint64_t model_gen; /* bumped with every model (the fast path needs the same one) */
	struct samp_dir *dirs;
	size_t n_dirs;
	/* the last rebalance */
	uint64_t last_time_us;
	char last_reason[1024];
	size_t last_moved;
	struct move *moves;
	size_t n_moves;
	struct engine_stats st;
};

static void add_reason(struct engine *e, const char *fmt, const char *a, const char *b)
{
	char buf[512];
	snprintf(buf, sizeof(buf), fmt, a ? a : "", b ? b : "");
	size_t l = strlen(e->reason);
	if (l + 3 < sizeof(e->reason))
		snprintf(e->reason + l, sizeof(e->reason) - l, "%s%s", l ? "; " : "", buf);
	e->dirty = 1;
}

void engine_poke(struct engine *e, const char *reason)
{
	add_reason(e, "%s", reason, NULL);
}

int engine_new(struct monitor *mon, const struct engine_opts *o, struct engine **out)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->mon = mon;
	e->o = *o;
	e->first = 1;
	*out = e;
	return 0;
}

static void moves_clear(struct engine *e)
{
	for (size_t i = 0; i < e->n_moves; i++) {
		free(e->moves[i].what);
		free(e->moves[i].from);
		free(e->moves[i].to);
	}
	free(e->moves);
	e->moves = NULL;
	e->n_moves = 0;
}

static void dirs_clear(struct engine *e)
{
	for (size_t i = 0; i < e->n_dirs; i++) {
		free(e->dirs[i].daemon);
		mon_dir_free(e->dirs[i].sets, e->dirs[i].n);
	}
	free(e->dirs);
	e->dirs = NULL;
	e->n_dirs = 0;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	rb_assign_free(&e->assign);
	maestro_model_free(e->model);
	free(e->label);
	moves_clear(e);
	dirs_clear(e);
	free(e);
}

/* the endpoint maestro talks to a daemon through: the first with maestro_comm */
static const struct maestro_endpoint *comm_ep(const struct maestro_daemon *d)
{
	for (size_t k = 0; k < d->n_ep; k++)
		if (d->ep[k].maestro_comm)
			return &d->ep[k];
	return NULL;
}

static const char *auth_plugin(const struct maestro_auth *a)
{
	return a->plugin ? a->plugin : a->name;
}

static const char *member_name(const struct maestro_model *m, size_t g, long a)
{
	long ag = rb_pgrp_agrp(m, g);
	if (ag < 0 || a < 0 || (size_t)a >= m->agrp[ag].members.count)
		return NULL;
	return m->agrp[ag].members.names[a];
}

static long member_index(const struct maestro_model *m, size_t g, const char *name)
{
	long ag = rb_pgrp_agrp(m, g);
	if (ag < 0 || !name)
		return -1;
	return ldms_hostlist_find_sorted(&m->agrp[ag].members, name);
}

/* old assignment -> new model, by group, producer and aggregator names */
static int carry_assign(const struct maestro_model *om, const struct rb_assign *oa,
			const struct maestro_model *nm, struct rb_assign *na)
{
	for (size_t g = 0; g < nm->n_pgrp; g++) {
		const struct maestro_producer_group *npg = &nm->pgrp[g];
		size_t og = 0;
		while (om && og < om->n_pgrp && strcmp(om->pgrp[og].group, npg->group))
			og++;
		if (!om || og == om->n_pgrp)
			continue;
		const struct maestro_producer_group *opg = &om->pgrp[og];
		for (size_t p = 0; p < npg->n; p++) {
			long op = maestro_index_get(&opg->ix, npg->p[p].name);
			if (op >= 0)
				na->prdcr[g][p] =
				    member_index(nm, g, member_name(om, og, oa->prdcr[og][op]));
		}
		const struct rb_setassign *os = oa->sets ? oa->sets[og] : NULL;
		if (!os)
			continue;
		struct rb_setassign *ns = calloc(1, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		na->sets[g] = ns;
		ns->name = calloc(os->n ? os->n : 1, sizeof(*ns->name));
		ns->prdcr = calloc(os->n ? os->n : 1, sizeof(*ns->prdcr));
		ns->agg = calloc(os->n ? os->n : 1, sizeof(*ns->agg));
		ns->weight = calloc(os->n ? os->n : 1, sizeof(*ns->weight));
		if (!ns->name || !ns->prdcr || !ns->agg || !ns->weight)
			return -ENOMEM;
		for (size_t s = 0; s < os->n; s++) {
			long np = maestro_index_get(&npg->ix, opg->p[os->prdcr[s]].name);
			if (np < 0)
				continue;
			if (!(ns->name[ns->n] = strdup(os->name[s])))
				return -ENOMEM;
			ns->prdcr[ns->n] = (size_t)np;
			ns->agg[ns->n] = member_index(nm, g, member_name(om, og, os->agg[s]));
			ns->weight[ns->n] = os->weight[s];
			ns->n++;
		}
	}
	return 0;
}

int engine_daemon_unit(const struct maestro_model *m, size_t d, char *buf, size_t len)
{
	const struct maestro_daemon *dm = &m->daemons[d];
	if (dm->n_agrp)
		snprintf(buf, len, "a:%s", m->agrp[dm->agrp[0]].group);
	else if (dm->n_sgrp)
		snprintf(buf, len, "s:%s", m->sgrp[dm->sgrp[0]].group);
	else
		return -ENOENT;
	return 0;
}

int engine_units(const struct maestro_model *m, char ***units, size_t *n)
{
	*n = 0;
	*units = calloc(m->n_agrp + m->n_sgrp + 1, sizeof(char *));
	if (!*units)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_agrp + m->n_sgrp; i++) {
		const char *g = i < m->n_agrp ? m->agrp[i].group : m->sgrp[i - m->n_agrp].group;
		size_t l = strlen(g) + 3;
		if (!((*units)[i] = malloc(l)))
			return -ENOMEM;
		snprintf((*units)[i], l, "%c:%s", i < m->n_agrp ? 'a' : 's', g);
		(*n)++;
	}
	return 0;
}

static int owned_daemon(struct engine *e, size_t d)
{
	char unit[1024];
	if (!e->o.owns)
		return 1;
	return !engine_daemon_unit(e->model, d, unit, sizeof(unit)) &&
	       e->o.owns(unit, e->o.owns_arg);
}

static int owned_group(struct engine *e, size_t g)
{
	char unit[1024];
	if (!e->o.owns)
		return 1;
	snprintf(unit, sizeof(unit), "a:%s", e->model->pgrp[g].group);
	return e->o.owns(unit, e->o.owns_arg);
}

/* Connections for the daemons this instance manages; the groups it does not manage lose
 * their assignment (a new owner adopts what runs). */
static int apply_ownership(struct engine *e)
{
	const struct maestro_model *m = e->model;
	mon_mark_all_removed(e->mon);
	for (size_t i = 0; i < m->n_daemons; i++) {
		const struct maestro_daemon *d = &m->daemons[i];
		const struct maestro_endpoint *ep = owned_daemon(e, i) ? comm_ep(d) : NULL;
		struct mon_daemon *md;
		if (ep)
			md =
			    mon_daemon_set(e->mon, d->name, ep->host ? ep->host : d->addr, ep->port,
					   ep->xprt, auth_plugin(&ep->auth), ep->auth.conf);
		else
			md = mon_daemon_set(e->mon, d->name, NULL, NULL, NULL, NULL, NULL);
		if (!md)
			return -ENOMEM;
	}
	for (size_t g = 0; g < m->n_pgrp; g++) {
		if (owned_group(e, g))
			continue;
		for (size_t p = 0; p < m->pgrp[g].n; p++)
			e->assign.prdcr[g][p] = -1;
	}
	return 0;
}

int engine_refresh_ownership(struct engine *e)
{
	if (!e->model)
		return 0;
	int rc = apply_ownership(e);
	add_reason(e, "ownership changed", NULL, NULL);
	return rc;
}

int engine_set_model(struct engine *e, struct maestro_model *m, const char *label)
{
	struct rb_assign na;
	int rc = rb_assign_new(m, &na);
	if (rc)
		return rc;
	if ((rc = carry_assign(e->model, &e->assign, m, &na))) {
		rb_assign_free(&na);
		return rc;
	}
	rb_assign_free(&e->assign);
	e->assign = na;
	maestro_model_free(e->model);
	e->model = m;
	e->model_gen++;
	if ((rc = apply_ownership(e)))
		return rc;
	free(e->label);
	e->label = strdup(label ? label : "");
	dirs_clear(e);
	add_reason(e, "configuration %s", label, NULL);
	return 0;
}

static struct mon_daemon *mdaemon(struct engine *e, const char *name)
{
	return name ? mon_find(e->mon, name) : NULL;
}

static int usable(struct mon_daemon *d)
{
	return d && d->health == MON_UP && d->synced;
}

static void record_move(struct engine *e, const char *what, const char *from, const char *to)
{
	e->last_moved++;
	if (e->n_moves >= MAX_MOVES_KEPT)
		return;
	struct move *nm = realloc(e->moves, (e->n_moves + 1) * sizeof(*nm));
	if (!nm)
		return;
	e->moves = nm;
	nm[e->n_moves].what = strdup(what);
	nm[e->n_moves].from = strdup(from ? from : "-");
	nm[e->n_moves].to = strdup(to ? to : "-");
	e->n_moves++;
}

/* ---- sync: what a (re)connected daemon runs ------------------------------------------------ */

struct adopt_ctx {
	struct engine *e;
	size_t d;
};

static void adopt_running(const char *name, void *arg)
{
	struct adopt_ctx *c = arg;
	struct engine *e = c->e;
	const struct maestro_model *m = e->model;
	const struct maestro_daemon *dm = &m->daemons[c->d];
	for (size_t g = 0; g < m->n_pgrp; g++) {
		long me = member_index(m, g, dm->name);
		long p = maestro_index_get(&m->pgrp[g].ix, name);
		if (me < 0 || p < 0)
			continue;
		if (e->assign.prdcr[g][p] < 0) {
			e->assign.prdcr[g][p] = me;
			mlog(MLOG_DEBUG, "Producer %s is running on %s: kept there", name,
			     dm->name);
		}
	}
}

static void sync_daemons(struct engine *e)
{
	const struct maestro_model *m = e->model;
	for (size_t i = 0; i < m->n_daemons; i++) {
		struct mon_daemon *md = mdaemon(e, m->daemons[i].name);
		if (!md || md->health != MON_UP || md->synced)
			continue;
		struct rb_state want, got;
		char *prdcr = NULL;
		if (rb_desired(m, &e->assign, i, &want))
			continue;
		int rc = mon_read_state(e->mon, md, &want, &got, &prdcr);
		rb_state_free(&want);
		if (rc) {
			if (md->health == MON_UP)
				mlog(MLOG_ERROR, "Cannot read the state of %s: %s", md->name,
				     strerror(-rc));
			continue;
		}
		rb_state_free(&md->applied);
		md->applied = got;
		md->synced = 1;
		md->in_sync = 0;
		md->cfg_expect = -1;
		if (got.n)
			mlog(MLOG_INFO, "%s runs %zu of maestro's objects: adopted", md->name,
			     got.n);
		else
			mlog(MLOG_INFO, "New daemon detected - Rebalance (%s has no configuration)",
			     md->name);
		if (prdcr && m->daemons[i].n_agrp) {
			struct adopt_ctx c = {e, i};
			rb_prdcr_running(prdcr, adopt_running, &c);
		}
		free(prdcr);
		/* its directory may have changed (sets mode) */
		for (size_t k = 0; k < e->n_dirs; k++)
			if (!strcmp(e->dirs[k].daemon, md->name))
				e->dirs[k].valid = 0;
	}
}

/* ---- balancing --------------------------------------------------------------------------------
 */

static int group_alive(struct engine *e, size_t g, unsigned char **alive, size_t *A, size_t *live)
{
	long ag = rb_pgrp_agrp(e->model, g);
	*A = ag < 0 ? 0 : e->model->agrp[ag].members.count;
	*live = 0;
	*alive = calloc(*A ? *A : 1, 1);
	if (!*alive)
		return -ENOMEM;
	for (size_t a = 0; a < *A; a++) {
		(*alive)[a] =
		    (unsigned char)usable(mdaemon(e, e->model->agrp[ag].members.names[a]));
		*live += (*alive)[a];
	}
	return 0;
}

static int balance_producers(struct engine *e, size_t g)
{
	const struct maestro_producer_group *pg = &e->model->pgrp[g];
	unsigned char *alive;
	size_t A, live;
	int rc = group_alive(e, g, &alive, &A, &live);
	if (rc)
		return rc;
	size_t n = pg->n;
	long *prev = malloc((n ? n : 1) * sizeof(*prev)),
	     *home = malloc((n ? n : 1) * sizeof(*home));
	if (!prev || !home) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(prev, e->assign.prdcr[g], n * sizeof(*prev));
	if (!A) {
		rc = 0;
		goto out;
	}
	if (!live)
		mlog(MLOG_INFO, "Aggregators responsible for producers %s are not responsive",
		     pg->group);
	/* home: upstream's all-ready split, so recoveries take back their own producers */
	balance_dist_list(n, A, home);
	struct balance_stats st;
	if ((rc = balance_by_producer(n, A, alive, prev, home, e->assign.prdcr[g], &st)))
		goto out;
	for (size_t p = 0; p < n; p++) {
		long a = prev[p], b = e->assign.prdcr[g][p];
		if (a == b)
			continue;
		const char *from = member_name(e->model, g, a), *to = member_name(e->model, g, b);
		if (a >= 0 && b >= 0) {
			mlog(MLOG_INFO, "Moving producer %s from %s to %s", pg->p[p].name, from,
			     to);
			record_move(e, pg->p[p].name, from, to);
		} else if (b >= 0) {
			mlog(MLOG_DEBUG, "Assigning producer %s to %s", pg->p[p].name, to);
		} else {
			mlog(MLOG_WARNING, "Producer %s has no live aggregator (was on %s)",
			     pg->p[p].name, from);
		}
	}
out:
	free(alive);
	free(prev);
	free(home);
	return rc;
}

static struct samp_dir *dir_of(struct engine *e, const char *daemon)
{
	for (size_t k = 0; k < e->n_dirs; k++)
		if (!strcmp(e->dirs[k].daemon, daemon))
			return &e->dirs[k];
	struct samp_dir *nd = realloc(e->dirs, (e->n_dirs + 1) * sizeof(*nd));
	if (!nd)
		return NULL;
	e->dirs = nd;
	memset(&nd[e->n_dirs], 0, sizeof(*nd));
	if (!(nd[e->n_dirs].daemon = strdup(daemon)))
		return NULL;
	return &e->dirs[e->n_dirs++];
}

/* Balancing by set (§10.6 with ldms-c's weights and minimal movement). Returns 1 when
 * some producer's sets are unknown (retry later). */
static int balance_sets(struct engine *e, size_t g)
{
	const struct maestro_model *m = e->model;
	const struct maestro_producer_group *pg = &m->pgrp[g];
	struct rb_setassign *old = e->assign.sets[g];
	struct rb_setassign *ns = calloc(1, sizeof(*ns));
	int missing = 0, rc = -ENOMEM;
	unsigned char *alive = NULL;
	long *prev = NULL;
	if (!ns)
		return -ENOMEM;
	/* the sets of each sampler daemon, counted once per group */
	size_t cap = 0;
	for (size_t p = 0; p < pg->n; p++) {
		const struct maestro_producer *pr = &pg->p[p];
		int dup = 0;
		for (size_t q = 0; q < p && !dup; q++)
			dup = !strcmp(pg->p[q].daemon, pr->daemon);
		if (dup || pr->daemon_idx < 0 || pr->ep_idx < 0)
			continue;
		struct samp_dir *sd = dir_of(e, pr->daemon);
		if (!sd)
			goto fail;
		if (!sd->valid) {
			const struct maestro_daemon *dm = &m->daemons[pr->daemon_idx];
			const struct maestro_endpoint *ep = &dm->ep[pr->ep_idx];
			char port[32];
			snprintf(port, sizeof(port), "%s", ep->port);
			mon_dir_free(sd->sets, sd->n);
			sd->sets = NULL;
			sd->n = 0;
			int r = mon_dir(ep->host ? ep->host : dm->addr, port, ep->xprt,
					auth_plugin(&ep->auth), ep->auth.conf, e->o.dir_timeout_ms,
					&sd->sets, &sd->n);
			sd->valid = !r && sd->n;
			if (r)
				mlog(MLOG_DEBUG, "Directory of %s unavailable: %s", pr->daemon,
				     strerror(-r));
		}
		if (!sd->valid) {
			missing = 1;
			continue;
		}
		for (size_t s = 0; s < sd->n; s++) {
			if (ns->n == cap) {
				cap = cap ? 2 * cap : 64;
				char **n1 = realloc(ns->name, cap * sizeof(*n1));
				if (n1)
					ns->name = n1;
				size_t *n2 = realloc(ns->prdcr, cap * sizeof(*n2));
				if (n2)
					ns->prdcr = n2;
				long *n3 = realloc(ns->agg, cap * sizeof(*n3));
				if (n3)
					ns->agg = n3;
				uint64_t *n4 = realloc(ns->weight, cap * sizeof(*n4));
				if (n4)
					ns->weight = n4;
				if (!n1 || !n2 || !n3 || !n4)
					goto fail;
			}
			if (!(ns->name[ns->n] = strdup(sd->sets[s].name)))
				goto fail;
			ns->prdcr[ns->n] = p;
			ns->agg[ns->n] = -1;
			ns->weight[ns->n] =
			    balance_set_weight(sd->sets[s].data_size, sd->sets[s].interval_us);
			ns->n++;
		}
	}
	size_t A, live;
	if ((rc = group_alive(e, g, &alive, &A, &live)))
		goto fail;
	rc = -ENOMEM;
	if (!(prev = malloc((ns->n ? ns->n : 1) * sizeof(*prev))))
		goto fail;
	int have_prev = 0;
	for (size_t s = 0; s < ns->n; s++) {
		prev[s] = -1;
		for (size_t k = 0; old && k < old->n; k++)
			if (!strcmp(old->name[k], ns->name[s])) {
				prev[s] = old->agg[k];
				have_prev = 1;
				break;
			}
	}
	if (!live)
		mlog(MLOG_INFO, "Aggregators responsible for producers %s are not responsive",
		     pg->group);
	if (A && (rc = balance_by_set(ns->n, ns->weight, A, alive, have_prev ? prev : NULL, ns->agg,
				      NULL)))
		goto fail;
	for (size_t s = 0; s < ns->n; s++) {
		if (prev[s] >= 0 && ns->agg[s] >= 0 && prev[s] != ns->agg[s]) {
			const char *from = member_name(m, g, prev[s]),
				   *to = member_name(m, g, ns->agg[s]);
			mlog(MLOG_INFO, "Moving set %s from %s to %s", ns->name[s], from, to);
			record_move(e, ns->name[s], from, to);
		}
	}
	/* producers: the aggregator of their first set (for --status) */
	for (size_t p = 0; p < pg->n; p++) {
		e->assign.prdcr[g][p] = -1;
		for (size_t s = 0; s < ns->n; s++)
			if (ns->prdcr[s] == p) {
				e->assign.prdcr[g][p] = ns->agg[s];
				break;
			}
	}
	if (old) {
		for (size_t k = 0; k < old->n; k++)
			free(old->name[k]);
		free(old->name);
		free(old->prdcr);
		free(old->agg);
		free(old->weight);
		free(old);
	}
	e->assign.sets[g] = ns;
	free(alive);
	free(prev);
	return missing;
fail:
	for (size_t k = 0; k < ns->n; k++)
		free(ns->name[k]);
	free(ns->name);
	free(ns->prdcr);
	free(ns->agg);
	free(ns->weight);
	free(ns);
	free(alive);
	free(prev);
	return rc;
}

/* sets mode applies to L1 groups: their producers are not aggregators */
static int is_l1(const struct maestro_model *m, size_t g)
{
	const struct maestro_producer_group *pg = &m->pgrp[g];
	return pg->n && pg->p[0].daemon_idx >= 0 && !m->daemons[pg->p[0].daemon_idx].n_agrp;
}

/* ---- pushing ------------------------------------------------------------------------------------
 */

static size_t count_req(const struct rb_cmdlist *l, uint32_t req)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->c[i].req == req;
	return n;
}

static void log_plan(const char *daemon, const struct rb_cmdlist *pre,
		     const struct rb_cmdlist *post, int is_sampler)
{
	size_t stops = count_req(pre, LDMSD_PRDCR_STOP_REQ),
	       starts = count_req(post, LDMSD_PRDCR_START_REQ),
	       adds = count_req(post, LDMSD_PRDCR_ADD_REQ);
	if (adds)
		mlog(MLOG_DEBUG, "Adding %zu producers to agg %s", adds, daemon);
	if (stops)
		mlog(MLOG_DEBUG, "Stopping agg %s %zu producers", daemon, stops);
	if (starts)
		mlog(MLOG_DEBUG, "Starting agg %s %zu producers", daemon, starts);
	if (is_sampler && count_req(post, LDMSD_PLUGN_LOAD_REQ))
		mlog(MLOG_INFO, "Adding sampler plugins to sampler %s", daemon);
	for (size_t i = 0; i < post->n; i++)
		if (post->c[i].req == LDMSD_PLUGN_START_REQ)
			mlog(MLOG_DEBUG, "Starting: %s on %s",
			     post->c[i].key ? post->c[i].key : "?", daemon);
}

struct plan {
	struct mon_daemon *md;
	int fast; /* only producer starts/stops, applied patched in place */
	struct rb_state want;
	struct rb_cmdlist pre, post;
	unsigned char *fpre, *fpost;
	int broken;
};

/* The fast path of a daemon maestro knows to be exactly as wanted, for a pass that only
 * moved producers: prdcr_start/prdcr_stop for the producers whose assignment changed
 * (snap -> now) where this daemon is concerned, without recomputing its whole state (an
 * aggregator holds every producer of its group: thousands of objects). 0 = done, 1 = the
 * full path is needed. */
static int fast_plan(struct engine *e, size_t i, long *const *snap, struct plan *p)
{
	const struct maestro_model *m = e->model;
	const struct maestro_daemon *dm = &m->daemons[i];
	struct mon_daemon *md = p->md;
	if (!md->in_sync || md->in_sync_gen != e->model_gen || e->o.by_sets || !snap)
		return 1;
	for (size_t k = 0; k < dm->n_agrp; k++) {
		const struct maestro_agg_group *ag = &m->agrp[dm->agrp[k]];
		long me = ldms_hostlist_find_sorted(&ag->members, dm->name);
		for (size_t g = 0; g < m->n_pgrp; g++) {
			if (strcmp(m->pgrp[g].group, ag->group))
				continue;
			for (size_t q = 0; q < m->pgrp[g].n; q++) {
				long was = snap[g][q], now = e->assign.prdcr[g][q];
				if (was == now || (was != me && now != me))
					continue;
				const char *name = m->pgrp[g].p[q].name;
				struct rb_obj *o = rb_state_find(&md->applied, RB_PRDCR, name);
				if (!o)
					continue; /* e.g. an advertised producer: not ours */
				int run = now == me;
				if (o->run == run)
					continue;
				char line[1024];
				snprintf(line, sizeof(line), "%s name=%s",
					 run ? "prdcr_start" : "prdcr_stop", name);
				struct rb_cmdlist *l = run ? &p->post : &p->pre;
				if (rb_cmd_add_line(
					l, line, RB_OK_EBUSY | (run ? RB_OK_EEXIST : RB_OK_ENOENT)))
					return 1;
				l->c[l->n - 1].kind = RB_PRDCR;
				if (!(l->c[l->n - 1].key = strdup(name)))
					return 1;
			}
		}
	}
	p->fast = 1;
	if (p->pre.n + p->post.n)
		mlog(MLOG_DEBUG, "%s: %zu producer stops, %zu starts (only moves)", dm->name,
		     p->pre.n, p->post.n);
	return 0;
}

/* after a fast push: applied follows every command that succeeded */
static void fast_commit(struct plan *p)
{
	int failed = 0;
	for (int ph = 0; ph < 2; ph++) {
		struct rb_cmdlist *l = ph ? &p->post : &p->pre;
		unsigned char *f = ph ? p->fpost : p->fpre;
		for (size_t k = 0; k < l->n; k++) {
			if (f[k]) {
				failed = 1;
				continue;
			}
			struct rb_obj *o = rb_state_find(&p->md->applied, RB_PRDCR, l->c[k].key);
			if (o)
				o->run = l->c[k].req == LDMSD_PRDCR_START_REQ;
		}
	}
	if (failed)
		p->md->in_sync = 0;
}

static int push_all(struct engine *e, long *const *snap, size_t *n_daemons)
{
	const struct maestro_model *m = e->model;
	struct plan *pl = calloc(m->n_daemons ? m->n_daemons : 1, sizeof(*pl));
	int failures = 0;
	*n_daemons = 0;
	if (!pl)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_daemons; i++) {
		struct plan *p = &pl[i];
		rb_cmdlist_init(&p->pre);
		rb_cmdlist_init(&p->post);
		rb_state_init(&p->want);
		struct mon_daemon *md = mdaemon(e, m->daemons[i].name);
		if (!usable(md))
			continue;
		p->md = md;
		if (fast_plan(e, i, snap, p) == 0) {
			if (!p->pre.n && !p->post.n) {
				p->md = NULL;
				continue;
			}
		} else {
			rb_cmdlist_free(&p->pre);
			rb_cmdlist_free(&p->post);
			p->md = NULL;
			if (rb_desired(m, &e->assign, i, &p->want))
				continue;
			if (rb_state_equal(&md->applied, &p->want)) {
				md->in_sync = 1;
				md->in_sync_gen = e->model_gen;
				continue;
			}
			if (rb_diff(&md->applied, &p->want, 0, &p->pre, &p->post))
				continue;
			p->md = md;
		}
		p->fpre = calloc(p->pre.n + 1, 1);
		p->fpost = calloc(p->post.n + 1, 1);
		if (!p->fpre || !p->fpost)
			p->md = NULL;
		else
			log_plan(md->name, &p->pre, &p->post, m->daemons[i].n_sgrp > 0);
	}
	/* stops everywhere first: a moving producer is never pulled twice */
	for (int phase = 0; phase < 2; phase++) {
		for (size_t i = 0; i < m->n_daemons; i++) {
			struct plan *p = &pl[i];
			struct rb_cmdlist *l = phase ? &p->post : &p->pre;
			if (!p->md || p->broken || !l->n)
				continue;
			int r = mon_push(e->mon, p->md, l, phase ? p->fpost : p->fpre);
			e->st.commands += l->n;
			if (r < 0)
				p->broken = 1;
			else
				failures += r;
		}
	}
	for (size_t i = 0; i < m->n_daemons; i++) {
		struct plan *p = &pl[i];
		if (p->md && !p->broken && p->md->health == MON_UP && p->fast) {
			fast_commit(p);
			mon_read_cntr(e->mon, p->md);
			(*n_daemons)++;
		} else if (p->md && !p->broken && p->md->health == MON_UP) {
			struct rb_state next;
			int failed = 0;
			if (!rb_state_copy(&next, &p->want)) {
				for (int ph = 0; ph < 2; ph++) {
					struct rb_cmdlist *l = ph ? &p->post : &p->pre;
					unsigned char *f = ph ? p->fpost : p->fpre;
					for (size_t k = 0; k < l->n; k++)
						if (f[k] && l->c[k].kind >= 0) {
							failed = 1;
							rb_state_restore(&next, &p->md->applied,
									 (enum rb_kind)l->c[k].kind,
									 l->c[k].key);
						}
				}
				rb_state_free(&p->md->applied);
				p->md->applied = next;
				p->md->in_sync = !failed;
				p->md->in_sync_gen = e->model_gen;
			} else {
				p->md->synced = 0;
			}
			mon_read_cntr(e->mon, p->md);
			(*n_daemons)++;
		}
		if (p->broken)
			failures++;
		rb_state_free(&p->want);
		rb_cmdlist_free(&p->pre);
		rb_cmdlist_free(&p->post);
		free(p->fpre);
		free(p->fpost);
	}
	free(pl);
	e->st.failures += (uint64_t)failures;
	return failures;
}

/* ---- the pass -----------------------------------------------------------------------------------
 */

static int pass(struct engine *e)
{
	const struct maestro_model *m = e->model;
	uint64_t t0 = mon_mono_us();
	int retry = 0;
	if (e->first) {
		mlog(MLOG_INFO, "New group detected - Rebalance");
		e->first = 0;
	}
	mlog(MLOG_INFO, "Rebalance cluster... (%s)", e->reason);
	/* the assignment before this pass: the fast path pushes only what changed */
	long **snap = calloc(m->n_pgrp + 1, sizeof(*snap));
	for (size_t g = 0; snap && g < m->n_pgrp; g++) {
		snap[g] = malloc((m->pgrp[g].n + 1) * sizeof(long));
		if (!snap[g]) {
			for (size_t k = 0; k < g; k++)
				free(snap[k]);
			free(snap);
			snap = NULL;
			break;
		}
		memcpy(snap[g], e->assign.prdcr[g], m->pgrp[g].n * sizeof(long));
	}
	sync_daemons(e);
	size_t moved_before = e->last_moved;
	char reason[1024];
	snprintf(reason, sizeof(reason), "%s", e->reason);
	e->reason[0] = 0;
	e->dirty = 0;
	size_t keep_n = e->n_moves;
	e->last_moved = 0;
	struct move *keep = e->moves;
	e->moves = NULL;
	e->n_moves = 0;

	mlog(MLOG_INFO, "Balancing producers...");
	for (size_t g = 0; g < m->n_pgrp; g++) {
		if (!owned_group(e, g))
			continue;
		int r = e->o.by_sets && is_l1(m, g) ? balance_sets(e, g) : balance_producers(e, g);
		if (r > 0)
			retry = 1;
		else if (r < 0)
			mlog(MLOG_ERROR, "Balancing %s failed: %s", m->pgrp[g].group, strerror(-r));
	}
	size_t n_daemons = 0;
	int failures = push_all(e, snap, &n_daemons);
	for (size_t g = 0; snap && g < m->n_pgrp; g++)
		free(snap[g]);
	free(snap);
	if (failures)
		retry = 1;
	size_t moved = e->last_moved;
	if (moved || !e->last_time_us) {
		/* this pass is now "the last rebalance" */
		for (size_t i = 0; i < keep_n; i++) {
			free(keep[i].what);
			free(keep[i].from);
			free(keep[i].to);
		}
		free(keep);
		e->last_time_us = mon_now_us();
		snprintf(e->last_reason, sizeof(e->last_reason), "%s", reason);
	} else {
		/* nothing moved: the previous rebalance stays on record */
		moves_clear(e);
		e->moves = keep;
		e->n_moves = keep_n;
		e->last_moved = moved_before;
	}
	e->st.passes++;
	e->st.moves_total += moved;
	e->st.last_moves = moved;
	mlog(MLOG_INFO, "Finished load balancing.");
	mlog(MLOG_INFO,
	     "Pass done in %.1f ms: %zu producer/set moves, %zu daemons reconfigured, %d failures "
	     "(%s)",
	     (double)(mon_mono_us() - t0) / 1000.0, moved, n_daemons, failures, reason);
	if (retry) {
		/* a command that keeps failing is retried ever more slowly, up to 64 periods */
		unsigned shift = e->retries < 6 ? e->retries : 6;
		e->retries++;
		e->retry_at = mon_mono_us() + ((uint64_t)e->o.retry_ms * 1000u << shift);
		if (shift)
			mlog(MLOG_INFO, "Retrying in %.1f s",
			     (double)(e->o.retry_ms << shift) / 1000.0);
	} else {
		e->retries = 0;
	}
	if (e->o.on_status) {
		char *js = engine_status_json(e);
		if (js)
			e->o.on_status(js, e->o.status_arg);
		free(js);
	}
	return 0;
}

int engine_step(struct engine *e)
{
	int changes = mon_tick(e->mon);
	for (size_t i = 0; i < e->mon->n; i++) {
		struct mon_daemon *d = e->mon->d[i];
		if (!d->changed)
			continue;
		d->changed = 0;
		if (d->health == MON_UP)
			add_reason(e, "%s up", d->name, NULL);
		else
			add_reason(e, "%s down: %s", d->name, d->reason ? d->reason : "?");
	}
	if (!e->model)
		return 100;
	/* hear from every daemon maestro just began to manage (start-up, a group taken
	 * over from another instance) before balancing, so producers that already run
	 * somewhere are seen before they are placed */
	uint64_t now = mon_mono_us(),
		 settle = (uint64_t)e->mon->o.connect_timeout_ms * 1000u + 1000000u;
	for (size_t i = 0; i < e->mon->n; i++) {
		struct mon_daemon *d = e->mon->d[i];
		if (d->managed && !d->removed && !d->tried && now - d->managed_at_us < settle)
			return 50;
	}
	for (size_t i = 0; i < e->mon->n && !e->dirty; i++) {
		struct mon_daemon *d = e->mon->d[i];
		if (!d->removed && d->health == MON_UP && !d->synced)
			add_reason(e, "%s needs configuring", d->name, NULL);
	}
	if (!e->dirty && e->retry_at && mon_mono_us() >= e->retry_at) {
		e->retry_at = 0;
		add_reason(e, "retry", NULL, NULL);
	}
	if (e->dirty) {
		if (changes)
			mlog(MLOG_INFO, "Daemon state change - Rebalance");
		pass(e);
	}
	return 50;
}

void engine_get_stats(struct engine *e, struct engine_stats *st)
{
	*st = e->st;
}

/* ---- status -----------------------------------------------------------------------------------
 */

static const char *role(const struct maestro_daemon *d)
{
	if (d->n_agrp)
		return "aggregator";
	if (d->n_sgrp)
		return "sampler";
	return "other";
}

char *engine_status_json(struct engine *e)
{
	const struct maestro_model *m = e->model;
	json_t *root = json_object(), *ds = json_array(), *gs = json_array(), *lr = json_object();
	if (!root || !ds || !gs || !lr)
		goto fail;
	json_object_set_new(root, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(root, "config", json_string(e->label ? e->label : ""));
	if (e->o.instance)
		json_object_set_new(root, "instance", json_string(e->o.instance));
	json_object_set_new(root, "rebalance", json_string(e->o.by_sets ? "sets" : "producers"));
	json_object_set_new(root, "time", json_real((double)mon_now_us() / 1e6));
	for (size_t i = 0; m && i < m->n_daemons; i++) {
		const struct maestro_daemon *d = &m->daemons[i];
		struct mon_daemon *md = mdaemon(e, d->name);
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "role", json_string(role(d)));
		json_object_set_new(o, "health",
				    json_string(md ? mon_health_str(md->health) : "unmanaged"));
		if (md && md->managed) {
			char ep[512];
			snprintf(ep, sizeof(ep), "%s:%s:%s", md->xprt, md->host, md->port);
			json_object_set_new(o, "endpoint", json_string(ep));
			json_object_set_new(o, "since", json_real((double)md->since_us / 1e6));
			json_object_set_new(o, "configured", json_boolean(md->synced));
			if (md->reason && md->health != MON_UP)
				json_object_set_new(o, "reason", json_string(md->reason));
			if (md->last_error)
				json_object_set_new(o, "last_error", json_string(md->last_error));
		}
		json_array_append_new(ds, o);
	}
	for (size_t g = 0; m && g < m->n_pgrp; g++) {
		const struct maestro_producer_group *pg = &m->pgrp[g];
		long ag = rb_pgrp_agrp(m, g);
		json_t *o = json_object(), *aggs = json_array(), *un = json_array();
		json_object_set_new(o, "group", json_string(pg->group));
		if (!owned_group(e, g))
			json_object_set_new(o, "elsewhere", json_true());
		size_t A = ag < 0 ? 0 : m->agrp[ag].members.count;
		for (size_t a = 0; a < A; a++) {
			const char *an = m->agrp[ag].members.names[a];
			struct mon_daemon *md = mdaemon(e, an);
			json_t *ao = json_object(), *pl = json_array();
			json_object_set_new(ao, "name", json_string(an));
			json_object_set_new(
			    ao, "health",
			    json_string(md ? mon_health_str(md->health) : "unmanaged"));
			for (size_t p = 0; p < pg->n; p++) {
				int mine = 0;
				const struct rb_setassign *sa =
				    e->assign.sets ? e->assign.sets[g] : NULL;
				if (sa) {
					for (size_t s = 0; s < sa->n && !mine; s++)
						mine = sa->prdcr[s] == p && sa->agg[s] == (long)a;
				} else {
					mine = e->assign.prdcr[g][p] == (long)a;
				}
				if (mine)
					json_array_append_new(pl, json_string(pg->p[p].name));
			}
			json_object_set_new(ao, "producers", pl);
			const struct rb_setassign *sa = e->assign.sets ? e->assign.sets[g] : NULL;
			if (sa) {
				json_t *sl = json_array();
				for (size_t s = 0; s < sa->n; s++)
					if (sa->agg[s] == (long)a)
						json_array_append_new(sl, json_string(sa->name[s]));
				json_object_set_new(ao, "sets", sl);
			}
			json_array_append_new(aggs, ao);
		}
		for (size_t p = 0; p < pg->n; p++)
			if (e->assign.prdcr[g][p] < 0)
				json_array_append_new(un, json_string(pg->p[p].name));
		json_object_set_new(o, "aggregators", aggs);
		json_object_set_new(o, "unassigned", un);
		json_array_append_new(gs, o);
	}
	json_object_set_new(root, "daemons", ds);
	json_object_set_new(root, "groups", gs);
	ds = gs = NULL;
	if (e->last_time_us) {
		json_object_set_new(lr, "time", json_real((double)e->last_time_us / 1e6));
		json_object_set_new(lr, "reason", json_string(e->last_reason));
		json_object_set_new(lr, "moved", json_integer((json_int_t)e->last_moved));
		json_t *mv = json_array();
		for (size_t i = 0; i < e->n_moves; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "what", json_string(e->moves[i].what));
			json_object_set_new(x, "from", json_string(e->moves[i].from));
			json_object_set_new(x, "to", json_string(e->moves[i].to));
			json_array_append_new(mv, x);
		}
		json_object_set_new(lr, "moves", mv);
	}
	json_object_set_new(root, "last_rebalance", lr);
	lr = NULL;
	json_t *stt = json_object();
	json_object_set_new(stt, "passes", json_integer((json_int_t)e->st.passes));
	json_object_set_new(stt, "moves_total", json_integer((json_int_t)e->st.moves_total));
	json_object_set_new(stt, "commands", json_integer((json_int_t)e->st.commands));
	json_object_set_new(stt, "failures", json_integer((json_int_t)e->st.failures));
	json_object_set_new(root, "stats", stt);
	char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
fail:
	json_decref(root);
	json_decref(ds);
	json_decref(gs);
	json_decref(lr);
	return NULL;
}
