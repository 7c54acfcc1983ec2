/* meminfo sampler: one u64 metric per /proc/meminfo line ("Name:  value [kB]"),
 * names taken from the running kernel at config time, values read positionally at
 * each sample and not scaled (ldms-protocol.md §5.3). Multi-instance. */
#include <errno.h>

#include "sampler_base_list.h"

SAMPLER_LIST_PLUGIN(meminfo, "/proc/meminfo", 1)
