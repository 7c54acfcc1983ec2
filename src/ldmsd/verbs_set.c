/* Local set and daemon verbs of the 4.5 control protocol that had no handler:
 * udata / udata_regex (metric user data of local sets), oneshot (one sample of a
 * sampler at a given time), logrotate (rename the log file with an epoch suffix and
 * open a fresh one) and example (echo of the request's attributes). */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_plugin_inst.h"
#include "ldmsd_sched.h"
#include "ldmsd_verbs.h"

/* ---- udata / udata_regex ------------------------------------------------------------ */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A local set by instance name (a reference), or NULL with the reply filled. */
static ldms_set_t local_set(struct ldmsd_req_ctxt *c, const char *name)
{
	ldms_set_t s = ldms_set_by_name(name);
	if (!s) {
		ldmsd_reply_err(c, -ENOENT, "%s: set '%s' not found", ldmsd_req_verb(c), name);
		return NULL;
	}
	if (ldms_set_is_remote(s)) {
		ldms_set_put(s);
		ldmsd_reply_err(c, -EPERM, "%s: set '%s' is a mirror of a remote set",
				ldmsd_req_verb(c), name);
		return NULL;
	}
	return s;
}

static int udata_handler(struct ldmsd_req_ctxt *c)
{
	const char *sn = ldmsd_req_attr(c, LDMSD_ATTR_INSTANCE);
	const char *mn = ldmsd_req_attr(c, LDMSD_ATTR_METRIC);
	const char *uv = ldmsd_req_attr(c, LDMSD_ATTR_UDATA);
	uint64_t udata;

	if (parse_u64(uv, &udata))
		return ldmsd_reply_err(
		    c, -EINVAL, "udata: attribute 'udata' must be an unsigned integer, not '%s'",
		    uv ? uv : "");
	ldms_set_t s = local_set(c, sn);
	if (!s)
		return c->reply->rc;
	int i = ldms_metric_by_name(s, mn);
	if (i < 0) {
		ldms_set_put(s);
		return ldmsd_reply_err(c, -ENOENT, "udata: metric '%s' not found in set '%s'", mn,
				       sn);
	}
	ldms_metric_user_data_set(s, i, udata);
	ldms_set_put(s);
	return 0;
}

static int udata_regex_handler(struct ldmsd_req_ctxt *c)
{
	const char *sn = ldmsd_req_attr(c, LDMSD_ATTR_INSTANCE);
	const char *rs = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *bs = ldmsd_req_attr(c, LDMSD_ATTR_BASE);
	const char *is = ldmsd_req_attr(c, LDMSD_ATTR_INCREMENT);
	uint64_t base, incr = 0;
	struct ldms_err err;
	regex_t re;

	if (parse_u64(bs, &base))
		return ldmsd_reply_err(c, -EINVAL,
				       "udata_regex: attribute 'base' must be an unsigned integer, "
				       "not '%s'",
				       bs ? bs : "");
	if (is && parse_u64(is, &incr))
		return ldmsd_reply_err(c, -EINVAL,
				       "udata_regex: attribute 'incr' must be an unsigned integer, "
				       "not '%s'",
				       is);
	ldms_err_clear(&err);
	if (ldms_regex_check(rs, &err) || ldms_regcomp(&re, rs, REG_EXTENDED | REG_NOSUB))
		return ldmsd_reply_err(c, -EINVAL,
				       "udata_regex: attribute 'regex': invalid '%s'%s%s", rs,
				       err.msg[0] ? ": " : "", err.msg);
	ldms_set_t s = local_set(c, sn);
	if (!s) {
		regfree(&re);
		return c->reply->rc;
	}
	uint32_t card = ldms_set_card_get(s), n = 0;
	for (uint32_t i = 0; i < card; i++) {
		if (regexec(&re, ldms_metric_name_get(s, (int)i), 0, NULL, 0))
			continue;
		ldms_metric_user_data_set(s, (int)i, base);
		base += incr;
		n++;
	}
	ldms_set_put(s);
	regfree(&re);
	if (!n)
		return ldmsd_reply_err(c, -ENOENT,
				       "udata_regex: no metric of set '%s' matches '%s'", sn, rs);
	return 0;
}

/* ---- oneshot -------------------------------------------------------------------------- */
int ldmsd_oneshot_time_parse(const char *s, uint64_t now_us, uint64_t *at_us)
{
	char *end;
	uint64_t sec;

	if (!s || !*s)
		return -EINVAL;
	if (!strncmp(s, "now", 3)) {
		uint64_t add = 0;
		if (s[3] == '+') {
			if (s[4] < '0' || s[4] > '9')
				return -EINVAL;
			errno = 0;
			add = strtoull(s + 4, &end, 10);
			if (errno || *end || add > 366ull * 86400)
				return -EINVAL;
		} else if (s[3]) {
			return -EINVAL;
		}
		*at_us = now_us + add * 1000000ull;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	sec = strtoull(s, &end, 10);
	if (errno || *end || sec > UINT64_MAX / 1000000ull)
		return -EINVAL;
	*at_us = sec * 1000000ull;
	return 0;
}

/* A pending oneshot: one scheduler task whose first grid point is the wanted time
 * (interval longer than the wait, so it runs once before being reaped). */
struct oneshot {
	struct oneshot *next;
	struct ldmsd *d;
	struct ldmsd_plugin_inst *pi; /* used (term refused) until it fired */
	struct ldmsd_sched_task *task;
	int fired; /* atomic */
};

static pthread_mutex_t oneshots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oneshot *oneshots;

static int sample_now(struct ldmsd_plugin_inst *pi)
{
	const struct ldmsd_plugin *api = ldmsd_plugin_inst_api(pi);
	int rc;
	ldmsd_plugin_inst_lock(pi);
	rc = api->sample ? api->sample(ldmsd_plugin_inst_handle(pi)) : -ENOSYS;
	ldmsd_plugin_inst_unlock(pi);
	return rc;
}

static void oneshot_fire(void *arg)
{
	struct oneshot *o = arg;
	/* a task not reaped yet may come round again: never touch pi twice */
	if (__atomic_load_n(&o->fired, __ATOMIC_SEQ_CST))
		return;
	int rc = sample_now(o->pi);
	if (rc)
		ldms_log(LDMS_LERROR, LDMSD_LOG, "oneshot: sample failed: %s",
			 strerror(rc < 0 ? -rc : rc));
	__atomic_store_n(&o->fired, 1, __ATOMIC_SEQ_CST);
	ldmsd_plugin_inst_unuse(o->pi); /* last touch of pi */
}

static void oneshot_free(struct oneshot *o)
{
	ldmsd_sched_task_stop(o->task);
	ldmsd_sched_task_free(o->task);
	if (!__atomic_load_n(&o->fired, __ATOMIC_SEQ_CST))
		ldmsd_plugin_inst_unuse(o->pi);
	free(o);
}

/* Frees fired entries of d (all = every entry of d). Not from a task callback. */
static void oneshots_reap(struct ldmsd *d, int all)
{
	struct oneshot **pp, *o, *done = NULL;
	pthread_mutex_lock(&oneshots_lock);
	for (pp = &oneshots; (o = *pp);) {
		if (o->d == d && (all || __atomic_load_n(&o->fired, __ATOMIC_SEQ_CST))) {
			*pp = o->next;
			o->next = done;
			done = o;
		} else {
			pp = &o->next;
		}
	}
	pthread_mutex_unlock(&oneshots_lock);
	while ((o = done)) {
		done = o->next;
		oneshot_free(o);
	}
}

static int oneshot_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *ts = ldmsd_req_attr(c, LDMSD_ATTR_TIME);
	uint64_t now = ldms_now_us(), at;

	oneshots_reap(c->d, 0);
	if (ldmsd_oneshot_time_parse(ts, now, &at))
		return ldmsd_reply_err(c, -EINVAL,
				       "oneshot: attribute 'time' must be 'now', 'now+SECONDS' or "
				       "seconds since the epoch, not '%s'",
				       ts ? ts : "");
	struct ldmsd_plugin_inst *pi = ldmsd_plugin_inst_find(c->d, name);
	if (!pi)
		return ldmsd_reply_err(c, -ENOENT, "oneshot: plugin instance '%s' is not loaded",
				       name);
	if (ldmsd_plugin_inst_api(pi)->type != LDMSD_PLUGIN_SAMPLER)
		return ldmsd_reply_err(c, -EINVAL, "oneshot: '%s' is not a sampler", name);
	/* the current second counts as now (an epoch time of this second is not late) */
	if (at / 1000000ull < now / 1000000ull)
		return ldmsd_reply_err(c, -EINVAL, "oneshot: time %" PRIu64 " has passed",
				       (uint64_t)(at / 1000000ull));
	if (at <= now) {
		int rc = sample_now(pi);
		if (rc)
			return ldmsd_reply_err(c, rc < 0 ? rc : -rc,
					       "oneshot %s: sample failed: %s", name,
					       strerror(rc < 0 ? -rc : rc));
		return 0;
	}
	if (!c->d->sched) {
		struct ldms_err e;
		ldms_err_clear(&e);
		c->d->sched = ldmsd_sched_new(&e);
		if (!c->d->sched)
			return ldmsd_reply_err(c, e.rc ? e.rc : -ENOMEM, "oneshot: %s", e.msg);
	}
	struct oneshot *o = calloc(1, sizeof(*o));
	if (!o)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	o->d = c->d;
	o->pi = pi;
	o->task = ldmsd_sched_task_new(c->d->sched, oneshot_fire, o);
	if (!o->task) {
		free(o);
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	ldmsd_plugin_inst_use(pi);
	/* grid k * interval + at: the first point after now is `at` itself */
	int64_t interval = (int64_t)(at - now) + 3600ll * 1000000;
	int rc = ldmsd_sched_task_start(o->task, interval, (int64_t)at % interval);
	if (rc) {
		ldmsd_sched_task_free(o->task);
		ldmsd_plugin_inst_unuse(pi);
		free(o);
		return ldmsd_reply_err(c, rc, "oneshot: %s", strerror(-rc));
	}
	pthread_mutex_lock(&oneshots_lock);
	o->next = oneshots;
	oneshots = o;
	pthread_mutex_unlock(&oneshots_lock);
	return 0;
}

/* ---- logrotate --------------------------------------------------------------------------- */
static int logrotate_handler(struct ldmsd_req_ctxt *c)
{
	const char *path = c->d->s.log_file;
	char newp[PATH_MAX];
	struct stat st;
	time_t now = time(NULL);
	int n;

	if (!path || !*path || !strcmp(path, "-"))
		return ldmsd_reply_err(c, -EINVAL,
				       "logrotate: the log messages go to the standard output");
	if (!strcmp(path, "syslog"))
		return ldmsd_reply_err(c, -EINVAL, "logrotate: the log messages go to syslog");
	/* upstream's name, "<path>-<epoch seconds>"; a second rotation within the
	 * same second gets ".N" rather than overwriting the first */
	n = snprintf(newp, sizeof(newp), "%s-%lld", path, (long long)now);
	for (int k = 1; n > 0 && (size_t)n < sizeof(newp) && !stat(newp, &st) && k < 1000; k++)
		n = snprintf(newp, sizeof(newp), "%s-%lld.%d", path, (long long)now, k);
	if (n < 0 || (size_t)n >= sizeof(newp))
		return ldmsd_reply_err(c, -ENAMETOOLONG, "logrotate: log file path too long");
	if (rename(path, newp))
		return ldmsd_reply_err(c, -errno, "logrotate: cannot rename '%s' to '%s': %s", path,
				       newp, strerror(errno));
	int rc = ldms_log_reopen();
	if (rc)
		return ldmsd_reply_err(c, rc, "logrotate: cannot open a new '%s': %s", path,
				       strerror(-rc));
	ldms_log(LDMS_LINFO, LDMSD_LOG, "log rotated; the previous log is %s", newp);
	return 0;
}

/* ---- example ------------------------------------------------------------------------------ */
/* Upstream's protocol example: a JSON list of the attributes it received, each as
 * {"attr_len","attr_id","attr_value"} (attr_len counts the value's NUL as on the wire). */
static int example_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_buf *b = ldmsd_reply_json(c);
	int rc = 0;
	for (size_t i = 0; !rc && i < c->req->count; i++) {
		const struct ldmsd_req_attr *a = &c->req->attrs[i];
		rc = ldmsd_buf_printf(b, "%s{\"attr_len\":%zu,\"attr_id\":%u,\"attr_value\":",
				      i ? "," : "[", strlen(a->value) + 1, a->id);
		if (!rc)
			rc = ldmsd_buf_json_str(b, a->value);
		if (!rc)
			rc = ldmsd_buf_append(b, "}", 1);
	}
	if (!rc)
		rc = ldmsd_buf_append(b, c->req->count ? "]" : "[]", c->req->count ? 1 : 2);
	return rc ? ldmsd_reply_err(c, rc, "out of memory") : 0;
}

void ldmsd_verbs_shutdown(struct ldmsd *d)
{
	oneshots_reap(d, 1);
	ldmsd_verbs_stream_shutdown(d);
	ldmsd_tstats_forget(d);
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_verbs_set_cmds[] = {
    {"udata", udata_handler, 0, ATTRS({"set", REQ}, {"metric", REQ}, {"udata", REQ})},
    {"udata_regex", udata_regex_handler, 0,
     ATTRS({"set", REQ}, {"regex", REQ}, {"base", REQ}, {"incr", 0})},
    {"oneshot", oneshot_handler, 0, ATTRS({"name", REQ}, {"time", REQ})},
    {"logrotate", logrotate_handler, 0, NULL},
    /* every attribute a client can name: example echoes whatever it gets */
    {"example", example_handler, 0,
     ATTRS({"name", 0}, {"interval", 0}, {"offset", 0}, {"regex", 0}, {"type", 0}, {"producer", 0},
	   {"instance", 0}, {"xprt", 0}, {"host", 0}, {"port", 0}, {"match", 0}, {"plugin", 0},
	   {"container", 0}, {"schema", 0}, {"metric", 0}, {"string", 0}, {"udata", 0}, {"base", 0},
	   {"incr", 0}, {"level", 0}, {"path", 0}, {"time", 0}, {"push", 0}, {"test", 0},
	   {"json", 0}, {"perm", 0}, {"auto_switch", 0}, {"peer_name", 0}, {"timeout_factor", 0},
	   {"auto_interval", 0}, {"uid", 0}, {"gid", 0}, {"stream", 0}, {"auth", 0}, {"reset", 0},
	   {"decomposition", 0}, {"rail", 0}, {"quota", 0}, {"rx_rate", 0}, {"summary", 0},
	   {"size", 0}, {"ip", 0}, {"ask_interval", 0}, {"ask_mark", 0}, {"ask_amount", 0},
	   {"reset_interval", 0}, {"exclusive_thread", 0}, {"message_tag", 0}, {"state", 0},
	   {"hist_recal", 0})},
    {NULL, NULL, 0, NULL},
};
