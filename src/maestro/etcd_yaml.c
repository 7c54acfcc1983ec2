/* Reader of etcd.yaml (etcd_yaml.h) with libfyaml: YAML syntax errors and content errors
 * (missing members, bad host or port) are reported as FILE:LINE:COL: text. Unknown keys
 * are ignored, as upstream does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "ldms/ldms_util.h"
#include "etcd.h"
#include "etcd_yaml.h"

struct loc {
	int line, col;
};

/* Where a node starts: its own token for scalars, the first key (or item) for
 * collections, else the fallback. libfyaml marks are 0-based. */
static struct loc node_loc(struct fy_node *n, struct loc fallback)
{
	for (int depth = 0; n && depth < 64; depth++) {
		if (fy_node_is_scalar(n) || fy_node_is_alias(n)) {
			struct fy_token *t = fy_node_get_scalar_token(n);
			const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
			if (m)
				return (struct loc){m->line + 1, m->column + 1};
			return fallback;
		}
		void *it = NULL;
		if (fy_node_is_mapping(n)) {
			struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
			n = p ? fy_node_pair_key(p) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &it);
		}
	}
	return fallback;
}

static int err_at(struct ldms_err *err, const char *file, struct loc l, const char *fmt,
		  const char *a, const char *b)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
	return ldms_err_set_loc(err, -EINVAL, file, l.line, l.col, "%s", msg);
}

static char *scalar_dup(struct fy_node *n)
{
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	return s ? strndup(s, len) : NULL;
}

static int parse_members(struct fy_node *seq, const char *key, const char *file, struct loc at,
			 struct etcd_yaml_member **out, size_t *nout, struct ldms_err *err)
{
	if (!fy_node_is_sequence(seq))
		return err_at(err, file, node_loc(seq, at), "'%s' must be a list of {host, port}",
			      key, NULL);
	int n = fy_node_sequence_item_count(seq);
	struct etcd_yaml_member *m = n > 0 ? calloc((size_t)n, sizeof(*m)) : NULL;
	if (n > 0 && !m)
		return ldms_err_set(err, -ENOMEM, "%s: out of memory", file);
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	int rc = 0;
	while ((item = fy_node_sequence_iterate(seq, &it))) {
		struct loc l = node_loc(item, at);
		m[i].line = l.line;
		m[i].col = l.col;
		if (!fy_node_is_mapping(item)) {
			rc = err_at(err, file, l,
				    "'%s' entries must be mappings with host and port", key, NULL);
			break;
		}
		struct fy_node *h = fy_node_mapping_lookup_by_string(item, "host", -1);
		struct fy_node *p = fy_node_mapping_lookup_by_string(item, "port", -1);
		if (!h || !p) {
			rc = err_at(err, file, l, "missing '%s' in a '%s' entry",
				    h ? "port" : "host", key);
			break;
		}
		size_t hl = 0;
		const char *hs = fy_node_is_scalar(h) ? fy_node_get_scalar(h, &hl) : NULL;
		if (!hs || !hl) {
			rc = err_at(err, file, node_loc(h, l),
				    "'%s' host must be a non-empty string", key, NULL);
			break;
		}
		size_t pl = 0;
		const char *ps = fy_node_is_scalar(p) ? fy_node_get_scalar(p, &pl) : NULL;
		char pbuf[16];
		long port = -1;
		if (ps && pl && pl < sizeof(pbuf)) {
			memcpy(pbuf, ps, pl);
			pbuf[pl] = '\0';
			char *end;
			port = strtol(pbuf, &end, 10);
			if (*end || pbuf[0] == '-' || pbuf[0] == '+' || pbuf[0] == ' ')
				port = -1;
		}
		if (port < 1 || port > 65535) {
			char v[24];
			snprintf(v, sizeof(v), "%.*s", ps ? (int)(pl < 20 ? pl : 20) : 0,
				 ps ? ps : "");
			rc = err_at(err, file, node_loc(p, l),
				    "'%s' port '%s' is not a port number (1-65535)", key, v);
			break;
		}
		if (!(m[i].host = strndup(hs, hl))) {
			rc = ldms_err_set(err, -ENOMEM, "%s: out of memory", file);
			break;
		}
		m[i].port = (int)port;
		i++;
	}
	if (rc) {
		for (size_t k = 0; k <= i && k < (size_t)n; k++)
			free(m[k].host);
		free(m);
		return rc;
	}
	*out = m;
	*nout = i;
	return 0;
}

static int from_doc(struct fy_document *d, const char *file, struct etcd_yaml *y,
		    struct ldms_err *err)
{
	struct loc top = {1, 1};
	struct fy_node *root = fy_document_root(d);
	if (!root || !fy_node_is_mapping(root))
		return err_at(err, file, node_loc(root, top),
			      "missing 'members': the etcd cluster file is %s",
			      root ? "not a mapping" : "empty", NULL);
	struct fy_node *cl = fy_node_mapping_lookup_by_string(root, "cluster", -1);
	if (cl && fy_node_is_scalar(cl) && !(y->cluster = scalar_dup(cl)))
		return ldms_err_set(err, -ENOMEM, "%s: out of memory", file);
	struct fy_node *mem = fy_node_mapping_lookup_by_string(root, "members", -1);
	if (!mem)
		return err_at(err, file, top,
			      "missing 'members': the etcd cluster file lists no etcd member", NULL,
			      NULL);
	struct loc mkey = node_loc(fy_node_mapping_lookup_key_by_string(root, "members", -1), top);
	int rc = parse_members(mem, "members", file, mkey, &y->members, &y->nmembers, err);
	if (rc)
		return rc;
	if (!y->nmembers)
		return err_at(err, file, mkey,
			      "'members' is empty: the etcd cluster file lists no etcd member",
			      NULL, NULL);
	struct fy_node *mm = fy_node_mapping_lookup_by_string(root, "maestro_members", -1);
	if (mm) {
		y->has_maestro_members = 1;
		struct loc k = node_loc(
		    fy_node_mapping_lookup_key_by_string(root, "maestro_members", -1), top);
		rc = parse_members(mm, "maestro_members", file, k, &y->maestro_members,
				   &y->n_maestro_members, err);
	}
	return rc;
}

static void free_members(struct etcd_yaml_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].host);
	free(m);
}

void etcd_yaml_free(struct etcd_yaml *y)
{
	if (!y)
		return;
	free(y->path);
	free(y->cluster);
	free_members(y->members, y->nmembers);
	free_members(y->maestro_members, y->n_maestro_members);
	memset(y, 0, sizeof(*y));
}

int etcd_yaml_parse(const char *text, size_t len, const char *name, struct etcd_yaml *out,
		    struct ldms_err *err)
{
	struct etcd_yaml y = {0};
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (!diag)
		return ldms_err_set(err, -ENOMEM, "%s: out of memory", name);
	struct fy_parse_cfg cfg = {
	    .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_RESOLVE_DOCUMENT,
	    .diag = diag,
	};
	struct fy_document *d = fy_document_build_from_string(&cfg, text, len);
	int rc = 0;
	if (!d) {
		void *it = NULL;
		struct fy_diag_error *de = fy_diag_errors_iterate(diag, &it);
		if (de)
			rc = ldms_err_set_loc(err, -EINVAL, name, de->line + 1, de->column + 1,
					      "%s", de->msg ? de->msg : "invalid YAML");
		else /* no document at all: an empty file */
			rc = ldms_err_set_loc(err, -EINVAL, name, 1, 1,
					      "missing 'members': the etcd cluster file is empty");
		fy_diag_destroy(diag);
		return rc;
	}
	rc = from_doc(d, name, &y, err);
	fy_document_destroy(d);
	fy_diag_destroy(diag);
	if (!rc && !(y.path = strdup(name)))
		rc = ldms_err_set(err, -ENOMEM, "%s: out of memory", name);
	if (rc) {
		etcd_yaml_free(&y);
		return rc;
	}
	*out = y;
	return 0;
}

int etcd_yaml_load(const char *path, struct etcd_yaml *out, struct ldms_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ldms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (cap - len < 4096) {
			if (cap > ((size_t)16 << 20)) {
				rc = ldms_err_set(err, -EFBIG, "%s: file too large", path);
				break;
			}
			char *n = realloc(buf, cap ? cap * 2 : 8192);
			if (!n) {
				rc = ldms_err_set(err, -ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = n;
			cap = cap ? cap * 2 : 8192;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0) {
			if (ferror(f))
				rc = ldms_err_set(err, -EIO, "%s: read error", path);
			break;
		}
	}
	fclose(f);
	if (!rc)
		rc = etcd_yaml_parse(buf ? buf : "", len, path, out, err);
	free(buf);
	return rc;
}

char *etcd_yaml_member_url(const struct etcd_yaml_member *m)
{
	char *url = NULL;
	int v6 = strchr(m->host, ':') && m->host[0] != '[';
	if (asprintf(&url, "http://%s%s%s:%d", v6 ? "[" : "", m->host, v6 ? "]" : "", m->port) < 0)
		return NULL;
	return url;
}

int etcd_yaml_client(const struct etcd_yaml *y, struct etcd_client **out, struct ldms_err *err)
{
	if (!y->nmembers)
		return ldms_err_set(err, -EINVAL, "%s: no etcd member",
				    y->path ? y->path : "etcd.yaml");
	char **urls = calloc(y->nmembers, sizeof(*urls));
	int rc = urls ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < y->nmembers; i++)
		if (!(urls[i] = etcd_yaml_member_url(&y->members[i])))
			rc = -ENOMEM;
	if (!rc)
		rc = etcd_client_new((const char *const *)urls, y->nmembers, out, err);
	else
		ldms_err_set(err, rc, "etcd: out of memory");
	for (size_t i = 0; urls && i < y->nmembers; i++)
		free(urls[i]);
	free(urls);
	return rc;
}
