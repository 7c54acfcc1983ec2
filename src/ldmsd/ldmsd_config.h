/* The ldmsd configuration language (ldms-protocol.md §1.1-§1.2): the lexer that
 * turns text into logical lines and logical lines into requests, and the runner
 * that executes files in two passes (priority verbs first, the rest after start-up,
 * *_start deferred to the very end), with `include` processed like inline text. */
#ifndef LDMSD_CONFIG_H
#define LDMSD_CONFIG_H

#include <stddef.h>

#include "ldmsd_cmd.h"

/* Longest logical line accepted (continuations included). */
#define LDMSD_CFG_LINE_MAX (1024 * 1024)
/* Deepest include nesting (also stops include loops). */
#define LDMSD_CFG_INCLUDE_MAX 16

/* ---- lexer ---------------------------------------------------------------------------- */
/* Length of line[0..len) without its comment: '#' starts a comment only at the start
 * or right after white space. */
size_t ldmsd_cfg_comment_strip(const char *line, size_t len);

/* Called for each non-empty logical line (comment-stripped, trimmed, continuations
 * joined); lineno = its first physical line. A non-zero return stops the walk. */
typedef int (*ldmsd_cfg_line_fn)(void *arg, const char *line, size_t len, int lineno);
/* Splits text into logical lines. Returns 0, the callback's non-zero value, or
 * -EINVAL (NUL byte, line too long) with err located at name:line. */
int ldmsd_cfg_lines(const char *name, const char *text, size_t len, ldmsd_cfg_line_fn fn, void *arg,
		    struct ldms_err *err);

/* Parses one logical line into a request (origin copied from o, line included).
 * Unknown verb -> -ENOSYS "unknown command 'x'"; attribute not valid for the
 * command -> -EINVAL naming it, located at its column. */
int ldmsd_cfg_parse_line(const char *line, size_t len, const struct ldmsd_origin *o,
			 struct ldmsd_req **out, struct ldms_err *err);

/* ---- runner ------------------------------------------------------------------------------ */
enum ldmsd_cfg_mode {
	/* pass 1 now (priority verbs), the rest queued for ldmsd_cfg_run_finish() */
	LDMSD_CFG_STARTUP,
	/* everything now, in order (include sent after start-up) */
	LDMSD_CFG_RUNTIME,
	/* --check: run env/include, validate everything else without executing */
	LDMSD_CFG_CHECK,
};

struct ldmsd;
struct ldmsd_cfg_run;

struct ldmsd_cfg_run *ldmsd_cfg_run_new(struct ldmsd *d, enum ldmsd_cfg_mode mode);
void ldmsd_cfg_run_free(struct ldmsd_cfg_run *run);
enum ldmsd_cfg_mode ldmsd_cfg_run_mode(const struct ldmsd_cfg_run *run);
/* Reads and processes a file / a text. On failure returns -errno with err holding
 * "file:line[:col]" and the message of the first failing command. */
int ldmsd_cfg_run_file(struct ldmsd_cfg_run *run, const char *path, struct ldms_err *err);
int ldmsd_cfg_run_text(struct ldmsd_cfg_run *run, const char *name, const char *text, size_t len,
		       struct ldms_err *err);
/* STARTUP: the normal pass, then the deferred *_start commands. CHECK: nothing to
 * do. Call once, after the daemon was started. */
int ldmsd_cfg_run_finish(struct ldmsd_cfg_run *run, struct ldms_err *err);
/* Number of commands queued for the normal pass (tests). */
size_t ldmsd_cfg_run_pending(const struct ldmsd_cfg_run *run);

#endif
