/* The command registry and dispatcher: command definitions from every object file
 * are indexed by request id, requests are validated against them (attributes valid
 * for THAT command, required ones present), permission-checked when they come from
 * the network, and run under the daemon's command lock with a request context. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldmsd/ldmsd_plugin.h>

#include "ldmsd_cmd.h"
#include "ldmsd.h"
#include "ldmsd_dump.h"
#include "ldmsd_sec.h"
#include "ldmsd_verbs.h"

/* Tables of the object files. Issue 3 adds prdcr/updtr/strgp/... here. */
extern const struct ldmsd_cmd_def ldmsd_daemon_cmds[];
extern const struct ldmsd_cmd_def ldmsd_config_cmds[];
extern const struct ldmsd_cmd_def ldmsd_listen_cmds[];
extern const struct ldmsd_cmd_def ldmsd_plugin_cmds[];
extern const struct ldmsd_cmd_def ldmsd_ctrl_cmds[];
extern const struct ldmsd_cmd_def ldmsd_prdcr_cmds[];
extern const struct ldmsd_cmd_def ldmsd_updtr_cmds[];
extern const struct ldmsd_cmd_def ldmsd_strgp_cmds[];
extern const struct ldmsd_cmd_def ldmsd_store_worker_cmds[];
extern const struct ldmsd_cmd_def ldmsd_stats_cmds[];
extern const struct ldmsd_cmd_def ldmsd_sec_cmds[];
extern const struct ldmsd_cmd_def ldmsd_dump_cmds[];
extern const struct ldmsd_cmd_def ldmsd_msg_cmds[];
extern const struct ldmsd_cmd_def ldmsd_qgroup_cmds[];

static const struct ldmsd_cmd_def *const cmd_tables[] = {
    ldmsd_daemon_cmds,	     ldmsd_config_cmds, ldmsd_listen_cmds,    ldmsd_plugin_cmds,
    ldmsd_ctrl_cmds,	     ldmsd_prdcr_cmds,	ldmsd_updtr_cmds,     ldmsd_strgp_cmds,
    ldmsd_store_worker_cmds, ldmsd_stats_cmds,	ldmsd_sec_cmds,	      ldmsd_dump_cmds,
    ldmsd_msg_cmds,	     ldmsd_qgroup_cmds, ldmsd_verbs_set_cmds, ldmsd_verbs_stream_cmds,
    ldmsd_verbs_stats_cmds,
};

/* Request ids are < 0x1000 (ranges 0x0xx..0xdxx), so a direct index is cheap. */
#define CMD_ID_MAX 0x1000

struct cmd_ent {
	const struct ldmsd_cmd_def *def;
	uint64_t named;	   /* attribute ids that are named attributes of the command */
	uint64_t required; /* attribute ids that must be present */
};

static struct cmd_ent cmd_index[CMD_ID_MAX];
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static int registry_rc;

_Static_assert(LDMSD_ATTR_LAST <= 64, "attribute ids must fit a 64-bit mask");

static void registry_build(void)
{
	for (size_t t = 0; t < sizeof(cmd_tables) / sizeof(cmd_tables[0]); t++) {
		for (const struct ldmsd_cmd_def *def = cmd_tables[t]; def->verb; def++) {
			int id = ldms_ctrl_cmd_id(def->verb);
			if (id < 0 || id >= CMD_ID_MAX || cmd_index[id].def) {
				ldms_log(LDMS_LCRITICAL, LDMSD_LOG,
					 "command table: bad or duplicate verb '%s'", def->verb);
				registry_rc = -EINVAL;
				continue;
			}
			struct cmd_ent *e = &cmd_index[id];
			e->def = def;
			for (const struct ldmsd_attr_spec *a = def->attrs; a && a->name; a++) {
				int aid = ldms_ctrl_attr_id(a->name);
				if (aid < 0 || aid >= 64) {
					ldms_log(LDMS_LCRITICAL, LDMSD_LOG,
						 "command table: '%s' names unknown attribute '%s'",
						 def->verb, a->name);
					registry_rc = -EINVAL;
					continue;
				}
				e->named |= 1ull << aid;
				if (a->flags & LDMSD_ATTR_F_REQ)
					e->required |= 1ull << aid;
			}
		}
	}
}

int ldmsd_cmd_registry_init(void)
{
	pthread_once(&registry_once, registry_build);
	return registry_rc;
}

const struct ldmsd_cmd_def *ldmsd_cmd_def_find(uint32_t id)
{
	ldmsd_cmd_registry_init();
	return id < CMD_ID_MAX ? cmd_index[id].def : NULL;
}

uint32_t ldmsd_cmd_flags(uint32_t id)
{
	return ldms_ctrl_cmd_perm(id);
}

int ldmsd_cmd_attr_allowed(uint32_t id, uint32_t attr_id)
{
	ldmsd_cmd_registry_init();
	if (attr_id >= 64 || !ldms_ctrl_attr_name(attr_id))
		return 0;
	if (id >= CMD_ID_MAX || !cmd_index[id].def)
		return 1;
	return (cmd_index[id].named >> attr_id) & 1;
}

static const char *attr_name(uint32_t id, char *buf, size_t len)
{
	const char *n = ldms_ctrl_attr_name(id);
	if (n)
		return n;
	snprintf(buf, len, "#%u", id);
	return buf;
}

static const char *cmd_name(const struct ldmsd_req *r)
{
	if (r->verb && r->verb[0])
		return r->verb;
	const char *n = ldms_ctrl_cmd_name(r->id);
	return n ? n : "?";
}

static int err_at(struct ldms_err *err, const struct ldmsd_req *r, int col, int rc, const char *msg)
{
	if (r->origin.kind == LDMSD_ORIGIN_FILE)
		return ldms_err_set_loc(err, rc, r->origin.file, r->origin.line, col, "%s", msg);
	return ldms_err_set(err, rc, "%s", msg);
}

int ldmsd_cmd_validate(const struct ldmsd_req *r, struct ldms_err *err)
{
	char msg[400], nb[72];
	ldmsd_cmd_registry_init();
	uint32_t fl = ldms_ctrl_cmd_perm(r->id);
	if (!fl) {
		snprintf(msg, sizeof(msg), "unknown command id %#x", r->id);
		return err_at(err, r, 0, -ENOSYS, msg);
	}
	const struct cmd_ent *e = r->id < CMD_ID_MAX ? &cmd_index[r->id] : NULL;
	uint64_t seen = 0;
	for (size_t i = 0; i < r->count; i++) {
		uint32_t aid = r->attrs[i].id;
		if (aid == LDMSD_ATTR_STRING && (fl & LDMS_CTRL_F_FREEFORM))
			continue;
		if (!ldmsd_cmd_attr_allowed(r->id, aid)) {
			const char *an = attr_name(aid, nb, sizeof(nb));
			/* Clients fold attribute names they do not know into one STRING
			 * ("ofset=1 ..."): name the first folded word, not 'string'. */
			if (aid == LDMSD_ATTR_STRING && r->attrs[i].value && r->attrs[i].value[0]) {
				size_t n = strcspn(r->attrs[i].value, "= \t");
				snprintf(nb, sizeof(nb), "%.*s", (int)(n < 64 ? n : 64),
					 r->attrs[i].value);
				an = nb;
			}
			snprintf(msg, sizeof(msg), "invalid attribute '%s' for command '%s'", an,
				 cmd_name(r));
			return err_at(err, r, r->attrs[i].col, -EINVAL, msg);
		}
		seen |= 1ull << aid;
	}
	if (e && e->def) {
		uint64_t missing = e->required & ~seen;
		if (missing) {
			int aid = __builtin_ctzll(missing);
			const char *an = attr_name((uint32_t)aid, nb, sizeof(nb));
			/* name it as the command's documentation does (mode, not level) */
			for (const struct ldmsd_attr_spec *a = e->def->attrs; a && a->name; a++)
				if (ldms_ctrl_attr_id(a->name) == aid)
					an = a->name;
			snprintf(msg, sizeof(msg), "command '%s' requires attribute '%s'",
				 cmd_name(r), an);
			return err_at(err, r, 0, -EINVAL, msg);
		}
	}
	return 0;
}

/* ---- requests ------------------------------------------------------------------------ */
struct ldmsd_req *ldmsd_req_new(uint32_t id, const char *verb)
{
	struct ldmsd_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = id;
	if (!verb)
		verb = ldms_ctrl_cmd_name(id);
	r->verb = strdup(verb ? verb : "");
	if (!r->verb) {
		free(r);
		return NULL;
	}
	return r;
}

void ldmsd_req_free(struct ldmsd_req *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->attrs[i].value);
	free(r->attrs);
	free(r->verb);
	free(r);
}

const struct ldmsd_req_attr *ldmsd_req_attr_find(const struct ldmsd_req *r, uint32_t id)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->attrs[i].id == id)
			return &r->attrs[i];
	return NULL;
}

int ldmsd_req_attr_add(struct ldmsd_req *r, uint32_t id, const char *value, size_t len, int col)
{
	if (ldmsd_req_attr_find(r, id))
		return 1;
	if (r->count == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 8;
		struct ldmsd_req_attr *n = realloc(r->attrs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		r->attrs = n;
		r->cap = ncap;
	}
	char *v = strndup(value ? value : "", value ? len : 0);
	if (!v)
		return -ENOMEM;
	r->attrs[r->count++] = (struct ldmsd_req_attr){.id = id, .col = col, .value = v};
	return 0;
}

/* ---- buffers --------------------------------------------------------------------------- */
static int buf_reserve(struct ldmsd_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + extra + 1)
		ncap *= 2;
	char *n = realloc(b->s, ncap);
	if (!n)
		return -ENOMEM;
	b->s = n;
	b->cap = ncap;
	return 0;
}

int ldmsd_buf_append(struct ldmsd_buf *b, const char *s, size_t len)
{
	if (buf_reserve(b, len))
		return -ENOMEM;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

static int buf_vprintf(struct ldmsd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	if (buf_reserve(b, (size_t)n))
		return -ENOMEM;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int ldmsd_buf_printf(struct ldmsd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int ldmsd_buf_json_str(struct ldmsd_buf *b, const char *s)
{
	int rc = ldmsd_buf_append(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			rc = ldmsd_buf_append(b, e, 2);
		} else if (*p < 0x20) {
			rc = ldmsd_buf_printf(b, "\\u%04x", *p);
		} else {
			rc = ldmsd_buf_append(b, (const char *)p, 1);
		}
	}
	return rc ? rc : ldmsd_buf_append(b, "\"", 1);
}

const char *ldmsd_buf_str(const struct ldmsd_buf *b)
{
	return b->s ? b->s : "";
}

void ldmsd_buf_reset(struct ldmsd_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void ldmsd_buf_free(struct ldmsd_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void ldmsd_reply_init(struct ldmsd_reply *r)
{
	memset(r, 0, sizeof(*r));
}

void ldmsd_reply_reset(struct ldmsd_reply *r)
{
	r->rc = 0;
	ldmsd_buf_reset(&r->msg);
	ldmsd_buf_reset(&r->json);
}

void ldmsd_reply_free(struct ldmsd_reply *r)
{
	ldmsd_buf_free(&r->msg);
	ldmsd_buf_free(&r->json);
	r->rc = 0;
}

/* ---- environment expansion -------------------------------------------------------------- */
char *ldmsd_env_expand(const char *s)
{
	struct ldmsd_buf b = {0};
	const char *p = s;
	if (ldmsd_buf_append(&b, "", 0))
		return NULL;
	while (*p) {
		const char *d = strstr(p, "${");
		if (!d) {
			if (ldmsd_buf_append(&b, p, strlen(p)))
				goto oom;
			break;
		}
		const char *n = d + 2, *q = n;
		while (*q && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		if (q == n || *q != '}') {
			/* not a reference: keep "${" and go on after it */
			if (ldmsd_buf_append(&b, p, (size_t)(n - p)))
				goto oom;
			p = n;
			continue;
		}
		if (ldmsd_buf_append(&b, p, (size_t)(d - p)))
			goto oom;
		char name[256];
		size_t nl = (size_t)(q - n);
		const char *v = NULL;
		if (nl < sizeof(name)) {
			memcpy(name, n, nl);
			name[nl] = '\0';
			v = getenv(name);
		}
		if (v && ldmsd_buf_append(&b, v, strlen(v)))
			goto oom;
		p = q + 1;
	}
	return b.s;
oom:
	ldmsd_buf_free(&b);
	return NULL;
}

/* ---- request context accessors ---------------------------------------------------------- */
const char *ldmsd_req_attr(struct ldmsd_req_ctxt *c, uint32_t id)
{
	const struct ldmsd_req_attr *a = ldmsd_req_attr_find(c->req, id);
	if (!a)
		return NULL;
	char *v = ldmsd_env_expand(a->value);
	if (!v)
		return NULL;
	char **n = realloc(c->exp, (c->n_exp + 1) * sizeof(*n));
	if (!n) {
		free(v);
		return NULL;
	}
	c->exp = n;
	c->exp[c->n_exp++] = v;
	return v;
}

const char *ldmsd_req_attr_n(struct ldmsd_req_ctxt *c, const char *name)
{
	int id = ldms_ctrl_attr_id(name);
	return id < 0 ? NULL : ldmsd_req_attr(c, (uint32_t)id);
}

const char *ldmsd_req_freeform(struct ldmsd_req_ctxt *c)
{
	return ldmsd_req_attr(c, LDMSD_ATTR_STRING);
}

const char *ldmsd_req_verb(const struct ldmsd_req_ctxt *c)
{
	return cmd_name(c->req);
}

int ldmsd_reply_err(struct ldmsd_req_ctxt *c, int rc, const char *fmt, ...)
{
	va_list ap;
	ldmsd_buf_reset(&c->reply->msg);
	va_start(ap, fmt);
	buf_vprintf(&c->reply->msg, fmt, ap);
	va_end(ap);
	c->reply->rc = rc;
	return rc;
}

void ldmsd_reply_msg(struct ldmsd_req_ctxt *c, const char *fmt, ...)
{
	va_list ap;
	ldmsd_buf_reset(&c->reply->msg);
	va_start(ap, fmt);
	buf_vprintf(&c->reply->msg, fmt, ap);
	va_end(ap);
}

struct ldmsd_buf *ldmsd_reply_json(struct ldmsd_req_ctxt *c)
{
	return &c->reply->json;
}

/* ---- attribute lists for plugins ---------------------------------------------------------- */
void ldmsd_value_unquote(const char **v, size_t *len)
{
	if (*len && (*v)[0] == '"') {
		if (*len >= 2) {
			(*v)++;
			*len -= 2;
		} else {
			*len = 0;
		}
	}
}

int ldmsd_attrs_parse(const char *s, struct ldmsd_attrs *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	const char *p = s ? s : "";
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *t = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		size_t tl = (size_t)(p - t);
		const char *eq = memchr(t, '=', tl);
		size_t nl = eq ? (size_t)(eq - t) : tl;
		const char *v = eq ? eq + 1 : "";
		size_t vl = eq ? tl - nl - 1 : 0;
		ldmsd_value_unquote(&v, &vl);
		if (out->count == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct ldmsd_attr *n = realloc(out->list, ncap * sizeof(*n));
			if (!n)
				goto oom;
			out->list = n;
			cap = ncap;
		}
		char *name = strndup(t, nl), *val = strndup(v, vl);
		if (!name || !val) {
			free(name);
			free(val);
			goto oom;
		}
		out->list[out->count++] = (struct ldmsd_attr){.name = name, .value = val};
	}
	return 0;
oom:
	ldmsd_attrs_free(out);
	return -ENOMEM;
}

void ldmsd_attrs_free(struct ldmsd_attrs *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->list[i].name);
		free(a->list[i].value);
	}
	free(a->list);
	a->list = NULL;
	a->count = 0;
}

const char *ldmsd_attr_value(const struct ldmsd_attrs *a, const char *name)
{
	for (size_t i = 0; a && i < a->count; i++)
		if (!strcmp(a->list[i].name, name))
			return a->list[i].value;
	return NULL;
}

/* ---- dispatch ---------------------------------------------------------------------------------
 */
static int is_failover(uint32_t id)
{
	return id >= LDMSD_FAILOVER_CONFIG_REQ && id <= LDMSD_FAILOVER_STOP_REQ;
}

int ldmsd_cmd_exec(struct ldmsd *d, const struct ldmsd_req *r, struct ldmsd_cfg_run *run,
		   struct ldmsd_reply *reply)
{
	struct ldms_err err;
	ldms_err_clear(&err);
	ldmsd_reply_reset(reply);
	ldmsd_cmd_registry_init();

	int rc = ldmsd_cmd_validate(r, &err);
	if (rc) {
		reply->rc = rc;
		ldmsd_buf_printf(&reply->msg, "%s", err.msg);
		return rc;
	}
	uint32_t fl = ldms_ctrl_cmd_perm(r->id);
	char am[200];
	rc = ldmsd_req_authorize(d, r, geteuid(), getegid(), am, sizeof(am));
	if (rc) {
		reply->rc = rc;
		ldmsd_buf_printf(&reply->msg, "%s", am);
		return rc;
	}
	const struct ldmsd_cmd_def *def = ldmsd_cmd_def_find(r->id);
	if (!def || !def->fn) {
		if (is_failover(r->id)) {
			reply->rc = -ENOTSUP;
			ldmsd_buf_printf(&reply->msg,
					 "'%s': pairwise failover is not supported (removed "
					 "upstream); use Maestro",
					 cmd_name(r));
		} else {
			reply->rc = -ENOSYS;
			ldmsd_buf_printf(&reply->msg, "command '%s' is not implemented yet",
					 cmd_name(r));
		}
		return reply->rc;
	}

	struct ldmsd_req_ctxt c = {.d = d, .req = r, .def = def, .reply = reply, .run = run};
	pthread_mutex_lock(&d->lock);
	rc = def->fn(&c);
	if (rc == 0 && reply->rc == 0 && (fl & LDMS_CTRL_PERM_MOD))
		d->cfg_cntr++;
	if (rc == 0 && reply->rc == 0)
		ldmsd_dump_observe(d, r);
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < c.n_exp; i++)
		free(c.exp[i]);
	free(c.exp);
	if (rc && !reply->rc)
		reply->rc = rc;
	if (reply->rc > 0)
		reply->rc = -reply->rc;
	if (reply->rc && !reply->msg.len)
		ldmsd_buf_printf(&reply->msg, "%s: %s", cmd_name(r), strerror(-reply->rc));
	return reply->rc;
}
