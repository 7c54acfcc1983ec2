/* libFuzzer target for the etcd client's response parsers: answers from the network are
 * untrusted, so arbitrary bytes go through every parser of etcd_codec.h (range, txn,
 * leases, error bodies, watch messages, base64) and through the stream splitter feeding
 * the watch parser in chunks. Byte 0 picks the parser; the rest is the response. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_util.h"
#include "etcd_codec.h"

static int on_obj(const char *obj, size_t n, void *arg)
{
	struct etcd_watch_msg m;
	struct ldms_err err;
	if (!etcd_parse_watch_msg(obj, n, &m, &err))
		etcd_watch_msg_free(&m);
	(*(int *)arg)++;
	return *(int *)arg > 1000; /* a bound like a real callback might set */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	struct ldms_err err;
	ldms_err_clear(&err);
	switch (data[0] % 10) {
	case 0: {
		struct etcd_range_result r;
		if (!etcd_parse_range(p, n, &r, &err))
			etcd_range_result_free(&r);
		break;
	}
	case 1: {
		struct etcd_txn_result t;
		if (!etcd_parse_txn(p, n, &t, &err))
			etcd_txn_result_free(&t);
		break;
	}
	case 2: {
		int64_t a, b;
		etcd_parse_lease_grant(p, n, &a, &b, &err);
		etcd_parse_lease_keepalive(p, n, &a, &b, &err);
		etcd_parse_lease_ttl(p, n, &a, &b, &err);
		etcd_parse_put(p, n, &a, &err);
		etcd_parse_delete(p, n, &a, &b, &err);
		break;
	}
	case 3: {
		int code;
		char msg[64];
		etcd_parse_error(p, n, &code, msg, sizeof(msg));
		break;
	}
	case 4: {
		struct etcd_watch_msg m;
		if (!etcd_parse_watch_msg(p, n, &m, &err))
			etcd_watch_msg_free(&m);
		break;
	}
	case 5: {
		char *out;
		size_t len;
		if (!etcd_b64_decode(p, n, &out, &len))
			free(out);
		break;
	}
	default: {
		/* the stream in chunks whose sizes come from the input itself */
		struct etcd_jsplit sp = {.max = 1 << 16};
		int count = 0;
		size_t off = 0, step = (size_t)(data[0] / 10) + 1;
		while (off < n) {
			size_t len = n - off < step ? n - off : step;
			if (etcd_jsplit_feed(&sp, p + off, len, on_obj, &count))
				break;
			off += len;
		}
		etcd_jsplit_free(&sp);
		break;
	}
	}
	return 0;
}
