/* The producer commands (prdcr_add/del/start/stop and their regex forms, the
 * advertiser_* and bridge_add variants) and their status queries (prdcr_status,
 * prdcr_set_status, prdcr_stats, JSON as upstream), with the command table that
 * also lists the prdcr_listen_* handlers of prdcr_passive.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_sched.h"

/* ---- commands ------------------------------------------------------------------------------ */
static int get_int(struct ldmsd_req_ctxt *c, const char *what, const char *v, long lo, long hi,
		   long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 0);
	if (errno || end == v || *end || n < lo || n > hi)
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid %s '%s'", ldmsd_req_verb(c), what,
				       v);
	*out = n;
	return 0;
}

/* prdcr_add (type from the request) and advertiser_add / bridge_add (forced). */
static int prdcr_add_common(struct ldmsd_req_ctxt *c, int forced_type)
{
	struct ldmsd *d = c->d;
	const char *verb = ldmsd_req_verb(c);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *type = ldmsd_req_attr(c, LDMSD_ATTR_TYPE);
	const char *xprt = ldmsd_req_attr(c, LDMSD_ATTR_XPRT);
	const char *host = ldmsd_req_attr(c, LDMSD_ATTR_HOST);
	const char *port = ldmsd_req_attr(c, LDMSD_ATTR_PORT);
	const char *rec = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	const char *rail = ldmsd_req_attr(c, LDMSD_ATTR_RAIL);
	const char *quota = ldmsd_req_attr(c, LDMSD_ATTR_QUOTA);
	const char *rx = ldmsd_req_attr(c, LDMSD_ATTR_RX_RATE);
	const char *cache = ldmsd_req_attr(c, LDMSD_ATTR_IP);
	struct ldmsd_prdcr_spec sp = {.rail = 1, .rx_rate = -1, .cache_ip = 1};
	enum ldmsd_prdcr_type t;
	long portn = 0, railn = 1;
	char msg[256];
	int rc;

	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "%s: 'name' is empty", verb);
	if (forced_type >= 0)
		t = (enum ldmsd_prdcr_type)forced_type;
	else if (!type || ldmsd_prdcr_type_parse(type, &t))
		return ldmsd_reply_err(c, -EINVAL,
				       "prdcr_add: invalid type '%s' (active, passive, bridge, "
				       "advertiser or advertised)",
				       type ? type : "");
	if (!xprt || !*xprt)
		return ldmsd_reply_err(c, -EINVAL, "%s: 'xprt' is empty", verb);
	if (!host || !*host)
		return ldmsd_reply_err(c, -EINVAL, "%s: 'host' is empty", verb);
	if (t != LDMSD_PRDCR_PASSIVE &&
	    (rc = get_int(c, "port", port ? port : "", 1, 65535, &portn)))
		return rc;
	if (ldms_parse_time_us(rec ? rec : "", &sp.reconnect_us) || sp.reconnect_us <= 0)
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid reconnect interval '%s'", verb,
				       rec ? rec : "");
	if (rail && *rail && (rc = get_int(c, "rail", rail, 1, 1 << 16, &railn)))
		return rc;
	sp.quota = d->s.default_quota;
	if (quota && *quota && ldms_parse_size(quota, &sp.quota))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid quota '%s'", verb, quota);
	if (rx && *rx && ldms_parse_size(rx, &sp.rx_rate))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid rx_rate '%s'", verb, rx);
	if (cache && *cache && ldms_parse_bool(cache, &sp.cache_ip))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid cache_ip '%s'", verb, cache);
	if ((rc = ldmsd_agg_perm(c, &sp.perm)))
		return rc;
	ldmsd_agg_owner(c, &sp.uid, &sp.gid);
	sp.name = name;
	sp.type = t;
	sp.xprt = xprt;
	sp.host = host;
	sp.port = (int)portn;
	sp.rail = (int)railn;
	sp.auth = ldmsd_req_attr(c, LDMSD_ATTR_AUTH);
	rc = ldmsd_prdcr_create(d, &sp, NULL, msg, sizeof(msg));
	if (rc == -EEXIST)
		return ldmsd_reply_err(c, rc, "%s", msg);
	if (rc)
		return ldmsd_reply_err(c, rc, "%s: %s", verb, msg);
	return 0;
}

static int prdcr_add_handler(struct ldmsd_req_ctxt *c)
{
	return prdcr_add_common(c, -1);
}

static int advertiser_add_handler(struct ldmsd_req_ctxt *c)
{
	return prdcr_add_common(c, LDMSD_PRDCR_ADVERTISER);
}

static int bridge_add_handler(struct ldmsd_req_ctxt *c)
{
	return prdcr_add_common(c, LDMSD_PRDCR_BRIDGE);
}

static void *prdcr_find(struct ldmsd *d, const char *name)
{
	return ldmsd_prdcr_find(d, name);
}

static enum ldmsd_cfgobj_run prdcr_run_state(void *o)
{
	struct ldmsd_prdcr *p = o;
	pthread_mutex_lock(&p->lock);
	enum ldmsd_prdcr_state st = p->state;
	pthread_mutex_unlock(&p->lock);
	return st == LDMSD_PRDCR_STOPPED    ? LDMSD_CFGOBJ_STOPPED
	       : st == LDMSD_PRDCR_STOPPING ? LDMSD_CFGOBJ_STOPPING
					    : LDMSD_CFGOBJ_RUNNING;
}

static const struct ldmsd_cfgobj_kind prdcr_kind = {
    .find = prdcr_find,
    .obj_off = offsetof(struct ldmsd_prdcr, obj),
    .run = prdcr_run_state,
    .noent = "The producer specified does not exist.",
    .eacces = "Permission denied.",
    .busy = "The producer is in use.",
    .started = "The producer is already running.",
    .stopped = "The producer is already stopped.",
};

static struct ldmsd_prdcr *prdcr_checked(struct ldmsd_req_ctxt *c, enum ldmsd_cfgobj_need need)
{
	return ldmsd_cfgobj_checked(c, &prdcr_kind, ldmsd_req_attr(c, LDMSD_ATTR_NAME), need);
}

static int prdcr_del_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_prdcr *p = prdcr_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!p)
		return c->reply->rc;
	pthread_rwlock_wrlock(&c->d->agg->lock);
	TAILQ_REMOVE(&c->d->agg->prdcrs, p, link);
	pthread_rwlock_unlock(&c->d->agg->lock);
	ldmsd_sched_task_free(p->task); /* no lock held: the tick takes p->lock */
	p->task = NULL;
	ldmsd_prdcr_put(p);
	return 0;
}

static int reconnect_attr(struct ldmsd_req_ctxt *c, int64_t *out)
{
	const char *rec = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	*out = 0;
	if (rec && *rec && (ldms_parse_time_us(rec, out) || *out <= 0))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid reconnect interval '%s'",
				       ldmsd_req_verb(c), rec);
	return 0;
}

static int prdcr_start_handler(struct ldmsd_req_ctxt *c)
{
	int64_t rec;
	int rc = reconnect_attr(c, &rec);
	if (rc)
		return rc;
	struct ldmsd_prdcr *p = prdcr_checked(c, LDMSD_CFGOBJ_ANY);
	if (!p)
		return c->reply->rc;
	rc = ldmsd_prdcr_start(c->d, p, rec);
	if (rc == -EBUSY)
		return ldmsd_reply_err(c, rc, "The producer is already running.");
	if (rc)
		return ldmsd_reply_err(c, rc, "prdcr_start %s: %s", p->name, strerror(-rc));
	return 0;
}

/* advertiser_start: creates the advertiser first when it does not exist (with
 * the same attributes as advertiser_add), then starts it. */
static int advertiser_start_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	int rc;
	if (name && *name && !ldmsd_prdcr_find(c->d, name) &&
	    (rc = prdcr_add_common(c, LDMSD_PRDCR_ADVERTISER)))
		return rc;
	return prdcr_start_handler(c);
}

static int prdcr_stop_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_prdcr *p = prdcr_checked(c, LDMSD_CFGOBJ_STOP);
	if (!p)
		return c->reply->rc;
	ldmsd_prdcr_stop(p);
	return 0;
}

static int regex_attr(struct ldmsd_req_ctxt *c, regex_t *re)
{
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	int rc = ldms_regcomp(re, rs ? rs : "", REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char eb[200];
		regerror(rc, re, eb, sizeof(eb));
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid regular expression '%s': %s",
				       ldmsd_req_verb(c), rs ? rs : "", eb);
	}
	return 0;
}

static int prdcr_start_regex_handler(struct ldmsd_req_ctxt *c)
{
	regex_t re;
	int64_t rec;
	int rc = reconnect_attr(c, &rec);
	if (rc || (rc = regex_attr(c, &re)))
		return rc;
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_prdcr *p;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (regexec(&re, p->name, 0, NULL, 0) ||
		    ldmsd_agg_access(c, p->uid, p->gid, p->perm, 2))
			continue;
		rc = ldmsd_prdcr_start(c->d, p, rec);
		if (rc && rc != -EBUSY) {
			ldmsd_reply_err(c, rc, "prdcr_start_regex: %s: %s", p->name, strerror(-rc));
			break;
		}
		rc = 0;
	}
	regfree(&re);
	return rc;
}

static int prdcr_stop_regex_handler(struct ldmsd_req_ctxt *c)
{
	regex_t re;
	int rc = regex_attr(c, &re);
	if (rc)
		return rc;
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_prdcr *p;
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		if (regexec(&re, p->name, 0, NULL, 0) ||
		    ldmsd_agg_access(c, p->uid, p->gid, p->perm, 2))
			continue;
		if (prdcr_run_state(p) == LDMSD_CFGOBJ_RUNNING)
			ldmsd_prdcr_stop(p);
	}
	regfree(&re);
	return 0;
}

static int bool_attr(struct ldmsd_req_ctxt *c, uint32_t id)
{
	const char *v = ldmsd_req_attr(c, id);
	int b = 0;
	/* an empty value is python's False (ldmsd_controller sends summary that way) */
	if (v && *v && ldms_parse_bool(v, &b))
		b = 0;
	return b;
}

/* Same bytes as upstream: `[{ "name":"p1",...,"sets": []}]`. */
static void prdcr_json(struct ldmsd_buf *j, struct ldmsd_prdcr *p, int summary)
{
	pthread_mutex_lock(&p->lock);
	ldmsd_buf_append(j, "{ \"name\":", 9);
	ldmsd_buf_json_str(j, p->name);
	ldmsd_buf_printf(j, ",\"type\":\"%s\",\"host\":",
			 p->type != LDMSD_PRDCR_ADVERTISED ? ldmsd_prdcr_type_str(p->type)
			 : p->adv_active		   ? "advertised, active"
							   : "advertised, passive");
	ldmsd_buf_json_str(j, p->host);
	ldmsd_buf_printf(j, ",\"port\":%d,\"transport\":", p->port);
	ldmsd_buf_json_str(j, p->xprt_name);
	ldmsd_buf_append(j, ",\"auth\":", 8);
	ldmsd_buf_json_str(j, p->auth_dom ? p->auth_dom : LDMSD_DEFAULT_AUTH_DOM);
	ldmsd_buf_printf(j,
			 ",\"rail\":\"%d\",\"quota\":\"%" PRId64 "\",\"rx_rate\":\"%" PRId64
			 "\",\"reconnect_us\":\"%" PRId64 "\",\"state\":\"%s\"",
			 p->rail, p->quota, p->rx_rate, p->reconnect_us,
			 ldmsd_prdcr_state_str(p->state));
	if (!summary) {
		ldmsd_buf_append(j, ",\"sets\": [", 10);
		for (size_t i = 0; i < p->n_sets; i++) {
			struct ldmsd_prdcr_set *ps = p->sets[i];
			ldmsd_buf_append(j,
					 i ? ",{ \"inst_name\":" : "{ \"inst_name\":", i ? 15 : 14);
			ldmsd_buf_json_str(j, ps->inst_name);
			ldmsd_buf_append(j, ",\"schema_name\":", 15);
			ldmsd_buf_json_str(j, ps->schema_name);
			ldmsd_buf_printf(j, ",\"state\":\"%s\"}",
					 ldmsd_prdcr_set_state_str(ps->state));
		}
		ldmsd_buf_append(j, "]", 1);
	}
	ldmsd_buf_append(j, "}", 1);
	pthread_mutex_unlock(&p->lock);
}

static int prdcr_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *state = ldmsd_req_attr(c, LDMSD_ATTR_STATE);
	int summary = bool_attr(c, LDMSD_ATTR_SUMMARY);
	struct ldmsd_buf *j = ldmsd_cfgobj_status_open(c, &prdcr_kind, name);
	struct ldmsd_prdcr *p;
	int n = 0;
	if (!j)
		return c->reply->rc;
	TAILQ_FOREACH(p, &c->d->agg->prdcrs, link)
	{
		if (name && *name && strcmp(p->name, name))
			continue;
		if (state && *state && strcasecmp(state, ldmsd_prdcr_state_str(p->state)))
			continue;
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		prdcr_json(j, p, summary);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static void pset_status_json(struct ldmsd_buf *j, struct ldmsd_prdcr *p, struct ldmsd_prdcr_set *ps)
{
	struct ldms_timestamp ts = {0, 0}, dur = {0, 0};
	char origin[LDMS_PRODUCER_NAME_MAX] = "";
	if (ps->set && ps->updates) {
		ldms_set_lock(ps->set);
		ts = ldms_transaction_timestamp_get(ps->set);
		dur = ldms_transaction_duration_get(ps->set);
		snprintf(origin, sizeof(origin), "%s", ldms_set_producer_name_get(ps->set));
		ldms_set_unlock(ps->set);
	}
	ldmsd_buf_append(j, "{\"inst_name\":", 13);
	ldmsd_buf_json_str(j, ps->inst_name);
	ldmsd_buf_append(j, ",\"schema_name\":", 15);
	ldmsd_buf_json_str(j, ps->schema_name);
	ldmsd_buf_printf(j, ",\"state\":\"%s\",\"origin\":", ldmsd_prdcr_set_state_str(ps->state));
	ldmsd_buf_json_str(j, origin);
	ldmsd_buf_append(j, ",\"producer\":", 12);
	ldmsd_buf_json_str(j, p->name);
	ldmsd_buf_printf(j,
			 ",\"timestamp.sec\":\"%u\",\"timestamp.usec\":\"%u\",\"duration.sec\":"
			 "\"%u\",\"duration.usec\":\"%u\"}",
			 ts.sec, ts.usec, dur.sec, dur.usec);
}

static int prdcr_set_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *prod = ldmsd_req_attr(c, LDMSD_ATTR_PRODUCER);
	const char *inst = ldmsd_req_attr(c, LDMSD_ATTR_INSTANCE);
	const char *schema = ldmsd_req_attr(c, LDMSD_ATTR_SCHEMA);
	struct ldmsd_buf *j = ldmsd_cfgobj_status_open(c, &prdcr_kind, prod);
	struct ldmsd_prdcr *p;
	int n = 0;
	if (!j)
		return c->reply->rc;
	TAILQ_FOREACH(p, &c->d->agg->prdcrs, link)
	{
		if (prod && *prod && strcmp(p->name, prod))
			continue;
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->n_sets; i++) {
			struct ldmsd_prdcr_set *ps = p->sets[i];
			if ((inst && *inst && strcmp(inst, ps->inst_name)) ||
			    (schema && *schema && strcmp(schema, ps->schema_name)))
				continue;
			if (n++)
				ldmsd_buf_append(j, ",", 1);
			pset_status_json(j, p, ps);
		}
		pthread_mutex_unlock(&p->lock);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static int prdcr_stats_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	uint64_t t0 = ldms_monotonic_us();
	long cnt[LDMSD_PRDCR_STANDBY + 1] = {0};
	long total = 0, sets = 0;
	struct ldmsd_prdcr *p;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		pthread_mutex_lock(&p->lock);
		total++;
		if ((unsigned)p->state <= LDMSD_PRDCR_STANDBY)
			cnt[p->state]++;
		sets += (long)p->n_sets;
		pthread_mutex_unlock(&p->lock);
	}
	ldmsd_buf_printf(ldmsd_reply_json(c),
			 "{\"prdcr_count\":%ld,\"stopped_count\":%ld,\"disconnected_count\":%ld,"
			 "\"connecting_count\":%ld,\"connected_count\":%ld,\"stopping_count\":%ld,"
			 "\"standby_count\":%ld,\"set_count\":%ld,\"compute_time\":%" PRIu64 "}",
			 total, cnt[LDMSD_PRDCR_STOPPED], cnt[LDMSD_PRDCR_DISCONNECTED],
			 cnt[LDMSD_PRDCR_CONNECTING], cnt[LDMSD_PRDCR_CONNECTED],
			 cnt[LDMSD_PRDCR_STOPPING], cnt[LDMSD_PRDCR_STANDBY], sets,
			 ldms_monotonic_us() - t0);
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_prdcr_cmds[] = {
    {"prdcr_add", prdcr_add_handler, 0,
     ATTRS({"name", REQ}, {"type", REQ}, {"xprt", REQ}, {"host", REQ}, {"port", 0},
	   {"reconnect", REQ}, {"auth", 0}, {"perm", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0},
	   {"cache_ip", 0})},
    {"prdcr_del", prdcr_del_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_start", prdcr_start_handler, 0, ATTRS({"name", REQ}, {"reconnect", 0})},
    {"prdcr_start_regex", prdcr_start_regex_handler, 0, ATTRS({"regex", REQ}, {"reconnect", 0})},
    {"prdcr_stop", prdcr_stop_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_stop_regex", prdcr_stop_regex_handler, 0, ATTRS({"regex", REQ})},
    {"prdcr_status", prdcr_status_handler, 0, ATTRS({"name", 0}, {"summary", 0}, {"state", 0})},
    {"prdcr_set_status", prdcr_set_status_handler, 0,
     ATTRS({"producer", 0}, {"instance", 0}, {"schema", 0})},
    {"prdcr_stats", prdcr_stats_handler, 0, NULL},
    {"bridge_add", bridge_add_handler, 0,
     ATTRS({"name", REQ}, {"xprt", REQ}, {"host", REQ}, {"port", REQ}, {"reconnect", REQ},
	   {"auth", 0}, {"perm", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0}, {"cache_ip", 0})},
    {"advertiser_add", advertiser_add_handler, 0,
     ATTRS({"name", REQ}, {"xprt", REQ}, {"host", REQ}, {"port", REQ}, {"reconnect", REQ},
	   {"auth", 0}, {"perm", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0}, {"cache_ip", 0})},
    {"advertiser_start", advertiser_start_handler, 0,
     ATTRS({"name", REQ}, {"xprt", 0}, {"host", 0}, {"port", 0}, {"reconnect", 0}, {"auth", 0},
	   {"perm", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0}, {"cache_ip", 0})},
    {"advertiser_stop", prdcr_stop_handler, 0, ATTRS({"name", REQ})},
    {"advertiser_del", prdcr_del_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_listen_add", ldmsd_prdcr_listen_add_handler, 0,
     ATTRS({"name", REQ}, {"regex", 0}, {"ip", 0}, {"disable_start", 0}, {"quota", 0},
	   {"rx_rate", 0}, {"type", 0}, {"advertiser_xprt", 0}, {"advertiser_port", 0},
	   {"advertiser_auth", 0}, {"rail", 0}, {"reconnect", 0}, {"perm", 0})},
    {"prdcr_listen_del", ldmsd_prdcr_listen_del_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_listen_start", ldmsd_prdcr_listen_start_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_listen_stop", ldmsd_prdcr_listen_stop_handler, 0, ATTRS({"name", REQ})},
    {"prdcr_listen_status", ldmsd_prdcr_listen_status_handler, 0,
     ATTRS({"name", 0}, {"summary", 0})},
    {NULL, NULL, 0, NULL},
};
