/* The network side of the one command path: ldmsd_request records arriving on a
 * listener are reassembled per connection, turned into the same struct ldmsd_req a
 * config line becomes (origin = the peer and its credential), executed by
 * ldmsd_cmd_exec and answered with the reply's errno and text/JSON. Also the few
 * requests that only make sense on the wire: CFG_CNTR, version, daemon_status. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_ctrl.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_options.h"

#define CTRL_LOG "ctrl"

struct ctrl_conn {
	struct ldms_ctrl_reasm *reasm;
};

static int xprt_send(void *arg, const void *rec, size_t len)
{
	return ldms_xprt_send((ldms_t)arg, rec, len);
}

static void reply_send(ldms_t x, uint32_t msg_no, const struct ldmsd_reply *rep)
{
	size_t max = ldms_xprt_msg_max(x);
	uint32_t err = (uint32_t)(rep->rc < 0 ? -rep->rc : rep->rc);
	int rc;
	if (rep->json.len)
		rc = ldms_ctrl_send_rsp_json(msg_no, err, rep->json.s, rep->json.len, max,
					     xprt_send, x);
	else
		rc = ldms_ctrl_send_rsp_str(msg_no, err, rep->msg.len ? rep->msg.s : NULL, max,
					    xprt_send, x);
	if (rc)
		ldms_log(LDMS_LDEBUG, CTRL_LOG, "cannot send the reply to request %u: %s", msg_no,
			 strerror(rc < 0 ? -rc : rc));
}

/* Builds the daemon's request from a decoded control message. */
static struct ldmsd_req *req_from_msg(ldms_t x, const struct ldms_ctrl_msg *m)
{
	uint32_t id = ldms_ctrl_msg_req_id(m);
	const char *name = ldms_ctrl_cmd_name(id);
	char vb[32];
	if (!name) {
		snprintf(vb, sizeof(vb), "#%#x", id);
		name = vb;
	}
	struct ldmsd_req *r = ldmsd_req_new(id, name);
	if (!r)
		return NULL;
	size_t n = ldms_ctrl_msg_attr_count(m);
	for (size_t i = 0; i < n; i++) {
		const struct ldms_ctrl_attr *a = ldms_ctrl_msg_attr_at(m, i);
		if (!a || a->id == LDMSD_ATTR_REC_LEN)
			continue;
		if (ldmsd_req_attr_add(r, a->id, a->value, strnlen(a->value, a->len), 0) < 0) {
			ldmsd_req_free(r);
			return NULL;
		}
	}
	r->origin.kind = LDMSD_ORIGIN_NET;
	r->origin.conn = x;
	ldms_xprt_peer_cred(x, &r->origin.uid, &r->origin.gid);
	char host[48] = "";
	int port = 0;
	ldms_xprt_peer_addr(x, host, sizeof(host), &port);
	snprintf(r->origin.peer, sizeof(r->origin.peer), "%s:%d", host, port);
	return r;
}

static void ctrl_recv(struct ldmsd *d, ldms_t x, const char *data, size_t len)
{
	struct ctrl_conn *cc = ldms_xprt_ctx_get(x);
	if (!cc) {
		cc = calloc(1, sizeof(*cc));
		if (!cc || !(cc->reasm = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 0))) {
			free(cc);
			return;
		}
		ldms_xprt_ctx_set(x, cc);
	}
	struct ldms_ctrl_msg *m = NULL;
	struct ldms_ctrl_rec_hdr h = {0};
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	int rc = ldms_ctrl_reasm_feed(cc->reasm, data, len, &m, &h);
	if (rc) {
		if (h.marker == LDMS_CTRL_MARKER && h.type == LDMS_CTRL_TYPE_CMD) {
			rep.rc = rc;
			ldmsd_buf_printf(&rep.msg, "malformed request: %s", strerror(-rc));
			reply_send(x, h.msg_no, &rep);
		}
		ldmsd_reply_free(&rep);
		return;
	}
	if (!m)
		return;
	if (ldms_ctrl_msg_type(m) != LDMS_CTRL_TYPE_CMD) {
		ldms_ctrl_msg_free(m);
		return;
	}
	uint32_t msg_no = ldms_ctrl_msg_no(m);
	struct ldmsd_req *r = req_from_msg(x, m);
	ldms_ctrl_msg_free(m);
	if (!r) {
		rep.rc = -ENOMEM;
		ldmsd_buf_printf(&rep.msg, "out of memory");
	} else if (r->id == LDMSD_CFG_CNTR_REQ) {
		/* verb-less: the configuration counter Maestro polls */
		pthread_mutex_lock(&d->lock);
		ldmsd_buf_printf(&rep.msg, "%" PRIu64, d->cfg_cntr);
		pthread_mutex_unlock(&d->lock);
	} else {
		ldmsd_cmd_exec(d, r, NULL, &rep);
		if (rep.rc)
			ldms_log(LDMS_LDEBUG, CTRL_LOG, "%s from %s: %s", r->verb, r->origin.peer,
				 ldmsd_buf_str(&rep.msg));
	}
	reply_send(x, msg_no, &rep);
	ldmsd_reply_free(&rep);
	ldmsd_req_free(r);
}

static void ctrl_disconnect(struct ldmsd *d, ldms_t x)
{
	struct ctrl_conn *cc = ldms_xprt_ctx_get(x);
	if (!cc)
		return;
	ldms_xprt_ctx_set(x, NULL);
	ldms_ctrl_reasm_free(cc->reasm);
	free(cc);
}

void ldmsd_ctrl_install(struct ldmsd *d)
{
	d->ctrl_recv = ctrl_recv;
	d->ctrl_disconnect = ctrl_disconnect;
}

/* ---- requests that only make sense on the wire ------------------------------------------ */
static int version_handler(struct ldmsd_req_ctxt *c)
{
	ldmsd_reply_msg(c,
			"{ \"LDMSD Version\":\"%s\",  \"LDMS Protocol Version\": \"%s\",  "
			"\"LDMSD Plugin Interface Version\": \"%d.0.0.0\",  \"git-SHA\": "
			"\"ldms-c-%s\"}",
			LDMSD_COMPAT_VERSION, LDMSD_PROTO_VERSION, LDMSD_PLUGIN_API_VERSION,
			LDMSC_VERSION);
	return 0;
}

static int daemon_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *st = c->d->state == LDMSD_STATE_RUNNING   ? "ready"
			 : c->d->state == LDMSD_STATE_STARTUP ? "starting"
							      : "stopping";
	ldmsd_buf_printf(ldmsd_reply_json(c), "{\"state\":\"%s\"}", st);
	return 0;
}

static int daemon_exit_handler(struct ldmsd_req_ctxt *c)
{
	ldms_log(LDMS_LINFO, LDMSD_LOG, "exit requested by %s",
		 c->req->origin.kind == LDMSD_ORIGIN_NET ? c->req->origin.peer
							 : "the configuration");
	ldmsd_request_exit(c->d);
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})

const struct ldmsd_cmd_def ldmsd_ctrl_cmds[] = {
    {"version", version_handler, 0, NULL},
    {"daemon_status", daemon_status_handler, 0, ATTRS({"string", 0})},
    {"daemon_exit", daemon_exit_handler, 0, NULL},
    {NULL, NULL, 0, NULL},
};
