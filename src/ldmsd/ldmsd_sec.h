/* Authorisation of control requests (ldms-protocol.md §6.6.6) and the set security
 * command set_sec_mod (sec_cmd.c). */
#ifndef LDMSD_SEC_H
#define LDMSD_SEC_H

#include <sys/types.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"

/* May request r run now? Only network requests are checked: the peer's credential
 * must pass the command's execute bits (ctrl table: owner/group for configuration,
 * everyone for status queries) against the daemon's uid/gid (daemon_uid/gid, the
 * effective ids in practice), and before in-band configuration is enabled only
 * start-up-safe requests are served. 0, -EACCES or -EBUSY with msg filled. */
int ldmsd_req_authorize(const struct ldmsd *d, const struct ldmsd_req *r, uid_t daemon_uid,
			gid_t daemon_gid, char *msg, size_t len);

/* "0640", "640", "0" -> mode; only octal digits, at most 0777. 0 or -EINVAL. */
int ldmsd_perm_parse(const char *s, uint32_t *perm);

#endif
