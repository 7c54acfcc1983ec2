/* Plugin instances: the loader (dlopen lib<plugin>.so, dlsym ldmsd_plugin_get) and
 * the plugin commands load, config, start, stop, term, usage, plugn_status and
 * plugn_sets. Samplers run on the scheduler thread; every call into one instance is
 * serialised by the instance lock. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldmsd_cmd.h"
#include "ldmsd.h"
#include "ldmsd_plugin_inst.h"
#include "ldmsd_sched.h"

#define MIN_INTERVAL_US 10

struct ldmsd_plugin_inst {
	TAILQ_ENTRY(ldmsd_plugin_inst) link;
	struct ldmsd *d;
	char *name;
	char *plugin;
	char *libpath;
	char log_name[300];
	void *dl;
	const struct ldmsd_plugin *api;
	struct ldmsd_plugin_handle h;
	pthread_mutex_t lock;	   /* serialises calls into the plugin */
	pthread_mutex_t sets_lock; /* sets[]: written from sample(), read by commands */
	ldms_set_t *sets;
	size_t n_sets, cap_sets;
	int configured;
	int running;
	int users;
	int last_rc;
	struct ldmsd_sched_task *task;
};

/* ---- loader --------------------------------------------------------------------------------- */
static int plugin_name_ok(const char *s)
{
	if (!*s || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

void ldmsd_plugin_search_path(struct ldmsd *d, char *buf, size_t len)
{
	const char *env = getenv("LDMSD_PLUGIN_LIBPATH");
	snprintf(buf, len, "%s%s%s/../%s:%s", env && *env ? env : "", env && *env ? ":" : "",
		 d->exe_dir, LDMSC_PLUGIN_RELDIR, LDMSC_PLUGIN_INSTALL_DIR);
}

int ldmsd_plugin_open(struct ldmsd *d, const char *plugin, void **dl,
		      const struct ldmsd_plugin **api, char **libpath, struct ldms_err *err)
{
	char dirs[3 * PATH_MAX];
	if (!plugin_name_ok(plugin))
		return ldms_err_set(err, -EINVAL, "invalid plugin name '%s'", plugin);
	ldmsd_plugin_search_path(d, dirs, sizeof(dirs));
	char *save = NULL, *copy = strdup(dirs);
	if (!copy)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	int rc = -ENOENT;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *path;
		if (asprintf(&path, "%s/lib%s.so", dir, plugin) < 0) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (access(path, F_OK)) {
			free(path);
			continue;
		}
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			rc = ldms_err_set(err, -ELIBBAD, "cannot load plugin '%s': %s", plugin,
					  dlerror());
			free(path);
			break;
		}
		ldmsd_plugin_get_fn get = (ldmsd_plugin_get_fn)dlsym(h, LDMSD_PLUGIN_ENTRY);
		const struct ldmsd_plugin *p = get ? get() : NULL;
		if (!p) {
			rc = ldms_err_set(err, -ELIBBAD, "'%s' is not an ldmsd plugin (no %s)",
					  path, LDMSD_PLUGIN_ENTRY);
		} else if (p->api_version != LDMSD_PLUGIN_API_VERSION) {
			rc = ldms_err_set(err, -ELIBBAD,
					  "plugin '%s' was built for plugin API %d, ldmsd has %d",
					  plugin, p->api_version, LDMSD_PLUGIN_API_VERSION);
		} else if (p->type != LDMSD_PLUGIN_SAMPLER && p->type != LDMSD_PLUGIN_STORE) {
			rc = ldms_err_set(err, -ELIBBAD, "plugin '%s' has an unknown type %d",
					  plugin, (int)p->type);
		} else {
			*dl = h;
			*api = p;
			*libpath = path;
			free(copy);
			return 0;
		}
		dlclose(h);
		free(path);
		break;
	}
	free(copy);
	if (rc == -ENOENT)
		ldms_err_set(err, -ENOENT, "plugin '%s' not found (lib%s.so in %s)", plugin, plugin,
			     dirs);
	return rc;
}

const char *ldmsd_plugin_type_str(const struct ldmsd_plugin *api)
{
	if (api->type == LDMSD_PLUGIN_STORE)
		return api->multi_instance ? "store[M]" : "store[S]";
	return api->multi_instance ? "sampler[M]" : "sampler[S]";
}

const char *ldmsd_plugin_hint_str(int64_t interval_us, int64_t offset_us, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 ":%" PRId64, interval_us, offset_us);
	return buf;
}

/* ---- instances --------------------------------------------------------------------------------
 */
struct ldmsd_plugin_inst *ldmsd_plugin_inst_find(struct ldmsd *d, const char *name)
{
	struct ldmsd_plugin_inst *pi;
	TAILQ_FOREACH(pi, &d->plugins, link)
	if (!strcmp(pi->name, name))
		return pi;
	return NULL;
}

const struct ldmsd_plugin *ldmsd_plugin_inst_api(struct ldmsd_plugin_inst *pi)
{
	return pi->api;
}

struct ldmsd_plugin_handle *ldmsd_plugin_inst_handle(struct ldmsd_plugin_inst *pi)
{
	return &pi->h;
}

void ldmsd_plugin_inst_lock(struct ldmsd_plugin_inst *pi)
{
	pthread_mutex_lock(&pi->lock);
}

void ldmsd_plugin_inst_unlock(struct ldmsd_plugin_inst *pi)
{
	pthread_mutex_unlock(&pi->lock);
}

void ldmsd_plugin_inst_use(struct ldmsd_plugin_inst *pi)
{
	__atomic_add_fetch(&pi->users, 1, __ATOMIC_SEQ_CST);
}

void ldmsd_plugin_inst_unuse(struct ldmsd_plugin_inst *pi)
{
	__atomic_sub_fetch(&pi->users, 1, __ATOMIC_SEQ_CST);
}

/* Caller holds sets_lock. */
static void set_hint(struct ldmsd_plugin_inst *pi, ldms_set_t s)
{
	char hint[64];
	if (pi->h.interval_us <= 0)
		return;
	ldmsd_plugin_hint_str(pi->h.interval_us, pi->h.offset_us, hint, sizeof(hint));
	int rc = ldms_set_info_set(s, "updt_hint_us", hint);
	if (rc)
		ldms_log(LDMS_LERROR, pi->log_name, "cannot set updt_hint_us on '%s': %s",
			 ldms_set_instance_name_get(s), strerror(-rc));
}

static int set_register(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
	struct ldmsd_plugin_inst *pi = h->ldmsd_private;
	int rc = 0;
	pthread_mutex_lock(&pi->sets_lock);
	for (size_t i = 0; i < pi->n_sets; i++)
		if (pi->sets[i] == s)
			goto out;
	if (pi->n_sets == pi->cap_sets) {
		size_t nc = pi->cap_sets ? 2 * pi->cap_sets : 4;
		ldms_set_t *n = realloc(pi->sets, nc * sizeof(*n));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		pi->sets = n;
		pi->cap_sets = nc;
	}
	pi->sets[pi->n_sets++] = ldms_set_get(s);
	set_hint(pi, s);
out:
	pthread_mutex_unlock(&pi->sets_lock);
	return rc;
}

static void set_deregister(struct ldmsd_plugin_handle *h, ldms_set_t s)
{
	struct ldmsd_plugin_inst *pi = h->ldmsd_private;
	pthread_mutex_lock(&pi->sets_lock);
	for (size_t i = 0; i < pi->n_sets; i++) {
		if (pi->sets[i] != s)
			continue;
		memmove(&pi->sets[i], &pi->sets[i + 1], (pi->n_sets - i - 1) * sizeof(*pi->sets));
		pi->n_sets--;
		ldms_set_put(s);
		break;
	}
	pthread_mutex_unlock(&pi->sets_lock);
}

static void sample_cb(void *arg)
{
	struct ldmsd_plugin_inst *pi = arg;
	pthread_mutex_lock(&pi->lock);
	int rc = pi->api->sample ? pi->api->sample(&pi->h) : -ENOSYS;
	pthread_mutex_unlock(&pi->lock);
	/* log a failure once, not every interval, and say when it recovers */
	if (rc && rc != pi->last_rc)
		ldms_log(LDMS_LERROR, pi->log_name, "sample failed: %s",
			 strerror(rc < 0 ? -rc : rc));
	else if (!rc && pi->last_rc)
		ldms_log(LDMS_LINFO, pi->log_name, "sampling works again");
	pi->last_rc = rc;
}

static void inst_free(struct ldmsd_plugin_inst *pi)
{
	ldmsd_sched_task_free(pi->task);
	pi->task = NULL;
	if (pi->api && pi->api->term) {
		pthread_mutex_lock(&pi->lock);
		pi->api->term(&pi->h);
		pthread_mutex_unlock(&pi->lock);
	}
	for (size_t i = 0; i < pi->n_sets; i++)
		ldms_set_put(pi->sets[i]);
	free(pi->sets);
	if (pi->dl)
		dlclose(pi->dl);
	pthread_mutex_destroy(&pi->lock);
	pthread_mutex_destroy(&pi->sets_lock);
	free(pi->name);
	free(pi->plugin);
	free(pi->libpath);
	free(pi);
}

static int inst_stop(struct ldmsd_plugin_inst *pi)
{
	if (!pi->running)
		return -EINVAL;
	ldmsd_sched_task_stop(pi->task);
	pthread_mutex_lock(&pi->lock);
	pi->running = 0;
	pi->h.interval_us = 0;
	pi->h.offset_us = 0;
	pthread_mutex_unlock(&pi->lock);
	return 0;
}

void ldmsd_plugins_term_all(struct ldmsd *d)
{
	struct ldmsd_plugin_inst *pi;
	TAILQ_FOREACH(pi, &d->plugins, link)
	if (pi->running)
		inst_stop(pi);
	/* unload in reverse load order */
	while ((pi = TAILQ_LAST(&d->plugins, ldmsd_plugin_list))) {
		TAILQ_REMOVE(&d->plugins, pi, link);
		inst_free(pi);
	}
}

int ldmsd_plugin_usage_print(struct ldmsd *d, const char *plugin, struct ldms_err *err)
{
	void *dl;
	const struct ldmsd_plugin *api;
	char *libpath;
	int rc = ldmsd_plugin_open(d, plugin, &dl, &api, &libpath, err);
	if (rc)
		return rc;
	struct ldmsd_plugin_handle h = {
	    .inst_name = plugin, .plugin_name = plugin, .log_name = plugin};
	if (api->init)
		rc = api->init(&h);
	if (!rc) {
		const char *u = api->usage ? api->usage(&h) : NULL;
		printf("%s (%s, %s):\n%s\n", plugin, ldmsd_plugin_type_str(api), libpath,
		       u && *u ? u : "(no usage text)");
		if (api->term)
			api->term(&h);
	} else {
		ldms_err_set(err, rc < 0 ? rc : -rc, "plugin '%s': init failed", plugin);
	}
	dlclose(dl);
	free(libpath);
	return rc;
}

/* ---- commands
 * ------------------------------------------------------------------------------------ */
static struct ldmsd_plugin_inst *inst_get(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_plugin_inst *pi = name ? ldmsd_plugin_inst_find(c->d, name) : NULL;
	if (!pi)
		ldmsd_reply_err(c, -ENOENT, "%s: plugin instance '%s' is not loaded",
				ldmsd_req_verb(c), name ? name : "");
	return pi;
}

static int load_handler(struct ldmsd_req_ctxt *c)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	struct ldmsd *d = c->d;
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *plugin = ldmsd_req_attr(c, LDMSD_ATTR_PLUGIN);
	if (!plugin || !*plugin)
		plugin = name;
	if (!name || !*name)
		return ldmsd_reply_err(c, -EINVAL, "load: 'name' is empty");
	if (ldmsd_plugin_inst_find(d, name))
		return ldmsd_reply_err(c, -EEXIST, "load: plugin instance '%s' is already loaded",
				       name);
	struct ldmsd_plugin_inst *pi = calloc(1, sizeof(*pi));
	if (!pi)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	pthread_mutex_init(&pi->lock, NULL);
	pthread_mutex_init(&pi->sets_lock, NULL);
	pi->d = d;
	int rc = ldmsd_plugin_open(d, plugin, &pi->dl, &pi->api, &pi->libpath, &e);
	if (rc) {
		ldmsd_reply_err(c, rc, "load %s: %s", name, e.msg);
		goto err;
	}
	if (!pi->api->multi_instance) {
		struct ldmsd_plugin_inst *o;
		TAILQ_FOREACH(o, &d->plugins, link)
		{
			if (!strcmp(o->plugin, plugin)) {
				rc = ldmsd_reply_err(
				    c, -EEXIST,
				    "load %s: plugin '%s' does not support multiple "
				    "instances ('%s' is loaded)",
				    name, plugin, o->name);
				goto err;
			}
		}
	}
	pi->name = strdup(name);
	pi->plugin = strdup(plugin);
	if (!pi->name || !pi->plugin) {
		rc = ldmsd_reply_err(c, -ENOMEM, "out of memory");
		goto err;
	}
	snprintf(pi->log_name, sizeof(pi->log_name), "%s.%s.%s",
		 pi->api->type == LDMSD_PLUGIN_STORE ? "store" : "sampler", plugin, name);
	pi->h.inst_name = pi->name;
	pi->h.plugin_name = pi->plugin;
	pi->h.log_name = pi->log_name;
	pi->h.set_register = set_register;
	pi->h.set_deregister = set_deregister;
	pi->h.ldmsd_private = pi;
	if (pi->api->init) {
		pthread_mutex_lock(&pi->lock);
		rc = pi->api->init(&pi->h);
		pthread_mutex_unlock(&pi->lock);
		if (rc) {
			rc = rc < 0 ? rc : -rc;
			ldmsd_reply_err(c, rc, "load %s: plugin '%s' failed to initialise: %s",
					name, plugin, strerror(-rc));
			pi->api = NULL; /* not initialised: do not call term() */
			goto err;
		}
	}
	TAILQ_INSERT_TAIL(&d->plugins, pi, link);
	ldms_log(LDMS_LDEBUG, LDMSD_LOG, "loaded %s (%s) from %s", name, plugin, pi->libpath);
	return 0;
err:
	inst_free(pi);
	return rc;
}

static int config_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_plugin_inst *pi = inst_get(c);
	if (!pi)
		return c->reply->rc;
	if (pi->configured && !pi->api->multi_config)
		return ldmsd_reply_err(
		    c, -EEXIST, "config %s: already configured (plugin '%s' takes one config)",
		    pi->name, pi->plugin);
	if (!pi->api->config)
		return ldmsd_reply_err(c, -ENOTSUP, "config %s: plugin '%s' takes no configuration",
				       pi->name, pi->plugin);
	struct ldmsd_attrs av;
	char *args = NULL;
	const char *ff = ldmsd_req_freeform(c);
	/* the plugin sees the whole line's attributes, name first */
	if (asprintf(&args, "name=%s %s", pi->name, ff ? ff : "") < 0)
		return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	int rc = ldmsd_attrs_parse(args, &av);
	free(args);
	if (rc)
		return ldmsd_reply_err(c, rc, "out of memory");
	struct ldms_err e;
	ldms_err_clear(&e);
	pthread_mutex_lock(&pi->lock);
	rc = pi->api->config(&pi->h, &av, &e);
	pthread_mutex_unlock(&pi->lock);
	ldmsd_attrs_free(&av);
	if (rc) {
		rc = rc < 0 ? rc : -rc;
		return ldmsd_reply_err(c, rc, "config %s: %s", pi->name,
				       e.msg[0] ? e.msg : strerror(-rc));
	}
	pi->configured = 1;
	return 0;
}

static int start_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd *d = c->d;
	struct ldmsd_plugin_inst *pi = inst_get(c);
	if (!pi)
		return c->reply->rc;
	if (pi->api->type != LDMSD_PLUGIN_SAMPLER)
		return ldmsd_reply_err(c, -EINVAL, "start %s: '%s' is not a sampler", pi->name,
				       pi->plugin);
	if (pi->running)
		return ldmsd_reply_err(c, -EBUSY, "start %s: the sampler is already running",
				       pi->name);
	const char *iv = ldmsd_req_attr(c, LDMSD_ATTR_INTERVAL);
	const char *ov = ldmsd_req_attr(c, LDMSD_ATTR_OFFSET);
	int64_t interval, offset = 0;
	if (ldms_parse_time_us(iv, &interval))
		return ldmsd_reply_err(c, -EINVAL, "start %s: invalid interval '%s'", pi->name, iv);
	if (interval < MIN_INTERVAL_US)
		return ldmsd_reply_err(c, -EINVAL, "start %s: interval must be at least %dus",
				       pi->name, MIN_INTERVAL_US);
	if (ov && *ov && ldms_parse_time_us(ov, &offset))
		return ldmsd_reply_err(c, -EINVAL, "start %s: invalid offset '%s'", pi->name, ov);
	if (offset > interval / 2 || offset < -(interval / 2))
		return ldmsd_reply_err(c, -EINVAL,
				       "start %s: |offset| %" PRId64 "us exceeds half the interval "
				       "%" PRId64 "us",
				       pi->name, offset, interval);
	const char *xt = ldmsd_req_attr(c, LDMSD_ATTR_XTHREAD);
	int xthread = 0;
	if (xt && *xt && ldms_parse_bool(xt, &xthread))
		return ldmsd_reply_err(c, -EINVAL, "start %s: invalid exclusive_thread '%s'",
				       pi->name, xt);
	if (xthread)
		ldms_log(LDMS_LDEBUG, pi->log_name,
			 "exclusive_thread: samplers share the scheduler thread in ldms-c");
	if (!d->sched) {
		struct ldms_err e;
		ldms_err_clear(&e);
		d->sched = ldmsd_sched_new(&e);
		if (!d->sched)
			return ldmsd_reply_err(c, e.rc ? e.rc : -ENOMEM, "start %s: %s", pi->name,
					       e.msg);
	}
	if (!pi->task) {
		pi->task = ldmsd_sched_task_new(d->sched, sample_cb, pi);
		if (!pi->task)
			return ldmsd_reply_err(c, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&pi->lock);
	pi->h.interval_us = interval;
	pi->h.offset_us = offset;
	pthread_mutex_unlock(&pi->lock);
	pthread_mutex_lock(&pi->sets_lock);
	for (size_t i = 0; i < pi->n_sets; i++)
		set_hint(pi, pi->sets[i]);
	pthread_mutex_unlock(&pi->sets_lock);
	pi->last_rc = 0;
	int rc = ldmsd_sched_task_start(pi->task, interval, offset);
	if (rc)
		return ldmsd_reply_err(c, rc, "start %s: %s", pi->name, strerror(-rc));
	pi->running = 1;
	return 0;
}

static int stop_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_plugin_inst *pi = inst_get(c);
	if (!pi)
		return c->reply->rc;
	if (inst_stop(pi))
		return ldmsd_reply_err(c, -EINVAL, "stop %s: the sampler is not running", pi->name);
	return 0;
}

static int term_handler(struct ldmsd_req_ctxt *c)
{
	struct ldmsd_plugin_inst *pi = inst_get(c);
	if (!pi)
		return c->reply->rc;
	if (pi->running)
		return ldmsd_reply_err(c, -EBUSY, "term %s: the sampler is running; stop it first",
				       pi->name);
	if (__atomic_load_n(&pi->users, __ATOMIC_SEQ_CST))
		return ldmsd_reply_err(c, -EBUSY, "term %s: the plugin is in use", pi->name);
	TAILQ_REMOVE(&c->d->plugins, pi, link);
	inst_free(pi);
	return 0;
}

static int usage_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_buf b = {0};
	struct ldmsd_plugin_inst *pi;
	if (name && *name && !ldmsd_plugin_inst_find(c->d, name))
		return ldmsd_reply_err(c, -ENOENT, "usage: plugin instance '%s' is not loaded",
				       name);
	TAILQ_FOREACH(pi, &c->d->plugins, link)
	{
		if (name && *name && strcmp(pi->name, name))
			continue;
		pthread_mutex_lock(&pi->lock);
		const char *u = pi->api->usage ? pi->api->usage(&pi->h) : NULL;
		ldmsd_buf_printf(&b, "%s%s (%s):\n%s\n", b.len ? "\n" : "", pi->name, pi->plugin,
				 u && *u ? u : "(no usage text)");
		pthread_mutex_unlock(&pi->lock);
	}
	ldmsd_reply_msg(c, "%s", ldmsd_buf_str(&b));
	ldmsd_buf_free(&b);
	return 0;
}

static int plugn_status_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	const char *plugin = ldmsd_req_attr(c, LDMSD_ATTR_PLUGIN);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct ldmsd_plugin_inst *pi;
	int n = 0;
	ldmsd_buf_append(j, "[", 1);
	TAILQ_FOREACH(pi, &c->d->plugins, link)
	{
		if ((name && *name && strcmp(pi->name, name)) ||
		    (plugin && *plugin && strcmp(pi->plugin, plugin)))
			continue;
		ldmsd_buf_printf(j, "%s{\"name\":", n++ ? "," : "");
		ldmsd_buf_json_str(j, pi->name);
		ldmsd_buf_append(j, ",\"plugin\":", 10);
		ldmsd_buf_json_str(j, pi->plugin);
		ldmsd_buf_append(j, ",\"type\":", 8);
		ldmsd_buf_json_str(j, ldmsd_plugin_type_str(pi->api));
		ldmsd_buf_append(j, ",\"libpath\":", 11);
		ldmsd_buf_json_str(j, pi->libpath);
		ldmsd_buf_append(j, "}", 1);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

static int plugn_sets_handler(struct ldmsd_req_ctxt *c)
{
	const char *name = ldmsd_req_attr(c, LDMSD_ATTR_NAME);
	struct ldmsd_buf *j = ldmsd_reply_json(c);
	struct ldmsd_plugin_inst *pi;
	int n = 0;
	if (name && *name && !ldmsd_plugin_inst_find(c->d, name))
		return ldmsd_reply_err(c, -ENOENT, "plugn_sets: plugin instance '%s' is not loaded",
				       name);
	ldmsd_buf_append(j, "[", 1);
	TAILQ_FOREACH(pi, &c->d->plugins, link)
	{
		if (pi->api->type != LDMSD_PLUGIN_SAMPLER ||
		    (name && *name && strcmp(pi->name, name)))
			continue;
		ldmsd_buf_printf(j, "%s{\"plugin\":", n++ ? "," : "");
		ldmsd_buf_json_str(j, pi->name);
		ldmsd_buf_append(j, ",\"sets\":[", 9);
		pthread_mutex_lock(&pi->sets_lock);
		for (size_t i = 0; i < pi->n_sets; i++) {
			if (i)
				ldmsd_buf_append(j, ",", 1);
			ldmsd_buf_json_str(j, ldms_set_instance_name_get(pi->sets[i]));
		}
		pthread_mutex_unlock(&pi->sets_lock);
		ldmsd_buf_append(j, "]}", 2);
	}
	ldmsd_buf_append(j, "]", 1);
	return 0;
}

#define ATTRS(...) ((const struct ldmsd_attr_spec[]){__VA_ARGS__, {NULL, 0}})
#define REQ	   LDMSD_ATTR_F_REQ

const struct ldmsd_cmd_def ldmsd_plugin_cmds[] = {
    {"load", load_handler, 0, ATTRS({"name", REQ}, {"plugin", 0})},
    {"config", config_handler, 0, ATTRS({"name", REQ})},
    {"start", start_handler, 0,
     ATTRS({"name", REQ}, {"interval", REQ}, {"offset", 0}, {"exclusive_thread", 0})},
    {"stop", stop_handler, 0, ATTRS({"name", REQ})},
    {"term", term_handler, 0, ATTRS({"name", REQ})},
    {"usage", usage_handler, 0, ATTRS({"name", 0})},
    {"plugn_status", plugn_status_handler, 0, ATTRS({"name", 0}, {"plugin", 0})},
    {"plugn_sets", plugn_sets_handler, 0, ATTRS({"name", 0})},
    {NULL, NULL, 0, NULL},
};
