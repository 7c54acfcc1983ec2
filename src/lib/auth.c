/* LDMS authentication front end: the auth_add / -a -A configuration records
 * (ldms_auth_cfg_*), the per-connection state machine that dispatches to the
 * none, ovis and munge plugins, and the "none" plugin itself (ldms-protocol.md §6.3).
 * The state machine never touches a socket: the transport carries its messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldms_auth.h"

static int none_begin(struct ldms_auth *a, const struct sockaddr *local,
		      const struct sockaddr *peer, uint8_t **out, size_t *out_len,
		      struct ldms_err *err)
{
	a->approved = 1;
	a->uid = 0;
	a->gid = 0;
	return 1;
}

static int none_recv(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		     size_t *out_len, struct ldms_err *err)
{
	/* "none" never sends anything, so any message is a confused or hostile peer. */
	return ldms_err_set(err, -EPROTO, "none: unexpected authentication message (%zu bytes)",
			    len);
}

static const struct ldms_auth_ops ldms_auth_none_ops = {
    .name = "none",
    .begin = none_begin,
    .recv = none_recv,
};

static const struct ldms_auth_ops *auth_ops_find(const char *name)
{
	static const struct ldms_auth_ops *const all[] = {
	    &ldms_auth_none_ops,
	    &ldms_auth_ovis_ops,
	    &ldms_auth_munge_ops,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	}
	return NULL;
}

const char *ldms_auth_cfg_arg(const struct ldms_auth_cfg *cfg, const char *name)
{
	/* The last occurrence wins, as with repeated -A options. */
	for (int i = cfg->argc - 1; i >= 0; i--) {
		if (cfg->argn[i] && strcmp(cfg->argn[i], name) == 0)
			return cfg->argv[i];
	}
	return NULL;
}

void ldms_auth_cfg_free(struct ldms_auth_cfg *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < LDMS_AUTH_ARGS_MAX; i++) {
		free(cfg->argn[i]);
		free(cfg->argv[i]);
		cfg->argn[i] = NULL;
		cfg->argv[i] = NULL;
	}
	cfg->argc = 0;
}

int ldms_auth_cfg_init(struct ldms_auth_cfg *cfg, const char *plugin, int argc, char *const kv[],
		       struct ldms_err *err)
{
	const struct ldms_auth_ops *ops;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!plugin || !plugin[0])
		plugin = "none";
	ops = auth_ops_find(plugin);
	if (!ops)
		return ldms_err_set(err, -ENOENT, "unknown authentication plugin '%s'", plugin);
	snprintf(cfg->plugin, sizeof(cfg->plugin), "%s", ops->name);
	if (argc < 0 || (argc > 0 && !kv))
		return ldms_err_set(err, -EINVAL, "%s: invalid argument list", ops->name);
	if (argc > LDMS_AUTH_ARGS_MAX)
		return ldms_err_set(err, -E2BIG,
				    "%s: too many authentication options (%d, at most %d)",
				    ops->name, argc, LDMS_AUTH_ARGS_MAX);
	for (int i = 0; i < argc; i++) {
		const char *eq = kv[i] ? strchr(kv[i], '=') : NULL;
		if (!eq || eq == kv[i]) {
			rc = ldms_err_set(err, -EINVAL,
					  "%s: authentication option '%s' is not NAME=VALUE",
					  ops->name, kv[i] ? kv[i] : "(null)");
			goto fail;
		}
		cfg->argn[i] = strndup(kv[i], (size_t)(eq - kv[i]));
		cfg->argv[i] = strdup(eq + 1);
		cfg->argc = i + 1;
		if (!cfg->argn[i] || !cfg->argv[i]) {
			rc = ldms_err_set(err, -ENOMEM, "%s: out of memory", ops->name);
			goto fail;
		}
	}
	for (int i = 0; i < cfg->argc; i++) {
		int known = 0;
		for (const char *const *k = ops->keys; k && *k; k++)
			known |= strcmp(*k, cfg->argn[i]) == 0;
		/* Upstream ignores unknown options too; a typo must at least be visible. */
		if (!known)
			LDMS_LOG_WARN("auth", "%s: ignoring unknown authentication option '%s'",
				      ops->name, cfg->argn[i]);
	}
	if (ops->cfg_check) {
		rc = ops->cfg_check(cfg, err);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	ldms_auth_cfg_free(cfg);
	return rc;
}

int ldms_auth_cfg_copy(struct ldms_auth_cfg *dst, const struct ldms_auth_cfg *src)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(dst->plugin, src->plugin, sizeof(dst->plugin));
	dst->plugin[sizeof(dst->plugin) - 1] = '\0';
	for (int i = 0; i < src->argc && i < LDMS_AUTH_ARGS_MAX; i++) {
		dst->argn[i] = src->argn[i] ? strdup(src->argn[i]) : NULL;
		dst->argv[i] = src->argv[i] ? strdup(src->argv[i]) : NULL;
		dst->argc = i + 1;
		if ((src->argn[i] && !dst->argn[i]) || (src->argv[i] && !dst->argv[i])) {
			ldms_auth_cfg_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

struct ldms_auth *ldms_auth_new(const struct ldms_auth_cfg *cfg, int is_active,
				struct ldms_err *err)
{
	const struct ldms_auth_ops *ops;
	struct ldms_auth *a;

	ops = auth_ops_find(cfg && cfg->plugin[0] ? cfg->plugin : "none");
	if (!ops) {
		ldms_err_set(err, -ENOENT, "unknown authentication plugin '%.*s'",
			     (int)sizeof(cfg->plugin), cfg->plugin);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		ldms_err_set(err, -ENOMEM, "%s: out of memory", ops->name);
		return NULL;
	}
	a->ops = ops;
	a->is_active = is_active;
	a->uid = (uid_t)-1;
	a->gid = (gid_t)-1;
	if (ops->init && ops->init(a, cfg, err)) {
		free(a);
		return NULL;
	}
	return a;
}

void ldms_auth_free(struct ldms_auth *a)
{
	if (!a)
		return;
	if (a->ops->fini)
		a->ops->fini(a);
	free(a);
}

const char *ldms_auth_plugin_name(const struct ldms_auth *a)
{
	return a ? a->ops->name : "none";
}

/* A refusal is final: record it so a peer cannot retry on the same connection. */
static int auth_result(struct ldms_auth *a, int rc, uint8_t **out, size_t *out_len)
{
	if (rc < 0) {
		a->failed = rc;
		a->approved = 0;
		free(*out);
		*out = NULL;
		*out_len = 0;
		return rc;
	}
	return a->approved ? 1 : 0;
}

int ldms_auth_begin(struct ldms_auth *a, const struct sockaddr *local, const struct sockaddr *peer,
		    uint8_t **out, size_t *out_len, struct ldms_err *err)
{
	int rc;

	*out = NULL;
	*out_len = 0;
	if (a->failed)
		return ldms_err_set(err, a->failed, "%s: authentication already failed",
				    a->ops->name);
	if (a->begun)
		return ldms_err_set(err, -EALREADY, "%s: authentication already started",
				    a->ops->name);
	a->begun = 1;
	rc = a->ops->begin(a, local, peer, out, out_len, err);
	return auth_result(a, rc, out, out_len);
}

int ldms_auth_recv(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		   size_t *out_len, struct ldms_err *err)
{
	int rc;

	*out = NULL;
	*out_len = 0;
	if (a->failed)
		return ldms_err_set(err, a->failed, "%s: authentication already failed",
				    a->ops->name);
	if (!msg && len)
		return ldms_err_set(err, -EINVAL, "%s: no message", a->ops->name);
	if (len > LDMS_AUTH_MSG_MAX) {
		rc = ldms_err_set(err, -EPROTO,
				  "%s: authentication message too long (%zu bytes, at most %d)",
				  a->ops->name, len, LDMS_AUTH_MSG_MAX);
		return auth_result(a, rc, out, out_len);
	}
	rc = a->ops->recv(a, msg, len, out, out_len, err);
	return auth_result(a, rc, out, out_len);
}

int ldms_auth_approved(const struct ldms_auth *a)
{
	return a && a->approved && !a->failed;
}

void ldms_auth_cred(const struct ldms_auth *a, uid_t *uid, gid_t *gid)
{
	/* Before approval nobody is known: report an identity no access check grants. */
	int ok = ldms_auth_approved(a);
	if (uid)
		*uid = ok ? a->uid : (uid_t)-1;
	if (gid)
		*gid = ok ? a->gid : (gid_t)-1;
}
