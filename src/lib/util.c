/* libldms utilities: located error records, the config-language value parsers of
 * ldms-protocol.md §1.3, the uid/gid/perm access check (with supplementary groups)
 * and clock helpers. Logging lives in log.c. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_util.h"

/* ---- located errors ------------------------------------------------------------------ */

void ldms_err_clear(struct ldms_err *e)
{
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
}

int ldms_err_set(struct ldms_err *e, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return rc;
	e->rc = rc;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return rc;
}

int ldms_err_set_loc(struct ldms_err *e, int rc, const char *file, int line, int col,
		     const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return rc;
	e->rc = rc;
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return rc;
}

const char *ldms_err_str(const struct ldms_err *e, char *buf, size_t len)
{
	size_t off = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (!e)
		return buf;
#define ERR_APPEND(...)                                                                            \
	do {                                                                                       \
		if (off < len) {                                                                   \
			int n_ = snprintf(buf + off, len - off, __VA_ARGS__);                      \
			if (n_ > 0)                                                                \
				off += (size_t)n_;                                                 \
		}                                                                                  \
	} while (0)
	if (e->file[0]) {
		ERR_APPEND("%s:", e->file);
		if (e->line > 0) {
			ERR_APPEND("%d:", e->line);
			if (e->col > 0)
				ERR_APPEND("%d:", e->col);
		}
		ERR_APPEND(" ");
	} else if (e->line > 0) {
		ERR_APPEND("%d:", e->line);
		if (e->col > 0)
			ERR_APPEND("%d:", e->col);
		ERR_APPEND(" ");
	}
	ERR_APPEND("%s", e->msg[0] ? e->msg : strerror(e->rc < 0 ? -e->rc : e->rc));
#undef ERR_APPEND
	return buf;
}

/* ---- value parsers ------------------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* True if p starts with prefix, case-insensitively. */
static int has_prefix(const char *p, const char *prefix)
{
	return strncasecmp(p, prefix, strlen(prefix)) == 0;
}

int ldms_parse_time_us(const char *s, int64_t *out_us)
{
	char *end;
	double v, mult;
	const char *u, *p;

	if (!s)
		return -EINVAL;
	s = skip_ws(s);
	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return errno == ERANGE ? -ERANGE : -EINVAL;
	/* strtod also takes hex floats and "inf"; plain decimal only. */
	for (p = s; p < end; p++)
		if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' ||
		      *p == 'e' || *p == 'E'))
			return -EINVAL;
	u = skip_ws(end);
	if (!*u) {
		mult = 1.0;
	} else {
		/* Longer, more specific prefixes first: "ms"/"milli" before "m" (minutes). */
		if (has_prefix(u, "us") || has_prefix(u, "micro") || (u[0] == 'u' || u[0] == 'U'))
			mult = 1.0;
		else if (has_prefix(u, "ms") || has_prefix(u, "milli"))
			mult = 1e3;
		else if (u[0] == 's' || u[0] == 'S')
			mult = 1e6;
		else if (u[0] == 'm' || u[0] == 'M')
			mult = 60e6;
		else if (u[0] == 'h' || u[0] == 'H')
			mult = 3600e6;
		else if (u[0] == 'd' || u[0] == 'D')
			mult = 86400e6;
		else
			return -EINVAL;
		/* Unit words ("sec", "minutes") are fine; a second number ("50s40us") is not. */
		p = u;
		while (*p && isalpha((unsigned char)*p))
			p++;
		p = skip_ws(p);
		if (*p)
			return -EINVAL;
	}
	v *= mult;
	v = round(v);
	if (v >= 9.2233720368547758e18 || v < -9.2233720368547758e18)
		return -ERANGE;
	*out_us = (int64_t)v;
	return 0;
}

int ldms_parse_size(const char *s, int64_t *out)
{
	const char *p;
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!s)
		return -EINVAL;
	p = skip_ws(s);
	if (p[0] == '-') {
		/* Only the "unlimited" marker may be negative. */
		if (p[1] == '1' && !*skip_ws(p + 2)) {
			*out = -1;
			return 0;
		}
		return -EINVAL;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	p = skip_ws(end);
	if (*p) {
		switch (tolower((unsigned char)*p)) {
		case 'b':
			mult = 1;
			break;
		case 'k':
			mult = 1ULL << 10;
			break;
		case 'm':
			mult = 1ULL << 20;
			break;
		case 'g':
			mult = 1ULL << 30;
			break;
		case 't':
			mult = 1ULL << 40;
			break;
		default:
			return -EINVAL;
		}
		/* Extra letters are ignored ("20mb", "1GiB"), nothing else. */
		while (*p && isalpha((unsigned char)*p))
			p++;
		if (*skip_ws(p))
			return -EINVAL;
	}
	if (v > (uint64_t)INT64_MAX / mult)
		return -ERANGE;
	*out = (int64_t)(v * mult);
	return 0;
}

int ldms_parse_perm_c(const char *s, uint32_t *out)
{
	char *end;
	long v;
	const char *p;

	if (!s)
		return -EINVAL;
	p = skip_ws(s);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtol(p, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == p || *skip_ws(end))
		return -EINVAL;
	if (v < 0 || v > 07777)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int ldms_parse_perm_octal(const char *s, uint32_t *out)
{
	const char *p;
	uint32_t v = 0;
	int ndig = 0;

	if (!s)
		return -EINVAL;
	p = skip_ws(s);
	if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		p += 2;
	for (; *p >= '0' && *p <= '7'; p++) {
		v = v * 8 + (uint32_t)(*p - '0');
		if (v > 0777)
			return -ERANGE;
		ndig++;
	}
	if (!ndig || *skip_ws(p))
		return -EINVAL;
	if (v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int ldms_parse_bool(const char *s, int *out)
{
	static const char *const t[] = {"true", "yes", "1", "on"};
	static const char *const f[] = {"false", "no", "0", "off"};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, t[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, f[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal id without sign or junk; 1 if s is numeric (result in *v). */
static int parse_id_num(const char *s, unsigned long *v, int *rc)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return 0;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (*end)
		return 0;
	*rc = (errno == ERANGE || *v > UINT32_MAX - 1) ? -ERANGE : 0;
	return 1;
}

int ldms_parse_uid(const char *s, uid_t *out)
{
	unsigned long v;
	int rc = 0;
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!s || !*s)
		return -EINVAL;
	if (parse_id_num(s, &v, &rc)) {
		if (!rc)
			*out = (uid_t)v;
		return rc;
	}
	if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) || !res)
		return -EINVAL;
	*out = res->pw_uid;
	return 0;
}

int ldms_parse_gid(const char *s, gid_t *out)
{
	unsigned long v;
	int rc = 0;
	struct group gr, *res = NULL;
	char buf[16384];

	if (!s || !*s)
		return -EINVAL;
	if (parse_id_num(s, &v, &rc)) {
		if (!rc)
			*out = (gid_t)v;
		return rc;
	}
	if (getgrnam_r(s, &gr, buf, sizeof(buf), &res) || !res)
		return -EINVAL;
	*out = res->gr_gid;
	return 0;
}

const char *ldms_perm_str(uint32_t perm, char *buf)
{
	static const char rwx[] = "rwx";

	buf[0] = '-';
	for (int i = 0; i < 9; i++)
		buf[1 + i] = (perm & (0400u >> i)) ? rwx[i % 3] : '-';
	buf[10] = '\0';
	return buf;
}

/* ---- access control --------------------------------------------------------------------
 * Group membership needs the user's name and a getgrouplist() walk of the group
 * database, which can be slow (NSS/LDAP); a dir reply checks every set, so the
 * result per uid is cached for a short while. */

#define GRP_CACHE_SLOTS	 32
#define GRP_CACHE_TTL_US (60ULL * 1000000ULL)

struct grp_cache_ent {
	uid_t uid;
	int valid;
	uint64_t ts;
	int ngroups;
	gid_t *groups;
};

static struct {
	pthread_mutex_t lock;
	struct grp_cache_ent ent[GRP_CACHE_SLOTS];
	unsigned next;
} grp_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Fills a cache entry with uid's groups (empty list if the uid is unknown). */
static void grp_cache_fill(struct grp_cache_ent *e, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int n = 32;
	gid_t *g = NULL;

	free(e->groups);
	e->groups = NULL;
	e->ngroups = 0;
	e->uid = uid;
	e->valid = 1;
	e->ts = ldms_monotonic_us();
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		return;
	for (int tries = 0; tries < 8; tries++) {
		gid_t *ng = realloc(g, sizeof(gid_t) * (size_t)n);
		int cnt = n;
		if (!ng)
			break;
		g = ng;
		if (getgrouplist(res->pw_name, res->pw_gid, g, &cnt) >= 0) {
			e->groups = g;
			e->ngroups = cnt;
			return;
		}
		n = cnt > n ? cnt : n * 2;
	}
	free(g);
}

static int uid_in_group(uid_t uid, gid_t gid)
{
	struct grp_cache_ent *e = NULL;
	uint64_t now = ldms_monotonic_us();
	int found = 0;

	pthread_mutex_lock(&grp_cache.lock);
	for (int i = 0; i < GRP_CACHE_SLOTS; i++) {
		struct grp_cache_ent *c = &grp_cache.ent[i];
		if (c->valid && c->uid == uid && now - c->ts < GRP_CACHE_TTL_US) {
			e = c;
			break;
		}
	}
	if (!e) {
		e = &grp_cache.ent[grp_cache.next++ % GRP_CACHE_SLOTS];
		grp_cache_fill(e, uid);
	}
	for (int i = 0; i < e->ngroups; i++)
		if (e->groups[i] == gid) {
			found = 1;
			break;
		}
	pthread_mutex_unlock(&grp_cache.lock);
	return found;
}

int ldms_access_check(uid_t uid, gid_t gid, uid_t obj_uid, gid_t obj_gid, uint32_t perm,
		      uint32_t acc)
{
	acc &= 07;
	if (uid == 0)
		return 0;
	if ((perm & acc) == acc)
		return 0;
	if (uid == obj_uid && ((perm >> 6) & acc) == acc)
		return 0;
	if (((perm >> 3) & acc) == acc) {
		if (gid == obj_gid || uid_in_group(uid, obj_gid))
			return 0;
	}
	return -EACCES;
}

/* ---- time ---------------------------------------------------------------------------- */

uint64_t ldms_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t ldms_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}
