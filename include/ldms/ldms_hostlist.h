/* Hostlist expressions ("node-[1-10,12]-ib") as python-hostlist 1.20 expands them
 * (maestro.md §3.5): used by maestro for daemon/host/endpoint names and by tools. */
#ifndef LDMS_HOSTLIST_H
#define LDMS_HOSTLIST_H

#include <stddef.h>

/* python-hostlist's limits: a range may span at most this much (HI-LO), and one
 * comma-separated part may expand to at most this many names. */
#define LDMS_HOSTLIST_MAX_SIZE 100000
/* ldms-c's own bound on a whole expression (upstream has none): "results too large". */
#define LDMS_HOSTLIST_MAX_TOTAL 1000000

struct ldms_hostlist {
	size_t count;
	char **names; /* each malloc'ed; freed by ldms_hostlist_free() */
	size_t cap;
};

void ldms_hostlist_init(struct ldms_hostlist *hl);
void ldms_hostlist_free(struct ldms_hostlist *hl);

/* Expands expr and APPENDS the names to hl in expansion order, duplicates within expr
 * removed (first occurrence kept). An empty expr adds nothing. On error returns -EINVAL
 * (-ENOMEM) and sets *errmsg to upstream's condition text: "nested brackets",
 * "unbalanced brackets", "bad range", "start > stop", "range too large",
 * "results too large"; hl is then left as it was. */
int ldms_hostlist_expand(const char *expr, struct ldms_hostlist *hl, const char **errmsg);
/* The same with a caller's bound on the names of expr ("results too large" beyond it). */
int ldms_hostlist_expand_max(const char *expr, struct ldms_hostlist *hl, size_t max_total,
			     const char **errmsg);

/* Byte order (Python's sort of str), stable. */
void ldms_hostlist_sort(struct ldms_hostlist *hl);
/* python-hostlist's numerically_sorted(): digit runs compare as numbers, stable. */
void ldms_hostlist_sort_numeric(struct ldms_hostlist *hl);
/* The comparison behind ldms_hostlist_sort_numeric() (<0, 0, >0). */
int ldms_hostlist_numeric_cmp(const char *a, const char *b);

/* Index of name in a byte-sorted list, or -1. */
long ldms_hostlist_find_sorted(const struct ldms_hostlist *hl, const char *name);

#endif
