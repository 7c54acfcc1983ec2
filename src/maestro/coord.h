/* Several maestro instances on one cluster (maestro.md §11, design.md §1 `coord`), on etcd
 * leases instead of a second consensus protocol. Every instance keeps a member key alive
 * with its lease; the work is cut in units (each aggregator group, each sampler group) and
 * unit i belongs to live member i mod n (members sorted by id). An instance manages a unit
 * only while it holds the unit's owner key, created with its lease in a transaction that
 * fails if anyone holds it: a dead instance's units are free once its lease expires, and
 * two instances never manage one unit at the same time. Keys (outside /P/, which the
 * configuration store replaces on every load):
 *   /<P>.maestro/members/<id>   {"id":..,"pid":..}      with the member's lease
 *   /<P>.maestro/owner/<unit>   <id>                     with the owner's lease */
#ifndef MAESTRO_COORD_H
#define MAESTRO_COORD_H

#include <stddef.h>
#include <stdint.h>

struct etcd_yaml;
struct ldms_err;
struct coord;

/* This instance's id ("host:port" of its maestro_members entry): `member` if given (must
 * be one of the entries), else the one entry whose host is this host's name. Errors as
 * upstream's: "<host> appeared more than one time in the maestro_members list",
 * "`<hostname>` is not in the maestro_members list". *id is malloc'ed. */
int coord_self_id(const struct etcd_yaml *y, const char *member, char **id, struct ldms_err *err);

/* Starts the coordination thread: its own etcd client over y's members, a lease of
 * ttl_s seconds, polling every poll_ms. wake(arg) is called when ownership changes. */
int coord_start(const struct etcd_yaml *y, const char *prefix, const char *self_id, int ttl_s,
		int poll_ms, void (*wake)(void *), void *wake_arg, struct coord **out,
		struct ldms_err *err);
void coord_stop(struct coord *c);

/* The units to share out (copied). */
int coord_set_units(struct coord *c, const char *const *units, size_t n);

/* Whether this instance holds unit `name` now. */
int coord_owns(struct coord *c, const char *name);
/* Changes with every change of what this instance owns (or of the live members). */
uint64_t coord_epoch(struct coord *c);
/* "id1 id2 ..." of the live members as last read (malloc'ed). */
char *coord_members(struct coord *c);

/* The instance's current lease (0 while it has none): keys put with it vanish when the
 * instance dies (its published status). */
int64_t coord_lease(struct coord *c);

/* Pure: which member (index into sorted ids) a unit goes to: i mod n. */
long coord_unit_owner(size_t unit_index, size_t n_members);

#endif
