/* The etcd client and the etcd configuration store against a real etcd (Debian's
 * /usr/bin/etcd, started by the test on free 127.0.0.1 ports and always stopped; the
 * tests are skipped when etcd is not installed): kv, paging, txn, leases, watch with
 * resume and compaction, member failover, and atomic generation switches. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldms/ldms_util.h"
#include "cfgstore.h"
#include "cfgstore_etcd.h"
#include "etcd.h"
#include "etcd_codec.h"
#include "etcd_kv.h"
#include "etcd_spawn.h"

static struct etcd_spawn srv;
static struct etcd_client *cli;
static int have_etcd;

static int setup(void **state)
{
	if (!etcd_spawn_available())
		return 0;
	if (etcd_spawn_start(&srv, 1, 30))
		return -1;
	const char *u = srv.url[0];
	struct ldms_err err;
	if (etcd_client_new(&u, 1, &cli, &err))
		return -1;
	have_etcd = 1;
	return 0;
}

static int teardown(void **state)
{
	etcd_client_free(cli);
	etcd_spawn_stop(&srv);
	return 0;
}

#define NEED_ETCD()                                                                                \
	do {                                                                                       \
		if (!have_etcd)                                                                    \
			skip();                                                                    \
	} while (0)

#define OK(call)                                                                                   \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s: %d %s", #call, rc_, err.msg);                                \
	} while (0)

static void put(const char *k, const char *v)
{
	struct ldms_err err;
	OK(etcd_put(cli, k, v, 0, NULL, &err));
}

static int64_t count_prefix(const char *pfx)
{
	struct ldms_err err;
	struct etcd_range_opts o = {.spec = {.prefix = 1}, .count_only = 1};
	struct etcd_range_result r;
	OK(etcd_range(cli, pfx, &o, &r, &err));
	int64_t n = r.total;
	etcd_range_result_free(&r);
	return n;
}

static void test_kv(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	int64_t rev1, rev2;
	OK(etcd_put(cli, "/kv/a", "1", 0, &rev1, &err));
	OK(etcd_put(cli, "/kv/b", "", 0, NULL, &err));
	OK(etcd_put(cli, "/kv/c", "three", 0, &rev2, &err));
	put("/kv2/x", "outside");
	put("/kv", "outside too");
	assert_true(rev2 > rev1);

	struct etcd_kv kv;
	int64_t rev;
	OK(etcd_get(cli, "/kv/c", &kv, &rev, &err));
	assert_string_equal(kv.value, "three");
	assert_int_equal(kv.mod_revision, rev2);
	etcd_kv_free(&kv);
	assert_int_equal(etcd_get(cli, "/kv/none", &kv, NULL, &err), -ENOENT);

	struct etcd_range_opts o = {.spec = {.prefix = 1}};
	struct etcd_range_result r;
	OK(etcd_range(cli, "/kv/", &o, &r, &err));
	assert_int_equal(r.count, 3);
	assert_string_equal(r.kvs[0].key, "/kv/a");
	assert_string_equal(r.kvs[1].value, "");
	assert_string_equal(r.kvs[2].key, "/kv/c");
	etcd_range_result_free(&r);

	/* at an older revision: /kv/c did not exist yet */
	o.revision = rev1;
	OK(etcd_range(cli, "/kv/", &o, &r, &err));
	assert_int_equal(r.count, 1);
	etcd_range_result_free(&r);

	/* keys only, paged */
	struct etcd_range_opts ko = {.spec = {.prefix = 1}, .keys_only = 1};
	for (int i = 0; i < 25; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/pg/%03d", i);
		put(k, "v");
	}
	OK(etcd_range_all(cli, "/pg/", &ko, 4, &r, &err));
	assert_int_equal(r.count, 25);
	assert_string_equal(r.kvs[24].key, "/pg/024");
	assert_string_equal(r.kvs[3].value, "");
	etcd_range_result_free(&r);

	/* delete with a prefix: /kv2/ and /kv stay */
	int64_t deleted;
	struct etcd_range_spec pfx = {.prefix = 1};
	OK(etcd_delete(cli, "/kv/", &pfx, &deleted, NULL, &err));
	assert_int_equal(deleted, 3);
	assert_int_equal(count_prefix("/kv/"), 0);
	OK(etcd_get(cli, "/kv2/x", &kv, NULL, &err));
	etcd_kv_free(&kv);
	OK(etcd_get(cli, "/kv", &kv, NULL, &err));
	etcd_kv_free(&kv);

	/* a future revision is refused with a message naming the member */
	o.revision = rev2 + 100000;
	assert_int_equal(etcd_range(cli, "/kv/", &o, &r, &err), -ERANGE);
	assert_non_null(strstr(err.msg, srv.url[0]));
	assert_non_null(strstr(err.msg, "future revision"));
}

static void test_txn(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	struct etcd_kv kv;
	put("/tx/a", "1");
	OK(etcd_get(cli, "/tx/a", &kv, NULL, &err));
	int64_t mod = kv.mod_revision;
	etcd_kv_free(&kv);

	struct etcd_cmp cmp = {.key = "/tx/a", .target = ETCD_CMP_MOD, .num = mod};
	struct etcd_op succ[2] = {{.type = ETCD_OP_PUT, .key = "/tx/a", .value = "2"},
				  {.type = ETCD_OP_PUT, .key = "/tx/b", .value = "x"}};
	struct etcd_op fail[1] = {{.type = ETCD_OP_RANGE, .key = "/tx/a"}};
	struct etcd_txn t = {&cmp, 1, succ, 2, fail, 1};
	struct etcd_txn_result res;
	OK(etcd_txn(cli, &t, &res, &err));
	assert_int_equal(res.succeeded, 1);
	assert_int_equal(res.nops, 2);
	assert_int_equal(res.ops[0].type, ETCD_OP_PUT);
	etcd_txn_result_free(&res);
	/* same compare again: fails, the failure branch reads the current value */
	OK(etcd_txn(cli, &t, &res, &err));
	assert_int_equal(res.succeeded, 0);
	assert_int_equal(res.nops, 1);
	assert_int_equal(res.ops[0].range.count, 1);
	assert_string_equal(res.ops[0].range.kvs[0].value, "2");
	etcd_txn_result_free(&res);

	/* absent key: version 0; value compare; delete in a txn */
	struct etcd_cmp c2[2] = {
	    {.key = "/tx/none", .target = ETCD_CMP_VERSION, .num = 0},
	    {.key = "/tx/b", .target = ETCD_CMP_VALUE, .value = "x"},
	};
	struct etcd_op d = {.type = ETCD_OP_DELETE, .key = "/tx/", .spec = {.prefix = 1}};
	struct etcd_txn t2 = {.cmp = c2, .ncmp = 2, .success = &d, .nsuccess = 1};
	OK(etcd_txn(cli, &t2, &res, &err));
	assert_int_equal(res.succeeded, 1);
	assert_int_equal(res.ops[0].deleted, 2);
	etcd_txn_result_free(&res);

	/* etcd's limit on operations per txn: -E2BIG */
	struct etcd_op many[200];
	char keys[200][16];
	for (int i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/tx/%d", i);
		many[i] = (struct etcd_op){.type = ETCD_OP_PUT, .key = keys[i], .value = "v"};
	}
	struct etcd_txn t3 = {.success = many, .nsuccess = 200};
	assert_int_equal(etcd_txn(cli, &t3, &res, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "too many operations"));
}

static void test_lease(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	int64_t id, ttl, granted;
	OK(etcd_lease_grant(cli, 30, 0, &id, &ttl, &err));
	assert_true(id != 0);
	assert_int_equal(ttl, 30);
	OK(etcd_put(cli, "/lease/k", "v", id, NULL, &err));
	OK(etcd_lease_keepalive(cli, id, &ttl, &err));
	assert_int_equal(ttl, 30);
	OK(etcd_lease_ttl(cli, id, &ttl, &granted, &err));
	assert_int_equal(granted, 30);
	assert_true(ttl > 0 && ttl <= 30);
	struct etcd_kv kv;
	OK(etcd_get(cli, "/lease/k", &kv, NULL, &err));
	assert_int_equal(kv.lease, id);
	etcd_kv_free(&kv);
	OK(etcd_lease_revoke(cli, id, &err));
	assert_int_equal(etcd_get(cli, "/lease/k", &kv, NULL, &err), -ENOENT);
	assert_int_equal(etcd_lease_keepalive(cli, id, &ttl, &err), -ENOENT);
	assert_int_equal(etcd_lease_revoke(cli, id, &err), -ENOENT);
	/* a chosen id */
	OK(etcd_lease_grant(cli, 5, 4242, &id, &ttl, &err));
	assert_int_equal(id, 4242);
	OK(etcd_lease_revoke(cli, id, &err));
}

/* ---- watch ---------------------------------------------------------------------------------- */

struct seen {
	pthread_mutex_t mu;
	int n, created, compacted, errors;
	char ev[64][80];
};

static void on_ev(const struct etcd_event *ev, void *arg)
{
	struct seen *s = arg;
	pthread_mutex_lock(&s->mu);
	switch (ev->type) {
	case ETCD_EVENT_CREATED:
		s->created++;
		break;
	case ETCD_EVENT_COMPACTED:
		s->compacted++;
		break;
	case ETCD_EVENT_ERROR:
		s->errors++;
		break;
	default:
		if (s->n < 64)
			snprintf(s->ev[s->n++], sizeof(s->ev[0]), "%s %s=%s",
				 ev->type == ETCD_EVENT_PUT ? "PUT" : "DEL", ev->kv->key,
				 ev->kv->value);
	}
	pthread_mutex_unlock(&s->mu);
}

static int wait_for(struct seen *s, int *field, int want)
{
	for (int i = 0; i < 200; i++) { /* up to 10 s */
		pthread_mutex_lock(&s->mu);
		int v = *field;
		pthread_mutex_unlock(&s->mu);
		if (v >= want)
			return 1;
		usleep(50000);
	}
	return 0;
}

static void test_watch(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct etcd_watch *w;
	put("/w/before", "old");
	struct etcd_watch_opts o = {.spec = {.prefix = 1}};
	OK(etcd_watch_start(cli, "/w/", &o, on_ev, &s, &w, &err));
	assert_true(wait_for(&s, &s.created, 1));
	put("/w/a", "1");
	put("/w2/x", "not watched");
	put("/w/a", "2");
	struct etcd_range_spec pfx = {.prefix = 1};
	OK(etcd_delete(cli, "/w/a", NULL, NULL, NULL, &err));
	/* two keys in one txn: two events with the same revision, both delivered */
	struct etcd_op two[2] = {{.type = ETCD_OP_PUT, .key = "/w/t1", .value = "a"},
				 {.type = ETCD_OP_PUT, .key = "/w/t2", .value = "b"}};
	struct etcd_txn t = {.success = two, .nsuccess = 2};
	OK(etcd_txn(cli, &t, NULL, &err));
	assert_true(wait_for(&s, &s.n, 5));
	etcd_watch_stop(w);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.ev[0], "PUT /w/a=1");
	assert_string_equal(s.ev[1], "PUT /w/a=2");
	assert_string_equal(s.ev[2], "DEL /w/a=");
	assert_string_equal(s.ev[3], "PUT /w/t1=a");
	assert_string_equal(s.ev[4], "PUT /w/t2=b");

	/* history: from an old revision */
	struct etcd_kv kv;
	OK(etcd_get(cli, "/w/before", &kv, NULL, &err));
	struct seen h = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct etcd_watch_opts ho = {.spec = {.prefix = 1}, .start_revision = kv.mod_revision};
	etcd_kv_free(&kv);
	OK(etcd_watch_start(cli, "/w/", &ho, on_ev, &h, &w, &err));
	assert_true(wait_for(&h, &h.n, 6));
	etcd_watch_stop(w);
	assert_string_equal(h.ev[0], "PUT /w/before=old");
	assert_string_equal(h.ev[5], "PUT /w/t2=b");
	OK(etcd_delete(cli, "/w/", &pfx, NULL, NULL, &err));
}

static void test_watch_compacted(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	int64_t r1, r2;
	OK(etcd_put(cli, "/wc/a", "1", 0, &r1, &err));
	OK(etcd_put(cli, "/wc/a", "2", 0, &r2, &err));
	put("/wc/a", "3");
	OK(etcd_compact(cli, r2, 1, &err));
	struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct etcd_watch *w;
	struct etcd_watch_opts o = {.spec = {.prefix = 1}, .start_revision = r1};
	OK(etcd_watch_start(cli, "/wc/", &o, on_ev, &s, &w, &err));
	/* told about the compaction, then resumed from the compact revision */
	assert_true(wait_for(&s, &s.compacted, 1));
	assert_true(wait_for(&s, &s.n, 2));
	etcd_watch_stop(w);
	assert_string_equal(s.ev[0], "PUT /wc/a=2");
	assert_string_equal(s.ev[1], "PUT /wc/a=3");
	/* a read at the compacted revision */
	struct etcd_range_opts ro = {.revision = r1};
	struct etcd_range_result r;
	assert_int_equal(etcd_range(cli, "/wc/a", &ro, &r, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "compacted"));
}

/* ---- failover -------------------------------------------------------------------------------- */

static void test_failover(void **state)
{
	NEED_ETCD();
	int ports[2] = {0};
	assert_int_equal(etcd_spawn_ports(ports, 2), 0);
	char dead1[64], dead2[64];
	snprintf(dead1, sizeof(dead1), "http://127.0.0.1:%d", ports[0]);
	snprintf(dead2, sizeof(dead2), "http://127.0.0.1:%d", ports[1]);
	const char *urls[3] = {dead1, srv.url[0], dead2};
	struct etcd_client *c;
	struct ldms_err err;
	OK(etcd_client_new(urls, 3, &c, &err));
	OK(etcd_put(c, "/fo/a", "1", 0, NULL, &err));
	struct etcd_kv kv;
	OK(etcd_get(c, "/fo/a", &kv, NULL, &err));
	etcd_kv_free(&kv);

	/* a watch through the same list finds the live member */
	struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct etcd_watch *w;
	OK(etcd_watch_start(c, "/fo/a", NULL, on_ev, &s, &w, &err));
	assert_true(wait_for(&s, &s.created, 1));
	put("/fo/a", "2");
	assert_true(wait_for(&s, &s.n, 1));
	etcd_watch_stop(w);
	etcd_client_free(c);

	/* nobody answers: -ECONNREFUSED, every member named */
	const char *none[2] = {dead1, dead2};
	OK(etcd_client_new(none, 2, &c, &err));
	ldms_err_clear(&err);
	assert_int_equal(etcd_put(c, "/fo/a", "1", 0, NULL, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "etcd connection failed"));
	assert_non_null(strstr(err.msg, dead1));
	assert_non_null(strstr(err.msg, dead2));
	/* the watch reports it and keeps trying until stopped */
	struct seen e = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct etcd_watch_opts wo = {.retry_ms = 100};
	OK(etcd_watch_start(c, "/fo/a", &wo, on_ev, &e, &w, &err));
	assert_true(wait_for(&e, &e.errors, 2));
	etcd_watch_stop(w);
	etcd_client_free(c);
}

/* ---- pipelined transactions ------------------------------------------------------------------ */

struct pipe_arg {
	int64_t fail_at; /* transaction whose compare is false */
};

static char *pipe_body(size_t i, void *arg)
{
	struct pipe_arg *a = arg;
	char key[32], val[32];
	snprintf(key, sizeof(key), "/pipe/%03zu", i);
	snprintf(val, sizeof(val), "v%zu", i);
	struct etcd_cmp cmp = {.key = "/pipe-none",
			       .target = ETCD_CMP_VERSION,
			       .num = (int64_t)i == a->fail_at ? 1 : 0};
	struct etcd_op op = {.type = ETCD_OP_PUT, .key = key, .value = val};
	struct etcd_txn t = {.cmp = &cmp, .ncmp = 1, .success = &op, .nsuccess = 1};
	return etcd_req_txn(&t);
}

static void test_pipeline(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	int status[40];
	struct pipe_arg a = {.fail_at = -1};
	OK(etcd_txn_pipeline(cli, 40, pipe_body, &a, 6, status, &err));
	for (int i = 0; i < 40; i++)
		assert_int_equal(status[i], 1);
	assert_int_equal(count_prefix("/pipe/"), 40);
	struct etcd_kv kv;
	OK(etcd_get(cli, "/pipe/039", &kv, NULL, &err));
	assert_string_equal(kv.value, "v39");
	etcd_kv_free(&kv);

	/* a false compare: reported; what was not started stays 0 */
	a.fail_at = 10;
	OK(etcd_txn_pipeline(cli, 40, pipe_body, &a, 4, status, &err));
	assert_int_equal(status[10], -1);
	for (int i = 0; i < 40; i++)
		if (i != 10)
			assert_true(status[i] == 1 || (i > 10 && status[i] == 0));

	/* nobody at the address: an error naming it, nothing done */
	int ports[1] = {0};
	assert_int_equal(etcd_spawn_ports(ports, 1), 0);
	char dead[64];
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", ports[0]);
	const char *u = dead;
	struct etcd_client *c;
	OK(etcd_client_new(&u, 1, &c, &err));
	a.fail_at = -1;
	assert_int_equal(etcd_txn_pipeline(c, 5, pipe_body, &a, 2, status, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, dead));
	for (int i = 0; i < 5; i++)
		assert_int_equal(status[i], 0);
	etcd_client_free(c);
	struct etcd_range_spec pfx = {.prefix = 1};
	OK(etcd_delete(cli, "/pipe/", &pfx, NULL, NULL, &err));
}

/* ---- sessions and election --------------------------------------------------------------------
 */

struct lost_arg {
	atomic_int n;
	int64_t lease;
};

static void on_lost(int64_t lease, const char *why, void *arg)
{
	struct lost_arg *l = arg;
	l->lease = lease;
	atomic_fetch_add(&l->n, 1);
}

static void test_session_election(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	struct lost_arg la = {0}, lb = {0};
	struct etcd_session *a, *b;
	OK(etcd_session_start(cli, 2, on_lost, &la, &a, &err));
	OK(etcd_session_start(cli, 2, on_lost, &lb, &b, &err));
	OK(etcd_election_campaign(cli, "/el", a, "host-a:4411", &err));
	OK(etcd_election_campaign(cli, "/el", b, "host-b:4411", &err));
	OK(etcd_election_campaign(cli, "/el", a, "host-a:4412", &err)); /* keeps its place */
	assert_int_equal(etcd_election_is_leader(cli, "/el", a, &err), 1);
	assert_int_equal(etcd_election_is_leader(cli, "/el", b, &err), 0);
	struct etcd_range_result r;
	OK(etcd_election_candidates(cli, "/el", &r, &err));
	assert_int_equal(r.count, 2);
	assert_string_equal(r.kvs[0].value, "host-a:4412");
	assert_int_equal(r.kvs[0].lease, etcd_session_lease(a));
	etcd_range_result_free(&r);

	/* the sessions outlive their TTL: the thread keeps the leases */
	sleep(3);
	assert_int_equal(atomic_load(&la.n), 0);
	assert_int_equal(etcd_election_is_leader(cli, "/el", a, &err), 1);

	/* a's lease revoked behind its back: a is told, b leads */
	OK(etcd_lease_revoke(cli, etcd_session_lease(a), &err));
	for (int i = 0; i < 100 && !atomic_load(&la.n); i++)
		usleep(50000);
	assert_int_equal(atomic_load(&la.n), 1);
	assert_int_equal(la.lease, etcd_session_lease(a));
	assert_true(etcd_session_lost(a));
	assert_int_equal(etcd_election_is_leader(cli, "/el", b, &err), 1);
	etcd_session_stop(a, 1);

	/* resigning and stopping with revoke leave nobody */
	OK(etcd_election_resign(cli, "/el", b, &err));
	assert_int_equal(etcd_election_is_leader(cli, "/el", b, &err), 0);
	etcd_session_stop(b, 1);
	assert_int_equal(atomic_load(&lb.n), 0);
	assert_int_equal(count_prefix("/el/"), 0);
	assert_int_equal(etcd_session_start(cli, 0, NULL, NULL, &a, &err), -EINVAL);
}

/* ---- the configuration store -------------------------------------------------------------------
 */

static void make_cfg(struct maestro_kvlist *l, int n, const char *tag)
{
	maestro_kvlist_init(l);
	for (int i = 0; i < n; i++) {
		char k[64], v[64];
		snprintf(k, sizeof(k), "producers/agg/samp-%d/host", i);
		snprintf(v, sizeof(v), "%s-%d", tag, i);
		assert_int_equal(maestro_kvlist_add(l, k, v), 0);
	}
	assert_int_equal(maestro_kvlist_add(l, "daemons/x/addr", tag), 0);
	assert_int_equal(maestro_kvlist_add(l, "empty", ""), 0);
	maestro_kvlist_sort(l);
}

static void assert_same(const struct maestro_kvlist *a, const struct maestro_kvlist *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		assert_string_equal(a->kv[i].key, b->kv[i].key);
		assert_string_equal(a->kv[i].value, b->kv[i].value);
	}
}

struct gens {
	pthread_mutex_t mu;
	uint64_t last;
	int n;
};

static void on_gen(const struct cfgstore_event *ev, void *arg)
{
	struct gens *g = arg;
	pthread_mutex_lock(&g->mu);
	if (!ev->rc) {
		g->last = ev->generation;
		g->n++;
	}
	pthread_mutex_unlock(&g->mu);
}

static void test_cfgstore(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	struct cfgstore *s;
	OK(cfgstore_etcd_open_client(cli, "pfx", &s, &err));
	/* neighbours that a load of "pfx" must not touch; upstream-layout leftovers that
	 * a load replaces */
	put("/pfx2/daemons/a/addr", "keep");
	put("/pfx", "keep");
	put("/pfx/daemons/old/addr", "upstream layout, goes");

	struct maestro_kvlist in, out;
	maestro_kvlist_init(&out);
	assert_int_equal(cfgstore_read(s, &out, NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "never loaded"));

	make_cfg(&in, 300, "A"); /* 302 keys: 3 transactions of 128 */
	uint64_t g1, g2, g;
	OK(cfgstore_write(s, &in, &g1, &err));
	struct cfgstore_etcd_stats st;
	cfgstore_etcd_last_stats(s, &st);
	assert_int_equal(st.keys, 302);
	assert_int_equal(st.txns, 3);
	OK(cfgstore_read(s, &out, &g, &err));
	assert_int_equal(g, g1);
	assert_same(&in, &out);
	maestro_kvlist_free(&out);
	maestro_kvlist_free(&in);

	struct gens gs = {.mu = PTHREAD_MUTEX_INITIALIZER};
	OK(cfgstore_watch(s, on_gen, &gs, &err));

	/* reload, smaller, with etcd refusing our batch size: halved on the fly */
	make_cfg(&in, 50, "B");
	cfgstore_etcd_set_batch(s, 1000, 0);
	OK(cfgstore_write(s, &in, &g2, &err));
	assert_true(g2 > g1);
	/* the watch reports it (a read first would make it old news) */
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&gs.mu);
		uint64_t last = gs.last;
		pthread_mutex_unlock(&gs.mu);
		if (last == g2)
			break;
		usleep(50000);
	}
	assert_int_equal(gs.last, g2);
	maestro_kvlist_init(&out);
	OK(cfgstore_read(s, &out, &g, &err));
	assert_int_equal(g, g2);
	assert_same(&in, &out);
	maestro_kvlist_free(&out);
	maestro_kvlist_free(&in);

	/* only the current generation and the bookkeeping keys are left under /pfx/ */
	char *dir = cfgstore_etcd_gen_dir("/pfx", g2);
	assert_int_equal(count_prefix(dir), 52);
	assert_int_equal(count_prefix("/pfx/"), 52 + 3);
	free(dir);
	struct etcd_kv kv;
	OK(etcd_get(cli, "/pfx2/daemons/a/addr", &kv, NULL, &err));
	etcd_kv_free(&kv);
	OK(etcd_get(cli, "/pfx", &kv, NULL, &err));
	etcd_kv_free(&kv);
	OK(etcd_get(cli, "/pfx/last_updated", &kv, NULL, &err));
	assert_non_null(strchr(kv.value, '.'));
	etcd_kv_free(&kv);

	/* bad configurations never reach etcd */
	maestro_kvlist_init(&in);
	maestro_kvlist_add(&in, "a", "1");
	maestro_kvlist_add(&in, "a", "2");
	assert_int_equal(cfgstore_write(s, &in, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "duplicate key a"));
	maestro_kvlist_free(&in);
	cfgstore_close(s);

	assert_int_equal(cfgstore_etcd_open_client(cli, "/", &s, &err), -EINVAL);
	assert_int_equal(cfgstore_etcd_open_client(cli, "a//b", &s, &err), -EINVAL);
}

/* A reader polling while a writer switches between two configurations of different
 * sizes must always see exactly one of them. */
struct race {
	struct maestro_kvlist a, b;
	atomic_int stop;
	int reads, bad, a_seen, b_seen;
	char why[600];
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct cfgstore *s;
	struct ldms_err err;
	if (cfgstore_etcd_open_client(cli, "race", &s, &err))
		return NULL;
	while (!atomic_load(&r->stop)) {
		struct maestro_kvlist out;
		maestro_kvlist_init(&out);
		if (cfgstore_read(s, &out, NULL, &err)) {
			snprintf(r->why, sizeof(r->why), "read: %s", err.msg);
			r->bad++;
			break;
		}
		const struct maestro_kvlist *want = out.count == r->a.count ? &r->a : &r->b;
		int same = out.count == want->count;
		for (size_t i = 0; same && i < out.count; i++)
			same = !strcmp(out.kv[i].key, want->kv[i].key) &&
			       !strcmp(out.kv[i].value, want->kv[i].value);
		if (!same) {
			snprintf(r->why, sizeof(r->why), "mixed read of %zu keys", out.count);
			r->bad++;
		}
		if (want == &r->a)
			r->a_seen++;
		else
			r->b_seen++;
		r->reads++;
		maestro_kvlist_free(&out);
	}
	cfgstore_close(s);
	return NULL;
}

static void test_cfgstore_atomic(void **state)
{
	NEED_ETCD();
	struct ldms_err err;
	struct race r = {0};
	make_cfg(&r.a, 700, "A");
	make_cfg(&r.b, 400, "B");
	struct cfgstore *s;
	OK(cfgstore_etcd_open_client(cli, "race", &s, &err));
	OK(cfgstore_write(s, &r.a, NULL, &err));
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	for (int i = 0; i < 8; i++)
		OK(cfgstore_write(s, i % 2 ? &r.a : &r.b, NULL, &err));
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	cfgstore_close(s);
	if (r.bad)
		fail_msg("%d bad reads of %d: %s", r.bad, r.reads, r.why);
	assert_true(r.reads > 0);
	maestro_kvlist_free(&r.a);
	maestro_kvlist_free(&r.b);
}

/* Two loaders at once: both finish (the loser retries on top of the winner) and the
 * store holds one of the two configurations, whole. */
struct loader_arg {
	struct maestro_kvlist *kvs;
	int rc;
	char msg[512];
};

static void *load_thread(void *arg)
{
	struct loader_arg *a = arg;
	struct cfgstore *s;
	struct ldms_err err;
	ldms_err_clear(&err);
	a->rc = cfgstore_etcd_open_client(cli, "conc", &s, &err);
	if (!a->rc) {
		a->rc = cfgstore_write(s, a->kvs, NULL, &err);
		cfgstore_close(s);
	}
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	return NULL;
}

static void test_cfgstore_concurrent_loads(void **state)
{
	NEED_ETCD();
	struct maestro_kvlist a, b, out;
	make_cfg(&a, 500, "A");
	make_cfg(&b, 300, "B");
	struct loader_arg la = {.kvs = &a}, lb = {.kvs = &b};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, load_thread, &la);
	pthread_create(&tb, NULL, load_thread, &lb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (la.rc || lb.rc)
		fail_msg("loads: %d %s / %d %s", la.rc, la.msg, lb.rc, lb.msg);
	struct cfgstore *s;
	struct ldms_err err;
	OK(cfgstore_etcd_open_client(cli, "conc", &s, &err));
	maestro_kvlist_init(&out);
	OK(cfgstore_read(s, &out, NULL, &err));
	assert_same(out.count == a.count ? &a : &b, &out);
	cfgstore_close(s);
	maestro_kvlist_free(&out);
	maestro_kvlist_free(&a);
	maestro_kvlist_free(&b);
}

/* The watch of a store says when etcd goes away and when it is back (with the current
 * generation, so that the daemon can re-read what it may have missed). */
struct evlog {
	pthread_mutex_t mu;
	int errors, oks;
	uint64_t last;
};

static void on_store_ev(const struct cfgstore_event *ev, void *arg)
{
	struct evlog *l = arg;
	pthread_mutex_lock(&l->mu);
	if (ev->rc) {
		l->errors++;
	} else {
		l->oks++;
		l->last = ev->generation;
	}
	pthread_mutex_unlock(&l->mu);
}

static int wait_count(struct evlog *l, int *field, int want)
{
	for (int i = 0; i < 400; i++) { /* up to 20 s */
		pthread_mutex_lock(&l->mu);
		int v = *field;
		pthread_mutex_unlock(&l->mu);
		if (v >= want)
			return 1;
		usleep(50000);
	}
	return 0;
}

static void test_cfgstore_watch_outage(void **state)
{
	NEED_ETCD();
	struct etcd_spawn own;
	assert_int_equal(etcd_spawn_start(&own, 1, 30), 0);
	const char *u = own.url[0];
	struct etcd_client *c;
	struct cfgstore *s;
	struct ldms_err err;
	OK(etcd_client_new(&u, 1, &c, &err));
	etcd_client_set_timeouts(c, 200, 2000);
	OK(cfgstore_etcd_open_client(c, "out", &s, &err));
	struct maestro_kvlist in, out;
	make_cfg(&in, 10, "A");
	uint64_t g;
	OK(cfgstore_write(s, &in, &g, &err));
	maestro_kvlist_init(&out);
	OK(cfgstore_read(s, &out, NULL, &err));
	maestro_kvlist_free(&out);
	struct evlog l = {.mu = PTHREAD_MUTEX_INITIALIZER};
	OK(cfgstore_watch(s, on_store_ev, &l, &err));
	usleep(300000);
	etcd_spawn_kill(&own, 0);
	assert_true(wait_count(&l, &l.errors, 1));
	assert_int_equal(etcd_spawn_restart(&own, 0), 0);
	assert_true(wait_count(&l, &l.oks, 1));
	assert_int_equal(l.last, g);
	/* and a load made after the outage is reported as usual */
	uint64_t g2 = 0;
	for (int i = 0; i < 100; i++) { /* the restarted member may need a moment */
		if (!cfgstore_write(s, &in, &g2, &err))
			break;
		usleep(100000);
	}
	assert_true(g2 > g);
	assert_true(wait_count(&l, &l.oks, 2));
	assert_int_equal(l.last, g2);
	cfgstore_close(s);
	etcd_client_free(c);
	maestro_kvlist_free(&in);
	etcd_spawn_stop(&own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kv),
	    cmocka_unit_test(test_txn),
	    cmocka_unit_test(test_lease),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_watch_compacted),
	    cmocka_unit_test(test_failover),
	    cmocka_unit_test(test_pipeline),
	    cmocka_unit_test(test_session_election),
	    cmocka_unit_test(test_cfgstore),
	    cmocka_unit_test(test_cfgstore_atomic),
	    cmocka_unit_test(test_cfgstore_concurrent_loads),
	    cmocka_unit_test(test_cfgstore_watch_outage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
