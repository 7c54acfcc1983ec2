/* Cluster YAML reader and model builder (maestro.md §3, §4, §8, §12): scalars as text,
 * anchors/aliases/merge keys, located errors for every golden bad-input case, value
 * conventions (intervals, permissions), name/host/port pairing, unknown-key warnings and
 * the seed README's older schema. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_kv.h"
#include "model.h"

static const char *golden_dir(void)
{
	const char *g = getenv("LDMSC_GOLDEN");
	return g ? g : "../shared/golden";
}

static char warnings[8192];

static void collect_warn(void *arg, const char *msg)
{
	size_t l = strlen(warnings);
	snprintf(warnings + l, sizeof(warnings) - l, "%s\n", msg);
}

/* Build a model from text; returns rc, fills err. */
static int build(const char *text, struct maestro_model **m, struct ldms_err *err)
{
	struct cy_doc *doc;
	struct maestro_build_opts o = {.warn = collect_warn};
	memset(err, 0, sizeof(*err));
	warnings[0] = '\0';
	*m = NULL;
	int rc = cy_load_string(text, strlen(text), "t.yaml", &doc, err);
	if (rc)
		return rc;
	rc = cy_legacy_normalize(doc, err);
	if (!rc)
		rc = maestro_model_build(doc, &o, m, err);
	cy_doc_free(doc);
	return rc;
}

static void expect_error(const char *text, int line, const char *substr)
{
	struct maestro_model *m;
	struct ldms_err err;
	int rc = build(text, &m, &err);
	if (rc == 0) {
		maestro_model_free(m);
		fail_msg("accepted, expected error \"%s\":\n%s", substr, text);
	}
	if (!strstr(err.msg, substr) || (line && err.line != line))
		fail_msg("got %d:%d \"%s\", want line %d \"%s\"", err.line, err.col, err.msg, line,
			 substr);
	assert_true(err.line > 0 && err.col > 0);
}

/* ---- YAML reader ------------------------------------------------------------------------------
 */

static void test_scalars_as_text(void **state)
{
	const char *y = "a: true\nb: False\nc: null\nd: ~\ne:\nf: 10002\ng: '  q '\nh: \"x\\ty\"\n"
			"i: 0o777\n";
	struct cy_doc *d;
	struct ldms_err err = {0};
	assert_int_equal(cy_load_string(y, strlen(y), "s.yaml", &d, &err), 0);
	static const char *want[][2] = {{"a", "true"}, {"b", "False"}, {"c", "null"},
					{"d", "~"},    {"e", ""},      {"f", "10002"},
					{"g", "  q "}, {"h", "x\ty"},  {"i", "0o777"}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(cy_str(cy_map_get(d->root, want[i][0])), want[i][1]);
	/* every node knows where it is */
	assert_int_equal(cy_map_get(d->root, "f")->line, 6);
	assert_int_equal(cy_map_get(d->root, "f")->col, 4);
	cy_doc_free(d);
}

static void test_anchors_merge(void **state)
{
	const char *y = "base: &b {x: 1, y: 2}\n"
			"other: &o {y: 20, z: 30}\n"
			"use: *b\n"
			"m1:\n  <<: *b\n  y: 3\n"
			"m2:\n  <<: [*b, *o]\n"
			"m3:\n  '<<': *b\n"
			"dup: {k: 1, j: 2, k: 3}\n";
	struct cy_doc *d;
	struct ldms_err err = {0};
	assert_int_equal(cy_load_string(y, strlen(y), "a.yaml", &d, &err), 0);
	const struct cy_node *r = d->root;
	assert_ptr_equal(cy_map_get(r, "use"), cy_map_get(r, "base")); /* shared */
	const struct cy_node *m1 = cy_map_get(r, "m1");
	assert_int_equal(m1->n, 2);
	assert_string_equal(cy_str(cy_map_get(m1, "x")), "1");
	assert_string_equal(cy_str(cy_map_get(m1, "y")), "3"); /* explicit wins */
	const struct cy_node *m2 = cy_map_get(r, "m2");
	assert_int_equal(m2->n, 3);
	assert_string_equal(cy_str(cy_map_get(m2, "y")), "2"); /* earlier merge wins */
	assert_string_equal(cy_str(cy_map_get(m2, "z")), "30");
	/* a quoted "<<" is an ordinary key */
	assert_non_null(cy_map_get(cy_map_get(r, "m3"), "<<"));
	/* duplicate keys: the last value, at the first position */
	const struct cy_node *dup = cy_map_get(r, "dup");
	assert_int_equal(dup->n, 2);
	assert_string_equal(dup->keys[0]->str, "k");
	assert_string_equal(cy_str(dup->vals[0]), "3");
	cy_doc_free(d);
}

static void load_err(const char *y, int line, int col, const char *substr)
{
	struct cy_doc *d = NULL;
	struct ldms_err err = {0};
	assert_int_not_equal(cy_load_string(y, strlen(y), "e.yaml", &d, &err), 0);
	assert_null(d);
	if (!strstr(err.msg, substr) || err.line != line || (col && err.col != col))
		fail_msg("got %d:%d %s, want %d:%d %s", err.line, err.col, err.msg, line, col,
			 substr);
	assert_string_equal(err.file, "e.yaml");
}

static void test_yaml_errors(void **state)
{
	load_err("a: 1\nb: *nosuch\n", 2, 4, "found undefined alias 'nosuch'");
	load_err("a: &x [1, *x]\n", 1, 11, "recursive alias");
	load_err("a: 1\n---\nb: 2\n", 2, 1, "single document");
	load_err("? [a]\n: 1\n", 1, 3, "mapping keys must be scalars");
	load_err("a:\n  - b\n c: d\n", 3, 2, "invalid indentation");
	load_err("m: {<<: 5}\n", 1, 9, "merge key");
	/* billion laughs */
	char big[4096] = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
	for (char c = 'b'; c <= 'i'; c++) {
		size_t l = strlen(big);
		snprintf(big + l, sizeof(big) - l,
			 "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c - 1, c - 1,
			 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	}
	struct cy_doc *d = NULL;
	struct ldms_err err = {0};
	assert_int_equal(cy_load_string(big, strlen(big), "e.yaml", &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too large"));
	/* a missing file */
	assert_int_equal(cy_load_file("/nonexistent/x.yaml", &d, &err), -ENOENT);
}

/* ---- value conventions -------------------------------------------------------------------------
 */

static void test_intervals(void **state)
{
	static const char *ok[][2] = {
	    {"1.0s", "1000000"},
	    {"8.2s", "8199999"},
	    {"-1ms", "-1000"},
	    {"0.5ms", "500"},
	    {"1ss", "1000000"},
	    {"2h", "7200000000"},
	    {"1d", "86400000000"},
	    {"1.5us", "1"},
	    {"4000000", "4000000"},
	    {"0", "0"},
	    {"0ms", "0"},
	    {" 5s", "5000000"},
	    {"1_000", "1000"},
	    {"1.5S", "1500000"},
	    {"3m", "180000000"},
	    {"1e3us", "1000"},
	    {"${SAMPLE_US}", "${SAMPLE_US}"},
	    {"$X_1", "$X_1"},
	};
	static const char *bad[][2] = {
	    {"1sec", "1sec is not a valid time-interval string"},
	    {"1.5", "invalid literal for int() with base 10: '1.5'"},
	    {"10min", "10min is not a valid time-interval string"},
	    {"1hs", "\"1hs\" is not a valid time-interval string"},
	    {"$1x", "is not a valid environment reference"},
	    {"${A", "is not a valid environment reference"},
	    {"", "invalid literal for int()"},
	    {"infs", "cannot convert float infinity"},
	    {"1__0", "invalid literal"},
	};
	char msg[400];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *out = NULL;
		int rc = maestro_interval_us(ok[i][0], &out, msg, sizeof(msg));
		if (rc || strcmp(out, ok[i][1]))
			fail_msg("%s: rc %d out %s (%s)", ok[i][0], rc, out ? out : "-", msg);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		msg[0] = '\0';
		int rc = maestro_interval_us(bad[i][0], &out, msg, sizeof(msg));
		if (!rc || !strstr(msg, bad[i][1]))
			fail_msg("%s: rc %d msg \"%s\"", bad[i][0], rc, msg);
		assert_null(out);
	}
}

static void test_perms(void **state)
{
	static const char *ok[][2] = {
	    {"rw-r--r--", "0644"}, {"777", "0777"},	{"0600", "0600"},
	    {"7", "07"},	   {"---------", "00"}, {"0", "00"},
	    {"0o777", "0777"},	   {"0O640", "0640"},	{"rw-rw----", "0660"}};
	static const char *bad[] = {"rwxr-----", "0o",	     "8", "0777x",
				    "00777",	 "rw-r--r-", "",  "0o1234"};
	char msg[300];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *out = NULL;
		assert_int_equal(maestro_perm(ok[i][0], &out, msg, sizeof(msg)), 0);
		assert_string_equal(out, ok[i][1]);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		if (maestro_perm(bad[i], &out, msg, sizeof(msg)) != -EINVAL)
			fail_msg("accepted perm \"%s\"", bad[i]);
		assert_non_null(strstr(msg, "is not a valid octal"));
	}
}

/* ---- golden bad-input cases (shared/golden/maestro/2*)
 * ------------------------------------------- */

static void test_golden_bad_inputs(void **state)
{
	/* line of the offending node; the condition text comes from upstream's stderr */
	static const struct {
		const char *dir;
		int line;
	} cases[] = {
	    {"20-bad-yaml-undefined-alias", 25},	{"21-bad-hostlist-unbalanced-bracket", 2},
	    {"22-bad-hostlist-reversed-range", 3},	{"23-bad-hostlist-non-numeric-range", 3},
	    {"24-bad-hostlist-nested-brackets", 2},	{"25-bad-missing-required-daemon-hosts", 2},
	    {"26-bad-undefined-plugin-reference", 34},	{"27-bad-interval-unit-string", 38},
	    {"28-bad-interval-float-without-unit", 31},
	};
	char path[1024], line[1024];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/maestro/%s/generate.stderr", golden_dir(),
			 cases[i].dir);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		/* "ExceptionType: condition" -> condition */
		const char *cond = strstr(line, ": ") + 2;
		snprintf(path, sizeof(path), "%s/maestro/%s/input.yaml", golden_dir(),
			 cases[i].dir);
		struct maestro_model *m = NULL;
		struct ldms_err err = {0};
		int rc = maestro_model_load_file(path, NULL, &m, &err);
		if (!rc || !strstr(err.msg, cond) || err.line != cases[i].line || err.col <= 0 ||
		    strcmp(err.file, path) != 0)
			fail_msg("%s: rc %d at %d:%d \"%s\", want line %d \"%s\"", cases[i].dir, rc,
				 err.line, err.col, err.msg, cases[i].line, cond);
		assert_null(m);
	}
	/* case 20's column is upstream's (the '*') */
	snprintf(path, sizeof(path), "%s/maestro/20-bad-yaml-undefined-alias/input.yaml",
		 golden_dir());
	struct maestro_model *m = NULL;
	struct ldms_err err = {0};
	assert_int_not_equal(maestro_model_load_file(path, NULL, &m, &err), 0);
	assert_int_equal(err.col, 19);
	/* case 29: the seed README's "0o777" is accepted and written as 0777 */
	snprintf(path, sizeof(path), "%s/maestro/29-bad-perm-0o-prefix/input.yaml", golden_dir());
	assert_int_equal(maestro_model_load_file(path, NULL, &m, &err), 0);
	assert_string_equal(m->ugrp[0].u[0].perm, "0777");
	maestro_model_free(m);
}

/* ---- model rules
 * ----------------------------------------------------------------------------------- */

#define BASE_DAEMONS                                                                               \
	"daemons:\n"                                                                               \
	"  - names: &s \"samp-[1-4]\"\n"                                                           \
	"    hosts: \"node-[1-4]\"\n"                                                              \
	"    endpoints:\n"                                                                         \
	"      - names: &sep \"samp-[1-4]-ep\"\n"                                                  \
	"        ports: 10002\n"                                                                   \
	"        maestro_comm: True\n"                                                             \
	"        auth: {name: munge1, plugin: munge}\n"                                            \
	"  - names: &a \"agg-[1-2]\"\n"                                                            \
	"    hosts: \"anode-[1-2]\"\n"                                                             \
	"    endpoints:\n"                                                                         \
	"      - names: \"agg-[1-2]-ep\"\n"                                                        \
	"        ports: 10401\n"

static void test_pairing(void **state)
{
	struct maestro_model *m;
	struct ldms_err err;
	/* string-sorted pairing: n02 <-> h10 */
	const char *y1 = "daemons:\n  - names: \"n[01-12]\"\n    hosts: \"h[1-12]\"\n"
			 "    endpoints:\n      - names: \"n[01-12]-e\"\n        ports: 1\n";
	assert_int_equal(build(y1, &m, &err), 0);
	assert_int_equal(m->n_daemons, 12);
	assert_string_equal(m->daemons[1].name, "n02");
	assert_string_equal(m->daemons[1].addr, "h10");
	assert_string_equal(m->daemons[4].addr, "h2");
	maestro_model_free(m);
	/* 4 names on 2 hosts: each host twice; ports cycled over the names */
	const char *y2 =
	    "daemons:\n  - names: \"d[1-4]\"\n    hosts: \"hx[1-2]\"\n"
	    "    endpoints:\n      - names: \"d[1-4]-e\"\n        ports: [5001, 5002]\n"
	    "        hosts: \"ib[1-2]\"\n";
	assert_int_equal(build(y2, &m, &err), 0);
	static const char *addr[] = {"hx1", "hx1", "hx2", "hx2"};
	static const char *port[] = {"5001", "5002", "5001", "5002"};
	for (int i = 0; i < 4; i++) {
		assert_string_equal(m->daemons[i].addr, addr[i]);
		assert_string_equal(m->daemons[i].ep[0].port, port[i]);
		assert_string_equal(m->daemons[i].ep[0].host, addr[i][2] == '1' ? "ib1" : "ib2");
	}
	maestro_model_free(m);
	/* what upstream silently truncates is an error */
	expect_error("daemons:\n  - names: \"d[1-3]\"\n    hosts: \"h[1-2]\"\n"
		     "    endpoints: [{names: \"d[1-3]-e\", ports: 1}]\n",
		     3, "Error processing regex of hostnames");
	expect_error("daemons:\n  - names: \"samp-[1-4]\"\n    hosts: \"node-[1-8]\"\n"
		     "    endpoints: [{names: \"s[1-4]\", ports: 1}]\n",
		     3, "8 hosts for 4 daemons");
	expect_error("daemons:\n  - names: \"d[1-3]\"\n    hosts: \"h[1-3]\"\n"
		     "    endpoints: [{names: \"e[1-2]\", ports: 1}]\n",
		     4, "2 names for 3 daemons");
	expect_error("daemons:\n  - names: \"d[1-3]\"\n    hosts: \"h[1-3]\"\n"
		     "    endpoints: [{names: \"e[1-3]\", ports: [1, 2]}]\n",
		     4, "does not pair up");
	expect_error(
	    "daemons:\n  - names: d1\n    hosts: h1\n    endpoints: [{names: e1, ports: 1}]\n"
	    "  - names: d1\n    hosts: h2\n    endpoints: [{names: e2, ports: 1}]\n",
	    5, "daemon \"d1\" is defined twice");
	expect_error("daemons:\n  - names: d1\n    hosts: h1\n", 2,
		     "The \"endpoints\" attribute is required in \"daemons\" entry");
	expect_error("daemons:\n  - names: d1\n    hosts: h1\n    endpoints: [{names: e1}]\n", 4,
		     "The \"ports\" attribute is required in \"endpoints\" entry of daemons d1");
	expect_error("aggregators: []\n", 1, "\"daemons\" section is required");
	/* bounds (the fuzz target uses them) */
	struct cy_doc *doc;
	const char *big = "daemons:\n  - names: \"d[1-50]\"\n    hosts: \"h[1-50]\"\n"
			  "    endpoints: [{names: \"e[1-50]\", ports: 1}]\n";
	struct maestro_build_opts lim = {.max_names = 20};
	assert_int_equal(cy_load_string(big, strlen(big), "b.yaml", &doc, &err), 0);
	assert_int_equal(maestro_model_build(doc, &lim, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "results too large"));
	lim.max_names = 0;
	lim.max_daemons = 10;
	assert_int_equal(maestro_model_build(doc, &lim, &m, &err), -E2BIG);
	cy_doc_free(doc);
	expect_error("daemons: {a: 1}\n", 1, "daemons spec must be a list");
	expect_error("", 1, "empty");
}

/* Two ports in one endpoint entry: daemon i gets only the i-th name; a peer naming the
 * others is reported (upstream: KeyError at generation). */
static void test_two_ports_one_entry(void **state)
{
	const char *y =
	    "daemons:\n"
	    "  - names: &s \"sampler-[1-8]\"\n"
	    "    hosts: \"node-[1-8]\"\n"
	    "    endpoints:\n"
	    "      - names: &e \"node-[1-8]-[10002-10003]\"\n"
	    "        ports: \"[10002-10003]\"\n"
	    "  - names: agg\n    hosts: head\n    endpoints: [{names: agg-ep, ports: 1}]\n"
	    "aggregators:\n"
	    "  - daemons: agg\n"
	    "    peers:\n"
	    "      - daemons: *s\n"
	    "        endpoints: *e\n"
	    "        reconnect: 1s\n"
	    "        type: active\n";
	struct maestro_model *m;
	struct ldms_err err;
	expect_error(y, 14, "belongs to daemon \"sampler-2\"");
	/* the daemons alone are fine: sampler-2 gets node-1-10003 */
	char only[512];
	snprintf(only, sizeof(only), "%.*s", (int)(strstr(y, "aggregators:") - y), y);
	assert_int_equal(build(only, &m, &err), 0);
	assert_string_equal(m->daemons[1].name, "sampler-2");
	assert_string_equal(m->daemons[1].ep[0].name, "node-1-10003");
	assert_string_equal(m->daemons[1].ep[0].port, "10003");
	maestro_model_free(m);
}

static void test_peers(void **state)
{
	struct maestro_model *m;
	struct ldms_err err;
	/* peers reference endpoints of the daemons they are mapped to */
	expect_error(BASE_DAEMONS "aggregators:\n  - daemons: *a\n    peers:\n"
				  "      - daemons: *s\n        endpoints: \"samp-[1-4]-XX\"\n"
				  "        reconnect: 1s\n        type: active\n",
		     18, "peer endpoint \"samp-1-XX\" is not an endpoint of daemon \"samp-1\"");
	expect_error(BASE_DAEMONS
		     "aggregators:\n  - daemons: *a\n    peers:\n"
		     "      - daemons: *s\n        endpoints: *sep\n        type: active\n",
		     17, "The \"reconnect\" attribute is required in \"peers\" entry");
	/* comma form with bracketed comma lists (upstream: unbalanced brackets) */
	const char *y = BASE_DAEMONS "aggregators:\n  - daemons: top\n    peers:\n"
				     "      - daemons: \"samp-[1,2,3],samp-4\"\n"
				     "        endpoints: \"samp-[1,2,3]-ep,samp-4-ep\"\n"
				     "        reconnect: 1s\n        type: active\n";
	assert_int_equal(build(y, &m, &err), 0);
	struct maestro_producer_group *pg = maestro_model_producers(m, "top");
	assert_non_null(pg);
	assert_int_equal(pg->n, 4);
	assert_string_equal(pg->p[3].daemon, "samp-4");
	assert_string_equal(pg->p[3].dmn_grp, "samp-4");
	assert_string_equal(pg->p[0].dmn_grp, "samp-[1,2,3]");
	/* `top` is not a daemon: a warning with its location */
	assert_non_null(strstr(warnings, "t.yaml:15:14: warning: aggregator group member \"top\""));
	maestro_model_free(m);
	/* updaters: names, default producers, hostlist producer expansion, mode check */
	const char *u =
	    BASE_DAEMONS "aggregators:\n  - daemons: *a\n    peers:\n"
			 "      - daemons: *s\n        endpoints: *sep\n"
			 "        reconnect: 1s\n        type: active\n"
			 "        updaters:\n"
			 "          - {interval: 1s}\n"
			 "          - {interval: 2s, producers: \"samp-[0-9]+\", mode: push}\n"
			 "          - {interval: 2s, producers: \"samp-1.*\", offset: 0ms}\n";
	assert_int_equal(build(u, &m, &err), 0);
	struct maestro_updater_group *ug = maestro_model_updaters(m, "agg-[1-2]");
	assert_int_equal(ug->n, 3);
	assert_string_equal(ug->u[0].name, "updtr_0");
	assert_string_equal(ug->u[0].mode, "pull");
	assert_int_equal(ug->u[0].n_prod, 1);
	assert_string_equal(ug->u[0].producers[0], ".*");
	assert_int_equal(ug->u[1].n_prod, 10);
	assert_string_equal(ug->u[1].producers[0], "samp-0+");
	assert_string_equal(ug->u[2].producers[0], "samp-1.*");
	assert_string_equal(ug->u[2].offset_us, "0");
	maestro_model_free(m);
	expect_error(BASE_DAEMONS "aggregators:\n  - daemons: *a\n    peers:\n"
				  "      - daemons: *s\n        endpoints: *sep\n"
				  "        reconnect: 1s\n        type: active\n"
				  "        updaters: [{interval: 1s, mode: sometimes}]\n",
		     21, "updater mode \"sometimes\"");
	expect_error(BASE_DAEMONS "aggregators:\n  - daemons: *a\n    peers:\n"
				  "      - daemons: *s\n        endpoints: *sep\n"
				  "        reconnect: 1s\n        type: active\n"
				  "        updaters: [{mode: push}]\n",
		     21, "The \"interval\" attribute is required in \"updaters\" entry");
}

static void test_unknown_keys_and_sections(void **state)
{
	struct maestro_model *m;
	struct ldms_err err;
	const char *y =
	    BASE_DAEMONS "    bogus_daemon_key: zz\n"
			 "samplers:\n  - daemons: *s\n    plugins: [m1]\n    colour: red\n"
			 "plugins:\n  m1: {name: meminfo, interval: 1s, config: [{schema: x}],"
			 " intreval: 2s}\n"
			 "storez: {}\n";
	assert_int_equal(build(y, &m, &err), 0);
	assert_non_null(strstr(warnings, "t.yaml:21:1: warning: unknown key \"storez\""));
	assert_non_null(strstr(warnings, "t.yaml:18:5: warning: unknown key \"colour\""));
	assert_non_null(strstr(warnings, "unknown key \"intreval\""));
	/* a daemon-level unknown key is a daemon option (upstream), not a warning */
	assert_null(strstr(warnings, "bogus_daemon_key"));
	assert_non_null(cy_map_get(m->daemons[4].cli_opt, "bogus_daemon_key"));
	assert_false(m->has_stores);
	assert_true(m->has_samplers);
	maestro_model_free(m);
	/* plugins */
	expect_error(BASE_DAEMONS "samplers:\n  - daemons: *s\n    plugins: [m1, vmstat9]\n"
				  "plugins:\n  m1: {name: meminfo, interval: 1s, config: []}\n",
		     16, "Configuration for plugin instance \"vmstat9\" is not defined");
	expect_error(BASE_DAEMONS "samplers:\n  - daemons: *s\n    plugins: m1\n"
				  "plugins:\n  m1: {name: meminfo, interval: 1s, config: []}\n",
		     16, "must be a list");
	expect_error(BASE_DAEMONS "samplers:\n  - daemons: *s\n    plugins: [m1]\n"
				  "plugins:\n  m1: {name: meminfo, config: []}\n",
		     16, "The \"interval\" attribute is required");
	expect_error(BASE_DAEMONS "plugins:\n  m1: {config: []}\n", 15,
		     "The \"name\" attribute is required in \"plugin\" entry. Error in \"m1\"");
	expect_error(BASE_DAEMONS "plugins:\n  m1: {name: x, config: {a: 1}}\n", 15,
		     "\"config\" must be a list of configuration commands");
	expect_error(BASE_DAEMONS "plugins:\n  m1: {name: x, config: [{a: {b: 1}}]}\n", 15,
		     "config value of \"a\" must be a value or a list");
	expect_error(BASE_DAEMONS "plugins:\n  m1: {name: x, interval: 1sec, config: []}\n", 15,
		     "1sec is not a valid time-interval string");
	/* stores */
	expect_error(BASE_DAEMONS "plugins:\n  p: {name: store_sos, config: []}\n"
				  "stores:\n  s1: {daemons: *a, container: c, plugin: p}\n",
		     17, "The \"schema\" attribute is required in \"store\" entry");
	expect_error(BASE_DAEMONS "plugins:\n  p: {name: store_sos, config: []}\n"
				  "stores:\n  s1: {daemons: *a, schema: m, plugin: p}\n",
		     17, "The \"container\" attribute is required");
	expect_error(BASE_DAEMONS
		     "plugins:\n  p: {name: store_sos, config: []}\n"
		     "stores:\n  s1: {daemons: *a, container: c, decomposition: d.json,"
		     " plugin: p}\n",
		     17, "requires either \"schema\" or \"regex\"");
	expect_error(BASE_DAEMONS
		     "stores:\n  s1: {daemons: *a, container: c, schema: m, plugin: p}\n",
		     15, "Configuration for plugin instance \"p\" is not defined");
	expect_error(BASE_DAEMONS "aggregators:\n  - daemons: *a\n    subscribe: [{regex: x}]\n",
		     16, "must contain either a \"stream\" or \"message_tag\" attribute");
}

/* The seed README's example (older schema) is accepted and translated. */
static void test_seed_readme(void **state)
{
	const char *src = getenv("LDMSC_SRC");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/maestro/seed_readme.yaml", src ? src : ".");
	struct maestro_model *m;
	struct ldms_err err = {0};
	struct maestro_build_opts o = {.warn = collect_warn};
	warnings[0] = '\0';
	if (maestro_model_load_file(path, &o, &m, &err))
		fail_msg("%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	assert_string_equal(warnings, "");
	assert_int_equal(m->n_daemons, 15);
	/* list-form stores with inline plugins -> policies referencing instances */
	assert_int_equal(m->n_stgrp, 1);
	assert_int_equal(m->stgrp[0].n, 4);
	assert_string_equal(m->stgrp[0].s[0].plugin, "store_sos");
	assert_string_equal(m->stgrp[0].s[0].name, "sos-meminfo");
	assert_true(maestro_model_plugin(m, "store_csv") >= 0);
	/* inline sampler plugins -> instances */
	assert_int_equal(m->sgrp[0].n_plugins, 3);
	assert_string_equal(m->sgrp[0].plugins[2], "procstat");
	/* peers without daemons: the endpoints' owners */
	struct maestro_producer_group *pg = maestro_model_producers(m, "l1-aggs-[11-14]");
	assert_int_equal(pg->n, 10);
	assert_string_equal(pg->p[0].daemon, "sampler-1");
	assert_string_equal(pg->p[0].quota, "-1"); /* credits -> quota */
	/* prdcr_listen names -> name; list-form advertise with `to:` */
	assert_string_equal(m->lgrp[0].l[0].name, "node-[1-10]-[10002]");
	struct maestro_advertiser *a = maestro_model_advertiser(m, "sampler-[1-10]");
	assert_non_null(a);
	assert_int_equal(a->hosts_x.count, 4);
	assert_string_equal(cy_str(a->port), "10101");
	assert_string_equal(a->auth.name, "munge1");
	/* the endpoint with a "/" is kept, and escaped in etcd keys */
	assert_string_equal(m->daemons[0].ep[1].name, "node-1-10002/rdma");
	struct maestro_kvlist kv;
	maestro_kvlist_init(&kv);
	assert_int_equal(maestro_model_to_kv(m, "p", &kv, &err), 0);
	int found = 0;
	for (size_t i = 0; i < kv.count; i++)
		if (strcmp(kv.kv[i].key,
			   "/p/daemons/sampler-1/endpoints/node-1-10002%2Frdma/name") == 0) {
			assert_string_equal(kv.kv[i].value, "node-1-10002/rdma");
			found = 1;
		}
	assert_true(found);
	maestro_kvlist_free(&kv);
	maestro_model_free(m);
}

static void test_escape(void **state)
{
	static const char *cases[][2] = {{"a/b", "a%2Fb"},	   {"50%", "50%25"},
					 {"000001", "%3000001"},   {"123456", "%3123456"},
					 {"1234567", "1234567"},   {"12345", "12345"},
					 {"l1-[1-3]", "l1-[1-3]"}, {"", ""}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = maestro_kv_escape(cases[i][0]);
		assert_string_equal(e, cases[i][1]);
		char *u = maestro_kv_unescape(e);
		assert_string_equal(u, cases[i][0]);
		free(e);
		free(u);
	}
	assert_null(maestro_kv_unescape("a%2"));
	assert_null(maestro_kv_unescape("a%zz"));
}

/* A bare CR is a YAML line break: a directive after it is caught by the pre-check
 * with a located message (found by fuzz_cluster_yaml: libfyaml gave no message). */
static void test_cr_line_breaks(void **state)
{
	static const char y[] = "g - daemons:\": e\r%: error: \n s1 \"";
	struct cy_doc *d = NULL;
	struct ldms_err err;
	memset(&err, 0, sizeof(err));
	assert_int_equal(cy_load_string(y, sizeof(y) - 1, "cr.yaml", &d, &err), -EINVAL);
	assert_null(d);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "directive"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars_as_text),
	    cmocka_unit_test(test_anchors_merge),
	    cmocka_unit_test(test_yaml_errors),
	    cmocka_unit_test(test_intervals),
	    cmocka_unit_test(test_perms),
	    cmocka_unit_test(test_golden_bad_inputs),
	    cmocka_unit_test(test_pairing),
	    cmocka_unit_test(test_two_ports_one_entry),
	    cmocka_unit_test(test_peers),
	    cmocka_unit_test(test_unknown_keys_and_sections),
	    cmocka_unit_test(test_seed_readme),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_cr_line_breaks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
