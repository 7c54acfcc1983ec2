/* The config-language lexer/parser (§1.1) and the two-pass runner (§1.2): text ->
 * logical lines -> requests; priority verbs run while files are read, the others
 * after start-up, the prdcr_start family, updtr_start and strgp_start last. `include` lives here
 * because it re-enters the runner with the same pass semantics as inline text. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldmsd_cmd.h"
#include "ldmsd_config.h"
#include "ldmsd.h"

#define CFG_LOG	     "config"
#define CFG_FILE_MAX (64u * 1024 * 1024)

/* ---- lexer ----------------------------------------------------------------------------- */
static int is_ws(char c)
{
	return isspace((unsigned char)c);
}

size_t ldmsd_cfg_comment_strip(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] == '#' && (i == 0 || is_ws(line[i - 1])))
			return i;
	return len;
}

static int lines_err(struct ldms_err *err, const char *name, int line, int rc, const char *msg)
{
	return ldms_err_set_loc(err, rc, name, line, 0, "%s", msg);
}

int ldmsd_cfg_lines(const char *name, const char *text, size_t len, ldmsd_cfg_line_fn fn, void *arg,
		    struct ldms_err *err)
{
	struct ldmsd_buf lb = {0};
	const char *p = text, *end = text + len;
	int lineno = 0, start = 0, cont = 0, rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t pl = (size_t)(le - p);
		lineno++;
		if (memchr(p, '\0', pl)) {
			rc = lines_err(err, name, lineno, -EINVAL, "NUL byte in line");
			goto out;
		}
		pl = ldmsd_cfg_comment_strip(p, pl);
		const char *s = p, *e = p + pl;
		while (s < e && is_ws(*s))
			s++;
		while (e > s && is_ws(e[-1]))
			e--;
		int c = e > s && e[-1] == '\\';
		if (!cont) {
			ldmsd_buf_reset(&lb);
			start = lineno;
		}
		if (ldmsd_buf_append(&lb, s, (size_t)(e - s - c)) ||
		    (c && ldmsd_buf_append(&lb, " ", 1))) {
			rc = lines_err(err, name, lineno, -ENOMEM, "out of memory");
			goto out;
		}
		if (lb.len > LDMSD_CFG_LINE_MAX) {
			rc = lines_err(err, name, start, -EINVAL, "line too long");
			goto out;
		}
		cont = c;
		p = nl ? nl + 1 : end;
		if (cont && p < end)
			continue;
		/* a logical line is complete (or the file ended inside a continuation) */
		size_t l = lb.len;
		while (l && is_ws(lb.s[l - 1]))
			l--;
		cont = 0;
		if (l) {
			lb.s[l] = '\0';
			rc = fn(arg, lb.s, l, start);
			if (rc)
				goto out;
		}
	}
out:
	ldmsd_buf_free(&lb);
	return rc;
}

static int parse_err(struct ldms_err *err, const struct ldmsd_origin *o, int col, int rc,
		     const char *fmt, const char *a, int al, const char *b)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, al, a, b);
	if (o && o->kind == LDMSD_ORIGIN_FILE)
		return ldms_err_set_loc(err, rc, o->file, o->line, col, "%s", msg);
	return ldms_err_set(err, rc, "%s", msg);
}

int ldmsd_cfg_parse_line(const char *line, size_t len, const struct ldmsd_origin *o,
			 struct ldmsd_req **out, struct ldms_err *err)
{
	struct ldmsd_req *r = NULL;
	struct ldmsd_buf ff = {0};
	int rc, ff_col = 0;
	*out = NULL;

	ldmsd_cmd_registry_init();
	/* verb: up to the first SPACE (a tab makes it unknown, as upstream) */
	const char *sp = memchr(line, ' ', len);
	size_t vl = sp ? (size_t)(sp - line) : len;
	char *verb = strndup(line, vl);
	if (!verb)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	int id = ldms_ctrl_cmd_id(verb);
	if (id < 0) {
		rc = parse_err(err, o, 1, -ENOSYS, "unknown command '%.*s'%s", verb,
			       vl > 64 ? 64 : (int)vl, vl > 64 ? "..." : "");
		free(verb);
		return rc;
	}
	r = ldmsd_req_new((uint32_t)id, verb);
	free(verb);
	if (!r)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	if (o)
		r->origin = *o;
	uint32_t fl = ldmsd_cmd_flags((uint32_t)id);
	const struct ldmsd_cmd_def *def = ldmsd_cmd_def_find((uint32_t)id);
	const char *p = sp ? sp + 1 : line + len, *end = line + len;

	if (def && (def->flags & LDMSD_CMD_F_RAW)) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && ldmsd_req_attr_add(r, LDMSD_ATTR_STRING, p, (size_t)(end - p),
						  (int)(p - line) + 1) < 0)
			goto oom;
		*out = r;
		return 0;
	}
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		const char *t = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		size_t tl = (size_t)(p - t);
		int col = (int)(t - line) + 1;
		const char *eq = memchr(t, '=', tl);
		size_t nl = eq ? (size_t)(eq - t) : tl;
		const char *v = eq ? eq + 1 : "";
		size_t vlen = eq ? tl - nl - 1 : 0;
		char *name = strndup(t, nl);
		if (!name)
			goto oom;
		int aid = ldms_ctrl_attr_id(name);
		int named = aid >= 0 && ldmsd_cmd_attr_allowed((uint32_t)id, (uint32_t)aid);
		if (fl & LDMS_CTRL_F_FREEFORM) {
			if (aid == LDMSD_ATTR_STRING)
				named = 0;
			if (!named) {
				/* folded verbatim; the handler applies the value rules */
				if (!ff.len)
					ff_col = col;
				if ((ff.len && ldmsd_buf_append(&ff, " ", 1)) ||
				    ldmsd_buf_append(&ff, t, tl)) {
					free(name);
					goto oom;
				}
				free(name);
				continue;
			}
		} else if (!named) {
			rc = parse_err(err, o, col, -EINVAL,
				       "invalid attribute '%.*s' for command '%s'", name,
				       nl > 64 ? 64 : (int)nl, r->verb);
			free(name);
			goto fail;
		}
		free(name);
		ldmsd_value_unquote(&v, &vlen);
		if (ldmsd_req_attr_add(r, (uint32_t)aid, v, vlen, col) < 0)
			goto oom;
	}
	if (ff.len && ldmsd_req_attr_add(r, LDMSD_ATTR_STRING, ff.s, ff.len, ff_col) < 0)
		goto oom;
	ldmsd_buf_free(&ff);
	*out = r;
	return 0;
oom:
	rc = ldms_err_set(err, -ENOMEM, "out of memory");
fail:
	ldmsd_buf_free(&ff);
	ldmsd_req_free(r);
	return rc;
}

/* ---- runner ------------------------------------------------------------------------------- */
struct ldmsd_cfg_run {
	struct ldmsd *d;
	enum ldmsd_cfg_mode mode;
	int depth;
	struct ldmsd_req **normal; /* STARTUP: non-priority commands, in order */
	size_t n_normal, cap_normal;
	/* A failure inside an included file, already located in that file. */
	struct ldms_err nested;
	int nested_set;
};

struct ldmsd_cfg_run *ldmsd_cfg_run_new(struct ldmsd *d, enum ldmsd_cfg_mode mode)
{
	struct ldmsd_cfg_run *run = calloc(1, sizeof(*run));
	if (!run)
		return NULL;
	run->d = d;
	run->mode = mode;
	return run;
}

void ldmsd_cfg_run_free(struct ldmsd_cfg_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n_normal; i++)
		ldmsd_req_free(run->normal[i]);
	free(run->normal);
	free(run);
}

enum ldmsd_cfg_mode ldmsd_cfg_run_mode(const struct ldmsd_cfg_run *run)
{
	return run->mode;
}

size_t ldmsd_cfg_run_pending(const struct ldmsd_cfg_run *run)
{
	return run->n_normal;
}

static int run_exec(struct ldmsd_cfg_run *run, const struct ldmsd_req *r, struct ldms_err *err)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	run->nested_set = 0;
	int rc = ldmsd_cmd_exec(run->d, r, run, &rep);
	if (rc) {
		if (run->nested_set)
			*err = run->nested;
		else
			ldms_err_set_loc(err, rc, r->origin.file, r->origin.line, 0, "%s",
					 ldmsd_buf_str(&rep.msg));
		run->nested_set = 0;
	} else if (rep.msg.len) {
		ldms_log(LDMS_LINFO, CFG_LOG, "%s:%d: %s", r->origin.file, r->origin.line,
			 rep.msg.s);
	}
	ldmsd_reply_free(&rep);
	return rc;
}

/* Takes ownership of r. */
static int run_req(struct ldmsd_cfg_run *run, struct ldmsd_req *r, struct ldms_err *err)
{
	uint32_t fl = ldmsd_cmd_flags(r->id);
	int rc = 0;
	switch (run->mode) {
	case LDMSD_CFG_CHECK:
		if (r->id == LDMSD_ENV_REQ || r->id == LDMSD_INCLUDE_REQ)
			rc = run_exec(run, r, err);
		else
			rc = ldmsd_cmd_validate(r, err);
		break;
	case LDMSD_CFG_STARTUP:
		if (!(fl & LDMS_CTRL_F_PRIORITY)) {
			if (run->n_normal == run->cap_normal) {
				size_t nc = run->cap_normal ? 2 * run->cap_normal : 32;
				struct ldmsd_req **n = realloc(run->normal, nc * sizeof(*n));
				if (!n) {
					rc = ldms_err_set(err, -ENOMEM, "out of memory");
					break;
				}
				run->normal = n;
				run->cap_normal = nc;
			}
			run->normal[run->n_normal++] = r;
			return 0;
		}
		rc = run_exec(run, r, err);
		break;
	case LDMSD_CFG_RUNTIME:
		rc = run_exec(run, r, err);
		break;
	}
	ldmsd_req_free(r);
	return rc;
}

struct line_ctx {
	struct ldmsd_cfg_run *run;
	const char *name;
	struct ldms_err *err;
};

static int run_line(void *arg, const char *line, size_t len, int lineno)
{
	struct line_ctx *lc = arg;
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = lineno};
	snprintf(o.file, sizeof(o.file), "%s", lc->name);
	struct ldmsd_req *r;
	int rc = ldmsd_cfg_parse_line(line, len, &o, &r, lc->err);
	if (rc)
		return rc;
	return run_req(lc->run, r, lc->err);
}

int ldmsd_cfg_run_text(struct ldmsd_cfg_run *run, const char *name, const char *text, size_t len,
		       struct ldms_err *err)
{
	if (run->depth >= LDMSD_CFG_INCLUDE_MAX)
		return ldms_err_set_loc(err, -ELOOP, name, 0, 0,
					"include nesting deeper than %d (include loop?)",
					LDMSD_CFG_INCLUDE_MAX);
	struct line_ctx lc = {.run = run, .name = name, .err = err};
	run->depth++;
	int rc = ldmsd_cfg_lines(name, text, len, run_line, &lc, err);
	run->depth--;
	return rc;
}

static int read_file(const char *path, char **text, size_t *len, struct ldms_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ldms_err_set(err, -errno, "cannot open config file '%s': %s", path,
				    strerror(errno));
	struct ldmsd_buf b = {0};
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > CFG_FILE_MAX) {
			rc = ldms_err_set(err, -EFBIG, "config file '%s' is too large", path);
			break;
		}
		if (ldmsd_buf_append(&b, chunk, n)) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
	}
	if (!rc && ferror(f))
		rc = ldms_err_set(err, -EIO, "error reading config file '%s'", path);
	fclose(f);
	if (rc) {
		ldmsd_buf_free(&b);
		return rc;
	}
	*text = b.s;
	*len = b.len;
	return 0;
}

int ldmsd_cfg_run_file(struct ldmsd_cfg_run *run, const char *path, struct ldms_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len, err);
	if (rc)
		return rc;
	rc = ldmsd_cfg_run_text(run, path, text ? text : "", len, err);
	free(text);
	return rc;
}

int ldmsd_cfg_run_finish(struct ldmsd_cfg_run *run, struct ldms_err *err)
{
	int rc = 0;
	if (run->mode != LDMSD_CFG_STARTUP)
		return 0;
	size_t n_def = 0;
	/* normal pass: deferred commands are compacted to the front, in order */
	for (size_t i = 0; i < run->n_normal && !rc; i++) {
		struct ldmsd_req *r = run->normal[i];
		if (ldmsd_cmd_flags(r->id) & LDMS_CTRL_F_DEFERRED) {
			run->normal[i] = NULL;
			run->normal[n_def++] = r;
			continue;
		}
		rc = run_exec(run, r, err);
		ldmsd_req_free(r);
		run->normal[i] = NULL;
	}
	for (size_t i = 0; i < n_def && !rc; i++)
		rc = run_exec(run, run->normal[i], err);
	for (size_t i = 0; i < run->n_normal; i++)
		ldmsd_req_free(run->normal[i]);
	run->n_normal = 0;
	return rc;
}

/* ---- include ----------------------------------------------------------------------------- */
static int include_handler(struct ldmsd_req_ctxt *c)
{
	const char *path = ldmsd_req_attr(c, LDMSD_ATTR_PATH);
	if (!path || !*path)
		return ldmsd_reply_err(c, -EINVAL, "include: 'path' is empty");
	struct ldmsd_cfg_run *run = c->run;
	struct ldmsd_cfg_run *own = NULL;
	if (!run) {
		own = run = ldmsd_cfg_run_new(c->d, LDMSD_CFG_RUNTIME);
		if (!run)
			return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	struct ldms_err e;
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_run_file(run, path, &e);
	ldmsd_cfg_run_free(own);
	if (rc) {
		char buf[1024];
		if (!own && e.file[0]) {
			run->nested = e;
			run->nested_set = 1;
		}
		return ldmsd_reply_err(c, rc, "%s", ldms_err_str(&e, buf, sizeof(buf)));
	}
	return 0;
}

const struct ldmsd_cmd_def ldmsd_config_cmds[] = {
    {"include", include_handler, 0,
     (const struct ldmsd_attr_spec[]){{"path", LDMSD_ATTR_F_REQ}, {NULL, 0}}},
    {NULL, NULL, 0, NULL},
};
