/* procnetdev sampler: /proc/net/dev counters for the interfaces listed in
 * `ifaces=` (order kept, at most 20; absent interfaces report 0), as sixteen u64
 * metrics "<counter>#<iface>" per interface like upstream. Single instance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler_base.h"

#define NETDEV_FILE "/proc/net/dev"
#define NVARS	    16
#define MAXIFACE    20
#define IFNAME_MAX  20

static const char *const var_name[NVARS] = {
    "rx_bytes",	     "rx_packets",   "rx_errs",	   "rx_drop",	    "rx_fifo", "rx_frame",
    "rx_compressed", "rx_multicast", "tx_bytes",   "tx_packets",    "tx_errs", "tx_drop",
    "tx_fifo",	     "tx_colls",     "tx_carrier", "tx_compressed",
};

struct procnetdev {
	struct sampler_base base;
	struct sampler_file file;
	int niface;
	char iface[MAXIFACE][IFNAME_MAX];
	int mid[MAXIFACE]; /* index of the first metric of each iface */
};

static const char *procnetdev_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=procnetdev ifaces=<ifs>" SAMPLER_BASE_USAGE
	       "    <ifs>           A comma-separated list of interface names (e.g. eth0,eth1)\n"
	       "                    Order matters. All ifaces will be included\n"
	       "                    whether they exist of not up to a total of 20\n";
}

static int procnetdev_init(struct ldmsd_plugin_handle *h)
{
	return sampler_ctx_new(h, sizeof(struct procnetdev), offsetof(struct procnetdev, file));
}

static int parse_ifaces(struct procnetdev *p, const char *s, struct ldms_err *err)
{
	const char *q = s;
	p->niface = 0;
	while (*q) {
		const char *e = strchr(q, ',');
		size_t n = e ? (size_t)(e - q) : strlen(q);
		if (n) {
			if (p->niface >= MAXIFACE)
				return ldms_err_set(err, -EINVAL,
						    "ifaces: too many interfaces (at most %d).",
						    MAXIFACE);
			if (n >= IFNAME_MAX)
				return ldms_err_set(err, -EINVAL,
						    "ifaces: interface name '%.*s' is too long.",
						    (int)n, q);
			memcpy(p->iface[p->niface], q, n);
			p->iface[p->niface][n] = '\0';
			p->niface++;
		}
		q += n;
		if (*q == ',')
			q++;
	}
	if (p->niface == 0)
		return ldms_err_set(err, -EINVAL, "ifaces: no interface given.");
	return 0;
}

static int procnetdev_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
			     struct ldms_err *err)
{
	static const char *const deprecated[] = {"set", NULL};
	struct procnetdev *p = h->ctx;
	const char *v;
	char mname[64];
	int rc, i, j;

	if ((rc = sampler_base_reject(a, deprecated, err)))
		return rc;
	if (p->base.set)
		return ldms_err_set(err, -EINVAL, "Set already created.");
	v = sampler_attr(a, "ifaces");
	if (!v)
		return ldms_err_set(err, -EINVAL,
				    "ifaces: config missing argument ifaces=namelist");
	if ((rc = parse_ifaces(p, v, err)))
		return rc;
	if ((rc = sampler_base_config(&p->base, h, a, "procnetdev", err)))
		goto fail;
	if ((rc = sampler_file_open(&p->file, NETDEV_FILE))) {
		ldms_err_set(err, rc, "Could not open %s: %s", NETDEV_FILE, strerror(-rc));
		goto fail;
	}
	if (!sampler_base_schema_new(&p->base, err)) {
		rc = err ? err->rc : -ENOMEM;
		goto fail;
	}
	for (i = 0; i < p->niface; i++) {
		for (j = 0; j < NVARS; j++) {
			snprintf(mname, sizeof(mname), "%s#%s", var_name[j], p->iface[i]);
			rc = ldms_schema_metric_add(p->base.schema, mname, LDMS_V_U64, NULL);
			if (rc < 0) {
				ldms_err_set(err, rc, "metric '%s' could not be added.", mname);
				goto fail;
			}
			if (j == 0)
				p->mid[i] = rc;
		}
	}
	rc = 0;
fail:
	return sampler_config_end(&p->base, &p->file, rc, err);
}

static int procnetdev_sample(struct ldmsd_plugin_handle *h)
{
	struct procnetdev *p = h->ctx;
	ssize_t len;
	char *line, *next;
	int lineno = 0;

	if (!p || !p->base.set)
		return -EINVAL;
	len = sampler_file_read(&p->file);
	if (len < 0)
		return (int)len;
	sampler_base_sample_begin(&p->base);
	for (line = p->file.buf; *line; line = next) {
		char *eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		next = *eol ? eol + 1 : eol;
		if (lineno++ < 2) /* two header lines */
			continue;
		char *colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			continue;
		char *n = line;
		while (n < colon && (*n == ' ' || *n == '\t'))
			n++;
		size_t nlen = (size_t)(colon - n);
		int i;
		for (i = 0; i < p->niface; i++)
			if (strlen(p->iface[i]) == nlen && memcmp(p->iface[i], n, nlen) == 0)
				break;
		if (i == p->niface)
			continue;
		uint64_t v[NVARS];
		const char *q = colon + 1;
		int j;
		for (j = 0; j < NVARS; j++)
			if (sampler_parse_u64(&q, &v[j]))
				break;
		if (j < NVARS)
			continue; /* malformed line: keep the previous values */
		for (j = 0; j < NVARS; j++)
			ldms_metric_set_u64(p->base.set, p->mid[i] + j, v[j]);
	}
	sampler_base_sample_end(&p->base);
	return 0;
}

static void procnetdev_term(struct ldmsd_plugin_handle *h)
{
	struct procnetdev *p = h->ctx;
	if (p)
		sampler_ctx_del(h, &p->base, &p->file);
}

SAMPLER_PLUGIN(procnetdev, "procnetdev", 0, 0)
