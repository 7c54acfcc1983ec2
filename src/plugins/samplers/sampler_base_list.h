/* Shared engine of the "one u64 metric per `name value` line" samplers (meminfo,
 * vmstat): metric names come from the running kernel at config time, values are
 * read positionally at each sample (upstream behaviour, ldms-protocol.md §5.3). */
#ifndef SAMPLER_BASE_LIST_H
#define SAMPLER_BASE_LIST_H

#include "sampler_base.h"

struct sampler_list {
	struct sampler_base base;
	const char *path;
	int fd;
	char *buf;
	size_t cap;
	int nfile; /* metrics taken from the file */
};

struct sampler_list *sampler_list_new(const char *path);
/* Base attributes + schema from the file + set. def_schema is the plugin name. */
int sampler_list_config(struct sampler_list *l, struct ldmsd_plugin_handle *h,
			const struct ldmsd_attrs *a, const char *def_schema, struct ldms_err *err);
int sampler_list_sample(struct sampler_list *l);
void sampler_list_free(struct sampler_list *l);

#endif
