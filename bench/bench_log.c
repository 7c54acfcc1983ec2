/* Cost of the logging fast path (a suppressed ldms_log call, with and without
 * per-logger levels set) and of a check with ldms_logger_enabled, in ns per call.
 * Usage: bench_log [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ldms/ldms_util.h>

static double ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double run_log(long n, const char *logger)
{
	double t0 = ns_now();
	for (long i = 0; i < n; i++)
		ldms_log(LDMS_LDEBUG, logger, "suppressed %ld", i);
	return (ns_now() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000L;
	if (n <= 0)
		n = 20000000L;
	ldms_log_open("/dev/null");
	ldms_log_level_set(LDMS_LERROR);
	printf("suppressed ldms_log, no per-logger levels:        %6.2f ns/call\n",
	       run_log(n, "producer"));
	ldms_logger_register("bench.a", NULL);
	ldms_logger_mask_set("bench.a", 0x18); /* ERROR and above: DEBUG still off */
	printf("suppressed ldms_log, a logger at ERROR elsewhere: %6.2f ns/call\n",
	       run_log(n, "producer"));
	ldms_logger_mask_set("bench.a", 0x1f); /* DEBUG on for bench.a only */
	printf("suppressed ldms_log, another logger at DEBUG:     %6.2f ns/call\n",
	       run_log(n, "producer"));
	double t0 = ns_now();
	long hits = 0;
	for (long i = 0; i < n; i++)
		hits += ldms_logger_enabled("bench.a", LDMS_LDEBUG);
	printf("ldms_logger_enabled (lookup, enabled):            %6.2f ns/call (%ld)\n",
	       (ns_now() - t0) / (double)n, hits);
	ldms_log_close();
	return 0;
}
