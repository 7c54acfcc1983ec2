/* Unit tests of the sampler plugins: each lib<name>.so is dlopen'ed from
 * $LDMSC_BUILD/lib/ldms-c with a fake plugin handle, configured with good and bad
 * attributes, sampled twice and checked against /proc; test_sampler's 'golden'
 * schema is compared byte for byte with shared/golden/wire/03-test-sampler. */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ldmsd/ldmsd_plugin.h>

/* ---- fake ldmsd side -------------------------------------------------------------- */

struct fake {
	struct ldmsd_plugin_handle h;
	void *dl;
	const struct ldmsd_plugin *p;
	int registered;
	char inst[64];
	char logname[128];
};

static int fake_register(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
	struct fake *f = (struct fake *)h;
	assert_non_null(s);
	f->registered++;
	return 0;
}

static void fake_deregister(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
	struct fake *f = (struct fake *)h;
	f->registered--;
}

static struct fake *load(const char *plugin, const char *inst)
{
	const char *build = getenv("LDMSC_BUILD");
	char path[1024];
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_non_null(build);
	snprintf(path, sizeof(path), "%s/lib/ldms-c/lib%s.so", build, plugin);
	f->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!f->dl)
		fail_msg("dlopen %s: %s", path, dlerror());
	ldmsd_plugin_get_fn get = (ldmsd_plugin_get_fn)dlsym(f->dl, LDMSD_PLUGIN_ENTRY);
	assert_non_null(get);
	f->p = get();
	assert_non_null(f->p);
	assert_string_equal(f->p->name, plugin);
	assert_int_equal(f->p->type, LDMSD_PLUGIN_SAMPLER);
	assert_int_equal(f->p->api_version, LDMSD_PLUGIN_API_VERSION);
	snprintf(f->inst, sizeof(f->inst), "%s", inst);
	snprintf(f->logname, sizeof(f->logname), "sampler.%s.%s", plugin, inst);
	f->h.inst_name = f->inst;
	f->h.plugin_name = f->p->name;
	f->h.log_name = f->logname;
	f->h.set_register = fake_register;
	f->h.set_deregister = fake_deregister;
	assert_non_null(f->p->usage(&f->h));
	assert_int_equal(f->p->init(&f->h), 0);
	return f;
}

static void unload(struct fake *f)
{
	f->p->term(&f->h);
	assert_int_equal(f->registered, 0);
	dlclose(f->dl);
	free(f);
}

/* "k=v k2=v2 kw" -> attrs (keywords get value ""); storage in *buf. */
struct attrs_buf {
	struct ldmsd_attr list[32];
	struct ldmsd_attrs a;
	char text[2048];
};

static struct ldmsd_attrs *mkattrs(struct attrs_buf *b, const char *s)
{
	char *save = NULL, *tok;
	snprintf(b->text, sizeof(b->text), "%s", s);
	b->a.count = 0;
	b->a.list = b->list;
	for (tok = strtok_r(b->text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		b->list[b->a.count].name = tok;
		if (eq) {
			*eq = '\0';
			b->list[b->a.count].value = eq + 1;
		} else {
			b->list[b->a.count].value = tok + strlen(tok);
		}
		b->a.count++;
	}
	return &b->a;
}

static int config(struct fake *f, const char *s, struct ldms_err *err)
{
	struct attrs_buf b;
	ldms_err_clear(err);
	return f->p->config(&f->h, mkattrs(&b, s), err);
}

/* A bad config must fail with -EINVAL and a message naming `attr`. */
static void expect_bad(const char *plugin, const char *cfg, const char *attr)
{
	struct fake *f = load(plugin, "bad");
	struct ldms_err err;
	int rc = config(f, cfg, &err);
	if (rc != -EINVAL || !strstr(err.msg, attr))
		fail_msg("%s '%s': rc %d msg '%s' (expected -EINVAL naming '%s')", plugin, cfg, rc,
			 err.msg, attr);
	assert_int_equal(f->registered, 0);
	assert_null(ldms_set_by_name("x/bad"));
	unload(f);
}

/* ---- /proc helpers ----------------------------------------------------------------- */

/* Names of the leading "name[:] value" lines of a /proc file. */
static int proc_names(const char *path, char names[][64], int max)
{
	FILE *fp = fopen(path, "r");
	char line[512], name[256];
	unsigned long long v;
	int n = 0;
	assert_non_null(fp);
	while (n < max && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%255s %llu", name, &v) != 2)
			break;
		size_t l = strlen(name);
		if (l && name[l - 1] == ':')
			name[l - 1] = '\0';
		snprintf(names[n++], 64, "%.63s", name);
	}
	fclose(fp);
	return n;
}

static uint64_t proc_value(const char *path, const char *want)
{
	FILE *fp = fopen(path, "r");
	char line[512], name[256];
	unsigned long long v;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%255s %llu", name, &v) != 2)
			continue;
		size_t l = strlen(name);
		if (l && name[l - 1] == ':')
			name[l - 1] = '\0';
		if (strcmp(name, want) == 0) {
			fclose(fp);
			return v;
		}
	}
	fclose(fp);
	fail_msg("%s: no %s", path, want);
	return 0;
}

static void check_base(ldms_set_t s, const char *schema, const char *producer, uint64_t compid)
{
	assert_string_equal(ldms_set_schema_name_get(s), schema);
	assert_string_equal(ldms_set_producer_name_get(s), producer);
	assert_string_equal(ldms_metric_name_get(s, 0), "component_id");
	assert_int_equal(ldms_metric_type_get(s, 0), LDMS_V_U64);
	assert_true(ldms_metric_flags_get(s, 0) & LDMS_MDESC_F_META);
	assert_int_equal(ldms_metric_get_u64(s, 0), compid);
	assert_string_equal(ldms_metric_name_get(s, 1), "job_id");
	assert_string_equal(ldms_metric_name_get(s, 2), "app_id");
	for (int i = 1; i < 3; i++) {
		assert_int_equal(ldms_metric_type_get(s, i), LDMS_V_U64);
		assert_true(ldms_metric_flags_get(s, i) & LDMS_MDESC_F_DATA);
		assert_int_equal(ldms_metric_get_u64(s, i), 0);
	}
}

/* Samples twice: each sample leaves a consistent set with a larger data gn. */
static void sample_twice(struct fake *f, ldms_set_t s)
{
	uint64_t gn0 = ldms_set_data_gn_get(s);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_true(ldms_set_is_consistent(s));
	uint64_t gn1 = ldms_set_data_gn_get(s);
	assert_true(gn1 > gn0);
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(s);
	assert_true(ts.sec > 0);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_true(ldms_set_is_consistent(s));
	assert_true(ldms_set_data_gn_get(s) > gn1);
}

/* ---- meminfo / vmstat --------------------------------------------------------------- */

static void list_sampler(const char *plugin, const char *path)
{
	static char names[1024][64];
	struct ldms_err err;
	char cfg[256];
	struct fake *f = load(plugin, plugin);
	int n = proc_names(path, names, 1024);
	assert_true(n > 5);

	snprintf(cfg, sizeof(cfg), "producer=node1 instance=node1/%s component_id=12 perm=0o640",
		 plugin);
	assert_int_equal(config(f, cfg, &err), 0);
	assert_int_equal(f->registered, 1);
	char inst[64];
	snprintf(inst, sizeof(inst), "node1/%s", plugin);
	ldms_set_t s = ldms_set_by_name(inst);
	assert_non_null(s);
	check_base(s, plugin, "node1", 12);
	assert_int_equal(ldms_set_perm_get(s), 0640);
	assert_int_equal((int)ldms_set_card_get(s), n + 3);
	for (int i = 0; i < n; i++) {
		assert_string_equal(ldms_metric_name_get(s, 3 + i), names[i]);
		assert_int_equal(ldms_metric_type_get(s, 3 + i), LDMS_V_U64);
		assert_true(ldms_metric_flags_get(s, 3 + i) & LDMS_MDESC_F_DATA);
	}
	/* a second config is refused: the set exists */
	assert_int_not_equal(config(f, cfg, &err), 0);
	sample_twice(f, s);
	/* a constant of the running kernel is read as printed (kB not scaled) */
	const char *konst = strcmp(plugin, "meminfo") == 0 ? "MemTotal" : NULL;
	if (konst) {
		int i = ldms_metric_by_name(s, konst);
		assert_true(i >= 3);
		assert_int_equal(ldms_metric_get_u64(s, i), proc_value(path, konst));
	}
	ldms_set_put(s);
	unload(f);
	assert_null(ldms_set_by_name(inst));
}

static void test_meminfo(void **state)
{
	list_sampler("meminfo", "/proc/meminfo");
	struct fake *f = load("meminfo", "m");
	assert_int_equal(f->p->multi_instance, 1);
	unload(f);
}

static void test_vmstat(void **state)
{
	list_sampler("vmstat", "/proc/vmstat");
	struct fake *f = load("vmstat", "v");
	assert_int_equal(f->p->multi_instance, 0);
	unload(f);
}

static void test_base_bad_attrs(void **state)
{
	static const char *const plugins[] = {"meminfo", "vmstat", "procstat", "loadavg"};
	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		const char *p = plugins[i];
		expect_bad(p, "instance=x/bad", "producer");
		expect_bad(p, "producer=x", "instance");
		expect_bad(p, "producer=x instance=x/bad perm=999", "perm");
		expect_bad(p, "producer=x instance=x/bad perm=0", "perm");
		expect_bad(p, "producer=x instance=x/bad perm=rw", "perm");
		expect_bad(p, "producer=x instance=x/bad component_id=abc", "component_id");
		expect_bad(p, "producer=x instance=x/bad uid=no_such_user_ldmsc", "uid");
		expect_bad(p, "producer=x instance=x/bad gid=no_such_group_ldmsc", "gid");
		expect_bad(p, "producer=x instance=x/bad set_array_card=0", "set_array_card");
		expect_bad(p, "producer=x instance=x/bad set=foo", "set");
		expect_bad(p, "producer=x instance=x\"bad", "instance");
		expect_bad(
		    p,
		    "producer=0123456789012345678901234567890123456789012345678901234567890123"
		    " instance=x/bad",
		    "producer");
	}
}

static void test_base_attrs(void **state)
{
	struct ldms_err err;
	struct fake *f = load("meminfo", "m2");
	/* uid/gid by name or number, octal perm, nid-style component id, ring of 3 */
	assert_int_equal(config(f,
				"producer=p2 instance=p2/mem schema=mem2 component_id=nid00042 "
				"uid=root gid=0 perm=0604 set_array_card=3 job_set=myjobs",
				&err),
			 0);
	ldms_set_t s = ldms_set_by_name("p2/mem");
	assert_non_null(s);
	check_base(s, "mem2", "p2", 42);
	assert_int_equal(ldms_set_uid_get(s), 0);
	assert_int_equal(ldms_set_gid_get(s), 0);
	assert_int_equal(ldms_set_perm_get(s), 0604);
	assert_int_equal(ldms_set_array_card_get(s), 3);
	sample_twice(f, s);
	ldms_set_put(s);
	unload(f);
}

/* job_id/app_id come from the job set while the sample time is in the job window. */
static void test_job_data(void **state)
{
	struct ldms_err err;
	struct ldms_schema *js = ldms_schema_new("jobinfo_test");
	assert_true(ldms_schema_metric_add(js, "job_id", LDMS_V_U64, NULL) >= 0);
	assert_true(ldms_schema_metric_add(js, "app_id", LDMS_V_U64, NULL) >= 0);
	assert_true(ldms_schema_metric_add(js, "job_start", LDMS_V_U32, NULL) >= 0);
	assert_true(ldms_schema_metric_add(js, "job_end", LDMS_V_U32, NULL) >= 0);
	ldms_set_t job = ldms_set_new("test/jobs", js);
	assert_non_null(job);
	ldms_metric_set_u64(job, 0, 4242);
	ldms_metric_set_u64(job, 1, 7);
	ldms_metric_set_u32(job, 2, 1000);
	ldms_metric_set_u32(job, 3, 0);
	assert_int_equal(ldms_set_publish(job), 0);

	struct fake *f = load("meminfo", "j");
	assert_int_equal(config(f, "producer=j instance=j/mem job_set=test/jobs", &err), 0);
	ldms_set_t s = ldms_set_by_name("j/mem");
	assert_non_null(s);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_int_equal(ldms_metric_get_u64(s, 1), 4242);
	assert_int_equal(ldms_metric_get_u64(s, 2), 7);
	/* job ended in 1970: back to 0 */
	ldms_metric_set_u32(job, 3, 2000);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_int_equal(ldms_metric_get_u64(s, 1), 0);
	assert_int_equal(ldms_metric_get_u64(s, 2), 0);
	ldms_set_put(s);
	unload(f);
	ldms_set_delete(job);
	ldms_schema_delete(js);
}

/* ---- procstat ----------------------------------------------------------------------- */

static int count_cpus(void)
{
	FILE *fp = fopen("/proc/stat", "r");
	char line[4096];
	int n = 0, c;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9' &&
		    sscanf(line + 3, "%d", &c) == 1 && c + 1 > n)
			n = c + 1;
	fclose(fp);
	return n;
}

static void test_procstat(void **state)
{
	static const char *const expect[] = {
	    "component_id",
	    "job_id",
	    "app_id",
	    "cores_up",
	    "cpu_enabled",
	    "user",
	    "nice",
	    "sys",
	    "idle",
	    "iowait",
	    "irq",
	    "softirq",
	    "steal",
	    "guest",
	    "guest_nice",
	    "hwintr_count",
	    "context_switches",
	    "processes",
	    "procs_running",
	    "procs_blocked",
	    "softirq_count",
	    "per_core_cpu_enabled",
	    "per_core_user",
	    "per_core_nice",
	    "per_core_sys",
	    "per_core_idle",
	    "per_core_iowait",
	    "per_core_irq",
	    "per_core_softirqd",
	    "per_core_steal",
	    "per_core_guest",
	    "per_core_guest_nice",
	};
	struct ldms_err err;
	int ncpu = count_cpus();
	struct fake *f = load("procstat", "procstat");
	assert_int_equal(f->p->multi_instance, 0);
	assert_int_equal(config(f, "producer=n instance=n/procstat component_id=3", &err), 0);
	ldms_set_t s = ldms_set_by_name("n/procstat");
	assert_non_null(s);
	check_base(s, "procstat", "n", 3);
	assert_int_equal((int)ldms_set_card_get(s), 32);
	for (int i = 0; i < 32; i++) {
		assert_string_equal(ldms_metric_name_get(s, i), expect[i]);
		if (i >= 21) {
			assert_int_equal(ldms_metric_type_get(s, i), LDMS_V_U64_ARRAY);
			assert_int_equal(ldms_metric_array_get_len(s, i), ncpu);
		} else {
			assert_int_equal(ldms_metric_type_get(s, i), LDMS_V_U64);
		}
	}
	sample_twice(f, s);
	assert_int_equal(ldms_metric_get_u64(s, 3), ncpu); /* cores_up */
	assert_int_equal(ldms_metric_get_u64(s, 4), 1);	   /* cpu_enabled */
	assert_true(ldms_metric_get_u64(s, 17) > 0);	   /* processes */
	for (int c = 0; c < ncpu; c++)
		assert_int_equal(ldms_metric_array_get_as_u64(s, 21, (uint32_t)c), 1);
	ldms_set_put(s);
	unload(f);

	/* maxcpu larger than the machine: extra cores are zero; sc_clk_tck META at end */
	f = load("procstat", "procstat");
	assert_int_equal(config(f, "producer=n instance=n/ps2 maxcpu=64 sc_clk_tck=1", &err), 0);
	s = ldms_set_by_name("n/ps2");
	assert_non_null(s);
	assert_int_equal((int)ldms_set_card_get(s), 33);
	assert_string_equal(ldms_metric_name_get(s, 32), "sc_clk_tck");
	assert_true(ldms_metric_flags_get(s, 32) & LDMS_MDESC_F_META);
	assert_true(ldms_metric_get_u64(s, 32) > 0);
	assert_int_equal(ldms_metric_array_get_len(s, 21), 64);
	sample_twice(f, s);
	assert_int_equal(ldms_metric_array_get_as_u64(s, 21, 63), 0);
	ldms_set_put(s);
	unload(f);

	expect_bad("procstat", "producer=x instance=x/bad maxcpu=lots", "maxcpu");
	expect_bad("procstat", "producer=x instance=x/bad metrics_type=0", "metrics_type");
}

/* ---- loadavg ------------------------------------------------------------------------ */

static void test_loadavg(void **state)
{
	struct ldms_err err;
	struct fake *f = load("loadavg", "loadavg");
	assert_int_equal(config(f, "producer=n instance=n/loadavg", &err), 0);
	ldms_set_t s = ldms_set_by_name("n/loadavg");
	assert_non_null(s);
	check_base(s, "loadavg", "n", 0);
	static const char *const names[] = {
	    "load1min", "load5min", "load15min", "runnable", "scheduling_entities", "newest_pid"};
	assert_int_equal((int)ldms_set_card_get(s), 9);
	for (int i = 0; i < 6; i++) {
		assert_string_equal(ldms_metric_name_get(s, 3 + i), names[i]);
		assert_int_equal(ldms_metric_type_get(s, 3 + i), i < 3 ? LDMS_V_D64 : LDMS_V_U64);
	}
	sample_twice(f, s);
	assert_true(ldms_metric_get_u64(s, 7) >= 1); /* scheduling_entities */
	assert_true(ldms_metric_get_u64(s, 8) >= 1); /* newest_pid */
	ldms_set_put(s);
	unload(f);

	f = load("loadavg", "loadavg");
	assert_int_equal(
	    config(f, "producer=n instance=n/la2 metrics=load1min,runnable force_integer", &err),
	    0);
	s = ldms_set_by_name("n/la2");
	assert_non_null(s);
	assert_string_equal(ldms_set_schema_name_get(s), "loadavgi100100");
	assert_int_equal((int)ldms_set_card_get(s), 5);
	assert_int_equal(ldms_metric_type_get(s, 3), LDMS_V_U64);
	sample_twice(f, s);
	ldms_set_put(s);
	unload(f);

	expect_bad("loadavg", "producer=x instance=x/bad metrics=load2min", "metrics");
}

/* ---- procnetdev --------------------------------------------------------------------- */

static void test_procnetdev(void **state)
{
	static const char *const vars[] = {
	    "rx_bytes",	     "rx_packets",   "rx_errs",	   "rx_drop",	    "rx_fifo", "rx_frame",
	    "rx_compressed", "rx_multicast", "tx_bytes",   "tx_packets",    "tx_errs", "tx_drop",
	    "tx_fifo",	     "tx_colls",     "tx_carrier", "tx_compressed",
	};
	struct ldms_err err;
	char name[64];
	struct fake *f = load("procnetdev", "procnetdev");
	assert_int_equal(config(f, "producer=n instance=n/net ifaces=lo,nosuch0", &err), 0);
	ldms_set_t s = ldms_set_by_name("n/net");
	assert_non_null(s);
	check_base(s, "procnetdev", "n", 0);
	assert_int_equal((int)ldms_set_card_get(s), 3 + 32);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 16; j++) {
			snprintf(name, sizeof(name), "%s#%s", vars[j], i ? "nosuch0" : "lo");
			assert_string_equal(ldms_metric_name_get(s, 3 + 16 * i + j), name);
			assert_int_equal(ldms_metric_type_get(s, 3 + 16 * i + j), LDMS_V_U64);
		}
	sample_twice(f, s);
	for (int j = 0; j < 16; j++)
		assert_int_equal(ldms_metric_get_u64(s, 3 + 16 + j), 0);
	ldms_set_put(s);
	unload(f);

	expect_bad("procnetdev", "producer=x instance=x/bad", "ifaces");
	expect_bad("procnetdev", "producer=x instance=x/bad ifaces=,", "ifaces");
	expect_bad(
	    "procnetdev",
	    "producer=x instance=x/bad "
	    "ifaces=a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17,a18,a19,a20,a21",
	    "ifaces");
}

/* ---- test_sampler ------------------------------------------------------------------- */

#define GOLDEN_SCHEMA                                                                              \
	"action=add_schema schema=golden "                                                         \
	"metrics=component_id:meta:u64:7:1:,m_u32:meta:u32:99:1:,v_u8:data:u8:200:1:,"             \
	"v_u32:data:u32:4000000000:1:,v_u64:data:u64:1234567890123:1:,"                            \
	"v_s32:data:s32:-123456:1:,v_d64:data:d64:3.25:1:sec,v_str:data:char_array:X:8:,"          \
	"v_u64a:data:u64_array:42:3:"

static size_t read_golden(const char *name, uint8_t *buf, size_t len)
{
	const char *g = getenv("LDMSC_GOLDEN");
	char path[1024];
	FILE *fp;
	size_t n;
	assert_non_null(g);
	snprintf(path, sizeof(path), "%s/wire/03-test-sampler/%s", g, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, len, fp);
	fclose(fp);
	return n;
}

static void compare_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %zu differs: got 0x%02x want 0x%02x", what, i, got[i],
				 want[i]);
}

static void test_test_sampler_golden(void **state)
{
	struct ldms_err err;
	uint8_t want[792], got[792];
	uint32_t dperm;
	uid_t duid;
	gid_t dgid;

	ldms_set_default_authz_get(&duid, &dgid, &dperm);
	ldms_set_default_authz_set(0, 0, 0440);

	struct fake *st = load("test_sampler", "ts_static");
	assert_int_equal(st->p->multi_instance, 1);
	assert_int_equal(st->p->multi_config, 1);
	assert_int_equal(config(st, GOLDEN_SCHEMA, &err), 0);
	assert_int_equal(config(st,
				"action=add_set instance=golden/static schema=golden "
				"producer=golden component_id=7",
				&err),
			 0);
	struct fake *sp = load("test_sampler", "ts_sampled");
	assert_int_equal(config(sp, GOLDEN_SCHEMA, &err), 0);
	assert_int_equal(config(sp,
				"action=add_set instance=golden/sampled schema=golden "
				"producer=golden component_id=7",
				&err),
			 0);

	/* never-sampled set: every byte as upstream */
	ldms_set_t s = ldms_set_by_name("golden/static");
	assert_non_null(s);
	assert_int_equal(ldms_set_mem_size(s), 792);
	assert_int_equal(read_golden("set.bin", want, sizeof(want)), 792);
	memcpy(got, ldms_set_mem(s), 792);
	compare_bytes("golden/static", got, want, 792);
	assert_false(ldms_set_is_consistent(s));
	ldms_set_put(s);

	/* sampled once: equal except the transaction timestamp and duration */
	assert_int_equal(sp->p->sample(&sp->h), 0);
	s = ldms_set_by_name("golden/sampled");
	assert_non_null(s);
	assert_true(ldms_set_is_consistent(s));
	assert_int_equal(read_golden("set-sampled.bin", want, sizeof(want)), 792);
	memcpy(got, ldms_set_mem(s), 792);
	memset(got + 624, 0, 16); /* data hdr trans.ts, trans.dur */
	memset(want + 624, 0, 16);
	compare_bytes("golden/sampled", got, want, 792);
	assert_int_equal(ldms_metric_get_u8(s, 2), 201);
	assert_string_equal(ldms_metric_array_get_str(s, 7), "lllllll");
	ldms_set_put(s);

	unload(st);
	unload(sp);
	assert_null(ldms_set_by_name("golden/static"));
	ldms_set_default_authz_set(duid, dgid, dperm);
}

static int print_left(ldms_set_t s, void *arg)
{
	print_message("left in the registry: %s\n", ldms_set_instance_name_get(s));
	return 0;
}

static void test_test_sampler_forms(void **state)
{
	struct ldms_err err;
	struct fake *f = load("test_sampler", "scale");
	/* the scale form: N sets of M u64 metrics named <producer>/<schema><i> */
	assert_int_equal(config(f, "num_sets=5 num_metrics=20 producer=px component_id=9", &err),
			 0);
	assert_int_equal(f->registered, 5);
	ldms_set_t s = ldms_set_by_name("px/test_sampler4");
	assert_non_null(s);
	assert_int_equal((int)ldms_set_card_get(s), 20);
	assert_string_equal(ldms_metric_name_get(s, 19), "metric_19");
	uint64_t v = ldms_metric_get_u64(s, 0);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_int_equal(f->p->sample(&f->h), 0);
	assert_int_equal(ldms_metric_get_u64(s, 0), v + 2);
	assert_true(ldms_set_is_consistent(s));
	ldms_set_put(s);

	/* errors name the attribute */
	assert_int_equal(config(f, "action=nope", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "action"));
	assert_int_equal(config(f, "action=add_schema schema=b metrics=a:data:u65:1:1:", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "metrics"));
	assert_int_equal(config(f, "action=add_schema schema=b metrics=a:both:u64:1:1:", &err),
			 -EINVAL);
	assert_int_equal(config(f, "action=add_schema schema=b", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "metrics"));
	assert_int_equal(config(f, "action=add_set schema=nosuch instance=a/b producer=a", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "schema"));
	assert_int_equal(config(f, "action=add_schema schema=c metrics=a:data:u64:1:1:", &err), 0);
	assert_int_equal(config(f, "action=add_schema schema=c metrics=a:data:u64:1:1:", &err),
			 -EEXIST);
	assert_int_equal(
	    config(f, "action=add_set schema=c instance=a/c producer=a perm=0o600 uid=1", &err), 0);
	s = ldms_set_by_name("a/c");
	assert_non_null(s);
	assert_int_equal(ldms_set_perm_get(s), 0600);
	assert_int_equal(ldms_set_uid_get(s), 1);
	ldms_set_put(s);
	assert_int_equal(config(f, "action=add_set schema=c instance=a/d producer=a perm=8", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "perm"));
	unload(f);
	ldms_set_registry_foreach(print_left, NULL);
	assert_int_equal(ldms_set_registry_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_vmstat),
	    cmocka_unit_test(test_base_bad_attrs),
	    cmocka_unit_test(test_base_attrs),
	    cmocka_unit_test(test_job_data),
	    cmocka_unit_test(test_procstat),
	    cmocka_unit_test(test_loadavg),
	    cmocka_unit_test(test_procnetdev),
	    cmocka_unit_test(test_test_sampler_golden),
	    cmocka_unit_test(test_test_sampler_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
