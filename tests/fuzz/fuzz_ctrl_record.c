/* libFuzzer target: arbitrary bytes into the ldmsd_request reassembler and decoder
 * (the server's first contact with network input). Input = sequence of records,
 * each preceded by a 2-byte BE length; the whole input is also decoded as one buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_ctrl.h"

static void poke(struct ldms_ctrl_msg *m)
{
	size_t n = ldms_ctrl_msg_attr_count(m), sum = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ldms_ctrl_attr *a = ldms_ctrl_msg_attr_at(m, i);
		sum += strlen(a->value) + a->len;
	}
	const char *t = ldms_ctrl_msg_text(m);
	if (t)
		sum += strlen(t);
	uint8_t *buf;
	size_t len;
	/* re-encoding must work for whatever decoded (ids may be unknown: -ENOTSUP) */
	if (ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, 64 + (sum & 255), &buf, &len) == 0) {
		struct ldms_ctrl_msg *d;
		if (ldms_ctrl_msg_decode(buf, len, LDMS_CTRL_V4_5, &d) != 0)
			abort();
		if (ldms_ctrl_msg_attr_count(d) != n)
			abort();
		ldms_ctrl_msg_free(d);
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldms_ctrl_reasm *r[2] = {ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 4096),
					ldms_ctrl_reasm_new(LDMS_CTRL_V4_4, 0)};
	size_t off = 0;
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		for (int i = 0; i < 2; i++) {
			struct ldms_ctrl_msg *m = NULL;
			struct ldms_ctrl_rec_hdr h;
			if (ldms_ctrl_reasm_feed(r[i], data + off, len, &m, &h) == 0 && m) {
				poke(m);
				ldms_ctrl_msg_free(m);
			}
		}
		off += len;
	}
	ldms_ctrl_reasm_free(r[0]);
	ldms_ctrl_reasm_free(r[1]);

	struct ldms_ctrl_msg *m;
	if (ldms_ctrl_msg_decode(data, size, LDMS_CTRL_V_MAIN, &m) == 0) {
		poke(m);
		ldms_ctrl_msg_free(m);
	}
	return 0;
}
