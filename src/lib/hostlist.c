/* Hostlist expansion with python-hostlist 1.20 semantics (maestro.md §3.5): comma parts,
 * bracket groups forming a cross product, zero-padded ranges, duplicates dropped, and the
 * same error conditions in the same order. Numbers are decimal strings, so any width works. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_hostlist.h"

void ldms_hostlist_init(struct ldms_hostlist *hl)
{
	memset(hl, 0, sizeof(*hl));
}

void ldms_hostlist_free(struct ldms_hostlist *hl)
{
	for (size_t i = 0; i < hl->count; i++)
		free(hl->names[i]);
	free(hl->names);
	memset(hl, 0, sizeof(*hl));
}

/* A growable array of owned strings, used for intermediate products. */
struct strv {
	size_t n, cap;
	char **v;
};

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int strv_push(struct strv *s, char *str)
{
	if (!str)
		return -ENOMEM;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		char **nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv) {
			free(str);
			return -ENOMEM;
		}
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = str;
	return 0;
}

static char *cat3(const char *a, size_t al, const char *b, size_t bl, const char *c)
{
	size_t cl = strlen(c);
	char *r = malloc(al + bl + cl + 1);
	if (!r)
		return NULL;
	memcpy(r, a, al);
	memcpy(r + al, b, bl);
	memcpy(r + al + bl, c, cl + 1);
	return r;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Python's re `$` also matches just before a final newline. */
static size_t strip_final_nl(const char *s, size_t n)
{
	return (n && s[n - 1] == '\n') ? n - 1 : n;
}

/* Significant digits of a decimal string (no leading zeros, "0" for zero). */
static void sig_digits(const char *s, size_t n, const char **out, size_t *outn)
{
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	*out = s;
	*outn = n;
}

static int dec_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

/* hi - lo for hi >= lo (significant digits), saturated at UINT64_MAX. */
static uint64_t dec_diff(const char *lo, size_t ln, const char *hi, size_t hn)
{
	uint64_t val = 0, mul = 1;
	int borrow = 0, big = 0;
	for (size_t k = 0; k < hn; k++) {
		int d = (hi[hn - 1 - k] - '0') - (k < ln ? lo[ln - 1 - k] - '0' : 0) - borrow;
		borrow = d < 0;
		if (borrow)
			d += 10;
		if (k < 18) {
			val += (uint64_t)d * mul;
			mul *= 10;
		} else if (d) {
			big = 1;
		}
	}
	return big ? UINT64_MAX : val;
}

/* Increment a decimal digit buffer in place; buf has room for one more digit. */
static void dec_inc(char *buf, size_t *n)
{
	size_t i = *n;
	while (i > 0) {
		i--;
		if (buf[i] != '9') {
			buf[i]++;
			return;
		}
		buf[i] = '0';
	}
	memmove(buf + 1, buf, *n);
	buf[0] = '1';
	(*n)++;
	buf[*n] = '\0';
}

/* One rangelist item: "N" verbatim or "LO-HI". */
static int expand_range(const char *prefix, size_t pl, const char *item, size_t il,
			struct strv *out, size_t budget, const char **err)
{
	size_t n = strip_final_nl(item, il);
	if (all_digits(item, n)) {
		char *s = malloc(pl + il + 1);
		if (!s)
			return -ENOMEM;
		memcpy(s, prefix, pl);
		memcpy(s + pl, item, il);
		s[pl + il] = '\0';
		return strv_push(out, s);
	}
	const char *dash = memchr(item, '-', n);
	if (!dash || !all_digits(item, (size_t)(dash - item)) ||
	    !all_digits(dash + 1, n - (size_t)(dash - item) - 1)) {
		*err = "bad range";
		return -EINVAL;
	}
	size_t width = (size_t)(dash - item);
	const char *lo, *hi;
	size_t ln, hn;
	sig_digits(item, width, &lo, &ln);
	sig_digits(dash + 1, n - width - 1, &hi, &hn);
	if (dec_cmp(hi, hn, lo, ln) < 0) {
		*err = "start > stop";
		return -EINVAL;
	}
	uint64_t diff = dec_diff(lo, ln, hi, hn);
	if (diff > LDMS_HOSTLIST_MAX_SIZE) {
		*err = "range too large";
		return -EINVAL;
	}
	if (diff >= budget || out->n + diff >= budget) { /* ldms-c's own bound, checked early */
		*err = "results too large";
		return -EINVAL;
	}
	char *cur = malloc(hn + 2);
	if (!cur)
		return -ENOMEM;
	memcpy(cur, lo, ln);
	cur[ln] = '\0';
	size_t cn = ln;
	int rc = 0;
	for (uint64_t k = 0; k <= diff && !rc; k++) {
		size_t pad = width > cn ? width - cn : 0;
		char *s = malloc(pl + pad + cn + 1);
		if (!s) {
			rc = -ENOMEM;
			break;
		}
		memcpy(s, prefix, pl);
		memset(s + pl, '0', pad);
		memcpy(s + pl + pad, cur, cn + 1);
		rc = strv_push(out, s);
		dec_inc(cur, &cn);
	}
	free(cur);
	return rc;
}

/* prefix + each item of "a,b-c,..." (the text between the brackets). */
static int expand_rangelist(const char *prefix, size_t pl, const char *rl, size_t rn,
			    struct strv *out, size_t budget, const char **err)
{
	size_t start = 0;
	for (size_t i = 0; i <= rn; i++) {
		if (i == rn || rl[i] == ',') {
			int rc = expand_range(prefix, pl, rl + start, i - start, out, budget, err);
			if (rc)
				return rc;
			start = i + 1;
		}
	}
	return 0;
}

/* Expand one comma-free (at top level) part. Like python-hostlist, the text after the
 * first bracket group is expanded first, so its errors win. */
static int expand_part(const char *s, size_t n, struct strv *out, size_t budget, const char **err)
{
	if (n == 0)
		return strv_push(out, strdup(""));
	size_t p = 0;
	while (p < n && s[p] != '[' && s[p] != ',')
		p++;
	size_t rest = p, rl_start = 0, rl_len = 0;
	int has_range = 0;
	if (p < n && s[p] == '[') {
		const char *close = memchr(s + p, ']', n - p);
		if (!close) {
			/* only after the newline cut below; python-hostlist recurses forever */
			*err = "unbalanced brackets";
			return -EINVAL;
		}
		has_range = 1;
		rl_start = p + 1;
		rl_len = (size_t)(close - s) - rl_start;
		rest = (size_t)(close - s) + 1;
	}
	/* python-hostlist matches the rest with `(.*)`, which stops at a newline */
	const char *nl = memchr(s + rest, '\n', n - rest);
	size_t rest_end = nl ? (size_t)(nl - s) : n;
	struct strv tail = {0}, head = {0};
	int rc = expand_part(s + rest, rest_end - rest, &tail, budget, err);
	if (rc)
		goto out;
	if (has_range) {
		rc = expand_rangelist(s, p, s + rl_start, rl_len, &head, budget, err);
	} else {
		char *h = malloc(p + 1);
		if (h) {
			memcpy(h, s, p);
			h[p] = '\0';
		}
		rc = strv_push(&head, h);
	}
	if (rc)
		goto out;
	if ((uint64_t)head.n * tail.n > LDMS_HOSTLIST_MAX_SIZE ||
	    (uint64_t)head.n * tail.n > budget) {
		*err = "results too large";
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < head.n && !rc; i++)
		for (size_t j = 0; j < tail.n && !rc; j++)
			rc = strv_push(out, cat3(head.v[i], strlen(head.v[i]), "", 0, tail.v[j]));
out:
	strv_free(&head);
	strv_free(&tail);
	if (rc == -ENOMEM)
		*err = "out of memory";
	return rc;
}

/* FNV-1a; the set only has to drop duplicates of one expression in linear time. */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int dedup_append(struct strv *all, struct ldms_hostlist *hl)
{
	size_t nb = 16;
	while (nb < all->n * 2)
		nb <<= 1;
	char **tab = calloc(nb, sizeof(*tab));
	size_t need = hl->count + all->n;
	if (!tab)
		return -ENOMEM;
	if (need > hl->cap) {
		char **nn = realloc(hl->names, need * sizeof(*nn));
		if (!nn) {
			free(tab);
			return -ENOMEM;
		}
		hl->names = nn;
		hl->cap = need;
	}
	for (size_t i = 0; i < all->n; i++) {
		char *s = all->v[i];
		size_t b = str_hash(s) & (nb - 1);
		int dup = 0;
		while (tab[b]) {
			if (strcmp(tab[b], s) == 0) {
				dup = 1;
				break;
			}
			b = (b + 1) & (nb - 1);
		}
		if (dup) {
			free(s);
			continue;
		}
		tab[b] = s;
		hl->names[hl->count++] = s;
	}
	free(tab);
	all->n = 0; /* ownership moved */
	return 0;
}

int ldms_hostlist_expand(const char *expr, struct ldms_hostlist *hl, const char **errmsg)
{
	return ldms_hostlist_expand_max(expr, hl, LDMS_HOSTLIST_MAX_TOTAL, errmsg);
}

int ldms_hostlist_expand_max(const char *expr, struct ldms_hostlist *hl, size_t max_total,
			     const char **errmsg)
{
	static const char *dummy;
	const char **err = errmsg ? errmsg : &dummy;
	struct strv all = {0};
	int level = 0, rc = 0;
	size_t start = 0, len = strlen(expr);
	*err = NULL;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? expr[i] : ',';
		if (c == ',' && level == 0) {
			if (i > start) {
				rc = expand_part(expr + start, i - start, &all,
						 max_total > all.n ? max_total - all.n : 0, err);
				if (rc)
					goto fail;
				if (all.n > max_total) {
					*err = "results too large";
					rc = -EINVAL;
					goto fail;
				}
			}
			start = i + 1;
		}
		if (c == '[')
			level++;
		else if (c == ']')
			level--;
		if (level > 1) {
			*err = "nested brackets";
			rc = -EINVAL;
			goto fail;
		} else if (level < 0) {
			*err = "unbalanced brackets";
			rc = -EINVAL;
			goto fail;
		}
	}
	if (level > 0) {
		*err = "unbalanced brackets";
		rc = -EINVAL;
		goto fail;
	}
	rc = dedup_append(&all, hl);
	if (rc)
		*err = "out of memory";
fail:
	strv_free(&all);
	return rc;
}

static int byte_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcmp(*x, *y);
	/* stability: equal strings keep their order (array addresses) */
	return c ? c : (x < y ? -1 : x > y);
}

void ldms_hostlist_sort(struct ldms_hostlist *hl)
{
	if (hl->count > 1)
		qsort(hl->names, hl->count, sizeof(char *), byte_cmp);
}

/* Compare the numeric value of two digit runs. */
static int digits_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	const char *sa, *sb;
	size_t na, nb;
	sig_digits(a, an, &sa, &na);
	sig_digits(b, bn, &sb, &nb);
	return dec_cmp(sa, na, sb, nb);
}

static size_t run_len(const char *s, int digit)
{
	size_t n = 0;
	while (s[n] && ((s[n] >= '0' && s[n] <= '9') == digit))
		n++;
	return n;
}

int ldms_hostlist_numeric_cmp(const char *a, const char *b)
{
	/* Keys alternate text, number, text, ... (an empty text run first if the string
	 * starts with a digit), so runs of the same kind always face each other. */
	int digit = 0;
	for (;;) {
		if (!*a || !*b) {
			if (*a == *b)
				return 0;
			/* A shorter key is smaller; an empty leading text run still counts. */
			return *a ? 1 : -1;
		}
		size_t la = run_len(a, digit), lb = run_len(b, digit);
		int c;
		if (digit) {
			c = digits_cmp(a, la, b, lb);
		} else {
			size_t m = la < lb ? la : lb;
			c = memcmp(a, b, m);
			if (!c && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c;
		a += la;
		b += lb;
		digit = !digit;
	}
}

struct num_item {
	char *s;
	size_t idx;
};

static int num_item_cmp(const void *x, const void *y)
{
	const struct num_item *a = x, *b = y;
	int c = ldms_hostlist_numeric_cmp(a->s, b->s);
	return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

void ldms_hostlist_sort_numeric(struct ldms_hostlist *hl)
{
	if (hl->count < 2)
		return;
	struct num_item *it = malloc(hl->count * sizeof(*it));
	if (!it)
		return;
	for (size_t i = 0; i < hl->count; i++) {
		it[i].s = hl->names[i];
		it[i].idx = i;
	}
	qsort(it, hl->count, sizeof(*it), num_item_cmp);
	for (size_t i = 0; i < hl->count; i++)
		hl->names[i] = it[i].s;
	free(it);
}

long ldms_hostlist_find_sorted(const struct ldms_hostlist *hl, const char *name)
{
	size_t lo = 0, hi = hl->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(hl->names[mid], name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
