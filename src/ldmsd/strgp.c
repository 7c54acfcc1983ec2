/* Storage policies: which updated sets (schema or schema regex, producer regexes)
 * go to which store plugin instance, with which columns. Updates are handed over
 * on the I/O thread as snapshot jobs for the store workers; the store itself
 * (open on the first set, store, flush, close on stop) runs on a worker under the
 * policy lock. A policy keeps the digest of the first set it stores and refuses
 * sets of another digest. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_plugin_inst.h"
#include "ldmsd_verbs.h"

/* ---- pure parts ------------------------------------------------------------------------ */
int ldmsd_strgp_columns(const char *const *set_names, size_t n_set, const char *const *want,
			size_t n_want, int *idx_out, char *msg, size_t msglen)
{
	if (!n_want) {
		for (size_t i = 0; i < n_set; i++)
			idx_out[i] = (int)i;
		return (int)n_set;
	}
	for (size_t w = 0; w < n_want; w++) {
		size_t i;
		for (i = 0; i < n_set; i++)
			if (set_names[i] && !strcmp(set_names[i], want[w]))
				break;
		if (i == n_set) {
			snprintf(msg, msglen, "metric '%s' is not in the set", want[w]);
			return -ENOENT;
		}
		idx_out[w] = (int)i;
	}
	return (int)n_want;
}

static const char *strgp_state_str(enum ldmsd_strgp_state s)
{
	return ldmsd_cfgobj_run_str((int)s);
}

/* ---- objects ------------------------------------------------------------------------------- */
struct ldmsd_strgp *ldmsd_strgp_get(struct ldmsd_strgp *s)
{
	__atomic_add_fetch(&s->ref, 1, __ATOMIC_SEQ_CST);
	return s;
}

static void cols_free(struct ldmsd_strgp *s)
{
	for (size_t i = 0; i < s->n_cols; i++)
		free(s->col_names[i]);
	free(s->col_names);
	free(s->col_idx);
	s->col_names = NULL;
	s->col_idx = NULL;
	s->n_cols = 0;
}

static void strgp_free(struct ldmsd_strgp *s)
{
	cols_free(s);
	for (size_t i = 0; i < s->n_metrics; i++)
		free(s->metrics[i]);
	free(s->metrics);
	ldmsd_regex_list_free(&s->prdcr_list);
	if (s->have_regex)
		regfree(&s->regex);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s->name);
	free(s->plugin);
	free(s->container);
	free(s->schema);
	free(s->regex_str);
	free(s->decomp);
	free(s);
}

void ldmsd_strgp_put(struct ldmsd_strgp *s)
{
	if (s && __atomic_sub_fetch(&s->ref, 1, __ATOMIC_SEQ_CST) == 0)
		strgp_free(s);
}

LDMSD_CFGOBJ_FIND(strgp_find, ldmsd_strgp, strgps)

/* ---- the data path -----------------------------------------------------------------------------
 */
/* Caller holds agg->lock (read). */
static int strgp_matches(struct ldmsd_strgp *s, struct ldmsd_prdcr_set *ps)
{
	if (s->schema) {
		if (strcmp(s->schema, ps->schema_name))
			return 0;
	} else if (!s->have_regex || regexec(&s->regex, ps->schema_name, 0, NULL, 0)) {
		return 0;
	}
	return ldmsd_regex_list_empty(&s->prdcr_list) ||
	       ldmsd_regex_list_match(&s->prdcr_list, ps->prdcr->name);
}

void ldmsd_strgp_update(struct ldmsd *d, struct ldmsd_prdcr_set *ps, ldms_set_t set)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_store_snap *snap = NULL;
	struct ldmsd_strgp *s;
	if (!a)
		return;
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(s, &a->strgps, link)
	{
		if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) != LDMSD_STRGP_RUNNING ||
		    !strgp_matches(s, ps))
			continue;
		if (!snap && !(snap = ldmsd_store_snap_take(ps, set))) {
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG, "cannot copy set %s for storage",
				 ps->inst_name);
			break;
		}
		struct ldmsd_store_job *j = calloc(1, sizeof(*j));
		if (!j) {
			__atomic_add_fetch(&s->drops, 1, __ATOMIC_RELAXED);
			continue;
		}
		j->strgp = ldmsd_strgp_get(s);
		j->snap = ldmsd_store_snap_get(snap);
		j->key = s;
		j->key2 = ps;
		j->enq_us = ldms_monotonic_us();
		ldmsd_store_pool_submit(d, j);
	}
	pthread_rwlock_unlock(&a->lock);
	if (snap)
		ldmsd_store_snap_put(snap);
}

/* Caller holds s->lock. */
static int strgp_open(struct ldmsd_strgp *s, ldms_set_t set)
{
	const struct ldmsd_plugin *api = ldmsd_plugin_inst_api(s->pi);
	struct ldmsd_plugin_handle *h = ldmsd_plugin_inst_handle(s->pi);
	uint32_t card = ldms_set_card_get(set);
	size_t ncol = card > s->n_metrics ? card : s->n_metrics;
	const char **names = calloc(card ? card : 1, sizeof(*names));
	char msg[300];
	struct ldms_err e;
	int rc;

	cols_free(s);
	s->col_idx = calloc(ncol ? ncol : 1, sizeof(*s->col_idx));
	if (!names || !s->col_idx) {
		free(names);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < card; i++)
		names[i] = ldms_metric_name_get(set, (int)i);
	rc = ldmsd_strgp_columns(names, card, (const char *const *)s->metrics, s->n_metrics,
				 s->col_idx, msg, sizeof(msg));
	if (rc < 0) {
		free(names);
		if (!s->open_failed)
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG, "strgp %s: set %s: %s", s->name,
				 ldms_set_instance_name_get(set), msg);
		return rc;
	}
	s->n_cols = (size_t)rc;
	s->col_names = calloc(s->n_cols ? s->n_cols : 1, sizeof(*s->col_names));
	for (size_t i = 0; s->col_names && i < s->n_cols; i++)
		s->col_names[i] = strdup(names[s->col_idx[i]] ? names[s->col_idx[i]] : "");
	free(names);
	if (!s->col_names) {
		s->n_cols = 0;
		return -ENOMEM;
	}
	s->policy = (struct ldmsd_store_policy){
	    .strgp_name = s->name,
	    .container = s->container,
	    .schema = s->schema ? s->schema : ldms_set_schema_name_get(set),
	    .metric_count = s->n_cols,
	    .metric_idx = s->col_idx,
	    .metric_names = (const char *const *)s->col_names,
	};
	ldms_err_clear(&e);
	ldmsd_plugin_inst_lock(s->pi);
	rc = api->store_open ? api->store_open(h, &s->policy, set, &s->store_ctx, &e) : 0;
	ldmsd_plugin_inst_unlock(s->pi);
	if (rc) {
		rc = rc < 0 ? rc : -rc;
		if (!s->open_failed)
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG,
				 "strgp %s: store '%s' cannot open container '%s': %s", s->name,
				 s->plugin, s->container ? s->container : "",
				 e.msg[0] ? e.msg : strerror(-rc));
		return rc;
	}
	if (s->open_failed)
		ldms_log(LDMS_LINFO, LDMSD_STRGP_LOG, "strgp %s: store opened", s->name);
	s->opened = 1;
	s->open_failed = 0;
	return 0;
}

void ldmsd_strgp_store_job(struct ldmsd_strgp *s, struct ldmsd_store_job *j)
{
	ldms_set_t set = j->snap->set;
	uint8_t dg[LDMS_DIGEST_LEN];
	int rc;

	pthread_mutex_lock(&s->lock);
	if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) != LDMSD_STRGP_RUNNING)
		goto out;
	ldms_set_digest_get(set, dg);
	if (!s->have_digest) {
		memcpy(s->digest, dg, sizeof(dg));
		s->have_digest = 1;
	} else if (memcmp(s->digest, dg, sizeof(dg))) {
		if (s->refused++ % 1000 == 0)
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG,
				 "strgp %s: set %s has schema '%s' with a different digest than "
				 "the first set stored; refused",
				 s->name, ldms_set_instance_name_get(set),
				 ldms_set_schema_name_get(set));
		goto out;
	}
	if (!s->opened) {
		rc = strgp_open(s, set);
		if (rc) {
			s->open_failed = 1;
			s->store_errors++;
			goto out;
		}
	}
	const struct ldmsd_plugin *api = ldmsd_plugin_inst_api(s->pi);
	struct ldmsd_plugin_handle *h = ldmsd_plugin_inst_handle(s->pi);
	uint64_t t_store = ldms_monotonic_us();
	ldmsd_plugin_inst_lock(s->pi);
	rc = api->store ? api->store(h, s->store_ctx, set, &s->policy) : -ENOSYS;
	uint64_t t_stored = ldms_monotonic_us();
	if (s->flush_us > 0 && api->store_flush) {
		uint64_t now = ldms_monotonic_us();
		if (now - s->last_flush_us >= (uint64_t)s->flush_us) {
			api->store_flush(h, s->store_ctx);
			s->last_flush_us = now;
		}
	}
	ldmsd_plugin_inst_unlock(s->pi);
	if (rc) {
		rc = rc < 0 ? rc : -rc;
		s->store_errors++;
		if (rc != s->last_store_rc)
			ldms_log(LDMS_LERROR, LDMSD_STRGP_LOG,
				 "strgp %s: store '%s' failed to store set %s: %s", s->name,
				 s->plugin, ldms_set_instance_name_get(set), strerror(-rc));
	} else {
		s->stored++;
		ldmsd_tstats_store(s, j, t_store, t_stored);
		if (s->last_store_rc)
			ldms_log(LDMS_LINFO, LDMSD_STRGP_LOG, "strgp %s: storing works again",
				 s->name);
	}
	s->last_store_rc = rc;
out:
	pthread_mutex_unlock(&s->lock);
}

/* ---- commands ---------------------------------------------------------------------------------
 */
static int strgp_add_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *plugin = ldmsd_req_attr(c, LDMSD_ATTR_PLUGIN);
	const char *container = ldmsd_req_attr(c, LDMSD_ATTR_CONTAINER);
	const char *schema = ldmsd_req_attr(c, LDMSD_ATTR_SCHEMA);
	const char *regex = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *decomp = ldmsd_req_attr(c, LDMSD_ATTR_DECOMP);
	const char *flush = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	int64_t flush_us = 0;
	uint32_t perm;
	int rc;

	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: 'name' is empty");
	if (!plugin || !*plugin)
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: 'plugin' is empty");
	if (schema && *schema && regex && *regex)
		return ldmsd_reply_err(c, -EINVAL,
				       "strgp_add: give either 'schema' or 'regex', not both");
	if (!(schema && *schema) && !(regex && *regex))
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: 'schema' or 'regex' is required");
	if (regex && *regex && !(decomp && *decomp))
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: 'regex' requires 'decomposition'");
	if (decomp && *decomp && access(decomp, R_OK))
		return ldmsd_reply_err(
		    c, -ENOENT, "strgp_add: cannot read the decomposition file '%s'", decomp);
	if (flush && *flush && (ldms_parse_time_us(flush, &flush_us) || flush_us < 0))
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: invalid flush interval '%s'", flush);
	if ((rc = ldmsd_agg_perm(c, &perm)))
		return rc;
	if (strgp_find(c->d, name))
		return ldmsd_reply_err(c, -EEXIST, "The storage policy %s already exists.", name);
	struct ldmsd_plugin_inst *pi = ldmsd_plugin_inst_find(c->d, plugin);
	if (pi && ldmsd_plugin_inst_api(pi)->type != LDMSD_PLUGIN_STORE)
		return ldmsd_reply_err(c, -EINVAL, "strgp_add: plugin instance '%s' is not a store",
				       plugin);

	struct ldmsd_strgp *s = calloc(1, sizeof(*s));
	if (!s)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	s->ref = 1;
	s->d = c->d;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	TAILQ_INIT(&s->prdcr_list);
	s->flush_us = flush_us;
	s->perm = perm;
	ldmsd_agg_owner(c, &s->uid, &s->gid);
	s->name = strdup(name);
	s->plugin = strdup(plugin);
	s->container = container && *container ? strdup(container) : NULL;
	s->schema = schema && *schema ? strdup(schema) : NULL;
	s->regex_str = regex && *regex ? strdup(regex) : NULL;
	s->decomp = decomp && *decomp ? strdup(decomp) : NULL;
	if (!s->name || !s->plugin || (container && *container && !s->container) ||
	    (schema && *schema && !s->schema) || (regex && *regex && !s->regex_str) ||
	    (decomp && *decomp && !s->decomp)) {
		strgp_free(s);
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	if (s->regex_str) {
		rc = ldms_regcomp(&s->regex, s->regex_str, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char eb[200];
			regerror(rc, &s->regex, eb, sizeof(eb));
			strgp_free(s);
			return ldmsd_reply_err(c, -EINVAL,
					       "strgp_add: invalid regular expression '%s': %s",
					       regex, eb);
		}
		s->have_regex = 1;
	}
	pthread_rwlock_wrlock(&a->lock);
	TAILQ_INSERT_TAIL(&a->strgps, s, link);
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

static enum ldmsd_cfgobj_run strgp_run_state(void *o)
{
	return (enum ldmsd_cfgobj_run)((const struct ldmsd_strgp *)o)->state;
}

static const struct ldmsd_cfgobj_kind strgp_kind = {
    .find = strgp_find,
    .obj_off = offsetof(struct ldmsd_strgp, obj),
    .run = strgp_run_state,
    .noent = "The storage policy specified does not exist.",
    .eacces = "Permission denied.",
    .busy = "The storage policy is in use.",
    .started = "The storage policy is already running.",
    .stopped = "The storage policy is not running.",
};

static struct ldmsd_strgp *strgp_checked(struct ldmsd_req_ctxt *c, enum ldmsd_cfgobj_need need)
{
	return ldmsd_cfgobj_checked(c, &strgp_kind, ldmsd_req_attr(c, LDMSD_ATTR_NAME), need);
}

static int strgp_del_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_strgp *s = strgp_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!s)
		return c->reply->rc;
	pthread_rwlock_wrlock(&c->d->agg->lock);
	TAILQ_REMOVE(&c->d->agg->strgps, s, link);
	pthread_rwlock_unlock(&c->d->agg->lock);
	ldmsd_strgp_put(s);
	return 0;
}

static int strgp_prdcr_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_strgp *s = strgp_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!s)
		return c->reply->rc;
	return ldmsd_cfgobj_regex_edit(c, &s->prdcr_list, c->req->id == LDMSD_STRGP_PRDCR_ADD_REQ,
				       LDMSD_MATCH_INST, ldmsd_req_attr(c, LDMSD_ATTR_REGEX));
}

static int strgp_metric_handler(struct ldmsd_req_ctxt *c)
{
	const char *m = ldmsd_req_attr(c, LDMSD_ATTR_METRIC);
	struct ldmsd_strgp *s = strgp_checked(c, LDMSD_CFGOBJ_IDLE);
	size_t i;
	if (!s)
		return c->reply->rc;
	if (!m || !*m)
		return ldmsd_reply_err(c, -EINVAL, "%s: 'metric' is empty", ldmsd_req_verb(c));
	for (i = 0; i < s->n_metrics; i++)
		if (!strcmp(s->metrics[i], m))
			break;
	if (c->req->id == LDMSD_STRGP_METRIC_ADD_REQ) {
		if (i < s->n_metrics)
			return ldmsd_reply_err(c, -EEXIST,
					       "strgp_metric_add: '%s' is already listed", m);
		char **n = realloc(s->metrics, (s->n_metrics + 1) * sizeof(*n));
		if (!n)
			return ldmsd_reply_err(c, -ENOMEM, "out of memory");
		s->metrics = n;
		if (!(n[s->n_metrics] = strdup(m)))
			return ldmsd_reply_err(c, -ENOMEM, "out of memory");
		s->n_metrics++;
		return 0;
	}
	if (i == s->n_metrics)
		return ldmsd_reply_err(c, -ENOENT, "strgp_metric_del: '%s' is not listed", m);
	free(s->metrics[i]);
	memmove(&s->metrics[i], &s->metrics[i + 1], (s->n_metrics - i - 1) * sizeof(*s->metrics));
	s->n_metrics--;
	return 0;
}

static int strgp_start_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_strgp *s = strgp_checked(c, LDMSD_CFGOBJ_START);
	if (!s)
		return c->reply->rc;
	if (s->decomp)
		return ldmsd_reply_err(c, -ENOTSUP,
				       "strgp_start %s: decomposition is not supported by ldms-c "
				       "yet; use schema= without decomposition",
				       s->name);
	struct ldmsd_plugin_inst *pi = ldmsd_plugin_inst_find(c->d, s->plugin);
	if (!pi)
		return ldmsd_reply_err(
		    c, -ENOENT,
		    "strgp_start %s: the store plugin instance '%s' is not loaded "
		    "(load name=%s plugin=store_...)",
		    s->name, s->plugin, s->plugin);
	const struct ldmsd_plugin *api = ldmsd_plugin_inst_api(pi);
	if (api->type != LDMSD_PLUGIN_STORE || !api->store)
		return ldmsd_reply_err(c, -EINVAL, "strgp_start %s: '%s' is not a store plugin",
				       s->name, s->plugin);
	int rc = ldmsd_store_pool_start(c->d);
	if (rc)
		return ldmsd_reply_err(c, rc, "strgp_start %s: cannot start the store workers: %s",
				       s->name, strerror(-rc));
	ldmsd_plugin_inst_use(pi);
	pthread_mutex_lock(&s->lock);
	s->pi = pi;
	s->opened = 0;
	s->open_failed = 0;
	s->have_digest = 0;
	s->last_store_rc = 0;
	s->last_flush_us = ldms_monotonic_us();
	__atomic_store_n(&s->state, LDMSD_STRGP_RUNNING, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void strgp_stop_one(struct ldmsd *d, struct ldmsd_strgp *s)
{
	/* No new jobs are queued from now on (the I/O threads read the state without
	 * the policy lock), and taking the policy lock waits for a store in progress
	 * without blocking the I/O threads meanwhile. */
	__atomic_store_n(&s->state, LDMSD_STRGP_STOPPING, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&s->lock);
	ldmsd_store_pool_drain_strgp(d, s);
	pthread_mutex_lock(&s->lock);
	if (s->opened) {
		const struct ldmsd_plugin *api = ldmsd_plugin_inst_api(s->pi);
		ldmsd_plugin_inst_lock(s->pi);
		if (api->store_flush)
			api->store_flush(ldmsd_plugin_inst_handle(s->pi), s->store_ctx);
		if (api->store_close)
			api->store_close(ldmsd_plugin_inst_handle(s->pi), s->store_ctx);
		ldmsd_plugin_inst_unlock(s->pi);
		s->opened = 0;
		s->store_ctx = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	ldmsd_plugin_inst_unuse(s->pi);
	pthread_mutex_lock(&s->lock);
	s->pi = NULL;
	__atomic_store_n(&s->state, LDMSD_STRGP_STOPPED, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&s->lock);
}

static int strgp_stop_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_strgp *s = strgp_checked(c, LDMSD_CFGOBJ_STOP);
	if (!s)
		return c->reply->rc;
	strgp_stop_one(c->d, s);
	return 0;
}

static void str_or_dash(struct ldmsd_buf *j, const char *s)
{
	ldmsd_buf_json_str(j, s && *s ? s : "-");
}

static void strgp_json(struct ldmsd_buf *j, struct ldmsd_strgp *s)
{
	struct ldmsd_regex_ent *e;
	int n = 0;
	pthread_mutex_lock(&s->lock);
	ldmsd_buf_append(j, "{\"name\":", 8);
	ldmsd_buf_json_str(j, s->name);
	ldmsd_buf_append(j, ",\"container\":", 13);
	str_or_dash(j, s->container);
	ldmsd_buf_append(j, ",\"schema\":", 10);
	str_or_dash(j, s->schema);
	ldmsd_buf_append(j, ",\"regex\":", 9);
	str_or_dash(j, s->regex_str);
	ldmsd_buf_append(j, ",\"plugin\":", 10);
	ldmsd_buf_json_str(j, s->plugin);
	ldmsd_buf_printf(j, ",\"flush\":\"%f\",\"state\":\"%s\",\"decomp\":",
			 (double)s->flush_us / 1e6, strgp_state_str(s->state));
	str_or_dash(j, s->decomp);
	ldmsd_buf_append(j, ",\"producers\":[", 14);
	TAILQ_FOREACH(e, &s->prdcr_list, link)
	{
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		ldmsd_buf_json_str(j, e->str);
	}
	ldmsd_buf_append(j, "],\"metrics\":[", 13);
	/* the resolved columns once the store is open, else the configured list */
	char **names = s->opened ? s->col_names : s->metrics;
	size_t cnt = s->opened ? s->n_cols : s->n_metrics;
	for (size_t i = 0; i < cnt; i++) {
		if (i)
			ldmsd_buf_append(j, ",", 1);
		ldmsd_buf_json_str(j, names[i]);
	}
	ldmsd_buf_printf(j,
			 "],\"stored\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"refused\":%" PRIu64
			 ",\"store_errors\":%" PRIu64 "}",
			 s->stored, __atomic_load_n(&s->drops, __ATOMIC_RELAXED), s->refused,
			 s->store_errors);
	pthread_mutex_unlock(&s->lock);
}

static int strgp_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_buf *j = ldmsd_cfgobj_status_open(c, &strgp_kind, name);
	struct ldmsd_strgp *s;
	int n = 0;
	if (!j)
		return c->reply->rc;
	TAILQ_FOREACH(s, &c->d->agg->strgps, link)
	{
		if (name && *name && strcmp(name, s->name))
			continue;
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		strgp_json(j, s);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

/* ---- shutdown ------------------------------------------------------------------------------- */
void ldmsd_strgp_stop_all(struct ldmsd *d)
{
	struct ldmsd_strgp *s;
	if (!d->agg)
		return;
	TAILQ_FOREACH(s, &d->agg->strgps, link)
	if (s->state == LDMSD_STRGP_RUNNING)
		strgp_stop_one(d, s);
}

void ldmsd_strgp_free_all(struct ldmsd *d)
{
	struct ldmsd_strgp *s;
	if (!d->agg)
		return;
	while ((s = TAILQ_FIRST(&d->agg->strgps))) {
		pthread_rwlock_wrlock(&d->agg->lock);
		TAILQ_REMOVE(&d->agg->strgps, s, link);
		pthread_rwlock_unlock(&d->agg->lock);
		ldmsd_strgp_put(s);
	}
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_strgp_cmds[] = {
    {"strgp_add", strgp_add_handler, 0,
     ATTRS({"name", REQ}, {"plugin", REQ}, {"container", 0}, {"schema", 0}, {"regex", 0},
	   {"decomposition", 0}, {"flush", 0}, {"perm", 0})},
    {"strgp_del", strgp_del_handler, 0, ATTRS({"name", REQ})},
    {"strgp_prdcr_add", strgp_prdcr_handler, 0, ATTRS({"name", REQ}, {"regex", REQ})},
    {"strgp_prdcr_del", strgp_prdcr_handler, 0, ATTRS({"name", REQ}, {"regex", REQ})},
    {"strgp_metric_add", strgp_metric_handler, 0, ATTRS({"name", REQ}, {"metric", REQ})},
    {"strgp_metric_del", strgp_metric_handler, 0, ATTRS({"name", REQ}, {"metric", REQ})},
    {"strgp_start", strgp_start_handler, 0, ATTRS({"name", REQ})},
    {"strgp_stop", strgp_stop_handler, 0, ATTRS({"name", REQ})},
    {"strgp_status", strgp_status_handler, 0, ATTRS({"name", 0})},
    {NULL, NULL, 0, NULL},
};
