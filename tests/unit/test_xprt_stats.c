/* Transport statistics on 127.0.0.1 in one process: op_stats counts equal the
 * lookups, updates, dirs and sends done (both the client and the serving side are
 * this process), a reset starts them over, the engine's connect/reject counters,
 * I/O-thread categories in the snapshot, and the listener's per-peer connection
 * limit (refusal, counting, the slot coming back). Waits poll state, bounded. */
#include <errno.h>
#include <inttypes.h>
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
#include <jansson.h>

#include <ldms/ldms_set.h>
#include <ldms/ldms_util.h>
#include <ldms/ldms_xprt.h>
#include <ldms/ldms_xprt_stats.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_stats.h"

#define WAIT_MS 10000

static struct ldms_listener *L;
static char portstr[16];
static struct ldms_schema *schema;
static ldms_set_t set_a;
static atomic_int srv_recv;

static void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	if (e->type == LDMS_XPRT_EVENT_RECV)
		atomic_fetch_add(&srv_recv, 1);
}

/* Polls fn until it is true or WAIT_MS passed. */
static int wait_until(int (*fn)(void *), void *arg)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (fn(arg))
			return 1;
		usleep(1000);
	}
	return fn(arg);
}

struct op_want {
	int op;
	uint64_t count;
};

static int op_count_is(void *arg)
{
	struct op_want *w = arg;
	struct ldms_xprt_op_stats o[LDMS_XPRT_OP_COUNT];
	ldms_xprt_op_stats_get(o);
	return o[w->op].count == w->count;
}

static uint64_t op_count(int op)
{
	struct ldms_xprt_op_stats o[LDMS_XPRT_OP_COUNT];
	ldms_xprt_op_stats_get(o);
	return o[op].count;
}

static int expect_op(int op, uint64_t n)
{
	struct op_want w = {op, n};
	int ok = wait_until(op_count_is, &w);
	if (!ok)
		print_error("%s: count %" PRIu64 ", expected %" PRIu64 "\n", ldms_xprt_op_name(op),
			    op_count(op), n);
	return ok;
}

static ldms_t connect_one(void)
{
	struct ldms_err err;
	ldms_t x = ldms_xprt_new("sock", NULL, NULL);
	assert_non_null(x);
	ldms_err_clear(&err);
	assert_int_equal(ldms_xprt_connect_sync(x, "127.0.0.1", portstr, WAIT_MS, &err), 0);
	return x;
}

/* completion state lives in static storage: a failed assertion must not leave a
 * callback writing into a dead stack frame */
static struct {
	atomic_int done;
	int status;
	ldms_set_t set;
} lk_state, upd_state;

static void lk_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	if (status)
		lk_state.status = status;
	if (s && !lk_state.set)
		lk_state.set = ldms_set_get(s);
	if (!more)
		atomic_store(&lk_state.done, 1);
}

static void upd_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	upd_state.status = status;
	atomic_store(&upd_state.done, 1);
}

static int flag_set(void *arg)
{
	return atomic_load((atomic_int *)arg) != 0;
}

static int recv_at_least(void *arg)
{
	return atomic_load(&srv_recv) >= *(int *)arg;
}

static int setup(void **state)
{
	struct ldms_err err;
	ldms_log_level_set(getenv("XPRT_DEBUG") ? LDMS_LDEBUG : LDMS_LCRITICAL);
	ldms_init(2);
	schema = ldms_schema_new("tstats");
	ldms_schema_metric_add(schema, "value", LDMS_V_U64, NULL);
	set_a = ldms_set_new("node/stats", schema);
	assert_non_null(set_a);
	ldms_transaction_begin(set_a);
	ldms_metric_set_u64(set_a, 0, 7);
	ldms_transaction_end(set_a);
	assert_int_equal(ldms_set_publish(set_a), 0);
	ldms_err_clear(&err);
	L = ldms_listen("sock", "127.0.0.1", "0", NULL, NULL, srv_cb, NULL, &err);
	if (!L)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", ldms_listener_port(L));
	return 0;
}

static int teardown(void **state)
{
	ldms_listener_close(L);
	ldms_set_delete(set_a);
	ldms_fini();
	ldms_schema_delete(schema);
	return 0;
}

static void test_op_counts(void **state)
{
	const int n_lookup = 3, n_update = 5, n_dir = 2, n_send = 4;
	struct ldms_xprt_op_stats o[LDMS_XPRT_OP_COUNT];
	char want_peer[32];

	ldms_xprt_op_stats_reset();
	ldms_xprt_op_stats_get(o);
	for (int op = 0; op < LDMS_XPRT_OP_COUNT; op++)
		assert_int_equal(o[op].count, 0);

	ldms_t x = connect_one();
	for (int i = 0; i < n_lookup; i++) {
		atomic_store(&lk_state.done, 0);
		lk_state.status = 0;
		assert_int_equal(
		    ldms_xprt_lookup(x, "node/stats", LDMS_LOOKUP_BY_INSTANCE, lk_cb, NULL), 0);
		assert_true(wait_until(flag_set, &lk_state.done));
		assert_int_equal(lk_state.status, 0);
	}
	assert_non_null(lk_state.set);
	for (int i = 0; i < n_update; i++) {
		atomic_store(&upd_state.done, 0);
		assert_int_equal(ldms_xprt_update(lk_state.set, upd_cb, NULL), 0);
		assert_true(wait_until(flag_set, &upd_state.done));
		assert_int_equal(upd_state.status, 0);
	}
	for (int i = 0; i < n_dir; i++) {
		struct ldms_dir *d = NULL;
		assert_int_equal(ldms_xprt_dir_sync(x, &d, WAIT_MS), 0);
		ldms_xprt_dir_free(x, d);
	}
	int before = atomic_load(&srv_recv), want = before + n_send;
	for (int i = 0; i < n_send; i++)
		assert_int_equal(ldms_xprt_send(x, "hello", 5), 0);
	assert_true(wait_until(recv_at_least, &want));

	/* client and server halves are both in this process */
	assert_true(expect_op(LDMS_XPRT_OP_LOOKUP, n_lookup));
	assert_true(expect_op(LDMS_XPRT_OP_UPDATE, n_update));
	assert_true(expect_op(LDMS_XPRT_OP_DIR_REQ, n_dir));
	assert_true(expect_op(LDMS_XPRT_OP_DIR_REP, n_dir));
	assert_true(expect_op(LDMS_XPRT_OP_SEND, n_send));
	assert_true(expect_op(LDMS_XPRT_OP_RECV, n_send));
	ldms_xprt_op_stats_get(o);
	assert_int_equal(o[LDMS_XPRT_OP_SET_DELETE].count, 0);
	assert_int_equal(o[LDMS_XPRT_OP_MSG_PUBLISH].count, 0);
	/* the client's figures name the server it talked to */
	snprintf(want_peer, sizeof(want_peer), "127.0.0.1:%s", portstr);
	assert_string_equal(o[LDMS_XPRT_OP_LOOKUP].min_peer, want_peer);
	assert_string_equal(o[LDMS_XPRT_OP_UPDATE].max_peer, want_peer);
	for (int op = 0; op < LDMS_XPRT_OP_COUNT; op++) {
		if (!o[op].count)
			continue;
		assert_true(o[op].min_us <= o[op].max_us);
		assert_true(o[op].total_us >= o[op].max_us);
		assert_true(o[op].total_us <= o[op].max_us * o[op].count);
	}
	assert_string_equal(ldms_xprt_op_name(LDMS_XPRT_OP_MSG_UNSUBSCRIBE), "MSG_UNSUBSCRIBE");

	/* reset: counting starts over */
	ldms_xprt_op_stats_reset();
	atomic_store(&lk_state.done, 0);
	assert_int_equal(ldms_xprt_lookup(x, "node/stats", LDMS_LOOKUP_BY_INSTANCE, lk_cb, NULL),
			 0);
	assert_true(wait_until(flag_set, &lk_state.done));
	assert_true(expect_op(LDMS_XPRT_OP_LOOKUP, 1));
	ldms_xprt_op_stats_get(o);
	assert_int_equal(o[LDMS_XPRT_OP_UPDATE].count, 0);

	/* a lookup of a set that does not exist completes too */
	atomic_store(&lk_state.done, 0);
	assert_int_equal(ldms_xprt_lookup(x, "node/none", LDMS_LOOKUP_BY_INSTANCE, lk_cb, NULL), 0);
	assert_true(wait_until(flag_set, &lk_state.done));
	assert_true(expect_op(LDMS_XPRT_OP_LOOKUP, 2));

	ldms_set_put(lk_state.set);
	lk_state.set = NULL;
	ldms_xprt_close(x);
}

static void test_io_categories(void **state)
{
	struct ldms_xprt_snapshot snap;
	assert_int_equal(ldms_xprt_snapshot_get(&snap, 5000), 0);
	assert_true(snap.n_io >= 1);
	for (size_t i = 0; i < snap.n_io; i++) {
		uint64_t busy = 0;
		for (int c = 0; c < LDMS_IO_CAT_COUNT; c++)
			busy += snap.io[i].cat_us[c];
		/* busy time of a thread never exceeds its age (10 ms resolution) */
		assert_true(busy <= snap.io[i].usage.age_us + 20000);
	}
	ldms_xprt_snapshot_free(&snap);
	assert_string_equal(ldms_io_cat_name(LDMS_IO_CAT_ZAP), "Zap");
	assert_string_equal(ldms_io_cat_name(LDMS_IO_CAT_UPDATE_COMPLETE), "Update Completes");
	assert_string_equal(ldms_io_cat_name(LDMS_IO_CAT_DISCONNECTING), "Disconnecting");
}

struct conn_try {
	int rc;
	ldms_t x;
};

static int try_connect(void *arg)
{
	struct conn_try *t = arg;
	struct ldms_err err;
	if (t->x)
		return 1;
	ldms_t x = ldms_xprt_new("sock", NULL, NULL);
	ldms_err_clear(&err);
	t->rc = ldms_xprt_connect_sync(x, "127.0.0.1", portstr, WAIT_MS, &err);
	if (t->rc) {
		ldms_xprt_close(x);
		return 0;
	}
	t->x = x;
	return 1;
}

static void test_peer_limit(void **state)
{
	struct ldms_xprt_stats st0, st1;
	assert_int_equal(ldms_listener_peer_max_set(L, -1), -EINVAL);
	assert_int_equal(ldms_listen_peer_max_default(), LDMS_LISTEN_PEER_MAX_DEFAULT);
	assert_int_equal(ldms_listener_peer_max_set(L, 2), 0);
	ldms_xprt_stats_get(&st0);
	ldms_t a = connect_one(), b = connect_one();
	ldms_xprt_stats_get(&st1);
	assert_true(st1.connected_total >= st0.connected_total + 2); /* at least our side */

	/* the third from 127.0.0.1 is closed right after accept */
	struct ldms_err err;
	ldms_t c = ldms_xprt_new("sock", NULL, NULL);
	ldms_err_clear(&err);
	assert_int_not_equal(ldms_xprt_connect_sync(c, "127.0.0.1", portstr, WAIT_MS, &err), 0);
	ldms_xprt_close(c);
	ldms_xprt_stats_get(&st1);
	assert_true(st1.rejected_total >= st0.rejected_total + 1);

	/* a slot comes back once the listener side saw one close */
	ldms_xprt_close(a);
	struct conn_try t = {0};
	assert_true(wait_until(try_connect, &t));
	ldms_xprt_close(t.x);
	ldms_xprt_close(b);
	assert_int_equal(ldms_listener_peer_max_set(L, 0), 0);
}

/* The reply "msg" of `verb` in upstream's capture. */
static json_t *golden_msg(const char *verb)
{
	const char *g = getenv("LDMSC_GOLDEN");
	static char line[65536];
	char path[512], want[64];
	snprintf(path, sizeof(path), "%s/ldms/ctl_l1.json.txt", g ? g : "../shared/golden");
	snprintf(want, sizeof(want), "ldmsd_controller> %s\n", verb);
	FILE *f = fopen(path, "r");
	json_t *msg = NULL;
	while (f && fgets(line, sizeof(line), f)) {
		if (strcmp(line, want))
			continue;
		if (fgets(line, sizeof(line), f)) {
			json_t *j = json_loads(line, 0, NULL);
			msg = json_incref(json_object_get(j, "msg"));
			json_decref(j);
		}
		break;
	}
	if (f)
		fclose(f);
	return msg;
}

static void keys_subset(json_t *ours, json_t *theirs, const char *what)
{
	const char *k;
	json_t *v;
	json_object_foreach(ours, k, v)
	{
		if (!json_object_get(theirs, k))
			fail_msg("%s: key '%s' is not in upstream's reply", what, k);
	}
}

/* ldmsd's xprt_stats / thread_stats bodies: upstream's keys, our counts. */
static void test_ldmsd_json(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_buf b = {0};
	json_t *g = golden_msg("xprt_stats"), *j, *ops, *gops, *v;
	const char *k;
	assert_non_null(d);
	assert_non_null(g);

	/* reset through the command body, then two lookups */
	assert_int_equal(ldmsd_xprt_stats_json(d, 0, 1, &b), 0);
	ldmsd_buf_reset(&b);
	ldms_t x = connect_one();
	for (int i = 0; i < 2; i++) {
		atomic_store(&lk_state.done, 0);
		assert_int_equal(
		    ldms_xprt_lookup(x, "node/stats", LDMS_LOOKUP_BY_INSTANCE, lk_cb, NULL), 0);
		assert_true(wait_until(flag_set, &lk_state.done));
	}
	assert_true(expect_op(LDMS_XPRT_OP_LOOKUP, 2));
	assert_int_equal(ldmsd_xprt_stats_json(d, 0, 0, &b), 0);
	j = json_loads(ldmsd_buf_str(&b), 0, NULL);
	assert_non_null(j);
	keys_subset(j, g, "xprt_stats");
	gops = json_object_get(g, "op_stats");
	ops = json_object_get(j, "op_stats");
	assert_int_equal(json_object_size(ops), json_object_size(gops));
	json_object_foreach(gops, k, v)
	{
		json_t *o = json_object_get(ops, k);
		if (!o)
			fail_msg("op_stats: no '%s'", k);
		keys_subset(o, v, k);
		json_t *h = json_object_get(v, "hist");
		/* every key of upstream's but the histogram */
		assert_int_equal(json_object_size(o) + (h ? 1 : 0), json_object_size(v));
	}
	json_t *lk = json_object_get(ops, "LOOKUP"), *up = json_object_get(ops, "UPDATE");
	assert_int_equal(json_integer_value(json_object_get(lk, "count")), 2);
	assert_string_equal(json_string_value(json_object_get(lk, "min_peer_type")), "sock");
	assert_int_equal(json_integer_value(json_object_get(up, "count")), 0);
	assert_string_equal(json_string_value(json_object_get(up, "min_peer")), "0.0.0.0:0:0");
	assert_string_equal(json_string_value(json_object_get(up, "max_peer_type")), "????");
	assert_true(json_is_real(json_object_get(j, "reject_rate_s")));
	assert_true(json_is_real(json_object_get(j, "auth_fail_rate_s")));
	assert_true(json_is_real(json_object_get(j, "connect_rate_s")));
	json_decref(j);
	json_decref(g);

	/* thread_stats: each I/O thread's "ldms_xprt" has exactly upstream's categories */
	ldmsd_buf_reset(&b);
	g = golden_msg("thread_stats");
	assert_non_null(g);
	assert_int_equal(ldmsd_thread_stats_json(d, &b), 0);
	j = json_loads(ldmsd_buf_str(&b), 0, NULL);
	assert_non_null(j);
	json_t *gx =
	    json_object_get(json_array_get(json_object_get(g, "io_threads"), 0), "ldms_xprt");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(j, "io_threads"), i, t)
	{
		json_t *lx = json_object_get(t, "ldms_xprt");
		keys_subset(lx, gx, "ldms_xprt");
		keys_subset(gx, lx, "ldms_xprt (upstream's)");
	}
	assert_true(json_array_size(json_object_get(j, "io_threads")) >= 1);
	json_decref(j);
	json_decref(g);

	ldms_set_put(lk_state.set);
	lk_state.set = NULL;
	ldms_xprt_close(x);
	ldmsd_buf_free(&b);
	ldmsd_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_op_counts),
	    cmocka_unit_test(test_io_categories),
	    cmocka_unit_test(test_peer_limit),
	    cmocka_unit_test(test_ldmsd_json),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
