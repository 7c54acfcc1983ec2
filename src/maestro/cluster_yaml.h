/* The cluster YAML as a tree of located nodes (maestro.md §3.1, §4, §12): every scalar is
 * kept as its source text (as maestro_ctrl's BaseLoader does), anchors/aliases are shared
 * nodes, merge keys are applied, and every node knows its line and column for errors. */
#ifndef MAESTRO_CLUSTER_YAML_H
#define MAESTRO_CLUSTER_YAML_H

#include <stdarg.h>
#include <stddef.h>

#include "ldms/ldms_util.h"

enum cy_type {
	CY_SCALAR,
	CY_MAP,
	CY_SEQ,
};

struct cy_node {
	enum cy_type type;
	int line, col; /* 1-based; 0 when the node did not come from a file */
	unsigned refs;
	char *str; /* CY_SCALAR: NUL-terminated text */
	size_t n;  /* CY_MAP: pairs, CY_SEQ: items */
	size_t cap;
	struct cy_node **keys; /* CY_MAP: scalar key nodes */
	struct cy_node **vals; /* CY_MAP: values, CY_SEQ: items */
	size_t xsize;	       /* nodes below, aliases counted in full (bounds expansion) */
};

struct cy_doc {
	struct cy_node *root; /* NULL for an empty document */
	char *file;
};

/* Bound on a document's size after alias expansion (billion-laughs guard). */
#define CY_MAX_EXPANDED 20000000

/* Parse a file/buffer. Errors: -ENOENT etc. for the file, -EINVAL for YAML syntax, an
 * undefined or recursive alias, a second document, a non-scalar mapping key. */
int cy_load_file(const char *path, struct cy_doc **out, struct ldms_err *err);
int cy_load_string(const char *text, size_t len, const char *name, struct cy_doc **out,
		   struct ldms_err *err);
void cy_doc_free(struct cy_doc *d);

/* Nodes are reference counted: an alias is the anchored node itself. */
struct cy_node *cy_ref(struct cy_node *n);
void cy_unref(struct cy_node *n);
struct cy_node *cy_scalar_new(const char *s, int line, int col);
struct cy_node *cy_map_new(int line, int col);
struct cy_node *cy_seq_new(int line, int col);
/* Both take over one reference of key/val (also on failure). A key already present keeps
 * its position and gets the new value (PyYAML: the last duplicate wins). */
int cy_map_set(struct cy_node *map, struct cy_node *key, struct cy_node *val);
int cy_map_set_str(struct cy_node *map, const char *key, struct cy_node *val);
int cy_seq_append(struct cy_node *seq, struct cy_node *item);
/* A new map with the same pairs (referenced), so it can be changed without touching the
 * shared original. */
struct cy_node *cy_map_copy(const struct cy_node *map);
void cy_map_remove(struct cy_node *map, const char *key);

/* Borrowed lookups. cy_map_get() returns NULL when map is not a map or has no key. */
struct cy_node *cy_map_get(const struct cy_node *map, const char *key);
struct cy_node *cy_map_key_node(const struct cy_node *map, const char *key);
/* Scalar text, or NULL for a missing or non-scalar node. */
const char *cy_str(const struct cy_node *n);
int cy_is_map(const struct cy_node *n);
int cy_is_seq(const struct cy_node *n);
int cy_equal(const struct cy_node *a, const struct cy_node *b);
const char *cy_type_name(const struct cy_node *n);

/* Located errors and warnings, "FILE:LINE:COL: message". */
int cy_err_set(struct ldms_err *e, int rc, const char *file, int line, int col, const char *fmt,
	       ...) __attribute__((format(printf, 6, 7)));
int cy_err_node(struct ldms_err *e, int rc, const char *file, const struct cy_node *n,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const char *cy_err_format(const struct ldms_err *e, char *buf, size_t len);

/* Rewrites the seed README's older schema items that need no model knowledge into the
 * current schema (maestro.md §12 item 9): list-form `stores` with inline plugins,
 * inline plugin definitions under `samplers`, `credits` -> `quota`, prdcr_listen `names`
 * -> `name`. Peers without `daemons` and list-form `advertise` need the daemons and are
 * translated by the model builder. */
int cy_legacy_normalize(struct cy_doc *d, struct ldms_err *err);

#endif
