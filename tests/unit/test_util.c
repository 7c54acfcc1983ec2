/* Unit tests of libldms utilities: value parsers (§1.3), permission strings, the
 * access check, located errors and the log writer (format, levels, file). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldms/ldms_util.h"

static void test_time(void **state)
{
	int64_t v = 12345;

	assert_int_equal(ldms_parse_time_us("1000000", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(ldms_parse_time_us("1s", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(ldms_parse_time_us("1.5s", &v), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(ldms_parse_time_us("2 sec", &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(ldms_parse_time_us("250ms", &v), 0);
	assert_int_equal(v, 250000);
	assert_int_equal(ldms_parse_time_us("3milliseconds", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(ldms_parse_time_us("7us", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ldms_parse_time_us("7 microseconds", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ldms_parse_time_us("2m", &v), 0);
	assert_int_equal(v, 120000000);
	assert_int_equal(ldms_parse_time_us("1min", &v), 0);
	assert_int_equal(v, 60000000);
	assert_int_equal(ldms_parse_time_us("1h", &v), 0);
	assert_int_equal(v, 3600000000LL);
	assert_int_equal(ldms_parse_time_us("1d", &v), 0);
	assert_int_equal(v, 86400000000LL);
	assert_int_equal(ldms_parse_time_us("-1012119762us", &v), 0);
	assert_int_equal(v, -1012119762LL);
	assert_int_equal(ldms_parse_time_us("3600000000us", &v), 0);
	assert_int_equal(v, 3600000000LL);

	v = 42;
	assert_int_equal(ldms_parse_time_us("50s40us", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("abc", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("1x", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("inf", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("0x10", &v), -EINVAL);
	assert_int_equal(ldms_parse_time_us("1e30d", &v), -ERANGE);
	assert_int_equal(v, 42); /* untouched on error */
}

static void test_size(void **state)
{
	int64_t v = 0;

	assert_int_equal(ldms_parse_size("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(ldms_parse_size("1k", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(ldms_parse_size("20mb", &v), 0);
	assert_int_equal(v, 20LL << 20);
	assert_int_equal(ldms_parse_size("1G", &v), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(ldms_parse_size("2t", &v), 0);
	assert_int_equal(v, 2LL << 40);
	assert_int_equal(ldms_parse_size("5b", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(ldms_parse_size("-1", &v), 0);
	assert_int_equal(v, -1);
	v = 9;
	assert_int_equal(ldms_parse_size("-2", &v), -EINVAL);
	assert_int_equal(ldms_parse_size("1q", &v), -EINVAL);
	assert_int_equal(ldms_parse_size("k", &v), -EINVAL);
	assert_int_equal(ldms_parse_size("1k2", &v), -EINVAL);
	assert_int_equal(ldms_parse_size("99999999999t", &v), -ERANGE);
	assert_int_equal(v, 9);
}

static void test_perm(void **state)
{
	uint32_t p = 0;
	char buf[11];

	assert_int_equal(ldms_parse_perm_c("0770", &p), 0);
	assert_int_equal(p, 0770);
	assert_int_equal(ldms_parse_perm_c("770", &p), 0); /* decimal, as upstream */
	assert_int_equal(p, 770);
	assert_int_equal(ldms_parse_perm_c("0x1ff", &p), 0);
	assert_int_equal(p, 0777);
	assert_int_not_equal(ldms_parse_perm_c("rw", &p), 0);
	assert_int_not_equal(ldms_parse_perm_c("-1", &p), 0);

	assert_int_equal(ldms_parse_perm_octal("0644", &p), 0);
	assert_int_equal(p, 0644);
	assert_int_equal(ldms_parse_perm_octal("440", &p), 0);
	assert_int_equal(p, 0440);
	assert_int_equal(ldms_parse_perm_octal("0o777", &p), 0);
	assert_int_equal(p, 0777);
	p = 1;
	assert_int_not_equal(ldms_parse_perm_octal("0", &p), 0);
	assert_int_not_equal(ldms_parse_perm_octal("1777", &p), 0);
	assert_int_not_equal(ldms_parse_perm_octal("8", &p), 0);
	assert_int_not_equal(ldms_parse_perm_octal("", &p), 0);
	assert_int_equal(p, 1);

	assert_string_equal(ldms_perm_str(0644, buf), "-rw-r--r--");
	assert_string_equal(ldms_perm_str(0440, buf), "-r--r-----");
	assert_string_equal(ldms_perm_str(0777, buf), "-rwxrwxrwx");
	assert_string_equal(ldms_perm_str(0, buf), "----------");
}

static void test_bool_ids(void **state)
{
	int b = 5;
	uid_t u = 7;
	gid_t g = 7;

	assert_int_equal(ldms_parse_bool("TRUE", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ldms_parse_bool("no", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(ldms_parse_bool("on", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ldms_parse_bool("0", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(ldms_parse_bool("maybe", &b), -EINVAL);

	assert_int_equal(ldms_parse_uid("1234", &u), 0);
	assert_int_equal(u, 1234);
	assert_int_equal(ldms_parse_uid("root", &u), 0);
	assert_int_equal(u, 0);
	assert_int_not_equal(ldms_parse_uid("no-such-user-xyz", &u), 0);
	assert_int_equal(ldms_parse_gid("55", &g), 0);
	assert_int_equal(g, 55);
	assert_int_equal(ldms_parse_gid("root", &g), 0);
	assert_int_equal(g, 0);
	assert_int_not_equal(ldms_parse_gid("no-such-group-xyz", &g), 0);
}

static void test_access(void **state)
{
	/* root always */
	assert_int_equal(ldms_access_check(0, 0, 100, 100, 0, 4), 0);
	/* other bits */
	assert_int_equal(ldms_access_check(5000, 5000, 100, 100, 0444, 4), 0);
	assert_int_equal(ldms_access_check(5000, 5000, 100, 100, 0440, 4), -EACCES);
	/* owner */
	assert_int_equal(ldms_access_check(100, 5000, 100, 100, 0400, 4), 0);
	assert_int_equal(ldms_access_check(100, 5000, 100, 100, 0400, 2), -EACCES);
	/* group by primary gid */
	assert_int_equal(ldms_access_check(5000, 100, 100, 100, 0040, 4), 0);
	assert_int_equal(ldms_access_check(5000, 100, 100, 100, 0020, 4), -EACCES);
	/* write needs write bits */
	assert_int_equal(ldms_access_check(5000, 5000, 100, 100, 0666, 2), 0);
	assert_int_equal(ldms_access_check(5000, 5000, 100, 100, 0444, 2), -EACCES);

	/* supplementary group: find a user whose group list has a group that is
	 * not their primary one */
	struct passwd *pw;
	int found = 0;
	setpwent();
	while (!found && (pw = getpwent())) {
		gid_t groups[64];
		int n = 64;
		if (pw->pw_uid == 0 || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (groups[i] != pw->pw_gid) {
				assert_int_equal(ldms_access_check(pw->pw_uid, pw->pw_gid, 0,
								   groups[i], 0040, 4),
						 0);
				found = 1;
				break;
			}
		}
	}
	endpwent();
	if (!found)
		print_message("no user with supplementary groups here; skipped\n");
	/* a uid that does not exist is in no group */
	assert_int_equal(ldms_access_check(3999999, 3999999, 0, 4, 0040, 4), -EACCES);
}

static void test_err(void **state)
{
	struct ldms_err e;
	char buf[600];

	ldms_err_clear(&e);
	assert_int_equal(e.rc, 0);
	assert_int_equal(ldms_err_set(&e, -EINVAL, "bad %s", "thing"), -EINVAL);
	assert_int_equal(e.rc, -EINVAL);
	assert_string_equal(ldms_err_str(&e, buf, sizeof(buf)), "bad thing");
	assert_int_equal(ldms_err_set_loc(&e, -ENOENT, "a.conf", 3, 7, "no %d", 5), -ENOENT);
	assert_string_equal(ldms_err_str(&e, buf, sizeof(buf)), "a.conf:3:7: no 5");
	ldms_err_set_loc(&e, -ENOENT, "a.conf", 3, 0, "x");
	assert_string_equal(ldms_err_str(&e, buf, sizeof(buf)), "a.conf:3: x");
	ldms_err_set_loc(&e, -ENOENT, "", 2, 9, "y");
	assert_string_equal(ldms_err_str(&e, buf, sizeof(buf)), "2:9: y");
	assert_int_equal(ldms_err_set(NULL, -E2BIG, "ignored"), -E2BIG);
	/* truncation is safe */
	ldms_err_str(&e, buf, 3);
	assert_string_equal(buf, "2:");
}

static void test_log(void **state)
{
	char path[] = "/tmp/ldmsc-test-util-XXXXXX";
	int fd = mkstemp(path);
	char line[1024];
	FILE *fp;
	int n = 0;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ldms_log_level_parse("debug"), LDMS_LDEBUG);
	assert_int_equal(ldms_log_level_parse("WARN"), LDMS_LWARN);
	assert_int_equal(ldms_log_level_parse("warning"), LDMS_LWARN);
	assert_int_equal(ldms_log_level_parse("QUIET"), LDMS_LQUIET);
	assert_int_equal(ldms_log_level_parse("loud"), -1);
	assert_string_equal(ldms_log_level_name(LDMS_LINFO), "INFO");

	assert_int_equal(ldms_log_open(path), 0);
	ldms_log_level_set(LDMS_LINFO);
	assert_int_equal(ldms_log_level_get(), LDMS_LINFO);
	LDMS_LOG_DEBUG("ldmsd", "hidden %d", 1);
	LDMS_LOG_INFO("ldmsd", "Listening on port %d\n", 411);
	LDMS_LOG_ERR("xprt", "boom");
	ldms_log(LDMS_LCRITICAL, NULL, "no logger");
	assert_int_equal(ldms_log_reopen(), 0);
	LDMS_LOG_WARN("ldmsd", "after reopen");
	ldms_log_close();

	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		/* "Sun Nov 22 03:11:14 2026:     INFO: ldmsd: msg" */
		assert_true(strlen(line) > 26);
		assert_int_equal(line[24], ':');
		switch (n) {
		case 0:
			assert_string_equal(line + 24,
					    ":     INFO: ldmsd: Listening on port 411\n");
			break;
		case 1:
			assert_string_equal(line + 24, ":    ERROR: xprt: boom\n");
			break;
		case 2:
			assert_string_equal(line + 24, ": CRITICAL: no logger\n");
			break;
		case 3:
			assert_string_equal(line + 24, ":  WARNING: ldmsd: after reopen\n");
			break;
		}
		n++;
	}
	fclose(fp);
	assert_int_equal(n, 4);
	unlink(path);
	assert_int_not_equal(ldms_log_open("/nonexistent-dir/x/y.log"), 0);
	ldms_log_close();
	ldms_log_level_set(LDMS_LERROR);
}

static void test_time_now(void **state)
{
	uint64_t a = ldms_now_us(), b = ldms_monotonic_us(), c = ldms_monotonic_us();

	assert_true(a > 1600000000ULL * 1000000ULL);
	assert_true(c >= b);
}

/* Patterns whose glibc expansion explodes are refused before regcomp (one of
 * them took 2 minutes and 23 GB before); ordinary ones compile. */
static void test_regcomp(void **state)
{
	regex_t re;
	/* refused before glibc spends minutes and gigabytes on it */
	assert_int_equal(ldms_regcomp(&re, "((((a{1,255}){1,255}){1,255}){1,255})", REG_EXTENDED),
			 REG_ESIZE);
	assert_int_equal(ldms_regcomp(&re, "^node-[0-9]+/meminfo$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, "node-12/meminfo", 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(ldms_regcomp(&re, "a(", REG_EXTENDED), REG_EPAREN);
}

static void test_regex_check(void **state)
{
	static const char *const ok[] = {
	    ".*",
	    "node[0-9]+/meminfo",
	    "^(a|b|c)$",
	    "x{2,5}",
	    "[[:alpha:]]]*",
	    "[]a]{3}",
	    "(ab){1,100}",
	    "a{",
	    "\\(x)",
	    "((a{1,10}){1,10}){1,10}",
	    "a)b",
	    "",
	};
	static const char *const bad[] = {
	    "((((a{1,255}){1,255}){1,255}){1,255})",
	    "((a{1,100}){1,100}){1,100}",
	    "(a{1,1000}){1,1000}",
	    "(a)\\1",
	    ("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a)))))))))))))"
	     "))))))))))))))))))))))))))))))))))))))))))))))))))))"),
	    "(x{30000})",
	};
	struct ldms_err err;
	regex_t re;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ldms_err_clear(&err);
		assert_int_equal(ldms_regex_check(ok[i], &err), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ldms_err_clear(&err);
		assert_int_equal(ldms_regex_check(bad[i], &err), -EINVAL);
		assert_non_null(strstr(err.msg, "refused"));
	}
	/* the largest accepted shape compiles quickly */
	assert_int_equal(ldms_regex_check("((a{1,10}){1,10}){1,10}", &err), 0);
	assert_int_equal(regcomp(&re, "((a{1,10}){1,10}){1,10}", REG_EXTENDED | REG_NOSUB), 0);
	regfree(&re);
	assert_int_equal(ldms_regex_check(NULL, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),	cmocka_unit_test(test_size),
	    cmocka_unit_test(test_perm),	cmocka_unit_test(test_bool_ids),
	    cmocka_unit_test(test_access),	cmocka_unit_test(test_err),
	    cmocka_unit_test(test_log),		cmocka_unit_test(test_time_now),
	    cmocka_unit_test(test_regex_check), cmocka_unit_test(test_regcomp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
