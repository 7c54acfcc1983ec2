/* Unit tests of the set model: byte-identical set memory against upstream's
 * captures (03-test-sampler set.bin/set-sampled.bin, 02-lookup-read meminfo and
 * vmstat), gn/transaction rules, the ring, remote validation of hostile bytes,
 * the registry with observers, and set info. */
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

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "set_priv.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static uint8_t *load_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!fp) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static uint8_t *golden_file(const char *rel, size_t *len)
{
	char path[1024];
	const char *g = getenv("LDMSC_GOLDEN");

	snprintf(path, sizeof(path), "%s/%s", g ? g : "../shared/golden", rel);
	return load_file(path, len);
}

static uint8_t *data_file(const char *rel, size_t *len)
{
	char path[1024];
	const char *src = getenv("LDMSC_SRC");

	snprintf(path, sizeof(path), "%s/tests/unit/data/set/%s", src ? src : ".", rel);
	return load_file(path, len);
}

/* Byte comparison that names the first differing offset. */
static void assert_bytes(const uint8_t *a, const uint8_t *b, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++) {
		if (a[i] != b[i]) {
			fail_msg("%s: first difference at offset %zu: got %02x want %02x", what, i,
				 a[i], b[i]);
		}
	}
}

/* Schema 'golden' of 03-test-sampler/set.txt, built as upstream's test_sampler
 * does from its add_schema line. */
static struct ldms_schema *golden_schema(void)
{
	struct ldms_schema *sch = ldms_schema_new("golden");

	assert_non_null(sch);
	assert_int_equal(ldms_schema_meta_add(sch, "component_id", LDMS_V_U64, NULL), 0);
	assert_int_equal(ldms_schema_meta_add(sch, "m_u32", LDMS_V_U32, ""), 1);
	assert_int_equal(ldms_schema_metric_add(sch, "v_u8", LDMS_V_U8, NULL), 2);
	assert_int_equal(ldms_schema_metric_add(sch, "v_u32", LDMS_V_U32, NULL), 3);
	assert_int_equal(ldms_schema_metric_add(sch, "v_u64", LDMS_V_U64, NULL), 4);
	assert_int_equal(ldms_schema_metric_add(sch, "v_s32", LDMS_V_S32, NULL), 5);
	assert_int_equal(ldms_schema_metric_add(sch, "v_d64", LDMS_V_D64, "sec"), 6);
	assert_int_equal(ldms_schema_metric_array_add(sch, "v_str", LDMS_V_CHAR_ARRAY, 8, NULL), 7);
	assert_int_equal(ldms_schema_metric_array_add(sch, "v_u64a", LDMS_V_U64_ARRAY, 3, NULL), 8);
	return sch;
}

/* test_sampler's add_set: create, set the producer, write every metric's initial
 * value through the API, then component_id again from add_set's component_id=7.
 *
 * Why meta_gn = 4 and data gn = 10 in set.bin: a new local set starts with
 * meta_gn = 1 and data gn = 1 (upstream's creation code copies meta_gn into the
 * data header's gn). Every metric write bumps one gn: META writes bump meta_gn,
 * DATA writes bump the data gn.
 *   meta: component_id=7, m_u32=99, component_id=7 (add_set)       1 + 3 = 4
 *   data: v_u8, v_u32, v_u64, v_s32, v_d64 (5 scalar writes),
 *         v_str (one array_set_str), v_u64a (3 element writes)   1 + 5 + 1 + 3 = 10
 * The producer name, uid/gid/perm and the instance do not bump anything. */
static ldms_set_t golden_set(const char *instance)
{
	struct ldms_schema *sch = golden_schema();
	ldms_set_t s = ldms_set_new_with_auth(instance, sch, 0, 0, 0440);

	assert_non_null(s);
	ldms_schema_delete(sch);
	assert_int_equal(ldms_set_producer_name_set(s, "golden"), 0);
	ldms_metric_set_u64(s, 0, 7);
	ldms_metric_set_u32(s, 1, 99);
	ldms_metric_set_u8(s, 2, 200);
	ldms_metric_set_u32(s, 3, 4000000000u);
	ldms_metric_set_u64(s, 4, 1234567890123ULL);
	ldms_metric_set_s32(s, 5, -123456);
	ldms_metric_set_double(s, 6, 3.25);
	ldms_metric_array_set_str(s, 7, "X");
	for (uint32_t k = 0; k < 3; k++)
		ldms_metric_array_set_u64(s, 8, k, 42);
	ldms_metric_set_u64(s, 0, 7); /* add_set component_id=7 */
	return s;
}

/* ---- golden set memory -------------------------------------------------------------------- */

static void test_golden_static(void **state)
{
	size_t len;
	uint8_t *gold = golden_file("wire/03-test-sampler/set.bin", &len);
	ldms_set_t s;
	char dg[65];

	assert_non_null(gold);
	assert_int_equal(len, 792);
	s = golden_set("golden/static");
	assert_int_equal(ldms_set_meta_sz_get(s), 624);
	assert_int_equal(ldms_set_data_sz_get(s), 168);
	assert_int_equal(ldms_set_mem_size(s), 792);
	assert_int_equal(ldms_set_meta_gn_get(s), 4);
	assert_int_equal(ldms_set_data_gn_get(s), 10);
	assert_string_equal(ldms_set_digest_str(s, dg),
			    "7BCEB9C4350556C3AEC8BF232945825E4FB9446B803F4464EFBE3F06E6B45F55");
	assert_false(ldms_set_is_consistent(s));
	assert_bytes(ldms_set_mem(s), gold, 792, "golden/static");
	ldms_set_put(s);
	free(gold);
}

/* golden/sampled: one test_sampler sample writes the values straight into set
 * memory (no gn bump per metric), so the only gn change is transaction_end's:
 * data gn 11. Timestamp and duration are the capture's and are masked. */
static void test_golden_sampled(void **state)
{
	size_t len;
	uint8_t *gold = golden_file("wire/03-test-sampler/set-sampled.bin", &len);
	uint8_t *m, *d;
	ldms_set_t s;

	assert_non_null(gold);
	assert_int_equal(len, 792);
	s = golden_set("golden/sampled");
	assert_int_equal(ldms_transaction_begin(s), 0);
	d = (uint8_t *)ldms_metric_value_ptr(s, 2);
	d[0] = 201;
	put_le32((uint8_t *)ldms_metric_value_ptr(s, 3), 4000000001u);
	put_le64((uint8_t *)ldms_metric_value_ptr(s, 4), 1234567890124ULL);
	put_le32((uint8_t *)ldms_metric_value_ptr(s, 5), (uint32_t)-123455);
	double dv = 4.0;
	memcpy((void *)ldms_metric_value_ptr(s, 6), &dv, 8);
	memcpy((void *)ldms_metric_value_ptr(s, 7), "lllllll", 8);
	for (int k = 0; k < 3; k++)
		put_le64((uint8_t *)ldms_metric_value_ptr(s, 8) + 8 * k, 43);
	assert_false(ldms_set_is_consistent(s));
	assert_int_equal(ldms_transaction_end(s), 0);
	assert_true(ldms_set_is_consistent(s));
	assert_int_equal(ldms_set_data_gn_get(s), 11);

	m = ldms_set_mem(s);
	/* mask trans.ts and trans.dur of the data header (624..639) */
	memcpy(m + 624, gold + 624, 16);
	assert_bytes(m, gold, 792, "golden/sampled");
	ldms_set_put(s);
	free(gold);
}

/* Rebuilds a sampler_base schema from a captured metric list. */
static struct ldms_schema *schema_from_list(const char *name, const char *file, int *card)
{
	size_t len;
	char *txt = (char *)data_file(file, &len), *line, *save = NULL;
	struct ldms_schema *sch = ldms_schema_new(name);

	assert_non_null(txt);
	txt = realloc(txt, len + 1);
	txt[len] = '\0';
	*card = 0;
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fl, mname[256];
		int type, rc;
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%c %d %255s", &fl, &type, mname), 3);
		if (fl == 'M')
			rc = ldms_schema_meta_add(sch, mname, (enum ldms_value_type)type, NULL);
		else
			rc = ldms_schema_metric_add(sch, mname, (enum ldms_value_type)type, NULL);
		assert_int_equal(rc, *card);
		(*card)++;
	}
	free(txt);
	return sch;
}

/* meminfo/vmstat of 02-lookup-read: sampler_base creates the set with perm 0644,
 * sets component_id=1 (meta_gn 1 -> 2) and job_id=app_id=0 (data gn 1 -> 3);
 * each sample then writes the plugin's metrics and ends the transaction:
 * gn = 3 + samples * (metrics + 1): 278 = 3 + 5*55 (meminfo), 968 = 3 + 5*193
 * (vmstat), the values in the capture. The meta section must match byte for byte;
 * the data section too, except for the transaction timestamp and duration. */
static void check_sampler_set(const char *schema, const char *inst, const char *list,
			      const char *bin, uint32_t meta_sz, uint32_t data_sz,
			      const char *digest, int samples)
{
	size_t len;
	uint8_t *gold = data_file(bin, &len);
	int card;
	struct ldms_schema *sch = schema_from_list(schema, list, &card);
	ldms_set_t s;
	char dg[65];
	uint8_t *m;

	assert_non_null(gold);
	assert_int_equal(len, meta_sz + data_sz);
	s = ldms_set_new_with_auth(inst, sch, 0, 0, 0644);
	assert_non_null(s);
	ldms_schema_delete(sch);
	assert_int_equal(ldms_set_card_get(s), card);
	assert_int_equal(ldms_set_meta_sz_get(s), meta_sz);
	assert_int_equal(ldms_set_data_sz_get(s), data_sz);
	assert_string_equal(ldms_set_digest_str(s, dg), digest);
	ldms_set_producer_name_set(s, "samp");
	ldms_metric_set_u64(s, 0, 1);
	ldms_metric_set_u64(s, 1, 0);
	ldms_metric_set_u64(s, 2, 0);
	assert_int_equal(ldms_set_meta_gn_get(s), 2);
	assert_int_equal(ldms_set_data_gn_get(s), 3);
	for (int k = 0; k < samples; k++) {
		ldms_transaction_begin(s);
		for (int i = 3; i < card; i++) {
			const uint8_t *gv = gold + meta_sz + 96 + 8 * (i - 1);
			ldms_metric_set_u64(s, i, get_le64(gv));
		}
		ldms_transaction_end(s);
	}
	m = ldms_set_mem(s);
	assert_bytes(m, gold, meta_sz, "meta section");
	memcpy(m + meta_sz, gold + meta_sz, 16); /* ts, dur */
	assert_bytes(m + meta_sz, gold + meta_sz, data_sz, "data section");
	ldms_set_put(s);
	free(gold);
}

static void test_golden_meminfo(void **state)
{
	check_sampler_set("meminfo", "samp/meminfo", "meminfo_metrics.txt", "meminfo_02.bin", 2968,
			  544, "4B6356268C98436AAC94DD173E51FA054621B9BB1F4C05E530F1B151930AA0BE",
			  5);
}

static void test_golden_vmstat(void **state)
{
	check_sampler_set("vmstat", "samp/vmstat", "vmstat_metrics.txt", "vmstat_02.bin", 10688,
			  1648, "A2870AEA0A5E25C1945023136AF6B4C0489EAEE1730B950EFA68DE38AE440C09",
			  5);
}

/* ---- local set behaviour --------------------------------------------------------------------- */

static void test_types(void **state)
{
	assert_string_equal(ldms_metric_type_to_str(LDMS_V_U64), "u64");
	assert_string_equal(ldms_metric_type_to_str(LDMS_V_CHAR_ARRAY), "char[]");
	assert_string_equal(ldms_metric_type_to_str(LDMS_V_D64_ARRAY), "d64[]");
	assert_string_equal(ldms_metric_type_to_str(LDMS_V_TIMESTAMP), "timestamp");
	assert_null(ldms_metric_type_to_str((enum ldms_value_type)29));
	assert_int_equal(ldms_metric_str_to_type("u64"), LDMS_V_U64);
	assert_int_equal(ldms_metric_str_to_type("u64[]"), LDMS_V_U64_ARRAY);
	assert_int_equal(ldms_metric_str_to_type("u64_array"), LDMS_V_U64_ARRAY);
	assert_int_equal(ldms_metric_str_to_type("char_array"), LDMS_V_CHAR_ARRAY);
	assert_int_equal(ldms_metric_str_to_type("D64"), LDMS_V_D64);
	assert_int_equal(ldms_metric_str_to_type("bogus"), LDMS_V_NONE);
	assert_true(ldms_type_is_array(LDMS_V_CHAR_ARRAY));
	assert_false(ldms_type_is_array(LDMS_V_U64));
	assert_int_equal(ldms_type_elem_size(LDMS_V_U16_ARRAY), 2);
	assert_int_equal(ldms_type_elem_size(LDMS_V_CHAR_ARRAY), 1);
	assert_int_equal(ldms_type_elem_size(LDMS_V_LIST), 0);
}

static void test_schema_errors(void **state)
{
	struct ldms_schema *sch = ldms_schema_new("x");
	char longname[300];

	assert_null(ldms_schema_new(""));
	assert_int_equal(ldms_schema_metric_add(sch, "a", LDMS_V_U64, NULL), 0);
	assert_int_equal(ldms_schema_metric_add(sch, "a", LDMS_V_U32, NULL), -EEXIST);
	assert_int_equal(ldms_schema_metric_add(sch, "", LDMS_V_U32, NULL), -EINVAL);
	assert_int_equal(ldms_schema_metric_add(sch, "b", LDMS_V_NONE, NULL), -EINVAL);
	assert_int_equal(ldms_schema_metric_add(sch, "b", (enum ldms_value_type)99, NULL), -EINVAL);
	assert_int_equal(ldms_schema_metric_add(sch, "b", LDMS_V_LIST, NULL), -ENOTSUP);
	assert_int_equal(ldms_schema_metric_array_add(sch, "b", LDMS_V_U64, 3, NULL), -EINVAL);
	assert_int_equal(ldms_schema_metric_array_add(sch, "b", LDMS_V_U64_ARRAY, 0, NULL),
			 -EINVAL);
	memset(longname, 'n', sizeof(longname));
	longname[254] = '\0';
	assert_int_equal(ldms_schema_metric_add(sch, longname, LDMS_V_U8, NULL), -ENAMETOOLONG);
	longname[253] = '\0';
	assert_int_equal(ldms_schema_metric_add(sch, longname, LDMS_V_U8, NULL), 1);
	assert_int_equal(ldms_schema_metric_add(sch, "ts", LDMS_V_TIMESTAMP, NULL), 2);
	assert_int_equal(ldms_schema_metric_count(sch), 3);
	assert_int_equal(ldms_schema_array_card_set(sch, 0), -EINVAL);
	assert_string_equal(ldms_schema_name(sch), "x");
	memset(longname, 'i', sizeof(longname));
	longname[255] = '\0';
	assert_null(ldms_set_new(longname, sch));
	longname[254] = '\0';
	ldms_set_t s = ldms_set_new(longname, sch);
	assert_non_null(s);
	ldms_set_put(s);
	ldms_schema_delete(sch);
}

static void test_gn_rules(void **state)
{
	ldms_set_t s = golden_set("gn/test");
	uint64_t m0 = ldms_set_meta_gn_get(s), d0 = ldms_set_data_gn_get(s);
	const uint8_t *dh = set_data_section(s, 0);

	/* META write: meta_gn++ and mirrored into the data header */
	ldms_metric_set_u32(s, 1, 5);
	assert_int_equal(ldms_set_meta_gn_get(s), m0 + 1);
	assert_int_equal(get_le64(dh + DH_META_GN), m0 + 1);
	assert_int_equal(ldms_set_data_gn_get(s), d0);
	/* DATA write */
	ldms_metric_set_u8(s, 2, 1);
	assert_int_equal(ldms_set_data_gn_get(s), d0 + 1);
	/* udata: bumps the gn of the metric's section (DATA metric -> data gn) */
	ldms_metric_user_data_set(s, 3, 77);
	assert_int_equal(ldms_metric_user_data_get(s, 3), 77);
	assert_int_equal(ldms_set_data_gn_get(s), d0 + 2);
	ldms_metric_user_data_set(s, 0, 5);
	assert_int_equal(ldms_set_meta_gn_get(s), m0 + 2);
	/* ownership changes do not bump */
	ldms_set_perm_set(s, 0600);
	ldms_set_uid_set(s, 12);
	ldms_set_gid_set(s, 13);
	assert_int_equal(ldms_set_perm_get(s), 0600);
	assert_int_equal(ldms_set_uid_get(s), 12);
	assert_int_equal(ldms_set_gid_get(s), 13);
	assert_int_equal(ldms_set_perm_set(s, 01000), -EINVAL);
	assert_int_equal(ldms_set_meta_gn_get(s), m0 + 2);

	/* transactions: begin does not bump, end does; flags; ts/dur */
	uint64_t d1 = ldms_set_data_gn_get(s), before = ldms_now_us() / 1000000;
	assert_int_equal(ldms_transaction_begin(s), 0);
	assert_int_equal(get_le32(dh + DH_FLAGS), LDMS_TRANS_BEGIN);
	assert_false(ldms_set_is_consistent(s));
	assert_int_equal(ldms_set_data_gn_get(s), d1);
	assert_int_equal(ldms_transaction_end(s), 0);
	assert_int_equal(get_le32(dh + DH_FLAGS), LDMS_TRANS_END);
	assert_true(ldms_set_is_consistent(s));
	assert_int_equal(ldms_set_data_gn_get(s), d1 + 1);
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(s);
	struct ldms_timestamp du = ldms_transaction_duration_get(s);
	assert_true(ts.sec >= before && ts.sec <= ldms_now_us() / 1000000);
	assert_true(ts.usec < 1000000 && du.usec < 1000000);
	assert_true(du.sec <= 1);
	ldms_set_put(s);
}

static void test_metric_access(void **state)
{
	struct ldms_schema *sch = ldms_schema_new("acc");
	ldms_set_t s;
	int i8, i16, f32, d64, str, u16a, f32a, ts, s64a, ch;

	ldms_schema_metric_add(sch, "u8", LDMS_V_U8, NULL);
	i8 = ldms_schema_metric_add(sch, "s8", LDMS_V_S8, NULL);
	i16 = ldms_schema_metric_add(sch, "s16", LDMS_V_S16, "B");
	f32 = ldms_schema_metric_add(sch, "f32", LDMS_V_F32, NULL);
	d64 = ldms_schema_meta_add(sch, "d64", LDMS_V_D64, NULL);
	str = ldms_schema_metric_array_add(sch, "str", LDMS_V_CHAR_ARRAY, 4, NULL);
	u16a = ldms_schema_meta_array_add(sch, "u16a", LDMS_V_U16_ARRAY, 5, "x");
	f32a = ldms_schema_metric_array_add(sch, "f32a", LDMS_V_F32_ARRAY, 2, NULL);
	ts = ldms_schema_metric_add(sch, "ts", LDMS_V_TIMESTAMP, NULL);
	s64a = ldms_schema_metric_array_add(sch, "s64a", LDMS_V_S64_ARRAY, 2, NULL);
	ch = ldms_schema_metric_add(sch, "ch", LDMS_V_CHAR, NULL);
	s = ldms_set_new("acc/1", sch);
	assert_non_null(s);
	ldms_schema_delete(sch);

	assert_int_equal(ldms_metric_by_name(s, "u16a"), u16a);
	assert_int_equal(ldms_metric_by_name(s, "nope"), -ENOENT);
	assert_string_equal(ldms_metric_name_get(s, i16), "s16");
	assert_string_equal(ldms_metric_unit_get(s, i16), "B");
	assert_string_equal(ldms_metric_unit_get(s, 0), "");
	assert_int_equal(ldms_metric_type_get(s, f32a), LDMS_V_F32_ARRAY);
	assert_int_equal(ldms_metric_flags_get(s, d64), LDMS_MDESC_F_META);
	assert_int_equal(ldms_metric_flags_get(s, f32), LDMS_MDESC_F_DATA);
	assert_int_equal(ldms_metric_array_get_len(s, u16a), 5);
	assert_int_equal(ldms_metric_array_get_len(s, 0), 1);
	assert_null(ldms_metric_name_get(s, 99));
	assert_null(ldms_metric_name_get(s, -1));

	/* conversions: the value is stored in the metric's own type */
	ldms_metric_set_u64(s, 0, 300); /* u8: truncated like a C cast */
	assert_int_equal(ldms_metric_get_u8(s, 0), 300 & 0xff);
	ldms_metric_set_s8(s, i8, -5);
	assert_int_equal(ldms_metric_get_s8(s, i8), -5);
	assert_int_equal(ldms_metric_get_s64(s, i8), -5);
	ldms_metric_set_s16(s, i16, -30000);
	assert_int_equal(ldms_metric_get_s16(s, i16), -30000);
	assert_int_equal(ldms_metric_array_get_as_s64(s, i16, 0), -30000);
	ldms_metric_set_float(s, f32, 1.5f);
	assert_true(ldms_metric_get_float(s, f32) == 1.5f);
	assert_true(ldms_metric_get_double(s, f32) == 1.5);
	assert_int_equal(ldms_metric_get_u64(s, f32), 1);
	ldms_metric_set_double(s, d64, -2.75);
	assert_true(ldms_metric_get_double(s, d64) == -2.75);
	assert_int_equal(ldms_metric_get_s32(s, d64), -2);
	ldms_metric_set_double(s, 0, 1e300); /* out of range: saturates, no UB */
	ldms_metric_set_double(s, f32, 1e300);
	ldms_metric_set_char(s, ch, 'q');
	assert_int_equal(ldms_metric_get_char(s, ch), 'q');

	/* arrays */
	for (uint32_t k = 0; k < 5; k++)
		ldms_metric_array_set_u16(s, u16a, k, (uint16_t)(k * 1000));
	ldms_metric_array_set_u16(s, u16a, 5, 9); /* ignored */
	assert_int_equal(ldms_metric_array_get_as_u64(s, u16a, 4), 4000);
	assert_int_equal(ldms_metric_array_get_as_u64(s, u16a, 5), 0);
	ldms_metric_array_set_float(s, f32a, 1, 0.5f);
	assert_true(ldms_metric_array_get_as_double(s, f32a, 1) == 0.5);
	ldms_metric_array_set_s64(s, s64a, 1, INT64_MIN);
	assert_true(ldms_metric_array_get_as_s64(s, s64a, 1) == INT64_MIN);
	ldms_metric_set_u64(s, ts, ((uint64_t)7 << 32) | 5);
	assert_int_equal(get_le32((const uint8_t *)ldms_metric_value_ptr(s, ts)), 5);

	/* strings */
	ldms_metric_array_set_str(s, str, "abcdef");
	assert_string_equal(ldms_metric_array_get_str(s, str), "abc");
	ldms_metric_array_set_str(s, str, "z");
	assert_memory_equal(ldms_metric_value_ptr(s, str), "z\0\0\0", 4);
	for (uint32_t k = 0; k < 4; k++)
		ldms_metric_array_set_u8(s, str, k, 'w'); /* no NUL left */
	assert_string_equal(ldms_metric_array_get_str(s, str), "wwww");
	assert_null(ldms_metric_array_get_str(s, 0));

	/* out-of-range indexes are ignored */
	ldms_metric_set_u64(s, 1000, 1);
	ldms_metric_set_u64(s, -3, 1);
	assert_int_equal(ldms_metric_get_u64(s, 1000), 0);
	assert_null(ldms_metric_value_ptr(s, 1000));
	ldms_set_put(s);
}

static void test_ring(void **state)
{
	struct ldms_schema *sch = ldms_schema_new("ring");
	ldms_set_t s, r;
	uint32_t meta_sz, data_sz;

	ldms_schema_meta_add(sch, "component_id", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sch, "v", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sch, "w", LDMS_V_U32, NULL);
	assert_int_equal(ldms_schema_array_card_set(sch, 3), 0);
	s = ldms_set_new("ring/1", sch);
	ldms_schema_delete(sch);
	assert_non_null(s);
	meta_sz = ldms_set_meta_sz_get(s);
	data_sz = ldms_set_data_sz_get(s);
	assert_int_equal(ldms_set_array_card_get(s), 3);
	assert_int_equal(ldms_set_mem_size(s), meta_sz + 3 * data_sz);
	for (uint32_t k = 0; k < 3; k++) {
		const uint8_t *dh = set_data_section(s, k);
		assert_int_equal(get_le32(dh + DH_SET_OFF), meta_sz + k * data_sz);
		assert_int_equal(get_le64(dh + DH_SIZE), data_sz);
	}
	ldms_metric_set_u32(s, 2, 9); /* carried forward by every begin */
	for (uint64_t n = 1; n <= 5; n++) {
		ldms_transaction_begin(s);
		assert_int_equal(ldms_set_curr_idx_get(s), n % 3);
		ldms_metric_set_u64(s, 1, n * 10);
		ldms_transaction_end(s);
		assert_int_equal(ldms_metric_get_u64(s, 1), n * 10);
		assert_int_equal(ldms_metric_get_u32(s, 2), 9);
	}
	/* copies: idx 2 holds sample 5, idx 1 sample 4, idx 0 sample 3 */
	for (uint32_t k = 0; k < 3; k++) {
		const uint8_t *dh = set_data_section(s, k);
		assert_int_equal(get_le32(dh + DH_CURR_IDX), 2);
		assert_int_equal(get_le32(dh + DH_SET_OFF), meta_sz + k * data_sz);
		assert_int_equal(get_le64(dh + 96), (k + 3) * 10);
		assert_int_equal(get_le32(dh + DH_FLAGS), LDMS_TRANS_END);
	}

	/* A mirror of it navigates to the latest copy. */
	r = ldms_set_new_remote("ring/1", "ring", meta_sz, data_sz, 3);
	assert_non_null(r);
	memcpy(ldms_set_mem(r), ldms_set_mem(s), ldms_set_mem_size(s));
	assert_int_equal(ldms_set_remote_validate(r), 0);
	assert_int_equal(ldms_set_curr_idx_get(r), 2);
	assert_int_equal(ldms_metric_get_u64(r, 1), 50);
	assert_int_equal(ldms_set_data_gn_get(r), ldms_set_data_gn_get(s));
	/* Copy 2 not read (zero): the newest copy is 1; an out-of-range curr_idx
	 * falls back to that newest copy. */
	memset((uint8_t *)ldms_set_mem(r) + meta_sz + 2 * data_sz, 0, data_sz);
	put_le32((uint8_t *)ldms_set_mem(r) + meta_sz + data_sz + DH_CURR_IDX, 77);
	put_le32((uint8_t *)ldms_set_mem(r) + meta_sz + DH_CURR_IDX, 77);
	assert_int_equal(ldms_set_curr_idx_get(r), 1);
	assert_int_equal(ldms_metric_get_u64(r, 1), 40);
	assert_int_equal(ldms_transaction_begin(r), -EINVAL);
	ldms_set_put(r);
	ldms_set_put(s);
}

/* ---- remote sets ------------------------------------------------------------------------------
 */

static ldms_set_t remote_named(const char *inst, const char *schema, const uint8_t *bytes,
			       size_t len, uint32_t meta, uint32_t data, uint32_t card)
{
	ldms_set_t r = ldms_set_new_remote(inst, schema, meta, data, card);

	assert_non_null(r);
	memcpy(ldms_set_mem(r), bytes, len < ldms_set_mem_size(r) ? len : ldms_set_mem_size(r));
	return r;
}

static ldms_set_t remote_from(const uint8_t *bytes, size_t len, uint32_t meta, uint32_t data,
			      uint32_t card)
{
	return remote_named("golden/static", "golden", bytes, len, meta, data, card);
}

/* Every accessor on every metric (what the fuzz target does too). */
static void touch_all(ldms_set_t r)
{
	uint32_t card = ldms_set_card_get(r);
	volatile uint64_t sink = 0;
	char dg[65];

	sink += ldms_set_meta_gn_get(r) + ldms_set_data_gn_get(r) + ldms_set_is_consistent(r);
	sink += strlen(ldms_set_producer_name_get(r)) + strlen(ldms_set_digest_str(r, dg));
	sink += ldms_transaction_timestamp_get(r).sec + ldms_set_curr_idx_get(r);
	for (uint32_t i = 0; i < card + 2; i++) {
		const char *n = ldms_metric_name_get(r, (int)i);
		const char *str;
		if (n) {
			sink += strlen(n) + strlen(ldms_metric_unit_get(r, (int)i));
			sink += (uint64_t)ldms_metric_by_name(r, n);
		}
		sink += ldms_metric_type_get(r, (int)i) + ldms_metric_flags_get(r, (int)i);
		sink += ldms_metric_user_data_get(r, (int)i) + ldms_metric_get_u64(r, (int)i);
		sink += (uint64_t)ldms_metric_get_double(r, (int)i) != 0;
		for (uint32_t k = 0; k < ldms_metric_array_get_len(r, (int)i) + 1 && k < 64; k++)
			sink += ldms_metric_array_get_as_u64(r, (int)i, k);
		str = ldms_metric_array_get_str(r, (int)i);
		if (str)
			sink += strlen(str);
		ldms_metric_set_u64(r, (int)i, 1);
		ldms_metric_array_set_u8(r, (int)i, 2, 1);
		ldms_metric_array_set_str(r, (int)i, "abcdefghijkl");
	}
	(void)sink;
}

static void test_remote_golden(void **state)
{
	size_t len;
	uint8_t *gold = golden_file("wire/03-test-sampler/set-sampled.bin", &len);
	ldms_set_t r = remote_named("golden/sampled", "golden", gold, len, 624, 168, 1);
	char dg[65];

	assert_true(ldms_set_is_remote(r));
	/* Before validation nothing is navigable. */
	assert_int_equal(ldms_set_card_get(r), 0);
	assert_null(ldms_metric_name_get(r, 0));
	assert_int_equal(ldms_set_remote_validate(r), 0);
	assert_int_equal(ldms_set_card_get(r), 9);
	assert_string_equal(ldms_set_producer_name_get(r), "golden");
	assert_string_equal(ldms_set_instance_name_get(r), "golden/sampled");
	assert_string_equal(ldms_set_digest_str(r, dg),
			    "7BCEB9C4350556C3AEC8BF232945825E4FB9446B803F4464EFBE3F06E6B45F55");
	assert_true(ldms_set_is_consistent(r));
	assert_int_equal(ldms_set_data_gn_get(r), 11);
	assert_int_equal(ldms_set_meta_gn_get(r), 4);
	assert_int_equal(ldms_transaction_timestamp_get(r).sec, 1795318987);
	assert_int_equal(ldms_transaction_timestamp_get(r).usec, 884965);
	assert_int_equal(ldms_transaction_duration_get(r).usec, 6);
	assert_int_equal(ldms_set_perm_get(r), 0440);
	assert_int_equal(ldms_metric_get_u64(r, 0), 7);
	assert_int_equal(ldms_metric_get_u32(r, 1), 99);
	assert_int_equal(ldms_metric_get_u8(r, 2), 201);
	assert_int_equal(ldms_metric_get_u32(r, 3), 4000000001u);
	assert_int_equal(ldms_metric_get_s32(r, 5), -123455);
	assert_true(ldms_metric_get_double(r, 6) == 4.0);
	assert_string_equal(ldms_metric_unit_get(r, 6), "sec");
	assert_string_equal(ldms_metric_array_get_str(r, 7), "lllllll");
	/* a mirror's string is a copy: the next update may remove its NUL */
	{
		const char *str = ldms_metric_array_get_str(r, 7);
		const uint8_t *mem = ldms_set_mem(r);
		assert_true((const uint8_t *)str < mem ||
			    (const uint8_t *)str >= mem + ldms_set_mem_size(r));
	}
	assert_int_equal(ldms_metric_array_get_as_u64(r, 8, 2), 43);
	assert_int_equal(ldms_metric_by_name(r, "v_u64a"), 8);
	/* Re-validating an unchanged meta keeps the same table. */
	const char *n0 = ldms_metric_name_get(r, 0);
	assert_int_equal(ldms_set_remote_validate(r), 0);
	assert_ptr_equal(ldms_metric_name_get(r, 0), n0);
	/* The peer overwrites meta with garbage: the validated table stays usable. */
	memset(ldms_set_mem(r), 0xff, 624);
	touch_all(r);
	assert_int_equal(ldms_set_remote_validate(r), -EPROTO);
	ldms_set_put(r);
	/* a meminfo mirror */
	free(gold);
	gold = data_file("meminfo_02.bin", &len);
	r = remote_named("samp/meminfo", "meminfo", gold, len, 2968, 544, 1);
	assert_int_equal(ldms_set_remote_validate(r), 0);
	assert_int_equal(ldms_set_card_get(r), 57);
	assert_int_equal(ldms_metric_get_u64(r, ldms_metric_by_name(r, "MemTotal")), 24683656);
	assert_int_equal(ldms_set_data_gn_get(r), 278);
	ldms_set_put(r);
	free(gold);
}

struct corruption {
	const char *what;
	size_t off;
	int width; /* 1, 4 */
	uint32_t value;
};

static void test_remote_reject(void **state)
{
	size_t len;
	uint8_t *gold = golden_file("wire/03-test-sampler/set.bin", &len);
	uint8_t *buf = malloc(len);
	/* Offsets in set.bin: dict @140, instance @176, schema @191, desc[0] @232
	 * (component_id, META value @600), desc[2] @320 (v_u8), desc[8] @560 (v_u64a). */
	const struct corruption cases[] = {
	    {"meta_sz differs from rendezvous", SH_META_SZ, 4, 632},
	    {"data_sz differs", SH_DATA_SZ, 4, 160},
	    {"array_card differs", SH_ARRAY_CARD, 4, 2},
	    {"big-endian producer", SH_FLAGS, 1, 1},
	    {"card too large", SH_CARD, 4, 1000000},
	    {"card pushes names out", SH_CARD, 4, 120},
	    {"heap larger than data", SH_HEAP_SZ, 4, 100},
	    {"dict beyond meta", SH_DICT + 4, 4, 620},
	    {"dict far beyond meta", SH_DICT, 4, 0xfffffff0u},
	    {"dict into header", SH_DICT, 4, 8},
	    {"instance len 0", 176, 1, 0},
	    {"instance len beyond meta", 176, 1, 255},
	    {"instance len longer than name", 176, 1, 15},
	    {"instance name differs", 177, 1, 'G'},
	    {"schema name differs", 192, 1, 'G'},
	    {"schema len not name+digest", 191, 1, 38},
	    {"instance without NUL", 176 + 14, 1, 'x'},
	    {"schema without NUL", 191 + 7, 1, 'x'},
	    {"name_unit_len beyond meta", 560 + VD_NAMELEN, 1, 200},
	    {"name_unit_len too short", 232 + VD_NAMELEN, 1, 1},
	    {"name without NUL", 232 + VD_NAMELEN, 1, 12},
	    {"empty name", 232 + VD_NAME, 1, 0},
	    {"unit without NUL", 480 + VD_NAME + 9, 1, 'x'},
	    {"type 0", 320 + VD_TYPE, 1, 0},
	    {"type 29", 320 + VD_TYPE, 1, 29},
	    {"type 255", 320 + VD_TYPE, 1, 255},
	    {"no DATA/META flag", 320 + VD_FLAGS, 1, 4},
	    {"data value beyond data_sz", 320 + VD_OFFSET, 4, 168},
	    {"data value into data header", 320 + VD_OFFSET, 4, 8},
	    {"array beyond data_sz", 560 + VD_OFFSET, 4, 152},
	    {"array count too large", 560 + VD_COUNT, 4, 4},
	    {"array count huge", 560 + VD_COUNT, 4, 0x40000000u},
	    {"array count 0", 560 + VD_COUNT, 4, 0},
	    {"meta value beyond meta_sz", 232 + VD_OFFSET, 4, 620},
	    {"meta value into dict", 232 + VD_OFFSET, 4, 140},
	};

	assert_non_null(buf);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		ldms_set_t r;
		memcpy(buf, gold, len);
		if (cases[c].width == 1)
			buf[cases[c].off] = (uint8_t)cases[c].value;
		else
			put_le32(buf + cases[c].off, cases[c].value);
		r = remote_from(buf, len, 624, 168, 1);
		if (ldms_set_remote_validate(r) != -EPROTO)
			fail_msg("not rejected: %s", cases[c].what);
		touch_all(r);
		ldms_set_put(r);
	}
	/* still fine after all that: the unmodified bytes */
	ldms_set_t r = remote_from(gold, len, 624, 168, 1);
	assert_int_equal(ldms_set_remote_validate(r), 0);
	ldms_set_put(r);
	/* impossible rendezvous sizes */
	assert_null(ldms_set_new_remote("x", "y", 100, 168, 1));
	assert_null(ldms_set_new_remote("x", "y", 624, 50, 1));
	assert_null(ldms_set_new_remote("x", "y", 624, 168, 0));
	assert_null(ldms_set_new_remote("x", "y", 0x7fffffff, 0x7fffffff, 4));
	assert_null(ldms_set_new_remote("", "y", 624, 168, 1));

	/* random damage: whatever validate says, nothing reads out of bounds */
	srand(12345);
	for (int it = 0; it < 20000; it++) {
		memcpy(buf, gold, len);
		int nflip = 1 + rand() % 4;
		for (int f = 0; f < nflip; f++)
			buf[rand() % 624] = (uint8_t)rand();
		r = remote_from(buf, len, 624, 168, 1);
		if (ldms_set_remote_validate(r) == 0)
			touch_all(r);
		ldms_set_put(r);
	}
	free(buf);
	free(gold);
}

/* ---- registry and info --------------------------------------------------------------------------
 */

struct ev_log {
	int add, del, upd;
	char last[64];
	int refs_ok;
};

static void observer(ldms_set_t s, enum ldms_set_event ev, void *arg)
{
	struct ev_log *l = arg;

	if (ev == LDMS_SET_EV_ADD)
		l->add++;
	else if (ev == LDMS_SET_EV_DEL)
		l->del++;
	else if (ev == LDMS_SET_EV_UPD)
		l->upd++;
	snprintf(l->last, sizeof(l->last), "%s", ldms_set_instance_name_get(s));
	/* The set is alive during the callback; no registry lock is held. */
	l->refs_ok += ldms_set_registry_count() < 100000;
}

struct walk {
	char prev[LDMS_SET_NAME_MAX];
	size_t n;
	int ordered;
};

static int walk_cb(ldms_set_t s, void *arg)
{
	struct walk *w = arg;
	const char *n = ldms_set_instance_name_get(s);

	if (w->n && strcmp(w->prev, n) >= 0)
		w->ordered = 0;
	snprintf(w->prev, sizeof(w->prev), "%s", n);
	w->n++;
	return 0;
}

static int stop_cb(ldms_set_t s, void *arg)
{
	return ++*(int *)arg == 3 ? 42 : 0;
}

static void test_registry(void **state)
{
	struct ev_log log = {0};
	size_t live0 = set_live_count();
	ldms_set_t a = golden_set("reg/b"), b = golden_set("reg/a"), c, x;
	struct walk w = {.ordered = 1};
	int cnt = 0;

	assert_int_equal(ldms_set_observer_add(observer, &log), 0);
	assert_int_equal(ldms_set_publish(a), 0);
	assert_int_equal(ldms_set_publish(a), -EBUSY);
	assert_int_equal(ldms_set_publish(b), 0);
	assert_int_equal(log.add, 2);
	assert_string_equal(log.last, "reg/a");
	/* a second set with a published name cannot be created */
	struct ldms_schema *sch = golden_schema();
	assert_null(ldms_set_new("reg/a", sch));
	assert_int_equal(errno, EEXIST);
	ldms_schema_delete(sch);

	assert_int_equal(ldms_set_registry_count(), 2);
	x = ldms_set_by_name("reg/a");
	assert_ptr_equal(x, b);
	ldms_set_put(x);
	assert_null(ldms_set_by_name("reg/zz"));
	ldms_set_registry_foreach(walk_cb, &w);
	assert_int_equal(w.n, 2);
	assert_true(w.ordered);

	/* info change on a published set -> UPD */
	assert_int_equal(ldms_set_info_set(a, "k", "v"), 0);
	assert_int_equal(log.upd, 1);
	assert_int_equal(ldms_set_info_set(a, "k", "v"), 0); /* unchanged: no event */
	assert_int_equal(log.upd, 1);

	/* delete: DEL event, memory freed when the last reference goes */
	c = ldms_set_get(a);
	ldms_set_delete(a);
	assert_int_equal(log.del, 1);
	assert_string_equal(log.last, "reg/b");
	assert_null(ldms_set_by_name("reg/b"));
	assert_int_equal(set_live_count(), live0 + 2); /* c still holds it */
	assert_string_equal(ldms_set_instance_name_get(c), "reg/b");
	ldms_set_put(c);
	assert_int_equal(set_live_count(), live0 + 1);
	assert_int_equal(ldms_set_unpublish(b), 0);
	assert_int_equal(ldms_set_unpublish(b), -ENOENT);
	assert_int_equal(log.del, 2);
	ldms_set_put(b);
	assert_int_equal(set_live_count(), live0);
	assert_true(log.refs_ok >= 4);

	/* 10,000 sets published in random order iterate in name order */
	enum { N = 10000 };
	ldms_set_t *sets = calloc(N, sizeof(*sets));
	struct ldms_schema *small = ldms_schema_new("small");
	ldms_schema_metric_add(small, "v", LDMS_V_U64, NULL);
	srand(7);
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "node%05d/small", (i * 7919) % N);
		sets[i] = ldms_set_new(name, small);
		assert_non_null(sets[i]);
		assert_int_equal(ldms_set_publish(sets[i]), 0);
	}
	ldms_schema_delete(small);
	assert_int_equal(ldms_set_registry_count(), N);
	memset(&w, 0, sizeof(w));
	w.ordered = 1;
	ldms_set_registry_foreach(walk_cb, &w);
	assert_int_equal(w.n, N);
	assert_true(w.ordered);
	assert_int_equal(ldms_set_registry_foreach(stop_cb, &cnt), 42);
	x = ldms_set_by_name("node04242/small");
	assert_non_null(x);
	ldms_set_put(x);
	for (int i = 0; i < N; i++)
		ldms_set_delete(sets[i]);
	free(sets);
	assert_int_equal(ldms_set_registry_count(), 0);
	assert_int_equal(log.add, 2 + N);
	assert_int_equal(log.del, 2 + N);
	ldms_set_observer_del(observer, &log);
	assert_int_equal(set_live_count(), live0);
}

struct kvs {
	char text[512];
};

static int kv_cb(const char *k, const char *v, void *arg)
{
	struct kvs *o = arg;
	size_t n = strlen(o->text);

	snprintf(o->text + n, sizeof(o->text) - n, "%s=%s;", k, v);
	return 0;
}

static void test_info(void **state)
{
	ldms_set_t s = golden_set("info/1");
	const char *rk[] = {"updt_hint_us", "a", "r"};
	const char *rv[] = {"remote", "remote-a", "only-remote"};
	struct kvs o = {""};
	char *v, big[300];

	assert_int_equal(ldms_set_info_set(s, "updt_hint_us", "1000000:0"), 0);
	assert_int_equal(ldms_set_info_set(s, "a", "1"), 0);
	assert_int_equal(ldms_set_info_set(s, "b", ""), 0);
	assert_int_equal(ldms_set_info_set(s, "a", "2"), 0); /* keeps its position */
	assert_int_equal(ldms_set_info_remote_set(s, rk, rv, 3), 0);
	v = ldms_set_info_get(s, "updt_hint_us");
	assert_string_equal(v, "1000000:0"); /* local wins */
	free(v);
	v = ldms_set_info_get(s, "r");
	assert_string_equal(v, "only-remote");
	free(v);
	assert_null(ldms_set_info_get(s, "zz"));
	ldms_set_info_foreach(s, kv_cb, &o);
	assert_string_equal(o.text, "updt_hint_us=1000000:0;a=2;b=;r=only-remote;");
	assert_int_equal(ldms_set_info_unset(s, "a"), 0);
	assert_int_equal(ldms_set_info_unset(s, "a"), -ENOENT);
	v = ldms_set_info_get(s, "a");
	assert_string_equal(v, "remote-a");
	free(v);
	assert_int_equal(ldms_set_info_set(s, "", "x"), -EINVAL);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ldms_set_info_set(s, "big", big), -EINVAL);
	assert_int_equal(ldms_set_info_remote_set(s, NULL, NULL, 0), 0);
	o.text[0] = '\0';
	ldms_set_info_foreach(s, kv_cb, &o);
	assert_string_equal(o.text, "updt_hint_us=1000000:0;b=;");
	ldms_set_put(s);
}

static void test_authz_defaults(void **state)
{
	uid_t u;
	gid_t g;
	uint32_t p;
	struct ldms_schema *sch = golden_schema();
	ldms_set_t s;

	ldms_set_default_authz_get(&u, &g, &p);
	assert_int_equal(u, geteuid());
	assert_int_equal(g, getegid());
	assert_int_equal(p, 0440);
	s = ldms_set_new("authz/1", sch);
	assert_int_equal(ldms_set_uid_get(s), geteuid());
	assert_int_equal(ldms_set_perm_get(s), 0440);
	ldms_set_put(s);
	ldms_set_default_authz_set(5, 6, 0604);
	s = ldms_set_new("authz/2", sch);
	assert_int_equal(ldms_set_uid_get(s), 5);
	assert_int_equal(ldms_set_gid_get(s), 6);
	assert_int_equal(ldms_set_perm_get(s), 0604);
	ldms_set_put(s);
	ldms_set_default_authz_set(geteuid(), getegid(), 0440);
	ldms_schema_delete(sch);
	/* producer names are cut at 63 characters */
	s = golden_set("authz/3");
	char longp[100];
	memset(longp, 'p', sizeof(longp));
	longp[99] = '\0';
	assert_int_equal(ldms_set_producer_name_set(s, longp), 0);
	assert_int_equal(strlen(ldms_set_producer_name_get(s)), 63);
	ldms_set_put(s);
}

/* Publishers, deleters and readers on several threads at once (ASan/UBSan run). */
static void *churn(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct ldms_schema *sch = ldms_schema_new("churn");
	char name[64];

	ldms_schema_metric_add(sch, "v", LDMS_V_U64, NULL);
	for (int k = 0; k < 2000; k++) {
		snprintf(name, sizeof(name), "churn%d/%d", id, k % 50);
		ldms_set_t s = ldms_set_new(name, sch), x;
		if (!s)
			continue;
		if (ldms_set_publish(s) == 0) {
			ldms_set_info_set(s, "k", name);
			x = ldms_set_by_name(name);
			if (x) {
				ldms_metric_set_u64(x, 0, (uint64_t)k);
				ldms_set_put(x);
			}
		}
		ldms_set_delete(s);
	}
	ldms_schema_delete(sch);
	return NULL;
}

static int count_cb(ldms_set_t s, void *arg)
{
	(*(size_t *)arg)++;
	return ldms_set_card_get(s) == 1 ? 0 : 1;
}

static void *walker(void *arg)
{
	for (int k = 0; k < 2000; k++) {
		size_t n = 0;
		ldms_set_registry_foreach(count_cb, &n);
		ldms_set_t s = ldms_set_by_name("churn0/7");
		ldms_set_put(s);
	}
	return NULL;
}

static void obs_noop(ldms_set_t s, enum ldms_set_event ev, void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
}

static void test_threads(void **state)
{
	pthread_t t[5];
	size_t live0 = set_live_count();
	int events = 0;

	ldms_set_observer_add(obs_noop, &events);
	for (intptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	pthread_create(&t[4], NULL, walker, NULL);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	ldms_set_observer_del(obs_noop, &events);
	assert_true(events >= 4 * 2000 * 3);
	assert_int_equal(ldms_set_registry_count(), 0);
	assert_int_equal(set_live_count(), live0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_static),  cmocka_unit_test(test_golden_sampled),
	    cmocka_unit_test(test_golden_meminfo), cmocka_unit_test(test_golden_vmstat),
	    cmocka_unit_test(test_types),	   cmocka_unit_test(test_schema_errors),
	    cmocka_unit_test(test_gn_rules),	   cmocka_unit_test(test_metric_access),
	    cmocka_unit_test(test_ring),	   cmocka_unit_test(test_remote_golden),
	    cmocka_unit_test(test_remote_reject),  cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_info),	   cmocka_unit_test(test_authz_defaults),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
