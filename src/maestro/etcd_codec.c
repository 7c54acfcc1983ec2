/* Encoding of etcd v3 JSON-gateway requests and strict decoding of its responses
 * (etcd_codec.h). Responses come from the network: every field is type-checked,
 * numbers are range-checked and base64 is decoded strictly, so bad bytes give -EPROTO. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ldms/ldms_util.h"
#include "etcd_codec.h"

/* ---- base64 ------------------------------------------------------------------------- */

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *p, size_t n)
{
	const unsigned char *s = p;
	if (n > (SIZE_MAX / 4) * 3 - 3)
		return NULL;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = b64_alpha[v >> 18];
		*o++ = b64_alpha[(v >> 12) & 63];
		*o++ = b64_alpha[(v >> 6) & 63];
		*o++ = b64_alpha[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)s[i] << 16;
		*o++ = b64_alpha[v >> 18];
		*o++ = b64_alpha[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
		*o++ = b64_alpha[v >> 18];
		*o++ = b64_alpha[(v >> 12) & 63];
		*o++ = b64_alpha[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int etcd_b64_decode(const char *s, size_t n, char **out, size_t *out_len)
{
	if (n % 4)
		return -EINVAL;
	size_t pad = 0;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			int last_group = i + 4 == n;
			if (last_group && s[i + k] == '=' && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			v[k] = b64_val((unsigned char)s[i + k]);
			if (v[k] < 0) {
				free(buf);
				return -EINVAL;
			}
		}
		unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
			     (unsigned)v[3];
		buf[o++] = (char)(x >> 16);
		if (i + 4 < n || pad < 2)
			buf[o++] = (char)(x >> 8);
		if (i + 4 < n || pad < 1)
			buf[o++] = (char)x;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return 0;
}

/* ---- ranges -------------------------------------------------------------------------- */

int etcd_prefix_end(const char *key, size_t n, char **out, size_t *out_len)
{
	size_t i = n;
	while (i > 0 && (unsigned char)key[i - 1] == 0xff)
		i--;
	if (i == 0) {
		char *z = calloc(1, 2);
		if (!z)
			return -ENOMEM;
		*out = z;
		*out_len = 1;
		return 0;
	}
	char *e = malloc(i + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e, key, i);
	e[i - 1] = (char)((unsigned char)e[i - 1] + 1);
	e[i] = '\0';
	*out = e;
	*out_len = i;
	return 0;
}

int etcd_spec_end(const char *key, size_t n, const struct etcd_range_spec *spec, char **end,
		  size_t *end_len)
{
	*end = NULL;
	*end_len = 0;
	if (!spec)
		return 0;
	if ((spec->prefix != 0) + (spec->from_key != 0) + (spec->range_end != NULL) > 1)
		return -EINVAL;
	if (spec->prefix)
		return etcd_prefix_end(key, n, end, end_len);
	if (spec->from_key) {
		*end = calloc(1, 2);
		if (!*end)
			return -ENOMEM;
		*end_len = 1;
		return 0;
	}
	if (spec->range_end) {
		*end = strdup(spec->range_end);
		if (!*end)
			return -ENOMEM;
		*end_len = strlen(spec->range_end);
	}
	return 0;
}

/* ---- request bodies ------------------------------------------------------------------- */

static int set_b64(json_t *o, const char *name, const char *p, size_t n)
{
	char *e = etcd_b64_encode(p, n);
	if (!e)
		return -ENOMEM;
	int rc = json_object_set_new(o, name, json_string(e));
	free(e);
	return rc ? -ENOMEM : 0;
}

/* int64 fields go as JSON numbers: the gateway accepts both, and numbers are exact up
 * to 2^63 in jansson. */
static int set_int(json_t *o, const char *name, int64_t v)
{
	return json_object_set_new(o, name, json_integer((json_int_t)v)) ? -ENOMEM : 0;
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static json_t *range_obj(const char *key, size_t klen, const char *end, size_t elen,
			 int64_t revision, int64_t limit, int keys_only, int count_only)
{
	json_t *o = json_object();
	if (!o || set_b64(o, "key", key, klen))
		goto fail;
	if (end && set_b64(o, "range_end", end, elen))
		goto fail;
	if (revision > 0 && set_int(o, "revision", revision))
		goto fail;
	if (limit > 0 && set_int(o, "limit", limit))
		goto fail;
	if (keys_only && json_object_set_new(o, "keys_only", json_true()))
		goto fail;
	if (count_only && json_object_set_new(o, "count_only", json_true()))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

char *etcd_req_range(const char *key, size_t klen, const char *end, size_t elen, int64_t revision,
		     int64_t limit, int keys_only, int count_only)
{
	return dump(range_obj(key, klen, end, elen, revision, limit, keys_only, count_only));
}

static json_t *put_obj(const char *key, const char *value, int64_t lease)
{
	json_t *o = json_object();
	if (!o || !key || !value || set_b64(o, "key", key, strlen(key)) ||
	    set_b64(o, "value", value, strlen(value)) || (lease && set_int(o, "lease", lease))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *etcd_req_put(const char *key, const char *value, int64_t lease)
{
	return dump(put_obj(key, value, lease));
}

static json_t *delete_obj(const char *key, const struct etcd_range_spec *spec)
{
	char *end;
	size_t elen;
	if (!key || etcd_spec_end(key, strlen(key), spec, &end, &elen))
		return NULL;
	json_t *o = json_object();
	if (!o || set_b64(o, "key", key, strlen(key)) ||
	    (end && set_b64(o, "range_end", end, elen))) {
		json_decref(o);
		o = NULL;
	}
	free(end);
	return o;
}

char *etcd_req_delete(const char *key, const struct etcd_range_spec *spec)
{
	return dump(delete_obj(key, spec));
}

static json_t *op_obj(const struct etcd_op *op)
{
	json_t *inner = NULL;
	const char *name = NULL;
	if (!op->key)
		return NULL;
	switch (op->type) {
	case ETCD_OP_RANGE: {
		char *end;
		size_t elen;
		if (etcd_spec_end(op->key, strlen(op->key), &op->spec, &end, &elen))
			return NULL;
		inner = range_obj(op->key, strlen(op->key), end, elen, op->revision, op->limit,
				  op->keys_only, 0);
		free(end);
		name = "request_range";
		break;
	}
	case ETCD_OP_PUT:
		inner = put_obj(op->key, op->value, op->lease);
		name = "request_put";
		break;
	case ETCD_OP_DELETE:
		inner = delete_obj(op->key, &op->spec);
		name = "request_delete_range";
		break;
	}
	if (!inner)
		return NULL;
	json_t *o = json_object();
	if (!o || json_object_set_new(o, name, inner)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *const cmp_target_names[] = {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"};
static const char *const cmp_result_names[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};

static json_t *cmp_obj(const struct etcd_cmp *c)
{
	if (!c->key || (unsigned)c->target > ETCD_CMP_LEASE ||
	    (unsigned)c->result > ETCD_CMP_NOT_EQUAL)
		return NULL;
	json_t *o = json_object();
	if (!o)
		return NULL;
	int rc = json_object_set_new(o, "result", json_string(cmp_result_names[c->result])) ||
		 json_object_set_new(o, "target", json_string(cmp_target_names[c->target])) ||
		 set_b64(o, "key", c->key, strlen(c->key));
	switch (c->target) {
	case ETCD_CMP_VERSION:
		rc = rc || set_int(o, "version", c->num);
		break;
	case ETCD_CMP_CREATE:
		rc = rc || set_int(o, "create_revision", c->num);
		break;
	case ETCD_CMP_MOD:
		rc = rc || set_int(o, "mod_revision", c->num);
		break;
	case ETCD_CMP_LEASE:
		rc = rc || set_int(o, "lease", c->num);
		break;
	case ETCD_CMP_VALUE:
		rc = rc || !c->value || set_b64(o, "value", c->value, strlen(c->value));
		break;
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int add_ops(json_t *o, const char *name, const struct etcd_op *ops, size_t n)
{
	if (!n)
		return 0;
	json_t *a = json_array();
	if (!a || json_object_set_new(o, name, a))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *x = op_obj(&ops[i]);
		if (!x || json_array_append_new(a, x))
			return -EINVAL;
	}
	return 0;
}

char *etcd_req_txn(const struct etcd_txn *t)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (t->ncmp) {
		json_t *a = json_array();
		if (!a || json_object_set_new(o, "compare", a))
			goto fail;
		for (size_t i = 0; i < t->ncmp; i++) {
			json_t *x = cmp_obj(&t->cmp[i]);
			if (!x || json_array_append_new(a, x))
				goto fail;
		}
	}
	if (add_ops(o, "success", t->success, t->nsuccess) ||
	    add_ops(o, "failure", t->failure, t->nfailure))
		goto fail;
	return dump(o);
fail:
	json_decref(o);
	return NULL;
}

char *etcd_req_lease_grant(int64_t ttl, int64_t id)
{
	json_t *o = json_object();
	if (!o || set_int(o, "TTL", ttl) || (id && set_int(o, "ID", id))) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *etcd_req_lease_id(int64_t id)
{
	json_t *o = json_object();
	if (!o || set_int(o, "ID", id)) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *etcd_req_watch_create(const char *key, const struct etcd_range_spec *spec,
			    int64_t start_revision, int prev_kv)
{
	char *end;
	size_t elen;
	if (!key || etcd_spec_end(key, strlen(key), spec, &end, &elen))
		return NULL;
	json_t *o = json_object(), *cr = json_object();
	int rc = !o || !cr || set_b64(cr, "key", key, strlen(key)) ||
		 (end && set_b64(cr, "range_end", end, elen)) ||
		 (start_revision > 0 && set_int(cr, "start_revision", start_revision)) ||
		 (prev_kv && json_object_set_new(cr, "prev_kv", json_true()));
	free(end);
	if (rc || json_object_set_new(o, "create_request", cr)) {
		if (rc)
			json_decref(cr);
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

/* ---- errors ------------------------------------------------------------------------------ */

int etcd_grpc_errno(int code)
{
	switch (code) {
	case 0:
		return 0;
	case 1:	 /* Canceled */
	case 10: /* Aborted */
		return -ECANCELED;
	case 3: /* InvalidArgument */
		return -EINVAL;
	case 4: /* DeadlineExceeded */
		return -ETIMEDOUT;
	case 5: /* NotFound */
		return -ENOENT;
	case 6: /* AlreadyExists */
		return -EEXIST;
	case 7:	 /* PermissionDenied */
	case 16: /* Unauthenticated */
		return -EACCES;
	case 8: /* ResourceExhausted */
		return -ENOSPC;
	case 9: /* FailedPrecondition */
		return -EPERM;
	case 11: /* OutOfRange: compacted or future revision */
		return -ERANGE;
	case 12: /* Unimplemented */
		return -ENOSYS;
	case 14: /* Unavailable: no leader, leader changed, request timed out */
		return -EAGAIN;
	default: /* Unknown, Internal, DataLoss, anything else */
		return -EIO;
	}
}

int etcd_grpc_retryable(int code)
{
	return code == 14 || code == 4;
}

static void copy_msg(char *msg, size_t msglen, const char *s)
{
	if (msg && msglen)
		snprintf(msg, msglen, "%s", s ? s : "");
}

int etcd_parse_error(const char *buf, size_t n, int *grpc_code, char *msg, size_t msglen)
{
	*grpc_code = -1;
	copy_msg(msg, msglen, "");
	json_t *o = json_loadb(buf, n, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EPROTO;
	}
	json_t *e = json_object_get(o, "error");
	json_t *code = json_object_get(o, "code");
	json_t *m = json_object_get(o, "message");
	if (json_is_object(e)) { /* stream error form */
		code = json_object_get(e, "grpc_code");
		m = json_object_get(e, "message");
	} else if (json_is_string(e) && !json_is_string(m)) {
		m = e;
	}
	int rc = -EPROTO;
	if (json_is_integer(code) && json_integer_value(code) >= 0 &&
	    json_integer_value(code) < 1000) {
		*grpc_code = (int)json_integer_value(code);
		copy_msg(msg, msglen, json_is_string(m) ? json_string_value(m) : "");
		rc = etcd_grpc_errno(*grpc_code);
		const char *t = json_is_string(m) ? json_string_value(m) : "";
		if (strstr(t, "too many operations in txn"))
			rc = -E2BIG;
		else if (strstr(t, "request is too large"))
			rc = -EMSGSIZE;
		if (!rc) /* an error body that says OK is not one */
			rc = -EPROTO;
	}
	json_decref(o);
	return rc;
}

/* ---- response parsing helpers ----------------------------------------------------------- */

static int proto_err(struct ldms_err *err, const char *what)
{
	return ldms_err_set(err, -EPROTO, "etcd: malformed response: %s", what);
}

/* int64 from a JSON string of digits (what the gateway sends) or a JSON integer. Absent
 * fields are 0 (the gateway omits zero values). */
static int get_i64(json_t *o, const char *name, int64_t *out)
{
	json_t *v = json_object_get(o, name);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EPROTO;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	size_t i = 0;
	int neg = 0;
	if (n && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 19)
		return -EPROTO;
	uint64_t acc = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
		acc = acc * 10 + (uint64_t)(s[i] - '0');
	}
	if (acc > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -EPROTO;
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

static int get_bool(json_t *o, const char *name, int *out)
{
	json_t *v = json_object_get(o, name);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return -EPROTO;
	*out = json_is_true(v);
	return 0;
}

/* Optional base64 field -> malloc'ed NUL-terminated bytes ("" when absent). */
static int get_b64(json_t *o, const char *name, char **out, size_t *len)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	*len = 0;
	if (!v || json_is_null(v)) {
		*out = calloc(1, 1);
		return *out ? 0 : -ENOMEM;
	}
	if (!json_is_string(v))
		return -EPROTO;
	int rc = etcd_b64_decode(json_string_value(v), json_string_length(v), out, len);
	return rc == -EINVAL ? -EPROTO : rc;
}

void etcd_kv_free(struct etcd_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

static int parse_kv(json_t *o, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(o))
		return -EPROTO;
	int rc = get_b64(o, "key", &kv->key, &kv->key_len);
	if (!rc)
		rc = get_b64(o, "value", &kv->value, &kv->value_len);
	if (!rc)
		rc = get_i64(o, "create_revision", &kv->create_revision) ||
			     get_i64(o, "mod_revision", &kv->mod_revision) ||
			     get_i64(o, "version", &kv->version) || get_i64(o, "lease", &kv->lease)
			 ? -EPROTO
			 : 0;
	if (rc)
		etcd_kv_free(kv);
	return rc;
}

static int header_rev(json_t *o, int64_t *rev)
{
	json_t *h = json_object_get(o, "header");
	*rev = 0;
	if (!h)
		return 0;
	if (!json_is_object(h))
		return -EPROTO;
	return get_i64(h, "revision", rev);
}

static json_t *load_obj(const char *buf, size_t n, struct ldms_err *err)
{
	json_error_t je;
	json_t *o = json_loadb(buf, n, 0, &je);
	if (!o) {
		ldms_err_set(err, -EPROTO, "etcd: malformed response: %s (offset %d)", je.text,
			     je.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		proto_err(err, "not a JSON object");
		return NULL;
	}
	return o;
}

void etcd_range_result_free(struct etcd_range_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		etcd_kv_free(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

static int range_from(json_t *o, struct etcd_range_result *out, struct ldms_err *err)
{
	struct etcd_range_result r = {0};
	if (header_rev(o, &r.revision) || get_i64(o, "count", &r.total) ||
	    get_bool(o, "more", &r.more))
		return proto_err(err, "range header/count/more");
	json_t *kvs = json_object_get(o, "kvs");
	if (kvs && !json_is_null(kvs)) {
		if (!json_is_array(kvs))
			return proto_err(err, "kvs is not an array");
		size_t n = json_array_size(kvs);
		if (n) {
			r.kvs = calloc(n, sizeof(*r.kvs));
			if (!r.kvs)
				return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			int rc = parse_kv(json_array_get(kvs, i), &r.kvs[i]);
			if (rc) {
				etcd_range_result_free(&r);
				return rc == -ENOMEM ? ldms_err_set(err, rc, "etcd: out of memory")
						     : proto_err(err, "bad kv in range");
			}
			r.count++;
		}
	}
	*out = r;
	return 0;
}

int etcd_parse_range(const char *buf, size_t n, struct etcd_range_result *out, struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	int rc = range_from(o, out, err);
	json_decref(o);
	return rc;
}

int etcd_parse_put(const char *buf, size_t n, int64_t *revision, struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	int64_t rev;
	int rc = header_rev(o, &rev) ? proto_err(err, "put header") : 0;
	if (!rc && revision)
		*revision = rev;
	json_decref(o);
	return rc;
}

int etcd_parse_delete(const char *buf, size_t n, int64_t *deleted, int64_t *revision,
		      struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	int64_t rev, del;
	int rc = header_rev(o, &rev) || get_i64(o, "deleted", &del) || del < 0
		     ? proto_err(err, "delete header/deleted")
		     : 0;
	if (!rc) {
		if (revision)
			*revision = rev;
		if (deleted)
			*deleted = del;
	}
	json_decref(o);
	return rc;
}

void etcd_txn_result_free(struct etcd_txn_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nops; i++)
		etcd_range_result_free(&r->ops[i].range);
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

int etcd_parse_txn(const char *buf, size_t n, struct etcd_txn_result *out, struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	struct etcd_txn_result r = {0};
	int rc = 0;
	if (header_rev(o, &r.revision) || get_bool(o, "succeeded", &r.succeeded)) {
		rc = proto_err(err, "txn header/succeeded");
		goto out;
	}
	json_t *a = json_object_get(o, "responses");
	if (a && !json_is_null(a)) {
		if (!json_is_array(a)) {
			rc = proto_err(err, "txn responses is not an array");
			goto out;
		}
		size_t na = json_array_size(a);
		if (na && !(r.ops = calloc(na, sizeof(*r.ops)))) {
			rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
			goto out;
		}
		for (size_t i = 0; i < na; i++) {
			json_t *x = json_array_get(a, i), *y;
			struct etcd_op_result *opr = &r.ops[i];
			if (!json_is_object(x)) {
				rc = proto_err(err, "txn response is not an object");
				goto out;
			}
			if ((y = json_object_get(x, "response_range"))) {
				opr->type = ETCD_OP_RANGE;
				if (!json_is_object(y)) {
					rc = proto_err(err, "response_range");
					goto out;
				}
				rc = range_from(y, &opr->range, err);
			} else if ((y = json_object_get(x, "response_put"))) {
				opr->type = ETCD_OP_PUT;
				rc = json_is_object(y) ? 0 : proto_err(err, "response_put");
			} else if ((y = json_object_get(x, "response_delete_range"))) {
				opr->type = ETCD_OP_DELETE;
				rc = !json_is_object(y) || get_i64(y, "deleted", &opr->deleted)
					 ? proto_err(err, "response_delete_range")
					 : 0;
			} else {
				rc = proto_err(err, "unknown txn response");
			}
			if (rc)
				goto out;
			r.nops++;
		}
	}
	if (out)
		*out = r;
	else
		etcd_txn_result_free(&r);
	json_decref(o);
	return 0;
out:
	etcd_txn_result_free(&r);
	json_decref(o);
	return rc;
}

int etcd_parse_lease_grant(const char *buf, size_t n, int64_t *id, int64_t *ttl,
			   struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	int64_t i, t;
	int rc = get_i64(o, "ID", &i) || get_i64(o, "TTL", &t) ? proto_err(err, "lease grant") : 0;
	json_t *e = json_object_get(o, "error");
	if (!rc && json_is_string(e) && json_string_length(e))
		rc = ldms_err_set(err, -EIO, "etcd: lease grant: %s", json_string_value(e));
	else if (!rc && i == 0)
		rc = proto_err(err, "lease grant without ID");
	if (!rc) {
		*id = i;
		*ttl = t;
	}
	json_decref(o);
	return rc;
}

int etcd_parse_lease_keepalive(const char *buf, size_t n, int64_t *id, int64_t *ttl,
			       struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	json_t *r = json_object_get(o, "result");
	int64_t i, t;
	int rc = !json_is_object(r) || get_i64(r, "ID", &i) || get_i64(r, "TTL", &t)
		     ? proto_err(err, "lease keepalive")
		     : 0;
	if (!rc) {
		*id = i;
		*ttl = t;
	}
	json_decref(o);
	return rc;
}

int etcd_parse_lease_ttl(const char *buf, size_t n, int64_t *ttl, int64_t *granted,
			 struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	int64_t t, g;
	int rc =
	    get_i64(o, "TTL", &t) || get_i64(o, "grantedTTL", &g) ? proto_err(err, "lease ttl") : 0;
	if (!rc) {
		*ttl = t;
		*granted = g;
	}
	json_decref(o);
	return rc;
}

void etcd_watch_msg_free(struct etcd_watch_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nevents; i++) {
		etcd_kv_free(&m->kvs[i]);
		etcd_kv_free(&m->prev_kvs[i]);
	}
	free(m->kvs);
	free(m->prev_kvs);
	free(m->types);
	free(m->cancel_reason);
	memset(m, 0, sizeof(*m));
}

int etcd_parse_watch_msg(const char *buf, size_t n, struct etcd_watch_msg *out,
			 struct ldms_err *err)
{
	json_t *o = load_obj(buf, n, err);
	if (!o)
		return -EPROTO;
	struct etcd_watch_msg m = {0};
	int rc = 0;
	json_t *r = json_object_get(o, "result");
	if (!r) {
		char msg[256];
		int code;
		rc = etcd_parse_error(buf, n, &code, msg, sizeof(msg));
		if (rc == -EPROTO)
			proto_err(err, "watch message without result");
		else
			ldms_err_set(err, rc, "etcd: watch: %s", msg);
		json_decref(o);
		return rc;
	}
	if (!json_is_object(r) || header_rev(r, &m.revision) ||
	    get_i64(r, "watch_id", &m.watch_id) || get_bool(r, "created", &m.created) ||
	    get_bool(r, "canceled", &m.canceled) ||
	    get_i64(r, "compact_revision", &m.compact_revision)) {
		rc = proto_err(err, "watch result fields");
		goto out;
	}
	json_t *cr = json_object_get(r, "cancel_reason");
	if (cr && json_is_string(cr) && !(m.cancel_reason = strdup(json_string_value(cr)))) {
		rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
		goto out;
	}
	json_t *ev = json_object_get(r, "events");
	if (ev && !json_is_null(ev)) {
		if (!json_is_array(ev)) {
			rc = proto_err(err, "events is not an array");
			goto out;
		}
		size_t ne = json_array_size(ev);
		if (ne) {
			m.kvs = calloc(ne, sizeof(*m.kvs));
			m.prev_kvs = calloc(ne, sizeof(*m.prev_kvs));
			m.types = calloc(ne, sizeof(*m.types));
			if (!m.kvs || !m.prev_kvs || !m.types) {
				rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
				goto out;
			}
		}
		for (size_t i = 0; i < ne; i++) {
			json_t *e = json_array_get(ev, i);
			if (!json_is_object(e)) {
				rc = proto_err(err, "event is not an object");
				goto out;
			}
			json_t *t = json_object_get(e, "type");
			if (!t || json_is_null(t) ||
			    (json_is_string(t) && !strcmp(json_string_value(t), "PUT")) ||
			    (json_is_integer(t) && json_integer_value(t) == 0))
				m.types[i] = ETCD_EVENT_PUT;
			else if ((json_is_string(t) && !strcmp(json_string_value(t), "DELETE")) ||
				 (json_is_integer(t) && json_integer_value(t) == 1))
				m.types[i] = ETCD_EVENT_DELETE;
			else {
				rc = proto_err(err, "unknown event type");
				goto out;
			}
			json_t *pk = json_object_get(e, "prev_kv");
			if ((rc = parse_kv(json_object_get(e, "kv"), &m.kvs[i])) ||
			    (pk && !json_is_null(pk) && (rc = parse_kv(pk, &m.prev_kvs[i])))) {
				etcd_kv_free(&m.kvs[i]);
				rc = rc == -ENOMEM ? ldms_err_set(err, rc, "etcd: out of memory")
						   : proto_err(err, "bad event kv");
				goto out;
			}
			m.nevents++;
		}
	}
	*out = m;
	json_decref(o);
	return 0;
out:
	etcd_watch_msg_free(&m);
	json_decref(o);
	return rc;
}

/* ---- stream splitter ------------------------------------------------------------------------ */

void etcd_jsplit_reset(struct etcd_jsplit *s)
{
	s->len = s->pos = s->start = 0;
	s->depth = s->in_str = s->esc = 0;
}

void etcd_jsplit_free(struct etcd_jsplit *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
	etcd_jsplit_reset(s);
}

int etcd_jsplit_feed(struct etcd_jsplit *s, const char *p, size_t n, etcd_jsplit_cb cb, void *arg)
{
	size_t max = s->max ? s->max : (size_t)64 << 20;
	if (s->len + n > s->cap) {
		size_t ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n)
			ncap *= 2;
		char *nb = realloc(s->buf, ncap);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = ncap;
	}
	if (n) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
	while (s->pos < s->len) {
		char c = s->buf[s->pos];
		if (s->depth == 0) {
			s->pos++;
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				continue;
			if (c != '{')
				return -EPROTO;
			s->start = s->pos - 1;
			s->depth = 1;
			continue;
		}
		s->pos++;
		if (s->in_str) {
			if (s->esc)
				s->esc = 0;
			else if (c == '\\')
				s->esc = 1;
			else if (c == '"')
				s->in_str = 0;
		} else if (c == '"') {
			s->in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++s->depth > 10000)
				return -EPROTO;
		} else if ((c == '}' || c == ']') && --s->depth == 0) {
			int rc = cb(s->buf + s->start, s->pos - s->start, arg);
			/* drop the consumed bytes */
			memmove(s->buf, s->buf + s->pos, s->len - s->pos);
			s->len -= s->pos;
			s->pos = s->start = 0;
			if (rc)
				return rc;
			continue;
		}
		if (s->pos - s->start > max)
			return -EMSGSIZE;
	}
	if (s->depth == 0) { /* only whitespace left: forget it */
		s->len = s->pos = s->start = 0;
	}
	return 0;
}
