/* tool_opts.h: what the ldms_* command-line tools share: the connection options
 * (-x -h -p -a -A) with upstream's defaults, numeric option values, libldms'
 * diagnostics on stderr, the authentication set-up and the connect step. Static
 * inline because CMake builds every tool source into its own binary. Each tool
 * keeps its own wording of errors: callers print from the returned errno. */
#ifndef LDMS_TOOL_OPTS_H
#define LDMS_TOOL_OPTS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldms/ldms_xprt.h>

struct tool_conn {
	const char *xprt, *host, *port, *auth;
	char *auth_argv[LDMS_AUTH_ARGS_MAX];
	int auth_argc;
};

static inline void tool_conn_init(struct tool_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->xprt = "sock";
	c->host = "localhost";
	c->port = "411";
	c->auth = "none";
}

/* Takes one getopt option if it is a connection option. Returns 1 when taken, 0
 * when opt is not one, -EINVAL for an -A that is not name=value, -E2BIG for one
 * -A too many. */
static inline int tool_conn_opt(struct tool_conn *c, int opt, char *arg)
{
	switch (opt) {
	case 'x':
		c->xprt = arg;
		return 1;
	case 'h':
		c->host = arg;
		return 1;
	case 'p':
		c->port = arg;
		return 1;
	case 'a':
		c->auth = arg;
		return 1;
	case 'A':
		if (!strchr(arg, '=') || arg[0] == '=')
			return -EINVAL;
		if (c->auth_argc == LDMS_AUTH_ARGS_MAX)
			return -E2BIG;
		c->auth_argv[c->auth_argc++] = arg;
		return 1;
	default:
		return 0;
	}
}

/* tool_conn_opt for the message tools: a bad -A ends the program (exit 1). */
static inline int tool_conn_opt_or_exit(struct tool_conn *c, int opt, char *arg)
{
	int rc = tool_conn_opt(c, opt, arg);

	if (rc < 0) {
		fprintf(stderr, "-A expects name=value (at most %d)\n", LDMS_AUTH_ARGS_MAX);
		exit(1);
	}
	return rc;
}

/* The integer value of option `opt`; anything else than a whole number >= min
 * ends the program (exit 1). */
static inline long long tool_num(const char *opt, const char *s, long long min)
{
	char *end;
	long long v = strtoll(s, &end, 0);

	if (!*s || *end || v < min) {
		fprintf(stderr, "invalid value for %s: '%s'\n", opt, s);
		exit(1);
	}
	return v;
}

/* stdout carries the tool's own output only: libldms' diagnostics (why a
 * connection was refused, ...) go to stderr, errors and worse. */
static inline void tool_log_to_stderr(void)
{
	if (ldms_log_open("/dev/stderr"))
		ldms_log_level_set(LDMS_LQUIET);
	else
		ldms_log_level_set(LDMS_LERROR);
}

/* The authentication of -a/-A into auth; on error prints "PROG: why" to errf
 * and returns non-zero. */
static inline int tool_auth_init(const struct tool_conn *c, struct ldms_auth_cfg *auth,
				 const char *prog, FILE *errf)
{
	struct ldms_err err;
	char buf[600];

	ldms_err_clear(&err);
	if (ldms_auth_cfg_init(auth, c->auth, c->auth_argc, c->auth_argv, &err)) {
		fprintf(errf, "%s: %s\n", prog, ldms_err_str(&err, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

/* Connects the new endpoint x to -h/-p within timeout_ms. On failure x is closed
 * and err says why; returns 0 or a negative errno. */
static inline int tool_connect(const struct tool_conn *c, ldms_t x, int timeout_ms,
			       struct ldms_err *err)
{
	int rc;

	ldms_err_clear(err);
	rc = ldms_xprt_connect_sync(x, c->host, c->port, timeout_ms, err);
	if (rc)
		ldms_xprt_close(x);
	return rc;
}

/* "cannot connect to HOST:PORT: why" on stderr. */
static inline void tool_connect_failed(const struct tool_conn *c, struct ldms_err *err)
{
	char buf[600];

	fprintf(stderr, "cannot connect to %s:%s: %s\n", c->host, c->port,
		ldms_err_str(err, buf, sizeof(buf)));
}

#endif
