/* Unit tests of ldmsd's config language and command path: lexical rules (comments,
 * continuation, verb split, tokens, quotes, duplicates), ${VAR} expansion, attribute
 * validation per command, two-pass ordering with deferred *_start and include,
 * errors located at file:line[:col], option parsing with "first setting wins", and
 * the plugin commands against the real sampler plugins of the build tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"
#include "ldmsd_options.h"

static char tmpdir[256];

static void write_text(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ldmsd_cfg_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("LDMSC_TEST_TMP", tmpdir, 1);
	assert_int_equal(ldmsd_cmd_registry_init(), 0);
	return 0;
}

static int teardown_tmp(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- lexer: logical lines ---------------------------------------------------------------- */
struct lines {
	int n;
	char text[16][256];
	int lineno[16];
};

static int collect(void *arg, const char *line, size_t len, int lineno)
{
	struct lines *l = arg;
	assert_true(l->n < 16);
	snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)len, line);
	l->lineno[l->n++] = lineno;
	return 0;
}

static void test_comment_strip(void **state)
{
	const char *a = "regex=a#b x=1 #note";
	assert_int_equal(ldmsd_cfg_comment_strip(a, strlen(a)), 14);
	const char *b = "# whole line";
	assert_int_equal(ldmsd_cfg_comment_strip(b, strlen(b)), 0);
	const char *c = "x=1\t#tab before";
	assert_int_equal(ldmsd_cfg_comment_strip(c, strlen(c)), 4);
	const char *d = "name=#first";
	assert_int_equal(ldmsd_cfg_comment_strip(d, strlen(d)), strlen(d));
}

static void test_lines(void **state)
{
	struct lines l = {0};
	struct ldms_err e;
	ldms_err_clear(&e);
	const char *text = "  # comment only\n"
			   "\n"
			   "load name=a   \n"
			   "config name=a \\\n"
			   "   x=1 # comment in a continued line \\\n"
			   "   y=2\n"
			   "\t \n"
			   "start name=a #c\n"
			   "regex=a#b\n"
			   "last \\";
	assert_int_equal(ldmsd_cfg_lines("f", text, strlen(text), collect, &l, &e), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.text[5], "last");
	assert_string_equal(l.text[0], "load name=a");
	assert_int_equal(l.lineno[0], 3);
	/* the comment on line 5 also swallowed its backslash: line 6 is a new command */
	assert_string_equal(l.text[1], "config name=a  x=1");
	assert_int_equal(l.lineno[1], 4);
	assert_string_equal(l.text[2], "y=2");
	assert_int_equal(l.lineno[2], 6);
	assert_string_equal(l.text[3], "start name=a");
	assert_string_equal(l.text[4], "regex=a#b");
	assert_int_equal(l.lineno[4], 9);

	struct lines l2 = {0};
	const char *cont = "config name=a \\\n x=1 \\\n y=2\nload name=b\nend \\";
	assert_int_equal(ldmsd_cfg_lines("f", cont, strlen(cont), collect, &l2, &e), 0);
	assert_int_equal(l2.n, 3);
	assert_string_equal(l2.text[0], "config name=a  x=1  y=2");
	assert_int_equal(l2.lineno[1], 4);
	assert_string_equal(l2.text[2], "end");

	struct lines l3 = {0};
	const char nul[] = "load name=a\nload na\0me=b\n";
	assert_int_equal(ldmsd_cfg_lines("conf/x.conf", nul, sizeof(nul) - 1, collect, &l3, &e),
			 -EINVAL);
	assert_int_equal(e.line, 2);
	assert_string_equal(e.file, "conf/x.conf");
}

/* ---- lexer: one line -> request ---------------------------------------------------------------
 */
static struct ldmsd_req *parse(const char *line, struct ldms_err *e)
{
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = 7};
	snprintf(o.file, sizeof(o.file), "t.conf");
	struct ldmsd_req *r = NULL;
	ldms_err_clear(e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, e);
	if (rc)
		assert_null(r);
	return r;
}

static const char *val(struct ldmsd_req *r, uint32_t id)
{
	const struct ldmsd_req_attr *a = ldmsd_req_attr_find(r, id);
	return a ? a->value : NULL;
}

static void test_parse_basic(void **state)
{
	struct ldms_err e;
	struct ldmsd_req *r = parse("start name=m interval=1s offset=0 exclusive_thread=1", &e);
	assert_non_null(r);
	assert_int_equal(r->id, LDMSD_PLUGN_START_REQ);
	assert_string_equal(val(r, LDMSD_ATTR_NAME), "m");
	assert_string_equal(val(r, LDMSD_ATTR_INTERVAL), "1s");
	assert_string_equal(val(r, LDMSD_ATTR_OFFSET), "0");
	assert_string_equal(val(r, LDMSD_ATTR_XTHREAD), "1");
	assert_int_equal(r->origin.line, 7);
	ldmsd_req_free(r);

	/* split at the first '=', duplicates: first wins, tabs separate tokens */
	r = parse("prdcr_add name=a=b\tname=second host=h  port=1 xprt=sock type=active "
		  "reconnect=2s",
		  &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_NAME), "a=b");
	assert_string_equal(val(r, LDMSD_ATTR_INTERVAL), "2s"); /* alias */
	ldmsd_req_free(r);

	/* quotes: first and last character removed, nothing else */
	r = parse("load name=\"abc\" plugin=\"x", &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_NAME), "abc");
	assert_string_equal(val(r, LDMSD_ATTR_PLUGIN), "");
	ldmsd_req_free(r);
	r = parse("load name=\"ab", &e);
	assert_string_equal(val(r, LDMSD_ATTR_NAME), "a");
	ldmsd_req_free(r);

	/* keywords are attributes with an empty value; ${VAR} is kept raw until fetched */
	r = parse("log_level level=${LVL} test", &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_TEST), "");
	assert_string_equal(val(r, LDMSD_ATTR_LEVEL), "${LVL}");
	ldmsd_req_free(r);

	r = parse("loglevel level=INFO", &e);
	assert_non_null(r);
	assert_int_equal(r->id, LDMSD_VERBOSE_REQ);
	assert_string_equal(r->verb, "loglevel");
	ldmsd_req_free(r);
}

static void test_parse_errors(void **state)
{
	struct ldms_err e;
	char buf[700];
	assert_null(parse("frobnicate name=x", &e));
	assert_int_equal(e.rc, -ENOSYS);
	assert_string_equal(ldms_err_str(&e, buf, sizeof(buf)),
			    "t.conf:7:1: unknown command 'frobnicate'");

	/* a tab after the verb makes the verb unknown */
	assert_null(parse("load\tname=x", &e));
	assert_int_equal(e.rc, -ENOSYS);

	/* an attribute not valid for THIS command, located at its column */
	assert_null(parse("load name=x interval=1s", &e));
	assert_int_equal(e.rc, -EINVAL);
	assert_int_equal(e.col, 13);
	assert_string_equal(e.msg, "invalid attribute 'interval' for command 'load'");
	assert_null(parse("start name=x bogus=1", &e));
	assert_string_equal(e.msg, "invalid attribute 'bogus' for command 'start'");
	assert_null(parse("load name=x =3", &e));
	assert_int_equal(e.rc, -EINVAL);
}

static void test_parse_freeform(void **state)
{
	struct ldms_err e;
	struct ldmsd_req *r =
	    parse("config name=m producer=${HOST} instance=\"a/b\"  x name=2", &e);
	assert_non_null(r);
	assert_int_equal(r->id, LDMSD_PLUGN_CONFIG_REQ);
	assert_string_equal(val(r, LDMSD_ATTR_NAME), "m");
	assert_string_equal(val(r, LDMSD_ATTR_STRING), "producer=${HOST} instance=\"a/b\" x");
	ldmsd_req_free(r);

	r = parse("env A=1 B=2", &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_STRING), "A=1 B=2");
	ldmsd_req_free(r);

	r = parse("listen xprt=sock port=411 conf=/x host=h", &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_XPRT), "sock");
	assert_string_equal(val(r, LDMSD_ATTR_HOST), "h");
	assert_string_equal(val(r, LDMSD_ATTR_STRING), "conf=/x");
	ldmsd_req_free(r);

	r = parse("auth_add name=a plugin=ovis conf=/s", &e);
	assert_string_equal(val(r, LDMSD_ATTR_PLUGIN), "ovis");
	assert_string_equal(val(r, LDMSD_ATTR_STRING), "conf=/s");
	ldmsd_req_free(r);

	/* option: the whole remainder, verbatim */
	r = parse("option   -m 1G\t -v INFO", &e);
	assert_non_null(r);
	assert_string_equal(val(r, LDMSD_ATTR_STRING), "-m 1G\t -v INFO");
	ldmsd_req_free(r);
}

static void test_env_expand(void **state)
{
	setenv("LDT_A", "aa", 1);
	unsetenv("LDT_UNSET");
	struct {
		const char *in, *out;
	} cases[] = {
	    {"${LDT_A}", "aa"},
	    {"x${LDT_A}y${LDT_A}z", "xaayaaz"},
	    {"${LDT_UNSET}", ""},
	    {"$LDT_A", "$LDT_A"},
	    {"${LDT_A", "${LDT_A"},
	    {"${}", "${}"},
	    {"${LDT-A}", "${LDT-A}"},
	    {"$${LDT_A}}", "$aa}"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = ldmsd_env_expand(cases[i].in);
		assert_non_null(o);
		assert_string_equal(o, cases[i].out);
		free(o);
	}
}

static void test_attrs_parse(void **state)
{
	struct ldmsd_attrs a;
	assert_int_equal(ldmsd_attrs_parse("a=1 b \"q\"=x c=\"v w\" d==e", &a), 0);
	assert_int_equal(a.count, 6);
	assert_string_equal(ldmsd_attr_value(&a, "d"), "=e");
	assert_string_equal(ldmsd_attr_value(&a, "a"), "1");
	assert_string_equal(ldmsd_attr_value(&a, "b"), "");
	assert_string_equal(ldmsd_attr_value(&a, "\"q\""), "x");
	assert_string_equal(ldmsd_attr_value(&a, "c"), ""); /* "v: both chars go */
	assert_string_equal(ldmsd_attr_value(&a, "w\""), "");
	ldmsd_attrs_free(&a);
}

/* ---- validation and dispatch
 * ----------------------------------------------------------------------- */
static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldms_err e;
	struct ldmsd_req *r = parse(line, &e);
	if (!r) {
		rep->rc = e.rc;
		ldmsd_buf_reset(&rep->msg);
		ldmsd_buf_printf(&rep->msg, "%s", e.msg);
		return e.rc;
	}
	int rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static void test_validate_net(void **state)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	struct ldmsd_req *r = ldmsd_req_new(LDMSD_PLUGN_LOAD_REQ, NULL);
	r->origin.kind = LDMSD_ORIGIN_NET;
	assert_int_equal(ldmsd_cmd_validate(r, &e), -EINVAL);
	assert_string_equal(e.msg, "command 'load' requires attribute 'name'");
	assert_int_equal(ldmsd_req_attr_add(r, LDMSD_ATTR_NAME, "x", 1, 0), 0);
	assert_int_equal(ldmsd_req_attr_add(r, LDMSD_ATTR_NAME, "y", 1, 0), 1);
	assert_int_equal(ldmsd_cmd_validate(r, &e), 0);
	ldmsd_req_attr_add(r, LDMSD_ATTR_REGEX, ".*", 2, 0);
	assert_int_equal(ldmsd_cmd_validate(r, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid attribute 'regex' for command 'load'");
	ldmsd_req_free(r);

	/* free-form commands carry their extra attributes as STRING */
	r = ldmsd_req_new(LDMSD_PLUGN_CONFIG_REQ, NULL);
	ldmsd_req_attr_add(r, LDMSD_ATTR_NAME, "x", 1, 0);
	ldmsd_req_attr_add(r, LDMSD_ATTR_STRING, "a=b", 3, 0);
	assert_int_equal(ldmsd_cmd_validate(r, &e), 0);
	ldmsd_req_free(r);

	r = ldmsd_req_new(0x777, "bogus");
	assert_int_equal(ldmsd_cmd_validate(r, &e), -ENOSYS);
	ldmsd_req_free(r);
}

static void test_not_implemented(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	assert_int_equal(exec_line(d, "setgroup_add name=g", &rep), -ENOSYS);
	assert_string_equal(rep.msg.s, "command 'setgroup_add' is not implemented yet");
	assert_int_equal(exec_line(d, "failover_start", &rep), -ENOTSUP);
	assert_non_null(strstr(rep.msg.s, "failover"));
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

static void test_daemon_cmds(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);

	/* env: first wins within one command; values fetched later are expanded */
	assert_int_equal(exec_line(d, "env LDT_E1=one LDT_E1=two LDT_E2=\"q\"", &rep), 0);
	assert_string_equal(getenv("LDT_E1"), "one");
	assert_string_equal(getenv("LDT_E2"), "q");
	assert_int_equal(exec_line(d, "env LDT_E3=${LDT_E1}-x", &rep), 0);
	assert_string_equal(getenv("LDT_E3"), "one-x");
	assert_int_equal(exec_line(d, "env NOEQUALS", &rep), -EINVAL);

	/* start-up settings: the first one wins */
	assert_int_equal(exec_line(d, "set_memory size=2m", &rep), 0);
	assert_int_equal(d->s.set_memory, 2 * 1024 * 1024);
	assert_int_equal(exec_line(d, "option --set_memory 4m -r ${LDMSC_TEST_TMP}/pid", &rep), 0);
	assert_int_equal(d->s.set_memory, 2 * 1024 * 1024);
	assert_non_null(strstr(d->s.pid_file, "/pid"));
	assert_int_equal(exec_line(d, "set_memory size=lots", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "option -x sock:411", &rep), -EINVAL);
	assert_string_equal(rep.msg.s, "option -x is only valid on the ldmsd command line");
	assert_int_equal(exec_line(d, "option -P 4", &rep), -EINVAL);
	assert_string_equal(rep.msg.s, "option -P is obsolete; use the 'worker_threads' command");
	assert_int_equal(exec_line(d, "worker_threads num=3", &rep), 0);
	assert_int_equal(d->s.worker_threads, 3);
	assert_int_equal(exec_line(d, "worker_threads num=0", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "worker_threads num=5", &rep), 0); /* ignored: set */
	assert_int_equal(d->s.worker_threads, 3);
	assert_int_equal(exec_line(d, "banner mode=2", &rep), 0);
	assert_int_equal(d->s.banner, 2);
	assert_int_equal(exec_line(d, "default_quota quota=1k", &rep), 0);
	assert_int_equal(d->s.default_quota, 1024);
	assert_int_equal(exec_line(d, "daemon_name name=${LDT_E1}", &rep), 0);
	assert_string_equal(d->s.daemon_name, "one");
	assert_int_equal(exec_line(d, "log_level level=bogus", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "log_level level=INFO name=x", &rep),
			 -ENOENT); /* no such logger */
	assert_int_equal(exec_line(d, "default_auth plugin=none", &rep), 0);
	assert_string_equal(d->s.auth_plugin, "none");
	assert_int_equal(exec_line(d, "msg_disable", &rep), 0);
	assert_int_equal(d->s.msg_enabled, 0);
	assert_int_equal(exec_line(d, "publish_kernel path=/x", &rep), 0);
	assert_int_equal(exec_line(d, "banner", &rep), -EINVAL);
	assert_string_equal(rep.msg.s, "command 'banner' requires attribute 'mode'");

	/* metric_sets_default_authz echoes the defaults */
	assert_int_equal(exec_line(d, "metric_sets_default_authz uid=0 gid=0 perm=0640", &rep), 0);
	assert_string_equal(rep.msg.s, "defaults: uid=0 gid=0 perm=0640");
	uid_t u;
	gid_t g;
	uint32_t p;
	ldms_set_default_authz_get(&u, &g, &p);
	assert_int_equal(p, 0640);
	assert_int_equal(exec_line(d, "metric_sets_default_authz perm=999", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "metric_sets_default_authz perm=0440", &rep), 0);

	/* listen/auth_add validation (not started: the daemon is not running) */
	assert_int_equal(exec_line(d, "listen xprt=rdma port=1", &rep), -EPROTONOSUPPORT);
	assert_int_equal(exec_line(d, "listen xprt=sock port=99999", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "listen xprt=sock auth=nosuch", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "listen xprt=sock port=12345 host=127.0.0.1", &rep), 0);
	assert_int_equal(exec_line(d, "listen xprt=sock port=12345 host=127.0.0.1", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "listen xprt=sock", &rep), 0); /* port 411 */
	assert_string_equal(TAILQ_LAST(&d->listeners, ldmsd_listen_list)->port, "411");
	assert_int_equal(exec_line(d, "auth_add name=a1 plugin=none", &rep), 0);
	assert_int_equal(exec_line(d, "auth_add name=a1 plugin=none", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "auth_add name=DEFAULT plugin=none", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "auth_add name=a2 plugin=nosuchauth", &rep) < 0, 1);
	assert_int_equal(exec_line(d, "listen xprt=sock port=12346 auth=a1", &rep), 0);
	assert_int_equal(ldmsd_listen_count(d), 3);

	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

/* ---- options
 * --------------------------------------------------------------------------------------- */
static void test_options(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_cli cli = {0};
	struct ldms_err e;
	ldms_err_clear(&e);
	char *av[] = {"ldmsd",
		      "-x",
		      "sock:10001:127.0.0.1",
		      "-c",
		      "a.conf",
		      "-Fv",
		      "INFO",
		      "-m1G",
		      "--set_memory=2G",
		      "-A",
		      "conf=/x",
		      "-y",
		      "b.yaml",
		      "--daemon_name",
		      "dn",
		      "-c",
		      "c.conf",
		      "--worker_threads",
		      "2",
		      "--check",
		      "-a",
		      "ovis",
		      "-x",
		      "sock:10002",
		      NULL};
	int ac = sizeof(av) / sizeof(av[0]) - 1;
	assert_int_equal(ldmsd_options_parse(d, ac, av, 1, &cli, "cli", &e), 0);
	assert_int_equal(cli.n_cfgs, 3);
	assert_string_equal(cli.cfgs[0].path, "a.conf");
	assert_int_equal(cli.cfgs[1].is_yaml, 1);
	assert_string_equal(cli.cfgs[2].path, "c.conf");
	assert_int_equal(cli.check, 1);
	assert_int_equal(cli.n_xprts, 2);
	assert_int_equal(ldmsd_listen_count(d), 2);
	assert_string_equal(TAILQ_FIRST(&d->listeners)->host, "127.0.0.1");
	assert_null(TAILQ_LAST(&d->listeners, ldmsd_listen_list)->host);
	assert_int_equal(d->s.log_level, LDMS_LINFO);
	assert_int_equal(d->s.set_memory, 1024 * 1024 * 1024); /* first wins */
	assert_string_equal(d->s.daemon_name, "dn");
	assert_int_equal(d->s.worker_threads, 2);
	assert_string_equal(d->s.auth_plugin, "ovis");
	assert_int_equal(d->s.auth_argc, 1);
	assert_string_equal(d->s.auth_args[0], "conf=/x");
	char nb[300];
	assert_string_equal(ldmsd_daemon_name(d, nb, sizeof(nb)), "dn");
	ldmsd_cli_free(&cli);
	ldms_log_level_set(LDMS_LERROR);

	struct {
		char *args[4];
		const char *msg;
	} bad[] = {
	    {{"-P", "3"}, "option -P is obsolete; use the 'worker_threads' command"},
	    {{"-B", "1"}, "option -B is obsolete; use the 'banner' command"},
	    {{"-k"}, "option -k is obsolete; use the 'publish_kernel' command"},
	    {{"-q"}, "unknown option '-q'"},
	    {{"--bogus"}, "unknown option '--bogus'"},
	    {{"-c"}, "option -c requires a value"},
	    {{"--check=1"}, "option --check takes no value"},
	    {{"stray"}, "unexpected argument 'stray'"},
	    {{"-x", "sock"}, "-x: expected XPRT:PORT[:HOST], got 'sock'"},
	    {{"-v", "LOUD"}, NULL},
	    {{"--worker_threads", "0"}, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ldmsd *d2 = ldmsd_new();
		struct ldmsd_cli c2 = {0};
		char *a2[6] = {"ldmsd"};
		int n = 1;
		for (int j = 0; j < 4 && bad[i].args[j]; j++)
			a2[n++] = bad[i].args[j];
		ldms_err_clear(&e);
		assert_int_equal(ldmsd_options_parse(d2, n, a2, 1, &c2, "cli", &e), -EINVAL);
		if (bad[i].msg)
			assert_string_equal(e.msg, bad[i].msg);
		ldmsd_cli_free(&c2);
		ldmsd_free(d2);
	}
	ldmsd_free(d);
}

/* ---- the runner: two passes, deferral, include
 * ----------------------------------------------------- */
static int run_file(struct ldmsd *d, enum ldmsd_cfg_mode mode, const char *name,
		    struct ldmsd_cfg_run **out, struct ldms_err *e)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	struct ldmsd_cfg_run *run = ldmsd_cfg_run_new(d, mode);
	ldms_err_clear(e);
	int rc = ldmsd_cfg_run_file(run, path, e);
	if (out)
		*out = run;
	else
		ldmsd_cfg_run_free(run);
	return rc;
}

static const char *basename_err(struct ldms_err *e, char *buf, size_t len)
{
	ldms_err_str(e, buf, len);
	const char *p = strstr(buf, tmpdir);
	return p ? p + strlen(tmpdir) + 1 : buf;
}

static void test_two_pass(void **state)
{
	struct ldms_err e;
	char buf[1200];
	struct ldmsd_cfg_run *run;
	struct ldmsd *d = ldmsd_new();
	unsetenv("LDT_P1");
	unsetenv("LDT_INC");
	write_text("inc.conf", "env LDT_INC=yes\n"
			       "load name=nosuch_b\n");
	write_text("main.conf", "prdcr_start name=p\n"
				"load name=nosuch_a\n"
				"env LDT_P1=${LDMSC_TEST_TMP}\n"
				"include path=${LDT_P1}/inc.conf\n"
				"updtr_start name=u\n");
	/* pass 1 runs env and include (its priority lines too); the rest waits */
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "main.conf", &run, &e), 0);
	assert_string_equal(getenv("LDT_P1"), tmpdir);
	assert_string_equal(getenv("LDT_INC"), "yes");
	assert_int_equal(ldmsd_cfg_run_pending(run), 4);
	/* pass 2: prdcr_start is deferred, so the first failure is the load on line 2 */
	assert_int_equal(ldmsd_cfg_run_finish(run, &e), -ENOENT);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(basename_err(&e, buf, sizeof(buf)), "main.conf:2: load nosuch_a: "
								   "plugin 'nosuch_a' not found"));
	ldmsd_cfg_run_free(run);

	/* the deferred commands run after everything else, in order */
	write_text("defer.conf", "prdcr_start name=p\n"
				 "load name=meminfo\n"
				 "updtr_start name=u\n"
				 "term name=meminfo\n");
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "defer.conf", &run, &e), 0);
	assert_int_equal(ldmsd_cfg_run_finish(run, &e), -ENOENT);
	assert_string_equal(basename_err(&e, buf, sizeof(buf)),
			    "defer.conf:1: The producer specified does not exist.");
	ldmsd_cfg_run_free(run);
	assert_null(TAILQ_FIRST(&d->plugins)); /* load and term both ran */

	/* errors inside an included file are located there */
	write_text("bad_inc.conf", "env A=1\n\nnosuchverb x=1\n");
	write_text("outer.conf", "include path=${LDMSC_TEST_TMP}/bad_inc.conf\n");
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "outer.conf", NULL, &e), -ENOSYS);
	assert_string_equal(basename_err(&e, buf, sizeof(buf)),
			    "bad_inc.conf:3:1: unknown command 'nosuchverb'");
	write_text("missing.conf", "env A=1\ninclude path=/nonexistent/x.conf\n");
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "missing.conf", NULL, &e), -ENOENT);
	assert_string_equal(basename_err(&e, buf, sizeof(buf)),
			    "missing.conf:2: cannot open config file '/nonexistent/x.conf': No "
			    "such file or directory");
	/* include loops end */
	write_text("loop.conf", "include path=${LDMSC_TEST_TMP}/loop.conf\n");
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "loop.conf", NULL, &e), -ELOOP);

	/* a priority command's failure stops pass 1 at its line */
	write_text("prio.conf", "load name=x\n\nset_memory size=-5\n");
	assert_int_equal(run_file(d, LDMSD_CFG_STARTUP, "prio.conf", NULL, &e), -EINVAL);
	assert_int_equal(e.line, 3);

	/* check mode validates without executing */
	write_text("check.conf", "load name=nosuch\nstart name=nosuch interval=1s\n");
	assert_int_equal(run_file(d, LDMSD_CFG_CHECK, "check.conf", NULL, &e), 0);
	write_text("check2.conf", "load name=nosuch\nstart interval=1s\n");
	assert_int_equal(run_file(d, LDMSD_CFG_CHECK, "check2.conf", NULL, &e), -EINVAL);
	assert_string_equal(basename_err(&e, buf, sizeof(buf)),
			    "check2.conf:2: command 'start' requires attribute 'name'");

	/* runtime mode (include sent in-band): everything in order */
	write_text("rt.conf", "load name=meminfo\nterm name=meminfo\n");
	assert_int_equal(run_file(d, LDMSD_CFG_RUNTIME, "rt.conf", NULL, &e), 0);
	ldmsd_free(d);
}

/* ---- plugins
 * ----------------------------------------------------------------------------------------- */
static int json_has(struct ldmsd_reply *rep, const char *s)
{
	return rep->json.s && strstr(rep->json.s, s) != NULL;
}

static int hint_of(const char *inst, char *buf, size_t len)
{
	ldms_set_t s = ldms_set_by_name(inst);
	if (!s)
		return -ENOENT;
	char *v = ldms_set_info_get(s, "updt_hint_us");
	snprintf(buf, len, "%s", v ? v : "");
	free(v);
	ldms_set_put(s);
	return 0;
}

static void test_plugins(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	char hint[64];
	ldmsd_reply_init(&rep);

	assert_int_equal(exec_line(d, "load name=nosuch", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "load name=../x", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "load name=m1 plugin=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "load name=m1 plugin=meminfo", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "load name=m2 plugin=meminfo", &rep), 0); /* multi */
	assert_int_equal(exec_line(d, "load name=la1 plugin=loadavg", &rep), 0);
	assert_int_equal(exec_line(d, "load name=la2 plugin=loadavg", &rep), -EEXIST);
	assert_non_null(strstr(rep.msg.s, "does not support multiple instances"));

	assert_int_equal(exec_line(d, "plugn_status", &rep), 0);
	assert_true(json_has(&rep,
			     "[{\"name\":\"m1\",\"plugin\":\"meminfo\",\"type\":\"sampler[M]\","
			     "\"libpath\":\""));
	assert_true(json_has(&rep, "libmeminfo.so\"},{\"name\":\"m2\""));
	assert_true(json_has(&rep, "\"type\":\"sampler[S]\""));
	assert_int_equal(exec_line(d, "plugn_status name=la1", &rep), 0);
	assert_false(json_has(&rep, "m1"));

	/* errors from the plugin's config come back with its message */
	assert_int_equal(exec_line(d, "config name=m1 instance=x/m1", &rep) < 0, 1);
	assert_non_null(strstr(rep.msg.s, "config m1: "));
	assert_non_null(strstr(rep.msg.s, "producer"));
	setenv("LDT_PROD", "ldt-node", 1);
	assert_int_equal(exec_line(d,
				   "config name=m1 producer=${LDT_PROD} instance=${LDT_PROD}/m1 "
				   "component_id=3",
				   &rep),
			 0);
	assert_int_equal(exec_line(d, "config name=m1 producer=p instance=p/m1b", &rep), -EEXIST);
	assert_int_equal(exec_line(d, "config name=nosuch producer=p", &rep), -ENOENT);
	assert_int_equal(hint_of("ldt-node/m1", hint, sizeof(hint)), 0);
	assert_string_equal(hint, "");

	assert_int_equal(exec_line(d, "plugn_sets", &rep), 0);
	assert_true(json_has(&rep, "{\"plugin\":\"m1\",\"sets\":[\"ldt-node/m1\"]}"));

	/* start: interval >= 10us, |offset| <= interval/2 */
	assert_int_equal(exec_line(d, "start name=m1 interval=5us", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "start name=m1 interval=xyz", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "start name=m1 interval=1s offset=600ms", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "start name=m1 interval=1s offset=-600ms", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "start name=m1 interval=1h offset=-1800s", &rep), 0);
	assert_int_equal(hint_of("ldt-node/m1", hint, sizeof(hint)), 0);
	assert_string_equal(hint, "3600000000:-1800000000");
	assert_int_equal(exec_line(d, "start name=m1 interval=1s", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "term name=m1", &rep), -EBUSY);
	assert_int_equal(exec_line(d, "stop name=m1", &rep), 0);
	assert_int_equal(exec_line(d, "stop name=m1", &rep), -EINVAL);
	/* a restart with another schedule updates the hint of existing sets */
	assert_int_equal(
	    exec_line(d, "start name=m1 interval=2s offset=100ms exclusive_thread=1", &rep), 0);
	assert_int_equal(hint_of("ldt-node/m1", hint, sizeof(hint)), 0);
	assert_string_equal(hint, "2000000:100000");
	assert_int_equal(exec_line(d, "stop name=m1", &rep), 0);

	assert_int_equal(exec_line(d, "usage name=m1", &rep), 0);
	assert_non_null(strstr(rep.msg.s, "m1 (meminfo):"));
	assert_int_equal(exec_line(d, "usage name=zz", &rep), -ENOENT);

	assert_int_equal(exec_line(d, "term name=m1", &rep), 0);
	assert_int_equal(hint_of("ldt-node/m1", hint, sizeof(hint)), -ENOENT); /* set deleted */
	assert_int_equal(exec_line(d, "term name=m1", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "plugn_sets name=m1", &rep), -ENOENT);
	assert_int_equal(d->cfg_cntr > 0, 1);

	ldmsd_reply_free(&rep);
	ldmsd_free(d); /* unloads m2 and la1 */
}

/* ---- the network path: control requests over a real loopback connection ------------------------
 */
static struct ldms_ctrl_msg *request(struct ldms_ctrl_client *cli, uint32_t id, const char *name,
				     uint32_t *err)
{
	struct ldms_ctrl_msg *req = ldms_ctrl_req_new(id), *rsp = NULL;
	assert_non_null(req);
	if (name)
		assert_int_equal(ldms_ctrl_req_attr_add(req, LDMSD_ATTR_NAME, name), 0);
	assert_int_equal(ldms_ctrl_request(cli, req, &rsp, 5000), 0);
	ldms_ctrl_msg_free(req);
	*err = ldms_ctrl_msg_rsp_err(rsp);
	return rsp;
}

static void test_net_path(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	struct ldms_err e;
	char path[512], vpath[600];
	uint32_t err;
	ldmsd_reply_init(&rep);
	ldms_err_clear(&e);
	snprintf(path, sizeof(path), "%s/ldmsd.pid", tmpdir);
	snprintf(vpath, sizeof(vpath), "%s.version", path);
	assert_int_equal(exec_line(d, "listen xprt=sock port=0 host=127.0.0.1", &rep), 0);
	assert_int_equal(exec_line(d, "pid_file path=${LDMSC_TEST_TMP}/ldmsd.pid", &rep), 0);
	assert_int_equal(ldmsd_start(d, &e), 0);
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(access(vpath, R_OK), 0);
	const char *port = TAILQ_FIRST(&d->listeners)->port;
	assert_string_not_equal(port, "0");

	/* before in-band configuration is enabled only start-up queries are served */
	struct ldms_ctrl_client *cli =
	    ldms_ctrl_client_connect("127.0.0.1", port, "sock", NULL, 5000, &e);
	assert_non_null(cli);
	struct ldms_ctrl_msg *rsp = request(cli, LDMSD_PLUGN_LOAD_REQ, "meminfo", &err);
	assert_int_equal(err, EBUSY);
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_PLUGN_STATUS_REQ, NULL, &err);
	assert_int_equal(err, 0);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "[]");
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_client_close(cli);
	d->inband = 1;

	cli = ldms_ctrl_client_connect("127.0.0.1", port, "sock", NULL, 5000, &e);
	assert_non_null(cli);
	rsp = request(cli, LDMSD_VERSION_REQ, NULL, &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(ldms_ctrl_msg_text(rsp), "\"LDMSD Version\":\"4.5."));
	ldms_ctrl_msg_free(rsp);
	assert_int_equal(ldms_ctrl_client_ver(cli), LDMS_CTRL_V_MAIN);

	rsp = request(cli, LDMSD_PLUGN_LOAD_REQ, "meminfo", &err);
	assert_int_equal(err, 0);
	assert_null(ldms_ctrl_msg_text(rsp));
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_PLUGN_LOAD_REQ, "meminfo", &err);
	assert_int_equal(err, EEXIST);
	assert_string_equal(ldms_ctrl_msg_text(rsp),
			    "load: plugin instance 'meminfo' is already loaded");
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_PLUGN_LOAD_REQ, NULL, &err);
	assert_int_equal(err, EINVAL);
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_CFG_CNTR_REQ, NULL, &err);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "2");
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_PLUGN_STATUS_REQ, NULL, &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(ldms_ctrl_msg_text(rsp), "[{\"name\":\"meminfo\",\"plugin\":"));
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_DAEMON_STATUS_REQ, NULL, &err);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "{\"state\":\"ready\"}");
	ldms_ctrl_msg_free(rsp);
	rsp = request(cli, LDMSD_PRDCR_STATUS_REQ, NULL, &err);
	assert_int_equal(err, 0);
	assert_string_equal(ldms_ctrl_msg_text(rsp), "[]");
	ldms_ctrl_msg_free(rsp);
	ldms_ctrl_client_close(cli);

	/* listen after start-up listens at once */
	assert_int_equal(exec_line(d, "listen xprt=sock port=0 host=127.0.0.1 auth=DEFAULT", &rep),
			 0);
	assert_string_not_equal(TAILQ_LAST(&d->listeners, ldmsd_listen_list)->port, "0");
	assert_int_equal(exec_line(d, "set_memory size=1m", &rep), -EBUSY);

	ldmsd_reply_free(&rep);
	ldmsd_free(d);
	assert_int_not_equal(access(path, F_OK), 0);  /* removed at exit */
	assert_int_not_equal(access(vpath, F_OK), 0); /* banner mode 1 */
}

/* ---- the binary: exit codes and messages of start-up
 * ------------------------------------------------- */
static int run_ldmsd(const char *args, char *out, size_t len)
{
	const char *b = getenv("LDMSC_BUILD");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && timeout 20 '%s/sbin/ldmsd' %s 2>&1", tmpdir,
		 b ? b : "build", args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_binary(void **state)
{
	char out[4096];
	if (!getenv("LDMSC_BUILD"))
		skip();
	assert_int_equal(run_ldmsd("-V", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "LDMSD Version: 4.5.3.0 (ldms-c "));
	assert_non_null(strstr(out, "\nLDMS Protocol Version: 4.2.0.0\n"));
	assert_non_null(strstr(out, "\nLDMSD Plugin Interface Version: "));
	assert_int_equal(run_ldmsd("", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "nothing to do"));
	assert_int_equal(run_ldmsd("-x sock:1 -P 4", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "option -P is obsolete; use the 'worker_threads' command"));
	assert_int_equal(run_ldmsd("-h", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usage: ldmsd"));
	write_text("ok.conf", "load name=meminfo\nstart name=meminfo interval=1s\n");
	assert_int_equal(run_ldmsd("-x sock:1:127.0.0.1 -c ok.conf --check", out, sizeof(out)), 0);
	write_text("ko.conf", "load name=meminfo\n\nstart name=meminfo offset=1\n");
	assert_int_equal(run_ldmsd("-c ko.conf --check", out, sizeof(out)), 1);
	assert_string_equal(out, "ldmsd: ko.conf:3: command 'start' requires attribute "
				 "'interval'\n");
	write_text("ko2.conf", "env A=1\nload name=meminfo\nconfig name=meminfo instance=i\n");
	assert_int_equal(run_ldmsd("-x sock:0:127.0.0.1 -c ko2.conf", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "ldmsd: ko2.conf:3: config meminfo: producer"));
	assert_int_equal(run_ldmsd("-u meminfo", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "config name=meminfo producer="));
	assert_int_equal(run_ldmsd("-y x.yaml", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "-n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comment_strip),   cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_parse_basic),	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_freeform),  cmocka_unit_test(test_env_expand),
	    cmocka_unit_test(test_attrs_parse),	    cmocka_unit_test(test_validate_net),
	    cmocka_unit_test(test_not_implemented), cmocka_unit_test(test_daemon_cmds),
	    cmocka_unit_test(test_options),	    cmocka_unit_test(test_two_pass),
	    cmocka_unit_test(test_plugins),	    cmocka_unit_test(test_net_path),
	    cmocka_unit_test(test_binary),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
