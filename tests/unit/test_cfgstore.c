/* Unit tests of the configuration store without a server: the etcd key layout (prefix
 * normalisation, generation directories, the sweep ranges of the switch, transaction
 * batching), the checks on configurations, and the local-file back end (write, read,
 * generations, refusal of foreign files, watch). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
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
#include "etcd_kv.h"

static void test_root(void **state)
{
	struct ldms_err err;
	char *r;
	static const char *const ok[][2] = {
	    {"pfx", "/pfx"}, {"/pfx", "/pfx"},	      {"pfx/", "/pfx"},
	    {"a/b", "/a/b"}, {"unknown", "/unknown"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cfgstore_etcd_root(ok[i][0], &r, &err), 0);
		assert_string_equal(r, ok[i][1]);
		free(r);
	}
	static const char *const bad[] = {"", "/", "//", "a//b", "//a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ldms_err_clear(&err);
		assert_int_equal(cfgstore_etcd_root(bad[i], &r, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "prefix"));
	}
	assert_int_equal(cfgstore_etcd_root(NULL, &r, &err), -EINVAL);
}

static void test_gen(void **state)
{
	char *d = cfgstore_etcd_gen_dir("/pfx", 42);
	assert_string_equal(d, "/pfx/g/000000000042/");
	free(d);
	uint64_t g;
	assert_int_equal(cfgstore_etcd_parse_gen("42", 2, &g), 0);
	assert_int_equal(g, 42);
	assert_int_equal(cfgstore_etcd_parse_gen("999999999999", 12, &g), 0);
	static const char *const bad[] = {"", "0", "-1", "4 2", "1000000000000", "x", "1.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cfgstore_etcd_parse_gen(bad[i], strlen(bad[i]), &g), -EINVAL);
}

static int in_ranges(const struct cfgstore_etcd_range *r, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, r[i].key) >= 0 && strcmp(key, r[i].end) < 0)
			return 1;
	return 0;
}

static void test_sweep(void **state)
{
	struct cfgstore_etcd_range r[5];
	size_t n;
	assert_int_equal(cfgstore_etcd_sweep_ranges("/pfx", 7, r, &n), 0);
	assert_int_equal(n, 5);
	/* kept: the pointer keys, the counter, generation 7 and newer ones (loads in flight),
	 * the daemon's run-time state under /pfx/maestro/, and everything outside /pfx/ */
	static const char *const keep[] = {
	    "/pfx/generation",
	    "/pfx/last_updated",
	    "/pfx/g/next",
	    "/pfx/g/000000000007/daemons/a/addr",
	    "/pfx/g/000000000008/x",
	    "/pfx/g/000000000123/x",
	    "/pfx",
	    "/pfx0",
	    "/pfx2/daemons/a/addr",
	    "/pfx-old/x",
	    "/pf",
	    "/",
	    "/pfw/z",
	};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (in_ranges(r, n, keep[i]))
			fail_msg("would delete %s", keep[i]);
	/* deleted: older generations, upstream-layout keys, anything else under /pfx/ */
	static const char *const gone[] = {
	    "/pfx/",
	    "/pfx/g/000000000006/daemons/a/addr",
	    "/pfx/g/000000000001/x",
	    "/pfx/daemons/samp-1/addr",
	    "/pfx/aggregators/agg-[1-2]/agg-1/state",
	    "/pfx/updaters/agg/updtr_0/interval",
	    "/pfx/plugins/meminfo1/interval",
	    "/pfx/g",
	    "/pfx/g0",
	    "/pfx/gen",
	    "/pfx/generation2",
	    "/pfx/last",
	    "/pfx/last_updated/x",
	    "/pfx/zzz",
	    "/pfx/maestro",
	    "/pfx/maestro0",
	    "/pfx/maestr",
	    "/pfx/m",
	    "/pfx/producers/agg/samp-1-ep/name",
	    "/pfx/samplers/s/daemons",
	    "/pfx/\xff",
	};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (!in_ranges(r, n, gone[i]))
			fail_msg("would keep %s", gone[i]);
	cfgstore_etcd_sweep_free(r, n);
}

static void test_batch(void **state)
{
	struct maestro_kvlist l;
	maestro_kvlist_init(&l);
	for (int i = 0; i < 300; i++) {
		char k[32];
		snprintf(k, sizeof(k), "k%03d", i);
		maestro_kvlist_add(&l, k, "v");
	}
	assert_int_equal(cfgstore_etcd_batch_len(&l, 0, 20, 128, 1 << 20), 128);
	assert_int_equal(cfgstore_etcd_batch_len(&l, 256, 20, 128, 1 << 20), 44);
	assert_int_equal(cfgstore_etcd_batch_len(&l, 300, 20, 128, 1 << 20), 0);
	/* the byte budget: each op costs dir + key + value + 32 = 20 + 4 + 1 + 32 = 57 */
	assert_int_equal(cfgstore_etcd_batch_len(&l, 0, 20, 128, 57 * 10), 10);
	/* a single op larger than the budget still goes (etcd decides) */
	assert_int_equal(cfgstore_etcd_batch_len(&l, 0, 20, 128, 10), 1);
	maestro_kvlist_free(&l);
}

static void test_check(void **state)
{
	struct maestro_kvlist l;
	struct ldms_err err;
	maestro_kvlist_init(&l);
	assert_int_equal(cfgstore_check_kvs(&l, &err), 0);
	maestro_kvlist_add(&l, "b", "1");
	maestro_kvlist_add(&l, "a", "");
	assert_int_equal(cfgstore_check_kvs(&l, &err), 0);
	maestro_kvlist_add(&l, "", "x");
	assert_int_equal(cfgstore_check_kvs(&l, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty key"));
	maestro_kvlist_free(&l);
	maestro_kvlist_init(&l);
	maestro_kvlist_add(&l, "b", "1");
	maestro_kvlist_add(&l, "a", "");
	maestro_kvlist_add(&l, "b", "2");
	assert_int_equal(cfgstore_check_kvs(&l, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "duplicate key b"));
	maestro_kvlist_free(&l);
}

/* ---- file back end ------------------------------------------------------------------------ */

struct gens {
	pthread_mutex_t mu;
	uint64_t last;
	int n, errors;
};

static void on_gen(const struct cfgstore_event *ev, void *arg)
{
	struct gens *g = arg;
	pthread_mutex_lock(&g->mu);
	if (ev->rc)
		g->errors++;
	else {
		g->last = ev->generation;
		g->n++;
	}
	pthread_mutex_unlock(&g->mu);
}

static uint64_t wait_gen(struct gens *g, uint64_t want)
{
	uint64_t v = 0;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&g->mu);
		v = g->last;
		pthread_mutex_unlock(&g->mu);
		if (v == want)
			break;
		usleep(50000);
	}
	return v;
}

static void test_file(void **state)
{
	char dir[] = "/tmp/ldmsc-cfgstore-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/cluster.json", dir);
	struct cfgstore *s;
	struct ldms_err err;
	ldms_err_clear(&err);
	assert_int_equal(cfgstore_open_file(path, &s, &err), 0);
	struct maestro_kvlist in, out;
	maestro_kvlist_init(&in);
	maestro_kvlist_init(&out);
	assert_int_equal(cfgstore_read(s, &out, NULL, &err), -ENOENT);

	maestro_kvlist_add(&in, "daemons/samp-1/addr", "node-1");
	maestro_kvlist_add(&in, "daemons/samp-1/environment/X", "a \"quoted\"\nvalue\t\xc3\xa9");
	maestro_kvlist_add(&in, "aggregators/agg/agg-1/state", "stopped");
	maestro_kvlist_add(&in, "empty", "");
	uint64_t g;
	assert_int_equal(cfgstore_write(s, &in, &g, &err), 0);
	assert_int_equal(g, 1);
	assert_int_equal(cfgstore_read(s, &out, &g, &err), 0);
	assert_int_equal(g, 1);
	assert_int_equal(out.count, 4);
	/* byte order of keys, like etcd */
	assert_string_equal(out.kv[0].key, "aggregators/agg/agg-1/state");
	assert_string_equal(out.kv[1].key, "daemons/samp-1/addr");
	assert_string_equal(out.kv[2].value, "a \"quoted\"\nvalue\t\xc3\xa9");
	assert_string_equal(out.kv[3].value, "");
	maestro_kvlist_free(&out);

	struct gens gs = {.mu = PTHREAD_MUTEX_INITIALIZER};
	assert_int_equal(cfgstore_watch(s, on_gen, &gs, &err), 0);
	assert_int_equal(cfgstore_watch(s, on_gen, &gs, &err), -EBUSY);

	/* a second store on the same file writes generation 2; the watch sees it */
	struct cfgstore *s2;
	assert_int_equal(cfgstore_open_file(path, &s2, &err), 0);
	maestro_kvlist_free(&in);
	maestro_kvlist_init(&in);
	maestro_kvlist_add(&in, "daemons/samp-2/addr", "node-2");
	assert_int_equal(cfgstore_write(s2, &in, &g, &err), 0);
	assert_int_equal(g, 2);
	assert_int_equal(wait_gen(&gs, 2), 2);
	maestro_kvlist_init(&out);
	assert_int_equal(cfgstore_read(s, &out, &g, &err), 0);
	assert_int_equal(out.count, 1);
	assert_string_equal(out.kv[0].value, "node-2");
	maestro_kvlist_free(&out);

	/* invalid UTF-8 cannot be stored; the file stays as it was */
	maestro_kvlist_add(&in, "bad", "\xff\xfe");
	assert_int_equal(cfgstore_write(s2, &in, &g, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "UTF-8"));
	maestro_kvlist_free(&in);
	cfgstore_close(s2);
	cfgstore_close(s);

	/* a file that is not ours is neither read nor overwritten */
	char other[160];
	snprintf(other, sizeof(other), "%s/other.json", dir);
	FILE *f = fopen(other, "w");
	fputs("{\"hello\": 1}\n", f);
	fclose(f);
	assert_int_equal(cfgstore_open_file(other, &s, &err), 0);
	maestro_kvlist_init(&in);
	maestro_kvlist_add(&in, "a", "b");
	assert_int_equal(cfgstore_write(s, &in, &g, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a maestro configuration store file"));
	maestro_kvlist_init(&out);
	assert_int_equal(cfgstore_read(s, &out, &g, &err), -EINVAL);
	f = fopen(other, "w");
	fputs("{\"hello\": ", f);
	fclose(f);
	assert_int_equal(cfgstore_read(s, &out, &g, &err), -EINVAL);
	assert_string_equal(err.file, other);
	assert_int_equal(err.line, 1);
	maestro_kvlist_free(&in);
	cfgstore_close(s);

	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root),  cmocka_unit_test(test_gen),
	    cmocka_unit_test(test_sweep), cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_check), cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
