/* Shared by the message-service unit tests (cmocka): a raw zap peer on
 * 127.0.0.1 that connects with a rail conn msg (auth none, msg_enabled,
 * a chosen recv_quota) and exchanges whole SENDRECV frames. */
#ifndef MSG_RAW_PEER_H
#define MSG_RAW_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ldms_proto.h"
#include "zap_wire.h"

static inline void send_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static inline size_t read_frame(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0, need = ZAP_HDR_LEN;
	ssize_t n;

	while (got < need) {
		n = recv(fd, buf + got, need - got, 0);
		if (n <= 0)
			return 0;
		got += (size_t)n;
		if (got == ZAP_HDR_LEN) {
			need = wire_get_be32(buf + 4);
			assert_true(need <= cap && need >= ZAP_HDR_LEN);
		}
	}
	return got;
}

/* CONNECT with a rail conn msg advertising msg_enabled and recv_quota. */
static inline int raw_session(int to_port, int64_t quota)
{
	struct timeval tv = {.tv_sec = 5};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct ldms_conn_msg cm;
	uint8_t m[64], f[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sa.sin_port = htons((uint16_t)to_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ldms_conn_msg_init(&cm, "none", 1);
	cm.msg_enabled = 1;
	cm.recv_quota = quota;
	cm.rate_limit = -1;
	cm.pid = 4242;
	n = ldms_conn_msg_encode(m, sizeof(m), &cm);
	assert_int_equal(n, 64);
	n = zap_encode_connect(f, sizeof(f), 1, m, 64);
	send_all(fd, f, (size_t)n);
	assert_true(read_frame(fd, f, sizeof(f)) > 0);
	assert_int_equal(wire_get_be16(f), ZAP_MSG_ACCEPTED);
	n = zap_encode_data(f, sizeof(f), ZAP_MSG_ACK_ACCEPTED, 2, NULL, 0);
	send_all(fd, f, (size_t)n);
	return fd;
}

static inline void send_ldms(int fd, const uint8_t *msg, size_t n)
{
	uint8_t *f = malloc(ZAP_SENDRECV_HDR + n);
	int k;

	assert_non_null(f);
	k = zap_encode_data(f, ZAP_SENDRECV_HDR + n, ZAP_MSG_SENDRECV, 9, msg, (uint32_t)n);
	assert_true(k > 0);
	send_all(fd, f, (size_t)k);
	free(f);
}

/* The LDMS part of the next SENDRECV frame (into buf, returns its length). */
static inline size_t read_ldms(int fd, uint8_t *buf, size_t cap)
{
	size_t n = read_frame(fd, buf, cap);

	assert_true(n > ZAP_SENDRECV_HDR);
	assert_int_equal(wire_get_be16(buf), ZAP_MSG_SENDRECV);
	memmove(buf, buf + ZAP_SENDRECV_HDR, n - ZAP_SENDRECV_HDR);
	return n - ZAP_SENDRECV_HDR;
}

#endif
