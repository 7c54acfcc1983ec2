/* libFuzzer target: the lookup rendezvous parser (length-prefixed names, info
 * pairs, profiling tail). A decoded message is re-encoded and decoded again; the
 * second decode must agree with the first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms_proto.h"
#include "zap_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldms_rdv_lookup r, r2;
	uint8_t *buf, *out;
	size_t i, n;
	int len;

	/* keep the host-order len field consistent so the parser runs deeper */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= 16)
		wire_put_le32(buf + 12, (uint32_t)size);
	if (ldms_rdv_lookup_decode(buf, size, &r)) {
		free(buf);
		return 0;
	}
	n = ldms_rdv_lookup_size(&r);
	out = malloc(n);
	if (!out)
		abort();
	len = ldms_rdv_lookup_encode(out, n, &r);
	if (len > 0) {
		if (ldms_rdv_lookup_decode(out, (size_t)len, &r2))
			abort();
		if (strcmp(r.schema, r2.schema) || strcmp(r.instance, r2.instance) ||
		    r.info_count != r2.info_count || r.meta_len != r2.meta_len)
			abort();
		for (i = 0; i < r.info_count; i++)
			if (strcmp(r.keys[i], r2.keys[i]) || strcmp(r.values[i], r2.values[i]))
				abort();
		ldms_rdv_lookup_release(&r2);
	}
	free(out);
	ldms_rdv_lookup_release(&r);
	free(buf);
	return 0;
}
