/* Glue of the aggregation tree: the per-daemon aggregation state (object lists and
 * their lock, store settings), the regex lists used by updaters and storage
 * policies, access checks of configuration objects, and the shutdown order
 * (updaters, then storage policies, then producers, then the store workers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_sched.h"

/* ---- regex lists ---------------------------------------------------------------------- */
int ldmsd_regex_list_add(struct ldmsd_regex_list *l, const char *str, enum ldmsd_match_sel sel,
			 char *msg, size_t msglen)
{
	struct ldmsd_regex_ent *e;
	TAILQ_FOREACH(e, l, link)
	{
		if (e->sel == sel && !strcmp(e->str, str)) {
			snprintf(msg, msglen, "the regular expression '%s' is already present",
				 str);
			return -EEXIST;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->str = strdup(str))) {
		free(e);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	int rc = ldms_regcomp(&e->re, str, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char eb[200];
		regerror(rc, &e->re, eb, sizeof(eb));
		snprintf(msg, msglen, "invalid regular expression '%s': %s", str, eb);
		free(e->str);
		free(e);
		return -EINVAL;
	}
	e->sel = sel;
	TAILQ_INSERT_TAIL(l, e, link);
	return 0;
}

static void regex_ent_free(struct ldmsd_regex_ent *e)
{
	regfree(&e->re);
	free(e->str);
	free(e);
}

int ldmsd_regex_list_del(struct ldmsd_regex_list *l, const char *str, enum ldmsd_match_sel sel)
{
	struct ldmsd_regex_ent *e;
	TAILQ_FOREACH(e, l, link)
	{
		if (e->sel == sel && !strcmp(e->str, str)) {
			TAILQ_REMOVE(l, e, link);
			regex_ent_free(e);
			return 0;
		}
	}
	return -ENOENT;
}

void ldmsd_regex_list_free(struct ldmsd_regex_list *l)
{
	struct ldmsd_regex_ent *e;
	while ((e = TAILQ_FIRST(l))) {
		TAILQ_REMOVE(l, e, link);
		regex_ent_free(e);
	}
}

int ldmsd_regex_list_empty(const struct ldmsd_regex_list *l)
{
	return TAILQ_EMPTY(l);
}

int ldmsd_regex_list_match(const struct ldmsd_regex_list *l, const char *s)
{
	const struct ldmsd_regex_ent *e;
	TAILQ_FOREACH(e, l, link)
	if (!regexec(&e->re, s, 0, NULL, 0))
		return 1;
	return 0;
}

int ldmsd_regex_list_match_set(const struct ldmsd_regex_list *l, const char *inst,
			       const char *schema)
{
	const struct ldmsd_regex_ent *e;
	if (TAILQ_EMPTY(l))
		return 1;
	TAILQ_FOREACH(e, l, link)
	{
		const char *s = e->sel == LDMSD_MATCH_SCHEMA ? schema : inst;
		if (s && !regexec(&e->re, s, 0, NULL, 0))
			return 1;
	}
	return 0;
}

/* ---- the aggregation state -------------------------------------------------------------- */
static pthread_mutex_t agg_create_lock = PTHREAD_MUTEX_INITIALIZER;

struct ldmsd_agg *ldmsd_agg(struct ldmsd *d)
{
	struct ldmsd_agg *a = __atomic_load_n(&d->agg, __ATOMIC_ACQUIRE);
	if (a)
		return a;
	pthread_mutex_lock(&agg_create_lock);
	a = d->agg;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (a) {
			pthread_rwlock_init(&a->lock, NULL);
			TAILQ_INIT(&a->prdcrs);
			TAILQ_INIT(&a->updtrs);
			TAILQ_INIT(&a->strgps);
			TAILQ_INIT(&a->listens);
			a->storage_threads = LDMSD_STORAGE_THREADS_DEFAULT;
			a->storage_queue = LDMSD_STORAGE_QUEUE_DEFAULT;
			__atomic_store_n(&d->agg, a, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&agg_create_lock);
	return a;
}

struct ldmsd_sched *ldmsd_agg_sched(struct ldmsd *d)
{
	if (!d->sched) {
		struct ldms_err e;
		ldms_err_clear(&e);
		d->sched = ldmsd_sched_new(&e);
		if (!d->sched)
			ldms_log(LDMS_LERROR, LDMSD_LOG, "%s", e.msg);
	}
	return d->sched;
}

/* Connections end asynchronously (their last event arrives on an I/O thread);
 * wait for them, but never forever. */
static void wait_conns(struct ldmsd_agg *a, int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
	for (int waited = 0; waited < ms; waited += 10) {
		if (__atomic_load_n(&a->live_conns, __ATOMIC_SEQ_CST) <= 0)
			return;
		nanosleep(&ts, NULL);
	}
	ldms_log(LDMS_LWARN, LDMSD_PRDCR_LOG, "%d producer connection(s) did not close in time",
		 __atomic_load_n(&a->live_conns, __ATOMIC_SEQ_CST));
}

void ldmsd_agg_shutdown(struct ldmsd *d)
{
	struct ldmsd_agg *a = d->agg;
	if (!a)
		return;
	/* Updaters first so no new lookups/updates start, then the policies (they
	 * close their stores), then the connections. */
	pthread_mutex_lock(&d->lock); /* a command still running finishes first */
	ldmsd_updtr_stop_all(d);
	ldmsd_strgp_stop_all(d);
	ldmsd_prdcr_stop_all(d);
	pthread_mutex_unlock(&d->lock);
	wait_conns(a, 3000);
	pthread_mutex_lock(&d->lock);
	ldmsd_store_pool_stop(d);
	ldmsd_updtr_free_all(d);
	ldmsd_strgp_free_all(d);
	ldmsd_prdcr_free_all(d);
	ldmsd_prdcr_listen_free_all(d);
	ldmsd_passive_free_all(d); /* connections peers opened to us, not yet closed */
	pthread_rwlock_destroy(&a->lock);
	d->agg = NULL;
	free(a);
	pthread_mutex_unlock(&d->lock);
}

/* ---- access to configuration objects ------------------------------------------------------ */
int ldmsd_agg_access(struct ldmsd_req_ctxt *c, uid_t uid, gid_t gid, uint32_t perm, uint32_t acc)
{
	const struct ldmsd_origin *o = &c->req->origin;
	if (o->kind != LDMSD_ORIGIN_NET)
		return 0;
	return ldms_access_check(o->uid, o->gid, uid, gid, perm, acc);
}

void ldmsd_agg_owner(struct ldmsd_req_ctxt *c, uid_t *uid, gid_t *gid)
{
	const struct ldmsd_origin *o = &c->req->origin;
	if (o->kind == LDMSD_ORIGIN_NET) {
		*uid = o->uid;
		*gid = o->gid;
	} else {
		*uid = geteuid();
		*gid = getegid();
	}
}

int ldmsd_agg_perm(struct ldmsd_req_ctxt *c, uint32_t *perm)
{
	const char *v = ldmsd_req_attr(c, LDMSD_ATTR_PERM);
	*perm = 0770;
	if (!v || !*v)
		return 0;
	if (ldms_parse_perm_octal(v, perm))
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid perm '%s' (octal, e.g. 0770)",
				       ldmsd_req_verb(c), v);
	return 0;
}
