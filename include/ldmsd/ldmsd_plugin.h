/* The ldmsd plugin API: the only header sampler and store plugins see (besides
 * libldms). A plugin is a shared object `lib<name>.so` exporting
 *     const struct ldmsd_plugin *ldmsd_plugin_get(void);
 * ldmsd creates one handle per `load name=<inst> plugin=<name>` and passes it to
 * every call. Calls for one handle are serialised by ldmsd. */
#ifndef LDMSD_PLUGIN_H
#define LDMSD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ldms/ldms_set.h>
#include <ldms/ldms_util.h>

#define LDMSD_PLUGIN_API_VERSION 1
#define LDMSD_PLUGIN_ENTRY	 "ldmsd_plugin_get"

/* Attributes of a `config` line, in line order; keywords have value "".
 * Duplicates: the first occurrence wins (ldmsd_attr_value finds the first). */
struct ldmsd_attr {
	char *name;
	char *value;
};
struct ldmsd_attrs {
	size_t count;
	struct ldmsd_attr *list;
};
const char *ldmsd_attr_value(const struct ldmsd_attrs *a, const char *name);

enum ldmsd_plugin_type {
	LDMSD_PLUGIN_SAMPLER = 1,
	LDMSD_PLUGIN_STORE = 2,
};

struct ldmsd_plugin_handle {
	const char *inst_name;	 /* `load name=` */
	const char *plugin_name; /* `load plugin=` (defaults to name) */
	const char *log_name;	 /* "sampler.<plugin>.<inst>" / "store.<plugin>.<inst>" */
	void *ctx;		 /* the plugin's own state, set in init() */
	/* Set by ldmsd from `start interval= offset=` before sample() is first
	 * called (0 while not started). */
	int64_t interval_us;
	int64_t offset_us;
	/* Services ldmsd offers to the plugin. set_register makes the set show in
	 * plugn_sets and gets the `updt_hint_us` set info from the schedule; it
	 * does not publish the set. */
	int (*set_register)(struct ldmsd_plugin_handle *h, ldms_set_t s);
	void (*set_deregister)(struct ldmsd_plugin_handle *h, ldms_set_t s);
	void *ldmsd_private;
};

/* A storage-policy view handed to store plugins (issue 3; may grow). */
struct ldmsd_store_policy {
	const char *strgp_name;
	const char *container;
	const char *schema;
	size_t metric_count;   /* columns selected by the policy */
	const int *metric_idx; /* indices into the set, in column order */
	const char *const *metric_names;
};

struct ldmsd_plugin {
	const char *name;
	enum ldmsd_plugin_type type;
	int api_version;    /* LDMSD_PLUGIN_API_VERSION */
	int multi_instance; /* more than one `load` of this plugin allowed */
	int multi_config;   /* `config` may be repeated */
	/* Type code shown by plugn_status: "sampler[M]" multi, "sampler[S]" single. */
	const char *(*usage)(struct ldmsd_plugin_handle *h);
	int (*init)(struct ldmsd_plugin_handle *h);
	/* Errors: return -errno and put a message (naming the attribute) into err. */
	int (*config)(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *attrs,
		      struct ldms_err *err);
	void (*term)(struct ldmsd_plugin_handle *h);

	/* samplers */
	int (*sample)(struct ldmsd_plugin_handle *h);

	/* stores: open per policy, store one consistent set update (on a store
	 * worker thread), flush, close. */
	int (*store_open)(struct ldmsd_plugin_handle *h, const struct ldmsd_store_policy *p,
			  ldms_set_t first_set, void **store_ctx, struct ldms_err *err);
	int (*store)(struct ldmsd_plugin_handle *h, void *store_ctx, ldms_set_t set,
		     const struct ldmsd_store_policy *p);
	int (*store_flush)(struct ldmsd_plugin_handle *h, void *store_ctx);
	void (*store_close)(struct ldmsd_plugin_handle *h, void *store_ctx);
};

typedef const struct ldmsd_plugin *(*ldmsd_plugin_get_fn)(void);

#endif
