/* Unit tests of maestro's pure rebalance logic (rebalance.h): command lines to requests,
 * state diffs (first configuration, producer moves, sampler schedule changes, config
 * changes, removals), adoption from status replies, and the desired state computed from a
 * cluster YAML for samplers, L1 and L2 aggregators, including a failure and a recovery
 * balanced with the previous assignment (at most ceil(N/A)+1 moves, only prdcr_start and
 * prdcr_stop pushed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ldms/ldms_ctrl.h"
#include "balance.h"
#include "cluster_yaml.h"
#include "coord.h"
#include "etcd_yaml.h"
#include "model.h"
#include "monitor_engine.h"
#include "rebalance.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* the command texts of a list joined by '\n' (static buffer) */
static const char *texts(const struct rb_cmdlist *l)
{
	static char buf[16384];
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < l->n && n < sizeof(buf); i++)
		n +=
		    (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "\n" : "", l->c[i].text);
	return buf;
}

static size_t count_verb(const struct rb_cmdlist *l, uint32_t req)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->c[i].req == req;
	return n;
}

static struct rb_obj *prdcr(struct rb_state *s, const char *name, int run)
{
	struct rb_obj *o = rb_state_put(s, RB_PRDCR, name);
	assert_non_null(o);
	assert_int_equal(rb_obj_set_attr(o, "host", "127.0.0.1"), 0);
	assert_int_equal(rb_obj_set_attr(o, "port", "10001"), 0);
	assert_int_equal(rb_obj_set_attr(o, "xprt", "sock"), 0);
	assert_int_equal(rb_obj_set_attr(o, "type", "active"), 0);
	assert_int_equal(rb_obj_set_attr(o, "reconnect", "1000000"), 0);
	o->run = run;
	return o;
}

static struct rb_obj *sampler(struct rb_state *s, const char *name, const char *interval,
			      const char *cfg)
{
	struct rb_obj *o = rb_state_put(s, RB_SMPLR, name);
	assert_non_null(o);
	assert_int_equal(rb_obj_set_attr(o, "plugin", "meminfo"), 0);
	assert_int_equal(rb_obj_add_item(o, cfg), 0);
	assert_int_equal(rb_obj_set_start(o, "interval", interval), 0);
	o->run = 1;
	return o;
}

static void diff(const struct rb_state *cur, const struct rb_state *want, struct rb_cmdlist *pre,
		 struct rb_cmdlist *post)
{
	rb_cmdlist_init(pre);
	rb_cmdlist_init(post);
	assert_int_equal(rb_diff(cur, want, 0, pre, post), 0);
}

/* ---- commands ---------------------------------------------------------------------------------
 */

static void test_cmd_line(void **st)
{
	struct rb_cmdlist l;
	rb_cmdlist_init(&l);
	assert_int_equal(rb_cmd_add_line(&l,
					 "prdcr_add name=p1 host=h port=10 xprt=sock type=active "
					 "reconnect=1000000 auth=dom",
					 RB_OK_EEXIST),
			 0);
	struct rb_cmd *c = &l.c[0];
	assert_int_equal(c->req, LDMSD_PRDCR_ADD_REQ);
	assert_int_equal(c->n_attr, 7);
	uint32_t ids[] = {LDMSD_ATTR_NAME, LDMSD_ATTR_HOST,	LDMSD_ATTR_PORT, LDMSD_ATTR_XPRT,
			  LDMSD_ATTR_TYPE, LDMSD_ATTR_INTERVAL, LDMSD_ATTR_AUTH};
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(c->attr[i].id, ids[i]);
	assert_string_equal(c->attr[0].value, "p1");
	assert_string_equal(c->attr[5].value, "1000000");
	assert_int_equal(c->ok, RB_OK_EEXIST);

	/* config: everything after the name is the plugin's string, verbatim */
	assert_int_equal(
	    rb_cmd_add_line(&l, "config name=m producer=s1 instance=s1/m  perm=0644", 0), 0);
	c = &l.c[1];
	assert_int_equal(c->req, LDMSD_PLUGN_CONFIG_REQ);
	assert_int_equal(c->n_attr, 2);
	assert_int_equal(c->attr[0].id, LDMSD_ATTR_NAME);
	assert_int_equal(c->attr[1].id, LDMSD_ATTR_STRING);
	assert_string_equal(c->attr[1].value, "producer=s1 instance=s1/m  perm=0644");

	/* auth_add keeps name and plugin, folds the plugin options */
	assert_int_equal(rb_cmd_add_line(&l, "auth_add name=d1 plugin=ovis conf=/etc/secret", 0),
			 0);
	c = &l.c[2];
	assert_int_equal(c->req, LDMSD_AUTH_ADD_REQ);
	assert_int_equal(c->n_attr, 3);
	assert_int_equal(c->attr[2].id, LDMSD_ATTR_STRING);
	assert_string_equal(c->attr[2].value, "conf=/etc/secret");

	/* a keyword and a verb without attributes */
	assert_int_equal(rb_cmd_add_line(&l, "msg_enable", 0), 0);
	assert_int_equal(l.c[3].req, LDMSD_MSG_ENABLE_REQ);
	assert_int_equal(l.c[3].n_attr, 0);
	assert_int_equal(rb_cmd_add_line(&l, "updtr_match_add name=u regex=^a\\.b$ match=inst", 0),
			 0);
	assert_int_equal(l.c[4].attr[2].id, LDMSD_ATTR_MATCH);
	assert_int_equal(rb_cmd_add_line(&l, "no_such_verb a=b", 0), -EINVAL);
	assert_int_equal(l.n, 5);
	rb_cmdlist_free(&l);
}

/* ---- diffs --------------------------------------------------------------------------------------
 */

static void test_first_configuration(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	struct rb_obj *a = rb_state_put(&want, RB_AUTH, "dom");
	rb_obj_set_attr(a, "plugin", "ovis");
	rb_obj_set_attr(a, "conf", "/s");
	prdcr(&want, "p2", 0);
	prdcr(&want, "p1", 1);
	struct rb_obj *u = rb_state_put(&want, RB_UPDTR, "updtr_0_l1");
	rb_obj_set_attr(u, "interval", "1000000");
	rb_obj_add_item(u, "regex=.*");
	rb_obj_add_match(u, "regex=^s1/m$ match=inst");
	u->run = 1;
	sampler(&want, "m", "1000000", "producer=s instance=s/m");
	diff(&cur, &want, &pre, &post);
	assert_int_equal(pre.n, 0);
	assert_string_equal(
	    texts(&post),
	    "auth_add name=dom plugin=ovis conf=/s\n"
	    "load name=m plugin=meminfo\n"
	    "config name=m producer=s instance=s/m\n"
	    "start name=m interval=1000000\n"
	    "prdcr_add name=p1 host=127.0.0.1 port=10001 xprt=sock type=active reconnect=1000000\n"
	    "prdcr_start name=p1\n"
	    "prdcr_add name=p2 host=127.0.0.1 port=10001 xprt=sock type=active reconnect=1000000\n"
	    "updtr_add name=updtr_0_l1 interval=1000000\n"
	    "updtr_prdcr_add name=updtr_0_l1 regex=.*\n"
	    "updtr_match_add name=updtr_0_l1 regex=^s1/m$ match=inst\n"
	    "updtr_start name=updtr_0_l1");
	/* every command knows its object (failures are retried per object) */
	assert_int_equal(post.c[0].kind, RB_AUTH);
	assert_string_equal(post.c[5].key, "p1");
	/* nothing to do once applied */
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	diff(&want, &want, &pre, &post);
	assert_int_equal(pre.n + post.n, 0);
	assert_true(rb_state_equal(&want, &want));
	assert_false(rb_state_equal(&cur, &want));
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&want);
}

static void test_producer_move(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	prdcr(&cur, "p1", 1);
	prdcr(&cur, "p2", 0);
	prdcr(&cur, "p3", 1);
	prdcr(&want, "p1", 0);
	prdcr(&want, "p2", 1);
	prdcr(&want, "p3", 1);
	diff(&cur, &want, &pre, &post);
	assert_string_equal(texts(&pre), "prdcr_stop name=p1");
	assert_string_equal(texts(&post), "prdcr_start name=p2");
	assert_true(pre.c[0].ok & RB_OK_EBUSY);
	assert_true(post.c[0].ok & RB_OK_EBUSY);
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&want);
}

static void test_sampler_changes(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	sampler(&cur, "m", "1000000", "producer=s instance=s/m");
	/* schedule only: stop and start with the new interval, nothing reloaded */
	struct rb_obj *o = sampler(&want, "m", "2000000", "producer=s instance=s/m");
	rb_obj_set_start(o, "offset", "100000");
	diff(&cur, &want, &pre, &post);
	assert_string_equal(texts(&pre), "stop name=m");
	assert_string_equal(texts(&post), "start name=m interval=2000000 offset=100000");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&want);
	/* configuration: unload and load again */
	rb_state_init(&want);
	sampler(&want, "m", "1000000", "producer=s instance=s/m2");
	diff(&cur, &want, &pre, &post);
	assert_string_equal(texts(&pre), "stop name=m\nterm name=m");
	assert_string_equal(texts(&post), "load name=m plugin=meminfo\n"
					  "config name=m producer=s instance=s/m2\n"
					  "start name=m interval=1000000");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&want);
	rb_state_free(&cur);
}

static void test_removals_and_permanent(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	prdcr(&cur, "gone", 1);
	prdcr(&cur, "stopped", 0);
	struct rb_obj *a = rb_state_put(&cur, RB_AUTH, "dom");
	rb_obj_set_attr(a, "plugin", "munge");
	struct rb_obj *l = rb_state_put(&cur, RB_LISTEN, "411");
	rb_obj_set_attr(l, "xprt", "sock");
	struct rb_obj *s = rb_state_put(&cur, RB_SUB, ".* stream=k");
	rb_obj_set_attr(s, "regex", ".*");
	rb_obj_set_attr(s, "stream", "k");
	rb_obj_set_attr(s, "rx_rate", "-1");
	/* auth domains and listeners stay; a changed auth domain cannot be changed */
	a = rb_state_put(&want, RB_AUTH, "dom");
	rb_obj_set_attr(a, "plugin", "ovis");
	diff(&cur, &want, &pre, &post);
	assert_string_equal(texts(&pre), "prdcr_unsubscribe regex=.* stream=k\n"
					 "prdcr_stop name=gone\nprdcr_del name=gone\n"
					 "prdcr_del name=stopped");
	assert_int_equal(post.n, 0);
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	/* keep_unknown: an adopted daemon's foreign objects are left alone */
	rb_cmdlist_init(&pre);
	rb_cmdlist_init(&post);
	assert_int_equal(rb_diff(&cur, &want, 1, &pre, &post), 0);
	assert_int_equal(pre.n + post.n, 0);
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&want);
}

static struct rb_obj *store(struct rb_state *s, const char *cfg)
{
	struct rb_obj *pi = rb_state_put(s, RB_STPI, "csv");
	rb_obj_set_attr(pi, "plugin", "store_csv");
	rb_obj_add_item(pi, cfg);
	struct rb_obj *g = rb_state_put(s, RB_STRGP, "pol");
	rb_obj_set_attr(g, "plugin", "csv");
	rb_obj_set_attr(g, "container", "c");
	rb_obj_set_attr(g, "schema", "meminfo");
	rb_obj_set_attr(g, "_plugin", cfg);
	rb_obj_add_item(g, "regex=.*");
	g->run = 1;
	return g;
}

static void test_store_plugin_change(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	store(&cur, "path=/a");
	store(&want, "path=/b");
	diff(&cur, &want, &pre, &post);
	/* the policy goes before its plugin, comes back after it; _plugin is never sent */
	assert_string_equal(texts(&pre), "strgp_stop name=pol\nstrgp_del name=pol\nterm name=csv");
	assert_string_equal(texts(&post),
			    "load name=csv plugin=store_csv\n"
			    "config name=csv path=/b\n"
			    "strgp_add name=pol plugin=csv container=c schema=meminfo\n"
			    "strgp_prdcr_add name=pol regex=.*\n"
			    "strgp_start name=pol");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&want);
}

static void test_updater_matches(void **st)
{
	struct rb_state cur, want;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&want);
	struct rb_obj *u = rb_state_put(&cur, RB_UPDTR, "u");
	rb_obj_set_attr(u, "interval", "1000000");
	rb_obj_add_match(u, "regex=^a$ match=inst");
	u->run = 1;
	u = rb_state_put(&want, RB_UPDTR, "u");
	rb_obj_set_attr(u, "interval", "1000000");
	rb_obj_add_match(u, "regex=^b$ match=inst");
	u->run = 1;
	diff(&cur, &want, &pre, &post);
	assert_string_equal(texts(&pre), "updtr_stop name=u\nupdtr_del name=u");
	assert_string_equal(texts(&post), "updtr_add name=u interval=1000000\n"
					  "updtr_match_add name=u regex=^b$ match=inst\n"
					  "updtr_start name=u");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&want);
}

/* balancing by set: losing sets restarts the producer there, gaining sets does not */
static void test_sets_shrink(void **st)
{
	struct rb_state cur, grow, shrink;
	struct rb_cmdlist pre, post;
	rb_state_init(&cur);
	rb_state_init(&grow);
	rb_state_init(&shrink);
	rb_obj_set_attr(prdcr(&cur, "p", 1), RB_SETS_ATTR, "s/a\ns/b");
	rb_obj_set_attr(prdcr(&grow, "p", 1), RB_SETS_ATTR, "s/a\ns/b\ns/c");
	rb_obj_set_attr(prdcr(&shrink, "p", 1), RB_SETS_ATTR, "s/b");
	diff(&cur, &grow, &pre, &post);
	assert_int_equal(pre.n + post.n, 0);
	assert_false(rb_state_equal(&cur, &grow));
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	diff(&cur, &shrink, &pre, &post);
	assert_string_equal(texts(&pre), "prdcr_stop name=p");
	assert_string_equal(texts(&post), "prdcr_start name=p");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&cur);
	rb_state_free(&grow);
	rb_state_free(&shrink);
}

static void test_restore(void **st)
{
	struct rb_state a, b;
	rb_state_init(&a);
	rb_state_init(&b);
	prdcr(&a, "p", 1);
	prdcr(&b, "p", 0);
	prdcr(&b, "q", 1);
	/* after a failed stop of p and a failed add of q, b must look like a for them */
	assert_int_equal(rb_state_restore(&b, &a, RB_PRDCR, "p"), 0);
	assert_int_equal(rb_state_restore(&b, &a, RB_PRDCR, "q"), 0);
	assert_true(rb_state_equal(&a, &b));
	struct rb_state c;
	assert_int_equal(rb_state_copy(&c, &b), 0);
	assert_true(rb_state_equal(&c, &b));
	rb_state_remove(&c, RB_PRDCR, "p");
	assert_int_equal(c.n, 0);
	rb_state_free(&a);
	rb_state_free(&b);
	rb_state_free(&c);
}

static void test_adopt(void **st)
{
	struct rb_state want, got;
	rb_state_init(&want);
	prdcr(&want, "p1", 0);
	prdcr(&want, "p2", 1);
	prdcr(&want, "p3", 1);
	sampler(&want, "m", "1000000", "x=y");
	struct rb_obj *a = rb_state_put(&want, RB_AUTH, "dom");
	rb_obj_set_attr(a, "plugin", "none");
	struct rb_observed obs = {
	    .prdcr_status = "[{\"name\":\"p1\",\"state\":\"CONNECTED\"},"
			    "{\"name\":\"p2\",\"state\":\"STOPPED\"},"
			    "{\"name\":\"other\",\"state\":\"CONNECTED\"}]",
	    .updtr_status = "[]",
	    .strgp_status = NULL,
	    .plugn_status = "[{\"name\":\"m\",\"plugin\":\"meminfo\"}]",
	};
	assert_int_equal(rb_adopt(&obs, &want, &got), 0);
	/* p1 runs (maestro wants it stopped), p2 stopped, p3 absent; the sampler adopted
	 * as wanted; auth (not listed by any status request) absent */
	assert_int_equal(got.n, 3);
	assert_int_equal(rb_state_find(&got, RB_PRDCR, "p1")->run, 1);
	assert_int_equal(rb_state_find(&got, RB_PRDCR, "p2")->run, 0);
	assert_null(rb_state_find(&got, RB_PRDCR, "p3"));
	assert_null(rb_state_find(&got, RB_PRDCR, "other"));
	assert_non_null(rb_state_find(&got, RB_SMPLR, "m"));
	struct rb_cmdlist pre, post;
	diff(&got, &want, &pre, &post);
	assert_string_equal(texts(&pre), "prdcr_stop name=p1");
	assert_string_equal(texts(&post), "auth_add name=dom plugin=none\n"
					  "prdcr_start name=p2\n"
					  "prdcr_add name=p3 host=127.0.0.1 port=10001 xprt=sock "
					  "type=active reconnect=1000000\n"
					  "prdcr_start name=p3");
	rb_cmdlist_free(&pre);
	rb_cmdlist_free(&post);
	rb_state_free(&got);
	obs.updtr_status = "not json";
	assert_int_equal(rb_adopt(&obs, &want, &got), -EINVAL);
	rb_state_free(&want);
}

static int n_running;
static void count_running(const char *name, void *arg)
{
	n_running++;
	assert_string_not_equal(name, "stopped");
}

static void test_prdcr_running(void **st)
{
	n_running = 0;
	assert_int_equal(rb_prdcr_running("[{\"name\":\"a\",\"state\":\"CONNECTING\"},"
					  "{\"name\":\"stopped\",\"state\":\"STOPPED\"},"
					  "{\"name\":\"b\",\"state\":\"DISCONNECTED\"},"
					  "{\"name\":\"stopped\",\"state\":\"STANDBY\"}]",
					  count_running, NULL),
			 0);
	assert_int_equal(n_running, 2);
	assert_int_equal(rb_prdcr_running("{}", count_running, NULL), -EINVAL);
}

static void test_regex_exact(void **st)
{
	char *r = rb_regex_exact("node-1/meminfo.x[1]");
	assert_string_equal(r, "^node-1/meminfo\\.x\\[1\\]$");
	free(r);
}

/* ---- desired state from a cluster YAML
 * ------------------------------------------------------------ */

static const char cluster[] = "daemons:\n"
			      "  - names: &samp \"samp-[1-9]\"\n"
			      "    hosts: \"127.0.0.1\"\n"
			      "    endpoints:\n"
			      "      - names: &samp_ep \"samp-[1-9]-ep\"\n"
			      "        ports: \"[10001-10009]\"\n"
			      "        maestro_comm: true\n"
			      "        xprt: sock\n"
			      "  - names: &l1 \"l1-[1-3]\"\n"
			      "    hosts: \"127.0.0.1\"\n"
			      "    endpoints:\n"
			      "      - names: &l1_ep \"l1-[1-3]-ep\"\n"
			      "        ports: \"[10101-10103]\"\n"
			      "        maestro_comm: true\n"
			      "        xprt: sock\n"
			      "      - names: \"l1-[1-3]-rdma\"\n"
			      "        ports: \"[10201-10203]\"\n"
			      "        xprt: rdma\n"
			      "        auth: { name: ovis1, plugin: ovis, conf: /etc/secret }\n"
			      "  - names: &l2 \"l2\"\n"
			      "    hosts: \"127.0.0.1\"\n"
			      "    endpoints:\n"
			      "      - names: \"l2-ep\"\n"
			      "        ports: \"10301\"\n"
			      "        maestro_comm: true\n"
			      "aggregators:\n"
			      "  - daemons: *l1\n"
			      "    peers:\n"
			      "      - daemons: *samp\n"
			      "        endpoints: *samp_ep\n"
			      "        reconnect: 1s\n"
			      "        type: active\n"
			      "        updaters:\n"
			      "          - mode: pull\n"
			      "            interval: 1s\n"
			      "            offset: 200ms\n"
			      "  - daemons: *l2\n"
			      "    peers:\n"
			      "      - daemons: *l1\n"
			      "        endpoints: *l1_ep\n"
			      "        reconnect: 1s\n"
			      "        type: active\n"
			      "        updaters:\n"
			      "          - mode: pull\n"
			      "            interval: 1s\n"
			      "            offset: 400ms\n"
			      "    subscribe:\n"
			      "      - stream: kokkos\n"
			      "        regex: .*\n"
			      "plugins:\n"
			      "  meminfo1:\n"
			      "    name: meminfo\n"
			      "    interval: 1s\n"
			      "    config:\n"
			      "      - schema: meminfo\n"
			      "        perm: \"0644\"\n"
			      "  csv1:\n"
			      "    name: store_csv\n"
			      "    config:\n"
			      "      - path: /tmp/csv\n"
			      "        buffer: 0\n"
			      "samplers:\n"
			      "  - daemons: *samp\n"
			      "    plugins: [ meminfo1 ]\n"
			      "stores:\n"
			      "  mem:\n"
			      "    daemons: *l2\n"
			      "    plugin: csv1\n"
			      "    container: c\n"
			      "    schema: meminfo\n";

static struct maestro_model *load_model(void)
{
	struct cy_doc *doc = NULL;
	struct ldms_err err = {0};
	struct maestro_model *m = NULL;
	struct maestro_build_opts bo = {0};
	int rc = cy_load_string(cluster, strlen(cluster), "cluster.yaml", &doc, &err);
	if (rc)
		fail_msg("yaml: %s", err.msg);
	rc = maestro_model_build(doc, &bo, &m, &err);
	if (rc)
		fail_msg("model: %s", err.msg);
	cy_doc_free(doc);
	return m;
}

static size_t pgrp_of(const struct maestro_model *m, const char *group)
{
	for (size_t g = 0; g < m->n_pgrp; g++)
		if (!strcmp(m->pgrp[g].group, group))
			return g;
	fail_msg("no producer group %s", group);
	return 0;
}

static void test_desired_sampler(void **st)
{
	struct maestro_model *m = load_model();
	struct rb_assign a;
	struct rb_state s;
	assert_int_equal(rb_assign_new(m, &a), 0);
	long d = maestro_model_daemon(m, "samp-1");
	assert_true(d >= 0);
	assert_int_equal(rb_desired(m, &a, (size_t)d, &s), 0);
	assert_int_equal(s.n, 1);
	struct rb_obj *o = rb_state_find(&s, RB_SMPLR, "meminfo1");
	assert_non_null(o);
	assert_int_equal(o->n_l, 1);
	assert_string_equal(o->l[0],
			    "producer=samp-1 instance=samp-1/meminfo1 schema=meminfo perm=0644");
	assert_string_equal(o->s[0].v, "1000000");
	rb_state_free(&s);
	rb_assign_free(&a);
	maestro_model_free(m);
}

/* a fresh split, then l1-2 fails, then it recovers: only prdcr_start/stop are pushed */
static void test_desired_failover(void **st)
{
	struct maestro_model *m = load_model();
	struct rb_assign a;
	assert_int_equal(rb_assign_new(m, &a), 0);
	size_t g = pgrp_of(m, "l1-[1-3]");
	const struct maestro_producer_group *pg = &m->pgrp[g];
	assert_int_equal(pg->n, 9);
	unsigned char alive[3] = {1, 1, 1};
	long home[9];
	struct balance_stats bs;
	assert_int_equal(balance_dist_list(9, 3, home), 0);
	assert_int_equal(balance_by_producer(9, 3, alive, a.prdcr[g], home, a.prdcr[g], &bs), 0);
	assert_int_equal(bs.moved, 0);

	long l1[3];
	struct rb_state before[3], after[3];
	for (int k = 0; k < 3; k++) {
		char n[8];
		snprintf(n, sizeof(n), "l1-%d", k + 1);
		l1[k] = maestro_model_daemon(m, n);
		assert_int_equal(rb_desired(m, &a, (size_t)l1[k], &before[k]), 0);
	}
	/* every L1 holds all 9 producers, 3 running; one updater; the rdma listener with its
	 * auth domain */
	size_t running = 0;
	for (int k = 0; k < 3; k++) {
		size_t np = 0;
		for (size_t i = 0; i < before[k].n; i++) {
			const struct rb_obj *o = &before[k].o[i];
			if (o->kind == RB_PRDCR) {
				np++;
				running += o->run;
				assert_string_equal(rb_obj_attr(o, "reconnect"), "1000000");
			}
		}
		assert_int_equal(np, 9);
	}
	assert_int_equal(running, 9);
	struct rb_obj *u = rb_state_find(&before[0], RB_UPDTR, "updtr_0_l1-1");
	assert_non_null(u);
	assert_string_equal(rb_obj_attr(u, "offset"), "200000");
	assert_null(rb_obj_attr(u, "push"));
	struct rb_obj *ls = rb_state_find(&before[1], RB_LISTEN, "10202");
	assert_non_null(ls);
	assert_string_equal(rb_obj_attr(ls, "xprt"), "rdma");
	assert_string_equal(rb_obj_attr(ls, "auth"), "ovis1");
	assert_non_null(rb_state_find(&before[1], RB_AUTH, "ovis1"));

	/* l1-2 fails */
	long prev[9];
	memcpy(prev, a.prdcr[g], sizeof(prev));
	alive[1] = 0;
	assert_int_equal(balance_by_producer(9, 3, alive, a.prdcr[g], home, a.prdcr[g], &bs), 0);
	assert_true(bs.moved <= 4);
	size_t starts = 0, stops = 0;
	for (int k = 0; k < 3; k += 2) {
		struct rb_cmdlist pre, post;
		assert_int_equal(rb_desired(m, &a, (size_t)l1[k], &after[k]), 0);
		diff(&before[k], &after[k], &pre, &post);
		assert_int_equal(pre.n, 0);
		starts += count_verb(&post, LDMSD_PRDCR_START_REQ);
		assert_int_equal(count_verb(&post, LDMSD_PRDCR_START_REQ), post.n);
		rb_cmdlist_free(&pre);
		rb_cmdlist_free(&post);
	}
	assert_int_equal(starts, bs.moved);
	assert_int_equal(starts, 3);
	/* recovery: l1-2 comes back empty and takes back at most ceil(9/3) producers */
	alive[1] = 1;
	memcpy(prev, a.prdcr[g], sizeof(prev));
	assert_int_equal(balance_by_producer(9, 3, alive, a.prdcr[g], home, a.prdcr[g], &bs), 0);
	assert_true(bs.moved <= 4);
	starts = stops = 0;
	for (int k = 0; k < 3; k++) {
		struct rb_cmdlist pre, post;
		struct rb_state now, empty;
		rb_state_init(&empty);
		assert_int_equal(rb_desired(m, &a, (size_t)l1[k], &now), 0);
		diff(k == 1 ? &empty : &after[k], &now, &pre, &post);
		stops += count_verb(&pre, LDMSD_PRDCR_STOP_REQ);
		starts += count_verb(&post, LDMSD_PRDCR_START_REQ);
		if (k != 1)
			assert_int_equal(pre.n + post.n,
					 count_verb(&pre, LDMSD_PRDCR_STOP_REQ) +
					     count_verb(&post, LDMSD_PRDCR_START_REQ));
		else
			assert_int_equal(count_verb(&post, LDMSD_PRDCR_ADD_REQ), 9);
		rb_cmdlist_free(&pre);
		rb_cmdlist_free(&post);
		rb_state_free(&now);
	}
	assert_int_equal(stops, bs.moved);
	assert_int_equal(starts, bs.moved);
	assert_int_equal(bs.moved, 3);
	for (int k = 0; k < 3; k++) {
		rb_state_free(&before[k]);
		if (k != 1)
			rb_state_free(&after[k]);
	}
	rb_assign_free(&a);
	maestro_model_free(m);
}

static void test_desired_l2_and_sets(void **st)
{
	struct maestro_model *m = load_model();
	struct rb_assign a;
	assert_int_equal(rb_assign_new(m, &a), 0);
	size_t g2 = pgrp_of(m, "l2");
	for (size_t p = 0; p < m->pgrp[g2].n; p++)
		a.prdcr[g2][p] = 0;
	long d = maestro_model_daemon(m, "l2");
	struct rb_state s;
	assert_int_equal(rb_desired(m, &a, (size_t)d, &s), 0);
	struct rb_obj *p = rb_state_find(&s, RB_PRDCR, "l1-2-ep");
	assert_non_null(p);
	assert_int_equal(p->run, 1);
	assert_string_equal(rb_obj_attr(p, "port"), "10102");
	struct rb_obj *pi = rb_state_find(&s, RB_STPI, "csv1");
	assert_non_null(pi);
	assert_string_equal(pi->l[0], "path=/tmp/csv buffer=0");
	struct rb_obj *sg = rb_state_find(&s, RB_STRGP, "mem");
	assert_non_null(sg);
	assert_string_equal(rb_obj_attr(sg, "container"), "c");
	assert_string_equal(sg->l[0], "regex=.*");
	struct rb_obj *sub = rb_state_find(&s, RB_SUB, ".* stream=kokkos");
	assert_non_null(sub);
	assert_string_equal(rb_obj_attr(sub, "rx_rate"), "-1");
	rb_state_free(&s);

	/* by set: l1-1 runs every producer with one of its sets and matches exactly them */
	size_t g = pgrp_of(m, "l1-[1-3]");
	struct rb_setassign *sa = calloc(1, sizeof(*sa));
	sa->n = 2;
	sa->name = calloc(2, sizeof(char *));
	sa->name[0] = strdup("samp-1/meminfo1");
	sa->name[1] = strdup("samp-1/vmstat");
	sa->prdcr = calloc(2, sizeof(size_t));
	sa->agg = calloc(2, sizeof(long));
	sa->weight = calloc(2, sizeof(uint64_t));
	sa->agg[0] = 0;
	sa->agg[1] = 1;
	a.sets[g] = sa;
	struct rb_state s1, s2;
	assert_int_equal(rb_desired(m, &a, (size_t)maestro_model_daemon(m, "l1-1"), &s1), 0);
	assert_int_equal(rb_desired(m, &a, (size_t)maestro_model_daemon(m, "l1-2"), &s2), 0);
	assert_int_equal(rb_state_find(&s1, RB_PRDCR, "samp-1-ep")->run, 1);
	assert_int_equal(rb_state_find(&s2, RB_PRDCR, "samp-1-ep")->run, 1);
	assert_int_equal(rb_state_find(&s1, RB_PRDCR, "samp-2-ep")->run, 0);
	assert_string_equal(rb_obj_attr(rb_state_find(&s1, RB_PRDCR, "samp-1-ep"), RB_SETS_ATTR),
			    "samp-1/meminfo1");
	struct rb_obj *u1 = rb_state_find(&s1, RB_UPDTR, "updtr_0_l1-1");
	assert_int_equal(u1->n_m, 1);
	assert_string_equal(u1->m[0], "regex=^samp-1/meminfo1$ match=inst");
	struct rb_obj *u2 = rb_state_find(&s2, RB_UPDTR, "updtr_0_l1-2");
	assert_string_equal(u2->m[0], "regex=^samp-1/vmstat$ match=inst");
	rb_state_free(&s1);
	rb_state_free(&s2);
	rb_assign_free(&a);
	maestro_model_free(m);
}

/* ---- several instances: who is who, who gets what ------------------------------------------ */

static void test_coord_pure(void **st)
{
	assert_int_equal(coord_unit_owner(0, 2), 0);
	assert_int_equal(coord_unit_owner(1, 2), 1);
	assert_int_equal(coord_unit_owner(2, 2), 0);
	assert_int_equal(coord_unit_owner(5, 3), 2);
	assert_int_equal(coord_unit_owner(0, 0), -1);
	static const char y[] = "members:\n  - host: 127.0.0.1\n    port: 2379\n"
				"maestro_members:\n  - host: a\n    port: 4411\n"
				"  - host: b\n    port: 4411\n  - host: b\n    port: 4412\n";
	struct etcd_yaml ey;
	struct ldms_err err = {0};
	char *id = NULL;
	assert_int_equal(etcd_yaml_parse(y, strlen(y), "etcd.yaml", &ey, &err), 0);
	assert_int_equal(coord_self_id(&ey, "b:4412", &id, &err), 0);
	assert_string_equal(id, "b:4412");
	free(id);
	assert_int_equal(coord_self_id(&ey, "c:1", &id, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "is not in the maestro_members list"));
	/* without --member the host name decides, and a host listed twice is an error */
	assert_int_equal(coord_self_id(&ey, NULL, &id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "b appeared more than one time"));
	etcd_yaml_free(&ey);

	/* units: aggregator groups then sampler groups; a daemon's unit is its first group */
	struct maestro_model *m = load_model();
	char **units = NULL;
	size_t n = 0;
	assert_int_equal(engine_units(m, &units, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(units[0], "a:l1-[1-3]");
	assert_string_equal(units[1], "a:l2");
	assert_string_equal(units[2], "s:samp-[1-9]");
	for (size_t i = 0; i < n; i++)
		free(units[i]);
	free(units);
	char buf[64];
	assert_int_equal(
	    engine_daemon_unit(m, (size_t)maestro_model_daemon(m, "l1-2"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a:l1-[1-3]");
	assert_int_equal(
	    engine_daemon_unit(m, (size_t)maestro_model_daemon(m, "samp-3"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "s:samp-[1-9]");
	maestro_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmd_line),
	    cmocka_unit_test(test_first_configuration),
	    cmocka_unit_test(test_producer_move),
	    cmocka_unit_test(test_sampler_changes),
	    cmocka_unit_test(test_removals_and_permanent),
	    cmocka_unit_test(test_store_plugin_change),
	    cmocka_unit_test(test_updater_matches),
	    cmocka_unit_test(test_sets_shrink),
	    cmocka_unit_test(test_restore),
	    cmocka_unit_test(test_adopt),
	    cmocka_unit_test(test_prdcr_running),
	    cmocka_unit_test(test_regex_exact),
	    cmocka_unit_test(test_desired_sampler),
	    cmocka_unit_test(test_desired_failover),
	    cmocka_unit_test(test_desired_l2_and_sets),
	    cmocka_unit_test(test_coord_pure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
