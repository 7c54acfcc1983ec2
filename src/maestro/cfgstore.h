/* Configuration store of maestro: where maestro_ctrl puts the flattened cluster model
 * (struct maestro_kvlist, relative keys as made by maestro_model_to_kv) and where the
 * maestro daemon reads and watches it. One interface, two back ends: etcd
 * (cfgstore_etcd.c, the cluster mode) and a local file (cfgstore_file.c, the embedded
 * mode). Both switch configurations atomically: a reader gets a whole generation. */
#ifndef MAESTRO_CFGSTORE_H
#define MAESTRO_CFGSTORE_H

#include <stdint.h>

struct ldms_err;
struct maestro_kvlist;
struct cfgstore;

/* What a watch reports. rc == 0: `generation` became current (read it with
 * cfgstore_read). rc < 0: the store is unreachable or broken for now (msg says why);
 * the watch keeps trying and reports the generation again once it is back. */
struct cfgstore_event {
	uint64_t generation;
	int rc;
	const char *msg;
};
typedef void (*cfgstore_watch_cb)(const struct cfgstore_event *ev, void *arg);

struct cfgstore_ops {
	const char *name;
	int (*write)(struct cfgstore *s, const struct maestro_kvlist *kvs, uint64_t *generation,
		     struct ldms_err *err);
	int (*read)(struct cfgstore *s, struct maestro_kvlist *out, uint64_t *generation,
		    struct ldms_err *err);
	int (*watch)(struct cfgstore *s, cfgstore_watch_cb cb, void *arg, struct ldms_err *err);
	void (*close)(struct cfgstore *s);
};

/* Back ends start their own structure with this. */
struct cfgstore {
	const struct cfgstore_ops *ops;
};

/* etcd: the members of etcd.yaml, keys under "/<prefix>/" (one leading and any trailing
 * '/' stripped; an empty prefix is an error). Layout: docs/etcd-cfgstore.md. */
int cfgstore_open_etcd(const char *etcd_yaml_path, const char *prefix, struct cfgstore **out,
		       struct ldms_err *err);
/* Local file (JSON, replaced atomically with rename; writers serialised by a lock file
 * "<path>.lock"). The file need not exist until the first write. */
int cfgstore_open_file(const char *path, struct cfgstore **out, struct ldms_err *err);

/* Makes kvs the current configuration, atomically. Keys: non-empty, no duplicates.
 * *generation (may be NULL) receives the new generation number. */
int cfgstore_write(struct cfgstore *s, const struct maestro_kvlist *kvs, uint64_t *generation,
		   struct ldms_err *err);
/* The current configuration (out must be initialised; keys are appended in byte order).
 * -ENOENT when nothing was ever written. */
int cfgstore_read(struct cfgstore *s, struct maestro_kvlist *out, uint64_t *generation,
		  struct ldms_err *err);
/* Calls cb (on a thread of the store) whenever another generation becomes current,
 * starting after the last cfgstore_read (so a change between the read and the watch is
 * not lost). One watch per store; it ends with cfgstore_close. */
int cfgstore_watch(struct cfgstore *s, cfgstore_watch_cb cb, void *arg, struct ldms_err *err);
void cfgstore_close(struct cfgstore *s);

/* Checks what both back ends require of a configuration: keys non-empty, no
 * duplicates. -EINVAL with the offending key in err. */
int cfgstore_check_kvs(const struct maestro_kvlist *kvs, struct ldms_err *err);

#endif
