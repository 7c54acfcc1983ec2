/* What maestro wants each ldmsd to run, and the commands that get it there (maestro.md
 * §10.4, §10.7, §13): a daemon's state is a list of objects (auth domains, listeners,
 * sampler and store plugin instances, producers, updaters, storage policies,
 * subscriptions, producer listeners, advertisers); diffing two states gives the control
 * requests to push. Everything here is pure: no connections, no clocks, no globals. */
#ifndef MAESTRO_REBALANCE_H
#define MAESTRO_REBALANCE_H

#include <stddef.h>
#include <stdint.h>

struct maestro_model;

/* ---- commands ------------------------------------------------------------------------ */

/* Errors a command may return without being a failure (the object is already as
 * wanted: a re-sent add, a start of something running...). */
#define RB_OK_EEXIST 0x1u
#define RB_OK_EBUSY  0x2u
#define RB_OK_ENOENT 0x4u
#define RB_OK_EADDR  0x8u /* EADDRINUSE (listen) */

struct rb_attr {
	uint32_t id; /* LDMSD_ATTR_*; LDMSD_ATTR_STRING carries folded free text */
	char *value; /* NULL = keyword */
};

struct rb_cmd {
	uint32_t req; /* LDMSD_*_REQ (canonical 4.5 ids) */
	char *text;   /* "prdcr_start name=samp-1" for logs */
	size_t n_attr;
	struct rb_attr *attr;
	unsigned ok; /* RB_OK_* */
	int kind;    /* enum rb_kind of the object the command is for, -1 none */
	char *key;   /* that object's key */
};

struct rb_cmdlist {
	size_t n, cap;
	struct rb_cmd *c;
};

void rb_cmdlist_init(struct rb_cmdlist *l);
void rb_cmdlist_free(struct rb_cmdlist *l);
/* Appends the command for a text line "verb k=v k=v ..." (values without spaces;
 * for `config` everything after name= is one free-form string, as ldmsd_controller
 * sends it). Attribute names map to ids with ldms_ctrl_attr_id(); names a verb folds
 * (config/auth_add/env/listen extras, unknown names) go into one STRING attribute.
 * -EINVAL for an unknown verb, -ENOMEM. */
int rb_cmd_add_line(struct rb_cmdlist *l, const char *line, unsigned ok);

/* ---- daemon state ----------------------------------------------------------------------- */

/* In push order; removals go in the reverse order. */
enum rb_kind {
	RB_ENABLE,  /* msg_enable / stream_enable (key = the verb) */
	RB_AUTH,    /* auth_add */
	RB_LISTEN,  /* listen */
	RB_SMPLR,   /* sampler plugin instance: load, config..., start/stop, term */
	RB_STPI,    /* store plugin instance: load, config..., term */
	RB_PRDCR,   /* prdcr_add, prdcr_start/stop, prdcr_del */
	RB_UPDTR,   /* updtr_add, updtr_prdcr_add..., updtr_match_add..., start/stop, del */
	RB_STRGP,   /* strgp_add, strgp_prdcr_add..., start/stop, del */
	RB_SUB,	    /* prdcr_subscribe / prdcr_unsubscribe */
	RB_PLISTEN, /* prdcr_listen_add, start/stop, del */
	RB_ADV,	    /* advertiser_add, start/stop, del */
	RB_NKIND,
};
const char *rb_kind_name(enum rb_kind k);

struct rb_kv {
	char *k;
	char *v; /* NULL = keyword */
};

/* One configuration object. Attributes whose name starts with '_' are compared but
 * never sent (e.g. a storage policy carries its plugin's configuration so that a
 * plugin change re-creates the policies using it). */
struct rb_obj {
	enum rb_kind kind;
	char *key;
	size_t n_a;
	struct rb_kv *a; /* attributes of the add command (after name=key) */
	size_t n_s;
	struct rb_kv *s; /* attributes of the start command (sampler interval/offset) */
	size_t n_l;
	char **l; /* config strings / "regex=..." items of the list commands */
	size_t n_m;
	char **m; /* updater set matches: "regex=... match=..." */
	int run;  /* wanted running (sampler started, producer started ...) */
};

/* A producer's sets on an aggregator when balancing by set ('\n'-separated names):
 * losing some of them while the producer stays restarts it there (rb_diff). */
#define RB_SETS_ATTR "_sets"

/* A daemon's objects, kept sorted by (kind, key). */
struct rb_state {
	size_t n, cap;
	struct rb_obj *o;
};

void rb_state_init(struct rb_state *s);
void rb_state_free(struct rb_state *s);
/* New object (replacing one with the same kind and key); returned for filling. */
struct rb_obj *rb_state_put(struct rb_state *s, enum rb_kind kind, const char *key);
struct rb_obj *rb_state_find(const struct rb_state *s, enum rb_kind kind, const char *key);
int rb_obj_set_attr(struct rb_obj *o, const char *k, const char *v);
int rb_obj_set_start(struct rb_obj *o, const char *k, const char *v);
int rb_obj_add_item(struct rb_obj *o, const char *item);
int rb_obj_add_match(struct rb_obj *o, const char *item);
const char *rb_obj_attr(const struct rb_obj *o, const char *k);
int rb_state_copy(struct rb_state *dst, const struct rb_state *src);
void rb_state_remove(struct rb_state *s, enum rb_kind kind, const char *key);
/* dst's object (kind, key) becomes a copy of src's, or disappears if src has none (used
 * to forget the objects whose commands failed, so the next pass tries them again). */
int rb_state_restore(struct rb_state *dst, const struct rb_state *src, enum rb_kind kind,
		     const char *key);
/* Same objects with the same attributes and running flags. */
int rb_state_equal(const struct rb_state *a, const struct rb_state *b);

/* The requests that turn state `cur` into `want`, in two lists so that a rebalance can
 * stop everywhere before it starts anywhere (a producer is never pulled by two
 * aggregators at once):
 *   pre:  stops and removals (reverse kind order);
 *   post: additions, list commands and starts (kind order).
 * Per object: absent -> add (+ start); gone -> stop + delete (auth domains, listeners
 * and enables are never removed: ldmsd cannot); add attributes, config or lists changed
 * -> stop, delete, add again, start; only the start attributes changed (a sampler's
 * interval/offset) -> stop + start; only the running flag changed -> start or stop.
 * Objects of `cur` not in `want` are left alone when `keep_unknown` is set (an adopted
 * daemon may hold things maestro did not create). */
int rb_diff(const struct rb_state *cur, const struct rb_state *want, int keep_unknown,
	    struct rb_cmdlist *pre, struct rb_cmdlist *post);

/* What a daemon that maestro has not configured in this session is taken to hold:
 * the objects of `want` whose key the daemon reports (prdcr_status, updtr_status,
 * strgp_status, plugn_status JSON replies; NULL = not asked), with the running flag
 * the daemon reports where it reports one; attributes are assumed right (adopted), so
 * an adopted cluster gets only start/stop differences. Kinds no status request lists
 * (auth, listen, subscriptions, producer listeners, advertisers, enables) are absent:
 * they are sent again with "already exists" tolerated. -EINVAL for a reply that is not
 * the expected JSON. */
struct rb_observed {
	const char *prdcr_status;
	const char *updtr_status;
	const char *strgp_status;
	const char *plugn_status;
};
int rb_adopt(const struct rb_observed *obs, const struct rb_state *want, struct rb_state *out);

/* Producers reported running (state other than STOPPED/STANDBY) in a prdcr_status
 * reply: calls cb for each. -EINVAL when the text is not a JSON list. */
int rb_prdcr_running(const char *prdcr_status, void (*cb)(const char *name, void *arg), void *arg);

/* ---- desired state from the model --------------------------------------------------- */

/* Who runs what. For producer group g (m->pgrp[g]) and producer p: prdcr[g][p] = index
 * of the aggregator in the group's members (m->agrp[..].members, byte order), -1 for
 * nobody. In sets mode a group may carry per-set assignments instead: then producer p
 * runs on every aggregator that has one of its sets, and each aggregator's updaters
 * match exactly its sets. */
struct rb_setassign {
	size_t n;
	char **name;   /* set instance names */
	size_t *prdcr; /* producer index of each set */
	long *agg;     /* aggregator (member index) of each set, -1 = nobody */
	uint64_t *weight;
};

struct rb_assign {
	size_t n_grp;		    /* = m->n_pgrp */
	long **prdcr;		    /* [g][p] */
	struct rb_setassign **sets; /* [g], NULL for producer balancing */
};

int rb_assign_new(const struct maestro_model *m, struct rb_assign *a);
void rb_assign_free(struct rb_assign *a);

/* Index in m->agrp of the aggregator group of producer group g, -1 if none. */
long rb_pgrp_agrp(const struct maestro_model *m, size_t g);

/* The state maestro wants daemon d to have (maestro.md §10.4 with ldms-c's
 * corrections): enables, listeners of the endpoints maestro does not talk through,
 * auth domains they and the producers/advertisers need, sampler plugins of every
 * sampler group, and for every aggregator group: all its producers (only the assigned
 * ones running), updaters named <updtr_N>_<agg>, store plugins and policies,
 * subscriptions, producer listeners, advertisers. Sampler config dictionaries get the
 * defaults producer=<daemon> instance=<daemon>/<inst>. */
int rb_desired(const struct maestro_model *m, const struct rb_assign *a, size_t d,
	       struct rb_state *out);

/* POSIX ERE matching exactly s ("^...$" with metacharacters escaped); malloc'ed. */
char *rb_regex_exact(const char *s);

#endif
