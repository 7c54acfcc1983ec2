/* Balancing producers (or metric sets) over the aggregators of a group (maestro.md §3.6,
 * §9.6, §10.5, §10.6). Pure functions: inputs are indices, weights, the live set and the
 * previous assignment; the output is the new assignment. Nothing here talks to anyone. */
#ifndef MAESTRO_BALANCE_H
#define MAESTRO_BALANCE_H

#include <stddef.h>
#include <stdint.h>

/* upstream's dist_list(items, n): item i goes to chunk out[i]; chunks are contiguous, the
 * first len%n chunks get one more. n = 0 -> -EINVAL. */
int balance_dist_list(size_t n_items, size_t n_bins, long *out);

/* The generator's split (§9.3b): producers numerically sorted (python-hostlist
 * numerically_sorted), contiguous chunks over ALL aggregators (in the order given, i.e.
 * expand_names order). names: producer names in any order; out[i] = aggregator of
 * names[i]. */
int balance_generator(size_t n_prod, const char *const *names, size_t n_agg, long *out);

/* Order in which the generator lists producers: order[k] = index of the k-th producer in
 * numeric order. */
int balance_numeric_order(size_t n, const char *const *names, size_t *order);

struct balance_stats {
	size_t moved;	   /* items whose aggregator changed (new items not counted) */
	size_t unassigned; /* items left without an aggregator (no live aggregator) */
};

/* By producer, moving as little as possible.
 *   alive[a]  non-zero when aggregator a is usable (state "ready");
 *   prev      previous assignment (prev[p] = aggregator or -1), or NULL: then the result is
 *             upstream's monitor split, dist_list over the live aggregators in index order
 *             (callers pass producers and aggregators in etcd byte order, §10.5);
 *   home      optional preferred aggregator of each producer (e.g. the all-alive split),
 *             used to choose which producers move back when an aggregator recovers.
 * Result: loads differ by at most one. Producers on a live aggregator that is not over its
 * share stay; on a failure only the failed aggregator's producers move, each to the least
 * loaded survivor; on a recovery at most ceil(N/A) producers move to the recovered one
 * (preferring those whose home it is). out may equal prev. */
int balance_by_producer(size_t n_prod, size_t n_agg, const unsigned char *alive, const long *prev,
			const long *home, long *out, struct balance_stats *st);

/* Weight of a metric set for balancing by set: bytes per second, i.e. data size times
 * update frequency (the seed README; upstream uses the size alone). interval <= 0 counts as
 * one update per second. */
uint64_t balance_set_weight(uint64_t data_size, int64_t update_interval_us);

/* By metric set (§10.6). weight[s] per set (sets in producer/directory order).
 *   prev NULL: upstream's first-fit (share = total / live, each live aggregator in order takes
 *   the sets that still fit), then every remaining set, zero-weight ones too, goes to the
 *   least loaded live aggregator (ties: the last one, as upstream's reverse walk).
 *   prev given: sets on live aggregators stay; the others go, heaviest first, to the least
 *   loaded; an aggregator that had nothing before (recovered or new) then takes sets from the
 *   most loaded ones while that narrows the spread, at most ceil(S/A)+1 moves in all. */
int balance_by_set(size_t n_sets, const uint64_t *weight, size_t n_agg, const unsigned char *alive,
		   const long *prev, long *out, struct balance_stats *st);

#endif
