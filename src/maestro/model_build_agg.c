/* YAML -> model for the aggregator side (maestro.md §4.4-§4.8): advertise (and the seed
 * README's list form), aggregator groups, producer listeners, peers -> producers with
 * upstream's endpoint/daemon walk and ldms-c's endpoint check, and updaters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_build.h"

/* ---- advertise (§4.8) --------------------------------------------------------------------------
 */

/* The seed README's list form: [{names, to: <endpoint names>, reconnect, ...}]. The
 * aggregators' endpoints named by `to` give the hosts, port, transport and auth. */
static int legacy_advertise(struct mb *b, struct cy_node *list, struct cy_node **out)
{
	*out = NULL;
	if (list->n != 1)
		return mb_err_at(b, list,
				 "\"advertise\" must be a single mapping (names, hosts, xprt, "
				 "port, reconnect)");
	struct cy_node *it = list->vals[0], *to = cy_map_get(it, "to");
	if (mb_need_map(b, it, "an \"advertise\" entry"))
		return -EINVAL;
	if (!to)
		return mb_err_at(b, it,
				 "The \"to\" attribute is required in an \"advertise\" list "
				 "entry (older form)");
	struct ldms_hostlist tos;
	ldms_hostlist_init(&tos);
	int rc = mb_expand(b, to, &tos);
	size_t hl = 1;
	char *hosts = NULL;
	const struct maestro_endpoint *first = NULL;
	for (size_t i = 0; !rc && i < tos.count; i++) {
		long r = maestro_index_get(&b->ep_ix, tos.names[i]);
		if (r < 0) {
			rc = mb_err_at(b, to,
				       "advertise target \"%s\" is not an endpoint of any daemon",
				       tos.names[i]);
			break;
		}
		const struct maestro_daemon *d = &b->m->daemons[b->ep_refs[r].daemon];
		const struct maestro_endpoint *e = &d->ep[b->ep_refs[r].ep];
		if (!first)
			first = e;
		else if (strcmp(first->port, e->port) || strcmp(first->xprt, e->xprt)) {
			rc =
			    mb_err_at(b, to, "advertise targets must share one port and transport");
			break;
		}
		const char *h = e->host ? e->host : d->addr;
		char *nh = realloc(hosts, hl + strlen(h) + 1);
		if (!nh) {
			rc = NOMEM(b);
			break;
		}
		if (!hosts)
			nh[0] = '\0';
		hosts = nh;
		if (hosts[0])
			strcat(hosts, ",");
		strcat(hosts, h);
		hl += strlen(h) + 1;
	}
	if (!rc && !first)
		rc = mb_err_at(b, to, "advertise \"to\" names no endpoint");
	struct cy_node *ad = NULL;
	if (!rc) {
		ad = cy_map_copy(it);
		if (!ad)
			rc = NOMEM(b);
	}
	if (!rc) {
		cy_map_remove(ad, "to");
		struct cy_node *n1 = cy_scalar_new(hosts, to->line, to->col),
			       *n2 = cy_scalar_new(first->xprt, to->line, to->col),
			       *n3 = cy_scalar_new(first->port, to->line, to->col);
		if (cy_map_set_str(ad, "hosts", n1) | cy_map_set_str(ad, "xprt", n2) |
		    cy_map_set_str(ad, "port", n3))
			rc = NOMEM(b);
		if (!rc && !cy_map_get(ad, "auth") && first->auth.name) {
			struct cy_node *au = cy_map_new(to->line, to->col);
			if (!au || cy_map_set_str(ad, "auth", au) ||
			    cy_map_set_str(au, "name", cy_scalar_new(first->auth.name, 0, 0)) ||
			    (first->auth.plugin &&
			     cy_map_set_str(au, "plugin",
					    cy_scalar_new(first->auth.plugin, 0, 0))) ||
			    (first->auth.conf &&
			     cy_map_set_str(au, "conf", cy_scalar_new(first->auth.conf, 0, 0))))
				rc = NOMEM(b);
		}
	}
	free(hosts);
	ldms_hostlist_free(&tos);
	if (rc)
		cy_unref(ad);
	else
		*out = ad;
	return rc;
}

/* *translated (optional) gets the current-schema form of an older list-form advertise. */
int mb_build_advertiser(struct mb *b, const struct cy_node *spec, const char *group,
			struct cy_node **translated)
{
	struct cy_node *ad = cy_map_get(spec, "advertise"), *own = NULL;
	if (translated)
		*translated = NULL;
	struct maestro_model *m = b->m;
	int rc;
	if (!ad)
		return 0;
	if (cy_is_seq(ad)) {
		if ((rc = legacy_advertise(b, ad, &own)))
			return rc;
		ad = own;
	}
	if ((rc = mb_need_map(b, ad, "\"advertise\"")))
		goto out;
	static const char *const req[] = {"names", "hosts", "xprt", "port", "reconnect", NULL};
	static const char *const known[] = {"names",	 "hosts", "xprt", "port",
					    "reconnect", "perm",  "rail", "quota",
					    "rx_rate",	 "auth",  NULL};
	if ((rc = mb_required(b, ad, req, "\"advertise\" entry")))
		goto out;
	mb_unknown_keys(b, ad, known, "\"advertise\"");
	struct maestro_advertiser *a = maestro_model_advertiser(m, group);
	if (!a) {
		struct maestro_advertiser *na = realloc(m->adv, (m->n_adv + 1) * sizeof(*na));
		if (!na) {
			rc = NOMEM(b);
			goto out;
		}
		m->adv = na;
		a = &m->adv[m->n_adv++];
		memset(a, 0, sizeof(*a));
		if (!(a->group = mb_xstrdup(b, group))) {
			rc = -ENOMEM;
			goto out;
		}
	} else {
		/* a later entry for the same group replaces the record */
		char *g = a->group;
		a->group = NULL;
		cy_unref(a->names);
		cy_unref(a->hosts);
		cy_unref(a->xprt);
		cy_unref(a->port);
		cy_unref(a->reconnect);
		mb_auth_clear(&a->auth);
		free(a->perm);
		cy_unref(a->rail);
		cy_unref(a->quota);
		cy_unref(a->rx_rate);
		ldms_hostlist_free(&a->hosts_x);
		ldms_hostlist_free(&a->names_x);
		ldms_hostlist_free(&a->ad_list);
		memset(a, 0, sizeof(*a));
		a->group = g;
	}
	struct cy_node *gnode = cy_map_get(spec, "daemons");
	if ((rc = mb_expand(b, cy_map_get(ad, "names"), &a->names_x)) ||
	    (rc = mb_expand(b, gnode, &a->ad_list)))
		goto out;
	if (a->names_x.count != a->ad_list.count) {
		rc = mb_err_at(
		    b, cy_map_get(ad, "names"),
		    "Please provide a hostlist for \"names\" that is equal to the number of "
		    "daemons to advertise from (%zu names for %zu daemons)",
		    a->names_x.count, a->ad_list.count);
		goto out;
	}
	if ((rc = mb_expand(b, cy_map_get(ad, "hosts"), &a->hosts_x)))
		goto out;
	const char *x;
	if ((rc = mb_opt_str(b, ad, "xprt", &x)) || (rc = mb_opt_str(b, ad, "port", &x)) ||
	    (rc = mb_opt_str(b, ad, "reconnect", &x)) || (rc = mb_opt_str(b, ad, "rail", &x)) ||
	    (rc = mb_opt_str(b, ad, "quota", &x)) || (rc = mb_opt_str(b, ad, "rx_rate", &x)))
		goto out;
	a->names = cy_ref(cy_map_get(ad, "names"));
	a->hosts = cy_ref(cy_map_get(ad, "hosts"));
	a->xprt = cy_ref(cy_map_get(ad, "xprt"));
	a->port = cy_ref(cy_map_get(ad, "port"));
	a->reconnect = cy_ref(cy_map_get(ad, "reconnect"));
	a->rail = cy_ref(cy_map_get(ad, "rail"));
	a->quota = cy_ref(cy_map_get(ad, "quota"));
	a->rx_rate = cy_ref(cy_map_get(ad, "rx_rate"));
	if ((rc = mb_auth_of(b, ad, &a->auth)) || (rc = mb_opt_perm(b, ad, &a->perm)))
		goto out;
out:
	if (!rc && own && translated)
		*translated = cy_ref(own);
	cy_unref(own);
	return rc;
}

/* ---- aggregators (§4.4) and producer listeners (§4.7) ------------------------------------------
 */

static int build_listeners(struct mb *b, const struct cy_node *spec, const char *group)
{
	struct cy_node *pls = cy_map_get(spec, "prdcr_listen");
	struct maestro_model *m = b->m;
	if (!pls)
		return 0;
	if (!cy_is_seq(pls))
		return mb_err_at(b, pls, "\"prdcr_listen\" must be a list of producer listeners");
	static const char *const known[] = {"name",
					    "reconnect",
					    "disable_start",
					    "ip",
					    "rail",
					    "quota",
					    "rx_rate",
					    "regex",
					    "type",
					    "advertiser_xprt",
					    "advertiser_port",
					    "advertiser_auth",
					    "auth",
					    "updaters",
					    NULL};
	for (size_t i = 0; i < pls->n; i++) {
		struct cy_node *pl = pls->vals[i];
		static const char *const req[] = {"name", NULL};
		int rc;
		if ((rc = mb_need_map(b, pl, "a \"prdcr_listen\" entry")) ||
		    (rc = mb_required(b, pl, req, "\"prdcr_listen\" entry")))
			return rc;
		mb_unknown_keys(b, pl, known, "a \"prdcr_listen\" entry");
		struct maestro_listener_group *g = maestro_model_listeners(m, group);
		if (!g) {
			struct maestro_listener_group *ng =
			    realloc(m->lgrp, (m->n_lgrp + 1) * sizeof(*ng));
			if (!ng)
				return NOMEM(b);
			m->lgrp = ng;
			g = &m->lgrp[m->n_lgrp++];
			memset(g, 0, sizeof(*g));
			if (!(g->group = mb_xstrdup(b, group)))
				return -ENOMEM;
		}
		struct maestro_listener l = {0};
		struct maestro_auth au;
		const char *name;
		if ((rc = mb_opt_str(b, pl, "name", &name)))
			return rc;
		if (!(l.name = mb_xstrdup(b, name)))
			return -ENOMEM;
		if ((rc = mb_opt_interval(b, pl, "reconnect", &l.reconnect_us)) ||
		    (rc = mb_dup_opt(b, pl, "disable_start", &l.disable_start)) ||
		    (rc = mb_dup_opt(b, pl, "ip", &l.ip)) ||
		    (rc = mb_dup_opt(b, pl, "rail", &l.rail)) ||
		    (rc = mb_dup_opt(b, pl, "quota", &l.quota)) ||
		    (rc = mb_dup_opt(b, pl, "rx_rate", &l.rx_rate)) ||
		    (rc = mb_dup_opt(b, pl, "regex", &l.regex)) ||
		    (rc = mb_dup_opt(b, pl, "type", &l.type)) ||
		    (rc = mb_dup_opt(b, pl, "advertiser_xprt", &l.advertiser_xprt)) ||
		    (rc = mb_dup_opt(b, pl, "advertiser_port", &l.advertiser_port)) ||
		    (rc = mb_auth_of(b, pl, &au)))
			goto fail;
		l.advertiser_auth = au.name;
		au.name = NULL;
		mb_auth_clear(&au);
		if (!b->opts->upstream_compat && cy_map_get(pl, "advertiser_auth")) {
			free(l.advertiser_auth);
			if ((rc = mb_dup_opt(b, pl, "advertiser_auth", &l.advertiser_auth)))
				goto fail;
		}
		size_t at = g->n;
		if (b->opts->upstream_compat) {
			/* upstream keeps only the last listener of a group (compat) */
			at = 0;
		} else {
			for (size_t k = 0; k < g->n; k++)
				if (strcmp(g->l[k].name, l.name) == 0)
					at = k;
		}
		if (at == g->n) {
			struct maestro_listener *nl = realloc(g->l, (g->n + 1) * sizeof(*nl));
			if (!nl) {
				rc = NOMEM(b);
				goto fail;
			}
			g->l = nl;
			g->n++;
		} else {
			struct maestro_listener *o = &g->l[at];
			char **f[] = {&o->name,
				      &o->reconnect_us,
				      &o->disable_start,
				      &o->ip,
				      &o->rail,
				      &o->quota,
				      &o->rx_rate,
				      &o->regex,
				      &o->type,
				      &o->advertiser_xprt,
				      &o->advertiser_port,
				      &o->advertiser_auth};
			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
				free(*f[k]);
		}
		g->l[at] = l;
		continue;
	fail : {
		char **f[] = {&l.name, &l.reconnect_us,	   &l.disable_start,   &l.ip,
			      &l.rail, &l.quota,	   &l.rx_rate,	       &l.regex,
			      &l.type, &l.advertiser_xprt, &l.advertiser_port, &l.advertiser_auth};
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			free(*f[k]);
		return rc;
	}
	}
	return 0;
}

static struct maestro_agg_group *agg_group(struct mb *b, const char *group)
{
	struct maestro_model *m = b->m;
	for (size_t i = 0; i < m->n_agrp; i++)
		if (strcmp(m->agrp[i].group, group) == 0)
			return &m->agrp[i];
	struct maestro_agg_group *ng = realloc(m->agrp, (m->n_agrp + 1) * sizeof(*ng));
	if (!ng) {
		NOMEM(b);
		return NULL;
	}
	m->agrp = ng;
	struct maestro_agg_group *g = &m->agrp[m->n_agrp];
	memset(g, 0, sizeof(*g));
	if (!(g->group = mb_xstrdup(b, group)))
		return NULL;
	m->n_agrp++;
	return g;
}

int mb_group_name(struct mb *b, const struct cy_node *n, const char *what, const char **out)
{
	if (!n || n->type != CY_SCALAR)
		return mb_err_at(b, n,
				 "%s must be a hostlist string naming a group of daemons, found %s",
				 what, cy_type_name(n));
	*out = n->str;
	return 0;
}

void mb_check_members(struct mb *b, const struct cy_node *at, const struct ldms_hostlist *h,
		      const char *what)
{
	for (size_t i = 0; i < h->count; i++)
		if (maestro_model_daemon(b->m, h->names[i]) < 0) {
			mb_warn(b, at, "%s member \"%s\" is not a daemon defined in \"daemons\"",
				what, h->names[i]);
			return;
		}
}

static int build_subscribe(struct mb *b, struct cy_node *sub, const char *group)
{
	if (!cy_is_seq(sub))
		return mb_err_at(b, sub, "\"subscribe\" must be a list");
	static const char *const known[] = {"regex",	       "stream",  "message_tag",
					    "message_channel", "rx_rate", NULL};
	for (size_t i = 0; i < sub->n; i++) {
		struct cy_node *s = sub->vals[i];
		static const char *const req[] = {"regex", NULL};
		int rc;
		if ((rc = mb_need_map(b, s, "a \"subscribe\" entry")) ||
		    (rc = mb_required(b, s, req, "\"aggregators\" stream specification")))
			return rc;
		mb_unknown_keys(b, s, known, "a \"subscribe\" entry");
		for (size_t k = 0; k < s->n; k++)
			if (s->vals[k]->type != CY_SCALAR)
				return mb_err_at(b, s->vals[k], "\"%s\" must be a single value",
						 s->keys[k]->str);
		const char *mt = cy_str(cy_map_get(s, "message_tag")),
			   *st = cy_str(cy_map_get(s, "stream")),
			   *mc = cy_str(cy_map_get(s, "message_channel"));
		if (!(mt && *mt) && !(st && *st) && !(mc && *mc))
			return mb_err_at(
			    b, s,
			    "\"subscribe\" for hostlist %s must contain either a \"stream\" "
			    "or \"message_tag\" attribute",
			    group);
	}
	return 0;
}

int mb_build_aggregators(struct mb *b)
{
	struct cy_node *as = cy_map_get(b->root, "aggregators");
	if (!as)
		return 0;
	if (!cy_is_seq(as))
		return mb_err_at(b, as,
				 "aggregators spec must be a list of dictionaries, specified "
				 "with \"-\" in the ldms_config yaml file");
	static const char *const known[] = {
	    "daemons", "peers", "prdcr_listen", "advertise", "subscribe", "plugins", NULL};
	for (size_t i = 0; i < as->n; i++) {
		struct cy_node *spec = as->vals[i];
		static const char *const req[] = {"daemons", NULL};
		const char *group = NULL;
		struct ldms_hostlist names;
		int rc;
		if ((rc = mb_need_map(b, spec, "an \"aggregators\" entry")) ||
		    (rc = mb_required(b, spec, req, "\"aggregators\" entry")) ||
		    (rc = mb_group_name(b, cy_map_get(spec, "daemons"), "\"daemons\"", &group)))
			return rc;
		mb_unknown_keys(b, spec, known, "an \"aggregators\" entry");
		ldms_hostlist_init(&names);
		if ((rc = mb_expand(b, cy_map_get(spec, "daemons"), &names)))
			return rc;
		if (!names.count) {
			ldms_hostlist_free(&names);
			return mb_err_at(b, cy_map_get(spec, "daemons"),
					 "aggregator group \"%s\" expands to no daemon", group);
		}
		mb_check_members(b, cy_map_get(spec, "daemons"), &names, "aggregator group");
		struct cy_node *plugins = cy_map_get(spec, "plugins"), *sub;
		if (plugins && !(cy_str(plugins) && !*cy_str(plugins))) {
			if (!cy_is_seq(plugins)) {
				ldms_hostlist_free(&names);
				return mb_err_at(
				    b, plugins,
				    "\"plugins\" must be a list of plugin instance names");
			}
			for (size_t k = 0; k < plugins->n; k++)
				if ((rc = mb_check_plugin_ref(b, plugins->vals[k]))) {
					ldms_hostlist_free(&names);
					return rc;
				}
		} else {
			plugins = NULL;
		}
		sub = cy_map_get(spec, "subscribe");
		if (sub && cy_str(sub) && !*cy_str(sub))
			sub = NULL;
		if (sub && (rc = build_subscribe(b, sub, group))) {
			ldms_hostlist_free(&names);
			return rc;
		}
		struct maestro_agg_group *g = agg_group(b, group);
		if (!g) {
			ldms_hostlist_free(&names);
			return -ENOMEM;
		}
		if (!g->members.count) {
			g->members = names;
			ldms_hostlist_init(&names);
		}
		for (size_t k = 0; k < g->members.count; k++) {
			const char *nm = g->members.names[k];
			size_t at = g->n;
			for (size_t j = 0; j < g->n; j++)
				if (strcmp(g->m[j].name, nm) == 0)
					at = j;
			if (at == g->n) {
				struct maestro_agg_member *nmm =
				    realloc(g->m, (g->n + 1) * sizeof(*nmm));
				if (!nmm) {
					ldms_hostlist_free(&names);
					return NOMEM(b);
				}
				g->m = nmm;
				memset(&g->m[at], 0, sizeof(g->m[at]));
				if (!(g->m[at].name = mb_xstrdup(b, nm))) {
					ldms_hostlist_free(&names);
					return -ENOMEM;
				}
				g->n++;
			}
			cy_unref(g->m[at].subscribe);
			cy_unref(g->m[at].plugins);
			g->m[at].subscribe = cy_ref(sub);
			g->m[at].plugins = cy_ref(plugins);
		}
		ldms_hostlist_free(&names);
		if ((rc = mb_build_advertiser(b, spec, group, NULL)) ||
		    (rc = build_listeners(b, spec, group)))
			return rc;
	}
	return 0;
}

/* ---- producers (§4.5)
 * ---------------------------------------------------------------------------- */

/* Splits on commas outside brackets (upstream splits on every comma, §4.5). */
static int split_top(struct mb *b, const char *s, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int level = 0;
	const char *start = s;
	for (const char *p = s;; p++) {
		if (*p == '[')
			level++;
		else if (*p == ']')
			level--;
		if (*p == '\0' || (*p == ',' && level == 0)) {
			char **nv = realloc(*out, (*n + 1) * sizeof(*nv));
			if (!nv)
				return NOMEM(b);
			*out = nv;
			if (!(nv[*n] = strndup(start, (size_t)(p - start))))
				return NOMEM(b);
			(*n)++;
			start = p + 1;
			if (!*p)
				break;
		}
	}
	return 0;
}

void mb_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static struct maestro_producer_group *prdcr_group(struct mb *b, const char *group)
{
	struct maestro_model *m = b->m;
	struct maestro_producer_group *g = maestro_model_producers(m, group);
	if (g)
		return g;
	struct maestro_producer_group *ng = realloc(m->pgrp, (m->n_pgrp + 1) * sizeof(*ng));
	if (!ng) {
		NOMEM(b);
		return NULL;
	}
	m->pgrp = ng;
	g = &m->pgrp[m->n_pgrp];
	memset(g, 0, sizeof(*g));
	if (!(g->group = mb_xstrdup(b, group)))
		return NULL;
	m->n_pgrp++;
	return g;
}

struct peer_common {
	const char *type;
	char *reconnect_us, *perm;
	const char *rail, *quota, *rx_rate, *cache_ip;
	struct cy_node *updaters;
};

static int add_producer(struct mb *b, struct maestro_producer_group *g, const char *ep,
			const char *daemon, const char *dmn_grp, const struct peer_common *pc)
{
	long at = maestro_index_get(&g->ix, ep);
	struct maestro_producer p = {0};
	p.daemon_idx = p.ep_idx = -1;
	if (!(p.name = strdup(ep)) || !(p.daemon = strdup(daemon)) ||
	    !(p.dmn_grp = strdup(dmn_grp)) || !(p.endpoint = strdup(ep)) ||
	    !(p.type = strdup(pc->type)) || !(p.group = strdup(g->group)) ||
	    !(p.reconnect_us = strdup(pc->reconnect_us)) ||
	    (pc->perm && !(p.perm = strdup(pc->perm))) ||
	    (pc->rail && !(p.rail = strdup(pc->rail))) ||
	    (pc->quota && !(p.quota = strdup(pc->quota))) ||
	    (pc->rx_rate && !(p.rx_rate = strdup(pc->rx_rate))) ||
	    (pc->cache_ip && !(p.cache_ip = strdup(pc->cache_ip))))
		goto nomem;
	p.updaters = cy_ref(pc->updaters);
	if (at >= 0) {
		/* a later peer for the same endpoint replaces it in place (dict semantics) */
		struct maestro_producer *o = &g->p[at];
		char **f[] = {&o->daemon, &o->dmn_grp,	    &o->endpoint, &o->type,
			      &o->group,  &o->reconnect_us, &o->perm,	  &o->rail,
			      &o->quota,  &o->rx_rate,	    &o->cache_ip};
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			free(*f[k]);
		cy_unref(o->updaters);
		/* the index holds o->name: keep that string (it is the same name) */
		free(p.name);
		p.name = o->name;
		*o = p;
		return 0;
	}
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 16;
		struct maestro_producer *np = realloc(g->p, nc * sizeof(*np));
		if (!np)
			goto nomem;
		g->p = np;
		g->cap = nc;
		/* the index points into names owned by the array: rebuild it */
		maestro_index_free(&g->ix);
		for (size_t k = 0; k < g->n; k++)
			if (maestro_index_put(&g->ix, g->p[k].name, k))
				goto nomem;
	}
	g->p[g->n] = p;
	if (maestro_index_put(&g->ix, g->p[g->n].name, g->n))
		return NOMEM(b);
	g->n++;
	return 0;
nomem : {
	char **f[] = {&p.name,	       &p.daemon, &p.dmn_grp, &p.endpoint, &p.type,    &p.group,
		      &p.reconnect_us, &p.perm,	  &p.rail,    &p.quota,	   &p.rx_rate, &p.cache_ip};
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
		free(*f[k]);
	cy_unref(p.updaters);
	return NOMEM(b);
}
}

/* ldms-c: the endpoint a peer maps to a daemon must be one of that daemon's endpoints. */
static int check_peer_endpoint(struct mb *b, const struct cy_node *at, const char *ep,
			       const char *daemon)
{
	long d = maestro_model_daemon(b->m, daemon);
	if (d >= 0) {
		const struct maestro_daemon *dm = &b->m->daemons[d];
		for (size_t i = 0; i < dm->n_ep; i++)
			if (strcmp(dm->ep[i].name, ep) == 0)
				return 0;
	} else {
		return mb_err_at(b, at, "peer daemon \"%s\" is not defined in \"daemons\"", daemon);
	}
	long r = maestro_index_get(&b->ep_ix, ep);
	if (r >= 0)
		return mb_err_at(
		    b, at,
		    "peer endpoint \"%s\" belongs to daemon \"%s\", but the pairing of "
		    "\"endpoints\" with \"daemons\" maps it to \"%s\"",
		    ep, b->m->daemons[b->ep_refs[r].daemon].name, daemon);
	if (maestro_index_get(&b->unused_ix, ep) >= 0)
		return mb_err_at(
		    b, at,
		    "peer endpoint \"%s\" is not an endpoint of any daemon: its endpoints "
		    "entry has more names than daemons (give each port its own "
		    "endpoints entry)",
		    ep);
	return mb_err_at(b, at, "peer endpoint \"%s\" is not an endpoint of daemon \"%s\"", ep,
			 daemon);
}

/* Seed README form: no `daemons`; the endpoints' owners are the producers' daemons. */
static int legacy_peer(struct mb *b, struct maestro_producer_group *g, struct cy_node *eps,
		       const struct peer_common *pc)
{
	struct ldms_hostlist names;
	ldms_hostlist_init(&names);
	int rc = mb_expand(b, eps, &names);
	for (size_t i = 0; !rc && i < names.count; i++) {
		long r = maestro_index_get(&b->ep_ix, names.names[i]);
		if (r < 0) {
			rc = mb_err_at(
			    b, eps,
			    "The \"daemons\" attribute is required in \"peers\" entry (endpoint "
			    "\"%s\" is not an endpoint of any daemon)",
			    names.names[i]);
			break;
		}
		size_t d = b->ep_refs[r].daemon;
		rc = add_producer(b, g, names.names[i], b->m->daemons[d].name, b->entry_names[d],
				  pc);
	}
	ldms_hostlist_free(&names);
	return rc;
}

static int build_peer(struct mb *b, const char *group, struct cy_node *prod)
{
	static const char *const req[] = {"endpoints", "reconnect", "type", NULL};
	static const char *const known[] = {"daemons",	"endpoints", "reconnect", "type",
					    "perm",	"rail",	     "quota",	  "rx_rate",
					    "cache_ip", "updaters",  NULL};
	struct peer_common pc = {0};
	int rc;
	if ((rc = mb_need_map(b, prod, "a \"peers\" entry")) ||
	    (rc = mb_required(b, prod, req, "\"peers\" entry")))
		return rc;
	mb_unknown_keys(b, prod, known, "a \"peers\" entry");
	struct maestro_producer_group *g = prdcr_group(b, group);
	if (!g)
		return -ENOMEM;
	if ((rc = mb_opt_str(b, prod, "type", &pc.type)) ||
	    (rc = mb_interval(b, cy_map_get(prod, "reconnect"), &pc.reconnect_us)) ||
	    (rc = mb_opt_perm(b, prod, &pc.perm)) || (rc = mb_opt_str(b, prod, "rail", &pc.rail)) ||
	    (rc = mb_opt_str(b, prod, "quota", &pc.quota)) ||
	    (rc = mb_opt_str(b, prod, "rx_rate", &pc.rx_rate)) ||
	    (rc = mb_opt_str(b, prod, "cache_ip", &pc.cache_ip)))
		goto out;
	pc.updaters = cy_map_get(prod, "updaters");
	struct cy_node *dn = cy_map_get(prod, "daemons"), *en = cy_map_get(prod, "endpoints");
	if (!dn) {
		rc = legacy_peer(b, g, en, &pc);
		goto out;
	}
	const char *dstr = NULL, *estr = NULL;
	if ((rc = mb_group_name(b, dn, "peer \"daemons\"", &dstr)) ||
	    (rc = mb_group_name(b, en, "peer \"endpoints\"", &estr)))
		goto out;
	char **dg = NULL, **eg = NULL;
	size_t ndg = 0, neg = 0;
	if (maestro_model_daemon(b->m, dstr) < 0) {
		if ((rc = split_top(b, dstr, &dg, &ndg)) || (rc = split_top(b, estr, &eg, &neg)))
			goto out2;
		if (ndg != neg) {
			rc = mb_err_at(b, en,
				       "peer \"daemons\" has %zu comma-separated groups but "
				       "\"endpoints\" has %zu",
				       ndg, neg);
			goto out2;
		}
	} else {
		if (!(dg = calloc(1, sizeof(*dg))) || !(eg = calloc(1, sizeof(*eg))) ||
		    !(dg[0] = strdup(dstr)) || !(eg[0] = strdup(estr))) {
			rc = NOMEM(b);
			goto out2;
		}
		ndg = neg = 1;
	}
	for (size_t k = 0; k < ndg && !rc; k++) {
		struct ldms_hostlist names, dmns;
		const char *emsg;
		ldms_hostlist_init(&names);
		ldms_hostlist_init(&dmns);
		rc = maestro_expand_names_max(&(struct cy_node){.type = CY_SCALAR, .str = eg[k]},
					      &names, b->opts->max_names, &emsg);
		if (!rc)
			rc = maestro_expand_names_max(
			    &(struct cy_node){.type = CY_SCALAR, .str = dg[k]}, &dmns,
			    b->opts->max_names, &emsg);
		if (rc == -ENOMEM) {
			rc = NOMEM(b);
		} else if (rc) {
			rc = mb_err_at(b, en, "bad hostlist in peer \"%s\" / \"%s\": %s", dg[k],
				       eg[k], emsg);
		} else if (!dmns.count) {
			rc =
			    mb_err_at(b, dn, "peer \"daemons\" \"%s\" expands to no daemon", dg[k]);
		}
		/* upstream's walk: a daemon is reused while a countdown starting at
		 * len(endpoints)/len(daemons) is > 1 */
		double ratio = dmns.count ? (double)names.count / (double)dmns.count : 0,
		       ppd = ratio;
		size_t di = 0;
		for (size_t i = 0; !rc && i < names.count; i++) {
			const char *dmn;
			if (ppd > 1) {
				if (di >= dmns.count)
					goto mismatch;
				dmn = dmns.names[di];
				ppd -= 1;
			} else {
				if (di >= dmns.count)
					goto mismatch;
				dmn = dmns.names[di++];
				ppd = ratio;
			}
			rc = check_peer_endpoint(b, en, names.names[i], dmn);
			if (!rc)
				rc = add_producer(b, g, names.names[i], dmn, dg[k], &pc);
			continue;
		mismatch:
			rc = mb_err_at(b, en,
				       "Mismatch in producer config: Please ensure \"endpoints\" "
				       "is configured to the correct number of ports specified.");
		}
		ldms_hostlist_free(&names);
		ldms_hostlist_free(&dmns);
	}
out2:
	mb_strv_free(dg, ndg);
	mb_strv_free(eg, neg);
out:
	free(pc.reconnect_us);
	free(pc.perm);
	return rc;
}

int mb_build_producers(struct mb *b)
{
	struct cy_node *as = cy_map_get(b->root, "aggregators");
	for (size_t i = 0; cy_is_seq(as) && i < as->n; i++) {
		struct cy_node *agg = as->vals[i], *peers = cy_map_get(agg, "peers");
		if (!peers)
			continue;
		if (!cy_is_seq(peers))
			return mb_err_at(b, peers,
					 "peers spec must be a list of dictionaries, "
					 "specified with \"-\" in the ldms_config yaml file");
		const char *group = cy_str(cy_map_get(agg, "daemons"));
		for (size_t k = 0; k < peers->n; k++) {
			int rc = build_peer(b, group, peers->vals[k]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- updaters (§4.6)
 * ------------------------------------------------------------------------------- */

static int add_regex(struct mb *b, struct maestro_updater *u, const char *r)
{
	char **np = realloc(u->producers, (u->n_prod + 1) * sizeof(*np));
	if (!np)
		return NOMEM(b);
	u->producers = np;
	if (!(np[u->n_prod] = strdup(r)))
		return NOMEM(b);
	u->n_prod++;
	return 0;
}

/* A `producers` value that expands (as a hostlist) to several names becomes one regex per
 * name; otherwise the text is one regex. */
static int updater_producers(struct mb *b, struct maestro_updater *u, const struct cy_node *v)
{
	if (v->type == CY_MAP)
		return mb_err_at(b, v, "\"producers\" must be a regex or a list of regexes");
	if (v->type == CY_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			int rc = updater_producers(b, u, v->vals[i]);
			if (rc)
				return rc;
		}
		return 0;
	}
	struct ldms_hostlist h;
	ldms_hostlist_init(&h);
	int rc = mb_expand(b, v, &h);
	if (rc)
		return rc;
	if (h.count > 1) {
		for (size_t i = 0; i < h.count && !rc; i++)
			rc = add_regex(b, u, h.names[i]);
	} else {
		rc = add_regex(b, u, v->str);
	}
	ldms_hostlist_free(&h);
	return rc;
}

static int build_updater(struct mb *b, struct maestro_updater_group *g, const char *group,
			 struct cy_node *spec)
{
	static const char *const req[] = {"interval", NULL};
	static const char *const known[] = {"interval",	 "offset", "mode", "perm",
					    "producers", "sets",   NULL};
	int rc;
	if ((rc = mb_need_map(b, spec, "an \"updaters\" entry")) ||
	    (rc = mb_required(b, spec, req, "\"updaters\" entry")))
		return rc;
	mb_unknown_keys(b, spec, known, "an \"updaters\" entry");
	struct cy_node *sets = cy_map_get(spec, "sets");
	if (sets && cy_str(sets) && !*cy_str(sets))
		sets = NULL;
	if (sets && !cy_is_seq(sets))
		return mb_err_at(b, sets,
				 "Error parsing YAML configuration in \"updaters\". \"sets\" "
				 "must be a list of dictionaries");
	for (size_t i = 0; sets && i < sets->n; i++) {
		static const char *const sreq[] = {"regex", "field", NULL};
		static const char *const sknown[] = {"regex", "field", NULL};
		struct cy_node *s = sets->vals[i];
		const char *x;
		if ((rc = mb_need_map(b, s, "a \"sets\" entry")) ||
		    (rc = mb_required(b, s, sreq, "\"sets\" entry of an updater")) ||
		    (rc = mb_opt_str(b, s, "regex", &x)) || (rc = mb_opt_str(b, s, "field", &x)))
			return rc;
		mb_unknown_keys(b, s, sknown, "a \"sets\" entry");
	}
	struct maestro_updater *nu = realloc(g->u, (g->n + 1) * sizeof(*nu));
	if (!nu)
		return NOMEM(b);
	g->u = nu;
	struct maestro_updater *u = &g->u[g->n++];
	memset(u, 0, sizeof(*u));
	char name[32];
	snprintf(name, sizeof(name), "updtr_%d", b->updtr_cnt++);
	if (!(u->name = mb_xstrdup(b, name)) || !(u->group = mb_xstrdup(b, group)))
		return -ENOMEM;
	if ((rc = mb_opt_perm(b, spec, &u->perm)))
		return rc;
	struct cy_node *pr = cy_map_get(spec, "producers");
	if (pr && cy_str(pr) && !*cy_str(pr))
		pr = NULL;
	if (pr ? (rc = updater_producers(b, u, pr)) : (rc = add_regex(b, u, ".*")))
		return rc;
	if ((rc = mb_interval(b, cy_map_get(spec, "interval"), &u->interval_us)) ||
	    (rc = mb_opt_interval(b, spec, "offset", &u->offset_us)))
		return rc;
	const char *mode;
	if ((rc = mb_opt_str(b, spec, "mode", &mode)))
		return rc;
	if (mode && strcmp(mode, "pull") && strcmp(mode, "push") && strcmp(mode, "onchange") &&
	    strcmp(mode, "auto") && strcmp(mode, "auto_interval"))
		return mb_err_at(b, cy_map_get(spec, "mode"),
				 "updater mode \"%s\" is not one of pull, push, onchange, auto, "
				 "auto_interval",
				 mode);
	if (!(u->mode = mb_xstrdup(b, mode ? mode : "pull")))
		return -ENOMEM;
	u->sets = cy_ref(sets);
	return 0;
}

int mb_build_updaters(struct mb *b)
{
	struct cy_node *as = cy_map_get(b->root, "aggregators");
	struct maestro_model *m = b->m;
	for (size_t i = 0; cy_is_seq(as) && i < as->n; i++) {
		struct cy_node *agg = as->vals[i];
		const char *group = cy_str(cy_map_get(agg, "daemons"));
		struct cy_node *lists[2] = {cy_map_get(agg, "peers"),
					    cy_map_get(agg, "prdcr_listen")};
		for (int l = 0; l < 2; l++) {
			for (size_t k = 0; cy_is_seq(lists[l]) && k < lists[l]->n; k++) {
				struct cy_node *ups = cy_map_get(lists[l]->vals[k], "updaters");
				if (!ups)
					continue;
				if (!cy_is_seq(ups))
					return mb_err_at(b, ups,
							 "\"updaters\" spec must be a list of "
							 "dictionaries");
				struct maestro_updater_group *g = maestro_model_updaters(m, group);
				if (!g && ups->n) {
					struct maestro_updater_group *ng =
					    realloc(m->ugrp, (m->n_ugrp + 1) * sizeof(*ng));
					if (!ng)
						return NOMEM(b);
					m->ugrp = ng;
					g = &m->ugrp[m->n_ugrp];
					memset(g, 0, sizeof(*g));
					if (!(g->group = mb_xstrdup(b, group)))
						return -ENOMEM;
					m->n_ugrp++;
				}
				for (size_t u = 0; u < ups->n; u++) {
					int rc = build_updater(b, g, group, ups->vals[u]);
					if (rc)
						return rc;
				}
			}
		}
	}
	return 0;
}
