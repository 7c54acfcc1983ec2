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
int ldms_auth_approved(const struct ldms_auth *a);
void ldms_auth_cred(const struct ldms_auth *a, uid_t *uid, gid_t *gid); /* none/ovis: 0/0 */

/* ---- test-only hooks (unit tests, fuzzing); not for the transport ---------------- */
/* ovis: use this challenge instead of a random one in the next ldms_auth_begin().
 * Returns 0, or -EINVAL if a is not an ovis state machine. */
int ldms_auth_ovis_set_challenge(struct ldms_auth *a, uint64_t challenge);

#endif
