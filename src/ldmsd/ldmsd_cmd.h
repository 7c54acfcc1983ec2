/* The one command path of ldmsd: a parsed request (id + attributes + origin), the
 * caller-owned reply, the request context handlers see, and the table-driven
 * registry that validates attributes per command and dispatches by request id.
 * Config files, `include`, `option` and (issue 3) network requests all end here. */
#ifndef LDMSD_CMD_H
#define LDMSD_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_util.h>
#include <ldmsd/ldmsd_plugin.h>

struct ldmsd;
struct ldmsd_cfg_run;

/* ---- growable text buffer -------------------------------------------------------- */
struct ldmsd_buf {
	char *s; /* always NUL-terminated once anything was written */
	size_t len;
	size_t cap;
};
int ldmsd_buf_append(struct ldmsd_buf *b, const char *s, size_t len);
int ldmsd_buf_printf(struct ldmsd_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, with quotes and escapes. */
int ldmsd_buf_json_str(struct ldmsd_buf *b, const char *s);
const char *ldmsd_buf_str(const struct ldmsd_buf *b); /* "" when empty */
void ldmsd_buf_reset(struct ldmsd_buf *b);
void ldmsd_buf_free(struct ldmsd_buf *b);

/* ---- requests ------------------------------------------------------------------------ */
enum ldmsd_origin_kind {
	LDMSD_ORIGIN_INTERNAL = 0, /* the daemon itself (command line, tests) */
	LDMSD_ORIGIN_FILE = 1,	   /* config file / include / -y output */
	LDMSD_ORIGIN_NET = 2,	   /* control request from a peer */
};

struct ldmsd_origin {
	enum ldmsd_origin_kind kind;
	char file[256]; /* FILE */
	int line;	/* FILE: first physical line of the command */
	uid_t uid;	/* NET: peer credential */
	gid_t gid;
	char peer[64]; /* NET: "host:port" */
	void *conn;    /* NET: the connection (ldms_t), for handlers that need it */
};

struct ldmsd_req_attr {
	uint32_t id;
	int col;     /* FILE: 1-based column in the logical line, else 0 */
	char *value; /* raw (not yet ${VAR}-expanded); "" for keywords */
};

struct ldmsd_req {
	uint32_t id;
	char *verb; /* as written (may be an alias), or the canonical name */
	size_t count;
	size_t cap;
	struct ldmsd_req_attr *attrs;
	struct ldmsd_origin origin;
};

struct ldmsd_req *ldmsd_req_new(uint32_t id, const char *verb);
void ldmsd_req_free(struct ldmsd_req *r);
/* Adds (id, value[0..len)). Duplicates: the first occurrence wins; a later one is
 * dropped and 1 is returned. 0 on success, -ENOMEM. */
int ldmsd_req_attr_add(struct ldmsd_req *r, uint32_t id, const char *value, size_t len, int col);
/* Raw value of the first attribute with that id, NULL if absent. */
const struct ldmsd_req_attr *ldmsd_req_attr_find(const struct ldmsd_req *r, uint32_t id);

/* ---- replies --------------------------------------------------------------------------
 * Owned by the caller of ldmsd_cmd_exec. rc is 0 or a negative errno; msg is the
 * human-readable text (error or informational); json is the JSON text of queries. */
struct ldmsd_reply {
	int rc;
	struct ldmsd_buf msg;
	struct ldmsd_buf json;
};
void ldmsd_reply_init(struct ldmsd_reply *r);
void ldmsd_reply_reset(struct ldmsd_reply *r);
void ldmsd_reply_free(struct ldmsd_reply *r);

/* ---- handler side ------------------------------------------------------------------- */
struct ldmsd_cmd_def;

struct ldmsd_req_ctxt {
	struct ldmsd *d;
	const struct ldmsd_req *req;
	const struct ldmsd_cmd_def *def;
	struct ldmsd_reply *reply;
	struct ldmsd_cfg_run *run; /* the config run executing this command, or NULL */
	char **exp;		   /* expanded values handed out, freed after the handler */
	size_t n_exp;
};

/* ${VAR}-expanded value of attribute `id` (keywords: ""), NULL if absent. The
 * string lives until the handler returns. */
const char *ldmsd_req_attr(struct ldmsd_req_ctxt *c, uint32_t id);
/* Same, by attribute name or alias ("interval", "reconnect", ...). */
const char *ldmsd_req_attr_n(struct ldmsd_req_ctxt *c, const char *name);
/* The free-form part of the six special commands (the STRING attribute), expanded. */
const char *ldmsd_req_freeform(struct ldmsd_req_ctxt *c);
/* Human-readable command name for messages ("load"). */
const char *ldmsd_req_verb(const struct ldmsd_req_ctxt *c);

/* Set reply rc (negative errno) and message; returns rc. */
int ldmsd_reply_err(struct ldmsd_req_ctxt *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Informational message on success. */
void ldmsd_reply_msg(struct ldmsd_req_ctxt *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* JSON output buffer of the reply. */
struct ldmsd_buf *ldmsd_reply_json(struct ldmsd_req_ctxt *c);

/* ${NAME} -> getenv(NAME) ("" if unset); NAME = [[:alnum:]_]+. $NAME and malformed
 * references are kept verbatim. Returns a malloc'ed string or NULL (ENOMEM). */
char *ldmsd_env_expand(const char *s);

/* Splits "a=b c d=e" (spaces/tabs) into attributes with the config-language rules
 * (split at first '=', keyword = "", a leading '"' strips first and last char).
 * Fills a heap-allocated list; free with ldmsd_attrs_free. */
int ldmsd_attrs_parse(const char *s, struct ldmsd_attrs *out);
void ldmsd_attrs_free(struct ldmsd_attrs *a);
/* Strips a value's quotes per §1.1: if it starts with '"', drop first and last char. */
void ldmsd_value_unquote(const char **v, size_t *len);

/* ---- the registry ----------------------------------------------------------------------
 * A command definition, declared by verb name in the object files (daemon_cmd.c,
 * listen.c, plugin.c, config.c; issue 3: prdcr.c, updtr.c, strgp.c ...) and
 * indexed by request id at start. Attribute names are resolved through the ctrl
 * tables, so aliases (reconnect -> INTERVAL) are accepted automatically. */
#define LDMSD_ATTR_F_REQ 1 /* required */

struct ldmsd_attr_spec {
	const char *name;
	int flags;
};

typedef int (*ldmsd_cmd_fn)(struct ldmsd_req_ctxt *c);

/* The whole remainder after the verb is one string (option). */
#define LDMSD_CMD_F_RAW 1u

struct ldmsd_cmd_def {
	const char *verb;
	ldmsd_cmd_fn fn;
	unsigned flags;			     /* LDMSD_CMD_F_* */
	const struct ldmsd_attr_spec *attrs; /* terminated by {NULL}; may be NULL */
};

/* Idempotent, thread-safe. Returns 0, or -EINVAL if a table names an unknown
 * verb/attribute (a programming error, also checked by the unit tests). */
int ldmsd_cmd_registry_init(void);
/* The definition for a request id, NULL when the command has no handler yet. */
const struct ldmsd_cmd_def *ldmsd_cmd_def_find(uint32_t id);
/* Classification from the ctrl tables: LDMS_CTRL_F_PRIORITY / _DEFERRED / _FREEFORM,
 * permission bits; 0 when unknown. */
uint32_t ldmsd_cmd_flags(uint32_t id);
/* Is attribute `attr_id` a named attribute of command `id`? (For free-form
 * commands: the attributes that are NOT folded into the string.) For commands
 * without a definition, every known attribute is accepted. */
int ldmsd_cmd_attr_allowed(uint32_t id, uint32_t attr_id);

/* Checks a request against its definition: unknown command (-ENOSYS), attributes
 * not valid for the command, missing required attributes (-EINVAL). err gets the
 * message and, for FILE origins, file:line[:col]. */
int ldmsd_cmd_validate(const struct ldmsd_req *r, struct ldms_err *err);

/* Validates, checks permissions (NET origin), runs the handler and fills reply.
 * Serialised by the daemon's command lock. Returns reply->rc. */
int ldmsd_cmd_exec(struct ldmsd *d, const struct ldmsd_req *r, struct ldmsd_cfg_run *run,
		   struct ldmsd_reply *reply);

#endif
