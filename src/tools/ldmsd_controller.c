/* ldmsd_controller: configure and query an ldmsd over the ldmsd_request
 * protocol, with upstream's options, command syntax (verb attr=value ...),
 * status tables and help. One command (--cmd), a file (--source), a program's
 * output (--script), piped stdin, or an interactive readline session. Exit
 * status 1 if any command failed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "ldms/ldms_ctrl.h"
#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"
#include "ldmsd_controller_cmds.h"
#include "ldmsd_controller_sts.h"

#define REQ_TIMEOUT_MS 10000

struct ctl {
	struct ldms_ctrl_client *cli;
	int json;
	int debug;
	int failed;
	int quit;
	int depth; /* source/script nesting */
};

static int run_line(struct ctl *c, const char *line);

static void usage(FILE *f)
{
	fprintf(f, "usage: ldmsd_controller [--host HOST] [--port PORT] [--xprt XPRT]\n"
		   "                        [--auth AUTH] [--auth-arg NAME=VALUE ...]\n"
		   "                        [--source SOURCE] [--script SCRIPT] [--cmd "
		   "CMD]\n"
		   "                        [--json] [--debug] [--help]\n\n"
		   "  -h, --host HOST        hostname of ldmsd to connect to (default "
		   "localhost)\n"
		   "  -p, --port PORT        port of ldmsd to connect to\n"
		   "  -x, --xprt XPRT        transport type: sock, rdma, ugni (default "
		   "sock)\n"
		   "  -a, --auth AUTH        authentication method (default none)\n"
		   "  -A, --auth-arg N=V     authentication option (repeatable)\n"
		   "      --source SOURCE    file of configuration commands\n"
		   "      --script SCRIPT    program whose output is configuration "
		   "commands\n"
		   "      --cmd CMD          one command to execute\n"
		   "      --json             print replies as JSON {\"rc\": ..., \"msg\": "
		   "...}\n"
		   "      --debug            print the requests sent and replies received\n"
		   "      --help             this text\n");
}

/* ---- help
 * ------------------------------------------------------------------------ */

static void help(const char *topic)
{
	while (*topic == ' ')
		topic++;
	if (!*topic) {
		static const char *hdr = "Documented commands (type help <topic>):";
		static const char *un = "Undocumented commands:";
		printf("\n%s\n", hdr);
		for (size_t i = 0; i < strlen(hdr); i++)
			putchar('=');
		putchar('\n');
		ldms_ctrl_fmt_columnize(stdout, ctl_doc_cmds,
					sizeof(ctl_doc_cmds) / sizeof(ctl_doc_cmds[0]), 79);
		printf("\n%s\n", un);
		for (size_t i = 0; i < strlen(un); i++)
			putchar('=');
		putchar('\n');
		ldms_ctrl_fmt_columnize(stdout, ctl_undoc_cmds,
					sizeof(ctl_undoc_cmds) / sizeof(ctl_undoc_cmds[0]), 79);
		putchar('\n');
		return;
	}
	char verb[128];
	snprintf(verb, sizeof(verb), "%s", topic);
	verb[strcspn(verb, " \t\n")] = 0;
	const struct ctl_cmd_doc *d = ctl_doc_find(verb);
	if (!d) {
		static const struct {
			const char *v, *t;
		} local[] = {
		    {"help", "List available commands with \"help\" or detailed help with "
			     "\"help cmd\"."},
		    {"quit", "Quit the ldmsd_controller session."},
		    {"EOF", "Quit the ldmsd_controller session."},
		    {"say", "Print a message to the console."},
		    {"comment", "Skip comments."},
		    {"shell", "Execute a shell command."},
		    {"source", "Parse commands from the specified file as if they were entered "
			       "on the console."},
		    {"script", "Execute the given executable file and submit the resulting "
			       "configuration to LDMSD."},
		    {"status", "Print the status of the producers, updaters, storage policies "
			       "and plugins."},
		};
		for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
			if (strcmp(local[i].v, verb) == 0) {
				printf("%s\n", local[i].t);
				return;
			}
		printf("*** No help on %s\n", verb);
		return;
	}
	printf("%s\n", d->summary);
	if (!*d->req && !*d->opt)
		return;
	printf("Parameters:\n");
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? d->opt : d->req;
		while (*p) {
			size_t n = strcspn(p, " ");
			printf(pass ? "    [%.*s=]\n" : "    %.*s=\n", (int)n, p);
			p += n;
			while (*p == ' ')
				p++;
		}
	}
}

/* ---- requests
 * ---------------------------------------------------------------------- */

static void print_reply(struct ctl *c, const char *verb, const char *args,
			struct ldms_ctrl_msg *rsp)
{
	int rc = (int)ldms_ctrl_msg_rsp_err(rsp);
	const char *text = ldms_ctrl_msg_text(rsp);

	if (c->json) {
		ldms_ctrl_json_print(stdout, rc, text, -1);
		putchar('\n');
	} else if (rc) {
		char pre[512];
		ctl_err_prefix(verb, args, pre, sizeof(pre));
		printf("Error %d: %s%s\n", rc, pre, text ? text : strerror(rc));
	} else if (text && *text) {
		if (!strcmp(verb, "store_time_stats") && !ctl_store_time_stats_print(stdout, text))
			return;
		if (!ldms_ctrl_fmt_has(verb) || ldms_ctrl_fmt_status(verb, text, stdout) != 0) {
			size_t n = strlen(text);
			printf("%s%s", text, n && text[n - 1] == '\n' ? "" : "\n");
		}
	}
	if (rc)
		c->failed = 1;
}

static int remote(struct ctl *c, const char *verb, const char *args)
{
	struct ldms_ctrl_msg *req = NULL, *rsp = NULL;
	char err[256] = "";
	int rc = ctl_build_request(verb, args, &req, err, sizeof(err));
	if (rc) {
		if (rc == -ENOSYS)
			printf("*** Unknown syntax: %s%s%s\n", verb, *args ? " " : "", args);
		else
			printf("%s\n", err);
		c->failed = 1;
		return rc;
	}
	if (!c->cli) {
		printf("Error: no LDMS connection\n");
		ldms_ctrl_msg_free(req);
		c->failed = 1;
		return -ENOTCONN;
	}
	if (c->debug)
		fprintf(stderr, "Sent request %s (%#x, %zu attributes)\n", verb,
			ldms_ctrl_msg_req_id(req), ldms_ctrl_msg_attr_count(req));
	rc = ldms_ctrl_request(c->cli, req, &rsp, REQ_TIMEOUT_MS);
	ldms_ctrl_msg_free(req);
	if (rc) {
		if (rc == -ENOTSUP)
			printf("'%s' is not supported by the daemon's version.\n", verb);
		else if (rc == -ETIMEDOUT)
			printf("Error: no response from the daemon within %d seconds.\n",
			       REQ_TIMEOUT_MS / 1000);
		else
			printf("Failed to send the command. The connection might be disconnected "
			       "(%s).\n",
			       strerror(-rc));
		c->failed = 1;
		return rc;
	}
	if (c->debug)
		fprintf(stderr, "Received the response of request %s: rsp_err %u\n", verb,
			ldms_ctrl_msg_rsp_err(rsp));
	print_reply(c, verb, args, rsp);
	int ok = ldms_ctrl_msg_rsp_err(rsp) == 0;
	ldms_ctrl_msg_free(rsp);
	if (ok && strcmp(verb, "daemon_exit") == 0)
		c->quit = 1;
	return 0;
}

static void run_stream(struct ctl *c, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	while (!c->quit && getline(&line, &cap, f) >= 0)
		run_line(c, line);
	free(line);
}

static void do_source(struct ctl *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("Error: cannot open %s: %s\n", path, strerror(errno));
		c->failed = 1;
		return;
	}
	c->depth++;
	run_stream(c, f);
	c->depth--;
	fclose(f);
}

static void do_script(struct ctl *c, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p) {
		printf("Error: cannot run %s: %s\n", cmd, strerror(errno));
		c->failed = 1;
		return;
	}
	c->depth++;
	run_stream(c, p);
	c->depth--;
	int st = pclose(p);
	if (st != 0) {
		printf("Script exited with code %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : st);
		c->failed = 1;
	}
}

static int run_line(struct ctl *c, const char *raw)
{
	char *line = strdup(raw), *s = line, *e;
	if (!line)
		return -ENOMEM;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	if (!*s || *s == '#') {
		free(line);
		return 0;
	}
	char *args = s + strcspn(s, " \t");
	if (*args)
		*args++ = 0;
	while (*args == ' ' || *args == '\t')
		args++;
	const char *verb = s;

	if (strcmp(verb, "help") == 0 || strcmp(verb, "?") == 0)
		help(args);
	else if (strcmp(verb, "quit") == 0 || strcmp(verb, "EOF") == 0)
		c->quit = 1;
	else if (strcmp(verb, "say") == 0)
		printf("%s\n", args);
	else if (strcmp(verb, "comment") == 0)
		;
	else if (strcmp(verb, "shell") == 0 || strcmp(verb, "!") == 0) {
		fflush(stdout);
		if (system(args) != 0)
			c->failed = 1;
	} else if (strcmp(verb, "source") == 0 && c->depth < 16)
		do_source(c, args);
	else if (strcmp(verb, "script") == 0 && c->depth < 16)
		do_script(c, args);
	else if (strcmp(verb, "status") == 0) {
		static const char *const all[] = {"prdcr_status", "updtr_status", "strgp_status",
						  "plugn_status"};
		for (size_t i = 0; i < 4; i++)
			remote(c, all[i], "");
	} else
		remote(c, verb, args);
	fflush(stdout);
	free(line);
	return 0;
}

/* ---- interactive session
 * ------------------------------------------------------------- */

static char *complete_gen(const char *text, int state)
{
	static size_t idx;
	static int attr_mode;
	static char verb[128];
	if (!state) {
		idx = 0;
		attr_mode = rl_point > 0 && strchr(rl_line_buffer, ' ') &&
			    (size_t)rl_point > strcspn(rl_line_buffer, " ");
		snprintf(verb, sizeof(verb), "%.*s", (int)strcspn(rl_line_buffer, " "),
			 rl_line_buffer);
	}
	if (!attr_mode) {
		size_t n = sizeof(ctl_doc_cmds) / sizeof(ctl_doc_cmds[0]);
		while (idx < n) {
			const char *v = ctl_doc_cmds[idx++];
			if (strncmp(v, text, strlen(text)) == 0)
				return strdup(v);
		}
		return NULL;
	}
	const struct ctl_cmd_doc *d = ctl_doc_find(verb);
	if (!d)
		return NULL;
	char all[512];
	snprintf(all, sizeof(all), "%s %s", d->req, d->opt);
	size_t pos = 0;
	for (const char *p = all; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (pos++ >= idx && strncmp(p, text, strlen(text)) == 0 && strlen(text) <= n) {
			idx = pos;
			char *r = malloc(n + 2);
			memcpy(r, p, n);
			r[n] = '=';
			r[n + 1] = 0;
			return r;
		}
		p += n;
	}
	idx = pos;
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;
	rl_completion_append_character = '\0';
	return rl_completion_matches(text, complete_gen);
}

static void interactive(struct ctl *c, const char *prompt)
{
	rl_attempted_completion_function = complete;
	using_history();
	while (!c->quit) {
		char *line = readline(prompt);
		if (!line) {
			putchar('\n');
			break;
		}
		if (*line)
			add_history(line);
		run_line(c, line);
		free(line);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'h'},	{"port", required_argument, NULL, 'p'},
	    {"xprt", required_argument, NULL, 'x'},	{"auth", required_argument, NULL, 'a'},
	    {"auth-arg", required_argument, NULL, 'A'}, {"source", required_argument, NULL, 's'},
	    {"script", required_argument, NULL, 'S'},	{"cmd", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},		{"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'H'},		{0}};
	const char *host = "localhost", *port = NULL, *xprt = "sock", *auth = "none";
	const char *source = NULL, *script = NULL, *cmd = NULL;
	char *kv[LDMS_AUTH_ARGS_MAX];
	int nkv = 0, o;
	struct ctl c = {0};

	while ((o = getopt_long(argc, argv, "h:p:x:a:A:", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			host = optarg;
			break;
		case 'p': {
			char *end;
			long v;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 65535) {
				fprintf(stderr,
					"ldmsd_controller: invalid --port '%s' (a number from 1 "
					"to 65535)\n",
					optarg);
				return 2;
			}
			port = optarg;
			break;
		}
		case 'x':
			xprt = optarg;
			break;
		case 'a':
			auth = optarg;
			break;
		case 'A':
			if (nkv == LDMS_AUTH_ARGS_MAX || !strchr(optarg, '=')) {
				fprintf(stderr,
					"ldmsd_controller: bad --auth-arg '%s' (NAME=VALUE, "
					"at most %d)\n",
					optarg, LDMS_AUTH_ARGS_MAX);
				return 2;
			}
			kv[nkv++] = optarg;
			break;
		case 's':
			source = optarg;
			break;
		case 'S':
			script = optarg;
			break;
		case 'c':
			cmd = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'd':
			c.debug = 1;
			break;
		case 'H':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ldmsd_controller: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (!!cmd + !!source + !!script > 1)
		fprintf(stderr, "ldmsd_controller: only the first of --cmd, --source, --script "
				"is run\n");
	/* the transport's own log lines would duplicate the controller's messages */
	ldms_log_level_set(c.debug ? LDMS_LDEBUG : LDMS_LQUIET);
	if (port) {
		struct ldms_err err = {0};
		struct ldms_auth_cfg acfg = {0};
		if (ldms_auth_cfg_init(&acfg, auth, nkv, kv, &err)) {
			char b[1024];
			fprintf(stderr, "ldmsd_controller: %s\n", ldms_err_str(&err, b, sizeof(b)));
			return 1;
		}
		c.cli = ldms_ctrl_client_connect(host, port, xprt, &acfg, REQ_TIMEOUT_MS, &err);
		ldms_auth_cfg_free(&acfg);
		if (!c.cli) {
			char b[1024];
			printf("%s: connecting to %s on port %s using %s with auth %s\n",
			       ldms_err_str(&err, b, sizeof(b)), host, port, xprt, auth);
			return 1;
		}
	}

	if (cmd) {
		run_line(&c, cmd);
	} else if (source) {
		do_source(&c, source);
	} else if (script) {
		do_script(&c, script);
	} else if (isatty(STDIN_FILENO)) {
		char prompt[512];
		if (c.cli)
			snprintf(prompt, sizeof(prompt), "%s:%s:%s> ", xprt, host, port);
		else
			snprintf(prompt, sizeof(prompt), "(not connected)> ");
		interactive(&c, prompt);
	} else {
		run_stream(&c, stdin);
	}
	ldms_ctrl_client_close(c.cli);
	return c.failed ? 1 : 0;
}
