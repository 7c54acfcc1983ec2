/* Control client end to end on loopback against an in-process ldmsd_request server
 * built from the codec's server half (reassembler + reply helpers): version probe and
 * id-table selection, single- and multi-record replies, errors, async requests,
 * timeouts and connection loss. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ldms/ldms_ctrl.h"
#include "ldms/ldms_xprt.h"

static const char *srv_version = "4.5.3";
static uint32_t last_wire_id;
static char big_json[300000];
static char port_s[16];
static struct ldms_listener *lis;

static int srv_send(void *arg, const void *rec, size_t len)
{
	return ldms_xprt_send(arg, rec, len);
}

static void serve(ldms_t x, struct ldms_ctrl_msg *m)
{
	size_t max = ldms_xprt_msg_max(x);
	uint32_t no = ldms_ctrl_msg_no(m), id = ldms_ctrl_msg_req_id(m);
	char txt[256];
	last_wire_id = id;
	switch (id) {
	case LDMSD_VERSION_REQ:
		snprintf(txt, sizeof(txt), "{\"LDMSD Version\":\"%s\"}", srv_version);
		ldms_ctrl_send_rsp_str(no, 0, txt, max, srv_send, x);
		break;
	case LDMSD_CFG_CNTR_REQ:
		ldms_ctrl_send_rsp_str(no, 0, "0", max, srv_send, x);
		break;
	case LDMSD_PRDCR_START_REQ: {
		const char *n = ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_NAME);
		if (n && strcmp(n, "nosuch") == 0)
			ldms_ctrl_send_rsp_str(no, ENOENT, "The producer specified does not exist.",
					       max, srv_send, x);
		else
			ldms_ctrl_send_rsp_str(no, 0, NULL, max, srv_send, x);
		break;
	}
	case LDMSD_PRDCR_STATUS_REQ: /* larger than one transport message */
		ldms_ctrl_send_rsp_json(no, 0, big_json, strlen(big_json), max, srv_send, x);
		break;
	case LDMSD_PLUGN_STATUS_REQ: {
		static const char js[] =
		    "[{\"name\":\"meminfo\",\"plugin\":\"meminfo\",\"type\":\"sampler[M]\","
		    "\"libpath\":\"prefix/lib/ovis-ldms/libmeminfo.so\"}]";
		ldms_ctrl_send_rsp_json(no, 0, js, sizeof(js) - 1, max, srv_send, x);
		break;
	}
	case LDMSD_GREETING_REQ: /* never answered: timeout test */
		break;
	case LDMSD_EXIT_DAEMON_REQ:
		ldms_xprt_close(x);
		break;
	default:
		ldms_ctrl_send_rsp_str(no, ENOSYS, "unknown request", max, srv_send, x);
	}
}

static void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	struct ldms_ctrl_reasm *r = ldms_xprt_ctx_get(x);
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		ldms_xprt_ctx_set(x, ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 0));
		break;
	case LDMS_XPRT_EVENT_RECV: {
		struct ldms_ctrl_msg *m = NULL;
		struct ldms_ctrl_rec_hdr h;
		int rc = ldms_ctrl_reasm_feed(r, e->data, e->data_len, &m, &h);
		if (rc && h.marker == LDMS_CTRL_MARKER)
			ldms_ctrl_send_rsp_str(h.msg_no, (uint32_t)-rc, "bad request",
					       ldms_xprt_msg_max(x), srv_send, x);
		if (m) {
			serve(x, m);
			ldms_ctrl_msg_free(m);
		}
		break;
	}
	case LDMS_XPRT_EVENT_DISCONNECTED:
		ldms_ctrl_reasm_free(r);
		ldms_xprt_ctx_set(x, NULL);
		break;
	default:
		break;
	}
}

static int setup(void **state)
{
	struct ldms_err err = {0};
	struct ldms_auth_cfg a = {0};
	assert_int_equal(ldms_auth_cfg_init(&a, "none", 0, NULL, &err), 0);
	struct ldms_xprt_opts o = {.recv_quota = -1, .rate_limit = -1};
	lis = ldms_listen("sock", "127.0.0.1", "0", &a, &o, srv_cb, NULL, &err);
	assert_non_null(lis);
	snprintf(port_s, sizeof(port_s), "%d", ldms_listener_port(lis));
	ldms_auth_cfg_free(&a);
	size_t n = 0;
	n += (size_t)sprintf(big_json, "[");
	for (int i = 0; n < sizeof(big_json) - 64; i++)
		n += (size_t)sprintf(big_json + n, "%s{\"name\":\"p%06d\"}", i ? "," : "", i);
	sprintf(big_json + n, "]");
	return 0;
}

static int teardown(void **state)
{
	ldms_listener_close(lis);
	return 0;
}

static struct ldms_ctrl_client *conn(void)
{
	struct ldms_err err = {0};
	struct ldms_ctrl_client *c =
	    ldms_ctrl_client_connect("127.0.0.1", port_s, "sock", NULL, 5000, &err);
	if (!c)
		fail_msg("connect: %s", err.msg);
	return c;
}

static void test_basic(void **state)
{
	struct ldms_ctrl_client *c = conn();
	struct ldms_ctrl_msg *req, *rsp;
	assert_int_equal(ldms_ctrl_client_ver(c), LDMS_CTRL_V_MAIN);
	assert_string_equal(ldms_ctrl_client_peer_version(c), "{\"LDMSD Version\":\"4.5.3\"}");

	req = ldms_ctrl_req_new(LDMSD_PRDCR_START_REQ);
	ldms_ctrl_req_attr_add(req, LDMSD_ATTR_NAME, "nosuch");
	assert_int_equal(ldms_ctrl_request(c, req, &rsp, 5000), 0);
	assert_int_equal(ldms_ctrl_msg_rsp_err(rsp), ENOENT);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "The producer specified does not exist.");
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_msg_free(req);

	/* a reply split over several records */
	req = ldms_ctrl_req_new(LDMSD_PRDCR_STATUS_REQ);
	assert_int_equal(ldms_ctrl_request(c, req, &rsp, 5000), 0);
	assert_int_equal(ldms_ctrl_msg_rsp_err(rsp), 0);
	assert_string_equal(ldms_ctrl_msg_text(rsp), big_json);
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_msg_free(req);

	/* no answer -> timeout; the connection stays usable */
	req = ldms_ctrl_req_new(LDMSD_GREETING_REQ);
	assert_int_equal(ldms_ctrl_request(c, req, &rsp, 200), -ETIMEDOUT);
	assert_null(rsp);
	ldms_ctrl_msg_free(req);
	req = ldms_ctrl_req_new(LDMSD_CFG_CNTR_REQ);
	assert_int_equal(ldms_ctrl_request(c, req, &rsp, 5000), 0);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "0");
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_msg_free(req);
	ldms_ctrl_client_close(c);
}

struct async_res {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int n, status[4];
	uint32_t err[4];
};

static void async_cb(struct ldms_ctrl_client *cli, int status, struct ldms_ctrl_msg *rsp, void *arg)
{
	struct async_res *r = arg;
	pthread_mutex_lock(&r->lock);
	r->status[r->n] = status;
	r->err[r->n] = rsp ? ldms_ctrl_msg_rsp_err(rsp) : 0;
	r->n++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lock);
	ldms_ctrl_msg_free(rsp);
}

static void test_async_and_loss(void **state)
{
	struct ldms_ctrl_client *c = conn();
	struct async_res r = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct ldms_ctrl_msg *a = ldms_ctrl_req_new(LDMSD_PRDCR_START_REQ);
	ldms_ctrl_req_attr_add(a, LDMSD_ATTR_NAME, "p1");
	assert_int_equal(ldms_ctrl_request_async(c, a, async_cb, &r), 0);
	struct ldms_ctrl_msg *g = ldms_ctrl_req_new(LDMSD_GREETING_REQ); /* never answered */
	assert_int_equal(ldms_ctrl_request_async(c, g, async_cb, &r), 0);
	pthread_mutex_lock(&r.lock);
	while (r.n < 1)
		pthread_cond_wait(&r.cv, &r.lock);
	pthread_mutex_unlock(&r.lock);
	assert_int_equal(r.status[0], 0);
	assert_int_equal(r.err[0], 0);

	/* the server drops the connection: the outstanding request fails */
	struct ldms_ctrl_msg *x = ldms_ctrl_req_new(LDMSD_EXIT_DAEMON_REQ), *rsp = NULL;
	assert_int_equal(ldms_ctrl_request(c, x, &rsp, 5000), -ECONNRESET);
	pthread_mutex_lock(&r.lock);
	while (r.n < 2)
		pthread_cond_wait(&r.cv, &r.lock);
	pthread_mutex_unlock(&r.lock);
	assert_int_equal(r.status[1], -ECONNRESET);
	assert_int_equal(ldms_ctrl_client_status(c), -ECONNRESET);
	assert_int_equal(ldms_ctrl_request(c, x, &rsp, 5000), -ECONNRESET);
	ldms_ctrl_msg_free(a);
	ldms_ctrl_msg_free(g);
	ldms_ctrl_msg_free(x);
	ldms_ctrl_client_close(c);
}

static void test_v44_peer(void **state)
{
	srv_version = "4.4.6";
	struct ldms_ctrl_client *c = conn();
	srv_version = "4.5.3";
	assert_int_equal(ldms_ctrl_client_ver(c), LDMS_CTRL_V4_4);
	struct ldms_ctrl_msg *m = ldms_ctrl_req_new(LDMSD_ADVERTISER_ADD_REQ), *rsp;
	assert_int_equal(ldms_ctrl_request(c, m, &rsp, 5000), 0);
	/* this server decodes with the 4.5 table: it sees 4.4's wire id */
	assert_int_equal(last_wire_id, LDMSD_BRIDGE_ADD_REQ);
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_msg_free(m);
	m = ldms_ctrl_req_new(LDMSD_QGROUP_INFO_REQ);
	assert_int_equal(ldms_ctrl_request(c, m, &rsp, 5000), -ENOTSUP);
	ldms_ctrl_msg_free(m);
	ldms_ctrl_client_close(c);
}

static void test_connect_fail(void **state)
{
	struct ldms_err err = {0};
	/* a port nobody listens on (the listener's port after closing it is racy; use
	 * port 1, privileged and closed on test machines) */
	struct ldms_ctrl_client *c =
	    ldms_ctrl_client_connect("127.0.0.1", "1", "sock", NULL, 2000, &err);
	assert_null(c);
	assert_true(err.rc < 0);
	assert_int_equal(ldms_ctrl_ver_from_json("{\"LDMSD Version\":\"4.4.2\"}"), LDMS_CTRL_V4_4);
	assert_int_equal(ldms_ctrl_ver_from_json("{\"LDMSD Version\":\"4.5.1.210-279bd\"}"),
			 LDMS_CTRL_V_MAIN);
	assert_int_equal(ldms_ctrl_ver_from_json("garbage"), LDMS_CTRL_V4_5);
	assert_int_equal(ldms_ctrl_ver_from_json(NULL), LDMS_CTRL_V4_5);
}

/* run the ldmsd_controller binary against the in-process server */
static int run_tool(const char *args, char *out, size_t len)
{
	char cmd[1024];
	const char *b = getenv("LDMSC_BUILD");
	snprintf(cmd, sizeof(cmd), "%s/bin/ldmsd_controller -h 127.0.0.1 -p %s -x sock -a none %s",
		 b ? b : "build", port_s, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_tool(void **state)
{
	char out[8192];
	assert_int_equal(run_tool("--cmd 'prdcr_start name=nosuch'", out, sizeof(out)), 1);
	assert_string_equal(
	    out, "Error 2: Error starting prdcr nosuch: The producer specified does not exist.\n");
	assert_int_equal(run_tool("--cmd 'prdcr_start name=p1'", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(run_tool("--cmd version", out, sizeof(out)), 0);
	assert_string_equal(out, "LDMSD Version: 4.5.3\n");
	assert_int_equal(run_tool("--cmd plugn_status", out, sizeof(out)), 0);
	assert_string_equal(
	    out, "Config Name              Plugin Name              Type         libpath\n"
		 "------------------------ ------------------------ ------------ ------------\n"
		 "meminfo                  meminfo                  sampler[M]   "
		 "prefix/lib/ovis-ldms/libmeminfo.so\n");
	assert_int_equal(run_tool("--json --cmd plugn_status", out, sizeof(out)), 0);
	assert_string_equal(out, "{\"rc\": 0, \"msg\": [{\"name\": \"meminfo\", \"plugin\": "
				 "\"meminfo\", \"type\": \"sampler[M]\", \"libpath\": "
				 "\"prefix/lib/ovis-ldms/libmeminfo.so\"}]}\n");
	/* several commands from stdin; one failure makes the exit status 1 */
	assert_int_equal(run_tool("<<'EOF'\n# comment\nsay hi\nprdcr_start name=p1\n"
				  "nosuch_verb a=b\nEOF",
				  out, sizeof(out)),
			 1);
	assert_string_equal(out, "hi\n*** Unknown syntax: nosuch_verb a=b\n");
	assert_int_equal(run_tool("--cmd 'help prdcr_start'", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "name="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),    cmocka_unit_test(test_async_and_loss),
	    cmocka_unit_test(test_v44_peer), cmocka_unit_test(test_connect_fail),
	    cmocka_unit_test(test_tool),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
