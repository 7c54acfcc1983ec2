/* ldmsd commands of the message service (qgroup-streams.md B.6, B.9):
 * prdcr_subscribe / prdcr_unsubscribe (an ordered log replayed for every
 * producer that connects, so subscriptions follow reconnects), msg_stats and
 * msg_client_stats. Forwarding itself is libldms' remote-subscriber clients:
 * an aggregator subscribed on its producers re-delivers what they send. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_msg.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_verbs.h"

#define MSG_CMD_LOG "ldms.msg"

struct sub_ent {
	struct sub_ent *next;
	int unsub;
	char *prdcr_re_str;
	regex_t prdcr_re;
	char *tag;
	int is_regex;
	int64_t rate;
};

/* Per daemon (unit tests run several): the subscription log. */
struct msg_cmd_state {
	struct msg_cmd_state *next;
	struct ldmsd *d;
	pthread_mutex_t lock;
	struct sub_ent *log, **tail;
};

static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static struct msg_cmd_state *states;

static void prdcr_hook(struct ldmsd_prdcr *p, ldms_t x, int connected, void *arg);

static void log_free(struct msg_cmd_state *st)
{
	while (st->log) {
		struct sub_ent *e = st->log;
		st->log = e->next;
		regfree(&e->prdcr_re);
		free(e->prdcr_re_str);
		free(e->tag);
		free(e);
	}
	st->tail = &st->log;
}

static int hook_registered(struct ldmsd *d, struct msg_cmd_state *st)
{
	struct ldmsd_agg *a = d->agg;
	int found = 0;

	if (!a)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	for (int i = 0; i < a->n_hooks; i++)
		if (a->hooks[i].fn == prdcr_hook && a->hooks[i].arg == st)
			found = 1;
	pthread_rwlock_unlock(&a->lock);
	return found;
}

/* The daemon's state, with the producer hook installed. A state whose hook is
 * missing belongs to a freed daemon that had the same address: start afresh. */
static struct msg_cmd_state *state_get(struct ldmsd *d)
{
	struct msg_cmd_state *st;

	pthread_mutex_lock(&states_lock);
	for (st = states; st && st->d != d; st = st->next)
		;
	if (st && !hook_registered(d, st)) {
		pthread_mutex_lock(&st->lock);
		log_free(st);
		pthread_mutex_unlock(&st->lock);
		if (ldmsd_prdcr_hook_add(d, prdcr_hook, st))
			st = NULL;
	} else if (!st) {
		st = calloc(1, sizeof(*st));
		if (st) {
			st->d = d;
			pthread_mutex_init(&st->lock, NULL);
			st->tail = &st->log;
			if (ldmsd_prdcr_hook_add(d, prdcr_hook, st)) {
				pthread_mutex_destroy(&st->lock);
				free(st);
				st = NULL;
			} else {
				st->next = states;
				states = st;
			}
		}
	}
	pthread_mutex_unlock(&states_lock);
	return st;
}

/* B.6: a tag is taken as a regex when it holds a regex metacharacter. */
static int tag_is_regex(const char *t)
{
	return strpbrk(t, "$()*+.:?[\\]^{|}") != NULL;
}

struct eff_sub {
	const char *tag;
	int is_regex;
	int64_t rate;
};

/* The producer's subscriptions: the log replayed for its name (lock held).
 * Returns the count; *out malloc'ed (pointers into the log). */
static size_t effective_subs(struct msg_cmd_state *st, const char *name, struct eff_sub **out)
{
	size_t n = 0, cap = 0;
	struct eff_sub *v = NULL;

	for (struct sub_ent *e = st->log; e; e = e->next) {
		size_t i;
		if (regexec(&e->prdcr_re, name, 0, NULL, 0))
			continue;
		for (i = 0; i < n && strcmp(v[i].tag, e->tag); i++)
			;
		if (e->unsub) {
			if (i < n)
				v[i] = v[--n];
			continue;
		}
		if (i < n)
			continue; /* EEXIST: the first rate stays */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct eff_sub *nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		v[n++] = (struct eff_sub){.tag = e->tag, .is_regex = e->is_regex, .rate = e->rate};
	}
	*out = v;
	return n;
}

static void sub_status_cb(ldms_t x, int is_unsub, const char *match, int status, void *arg)
{
	if (status && status != -EEXIST && status != -ENOTCONN && !(is_unsub && status == -ENOENT))
		ldms_log(LDMS_LERROR, MSG_CMD_LOG, "%ssubscribe '%s' refused by the producer: %s",
			 is_unsub ? "un" : "", match, strerror(-status));
}

static void prdcr_hook(struct ldmsd_prdcr *p, ldms_t x, int connected, void *arg)
{
	struct msg_cmd_state *st = arg;
	struct eff_sub *v = NULL;
	char **tags = NULL;
	int *re = NULL;
	int64_t *rates = NULL;
	size_t n;

	if (!connected || !x)
		return;
	/* copy out: the subscriptions are sent without the log lock */
	pthread_mutex_lock(&st->lock);
	n = effective_subs(st, p->name, &v);
	if (n) {
		tags = calloc(n, sizeof(*tags));
		re = calloc(n, sizeof(*re));
		rates = calloc(n, sizeof(*rates));
		for (size_t i = 0; tags && re && rates && i < n; i++) {
			tags[i] = strdup(v[i].tag);
			re[i] = v[i].is_regex;
			rates[i] = v[i].rate;
		}
	}
	pthread_mutex_unlock(&st->lock);
	free(v);
	for (size_t i = 0; tags && re && rates && i < n; i++) {
		if (!tags[i])
			continue;
		int rc =
		    ldms_msg_remote_subscribe(x, tags[i], re[i], rates[i], sub_status_cb, NULL);
		if (rc)
			ldms_log(LDMS_LERROR, MSG_CMD_LOG,
				 "producer %s: cannot subscribe to '%s': %s", p->name, tags[i],
				 strerror(-rc));
	}
	for (size_t i = 0; tags && i < n; i++)
		free(tags[i]);
	free(tags);
	free(re);
	free(rates);
}

/* message_tag= or stream= (ldms-c: synonyms), exactly one. */
static const char *tag_attr(struct ldmsd_req_ctxt *c)
{
	const char *t = ldmsd_req_attr(c, LDMSD_ATTR_MSG_TAG);
	const char *s = ldmsd_req_attr(c, LDMSD_ATTR_STREAM);

	if (t && s) {
		ldmsd_reply_err(c, -EINVAL,
				"%s: give either message_tag or stream (synonyms), not both",
				ldmsd_req_verb(c));
		return NULL;
	}
	if (!t && !s) {
		ldmsd_reply_err(c, -EINVAL, "%s: the message_tag (or stream) attribute is required",
				ldmsd_req_verb(c));
		return NULL;
	}
	t = t ? t : s;
	if (!*t) {
		ldmsd_reply_err(c, -EINVAL, "%s: empty message_tag", ldmsd_req_verb(c));
		return NULL;
	}
	return t;
}

static int sub_cmd(struct ldmsd_req_ctxt *c, int unsub)
{
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *rate_s = ldmsd_req_attr(c, LDMSD_ATTR_RX_RATE);
	const char *tag;
	struct msg_cmd_state *st;
	struct ldms_err err;
	struct sub_ent *e;
	int64_t rate = -1;
	regex_t tre;
	int rc;

	if (!ldms_msg_is_enabled())
		return ldmsd_reply_err(c, -ENOTSUP, "%s: the message service is disabled",
				       ldmsd_req_verb(c));
	tag = tag_attr(c);
	if (!tag)
		return c->reply->rc;
	if (rate_s && *rate_s && (ldms_parse_size(rate_s, &rate) || rate < -1))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid rx_rate '%s'", ldmsd_req_verb(c),
				       rate_s);
	if (rate == 0)
		rate = -1;
	ldms_err_clear(&err);
	if (ldms_regex_check(rs ? rs : "", &err))
		return ldmsd_reply_err(c, -EINVAL, "%s: regex: %s", ldmsd_req_verb(c), err.msg);
	e = calloc(1, sizeof(*e));
	if (!e)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	rc = ldms_regcomp(&e->prdcr_re, rs ? rs : "", REG_EXTENDED | REG_NOSUB);
	if (rc) {
		free(e);
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid regular expression '%s'",
				       ldmsd_req_verb(c), rs ? rs : "");
	}
	e->unsub = unsub;
	e->is_regex = tag_is_regex(tag);
	e->rate = rate;
	e->prdcr_re_str = strdup(rs ? rs : "");
	e->tag = strdup(tag);
	if (e->is_regex &&
	    (ldms_regex_check(tag, &err) || ldms_regcomp(&tre, tag, REG_EXTENDED | REG_NOSUB) ||
	     (regfree(&tre), 0))) {
		rc = ldmsd_reply_err(c, -EINVAL, "%s: invalid message_tag regex '%s'",
				     ldmsd_req_verb(c), tag);
		goto fail;
	}
	st = state_get(c->d);
	if (!e->prdcr_re_str || !e->tag || !st) {
		rc = ldmsd_reply_err(c, -ENOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_lock(&st->lock);
	*st->tail = e;
	st->tail = &e->next;
	pthread_mutex_unlock(&st->lock);

	/* producers already connected get it now; the others when they connect */
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_prdcr *p;
	if (!a)
		return 0;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		ldms_t x = NULL;
		if (regexec(&e->prdcr_re, p->name, 0, NULL, 0))
			continue;
		pthread_mutex_lock(&p->lock);
		if (p->state == LDMSD_PRDCR_CONNECTED && p->x)
			x = ldms_xprt_get(p->x);
		pthread_mutex_unlock(&p->lock);
		if (!x)
			continue;
		rc = unsub
			 ? ldms_msg_remote_unsubscribe(x, e->tag, e->is_regex, sub_status_cb, NULL)
			 : ldms_msg_remote_subscribe(x, e->tag, e->is_regex, e->rate, sub_status_cb,
						     NULL);
		if (rc)
			ldms_log(LDMS_LERROR, MSG_CMD_LOG,
				 "producer %s: cannot %ssubscribe '%s': %s", p->name,
				 unsub ? "un" : "", e->tag, strerror(-rc));
		ldms_xprt_put(x);
	}
	return 0;
fail:
	regfree(&e->prdcr_re);
	free(e->prdcr_re_str);
	free(e->tag);
	free(e);
	return rc;
}

static int prdcr_subscribe_handler(struct ldmsd_req_ctxt *c)
{
	return sub_cmd(c, 0);
}

static int prdcr_unsubscribe_handler(struct ldmsd_req_ctxt *c)
{
	return sub_cmd(c, 1);
}

static int json_out(struct ldmsd_req_ctxt *c, int rc, char *json)
{
	if (rc == -ENOTSUP)
		return ldmsd_reply_err(c, rc, "message service is disabled");
	if (rc == -EINVAL)
		return ldmsd_reply_err(c, rc, "%s: invalid regular expression", ldmsd_req_verb(c));
	if (rc)
		return ldmsd_reply_err(c, rc, "%s: %s", ldmsd_req_verb(c), strerror(-rc));
	ldmsd_buf_append(ldmsd_reply_json(c), json, strlen(json));
	free(json);
	return 0;
}

static int msg_stats_handler(struct ldmsd_req_ctxt *c)
{
	const char *re = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *tag = ldmsd_req_attr(c, LDMSD_ATTR_STREAM);
	char *json = NULL;
	int reset, rc;

	if (!tag)
		tag = ldmsd_req_attr(c, LDMSD_ATTR_MSG_TAG);
	if ((rc = ldmsd_verbs_reset_attr(c, &reset)))
		return rc;
	rc = ldms_msg_stats_json(re && *re ? re : NULL, tag && *tag ? tag : NULL, reset, &json);
	return json_out(c, rc, json);
}

static int msg_client_stats_handler(struct ldmsd_req_ctxt *c)
{
	char *json = NULL;
	int reset, rc;

	if ((rc = ldmsd_verbs_reset_attr(c, &reset)))
		return rc;
	rc = ldms_msg_client_stats_json(reset, &json);
	return json_out(c, rc, json);
}

/* prdcr_stream_status regex=: per matching producer, its state, the message
 * subscriptions the log gives it (what is sent on every connect) and the flow
 * control of its connection. ldms-c answers from local state rather than
 * forwarding stream_status to every producer as upstream does (docs/verbs.md). */
static int prdcr_stream_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_buf *b = ldmsd_reply_json(c);
	struct msg_cmd_state *st;
	struct ldmsd_prdcr *p;
	struct ldms_err err;
	regex_t re;
	int n = 0, rc = 0;

	ldms_err_clear(&err);
	if (ldms_regex_check(rs, &err) || ldms_regcomp(&re, rs, REG_EXTENDED | REG_NOSUB))
		return ldmsd_reply_err(c, -EINVAL,
				       "prdcr_stream_status: attribute 'regex': invalid '%s'%s%s",
				       rs, err.msg[0] ? ": " : "", err.msg);
	st = a ? state_get(c->d) : NULL;
	if (!st) {
		regfree(&re);
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	rc = ldmsd_buf_append(b, "[", 1);
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		struct ldms_msg_conn_stats cs;
		struct eff_sub *v = NULL;
		ldms_t x = NULL;
		size_t ns;
		int have_cs = 0;

		if (rc || regexec(&re, p->name, 0, NULL, 0))
			continue;
		pthread_mutex_lock(&p->lock);
		enum ldmsd_prdcr_state ps = p->state;
		if (ps == LDMSD_PRDCR_CONNECTED && p->x)
			x = ldms_xprt_get(p->x);
		pthread_mutex_unlock(&p->lock);
		if (x) {
			have_cs = ldms_msg_conn_stats_get(x, &cs) == 0;
			ldms_xprt_put(x);
		}
		rc = ldmsd_buf_printf(b, "%s{\"name\":", n++ ? "," : "");
		rc = rc ? rc : ldmsd_buf_json_str(b, p->name);
		rc = rc ? rc
			: ldmsd_buf_printf(b, ",\"state\":\"%s\",\"subscriptions\":[",
					   ldmsd_prdcr_state_str(ps));
		pthread_mutex_lock(&st->lock);
		ns = effective_subs(st, p->name, &v);
		for (size_t i = 0; !rc && i < ns; i++) {
			rc = ldmsd_buf_printf(b, "%s{\"message_tag\":", i ? "," : "");
			rc = rc ? rc : ldmsd_buf_json_str(b, v[i].tag);
			rc = rc ? rc
				: ldmsd_buf_printf(b, ",\"is_regex\":%d,\"rx_rate\":%lld}",
						   v[i].is_regex, (long long)v[i].rate);
		}
		pthread_mutex_unlock(&st->lock);
		free(v);
		rc = rc ? rc : ldmsd_buf_append(b, "],\"conn\":", 9);
		if (!rc && have_cs)
			rc = ldmsd_buf_printf(
			    b,
			    "{\"send_budget\":%lld,\"peer_quota\":%lld,\"pending\":%llu,"
			    "\"pending_bytes\":%llu,\"queued\":%llu,\"dropped\":%llu,"
			    "\"deposits\":%llu,\"returned\":%llu,\"peer_disabled\":%d}}",
			    (long long)cs.send_budget, (long long)cs.peer_quota,
			    (unsigned long long)cs.pending, (unsigned long long)cs.pending_bytes,
			    (unsigned long long)cs.queued, (unsigned long long)cs.dropped,
			    (unsigned long long)cs.deposits, (unsigned long long)cs.returned,
			    cs.peer_disabled);
		else if (!rc)
			rc = ldmsd_buf_append(b, "{}}", 3);
	}
	pthread_rwlock_unlock(&a->lock);
	regfree(&re);
	rc = rc ? rc : ldmsd_buf_append(b, "]", 1);
	return rc ? ldmsd_reply_err(c, rc, "out of memory") : 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_msg_cmds[] = {
    {"prdcr_subscribe", prdcr_subscribe_handler, 0,
     ATTRS({"regex", REQ}, {"message_tag", 0}, {"stream", 0}, {"rx_rate", 0})},
    {"prdcr_unsubscribe", prdcr_unsubscribe_handler, 0,
     ATTRS({"regex", REQ}, {"message_tag", 0}, {"stream", 0})},
    {"msg_stats", msg_stats_handler, 0,
     ATTRS({"regex", 0}, {"stream", 0}, {"message_tag", 0}, {"reset", 0}, {"json", 0})},
    {"msg_client_stats", msg_client_stats_handler, 0, ATTRS({"reset", 0}, {"json", 0})},
    {"prdcr_stream_status", prdcr_stream_status_handler, 0, ATTRS({"regex", REQ}, {"json", 0})},
    {NULL, NULL, 0, NULL},
};
