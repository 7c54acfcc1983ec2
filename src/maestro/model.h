/* The maestro cluster model (maestro.md §4, §5): daemons with their endpoints, aggregator
 * groups, producers, updaters, storage policies, sampler groups, plugin instances,
 * advertisers and producer listeners, built from the cluster YAML (model_build.c) or from
 * etcd (etcd_kv.c). Values are kept as text, time values already converted to µs text. */
#ifndef MAESTRO_MODEL_H
#define MAESTRO_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ldms/ldms_hostlist.h"
#include "cluster_yaml.h"

/* A name -> index hash table (open addressing, names owned by the caller). */
struct maestro_index {
	size_t nb;
	const char **names;
	size_t *idx;
	size_t count;
};
int maestro_index_put(struct maestro_index *ix, const char *name, size_t idx);
/* -1 when absent. */
long maestro_index_get(const struct maestro_index *ix, const char *name);
void maestro_index_free(struct maestro_index *ix);

struct maestro_auth {
	char *name, *plugin, *conf; /* NULL = absent */
};

struct maestro_endpoint {
	char *name, *port, *xprt;
	int maestro_comm;
	struct maestro_auth auth;
	char *bind_all; /* raw text, only when given and non-empty */
	char *host;	/* per-endpoint host override */
};

struct maestro_daemon {
	char *name, *addr;
	struct cy_node *environment;	  /* mapping, or NULL */
	struct cy_node *cli_opt;	  /* mapping of option keys, or NULL */
	char *stream_enable, *msg_enable; /* raw text when given ("" is false) */
	size_t n_ep;
	struct maestro_endpoint *ep;
	int line, col; /* where the daemons entry is */
	/* Filled by maestro_model_index(): groups this daemon belongs to (model order). */
	size_t n_sgrp, n_agrp, n_stgrp;
	size_t *sgrp, *agrp, *stgrp;
};

struct maestro_plugin {
	char *inst, *name;
	struct cy_node *spec;	/* the whole raw spec (perm converted), for etcd */
	struct cy_node *config; /* list of mappings / strings */
	char *interval_us;	/* converted, or NULL when absent */
	char *offset_us;	/* converted, or NULL */
};

struct maestro_advertiser {
	char *group;
	struct cy_node *names, *hosts, *xprt, *port, *reconnect; /* raw */
	struct maestro_auth auth;
	char *perm;				/* converted */
	struct cy_node *rail, *quota, *rx_rate; /* raw, NULL = absent */
	struct ldms_hostlist hosts_x;		/* expand_names(hosts) */
	struct ldms_hostlist names_x;		/* expand_names(names) */
	struct ldms_hostlist ad_list;		/* expand_names(group) */
};

struct maestro_listener {
	char *name;
	char *reconnect_us;
	char *disable_start, *ip, *rail, *quota, *rx_rate, *regex, *type, *advertiser_xprt,
	    *advertiser_port, *advertiser_auth;
};

struct maestro_listener_group {
	char *group;
	size_t n;
	struct maestro_listener *l;
};

struct maestro_agg_member {
	char *name;
	struct cy_node *subscribe; /* raw list, or NULL */
	struct cy_node *plugins;   /* raw list of instance names, or NULL */
};

struct maestro_agg_group {
	char *group;
	size_t n;
	struct maestro_agg_member *m;
	struct ldms_hostlist members; /* expand_names(group), byte order */
};

struct maestro_producer {
	char *name; /* = endpoint name; the key */
	char *daemon, *dmn_grp, *endpoint, *type, *group;
	char *reconnect_us;
	char *perm;				 /* converted */
	char *rail, *quota, *rx_rate, *cache_ip; /* raw */
	struct cy_node *updaters;		 /* raw list, or NULL */
	long daemon_idx, ep_idx;		 /* resolved endpoint (-1 when unknown) */
};

struct maestro_producer_group {
	char *group;
	size_t n, cap;
	struct maestro_producer *p;
	struct maestro_index ix;
};

struct maestro_updater {
	char *name, *group;
	char *interval_us;
	char *offset_us;      /* NULL when absent */
	char *mode;	      /* raw, "pull" when absent */
	char *perm;	      /* converted */
	struct cy_node *sets; /* raw list of {regex, field}, or NULL */
	size_t n_prod;
	char **producers; /* regexes; ".*" by default */
};

struct maestro_updater_group {
	char *group;
	size_t n;
	struct maestro_updater *u;
};

struct maestro_store {
	char *name, *plugin, *container, *schema, *regex, *decomposition;
	char *flush;	      /* raw text */
	char *flush_us;	      /* converted */
	char *perm;	      /* converted */
	struct cy_node *spec; /* raw spec with name added and perm converted, for etcd */
};

struct maestro_store_group {
	char *group;
	size_t n;
	struct maestro_store *s;
	struct ldms_hostlist members;
};

struct maestro_sampler_group {
	char *group;
	struct cy_node *spec; /* raw spec (daemons, plugins, advertise, others) */
	size_t n_plugins;
	char **plugins;
	struct ldms_hostlist members;
};

struct maestro_model {
	size_t n_daemons;
	struct maestro_daemon *daemons;
	struct maestro_index daemon_ix;

	size_t n_plugins;
	struct maestro_plugin *plugins;
	struct maestro_index plugin_ix;
	int has_plugins; /* section present (etcd prints "not present" otherwise) */

	size_t n_adv;
	struct maestro_advertiser *adv;
	size_t n_lgrp;
	struct maestro_listener_group *lgrp;
	size_t n_agrp;
	struct maestro_agg_group *agrp;
	size_t n_pgrp;
	struct maestro_producer_group *pgrp;
	size_t n_ugrp;
	struct maestro_updater_group *ugrp;
	size_t n_stgrp;
	struct maestro_store_group *stgrp;
	int has_stores;
	size_t n_sgrp;
	struct maestro_sampler_group *sgrp;
	int has_samplers;
};

/* Options for building from YAML. */
struct maestro_build_opts {
	int upstream_compat; /* reproduce the (compat) upstream model bugs (maestro.md §4.7) */
	/* Called for each warning (unknown key ...): already formatted "FILE:LINE:COL: ...". */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
	/* Bounds (0: the defaults, LDMS_HOSTLIST_MAX_TOTAL names per hostlist, no daemon
	 * limit); the fuzz target keeps them small. */
	size_t max_names, max_daemons;
};

/* YAML document -> model (maestro.md §4; §12 older forms translated). Errors are located
 * (err->file/line/col) and keep upstream's wording of the condition. */
int maestro_model_build(struct cy_doc *doc, const struct maestro_build_opts *opts,
			struct maestro_model **out, struct ldms_err *err);
/* Convenience: load + legacy normalisation + build. */
int maestro_model_load_file(const char *path, const struct maestro_build_opts *opts,
			    struct maestro_model **out, struct ldms_err *err);
void maestro_model_free(struct maestro_model *m);
struct maestro_model *maestro_model_new(void);
/* Builds the lookup tables (names -> daemons/plugins, daemon -> groups, producer endpoints);
 * maestro_model_build() calls it, the etcd reader too. */
int maestro_model_index(struct maestro_model *m, struct ldms_err *err);

long maestro_model_daemon(const struct maestro_model *m, const char *name);
long maestro_model_plugin(const struct maestro_model *m, const char *inst);
struct maestro_producer_group *maestro_model_producers(const struct maestro_model *m,
						       const char *group);
struct maestro_updater_group *maestro_model_updaters(const struct maestro_model *m,
						     const char *group);
struct maestro_listener_group *maestro_model_listeners(const struct maestro_model *m,
						       const char *group);
struct maestro_advertiser *maestro_model_advertiser(const struct maestro_model *m,
						    const char *group);

/* ---- value conventions (maestro.md §3) ---------------------------------------------------- */

/* check_intrvl_str: "1.5s" -> "1500000", "$VAR"/"${VAR}" unchanged. On error returns
 * -EINVAL and writes upstream's condition text into msg. *out is malloc'ed. */
int maestro_interval_us(const char *s, char **out, char *msg, size_t msglen);
/* perm_handler: "rw-r-----" -> "0640", "640" -> "0640"; ldms-c also accepts "0o640". */
int maestro_perm(const char *s, char **out, char *msg, size_t msglen);
/* expand_names(): a scalar or a list of scalars, expanded and byte-sorted. */
int maestro_expand_names(const struct cy_node *spec, struct ldms_hostlist *out,
			 const char **errmsg);
/* The same with a bound on the names of each hostlist expression (0: the default). */
int maestro_expand_names_max(const struct cy_node *spec, struct ldms_hostlist *out,
			     size_t max_names, const char **errmsg);

#endif
