/* etcd v3 client over the JSON gateway (etcd.h): one libcurl handle per client (kept-alive
 * connection), every request tried on each member in turn starting with the last one that
 * answered; unary kv/txn/lease calls. The watch stream lives in etcd_watch.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ldms/ldms_util.h"
#include "etcd_codec.h"
#include "etcd_priv.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int etcd_curl_global_init(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc == CURLE_OK ? 0 : -EIO;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct etcd_buf *b = arg;
	size_t n = size * nmemb;
	if (b->len + n > b->max)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *nb = realloc(b->p, ncap);
		if (!nb)
			return 0;
		b->p = nb;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

int etcd_curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

/* Options shared by the unary handle and the watch handles. */
void etcd_curl_setup(CURL *h, struct curl_slist *hdrs, long connect_ms)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* etcd members are reached directly: a proxy from the environment would only
	 * get in the way (and loopback tests must not depend on it). */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
}

struct curl_slist *etcd_curl_headers(void)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	/* without this curl waits up to 1 s for "100 Continue" before big bodies */
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	if (!h2)
		curl_slist_free_all(h);
	return h2;
}

int etcd_client_new(const char *const *urls, size_t nurls, struct etcd_client **out,
		    struct ldms_err *err)
{
	if (!nurls)
		return ldms_err_set(err, -EINVAL, "etcd: no member URL given");
	if (etcd_curl_global_init())
		return ldms_err_set(err, -EIO, "etcd: libcurl initialisation failed");
	struct etcd_client *c = calloc(1, sizeof(*c));
	if (!c)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	pthread_mutex_init(&c->lock, NULL);
	c->connect_ms = 1000;
	c->request_ms = 15000;
	c->max_response = (size_t)256 << 20;
	c->urls = calloc(nurls, sizeof(*c->urls));
	if (!c->urls)
		goto nomem;
	for (size_t i = 0; i < nurls; i++) {
		size_t n = strlen(urls[i]);
		while (n && urls[i][n - 1] == '/')
			n--;
		if (!n) {
			etcd_client_free(c);
			return ldms_err_set(err, -EINVAL, "etcd: empty member URL");
		}
		if (!(c->urls[i] = strndup(urls[i], n)))
			goto nomem;
		c->nurls++;
	}
	c->curl = curl_easy_init();
	c->hdrs = etcd_curl_headers();
	if (!c->curl || !c->hdrs)
		goto nomem;
	*out = c;
	return 0;
nomem:
	etcd_client_free(c);
	return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
}

void etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->hdrs);
	for (size_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->urls);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void etcd_client_set_timeouts(struct etcd_client *c, long connect_ms, long request_ms)
{
	pthread_mutex_lock(&c->lock);
	if (connect_ms > 0)
		c->connect_ms = connect_ms;
	if (request_ms > 0)
		c->request_ms = request_ms;
	pthread_mutex_unlock(&c->lock);
}

size_t etcd_client_member_count(const struct etcd_client *c)
{
	return c->nurls;
}

const char *etcd_client_member_url(const struct etcd_client *c, size_t i)
{
	return i < c->nurls ? c->urls[i] : NULL;
}

static void append_tried(char *tried, size_t len, const char *url, const char *why)
{
	size_t used = strlen(tried);
	if (used + 1 < len)
		snprintf(tried + used, len - used, "%s%s: %s", used ? "; " : "", url, why);
}

/* POST body to path on the members, in turn. On 0, resp holds the 200 answer. */
int etcd_call(struct etcd_client *c, const char *path, const char *body, struct etcd_buf *resp,
	      struct ldms_err *err)
{
	char tried[1024] = "";
	int last = -ECONNREFUSED;
	pthread_mutex_lock(&c->lock);
	size_t first = c->current;
	for (size_t k = 0; k < c->nurls; k++) {
		size_t i = (first + k) % c->nurls;
		char url[1024], ebuf[CURL_ERROR_SIZE] = "";
		snprintf(url, sizeof(url), "%s%s", c->urls[i], path);
		resp->len = 0;
		resp->max = c->max_response;
		CURL *h = c->curl;
		etcd_curl_setup(h, c->hdrs, c->connect_ms);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->request_ms);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
		CURLcode crc = curl_easy_perform(h);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
		if (crc != CURLE_OK) {
			last = etcd_curl_errno(crc);
			if (crc == CURLE_WRITE_ERROR && resp->len + 1 >= resp->max)
				snprintf(ebuf, sizeof(ebuf), "response larger than %zu bytes",
					 resp->max);
			append_tried(tried, sizeof(tried), c->urls[i],
				     ebuf[0] ? ebuf : curl_easy_strerror(crc));
			continue;
		}
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200) {
			c->current = i;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		int code;
		char msg[512];
		int rc =
		    etcd_parse_error(resp->p ? resp->p : "", resp->len, &code, msg, sizeof(msg));
		if (rc == -EPROTO) {
			/* not an etcd gateway answer (wrong port, proxy, pre-3.4 etcd) */
			char why[64];
			snprintf(why, sizeof(why), "HTTP status %ld", status);
			append_tried(tried, sizeof(tried), c->urls[i], why);
			last = -EPROTO;
			continue;
		}
		if (etcd_grpc_retryable(code)) {
			append_tried(tried, sizeof(tried), c->urls[i], msg);
			last = rc;
			continue;
		}
		/* a definite answer from a working member */
		c->current = i;
		pthread_mutex_unlock(&c->lock);
		return ldms_err_set(err, rc, "etcd %s: %s", c->urls[i], msg);
	}
	pthread_mutex_unlock(&c->lock);
	return ldms_err_set(err, last, "etcd connection failed: no etcd member answered (%s)",
			    tried);
}

void etcd_buf_free(struct etcd_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Runs one call whose body was built by the caller (NULL body = bad arguments). */
static int call_parse(struct etcd_client *c, const char *path, char *body, struct etcd_buf *b,
		      struct ldms_err *err)
{
	if (!body)
		return ldms_err_set(err, -EINVAL,
				    "etcd %s: bad request arguments (or out of memory)", path);
	int rc = etcd_call(c, path, body, b, err);
	free(body);
	return rc;
}

static void prefix_proto_err(struct etcd_client *c, struct ldms_err *err)
{
	/* name the member in parse errors too */
	if (err && err->rc == -EPROTO) {
		char tmp[sizeof(err->msg)];
		snprintf(tmp, sizeof(tmp), "%s", err->msg);
		ldms_err_set(err, -EPROTO, "%s (from %s)", tmp, c->urls[c->current]);
	}
}

int etcd_range(struct etcd_client *c, const char *key, const struct etcd_range_opts *opts,
	       struct etcd_range_result *out, struct ldms_err *err)
{
	static const struct etcd_range_opts none;
	const struct etcd_range_opts *o = opts ? opts : &none;
	char *end;
	size_t elen;
	if (!key)
		return ldms_err_set(err, -EINVAL, "etcd range: no key");
	if (etcd_spec_end(key, strlen(key), &o->spec, &end, &elen))
		return ldms_err_set(err, -EINVAL, "etcd range: bad range end");
	char *body = etcd_req_range(key, strlen(key), end, elen, o->revision, o->limit,
				    o->keys_only, o->count_only);
	free(end);
	struct etcd_buf b = {0};
	int rc = call_parse(c, "/v3/kv/range", body, &b, err);
	if (!rc) {
		rc = etcd_parse_range(b.p, b.len, out, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}

static int append_kvs(struct etcd_range_result *dst, struct etcd_range_result *src)
{
	if (!src->count)
		return 0;
	struct etcd_kv *n = realloc(dst->kvs, (dst->count + src->count) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dst->kvs = n;
	memcpy(dst->kvs + dst->count, src->kvs, src->count * sizeof(*n));
	dst->count += src->count;
	free(src->kvs);
	src->kvs = NULL;
	src->count = 0;
	return 0;
}

int etcd_range_all(struct etcd_client *c, const char *key, const struct etcd_range_opts *opts,
		   size_t page, struct etcd_range_result *out, struct ldms_err *err)
{
	static const struct etcd_range_opts none;
	const struct etcd_range_opts *o = opts ? opts : &none;
	struct etcd_range_result all = {0};
	char *end = NULL, *cur = NULL;
	size_t elen, clen = key ? strlen(key) : 0;
	int rc;
	if (!key)
		return ldms_err_set(err, -EINVAL, "etcd range: no key");
	if (!page)
		page = 10000;
	if (etcd_spec_end(key, clen, &o->spec, &end, &elen))
		return ldms_err_set(err, -EINVAL, "etcd range: bad range end");
	if (!(cur = malloc(clen + 2))) {
		free(end);
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	}
	memcpy(cur, key, clen + 1);
	all.revision = o->revision;
	for (;;) {
		char *body = etcd_req_range(cur, clen, end, elen, all.revision,
					    end ? (int64_t)page : 0, o->keys_only, o->count_only);
		struct etcd_buf b = {0};
		struct etcd_range_result r = {0};
		rc = call_parse(c, "/v3/kv/range", body, &b, err);
		if (!rc) {
			rc = etcd_parse_range(b.p, b.len, &r, err);
			prefix_proto_err(c, err);
		}
		etcd_buf_free(&b);
		if (rc)
			break;
		if (!all.revision)
			all.revision = r.revision;
		if (!all.total)
			all.total = r.total;
		int more = r.more && r.count && end;
		if ((rc = append_kvs(&all, &r))) {
			etcd_range_result_free(&r);
			ldms_err_set(err, rc, "etcd: out of memory");
			break;
		}
		etcd_range_result_free(&r);
		if (!more)
			break;
		/* next page starts right after the last key */
		const struct etcd_kv *last = &all.kvs[all.count - 1];
		char *n = realloc(cur, last->key_len + 2);
		if (!n) {
			rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
			break;
		}
		cur = n;
		memcpy(cur, last->key, last->key_len);
		cur[last->key_len] = '\0';
		clen = last->key_len + 1;
	}
	free(cur);
	free(end);
	if (rc) {
		etcd_range_result_free(&all);
		return rc;
	}
	*out = all;
	return 0;
}

int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *kv, int64_t *revision,
	     struct ldms_err *err)
{
	struct etcd_range_result r;
	int rc = etcd_range(c, key, NULL, &r, err);
	if (rc)
		return rc;
	if (revision)
		*revision = r.revision;
	if (!r.count) {
		etcd_range_result_free(&r);
		return ldms_err_set(err, -ENOENT, "etcd: no key %s", key);
	}
	*kv = r.kvs[0];
	memset(&r.kvs[0], 0, sizeof(r.kvs[0]));
	etcd_range_result_free(&r);
	return 0;
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
	     int64_t *revision, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int rc = call_parse(c, "/v3/kv/put", etcd_req_put(key, value, lease), &b, err);
	if (!rc) {
		rc = etcd_parse_put(b.p, b.len, revision, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}

int etcd_delete(struct etcd_client *c, const char *key, const struct etcd_range_spec *spec,
		int64_t *deleted, int64_t *revision, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int rc = call_parse(c, "/v3/kv/deleterange", etcd_req_delete(key, spec), &b, err);
	if (!rc) {
		rc = etcd_parse_delete(b.p, b.len, deleted, revision, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}

int etcd_txn(struct etcd_client *c, const struct etcd_txn *txn, struct etcd_txn_result *out,
	     struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int rc = call_parse(c, "/v3/kv/txn", etcd_req_txn(txn), &b, err);
	if (!rc) {
		rc = etcd_parse_txn(b.p, b.len, out, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}

int etcd_lease_grant(struct etcd_client *c, int64_t ttl, int64_t id, int64_t *out_id,
		     int64_t *out_ttl, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int64_t i = 0, t = 0;
	int rc = call_parse(c, "/v3/lease/grant", etcd_req_lease_grant(ttl, id), &b, err);
	if (!rc) {
		rc = etcd_parse_lease_grant(b.p, b.len, &i, &t, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	if (!rc) {
		if (out_id)
			*out_id = i;
		if (out_ttl)
			*out_ttl = t;
	}
	return rc;
}

int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int64_t i = 0, t = 0;
	/* a bidirectional stream on the gateway: one request body, one streamed answer */
	int rc = call_parse(c, "/v3/lease/keepalive", etcd_req_lease_id(id), &b, err);
	if (!rc) {
		rc = etcd_parse_lease_keepalive(b.p, b.len, &i, &t, err);
		if (rc == -EPROTO) {
			int code;
			char msg[256];
			int erc = etcd_parse_error(b.p, b.len, &code, msg, sizeof(msg));
			if (erc != -EPROTO)
				rc = ldms_err_set(err, erc, "etcd lease keepalive: %s", msg);
		}
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	if (!rc && t <= 0)
		rc = ldms_err_set(err, -ENOENT, "etcd: lease %lld expired or unknown",
				  (long long)id);
	if (!rc && ttl)
		*ttl = t;
	return rc;
}

int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int rc = call_parse(c, "/v3/lease/revoke", etcd_req_lease_id(id), &b, err);
	if (!rc) {
		rc = etcd_parse_put(b.p, b.len, NULL, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}

int etcd_lease_ttl(struct etcd_client *c, int64_t id, int64_t *ttl, int64_t *granted,
		   struct ldms_err *err)
{
	struct etcd_buf b = {0};
	int64_t t = 0, g = 0;
	int rc = call_parse(c, "/v3/lease/timetolive", etcd_req_lease_id(id), &b, err);
	if (!rc) {
		rc = etcd_parse_lease_ttl(b.p, b.len, &t, &g, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	if (!rc) {
		if (ttl)
			*ttl = t;
		if (granted)
			*granted = g;
	}
	return rc;
}

int etcd_compact(struct etcd_client *c, int64_t revision, int physical, struct ldms_err *err)
{
	struct etcd_buf b = {0};
	char *body = NULL;
	if (asprintf(&body, "{\"revision\":%lld,\"physical\":%s}", (long long)revision,
		     physical ? "true" : "false") < 0)
		body = NULL;
	int rc = call_parse(c, "/v3/kv/compaction", body, &b, err);
	if (!rc) {
		rc = etcd_parse_put(b.p, b.len, NULL, err);
		prefix_proto_err(c, err);
	}
	etcd_buf_free(&b);
	return rc;
}
