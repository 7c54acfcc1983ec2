/* Unit tests of the verbs that had no handler: udata/udata_regex on a real
 * sampler set, oneshot (now and a later second), logrotate, example, the legacy
 * stream verbs on the message service, updtr_task and the time statistics, all
 * through the config-file command path with the errors naming the attribute. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_msg.h>
#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"
#include "ldmsd_verbs.h"

static char tmpdir[256];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ldmsd_verbs_XXXXXX");
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

static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = 3};
	struct ldms_err e;
	struct ldmsd_req *r = NULL;
	snprintf(o.file, sizeof(o.file), "v.conf");
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc) {
		rep->rc = rc;
		ldmsd_buf_reset(&rep->msg);
		ldmsd_buf_printf(&rep->msg, "%s", e.msg);
		return rc;
	}
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static const char *msg(struct ldmsd_reply *rep)
{
	return ldmsd_buf_str(&rep->msg);
}

/* ---- udata / udata_regex ------------------------------------------------------------------ */
static struct ldmsd *sampler_daemon(struct ldmsd_reply *rep, const char *inst)
{
	char line[300];
	struct ldmsd *d = ldmsd_new();
	assert_non_null(d);
	assert_int_equal(exec_line(d, "load name=mi plugin=meminfo", rep), 0);
	snprintf(line, sizeof(line), "config name=mi producer=p1 instance=%s", inst);
	assert_int_equal(exec_line(d, line, rep), 0);
	return d;
}

static uint64_t udata_of(const char *inst, const char *metric)
{
	ldms_set_t s = ldms_set_by_name(inst);
	assert_non_null(s);
	int i = ldms_metric_by_name(s, metric);
	assert_true(i >= 0);
	uint64_t u = ldms_metric_user_data_get(s, i);
	ldms_set_put(s);
	return u;
}

static void test_udata(void **state)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = sampler_daemon(&rep, "vt/mi");

	assert_int_equal(exec_line(d, "udata set=vt/mi metric=MemFree udata=77", &rep), 0);
	assert_int_equal(udata_of("vt/mi", "MemFree"), 77);
	/* instance= is the wire name of set= */
	assert_int_equal(exec_line(d, "udata instance=vt/mi metric=MemFree udata=0x10", &rep), 0);
	assert_int_equal(udata_of("vt/mi", "MemFree"), 16);

	assert_int_equal(exec_line(d, "udata set=vt/mi metric=MemFree", &rep), -EINVAL);
	assert_string_equal(msg(&rep), "command 'udata' requires attribute 'udata'");
	assert_int_equal(exec_line(d, "udata metric=MemFree udata=1", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'set'"));
	assert_int_equal(exec_line(d, "udata set=vt/mi metric=MemFree udata=-3", &rep), -EINVAL);
	assert_string_equal(msg(&rep),
			    "udata: attribute 'udata' must be an unsigned integer, not '-3'");
	assert_int_equal(exec_line(d, "udata set=vt/mi metric=Nope udata=1", &rep), -ENOENT);
	assert_string_equal(msg(&rep), "udata: metric 'Nope' not found in set 'vt/mi'");
	assert_int_equal(exec_line(d, "udata set=nope metric=MemFree udata=1", &rep), -ENOENT);
	assert_string_equal(msg(&rep), "udata: set 'nope' not found");

	/* udata_regex: base, base+incr, ... in metric order */
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=^Mem base=100 incr=5", &rep), 0);
	assert_int_equal(udata_of("vt/mi", "MemTotal"), 100);
	assert_int_equal(udata_of("vt/mi", "MemFree"), 105);
	assert_int_equal(udata_of("vt/mi", "MemAvailable"), 110);
	assert_int_equal(udata_of("vt/mi", "Buffers"), 0);
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=^Buffers$ base=9", &rep), 0);
	assert_int_equal(udata_of("vt/mi", "Buffers"), 9);
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=^Zzz base=1", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=( base=1", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'regex'"));
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=x base=1 incr=y", &rep),
			 -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'incr'"));
	assert_int_equal(exec_line(d, "udata_regex set=vt/mi regex=x", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'base'"));
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- oneshot ----------------------------------------------------------------------------------
 */
static void test_oneshot_time_parse(void **state)
{
	uint64_t at, now = 1700000000123456ull;
	assert_int_equal(ldmsd_oneshot_time_parse("now", now, &at), 0);
	assert_true(at == now);
	assert_int_equal(ldmsd_oneshot_time_parse("now+3", now, &at), 0);
	assert_true(at == now + 3000000ull);
	assert_int_equal(ldmsd_oneshot_time_parse("1800000000", now, &at), 0);
	assert_true(at == 1800000000000000ull);
	assert_int_equal(ldmsd_oneshot_time_parse("now+", now, &at), -EINVAL);
	assert_int_equal(ldmsd_oneshot_time_parse("nowx", now, &at), -EINVAL);
	assert_int_equal(ldmsd_oneshot_time_parse("12x", now, &at), -EINVAL);
	assert_int_equal(ldmsd_oneshot_time_parse("-5", now, &at), -EINVAL);
	assert_int_equal(ldmsd_oneshot_time_parse("", now, &at), -EINVAL);
}

static uint32_t sample_sec(const char *inst)
{
	ldms_set_t s = ldms_set_by_name(inst);
	assert_non_null(s);
	uint32_t sec = ldms_transaction_timestamp_get(s).sec;
	ldms_set_put(s);
	return sec;
}

static void test_oneshot(void **state)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = sampler_daemon(&rep, "vt/os");

	assert_int_equal(sample_sec("vt/os"), 0); /* never sampled */
	assert_int_equal(exec_line(d, "oneshot name=mi time=now", &rep), 0);
	uint32_t first = sample_sec("vt/os");
	assert_true(first > 0);

	/* a later second: sampled by the scheduler at that second, not before */
	time_t t0 = time(NULL);
	char line[100];
	snprintf(line, sizeof(line), "oneshot name=mi time=%lld", (long long)t0 + 2);
	assert_int_equal(exec_line(d, line, &rep), 0);
	assert_int_equal(exec_line(d, "term name=mi", &rep), -EBUSY); /* pending */
	uint32_t sec = 0;
	for (int i = 0; i < 1000 && (sec = sample_sec("vt/os")) == first; i++)
		sleep_ms(10);
	assert_true(sec >= (uint32_t)t0 + 2);

	assert_int_equal(exec_line(d, "oneshot name=mi time=100", &rep), -EINVAL);
	assert_string_equal(msg(&rep), "oneshot: time 100 has passed");
	assert_int_equal(exec_line(d, "oneshot name=mi time=soon", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'time'"));
	assert_int_equal(exec_line(d, "oneshot name=nope time=now", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "oneshot name=mi", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'time'"));
	/* a pending oneshot does not outlive the daemon */
	assert_int_equal(exec_line(d, "oneshot name=mi time=now+3600", &rep), 0);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- logrotate ------------------------------------------------------------------------------- */
static void test_logrotate(void **state)
{
	struct ldmsd_reply rep;
	char path[300], line[1600], rotated[320];
	struct ldms_err e;
	struct stat st;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = ldmsd_new();

	assert_int_equal(exec_line(d, "logrotate", &rep), -EINVAL); /* stdout */
	assert_non_null(strstr(msg(&rep), "standard output"));

	snprintf(path, sizeof(path), "%s/d.log", tmpdir);
	ldms_err_clear(&e);
	assert_int_equal(ldmsd_setting_set(d, LDMSD_S_LOG_FILE, path, "test", &e), 0);
	ldms_log(LDMS_LCRITICAL, "vtest", "before rotation");
	time_t t0 = time(NULL);
	assert_int_equal(exec_line(d, "logrotate", &rep), 0);
	ldms_log(LDMS_LCRITICAL, "vtest", "after rotation");
	/* the old file is <path>-<epoch>, holding the old line; the new one the new */
	int found = 0;
	for (time_t t = t0; t <= t0 + 2 && !found; t++) {
		snprintf(rotated, sizeof(rotated), "%s-%lld", path, (long long)t);
		found = stat(rotated, &st) == 0;
	}
	assert_true(found);
	snprintf(line, sizeof(line),
		 "grep -q 'before rotation' '%s' && ! grep -q after '%s' && "
		 "grep -q 'after rotation' '%s' && ! grep -q before '%s'",
		 rotated, rotated, path, path);
	assert_int_equal(system(line), 0);
	/* twice within a second: nothing is overwritten */
	assert_int_equal(exec_line(d, "logrotate", &rep), 0);
	assert_int_equal(stat(rotated, &st), 0);
	assert_int_equal(exec_line(d, "logrotate x=1", &rep), -EINVAL);
	ldms_log_open(NULL);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- example ------------------------------------------------------------------------------------
 */
static void test_example(void **state)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = ldmsd_new();
	assert_int_equal(exec_line(d, "example name=a\"b regex=.* test", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "[{\"attr_len\":4,\"attr_id\":1,\"attr_value\":\"a\\\"b\"},"
			    "{\"attr_len\":3,\"attr_id\":4,\"attr_value\":\".*\"},"
			    "{\"attr_len\":1,\"attr_id\":24,\"attr_value\":\"\"}]");
	assert_int_equal(exec_line(d, "example", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[]");
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- legacy streams
 * ------------------------------------------------------------------------------ */
static json_t *reply_json(struct ldmsd_reply *rep)
{
	json_t *j = json_loads(ldmsd_buf_str(&rep->json), 0, NULL);
	assert_non_null(j);
	return j;
}

static json_int_t jint(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(json_object_get(json_object_get(o, a), b), c);
	assert_non_null(v);
	return json_integer_value(v);
}

static void test_streams(void **state)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = ldmsd_new();

	assert_int_equal(exec_line(d, "subscribe name=vt_s1", &rep), 0);
	assert_int_equal(exec_line(d, "subscribe name=vt_s1", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "publish name=vt_s1 string=hello", &rep), 0);
	assert_string_equal(msg(&rep), "ACK");
	assert_int_equal(exec_line(d, "stream_publish name=vt_s1 json={\"a\":1}", &rep), 0);
	assert_int_equal(exec_line(d, "publish name=vt_s2 string=x type=json", &rep), 0);
	assert_int_equal(exec_line(d, "publish name=vt_s1", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "'string' or 'json'"));
	assert_int_equal(exec_line(d, "publish name=vt_s1 string=a type=bogus", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'type'"));
	assert_int_equal(exec_line(d, "publish string=a", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'name'"));

	assert_int_equal(exec_line(d, "stream_status regex=^vt_", &rep), 0);
	json_t *j = reply_json(&rep);
	json_t *s1 = json_object_get(j, "vt_s1");
	assert_string_equal(json_string_value(json_object_get(s1, "mode")), "subscribed");
	assert_int_equal(jint(j, "vt_s1", "pub", "count"), 2);
	assert_int_equal(jint(j, "vt_s1", "pub", "total_bytes"), 6 + 8); /* NULs included */
	assert_int_equal(jint(j, "vt_s1", "recv", "count"), 2);
	assert_int_equal(jint(j, "vt_s1", "recv", "total_bytes"), 14);
	assert_true(jint(j, "vt_s1", "recv", "first_ts") > 1600000000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "vt_s2"), "mode")),
			    "not subscribed");
	assert_int_equal(jint(j, "_OVERALL_", "pub", "count"), 3);
	assert_non_null(json_object_get(s1, "publishers"));
	json_decref(j);

	assert_int_equal(exec_line(d, "stream_status stream=vt_s2 reset=true", &rep), 0);
	j = reply_json(&rep);
	assert_null(json_object_get(j, "vt_s1"));
	assert_int_equal(jint(j, "vt_s2", "pub", "count"), 1);
	json_decref(j);
	assert_int_equal(exec_line(d, "stream_status stream=vt_s2", &rep), 0);
	j = reply_json(&rep);
	assert_int_equal(json_object_size(json_object_get(json_object_get(j, "vt_s2"), "pub")), 0);
	json_decref(j);
	assert_int_equal(exec_line(d, "stream_status reset=maybe", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'reset'"));

	assert_int_equal(exec_line(d, "stream_client_dump", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"match\":\"vt_s1\""));
	assert_int_equal(exec_line(d, "unsubscribe name=vt_s1", &rep), 0);
	assert_int_equal(exec_line(d, "stream_unsubscribe name=vt_s1", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "stream_client_dump", &rep), 0);
	assert_null(strstr(ldmsd_buf_str(&rep.json), "\"match\":\"vt_s1\""));
	assert_int_equal(exec_line(d, "stream_status stream=vt_s1", &rep), 0);
	j = reply_json(&rep);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "vt_s1"), "mode")),
			    "not subscribed");
	json_decref(j);
	/* stream_new: listed before anything is published */
	assert_int_equal(exec_line(d, "stream_new name=vt_new", &rep), 0);
	assert_int_equal(exec_line(d, "stream_status stream=vt_new", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "{\"vt_new\":{\"mode\":\"not subscribed\",\"pub\":{},\"recv\":{},"
			    "\"publishers\":{}},\"_OVERALL_\":{\"pub\":{},\"recv\":{}}}");
	assert_int_equal(exec_line(d, "stream_new", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'name'"));
	/* a subscription outlives nothing: shutdown closes it */
	assert_int_equal(exec_line(d, "subscribe name=vt_s3", &rep), 0);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- updtr_task, time statistics, prdcr_stream_status (no traffic) ----------------------- */
static void test_agg_queries(void **state)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	struct ldmsd *d = ldmsd_new();

	assert_int_equal(exec_line(d, "updtr_add name=u1 interval=2s", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_add name=u2 interval=1s offset=100ms", &rep), 0);
	assert_int_equal(exec_line(d, "updtr_task name=u1", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[{\"interval_us\":\"2000000\",\"offset_us\":"
						      "\"None\",\"default_task\":\"true\"}]");
	assert_int_equal(exec_line(d, "updtr_task name=u2", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[{\"interval_us\":\"1000000\",\"offset_us\":"
						      "\"100000\",\"default_task\":\"true\"}]");
	assert_int_equal(exec_line(d, "updtr_task name=nope", &rep), -ENOENT);
	assert_string_equal(msg(&rep), "updtr_task: updater 'nope' not found");
	assert_int_equal(exec_line(d, "updtr_task", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "requires attribute 'name'"));

	assert_int_equal(exec_line(d, "update_time_stats name=u2", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json),
			    "{\"u2\":{\"histogram\":{\"n_warmup\":100,\"warmup_count\":0,"
			    "\"warmup_in_progress\":true}}}");
	assert_int_equal(exec_line(d, "update_time_stats", &rep), 0);
	json_t *j = reply_json(&rep);
	assert_int_equal(json_object_size(j), 2);
	json_decref(j);
	assert_int_equal(exec_line(d, "update_time_stats name=zz", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "update_time_stats reset=x", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'reset'"));

	assert_int_equal(
	    exec_line(d, "strgp_add name=s1 plugin=csv container=c schema=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "store_time_stats", &rep), 0);
	assert_string_equal(
	    ldmsd_buf_str(&rep.json),
	    "{\"s1\":{\"hist_store_time\":{\"n_warmup\":200,\"warmup_count\":0,"
	    "\"warmup_in_progress\":true},\"producers\":{},\"schemas\":{},\"sets\":{},"
	    "\"threads\":{}}}");
	assert_int_equal(exec_line(d, "store_time_stats name=s2", &rep), -ENOENT);

	assert_int_equal(exec_line(d,
				   "prdcr_add name=vp1 host=127.0.0.1 port=1 xprt=sock type=active "
				   "reconnect=1s",
				   &rep),
			 0);
	assert_int_equal(exec_line(d, "prdcr_subscribe regex=^vp stream=app.x rx_rate=100", &rep),
			 0);
	assert_int_equal(exec_line(d, "prdcr_subscribe regex=.* message_tag=t2", &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_stream_status regex=vp1", &rep), 0);
	assert_string_equal(
	    ldmsd_buf_str(&rep.json),
	    "[{\"name\":\"vp1\",\"state\":\"STOPPED\",\"subscriptions\":["
	    "{\"message_tag\":\"app.x\",\"is_regex\":1,\"rx_rate\":100},"
	    "{\"message_tag\":\"t2\",\"is_regex\":0,\"rx_rate\":-1}],\"conn\":{}}]");
	assert_int_equal(exec_line(d, "prdcr_stream_status regex=nomatch", &rep), 0);
	assert_string_equal(ldmsd_buf_str(&rep.json), "[]");
	assert_int_equal(exec_line(d, "prdcr_stream_status regex=(", &rep), -EINVAL);
	assert_non_null(strstr(msg(&rep), "attribute 'regex'"));
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udata),	cmocka_unit_test(test_oneshot_time_parse),
	    cmocka_unit_test(test_oneshot),	cmocka_unit_test(test_logrotate),
	    cmocka_unit_test(test_example),	cmocka_unit_test(test_streams),
	    cmocka_unit_test(test_agg_queries),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
