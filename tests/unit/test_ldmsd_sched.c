/* Unit tests of the sampler scheduler: the wall-clock grid arithmetic (a pure
 * function), and the task life cycle on the scheduler thread: it runs, a slow run
 * skips missed slots instead of catching up, and stop() means "never again". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ldmsd_sched.h"

#define S 1000000ll

static void test_next(void **state)
{
	struct {
		int64_t now, interval, offset, next;
	} c[] = {
	    {0, S, 0, S},
	    {1, S, 0, S},
	    {S - 1, S, 0, S},
	    {S, S, 0, 2 * S}, /* strictly after: an exact hit is the next slot */
	    {1100000, S, 200000, 1200000},
	    {1200000, S, 200000, 2200000},
	    {500000, S, -300000, 700000},
	    {700000, S, -300000, 1700000},
	    {-1, S, 0, 0},
	    {-S, S, 0, 0},
	    {-S - 1, S, 0, -S},
	    {1767716102001452ll, S, 0, 1767716103000000ll},
	    {1767716102001452ll, 10, 0, 1767716102001460ll},
	    {1767716102001452ll, S, S / 2, 1767716102500000ll},
	    {1767716102501452ll, S, -S / 2, 1767716103500000ll},
	    /* golden 03: interval 3600 s with a large negative offset */
	    {1795319000000000ll, 3600 * S, -1012119762ll, 1795322587880238ll},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t n = ldmsd_sched_next_us(c[i].now, c[i].interval, c[i].offset);
		if (n != c[i].next)
			fail_msg("case %zu: next(%lld, %lld, %lld) = %lld, expected %lld", i,
				 (long long)c[i].now, (long long)c[i].interval,
				 (long long)c[i].offset, (long long)n, (long long)c[i].next);
		/* on the grid, after now, and no grid point was skipped */
		assert_true(n > c[i].now);
		assert_true(n - c[i].interval <= c[i].now);
		int64_t r = (n - c[i].offset) % c[i].interval;
		assert_int_equal(r, 0);
	}
}

struct counter {
	volatile int runs;
	int sleep_us;
};

static void count_cb(void *arg)
{
	struct counter *c = arg;
	__atomic_add_fetch(&c->runs, 1, __ATOMIC_SEQ_CST);
	if (c->sleep_us)
		usleep((useconds_t)c->sleep_us);
}

static void wait_runs(struct counter *c, int n)
{
	for (int i = 0; i < 1000 && __atomic_load_n(&c->runs, __ATOMIC_SEQ_CST) < n; i++)
		usleep(5000);
	assert_true(__atomic_load_n(&c->runs, __ATOMIC_SEQ_CST) >= n);
}

static void test_task_lifecycle(void **state)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	struct ldmsd_sched *s = ldmsd_sched_new(&e);
	assert_non_null(s);
	struct counter c = {0};
	struct ldmsd_sched_task *t = ldmsd_sched_task_new(s, count_cb, &c);
	assert_non_null(t);
	assert_int_equal(ldmsd_sched_task_start(t, 0, 0), -EINVAL);
	assert_int_equal(ldmsd_sched_task_start(t, 10000, 0), 0);
	wait_runs(&c, 3);
	ldmsd_sched_task_stop(t);
	int after = c.runs;
	assert_int_equal((int)ldmsd_sched_task_runs(t), after);
	usleep(50000);
	assert_int_equal(c.runs, after); /* stopped means stopped */

	/* restart, then a slow run: missed slots are skipped, not replayed */
	c.sleep_us = 35000;
	assert_int_equal(ldmsd_sched_task_start(t, 10000, 0), 0);
	wait_runs(&c, after + 3);
	ldmsd_sched_task_stop(t);
	assert_true(ldmsd_sched_task_skipped(t) >= 2);
	ldmsd_sched_task_free(t);

	/* free while running */
	struct counter c2 = {0};
	t = ldmsd_sched_task_new(s, count_cb, &c2);
	assert_int_equal(ldmsd_sched_task_start(t, 10000, 5000), 0);
	wait_runs(&c2, 1);
	ldmsd_sched_task_free(t);
	ldmsd_sched_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next),
	    cmocka_unit_test(test_task_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
