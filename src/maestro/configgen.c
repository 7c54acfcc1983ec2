/* ldmsd v4 configuration text per daemon (maestro.md §9.2-§9.6): env/options, sampler part
 * (listeners, advertisers, plugins) and aggregator part (listeners, producer share, producer
 * listeners, advertisers, subscriptions, plugins, updaters, storage policies). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balance.h"
#include "configgen.h"

struct configgen {
	const struct maestro_model *m;
	struct configgen_opts o;
	long **assign;	/* per producer group: member index per producer */
	size_t **order; /* per producer group: producers in numeric order */
	long *agrp_of;	/* per producer group: its aggregator group */
};

/* ---- text buffer ------------------------------------------------------------------------------
 */

struct sb {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_cat(struct sb *b, ...)
{
	va_list ap;
	va_start(ap, b);
	const char *s;
	while ((s = va_arg(ap, const char *)))
		sb_str(b, s);
	va_end(ap);
}

/* write_opt_attr(): " key=value" when the value exists */
static void sb_opt(struct sb *b, const char *key, const char *val)
{
	if (val)
		sb_cat(b, " ", key, "=", val, NULL);
}

static void sb_optn(struct sb *b, const char *key, const struct cy_node *n)
{
	sb_opt(b, key, cy_str(n));
}

/* ---- the per-daemon `seen` set (auth names and ports; upstream uses one dict for both and
 * also records a missing auth as None) ------------------------------------------------------------
 */

struct seen {
	size_t n, cap;
	struct {
		int kind;      /* 0 auth, 1 port */
		const char *s; /* NULL = upstream's None */
	} * v;
	int compat;
	int err;
};

static int seen_test_add(struct seen *s, int kind, const char *str)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->compat && s->v[i].kind != kind)
			continue;
		if ((!str && !s->v[i].s) || (str && s->v[i].s && strcmp(str, s->v[i].s) == 0))
			return 1;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		void *nv = realloc(s->v, nc * sizeof(*s->v));
		if (!nv) {
			s->err = -ENOMEM;
			return 1;
		}
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n].kind = kind;
	s->v[s->n].s = str;
	s->n++;
	return 0;
}

/* ---- dict rendering (parse_to_cfg_str, §9.4)
 * ------------------------------------------------------ */

struct kvpair {
	const char *k;
	const struct cy_node *v;
};

static void render_pairs(struct sb *b, const struct kvpair *p, size_t n, int compat)
{
	if (compat) {
		/* upstream's separator logic: a space before each key and another before each
		 * list item once the text is longer than one character */
		size_t start = b->len;
		for (size_t i = 0; i < n; i++) {
			if (b->len - start > 1)
				sb_str(b, " ");
			if (p[i].v->type == CY_SEQ) {
				for (size_t j = 0; j < p[i].v->n; j++) {
					if (b->len - start > 1)
						sb_str(b, " ");
					sb_cat(b, p[i].k, "=", p[i].v->vals[j]->str, NULL);
				}
				continue;
			}
			sb_cat(b, p[i].k, "=", p[i].v->str, NULL);
		}
		return;
	}
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (p[i].v->type == CY_SEQ) {
			for (size_t j = 0; j < p[i].v->n; j++) {
				sb_cat(b, first ? "" : " ", p[i].k, "=", p[i].v->vals[j]->str,
				       NULL);
				first = 0;
			}
			continue;
		}
		sb_cat(b, first ? "" : " ", p[i].k, "=", p[i].v->str, NULL);
		first = 0;
	}
}

/* One `config` line per entry: dicts rendered (with producer/instance defaults on the first
 * dict when dname is given), strings verbatim. */
static void config_lines(struct sb *b, const char *inst, const struct cy_node *cfg,
			 const char *dname, int compat)
{
	int first = 1;
	for (size_t i = 0; cfg && i < cfg->n; i++) {
		const struct cy_node *c = cfg->vals[i];
		sb_cat(b, "config name=", inst, " ", NULL);
		if (c->type != CY_MAP) {
			sb_str(b, c->str);
			sb_str(b, "\n");
			continue;
		}
		struct kvpair *p = malloc((c->n + 2) * sizeof(*p));
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		size_t n = 0;
		for (size_t k = 0; k < c->n; k++) {
			p[n].k = c->keys[k]->str;
			p[n++].v = c->vals[k];
		}
		struct cy_node prod = {.type = CY_SCALAR}, instn = {.type = CY_SCALAR};
		char *iv = NULL;
		if (dname && first) {
			first = 0;
			if (!cy_map_get(c, "producer")) {
				prod.str = (char *)dname;
				p[n].k = "producer";
				p[n++].v = &prod;
			}
			if (!cy_map_get(c, "instance")) {
				size_t l = strlen(dname) + strlen(inst) + 2;
				if (!(iv = malloc(l))) {
					free(p);
					b->err = -ENOMEM;
					return;
				}
				snprintf(iv, l, "%s/%s", dname, inst);
				instn.str = iv;
				p[n].k = "instance";
				p[n++].v = &instn;
			}
		}
		render_pairs(b, p, n, compat);
		sb_str(b, "\n");
		free(iv);
		free(p);
	}
}

/* ---- sections
 * ------------------------------------------------------------------------------------- */

static void gen_env_opts(struct sb *b, const struct maestro_daemon *d)
{
	const struct cy_node *env = d->environment, *cli = d->cli_opt;
	for (size_t i = 0; cy_is_map(env) && i < env->n; i++)
		sb_cat(b, "env ", env->keys[i]->str, "=", env->vals[i]->str, "\n", NULL);
	for (size_t i = 0; cy_is_map(cli) && i < cli->n; i++) {
		const struct cy_node *v = cli->vals[i];
		if (v->type != CY_MAP) {
			sb_cat(b, "option --", cli->keys[i]->str, " ", v->str, "\n", NULL);
			continue;
		}
		sb_str(b, cli->keys[i]->str);
		for (size_t k = 0; k < v->n; k++) {
			const char *val = v->vals[k]->str;
			char *perm = NULL, msg[200];
			if (strcmp(v->keys[k]->str, "perm") == 0 &&
			    maestro_perm(val, &perm, msg, sizeof(msg)) == 0)
				val = perm;
			sb_cat(b, " ", v->keys[k]->str, "=", val, NULL);
			free(perm);
		}
		sb_str(b, "\n");
	}
	if (d->stream_enable && *d->stream_enable)
		sb_str(b, "stream_enable\n");
	if (d->msg_enable && *d->msg_enable)
		sb_str(b, "msg_enable\n");
}

static void gen_listeners(struct sb *b, const struct maestro_daemon *d, struct seen *seen)
{
	for (size_t i = 0; i < d->n_ep; i++) {
		const struct maestro_endpoint *e = &d->ep[i];
		const struct maestro_auth *a = &e->auth;
		if (a->name && !seen_test_add(seen, 0, a->name)) {
			sb_cat(b, "auth_add name=", a->name, NULL);
			sb_opt(b, "plugin", a->plugin);
			sb_opt(b, "conf", a->conf);
			sb_str(b, "\n");
		}
		if (seen_test_add(seen, 1, e->port))
			continue;
		sb_cat(b, "listen xprt=", e->xprt, " port=", e->port, NULL);
		sb_opt(b, "auth", a->name);
		sb_opt(b, "conf", a->name ? a->conf : NULL);
		const char *host = e->bind_all && strcmp(e->bind_all, "true") == 0 ? "0.0.0.0"
				   : e->host					   ? e->host
										   : d->addr;
		sb_cat(b, " host=", host, "\n", NULL);
	}
}

static void gen_advertisers(struct sb *b, const struct maestro_model *m, const char *group,
			    const struct maestro_daemon *d, struct seen *seen, int compat)
{
	const struct maestro_advertiser *a = maestro_model_advertiser(m, group);
	if (!a)
		return;
	for (size_t i = 0; i < a->hosts_x.count; i++) {
		const char *h = a->hosts_x.names[i];
		if ((a->auth.name || compat) && !seen_test_add(seen, 0, a->auth.name)) {
			sb_cat(b, "auth_add name=", a->auth.name ? a->auth.name : "None", NULL);
			sb_opt(b, "plugin", a->auth.plugin);
			sb_opt(b, "conf", a->auth.conf);
			sb_str(b, "\n");
		}
		sb_cat(b, "advertiser_add name=", d->name, "-", h, " host=", h,
		       " xprt=", cy_str(a->xprt), " port=", cy_str(a->port),
		       " reconnect=", cy_str(a->reconnect), NULL);
		sb_opt(b, "auth", a->auth.name);
		sb_opt(b, "perm", a->perm);
		sb_optn(b, "rail", a->rail);
		sb_optn(b, "quota", a->quota);
		sb_optn(b, "rx_rate", a->rx_rate);
		sb_cat(b, "\nadvertiser_start name=", d->name, "-", h, "\n", NULL);
	}
}

static void gen_sampler_plugins(struct sb *b, const struct maestro_model *m,
				const struct maestro_sampler_group *g,
				const struct maestro_daemon *d, int compat)
{
	for (size_t i = 0; i < g->n_plugins; i++) {
		long pi = maestro_model_plugin(m, g->plugins[i]);
		if (pi < 0)
			continue;
		const struct maestro_plugin *p = &m->plugins[pi];
		sb_cat(b, "load name=", p->inst, " plugin=", p->name, "\n", NULL);
		config_lines(b, p->inst, p->config, d->name, compat);
		sb_cat(b, "start name=", p->inst,
		       " interval=", p->interval_us ? p->interval_us : "1000000", NULL);
		sb_opt(b, "offset", p->offset_us);
		sb_str(b, "\n");
	}
}

static int gen_producers(struct configgen *cg, struct sb *b, size_t ag,
			 const struct maestro_daemon *d, struct seen *seen)
{
	const struct maestro_model *m = cg->m;
	const struct maestro_agg_group *g = &m->agrp[ag];
	const struct maestro_producer_group *pg = NULL;
	size_t gi = 0;
	for (; gi < m->n_pgrp; gi++)
		if (cg->agrp_of[gi] == (long)ag) {
			pg = &m->pgrp[gi];
			break;
		}
	long k = ldms_hostlist_find_sorted(&g->members, d->name);
	if (!pg || k < 0)
		return 0;
	int compat = cg->o.upstream_compat;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < pg->n; j++) {
			size_t pidx = cg->order[gi][j];
			if (cg->assign[gi][pidx] != k)
				continue;
			const struct maestro_producer *p = &pg->p[pidx];
			if (p->daemon_idx < 0 || p->ep_idx < 0)
				continue;
			const struct maestro_daemon *pd = &m->daemons[p->daemon_idx];
			const struct maestro_endpoint *e = &pd->ep[p->ep_idx];
			const struct maestro_auth *a = &e->auth;
			if (pass == 0) {
				if ((a->name || compat) && !seen_test_add(seen, 0, a->name)) {
					const char *nm = a->name ? a->name : "None";
					sb_cat(b, "auth_add name=", nm,
					       " plugin=", a->plugin ? a->plugin : nm, NULL);
					sb_opt(b, "conf", a->conf);
					sb_str(b, "\n");
				}
				continue;
			}
			sb_cat(b, "prdcr_add name=", p->name,
			       " host=", e->host ? e->host : pd->addr, " port=", e->port,
			       " xprt=", e->xprt, " type=", p->type, " reconnect=", p->reconnect_us,
			       NULL);
			sb_opt(b, "cache_ip", p->cache_ip);
			sb_opt(b, "perm", p->perm);
			sb_opt(b, "auth", a->name);
			if (!compat) {
				sb_opt(b, "rail", p->rail);
				sb_opt(b, "rx_rate", p->rx_rate);
				sb_opt(b, "quota", p->quota);
			}
			sb_cat(b, "\nprdcr_start name=", p->name, "\n", NULL);
		}
	}
	return 0;
}

static void gen_prdcr_listeners(struct sb *b, const struct maestro_model *m, const char *group)
{
	const struct maestro_listener_group *g = maestro_model_listeners(m, group);
	for (size_t i = 0; g && i < g->n; i++) {
		const struct maestro_listener *l = &g->l[i];
		sb_cat(b, "prdcr_listen_add name=", l->name, NULL);
		sb_opt(b, "disable_start", l->disable_start);
		sb_opt(b, "regex", l->regex);
		sb_opt(b, "ip", l->ip);
		sb_opt(b, "quota", l->quota);
		sb_opt(b, "rx_rate", l->rx_rate);
		sb_opt(b, "type", l->type);
		sb_opt(b, "advertiser_xprt", l->advertiser_xprt);
		sb_opt(b, "advertiser_port", l->advertiser_port);
		sb_opt(b, "advertiser_auth", l->advertiser_auth);
		sb_opt(b, "rail", l->rail);
		sb_opt(b, "reconnect", l->reconnect_us);
		sb_cat(b, "\nprdcr_listen_start name=", l->name, "\n", NULL);
	}
}

static void gen_subscribe_plugins(struct sb *b, const struct maestro_model *m,
				  const struct maestro_agg_member *am, int compat)
{
	const struct cy_node *sub = am->subscribe;
	for (size_t i = 0; cy_is_seq(sub) && i < sub->n; i++) {
		const struct cy_node *s = sub->vals[i];
		const char *regex = cy_str(cy_map_get(s, "regex"));
		sb_str(b, "prdcr_subscribe ");
		for (size_t k = 0; k < s->n; k++)
			if (strcmp(s->keys[k]->str, "regex") != 0)
				sb_cat(b, s->keys[k]->str, "=", s->vals[k]->str, " ", NULL);
		sb_cat(b, "regex=", regex ? regex : ".*", "\n", NULL);
	}
	const struct cy_node *pl = am->plugins;
	for (size_t i = 0; cy_is_seq(pl) && i < pl->n; i++) {
		long pi = maestro_model_plugin(m, cy_str(pl->vals[i]));
		if (pi < 0)
			continue;
		const struct maestro_plugin *p = &m->plugins[pi];
		sb_cat(b, "load name=", p->inst, " plugin=", p->name, "\n", NULL);
		config_lines(b, p->inst, p->config, NULL, compat);
	}
}

static void gen_updaters(struct sb *b, const struct maestro_model *m, const char *group, int compat)
{
	const struct maestro_updater_group *g = maestro_model_updaters(m, group);
	for (size_t i = 0; g && i < g->n; i++) {
		const struct maestro_updater *u = &g->u[i];
		sb_cat(b, "updtr_add name=", u->name, NULL);
		if (strcmp(u->mode, "push") == 0)
			sb_str(b, " push=True");
		else if (strcmp(u->mode, "onchange") == 0)
			sb_str(b, " push=onchange");
		else if (compat || strcmp(u->mode, "auto") == 0 ||
			 strcmp(u->mode, "auto_interval") == 0)
			sb_str(b, " auto_interval=True");
		sb_cat(b, " interval=", u->interval_us, NULL);
		sb_opt(b, "perm", u->perm);
		sb_opt(b, "offset", u->offset_us);
		sb_str(b, "\n");
		for (size_t k = 0; k < u->n_prod; k++)
			sb_cat(b, "updtr_prdcr_add name=", u->name, " regex=", u->producers[k],
			       "\n", NULL);
		for (size_t k = 0; cy_is_seq(u->sets) && k < u->sets->n; k++) {
			const struct cy_node *s = u->sets->vals[k];
			sb_cat(b, "updtr_match_add name=", u->name,
			       " regex=", cy_str(cy_map_get(s, "regex")),
			       " match=", cy_str(cy_map_get(s, "field")), "\n", NULL);
		}
		sb_cat(b, "updtr_start name=", u->name, "\n", NULL);
	}
}

static void gen_stores(struct sb *b, const struct maestro_model *m, const struct maestro_daemon *d,
		       int compat)
{
	for (size_t i = 0; i < d->n_stgrp; i++) {
		const struct maestro_store_group *g = &m->stgrp[d->stgrp[i]];
		for (size_t k = 0; k < g->n; k++) {
			const struct maestro_store *s = &g->s[k];
			int loaded = 0;
			for (size_t j = 0; j < k && !loaded; j++)
				loaded = strcmp(g->s[j].plugin, s->plugin) == 0;
			long pi = maestro_model_plugin(m, s->plugin);
			if (!loaded && pi >= 0) {
				const struct maestro_plugin *p = &m->plugins[pi];
				sb_cat(b, "load name=", p->inst, " plugin=", p->name, "\n", NULL);
				config_lines(b, p->inst, p->config, NULL, compat);
			}
			sb_cat(b, "strgp_add name=", s->name, " plugin=", s->plugin,
			       " container=", s->container, compat ? " " : "", NULL);
			sb_opt(b, "decomposition", s->decomposition);
			sb_opt(b, "schema", s->schema);
			sb_opt(b, "regex", s->regex);
			sb_opt(b, "perm", s->perm);
			sb_opt(b, "flush", s->flush_us);
			sb_cat(b, "\nstrgp_start name=", s->name, "\n", NULL);
		}
	}
}

int configgen_daemon(struct configgen *cg, size_t di, char **out, size_t *len, struct ldms_err *err)
{
	const struct maestro_model *m = cg->m;
	const struct maestro_daemon *d = &m->daemons[di];
	int compat = cg->o.upstream_compat;
	struct sb b = {0};
	struct seen seen = {.compat = compat};
	*out = NULL;
	sb_add(&b, "", 0);
	gen_env_opts(&b, d);
	for (size_t i = 0; i < d->n_sgrp; i++) {
		const struct maestro_sampler_group *g = &m->sgrp[d->sgrp[i]];
		gen_listeners(&b, d, &seen);
		gen_advertisers(&b, m, g->group, d, &seen, compat);
		gen_sampler_plugins(&b, m, g, d, compat);
	}
	for (size_t i = 0; i < d->n_agrp; i++) {
		const struct maestro_agg_group *g = &m->agrp[d->agrp[i]];
		const struct maestro_agg_member *am = NULL;
		for (size_t k = 0; k < g->n && !am; k++)
			if (strcmp(g->m[k].name, d->name) == 0)
				am = &g->m[k];
		gen_listeners(&b, d, &seen);
		gen_producers(cg, &b, d->agrp[i], d, &seen);
		gen_prdcr_listeners(&b, m, g->group);
		gen_advertisers(&b, m, g->group, d, &seen, compat);
		if (am)
			gen_subscribe_plugins(&b, m, am, compat);
		gen_updaters(&b, m, g->group, compat);
		/* upstream writes every store group of the daemon once per aggregator group it
		 * is in; ldms-c once, after the last one */
		if (compat || i + 1 == d->n_agrp)
			gen_stores(&b, m, d, compat);
	}
	free(seen.v);
	if (b.err || seen.err) {
		free(b.s);
		return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
	}
	*out = b.s;
	if (len)
		*len = b.len;
	return 0;
}

/* ---- context ------------------------------------------------------------------------------------
 */

void configgen_free(struct configgen *cg)
{
	if (!cg)
		return;
	for (size_t g = 0; g < cg->m->n_pgrp; g++) {
		if (cg->assign)
			free(cg->assign[g]);
		if (cg->order)
			free(cg->order[g]);
	}
	free(cg->assign);
	free(cg->order);
	free(cg->agrp_of);
	free(cg);
}

int configgen_new(const struct maestro_model *m, const struct configgen_opts *o,
		  const long *const *assign, struct configgen **out, struct ldms_err *err)
{
	struct configgen *cg = calloc(1, sizeof(*cg));
	size_t ng = m->n_pgrp;
	*out = NULL;
	if (!cg)
		goto nomem;
	cg->m = m;
	if (o)
		cg->o = *o;
	if (!(cg->assign = calloc(ng ? ng : 1, sizeof(*cg->assign))) ||
	    !(cg->order = calloc(ng ? ng : 1, sizeof(*cg->order))) ||
	    !(cg->agrp_of = calloc(ng ? ng : 1, sizeof(*cg->agrp_of))))
		goto nomem;
	for (size_t g = 0; g < ng; g++) {
		const struct maestro_producer_group *pg = &m->pgrp[g];
		size_t n = pg->n ? pg->n : 1;
		const char **names = malloc(n * sizeof(*names));
		cg->assign[g] = malloc(n * sizeof(long));
		cg->order[g] = malloc(n * sizeof(size_t));
		if (!names || !cg->assign[g] || !cg->order[g]) {
			free(names);
			goto nomem;
		}
		for (size_t k = 0; k < pg->n; k++)
			names[k] = pg->p[k].name;
		cg->agrp_of[g] = -1;
		for (size_t a = 0; a < m->n_agrp; a++)
			if (strcmp(m->agrp[a].group, pg->group) == 0)
				cg->agrp_of[g] = (long)a;
		int rc = balance_numeric_order(pg->n, names, cg->order[g]);
		if (!rc) {
			if (assign)
				memcpy(cg->assign[g], assign[g], pg->n * sizeof(long));
			else if (cg->agrp_of[g] >= 0 && m->agrp[cg->agrp_of[g]].members.count)
				rc = balance_generator(pg->n, names,
						       m->agrp[cg->agrp_of[g]].members.count,
						       cg->assign[g]);
			else
				for (size_t k = 0; k < pg->n; k++)
					cg->assign[g][k] = -1;
		}
		free(names);
		if (rc)
			goto nomem;
	}
	*out = cg;
	return 0;
nomem:
	configgen_free(cg);
	return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
}

int configgen_write_dir(struct configgen *cg, const char *dir, size_t *n_files,
			struct ldms_err *err)
{
	struct stat st;
	*n_files = 0;
	if (stat(dir, &st) != 0)
		return cy_err_set(err, -errno, dir, 0, 0, "output directory: %s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cy_err_set(err, -ENOTDIR, dir, 0, 0, "output directory: %s",
				  strerror(ENOTDIR));
	for (size_t d = 0; d < cg->m->n_daemons; d++) {
		char *text;
		size_t len;
		int rc = configgen_daemon(cg, d, &text, &len, err);
		if (rc)
			return rc;
		if (len <= 1) {
			free(text);
			continue;
		}
		size_t pl = strlen(dir) + strlen(cg->m->daemons[d].name) + 8;
		char *path = malloc(pl);
		if (!path) {
			free(text);
			return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
		}
		snprintf(path, pl, "%s/%s.conf", dir, cg->m->daemons[d].name);
		FILE *f = fopen(path, "w");
		int e = f ? 0 : errno;
		if (f && fwrite(text, 1, len, f) != len)
			e = errno ? errno : EIO;
		if (f && fclose(f) != 0 && !e)
			e = errno;
		free(text);
		if (e) {
			cy_err_set(err, -e, path, 0, 0, "%s", strerror(e));
			free(path);
			return -e;
		}
		free(path);
		(*n_files)++;
	}
	return 0;
}
