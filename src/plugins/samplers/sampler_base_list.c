/* Engine of the line-list samplers (meminfo, vmstat): a /proc file of lines
 * "Name[:] value [unit]" becomes one u64 DATA metric per line after the base
 * metrics; the file stays open and is re-read from offset 0 at each sample. */
#include "sampler_base_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sampler_list *sampler_list_new(const char *path)
{
	struct sampler_list *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->path = path;
	l->file.fd = -1;
	return l;
}

/* Splits one line into its name (trailing colon removed) and value. */
static int list_line(const char *p, const char *eol, char *name, size_t nlen, uint64_t *val)
{
	const char *q;
	size_t n;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	q = p;
	while (q < eol && *q != ' ' && *q != '\t')
		q++;
	n = (size_t)(q - p);
	if (n && p[n - 1] == ':')
		n--;
	if (n == 0 || n >= nlen)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = '\0';
	return sampler_parse_u64(&q, val);
}

int sampler_list_config(struct sampler_list *l, struct ldmsd_plugin_handle *h,
			const struct ldmsd_attrs *a, const char *def_schema, struct ldms_err *err)
{
	static const char *const deprecated[] = {"set", NULL};
	char name[256];
	uint64_t v;
	ssize_t len;
	int rc;

	if (l->base.set)
		return ldms_err_set(err, -EBUSY, "Set already created.");
	if ((rc = sampler_base_reject(a, deprecated, err)))
		return rc;
	if ((rc = sampler_base_config(&l->base, h, a, def_schema, err)))
		goto fail;
	if ((rc = sampler_file_open(&l->file, l->path))) {
		ldms_err_set(err, rc, "Could not open the %s file '%s': %s", def_schema, l->path,
			     strerror(-rc));
		goto fail;
	}
	len = sampler_file_read(&l->file);
	if (len < 0) {
		rc = ldms_err_set(err, (int)len, "Could not read '%s'.", l->path);
		goto fail;
	}
	if (!sampler_base_schema_new(&l->base, err)) {
		rc = err ? err->rc : -ENOMEM;
		goto fail;
	}
	l->nfile = 0;
	for (char *line = l->file.buf, *eol, *next; *line; line = next) {
		next = sampler_next_line(line, &eol);
		if (list_line(line, eol, name, sizeof(name), &v))
			break;
		rc = ldms_schema_metric_add(l->base.schema, name, LDMS_V_U64, NULL);
		if (rc < 0) {
			ldms_err_set(err, rc, "metric '%s' could not be added.", name);
			goto fail;
		}
		l->nfile++;
	}
	rc = 0;
fail:
	return sampler_config_end(&l->base, &l->file, rc, err);
}

int sampler_list_sample(struct sampler_list *l)
{
	char name[256];
	uint64_t v;
	ssize_t len;
	int i = 0;

	if (!l || !l->base.set)
		return -EINVAL;
	len = sampler_file_read(&l->file);
	sampler_base_sample_begin(&l->base);
	if (len > 0) {
		for (char *line = l->file.buf, *eol, *next; *line && i < l->nfile; line = next) {
			next = sampler_next_line(line, &eol);
			if (list_line(line, eol, name, sizeof(name), &v))
				break;
			ldms_metric_set_u64(l->base.set, SAMPLER_BASE_METRIC_COUNT + i, v);
			i++;
		}
	}
	sampler_base_sample_end(&l->base);
	return len < 0 ? (int)len : 0;
}

void sampler_list_free(struct sampler_list *l)
{
	if (!l)
		return;
	sampler_base_del(&l->base);
	sampler_file_close(&l->file);
	free(l);
}
