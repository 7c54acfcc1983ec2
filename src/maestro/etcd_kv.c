/* Key/value list helpers and the name escaping used by maestro's etcd layout
 * (docs/maestro-etcd-layout.md), and the model <-> kv conversions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_util.h"
#include "etcd_kv.h"

void maestro_kvlist_init(struct maestro_kvlist *l)
{
	memset(l, 0, sizeof(*l));
}

int maestro_kvlist_add_own(struct maestro_kvlist *l, char *key, char *value)
{
	if (!key || !value)
		goto nomem;
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct maestro_kv *n = realloc(l->kv, ncap * sizeof(*n));
		if (!n)
			goto nomem;
		l->kv = n;
		l->cap = ncap;
	}
	l->kv[l->count].key = key;
	l->kv[l->count].value = value;
	l->count++;
	return 0;
nomem:
	free(key);
	free(value);
	return -ENOMEM;
}

int maestro_kvlist_add(struct maestro_kvlist *l, const char *key, const char *value)
{
	return maestro_kvlist_add_own(l, strdup(key), strdup(value));
}

void maestro_kvlist_free(struct maestro_kvlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->kv[i].key);
		free(l->kv[i].value);
	}
	free(l->kv);
	memset(l, 0, sizeof(*l));
}

static int kv_cmp(const void *a, const void *b)
{
	const struct maestro_kv *x = a, *y = b;
	return strcmp(x->key, y->key);
}

void maestro_kvlist_sort(struct maestro_kvlist *l)
{
	if (l->count > 1)
		qsort(l->kv, l->count, sizeof(l->kv[0]), kv_cmp);
}

static int is_six_digits(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[6] == '\0';
}

char *maestro_kv_escape(const char *name)
{
	size_t n = strlen(name), extra = 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '%' || name[i] == '/')
			extra += 2;
	int six = is_six_digits(name);
	if (six)
		extra += 2;
	char *out = malloc(n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '%' || c == '/' || (six && i == 0)) {
			static const char hex[] = "0123456789ABCDEF";
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *maestro_kv_unescape(const char *comp)
{
	size_t n = strlen(comp);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (comp[i] != '%') {
			*o++ = comp[i];
			continue;
		}
		int h = hexval(comp[i + 1]); /* the NUL terminator stops a short escape */
		int l = h >= 0 ? hexval(comp[i + 2]) : -1;
		if (h < 0 || l < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(h * 16 + l);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* Placeholders until the model lands: keep the contract linkable for the etcd helper. */
int maestro_model_to_kv(const struct maestro_model *m, const char *prefix,
			struct maestro_kvlist *out, struct ldms_err *err)
{
	if (err)
		err->rc = -ENOSYS;
	return -ENOSYS;
}

int maestro_kv_to_model(const struct maestro_kvlist *kvs, const char *prefix,
			struct maestro_model **out, struct ldms_err *err)
{
	if (err)
		err->rc = -ENOSYS;
	return -ENOSYS;
}
