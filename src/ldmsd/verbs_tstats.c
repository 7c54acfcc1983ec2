/* updtr_task, update_time_stats and store_time_stats: how long updates and stores
 * take, per updater / producer / set and per storage policy / set, in the JSON
 * layout of upstream 4.5 (golden ctl_l1.json.txt). The producer and storage code
 * report each update and store through the ldmsd_tstats_* hooks. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_verbs.h"

#define NBINS	    12
#define UPD_WARMUP  100 /* ldms-c: updates sampled before the bins are fixed */
#define STOR_WARMUP 200 /* upstream's n_warmup of the store histogram */
#define HBUCKETS    256

/* A histogram calibrated on its first `warmup` samples: linear bins over
 * [0, 2 x the largest warmup sample). */
struct hist {
	double *warm;
	size_t n_warm, warmup;
	int ready;
	double width;
	uint64_t bins[NBINS], under, over;
};

static void hist_bin(struct hist *h, double v)
{
	if (v < 0) {
		h->under++;
		return;
	}
	size_t k = h->width > 0 ? (size_t)(v / h->width) : NBINS;
	if (k >= NBINS)
		h->over++;
	else
		h->bins[k]++;
}

static void hist_add(struct hist *h, double v)
{
	if (h->ready) {
		hist_bin(h, v);
		return;
	}
	if (!h->warm && !(h->warm = calloc(h->warmup, sizeof(double))))
		return;
	h->warm[h->n_warm++] = v;
	if (h->n_warm < h->warmup)
		return;
	double mx = 0;
	for (size_t i = 0; i < h->n_warm; i++)
		if (h->warm[i] > mx)
			mx = h->warm[i];
	h->width = mx > 0 ? 2 * mx / NBINS : 1;
	h->ready = 1;
	for (size_t i = 0; i < h->n_warm; i++)
		hist_bin(h, h->warm[i]);
	free(h->warm);
	h->warm = NULL;
}

static void hist_reset(struct hist *h)
{
	size_t w = h->warmup;
	free(h->warm);
	memset(h, 0, sizeof(*h));
	h->warmup = w;
}

/* the histogram object of update_time_stats and store_time_stats */
static json_t *hist_json(const struct hist *h)
{
	if (!h->ready)
		return json_pack("{s:I,s:I,s:b}", "n_warmup", (json_int_t)h->warmup, "warmup_count",
				 (json_int_t)h->n_warm, "warmup_in_progress", 1);
	json_t *bins = json_array(), *bnd = json_array();
	for (int k = 0; k < NBINS; k++)
		json_array_append_new(bins, json_integer((json_int_t)h->bins[k]));
	for (int k = 0; k <= NBINS; k++)
		json_array_append_new(bnd, json_real(k * h->width));
	return json_pack("{s:o,s:o,s:i,s:I,s:s,s:I,s:b}", "bins", bins, "boundaries", bnd, "n_bins",
			 NBINS, "overflow", (json_int_t)h->over, "scale", "linear", "underflow",
			 (json_int_t)h->under, "warmup_in_progress", 0);
}

static uint32_t str_hash(uint32_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* ---- updates ------------------------------------------------------------------------- */
struct upd_rec {
	struct upd_rec *next;
	struct ldmsd *d;
	char *updtr, *prdcr, *inst;
	double min, max, sum;
	uint64_t cnt, skipped, oversampled, last_gn;
};

/* The histogram of one updater or storage policy of daemon d. */
struct named_hist {
	struct named_hist *next;
	struct ldmsd *d;
	char *name;
	struct hist h;
};

struct upd_pending {
	struct upd_pending *next;
	const struct ldmsd_prdcr_set *ps;
	struct upd_rec *rec;
	struct named_hist *hist;
	struct ldmsd *d;
	uint64_t start_us; /* monotonic */
};

static pthread_mutex_t ts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct upd_rec *upd_tbl[HBUCKETS];
static struct upd_pending *pend_tbl[HBUCKETS];
static struct named_hist *upd_hists, *stor_hists;

static uint32_t ptr_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	return (uint32_t)((v >> 4) ^ (v >> 12)) & (HBUCKETS - 1);
}

/* Caller holds ts_lock. */
static struct upd_rec *upd_rec_get(struct ldmsd *d, const char *updtr, const char *prdcr,
				   const char *inst)
{
	uint32_t b = str_hash(str_hash(str_hash(2166136261u, updtr), prdcr), inst) & (HBUCKETS - 1);
	struct upd_rec *r;
	for (r = upd_tbl[b]; r; r = r->next)
		if (r->d == d && !strcmp(r->updtr, updtr) && !strcmp(r->prdcr, prdcr) &&
		    !strcmp(r->inst, inst))
			return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->d = d;
	r->updtr = strdup(updtr);
	r->prdcr = strdup(prdcr);
	r->inst = strdup(inst);
	if (!r->updtr || !r->prdcr || !r->inst) {
		free(r->updtr);
		free(r->prdcr);
		free(r->inst);
		free(r);
		return NULL;
	}
	r->next = upd_tbl[b];
	upd_tbl[b] = r;
	return r;
}

/* Caller holds ts_lock: the histogram `name` of d in *list (created with `warmup`
 * when create is set). */
static struct named_hist *hist_get(struct named_hist **list, struct ldmsd *d, const char *name,
				   size_t warmup, int create)
{
	struct named_hist *h;
	for (h = *list; h; h = h->next)
		if (h->d == d && !strcmp(h->name, name))
			return h;
	if (!create || !(h = calloc(1, sizeof(*h))))
		return NULL;
	if (!(h->name = strdup(name))) {
		free(h);
		return NULL;
	}
	h->d = d;
	h->h.warmup = warmup;
	h->next = *list;
	*list = h;
	return h;
}

/* Caller holds ts_lock: the pending entry of ps, unlinked. */
static struct upd_pending *pending_take(const struct ldmsd_prdcr_set *ps)
{
	struct upd_pending **pp, *e;
	for (pp = &pend_tbl[ptr_hash(ps)]; (e = *pp); pp = &e->next)
		if (e->ps == ps) {
			*pp = e->next;
			return e;
		}
	return NULL;
}

void ldmsd_tstats_update_begin(struct ldmsd_prdcr_set *ps, struct ldmsd_updtr *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&ts_lock);
	struct upd_pending *e = pending_take(ps);
	if (!e)
		e = calloc(1, sizeof(*e));
	if (e) {
		e->ps = ps;
		e->rec = upd_rec_get(u->d, u->name, ps->prdcr->name, ps->inst_name);
		e->hist = hist_get(&upd_hists, u->d, u->name, UPD_WARMUP, 1);
		e->d = u->d;
		e->start_us = ldms_monotonic_us();
		if (e->rec && e->hist) {
			uint32_t b = ptr_hash(ps);
			e->next = pend_tbl[b];
			pend_tbl[b] = e;
		} else {
			free(e);
		}
	}
	pthread_mutex_unlock(&ts_lock);
}

void ldmsd_tstats_update_end(struct ldmsd_prdcr_set *ps, ldms_set_t s, int status)
{
	uint64_t now = ldms_monotonic_us();
	pthread_mutex_lock(&ts_lock);
	struct upd_pending *e = pending_take(ps);
	if (e && !status && s) {
		struct upd_rec *r = e->rec;
		double us = (double)(now - e->start_us);
		uint64_t gn = ldms_set_data_gn_get(s);
		if (!r->cnt || us < r->min)
			r->min = us;
		if (!r->cnt || us > r->max)
			r->max = us;
		r->sum += us;
		if (r->cnt && gn == r->last_gn)
			r->oversampled++; /* no new sample since the previous update */
		r->last_gn = gn;
		r->cnt++;
		hist_add(&e->hist->h, us);
	}
	pthread_mutex_unlock(&ts_lock);
	free(e);
}

void ldmsd_tstats_update_skip(struct ldmsd_prdcr_set *ps, struct ldmsd_updtr *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&ts_lock);
	struct upd_rec *r = upd_rec_get(u->d, u->name, ps->prdcr->name, ps->inst_name);
	if (r)
		r->skipped++;
	pthread_mutex_unlock(&ts_lock);
}

int ldmsd_verbs_reset_attr(struct ldmsd_req_ctxt *c, int *reset)
{
	const char *r = ldmsd_req_attr(c, LDMSD_ATTR_RESET);
	*reset = 0;
	if (r && *r && ldms_parse_bool(r, reset))
		return ldmsd_reply_err(c, -EINVAL,
				       "%s: attribute 'reset' must be true or false, not '%s'",
				       ldmsd_req_verb(c), r);
	if (r && !*r)
		*reset = 1;
	return 0;
}

static int json_reply(struct ldmsd_req_ctxt *c, json_t *o, size_t flags)
{
	char *t = json_dumps(o, JSON_COMPACT | flags);
	json_decref(o);
	if (!t)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	int rc = ldmsd_buf_append(ldmsd_reply_json(c), t, strlen(t));
	free(t);
	return rc ? ldmsd_reply_err(c, rc, "out of memory") : 0;
}

/* The entries of the updaters name selects (all when NULL); 1 if one matched.
 * Caller holds the aggregation lock and ts_lock. */
static int upd_fill(struct ldmsd_req_ctxt *c, struct ldmsd_agg *a, const char *name, int reset,
		    json_t *out)
{
	struct ldmsd_updtr *u;
	int found = 0;

	TAILQ_FOREACH(u, &a->updtrs, link)
	{
		if (name && strcmp(name, u->name))
			continue;
		found = 1;
		struct named_hist *h = hist_get(&upd_hists, c->d, u->name, UPD_WARMUP, 1);
		json_t *uo = json_object();
		json_object_set_new(uo, "histogram", h ? hist_json(&h->h) : json_object());
		if (h && reset)
			hist_reset(&h->h);
		for (int b = 0; b < HBUCKETS; b++)
			for (struct upd_rec *r = upd_tbl[b]; r; r = r->next) {
				if (r->d != c->d || strcmp(r->updtr, u->name))
					continue;
				json_t *po = json_object_get(uo, r->prdcr);
				if (!po) {
					po = json_object();
					json_object_set_new(uo, r->prdcr, po);
				}
				json_object_set_new(
				    po, r->inst,
				    json_pack("{s:f,s:f,s:f,s:I,s:I,s:I}", "min", r->min, "max",
					      r->max, "avg", r->cnt ? r->sum / (double)r->cnt : 0.0,
					      "cnt", (json_int_t)r->cnt, "skipped_cnt",
					      (json_int_t)r->skipped, "oversampled_cnt",
					      (json_int_t)r->oversampled));
				if (reset) {
					r->min = r->max = r->sum = 0;
					r->cnt = r->skipped = r->oversampled = 0;
				}
			}
		json_object_set_new(out, u->name, uo);
	}
	return found;
}

/* ---- stores ------------------------------------------------------------------------------ */
struct tstat {
	double min, max, sum, min_ts, max_ts, start_ts, end_ts;
	uint64_t cnt;
};

static void tstat_add(struct tstat *t, double us, double now_s)
{
	if (!t->cnt || us < t->min) {
		t->min = us;
		t->min_ts = now_s;
	}
	if (!t->cnt || us > t->max) {
		t->max = us;
		t->max_ts = now_s;
	}
	if (!t->cnt && t->start_ts == 0)
		t->start_ts = now_s;
	t->end_ts = now_s;
	t->sum += us;
	t->cnt++;
}

static json_t *tstat_json(const struct tstat *t)
{
	return json_pack("{s:f,s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "avg",
			 t->cnt ? t->sum / (double)t->cnt : 0.0, "count", (json_int_t)t->cnt,
			 "end_ts", t->end_ts, "max", t->max, "max_ts", t->max_ts, "min", t->min,
			 "min_ts", t->min_ts, "start_ts", t->start_ts);
}

struct stor_rec {
	struct stor_rec *next;
	struct ldmsd *d;
	char *strgp, *inst, *prdcr, *schema;
	struct tstat total, queue, commit;
	long tid;
};

static struct stor_rec *stor_tbl[HBUCKETS];

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

void ldmsd_tstats_store(struct ldmsd_strgp *st, struct ldmsd_store_job *j, uint64_t start_us,
			uint64_t end_us)
{
	struct ldmsd_prdcr_set *ps = j->snap->ps;
	double now_s = (double)ldms_now_us() / 1e6;
	uint32_t b = str_hash(str_hash(2166136261u, st->name), ps->inst_name) & (HBUCKETS - 1);
	struct stor_rec *r;
	struct named_hist *h;

	pthread_mutex_lock(&ts_lock);
	for (r = stor_tbl[b]; r; r = r->next)
		if (r->d == st->d && !strcmp(r->strgp, st->name) && !strcmp(r->inst, ps->inst_name))
			break;
	if (!r && (r = calloc(1, sizeof(*r)))) {
		r->d = st->d;
		r->strgp = xstrdup(st->name);
		r->inst = xstrdup(ps->inst_name);
		r->prdcr = xstrdup(ps->prdcr ? ps->prdcr->name : "");
		r->schema = xstrdup(ps->schema_name);
		r->next = stor_tbl[b];
		stor_tbl[b] = r;
	}
	h = hist_get(&stor_hists, st->d, st->name, STOR_WARMUP, 1);
	if (r) {
		r->tid = (long)syscall(SYS_gettid);
		tstat_add(&r->commit, (double)(end_us - start_us), now_s);
		tstat_add(&r->queue, (double)(start_us - j->enq_us), now_s);
		tstat_add(&r->total, (double)(end_us - j->enq_us), now_s);
	}
	if (h)
		hist_add(&h->h, (double)(end_us - j->enq_us));
	pthread_mutex_unlock(&ts_lock);
}

/* The entries of the storage policies name selects; as upd_fill. */
static int stor_fill(struct ldmsd_req_ctxt *c, struct ldmsd_agg *a, const char *name, int reset,
		     json_t *out)
{
	struct ldmsd_strgp *s;
	int found = 0;
	char tid[32];

	TAILQ_FOREACH(s, &a->strgps, link)
	{
		if (name && strcmp(name, s->name))
			continue;
		found = 1;
		json_t *so = json_object(), *prd = json_object(), *sch = json_object();
		json_t *sets = json_object(), *thr = json_object(), *hj;
		struct named_hist *h = hist_get(&stor_hists, c->d, s->name, STOR_WARMUP, 1);
		hj = h ? hist_json(&h->h) : json_object();
		if (h && reset)
			hist_reset(&h->h);
		for (int b = 0; b < HBUCKETS; b++)
			for (struct stor_rec *r = stor_tbl[b]; r; r = r->next) {
				if (r->d != c->d || strcmp(r->strgp, s->name))
					continue;
				snprintf(tid, sizeof(tid), "%ld", r->tid);
				json_object_set_new(prd, r->prdcr, json_object());
				json_object_set_new(sch, r->schema, json_object());
				json_object_set_new(thr, tid, json_object());
				json_object_set_new(
				    sets, r->inst,
				    json_pack("{s:s,s:s,s:{s:o,s:o},s:o,s:s}", "producer", r->prdcr,
					      "schema", r->schema, "stage_stats", "commit",
					      tstat_json(&r->commit), "queue",
					      tstat_json(&r->queue), "stats", tstat_json(&r->total),
					      "thread_id", tid));
				if (reset) {
					memset(&r->total, 0, sizeof(r->total));
					memset(&r->queue, 0, sizeof(r->queue));
					memset(&r->commit, 0, sizeof(r->commit));
				}
			}
		json_object_set_new(so, "hist_store_time", hj);
		json_object_set_new(so, "producers", prd);
		json_object_set_new(so, "schemas", sch);
		json_object_set_new(so, "sets", sets);
		json_object_set_new(so, "threads", thr);
		json_object_set_new(out, s->name, so);
	}
	return found;
}

typedef int (*ts_fill_fn)(struct ldmsd_req_ctxt *c, struct ldmsd_agg *a, const char *name,
			  int reset, json_t *out);

/* update_time_stats / store_time_stats: reset=, name= selecting one object (ENOENT
 * naming it), the entries under both locks, the JSON reply. */
static int ts_query(struct ldmsd_req_ctxt *c, ts_fill_fn fill, const char *noun, size_t flags)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	int reset, rc, found;

	if ((rc = ldmsd_verbs_reset_attr(c, &reset)))
		return rc;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	json_t *out = json_object();
	pthread_rwlock_rdlock(&a->lock);
	pthread_mutex_lock(&ts_lock);
	found = fill(c, a, name, reset, out);
	pthread_mutex_unlock(&ts_lock);
	pthread_rwlock_unlock(&a->lock);
	if (name && !found) {
		json_decref(out);
		return ldmsd_reply_err(c, -ENOENT, "%s: %s '%s' not found", ldmsd_req_verb(c), noun,
				       name);
	}
	return json_reply(c, out, flags);
}

static int update_time_stats_handler(struct ldmsd_req_ctxt *c)
{
	return ts_query(c, upd_fill, "updater", JSON_PRESERVE_ORDER);
}

static int store_time_stats_handler(struct ldmsd_req_ctxt *c)
{
	return ts_query(c, stor_fill, "storage policy", JSON_SORT_KEYS);
}

static void upd_rec_free(struct upd_rec *r)
{
	free(r->updtr);
	free(r->prdcr);
	free(r->inst);
	free(r);
}

static void stor_rec_free(struct stor_rec *r)
{
	free(r->strgp);
	free(r->inst);
	free(r->prdcr);
	free(r->schema);
	free(r);
}

static void named_hist_free(struct named_hist *h)
{
	free(h->h.warm);
	free(h->name);
	free(h);
}

/* Unlinks and frees every element of list *head (any record type here: each has
 * `next` and `d`) that belongs to daemon dd. */
#define PURGE(head, type, dd, freefn)                                                              \
	for (type **pp_ = (head), *e_; (e_ = *pp_);) {                                             \
		if (e_->d == (dd)) {                                                               \
			*pp_ = e_->next;                                                           \
			freefn(e_);                                                                \
		} else {                                                                           \
			pp_ = &e_->next;                                                           \
		}                                                                                  \
	}

void ldmsd_tstats_forget(struct ldmsd *d)
{
	pthread_mutex_lock(&ts_lock);
	for (int b = 0; b < HBUCKETS; b++) {
		PURGE(&pend_tbl[b], struct upd_pending, d, free);
		PURGE(&upd_tbl[b], struct upd_rec, d, upd_rec_free);
		PURGE(&stor_tbl[b], struct stor_rec, d, stor_rec_free);
	}
	PURGE(&upd_hists, struct named_hist, d, named_hist_free);
	PURGE(&stor_hists, struct named_hist, d, named_hist_free);
	pthread_mutex_unlock(&ts_lock);
}

/* ---- updtr_task ------------------------------------------------------------------------------ */
static json_t *task_json(int64_t interval, int64_t offset, int sync, int dflt)
{
	char iv[32], off[32];
	snprintf(iv, sizeof(iv), "%" PRId64, interval);
	if (sync)
		snprintf(off, sizeof(off), "%" PRId64, offset);
	else
		snprintf(off, sizeof(off), "None");
	return json_pack("{s:s,s:s,s:s}", "interval_us", iv, "offset_us", off, "default_task",
			 dflt ? "true" : "false");
}

static int updtr_task_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_updtr *u;
	int64_t iv[64], off[64];

	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(u, &a->updtrs, link)
	if (!strcmp(u->name, name))
		break;
	if (!u) {
		pthread_rwlock_unlock(&a->lock);
		return ldmsd_reply_err(c, -ENOENT, "updtr_task: updater '%s' not found", name);
	}
	json_t *out = json_array();
	json_array_append_new(out, task_json(u->interval_us, u->offset_us, u->sync, 1));
	size_t n = ldmsd_updtr_hint_schedules(u, iv, off, 64);
	for (size_t i = 0; i < n && i < 64; i++) {
		int64_t si, so;
		ldmsd_updtr_auto_schedule(iv[i], off[i], u->offset_us, &si, &so);
		json_array_append_new(out, task_json(si, so, 1, 0));
	}
	pthread_rwlock_unlock(&a->lock);
	return json_reply(c, out, JSON_PRESERVE_ORDER);
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_verbs_stats_cmds[] = {
    {"update_time_stats", update_time_stats_handler, 0,
     ATTRS({"name", 0}, {"reset", 0}, {"json", 0})},
    {"store_time_stats", store_time_stats_handler, 0,
     ATTRS({"name", 0}, {"reset", 0}, {"json", 0})},
    {"updtr_task", updtr_task_handler, 0, ATTRS({"name", REQ}, {"summary", 0})},
    {NULL, NULL, 0, NULL},
};
