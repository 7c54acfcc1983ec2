/* The etcd watch stream (etcd.h, etcd_watch_start): a thread holding a streaming POST to
 * /v3/watch on one member, parsing the streamed JSON messages into events, and
 * reconnecting (to the next member when needed) from the revision after the last event
 * it delivered, so the callback sees every change exactly once. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ldms/ldms_util.h"
#include "etcd_codec.h"
#include "etcd_priv.h"

struct etcd_watch {
	struct etcd_client *c;
	char *key;
	char *range_end;
	struct etcd_range_spec spec;
	int prev_kv;
	long retry_ms;
	etcd_watch_cb cb;
	void *arg;

	int64_t next_rev; /* where a new stream starts; 0 = "from now" */
	int created;	  /* the current stream was accepted */
	int restart;	  /* the server canceled the stream: reconnect at once */
	char why[512];	  /* why the current stream ended, for ERROR events */
	struct etcd_jsplit split;

	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void emit_simple(struct etcd_watch *w, enum etcd_event_type t, int64_t rev, int64_t crev,
			const char *msg)
{
	struct etcd_event ev = {.type = t, .revision = rev, .compact_revision = crev, .msg = msg};
	w->cb(&ev, w->arg);
}

static int on_msg(const char *obj, size_t n, void *arg)
{
	struct etcd_watch *w = arg;
	struct etcd_watch_msg m;
	struct ldms_err err;
	ldms_err_clear(&err);
	int rc = etcd_parse_watch_msg(obj, n, &m, &err);
	if (rc) {
		snprintf(w->why, sizeof(w->why), "%s", err.msg);
		return rc;
	}
	if (m.canceled) {
		if (m.compact_revision > 0) {
			emit_simple(w, ETCD_EVENT_COMPACTED, m.revision, m.compact_revision, NULL);
			w->next_rev = m.compact_revision;
			w->restart = 1;
		} else {
			snprintf(w->why, sizeof(w->why), "watch canceled by the server%s%s",
				 m.cancel_reason ? ": " : "",
				 m.cancel_reason ? m.cancel_reason : "");
		}
		etcd_watch_msg_free(&m);
		return -ECANCELED;
	}
	if (m.created) {
		w->created = 1;
		if (!w->next_rev)
			w->next_rev = m.revision + 1;
		emit_simple(w, ETCD_EVENT_CREATED, m.revision, 0, NULL);
	}
	int64_t floor = w->next_rev, top = 0;
	for (size_t i = 0; i < m.nevents; i++) {
		int64_t rev = m.kvs[i].mod_revision;
		if (rev < floor) /* already delivered before a reconnect */
			continue;
		struct etcd_event ev = {
		    .type = m.types[i],
		    .kv = &m.kvs[i],
		    .prev_kv = m.prev_kvs[i].key ? &m.prev_kvs[i] : NULL,
		    .revision = rev,
		};
		w->cb(&ev, w->arg);
		if (rev > top)
			top = rev;
	}
	if (top >= w->next_rev)
		w->next_rev = top + 1;
	/* an empty message after creation is a progress report: nothing before its
	 * revision is left to send */
	if (!m.created && !m.nevents && m.revision >= w->next_rev)
		w->next_rev = m.revision + 1;
	etcd_watch_msg_free(&m);
	return 0;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct etcd_watch *w = arg;
	size_t n = size * nmemb;
	if (atomic_load(&w->stop))
		return 0;
	int rc = etcd_jsplit_feed(&w->split, p, n, on_msg, w);
	if (rc) {
		if (!w->why[0])
			snprintf(w->why, sizeof(w->why), "bad watch stream (%s)", strerror(-rc));
		return 0;
	}
	return n;
}

static int xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct etcd_watch *w = arg;
	return atomic_load(&w->stop) ? 1 : 0;
}

/* One streaming request to one member; returns when the stream ends. */
static void stream_once(struct etcd_watch *w, CURL *h, struct curl_slist *hdrs, const char *base,
			long connect_ms)
{
	char url[1024], ebuf[CURL_ERROR_SIZE] = "";
	char *body = etcd_req_watch_create(w->key, &w->spec, w->next_rev, w->prev_kv);
	if (!body) {
		snprintf(w->why, sizeof(w->why), "cannot build the watch request");
		return;
	}
	snprintf(url, sizeof(url), "%s/v3/watch", base);
	etcd_jsplit_reset(&w->split);
	w->created = 0;
	w->restart = 0;
	w->why[0] = '\0';
	etcd_curl_setup(h, hdrs, connect_ms);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode crc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	free(body);
	if (atomic_load(&w->stop) || w->why[0] || w->restart)
		return;
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (crc != CURLE_OK)
		snprintf(w->why, sizeof(w->why), "%s", ebuf[0] ? ebuf : curl_easy_strerror(crc));
	else if (status != 200)
		snprintf(w->why, sizeof(w->why), "HTTP status %ld", status);
	else
		snprintf(w->why, sizeof(w->why), "watch stream closed by the server");
}

static void pause_ms(struct etcd_watch *w, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!atomic_load(&w->stop))
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&w->mu);
}

static void *watch_thread(void *arg)
{
	struct etcd_watch *w = arg;
	struct etcd_client *c = w->c;
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = etcd_curl_headers();
	if (!h || !hdrs) {
		emit_simple(w, ETCD_EVENT_ERROR, 0, 0, "etcd watch: out of memory");
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	size_t member = c->current;
	long connect_ms = c->connect_ms;
	pthread_mutex_unlock(&c->lock);
	size_t failed = 0; /* members failed in a row */
	char tried[1024] = "";
	while (!atomic_load(&w->stop)) {
		const char *base = c->urls[member % c->nurls];
		stream_once(w, h, hdrs, base, connect_ms);
		if (atomic_load(&w->stop))
			break;
		if (w->restart) /* compacted: resume on the same member */
			continue;
		if (w->created) { /* it worked for a while: start a new round */
			failed = 0;
			tried[0] = '\0';
		} else {
			size_t used = strlen(tried);
			if (used + 1 < sizeof(tried))
				snprintf(tried + used, sizeof(tried) - used, "%s%s: %s",
					 used ? "; " : "", base, w->why);
			failed++;
		}
		member = (member + 1) % c->nurls;
		if (failed >= c->nurls) {
			char msg[1200];
			snprintf(msg, sizeof(msg),
				 "etcd connection failed: no etcd member answered the watch (%s)",
				 tried);
			emit_simple(w, ETCD_EVENT_ERROR, 0, 0, msg);
			failed = 0;
			tried[0] = '\0';
			pause_ms(w, w->retry_ms);
		} else if (w->created) {
			pause_ms(w, 50); /* do not spin on a member that keeps closing */
		}
	}
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return NULL;
}

int etcd_watch_start(struct etcd_client *c, const char *key, const struct etcd_watch_opts *opts,
		     etcd_watch_cb cb, void *arg, struct etcd_watch **out, struct ldms_err *err)
{
	static const struct etcd_watch_opts none;
	const struct etcd_watch_opts *o = opts ? opts : &none;
	if (!key || !cb)
		return ldms_err_set(err, -EINVAL, "etcd watch: no key or callback");
	char *end;
	size_t elen;
	if (etcd_spec_end(key, strlen(key), &o->spec, &end, &elen))
		return ldms_err_set(err, -EINVAL, "etcd watch: bad range end");
	free(end);
	struct etcd_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	w->c = c;
	w->key = strdup(key);
	w->spec = o->spec;
	if (o->spec.range_end) {
		w->range_end = strdup(o->spec.range_end);
		w->spec.range_end = w->range_end;
	}
	w->prev_kv = o->prev_kv;
	w->retry_ms = o->retry_ms > 0 ? o->retry_ms : 1000;
	w->next_rev = o->start_revision > 0 ? o->start_revision : 0;
	w->cb = cb;
	w->arg = arg;
	atomic_init(&w->stop, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (!w->key || (o->spec.range_end && !w->range_end)) {
		etcd_watch_stop(w);
		return ldms_err_set(err, -ENOMEM, "etcd: out of memory");
	}
	int rc = pthread_create(&w->thread, NULL, watch_thread, w);
	if (rc) {
		etcd_watch_stop(w);
		return ldms_err_set(err, -rc, "etcd watch: cannot start a thread");
	}
	w->started = 1;
	*out = w;
	return 0;
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	etcd_jsplit_free(&w->split);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->key);
	free(w->range_end);
	free(w);
}
