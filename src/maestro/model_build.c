/* Cluster YAML tree -> maestro model (maestro.md §4): upstream's build order, pairing rules
 * and error conditions (with FILE:LINE:COL), plus ldms-c's extra checks (§8) and the older
 * seed-README forms that need the daemons to translate (§12 item 9). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct ep_ref {
	size_t daemon, ep;
};

struct mb {
	const struct maestro_build_opts *opts;
	const char *file;
	struct ldms_err *err;
	struct maestro_model *m;
	struct cy_node *root;
	size_t cap_daemons;
	/* daemons entry `names` text per daemon (for peers without `daemons`) */
	char **entry_names;
	/* every endpoint name -> first (daemon, endpoint) */
	struct maestro_index ep_ix;
	struct ep_ref *ep_refs;
	size_t n_ep_refs;
	/* endpoint names that an entry expanded but no daemon got (more names than daemons) */
	struct maestro_index unused_ix;
	char **unused;
	size_t n_unused;
	int updtr_cnt;
};

#define NOMEM(b) cy_err_set((b)->err, -ENOMEM, (b)->file, 0, 0, "out of memory")

static void warn(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct mb *b, const struct cy_node *at, const char *fmt, ...)
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

static int err_at(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_at(struct mb *b, const struct cy_node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cy_err_node(b->err, -EINVAL, b->file, at, "%s", msg);
}

static void unknown_keys(struct mb *b, const struct cy_node *map, const char *const *known,
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
			warn(b, map->keys[i], "unknown key \"%s\" in %s (ignored)", k, where);
	}
}

/* check_required(): the first missing key, in the given order. */
static int required(struct mb *b, const struct cy_node *map, const char *const *keys,
		    const char *container)
{
	for (size_t i = 0; keys[i]; i++)
		if (!cy_map_get(map, keys[i]))
			return err_at(b, map, "The \"%s\" attribute is required in %s", keys[i],
				      container);
	return 0;
}

static int need_map(struct mb *b, const struct cy_node *n, const char *what)
{
	if (cy_is_map(n))
		return 0;
	return err_at(b, n, "%s must be a mapping, found %s", what, cy_type_name(n));
}

/* A scalar value (or NULL when absent); -EINVAL for a list or mapping. */
static int opt_str(struct mb *b, const struct cy_node *map, const char *key, const char **out)
{
	struct cy_node *v = cy_map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != CY_SCALAR)
		return err_at(b, v, "\"%s\" must be a single value, found %s", key,
			      cy_type_name(v));
	*out = v->str;
	return 0;
}

static int dup_opt(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	const char *s;
	*out = NULL;
	if (opt_str(b, map, key, &s))
		return -EINVAL;
	if (s && !(*out = strdup(s)))
		return NOMEM(b);
	return 0;
}

/* Python truthiness of an optional string attribute (absent and "" are false). */
static int dup_truthy(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	if (dup_opt(b, map, key, out))
		return -EINVAL;
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

static int expand(struct mb *b, const struct cy_node *spec, struct ldms_hostlist *out)
{
	const char *emsg = NULL;
	int rc = maestro_expand_names(spec, out, &emsg);
	if (rc == -ENOMEM)
		return NOMEM(b);
	if (rc) {
		if (spec && spec->type == CY_SCALAR)
			return err_at(b, spec, "bad hostlist \"%s\": %s", spec->str, emsg);
		return err_at(b, spec, "bad hostlist: %s", emsg);
	}
	return 0;
}

static int interval(struct mb *b, const struct cy_node *v, char **out)
{
	char msg[400];
	*out = NULL;
	if (!v || v->type != CY_SCALAR)
		return err_at(b, v, "a time interval must be a single value, found %s",
			      cy_type_name(v));
	int rc = maestro_interval_us(v->str, out, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return NOMEM(b);
	return rc ? err_at(b, v, "%s", msg) : 0;
}

static int opt_interval(struct mb *b, const struct cy_node *map, const char *key, char **out)
{
	struct cy_node *v = cy_map_get(map, key);
	*out = NULL;
	return v ? interval(b, v, out) : 0;
}

static int opt_perm(struct mb *b, const struct cy_node *map, char **out)
{
	struct cy_node *v = cy_map_get(map, "perm");
	char msg[300];
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != CY_SCALAR)
		return err_at(b, v, "YAML \"perms\" value must be a string");
	int rc = maestro_perm(v->str, out, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return NOMEM(b);
	return rc ? err_at(b, v, "%s", msg) : 0;
}

/* check_auth(): nothing unless auth.name is a non-empty string. */
static int auth_of(struct mb *b, const struct cy_node *spec, struct maestro_auth *a)
{
	memset(a, 0, sizeof(*a));
	struct cy_node *au = cy_map_get(spec, "auth");
	if (!au)
		return 0;
	if (need_map(b, au, "\"auth\""))
		return -EINVAL;
	static const char *const known[] = {"name", "plugin", "conf", NULL};
	unknown_keys(b, au, known, "\"auth\"");
	if (dup_truthy(b, au, "name", &a->name))
		return -EINVAL;
	if (!a->name)
		return 0;
	if (dup_opt(b, au, "plugin", &a->plugin) || dup_opt(b, au, "conf", &a->conf))
		return -EINVAL;
	return 0;
}

static void auth_clear(struct maestro_auth *a)
{
	free(a->name);
	free(a->plugin);
	free(a->conf);
	memset(a, 0, sizeof(*a));
}

static char *xstrdup(struct mb *b, const char *s)
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
		return err_at(b, at,
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
	if (!(e->name = xstrdup(b, ee->names.names[k])) ||
	    !(e->port = xstrdup(b, ee->ports.names[k])))
		return -ENOMEM;
	d->n_ep++;
	if (opt_str(b, ep, "xprt", &xprt) || !(e->xprt = xstrdup(b, xprt ? xprt : "sock")))
		return -EINVAL;
	if (auth_of(b, ep, &e->auth))
		return -EINVAL;
	const char *mc;
	if (opt_str(b, ep, "maestro_comm", &mc))
		return -EINVAL;
	e->maestro_comm = mc && (strcmp(mc, "true") == 0 || strcmp(mc, "True") == 0);
	if (dup_truthy(b, ep, "bind_all", &e->bind_all))
		return -EINVAL;
	if (ee->has_hosts && !(e->host = xstrdup(b, ee->hosts.names[k])))
		return -ENOMEM;
	for (size_t i = 0; i + 1 < d->n_ep; i++)
		if (strcmp(d->ep[i].name, e->name) == 0)
			return err_at(b, ep, "endpoint \"%s\" is defined twice for daemon \"%s\"",
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
			return err_at(b, v,
				      "daemon option \"%s\" must be a value or a mapping, found a "
				      "list",
				      k);
		for (size_t j = 0; v->type == CY_MAP && j < v->n; j++) {
			if (v->vals[j]->type != CY_SCALAR)
				return err_at(b, v->vals[j],
					      "daemon option \"%s\": \"%s\" must be a single value",
					      k, v->keys[j]->str);
			if (strcmp(v->keys[j]->str, "perm") == 0) {
				char *p = NULL, msg[300];
				int rc = maestro_perm(v->vals[j]->str, &p, msg, sizeof(msg));
				free(p);
				if (rc)
					return rc == -ENOMEM ? NOMEM(b)
							     : err_at(b, v->vals[j], "%s", msg);
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
	if (need_map(b, spec, "a \"daemons\" entry"))
		return -EINVAL;
	if ((rc = required(b, spec, req, "\"daemons\" entry")))
		return rc;
	struct cy_node *names = cy_map_get(spec, "names"), *hosts = cy_map_get(spec, "hosts");
	if ((rc = expand(b, names, &D)) || (rc = expand(b, hosts, &H)))
		goto out;
	if (D.count == 0) {
		rc = err_at(b, names, "\"names\" expands to no daemon name");
		goto out;
	}
	if (H.count != D.count && (H.count == 0 || H.count > D.count || D.count % H.count)) {
		rc = err_at(b, hosts,
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
		rc = err_at(b, eps, "endpoints spec must be a list of dictionaries");
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
		if ((rc = need_map(b, ep, "an \"endpoints\" entry")))
			goto out;
		snprintf(where, sizeof(where), "\"endpoints\" entry of daemons %s",
			 cy_str(names) ? cy_str(names) : "[list]");
		if ((rc = required(b, ep, ep_req, where)))
			goto out;
		unknown_keys(b, ep, ep_known, "an \"endpoints\" entry");
		struct cy_node *en = cy_map_get(ep, "names"), *ports = cy_map_get(ep, "ports");
		if ((rc = expand(b, en, &ee[i].names)) || (rc = expand(b, ports, &ee[i].ports)))
			goto out;
		if (ee[i].names.count < D.count) {
			rc =
			    err_at(b, en,
				   "endpoint \"names\" expands to %zu names for %zu daemons: every "
				   "daemon needs one endpoint name per endpoints entry",
				   ee[i].names.count, D.count);
			goto out;
		}
		if ((rc = stretch(b, &ee[i].ports, ee[i].names.count, 1, ports, "\"ports\"",
				  "endpoint names")))
			goto out;
		const char *eh;
		if ((rc = opt_str(b, ep, "hosts", &eh)))
			goto out;
		if (cy_is_seq(cy_map_get(ep, "hosts")) || (eh && *eh)) {
			ee[i].has_hosts = 1;
			if ((rc = expand(b, cy_map_get(ep, "hosts"), &ee[i].hosts)) ||
			    (rc = stretch(b, &ee[i].hosts, ee[i].names.count, 0,
					  cy_map_get(ep, "hosts"), "endpoint \"hosts\"",
					  "endpoint names")))
				goto out;
		}
	}
	env = cy_map_get(spec, "environment");
	if (env) {
		if ((rc = need_map(b, env, "\"environment\"")))
			goto out;
		for (size_t i = 0; i < env->n; i++)
			if (env->vals[i]->type != CY_SCALAR) {
				rc = err_at(b, env->vals[i],
					    "environment variable \"%s\" must be a single value",
					    env->keys[i]->str);
				goto out;
			}
	}
	if ((rc = daemon_cli_opts(b, spec, &cli)))
		goto out;
	const char *se, *me;
	if ((rc = opt_str(b, spec, "stream_enable", &se)) ||
	    (rc = opt_str(b, spec, "msg_enable", &me)))
		goto out;
	for (size_t k = 0; k < D.count; k++) {
		long prev = maestro_index_get(&b->m->daemon_ix, D.names[k]);
		if (prev >= 0) {
			struct maestro_daemon *p = &b->m->daemons[prev];
			rc = err_at(b, names,
				    "daemon \"%s\" is defined twice (first in the daemons entry at "
				    "line %d, column %d)",
				    D.names[k], p->line, p->col);
			goto out;
		}
		struct maestro_daemon *d;
		size_t di = b->m->n_daemons;
		if ((rc = new_daemon(b, &d)))
			goto out;
		d->line = spec->line;
		d->col = spec->col;
		if (!(d->name = xstrdup(b, D.names[k])) || !(d->addr = xstrdup(b, H.names[k])) ||
		    !(b->entry_names[di] =
			  xstrdup(b, cy_str(names) ? cy_str(names) : D.names[k]))) {
			rc = -ENOMEM;
			goto out;
		}
		if (maestro_index_put(&b->m->daemon_ix, d->name, di)) {
			rc = NOMEM(b);
			goto out;
		}
		d->environment = cy_ref(env);
		d->cli_opt = cy_ref(cli);
		if ((se && !(d->stream_enable = xstrdup(b, se))) ||
		    (me && !(d->msg_enable = xstrdup(b, me)))) {
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
			if (!(nu[b->n_unused] = xstrdup(b, ee[i].names.names[k]))) {
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
		return err_at(b, b->root,
			      "KeyError: 'daemons': the \"daemons\" section is required");
	if (!cy_is_seq(ds))
		return err_at(b, ds,
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
			return err_at(b, v,
				      "config value of \"%s\" must be a value or a list of "
				      "values, found a mapping",
				      cfg->keys[i]->str);
		for (size_t j = 0; v->type == CY_SEQ && j < v->n; j++)
			if (v->vals[j]->type != CY_SCALAR)
				return err_at(b, v->vals[j],
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
		return err_at(b, ps,
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
		if (need_map(b, spec, "a plugin instance"))
			return -EINVAL;
		snprintf(where, sizeof(where), "\"plugin\" entry. Error in \"%s\" configuration",
			 inst);
		static const char *const rn[] = {"name", NULL}, *const rc_[] = {"config", NULL};
		if ((rc = required(b, spec, rn, where)) ||
		    (rc = required(b, spec, rc_, "\"plugin\" entry")))
			return rc;
		unknown_keys(b, spec, known, "a plugin instance");
		struct cy_node *cfg = cy_map_get(spec, "config");
		if (!cy_is_seq(cfg))
			return err_at(b, cfg,
				      "\"config\" must be a list of configuration commands");
		for (size_t j = 0; j < cfg->n; j++) {
			struct cy_node *c = cfg->vals[j];
			if (c->type == CY_SEQ)
				return err_at(b, c,
					      "\"config\" list members must be a dictionary "
					      "or a string");
			if (c->type == CY_MAP && (rc = check_cfg_dict(b, c)))
				return rc;
		}
		struct maestro_plugin *p = &m->plugins[m->n_plugins++];
		const char *name;
		if (opt_str(b, spec, "name", &name))
			return -EINVAL;
		if (!(p->inst = xstrdup(b, inst)) || !(p->name = xstrdup(b, name)))
			return -ENOMEM;
		p->config = cy_ref(cfg);
		if ((rc = opt_interval(b, spec, "interval", &p->interval_us)) ||
		    (rc = opt_interval(b, spec, "offset", &p->offset_us)))
			return rc;
		char *perm;
		if ((rc = opt_perm(b, spec, &perm)))
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

static int check_plugin_ref(struct mb *b, const struct cy_node *ref)
{
	if (!ref || ref->type != CY_SCALAR)
		return err_at(b, ref, "a plugin instance reference must be a name, found %s",
			      cy_type_name(ref));
	if (maestro_model_plugin(b->m, ref->str) < 0)
		return err_at(b, ref,
			      "Configuration for plugin instance \"%s\" is not defined in the top "
			      "level \"plugins\" dictionary",
			      ref->str);
	return 0;
}

/* ---- advertise (§4.8) --------------------------------------------------------------------------
 */

/* The seed README's list form: [{names, to: <endpoint names>, reconnect, ...}]. The
 * aggregators' endpoints named by `to` give the hosts, port, transport and auth. */
static int legacy_advertise(struct mb *b, struct cy_node *list, struct cy_node **out)
{
	*out = NULL;
	if (list->n != 1)
		return err_at(b, list,
			      "\"advertise\" must be a single mapping (names, hosts, xprt, "
			      "port, reconnect)");
	struct cy_node *it = list->vals[0], *to = cy_map_get(it, "to");
	if (need_map(b, it, "an \"advertise\" entry"))
		return -EINVAL;
	if (!to)
		return err_at(b, it,
			      "The \"to\" attribute is required in an \"advertise\" list "
			      "entry (older form)");
	struct ldms_hostlist tos;
	ldms_hostlist_init(&tos);
	int rc = expand(b, to, &tos);
	size_t hl = 1;
	char *hosts = NULL;
	const struct maestro_endpoint *first = NULL;
	for (size_t i = 0; !rc && i < tos.count; i++) {
		long r = maestro_index_get(&b->ep_ix, tos.names[i]);
		if (r < 0) {
			rc = err_at(b, to,
				    "advertise target \"%s\" is not an endpoint of any daemon",
				    tos.names[i]);
			break;
		}
		const struct maestro_daemon *d = &b->m->daemons[b->ep_refs[r].daemon];
		const struct maestro_endpoint *e = &d->ep[b->ep_refs[r].ep];
		if (!first)
			first = e;
		else if (strcmp(first->port, e->port) || strcmp(first->xprt, e->xprt)) {
			rc = err_at(b, to, "advertise targets must share one port and transport");
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
		rc = err_at(b, to, "advertise \"to\" names no endpoint");
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

static int build_advertiser(struct mb *b, const struct cy_node *spec, const char *group)
{
	struct cy_node *ad = cy_map_get(spec, "advertise"), *own = NULL;
	struct maestro_model *m = b->m;
	int rc;
	if (!ad)
		return 0;
	if (cy_is_seq(ad)) {
		if ((rc = legacy_advertise(b, ad, &own)))
			return rc;
		ad = own;
	}
	if ((rc = need_map(b, ad, "\"advertise\"")))
		goto out;
	static const char *const req[] = {"names", "hosts", "xprt", "port", "reconnect", NULL};
	static const char *const known[] = {"names",	 "hosts", "xprt", "port",
					    "reconnect", "perm",  "rail", "quota",
					    "rx_rate",	 "auth",  NULL};
	if ((rc = required(b, ad, req, "\"advertise\" entry")))
		goto out;
	unknown_keys(b, ad, known, "\"advertise\"");
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
		if (!(a->group = xstrdup(b, group))) {
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
		auth_clear(&a->auth);
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
	if ((rc = expand(b, cy_map_get(ad, "names"), &a->names_x)) ||
	    (rc = expand(b, gnode, &a->ad_list)))
		goto out;
	if (a->names_x.count != a->ad_list.count) {
		rc =
		    err_at(b, cy_map_get(ad, "names"),
			   "Please provide a hostlist for \"names\" that is equal to the number of "
			   "daemons to advertise from (%zu names for %zu daemons)",
			   a->names_x.count, a->ad_list.count);
		goto out;
	}
	if ((rc = expand(b, cy_map_get(ad, "hosts"), &a->hosts_x)))
		goto out;
	const char *x;
	if ((rc = opt_str(b, ad, "xprt", &x)) || (rc = opt_str(b, ad, "port", &x)) ||
	    (rc = opt_str(b, ad, "reconnect", &x)) || (rc = opt_str(b, ad, "rail", &x)) ||
	    (rc = opt_str(b, ad, "quota", &x)) || (rc = opt_str(b, ad, "rx_rate", &x)))
		goto out;
	a->names = cy_ref(cy_map_get(ad, "names"));
	a->hosts = cy_ref(cy_map_get(ad, "hosts"));
	a->xprt = cy_ref(cy_map_get(ad, "xprt"));
	a->port = cy_ref(cy_map_get(ad, "port"));
	a->reconnect = cy_ref(cy_map_get(ad, "reconnect"));
	a->rail = cy_ref(cy_map_get(ad, "rail"));
	a->quota = cy_ref(cy_map_get(ad, "quota"));
	a->rx_rate = cy_ref(cy_map_get(ad, "rx_rate"));
	if ((rc = auth_of(b, ad, &a->auth)) || (rc = opt_perm(b, ad, &a->perm)))
		goto out;
out:
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
		return err_at(b, pls, "\"prdcr_listen\" must be a list of producer listeners");
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
		if ((rc = need_map(b, pl, "a \"prdcr_listen\" entry")) ||
		    (rc = required(b, pl, req, "\"prdcr_listen\" entry")))
			return rc;
		unknown_keys(b, pl, known, "a \"prdcr_listen\" entry");
		struct maestro_listener_group *g = maestro_model_listeners(m, group);
		if (!g) {
			struct maestro_listener_group *ng =
			    realloc(m->lgrp, (m->n_lgrp + 1) * sizeof(*ng));
			if (!ng)
				return NOMEM(b);
			m->lgrp = ng;
			g = &m->lgrp[m->n_lgrp++];
			memset(g, 0, sizeof(*g));
			if (!(g->group = xstrdup(b, group)))
				return -ENOMEM;
		}
		struct maestro_listener l = {0};
		struct maestro_auth au;
		const char *name;
		if ((rc = opt_str(b, pl, "name", &name)))
			return rc;
		if (!(l.name = xstrdup(b, name)))
			return -ENOMEM;
		if ((rc = opt_interval(b, pl, "reconnect", &l.reconnect_us)) ||
		    (rc = dup_opt(b, pl, "disable_start", &l.disable_start)) ||
		    (rc = dup_opt(b, pl, "ip", &l.ip)) || (rc = dup_opt(b, pl, "rail", &l.rail)) ||
		    (rc = dup_opt(b, pl, "quota", &l.quota)) ||
		    (rc = dup_opt(b, pl, "rx_rate", &l.rx_rate)) ||
		    (rc = dup_opt(b, pl, "regex", &l.regex)) ||
		    (rc = dup_opt(b, pl, "type", &l.type)) ||
		    (rc = dup_opt(b, pl, "advertiser_xprt", &l.advertiser_xprt)) ||
		    (rc = dup_opt(b, pl, "advertiser_port", &l.advertiser_port)) ||
		    (rc = auth_of(b, pl, &au)))
			goto fail;
		l.advertiser_auth = au.name;
		au.name = NULL;
		auth_clear(&au);
		if (!b->opts->upstream_compat && cy_map_get(pl, "advertiser_auth")) {
			free(l.advertiser_auth);
			if ((rc = dup_opt(b, pl, "advertiser_auth", &l.advertiser_auth)))
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
	if (!(g->group = xstrdup(b, group)))
		return NULL;
	m->n_agrp++;
	return g;
}

static int group_name(struct mb *b, const struct cy_node *n, const char *what, const char **out)
{
	if (!n || n->type != CY_SCALAR)
		return err_at(b, n,
			      "%s must be a hostlist string naming a group of daemons, found %s",
			      what, cy_type_name(n));
	*out = n->str;
	return 0;
}

static void check_members(struct mb *b, const struct cy_node *at, const struct ldms_hostlist *h,
			  const char *what)
{
	for (size_t i = 0; i < h->count; i++)
		if (maestro_model_daemon(b->m, h->names[i]) < 0) {
			warn(b, at, "%s member \"%s\" is not a daemon defined in \"daemons\"", what,
			     h->names[i]);
			return;
		}
}

static int build_subscribe(struct mb *b, struct cy_node *sub, const char *group)
{
	if (!cy_is_seq(sub))
		return err_at(b, sub, "\"subscribe\" must be a list");
	static const char *const known[] = {"regex",	       "stream",  "message_tag",
					    "message_channel", "rx_rate", NULL};
	for (size_t i = 0; i < sub->n; i++) {
		struct cy_node *s = sub->vals[i];
		static const char *const req[] = {"regex", NULL};
		int rc;
		if ((rc = need_map(b, s, "a \"subscribe\" entry")) ||
		    (rc = required(b, s, req, "\"aggregators\" stream specification")))
			return rc;
		unknown_keys(b, s, known, "a \"subscribe\" entry");
		for (size_t k = 0; k < s->n; k++)
			if (s->vals[k]->type != CY_SCALAR)
				return err_at(b, s->vals[k], "\"%s\" must be a single value",
					      s->keys[k]->str);
		const char *mt = cy_str(cy_map_get(s, "message_tag")),
			   *st = cy_str(cy_map_get(s, "stream")),
			   *mc = cy_str(cy_map_get(s, "message_channel"));
		if (!(mt && *mt) && !(st && *st) && !(mc && *mc))
			return err_at(
			    b, s,
			    "\"subscribe\" for hostlist %s must contain either a \"stream\" "
			    "or \"message_tag\" attribute",
			    group);
	}
	return 0;
}

static int build_aggregators(struct mb *b)
{
	struct cy_node *as = cy_map_get(b->root, "aggregators");
	if (!as)
		return 0;
	if (!cy_is_seq(as))
		return err_at(b, as,
			      "aggregators spec must be a list of dictionaries, specified "
			      "with \"-\" in the ldms_config yaml file");
	static const char *const known[] = {
	    "daemons", "peers", "prdcr_listen", "advertise", "subscribe", "plugins", NULL};
	for (size_t i = 0; i < as->n; i++) {
		struct cy_node *spec = as->vals[i];
		static const char *const req[] = {"daemons", NULL};
		const char *group;
		struct ldms_hostlist names;
		int rc;
		if ((rc = need_map(b, spec, "an \"aggregators\" entry")) ||
		    (rc = required(b, spec, req, "\"aggregators\" entry")) ||
		    (rc = group_name(b, cy_map_get(spec, "daemons"), "\"daemons\"", &group)))
			return rc;
		unknown_keys(b, spec, known, "an \"aggregators\" entry");
		ldms_hostlist_init(&names);
		if ((rc = expand(b, cy_map_get(spec, "daemons"), &names)))
			return rc;
		if (!names.count) {
			ldms_hostlist_free(&names);
			return err_at(b, cy_map_get(spec, "daemons"),
				      "aggregator group \"%s\" expands to no daemon", group);
		}
		check_members(b, cy_map_get(spec, "daemons"), &names, "aggregator group");
		struct cy_node *plugins = cy_map_get(spec, "plugins"), *sub;
		if (plugins && !(cy_str(plugins) && !*cy_str(plugins))) {
			if (!cy_is_seq(plugins)) {
				ldms_hostlist_free(&names);
				return err_at(
				    b, plugins,
				    "\"plugins\" must be a list of plugin instance names");
			}
			for (size_t k = 0; k < plugins->n; k++)
				if ((rc = check_plugin_ref(b, plugins->vals[k]))) {
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
				if (!(g->m[at].name = xstrdup(b, nm))) {
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
		if ((rc = build_advertiser(b, spec, group)) ||
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

static void strv_free(char **v, size_t n)
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
	if (!(g->group = xstrdup(b, group)))
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
		char **f[] = {&o->name, &o->daemon, &o->dmn_grp,      &o->endpoint,
			      &o->type, &o->group,  &o->reconnect_us, &o->perm,
			      &o->rail, &o->quota,  &o->rx_rate,      &o->cache_ip};
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			free(*f[k]);
		cy_unref(o->updaters);
		*o = p;
		return maestro_index_put(&g->ix, o->name, (size_t)at) ? NOMEM(b) : 0;
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
		return err_at(b, at, "peer daemon \"%s\" is not defined in \"daemons\"", daemon);
	}
	long r = maestro_index_get(&b->ep_ix, ep);
	if (r >= 0)
		return err_at(b, at,
			      "peer endpoint \"%s\" belongs to daemon \"%s\", but the pairing of "
			      "\"endpoints\" with \"daemons\" maps it to \"%s\"",
			      ep, b->m->daemons[b->ep_refs[r].daemon].name, daemon);
	if (maestro_index_get(&b->unused_ix, ep) >= 0)
		return err_at(
		    b, at,
		    "peer endpoint \"%s\" is not an endpoint of any daemon: its endpoints "
		    "entry has more names than daemons (give each port its own "
		    "endpoints entry)",
		    ep);
	return err_at(b, at, "peer endpoint \"%s\" is not an endpoint of daemon \"%s\"", ep,
		      daemon);
}

/* Seed README form: no `daemons`; the endpoints' owners are the producers' daemons. */
static int legacy_peer(struct mb *b, struct maestro_producer_group *g, struct cy_node *eps,
		       const struct peer_common *pc)
{
	struct ldms_hostlist names;
	ldms_hostlist_init(&names);
	int rc = expand(b, eps, &names);
	for (size_t i = 0; !rc && i < names.count; i++) {
		long r = maestro_index_get(&b->ep_ix, names.names[i]);
		if (r < 0) {
			rc = err_at(
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
	if ((rc = need_map(b, prod, "a \"peers\" entry")) ||
	    (rc = required(b, prod, req, "\"peers\" entry")))
		return rc;
	unknown_keys(b, prod, known, "a \"peers\" entry");
	struct maestro_producer_group *g = prdcr_group(b, group);
	if (!g)
		return -ENOMEM;
	if ((rc = opt_str(b, prod, "type", &pc.type)) ||
	    (rc = interval(b, cy_map_get(prod, "reconnect"), &pc.reconnect_us)) ||
	    (rc = opt_perm(b, prod, &pc.perm)) || (rc = opt_str(b, prod, "rail", &pc.rail)) ||
	    (rc = opt_str(b, prod, "quota", &pc.quota)) ||
	    (rc = opt_str(b, prod, "rx_rate", &pc.rx_rate)) ||
	    (rc = opt_str(b, prod, "cache_ip", &pc.cache_ip)))
		goto out;
	pc.updaters = cy_map_get(prod, "updaters");
	struct cy_node *dn = cy_map_get(prod, "daemons"), *en = cy_map_get(prod, "endpoints");
	if (!dn) {
		rc = legacy_peer(b, g, en, &pc);
		goto out;
	}
	const char *dstr, *estr;
	if ((rc = group_name(b, dn, "peer \"daemons\"", &dstr)) ||
	    (rc = group_name(b, en, "peer \"endpoints\"", &estr)))
		goto out;
	char **dg = NULL, **eg = NULL;
	size_t ndg = 0, neg = 0;
	if (maestro_model_daemon(b->m, dstr) < 0) {
		if ((rc = split_top(b, dstr, &dg, &ndg)) || (rc = split_top(b, estr, &eg, &neg)))
			goto out2;
		if (ndg != neg) {
			rc = err_at(b, en,
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
		rc = maestro_expand_names(&(struct cy_node){.type = CY_SCALAR, .str = eg[k]},
					  &names, &emsg);
		if (!rc)
			rc = maestro_expand_names(
			    &(struct cy_node){.type = CY_SCALAR, .str = dg[k]}, &dmns, &emsg);
		if (rc == -ENOMEM) {
			rc = NOMEM(b);
		} else if (rc) {
			rc = err_at(b, en, "bad hostlist in peer \"%s\" / \"%s\": %s", dg[k], eg[k],
				    emsg);
		} else if (!dmns.count) {
			rc = err_at(b, dn, "peer \"daemons\" \"%s\" expands to no daemon", dg[k]);
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
			rc = err_at(b, en,
				    "Mismatch in producer config: Please ensure \"endpoints\" "
				    "is configured to the correct number of ports specified.");
		}
		ldms_hostlist_free(&names);
		ldms_hostlist_free(&dmns);
	}
out2:
	strv_free(dg, ndg);
	strv_free(eg, neg);
out:
	free(pc.reconnect_us);
	free(pc.perm);
	return rc;
}

static int build_producers(struct mb *b)
{
	struct cy_node *as = cy_map_get(b->root, "aggregators");
	for (size_t i = 0; cy_is_seq(as) && i < as->n; i++) {
		struct cy_node *agg = as->vals[i], *peers = cy_map_get(agg, "peers");
		if (!peers)
			continue;
		if (!cy_is_seq(peers))
			return err_at(b, peers,
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
		return err_at(b, v, "\"producers\" must be a regex or a list of regexes");
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
	int rc = expand(b, v, &h);
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
	if ((rc = need_map(b, spec, "an \"updaters\" entry")) ||
	    (rc = required(b, spec, req, "\"updaters\" entry")))
		return rc;
	unknown_keys(b, spec, known, "an \"updaters\" entry");
	struct cy_node *sets = cy_map_get(spec, "sets");
	if (sets && cy_str(sets) && !*cy_str(sets))
		sets = NULL;
	if (sets && !cy_is_seq(sets))
		return err_at(b, sets,
			      "Error parsing YAML configuration in \"updaters\". \"sets\" "
			      "must be a list of dictionaries");
	for (size_t i = 0; sets && i < sets->n; i++) {
		static const char *const sreq[] = {"regex", "field", NULL};
		static const char *const sknown[] = {"regex", "field", NULL};
		struct cy_node *s = sets->vals[i];
		const char *x;
		if ((rc = need_map(b, s, "a \"sets\" entry")) ||
		    (rc = required(b, s, sreq, "\"sets\" entry of an updater")) ||
		    (rc = opt_str(b, s, "regex", &x)) || (rc = opt_str(b, s, "field", &x)))
			return rc;
		unknown_keys(b, s, sknown, "a \"sets\" entry");
	}
	struct maestro_updater *nu = realloc(g->u, (g->n + 1) * sizeof(*nu));
	if (!nu)
		return NOMEM(b);
	g->u = nu;
	struct maestro_updater *u = &g->u[g->n++];
	memset(u, 0, sizeof(*u));
	char name[32];
	snprintf(name, sizeof(name), "updtr_%d", b->updtr_cnt++);
	if (!(u->name = xstrdup(b, name)) || !(u->group = xstrdup(b, group)))
		return -ENOMEM;
	if ((rc = opt_perm(b, spec, &u->perm)))
		return rc;
	struct cy_node *pr = cy_map_get(spec, "producers");
	if (pr && cy_str(pr) && !*cy_str(pr))
		pr = NULL;
	if (pr ? (rc = updater_producers(b, u, pr)) : (rc = add_regex(b, u, ".*")))
		return rc;
	if ((rc = interval(b, cy_map_get(spec, "interval"), &u->interval_us)) ||
	    (rc = opt_interval(b, spec, "offset", &u->offset_us)))
		return rc;
	const char *mode;
	if ((rc = opt_str(b, spec, "mode", &mode)))
		return rc;
	if (mode && strcmp(mode, "pull") && strcmp(mode, "push") && strcmp(mode, "onchange") &&
	    strcmp(mode, "auto") && strcmp(mode, "auto_interval"))
		return err_at(b, cy_map_get(spec, "mode"),
			      "updater mode \"%s\" is not one of pull, push, onchange, auto, "
			      "auto_interval",
			      mode);
	if (!(u->mode = xstrdup(b, mode ? mode : "pull")))
		return -ENOMEM;
	u->sets = cy_ref(sets);
	return 0;
}

static int build_updaters(struct mb *b)
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
					return err_at(b, ups,
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
					if (!(g->group = xstrdup(b, group)))
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
		return err_at(b, ss,
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
		if ((rc = need_map(b, spec, "a \"stores\" entry")) ||
		    (rc = required(b, spec, rp, "\"store\" entry")))
			return rc;
		unknown_keys(b, spec, known, "a \"stores\" entry");
		struct maestro_store s = {0};
		if ((rc = dup_truthy(b, spec, "container", &s.container)))
			goto fail;
		if (!s.container) {
			rc = required(b, spec, rct, "\"store\" entry");
			if (!rc)
				rc = err_at(b, cy_map_get(spec, "container"),
					    "\"container\" must not be empty");
			goto fail;
		}
		if ((rc = dup_truthy(b, spec, "decomposition", &s.decomposition)) ||
		    (!s.decomposition && (rc = required(b, spec, rs, "\"store\" entry"))) ||
		    (rc = dup_truthy(b, spec, "schema", &s.schema)) ||
		    (rc = dup_truthy(b, spec, "regex", &s.regex)))
			goto fail;
		if (s.decomposition && !s.schema && !s.regex) {
			rc = err_at(b, spec,
				    "Decomposition plugin configuration requires either "
				    "\"schema\" or \"regex\" attribute");
			goto fail;
		}
		if (s.decomposition && s.schema && s.regex) {
			rc = err_at(b, spec,
				    "Please specify either \"schema\" or \"regex\" when using "
				    "decomposition - these parameters are mutually exclusive.");
			goto fail;
		}
		const char *group;
		if ((rc = required(b, spec, rd, "\"store\" entry")) ||
		    (rc = group_name(b, cy_map_get(spec, "daemons"), "store \"daemons\"", &group)))
			goto fail;
		if ((rc = dup_opt(b, spec, "flush", &s.flush)) ||
		    (rc = opt_interval(b, spec, "flush", &s.flush_us)) ||
		    (rc = opt_perm(b, spec, &s.perm)))
			goto fail;
		if ((rc = check_plugin_ref(b, cy_map_get(spec, "plugin"))))
			goto fail;
		if (!(s.name = xstrdup(b, name)) ||
		    !(s.plugin = xstrdup(b, cy_str(cy_map_get(spec, "plugin"))))) {
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
			if (!(g->group = xstrdup(b, group))) {
				rc = -ENOMEM;
				goto fail;
			}
			if ((rc = expand(b, cy_map_get(spec, "daemons"), &g->members)))
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

static int build_samplers(struct mb *b)
{
	struct cy_node *ss = cy_map_get(b->root, "samplers");
	struct maestro_model *m = b->m;
	if (!ss)
		return 0;
	m->has_samplers = 1;
	if (!cy_is_seq(ss))
		return err_at(b, ss,
			      "samplers spec must be a list of dictionaries, specified with "
			      "\"-\" in the ldms_config yaml file");
	static const char *const known[] = {"daemons", "plugins", "advertise", NULL};
	for (size_t i = 0; i < ss->n; i++) {
		struct cy_node *spec = ss->vals[i];
		static const char *const req[] = {"daemons", "plugins", NULL};
		const char *group;
		int rc;
		if ((rc = need_map(b, spec, "a \"samplers\" entry")) ||
		    (rc = required(b, spec, req, "\"sampler\" entry")) ||
		    (rc =
			 group_name(b, cy_map_get(spec, "daemons"), "sampler \"daemons\"", &group)))
			return rc;
		unknown_keys(b, spec, known, "a \"samplers\" entry (kept)");
		if ((rc = build_advertiser(b, spec, group)))
			return rc;
		struct cy_node *pl = cy_map_get(spec, "plugins");
		if (!cy_is_seq(pl))
			return err_at(b, pl,
				      "sampler \"plugins\" must be a list of plugin instance "
				      "names, found %s",
				      cy_type_name(pl));
		for (size_t k = 0; k < pl->n; k++) {
			if ((rc = check_plugin_ref(b, pl->vals[k])))
				return rc;
			const struct maestro_plugin *p =
			    &m->plugins[maestro_model_plugin(m, pl->vals[k]->str)];
			if (!p->interval_us)
				return err_at(
				    b, pl->vals[k],
				    "The \"interval\" attribute is required in \"plugin\" "
				    "entry \"%s\" (it is started by sampler group %s)",
				    p->inst, group);
		}
		struct maestro_sampler_group *g = NULL;
		for (size_t k = 0; k < m->n_sgrp; k++)
			if (strcmp(m->sgrp[k].group, group) == 0)
				g = &m->sgrp[k];
		if (!g) {
			struct maestro_sampler_group *ng =
			    realloc(m->sgrp, (m->n_sgrp + 1) * sizeof(*ng));
			if (!ng)
				return NOMEM(b);
			m->sgrp = ng;
			g = &m->sgrp[m->n_sgrp++];
			memset(g, 0, sizeof(*g));
			if (!(g->group = xstrdup(b, group)))
				return -ENOMEM;
		} else {
			/* a later entry for the same group replaces it (dict semantics) */
			cy_unref(g->spec);
			strv_free(g->plugins, g->n_plugins);
			ldms_hostlist_free(&g->members);
			g->spec = NULL;
			g->plugins = NULL;
			g->n_plugins = 0;
		}
		g->spec = cy_ref(spec);
		if ((rc = expand(b, cy_map_get(spec, "daemons"), &g->members)))
			return rc;
		check_members(b, cy_map_get(spec, "daemons"), &g->members, "sampler group");
		if (pl->n && !(g->plugins = calloc(pl->n, sizeof(char *))))
			return NOMEM(b);
		for (size_t k = 0; k < pl->n; k++) {
			if (!(g->plugins[k] = xstrdup(b, pl->vals[k]->str)))
				return -ENOMEM;
			g->n_plugins++;
		}
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
		return err_at(&b, doc->root,
			      "the configuration must be a mapping with a "
			      "\"daemons\" section, found %s",
			      cy_type_name(doc->root));
	if (!(b.m = maestro_model_new()))
		return NOMEM(&b);
	static const char *const known[] = {"daemons", "aggregators", "samplers",
					    "plugins", "stores",      NULL};
	unknown_keys(&b, doc->root, known, "the top level");
	if (!(rc = build_daemons(&b)) && !(rc = build_plugins(&b)) &&
	    !(rc = build_aggregators(&b)) && !(rc = build_producers(&b)) &&
	    !(rc = build_updaters(&b)) && !(rc = build_stores(&b)) && !(rc = build_samplers(&b)))
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
