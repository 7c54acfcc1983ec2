/* Key/value list helpers and the name escaping used by maestro's etcd layout
 * (docs/maestro-etcd-layout.md), and the model <-> kv conversions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_util.h"
#include "etcd_kv.h"
#include "model.h"

void maestro_kvlist_init(struct maestro_kvlist *l)
{
	memset(l, 0, sizeof(*l));
}

int maestro_kvlist_add_own(struct maestro_kvlist *l, char *key, char *value)
{
	if (!key || !value)
		goto nomem;
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct maestro_kv *n = realloc(l->kv, ncap * sizeof(*n));
		if (!n)
			goto nomem;
		l->kv = n;
		l->cap = ncap;
	}
	l->kv[l->count].key = key;
	l->kv[l->count].value = value;
	l->count++;
	return 0;
nomem:
	free(key);
	free(value);
	return -ENOMEM;
}

int maestro_kvlist_add(struct maestro_kvlist *l, const char *key, const char *value)
{
	return maestro_kvlist_add_own(l, strdup(key), strdup(value));
}

void maestro_kvlist_free(struct maestro_kvlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->kv[i].key);
		free(l->kv[i].value);
	}
	free(l->kv);
	memset(l, 0, sizeof(*l));
}

static int kv_cmp(const void *a, const void *b)
{
	const struct maestro_kv *x = a, *y = b;
	return strcmp(x->key, y->key);
}

void maestro_kvlist_sort(struct maestro_kvlist *l)
{
	if (l->count > 1)
		qsort(l->kv, l->count, sizeof(l->kv[0]), kv_cmp);
}

static int is_six_digits(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[6] == '\0';
}

char *maestro_kv_escape(const char *name)
{
	size_t n = strlen(name), extra = 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '%' || name[i] == '/')
			extra += 2;
	int six = is_six_digits(name);
	if (six)
		extra += 2;
	char *out = malloc(n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '%' || c == '/' || (six && i == 0)) {
			static const char hex[] = "0123456789ABCDEF";
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *maestro_kv_unescape(const char *comp)
{
	size_t n = strlen(comp);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (comp[i] != '%') {
			*o++ = comp[i];
			continue;
		}
		int h = hexval(comp[i + 1]); /* the NUL terminator stops a short escape */
		int l = h >= 0 ? hexval(comp[i + 2]) : -1;
		if (h < 0 || l < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(h * 16 + l);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* ---- model -> kv (maestro.md §7.1) ---------------------------------------------------- */

struct kvw {
	struct maestro_kvlist *out;
	char *path;
	size_t len, cap;
	int rc;
};

static int w_push(struct kvw *w, const char *comp, int escape)
{
	char *e = escape ? maestro_kv_escape(comp) : strdup(comp);
	if (!e)
		return w->rc = -ENOMEM;
	size_t el = strlen(e), need = w->len + 1 + el + 1;
	if (need > w->cap) {
		size_t nc = w->cap ? w->cap : 256;
		while (nc < need)
			nc *= 2;
		char *np = realloc(w->path, nc);
		if (!np) {
			free(e);
			return w->rc = -ENOMEM;
		}
		w->path = np;
		w->cap = nc;
	}
	if (w->len)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, e, el + 1);
	w->len += el;
	free(e);
	return 0;
}

static void w_pop(struct kvw *w, size_t to)
{
	w->len = to;
	w->path[to] = '\0';
}

static void w_emit(struct kvw *w, const char *value)
{
	if (!w->rc && value)
		w->rc = maestro_kvlist_add(w->out, w->path, value);
}

/* One leaf under the current path. */
static void w_leaf(struct kvw *w, const char *key, const char *value)
{
	if (!value || w->rc)
		return;
	size_t at = w->len;
	if (!w_push(w, key, 0))
		w_emit(w, value);
	w_pop(w, at);
}

/* A converted integer: upstream writes str(int) only when it is non-zero. */
static void w_int(struct kvw *w, const char *key, const char *value)
{
	if (value && strcmp(value, "0") != 0)
		w_leaf(w, key, value);
}

static void w_node(struct kvw *w, const struct cy_node *n)
{
	if (!n || w->rc)
		return;
	size_t at = w->len;
	char idx[24];
	switch (n->type) {
	case CY_SCALAR:
		w_emit(w, n->str);
		return;
	case CY_MAP:
		for (size_t i = 0; i < n->n && !w->rc; i++) {
			if (!w_push(w, n->keys[i]->str, 1))
				w_node(w, n->vals[i]);
			w_pop(w, at);
		}
		return;
	case CY_SEQ:
		for (size_t i = 0; i < n->n && !w->rc; i++) {
			snprintf(idx, sizeof(idx), "%06zu", i);
			if (!w_push(w, idx, 0))
				w_node(w, n->vals[i]);
			w_pop(w, at);
		}
		return;
	}
}

static void w_sub(struct kvw *w, const char *key, const struct cy_node *n)
{
	if (!n || w->rc)
		return;
	size_t at = w->len;
	if (!w_push(w, key, 0))
		w_node(w, n);
	w_pop(w, at);
}

static void w_auth(struct kvw *w, const struct maestro_auth *a)
{
	size_t at = w->len;
	if (!a->name || w_push(w, "auth", 0))
		return;
	w_leaf(w, "name", a->name);
	w_leaf(w, "conf", a->conf);
	w_leaf(w, "plugin", a->plugin);
	w_pop(w, at);
}

static void w_strlist(struct kvw *w, const char *key, char **v, size_t n)
{
	size_t at = w->len;
	char idx[24];
	if (w_push(w, key, 0))
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%06zu", i);
		w_leaf(w, idx, v[i]);
	}
	w_pop(w, at);
}

static void kv_daemons(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_daemons && !w->rc; i++) {
		const struct maestro_daemon *d = &m->daemons[i];
		if (w_push(w, d->name, 1))
			return;
		w_leaf(w, "addr", d->addr);
		w_sub(w, "environment", d->environment);
		size_t at = w->len;
		if (d->n_ep && !w_push(w, "endpoints", 0)) {
			size_t at2 = w->len;
			for (size_t e = 0; e < d->n_ep && !w->rc; e++) {
				const struct maestro_endpoint *ep = &d->ep[e];
				if (w_push(w, ep->name, 1))
					return;
				w_leaf(w, "name", ep->name);
				w_leaf(w, "port", ep->port);
				w_leaf(w, "xprt", ep->xprt);
				w_leaf(w, "maestro_comm", ep->maestro_comm ? "True" : NULL);
				w_auth(w, &ep->auth);
				w_leaf(w, "bind_all", ep->bind_all);
				w_leaf(w, "host", ep->host);
				w_pop(w, at2);
			}
		}
		w_pop(w, at);
		w_sub(w, "cli_opt", d->cli_opt);
		w_leaf(w, "stream_enable", d->stream_enable);
		w_leaf(w, "msg_enable", d->msg_enable);
		w_pop(w, base);
	}
}

static void kv_advertisers(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_adv && !w->rc; i++) {
		const struct maestro_advertiser *a = &m->adv[i];
		if (w_push(w, a->group, 1))
			return;
		w_sub(w, "names", a->names);
		w_sub(w, "hosts", a->hosts);
		w_sub(w, "xprt", a->xprt);
		w_sub(w, "port", a->port);
		w_sub(w, "reconnect", a->reconnect);
		w_auth(w, &a->auth);
		w_leaf(w, "perm", a->perm);
		w_sub(w, "rail", a->rail);
		w_sub(w, "quota", a->quota);
		w_sub(w, "rx_rate", a->rx_rate);
		w_strlist(w, "ad_list", a->ad_list.names, a->ad_list.count);
		w_pop(w, base);
	}
}

static void kv_listeners(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_lgrp && !w->rc; i++) {
		const struct maestro_listener_group *g = &m->lgrp[i];
		if (w_push(w, g->group, 1))
			return;
		size_t at = w->len;
		for (size_t k = 0; k < g->n && !w->rc; k++) {
			const struct maestro_listener *l = &g->l[k];
			if (w_push(w, l->name, 1))
				return;
			w_int(w, "reconnect", l->reconnect_us);
			w_leaf(w, "disable_start", l->disable_start);
			w_leaf(w, "ip", l->ip);
			w_leaf(w, "rail", l->rail);
			w_leaf(w, "quota", l->quota);
			w_leaf(w, "rx_rate", l->rx_rate);
			w_leaf(w, "regex", l->regex);
			w_leaf(w, "type", l->type);
			w_leaf(w, "advertiser_xprt", l->advertiser_xprt);
			w_leaf(w, "advertiser_port", l->advertiser_port);
			w_leaf(w, "advertiser_auth", l->advertiser_auth);
			w_pop(w, at);
		}
		w_pop(w, base);
	}
}

static void kv_aggregators(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_agrp && !w->rc; i++) {
		const struct maestro_agg_group *g = &m->agrp[i];
		if (w_push(w, g->group, 1))
			return;
		size_t at = w->len;
		for (size_t k = 0; k < g->n && !w->rc; k++) {
			if (w_push(w, g->m[k].name, 1))
				return;
			w_leaf(w, "state", "stopped");
			w_sub(w, "subscribe", g->m[k].subscribe);
			w_sub(w, "plugins", g->m[k].plugins);
			w_pop(w, at);
		}
		w_pop(w, base);
	}
}

static void kv_producers(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_pgrp && !w->rc; i++) {
		const struct maestro_producer_group *g = &m->pgrp[i];
		if (w_push(w, g->group, 1))
			return;
		size_t at = w->len;
		for (size_t k = 0; k < g->n && !w->rc; k++) {
			const struct maestro_producer *p = &g->p[k];
			if (w_push(w, p->name, 1))
				return;
			w_leaf(w, "daemon", p->daemon);
			w_leaf(w, "dmn_grp", p->dmn_grp);
			w_leaf(w, "name", p->name);
			w_leaf(w, "endpoint", p->endpoint);
			w_leaf(w, "type", p->type);
			w_leaf(w, "group", p->group);
			w_int(w, "reconnect", p->reconnect_us);
			w_leaf(w, "perm", p->perm);
			w_leaf(w, "rail", p->rail);
			w_leaf(w, "quota", p->quota);
			w_leaf(w, "rx_rate", p->rx_rate);
			w_leaf(w, "cache_ip", p->cache_ip);
			w_sub(w, "updaters", p->updaters);
			w_pop(w, at);
		}
		w_pop(w, base);
	}
}

static void kv_updaters(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_ugrp && !w->rc; i++) {
		const struct maestro_updater_group *g = &m->ugrp[i];
		if (w_push(w, g->group, 1))
			return;
		size_t at = w->len;
		for (size_t k = 0; k < g->n && !w->rc; k++) {
			const struct maestro_updater *u = &g->u[k];
			if (w_push(w, u->name, 1))
				return;
			w_leaf(w, "name", u->name);
			w_int(w, "interval", u->interval_us);
			w_leaf(w, "perm", u->perm);
			w_leaf(w, "group", u->group);
			w_sub(w, "sets", u->sets);
			w_strlist(w, "producers", u->producers, u->n_prod);
			w_int(w, "offset", u->offset_us);
			w_leaf(w, "mode", u->mode);
			w_pop(w, at);
		}
		w_pop(w, base);
	}
}

static void kv_stores(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_stgrp && !w->rc; i++) {
		const struct maestro_store_group *g = &m->stgrp[i];
		if (w_push(w, g->group, 1))
			return;
		size_t at = w->len;
		for (size_t k = 0; k < g->n && !w->rc; k++) {
			if (!w_push(w, g->s[k].name, 1))
				w_node(w, g->s[k].spec);
			w_pop(w, at);
		}
		w_pop(w, base);
	}
}

static void kv_samplers(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_sgrp && !w->rc; i++) {
		if (!w_push(w, m->sgrp[i].group, 1))
			w_node(w, m->sgrp[i].spec);
		w_pop(w, base);
	}
}

static void kv_plugins(struct kvw *w, const struct maestro_model *m)
{
	size_t base = w->len;
	for (size_t i = 0; i < m->n_plugins && !w->rc; i++) {
		if (!w_push(w, m->plugins[i].inst, 1))
			w_node(w, m->plugins[i].spec);
		w_pop(w, base);
	}
}

int maestro_model_to_kv(const struct maestro_model *m, const char *prefix,
			struct maestro_kvlist *out, struct ldms_err *err)
{
	static const struct {
		const char *name;
		void (*fn)(struct kvw *, const struct maestro_model *);
	} sections[] = {{"daemons", kv_daemons},
			{"advertisers", kv_advertisers},
			{"prdcr_listeners", kv_listeners},
			{"aggregators", kv_aggregators},
			{"producers", kv_producers},
			{"updaters", kv_updaters},
			{"stores", kv_stores},
			{"samplers", kv_samplers},
			{"plugins", kv_plugins}};
	struct kvw w = {.out = out};
	size_t root = 0;
	if (prefix && *prefix) {
		/* "/P/...": the path starts with an empty component */
		w.path = malloc(strlen(prefix) + 2);
		if (!w.path)
			goto nomem;
		sprintf(w.path, "/%s", prefix);
		w.len = w.cap = strlen(w.path);
		w.cap++;
		root = w.len;
	}
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]) && !w.rc; s++) {
		if (!w_push(&w, sections[s].name, 0))
			sections[s].fn(&w, m);
		w_pop(&w, root);
	}
	free(w.path);
	if (w.rc)
		goto nomem;
	return 0;
nomem:
	if (err) {
		err->rc = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	return -ENOMEM;
}

int maestro_kv_to_model(const struct maestro_kvlist *kvs, const char *prefix,
			struct maestro_model **out, struct ldms_err *err)
{
	if (err)
		err->rc = -ENOSYS;
	return -ENOSYS;
}
