/* CPU cost of maestro's decisions on a big cluster, without any daemon: a model of N
 * samplers pulled by a group of A L1 aggregators (every L1 holds every producer, as
 * upstream), then what one rebalance pass computes for every L1 — the wanted state, the
 * diff from empty (first configuration) and the diff after one L1 failed (the moves) —
 * and the balance itself. Prints milliseconds per step.
 *   build/bench/bench_maestro_pass [-n samplers] [-a aggregators] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "cluster_yaml.h"
#include "model.h"
#include "rebalance.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static char *cluster_yaml(int n, int a)
{
	size_t cap = 4096;
	char *y = malloc(cap);
	if (!y)
		return NULL;
	snprintf(y, cap,
		 "daemons:\n"
		 "  - names: &s \"samp-[1-%d]\"\n"
		 "    hosts: \"node-[1-%d]\"\n"
		 "    endpoints:\n"
		 "      - names: &se \"samp-[1-%d]-ep\"\n"
		 "        ports: 10001\n"
		 "        maestro_comm: true\n"
		 "  - names: &l1 \"l1-[1-%d]\"\n"
		 "    hosts: \"agg-[1-%d]\"\n"
		 "    endpoints:\n"
		 "      - names: \"l1-[1-%d]-ep\"\n"
		 "        ports: 10401\n"
		 "        maestro_comm: true\n"
		 "aggregators:\n"
		 "  - daemons: *l1\n"
		 "    peers:\n"
		 "      - daemons: *s\n"
		 "        endpoints: *se\n"
		 "        reconnect: 20s\n"
		 "        type: active\n"
		 "        updaters:\n"
		 "          - mode: pull\n"
		 "            interval: 1s\n"
		 "plugins:\n"
		 "  meminfo1:\n"
		 "    name: meminfo\n"
		 "    interval: 1s\n"
		 "    config: [ { schema: meminfo } ]\n"
		 "samplers:\n"
		 "  - daemons: *s\n"
		 "    plugins: [ meminfo1 ]\n",
		 n, n, n, a, a, a);
	return y;
}

int main(int argc, char **argv)
{
	int n = 10000, a = 100, c;
	while ((c = getopt(argc, argv, "n:a:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'a')
			a = atoi(optarg);
		else
			return fprintf(stderr, "usage: %s [-n samplers] [-a aggregators]\n",
				       argv[0]),
			       2;
	}
	if (n < 1 || a < 1)
		return 2;
	char *y = cluster_yaml(n, a);
	struct cy_doc *doc = NULL;
	struct maestro_model *m = NULL;
	struct ldms_err err = {0};
	struct maestro_build_opts bo = {0};
	double t = now_ms();
	if (!y || cy_load_string(y, strlen(y), "bench.yaml", &doc, &err) ||
	    maestro_model_build(doc, &bo, &m, &err))
		return fprintf(stderr, "model: %s\n", err.msg), 1;
	printf("model: %d samplers, %d L1 aggregators: built in %.1f ms\n", n, a, now_ms() - t);
	cy_doc_free(doc);
	free(y);

	struct rb_assign as;
	if (rb_assign_new(m, &as))
		return 1;
	size_t g = 0;
	long *home = malloc((size_t)n * sizeof(long));
	unsigned char *alive = malloc((size_t)a);
	memset(alive, 1, (size_t)a);
	balance_dist_list((size_t)n, (size_t)a, home);
	t = now_ms();
	balance_by_producer((size_t)n, (size_t)a, alive, as.prdcr[g], home, as.prdcr[g], NULL);
	printf("balance (fresh): %.2f ms\n", now_ms() - t);

	struct rb_state *want = calloc((size_t)a, sizeof(*want));
	size_t objs = 0, cmds = 0;
	t = now_ms();
	for (int k = 0; k < a; k++) {
		char name[32];
		snprintf(name, sizeof(name), "l1-%d", k + 1);
		rb_desired(m, &as, (size_t)maestro_model_daemon(m, name), &want[k]);
		objs += want[k].n;
	}
	printf("wanted state of every L1: %.1f ms (%zu objects)\n", now_ms() - t, objs);
	struct rb_state empty;
	rb_state_init(&empty);
	t = now_ms();
	for (int k = 0; k < a; k++) {
		struct rb_cmdlist pre, post;
		rb_cmdlist_init(&pre);
		rb_cmdlist_init(&post);
		rb_diff(&empty, &want[k], 0, &pre, &post);
		cmds += pre.n + post.n;
		rb_cmdlist_free(&pre);
		rb_cmdlist_free(&post);
	}
	printf("first configuration of every L1 (diff from empty): %.1f ms (%zu commands)\n",
	       now_ms() - t, cmds);

	/* one L1 fails: balance, wanted states again, diffs (what a failover pass does) */
	t = now_ms();
	alive[0] = 0;
	struct balance_stats st;
	balance_by_producer((size_t)n, (size_t)a, alive, as.prdcr[g], home, as.prdcr[g], &st);
	double tb = now_ms() - t;
	cmds = 0;
	for (int k = 1; k < a; k++) {
		char name[32];
		struct rb_state now;
		struct rb_cmdlist pre, post;
		snprintf(name, sizeof(name), "l1-%d", k + 1);
		rb_desired(m, &as, (size_t)maestro_model_daemon(m, name), &now);
		if (!rb_state_equal(&want[k], &now)) {
			rb_cmdlist_init(&pre);
			rb_cmdlist_init(&post);
			rb_diff(&want[k], &now, 0, &pre, &post);
			cmds += pre.n + post.n;
			rb_cmdlist_free(&pre);
			rb_cmdlist_free(&post);
		}
		rb_state_free(&now);
	}
	printf("failover, full recomputation (balance %.2f ms, %zu moves): %.1f ms for every L1, "
	       "%zu commands\n",
	       tb, st.moved, now_ms() - t, cmds);
	for (int k = 0; k < a; k++)
		rb_state_free(&want[k]);
	free(want);
	free(home);
	free(alive);
	rb_assign_free(&as);
	maestro_model_free(m);
	return 0;
}
