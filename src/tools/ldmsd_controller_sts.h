/* ldmsd_controller's text report of store_time_stats, laid out as upstream 4.5's
 * (golden ctl_l1.txt): per set schema, per storage policy and schema, the store
 * histograms and the breakdown of a store operation into its stages. Header-only
 * (src/tools/ builds one program per .c) so the unit tests can render it too. */
#ifndef LDMSD_CONTROLLER_STS_H
#define LDMSD_CONTROLLER_STS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define STS_WIDE 137

/* Aggregate of the "stats" of several sets. */
struct sts_agg {
	const char *name;
	double min, max, wsum, min_ts, max_ts;
	long long sets, count;
};

static double sts_num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void sts_add(struct sts_agg *a, json_t *stats)
{
	double cnt = sts_num(stats, "count");
	if (cnt <= 0)
		return;
	if (!a->count || sts_num(stats, "min") < a->min) {
		a->min = sts_num(stats, "min");
		a->min_ts = sts_num(stats, "min_ts");
	}
	if (!a->count || sts_num(stats, "max") > a->max) {
		a->max = sts_num(stats, "max");
		a->max_ts = sts_num(stats, "max_ts");
	}
	a->wsum += sts_num(stats, "avg") * cnt;
	a->count += (long long)cnt;
	a->sets++;
}

static double sts_avg(const struct sts_agg *a)
{
	return a->count ? a->wsum / (double)a->count : 0;
}

static void sts_rep(FILE *f, int c, int n)
{
	while (n-- > 0)
		fputc(c, f);
}

static void sts_center(FILE *f, const char *s)
{
	int pad = STS_WIDE - (int)strlen(s);
	sts_rep(f, ' ', pad / 2);
	fputs(s, f);
	sts_rep(f, ' ', pad - pad / 2);
	fputc('\n', f);
}

/* "<>-+": smallest min, largest max, smallest and largest average of the rows */
static void sts_marks(const struct sts_agg *rows, size_t n, size_t i, char m[5])
{
	int lo = 1, hi = 1, alo = 1, ahi = 1;
	for (size_t k = 0; k < n; k++) {
		lo &= rows[k].min >= rows[i].min;
		hi &= rows[k].max <= rows[i].max;
		alo &= sts_avg(&rows[k]) >= sts_avg(&rows[i]);
		ahi &= sts_avg(&rows[k]) <= sts_avg(&rows[i]);
	}
	snprintf(m, 5, "%c%c%c%c", lo ? '<' : ' ', hi ? '>' : ' ', alo ? '-' : ' ',
		 ahi ? '+' : ' ');
}

/* rows[] grouped by name (the schema of each set of obj["sets"]) */
static size_t sts_by_schema(json_t *sets, struct sts_agg *rows, size_t cap, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach(sets, k, v)
	{
		const char *sch = json_string_value(json_object_get(v, "schema"));
		size_t i;
		if (!sch)
			continue;
		for (i = 0; i < n && strcmp(rows[i].name, sch); i++)
			;
		if (i == n) {
			if (n == cap)
				continue;
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n++].name = sch;
		}
		sts_add(&rows[i], json_object_get(v, "stats"));
	}
	return n;
}

static void sts_hist(FILE *f, const char *name, json_t *h)
{
	fprintf(f, "   Store Time Histogram for '%s':\n", name);
	if (!json_object_get(h, "bins")) {
		double n = sts_num(h, "n_warmup"), c = sts_num(h, "warmup_count");
		double pct = n > 0 ? c * 100.0 / n : 0;
		fprintf(f, "  Histogram: calibrating (%.0f/%.0f samples, %5.1f%%)\n  [", c, n, pct);
		sts_rep(f, '#', (int)(pct * 40 / 100));
		sts_rep(f, '-', 40 - (int)(pct * 40 / 100));
		fputs("]\n", f);
		return;
	}
	json_t *bins = json_object_get(h, "bins"), *bd = json_object_get(h, "boundaries");
	size_t nb = json_array_size(bins);
	double mx = 0;
	for (size_t i = 0; i < nb; i++)
		if (json_number_value(json_array_get(bins, i)) > mx)
			mx = json_number_value(json_array_get(bins, i));
	for (size_t i = 0; i < nb; i++) {
		char range[96];
		double c = json_number_value(json_array_get(bins, i));
		snprintf(range, sizeof(range), "[%.2f, %.2f)",
			 json_number_value(json_array_get(bd, i)),
			 json_number_value(json_array_get(bd, i + 1)));
		fprintf(f, "  %28s  %10.0f  ", range, c);
		sts_rep(f, '#', mx > 0 ? (int)(c * 40 / mx) : 0);
		fputc('\n', f);
	}
}

struct sts_stage {
	const char *label, *key;
	double avg;
	int pos; /* ties keep this order */
};

static int sts_stage_cmp(const void *a, const void *b)
{
	const struct sts_stage *x = a, *y = b;
	if (x->avg != y->avg)
		return x->avg < y->avg ? 1 : -1;
	return x->pos - y->pos;
}

/* 0, or -EINVAL when json is not a store_time_stats object */
static int ctl_store_time_stats_print(FILE *f, const char *json)
{
	enum { MAXROWS = 256 };
	struct sts_agg *rows = calloc(MAXROWS, sizeof(*rows)), all = {0};
	json_t *j = json_loads(json ? json : "", 0, NULL), *so, *sv;
	struct sts_stage st[] = {
	    {"store/commit", "commit", 0, 0},  {"in_worker_queue", "queue", 0, 1},
	    {"misc", "io_thread", 0, 2},       {"wait_for_worker", "wait", 0, 3},
	    {"decomposition", "decomp", 0, 4},
	};
	double first = 0, last = 0;
	const char *sn, *k;
	size_t n = 0;
	char m[5];

	if (!rows || !json_is_object(j)) {
		free(rows);
		json_decref(j);
		return -EINVAL;
	}
	sts_rep(f, '=', STS_WIDE);
	fputs("\n   <   Minimum Value          -   Minimum Average value\n"
	      "   >   Maximum Value          +   Maximum Average value\n",
	      f);
	sts_rep(f, '=', STS_WIDE);
	fputs("\n\n", f);
	sts_center(f, "Statistics per Set Schema");
	fputs("                  Schema                 Min (us)        Avg (us)        Max (us)"
	      "     Min Timestamp  Max Timestamp    Sets     Count   \n"
	      "------------------------------------- --------------- --------------- "
	      "--------------- -------------- -------------- -------- ----------\n",
	      f);
	json_object_foreach(j, sn, so) n =
	    sts_by_schema(json_object_get(so, "sets"), rows, MAXROWS, n);
	for (size_t i = 0; i < n; i++) {
		sts_marks(rows, n, i, m);
		fprintf(f, "%-4s %-32s %15.4f %15.4f %15.4f %14lld %14lld %8lld %10lld\n", m,
			rows[i].name, rows[i].min, sts_avg(&rows[i]), rows[i].max,
			(long long)rows[i].min_ts, (long long)rows[i].max_ts, rows[i].sets,
			rows[i].count);
	}
	fputc('\n', f);
	sts_center(f, "Statistics per Storage Policies and Set Schema");
	sts_rep(f, '=', STS_WIDE);
	fputs("\n        Storage Policy       Min (us)        Avg (us)        Max (us)        Min "
	      "Timestamp        Max Timestamp     # of Sets    Count   \n"
	      "------------------------- --------------- --------------- --------------- "
	      "-------------------- -------------------- ---------- ----------\n",
	      f);
	/* one row per policy, then its schemas */
	size_t np = json_object_size(j), ip = 0;
	struct sts_agg *pol = calloc(np ? np : 1, sizeof(*pol));
	json_object_foreach(j, sn, so)
	{
		if (!pol)
			break;
		pol[ip].name = sn;
		json_object_foreach(json_object_get(so, "sets"), k, sv)
		{
			json_t *stats = json_object_get(sv, "stats");
			sts_add(&pol[ip], stats);
			sts_add(&all, stats);
			if (sts_num(stats, "count") > 0) {
				if (!first || sts_num(stats, "start_ts") < first)
					first = sts_num(stats, "start_ts");
				if (sts_num(stats, "end_ts") > last)
					last = sts_num(stats, "end_ts");
			}
			for (size_t s = 0; s < sizeof(st) / sizeof(st[0]); s++) {
				json_t *g =
				    json_object_get(json_object_get(sv, "stage_stats"), st[s].key);
				st[s].avg += sts_num(g, "avg") * sts_num(g, "count");
			}
		}
		ip++;
	}
	for (ip = 0; pol && ip < np; ip++) {
		sts_marks(pol, np, ip, m);
		fprintf(f, " %-4s  %-18s %15.4f %15.4f %15.4f %20lld %20lld %10lld %10lld\n", m,
			pol[ip].name, pol[ip].min, sts_avg(&pol[ip]), pol[ip].max,
			(long long)pol[ip].min_ts, (long long)pol[ip].max_ts, pol[ip].sets,
			pol[ip].count);
		fputs("     -------------------- --------------- --------------- --------------- "
		      "-------------------- -------------------- ---------- ----------\n",
		      f);
		size_t ns = sts_by_schema(json_object_get(json_object_get(j, pol[ip].name), "sets"),
					  rows, MAXROWS, 0);
		for (size_t i = 0; i < ns; i++) {
			sts_marks(rows, ns, i, m);
			fprintf(f,
				"    %-4s%17s %15.4f %15.4f %15.4f %20lld %20lld %10lld %10lld\n",
				m, rows[i].name, rows[i].min, sts_avg(&rows[i]), rows[i].max,
				(long long)rows[i].min_ts, (long long)rows[i].max_ts, rows[i].sets,
				rows[i].count);
		}
		fputs("     ==================== =============== =============== =============== "
		      "==================== ==================== ========== ==========\n",
		      f);
	}
	fputs("\n\n", f);
	json_object_foreach(j, sn, so)
	{
		sts_hist(f, sn, json_object_get(so, "hist_store_time"));
		fputs("\n\n", f);
	}
	sts_rep(f, '=', STS_WIDE);
	double dur = sts_avg(&all);
	fprintf(f, "\nScope: all storage policies\n\n");
	fprintf(f, "Number of store operations per second: %20.2f\n",
		last > first ? (double)all.count / (last - first) : 0.0);
	fprintf(f, "The averaged duration of each store operation (us):%8.2f\n\n", dur);
	fputs("Breakdown of Storage Operation (Percentage and Average)\n", f);
	for (size_t s = 0; s < sizeof(st) / sizeof(st[0]); s++)
		st[s].avg = all.count ? st[s].avg / (double)all.count : 0;
	qsort(st, sizeof(st) / sizeof(st[0]), sizeof(st[0]), sts_stage_cmp);
	for (size_t s = 0; s < sizeof(st) / sizeof(st[0]); s++)
		fprintf(f, "   %-16s:%8.2f%%%17.2f us\n", st[s].label,
			dur > 0 ? st[s].avg * 100.0 / dur : 0.0, st[s].avg);
	fputs("\n", f);
	free(pol);
	free(rows);
	json_decref(j);
	return 0;
}

#endif
