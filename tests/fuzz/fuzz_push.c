/* libFuzzer target: the push codecs (push RENDEZVOUS, PUSH_REPLY, CANCEL_PUSH).
 * The first byte picks the decoder; whatever decodes is re-encoded and must
 * decode to the same fields and bytes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms_proto_push.h"

static void rdv(const uint8_t *d, size_t n)
{
	struct ldms_push_rdv r, r2;
	uint8_t out[LDMS_PUSH_RDV_LEN];

	if (ldms_push_rdv_decode(d, n, &r))
		return;
	if (ldms_push_rdv_encode(out, sizeof(out), &r) != LDMS_PUSH_RDV_LEN ||
	    ldms_push_rdv_decode(out, sizeof(out), &r2) || r.lookup_set_id != r2.lookup_set_id ||
	    r.push_set_id != r2.push_set_id || r.flags != r2.flags || r.xid != r2.xid)
		abort();
}

static void reply(const uint8_t *d, size_t n)
{
	struct ldms_push_reply r, r2;
	uint8_t *out;
	int len;

	if (ldms_push_reply_decode(d, n, &r))
		return;
	if ((size_t)LDMS_PUSH_REPLY_HDR_LEN + r.data_len != n)
		abort(); /* the decoder accepted bytes it did not account for */
	out = malloc(n);
	if (!out)
		return;
	len = ldms_push_reply_encode(out, n, &r);
	if (len != (int)n || ldms_push_reply_decode(out, n, &r2) || r2.set_id != r.set_id ||
	    r2.flags != r.flags || r2.data_off != r.data_off || r2.data_len != r.data_len ||
	    memcmp(r2.data, r.data, r.data_len))
		abort();
	free(out);
}

static void cancel(const uint8_t *d, size_t n)
{
	uint8_t out[LDMS_CANCEL_PUSH_LEN];
	uint64_t id, id2;

	if (ldms_cancel_push_decode(d, n, &id))
		return;
	if (ldms_cancel_push_encode(out, sizeof(out), id) != LDMS_CANCEL_PUSH_LEN ||
	    ldms_cancel_push_decode(out, sizeof(out), &id2) || id != id2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size < 1)
		return 0;
	/* an exact copy: the decoders must not read past size */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		rdv(buf, size - 1);
		break;
	case 1:
		reply(buf, size - 1);
		break;
	default:
		cancel(buf, size - 1);
		break;
	}
	free(buf);
	return 0;
}
