/* The part that producers, producer listens, updaters and storage policies share (name,
 * owner, permission) and the guard every command on one of them starts with: find it by
 * name, check the requester's access, check that its state allows the command. */
#ifndef LDMSD_CFGOBJ_H
#define LDMSD_CFGOBJ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/types.h>

struct ldmsd;
struct ldmsd_req_ctxt;
struct ldmsd_buf;
struct ldmsd_regex_list;

struct ldmsd_cfgobj {
	char *name;
	uid_t uid;
	gid_t gid;
	uint32_t perm;
};

/* The header inside an object: its fields by name (o->name, o->uid ...) and as one struct
 * (o->obj); the two views of the union share their common initial sequence. */
#define LDMSD_CFGOBJ_HEAD                                                                          \
	union {                                                                                    \
		struct ldmsd_cfgobj obj;                                                           \
		struct {                                                                           \
			char *name;                                                                \
			uid_t uid;                                                                 \
			gid_t gid;                                                                 \
			uint32_t perm;                                                             \
		};                                                                                 \
	}

/* Defines `static void *fn(struct ldmsd *d, const char *name)`, the kind's find: the object
 * of the aggregator's list `field` (of struct type, linked by `link`) named name. */
#define LDMSD_CFGOBJ_FIND(fn, type, field)                                                         \
	static void *fn(struct ldmsd *d, const char *name)                                         \
	{                                                                                          \
		struct type *o;                                                                    \
		if (!d->agg || !name)                                                              \
			return NULL;                                                               \
		TAILQ_FOREACH(o, &d->agg->field, link)                                             \
		if (!strcmp(o->name, name))                                                        \
			return o;                                                                  \
		return NULL;                                                                       \
	}

/* An object's state as far as commands care; the updater and storage policy states have
 * these values (ldmsd_agg.h checks). */
enum ldmsd_cfgobj_run {
	LDMSD_CFGOBJ_STOPPED = 0,
	LDMSD_CFGOBJ_RUNNING = 1,
	LDMSD_CFGOBJ_STOPPING = 2,
};
/* "STOPPED", "RUNNING", "STOPPING" ("UNKNOWN" otherwise), as the status replies say. */
const char *ldmsd_cfgobj_run_str(int run);

/* names[v] when v is below n, else unknown: the name tables of the state enums. */
const char *ldmsd_enum_name(const char *const *names, size_t n, unsigned v, const char *unknown);
#define LDMSD_ENUM_NAME(names, v, unknown)                                                         \
	ldmsd_enum_name(names, sizeof(names) / sizeof(names[0]), (unsigned)(v), unknown)

/* What a command needs of the object besides access. */
enum ldmsd_cfgobj_need {
	LDMSD_CFGOBJ_ANY,
	LDMSD_CFGOBJ_IDLE,  /* stopped, to change or delete it: else .busy */
	LDMSD_CFGOBJ_START, /* stopped, to start it: else .started */
	LDMSD_CFGOBJ_STOP,  /* neither stopped nor stopping, to stop it: else .stopped */
};

struct ldmsd_cfgobj_kind {
	void *(*find)(struct ldmsd *d, const char *name);
	size_t obj_off; /* offsetof(type, obj) */
	enum ldmsd_cfgobj_run (*run)(void *o);
	/* The replies, printf formats given the name (upstream's wording differs per kind,
	 * some name the object). */
	const char *noent, *eacces, *busy, *started, *stopped;
};

/* The object named `name` when it exists, the requester may change it (ldmsd_agg_access
 * with write access) and its state allows `need`; otherwise NULL with the error replied
 * (c->reply->rc). */
void *ldmsd_cfgobj_checked(struct ldmsd_req_ctxt *c, const struct ldmsd_cfgobj_kind *k,
			   const char *name, enum ldmsd_cfgobj_need need);

/* The "does not exist" reply for name. */
int ldmsd_cfgobj_noent(struct ldmsd_req_ctxt *c, const struct ldmsd_cfgobj_kind *k,
		       const char *name);

/* The start of a *_status reply (the aggregator part is made on first use): the JSON
 * buffer with "[" written; NULL with the error replied when out of memory or when name is
 * given and no such object exists. */
struct ldmsd_buf *ldmsd_cfgobj_status_open(struct ldmsd_req_ctxt *c,
					   const struct ldmsd_cfgobj_kind *k, const char *name);

/* Adds regex re (for sel) to or deletes it from an object's list under the aggregator
 * lock, replying the error as upstream words it. */
int ldmsd_cfgobj_regex_edit(struct ldmsd_req_ctxt *c, struct ldmsd_regex_list *l, int add, int sel,
			    const char *re);

#endif
