/* libFuzzer target: arbitrary bytes as the memory of a remote (mirror) set. The
 * rendezvous sizes and names are taken from the bytes when plausible so that
 * validation can succeed; after a successful validation every accessor runs on
 * every metric, the directory JSON of the set must parse back, and a second
 * validation after damaging the meta section must not disturb the accessors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* ldms_name at off copied into out (NUL-terminated); returns the next offset. */
static size_t take_name(const uint8_t *data, size_t size, size_t off, char *out, size_t outlen)
{
	size_t len, n;

	strcpy(out, "x");
	if (off >= size)
		return size;
	len = data[off];
	n = strnlen((const char *)data + off + 1, len < size - off - 1 ? len : size - off - 1);
	if (n && n < outlen) {
		memcpy(out, data + off + 1, n);
		out[n] = '\0';
	}
	return off + 1 + len;
}

static int ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void touch_all(ldms_set_t r)
{
	uint32_t card = ldms_set_card_get(r);
	volatile uint64_t sink = 0;
	char dg[65];

	sink += ldms_set_meta_gn_get(r) + ldms_set_data_gn_get(r) + ldms_set_is_consistent(r);
	sink += strlen(ldms_set_producer_name_get(r)) + strlen(ldms_set_digest_str(r, dg));
	sink += ldms_transaction_timestamp_get(r).sec + ldms_transaction_duration_get(r).usec;
	sink += ldms_set_curr_idx_get(r) + ldms_set_uid_get(r) + ldms_set_perm_get(r);
	for (uint32_t i = 0; i < card + 1; i++) {
		int m = (int)i;
		const char *n = ldms_metric_name_get(r, m), *str;
		uint32_t alen = ldms_metric_array_get_len(r, m);
		if (n)
			sink += strlen(n) + strlen(ldms_metric_unit_get(r, m)) +
				(uint64_t)ldms_metric_by_name(r, n);
		sink += ldms_metric_type_get(r, m) + ldms_metric_flags_get(r, m);
		sink += ldms_metric_user_data_get(r, m);
		sink += ldms_metric_get_u8(r, m) + ldms_metric_get_s16(r, m) +
			ldms_metric_get_u32(r, m) + ldms_metric_get_u64(r, m) +
			(uint64_t)ldms_metric_get_s64(r, m) + (ldms_metric_get_double(r, m) > 0) +
			(ldms_metric_get_float(r, m) > 0) + (uint64_t)ldms_metric_get_char(r, m);
		for (uint32_t k = 0; k <= alen && k < 4096; k++)
			sink += ldms_metric_array_get_as_u64(r, m, k) +
				(uint64_t)ldms_metric_array_get_as_s64(r, m, k) +
				(ldms_metric_array_get_as_double(r, m, k) > 0);
		if (alen)
			sink += ldms_metric_array_get_as_u64(r, m, alen - 1) +
				ldms_metric_array_get_as_u64(r, m, UINT32_MAX);
		str = ldms_metric_array_get_str(r, m);
		if (str)
			sink += strlen(str);
		if (ldms_metric_value_ptr(r, m))
			sink++;
		ldms_metric_set_u64(r, m, 1);
		ldms_metric_set_double(r, m, -1e300);
		ldms_metric_array_set_s16(r, m, alen ? alen - 1 : 0, -1);
		ldms_metric_array_set_str(r, m, "a fairly long string value");
		ldms_metric_user_data_set(r, m, 9);
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t meta_len = 144, data_len = 96, array_card = 1;
	char inst[256], schema[256];
	static char json[1 << 16];
	ldms_set_t r;
	size_t off;

	if (size >= 144) {
		uint32_t ml = le32(data + 84), dl = le32(data + 88), ac = le32(data + 104);
		if (ml >= 144 && dl >= 96 && ac >= 1 && ac <= 8 &&
		    (uint64_t)ml + (uint64_t)dl * ac <= (1u << 20)) {
			meta_len = ml;
			data_len = dl;
			array_card = ac;
		}
		off = 140 + 4 * (size_t)(le32(data + 80) % (1u << 20));
		off = take_name(data, size, off, inst, sizeof(inst));
		take_name(data, size, off, schema, sizeof(schema));
	} else {
		strcpy(inst, "x");
		strcpy(schema, "x");
	}
	r = ldms_set_new_remote(inst, schema, meta_len, data_len, array_card);
	if (!r)
		return 0;
	memcpy(ldms_set_mem(r), data, size < ldms_set_mem_size(r) ? size : ldms_set_mem_size(r));
	touch_all(r); /* before validation: nothing navigable, nothing unsafe */
	if (ldms_set_remote_validate(r) == 0) {
		touch_all(r);
		int n = ldms_dir_json_entry(r, json + 15, sizeof(json) - 20);
		/* jansson integers are signed 64-bit: larger gns do not parse back */
		if (n > 0 && ascii(inst) && ascii(schema) && ldms_set_meta_gn_get(r) <= INT64_MAX &&
		    ldms_set_data_gn_get(r) <= INT64_MAX) {
			struct ldms_dir *dir = NULL;
			struct ldms_err err;
			memcpy(json, "{\"directory\":[", 14);
			json[14] = ' ';
			memcpy(json + 15 + n, "]}", 3);
			if (ldms_dir_json_parse(json, strlen(json), &dir, &err)) {
				fprintf(stderr, "%s\n%s\n", err.msg, json);
				abort();
			}
			if (dir->set_count != 1 || strcmp(dir->set_data[0].inst_name, inst))
				abort();
			ldms_dir_free(dir);
		}
		/* the peer rewrites the meta section; the old table must stay safe */
		uint8_t *m = ldms_set_mem(r);
		for (size_t i = 140; i < meta_len; i += 7)
			m[i] ^= 0x5a;
		ldms_set_remote_validate(r);
		touch_all(r);
	}
	ldms_set_put(r);
	return 0;
}
