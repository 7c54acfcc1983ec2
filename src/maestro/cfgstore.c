/* The back-end independent part of the configuration store (cfgstore.h): dispatch to
 * the back end and the checks every configuration must pass before it is written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_util.h"
#include "cfgstore.h"
#include "etcd_kv.h"

int cfgstore_write(struct cfgstore *s, const struct maestro_kvlist *kvs, uint64_t *generation,
		   struct ldms_err *err)
{
	int rc = cfgstore_check_kvs(kvs, err);
	return rc ? rc : s->ops->write(s, kvs, generation, err);
}

int cfgstore_read(struct cfgstore *s, struct maestro_kvlist *out, uint64_t *generation,
		  struct ldms_err *err)
{
	return s->ops->read(s, out, generation, err);
}

int cfgstore_watch(struct cfgstore *s, cfgstore_watch_cb cb, void *arg, struct ldms_err *err)
{
	if (!cb)
		return ldms_err_set(err, -EINVAL, "cfgstore watch: no callback");
	return s->ops->watch(s, cb, arg, err);
}

void cfgstore_close(struct cfgstore *s)
{
	if (s)
		s->ops->close(s);
}

static int cmp_keyp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cfgstore_check_kvs(const struct maestro_kvlist *kvs, struct ldms_err *err)
{
	if (!kvs->count)
		return 0;
	char **keys = malloc(kvs->count * sizeof(*keys));
	if (!keys)
		return ldms_err_set(err, -ENOMEM, "cfgstore: out of memory");
	int rc = 0;
	for (size_t i = 0; i < kvs->count && !rc; i++) {
		keys[i] = kvs->kv[i].key;
		if (!keys[i] || !keys[i][0] || !kvs->kv[i].value)
			rc = ldms_err_set(err, -EINVAL,
					  "cfgstore: entry %zu has an empty key or no value", i);
	}
	if (!rc) {
		qsort(keys, kvs->count, sizeof(*keys), cmp_keyp);
		for (size_t i = 1; i < kvs->count && !rc; i++)
			if (!strcmp(keys[i - 1], keys[i]))
				rc = ldms_err_set(err, -EINVAL, "cfgstore: duplicate key %s",
						  keys[i]);
	}
	free(keys);
	return rc;
}
