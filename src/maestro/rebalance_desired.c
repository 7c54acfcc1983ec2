/* The state maestro wants each daemon to have, computed from the cluster model and the
 * current assignment of producers (or sets) to aggregators (rebalance.h, maestro.md
 * §10.4 with ldms-c's corrections from §13). Pure: the same inputs give the same state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rebalance.h"

struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *fmt, const char *k, const char *v)
{
	if (b->err)
		return;
	int need = snprintf(NULL, 0, fmt, k, v ? v : "");
	if (need < 0) {
		b->err = -EINVAL;
		return;
	}
	size_t sep = b->len ? 1 : 0;
	if (b->len + sep + (size_t)need + 1 > b->cap) {
		size_t nc = (b->len + sep + (size_t)need + 1) * 2;
		char *n = realloc(b->s, nc);
		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->s = n;
		b->cap = nc;
	}
	if (sep)
		b->s[b->len++] = ' ';
	snprintf(b->s + b->len, b->cap - b->len, fmt, k, v ? v : "");
	b->len += (size_t)need;
}

/* one key of a config dictionary: scalar -> k=v, list -> k=item per item */
static void cfg_key(struct sbuf *b, const char *k, const struct cy_node *v)
{
	if (!v)
		return;
	if (v->type == CY_SCALAR) {
		sb_add(b, "%s=%s", k, v->str);
	} else if (v->type == CY_SEQ) {
		for (size_t i = 0; i < v->n; i++)
			if (v->vals[i]->type == CY_SCALAR)
				sb_add(b, "%s=%s", k, v->vals[i]->str);
	}
}

/* A config entry as the `config` request's text. defaults: sampler defaults first
 * (producer, instance), overridden in place by the entry's own keys. Upstream's monitor
 * also adds component_id=${LDMS_COMPONENT_ID}, which samplers reject when the variable
 * is not set, so ldms-c leaves component_id to the YAML. */
static char *render_cfg(const struct cy_node *e, const char *daemon, const char *inst, int defaults)
{
	if (e->type == CY_SCALAR)
		return strdup(e->str);
	if (e->type != CY_MAP)
		return NULL;
	struct sbuf b = {0};
	char instname[512];
	if (defaults) {
		snprintf(instname, sizeof(instname), "%s/%s", daemon, inst);
		const char *dk[2] = {"producer", "instance"};
		const char *dv[2] = {daemon, instname};
		for (int i = 0; i < 2; i++) {
			const struct cy_node *v = cy_map_get(e, dk[i]);
			if (v)
				cfg_key(&b, dk[i], v);
			else
				sb_add(&b, "%s=%s", dk[i], dv[i]);
		}
	}
	for (size_t i = 0; i < e->n; i++) {
		const char *k = e->keys[i]->str;
		if (!k || !strcmp(k, "name") || !strcmp(k, "interval"))
			continue;
		if (defaults && (!strcmp(k, "producer") || !strcmp(k, "instance")))
			continue;
		cfg_key(&b, k, e->vals[i]);
	}
	if (b.err) {
		free(b.s);
		return NULL;
	}
	return b.s ? b.s : strdup("");
}

static int plugin_obj(struct rb_state *out, enum rb_kind kind, const struct maestro_plugin *pl,
		      const char *daemon)
{
	struct rb_obj *o = rb_state_put(out, kind, pl->inst);
	if (!o || rb_obj_set_attr(o, "plugin", pl->name))
		return -ENOMEM;
	const struct cy_node *cfg = pl->config;
	for (size_t i = 0; cfg && cfg->type == CY_SEQ && i < cfg->n; i++) {
		char *s = render_cfg(cfg->vals[i], daemon, pl->inst, kind == RB_SMPLR);
		int rc = s ? rb_obj_add_item(o, s) : -ENOMEM;
		free(s);
		if (rc)
			return rc;
	}
	if (kind == RB_SMPLR) {
		o->run = 1;
		if (rb_obj_set_start(o, "interval", pl->interval_us ? pl->interval_us : "1000000"))
			return -ENOMEM;
		if (pl->offset_us && rb_obj_set_start(o, "offset", pl->offset_us))
			return -ENOMEM;
	}
	return 0;
}

/* store policies remember their plugin's set-up so a plugin change re-creates them */
static char *plugin_sig(const struct rb_obj *pi)
{
	struct sbuf b = {0};
	sb_add(&b, "%s%s", rb_obj_attr(pi, "plugin"), NULL);
	for (size_t i = 0; i < pi->n_l; i++)
		sb_add(&b, "|%s%s", pi->l[i], NULL);
	if (b.err) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static int auth_obj(struct rb_state *out, const struct maestro_auth *a)
{
	if (!a->name || !a->name[0] || rb_state_find(out, RB_AUTH, a->name))
		return 0;
	struct rb_obj *o = rb_state_put(out, RB_AUTH, a->name);
	if (!o || rb_obj_set_attr(o, "plugin", a->plugin ? a->plugin : a->name))
		return -ENOMEM;
	if (a->conf && rb_obj_set_attr(o, "conf", a->conf))
		return -ENOMEM;
	return 0;
}

static int opt_attr(struct rb_obj *o, const char *k, const char *v)
{
	return v && v[0] ? rb_obj_set_attr(o, k, v) : 0;
}

static int opt_node(struct rb_obj *o, const char *k, const struct cy_node *n)
{
	return n && n->type == CY_SCALAR ? opt_attr(o, k, n->str) : 0;
}

long rb_pgrp_agrp(const struct maestro_model *m, size_t g)
{
	for (size_t k = 0; k < m->n_agrp; k++)
		if (!strcmp(m->agrp[k].group, m->pgrp[g].group))
			return (long)k;
	return -1;
}

int rb_assign_new(const struct maestro_model *m, struct rb_assign *a)
{
	memset(a, 0, sizeof(*a));
	a->n_grp = m->n_pgrp;
	if (!m->n_pgrp)
		return 0;
	a->prdcr = calloc(m->n_pgrp, sizeof(*a->prdcr));
	a->sets = calloc(m->n_pgrp, sizeof(*a->sets));
	if (!a->prdcr || !a->sets)
		goto nomem;
	for (size_t g = 0; g < m->n_pgrp; g++) {
		size_t n = m->pgrp[g].n;
		if (!(a->prdcr[g] = malloc((n ? n : 1) * sizeof(long))))
			goto nomem;
		for (size_t p = 0; p < n; p++)
			a->prdcr[g][p] = -1;
	}
	return 0;
nomem:
	rb_assign_free(a);
	return -ENOMEM;
}

static void setassign_free(struct rb_setassign *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->name[i]);
	free(s->name);
	free(s->prdcr);
	free(s->agg);
	free(s->weight);
	free(s);
}

void rb_assign_free(struct rb_assign *a)
{
	for (size_t g = 0; g < a->n_grp; g++) {
		if (a->prdcr)
			free(a->prdcr[g]);
		if (a->sets)
			setassign_free(a->sets[g]);
	}
	free(a->prdcr);
	free(a->sets);
	memset(a, 0, sizeof(*a));
}

static int endpoints(const struct maestro_daemon *dm, struct rb_state *out)
{
	/* the endpoint maestro talks through already listens; the others are sent */
	const char *comm_port = NULL;
	for (size_t e = 0; e < dm->n_ep; e++)
		if (dm->ep[e].maestro_comm) {
			comm_port = dm->ep[e].port;
			break;
		}
	for (size_t e = 0; e < dm->n_ep; e++) {
		const struct maestro_endpoint *ep = &dm->ep[e];
		if (ep->maestro_comm || (comm_port && !strcmp(ep->port, comm_port)) ||
		    rb_state_find(out, RB_LISTEN, ep->port))
			continue;
		int rc = auth_obj(out, &ep->auth);
		if (rc)
			return rc;
		struct rb_obj *o = rb_state_put(out, RB_LISTEN, ep->port);
		if (!o || rb_obj_set_attr(o, "xprt", ep->xprt ? ep->xprt : "sock") ||
		    rb_obj_set_attr(o, "port", ep->port) || opt_attr(o, "auth", ep->auth.name))
			return -ENOMEM;
		const char *host =
		    ep->bind_all && !strcmp(ep->bind_all, "true") ? "0.0.0.0" : ep->host;
		if (opt_attr(o, "host", host))
			return -ENOMEM;
	}
	return 0;
}

static int advertisers(const struct maestro_model *m, const struct maestro_daemon *dm,
		       struct rb_state *out)
{
	for (size_t k = 0; k < m->n_adv; k++) {
		const struct maestro_advertiser *ad = &m->adv[k];
		long i = ldms_hostlist_find_sorted(&ad->ad_list, dm->name);
		if (i < 0 || (size_t)i >= ad->names_x.count)
			continue;
		int rc = auth_obj(out, &ad->auth);
		if (rc)
			return rc;
		for (size_t h = 0; h < ad->hosts_x.count; h++) {
			char name[512];
			snprintf(name, sizeof(name), "%s-%s", ad->names_x.names[i],
				 ad->hosts_x.names[h]);
			struct rb_obj *o = rb_state_put(out, RB_ADV, name);
			if (!o || rb_obj_set_attr(o, "host", ad->hosts_x.names[h]) ||
			    opt_node(o, "xprt", ad->xprt) || opt_node(o, "port", ad->port) ||
			    opt_node(o, "reconnect", ad->reconnect) ||
			    opt_attr(o, "auth", ad->auth.name) || opt_attr(o, "perm", ad->perm) ||
			    opt_node(o, "rail", ad->rail) || opt_node(o, "quota", ad->quota) ||
			    opt_node(o, "rx_rate", ad->rx_rate))
				return -ENOMEM;
			o->run = 1;
		}
	}
	return 0;
}

static int subscriptions(const struct cy_node *subs, struct rb_state *out)
{
	for (size_t i = 0; subs && subs->type == CY_SEQ && i < subs->n; i++) {
		const struct cy_node *s = subs->vals[i];
		const char *re = cy_str(cy_map_get(s, "regex"));
		const char *st = cy_str(cy_map_get(s, "stream"));
		const char *tag = cy_str(cy_map_get(s, "message_tag"));
		if (!tag)
			tag = cy_str(cy_map_get(s, "message_channel"));
		const char *rx = cy_str(cy_map_get(s, "rx_rate"));
		if (!re)
			re = ".*";
		/* one subscription per stream and per tag given */
		for (int t = 0; t < 2; t++) {
			const char *v = t ? tag : st;
			if (!v)
				continue;
			char key[1024];
			snprintf(key, sizeof(key), "%s %s=%s", re, t ? "message_tag" : "stream", v);
			struct rb_obj *o = rb_state_put(out, RB_SUB, key);
			if (!o || rb_obj_set_attr(o, "regex", re) ||
			    rb_obj_set_attr(o, t ? "message_tag" : "stream", v) ||
			    rb_obj_set_attr(o, "rx_rate", rx ? rx : "-1"))
				return -ENOMEM;
		}
	}
	return 0;
}

static int producers(const struct maestro_model *m, const struct rb_assign *a, size_t g, long me,
		     struct rb_state *out)
{
	const struct maestro_producer_group *pg = &m->pgrp[g];
	const struct rb_setassign *sa = a && a->sets ? a->sets[g] : NULL;
	for (size_t k = 0; k < pg->n; k++) {
		const struct maestro_producer *p = &pg->p[k];
		if (p->type && !strcmp(p->type, "advertised"))
			continue; /* created by the producer listener */
		const struct maestro_daemon *pd =
		    p->daemon_idx >= 0 ? &m->daemons[p->daemon_idx] : NULL;
		const struct maestro_endpoint *ep =
		    pd && p->ep_idx >= 0 ? &pd->ep[p->ep_idx] : NULL;
		if (!pd || !ep)
			continue; /* the model builder reports these */
		int rc = auth_obj(out, &ep->auth);
		if (rc)
			return rc;
		struct rb_obj *o = rb_state_put(out, RB_PRDCR, p->name);
		if (!o || rb_obj_set_attr(o, "host", ep->host ? ep->host : pd->addr) ||
		    rb_obj_set_attr(o, "port", ep->port) ||
		    rb_obj_set_attr(o, "xprt", ep->xprt ? ep->xprt : "sock") ||
		    rb_obj_set_attr(o, "type", p->type ? p->type : "active") ||
		    opt_attr(o, "reconnect", p->reconnect_us) ||
		    opt_attr(o, "auth", ep->auth.name) || opt_attr(o, "perm", p->perm) ||
		    opt_attr(o, "rail", p->rail) || opt_attr(o, "quota", p->quota) ||
		    opt_attr(o, "rx_rate", p->rx_rate))
			return -ENOMEM;
		if (sa) {
			struct sbuf sets = {0};
			for (size_t s = 0; s < sa->n; s++)
				if (sa->prdcr[s] == k && sa->agg[s] == me)
					sb_add(&sets, "%s%s", sa->name[s], NULL);
			if (sets.err) {
				free(sets.s);
				return -ENOMEM;
			}
			o->run = sets.len > 0;
			/* sb_add separates with spaces; set names have none, '\n' is safer */
			for (size_t i = 0; i < sets.len; i++)
				if (sets.s[i] == ' ')
					sets.s[i] = '\n';
			rc = o->run ? rb_obj_set_attr(o, RB_SETS_ATTR, sets.s) : 0;
			free(sets.s);
			if (rc)
				return rc;
		} else {
			o->run = me >= 0 && a && a->prdcr[g][k] == me;
		}
	}
	return 0;
}

static int updaters(const struct maestro_model *m, const struct rb_assign *a, const char *group,
		    long g, const char *agg, long me, struct rb_state *out)
{
	const struct maestro_updater_group *ug = maestro_model_updaters(m, group);
	const struct rb_setassign *sa = a && a->sets && g >= 0 ? a->sets[g] : NULL;
	for (size_t k = 0; ug && k < ug->n; k++) {
		const struct maestro_updater *u = &ug->u[k];
		char name[512], item[1024];
		snprintf(name, sizeof(name), "%s_%s", u->name, agg);
		struct rb_obj *o = rb_state_put(out, RB_UPDTR, name);
		if (!o || rb_obj_set_attr(o, "interval", u->interval_us) ||
		    opt_attr(o, "offset", u->offset_us))
			return -ENOMEM;
		const char *mode = u->mode ? u->mode : "pull";
		int rc = 0;
		if (!strcmp(mode, "push"))
			rc = rb_obj_set_attr(o, "push", "true");
		else if (!strcmp(mode, "onchange"))
			rc = rb_obj_set_attr(o, "push", "onchange");
		else if (!strcmp(mode, "auto") || !strcmp(mode, "auto_interval"))
			rc = rb_obj_set_attr(o, "auto_interval", "true");
		if (rc || opt_attr(o, "perm", u->perm))
			return -ENOMEM;
		for (size_t r = 0; r < u->n_prod; r++) {
			snprintf(item, sizeof(item), "regex=%s", u->producers[r]);
			if (rb_obj_add_item(o, item))
				return -ENOMEM;
		}
		if (sa) {
			for (size_t s = 0; s < sa->n; s++) {
				if (sa->agg[s] != me)
					continue;
				char *re = rb_regex_exact(sa->name[s]);
				if (!re)
					return -ENOMEM;
				snprintf(item, sizeof(item), "regex=%s match=inst", re);
				free(re);
				if (rb_obj_add_match(o, item))
					return -ENOMEM;
			}
		} else {
			const struct cy_node *sets = u->sets;
			for (size_t s = 0; sets && sets->type == CY_SEQ && s < sets->n; s++) {
				const char *re = cy_str(cy_map_get(sets->vals[s], "regex"));
				const char *f = cy_str(cy_map_get(sets->vals[s], "field"));
				if (!re)
					continue;
				snprintf(item, sizeof(item), "regex=%s match=%s", re,
					 f ? f : "inst");
				if (rb_obj_add_match(o, item))
					return -ENOMEM;
			}
		}
		o->run = 1;
	}
	return 0;
}

static int stores(const struct maestro_model *m, const struct maestro_daemon *dm,
		  struct rb_state *out)
{
	for (size_t i = 0; i < dm->n_stgrp; i++) {
		const struct maestro_store_group *sg = &m->stgrp[dm->stgrp[i]];
		for (size_t k = 0; k < sg->n; k++) {
			const struct maestro_store *st = &sg->s[k];
			long pi = maestro_model_plugin(m, st->plugin);
			if (pi < 0)
				continue;
			int rc;
			if (!rb_state_find(out, RB_STPI, st->plugin) &&
			    (rc = plugin_obj(out, RB_STPI, &m->plugins[pi], dm->name)))
				return rc;
			char *sig = plugin_sig(rb_state_find(out, RB_STPI, st->plugin));
			struct rb_obj *o = rb_state_put(out, RB_STRGP, st->name);
			rc = !sig || !o || rb_obj_set_attr(o, "plugin", st->plugin) ||
			     opt_attr(o, "container", st->container) ||
			     opt_attr(o, "schema", st->schema) || opt_attr(o, "regex", st->regex) ||
			     opt_attr(o, "decomposition", st->decomposition) ||
			     opt_attr(o, "flush", st->flush_us) || opt_attr(o, "perm", st->perm) ||
			     rb_obj_set_attr(o, "_plugin", sig) || rb_obj_add_item(o, "regex=.*");
			free(sig);
			if (rc)
				return -ENOMEM;
			o->run = 1;
		}
	}
	return 0;
}

static int listeners(const struct maestro_listener_group *lg, struct rb_state *out)
{
	for (size_t k = 0; lg && k < lg->n; k++) {
		const struct maestro_listener *l = &lg->l[k];
		struct rb_obj *o = rb_state_put(out, RB_PLISTEN, l->name);
		if (!o || opt_attr(o, "disable_start", l->disable_start) ||
		    opt_attr(o, "regex", l->regex) || opt_attr(o, "ip", l->ip) ||
		    opt_attr(o, "quota", l->quota) || opt_attr(o, "rx_rate", l->rx_rate) ||
		    opt_attr(o, "type", l->type) ||
		    opt_attr(o, "advertiser_xprt", l->advertiser_xprt) ||
		    opt_attr(o, "advertiser_port", l->advertiser_port) ||
		    opt_attr(o, "advertiser_auth", l->advertiser_auth) ||
		    opt_attr(o, "rail", l->rail) || opt_attr(o, "reconnect", l->reconnect_us))
			return -ENOMEM;
		o->run = 1;
	}
	return 0;
}

int rb_desired(const struct maestro_model *m, const struct rb_assign *a, size_t d,
	       struct rb_state *out)
{
	rb_state_init(out);
	if (d >= m->n_daemons)
		return -EINVAL;
	const struct maestro_daemon *dm = &m->daemons[d];
	int rc = 0;
	if (dm->msg_enable && dm->msg_enable[0] && !rb_state_put(out, RB_ENABLE, "msg_enable"))
		goto nomem;
	if (dm->stream_enable && dm->stream_enable[0] &&
	    !rb_state_put(out, RB_ENABLE, "stream_enable"))
		goto nomem;
	if ((rc = endpoints(dm, out)))
		goto fail;
	for (size_t i = 0; i < dm->n_sgrp; i++) {
		const struct maestro_sampler_group *sg = &m->sgrp[dm->sgrp[i]];
		for (size_t k = 0; k < sg->n_plugins; k++) {
			long pi = maestro_model_plugin(m, sg->plugins[k]);
			if (pi >= 0 && (rc = plugin_obj(out, RB_SMPLR, &m->plugins[pi], dm->name)))
				goto fail;
		}
	}
	for (size_t i = 0; i < dm->n_agrp; i++) {
		const struct maestro_agg_group *ag = &m->agrp[dm->agrp[i]];
		long me = ldms_hostlist_find_sorted(&ag->members, dm->name);
		long pg = -1;
		for (size_t g = 0; g < m->n_pgrp && pg < 0; g++)
			if (!strcmp(m->pgrp[g].group, ag->group))
				pg = (long)g;
		if ((pg >= 0 && (rc = producers(m, a, (size_t)pg, me, out))) ||
		    (rc = updaters(m, a, ag->group, pg, dm->name, me, out)))
			goto fail;
		for (size_t k = 0; k < ag->n; k++)
			if (!strcmp(ag->m[k].name, dm->name) &&
			    (rc = subscriptions(ag->m[k].subscribe, out)))
				goto fail;
		if ((rc = listeners(maestro_model_listeners(m, ag->group), out)))
			goto fail;
	}
	if ((rc = stores(m, dm, out)) || (rc = advertisers(m, dm, out)))
		goto fail;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	rb_state_free(out);
	return rc;
}
