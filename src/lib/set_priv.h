/* Private structures of the set model (set*.c): byte offsets of upstream's set
 * memory layout (ldms-protocol.md §4.3), the per-set descriptor cache that makes
 * metric access O(1), and little-endian load/store helpers for set memory. */
#ifndef LDMS_SET_PRIV_H
#define LDMS_SET_PRIV_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ldms/ldms_set.h"

/* ldms_set_hdr */
#define SH_PRODUCER   0
#define SH_META_GN    64
#define SH_VERSION    72
#define SH_FLAGS      76
#define SH_CARD	      80
#define SH_META_SZ    84
#define SH_DATA_SZ    88
#define SH_UID	      92
#define SH_GID	      96
#define SH_PERM	      100
#define SH_ARRAY_CARD 104
#define SH_HEAP_SZ    108
#define SH_DICT	      140
#define SH_FLAG_LE    2

/* ldms_data_hdr */
#define DH_TS	    0
#define DH_DUR	    8
#define DH_FLAGS    16
#define DH_SET_OFF  20
#define DH_GN	    24
#define DH_SIZE	    32
#define DH_META_GN  40
#define DH_CURR_IDX 48

/* ldms_value_desc (packed) */
#define VD_UDATA     0
#define VD_OFFSET    8
#define VD_COUNT     12
#define VD_TYPE	     24
#define VD_FLAGS     25
#define VD_NAMELEN   26
#define VD_NAME	     27
#define VD_FIXED_LEN 28

#define SET_ROUNDUP8(x) (((x) + 7u) & ~(size_t)7u)
/* Upper bound on one set's memory (also what a peer's rendezvous may ask for). */
#define SET_MEM_MAX (1u << 30)

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
}
static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* One metric as the accessors need it. val_off is from the set start for META
 * metrics and from the data-section start for DATA metrics. */
struct set_mdesc {
	const char *name;
	const char *unit;
	uint32_t desc_off;
	uint32_t val_off;
	uint32_t count; /* elements (1 for scalars) */
	uint32_t vsize; /* value bytes; 0 for types without accessors (lists, records) */
	uint8_t type;
	uint8_t flags;
};

/* Descriptor table of a set. Local sets build it once at creation (names point
 * into the set's own memory); remote sets rebuild it at each validation with
 * private copies of the names, so a later overwrite of the meta section by the
 * peer can never make an accessor read out of bounds. */
struct set_layout {
	uint32_t card;
	struct set_mdesc *md;
	uint32_t *hidx; /* open addressing: metric index + 1, 0 = empty */
	uint32_t hmask;
	char *strs;		    /* owned name/unit copies (remote) */
	struct set_layout *retired; /* older tables kept until the set is freed */
	uint8_t digest[LDMS_DIGEST_LEN];
};

struct set_kv {
	char *key;
	char *value;
	struct set_kv *next;
};

struct ldms_set {
	int refcount; /* atomic */
	int remote;
	int published; /* atomic; changed under the registry lock */
	uint8_t *mem;
	size_t mem_sz;
	uint32_t meta_sz;
	uint32_t data_sz;
	uint32_t array_card;
	uint32_t curr_idx; /* local sets */
	char *inst_name;
	char *schema_name;
	char producer[LDMS_PRODUCER_NAME_MAX]; /* remote: validated copy */
	struct set_layout *layout;	       /* atomic pointer */
	int n_retired;
	pthread_mutex_t lock;	   /* ldms_set_lock() */
	pthread_mutex_t info_lock; /* info lists, layout swap */
	struct set_kv *info_local;
	struct set_kv *info_remote;
	void *xprt_ctx;
	void *app_ctx;
	void *push_ctx; /* atomic: the transport's push peers (xprt_push.c), NULL if none */
};

/* set.c */
struct set_layout *set_layout_get(ldms_set_t s);
void set_layout_free(struct set_layout *l);
int set_layout_hash_build(struct set_layout *l);
void set_digest_compute(const struct set_mdesc *md, uint32_t card, uint8_t out[LDMS_DIGEST_LEN]);
ldms_set_t set_alloc(const char *instance, const char *schema, size_t mem_sz, int remote);
int set_value_size(uint8_t type, uint32_t count, uint32_t *vsize);

/* set_metric.c */
uint8_t *set_data_section(ldms_set_t s, uint32_t idx);
/* Called by ldms_transaction_end() for sets with push_ctx (installed by the
 * transport; keeps the set model free of transport code). */
extern void (*set_push_hook)(ldms_set_t s);
uint32_t set_curr_idx(ldms_set_t s);

/* set_registry.c */
void set_notify(ldms_set_t s, enum ldms_set_event ev);
int set_registry_has(const char *instance);
void set_info_free_all(ldms_set_t s);
size_t set_live_count(void);

#endif
