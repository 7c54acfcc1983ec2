/* ldmsd_controller's text report of store_time_stats against upstream's (golden
 * ctl_l1.txt): a reply holding the numbers of that capture must print exactly the
 * captured text; a reply that is not a store_time_stats object is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/tools/ldmsd_controller_sts.h"

static char *golden_section(const char *file, const char *cmd)
{
	char path[1024], mark[128];
	const char *g = getenv("LDMSC_GOLDEN");
	snprintf(path, sizeof(path), "%s/ldms/%s", g ? g : "../shared/golden", file);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	snprintf(mark, sizeof(mark), "ldmsd_controller> %s\n", cmd);
	char *a = strstr(text, mark);
	assert_non_null(a);
	a += strlen(mark);
	char *b = strstr(a, "ldmsd_controller> ");
	return strndup(a, b ? (size_t)(b - a) : strlen(a));
}

/* the figures of the capture: 31 stores of samp1/meminfo by csv_meminfo */
static const char *reply =
    "{\"csv_meminfo\": {\"hist_store_time\": {\"n_warmup\": 200, \"warmup_count\": 31, "
    "\"warmup_in_progress\": true}, \"producers\": {\"samp1\": {}}, \"schemas\": "
    "{\"meminfo\": {}}, \"sets\": {\"samp1/meminfo\": {\"producer\": \"samp1\", \"schema\": "
    "\"meminfo\", \"stage_stats\": {"
    "\"commit\": {\"avg\": 628.45, \"count\": 31},"
    "\"decomp\": {\"avg\": 0.0, \"count\": 0},"
    "\"io_thread\": {\"avg\": 1.68, \"count\": 31},"
    "\"queue\": {\"avg\": 41.78, \"count\": 31},"
    "\"wait\": {\"avg\": 0.45, \"count\": 31}}, "
    "\"stats\": {\"avg\": 672.34677, \"count\": 31, \"end_ts\": 1795317042.3, \"max\": "
    "1233.408, \"max_ts\": 1795317012.5, \"min\": 397.056, \"min_ts\": 1795317040.2, "
    "\"start_ts\": 1795317012.202271}, \"thread_id\": \"25317\"}}, \"threads\": "
    "{\"25317\": {}}}}";

static void test_store_time_stats_text(void **state)
{
	char *want = golden_section("ctl_l1.txt", "store_time_stats");
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	assert_int_equal(ctl_store_time_stats_print(o, reply), 0);
	fclose(o);
	assert_string_equal(buf, want);
	free(buf);
	free(want);

	o = open_memstream(&buf, &len);
	assert_int_equal(ctl_store_time_stats_print(o, "[1,2]"), -EINVAL);
	assert_int_equal(ctl_store_time_stats_print(o, "not json"), -EINVAL);
	fclose(o);
	assert_int_equal(len, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store_time_stats_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
