/* Named loggers (ldms_util.h, log.c) and ldmsd's log_level name=/regex= and
 * log_status: a logger with its own level set filters only its own lines; level
 * lists enable exactly the listed levels; unknown loggers follow the default. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

static char log_path[64];

static int setup(void **state)
{
	snprintf(log_path, sizeof(log_path), "/tmp/test_log.%d.log", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	ldms_log_close();
	unlink(log_path);
	ldms_log_level_set(LDMS_LERROR);
	return 0;
}

/* Lines of the log file (after the 24-character timestamp), joined by '|'. */
static char *log_lines(void)
{
	static char out[8192];
	char line[1024];
	FILE *fp = fopen(log_path, "r");
	assert_non_null(fp);
	out[0] = '\0';
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		assert_true(strlen(line) > 26);
		if (out[0])
			strcat(out, "|");
		strncat(out, line + 24, sizeof(out) - strlen(out) - 1);
	}
	fclose(fp);
	return out;
}

static void log_restart(void)
{
	ldms_log_close();
	unlink(log_path);
	assert_int_equal(ldms_log_open(log_path), 0);
}

static void test_mask_parse(void **state)
{
	int m;
	char b[80];
	assert_int_equal(ldms_log_mask_parse("DEBUG", &m), 0);
	assert_int_equal(m, 0x1f);
	assert_int_equal(ldms_log_mask_parse("warn", &m), 0);
	assert_int_equal(m, 0x1c);
	assert_int_equal(ldms_log_mask_parse("INFO,ERROR", &m), 0);
	assert_int_equal(m, (1 << LDMS_LINFO) | (1 << LDMS_LERROR));
	assert_string_equal(ldms_log_mask_str(m, b, sizeof(b)), "INFO,ERROR");
	assert_int_equal(ldms_log_mask_parse("QUIET", &m), 0);
	assert_int_equal(m, 0);
	assert_string_equal(ldms_log_mask_str(m, b, sizeof(b)), "QUIET");
	assert_int_equal(ldms_log_mask_parse("default", &m), 0);
	assert_int_equal(m, -1);
	assert_string_equal(ldms_log_mask_str(m, b, sizeof(b)), "default");
	assert_string_equal(ldms_log_mask_str(0x1e, b, sizeof(b)), "INFO,WARNING,ERROR,CRITICAL");
	assert_int_equal(ldms_log_mask_parse("loud", &m), -EINVAL);
	assert_int_equal(ldms_log_mask_parse("INFO,", &m), -EINVAL);
	assert_int_equal(ldms_log_mask_parse(",INFO", &m), -EINVAL);
	assert_int_equal(ldms_log_mask_parse("", &m), -EINVAL);
	/* the classic single threshold still reads back */
	ldms_log_level_set(LDMS_LWARN);
	assert_int_equal(ldms_log_level_get(), LDMS_LWARN);
	assert_int_equal(ldms_log_mask_get(), 0x1c);
	ldms_log_level_set(LDMS_LQUIET);
	assert_int_equal(ldms_log_mask_get(), 0);
	assert_int_equal(ldms_log_level_get(), LDMS_LQUIET);
}

static void test_named_loggers(void **state)
{
	int m;
	assert_int_equal(ldms_logger_register("tlog.a", "A"), 0);
	assert_int_equal(ldms_logger_register("tlog.b", NULL), 0);
	assert_int_equal(ldms_logger_register("tlog.b", "B"), 0); /* idempotent */
	assert_int_equal(ldms_logger_mask_set("tlog.none", 0x1f), -ENOENT);
	assert_int_equal(ldms_logger_mask_get("tlog.a", &m), 0);
	assert_int_equal(m, -1);

	log_restart();
	ldms_log_level_set(LDMS_LINFO);
	/* tlog.a at ERROR: its INFO lines go, tlog.b's and unknown loggers' stay */
	assert_int_equal(ldms_logger_mask_set("tlog.a", 0x18), 0);
	ldms_log(LDMS_LINFO, "tlog.a", "a info");
	ldms_log(LDMS_LERROR, "tlog.a", "a error");
	ldms_log(LDMS_LINFO, "tlog.b", "b info");
	ldms_log(LDMS_LDEBUG, "tlog.b", "b debug");
	ldms_log(LDMS_LINFO, "tlog.unregistered", "u info");
	ldms_log(LDMS_LINFO, NULL, "nameless info");
	assert_string_equal(log_lines(), ":    ERROR: tlog.a: a error"
					 "|:     INFO: tlog.b: b info"
					 "|:     INFO: tlog.unregistered: u info"
					 "|:     INFO: nameless info");

	/* a list is exactly those levels, even below the default threshold */
	log_restart();
	assert_int_equal(ldms_logger_mask_set("tlog.b", (1 << LDMS_LDEBUG) | (1 << LDMS_LERROR)),
			 0);
	for (int l = LDMS_LDEBUG; l < LDMS_LQUIET; l++)
		ldms_log(l, "tlog.b", "b %s", ldms_log_level_name(l));
	ldms_log(LDMS_LDEBUG, "tlog.a", "a debug");
	assert_true(ldms_logger_enabled("tlog.b", LDMS_LDEBUG));
	assert_false(ldms_logger_enabled("tlog.b", LDMS_LINFO));
	assert_false(ldms_logger_enabled("tlog.unregistered", LDMS_LDEBUG));
	assert_string_equal(log_lines(), ":    DEBUG: tlog.b: b DEBUG|:    ERROR: tlog.b: b ERROR");

	/* back to the default; QUIET silences one logger only */
	log_restart();
	assert_int_equal(ldms_logger_mask_set("tlog.b", -1), 0);
	assert_int_equal(ldms_logger_mask_set("tlog.a", 0), 0);
	ldms_log(LDMS_LCRITICAL, "tlog.a", "a critical");
	ldms_log(LDMS_LINFO, "tlog.b", "b info");
	assert_string_equal(log_lines(), ":     INFO: tlog.b: b info");
	assert_int_equal(ldms_logger_mask_set("tlog.a", -1), 0);
}

struct seen {
	int a, xprt;
	char last[64];
	int sorted;
};

static int seen_cb(void *arg, const char *name, const char *desc, int mask)
{
	struct seen *s = arg;
	if (strcmp(s->last, name) >= 0)
		s->sorted = 0;
	snprintf(s->last, sizeof(s->last), "%s", name);
	s->a += !strcmp(name, "tlog.a") && !strcmp(desc, "A");
	s->xprt += !strcmp(name, "xprt");
	return 0;
}

static void test_foreach(void **state)
{
	struct seen s = {.sorted = 1};
	assert_int_equal(ldms_logger_register("tlog.a", "A"), 0);
	assert_int_equal(ldms_logger_foreach(seen_cb, &s), 0);
	assert_int_equal(s.a, 1);
	assert_int_equal(s.xprt, 1); /* libldms registers its subsystems */
	assert_true(s.sorted);
}

/* ---- through ldmsd's commands ------------------------------------------------------------- */
static int exec_line(struct ldmsd *d, const char *line, struct ldmsd_reply *rep)
{
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = 1};
	struct ldmsd_req *r = NULL;
	struct ldms_err e;
	snprintf(o.file, sizeof(o.file), "t.conf");
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	if (rc) {
		print_error("parse '%s': %s\n", line, e.msg);
		return rc;
	}
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	ldmsd_req_free(r);
	return rc;
}

static const char *status_level(struct ldmsd *d, struct ldmsd_reply *rep, const char *name)
{
	static char lv[80];
	char cmd[128];
	json_error_t je;
	snprintf(cmd, sizeof(cmd), "log_status name=%s", name);
	assert_int_equal(exec_line(d, cmd, rep), 0);
	json_t *j = json_loadb(ldmsd_buf_str(&rep->json), rep->json.len, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	snprintf(lv, sizeof(lv), "%s",
		 json_string_value(json_object_get(json_array_get(j, 0), "level")));
	json_decref(j);
	return lv;
}

static void test_ldmsd_log_level(void **state)
{
	struct ldmsd *d = ldmsd_new();
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	ldms_log_level_set(LDMS_LINFO);
	log_restart();
	assert_int_equal(exec_line(d, "load name=mi plugin=meminfo", &rep), 0);
	assert_int_equal(exec_line(d, "load name=vm plugin=vmstat", &rep), 0);

	/* one logger */
	assert_int_equal(exec_line(d, "log_level level=ERROR name=producer", &rep), 0);
	assert_string_equal(status_level(d, &rep, "producer"), "ERROR,CRITICAL");
	assert_string_equal(status_level(d, &rep, "updater"), "default");
	ldms_log(LDMS_LINFO, "producer", "p info");
	ldms_log(LDMS_LINFO, "updater", "u info");
	ldms_log(LDMS_LERROR, "producer", "p error");
	assert_string_equal(log_lines(),
			    ":     INFO: updater: u info|:    ERROR: producer: p error");

	/* loggers by regex, including plugin instances' */
	log_restart();
	assert_int_equal(exec_line(d, "log_level level=DEBUG,CRITICAL regex=^sampler\\.", &rep), 0);
	assert_string_equal(status_level(d, &rep, "sampler.meminfo.mi"), "DEBUG,CRITICAL");
	assert_string_equal(status_level(d, &rep, "sampler.vmstat.vm"), "DEBUG,CRITICAL");
	assert_string_equal(status_level(d, &rep, "producer"), "ERROR,CRITICAL");
	ldms_log(LDMS_LINFO, "sampler.meminfo.mi", "mi info");
	ldms_log(LDMS_LDEBUG, "sampler.vmstat.vm", "vm debug");
	assert_string_equal(log_lines(), ":    DEBUG: sampler.vmstat.vm: vm debug");
	assert_int_equal(exec_line(d, "log_level level=INFO regex=^nomatch$", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "log_level level=INFO regex=(", &rep), -EINVAL);
	assert_int_equal(exec_line(d, "log_level level=INFO name=nosuch", &rep), -ENOENT);
	assert_int_equal(exec_line(d, "log_level level=LOUD name=producer", &rep), -EINVAL);

	/* upstream's names of the same subsystems */
	assert_int_equal(exec_line(d, "log_level level=DEBUG name=xprt.zap.sock", &rep), 0);
	assert_string_equal(status_level(d, &rep, "xprt"), "DEBUG,INFO,WARNING,ERROR,CRITICAL");
	assert_int_equal(exec_line(d, "log_level level=default name=xprt.ldms", &rep), 0);
	assert_string_equal(status_level(d, &rep, "xprt"), "default");

	/* the default logger by name; "default" puts a logger back on the default */
	assert_int_equal(exec_line(d, "log_level level=WARNING name=ldmsd", &rep), 0);
	assert_int_equal(ldms_log_level_get(), LDMS_LWARN);
	assert_string_equal(status_level(d, &rep, "ldmsd"), "WARNING,ERROR,CRITICAL");
	assert_int_equal(exec_line(d, "log_level level=default regex=.*", &rep), 0);
	assert_string_equal(status_level(d, &rep, "producer"), "default");
	assert_string_equal(status_level(d, &rep, "sampler.meminfo.mi"), "default");

	/* a plugin's logger is not listed once the plugin is gone */
	assert_int_equal(exec_line(d, "term name=vm", &rep), 0);
	assert_int_equal(exec_line(d, "log_status name=sampler.vmstat.vm", &rep), -ENOENT);
	ldmsd_reply_free(&rep);
	ldmsd_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mask_parse),
	    cmocka_unit_test_setup_teardown(test_named_loggers, setup, teardown),
	    cmocka_unit_test(test_foreach),
	    cmocka_unit_test_setup_teardown(test_ldmsd_log_level, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
