/* Benchmark of maestro_ctrl's etcd load: generates a cluster YAML with N producers (N
 * samplers over N/100 aggregators), builds the model and its key/values as maestro_ctrl
 * does, then times cfgstore writes (first load and reloads) and the daemon's read against
 * a local etcd (started here on free 127.0.0.1 ports unless -m gives members). Prints
 * figures; never pass/fail.
 *   bench_etcd_load [-n producers] [-r runs] [-m http://host:port[,...]] [-p prefix]
 *                   [-w transactions in flight] [-C (no compaction after loads)] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_util.h"
#include "cfgstore.h"
#include "cfgstore_etcd.h"
#include "etcd.h"
#include "etcd_kv.h"
#include "model.h"
#include "../tests/unit/etcd_spawn.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The minimal golden baseline (case 15) scaled up: one endpoint per sampler, two sampler
 * plugins, aggregators of 100 producers each, one store. */
static int write_yaml(const char *path, int n)
{
	int aggs = n / 100 > 0 ? n / 100 : 1;
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"daemons:\n"
		"  - names : &samp \"samp-[1-%d]\"\n"
		"    hosts : \"node-[1-%d]\"\n"
		"    endpoints :\n"
		"      - names : &samp-ep \"samp-[1-%d]-ep\"\n"
		"        ports : 10002\n"
		"        maestro_comm : True\n"
		"        xprt : sock\n"
		"        auth :\n"
		"          name : munge1\n"
		"          plugin : munge\n"
		"  - names : &agg \"agg-[1-%d]\"\n"
		"    hosts : \"anode-[1-%d]\"\n"
		"    endpoints :\n"
		"      - names : \"agg-[1-%d]-ep\"\n"
		"        ports : 10401\n"
		"        maestro_comm : True\n"
		"        xprt : sock\n"
		"        auth :\n"
		"          name : munge1\n"
		"          plugin : munge\n"
		"aggregators:\n"
		"  - daemons : *agg\n"
		"    peers :\n"
		"      - daemons : *samp\n"
		"        endpoints : *samp-ep\n"
		"        reconnect : 10s\n"
		"        type : active\n"
		"        updaters :\n"
		"          - mode : pull\n"
		"            interval : 1s\n"
		"samplers:\n"
		"  - daemons : *samp\n"
		"    plugins : [ meminfo1, vmstat1 ]\n"
		"plugins:\n"
		"  meminfo1 :\n"
		"    name : meminfo\n"
		"    interval : 1s\n"
		"    config :\n"
		"      - schema : meminfo\n"
		"  vmstat1 :\n"
		"    name : vmstat\n"
		"    interval : 1s\n"
		"    config :\n"
		"      - schema : vmstat\n"
		"  sos1 :\n"
		"    name : store_sos\n"
		"    config : [ { path : /data } ]\n"
		"stores :\n"
		"  sos-meminfo :\n"
		"    daemons : *agg\n"
		"    container : ldms_data\n"
		"    schema : meminfo\n"
		"    plugin : sos1\n",
		n, n, n, aggs, aggs, aggs);
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	int n = 10000, runs = 3, window = 8, compact = 1, opt;
	const char *members = NULL, *prefix = "bench";
	while ((opt = getopt(argc, argv, "n:r:m:p:w:C")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'm':
			members = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'w':
			window = atoi(optarg);
			break;
		case 'C':
			compact = 0;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n producers] [-r runs] [-m urls] [-p prefix] [-w "
				"window]\n",
				argv[0]);
			return 2;
		}
	}
	if (n < 1 || runs < 1) {
		fprintf(stderr, "bad -n or -r\n");
		return 2;
	}
	struct ldms_err err;
	ldms_err_clear(&err);
	char yaml[] = "/tmp/bench-etcd-load-XXXXXX.yaml";
	int fd = mkstemps(yaml, 5);
	if (fd < 0 || close(fd) || write_yaml(yaml, n)) {
		perror("yaml");
		return 1;
	}

	double t0 = now();
	struct maestro_model *m;
	struct maestro_kvlist kvs;
	maestro_kvlist_init(&kvs);
	if (maestro_model_load_file(yaml, NULL, &m, &err) ||
	    maestro_model_to_kv(m, NULL, &kvs, &err)) {
		char buf[1024];
		fprintf(stderr, "model: %s\n", ldms_err_str(&err, buf, sizeof(buf)));
		unlink(yaml);
		return 1;
	}
	double t_model = now() - t0;
	maestro_model_free(m);
	unlink(yaml);
	size_t bytes = 0;
	for (size_t i = 0; i < kvs.count; i++)
		bytes += strlen(kvs.kv[i].key) + strlen(kvs.kv[i].value);

	struct etcd_spawn srv = {0};
	char *urls[ETCD_SPAWN_MAX] = {0};
	size_t nurls = 0;
	if (!members) {
		if (!etcd_spawn_available()) {
			fprintf(stderr, "no etcd (%s); give -m\n", etcd_spawn_binary());
			return 1;
		}
		if (etcd_spawn_start(&srv, 1, 60)) {
			fprintf(stderr, "cannot start etcd\n");
			return 1;
		}
		urls[nurls++] = srv.url[0];
	} else {
		char *copy = strdup(members), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t && nurls < ETCD_SPAWN_MAX;
		     t = strtok_r(NULL, ",", &save))
			urls[nurls++] = t;
	}
	struct etcd_client *c;
	struct cfgstore *s;
	if (etcd_client_new((const char *const *)urls, nurls, &c, &err) ||
	    cfgstore_etcd_open_client(c, prefix, &s, &err)) {
		fprintf(stderr, "etcd: %s\n", err.msg);
		etcd_spawn_stop(&srv);
		return 1;
	}

	cfgstore_etcd_set_window(s, (size_t)(window > 0 ? window : 1));
	cfgstore_etcd_set_compact(s, compact);
	printf("etcd load benchmark: %d producers (%d samplers, %d aggregators), %s, %d "
	       "transactions in flight, %s\n",
	       n, n, n / 100 > 0 ? n / 100 : 1,
	       members ? members : "local etcd 3.4 (default settings)", window,
	       compact ? "history compacted after each load" : "no compaction");
	printf("model: %zu keys, %.1f MiB of keys+values, YAML -> model -> kv in %.3f s\n",
	       kvs.count, (double)bytes / (1 << 20), t_model);
	int rc = 0;
	for (int r = 0; r < runs && !rc; r++) {
		double t = now();
		uint64_t gen;
		rc = cfgstore_write(s, &kvs, &gen, &err);
		double dt = now() - t;
		if (rc) {
			fprintf(stderr, "write: %s\n", err.msg);
			break;
		}
		struct cfgstore_etcd_stats st;
		cfgstore_etcd_last_stats(s, &st);

		printf("%s (generation %llu): %.3f s, %zu txns, %.0f keys/s (allocate %.3f s, "
		       "write %.3f s, switch+sweep %.3f s)\n",
		       r ? "reload" : "first load", (unsigned long long)gen, dt, st.txns,
		       (double)kvs.count / dt, st.alloc_s, st.write_s, st.switch_s);
	}
	if (!rc) {
		struct maestro_kvlist out;
		maestro_kvlist_init(&out);
		double t = now();
		rc = cfgstore_read(s, &out, NULL, &err);
		double dt = now() - t;
		if (rc)
			fprintf(stderr, "read: %s\n", err.msg);
		else
			printf("daemon read (pointer + %zu keys at one revision): %.3f s\n",
			       out.count, dt);
		if (!rc && out.count != kvs.count) {
			fprintf(stderr, "read %zu keys, wrote %zu\n", out.count, kvs.count);
			rc = 1;
		}
		maestro_kvlist_free(&out);
	}
	cfgstore_close(s);
	etcd_client_free(c);
	etcd_spawn_stop(&srv);
	maestro_kvlist_free(&kvs);
	if (members)
		free(urls[0]);
	return rc ? 1 : 0;
}
