/* The sampler side of peer advertisement (advertiser_add/start): once an
 * ADVERTISER producer is connected to its aggregator it sends LDMSD_ADVERTISE_REQ
 * with its name, host=gethostname() and port=our first listener's port; the
 * aggregator then pulls our sets over that same connection. An answer ENOENT
 * (no prdcr_listen matches yet) or EAGAIN closes the connection so that the next
 * reconnect advertises again. Requests the aggregator sends over it are served. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldms/ldms_ctrl.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"

static uint32_t adv_msg_no;

static int adv_send(void *arg, const void *rec, size_t len)
{
	return ldms_xprt_send((ldms_t)arg, rec, len);
}

void ldmsd_advertise_send(struct ldmsd_prdcr *p, ldms_t x)
{
	struct ldmsd *d = p->d;
	char host[HOST_NAME_MAX + 1], port[16] = "0";
	struct ldms_ctrl_msg *m;
	struct ldmsd_listen *l;
	int rc;

	if (gethostname(host, sizeof(host))) {
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
			 "Failed to construct an advertisement. gethostname() returned error %d",
			 errno);
		return;
	}
	host[sizeof(host) - 1] = '\0';
	/* as ldmsd_daemon_name(): listeners are only added, never removed, while running
	 * (no command lock here: this runs on an I/O thread) */
	l = TAILQ_FIRST(&d->listeners);
	if (l && l->port)
		snprintf(port, sizeof(port), "%.15s", l->port);
	if (!l)
		ldms_log(LDMS_LWARN, LDMSD_PRDCR_LOG,
			 "Advertiser %s: this daemon does not listen; advertising port 0", p->name);
	m = ldms_ctrl_req_new(LDMSD_ADVERTISE_REQ);
	if (!m || ldms_ctrl_req_attr_add(m, LDMSD_ATTR_NAME, p->name) ||
	    ldms_ctrl_req_attr_add(m, LDMSD_ATTR_HOST, host) ||
	    ldms_ctrl_req_attr_add(m, LDMSD_ATTR_PORT, port)) {
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
			 "Failed to construct an advertisement: out of memory");
		ldms_ctrl_msg_free(m);
		return;
	}
	ldms_ctrl_msg_set_msg_no(m, __atomic_add_fetch(&adv_msg_no, 1, __ATOMIC_RELAXED));
	rc = ldms_ctrl_msg_send(m, LDMS_CTRL_V4_5, ldms_xprt_msg_max(x), adv_send, x);
	ldms_ctrl_msg_free(m);
	if (rc)
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG, "Failed to send an advertisement. Error %d",
			 rc < 0 ? -rc : rc);
	else
		ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Advertiser %s: advertised %s:%s to %s:%s",
			 p->name, host, port, p->host, p->port_str);
}

void ldmsd_advertise_recv(struct ldmsd_prdcr *p, uint64_t id, ldms_t x, const char *data,
			  size_t len)
{
	struct ldmsd *d = p->d;
	struct ldms_ctrl_rec_hdr h;
	struct ldms_ctrl_msg *m = NULL;
	const char *text;

	if (ldms_ctrl_rec_hdr_decode(data, len, &h))
		return;
	if (h.type == LDMS_CTRL_TYPE_CMD) {
		/* a request of the aggregator: served like one arriving on a listener */
		if (d->ctrl_recv)
			d->ctrl_recv(d, x, data, len);
		return;
	}
	if (p->type != LDMSD_PRDCR_ADVERTISER)
		return;
	/* the answer is one record; a longer one is not an advertisement's */
	if (ldms_ctrl_msg_decode(data, h.rec_len, LDMS_CTRL_V4_5, &m))
		m = NULL;
	text = m ? ldms_ctrl_msg_text(m) : NULL;
	switch (h.id) { /* rsp_err */
	case 0:
		ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Advertiser %s: accepted by %s:%s", p->name,
			 p->host, p->port_str);
		break;
	case ENOENT:
	case EAGAIN:
		/* no prdcr_listen matches yet / the aggregator is not ready: reconnect and
		 * advertise again at the next interval */
		ldms_log(
		    LDMS_LINFO, LDMSD_PRDCR_LOG, "advertise: %s",
		    text && *text ? text
		    : h.id == ENOENT
			? "no prdcr_listen of the aggregator matches"
			: "The aggregator isn't ready to accept an advertisement. Retry again");
		ldmsd_prdcr_drop_conn(p, id);
		break;
	default:
		/* upstream does not stop the advertiser by itself either */
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
			 "'advertise': An error occurred on the aggregator. Error: \"%s\" Please "
			 "stop advertising and restart with updated configuration.",
			 text && *text ? text : strerror((int)h.id));
		break;
	}
	ldms_ctrl_msg_free(m);
}
