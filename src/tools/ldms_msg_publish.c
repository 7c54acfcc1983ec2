/* ldms_msg_publish: publish a file (whole, or one message per line) as LDMS
 * messages to a daemon (qgroup-streams.md B.8). On -ENOBUFS it waits for the
 * daemon to return quota and retries the same message, so nothing is lost.
 * Also accepts ldmsd_stream_publish's spelling (-s stream). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldms/ldms_msg.h>
#include <ldms/ldms_xprt.h>

#include "tool_opts.h"

struct pub_opts {
	struct tool_conn c;
	const char *tag, *file;
	enum ldms_msg_type type;
	int line_mode, repeat, reconnect, verbose;
	long long interval_us; /* between repeats */
	long long line_ns;     /* between lines */
	long retry_ms;	       /* connection retry period, 0 = none */
	long give_up_s;	       /* quota wait limit, 0 = forever */
	int have_uid, have_gid;
	struct ldms_msg_cred cred;
	uint32_t perm;
};

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -m TAG [-x XPRT] [-h HOST] [-p PORT] [-a AUTH] [-A K=V]...\n"
		"          [-t string|json] [-f FILE] [-l] [-r N] [-i USEC] [-D NSEC] [-R]\n"
		"          [-W MSEC] [-g SEC] [-U UID] [-G GID] [-P PERM] [-v]\n"
		"  -m, -s TAG   message tag (stream name)\n"
		"  -t TYPE      string (default) or json\n"
		"  -f FILE      input (default stdin); whole file = one message + NUL\n"
		"  -l           line mode: each line (with its newline and a NUL) is a message\n"
		"  -r N         publish the file N times (needs -f); -i USEC between repeats\n"
		"  -D NSEC      sleep between lines; -R reconnect between repeats\n"
		"  -W MSEC      retry the connection every MSEC (0: no retry)\n"
		"  -g SEC       give up waiting for quota after SEC seconds (exit 1)\n"
		"  -U/-G/-P     uid, gid and octal permissions of the messages (default 0777)\n",
		prog);
	exit(1);
}

static void parse(int argc, char **argv, struct pub_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	tool_conn_init(&o->c);
	o->perm = 0777;
	o->interval_us = -1;
	o->repeat = 1;
	while ((c = getopt(argc, argv, "x:h:p:a:A:m:s:t:f:lr:i:D:RW:g:U:G:P:v?")) != -1) {
		if (tool_conn_opt_or_exit(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'm':
		case 's':
			o->tag = optarg;
			break;
		case 't':
			if (ldms_msg_type_parse(optarg, &o->type) || o->type == LDMS_MSG_AVRO_SER) {
				fprintf(stderr, "-t must be 'string' or 'json', not '%s'\n",
					optarg);
				exit(1);
			}
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'l':
			o->line_mode = 1;
			break;
		case 'r':
			o->repeat = (int)tool_num("-r", optarg, 0);
			break;
		case 'i':
			o->interval_us = tool_num("-i", optarg, 0);
			break;
		case 'D':
			o->line_ns = tool_num("-D", optarg, 0);
			break;
		case 'R':
			o->reconnect = 1;
			break;
		case 'W':
			o->retry_ms = (long)tool_num("-W", optarg, 0);
			break;
		case 'g':
			o->give_up_s = (long)tool_num("-g", optarg, 0);
			break;
		case 'U':
			o->cred.uid = (uid_t)tool_num("-U", optarg, 0);
			o->have_uid = 1;
			break;
		case 'G':
			o->cred.gid = (gid_t)tool_num("-G", optarg, 0);
			o->have_gid = 1;
			break;
		case 'P': {
			char *end;
			unsigned long p = strtoul(optarg, &end, 8);
			if (!*optarg || *end || p > 0777) {
				fprintf(stderr, "-P expects octal permissions, not '%s'\n", optarg);
				exit(1);
			}
			o->perm = (uint32_t)p;
			break;
		}
		case 'v':
			o->verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!o->tag || !*o->tag) {
		fprintf(stderr, "%s: a message tag (-m) is required\n", argv[0]);
		usage(argv[0]);
	}
	if (o->repeat != 1 && !o->file) {
		fprintf(stderr, "%s: -r needs -f FILE\n", argv[0]);
		exit(1);
	}
	if (o->repeat < 1)
		o->repeat = 1;
	if (o->interval_us < 0)
		o->interval_us = o->repeat > 1 ? 10000000 : 0;
	if (!o->have_uid)
		o->cred.uid = geteuid();
	if (!o->have_gid)
		o->cred.gid = getegid();
}

static void sleep_ns(long long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};

	while (ns > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static ldms_t connect_peer(struct pub_opts *o, struct ldms_auth_cfg *auth)
{
	struct ldms_xprt_opts xo = {.recv_quota = -1, .rate_limit = -1, .msg_enabled = 1};
	struct ldms_err err;
	int retry = 0;

	for (;;) {
		ldms_t x = ldms_xprt_new(o->c.xprt, auth, &xo);
		if (!x) {
			fprintf(stderr, "cannot create the %s transport: %s\n", o->c.xprt,
				strerror(errno));
			return NULL;
		}
		if (o->verbose)
			printf("get_ldms: retry: %d\n", retry);
		if (tool_connect(&o->c, x, 10000, &err) == 0) {
			if (o->verbose)
				printf("Connected to peer %s:%s xprt=%s auth=%s\n", o->c.host,
				       o->c.port, o->c.xprt, o->c.auth);
			fflush(stdout);
			return x;
		}
		if (!o->retry_ms) {
			tool_connect_failed(&o->c, &err);
			return NULL;
		}
		retry++;
		sleep_ns((long long)o->retry_ms * 1000000LL);
	}
}

/* Publishes one message, waiting for quota as long as allowed. */
static int publish_one(struct pub_opts *o, ldms_t x, const char *data, size_t len, int *waited)
{
	uint64_t need = ldms_msg_charge(o->tag, len);
	int rc;

	for (;;) {
		rc = ldms_msg_publish(x, o->tag, o->type, &o->cred, o->perm, data, len);
		if (rc != -ENOBUFS)
			return rc;
		if (o->verbose) {
			struct ldms_msg_conn_stats st;
			printf(
			    "Publish lacks send credits needed to complete transfer, waiting ... ");
			if (!*waited && !ldms_msg_conn_stats_get(x, &st))
				printf("Quota is %lld\n", (long long)st.send_budget);
			fflush(stdout);
		}
		*waited = 1;
		rc = ldms_msg_quota_wait(x, need, o->give_up_s ? (int)(o->give_up_s * 1000) : -1);
		if (rc == -ETIMEDOUT) {
			fprintf(stderr, "gave up waiting for send quota after %ld s\n",
				o->give_up_s);
			return rc;
		}
		if (rc == -EMSGSIZE) {
			fprintf(stderr,
				"a message of %llu bytes (tag included) exceeds the peer's quota "
				"or rate: it can never be sent\n",
				(unsigned long long)need);
			return -ENOBUFS;
		}
		if (rc)
			return rc;
		if (o->verbose)
			printf("continuing.\n");
	}
}

/* Until the daemon returned the quota of everything we sent (it always does,
 * also with unlimited quota): then every message was received. */
static void wait_returns(ldms_t x, uint64_t published)
{
	struct ldms_msg_conn_stats st;

	for (int i = 0; i < 1000; i++) {
		if (ldms_msg_conn_stats_get(x, &st) || st.deposits >= published)
			return;
		sleep_ns(10000000LL);
	}
}

static int publish_file(struct pub_opts *o, ldms_t x, FILE *in, uint64_t *published)
{
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0, waited = 0;

	if (o->line_mode) {
		ssize_t n;
		while ((n = getline(&buf, &cap, in)) > 0) {
			/* the line with its newline, plus a NUL */
			rc = publish_one(o, x, buf, (size_t)n + 1, &waited);
			if (rc)
				break;
			(*published)++;
			if (o->line_ns)
				sleep_ns(o->line_ns);
		}
	} else {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
			if (len + n + 1 > cap) {
				size_t nc = (len + n + 1) * 2;
				char *nb = realloc(buf, nc);
				if (!nb) {
					free(buf);
					return -ENOMEM;
				}
				buf = nb;
				cap = nc;
			}
			memcpy(buf + len, chunk, n);
			len += n;
		}
		if (!buf && !(buf = malloc(1)))
			return -ENOMEM;
		buf[len] = 0;
		rc = publish_one(o, x, buf, len + 1, &waited);
		if (!rc)
			(*published)++;
	}
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct pub_opts o;
	struct ldms_auth_cfg auth;
	uint64_t published = 0;
	ldms_t x = NULL;
	int rc = 0;

	parse(argc, argv, &o);
	tool_log_to_stderr();
	if (tool_auth_init(&o.c, &auth, argv[0], stderr))
		return 1;
	if (o.verbose)
		printf("sending data to host=%s port=%s xprt=%s auth=%s msg_tag=%s from %s\n",
		       o.c.host, o.c.port, o.c.xprt, o.c.auth, o.tag, o.file ? o.file : "stdin");
	for (int r = 0; r < o.repeat && !rc; r++) {
		FILE *in = stdin;
		if (!x || o.reconnect) {
			if (x) {
				wait_returns(x, published);
				ldms_xprt_close(x);
				published = 0;
			}
			x = connect_peer(&o, &auth);
			if (!x) {
				rc = -ENOTCONN;
				break;
			}
		}
		if (o.file) {
			in = fopen(o.file, "r");
			if (!in) {
				fprintf(stderr, "cannot open '%s': %s\n", o.file, strerror(errno));
				rc = -errno;
				break;
			}
		}
		rc = publish_file(&o, x, in, &published);
		if (in != stdin)
			fclose(in);
		if (rc)
			fprintf(stderr, "publish failed: %s\n", strerror(-rc));
		else if (r + 1 < o.repeat && o.interval_us)
			sleep_ns(o.interval_us * 1000LL);
	}
	if (x) {
		wait_returns(x, published);
		ldms_xprt_close(x);
	}
	if (o.verbose)
		printf("rc=%d\n", -rc);
	fflush(stdout);
	ldms_auth_cfg_free(&auth);
	ldms_fini();
	return rc ? 1 : 0;
}
