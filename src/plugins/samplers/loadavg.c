/* loadavg sampler: /proc/loadavg as load1min, load5min, load15min (d64, or u64 of
 * 100*value with `force_integer`), runnable, scheduling_entities and newest_pid
 * (u64); `metrics=` selects a subset, which also changes the default schema name
 * (loadavg[i]XXXXXX) as upstream. Single instance per daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler_base.h"

#define LOADAVG_FILE "/proc/loadavg"
#define NMET	     6

static const char *const met_name[NMET] = {
    "load1min", "load5min", "load15min", "runnable", "scheduling_entities", "newest_pid",
};

struct loadavg {
	struct sampler_base base;
	struct sampler_file file;
	int force_integer;
	int collect[NMET];
	int mid[NMET];
	char schema_name[32];
};

static const char *loadavg_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=loadavg" SAMPLER_BASE_USAGE
	       "        [metrics=<mlist>] [force_integer]\n"
	       "    force_integer If present, coerces load averages into (uint64_t)100*value\n"
	       "                 and changes the default schema name base from loadavg to "
	       "loadavgi\n"
	       "    <mlist>      comma separated list of metrics to include. If not given, all "
	       "are included.\n"
	       "                 complete list is load1min,load5min,load15min,runnable,"
	       "scheduling_entities,newest_pid\n";
}

static int loadavg_init(struct ldmsd_plugin_handle *h)
{
	return sampler_ctx_new(h, sizeof(struct loadavg), offsetof(struct loadavg, file));
}

static int parse_metrics(struct loadavg *l, const char *s, struct ldms_err *err)
{
	char *copy, *tok, *save = NULL;
	int i;
	for (i = 0; i < NMET; i++)
		l->collect[i] = s ? 0 : 1;
	if (!s)
		return 0;
	copy = strdup(s);
	if (!copy)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NMET; i++)
			if (strcmp(tok, met_name[i]) == 0)
				break;
		if (i == NMET) {
			ldms_err_set(err, -EINVAL, "metrics: unknown metric '%s' in '%s'.", tok, s);
			free(copy);
			return -EINVAL;
		}
		l->collect[i] = 1;
	}
	free(copy);
	for (i = 0; i < NMET && !l->collect[i]; i++)
		;
	if (i == NMET)
		return ldms_err_set(err, -EINVAL, "metrics: no metric selected in '%s'.", s);
	return 0;
}

static void make_schema_name(struct loadavg *l)
{
	int i, k = 0;
	for (i = 0; i < NMET; i++)
		k += l->collect[i];
	if (k == NMET) {
		snprintf(l->schema_name, sizeof(l->schema_name), "%s",
			 l->force_integer ? "loadavgi" : "loadavg");
		return;
	}
	snprintf(l->schema_name, sizeof(l->schema_name), "loadavg%s%d%d%d%d%d%d",
		 l->force_integer ? "i" : "", l->collect[0], l->collect[1], l->collect[2],
		 l->collect[3], l->collect[4], l->collect[5]);
}

static int loadavg_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
			  struct ldms_err *err)
{
	static const char *const deprecated[] = {"set", NULL};
	struct loadavg *l = h->ctx;
	int rc, i;

	if (l->base.set)
		return ldms_err_set(err, -EINVAL, "Set already created.");
	if ((rc = sampler_base_reject(a, deprecated, err)))
		return rc;
	l->force_integer = sampler_attr(a, "force_integer") != NULL;
	if ((rc = parse_metrics(l, sampler_attr(a, "metrics"), err)))
		return rc;
	make_schema_name(l);
	if ((rc = sampler_base_config(&l->base, h, a, l->schema_name, err)))
		goto fail;
	if ((rc = sampler_file_open(&l->file, LOADAVG_FILE))) {
		ldms_err_set(err, rc, "Could not open %s: %s", LOADAVG_FILE, strerror(-rc));
		goto fail;
	}
	if (!sampler_base_schema_new(&l->base, err)) {
		rc = err ? err->rc : -ENOMEM;
		goto fail;
	}
	for (i = 0; i < NMET; i++) {
		l->mid[i] = -1;
		if (!l->collect[i])
			continue;
		enum ldms_value_type t = (i < 3 && !l->force_integer) ? LDMS_V_D64 : LDMS_V_U64;
		rc = ldms_schema_metric_add(l->base.schema, met_name[i], t, NULL);
		if (rc < 0) {
			ldms_err_set(err, rc, "metric '%s' could not be added.", met_name[i]);
			goto fail;
		}
		l->mid[i] = rc;
	}
	rc = 0;
fail:
	return sampler_config_end(&l->base, &l->file, rc, err);
}

static int loadavg_sample(struct ldmsd_plugin_handle *h)
{
	struct loadavg *l = h->ctx;
	double load[3];
	unsigned long long u[3];
	ssize_t len;
	int i, rc = 0;

	if (!l || !l->base.set)
		return -EINVAL;
	len = sampler_file_read(&l->file);
	if (len < 0)
		return (int)len;
	if (sscanf(l->file.buf, "%lg %lg %lg %llu/%llu %llu", &load[0], &load[1], &load[2], &u[0],
		   &u[1], &u[2]) != NMET) {
		ldms_log(LDMS_LERROR, h->log_name, "failed to parse %s", LOADAVG_FILE);
		return -EINVAL;
	}
	sampler_base_sample_begin(&l->base);
	for (i = 0; i < NMET; i++) {
		if (l->mid[i] < 0)
			continue;
		if (i < 3) {
			if (l->force_integer)
				ldms_metric_set_u64(l->base.set, l->mid[i],
						    (uint64_t)(100 * load[i]));
			else
				ldms_metric_set_double(l->base.set, l->mid[i], load[i]);
		} else {
			ldms_metric_set_u64(l->base.set, l->mid[i], u[i - 3]);
		}
	}
	sampler_base_sample_end(&l->base);
	return rc;
}

static void loadavg_term(struct ldmsd_plugin_handle *h)
{
	struct loadavg *l = h->ctx;
	if (l)
		sampler_ctx_del(h, &l->base, &l->file);
}

SAMPLER_PLUGIN(loadavg, "loadavg", 0, 0)
