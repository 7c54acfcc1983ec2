/* libFuzzer target: a whole server-side connection. Each input is written into a
 * socketpair served by the transport engine exactly like an accepted TCP peer
 * (first byte bit 0: prepend the golden rail CONNECT + ACK_ACCEPTED, auth none,
 * so the fuzzer starts authenticated); the engine must answer and close once the
 * input ends, within a bounded time, with one published set to DIR/LOOKUP/READ. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_set.h"
#include "ldms/ldms_xprt.h"
#include "xprt_int.h"

static struct ldms_listener *L;
static struct ldms_schema *sc; /* kept: reachable, not leaked */
static ldms_set_t set;
static uint8_t prefix[256];
static size_t prefix_len;

static void load(const char *name)
{
	const char *src = getenv("LDMSC_SRC");
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/wire/%s.bin", src ? src : ".", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_xprt_session: cannot open %s (set LDMSC_SRC)\n", path);
		abort();
	}
	n = fread(prefix + prefix_len, 1, sizeof(prefix) - prefix_len, f);
	fclose(f);
	prefix_len += n;
}

static void srv_cb(ldms_t x, struct ldms_xprt_event *e, void *arg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ldms_err err;

	ldms_log_open("/dev/null");
	ldms_log_level_set(LDMS_LCRITICAL);
	if (ldms_init(1))
		abort();
	xprt_test_handshake_timeout_set(2.0);
	sc = ldms_schema_new("fz");
	ldms_schema_meta_add(sc, "component_id", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sc, "v", LDMS_V_U64, "B");
	ldms_schema_metric_array_add(sc, "s", LDMS_V_CHAR_ARRAY, 8, NULL);
	ldms_schema_array_card_set(sc, 2);
	set = ldms_set_new("fz/a", sc);
	if (!set || ldms_set_publish(set))
		abort();
	ldms_set_info_set(set, "updt_hint_us", "1000000:0");
	ldms_err_clear(&err);
	L = ldms_listen("sock", "127.0.0.1", "0", NULL, NULL, srv_cb, NULL, &err);
	if (!L)
		abort();
	load("connect_rail");
	load("ack_accepted");
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *parts[2];
	size_t lens[2], part = 0, off = 0;
	uint8_t sink[65536];
	uint64_t deadline;
	int sv[2], eof = 0, shut = 0;

	if (size < 1)
		return 0;
	parts[0] = (data[0] & 1) ? prefix : NULL;
	lens[0] = (data[0] & 1) ? prefix_len : 0;
	parts[1] = data + 1;
	lens[1] = size - 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (xprt_test_accept_fd(L, sv[0])) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	deadline = now_ms() + 10000;
	while (!eof) {
		struct pollfd p = {.fd = sv[1], .events = POLLIN};
		ssize_t n;

		while (part < 2 && off >= lens[part]) {
			part++;
			off = 0;
		}
		if (part < 2)
			p.events |= POLLOUT;
		else if (!shut) {
			shutdown(sv[1], SHUT_WR);
			shut = 1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "fuzz_xprt_session: the engine neither answered nor closed "
					"within 10 s\n");
			abort();
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (p.revents & (POLLIN | POLLHUP)) {
			n = recv(sv[1], sink, sizeof(sink), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				eof = 1;
		}
		if (!eof && part < 2 && (p.revents & POLLOUT)) {
			n = send(sv[1], parts[part] + off, lens[part] - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno == EPIPE)
				part = 2; /* the engine closed: nothing more to say */
		}
	}
	close(sv[1]);
	/* the endpoint is freed on the engine's thread: let it finish within this
	 * input so the leak check sees a balanced run */
	while (xprt_test_live_count() > 0 && now_ms() < deadline)
		usleep(100);
	if (xprt_test_live_count() > 0) {
		fprintf(stderr, "fuzz_xprt_session: endpoint not freed after close\n");
		abort();
	}
	return 0;
}
