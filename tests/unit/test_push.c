/* Push end to end in one process on 127.0.0.1: the three codecs (byte layout,
 * round trips, malformed input), the owner's wire bytes seen by a raw peer
 * (fragments, offsets of a ring set, cancel), and a mirror registered with
 * ldms_xprt_register_push: every transaction_end arrives in order, meta changes
 * are carried and validated, push on request, bounds and validation errors, a
 * malformed PUSH_REPLY, cancel, and cleanup when the connection ends. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldms/ldms_xprt.h"
#include "ldms_proto.h"
#include "ldms_proto_push.h"
#include "set_priv.h"
#include "wire_vectors.h"
#include "xprt_int.h"
#include "xprt_test_util.h"
#include "zap_wire.h"

static int wait_ptr(void **p, int want_nonnull)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if ((__atomic_load_n(p, __ATOMIC_ACQUIRE) != NULL) == want_nonnull)
			return 1;
		usleep(1000);
	}
	return 0;
}

static ldms_set_t make_set(const char *name, uint32_t card)
{
	struct ldms_schema *sc = ldms_schema_new("pschema");
	ldms_set_t s;

	ldms_schema_meta_add(sc, "component_id", LDMS_V_U64, NULL);
	ldms_schema_metric_add(sc, "value", LDMS_V_U64, NULL);
	ldms_schema_metric_array_add(sc, "arr", LDMS_V_U64_ARRAY, 4, NULL);
	ldms_schema_array_card_set(sc, card);
	s = ldms_set_new(name, sc);
	ldms_schema_delete(sc);
	assert_non_null(s);
	ldms_metric_set_u64(s, 0, 7);
	ldms_transaction_begin(s);
	ldms_metric_set_u64(s, 1, 0);
	ldms_transaction_end(s);
	assert_int_equal(ldms_set_publish(s), 0);
	return s;
}

static void sample(ldms_set_t s, uint64_t v)
{
	ldms_transaction_begin(s);
	ldms_metric_set_u64(s, 1, v);
	ldms_metric_array_set_u64(s, 2, 0, v * 2);
	ldms_transaction_end(s);
}

/* ---- codecs ------------------------------------------------------------------------------ */

static void test_codec_rdv(void **state)
{
	struct ldms_push_rdv r = {.xid = 0,
				  .lookup_set_id = 3,
				  .push_set_id = 0x1122334455667788ULL,
				  .flags = LDMS_PUSH_F_PUSH | LDMS_PUSH_F_CHANGE},
			     d;
	static const uint8_t want[LDMS_PUSH_RDV_LEN] = {
	    0, 0, 0, 0, 0, 0, 0,    0,	  0,	0,    0,    2,	  0,	0,    0, 36, 3, 0,
	    0, 0, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0,  0, 3};
	uint8_t buf[64];

	assert_int_equal(ldms_push_rdv_encode(buf, 35, &r), -ENOSPC);
	assert_int_equal(ldms_push_rdv_encode(buf, sizeof(buf), &r), LDMS_PUSH_RDV_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ldms_push_rdv_decode(buf, LDMS_PUSH_RDV_LEN, &d), 0);
	assert_true(d.lookup_set_id == 3 && d.push_set_id == r.push_set_id);
	assert_int_equal(d.flags, 3);
	/* short, or a lookup rendezvous */
	assert_int_equal(ldms_push_rdv_decode(buf, LDMS_PUSH_RDV_LEN - 1, &d), -EPROTO);
	buf[11] = 1;
	assert_int_equal(ldms_push_rdv_decode(buf, LDMS_PUSH_RDV_LEN, &d), -EPROTO);
}

static void test_codec_reply(void **state)
{
	uint8_t data[5] = {1, 2, 3, 4, 5}, buf[128];
	struct ldms_push_reply r = {.set_id = 0x0102030405060708ULL,
				    .flags = LDMS_PUSH_REPLY_F_MORE | LDMS_PUSH_REPLY_F_PUSH,
				    .data_off = 0x100,
				    .data_len = 5,
				    .data = data},
			       d;
	static const uint8_t hdr[28] = {
	    0, 0, 0, 0,	 0, 0, 0, 0, /* xid */
	    0, 0, 1, 8,		     /* cmd 0x108 */
	    0, 0, 0, 45,	     /* len */
	    0, 0, 0, 0,		     /* rc */
	    8, 7, 6, 5,	 4, 3, 2, 1, /* set_id, raw little-endian */
	};

	int n = ldms_push_reply_encode(buf, sizeof(buf), &r);

	assert_int_equal(n, LDMS_PUSH_REPLY_HDR_LEN + 5);
	/* reply header: xid 0, cmd 0x108 BE, len 45 BE, rc 0 */
	assert_memory_equal(buf, hdr, 20);
	assert_int_equal(wire_get_be32(buf + 8), LDMS_CMD_PUSH_REPLY);
	assert_int_equal(wire_get_be32(buf + 12), 45);
	assert_memory_equal(buf + 20, hdr + 20, 8); /* set_id raw LE */
	assert_int_equal(wire_get_be32(buf + 28), 0x90000000u);
	assert_int_equal(wire_get_be32(buf + 32), 0x100);
	assert_int_equal(wire_get_be32(buf + 36), 5);
	assert_memory_equal(buf + 40, data, 5);
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n, &d), 0);
	assert_true(d.set_id == r.set_id && d.flags == r.flags && d.data_off == 0x100);
	assert_int_equal(d.data_len, 5);
	assert_memory_equal(d.data, data, 5);
	/* data_len disagreeing with the message length */
	wire_put_be32(buf + 36, 6);
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n, &d), -EPROTO);
	wire_put_be32(buf + 36, 4);
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n, &d), -EPROTO);
	wire_put_be32(buf + 36, 0xffffffffu);
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n, &d), -EPROTO);
	wire_put_be32(buf + 36, 5);
	/* header length field disagreeing with the buffer, too short, other command */
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n - 1, &d), -EPROTO);
	wire_put_be32(buf + 12, 39);
	assert_int_equal(ldms_push_reply_decode(buf, 39, &d), -EPROTO);
	wire_put_be32(buf + 12, 45);
	wire_put_be32(buf + 8, LDMS_CMD_DIR_REPLY);
	assert_int_equal(ldms_push_reply_decode(buf, (size_t)n, &d), -EPROTO);
	/* empty last push */
	r.data_len = 0;
	r.flags = LDMS_PUSH_REPLY_F_PUSH | LDMS_PUSH_REPLY_F_LAST;
	assert_int_equal(ldms_push_reply_hdr_encode(buf, sizeof(buf), &r), 40);
	assert_int_equal(ldms_push_reply_decode(buf, 40, &d), 0);
	assert_int_equal(d.flags, 0x30000000u);
	/* over one message */
	r.data_len = LDMS_PUSH_REPLY_DATA_MAX + 1;
	assert_int_equal(ldms_push_reply_hdr_encode(buf, sizeof(buf), &r), -EMSGSIZE);
}

static void test_codec_cancel(void **state)
{
	uint8_t buf[32];
	uint64_t id = 0;

	assert_int_equal(ldms_cancel_push_encode(buf, 23, 5), -ENOSPC);
	assert_int_equal(ldms_cancel_push_encode(buf, sizeof(buf), 0x0a0b), 24);
	assert_int_equal(wire_get_be32(buf + 8), LDMS_CMD_CANCEL_PUSH);
	assert_int_equal(wire_get_be32(buf + 12), 24);
	assert_int_equal(buf[16], 0x0b);
	assert_int_equal(buf[17], 0x0a);
	assert_int_equal(ldms_cancel_push_decode(buf, 24, &id), 0);
	assert_true(id == 0x0a0b);
	wire_put_be32(buf + 12, 20);
	assert_int_equal(ldms_cancel_push_decode(buf, 20, &id), -EPROTO);
}

/* ---- the owner's bytes, seen by a raw peer ------------------------------------------------ */

/* One PUSH_REPLY frame into r (data points into buf). */
static void raw_read_push(int fd, uint8_t *buf, size_t cap, struct ldms_push_reply *r)
{
	struct zap_frame f;
	size_t len = read_frame(fd, buf, cap);

	assert_true(len > 0);
	assert_int_equal(zap_frame_decode(buf, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_SENDRECV);
	assert_int_equal(ldms_push_reply_decode(f.data, f.data_len, r), 0);
}

static void test_owner_wire(void **state)
{
	ldms_set_t s = make_set("push/raw", 3);
	static uint8_t buf[1 << 16];
	uint8_t msg[LDMS_REQ_HDR_LEN + 8 + 64];
	struct ldms_rdv_lookup lk;
	struct ldms_push_reply r;
	struct ldms_push_rdv pr;
	struct zap_frame f;
	size_t len;
	uint32_t curr;
	int fd = raw_rail_session(), n;

	/* LOOKUP -> RENDEZVOUS: its set_id names the set in the push registration */
	n = ldms_enc_lookup(msg, sizeof(msg), 42, LDMS_LOOKUP_BY_INSTANCE, "push/raw");
	send_ldms(fd, msg, n);
	len = read_frame(fd, buf, sizeof(buf));
	assert_int_equal(zap_frame_decode(buf, len, &f), 0);
	assert_int_equal(f.hdr.type, ZAP_MSG_RENDEZVOUS);
	assert_int_equal(ldms_rdv_lookup_decode(f.data, f.data_len, &lk), 0);
	pr = (struct ldms_push_rdv){.lookup_set_id = lk.set_id,
				    .push_set_id = 0xabcdef0123ULL,
				    .flags = LDMS_PUSH_F_PUSH | LDMS_PUSH_F_CHANGE};
	ldms_rdv_lookup_release(&lk);
	zap_encode_rendezvous_hdr(buf, ZAP_RENDEZVOUS_HDR, 5, 9, 3, 0, 4096, LDMS_PUSH_RDV_LEN);
	ldms_push_rdv_encode(buf + ZAP_RENDEZVOUS_HDR, LDMS_PUSH_RDV_LEN, &pr);
	assert_int_equal(send(fd, buf, ZAP_RENDEZVOUS_HDR + LDMS_PUSH_RDV_LEN, 0),
			 ZAP_RENDEZVOUS_HDR + LDMS_PUSH_RDV_LEN);
	assert_true(wait_ptr(&s->push_ctx, 1));

	/* first push: meta (offset 0, MORE) then the current ring copy */
	sample(s, 11);
	curr = ldms_set_curr_idx_get(s);
	assert_int_not_equal(curr, 0);
	raw_read_push(fd, buf, sizeof(buf), &r);
	assert_true(r.set_id == 0xabcdef0123ULL);
	assert_int_equal(r.flags, LDMS_PUSH_REPLY_F_PUSH | LDMS_PUSH_REPLY_F_MORE);
	assert_int_equal(r.data_off, 0);
	assert_int_equal(r.data_len, s->meta_sz);
	assert_memory_equal(r.data, s->mem, s->meta_sz);
	raw_read_push(fd, buf, sizeof(buf), &r);
	assert_int_equal(r.flags, LDMS_PUSH_REPLY_F_PUSH);
	assert_int_equal(r.data_off, s->meta_sz + curr * s->data_sz);
	assert_int_equal(r.data_len, s->data_sz);
	assert_memory_equal(r.data, set_data_section(s, curr), s->data_sz);
	/* meta unchanged: data only */
	sample(s, 12);
	raw_read_push(fd, buf, sizeof(buf), &r);
	assert_int_equal(r.flags, LDMS_PUSH_REPLY_F_PUSH);
	assert_int_equal(r.data_off, s->meta_sz + ldms_set_curr_idx_get(s) * s->data_sz);
	assert_int_equal(get_le64(r.data + DH_GN), ldms_set_data_gn_get(s));

	/* CANCEL_PUSH: one empty last push, then nothing more */
	n = ldms_cancel_push_encode(msg, sizeof(msg), pr.lookup_set_id);
	send_ldms(fd, msg, n);
	raw_read_push(fd, buf, sizeof(buf), &r);
	assert_true(r.set_id == 0xabcdef0123ULL);
	assert_int_equal(r.flags, LDMS_PUSH_REPLY_F_PUSH | LDMS_PUSH_REPLY_F_LAST);
	assert_int_equal(r.data_len, 0);
	assert_true(wait_ptr(&s->push_ctx, 0));
	sample(s, 13);
	/* a malformed push rendezvous closes the connection */
	zap_encode_rendezvous_hdr(buf, ZAP_RENDEZVOUS_HDR, 5, 9, 3, 0, 4096, 12);
	memset(buf + ZAP_RENDEZVOUS_HDR, 0, 12);
	wire_put_be32(buf + ZAP_RENDEZVOUS_HDR + 8, LDMS_RDV_PUSH);
	assert_int_equal(send(fd, buf, ZAP_RENDEZVOUS_HDR + 12, 0), ZAP_RENDEZVOUS_HDR + 12);
	assert_int_equal(read_frame(fd, buf, sizeof(buf)), 0);
	close(fd);
	ldms_set_delete(s);
}

/* ---- mirrors registered with ldms_xprt_register_push ------------------------------------- */

#define NPUSH 64

struct pcb {
	atomic_int n, last, errors;
	int status;
	uint64_t values[NPUSH + 8];
	uint64_t gns[NPUSH + 8];
	uint32_t flags;
};

static void push_cb(ldms_t x, ldms_set_t s, int status, uint32_t flags, void *arg)
{
	struct pcb *p = arg;
	int i = atomic_load(&p->n);

	p->flags = flags;
	if (flags & LDMS_UPD_F_PUSH_LAST) {
		atomic_fetch_add(&p->last, 1);
		return;
	}
	if (status) {
		p->status = status;
		atomic_fetch_add(&p->errors, 1);
		return;
	}
	if (i < NPUSH + 8) {
		p->values[i] = ldms_metric_get_u64(s, 1);
		p->gns[i] = ldms_set_data_gn_get(s);
	}
	atomic_fetch_add(&p->n, 1);
}

struct lk {
	atomic_int done;
	int status;
	ldms_set_t set;
};

static void lk_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	struct lk *l = arg;

	l->status = status;
	if (s)
		l->set = ldms_set_get(s);
	if (!more)
		atomic_store(&l->done, 1);
}

struct upd {
	atomic_int done;
	int status;
};

static void upd_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	struct upd *u = arg;

	u->status = status;
	atomic_store(&u->done, 1);
}

/* One update of mirror m, waited for. Its reply travels behind every push the
 * owner sent on that connection before it read the request, and the replies are
 * handled in order: afterwards, pushes that were going to arrive have arrived. */
static int round_trip(ldms_set_t m)
{
	static struct upd u;

	memset(&u, 0, sizeof(u));
	assert_int_equal(ldms_xprt_update(m, upd_cb, &u), 0);
	assert_true(wait_for(&u.done, 1));
	return u.status;
}

/* Connected endpoint and the mirror of `name`, meta read by one pull. */
static ldms_t mirror_of(const char *name, ldms_set_t *mirror)
{
	static struct lk l; /* off the stack: a late callback after a failed wait */
	ldms_t x = connect_sync();

	memset(&l, 0, sizeof(l));
	assert_int_equal(ldms_xprt_lookup(x, name, LDMS_LOOKUP_BY_INSTANCE, lk_cb, &l), 0);
	assert_true(wait_for(&l.done, 1));
	assert_int_equal(l.status, 0);
	*mirror = l.set;
	assert_int_equal(round_trip(l.set), 0);
	return x;
}

static int peer_count(ldms_set_t s)
{
	return xprt_test_push_peers(s);
}

static void wait_peers(ldms_set_t s, int n)
{
	for (int i = 0; i < WAIT_MS && peer_count(s) != n; i++)
		usleep(1000);
	assert_int_equal(peer_count(s), n);
}

/* Waits until n of s's peers registered with (at least) `flags`. */
static void wait_peers_with(ldms_set_t s, uint32_t flags, int n)
{
	for (int i = 0; i < WAIT_MS && xprt_test_push_peers_with(s, flags) != n; i++)
		usleep(1000);
	assert_int_equal(xprt_test_push_peers_with(s, flags), n);
}

/* Callback state lives outside the test's stack frame: a failed assertion leaves
 * the test early while registrations may still call back until teardown. */
static struct pcb pcbs[4];

static struct pcb *pcb_new(int i)
{
	memset(&pcbs[i], 0, sizeof(pcbs[i]));
	return &pcbs[i];
}

/* Posts fn(arg) on x's I/O thread and waits for it (fabricated PUSH_REPLYs run
 * where real ones do). */
struct inject {
	ldms_t x;
	uint8_t msg[256];
	size_t len;
	atomic_int done;
};

static void inject_run(void *arg)
{
	struct inject *in = arg;
	struct ldms_msg m;

	assert_int_equal(ldms_msg_decode(in->msg, in->len, &m), 0);
	xprt_push_reply_recv(in->x, &m);
	atomic_store(&in->done, 1);
}

static void inject(ldms_t x, const struct ldms_push_reply *r)
{
	static struct inject in; /* the I/O thread may run it after a failed wait */
	int n;

	memset(&in, 0, sizeof(in));
	in.x = x;
	n = ldms_push_reply_encode(in.msg, sizeof(in.msg), r);
	assert_true(n > 0);
	in.len = (size_t)n;
	assert_int_equal(xprt_post(x->io, inject_run, &in), 0);
	assert_true(wait_for(&in.done, 1));
}

static void test_mirror_push(void **state)
{
	ldms_set_t s = make_set("push/m", 2), m = NULL;
	ldms_t x = mirror_of("push/m", &m);
	struct pcb *pp = pcb_new(0);
	uint64_t id;
	int i;

	assert_int_equal(ldms_xprt_register_push(NULL, 1, push_cb, pp), -EINVAL);
	assert_int_equal(ldms_xprt_register_push(s, 1, push_cb, pp), -EINVAL); /* local */
	assert_int_equal(ldms_xprt_register_push(m, 1, NULL, pp), -EINVAL);
	assert_int_equal(ldms_xprt_register_push(m, LDMS_XPRT_PUSH_F_CHANGE, push_cb, pp), 0);
	wait_peers(s, 1);
	for (i = 1; i <= NPUSH; i++) {
		sample(s, (uint64_t)i);
		assert_true(wait_for(&pp->n, i));
		assert_true(pp->values[i - 1] == (uint64_t)i);
		assert_true(pp->gns[i - 1] == ldms_set_data_gn_get(s));
		assert_true(ldms_set_is_consistent(m));
	}
	/* a burst: every transaction still arrives, in order */
	for (i = NPUSH + 1; i <= NPUSH + 8; i++)
		sample(s, (uint64_t)i);
	assert_true(wait_for(&pp->n, NPUSH + 8));
	for (i = 0; i < NPUSH + 8; i++)
		assert_true(pp->values[i] == (uint64_t)i + 1);
	assert_int_equal(atomic_load(&pp->errors), 0);
	assert_true(pp->flags == LDMS_UPD_F_PUSH);

	/* a meta change travels with the next push and is validated */
	ldms_metric_set_u64(s, 0, 99);
	sample(s, 1000);
	assert_true(wait_for(&pp->n, NPUSH + 9));
	assert_true(ldms_metric_get_u64(m, 0) == 99);
	assert_true(ldms_set_meta_gn_get(m) == ldms_set_meta_gn_get(s));

	/* fabricated pushes: out of bounds, then a meta section that does not validate */
	{
		uint8_t junk[16];
		struct ldms_push_reply r = {.flags = LDMS_PUSH_REPLY_F_PUSH, .data = junk};

		id = xprt_test_push_id(m);
		assert_true(id != 0);
		memset(junk, 0xee, sizeof(junk));
		r.set_id = id;
		r.data_off = (uint32_t)ldms_set_mem_size(m) - 8;
		r.data_len = 16;
		inject(x, &r);
		assert_int_equal(atomic_load(&pp->errors), 1);
		assert_int_equal(pp->status, -ERANGE);
		r.data_off = 0xfffffff0u;
		inject(x, &r);
		assert_int_equal(atomic_load(&pp->errors), 2);
		/* an unknown registration id is ignored */
		r.set_id = id + 1;
		r.data_off = 0;
		inject(x, &r);
		assert_int_equal(atomic_load(&pp->errors), 2);
		/* card far beyond the meta section: validation refuses, values stay readable */
		r.set_id = id;
		r.data_off = SH_CARD;
		r.data_len = 4;
		inject(x, &r);
		assert_int_equal(atomic_load(&pp->errors), 3);
		assert_int_equal(pp->status, -EPROTO);
		assert_true(ldms_metric_get_u64(m, 0) == 99);
	}
	/* the owner's next meta change repairs the mirror */
	ldms_metric_set_u64(s, 0, 100);
	sample(s, 1001);
	assert_true(wait_for(&pp->n, NPUSH + 10));
	assert_true(ldms_metric_get_u64(m, 0) == 100);
	assert_true(ldms_metric_get_u64(m, 1) == 1001);

	/* cancel: one last call, then nothing */
	assert_int_equal(ldms_xprt_cancel_push(m), 0);
	assert_true(wait_for(&pp->last, 1));
	assert_true(pp->flags & LDMS_UPD_F_PUSH_LAST);
	assert_int_equal(ldms_xprt_cancel_push(m), -ENOENT);
	wait_peers(s, 0);
	sample(s, 2000);
	assert_int_equal(round_trip(m), 0); /* a push would have come before the reply */
	assert_int_equal(atomic_load(&pp->n), NPUSH + 10);

	ldms_set_put(m);
	ldms_xprt_close(x);
	ldms_set_delete(s);
}

static void test_push_on_request(void **state)
{
	ldms_set_t s = make_set("push/req", 1), m1 = NULL, m2 = NULL;
	ldms_t x1 = mirror_of("push/req", &m1), x2 = mirror_of("push/req", &m2);
	struct pcb *pp1 = pcb_new(1), *pp2 = pcb_new(2);

	assert_int_equal(ldms_xprt_register_push(m1, 0, push_cb, pp1), 0);
	assert_int_equal(ldms_xprt_register_push(m2, LDMS_XPRT_PUSH_F_CHANGE, push_cb, pp2), 0);
	wait_peers(s, 2);
	sample(s, 5);
	assert_true(wait_for(&pp2->n, 1));
	assert_int_equal(round_trip(m1), 0);	   /* behind any push on x1 */
	assert_int_equal(atomic_load(&pp1->n), 0); /* not on change */
	assert_int_equal(ldms_xprt_push(s), 2);	   /* on request: everybody */
	assert_true(wait_for(&pp1->n, 1));
	assert_true(wait_for(&pp2->n, 2));
	assert_true(pp1->values[0] == 5);
	assert_true(ldms_metric_get_u64(m1, 0) == 7);

	/* registering again replaces the first registration (one per set and peer) */
	assert_int_equal(ldms_xprt_register_push(m1, LDMS_XPRT_PUSH_F_CHANGE, push_cb, pp1), 0);
	assert_true(wait_for(&pp1->last, 1)); /* the replaced one ends */
	wait_peers(s, 2);
	wait_peers_with(s, LDMS_PUSH_F_CHANGE, 2); /* the owner has the replacement */
	sample(s, 6);
	assert_true(wait_for(&pp1->n, 2));
	assert_true(wait_for(&pp2->n, 3));

	/* the connection ends: its registration and peer go away, the other stays */
	ldms_xprt_close(x1);
	wait_peers(s, 1);
	assert_true(wait_for(&pp1->last, 2)); /* LAST with -ENOTCONN */
	sample(s, 7);
	assert_true(wait_for(&pp2->n, 4));
	assert_int_equal(ldms_xprt_cancel_push(m1), -ENOENT);
	assert_int_equal(ldms_xprt_register_push(m1, 0, push_cb, pp1), -ENOTCONN);
	ldms_set_put(m1);

	/* set deleted: its peers get a last push and are dropped */
	ldms_set_delete(s);
	assert_true(wait_for(&pp2->last, 1));
	assert_int_equal(atomic_load(&pp2->errors), 0);
	assert_int_equal(ldms_xprt_cancel_push(m2), -ENOENT);
	ldms_xprt_close(x2);
	ldms_set_put(m2);
}

/* A PUSH_REPLY that does not parse ends the connection. */
static void test_malformed_reply(void **state)
{
	ldms_set_t s = make_set("push/bad", 1), m = NULL;
	ldms_t x = mirror_of("push/bad", &m);
	static struct inject in;
	struct pcb *pp = pcb_new(3);
	struct ldms_push_reply r = {.set_id = 1, .data_len = 0};

	memset(&in, 0, sizeof(in));
	in.x = x;
	assert_int_equal(ldms_xprt_register_push(m, LDMS_XPRT_PUSH_F_CHANGE, push_cb, pp), 0);
	wait_peers(s, 1);
	in.len = (size_t)ldms_push_reply_hdr_encode(in.msg, sizeof(in.msg), &r) + 3;
	wire_put_be32(in.msg + 12, (uint32_t)in.len); /* 3 bytes more than data_len says */
	assert_int_equal(xprt_post(x->io, inject_run, &in), 0);
	assert_true(wait_for(&in.done, 1));
	assert_false(ldms_xprt_connected(x));
	assert_int_equal(atomic_load(&pp->last), 1);
	wait_peers(s, 0); /* the owner noticed the close */
	ldms_set_put(m);
	ldms_xprt_close(x);
	ldms_set_delete(s);
}

/* A connection with answers queued to a peer that does not read: ldms_fini must
 * still close it (the I/O threads are gone afterwards), or it stays referenced. */
static ldms_set_t stuck_set;

static void test_fini_pending_output(void **state)
{
	struct ldms_schema *bs = ldms_schema_new("big");
	uint8_t msg[128], buf[4096];
	struct ldms_rdv_lookup r;
	struct zap_frame f;
	size_t len;
	int c0 = atomic_load(&srv_connected), fd = raw_rail_session(), n;
	ldms_t sx;

	ldms_schema_metric_array_add(bs, "a", LDMS_V_U64_ARRAY, 128 * 1024, NULL);
	stuck_set = ldms_set_new("push/big", bs);
	ldms_schema_delete(bs);
	assert_int_equal(ldms_set_publish(stuck_set), 0);
	n = ldms_enc_lookup(msg, sizeof(msg), 42, LDMS_LOOKUP_BY_INSTANCE, "push/big");
	send_ldms(fd, msg, n);
	len = read_frame(fd, buf, sizeof(buf));
	assert_int_equal(zap_frame_decode(buf, len, &f), 0);
	assert_int_equal(ldms_rdv_lookup_decode(f.data, f.data_len, &r), 0);
	ldms_rdv_lookup_release(&r);
	for (int i = 0; i < 16; i++) { /* 16 MiB of answers nobody reads */
		zap_encode_read_req(buf, sizeof(buf), (uint32_t)i + 1, 0, f.map_key, f.addr,
				    f.read_len);
		assert_int_equal(send(fd, buf, ZAP_READ_REQ_LEN, 0), ZAP_READ_REQ_LEN);
	}
	/* stuck for sure: the server stopped reading us, its output is full */
	assert_true(wait_for(&srv_connected, c0 + 1));
	sx = srv_last_get();
	assert_non_null(sx);
	assert_true(wait_rd_paused(sx));
	ldms_xprt_put(sx);
	pthread_mutex_lock(&srv_lock); /* no reference of ours is left for ldms_fini */
	ldms_xprt_put(srv_last);
	srv_last = NULL;
	pthread_mutex_unlock(&srv_lock);
	/* the last test: shut the engine down with that connection still stuck */
	ldms_listener_close(L);
	L = NULL;
	ldms_fini();
	assert_int_equal(xprt_test_live_count(), 0);
	close(fd);
	ldms_set_delete(stuck_set);
}

static int setup(void **state)
{
	return xt_setup(NULL, LDMS_LERROR, NULL);
}

static int teardown(void **state)
{
	xt_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codec_rdv),	    cmocka_unit_test(test_codec_reply),
	    cmocka_unit_test(test_codec_cancel),    cmocka_unit_test(test_owner_wire),
	    cmocka_unit_test(test_mirror_push),	    cmocka_unit_test(test_push_on_request),
	    cmocka_unit_test(test_malformed_reply), cmocka_unit_test(test_fini_pending_output),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
