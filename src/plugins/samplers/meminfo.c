/* meminfo sampler: one u64 metric per /proc/meminfo line ("Name:  value [kB]"),
 * names taken from the running kernel at config time, values read positionally at
 * each sample and not scaled (ldms-protocol.md §5.3). Multi-instance. */
#include <errno.h>

#include "sampler_base_list.h"

static const char *meminfo_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=meminfo" SAMPLER_BASE_USAGE;
}

static int meminfo_init(struct ldmsd_plugin_handle *h)
{
	h->ctx = sampler_list_new("/proc/meminfo");
	return h->ctx ? 0 : -ENOMEM;
}

static int meminfo_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
			  struct ldms_err *err)
{
	return sampler_list_config(h->ctx, h, a, "meminfo", err);
}

static int meminfo_sample(struct ldmsd_plugin_handle *h)
{
	return sampler_list_sample(h->ctx);
}

static void meminfo_term(struct ldmsd_plugin_handle *h)
{
	sampler_list_free(h->ctx);
	h->ctx = NULL;
}

static const struct ldmsd_plugin meminfo_plugin = {
    .name = "meminfo",
    .type = LDMSD_PLUGIN_SAMPLER,
    .api_version = LDMSD_PLUGIN_API_VERSION,
    .multi_instance = 1,
    .multi_config = 0,
    .usage = meminfo_usage,
    .init = meminfo_init,
    .config = meminfo_config,
    .term = meminfo_term,
    .sample = meminfo_sample,
};

const struct ldmsd_plugin *ldmsd_plugin_get(void)
{
	return &meminfo_plugin;
}
