/* dump_cfg (dump_cfg.c): the daemon's current configuration written back as
 * config-language lines that recreate it. Each kind of object contributes through
 * a dump hook; hooks run in ascending `order`, so the text comes out in a valid
 * sequence (settings, auth, listeners, plugins, producers, updaters, policies).
 *
 * A new kind of object adds its hook the way dump_agg.c does for producers,
 * updaters and storage policies:
 *     static int x_dump(struct ldmsd *d, struct ldmsd_buf *out) { ... }
 *     ldmsd_dump_hook_register("x", LDMSD_DUMP_ORDER_STRGP + 10, x_dump);
 * (called from code that is linked in for sure, e.g. the first use of the
 * object), writing lines with ldmsd_dump_line_begin / _attr / _line_end. */
#ifndef LDMSD_DUMP_H
#define LDMSD_DUMP_H

#include "ldmsd.h"
#include "ldmsd_cmd.h"

#define LDMSD_DUMP_ORDER_DAEMON	 100
#define LDMSD_DUMP_ORDER_AUTH	 200
#define LDMSD_DUMP_ORDER_LISTEN	 300
#define LDMSD_DUMP_ORDER_PLUGINS 400
#define LDMSD_DUMP_ORDER_PRDCR	 500
#define LDMSD_DUMP_ORDER_UPDTR	 600
#define LDMSD_DUMP_ORDER_STRGP	 700

/* Appends the hook's lines to out; called under the daemon's command lock. 0 or
 * -errno (the dump fails). */
typedef int (*ldmsd_dump_fn)(struct ldmsd *d, struct ldmsd_buf *out);
/* Process-wide; idempotent for the same (name, fn). -EEXIST for another fn under
 * the same name, -ENOSPC beyond 32 hooks. */
int ldmsd_dump_hook_register(const char *name, int order, ldmsd_dump_fn fn);

/* Line writers: "verb", then " name=value" with quotes when the value needs them
 * (spaces, a leading quote; §1.1), then "\n". A value that cannot be written in
 * the config language (a newline) gives -EINVAL. */
int ldmsd_dump_line_begin(struct ldmsd_buf *out, const char *verb);
int ldmsd_dump_attr(struct ldmsd_buf *out, const char *name, const char *value);
int ldmsd_dump_line_end(struct ldmsd_buf *out);

/* Registers the hooks of the aggregation tree (dump_agg.c); done by the first dump. */
void ldmsd_dump_agg_register(void);

/* The whole configuration text (header comment + every hook). */
int ldmsd_dump_cfg_text(struct ldmsd *d, struct ldmsd_buf *out);

/* What dump_cfg cannot read back from the objects (plugin config arguments, env)
 * is recorded from the successful commands themselves: the dispatcher calls this
 * after every successful request. */
void ldmsd_dump_observe(struct ldmsd *d, const struct ldmsd_req *r);
/* Frees the records of d (ldmsd_free). */
void ldmsd_dump_free(struct ldmsd *d);

/* Calls fn for every plugin instance (as plugn_status lists them), stopping at a
 * non-zero return, which is returned. */
int ldmsd_dump_plugins_foreach(struct ldmsd *d,
			       int (*fn)(void *arg, const char *name, const char *plugin,
					 const char *type),
			       void *arg);

#endif
