/* The serving half of an endpoint: DIR (multi-part replies, update
 * registration), LOOKUP by instance/schema/regex with access control, the
 * per-connection map of shared sets that READ_REQ is checked against, and the
 * set-registry observer that pushes DIR_UPDATE and SET_DELETE to peers; and the
 * listeners' per-peer connection limit. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "xprt_int.h"

/* A set shared with one peer: the key and base address the peer reads with. */
struct smap {
	uint32_t key;
	ldms_set_t set; /* reference held */
	uint64_t base;
};

static size_t dir_chunk_max; /* 0 = protocol maximum */

void xprt_test_dir_chunk_set(size_t max)
{
	dir_chunk_max = max;
}

static size_t dir_chunk_limit(void)
{
	size_t max = LDMS_MSG_MAX - LDMS_DIR_REPLY_HDR;

	return dir_chunk_max && dir_chunk_max < max ? dir_chunk_max : max;
}

/* Arbitrary, non-overlapping per-key address ranges (§6.5: no real pointers). */
static uint64_t smap_base(uint32_t key)
{
	return 0x00007f0000000000ULL + ((uint64_t)key << 32);
}

static int peer_can_read(uid_t uid, gid_t gid, ldms_set_t s)
{
	return ldms_access_check(uid, gid, ldms_set_uid_get(s), ldms_set_gid_get(s),
				 ldms_set_perm_get(s), 4) == 0;
}

static void peer_cred(struct ldms_xprt *x, uid_t *uid, gid_t *gid)
{
	pthread_mutex_lock(&x->lock);
	*uid = x->peer_uid;
	*gid = x->peer_gid;
	pthread_mutex_unlock(&x->lock);
}

/* x->maps holds the live mappings sorted by key. Keys only grow (from 2, like
 * upstream's small integers) and are never reused, so a read that was in flight
 * when a set went away can never reach another set; a deleted set's slot goes
 * away, so a long connection watching sets come and go does not accumulate. */
#define SMAP_KEY_MAX 0x7fffffffu

/* Caller holds x->lock. */
static struct smap *smap_by_set(struct ldms_xprt *x, ldms_set_t s)
{
	uint32_t i;

	for (i = 0; i < x->nmaps; i++)
		if (x->maps[i]->set == s)
			return x->maps[i];
	return NULL;
}

/* Caller holds x->lock. Index of key in x->maps, or -1. */
static int64_t smap_index(struct ldms_xprt *x, uint32_t key)
{
	uint32_t lo = 0, hi = x->nmaps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->maps[mid]->key == key)
			return mid;
		if (x->maps[mid]->key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static struct smap *smap_get_or_add(struct ldms_xprt *x, ldms_set_t s)
{
	struct smap *sm, **na;

	pthread_mutex_lock(&x->lock);
	sm = smap_by_set(x, s);
	if (sm)
		goto out;
	if (x->next_key < 2)
		x->next_key = 2;
	if (x->next_key > SMAP_KEY_MAX)
		goto out;
	sm = calloc(1, sizeof(*sm));
	na = sm ? realloc(x->maps, (x->nmaps + 1) * sizeof(*na)) : NULL;
	if (!na) {
		free(sm);
		sm = NULL;
		goto out;
	}
	x->maps = na;
	sm->key = x->next_key++;
	sm->set = ldms_set_get(s);
	sm->base = smap_base(sm->key);
	x->maps[x->nmaps++] = sm;
out:
	pthread_mutex_unlock(&x->lock);
	return sm;
}

ldms_set_t xprt_server_set_by_key(struct ldms_xprt *x, uint64_t key)
{
	ldms_set_t s = NULL;

	pthread_mutex_lock(&x->lock);
	if (key >= 2 && key - 2 < x->nmaps && x->maps[key - 2])
		s = ldms_set_get(x->maps[key - 2]->set);
	pthread_mutex_unlock(&x->lock);
	return s;
}

void xprt_server_cleanup(struct ldms_xprt *x)
{
	struct smap **maps;
	uint32_t i, n;

	pthread_mutex_lock(&x->lock);
	maps = x->maps;
	n = x->nmaps;
	x->maps = NULL;
	x->nmaps = 0;
	x->dir_notify = 0;
	pthread_mutex_unlock(&x->lock);
	for (i = 0; i < n; i++) {
		if (!maps[i])
			continue;
		ldms_set_put(maps[i]->set);
		free(maps[i]);
	}
	free(maps);
}

static void send_simple_reply(struct ldms_xprt *x, uint32_t cmd, uint64_t xid, uint32_t rc)
{
	uint8_t buf[LDMS_REPLY_HDR_LEN];

	ldms_enc_simple_reply(buf, sizeof(buf), cmd, xid, rc);
	xprt_send_ldms(x, buf, sizeof(buf));
}

/* ---- collecting the sets a peer may see -------------------------------------------- */

struct collect {
	ldms_set_t *arr;
	size_t n, cap;
	uid_t uid;
	gid_t gid;
	int mode; /* -1 all, LDMS_LOOKUP_BY_SCHEMA, LDMS_LOOKUP_RE */
	const char *name;
	regex_t *re;
	int err;
};

static int collect_cb(ldms_set_t s, void *arg)
{
	struct collect *c = arg;
	ldms_set_t *na;

	if (c->mode == LDMS_LOOKUP_BY_SCHEMA && strcmp(ldms_set_schema_name_get(s), c->name) != 0)
		return 0;
	if (c->mode == LDMS_LOOKUP_RE && regexec(c->re, ldms_set_instance_name_get(s), 0, NULL, 0))
		return 0;
	if (!peer_can_read(c->uid, c->gid, s))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		na = realloc(c->arr, ncap * sizeof(*na));
		if (!na) {
			c->err = -ENOMEM;
			return 1;
		}
		c->arr = na;
		c->cap = ncap;
	}
	c->arr[c->n++] = ldms_set_get(s);
	return 0;
}

static void collect_release(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		ldms_set_put(c->arr[i]);
	free(c->arr);
}

/* One set's JSON object into *buf (grown as needed). Returns its length or -errno. */
static int dir_entry(ldms_set_t s, char **buf, size_t *cap, size_t max)
{
	int n;

	for (;;) {
		n = ldms_dir_json_entry(s, *buf, *cap);
		if (n >= 0 && (size_t)n < *cap)
			return n;
		if ((n < 0 && n != -ENOSPC) || *cap >= max)
			return n < 0 ? n : -ENOSPC;
		char *nb = realloc(*buf, *cap * 2 > max ? max : *cap * 2);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = *cap * 2 > max ? max : *cap * 2;
	}
}

/* ---- DIR ---------------------------------------------------------------------------- */

static const char dir_prefix[] = "{ \"directory\" : [";

static void dir_flush(struct ldms_xprt *x, uint64_t xid, uint8_t *msg, size_t jlen, int more)
{
	memcpy(msg + LDMS_DIR_REPLY_HDR + jlen, "]}", 2);
	jlen += 2;
	ldms_enc_dir_reply_hdr(msg, LDMS_DIR_REPLY_HDR, LDMS_CMD_DIR_REPLY, xid, 0, LDMS_DIR_LIST,
			       (uint32_t)more, (uint32_t)jlen);
	xprt_send_ldms(x, msg, LDMS_DIR_REPLY_HDR + jlen);
}

static void server_dir(struct ldms_xprt *x, const struct ldms_msg *m)
{
	struct collect c = {.mode = -1};
	size_t max = dir_chunk_limit(), jlen, ecap = 4096, i, count = 0;
	uint8_t *msg = NULL;
	char *ebuf = NULL, *json;
	int n;

	if (m->u.dir.flags & LDMS_DIR_F_NOTIFY) {
		/* before collecting: a set published meanwhile is announced, not lost */
		pthread_mutex_lock(&x->lock);
		x->dir_notify = 1;
		x->dir_xid = m->xid;
		pthread_mutex_unlock(&x->lock);
	}
	peer_cred(x, &c.uid, &c.gid);
	ldms_set_registry_foreach(collect_cb, &c);
	msg = malloc(LDMS_DIR_REPLY_HDR + max + 2);
	ebuf = malloc(ecap);
	if (c.err || !msg || !ebuf) {
		uint8_t hdr[LDMS_DIR_REPLY_HDR];
		ldms_enc_dir_reply_hdr(hdr, sizeof(hdr), LDMS_CMD_DIR_REPLY, m->xid, ENOMEM,
				       LDMS_DIR_LIST, 0, 0);
		xprt_send_ldms(x, hdr, sizeof(hdr));
		goto out;
	}
	json = (char *)msg + LDMS_DIR_REPLY_HDR;
	memcpy(json, dir_prefix, sizeof(dir_prefix) - 1);
	jlen = sizeof(dir_prefix) - 1;
	for (i = 0; i < c.n; i++) {
		n = dir_entry(c.arr[i], &ebuf, &ecap, max);
		if (n < 0 || jlen + 1 + (size_t)n + 2 > max) {
			if (count && n >= 0 && sizeof(dir_prefix) + (size_t)n + 2 <= max) {
				dir_flush(x, m->xid, msg, jlen, 1);
				jlen = sizeof(dir_prefix) - 1;
				count = 0;
			} else {
				ldms_log(LDMS_LWARN, XPRT_LOG, "dir: set '%s' left out: %s",
					 ldms_set_instance_name_get(c.arr[i]),
					 n < 0 ? strerror(-n) : "entry too large");
				continue;
			}
		}
		json[jlen++] = count ? ',' : ' ';
		memcpy(json + jlen, ebuf, (size_t)n);
		jlen += (size_t)n;
		count++;
	}
	dir_flush(x, m->xid, msg, jlen, 0);
out:
	free(ebuf);
	free(msg);
	collect_release(&c);
}

/* ---- LOOKUP ------------------------------------------------------------------------- */

struct info_arr {
	const char **k, **v;
	size_t n, cap;
};

static int info_cb(const char *key, const char *value, void *arg)
{
	struct info_arr *ia = arg;

	if (strlen(key) + 1 > 255 || strlen(value) + 1 > 255)
		return 0; /* not representable in an ldms_name */
	if (ia->n == ia->cap) {
		size_t ncap = ia->cap ? ia->cap * 2 : 8;
		const char **nk = realloc(ia->k, ncap * sizeof(*nk));
		if (!nk)
			return 1;
		ia->k = nk;
		const char **nv = realloc(ia->v, ncap * sizeof(*nv));
		if (!nv)
			return 1;
		ia->v = nv;
		ia->cap = ncap;
	}
	ia->k[ia->n] = strdup(key);
	ia->v[ia->n] = strdup(value);
	if (!ia->k[ia->n] || !ia->v[ia->n]) {
		free((char *)ia->k[ia->n]);
		free((char *)ia->v[ia->n]);
		return 1;
	}
	ia->n++;
	return 0;
}

static void info_release(struct info_arr *ia)
{
	size_t i;

	for (i = 0; i < ia->n; i++) {
		free((char *)ia->k[i]);
		free((char *)ia->v[i]);
	}
	free(ia->k);
	free(ia->v);
}

static int names_fit(ldms_set_t s)
{
	return strlen(ldms_set_instance_name_get(s)) + 1 <= 255 &&
	       strlen(ldms_set_schema_name_get(s)) + 34 <= 255;
}

/* One RENDEZVOUS frame for set s. */
static int send_rendezvous(struct ldms_xprt *x, uint64_t xid, ldms_set_t s, int more,
			   uint64_t recv_us)
{
	struct ldms_rdv_lookup r = {0};
	struct info_arr ia = {0};
	struct timespec now;
	struct smap *sm;
	uint8_t zh[ZAP_RENDEZVOUS_HDR], *msg;
	size_t len;
	int n;

	sm = smap_get_or_add(x, s);
	if (!sm)
		return -ENOMEM;
	ldms_set_info_foreach(s, info_cb, &ia);
	clock_gettime(CLOCK_REALTIME, &now);
	r.xid = xid;
	r.set_id = sm->key;
	r.more = more ? 1 : 0;
	r.meta_len = ldms_set_meta_sz_get(s);
	r.data_len = ldms_set_data_sz_get(s);
	r.card = ldms_set_card_get(s);
	r.array_card = ldms_set_array_card_get(s);
	r.schema = ldms_set_schema_name_get(s);
	r.instance = ldms_set_instance_name_get(s);
	r.info_count = ia.n;
	r.keys = ia.k;
	r.values = ia.v;
	r.has_prflng = 1;
	r.req_recv_sec = (int64_t)(recv_us / 1000000u);
	r.req_recv_nsec = (int64_t)(recv_us % 1000000u) * 1000;
	r.share_sec = now.tv_sec;
	r.share_nsec = now.tv_nsec;
	len = ldms_rdv_lookup_size(&r);
	msg = malloc(len);
	n = msg ? ldms_rdv_lookup_encode(msg, len, &r) : -ENOMEM;
	if (n > 0 && zap_encode_rendezvous_hdr(zh, sizeof(zh), xprt_next_zap_xid(), sm->key,
					       ZAP_ACC_READ | ZAP_ACC_WRITE, sm->base,
					       (uint32_t)ldms_set_mem_size(s), (uint32_t)n) > 0) {
		xprt_write(x, zh, sizeof(zh));
		xprt_write(x, msg, (size_t)n);
		n = 0;
	} else if (n >= 0) {
		n = -EMSGSIZE;
	}
	free(msg);
	info_release(&ia);
	return n;
}

static void server_lookup(struct ldms_xprt *x, const struct ldms_msg *m, uint64_t recv_us)
{
	struct collect c = {0};
	uint32_t mode = m->u.lookup.flags & 3;
	regex_t re;
	int rc = 0, have_re = 0;
	size_t i, sent = 0;

	peer_cred(x, &c.uid, &c.gid);
	c.name = m->u.lookup.path;
	if (mode == LDMS_LOOKUP_BY_INSTANCE) {
		/* exact lookups are access-checked too (upstream forgets) */
		ldms_set_t s = ldms_set_by_name(c.name);
		if (s && peer_can_read(c.uid, c.gid, s) && names_fit(s)) {
			c.arr = malloc(sizeof(*c.arr));
			if (c.arr)
				c.arr[c.n++] = s;
			else
				ldms_set_put(s);
		} else if (s) {
			ldms_set_put(s);
		}
	} else if (mode == LDMS_LOOKUP_BY_SCHEMA || mode == LDMS_LOOKUP_RE) {
		if (mode == LDMS_LOOKUP_RE) {
			struct ldms_err err;

			ldms_err_clear(&err);
			if (ldms_regex_check(c.name, &err)) {
				ldms_log(LDMS_LWARN, XPRT_LOG, "%s: LOOKUP: %s", x->peer_str,
					 err.msg);
				rc = EINVAL;
				goto reply;
			}
			if (regcomp(&re, c.name, REG_EXTENDED | REG_NOSUB)) {
				rc = EINVAL;
				goto reply;
			}
			have_re = 1;
			c.re = &re;
		}
		c.mode = (int)mode;
		ldms_set_registry_foreach(collect_cb, &c);
		/* names that cannot be encoded are skipped up front so `more` stays right */
		for (i = 0; i < c.n; i++) {
			if (!names_fit(c.arr[i])) {
				ldms_set_put(c.arr[i]);
				c.arr[i--] = c.arr[--c.n];
			}
		}
	} else {
		rc = EINVAL;
		goto reply;
	}
	for (i = 0; i < c.n; i++)
		if (send_rendezvous(x, m->xid, c.arr[i], i + 1 < c.n, recv_us) == 0)
			sent++;
	if (!sent)
		rc = c.n ? EIO : ENOENT;
reply:
	if (rc)
		send_simple_reply(x, LDMS_CMD_LOOKUP_REPLY, m->xid, (uint32_t)rc);
	if (have_re)
		regfree(&re);
	collect_release(&c);
}

/* ---- READ_REQ ---------------------------------------------------------------------- */

void xprt_server_read_req(struct ldms_xprt *x, const struct zap_frame *f)
{
	uint8_t hdr[ZAP_READ_RESP_HDR];
	uint16_t status = ZAP_ERR_OK;
	ldms_set_t s = NULL;
	struct smap *sm = NULL;
	uint64_t off = 0;
	int64_t idx;
	size_t size;

	pthread_mutex_lock(&x->lock);
	idx = smap_index(x, f->map_key);
	if (idx >= 0)
		sm = x->maps[idx];
	if (!sm) {
		status = ZAP_ERR_REMOTE_MAP;
	} else {
		size = ldms_set_mem_size(sm->set);
		off = f->addr - sm->base;
		if (f->addr < sm->base || off > size || f->read_len > size - off)
			status = ZAP_ERR_REMOTE_LEN;
		else
			s = ldms_set_get(sm->set);
	}
	pthread_mutex_unlock(&x->lock);
	if (status) {
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: refused READ_REQ key %u addr %#llx len %u",
			 x->peer_str, f->map_key, (unsigned long long)f->addr, f->read_len);
		zap_encode_read_resp_hdr(hdr, sizeof(hdr), f->hdr.xid, f->hdr.ctxt, status, 0);
		xprt_write(x, hdr, sizeof(hdr));
		return;
	}
	zap_encode_read_resp_hdr(hdr, sizeof(hdr), f->hdr.xid, f->hdr.ctxt, 0, f->read_len);
	xprt_write(x, hdr, sizeof(hdr));
	ldms_set_lock(s);
	xprt_write(x, (uint8_t *)ldms_set_mem(s) + off, f->read_len);
	ldms_set_unlock(s);
	ldms_set_put(s);
	xprt_stat_add(XSTAT_READS, 1);
}

/* ---- request dispatch ------------------------------------------------------------- */

void xprt_server_recv(struct ldms_xprt *x, const struct ldms_msg *m, uint64_t recv_us)
{
	uint64_t t0 = m->cmd == LDMS_CMD_DIR ? ldms_monotonic_us() : 0;

	switch (m->cmd) {
	case LDMS_CMD_DIR:
		server_dir(x, m);
		xprt_op_record(LDMS_XPRT_OP_DIR_REP, ldms_monotonic_us() - t0, x);
		break;
	case LDMS_CMD_DIR_CANCEL:
		pthread_mutex_lock(&x->lock);
		x->dir_notify = 0;
		pthread_mutex_unlock(&x->lock);
		send_simple_reply(x, LDMS_CMD_DIR_CANCEL_REPLY, m->xid, 0);
		break;
	case LDMS_CMD_LOOKUP:
		server_lookup(x, m, recv_us);
		break;
	case LDMS_CMD_REQ_NOTIFY: /* set notifications are not implemented */
		send_simple_reply(x, LDMS_CMD_REQ_NOTIFY_REPLY, m->xid, ENOSYS);
		break;
	default: /* SET_DELETE_REPLY, CANCEL_NOTIFY, CANCEL_PUSH: nothing to do */
		break;
	}
}

/* ---- registry observer (any thread) ---------------------------------------------------- */

struct obs_upd {
	ldms_set_t s;
	uint32_t type;
	char *json;
	size_t json_len;
};

static void obs_upd_one(struct ldms_xprt *x, void *arg)
{
	struct obs_upd *u = arg;
	uint8_t *msg, *frame;
	size_t flen, mlen;
	uint64_t xid;
	uid_t uid;
	gid_t gid;
	int notify;

	pthread_mutex_lock(&x->lock);
	notify = x->dir_notify && x->state == XS_CONNECTED;
	xid = x->dir_xid;
	uid = x->peer_uid;
	gid = x->peer_gid;
	pthread_mutex_unlock(&x->lock);
	if (!notify || !peer_can_read(uid, gid, u->s))
		return;
	mlen = LDMS_DIR_REPLY_HDR + u->json_len;
	msg = malloc(mlen);
	if (!msg)
		return;
	ldms_enc_dir_reply(msg, mlen, LDMS_CMD_DIR_UPDATE_REPLY, xid, 0, u->type, 0, u->json,
			   (uint32_t)u->json_len);
	frame = xprt_frame_sendrecv(msg, mlen, &flen);
	free(msg);
	if (frame)
		xprt_post_frame(x, frame, flen);
}

struct del_task {
	struct ldms_xprt *x;
	struct smap *sm;
};

static void del_task_run(void *arg)
{
	struct del_task *t = arg;
	struct ldms_xprt *x = t->x;
	const char *name = ldms_set_instance_name_get(t->sm->set);
	size_t len = LDMS_REQ_HDR_LEN + 4 + strlen(name) + 1;
	uint8_t *msg = malloc(len);
	int n;

	if (msg && x->state == XS_CONNECTED && xprt_push_check(x) == 0) {
		n = ldms_enc_set_delete(msg, len, ++x->del_seq, name);
		if (n > 0)
			xprt_send_ldms(x, msg, (size_t)n);
	}
	free(msg);
	ldms_set_put(t->sm->set);
	free(t->sm);
	ldms_xprt_put(x);
	free(t);
}

static void obs_del_one(struct ldms_xprt *x, void *arg)
{
	ldms_set_t s = arg;
	struct del_task *t;
	struct smap *sm;

	pthread_mutex_lock(&x->lock);
	sm = smap_by_set(x, s);
	if (sm) { /* later reads of this key fail */
		int64_t i = smap_index(x, sm->key);
		memmove(&x->maps[i], &x->maps[i + 1],
			(x->nmaps - (uint32_t)i - 1) * sizeof(*x->maps));
		x->nmaps--;
	}
	pthread_mutex_unlock(&x->lock);
	if (!sm)
		return;
	t = malloc(sizeof(*t));
	if (t) {
		t->x = ldms_xprt_get(x);
		t->sm = sm;
		if (xprt_post(x->io, del_task_run, t) == 0)
			return;
		ldms_xprt_put(x);
		free(t);
	}
	ldms_set_put(sm->set);
	free(sm);
}

void xprt_server_observer(ldms_set_t s, enum ldms_set_event ev, void *arg)
{
	static const char pre[] = "{ \"directory\" : [  ", post[] = " ]}";
	struct obs_upd u = {.s = s};
	size_t ecap = 4096, max = dir_chunk_limit();
	char *ebuf;
	int n;

	if (ev == LDMS_SET_EV_DEL) {
		/* upstream >= 4.3.4 sends no DIR_UPDATE DEL, only SET_DELETE to lookers */
		xprt_list_foreach(obs_del_one, s);
		return;
	}
	u.type = ev == LDMS_SET_EV_ADD ? LDMS_DIR_ADD : LDMS_DIR_UPD;
	ebuf = malloc(ecap);
	if (!ebuf)
		return;
	n = dir_entry(s, &ebuf, &ecap, max - sizeof(pre) - sizeof(post));
	if (n >= 0) {
		u.json_len = sizeof(pre) - 1 + (size_t)n + sizeof(post); /* NUL counted */
		u.json = malloc(u.json_len);
		if (u.json) {
			memcpy(u.json, pre, sizeof(pre) - 1);
			memcpy(u.json + sizeof(pre) - 1, ebuf, (size_t)n);
			memcpy(u.json + sizeof(pre) - 1 + n, post, sizeof(post));
			xprt_list_foreach(obs_upd_one, &u);
			free(u.json);
		}
	}
	free(ebuf);
}

/* ---- per-peer connection limit ---------------------------------------------------------
 * A peer opening thousands of connections would use up the daemon's descriptors
 * and memory before any handshake deadline fires; each listener counts its open
 * connections per peer address and closes new ones above the limit right after
 * accept(), before any buffer is allocated for them. */
#define PEER_BUCKETS 256

struct xprt_peer_cnt {
	struct xprt_peer_cnt *next;
	struct xprt_peer_key key;
	int n;
};

static _Atomic int peer_max_default = LDMS_LISTEN_PEER_MAX_DEFAULT;

void ldms_listen_peer_max_default_set(int max)
{
	atomic_store(&peer_max_default, max > 0 ? max : 0);
}

int ldms_listen_peer_max_default(void)
{
	return atomic_load(&peer_max_default);
}

int ldms_listener_peer_max_set(struct ldms_listener *l, int max)
{
	if (!l || max < 0)
		return -EINVAL;
	atomic_store(&l->peer_max, max);
	return 0;
}

void xprt_peer_key_of(const struct sockaddr *sa, int salen, struct xprt_peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && (size_t)salen >= sizeof(struct sockaddr_in)) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && (size_t)salen >= sizeof(struct sockaddr_in6)) {
		k->family = AF_INET6;
		memcpy(k->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static unsigned peer_bucket(const struct xprt_peer_key *k)
{
	uint32_t h = 2166136261u ^ k->family;
	for (int i = 0; i < 16; i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h % PEER_BUCKETS;
}

static const char *peer_key_str(const struct xprt_peer_key *k, char *buf, size_t len)
{
	if (!inet_ntop(k->family, k->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int xprt_peer_acquire(struct ldms_listener *l, const struct xprt_peer_key *k)
{
	int max = atomic_load(&l->peer_max), rc = 0, n = 0;
	if (!k->family)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (!l->peers)
		l->peers = calloc(PEER_BUCKETS, sizeof(*l->peers));
	struct xprt_peer_cnt **head = l->peers ? &l->peers[peer_bucket(k)] : NULL, *p = NULL;
	for (p = head ? *head : NULL; p && memcmp(&p->key, k, sizeof(*k)); p = p->next)
		;
	if (p && max > 0 && p->n >= max) {
		rc = -EMFILE;
		n = p->n;
	} else if (p) {
		p->n++;
	} else if (head && (p = calloc(1, sizeof(*p)))) {
		p->key = *k;
		p->n = 1;
		p->next = *head;
		*head = p;
	}
	/* without memory for the count the connection is served uncounted */
	uint64_t quiet = 0;
	int warn = 0;
	if (rc) {
		time_t now = time(NULL);
		if (now != l->refuse_warn) {
			warn = 1;
			quiet = l->refuse_quiet;
			l->refuse_warn = now;
			l->refuse_quiet = 0;
		} else {
			l->refuse_quiet++;
		}
	}
	pthread_mutex_unlock(&l->lock);
	if (rc) {
		char a[INET6_ADDRSTRLEN];
		xprt_stat_add(XSTAT_REJECTED, 1);
		char more[96] = "";
		if (quiet)
			snprintf(more, sizeof(more),
				 " (%" PRIu64 " more refused in the last second)", quiet);
		if (warn)
			ldms_log(
			    LDMS_LWARN, XPRT_LOG,
			    "listener on port %d: refusing a connection from %s: %d connections "
			    "from that address are open (limit %d per peer address)%s",
			    l->port, peer_key_str(k, a, sizeof(a)), n, max, more);
	}
	return rc;
}

void xprt_peer_unacquire(struct ldms_listener *l, const struct xprt_peer_key *k)
{
	if (!k->family)
		return;
	pthread_mutex_lock(&l->lock);
	struct xprt_peer_cnt **pp = l->peers ? &l->peers[peer_bucket(k)] : NULL;
	for (; pp && *pp; pp = &(*pp)->next) {
		if (memcmp(&(*pp)->key, k, sizeof(*k)))
			continue;
		struct xprt_peer_cnt *p = *pp;
		if (--p->n <= 0) {
			*pp = p->next;
			free(p);
		}
		break;
	}
	pthread_mutex_unlock(&l->lock);
}

void xprt_peer_release(struct ldms_xprt *x)
{
	if (x->l && atomic_exchange(&x->peer_counted, 0))
		xprt_peer_unacquire(x->l, &x->peer_key);
}

void xprt_peers_free(struct ldms_listener *l)
{
	if (!l->peers)
		return;
	for (int i = 0; i < PEER_BUCKETS; i++) {
		while (l->peers[i]) {
			struct xprt_peer_cnt *p = l->peers[i];
			l->peers[i] = p->next;
			free(p);
		}
	}
	free(l->peers);
	l->peers = NULL;
}
