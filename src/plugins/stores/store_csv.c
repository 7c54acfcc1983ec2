/* store_csv: the CSV store plugin, compatible with upstream OVIS LDMS 4.5 store_csv
 * (ldms-protocol.md §5.2). One data file per strgp container/schema with an optional
 * HEADER and KIND file, rollover by time, records or bytes (no row is lost or written
 * twice across a roll), renaming of closed files by template, options per
 * container/schema from config lines or an opt_file (store_csv_cfg.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_csv_cfg.h"

#define CSV_FILE_PERM 0600
#define CSV_DIR_PERM  0750

/* ---- growable string ------------------------------------------------------------------ */

struct csv_buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void csv_buf_reserve(struct csv_buf *b, size_t more)
{
	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void csv_buf_put(struct csv_buf *b, const char *s, size_t n)
{
	csv_buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void csv_buf_str(struct csv_buf *b, const char *s)
{
	csv_buf_put(b, s, strlen(s));
}

static void csv_buf_chr(struct csv_buf *b, char c)
{
	csv_buf_put(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void csv_buf_fmt(struct csv_buf *b, const char *fmt,
							      ...)
{
	va_list ap;
	int n;

	csv_buf_reserve(b, 32); /* most values fit: one vsnprintf */
	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		csv_buf_reserve(b, (size_t)n);
		if (b->oom)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* s quoted as an RFC 4180 field when quote is set (embedded quotes doubled). */
static void csv_buf_field(struct csv_buf *b, const char *s, bool quote)
{
	if (!quote) {
		csv_buf_str(b, s);
		return;
	}
	csv_buf_chr(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			csv_buf_chr(b, '"');
		csv_buf_chr(b, *s);
	}
	csv_buf_chr(b, '"');
}

/* ---- state ------------------------------------------------------------------------------ */

/* One output column group: a metric of the policy. */
struct csv_col {
	int idx;
	char *name;
	enum ldms_value_type type;
	uint32_t len;
};

struct csv_plugin;

/* One open store: the files of a container/schema pair. Shared by the strgps of the
 * plugin instance that name the same pair (like upstream). */
struct csv_store {
	struct csv_plugin *pl;
	struct csv_store *next; /* pl->stores, under pl->lock */
	int refcount;		/* under pl->lock */
	char *container, *schema, *base;
	struct csv_opts o;

	pthread_mutex_t lock; /* everything below */
	size_t ncols;
	struct csv_col *cols;
	int have_layout;
	char *header_line, *kind_line;
	FILE *file;
	char *data_name, *header_name, *kind_name;
	time_t otime;	      /* open time of the current files (the name suffix) */
	int64_t store_count;  /* rows in the current data file */
	int64_t byte_count;   /* bytes in the current data file */
	int64_t rows_flushed; /* store_count / byte_count at the last flush */
	int64_t bytes_flushed;
	struct csv_buf row;  /* reused for every row */
	bool header_pending; /* layout unknown at open: header written at the first row */
	bool warned_type, warned_write;
};

struct csv_plugin {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *log_name, *plugin_name;
	bool configured;
	struct csv_sources src;
	struct csv_roll roll;
	struct csv_store *stores;
	pthread_t thread;
	bool thread_running, stop;
	time_t next_roll;
};

#define CSV_LOG(pl, lvl, ...) ldms_log(lvl, (pl)->log_name, __VA_ARGS__)

/* ---- columns, header and KIND lines ------------------------------------------------- */

static bool csv_type_storable(enum ldms_value_type t)
{
	return t >= LDMS_V_CHAR && t <= LDMS_V_D64_ARRAY;
}

static bool csv_num_array(enum ldms_value_type t)
{
	return t >= LDMS_V_U8_ARRAY && t <= LDMS_V_D64_ARRAY;
}

/* Element type of an array type (u64[] -> u64, char[] -> char). */
static enum ldms_value_type csv_scalar_type(enum ldms_value_type t)
{
	if (t >= LDMS_V_CHAR_ARRAY && t <= LDMS_V_D64_ARRAY)
		return (enum ldms_value_type)(t - (LDMS_V_CHAR_ARRAY - LDMS_V_CHAR));
	return t;
}

static void csv_cols_free(struct csv_store *st)
{
	for (size_t i = 0; i < st->ncols; i++)
		free(st->cols[i].name);
	free(st->cols);
	st->cols = NULL;
	st->ncols = 0;
}

/* Column layout from the policy's metric list and a set of the schema. */
static int csv_layout_build(struct csv_store *st, const struct ldmsd_store_policy *p,
			    ldms_set_t set, struct ldms_err *err)
{
	size_t n = p ? p->metric_count : 0;
	uint32_t card = ldms_set_card_get(set);
	bool all = n == 0;

	if (all)
		n = card;
	st->cols = calloc(n ? n : 1, sizeof(*st->cols));
	if (!st->cols)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct csv_col *c = &st->cols[st->ncols];
		int idx = all ? (int)i : p->metric_idx[i];
		const char *name;

		if (idx < 0 || (uint32_t)idx >= card) {
			csv_cols_free(st);
			return ldms_err_set(err, -EINVAL,
					    "metric index %d of the policy is not in set '%s'.",
					    idx, ldms_set_instance_name_get(set));
		}
		name = (!all && p->metric_names && p->metric_names[i])
			   ? p->metric_names[i]
			   : ldms_metric_name_get(set, idx);
		c->idx = idx;
		c->type = ldms_metric_type_get(set, idx);
		c->len = ldms_metric_array_get_len(set, idx);
		if (!csv_type_storable(c->type)) {
			CSV_LOG(st->pl, LDMS_LWARN,
				"%s/%s: metric '%s' of type %s cannot be stored in CSV; skipped.",
				st->container, st->schema, name,
				ldms_metric_type_to_str(c->type) ? ldms_metric_type_to_str(c->type)
								 : "?");
			continue;
		}
		c->name = strdup(name ? name : "");
		if (!c->name) {
			csv_cols_free(st);
			return ldms_err_set(err, -ENOMEM, "out of memory");
		}
		st->ncols++;
	}
	return 0;
}

static void csv_header_build(const struct csv_store *st, struct csv_buf *b)
{
	const struct csv_opts *o = &st->o;
	bool q = o->ietfcsv;
	char name[512];

	csv_buf_chr(b, '#');
	csv_buf_field(b, o->time_format == 1 ? "Time_msec" : "Time", q);
	csv_buf_chr(b, ',');
	csv_buf_field(b, "Time_usec", q);
	csv_buf_chr(b, ',');
	csv_buf_field(b, "ProducerName", q);
	for (size_t i = 0; i < st->ncols; i++) {
		const struct csv_col *c = &st->cols[i];
		uint32_t n = csv_num_array(c->type) && o->expand_array ? c->len : 1;
		for (uint32_t j = 0; j < n; j++) {
			if (csv_num_array(c->type) && o->expand_array)
				snprintf(name, sizeof(name), "%s%" PRIu32, c->name, j);
			else
				snprintf(name, sizeof(name), "%s", c->name);
			if (o->userdata) {
				char ud[sizeof(name) + 16];
				snprintf(ud, sizeof(ud), "%s.userdata", name);
				csv_buf_chr(b, ',');
				csv_buf_field(b, ud, q);
				snprintf(ud, sizeof(ud), "%s.value", name);
				csv_buf_chr(b, ',');
				csv_buf_field(b, ud, q);
			} else {
				csv_buf_chr(b, ',');
				csv_buf_field(b, name, q);
			}
		}
	}
	csv_buf_chr(b, '\n');
}

/* KIND line: one type per column. typeheader=1 flattens numeric arrays into their
 * element type; typeheader=2 writes <type>[]<len>. An array that is not expanded is
 * one column, so it is written as <type>[]<len> in both forms. */
static void csv_kind_build(const struct csv_store *st, struct csv_buf *b)
{
	const struct csv_opts *o = &st->o;
	const char *u64 = ldms_metric_type_to_str(LDMS_V_U64);

	csv_buf_fmt(b, "#!ldms%s-kinds%s!timestamp,%s,%s%d", o->typeheader == 2 ? "-array" : "",
		    o->userdata ? "-udata" : "", u64, ldms_metric_type_to_str(LDMS_V_CHAR_ARRAY),
		    LDMS_PRODUCER_NAME_MAX);
	for (size_t i = 0; i < st->ncols; i++) {
		const struct csv_col *c = &st->cols[i];
		const char *t = ldms_metric_type_to_str(c->type);
		bool unroll = o->typeheader == 1 && csv_num_array(c->type) && o->expand_array;
		bool with_len =
		    ldms_type_is_array(c->type) &&
		    (o->typeheader == 2 || (csv_num_array(c->type) && !o->expand_array));

		if (unroll) {
			for (uint32_t j = 0; j < c->len; j++) {
				if (o->userdata)
					csv_buf_fmt(b, ",%s", u64);
				csv_buf_fmt(b, ",%s",
					    ldms_metric_type_to_str(csv_scalar_type(c->type)));
			}
			continue;
		}
		if (o->userdata)
			csv_buf_fmt(b, ",%s", u64);
		if (with_len)
			csv_buf_fmt(b, ",%s%" PRIu32, t, c->len);
		else
			csv_buf_fmt(b, ",%s", t);
	}
	csv_buf_chr(b, '\n');
}

static int csv_lines_build(struct csv_store *st)
{
	struct csv_buf h = {0}, k = {0};

	csv_header_build(st, &h);
	if (st->o.typeheader)
		csv_kind_build(st, &k);
	if (h.oom || k.oom) {
		free(h.p);
		free(k.p);
		return -ENOMEM;
	}
	free(st->header_line);
	free(st->kind_line);
	st->header_line = h.p;
	st->kind_line = k.p;
	st->have_layout = 1;
	return 0;
}

/* ---- rows -------------------------------------------------------------------------------- */

static void csv_put_value(struct csv_buf *b, ldms_set_t set, int idx, enum ldms_value_type t,
			  uint32_t j)
{
	switch (csv_scalar_type(t)) {
	case LDMS_V_U8:
	case LDMS_V_U16:
	case LDMS_V_U32:
	case LDMS_V_U64:
		csv_buf_fmt(b, "%" PRIu64, ldms_metric_array_get_as_u64(set, idx, j));
		break;
	case LDMS_V_S8:
	case LDMS_V_S16:
	case LDMS_V_S32:
	case LDMS_V_S64:
		csv_buf_fmt(b, "%" PRId64, ldms_metric_array_get_as_s64(set, idx, j));
		break;
	case LDMS_V_F32:
		csv_buf_fmt(b, "%.9g", (double)(float)ldms_metric_array_get_as_double(set, idx, j));
		break;
	case LDMS_V_D64:
		csv_buf_fmt(b, "%.17g", ldms_metric_array_get_as_double(set, idx, j));
		break;
	default:
		break;
	}
}

/* Number of CSV fields a column group occupies. */
static uint32_t csv_col_width(const struct csv_store *st, const struct csv_col *c)
{
	uint32_t n = csv_num_array(c->type) && st->o.expand_array ? c->len : 1;
	return st->o.userdata ? 2 * n : n;
}

static void csv_row_build(struct csv_store *st, ldms_set_t set, struct csv_buf *b)
{
	const struct csv_opts *o = &st->o;
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(set);
	const char *producer = ldms_set_producer_name_get(set);

	if (o->time_format == 1)
		csv_buf_fmt(b, "%" PRIu64 ",%" PRIu32, (uint64_t)ts.sec * 1000 + ts.usec / 1000,
			    ts.usec % 1000);
	else
		csv_buf_fmt(b, "%" PRIu32 ".%06" PRIu32 ",%" PRIu32, ts.sec, ts.usec, ts.usec);
	csv_buf_chr(b, ',');
	csv_buf_str(b, producer ? producer : "");

	for (size_t i = 0; i < st->ncols; i++) {
		const struct csv_col *c = &st->cols[i];
		uint64_t ud;
		uint32_t n;

		if (ldms_metric_type_get(set, c->idx) != c->type) {
			/* A set whose schema differs from the one the header was made from:
			 * keep the columns aligned with empty fields. */
			if (!st->warned_type)
				CSV_LOG(st->pl, LDMS_LERROR,
					"%s/%s: set '%s' metric %d is not of type %s as in the "
					"header; writing empty fields.",
					st->container, st->schema, ldms_set_instance_name_get(set),
					c->idx, ldms_metric_type_to_str(c->type));
			st->warned_type = true;
			for (uint32_t k = csv_col_width(st, c); k; k--)
				csv_buf_chr(b, ',');
			continue;
		}
		ud = ldms_metric_user_data_get(set, c->idx);
		if (c->type == LDMS_V_CHAR_ARRAY || c->type == LDMS_V_CHAR) {
			if (o->userdata)
				csv_buf_fmt(b, ",%" PRIu64, ud);
			csv_buf_chr(b, ',');
			if (c->type == LDMS_V_CHAR) {
				char ch = ldms_metric_get_char(set, c->idx);
				if (ch)
					csv_buf_chr(b, ch);
			} else {
				const char *s = ldms_metric_array_get_str(set, c->idx);
				csv_buf_field(b, s ? s : "", o->ietfcsv);
			}
			continue;
		}
		if (!csv_num_array(c->type)) {
			if (o->userdata)
				csv_buf_fmt(b, ",%" PRIu64, ud);
			csv_buf_chr(b, ',');
			csv_put_value(b, set, c->idx, c->type, 0);
			continue;
		}
		n = ldms_metric_array_get_len(set, c->idx);
		if (n > c->len)
			n = c->len;
		if (o->expand_array) {
			for (uint32_t j = 0; j < c->len; j++) {
				if (o->userdata)
					csv_buf_fmt(b, ",%" PRIu64, ud);
				csv_buf_chr(b, ',');
				if (j < n)
					csv_put_value(b, set, c->idx, c->type, j);
			}
		} else {
			if (o->userdata)
				csv_buf_fmt(b, ",%" PRIu64, ud);
			csv_buf_chr(b, ',');
			csv_buf_chr(b, o->lquote);
			for (uint32_t j = 0; j < n; j++) {
				if (j)
					csv_buf_chr(b, o->sep);
				csv_put_value(b, set, c->idx, c->type, j);
			}
			csv_buf_chr(b, o->rquote);
		}
	}
	csv_buf_chr(b, '\n');
}

/* ---- files ------------------------------------------------------------------------------- */

/* Directory mode from a file mode: the user can always write, and whoever may read
 * may also search (0640 -> 0750). 0 gives the default 0750. */
static mode_t csv_dir_mode(uint32_t perm)
{
	mode_t m = perm & 0777;

	if (!m)
		return CSV_DIR_PERM;
	m |= S_IWUSR;
	if (m & S_IRUSR)
		m |= S_IXUSR;
	if (m & S_IRGRP)
		m |= S_IXGRP;
	if (m & S_IROTH)
		m |= S_IXOTH;
	return m;
}

/* mkdir -p; returns 0 or -errno. */
static int csv_mkdirs(const char *dir, mode_t mode)
{
	char *p = strdup(dir);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!rc) {
		struct stat sb;
		if (stat(dir, &sb))
			rc = -errno;
		else if (!S_ISDIR(sb.st_mode))
			rc = -ENOTDIR;
	}
	free(p);
	return rc;
}

/* Opens (creating with mode 0600) for append, or truncated; then applies
 * create_perm (execute bits dropped) and create_uid/gid. */
static FILE *csv_file_open(struct csv_store *st, const char *name, bool trunc, int *rc)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : O_APPEND),
		      CSV_FILE_PERM);
	FILE *f;

	if (fd < 0) {
		*rc = -errno;
		return NULL;
	}
	mode_t m = st->o.create_perm & 0666;
	if (m && fchmod(fd, m))
		CSV_LOG(st->pl, LDMS_LERROR, "cannot chmod '%s' to %o: %s", name, m,
			strerror(errno));
	if ((st->o.create_uid != (uid_t)-1 || st->o.create_gid != (gid_t)-1) &&
	    fchown(fd, st->o.create_uid, st->o.create_gid))
		CSV_LOG(st->pl, LDMS_LERROR, "cannot chown '%s' to %d:%d: %s", name,
			(int)st->o.create_uid, (int)st->o.create_gid, strerror(errno));
	f = fdopen(fd, trunc ? "w" : "a");
	if (!f) {
		*rc = -errno;
		close(fd);
	}
	return f;
}

/* Writes a whole one-line file (HEADER, KIND). */
static int csv_file_write_line(struct csv_store *st, const char *name, const char *line)
{
	int rc = 0;
	FILE *f = csv_file_open(st, name, true, &rc);

	if (!f) {
		CSV_LOG(st->pl, LDMS_LERROR, "cannot open '%s': %s", name, strerror(-rc));
		return rc;
	}
	if (fputs(line, f) == EOF)
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc)
		CSV_LOG(st->pl, LDMS_LERROR, "cannot write '%s': %s", name, strerror(-rc));
	return rc;
}

/* Header into the data file or the HEADER file, and the KIND file. */
static void csv_headers_write(struct csv_store *st)
{
	if (!st->have_layout) {
		st->header_pending = true;
		return;
	}
	st->header_pending = false;
	if (st->o.altheader) {
		csv_file_write_line(st, st->header_name, st->header_line);
	} else if (st->file) {
		size_t n = strlen(st->header_line);
		if (fwrite(st->header_line, 1, n, st->file) != n || fflush(st->file))
			CSV_LOG(st->pl, LDMS_LERROR, "cannot write the header to '%s': %s",
				st->data_name, strerror(errno));
		st->byte_count += (int64_t)n;
	}
	if (st->o.typeheader && st->kind_name)
		csv_file_write_line(st, st->kind_name, st->kind_line);
}

/* %{VAR} values may only hold these (a value with others cancels the rename). */
static bool csv_env_ok(const char *v)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("%@()+-_./:=", *v))
			return false;
	return true;
}

/* New name of a closed file from rename_template; NULL (logged) if the template
 * cannot be applied. */
static char *csv_rename_target(struct csv_store *st, const char *name, const char *ftype)
{
	const char *t = st->o.rename_template;
	const char *slash = strrchr(name, '/');
	struct csv_buf b = {0};

	for (; *t; t++) {
		if (*t != '%') {
			csv_buf_chr(&b, *t);
			continue;
		}
		switch (t[1]) {
		case 'P':
			csv_buf_str(&b, st->pl->plugin_name);
			break;
		case 'C':
			csv_buf_str(&b, st->container);
			break;
		case 'S':
			csv_buf_str(&b, st->schema);
			break;
		case 'T':
			csv_buf_str(&b, ftype);
			break;
		case 'B':
			csv_buf_str(&b, slash ? slash + 1 : name);
			break;
		case 'D':
			if (!slash)
				csv_buf_chr(&b, '.');
			else if (slash == name)
				csv_buf_chr(&b, '/');
			else
				csv_buf_put(&b, name, (size_t)(slash - name));
			break;
		case 's': {
			const char *dot = strrchr(name, '.');
			const char *d = dot ? dot + 1 : NULL;
			bool digits = d && *d;
			for (const char *q = d; digits && *q; q++)
				digits = isdigit((unsigned char)*q);
			if (!digits) {
				CSV_LOG(st->pl, LDMS_LERROR,
					"rename_template: %%s but '%s' has no timestamp suffix; "
					"not renamed.",
					name);
				free(b.p);
				return NULL;
			}
			csv_buf_str(&b, d);
			break;
		}
		case '{': {
			const char *end = strchr(t + 2, '}');
			char var[256];
			if (!end || (size_t)(end - t - 2) >= sizeof(var)) {
				CSV_LOG(st->pl, LDMS_LERROR,
					"rename_template: unterminated %%{ in '%s'; not renamed.",
					st->o.rename_template);
				free(b.p);
				return NULL;
			}
			memcpy(var, t + 2, (size_t)(end - t - 2));
			var[end - t - 2] = '\0';
			const char *v = getenv(var);
			if (v && !csv_env_ok(v)) {
				CSV_LOG(st->pl, LDMS_LERROR,
					"rename_template: ${%s} holds characters outside "
					"[A-Za-z0-9%%@()+-_./:=]; not renamed.",
					var);
				free(b.p);
				return NULL;
			}
			csv_buf_str(&b, v ? v : "");
			t = end; /* the loop steps past '}' */
			continue;
		}
		default: /* unknown: keep the '%' and go on with the next character */
			csv_buf_chr(&b, '%');
			continue;
		}
		t++;
	}
	if (b.oom || !b.p) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Renames a closed file per rename_template (after applying rename_perm/uid/gid). */
static void csv_rename_closed(struct csv_store *st, const char *name, const char *ftype)
{
	char *target, *dir;

	if (!st->o.rename_template || !name)
		return;
	if (st->o.rename_perm && chmod(name, st->o.rename_perm & 07777) && errno != ENOENT)
		CSV_LOG(st->pl, LDMS_LERROR, "rename: cannot chmod '%s' to %o: %s", name,
			st->o.rename_perm, strerror(errno));
	if ((st->o.rename_uid != (uid_t)-1 || st->o.rename_gid != (gid_t)-1) &&
	    chown(name, st->o.rename_uid, st->o.rename_gid) && errno != ENOENT)
		CSV_LOG(st->pl, LDMS_LERROR, "rename: cannot chown '%s': %s", name,
			strerror(errno));
	target = csv_rename_target(st, name, ftype);
	if (!target)
		return;
	dir = strdup(target);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		int rc = csv_mkdirs(dir, csv_dir_mode(st->o.rename_perm));
		if (rc)
			CSV_LOG(st->pl, LDMS_LERROR, "rename: cannot create directory '%s': %s",
				dir, strerror(-rc));
	}
	free(dir);
	if (rename(name, target) && errno != ENOENT)
		CSV_LOG(st->pl, LDMS_LERROR, "rename: cannot rename '%s' to '%s': %s", name, target,
			strerror(errno));
	else
		CSV_LOG(st->pl, LDMS_LDEBUG, "renamed '%s' to '%s'", name, target);
	free(target);
}

/* Flushes and closes the current files, then renames them per the template. */
static int csv_files_close(struct csv_store *st)
{
	int rc = 0;

	if (st->file && fclose(st->file)) {
		rc = -errno;
		CSV_LOG(st->pl, LDMS_LERROR, "error closing '%s': %s", st->data_name,
			strerror(errno));
	}
	st->file = NULL;
	csv_rename_closed(st, st->data_name, "DATA");
	if (st->o.altheader)
		csv_rename_closed(st, st->header_name, "HEADER");
	if (st->o.typeheader)
		csv_rename_closed(st, st->kind_name, "KIND");
	free(st->data_name);
	free(st->header_name);
	free(st->kind_name);
	st->data_name = st->header_name = st->kind_name = NULL;
	return rc;
}

__attribute__((format(printf, 1, 2))) static char *csv_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Opens the files for suffix epoch (no suffix without rollover) and writes the
 * headers. On failure the store's current files are untouched. */
static int csv_files_open(struct csv_store *st, time_t epoch, struct ldms_err *err)
{
	char sfx[32] = "";
	char *dname = NULL, *hname = NULL, *kname = NULL, *dir;
	int rc = 0;
	FILE *f;

	if (st->pl->roll.type)
		snprintf(sfx, sizeof(sfx), ".%lld", (long long)epoch);
	dname = csv_strf("%s%s", st->base, sfx);
	hname = st->o.altheader ? csv_strf("%s.HEADER%s", st->base, sfx) : csv_strf("%s", dname);
	kname = st->o.typeheader ? csv_strf("%s.KIND%s", st->base, sfx) : NULL;
	if (!dname || !hname || (st->o.typeheader && !kname)) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	dir = strdup(st->base);
	if (!dir) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*strrchr(dir, '/') = '\0';
	rc = csv_mkdirs(dir, csv_dir_mode(st->o.create_perm));
	if (rc) {
		ldms_err_set(err, rc, "cannot create directory '%s': %s", dir, strerror(-rc));
		free(dir);
		goto out;
	}
	free(dir);
	f = csv_file_open(st, dname, false, &rc);
	if (!f) {
		ldms_err_set(err, rc, "cannot open '%s': %s", dname, strerror(-rc));
		goto out;
	}
	if (st->file)
		csv_files_close(st);
	st->file = f;
	st->data_name = dname;
	st->header_name = hname;
	st->kind_name = kname;
	dname = hname = kname = NULL;
	st->otime = epoch;
	st->store_count = st->byte_count = 0;
	st->rows_flushed = st->bytes_flushed = 0;
	csv_headers_write(st);
out:
	free(dname);
	free(hname);
	free(kname);
	return rc;
}

/* Closes the current files and opens the next ones (caller holds st->lock). The
 * suffix is the current time, or one more than the previous suffix when rolls come
 * faster than once a second, so that two files never share a name. */
static int csv_roll_now(struct csv_store *st)
{
	struct ldms_err err;
	time_t now = time(NULL);
	int rc;

	ldms_err_clear(&err);
	if (now <= st->otime)
		now = st->otime + 1;
	if (st->file && fflush(st->file))
		CSV_LOG(st->pl, LDMS_LERROR, "error flushing '%s': %s", st->data_name,
			strerror(errno));
	rc = csv_files_open(st, now, &err);
	if (rc)
		CSV_LOG(st->pl, LDMS_LERROR, "rollover of %s/%s failed, still writing '%s': %s",
			st->container, st->schema, st->data_name ? st->data_name : "?", err.msg);
	return rc;
}

/* ---- time-based rollover thread ----------------------------------------------------- */

/* Local midnight of the day holding t. */
static time_t csv_midnight(time_t t, int day_offset)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += day_offset;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* Next roll time after now for rolltypes 1, 2 and 5; prev is the previous roll time
 * (0 at start). */
static time_t csv_next_roll(const struct csv_roll *r, time_t now, time_t prev)
{
	time_t t;

	if (r->type == 1) {
		t = prev ? prev + r->over : now + r->over;
		return t > now ? t : now + r->over;
	}
	/* Types 2 and 5: slots at midnight + rollover (+ k * rollagain for type 5)
	 * within each local day; the first slot after now. */
	for (int d = 0; d < 3; d++) {
		time_t m = csv_midnight(now, d), end = csv_midnight(now, d + 1);
		t = m + r->over;
		if (t > now)
			return t;
		if (r->type != 5 || r->again <= 0)
			continue;
		for (t += r->again; t < end; t += r->again)
			if (t > now)
				return t;
	}
	return now + 60;
}

static void *csv_roll_thread(void *arg)
{
	struct csv_plugin *pl = arg;

	pthread_mutex_lock(&pl->lock);
	pl->next_roll = csv_next_roll(&pl->roll, time(NULL), 0);
	while (!pl->stop) {
		struct timespec ts = {.tv_sec = pl->next_roll, .tv_nsec = 0};
		if (time(NULL) < pl->next_roll) {
			pthread_cond_timedwait(&pl->cond, &pl->lock, &ts);
			continue; /* re-check stop and the time (spurious wake-ups) */
		}
		for (struct csv_store *st = pl->stores; st; st = st->next) {
			pthread_mutex_lock(&st->lock);
			if (st->store_count || pl->roll.empty)
				csv_roll_now(st);
			pthread_mutex_unlock(&st->lock);
		}
		pl->next_roll = csv_next_roll(&pl->roll, time(NULL), pl->next_roll);
	}
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

/* ---- plugin callbacks ------------------------------------------------------------------ */

static const char *csv_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=<inst> path=<dir> [opt_file=<file>] [altheader=0|1]\n"
	       "       [typeheader=0|1|2] [time_format=0|1] [ietfcsv=0|1] [userdata=0|1]\n"
	       "       [buffer=0|1|N buffertype=3|4] [rolltype=1..5 rollover=N\n"
	       "       [rollagain=N] [rollempty=0|1]] [create_perm=<octal>]\n"
	       "       [create_uid=<uid>] [create_gid=<gid>] [rename_template=<metapath>\n"
	       "       [rename_perm=<octal>] [rename_uid=<uid>] [rename_gid=<gid>]]\n"
	       "       [expand_array=true|false] [array_sep=<c>] [array_lquote=<c>]\n"
	       "       [array_rquote=<c>]\n"
	       "    Default options for every container/schema (once).\n"
	       "    - path        root directory; files are <path>/<container>/<schema>[.<epoch>]\n"
	       "    - altheader   header line in <schema>.HEADER instead of the data file\n"
	       "    - typeheader  also write <schema>.KIND: 1 flat types, 2 array notation\n"
	       "    - time_format 0 Time=<sec>.<usec>,Time_usec; 1 Time_msec,Time_usec\n"
	       "    - rolltype    1 every rollover s, 2 daily at rollover s after midnight,\n"
	       "                  3 after rollover records, 4 after rollover bytes,\n"
	       "                  5 at rollover s after midnight then every rollagain s\n"
	       "    - buffer      0 flush every row, 1 system buffering, N lines/kB (buffertype)\n"
	       "    - rename_template applied to closed files: %P %C %S %T %B %D %s %{VAR}\n"
	       "config name=<inst> container=<c> schema=<s> [<attr>=<value> ...]\n"
	       "    Options for one container/schema (no roll* options).\n";
}

static int csv_init(struct ldmsd_plugin_handle *h)
{
	struct csv_plugin *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return -ENOMEM;
	pl->log_name = strdup(h->log_name ? h->log_name : "store.store_csv");
	pl->plugin_name = strdup(h->plugin_name ? h->plugin_name : "store_csv");
	if (!pl->log_name || !pl->plugin_name) {
		free(pl->log_name);
		free(pl->plugin_name);
		free(pl);
		return -ENOMEM;
	}
	pthread_mutex_init(&pl->lock, NULL);
	pthread_cond_init(&pl->cond, NULL);
	h->ctx = pl;
	return 0;
}

static const char *csv_attr(const struct ldmsd_attrs *a, const char *name)
{
	for (size_t i = 0; a && i < a->count; i++)
		if (!strcmp(a->list[i].name, name))
			return a->list[i].value ? a->list[i].value : "";
	return NULL;
}

/* A config line as a csv_line, every attribute checked. */
static int csv_line_from_attrs(const struct ldmsd_attrs *a, bool key, struct csv_line **out,
			       struct ldms_err *err)
{
	struct csv_line *l = calloc(1, sizeof(*l));
	int rc = 0;

	if (!l)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < a->count && !rc; i++) {
		const char *k = a->list[i].name, *v = a->list[i].value ? a->list[i].value : "";
		if (!strcmp(k, "name") || !strcmp(k, "plugin") || !strcmp(k, "container") ||
		    !strcmp(k, "schema"))
			continue;
		if (csv_line_get(l, !strcmp(k, "array_expand") ? "expand_array" : k))
			continue; /* the first occurrence wins */
		rc = csv_attr_validate(k, v, key, true, err);
		if (!rc && (rc = csv_line_add(l, k, v)))
			ldms_err_set(err, rc, "out of memory");
	}
	if (rc) {
		csv_line_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

static struct csv_store *csv_store_find(struct csv_plugin *pl, const char *c, const char *s)
{
	for (struct csv_store *st = pl->stores; st; st = st->next)
		if (!strcmp(st->container, c) && !strcmp(st->schema, s))
			return st;
	return NULL;
}

static int csv_config_key(struct csv_plugin *pl, const struct ldmsd_attrs *a, const char *c,
			  const char *s, struct ldms_err *err)
{
	struct csv_line *l;
	struct csv_opts o;
	int rc;

	if (csv_attr(a, "opt_file"))
		return ldms_err_set(err, -EINVAL,
				    "opt_file: only allowed when configuring the defaults.");
	if (!pl->configured)
		return ldms_err_set(err, -EINVAL,
				    "container=%s schema=%s: configure the defaults (path=...) "
				    "first.",
				    c, s);
	if (csv_line_find(pl->src.cmd_keys, c, s))
		return ldms_err_set(err, -EEXIST, "container=%s schema=%s: already configured.", c,
				    s);
	rc = csv_line_from_attrs(a, true, &l, err);
	if (rc)
		return rc;
	l->container = strdup(c);
	l->schema = strdup(s);
	if (!l->container || !l->schema) {
		csv_line_free(l);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	if (csv_store_find(pl, c, s)) {
		CSV_LOG(pl, LDMS_LWARN,
			"container=%s schema=%s is already open; its options apply after the "
			"store is closed and reopened.",
			c, s);
	}
	l->next = pl->src.cmd_keys;
	pl->src.cmd_keys = l;
	rc = csv_opts_resolve(&pl->src, c, s, &o, err);
	csv_opts_free(&o);
	if (rc) { /* drop the line again */
		pl->src.cmd_keys = l->next;
		l->next = NULL;
		csv_line_free(l);
	}
	return rc;
}

static int csv_config_defaults(struct csv_plugin *pl, const struct ldmsd_attrs *a,
			       struct ldms_err *err)
{
	struct csv_sources src = {0};
	struct csv_opts o;
	struct csv_roll roll;
	const char *of;
	int rc;

	if (pl->configured)
		return ldms_err_set(err, -EINVAL,
				    "the defaults are already configured; use container= "
				    "schema= to set options for one store.");
	rc = csv_line_from_attrs(a, false, &src.cmd_def, err);
	if (rc)
		return rc;
	of = csv_line_get(src.cmd_def, "opt_file");
	if (of && (rc = csv_optfile_read(of, &src, err)))
		goto fail;
	if ((rc = csv_opts_resolve(&src, NULL, NULL, &o, err)))
		goto fail;
	csv_opts_free(&o);
	for (struct csv_line *l = src.file_keys; l; l = l->next) {
		if ((rc = csv_opts_resolve(&src, l->container, l->schema, &o, err))) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			ldms_err_set(err, rc, "opt_file container=%s schema=%s: %s", l->container,
				     l->schema, msg);
			goto fail;
		}
		csv_opts_free(&o);
	}
	if ((rc = csv_roll_resolve(&src, &roll, err)))
		goto fail;
	pl->src = src;
	pl->roll = roll;
	pl->configured = true;
	if (roll.type == 1 || roll.type == 2 || roll.type == 5) {
		pl->stop = false;
		rc = pthread_create(&pl->thread, NULL, csv_roll_thread, pl);
		if (rc) {
			csv_sources_free(&pl->src);
			pl->configured = false;
			return ldms_err_set(err, -rc, "cannot start the rollover thread: %s",
					    strerror(rc));
		}
		pl->thread_running = true;
	}
	return 0;
fail:
	csv_sources_free(&src);
	return rc;
}

static int csv_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
		      struct ldms_err *err)
{
	struct csv_plugin *pl = h->ctx;
	const char *c = csv_attr(a, "container"), *s = csv_attr(a, "schema");
	int rc;

	if (!c != !s)
		return ldms_err_set(err, -EINVAL,
				    "%s: container= and schema= must be given together (options "
				    "for one store) or not at all (defaults).",
				    c ? "schema" : "container");
	pthread_mutex_lock(&pl->lock);
	if (c)
		rc = csv_config_key(pl, a, c, s, err);
	else
		rc = csv_config_defaults(pl, a, err);
	pthread_mutex_unlock(&pl->lock);
	return rc;
}

static void csv_store_free(struct csv_store *st)
{
	csv_opts_free(&st->o);
	csv_cols_free(st);
	free(st->header_line);
	free(st->kind_line);
	free(st->row.p);
	free(st->container);
	free(st->schema);
	free(st->base);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int csv_store_open(struct ldmsd_plugin_handle *h, const struct ldmsd_store_policy *p,
			  ldms_set_t first_set, void **store_ctx, struct ldms_err *err)
{
	struct csv_plugin *pl = h->ctx;
	struct csv_store *st;
	const char *c = p ? p->container : NULL;
	const char *s =
	    p && p->schema ? p->schema : (first_set ? ldms_set_schema_name_get(first_set) : NULL);
	int rc;

	if (!c || !*c)
		return ldms_err_set(err, -EINVAL,
				    "container: store_csv needs strgp_add container=<name>.");
	if (!s || !*s)
		return ldms_err_set(err, -EINVAL, "schema: no schema name for the policy.");
	if (strchr(c, '/') || strchr(s, '/') || !strcmp(c, "..") || !strcmp(s, ".."))
		return ldms_err_set(err, -EINVAL,
				    "container '%s' / schema '%s': must not contain '/'.", c, s);
	pthread_mutex_lock(&pl->lock);
	if (!pl->configured) {
		rc = ldms_err_set(err, -EINVAL, "not configured: config name=%s path=<dir> first.",
				  h->inst_name ? h->inst_name : "store_csv");
		goto out;
	}
	st = csv_store_find(pl, c, s);
	if (st) {
		st->refcount++;
		*store_ctx = st;
		rc = 0;
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->pl = pl;
	st->refcount = 1;
	st->container = strdup(c);
	st->schema = strdup(s);
	if (!st->container || !st->schema) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		csv_store_free(st);
		goto out;
	}
	if ((rc = csv_opts_resolve(&pl->src, c, s, &st->o, err))) {
		csv_store_free(st);
		goto out;
	}
	if (asprintf(&st->base, "%s/%s/%s", st->o.path, c, s) < 0) {
		st->base = NULL;
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		csv_store_free(st);
		goto out;
	}
	if (first_set) {
		if ((rc = csv_layout_build(st, p, first_set, err)) ||
		    (rc = csv_lines_build(st) ? ldms_err_set(err, -ENOMEM, "out of memory") : 0)) {
			csv_store_free(st);
			goto out;
		}
	}
	pthread_mutex_lock(&st->lock);
	rc = csv_files_open(st, time(NULL), err);
	pthread_mutex_unlock(&st->lock);
	if (rc) {
		CSV_LOG(pl, LDMS_LERROR, "strgp %s: %s", p && p->strgp_name ? p->strgp_name : "?",
			err->msg);
		csv_store_free(st);
		goto out;
	}
	st->next = pl->stores;
	pl->stores = st;
	*store_ctx = st;
out:
	pthread_mutex_unlock(&pl->lock);
	return rc;
}

static void csv_flush_policy(struct csv_store *st)
{
	bool flush = false;

	if (st->o.buffer == 0)
		flush = true;
	else if (st->o.buffertype == 3 && st->store_count - st->rows_flushed >= st->o.buffer)
		flush = true;
	else if (st->o.buffertype == 4 && st->byte_count - st->bytes_flushed >= st->o.buffer)
		flush = true;
	if (!flush)
		return;
	if (fflush(st->file))
		CSV_LOG(st->pl, LDMS_LERROR, "error flushing '%s': %s", st->data_name,
			strerror(errno));
	st->rows_flushed = st->store_count;
	st->bytes_flushed = st->byte_count;
}

static int csv_store(struct ldmsd_plugin_handle *h, void *store_ctx, ldms_set_t set,
		     const struct ldmsd_store_policy *p)
{
	struct csv_store *st = store_ctx;
	struct csv_plugin *pl = st->pl;
	struct csv_buf *row = &st->row;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if (!st->have_layout) {
		struct ldms_err err;
		ldms_err_clear(&err);
		if (csv_layout_build(st, p, set, &err) || csv_lines_build(st)) {
			CSV_LOG(pl, LDMS_LERROR, "%s/%s: %s", st->container, st->schema,
				err.msg[0] ? err.msg : "out of memory");
			rc = err.rc ? err.rc : -ENOMEM;
			goto out;
		}
	}
	if (st->header_pending)
		csv_headers_write(st);
	/* Record and byte limits are checked between rows: the file that reached the
	 * limit is closed before this row goes to the next one. */
	if ((pl->roll.type == 3 && st->store_count >= pl->roll.over) ||
	    (pl->roll.type == 4 && st->byte_count >= pl->roll.over))
		csv_roll_now(st);
	if (!st->file) {
		rc = -EBADF;
		goto out;
	}
	row->len = 0;
	row->oom = 0;
	csv_row_build(st, set, row);
	if (row->oom) {
		rc = -ENOMEM;
		goto out;
	}
	if (fwrite(row->p, 1, row->len, st->file) != row->len) {
		rc = errno ? -errno : -EIO;
		if (!st->warned_write)
			CSV_LOG(pl, LDMS_LERROR, "cannot write to '%s': %s", st->data_name,
				strerror(-rc));
		st->warned_write = true;
		goto out;
	}
	st->warned_write = false;
	st->store_count++;
	st->byte_count += (int64_t)row->len;
	csv_flush_policy(st);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int csv_store_flush(struct ldmsd_plugin_handle *h, void *store_ctx)
{
	struct csv_store *st = store_ctx;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if (st->file && fflush(st->file))
		rc = -errno;
	st->rows_flushed = st->store_count;
	st->bytes_flushed = st->byte_count;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static void csv_store_close(struct ldmsd_plugin_handle *h, void *store_ctx)
{
	struct csv_store *st = store_ctx;
	struct csv_plugin *pl = st->pl;

	pthread_mutex_lock(&pl->lock);
	if (--st->refcount > 0) {
		pthread_mutex_unlock(&pl->lock);
		return;
	}
	for (struct csv_store **pp = &pl->stores; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	pthread_mutex_unlock(&pl->lock);
	pthread_mutex_lock(&st->lock);
	csv_files_close(st);
	pthread_mutex_unlock(&st->lock);
	csv_store_free(st);
}

static void csv_term(struct ldmsd_plugin_handle *h)
{
	struct csv_plugin *pl = h->ctx;

	if (!pl)
		return;
	pthread_mutex_lock(&pl->lock);
	pl->stop = true;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	if (pl->thread_running)
		pthread_join(pl->thread, NULL);
	while (pl->stores) { /* ldmsd closes its stores first; this is a safety net */
		struct csv_store *st = pl->stores;
		pl->stores = st->next;
		csv_files_close(st);
		csv_store_free(st);
	}
	csv_sources_free(&pl->src);
	pthread_cond_destroy(&pl->cond);
	pthread_mutex_destroy(&pl->lock);
	free(pl->log_name);
	free(pl->plugin_name);
	free(pl);
	h->ctx = NULL;
}

static const struct ldmsd_plugin csv_plugin = {
    .name = "store_csv",
    .type = LDMSD_PLUGIN_STORE,
    .api_version = LDMSD_PLUGIN_API_VERSION,
    .multi_instance = 1,
    .multi_config = 1,
    .usage = csv_usage,
    .init = csv_init,
    .config = csv_config,
    .term = csv_term,
    .store_open = csv_store_open,
    .store = csv_store,
    .store_flush = csv_store_flush,
    .store_close = csv_store_close,
};

const struct ldmsd_plugin *ldmsd_plugin_get(void)
{
	return &csv_plugin;
}
