/* Updaters: when the sets of which producers are pulled. A running updater has a
 * scheduler task on the wall-clock grid (interval + offset); each run looks up the
 * new sets and updates the ready ones of every matching connected producer. With
 * auto_interval, sets that carry an updt_hint_us are pulled on their own schedule
 * (one task per distinct hint). A push updater's runs look sets up and register
 * push for the ready ones; the owners then send the data (docs/push.md). */
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
#include "ldmsd_verbs.h"

struct ldmsd_updtr_hint_task {
	struct ldmsd_updtr_hint_task *next;
	struct ldmsd_updtr *u;
	int64_t hint_interval, hint_offset; /* the sets' hint this task serves */
	struct ldmsd_sched_task *task;
};

/* ---- pure parts ------------------------------------------------------------------------ */
int64_t ldmsd_updtr_next_us(int64_t now_us, int64_t interval_us, int64_t offset_us)
{
	return ldmsd_sched_next_us(now_us, interval_us, offset_us);
}

void ldmsd_updtr_auto_schedule(int64_t hint_interval, int64_t hint_offset, int64_t updtr_offset,
			       int64_t *interval, int64_t *offset)
{
	int64_t iv = hint_interval > 0 ? hint_interval : 1;
	int64_t off = ((hint_offset + updtr_offset) % iv + iv) % iv;
	if (off > iv / 2)
		off -= iv;
	*interval = iv;
	*offset = off;
}

static const char *updtr_state_str(enum ldmsd_updtr_state s)
{
	return ldmsd_cfgobj_run_str((int)s);
}

static const char *updtr_mode_str(const struct ldmsd_updtr *u)
{
	if (u->push == LDMSD_UPDTR_PUSH_ONCHANGE)
		return "Push on Change";
	if (u->push == LDMSD_UPDTR_PUSH_REQUEST)
		return "Push on Request";
	return "Pull";
}

int ldmsd_updtr_selects(struct ldmsd_updtr *u, const char *prdcr_name, const char *inst,
			const char *schema)
{
	return ldmsd_regex_list_match(&u->prdcr_list, prdcr_name) &&
	       ldmsd_regex_list_match_set(&u->match_list, inst, schema);
}

/* ---- running ------------------------------------------------------------------------------- */
/* On the scheduler thread. */
static void updtr_run(struct ldmsd_updtr *u, int match_hint, int64_t hint_interval,
		      int64_t hint_offset)
{
	struct ldmsd_agg *a = u->d->agg;
	struct ldmsd_prdcr *p;
	if (!a)
		return;
	pthread_rwlock_rdlock(&a->lock);
	if (u->state == LDMSD_UPDTR_RUNNING) {
		__atomic_add_fetch(&u->ticks, 1, __ATOMIC_RELAXED);
		TAILQ_FOREACH(p, &a->prdcrs, link)
		{
			if (!ldmsd_regex_list_match(&u->prdcr_list, p->name))
				continue;
			int n =
			    ldmsd_prdcr_update_sets(p, u, hint_interval, hint_offset, match_hint);
			__atomic_add_fetch(&u->updates_issued, (uint64_t)n, __ATOMIC_RELAXED);
		}
	}
	pthread_rwlock_unlock(&a->lock);
}

static void updtr_tick(void *arg)
{
	updtr_run(arg, 0, 0, 0);
}

static void hint_tick(void *arg)
{
	struct ldmsd_updtr_hint_task *h = arg;
	updtr_run(h->u, 1, h->hint_interval, h->hint_offset);
}

void ldmsd_updtr_hint_seen(struct ldmsd_updtr *u, int64_t interval_us, int64_t offset_us)
{
	struct ldmsd_updtr_hint_task *h;
	pthread_mutex_lock(&u->hint_lock);
	for (h = u->hints; h; h = h->next)
		if (h->hint_interval == interval_us && h->hint_offset == offset_us)
			goto out;
	struct ldmsd_sched *s = u->d->sched;
	h = s ? calloc(1, sizeof(*h)) : NULL;
	if (!h)
		goto out;
	h->u = u;
	h->hint_interval = interval_us;
	h->hint_offset = offset_us;
	h->task = ldmsd_sched_task_new(s, hint_tick, h);
	int64_t iv, off;
	ldmsd_updtr_auto_schedule(interval_us, offset_us, u->offset_us, &iv, &off);
	if (!h->task || ldmsd_sched_task_start(h->task, iv, off)) {
		ldmsd_sched_task_free(h->task);
		free(h);
		goto out;
	}
	ldms_log(LDMS_LDEBUG, LDMSD_UPDTR_LOG,
		 "updater %s: sets with hint %" PRId64 ":%" PRId64 " are updated every %" PRId64
		 "us, offset %" PRId64 "us",
		 u->name, interval_us, offset_us, iv, off);
	h->next = u->hints;
	u->hints = h;
out:
	pthread_mutex_unlock(&u->hint_lock);
}

/* Handler context, no lock held (the tasks' callbacks take the aggregation lock). */
static void updtr_stop_tasks(struct ldmsd_updtr *u)
{
	struct ldmsd_updtr_hint_task *h;
	if (u->task)
		ldmsd_sched_task_stop(u->task);
	pthread_mutex_lock(&u->hint_lock);
	h = u->hints;
	u->hints = NULL;
	pthread_mutex_unlock(&u->hint_lock);
	while (h) {
		struct ldmsd_updtr_hint_task *n = h->next;
		ldmsd_sched_task_free(h->task);
		free(h);
		h = n;
	}
}

static void updtr_free(struct ldmsd_updtr *u)
{
	updtr_stop_tasks(u);
	ldmsd_sched_task_free(u->task);
	ldmsd_regex_list_free(&u->prdcr_list);
	ldmsd_regex_list_free(&u->match_list);
	pthread_mutex_destroy(&u->hint_lock);
	free(u->name);
	free(u);
}

LDMSD_CFGOBJ_FIND(updtr_find, ldmsd_updtr, updtrs)

/* ---- commands ------------------------------------------------------------------------------ */
static int sched_attrs(struct ldmsd_req_ctxt *c, int64_t *interval, int64_t *offset, int *sync,
		       int *auto_iv, int required)
{
	const char *iv = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	const char *ov = ldmsd_req_attr(c, LDMSD_ATTR_OFFSET);
	const char *av = ldmsd_req_attr(c, LDMSD_ATTR_AUTO_INTERVAL);
	if ((iv && *iv) || required) {
		if (ldms_parse_time_us(iv ? iv : "", interval) || *interval <= 0)
			return ldmsd_reply_err(c, -EINVAL, "%s: invalid interval '%s'",
					       ldmsd_req_verb(c), iv ? iv : "");
	}
	if (ov && *ov) {
		if (ldms_parse_time_us(ov, offset))
			return ldmsd_reply_err(c, -EINVAL, "%s: invalid offset '%s'",
					       ldmsd_req_verb(c), ov);
		*sync = 1;
	}
	if (*offset > *interval / 2 || *offset < -(*interval / 2))
		return ldmsd_reply_err(c, -EINVAL,
				       "%s: |offset| (%" PRId64 "us) must not exceed half the "
				       "interval (%" PRId64 "us)",
				       ldmsd_req_verb(c), *offset, *interval);
	if (av && *av && ldms_parse_bool(av, auto_iv))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid auto_interval '%s'",
				       ldmsd_req_verb(c), av);
	return 0;
}

static int updtr_add_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *push = ldmsd_req_attr(c, LDMSD_ATTR_PUSH);
	int64_t interval = 0, offset = 0;
	int sync = 0, auto_iv = 0, pushm = 0, rc;
	uint32_t perm;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "updtr_add: 'name' is empty");
	if ((rc = sched_attrs(c, &interval, &offset, &sync, &auto_iv, 1)))
		return rc;
	if (push && *push) {
		int b;
		if (!strcasecmp(push, "onchange"))
			pushm = LDMSD_UPDTR_PUSH_ONCHANGE;
		else if (!ldms_parse_bool(push, &b))
			pushm = b ? LDMSD_UPDTR_PUSH_REQUEST : 0;
		else
			return ldmsd_reply_err(
			    c, -EINVAL, "updtr_add: invalid push '%s' (onchange or true)", push);
	}
	if (pushm && auto_iv)
		return ldmsd_reply_err(c, -EINVAL,
				       "updtr_add: auto_interval and push are incompatible");
	if ((rc = ldmsd_agg_perm(c, &perm)))
		return rc;
	if (updtr_find(c->d, name))
		return ldmsd_reply_err(c, -EEXIST, "The updater %s already exists.", name);
	struct ldmsd_updtr *u = calloc(1, sizeof(*u));
	if (!u || !(u->name = strdup(name))) {
		free(u);
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	u->d = c->d;
	u->interval_us = interval;
	u->offset_us = offset;
	u->sync = sync;
	u->push = pushm;
	u->auto_interval = auto_iv;
	u->perm = perm;
	ldmsd_agg_owner(c, &u->uid, &u->gid);
	TAILQ_INIT(&u->prdcr_list);
	TAILQ_INIT(&u->match_list);
	pthread_mutex_init(&u->hint_lock, NULL);
	pthread_rwlock_wrlock(&a->lock);
	TAILQ_INSERT_TAIL(&a->updtrs, u, link);
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

static enum ldmsd_cfgobj_run updtr_run_state(void *o)
{
	return (enum ldmsd_cfgobj_run)((const struct ldmsd_updtr *)o)->state;
}

static const struct ldmsd_cfgobj_kind updtr_kind = {
    .find = updtr_find,
    .obj_off = offsetof(struct ldmsd_updtr, obj),
    .run = updtr_run_state,
    .noent = "The updater specified does not exist.",
    .eacces = "Permission denied.",
    .busy = "The updater is in use.",
    .started = "The updater is already running.",
    .stopped = "The updater is already stopped.",
};

static struct ldmsd_updtr *updtr_checked(struct ldmsd_req_ctxt *c, enum ldmsd_cfgobj_need need)
{
	return ldmsd_cfgobj_checked(c, &updtr_kind, ldmsd_req_attr(c, LDMSD_ATTR_NAME), need);
}

static int updtr_del_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_updtr *u = updtr_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!u)
		return c->reply->rc;
	pthread_rwlock_wrlock(&c->d->agg->lock);
	TAILQ_REMOVE(&c->d->agg->updtrs, u, link);
	pthread_rwlock_unlock(&c->d->agg->lock);
	updtr_free(u);
	return 0;
}

static int match_sel(struct ldmsd_req_ctxt *c, enum ldmsd_match_sel *sel)
{
	const char *m = ldmsd_req_attr(c, LDMSD_ATTR_MATCH);
	*sel = LDMSD_MATCH_INST;
	if (!m || !*m || !strcasecmp(m, "inst") || !strcasecmp(m, "instance"))
		return 0;
	if (!strcasecmp(m, "schema")) {
		*sel = LDMSD_MATCH_SCHEMA;
		return 0;
	}
	return ldmsd_reply_err(c, -EINVAL, "%s: invalid match '%s' (inst or schema)",
			       ldmsd_req_verb(c), m);
}

static int updtr_list_handler(struct ldmsd_req_ctxt *c)
{
	uint32_t id = c->req->id;
	int is_match = id == LDMSD_UPDTR_MATCH_ADD_REQ || id == LDMSD_UPDTR_MATCH_DEL_REQ;
	int is_add = id == LDMSD_UPDTR_MATCH_ADD_REQ || id == LDMSD_UPDTR_PRDCR_ADD_REQ;
	const char *re = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	enum ldmsd_match_sel sel = LDMSD_MATCH_INST;
	int rc;
	if (is_match && (rc = match_sel(c, &sel)))
		return rc;
	struct ldmsd_updtr *u = updtr_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!u)
		return c->reply->rc;
	return ldmsd_cfgobj_regex_edit(c, is_match ? &u->match_list : &u->prdcr_list, is_add, sel,
				       re);
}

static int updtr_start_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_updtr *u = updtr_checked(c, LDMSD_CFGOBJ_START);
	if (!u)
		return c->reply->rc;
	int64_t interval = u->interval_us, offset = u->offset_us;
	int sync = u->sync, auto_iv = u->auto_interval;
	const char *ov = ldmsd_req_attr(c, LDMSD_ATTR_OFFSET);
	if (!(ov && *ov) && ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL))
		offset = 0; /* a new interval without an offset: no stale offset */
	int rc = sched_attrs(c, &interval, &offset, &sync, &auto_iv, 0);
	if (rc)
		return rc;
	if (auto_iv && u->push)
		return ldmsd_reply_err(c, -EINVAL,
				       "updtr_start: auto_interval and push are incompatible");
	struct ldmsd_sched *s = ldmsd_agg_sched(c->d);
	if (!s)
		return ldmsd_reply_err(c, -ENOMEM, "updtr_start: no scheduler");
	if (!u->task && !(u->task = ldmsd_sched_task_new(s, updtr_tick, u)))
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	pthread_rwlock_wrlock(&c->d->agg->lock);
	u->interval_us = interval;
	u->offset_us = offset;
	u->sync = sync;
	u->auto_interval = auto_iv;
	u->state = LDMSD_UPDTR_RUNNING;
	pthread_rwlock_unlock(&c->d->agg->lock);
	rc = ldmsd_sched_task_start(u->task, interval, offset);
	if (rc) {
		pthread_rwlock_wrlock(&c->d->agg->lock);
		u->state = LDMSD_UPDTR_STOPPED;
		pthread_rwlock_unlock(&c->d->agg->lock);
		return ldmsd_reply_err(c, rc, "updtr_start %s: %s", u->name, strerror(-rc));
	}
	return 0;
}

static void updtr_stop_one(struct ldmsd *d, struct ldmsd_updtr *u)
{
	pthread_rwlock_wrlock(&d->agg->lock);
	u->state = LDMSD_UPDTR_STOPPING;
	pthread_rwlock_unlock(&d->agg->lock);
	/* runs from here on see STOPPING and do nothing; wait for a running one */
	updtr_stop_tasks(u);
	if (u->push) {
		/* the owners stop pushing (each answers the cancel with a last push) */
		struct ldmsd_prdcr *p;
		pthread_rwlock_rdlock(&d->agg->lock);
		TAILQ_FOREACH(p, &d->agg->prdcrs, link)
		if (ldmsd_regex_list_match(&u->prdcr_list, p->name))
			ldmsd_prdcr_push_cancel(p, u);
		pthread_rwlock_unlock(&d->agg->lock);
	}
	pthread_rwlock_wrlock(&d->agg->lock);
	u->state = LDMSD_UPDTR_STOPPED;
	pthread_rwlock_unlock(&d->agg->lock);
}

static int updtr_stop_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_updtr *u = updtr_checked(c, LDMSD_CFGOBJ_STOP);
	if (!u)
		return c->reply->rc;
	updtr_stop_one(c->d, u);
	return 0;
}

static void updtr_json(struct ldmsd *d, struct ldmsd_buf *j, struct ldmsd_updtr *u, int summary)
{
	struct ldmsd_prdcr *p;
	int n = 0;
	ldmsd_buf_append(j, "{\"name\":", 8);
	ldmsd_buf_json_str(j, u->name);
	ldmsd_buf_printf(j,
			 ",\"interval\":\"%" PRId64 "\",\"offset\":\"%" PRId64
			 "\",\"sync\":\"%s\",\"mode\":\"%s\",\"auto\":\"%s\",\"state\":\"%s\"",
			 u->interval_us, u->offset_us, u->sync ? "true" : "false",
			 updtr_mode_str(u), u->auto_interval ? "true" : "false",
			 updtr_state_str(u->state));
	if (!summary) {
		ldmsd_buf_append(j, ",\"producers\":[", 14);
		TAILQ_FOREACH(p, &d->agg->prdcrs, link)
		{
			if (!ldmsd_regex_list_match(&u->prdcr_list, p->name))
				continue;
			pthread_mutex_lock(&p->lock);
			ldmsd_buf_printf(j, "%s{\"name\":", n++ ? "," : "");
			ldmsd_buf_json_str(j, p->name);
			ldmsd_buf_append(j, ",\"host\":", 8);
			ldmsd_buf_json_str(j, p->host);
			ldmsd_buf_printf(j, ",\"port\":%d,\"transport\":", p->port);
			ldmsd_buf_json_str(j, p->xprt_name);
			ldmsd_buf_printf(j, ",\"state\":\"%s\"}", ldmsd_prdcr_state_str(p->state));
			pthread_mutex_unlock(&p->lock);
		}
		ldmsd_buf_append(j, "]", 1);
	}
	ldmsd_buf_append(j, "}", 1);
}

static int updtr_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *sm = ldmsd_req_attr(c, LDMSD_ATTR_SUMMARY);
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_RESET);
	int summary = 0, reset = 0;
	if (sm && *sm && ldms_parse_bool(sm, &summary))
		summary = 0;
	if (rs && *rs && ldms_parse_bool(rs, &reset))
		reset = 0;
	struct ldmsd_buf *j = ldmsd_cfgobj_status_open(c, &updtr_kind, name);
	struct ldmsd_updtr *u;
	int n = 0;
	if (!j)
		return c->reply->rc;
	TAILQ_FOREACH(u, &c->d->agg->updtrs, link)
	{
		if (name && *name && strcmp(name, u->name))
			continue;
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		updtr_json(c->d, j, u, summary);
		if (reset) {
			__atomic_store_n(&u->ticks, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&u->updates_issued, 0, __ATOMIC_RELAXED);
		}
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static int updtr_match_list_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_buf *j = ldmsd_cfgobj_status_open(c, &updtr_kind, name);
	struct ldmsd_updtr *u;
	int n = 0;
	if (!j)
		return c->reply->rc;
	TAILQ_FOREACH(u, &c->d->agg->updtrs, link)
	{
		struct ldmsd_regex_ent *e;
		int m = 0;
		if (name && *name && strcmp(name, u->name))
			continue;
		ldmsd_buf_printf(j, "%s{\"name\":", n++ ? "," : "");
		ldmsd_buf_json_str(j, u->name);
		ldmsd_buf_append(j, ",\"match\":[", 10);
		TAILQ_FOREACH(e, &u->match_list, link)
		{
			ldmsd_buf_printf(j, "%s{\"regex\":", m++ ? "," : "");
			ldmsd_buf_json_str(j, e->str);
			ldmsd_buf_printf(j, ",\"selector\":\"%s\"}",
					 e->sel == LDMSD_MATCH_SCHEMA ? "schema" : "inst");
		}
		ldmsd_buf_append(j, "]}", 2);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

/* ---- shutdown ------------------------------------------------------------------------------ */
void ldmsd_updtr_stop_all(struct ldmsd *d)
{
	struct ldmsd_updtr *u;
	if (!d->agg)
		return;
	TAILQ_FOREACH(u, &d->agg->updtrs, link)
	if (u->state == LDMSD_UPDTR_RUNNING)
		updtr_stop_one(d, u);
}

void ldmsd_updtr_free_all(struct ldmsd *d)
{
	struct ldmsd_updtr *u;
	if (!d->agg)
		return;
	while ((u = TAILQ_FIRST(&d->agg->updtrs))) {
		pthread_rwlock_wrlock(&d->agg->lock);
		TAILQ_REMOVE(&d->agg->updtrs, u, link);
		pthread_rwlock_unlock(&d->agg->lock);
		updtr_free(u);
	}
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_updtr_cmds[] = {
    {"updtr_add", updtr_add_handler, 0,
     ATTRS({"name", REQ}, {"interval", REQ}, {"offset", 0}, {"push", 0}, {"auto_interval", 0},
	   {"perm", 0})},
    {"updtr_del", updtr_del_handler, 0, ATTRS({"name", REQ})},
    {"updtr_prdcr_add", updtr_list_handler, 0, ATTRS({"name", REQ}, {"regex", REQ})},
    {"updtr_prdcr_del", updtr_list_handler, 0, ATTRS({"name", REQ}, {"regex", REQ})},
    {"updtr_match_add", updtr_list_handler, 0, ATTRS({"name", REQ}, {"regex", REQ}, {"match", 0})},
    {"updtr_match_del", updtr_list_handler, 0, ATTRS({"name", REQ}, {"regex", REQ}, {"match", 0})},
    {"updtr_start", updtr_start_handler, 0,
     ATTRS({"name", REQ}, {"interval", 0}, {"offset", 0}, {"auto_interval", 0})},
    {"updtr_stop", updtr_stop_handler, 0, ATTRS({"name", REQ})},
    {"updtr_status", updtr_status_handler, 0, ATTRS({"name", 0}, {"summary", 0}, {"reset", 0})},
    {"updtr_match_list", updtr_match_list_handler, 0, ATTRS({"name", 0})},
    {NULL, NULL, 0, NULL},
};

/* updtr_task (verbs_tstats.c): the set hints served by u's auto_interval tasks */
size_t ldmsd_updtr_hint_schedules(struct ldmsd_updtr *u, int64_t *interval_us, int64_t *offset_us,
				  size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&u->hint_lock);
	for (struct ldmsd_updtr_hint_task *h = u->hints; h; h = h->next, n++)
		if (n < max) {
			interval_us[n] = h->hint_interval;
			offset_us[n] = h->hint_offset;
		}
	pthread_mutex_unlock(&u->hint_lock);
	return n;
}
