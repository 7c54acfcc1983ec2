/* Transport throughput in one process over 127.0.0.1: a listener serving S
 * meminfo-sized sets (57 u64 metrics) and one client that looks them all up and
 * updates them round after round for D seconds; prints updates/s, MB/s, CPU.
 * Then times connect/dir/lookup/update/close cycles. Figures only, no pass/fail.
 * usage: bench_xprt [-s sets] [-d seconds] [-t io_threads] [-c cycles] */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_xprt.h"

static atomic_int pending, found;
static ldms_set_t *mirrors;
static int nmirrors;
static pthread_mutex_t lk_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void lookup_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	if (s) {
		pthread_mutex_lock(&lk_lock);
		mirrors[nmirrors++] = ldms_set_get(s);
		pthread_mutex_unlock(&lk_lock);
	}
	if (!more)
		atomic_store(&found, 1);
}

static void update_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	if (status)
		fprintf(stderr, "update: %s\n", strerror(-status));
	atomic_fetch_sub(&pending, 1);
}

static int wait_zero(atomic_int *v)
{
	double end = now_s() + 10;

	while (atomic_load(v) > 0) {
		if (now_s() > end)
			return -1;
		usleep(50);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int nsets = 100, secs = 5, threads = 2, cycles = 1000, opt, i, rounds = 0;
	struct ldms_schema *sc = ldms_schema_new("meminfo_like");
	struct ldms_listener *l;
	struct ldms_err err;
	ldms_set_t *sets;
	char port[16], name[64];
	double t0, c0, t1, c1;
	uint64_t bytes = 0;
	ldms_t x;

	while ((opt = getopt(argc, argv, "s:d:t:c:")) != -1) {
		switch (opt) {
		case 's':
			nsets = atoi(optarg);
			break;
		case 'd':
			secs = atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'c':
			cycles = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s sets] [-d seconds] [-t threads] [-c cycles]\n",
				argv[0]);
			return 2;
		}
	}
	ldms_log_level_set(LDMS_LERROR);
	ldms_init(threads);
	ldms_schema_meta_add(sc, "component_id", LDMS_V_U64, NULL);
	for (i = 0; i < 56; i++) {
		snprintf(name, sizeof(name), "metric%02d", i);
		ldms_schema_metric_add(sc, name, LDMS_V_U64, NULL);
	}
	sets = calloc((size_t)nsets, sizeof(*sets));
	mirrors = calloc((size_t)nsets, sizeof(*mirrors));
	for (i = 0; i < nsets; i++) {
		snprintf(name, sizeof(name), "bench/%05d", i);
		sets[i] = ldms_set_new(name, sc);
		ldms_set_publish(sets[i]);
	}
	ldms_err_clear(&err);
	l = ldms_listen("sock", "127.0.0.1", "0", NULL, NULL, NULL, NULL, &err);
	if (!l) {
		fprintf(stderr, "listen: %s\n", err.msg);
		return 1;
	}
	snprintf(port, sizeof(port), "%d", ldms_listener_port(l));
	x = ldms_xprt_new("sock", NULL, NULL);
	if (ldms_xprt_connect_sync(x, "127.0.0.1", port, 5000, &err)) {
		fprintf(stderr, "connect: %s\n", err.msg);
		return 1;
	}
	ldms_xprt_lookup(x, "^bench/", LDMS_LOOKUP_RE, lookup_cb, NULL);
	while (!atomic_load(&found))
		usleep(100);
	printf("sets %d (meta %u B, data %u B), io threads %d\n", nmirrors,
	       ldms_set_meta_sz_get(sets[0]), ldms_set_data_sz_get(sets[0]), threads);
	/* first update reads meta + data */
	atomic_store(&pending, nmirrors);
	for (i = 0; i < nmirrors; i++)
		ldms_xprt_update(mirrors[i], update_cb, NULL);
	wait_zero(&pending);
	t0 = now_s();
	c0 = cpu_s();
	while (now_s() - t0 < secs) {
		for (i = 0; i < nsets; i++) {
			ldms_transaction_begin(sets[i]);
			ldms_metric_set_u64(sets[i], 1, (uint64_t)rounds);
			ldms_transaction_end(sets[i]);
		}
		atomic_store(&pending, nmirrors);
		for (i = 0; i < nmirrors; i++)
			ldms_xprt_update(mirrors[i], update_cb, NULL);
		if (wait_zero(&pending))
			break;
		bytes += (uint64_t)nmirrors * ldms_set_data_sz_get(sets[0]);
		rounds++;
	}
	t1 = now_s();
	c1 = cpu_s();
	printf("updates: %d rounds, %.0f updates/s, %.1f MB/s of data sections, CPU %.0f%% "
	       "(client+server in one process)\n",
	       rounds, (double)rounds * nmirrors / (t1 - t0), (double)bytes / (t1 - t0) / 1e6,
	       100.0 * (c1 - c0) / (t1 - t0));
	for (i = 0; i < nmirrors; i++)
		ldms_set_put(mirrors[i]);
	ldms_xprt_close(x);

	/* connection churn */
	t0 = now_s();
	for (i = 0; i < cycles; i++) {
		struct ldms_dir *d = NULL;
		x = ldms_xprt_new("sock", NULL, NULL);
		if (ldms_xprt_connect_sync(x, "127.0.0.1", port, 5000, &err) ||
		    ldms_xprt_dir_sync(x, &d, 5000)) {
			fprintf(stderr, "cycle %d failed\n", i);
			ldms_xprt_close(x);
			break;
		}
		ldms_dir_free(d);
		ldms_xprt_close(x);
	}
	t1 = now_s();
	printf("connect+dir(%d sets)+close: %d cycles, %.2f ms each\n", nsets, i,
	       1000.0 * (t1 - t0) / (i ? i : 1));
	ldms_listener_close(l);
	for (i = 0; i < nsets; i++)
		ldms_set_delete(sets[i]);
	ldms_fini();
	ldms_schema_delete(sc);
	free(sets);
	free(mirrors);
	return 0;
}
