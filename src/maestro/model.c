/* Maestro model: lifetime, lookup tables, and the value conventions shared by the YAML and
 * etcd readers (intervals, permissions, expand_names; maestro.md §3). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---- name index ---------------------------------------------------------------------------- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int index_grow(struct maestro_index *ix)
{
	size_t nb = ix->nb ? ix->nb * 2 : 64;
	const char **names = calloc(nb, sizeof(*names));
	size_t *idx = calloc(nb, sizeof(*idx));
	if (!names || !idx) {
		free(names);
		free(idx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ix->nb; i++) {
		if (!ix->names[i])
			continue;
		size_t b = name_hash(ix->names[i]) & (nb - 1);
		while (names[b])
			b = (b + 1) & (nb - 1);
		names[b] = ix->names[i];
		idx[b] = ix->idx[i];
	}
	free(ix->names);
	free(ix->idx);
	ix->names = names;
	ix->idx = idx;
	ix->nb = nb;
	return 0;
}

int maestro_index_put(struct maestro_index *ix, const char *name, size_t idx)
{
	if ((ix->count + 1) * 2 > ix->nb && index_grow(ix))
		return -ENOMEM;
	size_t b = name_hash(name) & (ix->nb - 1);
	while (ix->names[b]) {
		if (strcmp(ix->names[b], name) == 0) {
			ix->idx[b] = idx;
			return 0;
		}
		b = (b + 1) & (ix->nb - 1);
	}
	ix->names[b] = name;
	ix->idx[b] = idx;
	ix->count++;
	return 0;
}

long maestro_index_get(const struct maestro_index *ix, const char *name)
{
	if (!ix->nb)
		return -1;
	size_t b = name_hash(name) & (ix->nb - 1);
	while (ix->names[b]) {
		if (strcmp(ix->names[b], name) == 0)
			return (long)ix->idx[b];
		b = (b + 1) & (ix->nb - 1);
	}
	return -1;
}

void maestro_index_free(struct maestro_index *ix)
{
	free(ix->names);
	free(ix->idx);
	memset(ix, 0, sizeof(*ix));
}

/* ---- lifetime -------------------------------------------------------------------------------- */

struct maestro_model *maestro_model_new(void)
{
	return calloc(1, sizeof(struct maestro_model));
}

static void auth_free(struct maestro_auth *a)
{
	free(a->name);
	free(a->plugin);
	free(a->conf);
}

static void daemon_free(struct maestro_daemon *d)
{
	free(d->name);
	free(d->addr);
	cy_unref(d->environment);
	cy_unref(d->cli_opt);
	free(d->stream_enable);
	free(d->msg_enable);
	for (size_t i = 0; i < d->n_ep; i++) {
		struct maestro_endpoint *e = &d->ep[i];
		free(e->name);
		free(e->port);
		free(e->xprt);
		auth_free(&e->auth);
		free(e->bind_all);
		free(e->host);
	}
	free(d->ep);
	free(d->sgrp);
	free(d->agrp);
	free(d->stgrp);
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void maestro_model_free(struct maestro_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_daemons; i++)
		daemon_free(&m->daemons[i]);
	free(m->daemons);
	maestro_index_free(&m->daemon_ix);
	for (size_t i = 0; i < m->n_plugins; i++) {
		struct maestro_plugin *p = &m->plugins[i];
		free(p->inst);
		free(p->name);
		cy_unref(p->spec);
		cy_unref(p->config);
		free(p->interval_us);
		free(p->offset_us);
	}
	free(m->plugins);
	maestro_index_free(&m->plugin_ix);
	for (size_t i = 0; i < m->n_adv; i++) {
		struct maestro_advertiser *a = &m->adv[i];
		free(a->group);
		cy_unref(a->names);
		cy_unref(a->hosts);
		cy_unref(a->xprt);
		cy_unref(a->port);
		cy_unref(a->reconnect);
		auth_free(&a->auth);
		free(a->perm);
		cy_unref(a->rail);
		cy_unref(a->quota);
		cy_unref(a->rx_rate);
		ldms_hostlist_free(&a->hosts_x);
		ldms_hostlist_free(&a->names_x);
		ldms_hostlist_free(&a->ad_list);
	}
	free(m->adv);
	for (size_t i = 0; i < m->n_lgrp; i++) {
		struct maestro_listener_group *g = &m->lgrp[i];
		for (size_t j = 0; j < g->n; j++) {
			struct maestro_listener *l = &g->l[j];
			char **f[] = {&l->name,
				      &l->reconnect_us,
				      &l->disable_start,
				      &l->ip,
				      &l->rail,
				      &l->quota,
				      &l->rx_rate,
				      &l->regex,
				      &l->type,
				      &l->advertiser_xprt,
				      &l->advertiser_port,
				      &l->advertiser_auth};
			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
				free(*f[k]);
		}
		free(g->l);
		free(g->group);
	}
	free(m->lgrp);
	for (size_t i = 0; i < m->n_agrp; i++) {
		struct maestro_agg_group *g = &m->agrp[i];
		for (size_t j = 0; j < g->n; j++) {
			free(g->m[j].name);
			cy_unref(g->m[j].subscribe);
			cy_unref(g->m[j].plugins);
		}
		free(g->m);
		free(g->group);
		ldms_hostlist_free(&g->members);
	}
	free(m->agrp);
	for (size_t i = 0; i < m->n_pgrp; i++) {
		struct maestro_producer_group *g = &m->pgrp[i];
		for (size_t j = 0; j < g->n; j++) {
			struct maestro_producer *p = &g->p[j];
			char **f[] = {&p->name, &p->daemon, &p->dmn_grp,      &p->endpoint,
				      &p->type, &p->group,  &p->reconnect_us, &p->perm,
				      &p->rail, &p->quota,  &p->rx_rate,      &p->cache_ip};
			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
				free(*f[k]);
			cy_unref(p->updaters);
		}
		free(g->p);
		free(g->group);
		maestro_index_free(&g->ix);
	}
	free(m->pgrp);
	for (size_t i = 0; i < m->n_ugrp; i++) {
		struct maestro_updater_group *g = &m->ugrp[i];
		for (size_t j = 0; j < g->n; j++) {
			struct maestro_updater *u = &g->u[j];
			free(u->name);
			free(u->group);
			free(u->interval_us);
			free(u->offset_us);
			free(u->mode);
			free(u->perm);
			cy_unref(u->sets);
			strs_free(u->producers, u->n_prod);
		}
		free(g->u);
		free(g->group);
	}
	free(m->ugrp);
	for (size_t i = 0; i < m->n_stgrp; i++) {
		struct maestro_store_group *g = &m->stgrp[i];
		for (size_t j = 0; j < g->n; j++) {
			struct maestro_store *s = &g->s[j];
			char **f[] = {&s->name,	  &s->plugin,	&s->container,
				      &s->schema, &s->regex,	&s->decomposition,
				      &s->flush,  &s->flush_us, &s->perm};
			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
				free(*f[k]);
			cy_unref(s->spec);
		}
		free(g->s);
		free(g->group);
		ldms_hostlist_free(&g->members);
	}
	free(m->stgrp);
	for (size_t i = 0; i < m->n_sgrp; i++) {
		struct maestro_sampler_group *g = &m->sgrp[i];
		free(g->group);
		cy_unref(g->spec);
		strs_free(g->plugins, g->n_plugins);
		ldms_hostlist_free(&g->members);
	}
	free(m->sgrp);
	free(m);
}

/* ---- lookups -----------------------------------------------------------------------------------
 */

long maestro_model_daemon(const struct maestro_model *m, const char *name)
{
	return maestro_index_get(&m->daemon_ix, name);
}

long maestro_model_plugin(const struct maestro_model *m, const char *inst)
{
	return maestro_index_get(&m->plugin_ix, inst);
}

struct maestro_producer_group *maestro_model_producers(const struct maestro_model *m,
						       const char *group)
{
	for (size_t i = 0; i < m->n_pgrp; i++)
		if (strcmp(m->pgrp[i].group, group) == 0)
			return &m->pgrp[i];
	return NULL;
}

struct maestro_updater_group *maestro_model_updaters(const struct maestro_model *m,
						     const char *group)
{
	for (size_t i = 0; i < m->n_ugrp; i++)
		if (strcmp(m->ugrp[i].group, group) == 0)
			return &m->ugrp[i];
	return NULL;
}

struct maestro_listener_group *maestro_model_listeners(const struct maestro_model *m,
						       const char *group)
{
	for (size_t i = 0; i < m->n_lgrp; i++)
		if (strcmp(m->lgrp[i].group, group) == 0)
			return &m->lgrp[i];
	return NULL;
}

struct maestro_advertiser *maestro_model_advertiser(const struct maestro_model *m,
						    const char *group)
{
	for (size_t i = 0; i < m->n_adv; i++)
		if (strcmp(m->adv[i].group, group) == 0)
			return &m->adv[i];
	return NULL;
}

static int push_idx(size_t **v, size_t *n, size_t x)
{
	size_t *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* Group membership is by the expanded group name (bin_search(expand_names(group), d)), so
 * walking each group's members once and looking them up by name gives every daemon its
 * groups in model order without a daemons x groups loop. */
int maestro_model_index(struct maestro_model *m, struct ldms_err *err)
{
	maestro_index_free(&m->daemon_ix);
	maestro_index_free(&m->plugin_ix);
	for (size_t i = 0; i < m->n_daemons; i++) {
		struct maestro_daemon *d = &m->daemons[i];
		d->n_sgrp = d->n_agrp = d->n_stgrp = 0;
		if (maestro_index_put(&m->daemon_ix, d->name, i))
			goto nomem;
	}
	for (size_t i = 0; i < m->n_plugins; i++)
		if (maestro_index_put(&m->plugin_ix, m->plugins[i].inst, i))
			goto nomem;
	for (size_t g = 0; g < m->n_sgrp; g++) {
		const struct ldms_hostlist *h = &m->sgrp[g].members;
		for (size_t k = 0; k < h->count; k++) {
			long d = maestro_model_daemon(m, h->names[k]);
			if (d >= 0 && push_idx(&m->daemons[d].sgrp, &m->daemons[d].n_sgrp, g))
				goto nomem;
		}
	}
	for (size_t g = 0; g < m->n_agrp; g++) {
		const struct ldms_hostlist *h = &m->agrp[g].members;
		for (size_t k = 0; k < h->count; k++) {
			long d = maestro_model_daemon(m, h->names[k]);
			if (d >= 0 && push_idx(&m->daemons[d].agrp, &m->daemons[d].n_agrp, g))
				goto nomem;
		}
	}
	for (size_t g = 0; g < m->n_stgrp; g++) {
		const struct ldms_hostlist *h = &m->stgrp[g].members;
		for (size_t k = 0; k < h->count; k++) {
			long d = maestro_model_daemon(m, h->names[k]);
			if (d >= 0 && push_idx(&m->daemons[d].stgrp, &m->daemons[d].n_stgrp, g))
				goto nomem;
		}
	}
	for (size_t g = 0; g < m->n_pgrp; g++) {
		struct maestro_producer_group *pg = &m->pgrp[g];
		maestro_index_free(&pg->ix);
		for (size_t k = 0; k < pg->n; k++) {
			struct maestro_producer *p = &pg->p[k];
			if (maestro_index_put(&pg->ix, p->name, k))
				goto nomem;
			p->daemon_idx = maestro_model_daemon(m, p->daemon);
			p->ep_idx = -1;
			if (p->daemon_idx < 0)
				continue;
			struct maestro_daemon *d = &m->daemons[p->daemon_idx];
			for (size_t e = 0; e < d->n_ep; e++)
				if (strcmp(d->ep[e].name, p->endpoint) == 0)
					p->ep_idx = (long)e;
		}
	}
	return 0;
nomem:
	return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
}

/* ---- value conventions ------------------------------------------------------------------------
 */

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Python int(): optional sign, digits with single underscores between them. */
static int py_int(const char *s, long long *out)
{
	size_t n = strlen(s);
	trim(&s, &n);
	int neg = 0;
	if (n && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++;
		n--;
	}
	if (!n || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
		return -EINVAL;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (s[i + 1] == '_')
				return -EINVAL;
			continue;
		}
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		if (v > (9223372036854775807ULL - (unsigned)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = neg ? -(long long)v : (long long)v;
	return 0;
}

static int digits_us(const char **p, const char *end, char **o)
{
	/* [0-9](_?[0-9])* */
	if (*p >= end || !isdigit((unsigned char)**p))
		return 0;
	while (*p < end) {
		if (isdigit((unsigned char)**p)) {
			*(*o)++ = *(*p)++;
		} else if (**p == '_' && *p + 1 < end && isdigit((unsigned char)(*p)[1])) {
			(*p)++;
		} else {
			break;
		}
	}
	return 1;
}

/* Python float(): decimal/exponent forms with PEP 515 underscores, inf/infinity/nan. */
static int py_float(const char *s, size_t n, double *out)
{
	trim(&s, &n);
	char buf[128], *o = buf;
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	const char *p = s, *end = s + n;
	if (*p == '+' || *p == '-')
		*o++ = *p++;
	size_t rest = (size_t)(end - p);
	if ((rest == 3 && strncasecmp(p, "inf", 3) == 0) ||
	    (rest == 8 && strncasecmp(p, "infinity", 8) == 0) ||
	    (rest == 3 && strncasecmp(p, "nan", 3) == 0)) {
		memcpy(o, p, rest);
		o[rest] = '\0';
		*out = strtod(buf, NULL);
		return 0;
	}
	int intd = digits_us(&p, end, &o), fracd = 0;
	if (p < end && *p == '.') {
		*o++ = *p++;
		fracd = digits_us(&p, end, &o);
	}
	if (!intd && !fracd)
		return -EINVAL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		*o++ = *p++;
		if (p < end && (*p == '+' || *p == '-'))
			*o++ = *p++;
		if (!digits_us(&p, end, &o))
			return -EINVAL;
	}
	if (p != end)
		return -EINVAL;
	*o = '\0';
	*out = strtod(buf, NULL);
	return 0;
}

static int env_ref(const char *s)
{
	/* ^\$(?:\{[A-Za-z][A-Za-z0-9_]*\}|[A-Za-z][A-Za-z0-9_]*)$ */
	const char *p = s + 1;
	int brace = *p == '{';
	if (brace)
		p++;
	if (!isalpha((unsigned char)*p) || (unsigned char)*p > 127)
		return 0;
	p++;
	while (*p && (isalnum((unsigned char)*p) || *p == '_') && (unsigned char)*p < 128)
		p++;
	if (brace) {
		if (*p != '}')
			return 0;
		p++;
	}
	return *p == '\0' || (*p == '\n' && p[1] == '\0');
}

int maestro_interval_us(const char *s, char **out, char *msg, size_t msglen)
{
	static const struct {
		const char *u;
		double mult;
	} units[] = {{"ms", 1000.0},   {"us", 1.0},	    {"m", 60000000.0},
		     {"s", 1000000.0}, {"h", 3600000000.0}, {"d", 86400000000.0}};
	*out = NULL;
	if (s[0] == '$') {
		if (!env_ref(s)) {
			snprintf(msg, msglen,
				 "\"%s\" is not a valid environment reference to a time-interval "
				 "string",
				 s);
			return -EINVAL;
		}
		*out = strdup(s);
		return *out ? 0 : -ENOMEM;
	}
	size_t n = strlen(s);
	char *low = malloc(n + 1);
	if (!low)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	const char *unit = NULL, *at = NULL;
	double mult = 1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if ((at = strstr(low, units[i].u))) {
			unit = units[i].u;
			mult = units[i].mult;
			break;
		}
	}
	long long v;
	int rc = 0;
	if (unit) {
		size_t ul = strlen(unit);
		/* split(unit)[1] must be empty: the unit is followed by the end or by the
		 * unit again */
		const char *after = at + ul;
		if (*after && strncmp(after, unit, ul) != 0) {
			snprintf(msg, msglen,
				 "%s is not a valid time-interval string (a number followed by one "
				 "unit: us, ms, s, m, h or d, e.g. 1.5s)",
				 s);
			rc = -EINVAL;
			goto out;
		}
		double f;
		if (py_float(low, (size_t)(at - low), &f)) {
			snprintf(msg, msglen, "\"%s\" is not a valid time-interval string", low);
			rc = -EINVAL;
			goto out;
		}
		double prod = f * mult;
		if (isnan(prod) || isinf(prod)) {
			snprintf(msg, msglen, "cannot convert float %s to integer (\"%s\")",
				 isnan(prod) ? "NaN" : "infinity", s);
			rc = -EINVAL;
			goto out;
		}
		if (prod >= 9223372036854775807.0 || prod <= -9223372036854775807.0) {
			snprintf(msg, msglen, "time interval \"%s\" is out of range", s);
			rc = -ERANGE;
			goto out;
		}
		v = (long long)prod; /* int() truncates toward zero */
	} else {
		rc = py_int(low, &v);
		if (rc == -ERANGE) {
			snprintf(msg, msglen, "time interval \"%s\" is out of range", s);
			goto out;
		}
		if (rc) {
			snprintf(msg, msglen, "invalid literal for int() with base 10: '%s'", low);
			goto out;
		}
	}
	char num[32];
	snprintf(num, sizeof(num), "%lld", v);
	*out = strdup(num);
	if (!*out)
		rc = -ENOMEM;
out:
	free(low);
	return rc;
}

int maestro_perm(const char *s, char **out, char *msg, size_t msglen)
{
	unsigned v = 0;
	size_t n = strlen(s);
	*out = NULL;
	if (n == 9 && (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') && s[2] == '-' &&
	    (s[3] == 'r' || s[3] == '-') && (s[4] == 'w' || s[4] == '-') && s[5] == '-' &&
	    (s[6] == 'r' || s[6] == '-') && (s[7] == 'w' || s[7] == '-') && s[8] == '-') {
		v = (s[0] == 'r' ? 0400 : 0) | (s[1] == 'w' ? 0200 : 0) | (s[3] == 'r' ? 040 : 0) |
		    (s[4] == 'w' ? 020 : 0) | (s[6] == 'r' ? 04 : 0) | (s[7] == 'w' ? 02 : 0);
	} else {
		const char *d = s;
		/* 0?[0-7]{1,3}; ldms-c also takes Python's 0o prefix (the seed README) */
		if ((d[0] == '0') && (d[1] == 'o' || d[1] == 'O'))
			d += 2;
		else if (d[0] == '0' && d[1])
			d += 1;
		size_t k = strlen(d);
		int ok = k >= 1 && k <= 3;
		for (size_t i = 0; ok && i < k; i++)
			ok = d[i] >= '0' && d[i] <= '7';
		if (!ok) {
			snprintf(msg, msglen,
				 "permission string \"%s\" is not a valid octal: use an octal "
				 "number (0640) or the form (r|-)(w|-)-(r|-)(w|-)-(r|-)(w|-)-",
				 s);
			return -EINVAL;
		}
		for (size_t i = 0; i < k; i++)
			v = v * 8 + (unsigned)(d[i] - '0');
	}
	char buf[8];
	snprintf(buf, sizeof(buf), "0%o", v);
	if (v == 0)
		snprintf(buf, sizeof(buf), "00");
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

int maestro_expand_names(const struct cy_node *spec, struct ldms_hostlist *out, const char **errmsg)
{
	return maestro_expand_names_max(spec, out, 0, errmsg);
}

int maestro_expand_names_max(const struct cy_node *spec, struct ldms_hostlist *out,
			     size_t max_names, const char **errmsg)
{
	int rc = 0;
	if (!max_names)
		max_names = LDMS_HOSTLIST_MAX_TOTAL;
	if (!spec) {
		*errmsg = "missing hostlist";
		return -EINVAL;
	}
	if (spec->type == CY_SCALAR) {
		rc = ldms_hostlist_expand_max(spec->str, out, max_names, errmsg);
	} else if (spec->type == CY_SEQ) {
		for (size_t i = 0; i < spec->n && !rc; i++) {
			if (spec->vals[i]->type != CY_SCALAR) {
				*errmsg = "a hostlist list may only contain strings";
				return -EINVAL;
			}
			rc = ldms_hostlist_expand_max(spec->vals[i]->str, out, max_names, errmsg);
		}
	} else {
		*errmsg = "a hostlist must be a string or a list of strings";
		return -EINVAL;
	}
	if (!rc)
		ldms_hostlist_sort(out);
	return rc;
}
