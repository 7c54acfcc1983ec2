/* Hostlist expansion (maestro.md §3.5): python-hostlist 1.20 results, error conditions and
 * their precedence, zero padding, duplicates, byte and numeric sorts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldms/ldms_hostlist.h"

/* Expands and joins with ',' ("" for an error: *err set). */
static char *expand_join(const char *expr, int sort, const char **err)
{
	struct ldms_hostlist h;
	ldms_hostlist_init(&h);
	*err = NULL;
	if (ldms_hostlist_expand(expr, &h, err)) {
		assert_int_equal(h.count, 0);
		return strdup("");
	}
	if (sort == 1)
		ldms_hostlist_sort(&h);
	else if (sort == 2)
		ldms_hostlist_sort_numeric(&h);
	size_t len = 1;
	for (size_t i = 0; i < h.count; i++)
		len += strlen(h.names[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < h.count; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, h.names[i]);
	}
	ldms_hostlist_free(&h);
	return s;
}

static void check(const char *expr, int sort, const char *want)
{
	const char *err;
	char *got = expand_join(expr, sort, &err);
	if (err || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\" (err %s), want \"%s\"", expr, got, err ? err : "-", want);
	free(got);
}

static void check_err(const char *expr, const char *want)
{
	const char *err;
	char *got = expand_join(expr, 0, &err);
	if (!err || strcmp(err, want) != 0)
		fail_msg("%s: got error %s (\"%s\"), want %s", expr, err ? err : "none", got, want);
	free(got);
}

static void test_basic(void **state)
{
	check("", 0, "");
	check("node1", 0, "node1");
	check("a,b,,c,", 0, "a,b,c");
	check("r[1-2]-c[1-3]", 0, "r1-c1,r1-c2,r1-c3,r2-c1,r2-c2,r2-c3");
	check("n[1-3],n2,m", 0, "n1,n2,n3,m");
	check("n[1-3],n2,m", 1, "m,n1,n2,n3");
	check("[01-10]", 0, "01,02,03,04,05,06,07,08,09,10");
	check("[1-010]", 0, "1,2,3,4,5,6,7,8,9,10");
	check("[8-12]", 0, "8,9,10,11,12");
	check("x[007]", 0, "x007");
	check("x[1,3,5-6]y", 0, "x1y,x3y,x5y,x6y");
	check("[9998-10001]", 1, "10000,10001,9998,9999");
	check("samp-[1-10]", 1,
	      "samp-1,samp-10,samp-2,samp-3,samp-4,samp-5,samp-6,samp-7,samp-8,samp-9");
	check("node-[1-2]-[10002-10003]", 0, "node-1-10002,node-1-10003,node-2-10002,node-2-10003");
	check("a b", 0, "a b"); /* no trimming */
	check("[1-1]", 0, "1");
	check("n[99999999999999999999-100000000000000000001]", 0,
	      "n99999999999999999999,n100000000000000000000,n100000000000000000001");
}

static void test_sorts(void **state)
{
	check("samp-[1-10]", 2,
	      "samp-1,samp-2,samp-3,samp-4,samp-5,samp-6,samp-7,samp-8,samp-9,samp-10");
	check("b2,a10,a9,a09", 2, "a9,a09,a10,b2"); /* equal numbers keep their order */
	check("abc,1abc,10,9", 2, "1abc,9,10,abc");
	assert_true(ldms_hostlist_numeric_cmp("a1", "a1b") < 0);
	assert_true(ldms_hostlist_numeric_cmp("a", "a1") < 0);
	assert_int_equal(ldms_hostlist_numeric_cmp("x01", "x1"), 0);
	assert_true(ldms_hostlist_numeric_cmp("n2", "n10") < 0);

	struct ldms_hostlist h;
	const char *err;
	ldms_hostlist_init(&h);
	assert_int_equal(ldms_hostlist_expand("n[1-20]", &h, &err), 0);
	ldms_hostlist_sort(&h);
	assert_int_equal(ldms_hostlist_find_sorted(&h, "n1"), 0);
	assert_int_equal(ldms_hostlist_find_sorted(&h, "n10"), 1);
	assert_int_equal(ldms_hostlist_find_sorted(&h, "n9"), 19);
	assert_int_equal(ldms_hostlist_find_sorted(&h, "n21"), -1);
	/* appending keeps what was there (expand_names of a YAML list) */
	assert_int_equal(ldms_hostlist_expand("n1,zz", &h, &err), 0);
	assert_int_equal(h.count, 22);
	ldms_hostlist_free(&h);
}

static void test_errors(void **state)
{
	check_err("samp-[1-4", "unbalanced brackets");
	check_err("a]b", "unbalanced brackets");
	check_err("samp-[1-[2]]", "nested brackets");
	check_err("node-[4-1]", "start > stop");
	check_err("node-[a-d]", "bad range");
	check_err("n[1-]", "bad range");
	check_err("n[]", "bad range");
	check_err("n[-3]", "bad range");
	check_err("n[1-2-3]", "bad range");
	check_err("n[0-100001]", "range too large");
}

static void test_limits(void **state)
{
	struct ldms_hostlist h;
	const char *err;
	ldms_hostlist_init(&h);
	assert_int_equal(ldms_hostlist_expand("n[1-100000]", &h, &err), 0);
	assert_int_equal(h.count, 100000);
	ldms_hostlist_free(&h);
	/* a range of HI-LO = 100000 is allowed but its 100001 names are too many */
	check_err("n[0-100000]", "results too large");
	check_err("a[1-1000]b[1-1000]", "results too large");
	/* a caller's bound on the whole expression */
	ldms_hostlist_init(&h);
	assert_int_equal(ldms_hostlist_expand_max("a[1-10],b[1-10]", &h, 20, &err), 0);
	assert_int_equal(h.count, 20);
	assert_int_equal(ldms_hostlist_expand_max("c[1-10],d[1-11]", &h, 20, &err), -EINVAL);
	assert_string_equal(err, "results too large");
	assert_int_equal(h.count, 20);
	ldms_hostlist_free(&h);
	/* the text after the first bracket group is expanded first (its error wins) */
	check_err("a[x]b[2-1]", "start > stop");
	/* parts are expanded as the scan reaches their comma */
	check_err("a[2-1],b[", "start > stop");
	check_err("a[1-2],b[", "unbalanced brackets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_sorts),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
