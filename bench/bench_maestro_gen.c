/* Benchmark: maestro_ctrl's work on a generated 30,000-node cluster (4 levels: samplers,
 * 100 L1, 10 L2, 1 L3 aggregator with stores). Prints the time of each phase (YAML parse,
 * model build, config text for every daemon, etcd key flattening), the number of keys and
 * bytes, and peak RSS; then the same through the maestro_ctrl binary (wall time, peak RSS).
 * Usage: bench_maestro_gen [samplers [l1 [l2]]] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "configgen.h"
#include "etcd_kv.h"
#include "model.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static char *cluster_yaml(int ns, int n1, int n2)
{
	size_t cap = 1 << 16;
	char *y = malloc(cap);
	int n = snprintf(
	    y, cap,
	    "daemons:\n"
	    "  - names: &samplers \"samp-[1-%d]\"\n"
	    "    hosts: \"node-[1-%d]\"\n"
	    "    endpoints:\n"
	    "      - names: &samp-eps \"samp-[1-%d]-sock\"\n"
	    "        ports: 10002\n"
	    "        maestro_comm: True\n"
	    "        xprt: sock\n"
	    "        auth: {name: munge1, plugin: munge}\n"
	    "  - names: &l1 \"l1-[1-%d]\"\n"
	    "    hosts: \"agg-[1-%d]\"\n"
	    "    endpoints:\n"
	    "      - names: &l1-eps \"l1-[1-%d]-sock\"\n"
	    "        ports: 10401\n"
	    "        maestro_comm: True\n"
	    "        auth: {name: munge1, plugin: munge}\n"
	    "  - names: &l2 \"l2-[1-%d]\"\n"
	    "    hosts: \"agg2-[1-%d]\"\n"
	    "    endpoints:\n"
	    "      - names: &l2-eps \"l2-[1-%d]-sock\"\n"
	    "        ports: 10501\n"
	    "        maestro_comm: True\n"
	    "        auth: {name: munge1, plugin: munge}\n"
	    "  - names: &l3 l3-1\n"
	    "    hosts: head\n"
	    "    endpoints:\n"
	    "      - names: &l3-eps l3-1-sock\n"
	    "        ports: 10601\n"
	    "        maestro_comm: True\n"
	    "        auth: {name: munge1, plugin: munge}\n"
	    "aggregators:\n"
	    "  - daemons: *l1\n"
	    "    peers:\n"
	    "      - daemons: *samplers\n"
	    "        endpoints: *samp-eps\n"
	    "        reconnect: 20s\n"
	    "        type: active\n"
	    "        updaters:\n"
	    "          - {mode: pull, interval: 1s, offset: 100ms}\n"
	    "  - daemons: *l2\n"
	    "    peers:\n"
	    "      - {daemons: *l1, endpoints: *l1-eps, reconnect: 20s, type: active,\n"
	    "         updaters: [{mode: push, interval: 1s}]}\n"
	    "  - daemons: *l3\n"
	    "    peers:\n"
	    "      - {daemons: *l2, endpoints: *l2-eps, reconnect: 20s, type: active,\n"
	    "         updaters: [{interval: 2s, offset: 200ms}]}\n"
	    "samplers:\n"
	    "  - daemons: *samplers\n"
	    "    plugins: [meminfo1, vmstat1, procstat1]\n"
	    "plugins:\n"
	    "  meminfo1: {name: meminfo, interval: 1s, config: [{schema: meminfo}]}\n"
	    "  vmstat1: {name: vmstat, interval: 1s, config: [{schema: vmstat}]}\n"
	    "  procstat1: {name: procstat, interval: 10s, offset: 50ms, config: [{schema: "
	    "procstat}]}\n"
	    "  sos1: {name: store_sos, config: [{path: /data/sos}]}\n"
	    "stores:\n"
	    "  sos-meminfo: {daemons: *l3, container: ldms, schema: meminfo, plugin: sos1}\n"
	    "  sos-vmstat: {daemons: *l3, container: ldms, schema: vmstat, plugin: sos1}\n",
	    ns, ns, ns, n1, n1, n1, n2, n2, n2);
	if (n < 0 || (size_t)n >= cap) {
		free(y);
		return NULL;
	}
	return y;
}

static int rm_dir(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* The real command line first, while this process is small (a child's peak RSS starts from
 * its parent's): maestro_ctrl next to this program (build/bin), output on tmpfs when there is
 * one so that the figure is maestro_ctrl's and not the disk's. */
static void run_cli(const char *y)
{
	char self[512], exe[600], dir[64], yaml[600], out[700];
	snprintf(dir, sizeof(dir), "%s/bench_maestro_XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0 || !mkdtemp(dir))
		return;
	self[sl] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(exe, sizeof(exe), "%s/../bin/maestro_ctrl", self);
	snprintf(yaml, sizeof(yaml), "%s/cluster.yaml", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	FILE *f = fopen(yaml, "w");
	if (access(exe, X_OK) || !f || mkdir(out, 0700)) {
		if (f)
			fclose(f);
		printf("maestro_ctrl binary: not found next to the benchmark\n");
		rm_dir(dir);
		return;
	}
	fputs(y, f);
	fclose(f);
	static const char *const modes[][2] = {{"--generate_config_path", "generate"},
					       {"--check", "check"}};
	for (size_t k = 0; k < 2; k++) {
		double c0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0)
				dup2(fd, 1);
			if (k == 0)
				execl(exe, exe, "--ldms_config", yaml, modes[k][0], out,
				      (char *)NULL);
			else
				execl(exe, exe, "--ldms_config", yaml, modes[k][0], (char *)NULL);
			_exit(127);
		}
		int status;
		struct rusage ru;
		if (pid > 0 && wait4(pid, &status, 0, &ru) == pid) {
			double c1 = now();
			printf("maestro_ctrl %-24s exit %d, %.3f s wall, %.3f s user, %.3f s sys, "
			       "peak RSS %.1f MB\n",
			       modes[k][0], WIFEXITED(status) ? WEXITSTATUS(status) : -1, c1 - c0,
			       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
			       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
			       (double)ru.ru_maxrss / 1024.0);
		}
	}
	printf("(--generate_config_path writes %s/out/*.conf; --check also builds every text and "
	       "the etcd keys, without writing)\n",
	       dir);
	rm_dir(dir);
}

int main(int argc, char **argv)
{
	int ns = argc > 1 ? atoi(argv[1]) : 30000, n1 = argc > 2 ? atoi(argv[2]) : 100,
	    n2 = argc > 3 ? atoi(argv[3]) : 10;
	char *y = cluster_yaml(ns, n1, n2);
	struct ldms_err err = {0};
	struct cy_doc *doc;
	struct maestro_model *m;
	struct configgen *cg;
	if (!y)
		return 1;
	printf(
	    "cluster: %d samplers, %d L1, %d L2, 1 L3 aggregators (%d daemons), YAML %zu bytes\n",
	    ns, n1, n2, ns + n1 + n2 + 1, strlen(y));
	run_cli(y);
	double t0 = now();
	if (cy_load_string(y, strlen(y), "bench.yaml", &doc, &err) ||
	    cy_legacy_normalize(doc, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double t1 = now();
	if (maestro_model_build(doc, NULL, &m, &err)) {
		fprintf(stderr, "%d:%d: %s\n", err.line, err.col, err.msg);
		return 1;
	}
	cy_doc_free(doc);
	double t2 = now();
	long rss_model = rss_kb();
	if (configgen_new(m, NULL, NULL, &cg, &err))
		return 1;
	size_t bytes = 0, files = 0, lines = 0;
	for (size_t d = 0; d < m->n_daemons; d++) {
		char *t;
		size_t len;
		if (configgen_daemon(cg, d, &t, &len, &err))
			return 1;
		bytes += len;
		files += len > 1;
		for (size_t i = 0; i < len; i++)
			lines += t[i] == '\n';
		free(t);
	}
	double t3 = now();
	long rss_gen = rss_kb();
	struct maestro_kvlist kv;
	maestro_kvlist_init(&kv);
	if (maestro_model_to_kv(m, NULL, &kv, &err))
		return 1;
	size_t kvbytes = 0;
	for (size_t i = 0; i < kv.count; i++)
		kvbytes += strlen(kv.kv[i].key) + strlen(kv.kv[i].value);
	double t4 = now();
	struct maestro_model *m2;
	if (maestro_kv_to_model(&kv, NULL, &m2, &err))
		return 1;
	double t5 = now();
	printf("in-process phases (s): parse %.3f  model %.3f  configgen %.3f  etcd-kv %.3f  "
	       "kv->model %.3f  total %.3f\n",
	       t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0);
	printf("output: %zu config files, %zu lines, %.1f MB text; %zu etcd keys, %.1f MB\n", files,
	       lines, (double)bytes / 1e6, kv.count, (double)kvbytes / 1e6);
	printf("peak RSS in-process: %.1f MB after the model, %.1f MB after configgen, %.1f MB "
	       "with the etcd keys and the model read back\n",
	       (double)rss_model / 1024.0, (double)rss_gen / 1024.0, (double)rss_kb() / 1024.0);
	maestro_model_free(m2);
	maestro_kvlist_free(&kv);
	configgen_free(cg);
	maestro_model_free(m);

	free(y);
	return 0;
}
