/* vmstat sampler: one u64 metric per /proc/vmstat line ("name value"),
 * names taken from the running kernel at config time, values read positionally at
 * each sample (ldms-protocol.md §5.3). Single instance per daemon. */
#include <errno.h>

#include "sampler_base_list.h"

SAMPLER_LIST_PLUGIN(vmstat, "/proc/vmstat", 0)
