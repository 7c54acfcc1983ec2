/* Metric access and transactions (ldms-protocol.md §4.5): O(1) get/set through the
 * set's descriptor table, type conversion between the caller's and the metric's
 * type, generation-number bumps, and the ring of data sections (array_card > 1). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_set.h"
#include "ldms/ldms_util.h"
#include "set_priv.h"

/* ---- data sections -------------------------------------------------------------------- */

uint8_t *set_data_section(ldms_set_t s, uint32_t idx)
{
	return s->mem + s->meta_sz + (size_t)idx * s->data_sz;
}

/* Remote sets: the newest copy (highest gn) names the current one; any index a
 * peer wrote that is out of range falls back to that copy. */
static uint32_t remote_curr_idx(ldms_set_t s)
{
	uint32_t best = 0, idx;
	uint64_t best_gn = 0;

	if (s->array_card <= 1)
		return 0;
	for (uint32_t k = 0; k < s->array_card; k++) {
		uint64_t gn = get_le64(set_data_section(s, k) + DH_GN);
		if (gn > best_gn) {
			best_gn = gn;
			best = k;
		}
	}
	idx = get_le32(set_data_section(s, best) + DH_CURR_IDX);
	return idx < s->array_card ? idx : best;
}

uint32_t set_curr_idx(ldms_set_t s)
{
	if (s->remote)
		return remote_curr_idx(s);
	return __atomic_load_n(&s->curr_idx, __ATOMIC_ACQUIRE);
}

static inline uint8_t *curr_data(ldms_set_t s)
{
	return set_data_section(s, set_curr_idx(s));
}

uint32_t ldms_set_curr_idx_get(ldms_set_t s)
{
	return set_curr_idx(s);
}

uint64_t ldms_set_data_gn_get(ldms_set_t s)
{
	return get_le64(curr_data(s) + DH_GN);
}

/* ---- transactions ------------------------------------------------------------------------ */

void (*set_push_hook)(ldms_set_t s);

static void ts_put(uint8_t *p, uint64_t us)
{
	put_le32(p, (uint32_t)(us / 1000000));
	put_le32(p + 4, (uint32_t)(us % 1000000));
}

static uint64_t ts_get(const uint8_t *p)
{
	return (uint64_t)get_le32(p) * 1000000 + get_le32(p + 4);
}

int ldms_transaction_begin(ldms_set_t s)
{
	uint8_t *dh;

	if (!s || s->remote)
		return -EINVAL;
	if (s->array_card > 1) {
		/* Advance the ring; the new copy starts as the previous one so that
		 * metrics the sampler does not rewrite keep their last value. */
		uint32_t prev = s->curr_idx, next = (prev + 1) % s->array_card;
		uint8_t *src = set_data_section(s, prev), *dst = set_data_section(s, next);
		memcpy(dst, src, s->data_sz);
		put_le32(dst + DH_SET_OFF, (uint32_t)(s->meta_sz + (size_t)next * s->data_sz));
		for (uint32_t k = 0; k < s->array_card; k++)
			put_le32(set_data_section(s, k) + DH_CURR_IDX, next);
		__atomic_store_n(&s->curr_idx, next, __ATOMIC_RELEASE);
	}
	dh = curr_data(s);
	put_le32(dh + DH_FLAGS, LDMS_TRANS_BEGIN);
	ts_put(dh + DH_TS, ldms_now_us());
	return 0;
}

int ldms_transaction_end(ldms_set_t s)
{
	uint8_t *dh;
	uint64_t now, begin;

	if (!s || s->remote)
		return -EINVAL;
	dh = curr_data(s);
	now = ldms_now_us();
	begin = ts_get(dh + DH_TS);
	ts_put(dh + DH_DUR, now > begin ? now - begin : 0);
	ts_put(dh + DH_TS, now);
	put_le64(dh + DH_GN, get_le64(dh + DH_GN) + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put_le32(dh + DH_FLAGS, LDMS_TRANS_END);
	if (__atomic_load_n(&s->push_ctx, __ATOMIC_ACQUIRE)) {
		void (*hook)(ldms_set_t) = __atomic_load_n(&set_push_hook, __ATOMIC_ACQUIRE);
		if (hook)
			hook(s);
	}
	return 0;
}

int ldms_set_is_consistent(ldms_set_t s)
{
	return get_le32(curr_data(s) + DH_FLAGS) == LDMS_TRANS_END;
}

struct ldms_timestamp ldms_transaction_timestamp_get(ldms_set_t s)
{
	const uint8_t *dh = curr_data(s);
	struct ldms_timestamp ts = {get_le32(dh + DH_TS), get_le32(dh + DH_TS + 4)};
	return ts;
}

struct ldms_timestamp ldms_transaction_duration_get(ldms_set_t s)
{
	const uint8_t *dh = curr_data(s);
	struct ldms_timestamp ts = {get_le32(dh + DH_DUR), get_le32(dh + DH_DUR + 4)};
	return ts;
}

/* ---- metric metadata ------------------------------------------------------------------------ */

static inline const struct set_mdesc *mdesc(ldms_set_t s, int i)
{
	struct set_layout *l;

	if (!s || i < 0)
		return NULL;
	l = set_layout_get(s);
	if (!l || (uint32_t)i >= l->card)
		return NULL;
	return &l->md[i];
}

int ldms_metric_by_name(ldms_set_t s, const char *name)
{
	struct set_layout *l;
	uint32_t h = 2166136261u;
	const char *p;

	if (!s || !name)
		return -ENOENT;
	l = set_layout_get(s);
	if (!l)
		return -ENOENT;
	for (p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (h &= l->hmask; l->hidx[h]; h = (h + 1) & l->hmask) {
		uint32_t i = l->hidx[h] - 1;
		if (!strcmp(l->md[i].name, name))
			return (int)i;
	}
	return -ENOENT;
}

const char *ldms_metric_name_get(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? md->name : NULL;
}

const char *ldms_metric_unit_get(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? md->unit : "";
}

enum ldms_value_type ldms_metric_type_get(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? (enum ldms_value_type)md->type : LDMS_V_NONE;
}

int ldms_metric_flags_get(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? md->flags : 0;
}

uint32_t ldms_metric_array_get_len(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? md->count : 0;
}

/* A write to a DATA metric bumps the data gn, a write to a META metric bumps
 * meta_gn and mirrors it into the current data header (§4.5). */
static void gn_bump(ldms_set_t s, const struct set_mdesc *md)
{
	uint8_t *dh = curr_data(s);

	if (md->flags & LDMS_MDESC_F_DATA) {
		put_le64(dh + DH_GN, get_le64(dh + DH_GN) + 1);
	} else {
		uint64_t gn = get_le64(s->mem + SH_META_GN) + 1;
		put_le64(s->mem + SH_META_GN, gn);
		put_le64(dh + DH_META_GN, gn);
	}
}

uint64_t ldms_metric_user_data_get(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? get_le64(s->mem + md->desc_off + VD_UDATA) : 0;
}

void ldms_metric_user_data_set(ldms_set_t s, int i, uint64_t udata)
{
	const struct set_mdesc *md = mdesc(s, i);

	if (!md)
		return;
	put_le64(s->mem + md->desc_off + VD_UDATA, udata);
	gn_bump(s, md);
}

/* ---- values ------------------------------------------------------------------------------- */

static inline uint8_t *value_ptr(ldms_set_t s, const struct set_mdesc *md)
{
	if (md->flags & LDMS_MDESC_F_DATA)
		return curr_data(s) + md->val_off;
	return s->mem + md->val_off;
}

const void *ldms_metric_value_ptr(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	return md ? value_ptr(s, md) : NULL;
}

/* Element type of a scalar or array type (timestamps are handled as u64). */
static inline uint8_t base_type(uint8_t t)
{
	if (t >= LDMS_V_CHAR_ARRAY && t <= LDMS_V_D64_ARRAY)
		return (uint8_t)(t - (LDMS_V_CHAR_ARRAY - LDMS_V_CHAR));
	if (t == LDMS_V_TIMESTAMP)
		return LDMS_V_U64;
	return t;
}

/* Conversions that are defined for every double (C leaves out-of-range casts undefined). */
static int64_t dbl_to_s64(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static uint64_t dbl_to_u64(double d)
{
	if (isnan(d))
		return 0;
	if (d < 0)
		return (uint64_t)dbl_to_s64(d); /* two's complement, as a C cast via s64 */
	if (d >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)d;
}

static float dbl_to_f32(double d)
{
	if (d > 3.4028234663852886e38)
		return INFINITY;
	if (d < -3.4028234663852886e38)
		return -INFINITY;
	return (float)d;
}

/* The value being stored, in the caller's representation. */
struct num {
	enum { NUM_U, NUM_S, NUM_D } kind;
	uint64_t u;
	int64_t s;
	double d;
};

static void elem_put(uint8_t *p, uint8_t bt, const struct num *v)
{
	uint64_t u = v->kind == NUM_U ? v->u : v->kind == NUM_S ? (uint64_t)v->s : dbl_to_u64(v->d);

	switch (bt) {
	case LDMS_V_CHAR:
	case LDMS_V_U8:
	case LDMS_V_S8:
		p[0] = (uint8_t)u;
		break;
	case LDMS_V_U16:
	case LDMS_V_S16:
		put_le16(p, (uint16_t)u);
		break;
	case LDMS_V_U32:
	case LDMS_V_S32:
		put_le32(p, (uint32_t)u);
		break;
	case LDMS_V_U64:
	case LDMS_V_S64:
		put_le64(p, u);
		break;
	case LDMS_V_F32: {
		float f = v->kind == NUM_D   ? dbl_to_f32(v->d)
			  : v->kind == NUM_S ? (float)v->s
					     : (float)v->u;
		uint32_t b;
		memcpy(&b, &f, 4);
		put_le32(p, b);
		break;
	}
	case LDMS_V_D64: {
		double d = v->kind == NUM_D ? v->d : v->kind == NUM_S ? (double)v->s : (double)v->u;
		uint64_t b;
		memcpy(&b, &d, 8);
		put_le64(p, b);
		break;
	}
	default:
		break;
	}
}

static void elem_get(const uint8_t *p, uint8_t bt, struct num *v)
{
	v->kind = NUM_S;
	switch (bt) {
	case LDMS_V_CHAR:
	case LDMS_V_S8:
		v->s = (int8_t)p[0];
		break;
	case LDMS_V_U8:
		v->s = p[0];
		break;
	case LDMS_V_U16:
		v->s = get_le16(p);
		break;
	case LDMS_V_S16:
		v->s = (int16_t)get_le16(p);
		break;
	case LDMS_V_U32:
		v->s = get_le32(p);
		break;
	case LDMS_V_S32:
		v->s = (int32_t)get_le32(p);
		break;
	case LDMS_V_U64:
		v->kind = NUM_U;
		v->u = get_le64(p);
		break;
	case LDMS_V_S64:
		v->s = (int64_t)get_le64(p);
		break;
	case LDMS_V_F32: {
		uint32_t b = get_le32(p);
		float f;
		memcpy(&f, &b, 4);
		v->kind = NUM_D;
		v->d = f;
		break;
	}
	case LDMS_V_D64: {
		uint64_t b = get_le64(p);
		v->kind = NUM_D;
		memcpy(&v->d, &b, 8);
		break;
	}
	default:
		v->s = 0;
		break;
	}
}

static uint64_t num_u64(const struct num *v)
{
	return v->kind == NUM_U ? v->u : v->kind == NUM_S ? (uint64_t)v->s : dbl_to_u64(v->d);
}

static int64_t num_s64(const struct num *v)
{
	return v->kind == NUM_U ? (int64_t)v->u : v->kind == NUM_S ? v->s : dbl_to_s64(v->d);
}

static double num_dbl(const struct num *v)
{
	return v->kind == NUM_U ? (double)v->u : v->kind == NUM_S ? (double)v->s : v->d;
}

/* Element idx of metric i, or NULL when i/idx are out of range. */
static inline uint8_t *elem_ptr(ldms_set_t s, const struct set_mdesc *md, uint32_t idx)
{
	size_t es;

	if (!md || idx >= md->count || !md->vsize)
		return NULL;
	es = ldms_type_elem_size(md->type);
	return value_ptr(s, md) + (size_t)idx * es;
}

static void metric_store(ldms_set_t s, int i, uint32_t idx, const struct num *v)
{
	const struct set_mdesc *md = mdesc(s, i);
	uint8_t *p = elem_ptr(s, md, idx);

	if (!p)
		return;
	elem_put(p, base_type(md->type), v);
	gn_bump(s, md);
}

static void metric_load(ldms_set_t s, int i, uint32_t idx, struct num *v)
{
	const struct set_mdesc *md = mdesc(s, i);
	const uint8_t *p = elem_ptr(s, md, idx);

	if (!p) {
		v->kind = NUM_U;
		v->u = 0;
		return;
	}
	elem_get(p, base_type(md->type), v);
}

#define SETTER_U(fn, ctype)                                                                        \
	void ldms_metric_set_##fn(ldms_set_t s, int i, ctype v)                                    \
	{                                                                                          \
		struct num n = {.kind = NUM_U, .u = (uint64_t)v};                                  \
		metric_store(s, i, 0, &n);                                                         \
	}                                                                                          \
	void ldms_metric_array_set_##fn(ldms_set_t s, int i, uint32_t idx, ctype v)                \
	{                                                                                          \
		struct num n = {.kind = NUM_U, .u = (uint64_t)v};                                  \
		metric_store(s, i, idx, &n);                                                       \
	}
#define SETTER_S(fn, ctype)                                                                        \
	void ldms_metric_set_##fn(ldms_set_t s, int i, ctype v)                                    \
	{                                                                                          \
		struct num n = {.kind = NUM_S, .s = (int64_t)v};                                   \
		metric_store(s, i, 0, &n);                                                         \
	}                                                                                          \
	void ldms_metric_array_set_##fn(ldms_set_t s, int i, uint32_t idx, ctype v)                \
	{                                                                                          \
		struct num n = {.kind = NUM_S, .s = (int64_t)v};                                   \
		metric_store(s, i, idx, &n);                                                       \
	}
#define SETTER_D(fn, ctype)                                                                        \
	void ldms_metric_set_##fn(ldms_set_t s, int i, ctype v)                                    \
	{                                                                                          \
		struct num n = {.kind = NUM_D, .d = (double)v};                                    \
		metric_store(s, i, 0, &n);                                                         \
	}                                                                                          \
	void ldms_metric_array_set_##fn(ldms_set_t s, int i, uint32_t idx, ctype v)                \
	{                                                                                          \
		struct num n = {.kind = NUM_D, .d = (double)v};                                    \
		metric_store(s, i, idx, &n);                                                       \
	}

SETTER_U(u8, uint8_t)
SETTER_U(u16, uint16_t)
SETTER_U(u32, uint32_t)
SETTER_U(u64, uint64_t)
SETTER_S(s8, int8_t)
SETTER_S(s16, int16_t)
SETTER_S(s32, int32_t)
SETTER_S(s64, int64_t)
SETTER_D(float, float)
SETTER_D(double, double)

void ldms_metric_set_char(ldms_set_t s, int i, char v)
{
	struct num n = {.kind = NUM_U, .u = (uint8_t)v};
	metric_store(s, i, 0, &n);
}

#define GETTER(fn, ctype, conv)                                                                    \
	ctype ldms_metric_get_##fn(ldms_set_t s, int i)                                            \
	{                                                                                          \
		struct num n;                                                                      \
		metric_load(s, i, 0, &n);                                                          \
		return (ctype)conv(&n);                                                            \
	}

GETTER(u8, uint8_t, num_u64)
GETTER(u16, uint16_t, num_u64)
GETTER(u32, uint32_t, num_u64)
GETTER(u64, uint64_t, num_u64)
GETTER(s8, int8_t, num_s64)
GETTER(s16, int16_t, num_s64)
GETTER(s32, int32_t, num_s64)
GETTER(s64, int64_t, num_s64)
GETTER(double, double, num_dbl)

float ldms_metric_get_float(ldms_set_t s, int i)
{
	struct num n;
	metric_load(s, i, 0, &n);
	return dbl_to_f32(num_dbl(&n));
}

char ldms_metric_get_char(ldms_set_t s, int i)
{
	struct num n;
	metric_load(s, i, 0, &n);
	return (char)(uint8_t)num_u64(&n);
}

uint64_t ldms_metric_array_get_as_u64(ldms_set_t s, int i, uint32_t idx)
{
	struct num n;
	metric_load(s, i, idx, &n);
	return num_u64(&n);
}

int64_t ldms_metric_array_get_as_s64(ldms_set_t s, int i, uint32_t idx)
{
	struct num n;
	metric_load(s, i, idx, &n);
	return num_s64(&n);
}

double ldms_metric_array_get_as_double(ldms_set_t s, int i, uint32_t idx)
{
	struct num n;
	metric_load(s, i, idx, &n);
	return num_dbl(&n);
}

void ldms_metric_array_set_str(ldms_set_t s, int i, const char *str)
{
	const struct set_mdesc *md = mdesc(s, i);
	uint8_t *p;
	size_t n;

	if (!md || md->type != LDMS_V_CHAR_ARRAY || !md->count || !str)
		return;
	p = value_ptr(s, md);
	n = strnlen(str, md->count - 1);
	memcpy(p, str, n);
	memset(p + n, 0, md->count - n);
	gn_bump(s, md);
}

/* A char array without a NUL (written element by element, or by a peer) is
 * returned as a bounded copy in a per-thread buffer. */
static pthread_key_t str_key;
static pthread_once_t str_key_once = PTHREAD_ONCE_INIT;

static void str_key_init(void)
{
	pthread_key_create(&str_key, free);
}

const char *ldms_metric_array_get_str(ldms_set_t s, int i)
{
	const struct set_mdesc *md = mdesc(s, i);
	const char *p;
	char *buf;

	if (!md || md->type != LDMS_V_CHAR_ARRAY || !md->vsize)
		return NULL;
	p = (const char *)value_ptr(s, md);
	/* A mirror's bytes are rewritten by the next update at any time: the NUL
	 * seen here may be gone when the caller reads, so never hand out a
	 * pointer into remote memory. */
	if (!s->remote && memchr(p, 0, md->count))
		return p;
	pthread_once(&str_key_once, str_key_init);
	buf = pthread_getspecific(str_key);
	free(buf);
	buf = malloc((size_t)md->count + 1);
	pthread_setspecific(str_key, buf);
	if (!buf)
		return "";
	memcpy(buf, p, md->count);
	buf[md->count] = '\0';
	return buf;
}
