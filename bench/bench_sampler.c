/* In-process sampler cost: loads the meminfo, vmstat and procstat plugins (as ldmsd
 * does), configures them, and prints the CPU time of one sampling cycle of each
 * (mean over -n cycles) plus the process RSS. The sampling interval (1 s in
 * production) does not change the per-cycle cost; bench_sampler_daemon.py measures
 * a real ldmsd at 1 s. Figures only, no pass/fail. */
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldmsd/ldmsd_plugin.h>

static int reg(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
	return 0;
}

static void dereg(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

struct plug {
	const char *name;
	void *dl;
	const struct ldmsd_plugin *p;
	struct ldmsd_plugin_handle h;
	double cpu;
};

int main(int argc, char **argv)
{
	static struct plug plugs[] = {
	    {.name = "meminfo"}, {.name = "vmstat"}, {.name = "procstat"}};
	const int np = 3;
	char dir[1024], path[1200], inst[64];
	int n = 2000, i, k;
	const char *build = getenv("LDMSC_BUILD");

	if (argc > 2 && strcmp(argv[1], "-n") == 0)
		n = atoi(argv[2]);
	if (build) {
		snprintf(dir, sizeof(dir), "%s/lib/ldms-c", build);
	} else {
		char exe[1024];
		snprintf(exe, sizeof(exe), "%s", argv[0]);
		snprintf(dir, sizeof(dir), "%s/../lib/ldms-c", dirname(exe));
	}
	long rss0 = rss_kb();
	for (k = 0; k < np; k++) {
		struct plug *pl = &plugs[k];
		snprintf(path, sizeof(path), "%s/lib%s.so", dir, pl->name);
		pl->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!pl->dl) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		pl->p = ((ldmsd_plugin_get_fn)dlsym(pl->dl, LDMSD_PLUGIN_ENTRY))();
		pl->h.inst_name = pl->name;
		pl->h.plugin_name = pl->name;
		pl->h.log_name = pl->name;
		pl->h.set_register = reg;
		pl->h.set_deregister = dereg;
		pl->h.interval_us = 1000000;
		if (pl->p->init(&pl->h))
			return 1;
		snprintf(inst, sizeof(inst), "bench/%s", pl->name);
		char prod[] = "producer", pv[] = "bench", in[] = "instance", cid[] = "component_id",
		     one[] = "1";
		struct ldmsd_attr al[3] = {{prod, pv}, {in, inst}, {cid, one}};
		struct ldmsd_attrs a = {3, al};
		struct ldms_err err;
		if (pl->p->config(&pl->h, &a, &err)) {
			fprintf(stderr, "%s: %s\n", pl->name, err.msg);
			return 1;
		}
	}
	long rss1 = rss_kb();
	for (i = 0; i < n; i++) {
		for (k = 0; k < np; k++) {
			double t0 = cpu_s();
			plugs[k].p->sample(&plugs[k].h);
			plugs[k].cpu += cpu_s() - t0;
		}
	}
	double total = 0;
	printf("sampler CPU time per sampling cycle (mean of %d cycles):\n", n);
	for (k = 0; k < np; k++) {
		printf("  %-9s %8.1f us\n", plugs[k].name, plugs[k].cpu / n * 1e6);
		total += plugs[k].cpu;
	}
	printf("  %-9s %8.1f us per cycle = %.4f%% of one CPU at a 1 s interval\n", "all three",
	       total / n * 1e6, total / n * 100.0);
	printf("RSS: %ld kB before loading, %ld kB with 3 sets configured, %ld kB after %d "
	       "cycles\n",
	       rss0, rss1, rss_kb(), n);
	for (k = 0; k < np; k++) {
		plugs[k].p->term(&plugs[k].h);
		dlclose(plugs[k].dl);
	}
	return 0;
}
