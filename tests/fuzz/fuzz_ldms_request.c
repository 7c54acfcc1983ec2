/* libFuzzer target: the LDMS request/reply decoder for every command (the first
 * input byte selects the command so the fuzzer reaches each payload parser),
 * then touches every decoded string and byte range to catch out-of-bounds views. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms_proto.h"
#include "zap_wire.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t cmds[] = {
	    0,	1,  2,	3,  4,	5,     6,     7,     8,	    9,	   10,	  11,	 12,	13,
	    14, 15, 16, 17, 18, 0x101, 0x102, 0x103, 0x104, 0x105, 0x108, 0x10a, 0x10b, 0x10c};
	struct ldms_msg m;
	uint8_t *buf;
	size_t len, i;

	if (size < 1)
		return 0;
	/* raw input as is */
	if (ldms_msg_decode(data + 1, size - 1, &m) == 0)
		sink += m.payload_len;
	/* forced command with a consistent len field */
	len = size - 1;
	if (len < LDMS_REQ_HDR_LEN)
		return 0;
	buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	wire_put_be32(buf + 8, cmds[data[0] % (sizeof(cmds) / sizeof(cmds[0]))]);
	wire_put_be32(buf + 12, (uint32_t)len);
	if (ldms_msg_decode(buf, len, &m) == 0) {
		for (i = 0; i < m.payload_len; i++)
			sink += m.payload[i];
		switch (m.cmd) {
		case LDMS_CMD_LOOKUP:
			sink += strlen(m.u.lookup.path);
			break;
		case LDMS_CMD_SET_DELETE:
			sink += strlen(m.u.set_delete.name);
			break;
		case LDMS_CMD_SEND_MSG:
		case LDMS_CMD_AUTH_MSG:
			for (i = 0; i < m.u.send.len; i++)
				sink += m.u.send.data[i];
			break;
		case LDMS_CMD_DIR_REPLY:
		case LDMS_CMD_DIR_UPDATE_REPLY:
			for (i = 0; i < m.u.dir_reply.json_len; i++)
				sink += (uint8_t)m.u.dir_reply.json[i];
			break;
		default:
			break;
		}
	}
	free(buf);
	return 0;
}
