/* Unit tests of ldms_ls's formatter (src/tools/ldms_ls_fmt.h) against the upstream
 * captures: the -v table of shared/golden/ldms/ldms_ls_v_samp1.txt and of
 * wire/03-test-sampler/setup.txt, and the -l / -l -f json output of the two golden
 * test_sampler sets rebuilt as remote sets from set.bin and set-sampled.bin. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/tools/ldms_ls_fmt.h"

static char *slurp(const char *rel)
{
	const char *g = getenv("LDMSC_GOLDEN");
	char path[1024];
	FILE *fp;
	long n;
	char *buf;
	assert_non_null(g);
	snprintf(path, sizeof(path), "%s/%s", g, rel);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* The text after the line `cmd` up to (not including) the line `end` (or EOF). */
static char *block(const char *text, const char *cmd, const char *end)
{
	const char *p = strstr(text, cmd), *e;
	char *out;
	if (!p)
		fail_msg("golden has no '%s'", cmd);
	p = strchr(p, '\n') + 1;
	e = end ? strstr(p, end) : NULL;
	if (!e)
		e = p + strlen(p);
	out = strndup(p, (size_t)(e - p));
	assert_non_null(out);
	return out;
}

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static void mem_expect(struct mem *m, const char *want)
{
	fclose(m->f);
	if (strcmp(m->buf, want) != 0) {
		size_t i = 0;
		while (m->buf[i] && m->buf[i] == want[i])
			i++;
		fail_msg("output differs at byte %zu:\n--- got:\n%s\n--- want:\n%s", i, m->buf,
			 want);
	}
	free(m->buf);
}

static struct ldms_kv hint_sampled = {"updt_hint_us", "3600000000:-1012119762"};

static struct ldms_dir_set dirset(const char *schema, const char *inst, const char *flags,
				  uint64_t msz, uint64_t dsz, uint32_t perm, uint32_t sec,
				  uint32_t usec, uint32_t dsec, uint32_t dusec,
				  struct ldms_kv *info)
{
	struct ldms_dir_set d;
	memset(&d, 0, sizeof(d));
	d.schema_name = (char *)schema;
	d.inst_name = (char *)inst;
	snprintf(d.flags, sizeof(d.flags), "%s", flags);
	d.meta_size = msz;
	d.data_size = dsz;
	d.perm = perm;
	d.timestamp.sec = sec;
	d.timestamp.usec = usec;
	d.duration.sec = dsec;
	d.duration.usec = dusec;
	d.info = info;
	d.info_count = info ? 1 : 0;
	return d;
}

static void test_verbose_test_sampler(void **state)
{
	char *g = slurp("wire/03-test-sampler/setup.txt");
	char *want = block(g, "$ ldms_ls -h 127.0.0.1 -p 30003 -x sock -a none -v\n", "\n\n");
	struct ldms_dir_set a = dirset("golden", "golden/sampled", "CL ", 624, 168, 0440,
				       1795318987, 884965, 0, 6, &hint_sampled);
	struct ldms_dir_set b =
	    dirset("golden", "golden/static", " L ", 624, 168, 0440, 0, 0, 0, 0, NULL);
	struct ls_totals t = {0, 0, 0};
	struct mem m;
	FILE *f = mem_open(&m);
	ls_fmt_verbose_header(f, 1);
	ls_fmt_verbose_row(f, &a, 1, &t);
	ls_fmt_verbose_row(f, &b, 1, &t);
	ls_fmt_verbose_footer(f, 1, &t);
	size_t wl = strlen(want);
	want[wl] = '\0';
	char *w2 = malloc(wl + 2);
	snprintf(w2, wl + 2, "%s\n", want); /* block() stops before the blank line's \n */
	mem_expect(&m, w2);
	free(w2);
	free(want);
	free(g);
}

static void test_verbose_samp1(void **state)
{
	char *g = slurp("ldms/ldms_ls_v_samp1.txt");
	const char *want = strchr(g, '\n') + 1;
	struct ldms_kv hint = {"updt_hint_us", "1000000:0"};
	struct ldms_dir_set d[3] = {
	    dirset("meminfo", "samp1/meminfo", "CL ", 2968, 544, 0644, 1795317038, 1137, 0, 48,
		   &hint),
	    dirset("procstat", "samp1/procstat", "CL ", 1784, 432, 0644, 1795317038, 1167, 0, 26,
		   &hint),
	    dirset("vmstat", "samp1/vmstat", "CL ", 10688, 1648, 0644, 1795317038, 1338, 0, 169,
		   &hint),
	};
	struct ls_totals t = {0, 0, 0};
	struct mem m;
	FILE *f = mem_open(&m);
	ls_fmt_verbose_header(f, 1);
	for (int i = 0; i < 3; i++)
		ls_fmt_verbose_row(f, &d[i], 1, &t);
	ls_fmt_verbose_footer(f, 1, &t);
	mem_expect(&m, want);
	free(g);
}

/* A remote (mirror) set rebuilt from captured set memory. */
static ldms_set_t golden_set(const char *file, const char *inst)
{
	char rel[256];
	uint8_t buf[792];
	FILE *fp;
	const char *g = getenv("LDMSC_GOLDEN");
	char path[1024];
	snprintf(rel, sizeof(rel), "wire/03-test-sampler/%s", file);
	snprintf(path, sizeof(path), "%s/%s", g, rel);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, sizeof(buf), fp), 792);
	fclose(fp);
	ldms_set_t s = ldms_set_new_remote(inst, "golden", 624, 168, 1);
	assert_non_null(s);
	assert_int_equal(ldms_set_mem_size(s), 792);
	memcpy(ldms_set_mem(s), buf, 792);
	assert_int_equal(ldms_set_remote_validate(s), 0);
	return s;
}

static void test_long_test_sampler(void **state)
{
	char *g = slurp("wire/03-test-sampler/setup.txt");
	char *want = block(g, "$ ldms_ls -h 127.0.0.1 -p 30003 -x sock -a none -l\n", "rc=0\n");
	setenv("TZ", "UTC", 1);
	tzset();
	ldms_set_t a = golden_set("set-sampled.bin", "golden/sampled");
	ldms_set_t b = golden_set("set.bin", "golden/static");
	struct mem m;
	FILE *f = mem_open(&m);
	ls_fmt_set_long(f, a, 0);
	ls_fmt_set_long(f, b, 0);
	mem_expect(&m, want);

	/* -l -f json */
	char *wj = block(g, "$ ldms_ls -h 127.0.0.1 -p 30003 -x sock -a none -l -f json\n", NULL);
	const char *names[] = {"golden/sampled", "golden/static"};
	f = mem_open(&m);
	ls_fmt_json_names(f, names, 2);
	ls_fmt_json_data_open(f);
	ls_fmt_json_set(f, a, 1);
	ls_fmt_json_set(f, b, 0);
	ls_fmt_json_close(f, 1);
	mem_expect(&m, wj);

	/* -u prints each metric's udata in hex after the name */
	f = mem_open(&m);
	ls_fmt_metric(f, b, 0, 1);
	mem_expect(&m, "M u64          component_id                               0x0 7 \n");
	ldms_set_put(a);
	ldms_set_put(b);
	free(wj);
	free(want);
	free(g);
}

/* Value formats of the types the goldens do not cover. */
static void test_value_types(void **state)
{
	struct ldms_schema *sc = ldms_schema_new("types");
	assert_true(ldms_schema_metric_add(sc, "c", LDMS_V_CHAR, NULL) >= 0);
	assert_true(ldms_schema_metric_add(sc, "s8", LDMS_V_S8, NULL) >= 0);
	assert_true(ldms_schema_metric_add(sc, "s16", LDMS_V_S16, "x") >= 0);
	assert_true(ldms_schema_metric_add(sc, "s64", LDMS_V_S64, NULL) >= 0);
	assert_true(ldms_schema_metric_add(sc, "f", LDMS_V_F32, NULL) >= 0);
	assert_true(ldms_schema_metric_array_add(sc, "u8a", LDMS_V_U8_ARRAY, 3, NULL) >= 0);
	assert_true(ldms_schema_metric_array_add(sc, "s32a", LDMS_V_S32_ARRAY, 2, NULL) >= 0);
	assert_true(ldms_schema_metric_array_add(sc, "da", LDMS_V_D64_ARRAY, 2, NULL) >= 0);
	ldms_set_t s = ldms_set_new("t/types", sc);
	assert_non_null(s);
	ldms_metric_set_char(s, 0, 'q');
	ldms_metric_set_s8(s, 1, -5);
	ldms_metric_set_s16(s, 2, -300);
	ldms_metric_set_s64(s, 3, -1234567890123LL);
	ldms_metric_set_float(s, 4, 1.5f);
	ldms_metric_array_set_u8(s, 5, 0, 1);
	ldms_metric_array_set_u8(s, 5, 1, 0xab);
	ldms_metric_array_set_u8(s, 5, 2, 255);
	ldms_metric_array_set_s32(s, 6, 0, -1);
	ldms_metric_array_set_s32(s, 6, 1, 2);
	ldms_metric_array_set_double(s, 7, 0, 0.5);
	ldms_metric_array_set_double(s, 7, 1, -2);
	struct mem m;
	FILE *f = mem_open(&m);
	for (int i = 0; i < 8; i++)
		ls_fmt_metric(f, s, i, 0);
	mem_expect(&m, "D char         c                                          'q' \n"
		       "D s8           s8                                         -5 \n"
		       "D s16          s16                                        -300 x\n"
		       "D s64          s64                                        -1234567890123 \n"
		       "D f32          f                                          1.500000 \n"
		       "D u8[]         u8a                                        0x01,0xab,0xff \n"
		       "D s32[]        s32a                                       -1,2 \n"
		       "D d64[]        da                                         "
		       "0.500000,-2.000000 \n");
	ldms_set_delete(s);
	ldms_schema_delete(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbose_test_sampler),
	    cmocka_unit_test(test_verbose_samp1),
	    cmocka_unit_test(test_long_test_sampler),
	    cmocka_unit_test(test_value_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
