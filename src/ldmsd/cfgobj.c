/* The guard shared by the producer, producer listen, updater and storage policy commands
 * (find by name, access check, state check, each with upstream's reply), and the regex
 * list edit that updaters and storage policies share. */
#include <errno.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"

const char *ldmsd_enum_name(const char *const *names, size_t n, unsigned v, const char *unknown)
{
	return v < n ? names[v] : unknown;
}

const char *ldmsd_cfgobj_run_str(int run)
{
	static const char *const names[] = {
	    [LDMSD_CFGOBJ_STOPPED] = "STOPPED",
	    [LDMSD_CFGOBJ_RUNNING] = "RUNNING",
	    [LDMSD_CFGOBJ_STOPPING] = "STOPPING",
	};
	return LDMSD_ENUM_NAME(names, run, "UNKNOWN");
}

int ldmsd_cfgobj_noent(struct ldmsd_req_ctxt *c, const struct ldmsd_cfgobj_kind *k,
		       const char *name)
{
	return ldmsd_reply_err(c, -ENOENT, k->noent, name ? name : "");
}

void *ldmsd_cfgobj_checked(struct ldmsd_req_ctxt *c, const struct ldmsd_cfgobj_kind *k,
			   const char *name, enum ldmsd_cfgobj_need need)
{
	void *o = name ? k->find(c->d, name) : NULL;
	if (!o) {
		ldmsd_cfgobj_noent(c, k, name);
		return NULL;
	}
	const struct ldmsd_cfgobj *h = (const void *)((const char *)o + k->obj_off);
	if (ldmsd_agg_access(c, h->uid, h->gid, h->perm, 2)) {
		ldmsd_reply_err(c, -EACCES, k->eacces, h->name);
		return NULL;
	}
	if (need == LDMSD_CFGOBJ_ANY)
		return o;
	enum ldmsd_cfgobj_run run = k->run(o);
	if (need == LDMSD_CFGOBJ_IDLE && run != LDMSD_CFGOBJ_STOPPED)
		ldmsd_reply_err(c, -EBUSY, k->busy, h->name);
	else if (need == LDMSD_CFGOBJ_START && run != LDMSD_CFGOBJ_STOPPED)
		ldmsd_reply_err(c, -EBUSY, k->started, h->name);
	else if (need == LDMSD_CFGOBJ_STOP && run != LDMSD_CFGOBJ_RUNNING)
		ldmsd_reply_err(c, -EBUSY, k->stopped, h->name);
	else
		return o;
	return NULL;
}

int ldmsd_cfgobj_regex_edit(struct ldmsd_req_ctxt *c, struct ldmsd_regex_list *l, int add, int sel,
			    const char *re)
{
	char msg[300];
	int rc;
	re = re ? re : "";
	pthread_rwlock_wrlock(&c->d->agg->lock);
	if (add)
		rc = ldmsd_regex_list_add(l, re, (enum ldmsd_match_sel)sel, msg, sizeof(msg));
	else
		rc = ldmsd_regex_list_del(l, re, (enum ldmsd_match_sel)sel);
	pthread_rwlock_unlock(&c->d->agg->lock);
	if (rc == -ENOENT)
		return ldmsd_reply_err(c, rc, "%s: the regular expression '%s' is not in the list",
				       ldmsd_req_verb(c), re);
	if (rc)
		return ldmsd_reply_err(c, rc, "%s: %s", ldmsd_req_verb(c), msg);
	return 0;
}

struct ldmsd_buf *ldmsd_cfgobj_status_open(struct ldmsd_req_ctxt *c,
					   const struct ldmsd_cfgobj_kind *k, const char *name)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	if (!a) {
		ldmsd_reply_err(c, -ENOMEM, "out of memory");
		return NULL;
	}
	if (name && *name && !k->find(c->d, name)) {
		ldmsd_cfgobj_noent(c, k, name);
		return NULL;
	}
	ldmsd_buf_append(j, "[", 1);
	return j;
}
