/* Plugin instances inside ldmsd: the loader (lib<plugin>.so found on
 * $LDMSD_PLUGIN_LIBPATH, next to the executable, or in the install directory) and
 * the accessors other object files use (issue 3: storage policies use store
 * instances through these). */
#ifndef LDMSD_PLUGIN_PRIV_H
#define LDMSD_PLUGIN_PRIV_H

#include <ldmsd/ldmsd_plugin.h>

#include "ldmsd.h"

/* Opens lib<plugin>.so and fetches its descriptor. *libpath (malloc'ed) is the path
 * that was opened, as built from the search directory. */
int ldmsd_plugin_open(struct ldmsd *d, const char *plugin, void **dl,
		      const struct ldmsd_plugin **api, char **libpath, struct ldms_err *err);

struct ldmsd_plugin_inst *ldmsd_plugin_inst_find(struct ldmsd *d, const char *name);
const struct ldmsd_plugin *ldmsd_plugin_inst_api(struct ldmsd_plugin_inst *pi);
struct ldmsd_plugin_handle *ldmsd_plugin_inst_handle(struct ldmsd_plugin_inst *pi);
/* Calls into one instance are serialised by this lock (sample, config, store...). */
void ldmsd_plugin_inst_lock(struct ldmsd_plugin_inst *pi);
void ldmsd_plugin_inst_unlock(struct ldmsd_plugin_inst *pi);
/* A user (e.g. a running storage policy) keeps `term` from unloading the instance. */
void ldmsd_plugin_inst_use(struct ldmsd_plugin_inst *pi);
void ldmsd_plugin_inst_unuse(struct ldmsd_plugin_inst *pi);
/* "sampler[M]" / "sampler[S]" / "store[M]" / "store[S]" */
const char *ldmsd_plugin_type_str(const struct ldmsd_plugin *api);
/* `updt_hint_us` value "<interval>:<offset>" into buf. */
const char *ldmsd_plugin_hint_str(int64_t interval_us, int64_t offset_us, char *buf, size_t len);

#endif
