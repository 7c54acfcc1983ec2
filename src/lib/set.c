/* Schemas and local metric sets: builds a set's memory in upstream OVIS LDMS 4.5's
 * layout (ldms-protocol.md §4.3: header, dict, names, digest, value descriptors,
 * META values, data sections), the digest of §4.4, reference counting and the
 * header accessors shared by local and remote sets. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ldms/ldms_set.h"
#include "set_priv.h"

/* ---- value types ---------------------------------------------------------------------- */

static const char *const type_names[] = {
    "none",  "char",	    "u8",	   "s8",       "u16",	    "s16",   "u32",   "s32",
    "u64",   "s64",	    "f32",	   "d64",      "char[]",    "u8[]",  "s8[]",  "u16[]",
    "s16[]", "u32[]",	    "s32[]",	   "u64[]",    "s64[]",	    "f32[]", "d64[]", "list<>",
    "entry", "record_type", "record_inst", "record[]", "timestamp",
};

/* upstream test_sampler / ldmsd config spellings */
static const struct {
	const char *name;
	enum ldms_value_type t;
} type_aliases[] = {
    {"char_array", LDMS_V_CHAR_ARRAY},
    {"u8_array", LDMS_V_U8_ARRAY},
    {"s8_array", LDMS_V_S8_ARRAY},
    {"u16_array", LDMS_V_U16_ARRAY},
    {"s16_array", LDMS_V_S16_ARRAY},
    {"u32_array", LDMS_V_U32_ARRAY},
    {"s32_array", LDMS_V_S32_ARRAY},
    {"u64_array", LDMS_V_U64_ARRAY},
    {"s64_array", LDMS_V_S64_ARRAY},
    {"f32_array", LDMS_V_F32_ARRAY},
    {"d64_array", LDMS_V_D64_ARRAY},
    {"float", LDMS_V_F32},
    {"double", LDMS_V_D64},
    {"string", LDMS_V_CHAR_ARRAY},
    {"list", LDMS_V_LIST},
    {"record", LDMS_V_RECORD_INST},
    {"record_array", LDMS_V_RECORD_ARRAY},
};

const char *ldms_metric_type_to_str(enum ldms_value_type t)
{
	if ((int)t < 0 || t > LDMS_V_LAST)
		return NULL;
	return type_names[t];
}

enum ldms_value_type ldms_metric_str_to_type(const char *s)
{
	if (!s)
		return LDMS_V_NONE;
	for (int i = 1; i <= LDMS_V_LAST; i++)
		if (!strcasecmp(s, type_names[i]))
			return (enum ldms_value_type)i;
	for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
		if (!strcasecmp(s, type_aliases[i].name))
			return type_aliases[i].t;
	return LDMS_V_NONE;
}

int ldms_type_is_array(enum ldms_value_type t)
{
	return t >= LDMS_V_CHAR_ARRAY && t <= LDMS_V_D64_ARRAY;
}

size_t ldms_type_elem_size(enum ldms_value_type t)
{
	switch (t) {
	case LDMS_V_CHAR:
	case LDMS_V_U8:
	case LDMS_V_S8:
	case LDMS_V_CHAR_ARRAY:
	case LDMS_V_U8_ARRAY:
	case LDMS_V_S8_ARRAY:
		return 1;
	case LDMS_V_U16:
	case LDMS_V_S16:
	case LDMS_V_U16_ARRAY:
	case LDMS_V_S16_ARRAY:
		return 2;
	case LDMS_V_U32:
	case LDMS_V_S32:
	case LDMS_V_F32:
	case LDMS_V_U32_ARRAY:
	case LDMS_V_S32_ARRAY:
	case LDMS_V_F32_ARRAY:
		return 4;
	case LDMS_V_U64:
	case LDMS_V_S64:
	case LDMS_V_D64:
	case LDMS_V_U64_ARRAY:
	case LDMS_V_S64_ARRAY:
	case LDMS_V_D64_ARRAY:
	case LDMS_V_TIMESTAMP:
		return 8;
	default:
		return 0;
	}
}

/* Value bytes of a metric of this type/count; -EINVAL for an impossible size. */
int set_value_size(uint8_t type, uint32_t count, uint32_t *vsize)
{
	uint64_t sz;

	if (ldms_type_is_array(type)) {
		if (count == 0)
			return -EINVAL;
		sz = (uint64_t)ldms_type_elem_size(type) * count;
	} else {
		sz = ldms_type_elem_size(type);
	}
	if (sz > SET_MEM_MAX)
		return -EINVAL;
	*vsize = (uint32_t)sz;
	return 0;
}

/* ---- schema --------------------------------------------------------------------------- */

struct schema_metric {
	char *name;
	char *unit;
	uint8_t type;
	uint8_t flags;
	uint32_t count;
	uint32_t desc_sz; /* descriptor bytes, 8-aligned */
	uint32_t slot_sz; /* value bytes, 8-aligned */
};

struct ldms_schema {
	char *name;
	struct schema_metric *m;
	int n, cap;
	uint32_t array_card;
	uint64_t desc_total;
	uint64_t meta_vals;
	uint64_t data_vals;
	int digest_valid; /* digest cache, reset by every add */
	uint8_t digest[LDMS_DIGEST_LEN];
};

/* Longest schema name whose ldms_name (name, NUL, digest, NUL) fits a u8 length. */
#define SCHEMA_NAME_MAX (255 - 1 - LDMS_DIGEST_LEN - 1)
#define INST_NAME_MAX	(LDMS_SET_NAME_MAX - 2)

struct ldms_schema *ldms_schema_new(const char *name)
{
	struct ldms_schema *s;

	if (!name || !*name || strlen(name) > SCHEMA_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = strdup(name);
	if (!s->name) {
		free(s);
		return NULL;
	}
	s->array_card = 1;
	return s;
}

void ldms_schema_delete(struct ldms_schema *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		free(s->m[i].name);
		free(s->m[i].unit);
	}
	free(s->m);
	free(s->name);
	free(s);
}

static int schema_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
		      uint32_t count, const char *unit, uint8_t flags)
{
	struct schema_metric *m;
	size_t nu_len;
	uint32_t vsize;

	if (!s || !name || !*name)
		return -EINVAL;
	if (!unit)
		unit = "";
	if (t == LDMS_V_NONE || t > LDMS_V_LAST)
		return -EINVAL;
	if (!ldms_type_elem_size(t))
		return -ENOTSUP; /* lists and records: no heap support */
	if (!ldms_type_is_array(t))
		count = 1;
	if (set_value_size((uint8_t)t, count, &vsize))
		return -EINVAL;
	/* vd_name_unit_len is a u8 covering "name\0unit\0". */
	nu_len = strlen(name) + 1 + strlen(unit) + 1;
	if (nu_len > 255)
		return -ENAMETOOLONG;
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return -EEXIST;
	if (s->n >= (1 << 20))
		return -E2BIG;
	if (s->n == s->cap) {
		int ncap = s->cap ? s->cap * 2 : 16;
		struct schema_metric *nm = realloc(s->m, sizeof(*nm) * (size_t)ncap);
		if (!nm)
			return -ENOMEM;
		s->m = nm;
		s->cap = ncap;
	}
	m = &s->m[s->n];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->unit = strdup(unit);
	if (!m->name || !m->unit) {
		free(m->name);
		free(m->unit);
		return -ENOMEM;
	}
	m->type = (uint8_t)t;
	m->flags = flags;
	m->count = count;
	m->desc_sz = (uint32_t)SET_ROUNDUP8(VD_FIXED_LEN + nu_len);
	m->slot_sz = (uint32_t)SET_ROUNDUP8(vsize);
	s->desc_total += m->desc_sz;
	s->digest_valid = 0;
	if (flags & LDMS_MDESC_F_META)
		s->meta_vals += m->slot_sz;
	else
		s->data_vals += m->slot_sz;
	return s->n++;
}

int ldms_schema_metric_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			   const char *unit)
{
	return schema_add(s, name, t, 1, unit, LDMS_MDESC_F_DATA);
}

int ldms_schema_meta_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			 const char *unit)
{
	return schema_add(s, name, t, 1, unit, LDMS_MDESC_F_META);
}

int ldms_schema_metric_array_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
				 uint32_t count, const char *unit)
{
	if (!ldms_type_is_array(t))
		return -EINVAL;
	return schema_add(s, name, t, count, unit, LDMS_MDESC_F_DATA);
}

int ldms_schema_meta_array_add(struct ldms_schema *s, const char *name, enum ldms_value_type t,
			       uint32_t count, const char *unit)
{
	if (!ldms_type_is_array(t))
		return -EINVAL;
	return schema_add(s, name, t, count, unit, LDMS_MDESC_F_META);
}

int ldms_schema_array_card_set(struct ldms_schema *s, uint32_t card)
{
	if (!s || card == 0 || card > 65536)
		return -EINVAL;
	s->array_card = card;
	return 0;
}

int ldms_schema_metric_count(const struct ldms_schema *s)
{
	return s ? s->n : -EINVAL;
}

const char *ldms_schema_name(const struct ldms_schema *s)
{
	return s ? s->name : NULL;
}

static void digest_update(EVP_MD_CTX *ctx, const char *name, uint8_t type)
{
	uint8_t t[4];

	put_le32(t, type);
	EVP_DigestUpdate(ctx, name, strlen(name));
	EVP_DigestUpdate(ctx, t, 4);
}

void ldms_schema_digest(const struct ldms_schema *s, uint8_t out[LDMS_DIGEST_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int len = LDMS_DIGEST_LEN;
	struct ldms_schema *ms = (struct ldms_schema *)s; /* the cache is not part of the value */

	memset(out, 0, LDMS_DIGEST_LEN);
	if (!s)
		return;
	if (s->digest_valid) {
		memcpy(out, s->digest, LDMS_DIGEST_LEN);
		return;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; i < s->n; i++)
		digest_update(ctx, s->m[i].name, s->m[i].type);
	if (EVP_DigestFinal_ex(ctx, out, &len) == 1) {
		memcpy(ms->digest, out, LDMS_DIGEST_LEN);
		ms->digest_valid = 1;
	}
	EVP_MD_CTX_free(ctx);
}

void set_digest_compute(const struct set_mdesc *md, uint32_t card, uint8_t out[LDMS_DIGEST_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = LDMS_DIGEST_LEN;

	memset(out, 0, LDMS_DIGEST_LEN);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (uint32_t i = 0; i < card; i++)
		digest_update(ctx, md[i].name, md[i].type);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

/* ---- descriptor table --------------------------------------------------------------------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int set_layout_hash_build(struct set_layout *l)
{
	uint32_t sz = 8;

	while (sz < l->card * 2u)
		sz <<= 1;
	l->hidx = calloc(sz, sizeof(uint32_t));
	if (!l->hidx)
		return -ENOMEM;
	l->hmask = sz - 1;
	for (uint32_t i = 0; i < l->card; i++) {
		uint32_t h = name_hash(l->md[i].name) & l->hmask;
		while (l->hidx[h])
			h = (h + 1) & l->hmask;
		l->hidx[h] = i + 1;
	}
	return 0;
}

void set_layout_free(struct set_layout *l)
{
	while (l) {
		struct set_layout *next = l->retired;
		free(l->md);
		free(l->hidx);
		free(l->strs);
		free(l);
		l = next;
	}
}

struct set_layout *set_layout_get(ldms_set_t s)
{
	return __atomic_load_n(&s->layout, __ATOMIC_ACQUIRE);
}

/* ---- default authorisation ---------------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	int init;
	uid_t uid;
	gid_t gid;
	uint32_t perm;
} def_authz = {.lock = PTHREAD_MUTEX_INITIALIZER};

void ldms_set_default_authz_set(uid_t uid, gid_t gid, uint32_t perm)
{
	pthread_mutex_lock(&def_authz.lock);
	def_authz.uid = uid;
	def_authz.gid = gid;
	def_authz.perm = perm & 0777;
	def_authz.init = 1;
	pthread_mutex_unlock(&def_authz.lock);
}

void ldms_set_default_authz_get(uid_t *uid, gid_t *gid, uint32_t *perm)
{
	pthread_mutex_lock(&def_authz.lock);
	if (!def_authz.init) {
		def_authz.uid = geteuid();
		def_authz.gid = getegid();
		def_authz.perm = 0440;
		def_authz.init = 1;
	}
	if (uid)
		*uid = def_authz.uid;
	if (gid)
		*gid = def_authz.gid;
	if (perm)
		*perm = def_authz.perm;
	pthread_mutex_unlock(&def_authz.lock);
}

/* ---- set objects ---------------------------------------------------------------------------- */

static atomic_size_t live_sets;

size_t set_live_count(void)
{
	return atomic_load(&live_sets);
}

ldms_set_t set_alloc(const char *instance, const char *schema, size_t mem_sz, int remote)
{
	struct ldms_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->mem = calloc(1, mem_sz);
	s->inst_name = strdup(instance);
	s->schema_name = strdup(schema ? schema : "");
	if (!s->mem || !s->inst_name || !s->schema_name) {
		free(s->mem);
		free(s->inst_name);
		free(s->schema_name);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->mem_sz = mem_sz;
	s->remote = remote;
	s->refcount = 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->info_lock, NULL);
	atomic_fetch_add(&live_sets, 1);
	return s;
}

static void set_free(ldms_set_t s)
{
	set_info_free_all(s);
	set_layout_free(s->layout);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->info_lock);
	free(s->mem);
	free(s->inst_name);
	free(s->schema_name);
	free(s);
	atomic_fetch_sub(&live_sets, 1);
}

ldms_set_t ldms_set_get(ldms_set_t s)
{
	if (s)
		__atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED);
	return s;
}

void ldms_set_put(ldms_set_t s)
{
	if (!s)
		return;
	if (__atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		set_free(s);
}

static void write_name(uint8_t *p, const char *name, uint8_t len)
{
	p[0] = len;
	memcpy(p + 1, name, strlen(name));
}

ldms_set_t ldms_set_new_with_auth(const char *instance, const struct ldms_schema *sch, uid_t uid,
				  gid_t gid, uint32_t perm)
{
	size_t ilen, slen, off, meta_sz, data_sz, mem_sz, desc_off, meta_val_off, data_val_off;
	uint8_t digest[LDMS_DIGEST_LEN];
	struct set_layout *l;
	ldms_set_t s;
	uint8_t *m;
	uint32_t card;

	if (!instance || !sch || !*instance || strlen(instance) > INST_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (set_registry_has(instance)) {
		errno = EEXIST;
		return NULL;
	}
	ilen = strlen(instance);
	slen = strlen(sch->name);
	card = (uint32_t)sch->n;

	/* Upstream's size formula (§4.3), so that ldms_ls -v shows the same sizes. */
	meta_sz = SET_ROUNDUP8(144 + sch->desc_total + 4ull * card + sch->meta_vals + slen + 2 +
			       LDMS_DIGEST_LEN + ilen + 2);
	data_sz = LDMS_DATA_HDR_SIZE + sch->data_vals;
	if (meta_sz + (uint64_t)data_sz * sch->array_card > SET_MEM_MAX) {
		errno = E2BIG;
		return NULL;
	}
	mem_sz = meta_sz + data_sz * sch->array_card;
	s = set_alloc(instance, sch->name, mem_sz, 0);
	if (!s)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->md = calloc(card ? card : 1, sizeof(*l->md)))) {
		free(l);
		ldms_set_put(s);
		errno = ENOMEM;
		return NULL;
	}
	l->card = card;
	s->meta_sz = (uint32_t)meta_sz;
	s->data_sz = (uint32_t)data_sz;
	s->array_card = sch->array_card;
	m = s->mem;

	put_le64(m + SH_META_GN, 1);
	m[SH_VERSION] = 4;
	m[SH_VERSION + 1] = 2;
	m[SH_FLAGS] = SH_FLAG_LE;
	put_le32(m + SH_CARD, card);
	put_le32(m + SH_META_SZ, (uint32_t)meta_sz);
	put_le32(m + SH_DATA_SZ, (uint32_t)data_sz);
	put_le32(m + SH_UID, (uint32_t)uid);
	put_le32(m + SH_GID, (uint32_t)gid);
	put_le32(m + SH_PERM, perm & 0777);
	put_le32(m + SH_ARRAY_CARD, sch->array_card);
	put_le32(m + SH_HEAP_SZ, 0);

	off = SH_DICT + 4ull * card;
	write_name(m + off, instance, (uint8_t)(ilen + 1));
	off += 1 + ilen + 1;
	/* The schema ldms_name covers "schema\0" + digest + one trailing zero byte. */
	ldms_schema_digest(sch, digest);
	write_name(m + off, sch->name, (uint8_t)(slen + 1 + LDMS_DIGEST_LEN + 1));
	memcpy(m + off + 1 + slen + 1, digest, LDMS_DIGEST_LEN);
	memcpy(l->digest, digest, LDMS_DIGEST_LEN);
	off += 1 + slen + 1 + LDMS_DIGEST_LEN + 1;

	desc_off = SET_ROUNDUP8(off);
	meta_val_off = desc_off + sch->desc_total;
	data_val_off = LDMS_DATA_HDR_SIZE;
	for (uint32_t i = 0; i < card; i++) {
		const struct schema_metric *sm = &sch->m[i];
		struct set_mdesc *md = &l->md[i];
		uint8_t *d = m + desc_off;
		size_t nlen = strlen(sm->name), ulen = strlen(sm->unit);

		put_le32(m + SH_DICT + 4 * i, (uint32_t)desc_off);
		md->desc_off = (uint32_t)desc_off;
		md->type = sm->type;
		md->flags = sm->flags;
		md->count = sm->count;
		set_value_size(sm->type, sm->count, &md->vsize);
		if (sm->flags & LDMS_MDESC_F_META) {
			md->val_off = (uint32_t)meta_val_off;
			meta_val_off += sm->slot_sz;
		} else {
			md->val_off = (uint32_t)data_val_off;
			data_val_off += sm->slot_sz;
		}
		put_le32(d + VD_OFFSET, md->val_off);
		put_le32(d + VD_COUNT, sm->count);
		d[VD_TYPE] = sm->type;
		d[VD_FLAGS] = sm->flags;
		d[VD_NAMELEN] = (uint8_t)(nlen + 1 + ulen + 1);
		memcpy(d + VD_NAME, sm->name, nlen);
		memcpy(d + VD_NAME + nlen + 1, sm->unit, ulen);
		md->name = (const char *)(d + VD_NAME);
		md->unit = (const char *)(d + VD_NAME + nlen + 1);
		desc_off += sm->desc_sz;
	}

	for (uint32_t k = 0; k < sch->array_card; k++) {
		uint8_t *dh = m + meta_sz + (size_t)k * data_sz;
		put_le32(dh + DH_SET_OFF, (uint32_t)(meta_sz + (size_t)k * data_sz));
		put_le64(dh + DH_GN, 1);
		put_le64(dh + DH_SIZE, data_sz);
		put_le64(dh + DH_META_GN, 1);
		put_le32(dh + DH_CURR_IDX, 0);
	}
	if (set_layout_hash_build(l)) {
		set_layout_free(l);
		ldms_set_put(s);
		errno = ENOMEM;
		return NULL;
	}
	s->layout = l;
	return s;
}

ldms_set_t ldms_set_new(const char *instance, const struct ldms_schema *s)
{
	uid_t uid;
	gid_t gid;
	uint32_t perm;

	ldms_set_default_authz_get(&uid, &gid, &perm);
	return ldms_set_new_with_auth(instance, s, uid, gid, perm);
}

int ldms_set_is_remote(ldms_set_t s)
{
	return s ? s->remote : 0;
}

/* ---- header access ------------------------------------------------------------------------ */

const char *ldms_set_instance_name_get(ldms_set_t s)
{
	return s->inst_name;
}

const char *ldms_set_schema_name_get(ldms_set_t s)
{
	return s->schema_name;
}

const char *ldms_set_producer_name_get(ldms_set_t s)
{
	if (s->remote)
		return s->producer;
	return (const char *)s->mem + SH_PRODUCER;
}

int ldms_set_producer_name_set(ldms_set_t s, const char *name)
{
	size_t n;

	if (!s || !name)
		return -EINVAL;
	/* Longer host names are cut at 63 characters, as the header field allows. */
	n = strnlen(name, LDMS_PRODUCER_NAME_MAX - 1);
	memset(s->mem + SH_PRODUCER, 0, LDMS_PRODUCER_NAME_MAX);
	memcpy(s->mem + SH_PRODUCER, name, n);
	if (s->remote) {
		memset(s->producer, 0, sizeof(s->producer));
		memcpy(s->producer, name, n);
	}
	return 0;
}

uint32_t ldms_set_card_get(ldms_set_t s)
{
	struct set_layout *l = set_layout_get(s);

	return l ? l->card : 0;
}

uint32_t ldms_set_meta_sz_get(ldms_set_t s)
{
	return s->meta_sz;
}

uint32_t ldms_set_data_sz_get(ldms_set_t s)
{
	return s->data_sz;
}

uint32_t ldms_set_heap_sz_get(ldms_set_t s)
{
	return get_le32(s->mem + SH_HEAP_SZ);
}

uint32_t ldms_set_array_card_get(ldms_set_t s)
{
	return s->array_card;
}

uid_t ldms_set_uid_get(ldms_set_t s)
{
	return (uid_t)get_le32(s->mem + SH_UID);
}

gid_t ldms_set_gid_get(ldms_set_t s)
{
	return (gid_t)get_le32(s->mem + SH_GID);
}

uint32_t ldms_set_perm_get(ldms_set_t s)
{
	return get_le32(s->mem + SH_PERM) & 0777;
}

/* Ownership changes do not bump meta_gn: they are made before publishing, and
 * upstream's golden sets (03-test-sampler) show no extra generation for them. */
int ldms_set_uid_set(ldms_set_t s, uid_t uid)
{
	if (!s)
		return -EINVAL;
	put_le32(s->mem + SH_UID, (uint32_t)uid);
	return 0;
}

int ldms_set_gid_set(ldms_set_t s, gid_t gid)
{
	if (!s)
		return -EINVAL;
	put_le32(s->mem + SH_GID, (uint32_t)gid);
	return 0;
}

int ldms_set_perm_set(ldms_set_t s, uint32_t perm)
{
	if (!s || perm > 0777)
		return -EINVAL;
	put_le32(s->mem + SH_PERM, perm);
	return 0;
}

uint64_t ldms_set_meta_gn_get(ldms_set_t s)
{
	return get_le64(s->mem + SH_META_GN);
}

void ldms_set_digest_get(ldms_set_t s, uint8_t out[LDMS_DIGEST_LEN])
{
	struct set_layout *l = set_layout_get(s);

	if (l)
		memcpy(out, l->digest, LDMS_DIGEST_LEN);
	else
		memset(out, 0, LDMS_DIGEST_LEN);
}

const char *ldms_set_digest_str(ldms_set_t s, char *buf)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t d[LDMS_DIGEST_LEN];

	ldms_set_digest_get(s, d);
	for (int i = 0; i < LDMS_DIGEST_LEN; i++) {
		buf[2 * i] = hex[d[i] >> 4];
		buf[2 * i + 1] = hex[d[i] & 15];
	}
	buf[2 * LDMS_DIGEST_LEN] = '\0';
	return buf;
}

void *ldms_set_mem(ldms_set_t s)
{
	return s->mem;
}

size_t ldms_set_mem_size(ldms_set_t s)
{
	return s->mem_sz;
}

void *ldms_set_xprt_ctx_get(ldms_set_t s)
{
	return __atomic_load_n(&s->xprt_ctx, __ATOMIC_ACQUIRE);
}

void ldms_set_xprt_ctx_set(ldms_set_t s, void *ctx)
{
	__atomic_store_n(&s->xprt_ctx, ctx, __ATOMIC_RELEASE);
}

void *ldms_set_app_ctx_get(ldms_set_t s)
{
	return __atomic_load_n(&s->app_ctx, __ATOMIC_ACQUIRE);
}

void ldms_set_app_ctx_set(ldms_set_t s, void *ctx)
{
	__atomic_store_n(&s->app_ctx, ctx, __ATOMIC_RELEASE);
}

void ldms_set_lock(ldms_set_t s)
{
	pthread_mutex_lock(&s->lock);
}

void ldms_set_unlock(ldms_set_t s)
{
	pthread_mutex_unlock(&s->lock);
}
