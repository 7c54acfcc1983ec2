/* Balancers (maestro.md §3.6, §9.6, §10.5, §10.6): dist_list, the generator split, the
 * golden balance tables (upstream's generator and monitor splits), minimal movement on
 * failure and recovery (also randomised), and balancing by metric set. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "balance.h"

static void test_dist_list(void **state)
{
	long out[16];
	static const struct {
		size_t n, k;
		long want[16];
	} c[] = {
	    {7, 3, {0, 0, 0, 1, 1, 2, 2}},
	    {10, 3, {0, 0, 0, 0, 1, 1, 1, 2, 2, 2}},
	    {2, 3, {0, 1}},
	    {12, 11, {0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	    {0, 2, {0}},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(balance_dist_list(c[i].n, c[i].k, out), 0);
		for (size_t j = 0; j < c[i].n; j++)
			assert_int_equal(out[j], c[i].want[j]);
	}
	assert_int_equal(balance_dist_list(3, 0, out), -EINVAL);
}

/* §9.6: 12 producers n01..n12 on agg[1-11]: slots follow the string order of the
 * aggregators (agg1, agg10, agg11, agg2, ...): agg1 gets two, agg10 n03, agg2 n05. */
static void test_generator_split(void **state)
{
	const char *names[12];
	char buf[12][8];
	long out[12];
	for (int i = 0; i < 12; i++) {
		snprintf(buf[i], sizeof(buf[i]), "n%02d", 12 - i); /* any input order */
		names[i] = buf[i];
	}
	assert_int_equal(balance_generator(12, names, 11, out), 0);
	/* slot 0 = agg1, 1 = agg10, 2 = agg11, 3 = agg2 */
	for (int i = 0; i < 12; i++) {
		int n = atoi(buf[i] + 1);
		long want = n <= 2 ? 0 : n - 2;
		assert_int_equal(out[i], want);
	}
	/* numeric order: samp-2 before samp-10 */
	const char *s[] = {"samp-10", "samp-2", "samp-1"};
	size_t order[3];
	assert_int_equal(balance_numeric_order(3, s, order), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
}

/* ---- golden balance tables ------------------------------------------------------------------ */

#define MAXN 64

struct table_group {
	char aggs[MAXN][64];
	size_t n_aggs;
	char gen[MAXN][1024]; /* generator line per aggregator */
	char prods[MAXN * 4][64];
	size_t n_prods;
	unsigned char ready[MAXN];
	char mon[MAXN][1024]; /* monitor line per ready aggregator, "" otherwise */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void check_group(struct table_group *g)
{
	const char *names[MAXN * 4];
	long out[MAXN * 4];
	size_t order[MAXN * 4];
	qsort(g->prods, g->n_prods, sizeof(g->prods[0]), cmp_str); /* etcd byte order */
	for (size_t i = 0; i < g->n_prods; i++)
		names[i] = g->prods[i];
	/* generator: numeric order, all aggregators */
	assert_int_equal(balance_generator(g->n_prods, names, g->n_aggs, out), 0);
	assert_int_equal(balance_numeric_order(g->n_prods, names, order), 0);
	for (size_t a = 0; a < g->n_aggs; a++) {
		char line[1024] = "";
		for (size_t k = 0; k < g->n_prods; k++)
			if (out[order[k]] == (long)a) {
				strcat(line, " ");
				strcat(line, names[order[k]]);
			}
		if (strcmp(line, g->gen[a]) != 0)
			fail_msg("generator %s: got '%s' want '%s'", g->aggs[a], line, g->gen[a]);
	}
	/* monitor: byte order, ready aggregators only, fresh split */
	assert_int_equal(
	    balance_by_producer(g->n_prods, g->n_aggs, g->ready, NULL, NULL, out, NULL), 0);
	for (size_t a = 0; a < g->n_aggs; a++) {
		char line[1024] = "";
		for (size_t k = 0; k < g->n_prods; k++)
			if (out[k] == (long)a) {
				strcat(line, " ");
				strcat(line, names[k]);
			}
		if (strcmp(line, g->mon[a]) != 0)
			fail_msg("monitor %s: got '%s' want '%s'", g->aggs[a], line, g->mon[a]);
	}
}

static void add_prod(struct table_group *g, const char *p)
{
	for (size_t i = 0; i < g->n_prods; i++)
		if (strcmp(g->prods[i], p) == 0)
			return;
	snprintf(g->prods[g->n_prods++], sizeof(g->prods[0]), "%s", p);
}

static size_t check_table(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[4096];
	struct table_group *g = NULL;
	int section = 0; /* 1 generator, 2 monitor */
	size_t groups = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "== ", 3) == 0) {
			if (g)
				check_group(g);
			free(g);
			g = calloc(1, sizeof(*g));
			groups++;
			section = 0;
		} else if (strncmp(line, "-- generator", 12) == 0) {
			section = 1;
		} else if (strncmp(line, "-- monitor", 10) == 0) {
			section = 2;
			char *r = strstr(line, "ready:");
			assert_non_null(r);
			char *down = strstr(r, "(down");
			if (down)
				*down = '\0';
			for (char *t = strtok(r + 6, " "); t; t = strtok(NULL, " "))
				for (size_t a = 0; a < g->n_aggs; a++)
					if (strcmp(g->aggs[a], t) == 0)
						g->ready[a] = 1;
		} else if (strncmp(line, "   ", 3) == 0 && g) {
			char *colon = strchr(line, ':');
			assert_non_null(colon);
			*colon = '\0';
			const char *agg = line + 3;
			char *rest = colon + 1;
			size_t a;
			if (section == 1) {
				a = g->n_aggs++;
				assert_true(snprintf(g->aggs[a], sizeof(g->aggs[a]), "%s", agg) <
					    (int)sizeof(g->aggs[a]));
				assert_true(snprintf(g->gen[a], sizeof(g->gen[a]), "%s", rest) <
					    (int)sizeof(g->gen[a]));
			} else {
				for (a = 0; a < g->n_aggs && strcmp(g->aggs[a], agg); a++)
					;
				assert_true(a < g->n_aggs);
				snprintf(g->mon[a], sizeof(g->mon[a]), "%s", rest);
			}
			for (char *t = strtok(rest, " "); t; t = strtok(NULL, " "))
				add_prod(g, t);
		}
	}
	if (g)
		check_group(g);
	free(g);
	fclose(f);
	return groups;
}

static void test_golden_tables(void **state)
{
	const char *golden = getenv("LDMSC_GOLDEN");
	char dir[1024], path[2048];
	size_t tables = 0;
	if (!golden)
		golden = "../shared/golden";
	snprintf(dir, sizeof(dir), "%s/maestro", golden);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[1500];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		DIR *cd = opendir(sub);
		if (!cd)
			continue;
		struct dirent *ce;
		while ((ce = readdir(cd))) {
			size_t l = strlen(ce->d_name);
			if (strncmp(ce->d_name, "balance_table", 13) || l < 4 ||
			    strcmp(ce->d_name + l - 4, ".txt"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, ce->d_name);
			assert_true(check_table(path) > 0);
			tables++;
		}
		closedir(cd);
	}
	closedir(d);
	assert_true(tables >= 6);
}

/* ---- minimal movement
 * ----------------------------------------------------------------------------- */

static void loads(size_t n, size_t A, const long *out, size_t *load)
{
	memset(load, 0, A * sizeof(*load));
	for (size_t i = 0; i < n; i++)
		if (out[i] >= 0)
			load[out[i]]++;
}

static void assert_balanced(size_t n, size_t A, const unsigned char *alive, const long *out)
{
	size_t load[64], mn = SIZE_MAX, mx = 0;
	loads(n, A, out, load);
	for (size_t i = 0; i < n; i++) {
		assert_true(out[i] >= 0 && (size_t)out[i] < A);
		assert_true(alive[out[i]]);
	}
	for (size_t a = 0; a < A; a++) {
		if (!alive[a])
			continue;
		mn = load[a] < mn ? load[a] : mn;
		mx = load[a] > mx ? load[a] : mx;
	}
	assert_true(mx - mn <= 1);
}

static void test_failure_recovery(void **state)
{
	enum { N = 10, A = 3 };
	unsigned char alive[A] = {1, 1, 1};
	long home[N], cur[N], next[N];
	struct balance_stats st;
	assert_int_equal(balance_by_producer(N, A, alive, NULL, NULL, home, &st), 0);
	memcpy(cur, home, sizeof(cur));
	/* aggregator 1 fails: only its 3 producers move, to the least loaded survivors */
	alive[1] = 0;
	assert_int_equal(balance_by_producer(N, A, alive, cur, home, next, &st), 0);
	assert_balanced(N, A, alive, next);
	assert_int_equal(st.moved, 3);
	for (int i = 0; i < N; i++)
		if (home[i] != 1)
			assert_int_equal(next[i], home[i]);
	memcpy(cur, next, sizeof(cur));
	/* it recovers: it gets its own producers back, nothing else moves */
	alive[1] = 1;
	assert_int_equal(balance_by_producer(N, A, alive, cur, home, next, &st), 0);
	assert_balanced(N, A, alive, next);
	assert_true(st.moved <= (N + A - 1) / A + 1);
	for (int i = 0; i < N; i++)
		assert_int_equal(next[i], home[i]);
	/* nothing changed: nothing moves (and out may be prev) */
	assert_int_equal(balance_by_producer(N, A, alive, next, home, next, &st), 0);
	assert_int_equal(st.moved, 0);
	/* no live aggregator: everything unassigned */
	unsigned char none[A] = {0, 0, 0};
	assert_int_equal(balance_by_producer(N, A, none, cur, home, next, &st), 0);
	assert_int_equal(st.unassigned, N);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Random failure/recovery sequences: always balanced, moves bounded as promised. */
static void test_random_sequences(void **state)
{
	unsigned seed = 12345;
	for (int round = 0; round < 300; round++) {
		size_t N = 1 + rnd(&seed) % 200, A = 1 + rnd(&seed) % 12;
		unsigned char alive[64];
		long home[256], cur[256], next[256];
		size_t load[64];
		for (size_t a = 0; a < A; a++)
			alive[a] = 1;
		assert_int_equal(balance_by_producer(N, A, alive, NULL, NULL, home, NULL), 0);
		memcpy(cur, home, N * sizeof(long));
		for (int step = 0; step < 20; step++) {
			size_t a = rnd(&seed) % A, live = 0;
			unsigned char was = alive[a];
			alive[a] = !alive[a];
			for (size_t k = 0; k < A; k++)
				live += alive[k];
			if (!live) {
				alive[a] = 1;
				continue;
			}
			loads(N, A, cur, load);
			size_t on_failed = load[a];
			struct balance_stats st;
			assert_int_equal(balance_by_producer(N, A, alive, cur, home, next, &st), 0);
			assert_balanced(N, A, alive, next);
			if (was) /* a failure: exactly the failed aggregator's producers move */
				assert_int_equal(st.moved, on_failed);
			else /* a recovery */
				assert_true(st.moved <= (N + live - 1) / live + 1);
			memcpy(cur, next, N * sizeof(long));
		}
	}
}

/* ---- by metric set
 * --------------------------------------------------------------------------------- */

/* §10.6 worked example: p1{a:100,b:50}, p2{c:100}, p3{d:70,e:30}, p4{f:100} on A1..A3:
 * A1 {a,b}, A2 {c,e}, A3 {d,f}. */
static void test_sets_example(void **state)
{
	const uint64_t w[] = {100, 50, 100, 70, 30, 100};
	const long want[] = {0, 0, 1, 2, 1, 2};
	unsigned char alive[3] = {1, 1, 1};
	long out[6];
	assert_int_equal(balance_by_set(6, w, 3, alive, NULL, out, NULL), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(out[i], want[i]);
	/* zero-weight sets are assigned too */
	const uint64_t z[] = {0, 10, 0, 10};
	long o2[4];
	assert_int_equal(balance_by_set(4, z, 3, alive, NULL, o2, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_true(o2[i] >= 0 && o2[i] < 3);
	/* weight: bytes per second */
	assert_int_equal(balance_set_weight(1000, 1000000), 1000);
	assert_int_equal(balance_set_weight(1000, 500000), 2000);
	assert_int_equal(balance_set_weight(1000, 10000000), 100);
	assert_int_equal(balance_set_weight(1, 10000000), 1);
	assert_int_equal(balance_set_weight(0, 1000000), 0);
	assert_int_equal(balance_set_weight(500, 0), 500);
}

static void test_sets_failure_recovery(void **state)
{
	enum { S = 60, A = 4 };
	uint64_t w[S];
	long first[S], cur[S], next[S];
	unsigned char alive[A] = {1, 1, 1, 1};
	unsigned seed = 7;
	struct balance_stats st;
	for (int i = 0; i < S; i++)
		w[i] = balance_set_weight(1000 + rnd(&seed) % 9000, 1000000 * (1 + i % 3));
	assert_int_equal(balance_by_set(S, w, A, alive, NULL, first, &st), 0);
	size_t on2 = 0;
	for (int i = 0; i < S; i++)
		on2 += first[i] == 2;
	alive[2] = 0;
	assert_int_equal(balance_by_set(S, w, A, alive, first, cur, &st), 0);
	assert_int_equal(st.moved, on2);
	for (int i = 0; i < S; i++) {
		assert_true(cur[i] >= 0 && alive[cur[i]]);
		if (first[i] != 2)
			assert_int_equal(cur[i], first[i]);
	}
	alive[2] = 1;
	assert_int_equal(balance_by_set(S, w, A, alive, cur, next, &st), 0);
	assert_true(st.moved > 0);
	assert_true(st.moved <= (S + A - 1) / A + 1);
	uint64_t load[A] = {0}, total = 0;
	for (int i = 0; i < S; i++) {
		load[next[i]] += w[i];
		total += w[i];
	}
	assert_true(load[2] > 0 && load[2] <= total / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dist_list),
	    cmocka_unit_test(test_generator_split),
	    cmocka_unit_test(test_golden_tables),
	    cmocka_unit_test(test_failure_recovery),
	    cmocka_unit_test(test_random_sequences),
	    cmocka_unit_test(test_sets_example),
	    cmocka_unit_test(test_sets_failure_recovery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
