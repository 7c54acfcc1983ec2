/* Cluster YAML tree -> maestro model (maestro.md §4): upstream's build order, pairing rules
 * and error conditions (with FILE:LINE:COL), plus ldms-c's extra checks (§8) and the older
 * seed-README forms that need the daemons to translate (§12 item 9). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_build.h"

void mb_warn(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mb_warn(struct mb *b, const struct cy_node *at, const char *fmt, ...)
{
	if (!b->opts || !b->opts->warn)
		return;
	char msg[600], line[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at && at->line)
		snprintf(line, sizeof(line), "%s:%d:%d: warning: %s", b->file, at->line, at->col,
			 msg);
	else
		snprintf(line, sizeof(line), "%s: warning: %s", b->file, msg);
	b->opts->warn(b->opts->warn_arg, line);
}

int mb_err_at(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mb_err_at(struct mb *b, const struct cy_node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cy_err_node(b->err, -EINVAL, b->file, at, "%s", msg);
}

void mb_unknown_keys(struct mb *b, const struct cy_node *map, const char *const *known,
		     const char *where)
{
	if (!cy_is_map(map))
		return;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->keys[i]->str;
		int ok = 0;
		for (size_t j = 0; known[j] && !ok; j++)
			ok = strcmp(known[j], k) == 0;
		if (!ok)
			mb_warn(b, map->keys[i], "unknown key \"%s\" in %s (ignored)", k, where);
	}
}

/* check_required(): the first missing key, in the given order. */
int mb_required(struct mb *b, const struct cy_node *map, const char *const *keys,
		const char *container)
{
	for (size_t i = 0; keys[i]; i++)
		if (!cy_map_get(map, keys[i]))
			return mb_err_at(b, map, "The \"%s\" attribute is required in %s", keys[i],
					 container);
	return 0;
}

int mb_need_map(struct mb *b, const struct cy_node *n, const char *what)
{
	if (cy_is_map(n))
		return 0;
	return mb_err_at(b, n, "%s must be a mapping, found %s", what, cy_type_name(n));
}

/* A scalar value (or NULL when absent); -EINVAL for a list or mapping. */
int mb_opt_str(struct mb *b, const struct cy_node *map, const char *key, const char **out)
{
	struct cy_node *v = cy_map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != CY_SCALAR)
		return mb_err_at(b, v, "\"%s\" must be a single value, found %s", key,
				 cy_type_name(v));
	*out = v->str;
	return 0;
}

int mb_dup_opt(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	const char *s;
	*out = NULL;
	if (mb_opt_str(b, map, key, &s))
		return -EINVAL;
	if (s && !(*out = strdup(s)))
		return NOMEM(b);
	return 0;
}

/* Python truthiness of an optional string attribute (absent and "" are false). */
int mb_dup_truthy(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	if (mb_dup_opt(b, map, key, out))
		return -EINVAL;
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

int mb_expand(struct mb *b, const struct cy_node *spec, struct ldms_hostlist *out)
{
	const char *emsg = NULL;
	int rc = maestro_expand_names_max(spec, out, b->opts->max_names, &emsg);
	if (rc == -ENOMEM)
		return NOMEM(b);
	if (rc) {
		if (spec && spec->type == CY_SCALAR)
			return mb_err_at(b, spec, "bad hostlist \"%s\": %s", spec->str, emsg);
		return mb_err_at(b, spec, "bad hostlist: %s", emsg);
	}
	return 0;
}

int mb_interval(struct mb *b, const struct cy_node *v, char **out)
{
	char msg[400];
	*out = NULL;
	if (!v || v->type != CY_SCALAR)
		return mb_err_at(b, v, "a time interval must be a single value, found %s",
				 cy_type_name(v));
	int rc = maestro_interval_us(v->str, out, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return NOMEM(b);
	return rc ? mb_err_at(b, v, "%s", msg) : 0;
}

int mb_opt_interval(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	struct cy_node *v = cy_map_get(map, key);
	*out = NULL;
	return v ? mb_interval(b, v, out) : 0;
}

int mb_opt_perm(struct mb *b, const struct cy_node *map, char **out)
{
	struct cy_node *v = cy_map_get(map, "perm");
	char msg[300];
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != CY_SCALAR)
		return mb_err_at(b, v, "YAML \"perms\" value must be a string");
	int rc = maestro_perm(v->str, out, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return NOMEM(b);
	return rc ? mb_err_at(b, v, "%s", msg) : 0;
}

/* check_auth(): nothing unless auth.name is a non-empty string. */
int mb_auth_of(struct mb *b, const struct cy_node *spec, struct maestro_auth *a)
{
	memset(a, 0, sizeof(*a));
	struct cy_node *au = cy_map_get(spec, "auth");
	if (!au)
		return 0;
	if (mb_need_map(b, au, "\"auth\""))
		return -EINVAL;
	static const char *const known[] = {"name", "plugin", "conf", NULL};
	mb_unknown_keys(b, au, known, "\"auth\"");
	if (mb_dup_truthy(b, au, "name", &a->name))
		return -EINVAL;
	if (!a->name)
		return 0;
	if (mb_dup_opt(b, au, "plugin", &a->plugin) || mb_dup_opt(b, au, "conf", &a->conf))
		return -EINVAL;
	return 0;
}

void mb_auth_clear(struct maestro_auth *a)
{
	free(a->name);
	free(a->plugin);
	free(a->conf);
	memset(a, 0, sizeof(*a));
}

char *mb_xstrdup(struct mb *b, const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		NOMEM(b);
	return r;
}

/* ---- daemons (§4.1, §4.2) -------------------------------------------------------------------- */

static int new_daemon(struct mb *b, struct maestro_daemon **out)
{
	struct maestro_model *m = b->m;
	if (b->opts->max_daemons && m->n_daemons >= b->opts->max_daemons)
		return cy_err_set(b->err, -E2BIG, b->file, 0, 0, "more than %zu daemons",
				  b->opts->max_daemons);
	if (m->n_daemons == b->cap_daemons) {
		size_t nc = b->cap_daemons ? b->cap_daemons * 2 : 64;
		struct maestro_daemon *nd = realloc(m->daemons, nc * sizeof(*nd));
		char **ne = realloc(b->entry_names, nc * sizeof(*ne));
		if (nd)
			m->daemons = nd;
		if (ne)
			b->entry_names = ne;
		if (!nd || !ne)
			return NOMEM(b);
		b->cap_daemons = nc;
	}
	*out = &m->daemons[m->n_daemons];
	memset(*out, 0, sizeof(**out));
	b->entry_names[m->n_daemons] = NULL;
	m->n_daemons++;
	return 0;
}

struct ep_entry {
	const struct cy_node *spec;
	struct ldms_hostlist names, ports, hosts;
	int has_hosts;
};

static void ep_entries_free(struct ep_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ldms_hostlist_free(&e[i].names);
		ldms_hostlist_free(&e[i].ports);
		ldms_hostlist_free(&e[i].hosts);
	}
	free(e);
}

/* "repeat each element k times" (hosts) or "repeat the whole list k times" (ports) so the
 * list matches `want` names; ldms-c insists that the counts divide. */
static int stretch(struct mb *b, struct ldms_hostlist *h, size_t want, int whole,
		   const struct cy_node *at, const char *what, const char *against)
{
	if (h->count == want)
		return 0;
	if (h->count == 0 || h->count > want || want % h->count)
		return mb_err_at(b, at,
				 "%s expands to %zu names, which does not pair up with the %zu %s "
				 "(the count must be equal or divide it)",
				 what, h->count, want, against);
	size_t k = want / h->count, n = h->count;
	char **v = malloc(want * sizeof(*v));
	if (!v)
		return NOMEM(b);
	for (size_t i = 0; i < want; i++) {
		const char *src = whole ? h->names[i % n] : h->names[i / k];
		if (!(v[i] = strdup(src))) {
			while (i--)
				free(v[i]);
			free(v);
			return NOMEM(b);
		}
	}
	ldms_hostlist_free(h);
	h->names = v;
	h->count = h->cap = want;
	return 0;
}

static int add_ep_ref(struct mb *b, const char *name, size_t d, size_t e)
{
	if (maestro_index_get(&b->ep_ix, name) >= 0)
		return 0;
	struct ep_ref *nr = realloc(b->ep_refs, (b->n_ep_refs + 1) * sizeof(*nr));
	if (!nr)
		return NOMEM(b);
	b->ep_refs = nr;
	nr[b->n_ep_refs].daemon = d;
	nr[b->n_ep_refs].ep = e;
	if (maestro_index_put(&b->ep_ix, name, b->n_ep_refs))
		return NOMEM(b);
	b->n_ep_refs++;
	return 0;
}

static int build_endpoint(struct mb *b, struct maestro_daemon *d, size_t di, struct ep_entry *ee,
			  size_t k)
{
	const struct cy_node *ep = ee->spec;
	struct maestro_endpoint *e = &d->ep[d->n_ep];
	memset(e, 0, sizeof(*e));
	const char *xprt;
	if (!(e->name = mb_xstrdup(b, ee->names.names[k])) ||
	    !(e->port = mb_xstrdup(b, ee->ports.names[k])))
		return -ENOMEM;
	d->n_ep++;
	if (mb_opt_str(b, ep, "xprt", &xprt) || !(e->xprt = mb_xstrdup(b, xprt ? xprt : "sock")))
		return -EINVAL;
	if (mb_auth_of(b, ep, &e->auth))
		return -EINVAL;
	const char *mc;
	if (mb_opt_str(b, ep, "maestro_comm", &mc))
		return -EINVAL;
	e->maestro_comm = mc && (strcmp(mc, "true") == 0 || strcmp(mc, "True") == 0);
	if (mb_dup_truthy(b, ep, "bind_all", &e->bind_all))
		return -EINVAL;
	if (ee->has_hosts && !(e->host = mb_xstrdup(b, ee->hosts.names[k])))
		return -ENOMEM;
	for (size_t i = 0; i + 1 < d->n_ep; i++)
		if (strcmp(d->ep[i].name, e->name) == 0)
			return mb_err_at(b, ep,
					 "endpoint \"%s\" is defined twice for daemon \"%s\"",
					 e->name, d->name);
	return add_ep_ref(b, e->name, di, d->n_ep - 1);
}

static int daemon_cli_opts(struct mb *b, const struct cy_node *spec, struct cy_node **out)
{
	static const char *const reserved[] = {
	    "hosts", "names", "endpoints", "environment", "stream_enable", "msg_enable", NULL};
	*out = NULL;
	for (size_t i = 0; i < spec->n; i++) {
		const char *k = spec->keys[i]->str;
		int skip = 0;
		for (size_t j = 0; reserved[j] && !skip; j++)
			skip = strcmp(reserved[j], k) == 0;
		if (skip)
			continue;
		struct cy_node *v = spec->vals[i];
		if (v->type == CY_SEQ)
			return mb_err_at(
			    b, v,
			    "daemon option \"%s\" must be a value or a mapping, found a "
			    "list",
			    k);
		for (size_t j = 0; v->type == CY_MAP && j < v->n; j++) {
			if (v->vals[j]->type != CY_SCALAR)
				return mb_err_at(
				    b, v->vals[j],
				    "daemon option \"%s\": \"%s\" must be a single value", k,
				    v->keys[j]->str);
			if (strcmp(v->keys[j]->str, "perm") == 0) {
				char *p = NULL, msg[300];
				int rc = maestro_perm(v->vals[j]->str, &p, msg, sizeof(msg));
				free(p);
				if (rc)
					return rc == -ENOMEM ? NOMEM(b)
							     : mb_err_at(b, v->vals[j], "%s", msg);
			}
		}
		if (!*out && !(*out = cy_map_new(spec->line, spec->col)))
			return NOMEM(b);
		if (cy_map_set(*out, cy_ref(spec->keys[i]), cy_ref(v)))
			return NOMEM(b);
	}
	return 0;
}

static int build_daemon_entry(struct mb *b, struct cy_node *spec)
{
	static const char *const req[] = {"names", "endpoints", "hosts", NULL};
	struct ldms_hostlist D, H;
	struct ep_entry *ee = NULL;
	struct cy_node *cli = NULL, *env;
	size_t nee = 0;
	int rc;
	ldms_hostlist_init(&D);
	ldms_hostlist_init(&H);
	if (mb_need_map(b, spec, "a \"daemons\" entry"))
		return -EINVAL;
	if ((rc = mb_required(b, spec, req, "\"daemons\" entry")))
		return rc;
	struct cy_node *names = cy_map_get(spec, "names"), *hosts = cy_map_get(spec, "hosts");
	if ((rc = mb_expand(b, names, &D)) || (rc = mb_expand(b, hosts, &H)))
		goto out;
	if (D.count == 0) {
		rc = mb_err_at(b, names, "\"names\" expands to no daemon name");
		goto out;
	}
	if (H.count != D.count && (H.count == 0 || H.count > D.count || D.count % H.count)) {
		rc = mb_err_at(
		    b, hosts,
		    "Error processing regex of hostnames %s and daemons %s: %zu hosts for "
		    "%zu daemons (the number of hosts must equal or divide the number of "
		    "daemons)",
		    cy_str(hosts) ? cy_str(hosts) : "[list]",
		    cy_str(names) ? cy_str(names) : "[list]", H.count, D.count);
		goto out;
	}
	if ((rc = stretch(b, &H, D.count, 0, hosts, "\"hosts\"", "daemon names")))
		goto out;
	struct cy_node *eps = cy_map_get(spec, "endpoints");
	if (!cy_is_seq(eps)) {
		rc = mb_err_at(b, eps, "endpoints spec must be a list of dictionaries");
		goto out;
	}
	nee = eps->n;
	if (!(ee = calloc(nee ? nee : 1, sizeof(*ee)))) {
		rc = NOMEM(b);
		goto out;
	}
	static const char *const ep_known[] = {"names",	       "ports",	   "hosts", "xprt",
					       "maestro_comm", "bind_all", "auth",  NULL};
	for (size_t i = 0; i < nee; i++) {
		struct cy_node *ep = eps->vals[i];
		static const char *const ep_req[] = {"names", "ports", NULL};
		char where[300];
		ee[i].spec = ep;
		if ((rc = mb_need_map(b, ep, "an \"endpoints\" entry")))
			goto out;
		snprintf(where, sizeof(where), "\"endpoints\" entry of daemons %s",
			 cy_str(names) ? cy_str(names) : "[list]");
		if ((rc = mb_required(b, ep, ep_req, where)))
			goto out;
		mb_unknown_keys(b, ep, ep_known, "an \"endpoints\" entry");
		struct cy_node *en = cy_map_get(ep, "names"), *ports = cy_map_get(ep, "ports");
		if ((rc = mb_expand(b, en, &ee[i].names)) ||
		    (rc = mb_expand(b, ports, &ee[i].ports)))
			goto out;
		if (ee[i].names.count < D.count) {
			rc = mb_err_at(
			    b, en,
			    "endpoint \"names\" expands to %zu names for %zu daemons: every "
			    "daemon needs one endpoint name per endpoints entry",
			    ee[i].names.count, D.count);
			goto out;
		}
		if ((rc = stretch(b, &ee[i].ports, ee[i].names.count, 1, ports, "\"ports\"",
				  "endpoint names")))
			goto out;
		const char *eh;
		if ((rc = mb_opt_str(b, ep, "hosts", &eh)))
			goto out;
		if (cy_is_seq(cy_map_get(ep, "hosts")) || (eh && *eh)) {
			ee[i].has_hosts = 1;
			if ((rc = mb_expand(b, cy_map_get(ep, "hosts"), &ee[i].hosts)) ||
			    (rc = stretch(b, &ee[i].hosts, ee[i].names.count, 0,
					  cy_map_get(ep, "hosts"), "endpoint \"hosts\"",
					  "endpoint names")))
				goto out;
		}
	}
	env = cy_map_get(spec, "environment");
	if (env) {
		if ((rc = mb_need_map(b, env, "\"environment\"")))
			goto out;
		for (size_t i = 0; i < env->n; i++)
			if (env->vals[i]->type != CY_SCALAR) {
				rc = mb_err_at(b, env->vals[i],
					       "environment variable \"%s\" must be a single value",
					       env->keys[i]->str);
				goto out;
			}
	}
	if ((rc = daemon_cli_opts(b, spec, &cli)))
		goto out;
	const char *se, *me;
	if ((rc = mb_opt_str(b, spec, "stream_enable", &se)) ||
	    (rc = mb_opt_str(b, spec, "msg_enable", &me)))
		goto out;
	for (size_t k = 0; k < D.count; k++) {
		long prev = maestro_index_get(&b->m->daemon_ix, D.names[k]);
		if (prev >= 0) {
			struct maestro_daemon *p = &b->m->daemons[prev];
			rc = mb_err_at(
			    b, names,
			    "daemon \"%s\" is defined twice (first in the daemons entry at "
			    "line %d, column %d)",
			    D.names[k], p->line, p->col);
			goto out;
		}
		struct maestro_daemon *d = NULL;
		size_t di = b->m->n_daemons;
		if ((rc = new_daemon(b, &d)))
			goto out;
		d->line = spec->line;
		d->col = spec->col;
		if (!(d->name = mb_xstrdup(b, D.names[k])) ||
		    !(d->addr = mb_xstrdup(b, H.names[k])) ||
		    !(b->entry_names[di] =
			  mb_xstrdup(b, cy_str(names) ? cy_str(names) : D.names[k]))) {
			rc = -ENOMEM;
			goto out;
		}
		if (maestro_index_put(&b->m->daemon_ix, d->name, di)) {
			rc = NOMEM(b);
			goto out;
		}
		d->environment = cy_ref(env);
		d->cli_opt = cy_ref(cli);
		if ((se && !(d->stream_enable = mb_xstrdup(b, se))) ||
		    (me && !(d->msg_enable = mb_xstrdup(b, me)))) {
			rc = -ENOMEM;
			goto out;
		}
		if (nee && !(d->ep = calloc(nee, sizeof(*d->ep)))) {
			rc = NOMEM(b);
			goto out;
		}
		for (size_t i = 0; i < nee; i++)
			if ((rc = build_endpoint(b, d, di, &ee[i], k)))
				goto out;
	}
	/* names an entry expanded beyond its daemons: kept to explain a later reference */
	for (size_t i = 0; i < nee; i++) {
		for (size_t k = D.count; k < ee[i].names.count; k++) {
			char **nu = realloc(b->unused, (b->n_unused + 1) * sizeof(*nu));
			if (!nu) {
				rc = NOMEM(b);
				goto out;
			}
			b->unused = nu;
			if (!(nu[b->n_unused] = mb_xstrdup(b, ee[i].names.names[k]))) {
				rc = -ENOMEM;
				goto out;
			}
			if (maestro_index_put(&b->unused_ix, nu[b->n_unused], b->n_unused)) {
				free(nu[b->n_unused]);
				rc = NOMEM(b);
				goto out;
			}
			b->n_unused++;
		}
	}
out:
	cy_unref(cli);
	ldms_hostlist_free(&D);
	ldms_hostlist_free(&H);
	if (ee)
		ep_entries_free(ee, nee);
	return rc;
}

static int build_daemons(struct mb *b)
{
	struct cy_node *ds = cy_map_get(b->root, "daemons");
	if (!ds)
		return mb_err_at(b, b->root,
				 "KeyError: 'daemons': the \"daemons\" section is required");
	if (!cy_is_seq(ds))
		return mb_err_at(b, ds,
				 "daemons spec must be a list of dictionaries, specified with "
				 "\"-\" in the ldms_config yaml file");
	for (size_t i = 0; i < ds->n; i++) {
		int rc = build_daemon_entry(b, ds->vals[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- plugins (§4.3) ----------------------------------------------------------------------------
 */

static int check_cfg_dict(struct mb *b, const struct cy_node *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cy_node *v = cfg->vals[i];
		if (v->type == CY_MAP)
			return mb_err_at(b, v,
					 "config value of \"%s\" must be a value or a list of "
					 "values, found a mapping",
					 cfg->keys[i]->str);
		for (size_t j = 0; v->type == CY_SEQ && j < v->n; j++)
			if (v->vals[j]->type != CY_SCALAR)
				return mb_err_at(
				    b, v->vals[j],
				    "config list value of \"%s\" must be a single value",
				    cfg->keys[i]->str);
	}
	return 0;
}

static int build_plugins(struct mb *b)
{
	struct cy_node *ps = cy_map_get(b->root, "plugins");
	struct maestro_model *m = b->m;
	if (!ps)
		return 0;
	m->has_plugins = 1;
	if (!cy_is_map(ps))
		return mb_err_at(b, ps,
				 "plugins spec must be a dictionary, with keys referencing a "
				 "plugin instance name");
	if (ps->n && !(m->plugins = calloc(ps->n, sizeof(*m->plugins))))
		return NOMEM(b);
	static const char *const known[] = {"name", "config", "interval", "offset", "perm", NULL};
	for (size_t i = 0; i < ps->n; i++) {
		const char *inst = ps->keys[i]->str;
		struct cy_node *spec = ps->vals[i];
		char where[300];
		int rc;
		if (mb_need_map(b, spec, "a plugin instance"))
			return -EINVAL;
		snprintf(where, sizeof(where), "\"plugin\" entry. Error in \"%s\" configuration",
			 inst);
		static const char *const rn[] = {"name", NULL}, *const rc_[] = {"config", NULL};
		if ((rc = mb_required(b, spec, rn, where)) ||
		    (rc = mb_required(b, spec, rc_, "\"plugin\" entry")))
			return rc;
		mb_unknown_keys(b, spec, known, "a plugin instance");
		struct cy_node *cfg = cy_map_get(spec, "config");
		if (!cy_is_seq(cfg))
			return mb_err_at(b, cfg,
					 "\"config\" must be a list of configuration commands");
		for (size_t j = 0; j < cfg->n; j++) {
			struct cy_node *c = cfg->vals[j];
			if (c->type == CY_SEQ)
				return mb_err_at(b, c,
						 "\"config\" list members must be a dictionary "
						 "or a string");
			if (c->type == CY_MAP && (rc = check_cfg_dict(b, c)))
				return rc;
		}
		struct maestro_plugin *p = &m->plugins[m->n_plugins++];
		const char *name;
		if (mb_opt_str(b, spec, "name", &name))
			return -EINVAL;
		if (!(p->inst = mb_xstrdup(b, inst)) || !(p->name = mb_xstrdup(b, name)))
			return -ENOMEM;
		p->config = cy_ref(cfg);
		if ((rc = mb_opt_interval(b, spec, "interval", &p->interval_us)) ||
		    (rc = mb_opt_interval(b, spec, "offset", &p->offset_us)))
			return rc;
		char *perm;
		if ((rc = mb_opt_perm(b, spec, &perm)))
			return rc;
		if (perm) {
			p->spec = cy_map_copy(spec);
			struct cy_node *pv = cy_scalar_new(perm, cy_map_get(spec, "perm")->line,
							   cy_map_get(spec, "perm")->col);
			free(perm);
			if (!p->spec || !pv || cy_map_set_str(p->spec, "perm", pv))
				return NOMEM(b);
		} else {
			p->spec = cy_ref(spec);
		}
		if (maestro_index_put(&m->plugin_ix, p->inst, m->n_plugins - 1))
			return NOMEM(b);
	}
	return 0;
}

int mb_check_plugin_ref(struct mb *b, const struct cy_node *ref)
{
	if (!ref || ref->type != CY_SCALAR)
		return mb_err_at(b, ref, "a plugin instance reference must be a name, found %s",
				 cy_type_name(ref));
	if (maestro_model_plugin(b->m, ref->str) < 0)
		return mb_err_at(
		    b, ref,
		    "Configuration for plugin instance \"%s\" is not defined in the top "
		    "level \"plugins\" dictionary",
		    ref->str);
	return 0;
}

/* ---- stores (§4.10)
 * ------------------------------------------------------------------------------- */

static int build_stores(struct mb *b)
{
	struct cy_node *ss = cy_map_get(b->root, "stores");
	struct maestro_model *m = b->m;
	if (!ss)
		return 0;
	m->has_stores = 1;
	if (!cy_is_map(ss))
		return mb_err_at(b, ss,
				 "store spec must be a dictionary, with keys referencing a plugin "
				 "instance name");
	static const char *const known[] = {
	    "daemons",	     "plugin", "container", "schema", "regex",
	    "decomposition", "flush",  "perm",	    "name",   NULL};
	for (size_t i = 0; i < ss->n; i++) {
		const char *name = ss->keys[i]->str;
		struct cy_node *spec = ss->vals[i];
		static const char *const rp[] = {"plugin", NULL},
					 *const rct[] = {"container", NULL},
					 *const rs[] = {"schema", NULL},
					 *const rd[] = {"daemons", NULL};
		int rc;
		if ((rc = mb_need_map(b, spec, "a \"stores\" entry")) ||
		    (rc = mb_required(b, spec, rp, "\"store\" entry")))
			return rc;
		mb_unknown_keys(b, spec, known, "a \"stores\" entry");
		struct maestro_store s = {0};
		if ((rc = mb_dup_truthy(b, spec, "container", &s.container)))
			goto fail;
		if (!s.container) {
			rc = mb_required(b, spec, rct, "\"store\" entry");
			if (!rc)
				rc = mb_err_at(b, cy_map_get(spec, "container"),
					       "\"container\" must not be empty");
			goto fail;
		}
		if ((rc = mb_dup_truthy(b, spec, "decomposition", &s.decomposition)) ||
		    (!s.decomposition && (rc = mb_required(b, spec, rs, "\"store\" entry"))) ||
		    (rc = mb_dup_truthy(b, spec, "schema", &s.schema)) ||
		    (rc = mb_dup_truthy(b, spec, "regex", &s.regex)))
			goto fail;
		if (s.decomposition && !s.schema && !s.regex) {
			rc = mb_err_at(b, spec,
				       "Decomposition plugin configuration requires either "
				       "\"schema\" or \"regex\" attribute");
			goto fail;
		}
		if (s.decomposition && s.schema && s.regex) {
			rc = mb_err_at(b, spec,
				       "Please specify either \"schema\" or \"regex\" when using "
				       "decomposition - these parameters are mutually exclusive.");
			goto fail;
		}
		const char *group;
		if ((rc = mb_required(b, spec, rd, "\"store\" entry")) ||
		    (rc = mb_group_name(b, cy_map_get(spec, "daemons"), "store \"daemons\"",
					&group)))
			goto fail;
		if ((rc = mb_dup_opt(b, spec, "flush", &s.flush)) ||
		    (rc = mb_opt_interval(b, spec, "flush", &s.flush_us)) ||
		    (rc = mb_opt_perm(b, spec, &s.perm)))
			goto fail;
		if ((rc = mb_check_plugin_ref(b, cy_map_get(spec, "plugin"))))
			goto fail;
		if (!(s.name = mb_xstrdup(b, name)) ||
		    !(s.plugin = mb_xstrdup(b, cy_str(cy_map_get(spec, "plugin"))))) {
			rc = -ENOMEM;
			goto fail;
		}
		/* the stored spec: the raw one with `name` added and `perm` converted */
		s.spec = cy_map_copy(spec);
		if (!s.spec || cy_map_set_str(s.spec, "name", cy_scalar_new(name, 0, 0)) ||
		    (s.perm && cy_map_set_str(s.spec, "perm", cy_scalar_new(s.perm, 0, 0)))) {
			rc = NOMEM(b);
			goto fail;
		}
		struct maestro_store_group *g = NULL;
		for (size_t k = 0; k < m->n_stgrp; k++)
			if (strcmp(m->stgrp[k].group, group) == 0)
				g = &m->stgrp[k];
		if (!g) {
			struct maestro_store_group *ng =
			    realloc(m->stgrp, (m->n_stgrp + 1) * sizeof(*ng));
			if (!ng) {
				rc = NOMEM(b);
				goto fail;
			}
			m->stgrp = ng;
			g = &m->stgrp[m->n_stgrp++];
			memset(g, 0, sizeof(*g));
			if (!(g->group = mb_xstrdup(b, group))) {
				rc = -ENOMEM;
				goto fail;
			}
			if ((rc = mb_expand(b, cy_map_get(spec, "daemons"), &g->members)))
				goto fail;
		}
		struct maestro_store *ns = realloc(g->s, (g->n + 1) * sizeof(*ns));
		if (!ns) {
			rc = NOMEM(b);
			goto fail;
		}
		g->s = ns;
		g->s[g->n++] = s;
		continue;
	fail : {
		char **f[] = {&s.name,		&s.plugin, &s.container, &s.schema, &s.regex,
			      &s.decomposition, &s.flush,  &s.flush_us,	 &s.perm};
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			free(*f[k]);
		cy_unref(s.spec);
		return rc;
	}
	}
	return 0;
}

/* ---- samplers (§4.9)
 * -------------------------------------------------------------------------------- */

/* One samplers entry whose spec is final (older advertise already translated). */
static int sampler_group_add(struct mb *b, struct cy_node *spec, const char *group)
{
	struct maestro_model *m = b->m;
	struct cy_node *pl = cy_map_get(spec, "plugins");
	int rc;
	if (!cy_is_seq(pl))
		return mb_err_at(
		    b, pl, "sampler \"plugins\" must be a list of plugin instance names, found %s",
		    cy_type_name(pl));
	for (size_t k = 0; k < pl->n; k++) {
		if ((rc = mb_check_plugin_ref(b, pl->vals[k])))
			return rc;
		const struct maestro_plugin *p =
		    &m->plugins[maestro_model_plugin(m, pl->vals[k]->str)];
		if (!p->interval_us)
			return mb_err_at(
			    b, pl->vals[k],
			    "The \"interval\" attribute is required in \"plugin\" entry "
			    "\"%s\" (it is started by sampler group %s)",
			    p->inst, group);
	}
	struct maestro_sampler_group *g = NULL;
	for (size_t k = 0; k < m->n_sgrp; k++)
		if (strcmp(m->sgrp[k].group, group) == 0)
			g = &m->sgrp[k];
	if (!g) {
		struct maestro_sampler_group *ng = realloc(m->sgrp, (m->n_sgrp + 1) * sizeof(*ng));
		if (!ng)
			return NOMEM(b);
		m->sgrp = ng;
		g = &m->sgrp[m->n_sgrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = mb_xstrdup(b, group)))
			return -ENOMEM;
	} else {
		/* a later entry for the same group replaces it (dict semantics) */
		cy_unref(g->spec);
		mb_strv_free(g->plugins, g->n_plugins);
		ldms_hostlist_free(&g->members);
		g->spec = NULL;
		g->plugins = NULL;
		g->n_plugins = 0;
	}
	g->spec = cy_ref(spec);
	if ((rc = mb_expand(b, cy_map_get(spec, "daemons"), &g->members)))
		return rc;
	mb_check_members(b, cy_map_get(spec, "daemons"), &g->members, "sampler group");
	if (pl->n && !(g->plugins = calloc(pl->n, sizeof(char *))))
		return NOMEM(b);
	for (size_t k = 0; k < pl->n; k++) {
		if (!(g->plugins[k] = mb_xstrdup(b, pl->vals[k]->str)))
			return -ENOMEM;
		g->n_plugins++;
	}
	return 0;
}

static int build_samplers(struct mb *b)
{
	struct cy_node *ss = cy_map_get(b->root, "samplers");
	if (!ss)
		return 0;
	b->m->has_samplers = 1;
	if (!cy_is_seq(ss))
		return mb_err_at(b, ss,
				 "samplers spec must be a list of dictionaries, specified with "
				 "\"-\" in the ldms_config yaml file");
	static const char *const known[] = {"daemons", "plugins", "advertise", NULL};
	for (size_t i = 0; i < ss->n; i++) {
		struct cy_node *spec = ss->vals[i], *adv, *own = NULL;
		static const char *const req[] = {"daemons", "plugins", NULL};
		const char *group = NULL;
		int rc;
		if ((rc = mb_need_map(b, spec, "a \"samplers\" entry")) ||
		    (rc = mb_required(b, spec, req, "\"sampler\" entry")) ||
		    (rc = mb_group_name(b, cy_map_get(spec, "daemons"), "sampler \"daemons\"",
					&group)))
			return rc;
		mb_unknown_keys(b, spec, known, "a \"samplers\" entry (kept)");
		if ((rc = mb_build_advertiser(b, spec, group, &adv)))
			return rc;
		if (adv) {
			/* store the translated advertise, not the older list form */
			own = cy_map_copy(spec);
			if (!own || cy_map_set_str(own, "advertise", adv)) {
				cy_unref(own);
				return NOMEM(b);
			}
		}
		rc = sampler_group_add(b, own ? own : spec, group);
		cy_unref(own);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- entry points
 * ------------------------------------------------------------------------------------ */

static const struct maestro_build_opts default_opts;

int maestro_model_build(struct cy_doc *doc, const struct maestro_build_opts *opts,
			struct maestro_model **out, struct ldms_err *err)
{
	struct mb b = {
	    .opts = opts ? opts : &default_opts, .file = doc->file, .err = err, .root = doc->root};
	int rc;
	*out = NULL;
	if (!doc->root)
		return cy_err_set(err, -EINVAL, doc->file, 1, 1,
				  "the configuration is empty ('NoneType' object is not "
				  "subscriptable)");
	if (!cy_is_map(doc->root))
		return mb_err_at(&b, doc->root,
				 "the configuration must be a mapping with a "
				 "\"daemons\" section, found %s",
				 cy_type_name(doc->root));
	if (!(b.m = maestro_model_new()))
		return NOMEM(&b);
	static const char *const known[] = {"daemons", "aggregators", "samplers",
					    "plugins", "stores",      NULL};
	mb_unknown_keys(&b, doc->root, known, "the top level");
	if (!(rc = build_daemons(&b)) && !(rc = build_plugins(&b)) &&
	    !(rc = mb_build_aggregators(&b)) && !(rc = mb_build_producers(&b)) &&
	    !(rc = mb_build_updaters(&b)) && !(rc = build_stores(&b)) && !(rc = build_samplers(&b)))
		rc = maestro_model_index(b.m, err);
	for (size_t i = 0; i < b.n_unused; i++)
		free(b.unused[i]);
	free(b.unused);
	maestro_index_free(&b.unused_ix);
	maestro_index_free(&b.ep_ix);
	free(b.ep_refs);
	if (b.entry_names) {
		for (size_t i = 0; i < b.m->n_daemons; i++)
			free(b.entry_names[i]);
		free(b.entry_names);
	}
	if (rc) {
		maestro_model_free(b.m);
		return rc;
	}
	*out = b.m;
	return 0;
}

int maestro_model_load_file(const char *path, const struct maestro_build_opts *opts,
			    struct maestro_model **out, struct ldms_err *err)
{
	struct cy_doc *doc;
	int rc = cy_load_file(path, &doc, err);
	*out = NULL;
	if (rc)
		return rc;
	rc = cy_legacy_normalize(doc, err);
	if (!rc)
		rc = maestro_model_build(doc, opts, out, err);
	cy_doc_free(doc);
	return rc;
}
