/* Producer and metric-set balancing (maestro.md §3.6, §10.5, §10.6): upstream's dist_list
 * and first-fit for a fresh start, and minimal-movement variants that take the previous
 * assignment so a failure or a recovery moves only what it has to. Pure functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_hostlist.h"
#include "balance.h"

int balance_dist_list(size_t n_items, size_t n_bins, long *out)
{
	if (!n_bins)
		return -EINVAL;
	size_t q = n_items / n_bins, r = n_items % n_bins, i = 0;
	for (size_t b = 0; b < n_bins; b++) {
		size_t sz = q + (b < r ? 1 : 0);
		for (size_t k = 0; k < sz; k++)
			out[i++] = (long)b;
	}
	return 0;
}

struct num_ent {
	const char *s;
	size_t idx;
};

static int num_ent_cmp(const void *a, const void *b)
{
	const struct num_ent *x = a, *y = b;
	int c = ldms_hostlist_numeric_cmp(x->s, y->s);
	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

int balance_numeric_order(size_t n, const char *const *names, size_t *order)
{
	struct num_ent *e = malloc((n ? n : 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		e[i].s = names[i];
		e[i].idx = i;
	}
	qsort(e, n, sizeof(*e), num_ent_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = e[i].idx;
	free(e);
	return 0;
}

int balance_generator(size_t n_prod, const char *const *names, size_t n_agg, long *out)
{
	if (!n_agg)
		return -EINVAL;
	size_t *order = malloc((n_prod ? n_prod : 1) * sizeof(*order));
	long *chunk = malloc((n_prod ? n_prod : 1) * sizeof(*chunk));
	int rc = -ENOMEM;
	if (order && chunk && !(rc = balance_numeric_order(n_prod, names, order)) &&
	    !(rc = balance_dist_list(n_prod, n_agg, chunk)))
		for (size_t k = 0; k < n_prod; k++)
			out[order[k]] = chunk[k];
	free(order);
	free(chunk);
	return rc;
}

static void stats_set(struct balance_stats *st, size_t n, const long *prev, const long *out)
{
	if (!st)
		return;
	st->moved = st->unassigned = 0;
	for (size_t i = 0; i < n; i++) {
		if (out[i] < 0)
			st->unassigned++;
		else if (prev && prev[i] >= 0 && prev[i] != out[i])
			st->moved++;
	}
}

/* Fresh start over the live aggregators only (maestro_util.dist_list: no re-sorting). */
static int fresh_split(size_t n, size_t n_agg, const unsigned char *alive, long *out)
{
	size_t A = 0;
	for (size_t a = 0; a < n_agg; a++)
		A += alive[a] ? 1 : 0;
	if (!A) {
		for (size_t i = 0; i < n; i++)
			out[i] = -1;
		return 0;
	}
	long *live = malloc(A * sizeof(*live));
	if (!live)
		return -ENOMEM;
	for (size_t a = 0, k = 0; a < n_agg; a++)
		if (alive[a])
			live[k++] = (long)a;
	balance_dist_list(n, A, out);
	for (size_t i = 0; i < n; i++)
		out[i] = live[out[i]];
	free(live);
	return 0;
}

struct load_ent {
	size_t load;
	size_t agg;
};

static int load_desc(const void *a, const void *b)
{
	const struct load_ent *x = a, *y = b;
	if (x->load != y->load)
		return x->load > y->load ? -1 : 1;
	return x->agg < y->agg ? -1 : x->agg > y->agg;
}

int balance_by_producer(size_t n_prod, size_t n_agg, const unsigned char *alive, const long *prev,
			const long *home, long *out, struct balance_stats *st)
{
	size_t A = 0;
	for (size_t a = 0; a < n_agg; a++)
		A += alive[a] ? 1 : 0;
	if (!prev || !A) {
		long *save = NULL;
		if (prev && out == prev) {
			if (!(save = malloc((n_prod ? n_prod : 1) * sizeof(*save))))
				return -ENOMEM;
			memcpy(save, prev, n_prod * sizeof(*save));
			prev = save;
		}
		int rc = fresh_split(n_prod, n_agg, alive, out);
		if (!rc)
			stats_set(st, n_prod, prev, out);
		free(save);
		return rc;
	}
	size_t *load = calloc(n_agg, sizeof(*load)), *cap = calloc(n_agg, sizeof(*cap)),
	       *want = calloc(n_agg, sizeof(*want));
	long *orig = malloc((n_prod ? n_prod : 1) * sizeof(*orig));
	struct load_ent *le = malloc(A * sizeof(*le));
	int rc = -ENOMEM;
	if (!load || !cap || !want || !orig || !le)
		goto out;
	memcpy(orig, prev, n_prod * sizeof(*orig));
	for (size_t p = 0; p < n_prod; p++) {
		long a = orig[p];
		if (a >= 0 && (size_t)a < n_agg && alive[a]) {
			out[p] = a;
			load[a]++;
		} else {
			out[p] = -1;
		}
	}
	/* shares: the most loaded aggregators get the q+1 shares, so fewer producers move */
	size_t q = n_prod / A, r = n_prod % A;
	for (size_t a = 0, k = 0; a < n_agg; a++)
		if (alive[a]) {
			le[k].load = load[a];
			le[k].agg = a;
			k++;
		}
	qsort(le, A, sizeof(*le), load_desc);
	for (size_t k = 0; k < A; k++)
		cap[le[k].agg] = q + (k < r ? 1 : 0);
	/* room each aggregator has for producers coming home */
	for (size_t a = 0; a < n_agg; a++)
		want[a] = alive[a] && cap[a] > load[a] ? cap[a] - load[a] : 0;
	/* 1. take the excess off over-full aggregators: first producers whose home has room,
	 * then any (from the end, so the front of each share stays put) */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = n_prod; p-- > 0;) {
			long a = out[p];
			if (a < 0 || load[a] <= cap[a])
				continue;
			if (pass == 0) {
				long h = home ? home[p] : -1;
				if (h < 0 || (size_t)h >= n_agg || h == a || !alive[h] || !want[h])
					continue;
				want[h]--;
			}
			out[p] = -1;
			load[a]--;
		}
	}
	/* 2. place the unassigned: home if it has room, else the least loaded with room */
	for (size_t p = 0; p < n_prod; p++) {
		if (out[p] >= 0)
			continue;
		long h = home ? home[p] : -1;
		if (h >= 0 && (size_t)h < n_agg && alive[h] && load[h] < cap[h]) {
			out[p] = h;
			load[h]++;
			continue;
		}
		long best = -1;
		for (size_t a = 0; a < n_agg; a++)
			if (alive[a] && load[a] < cap[a] && (best < 0 || load[a] < load[best]))
				best = (long)a;
		out[p] = best;
		load[best]++;
	}
	stats_set(st, n_prod, orig, out);
	rc = 0;
out:
	free(load);
	free(cap);
	free(want);
	free(orig);
	free(le);
	return rc;
}

uint64_t balance_set_weight(uint64_t data_size, int64_t update_interval_us)
{
	if (update_interval_us <= 0)
		update_interval_us = 1000000;
	/* bytes per second, without overflowing for any realistic size */
	unsigned __int128 w = (unsigned __int128)data_size * 1000000u;
	w /= (uint64_t)update_interval_us;
	if (w == 0 && data_size)
		w = 1;
	return w > UINT64_MAX ? UINT64_MAX : (uint64_t)w;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static long least_loaded(size_t n_agg, const unsigned char *alive, const uint64_t *load)
{
	long best = -1;
	for (size_t a = 0; a < n_agg; a++)
		if (alive[a] && (best < 0 || load[a] <= load[best]))
			best = (long)a; /* ties: the last, like upstream's reverse walk */
	return best;
}

static int first_fit(size_t n, const uint64_t *w, size_t n_agg, const unsigned char *alive,
		     size_t A, long *out, uint64_t *load)
{
	uint64_t total = 0;
	for (size_t s = 0; s < n; s++) {
		total = sat_add(total, w[s]);
		out[s] = -1;
	}
	uint64_t share = total / A;
	/* remaining sets as a linked list so each aggregator walks only what is left */
	size_t *next = malloc((n + 1) * sizeof(*next));
	if (!next)
		return -ENOMEM;
	for (size_t s = 0; s <= n; s++)
		next[s] = s + 1; /* next[n] is the head sentinel's slot below */
	size_t head = 0;
	for (size_t a = 0; a < n_agg; a++) {
		if (!alive[a])
			continue;
		uint64_t filled = 0;
		size_t *link = &head;
		for (size_t s = head; s < n; s = next[s]) {
			if (w[s] && filled + w[s] <= share) {
				filled += w[s];
				out[s] = (long)a;
				*link = next[s];
				continue;
			}
			link = &next[s];
		}
		load[a] = filled;
	}
	free(next);
	for (size_t s = 0; s < n; s++) {
		if (out[s] >= 0)
			continue;
		long a = least_loaded(n_agg, alive, load);
		out[s] = a;
		load[a] = sat_add(load[a], w[s]);
	}
	return 0;
}

struct wsort {
	uint64_t w;
	size_t s;
};

static int wdesc(const void *a, const void *b)
{
	const struct wsort *x = a, *y = b;
	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s;
}

int balance_by_set(size_t n_sets, const uint64_t *weight, size_t n_agg, const unsigned char *alive,
		   const long *prev, long *out, struct balance_stats *st)
{
	size_t A = 0;
	for (size_t a = 0; a < n_agg; a++)
		A += alive[a] ? 1 : 0;
	uint64_t *load = calloc(n_agg ? n_agg : 1, sizeof(*load));
	long *orig = malloc((n_sets ? n_sets : 1) * sizeof(*orig));
	unsigned char *had = calloc(n_agg ? n_agg : 1, 1);
	struct wsort *pend = malloc((n_sets ? n_sets : 1) * sizeof(*pend));
	int rc = -ENOMEM;
	if (!load || !orig || !had || !pend)
		goto out;
	if (prev)
		memcpy(orig, prev, n_sets * sizeof(*orig));
	if (!A) {
		for (size_t s = 0; s < n_sets; s++)
			out[s] = -1;
		stats_set(st, n_sets, prev ? orig : NULL, out);
		rc = 0;
		goto out;
	}
	if (!prev) {
		rc = first_fit(n_sets, weight, n_agg, alive, A, out, load);
		if (!rc)
			stats_set(st, n_sets, NULL, out);
		goto out;
	}
	size_t np = 0;
	uint64_t total = 0;
	for (size_t s = 0; s < n_sets; s++) {
		long a = orig[s];
		total = sat_add(total, weight[s]);
		if (a >= 0 && (size_t)a < n_agg && alive[a]) {
			out[s] = a;
			load[a] = sat_add(load[a], weight[s]);
			had[a] = 1;
		} else {
			out[s] = -1;
			pend[np].w = weight[s];
			pend[np].s = s;
			np++;
		}
	}
	qsort(pend, np, sizeof(*pend), wdesc);
	for (size_t k = 0; k < np; k++) {
		long a = least_loaded(n_agg, alive, load);
		out[pend[k].s] = a;
		load[a] = sat_add(load[a], pend[k].w);
	}
	/* recovered/new aggregators pull sets from the most loaded ones */
	uint64_t share = total / A;
	size_t limit = (n_sets + A - 1) / A + 1, moves = 0;
	for (size_t r = 0; r < n_agg && moves < limit; r++) {
		if (!alive[r] || had[r])
			continue;
		while (moves < limit && load[r] < share) {
			long d = -1;
			for (size_t a = 0; a < n_agg; a++)
				if (alive[a] && (size_t)a != r && (d < 0 || load[a] > load[d]))
					d = (long)a;
			if (d < 0 || load[d] <= load[r])
				break;
			uint64_t half = (load[d] - load[r]) / 2;
			long best = -1;
			for (size_t s = 0; s < n_sets; s++)
				if (out[s] == d && weight[s] <= half &&
				    (best < 0 || weight[s] > weight[best]))
					best = (long)s;
			if (best < 0 || !weight[best])
				break;
			out[best] = (long)r;
			load[d] -= weight[best];
			load[r] = sat_add(load[r], weight[best]);
			moves++;
		}
	}
	stats_set(st, n_sets, orig, out);
	rc = 0;
out:
	free(load);
	free(orig);
	free(had);
	free(pend);
	return rc;
}
