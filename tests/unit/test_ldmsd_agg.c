/* Unit tests of ldmsd's aggregation tree: the producer state machine, updater
 * schedules and set hints, regex lists, storage-policy column resolution and the
 * bounded store queue (pure parts); the status JSON of producers/updaters against
 * the upstream wire captures; and an in-process aggregator (listener + producer +
 * updater + store_csv) that stores rows, survives 100 add/start/stop/del cycles and
 * leaves no connection behind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_set.h>
#include <ldms/ldms_xprt.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

int xprt_test_live_count(void); /* libldms test hooks (src/lib/xprt_int.h, set_priv.h) */
size_t set_live_count(void);

static char tmpdir[256];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ldmsd_agg_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(ldmsd_cmd_registry_init(), 0);
	return 0;
}

static int teardown_tmp(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- producer state machine ------------------------------------------------------------ */
struct tr {
	enum ldmsd_prdcr_state cur;
	enum ldmsd_prdcr_event ev;
	int rc;
	enum ldmsd_prdcr_state next;
	unsigned act;
};

static void test_prdcr_transitions(void **state)
{
	const struct tr t[] = {
	    /* commands */
	    {LDMSD_PRDCR_STOPPED, LDMSD_PRDCR_EV_START, 0, LDMSD_PRDCR_CONNECTING,
	     LDMSD_PRDCR_A_CONNECT},
	    {LDMSD_PRDCR_STOPPED, LDMSD_PRDCR_EV_STOP, -EBUSY, LDMSD_PRDCR_STOPPED, 0},
	    {LDMSD_PRDCR_DISCONNECTED, LDMSD_PRDCR_EV_START, -EBUSY, LDMSD_PRDCR_DISCONNECTED, 0},
	    {LDMSD_PRDCR_DISCONNECTED, LDMSD_PRDCR_EV_STOP, 0, LDMSD_PRDCR_STOPPED, 0},
	    {LDMSD_PRDCR_CONNECTING, LDMSD_PRDCR_EV_STOP, 0, LDMSD_PRDCR_STOPPING,
	     LDMSD_PRDCR_A_CLOSE},
	    {LDMSD_PRDCR_CONNECTED, LDMSD_PRDCR_EV_START, -EBUSY, LDMSD_PRDCR_CONNECTED, 0},
	    {LDMSD_PRDCR_CONNECTED, LDMSD_PRDCR_EV_STOP, 0, LDMSD_PRDCR_STOPPING,
	     LDMSD_PRDCR_A_CLOSE},
	    {LDMSD_PRDCR_STOPPING, LDMSD_PRDCR_EV_STOP, -EBUSY, LDMSD_PRDCR_STOPPING, 0},
	    {LDMSD_PRDCR_STOPPING, LDMSD_PRDCR_EV_START, -EBUSY, LDMSD_PRDCR_STOPPING, 0},
	    {LDMSD_PRDCR_STANDBY, LDMSD_PRDCR_EV_START, 0, LDMSD_PRDCR_CONNECTING,
	     LDMSD_PRDCR_A_CONNECT},
	    /* reconnect timer */
	    {LDMSD_PRDCR_DISCONNECTED, LDMSD_PRDCR_EV_TIMER, 0, LDMSD_PRDCR_CONNECTING,
	     LDMSD_PRDCR_A_CONNECT},
	    {LDMSD_PRDCR_CONNECTING, LDMSD_PRDCR_EV_TIMER, 0, LDMSD_PRDCR_CONNECTING, 0},
	    {LDMSD_PRDCR_CONNECTED, LDMSD_PRDCR_EV_TIMER, 0, LDMSD_PRDCR_CONNECTED, 0},
	    {LDMSD_PRDCR_STOPPED, LDMSD_PRDCR_EV_TIMER, 0, LDMSD_PRDCR_STOPPED, 0},
	    /* transport events */
	    {LDMSD_PRDCR_CONNECTING, LDMSD_PRDCR_EV_CONNECTED, 0, LDMSD_PRDCR_CONNECTED,
	     LDMSD_PRDCR_A_DIR},
	    {LDMSD_PRDCR_CONNECTING, LDMSD_PRDCR_EV_CONN_ERROR, 0, LDMSD_PRDCR_DISCONNECTED,
	     LDMSD_PRDCR_A_RESET},
	    {LDMSD_PRDCR_CONNECTED, LDMSD_PRDCR_EV_DISCONNECTED, 0, LDMSD_PRDCR_DISCONNECTED,
	     LDMSD_PRDCR_A_RESET},
	    {LDMSD_PRDCR_STOPPING, LDMSD_PRDCR_EV_CONNECTED, 0, LDMSD_PRDCR_STOPPING,
	     LDMSD_PRDCR_A_CLOSE},
	    {LDMSD_PRDCR_STOPPING, LDMSD_PRDCR_EV_DISCONNECTED, 0, LDMSD_PRDCR_STOPPED,
	     LDMSD_PRDCR_A_RESET},
	    {LDMSD_PRDCR_STOPPING, LDMSD_PRDCR_EV_CONN_ERROR, 0, LDMSD_PRDCR_STOPPED,
	     LDMSD_PRDCR_A_RESET},
	    /* stale events of a connection already given up change nothing */
	    {LDMSD_PRDCR_STOPPED, LDMSD_PRDCR_EV_DISCONNECTED, 0, LDMSD_PRDCR_STOPPED, 0},
	    {LDMSD_PRDCR_DISCONNECTED, LDMSD_PRDCR_EV_CONNECTED, 0, LDMSD_PRDCR_DISCONNECTED, 0},
	    {LDMSD_PRDCR_DISCONNECTED, LDMSD_PRDCR_EV_CONN_ERROR, 0, LDMSD_PRDCR_DISCONNECTED, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum ldmsd_prdcr_state next;
		unsigned act;
		int rc = ldmsd_prdcr_transition(t[i].cur, t[i].ev, &next, &act);
		if (rc != t[i].rc || next != t[i].next || act != t[i].act)
			fail_msg("row %zu: %s + ev %d -> rc %d %s act %#x", i,
				 ldmsd_prdcr_state_str(t[i].cur), t[i].ev, rc,
				 ldmsd_prdcr_state_str(next), act);
	}
	assert_string_equal(ldmsd_prdcr_state_str(LDMSD_PRDCR_DISCONNECTED), "DISCONNECTED");
	assert_string_equal(ldmsd_prdcr_state_str(LDMSD_PRDCR_STANDBY), "STANDBY");
	assert_string_equal(ldmsd_prdcr_set_state_str(LDMSD_PRDCR_SET_LOOKUP), "LOOKUP");
	enum ldmsd_prdcr_type ty;
	assert_int_equal(ldmsd_prdcr_type_parse("Active", &ty), 0);
	assert_int_equal(ty, LDMSD_PRDCR_ACTIVE);
	assert_int_equal(ldmsd_prdcr_type_parse("advertised", &ty), 0);
	assert_int_equal(ldmsd_prdcr_type_parse("local", &ty), -EINVAL);
	assert_string_equal(ldmsd_prdcr_type_str(LDMSD_PRDCR_PASSIVE), "passive");
}

/* ---- updater schedules ----------------------------------------------------------------- */
static void test_updtr_schedule(void **state)
{
	int64_t iv, off;
	int async;
	/* the grid: next k*interval + offset strictly after now */
	assert_int_equal(ldmsd_updtr_next_us(10500000, 1000000, 200000), 11200000);
	assert_int_equal(ldmsd_updtr_next_us(10100000, 1000000, 200000), 10200000);
	assert_int_equal(ldmsd_updtr_next_us(10200000, 1000000, 200000), 11200000);
	assert_int_equal(ldmsd_updtr_next_us(10950000, 1000000, -100000), 11900000);

	assert_int_equal(ldmsd_updt_hint_parse("1000000:0", &iv, &off, &async), 0);
	assert_int_equal(iv, 1000000);
	assert_int_equal(off, 0);
	assert_int_equal(async, 0);
	assert_int_equal(ldmsd_updt_hint_parse("2000000:-5000", &iv, &off, &async), 0);
	assert_int_equal(off, -5000);
	assert_int_equal(ldmsd_updt_hint_parse("500000:", &iv, &off, &async), 0);
	assert_int_equal(async, 1);
	assert_int_equal(ldmsd_updt_hint_parse("", &iv, &off, &async), -EINVAL);
	assert_int_equal(ldmsd_updt_hint_parse("abc:1", &iv, &off, &async), -EINVAL);
	assert_int_equal(ldmsd_updt_hint_parse("0:0", &iv, &off, &async), -EINVAL);
	assert_int_equal(ldmsd_updt_hint_parse("100", &iv, &off, &async), -EINVAL);
	assert_int_equal(ldmsd_updt_hint_parse("100:1x", &iv, &off, &async), -EINVAL);

	/* auto_interval: the set's interval, its offset plus the updater's delay */
	ldmsd_updtr_auto_schedule(1000000, 0, 200000, &iv, &off);
	assert_int_equal(iv, 1000000);
	assert_int_equal(off, 200000);
	ldmsd_updtr_auto_schedule(1000000, 400000, 200000, &iv, &off);
	assert_int_equal(off, -400000); /* 600 ms folds into (-500, 500] ms */
	ldmsd_updtr_auto_schedule(2000000, 100000, -300000, &iv, &off);
	assert_int_equal(iv, 2000000);
	assert_int_equal(off, -200000);
}

/* ---- regex lists -------------------------------------------------------------------------- */
static void test_regex_lists(void **state)
{
	struct ldmsd_regex_list l = TAILQ_HEAD_INITIALIZER(l);
	char msg[300];
	assert_true(ldmsd_regex_list_empty(&l));
	assert_false(ldmsd_regex_list_match(&l, "node1"));
	assert_true(ldmsd_regex_list_match_set(&l, "a/meminfo", "meminfo")); /* no filter */
	assert_int_equal(
	    ldmsd_regex_list_add(&l, "^node[0-9]+$", LDMSD_MATCH_INST, msg, sizeof(msg)), 0);
	assert_int_equal(
	    ldmsd_regex_list_add(&l, "^node[0-9]+$", LDMSD_MATCH_INST, msg, sizeof(msg)), -EEXIST);
	assert_int_equal(ldmsd_regex_list_add(&l, "(", LDMSD_MATCH_INST, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "invalid regular expression '('"));
	assert_true(ldmsd_regex_list_match(&l, "node12"));
	assert_false(ldmsd_regex_list_match(&l, "node12x"));
	assert_false(ldmsd_regex_list_match_set(&l, "l1/meminfo", "meminfo"));
	assert_true(ldmsd_regex_list_match_set(&l, "node3", "meminfo"));
	assert_int_equal(ldmsd_regex_list_add(&l, "^vmstat$", LDMSD_MATCH_SCHEMA, msg, sizeof(msg)),
			 0);
	assert_true(ldmsd_regex_list_match_set(&l, "n/vmstat", "vmstat"));
	assert_false(ldmsd_regex_list_match_set(&l, "vmstat", "meminfo")); /* schema only */
	assert_int_equal(ldmsd_regex_list_del(&l, "^vmstat$", LDMSD_MATCH_INST), -ENOENT);
	assert_int_equal(ldmsd_regex_list_del(&l, "^vmstat$", LDMSD_MATCH_SCHEMA), 0);
	assert_false(ldmsd_regex_list_match_set(&l, "n/vmstat", "vmstat"));
	ldmsd_regex_list_free(&l);
	assert_true(ldmsd_regex_list_empty(&l));
}

/* ---- storage policy columns ---------------------------------------------------------------- */
static void test_strgp_columns(void **state)
{
	const char *set[] = {"component_id", "job_id", "app_id", "MemTotal", "MemFree"};
	const char *want[] = {"MemFree", "component_id"};
	const char *bad[] = {"MemFree", "nosuch"};
	int idx[8];
	char msg[200];
	assert_int_equal(ldmsd_strgp_columns(set, 5, NULL, 0, idx, msg, sizeof(msg)), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(idx[i], i);
	assert_int_equal(ldmsd_strgp_columns(set, 5, want, 2, idx, msg, sizeof(msg)), 2);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 0);
	assert_int_equal(ldmsd_strgp_columns(set, 5, bad, 2, idx, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "metric 'nosuch' is not in the set");
}

/* ---- the bounded store queue ----------------------------------------------------------------- */
static struct ldmsd_store_job *job(int strgp, int set, uint64_t tag)
{
	struct ldmsd_store_job *j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->key = (const void *)(uintptr_t)(0x1000 + strgp);
	j->key2 = (const void *)(uintptr_t)(0x2000 + set);
	j->strgp = (struct ldmsd_strgp *)(uintptr_t)(0x1000 + strgp); /* identity only */
	j->enq_us = tag;
	return j;
}

static uint64_t pop_tag(struct ldmsd_store_queue *q)
{
	struct ldmsd_store_job *j = ldmsd_store_queue_pop(q);
	assert_non_null(j);
	uint64_t t = j->enq_us;
	free(j);
	return t;
}

static void test_store_queue(void **state)
{
	struct ldmsd_store_queue q;
	struct ldmsd_store_job *d;
	ldmsd_store_queue_init(&q, 3);
	ldmsd_store_queue_push(&q, job(1, 1, 1), &d);
	assert_null(d);
	ldmsd_store_queue_push(&q, job(1, 2, 2), &d);
	ldmsd_store_queue_push(&q, job(1, 1, 3), &d);
	assert_null(d);
	assert_int_equal(q.depth, 3);
	/* full: the oldest pending update of the same set is replaced, in its place */
	ldmsd_store_queue_push(&q, job(1, 2, 4), &d);
	assert_non_null(d);
	assert_int_equal(d->enq_us, 2);
	free(d);
	assert_int_equal(q.depth, 3);
	/* full, no job of that set: the oldest job goes */
	ldmsd_store_queue_push(&q, job(2, 9, 5), &d);
	assert_non_null(d);
	assert_int_equal(d->enq_us, 1);
	free(d);
	assert_int_equal(q.depth, 3);
	assert_int_equal(pop_tag(&q), 4);
	assert_int_equal(pop_tag(&q), 3);
	assert_int_equal(pop_tag(&q), 5);
	assert_null(ldmsd_store_queue_pop(&q));
	assert_int_equal(q.depth, 0);

	/* strgp_stop takes a policy's jobs out */
	struct ldmsd_store_job_list out = TAILQ_HEAD_INITIALIZER(out);
	ldmsd_store_queue_push(&q, job(1, 1, 10), &d);
	ldmsd_store_queue_push(&q, job(2, 1, 11), &d);
	ldmsd_store_queue_push(&q, job(1, 2, 12), &d);
	ldmsd_store_queue_remove_strgp(&q, (struct ldmsd_strgp *)(uintptr_t)0x1001, &out);
	assert_int_equal(q.depth, 1);
	int n = 0;
	while ((d = TAILQ_FIRST(&out))) {
		TAILQ_REMOVE(&out, d, link);
		free(d);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(pop_tag(&q), 11);

	/* an unbounded queue (max 0) never drops */
	ldmsd_store_queue_init(&q, 0);
	for (int i = 0; i < 100; i++) {
		ldmsd_store_queue_push(&q, job(1, 1, (uint64_t)i), &d);
		assert_null(d);
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(pop_tag(&q), (uint64_t)i);
}

/* ---- commands and status JSON ------------------------------------------------------------------
 */
static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldms_err e;
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_INTERNAL};
	struct ldmsd_req *r = NULL;
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc) {
		ldmsd_reply_reset(rep);
		rep->rc = rc;
		ldmsd_buf_printf(&rep->msg, "%s", e.msg);
		return rc;
	}
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static int port_refuses(int port)
{
	char p[16];
	struct ldms_err e;
	snprintf(p, sizeof(p), "%d", port);
	ldms_t x = ldms_xprt_new("sock", NULL, NULL);
	if (!x)
		return 0;
	int rc = ldms_xprt_connect_sync(x, "127.0.0.1", p, 2000, &e);
	ldms_xprt_close(x);
	return rc == -ECONNREFUSED;
}

static enum ldmsd_prdcr_state prdcr_state(struct ldmsd *d, const char *name)
{
	struct ldmsd_prdcr *p = ldmsd_prdcr_find(d, name);
	assert_non_null(p);
	pthread_mutex_lock(&p->lock);
	enum ldmsd_prdcr_state s = p->state;
	pthread_mutex_unlock(&p->lock);
	return s;
}

static int wait_state(struct ldmsd *d, const char *name, enum ldmsd_prdcr_state want, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		if (prdcr_state(d, name) == want)
			return 1;
		sleep_ms(10);
	}
	return prdcr_state(d, name) == want;
}

static void test_commands(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);

	/* 06j: a producer that does not exist */
	assert_int_equal(exec_line(d, "prdcr_start name=nosuch", &rep), -ENOENT);
	assert_string_equal(rep.msg.s, "The producer specified does not exist.");
	assert_int_equal(exec_line(d, "prdcr_status", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[]");

	/* 06c: the upstream command; bad values are refused with a reason */
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p1 host=127.0.0.1 port=30999 xprt=sock "
				   "type=active reconnect=2s",
				   &rep),
			 0);
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p1 host=127.0.0.1 port=30999 xprt=sock "
				   "type=active reconnect=2s",
				   &rep),
			 -EEXIST);
	assert_string_equal(rep.msg.s, "The prdcr p1 already exists.");
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p2 host=h port=1 xprt=sock type=local "
				   "reconnect=1s",
				   &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p2 host=127.0.0.1 port=70000 xprt=sock "
				   "type=active reconnect=1s",
				   &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p2 host=127.0.0.1 port=1 xprt=sock "
				   "type=active reconnect=soon",
				   &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p2 host=127.0.0.1 port=1 xprt=sock "
				   "type=active",
				   &rep),
			 -EINVAL);
	assert_string_equal(rep.msg.s, "command 'prdcr_add' requires attribute 'reconnect'");
	assert_int_equal(exec_line(d,
				   "prdcr_add name=p2 host=127.0.0.1 port=1 xprt=sock "
				   "type=active reconnect=1s auth=nosuch",
				   &rep),
			 -ENOENT);
	assert_int_equal(exec_line(d, "prdcr_stop name=p1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "prdcr_status name=p1", &rep), 0);
	assert_string_equal(
	    ldmsd_buf_str(&rep.json),
	    "[{ \"name\":\"p1\",\"type\":\"active\",\"host\":\"127.0.0.1\","
	    "\"port\":30999,\"transport\":\"sock\",\"auth\":\"DEFAULT\",\"rail\":"
	    "\"1\",\"quota\":\"-1\",\"rx_rate\":\"-1\",\"reconnect_us\":\"2000000\","
	    "\"state\":\"STOPPED\",\"sets\": []}]");

	/* 06d/06e: started with nothing listening, it stays DISCONNECTED */
	if (port_refuses(30999)) {
		assert_int_equal(exec_line(d, "prdcr_start name=p1", &rep), 0);
		assert_int_equal(exec_line(d, "prdcr_start name=p1", &rep), -EBUSY);
		assert_true(wait_state(d, "p1", LDMSD_PRDCR_DISCONNECTED, 5000));
		assert_int_equal(exec_line(d, "prdcr_status", &rep), 0);
		assert_string_equal(
		    ldmsd_buf_str(&rep.json),
		    "[{ \"name\":\"p1\",\"type\":\"active\",\"host\":\"127.0.0.1\","
		    "\"port\":30999,\"transport\":\"sock\",\"auth\":\"DEFAULT\","
		    "\"rail\":\"1\",\"quota\":\"-1\",\"rx_rate\":\"-1\","
		    "\"reconnect_us\":\"2000000\",\"state\":\"DISCONNECTED\",\"sets\": "
		    "[]}]");
		assert_int_equal(exec_line(d, "prdcr_del name=p1", &rep), -EBUSY);
		assert_int_equal(exec_line(d, "prdcr_stop name=p1", &rep), 0);
		assert_true(wait_state(d, "p1", LDMSD_PRDCR_STOPPED, 5000));
	}
	assert_int_equal(exec_line(d, "prdcr_set_status", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[]");

	/* 06f/06g: updater status bytes */
	assert_int_equal(exec_line(d, "updtr_add name=u1 interval=1s offset=100ms", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_status", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "[{\"name\":\"u1\",\"interval\":\"1000000\",\"offset\":\"100000\","
			    "\"sync\":\"true\",\"mode\":\"Pull\",\"auto\":\"false\",\"state\":"
			    "\"STOPPED\",\"producers\":[]}]");
	assert_int_equal(exec_line(d, "updtr_add name=u2 interval=1s offset=600ms", &rep), -EINVAL);
	assert_int_equal(exec_line(d,
				   "updtr_add name=u2 interval=1s push=onchange "
				   "auto_interval=true",
				   &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d, "updtr_add name=u2 interval=2s push=onchange", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_status name=u2", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"sync\":\"false\",\"mode\":\"Push on "
							 "Change\""));
	assert_int_equal(exec_line(d, "updtr_prdcr_add name=u1 regex=.*", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_prdcr_add name=u1 regex=(", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "updtr_match_add name=u1 regex=^mem match=schema", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_match_add name=u1 regex=x match=bogus", &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d, "updtr_match_list name=u1", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "[{\"name\":\"u1\",\"match\":[{\"regex\":\"^mem\",\"selector\":"
			    "\"schema\"}]}]");
	assert_int_equal(exec_line(d, "updtr_match_del name=u1 regex=^mem match=schema", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_match_list", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "[{\"name\":\"u1\",\"match\":[]},{\"name\":\"u2\",\"match\":[]}]");
	assert_int_equal(exec_line(d, "updtr_status name=u1", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json),
			       "\"producers\":[{\"name\":\"p1\",\"host\":\"127.0.0.1\",\"port\":"
			       "30999,\"transport\":\"sock\",\"state\":\"STOPPED\"}]"));
	assert_int_equal(exec_line(d, "updtr_start name=u1", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_start name=u1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "updtr_prdcr_add name=u1 regex=x", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "updtr_del name=u1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "updtr_stop name=u1", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_stop name=u1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "updtr_del name=u1", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_del name=u1", &rep), -ENOENT);
	assert_string_equal(rep.msg.s, "The updater specified does not exist.");

	/* storage settings are priority commands */
	assert_int_equal(exec_line(d, "storage_threads count=0", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "storage_threads count=2", &rep), 0);
	assert_int_equal(exec_line(d, "storage_queue depth=64", &rep), 0);
	assert_int_equal(d->agg->storage_threads, 2);
	assert_int_equal((int)d->agg->storage_queue, 64);

	/* storage policies */
	assert_int_equal(exec_line(d, "strgp_add name=s1 plugin=csv container=c", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "strgp_add name=s1 plugin=csv schema=a regex=b", &rep),
			 -EINVAL);
	assert_int_equal(exec_line(d, "strgp_add name=s1 plugin=csv regex=mem.*", &rep), -EINVAL);
	assert_int_equal(
	    exec_line(d, "strgp_add name=s1 plugin=csv container=c schema=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_metric_add name=s1 metric=MemFree", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_metric_add name=s1 metric=MemFree", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "strgp_prdcr_add name=s1 regex=.*", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_status", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "[{\"name\":\"s1\",\"container\":\"c\",\"schema\":\"meminfo\","
			    "\"regex\":\"-\",\"plugin\":\"csv\",\"flush\":\"0.000000\",\"state\":"
			    "\"STOPPED\",\"decomp\":\"-\",\"producers\":[\".*\"],\"metrics\":"
			    "[\"MemFree\"],\"stored\":0,\"drops\":0,\"refused\":0,"
			    "\"store_errors\":0}]");
	assert_int_equal(exec_line(d, "strgp_start name=s1", &rep), -ENOENT); /* not loaded */
	assert_int_equal(exec_line(d, "load name=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_add name=s2 plugin=meminfo schema=x", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "load name=csv plugin=store_csv", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_start name=s1", &rep), 0);
	assert_int_equal(exec_line(d, "term name=csv", &rep), -EBUSY); /* in use */
	assert_int_equal(exec_line(d, "strgp_metric_del name=s1 metric=MemFree", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "strgp_del name=s1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "strgp_stop name=s1", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_metric_del name=s1 metric=MemFree", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_del name=s1", &rep), 0);
	assert_int_equal(exec_line(d, "term name=csv", &rep), 0);

	/* the workers run: their settings cannot change any more */
	assert_int_equal(exec_line(d, "storage_threads count=3", &rep), -EBUSY);

	assert_int_equal(exec_line(d, "prdcr_del name=p1", &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_stats", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"prdcr_count\":0,"));
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- an in-process aggregator
 * --------------------------------------------------------------------- */
struct src {
	struct ldms_schema *sch;
	ldms_set_t set;
	int m_val;
};

static void src_sample(struct src *s, uint64_t v)
{
	ldms_set_lock(s->set); /* the server reads under the same lock */
	ldms_transaction_begin(s->set);
	ldms_metric_set_u64(s->set, s->m_val, v);
	ldms_transaction_end(s->set);
	ldms_set_unlock(s->set);
}

static int count_lines(const char *path, uint64_t *first_ts, int *monotonic)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	double prev = -1;
	*monotonic = 1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		double ts = strtod(line, NULL);
		if (n == 0 && first_ts)
			*first_ts = (uint64_t)ts;
		if (ts <= prev)
			*monotonic = 0;
		prev = ts;
		n++;
	}
	fclose(f);
	return n;
}

/* The last column of the last row of a CSV file (0 if none). */
static uint64_t last_value(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	uint64_t v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *c = strrchr(line, ',');
		if (line[0] != '#' && c)
			v = strtoull(c + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

static void test_in_process(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	struct ldms_err e;
	char line[600];
	ldmsd_reply_init(&rep);
	ldms_err_clear(&e);

	/* the "sampler": a local set served by our own listener */
	struct src s;
	s.sch = ldms_schema_new("aggtest");
	assert_non_null(s.sch);
	assert_true(ldms_schema_meta_add(s.sch, "component_id", LDMS_V_U64, NULL) >= 0);
	s.m_val = ldms_schema_metric_add(s.sch, "value", LDMS_V_U64, NULL);
	s.set = ldms_set_new("src/aggtest", s.sch);
	assert_non_null(s.set);
	assert_int_equal(ldms_set_producer_name_set(s.set, "src"), 0);
	assert_int_equal(ldms_set_info_set(s.set, "updt_hint_us", "100000:0"), 0);
	src_sample(&s, 1);
	assert_int_equal(ldms_set_publish(s.set), 0);

	assert_int_equal(exec_line(d, "listen xprt=sock port=0 host=127.0.0.1", &rep), 0);
	assert_int_equal(ldmsd_start(d, &e), 0);
	const char *port = TAILQ_FIRST(&d->listeners)->port;

	snprintf(line, sizeof(line), "config name=csv path=%s buffer=0", tmpdir);
	assert_int_equal(exec_line(d, "load name=csv plugin=store_csv", &rep), 0);
	assert_int_equal(exec_line(d, line, &rep), 0);
	assert_int_equal(
	    exec_line(d, "strgp_add name=st plugin=csv container=agg schema=aggtest", &rep), 0);
	assert_int_equal(exec_line(d, "strgp_start name=st", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_add name=u interval=100ms offset=20ms", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_prdcr_add name=u regex=^p$", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_start name=u", &rep), 0);
	snprintf(line, sizeof(line),
		 "prdcr_add name=p host=127.0.0.1 port=%s xprt=sock type=active reconnect=100ms",
		 port);
	assert_int_equal(exec_line(d, line, &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_start name=p", &rep), 0);
	assert_true(wait_state(d, "p", LDMSD_PRDCR_CONNECTED, 5000));

	/* sample while the updater pulls; the rows reach the CSV file */
	char csv[600];
	snprintf(csv, sizeof(csv), "%s/agg/aggtest", tmpdir);
	int rows = 0, mono = 0;
	uint64_t last = 1;
	for (int i = 0; i < 300 && rows < 5; i++) {
		src_sample(&s, last = (uint64_t)i + 2);
		sleep_ms(30);
		rows = count_lines(csv, NULL, &mono);
	}
	assert_true(rows >= 5);
	assert_true(mono); /* every stored update is newer than the previous one */
	assert_int_equal(exec_line(d, "prdcr_status name=p", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json),
			       "\"state\":\"CONNECTED\",\"sets\": [{ \"inst_name\":\"src/aggtest\","
			       "\"schema_name\":\"aggtest\",\"state\":\""));
	assert_int_equal(exec_line(d, "prdcr_set_status", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json),
			       "\"origin\":\"src\",\"producer\":\"p\",\"timestamp.sec\":\""));
	/* the mirror announces our updater's schedule */
	struct ldmsd_prdcr *p = ldmsd_prdcr_find(d, "p");
	pthread_mutex_lock(&p->lock);
	assert_int_equal(p->n_sets, 1);
	char *hint = ldms_set_info_get(p->sets[0]->set, "updt_hint_us");
	pthread_mutex_unlock(&p->lock);
	assert_non_null(hint);
	assert_string_equal(hint, "100000:20000");
	free(hint);
	assert_int_equal(exec_line(d, "strgp_status", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"metrics\":[\"component_id\","
							 "\"value\"]"));

	/* no new rows while nothing is sampled (unchanged gn is not stored twice),
	 * once the last sample is stored (its update may come late on a busy host) */
	for (int i = 0; i < 1000 && last_value(csv) != last; i++)
		sleep_ms(10);
	assert_true(last_value(csv) == last);
	int before = count_lines(csv, NULL, &mono);
	sleep_ms(350);
	assert_int_equal(count_lines(csv, NULL, &mono), before);

	/* the sampler deletes its set: the producer forgets it (SET_DELETE) */
	ldms_set_unpublish(s.set);
	for (int i = 0; i < 200; i++) {
		exec_line(d, "prdcr_status name=p", &rep);
		if (strstr(ldmsd_buf_str(&rep.json), "\"sets\": []"))
			break;
		sleep_ms(10);
	}
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"sets\": []"));
	assert_int_equal(ldms_set_publish(s.set), 0);

	/* 100 add/start/stop/del cycles of another producer (with its own updater, so
	 * its set is looked up and updated) leave no connection and no set behind */
	assert_int_equal(exec_line(d, "updtr_add name=uc interval=50ms", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_prdcr_add name=uc regex=^c$", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_start name=uc", &rep), 0);
	sleep_ms(300);
	int live0 = xprt_test_live_count();
	size_t sets0 = set_live_count();
	snprintf(line, sizeof(line),
		 "prdcr_add name=c host=127.0.0.1 port=%s xprt=sock type=active reconnect=50ms",
		 port);
	int ready = 0;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(exec_line(d, line, &rep), 0);
		assert_int_equal(exec_line(d, "prdcr_start name=c", &rep), 0);
		if (i % 10 == 0) { /* sometimes until updated, sometimes mid-way */
			for (int t = 0; t < 500; t++) {
				exec_line(d, "prdcr_set_status producer=c", &rep);
				if (strstr(ldmsd_buf_str(&rep.json), "\"timestamp.sec\":\"0\"") ||
				    !strstr(ldmsd_buf_str(&rep.json), "\"state\":\"READY\"")) {
					sleep_ms(10);
					continue;
				}
				ready++;
				break;
			}
		}
		assert_int_equal(exec_line(d, "prdcr_stop name=c", &rep), 0);
		assert_true(wait_state(d, "c", LDMSD_PRDCR_STOPPED, 5000));
		assert_int_equal(exec_line(d, "prdcr_del name=c", &rep), 0);
	}
	assert_int_equal(ready, 10);
	assert_int_equal(exec_line(d, "updtr_stop name=uc", &rep), 0);
	for (int i = 0; i < 300 && (xprt_test_live_count() > live0 || set_live_count() > sets0);
	     i++)
		sleep_ms(10);
	assert_true(xprt_test_live_count() <= live0);
	assert_true(set_live_count() <= sets0);

	ldmsd_reply_free(&rep);
	ldmsd_free(d); /* stops everything, closes the store */
	assert_true(count_lines(csv, NULL, &mono) >= 5);
	ldms_set_delete(s.set);
	ldms_schema_delete(s.sch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prdcr_transitions), cmocka_unit_test(test_updtr_schedule),
	    cmocka_unit_test(test_regex_lists),	      cmocka_unit_test(test_strgp_columns),
	    cmocka_unit_test(test_store_queue),	      cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_in_process),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
