/* Passive and advertised producers, the parts that need no second daemon: CIDR
 * parsing and matching, the prdcr_listen_* commands (validation, status JSON as
 * upstream, start/stop/del), advertiser_add/bridge_add/prdcr_add type=passive and
 * their status, and an advertisement refused by a daemon with no prdcr_listen. */
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
#include <ldms/ldms_xprt.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

static int setup(void **state)
{
	assert_int_equal(ldmsd_cmd_registry_init(), 0);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldms_err e;
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_INTERNAL};
	struct ldmsd_req *r = NULL;
	ldms_err_clear(&e);
	ldmsd_reply_reset(rep);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc)
		return rc;
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static void test_cidr(void **state)
{
	uint8_t net[16];
	int len;

	assert_int_equal(ldmsd_cidr_parse("10.1.0.0/16", net, &len), 0);
	assert_int_equal(len, 112);
	assert_true(ldmsd_cidr_match(net, len, "10.1.200.3"));
	assert_true(ldmsd_cidr_match(net, len, "::ffff:10.1.0.9"));
	assert_false(ldmsd_cidr_match(net, len, "10.2.0.1"));
	assert_false(ldmsd_cidr_match(net, len, "fe80::1"));
	assert_false(ldmsd_cidr_match(net, len, "not an address"));
	assert_int_equal(ldmsd_cidr_parse("127.0.0.1", net, &len), 0); /* a single host */
	assert_int_equal(len, 128);
	assert_true(ldmsd_cidr_match(net, len, "127.0.0.1"));
	assert_false(ldmsd_cidr_match(net, len, "127.0.0.2"));
	assert_int_equal(ldmsd_cidr_parse("0.0.0.0/0", net, &len), 0);
	assert_true(ldmsd_cidr_match(net, len, "192.168.1.1"));
	assert_int_equal(ldmsd_cidr_parse("fd00::/8", net, &len), 0);
	assert_int_equal(len, 8);
	assert_true(ldmsd_cidr_match(net, len, "fdab::7"));
	assert_false(ldmsd_cidr_match(net, len, "fe00::7"));
	assert_false(ldmsd_cidr_match(net, len, "10.0.0.1"));
	assert_int_equal(ldmsd_cidr_parse("10.0.0.0/33", net, &len), -EINVAL);
	assert_int_equal(ldmsd_cidr_parse("10.0.0.0/", net, &len), -EINVAL);
	assert_int_equal(ldmsd_cidr_parse("10.0.0.0/8x", net, &len), -EINVAL);
	assert_int_equal(ldmsd_cidr_parse("::/129", net, &len), -EINVAL);
	assert_int_equal(ldmsd_cidr_parse("host.example/8", net, &len), -EINVAL);
	assert_int_equal(ldmsd_cidr_parse("", net, &len), -EINVAL);
}

static void test_prdcr_listen_cmds(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);

	assert_int_equal(exec_line(d, "prdcr_listen_add name=a regex=[", &rep), -EINVAL);
	assert_non_null(strstr(ldmsd_buf_str(&rep.msg), "'[' is invalid"));
	assert_int_equal(exec_line(d, "prdcr_listen_add name=a ip=10.0.0.0/40", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "prdcr_listen_add name=a type=bogus", &rep), -EINVAL);
	assert_int_equal(
	    exec_line(d, "prdcr_listen_add name=a type=active advertiser_xprt=sock", &rep),
	    -EINVAL);
	assert_non_null(strstr(ldmsd_buf_str(&rep.msg), "'advertiser_port' is required"));
	assert_int_equal(exec_line(d, "prdcr_listen_add name=a regex=^node ip=10.1.0.0/16", &rep),
			 0);
	assert_int_equal(exec_line(d, "prdcr_listen_add name=a", &rep), -EEXIST);
	assert_int_equal(exec_line(d,
				   "prdcr_listen_add name=b type=active advertiser_xprt=sock "
				   "advertiser_port=10444 reconnect=2s rail=2",
				   &rep),
			 0);
	assert_int_equal(exec_line(d, "prdcr_listen_start name=a", &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_listen_start name=nosuch", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "prdcr_listen_status", &rep), 0);
	const char *j = ldmsd_buf_str(&rep.json);
	assert_non_null(strstr(j, "[{\"name\":\"a\",\"state\":\"running\",\"regex\":\"^node\","
				  "\"IP range\":\"10.1.0.0/16\",\"quota\":\""));
	assert_non_null(strstr(j, "\"type\":\"passive\",\"producers\":[]}"));
	assert_non_null(strstr(j, "{\"name\":\"b\",\"state\":\"stopped\",\"regex\":\"-\","
				  "\"IP range\":\"-\""));
	assert_non_null(strstr(j, "\"type\":\"active\",\"xprt\":\"sock\",\"port\":\"10444\","
				  "\"auth_dom\":\"DEFAULT\",\"rail_sz\":\"2\",\"reconnect\":"
				  "\"2000000us\",\"producers\":[]}]"));
	assert_int_equal(exec_line(d, "prdcr_listen_del name=a", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "prdcr_listen_stop name=a", &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_listen_del name=a", &rep), 0);
	assert_int_equal(exec_line(d, "prdcr_listen_del name=a", &rep), -ENOENT);

	/* the producer kinds of the sampler side, and a passive one */
	assert_int_equal(exec_line(d,
				   "advertiser_add name=adv xprt=sock host=127.0.0.1 port=10001 "
				   "reconnect=1s",
				   &rep),
			 0);
	assert_int_equal(
	    exec_line(d, "bridge_add name=br xprt=sock host=127.0.0.1 port=10002 reconnect=1s",
		      &rep),
	    0);
	assert_int_equal(exec_line(d,
				   "prdcr_add name=pas type=passive xprt=sock host=localhost "
				   "reconnect=1s",
				   &rep),
			 0);
	assert_int_equal(exec_line(d, "advertiser_add name=adv2 xprt=sock host=127.0.0.1", &rep),
			 -EINVAL); /* port and reconnect are required */
	assert_int_equal(exec_line(d, "prdcr_status", &rep), 0);
	j = ldmsd_buf_str(&rep.json);
	assert_non_null(strstr(j, "{ \"name\":\"adv\",\"type\":\"advertiser\""));
	assert_non_null(strstr(j, "{ \"name\":\"br\",\"type\":\"bridge\""));
	assert_non_null(strstr(j, "{ \"name\":\"pas\",\"type\":\"passive\",\"host\":\"localhost\","
				  "\"port\":0,"));
	assert_int_equal(exec_line(d, "advertiser_del name=adv", &rep), 0);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* A passive producer waits (DISCONNECTED) without connecting anywhere; an
 * advertiser whose aggregator has no prdcr_listen is told ENOENT and keeps
 * reconnecting. Both daemon objects in this process. */
static void test_refused_advertisement(void **state)
{
	struct ldmsd *agg = ldmsd_new(), *smp = ldmsd_new();
	struct ldmsd_reply rep;
	struct ldms_err e;
	char line[256];
	ldmsd_reply_init(&rep);
	ldms_err_clear(&e);

	assert_int_equal(exec_line(agg, "listen xprt=sock port=0 host=127.0.0.1", &rep), 0);
	assert_int_equal(ldmsd_start(agg, &e), 0);
	const char *port = TAILQ_FIRST(&agg->listeners)->port;
	assert_int_equal(exec_line(agg,
				   "prdcr_add name=pas type=passive xprt=sock host=10.255.0.1 "
				   "reconnect=50ms",
				   &rep),
			 0);
	assert_int_equal(exec_line(agg, "prdcr_start name=pas", &rep), 0);

	/* the "sampler" is not started (one transport engine per process: only the
	 * aggregator owns it); its advertiser then advertises port 0 */
	snprintf(line, sizeof(line),
		 "advertiser_start name=adv xprt=sock host=127.0.0.1 port=%s reconnect=50ms", port);
	assert_int_equal(exec_line(smp, line, &rep), 0);
	struct ldmsd_prdcr *adv = ldmsd_prdcr_find(smp, "adv");
	assert_non_null(adv);
	uint64_t connects = 0;
	for (int i = 0; i < 300 && connects < 3; i++) {
		sleep_ms(10);
		pthread_mutex_lock(&adv->lock);
		connects = adv->connects;
		pthread_mutex_unlock(&adv->lock);
	}
	assert_true(connects >= 3); /* refused, reconnected, advertised again ... */
	/* the sampler's connections did not end up in the passive producer (wrong
	 * address) and nothing was created for them */
	struct ldmsd_prdcr *pas = ldmsd_prdcr_find(agg, "pas");
	pthread_mutex_lock(&pas->lock);
	assert_int_equal(pas->state, LDMSD_PRDCR_DISCONNECTED);
	pthread_mutex_unlock(&pas->lock);
	assert_int_equal(exec_line(agg, "prdcr_stats", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"prdcr_count\":1,"));

	ldmsd_free(smp);
	ldmsd_free(agg);
	ldmsd_reply_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_prdcr_listen_cmds),
	    cmocka_unit_test(test_refused_advertisement),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
