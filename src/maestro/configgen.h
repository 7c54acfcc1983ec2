/* Model + producer assignment -> ldmsd v4 configuration text per daemon (maestro.md §9):
 * what `maestro_ctrl --generate_config_path` writes and `--daemon_name` prints. By default
 * with ldms-c's corrections (§13 item 4); --upstream-compat gives upstream's exact text. */
#ifndef MAESTRO_CONFIGGEN_H
#define MAESTRO_CONFIGGEN_H

#include <stddef.h>

#include "model.h"

struct configgen_opts {
	int upstream_compat;
};

struct configgen;

/* assign: NULL for the generator's own split (§9.6, numeric producer order, all aggregators);
 * else assign[g][p] = index in m->agrp[<group of m->pgrp[g]>].members of the aggregator that
 * runs producer p of producer group g (-1: nobody). The arrays are copied. */
int configgen_new(const struct maestro_model *m, const struct configgen_opts *o,
		  const long *const *assign, struct configgen **out, struct ldms_err *err);
void configgen_free(struct configgen *cg);

/* The text for daemon d (may be empty: the daemon gets no file). *out is malloc'ed. */
int configgen_daemon(struct configgen *cg, size_t d, char **out, size_t *len, struct ldms_err *err);

/* One <dir>/<daemon>.conf per daemon with a non-empty text (§9.1). The directory must exist;
 * nothing is written if it does not. Returns 0 or -errno with err set; *n_files counts the
 * files written. */
int configgen_write_dir(struct configgen *cg, const char *dir, size_t *n_files,
			struct ldms_err *err);

#endif
