/* "munge" authentication (ldms-protocol.md §6.3): each side sends a MUNGE
 * credential (NUL-terminated text from libmunge) whose payload is its own socket
 * address; the receiver decodes it through munged and takes the peer's uid/gid
 * from it. An address mismatch (NAT, proxies) is only logged, as upstream 4.5 does. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <munge.h>

#include "ldms_auth.h"

#define MUNGE_ADDR_MAX 28 /* encoded sockaddr_in6 */

struct auth_munge {
	munge_ctx_t ctx;
	uint8_t peer_addr[MUNGE_ADDR_MAX];
	size_t peer_addr_len;
	int have_peer;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The payload is the sender's struct sockaddr as upstream lays it out in memory on a
 * little-endian host: family in host order, port and address in network order.
 * IPv4-mapped IPv6 addresses become sockaddr_in so both address families of one
 * peer compare equal. Returns the encoded length (0 for no/unknown address). */
static size_t munge_addr_encode(const struct sockaddr *sa, uint8_t out[MUNGE_ADDR_MAX])
{
	memset(out, 0, MUNGE_ADDR_MAX);
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		put_le16(out, AF_INET);
		memcpy(out + 2, &sin->sin_port, 2);
		memcpy(out + 4, &sin->sin_addr, 4);
		return 16;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			put_le16(out, AF_INET);
			memcpy(out + 2, &s6->sin6_port, 2);
			memcpy(out + 4, &s6->sin6_addr.s6_addr[12], 4);
			return 16;
		}
		put_le16(out, AF_INET6);
		memcpy(out + 2, &s6->sin6_port, 2);
		memcpy(out + 4, &s6->sin6_flowinfo, 4);
		memcpy(out + 8, &s6->sin6_addr, 16);
		out[24] = (uint8_t)s6->sin6_scope_id;
		out[25] = (uint8_t)(s6->sin6_scope_id >> 8);
		out[26] = (uint8_t)(s6->sin6_scope_id >> 16);
		out[27] = (uint8_t)(s6->sin6_scope_id >> 24);
		return 28;
	}
	return 0;
}

/* "a.b.c.d:port" for an encoded IPv4 payload, for the mismatch log. */
static const char *munge_addr_str(const uint8_t *p, size_t len, char *buf, size_t buflen)
{
	if (len == 16 && p[0] == AF_INET && p[1] == 0) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, p + 4, ip, sizeof(ip));
		snprintf(buf, buflen, "%s:%u", ip, (unsigned)(p[2] << 8 | p[3]));
	} else if (len == 28 && p[0] == AF_INET6 && p[1] == 0) {
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, p + 8, ip, sizeof(ip));
		snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)(p[2] << 8 | p[3]));
	} else {
		snprintf(buf, buflen, "(%zu bytes)", len);
	}
	return buf;
}

static const char *munge_errstr(munge_ctx_t ctx, munge_err_t e)
{
	const char *s = ctx ? munge_ctx_strerror(ctx) : NULL;
	return s ? s : munge_strerror(e);
}

static int munge_new_ctx(const struct ldms_auth_cfg *cfg, munge_ctx_t *out, struct ldms_err *err)
{
	const char *sock = ldms_auth_cfg_arg(cfg, "socket");
	munge_ctx_t ctx;
	munge_err_t e;

	if (sock && !sock[0])
		return ldms_err_set(err, -EINVAL, "munge: socket= needs the munged socket path");
	ctx = munge_ctx_create();
	if (!ctx)
		return ldms_err_set(err, -ENOMEM, "munge: cannot create a munge context");
	if (sock) {
		e = munge_ctx_set(ctx, MUNGE_OPT_SOCKET, sock);
		if (e != EMUNGE_SUCCESS) {
			int rc = ldms_err_set(err, -EINVAL, "munge: socket=%s: %s", sock,
					      munge_errstr(ctx, e));
			munge_ctx_destroy(ctx);
			return rc;
		}
	}
	*out = ctx;
	return 0;
}

static int munge_cfg_check(const struct ldms_auth_cfg *cfg, struct ldms_err *err)
{
	munge_ctx_t ctx = NULL;
	/* munged may start after us (as with upstream), so it is not contacted here. */
	int rc = munge_new_ctx(cfg, &ctx, err);
	if (ctx)
		munge_ctx_destroy(ctx);
	return rc;
}

static int munge_init(struct ldms_auth *a, const struct ldms_auth_cfg *cfg, struct ldms_err *err)
{
	struct auth_munge *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return ldms_err_set(err, -ENOMEM, "munge: out of memory");
	rc = munge_new_ctx(cfg, &m->ctx, err);
	if (rc) {
		free(m);
		return rc;
	}
	a->priv = m;
	return 0;
}

static void munge_fini(struct ldms_auth *a)
{
	struct auth_munge *m = a->priv;
	if (!m)
		return;
	munge_ctx_destroy(m->ctx);
	free(m);
	a->priv = NULL;
}

static int munge_begin(struct ldms_auth *a, const struct sockaddr *local,
		       const struct sockaddr *peer, uint8_t **out, size_t *out_len,
		       struct ldms_err *err)
{
	struct auth_munge *m = a->priv;
	uint8_t payload[MUNGE_ADDR_MAX];
	size_t plen = munge_addr_encode(local, payload);
	char *cred = NULL;
	munge_err_t e;

	m->peer_addr_len = munge_addr_encode(peer, m->peer_addr);
	m->have_peer = peer != NULL;
	e = munge_encode(&cred, m->ctx, plen ? payload : NULL, (int)plen);
	if (e != EMUNGE_SUCCESS) {
		int rc = e == EMUNGE_SOCKET ? -ENOTCONN : -EIO;
		free(cred);
		return ldms_err_set(err, rc, "munge: cannot create a credential: %s",
				    munge_errstr(m->ctx, e));
	}
	*out = (uint8_t *)cred;
	*out_len = strlen(cred) + 1; /* the NUL travels too */
	return 0;
}

static int munge_recv(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		      size_t *out_len, struct ldms_err *err)
{
	struct auth_munge *m = a->priv;
	munge_ctx_t dctx;
	void *payload = NULL;
	int plen = 0;
	uid_t uid;
	gid_t gid;
	munge_err_t e;
	int rc;

	if (a->approved)
		return ldms_err_set(err, -EPROTO, "munge: peer sent a second credential");
	if (len == 0 || msg[len - 1] != '\0')
		return ldms_err_set(err, -EPROTO,
				    "munge: malformed credential (not NUL-terminated)");
	if (strlen((const char *)msg) != len - 1)
		return ldms_err_set(err, -EPROTO, "munge: malformed credential (embedded NUL)");
	/* libmunge rewrites a decoding context; keep ours clean for later use. */
	dctx = munge_ctx_copy(m->ctx);
	if (!dctx)
		return ldms_err_set(err, -ENOMEM, "munge: cannot create a munge context");
	e = munge_decode((const char *)msg, dctx, &payload, &plen, &uid, &gid);
	if (e != EMUNGE_SUCCESS) {
		rc = ldms_err_set(err, -EACCES, "munge: unmunge failed: %s", munge_errstr(dctx, e));
		munge_ctx_destroy(dctx);
		free(payload);
		return rc;
	}
	munge_ctx_destroy(dctx);
	if (m->have_peer && (plen < 0 || (size_t)plen != m->peer_addr_len ||
			     memcmp(payload, m->peer_addr, m->peer_addr_len) != 0)) {
		char pa[64], ca[64];
		LDMS_LOG_INFO(
		    "auth.munge",
		    "munge: the credential of uid %u names address %s, but the peer is %s "
		    "(NAT or proxy?); accepted on the credential alone",
		    (unsigned)uid,
		    munge_addr_str(payload, plen > 0 ? (size_t)plen : 0, ca, sizeof(ca)),
		    munge_addr_str(m->peer_addr, m->peer_addr_len, pa, sizeof(pa)));
	}
	free(payload);
	a->uid = uid;
	a->gid = gid;
	a->approved = 1;
	return 1;
}

static const char *const munge_keys[] = {"socket", NULL};

const struct ldms_auth_ops ldms_auth_munge_ops = {
    .keys = munge_keys,
    .name = "munge",
    .cfg_check = munge_cfg_check,
    .init = munge_init,
    .fini = munge_fini,
    .begin = munge_begin,
    .recv = munge_recv,
};
