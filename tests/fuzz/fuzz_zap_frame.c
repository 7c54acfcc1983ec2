/* libFuzzer target: the zap frame decoder (header, whole frame, READ_RESP header)
 * and the LDMS conn msg decoder over arbitrary bytes; a decoded frame is
 * re-encoded where an encoder exists and must reproduce the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zap_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zap_frame f;
	struct zap_hdr h;
	struct ldms_conn_msg m;
	uint8_t *out;
	int n = -1;

	(void)zap_hdr_decode(data, size, &h);
	(void)zap_read_resp_hdr_decode(data, size, &f);
	if (zap_frame_decode(data, size, &f))
		return 0;
	out = malloc(size + 1);
	if (!out)
		return 0;
	switch (f.hdr.type) {
	case ZAP_MSG_CONNECT:
		(void)ldms_conn_msg_decode(f.data, f.data_len, &m);
		if (f.hdr.ctxt == 0 && zap_sig_ok(f.sig) && memcmp(f.version, "\1\3\1\0", 4) == 0)
			n = zap_encode_connect(out, size, f.hdr.xid, f.data, f.data_len);
		break;
	case ZAP_MSG_SENDRECV:
	case ZAP_MSG_ACCEPTED:
	case ZAP_MSG_REJECTED:
	case ZAP_MSG_ACK_ACCEPTED:
		(void)ldms_conn_msg_decode(f.data, f.data_len, &m);
		if (f.hdr.ctxt == 0)
			n = zap_encode_data(out, size, f.hdr.type, f.hdr.xid, f.data, f.data_len);
		break;
	case ZAP_MSG_RENDEZVOUS:
		if (f.hdr.ctxt == 0)
			n = zap_encode_rendezvous(out, size, f.hdr.xid, f.map_key, f.acc, f.addr,
						  f.read_len, f.data, f.data_len);
		break;
	case ZAP_MSG_READ_REQ:
		n = zap_encode_read_req(out, size, f.hdr.xid, f.hdr.ctxt, f.map_key, f.addr,
					f.read_len);
		break;
	default:
		break;
	}
	if (n >= 0 && ((size_t)n != size || memcmp(out, data, size) != 0))
		abort();
	free(out);
	return 0;
}
