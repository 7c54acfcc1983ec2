/* Directory JSON (ldms-protocol.md §6.4): the per-set object upstream's DIR_REPLY
 * and DIR_UPDATE_REPLY carry, encoded with upstream's exact key order and format,
 * and a strict jansson-based decoder of a whole `{ "directory" : [...] }` text. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"

/* ---- encoder ---------------------------------------------------------------------------- */

struct jbuf {
	char *buf;
	size_t len;
	size_t off;
	int overflow;
};

static void jb_putc(struct jbuf *b, char c)
{
	if (b->off + 1 < b->len)
		b->buf[b->off] = c;
	else
		b->overflow = 1;
	b->off++;
}

static void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = b->off < b->len ? b->len - b->off : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->off : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->overflow = 1;
		return;
	}
	if ((size_t)n >= room)
		b->overflow = 1;
	b->off += (size_t)n;
}

/* JSON string with the escapes JSON requires (upstream emits names raw; names
 * with quotes would break its output, ours stays valid). */
static void jb_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jb_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			jb_putc(b, '\\');
			jb_putc(b, (char)*p);
		} else if (*p < 0x20) {
			jb_printf(b, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
		} else {
			jb_putc(b, (char)*p);
		}
	}
	jb_putc(b, '"');
}

struct info_ctx {
	struct jbuf *b;
	int n;
};

static int info_cb(const char *key, const char *value, void *arg)
{
	struct info_ctx *c = arg;

	if (c->n++)
		jb_putc(c->b, ',');
	jb_printf(c->b, "{\"key\":");
	jb_str(c->b, key);
	jb_printf(c->b, ",\"value\":");
	jb_str(c->b, value);
	jb_putc(c->b, '}');
	return 0;
}

int ldms_dir_json_entry(ldms_set_t s, char *buf, size_t len)
{
	struct jbuf b = {buf, len, 0, 0};
	struct info_ctx ic = {&b, 0};
	char digest[2 * LDMS_DIGEST_LEN + 1], perm[11];
	struct ldms_timestamp ts, dur;
	char flags[4];

	if (!s || (!buf && len))
		return -EINVAL;
	flags[0] = ldms_set_is_consistent(s) ? 'C' : ' ';
	flags[1] = ldms_set_is_remote(s) ? 'R' : 'L';
	flags[2] = ' '; /* 'P' would mark a push-registered set; ldms-c does not push */
	flags[3] = '\0';
	ts = ldms_transaction_timestamp_get(s);
	dur = ldms_transaction_duration_get(s);

	jb_printf(&b, "{\"name\":");
	jb_str(&b, ldms_set_instance_name_get(s));
	jb_printf(&b, ",\"schema\":");
	jb_str(&b, ldms_set_schema_name_get(s));
	jb_printf(&b, ",\"digest\":\"%s\",\"flags\":\"%s\"", ldms_set_digest_str(s, digest), flags);
	jb_printf(&b, ",\"meta_size\":%u,\"data_size\":%u,\"heap_size\":%u",
		  ldms_set_meta_sz_get(s), ldms_set_data_sz_get(s), ldms_set_heap_sz_get(s));
	jb_printf(&b, ",\"uid\":%u,\"gid\":%u,\"perm\":\"%s\"", (unsigned)ldms_set_uid_get(s),
		  (unsigned)ldms_set_gid_get(s), ldms_perm_str(ldms_set_perm_get(s), perm));
	jb_printf(&b, ",\"card\":%u,\"array_card\":%u", ldms_set_card_get(s),
		  ldms_set_array_card_get(s));
	jb_printf(&b, ",\"meta_gn\":%llu,\"data_gn\":%llu",
		  (unsigned long long)ldms_set_meta_gn_get(s),
		  (unsigned long long)ldms_set_data_gn_get(s));
	jb_printf(&b, ",\"timestamp\":{\"sec\":%u,\"usec\":%u}", ts.sec, ts.usec);
	jb_printf(&b, ",\"duration\":{\"sec\":%u,\"usec\":%u}", dur.sec, dur.usec);
	jb_printf(&b, ",\"info\":[");
	ldms_set_info_foreach(s, info_cb, &ic);
	jb_printf(&b, "]}");
	if (b.overflow || b.off >= len) {
		if (len)
			buf[0] = '\0';
		return -ENOSPC;
	}
	buf[b.off] = '\0';
	return (int)b.off;
}

/* ---- decoder ---------------------------------------------------------------------------- */

void ldms_dir_free(struct ldms_dir *dir)
{
	if (!dir)
		return;
	for (size_t i = 0; i < dir->set_count; i++) {
		struct ldms_dir_set *ds = &dir->set_data[i];
		free(ds->inst_name);
		free(ds->schema_name);
		for (size_t k = 0; k < ds->info_count; k++) {
			free(ds->info[k].key);
			free(ds->info[k].value);
		}
		free(ds->info);
	}
	free(dir->set_data);
	free(dir);
}

static int jerr(struct ldms_err *err, size_t idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int jerr(struct ldms_err *err, size_t idx, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ldms_err_set(err, -EPROTO, "directory entry %zu: %s", idx, msg);
}

/* jansson integers are signed 64-bit, so a gn above 2^63-1 is rejected (a
 * generation number never gets there: one increment per metric write). */
static int get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, size_t idx,
		    struct ldms_err *err)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!v)
		return jerr(err, idx, "missing \"%s\"", key);
	if (!json_is_integer(v))
		return jerr(err, idx, "\"%s\" is not an integer", key);
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return jerr(err, idx, "\"%s\" out of range", key);
	*out = (uint64_t)i;
	return 0;
}

static int get_str(json_t *o, const char *key, const char **out, size_t idx, struct ldms_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return jerr(err, idx, "missing \"%s\"", key);
	if (!json_is_string(v))
		return jerr(err, idx, "\"%s\" is not a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return jerr(err, idx, "\"%s\" contains a NUL", key);
	*out = json_string_value(v);
	return 0;
}

static int get_ts(json_t *o, const char *key, struct ldms_timestamp *ts, size_t idx,
		  struct ldms_err *err)
{
	json_t *v = json_object_get(o, key);
	uint64_t sec, usec;
	int rc;

	if (!v)
		return jerr(err, idx, "missing \"%s\"", key);
	if (!json_is_object(v))
		return jerr(err, idx, "\"%s\" is not an object", key);
	if ((rc = get_uint(v, "sec", UINT32_MAX, &sec, idx, err)) ||
	    (rc = get_uint(v, "usec", UINT32_MAX, &usec, idx, err)))
		return rc;
	ts->sec = (uint32_t)sec;
	ts->usec = (uint32_t)usec;
	return 0;
}

/* "-rw-r--r--" back to 0644; the first character is the file-type slot. */
static int perm_parse(const char *s, uint32_t *perm)
{
	static const char rwx[] = "rwx";
	uint32_t p = 0;

	if (strlen(s) != 10)
		return -1;
	for (int i = 0; i < 9; i++) {
		char c = s[1 + i];
		if (c == rwx[i % 3])
			p |= 0400u >> i;
		else if (c != '-')
			return -1;
	}
	*perm = p;
	return 0;
}

static int dup_str(char **dst, const char *src)
{
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int entry_parse(json_t *o, struct ldms_dir_set *ds, size_t idx, struct ldms_err *err)
{
	const char *name, *schema, *digest, *flags, *perm;
	uint64_t v[9];
	static const char *const ukeys[] = {"meta_size", "data_size",  "heap_size", "uid",    "gid",
					    "card",	 "array_card", "meta_gn",   "data_gn"};
	static const uint64_t umax[] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
					UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX};
	json_t *info;
	size_t n;
	int rc;

	if (!json_is_object(o))
		return jerr(err, idx, "not an object");
	if ((rc = get_str(o, "name", &name, idx, err)) ||
	    (rc = get_str(o, "schema", &schema, idx, err)) ||
	    (rc = get_str(o, "digest", &digest, idx, err)) ||
	    (rc = get_str(o, "flags", &flags, idx, err)) ||
	    (rc = get_str(o, "perm", &perm, idx, err)))
		return rc;
	if (!*name || strlen(name) >= LDMS_SET_NAME_MAX)
		return jerr(err, idx, "bad \"name\"");
	if (strlen(digest) > 2 * LDMS_DIGEST_LEN ||
	    strspn(digest, "0123456789abcdefABCDEF") != strlen(digest))
		return jerr(err, idx, "bad \"digest\"");
	if (strlen(flags) > 3)
		return jerr(err, idx, "bad \"flags\"");
	if (perm_parse(perm, &ds->perm))
		return jerr(err, idx, "bad \"perm\" \"%s\"", perm);
	for (size_t i = 0; i < 9; i++)
		if ((rc = get_uint(o, ukeys[i], umax[i], &v[i], idx, err)))
			return rc;
	if ((rc = get_ts(o, "timestamp", &ds->timestamp, idx, err)) ||
	    (rc = get_ts(o, "duration", &ds->duration, idx, err)))
		return rc;
	info = json_object_get(o, "info");
	if (!info)
		return jerr(err, idx, "missing \"info\"");
	if (!json_is_array(info))
		return jerr(err, idx, "\"info\" is not an array");

	ds->meta_size = v[0];
	ds->data_size = v[1];
	ds->heap_size = v[2];
	ds->uid = (uint32_t)v[3];
	ds->gid = (uint32_t)v[4];
	ds->card = (uint32_t)v[5];
	ds->array_card = (uint32_t)v[6];
	ds->meta_gn = v[7];
	ds->data_gn = v[8];
	snprintf(ds->digest_str, sizeof(ds->digest_str), "%s", digest);
	snprintf(ds->flags, sizeof(ds->flags), "%s", flags);
	if (dup_str(&ds->inst_name, name) || dup_str(&ds->schema_name, schema))
		return ldms_err_set(err, -ENOMEM, "out of memory");

	n = json_array_size(info);
	if (n) {
		ds->info = calloc(n, sizeof(*ds->info));
		if (!ds->info)
			return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < n; k++) {
		json_t *kv = json_array_get(info, k);
		const char *key, *value;
		if (!json_is_object(kv))
			return jerr(err, idx, "info[%zu] is not an object", k);
		if ((rc = get_str(kv, "key", &key, idx, err)) ||
		    (rc = get_str(kv, "value", &value, idx, err)))
			return rc;
		if (dup_str(&ds->info[k].key, key) || dup_str(&ds->info[k].value, value)) {
			ds->info_count = k + 1;
			return ldms_err_set(err, -ENOMEM, "out of memory");
		}
		ds->info_count = k + 1;
	}
	return 0;
}

int ldms_dir_json_parse(const char *json, size_t len, struct ldms_dir **dirp, struct ldms_err *err)
{
	json_error_t jerror;
	json_t *root, *arr;
	struct ldms_dir *dir;
	size_t n;
	int rc = 0;

	if (!dirp)
		return ldms_err_set(err, -EINVAL, "no output");
	*dirp = NULL;
	if (!json)
		return ldms_err_set(err, -EPROTO, "no directory text");
	/* The LIST reply has no NUL, the update replies count one: stop at the first. */
	len = strnlen(json, len);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerror);
	if (!root)
		return ldms_err_set_loc(err, -EPROTO, "", jerror.line, jerror.column,
					"directory JSON: %s", jerror.text);
	arr = json_object_get(root, "directory");
	if (!json_is_object(root) || !arr || !json_is_array(arr)) {
		json_decref(root);
		return ldms_err_set(err, -EPROTO, "directory JSON: no \"directory\" array");
	}
	dir = calloc(1, sizeof(*dir));
	n = json_array_size(arr);
	if (dir && n)
		dir->set_data = calloc(n, sizeof(*dir->set_data));
	if (!dir || (n && !dir->set_data)) {
		free(dir);
		json_decref(root);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	dir->type = LDMS_DIR_LIST;
	for (size_t i = 0; i < n; i++) {
		dir->set_count = i + 1;
		rc = entry_parse(json_array_get(arr, i), &dir->set_data[i], i, err);
		if (rc)
			break;
	}
	json_decref(root);
	if (rc) {
		ldms_dir_free(dir);
		return rc;
	}
	*dirp = dir;
	return 0;
}
