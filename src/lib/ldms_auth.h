/* Private to libldms: LDMS authentication (none, ovis, munge) as a per-connection,
 * transport-independent message state machine (ldms-protocol.md §6.3). The
 * transport feeds it the AUTH_MSG payloads it receives and sends what it produces. */
#ifndef LDMS_AUTH_H
#define LDMS_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"

struct ldms_auth; /* one per connection */
struct ldms_auth *ldms_auth_new(const struct ldms_auth_cfg *cfg, int is_active,
				struct ldms_err *err);
void ldms_auth_free(struct ldms_auth *a);
const char *ldms_auth_plugin_name(const struct ldms_auth *a); /* goes into the conn msg auth_name */
/* Called once the zap connection is established (after ACCEPTED/ACK_ACCEPTED).
 * May produce a first AUTH_MSG payload to send (*out malloc'ed, caller frees; *out_len 0 = none).
 * Returns 1 if already approved (none), 0 to continue, -errno on failure (err filled). */
int ldms_auth_begin(struct ldms_auth *a, const struct sockaddr *local, const struct sockaddr *peer,
		    uint8_t **out, size_t *out_len, struct ldms_err *err);
/* Feed one AUTH_MSG payload (the bytes after the msg_len field) from the peer; may produce
 * a reply. Returns 1 when this side has approved the peer, 0 to continue, -EACCES (or other
 * -errno) when the peer is refused, with a clear message in err ("ovis: authentication
 * failed: peer's reply does not match the shared secret", "munge: unmunge failed: ..."). */
int ldms_auth_recv(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		   size_t *out_len, struct ldms_err *err);
/* Notes for the transport: send *out whenever *out_len > 0, also when 1 is returned
 * (ovis may approve the peer before answering its challenge, and then returns 1 again
 * with the answer). A refusal is final: later calls return the same -errno. Messages
 * longer than LDMS_AUTH_MSG_MAX are refused with -EPROTO. */
int ldms_auth_approved(const struct ldms_auth *a);
void ldms_auth_cred(const struct ldms_auth *a, uid_t *uid, gid_t *gid); /* none/ovis: 0/0 */

/* ---- test-only hooks (unit tests, fuzzing); not for the transport ---------------- */
/* ovis: use this challenge instead of a random one in the next ldms_auth_begin().
 * Returns 0, or -EINVAL if a is not an ovis state machine. */
int ldms_auth_ovis_set_challenge(struct ldms_auth *a, uint64_t challenge);

/* ---- internal to auth*.c: one operations table per plugin ---------------------- */
/* Largest AUTH_MSG payload any plugin accepts (munge credentials are ~200 bytes). */
#define LDMS_AUTH_MSG_MAX 65536

struct ldms_auth_ops {
	const char *name;
	const char *const *keys; /* option names it understands, NULL-terminated (or NULL) */
	/* Validates the plugin's arguments at configuration time. */
	int (*cfg_check)(const struct ldms_auth_cfg *cfg, struct ldms_err *err);
	/* Sets a->priv. */
	int (*init)(struct ldms_auth *a, const struct ldms_auth_cfg *cfg, struct ldms_err *err);
	void (*fini)(struct ldms_auth *a);
	/* Same contracts as ldms_auth_begin / ldms_auth_recv; out/out_len already cleared. */
	int (*begin)(struct ldms_auth *a, const struct sockaddr *local, const struct sockaddr *peer,
		     uint8_t **out, size_t *out_len, struct ldms_err *err);
	int (*recv)(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		    size_t *out_len, struct ldms_err *err);
};

struct ldms_auth {
	const struct ldms_auth_ops *ops;
	int is_active;
	int begun;
	int approved;
	int failed; /* negative errno once refused; every later call returns it */
	uid_t uid;  /* peer credential, valid once approved */
	gid_t gid;
	void *priv;
};

extern const struct ldms_auth_ops ldms_auth_ovis_ops;
extern const struct ldms_auth_ops ldms_auth_munge_ops;

/* Value of argument `name` in cfg, or NULL. */
const char *ldms_auth_cfg_arg(const struct ldms_auth_cfg *cfg, const char *name);

#endif
