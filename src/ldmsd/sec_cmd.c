/* Security of the daemon: the per-command authorisation of network requests that
 * the dispatcher applies (§6.6.6: execute bits per request id, checked with the
 * peer's credential against the daemon's own uid/gid, start-up gating) and
 * set_sec_mod, which changes owner/group/mode of existing local sets by regex. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_sec.h"

static const char *req_name(const struct ldmsd_req *r)
{
	if (r->verb && r->verb[0])
		return r->verb;
	const char *n = ldms_ctrl_cmd_name(r->id);
	return n ? n : "?";
}

int ldmsd_req_authorize(const struct ldmsd *d, const struct ldmsd_req *r, uid_t daemon_uid,
			gid_t daemon_gid, char *msg, size_t len)
{
	if (r->origin.kind != LDMSD_ORIGIN_NET)
		return 0;
	uint32_t fl = ldms_ctrl_cmd_perm(r->id);
	if (ldms_access_check(r->origin.uid, r->origin.gid, daemon_uid, daemon_gid,
			      fl & LDMS_CTRL_PERM_MODE_MASK, 1)) {
		snprintf(msg, len, "permission denied for command '%s'", req_name(r));
		return -EACCES;
	}
	if ((d->state != LDMSD_STATE_RUNNING || !d->inband) && !(fl & LDMS_CTRL_PERM_STARTUP_OK)) {
		snprintf(msg, len, "the daemon is still starting up");
		return -EBUSY;
	}
	return 0;
}

int ldmsd_perm_parse(const char *s, uint32_t *perm)
{
	uint32_t v = 0;
	if (!s || !*s || strlen(s) > 4)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -EINVAL;
		v = v * 8 + (uint32_t)(*p - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*perm = v;
	return 0;
}

/* ---- set_sec_mod -------------------------------------------------------------------------- */
struct sec_mod {
	regex_t re;
	int set_uid, set_gid, set_perm;
	uid_t uid;
	gid_t gid;
	uint32_t perm;
	size_t matched, skipped;
};

static int sec_mod_cb(ldms_set_t s, void *arg)
{
	struct sec_mod *m = arg;
	if (regexec(&m->re, ldms_set_instance_name_get(s), 0, NULL, 0))
		return 0;
	if (ldms_set_is_remote(s)) {
		/* a mirror's header is rewritten from its origin at every meta update */
		m->skipped++;
		return 0;
	}
	m->matched++;
	if (m->set_uid)
		ldms_set_uid_set(s, m->uid);
	if (m->set_gid)
		ldms_set_gid_set(s, m->gid);
	if (m->set_perm)
		ldms_set_perm_set(s, m->perm);
	return 0;
}

static int set_sec_mod_handler(struct ldmsd_req_ctxt *c)
{
	const char *rx = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *u = ldmsd_req_attr(c, LDMSD_ATTR_UID);
	const char *g = ldmsd_req_attr(c, LDMSD_ATTR_GID);
	const char *p = ldmsd_req_attr(c, LDMSD_ATTR_PERM);
	struct sec_mod m = {0};
	if (!rx || !*rx)
		return ldmsd_reply_err(c, -EINVAL, "set_sec_mod: 'regex' is empty");
	if (!u && !g && !p)
		return ldmsd_reply_err(c, -EINVAL,
				       "set_sec_mod: give at least one of uid, gid and perm");
	if (u && ldms_parse_uid(u, &m.uid))
		return ldmsd_reply_err(c, -EINVAL, "set_sec_mod: unknown user '%s'", u);
	if (g && ldms_parse_gid(g, &m.gid))
		return ldmsd_reply_err(c, -EINVAL, "set_sec_mod: unknown group '%s'", g);
	if (p && ldmsd_perm_parse(p, &m.perm))
		return ldmsd_reply_err(c, -EINVAL,
				       "set_sec_mod: perm must be octal digits up to 0777 (e.g. "
				       "0640), not '%s'",
				       p);
	m.set_uid = u != NULL;
	m.set_gid = g != NULL;
	m.set_perm = p != NULL;
	int rc = ldms_regcomp(&m.re, rx, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char eb[200];
		regerror(rc, &m.re, eb, sizeof(eb));
		return ldmsd_reply_err(c, -EINVAL, "set_sec_mod: bad regex '%s': %s", rx, eb);
	}
	ldms_set_registry_foreach(sec_mod_cb, &m);
	regfree(&m.re);
	ldms_log(LDMS_LINFO, LDMSD_LOG, "set_sec_mod regex=%s: %zu set(s) changed%s", rx, m.matched,
		 m.skipped ? ", mirror sets left as their origin has them" : "");
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_sec_cmds[] = {
    {"set_sec_mod", set_sec_mod_handler, 0,
     ATTRS({"regex", REQ}, {"uid", 0}, {"gid", 0}, {"perm", 0})},
    {NULL, NULL, 0, NULL},
};
