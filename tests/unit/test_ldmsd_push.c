/* ldmsd push updaters in one process: a local set served by the daemon's own
 * listener, a producer, an updater with push=onchange and store_csv. Every
 * transaction_end after the registration becomes exactly one CSV row, in order;
 * updtr_stop cancels (the owner stops pushing), updtr_start registers again;
 * push=true delivers only on ldms_xprt_push(); nothing is left behind. */
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

#include <ldms/ldms_set.h>
#include <ldms/ldms_xprt.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

/* libldms test hooks (src/lib/xprt_int.h) */
int xprt_test_live_count(void);
int xprt_test_push_peers(ldms_set_t s);

static char tmpdir[256];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ldmsd_push_XXXXXX");
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
	struct ldms_err e;
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_INTERNAL};
	struct ldmsd_req *r = NULL;
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc)
		return rc;
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static void run(struct ldmsd *d, const char *fmt, ...)
{
	struct ldmsd_reply rep;
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ldmsd_reply_init(&rep);
	int rc = exec_line(d, line, &rep);
	if (rc)
		fprintf(stderr, "%s: %s\n", line, ldmsd_buf_str(&rep.msg));
	assert_int_equal(rc, 0);
	ldmsd_reply_free(&rep);
}

/* The values of the last CSV column, in file order. */
static int csv_values(const char *path, uint64_t *vals, int max)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		char *c = strrchr(line, ',');
		if (c && n < max)
			vals[n] = strtoull(c + 1, NULL, 10);
		n++;
	}
	fclose(f);
	return n;
}

static int wait_rows(const char *path, uint64_t *vals, int max, int want)
{
	int n = 0;
	for (int i = 0; i < 500 && (n = csv_values(path, vals, max)) < want; i++)
		sleep_ms(10);
	return n;
}

static void sample(ldms_set_t s, uint64_t v)
{
	ldms_transaction_begin(s);
	ldms_metric_set_u64(s, 1, v);
	ldms_transaction_end(s);
}

static int push_reg(struct ldmsd *d, const char *prdcr)
{
	struct ldmsd_prdcr *p = ldmsd_prdcr_find(d, prdcr);
	int reg = 0;
	pthread_mutex_lock(&p->lock);
	if (p->n_sets)
		reg = p->sets[0]->push_reg;
	pthread_mutex_unlock(&p->lock);
	return reg;
}

static int wait_peers(ldms_set_t s, int n)
{
	for (int i = 0; i < 500 && xprt_test_push_peers(s) != n; i++)
		sleep_ms(10);
	return xprt_test_push_peers(s) == n;
}

#define NSAMPLES 40

static void test_push_onchange(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldms_err e;
	uint64_t vals[4 * NSAMPLES];
	char csv[600];
	ldms_err_clear(&e);

	struct ldms_schema *sch = ldms_schema_new("pushtest");
	ldms_schema_meta_add(sch, "component_id", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sch, "value", LDMS_V_U64, NULL);
	ldms_set_t s = ldms_set_new("src/pushtest", sch);
	assert_non_null(s);
	ldms_set_producer_name_set(s, "src");
	sample(s, 1);
	assert_int_equal(ldms_set_publish(s), 0);

	run(d, "listen xprt=sock port=0 host=127.0.0.1");
	assert_int_equal(ldmsd_start(d, &e), 0);
	const char *port = TAILQ_FIRST(&d->listeners)->port;
	run(d, "load name=csv plugin=store_csv");
	run(d, "config name=csv path=%s buffer=0", tmpdir);
	run(d, "strgp_add name=st plugin=csv container=push schema=pushtest");
	run(d, "strgp_start name=st");
	run(d, "updtr_add name=u interval=100ms push=onchange");
	run(d, "updtr_prdcr_add name=u regex=^p$");
	run(d, "updtr_start name=u");
	run(d, "prdcr_add name=p host=127.0.0.1 port=%s xprt=sock type=active reconnect=100ms",
	    port);
	run(d, "prdcr_start name=p");

	/* the lookup's first pull stores value 1; then the producer registers */
	snprintf(csv, sizeof(csv), "%s/push/pushtest", tmpdir);
	assert_int_equal(wait_rows(csv, vals, 4 * NSAMPLES, 1), 1);
	assert_true(vals[0] == 1);
	assert_true(wait_peers(s, 1));
	assert_int_equal(push_reg(d, "p"), LDMSD_UPDTR_PUSH_ONCHANGE);

	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	assert_int_equal(exec_line(d, "updtr_status name=u", &rep), 0);
	assert_non_null(strstr(ldmsd_buf_str(&rep.json), "\"mode\":\"Push on Change\""));

	/* every transaction_end is one row, in order, without waiting between them */
	for (int i = 2; i <= NSAMPLES + 1; i++)
		sample(s, (uint64_t)i);
	assert_int_equal(wait_rows(csv, vals, 4 * NSAMPLES, NSAMPLES + 1), NSAMPLES + 1);
	for (int i = 0; i <= NSAMPLES; i++)
		assert_true(vals[i] == (uint64_t)i + 1);
	sleep_ms(300); /* nothing more comes: the updater does not pull */
	assert_int_equal(csv_values(csv, vals, 4 * NSAMPLES), NSAMPLES + 1);

	/* updtr_stop: the owner stops pushing */
	run(d, "updtr_stop name=u");
	assert_true(wait_peers(s, 0));
	for (int i = 0; i < 200 && push_reg(d, "p"); i++)
		sleep_ms(10);
	assert_int_equal(push_reg(d, "p"), 0);
	sample(s, 1000);
	sleep_ms(200);
	assert_int_equal(csv_values(csv, vals, 4 * NSAMPLES), NSAMPLES + 1);

	/* updtr_start: registered again at its next run; pushes resume */
	run(d, "updtr_start name=u");
	assert_true(wait_peers(s, 1));
	sample(s, 1001);
	assert_int_equal(wait_rows(csv, vals, 4 * NSAMPLES, NSAMPLES + 2), NSAMPLES + 2);
	assert_true(vals[NSAMPLES + 1] == 1001);

	/* a meta change travels with the push */
	ldms_metric_set_u64(s, 0, 42);
	sample(s, 1002);
	assert_int_equal(wait_rows(csv, vals, 4 * NSAMPLES, NSAMPLES + 3), NSAMPLES + 3);

	/* the producer stops: the registration ends with the connection */
	run(d, "prdcr_stop name=p");
	assert_true(wait_peers(s, 0));
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
	for (int i = 0; i < 300 && xprt_test_live_count(); i++)
		sleep_ms(10);
	FILE *f = fopen(csv, "r");
	char line[1024], last[1024] = "";
	while (f && fgets(line, sizeof(line), f))
		snprintf(last, sizeof(last), "%s", line);
	if (f)
		fclose(f);
	assert_non_null(strstr(last, ",42,1002"));
	ldms_set_delete(s);
	ldms_schema_delete(sch);
}

static void test_push_on_request(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldms_err e;
	uint64_t vals[16];
	char csv[600];
	ldms_err_clear(&e);

	struct ldms_schema *sch = ldms_schema_new("pushreq");
	ldms_schema_meta_add(sch, "component_id", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sch, "value", LDMS_V_U64, NULL);
	ldms_set_t s = ldms_set_new("src/pushreq", sch);
	sample(s, 1);
	assert_int_equal(ldms_set_publish(s), 0);
	run(d, "listen xprt=sock port=0 host=127.0.0.1");
	assert_int_equal(ldmsd_start(d, &e), 0);
	const char *port = TAILQ_FIRST(&d->listeners)->port;
	run(d, "load name=csv plugin=store_csv");
	run(d, "config name=csv path=%s buffer=0", tmpdir);
	run(d, "strgp_add name=st plugin=csv container=req schema=pushreq");
	run(d, "strgp_start name=st");
	run(d, "updtr_add name=u interval=100ms push=true");
	run(d, "updtr_prdcr_add name=u regex=.*");
	run(d, "updtr_start name=u");
	run(d, "prdcr_add name=q host=127.0.0.1 port=%s xprt=sock type=active reconnect=100ms",
	    port);
	run(d, "prdcr_start name=q");
	snprintf(csv, sizeof(csv), "%s/req/pushreq", tmpdir);
	assert_int_equal(wait_rows(csv, vals, 16, 1), 1);
	assert_true(wait_peers(s, 1));
	assert_int_equal(push_reg(d, "q"), LDMSD_UPDTR_PUSH_REQUEST);
	sample(s, 2);
	sample(s, 3);
	sleep_ms(300);
	assert_int_equal(csv_values(csv, vals, 16), 1); /* not on change */
	assert_int_equal(ldms_xprt_push(s), 1);
	assert_int_equal(wait_rows(csv, vals, 16, 2), 2);
	assert_true(vals[1] == 3);
	ldmsd_free(d);
	ldms_set_delete(s);
	ldms_schema_delete(sch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_push_onchange),
	    cmocka_unit_test(test_push_on_request),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
