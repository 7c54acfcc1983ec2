/* Pipelined transactions (etcd_txn_pipeline, etcd.h): many independent transactions kept
 * in flight on one member with libcurl's multi interface, so that etcd commits them
 * together instead of one disk sync per request. Used by the configuration store to
 * write big generations; anything that does not go through cleanly is left to the caller
 * to redo with etcd_txn(), which fails over between members. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ldms/ldms_util.h"
#include "etcd_codec.h"
#include "etcd_priv.h"

struct slot {
	CURL *h;
	size_t idx; /* transaction in flight, or SIZE_MAX */
	char *body;
	struct etcd_buf resp;
	char ebuf[CURL_ERROR_SIZE];
};

static size_t slot_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct etcd_buf *b = arg;
	size_t n = size * nmemb;
	if (b->len + n + 1 > b->max)
		return 0;
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

/* The outcome of one finished request: 1 committed, -1 compares false, 0 failed (err). */
static int finish(struct slot *s, CURLcode crc, const char *url, struct ldms_err *err)
{
	if (crc != CURLE_OK) {
		ldms_err_set(err, etcd_curl_errno(crc), "etcd %s: %s", url,
			     s->ebuf[0] ? s->ebuf : curl_easy_strerror(crc));
		return 0;
	}
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		int code;
		char msg[512];
		int rc = etcd_parse_error(s->resp.p ? s->resp.p : "", s->resp.len, &code, msg,
					  sizeof(msg));
		if (rc == -EPROTO)
			ldms_err_set(err, -EPROTO, "etcd %s: HTTP status %ld", url, status);
		else
			ldms_err_set(err, rc, "etcd %s: %s", url, msg);
		return 0;
	}
	struct etcd_txn_result r;
	if (etcd_parse_txn(s->resp.p, s->resp.len, &r, err))
		return 0;
	int ok = r.succeeded ? 1 : -1;
	etcd_txn_result_free(&r);
	return ok;
}

int etcd_txn_pipeline(struct etcd_client *c, size_t n, etcd_txn_body_fn body, void *arg,
		      size_t window, int *status, struct ldms_err *err)
{
	if (!n)
		return 0;
	if (!window)
		window = 8;
	if (window > n)
		window = n;
	memset(status, 0, n * sizeof(*status));
	pthread_mutex_lock(&c->lock);
	char url[1024];
	snprintf(url, sizeof(url), "%s/v3/kv/txn", c->urls[c->current]);
	const char *base = c->urls[c->current];
	long connect_ms = c->connect_ms, request_ms = c->request_ms;
	size_t max_response = c->max_response;
	pthread_mutex_unlock(&c->lock);

	CURLM *m = curl_multi_init();
	struct curl_slist *hdrs = etcd_curl_headers();
	struct slot *slots = calloc(window, sizeof(*slots));
	int rc = 0;
	if (!m || !hdrs || !slots) {
		rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
		goto out;
	}
	for (size_t k = 0; k < window; k++) {
		slots[k].idx = SIZE_MAX;
		if (!(slots[k].h = curl_easy_init())) {
			rc = ldms_err_set(err, -ENOMEM, "etcd: out of memory");
			goto out;
		}
	}
	size_t next = 0, running = 0;
	int stop = 0; /* after a failure: no new requests, drain the others */
	for (;;) {
		for (size_t k = 0; k < window && !stop && next < n; k++) {
			struct slot *s = &slots[k];
			if (s->idx != SIZE_MAX)
				continue;
			if (!(s->body = body(next, arg))) {
				rc = ldms_err_set(err, -ENOMEM,
						  "etcd: cannot build transaction %zu", next);
				stop = 1;
				break;
			}
			s->idx = next++;
			s->resp.len = 0;
			s->resp.max = max_response;
			s->ebuf[0] = '\0';
			etcd_curl_setup(s->h, hdrs, connect_ms);
			curl_easy_setopt(s->h, CURLOPT_URL, url);
			curl_easy_setopt(s->h, CURLOPT_POST, 1L);
			curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
			curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)strlen(s->body));
			curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, request_ms);
			curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, slot_write);
			curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
			curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->ebuf);
			curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
			curl_multi_add_handle(m, s->h);
			running++;
		}
		if (!running)
			break;
		int still;
		CURLMcode mc = curl_multi_perform(m, &still);
		if (mc == CURLM_OK && still > 0)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			rc = ldms_err_set(err, -EIO, "etcd: %s", curl_multi_strerror(mc));
			break;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct slot *s;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			CURLcode crc = msg->data.result;
			curl_multi_remove_handle(m, s->h);
			running--;
			struct ldms_err e2;
			ldms_err_clear(&e2);
			int st = finish(s, crc, base, &e2);
			status[s->idx] = st;
			if (!st && !rc) {
				rc = e2.rc ? e2.rc : -EIO;
				if (err)
					*err = e2;
				stop = 1;
			} else if (st < 0) {
				stop = 1; /* a compare failed: the caller gives up anyway */
			}
			free(s->body);
			s->body = NULL;
			s->idx = SIZE_MAX;
		}
	}
out:
	for (size_t k = 0; slots && k < window; k++) {
		if (slots[k].h) {
			if (slots[k].idx != SIZE_MAX)
				curl_multi_remove_handle(m, slots[k].h);
			curl_easy_cleanup(slots[k].h);
		}
		free(slots[k].body);
		free(slots[k].resp.p);
	}
	free(slots);
	curl_slist_free_all(hdrs);
	if (m)
		curl_multi_cleanup(m);
	return rc;
}
