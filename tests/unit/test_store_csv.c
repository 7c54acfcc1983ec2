/* Unit tests of the store_csv plugin, loaded with dlopen like ldmsd does: header and
 * rows against the upstream golden (shared/golden/ldms/csv_meminfo_head.txt), every
 * value type, HEADER/KIND files, rollover by records and by time without losing or
 * duplicating rows, rename_template, opt_file, permissions and config errors. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
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

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "ldmsd/ldmsd_plugin.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static void *dl;
static const struct ldmsd_plugin *P;
static char tmp_root[256];

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int count_lines(const char *s, const char *prefix_skip)
{
	int n = 0;
	for (const char *p = s; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (!prefix_skip || strncmp(p, prefix_skip, strlen(prefix_skip)))
			n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Fresh directory under the test root. */
static char *mkdir_tmp(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
	rm_rf(path);
	assert_int_equal(mkdir(path, 0755), 0);
	return path;
}

/* Sorted names in dir (NULL-terminated, caller frees). */
static char **list_dir(const char *dir, int *count)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), k = 0;
	char **out = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof(char *));

	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			out[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	if (n > 0)
		free(ents);
	*count = k;
	return out;
}

static void free_list(char **l)
{
	for (char **p = l; p && *p; p++)
		free(*p);
	free(l);
}

/* "k=v k=v kw" -> attrs (values may not contain blanks). */
struct attrs_buf {
	struct ldmsd_attrs a;
	struct ldmsd_attr list[64];
	char text[4096];
};

static struct ldmsd_attrs *mkattrs(struct attrs_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *save = NULL;

	va_start(ap, fmt);
	vsnprintf(b->text, sizeof(b->text), fmt, ap);
	va_end(ap);
	b->a.count = 0;
	b->a.list = b->list;
	for (char *t = strtok_r(b->text, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		b->list[b->a.count].name = t;
		b->list[b->a.count].value = eq ? eq + 1 : (char *)"";
		if (eq)
			*eq = '\0';
		b->a.count++;
	}
	return &b->a;
}

struct inst {
	struct ldmsd_plugin_handle h;
};

static void inst_init(struct inst *in, const char *name)
{
	memset(in, 0, sizeof(*in));
	in->h.inst_name = name;
	in->h.plugin_name = "store_csv";
	in->h.log_name = "store.store_csv.test";
	assert_int_equal(P->init(&in->h), 0);
}

static int inst_config(struct inst *in, struct ldms_err *err, const char *fmt, ...)
{
	struct attrs_buf b;
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ldms_err_clear(err);
	return P->config(&in->h, mkattrs(&b, "name=%s %s", in->h.inst_name, line), err);
}

/* Policy over every metric of the set, in set order (what ldmsd resolves). */
struct policy {
	struct ldmsd_store_policy p;
	int idx[256];
	const char *names[256];
};

static void policy_all(struct policy *pol, ldms_set_t s, const char *container)
{
	uint32_t n = ldms_set_card_get(s);
	memset(pol, 0, sizeof(*pol));
	for (uint32_t i = 0; i < n; i++) {
		pol->idx[i] = (int)i;
		pol->names[i] = ldms_metric_name_get(s, (int)i);
	}
	pol->p.strgp_name = "csv_test";
	pol->p.container = container;
	pol->p.schema = ldms_set_schema_name_get(s);
	pol->p.metric_count = n;
	pol->p.metric_idx = pol->idx;
	pol->p.metric_names = pol->names;
}

/* ---- meminfo-like set from the golden header --------------------------------------------- */

static char *golden_header(void)
{
	char path[1024];
	const char *g = getenv("LDMSC_GOLDEN");
	char *all, *line, *end, *out;

	snprintf(path, sizeof(path), "%s/ldms/csv_meminfo_head.txt", g ? g : "../shared/golden");
	all = read_all(path);
	assert_non_null(all);
	line = strstr(all, "\n#Time,");
	assert_non_null(line);
	line++;
	end = strchr(line, '\n');
	out = strndup(line, (size_t)(end - line + 1));
	free(all);
	return out;
}

/* Schema meminfo: component_id (META) then the golden's DATA metrics. */
static ldms_set_t meminfo_set(const char *hdr, int *nmetrics)
{
	struct ldms_schema *sch = ldms_schema_new("meminfo");
	char *copy = strdup(hdr), *save = NULL;
	const char *prefix = "#Time,Time_usec,ProducerName,";
	int n = 0;
	ldms_set_t s;

	assert_memory_equal(copy, prefix, strlen(prefix));
	copy[strlen(copy) - 1] = '\0';
	for (char *t = strtok_r(copy + strlen(prefix), ",", &save); t;
	     t = strtok_r(NULL, ",", &save), n++) {
		if (!strcmp(t, "component_id"))
			assert_true(ldms_schema_meta_add(sch, t, LDMS_V_U64, NULL) >= 0);
		else
			assert_true(ldms_schema_metric_add(sch, t, LDMS_V_U64, NULL) >= 0);
	}
	free(copy);
	s = ldms_set_new("samp1/meminfo", sch);
	assert_non_null(s);
	ldms_schema_delete(sch);
	ldms_set_producer_name_set(s, "samp1");
	ldms_metric_set_u64(s, 0, 1);
	*nmetrics = n;
	return s;
}

/* One sample: metric i = base + i (job_id/app_id 0 like the golden). Returns the
 * expected CSV row. */
static char *meminfo_sample(ldms_set_t s, int n, uint64_t base)
{
	char *row = NULL;
	size_t len = 0;
	FILE *f;
	struct ldms_timestamp ts;

	ldms_transaction_begin(s);
	for (int i = 3; i < n; i++)
		ldms_metric_set_u64(s, i, base + (uint64_t)i);
	ldms_transaction_end(s);
	ts = ldms_transaction_timestamp_get(s);
	f = open_memstream(&row, &len);
	fprintf(f, "%" PRIu32 ".%06" PRIu32 ",%" PRIu32 ",samp1,1,0,0", ts.sec, ts.usec, ts.usec);
	for (int i = 3; i < n; i++)
		fprintf(f, ",%" PRIu64, base + (uint64_t)i);
	fprintf(f, "\n");
	fclose(f);
	return row;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* l1.conf: config name=store_csv path=$RUN/csv altheader=0 buffer=0, strgp container=l1csv
 * schema=meminfo -> $RUN/csv/l1csv/meminfo, mode 0600, golden header, rows. */
static void test_meminfo_golden(void **state)
{
	char *dir = mkdir_tmp("golden"), d[512], file[600];
	char *hdr = golden_header(), *rows[5], *content;
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	struct stat sb;
	void *ctx = NULL;
	int n, cnt;
	ldms_set_t s;
	char **names;

	snprintf(d, sizeof(d), "%s", dir);
	s = meminfo_set(hdr, &n);
	inst_init(&in, "store_csv");
	assert_int_equal(inst_config(&in, &err, "path=%s/csv altheader=0 buffer=0", d), 0);
	free(meminfo_sample(s, n, 1000)); /* a first update before the policy opens */
	policy_all(&pol, s, "l1csv");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	assert_non_null(ctx);
	for (int i = 0; i < 5; i++) {
		rows[i] = meminfo_sample(s, n, 24683656ULL + (uint64_t)i * 1000);
		assert_int_equal(P->store(&in.h, ctx, s, &pol.p), 0);
	}
	/* buffer=0: every row is in the file before close */
	snprintf(file, sizeof(file), "%s/csv/l1csv/meminfo", d);
	content = read_all(file);
	assert_non_null(content);
	assert_int_equal(strncmp(content, hdr, strlen(hdr)), 0);
	char *p = content + strlen(hdr);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(strncmp(p, rows[i], strlen(rows[i])), 0);
		p += strlen(rows[i]);
	}
	assert_string_equal(p, "");
	free(content);
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(file, sizeof(file), "%s/csv/l1csv", d);
	names = list_dir(file, &cnt);
	assert_int_equal(cnt, 1);
	assert_string_equal(names[0], "meminfo");
	free_list(names);
	assert_int_equal(P->store_flush(&in.h, ctx), 0);
	P->store_close(&in.h, ctx);
	P->term(&in.h);
	for (int i = 0; i < 5; i++)
		free(rows[i]);
	free(hdr);
	ldms_set_delete(s);
}

/* A set with every scalar and array type. */
static ldms_set_t all_types_set(void)
{
	struct ldms_schema *sch = ldms_schema_new("alltypes");
	ldms_set_t s;

	assert_int_equal(ldms_schema_metric_add(sch, "c", LDMS_V_CHAR, NULL), 0);
	ldms_schema_metric_add(sch, "u8", LDMS_V_U8, NULL);
	ldms_schema_metric_add(sch, "s8", LDMS_V_S8, NULL);
	ldms_schema_metric_add(sch, "u16", LDMS_V_U16, NULL);
	ldms_schema_metric_add(sch, "s16", LDMS_V_S16, NULL);
	ldms_schema_metric_add(sch, "u32", LDMS_V_U32, NULL);
	ldms_schema_metric_add(sch, "s32", LDMS_V_S32, NULL);
	ldms_schema_metric_add(sch, "u64", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sch, "s64", LDMS_V_S64, NULL);
	ldms_schema_metric_add(sch, "f32", LDMS_V_F32, NULL);
	ldms_schema_metric_add(sch, "d64", LDMS_V_D64, NULL);
	ldms_schema_metric_array_add(sch, "str", LDMS_V_CHAR_ARRAY, 16, NULL);
	ldms_schema_metric_array_add(sch, "au8", LDMS_V_U8_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "as8", LDMS_V_S8_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "au16", LDMS_V_U16_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "as16", LDMS_V_S16_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "au32", LDMS_V_U32_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "as32", LDMS_V_S32_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "au64", LDMS_V_U64_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "as64", LDMS_V_S64_ARRAY, 2, NULL);
	ldms_schema_metric_array_add(sch, "af32", LDMS_V_F32_ARRAY, 2, NULL);
	assert_int_equal(ldms_schema_metric_array_add(sch, "ad64", LDMS_V_D64_ARRAY, 2, NULL), 21);
	s = ldms_set_new("node-1/alltypes", sch);
	assert_non_null(s);
	ldms_schema_delete(sch);
	ldms_set_producer_name_set(s, "node-1");
	ldms_transaction_begin(s);
	ldms_metric_set_char(s, 0, 'x');
	ldms_metric_set_u8(s, 1, 255);
	ldms_metric_set_s8(s, 2, -128);
	ldms_metric_set_u16(s, 3, 65535);
	ldms_metric_set_s16(s, 4, -32768);
	ldms_metric_set_u32(s, 5, 4294967295U);
	ldms_metric_set_s32(s, 6, INT32_MIN);
	ldms_metric_set_u64(s, 7, UINT64_MAX);
	ldms_metric_set_s64(s, 8, INT64_MIN);
	ldms_metric_set_float(s, 9, 1.5f);
	ldms_metric_set_double(s, 10, 0.1);
	ldms_metric_array_set_str(s, 11, "a\"b c");
	for (uint32_t j = 0; j < 2; j++) {
		ldms_metric_array_set_u8(s, 12, j, (uint8_t)(200 + j));
		ldms_metric_array_set_s8(s, 13, j, (int8_t)(-1 - (int)j));
		ldms_metric_array_set_u16(s, 14, j, (uint16_t)(60000 + j));
		ldms_metric_array_set_s16(s, 15, j, (int16_t)(-300 - (int)j));
		ldms_metric_array_set_u32(s, 16, j, 3000000000U + j);
		ldms_metric_array_set_s32(s, 17, j, -70000 - (int32_t)j);
		ldms_metric_array_set_u64(s, 18, j, 10000000000000000000ULL + j);
		ldms_metric_array_set_s64(s, 19, j, -5000000000LL - (int64_t)j);
		ldms_metric_array_set_float(s, 20, j, 0.25f + (float)j);
		ldms_metric_array_set_double(s, 21, j, 1.0 / 3 + j);
	}
	for (int i = 0; i < 22; i++)
		ldms_metric_user_data_set(s, i, (uint64_t)(100 + i));
	ldms_transaction_end(s);
	return s;
}

static const char *all_values =
    "x,255,-128,65535,-32768,4294967295,-2147483648,18446744073709551615,"
    "-9223372036854775808,1.5,0.10000000000000001,";

/* Default options: header, arrays expanded, formats per §5.2 (f32 %.9g, d64 %.17g). */
static void test_all_types(void **state)
{
	char *dir = mkdir_tmp("types"), d[512], file[600], *content, exp[4096];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	struct ldms_timestamp ts;
	void *ctx = NULL;
	ldms_set_t s = all_types_set();

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv2");
	assert_int_equal(inst_config(&in, &err, "path=%s", d), 0);
	policy_all(&pol, s, "c1");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	assert_int_equal(P->store(&in.h, ctx, s, &pol.p), 0);
	P->store_close(&in.h, ctx);
	ts = ldms_transaction_timestamp_get(s);
	snprintf(file, sizeof(file), "%s/c1/alltypes", d);
	content = read_all(file);
	assert_non_null(content);
	snprintf(exp, sizeof(exp),
		 "#Time,Time_usec,ProducerName,c,u8,s8,u16,s16,u32,s32,u64,s64,f32,d64,str,"
		 "au80,au81,as80,as81,au160,au161,as160,as161,au320,au321,as320,as321,au640,"
		 "au641,as640,as641,af320,af321,ad640,ad641\n"
		 "%" PRIu32 ".%06" PRIu32 ",%" PRIu32 ",node-1,%sa\"b c,200,201,-1,-2,60000,"
		 "60001,-300,-301,3000000000,3000000001,-70000,-70001,10000000000000000000,"
		 "10000000000000000001,-5000000000,-5000000001,0.25,1.25,0.33333333333333331,"
		 "1.3333333333333333\n",
		 ts.sec, ts.usec, ts.usec, all_values);
	assert_string_equal(content, exp);
	free(content);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* userdata, arrays not expanded, ietfcsv, time_format=1, altheader + typeheader=1, and
 * typeheader=2 for a second container through per container/schema config. */
static void test_options_files(void **state)
{
	char *dir = mkdir_tmp("opts"), d[512], file[700], *content, exp[4096];
	struct ldms_err err;
	struct inst in;
	struct policy pol, pol2;
	struct ldms_timestamp ts;
	void *ctx = NULL, *ctx2 = NULL;
	ldms_set_t s = all_types_set();
	int cnt;
	char **names;

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv3");
	assert_int_equal(inst_config(&in, &err,
				     "path=%s altheader=1 typeheader=1 userdata=1 "
				     "expand_array=false array_sep=; ietfcsv=1 time_format=1",
				     d),
			 0);
	assert_int_equal(inst_config(&in, &err,
				     "container=c2 schema=alltypes typeheader=2 userdata=0 "
				     "expand_array=true ietfcsv=0 time_format=0"),
			 0);
	policy_all(&pol, s, "c1");
	policy_all(&pol2, s, "c2");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	assert_int_equal(P->store_open(&in.h, &pol2.p, s, &ctx2, &err), 0);
	assert_ptr_not_equal(ctx, ctx2);
	assert_int_equal(P->store(&in.h, ctx, s, &pol.p), 0);
	assert_int_equal(P->store(&in.h, ctx2, s, &pol2.p), 0);
	P->store_close(&in.h, ctx);
	P->store_close(&in.h, ctx2);
	ts = ldms_transaction_timestamp_get(s);

	snprintf(file, sizeof(file), "%s/c1", d);
	names = list_dir(file, &cnt);
	assert_int_equal(cnt, 3);
	assert_string_equal(names[0], "alltypes");
	assert_string_equal(names[1], "alltypes.HEADER");
	assert_string_equal(names[2], "alltypes.KIND");
	free_list(names);

	snprintf(file, sizeof(file), "%s/c1/alltypes.HEADER", d);
	content = read_all(file);
	assert_string_equal(
	    content,
	    "#\"Time_msec\",\"Time_usec\",\"ProducerName\",\"c.userdata\",\"c.value\","
	    "\"u8.userdata\",\"u8.value\",\"s8.userdata\",\"s8.value\",\"u16.userdata\","
	    "\"u16.value\",\"s16.userdata\",\"s16.value\",\"u32.userdata\",\"u32.value\","
	    "\"s32.userdata\",\"s32.value\",\"u64.userdata\",\"u64.value\",\"s64.userdata\","
	    "\"s64.value\",\"f32.userdata\",\"f32.value\",\"d64.userdata\",\"d64.value\","
	    "\"str.userdata\",\"str.value\",\"au8.userdata\",\"au8.value\",\"as8.userdata\","
	    "\"as8.value\",\"au16.userdata\",\"au16.value\",\"as16.userdata\",\"as16.value\","
	    "\"au32.userdata\",\"au32.value\",\"as32.userdata\",\"as32.value\","
	    "\"au64.userdata\",\"au64.value\",\"as64.userdata\",\"as64.value\","
	    "\"af32.userdata\",\"af32.value\",\"ad64.userdata\",\"ad64.value\"\n");
	free(content);
	snprintf(file, sizeof(file), "%s/c1/alltypes.KIND", d);
	content = read_all(file);
	assert_string_equal(content, "#!ldms-kinds-udata!timestamp,u64,char[]64,u64,char,u64,u8,"
				     "u64,s8,u64,u16,u64,s16,u64,u32,u64,s32,u64,u64,u64,s64,"
				     "u64,f32,u64,d64,u64,char[],u64,u8[]2,u64,s8[]2,u64,u16[]2,"
				     "u64,s16[]2,u64,u32[]2,u64,s32[]2,u64,u64[]2,u64,s64[]2,"
				     "u64,f32[]2,u64,d64[]2\n");
	free(content);
	snprintf(file, sizeof(file), "%s/c1/alltypes", d);
	content = read_all(file);
	snprintf(exp, sizeof(exp),
		 "%" PRIu64 ",%" PRIu32 ",node-1,100,x,101,255,102,-128,103,65535,104,-32768,"
		 "105,4294967295,106,-2147483648,107,18446744073709551615,108,"
		 "-9223372036854775808,109,1.5,110,0.10000000000000001,111,\"a\"\"b c\",112,"
		 "\"200;201\",113,\"-1;-2\",114,\"60000;60001\",115,\"-300;-301\",116,"
		 "\"3000000000;3000000001\",117,\"-70000;-70001\",118,"
		 "\"10000000000000000000;10000000000000000001\",119,"
		 "\"-5000000000;-5000000001\",120,\"0.25;1.25\",121,"
		 "\"0.33333333333333331;1.3333333333333333\"\n",
		 (uint64_t)ts.sec * 1000 + ts.usec / 1000, ts.usec % 1000);
	assert_string_equal(content, exp);
	free(content);

	/* c2: per container/schema options, the rest from the defaults */
	snprintf(file, sizeof(file), "%s/c2/alltypes.KIND", d);
	content = read_all(file);
	assert_string_equal(content,
			    "#!ldms-array-kinds!timestamp,u64,char[]64,char,u8,s8,u16,s16,u32,s32,"
			    "u64,s64,f32,d64,char[]16,u8[]2,s8[]2,u16[]2,s16[]2,u32[]2,s32[]2,"
			    "u64[]2,s64[]2,f32[]2,d64[]2\n");
	free(content);
	snprintf(file, sizeof(file), "%s/c2/alltypes.HEADER", d);
	content = read_all(file);
	assert_non_null(content);
	assert_int_equal(strncmp(content, "#Time,Time_usec,ProducerName,c,u8,", 34), 0);
	free(content);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* Rows of every data file of dir (sorted by name), checked against the values
 * stored: row k holds u64 value k. Returns the number of data files. */
static int check_rows(const char *dir, const char *schema, int nrows, int per_file)
{
	int cnt, files = 0, k = 0;
	char **names = list_dir(dir, &cnt), path[1024];
	size_t sl = strlen(schema);

	for (int i = 0; i < cnt; i++) {
		if (strncmp(names[i], schema, sl) || names[i][sl] != '.' ||
		    !strchr("0123456789", names[i][sl + 1]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *content = read_all(path), *p = content;
		assert_non_null(content);
		assert_int_equal(strncmp(content, "#Time,", 6), 0);
		int rows = count_lines(content, "#");
		if (per_file)
			assert_true(rows == per_file || (rows < per_file && i == cnt - 1));
		for (p = strchr(p, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
			const char *c = strchr(p, '\n');
			while (c > p && *c != ',')
				c--;
			assert_int_equal(strtol(c + 1, NULL, 10), k);
			k++;
		}
		free(content);
		files++;
	}
	assert_int_equal(k, nrows);
	free_list(names);
	return files;
}

static ldms_set_t counter_set(const char *schema)
{
	struct ldms_schema *sch = ldms_schema_new(schema);
	ldms_set_t s;

	ldms_schema_metric_add(sch, "seq", LDMS_V_U64, NULL);
	s = ldms_set_new("node-1/counter", sch);
	ldms_schema_delete(sch);
	ldms_set_producer_name_set(s, "node-1");
	return s;
}

static void counter_store(struct inst *in, void *ctx, struct policy *pol, ldms_set_t s, uint64_t v)
{
	ldms_transaction_begin(s);
	ldms_metric_set_u64(s, 0, v);
	ldms_transaction_end(s);
	assert_int_equal(P->store(&in->h, ctx, s, &pol->p), 0);
}

/* rolltype=3: 5 rows per file, 12 rows -> 5+5+2, names <schema>.<epoch> distinct;
 * rolltype=4 by bytes. */
static void test_roll_records(void **state)
{
	char *dir = mkdir_tmp("roll3"), d[512], cdir[600];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	void *ctx = NULL;
	ldms_set_t s = counter_set("cnt");

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv4");
	assert_int_equal(inst_config(&in, &err, "path=%s rolltype=3 rollover=5", d), 0);
	policy_all(&pol, s, "r");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	for (uint64_t v = 0; v < 12; v++)
		counter_store(&in, ctx, &pol, s, v);
	P->store_close(&in.h, ctx);
	snprintf(cdir, sizeof(cdir), "%s/r", d);
	assert_int_equal(check_rows(cdir, "cnt", 12, 5), 3);
	P->term(&in.h);

	/* rolltype=4: a file is closed once it holds rollover bytes (minimum 1024) */
	inst_init(&in, "csv4b");
	assert_int_equal(inst_config(&in, &err, "path=%s rolltype=4 rollover=10 rollempty=0", d),
			 0);
	policy_all(&pol, s, "b");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	for (uint64_t v = 0; v < 100; v++)
		counter_store(&in, ctx, &pol, s, v);
	P->store_close(&in.h, ctx);
	snprintf(cdir, sizeof(cdir), "%s/b", d);
	int files = check_rows(cdir, "cnt", 100, 0), cnt;
	assert_true(files >= 3);
	char **names = list_dir(cdir, &cnt);
	for (int i = 0; i < cnt - 1; i++) {
		struct stat sb;
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", cdir, names[i]);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_size >= 1024 && sb.st_size < 1024 + 64);
	}
	free_list(names);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* rolltype=1 (minimum 10 s): rows stored across the roll are all there, once. */
static void test_roll_time(void **state)
{
	char *dir = mkdir_tmp("roll1"), d[512], cdir[600];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	void *ctx = NULL;
	ldms_set_t s = counter_set("tick");
	uint64_t v = 0;
	int cnt = 0;

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv5");
	assert_int_equal(inst_config(&in, &err, "path=%s rolltype=1 rollover=1 buffer=0", d), 0);
	policy_all(&pol, s, "t");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	snprintf(cdir, sizeof(cdir), "%s/t", d);
	/* store until the roll thread has opened a second file (bounded: 40 s) */
	for (int i = 0; i < 400 && cnt < 2; i++) {
		counter_store(&in, ctx, &pol, s, v++);
		usleep(100000);
		free_list(list_dir(cdir, &cnt));
	}
	assert_int_equal(cnt, 2);
	for (int i = 0; i < 3; i++)
		counter_store(&in, ctx, &pol, s, v++);
	P->store_close(&in.h, ctx);
	assert_int_equal(check_rows(cdir, "tick", (int)v, 0), 2);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* Closed files are renamed per rename_template, with rename_perm applied. */
static void test_rename(void **state)
{
	char *dir = mkdir_tmp("rename"), d[512], path[1024];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	struct stat sb;
	void *ctx = NULL;
	ldms_set_t s = counter_set("ren");
	int cnt;
	char **names;

	snprintf(d, sizeof(d), "%s", dir);
	setenv("CSV_TEST_TAG", "tag-1", 1);
	inst_init(&in, "csv6");
	assert_int_equal(
	    inst_config(&in, &err,
			"path=%s rolltype=3 rollover=3 altheader=1 typeheader=1 "
			"rename_template=%%D/spool/%%{CSV_TEST_TAG}/%%P-%%C-%%S-%%T-%%s-%%B%%q "
			"rename_perm=0440",
			d),
	    0);
	policy_all(&pol, s, "rc");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	for (uint64_t v = 0; v < 4; v++)
		counter_store(&in, ctx, &pol, s, v);
	P->store_close(&in.h, ctx);
	snprintf(path, sizeof(path), "%s/rc", d);
	names = list_dir(path, &cnt);
	assert_int_equal(cnt, 1); /* only the spool directory is left */
	assert_string_equal(names[0], "spool");
	free_list(names);
	snprintf(path, sizeof(path), "%s/rc/spool/tag-1", d);
	names = list_dir(path, &cnt);
	assert_int_equal(cnt, 6); /* two rolls of DATA, HEADER, KIND */
	int data = 0, hdr = 0, kind = 0;
	for (int i = 0; i < cnt; i++) {
		/* store_csv-rc-ren-<T>-<epoch>-<basename>%q: %P %C %S %T %s %B, and an
		 * unknown %q kept as is */
		static const char *types[] = {"DATA", "HEADER", "KIND"};
		char e[256], full[1200];
		int t;
		for (t = 0; t < 3; t++) {
			snprintf(e, sizeof(e), "store_csv-rc-ren-%s-", types[t]);
			if (!strncmp(names[i], e, strlen(e)))
				break;
		}
		assert_true(t < 3);
		long epoch = strtol(names[i] + strlen(e), NULL, 10);
		if (t == 0)
			snprintf(e, sizeof(e), "store_csv-rc-ren-DATA-%ld-ren.%ld%%q", epoch,
				 epoch);
		else
			snprintf(e, sizeof(e), "store_csv-rc-ren-%s-%ld-ren.%s.%ld%%q", types[t],
				 epoch, types[t], epoch);
		assert_string_equal(names[i], e);
		data += t == 0;
		hdr += t == 1;
		kind += t == 2;
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		assert_int_equal(stat(full, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0440);
	}
	assert_int_equal(data, 2);
	assert_int_equal(hdr, 2);
	assert_int_equal(kind, 2);
	free_list(names);
	P->term(&in.h);
	ldms_set_delete(s);
	unsetenv("CSV_TEST_TAG");
}

/* An unwritable path fails store_open with a message naming the path and the error;
 * the plugin stays usable. */
static void test_unwritable(void **state)
{
	char *dir = mkdir_tmp("unwritable"), d[512], plain[600];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	void *ctx = NULL;
	ldms_set_t s = counter_set("uw");
	FILE *f;

	snprintf(d, sizeof(d), "%s", dir);
	snprintf(plain, sizeof(plain), "%s/plainfile", d);
	f = fopen(plain, "w");
	fclose(f);
	inst_init(&in, "csv7");
	assert_int_equal(inst_config(&in, &err, "path=%s/sub", plain), 0);
	policy_all(&pol, s, "cont");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), -ENOTDIR);
	assert_null(ctx);
	assert_non_null(strstr(err.msg, plain));
	assert_non_null(strstr(err.msg, strerror(ENOTDIR)));
	P->term(&in.h);
	ldms_set_delete(s);
}

/* create_perm=0644: 0644 data files, 0755 directories (search where readable). */
static void test_create_perm(void **state)
{
	char *dir = mkdir_tmp("perm"), d[512], path[700];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	struct stat sb;
	void *ctx = NULL;
	ldms_set_t s = counter_set("pm");

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv8");
	assert_int_equal(inst_config(&in, &err, "path=%s create_perm=0644", d), 0);
	policy_all(&pol, s, "a/b");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), -EINVAL); /* '/' */
	policy_all(&pol, s, "pc");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	P->store_close(&in.h, ctx);
	snprintf(path, sizeof(path), "%s/pc/pm", d);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/pc", d);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* buffer=N buffertype=3: rows reach the file every N rows. */
static void test_buffer_lines(void **state)
{
	char *dir = mkdir_tmp("buf"), d[512], path[700], *c;
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	void *ctx = NULL, *ctx2 = NULL;
	ldms_set_t s = counter_set("bf");

	snprintf(d, sizeof(d), "%s", dir);
	inst_init(&in, "csv9");
	assert_int_equal(inst_config(&in, &err, "path=%s buffer=2 buffertype=3", d), 0);
	policy_all(&pol, s, "bc");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	/* a second policy on the same container/schema shares the files */
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx2, &err), 0);
	assert_ptr_equal(ctx, ctx2);
	P->store_close(&in.h, ctx2);
	snprintf(path, sizeof(path), "%s/bc/bf", d);
	counter_store(&in, ctx, &pol, s, 0);
	c = read_all(path);
	assert_int_equal(count_lines(c, "#"), 0);
	free(c);
	counter_store(&in, ctx, &pol, s, 1);
	c = read_all(path);
	assert_int_equal(count_lines(c, "#"), 2);
	free(c);
	P->store_close(&in.h, ctx);
	P->term(&in.h);
	ldms_set_delete(s);
}

/* opt_file: defaults line, container/schema line, comments and continuations; the
 * file's container/schema line wins over the config line's defaults. */
static void test_opt_file(void **state)
{
	char *dir = mkdir_tmp("optfile"), d[512], of[700], path[800];
	struct ldms_err err;
	struct inst in;
	struct policy pol;
	void *ctx = NULL;
	ldms_set_t s = counter_set("of");
	int cnt;
	char **names;
	FILE *f;

	snprintf(d, sizeof(d), "%s", dir);
	snprintf(of, sizeof(of), "%s/store_csv.conf", d);
	f = fopen(of, "w");
	fprintf(f,
		"# defaults \\\n  continued comment\n"
		"store_csv altheader=1 path=%s/nowhere\n"
		"container=special schema=of altheader=0 \\\n"
		"\ttypeheader=2\n",
		d);
	fclose(f);
	inst_init(&in, "csv10");
	assert_int_equal(inst_config(&in, &err, "opt_file=%s path=%s", of, d), 0);
	policy_all(&pol, s, "special");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	P->store_close(&in.h, ctx);
	policy_all(&pol, s, "plain");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), 0);
	P->store_close(&in.h, ctx);
	snprintf(path, sizeof(path), "%s/special", d);
	names = list_dir(path, &cnt);
	assert_int_equal(cnt, 2);
	assert_string_equal(names[0], "of");
	assert_string_equal(names[1], "of.KIND");
	free_list(names);
	snprintf(path, sizeof(path), "%s/plain", d);
	names = list_dir(path, &cnt);
	assert_int_equal(cnt, 2);
	assert_string_equal(names[1], "of.HEADER");
	free_list(names);
	P->term(&in.h);

	/* errors in the file carry file:line */
	f = fopen(of, "w");
	fprintf(f, "store_csv path=/x\n\ncontainer=a schema=b rolltype=1\n");
	fclose(f);
	inst_init(&in, "csv11");
	assert_int_equal(inst_config(&in, &err, "opt_file=%s", of), -EINVAL);
	assert_string_equal(err.file, of);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "rolltype"));
	P->term(&in.h);
	ldms_set_delete(s);
}

static void expect_einval(const char *line, const char *word)
{
	struct ldms_err err;
	struct inst in;

	inst_init(&in, "bad");
	assert_int_equal(inst_config(&in, &err, "%s", line), -EINVAL);
	if (!strstr(err.msg, word))
		fail_msg("config '%s': message '%s' does not name '%s'", line, err.msg, word);
	P->term(&in.h);
}

static void test_config_errors(void **state)
{
	struct ldms_err err;
	struct inst in;

	expect_einval("path=/tmp rolltype=9 rollover=1", "rolltype");
	expect_einval("path=/tmp rolltype=1", "rolltype");
	expect_einval("path=/tmp rolltype=x rollover=1", "rolltype");
	expect_einval("path=/tmp rollover=-1", "rollover");
	expect_einval("path=/tmp rolltype=5 rollover=100 rollagain=50", "rollagain");
	expect_einval("path=/tmp typeheader=3", "typeheader");
	expect_einval("path=/tmp time_format=2", "time_format");
	expect_einval("path=/tmp altheader=maybe", "altheader");
	expect_einval("path=/tmp buffer=5", "buffer");
	expect_einval("path=/tmp buffertype=3", "buffertype");
	expect_einval("path=/tmp buffer=1 buffertype=3", "buffertype");
	expect_einval("path=/tmp buffer=4 buffertype=5", "buffertype");
	expect_einval("path=/tmp create_perm=999", "create_perm");
	expect_einval("path=/tmp array_sep=ab", "array_sep");
	expect_einval("path=/tmp bogus=1", "bogus");
	expect_einval("path=/tmp action=init", "action");
	expect_einval("path=/tmp rename_template=x", "rename_template");
	expect_einval("altheader=1", "path");
	expect_einval("path=/tmp container=c", "container");
	expect_einval("container=c schema=s path=/tmp", "defaults");

	inst_init(&in, "nofile");
	assert_int_equal(inst_config(&in, &err, "path=/tmp opt_file=/nonexistent/file"), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/file"));
	P->term(&in.h);

	inst_init(&in, "seq");
	assert_int_equal(inst_config(&in, &err, "path=/tmp"), 0);
	assert_int_equal(inst_config(&in, &err, "path=/tmp"), -EINVAL);
	assert_int_equal(inst_config(&in, &err, "container=c schema=s rollover=5"), -EINVAL);
	assert_non_null(strstr(err.msg, "rollover"));
	assert_int_equal(inst_config(&in, &err, "container=c schema=s typeheader=9"), -EINVAL);
	assert_int_equal(inst_config(&in, &err, "container=c schema=s altheader=1"), 0);
	assert_int_equal(inst_config(&in, &err, "container=c schema=s altheader=0"), -EEXIST);
	P->term(&in.h);

	/* store_open before config */
	struct policy pol;
	void *ctx = NULL;
	ldms_set_t s = counter_set("nc");
	inst_init(&in, "unconfigured");
	policy_all(&pol, s, "x");
	assert_int_equal(P->store_open(&in.h, &pol.p, s, &ctx, &err), -EINVAL);
	P->term(&in.h);
	ldms_set_delete(s);
}

static int setup(void **state)
{
	char path[1024];
	const char *b = getenv("LDMSC_BUILD");

	umask(022);
	snprintf(path, sizeof(path), "%s/lib/ldms-c/libstore_csv.so", b ? b : "build");
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	ldmsd_plugin_get_fn get = (ldmsd_plugin_get_fn)dlsym(dl, LDMSD_PLUGIN_ENTRY);
	if (!get)
		return -1;
	P = get();
	if (!P || P->type != LDMSD_PLUGIN_STORE || P->api_version != LDMSD_PLUGIN_API_VERSION)
		return -1;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/test_store_csv.XXXXXX");
	if (!mkdtemp(tmp_root))
		return -1;
	ldms_log_level_set(LDMS_LCRITICAL);
	return 0;
}

static int teardown(void **state)
{
	if (!getenv("LDMSC_KEEP_TMP")) /* keep the files to look at them */
		rm_rf(tmp_root);
	else
		fprintf(stderr, "kept %s\n", tmp_root);
	if (dl)
		dlclose(dl);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meminfo_golden), cmocka_unit_test(test_all_types),
	    cmocka_unit_test(test_options_files),  cmocka_unit_test(test_roll_records),
	    cmocka_unit_test(test_rename),	   cmocka_unit_test(test_unwritable),
	    cmocka_unit_test(test_create_perm),	   cmocka_unit_test(test_buffer_lines),
	    cmocka_unit_test(test_opt_file),	   cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_roll_time),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
