/* Cluster YAML reader: libfyaml events -> a tree of located, reference-counted nodes with
 * every scalar kept as text (PyYAML BaseLoader semantics, maestro.md §3.1), aliases shared,
 * merge keys applied (PyYAML order), plus the located error helpers used by all of maestro. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "cluster_yaml.h"

/* ---- errors --------------------------------------------------------------------------- */

static int err_vset(struct ldms_err *e, int rc, const char *file, int line, int col,
		    const char *fmt, va_list ap)
{
	if (!e)
		return rc;
	e->rc = rc;
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return rc;
}

int cy_err_set(struct ldms_err *e, int rc, const char *file, int line, int col, const char *fmt,
	       ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, rc, file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int cy_err_node(struct ldms_err *e, int rc, const char *file, const struct cy_node *n,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, rc, file, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
	return rc;
}

const char *cy_err_format(const struct ldms_err *e, char *buf, size_t len)
{
	if (e->file[0] && e->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	else if (e->file[0])
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	else
		snprintf(buf, len, "%s", e->msg);
	return buf;
}

/* ---- nodes ---------------------------------------------------------------------------- */

static struct cy_node *node_new(enum cy_type t, int line, int col)
{
	struct cy_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->type = t;
	n->line = line;
	n->col = col;
	n->refs = 1;
	n->xsize = 1;
	return n;
}

struct cy_node *cy_ref(struct cy_node *n)
{
	if (n)
		n->refs++;
	return n;
}

void cy_unref(struct cy_node *n)
{
	if (!n || --n->refs)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			cy_unref(n->keys[i]);
		cy_unref(n->vals[i]);
	}
	free(n->keys);
	free(n->vals);
	free(n->str);
	free(n);
}

struct cy_node *cy_scalar_new(const char *s, int line, int col)
{
	struct cy_node *n = node_new(CY_SCALAR, line, col);
	if (n && !(n->str = strdup(s))) {
		free(n);
		return NULL;
	}
	return n;
}

struct cy_node *cy_map_new(int line, int col)
{
	return node_new(CY_MAP, line, col);
}

struct cy_node *cy_seq_new(int line, int col)
{
	return node_new(CY_SEQ, line, col);
}

static size_t xadd(size_t a, size_t b)
{
	size_t s = a + b;
	return (s < a || s > CY_MAX_EXPANDED) ? CY_MAX_EXPANDED + 1 : s;
}

static int grow(struct cy_node *n, int with_keys)
{
	if (n->n < n->cap)
		return 0;
	size_t ncap = n->cap ? n->cap * 2 : 4;
	struct cy_node **v = realloc(n->vals, ncap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n->vals = v;
	if (with_keys) {
		struct cy_node **k = realloc(n->keys, ncap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		n->keys = k;
	}
	n->cap = ncap;
	return 0;
}

int cy_map_set(struct cy_node *map, struct cy_node *key, struct cy_node *val)
{
	if (!map || !key || !val || map->type != CY_MAP || key->type != CY_SCALAR) {
		cy_unref(key);
		cy_unref(val);
		return -EINVAL;
	}
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->str, key->str) == 0) {
			if (map->xsize <= CY_MAX_EXPANDED)
				map->xsize -= map->vals[i]->xsize;
			cy_unref(map->vals[i]);
			map->vals[i] = val;
			map->xsize = xadd(map->xsize, val->xsize);
			cy_unref(key);
			return 0;
		}
	}
	if (grow(map, 1)) {
		cy_unref(key);
		cy_unref(val);
		return -ENOMEM;
	}
	map->keys[map->n] = key;
	map->vals[map->n] = val;
	map->n++;
	map->xsize = xadd(map->xsize, xadd(key->xsize, val->xsize));
	return 0;
}

int cy_map_set_str(struct cy_node *map, const char *key, struct cy_node *val)
{
	struct cy_node *k = cy_scalar_new(key, val ? val->line : 0, val ? val->col : 0);
	if (!k) {
		cy_unref(val);
		return -ENOMEM;
	}
	return cy_map_set(map, k, val);
}

int cy_seq_append(struct cy_node *seq, struct cy_node *item)
{
	if (!seq || !item || seq->type != CY_SEQ || grow(seq, 0)) {
		cy_unref(item);
		return seq && item && seq->type == CY_SEQ ? -ENOMEM : -EINVAL;
	}
	seq->vals[seq->n++] = item;
	seq->xsize = xadd(seq->xsize, item->xsize);
	return 0;
}

struct cy_node *cy_map_copy(const struct cy_node *map)
{
	if (!map || map->type != CY_MAP)
		return NULL;
	struct cy_node *c = cy_map_new(map->line, map->col);
	if (!c)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		if (cy_map_set(c, cy_ref(map->keys[i]), cy_ref(map->vals[i]))) {
			cy_unref(c);
			return NULL;
		}
	}
	return c;
}

void cy_map_remove(struct cy_node *map, const char *key)
{
	if (!map || map->type != CY_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->str, key) == 0) {
			cy_unref(map->keys[i]);
			cy_unref(map->vals[i]);
			memmove(map->keys + i, map->keys + i + 1,
				(map->n - i - 1) * sizeof(void *));
			memmove(map->vals + i, map->vals + i + 1,
				(map->n - i - 1) * sizeof(void *));
			map->n--;
			return;
		}
	}
}

struct cy_node *cy_map_key_node(const struct cy_node *map, const char *key)
{
	if (!map || map->type != CY_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->str, key) == 0)
			return map->keys[i];
	return NULL;
}

struct cy_node *cy_map_get(const struct cy_node *map, const char *key)
{
	if (!map || map->type != CY_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->str, key) == 0)
			return map->vals[i];
	return NULL;
}

const char *cy_str(const struct cy_node *n)
{
	return n && n->type == CY_SCALAR ? n->str : NULL;
}

int cy_is_map(const struct cy_node *n)
{
	return n && n->type == CY_MAP;
}

int cy_is_seq(const struct cy_node *n)
{
	return n && n->type == CY_SEQ;
}

const char *cy_type_name(const struct cy_node *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case CY_SCALAR:
		return "a scalar";
	case CY_MAP:
		return "a mapping";
	case CY_SEQ:
		return "a list";
	}
	return "?";
}

int cy_equal(const struct cy_node *a, const struct cy_node *b)
{
	if (a == b)
		return 1;
	if (!a || !b || a->type != b->type || a->n != b->n)
		return 0;
	if (a->type == CY_SCALAR)
		return strcmp(a->str, b->str) == 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->type == CY_MAP && strcmp(a->keys[i]->str, b->keys[i]->str) != 0)
			return 0;
		if (!cy_equal(a->vals[i], b->vals[i]))
			return 0;
	}
	return 1;
}

void cy_doc_free(struct cy_doc *d)
{
	if (!d)
		return;
	cy_unref(d->root);
	free(d->file);
	free(d);
}

/* ---- event -> tree ---------------------------------------------------------------------- */

struct raw_pair {
	struct cy_node *key, *val;
	int merge; /* plain "<<" key */
};

struct frame {
	struct cy_node *node;	/* the collection being built (sequences get items directly) */
	struct raw_pair *pairs; /* maps: pairs as written, merged at the end */
	size_t np, cap;
	struct cy_node *pending_key;
	int pending_merge;
	int anchor; /* index in the anchor table, or -1 */
};

struct anchor {
	char *name;
	struct cy_node *node;
	int open;
};

struct builder {
	const char *file;
	struct ldms_err *err;
	struct frame *st;
	size_t depth, cap;
	struct anchor *an;
	size_t nan, capan;
	struct cy_node *root;
	int docs;
};

static int b_err(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int b_err(struct builder *b, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(b->err, -EINVAL, b->file, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A token's text as a new string. (libfyaml 0.7 leaks the buffer it builds for a single-
 * quoted scalar with many '' escapes; its token iterator garbles escapes, so the text call
 * it is. The fuzz target suppresses that one leak.) */
static char *tok_copy(struct fy_token *t, size_t *lenp)
{
	size_t len = 0;
	const char *s = t ? fy_token_get_text(t, &len) : NULL;
	if (!s)
		len = 0;
	char *r = malloc(len + 1);
	if (!r)
		return NULL;
	if (len)
		memcpy(r, s, len);
	r[len] = '\0';
	if (lenp)
		*lenp = len;
	return r;
}

static char *tok_text(struct fy_token *t)
{
	return tok_copy(t, NULL);
}

static int anchor_define(struct builder *b, struct fy_token *t, struct cy_node *n)
{
	if (!t)
		return -1;
	if (b->nan == b->capan) {
		size_t nc = b->capan ? b->capan * 2 : 16;
		struct anchor *na = realloc(b->an, nc * sizeof(*na));
		if (!na)
			return -2;
		b->an = na;
		b->capan = nc;
	}
	char *name = tok_text(t);
	if (!name)
		return -2;
	b->an[b->nan].name = name;
	b->an[b->nan].node = cy_ref(n);
	b->an[b->nan].open = n->type != CY_SCALAR;
	return (int)b->nan++;
}

static int add_node(struct builder *b, struct cy_node *n, int key_plain_merge)
{
	if (n->xsize > CY_MAX_EXPANDED) {
		int l = n->line, c = n->col;
		cy_unref(n);
		return b_err(b, l, c, "document too large after alias expansion");
	}
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	struct frame *f = &b->st[b->depth - 1];
	if (f->node->type == CY_SEQ)
		return cy_seq_append(f->node, n);
	if (!f->pending_key) {
		if (n->type != CY_SCALAR) {
			int l = n->line, c = n->col, map = n->type == CY_MAP;
			cy_unref(n);
			return b_err(b, l, c, "mapping keys must be scalars, found %s",
				     map ? "a mapping" : "a list");
		}
		f->pending_key = n;
		f->pending_merge = key_plain_merge;
		return 0;
	}
	if (f->np == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 8;
		struct raw_pair *np = realloc(f->pairs, nc * sizeof(*np));
		if (!np) {
			cy_unref(n);
			return -ENOMEM;
		}
		f->pairs = np;
		f->cap = nc;
	}
	f->pairs[f->np].key = f->pending_key;
	f->pairs[f->np].val = n;
	f->pairs[f->np].merge = f->pending_merge;
	f->np++;
	f->pending_key = NULL;
	return 0;
}

static int push_frame(struct builder *b, struct cy_node *n, struct fy_token *anchor)
{
	if (b->depth == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 16;
		struct frame *ns = realloc(b->st, nc * sizeof(*ns));
		if (!ns) {
			cy_unref(n);
			return -ENOMEM;
		}
		b->st = ns;
		b->cap = nc;
	}
	struct frame *f = &b->st[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = anchor_define(b, anchor, n);
	return f->anchor == -2 ? -ENOMEM : 0;
}

static void frame_clear(struct frame *f)
{
	for (size_t i = 0; i < f->np; i++) {
		cy_unref(f->pairs[i].key);
		cy_unref(f->pairs[i].val);
	}
	free(f->pairs);
	cy_unref(f->pending_key);
	cy_unref(f->node);
	memset(f, 0, sizeof(*f));
}

static int merge_from(struct cy_node *dst, const struct cy_node *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int rc = cy_map_set(dst, cy_ref(src->keys[i]), cy_ref(src->vals[i]));
		if (rc)
			return rc;
	}
	return 0;
}

/* PyYAML's flatten_mapping: merged pairs first (a list of merges in reverse order), then
 * the explicit pairs; later duplicates replace the value at the first position. */
static int finish_map(struct builder *b, struct frame *f)
{
	struct cy_node *m = f->node;
	int rc = 0;
	for (size_t i = 0; i < f->np && !rc; i++) {
		if (!f->pairs[i].merge)
			continue;
		struct cy_node *v = f->pairs[i].val;
		if (v->type == CY_MAP) {
			rc = merge_from(m, v);
		} else if (v->type == CY_SEQ) {
			for (size_t j = 0; j < v->n; j++)
				if (v->vals[j]->type != CY_MAP)
					return b_err(b, v->vals[j]->line, v->vals[j]->col,
						     "merge key \"<<\" expects mappings, found %s",
						     cy_type_name(v->vals[j]));
			for (size_t j = v->n; j-- > 0 && !rc;)
				rc = merge_from(m, v->vals[j]);
		} else {
			return b_err(b, v->line, v->col,
				     "merge key \"<<\" expects a mapping or a list of mappings");
		}
	}
	for (size_t i = 0; i < f->np && !rc; i++) {
		if (f->pairs[i].merge)
			continue;
		rc = cy_map_set(m, cy_ref(f->pairs[i].key), cy_ref(f->pairs[i].val));
	}
	return rc;
}

static int on_event(struct builder *b, struct fy_event *ev)
{
	const struct fy_mark *mk = fy_event_start_mark(ev);
	int line = mk ? mk->line + 1 : 0, col = mk ? mk->column + 1 : 0;
	struct cy_node *n;
	int rc;

	switch (ev->type) {
	case FYET_DOCUMENT_START:
		if (++b->docs > 1)
			return b_err(b, line, col,
				     "expected a single document in the stream, found another");
		return 0;
	case FYET_SCALAR: {
		size_t len = 0;
		char *s = tok_copy(ev->scalar.value, &len);
		if (!s)
			return -ENOMEM;
		if (memchr(s, '\0', len)) {
			free(s);
			return b_err(b, line, col, "NUL character in a scalar");
		}
		n = node_new(CY_SCALAR, line, col);
		if (!n) {
			free(s);
			return -ENOMEM;
		}
		n->str = s;
		int plain_merge = len == 2 && memcmp(s, "<<", 2) == 0 &&
				  fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN;
		if (anchor_define(b, ev->scalar.anchor, n) == -2) {
			cy_unref(n);
			return -ENOMEM;
		}
		return add_node(b, n, plain_merge);
	}
	case FYET_ALIAS: {
		char *name = tok_text(ev->alias.anchor);
		if (col > 1) /* libfyaml marks the name; PyYAML (and users) the '*' */
			col--;
		if (!name)
			return -ENOMEM;
		struct anchor *a = NULL;
		for (size_t i = b->nan; i-- > 0;)
			if (strcmp(b->an[i].name, name) == 0) {
				a = &b->an[i];
				break;
			}
		if (!a) {
			rc = b_err(b, line, col, "found undefined alias '%s'", name);
			free(name);
			return rc;
		}
		if (a->open) {
			rc = b_err(b, line, col, "recursive alias '%s' is not supported", name);
			free(name);
			return rc;
		}
		free(name);
		/* A scalar alias gets its own node at the alias, so errors about the value
		 * point where it is used; collections are shared (and bounded by xsize). */
		if (a->node->type == CY_SCALAR) {
			n = cy_scalar_new(a->node->str, line, col);
			return n ? add_node(b, n, 0) : -ENOMEM;
		}
		return add_node(b, cy_ref(a->node), 0);
	}
	case FYET_MAPPING_START:
	case FYET_SEQUENCE_START:
		n = node_new(ev->type == FYET_MAPPING_START ? CY_MAP : CY_SEQ, line, col);
		if (!n)
			return -ENOMEM;
		return push_frame(b, n,
				  ev->type == FYET_MAPPING_START ? ev->mapping_start.anchor
								 : ev->sequence_start.anchor);
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END: {
		struct frame *f = &b->st[b->depth - 1];
		if (f->node->type == CY_MAP && (rc = finish_map(b, f)))
			return rc;
		if (f->anchor >= 0)
			b->an[f->anchor].open = 0;
		n = f->node;
		f->node = NULL;
		frame_clear(f);
		b->depth--;
		return add_node(b, n, 0);
	}
	default:
		return 0;
	}
}

static void builder_free(struct builder *b)
{
	while (b->depth)
		frame_clear(&b->st[--b->depth]);
	free(b->st);
	for (size_t i = 0; i < b->nan; i++) {
		free(b->an[i].name);
		cy_unref(b->an[i].node);
	}
	free(b->an);
	cy_unref(b->root);
}

/* libfyaml reports through a diag object; keep the first error line it prints:
 * "<input>:LINE:COL: error: MESSAGE". */
struct diag_capture {
	char first[512];
	int have;
};

static void diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	struct diag_capture *c = user;
	if (c->have || !memmem(buf, len, ": error: ", 9))
		return;
	snprintf(c->first, sizeof(c->first), "%.*s", (int)len, buf);
	c->first[strcspn(c->first, "\n")] = '\0';
	c->have = 1;
}

static void parse_error(struct builder *b, const struct diag_capture *c)
{
	const char *e = c->have ? strstr(c->first, ": error: ") : NULL;
	int line = 0, col = 0;
	if (e) {
		/* walk back over ":LINE:COL" */
		const char *p = e;
		while (p > c->first && p[-1] >= '0' && p[-1] <= '9')
			p--;
		col = atoi(p);
		if (p > c->first && p[-1] == ':') {
			const char *q = p - 1;
			while (q > c->first && q[-1] >= '0' && q[-1] <= '9')
				q--;
			line = atoi(q);
		}
		b_err(b, line, col, "%s", e + 9);
		return;
	}
	b_err(b, 0, 0, "YAML syntax error");
}

/* What YAML forbids anyway and libfyaml 0.7 can loop forever on: NUL characters, bytes
 * that are not UTF-8, and directive lines other than %YAML and %TAG. */
static int precheck(const char *text, size_t len, const char *name, struct ldms_err *err)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	int line = 1, col = 1;
	while (p < end) {
		const char *what = NULL;
		size_t n = 1;
		if (col == 1 && *p == '%' &&
		    !((end - p > 6 && !memcmp(p, "%YAML ", 6)) ||
		      (end - p > 5 && !memcmp(p, "%TAG ", 5))))
			what = "unsupported YAML directive (only %YAML and %TAG)";
		else if (*p == 0)
			what = "NUL character in the input (not allowed in YAML)";
		else if (*p >= 0x80) {
			n = *p >= 0xf0 && *p <= 0xf4  ? 4
			    : *p >= 0xe0	      ? 3
			    : *p >= 0xc2 && *p < 0xe0 ? 2
						      : 0;
			if (!n || n > 4 || (size_t)(end - p) < n)
				n = 0;
			for (size_t k = 1; k < n; k++)
				if ((p[k] & 0xc0) != 0x80)
					n = 0;
			if (!n)
				what = "invalid UTF-8 in the input";
		}
		if (what)
			return cy_err_set(err, -EINVAL, name, line, col, "%s", what);
		if (*p == '\n' || *p == '\r') { /* YAML line breaks: LF, CR, CR LF */
			if (*p == '\r' && end - p > 1 && p[1] == '\n')
				n = 2;
			line++;
			col = 1;
		} else {
			col++;
		}
		p += n;
	}
	return 0;
}

int cy_load_string(const char *text, size_t len, const char *name, struct cy_doc **out,
		   struct ldms_err *err)
{
	*out = NULL;
	int rc = precheck(text, len, name, err);
	if (rc)
		return rc;
	struct diag_capture cap = {0};
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_out;
	dc.user = &cap;
	dc.colorize = false;
	dc.level = FYET_ERROR;
	struct fy_diag *diag = fy_diag_create(&dc);
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET, .diag = diag};
	struct builder b = {.file = name ? name : "", .err = err};
	struct fy_parser *fyp = diag ? fy_parser_create(&cfg) : NULL;
	if (!fyp) {
		fy_diag_destroy(diag);
		return cy_err_set(err, -ENOMEM, name, 0, 0, "out of memory");
	}
	if (fy_parser_set_string(fyp, text, len)) {
		fy_parser_destroy(fyp);
		fy_diag_destroy(diag);
		return cy_err_set(err, -ENOMEM, name, 0, 0, "out of memory");
	}
	struct fy_event *ev;
	while ((ev = fy_parser_parse(fyp))) {
		rc = on_event(&b, ev);
		fy_parser_event_free(fyp, ev);
		if (rc)
			break;
	}
	if (!rc && fy_parser_get_stream_error(fyp)) {
		parse_error(&b, &cap);
		rc = -EINVAL;
	}
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	if (rc == -ENOMEM)
		cy_err_set(err, rc, name, 0, 0, "out of memory");
	if (!rc) {
		struct cy_doc *d = calloc(1, sizeof(*d));
		if (!d || !(d->file = strdup(b.file))) {
			free(d);
			rc = cy_err_set(err, -ENOMEM, name, 0, 0, "out of memory");
		} else {
			d->root = b.root;
			b.root = NULL;
			*out = d;
		}
	}
	builder_free(&b);
	return rc;
}

int cy_load_file(const char *path, struct cy_doc **out, struct ldms_err *err)
{
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) {
		int e = errno;
		return cy_err_set(err, -e, path, 0, 0, "%s", strerror(e));
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (len < cap)
			break;
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int ferr = ferror(f);
	fclose(f);
	if (!buf)
		return cy_err_set(err, -ENOMEM, path, 0, 0, "out of memory");
	if (ferr) {
		free(buf);
		return cy_err_set(err, -EIO, path, 0, 0, "read error");
	}
	int rc = cy_load_string(buf, len, path, out, err);
	free(buf);
	return rc;
}

/* ---- the seed README's older schema (maestro.md §12 item 9) ------------------------------ */

/* Renames key `from` to `to` in place unless `to` is already there. */
static int rename_key(struct cy_node *map, const char *from, const char *to)
{
	if (!cy_is_map(map) || cy_map_get(map, to))
		return 0;
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->str, from) != 0)
			continue;
		struct cy_node *k = cy_scalar_new(to, map->keys[i]->line, map->keys[i]->col);
		if (!k)
			return -ENOMEM;
		cy_unref(map->keys[i]);
		map->keys[i] = k;
		return 0;
	}
	return 0;
}

/* Adds an inline plugin definition to the top-level `plugins` mapping under its plugin
 * name (a different definition under the same name gets "-2", "-3", ...). Returns the
 * instance name (malloc'ed) or NULL with err set. */
static char *add_inline_plugin(const char *file, struct cy_node *plugins, struct cy_node *p,
			       struct ldms_err *err)
{
	const char *name = cy_str(cy_map_get(p, "name"));
	if (!name) {
		cy_err_node(err, -EINVAL, file, p,
			    "The \"name\" attribute is required in an inline plugin definition");
		return NULL;
	}
	size_t len = strlen(name) + 16;
	char *key = malloc(len);
	if (!key)
		goto nomem;
	snprintf(key, len, "%s", name);
	for (int k = 2;; k++) {
		struct cy_node *have = cy_map_get(plugins, key);
		if (!have)
			break;
		if (cy_equal(have, p))
			return key;
		snprintf(key, len, "%s-%d", name, k);
	}
	if (cy_map_set_str(plugins, key, cy_ref(p))) {
		free(key);
		goto nomem;
	}
	return key;
nomem:
	cy_err_set(err, -ENOMEM, file, 0, 0, "out of memory");
	return NULL;
}

static struct cy_node *top_plugins(struct cy_node *root)
{
	struct cy_node *p = cy_map_get(root, "plugins");
	if (p)
		return cy_is_map(p) ? p : NULL;
	p = cy_map_new(0, 0);
	if (!p || cy_map_set_str(root, "plugins", p))
		return NULL;
	return p;
}

static int legacy_credits(struct cy_node *list_or_map)
{
	if (cy_is_map(list_or_map))
		return rename_key(list_or_map, "credits", "quota");
	if (!cy_is_seq(list_or_map))
		return 0;
	for (size_t i = 0; i < list_or_map->n; i++)
		if (rename_key(list_or_map->vals[i], "credits", "quota"))
			return -ENOMEM;
	return 0;
}

static int legacy_stores(const char *file, struct cy_node *root, struct ldms_err *err)
{
	struct cy_node *stores = cy_map_get(root, "stores");
	if (!cy_is_seq(stores))
		return 0;
	struct cy_node *plugins = top_plugins(root);
	struct cy_node *map = cy_map_new(stores->line, stores->col);
	if (!plugins || !map) {
		cy_unref(map);
		return plugins ? cy_err_set(err, -ENOMEM, file, 0, 0, "out of memory")
			       : cy_err_node(err, -EINVAL, file, cy_map_get(root, "plugins"),
					     "\"plugins\" must be a mapping of plugin instances");
	}
	for (size_t i = 0; i < stores->n; i++) {
		struct cy_node *it = stores->vals[i];
		const char *name = cy_str(cy_map_get(it, "name"));
		if (!cy_is_map(it) || !name) {
			cy_unref(map);
			return cy_err_node(
			    err, -EINVAL, file, it,
			    "The \"name\" attribute is required in a \"stores\" list "
			    "entry (older list form)");
		}
		struct cy_node *c = cy_map_copy(it);
		if (!c)
			goto nomem;
		cy_map_remove(c, "name");
		struct cy_node *pl = cy_map_get(c, "plugin");
		if (cy_is_map(pl)) {
			char *inst = add_inline_plugin(file, plugins, pl, err);
			struct cy_node *s = inst ? cy_scalar_new(inst, pl->line, pl->col) : NULL;
			free(inst);
			if (!s) {
				cy_unref(c);
				cy_unref(map);
				return err && err->rc ? err->rc : -ENOMEM;
			}
			if (cy_map_set_str(c, "plugin", s)) {
				cy_unref(c);
				goto nomem;
			}
		}
		struct cy_node *k = cy_scalar_new(name, it->line, it->col);
		if (!k || cy_map_set(map, k, c))
			goto nomem;
	}
	return cy_map_set_str(root, "stores", map);
nomem:
	cy_unref(map);
	return cy_err_set(err, -ENOMEM, file, 0, 0, "out of memory");
}

static int legacy_samplers(const char *file, struct cy_node *root, struct ldms_err *err)
{
	struct cy_node *smp = cy_map_get(root, "samplers");
	if (!cy_is_seq(smp))
		return 0;
	for (size_t i = 0; i < smp->n; i++) {
		struct cy_node *e = smp->vals[i];
		if (legacy_credits(cy_map_get(e, "advertise")))
			goto nomem;
		struct cy_node *pls = cy_map_get(e, "plugins");
		if (!cy_is_seq(pls))
			continue;
		for (size_t j = 0; j < pls->n; j++) {
			struct cy_node *p = pls->vals[j];
			if (!cy_is_map(p))
				continue;
			struct cy_node *plugins = top_plugins(root);
			if (!plugins)
				return cy_err_node(err, -EINVAL, file, cy_map_get(root, "plugins"),
						   "\"plugins\" must be a mapping of plugin "
						   "instances");
			char *inst = add_inline_plugin(file, plugins, p, err);
			if (!inst)
				return err && err->rc ? err->rc : -ENOMEM;
			struct cy_node *s = cy_scalar_new(inst, p->line, p->col);
			free(inst);
			if (!s)
				goto nomem;
			cy_unref(pls->vals[j]);
			pls->vals[j] = s;
		}
	}
	return 0;
nomem:
	return cy_err_set(err, -ENOMEM, file, 0, 0, "out of memory");
}

int cy_legacy_normalize(struct cy_doc *d, struct ldms_err *err)
{
	struct cy_node *root = d->root;
	if (!cy_is_map(root))
		return 0;
	int rc = legacy_stores(d->file, root, err);
	if (!rc)
		rc = legacy_samplers(d->file, root, err);
	if (rc)
		return rc;
	struct cy_node *aggs = cy_map_get(root, "aggregators");
	for (size_t i = 0; cy_is_seq(aggs) && i < aggs->n; i++) {
		struct cy_node *a = aggs->vals[i];
		struct cy_node *pl = cy_map_get(a, "prdcr_listen");
		if (legacy_credits(cy_map_get(a, "peers")) || legacy_credits(pl) ||
		    legacy_credits(cy_map_get(a, "advertise")))
			goto nomem;
		for (size_t j = 0; cy_is_seq(pl) && j < pl->n; j++)
			if (rename_key(pl->vals[j], "names", "name"))
				goto nomem;
	}
	return 0;
nomem:
	return cy_err_set(err, -ENOMEM, d->file, 0, 0, "out of memory");
}
