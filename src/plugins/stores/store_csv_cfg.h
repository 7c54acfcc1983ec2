/* store_csv configuration: attribute table and value checks, config sources (the
 * defaults line, per container/schema lines, opt_file lines) and their lookup order,
 * and resolution into the options one store uses (ldms-protocol.md §5.2).
 * Header-only helper of store_csv.c (CMake builds one module per .c file). */
#ifndef STORE_CSV_CFG_H
#define STORE_CSV_CFG_H

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldmsd/ldmsd_plugin.h>

#define CSV_MIN_ROLL_SECS    10
#define CSV_MIN_ROLL_RECORDS 3
#define CSV_MIN_ROLL_BYTES   1024

/* Where an attribute may appear. */
#define CSV_W_DEF 1 /* the defaults line (config line or opt_file "store_csv" line) */
#define CSV_W_KEY 2 /* a container=/schema= line */
#define CSV_W_CMD 4 /* only on the ldmsd config line, not inside opt_file */

enum csv_akind { CSV_A_STR, CSV_A_BOOL, CSV_A_INT, CSV_A_OCTAL, CSV_A_UID, CSV_A_GID, CSV_A_CHAR };

struct csv_attr_def {
	const char *name;
	enum csv_akind kind;
	int where;
	long min, max; /* CSV_A_INT range; CSV_A_STR minimum length */
};

static const struct csv_attr_def csv_attr_defs[] = {
    {"path", CSV_A_STR, CSV_W_DEF | CSV_W_KEY, 1, 0},
    {"altheader", CSV_A_BOOL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"typeheader", CSV_A_INT, CSV_W_DEF | CSV_W_KEY, 0, 2},
    {"time_format", CSV_A_INT, CSV_W_DEF | CSV_W_KEY, 0, 1},
    {"ietfcsv", CSV_A_BOOL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"userdata", CSV_A_BOOL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"buffer", CSV_A_INT, CSV_W_DEF | CSV_W_KEY, 0, INT_MAX / 1024},
    {"buffertype", CSV_A_INT, CSV_W_DEF | CSV_W_KEY, 3, 4},
    {"rolltype", CSV_A_INT, CSV_W_DEF, 1, 5},
    {"rollover", CSV_A_INT, CSV_W_DEF, 0, INT_MAX},
    {"rollagain", CSV_A_INT, CSV_W_DEF, 0, INT_MAX},
    {"rollempty", CSV_A_BOOL, CSV_W_DEF, 0, 0},
    {"create_perm", CSV_A_OCTAL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"create_uid", CSV_A_UID, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"create_gid", CSV_A_GID, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"rename_template", CSV_A_STR, CSV_W_DEF | CSV_W_KEY, 2, 0},
    {"rename_perm", CSV_A_OCTAL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"rename_uid", CSV_A_UID, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"rename_gid", CSV_A_GID, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"expand_array", CSV_A_BOOL, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"array_sep", CSV_A_CHAR, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"array_lquote", CSV_A_CHAR, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"array_rquote", CSV_A_CHAR, CSV_W_DEF | CSV_W_KEY, 0, 0},
    {"opt_file", CSV_A_STR, CSV_W_DEF | CSV_W_CMD, 1, 0},
};

/* Options of upstream versions that are refused with a hint. */
static const struct {
	const char *name, *hint;
} csv_deprecated[] = {
    {"action", "action= is no longer supported: remove action=init to set defaults, or "
	       "replace action=custom by container=<c> schema=<s>"},
    {"idpos", "the v2 option idpos= is no longer supported"},
    {"id_pos", "the v2 option id_pos= is no longer supported"},
    {"transportdata", "transportdata= is not supported"},
    {"sequence", "sequence= is no longer supported"},
    {"notify", "notify= was removed; use rename_template= to hand over closed files"},
};

static const struct csv_attr_def *csv_attr_find(const char *name)
{
	if (!strcmp(name, "array_expand")) /* the man page's synopsis spelling */
		name = "expand_array";
	for (size_t i = 0; i < sizeof(csv_attr_defs) / sizeof(csv_attr_defs[0]); i++)
		if (!strcmp(csv_attr_defs[i].name, name))
			return &csv_attr_defs[i];
	return NULL;
}

/* ---- value parsers ------------------------------------------------------------------ */

/* Upstream reads these as "0 / non-zero" or by the first letter (t/y/1, f/n/0); a
 * keyword without a value means true. */
static int csv_parse_bool(const char *s, bool *out)
{
	char *end;
	long v;

	if (!*s) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(s, "on") || !strcasecmp(s, "off")) {
		*out = !strcasecmp(s, "on");
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (!errno && end != s && !*end) {
		*out = v != 0;
		return 0;
	}
	switch (s[0]) {
	case 't':
	case 'T':
	case 'y':
	case 'Y':
		*out = true;
		return 0;
	case 'f':
	case 'F':
	case 'n':
	case 'N':
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int csv_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Octal mode bits; 0 means "leave the mode alone". */
static int csv_parse_octal(const char *s, uint32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 8);
	if (errno || end == s || *end || v < 0 || v > 04777)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Checks one attribute value; fills err naming the attribute. */
static int csv_attr_check(const struct csv_attr_def *d, const char *name, const char *v,
			  struct ldms_err *err)
{
	bool b;
	long l;
	uint32_t u;
	uid_t uid;
	gid_t gid;

	switch (d->kind) {
	case CSV_A_STR:
		if (strlen(v) < (size_t)d->min)
			return ldms_err_set(err, -EINVAL, "%s: value '%s' is too short.", name, v);
		return 0;
	case CSV_A_BOOL:
		if (csv_parse_bool(v, &b))
			return ldms_err_set(err, -EINVAL,
					    "%s: value '%s' is not a boolean (0/1, true/false).",
					    name, v);
		return 0;
	case CSV_A_INT:
		if (csv_parse_long(v, d->min, d->max, &l)) {
			if (d->max == INT_MAX || d->max == INT_MAX / 1024)
				return ldms_err_set(err, -EINVAL,
						    "%s: value '%s' is not an integer >= %ld.",
						    name, v, d->min);
			return ldms_err_set(err, -EINVAL,
					    "%s: value '%s' is not an integer in %ld..%ld.", name,
					    v, d->min, d->max);
		}
		return 0;
	case CSV_A_OCTAL:
		if (csv_parse_octal(v, &u))
			return ldms_err_set(err, -EINVAL,
					    "%s: value '%s' is not an octal mode (e.g. 0640).",
					    name, v);
		return 0;
	case CSV_A_UID:
		if (ldms_parse_uid(v, &uid))
			return ldms_err_set(err, -EINVAL, "%s: unknown user '%s'.", name, v);
		return 0;
	case CSV_A_GID:
		if (ldms_parse_gid(v, &gid))
			return ldms_err_set(err, -EINVAL, "%s: unknown group '%s'.", name, v);
		return 0;
	case CSV_A_CHAR:
		if (strlen(v) != 1)
			return ldms_err_set(err, -EINVAL, "%s: value '%s' must be one character.",
					    name, v);
		return 0;
	}
	return -EINVAL;
}

/* ---- config sources ------------------------------------------------------------------ */

struct csv_kv {
	char *k, *v;
};

/* One source of options: a config line or an opt_file line. container/schema are
 * NULL for a defaults line. */
struct csv_line {
	char *container, *schema;
	size_t n;
	struct csv_kv *kv;
	struct csv_line *next;
};

static void csv_line_free(struct csv_line *l)
{
	while (l) {
		struct csv_line *next = l->next;
		for (size_t i = 0; i < l->n; i++) {
			free(l->kv[i].k);
			free(l->kv[i].v);
		}
		free(l->kv);
		free(l->container);
		free(l->schema);
		free(l);
		l = next;
	}
}

static int csv_line_add(struct csv_line *l, const char *k, const char *v)
{
	struct csv_kv *kv = realloc(l->kv, (l->n + 1) * sizeof(*kv));

	if (!kv)
		return -ENOMEM;
	l->kv = kv;
	if (!strcmp(k, "array_expand"))
		k = "expand_array";
	kv[l->n].k = strdup(k);
	kv[l->n].v = strdup(v ? v : "");
	if (!kv[l->n].k || !kv[l->n].v) {
		free(kv[l->n].k);
		free(kv[l->n].v);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static const char *csv_line_get(const struct csv_line *l, const char *k)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n; i++) /* first occurrence wins, like ldmsd */
		if (!strcmp(l->kv[i].k, k))
			return l->kv[i].v;
	return NULL;
}

static struct csv_line *csv_line_find(struct csv_line *list, const char *c, const char *s)
{
	for (; list; list = list->next)
		if (!strcmp(list->container, c) && !strcmp(list->schema, s))
			return list;
	return NULL;
}

/* Checks one attribute of a line. key: the line names a container/schema; cmd: it
 * is an ldmsd config line (not an opt_file line). */
static int csv_attr_validate(const char *k, const char *v, bool key, bool cmd, struct ldms_err *err)
{
	const struct csv_attr_def *d;

	for (size_t i = 0; i < sizeof(csv_deprecated) / sizeof(csv_deprecated[0]); i++)
		if (!strcmp(k, csv_deprecated[i].name))
			return ldms_err_set(err, -EINVAL, "%s: %s.", k, csv_deprecated[i].hint);
	d = csv_attr_find(k);
	if (!d)
		return ldms_err_set(err, -EINVAL, "%s: unknown attribute.", k);
	if (key && !(d->where & CSV_W_KEY))
		return ldms_err_set(err, -EINVAL,
				    "%s: applies to all stores of the plugin and cannot be set "
				    "for one container/schema.",
				    k);
	if (!cmd && (d->where & CSV_W_CMD))
		return ldms_err_set(err, -EINVAL, "%s: not allowed inside an opt_file.", k);
	return csv_attr_check(d, k, v, err);
}

/* Where option values come from, highest precedence first (Plugin_store_csv(7)): the
 * opt_file line for the container/schema, the config line for it, the config line
 * of defaults, the opt_file "store_csv" line, the built-in default. */
struct csv_sources {
	struct csv_line *cmd_def;   /* config line without container/schema */
	struct csv_line *file_def;  /* opt_file "store_csv" line */
	struct csv_line *cmd_keys;  /* config lines with container/schema */
	struct csv_line *file_keys; /* opt_file container/schema lines */
};

static const char *csv_src_get(const struct csv_sources *src, const char *c, const char *s,
			       const char *k)
{
	const char *v;

	if (c && s) {
		if ((v = csv_line_get(csv_line_find(src->file_keys, c, s), k)))
			return v;
		if ((v = csv_line_get(csv_line_find(src->cmd_keys, c, s), k)))
			return v;
	}
	if ((v = csv_line_get(src->cmd_def, k)))
		return v;
	return csv_line_get(src->file_def, k);
}

static void csv_sources_free(struct csv_sources *src)
{
	csv_line_free(src->cmd_def);
	csv_line_free(src->file_def);
	csv_line_free(src->cmd_keys);
	csv_line_free(src->file_keys);
	memset(src, 0, sizeof(*src));
}

/* ---- opt_file ---------------------------------------------------------------------- */

/* Reads the opt_file into src->file_def/file_keys. Lines: '#' comments, a trailing
 * backslash continues a line (comments included), whitespace separated `k=v` tokens;
 * a line holding the keyword `store_csv` gives defaults, a line with container= and
 * schema= gives options for that pair. */
static int csv_optfile_read(const char *path, struct csv_sources *src, struct ldms_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *acc = NULL;
	size_t cap = 0, acc_len = 0;
	ssize_t n;
	int lineno = 0, start = 0, rc = 0;

	if (!f)
		return ldms_err_set(err, -errno, "opt_file: cannot open '%s': %s.", path,
				    strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0 && !rc) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		bool cont = n > 0 && line[n - 1] == '\\';
		if (cont)
			line[--n] = '\0';
		char *nacc = realloc(acc, acc_len + (size_t)n + 2);
		if (!nacc) {
			rc = -ENOMEM;
			break;
		}
		acc = nacc;
		if (!acc_len)
			start = lineno;
		memcpy(acc + acc_len, line, (size_t)n);
		acc_len += (size_t)n;
		acc[acc_len++] = ' ';
		acc[acc_len] = '\0';
		if (cont)
			continue;
		acc_len = 0;

		char *p = acc;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		struct csv_line *l = calloc(1, sizeof(*l));
		bool is_def = false;
		char *save = NULL, *tok;
		if (!l) {
			rc = -ENOMEM;
			break;
		}
		for (tok = strtok_r(p, " \t", &save); tok && !rc;
		     tok = strtok_r(NULL, " \t", &save)) {
			char *eq = strchr(tok, '=');
			if (!eq && !strcmp(tok, "store_csv")) {
				is_def = true;
				continue;
			}
			if (!eq && !strcmp(tok, "config")) {
				rc =
				    ldms_err_set_loc(err, -EINVAL, path, start, 0,
						     "omit 'config name=...' from opt_file lines.");
				break;
			}
			if (eq)
				*eq = '\0';
			const char *v = eq ? eq + 1 : "";
			if (!strcmp(tok, "container") || !strcmp(tok, "schema")) {
				char **dst = tok[0] == 'c' ? &l->container : &l->schema;
				free(*dst);
				*dst = strdup(v);
				if (!*dst)
					rc = -ENOMEM;
				continue;
			}
			rc = csv_line_add(l, tok, v);
		}
		if (!rc && !l->container != !l->schema)
			rc = ldms_err_set_loc(err, -EINVAL, path, start, 0,
					      "container= and schema= must be given together.");
		if (!rc && is_def && l->container)
			rc = ldms_err_set_loc(err, -EINVAL, path, start, 0,
					      "a line is either the 'store_csv' defaults line or "
					      "a container/schema line, not both.");
		if (!rc && !is_def && !l->container)
			rc = ldms_err_set_loc(err, -EINVAL, path, start, 0,
					      "expected the keyword 'store_csv' or container= "
					      "schema= on this line.");
		if (!rc && is_def && src->file_def)
			rc = ldms_err_set_loc(err, -EINVAL, path, start, 0,
					      "second 'store_csv' defaults line.");
		if (!rc && l->container && csv_line_find(src->file_keys, l->container, l->schema))
			rc = ldms_err_set_loc(err, -EINVAL, path, start, 0,
					      "container=%s schema=%s given twice.", l->container,
					      l->schema);
		for (size_t i = 0; !rc && i < l->n; i++) {
			rc = csv_attr_validate(l->kv[i].k, l->kv[i].v, l->container != NULL, false,
					       err);
			if (rc) {
				char msg[sizeof(err->msg)];
				snprintf(msg, sizeof(msg), "%s", err->msg);
				ldms_err_set_loc(err, rc, path, start, 0, "%s", msg);
			}
		}
		if (rc) {
			csv_line_free(l);
			break;
		}
		if (is_def) {
			src->file_def = l;
		} else {
			l->next = src->file_keys;
			src->file_keys = l;
		}
	}
	if (rc == -ENOMEM)
		ldms_err_set(err, rc, "out of memory");
	free(line);
	free(acc);
	fclose(f);
	return rc;
}

/* ---- resolved options ------------------------------------------------------------- */

/* The options of one store (container/schema pair). */
struct csv_opts {
	char *path;
	bool altheader, ietfcsv, userdata, expand_array;
	int typeheader, time_format;
	int buffer;			   /* 0 none, 1 stdio, N lines (type 3) or bytes (type 4) */
	int buffertype;			   /* 0, 3, 4 */
	uint32_t create_perm, rename_perm; /* 0 = leave alone */
	uid_t create_uid, rename_uid;	   /* (uid_t)-1 = leave alone */
	gid_t create_gid, rename_gid;
	char *rename_template;
	char sep, lquote, rquote;
};

static void csv_opts_free(struct csv_opts *o)
{
	free(o->path);
	free(o->rename_template);
	o->path = o->rename_template = NULL;
}

static bool csv_get_bool(const struct csv_sources *src, const char *c, const char *s, const char *k,
			 bool def)
{
	const char *v = csv_src_get(src, c, s, k);
	bool b = def;

	if (v && csv_parse_bool(v, &b))
		b = def;
	return b;
}

static long csv_get_long(const struct csv_sources *src, const char *c, const char *s, const char *k,
			 long def)
{
	const char *v = csv_src_get(src, c, s, k);
	long l = def;

	if (v && csv_parse_long(v, LONG_MIN, LONG_MAX, &l))
		l = def;
	return l;
}

/* Options for container c / schema s (NULL, NULL: the defaults alone). Values were
 * checked when their line was added; this checks the combinations. */
static int csv_opts_resolve_(const struct csv_sources *src, const char *c, const char *s,
			     struct csv_opts *o, struct ldms_err *err)
{
	const char *v, *bt;

	memset(o, 0, sizeof(*o));
	o->create_uid = o->rename_uid = (uid_t)-1;
	o->create_gid = o->rename_gid = (gid_t)-1;
	v = csv_src_get(src, c, s, "path");
	if (!v)
		return ldms_err_set(err, -EINVAL,
				    "path: required (on the config line or in the opt_file).");
	o->path = strdup(v);
	o->altheader = csv_get_bool(src, c, s, "altheader", false);
	o->ietfcsv = csv_get_bool(src, c, s, "ietfcsv", false);
	o->userdata = csv_get_bool(src, c, s, "userdata", false);
	o->expand_array = csv_get_bool(src, c, s, "expand_array", true);
	o->typeheader = (int)csv_get_long(src, c, s, "typeheader", 0);
	o->time_format = (int)csv_get_long(src, c, s, "time_format", 0);

	v = csv_src_get(src, c, s, "buffer");
	bt = csv_src_get(src, c, s, "buffertype");
	o->buffer = v ? (int)csv_get_long(src, c, s, "buffer", 1) : 1;
	if (!v && bt)
		return ldms_err_set(err, -EINVAL, "buffertype: given without buffer=N.");
	if (o->buffer > 1) {
		if (!bt)
			return ldms_err_set(
			    err, -EINVAL, "buffer: buffer=%d needs buffertype=3 (lines) or 4 (kB).",
			    o->buffer);
		o->buffertype = (int)csv_get_long(src, c, s, "buffertype", 3);
		if (o->buffertype == 4)
			o->buffer *= 1024;
	} else if (bt) {
		return ldms_err_set(
		    err, -EINVAL, "buffertype: only applies with buffer=N (N > 1), not buffer=%d.",
		    o->buffer);
	}

	if ((v = csv_src_get(src, c, s, "create_perm")))
		csv_parse_octal(v, &o->create_perm);
	if ((v = csv_src_get(src, c, s, "rename_perm")))
		csv_parse_octal(v, &o->rename_perm);
	if ((v = csv_src_get(src, c, s, "create_uid")))
		ldms_parse_uid(v, &o->create_uid);
	if ((v = csv_src_get(src, c, s, "create_gid")))
		ldms_parse_gid(v, &o->create_gid);
	if ((v = csv_src_get(src, c, s, "rename_uid")))
		ldms_parse_uid(v, &o->rename_uid);
	if ((v = csv_src_get(src, c, s, "rename_gid")))
		ldms_parse_gid(v, &o->rename_gid);
	if ((v = csv_src_get(src, c, s, "rename_template")))
		o->rename_template = strdup(v);
	v = csv_src_get(src, c, s, "array_sep");
	o->sep = v && *v ? v[0] : ':';
	v = csv_src_get(src, c, s, "array_lquote");
	o->lquote = v && *v ? v[0] : '"';
	v = csv_src_get(src, c, s, "array_rquote");
	o->rquote = v && *v ? v[0] : '"';
	if (!o->path || (csv_src_get(src, c, s, "rename_template") && !o->rename_template)) {
		csv_opts_free(o);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int csv_opts_resolve(const struct csv_sources *src, const char *c, const char *s,
			    struct csv_opts *o, struct ldms_err *err)
{
	int rc = csv_opts_resolve_(src, c, s, o, err);

	if (rc)
		csv_opts_free(o);
	return rc;
}

/* Rollover settings: one set for all stores of a plugin instance. */
struct csv_roll {
	int type; /* 0 = no rollover */
	long over, again;
	bool empty;
};

static int csv_roll_resolve(const struct csv_sources *src, struct csv_roll *r, struct ldms_err *err)
{
	const char *t = csv_src_get(src, NULL, NULL, "rolltype");
	const char *o = csv_src_get(src, NULL, NULL, "rollover");

	memset(r, 0, sizeof(*r));
	r->empty = csv_get_bool(src, NULL, NULL, "rollempty", true);
	r->again = csv_get_long(src, NULL, NULL, "rollagain", 0);
	r->over = csv_get_long(src, NULL, NULL, "rollover", -1);
	if (!t)
		return 0;
	if (!o)
		return ldms_err_set(err, -EINVAL, "rolltype: needs rollover= as well.");
	r->type = (int)csv_get_long(src, NULL, NULL, "rolltype", 0);
	if (r->type == 5 && (r->again < r->over || r->again < CSV_MIN_ROLL_SECS))
		return ldms_err_set(err, -EINVAL,
				    "rollagain: rolltype=5 needs rollagain >= max(rollover, %d) "
				    "(rollover=%ld rollagain=%ld).",
				    CSV_MIN_ROLL_SECS, r->over, r->again);
	if (r->type == 2 && r->over >= 86400)
		return ldms_err_set(err, -EINVAL,
				    "rollover: rolltype=2 needs seconds after midnight < 86400.");
	if (r->type == 1 && r->over < CSV_MIN_ROLL_SECS)
		r->over = CSV_MIN_ROLL_SECS;
	if (r->type == 3 && r->over < CSV_MIN_ROLL_RECORDS)
		r->over = CSV_MIN_ROLL_RECORDS;
	if (r->type == 4 && r->over < CSV_MIN_ROLL_BYTES)
		r->over = CSV_MIN_ROLL_BYTES;
	return 0;
}

#endif
