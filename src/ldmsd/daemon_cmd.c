/* Daemon set-up commands (ldms-protocol.md §1.4 "Daemon set-up"): env, option,
 * log_level, log_file, set_memory, pid_file, banner, daemon_name, worker_threads,
 * default_auth, default_quota, publish_kernel, metric_sets_default_authz and the
 * message-service switches. Most are start-up settings where the first one wins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldms/ldms_msg.h>
#include <ldms/ldms_set.h>

#include "ldmsd_cmd.h"
#include "ldmsd.h"
#include "ldmsd_options.h"
#include "ldmsd_stats.h"

/* "file:line" / "peer host:port" / "ldmsd", for "first setting wins" messages. */
static const char *origin_str(struct ldmsd_req_ctxt *c, char *buf, size_t len)
{
	const struct ldmsd_origin *o = &c->req->origin;
	switch (o->kind) {
	case LDMSD_ORIGIN_FILE:
		snprintf(buf, len, "%s:%d", o->file, o->line);
		break;
	case LDMSD_ORIGIN_NET:
		snprintf(buf, len, "peer %s", o->peer);
		break;
	default:
		snprintf(buf, len, "ldmsd");
		break;
	}
	return buf;
}

static int reply_from_err(struct ldmsd_req_ctxt *c, int rc, const struct ldms_err *e)
{
	return ldmsd_reply_err(c, rc, "%s", e->msg[0] ? e->msg : strerror(-rc));
}

static int setting_cmd(struct ldmsd_req_ctxt *c, enum ldmsd_setting k, uint32_t attr)
{
	char ob[300];
	struct ldms_err e;
	ldms_err_clear(&e);
	const char *v = ldmsd_req_attr(c, attr);
	int rc = ldmsd_setting_set(c->d, k, v, origin_str(c, ob, sizeof(ob)), &e);
	return rc ? reply_from_err(c, rc, &e) : 0;
}

static int env_handler(struct ldmsd_req_ctxt *c)
{
	const char *s = ldmsd_req_freeform(c);
	if (!s || !*s)
		return ldmsd_reply_err(c, -EINVAL, "env: expected NAME=VALUE ...");
	char *copy = strdup(s);
	if (!copy)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	/* names set by this command: a repeated name keeps its first value */
	char *seen[64];
	int n_seen = 0, rc = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(t, '=');
		if (!eq || eq == t) {
			rc = ldmsd_reply_err(c, -EINVAL, "env: expected NAME=VALUE, got '%s'", t);
			break;
		}
		*eq = '\0';
		const char *v = eq + 1;
		size_t vl = strlen(v);
		ldmsd_value_unquote(&v, &vl);
		int dup = 0;
		for (int i = 0; i < n_seen; i++)
			dup |= !strcmp(seen[i], t);
		if (dup)
			continue;
		if (n_seen < 64)
			seen[n_seen++] = t;
		char *val = strndup(v, vl);
		int e = !val ? ENOMEM : setenv(t, val, 1) ? errno : 0;
		free(val);
		if (e) {
			rc = ldmsd_reply_err(c, -e, "env: cannot set '%s': %s", t, strerror(e));
			break;
		}
	}
	free(copy);
	return rc;
}

static int option_handler(struct ldmsd_req_ctxt *c)
{
	char ob[300];
	struct ldms_err e;
	ldms_err_clear(&e);
	const char *s = ldmsd_req_freeform(c);
	if (!s || !*s)
		return ldmsd_reply_err(c, -EINVAL, "option: no options given");
	int rc = ldmsd_options_parse_str(c->d, s, origin_str(c, ob, sizeof(ob)), &e);
	return rc ? reply_from_err(c, rc, &e) : 0;
}

/* log_level (ldms-protocol.md §1.4): a single level name = that level and above, a
 * comma list = exactly those levels, "default" = back to the default (ERROR and
 * above for the default logger, the default logger's set for a named one). */
static int log_level_handler(struct ldmsd_req_ctxt *c)
{
	const char *level = ldmsd_req_attr(c, LDMSD_ATTR_LEVEL);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *regex = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	int test = ldmsd_req_attr(c, LDMSD_ATTR_TEST) != NULL;
	int mask;
	struct ldms_err e;
	ldms_err_clear(&e);
	if (ldms_log_mask_parse(level, &mask))
		return ldmsd_reply_err(c, -EINVAL,
				       "log_level: unknown level '%s' (DEBUG, INFO, WARNING, "
				       "ERROR, CRITICAL, QUIET, default, or a comma list)",
				       level);
	if ((name && *name) || (regex && *regex)) {
		int rc = ldmsd_log_level_apply(c->d, name, regex, mask, test, &e);
		return rc ? reply_from_err(c, rc, &e) : 0;
	}
	if (c->d->state == LDMSD_STATE_STARTUP) {
		char ob[300];
		int rc = ldmsd_setting_set(c->d, LDMSD_S_LOG_LEVEL, level,
					   origin_str(c, ob, sizeof(ob)), &e);
		if (rc)
			return reply_from_err(c, rc, &e);
	} else {
		ldms_log_mask_set(mask);
		c->d->s.log_level = ldms_log_level_get();
	}
	if (test)
		for (int l = LDMS_LDEBUG; l < LDMS_LQUIET; l++)
			ldms_log(l, LDMSD_LOG, "log_level test: a %s message",
				 ldms_log_level_name(l));
	return 0;
}

static int log_file_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_LOG_FILE, LDMSD_ATTR_PATH);
}

static int set_memory_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_SET_MEMORY, LDMSD_ATTR_SIZE);
}

static int pid_file_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_PID_FILE, LDMSD_ATTR_PATH);
}

static int banner_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_BANNER, LDMSD_ATTR_LEVEL);
}

static int daemon_name_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_DAEMON_NAME, LDMSD_ATTR_NAME);
}

static int worker_threads_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_WORKER_THREADS, LDMSD_ATTR_SIZE);
}

static int default_quota_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_DEFAULT_QUOTA, LDMSD_ATTR_QUOTA);
}

static int publish_kernel_handler(struct ldmsd_req_ctxt *c)
{
	return setting_cmd(c, LDMSD_S_PUBLISH_KERNEL, LDMSD_ATTR_PATH);
}

static int default_auth_handler(struct ldmsd_req_ctxt *c)
{
	char ob[300];
	struct ldms_err e;
	ldms_err_clear(&e);
	struct ldmsd *d = c->d;
	const char *plugin = ldmsd_req_attr(c, LDMSD_ATTR_PLUGIN);
	const char *args = ldmsd_req_freeform(c);
	if (!plugin || !*plugin)
		plugin = "none";
	if (d->state == LDMSD_STATE_STARTUP && d->s.origin[LDMSD_S_DEFAULT_AUTH][0]) {
		ldms_log(LDMS_LINFO, LDMSD_LOG, "default_auth already set by %s; ignoring %s",
			 d->s.origin[LDMSD_S_DEFAULT_AUTH], origin_str(c, ob, sizeof(ob)));
		return 0;
	}
	int rc =
	    ldmsd_setting_set(d, LDMSD_S_DEFAULT_AUTH, plugin, origin_str(c, ob, sizeof(ob)), &e);
	if (rc)
		return reply_from_err(c, rc, &e);
	struct ldmsd_attrs av;
	if (ldmsd_attrs_parse(args, &av))
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < av.count && !rc; i++) {
		char kv[1024];
		snprintf(kv, sizeof(kv), "%s=%s", av.list[i].name, av.list[i].value);
		rc = ldmsd_setting_auth_arg(d, kv, &e);
	}
	ldmsd_attrs_free(&av);
	return rc ? reply_from_err(c, rc, &e) : 0;
}

static int default_authz_handler(struct ldmsd_req_ctxt *c)
{
	uid_t uid;
	gid_t gid;
	uint32_t perm;
	ldms_set_default_authz_get(&uid, &gid, &perm);
	const char *u = ldmsd_req_attr(c, LDMSD_ATTR_UID);
	const char *g = ldmsd_req_attr(c, LDMSD_ATTR_GID);
	const char *p = ldmsd_req_attr(c, LDMSD_ATTR_PERM);
	if (u && ldms_parse_uid(u, &uid))
		return ldmsd_reply_err(c, -EINVAL, "metric_sets_default_authz: unknown user '%s'",
				       u);
	if (g && ldms_parse_gid(g, &gid))
		return ldmsd_reply_err(c, -EINVAL, "metric_sets_default_authz: unknown group '%s'",
				       g);
	if (p && ldms_parse_perm_octal(p, &perm))
		return ldmsd_reply_err(c, -EINVAL,
				       "metric_sets_default_authz: perm must be octal digits "
				       "(e.g. 0440), not '%s'",
				       p);
	if (u || g || p)
		ldms_set_default_authz_set(uid, gid, perm);
	ldmsd_reply_msg(c, "defaults: uid=%u gid=%u perm=%#o", (unsigned)uid, (unsigned)gid, perm);
	return 0;
}

static int msg_enable_handler(struct ldmsd_req_ctxt *c)
{
	c->d->s.msg_enabled = c->req->id == LDMSD_MSG_ENABLE_REQ;
	if (c->d->s.msg_enabled)
		ldms_msg_enable();
	else
		ldms_msg_disable();
	struct ldmsd_listen *l;
	TAILQ_FOREACH(l, &c->d->listeners, link)
	{
		ldms_msg_listener_advertise(l->l, c->d->s.msg_enabled);
	}
	return 0;
}

static int stream_enable_handler(struct ldmsd_req_ctxt *c)
{
	c->d->s.stream_enabled = c->req->id == LDMSD_STREAM_ENABLE_REQ;
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_daemon_cmds[] = {
    {"env", env_handler, 0, NULL},
    {"option", option_handler, LDMSD_CMD_F_RAW, NULL},
    {"log_level", log_level_handler, 0,
     ATTRS({"level", REQ}, {"name", 0}, {"regex", 0}, {"test", 0})},
    {"log_file", log_file_handler, 0, ATTRS({"path", REQ})},
    {"set_memory", set_memory_handler, 0, ATTRS({"size", REQ})},
    {"pid_file", pid_file_handler, 0, ATTRS({"path", REQ})},
    {"banner", banner_handler, 0, ATTRS({"mode", REQ})},
    {"daemon_name", daemon_name_handler, 0, ATTRS({"name", REQ})},
    {"worker_threads", worker_threads_handler, 0, ATTRS({"num", REQ})},
    {"default_quota", default_quota_handler, 0, ATTRS({"quota", REQ})},
    {"publish_kernel", publish_kernel_handler, 0, ATTRS({"path", REQ})},
    {"default_auth", default_auth_handler, 0, ATTRS({"plugin", 0})},
    {"metric_sets_default_authz", default_authz_handler, 0,
     ATTRS({"uid", 0}, {"gid", 0}, {"perm", 0})},
    {"msg_enable", msg_enable_handler, 0, NULL},
    {"msg_disable", msg_enable_handler, 0, NULL},
    {"stream_enable", stream_enable_handler, 0, NULL},
    {"stream_disable", stream_enable_handler, 0, NULL},
    {NULL, NULL, 0, NULL},
};
