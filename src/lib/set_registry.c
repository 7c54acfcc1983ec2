/* The process-wide set registry (what DIR and LOOKUP serve), its observers, and
 * per-set info key/values. The registry is an array sorted by instance name under
 * one mutex: O(log n) lookups, ordered iteration, cheap inserts at 10k+ sets.
 * Observers always run outside the registry lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_set.h"
#include "set_priv.h"

static struct {
	pthread_mutex_t lock;
	ldms_set_t *arr;
	size_t n, cap;
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct observer {
	ldms_set_observer_fn fn;
	void *arg;
};

static struct {
	pthread_mutex_t lock;
	struct observer *arr;
	size_t n, cap;
} obs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Index of name in reg.arr, or -(insertion point) - 1. Caller holds reg.lock. */
static long reg_find(const char *name)
{
	size_t lo = 0, hi = reg.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(reg.arr[mid]->inst_name, name);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int set_registry_has(const char *instance)
{
	long i;

	pthread_mutex_lock(&reg.lock);
	i = reg_find(instance);
	pthread_mutex_unlock(&reg.lock);
	return i >= 0;
}

void set_notify(ldms_set_t s, enum ldms_set_event ev)
{
	struct observer stack[8], *list = stack;
	size_t n;

	pthread_mutex_lock(&obs.lock);
	n = obs.n;
	if (n > 8) {
		list = malloc(sizeof(*list) * n);
		if (!list) {
			list = stack;
			n = 8; /* out of memory: the first observers (the transport) still hear it
				*/
		}
	}
	if (n)
		memcpy(list, obs.arr, sizeof(*list) * n);
	pthread_mutex_unlock(&obs.lock);
	for (size_t i = 0; i < n; i++)
		list[i].fn(s, ev, list[i].arg);
	if (list != stack)
		free(list);
}

int ldms_set_observer_add(ldms_set_observer_fn fn, void *arg)
{
	int rc = 0;

	if (!fn)
		return -EINVAL;
	pthread_mutex_lock(&obs.lock);
	if (obs.n == obs.cap) {
		size_t ncap = obs.cap ? obs.cap * 2 : 4;
		struct observer *na = realloc(obs.arr, sizeof(*na) * ncap);
		if (!na) {
			rc = -ENOMEM;
			goto out;
		}
		obs.arr = na;
		obs.cap = ncap;
	}
	obs.arr[obs.n].fn = fn;
	obs.arr[obs.n].arg = arg;
	obs.n++;
out:
	pthread_mutex_unlock(&obs.lock);
	return rc;
}

void ldms_set_observer_del(ldms_set_observer_fn fn, void *arg)
{
	pthread_mutex_lock(&obs.lock);
	for (size_t i = 0; i < obs.n; i++) {
		if (obs.arr[i].fn == fn && obs.arr[i].arg == arg) {
			memmove(&obs.arr[i], &obs.arr[i + 1], sizeof(*obs.arr) * (obs.n - i - 1));
			obs.n--;
			break;
		}
	}
	if (!obs.n) {
		free(obs.arr);
		obs.arr = NULL;
		obs.cap = 0;
	}
	pthread_mutex_unlock(&obs.lock);
}

int ldms_set_publish(ldms_set_t s)
{
	long i;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&reg.lock);
	if (s->published) {
		pthread_mutex_unlock(&reg.lock);
		return -EBUSY;
	}
	i = reg_find(s->inst_name);
	if (i >= 0) {
		pthread_mutex_unlock(&reg.lock);
		return -EEXIST;
	}
	if (reg.n == reg.cap) {
		size_t ncap = reg.cap ? reg.cap * 2 : 64;
		ldms_set_t *na = realloc(reg.arr, sizeof(*na) * ncap);
		if (!na) {
			pthread_mutex_unlock(&reg.lock);
			return -ENOMEM;
		}
		reg.arr = na;
		reg.cap = ncap;
	}
	i = -i - 1;
	memmove(&reg.arr[i + 1], &reg.arr[i], sizeof(*reg.arr) * (reg.n - (size_t)i));
	reg.arr[i] = ldms_set_get(s); /* the registry's reference */
	reg.n++;
	__atomic_store_n(&s->published, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&reg.lock);
	set_notify(s, LDMS_SET_EV_ADD);
	return 0;
}

int ldms_set_unpublish(ldms_set_t s)
{
	long i;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&reg.lock);
	if (!s->published) {
		pthread_mutex_unlock(&reg.lock);
		return -ENOENT;
	}
	i = reg_find(s->inst_name);
	if (i < 0 || reg.arr[i] != s) {
		pthread_mutex_unlock(&reg.lock);
		return -ENOENT;
	}
	memmove(&reg.arr[i], &reg.arr[i + 1], sizeof(*reg.arr) * (reg.n - (size_t)i - 1));
	reg.n--;
	if (!reg.n) {
		free(reg.arr);
		reg.arr = NULL;
		reg.cap = 0;
	}
	__atomic_store_n(&s->published, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&reg.lock);
	/* Observers run while the registry's reference still keeps the set alive. */
	set_notify(s, LDMS_SET_EV_DEL);
	ldms_set_put(s);
	return 0;
}

void ldms_set_delete(ldms_set_t s)
{
	if (!s)
		return;
	ldms_set_unpublish(s);
	ldms_set_put(s);
}

ldms_set_t ldms_set_by_name(const char *instance)
{
	ldms_set_t s = NULL;
	long i;

	if (!instance)
		return NULL;
	pthread_mutex_lock(&reg.lock);
	i = reg_find(instance);
	if (i >= 0)
		s = ldms_set_get(reg.arr[i]);
	pthread_mutex_unlock(&reg.lock);
	return s;
}

int ldms_set_registry_foreach(int (*cb)(ldms_set_t s, void *arg), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&reg.lock);
	for (size_t i = 0; i < reg.n && !rc; i++)
		rc = cb(reg.arr[i], arg);
	pthread_mutex_unlock(&reg.lock);
	return rc;
}

size_t ldms_set_registry_count(void)
{
	size_t n;

	pthread_mutex_lock(&reg.lock);
	n = reg.n;
	pthread_mutex_unlock(&reg.lock);
	return n;
}

/* ---- set info ------------------------------------------------------------------------ */

/* Keys and values travel as ldms_name strings (u8 length incl. NUL). */
#define INFO_STR_MAX 254

static void kv_free_list(struct set_kv *kv)
{
	while (kv) {
		struct set_kv *next = kv->next;
		free(kv->key);
		free(kv->value);
		free(kv);
		kv = next;
	}
}

void set_info_free_all(ldms_set_t s)
{
	kv_free_list(s->info_local);
	kv_free_list(s->info_remote);
	s->info_local = s->info_remote = NULL;
}

static struct set_kv *kv_find(struct set_kv *kv, const char *key)
{
	for (; kv; kv = kv->next)
		if (!strcmp(kv->key, key))
			return kv;
	return NULL;
}

static struct set_kv *kv_new(const char *key, const char *value)
{
	struct set_kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	kv->key = strdup(key);
	kv->value = strdup(value);
	if (!kv->key || !kv->value) {
		kv_free_list(kv);
		return NULL;
	}
	return kv;
}

static int info_str_ok(const char *str, int allow_empty)
{
	size_t n;

	if (!str)
		return 0;
	n = strnlen(str, INFO_STR_MAX + 1);
	return n <= INFO_STR_MAX && (allow_empty || n > 0);
}

int ldms_set_info_set(ldms_set_t s, const char *key, const char *value)
{
	struct set_kv *kv, **tail;
	int changed = 1;

	if (!s || !info_str_ok(key, 0) || !info_str_ok(value, 1))
		return -EINVAL;
	pthread_mutex_lock(&s->info_lock);
	kv = kv_find(s->info_local, key);
	if (kv) {
		if (!strcmp(kv->value, value)) {
			changed = 0;
		} else {
			char *v = strdup(value);
			if (!v) {
				pthread_mutex_unlock(&s->info_lock);
				return -ENOMEM;
			}
			free(kv->value);
			kv->value = v;
		}
	} else {
		kv = kv_new(key, value);
		if (!kv) {
			pthread_mutex_unlock(&s->info_lock);
			return -ENOMEM;
		}
		for (tail = &s->info_local; *tail; tail = &(*tail)->next)
			;
		*tail = kv;
	}
	pthread_mutex_unlock(&s->info_lock);
	if (changed && __atomic_load_n(&s->published, __ATOMIC_ACQUIRE))
		set_notify(s, LDMS_SET_EV_UPD);
	return 0;
}

int ldms_set_info_unset(ldms_set_t s, const char *key)
{
	struct set_kv **pp, *kv = NULL;

	if (!s || !key)
		return -EINVAL;
	pthread_mutex_lock(&s->info_lock);
	for (pp = &s->info_local; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->key, key)) {
			kv = *pp;
			*pp = kv->next;
			kv->next = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&s->info_lock);
	if (!kv)
		return -ENOENT;
	kv_free_list(kv);
	if (__atomic_load_n(&s->published, __ATOMIC_ACQUIRE))
		set_notify(s, LDMS_SET_EV_UPD);
	return 0;
}

char *ldms_set_info_get(ldms_set_t s, const char *key)
{
	struct set_kv *kv;
	char *v = NULL;

	if (!s || !key)
		return NULL;
	pthread_mutex_lock(&s->info_lock);
	kv = kv_find(s->info_local, key);
	if (!kv)
		kv = kv_find(s->info_remote, key);
	if (kv)
		v = strdup(kv->value);
	pthread_mutex_unlock(&s->info_lock);
	return v;
}

int ldms_set_info_foreach(ldms_set_t s, int (*cb)(const char *key, const char *value, void *arg),
			  void *arg)
{
	struct set_kv *snap = NULL, **tail = &snap, *kv;
	int rc = 0;

	if (!s || !cb)
		return -EINVAL;
	/* Snapshot, so that the callback may use the info API itself. */
	pthread_mutex_lock(&s->info_lock);
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (kv = pass ? s->info_remote : s->info_local; kv; kv = kv->next) {
			struct set_kv *c;
			if (pass && kv_find(s->info_local, kv->key))
				continue; /* local wins */
			c = kv_new(kv->key, kv->value);
			if (!c) {
				rc = -ENOMEM;
				break;
			}
			*tail = c;
			tail = &c->next;
		}
	}
	pthread_mutex_unlock(&s->info_lock);
	for (kv = snap; kv && !rc; kv = kv->next)
		rc = cb(kv->key, kv->value, arg);
	kv_free_list(snap);
	return rc;
}

int ldms_set_info_remote_set(ldms_set_t s, const char *const *keys, const char *const *values,
			     size_t count)
{
	struct set_kv *list = NULL, **tail = &list, *old;

	if (!s || (count && (!keys || !values)))
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		struct set_kv *kv;
		if (!keys[i] || !values[i]) {
			kv_free_list(list);
			return -EINVAL;
		}
		kv = kv_new(keys[i], values[i]);
		if (!kv) {
			kv_free_list(list);
			return -ENOMEM;
		}
		*tail = kv;
		tail = &kv->next;
	}
	pthread_mutex_lock(&s->info_lock);
	old = s->info_remote;
	s->info_remote = list;
	pthread_mutex_unlock(&s->info_lock);
	kv_free_list(old);
	if (__atomic_load_n(&s->published, __ATOMIC_ACQUIRE))
		set_notify(s, LDMS_SET_EV_UPD);
	return 0;
}
