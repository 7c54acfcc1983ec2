/* Producers whose peer connects to us. Connections accepted by our listeners are
 * tracked until they end: a passive producer takes one from its host's address
 * at its reconnect tick (as upstream finds a transport by remote address), and
 * an advertisement (LDMSD_ADVERTISE_REQ, sent by a sampler's advertiser) matching
 * a running prdcr_listen creates or binds the producer `<host>:<port>` (the
 * request is answered here: it has no verb in the command registry). Their
 * transport events are then routed to the producer. Also prdcr_listen_*. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include <ldms/ldms_ctrl.h>

/* ---- accepted connections --------------------------------------------------------------- */
struct inconn {
	struct inconn *next;
	struct ldmsd *d;
	ldms_t x;	  /* reference */
	char addr[64];	  /* numeric peer address */
	uint64_t conn_id; /* producer connection it belongs to; 0 = unclaimed */
	int ctrl;	  /* sent a control request: a controller, not a sampler */
};

/* Global, not per daemon: events of a connection may still arrive while the
 * daemon's aggregation state is being torn down. */
static pthread_mutex_t in_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inconn *inconns, **inconns_tail = &inconns;

static struct inconn *in_find(ldms_t x, struct inconn ***prev)
{
	struct inconn **pp;
	for (pp = &inconns; *pp; pp = &(*pp)->next) {
		if ((*pp)->x == x) {
			if (prev)
				*prev = pp;
			return *pp;
		}
	}
	return NULL;
}

static void in_unlink(struct inconn **pp)
{
	struct inconn *c = *pp;
	*pp = c->next;
	if (inconns_tail == &c->next)
		inconns_tail = pp;
}

static int advertise_recv(struct ldmsd *d, ldms_t x, const char *data, size_t len);

int ldmsd_agg_listen_event(struct ldmsd *d, ldms_t x, struct ldms_xprt_event *e)
{
	struct inconn *c, **pp;
	uint64_t id = 0;
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		c = calloc(1, sizeof(*c));
		if (!c)
			return 0;
		c->d = d;
		c->x = ldms_xprt_get(x);
		if (ldms_xprt_peer_addr(x, c->addr, sizeof(c->addr), NULL))
			c->addr[0] = '\0';
		pthread_mutex_lock(&in_lock);
		if (in_find(x, NULL)) { /* never twice (its reference would leak) */
			pthread_mutex_unlock(&in_lock);
			ldms_xprt_put(c->x);
			free(c);
			break;
		}
		*inconns_tail = c;
		inconns_tail = &c->next;
		pthread_mutex_unlock(&in_lock);
		break;
	case LDMS_XPRT_EVENT_RECV:
		if (advertise_recv(d, x, e->data, e->data_len))
			return 1;
		pthread_mutex_lock(&in_lock);
		c = in_find(x, NULL);
		if (c && !c->conn_id)
			c->ctrl = 1;
		pthread_mutex_unlock(&in_lock);
		break;
	case LDMS_XPRT_EVENT_SET_DELETE:
		pthread_mutex_lock(&in_lock);
		c = in_find(x, NULL);
		id = c ? c->conn_id : 0;
		pthread_mutex_unlock(&in_lock);
		if (id)
			ldmsd_prdcr_conn_event(id, x, e);
		break;
	case LDMS_XPRT_EVENT_DISCONNECTED:
		pthread_mutex_lock(&in_lock);
		c = in_find(x, &pp);
		if (c) {
			in_unlink(pp);
			id = c->conn_id;
		}
		pthread_mutex_unlock(&in_lock);
		if (!c)
			return 0;
		if (id)
			ldmsd_prdcr_conn_event(id, x, e);
		ldms_xprt_put(c->x);
		free(c);
		break;
	default:
		break;
	}
	return 0;
}

/* Numeric addresses of host (IPv4 ones also as IPv4-mapped IPv6). */
static int host_has_addr(const char *host, const char *addr)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL, *a;
	char num[NI_MAXHOST];
	int found = 0;
	if (!strcmp(host, addr))
		return 1;
	if (getaddrinfo(host, NULL, &hints, &ai))
		return 0;
	for (a = ai; a && !found; a = a->ai_next) {
		if (getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof(num), NULL, 0,
				NI_NUMERICHOST))
			continue;
		found =
		    !strcmp(num, addr) || (!strncmp(addr, "::ffff:", 7) && !strcmp(num, addr + 7));
	}
	freeaddrinfo(ai);
	return found;
}

ldms_t ldmsd_passive_claim(struct ldmsd *d, const char *host, uint64_t id)
{
	struct inconn *c;
	char addrs[8][64];
	ldms_t x = NULL;
	int n = 0;
	/* resolve outside the lock: snapshot the candidates' addresses first */
	pthread_mutex_lock(&in_lock);
	for (c = inconns; c && n < 8; c = c->next)
		if (c->d == d && !c->conn_id && !c->ctrl)
			snprintf(addrs[n++], sizeof(addrs[0]), "%s", c->addr);
	pthread_mutex_unlock(&in_lock);
	for (int i = 0; i < n && !x; i++) {
		if (!addrs[i][0] || !host_has_addr(host, addrs[i]))
			continue;
		pthread_mutex_lock(&in_lock);
		for (c = inconns; c; c = c->next) {
			if (c->d == d && !c->conn_id && !c->ctrl && !strcmp(c->addr, addrs[i])) {
				c->conn_id = id;
				x = ldms_xprt_get(c->x);
				break;
			}
		}
		pthread_mutex_unlock(&in_lock);
	}
	return x;
}

int ldmsd_passive_claim_x(ldms_t x, uint64_t id)
{
	struct inconn *c;
	int rc = -ENOENT;
	pthread_mutex_lock(&in_lock);
	c = in_find(x, NULL);
	if (c && !c->conn_id) {
		c->conn_id = id;
		rc = 0;
	} else if (c) {
		rc = -EBUSY;
	}
	pthread_mutex_unlock(&in_lock);
	return rc;
}

void ldmsd_passive_free_all(struct ldmsd *d)
{
	struct inconn **pp = &inconns, *c, *dead = NULL;
	pthread_mutex_lock(&in_lock);
	while ((c = *pp)) {
		if (c->d != d) {
			pp = &c->next;
			continue;
		}
		in_unlink(pp);
		c->next = dead;
		dead = c;
	}
	pthread_mutex_unlock(&in_lock);
	while ((c = dead)) {
		dead = c->next;
		ldms_xprt_put(c->x);
		free(c);
	}
}

/* ---- CIDR ---------------------------------------------------------------------------------- */
int ldmsd_cidr_parse(const char *s, uint8_t net[16], int *prefix_len)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	char *end;
	long n;
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (!len || len >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, len);
	a[len] = '\0';
	memset(net, 0, 16);
	if (inet_pton(AF_INET, a, net + 12) == 1) {
		net[10] = net[11] = 0xff;
		n = slash ? strtol(slash + 1, &end, 10) : 32;
		if (slash && (end == slash + 1 || *end))
			return -EINVAL;
		if (n < 0 || n > 32)
			return -EINVAL;
		*prefix_len = (int)n + 96;
		return 0;
	}
	if (inet_pton(AF_INET6, a, net) == 1) {
		n = slash ? strtol(slash + 1, &end, 10) : 128;
		if (slash && (end == slash + 1 || *end))
			return -EINVAL;
		if (n < 0 || n > 128)
			return -EINVAL;
		*prefix_len = (int)n;
		return 0;
	}
	return -EINVAL;
}

int ldmsd_cidr_match(const uint8_t net[16], int prefix_len, const char *addr)
{
	uint8_t a[16] = {0};
	if (inet_pton(AF_INET, addr, a + 12) == 1)
		a[10] = a[11] = 0xff;
	else if (inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	for (int bit = 0; bit < prefix_len; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((a[bit / 8] & m) != (net[bit / 8] & m))
			return 0;
	}
	return 1;
}

/* ---- prdcr_listen ------------------------------------------------------------------------- */
LDMSD_CFGOBJ_FIND(pl_find, ldmsd_prdcr_listen, listens)

static void pl_free(struct ldmsd_prdcr_listen *pl)
{
	if (pl->regex_str)
		regfree(&pl->regex);
	free(pl->regex_str);
	free(pl->cidr_str);
	free(pl->xprt);
	free(pl->auth);
	for (size_t i = 0; i < pl->n_prdcrs; i++)
		free(pl->prdcrs[i]);
	free(pl->prdcrs);
	free(pl->name);
	free(pl);
}

void ldmsd_prdcr_listen_free_all(struct ldmsd *d)
{
	struct ldmsd_prdcr_listen *pl;
	if (!d->agg)
		return;
	while ((pl = TAILQ_FIRST(&d->agg->listens))) {
		TAILQ_REMOVE(&d->agg->listens, pl, link);
		pl_free(pl);
	}
}

int ldmsd_prdcr_listen_add_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *re = ldmsd_req_attr(c, LDMSD_ATTR_REGEX);
	const char *ip = ldmsd_req_attr(c, LDMSD_ATTR_IP);
	const char *ds = ldmsd_req_attr(c, LDMSD_ATTR_AUTO_INTERVAL);
	const char *quota = ldmsd_req_attr(c, LDMSD_ATTR_QUOTA);
	const char *rx = ldmsd_req_attr(c, LDMSD_ATTR_RX_RATE);
	const char *type = ldmsd_req_attr(c, LDMSD_ATTR_TYPE);
	const char *xprt = ldmsd_req_attr(c, LDMSD_ATTR_XPRT);
	const char *port = ldmsd_req_attr(c, LDMSD_ATTR_PORT);
	const char *auth = ldmsd_req_attr(c, LDMSD_ATTR_AUTH);
	const char *rail = ldmsd_req_attr(c, LDMSD_ATTR_RAIL);
	const char *rec = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	struct ldmsd_prdcr_listen *pl;
	int rc, b;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "The attribute 'name' is required.");
	if (pl_find(c->d, name))
		return ldmsd_reply_err(c, -EEXIST, "The prdcr listener %s already exists.", name);
	pl = calloc(1, sizeof(*pl));
	if (!pl || !(pl->name = strdup(name))) {
		free(pl);
		return ldmsd_reply_err(c, -ENOMEM, "Memory allocation failed.");
	}
	pl->auto_start = 1;
	pl->prefix_len = -1;
	pl->rail = 1;
	pl->quota = c->d->s.default_quota;
	pl->rx_rate = -1;
	pl->reconnect_us = INT32_MAX; /* passive: never used (upstream: INT_MAX) */
	ldmsd_agg_owner(c, &pl->uid, &pl->gid);
	if ((rc = ldmsd_agg_perm(c, &pl->perm)))
		goto err;
	if (ds && *ds && !ldms_parse_bool(ds, &b))
		pl->auto_start = !b;
	if (re && *re) {
		if (!(pl->regex_str = strdup(re))) {
			rc = ldmsd_reply_err(c, -ENOMEM, "Memory allocation failed.");
			goto err;
		}
		if (ldms_regcomp(&pl->regex, re, REG_EXTENDED | REG_NOSUB)) {
			free(pl->regex_str);
			pl->regex_str = NULL;
			rc = ldmsd_reply_err(c, -EINVAL,
					     "The regular expression string '%s' is invalid.", re);
			goto err;
		}
	}
	if (ip && *ip) {
		if (ldmsd_cidr_parse(ip, pl->net, &pl->prefix_len) ||
		    !(pl->cidr_str = strdup(ip))) {
			pl->prefix_len = -1;
			rc = ldmsd_reply_err(c, -EINVAL, "The given CIDR string '%s' is invalid.",
					     ip);
			goto err;
		}
	}
	if (quota && *quota && ldms_parse_size(quota, &pl->quota)) {
		rc = ldmsd_reply_err(c, -EINVAL, "The given quota '%s' is invalid.", quota);
		goto err;
	}
	if (rx && *rx && ldms_parse_size(rx, &pl->rx_rate)) {
		rc = ldmsd_reply_err(c, -EINVAL, "The given rx_rate '%s' is invalid.", rx);
		goto err;
	}
	if (type && *type && strcasecmp(type, "passive")) {
		if (strcasecmp(type, "active")) {
			rc = ldmsd_reply_err(c, -EINVAL, "The type value '%s' is invalid.", type);
			goto err;
		}
		pl->active = 1;
	}
	if (!pl->active) {
		if ((xprt && *xprt) || (port && *port) || (auth && *auth) || (rail && *rail) ||
		    (rec && *rec))
			ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
				 "prdcr_listen_add '%s' is passive. Ignore the given "
				 "advertiser_xprt/advertiser_port/advertiser_auth/rail/reconnect",
				 name);
	} else {
		char *end;
		long v;
		const char *miss = !(port && *port)   ? "advertiser_port"
				   : !(rec && *rec)   ? "reconnect"
				   : !(xprt && *xprt) ? "advertiser_xprt"
						      : NULL;
		if (miss) {
			rc = ldmsd_reply_err(
			    c, -EINVAL, "The attribute '%s' is required for the 'active' mode.",
			    miss);
			goto err;
		}
		v = strtol(port, &end, 0);
		if (*end || v < 1 || v > 65535) {
			rc = ldmsd_reply_err(c, -EINVAL, "The port value '%s' is invalid.", port);
			goto err;
		}
		pl->port = (int)v;
		if (ldms_parse_time_us(rec, &pl->reconnect_us) || pl->reconnect_us <= 0) {
			rc = ldmsd_reply_err(c, -EINVAL, "The reconnect value '%s' is invalid.",
					     rec);
			goto err;
		}
		if (rail && *rail) {
			v = strtol(rail, &end, 0);
			if (*end || v < 1 || v > 65536) {
				rc = ldmsd_reply_err(c, -EINVAL, "Rail value '%s' is invalid.",
						     rail);
				goto err;
			}
			pl->rail = (int)v;
		}
		pl->xprt = strdup(xprt);
		if (auth && *auth)
			pl->auth = strdup(auth);
		if (!pl->xprt || (auth && *auth && !pl->auth)) {
			rc = ldmsd_reply_err(c, -ENOMEM, "Memory allocation failed.");
			goto err;
		}
	}
	pthread_rwlock_wrlock(&a->lock);
	TAILQ_INSERT_TAIL(&a->listens, pl, link);
	pthread_rwlock_unlock(&a->lock);
	return 0;
err:
	pl_free(pl);
	return rc;
}

static enum ldmsd_cfgobj_run pl_run_state(void *o)
{
	const struct ldmsd_prdcr_listen *pl = o;
	return pl->running ? LDMSD_CFGOBJ_RUNNING : LDMSD_CFGOBJ_STOPPED;
}

static const struct ldmsd_cfgobj_kind pl_kind = {
    .find = pl_find,
    .obj_off = offsetof(struct ldmsd_prdcr_listen, obj),
    .run = pl_run_state,
    .noent = "The producer listen '%s' does not exist.",
    .eacces = "Permission denied",
    .busy = "The producer listen '%s' is in use.",
};

static struct ldmsd_prdcr_listen *pl_checked(struct ldmsd_req_ctxt *c, enum ldmsd_cfgobj_need need)
{
	return ldmsd_cfgobj_checked(c, &pl_kind, ldmsd_req_attr(c, LDMSD_ATTR_NAME), need);
}

int ldmsd_prdcr_listen_del_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_prdcr_listen *pl = pl_checked(c, LDMSD_CFGOBJ_IDLE);
	if (!pl)
		return c->reply->rc;
	pthread_rwlock_wrlock(&c->d->agg->lock);
	TAILQ_REMOVE(&c->d->agg->listens, pl, link);
	pthread_rwlock_unlock(&c->d->agg->lock);
	pl_free(pl);
	return 0;
}

static int pl_run(struct ldmsd_req_ctxt *c, int run)
{
	struct ldmsd_prdcr_listen *pl = pl_checked(c, LDMSD_CFGOBJ_ANY);
	if (!pl)
		return c->reply->rc;
	pthread_rwlock_wrlock(&c->d->agg->lock);
	pl->running = run;
	pthread_rwlock_unlock(&c->d->agg->lock);
	return 0;
}

int ldmsd_prdcr_listen_start_handler(struct ldmsd_req_ctxt *c)
{
	return pl_run(c, 1);
}

int ldmsd_prdcr_listen_stop_handler(struct ldmsd_req_ctxt *c)
{
	return pl_run(c, 0);
}

int ldmsd_prdcr_listen_status_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_agg *a = ldmsd_agg(c->d);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct ldmsd_prdcr_listen *pl;
	int n = 0;
	if (!a)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	ldmsd_buf_append(j, "[", 1);
	pthread_rwlock_rdlock(&a->lock);
	TAILQ_FOREACH(pl, &a->listens, link)
	{
		if (n++)
			ldmsd_buf_append(j, ",", 1);
		ldmsd_buf_append(j, "{\"name\":", 8);
		ldmsd_buf_json_str(j, pl->name);
		ldmsd_buf_printf(
		    j, ",\"state\":\"%s\",\"regex\":", pl->running ? "running" : "stopped");
		ldmsd_buf_json_str(j, pl->regex_str ? pl->regex_str : "-");
		ldmsd_buf_append(j, ",\"IP range\":", 12);
		ldmsd_buf_json_str(j, pl->cidr_str ? pl->cidr_str : "-");
		ldmsd_buf_printf(j, ",\"quota\":\"%" PRId64 "\",\"rx_rate\":\"%" PRId64 "\",",
				 pl->quota, pl->rx_rate);
		if (!pl->active) {
			ldmsd_buf_append(j, "\"type\":\"passive\",", 17);
		} else {
			ldmsd_buf_append(j, "\"type\":\"active\",\"xprt\":", 23);
			ldmsd_buf_json_str(j, pl->xprt);
			ldmsd_buf_printf(j, ",\"port\":\"%d\",\"auth_dom\":", pl->port);
			ldmsd_buf_json_str(j, pl->auth ? pl->auth : LDMSD_DEFAULT_AUTH_DOM);
			ldmsd_buf_printf(j, ",\"rail_sz\":\"%d\",\"reconnect\":\"%" PRId64 "us\",",
					 pl->rail, pl->reconnect_us);
		}
		ldmsd_buf_append(j, "\"producers\":[", 13);
		for (size_t i = 0; i < pl->n_prdcrs; i++) {
			if (i)
				ldmsd_buf_append(j, ",", 1);
			ldmsd_buf_json_str(j, pl->prdcrs[i]);
		}
		ldmsd_buf_append(j, "]}", 2);
	}
	pthread_rwlock_unlock(&a->lock);
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

/* ---- the advertisement (aggregator side) ------------------------------------------------- */
/* Both filters that are given must match (upstream). Caller holds a->lock. */
static struct ldmsd_prdcr_listen *pl_match(struct ldmsd_agg *a, const char *host, const char *addr)
{
	struct ldmsd_prdcr_listen *pl;
	TAILQ_FOREACH(pl, &a->listens, link)
	{
		if (!pl->running)
			continue;
		if (pl->regex_str && regexec(&pl->regex, host, 0, NULL, 0))
			continue;
		if (pl->prefix_len >= 0 && !ldmsd_cidr_match(pl->net, pl->prefix_len, addr))
			continue;
		return pl;
	}
	return NULL;
}

static int pl_add_prdcr(struct ldmsd_prdcr_listen *pl, const char *name)
{
	char **n = realloc(pl->prdcrs, (pl->n_prdcrs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	pl->prdcrs = n;
	if (!(n[pl->n_prdcrs] = strdup(name)))
		return -ENOMEM;
	pl->n_prdcrs++;
	return 0;
}

/* The work of an advertisement from connection x (under the daemon's command
 * lock). Returns 0 or -errno with msg (the reply text) filled. */
static int advertise(struct ldmsd *d, ldms_t x, const char *advtr, const char *host,
		     const char *aport, char *msg, size_t msglen)
{
	struct ldmsd_agg *a = ldmsd_agg(d);
	struct ldmsd_prdcr_spec sp = {0};
	struct ldmsd_prdcr_listen *pl;
	struct ldmsd_prdcr *p;
	char addr[64] = "", pname[NI_MAXHOST + 16], cmsg[256];
	int peer_port = 0, auto_start = 0, rc;

#define FAIL(rc_, ...)                                                                             \
	do {                                                                                       \
		snprintf(msg, msglen, __VA_ARGS__);                                                \
		return rc_;                                                                        \
	} while (0)
	if (!a)
		FAIL(-ENOMEM, "Aggregator has a memory allocation failure.");
	if (ldms_xprt_peer_addr(x, addr, sizeof(addr), &peer_port))
		FAIL(-ENOTCONN,
		     "An error %d occurred on the aggregator while processing the advertisement.",
		     ENOTCONN);
	if (!host || !*host)
		FAIL(-EINVAL, "The attribute 'hostname' is required.");
	pthread_rwlock_rdlock(&a->lock);
	pl = pl_match(a, host, addr);
	if (pl) {
		sp.adv_active = pl->active;
		sp.port = pl->active && pl->port ? pl->port : 0;
		sp.reconnect_us = pl->reconnect_us;
		sp.rail = pl->rail;
		sp.quota = pl->quota;
		sp.rx_rate = pl->rx_rate;
		auto_start = pl->auto_start;
	}
	pthread_rwlock_unlock(&a->lock);
	if (!pl) {
		ldms_log(
		    LDMS_LERROR, LDMSD_PRDCR_LOG,
		    "Received a producer advertisement with hostname '%s', which isn't matched "
		    "any listening producers. Stop the advertisement, update its "
		    "configuration, and then restart.",
		    host);
		FAIL(-ENOENT, "The given hostname '%s' doesn't match any `prdcr_listen`'s regex.",
		     host);
	}
	if (!sp.port) {
		char *end = NULL;
		long v = aport && *aport ? strtol(aport, &end, 10) : -1;
		if (v < 0 || v > 65535 || (end && *end))
			FAIL(-EINVAL,
			     "The attribute 'port' is missing from an advertise request to an "
			     "aggregator.");
		sp.port = (int)v;
	}
	rc = snprintf(pname, sizeof(pname), "%s:%d", host, sp.port);
	if (rc < 0 || (size_t)rc >= sizeof(pname))
		FAIL(-ENAMETOOLONG, "Invalid advertisement message");

	p = ldmsd_prdcr_find(d, pname);
	if (p) {
		if (p->type != LDMSD_PRDCR_ADVERTISED) {
			ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
				 "Received an advertisement for producer %s, but the producer was "
				 "manually added.",
				 pname);
			FAIL(-EEXIST, "An error '%d' occurred on the peer.", EEXIST);
		}
		if (p->adv_active)
			return 0; /* it reconnects by itself */
		rc = ldmsd_prdcr_bind(p, x);
		if (rc == -EBUSY) {
			ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
				 "Received a duplicate advertisement for producer '%s'. LDMSD "
				 "ignores the advertisement.",
				 pname);
			FAIL(rc, "The client already has a running producer with the given name.");
		}
		if (rc)
			FAIL(rc, "An error '%d' occurred on the peer.", -rc);
		ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG, "Advertiser %s on %s (%s) reconnected as %s",
			 advtr ? advtr : "?", host, addr, pname);
		return 0;
	}

	/* a new producer, owned by the daemon (as upstream: 0700); a passive one shows
	 * the peer's port like upstream, its name keeps the advertised one */
	sp.name = pname;
	sp.type = LDMSD_PRDCR_ADVERTISED;
	sp.host = host;
	sp.xprt = "sock";
	sp.auth = sp.adv_active ? pl->auth : NULL;
	sp.cache_ip = 1;
	sp.uid = geteuid();
	sp.gid = getegid();
	sp.perm = 0700;
	if (!sp.adv_active && peer_port)
		sp.port = peer_port;
	rc = ldmsd_prdcr_create(d, &sp, &p, cmsg, sizeof(cmsg));
	if (rc) {
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
			 "Error %d: Failed to create an advertised producer corresponding to "
			 "advertiser '%s' on hostname '%s': %s",
			 -rc, advtr ? advtr : "?", host, cmsg);
		FAIL(-EINTR, "ldmsd failed to create producers.");
	}
	pthread_rwlock_wrlock(&a->lock);
	(void)pl_add_prdcr(pl, pname);
	pthread_rwlock_unlock(&a->lock);
	ldms_log(LDMS_LINFO, LDMSD_PRDCR_LOG,
		 "Advertiser %s on %s (%s) added as producer %s (%s) by prdcr_listen %s",
		 advtr ? advtr : "?", host, addr, pname, sp.adv_active ? "active" : "passive",
		 pl->name);
	if (!auto_start)
		return 0;
	if (!sp.adv_active && (rc = ldmsd_prdcr_bind(p, x)))
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG, "advertise: cannot bind %s: %s", pname,
			 strerror(-rc));
	rc = ldmsd_prdcr_start(d, p, 0);
	if (rc)
		ldms_log(LDMS_LERROR, LDMSD_PRDCR_LOG,
			 "failed to start the advertised producer %s. Error %d.", pname, -rc);
	return 0;
#undef FAIL
}

static int rsp_send(void *arg, const void *rec, size_t len)
{
	return ldms_xprt_send((ldms_t)arg, rec, len);
}

/* An LDMSD_ADVERTISE_REQ record on connection x: handled and answered here (1),
 * anything else goes on to the control path (0). */
static int advertise_recv(struct ldmsd *d, ldms_t x, const char *data, size_t len)
{
	struct ldms_ctrl_rec_hdr h;
	struct ldms_ctrl_msg *m = NULL;
	char msg[512] = "";
	uid_t uid = 0;
	gid_t gid = 0;
	int rc;

	if (ldms_ctrl_rec_hdr_decode(data, len, &h) || h.type != LDMS_CTRL_TYPE_CMD ||
	    ldms_ctrl_cmd_id_from_wire(h.id, LDMS_CTRL_V4_5) != LDMSD_ADVERTISE_REQ)
		return 0;
	if ((h.flags & (LDMS_CTRL_F_SOM | LDMS_CTRL_F_EOM)) !=
		(LDMS_CTRL_F_SOM | LDMS_CTRL_F_EOM) ||
	    ldms_ctrl_msg_decode(data, h.rec_len, LDMS_CTRL_V4_5, &m)) {
		rc = -EINVAL;
		snprintf(msg, sizeof(msg), "Invalid advertisement message");
	} else if (ldms_xprt_peer_cred(x, &uid, &gid) ||
		   ldms_access_check(uid, gid, geteuid(), getegid(),
				     ldms_ctrl_cmd_perm(LDMSD_ADVERTISE_REQ) & 0777, 1)) {
		rc = -EACCES;
		snprintf(msg, sizeof(msg), "Permission denied");
	} else if (d->state != LDMSD_STATE_RUNNING) {
		rc = -EAGAIN;
		snprintf(msg, sizeof(msg),
			 "The aggregator isn't ready to accept an advertisement.");
	} else {
		pthread_mutex_lock(&d->lock); /* serialised with the commands */
		rc = advertise(d, x, ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_NAME),
			       ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_HOST),
			       ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_PORT), msg, sizeof(msg));
		pthread_mutex_unlock(&d->lock);
	}
	ldms_ctrl_msg_free(m);
	rc = ldms_ctrl_send_rsp_str(h.msg_no, (uint32_t)(rc < 0 ? -rc : rc), msg[0] ? msg : NULL,
				    ldms_xprt_msg_max(x), rsp_send, x);
	if (rc)
		ldms_log(LDMS_LDEBUG, LDMSD_PRDCR_LOG, "advertise: cannot answer: %s",
			 strerror(rc < 0 ? -rc : rc));
	return 1;
}
