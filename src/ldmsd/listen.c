/* Authentication domains (auth_add, the DEFAULT domain from -a/-A/default_auth) and
 * listening endpoints (-x, listen): recorded during the priority pass, started once
 * the transport is initialised, or immediately when the daemon is already running.
 * Control messages arriving on a listener are handed to the daemon's ctrl hook. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldmsd/ldmsd_plugin.h>

#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd.h"

#define QUOTA_UNSET INT64_MIN

/* ---- authentication domains ------------------------------------------------------------ */
struct ldmsd_auth_dom *ldmsd_auth_dom_find(struct ldmsd *d, const char *name)
{
	struct ldmsd_auth_dom *a;
	if (!name || !*name)
		name = LDMSD_DEFAULT_AUTH_DOM;
	TAILQ_FOREACH(a, &d->auth_doms, link)
	if (!strcmp(a->name, name))
		return a;
	return NULL;
}

int ldmsd_auth_dom_add(struct ldmsd *d, const char *name, const char *plugin, int argc,
		       char *const kv[], struct ldms_err *err)
{
	if (ldmsd_auth_dom_find(d, name))
		return ldms_err_set(err, -EEXIST, "authentication domain '%s' already exists",
				    name);
	struct ldmsd_auth_dom *a = calloc(1, sizeof(*a));
	if (!a || !(a->name = strdup(name))) {
		free(a);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	int rc = ldms_auth_cfg_init(&a->cfg, plugin, argc, kv, err);
	if (rc) {
		if (!err || !err->msg[0])
			ldms_err_set(err, rc, "auth plugin '%s': %s", plugin, strerror(-rc));
		free(a->name);
		free(a);
		return rc;
	}
	TAILQ_INSERT_TAIL(&d->auth_doms, a, link);
	return 0;
}

void ldmsd_auth_doms_free(struct ldmsd *d)
{
	struct ldmsd_auth_dom *a;
	while ((a = TAILQ_FIRST(&d->auth_doms))) {
		TAILQ_REMOVE(&d->auth_doms, a, link);
		ldms_auth_cfg_free(&a->cfg);
		free(a->name);
		free(a);
	}
}

/* ---- listeners ----------------------------------------------------------------------------- */
static void listen_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	/* the daemon, not the listener: accepted connections outlive their listener */
	struct ldmsd *d = arg;
	if (ldmsd_agg_listen_event(d, x, e)) /* passive producers, advertisements */
		return;
	switch (e->type) {
	case LDMS_XPRT_EVENT_RECV:
		if (d->ctrl_recv)
			d->ctrl_recv(d, x, e->data, e->data_len);
		else
			ldms_log(LDMS_LDEBUG, LDMSD_LOG,
				 "control message ignored: in-band configuration is not "
				 "available");
		break;
	case LDMS_XPRT_EVENT_DISCONNECTED:
		if (d->ctrl_disconnect)
			d->ctrl_disconnect(d, x);
		break;
	default:
		break;
	}
}

static int listen_start(struct ldmsd *d, struct ldmsd_listen *l, struct ldms_err *err)
{
	struct ldmsd_auth_dom *a = ldmsd_auth_dom_find(d, l->auth);
	if (!a)
		return ldms_err_set(err, -ENOENT, "listen: authentication domain '%s' not found",
				    l->auth ? l->auth : LDMSD_DEFAULT_AUTH_DOM);
	struct ldms_xprt_opts opts = {
	    .recv_quota = l->quota == QUOTA_UNSET ? d->s.default_quota : l->quota,
	    .rate_limit = l->rx_rate,
	    .msg_enabled = d->s.msg_enabled,
	};
	l->l = ldms_listen(l->xprt, l->host, l->port, &a->cfg, &opts, listen_cb, d, err);
	if (!l->l) {
		int rc = err && err->rc ? err->rc : -EIO;
		if (err && !err->msg[0])
			ldms_err_set(err, rc, "listen on %s:%s failed", l->xprt, l->port);
		return rc;
	}
	int port = ldms_listener_port(l->l);
	if (port > 0) {
		char pb[16];
		snprintf(pb, sizeof(pb), "%d", port);
		char *np = strdup(pb);
		if (np) {
			free(l->port);
			l->port = np;
		}
	}
	ldms_log(LDMS_LINFO, LDMSD_LOG,
		 "Listening on %s:%s using `%s` transport and `%s` authentication", l->xprt,
		 l->port, l->xprt, a->cfg.plugin);
	return 0;
}

static void listen_free(struct ldmsd_listen *l)
{
	if (l->l)
		ldms_listener_close(l->l);
	free(l->xprt);
	free(l->port);
	free(l->host);
	free(l->auth);
	free(l);
}

static int port_ok(const char *p)
{
	char *end;
	long v = strtol(p, &end, 10);
	return *p && !*end && v >= 0 && v <= 65535;
}

int ldmsd_listen_add(struct ldmsd *d, const char *xprt, const char *port, const char *host,
		     const char *auth, int64_t quota, int64_t rx_rate, struct ldms_err *err)
{
	struct ldmsd_listen *l;
	if (!xprt || strcmp(xprt, "sock"))
		return ldms_err_set(err, -EPROTONOSUPPORT,
				    "listen: transport '%s' is not supported (ldms-c has 'sock')",
				    xprt ? xprt : "");
	if (!port || !*port)
		port = LDMSD_DEFAULT_PORT;
	if (!port_ok(port))
		return ldms_err_set(err, -EINVAL, "listen: invalid port '%s'", port);
	if (host && !*host)
		host = NULL;
	if (auth && *auth && !ldmsd_auth_dom_find(d, auth) && strcmp(auth, LDMSD_DEFAULT_AUTH_DOM))
		return ldms_err_set(
		    err, -ENOENT,
		    "listen: authentication domain '%s' not found (auth_add it first)", auth);
	TAILQ_FOREACH(l, &d->listeners, link)
	{
		if (!strcmp(l->xprt, xprt) && !strcmp(l->port, port) &&
		    !strcmp(l->host ? l->host : "", host ? host : ""))
			return ldms_err_set(err, -EEXIST, "listen: %s:%s%s%s is already configured",
					    xprt, port, host ? ":" : "", host ? host : "");
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	l->d = d;
	l->quota = quota;
	l->rx_rate = rx_rate;
	l->xprt = strdup(xprt);
	l->port = strdup(port);
	l->host = host ? strdup(host) : NULL;
	l->auth = auth && *auth ? strdup(auth) : NULL;
	if (!l->xprt || !l->port || (host && !l->host) || (auth && *auth && !l->auth)) {
		listen_free(l);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	if (d->state == LDMSD_STATE_RUNNING) {
		int rc = listen_start(d, l, err);
		if (rc) {
			listen_free(l);
			return rc;
		}
	}
	TAILQ_INSERT_TAIL(&d->listeners, l, link);
	return 0;
}

int ldmsd_listen_add_spec(struct ldmsd *d, const char *spec, struct ldms_err *err)
{
	char *copy = strdup(spec);
	if (!copy)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	char *port = strchr(copy, ':');
	char *host = port ? strchr(port + 1, ':') : NULL;
	int rc;
	if (!port || port == copy || !port[1] || port[1] == ':' || (host && !host[1])) {
		rc = ldms_err_set(err, -EINVAL, "-x: expected XPRT:PORT[:HOST], got '%s'", spec);
	} else {
		*port++ = '\0';
		if (host)
			*host++ = '\0';
		rc = ldmsd_listen_add(d, copy, port, host, NULL, QUOTA_UNSET, -1, err);
	}
	free(copy);
	return rc;
}

int ldmsd_listen_start_all(struct ldmsd *d, struct ldms_err *err)
{
	struct ldmsd_listen *l;
	TAILQ_FOREACH(l, &d->listeners, link)
	{
		if (l->l)
			continue;
		int rc = listen_start(d, l, err);
		if (rc)
			return rc;
	}
	return 0;
}

void ldmsd_listen_close_all(struct ldmsd *d)
{
	struct ldmsd_listen *l;
	while ((l = TAILQ_FIRST(&d->listeners))) {
		TAILQ_REMOVE(&d->listeners, l, link);
		listen_free(l);
	}
}

int ldmsd_listen_count(struct ldmsd *d)
{
	int n = 0;
	struct ldmsd_listen *l;
	TAILQ_FOREACH(l, &d->listeners, link)
	n++;
	return n;
}

/* ---- commands ----------------------------------------------------------------------------------
 */
static int size_attr(struct ldmsd_req_ctxt *c, uint32_t id, int64_t dflt, int64_t *out)
{
	const char *v = ldmsd_req_attr(c, id);
	*out = dflt;
	if (!v || !*v)
		return 0;
	if (ldms_parse_size(v, out) || *out < -1)
		return ldmsd_reply_err(c, -EINVAL, "%s: invalid %s '%s'", ldmsd_req_verb(c),
				       ldms_ctrl_attr_name(id), v);
	return 0;
}

static int listen_handler(struct ldmsd_req_ctxt *c)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	int64_t quota, rx_rate;
	if (size_attr(c, LDMSD_ATTR_QUOTA, QUOTA_UNSET, &quota) ||
	    size_attr(c, LDMSD_ATTR_RX_RATE, -1, &rx_rate))
		return c->reply->rc;
	const char *extra = ldmsd_req_freeform(c);
	if (extra && *extra)
		ldms_log(LDMS_LWARN, LDMSD_LOG, "listen: ignoring unsupported attributes '%s'",
			 extra);
	int rc =
	    ldmsd_listen_add(c->d, ldmsd_req_attr(c, LDMSD_ATTR_XPRT),
			     ldmsd_req_attr(c, LDMSD_ATTR_PORT), ldmsd_req_attr(c, LDMSD_ATTR_HOST),
			     ldmsd_req_attr(c, LDMSD_ATTR_AUTH), quota, rx_rate, &e);
	return rc ? ldmsd_reply_err(c, rc, "%s", e.msg) : 0;
}

static int auth_add_handler(struct ldmsd_req_ctxt *c)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *plugin = ldmsd_req_attr(c, LDMSD_ATTR_PLUGIN);
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "auth_add: 'name' is empty");
	if (!strcmp(name, LDMSD_DEFAULT_AUTH_DOM))
		return ldmsd_reply_err(c, -EEXIST,
				       "auth_add: '%s' is reserved for the default domain (use "
				       "default_auth)",
				       name);
	if (!plugin || !*plugin)
		plugin = name;
	struct ldmsd_attrs av;
	if (ldmsd_attrs_parse(ldmsd_req_freeform(c), &av))
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	char *kv[LDMS_AUTH_ARGS_MAX];
	int n = 0, rc = 0;
	if (av.count > LDMS_AUTH_ARGS_MAX) {
		rc = ldmsd_reply_err(c, -E2BIG, "auth_add: more than %d plugin arguments",
				     LDMS_AUTH_ARGS_MAX);
		goto out;
	}
	for (size_t i = 0; i < av.count; i++) {
		if (asprintf(&kv[n], "%s=%s", av.list[i].name, av.list[i].value) < 0) {
			rc = ldmsd_reply_err(c, -ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	rc = ldmsd_auth_dom_add(c->d, name, plugin, n, kv, &e);
	if (rc)
		ldmsd_reply_err(c, rc, "auth_add %s: %s", name, e.msg);
out:
	for (int i = 0; i < n; i++)
		free(kv[i]);
	ldmsd_attrs_free(&av);
	return rc;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_listen_cmds[] = {
    {"listen", listen_handler, 0,
     ATTRS({"xprt", REQ}, {"port", 0}, {"host", 0}, {"auth", 0}, {"quota", 0}, {"rx_rate", 0})},
    {"auth_add", auth_add_handler, 0, ATTRS({"name", REQ}, {"plugin", 0})},
    {NULL, NULL, 0, NULL},
};
