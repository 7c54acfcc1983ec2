/* ldms_msg_subscribe: subscribe to LDMS messages on a daemon (MSG_SUB on the
 * connection, the daemon forwards what matches) and print every message
 * received: one JSON object per line (tag, type, data, credentials, source,
 * msg_gn, hop count), or the raw data with -F raw. Exits after -n messages,
 * after -T seconds, or when the daemon goes away. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldms/ldms_msg.h>
#include <ldms/ldms_xprt.h>

#include "tool_opts.h"

struct sub_opts {
	struct tool_conn c;
	const char *match, *out;
	int is_regex, raw, verbose;
	long long count;   /* exit after this many messages (0: never) */
	long long timeout; /* seconds (0: never) */
	int64_t rate;	   /* subscription rx_rate */
	int64_t quota;	   /* our recv quota */
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static atomic_llong received;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -m MATCH [-r] [-x XPRT] [-h HOST] [-p PORT] [-a AUTH] [-A K=V]...\n"
		"          [-f FILE] [-F json|raw] [-n COUNT] [-T SEC] [-R BYTES_PER_S] [-q QUOTA] "
		"[-v]\n"
		"  -m, -s MATCH  message tag, or a regex with -r\n"
		"  -f FILE       output (default stdout)\n"
		"  -F json|raw   one JSON object per message (default) or the data bytes only\n"
		"  -n COUNT      exit after COUNT messages; -T SEC exit after SEC seconds\n"
		"  -R RATE       subscription rx_rate in bytes/s; -q QUOTA our receive quota\n",
		prog);
	exit(1);
}

static void parse(int argc, char **argv, struct sub_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	tool_conn_init(&o->c);
	o->rate = -1;
	o->quota = -1;
	while ((c = getopt(argc, argv, "x:h:p:a:A:m:s:rf:F:n:T:R:q:v?")) != -1) {
		if (tool_conn_opt_or_exit(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'm':
		case 's':
			o->match = optarg;
			break;
		case 'r':
			o->is_regex = 1;
			break;
		case 'f':
			o->out = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "raw"))
				o->raw = 1;
			else if (strcmp(optarg, "json")) {
				fprintf(stderr, "-F must be json or raw\n");
				exit(1);
			}
			break;
		case 'n':
			o->count = tool_num("-n", optarg, -1);
			break;
		case 'T':
			o->timeout = tool_num("-T", optarg, -1);
			break;
		case 'R':
			o->rate = tool_num("-R", optarg, -1);
			break;
		case 'q':
			o->quota = tool_num("-q", optarg, -1);
			break;
		case 'v':
			o->verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!o->match || !*o->match) {
		fprintf(stderr, "%s: a tag or regex (-m) is required\n", argv[0]);
		usage(argv[0]);
	}
}

/* JSON string of n bytes (trailing NULs dropped, other control bytes escaped,
 * non-UTF-8 bytes as U+FFFD). */
static void jstr(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e;

	while (n && !p[n - 1])
		n--;
	e = p + n;
	fputc('"', f);
	while (p < e) {
		unsigned char c = *p;
		int k = c < 0x80	 ? 1
			: (c >> 5) == 6	 ? 2
			: (c >> 4) == 14 ? 3
			: (c >> 3) == 30 ? 4
					 : 0;
		int ok = k > 0 && p + k <= e;
		for (int i = 1; ok && i < k; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
		} else if (k > 1) {
			fwrite(p, 1, (size_t)k, f);
			p += k;
		} else {
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c == '\n')
				fputs("\\n", f);
			else if (c == '\t')
				fputs("\\t", f);
			else if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
			p++;
		}
	}
	fputc('"', f);
}

static int on_msg(const struct ldms_msg_event *ev, void *arg)
{
	struct sub_opts *o = arg;

	if (ev->type != LDMS_MSG_EVENT_RECV)
		return 0;
	pthread_mutex_lock(&out_lock);
	if (o->raw) {
		fwrite(ev->data, 1, ev->data_len, out);
	} else {
		fputs("{\"tag\":", out);
		jstr(out, ev->tag, strlen(ev->tag));
		fprintf(out,
			",\"type\":\"%s\",\"uid\":%u,\"gid\":%u,\"perm\":\"%04o\",\"src\":\"%s\","
			"\"msg_gn\":%llu,\"hop_cnt\":%u,\"recv_ts\":%lld.%09ld,\"data_len\":%zu,"
			"\"data\":",
			ldms_msg_type_str(ev->msg_type), (unsigned)ev->uid, (unsigned)ev->gid,
			ev->perm, ev->src, (unsigned long long)ev->msg_gn, ev->hop_cnt,
			(long long)ev->recv_ts.tv_sec, ev->recv_ts.tv_nsec, ev->data_len);
		jstr(out, ev->data, ev->data_len);
		fputs("}\n", out);
	}
	fflush(out);
	pthread_mutex_unlock(&out_lock);
	atomic_fetch_add(&received, 1);
	return 0;
}

int main(int argc, char **argv)
{
	struct sub_opts o;
	struct ldms_auth_cfg auth;
	struct ldms_xprt_opts xo = {.rate_limit = -1, .msg_enabled = 1};
	struct ldms_err err;
	ldms_msg_client_t cl;
	struct timespec t0, now;
	ldms_t x;
	int rc;

	parse(argc, argv, &o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	tool_log_to_stderr();
	out = o.out ? fopen(o.out, "w") : stdout;
	if (!out) {
		fprintf(stderr, "cannot open '%s': %s\n", o.out, strerror(errno));
		return 1;
	}
	if (tool_auth_init(&o.c, &auth, argv[0], stderr))
		return 1;
	cl = ldms_msg_subscribe(o.match, o.is_regex, on_msg, &o, "ldms_msg_subscribe");
	if (!cl) {
		fprintf(stderr, "cannot subscribe to '%s': %s\n", o.match, strerror(errno));
		return 1;
	}
	xo.recv_quota = o.quota;
	x = ldms_xprt_new(o.c.xprt, &auth, &xo);
	if (!x) {
		fprintf(stderr, "cannot create the %s transport\n", o.c.xprt);
		return 1;
	}
	if (tool_connect(&o.c, x, 10000, &err)) {
		tool_connect_failed(&o.c, &err);
		ldms_fini();
		return 1;
	}
	rc = ldms_msg_remote_subscribe_sync(x, o.match, o.is_regex, o.rate, 10000);
	if (rc) {
		fprintf(stderr, "the daemon refused the subscription to '%s': %s\n", o.match,
			strerror(-rc));
		ldms_xprt_close(x);
		ldms_fini();
		return 1;
	}
	fprintf(stderr, "subscribed to '%s' on %s:%s\n", o.match, o.c.host, o.c.port);
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = 0;
	while (!stop) {
		if (o.count && atomic_load(&received) >= o.count)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (o.timeout && now.tv_sec - t0.tv_sec >= o.timeout) {
			rc = o.count ? 2 : 0; /* fewer messages than asked for */
			break;
		}
		if (!ldms_xprt_connected(x)) {
			fprintf(stderr, "the daemon closed the connection\n");
			rc = o.count ? 2 : 0;
			break;
		}
		usleep(10000);
	}
	ldms_xprt_close(x);
	ldms_msg_client_close(cl);
	ldms_fini();
	pthread_mutex_lock(&out_lock);
	if (out != stdout)
		fclose(out);
	else
		fflush(out);
	pthread_mutex_unlock(&out_lock);
	ldms_auth_cfg_free(&auth);
	return rc;
}
