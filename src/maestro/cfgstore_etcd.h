/* The etcd back end of the configuration store (cfgstore.h) and the one call
 * maestro_ctrl --cluster needs. Key layout and the atomic switch: docs/etcd-cfgstore.md.
 *   /P/generation          current generation G (decimal)    -- the pointer readers follow
 *   /P/last_updated        seconds since the epoch (float)   -- changed with the pointer
 *   /P/g/next              last generation number handed out
 *   /P/g/<G, 12 digits>/K  value of relative key K in generation G
 *   /P/maestro/...         run-time state of the maestro daemon: never touched by loads */
#ifndef MAESTRO_CFGSTORE_ETCD_H
#define MAESTRO_CFGSTORE_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include "cfgstore.h"

struct ldms_err;
struct maestro_kvlist;
struct etcd_client;

/* maestro_ctrl --cluster FILE --prefix P: writes kvs (relative keys) as the new current
 * configuration of P, atomically (readers see the old or the new one, never a mix), and
 * removes the previous one. Nothing outside "/P/" is read, written or deleted.
 * Unreachable etcd: -ECONNREFUSED/-ETIMEDOUT/... with "etcd connection failed: ..." and
 * every member tried in err. */
int cfgstore_etcd_load(const char *etcd_yaml_path, const char *prefix,
		       const struct maestro_kvlist *kvs, struct ldms_err *err);

/* A store over an existing client (not owned; it must outlive the store). */
int cfgstore_etcd_open_client(struct etcd_client *c, const char *prefix, struct cfgstore **out,
			      struct ldms_err *err);
/* The client of a store opened with cfgstore_open_etcd (for leases, election). */
struct etcd_client *cfgstore_etcd_client(struct cfgstore *s);
/* The etcd revision the last cfgstore_read() read at. */
int64_t cfgstore_etcd_read_revision(struct cfgstore *s);

/* Limits of one write transaction (etcd's defaults are --max-txn-ops 128 and
 * --max-request-bytes 1.5 MiB). Smaller limits are found automatically when etcd rejects
 * a batch; these set the starting point. 0 keeps the current value. */
void cfgstore_etcd_set_batch(struct cfgstore *s, size_t max_ops, size_t max_bytes);

/* Batch transactions kept in flight while writing (default 8; 1 = one at a time). */
void cfgstore_etcd_set_window(struct cfgstore *s, size_t window);

/* After each load, compact etcd's history up to the revision where the previous
 * generation became current (default on; docs/etcd-cfgstore.md §3). */
void cfgstore_etcd_set_compact(struct cfgstore *s, int on);

/* Statistics of the last write, for the benchmark. */
struct cfgstore_etcd_stats {
	size_t keys, txns, bytes;
	uint64_t generation;
	double alloc_s, write_s, switch_s;
};
void cfgstore_etcd_last_stats(struct cfgstore *s, struct cfgstore_etcd_stats *out);

/* ---- layout (pure, unit-tested) ------------------------------------------------------- */

/* "/P" from a --prefix value: one leading '/' and trailing '/' stripped; -EINVAL when
 * nothing is left or the prefix holds an empty component. */
int cfgstore_etcd_root(const char *prefix, char **root, struct ldms_err *err);
/* "/P/g/000000000042/" */
char *cfgstore_etcd_gen_dir(const char *root, uint64_t gen);
/* Decimal generation value of /P/generation -> number; -EINVAL if not 1..10^12-1. */
int cfgstore_etcd_parse_gen(const char *s, size_t n, uint64_t *gen);

/* The delete ranges of the switch transaction: everything under "/P/" except the
 * pointer keys, /P/g/next, generation G and newer ones, and /P/maestro/. Fills up to 5
 * [key, end) pairs (malloc'ed strings, free with cfgstore_etcd_sweep_free). */
struct cfgstore_etcd_range {
	char *key, *end;
};
int cfgstore_etcd_sweep_ranges(const char *root, uint64_t gen, struct cfgstore_etcd_range *r,
			       size_t *n);
void cfgstore_etcd_sweep_free(struct cfgstore_etcd_range *r, size_t n);

/* Splits kvs[0..count) into transactions: returns how many entries from `from` fit in
 * one (at least 1), given the per-transaction limits and the generation directory
 * length. */
size_t cfgstore_etcd_batch_len(const struct maestro_kvlist *kvs, size_t from, size_t dir_len,
			       size_t max_ops, size_t max_bytes);

#endif
