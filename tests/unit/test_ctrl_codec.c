/* Golden and behaviour tests of the ldmsd_request record codec: requests encoded by
 * ldms-c must equal upstream's ldmsd_controller records of captures 06a-06j byte for
 * byte, every captured reply must decode (and re-encode identically), and the
 * split/reassembly path must reject malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ldms/ldms_ctrl.h"

/* ---- frames.txt reader: zap frames as hex dumps, see golden/wire/README.md ---- */
struct gframe {
	int c2s;
	uint8_t data[4096];
	size_t len;
};

static int load_frames(const char *scen, struct gframe *fr, int max)
{
	char path[1024], line[512];
	const char *g = getenv("LDMSC_GOLDEN");
	snprintf(path, sizeof(path), "%s/wire/%s/frames.txt", g ? g : "../shared/golden", scen);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	int n = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "frame ", 6) == 0) {
			if (++n >= max)
				break;
			fr[n].c2s = strstr(line, "client->server") != NULL;
			fr[n].len = 0;
			continue;
		}
		if (n < 0 || strncmp(line, "    ", 4) != 0 || strlen(line) < 12 || line[8] != ' ' ||
		    line[9] != ' ')
			continue;
		unsigned off;
		if (sscanf(line + 4, "%4x", &off) != 1 || off != fr[n].len)
			continue;
		for (const char *p = line + 10; p[0] && p[0] != ' ' && p[1] && p[1] != ' ';
		     p += 3) {
			unsigned b;
			if (sscanf(p, "%2x", &b) != 1)
				break;
			fr[n].data[fr[n].len++] = (uint8_t)b;
			if (p[2] != ' ')
				break;
		}
	}
	fclose(f);
	return n + 1;
}

/* the ldmsd_request record inside a SENDRECV/SEND_MSG zap frame */
static const uint8_t *frame_rec(const struct gframe *fr, size_t *len)
{
	assert_true(fr->len >= 44);
	assert_int_equal(fr->data[1], 2); /* SENDRECV */
	uint32_t msg_len =
	    (uint32_t)fr->data[40] << 24 | fr->data[41] << 16 | fr->data[42] << 8 | fr->data[43];
	assert_int_equal(44 + msg_len, fr->len);
	*len = msg_len;
	return fr->data + 44;
}

static void assert_encodes_to(struct ldms_ctrl_msg *m, const uint8_t *exp, size_t exp_len)
{
	uint8_t *buf;
	size_t len;
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, 65536, &buf, &len), 0);
	assert_int_equal(len, exp_len);
	assert_memory_equal(buf, exp, len);
	free(buf);
}

struct scen {
	const char *dir;
	uint32_t req;
	const char *attrs[8][2]; /* {name, value}; value NULL = keyword */
	uint32_t rsp_err;
	const char *text;
	int json; /* reply attribute is JSON (no NUL) */
};

static const struct scen scens[] = {
    {"06a-ctl-version",
     LDMSD_VERSION_REQ,
     {{0}},
     0,
     "{ \"LDMSD Version\":\"4.5.1.210-279bd\",  \"LDMS Protocol Version\": \"4.2.0.0\",  "
     "\"LDMSD Plugin Interface Version\": \"3.2.2.0\",  \"git-SHA\": "
     "\"279bd1b8b7acbf0b472d69b9eebfb3eed918e725\"}",
     0},
    {"06b-ctl-daemon_status", LDMSD_DAEMON_STATUS_REQ, {{0}}, 0, "{\"state\":\"ready\"}", 1},
    {"06c-ctl-prdcr_add",
     LDMSD_PRDCR_ADD_REQ,
     {{"name", "p1"},
      {"xprt", "sock"},
      {"host", "127.0.0.1"},
      {"port", "30999"},
      {"reconnect", "2s"},
      {"type", "active"}},
     0,
     NULL,
     0},
    {"06d-ctl-prdcr_start", LDMSD_PRDCR_START_REQ, {{"name", "p1"}}, 0, NULL, 0},
    {"06e-ctl-prdcr_status",
     LDMSD_PRDCR_STATUS_REQ,
     {{"summary", NULL}},
     0,
     "[{ \"name\":\"p1\",\"type\":\"active\",\"host\":\"127.0.0.1\",\"port\":30999,"
     "\"transport\":\"sock\",\"auth\":\"DEFAULT\",\"rail\":\"1\",\"quota\":\"-1\","
     "\"rx_rate\":\"-1\",\"reconnect_us\":\"2000000\",\"state\":\"DISCONNECTED\","
     "\"sets\": []}]",
     1},
    {"06f-ctl-updtr_add",
     LDMSD_UPDTR_ADD_REQ,
     {{"name", "u1"}, {"interval", "1s"}, {"offset", "100ms"}},
     0,
     NULL,
     0},
    {"06g-ctl-updtr_status",
     LDMSD_UPDTR_STATUS_REQ,
     {{0}},
     0,
     "[{\"name\":\"u1\",\"interval\":\"1000000\",\"offset\":\"100000\",\"sync\":\"true\","
     "\"mode\":\"Pull\",\"auto\":\"false\",\"state\":\"STOPPED\",\"producers\":[]}]",
     1},
    {"06h-ctl-load",
     LDMSD_PLUGN_LOAD_REQ,
     {{"name", "meminfo"}, {"plugin", "meminfo"}},
     0,
     NULL,
     0},
    {"06i-ctl-plugn_status",
     LDMSD_PLUGN_STATUS_REQ,
     {{0}},
     0,
     "[{\"name\":\"meminfo\",\"plugin\":\"meminfo\",\"type\":\"sampler[M]\","
     "\"libpath\":\"prefix/lib/ovis-ldms/libmeminfo.so\"}]",
     1},
    {"06j-ctl-error",
     LDMSD_PRDCR_START_REQ,
     {{"name", "nosuch"}},
     2,
     "The producer specified does not exist.",
     0},
};

static const char *cfg_cntr_vals[] = {"0", "0", "0", "1", "2", "2", "3", "3", "4", "4"};

static void test_golden(void **state)
{
	struct gframe *fr = calloc(8, sizeof(*fr));
	for (size_t s = 0; s < sizeof(scens) / sizeof(scens[0]); s++) {
		const struct scen *sc = &scens[s];
		size_t rlen;
		const uint8_t *rec;
		struct ldms_ctrl_msg *m, *d;
		assert_int_equal(load_frames(sc->dir, fr, 8), 7);

		/* frame 4: CFG_CNTR request, msg_no 1, no attributes */
		m = ldms_ctrl_req_new(LDMSD_CFG_CNTR_REQ);
		ldms_ctrl_msg_set_msg_no(m, 1);
		rec = frame_rec(&fr[3], &rlen);
		assert_encodes_to(m, rec, rlen);
		ldms_ctrl_msg_free(m);

		/* frame 5: its reply, STRING with the decimal counter */
		rec = frame_rec(&fr[4], &rlen);
		assert_int_equal(ldms_ctrl_msg_decode(rec, rlen, LDMS_CTRL_V4_5, &d), 0);
		assert_int_equal(ldms_ctrl_msg_type(d), LDMS_CTRL_TYPE_RSP);
		assert_int_equal(ldms_ctrl_msg_no(d), 1);
		assert_int_equal(ldms_ctrl_msg_rsp_err(d), 0);
		assert_string_equal(ldms_ctrl_msg_text(d), cfg_cntr_vals[s]);
		ldms_ctrl_msg_free(d);
		m = ldms_ctrl_rsp_new(1, 0);
		ldms_ctrl_req_attr_add(m, LDMSD_ATTR_STRING, cfg_cntr_vals[s]);
		assert_encodes_to(m, rec, rlen);
		ldms_ctrl_msg_free(m);

		/* frame 6: the command, msg_no 2, attribute order as upstream's client */
		m = ldms_ctrl_req_new(sc->req);
		ldms_ctrl_msg_set_msg_no(m, 2);
		for (int a = 0; a < 8 && sc->attrs[a][0]; a++) {
			int id = ldms_ctrl_attr_id(sc->attrs[a][0]);
			assert_true(id > 0);
			assert_int_equal(ldms_ctrl_req_attr_add(m, (uint32_t)id, sc->attrs[a][1]),
					 0);
		}
		rec = frame_rec(&fr[5], &rlen);
		assert_encodes_to(m, rec, rlen);
		ldms_ctrl_msg_free(m);
		/* and the server side decodes it back */
		assert_int_equal(ldms_ctrl_msg_decode(rec, rlen, LDMS_CTRL_V4_5, &d), 0);
		assert_int_equal(ldms_ctrl_msg_req_id(d), sc->req);
		assert_int_equal(ldms_ctrl_msg_no(d), 2);
		for (int a = 0; a < 8 && sc->attrs[a][0]; a++) {
			const struct ldms_ctrl_attr *at = ldms_ctrl_msg_attr_at(d, (size_t)a);
			assert_non_null(at);
			assert_int_equal(at->id, ldms_ctrl_attr_id(sc->attrs[a][0]));
			assert_string_equal(at->value, sc->attrs[a][1] ? sc->attrs[a][1] : "");
		}
		ldms_ctrl_msg_free(d);

		/* frame 7: the reply */
		rec = frame_rec(&fr[6], &rlen);
		assert_int_equal(ldms_ctrl_msg_decode(rec, rlen, LDMS_CTRL_V4_5, &d), 0);
		assert_int_equal(ldms_ctrl_msg_no(d), 2);
		assert_int_equal(ldms_ctrl_msg_rsp_err(d), sc->rsp_err);
		if (sc->text) {
			assert_string_equal(ldms_ctrl_msg_text(d), sc->text);
			const struct ldms_ctrl_attr *at = ldms_ctrl_msg_attr_at(d, 0);
			assert_int_equal(at->id, sc->json ? LDMSD_ATTR_JSON : LDMSD_ATTR_STRING);
			assert_int_equal(at->len, strlen(sc->text) + (sc->json ? 0 : 1));
		} else {
			assert_null(ldms_ctrl_msg_text(d));
			assert_int_equal(ldms_ctrl_msg_attr_count(d), 0);
		}
		ldms_ctrl_msg_free(d);
		/* server helpers reproduce upstream's reply bytes */
		struct ldms_ctrl_msg *r = ldms_ctrl_rsp_new(2, sc->rsp_err);
		if (sc->text && sc->json)
			ldms_ctrl_attr_add_bin(r, LDMSD_ATTR_JSON, sc->text, strlen(sc->text));
		else if (sc->text)
			ldms_ctrl_req_attr_add(r, LDMSD_ATTR_STRING, sc->text);
		assert_encodes_to(r, rec, rlen);
		ldms_ctrl_msg_free(r);
	}
	free(fr);
}

/* ---- split / reassembly ---- */
struct recs {
	uint8_t *rec[4096];
	size_t len[4096];
	size_t n;
};

static int collect(void *arg, const void *rec, size_t len)
{
	struct recs *r = arg;
	assert_true(r->n < 4096);
	r->rec[r->n] = malloc(len);
	memcpy(r->rec[r->n], rec, len);
	r->len[r->n++] = len;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	r->n = 0;
}

static void test_split_reassemble(void **state)
{
	char big[3000];
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = 0;
	for (size_t max_rec = LDMS_CTRL_REC_MIN; max_rec < 200; max_rec += 7) {
		struct recs a = {0}, b = {0};
		struct ldms_ctrl_msg *m1 = ldms_ctrl_req_new(LDMSD_PLUGN_CONFIG_REQ);
		struct ldms_ctrl_msg *m2 = ldms_ctrl_req_new(LDMSD_PRDCR_STATUS_REQ);
		ldms_ctrl_msg_set_msg_no(m1, 7);
		ldms_ctrl_msg_set_msg_no(m2, 8);
		ldms_ctrl_req_attr_add(m1, LDMSD_ATTR_NAME, "meminfo");
		ldms_ctrl_req_attr_add(m1, LDMSD_ATTR_STRING, big);
		ldms_ctrl_req_attr_add(m1, LDMSD_ATTR_TEST, NULL);
		ldms_ctrl_req_attr_add(m2, LDMSD_ATTR_SUMMARY, NULL);
		assert_int_equal(ldms_ctrl_msg_send(m1, LDMS_CTRL_V4_5, max_rec, collect, &a), 0);
		assert_int_equal(ldms_ctrl_msg_send(m2, LDMS_CTRL_V4_5, max_rec, collect, &b), 0);
		assert_true(a.n > 1);
		for (size_t i = 0; i < a.n; i++) {
			struct ldms_ctrl_rec_hdr h;
			assert_true(a.len[i] <= max_rec);
			assert_int_equal(ldms_ctrl_rec_hdr_decode(a.rec[i], a.len[i], &h), 0);
			assert_int_equal(h.flags, (i == 0 ? LDMS_CTRL_F_SOM : 0) |
						      (i == a.n - 1 ? LDMS_CTRL_F_EOM : 0));
		}
		/* interleave the two messages' records */
		struct ldms_ctrl_reasm *r = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 0);
		struct ldms_ctrl_msg *o1 = NULL, *o2 = NULL, *o;
		size_t ib = 0;
		for (size_t i = 0; i < a.n; i++) {
			assert_int_equal(ldms_ctrl_reasm_feed(r, a.rec[i], a.len[i], &o, NULL), 0);
			if (o)
				o1 = o;
			if (ib < b.n) {
				assert_int_equal(
				    ldms_ctrl_reasm_feed(r, b.rec[ib], b.len[ib], &o, NULL), 0);
				ib++;
				if (o)
					o2 = o;
			}
		}
		for (; ib < b.n; ib++) {
			assert_int_equal(ldms_ctrl_reasm_feed(r, b.rec[ib], b.len[ib], &o, NULL),
					 0);
			if (o)
				o2 = o;
		}
		assert_non_null(o1);
		assert_non_null(o2);
		assert_int_equal(ldms_ctrl_msg_no(o1), 7);
		assert_int_equal(ldms_ctrl_msg_req_id(o1), LDMSD_PLUGN_CONFIG_REQ);
		assert_int_equal(ldms_ctrl_msg_attr_count(o1), 3);
		assert_string_equal(ldms_ctrl_msg_attr_str(o1, LDMSD_ATTR_NAME), "meminfo");
		assert_string_equal(ldms_ctrl_msg_attr_str(o1, LDMSD_ATTR_STRING), big);
		assert_string_equal(ldms_ctrl_msg_attr_str(o1, LDMSD_ATTR_TEST), "");
		assert_null(ldms_ctrl_msg_attr_str(o1, LDMSD_ATTR_REGEX));
		assert_int_equal(ldms_ctrl_msg_no(o2), 8);
		assert_non_null(ldms_ctrl_msg_attr_find(o2, LDMSD_ATTR_SUMMARY));
		ldms_ctrl_msg_free(o1);
		ldms_ctrl_msg_free(o2);
		ldms_ctrl_reasm_free(r);
		ldms_ctrl_msg_free(m1);
		ldms_ctrl_msg_free(m2);
		recs_free(&a);
		recs_free(&b);
	}
}

static void test_errors(void **state)
{
	struct ldms_ctrl_reasm *r = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 50);
	struct ldms_ctrl_msg *o;
	struct ldms_ctrl_rec_hdr h;
	uint8_t rec[256];

	/* prdcr_start name=p1 from 06d as a template */
	static const uint8_t good[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0,	  1,   0,  0, 0, 3, 0, 0, 0,
				       2,    0,	   0,	 1,    2, 0, 0,	  0,   43, 0, 0, 0, 1, 0, 0,
				       0,    1,	   0,	 0,    0, 3, 'p', '1', 0,  0, 0, 0, 0};
	assert_int_equal(ldms_ctrl_reasm_feed(r, good, sizeof(good), &o, &h), 0);
	assert_non_null(o);
	assert_string_equal(ldms_ctrl_msg_attr_str(o, LDMSD_ATTR_NAME), "p1");
	ldms_ctrl_msg_free(o);

	/* short, bad marker, bad type, bad rec_len */
	assert_int_equal(ldms_ctrl_reasm_feed(r, good, 23, &o, &h), -EINVAL);
	memcpy(rec, good, sizeof(good));
	rec[0] = 0;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	assert_int_not_equal(h.marker, LDMS_CTRL_MARKER);
	memcpy(rec, good, sizeof(good));
	rec[7] = 3;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	assert_int_equal(h.marker, LDMS_CTRL_MARKER);
	assert_int_equal(h.msg_no, 2);
	memcpy(rec, good, sizeof(good));
	rec[23] = 44;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	/* value without NUL in a command */
	memcpy(rec, good, sizeof(good));
	rec[38] = 'x';
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	/* ... accepted in a response */
	rec[7] = 2;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), 0);
	assert_string_equal(ldms_ctrl_msg_attr_str(o, LDMSD_ATTR_NAME), "p1x");
	ldms_ctrl_msg_free(o);
	/* attr_len past the end */
	memcpy(rec, good, sizeof(good));
	rec[35] = 8;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	rec[32] = 0x80;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	/* missing terminator */
	memcpy(rec, good, sizeof(good));
	rec[23] = 39;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, 39, &o, &h), -EINVAL);
	/* trailing bytes after the terminator */
	memcpy(rec, good, sizeof(good));
	rec[43] = 0;
	rec[23] = 44;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, 44, &o, &h), -EINVAL);
	/* bad discrim */
	memcpy(rec, good, sizeof(good));
	rec[27] = 2;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EINVAL);
	/* continuation without SOM; duplicate SOM */
	memcpy(rec, good, sizeof(good));
	rec[11] = 2;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -ENOENT);
	rec[11] = 1;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), 0);
	assert_null(o);
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -EADDRINUSE);
	/* over max_msg (50): 19 payload bytes per record */
	rec[11] = 0;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), 0);
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), -E2BIG);
	/* the slot is free again */
	rec[11] = 3;
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, sizeof(good), &o, &h), 0);
	ldms_ctrl_msg_free(o);
	ldms_ctrl_reasm_free(r);

	/* encoder refuses tiny records and unknown ids */
	struct ldms_ctrl_msg *m = ldms_ctrl_req_new(LDMSD_VERSION_REQ);
	uint8_t *buf;
	size_t len;
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, LDMS_CTRL_REC_MIN - 1, &buf, &len),
			 -EINVAL);
	ldms_ctrl_req_attr_add(m, LDMSD_ATTR_LAST + 5, "x");
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, 1024, &buf, &len), -ENOTSUP);
	ldms_ctrl_msg_free(m);
	m = ldms_ctrl_req_new(0x5ff);
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_5, 1024, &buf, &len), -ENOTSUP);
	ldms_ctrl_msg_free(m);
}

static void test_v44(void **state)
{
	/* prdcr_status summary to a 4.4 peer: SUMMARY is attr 38 there */
	struct ldms_ctrl_msg *m = ldms_ctrl_req_new(LDMSD_PRDCR_STATUS_REQ), *d;
	uint8_t *buf;
	size_t len;
	ldms_ctrl_req_attr_add(m, LDMSD_ATTR_SUMMARY, NULL);
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_4, 1024, &buf, &len), 0);
	assert_int_equal(len, 40);
	assert_int_equal(buf[31], 38);
	assert_int_equal(ldms_ctrl_msg_decode(buf, len, LDMS_CTRL_V4_4, &d), 0);
	assert_non_null(ldms_ctrl_msg_attr_find(d, LDMSD_ATTR_SUMMARY));
	ldms_ctrl_msg_free(d);
	free(buf);
	ldms_ctrl_req_attr_add(m, LDMSD_ATTR_QUOTA, "1");
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_4, 1024, &buf, &len), -ENOTSUP);
	ldms_ctrl_msg_free(m);
	/* advertiser_add is 0x10c on the 4.4 wire */
	m = ldms_ctrl_req_new(LDMSD_ADVERTISER_ADD_REQ);
	assert_int_equal(ldms_ctrl_req_encode(m, LDMS_CTRL_V4_4, 1024, &buf, &len), 0);
	assert_int_equal(buf[18], 1);
	assert_int_equal(buf[19], 0x0c);
	assert_int_equal(ldms_ctrl_msg_decode(buf, len, LDMS_CTRL_V4_4, &d), 0);
	assert_int_equal(ldms_ctrl_msg_req_id(d), LDMSD_ADVERTISER_ADD_REQ);
	ldms_ctrl_msg_free(d);
	/* decoded by a 4.5 server it is bridge_add */
	assert_int_equal(ldms_ctrl_msg_decode(buf, len, LDMS_CTRL_V4_5, &d), 0);
	assert_int_equal(ldms_ctrl_msg_req_id(d), LDMSD_BRIDGE_ADD_REQ);
	ldms_ctrl_msg_free(d);
	free(buf);
	ldms_ctrl_msg_free(m);
}

/* SOM records without EOM under many msg_nos: every partial message counts
 * against one budget, so a peer cannot hold 256 x max_msg bytes. */
static void test_pending_budget(void **state)
{
	const size_t budget = 4096, body = 1000;
	struct ldms_ctrl_reasm *r = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, budget);
	struct ldms_ctrl_msg *o;
	struct ldms_ctrl_rec_hdr h;
	uint8_t rec[LDMS_CTRL_REC_HDR_LEN + 1000];
	uint32_t msg_no, held = 0;
	int rc;

	memset(rec, 0x41, sizeof(rec));
	for (msg_no = 1; msg_no <= 100; msg_no++) {
		struct ldms_ctrl_rec_hdr rh = {.marker = LDMS_CTRL_MARKER,
					       .type = LDMS_CTRL_TYPE_CMD,
					       .flags = LDMS_CTRL_F_SOM,
					       .msg_no = msg_no,
					       .id = LDMSD_VERSION_REQ,
					       .rec_len = (uint32_t)sizeof(rec)};
		ldms_ctrl_rec_hdr_encode(rec, &rh);
		rc = ldms_ctrl_reasm_feed(r, rec, sizeof(rec), &o, &h);
		if (rc == 0)
			held++;
		else
			assert_int_equal(rc, -E2BIG);
	}
	assert_int_equal(held, budget / body);
	/* a complete message still fits once a partial one is answered (dropped) */
	struct ldms_ctrl_rec_hdr eh = {.marker = LDMS_CTRL_MARKER,
				       .type = LDMS_CTRL_TYPE_CMD,
				       .flags = LDMS_CTRL_F_EOM,
				       .msg_no = 1,
				       .id = LDMSD_VERSION_REQ,
				       .rec_len = LDMS_CTRL_REC_HDR_LEN + 4};
	ldms_ctrl_rec_hdr_encode(rec, &eh);
	memset(rec + LDMS_CTRL_REC_HDR_LEN, 0, 4);
	/* msg 1 holds 1000 bytes of 'A': not an attribute list */
	assert_int_equal(ldms_ctrl_reasm_feed(r, rec, eh.rec_len, &o, &h), -EINVAL);
	ldms_ctrl_reasm_free(r);

	/* default budgets: requests stop at 8 MiB, replies go on to 64 MiB */
	static uint8_t big[LDMS_CTRL_REC_HDR_LEN + (1u << 20)];
	for (uint32_t type = LDMS_CTRL_TYPE_CMD; type <= LDMS_CTRL_TYPE_RSP; type++) {
		r = ldms_ctrl_reasm_new(LDMS_CTRL_V4_5, 0);
		held = 0;
		for (msg_no = 1; msg_no <= 80; msg_no++) {
			struct ldms_ctrl_rec_hdr bh = {.marker = LDMS_CTRL_MARKER,
						       .type = type,
						       .flags = LDMS_CTRL_F_SOM,
						       .msg_no = msg_no,
						       .id = 0,
						       .rec_len = (uint32_t)sizeof(big)};
			ldms_ctrl_rec_hdr_encode(big, &bh);
			if (ldms_ctrl_reasm_feed(r, big, sizeof(big), &o, &h) == 0)
				held++;
		}
		assert_int_equal(held, type == LDMS_CTRL_TYPE_CMD ? 8 : 64);
		ldms_ctrl_reasm_free(r);
	}
}

static int sink(void *arg, const void *rec, size_t len)
{
	return collect(arg, rec, len);
}

static void test_rsp_helpers(void **state)
{
	struct recs a = {0};
	struct ldms_ctrl_msg *d;
	assert_int_equal(ldms_ctrl_send_rsp_str(9, 22, "bad", 1024, sink, &a), 0);
	assert_int_equal(ldms_ctrl_send_rsp_json(10, 0, "[1,2]", 5, 1024, sink, &a), 0);
	assert_int_equal(ldms_ctrl_send_rsp_str(11, 0, NULL, 1024, sink, &a), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(ldms_ctrl_msg_decode(a.rec[0], a.len[0], LDMS_CTRL_V4_5, &d), 0);
	assert_int_equal(ldms_ctrl_msg_rsp_err(d), 22);
	assert_string_equal(ldms_ctrl_msg_text(d), "bad");
	ldms_ctrl_msg_free(d);
	assert_int_equal(ldms_ctrl_msg_decode(a.rec[1], a.len[1], LDMS_CTRL_V4_5, &d), 0);
	assert_string_equal(ldms_ctrl_msg_text(d), "[1,2]");
	assert_int_equal(ldms_ctrl_msg_attr_at(d, 0)->len, 5);
	ldms_ctrl_msg_free(d);
	assert_int_equal(a.len[2], 28);
	recs_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),	cmocka_unit_test(test_split_reassemble),
	    cmocka_unit_test(test_errors),	cmocka_unit_test(test_v44),
	    cmocka_unit_test(test_rsp_helpers), cmocka_unit_test(test_pending_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
