/* Shared by the in-process transport tests (test_xprt, test_xprt_hostile,
 * test_push): one listener on 127.0.0.1 with its log file, a server callback that
 * keeps the last accepted endpoint, bounded waits on exact states, and a raw zap
 * peer (connect, the golden rail handshake; whole frames from msg_raw_peer.h). Include after
 * <cmocka.h>; everything is static so each test executable has its own copy. */
#ifndef XPRT_TEST_UTIL_H
#define XPRT_TEST_UTIL_H

#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ldms/ldms_xprt.h"
#include "msg_raw_peer.h" /* send_all, read_frame, send_ldms */
#include "wire_vectors.h"
#include "xprt_int.h"
#include "zap_wire.h"

#define WAIT_MS 5000

#define XT_UNUSED __attribute__((unused))

static struct ldms_listener *L;
static int port XT_UNUSED;
static char portstr[16];
static char logpath[64] XT_UNUSED;

/* ---- bounded waits -------------------------------------------------------------------- */

/* 1 once *v >= at_least, 0 after about WAIT_MS ms. */
static inline int wait_for(atomic_int *v, int at_least)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (atomic_load(v) >= at_least)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* 1 once fn() is true, 0 after about WAIT_MS ms. */
static inline int wait_until(int (*fn)(void))
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (fn())
			return 1;
		usleep(1000);
	}
	return fn();
}

/* ---- the listener and its server-side endpoints --------------------------------------- */

static pthread_mutex_t srv_lock XT_UNUSED = PTHREAD_MUTEX_INITIALIZER;
static ldms_t srv_last XT_UNUSED; /* a reference to the last accepted endpoint */
static atomic_int srv_connected XT_UNUSED, srv_disconnected XT_UNUSED, srv_recv XT_UNUSED;
static char srv_buf[128] XT_UNUSED; /* the last message received */

static inline void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
	pthread_mutex_lock(&srv_lock);
	switch (e->type) {
	case LDMS_XPRT_EVENT_CONNECTED:
		if (srv_last)
			ldms_xprt_put(srv_last);
		srv_last = ldms_xprt_get(x);
		atomic_fetch_add(&srv_connected, 1);
		break;
	case LDMS_XPRT_EVENT_RECV:
		snprintf(srv_buf, sizeof(srv_buf), "%.*s", (int)e->data_len, e->data);
		atomic_fetch_add(&srv_recv, 1);
		break;
	case LDMS_XPRT_EVENT_DISCONNECTED:
		if (srv_last == x) {
			ldms_xprt_put(srv_last);
			srv_last = NULL;
		}
		atomic_fetch_add(&srv_disconnected, 1);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&srv_lock);
}

/* A reference to the endpoint the server accepted last (put it). */
static inline ldms_t srv_last_get(void)
{
	ldms_t x;

	pthread_mutex_lock(&srv_lock);
	x = srv_last ? ldms_xprt_get(srv_last) : NULL;
	pthread_mutex_unlock(&srv_lock);
	return x;
}

/* 1 once the server-side endpoint sx stopped reading its peer because its
 * output to that peer is full, 0 after about WAIT_MS ms. */
static inline int wait_rd_paused(ldms_t sx)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (__atomic_load_n(&sx->rd_paused, __ATOMIC_RELAXED))
			return 1;
		usleep(1000);
	}
	return 0;
}

/* Starts the engine (2 I/O threads) and L on 127.0.0.1, an ephemeral port. With
 * a log name, libldms logs at `level` into /tmp/<log_name>.XXXXXX (logpath);
 * cb NULL is srv_cb. Returns 0 or -1 (for a cmocka group setup). */
static inline int xt_setup(const char *log_name, int level,
			   void (*cb)(ldms_t, struct ldms_xprt_event *, void *))
{
	struct ldms_err err;

	if (log_name) {
		int fd;

		snprintf(logpath, sizeof(logpath), "/tmp/%s.XXXXXX", log_name);
		fd = mkstemp(logpath);
		if (fd >= 0)
			close(fd);
		ldms_log_open(logpath);
	}
	ldms_log_level_set(getenv("XPRT_DEBUG") ? LDMS_LDEBUG : level);
	ldms_init(2);
	ldms_err_clear(&err);
	L = ldms_listen("sock", "127.0.0.1", "0", NULL, NULL, cb ? cb : srv_cb, NULL, &err);
	if (!L) {
		fprintf(stderr, "listen: %s\n", err.msg);
		return -1;
	}
	port = ldms_listener_port(L);
	snprintf(portstr, sizeof(portstr), "%d", port);
	return 0;
}

/* Closes L (if still open), drops srv_last, stops the engine, removes the log
 * (kept with KEEPLOG=1). */
static inline void xt_teardown(void)
{
	if (L)
		ldms_listener_close(L);
	L = NULL;
	pthread_mutex_lock(&srv_lock);
	if (srv_last)
		ldms_xprt_put(srv_last);
	srv_last = NULL;
	pthread_mutex_unlock(&srv_lock);
	ldms_fini();
	if (logpath[0]) {
		ldms_log_close();
		if (!getenv("KEEPLOG"))
			unlink(logpath);
	}
}

/* Closes of earlier tests finish asynchronously: waits until no endpoint is
 * left (asserts), so counts taken now are a baseline. */
static inline void settle(void)
{
	for (int i = 0; i < WAIT_MS && xprt_test_live_count() > 0; i++)
		usleep(1000);
	assert_int_equal(xprt_test_live_count(), 0);
}

/* Whether a line of the log contains needle. */
static inline int log_contains(const char *needle)
{
	FILE *f = fopen(logpath, "r");
	char line[1024];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* Open descriptors of this process. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A library client connected to L (asserts). */
static inline ldms_t connect_sync(void)
{
	struct ldms_err err;
	ldms_t x = ldms_xprt_new("sock", NULL, NULL);

	assert_non_null(x);
	ldms_err_clear(&err);
	assert_int_equal(ldms_xprt_connect_sync(x, "127.0.0.1", portstr, WAIT_MS, &err), 0);
	return x;
}

/* ---- a raw zap peer ------------------------------------------------------------------- */

/* A TCP socket whose reads give up after 5 s. */
static inline int raw_socket(void)
{
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static inline void raw_connect_fd(int fd, int to_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	sa.sin_port = htons((uint16_t)to_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

/* A raw socket connected to L, nothing sent yet. */
static inline int raw_connect(void)
{
	int fd = raw_socket();

	raw_connect_fd(fd, atoi(portstr));
	return fd;
}

/* Sends the golden capture `name` (wire_vectors.h). */
static inline void send_vector(int fd, const char *name)
{
	size_t len;
	uint8_t *g = wire_vector(name, &len);

	send_all(fd, g, len);
	free(g);
}

/* CONNECT (golden rail capture, auth none) -> ACCEPTED -> ACK_ACCEPTED. */
static inline int raw_rail_session(void)
{
	uint8_t buf[256];
	int fd = raw_connect();

	send_vector(fd, "connect_rail");
	assert_true(read_frame(fd, buf, sizeof(buf)) > 0);
	assert_int_equal(wire_get_be16(buf), ZAP_MSG_ACCEPTED);
	send_vector(fd, "ack_accepted");
	return fd;
}

#endif
