/* Push (ldms-protocol.md §6.5 item 4, docs/push.md). Owner side: peers that
 * registered with a push RENDEZVOUS get PUSH_REPLY fragments of the set after each
 * transaction_end (CHANGE) or ldms_xprt_push(); CANCEL_PUSH ends a registration
 * with a last empty PUSH_REPLY. Client side: registrations of mirror sets, whose
 * incoming fragments are bounds-checked, applied and reported once complete. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ldms_proto_push.h"
#include "set_priv.h"
#include "xprt_int.h"

/* Output queued for a peer above which pushes to it are dropped (a later push
 * carries the whole current data again). */
#define PUSH_OUT_HIWAT (16u * 1024 * 1024)

/* One lock for both sides: registrations change rarely, pushes are short. Never
 * held while calling an application callback or taking an endpoint lock. */
static pthread_mutex_t push_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- owner side ------------------------------------------------------------------------ */

struct ppeer {
	atomic_int ref;
	struct ppeer *next;
	struct ldms_xprt *x; /* reference */
	uint64_t push_set_id;
	uint32_t flags;		  /* LDMS_PUSH_F_* */
	_Atomic uint64_t meta_gn; /* meta gn last sent; 0 = send meta next time */
};

/* The push state of one set (s->push_ctx). */
struct pset {
	struct pset *next, *prev; /* all sets with peers */
	ldms_set_t set;		  /* reference */
	struct ppeer *peers;
};

static struct pset *psets;
static int observer_added;
static atomic_uint_fast64_t push_drops;

static void ppeer_put(struct ppeer *p)
{
	if (p && atomic_fetch_sub(&p->ref, 1) == 1) {
		ldms_xprt_put(p->x);
		free(p);
	}
}

/* Caller holds push_lock; the set reference goes to *put_set (put it unlocked). */
static void pset_unlink(struct pset *ps, ldms_set_t *put_set)
{
	__atomic_store_n(&ps->set->push_ctx, NULL, __ATOMIC_RELEASE);
	if (ps->prev)
		ps->prev->next = ps->next;
	else
		psets = ps->next;
	if (ps->next)
		ps->next->prev = ps->prev;
	*put_set = ps->set;
	free(ps);
}

struct ptask {
	struct ppeer *peer; /* reference */
	uint8_t *buf;
	size_t len;
	int has_meta;
};

static void ptask_run(void *arg)
{
	struct ptask *t = arg;
	struct ldms_xprt *x = t->peer->x;

	if (x->state == XS_CONNECTED && x->bev) {
		if (evbuffer_get_length(bufferevent_get_output(x->bev)) > PUSH_OUT_HIWAT) {
			if (t->has_meta)
				atomic_store(&t->peer->meta_gn, 0);
			if (atomic_fetch_add(&push_drops, 1) == 0)
				ldms_log(LDMS_LWARN, XPRT_LOG,
					 "%s: the peer does not read its pushes; dropping pushes "
					 "until it does",
					 x->peer_str);
		} else {
			xprt_write(x, t->buf, t->len);
		}
	}
	ppeer_put(t->peer);
	free(t->buf);
	free(t);
}

struct seg {
	uint32_t off, len;
};

/* All frames of one push to one peer, concatenated: SENDRECV(PUSH_REPLY) per
 * fragment of at most LDMS_PUSH_REPLY_DATA_MAX bytes, MORE on all but the last. */
static uint8_t *push_frames(const uint8_t *mem, const struct seg *segs, int nseg, uint64_t set_id,
			    uint32_t flags, size_t *out_len)
{
	size_t total = 0, nfrag = 0, fi = 0;
	uint8_t *buf, *p;
	int i;

	for (i = 0; i < nseg; i++) {
		size_t n = segs[i].len ? (segs[i].len + LDMS_PUSH_REPLY_DATA_MAX - 1) /
					     LDMS_PUSH_REPLY_DATA_MAX
				       : 1;
		nfrag += n;
		total += n * (ZAP_SENDRECV_HDR + LDMS_PUSH_REPLY_HDR_LEN) + segs[i].len;
	}
	buf = malloc(total ? total : 1);
	if (!buf)
		return NULL;
	p = buf;
	for (i = 0; i < nseg; i++) {
		uint32_t off = segs[i].off, left = segs[i].len;
		do {
			uint32_t n =
			    left > LDMS_PUSH_REPLY_DATA_MAX ? LDMS_PUSH_REPLY_DATA_MAX : left;
			struct ldms_push_reply r = {
			    .set_id = set_id,
			    .flags = flags | (++fi < nfrag ? LDMS_PUSH_REPLY_F_MORE : 0),
			    .data_off = off,
			    .data_len = n,
			    .data = mem ? mem + off : NULL,
			};
			uint32_t mlen = LDMS_PUSH_REPLY_HDR_LEN + n;
			zap_hdr_encode(p, ZAP_MSG_SENDRECV, ZAP_SENDRECV_HDR + mlen,
				       xprt_next_zap_xid(), 0);
			wire_put_be32(p + 20, mlen);
			ldms_push_reply_encode(p + ZAP_SENDRECV_HDR, mlen, &r);
			p += ZAP_SENDRECV_HDR + mlen;
			off += n;
			left -= n;
		} while (left);
	}
	*out_len = (size_t)(p - buf);
	return buf;
}

/* Push s to its peers registered with any of `want` flags. Caller holds
 * push_lock; the set memory is stable (writer thread or set lock). */
static int push_out_locked(ldms_set_t s, uint32_t want)
{
	struct pset *ps = __atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE);
	uint64_t meta_gn;
	uint32_t curr;
	struct seg segs[2];
	struct ppeer *p;
	int n = 0;

	if (!ps)
		return 0;
	meta_gn = get_le64(s->mem + SH_META_GN);
	curr = set_curr_idx(s);
	if (curr >= s->array_card)
		curr = 0;
	for (p = ps->peers; p; p = p->next) {
		struct ptask *t;
		int nseg = 0, has_meta = 0;

		if (!(p->flags & want))
			continue;
		if (atomic_load(&p->meta_gn) != meta_gn) {
			segs[nseg++] = (struct seg){0, s->meta_sz};
			has_meta = 1;
		}
		segs[nseg++] =
		    (struct seg){(uint32_t)(s->meta_sz + (size_t)curr * s->data_sz), s->data_sz};
		t = calloc(1, sizeof(*t));
		if (!t)
			continue;
		t->buf = push_frames(s->mem, segs, nseg, p->push_set_id, LDMS_PUSH_REPLY_F_PUSH,
				     &t->len);
		if (!t->buf) {
			free(t);
			continue;
		}
		t->has_meta = has_meta;
		atomic_fetch_add(&p->ref, 1);
		t->peer = p;
		/* before posting: a dropped push resets it from the I/O thread */
		if (has_meta)
			atomic_store(&p->meta_gn, meta_gn);
		if (xprt_post(p->x->io, ptask_run, t)) {
			if (has_meta)
				atomic_store(&p->meta_gn, 0);
			ppeer_put(p);
			free(t->buf);
			free(t);
			continue;
		}
		n++;
	}
	return n;
}

/* ldms_transaction_end() of a set with peers (the writer's thread). */
static void push_trans_end(ldms_set_t s)
{
	pthread_mutex_lock(&push_lock);
	push_out_locked(s, LDMS_PUSH_F_CHANGE);
	pthread_mutex_unlock(&push_lock);
}

int ldms_xprt_push(ldms_set_t s)
{
	int n;

	if (!s)
		return -EINVAL;
	if (!__atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE))
		return 0;
	/* a mirror may be written by its own updates meanwhile; a local set is
	 * written by the caller (who may hold the lock already) */
	if (s->remote)
		ldms_set_lock(s);
	pthread_mutex_lock(&push_lock);
	n = push_out_locked(s, LDMS_PUSH_F_PUSH | LDMS_PUSH_F_CHANGE);
	pthread_mutex_unlock(&push_lock);
	if (s->remote)
		ldms_set_unlock(s);
	return n;
}

/* Ends a peer's registration with an empty PUSH_LAST (takes the reference):
 * the client learns that no more pushes come although it did not cancel. */
static void push_last(struct ppeer *p)
{
	struct seg seg = {0, 0};
	struct ptask *t = calloc(1, sizeof(*t));

	if (t)
		t->buf = push_frames(NULL, &seg, 1, p->push_set_id,
				     LDMS_PUSH_REPLY_F_PUSH | LDMS_PUSH_REPLY_F_LAST, &t->len);
	if (!t || !t->buf) {
		free(t);
		ppeer_put(p);
		return;
	}
	t->peer = p;
	if (xprt_post(p->x->io, ptask_run, t)) {
		ppeer_put(p);
		free(t->buf);
		free(t);
	}
}

/* A deleted set pushes to nobody: its peers get a last push and are dropped. */
static void push_observer(ldms_set_t s, enum ldms_set_event ev, void *arg)
{
	struct ppeer *peers = NULL, *p;
	ldms_set_t put_set = NULL;
	struct pset *ps;

	if (ev != LDMS_SET_EV_DEL)
		return;
	pthread_mutex_lock(&push_lock);
	ps = __atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE);
	if (ps) {
		peers = ps->peers;
		pset_unlink(ps, &put_set);
	}
	pthread_mutex_unlock(&push_lock);
	while ((p = peers) != NULL) {
		peers = p->next;
		push_last(p);
	}
	if (put_set)
		ldms_set_put(put_set);
}

void xprt_push_rdv_recv(struct ldms_xprt *x, const struct zap_frame *f)
{
	struct ldms_push_rdv r;
	struct pset *ps;
	struct ppeer *p;
	ldms_set_t s;
	uid_t uid;
	gid_t gid;
	int add_obs = 0;

	if (ldms_push_rdv_decode(f->data, f->data_len, &r)) {
		xprt_close_now(x, EPROTO, "malformed push rendezvous from %s", x->peer_str);
		return;
	}
	s = xprt_server_set_by_key(x, r.lookup_set_id);
	if (!s) { /* deleted meanwhile, or never looked up on this connection */
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: push registration for unknown set id %llu",
			 x->peer_str, (unsigned long long)r.lookup_set_id);
		return;
	}
	/* pushing hands out the set's data: the same right as reading it */
	pthread_mutex_lock(&x->lock);
	uid = x->peer_uid;
	gid = x->peer_gid;
	pthread_mutex_unlock(&x->lock);
	if (ldms_access_check(uid, gid, ldms_set_uid_get(s), ldms_set_gid_get(s),
			      ldms_set_perm_get(s), 4)) {
		ldms_log(LDMS_LINFO, XPRT_LOG, "%s: push registration for '%s' refused: %s",
			 x->peer_str, ldms_set_instance_name_get(s), strerror(EACCES));
		ldms_set_put(s);
		return;
	}
	pthread_mutex_lock(&push_lock);
	ps = __atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE);
	if (!ps) {
		ps = calloc(1, sizeof(*ps));
		if (!ps)
			goto out;
		ps->set = ldms_set_get(s);
		ps->next = psets;
		if (psets)
			psets->prev = ps;
		psets = ps;
		__atomic_store_n(&set_push_hook, push_trans_end, __ATOMIC_RELEASE);
		__atomic_store_n(&s->push_ctx, ps, __ATOMIC_RELEASE);
		if (!observer_added)
			add_obs = observer_added = 1;
	}
	for (p = ps->peers; p && p->x != x; p = p->next)
		;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			goto out;
		atomic_init(&p->ref, 1);
		p->x = ldms_xprt_get(x);
		p->next = ps->peers;
		ps->peers = p;
	}
	/* upstream: one registration per (set, connection); a new one replaces it */
	p->push_set_id = r.push_set_id;
	p->flags = r.flags | LDMS_PUSH_F_PUSH;
	atomic_store(&p->meta_gn, 0);
out:
	pthread_mutex_unlock(&push_lock);
	if (add_obs)
		ldms_set_observer_add(push_observer, NULL);
	ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: push registered for '%s' (flags %#x)", x->peer_str,
		 ldms_set_instance_name_get(s), r.flags);
	ldms_set_put(s);
}

/* Removes x's peer of ps (push_lock held); returns it (caller puts it). */
static struct ppeer *peer_take(struct pset *ps, struct ldms_xprt *x)
{
	struct ppeer **pp, *p;

	for (pp = &ps->peers; (p = *pp) != NULL; pp = &p->next) {
		if (p->x == x) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

void xprt_push_cancel_recv(struct ldms_xprt *x, const struct ldms_msg *m)
{
	uint8_t buf[LDMS_PUSH_REPLY_HDR_LEN];
	ldms_set_t put_set = NULL, s;
	struct ppeer *p = NULL;
	struct pset *ps;
	uint64_t id;

	if (ldms_cancel_push_from_msg(m, &id)) {
		xprt_close_now(x, EPROTO, "malformed CANCEL_PUSH from %s", x->peer_str);
		return;
	}
	s = xprt_server_set_by_key(x, id);
	if (!s)
		return;
	pthread_mutex_lock(&push_lock);
	ps = __atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE);
	if (ps) {
		p = peer_take(ps, x);
		if (!ps->peers)
			pset_unlink(ps, &put_set);
	}
	pthread_mutex_unlock(&push_lock);
	if (p) {
		struct ldms_push_reply r = {
		    .set_id = p->push_set_id,
		    .flags = LDMS_PUSH_REPLY_F_PUSH | LDMS_PUSH_REPLY_F_LAST,
		};
		ldms_push_reply_hdr_encode(buf, sizeof(buf), &r);
		xprt_send_ldms(x, buf, sizeof(buf));
		ppeer_put(p);
	}
	if (put_set)
		ldms_set_put(put_set);
	ldms_set_put(s);
}

/* ---- client side ----------------------------------------------------------------------- */

struct preg {
	atomic_int ref;
	struct preg *hnext;  /* set hash chain */
	struct ldms_xprt *x; /* reference */
	ldms_set_t set;	     /* reference */
	uint64_t id;	     /* our push_set_id: generation << 32 | slot + 1 */
	uint64_t remote_id;  /* the owner's lookup set id */
	ldms_push_cb_t cb;   /* push_lock */
	void *cb_arg;
	int cancelled;
	/* I/O thread of x only */
	int err;
	int meta_touched;
	int range_logged;
};

/* id -> registration: slots with generations, so a stale id never matches a
 * reused slot; set -> registration: a small chained hash. */
static struct preg **slots;
static uint32_t *slot_gen;
static uint32_t nslots, slots_cap;
static uint32_t *free_slots;
static uint32_t nfree;
static struct preg **by_set;
static size_t by_set_n, nregs;

static void preg_put(struct preg *r)
{
	if (r && atomic_fetch_sub(&r->ref, 1) == 1) {
		ldms_set_put(r->set);
		ldms_xprt_put(r->x);
		free(r);
	}
}

static size_t set_hash(ldms_set_t s)
{
	uintptr_t v = (uintptr_t)s;

	v ^= v >> 17;
	v *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(v >> 20) & (by_set_n - 1);
}

/* push_lock held. */
static struct preg *reg_by_set(ldms_set_t s)
{
	struct preg *r;

	if (!by_set_n)
		return NULL;
	for (r = by_set[set_hash(s)]; r; r = r->hnext)
		if (r->set == s)
			return r;
	return NULL;
}

static struct preg *reg_by_id(struct ldms_xprt *x, uint64_t id)
{
	uint32_t slot = (uint32_t)id;
	struct preg *r;

	if (slot == 0 || slot > nslots)
		return NULL;
	r = slots[slot - 1];
	if (!r || slot_gen[slot - 1] != (uint32_t)(id >> 32) || r->x != x)
		return NULL;
	return r;
}

static int by_set_grow(void)
{
	size_t n = by_set_n ? by_set_n * 2 : 64, i;
	struct preg **nb = calloc(n, sizeof(*nb)), *r, *next;
	struct preg **old = by_set;
	size_t old_n = by_set_n;

	if (!nb)
		return -ENOMEM;
	by_set = nb;
	by_set_n = n;
	for (i = 0; i < old_n; i++) {
		for (r = old[i]; r; r = next) {
			next = r->hnext;
			r->hnext = by_set[set_hash(r->set)];
			by_set[set_hash(r->set)] = r;
		}
	}
	free(old);
	return 0;
}

/* Inserts r in both indices and assigns r->id (push_lock held). */
static int reg_insert(struct preg *r)
{
	uint32_t slot;
	size_t h;

	if ((nregs + 1 > by_set_n) && by_set_grow())
		return -ENOMEM;
	if (nfree) {
		slot = free_slots[--nfree];
	} else {
		if (nslots == UINT32_MAX - 1)
			return -ENOSPC;
		if (nslots == slots_cap) {
			uint32_t nc = slots_cap ? slots_cap * 2 : 64;
			struct preg **ns = realloc(slots, nc * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			slots = ns;
			uint32_t *ng = realloc(slot_gen, nc * sizeof(*ng));
			if (!ng)
				return -ENOMEM;
			slot_gen = ng;
			uint32_t *nf = realloc(free_slots, nc * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			free_slots = nf;
			slots_cap = nc;
		}
		slot = nslots++;
		slot_gen[slot] = 0;
	}
	slots[slot] = r;
	r->id = ((uint64_t)slot_gen[slot] << 32) | (slot + 1);
	h = set_hash(r->set);
	r->hnext = by_set[h];
	by_set[h] = r;
	nregs++;
	return 0;
}

/* Removes r from both indices (push_lock held); the table's reference goes to
 * the caller. */
static void reg_remove(struct preg *r)
{
	uint32_t slot = (uint32_t)r->id - 1;
	struct preg **pp;

	if (slot < nslots && slots[slot] == r) {
		slots[slot] = NULL;
		slot_gen[slot]++;
		free_slots[nfree++] = slot;
	}
	for (pp = &by_set[set_hash(r->set)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == r) {
			*pp = r->hnext;
			break;
		}
	}
	nregs--;
	if (!nregs) { /* nothing registered: give the tables back */
		free(slots);
		free(slot_gen);
		free(free_slots);
		free(by_set);
		slots = NULL;
		slot_gen = free_slots = NULL;
		by_set = NULL;
		nslots = slots_cap = nfree = 0;
		by_set_n = 0;
	}
}

static uint8_t *rdv_frame(const struct preg *r, uint32_t flags, size_t *len)
{
	struct ldms_push_rdv m = {
	    .lookup_set_id = r->remote_id, .push_set_id = r->id, .flags = flags};
	uint8_t *buf = malloc(ZAP_RENDEZVOUS_HDR + LDMS_PUSH_RDV_LEN);

	if (!buf)
		return NULL;
	/* the mapping fields describe our mirror (upstream shares its local map);
	 * nobody reads them: pushes arrive as PUSH_REPLY, not as writes */
	zap_encode_rendezvous_hdr(buf, ZAP_RENDEZVOUS_HDR, xprt_next_zap_xid(), (uint32_t)r->id,
				  ZAP_ACC_READ | ZAP_ACC_WRITE, 0,
				  (uint32_t)ldms_set_mem_size(r->set), LDMS_PUSH_RDV_LEN);
	ldms_push_rdv_encode(buf + ZAP_RENDEZVOUS_HDR, LDMS_PUSH_RDV_LEN, &m);
	*len = ZAP_RENDEZVOUS_HDR + LDMS_PUSH_RDV_LEN;
	return buf;
}

/* The end of a registration (already out of the tables; takes the table's
 * reference): one last callback with PUSH_LAST, on x's I/O thread. */
static void reg_finish_now(struct preg *r, int status)
{
	if (r->cb)
		r->cb(r->x, r->set, status, LDMS_UPD_F_PUSH | LDMS_UPD_F_PUSH_LAST, r->cb_arg);
	preg_put(r);
}

struct rtask {
	struct preg *r;
	int status;
	uint32_t flags;
};

static void finish_task(void *arg)
{
	struct rtask *t = arg;

	reg_finish_now(t->r, t->status);
	free(t);
}

/* From any thread (the caller may hold its own locks): the callback is posted. */
static void reg_finish_post(struct preg *r, int status)
{
	struct rtask *t = malloc(sizeof(*t));

	if (t) {
		t->r = r;
		t->status = status;
		if (xprt_post(r->x->io, finish_task, t) == 0)
			return;
		free(t);
	}
	preg_put(r); /* the engine is down: nobody runs callbacks any more */
}

/* On x's I/O thread, so that it is ordered with xprt_push_cleanup(): a
 * registration is only entered while the connection is up. */
static void register_task(void *arg)
{
	struct rtask *t = arg;
	struct preg *r = t->r, *old = NULL;
	struct ldms_xprt *x = r->x;
	uint8_t *frame;
	size_t flen;
	int rc = -ENOTCONN;

	if (x->state == XS_CONNECTED) {
		pthread_mutex_lock(&push_lock);
		old = reg_by_set(r->set);
		if (old)
			reg_remove(old);
		rc = reg_insert(r);
		pthread_mutex_unlock(&push_lock);
	}
	if (old)
		reg_finish_now(old, -ECANCELED);
	if (rc) {
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: push registration of '%s' failed: %s",
			 x->peer_str, ldms_set_instance_name_get(r->set), strerror(-rc));
		reg_finish_now(r, rc);
	} else {
		frame = rdv_frame(r, t->flags, &flen);
		if (frame) {
			xprt_write(x, frame, flen);
			free(frame);
		}
	}
	free(t);
}

int ldms_xprt_register_push(ldms_set_t s, uint32_t push_flags, ldms_push_cb_t cb, void *cb_arg)
{
	struct ldms_xprt *x = NULL;
	struct rtask *t;
	struct preg *r;
	uint64_t remote_id;
	uid_t uid;
	gid_t gid;
	int rc;

	if (!s || !cb || !ldms_set_is_remote(s))
		return -EINVAL;
	rc = xprt_client_mirror_info(s, &x, &remote_id);
	if (rc)
		return rc;
	if (ldms_xprt_peer_cred(x, &uid, &gid)) {
		ldms_xprt_put(x);
		return -ENOTCONN;
	}
	/* the owner writes into our mirror: it needs write access to it (§4.6) */
	if (ldms_access_check(uid, gid, ldms_set_uid_get(s), ldms_set_gid_get(s),
			      ldms_set_perm_get(s), 2)) {
		ldms_xprt_put(x);
		return -EACCES;
	}
	r = calloc(1, sizeof(*r));
	t = calloc(1, sizeof(*t));
	if (!r || !t) {
		free(r);
		free(t);
		ldms_xprt_put(x);
		return -ENOMEM;
	}
	atomic_init(&r->ref, 1);
	r->x = x; /* takes the mirror_info reference */
	r->set = ldms_set_get(s);
	r->remote_id = remote_id;
	r->cb = cb;
	r->cb_arg = cb_arg;
	t->r = r;
	t->flags =
	    LDMS_PUSH_F_PUSH | ((push_flags & LDMS_XPRT_PUSH_F_CHANGE) ? LDMS_PUSH_F_CHANGE : 0);
	rc = xprt_post(x->io, register_task, t);
	if (rc) {
		free(t);
		preg_put(r);
	}
	return rc;
}

int ldms_xprt_cancel_push(ldms_set_t s)
{
	struct preg *r;
	uint8_t *frame;
	int rc = 0, connected;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&push_lock);
	r = reg_by_set(s);
	if (r && !r->cancelled)
		atomic_fetch_add(&r->ref, 1);
	else
		r = NULL;
	pthread_mutex_unlock(&push_lock);
	if (!r)
		return -ENOENT;
	connected = xprt_is_connected(r->x) && ldms_set_xprt_get(s) == r->x;
	pthread_mutex_lock(&push_lock);
	if (reg_by_id(r->x, r->id) != r || r->cancelled) {
		rc = -ENOENT;
	} else if (!connected) {
		reg_remove(r); /* nobody will answer: end it here */
		connected = -1;
	} else {
		r->cancelled = 1;
	}
	pthread_mutex_unlock(&push_lock);
	if (!rc && connected < 0) {
		reg_finish_post(r, -ENOTCONN); /* takes the table's reference */
	} else if (!rc) {
		frame = malloc(ZAP_SENDRECV_HDR + LDMS_CANCEL_PUSH_LEN);
		if (frame) {
			zap_hdr_encode(frame, ZAP_MSG_SENDRECV,
				       ZAP_SENDRECV_HDR + LDMS_CANCEL_PUSH_LEN, xprt_next_zap_xid(),
				       0);
			wire_put_be32(frame + 20, LDMS_CANCEL_PUSH_LEN);
			ldms_cancel_push_encode(frame + ZAP_SENDRECV_HDR, LDMS_CANCEL_PUSH_LEN,
						r->remote_id);
			rc = xprt_post_frame(r->x, frame, ZAP_SENDRECV_HDR + LDMS_CANCEL_PUSH_LEN);
		} else {
			rc = -ENOMEM;
		}
	}
	preg_put(r);
	return rc;
}

void xprt_push_reply_recv(struct ldms_xprt *x, const struct ldms_msg *m)
{
	struct ldms_push_reply pr;
	ldms_push_cb_t cb = NULL;
	void *cb_arg = NULL;
	struct preg *r;
	ldms_set_t s;
	size_t size;
	int status, last;

	if (ldms_push_reply_from_msg(m, &pr)) {
		xprt_close_now(x, EPROTO, "malformed PUSH_REPLY from %s", x->peer_str);
		return;
	}
	pthread_mutex_lock(&push_lock);
	r = reg_by_id(x, pr.set_id);
	if (r)
		atomic_fetch_add(&r->ref, 1);
	pthread_mutex_unlock(&push_lock);
	if (!r) {
		ldms_log(LDMS_LDEBUG, XPRT_LOG, "%s: push for unknown registration %#llx",
			 x->peer_str, (unsigned long long)pr.set_id);
		return;
	}
	s = r->set;
	size = ldms_set_mem_size(s);
	if (pr.data_len) {
		if (pr.data_off > size || pr.data_len > size - pr.data_off) {
			r->err = -ERANGE;
			if (!r->range_logged++)
				ldms_log(LDMS_LERROR, XPRT_LOG,
					 "%s: push of %u bytes at offset %u outside set '%s' (%zu "
					 "bytes): ignored",
					 x->peer_str, pr.data_len, pr.data_off,
					 ldms_set_instance_name_get(s), size);
		} else {
			ldms_set_lock(s);
			memcpy((uint8_t *)ldms_set_mem(s) + pr.data_off, pr.data, pr.data_len);
			ldms_set_unlock(s);
			if (pr.data_off < s->meta_sz)
				r->meta_touched = 1;
		}
	}
	if (pr.flags & LDMS_PUSH_REPLY_F_MORE) {
		preg_put(r);
		return;
	}
	status = r->err;
	if (!status && r->meta_touched && ldms_set_remote_validate(s))
		status = -EPROTO;
	r->err = 0;
	r->meta_touched = 0;
	last = (pr.flags & LDMS_PUSH_REPLY_F_LAST) != 0;
	pthread_mutex_lock(&push_lock);
	if (reg_by_id(x, r->id) == r) {
		cb = r->cb;
		cb_arg = r->cb_arg;
		if (last)
			reg_remove(r);
		else
			last = 0;
	} else {
		last = 0;
	}
	pthread_mutex_unlock(&push_lock);
	if (cb)
		cb(x, s, status, pr.flags & ~LDMS_PUSH_REPLY_F_MORE, cb_arg);
	if (last)
		preg_put(r); /* the table's reference */
	preg_put(r);
}

/* ---- connection end ------------------------------------------------------------------- */

void xprt_push_cleanup(struct ldms_xprt *x)
{
	struct ppeer *dead = NULL, *p;
	struct preg *rdead = NULL, *r;
	ldms_set_t *puts = NULL;
	size_t nputs = 0, i;
	struct pset *ps, *next;

	pthread_mutex_lock(&push_lock);
	for (ps = psets; ps; ps = next) {
		next = ps->next;
		p = peer_take(ps, x);
		if (!p)
			continue;
		p->next = dead;
		dead = p;
		if (!ps->peers) {
			ldms_set_t *np = realloc(puts, (nputs + 1) * sizeof(*np));
			if (!np) /* keep the (empty) entry rather than leak a reference */
				continue;
			puts = np;
			pset_unlink(ps, &puts[nputs++]);
		}
	}
	for (i = 0; i < nslots;) {
		r = slots[i];
		if (r && r->x == x) {
			reg_remove(r);
			r->hnext = rdead;
			rdead = r;
			if (!nregs)
				break;
			continue; /* slot i is now empty; the tables may be freed */
		}
		i++;
	}
	pthread_mutex_unlock(&push_lock);
	while ((p = dead) != NULL) {
		dead = p->next;
		ppeer_put(p);
	}
	while ((r = rdead) != NULL) {
		rdead = r->hnext;
		reg_finish_now(r, -ENOTCONN);
	}
	for (i = 0; i < nputs; i++)
		ldms_set_put(puts[i]);
	free(puts);
}

/* ---- test hooks ---------------------------------------------------------------------------- */

int xprt_test_push_peers_with(ldms_set_t s, uint32_t flags)
{
	struct pset *ps;
	struct ppeer *p;
	int n = 0;

	pthread_mutex_lock(&push_lock);
	ps = __atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE);
	for (p = ps ? ps->peers : NULL; p; p = p->next)
		n += (p->flags & flags) == flags;
	pthread_mutex_unlock(&push_lock);
	return n;
}

int xprt_test_push_peers(ldms_set_t s)
{
	return xprt_test_push_peers_with(s, 0);
}

uint64_t xprt_test_push_id(ldms_set_t mirror)
{
	struct preg *r;
	uint64_t id;

	pthread_mutex_lock(&push_lock);
	r = reg_by_set(mirror);
	id = r ? r->id : 0;
	pthread_mutex_unlock(&push_lock);
	return id;
}
