/* Shared engine of the "one u64 metric per `name value` line" samplers (meminfo,
 * vmstat): metric names come from the running kernel at config time, values are
 * read positionally at each sample (upstream behaviour, ldms-protocol.md §5.3). */
#ifndef SAMPLER_BASE_LIST_H
#define SAMPLER_BASE_LIST_H

#include "sampler_base.h"

struct sampler_list {
	struct sampler_base base;
	const char *path;
	struct sampler_file file;
	int nfile; /* metrics taken from the file */
};

struct sampler_list *sampler_list_new(const char *path);
/* Base attributes + schema from the file + set. def_schema is the plugin name. */
int sampler_list_config(struct sampler_list *l, struct ldmsd_plugin_handle *h,
			const struct ldmsd_attrs *a, const char *def_schema, struct ldms_err *err);
int sampler_list_sample(struct sampler_list *l);
void sampler_list_free(struct sampler_list *l);

/* A whole line-list sampler plugin: `name` reads `path` (multi_inst: several instances
 * per daemon). */
#define SAMPLER_LIST_PLUGIN(name, path, multi_inst)                                                \
	static const char *name##_usage(struct ldmsd_plugin_handle *h)                             \
	{                                                                                          \
		return "config name=" #name SAMPLER_BASE_USAGE;                                    \
	}                                                                                          \
	static int name##_init(struct ldmsd_plugin_handle *h)                                      \
	{                                                                                          \
		h->ctx = sampler_list_new(path);                                                   \
		return h->ctx ? 0 : -ENOMEM;                                                       \
	}                                                                                          \
	static int name##_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,       \
				 struct ldms_err *err)                                             \
	{                                                                                          \
		return sampler_list_config(h->ctx, h, a, #name, err);                              \
	}                                                                                          \
	static int name##_sample(struct ldmsd_plugin_handle *h)                                    \
	{                                                                                          \
		return sampler_list_sample(h->ctx);                                                \
	}                                                                                          \
	static void name##_term(struct ldmsd_plugin_handle *h)                                     \
	{                                                                                          \
		sampler_list_free(h->ctx);                                                         \
		h->ctx = NULL;                                                                     \
	}                                                                                          \
	SAMPLER_PLUGIN(name, #name, multi_inst, 0)

#endif
