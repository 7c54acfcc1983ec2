/* The etcd back end of the configuration store (cfgstore_etcd.h): generations written
 * in batched transactions, made current by one compare-and-swap transaction on the
 * pointer key that also sweeps older generations, read back at one revision, watched
 * through the pointer. Design and proofs of atomicity: docs/etcd-cfgstore.md. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldms/ldms_util.h"
#include "cfgstore_etcd.h"
#include "etcd.h"
#include "etcd_codec.h"
#include "etcd_kv.h"
#include "etcd_yaml.h"

#define GEN_DIGITS 12
#define GEN_MAX	   UINT64_C(999999999999)
#define LOAD_TRIES 3  /* whole loads lost to a concurrent loader before giving up */
#define CAS_TRIES  50 /* allocation attempts */
/* Per-operation overhead counted against the byte budget (protobuf framing). */
#define OP_OVERHEAD 32

struct cfgstore_etcd {
	struct cfgstore base;
	struct etcd_client *c;
	int own_client;
	char *root; /* "/P" */
	size_t max_ops, max_bytes;
	size_t window; /* transactions in flight while writing (1: one by one) */
	int compact;   /* compact history older than the previous switch after a load */
	struct cfgstore_etcd_stats stats;

	pthread_mutex_t mu;
	uint64_t last_gen; /* last generation read or reported */
	int64_t read_rev;  /* revision of the last read */
	struct etcd_watch *watch;
	int in_error; /* the watch reported an error (watch thread only) */
	cfgstore_watch_cb cb;
	void *cb_arg;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- layout ---------------------------------------------------------------------------- */

int cfgstore_etcd_root(const char *prefix, char **root, struct ldms_err *err)
{
	if (!prefix)
		return ldms_err_set(err, -EINVAL, "etcd prefix: none given");
	const char *p = prefix;
	if (*p == '/')
		p++;
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (!n)
		return ldms_err_set(err, -EINVAL, "etcd prefix '%s' is empty", prefix);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/' && (i == 0 || p[i - 1] == '/'))
			return ldms_err_set(err, -EINVAL,
					    "etcd prefix '%s' has an empty path component", prefix);
	char *r = malloc(n + 2);
	if (!r)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	r[0] = '/';
	memcpy(r + 1, p, n);
	r[n + 1] = '\0';
	*root = r;
	return 0;
}

char *cfgstore_etcd_gen_dir(const char *root, uint64_t gen)
{
	char *s = NULL;
	if (asprintf(&s, "%s/g/%0*" PRIu64 "/", root, GEN_DIGITS, gen) < 0)
		return NULL;
	return s;
}

int cfgstore_etcd_parse_gen(const char *s, size_t n, uint64_t *gen)
{
	if (!n || n > GEN_DIGITS)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!v)
		return -EINVAL;
	*gen = v;
	return 0;
}

static char *cat(const char *a, const char *b)
{
	char *s = NULL;
	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

void cfgstore_etcd_sweep_free(struct cfgstore_etcd_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		free(r[i].end);
		r[i].key = r[i].end = NULL;
	}
}

/* Keys under "/P/" in byte order: "/P/..." < "/P/g/<G'>/..." (G' < G) < "/P/g/<G>/..." <
 * newer generations < "/P/g/next" < "/P/g0..." < "/P/generation" < "/P/last_updated" <
 * "/P/maestro/..." < "/P0". Kept: generation G and newer, next, the two pointer keys and
 * the daemon's run-time sub-tree /P/maestro/; the ranges are the gaps in between. "\x01"
 * after a kept key starts the range right behind it (keys with a NUL there are not ours
 * to care about). */
int cfgstore_etcd_sweep_ranges(const char *root, uint64_t gen, struct cfgstore_etcd_range *r,
			       size_t *n)
{
	char *dir = cfgstore_etcd_gen_dir(root, gen);
	static const struct {
		const char *a, *b; /* suffixes of root; NULL: the generation directory */
	} spec[5] = {
	    {"/", NULL},
	    {"/g0", "/generation"},
	    {"/generation\x01", "/last_updated"},
	    {"/last_updated\x01", "/maestro/"},
	    {"/maestro0", "0"}, /* "/P0": the end of "/P/" */
	};
	memset(r, 0, 5 * sizeof(*r));
	*n = 0;
	if (!dir)
		return -ENOMEM;
	for (size_t i = 0; i < 5; i++) {
		r[i].key = cat(root, spec[i].a);
		r[i].end = spec[i].b ? cat(root, spec[i].b) : strdup(dir);
		if (!r[i].key || !r[i].end) {
			free(dir);
			cfgstore_etcd_sweep_free(r, i + 1);
			return -ENOMEM;
		}
	}
	free(dir);
	*n = 5;
	return 0;
}

size_t cfgstore_etcd_batch_len(const struct maestro_kvlist *kvs, size_t from, size_t dir_len,
			       size_t max_ops, size_t max_bytes)
{
	size_t bytes = 0, i = from;
	for (; i < kvs->count && i - from < max_ops; i++) {
		size_t b =
		    dir_len + strlen(kvs->kv[i].key) + strlen(kvs->kv[i].value) + OP_OVERHEAD;
		if (i > from && bytes + b > max_bytes)
			break;
		bytes += b;
	}
	return i > from ? i - from : (from < kvs->count ? 1 : 0);
}

/* ---- writing ------------------------------------------------------------------------------ */

struct loader {
	struct cfgstore_etcd *s;
	char *gen_key, *last_key, *next_key;
	uint64_t gen;
	int64_t gen_mod; /* mod_revision of the pointer when G was handed out (0: absent) */
	char *dir;
	size_t dir_len;
};

static int kv_u64(const struct etcd_range_result *r, uint64_t *v, int64_t *mod)
{
	*v = 0;
	*mod = 0;
	if (!r->count)
		return 0;
	*mod = r->kvs[0].mod_revision;
	return cfgstore_etcd_parse_gen(r->kvs[0].value, r->kvs[0].value_len, v);
}

/* Hands out a generation number above both the counter and the pointer, and notes the
 * pointer's mod_revision at that moment (the switch compares against it). */
static int alloc_gen(struct loader *L, struct ldms_err *err)
{
	struct cfgstore_etcd *s = L->s;
	for (int t = 0; t < CAS_TRIES; t++) {
		struct etcd_op rd[2] = {
		    {.type = ETCD_OP_RANGE, .key = L->next_key},
		    {.type = ETCD_OP_RANGE, .key = L->gen_key},
		};
		struct etcd_txn tx = {.success = rd, .nsuccess = 2};
		struct etcd_txn_result res;
		int rc = etcd_txn(s->c, &tx, &res, err);
		if (rc)
			return rc;
		uint64_t next, cur;
		int64_t next_mod, cur_mod;
		if (res.nops != 2 || kv_u64(&res.ops[0].range, &next, &next_mod) ||
		    kv_u64(&res.ops[1].range, &cur, &cur_mod)) {
			etcd_txn_result_free(&res);
			return ldms_err_set(err, -EPROTO,
					    "etcd: %s or %s does not hold a generation number",
					    L->next_key, L->gen_key);
		}
		etcd_txn_result_free(&res);
		uint64_t g = (next > cur ? next : cur) + 1;
		if (g > GEN_MAX)
			return ldms_err_set(err, -EOVERFLOW,
					    "etcd: generation numbers exhausted under %s", s->root);
		char val[24];
		snprintf(val, sizeof(val), "%" PRIu64, g);
		struct etcd_cmp cmp[2] = {
		    {.key = L->next_key, .target = ETCD_CMP_MOD, .num = next_mod},
		    {.key = L->gen_key, .target = ETCD_CMP_MOD, .num = cur_mod},
		};
		struct etcd_op put = {.type = ETCD_OP_PUT, .key = L->next_key, .value = val};
		struct etcd_txn cas = {.cmp = cmp, .ncmp = 2, .success = &put, .nsuccess = 1};
		if ((rc = etcd_txn(s->c, &cas, &res, err)))
			return rc;
		int ok = res.succeeded;
		etcd_txn_result_free(&res);
		if (ok) {
			L->gen = g;
			L->gen_mod = cur_mod;
			return 0;
		}
	}
	return ldms_err_set(err, -EBUSY,
			    "etcd: could not get a generation number under %s "
			    "(too many concurrent loads)",
			    s->root);
}

static void drop_gen(struct loader *L)
{
	struct etcd_range_spec pfx = {.prefix = 1};
	struct ldms_err e2;
	ldms_err_clear(&e2);
	etcd_delete(L->s->c, L->dir, &pfx, NULL, NULL, &e2);
}

/* The transaction of one batch [from, from+n): puts under the generation directory, on
 * condition that the pointer has not moved (else another load won: no point in writing
 * on). Either calls etcd (res != NULL) or returns the request body (*body). */
static int batch_txn(struct loader *L, const struct maestro_kvlist *kvs, size_t from, size_t n,
		     struct etcd_txn_result *res, char **body, struct ldms_err *err)
{
	struct etcd_op *ops = calloc(n, sizeof(*ops));
	char **keys = calloc(n, sizeof(*keys));
	int rc = 0;
	if (!ops || !keys) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(keys[i] = cat(L->dir, kvs->kv[from + i].key))) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		ops[i].type = ETCD_OP_PUT;
		ops[i].key = keys[i];
		ops[i].value = kvs->kv[from + i].value;
	}
	struct etcd_cmp cmp = {.key = L->gen_key, .target = ETCD_CMP_MOD, .num = L->gen_mod};
	struct etcd_txn tx = {.cmp = &cmp, .ncmp = 1, .success = ops, .nsuccess = n};
	if (res)
		rc = etcd_txn(L->s->c, &tx, res, err);
	else if (!(*body = etcd_req_txn(&tx)))
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
out:
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
	free(ops);
	return rc;
}

static int lost(struct loader *L, struct ldms_err *err)
{
	return ldms_err_set(err, -EBUSY, "etcd: %s changed while writing generation %" PRIu64,
			    L->gen_key, L->gen);
}

static void count_batch(struct loader *L, const struct maestro_kvlist *kvs, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		L->s->stats.bytes +=
		    strlen(kvs->kv[from + i].key) + strlen(kvs->kv[from + i].value);
	L->s->stats.txns++;
}

/* [from, to) one transaction after the other (with member failover), halving the batch
 * size whenever etcd finds a transaction too big. */
static int put_seq(struct loader *L, const struct maestro_kvlist *kvs, size_t from, size_t to,
		   struct ldms_err *err)
{
	struct cfgstore_etcd *s = L->s;
	const struct maestro_kvlist part = {.count = to, .cap = to, .kv = kvs->kv};
	while (from < to) {
		size_t n =
		    cfgstore_etcd_batch_len(&part, from, L->dir_len, s->max_ops, s->max_bytes);
		struct etcd_txn_result res;
		int rc = batch_txn(L, kvs, from, n, &res, NULL, err);
		if ((rc == -E2BIG || rc == -EMSGSIZE) && n > 1) {
			/* this etcd has smaller limits than we assumed: halve and go on */
			if (rc == -E2BIG)
				s->max_ops = n / 2 ? n / 2 : 1;
			else
				s->max_bytes = s->max_bytes / 2 > 1024 ? s->max_bytes / 2 : 1024;
			continue;
		}
		if (rc)
			return rc;
		int ok = res.succeeded;
		etcd_txn_result_free(&res);
		if (!ok)
			return lost(L, err);
		count_batch(L, kvs, from, n);
		from += n;
	}
	return 0;
}

struct batch {
	size_t from, n;
};

struct pipe_ctx {
	struct loader *L;
	const struct maestro_kvlist *kvs;
	const struct batch *b;
};

static char *pipe_body(size_t i, void *arg)
{
	struct pipe_ctx *p = arg;
	char *body = NULL;
	struct ldms_err e2;
	if (batch_txn(p->L, p->kvs, p->b[i].from, p->b[i].n, NULL, &body, &e2))
		return NULL;
	return body;
}

/* The first batch alone (it finds this etcd's limits), then the others pipelined; what
 * the pipeline could not do is redone one by one. */
static int write_gen(struct loader *L, const struct maestro_kvlist *kvs, struct ldms_err *err)
{
	struct cfgstore_etcd *s = L->s;
	size_t first = cfgstore_etcd_batch_len(kvs, 0, L->dir_len, s->max_ops, s->max_bytes);
	int rc = put_seq(L, kvs, 0, first, err);
	if (rc || first >= kvs->count)
		return rc;
	if (s->window <= 1)
		return put_seq(L, kvs, first, kvs->count, err);
	size_t nb = 0, cap = 0;
	struct batch *b = NULL;
	for (size_t from = first; from < kvs->count;) {
		size_t n = cfgstore_etcd_batch_len(kvs, from, L->dir_len, s->max_ops, s->max_bytes);
		if (nb == cap) {
			cap = cap ? 2 * cap : 64;
			struct batch *nbp = realloc(b, cap * sizeof(*b));
			if (!nbp) {
				free(b);
				return ldms_err_set(err, -ENOMEM, "out of memory");
			}
			b = nbp;
		}
		b[nb++] = (struct batch){from, n};
		from += n;
	}
	int *status = calloc(nb, sizeof(*status));
	if (!status) {
		free(b);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	struct pipe_ctx ctx = {L, kvs, b};
	struct ldms_err perr;
	ldms_err_clear(&perr);
	etcd_txn_pipeline(s->c, nb, pipe_body, &ctx, s->window, status, &perr);
	for (size_t i = 0; i < nb && !rc; i++) {
		if (status[i] < 0)
			rc = lost(L, err);
		else if (status[i] > 0)
			count_batch(L, kvs, b[i].from, b[i].n);
	}
	/* the rest (member failed, batch too big, ...): one by one, with failover */
	for (size_t i = 0; i < nb && !rc; i++)
		if (!status[i])
			rc = put_seq(L, kvs, b[i].from, b[i].from + b[i].n, err);
	free(status);
	free(b);
	return rc;
}

/* After a failed or unanswered switch: did our generation become current anyway (the
 * request reached etcd but the answer was lost)? */
static int switched_anyway(struct loader *L)
{
	struct etcd_kv kv;
	struct ldms_err e2;
	ldms_err_clear(&e2);
	uint64_t g;
	if (etcd_get(L->s->c, L->gen_key, &kv, NULL, &e2))
		return 0;
	int yes = !cfgstore_etcd_parse_gen(kv.value, kv.value_len, &g) && g == L->gen;
	etcd_kv_free(&kv);
	return yes;
}

static int switch_gen(struct loader *L, struct ldms_err *err)
{
	struct cfgstore_etcd_range sw[5];
	size_t nsw;
	if (cfgstore_etcd_sweep_ranges(L->s->root, L->gen, sw, &nsw))
		return ldms_err_set(err, -ENOMEM, "out of memory");
	char gval[24], tval[48];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(gval, sizeof(gval), "%" PRIu64, L->gen);
	snprintf(tval, sizeof(tval), "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	struct etcd_op ops[2 + 5] = {
	    {.type = ETCD_OP_PUT, .key = L->gen_key, .value = gval},
	    {.type = ETCD_OP_PUT, .key = L->last_key, .value = tval},
	};
	for (size_t i = 0; i < nsw; i++) {
		ops[2 + i].type = ETCD_OP_DELETE;
		ops[2 + i].key = sw[i].key;
		ops[2 + i].spec.range_end = sw[i].end;
	}
	struct etcd_cmp cmp = {.key = L->gen_key, .target = ETCD_CMP_MOD, .num = L->gen_mod};
	struct etcd_txn tx = {.cmp = &cmp, .ncmp = 1, .success = ops, .nsuccess = 2 + nsw};
	struct etcd_txn_result res;
	int rc = etcd_txn(L->s->c, &tx, &res, err);
	if (!rc) {
		if (!res.succeeded)
			rc = ldms_err_set(err, -EBUSY, "etcd: another load of %s finished first",
					  L->s->root);
		etcd_txn_result_free(&res);
	} else if (switched_anyway(L)) {
		rc = 0;
	}
	cfgstore_etcd_sweep_free(sw, nsw);
	return rc;
}

static void loader_free(struct loader *L)
{
	free(L->gen_key);
	free(L->last_key);
	free(L->next_key);
	free(L->dir);
}

static int etcd_store_write(struct cfgstore *base, const struct maestro_kvlist *kvs,
			    uint64_t *generation, struct ldms_err *err)
{
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	struct loader L = {.s = s};
	int rc = 0;
	memset(&s->stats, 0, sizeof(s->stats));
	s->stats.keys = kvs->count;
	if (!(L.gen_key = cat(s->root, "/generation")) ||
	    !(L.last_key = cat(s->root, "/last_updated")) ||
	    !(L.next_key = cat(s->root, "/g/next")))
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
	for (int attempt = 0; !rc && attempt < LOAD_TRIES; attempt++) {
		double t0 = now_s();
		if ((rc = alloc_gen(&L, err)))
			break;
		free(L.dir);
		if (!(L.dir = cfgstore_etcd_gen_dir(s->root, L.gen))) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		L.dir_len = strlen(L.dir);
		double t1 = now_s();
		rc = write_gen(&L, kvs, err);
		double t2 = now_s();
		if (!rc)
			rc = switch_gen(&L, err);
		s->stats.alloc_s += t1 - t0;
		s->stats.write_s += t2 - t1;
		s->stats.switch_s += now_s() - t2;
		if (!rc)
			break;
		drop_gen(&L); /* what this attempt wrote, nobody will read it */
		if (rc != -EBUSY)
			break;
		if (attempt + 1 < LOAD_TRIES)
			rc = 0; /* lost a race with another loader: write again on top of it */
	}
	if (!rc && s->compact && L.gen_mod > 0) {
		/* etcd keeps every deleted generation in its history until compacted, and
		 * loads get slower as it grows (and the database toward its quota): drop the
		 * history older than the previous switch. Readers of the previous generation
		 * read at or after that revision, so they are not affected. */
		struct ldms_err e2;
		ldms_err_clear(&e2);
		etcd_compact(s->c, L.gen_mod, 0, &e2); /* already compacted further: fine */
	}
	if (!rc) {
		s->stats.generation = L.gen;
		if (generation)
			*generation = L.gen;
	}
	loader_free(&L);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

static int etcd_store_read(struct cfgstore *base, struct maestro_kvlist *out, uint64_t *generation,
			   struct ldms_err *err)
{
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	char *gen_key = cat(s->root, "/generation");
	int rc = gen_key ? 0 : ldms_err_set(err, -ENOMEM, "out of memory");
	for (int t = 0; !rc && t < 5; t++) {
		struct etcd_kv kv;
		int64_t rev = 0;
		uint64_t g;
		rc = etcd_get(s->c, gen_key, &kv, &rev, err);
		if (rc == -ENOENT) {
			rc = ldms_err_set(err, -ENOENT,
					  "etcd: no configuration under %s/ (never loaded: run "
					  "maestro_ctrl --cluster ... --prefix %s)",
					  s->root, s->root + 1);
			break;
		}
		if (rc)
			break;
		rc = cfgstore_etcd_parse_gen(kv.value, kv.value_len, &g);
		etcd_kv_free(&kv);
		if (rc) {
			rc = ldms_err_set(err, -EPROTO, "etcd: %s is not a generation number",
					  gen_key);
			break;
		}
		char *dir = cfgstore_etcd_gen_dir(s->root, g);
		if (!dir) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		/* the same revision as the pointer: that generation, whole, even if a newer
		 * load has swept it since */
		struct etcd_range_opts o = {.spec = {.prefix = 1}, .revision = rev};
		struct etcd_range_result r;
		rc = etcd_range_all(s->c, dir, &o, 0, &r, err);
		if (rc == -ERANGE) { /* compacted in between: read the pointer again */
			free(dir);
			rc = 0;
			continue;
		}
		if (!rc) {
			size_t dl = strlen(dir);
			for (size_t i = 0; i < r.count && !rc; i++)
				if (r.kvs[i].key_len > dl &&
				    maestro_kvlist_add(out, r.kvs[i].key + dl, r.kvs[i].value))
					rc = ldms_err_set(err, -ENOMEM, "out of memory");
			etcd_range_result_free(&r);
		}
		free(dir);
		if (!rc) {
			pthread_mutex_lock(&s->mu);
			s->last_gen = g;
			s->read_rev = rev;
			pthread_mutex_unlock(&s->mu);
			if (generation)
				*generation = g;
		}
		break;
	}
	free(gen_key);
	return rc;
}

/* ---- watching -------------------------------------------------------------------------------- */

/* force: report g even if it was seen (the store is back after an error). */
static void report(struct cfgstore_etcd *s, uint64_t g, int rc, const char *msg, int force)
{
	pthread_mutex_lock(&s->mu);
	int changed = rc == 0 && (g != s->last_gen || force);
	if (changed)
		s->last_gen = g;
	pthread_mutex_unlock(&s->mu);
	if (changed || rc) {
		struct cfgstore_event ev = {.generation = g, .rc = rc, .msg = msg};
		s->cb(&ev, s->cb_arg);
	}
}

/* Reads the pointer now (after a compaction, or when etcd is back). */
static void report_current(struct cfgstore_etcd *s, int force)
{
	struct etcd_kv kv;
	struct ldms_err e2;
	uint64_t g;
	ldms_err_clear(&e2);
	char *k = cat(s->root, "/generation");
	if (k && !etcd_get(s->c, k, &kv, NULL, &e2)) {
		if (!cfgstore_etcd_parse_gen(kv.value, kv.value_len, &g))
			report(s, g, 0, NULL, force);
		etcd_kv_free(&kv);
	}
	free(k);
}

static void on_event(const struct etcd_event *ev, void *arg)
{
	struct cfgstore_etcd *s = arg;
	uint64_t g;
	switch (ev->type) {
	case ETCD_EVENT_PUT:
		if (!cfgstore_etcd_parse_gen(ev->kv->value, ev->kv->value_len, &g))
			report(s, g, 0, NULL, 0);
		break;
	case ETCD_EVENT_COMPACTED: /* changes may be lost: look at the pointer now */
		report_current(s, 0);
		break;
	case ETCD_EVENT_CREATED: /* back after errors: say so, with the current generation */
		if (s->in_error) {
			s->in_error = 0;
			report_current(s, 1);
		}
		break;
	case ETCD_EVENT_ERROR:
		s->in_error = 1;
		report(s, 0, -EAGAIN, ev->msg, 0);
		break;
	default:
		break;
	}
}

static int etcd_store_watch(struct cfgstore *base, cfgstore_watch_cb cb, void *arg,
			    struct ldms_err *err)
{
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	if (s->watch)
		return ldms_err_set(err, -EBUSY, "cfgstore: already watched");
	char *k = cat(s->root, "/generation");
	if (!k)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	s->cb = cb;
	s->cb_arg = arg;
	pthread_mutex_lock(&s->mu);
	struct etcd_watch_opts o = {.start_revision = s->read_rev ? s->read_rev + 1 : 0};
	pthread_mutex_unlock(&s->mu);
	int rc = etcd_watch_start(s->c, k, &o, on_event, s, &s->watch, err);
	free(k);
	return rc;
}

static void etcd_store_close(struct cfgstore *base)
{
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	etcd_watch_stop(s->watch);
	if (s->own_client)
		etcd_client_free(s->c);
	pthread_mutex_destroy(&s->mu);
	free(s->root);
	free(s);
}

static const struct cfgstore_ops etcd_ops = {
    .name = "etcd",
    .write = etcd_store_write,
    .read = etcd_store_read,
    .watch = etcd_store_watch,
    .close = etcd_store_close,
};

/* ---- opening -----------------------------------------------------------------------------------
 */

int cfgstore_etcd_open_client(struct etcd_client *c, const char *prefix, struct cfgstore **out,
			      struct ldms_err *err)
{
	struct cfgstore_etcd *s = calloc(1, sizeof(*s));
	if (!s)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	int rc = cfgstore_etcd_root(prefix, &s->root, err);
	if (rc) {
		free(s);
		return rc;
	}
	s->base.ops = &etcd_ops;
	s->c = c;
	s->max_ops = 128;
	s->max_bytes = (size_t)1 << 20;
	s->window = 8;
	s->compact = 1;
	pthread_mutex_init(&s->mu, NULL);
	*out = &s->base;
	return 0;
}

int cfgstore_open_etcd(const char *etcd_yaml_path, const char *prefix, struct cfgstore **out,
		       struct ldms_err *err)
{
	struct etcd_yaml y;
	struct etcd_client *c;
	char *root;
	int rc = cfgstore_etcd_root(prefix, &root, err); /* a bad prefix before any I/O */
	if (rc)
		return rc;
	free(root);
	if ((rc = etcd_yaml_load(etcd_yaml_path, &y, err)))
		return rc;
	rc = etcd_yaml_client(&y, &c, err);
	etcd_yaml_free(&y);
	if (rc)
		return rc;
	if ((rc = cfgstore_etcd_open_client(c, prefix, out, err))) {
		etcd_client_free(c);
		return rc;
	}
	((struct cfgstore_etcd *)*out)->own_client = 1;
	return 0;
}

struct etcd_client *cfgstore_etcd_client(struct cfgstore *s)
{
	return s && s->ops == &etcd_ops ? ((struct cfgstore_etcd *)s)->c : NULL;
}

int64_t cfgstore_etcd_read_revision(struct cfgstore *base)
{
	if (!base || base->ops != &etcd_ops)
		return 0;
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	pthread_mutex_lock(&s->mu);
	int64_t r = s->read_rev;
	pthread_mutex_unlock(&s->mu);
	return r;
}

void cfgstore_etcd_set_batch(struct cfgstore *base, size_t max_ops, size_t max_bytes)
{
	if (!base || base->ops != &etcd_ops)
		return;
	struct cfgstore_etcd *s = (struct cfgstore_etcd *)base;
	if (max_ops)
		s->max_ops = max_ops;
	if (max_bytes)
		s->max_bytes = max_bytes;
}

void cfgstore_etcd_set_window(struct cfgstore *base, size_t window)
{
	if (base && base->ops == &etcd_ops && window)
		((struct cfgstore_etcd *)base)->window = window;
}

void cfgstore_etcd_set_compact(struct cfgstore *base, int on)
{
	if (base && base->ops == &etcd_ops)
		((struct cfgstore_etcd *)base)->compact = on;
}

void cfgstore_etcd_last_stats(struct cfgstore *base, struct cfgstore_etcd_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (base && base->ops == &etcd_ops)
		*out = ((struct cfgstore_etcd *)base)->stats;
}

int cfgstore_etcd_load(const char *etcd_yaml_path, const char *prefix,
		       const struct maestro_kvlist *kvs, struct ldms_err *err)
{
	struct cfgstore *s;
	int rc = cfgstore_check_kvs(kvs, err);
	if (rc)
		return rc;
	if ((rc = cfgstore_open_etcd(etcd_yaml_path, prefix, &s, err)))
		return rc;
	rc = cfgstore_write(s, kvs, NULL, err);
	cfgstore_close(s);
	return rc;
}
