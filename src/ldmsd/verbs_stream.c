/* The legacy ldmsd_stream verbs of 4.5 (publish/stream_publish, subscribe,
 * unsubscribe, stream_status, stream_client_dump) mapped onto the one message
 * service of ldms-c (qgroup-streams.md §0): a stream is a message tag, a legacy
 * subscription is a message client, and stream_status is rebuilt in upstream's
 * shape from msg_stats plus the publish counters kept here. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_msg.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_verbs.h"

/* upstream's legacy counters: whole seconds, total bytes */
struct lcount {
	uint64_t first_ts, last_ts, count, bytes;
};

struct pub_ent {
	struct pub_ent *next;
	char *tag;
	struct lcount c;
};

struct lsub {
	struct lsub *next;
	char *tag;
	ldms_t x; /* the subscriber's connection (a reference); NULL: this daemon */
	ldms_msg_client_t client;
	int dead; /* atomic: the connection is gone */
};

struct stream_state {
	struct stream_state *next;
	struct ldmsd *d;
	struct pub_ent *pubs;
	struct lsub *subs;
};

static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream_state *states;

/* Caller holds st_lock. */
static struct stream_state *state_of(struct ldmsd *d, int create)
{
	struct stream_state *s;
	for (s = states; s && s->d != d; s = s->next)
		;
	if (!s && create) {
		s = calloc(1, sizeof(*s));
		if (s) {
			s->d = d;
			s->next = states;
			states = s;
		}
	}
	return s;
}

static void lcount_add(struct lcount *c, uint64_t bytes)
{
	uint64_t now = ldms_now_us() / 1000000;
	if (!c->count)
		c->first_ts = now;
	c->last_ts = now;
	c->count++;
	c->bytes += bytes;
}

/* The publish counters of tag (created empty), st_lock held. */
static struct pub_ent *pub_get(struct stream_state *st, const char *tag)
{
	struct pub_ent *p;
	for (p = st ? st->pubs : NULL; p && strcmp(p->tag, tag); p = p->next)
		;
	if (st && !p && (p = calloc(1, sizeof(*p)))) {
		p->tag = strdup(tag);
		if (!p->tag) {
			free(p);
			return NULL;
		}
		p->next = st->pubs;
		st->pubs = p;
	}
	return p;
}

/* ---- publish -------------------------------------------------------------------------- */
static int publish_handler(struct ldmsd_req_ctxt *c)
{
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *str = ldmsd_req_attr(c, LDMSD_ATTR_STRING);
	const char *js = ldmsd_req_attr(c, LDMSD_ATTR_JSON);
	const char *ts = ldmsd_req_attr(c, LDMSD_ATTR_TYPE);
	enum ldms_msg_type type = js ? LDMS_MSG_JSON : LDMS_MSG_STRING;
	const char *data = js ? js : str;

	if (!*tag)
		return ldmsd_reply_err(c, -EINVAL, "%s: attribute 'name' (the stream) is empty",
				       ldmsd_req_verb(c));
	if (str && js)
		return ldmsd_reply_err(c, -EINVAL, "%s: give either 'string' or 'json', not both",
				       ldmsd_req_verb(c));
	if (!data)
		return ldmsd_reply_err(c, -EINVAL,
				       "%s: the data is missing: attribute 'string' or 'json'",
				       ldmsd_req_verb(c));
	if (ts && ldms_msg_type_parse(ts, &type))
		return ldmsd_reply_err(c, -EINVAL,
				       "%s: attribute 'type' must be 'string' or 'json', not '%s'",
				       ldmsd_req_verb(c), ts);
	/* the legacy wire value carries its NUL, and so does the delivered data */
	size_t len = strlen(data) + 1;
	int rc = ldms_msg_publish(NULL, tag, type, NULL, 0777, data, len);
	if (rc == -ENOTSUP)
		return ldmsd_reply_err(c, rc, "%s: the message service is disabled",
				       ldmsd_req_verb(c));
	if (rc)
		return ldmsd_reply_err(c, rc, "%s: %s", ldmsd_req_verb(c), strerror(-rc));
	pthread_mutex_lock(&st_lock);
	struct pub_ent *p = pub_get(state_of(c->d, 1), tag);
	if (p)
		lcount_add(&p->c, len);
	pthread_mutex_unlock(&st_lock);
	ldmsd_reply_msg(c, "ACK");
	return 0;
}

/* 4.5's stream_new declares a stream before anything is published: it is listed
 * by stream_status from then on. */
static int stream_new_handler(struct ldmsd_req_ctxt *c)
{
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	if (!*tag)
		return ldmsd_reply_err(c, -EINVAL,
				       "stream_new: attribute 'name' (the stream) is empty");
	pthread_mutex_lock(&st_lock);
	struct pub_ent *p = pub_get(state_of(c->d, 1), tag);
	pthread_mutex_unlock(&st_lock);
	return p ? 0 : ldmsd_reply_err(c, -ENOMEM, "out of memory");
}

/* ---- subscribe / unsubscribe -------------------------------------------------------------- */
static int lsub_cb(const struct ldms_msg_event *ev, void *arg)
{
	struct lsub *s = arg;
	if (ev->type == LDMS_MSG_EVENT_CLIENT_CLOSE) {
		/* the client's last event: nothing refers to s any more */
		if (s->x)
			ldms_xprt_put(s->x);
		free(s->tag);
		free(s);
		return 0;
	}
	if (ev->type != LDMS_MSG_EVENT_RECV || !s->x)
		return 0; /* this daemon is the subscriber: delivery is all */
	if (ev->x == s->x || __atomic_load_n(&s->dead, __ATOMIC_SEQ_CST))
		return 0; /* never echo back to the publisher */
	int rc =
	    ldms_msg_publish(s->x, ev->tag, ev->msg_type, NULL, ev->perm, ev->data, ev->data_len);
	if (rc == -ENOTCONN)
		__atomic_store_n(&s->dead, 1, __ATOMIC_SEQ_CST);
	return rc;
}

/* s itself goes with the client's CLIENT_CLOSE event (lsub_cb) */
static void lsub_free(struct lsub *s)
{
	ldms_msg_client_close(s->client);
}

/* Takes the subscriptions whose connection ended out of st (st_lock held). */
static struct lsub *lsub_take_dead(struct stream_state *st)
{
	struct lsub **pp, *s, *dead = NULL;
	for (pp = &st->subs; (s = *pp);) {
		if (s->x &&
		    (__atomic_load_n(&s->dead, __ATOMIC_SEQ_CST) || !ldms_xprt_connected(s->x))) {
			*pp = s->next;
			s->next = dead;
			dead = s;
		} else {
			pp = &s->next;
		}
	}
	return dead;
}

static void lsub_free_list(struct lsub *s)
{
	while (s) {
		struct lsub *n = s->next;
		lsub_free(s);
		s = n;
	}
}

static ldms_t origin_conn(struct ldmsd_req_ctxt *c)
{
	return c->req->origin.kind == LDMSD_ORIGIN_NET ? c->req->origin.conn : NULL;
}

static int subscribe_handler(struct ldmsd_req_ctxt *c)
{
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	ldms_t x = origin_conn(c);
	struct lsub *s, *dead;
	int rc = 0;

	if (!*tag)
		return ldmsd_reply_err(c, -EINVAL, "%s: attribute 'name' (the stream) is empty",
				       ldmsd_req_verb(c));
	if (!ldms_msg_is_enabled())
		return ldmsd_reply_err(c, -ENOTSUP, "%s: the message service is disabled",
				       ldmsd_req_verb(c));
	pthread_mutex_lock(&st_lock);
	struct stream_state *st = state_of(c->d, 1);
	dead = st ? lsub_take_dead(st) : NULL;
	for (s = st ? st->subs : NULL; s && (s->x != x || strcmp(s->tag, tag)); s = s->next)
		;
	if (!st) {
		rc = ldmsd_reply_err(c, -ENOMEM, "out of memory");
	} else if (s) {
		rc = ldmsd_reply_err(c, -EEXIST, "%s: already subscribed to stream '%s'",
				     ldmsd_req_verb(c), tag);
	} else if (!(s = calloc(1, sizeof(*s))) || !(s->tag = strdup(tag))) {
		free(s);
		rc = ldmsd_reply_err(c, -ENOMEM, "out of memory");
	} else {
		s->x = x ? ldms_xprt_get(x) : NULL;
		s->client = ldms_msg_subscribe(tag, 0, lsub_cb, s,
					       x ? "legacy stream subscriber" : "ldmsd subscribe");
		if (!s->client) {
			rc = ldmsd_reply_err(c, errno ? -errno : -ENOMEM, "%s: %s",
					     ldmsd_req_verb(c), strerror(errno ? errno : ENOMEM));
			if (s->x)
				ldms_xprt_put(s->x);
			free(s->tag);
			free(s);
		} else {
			s->next = st->subs;
			st->subs = s;
		}
	}
	pthread_mutex_unlock(&st_lock);
	lsub_free_list(dead);
	return rc;
}

static int unsubscribe_handler(struct ldmsd_req_ctxt *c)
{
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	ldms_t x = origin_conn(c);
	struct lsub **pp, *s = NULL, *dead = NULL;

	pthread_mutex_lock(&st_lock);
	struct stream_state *st = state_of(c->d, 0);
	if (st) {
		dead = lsub_take_dead(st);
		for (pp = &st->subs; (s = *pp) && (s->x != x || strcmp(s->tag, tag)); pp = &s->next)
			;
		if (s)
			*pp = s->next;
	}
	pthread_mutex_unlock(&st_lock);
	lsub_free_list(dead);
	if (!s)
		return ldmsd_reply_err(c, -ENOENT, "%s: not subscribed to stream '%s'",
				       ldmsd_req_verb(c), tag);
	lsub_free(s);
	return 0;
}

void ldmsd_verbs_stream_shutdown(struct ldmsd *d)
{
	struct stream_state **pp, *st;
	pthread_mutex_lock(&st_lock);
	for (pp = &states; (st = *pp) && st->d != d; pp = &st->next)
		;
	if (st)
		*pp = st->next;
	pthread_mutex_unlock(&st_lock);
	if (!st)
		return;
	lsub_free_list(st->subs);
	while (st->pubs) {
		struct pub_ent *p = st->pubs;
		st->pubs = p->next;
		free(p->tag);
		free(p);
	}
	free(st);
}

/* ---- stream_status ----------------------------------------------------------------------- */
static json_t *lcount_json(const struct lcount *c)
{
	if (!c->count)
		return json_object();
	return json_pack("{s:I,s:I,s:I,s:I}", "first_ts", (json_int_t)c->first_ts, "last_ts",
			 (json_int_t)c->last_ts, "count", (json_int_t)c->count, "total_bytes",
			 (json_int_t)c->bytes);
}

/* msg_stats counters {"bytes","count","first_ts","last_ts"} as legacy counters */
static void lcount_from_msg(json_t *o, struct lcount *c)
{
	memset(c, 0, sizeof(*c));
	c->count = (uint64_t)json_integer_value(json_object_get(o, "count"));
	if (!c->count)
		return;
	c->bytes = (uint64_t)json_integer_value(json_object_get(o, "bytes"));
	c->first_ts = (uint64_t)json_number_value(json_object_get(o, "first_ts"));
	c->last_ts = (uint64_t)json_number_value(json_object_get(o, "last_ts"));
}

static void lcount_sum(struct lcount *sum, const struct lcount *c)
{
	if (!c->count)
		return;
	if (!sum->count || c->first_ts < sum->first_ts)
		sum->first_ts = c->first_ts;
	if (c->last_ts > sum->last_ts)
		sum->last_ts = c->last_ts;
	sum->count += c->count;
	sum->bytes += c->bytes;
}

static int stream_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *re_s = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_STREAM);
	struct lcount opub = {0}, orecv = {0};
	int reset = 0, have_re = 0, rc;
	char *mj = NULL;
	regex_t re;

	if ((rc = ldmsd_verbs_reset_attr(c, &reset)))
		return rc;
	if (re_s && *re_s) {
		if (ldms_regcomp(&re, re_s, REG_EXTENDED | REG_NOSUB))
			return ldmsd_reply_err(
			    c, -EINVAL, "stream_status: attribute 'regex': invalid '%s'", re_s);
		have_re = 1;
	}
	rc = ldms_msg_stats_json(have_re ? re_s : NULL, tag && *tag ? tag : NULL, reset, &mj);
	if (rc) {
		if (have_re)
			regfree(&re);
		return ldmsd_reply_err(c, rc, "stream_status: %s",
				       rc == -ENOTSUP ? "the message service is disabled"
						      : strerror(-rc));
	}
	json_t *msgs = json_loads(mj, 0, NULL), *out = json_object(), *v;
	free(mj);
	size_t i;
	pthread_mutex_lock(&st_lock);
	struct stream_state *st = state_of(c->d, 0);
	struct lsub *dead = st ? lsub_take_dead(st) : NULL;
	json_array_foreach(msgs, i, v)
	{
		const char *t = json_string_value(json_object_get(v, "msg_tag"));
		json_t *cl = json_object_get(v, "clients"), *srcs = json_object_get(v, "sources");
		json_t *pubs = json_object(), *sv;
		const char *sk;
		struct lcount recv, pc = {0}, sc;
		if (!t)
			continue;
		lcount_from_msg(json_object_get(v, "rx"), &recv);
		for (struct pub_ent *p = st ? st->pubs : NULL; p; p = p->next)
			if (!strcmp(p->tag, t))
				pc = p->c;
		json_object_foreach(srcs, sk, sv)
		{
			lcount_from_msg(sv, &sc);
			json_object_set_new(pubs, sk, json_pack("{s:o}", "recv", lcount_json(&sc)));
		}
		json_object_set_new(out, t,
				    json_pack("{s:s,s:o,s:o,s:o}", "mode",
					      json_array_size(cl) ? "subscribed" : "not subscribed",
					      "pub", lcount_json(&pc), "recv", lcount_json(&recv),
					      "publishers", pubs));
		lcount_sum(&opub, &pc);
		lcount_sum(&orecv, &recv);
	}
	/* published here but never delivered (no entry in msg_stats) */
	for (struct pub_ent *p = st ? st->pubs : NULL; p; p = p->next) {
		struct lcount z = {0};
		if (json_object_get(out, p->tag) || (tag && *tag && strcmp(tag, p->tag)) ||
		    (have_re && regexec(&re, p->tag, 0, NULL, 0)))
			continue;
		json_object_set_new(out, p->tag,
				    json_pack("{s:s,s:o,s:o,s:o}", "mode", "not subscribed", "pub",
					      lcount_json(&p->c), "recv", lcount_json(&z),
					      "publishers", json_object()));
		lcount_sum(&opub, &p->c);
	}
	if (reset)
		for (struct pub_ent *p = st ? st->pubs : NULL; p; p = p->next)
			if ((!tag || !*tag || !strcmp(tag, p->tag)) &&
			    (!have_re || !regexec(&re, p->tag, 0, NULL, 0)))
				memset(&p->c, 0, sizeof(p->c));
	pthread_mutex_unlock(&st_lock);
	lsub_free_list(dead);
	json_object_set_new(
	    out, "_OVERALL_",
	    json_pack("{s:o,s:o}", "pub", lcount_json(&opub), "recv", lcount_json(&orecv)));
	json_decref(msgs);
	if (have_re)
		regfree(&re);
	char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(out);
	if (!text)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	rc = ldmsd_buf_append(ldmsd_reply_json(c), text, strlen(text));
	free(text);
	return rc ? ldmsd_reply_err(c, rc, "out of memory") : 0;
}

/* 4.5's stream_client_dump lists the stream clients; ldms-c's clients are the
 * message clients, listed as msg_client_stats lists them. */
static int stream_client_dump_handler(struct ldmsd_req_ctxt *c)
{
	char *json = NULL;
	struct lsub *dead = NULL;

	/* subscriptions of connections that ended are not listed */
	pthread_mutex_lock(&st_lock);
	struct stream_state *st = state_of(c->d, 0);
	if (st)
		dead = lsub_take_dead(st);
	pthread_mutex_unlock(&st_lock);
	lsub_free_list(dead);
	int rc = ldms_msg_client_stats_json(0, &json);
	if (rc)
		return ldmsd_reply_err(c, rc, "stream_client_dump: %s",
				       rc == -ENOTSUP ? "the message service is disabled"
						      : strerror(-rc));
	rc = ldmsd_buf_append(ldmsd_reply_json(c), json, strlen(json));
	free(json);
	return rc ? ldmsd_reply_err(c, rc, "out of memory") : 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_verbs_stream_cmds[] = {
    {"publish", publish_handler, 0, ATTRS({"name", REQ}, {"string", 0}, {"json", 0}, {"type", 0})},
    {"stream_new", stream_new_handler, 0, ATTRS({"name", REQ})},
    {"subscribe", subscribe_handler, 0, ATTRS({"name", REQ})},
    {"unsubscribe", unsubscribe_handler, 0, ATTRS({"name", REQ})},
    {"stream_status", stream_status_handler, 0,
     ATTRS({"regex", 0}, {"stream", 0}, {"reset", 0}, {"json", 0})},
    {"stream_client_dump", stream_client_dump_handler, 0, NULL},
    {NULL, NULL, 0, NULL},
};
