/* The process-local half of the message service: tag channels, local and
 * remote-subscriber clients bound to them (exact or regex, B.2), delivery of a
 * message to every client of its tag with the per-channel/per-client counters
 * (B.9), local publish (x NULL) and the service switch. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg_int.h"
#include "xprt_int.h"

struct msg_global msg_g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .deposit = PTHREAD_COND_INITIALIZER,
    .tick_cond = PTHREAD_COND_INITIALIZER,
    .stats_level = -1,
};
atomic_int msg_enabled_flag = 1;
atomic_uint_fast64_t msg_gn_next;

void ldms_msg_enable(void)
{
	atomic_store(&msg_enabled_flag, 1);
}

void ldms_msg_disable(void)
{
	atomic_store(&msg_enabled_flag, 0);
}

int ldms_msg_is_enabled(void)
{
	return atomic_load(&msg_enabled_flag);
}

int ldms_msg_type_parse(const char *s, enum ldms_msg_type *t)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "string") || !strcasecmp(s, "str"))
		*t = LDMS_MSG_STRING;
	else if (!strcasecmp(s, "json"))
		*t = LDMS_MSG_JSON;
	else if (!strcasecmp(s, "avro_ser") || !strcasecmp(s, "avro"))
		*t = LDMS_MSG_AVRO_SER;
	else
		return -EINVAL;
	return 0;
}

const char *ldms_msg_type_str(enum ldms_msg_type t)
{
	switch (t) {
	case LDMS_MSG_STRING:
		return "string";
	case LDMS_MSG_JSON:
		return "json";
	case LDMS_MSG_AVRO_SER:
		return "avro_ser";
	}
	return "unknown";
}

void msg_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

void msg_stats_level_init(void)
{
	const char *e;
	char *end;
	long v;

	if (msg_g.stats_level >= 0)
		return;
	msg_g.stats_level = 1;
	e = getenv("LDMS_MSG_STATS_LEVEL");
	if (!e || !*e)
		e = getenv("LDMS_STREAM_STATS_LEVEL");
	if (e && *e) {
		v = strtol(e, &end, 10);
		if (!*end && v >= 0 && v <= 2)
			msg_g.stats_level = (int)v;
	}
}

/* ---- counters and buckets ---------------------------------------------------------------- */

void msg_counters_add(struct msg_counters *c, uint64_t bytes, const struct timespec *ts)
{
	if (!c->count)
		c->first = *ts;
	c->last = *ts;
	c->count++;
	c->bytes += bytes;
}

void msg_bucket_init(struct msg_bucket *b, int64_t rate)
{
	b->rate = rate;
	b->avail = rate;
	b->sec = time(NULL);
}

static int64_t bucket_avail(const struct msg_bucket *b, time_t now)
{
	return now > b->sec ? b->rate : b->avail;
}

int msg_bucket_can(const struct msg_bucket *b, uint64_t n)
{
	if (b->rate < 0)
		return 1;
	return (uint64_t)bucket_avail(b, time(NULL)) >= n;
}

int msg_bucket_take(struct msg_bucket *b, uint64_t n)
{
	time_t now;

	if (b->rate < 0)
		return 0;
	now = time(NULL);
	if (now > b->sec) {
		b->avail = b->rate;
		b->sec = now;
	}
	if ((uint64_t)b->avail < n)
		return -ENOBUFS;
	b->avail -= (int64_t)n;
	return 0;
}

void msg_bucket_give(struct msg_bucket *b, uint64_t n)
{
	/* only within the second the bytes were taken in (Part 0.2) */
	if (b->rate < 0 || time(NULL) != b->sec)
		return;
	b->avail += (int64_t)n;
	if (b->avail > b->rate)
		b->avail = b->rate;
}

/* ---- messages ---------------------------------------------------------------------------------
 */

struct msg_buf *msg_buf_get(struct msg_buf *m)
{
	atomic_fetch_add(&m->ref, 1);
	return m;
}

void msg_buf_put(struct msg_buf *m)
{
	if (!m || atomic_fetch_sub(&m->ref, 1) != 1)
		return;
	if (m->origin) {
		msg_quota_return(m->origin, m->charge, 0);
		msg_conn_put(m->origin);
	}
	if (m->json)
		json_decref(m->json);
	free(m->raw);
	free(m);
}

/* ---- channels -----------------------------------------------------------------------------------
 */

static uint32_t chan_slot(const char *tag)
{
	return msg_tag_hash(tag, strlen(tag)) & (MSG_CHAN_BUCKETS - 1);
}

static int client_matches(struct ldms_msg_client *c, const char *tag)
{
	if (c->is_regex)
		return regexec(&c->re, tag, 0, NULL, 0) == 0;
	return strcmp(c->match, tag) == 0;
}

static int bind_append(struct msg_chan *ch, struct ldms_msg_client *c)
{
	struct msg_bind *b = calloc(1, sizeof(*b)), **pp;

	if (!b)
		return -ENOMEM;
	b->c = c;
	for (pp = &ch->binds; *pp; pp = &(*pp)->next)
		;
	*pp = b;
	return 0;
}

struct msg_chan *msg_chan_find(const char *tag, int create)
{
	uint32_t i = chan_slot(tag);
	struct msg_chan *ch;

	for (ch = msg_g.chans[i]; ch; ch = ch->hnext)
		if (!strcmp(ch->tag, tag))
			return ch;
	if (!create)
		return NULL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->tag = strdup(tag);
	if (!ch->tag) {
		free(ch);
		return NULL;
	}
	ch->hnext = msg_g.chans[i];
	msg_g.chans[i] = ch;
	msg_g.n_chans++;
	/* regex clients remembered from earlier subscriptions, in their order */
	for (struct ldms_msg_client *c = msg_g.clients; c; c = c->next)
		if (c->is_regex && !c->closed && client_matches(c, tag))
			bind_append(ch, c);
	return ch;
}

struct msg_bind *msg_bind_find(struct msg_chan *ch, struct ldms_msg_client *c)
{
	for (struct msg_bind *b = ch->binds; b; b = b->next)
		if (b->c == c)
			return b;
	return NULL;
}

/* ---- clients
 * ------------------------------------------------------------------------------------- */

struct ldms_msg_client *msg_client_get(struct ldms_msg_client *c)
{
	atomic_fetch_add(&c->ref, 1);
	return c;
}

void msg_client_put(struct ldms_msg_client *c)
{
	if (!c || atomic_fetch_sub(&c->ref, 1) != 1)
		return;
	if (!c->conn && c->cb) {
		struct ldms_msg_event ev = {.type = LDMS_MSG_EVENT_CLIENT_CLOSE};
		c->cb(&ev, c->arg);
	}
	if (c->is_regex)
		regfree(&c->re);
	if (c->conn)
		msg_conn_put(c->conn);
	free(c->match);
	free(c->desc);
	free(c);
}

int msg_client_register(struct ldms_msg_client *c)
{
	struct ldms_msg_client **pp;

	if (c->is_regex) {
		for (size_t i = 0; i < MSG_CHAN_BUCKETS; i++)
			for (struct msg_chan *ch = msg_g.chans[i]; ch; ch = ch->hnext)
				if (client_matches(c, ch->tag) && bind_append(ch, c))
					return -ENOMEM;
	} else {
		struct msg_chan *ch = msg_chan_find(c->match, 1);
		if (!ch || bind_append(ch, c))
			return -ENOMEM;
	}
	for (pp = &msg_g.clients; *pp; pp = &(*pp)->next)
		;
	*pp = msg_client_get(c);
	return 0;
}

/* Detaches c everywhere and drops the registry's reference (lock held; the
 * caller still holds its own reference). */
void msg_client_unregister(struct ldms_msg_client *c)
{
	struct ldms_msg_client **pp;

	c->closed = 1;
	for (size_t i = 0; i < MSG_CHAN_BUCKETS; i++)
		for (struct msg_chan *ch = msg_g.chans[i]; ch; ch = ch->hnext)
			for (struct msg_bind **bp = &ch->binds; *bp; bp = &(*bp)->next)
				if ((*bp)->c == c) {
					struct msg_bind *b = *bp;
					*bp = b->next;
					free(b);
					break;
				}
	for (pp = &msg_g.clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->next = NULL;
			atomic_fetch_sub(&c->ref, 1); /* never the last: the caller holds one */
			break;
		}
}

ldms_msg_client_t ldms_msg_subscribe(const char *match, int is_regex, ldms_msg_cb_t cb, void *arg,
				     const char *desc)
{
	struct ldms_err err;
	struct ldms_msg_client *c;
	int rc;

	if (!match || !cb) {
		errno = EINVAL;
		return NULL;
	}
	if (!ldms_msg_is_enabled()) {
		errno = ENOTSUP;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&c->ref, 1);
	c->match = strdup(match);
	c->desc = strdup(desc ? desc : "");
	c->cb = cb;
	c->arg = arg;
	c->is_regex = is_regex ? 1 : 0;
	msg_bucket_init(&c->rate, -1);
	snprintf(c->dest, sizeof(c->dest), "0.0.0.0:0");
	if (!c->match || !c->desc) {
		free(c->match);
		free(c->desc);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (c->is_regex) {
		ldms_err_clear(&err);
		if (ldms_regex_check(match, &err) ||
		    regcomp(&c->re, match, REG_EXTENDED | REG_NOSUB)) {
			free(c->match);
			free(c->desc);
			free(c);
			errno = EINVAL;
			return NULL;
		}
	}
	msg_stats_level_init();
	pthread_mutex_lock(&msg_g.lock);
	rc = msg_client_register(c);
	if (rc)
		msg_client_unregister(c);
	pthread_mutex_unlock(&msg_g.lock);
	if (rc) {
		c->cb = NULL;
		msg_client_put(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

void ldms_msg_client_close(ldms_msg_client_t c)
{
	if (!c)
		return;
	pthread_mutex_lock(&msg_g.lock);
	if (!c->closed)
		msg_client_unregister(c);
	pthread_mutex_unlock(&msg_g.lock);
	msg_client_put(c); /* the application's reference */
}

/* ---- delivery
 * -------------------------------------------------------------------------------------- */

static int local_deliver(struct msg_buf *m, struct ldms_msg_client *c)
{
	struct ldms_msg_event ev;

	if (m->h.type == LDMS_MSG_JSON) {
		if (!m->json_done) {
			size_t n = m->data_len;
			json_error_t jerr;
			while (n && m->data[n - 1] == 0)
				n--;
			m->json = json_loadb(m->data, n, JSON_DECODE_ANY, &jerr);
			m->json_done = 1;
		}
		if (!m->json)
			return -EINVAL; /* a drop for this JSON client; others still get it */
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = LDMS_MSG_EVENT_RECV;
	ev.tag = m->tag;
	ev.msg_type = (enum ldms_msg_type)m->h.type;
	ev.data = m->data;
	ev.data_len = m->data_len;
	ev.json = m->json;
	ev.uid = (uid_t)m->h.uid;
	ev.gid = (gid_t)m->h.gid;
	ev.perm = m->h.perm;
	msg_addr_str(&m->h.src, ev.src, sizeof(ev.src));
	ev.msg_gn = m->h.msg_gn;
	ev.hop_cnt = m->h.hop_cnt;
	ev.recv_ts = m->recv_ts;
	ev.x = m->origin ? m->origin->x : NULL;
	return c->cb(&ev, c->arg);
}

static void src_stat_add(struct msg_chan *ch, struct msg_buf *m)
{
	char src[64];
	struct msg_src_stat *s;

	msg_addr_str(&m->h.src, src, sizeof(src));
	for (s = ch->srcs; s; s = s->next)
		if (!strcmp(s->src, src))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		snprintf(s->src, sizeof(s->src), "%s", src);
		s->next = ch->srcs;
		ch->srcs = s;
	}
	msg_counters_add(&s->rx, m->data_len, &m->recv_ts);
}

#define DELIVER_STACK 16

void msg_deliver(struct msg_buf *m, struct msg_conn *from)
{
	struct ldms_msg_client *stack[DELIVER_STACK], **cl = stack;
	struct msg_conn *sent_to[DELIVER_STACK];
	size_t n = 0, n_sent = 0, cap = DELIVER_STACK;
	struct msg_chan *ch;
	struct msg_bind *b;
	struct timespec now;
	int rc;

	msg_stats_level_init();
	pthread_mutex_lock(&msg_g.lock);
	ch = msg_chan_find(m->tag, 1);
	if (!ch) {
		pthread_mutex_unlock(&msg_g.lock);
		return;
	}
	if (msg_g.stats_level > 0)
		msg_counters_add(&ch->rx, m->data_len, &m->recv_ts);
	if (msg_g.stats_level > 1)
		src_stat_add(ch, m);
	for (b = ch->binds; b; b = b->next) {
		if (n == cap) {
			size_t ncap = cap * 2;
			struct ldms_msg_client **nl = malloc(ncap * sizeof(*nl));
			if (!nl)
				break;
			memcpy(nl, cl, n * sizeof(*nl));
			if (cl != stack)
				free(cl);
			cl = nl;
			cap = ncap;
		}
		cl[n++] = msg_client_get(b->c);
	}
	pthread_mutex_unlock(&msg_g.lock);

	for (size_t i = 0; i < n; i++) {
		struct ldms_msg_client *c = cl[i];
		if (c->closed) {
			rc = MSG_FWD_DUPLICATE; /* detached meanwhile: nothing to count */
		} else if (c->conn) {
			/* one copy per connection even if several of the peer's
			 * subscriptions match (ldms-c: stream= and message_tag= are
			 * the same service, upstream's legacy stream was separate) */
			size_t k;
			for (k = 0; k < n_sent && sent_to[k] != c->conn; k++)
				;
			if (k < n_sent) {
				rc = MSG_FWD_DUPLICATE;
			} else {
				rc = msg_forward(m, c);
				if (n_sent < DELIVER_STACK && (rc == 0 || rc == MSG_FWD_QUEUED))
					sent_to[n_sent++] = c->conn;
			}
		} else {
			/* any non-zero answer of an application is a drop */
			rc = local_deliver(m, c) ? -EINVAL : 0;
		}
		if (rc != MSG_FWD_DUPLICATE && rc != MSG_FWD_QUEUED && msg_g.stats_level > 0) {
			msg_now(&now);
			pthread_mutex_lock(&msg_g.lock);
			b = msg_bind_find(ch, c);
			if (rc == 0 || rc == MSG_FWD_SKIPPED) {
				if (b)
					msg_counters_add(&b->tx, m->data_len, &now);
				msg_counters_add(&c->tx, m->data_len, &now);
			} else {
				if (b)
					msg_counters_add(&b->drops, m->data_len, &now);
				msg_counters_add(&c->drops, m->data_len, &now);
			}
			pthread_mutex_unlock(&msg_g.lock);
		}
		msg_client_put(c);
	}
	if (cl != stack)
		free(cl);
	(void)from;
}

/* ---- publishing
 * ------------------------------------------------------------------------------------ */

static int in_groups(gid_t gid)
{
	int n = getgroups(0, NULL);
	gid_t *g;
	int found = 0;

	if (n <= 0)
		return 0;
	g = calloc((size_t)n, sizeof(*g));
	if (!g)
		return 0;
	n = getgroups(n, g);
	for (int i = 0; i < n; i++)
		if (g[i] == gid)
			found = 1;
	free(g);
	return found;
}

/* B.3: an explicit credential must be one of ours unless we may change ids. */
static int cred_check(const struct ldms_msg_cred *cred)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() == 0)
		return 0;
	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	if (cred->uid != ru && cred->uid != eu && cred->uid != su)
		return -EPERM;
	if (cred->gid != rg && cred->gid != eg && cred->gid != sg && !in_groups(cred->gid))
		return -EPERM;
	return 0;
}

/* A new message (hop 0) owned by the caller; body = tag NUL data. */
static struct msg_buf *msg_buf_new(const char *tag, enum ldms_msg_type type,
				   const struct ldms_msg_cred *cred, uint32_t perm,
				   const void *data, size_t len)
{
	size_t tl = strlen(tag);
	struct msg_buf *m = calloc(1, sizeof(*m));
	char *body;

	if (!m)
		return NULL;
	body = malloc(tl + 1 + len + 1);
	if (!body) {
		free(m);
		return NULL;
	}
	memcpy(body, tag, tl + 1);
	if (len)
		memcpy(body + tl + 1, data, len);
	body[tl + 1 + len] = 0; /* not sent: a guard for readers of text data */
	atomic_init(&m->ref, 1);
	m->raw = (uint8_t *)body;
	m->body = body;
	m->tag = body;
	m->tag_len = tl;
	m->data = body + tl + 1;
	m->data_len = (uint32_t)len;
	m->h.msg_gn = atomic_fetch_add(&msg_gn_next, 1);
	m->h.msg_len = (uint32_t)(tl + 1 + len);
	m->h.type = (uint32_t)type;
	m->h.uid = cred ? (uint32_t)cred->uid : (uint32_t)geteuid();
	m->h.gid = cred ? (uint32_t)cred->gid : (uint32_t)getegid();
	m->h.perm = perm & 0777;
	m->h.tag_hash = msg_tag_hash(tag, tl);
	m->h.hop_cnt = 0;
	msg_now(&m->recv_ts);
	m->h.hops[0].recv_sec = m->recv_ts.tv_sec;
	m->h.hops[0].recv_nsec = m->recv_ts.tv_nsec;
	return m;
}

static int direct_publish(ldms_t x, struct msg_buf *m)
{
	struct msg_conn *k;
	uint64_t charge = m->h.msg_len;
	int rc;

	if (!xprt_is_connected(x))
		return -ENOTCONN;
	pthread_mutex_lock(&msg_g.lock);
	k = msg_conn_find(x, 1);
	if (!k) {
		rc = -ENOTCONN;
	} else if (k->legacy || !k->peer_msg_enabled || k->peer_disabled) {
		rc = -ENOTSUP;
	} else {
		msg_conn_drain(k);
		rc = 0;
		if (k->budget >= 0) {
			if ((uint64_t)k->budget < charge)
				rc = -ENOBUFS;
			else
				k->budget -= (int64_t)charge;
		}
		if (!rc && msg_bucket_take(&k->rate, charge)) {
			if (k->budget >= 0)
				k->budget += (int64_t)charge;
			rc = -ENOBUFS;
		}
		if (!rc) {
			rc = msg_send(k, m);
			if (rc) { /* ldms-c gives the charge back (B.3) */
				if (k->budget >= 0)
					k->budget += (int64_t)charge;
				msg_bucket_give(&k->rate, charge);
			}
		}
	}
	pthread_mutex_unlock(&msg_g.lock);
	return rc;
}

int ldms_msg_publish(ldms_t x, const char *tag, enum ldms_msg_type type,
		     const struct ldms_msg_cred *cred, uint32_t perm, const void *data, size_t len)
{
	struct msg_buf *m;
	int rc;

	if (!tag || !*tag || (!data && len) || (unsigned)type > LDMS_MSG_AVRO_SER)
		return -EINVAL;
	if (strlen(tag) + 1 + len > LDMS_MSG_SIZE_MAX)
		return -EMSGSIZE;
	if (!ldms_msg_is_enabled())
		return -ENOTSUP;
	if (cred && cred_check(cred))
		return -EPERM;
	m = msg_buf_new(tag, type, cred, perm, data, len);
	if (!m)
		return -ENOMEM;
	if (x) {
		rc = direct_publish(x, m);
	} else {
		msg_deliver(m, NULL);
		rc = 0;
	}
	msg_buf_put(m);
	return rc;
}
