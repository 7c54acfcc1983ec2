/* ldmsd commands of the quota group (qgroup-streams.md A.3): qgroup_config,
 * qgroup_member_add/del, qgroup_start/stop and qgroup_info over libldms'
 * process-wide qgroup. Sizes take b/k/m/g/t suffixes (ldms-c rejects what it
 * cannot parse), times a unit (us/ms/s/m/h/d) and must be positive. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_qgroup.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"

static int bytes_val(struct ldmsd_req_ctxt *c, const char *name, const char *s, uint64_t *v)
{
	int64_t n;

	if (ldms_parse_size(s, &n))
		return ldmsd_reply_err(c, -EINVAL, "qgroup_config: invalid %s '%s'", name, s);
	*v = n < 0 ? LDMS_QGROUP_UNLIMITED : (uint64_t)n;
	return 0;
}

static int time_val(struct ldmsd_req_ctxt *c, const char *name, const char *s, uint64_t *v)
{
	int64_t us;

	if (ldms_parse_time_us(s, &us) || us <= 0)
		return ldmsd_reply_err(c, -EINVAL, "qgroup_config: Bad time format for %s: '%s'",
				       name, s);
	*v = (uint64_t)us;
	return 0;
}

static int busy(struct ldmsd_req_ctxt *c)
{
	return ldmsd_reply_err(c, -EBUSY, "%s: the qgroup is not stopped (%s)", ldmsd_req_verb(c),
			       ldms_qgroup_state_str(ldms_qgroup_state_get()));
}

static int qgroup_config_handler(struct ldmsd_req_ctxt *c)
{
	/* upstream's order; the first failure stops, earlier values stay */
	static const struct {
		const char *name;
		int is_time;
		unsigned bit;
	} order[] = {
	    {"quota", 0, LDMS_QGROUP_CFG_QUOTA},
	    {"reset_interval", 1, LDMS_QGROUP_CFG_RESET_USEC},
	    {"ask_interval", 1, LDMS_QGROUP_CFG_ASK_USEC},
	    {"ask_amount", 0, LDMS_QGROUP_CFG_ASK_AMOUNT},
	    {"ask_mark", 0, LDMS_QGROUP_CFG_ASK_MARK},
	};
	struct ldms_qgroup_cfg cfg;
	int rc;

	if (ldms_qgroup_state_get() != LDMS_QGROUP_STOPPED)
		return busy(c);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *s = ldmsd_req_attr_n(c, order[i].name);
		uint64_t v = 0;
		if (!s)
			continue;
		rc = order[i].is_time ? time_val(c, order[i].name, s, &v)
				      : bytes_val(c, order[i].name, s, &v);
		if (rc)
			return rc;
		memset(&cfg, 0, sizeof(cfg));
		cfg.quota = cfg.ask_mark = cfg.ask_amount = cfg.ask_usec = cfg.reset_usec = v;
		rc = ldms_qgroup_config(&cfg, order[i].bit);
		if (rc == -EBUSY)
			return busy(c);
		if (rc)
			return ldmsd_reply_err(c, rc, "qgroup_config: %s: %s", order[i].name,
					       strerror(-rc));
	}
	return 0;
}

static int qgroup_member_add_handler(struct ldmsd_req_ctxt *c)
{
	const char *xprt = ldmsd_req_attr(c, LDMSD_ATTR_XPRT);
	const char *host = ldmsd_req_attr(c, LDMSD_ATTR_HOST);
	const char *port = ldmsd_req_attr(c, LDMSD_ATTR_PORT);
	const char *auth = ldmsd_req_attr(c, LDMSD_ATTR_AUTH);
	struct ldmsd_auth_dom *dom;
	int rc;

	if (!xprt || !*xprt)
		return ldmsd_reply_err(c, -EINVAL, "Missing 'xprt' attribute");
	if (!host || !*host)
		return ldmsd_reply_err(c, -EINVAL, "Missing 'host' attribute");
	if (!port || !*port)
		port = "411";
	dom = ldmsd_auth_dom_find(c->d, auth);
	if (!dom)
		return ldmsd_reply_err(c, -ENOENT, "qgroup_member_add: unknown auth domain '%s'",
				       auth ? auth : LDMSD_DEFAULT_AUTH_DOM);
	rc = ldms_qgroup_member_add(xprt, host, port, &dom->cfg);
	switch (rc) {
	case 0:
		return 0;
	case -EEXIST:
		return ldmsd_reply_err(c, rc, "member '%s:%s' already existed", host, port);
	case -EBUSY:
		return busy(c);
	case -ENAMETOOLONG:
		return ldmsd_reply_err(
		    c, rc,
		    "qgroup_member_add: host (255), port or xprt (31 characters) "
		    "too long");
	default:
		return ldmsd_reply_err(c, rc, "qgroup_member_add: %s", strerror(-rc));
	}
}

static int qgroup_member_del_handler(struct ldmsd_req_ctxt *c)
{
	const char *host = ldmsd_req_attr(c, LDMSD_ATTR_HOST);
	const char *port = ldmsd_req_attr(c, LDMSD_ATTR_PORT);
	int rc;

	if (!host || !*host)
		return ldmsd_reply_err(c, -EINVAL, "Missing 'host' attribute");
	if (!port || !*port)
		port = "411";
	rc = ldms_qgroup_member_del(host, port);
	if (rc == -ENOENT)
		return ldmsd_reply_err(c, rc, "member '%s:%s' not found", host, port);
	if (rc == -EBUSY)
		return busy(c);
	if (rc)
		return ldmsd_reply_err(c, rc, "qgroup_member_del: %s", strerror(-rc));
	return 0;
}

static int qgroup_start_handler(struct ldmsd_req_ctxt *c)
{
	int rc = ldms_qgroup_start();

	if (rc == -EBUSY)
		return busy(c);
	if (rc == -EINVAL)
		return ldmsd_reply_err(
		    c, rc,
		    "qgroup_start: quota, ask_mark, ask_amount, ask_interval and "
		    "reset_interval must all be configured (non-zero)");
	if (rc)
		return ldmsd_reply_err(c, rc, "qgroup_start: %s", strerror(-rc));
	return 0;
}

static int qgroup_stop_handler(struct ldmsd_req_ctxt *c)
{
	int rc = ldms_qgroup_stop();

	if (rc == -EINVAL)
		return ldmsd_reply_err(c, rc, "qgroup_stop: the qgroup is not running");
	if (rc)
		return ldmsd_reply_err(c, rc, "qgroup_stop: %s", strerror(-rc));
	return 0;
}

static int qgroup_info_handler(struct ldmsd_req_ctxt *c)
{
	char *json = NULL;
	int rc = ldms_qgroup_info_json(&json);

	if (rc)
		return ldmsd_reply_err(c, rc, "qgroup_info: %s", strerror(-rc));
	ldmsd_buf_append(ldmsd_reply_json(c), json, strlen(json));
	free(json);
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_qgroup_cmds[] = {
    {"qgroup_config", qgroup_config_handler, 0,
     ATTRS({"quota", 0}, {"ask_interval", 0}, {"ask_amount", 0}, {"ask_mark", 0},
	   {"reset_interval", 0})},
    {"qgroup_member_add", qgroup_member_add_handler, 0,
     ATTRS({"xprt", REQ}, {"host", REQ}, {"port", 0}, {"auth", 0})},
    {"qgroup_member_del", qgroup_member_del_handler, 0, ATTRS({"host", REQ}, {"port", 0})},
    {"qgroup_start", qgroup_start_handler, 0, NULL},
    {"qgroup_stop", qgroup_stop_handler, 0, NULL},
    {"qgroup_info", qgroup_info_handler, 0, NULL},
    {NULL, NULL, 0, NULL},
};
