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

/* ---- the layout, one table per record type ---------------------------------------------- */

/* How a field of a model record sits in etcd; one table serves the writer and the reader. */
enum kvf_kind {
	KVF_STR,   /* char *: one leaf */
	KVF_INT,   /* char *: a converted integer, upstream writes str(int) only when non-zero */
	KVF_BOOL,  /* int: the leaf "True" when set */
	KVF_CONST, /* .dflt, written as is */
	KVF_NODE,  /* struct cy_node *: the subtree below the key */
	KVF_SPEC,  /* struct cy_node *: the subtree at the record's own path (key unused) */
	KVF_AUTH,  /* struct maestro_auth: auth/{name,conf,plugin} */
	KVF_LIST,  /* char ** with a size_t count at .n_off: leaves under six-digit indices */
	KVF_ARRAY, /* records of .sub (pointer, size_t count at .n_off), each under its escaped
		    * name, below the key (NULL: at this path) */
};

/* The reader takes some written values from the key path instead, and reads some values
 * out of a subtree that the writer writes whole. */
enum { KVF_W = 1, KVF_R = 2, KVF_RW = 3 };

struct kvrec;

struct kvf {
	const char *key;
	unsigned char kind, dir;
	size_t off, n_off;
	const char *dflt; /* KVF_CONST: the value; read: the value when absent */
	const struct kvrec *sub;
};

struct kvrec {
	size_t size, name_off; /* name_off: the char * named by the key component */
	const struct kvf *f;
	size_t nf;
	/* reader checks: after the record's own fields, before its records, with the parent */
	int (*check)(void *rec, const void *parent, const struct cy_node *n, struct ldms_err *err);
	/* reader, after the record's records */
	void (*done)(void *rec);
};

#define KV_AT(rec, off, type) (*(type *)((char *)(rec) + (off)))
#define KVF(t, k, kind, dir, field)                                                                \
	{                                                                                          \
		k, kind, dir, offsetof(t, field), 0, NULL, NULL                                    \
	}
#define KV_S(t, k, field) KVF(t, k, KVF_STR, KVF_RW, field)
#define KV_N(t, k, field) KVF(t, k, KVF_NODE, KVF_RW, field)
#define KV_DFLT(t, k, kind, field, d)                                                              \
	{                                                                                          \
		k, kind, KVF_RW, offsetof(t, field), 0, d, NULL                                    \
	}
#define KV_LIST(t, k, dir, field, count, d)                                                        \
	{                                                                                          \
		k, KVF_LIST, dir, offsetof(t, field), offsetof(t, count), d, NULL                  \
	}
#define KV_ARRAY(t, k, field, count, rec)                                                          \
	{                                                                                          \
		k, KVF_ARRAY, KVF_RW, offsetof(t, field), offsetof(t, count), NULL, &rec           \
	}
#define KV_REC(t, name, fields, check, done)                                                       \
	{                                                                                          \
		sizeof(t), offsetof(t, name), fields, sizeof(fields) / sizeof(fields[0]), check,   \
		    done                                                                           \
	}

static int kv_err(struct ldms_err *err, const char *what, const char *name)
{
	return cy_err_set(err, -EINVAL, "", 0, 0, "etcd configuration: %s \"%s\"", what, name);
}

static int kv_nomem(struct ldms_err *err)
{
	return cy_err_set(err, -ENOMEM, "", 0, 0, "out of memory");
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

/* A group name is a hostlist of the daemons the group is for. */
static int expand_group(const char *group, struct ldms_hostlist *h, struct ldms_err *err)
{
	return expand_into(&(struct cy_node){.type = CY_SCALAR, .str = (char *)group}, h, err)
		   ? -EINVAL
		   : 0;
}

static int endpoint_check(void *rec, const void *parent, const struct cy_node *n,
			  struct ldms_err *err)
{
	const struct maestro_endpoint *ep = rec;
	return ep->port ? 0 : kv_err(err, "no port for endpoint", ep->name);
}

static const struct kvf endpoint_f[] = {
    KVF(struct maestro_endpoint, "name", KVF_STR, KVF_W, name),
    KV_S(struct maestro_endpoint, "port", port),
    KV_DFLT(struct maestro_endpoint, "xprt", KVF_STR, xprt, "sock"),
    KVF(struct maestro_endpoint, "maestro_comm", KVF_BOOL, KVF_RW, maestro_comm),
    KVF(struct maestro_endpoint, "auth", KVF_AUTH, KVF_RW, auth),
    KV_S(struct maestro_endpoint, "bind_all", bind_all),
    KV_S(struct maestro_endpoint, "host", host),
};
static const struct kvrec endpoint_r =
    KV_REC(struct maestro_endpoint, name, endpoint_f, endpoint_check, NULL);

static int daemon_check(void *rec, const void *parent, const struct cy_node *n,
			struct ldms_err *err)
{
	const struct maestro_daemon *d = rec;
	if (!cy_is_map(n))
		return kv_err(err, "malformed daemon", d->name);
	return d->addr ? 0 : kv_err(err, "no addr for daemon", d->name);
}

static const struct kvf daemon_f[] = {
    KV_S(struct maestro_daemon, "addr", addr),
    KV_N(struct maestro_daemon, "environment", environment),
    KV_ARRAY(struct maestro_daemon, "endpoints", ep, n_ep, endpoint_r),
    KV_N(struct maestro_daemon, "cli_opt", cli_opt),
    KV_S(struct maestro_daemon, "stream_enable", stream_enable),
    KV_S(struct maestro_daemon, "msg_enable", msg_enable),
};
static const struct kvrec daemon_r =
    KV_REC(struct maestro_daemon, name, daemon_f, daemon_check, NULL);

static int advertiser_check(void *rec, const void *parent, const struct cy_node *n,
			    struct ldms_err *err)
{
	struct maestro_advertiser *a = rec;
	if (expand_into(a->names, &a->names_x, err) || expand_into(a->hosts, &a->hosts_x, err))
		return -EINVAL;
	return expand_group(a->group, &a->ad_list, err);
}

static const struct kvf advertiser_f[] = {
    KV_N(struct maestro_advertiser, "names", names),
    KV_N(struct maestro_advertiser, "hosts", hosts),
    KV_N(struct maestro_advertiser, "xprt", xprt),
    KV_N(struct maestro_advertiser, "port", port),
    KV_N(struct maestro_advertiser, "reconnect", reconnect),
    KVF(struct maestro_advertiser, "auth", KVF_AUTH, KVF_RW, auth),
    KV_S(struct maestro_advertiser, "perm", perm),
    KV_N(struct maestro_advertiser, "rail", rail),
    KV_N(struct maestro_advertiser, "quota", quota),
    KV_N(struct maestro_advertiser, "rx_rate", rx_rate),
    /* the reader expands it from the group name */
    KV_LIST(struct maestro_advertiser, "ad_list", KVF_W, ad_list.names, ad_list.count, NULL),
};
static const struct kvrec advertiser_r =
    KV_REC(struct maestro_advertiser, group, advertiser_f, advertiser_check, NULL);

static const struct kvf listener_f[] = {
    KVF(struct maestro_listener, "reconnect", KVF_INT, KVF_RW, reconnect_us),
    KV_S(struct maestro_listener, "disable_start", disable_start),
    KV_S(struct maestro_listener, "ip", ip),
    KV_S(struct maestro_listener, "rail", rail),
    KV_S(struct maestro_listener, "quota", quota),
    KV_S(struct maestro_listener, "rx_rate", rx_rate),
    KV_S(struct maestro_listener, "regex", regex),
    KV_S(struct maestro_listener, "type", type),
    KV_S(struct maestro_listener, "advertiser_xprt", advertiser_xprt),
    KV_S(struct maestro_listener, "advertiser_port", advertiser_port),
    KV_S(struct maestro_listener, "advertiser_auth", advertiser_auth),
};
static const struct kvrec listener_r =
    KV_REC(struct maestro_listener, name, listener_f, NULL, NULL);
static const struct kvf listener_group_f[] = {
    KV_ARRAY(struct maestro_listener_group, NULL, l, n, listener_r),
};
static const struct kvrec listener_group_r =
    KV_REC(struct maestro_listener_group, group, listener_group_f, NULL, NULL);

static const struct kvf agg_member_f[] = {
    /* maestro_ctrl starts every aggregator stopped */
    {"state", KVF_CONST, KVF_W, 0, 0, "stopped", NULL},
    KV_N(struct maestro_agg_member, "subscribe", subscribe),
    KV_N(struct maestro_agg_member, "plugins", plugins),
};
static const struct kvrec agg_member_r =
    KV_REC(struct maestro_agg_member, name, agg_member_f, NULL, NULL);

static int agg_group_check(void *rec, const void *parent, const struct cy_node *n,
			   struct ldms_err *err)
{
	struct maestro_agg_group *g = rec;
	return expand_group(g->group, &g->members, err);
}

static const struct kvf agg_group_f[] = {
    KV_ARRAY(struct maestro_agg_group, NULL, m, n, agg_member_r),
};
static const struct kvrec agg_group_r =
    KV_REC(struct maestro_agg_group, group, agg_group_f, agg_group_check, NULL);

static int producer_check(void *rec, const void *parent, const struct cy_node *n,
			  struct ldms_err *err)
{
	struct maestro_producer *p = rec;
	const struct maestro_producer_group *g = parent;
	if (!p->daemon || !p->endpoint || !p->type)
		return kv_err(err, "incomplete producer", p->name);
	if (!p->group && !(p->group = strdup(g->group)))
		return kv_nomem(err);
	if (!p->dmn_grp && !(p->dmn_grp = strdup(p->daemon)))
		return kv_nomem(err);
	return 0;
}

static const struct kvf producer_f[] = {
    KV_S(struct maestro_producer, "daemon", daemon),
    KV_S(struct maestro_producer, "dmn_grp", dmn_grp),
    KVF(struct maestro_producer, "name", KVF_STR, KVF_W, name),
    KV_S(struct maestro_producer, "endpoint", endpoint),
    KV_S(struct maestro_producer, "type", type),
    KV_S(struct maestro_producer, "group", group),
    KV_DFLT(struct maestro_producer, "reconnect", KVF_INT, reconnect_us, "0"),
    KV_S(struct maestro_producer, "perm", perm),
    KV_S(struct maestro_producer, "rail", rail),
    KV_S(struct maestro_producer, "quota", quota),
    KV_S(struct maestro_producer, "rx_rate", rx_rate),
    KV_S(struct maestro_producer, "cache_ip", cache_ip),
    KV_N(struct maestro_producer, "updaters", updaters),
};
static const struct kvrec producer_r =
    KV_REC(struct maestro_producer, name, producer_f, producer_check, NULL);

static void producer_group_done(void *rec)
{
	struct maestro_producer_group *g = rec;
	g->cap = g->n;
}

static const struct kvf producer_group_f[] = {
    KV_ARRAY(struct maestro_producer_group, NULL, p, n, producer_r),
};
static const struct kvrec producer_group_r =
    KV_REC(struct maestro_producer_group, group, producer_group_f, NULL, producer_group_done);

static int updater_check(void *rec, const void *parent, const struct cy_node *n,
			 struct ldms_err *err)
{
	struct maestro_updater *u = rec;
	const struct maestro_updater_group *g = parent;
	return (u->group = strdup(g->group)) ? 0 : kv_nomem(err);
}

static const struct kvf updater_f[] = {
    KVF(struct maestro_updater, "name", KVF_STR, KVF_W, name),
    KV_DFLT(struct maestro_updater, "interval", KVF_INT, interval_us, "0"),
    KV_S(struct maestro_updater, "perm", perm),
    KVF(struct maestro_updater, "group", KVF_STR, KVF_W, group),
    KV_N(struct maestro_updater, "sets", sets),
    KV_LIST(struct maestro_updater, "producers", KVF_RW, producers, n_prod, ".*"),
    KVF(struct maestro_updater, "offset", KVF_INT, KVF_RW, offset_us),
    KV_DFLT(struct maestro_updater, "mode", KVF_STR, mode, "pull"),
};
static const struct kvrec updater_r =
    KV_REC(struct maestro_updater, name, updater_f, updater_check, NULL);

static int numeric_key_cmp(const void *a, const void *b)
{
	const struct maestro_updater *x = a, *y = b;
	return ldms_hostlist_numeric_cmp(x->name, y->name);
}

/* updtr_2 before updtr_10 */
static void updater_group_done(void *rec)
{
	struct maestro_updater_group *g = rec;
	if (g->n)
		qsort(g->u, g->n, sizeof(*g->u), numeric_key_cmp);
}

static const struct kvf updater_group_f[] = {
    KV_ARRAY(struct maestro_updater_group, NULL, u, n, updater_r),
};
static const struct kvrec updater_group_r =
    KV_REC(struct maestro_updater_group, group, updater_group_f, NULL, updater_group_done);

static int store_check(void *rec, const void *parent, const struct cy_node *n, struct ldms_err *err)
{
	struct maestro_store *s = rec;
	char msg[300];
	if (!s->plugin || !s->container)
		return kv_err(err, "incomplete storage policy", s->name);
	if (s->flush && maestro_interval_us(s->flush, &s->flush_us, msg, sizeof(msg)))
		return kv_err(err, msg, s->name);
	return 0;
}

/* The writer writes the raw spec; the reader also takes the values it uses out of it. */
#define KV_RS(t, k, field) KVF(t, k, KVF_STR, KVF_R, field)

static const struct kvf store_f[] = {
    KVF(struct maestro_store, NULL, KVF_SPEC, KVF_RW, spec),
    KV_RS(struct maestro_store, "plugin", plugin),
    KV_RS(struct maestro_store, "container", container),
    KV_RS(struct maestro_store, "schema", schema),
    KV_RS(struct maestro_store, "regex", regex),
    KV_RS(struct maestro_store, "decomposition", decomposition),
    KV_RS(struct maestro_store, "flush", flush),
    KV_RS(struct maestro_store, "perm", perm),
};
static const struct kvrec store_r = KV_REC(struct maestro_store, name, store_f, store_check, NULL);

static int store_group_check(void *rec, const void *parent, const struct cy_node *n,
			     struct ldms_err *err)
{
	struct maestro_store_group *g = rec;
	return expand_group(g->group, &g->members, err);
}

static const struct kvf store_group_f[] = {
    KV_ARRAY(struct maestro_store_group, NULL, s, n, store_r),
};
static const struct kvrec store_group_r =
    KV_REC(struct maestro_store_group, group, store_group_f, store_group_check, NULL);

static int sampler_group_check(void *rec, const void *parent, const struct cy_node *n,
			       struct ldms_err *err)
{
	struct maestro_sampler_group *g = rec;
	return expand_group(g->group, &g->members, err);
}

static const struct kvf sampler_group_f[] = {
    KVF(struct maestro_sampler_group, NULL, KVF_SPEC, KVF_RW, spec),
    KV_LIST(struct maestro_sampler_group, "plugins", KVF_R, plugins, n_plugins, NULL),
};
static const struct kvrec sampler_group_r =
    KV_REC(struct maestro_sampler_group, group, sampler_group_f, sampler_group_check, NULL);

static int plugin_check(void *rec, const void *parent, const struct cy_node *n,
			struct ldms_err *err)
{
	struct maestro_plugin *p = rec;
	char msg[300];
	if (!p->name)
		return kv_err(err, "no name for plugin instance", p->inst);
	const char *iv = cy_str(cy_map_get(n, "interval"));
	const char *ov = cy_str(cy_map_get(n, "offset"));
	if ((iv && maestro_interval_us(iv, &p->interval_us, msg, sizeof(msg))) ||
	    (ov && maestro_interval_us(ov, &p->offset_us, msg, sizeof(msg))))
		return kv_err(err, msg, p->inst);
	return 0;
}

static const struct kvf plugin_f[] = {
    KVF(struct maestro_plugin, NULL, KVF_SPEC, KVF_RW, spec),
    KV_RS(struct maestro_plugin, "name", name),
    KVF(struct maestro_plugin, "config", KVF_NODE, KVF_R, config),
};
static const struct kvrec plugin_r =
    KV_REC(struct maestro_plugin, inst, plugin_f, plugin_check, NULL);

/* The top level, in the writer's order (upstream's etcd_dump order). */
static const struct kvf model_f[] = {
    KV_ARRAY(struct maestro_model, "daemons", daemons, n_daemons, daemon_r),
    KV_ARRAY(struct maestro_model, "advertisers", adv, n_adv, advertiser_r),
    KV_ARRAY(struct maestro_model, "prdcr_listeners", lgrp, n_lgrp, listener_group_r),
    KV_ARRAY(struct maestro_model, "aggregators", agrp, n_agrp, agg_group_r),
    KV_ARRAY(struct maestro_model, "producers", pgrp, n_pgrp, producer_group_r),
    KV_ARRAY(struct maestro_model, "updaters", ugrp, n_ugrp, updater_group_r),
    KV_ARRAY(struct maestro_model, "stores", stgrp, n_stgrp, store_group_r),
    KV_ARRAY(struct maestro_model, "samplers", sgrp, n_sgrp, sampler_group_r),
    KV_ARRAY(struct maestro_model, "plugins", plugins, n_plugins, plugin_r),
};

/* ---- model -> kv, by the tables -------------------------------------------------------- */

static void w_fields(struct kvw *w, const void *rec, const struct kvf *f, size_t nf);

static void w_array(struct kvw *w, const void *parent, const struct kvf *f)
{
	const struct kvrec *r = f->sub;
	const char *arr = KV_AT(parent, f->off, const char *);
	size_t n = KV_AT(parent, f->n_off, size_t), at = w->len;
	if (f->key && w_push(w, f->key, 0))
		return;
	size_t base = w->len;
	for (size_t i = 0; i < n && !w->rc; i++) {
		const void *rec = arr + i * r->size;
		if (w_push(w, KV_AT(rec, r->name_off, const char *), 1))
			break;
		w_fields(w, rec, r->f, r->nf);
		w_pop(w, base);
	}
	w_pop(w, at);
}

static void w_fields(struct kvw *w, const void *rec, const struct kvf *f, size_t nf)
{
	for (size_t i = 0; i < nf && !w->rc; i++) {
		const char *s;
		if (!(f[i].dir & KVF_W))
			continue;
		switch (f[i].kind) {
		case KVF_STR:
			w_leaf(w, f[i].key, KV_AT(rec, f[i].off, const char *));
			break;
		case KVF_INT:
			s = KV_AT(rec, f[i].off, const char *);
			if (s && strcmp(s, "0") != 0)
				w_leaf(w, f[i].key, s);
			break;
		case KVF_BOOL:
			w_leaf(w, f[i].key, KV_AT(rec, f[i].off, int) ? "True" : NULL);
			break;
		case KVF_CONST:
			w_leaf(w, f[i].key, f[i].dflt);
			break;
		case KVF_NODE:
			w_sub(w, f[i].key, KV_AT(rec, f[i].off, const struct cy_node *));
			break;
		case KVF_SPEC:
			w_node(w, KV_AT(rec, f[i].off, const struct cy_node *));
			break;
		case KVF_AUTH:
			w_auth(w, &KV_AT(rec, f[i].off, const struct maestro_auth));
			break;
		case KVF_LIST:
			w_strlist(w, f[i].key, KV_AT(rec, f[i].off, char **),
				  KV_AT(rec, f[i].n_off, size_t));
			break;
		case KVF_ARRAY:
			w_array(w, rec, &f[i]);
			break;
		}
	}
}

int maestro_model_to_kv(const struct maestro_model *m, const char *prefix,
			struct maestro_kvlist *out, struct ldms_err *err)
{
	struct kvw w = {.out = out};
	if (prefix && *prefix) {
		/* "/P/...": the path starts with an empty component */
		w.path = malloc(strlen(prefix) + 2);
		if (!w.path)
			goto nomem;
		sprintf(w.path, "/%s", prefix);
		w.len = w.cap = strlen(w.path);
		w.cap++;
	}
	w_fields(&w, m, model_f, sizeof(model_f) / sizeof(model_f[0]));
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

/* A list of strings (non-strings skipped); dflt, when given, stands for an empty list. */
static int r_list(const struct cy_node *seq, char ***out, size_t *n, const char *dflt)
{
	size_t np = cy_is_seq(seq) ? seq->n : 0;
	if (!np && !dflt)
		return 0;
	if (!(*out = calloc(np ? np : 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t j = 0; j < np; j++)
		if (cy_str(seq->vals[j]) && !((*out)[(*n)++] = strdup(seq->vals[j]->str)))
			return -ENOMEM;
	if (!*n && dflt && !((*out)[(*n)++] = strdup(dflt)))
		return -ENOMEM;
	return 0;
}

static int r_array(const struct cy_node *sec, void *parent, const struct kvf *f,
		   struct ldms_err *err);

/* One record from its node: its fields, the checks, then its records. */
static int r_record(const struct cy_node *n, void *rec, const void *parent, const struct kvrec *r,
		    struct ldms_err *err)
{
	int rc;
	for (size_t i = 0; i < r->nf; i++) {
		const struct kvf *f = &r->f[i];
		const struct cy_node *v = f->key ? cy_map_get(n, f->key) : n;
		if (!(f->dir & KVF_R))
			continue;
		switch (f->kind) {
		case KVF_STR:
		case KVF_INT:
			if (!cy_str(v) && !f->dflt)
				break;
			if (!(KV_AT(rec, f->off, char *) = strdup(cy_str(v) ? cy_str(v) : f->dflt)))
				return kv_nomem(err);
			break;
		case KVF_BOOL:
			KV_AT(rec, f->off, int) = cy_str(v) && strcmp(cy_str(v), "True") == 0;
			break;
		case KVF_NODE:
		case KVF_SPEC:
			KV_AT(rec, f->off, struct cy_node *) = cy_ref((struct cy_node *)v);
			break;
		case KVF_AUTH:
			auth_from(n, &KV_AT(rec, f->off, struct maestro_auth));
			break;
		case KVF_LIST:
			if (r_list(v, &KV_AT(rec, f->off, char **), &KV_AT(rec, f->n_off, size_t),
				   f->dflt))
				return kv_nomem(err);
			break;
		case KVF_CONST:
		case KVF_ARRAY:
			break;
		}
	}
	if (r->check && (rc = r->check(rec, parent, n, err)))
		return rc;
	for (size_t i = 0; i < r->nf; i++)
		if (r->f[i].kind == KVF_ARRAY &&
		    (rc =
			 r_array(r->f[i].key ? cy_map_get(n, r->f[i].key) : n, rec, &r->f[i], err)))
			return rc;
	if (r->done)
		r->done(rec);
	return 0;
}

/* The records of a map, each named by its key. */
static int r_array(const struct cy_node *sec, void *parent, const struct kvf *f,
		   struct ldms_err *err)
{
	const struct kvrec *r = f->sub;
	if (!cy_is_map(sec) || !sec->n)
		return 0;
	char *arr = calloc(sec->n, r->size);
	if (!arr)
		return kv_nomem(err);
	KV_AT(parent, f->off, char *) = arr;
	size_t *count = &KV_AT(parent, f->n_off, size_t);
	for (size_t i = 0; i < sec->n; i++) {
		void *rec = arr + (*count)++ * r->size;
		if (!(KV_AT(rec, r->name_off, char *) = strdup(sec->keys[i]->str)))
			return kv_nomem(err);
		int rc = r_record(sec->vals[i], rec, parent, r, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int model_from_tree(const struct cy_node *t, struct maestro_model *m, struct ldms_err *err)
{
	/* the reader's order, which decides which error a broken tree reports */
	static const char *const order[] = {"daemons",	       "plugins",     "advertisers",
					    "prdcr_listeners", "aggregators", "producers",
					    "updaters",	       "stores",      "samplers"};
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		for (size_t i = 0; i < sizeof(model_f) / sizeof(model_f[0]); i++) {
			if (strcmp(model_f[i].key, order[o]) != 0)
				continue;
			int rc = r_array(cy_map_get(t, order[o]), m, &model_f[i], err);
			if (rc)
				return rc;
		}
	}
	m->has_plugins = cy_map_get(t, "plugins") != NULL;
	m->has_stores = cy_map_get(t, "stores") != NULL;
	m->has_samplers = cy_map_get(t, "samplers") != NULL;
	return maestro_model_index(m, err);
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
