/* procstat sampler: /proc/stat as cores_up, the `cpu` totals, the scalar lines
 * (intr, ctxt, processes, procs_running, procs_blocked, softirq) in file order and
 * eleven per-core u64 arrays of length maxcpu (ldms-protocol.md §5.3). Single
 * instance per daemon. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler_base.h"

#define PROCSTAT_FILE "/proc/stat"
#define NCOLS	      11 /* cpu_enabled + 10 columns of a cpu line */
#define NSCALARS      6

static const char *const sum_names[NCOLS] = {
    "cpu_enabled", "user",    "nice",  "sys",	"idle",	      "iowait",
    "irq",	   "softirq", "steal", "guest", "guest_nice",
};
static const char *const core_names[NCOLS] = {
    "per_core_cpu_enabled", "per_core_user",   "per_core_nice",	      "per_core_sys",
    "per_core_idle",	    "per_core_iowait", "per_core_irq",	      "per_core_softirqd",
    "per_core_steal",	    "per_core_guest",  "per_core_guest_nice",
};
/* /proc/stat line name -> metric name */
static const char *const scalar_file[NSCALARS] = {
    "intr", "ctxt", "processes", "procs_running", "procs_blocked", "softirq",
};
static const char *const scalar_metric[NSCALARS] = {
    "hwintr_count",  "context_switches", "processes",
    "procs_running", "procs_blocked",	 "softirq_count",
};

struct procstat {
	struct sampler_base base;
	struct sampler_file file;
	int maxcpu;
	long tick;
	int mid_ncore;
	int mid_sum[NCOLS];
	int mid_core[NCOLS];
	int mid_scalar[NSCALARS]; /* -1 if the line was absent at config */
	int mid_tick;
	uint64_t sum[NCOLS];
	uint64_t *core; /* maxcpu x NCOLS */
};

static const char *procstat_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=procstat maxcpu=<ncpu> sc_clk_tck=1" SAMPLER_BASE_USAGE
	       "    maxcpu       The number of cpus to record. If fewer exist, report 0s; if "
	       "more ignore them.\n"
	       "    sc_clk_tck   Enable reporting sc_clk_tck (1) or not (any other value).\n";
}

static int procstat_init(struct ldmsd_plugin_handle *h)
{
	int rc = sampler_ctx_new(h, sizeof(struct procstat), offsetof(struct procstat, file));
	struct procstat *p = h->ctx;
	if (!rc)
		p->mid_tick = -1;
	return rc;
}

/* First token of a line into tok (NUL terminated); returns a pointer after it. */
static const char *line_token(const char *p, const char *eol, char *tok, size_t len)
{
	size_t n = 0;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	while (p < eol && *p != ' ' && *p != '\t') {
		if (n + 1 < len)
			tok[n++] = *p;
		p++;
	}
	tok[n] = '\0';
	return p;
}

/* "cpu" -> -1, "cpuN" -> N, anything else -> -2. */
static int cpu_index(const char *tok)
{
	char *end;
	long n;
	if (strncmp(tok, "cpu", 3) != 0)
		return -2;
	if (tok[3] == '\0')
		return -1;
	if (!isdigit((unsigned char)tok[3]))
		return -2;
	n = strtol(tok + 3, &end, 10);
	if (*end || n < 0 || n > 1 << 20)
		return -2;
	return (int)n;
}

static int scalar_index(const char *tok)
{
	for (int i = 0; i < NSCALARS; i++)
		if (strcmp(tok, scalar_file[i]) == 0)
			return i;
	return -1;
}

static int procstat_schema(struct procstat *p, struct ldms_err *err)
{
	struct ldms_schema *s = p->base.schema;
	char tok[64];
	int ncpu = 0, rc, i;

	p->mid_ncore = ldms_schema_metric_add(s, "cores_up", LDMS_V_U64, NULL);
	if (p->mid_ncore < 0)
		return ldms_err_set(err, p->mid_ncore, "metric 'cores_up' could not be added.");
	for (i = 0; i < NCOLS; i++) {
		p->mid_sum[i] = ldms_schema_metric_add(s, sum_names[i], LDMS_V_U64, NULL);
		if (p->mid_sum[i] < 0)
			return ldms_err_set(err, p->mid_sum[i], "metric '%s' could not be added.",
					    sum_names[i]);
	}
	for (i = 0; i < NSCALARS; i++)
		p->mid_scalar[i] = -1;
	for (char *line = p->file.buf, *eol, *next; *line; line = next) {
		next = sampler_next_line(line, &eol);
		line_token(line, eol, tok, sizeof(tok));
		int c = cpu_index(tok);
		if (c >= 0) {
			if (c + 1 > ncpu)
				ncpu = c + 1;
			continue;
		}
		i = scalar_index(tok);
		if (i < 0 || p->mid_scalar[i] >= 0)
			continue;
		rc = ldms_schema_metric_add(s, scalar_metric[i], LDMS_V_U64, NULL);
		if (rc < 0)
			return ldms_err_set(err, rc, "metric '%s' could not be added.",
					    scalar_metric[i]);
		p->mid_scalar[i] = rc;
	}
	if (p->maxcpu < 1)
		p->maxcpu = ncpu;
	if (p->maxcpu < 1)
		return ldms_err_set(err, -EINVAL, "maxcpu: no cpu lines found in %s.",
				    PROCSTAT_FILE);
	for (i = 0; i < NCOLS; i++) {
		p->mid_core[i] = ldms_schema_metric_array_add(s, core_names[i], LDMS_V_U64_ARRAY,
							      (uint32_t)p->maxcpu, NULL);
		if (p->mid_core[i] < 0)
			return ldms_err_set(err, p->mid_core[i], "metric '%s' could not be added.",
					    core_names[i]);
	}
	if (p->tick) {
		p->mid_tick = ldms_schema_meta_add(s, "sc_clk_tck", LDMS_V_U64, NULL);
		if (p->mid_tick < 0)
			return ldms_err_set(err, p->mid_tick,
					    "metric 'sc_clk_tck' could not be added.");
	}
	return 0;
}

static int procstat_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
			   struct ldms_err *err)
{
	static const char *const deprecated[] = {"set", "metrics_type", NULL};
	struct procstat *p = h->ctx;
	const char *v;
	ssize_t len;
	int rc;

	if ((rc = sampler_base_reject(a, deprecated, err)))
		return rc;
	if (p->base.set)
		return ldms_err_set(err, -EINVAL, "Set already created.");
	p->maxcpu = 0;
	p->tick = 0;
	v = sampler_attr(a, "maxcpu");
	if (v) {
		char *end;
		unsigned long long n;
		errno = 0;
		n = strtoull(v, &end, 0);
		if (errno || end == v || *end || n > 65536)
			return ldms_err_set(err, -EINVAL, "maxcpu: value bad: '%s'", v);
		p->maxcpu = (int)n;
	}
	v = sampler_attr(a, "sc_clk_tck");
	if (v && v[0] == '1')
		p->tick = sysconf(_SC_CLK_TCK);
	if ((rc = sampler_base_config(&p->base, h, a, "procstat", err)))
		goto fail;
	if ((rc = sampler_file_open(&p->file, PROCSTAT_FILE))) {
		ldms_err_set(err, rc, "Could not open the %s file: %s", PROCSTAT_FILE,
			     strerror(-rc));
		goto fail;
	}
	len = sampler_file_read(&p->file);
	if (len < 0) {
		rc = ldms_err_set(err, (int)len, "Could not read '%s'.", PROCSTAT_FILE);
		goto fail;
	}
	if (!sampler_base_schema_new(&p->base, err)) {
		rc = err ? err->rc : -ENOMEM;
		goto fail;
	}
	if ((rc = procstat_schema(p, err)))
		goto fail;
	p->core = calloc((size_t)p->maxcpu * NCOLS, sizeof(*p->core));
	if (!p->core) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = sampler_base_set_new(&p->base, err)))
		goto fail;
	if (p->mid_tick >= 0)
		ldms_metric_set_u64(p->base.set, p->mid_tick, (uint64_t)p->tick);
	return 0;
fail:
	sampler_base_del(&p->base);
	free(p->core);
	p->core = NULL;
	sampler_file_close(&p->file);
	return rc;
}

/* Parses up to NCOLS-1 numbers after the cpu name into row[1..]. */
static void parse_cpu_row(const char *q, const char *eol, uint64_t *row)
{
	for (int col = 1; col < NCOLS && q < eol; col++) {
		uint64_t v;
		if (sampler_parse_u64(&q, &v))
			break;
		row[col] = v;
	}
}

static int procstat_sample(struct ldmsd_plugin_handle *h)
{
	struct procstat *p = h->ctx;
	char tok[64];
	ssize_t len;
	uint64_t ncore = 0;
	int i, j;

	if (!p || !p->base.set)
		return -EINVAL;
	len = sampler_file_read(&p->file);
	if (len < 0)
		return (int)len;
	memset(p->sum, 0, sizeof(p->sum));
	memset(p->core, 0, (size_t)p->maxcpu * NCOLS * sizeof(*p->core));
	sampler_base_sample_begin(&p->base);
	for (char *line = p->file.buf, *eol, *next; *line; line = next) {
		next = sampler_next_line(line, &eol);
		const char *q = line_token(line, eol, tok, sizeof(tok));
		int c = cpu_index(tok);
		if (c == -1) {
			parse_cpu_row(q, eol, p->sum);
		} else if (c >= 0) {
			if (c >= p->maxcpu)
				continue;
			uint64_t *row = &p->core[(size_t)c * NCOLS];
			row[0] = 1;
			parse_cpu_row(q, eol, row);
		} else if ((i = scalar_index(tok)) >= 0 && p->mid_scalar[i] >= 0) {
			uint64_t v;
			if (sampler_parse_u64(&q, &v) == 0)
				ldms_metric_set_u64(p->base.set, p->mid_scalar[i], v);
		}
	}
	for (i = 0; i < p->maxcpu; i++) {
		uint64_t *row = &p->core[(size_t)i * NCOLS];
		ncore += row[0];
		for (j = 0; j < NCOLS; j++)
			ldms_metric_array_set_u64(p->base.set, p->mid_core[j], (uint32_t)i, row[j]);
	}
	p->sum[0] = ncore ? 1 : 0;
	for (j = 0; j < NCOLS; j++)
		ldms_metric_set_u64(p->base.set, p->mid_sum[j], p->sum[j]);
	ldms_metric_set_u64(p->base.set, p->mid_ncore, ncore);
	sampler_base_sample_end(&p->base);
	return 0;
}

static void procstat_term(struct ldmsd_plugin_handle *h)
{
	struct procstat *p = h->ctx;
	if (!p)
		return;
	sampler_base_del(&p->base);
	sampler_file_close(&p->file);
	free(p->core);
	free(p);
	h->ctx = NULL;
}

SAMPLER_PLUGIN(procstat, "procstat", 0, 0)
