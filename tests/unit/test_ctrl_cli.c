/* ldmsd_controller text commands -> requests: the text of each 06a-06j capture must
 * encode to upstream's record bytes; attribute folding (config/env/auth_add/option),
 * defaults and error paths; `help` layout vs ctl_help.txt. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../src/tools/ldmsd_controller_cmds.h"

/* record bytes of frame 6 (the command, msg_no 2) of a 06 capture */
static size_t golden_cmd(const char *scen, uint8_t *out, size_t max)
{
	char path[1024], line[512];
	const char *g = getenv("LDMSC_GOLDEN");
	snprintf(path, sizeof(path), "%s/wire/%s/frames.txt", g ? g : "../shared/golden", scen);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	int in = 0;
	size_t n = 0;
	uint8_t fr[4096];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "frame ", 6) == 0) {
			if (in)
				break;
			in = strncmp(line, "frame 6 ", 8) == 0;
			continue;
		}
		unsigned off, b;
		if (!in || strncmp(line, "    ", 4) || sscanf(line + 4, "%4x", &off) != 1 ||
		    off != n)
			continue;
		for (const char *p = line + 10; n < sizeof(fr) && sscanf(p, "%2x", &b) == 1;
		     p += 3) {
			fr[n++] = (uint8_t)b;
			if (p[2] != ' ' || p[3] == ' ')
				break;
		}
	}
	fclose(f);
	assert_true(n > 44 && n - 44 <= max);
	memcpy(out, fr + 44, n - 44);
	return n - 44;
}

static struct ldms_ctrl_msg *build(const char *line)
{
	char verb[64], err[256] = "";
	const char *args = line + strcspn(line, " ");
	snprintf(verb, sizeof(verb), "%.*s", (int)(args - line), line);
	while (*args == ' ')
		args++;
	struct ldms_ctrl_msg *m = NULL;
	int rc = ctl_build_request(verb, args, &m, err, sizeof(err));
	if (rc)
		fail_msg("%s: %d %s", line, rc, err);
	return m;
}

static void test_golden_text(void **state)
{
	static const char *cases[][2] = {
	    {"06a-ctl-version", "version"},
	    {"06b-ctl-daemon_status", "daemon_status"},
	    {"06c-ctl-prdcr_add",
	     "prdcr_add name=p1 host=127.0.0.1 port=30999 xprt=sock type=active reconnect=2s"},
	    {"06d-ctl-prdcr_start", "prdcr_start name=p1"},
	    {"06e-ctl-prdcr_status", "prdcr_status"},
	    {"06f-ctl-updtr_add", "updtr_add name=u1 interval=1s offset=100ms"},
	    {"06g-ctl-updtr_status", "updtr_status"},
	    {"06h-ctl-load", "load name=meminfo"},
	    {"06i-ctl-plugn_status", "plugn_status"},
	    {"06j-ctl-error", "prdcr_start name=nosuch"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t want[1024], *got;
		size_t wlen = golden_cmd(cases[i][0], want, sizeof(want)), glen;
		struct ldms_ctrl_msg *m = build(cases[i][1]);
		ldms_ctrl_msg_set_msg_no(m, 2);
		assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, 65536, &got, &glen), 0);
		if (glen != wlen || memcmp(got, want, glen))
			fail_msg("%s: encoded bytes differ", cases[i][1]);
		free(got);
		ldms_ctrl_msg_free(m);
	}
}

static void test_folding(void **state)
{
	struct ldms_ctrl_msg *m;

	m = build("config name=meminfo producer=n1 instance=n1/meminfo component_id=1");
	assert_int_equal(ldms_ctrl_msg_req_id(m), LDMSD_PLUGN_CONFIG_REQ);
	assert_int_equal(ldms_ctrl_msg_attr_count(m), 2);
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_NAME), "meminfo");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_STRING),
			    "producer=n1 instance=n1/meminfo component_id=1");
	ldms_ctrl_msg_free(m);

	m = build("env A=1 B=2");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_STRING), "A=1 B=2");
	ldms_ctrl_msg_free(m);

	m = build("auth_add name=d plugin=ovis conf=/x/y");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_PLUGIN), "ovis");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_STRING), "conf=/x/y");
	ldms_ctrl_msg_free(m);

	m = build("option -m 1G  -v INFO");
	assert_int_equal(ldms_ctrl_msg_req_id(m), LDMSD_CMDLINE_OPTIONS_SET_REQ);
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_STRING), "-m 1G  -v INFO");
	ldms_ctrl_msg_free(m);

	/* aliases, keywords, duplicates (first wins); daemon_status folds its keyword */
	m = build("loglevel level=DEBUG test");
	assert_int_equal(ldms_ctrl_msg_req_id(m), LDMSD_VERBOSE_REQ);
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_TEST), "");
	ldms_ctrl_msg_free(m);
	m = build("daemon_status thread_stats");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_STRING), "thread_stats");
	ldms_ctrl_msg_free(m);
	m = build("prdcr_start name=a name=b reconnect=1s");
	assert_int_equal(ldms_ctrl_msg_attr_count(m), 2);
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_NAME), "a");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_INTERVAL), "1s");
	ldms_ctrl_msg_free(m);
	/* an unknown attribute name of an ordinary command is an error naming it */
	{
		char err[256] = "";
		struct ldms_ctrl_msg *bad = NULL;
		assert_int_equal(ctl_build_request("updtr_add", "name=u1 interval=1s ofset=100ms",
						   &bad, err, sizeof(err)),
				 -EINVAL);
		assert_null(bad);
		assert_non_null(strstr(err, "'ofset'"));
	}
	m = build("load name=i1 plugin=meminfo");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_PLUGIN), "meminfo");
	assert_int_equal(ldms_ctrl_msg_attr_count(m), 2);
	ldms_ctrl_msg_free(m);
	m = build("bridge_status");
	assert_int_equal(ldms_ctrl_msg_req_id(m), LDMSD_PRDCR_STATUS_REQ);
	ldms_ctrl_msg_free(m);
	m = build("prdcr_subscribe regex=.* message_channel=foo");
	assert_string_equal(ldms_ctrl_msg_attr_str(m, LDMSD_ATTR_MSG_TAG), "foo");
	ldms_ctrl_msg_free(m);

	struct ldms_ctrl_msg *x = NULL;
	char err[256] = "";
	assert_int_equal(ctl_build_request("nosuch", "", &x, err, sizeof(err)), -ENOSYS);
	assert_null(x);
	err[0] = 0;
	assert_int_equal(ctl_build_request("prdcr_start", "name=", &x, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Syntax error, there are attributes for which no value is given.");

	char pre[256];
	ctl_err_prefix("prdcr_start", "name=nosuch", pre, sizeof(pre));
	assert_string_equal(pre, "Error starting prdcr nosuch: ");
	ctl_err_prefix("version", "", pre, sizeof(pre));
	assert_string_equal(pre, "");
}

static void test_help(void **state)
{
	char path[1024];
	const char *g = getenv("LDMSC_GOLDEN");
	snprintf(path, sizeof(path), "%s/ldms/ctl_help.txt", g ? g : "../shared/golden");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char want[8192];
	size_t n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = 0;
	char *body = strchr(want, '\n') + 1; /* skip the "$ ldmsd_controller ..." line */

	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	fputc('\n', o);
	fputs(
	    "Documented commands (type help <topic>):\n========================================\n",
	    o);
	ldms_ctrl_fmt_columnize(o, ctl_doc_cmds, sizeof(ctl_doc_cmds) / sizeof(ctl_doc_cmds[0]),
				79);
	fputs("\nUndocumented commands:\n======================\n", o);
	ldms_ctrl_fmt_columnize(o, ctl_undoc_cmds, 1, 79);
	fputc('\n', o);
	fclose(o);
	assert_string_equal(buf, body);
	free(buf);
	/* every documented verb is either local or known to the id tables */
	for (size_t i = 0; i < sizeof(ctl_doc_cmds) / sizeof(ctl_doc_cmds[0]); i++) {
		const char *v = ctl_doc_cmds[i];
		if (ldms_ctrl_cmd_id(v) >= 0 || ctl_doc_find(v))
			continue;
		int alias = 0;
		for (size_t k = 0; k < sizeof(ctl_aliases) / sizeof(ctl_aliases[0]); k++)
			alias |= strcmp(ctl_aliases[k].verb, v) == 0;
		static const char *local = " EOF help quit say comment shell source script status "
					   "strgp_plugin_stats ";
		char key[64];
		snprintf(key, sizeof(key), " %s ", v);
		if (!alias && !strstr(local, key))
			fail_msg("documented verb %s is unknown", v);
	}
}

/* Runs the built binary with args; returns its exit code, output in out. */
static int run_ctl(const char *args, char *out, size_t cap)
{
	const char *b = getenv("LDMSC_BUILD");
	char cmd[1024];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/bin/ldmsd_controller %s 2>&1", b ? b : "build", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Bad command lines get a message naming the option and exit 2; an unknown
 * host is named as such (it used to print "No route to host"). */
static void test_bad_cli(void **state)
{
	char out[4096];

	assert_int_equal(run_ctl("--port abc --cmd version", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "invalid --port 'abc'"));
	assert_int_equal(run_ctl("--port 70000 --cmd version", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "invalid --port '70000'"));
	assert_int_equal(run_ctl("--port 1x --cmd version", out, sizeof(out)), 2);
	assert_int_equal(run_ctl("--auth-arg nokv --port 1 --cmd version", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "bad --auth-arg 'nokv'"));
	assert_int_equal(
	    run_ctl("--host nosuch.invalid --port 411 --cmd version", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "cannot resolve host 'nosuch.invalid'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_text),
	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_bad_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
