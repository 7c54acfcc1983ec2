/* The consuming half of an endpoint: DIR (multi-part assembly, update
 * notifications, the blocking dir_sync), LOOKUP into mirror sets, the update
 * state machine over READ_REQ/READ_RESP (§6.5) and SET_DELETE from the owner. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "xprt_int.h"

struct xread {
	struct xread *next;
	uint32_t xid;
	uint32_t len;
	uint64_t off;
	struct rset *rs;
};

struct xlookup {
	struct xlookup *next;
	uint64_t id;
	uint64_t t0_us; /* ldms_xprt_lookup() called (op_stats) */
	ldms_lookup_cb_t cb;
	void *arg;
};

struct xdir {
	struct xdir *next;
	uint64_t id;
	uint64_t t0_us; /* request sent (op_stats DIR_REQ) */
	ldms_dir_cb_t cb;
	void *arg;
	uint32_t flags;
	int list_done;
};

enum { RS_IDLE, RS_META, RS_DATA, RS_DATA_MORE };

/* A mirror set's link to the endpoint it came from. The endpoint holds one set
 * reference while attached; an update in flight holds its own set + endpoint
 * references and frees a detached rset when it completes. */
struct rset {
	struct rset *next;
	struct ldms_xprt *x;
	ldms_set_t set;
	uint32_t key;
	uint64_t addr;
	uint64_t set_id; /* the owner's lookup set id (push registration) */
	uint32_t map_len, meta_len, data_len, array_card;
	int attached;
	int updating;
	int meta_valid;
	int stage;
	int retries;
	/* ring update: next copy to read, the producer's current copy, and the
	 * generation of our current copy when the update started */
	uint32_t rd_next, rd_last;
	uint64_t rd_gn;
	ldms_update_cb_t cb;
	void *cb_arg;
	uint64_t upd_t0_us; /* ldms_xprt_update() called (op_stats) */
};

/* Guards the set -> rset link and rset->attached/updating across threads. */
static pthread_mutex_t rset_lock = PTHREAD_MUTEX_INITIALIZER;

ldms_t ldms_set_xprt_get(ldms_set_t s)
{
	struct rset *rs;
	ldms_t x = NULL;

	if (!s)
		return NULL;
	pthread_mutex_lock(&rset_lock);
	rs = ldms_set_xprt_ctx_get(s);
	if (rs && rs->attached)
		x = rs->x;
	pthread_mutex_unlock(&rset_lock);
	return x;
}

int xprt_client_mirror_info(ldms_set_t s, struct ldms_xprt **x, uint64_t *remote_id)
{
	struct rset *rs;
	int rc = -ENOTCONN;

	if (!ldms_set_is_remote(s))
		return -EINVAL;
	pthread_mutex_lock(&rset_lock);
	rs = ldms_set_xprt_ctx_get(s);
	if (rs && rs->attached) {
		*x = ldms_xprt_get(rs->x);
		*remote_id = rs->set_id;
		rc = 0;
	}
	pthread_mutex_unlock(&rset_lock);
	return rc;
}

static void rset_detach(struct ldms_xprt *x, struct rset *rs)
{
	struct rset **pp;
	ldms_set_t set = rs->set;
	int freeit;

	for (pp = &x->rsets; *pp; pp = &(*pp)->next) {
		if (*pp == rs) {
			*pp = rs->next;
			break;
		}
	}
	pthread_mutex_lock(&rset_lock);
	if (ldms_set_xprt_ctx_get(set) == rs)
		ldms_set_xprt_ctx_set(set, NULL);
	rs->attached = 0;
	freeit = !rs->updating;
	pthread_mutex_unlock(&rset_lock);
	if (freeit)
		free(rs);
	ldms_set_put(set);
}

/* ---- update ---------------------------------------------------------------------------- */

static void update_done(struct rset *rs, int rc)
{
	struct ldms_xprt *x = rs->x;
	ldms_set_t set = rs->set;
	ldms_update_cb_t cb;
	void *arg;
	int freeit;

	pthread_mutex_lock(&rset_lock);
	cb = rs->cb;
	arg = rs->cb_arg;
	rs->updating = 0;
	rs->stage = RS_IDLE;
	freeit = !rs->attached;
	uint64_t t0 = rs->upd_t0_us;
	pthread_mutex_unlock(&rset_lock);
	xprt_op_record(LDMS_XPRT_OP_UPDATE, ldms_monotonic_us() - t0, x);
	if (cb)
		cb(x, set, rc, arg);
	if (freeit)
		free(rs);
	ldms_set_put(set);
	ldms_xprt_put(x);
}

static int issue_read(struct rset *rs, uint64_t off, uint32_t len, int stage)
{
	struct ldms_xprt *x = rs->x;
	struct xread *rd;
	uint8_t buf[ZAP_READ_REQ_LEN];

	if (!rs->attached || x->state != XS_CONNECTED)
		return -ENOTCONN;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->xid = xprt_next_zap_xid();
	rd->len = len;
	rd->off = off;
	rd->rs = rs;
	if (x->rd_tail)
		x->rd_tail->next = rd;
	else
		x->rd_head = rd;
	x->rd_tail = rd;
	rs->stage = stage;
	zap_encode_read_req(buf, sizeof(buf), rd->xid, ++x->read_seq, rs->key, rs->addr + off, len);
	xprt_write(x, buf, sizeof(buf));
	return 0;
}

/* meta and every data copy in one read */
static int read_all(struct rset *rs)
{
	return issue_read(rs, 0, rs->map_len, RS_META);
}

/* data copies [from, to] of the ring in one read */
static int read_copies(struct rset *rs, uint32_t from, uint32_t to, int stage)
{
	return issue_read(rs, rs->meta_len + (uint64_t)from * rs->data_len,
			  (to - from + 1) * rs->data_len, stage);
}

/* §6.5: only the copies written since the last update, from the local
 * curr_idx + 1 up to the remote one (wrapping). The remote index is known once
 * a copy has been read (every copy carries it), so the first read is the one
 * copy after ours: in the steady state (one sample per update) that is all.
 * When the producer wrote more than a whole ring since (samples are lost
 * anyway), the copies after the newest may not be fetched. */
static void update_task(void *arg)
{
	struct rset *rs = arg;
	uint32_t local;
	int rc;

	xprt_io_cat(LDMS_IO_CAT_UPDATE_REQ);
	if (!rs->meta_valid) {
		rc = read_all(rs);
	} else {
		local = ldms_set_curr_idx_get(rs->set);
		rs->rd_gn = wire_get_le64((const uint8_t *)ldms_set_mem(rs->set) + rs->meta_len +
					  (uint64_t)local * rs->data_len + 24);
		rs->rd_next = (local + 1) % rs->array_card;
		rs->rd_last = rs->rd_next;
		rc = read_copies(rs, rs->rd_next, rs->rd_next, RS_DATA);
	}
	if (rc)
		update_done(rs, rc);
}

/* After a data read: 1 if another read was issued (or failed and finished the
 * update), 0 when every new copy is in. */
static int ring_continue(struct rset *rs)
{
	const uint8_t *mem = ldms_set_mem(rs->set);
	uint32_t n = rs->array_card, first = rs->rd_next, end, idx;
	const uint8_t *dh = mem + rs->meta_len + (uint64_t)first * rs->data_len;
	int rc;

	if (n <= 1)
		return 0;
	if (rs->stage == RS_DATA) {
		if (wire_get_le64(dh + 24) <= rs->rd_gn)
			return 0; /* nothing new: that copy is older than ours */
		idx = wire_get_le32(dh + 48);
		if (idx >= n)
			return 0;
		rs->rd_last = idx;
		rs->rd_next = (first + 1) % n;
	}
	if (rs->rd_next == (rs->rd_last + 1) % n)
		return 0;
	/* one contiguous read up to the remote copy or the end of the ring */
	end = rs->rd_next <= rs->rd_last ? rs->rd_last : n - 1;
	first = rs->rd_next;
	rs->rd_next = (end + 1) % n;
	rc = read_copies(rs, first, end, RS_DATA_MORE);
	if (rc)
		update_done(rs, rc);
	return 1;
}

int ldms_xprt_update(ldms_set_t s, ldms_update_cb_t cb, void *cb_arg)
{
	struct rset *rs;
	struct ldms_xprt *x;
	int rc;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&rset_lock);
	rs = ldms_set_xprt_ctx_get(s);
	if (!rs || !rs->attached) {
		pthread_mutex_unlock(&rset_lock);
		return ldms_set_is_remote(s) ? -ENOTCONN : -EINVAL;
	}
	if (rs->updating) {
		pthread_mutex_unlock(&rset_lock);
		return -EBUSY;
	}
	x = rs->x;
	if (!xprt_is_connected(x)) {
		pthread_mutex_unlock(&rset_lock);
		return -ENOTCONN;
	}
	rs->updating = 1;
	rs->upd_t0_us = ldms_monotonic_us();
	rs->cb = cb;
	rs->cb_arg = cb_arg;
	rs->retries = 0;
	ldms_xprt_get(x);
	ldms_set_get(s);
	pthread_mutex_unlock(&rset_lock);
	rc = xprt_post(x->io, update_task, rs);
	if (rc) {
		pthread_mutex_lock(&rset_lock);
		rs->updating = 0;
		pthread_mutex_unlock(&rset_lock);
		ldms_set_put(s);
		ldms_xprt_put(x);
	}
	return rc;
}

/* A read completed: decide whether the update is over (§6.5). */
static void read_done(struct rset *rs, int rc)
{
	const uint8_t *mem;
	uint64_t meta_gn, dmeta_gn;
	uint32_t idx;

	if (rc) {
		update_done(rs, rc);
		return;
	}
	if (rs->stage == RS_META) {
		rc = ldms_set_remote_validate(rs->set);
		rs->meta_valid = rc == 0;
		update_done(rs, rc ? -EPROTO : 0);
		return;
	}
	if (ring_continue(rs))
		return;
	mem = ldms_set_mem(rs->set);
	/* re-read meta when the current copy says it changed */
	meta_gn = wire_get_le64(mem + 64);
	idx = ldms_set_curr_idx_get(rs->set);
	dmeta_gn = wire_get_le64(mem + rs->meta_len + (uint64_t)idx * rs->data_len + 40);
	if ((meta_gn == 0 || dmeta_gn != meta_gn) && rs->retries < 2) {
		rs->retries++;
		rc = read_all(rs);
		if (rc)
			update_done(rs, rc);
		return;
	}
	update_done(rs, 0);
}

int xprt_client_read_resp_check(struct ldms_xprt *x, const struct zap_frame *h)
{
	struct xread *rd = x->rd_head;

	if (!rd || h->hdr.xid != rd->xid)
		return -EPROTO;
	if (h->status == 0 && h->data_len != rd->len)
		return -EPROTO;
	if (h->status != 0 && h->data_len > rd->len)
		return -EPROTO;
	return 0;
}

static int zap_status_errno(uint16_t st)
{
	switch (st) {
	case ZAP_ERR_REMOTE_MAP:
		return -ENOENT;
	case ZAP_ERR_REMOTE_LEN:
		return -ERANGE;
	case ZAP_ERR_REMOTE_PERMISSION:
		return -EACCES;
	default:
		return -EIO;
	}
}

int xprt_client_read_resp(struct ldms_xprt *x, const struct zap_frame *h, struct evbuffer *in)
{
	struct xread *rd = x->rd_head;
	struct rset *rs;
	int rc = 0;

	if (xprt_client_read_resp_check(x, h))
		return -EPROTO;
	x->rd_head = rd->next;
	if (!x->rd_head)
		x->rd_tail = NULL;
	rs = rd->rs;
	if (h->status) {
		evbuffer_drain(in, h->data_len);
		rc = zap_status_errno(h->status);
	} else if (rd->off + rd->len > ldms_set_mem_size(rs->set)) {
		evbuffer_drain(in, h->data_len);
		rc = -ERANGE;
	} else {
		ldms_set_lock(rs->set);
		evbuffer_remove(in, (uint8_t *)ldms_set_mem(rs->set) + rd->off, rd->len);
		ldms_set_unlock(rs->set);
	}
	free(rd);
	read_done(rs, rc);
	return 0;
}

/* ---- lookup ---------------------------------------------------------------------------- */

struct lookup_task {
	struct ldms_xprt *x;
	struct xlookup *lk;
	uint32_t flags;
	char name[];
};

static void lookup_task_run(void *arg)
{
	struct lookup_task *t = arg;
	struct ldms_xprt *x = t->x;
	uint8_t buf[LDMS_REQ_HDR_LEN + 8 + LDMS_LOOKUP_PATH_MAX];
	int n;

	xprt_io_cat(LDMS_IO_CAT_LOOKUP_REQ);
	if (x->state != XS_CONNECTED) {
		t->lk->cb(x, -ENOTCONN, 0, NULL, t->lk->arg);
		free(t->lk);
	} else {
		t->lk->id = x->next_id++;
		t->lk->next = x->lookups;
		x->lookups = t->lk;
		n = ldms_enc_lookup(buf, sizeof(buf), t->lk->id, t->flags, t->name);
		if (n > 0)
			xprt_send_ldms(x, buf, (size_t)n);
	}
	ldms_xprt_put(x);
	free(t);
}

int ldms_xprt_lookup(ldms_t x, const char *name, uint32_t flags, ldms_lookup_cb_t cb, void *cb_arg)
{
	struct lookup_task *t;
	size_t n;
	int rc;

	if (!x || !name || !cb)
		return -EINVAL;
	n = strlen(name) + 1;
	if (n > LDMS_LOOKUP_PATH_MAX)
		return -ENAMETOOLONG;
	if (!xprt_is_connected(x))
		return -ENOTCONN;
	t = malloc(sizeof(*t) + n);
	if (!t)
		return -ENOMEM;
	t->lk = calloc(1, sizeof(*t->lk));
	if (!t->lk) {
		free(t);
		return -ENOMEM;
	}
	t->lk->cb = cb;
	t->lk->arg = cb_arg;
	t->lk->t0_us = ldms_monotonic_us();
	t->flags = flags;
	memcpy(t->name, name, n);
	t->x = ldms_xprt_get(x);
	rc = xprt_post(x->io, lookup_task_run, t);
	if (rc) {
		ldms_xprt_put(x);
		free(t->lk);
		free(t);
	}
	return rc;
}

static struct xlookup *lookup_take(struct ldms_xprt *x, uint64_t id, int remove)
{
	struct xlookup **pp, *lk;

	for (pp = &x->lookups; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			lk = *pp;
			if (remove)
				*pp = lk->next;
			return lk;
		}
	}
	return NULL;
}

static struct rset *rset_by_name(struct ldms_xprt *x, const char *name)
{
	struct rset *rs;

	for (rs = x->rsets; rs; rs = rs->next)
		if (strcmp(ldms_set_instance_name_get(rs->set), name) == 0)
			return rs;
	return NULL;
}

/* The mirror for one rendezvous: reuse this endpoint's mirror of the same set
 * when the geometry is unchanged, else create a new one. */
static int mirror_get(struct ldms_xprt *x, const struct ldms_rdv_lookup *r,
		      const struct zap_frame *f, struct rset **out)
{
	uint64_t need = (uint64_t)r->meta_len + (uint64_t)r->array_card * r->data_len;
	struct rset *rs;
	ldms_set_t set;

	if (r->array_card < 1 || r->meta_len < LDMS_SET_HDR_SIZE ||
	    r->data_len < LDMS_DATA_HDR_SIZE || need != f->read_len || need > (1u << 30))
		return -EPROTO;
	rs = rset_by_name(x, r->instance);
	if (rs && (rs->meta_len != r->meta_len || rs->data_len != r->data_len ||
		   rs->array_card != r->array_card)) {
		rset_detach(x, rs);
		rs = NULL;
	}
	if (!rs) {
		set = ldms_set_new_remote(r->instance, r->schema, r->meta_len, r->data_len,
					  r->array_card);
		if (!set)
			return errno ? -errno : -ENOMEM;
		if (ldms_set_mem_size(set) < need) {
			ldms_set_put(set);
			return -EPROTO;
		}
		rs = calloc(1, sizeof(*rs));
		if (!rs) {
			ldms_set_put(set);
			return -ENOMEM;
		}
		rs->x = x;
		rs->set = set;
		rs->meta_len = r->meta_len;
		rs->data_len = r->data_len;
		rs->array_card = r->array_card;
		rs->map_len = (uint32_t)need;
		rs->attached = 1;
		pthread_mutex_lock(&rset_lock);
		ldms_set_xprt_ctx_set(set, rs);
		pthread_mutex_unlock(&rset_lock);
		rs->next = x->rsets;
		x->rsets = rs;
	}
	rs->key = f->map_key;
	rs->addr = f->addr;
	rs->set_id = r->set_id;
	*out = rs;
	return 0;
}

void xprt_client_rendezvous(struct ldms_xprt *x, const struct zap_frame *f)
{
	char name[256];
	struct ldms_rdv_lookup r;
	struct xlookup *lk;
	struct rset *rs = NULL;
	ldms_set_t set;
	int rc;

	if (f->data_len >= 12 && wire_get_be32(f->data + 8) == LDMS_RDV_PUSH) {
		xprt_io_cat(LDMS_IO_CAT_PUSH_REQ);
		xprt_push_rdv_recv(x, f); /* a peer registers for pushes of our set */
		return;
	}
	rc = ldms_rdv_lookup_decode(f->data, f->data_len, &r);
	if (rc) {
		xprt_close_now(x, EPROTO, "malformed lookup rendezvous from %s", x->peer_str);
		return;
	}
	lk = lookup_take(x, r.xid, !r.more);
	if (!lk) {
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: rendezvous for unknown lookup", x->peer_str);
		ldms_rdv_lookup_release(&r);
		return;
	}
	rc = mirror_get(x, &r, f, &rs);
	if (!r.more) /* before the callback: it may look at the figures */
		xprt_op_record(LDMS_XPRT_OP_LOOKUP, ldms_monotonic_us() - lk->t0_us, x);
	if (rc) {
		ldms_log(LDMS_LERROR, XPRT_LOG, "%s: lookup of '%s' failed: %s", x->peer_str,
			 xprt_printable(r.instance, name, sizeof(name)), strerror(-rc));
		lk->cb(x, rc, (int)r.more, NULL, lk->arg);
	} else {
		set = ldms_set_get(rs->set);
		ldms_set_info_remote_set(set, r.keys, r.values, r.info_count);
		lk->cb(x, 0, r.more ? 1 : 0, set, lk->arg);
		ldms_set_put(set);
	}
	if (!r.more)
		free(lk);
	ldms_rdv_lookup_release(&r);
}

/* ---- directory -------------------------------------------------------------------------- */

struct dir_task {
	struct ldms_xprt *x;
	ldms_dir_cb_t cb;
	void *arg;
	uint32_t flags;
	int cancel;
};

static void dir_task_run(void *arg)
{
	struct dir_task *t = arg;
	struct ldms_xprt *x = t->x;
	struct xdir *d, **pp;
	uint8_t buf[LDMS_REQ_HDR_LEN + 4];
	int n;

	xprt_io_cat(LDMS_IO_CAT_DIR_REQ);
	if (t->cancel) {
		for (pp = &x->dirs; *pp;) {
			d = *pp;
			if (d->list_done) {
				*pp = d->next;
				free(d);
			} else {
				d->flags &= ~(uint32_t)LDMS_DIR_F_NOTIFY;
				pp = &d->next;
			}
		}
		if (x->state == XS_CONNECTED) {
			n = ldms_enc_dir_cancel(buf, sizeof(buf), x->next_id++);
			xprt_send_ldms(x, buf, (size_t)n);
		}
	} else if (x->state != XS_CONNECTED) {
		t->cb(x, -ENOTCONN, NULL, t->arg);
	} else if ((d = calloc(1, sizeof(*d))) == NULL) {
		t->cb(x, -ENOMEM, NULL, t->arg);
	} else {
		d->id = x->next_id++;
		d->t0_us = ldms_monotonic_us();
		d->cb = t->cb;
		d->arg = t->arg;
		d->flags = t->flags & LDMS_DIR_F_NOTIFY;
		d->next = x->dirs;
		x->dirs = d;
		n = ldms_enc_dir(buf, sizeof(buf), d->id, d->flags);
		xprt_send_ldms(x, buf, (size_t)n);
	}
	ldms_xprt_put(x);
	free(t);
}

static int dir_post(ldms_t x, ldms_dir_cb_t cb, void *arg, uint32_t flags, int cancel)
{
	struct dir_task *t;
	int rc;

	if (!x || (!cb && !cancel))
		return -EINVAL;
	if (!xprt_is_connected(x))
		return -ENOTCONN;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->x = ldms_xprt_get(x);
	t->cb = cb;
	t->arg = arg;
	t->flags = flags;
	t->cancel = cancel;
	rc = xprt_post(x->io, dir_task_run, t);
	if (rc) {
		ldms_xprt_put(x);
		free(t);
	}
	return rc;
}

int ldms_xprt_dir(ldms_t x, ldms_dir_cb_t cb, void *cb_arg, uint32_t flags)
{
	return dir_post(x, cb, cb_arg, flags, 0);
}

int ldms_xprt_dir_cancel(ldms_t x)
{
	return dir_post(x, NULL, NULL, 0, 1);
}

void ldms_xprt_dir_free(ldms_t x, struct ldms_dir *dir)
{
	ldms_dir_free(dir);
}

static void dir_remove(struct ldms_xprt *x, struct xdir *d)
{
	struct xdir **pp;

	for (pp = &x->dirs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			free(d);
			return;
		}
	}
}

static void client_dir_reply(struct ldms_xprt *x, const struct ldms_msg *m)
{
	struct ldms_dir *dir = NULL;
	struct ldms_err err;
	struct xdir *d;
	int rc = 0, update = m->cmd == LDMS_CMD_DIR_UPDATE_REPLY;

	for (d = x->dirs; d && d->id != m->xid; d = d->next)
		;
	if (!d || (update && !(d->flags & LDMS_DIR_F_NOTIFY)))
		return;
	if (m->rc) {
		rc = -(int)m->rc;
	} else {
		ldms_err_clear(&err);
		rc = ldms_dir_json_parse(m->u.dir_reply.json, m->u.dir_reply.json_len, &dir, &err);
		if (rc) {
			ldms_log(LDMS_LERROR, XPRT_LOG, "%s: bad directory JSON: %s", x->peer_str,
				 err.msg);
			rc = -EPROTO;
			dir = NULL;
		}
	}
	if (dir) {
		dir->type = update ? (enum ldms_dir_type)m->u.dir_reply.type : LDMS_DIR_LIST;
		dir->more = update ? 0 : m->u.dir_reply.more != 0;
	}
	if (!update && (rc || !dir->more) && !d->list_done) {
		d->list_done = 1;
		xprt_op_record(LDMS_XPRT_OP_DIR_REQ, ldms_monotonic_us() - d->t0_us, x);
	}
	d->cb(x, rc, dir, d->arg);
	if (d->list_done && !(d->flags & LDMS_DIR_F_NOTIFY))
		dir_remove(x, d);
}

/* ---- blocking dir -------------------------------------------------------------------------- */

struct dsync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int refs;
	int done, abandoned, rc;
	struct ldms_dir *acc;
};

static void dsync_put(struct dsync *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1) {
		ldms_dir_free(s->acc);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
	}
}

/* A peer answering DIR with `more` forever must not grow the accumulated
 * directory without bound. */
#define DIR_SYNC_SETS_MAX (1u << 20)
static _Atomic size_t dir_sync_max = DIR_SYNC_SETS_MAX;

void xprt_test_dir_sync_max_set(size_t sets)
{
	atomic_store(&dir_sync_max, sets ? sets : DIR_SYNC_SETS_MAX);
}

static int dir_merge(struct ldms_dir *acc, struct ldms_dir *dir)
{
	struct ldms_dir_set *na;

	if (!dir->set_count)
		return 0;
	if (acc->set_count + dir->set_count > atomic_load(&dir_sync_max))
		return -E2BIG;
	na = realloc(acc->set_data, (acc->set_count + dir->set_count) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	memcpy(na + acc->set_count, dir->set_data, dir->set_count * sizeof(*na));
	acc->set_data = na;
	acc->set_count += dir->set_count;
	dir->set_count = 0;
	return 0;
}

static void dsync_cb(ldms_t x, int status, struct ldms_dir *dir, void *arg)
{
	struct dsync *s = arg;
	/* the reply stream ends (our reference goes) only with the peer's last
	 * part or the connection; a local error just stops the accumulation */
	int end = status || !dir || !dir->more, last = end;

	pthread_mutex_lock(&s->lock);
	if (!s->abandoned && !s->done) {
		if (status) {
			s->rc = status;
		} else if (!s->acc) {
			s->acc = dir;
			dir = NULL;
		} else if ((s->rc = dir_merge(s->acc, dir)) != 0) {
			last = 1;
		}
		if (last) {
			s->done = 1;
			if (s->acc)
				s->acc->more = 0;
			pthread_cond_broadcast(&s->cond);
		}
	}
	pthread_mutex_unlock(&s->lock);
	ldms_dir_free(dir);
	if (end)
		dsync_put(s);
}

int ldms_xprt_dir_sync(ldms_t x, struct ldms_dir **dir, int timeout_ms)
{
	struct dsync *s;
	struct timespec ts;
	int rc, wrc = 0;

	if (!x || !dir)
		return -EINVAL;
	*dir = NULL;
	if (xprt_on_io_thread(NULL)) /* would wait for the loop it blocks */
		return -EDEADLK;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	atomic_init(&s->refs, 2);
	rc = ldms_xprt_dir(x, dsync_cb, s, 0);
	if (rc) {
		dsync_put(s);
		dsync_put(s);
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (timeout_ms < 0)
		timeout_ms = 0;
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->done && wrc == 0)
		wrc = pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	if (!s->done) {
		s->abandoned = 1;
		rc = -ETIMEDOUT;
	} else {
		rc = s->rc;
		if (!rc) {
			*dir = s->acc;
			s->acc = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	dsync_put(s);
	return rc;
}

/* ---- dispatch and cleanup ------------------------------------------------------------------- */

static void client_set_delete(struct ldms_xprt *x, const struct ldms_msg *m)
{
	uint8_t buf[LDMS_REPLY_HDR_LEN + 16];
	struct timespec now;
	struct rset *rs;
	ldms_set_t set;

	clock_gettime(CLOCK_REALTIME, &now);
	ldms_enc_set_delete_reply(buf, sizeof(buf), m->xid, 0, now.tv_sec, now.tv_nsec);
	xprt_send_ldms(x, buf, sizeof(buf));
	rs = rset_by_name(x, m->u.set_delete.name);
	if (!rs)
		return;
	set = ldms_set_get(rs->set);
	xprt_deliver(x, LDMS_XPRT_EVENT_SET_DELETE, NULL, 0, set);
	/* the callback may have closed or detached already */
	rs = rset_by_name(x, m->u.set_delete.name);
	if (rs && rs->set == set)
		rset_detach(x, rs);
	ldms_set_put(set);
}

void xprt_client_recv(struct ldms_xprt *x, const struct ldms_msg *m)
{
	struct xlookup *lk;

	switch (m->cmd) {
	case LDMS_CMD_DIR_REPLY:
	case LDMS_CMD_DIR_UPDATE_REPLY:
		client_dir_reply(x, m);
		break;
	case LDMS_CMD_LOOKUP_REPLY:
		lk = lookup_take(x, m->xid, 1);
		if (lk) {
			xprt_op_record(LDMS_XPRT_OP_LOOKUP, ldms_monotonic_us() - lk->t0_us, x);
			lk->cb(x, m->rc ? -(int)m->rc : -ENOENT, 0, NULL, lk->arg);
			free(lk);
		}
		break;
	case LDMS_CMD_SET_DELETE: {
		uint64_t t0 = ldms_monotonic_us();
		client_set_delete(x, m);
		xprt_op_record(LDMS_XPRT_OP_SET_DELETE, ldms_monotonic_us() - t0, x);
		break;
	}
	default: /* DIR_CANCEL_REPLY, REQ_NOTIFY_REPLY */
		break;
	}
}

void xprt_client_cleanup(struct ldms_xprt *x, int err)
{
	struct xread *rd;
	struct xlookup *lk;
	struct xdir *d;

	while ((rd = x->rd_head) != NULL) {
		x->rd_head = rd->next;
		if (!x->rd_head)
			x->rd_tail = NULL;
		update_done(rd->rs, err);
		free(rd);
	}
	while ((lk = x->lookups) != NULL) {
		x->lookups = lk->next;
		lk->cb(x, err, 0, NULL, lk->arg);
		free(lk);
	}
	while ((d = x->dirs) != NULL) {
		x->dirs = d->next;
		if (!d->list_done)
			d->cb(x, err, NULL, d->arg);
		free(d);
	}
	while (x->rsets)
		rset_detach(x, x->rsets);
}
