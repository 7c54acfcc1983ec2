/* The flat key/value form of a maestro model (maestro.md §7): what maestro_ctrl stores in
 * etcd and what the maestro daemon reads back. The layout is upstream's leaf layout, with
 * name components escaped so that any name round-trips (docs/maestro-etcd-layout.md). */
#ifndef MAESTRO_ETCD_KV_H
#define MAESTRO_ETCD_KV_H

#include <stddef.h>

struct ldms_err;
struct maestro_model;

struct maestro_kv {
	char *key;
	char *value;
};

struct maestro_kvlist {
	size_t count, cap;
	struct maestro_kv *kv;
};

void maestro_kvlist_init(struct maestro_kvlist *l);
/* Appends copies of key and value. 0 or -ENOMEM. */
int maestro_kvlist_add(struct maestro_kvlist *l, const char *key, const char *value);
/* Appends, taking ownership of the two malloc'ed strings (freed on failure too). */
int maestro_kvlist_add_own(struct maestro_kvlist *l, char *key, char *value);
void maestro_kvlist_free(struct maestro_kvlist *l);
/* Byte order of keys, as etcd returns a range. */
void maestro_kvlist_sort(struct maestro_kvlist *l);

/* Flattens the model into leaf keys (maestro.md §7.1, same keys and values as upstream's
 * `etcd_dump.tsv`, without `last_updated`, which belongs to the loader).
 *   prefix NULL or "": keys are relative to the prefix, e.g. "daemons/samp-1/addr"
 *                      (this is what cfgstore_etcd_load() takes);
 *   prefix "P":        keys are "/P/daemons/samp-1/addr", byte-identical to upstream's keys.
 * Every name component is escaped with maestro_kv_escape(). out must be initialised;
 * keys are appended in model order (call maestro_kvlist_sort() for etcd order). */
int maestro_model_to_kv(const struct maestro_model *m, const char *prefix,
			struct maestro_kvlist *out, struct ldms_err *err);

/* The reverse, for the maestro daemon (maestro.md §7.2, by position: list indices are the
 * six-digit components where the model has lists, all-digit names stay names). Keys as
 * produced by maestro_model_to_kv() with the same prefix (NULL/"" = relative keys; a key
 * that does not start with the prefix is ignored, as is "last_updated"). Any order. */
int maestro_kv_to_model(const struct maestro_kvlist *kvs, const char *prefix,
			struct maestro_model **out, struct ldms_err *err);

/* Key component escaping: '%' -> "%25", '/' -> "%2F", and a name made of exactly six
 * digits gets its first digit escaped ("000001" -> "%3000001"), so that an unescaped
 * six-digit component is always a list index. Names without these characters (all the
 * golden cases) are unchanged. Return malloc'ed strings (NULL on ENOMEM). */
char *maestro_kv_escape(const char *name);
/* NULL also for a malformed escape. */
char *maestro_kv_unescape(const char *comp);

#endif
