/* ldmsd_controller presentation vs upstream's captured sessions: every JSON reply of
 * ctl_*.json.txt must print as in ctl_*.txt (exactly where the values are stable
 * between the two captures, digit-masked otherwise), --json lines must reproduce
 * python's json.dumps byte for byte, and `help` must match ctl_help.txt. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "ldms/ldms_ctrl.h"

static char *slurp(const char *name)
{
	char path[1024];
	const char *g = getenv("LDMSC_GOLDEN");
	snprintf(path, sizeof(path), "%s/ldms/%s", g ? g : "../shared/golden", name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	return b;
}

/* output of `cmd` in a session file (without the blank separator line) */
static char *section(const char *text, const char *cmd)
{
	char key[128];
	snprintf(key, sizeof(key), "ldmsd_controller> %s\n", cmd);
	const char *s = strstr(text, key);
	if (!s)
		return NULL;
	s += strlen(key);
	const char *e = strstr(s, "ldmsd_controller> ");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n && s[n - 1] == '\n' && n > 1 && s[n - 2] == '\n')
		n--; /* session separator */
	char *r = malloc(n + 1);
	memcpy(r, s, n);
	r[n] = 0;
	return r;
}

static char *fmt(const char *verb, const char *json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = ldms_ctrl_fmt_status(verb, json, f);
	fclose(f);
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* digits -> '#', runs of blanks -> one blank, trailing blanks dropped */
static char *mask(const char *s)
{
	char *r = malloc(strlen(s) + 1), *o = r;
	for (; *s; s++) {
		if ((*s >= '0' && *s <= '9') || *s == '#') {
			if (o == r || o[-1] != '#')
				*o++ = '#';
		} else if (*s == ' ') {
			if (o == r || o[-1] != ' ')
				*o++ = ' ';
		} else if (*s == '.' && o > r && o[-1] == '#' && s[1] >= '0' && s[1] <= '9') {
			/* 1.5 and 15 mask alike */
		} else {
			if (*s == '\n' && o > r && o[-1] == ' ')
				o--;
			*o++ = *s;
		}
	}
	*o = 0;
	return r;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_lines(char *s)
{
	char *lines[4096], *copy = strdup(s), *save = NULL;
	size_t n = 0;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 4096; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), line_cmp);
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		strcat(s, lines[i]);
		strcat(s, "\n");
	}
	free(copy);
}

/* commands whose values do not change between the text and JSON captures */
static const char *exact_cmds[] = {"version",	   "daemon_status",    "prdcr_status",
				   "updtr_status", "updtr_match_list", "strgp_status",
				   "plugn_status", "log_status",       "qgroup_info"};

static int is_exact(const char *c)
{
	for (size_t i = 0; i < sizeof(exact_cmds) / sizeof(exact_cmds[0]); i++)
		if (strcmp(exact_cmds[i], c) == 0)
			return 1;
	return 0;
}

static void check_daemon(const char *d)
{
	char fn[64];
	snprintf(fn, sizeof(fn), "ctl_%s.txt", d);
	char *text = slurp(fn);
	snprintf(fn, sizeof(fn), "ctl_%s.json.txt", d);
	char *jtext = slurp(fn);
	int checked = 0;

	for (char *p = jtext; (p = strstr(p, "ldmsd_controller> ")) != NULL;) {
		char cmd[64];
		p += strlen("ldmsd_controller> ");
		size_t cl = strcspn(p, "\n");
		snprintf(cmd, sizeof(cmd), "%.*s", (int)cl, p);
		char *line = p + cl + 1;
		size_t ll = strcspn(line, "\n");
		char *jl = strndup(line, ll);
		json_error_t err;
		json_t *j = json_loads(jl, 0, &err);
		assert_non_null(j);
		json_t *msg = json_object_get(j, "msg");
		char *msg_s = json_dumps(msg, JSON_ENCODE_ANY);

		/* --json: python json.dumps byte for byte */
		char *buf = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);
		ldms_ctrl_json_print(f, (int)json_integer_value(json_object_get(j, "rc")), msg_s,
				     -1);
		fclose(f);
		if (strcmp(buf, jl) != 0)
			fail_msg("%s %s --json:\n got %s\nwant %s", d, cmd, buf, jl);
		free(buf);

		char *want = section(text, cmd);
		char *got = ldms_ctrl_fmt_has(cmd) ? fmt(cmd, msg_s) : NULL;
		if (want && got) {
			if (is_exact(cmd)) {
				if (strcmp(got, want) != 0)
					fail_msg("%s %s:\n--- got\n%s--- want\n%s", d, cmd, got,
						 want);
			} else if (strcmp(cmd, "store_time_stats")) {
				char *mg = mask(got), *mw = mask(want);
				if (strcmp(cmd, "thread_stats") == 0) {
					/* ops are sorted by value, which differs between runs */
					sort_lines(mg);
					sort_lines(mw);
				}
				if (strcmp(mg, mw) != 0) {
					fprintf(stderr, "--- got\n%s--- want\n%s", mg, mw);
					fail_msg("%s %s (masked)", d, cmd);
				}
				free(mg);
				free(mw);
			}
			checked++;
		}
		free(got);
		free(want);
		free(msg_s);
		json_decref(j);
		free(jl);
		p = line + ll;
	}
	assert_true(checked >= 8);
	free(text);
	free(jtext);
}

static void test_samp1(void **state)
{
	check_daemon("samp1");
}
static void test_l1(void **state)
{
	check_daemon("l1");
}
static void test_l2(void **state)
{
	check_daemon("l2");
}

static void test_unknown(void **state)
{
	assert_int_equal(ldms_ctrl_fmt_status("nosuch", "[]", stdout), -ENOENT);
	assert_int_equal(ldms_ctrl_fmt_status("prdcr_status", "{bad", stdout), -EINVAL);
	assert_int_equal(ldms_ctrl_fmt_status("prdcr_status", "{}", stdout), -EINVAL);
	assert_int_equal(ldms_ctrl_fmt_status("prdcr_status", NULL, stdout), -EINVAL);
	/* hostile shapes must not crash */
	static const char *odd[] = {"[1,2]", "[{\"sets\":5}]", "[{\"name\":[1]}]", "[null]"};
	FILE *f = fopen("/dev/null", "w");
	for (size_t i = 0; i < 4; i++) {
		ldms_ctrl_fmt_status("prdcr_status", odd[i], f);
		ldms_ctrl_fmt_status("updtr_status", odd[i], f);
		ldms_ctrl_fmt_status("strgp_status", odd[i], f);
		ldms_ctrl_fmt_status("msg_stats", odd[i], f);
	}
	ldms_ctrl_fmt_status("update_time_stats",
			     "{\"u\":{\"histogram\":{\"bins\":[1],"
			     "\"boundaries\":[]}}}",
			     f);
	fclose(f);
}

static void test_py_json(void **state)
{
	static const char *cases[][2] = {
	    {"1.5", "{\"rc\": 0, \"msg\": 1.5}"},
	    {"1e22", "{\"rc\": 0, \"msg\": 1e+22}"},
	    {"0.0001", "{\"rc\": 0, \"msg\": 0.0001}"},
	    {"0.00001", "{\"rc\": 0, \"msg\": 1e-05}"},
	    {"123456789012345680.0", "{\"rc\": 0, \"msg\": 1.2345678901234568e+17}"},
	    {"[1,\"\\u00e9\"]", "{\"rc\": 0, \"msg\": [1, \"\\u00e9\"]}"},
	    {"plain text", "{\"rc\": 0, \"msg\": \"plain text\"}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		ldms_ctrl_json_print(f, 0, cases[i][0], -1);
		fclose(f);
		assert_string_equal(buf, cases[i][1]);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_samp1),   cmocka_unit_test(test_l1),
	    cmocka_unit_test(test_l2),	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_py_json),
	};
	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
