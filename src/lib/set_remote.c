/* Remote (mirror) sets: memory sized by a peer's lookup rendezvous and filled by
 * reads, and the validation of that untrusted meta section. Validation builds a
 * private descriptor table (names copied) from dict[] and the descriptors only,
 * so accessors never trust bytes that arrive later. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_set.h"
#include "set_priv.h"

#define REMOTE_ARRAY_CARD_MAX 65536
/* A peer changing its layout again and again would otherwise grow the table list. */
#define REMOTE_RETIRED_MAX 16

ldms_set_t ldms_set_new_remote(const char *instance, const char *schema, uint32_t meta_len,
			       uint32_t data_len, uint32_t array_card)
{
	uint64_t total;
	ldms_set_t s;

	if (!instance || !*instance || strlen(instance) >= LDMS_SET_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (meta_len < LDMS_SET_HDR_SIZE || data_len < LDMS_DATA_HDR_SIZE || array_card == 0 ||
	    array_card > REMOTE_ARRAY_CARD_MAX) {
		errno = EINVAL;
		return NULL;
	}
	total = (uint64_t)meta_len + (uint64_t)data_len * array_card;
	if (total > SET_MEM_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = set_alloc(instance, schema, (size_t)total, 1);
	if (!s)
		return NULL;
	s->meta_sz = meta_len;
	s->data_sz = data_len;
	s->array_card = array_card;
	return s;
}

/* Strings of an ldms_name {u8 len, bytes[len]} at off: 0 and *end set if the
 * whole entry lies in [0, lim) and holds a NUL-terminated, non-empty string. */
static int name_check(const uint8_t *m, uint32_t lim, uint32_t off, uint32_t *end, uint32_t *slen)
{
	uint32_t len;

	if (off >= lim)
		return -EPROTO;
	len = m[off];
	if (len == 0 || (uint64_t)off + 1 + len > lim)
		return -EPROTO;
	*slen = (uint32_t)strnlen((const char *)m + off + 1, len);
	if (*slen == 0 || *slen >= len)
		return -EPROTO;
	*end = off + 1 + len;
	return 0;
}

static int layout_equal(const struct set_layout *a, const struct set_layout *b)
{
	if (!a || !b || a->card != b->card || memcmp(a->digest, b->digest, LDMS_DIGEST_LEN))
		return 0;
	for (uint32_t i = 0; i < a->card; i++) {
		const struct set_mdesc *x = &a->md[i], *y = &b->md[i];
		if (x->desc_off != y->desc_off || x->val_off != y->val_off ||
		    x->count != y->count || x->vsize != y->vsize || x->type != y->type ||
		    x->flags != y->flags || strcmp(x->name, y->name) || strcmp(x->unit, y->unit))
			return 0;
	}
	return 1;
}

/* Validates one value descriptor and fills md (names as offsets into the string
 * buffer, fixed up by the caller once the buffer is complete). */
static int desc_check(const uint8_t *m, ldms_set_t s, uint32_t card, uint32_t d,
		      struct set_mdesc *md, uint32_t *nlen, uint32_t *ulen)
{
	uint32_t ml = s->meta_sz, dl = s->data_sz, nul, rest, vsize = 0, count;
	const char *name;
	uint8_t type, flags;
	uint64_t lo_meta = SH_DICT + 4ull * card;

	if (d < lo_meta || (uint64_t)d + VD_FIXED_LEN > ml)
		return -EPROTO;
	nul = m[d + VD_NAMELEN];
	if (nul < 2 || (uint64_t)d + VD_NAME + nul > ml)
		return -EPROTO;
	name = (const char *)m + d + VD_NAME;
	*nlen = (uint32_t)strnlen(name, nul);
	if (*nlen == 0 || *nlen >= nul)
		return -EPROTO;
	rest = nul - *nlen - 1;
	*ulen = rest ? (uint32_t)strnlen(name + *nlen + 1, rest) : 0;
	if (rest && *ulen >= rest)
		return -EPROTO;

	type = m[d + VD_TYPE];
	flags = m[d + VD_FLAGS];
	count = get_le32(m + d + VD_COUNT);
	if (type == LDMS_V_NONE || type > LDMS_V_LAST)
		return -EPROTO;
	if (!(flags & (LDMS_MDESC_F_DATA | LDMS_MDESC_F_META)))
		return -EPROTO;
	if (ldms_type_elem_size(type)) {
		if (!ldms_type_is_array(type))
			count = 1;
		if (set_value_size(type, count, &vsize))
			return -EPROTO;
	} else {
		/* lists and records: known types without value accessors */
		count = 0;
	}
	md->desc_off = d;
	md->val_off = get_le32(m + d + VD_OFFSET);
	md->count = count;
	md->vsize = vsize;
	md->type = type;
	md->flags = flags & (LDMS_MDESC_F_DATA | LDMS_MDESC_F_META | LDMS_MDESC_F_RECORD);
	if (flags & LDMS_MDESC_F_DATA) {
		if (md->val_off < LDMS_DATA_HDR_SIZE || (uint64_t)md->val_off + vsize > dl ||
		    md->val_off >= dl)
			return -EPROTO;
		md->flags &= (uint8_t)~LDMS_MDESC_F_META;
	} else {
		if (md->val_off < lo_meta || (uint64_t)md->val_off + vsize > ml ||
		    md->val_off >= ml)
			return -EPROTO;
	}
	return 0;
}

int ldms_set_remote_validate(ldms_set_t s)
{
	const uint8_t *m;
	uint32_t card, off, end, slen, strs_len = 0, p;
	struct set_layout *l, *cur;
	uint32_t *lens = NULL;
	int rc = -EPROTO;

	if (!s)
		return -EINVAL;
	if (!s->remote)
		return 0;
	m = s->mem;
	if (get_le32(m + SH_META_SZ) != s->meta_sz || get_le32(m + SH_DATA_SZ) != s->data_sz ||
	    get_le32(m + SH_ARRAY_CARD) != s->array_card)
		return -EPROTO;
	if (m[SH_FLAGS] != SH_FLAG_LE) /* only little-endian producers are understood */
		return -EPROTO;
	if (get_le32(m + SH_HEAP_SZ) > s->data_sz - LDMS_DATA_HDR_SIZE)
		return -EPROTO;
	card = get_le32(m + SH_CARD);
	if (card > (s->meta_sz - SH_DICT) / 4)
		return -EPROTO;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->card = card;
	l->md = calloc(card ? card : 1, sizeof(*l->md));
	lens = calloc(card ? card : 1, 2 * sizeof(uint32_t));
	if (!l->md || !lens) {
		rc = -ENOMEM;
		goto err;
	}

	/* Instance name (len = strlen + 1), then schema name, whose entry also holds
	 * the digest (len = strlen + 1 + 32 + 1; older producers: no digest). Both
	 * must be the names the rendezvous announced. */
	off = SH_DICT + 4 * card;
	if (name_check(m, s->meta_sz, off, &end, &slen) || m[off] != slen + 1 ||
	    strcmp((const char *)m + off + 1, s->inst_name))
		goto err;
	off = end;
	if (name_check(m, s->meta_sz, off, &end, &slen))
		goto err;
	if (m[off] != slen + 1 && m[off] != slen + 1 + LDMS_DIGEST_LEN &&
	    m[off] != slen + 1 + LDMS_DIGEST_LEN + 1)
		goto err;
	if (s->schema_name[0] && strcmp((const char *)m + off + 1, s->schema_name))
		goto err;
	if (m[off] > slen + 1)
		memcpy(l->digest, m + off + 1 + slen + 1, LDMS_DIGEST_LEN);

	for (uint32_t i = 0; i < card; i++) {
		uint32_t d = get_le32(m + SH_DICT + 4 * i);
		if (desc_check(m, s, card, d, &l->md[i], &lens[2 * i], &lens[2 * i + 1]))
			goto err;
		strs_len += lens[2 * i] + lens[2 * i + 1] + 2;
	}
	l->strs = malloc(strs_len ? strs_len : 1);
	if (!l->strs) {
		rc = -ENOMEM;
		goto err;
	}
	for (uint32_t i = 0, p0 = 0; i < card; i++) {
		const char *src = (const char *)m + l->md[i].desc_off + VD_NAME;
		uint32_t nl = lens[2 * i], ul = lens[2 * i + 1];
		p = p0;
		memcpy(l->strs + p, src, nl);
		l->strs[p + nl] = '\0';
		l->md[i].name = l->strs + p;
		p += nl + 1;
		memcpy(l->strs + p, src + nl + 1, ul);
		l->strs[p + ul] = '\0';
		l->md[i].unit = l->strs + p;
		p0 = p + ul + 1;
	}
	free(lens);
	lens = NULL;
	if (set_layout_hash_build(l)) {
		rc = -ENOMEM;
		goto err;
	}

	pthread_mutex_lock(&s->info_lock);
	memset(s->producer, 0, sizeof(s->producer));
	memcpy(s->producer, m + SH_PRODUCER,
	       strnlen((const char *)m + SH_PRODUCER, LDMS_PRODUCER_NAME_MAX - 1));
	cur = s->layout;
	if (layout_equal(cur, l)) {
		pthread_mutex_unlock(&s->info_lock);
		set_layout_free(l);
		return 0;
	}
	if (cur && s->n_retired >= REMOTE_RETIRED_MAX) {
		pthread_mutex_unlock(&s->info_lock);
		set_layout_free(l);
		return -EPROTO;
	}
	/* Readers on other threads may still hold the old table: keep it until the
	 * set is freed. */
	l->retired = cur;
	if (cur)
		s->n_retired++;
	__atomic_store_n(&s->layout, l, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->info_lock);
	return 0;
err:
	free(lens);
	set_layout_free(l);
	return rc;
}
