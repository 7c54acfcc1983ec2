/* Shared part of every ldms-c sampler plugin: the upstream "sampler_base" config
 * attributes (producer, instance, schema, component_id, job_set, uid, gid, perm,
 * set_array_card), the three leading metrics component_id/job_id/app_id, set
 * creation + registration + publishing, and the job-data copy at sample time. */
#ifndef SAMPLER_BASE_H
#define SAMPLER_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ldmsd/ldmsd_plugin.h>

/* Metric indices of the base metrics (always the first three). */
#define SAMPLER_BASE_COMPONENT_ID 0
#define SAMPLER_BASE_JOB_ID	  1
#define SAMPLER_BASE_APP_ID	  2
#define SAMPLER_BASE_METRIC_COUNT 3

/* Usage text shared by all samplers (upstream BASE_CONFIG_USAGE wording). */
#define SAMPLER_BASE_USAGE                                                                         \
	" producer=<prod_name> instance=<inst_name> [component_id=<compid>] [schema=<sname>]\n"    \
	"        [job_set=<job_set_name>] [uid=<user>] [gid=<group>] [perm=<octal>]\n"             \
	"        [set_array_card=<n>]\n"                                                           \
	"    <prod_name>  The producer name\n"                                                     \
	"    <inst_name>  The instance name\n"                                                     \
	"    <compid>     Optional unique number identifier. Defaults to zero.\n"                  \
	"    <sname>      Optional schema name. Defaults to the plugin name.\n"                    \
	"    <job_set_name> The name of the set holding job data. Defaults to 'job_info'.\n"       \
	"    <user>       The set owner, a user name or uid. Defaults to the daemon's.\n"          \
	"    <group>      The set group, a group name or gid. Defaults to the daemon's.\n"         \
	"    <octal>      The set permission bits (octal). Defaults to 0440.\n"                    \
	"    <n>          Number of data copies kept in the set. Defaults to 1.\n"

struct sampler_base {
	struct ldmsd_plugin_handle *h;
	char *producer;
	char *instance;
	char *schema_name;
	char *job_set_name;
	uint64_t component_id;
	uid_t uid;
	gid_t gid;
	uint32_t perm;
	uint32_t set_array_card;
	struct ldms_schema *schema;
	ldms_set_t set;
	int registered;
	int job_warned;
};

/* Parses the base attributes into b (zeroed by the caller). def_schema is used when
 * `schema=` is absent. Returns 0 or -EINVAL with err naming the attribute. */
int sampler_base_config(struct sampler_base *b, struct ldmsd_plugin_handle *h,
			const struct ldmsd_attrs *a, const char *def_schema, struct ldms_err *err);

/* Rejects attributes a plugin declares deprecated (upstream: `set`, `metrics_type`). */
int sampler_base_reject(const struct ldmsd_attrs *a, const char *const *names,
			struct ldms_err *err);

/* New schema holding component_id (META u64), job_id and app_id (DATA u64) with the
 * configured array card; owned by b. NULL with err filled on failure. */
struct ldms_schema *sampler_base_schema_new(struct sampler_base *b, struct ldms_err *err);

/* Creates the set from b->schema with uid/gid/perm, sets producer and base
 * metrics, registers it with ldmsd and publishes it. */
int sampler_base_set_new(struct sampler_base *b, struct ldms_err *err);

/* transaction_begin + job_id/app_id from the job set (0 outside the job window). */
void sampler_base_sample_begin(struct sampler_base *b);
void sampler_base_sample_end(struct sampler_base *b);

/* Deregisters and deletes the set, frees the schema and strings. */
void sampler_base_del(struct sampler_base *b);

/* ---- helpers ------------------------------------------------------------------------ */

/* First value of attribute `name` (NULL if absent). Plugins use this rather than
 * ldmsd_attr_value so that they do not depend on symbols exported by the daemon. */
const char *sampler_attr(const struct ldmsd_attrs *a, const char *name);

/* Reads the whole file behind fd (from offset 0) into *buf (grown as needed, NUL
 * terminated). Returns the length or -errno. */
ssize_t sampler_read_file(int fd, char **buf, size_t *cap);

/* The line after `line` in a NUL-terminated buffer; *eol is set to the end of `line`
 * (its '\n' or the terminating NUL). */
char *sampler_next_line(char *line, char **eol);

/* The /proc file a sampler keeps open and reads again at each sample. */
struct sampler_file {
	int fd; /* -1: closed */
	char *buf;
	size_t cap;
};

/* Opens path read-only, close-on-exec. 0 or -errno (the caller words the error). */
int sampler_file_open(struct sampler_file *f, const char *path);
/* sampler_read_file() on it: the length or -errno. */
ssize_t sampler_file_read(struct sampler_file *f);
/* Closes the file and frees the buffer (a closed file is left alone). */
void sampler_file_close(struct sampler_file *f);

/* The calloc'ed context of a sampler whose struct sampler_file sits at file_off (set
 * closed), stored in h->ctx. 0 or -ENOMEM. */
int sampler_ctx_new(struct ldmsd_plugin_handle *h, size_t size, size_t file_off);

/* The end of a config: the set made when rc is 0; on failure (here or before) the base
 * and the file are released so that config can be tried again. Returns rc. */
int sampler_config_end(struct sampler_base *b, struct sampler_file *f, int rc,
		       struct ldms_err *err);
/* term of a context from sampler_ctx_new() (h->ctx): base, file and context freed. */
void sampler_ctx_del(struct ldmsd_plugin_handle *h, struct sampler_base *b, struct sampler_file *f);

/* The plugin descriptor and ldmsd_plugin_get() of a sampler whose callbacks are
 * prefix_usage, prefix_init, prefix_config, prefix_term and prefix_sample. */
#define SAMPLER_PLUGIN(prefix, pname, multi_inst, multi_cfg)                                       \
	static const struct ldmsd_plugin prefix##_plugin = {                                       \
	    .name = pname,                                                                         \
	    .type = LDMSD_PLUGIN_SAMPLER,                                                          \
	    .api_version = LDMSD_PLUGIN_API_VERSION,                                               \
	    .multi_instance = multi_inst,                                                          \
	    .multi_config = multi_cfg,                                                             \
	    .usage = prefix##_usage,                                                               \
	    .init = prefix##_init,                                                                 \
	    .config = prefix##_config,                                                             \
	    .term = prefix##_term,                                                                 \
	    .sample = prefix##_sample,                                                             \
	};                                                                                         \
	const struct ldmsd_plugin *ldmsd_plugin_get(void)                                          \
	{                                                                                          \
		return &prefix##_plugin;                                                           \
	}

/* Parses an unsigned decimal at *p (after blanks); advances *p. Returns 0 or -EINVAL. */
int sampler_parse_u64(const char **p, uint64_t *out);

/* Name validity for instance names: 1..255 bytes, printable ASCII, no quotes,
 * no backslash. */
int sampler_instance_name_ok(const char *s);

#endif
