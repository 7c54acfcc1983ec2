/* Unit tests of the directory JSON codec: sets rebuilt through the API encode to
 * exactly upstream's captured DIR_REPLY (01-dir) and DIR_UPDATE_REPLY (07) texts,
 * the decoder reads them back, and malformed texts fail with -EPROTO. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"
#include "set_priv.h"

static char *data_file(const char *rel, size_t *len)
{
	char path[1024];
	const char *src = getenv("LDMSC_SRC");
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/set/%s", src ? src : ".", rel);
	fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* A sampler_base set of the 02/01 captures (perm 0644, uid/gid 0, component_id 1,
 * job_id/app_id 0: meta_gn 2, data gn 3), sampled `samples` times with the
 * capture's transaction time written into the data header. */
static ldms_set_t sampler_set(const char *schema, const char *inst, const char *list, int samples,
			      uint32_t ts_sec, uint32_t ts_usec, uint32_t dur_usec)
{
	size_t len;
	char *txt = data_file(list, &len), *line, *save = NULL;
	struct ldms_schema *sch = ldms_schema_new(schema);
	ldms_set_t s;
	int card = 0;
	uint8_t *dh;

	assert_non_null(txt);
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fl, name[256];
		int type;
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%c %d %255s", &fl, &type, name), 3);
		if (fl == 'M')
			ldms_schema_meta_add(sch, name, (enum ldms_value_type)type, NULL);
		else
			ldms_schema_metric_add(sch, name, (enum ldms_value_type)type, NULL);
		card++;
	}
	free(txt);
	s = ldms_set_new_with_auth(inst, sch, 0, 0, 0644);
	assert_non_null(s);
	ldms_schema_delete(sch);
	ldms_set_producer_name_set(s, "samp");
	ldms_metric_set_u64(s, 0, 1);
	ldms_metric_set_u64(s, 1, 0);
	ldms_metric_set_u64(s, 2, 0);
	for (int k = 0; k < samples; k++) {
		ldms_transaction_begin(s);
		for (int i = 3; i < card; i++)
			ldms_metric_set_u64(s, i, (uint64_t)(k * 1000 + i));
		ldms_transaction_end(s);
	}
	if (samples) {
		dh = set_data_section(s, 0);
		put_le32(dh + DH_TS, ts_sec);
		put_le32(dh + DH_TS + 4, ts_usec);
		put_le32(dh + DH_DUR, 0);
		put_le32(dh + DH_DUR + 4, dur_usec);
	}
	return s;
}

static void entry_append(ldms_set_t s, char *buf, size_t len)
{
	size_t off = strlen(buf);
	int n = ldms_dir_json_entry(s, buf + off, len - off);

	assert_true(n > 0);
	assert_int_equal(strlen(buf + off), n);
}

/* 01-dir frame 5: vmstat then meminfo, both sampled 3 times. */
static void test_encode_01(void **state)
{
	size_t len;
	char *gold = data_file("dir_01_list.json", &len);
	ldms_set_t vm =
	    sampler_set("vmstat", "samp/vmstat", "vmstat_metrics.txt", 3, 1795318923, 2218, 120);
	ldms_set_t mi =
	    sampler_set("meminfo", "samp/meminfo", "meminfo_metrics.txt", 3, 1795318923, 2094, 70);
	char buf[4096] = "{ \"directory\" : [ ";

	assert_non_null(gold);
	assert_int_equal(ldms_set_data_gn_get(vm), 582);
	assert_int_equal(ldms_set_data_gn_get(mi), 168);
	ldms_set_info_set(vm, "updt_hint_us", "1000000:0");
	ldms_set_info_set(mi, "updt_hint_us", "1000000:0");
	entry_append(vm, buf, sizeof(buf));
	strcat(buf, ",");
	entry_append(mi, buf, sizeof(buf));
	strcat(buf, "]}");
	assert_int_equal(strlen(buf), len);
	assert_string_equal(buf, gold);
	ldms_set_put(vm);
	ldms_set_put(mi);
	free(gold);
}

/* 07 frames 28/29: vmstat published before its first sample (" L ", data gn 3,
 * no info), then the UPD after updt_hint_us was set. Update texts carry a NUL. */
static void test_encode_07(void **state)
{
	size_t len;
	char *add = data_file("dir_07_add.json", &len);
	char buf[4096];
	ldms_set_t vm = sampler_set("vmstat", "samp/vmstat", "vmstat_metrics.txt", 0, 0, 0, 0);

	assert_non_null(add);
	assert_int_equal(len, 359);
	strcpy(buf, "{ \"directory\" : [  ");
	entry_append(vm, buf, sizeof(buf));
	strcat(buf, " ]}");
	assert_int_equal(strlen(buf) + 1, len); /* the NUL is counted on the wire */
	assert_string_equal(buf, add);
	free(add);

	add = data_file("dir_07_upd.json", &len);
	ldms_set_info_set(vm, "updt_hint_us", "1000000:0");
	strcpy(buf, "{ \"directory\" : [  ");
	entry_append(vm, buf, sizeof(buf));
	strcat(buf, " ]}");
	assert_int_equal(strlen(buf) + 1, len);
	assert_string_equal(buf, add);
	free(add);
	ldms_set_put(vm);
}

static void test_parse_01(void **state)
{
	size_t len;
	char *gold = data_file("dir_01_list.json", &len);
	struct ldms_dir *dir = NULL;
	struct ldms_err err;
	struct ldms_dir_set *d;

	ldms_err_clear(&err);
	assert_int_equal(ldms_dir_json_parse(gold, len, &dir, &err), 0);
	assert_int_equal(dir->set_count, 2);
	d = &dir->set_data[1];
	assert_string_equal(d->inst_name, "samp/meminfo");
	assert_string_equal(d->schema_name, "meminfo");
	assert_string_equal(d->digest_str,
			    "4B6356268C98436AAC94DD173E51FA054621B9BB1F4C05E530F1B151930AA0BE");
	assert_string_equal(d->flags, "CL ");
	assert_int_equal(d->meta_size, 2968);
	assert_int_equal(d->data_size, 544);
	assert_int_equal(d->heap_size, 0);
	assert_int_equal(d->perm, 0644);
	assert_int_equal(d->card, 57);
	assert_int_equal(d->array_card, 1);
	assert_int_equal(d->meta_gn, 2);
	assert_int_equal(d->data_gn, 168);
	assert_int_equal(d->timestamp.sec, 1795318923);
	assert_int_equal(d->timestamp.usec, 2094);
	assert_int_equal(d->duration.usec, 70);
	assert_int_equal(d->info_count, 1);
	assert_string_equal(d->info[0].key, "updt_hint_us");
	assert_string_equal(d->info[0].value, "1000000:0");
	assert_string_equal(dir->set_data[0].inst_name, "samp/vmstat");
	assert_int_equal(dir->set_data[0].card, 195);
	ldms_dir_free(dir);

	/* with the NUL counted, and from the update form */
	free(gold);
	gold = data_file("dir_07_add.json", &len);
	assert_int_equal(ldms_dir_json_parse(gold, len, &dir, &err), 0);
	assert_int_equal(dir->set_count, 1);
	assert_string_equal(dir->set_data[0].flags, " L ");
	assert_int_equal(dir->set_data[0].info_count, 0);
	ldms_dir_free(dir);
	free(gold);

	assert_int_equal(ldms_dir_json_parse("{ \"directory\" : []}", 19, &dir, &err), 0);
	assert_int_equal(dir->set_count, 0);
	ldms_dir_free(dir);
}

/* Encode -> parse keeps every field, including names that need escaping. */
static void test_roundtrip(void **state)
{
	struct ldms_schema *sch = ldms_schema_new("we\"ird");
	struct ldms_dir *dir;
	struct ldms_err err;
	char buf[2048] = "{\"directory\":[";
	ldms_set_t s;

	ldms_schema_metric_add(sch, "a", LDMS_V_U64, NULL);
	ldms_schema_array_card_set(sch, 4);
	s = ldms_set_new_with_auth("node\\1/\"x\"\n", sch, 1001, 1002, 0640);
	ldms_schema_delete(sch);
	assert_non_null(s);
	ldms_set_info_set(s, "k\"1", "v\\1");
	ldms_set_info_set(s, "k2", "");
	ldms_transaction_begin(s);
	ldms_transaction_end(s);
	entry_append(s, buf, sizeof(buf));
	strcat(buf, "]}");
	assert_int_equal(ldms_dir_json_parse(buf, strlen(buf), &dir, &err), 0);
	assert_int_equal(dir->set_count, 1);
	struct ldms_dir_set *d = &dir->set_data[0];
	assert_string_equal(d->inst_name, "node\\1/\"x\"\n");
	assert_string_equal(d->schema_name, "we\"ird");
	assert_string_equal(d->flags, "CL ");
	assert_int_equal(d->uid, 1001);
	assert_int_equal(d->gid, 1002);
	assert_int_equal(d->perm, 0640);
	assert_int_equal(d->array_card, 4);
	assert_int_equal(d->card, 1);
	assert_int_equal(d->data_gn, ldms_set_data_gn_get(s));
	assert_int_equal(d->meta_size, ldms_set_meta_sz_get(s));
	assert_int_equal(d->timestamp.sec, ldms_transaction_timestamp_get(s).sec);
	assert_int_equal(d->info_count, 2);
	assert_string_equal(d->info[0].key, "k\"1");
	assert_string_equal(d->info[0].value, "v\\1");
	assert_string_equal(d->info[1].value, "");
	ldms_dir_free(dir);

	/* too small buffers: -ENOSPC for every length below the need */
	int need = ldms_dir_json_entry(s, buf, sizeof(buf));
	assert_true(need > 0);
	for (int l = 0; l <= need; l++) {
		char *small = malloc((size_t)l + 1);
		int rc = ldms_dir_json_entry(s, l ? small : NULL, (size_t)l);
		assert_int_equal(rc, -ENOSPC);
		free(small);
	}
	assert_int_equal(ldms_dir_json_entry(s, buf, (size_t)need + 1), need);

	/* a remote mirror is flagged 'R' */
	ldms_set_t r = ldms_set_new_remote("m/1", "s", 200, 100, 1);
	assert_int_equal(ldms_dir_json_entry(r, buf, sizeof(buf)) > 0, 1);
	assert_non_null(strstr(buf, "\"flags\":\" R \""));
	ldms_set_put(r);
	ldms_set_put(s);
}

static const char *good_entry =
    "{\"name\":\"a\",\"schema\":\"s\",\"digest\":\"00AB\",\"flags\":\"CL \",\"meta_size\":1,"
    "\"data_size\":2,\"heap_size\":0,\"uid\":0,\"gid\":0,\"perm\":\"-rw-r--r--\",\"card\":1,"
    "\"array_card\":1,\"meta_gn\":1,\"data_gn\":2,\"timestamp\":{\"sec\":1,\"usec\":2},"
    "\"duration\":{\"sec\":0,\"usec\":1},\"info\":[]}";

static int parse_with(const char *from, const char *to)
{
	char entry[1024], text[1200], *p;
	struct ldms_dir *dir = NULL;
	struct ldms_err err;
	int rc;

	snprintf(entry, sizeof(entry), "%s", good_entry);
	if (from) {
		p = strstr(entry, from);
		assert_non_null(p);
		char rest[1024];
		snprintf(rest, sizeof(rest), "%s", p + strlen(from));
		snprintf(p, sizeof(entry) - (size_t)(p - entry), "%s%s", to, rest);
	}
	snprintf(text, sizeof(text), "{ \"directory\" : [ %s]}", entry);
	ldms_err_clear(&err);
	rc = ldms_dir_json_parse(text, strlen(text), &dir, &err);
	if (rc) {
		assert_int_equal(rc, -EPROTO);
		assert_int_equal(err.rc, -EPROTO);
		assert_true(strlen(err.msg) > 0);
		assert_null(dir);
	}
	ldms_dir_free(dir);
	return rc;
}

static void test_parse_errors(void **state)
{
	struct ldms_dir *dir = NULL;
	struct ldms_err err;
	static const char *const bad_texts[] = {
	    "",
	    "{",
	    "[]",
	    "{\"directory\":{}}",
	    "{\"dir\":[]}",
	    "{\"directory\":[1]}",
	    "{\"directory\":[{}]}",
	    "null",
	};

	assert_int_equal(parse_with(NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		ldms_err_clear(&err);
		assert_int_equal(
		    ldms_dir_json_parse(bad_texts[i], strlen(bad_texts[i]), &dir, &err), -EPROTO);
		assert_null(dir);
	}
	assert_int_equal(ldms_dir_json_parse(NULL, 0, &dir, &err), -EPROTO);

	/* every required key, every type */
	static const char *const keys[] = {
	    "\"name\"",	     "\"schema\"",     "\"digest\"",  "\"flags\"",   "\"meta_size\"",
	    "\"data_size\"", "\"heap_size\"",  "\"uid\"",     "\"gid\"",     "\"perm\"",
	    "\"card\"",	     "\"array_card\"", "\"meta_gn\"", "\"data_gn\"", "\"timestamp\"",
	    "\"duration\"",  "\"info\""};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char renamed[64];
		snprintf(renamed, sizeof(renamed), "\"x%s", keys[i] + 1);
		assert_int_equal(parse_with(keys[i], renamed), -EPROTO);
	}
	assert_int_equal(parse_with("\"name\":\"a\"", "\"name\":1"), -EPROTO);
	assert_int_equal(parse_with("\"name\":\"a\"", "\"name\":\"\""), -EPROTO);
	assert_int_equal(parse_with("\"name\":\"a\"", "\"name\":\"a\\u0000b\""), -EPROTO);
	assert_int_equal(parse_with("\"digest\":\"00AB\"", "\"digest\":\"XYZ\""), -EPROTO);
	assert_int_equal(parse_with("\"flags\":\"CL \"", "\"flags\":\"CL  X\""), -EPROTO);
	assert_int_equal(parse_with("\"perm\":\"-rw-r--r--\"", "\"perm\":\"rw\""), -EPROTO);
	assert_int_equal(parse_with("\"perm\":\"-rw-r--r--\"", "\"perm\":\"-rw-r--r-q\""), -EPROTO);
	assert_int_equal(parse_with("\"perm\":\"-rw-r--r--\"", "\"perm\":644"), -EPROTO);
	assert_int_equal(parse_with("\"meta_size\":1", "\"meta_size\":-1"), -EPROTO);
	assert_int_equal(parse_with("\"meta_size\":1", "\"meta_size\":1.5"), -EPROTO);
	assert_int_equal(parse_with("\"meta_size\":1", "\"meta_size\":\"1\""), -EPROTO);
	assert_int_equal(parse_with("\"meta_size\":1", "\"meta_size\":4294967296"), -EPROTO);
	assert_int_equal(parse_with("\"card\":1", "\"card\":null"), -EPROTO);
	assert_int_equal(parse_with("\"meta_gn\":1", "\"meta_gn\":9223372036854775807"), 0);
	assert_int_equal(parse_with("{\"sec\":1,", "{\"sec\":\"1\","), -EPROTO);
	assert_int_equal(parse_with("{\"sec\":1,\"usec\":2}", "{\"sec\":1}"), -EPROTO);
	assert_int_equal(parse_with("{\"sec\":1,\"usec\":2}", "5"), -EPROTO);
	assert_int_equal(parse_with("\"info\":[]", "\"info\":{}"), -EPROTO);
	assert_int_equal(parse_with("\"info\":[]", "\"info\":[1]"), -EPROTO);
	assert_int_equal(parse_with("\"info\":[]", "\"info\":[{\"key\":\"k\"}]"), -EPROTO);
	assert_int_equal(parse_with("\"info\":[]", "\"info\":[{\"key\":\"k\",\"value\":3}]"),
			 -EPROTO);
	assert_int_equal(parse_with("\"info\":[]", "\"info\":[{\"key\":\"k\",\"value\":\"v\"}]"),
			 0);
	/* duplicates and trailing garbage */
	assert_int_equal(parse_with("\"uid\":0", "\"uid\":0,\"uid\":1"), -EPROTO);
	const char *trail = "{ \"directory\" : []} x";
	assert_int_equal(ldms_dir_json_parse(trail, strlen(trail), &dir, &err), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_01),	 cmocka_unit_test(test_encode_07),
	    cmocka_unit_test(test_parse_01),	 cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
