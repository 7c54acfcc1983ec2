/* Unit tests of ldmsd's status/statistics/security commands: the authorisation
 * decision of network requests (§6.6.6) directly and over a real connection with a
 * forced peer credential, set_stats/thread_stats/xprt_stats/log_status JSON key sets
 * against upstream's replies (shared/golden/ldms/ctl_samp1.json.txt), greeting,
 * set_sec_mod, and dump_cfg (expected text, hooks, and a dump -> load -> dump round
 * trip that reproduces the same configuration). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_set.h>
#include <ldms/ldms_xprt_stats.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"
#include "ldmsd_dump.h"
#include "ldmsd_sec.h"
#include "ldmsd_stats.h"
#include "xprt_int.h"

static char tmpdir[256];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ldmsd_stats_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("LDMSD_STATS_TMP", tmpdir, 1);
	assert_int_equal(ldmsd_cmd_registry_init(), 0);
	return 0;
}

static int teardown_tmp(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = 1};
	struct ldmsd_req *r = NULL;
	struct ldms_err e;
	snprintf(o.file, sizeof(o.file), "t.conf");
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc) {
		print_error("parse '%s': %s\n", line, e.msg);
		return rc;
	}
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static json_t *reply_json(struct ldmsd_reply *rep)
{
	json_error_t je;
	json_t *j = json_loadb(ldmsd_buf_str(&rep->json), rep->json.len, 0, &je);
	if (!j)
		print_error("bad JSON (%s): %s\n", je.text, ldmsd_buf_str(&rep->json));
	assert_non_null(j);
	return j;
}

/* ---- golden key sets ------------------------------------------------------------------------ */
/* The "msg" of the JSON reply to `verb` in ctl_samp1.json.txt (new reference). */
static json_t *golden_msg(const char *verb)
{
	const char *g = getenv("LDMSC_GOLDEN");
	char path[512], line[65536], want[64];
	snprintf(path, sizeof(path), "%s/ldms/ctl_samp1.json.txt", g ? g : "../shared/golden");
	snprintf(want, sizeof(want), "ldmsd_controller> %s\n", verb);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	json_t *msg = NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strcmp(line, want))
			continue;
		if (fgets(line, sizeof(line), f)) {
			json_t *j = json_loads(line, 0, NULL);
			msg = json_incref(json_object_get(j, "msg"));
			json_decref(j);
		}
		break;
	}
	fclose(f);
	return msg;
}

/* every key of `ours` exists in `theirs` (we never invent keys) */
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

static void keys_equal(json_t *ours, json_t *theirs, const char *what)
{
	keys_subset(ours, theirs, what);
	keys_subset(theirs, ours, what);
}

/* ---- authorisation ------------------------------------------------------------------------------
 */
static struct ldmsd_req *net_req(uint32_t id, uid_t uid, gid_t gid)
{
	struct ldmsd_req *r = ldmsd_req_new(id, NULL);
	assert_non_null(r);
	r->origin.kind = LDMSD_ORIGIN_NET;
	r->origin.uid = uid;
	r->origin.gid = gid;
	return r;
}

static int authz(struct ldmsd *d, uint32_t id, uid_t uid, gid_t gid, uid_t duid, gid_t dgid)
{
	char msg[200];
	struct ldmsd_req *r = net_req(id, uid, gid);
	int rc = ldmsd_req_authorize(d, r, duid, dgid, msg, sizeof(msg));
	if (rc == -EACCES) {
		char want[128];
		snprintf(want, sizeof(want), "permission denied for command '%s'",
			 ldms_ctrl_cmd_name(id));
		assert_string_equal(msg, want);
	}
	ldmsd_req_free(r);
	return rc;
}

static void test_authorize(void **state)
{
	struct ldmsd *d = ldmsd_new();
	d->state = LDMSD_STATE_RUNNING;
	d->inband = 1;
	const uid_t nob = 65534, me = 1234;
	/* configuration changes: owner/group only */
	static const uint32_t xug[] = {LDMSD_PLUGN_LOAD_REQ,
				       LDMSD_PLUGN_CONFIG_REQ,
				       LDMSD_PLUGN_START_REQ,
				       LDMSD_PRDCR_ADD_REQ,
				       LDMSD_UPDTR_START_REQ,
				       LDMSD_STRGP_ADD_REQ,
				       LDMSD_SET_SEC_MOD_REQ,
				       LDMSD_DUMP_CFG_REQ,
				       LDMSD_EXIT_DAEMON_REQ,
				       LDMSD_LISTEN_REQ,
				       LDMSD_ENV_REQ,
				       LDMSD_VERBOSE_REQ,
				       LDMSD_CMDLINE_OPTIONS_SET_REQ,
				       LDMSD_GREETING_REQ};
	/* status queries marked "all" */
	static const uint32_t xall[] = {
	    LDMSD_SET_STATS_REQ,     LDMSD_THREAD_STATS_REQ, LDMSD_XPRT_STATS_REQ,
	    LDMSD_DAEMON_STATUS_REQ, LDMSD_VERSION_REQ,	     LDMSD_PLUGN_STATUS_REQ,
	    LDMSD_PRDCR_STATUS_REQ,  LDMSD_UPDTR_STATUS_REQ, LDMSD_STRGP_STATUS_REQ};
	for (size_t i = 0; i < sizeof(xug) / sizeof(xug[0]); i++) {
		assert_int_equal(authz(d, xug[i], nob, nob, 0, 0), -EACCES);
		assert_int_equal(authz(d, xug[i], nob, nob, me, me), -EACCES);
		assert_int_equal(authz(d, xug[i], 0, 0, me, me), 0);	/* root */
		assert_int_equal(authz(d, xug[i], me, nob, me, me), 0); /* owner */
		assert_int_equal(authz(d, xug[i], nob, me, me, me), 0); /* group */
	}
	for (size_t i = 0; i < sizeof(xall) / sizeof(xall[0]); i++)
		assert_int_equal(authz(d, xall[i], nob, nob, 0, 0), 0);

	/* a configuration-changing command is never open to everyone */
	for (uint32_t id = 0; id < 0x1000; id++) {
		uint32_t fl = ldms_ctrl_cmd_perm(id);
		if (fl & LDMS_CTRL_PERM_MOD)
			assert_int_equal(fl & 0001u, 0);
	}

	/* not in-band yet: only start-up-safe queries, even for root */
	d->inband = 0;
	assert_int_equal(authz(d, LDMSD_DAEMON_STATUS_REQ, nob, nob, 0, 0), 0);
	assert_int_equal(authz(d, LDMSD_PLUGN_STATUS_REQ, 0, 0, 0, 0), 0);
	assert_int_equal(authz(d, LDMSD_SET_STATS_REQ, 0, 0, 0, 0), -EBUSY);
	assert_int_equal(authz(d, LDMSD_PLUGN_LOAD_REQ, 0, 0, 0, 0), -EBUSY);
	/* the credential check comes first */
	assert_int_equal(authz(d, LDMSD_PLUGN_LOAD_REQ, nob, nob, 0, 0), -EACCES);

	/* config files and the daemon itself are not checked */
	char msg[200];
	struct ldmsd_req *r = net_req(LDMSD_PLUGN_LOAD_REQ, nob, nob);
	r->origin.kind = LDMSD_ORIGIN_FILE;
	assert_int_equal(ldmsd_req_authorize(d, r, 0, 0, msg, sizeof(msg)), 0);
	r->origin.kind = LDMSD_ORIGIN_INTERNAL;
	assert_int_equal(ldmsd_req_authorize(d, r, 0, 0, msg, sizeof(msg)), 0);
	ldmsd_req_free(r);
	ldmsd_free(d);
}

static void test_perm_parse(void **state)
{
	uint32_t p = 1;
	assert_int_equal(ldmsd_perm_parse("0640", &p), 0);
	assert_int_equal(p, 0640);
	assert_int_equal(ldmsd_perm_parse("600", &p), 0);
	assert_int_equal(p, 0600);
	assert_int_equal(ldmsd_perm_parse("0", &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(ldmsd_perm_parse("0777", &p), 0);
	assert_int_equal(ldmsd_perm_parse("1777", &p), -EINVAL);
	assert_int_equal(ldmsd_perm_parse("0680", &p), -EINVAL);
	assert_int_equal(ldmsd_perm_parse("", &p), -EINVAL);
	assert_int_equal(ldmsd_perm_parse("rw-r-----", &p), -EINVAL);
	assert_int_equal(ldmsd_perm_parse("00640", &p), -EINVAL);
}

/* ---- pure helpers
 * ---------------------------------------------------------------------------------- */
static void test_helpers(void **state)
{
	char b[80];
	assert_int_equal(ldmsd_thread_kind("str:wrk:0"), LDMSD_THR_STORAGE);
	assert_int_equal(ldmsd_thread_kind("ldmsd:sched"), LDMSD_THR_WORKER);
	assert_int_equal(ldmsd_thread_kind("ldmsd"), LDMSD_THR_OTHER);
	assert_int_equal(ldmsd_thread_kind("test_ldmsd_stat"), LDMSD_THR_OTHER);

	assert_string_equal(ldmsd_log_levels_str(LDMS_LINFO, b, sizeof(b)),
			    "INFO,WARNING,ERROR,CRITICAL");
	assert_string_equal(ldmsd_log_levels_str(LDMS_LDEBUG, b, sizeof(b)),
			    "DEBUG,INFO,WARNING,ERROR,CRITICAL");
	assert_string_equal(ldmsd_log_levels_str(LDMS_LCRITICAL, b, sizeof(b)), "CRITICAL");
	assert_string_equal(ldmsd_log_levels_str(LDMS_LQUIET, b, sizeof(b)), "QUIET");

	struct ldmsd_thr_window w;
	/* first query: since the thread started */
	ldmsd_thr_window_calc(300, 1000, 0, 0, 0, 5000, &w);
	assert_int_equal(w.refresh_us, 1000);
	assert_int_equal(w.active_us, 300);
	assert_int_equal(w.idle_us, 700);
	assert_true(w.utilization > 0.2999 && w.utilization < 0.3001);
	/* later: since the previous query */
	ldmsd_thr_window_calc(500, 3000, 1, 300, 5000, 7000, &w);
	assert_int_equal(w.refresh_us, 2000);
	assert_int_equal(w.active_us, 200);
	assert_int_equal(w.idle_us, 1800);
	/* clock granularity never gives more than 100 % */
	ldmsd_thr_window_calc(5000, 3000, 1, 300, 5000, 6000, &w);
	assert_int_equal(w.active_us, 1000);
	assert_int_equal(w.idle_us, 0);
}

static int count_send(void *arg, const void *rec, size_t len)
{
	(*(int *)arg)++;
	return 0;
}

static void test_greeting_records(void **state)
{
	static const size_t maxes[] = {64, 100, 4096, 65536};
	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		for (long n = 1; n <= 6; n++) {
			char *t = ldmsd_greeting_records_text(n, maxes[m]);
			assert_non_null(t);
			int recs = 0;
			assert_int_equal(
			    ldms_ctrl_send_rsp_str(1, 0, t, maxes[m], count_send, &recs), 0);
			assert_int_equal(recs, n);
			free(t);
		}
	}
	assert_null(ldmsd_greeting_records_text(0, 4096));
	assert_null(ldmsd_greeting_records_text(100000, 4096));
	assert_int_equal(errno, E2BIG);
}

/* ---- threads
 * -------------------------------------------------------------------------------------- */
static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cond = PTHREAD_COND_INITIALIZER;
static int thr_stop;

static void *idle_thread(void *arg)
{
	pthread_mutex_lock(&thr_lock);
	while (!thr_stop)
		pthread_cond_wait(&thr_cond, &thr_lock);
	pthread_mutex_unlock(&thr_lock);
	return NULL;
}

static void test_thread_usage(void **state)
{
	pid_t me = (pid_t)syscall(SYS_gettid);
	assert_int_equal(ldms_pthread_tid(pthread_self()), me);
	volatile double x = 0;
	for (int i = 0; i < 2000000; i++)
		x = x + i * 0.5;
	assert_true(x > 0);
	struct ldms_thread_usage u;
	assert_int_equal(ldms_thread_usage_get(me, &u), 0);
	assert_true(u.cpu_us > 0);
	/* age comes from /proc start times in clock ticks (10 ms), CPU time from a
	 * nanosecond clock: allow two ticks of granularity. */
	assert_true(u.age_us + 20000 >= u.cpu_us);
	assert_true(u.name[0] != '\0');

	pthread_t th;
	thr_stop = 0;
	assert_int_equal(pthread_create(&th, NULL, idle_thread, NULL), 0);
	pthread_setname_np(th, "str:wrk:7");
	pid_t tid = ldms_pthread_tid(th);
	assert_true(tid > 0 && tid != me);
	pid_t tids[256];
	int n = ldms_thread_list(tids, 256), found = 0;
	for (int i = 0; i < n; i++)
		found |= tids[i] == tid;
	assert_true(found);
	assert_int_equal(ldms_thread_usage_get(tid, &u), 0);
	assert_string_equal(u.name, "str:wrk:7");
	assert_int_equal(ldmsd_thread_kind(u.name), LDMSD_THR_STORAGE);

	/* it shows up among the storage threads of thread_stats */
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	assert_int_equal(exec_line(d, "thread_stats", &rep), 0);
	json_t *j = reply_json(&rep);
	json_t *st = json_object_get(j, "storage threads");
	assert_int_equal(json_array_size(st), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(st, 0), "tid")), tid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "name")),
			    "str:wrk:7");
	json_decref(j);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);

	pthread_mutex_lock(&thr_lock);
	thr_stop = 1;
	pthread_cond_broadcast(&thr_cond);
	pthread_mutex_unlock(&thr_lock);
	pthread_join(th, NULL);
	/* pthread_join returns when the kernel clears the tid, slightly before the
	 * task is released: its clock may answer for a moment longer. */
	int rc = 0;
	for (int i = 0; i < 200 && (rc = ldms_thread_usage_get(tid, &u)) != -ESRCH; i++)
		usleep(5000);
	assert_int_equal(rc, -ESRCH);
}

/* ---- set_stats, set_sec_mod
 * --------------------------------------------------------------------------- */
static ldms_set_t mkset(const char *inst)
{
	struct ldms_schema *s = ldms_schema_new("stats_test");
	assert_non_null(s);
	assert_true(ldms_schema_metric_add(s, "a", LDMS_V_U64, "") >= 0);
	ldms_set_t set = ldms_set_new(inst, s);
	ldms_schema_delete(s);
	assert_non_null(set);
	assert_int_equal(ldms_set_publish(set), 0);
	return set;
}

static void test_set_stats(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	size_t before = ldms_set_registry_count();
	ldms_set_t a = mkset("stats/a"), b = mkset("stats/b");
	assert_int_equal(exec_line(d, "set_stats", &rep), 0);
	json_t *j = reply_json(&rep);
	json_t *g = golden_msg("set_stats");
	assert_non_null(g);
	keys_equal(j, g, "set_stats");
	assert_int_equal(json_integer_value(json_object_get(j, "active_count")), before + 2);
	assert_int_equal(json_integer_value(json_object_get(j, "mem_total_kb")), 512);
	json_int_t used = json_integer_value(json_object_get(j, "mem_used_kb"));
	json_int_t mem = (json_int_t)((ldms_set_mem_size(a) + ldms_set_mem_size(b) + 1023) / 1024);
	assert_true(used >= mem);
	assert_int_equal(json_integer_value(json_object_get(j, "mem_free_kb")), 512 - used);
	assert_int_equal(json_integer_value(json_object_get(j, "set_load")), 0); /* no mirrors */
	json_decref(j);
	assert_int_equal(exec_line(d, "set_stats summary=true", &rep), 0);
	json_decref(g);

	ldms_set_delete(a);
	ldms_set_delete(b);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

static void test_set_sec_mod(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	ldms_set_t a = mkset("sec/node1/a"), b = mkset("sec/node1/b"), c = mkset("sec/node2/c");
	uint32_t cperm = ldms_set_perm_get(c);
	uid_t cuid = ldms_set_uid_get(c);

	assert_int_equal(
	    exec_line(d, "set_sec_mod regex=^sec/node1/ uid=12 gid=34 perm=0600", &rep), 0);
	assert_int_equal(ldms_set_uid_get(a), 12);
	assert_int_equal(ldms_set_gid_get(b), 34);
	assert_int_equal(ldms_set_perm_get(a), 0600);
	assert_int_equal(ldms_set_perm_get(c), cperm);
	assert_int_equal(ldms_set_uid_get(c), cuid);
	/* only what is given changes */
	assert_int_equal(exec_line(d, "set_sec_mod regex=node2 perm=644", &rep), 0);
	assert_int_equal(ldms_set_perm_get(c), 0644);
	assert_int_equal(ldms_set_uid_get(c), cuid);
	assert_int_equal(exec_line(d, "set_sec_mod regex=.* uid=root", &rep), 0);
	assert_int_equal(ldms_set_uid_get(a), 0);
	assert_int_equal(ldms_set_gid_get(a), 34);

	assert_int_equal(exec_line(d, "set_sec_mod regex=x", &rep), -EINVAL);
	assert_string_equal(rep.msg.s, "set_sec_mod: give at least one of uid, gid and perm");
	assert_int_equal(exec_line(d, "set_sec_mod regex=( perm=0600", &rep), -EINVAL);
	assert_non_null(strstr(rep.msg.s, "bad regex '('"));
	assert_int_equal(exec_line(d, "set_sec_mod regex=x perm=0999", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "set_sec_mod regex=x uid=no_such_user_xyz", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "set_sec_mod perm=0600", &rep), -EINVAL);
	assert_string_equal(rep.msg.s, "command 'set_sec_mod' requires attribute 'regex'");

	ldms_set_delete(a);
	ldms_set_delete(b);
	ldms_set_delete(c);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- greeting, log_status
 * ----------------------------------------------------------------------------- */
static void test_greeting(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	assert_int_equal(exec_line(d, "greeting name=foo", &rep), 0);
	assert_string_equal(rep.msg.s, "Hello 'foo'");
	assert_int_equal(exec_line(d, "greeting test", &rep), 0);
	assert_string_equal(rep.msg.s, "Hi");
	assert_int_equal(exec_line(d, "greeting offset=5", &rep), 0);
	assert_string_equal(rep.msg.s, "abcde");
	assert_int_equal(exec_line(d, "greeting offset=x", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "daemon_name name=gd", &rep), 0);
	assert_int_equal(exec_line(d, "greeting path", &rep), 0);
	assert_string_equal(rep.msg.s, "gd");
	assert_int_equal(exec_line(d, "greeting", &rep), 0);
	assert_int_equal(rep.msg.len, 0);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

static void test_log_status(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	int old = ldms_log_level_get();
	ldms_log_level_set(LDMS_LWARN);
	assert_int_equal(exec_line(d, "load name=mi plugin=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "log_status", &rep), 0);
	json_t *j = reply_json(&rep), *g = golden_msg("log_status");
	assert_true(json_is_array(j));
	assert_non_null(g);
	json_t *first = json_array_get(j, 0);
	keys_equal(first, json_array_get(g, 0), "log_status");
	assert_string_equal(json_string_value(json_object_get(first, "name")), "ldmsd (default)");
	assert_string_equal(json_string_value(json_object_get(first, "level")),
			    "WARNING,ERROR,CRITICAL");
	int found = 0;
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")), "sampler.meminfo.mi")) {
			found = 1;
			assert_string_equal(json_string_value(json_object_get(e, "level")),
					    "default");
		}
	}
	assert_true(found);
	json_decref(j);
	json_decref(g);

	assert_int_equal(exec_line(d, "log_status name=config", &rep), 0);
	j = reply_json(&rep);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	assert_int_equal(exec_line(d, "log_status name=nosuch", &rep), -ENOENT);
	ldms_log_level_set(old);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- over the network: thread_stats, xprt_stats and the permission check
 * ----------------------------- */
static struct ldms_ctrl_msg *request(struct ldms_ctrl_client *cli, uint32_t id, uint32_t *err, ...)
{
	va_list ap;
	struct ldms_ctrl_msg *req = ldms_ctrl_req_new(id), *rsp = NULL;
	assert_non_null(req);
	va_start(ap, err);
	for (int aid = va_arg(ap, int); aid >= 0; aid = va_arg(ap, int))
		assert_int_equal(ldms_ctrl_req_attr_add(req, (uint32_t)aid, va_arg(ap, char *)), 0);
	va_end(ap);
	assert_int_equal(ldms_ctrl_request(cli, req, &rsp, 10000), 0);
	ldms_ctrl_msg_free(req);
	*err = ldms_ctrl_msg_rsp_err(rsp);
	return rsp;
}

static json_t *rsp_json(struct ldms_ctrl_msg *rsp)
{
	const char *t = ldms_ctrl_msg_text(rsp);
	assert_non_null(t);
	json_t *j = json_loads(t, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_net(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	struct ldms_err e;
	uint32_t err;
	ldmsd_reply_init(&rep);
	ldms_err_clear(&e);
	assert_int_equal(exec_line(d, "worker_threads num=2", &rep), 0);
	assert_int_equal(exec_line(d, "listen xprt=sock port=0 host=127.0.0.1", &rep), 0);
	assert_int_equal(ldmsd_start(d, &e), 0);
	d->inband = 1;
	const char *port = TAILQ_FIRST(&d->listeners)->port;

	struct ldms_ctrl_client *cli =
	    ldms_ctrl_client_connect("127.0.0.1", port, "sock", NULL, 5000, &e);
	assert_non_null(cli);
	struct ldms_ctrl_msg *rsp = request(cli, LDMSD_THREAD_STATS_REQ, &err, -1);
	assert_int_equal(err, 0);
	json_t *j = rsp_json(rsp), *g = golden_msg("thread_stats");
	assert_non_null(g);
	keys_equal(j, g, "thread_stats");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
	json_t *io = json_object_get(j, "io_threads");
	assert_int_equal(json_array_size(io), 2);
	json_int_t eps = 0;
	size_t i;
	json_t *t;
	json_array_foreach(io, i, t)
	{
		keys_subset(t, json_array_get(json_object_get(g, "io_threads"), 0), "io_threads[]");
		/* every I/O thread answered; both ends of our connection are here */
		assert_non_null(json_object_get(t, "n_eps"));
		eps += json_integer_value(json_object_get(t, "n_eps"));
		assert_true(json_integer_value(json_object_get(t, "tid")) > 0);
		assert_true(json_integer_value(json_object_get(t, "total_us")) >=
			    json_integer_value(json_object_get(t, "active_tot")));
	}
	assert_int_equal(eps, 2);
	json_t *w = json_object_get(j, "worker_threads");
	assert_int_equal(json_array_size(w), 1); /* the scheduler */
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "name")),
			    "ldmsd:sched");
	keys_subset(json_array_get(w, 0), json_array_get(json_object_get(g, "worker_threads"), 0),
		    "worker_threads[]");
	json_decref(j);
	json_decref(g);
	ldms_ctrl_msg_free(rsp);

	rsp = request(cli, LDMSD_XPRT_STATS_REQ, &err, -1);
	assert_int_equal(err, 0);
	j = rsp_json(rsp);
	g = golden_msg("xprt_stats");
	keys_subset(j, g, "xprt_stats");
	assert_int_equal(json_integer_value(json_object_get(j, "listen_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "connect_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "xprt_count")), 3);
	json_t *rails = json_object_get(j, "rails");
	assert_int_equal(json_array_size(rails), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rails, 0), "state")),
			    "listen");
	json_t *r1 = json_array_get(rails, 1);
	keys_subset(r1, json_array_get(json_object_get(g, "rails"), 1), "rails[]");
	assert_string_equal(json_string_value(json_object_get(r1, "state")), "connect");
	assert_non_null(
	    strstr(json_string_value(json_object_get(r1, "remote_host")), "127.0.0.1:"));
	json_decref(j);
	json_decref(g);
	ldms_ctrl_msg_free(rsp);

	/* reset: rates count from now on; no connection was made since */
	rsp = request(cli, LDMSD_XPRT_STATS_REQ, &err, LDMSD_ATTR_RESET, NULL, -1);
	assert_int_equal(err, 0);
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_XPRT_STATS_REQ, &err, -1);
	j = rsp_json(rsp);
	assert_true(json_is_real(json_object_get(j, "connect_request_rate_s")));
	assert_true(json_real_value(json_object_get(j, "connect_request_rate_s")) == 0.0);
	assert_true(json_real_value(json_object_get(j, "disconnect_rate_s")) == 0.0);
	assert_true(json_is_real(json_object_get(j, "duration")));
	assert_int_equal(json_integer_value(json_object_get(j, "connect_count")), 2);
	json_decref(j);
	ldms_ctrl_msg_free(rsp);

	/* greeting level=N: the reply arrives in N records, reassembled */
	rsp = request(cli, LDMSD_GREETING_REQ, &err, LDMSD_ATTR_LEVEL, "3", -1);
	assert_int_equal(err, 0);
	assert_true(strlen(ldms_ctrl_msg_text(rsp)) > 10);
	assert_int_equal(strncmp(ldms_ctrl_msg_text(rsp), "0123456789", 10), 0);
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_client_close(cli);

	/* a peer authenticated as 'nobody': status queries yes, configuration no */
	xprt_test_peer_cred_override(65534, 65534);
	cli = ldms_ctrl_client_connect("127.0.0.1", port, "sock", NULL, 5000, &e);
	assert_non_null(cli);
	rsp = request(cli, LDMSD_SET_STATS_REQ, &err, -1);
	assert_int_equal(err, 0);
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_DAEMON_STATUS_REQ, &err, -1);
	assert_int_equal(err, 0);
	ldms_ctrl_msg_free(rsp);
	uint64_t cntr = d->cfg_cntr;
	rsp = request(cli, LDMSD_PLUGN_LOAD_REQ, &err, LDMSD_ATTR_NAME, "meminfo", -1);
	assert_int_equal(err, EACCES);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "permission denied for command 'load'");
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_DUMP_CFG_REQ, &err, LDMSD_ATTR_PATH, "/tmp/x", -1);
	assert_int_equal(err, EACCES);
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_EXIT_DAEMON_REQ, &err, -1);
	assert_int_equal(err, EACCES);
	ldms_ctrl_msg_free(rsp);
	assert_int_equal(d->cfg_cntr, cntr);
	assert_false(d->exit_requested);
	ldms_ctrl_client_close(cli);
	xprt_test_peer_cred_override(-1, -1);

	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- dump_cfg
 * ------------------------------------------------------------------------------------------- */
static int test_hook_calls;

static int test_hook(struct ldmsd *d, struct ldmsd_buf *out)
{
	test_hook_calls++;
	int rc = ldmsd_dump_line_begin(out, "prdcr_add");
	if (!rc)
		rc = ldmsd_dump_attr(out, "name", "p 1");
	if (!rc)
		rc = ldmsd_dump_attr(out, "type", "active");
	if (!rc)
		rc = ldmsd_dump_line_end(out);
	return rc;
}

static int test_hook2(struct ldmsd *d, struct ldmsd_buf *out)
{
	return -EIO;
}

static const char *dump_body(struct ldmsd *d, struct ldmsd_buf *b)
{
	ldmsd_buf_reset(b);
	assert_int_equal(ldmsd_dump_cfg_text(d, b), 0);
	const char *s = ldmsd_buf_str(b);
	assert_int_equal(strncmp(s, "# Configuration of ldmsd '", 26), 0);
	const char *nl = strchr(s, '\n');
	assert_non_null(nl);
	return nl + 1;
}

static const char *const dump_cfg_lines[] = {
    "env LDMSD_STATS_T=v1",
    "set_memory size=2m",
    "auth_add name=dom1 plugin=none",
    "listen xprt=sock port=0 host=127.0.0.1 auth=dom1 quota=4096",
    "load name=mi plugin=meminfo",
    "config name=mi producer=p1 instance=p1/${LDMSD_STATS_T} component_id=3",
    "start name=mi interval=1s offset=0",
    "load name=vm plugin=vmstat",
    "config name=vm producer=p1 instance=p1/vm",
    "start name=vm interval=2s",
    "stop name=vm",
    "load name=la plugin=loadavg",
    "term name=la",
    "load name=m2 plugin=meminfo",
    "daemon_name name=dumper",
    "msg_disable",
    "metric_sets_default_authz perm=0640",
    "storage_threads count=2",
    "load name=csv plugin=store_csv",
    "config name=csv path=${LDMSD_STATS_TMP}/csv",
    ("prdcr_add name=pr1 host=127.0.0.1 port=1 xprt=sock type=active reconnect=20s rail=2 "
     "perm=0700"),
    "updtr_add name=u1 interval=2s offset=100ms",
    "updtr_prdcr_add name=u1 regex=^pr",
    "updtr_match_add name=u1 regex=mem match=schema",
    "updtr_start name=u1",
    "strgp_add name=s1 plugin=csv container=c1 schema=meminfo",
    "strgp_prdcr_add name=s1 regex=.*",
    "strgp_metric_add name=s1 metric=MemFree",
    "strgp_start name=s1",
};

static const char *const dump_cfg_expect =
    "env LDMSD_STATS_T=v1\n"
    "log_level level=ERROR\n"
    "set_memory size=2097152\n"
    "daemon_name name=dumper\n"
    "msg_disable\n"
    "metric_sets_default_authz uid=%u gid=%u perm=0640\n"
    "storage_threads count=2\n"
    "auth_add name=dom1 plugin=none\n"
    "listen xprt=sock port=0 host=127.0.0.1 auth=dom1 quota=4096\n"
    "load name=mi plugin=meminfo\n"
    "config name=mi producer=p1 instance=p1/v1 component_id=3\n"
    "start name=mi interval=1s offset=0\n"
    "load name=vm plugin=vmstat\n"
    "config name=vm producer=p1 instance=p1/vm\n"
    "load name=m2 plugin=meminfo\n"
    "load name=csv plugin=store_csv\n"
    "config name=csv path=%s/csv\n"
    "prdcr_add name=pr1 type=active xprt=sock host=127.0.0.1 port=1 reconnect=20000000 rail=2 "
    "perm=0700\n"
    "updtr_add name=u1 interval=2000000 offset=100000\n"
    "updtr_prdcr_add name=u1 regex=^pr\n"
    "updtr_match_add name=u1 regex=mem match=schema\n"
    "updtr_start name=u1\n"
    "strgp_add name=s1 plugin=csv container=c1 schema=meminfo\n"
    "strgp_prdcr_add name=s1 regex=.*\n"
    "strgp_metric_add name=s1 metric=MemFree\n"
    "strgp_start name=s1\n"
    "prdcr_add name=\"p 1\" type=active\n";

static void test_dump_cfg(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	struct ldmsd_buf b = {0}, b2 = {0};
	struct ldms_err e;
	char want[4096], path[512];
	uid_t duid;
	gid_t dgid;
	uint32_t dperm;
	ldmsd_reply_init(&rep);
	ldms_err_clear(&e);
	ldms_set_default_authz_get(&duid, &dgid, &dperm);
	assert_int_equal(
	    ldmsd_dump_hook_register("test_prdcr", LDMSD_DUMP_ORDER_STRGP + 50, test_hook), 0);
	assert_int_equal(
	    ldmsd_dump_hook_register("test_prdcr", LDMSD_DUMP_ORDER_STRGP + 50, test_hook), 0);
	assert_int_equal(ldmsd_dump_hook_register("test_prdcr", 1, test_hook2), -EEXIST);
	assert_int_equal(ldmsd_dump_hook_register("", 1, test_hook), -EINVAL);

	/* not started: the listener keeps port 0, which the round trip reproduces */
	for (size_t i = 0; i < sizeof(dump_cfg_lines) / sizeof(dump_cfg_lines[0]); i++) {
		int rc = exec_line(d, dump_cfg_lines[i], &rep);
		if (rc)
			fail_msg("'%s': %s", dump_cfg_lines[i], ldmsd_buf_str(&rep.msg));
	}
	snprintf(want, sizeof(want), dump_cfg_expect, (unsigned)duid, (unsigned)dgid, tmpdir);
	assert_string_equal(dump_body(d, &b), want);
	assert_true(test_hook_calls > 0);

	/* the command writes the file; a bad path is an error */
	snprintf(path, sizeof(path), "dump_cfg path=%s/dump.conf", tmpdir);
	assert_int_equal(exec_line(d, path, &rep), 0);
	snprintf(path, sizeof(path), "%s/dump.conf", tmpdir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char file[4096];
	size_t n = fread(file, 1, sizeof(file) - 1, f);
	file[n] = '\0';
	fclose(f);
	assert_non_null(strstr(file, want));
	assert_int_equal(exec_line(d, "dump_cfg path=/nonexistent/dir/x.conf", &rep), -ENOENT);
	assert_non_null(strstr(rep.msg.s, "cannot open '/nonexistent/dir/x.conf'"));

	/* round trip: the dump, minus the test hook's line, recreates the same configuration in a
	 * fresh daemon */
	ldmsd_free(d);
	unsetenv("LDMSD_STATS_T");
	ldms_set_default_authz_set(duid, dgid, dperm);
	char *cut = strstr(file, "prdcr_add name=\"p 1\"");
	assert_non_null(cut);
	*cut = '\0';
	struct ldmsd *d2 = ldmsd_new();
	struct ldmsd_cfg_run *run = ldmsd_cfg_run_new(d2, LDMSD_CFG_STARTUP);
	assert_non_null(run);
	int rc = ldmsd_cfg_run_text(run, "dump.conf", file, strlen(file), &e);
	if (rc)
		fail_msg("%s", e.msg);
	rc = ldmsd_cfg_run_finish(run, &e);
	if (rc)
		fail_msg("%s", e.msg);
	ldmsd_cfg_run_free(run);
	assert_string_equal(dump_body(d2, &b2), want);
	assert_string_equal(getenv("LDMSD_STATS_T"), "v1");

	ldmsd_buf_free(&b);
	ldmsd_buf_free(&b2);
	ldmsd_reply_free(&rep);
	ldmsd_free(d2);
	ldms_set_default_authz_set(duid, dgid, dperm);
}

static void test_dump_attr(void **state)
{
	struct ldmsd_buf b = {0};
	assert_int_equal(ldmsd_dump_line_begin(&b, "config"), 0);
	assert_int_equal(ldmsd_dump_attr(&b, "a", "x y"), 0);
	assert_int_equal(ldmsd_dump_attr(&b, "b", "\"q"), 0);
	assert_int_equal(ldmsd_dump_attr(&b, "kw", NULL), 0);
	assert_int_equal(ldmsd_dump_attr(&b, "e", ""), 0);
	assert_int_equal(ldmsd_dump_line_end(&b), 0);
	assert_string_equal(ldmsd_buf_str(&b), "config a=\"x y\" b=\"\"q\" kw e=\n");
	assert_int_equal(ldmsd_dump_attr(&b, "a", "x\ny"), -EINVAL);
	assert_int_equal(ldmsd_dump_attr(&b, "a b", "x"), -EINVAL);
	ldmsd_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authorize),	 cmocka_unit_test(test_perm_parse),
	    cmocka_unit_test(test_helpers),	 cmocka_unit_test(test_greeting_records),
	    cmocka_unit_test(test_thread_usage), cmocka_unit_test(test_set_stats),
	    cmocka_unit_test(test_set_sec_mod),	 cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_log_status),	 cmocka_unit_test(test_net),
	    cmocka_unit_test(test_dump_cfg),	 cmocka_unit_test(test_dump_attr),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
