/* Daemon states as object lists and the diff that turns one into another as control
 * requests (rebalance.h): the single path for first configuration, reconfiguration of
 * a restarted daemon, producer moves and configuration changes. Pure functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ldms/ldms_ctrl.h"
#include "rebalance.h"

/* ---- commands ------------------------------------------------------------------------ */

void rb_cmdlist_init(struct rb_cmdlist *l)
{
	memset(l, 0, sizeof(*l));
}

static void cmd_free(struct rb_cmd *c)
{
	for (size_t i = 0; i < c->n_attr; i++)
		free(c->attr[i].value);
	free(c->attr);
	free(c->text);
	free(c->key);
}

void rb_cmdlist_free(struct rb_cmdlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		cmd_free(&l->c[i]);
	free(l->c);
	memset(l, 0, sizeof(*l));
}

static int cmd_attr(struct rb_cmd *c, uint32_t id, const char *v, size_t vlen)
{
	struct rb_attr *na = realloc(c->attr, (c->n_attr + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	c->attr = na;
	char *dup = NULL;
	if (v && !(dup = strndup(v, vlen)))
		return -ENOMEM;
	c->attr[c->n_attr].id = id;
	c->attr[c->n_attr].value = dup;
	c->n_attr++;
	return 0;
}

/* which names a verb folds into its free-form STRING (as ldmsd_controller does) */
static int folds(const char *verb, const char *name, int id)
{
	if (!strcmp(verb, "config"))
		return strcmp(name, "name") != 0;
	if (!strcmp(verb, "auth_add"))
		return strcmp(name, "name") && strcmp(name, "plugin");
	if (!strcmp(verb, "env"))
		return 1;
	return id < 0;
}

int rb_cmd_add_line(struct rb_cmdlist *l, const char *line, unsigned ok)
{
	size_t vl = strcspn(line, " ");
	char verb[64];
	if (!vl || vl >= sizeof(verb))
		return -EINVAL;
	memcpy(verb, line, vl);
	verb[vl] = 0;
	int req = ldms_ctrl_cmd_id(verb);
	if (req < 0)
		return -EINVAL;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		struct rb_cmd *n = realloc(l->c, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->c = n;
		l->cap = nc;
	}
	struct rb_cmd *c = &l->c[l->n];
	memset(c, 0, sizeof(*c));
	c->req = (uint32_t)req;
	c->ok = ok;
	c->kind = -1;
	int rc = -ENOMEM;
	char *fold = NULL;
	size_t flen = 0;
	if (!(c->text = strdup(line)))
		goto fail;
	const char *p = line + vl;
	int is_config = !strcmp(verb, "config");
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t tl = strcspn(p, " ");
		const char *eq = memchr(p, '=', tl);
		size_t nl = eq ? (size_t)(eq - p) : tl;
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(nl < 63 ? nl : 63), p);
		int id = ldms_ctrl_attr_id(name);
		if (folds(verb, name, id)) {
			/* config: the plugin's part is kept verbatim, spaces included */
			size_t take = is_config ? strlen(p) : tl;
			char *nf = realloc(fold, flen + take + 2);
			if (!nf)
				goto fail;
			fold = nf;
			if (flen)
				fold[flen++] = ' ';
			memcpy(fold + flen, p, take);
			flen += take;
			fold[flen] = 0;
			p += take;
			continue;
		}
		if ((rc = cmd_attr(c, (uint32_t)id, eq ? eq + 1 : NULL, eq ? tl - nl - 1 : 0)))
			goto fail;
		rc = -ENOMEM;
		p += tl;
	}
	if (fold && (rc = cmd_attr(c, LDMSD_ATTR_STRING, fold, flen)))
		goto fail;
	free(fold);
	l->n++;
	return 0;
fail:
	free(fold);
	cmd_free(c);
	return rc;
}

/* ---- objects and states ------------------------------------------------------------------ */

static const char *const kind_names[RB_NKIND] = {
    "enable",  "auth",		 "listen",	 "sampler",	      "store plugin", "producer",
    "updater", "storage policy", "subscription", "producer listener", "advertiser",
};

const char *rb_kind_name(enum rb_kind k)
{
	return k < RB_NKIND ? kind_names[k] : "?";
}

void rb_state_init(struct rb_state *s)
{
	memset(s, 0, sizeof(*s));
}

static void kvs_free(struct rb_kv *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].k);
		free(a[i].v);
	}
	free(a);
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void obj_free(struct rb_obj *o)
{
	free(o->key);
	kvs_free(o->a, o->n_a);
	kvs_free(o->s, o->n_s);
	strs_free(o->l, o->n_l);
	strs_free(o->m, o->n_m);
	memset(o, 0, sizeof(*o));
}

void rb_state_free(struct rb_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		obj_free(&s->o[i]);
	free(s->o);
	memset(s, 0, sizeof(*s));
}

static int obj_cmp(enum rb_kind k, const char *key, const struct rb_obj *o)
{
	if (k != o->kind)
		return k < o->kind ? -1 : 1;
	return strcmp(key, o->key);
}

/* position of (kind, key), or where it would go (*found 0) */
static size_t state_pos(const struct rb_state *s, enum rb_kind k, const char *key, int *found)
{
	size_t lo = 0, hi = s->n;
	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = obj_cmp(k, key, &s->o[mid]);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct rb_obj *rb_state_find(const struct rb_state *s, enum rb_kind kind, const char *key)
{
	int found;
	size_t i = state_pos(s, kind, key, &found);
	return found ? &s->o[i] : NULL;
}

struct rb_obj *rb_state_put(struct rb_state *s, enum rb_kind kind, const char *key)
{
	int found;
	size_t i = state_pos(s, kind, key, &found);
	char *k = strdup(key);
	if (!k)
		return NULL;
	if (found) {
		obj_free(&s->o[i]);
	} else {
		if (s->n == s->cap) {
			size_t nc = s->cap ? 2 * s->cap : 16;
			struct rb_obj *n = realloc(s->o, nc * sizeof(*n));
			if (!n) {
				free(k);
				return NULL;
			}
			s->o = n;
			s->cap = nc;
		}
		memmove(&s->o[i + 1], &s->o[i], (s->n - i) * sizeof(*s->o));
		s->n++;
	}
	memset(&s->o[i], 0, sizeof(s->o[i]));
	s->o[i].kind = kind;
	s->o[i].key = k;
	return &s->o[i];
}

static int kv_add(struct rb_kv **a, size_t *n, const char *k, const char *v)
{
	struct rb_kv *na = realloc(*a, (*n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	*a = na;
	char *kk = strdup(k), *vv = v ? strdup(v) : NULL;
	if (!kk || (v && !vv)) {
		free(kk);
		free(vv);
		return -ENOMEM;
	}
	na[*n].k = kk;
	na[*n].v = vv;
	(*n)++;
	return 0;
}

static int str_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int rb_obj_set_attr(struct rb_obj *o, const char *k, const char *v)
{
	return kv_add(&o->a, &o->n_a, k, v);
}

int rb_obj_set_start(struct rb_obj *o, const char *k, const char *v)
{
	return kv_add(&o->s, &o->n_s, k, v);
}

int rb_obj_add_item(struct rb_obj *o, const char *item)
{
	return str_add(&o->l, &o->n_l, item);
}

int rb_obj_add_match(struct rb_obj *o, const char *item)
{
	return str_add(&o->m, &o->n_m, item);
}

const char *rb_obj_attr(const struct rb_obj *o, const char *k)
{
	for (size_t i = 0; i < o->n_a; i++)
		if (!strcmp(o->a[i].k, k))
			return o->a[i].v ? o->a[i].v : "";
	return NULL;
}

static int obj_copy(struct rb_obj *dst, const struct rb_obj *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->run = src->run;
	if (!(dst->key = strdup(src->key)))
		return -ENOMEM;
	for (size_t i = 0; i < src->n_a; i++)
		if (kv_add(&dst->a, &dst->n_a, src->a[i].k, src->a[i].v))
			return -ENOMEM;
	for (size_t i = 0; i < src->n_s; i++)
		if (kv_add(&dst->s, &dst->n_s, src->s[i].k, src->s[i].v))
			return -ENOMEM;
	for (size_t i = 0; i < src->n_l; i++)
		if (str_add(&dst->l, &dst->n_l, src->l[i]))
			return -ENOMEM;
	for (size_t i = 0; i < src->n_m; i++)
		if (str_add(&dst->m, &dst->n_m, src->m[i]))
			return -ENOMEM;
	return 0;
}

int rb_state_copy(struct rb_state *dst, const struct rb_state *src)
{
	rb_state_init(dst);
	if (!src->n)
		return 0;
	if (!(dst->o = calloc(src->n, sizeof(*dst->o))))
		return -ENOMEM;
	dst->cap = src->n;
	for (size_t i = 0; i < src->n; i++) {
		dst->n = i + 1;
		if (obj_copy(&dst->o[i], &src->o[i])) {
			rb_state_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void rb_state_remove(struct rb_state *s, enum rb_kind kind, const char *key)
{
	int found;
	size_t i = state_pos(s, kind, key, &found);
	if (!found)
		return;
	obj_free(&s->o[i]);
	memmove(&s->o[i], &s->o[i + 1], (s->n - i - 1) * sizeof(*s->o));
	s->n--;
}

int rb_state_restore(struct rb_state *dst, const struct rb_state *src, enum rb_kind kind,
		     const char *key)
{
	const struct rb_obj *so = rb_state_find(src, kind, key);
	if (!so) {
		rb_state_remove(dst, kind, key);
		return 0;
	}
	struct rb_obj *o = rb_state_put(dst, kind, key);
	if (!o)
		return -ENOMEM;
	obj_free(o);
	return obj_copy(o, so);
}

static int streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int kvs_equal(const struct rb_kv *a, size_t na, const struct rb_kv *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].k, b[i].k) || !streq(a[i].v, b[i].v))
			return 0;
	return 1;
}

static int strs_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

/* attributes equal, ignoring `skip` (NULL: none) */
static int kvs_equal_but(const struct rb_kv *a, size_t na, const struct rb_kv *b, size_t nb,
			 const char *skip)
{
	size_t i = 0, k = 0;
	for (;;) {
		while (skip && i < na && !strcmp(a[i].k, skip))
			i++;
		while (skip && k < nb && !strcmp(b[k].k, skip))
			k++;
		if (i == na || k == nb)
			return i == na && k == nb;
		if (strcmp(a[i].k, b[k].k) || !streq(a[i].v, b[k].v))
			return 0;
		i++;
		k++;
	}
}

/* the parts an add command carries (a change needs delete + add); a producer's set list
 * (balancing by set) is not one of them, see sets_shrunk() */
static int add_equal(const struct rb_obj *x, const struct rb_obj *y)
{
	return kvs_equal_but(x->a, x->n_a, y->a, y->n_a, RB_SETS_ATTR) &&
	       strs_equal(x->l, x->n_l, y->l, y->n_l) && strs_equal(x->m, x->n_m, y->m, y->n_m);
}

/* Balancing by set: an aggregator that loses some sets of a producer it keeps must drop
 * its copies of them (they would shadow the new owner's copies upstream), which only a
 * producer restart does. */
static int sets_shrunk(const struct rb_obj *c, const struct rb_obj *w)
{
	if (c->kind != RB_PRDCR)
		return 0;
	const char *cs = rb_obj_attr(c, RB_SETS_ATTR), *ws = rb_obj_attr(w, RB_SETS_ATTR);
	if (!cs || !*cs)
		return 0;
	if (!ws)
		ws = "";
	for (const char *p = cs; *p;) {
		size_t n = strcspn(p, "\n");
		int found = 0;
		for (const char *q = ws; *q && !found;) {
			size_t m = strcspn(q, "\n");
			found = m == n && !strncmp(p, q, n);
			q += m + (q[m] == '\n');
		}
		if (!found)
			return 1;
		p += n + (p[n] == '\n');
	}
	return 0;
}

int rb_state_equal(const struct rb_state *a, const struct rb_state *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct rb_obj *x = &a->o[i], *y = &b->o[i];
		if (x->kind != y->kind || strcmp(x->key, y->key) || x->run != y->run ||
		    !add_equal(x, y) || !kvs_equal(x->a, x->n_a, y->a, y->n_a) ||
		    !kvs_equal(x->s, x->n_s, y->s, y->n_s))
			return 0;
	}
	return 1;
}

/* ---- diff ------------------------------------------------------------------------------------ */

struct kind_verbs {
	const char *add, *item, *match, *start, *stop, *del;
	int named;     /* add/start/... carry name=<key> */
	int permanent; /* never removed or changed (ldmsd has no way) */
};

static const struct kind_verbs verbs[RB_NKIND] = {
    [RB_ENABLE] = {NULL, NULL, NULL, NULL, NULL, NULL, 0, 1},
    [RB_AUTH] = {"auth_add", NULL, NULL, NULL, NULL, NULL, 1, 1},
    [RB_LISTEN] = {"listen", NULL, NULL, NULL, NULL, NULL, 0, 1},
    [RB_SMPLR] = {"load", "config", NULL, "start", "stop", "term", 1, 0},
    [RB_STPI] = {"load", "config", NULL, NULL, NULL, "term", 1, 0},
    [RB_PRDCR] = {"prdcr_add", NULL, NULL, "prdcr_start", "prdcr_stop", "prdcr_del", 1, 0},
    [RB_UPDTR] = {"updtr_add", "updtr_prdcr_add", "updtr_match_add", "updtr_start", "updtr_stop",
		  "updtr_del", 1, 0},
    [RB_STRGP] = {"strgp_add", "strgp_prdcr_add", NULL, "strgp_start", "strgp_stop", "strgp_del", 1,
		  0},
    [RB_SUB] = {"prdcr_subscribe", NULL, NULL, NULL, NULL, "prdcr_unsubscribe", 0, 0},
    [RB_PLISTEN] = {"prdcr_listen_add", NULL, NULL, "prdcr_listen_start", "prdcr_listen_stop",
		    "prdcr_listen_del", 1, 0},
    [RB_ADV] = {"advertiser_add", NULL, NULL, "advertiser_start", "advertiser_stop",
		"advertiser_del", 1, 0},
};

struct linebuf {
	char *s;
	size_t len, cap;
};

static int lb_add(struct linebuf *b, const char *a, const char *c)
{
	size_t la = strlen(a), lc = c ? strlen(c) : 0;
	size_t need = b->len + la + lc + 3;
	if (need > b->cap) {
		size_t nc = need * 2;
		char *n = realloc(b->s, nc);
		if (!n)
			return -ENOMEM;
		b->s = n;
		b->cap = nc;
	}
	if (b->len)
		b->s[b->len++] = ' ';
	memcpy(b->s + b->len, a, la);
	b->len += la;
	if (c) {
		b->s[b->len++] = '=';
		memcpy(b->s + b->len, c, lc);
		b->len += lc;
	}
	b->s[b->len] = 0;
	return 0;
}

static int tag(struct rb_cmdlist *l, const struct rb_obj *o)
{
	struct rb_cmd *c = &l->c[l->n - 1];
	c->kind = (int)o->kind;
	return (c->key = strdup(o->key)) ? 0 : -ENOMEM;
}

/* "<verb> [name=<key>] [attrs] [rest]" */
static int emit(struct rb_cmdlist *l, const char *verb, const struct rb_obj *o, int named,
		const struct rb_kv *a, size_t na, const char *rest, unsigned ok)
{
	struct linebuf b = {0};
	int rc = lb_add(&b, verb, NULL);
	if (!rc && named)
		rc = lb_add(&b, "name", o->key);
	for (size_t i = 0; !rc && i < na; i++)
		if (a[i].k[0] != '_')
			rc = lb_add(&b, a[i].k, a[i].v);
	if (!rc && rest)
		rc = lb_add(&b, rest, NULL);
	if (!rc)
		rc = rb_cmd_add_line(l, b.s, ok);
	free(b.s);
	if (!rc && !(rc = tag(l, o)))
		return 0;
	return rc;
}

static int emit_add(struct rb_cmdlist *l, const struct rb_obj *o)
{
	const struct kind_verbs *v = &verbs[o->kind];
	int rc;
	if (o->kind == RB_ENABLE)
		return (rc = rb_cmd_add_line(l, o->key, RB_OK_EEXIST | RB_OK_EBUSY)) ? rc
										     : tag(l, o);
	unsigned ok = RB_OK_EEXIST | (o->kind == RB_LISTEN ? RB_OK_EADDR : 0);
	if ((rc = emit(l, v->add, o, v->named, o->a, o->n_a, NULL, ok)))
		return rc;
	for (size_t i = 0; i < o->n_l; i++)
		if ((rc = emit(l, v->item, o, 1, NULL, 0, o->l[i],
			       o->kind == RB_SMPLR || o->kind == RB_STPI ? 0 : RB_OK_EEXIST)))
			return rc;
	for (size_t i = 0; i < o->n_m; i++)
		if ((rc = emit(l, v->match, o, 1, NULL, 0, o->m[i], RB_OK_EEXIST)))
			return rc;
	return 0;
}

static int emit_start(struct rb_cmdlist *l, const struct rb_obj *o)
{
	const struct kind_verbs *v = &verbs[o->kind];
	if (!v->start || !o->run)
		return 0;
	return emit(l, v->start, o, 1, o->s, o->n_s, NULL, RB_OK_EBUSY | RB_OK_EEXIST);
}

static int emit_stop(struct rb_cmdlist *l, const struct rb_obj *o)
{
	const struct kind_verbs *v = &verbs[o->kind];
	if (!v->stop || !o->run)
		return 0;
	return emit(l, v->stop, o, 1, NULL, 0, NULL, RB_OK_EBUSY | RB_OK_ENOENT);
}

static int emit_del(struct rb_cmdlist *l, const struct rb_obj *o)
{
	const struct kind_verbs *v = &verbs[o->kind];
	if (!v->del)
		return 0;
	if (o->kind == RB_SUB) {
		/* unsubscribe names the same regex and tag; rx_rate is not part of it */
		struct rb_kv a[2];
		size_t n = 0;
		for (size_t i = 0; i < o->n_a && n < 2; i++)
			if (strcmp(o->a[i].k, "rx_rate") && o->a[i].k[0] != '_')
				a[n++] = o->a[i];
		return emit(l, v->del, o, 0, a, n, NULL, RB_OK_ENOENT);
	}
	return emit(l, v->del, o, 1, NULL, 0, NULL, RB_OK_ENOENT);
}

/* removal: everything `o` needs to disappear */
static int remove_obj(struct rb_cmdlist *pre, const struct rb_obj *o)
{
	if (verbs[o->kind].permanent)
		return 0;
	int rc = emit_stop(pre, o);
	return rc ? rc : emit_del(pre, o);
}

static int create_obj(struct rb_cmdlist *post, const struct rb_obj *o)
{
	int rc = emit_add(post, o);
	return rc ? rc : emit_start(post, o);
}

static int diff_obj(const struct rb_obj *c, const struct rb_obj *w, struct rb_cmdlist *pre,
		    struct rb_cmdlist *post)
{
	int rc = 0;
	if (verbs[w->kind].permanent)
		return 0;
	if (!add_equal(c, w)) {
		if ((rc = remove_obj(pre, c)))
			return rc;
		return create_obj(post, w);
	}
	int has_start = verbs[w->kind].start != NULL;
	if (!has_start)
		return 0;
	if (!kvs_equal(c->s, c->n_s, w->s, w->n_s)) {
		if (c->run && (rc = emit_stop(pre, c)))
			return rc;
		return emit_start(post, w);
	}
	if (c->run && w->run && sets_shrunk(c, w)) {
		if ((rc = emit_stop(pre, c)))
			return rc;
		return emit_start(post, w);
	}
	if (c->run && !w->run)
		return emit_stop(pre, c);
	if (!c->run && w->run)
		return emit_start(post, w);
	return 0;
}

int rb_diff(const struct rb_state *cur, const struct rb_state *want, int keep_unknown,
	    struct rb_cmdlist *pre, struct rb_cmdlist *post)
{
	int rc = 0;
	/* removals, reverse kind order: users of an object go before the object */
	for (int k = RB_NKIND - 1; k >= 0 && !rc; k--) {
		for (size_t i = 0; i < cur->n && !rc; i++) {
			const struct rb_obj *c = &cur->o[i];
			if ((int)c->kind != k)
				continue;
			const struct rb_obj *w = rb_state_find(want, c->kind, c->key);
			if (!w) {
				if (!keep_unknown)
					rc = remove_obj(pre, c);
			} else if (!add_equal(c, w) || c->run != w->run || sets_shrunk(c, w) ||
				   !kvs_equal(c->s, c->n_s, w->s, w->n_s)) {
				/* stops and deletes of changed objects; their adds come below */
				struct rb_cmdlist scratch;
				rb_cmdlist_init(&scratch);
				rc = diff_obj(c, w, pre, &scratch);
				rb_cmdlist_free(&scratch);
			}
		}
	}
	for (int k = 0; k < RB_NKIND && !rc; k++) {
		for (size_t i = 0; i < want->n && !rc; i++) {
			const struct rb_obj *w = &want->o[i];
			if ((int)w->kind != k)
				continue;
			const struct rb_obj *c = rb_state_find(cur, w->kind, w->key);
			if (!c) {
				rc = create_obj(post, w);
			} else {
				struct rb_cmdlist scratch;
				rb_cmdlist_init(&scratch);
				rc = diff_obj(c, w, &scratch, post);
				rb_cmdlist_free(&scratch);
			}
		}
	}
	return rc;
}

/* ---- adoption from status replies ------------------------------------------------------ */

/* name -> running (-1: listed, state unknown) from a JSON list of {name, state} */
static int status_list(const char *text, json_t **out)
{
	*out = NULL;
	if (!text)
		return 0;
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j || !json_is_array(j)) {
		json_decref(j);
		return -EINVAL;
	}
	*out = j;
	return 0;
}

static json_t *status_find(json_t *list, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && !strcmp(n, name))
			return e;
	}
	return NULL;
}

static int state_running(json_t *e, const char *const *idle)
{
	const char *st = json_string_value(json_object_get(e, "state"));
	if (!st)
		return -1;
	for (size_t i = 0; idle[i]; i++)
		if (!strcasecmp(st, idle[i]))
			return 0;
	return 1;
}

static const char *const prdcr_idle[] = {"STOPPED", "STANDBY", NULL};
static const char *const other_idle[] = {"STOPPED", NULL};

int rb_prdcr_running(const char *prdcr_status, void (*cb)(const char *name, void *arg), void *arg)
{
	json_t *j;
	if (status_list(prdcr_status, &j) || !j)
		return -EINVAL;
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && state_running(e, prdcr_idle) == 1)
			cb(n, arg);
	}
	json_decref(j);
	return 0;
}

int rb_adopt(const struct rb_observed *obs, const struct rb_state *want, struct rb_state *out)
{
	json_t *pr = NULL, *up = NULL, *sg = NULL, *pl = NULL;
	int rc = -EINVAL;
	rb_state_init(out);
	if (status_list(obs->prdcr_status, &pr) || status_list(obs->updtr_status, &up) ||
	    status_list(obs->strgp_status, &sg) || status_list(obs->plugn_status, &pl))
		goto done;
	rc = 0;
	for (size_t i = 0; i < want->n && !rc; i++) {
		const struct rb_obj *w = &want->o[i];
		json_t *list = NULL;
		const char *const *idle = other_idle;
		int run_known = 1;
		switch (w->kind) {
		case RB_PRDCR:
			list = pr;
			idle = prdcr_idle;
			break;
		case RB_UPDTR:
			list = up;
			break;
		case RB_STRGP:
			list = sg;
			break;
		case RB_SMPLR:
		case RB_STPI:
			list = pl;
			run_known = 0; /* plugn_status does not say */
			break;
		default:
			continue;
		}
		json_t *e = list ? status_find(list, w->key) : NULL;
		if (!e)
			continue;
		struct rb_obj *o = rb_state_put(out, w->kind, w->key);
		if (!o) {
			rc = -ENOMEM;
			break;
		}
		char *key = o->key;
		o->key = NULL;
		free(key);
		if (obj_copy(o, w)) {
			rc = -ENOMEM;
			break;
		}
		if (run_known) {
			int r = state_running(e, idle);
			o->run = r < 0 ? w->run : r;
		}
	}
done:
	json_decref(pr);
	json_decref(up);
	json_decref(sg);
	json_decref(pl);
	if (rc)
		rb_state_free(out);
	return rc;
}

char *rb_regex_exact(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(2 * n + 3), *p = r;
	if (!r)
		return NULL;
	*p++ = '^';
	for (; *s; s++) {
		if (strchr(".[]{}()\\*+?^$|", *s))
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '$';
	*p = 0;
	return r;
}
