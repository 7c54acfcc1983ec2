/* The monitor loop's decisions (maestro.md §10.2-§10.7): holds the running model and the
 * current assignment, turns health changes and new configuration generations into
 * rebalance passes (balance with the previous assignment as input, push only the
 * difference, stops everywhere before starts anywhere), and reports its state. */
#ifndef MAESTRO_MONITOR_ENGINE_H
#define MAESTRO_MONITOR_ENGINE_H

#include <stdint.h>

#include "monitor.h"

struct maestro_model;
struct engine;

struct engine_opts {
	int by_sets;	    /* --rebalance sets */
	int retry_ms;	    /* pause before retrying failed commands / missing directories */
	int dir_timeout_ms; /* directory reads in sets mode */
	/* called after every pass that changed something, with the status JSON */
	void (*on_status)(const char *json, void *arg);
	void *status_arg;
	/* several instances: whether this one manages a unit ("a:<aggregator group>",
	 * "s:<sampler group>", coord.h); NULL = everything */
	int (*owns)(const char *unit, void *arg);
	void *owns_arg;
	const char *instance; /* this instance's id, for the status */
};

/* The unit a daemon belongs to (its first aggregator group, else its first sampler
 * group) into buf; 0, or -ENOENT for a daemon in no group. */
int engine_daemon_unit(const struct maestro_model *m, size_t d, char *buf, size_t len);
/* The units of a model (aggregator groups, then sampler groups), malloc'ed strings. */
int engine_units(const struct maestro_model *m, char ***units, size_t *n);
/* Ownership changed (several instances): manage exactly the owned daemons. */
int engine_refresh_ownership(struct engine *e);

int engine_new(struct monitor *mon, const struct engine_opts *o, struct engine **out);
void engine_free(struct engine *e);

/* Installs a model (the engine takes it over) as configuration `label` (a generation
 * number, a file name). The current assignment carries over by group and names. */
int engine_set_model(struct engine *e, struct maestro_model *m, const char *label);

/* One loop iteration: health tick, then a pass when something asks for one. Returns
 * how long the caller may sleep (ms) before calling again. */
int engine_step(struct engine *e);

/* Forces a pass with this reason (e.g. SIGHUP without a change). */
void engine_poke(struct engine *e, const char *reason);

/* Status as JSON (malloc'ed): daemons and their health, each aggregator group's
 * assignment, the last rebalance and its reason. */
char *engine_status_json(struct engine *e);

/* Counters for tests and the benchmark. */
struct engine_stats {
	uint64_t passes;
	uint64_t moves_total;
	uint64_t last_moves;
	uint64_t commands;
	uint64_t failures;
};
void engine_get_stats(struct engine *e, struct engine_stats *st);

#endif
