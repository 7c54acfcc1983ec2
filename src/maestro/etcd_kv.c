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

/* ---- kv -> model (maestro.md §7.2, by position) ------------------------------------------ */

/* Keys are sorted first, so the keys below one path component are contiguous and a child is
 * either the last one added to its parent or new: building the tree is linear. A list index
 * (an unescaped six-digit component) is a map key flagged with line = -1 until the end. */
static struct cy_node *tree_child(struct cy_node *parent, const char *comp, int is_index,
				  int leaf_ok)
{
	(void)leaf_ok;
	if (parent->n) {
		struct cy_node *k = parent->keys[parent->n - 1];
		if ((k->line == -1) == is_index && strcmp(k->str, comp) == 0)
			return parent->vals[parent->n - 1];
	}
	struct cy_node *k = cy_scalar_new(comp, is_index ? -1 : 0, 0);
	struct cy_node *v = cy_map_new(0, 0);
	if (!k || !v) {
		cy_unref(k);
		cy_unref(v);
		return NULL;
	}
	/* append without the duplicate scan of cy_map_set: keys arrive in order */
	if (parent->n == parent->cap) {
		size_t nc = parent->cap ? parent->cap * 2 : 4;
		struct cy_node **nk = realloc(parent->keys, nc * sizeof(*nk));
		if (nk)
			parent->keys = nk;
		struct cy_node **nv = nk ? realloc(parent->vals, nc * sizeof(*nv)) : NULL;
		if (!nk || !nv) {
			cy_unref(k);
			cy_unref(v);
			return NULL;
		}
		parent->vals = nv;
		parent->cap = nc;
	}
	parent->keys[parent->n] = k;
	parent->vals[parent->n] = v;
	parent->n++;
	return v;
}

/* Flagged maps become lists; a map node used as a leaf holder becomes its scalar. */
static int tree_fix(struct cy_node *n)
{
	if (n->type != CY_MAP)
		return 0;
	size_t idx = 0;
	for (size_t i = 0; i < n->n; i++) {
		idx += n->keys[i]->line == -1;
		int rc = tree_fix(n->vals[i]);
		if (rc)
			return rc;
	}
	if (!idx || !n->n)
		return 0;
	if (idx != n->n)
		return -EINVAL;
	/* sorted six-digit keys: the order is the index order */
	for (size_t i = 0; i < n->n; i++)
		cy_unref(n->keys[i]);
	free(n->keys);
	n->keys = NULL;
	n->type = CY_SEQ;
	return 0;
}

static int kvp_cmp(const void *a, const void *b)
{
	const struct maestro_kv *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static int build_tree(const struct maestro_kvlist *kvs, const char *prefix, struct cy_node **out,
		      struct ldms_err *err)
{
	struct cy_node *root = cy_map_new(0, 0);
	const struct maestro_kv **v = malloc((kvs->count ? kvs->count : 1) * sizeof(*v));
	size_t plen = 0;
	char *pfx = NULL;
	int rc = -ENOMEM;
	*out = NULL;
	if (!root || !v)
		goto out;
	if (prefix && *prefix) {
		while (*prefix == '/')
			prefix++;
		plen = strlen(prefix) + 2;
		if (!(pfx = malloc(plen + 1)))
			goto out;
		snprintf(pfx, plen + 1, "/%s/", prefix);
	}
	for (size_t i = 0; i < kvs->count; i++)
		v[i] = &kvs->kv[i];
	qsort(v, kvs->count, sizeof(*v), kvp_cmp);
	for (size_t i = 0; i < kvs->count; i++) {
		const char *key = v[i]->key;
		if (pfx) {
			if (strncmp(key, pfx, plen) != 0)
				continue;
			key += plen;
		}
		/* the loader's own top-level keys are not part of the model */
		if (strcmp(key, "last_updated") == 0 || strcmp(key, "generation") == 0)
			continue;
		char *dup = strdup(key), *save = NULL, *comp;
		struct cy_node *cur = root;
		if (!dup)
			goto out;
		int bad = 0;
		for (comp = strtok_r(dup, "/", &save); comp && !bad;
		     comp = strtok_r(NULL, "/", &save)) {
			int is_index = strlen(comp) == 6 && strspn(comp, "0123456789") == 6;
			char *name = is_index ? strdup(comp) : maestro_kv_unescape(comp);
			if (!name) {
				bad = 1;
				break;
			}
			if (cur->type != CY_MAP) {
				bad = 1;
			} else {
				cur = tree_child(cur, name, is_index, 0);
				if (!cur) {
					free(name);
					free(dup);
					goto out;
				}
			}
			free(name);
		}
		free(dup);
		if (bad || cur->n) {
			rc = cy_err_set(err, -EINVAL, "", 0, 0,
					"etcd key \"%s\" does not fit the "
					"maestro layout",
					v[i]->key);
			goto out_rc;
		}
		/* the leaf: the (empty) map holder becomes a scalar */
		free(cur->keys);
		free(cur->vals);
		cur->keys = cur->vals = NULL;
		cur->cap = 0;
		cur->type = CY_SCALAR;
		if (!(cur->str = strdup(v[i]->value)))
			goto out;
	}
	if (tree_fix(root)) {
		rc = cy_err_set(err, -EINVAL, "", 0, 0,
				"etcd keys mix list indices and names at one level");
		goto out_rc;
	}
	*out = root;
	root = NULL;
	rc = 0;
	goto out_rc;
out:
	cy_err_set(err, rc, "", 0, 0, "out of memory");
out_rc:
	cy_unref(root);
	free(v);
	free(pfx);
	return rc;
}

static char *sdup(const struct cy_node *map, const char *key)
{
	const char *s = cy_str(cy_map_get(map, key));
	return s ? strdup(s) : NULL;
}

/* Time values whose 0 upstream leaves out. */
static char *sdup_int(const struct cy_node *map, const char *key)
{
	const char *s = cy_str(cy_map_get(map, key));
	return strdup(s ? s : "0");
}

static int auth_from(const struct cy_node *spec, struct maestro_auth *a)
{
	const struct cy_node *au = cy_map_get(spec, "auth");
	memset(a, 0, sizeof(*a));
	if (!au)
		return 0;
	a->name = sdup(au, "name");
	a->plugin = sdup(au, "plugin");
	a->conf = sdup(au, "conf");
	return 0;
}

static int kv_err(struct ldms_err *err, const char *what, const char *name)
{
	return cy_err_set(err, -EINVAL, "", 0, 0, "etcd configuration: %s \"%s\"", what, name);
}

static int expand_into(const struct cy_node *n, struct ldms_hostlist *h, struct ldms_err *err)
{
	const char *emsg = NULL;
	if (!n)
		return 0;
	int rc = maestro_expand_names(n, h, &emsg);
	if (rc)
		return cy_err_set(err, rc, "", 0, 0, "etcd configuration: bad hostlist: %s", emsg);
	return 0;
}

static int numeric_key_cmp(const void *a, const void *b)
{
	const struct maestro_updater *x = a, *y = b;
	return ldms_hostlist_numeric_cmp(x->name, y->name);
}

static int model_from_tree(const struct cy_node *t, struct maestro_model *m, struct ldms_err *err)
{
	const struct cy_node *sec;
	/* daemons */
	sec = cy_map_get(t, "daemons");
	if (cy_is_map(sec) && sec->n) {
		if (!(m->daemons = calloc(sec->n, sizeof(*m->daemons))))
			goto nomem;
		for (size_t i = 0; i < sec->n; i++) {
			const struct cy_node *dn = sec->vals[i], *eps = cy_map_get(dn, "endpoints");
			struct maestro_daemon *d = &m->daemons[m->n_daemons++];
			if (!(d->name = strdup(sec->keys[i]->str)))
				goto nomem;
			if (!cy_is_map(dn))
				return kv_err(err, "malformed daemon", d->name);
			d->addr = sdup(dn, "addr");
			if (!d->addr)
				return kv_err(err, "no addr for daemon", d->name);
			d->environment = cy_ref(cy_map_get(dn, "environment"));
			d->cli_opt = cy_ref(cy_map_get(dn, "cli_opt"));
			d->stream_enable = sdup(dn, "stream_enable");
			d->msg_enable = sdup(dn, "msg_enable");
			if (cy_is_map(eps) && eps->n) {
				if (!(d->ep = calloc(eps->n, sizeof(*d->ep))))
					goto nomem;
				for (size_t e = 0; e < eps->n; e++) {
					const struct cy_node *en = eps->vals[e];
					struct maestro_endpoint *ep = &d->ep[d->n_ep++];
					ep->name = strdup(eps->keys[e]->str);
					ep->port = sdup(en, "port");
					ep->xprt = sdup(en, "xprt");
					if (!ep->xprt)
						ep->xprt = strdup("sock");
					const char *mc = cy_str(cy_map_get(en, "maestro_comm"));
					ep->maestro_comm = mc && strcmp(mc, "True") == 0;
					auth_from(en, &ep->auth);
					ep->bind_all = sdup(en, "bind_all");
					ep->host = sdup(en, "host");
					if (!ep->name || !ep->xprt)
						goto nomem;
					if (!ep->port)
						return kv_err(err, "no port for endpoint",
							      ep->name);
				}
			}
		}
	}
	/* plugins */
	sec = cy_map_get(t, "plugins");
	m->has_plugins = sec != NULL;
	if (cy_is_map(sec) && sec->n) {
		if (!(m->plugins = calloc(sec->n, sizeof(*m->plugins))))
			goto nomem;
		for (size_t i = 0; i < sec->n; i++) {
			const struct cy_node *pn = sec->vals[i];
			struct maestro_plugin *p = &m->plugins[m->n_plugins++];
			char msg[300];
			p->inst = strdup(sec->keys[i]->str);
			p->name = sdup(pn, "name");
			p->spec = cy_ref((struct cy_node *)pn);
			p->config = cy_ref(cy_map_get(pn, "config"));
			if (!p->inst || !p->name)
				return kv_err(err, "no name for plugin instance",
					      sec->keys[i]->str);
			const char *iv = cy_str(cy_map_get(pn, "interval"));
			const char *ov = cy_str(cy_map_get(pn, "offset"));
			if ((iv && maestro_interval_us(iv, &p->interval_us, msg, sizeof(msg))) ||
			    (ov && maestro_interval_us(ov, &p->offset_us, msg, sizeof(msg))))
				return kv_err(err, msg, p->inst);
		}
	}
	/* advertisers */
	sec = cy_map_get(t, "advertisers");
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *an = sec->vals[i];
		struct maestro_advertiser *na = realloc(m->adv, (m->n_adv + 1) * sizeof(*na));
		if (!na)
			goto nomem;
		m->adv = na;
		struct maestro_advertiser *a = &m->adv[m->n_adv++];
		memset(a, 0, sizeof(*a));
		a->group = strdup(sec->keys[i]->str);
		a->names = cy_ref(cy_map_get(an, "names"));
		a->hosts = cy_ref(cy_map_get(an, "hosts"));
		a->xprt = cy_ref(cy_map_get(an, "xprt"));
		a->port = cy_ref(cy_map_get(an, "port"));
		a->reconnect = cy_ref(cy_map_get(an, "reconnect"));
		a->rail = cy_ref(cy_map_get(an, "rail"));
		a->quota = cy_ref(cy_map_get(an, "quota"));
		a->rx_rate = cy_ref(cy_map_get(an, "rx_rate"));
		a->perm = sdup(an, "perm");
		auth_from(an, &a->auth);
		if (!a->group)
			goto nomem;
		if (expand_into(a->names, &a->names_x, err) ||
		    expand_into(a->hosts, &a->hosts_x, err) ||
		    expand_into(&(struct cy_node){.type = CY_SCALAR, .str = a->group}, &a->ad_list,
				err))
			return -EINVAL;
	}
	/* producer listeners */
	sec = cy_map_get(t, "prdcr_listeners");
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i];
		struct maestro_listener_group *ng = realloc(m->lgrp, (m->n_lgrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->lgrp = ng;
		struct maestro_listener_group *g = &m->lgrp[m->n_lgrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		if (!cy_is_map(gn) || !gn->n)
			continue;
		if (!(g->l = calloc(gn->n, sizeof(*g->l))))
			goto nomem;
		for (size_t k = 0; k < gn->n; k++) {
			const struct cy_node *ln = gn->vals[k];
			struct maestro_listener *l = &g->l[g->n++];
			l->name = strdup(gn->keys[k]->str);
			l->reconnect_us = sdup(ln, "reconnect");
			l->disable_start = sdup(ln, "disable_start");
			l->ip = sdup(ln, "ip");
			l->rail = sdup(ln, "rail");
			l->quota = sdup(ln, "quota");
			l->rx_rate = sdup(ln, "rx_rate");
			l->regex = sdup(ln, "regex");
			l->type = sdup(ln, "type");
			l->advertiser_xprt = sdup(ln, "advertiser_xprt");
			l->advertiser_port = sdup(ln, "advertiser_port");
			l->advertiser_auth = sdup(ln, "advertiser_auth");
			if (!l->name)
				goto nomem;
		}
	}
	/* aggregators */
	sec = cy_map_get(t, "aggregators");
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i];
		struct maestro_agg_group *ng = realloc(m->agrp, (m->n_agrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->agrp = ng;
		struct maestro_agg_group *g = &m->agrp[m->n_agrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		if (expand_into(&(struct cy_node){.type = CY_SCALAR, .str = g->group}, &g->members,
				err))
			return -EINVAL;
		if (!cy_is_map(gn) || !gn->n)
			continue;
		if (!(g->m = calloc(gn->n, sizeof(*g->m))))
			goto nomem;
		for (size_t k = 0; k < gn->n; k++) {
			struct maestro_agg_member *am = &g->m[g->n++];
			if (!(am->name = strdup(gn->keys[k]->str)))
				goto nomem;
			am->subscribe = cy_ref(cy_map_get(gn->vals[k], "subscribe"));
			am->plugins = cy_ref(cy_map_get(gn->vals[k], "plugins"));
		}
	}
	/* producers */
	sec = cy_map_get(t, "producers");
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i];
		struct maestro_producer_group *ng = realloc(m->pgrp, (m->n_pgrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->pgrp = ng;
		struct maestro_producer_group *g = &m->pgrp[m->n_pgrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		if (!cy_is_map(gn) || !gn->n)
			continue;
		if (!(g->p = calloc(gn->n, sizeof(*g->p))))
			goto nomem;
		g->cap = gn->n;
		for (size_t k = 0; k < gn->n; k++) {
			const struct cy_node *pn = gn->vals[k];
			struct maestro_producer *p = &g->p[g->n++];
			p->name = strdup(gn->keys[k]->str);
			p->daemon = sdup(pn, "daemon");
			p->dmn_grp = sdup(pn, "dmn_grp");
			p->endpoint = sdup(pn, "endpoint");
			p->type = sdup(pn, "type");
			p->group = sdup(pn, "group");
			p->reconnect_us = sdup_int(pn, "reconnect");
			p->perm = sdup(pn, "perm");
			p->rail = sdup(pn, "rail");
			p->quota = sdup(pn, "quota");
			p->rx_rate = sdup(pn, "rx_rate");
			p->cache_ip = sdup(pn, "cache_ip");
			p->updaters = cy_ref(cy_map_get(pn, "updaters"));
			if (!p->name || !p->reconnect_us)
				goto nomem;
			if (!p->daemon || !p->endpoint || !p->type)
				return kv_err(err, "incomplete producer", p->name);
			if (!p->group && !(p->group = strdup(g->group)))
				goto nomem;
			if (!p->dmn_grp && !(p->dmn_grp = strdup(p->daemon)))
				goto nomem;
		}
	}
	/* updaters */
	sec = cy_map_get(t, "updaters");
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i];
		struct maestro_updater_group *ng = realloc(m->ugrp, (m->n_ugrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->ugrp = ng;
		struct maestro_updater_group *g = &m->ugrp[m->n_ugrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		if (!cy_is_map(gn) || !gn->n)
			continue;
		if (!(g->u = calloc(gn->n, sizeof(*g->u))))
			goto nomem;
		for (size_t k = 0; k < gn->n; k++) {
			const struct cy_node *un = gn->vals[k], *pr = cy_map_get(un, "producers");
			struct maestro_updater *u = &g->u[g->n++];
			u->name = strdup(gn->keys[k]->str);
			u->group = strdup(g->group);
			u->interval_us = sdup_int(un, "interval");
			u->offset_us = sdup(un, "offset");
			u->mode = sdup(un, "mode");
			if (!u->mode)
				u->mode = strdup("pull");
			u->perm = sdup(un, "perm");
			u->sets = cy_ref(cy_map_get(un, "sets"));
			if (!u->name || !u->group || !u->interval_us || !u->mode)
				goto nomem;
			size_t np = cy_is_seq(pr) ? pr->n : 0;
			if (!(u->producers = calloc(np ? np : 1, sizeof(char *))))
				goto nomem;
			for (size_t j = 0; j < np; j++)
				if (cy_str(pr->vals[j]) &&
				    !(u->producers[u->n_prod++] = strdup(pr->vals[j]->str)))
					goto nomem;
			if (!u->n_prod && !(u->producers[u->n_prod++] = strdup(".*")))
				goto nomem;
		}
		/* updtr_2 before updtr_10 */
		qsort(g->u, g->n, sizeof(*g->u), numeric_key_cmp);
	}
	/* stores */
	sec = cy_map_get(t, "stores");
	m->has_stores = sec != NULL;
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i];
		struct maestro_store_group *ng = realloc(m->stgrp, (m->n_stgrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->stgrp = ng;
		struct maestro_store_group *g = &m->stgrp[m->n_stgrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		if (expand_into(&(struct cy_node){.type = CY_SCALAR, .str = g->group}, &g->members,
				err))
			return -EINVAL;
		if (!cy_is_map(gn) || !gn->n)
			continue;
		if (!(g->s = calloc(gn->n, sizeof(*g->s))))
			goto nomem;
		for (size_t k = 0; k < gn->n; k++) {
			const struct cy_node *sn = gn->vals[k];
			struct maestro_store *s = &g->s[g->n++];
			char msg[300];
			s->name = strdup(gn->keys[k]->str);
			s->plugin = sdup(sn, "plugin");
			s->container = sdup(sn, "container");
			s->schema = sdup(sn, "schema");
			s->regex = sdup(sn, "regex");
			s->decomposition = sdup(sn, "decomposition");
			s->flush = sdup(sn, "flush");
			s->perm = sdup(sn, "perm");
			s->spec = cy_ref((struct cy_node *)sn);
			if (!s->name)
				goto nomem;
			if (!s->plugin || !s->container)
				return kv_err(err, "incomplete storage policy", s->name);
			if (s->flush &&
			    maestro_interval_us(s->flush, &s->flush_us, msg, sizeof(msg)))
				return kv_err(err, msg, s->name);
		}
	}
	/* samplers */
	sec = cy_map_get(t, "samplers");
	m->has_samplers = sec != NULL;
	for (size_t i = 0; cy_is_map(sec) && i < sec->n; i++) {
		const struct cy_node *gn = sec->vals[i], *pl = cy_map_get(gn, "plugins");
		struct maestro_sampler_group *ng = realloc(m->sgrp, (m->n_sgrp + 1) * sizeof(*ng));
		if (!ng)
			goto nomem;
		m->sgrp = ng;
		struct maestro_sampler_group *g = &m->sgrp[m->n_sgrp++];
		memset(g, 0, sizeof(*g));
		if (!(g->group = strdup(sec->keys[i]->str)))
			goto nomem;
		g->spec = cy_ref((struct cy_node *)gn);
		if (expand_into(&(struct cy_node){.type = CY_SCALAR, .str = g->group}, &g->members,
				err))
			return -EINVAL;
		size_t np = cy_is_seq(pl) ? pl->n : 0;
		if (np && !(g->plugins = calloc(np, sizeof(char *))))
			goto nomem;
		for (size_t j = 0; j < np; j++)
			if (cy_str(pl->vals[j]) &&
			    !(g->plugins[g->n_plugins++] = strdup(pl->vals[j]->str)))
				goto nomem;
	}
	return maestro_model_index(m, err);
nomem:
	return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
}

int maestro_kv_to_model(const struct maestro_kvlist *kvs, const char *prefix,
			struct maestro_model **out, struct ldms_err *err)
{
	struct cy_node *tree;
	*out = NULL;
	int rc = build_tree(kvs, prefix, &tree, err);
	if (rc)
		return rc;
	struct maestro_model *m = maestro_model_new();
	if (!m) {
		cy_unref(tree);
		return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
	}
	rc = model_from_tree(tree, m, err);
	cy_unref(tree);
	if (rc) {
		maestro_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
