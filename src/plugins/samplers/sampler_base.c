/* The sampler_base shared by every sampler plugin: parsing of the base config
 * attributes, the component_id/job_id/app_id metrics, set creation/registration and
 * the job data copied from the `job_info` set at each sample (ldms-protocol.md §1.4,
 * §4.2). Linked statically into each plugin module. */
#include "sampler_base.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sampler_attr(const struct ldmsd_attrs *a, const char *name)
{
	size_t i;
	if (!a)
		return NULL;
	for (i = 0; i < a->count; i++) {
		if (a->list[i].name && strcmp(a->list[i].name, name) == 0)
			return a->list[i].value ? a->list[i].value : "";
	}
	return NULL;
}

int sampler_instance_name_ok(const char *s)
{
	size_t n = strlen(s);
	const unsigned char *p;
	if (n == 0 || n >= LDMS_SET_NAME_MAX)
		return 0;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' || *p == '\\')
			return 0;
	}
	return 1;
}

/* component_id: upstream skips a non-digit prefix ("nid00012" -> 12); the rest must
 * be digits. Unlike upstream's atoi, the full u64 range is kept. */
static int parse_component_id(const char *v, uint64_t *out)
{
	const char *p = v;
	char *end;
	unsigned long long x;
	while (*p && !isdigit((unsigned char)*p))
		p++;
	if (!*p)
		return -EINVAL;
	errno = 0;
	x = strtoull(p, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

static int dup_attr(char **dst, const char *v, struct ldms_err *err)
{
	*dst = strdup(v);
	if (!*dst)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int sampler_base_reject(const struct ldmsd_attrs *a, const char *const *names, struct ldms_err *err)
{
	for (; names && *names; names++) {
		if (sampler_attr(a, *names))
			return ldms_err_set(err, -EINVAL, "config argument %s has been deprecated.",
					    *names);
	}
	return 0;
}

int sampler_base_config(struct sampler_base *b, struct ldmsd_plugin_handle *h,
			const struct ldmsd_attrs *a, const char *def_schema, struct ldms_err *err)
{
	const char *v;
	int rc;
	uid_t duid;
	gid_t dgid;
	uint32_t dperm;

	b->h = h;
	ldms_set_default_authz_get(&duid, &dgid, &dperm);
	b->uid = duid;
	b->gid = dgid;
	b->perm = dperm;
	b->set_array_card = 1;

	v = sampler_attr(a, "producer");
	if (!v || !*v)
		return ldms_err_set(err, -EINVAL,
				    "producer: config string is missing the producer name.");
	if (strlen(v) >= LDMS_PRODUCER_NAME_MAX)
		return ldms_err_set(err, -EINVAL, "producer: '%s' is longer than %d characters.", v,
				    LDMS_PRODUCER_NAME_MAX - 1);
	if ((rc = dup_attr(&b->producer, v, err)))
		return rc;

	v = sampler_attr(a, "instance");
	if (!v || !*v)
		return ldms_err_set(err, -EINVAL,
				    "instance: configuration is missing the instance name.");
	if (!sampler_instance_name_ok(v))
		return ldms_err_set(err, -EINVAL,
				    "instance: '%s' is not a valid set name (1-%d printable "
				    "ASCII characters, no quotes or backslash).",
				    v, LDMS_SET_NAME_MAX - 1);
	if ((rc = dup_attr(&b->instance, v, err)))
		return rc;

	v = sampler_attr(a, "component_id");
	if (v && parse_component_id(v, &b->component_id))
		return ldms_err_set(err, -EINVAL, "component_id: '%s' is not a number.", v);

	v = sampler_attr(a, "schema");
	if (!v || !*v)
		v = def_schema;
	if (strlen(v) >= LDMS_SET_NAME_MAX)
		return ldms_err_set(err, -EINVAL, "schema: '%s' is too long.", v);
	if ((rc = dup_attr(&b->schema_name, v, err)))
		return rc;

	v = sampler_attr(a, "job_set");
	if ((rc = dup_attr(&b->job_set_name, v && *v ? v : "job_info", err)))
		return rc;

	v = sampler_attr(a, "uid");
	if (v && ldms_parse_uid(v, &b->uid))
		return ldms_err_set(err, -EINVAL, "uid: the specified user '%s' does not exist.",
				    v);
	v = sampler_attr(a, "gid");
	if (v && ldms_parse_gid(v, &b->gid))
		return ldms_err_set(err, -EINVAL, "gid: the specified group '%s' does not exist.",
				    v);
	v = sampler_attr(a, "perm");
	if (v && ldms_parse_perm_octal(v, &b->perm))
		return ldms_err_set(err, -EINVAL,
				    "perm: the permission bits must be specified as a non-zero "
				    "octal number <= 777; got '%s'.",
				    v);

	v = sampler_attr(a, "set_array_card");
	if (v) {
		char *end;
		long n;
		errno = 0;
		n = strtol(v, &end, 0);
		if (errno || end == v || *end || n < 1 || n > 65536)
			return ldms_err_set(err, -EINVAL,
					    "set_array_card: '%s' is not a number between 1 and "
					    "65536.",
					    v);
		b->set_array_card = (uint32_t)n;
	}
	return 0;
}

struct ldms_schema *sampler_base_schema_new(struct sampler_base *b, struct ldms_err *err)
{
	int rc;
	b->schema = ldms_schema_new(b->schema_name);
	if (!b->schema) {
		ldms_err_set(err, -ENOMEM, "schema '%s' could not be created.", b->schema_name);
		return NULL;
	}
	rc = ldms_schema_meta_add(b->schema, "component_id", LDMS_V_U64, NULL);
	if (rc >= 0)
		rc = ldms_schema_metric_add(b->schema, "job_id", LDMS_V_U64, NULL);
	if (rc >= 0)
		rc = ldms_schema_metric_add(b->schema, "app_id", LDMS_V_U64, NULL);
	if (rc >= 0)
		rc = ldms_schema_array_card_set(b->schema, b->set_array_card);
	if (rc < 0) {
		ldms_err_set(err, rc, "schema '%s': base metrics could not be added.",
			     b->schema_name);
		ldms_schema_delete(b->schema);
		b->schema = NULL;
		return NULL;
	}
	return b->schema;
}

int sampler_base_set_new(struct sampler_base *b, struct ldms_err *err)
{
	int rc;
	b->set = ldms_set_new_with_auth(b->instance, b->schema, b->uid, b->gid, b->perm);
	if (!b->set) {
		rc = errno ? -errno : -ENOMEM;
		return ldms_err_set(err, rc, "instance: set '%s' could not be created: %s",
				    b->instance, strerror(-rc));
	}
	ldms_set_producer_name_set(b->set, b->producer);
	ldms_metric_set_u64(b->set, SAMPLER_BASE_COMPONENT_ID, b->component_id);
	ldms_metric_set_u64(b->set, SAMPLER_BASE_JOB_ID, 0);
	ldms_metric_set_u64(b->set, SAMPLER_BASE_APP_ID, 0);
	if (b->h && b->h->set_register) {
		rc = b->h->set_register(b->h, b->set);
		if (rc) {
			ldms_set_delete(b->set);
			b->set = NULL;
			return ldms_err_set(err, rc, "set '%s' could not be registered.",
					    b->instance);
		}
		b->registered = 1;
	}
	rc = ldms_set_publish(b->set);
	if (rc) {
		if (b->registered && b->h->set_deregister)
			b->h->set_deregister(b->h, b->set);
		b->registered = 0;
		ldms_set_delete(b->set);
		b->set = NULL;
		return ldms_err_set(err, rc < 0 ? rc : -rc,
				    "instance: set '%s' could not be published (%s).", b->instance,
				    strerror(rc < 0 ? -rc : rc));
	}
	return 0;
}

static int job_metric(ldms_set_t js, const char *name)
{
	int i = ldms_metric_by_name(js, name);
	if (i < 0)
		return -1;
	if (ldms_type_elem_size(ldms_metric_type_get(js, i)) == 0)
		return -1;
	return i;
}

/* The job set is looked up at every sample (cheap) rather than cached, so a job set
 * created or deleted after config is picked up without stale references. */
static void copy_job_data(struct sampler_base *b)
{
	uint64_t job_id = 0, app_id = 0;
	ldms_set_t js = ldms_set_by_name(b->job_set_name);
	if (!js) {
		if (!b->job_warned) {
			b->job_warned = 1;
			ldms_log(LDMS_LINFO, b->h ? b->h->log_name : "sampler",
				 "%s: The job data set named, %s, does not exist. Valid job data "
				 "will not be associated with the metric values.",
				 b->h && b->h->inst_name ? b->h->inst_name : b->schema_name,
				 b->job_set_name);
		}
		goto out;
	}
	int ij = job_metric(js, "job_id");
	int ia = job_metric(js, "app_id");
	int is = job_metric(js, "job_start");
	int ie = job_metric(js, "job_end");
	if (ij < 0 || is < 0 || ie < 0) {
		if (!b->job_warned) {
			b->job_warned = 1;
			ldms_log(LDMS_LINFO, b->h ? b->h->log_name : "sampler",
				 "The specified job_set '%s' lacks job_id/job_start/job_end and "
				 "cannot be used.",
				 b->job_set_name);
		}
		ldms_set_put(js);
		goto out;
	}
	b->job_warned = 0;
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(b->set);
	uint64_t start = ldms_metric_array_get_as_u64(js, is, 0);
	uint64_t end = ldms_metric_array_get_as_u64(js, ie, 0);
	if (ts.sec >= start && (end == 0 || ts.sec <= end)) {
		job_id = ldms_metric_array_get_as_u64(js, ij, 0);
		if (ia >= 0)
			app_id = ldms_metric_array_get_as_u64(js, ia, 0);
	}
	ldms_set_put(js);
out:
	ldms_metric_set_u64(b->set, SAMPLER_BASE_JOB_ID, job_id);
	ldms_metric_set_u64(b->set, SAMPLER_BASE_APP_ID, app_id);
}

void sampler_base_sample_begin(struct sampler_base *b)
{
	if (!b->set)
		return;
	ldms_transaction_begin(b->set);
	copy_job_data(b);
}

void sampler_base_sample_end(struct sampler_base *b)
{
	if (!b->set)
		return;
	ldms_transaction_end(b->set);
}

void sampler_base_del(struct sampler_base *b)
{
	if (b->set) {
		if (b->registered && b->h && b->h->set_deregister)
			b->h->set_deregister(b->h, b->set);
		b->registered = 0;
		ldms_set_delete(b->set);
		b->set = NULL;
	}
	if (b->schema)
		ldms_schema_delete(b->schema);
	b->schema = NULL;
	free(b->producer);
	free(b->instance);
	free(b->schema_name);
	free(b->job_set_name);
	b->producer = b->instance = b->schema_name = b->job_set_name = NULL;
}

ssize_t sampler_read_file(int fd, char **buf, size_t *cap)
{
	size_t len = 0;
	ssize_t n;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	if (!*buf || *cap < 512) {
		char *nb = realloc(*buf, 4096);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = 4096;
	}
	for (;;) {
		if (len + 1 >= *cap) {
			size_t ncap = *cap * 2;
			char *nb;
			if (ncap > (64u << 20))
				return -EFBIG;
			nb = realloc(*buf, ncap);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = ncap;
		}
		n = read(fd, *buf + len, *cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(*buf)[len] = '\0';
	return (ssize_t)len;
}

int sampler_parse_u64(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	*out = v;
	*pp = p;
	return 0;
}

char *sampler_next_line(char *line, char **eol)
{
	char *e = strchr(line, '\n');
	if (!e)
		e = line + strlen(line);
	*eol = e;
	return *e ? e + 1 : e;
}

int sampler_file_open(struct sampler_file *f, const char *path)
{
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	return f->fd < 0 ? -errno : 0;
}

ssize_t sampler_file_read(struct sampler_file *f)
{
	return sampler_read_file(f->fd, &f->buf, &f->cap);
}

void sampler_file_close(struct sampler_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
}

int sampler_ctx_new(struct ldmsd_plugin_handle *h, size_t size, size_t file_off)
{
	char *ctx = calloc(1, size);
	if (!ctx)
		return -ENOMEM;
	((struct sampler_file *)(ctx + file_off))->fd = -1;
	h->ctx = ctx;
	return 0;
}

int sampler_config_end(struct sampler_base *b, struct sampler_file *f, int rc, struct ldms_err *err)
{
	if (!rc)
		rc = sampler_base_set_new(b, err);
	if (rc) {
		sampler_base_del(b);
		sampler_file_close(f);
	}
	return rc;
}

void sampler_ctx_del(struct ldmsd_plugin_handle *h, struct sampler_base *b, struct sampler_file *f)
{
	sampler_base_del(b);
	sampler_file_close(f);
	free(h->ctx);
	h->ctx = NULL;
}
