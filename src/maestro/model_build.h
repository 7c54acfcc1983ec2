/* Internal interface of the YAML -> model builder, split in two files by section:
 * model_build.c (helpers, daemons, plugins, stores, samplers, entry points) and
 * model_build_agg.c (advertise, aggregators, producer listeners, producers, updaters). */
#ifndef MAESTRO_MODEL_BUILD_H
#define MAESTRO_MODEL_BUILD_H

#include "model.h"

struct ep_ref {
	size_t daemon, ep;
};

struct mb {
	const struct maestro_build_opts *opts;
	const char *file;
	struct ldms_err *err;
	struct maestro_model *m;
	struct cy_node *root;
	size_t cap_daemons;
	/* daemons entry `names` text per daemon (for peers without `daemons`) */
	char **entry_names;
	/* every endpoint name -> first (daemon, endpoint) */
	struct maestro_index ep_ix;
	struct ep_ref *ep_refs;
	size_t n_ep_refs;
	/* endpoint names that an entry expanded but no daemon got (more names than daemons) */
	struct maestro_index unused_ix;
	char **unused;
	size_t n_unused;
	int updtr_cnt;
};

#define NOMEM(b) cy_err_set((b)->err, -ENOMEM, (b)->file, 0, 0, "out of memory")

void mb_warn(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mb_err_at(struct mb *b, const struct cy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mb_unknown_keys(struct mb *b, const struct cy_node *map, const char *const *known,
		     const char *where);
int mb_required(struct mb *b, const struct cy_node *map, const char *const *keys,
		const char *container);
int mb_need_map(struct mb *b, const struct cy_node *n, const char *what);
int mb_opt_str(struct mb *b, const struct cy_node *map, const char *key, const char **out);
int mb_dup_opt(struct mb *b, const struct cy_node *map, const char *key, char **out);
int mb_dup_truthy(struct mb *b, const struct cy_node *map, const char *key, char **out);
int mb_expand(struct mb *b, const struct cy_node *spec, struct ldms_hostlist *out);
int mb_interval(struct mb *b, const struct cy_node *v, char **out);
int mb_opt_interval(struct mb *b, const struct cy_node *map, const char *key, char **out);
int mb_opt_perm(struct mb *b, const struct cy_node *map, char **out);
int mb_auth_of(struct mb *b, const struct cy_node *spec, struct maestro_auth *a);
void mb_auth_clear(struct maestro_auth *a);
char *mb_xstrdup(struct mb *b, const char *s);
int mb_check_plugin_ref(struct mb *b, const struct cy_node *ref);
int mb_group_name(struct mb *b, const struct cy_node *n, const char *what, const char **out);
void mb_check_members(struct mb *b, const struct cy_node *at, const struct ldms_hostlist *h,
		      const char *what);
void mb_strv_free(char **v, size_t n);
int mb_build_advertiser(struct mb *b, const struct cy_node *spec, const char *group,
			struct cy_node **translated);
int mb_build_aggregators(struct mb *b);
int mb_build_producers(struct mb *b);
int mb_build_updaters(struct mb *b);

#endif
