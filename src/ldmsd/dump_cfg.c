/* dump_cfg: the running configuration written back as config-language lines that
 * recreate it (settings, env, auth domains, listeners, plugin instances with their
 * config/start, then whatever other object files registered as dump hooks). Plugin
 * arguments and env names are not kept by their objects, so they are recorded
 * here from the successful commands (ldmsd_dump_observe). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <ldms/ldms_ctrl.h>
#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_cmd.h"
#include "ldmsd_dump.h"

/* ---- per-daemon records ------------------------------------------------------------------- */
struct dump_plugin {
	struct dump_plugin *next;
	char *name;
	char *plugin;
	char **configs; /* config arguments (after name=), in order */
	size_t n_cfg;
	int running;
	char *interval, *offset, *xthread;
};

struct ldmsd_dump {
	char **env; /* names set by env, first-seen order */
	size_t n_env;
	int authz_set;
	struct dump_plugin *plugins; /* load order */
};

static void plugin_rec_free(struct dump_plugin *p)
{
	for (size_t i = 0; i < p->n_cfg; i++)
		free(p->configs[i]);
	free(p->configs);
	free(p->name);
	free(p->plugin);
	free(p->interval);
	free(p->offset);
	free(p->xthread);
	free(p);
}

void ldmsd_dump_free(struct ldmsd *d)
{
	struct ldmsd_dump *r = d->dump;
	if (!r)
		return;
	while (r->plugins) {
		struct dump_plugin *p = r->plugins;
		r->plugins = p->next;
		plugin_rec_free(p);
	}
	for (size_t i = 0; i < r->n_env; i++)
		free(r->env[i]);
	free(r->env);
	free(r);
	d->dump = NULL;
}

static struct ldmsd_dump *records(struct ldmsd *d)
{
	if (!d->dump)
		d->dump = calloc(1, sizeof(*d->dump));
	return d->dump;
}

/* expanded value of attribute id, or NULL (absent / out of memory) */
static char *attr_dup(const struct ldmsd_req *r, uint32_t id)
{
	const struct ldmsd_req_attr *a = ldmsd_req_attr_find(r, id);
	return a ? ldmsd_env_expand(a->value) : NULL;
}

static struct dump_plugin **plugin_rec_find(struct ldmsd_dump *rec, const char *name)
{
	struct dump_plugin **pp;
	for (pp = &rec->plugins; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name))
			return pp;
	return NULL;
}

static void observe_env(struct ldmsd_dump *rec, const struct ldmsd_req *r)
{
	char *s = attr_dup(r, LDMSD_ATTR_STRING), *save = NULL;
	if (!s)
		return;
	for (char *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(t, '=');
		if (!eq || eq == t)
			continue;
		*eq = '\0';
		size_t i;
		for (i = 0; i < rec->n_env && strcmp(rec->env[i], t); i++)
			;
		if (i < rec->n_env)
			continue;
		char **n = realloc(rec->env, (rec->n_env + 1) * sizeof(*n));
		if (!n)
			break;
		rec->env = n;
		if (!(rec->env[rec->n_env] = strdup(t)))
			break;
		rec->n_env++;
	}
	free(s);
}

static void observe_plugin(struct ldmsd_dump *rec, const struct ldmsd_req *r)
{
	char *name = attr_dup(r, LDMSD_ATTR_NAME);
	if (!name)
		return;
	struct dump_plugin **pp = plugin_rec_find(rec, name), *p = pp ? *pp : NULL;
	switch (r->id) {
	case LDMSD_PLUGN_LOAD_REQ: {
		if (p) {
			*pp = p->next;
			plugin_rec_free(p);
		}
		p = calloc(1, sizeof(*p));
		if (!p)
			break;
		p->name = name;
		name = NULL;
		p->plugin = attr_dup(r, LDMSD_ATTR_PLUGIN);
		if (!p->plugin || !*p->plugin) {
			free(p->plugin);
			p->plugin = strdup(p->name);
		}
		struct dump_plugin **tail = &rec->plugins;
		while (*tail)
			tail = &(*tail)->next;
		*tail = p;
		break;
	}
	case LDMSD_PLUGN_CONFIG_REQ: {
		if (!p)
			break;
		char *args = attr_dup(r, LDMSD_ATTR_STRING);
		char **n = realloc(p->configs, (p->n_cfg + 1) * sizeof(*n));
		if (!n) {
			free(args);
			break;
		}
		p->configs = n;
		p->configs[p->n_cfg++] = args ? args : strdup("");
		break;
	}
	case LDMSD_PLUGN_START_REQ:
		if (!p)
			break;
		free(p->interval);
		free(p->offset);
		free(p->xthread);
		p->interval = attr_dup(r, LDMSD_ATTR_INTERVAL);
		p->offset = attr_dup(r, LDMSD_ATTR_OFFSET);
		p->xthread = attr_dup(r, LDMSD_ATTR_XTHREAD);
		p->running = 1;
		break;
	case LDMSD_PLUGN_STOP_REQ:
		if (p)
			p->running = 0;
		break;
	case LDMSD_PLUGN_TERM_REQ:
		if (p) {
			*pp = p->next;
			plugin_rec_free(p);
		}
		break;
	default:
		break;
	}
	free(name);
}

void ldmsd_dump_observe(struct ldmsd *d, const struct ldmsd_req *r)
{
	struct ldmsd_dump *rec;
	switch (r->id) {
	case LDMSD_ENV_REQ:
		if ((rec = records(d)))
			observe_env(rec, r);
		break;
	case LDMSD_PLUGN_LOAD_REQ:
	case LDMSD_PLUGN_CONFIG_REQ:
	case LDMSD_PLUGN_START_REQ:
	case LDMSD_PLUGN_STOP_REQ:
	case LDMSD_PLUGN_TERM_REQ:
		if ((rec = records(d)))
			observe_plugin(rec, r);
		break;
	case LDMSD_SET_DEFAULT_AUTHZ_REQ:
		if ((ldmsd_req_attr_find(r, LDMSD_ATTR_UID) ||
		     ldmsd_req_attr_find(r, LDMSD_ATTR_GID) ||
		     ldmsd_req_attr_find(r, LDMSD_ATTR_PERM)) &&
		    (rec = records(d)))
			rec->authz_set = 1;
		break;
	default:
		break;
	}
}

/* ---- line writers ------------------------------------------------------------------------------
 */
int ldmsd_dump_line_begin(struct ldmsd_buf *out, const char *verb)
{
	return ldmsd_buf_append(out, verb, strlen(verb));
}

int ldmsd_dump_attr(struct ldmsd_buf *out, const char *name, const char *value)
{
	if (strpbrk(name, " \t\n=") || (value && strpbrk(value, "\n\r")))
		return -EINVAL;
	int rc = ldmsd_buf_printf(out, " %s", name);
	if (rc || !value)
		return rc; /* keyword */
	/* §1.1: a value starting with '"' loses its first and last character */
	if (strpbrk(value, " \t") || value[0] == '"')
		return ldmsd_buf_printf(out, "=\"%s\"", value);
	return ldmsd_buf_printf(out, "=%s", value);
}

int ldmsd_dump_line_end(struct ldmsd_buf *out)
{
	return ldmsd_buf_append(out, "\n", 1);
}

/* verb + attribute pairs (NULL values skipped) + newline */
static int line(struct ldmsd_buf *out, const char *verb, ...)
{
	va_list ap;
	int rc = ldmsd_dump_line_begin(out, verb);
	va_start(ap, verb);
	for (const char *n = va_arg(ap, const char *); !rc && n; n = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		if (v)
			rc = ldmsd_dump_attr(out, n, v);
	}
	va_end(ap);
	return rc ? rc : ldmsd_dump_line_end(out);
}

/* ---- built-in hooks
 * ------------------------------------------------------------------------------ */
static int dump_daemon(struct ldmsd *d, struct ldmsd_buf *out)
{
	const struct ldmsd_settings *s = &d->s;
	char b[64];
	int rc = 0;
	struct ldmsd_dump *rec = d->dump;
	for (size_t i = 0; !rc && rec && i < rec->n_env; i++) {
		const char *v = getenv(rec->env[i]);
		if (!v)
			continue;
		rc = ldmsd_dump_line_begin(out, "env");
		if (!rc)
			rc = ldmsd_dump_attr(out, rec->env[i], v);
		if (!rc)
			rc = ldmsd_dump_line_end(out);
	}
#define SET(k) (s->origin[k][0] != '\0')
	if (!rc && SET(LDMSD_S_LOG_FILE) && s->log_file)
		rc = line(out, "log_file", "path", s->log_file, NULL);
	if (!rc)
		rc = line(out, "log_level", "level", ldms_log_level_name(ldms_log_level_get()),
			  NULL);
	if (!rc && SET(LDMSD_S_LOG_CONFIG)) {
		if (s->log_config_path)
			snprintf(b, sizeof(b), "%d:", s->log_config_mask);
		else
			snprintf(b, sizeof(b), "%d", s->log_config_mask);
		rc = ldmsd_buf_printf(out, "option --log_config %s%s\n", b,
				      s->log_config_path ? s->log_config_path : "");
	}
	if (!rc && SET(LDMSD_S_SET_MEMORY)) {
		snprintf(b, sizeof(b), "%" PRId64, s->set_memory);
		rc = line(out, "set_memory", "size", b, NULL);
	}
	if (!rc && (SET(LDMSD_S_DEFAULT_AUTH) || s->auth_argc)) {
		rc = ldmsd_dump_line_begin(out, "default_auth");
		if (!rc)
			rc = ldmsd_dump_attr(out, "plugin", s->auth_plugin);
		for (int i = 0; !rc && i < s->auth_argc; i++) {
			char *kv = strdup(s->auth_args[i]), *eq = kv ? strchr(kv, '=') : NULL;
			if (!kv)
				return -ENOMEM;
			if (eq)
				*eq = '\0';
			rc = ldmsd_dump_attr(out, kv, eq ? eq + 1 : NULL);
			free(kv);
		}
		if (!rc)
			rc = ldmsd_dump_line_end(out);
	}
	if (!rc && SET(LDMSD_S_DAEMON_NAME) && s->daemon_name)
		rc = line(out, "daemon_name", "name", s->daemon_name, NULL);
	if (!rc && SET(LDMSD_S_PID_FILE) && s->pid_file)
		rc = line(out, "pid_file", "path", s->pid_file, NULL);
	if (!rc && SET(LDMSD_S_BANNER)) {
		snprintf(b, sizeof(b), "%d", s->banner);
		rc = line(out, "banner", "mode", b, NULL);
	}
	if (!rc && SET(LDMSD_S_WORKER_THREADS)) {
		snprintf(b, sizeof(b), "%d", s->worker_threads);
		rc = line(out, "worker_threads", "num", b, NULL);
	}
	if (!rc && SET(LDMSD_S_DEFAULT_QUOTA)) {
		snprintf(b, sizeof(b), "%" PRId64, s->default_quota);
		rc = line(out, "default_quota", "quota", b, NULL);
	}
	if (!rc && SET(LDMSD_S_PUBLISH_KERNEL) && s->publish_kernel)
		rc = line(out, "publish_kernel", "path", s->publish_kernel, NULL);
#undef SET
	if (!rc && !s->msg_enabled)
		rc = line(out, "msg_disable", NULL);
	if (!rc && s->stream_enabled)
		rc = line(out, "stream_enable", NULL);
	if (!rc && rec && rec->authz_set) {
		uid_t uid;
		gid_t gid;
		uint32_t perm;
		char ub[24], gb[24], pb[8];
		ldms_set_default_authz_get(&uid, &gid, &perm);
		snprintf(ub, sizeof(ub), "%u", (unsigned)uid);
		snprintf(gb, sizeof(gb), "%u", (unsigned)gid);
		snprintf(pb, sizeof(pb), "%04o", perm & 0777u);
		rc = line(out, "metric_sets_default_authz", "uid", ub, "gid", gb, "perm", pb, NULL);
	}
	return rc;
}

static int dump_auth(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_auth_dom *a;
	int rc = 0;
	TAILQ_FOREACH(a, &d->auth_doms, link)
	{
		if (!strcmp(a->name, LDMSD_DEFAULT_AUTH_DOM))
			continue; /* default_auth above */
		rc = ldmsd_dump_line_begin(out, "auth_add");
		if (!rc)
			rc = ldmsd_dump_attr(out, "name", a->name);
		if (!rc)
			rc = ldmsd_dump_attr(out, "plugin", a->cfg.plugin);
		for (int i = 0; !rc && i < a->cfg.argc; i++)
			rc = ldmsd_dump_attr(out, a->cfg.argn[i], a->cfg.argv[i]);
		if (!rc)
			rc = ldmsd_dump_line_end(out);
		if (rc)
			break;
	}
	return rc;
}

static int dump_listen(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct ldmsd_listen *l;
	int rc = 0;
	TAILQ_FOREACH(l, &d->listeners, link)
	{
		char qb[24] = "", rb[24] = "";
		if (l->quota != INT64_MIN)
			snprintf(qb, sizeof(qb), "%" PRId64, l->quota);
		if (l->rx_rate != -1)
			snprintf(rb, sizeof(rb), "%" PRId64, l->rx_rate);
		rc = line(out, "listen", "xprt", l->xprt, "port", l->port, "host", l->host, "auth",
			  l->auth, "quota", qb[0] ? qb : NULL, "rx_rate", rb[0] ? rb : NULL, NULL);
		if (rc)
			break;
	}
	return rc;
}

struct plugin_dump_ctx {
	struct ldmsd *d;
	struct ldmsd_buf *out;
};

static int dump_one_plugin(void *arg, const char *name, const char *plugin, const char *type)
{
	struct plugin_dump_ctx *c = arg;
	struct ldmsd_dump *rec = c->d->dump;
	struct dump_plugin **pp = rec ? plugin_rec_find(rec, name) : NULL, *p = pp ? *pp : NULL;
	int rc = line(c->out, "load", "name", name, "plugin", plugin, NULL);
	for (size_t i = 0; !rc && p && i < p->n_cfg; i++) {
		if (strpbrk(p->configs[i], "\n\r"))
			return -EINVAL;
		rc = ldmsd_dump_line_begin(c->out, "config");
		if (!rc)
			rc = ldmsd_dump_attr(c->out, "name", name);
		if (!rc && p->configs[i][0])
			rc = ldmsd_buf_printf(c->out, " %s", p->configs[i]);
		if (!rc)
			rc = ldmsd_dump_line_end(c->out);
	}
	if (!rc && p && p->running)
		rc = line(c->out, "start", "name", name, "interval", p->interval, "offset",
			  p->offset, "exclusive_thread", p->xthread, NULL);
	return rc;
}

static int dump_plugins(struct ldmsd *d, struct ldmsd_buf *out)
{
	struct plugin_dump_ctx c = {.d = d, .out = out};
	return ldmsd_dump_plugins_foreach(d, dump_one_plugin, &c);
}

/* ---- hook registry -----------------------------------------------------------------------------
 */
#define HOOKS_MAX 32
static struct {
	pthread_mutex_t lock;
	int n;
	struct {
		char name[32];
		int order;
		ldmsd_dump_fn fn;
	} h[HOOKS_MAX];
} hooks = {.lock = PTHREAD_MUTEX_INITIALIZER};

int ldmsd_dump_hook_register(const char *name, int order, ldmsd_dump_fn fn)
{
	int rc = 0, i;
	if (!name || !*name || strlen(name) >= sizeof(hooks.h[0].name) || !fn)
		return -EINVAL;
	pthread_mutex_lock(&hooks.lock);
	for (i = 0; i < hooks.n; i++) {
		if (!strcmp(hooks.h[i].name, name)) {
			rc = hooks.h[i].fn == fn ? 0 : -EEXIST;
			goto out;
		}
	}
	if (hooks.n == HOOKS_MAX) {
		rc = -ENOSPC;
		goto out;
	}
	/* keep sorted by order, registration order among equals */
	for (i = hooks.n; i > 0 && hooks.h[i - 1].order > order; i--)
		hooks.h[i] = hooks.h[i - 1];
	snprintf(hooks.h[i].name, sizeof(hooks.h[i].name), "%s", name);
	hooks.h[i].order = order;
	hooks.h[i].fn = fn;
	hooks.n++;
out:
	pthread_mutex_unlock(&hooks.lock);
	return rc;
}

static void builtin_hooks(void)
{
	ldmsd_dump_hook_register("daemon", LDMSD_DUMP_ORDER_DAEMON, dump_daemon);
	ldmsd_dump_hook_register("auth", LDMSD_DUMP_ORDER_AUTH, dump_auth);
	ldmsd_dump_hook_register("listen", LDMSD_DUMP_ORDER_LISTEN, dump_listen);
	ldmsd_dump_hook_register("plugins", LDMSD_DUMP_ORDER_PLUGINS, dump_plugins);
	ldmsd_dump_agg_register();
}

int ldmsd_dump_cfg_text(struct ldmsd *d, struct ldmsd_buf *out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, builtin_hooks);
	char nb[300], tb[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(tb, sizeof(tb), "%a %b %d %H:%M:%S %Y", &tm);
	int rc = ldmsd_buf_printf(out,
				  "# Configuration of ldmsd '%s' (ldms-c %s), written by dump_cfg "
				  "on %s\n",
				  ldmsd_daemon_name(d, nb, sizeof(nb)), LDMSC_VERSION, tb);
	pthread_mutex_lock(&hooks.lock);
	int n = hooks.n;
	ldmsd_dump_fn fns[HOOKS_MAX];
	for (int i = 0; i < n; i++)
		fns[i] = hooks.h[i].fn;
	pthread_mutex_unlock(&hooks.lock);
	for (int i = 0; !rc && i < n; i++)
		rc = fns[i](d, out);
	return rc;
}

/* ---- plugin enumeration -----------------------------------------------------------------------
 */
int ldmsd_dump_plugins_foreach(struct ldmsd *d,
			       int (*fn)(void *arg, const char *name, const char *plugin,
					 const char *type),
			       void *arg)
{
	/* plugin instances are private to plugin.c; plugn_status lists them */
	struct ldmsd_req *r = ldmsd_req_new(LDMSD_PLUGN_STATUS_REQ, NULL);
	struct ldmsd_reply rep;
	int rc;
	if (!r)
		return -ENOMEM;
	ldmsd_reply_init(&rep);
	rc = ldmsd_cmd_exec(d, r, NULL, &rep);
	ldmsd_req_free(r);
	json_t *j = rc ? NULL : json_loadb(ldmsd_buf_str(&rep.json), rep.json.len, 0, NULL);
	if (!rc && !json_is_array(j))
		rc = -EPROTO;
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *plugin = json_string_value(json_object_get(e, "plugin"));
		const char *type = json_string_value(json_object_get(e, "type"));
		if (!name || !plugin)
			continue;
		rc = fn(arg, name, plugin, type ? type : "");
		if (rc)
			break;
	}
	json_decref(j);
	ldmsd_reply_free(&rep);
	return rc;
}

/* ---- the command ---------------------------------------------------------------------------- */
static int dump_cfg_handler(struct ldmsd_req_ctxt *c)
{
	const char *path = ldmsd_req_attr(c, LDMSD_ATTR_PATH);
	struct ldmsd_buf b = {0};
	if (!path || !*path)
		return ldmsd_reply_err(c, -EINVAL, "dump_cfg: 'path' is empty");
	int rc = ldmsd_dump_cfg_text(c->d, &b);
	if (rc) {
		ldmsd_buf_free(&b);
		return ldmsd_reply_err(c, rc, "dump_cfg: cannot write the configuration: %s",
				       strerror(-rc));
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		rc = -errno;
		ldmsd_buf_free(&b);
		return ldmsd_reply_err(c, rc, "dump_cfg: cannot open '%s': %s", path,
				       strerror(-rc));
	}
	size_t n = fwrite(ldmsd_buf_str(&b), 1, b.len, f);
	rc = n == b.len ? 0 : -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	ldmsd_buf_free(&b);
	if (rc)
		return ldmsd_reply_err(c, rc, "dump_cfg: cannot write '%s': %s", path,
				       strerror(-rc));
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})

const struct ldmsd_cmd_def ldmsd_dump_cmds[] = {
    {"dump_cfg", dump_cfg_handler, 0, ATTRS({"path", LDMSD_ATTR_F_REQ})},
    {NULL, NULL, 0, NULL},
};
