/* LDMS request/reply and lookup rendezvous codecs against the golden frames of
 * upstream (shared/golden/wire): decode the captured messages, re-encode them
 * from their fields byte for byte, and refuse every malformed variant. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ldms_proto.h"
#include "wire_vectors.h"
#include "zap_wire.h"

/* Loads a SENDRECV golden frame and returns its LDMS message. */
static unsigned char *ldms_part(const char *name, unsigned char **frame, size_t *len)
{
	size_t flen;
	struct zap_frame f;

	*frame = wire_vector(name, &flen);
	assert_int_equal(zap_frame_decode(*frame, flen, &f), 0);
	*len = f.data_len;
	return (unsigned char *)f.data;
}

static void test_dir(void **state)
{
	unsigned char *fr, *p;
	size_t len;
	struct ldms_msg m;
	uint8_t out[64];

	p = ldms_part("dir", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_DIR);
	assert_false(m.is_reply);
	assert_true(m.xid == 0x000055d6c3185220ULL);
	assert_int_equal(m.u.dir.flags, 0);
	assert_int_equal(ldms_enc_dir(out, sizeof(out), m.xid, 0), (int)len);
	assert_memory_equal(out, p, len);
	free(fr);

	p = ldms_part("dir_notify", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.u.dir.flags, 1);
	assert_int_equal(ldms_enc_dir(out, sizeof(out), m.xid, 1), (int)len);
	assert_memory_equal(out, p, len);
	free(fr);
}

static void test_dir_reply(void **state)
{
	const char *names[] = {"dir_reply", "dir_update_add", "dir_update_upd"};
	const uint32_t cmds[] = {LDMS_CMD_DIR_REPLY, LDMS_CMD_DIR_UPDATE_REPLY,
				 LDMS_CMD_DIR_UPDATE_REPLY};
	const uint32_t types[] = {0, 2, 3};
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned char *fr, *p;
		size_t len;
		struct ldms_msg m;
		uint8_t out[1024];

		p = ldms_part(names[i], &fr, &len);
		assert_int_equal(ldms_msg_decode(p, len, &m), 0);
		assert_true(m.is_reply);
		assert_int_equal(m.cmd, cmds[i]);
		assert_int_equal(m.rc, 0);
		assert_int_equal(m.u.dir_reply.type, types[i]);
		assert_int_equal(m.u.dir_reply.more, 0);
		if (i == 0) { /* LIST: not NUL-terminated */
			assert_int_equal(m.u.dir_reply.json_len, 807);
			assert_int_equal(m.u.dir_reply.json[806], '}');
		} else { /* UPDATE: NUL counted */
			assert_int_equal(m.u.dir_reply.json[m.u.dir_reply.json_len - 1], 0);
		}
		assert_int_equal(ldms_enc_dir_reply(out, sizeof(out), m.cmd, m.xid, 0,
						    m.u.dir_reply.type, 0, m.u.dir_reply.json,
						    m.u.dir_reply.json_len),
				 (int)len);
		assert_memory_equal(out, p, len);
		free(fr);
	}
}

static void test_lookup(void **state)
{
	unsigned char *fr, *p;
	size_t len, i;
	struct ldms_msg m;
	uint8_t out[128];

	p = ldms_part("lookup", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_LOOKUP);
	assert_int_equal(m.u.lookup.flags, 0);
	assert_string_equal(m.u.lookup.path, "samp/meminfo");
	assert_int_equal(ldms_enc_lookup(out, sizeof(out), m.xid, 0, "samp/meminfo"), (int)len);
	assert_memory_equal(out, p, len);

	/* truncations are refused */
	for (i = 0; i < len; i++) {
		memcpy(out, p, len);
		out[15] = (uint8_t)i; /* keep len consistent with the buffer */
		assert_int_equal(ldms_msg_decode(out, i, &m), -EPROTO);
	}
	/* path without NUL inside path_len */
	memcpy(out, p, len);
	out[len - 1] = 'x';
	assert_int_equal(ldms_msg_decode(out, len, &m), -EPROTO);
	/* path_len beyond the message */
	memcpy(out, p, len);
	out[23] = 14;
	assert_int_equal(ldms_msg_decode(out, len, &m), -EPROTO);
	/* path_len 0 */
	out[23] = 0;
	assert_int_equal(ldms_msg_decode(out, len, &m), -EPROTO);
	free(fr);
}

static void test_set_delete(void **state)
{
	unsigned char *fr, *p;
	size_t len;
	struct ldms_msg m;
	uint8_t out[128];

	p = ldms_part("set_delete", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SET_DELETE);
	assert_true(m.xid == 0x00007f0280003910ULL);
	assert_string_equal(m.u.set_delete.name, "samp/vmstat");
	assert_int_equal(ldms_enc_set_delete(out, sizeof(out), m.xid, "samp/vmstat"), (int)len);
	assert_memory_equal(out, p, len);
	free(fr);

	p = ldms_part("set_delete_reply", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SET_DELETE_REPLY);
	assert_true(m.is_reply);
	assert_int_equal(m.rc, 0);
	assert_int_equal(m.u.set_delete_reply.sec, 1795319239);
	assert_int_equal(m.u.set_delete_reply.nsec, 850433904);
	assert_int_equal(
	    ldms_enc_set_delete_reply(out, sizeof(out), m.xid, 0, 1795319239, 850433904), (int)len);
	assert_memory_equal(out, p, len);
	free(fr);
}

static void test_send_msg(void **state)
{
	unsigned char *fr, *p;
	size_t len;
	struct ldms_msg m;
	uint8_t out[128];

	p = ldms_part("send_msg", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_SEND_MSG);
	assert_true(m.xid == 0);
	assert_int_equal(m.u.send.len, 28);
	assert_int_equal(
	    ldms_enc_send(out, sizeof(out), LDMS_CMD_SEND_MSG, 0, m.u.send.data, m.u.send.len),
	    (int)len);
	assert_memory_equal(out, p, len);
	/* msg_len beyond the message */
	out[19] = 29;
	assert_int_equal(ldms_msg_decode(out, len, &m), -EPROTO);
	free(fr);

	p = ldms_part("auth_msg", &fr, &len);
	assert_int_equal(ldms_msg_decode(p, len, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_AUTH_MSG);
	assert_int_equal(m.u.send.len, 12); /* ovis challenge: type u32 + BE64 */
	assert_int_equal(
	    ldms_enc_send(out, sizeof(out), LDMS_CMD_AUTH_MSG, 0, m.u.send.data, m.u.send.len),
	    (int)len);
	assert_memory_equal(out, p, len);
	free(fr);
}

static void test_simple(void **state)
{
	uint8_t out[64];
	struct ldms_msg m;

	assert_int_equal(ldms_enc_simple_reply(out, sizeof(out), LDMS_CMD_LOOKUP_REPLY, 7, ENOENT),
			 20);
	assert_int_equal(ldms_msg_decode(out, 20, &m), 0);
	assert_true(m.is_reply);
	assert_int_equal(m.cmd, LDMS_CMD_LOOKUP_REPLY);
	assert_int_equal(m.rc, ENOENT);
	assert_true(m.xid == 7);
	assert_int_equal(ldms_enc_dir_cancel(out, sizeof(out), 9), 16);
	assert_int_equal(ldms_msg_decode(out, 16, &m), 0);
	assert_int_equal(m.cmd, LDMS_CMD_DIR_CANCEL);
	/* len field must match the buffer */
	assert_int_equal(ldms_msg_decode(out, 17, &m), -EPROTO);
	/* unknown commands decode to header + raw payload */
	ldms_enc_req_hdr(out, sizeof(out), 99, 1, 24);
	assert_int_equal(ldms_msg_decode(out, 24, &m), 0);
	assert_int_equal(m.cmd, 99);
	assert_int_equal(m.payload_len, 8);
	/* a reply shorter than its header */
	ldms_enc_req_hdr(out, sizeof(out), LDMS_CMD_DIR_REPLY, 1, 16);
	assert_int_equal(ldms_msg_decode(out, 16, &m), -EPROTO);
}

static void check_rdv(const char *name, const char *schema, const char *inst, size_t ninfo)
{
	size_t flen;
	unsigned char *g = wire_vector(name, &flen);
	struct zap_frame f;
	struct ldms_rdv_lookup r, e;
	uint8_t out[512];
	size_t i;

	assert_int_equal(zap_frame_decode(g, flen, &f), 0);
	assert_int_equal(ldms_rdv_lookup_decode(f.data, f.data_len, &r), 0);
	assert_string_equal(r.schema, schema);
	assert_string_equal(r.instance, inst);
	assert_int_equal(r.info_count, ninfo);
	assert_true(r.has_prflng);
	assert_int_equal(r.more, 0);

	e = r;
	e.keys = r.keys;
	e.values = r.values;
	assert_int_equal(ldms_rdv_lookup_size(&e), f.data_len);
	assert_int_equal(ldms_rdv_lookup_encode(out, sizeof(out), &e), (int)f.data_len);
	assert_memory_equal(out, f.data, f.data_len);

	/* every truncation is refused or decodes within bounds */
	for (i = 0; i < f.data_len; i++) {
		struct ldms_rdv_lookup t;
		uint8_t *c = malloc(i ? i : 1);

		memcpy(c, f.data, i);
		if (i >= 16)
			wire_put_le32(c + 12, (uint32_t)i);
		if (ldms_rdv_lookup_decode(c, i, &t) == 0)
			ldms_rdv_lookup_release(&t);
		free(c);
	}
	ldms_rdv_lookup_release(&r);
	free(g);
}

static void test_rendezvous(void **state)
{
	size_t flen;
	unsigned char *g;
	struct zap_frame f;
	struct ldms_rdv_lookup r;
	uint8_t c[512];

	check_rdv("rendezvous", "meminfo", "samp/meminfo", 1);
	check_rdv("rendezvous_noinfo", "golden", "golden/static", 0);

	g = wire_vector("rendezvous", &flen);
	assert_int_equal(zap_frame_decode(g, flen, &f), 0);
	assert_int_equal(ldms_rdv_lookup_decode(f.data, f.data_len, &r), 0);
	assert_true(r.xid == 0x000055705e47b5c0ULL);
	assert_true(r.set_id == 1);
	assert_int_equal(r.meta_len, 2968);
	assert_int_equal(r.data_len, 544);
	assert_int_equal(r.card, 57);
	assert_int_equal(r.array_card, 1);
	assert_string_equal(r.keys[0], "updt_hint_us");
	assert_string_equal(r.values[0], "1000000:0");
	assert_int_equal(r.req_recv_sec, 1795318925);
	assert_int_equal(r.req_recv_nsec, 285700735);
	ldms_rdv_lookup_release(&r);

	/* schema entry length running past the end */
	memcpy(c, f.data, f.data_len);
	c[48] = 250;
	assert_int_equal(ldms_rdv_lookup_decode(c, f.data_len, &r), -EPROTO);
	/* instance without NUL in its length */
	memcpy(c, f.data, f.data_len);
	c[48 + 42 + 13] = 'x';
	assert_int_equal(ldms_rdv_lookup_decode(c, f.data_len, &r), -EPROTO);
	/* len field disagreeing with the buffer */
	memcpy(c, f.data, f.data_len);
	assert_int_equal(ldms_rdv_lookup_decode(c, f.data_len - 1, &r), -EPROTO);
	/* push rendezvous is not a lookup */
	wire_put_be32(c + 8, LDMS_RDV_PUSH);
	assert_int_equal(ldms_rdv_lookup_decode(c, f.data_len, &r), -EPROTO);
	free(g);

	/* names that do not fit a u8 length */
	{
		char big[300];
		struct ldms_rdv_lookup e = {0};

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		e.schema = "s";
		e.instance = big;
		assert_int_equal(ldms_rdv_lookup_encode(c, sizeof(c), &e), -ENAMETOOLONG);
		big[222] = 0;
		e.schema = big;
		e.instance = "i";
		assert_int_equal(ldms_rdv_lookup_encode(c, sizeof(c), &e), -ENAMETOOLONG);
		big[221] = 0;
		assert_true(ldms_rdv_lookup_encode(c, sizeof(c), &e) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dir),	       cmocka_unit_test(test_dir_reply),
	    cmocka_unit_test(test_lookup),     cmocka_unit_test(test_set_delete),
	    cmocka_unit_test(test_send_msg),   cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_rendezvous),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
