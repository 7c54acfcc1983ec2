/* Small utilities every ldms-c piece uses: logging, located error records, value
 * parsers for the config language (time, size, permission, boolean) and the
 * uid/gid/perm access check shared by sets and configuration objects. */
#ifndef LDMS_UTIL_H
#define LDMS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- logging ---------------------------------------------------------------
 * Levels as in ldmsd: a message is printed when its level >= the threshold.
 * Output format: "<Www Mmm dd hh:mm:ss yyyy> <LEVEL>: <logger>: <message>\n". */
enum ldms_log_level {
	LDMS_LDEBUG = 0,
	LDMS_LINFO,
	LDMS_LWARN,
	LDMS_LERROR,
	LDMS_LCRITICAL,
	LDMS_LQUIET,
};

/* "DEBUG","INFO","WARN"/"WARNING","ERROR","CRITICAL","QUIET" (case-insensitive)
 * -> level; -1 if unknown. */
int ldms_log_level_parse(const char *s);
const char *ldms_log_level_name(int level);
void ldms_log_level_set(int level);
int ldms_log_level_get(void);
/* path NULL or "-" = stdout, "syslog" = syslog. Returns 0 or -errno. */
int ldms_log_open(const char *path);
void ldms_log_close(void);
/* Reopen the current log file (after rotation, on SIGHUP). */
int ldms_log_reopen(void);
void ldms_log(int level, const char *logger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ldms_vlog(int level, const char *logger, const char *fmt, va_list ap);

/* ---- named loggers ------------------------------------------------------------
 * A level set has bit (1 << level) per enabled level (0 = QUIET); -1 = "default",
 * i.e. a logger follows the default set (the one -v / log_level without name= sets).
 * ldms_log(level, logger, ...) prints when the logger's set (or the default) holds
 * level; loggers that were never registered follow the default. */
#define LDMS_LOG_MASK_ALL 0x1fu
/* "DEBUG" -> DEBUG and above; "INFO,ERROR" -> exactly those; "QUIET" -> 0;
 * "default" -> -1. 0 or -EINVAL. */
int ldms_log_mask_parse(const char *s, int *mask);
/* "default", "QUIET" or "INFO,WARNING,ERROR,CRITICAL" into buf; returns buf. */
const char *ldms_log_mask_str(int mask, char *buf, size_t len);
void ldms_log_mask_set(int mask); /* the default set (-1 = ERROR and above) */
int ldms_log_mask_get(void);
/* Known subsystem; idempotent (a later desc fills a missing one). 0, -ENOSPC
 * (768 loggers), -ENOMEM, -EINVAL. Loggers are never removed. */
int ldms_logger_register(const char *name, const char *desc);
/* 0 or -ENOENT (not registered); mask -1 = follow the default again. */
int ldms_logger_mask_set(const char *name, int mask);
int ldms_logger_mask_get(const char *name, int *mask);
/* Registered loggers in name order; stops at the first non-zero return. */
int ldms_logger_foreach(int (*cb)(void *arg, const char *name, const char *desc, int mask),
			void *arg);
/* Whether ldms_log(level, name, ...) would print (cheap: no formatting). */
int ldms_logger_enabled(const char *name, int level);

#define LDMS_LOG_DEBUG(lg, ...) ldms_log(LDMS_LDEBUG, lg, __VA_ARGS__)
#define LDMS_LOG_INFO(lg, ...)	ldms_log(LDMS_LINFO, lg, __VA_ARGS__)
#define LDMS_LOG_WARN(lg, ...)	ldms_log(LDMS_LWARN, lg, __VA_ARGS__)
#define LDMS_LOG_ERR(lg, ...)	ldms_log(LDMS_LERROR, lg, __VA_ARGS__)

/* ---- located errors ------------------------------------------------------------
 * Parsers fill a caller-owned record. file may be "" (e.g. a network request),
 * line/col 0 when unknown. */
struct ldms_err {
	int rc; /* negative errno */
	char file[256];
	int line;
	int col;
	char msg[512];
};
void ldms_err_clear(struct ldms_err *e);
/* Sets e->rc = rc (negative errno), formats msg; returns rc so callers can
 * `return ldms_err_set(e, -EINVAL, "...")`. e may be NULL. */
int ldms_err_set(struct ldms_err *e, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ldms_err_set_loc(struct ldms_err *e, int rc, const char *file, int line, int col,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* "file:line:col: msg" (parts omitted when unknown) into buf. */
const char *ldms_err_str(const struct ldms_err *e, char *buf, size_t len);

/* ---- value parsers (config language §1.3 of ldms-protocol.md) ----------------
 * All return 0 or -EINVAL (-ERANGE on overflow) and leave *out untouched on error. */
/* float + optional unit (us/ms/s/m/h/d, words accepted), spaces before unit ok;
 * no unit = microseconds. */
int ldms_parse_time_us(const char *s, int64_t *out_us);
/* integer + optional b/k/m/g/t suffix (binary multiples, t = 1024^4); "-1" = -1. */
int ldms_parse_size(const char *s, int64_t *out);
/* C integer, base from prefix (strtol base 0): "0770" octal, "770" decimal. */
int ldms_parse_perm_c(const char *s, uint32_t *out);
/* octal digits, also accepts "0o777"; must be non-zero and <= 0777. */
int ldms_parse_perm_octal(const char *s, uint32_t *out);
/* true/false/yes/no/1/0/on/off (case-insensitive). */
int ldms_parse_bool(const char *s, int *out);
/* uid/gid from a name or a number. */
int ldms_parse_uid(const char *s, uid_t *out);
int ldms_parse_gid(const char *s, gid_t *out);
/* "-rw-r-----" from 0640 into buf (>= 11 bytes). */
const char *ldms_perm_str(uint32_t perm, char *buf);

/* ---- access control ---------------------------------------------------------------
 * acc is a mask in the "other" position: 4 read, 2 write, 1 execute. uid 0 is
 * always allowed; else other bits, owner bits if uid matches, group bits if gid
 * matches or the uid is a member of obj_gid. Returns 0 if allowed, -EACCES. */
int ldms_access_check(uid_t uid, gid_t gid, uid_t obj_uid, gid_t obj_gid, uint32_t perm,
		      uint32_t acc);

/* ---- regular expressions -------------------------------------------------------------
 * Call before regcomp(REG_EXTENDED) on a pattern from a peer, a command or the
 * command line: 0 if it is cheap to compile and run, else -EINVAL with a message
 * (nested/large repetition bounds whose expansion would take glibc minutes and
 * gigabytes, back-references, patterns over 4 KiB). Syntax errors are left to
 * regcomp. */
int ldms_regex_check(const char *pattern, struct ldms_err *err);
/* regcomp() for patterns from users or peers: same arguments and return codes,
 * but a pattern ldms_regex_check() refuses is not compiled and gives REG_ESIZE
 * ("Regular expression too big"). */
struct re_pattern_buffer;
int ldms_regcomp(struct re_pattern_buffer *re, const char *pattern, int cflags);

/* ---- time --------------------------------------------------------------------------- */
uint64_t ldms_now_us(void);	  /* CLOCK_REALTIME in µs */
uint64_t ldms_monotonic_us(void); /* CLOCK_MONOTONIC in µs */

#endif
