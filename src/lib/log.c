/* libldms logging: leveled records to stdout, a file or syslog, with named loggers
 * (subsystems such as "xprt", "producer", "sampler.meminfo.mi") that may each have
 * their own set of enabled levels; those without one follow the default set. The
 * check before formatting is a couple of relaxed atomic loads, lock-free. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "ldms/ldms_util.h"

static const char *const log_level_names[] = {"DEBUG", "INFO",	   "WARNING",
					      "ERROR", "CRITICAL", "QUIET"};

static struct {
	pthread_mutex_t lock;
	FILE *fp;	/* NULL: stdout */
	int use_syslog; /* output goes to syslog(3) */
	char *path;	/* file path, for reopen */
} log_state = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, NULL};

/* levels at or above ERROR */
#define MASK_FROM(l) (LDMS_LOG_MASK_ALL & ~((1u << (l)) - 1u))

/* ---- loggers -------------------------------------------------------------------------
 * An append-only open-addressing table: readers probe without a lock (slots are
 * published with release stores and never change afterwards), writers serialise
 * on reg_lock. */
#define LOGGER_SLOTS 1024
#define LOGGER_MAX   768 /* keeps probe sequences short */

struct logger {
	char *name;
	char *desc;
	atomic_int mask; /* -1: follow the default */
};

static struct {
	pthread_mutex_t reg_lock;
	_Atomic(struct logger *) slot[LOGGER_SLOTS];
	int n;
	atomic_uint dflt;     /* the default level set */
	atomic_uint any;      /* union of the default and every logger's set */
	atomic_int overrides; /* loggers with their own set */
} lg = {.reg_lock = PTHREAD_MUTEX_INITIALIZER,
	.dflt = MASK_FROM(LDMS_LERROR),
	.any = MASK_FROM(LDMS_LERROR)};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct logger *logger_find(const char *name)
{
	uint32_t i = name_hash(name) % LOGGER_SLOTS;
	for (int n = 0; n < LOGGER_SLOTS; n++, i = (i + 1) % LOGGER_SLOTS) {
		struct logger *l = atomic_load_explicit(&lg.slot[i], memory_order_acquire);
		if (!l)
			return NULL;
		if (!strcmp(l->name, name))
			return l;
	}
	return NULL;
}

/* Caller holds reg_lock. */
static void any_recompute_locked(void)
{
	unsigned any = atomic_load(&lg.dflt);
	int ovr = 0;
	for (int i = 0; i < LOGGER_SLOTS; i++) {
		struct logger *l = atomic_load(&lg.slot[i]);
		int m = l ? atomic_load(&l->mask) : -1;
		if (m >= 0) {
			any |= (unsigned)m;
			ovr++;
		}
	}
	atomic_store(&lg.any, any);
	atomic_store(&lg.overrides, ovr);
}

int ldms_logger_register(const char *name, const char *desc)
{
	int rc = 0;
	if (!name || !*name)
		return -EINVAL;
	pthread_mutex_lock(&lg.reg_lock);
	struct logger *l = logger_find(name);
	if (l) {
		if (desc && !l->desc)
			l->desc = strdup(desc);
		goto out;
	}
	if (lg.n >= LOGGER_MAX) {
		rc = -ENOSPC;
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->name = strdup(name)) || (desc && !(l->desc = strdup(desc)))) {
		if (l)
			free(l->name);
		free(l);
		rc = -ENOMEM;
		goto out;
	}
	atomic_init(&l->mask, -1);
	uint32_t i = name_hash(name) % LOGGER_SLOTS;
	while (atomic_load(&lg.slot[i]))
		i = (i + 1) % LOGGER_SLOTS;
	atomic_store_explicit(&lg.slot[i], l, memory_order_release);
	lg.n++;
out:
	pthread_mutex_unlock(&lg.reg_lock);
	return rc;
}

int ldms_logger_mask_set(const char *name, int mask)
{
	if (!name || mask < -1 || mask > (int)LDMS_LOG_MASK_ALL)
		return -EINVAL;
	pthread_mutex_lock(&lg.reg_lock);
	struct logger *l = logger_find(name);
	if (l) {
		atomic_store(&l->mask, mask);
		any_recompute_locked();
	}
	pthread_mutex_unlock(&lg.reg_lock);
	return l ? 0 : -ENOENT;
}

int ldms_logger_mask_get(const char *name, int *mask)
{
	struct logger *l = name ? logger_find(name) : NULL;
	if (!l)
		return -ENOENT;
	*mask = atomic_load(&l->mask);
	return 0;
}

static int logger_cmp(const void *a, const void *b)
{
	return strcmp((*(struct logger *const *)a)->name, (*(struct logger *const *)b)->name);
}

int ldms_logger_foreach(int (*cb)(void *arg, const char *name, const char *desc, int mask),
			void *arg)
{
	struct logger *v[LOGGER_MAX];
	int n = 0, rc = 0;
	pthread_mutex_lock(&lg.reg_lock);
	for (int i = 0; i < LOGGER_SLOTS && n < LOGGER_MAX; i++) {
		struct logger *l = atomic_load(&lg.slot[i]);
		if (l)
			v[n++] = l;
	}
	pthread_mutex_unlock(&lg.reg_lock);
	/* loggers are never freed: safe to use without the lock */
	qsort(v, (size_t)n, sizeof(v[0]), logger_cmp);
	for (int i = 0; i < n && !rc; i++)
		rc = cb(arg, v[i]->name, v[i]->desc ? v[i]->desc : "", atomic_load(&v[i]->mask));
	return rc;
}

int ldms_logger_enabled(const char *name, int level)
{
	if (level < LDMS_LDEBUG || level >= LDMS_LQUIET)
		return 0;
	unsigned bit = 1u << level;
	if (!(atomic_load_explicit(&lg.any, memory_order_relaxed) & bit))
		return 0;
	unsigned eff = atomic_load_explicit(&lg.dflt, memory_order_relaxed);
	if (name && *name && atomic_load_explicit(&lg.overrides, memory_order_relaxed)) {
		struct logger *l = logger_find(name);
		int m = l ? atomic_load_explicit(&l->mask, memory_order_relaxed) : -1;
		if (m >= 0)
			eff = (unsigned)m;
	}
	return (eff & bit) != 0;
}

/* The subsystems libldms' own code logs under. */
__attribute__((constructor)) static void log_lib_loggers(void)
{
	static const char *const v[][2] = {
	    {"auth", "Messages for the authentication plugins"},
	    {"ldms.msg", "LDMS Message Service Library"},
	    {"qgroup", "Messages for the quota groups"},
	    {"xprt", "Messages for the LDMS transport"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		(void)ldms_logger_register(v[i][0], v[i][1]);
}

/* ---- levels ---------------------------------------------------------------------------- */
int ldms_log_level_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "WARN"))
		return LDMS_LWARN;
	for (int i = 0; i <= LDMS_LQUIET; i++)
		if (!strcasecmp(s, log_level_names[i]))
			return i;
	return -1;
}

const char *ldms_log_level_name(int level)
{
	if (level < 0 || level > LDMS_LQUIET)
		return "UNKNOWN";
	return log_level_names[level];
}

int ldms_log_mask_parse(const char *s, int *mask)
{
	char tok[32];
	int n = 0, m = 0;
	if (!s || !*s)
		return -EINVAL;
	if (!strcasecmp(s, "default")) {
		*mask = -1;
		return 0;
	}
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		if (!len || len >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, p, len);
		tok[len] = '\0';
		int l = ldms_log_level_parse(tok);
		if (l < 0)
			return -EINVAL;
		if (l < LDMS_LQUIET)
			m |= 1 << l;
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	/* a single name: that level and above; a list: exactly those levels */
	if (n == 1 && m)
		m = (int)MASK_FROM(__builtin_ctz((unsigned)m));
	*mask = m;
	return 0;
}

const char *ldms_log_mask_str(int mask, char *buf, size_t len)
{
	size_t off = 0;
	if (!len)
		return buf;
	buf[0] = '\0';
	if (mask < 0) {
		snprintf(buf, len, "default");
		return buf;
	}
	if (!(mask & (int)LDMS_LOG_MASK_ALL)) {
		snprintf(buf, len, "QUIET");
		return buf;
	}
	for (int l = LDMS_LDEBUG; l < LDMS_LQUIET; l++) {
		if (!(mask & (1 << l)))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", log_level_names[l]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

void ldms_log_mask_set(int mask)
{
	if (mask < 0)
		mask = (int)MASK_FROM(LDMS_LERROR);
	pthread_mutex_lock(&lg.reg_lock);
	atomic_store(&lg.dflt, (unsigned)mask & LDMS_LOG_MASK_ALL);
	any_recompute_locked();
	pthread_mutex_unlock(&lg.reg_lock);
}

int ldms_log_mask_get(void)
{
	return (int)atomic_load(&lg.dflt);
}

void ldms_log_level_set(int level)
{
	if (level < LDMS_LDEBUG)
		level = LDMS_LDEBUG;
	if (level > LDMS_LQUIET)
		level = LDMS_LQUIET;
	ldms_log_mask_set(level == LDMS_LQUIET ? 0 : (int)MASK_FROM(level));
}

int ldms_log_level_get(void)
{
	unsigned m = atomic_load(&lg.dflt);
	return m ? __builtin_ctz(m) : LDMS_LQUIET;
}

/* ---- output ------------------------------------------------------------------------------ */
/* Caller holds log_state.lock. */
static void log_close_locked(void)
{
	if (log_state.fp)
		fclose(log_state.fp);
	log_state.fp = NULL;
	if (log_state.use_syslog)
		closelog();
	log_state.use_syslog = 0;
	free(log_state.path);
	log_state.path = NULL;
}

int ldms_log_open(const char *path)
{
	int rc = 0;

	pthread_mutex_lock(&log_state.lock);
	log_close_locked();
	if (!path || !strcmp(path, "-")) {
		/* stdout */
	} else if (!strcmp(path, "syslog")) {
		openlog("ldmsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_state.use_syslog = 1;
	} else {
		FILE *fp = fopen(path, "a");
		if (!fp) {
			rc = -errno;
		} else {
			setvbuf(fp, NULL, _IOLBF, 0);
			log_state.fp = fp;
			log_state.path = strdup(path);
			if (!log_state.path) {
				fclose(fp);
				log_state.fp = NULL;
				rc = -ENOMEM;
			}
		}
	}
	pthread_mutex_unlock(&log_state.lock);
	return rc;
}

void ldms_log_close(void)
{
	pthread_mutex_lock(&log_state.lock);
	log_close_locked();
	pthread_mutex_unlock(&log_state.lock);
}

int ldms_log_reopen(void)
{
	int rc = 0;

	pthread_mutex_lock(&log_state.lock);
	if (log_state.path) {
		FILE *fp = fopen(log_state.path, "a");
		if (!fp) {
			rc = -errno; /* keep writing to the old file */
		} else {
			setvbuf(fp, NULL, _IOLBF, 0);
			fclose(log_state.fp);
			log_state.fp = fp;
		}
	}
	pthread_mutex_unlock(&log_state.lock);
	return rc;
}

static int syslog_prio(int level)
{
	switch (level) {
	case LDMS_LDEBUG:
		return LOG_DEBUG;
	case LDMS_LINFO:
		return LOG_INFO;
	case LDMS_LWARN:
		return LOG_WARNING;
	case LDMS_LERROR:
		return LOG_ERR;
	default:
		return LOG_CRIT;
	}
}

void ldms_vlog(int level, const char *logger, const char *fmt, va_list ap)
{
	char msg[4096];
	char tbuf[64];
	time_t now;
	struct tm tm;
	size_t n;

	if (!ldms_logger_enabled(logger, level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One record per line: callers may or may not end the message with \n. */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';

	pthread_mutex_lock(&log_state.lock);
	if (log_state.use_syslog) {
		if (logger && *logger)
			syslog(syslog_prio(level), "%s: %s", logger, msg);
		else
			syslog(syslog_prio(level), "%s", msg);
	} else {
		FILE *fp = log_state.fp ? log_state.fp : stdout;
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(tbuf, sizeof(tbuf), "%a %b %d %H:%M:%S %Y", &tm);
		if (logger && *logger)
			fprintf(fp, "%s: %8s: %s: %s\n", tbuf, log_level_names[level], logger, msg);
		else
			fprintf(fp, "%s: %8s: %s\n", tbuf, log_level_names[level], msg);
		fflush(fp);
	}
	pthread_mutex_unlock(&log_state.lock);
}

void ldms_log(int level, const char *logger, const char *fmt, ...)
{
	va_list ap;

	if (!ldms_logger_enabled(logger, level))
		return;
	va_start(ap, fmt);
	ldms_vlog(level, logger, fmt, ap);
	va_end(ap);
}
