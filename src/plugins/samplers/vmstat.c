/* vmstat sampler: one u64 metric per /proc/vmstat line ("name value"),
 * names taken from the running kernel at config time, values read positionally at
 * each sample (ldms-protocol.md §5.3). Single instance per daemon. */
#include <errno.h>

#include "sampler_base_list.h"

static const char *vmstat_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=vmstat" SAMPLER_BASE_USAGE;
}

static int vmstat_init(struct ldmsd_plugin_handle *h)
{
	h->ctx = sampler_list_new("/proc/vmstat");
	return h->ctx ? 0 : -ENOMEM;
}

static int vmstat_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
			 struct ldms_err *err)
{
	return sampler_list_config(h->ctx, h, a, "vmstat", err);
}

static int vmstat_sample(struct ldmsd_plugin_handle *h)
{
	return sampler_list_sample(h->ctx);
}

static void vmstat_term(struct ldmsd_plugin_handle *h)
{
	sampler_list_free(h->ctx);
	h->ctx = NULL;
}

static const struct ldmsd_plugin vmstat_plugin = {
    .name = "vmstat",
    .type = LDMSD_PLUGIN_SAMPLER,
    .api_version = LDMSD_PLUGIN_API_VERSION,
    .multi_instance = 0,
    .multi_config = 0,
    .usage = vmstat_usage,
    .init = vmstat_init,
    .config = vmstat_config,
    .term = vmstat_term,
    .sample = vmstat_sample,
};

const struct ldmsd_plugin *ldmsd_plugin_get(void)
{
	return &vmstat_plugin;
}
