/* dump_cfg hooks for the aggregation tree (ldmsd_agg.h): producers, updaters and
 * storage policies written back as the prdcr_*, updtr_*, strgp_* commands that
 * recreate them (configuration and run state), plus the store worker settings.
 * Read under the aggregation lock; nothing is changed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_dump.h"

#define DEFAULT_PERM 0770u

static int i64_attr(struct ldmsd_buf *out, const char *name, int64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%" PRId64, v);
	return ldmsd_dump_attr(out, name, b);
}

static int perm_attr(struct ldmsd_buf *out, uint32_t perm)
{
	char b[16];
	if (perm == DEFAULT_PERM)
		return 0;
	snprintf(b, sizeof(b), "%04o", perm & 0777u);
	return ldmsd_dump_attr(out, "perm", b);
}

/* "<verb> name=<name>\n" */
static int name_line(struct ldmsd_buf *out, const char *verb, const char *name)
{
	int rc = ldmsd_dump_line_begin(out, verb);
	if (!rc)
		rc = ldmsd_dump_attr(out, "name", name);
	return rc ? rc : ldmsd_dump_line_end(out);
}

/* one "<verb> name=<name> regex=<re> [match=inst|schema]" line per list entry */
static int regex_lines(struct ldmsd_buf *out, const char *verb, const char *name,
		       const struct ldmsd_regex_list *l, int with_match)
{
	const struct ldmsd_regex_ent *e;
	int rc = 0;
	TAILQ_FOREACH(e, l, link)
	{
		rc = ldmsd_dump_line_begin(out, verb);
		if (!rc)
			rc = ldmsd_dump_attr(out, "name", name);
		if (!rc)
			rc = ldmsd_dump_attr(out, "regex", e->str);
		if (!rc && with_match)
			rc = ldmsd_dump_attr(out, "match",
					     e->sel == LDMSD_MATCH_SCHEMA ? "schema" : "inst");
		if (!rc)
			rc = ldmsd_dump_line_end(out);
		if (rc)
			break;
	}
	return rc;
}

static int dump_storage(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_agg *a = d->agg;
	int rc = 0;
	if (!a)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	if (a->storage_threads != LDMSD_STORAGE_THREADS_DEFAULT) {
		rc = ldmsd_dump_line_begin(out, "storage_threads");
		if (!rc)
			rc = i64_attr(out, "count", a->storage_threads);
		if (!rc)
			rc = ldmsd_dump_line_end(out);
	}
	if (!rc && a->storage_queue != LDMSD_STORAGE_QUEUE_DEFAULT) {
		rc = ldmsd_dump_line_begin(out, "storage_queue");
		if (!rc)
			rc = i64_attr(out, "depth", (int64_t)a->storage_queue);
		if (!rc)
			rc = ldmsd_dump_line_end(out);
	}
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

static int prdcr_one(struct ldmsd *d, struct ldmsd_buf *out, struct ldmsd_prdcr *p)
{
	pthread_mutex_lock(&p->lock);
	enum ldmsd_prdcr_state st = p->state;
	pthread_mutex_unlock(&p->lock);
	int rc = ldmsd_dump_line_begin(out, "prdcr_add");
	if (!rc)
		rc = ldmsd_dump_attr(out, "name", p->name);
	if (!rc)
		rc = ldmsd_dump_attr(out, "type", ldmsd_prdcr_type_str(p->type));
	if (!rc)
		rc = ldmsd_dump_attr(out, "xprt", p->xprt_name);
	if (!rc)
		rc = ldmsd_dump_attr(out, "host", p->host);
	if (!rc && p->type != LDMSD_PRDCR_PASSIVE)
		rc = ldmsd_dump_attr(out, "port", p->port_str);
	if (!rc)
		rc = i64_attr(out, "reconnect", p->reconnect_us);
	if (!rc && p->auth_dom)
		rc = ldmsd_dump_attr(out, "auth", p->auth_dom);
	if (!rc && p->rail != 1)
		rc = i64_attr(out, "rail", p->rail);
	if (!rc && p->quota != d->s.default_quota)
		rc = i64_attr(out, "quota", p->quota);
	if (!rc && p->rx_rate != -1)
		rc = i64_attr(out, "rx_rate", p->rx_rate);
	if (!rc && !p->cache_ip)
		rc = ldmsd_dump_attr(out, "cache_ip", "false");
	if (!rc)
		rc = perm_attr(out, p->perm);
	if (!rc)
		rc = ldmsd_dump_line_end(out);
	if (!rc && st != LDMSD_PRDCR_STOPPED && st != LDMSD_PRDCR_STOPPING)
		rc = name_line(out, "prdcr_start", p->name);
	return rc;
}

static int dump_prdcrs(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_prdcr *p;
	int rc = 0;
	if (!a)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(p, &a->prdcrs, link)
	{
		/* advertised producers are created by prdcr_listen, not by a command */
		if (p->type == LDMSD_PRDCR_ADVERTISED)
			continue;
		if ((rc = prdcr_one(d, out, p)))
			break;
	}
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

static int updtr_one(struct ldmsd_buf *out, struct ldmsd_updtr *u)
{
	int rc = ldmsd_dump_line_begin(out, "updtr_add");
	if (!rc)
		rc = ldmsd_dump_attr(out, "name", u->name);
	if (!rc)
		rc = i64_attr(out, "interval", u->interval_us);
	if (!rc && u->sync)
		rc = i64_attr(out, "offset", u->offset_us);
	if (!rc && u->push)
		rc = ldmsd_dump_attr(out, "push",
				     u->push == LDMSD_UPDTR_PUSH_ONCHANGE ? "onchange" : "true");
	if (!rc && u->auto_interval)
		rc = ldmsd_dump_attr(out, "auto_interval", "true");
	if (!rc)
		rc = perm_attr(out, u->perm);
	if (!rc)
		rc = ldmsd_dump_line_end(out);
	if (!rc)
		rc = regex_lines(out, "updtr_prdcr_add", u->name, &u->prdcr_list, 0);
	if (!rc)
		rc = regex_lines(out, "updtr_match_add", u->name, &u->match_list, 1);
	if (!rc && u->state == LDMSD_UPDTR_RUNNING)
		rc = name_line(out, "updtr_start", u->name);
	return rc;
}

static int dump_updtrs(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_updtr *u;
	int rc = 0;
	if (!a)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(u, &a->updtrs, link)
	if ((rc = updtr_one(out, u)))
		break;
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

static int strgp_one(struct ldmsd_buf *out, struct ldmsd_strgp *s)
{
	pthread_mutex_lock(&s->lock);
	enum ldmsd_strgp_state st = s->state;
	pthread_mutex_unlock(&s->lock);
	int rc = ldmsd_dump_line_begin(out, "strgp_add");
	if (!rc)
		rc = ldmsd_dump_attr(out, "name", s->name);
	if (!rc)
		rc = ldmsd_dump_attr(out, "plugin", s->plugin);
	if (!rc && s->container)
		rc = ldmsd_dump_attr(out, "container", s->container);
	if (!rc && s->schema)
		rc = ldmsd_dump_attr(out, "schema", s->schema);
	if (!rc && !s->schema && s->regex_str)
		rc = ldmsd_dump_attr(out, "regex", s->regex_str);
	if (!rc && s->decomp)
		rc = ldmsd_dump_attr(out, "decomposition", s->decomp);
	if (!rc && s->flush_us > 0)
		rc = i64_attr(out, "flush", s->flush_us);
	if (!rc)
		rc = perm_attr(out, s->perm);
	if (!rc)
		rc = ldmsd_dump_line_end(out);
	if (!rc)
		rc = regex_lines(out, "strgp_prdcr_add", s->name, &s->prdcr_list, 0);
	for (size_t i = 0; !rc && i < s->n_metrics; i++) {
		rc = ldmsd_dump_line_begin(out, "strgp_metric_add");
		if (!rc)
			rc = ldmsd_dump_attr(out, "name", s->name);
		if (!rc)
			rc = ldmsd_dump_attr(out, "metric", s->metrics[i]);
		if (!rc)
			rc = ldmsd_dump_line_end(out);
	}
	if (!rc && st == LDMSD_STRGP_RUNNING)
		rc = name_line(out, "strgp_start", s->name);
	return rc;
}

static int dump_strgps(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_agg *a = d->agg;
	struct ldmsd_strgp *s;
	int rc = 0;
	if (!a)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(s, &a->strgps, link)
	if ((rc = strgp_one(out, s)))
		break;
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

void ldmsd_dump_agg_register(void)
{
	/* storage settings belong with the daemon settings, before the plugins */
	ldmsd_dump_hook_register("storage", LDMSD_DUMP_ORDER_DAEMON + 1, dump_storage);
	ldmsd_dump_hook_register("prdcr", LDMSD_DUMP_ORDER_PRDCR, dump_prdcrs);
	ldmsd_dump_hook_register("updtr", LDMSD_DUMP_ORDER_UPDTR, dump_updtrs);
	ldmsd_dump_hook_register("strgp", LDMSD_DUMP_ORDER_STRGP, dump_strgps);
}
