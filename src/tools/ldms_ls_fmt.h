/* Output formatting of ldms_ls, byte-identical to upstream 4.5 for the plain, -l
 * (long), -v (verbose) and -l -f json forms (shared/golden/ldms/ldms_ls_*.txt).
 * Header-only (static functions) so that the tool and its unit test share it
 * without putting tool code into libldms. Pure functions over a FILE *. */
#ifndef LDMS_LS_FMT_H
#define LDMS_LS_FMT_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ldms/ldms_set.h>
#include <ldms/ldms_util.h>
#include <ldms/ldms_xprt.h>

struct ls_totals {
	long sets;
	uint64_t meta;
	uint64_t data;
};

#define LS_SEP_LINE                                                                                \
	"-------------- ------------------------ ------ ------ ------ ------ ------ ------ "       \
	"---------- ----------------- ----------------- --------\n"
#define LS_DIGEST_SEP "---------------------------------------------------------------- "

/* ---- verbose (-v) ---------------------------------------------------------------------- */

static inline void ls_fmt_verbose_header(FILE *f, int verbose)
{
	if (verbose > 1)
		fprintf(f, "%-*s ", 64, "Schema Digest");
	fprintf(f, "%-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s\n", 14, "Schema",
		24, "Instance", 6, "Flags", 6, "Msize", 6, "Dsize", 6, "Hsize", 6, "UID", 6, "GID",
		10, "Perm", 17, "Update", 17, "Duration", 8, "Info");
	if (verbose > 1)
		fputs(LS_DIGEST_SEP, f);
	fputs(LS_SEP_LINE, f);
}

/* The end of a -v row, plain or tab: the set info pairs, the newline, and the
 * set counted into the totals (when t). */
static inline void ls_fmt_row_end(FILE *f, const struct ldms_dir_set *d, struct ls_totals *t)
{
	for (size_t j = 0; j < d->info_count; j++)
		fprintf(f, "\"%s\"=\"%s\" ", d->info[j].key, d->info[j].value);
	fputc('\n', f);
	if (t) {
		t->sets++;
		t->meta += d->meta_size;
		t->data += d->data_size;
	}
}

static inline void ls_fmt_verbose_row(FILE *f, const struct ldms_dir_set *d, int verbose,
				      struct ls_totals *t)
{
	char perm[16];
	if (verbose > 1)
		fprintf(f, "%-64s ", d->digest_str);
	ldms_perm_str(d->perm, perm);
	fprintf(f,
		"%-14s %-24s %6s %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %6d %6d %10s %10d.%06d %10d.%06d ",
		d->schema_name, d->inst_name, d->flags, d->meta_size, d->data_size, d->heap_size,
		(int)d->uid, (int)d->gid, perm, (int)d->timestamp.sec, (int)d->timestamp.usec,
		(int)d->duration.sec, (int)d->duration.usec);
	ls_fmt_row_end(f, d, t);
}

/* kB are 1000 bytes, as upstream. */
static inline void ls_fmt_verbose_footer(FILE *f, int verbose, const struct ls_totals *t)
{
	if (verbose > 1)
		fputs(LS_DIGEST_SEP, f);
	fputs(LS_SEP_LINE, f);
	fprintf(f, "Total Sets: %ld, Meta Data (kB): %.2f, Data (kB) %.2f, Memory (kB): %.2f\n",
		t->sets, (double)t->meta / 1000.0, (double)t->data / 1000.0,
		(double)(t->meta + t->data) / 1000.0);
}

/* -vv prologue. addr is the resolved IPv4 text. */
static inline void ls_fmt_host(FILE *f, const char *host, const char *addr, int port,
			       const char *xprt)
{
	fprintf(f, "Hostname    : %s\n", host);
	fprintf(f, "IP Address  : %s\n", addr);
	fprintf(f, "Port        : %hu\n", (unsigned short)port);
	fprintf(f, "Transport   : %s\n", xprt);
}

/* ---- metric values ----------------------------------------------------------------------- */

static inline void ls_fmt_elem(FILE *f, ldms_set_t s, int i, enum ldms_value_type t, uint32_t j)
{
	switch (t) {
	case LDMS_V_U8_ARRAY:
		fprintf(f, "0x%02hhx", (unsigned char)ldms_metric_array_get_as_u64(s, i, j));
		break;
	case LDMS_V_S8_ARRAY:
		fprintf(f, "%hhd", (signed char)ldms_metric_array_get_as_s64(s, i, j));
		break;
	case LDMS_V_U16_ARRAY:
		fprintf(f, "%hu", (unsigned short)ldms_metric_array_get_as_u64(s, i, j));
		break;
	case LDMS_V_S16_ARRAY:
		fprintf(f, "%hd", (short)ldms_metric_array_get_as_s64(s, i, j));
		break;
	case LDMS_V_U32_ARRAY:
		fprintf(f, "%u", (unsigned)ldms_metric_array_get_as_u64(s, i, j));
		break;
	case LDMS_V_S32_ARRAY:
		fprintf(f, "%d", (int)ldms_metric_array_get_as_s64(s, i, j));
		break;
	case LDMS_V_U64_ARRAY:
		fprintf(f, "%" PRIu64, ldms_metric_array_get_as_u64(s, i, j));
		break;
	case LDMS_V_S64_ARRAY:
		fprintf(f, "%" PRId64, ldms_metric_array_get_as_s64(s, i, j));
		break;
	case LDMS_V_F32_ARRAY:
		fprintf(f, "%f", (double)(float)ldms_metric_array_get_as_double(s, i, j));
		break;
	case LDMS_V_D64_ARRAY:
		fprintf(f, "%f", ldms_metric_array_get_as_double(s, i, j));
		break;
	default:
		break;
	}
}

/* One value as upstream prints it; json wraps numeric arrays in [ ]. */
static inline void ls_fmt_value(FILE *f, ldms_set_t s, int i, int json)
{
	enum ldms_value_type t = ldms_metric_type_get(s, i);
	uint32_t n, j;

	switch (t) {
	case LDMS_V_CHAR_ARRAY:
		fprintf(f, "\"%s\"", ldms_metric_array_get_str(s, i));
		return;
	case LDMS_V_CHAR:
		fprintf(f, "'%c'", ldms_metric_get_char(s, i));
		return;
	case LDMS_V_U8:
		fprintf(f, "%hhu", (unsigned char)ldms_metric_get_u8(s, i));
		return;
	case LDMS_V_S8:
		fprintf(f, "%hhd", (signed char)ldms_metric_get_s8(s, i));
		return;
	case LDMS_V_U16:
		fprintf(f, "%hu", (unsigned short)ldms_metric_get_u16(s, i));
		return;
	case LDMS_V_S16:
		fprintf(f, "%hd", (short)ldms_metric_get_s16(s, i));
		return;
	case LDMS_V_U32:
		fprintf(f, "%u", (unsigned)ldms_metric_get_u32(s, i));
		return;
	case LDMS_V_S32:
		fprintf(f, "%d", (int)ldms_metric_get_s32(s, i));
		return;
	case LDMS_V_U64:
		fprintf(f, "%" PRIu64, ldms_metric_get_u64(s, i));
		return;
	case LDMS_V_S64:
		fprintf(f, "%" PRId64, ldms_metric_get_s64(s, i));
		return;
	case LDMS_V_F32:
		fprintf(f, "%f", (double)ldms_metric_get_float(s, i));
		return;
	case LDMS_V_D64:
		fprintf(f, "%f", ldms_metric_get_double(s, i));
		return;
	case LDMS_V_TIMESTAMP: {
		const uint8_t *p = ldms_metric_value_ptr(s, i);
		uint32_t sec = 0, usec = 0;
		if (p) {
			sec = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			      (uint32_t)p[3] << 24;
			usec = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			       (uint32_t)p[7] << 24;
		}
		fprintf(f, "%u.%06u", sec, usec);
		return;
	}
	default:
		break;
	}
	if (!ldms_type_is_array(t)) {
		fputs("Unknown metric type", f);
		return;
	}
	n = ldms_metric_array_get_len(s, i);
	if (json)
		fputc('[', f);
	for (j = 0; j < n; j++) {
		if (j)
			fputc(',', f);
		ls_fmt_elem(f, s, i, t, j);
	}
	if (json)
		fputc(']', f);
}

/* ---- long (-l) ---------------------------------------------------------------------------- */

/* "%a %b %d %H:%M:%S %Y %z" in local time. */
static inline void ls_fmt_time(char *buf, size_t len, uint32_t sec)
{
	time_t ti = (time_t)sec;
	struct tm tm;
	localtime_r(&ti, &tm);
	strftime(buf, len, "%a %b %d %H:%M:%S %Y %z", &tm);
}

static inline void ls_fmt_title(FILE *f, ldms_set_t s, int push, int last)
{
	char dtsz[200];
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(s);
	ls_fmt_time(dtsz, sizeof(dtsz), ts.sec);
	fprintf(f, "%s: %s, last update: %s [%dus] ", ldms_set_instance_name_get(s),
		ldms_set_is_consistent(s) ? "consistent" : "inconsistent", dtsz, (int)ts.usec);
	if (push)
		fputs("PUSH ", f);
	if (last)
		fputs("LAST ", f);
	fputc('\n', f);
}

static inline void ls_fmt_metric(FILE *f, ldms_set_t s, int i, int user_data)
{
	enum ldms_value_type t = ldms_metric_type_get(s, i);
	const char *name = ldms_metric_name_get(s, i);
	const char *unit = ldms_metric_unit_get(s, i);
	const char *tname = ldms_metric_type_to_str(t);
	if (t == LDMS_V_NONE) {
		name = "SET_ERROR";
		unit = NULL;
	}
	fprintf(f, "%c %-12s %-42s ", (ldms_metric_flags_get(s, i) & LDMS_MDESC_F_DATA) ? 'D' : 'M',
		tname ? tname : "(null)", name ? name : "(null)");
	if (user_data)
		fprintf(f, "0x%" PRIx64 " ", ldms_metric_user_data_get(s, i));
	ls_fmt_value(f, s, i, 0);
	if (unit)
		fprintf(f, " %s", unit);
	fputc('\n', f);
}

/* A whole -l block: title, one line per metric, blank line. */
static inline void ls_fmt_set_long(FILE *f, ldms_set_t s, int user_data)
{
	uint32_t i, card = ldms_set_card_get(s);
	ls_fmt_title(f, s, 0, 0);
	for (i = 0; i < card; i++)
		ls_fmt_metric(f, s, (int)i, user_data);
	fputc('\n', f);
}

/* ---- -l -f json (4.5 layout) ----------------------------------------------------------------- */

/* "{\n\"set_name\" : [\n\"a\",\n\"b\"\n  ]\n" */
static inline void ls_fmt_json_names(FILE *f, const char *const *names, size_t n)
{
	size_t i;
	fputs("{\n\"set_name\" : [\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "\"%s\"%s\n", names[i], i + 1 < n ? "," : "");
	fputs("  ]\n", f);
}

static inline void ls_fmt_json_data_open(FILE *f)
{
	fputs(",\n\"set_data\" : [\n", f);
}

static inline void ls_fmt_json_set(FILE *f, ldms_set_t s, int first)
{
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(s);
	struct ldms_timestamp du = ldms_transaction_duration_get(s);
	uint32_t i, card = ldms_set_card_get(s);
	if (!first)
		fputc(',', f);
	fprintf(f, "{ \"schema_name\" : \"%s\",\n", ldms_set_schema_name_get(s));
	fprintf(f, "  \"inst_name\" : \"%s\",\n", ldms_set_instance_name_get(s));
	fprintf(f, "  \"timestamp\" : %u.%06u,\n", ts.sec, ts.usec);
	fprintf(f, "  \"duration\" : %u.%06u,\n", du.sec, du.usec);
	fprintf(f, "  \"meta_size\" : %u,\n", ldms_set_meta_sz_get(s));
	fprintf(f, "  \"data_size\" : %u,\n", ldms_set_data_sz_get(s));
	fprintf(f, "  \"heap_size\" : %u,\n", ldms_set_heap_sz_get(s));
	fprintf(f, "  \"uid\" : %d,\n", (int)ldms_set_uid_get(s));
	fprintf(f, "  \"gid\" : %d,\n", (int)ldms_set_gid_get(s));
	fprintf(f, "  \"perm\" : \"%04o\",\n", ldms_set_perm_get(s));
	fputs("  \"info\" : \"\",\n", f);
	fputs("  \"metrics\" : [\n", f);
	for (i = 0; i < card; i++) {
		const char *tname = ldms_metric_type_to_str(ldms_metric_type_get(s, (int)i));
		fprintf(f,
			"%s{\"name\" : \"%s\", \"type\" : \"%s\", \"units\" : \"%s\", \"value\" : ",
			i ? ", " : "", ldms_metric_name_get(s, (int)i), tname ? tname : "",
			ldms_metric_unit_get(s, (int)i));
		ls_fmt_value(f, s, (int)i, 1);
		fputc('}', f);
	}
	fputs("]}", f);
}

static inline void ls_fmt_json_close(FILE *f, int had_data)
{
	fputs(had_data ? "]}\n" : "}\n", f);
}

/* ---- -f tab (tab-separated, '#' header rows) ---------------------------------------------- */

static inline void ls_fmt_tab_verbose_header(FILE *f, int verbose)
{
	fputc('#', f);
	if (verbose > 1)
		fputs("schema_digest\t", f);
	fputs("schema\tinstance\tflags\tmsize\tdsize\thsize\tuid\tgid\tperm\tupdate\tduration\t"
	      "age_seconds\tage_intervals\tinfo\n",
	      f);
}

/* now: the current time (seconds) for the age columns. */
static inline void ls_fmt_tab_verbose_row(FILE *f, const struct ldms_dir_set *d, int verbose,
					  double now, struct ls_totals *t)
{
	char perm[16];
	double age = now - ((double)d->timestamp.sec + d->timestamp.usec / 1e6);
	int age_intervals = -1;
	size_t j;
	for (j = 0; j < d->info_count; j++) {
		long interval = 0;
		if (strcmp(d->info[j].key, "updt_hint_us") == 0 &&
		    sscanf(d->info[j].value, "%ld", &interval) == 1 && interval > 0)
			age_intervals = (int)(age / (interval * 1.0e-6));
	}
	if (verbose > 1)
		fprintf(f, "%s\t", d->digest_str);
	ldms_perm_str(d->perm, perm);
	fprintf(f,
		"%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		"\t%d\t%d\t%s\t%d.%06d\t%d.%06d\t%.3f\t%d\t",
		d->schema_name, d->inst_name, d->flags, d->meta_size, d->data_size, d->heap_size,
		(int)d->uid, (int)d->gid, perm, (int)d->timestamp.sec, (int)d->timestamp.usec,
		(int)d->duration.sec, (int)d->duration.usec, age, age_intervals);
	ls_fmt_row_end(f, d, t);
}

static inline void ls_fmt_tab_verbose_footer(FILE *f, const struct ls_totals *t)
{
	fputs("#total_sets\tmeta_data_kb\tdata_kb\tmemory_kb\n", f);
	fprintf(f, "%ld\t%.2f\t %.2f\t%.2f\n", t->sets, (double)t->meta / 1000.0,
		(double)t->data / 1000.0, (double)(t->meta + t->data) / 1000.0);
}

static inline void ls_fmt_tab_set_long(FILE *f, ldms_set_t s, int user_data)
{
	char dtsz[200];
	struct ldms_timestamp ts = ldms_transaction_timestamp_get(s);
	uint32_t i, card = ldms_set_card_get(s);
	ls_fmt_time(dtsz, sizeof(dtsz), ts.sec);
	fputs("#instance\tconsistent\tupdate\tupdate.usec\tpush\tlast_push\n", f);
	fprintf(f, "%s\t%d\t%s\t%d\t%d\t%d\n", ldms_set_instance_name_get(s),
		ldms_set_is_consistent(s) ? 1 : 0, dtsz, (int)ts.usec, 0, 0);
	if (!card)
		return;
	fputs(user_data ? "#type\tkind\tname\tudata\tvalue\tunit\n"
			: "#type\tkind\tname\tvalue\tunit\n",
	      f);
	for (i = 0; i < card; i++) {
		enum ldms_value_type t = ldms_metric_type_get(s, (int)i);
		const char *tname = ldms_metric_type_to_str(t);
		fprintf(f, "%c\t%s\t%s\t",
			(ldms_metric_flags_get(s, (int)i) & LDMS_MDESC_F_DATA) ? 'D' : 'M',
			tname ? tname : "(null)", ldms_metric_name_get(s, (int)i));
		if (user_data)
			fprintf(f, "0x%" PRIx64 "\t", ldms_metric_user_data_get(s, (int)i));
		ls_fmt_value(f, s, (int)i, 0);
		fprintf(f, "\t%s\n", ldms_metric_unit_get(s, (int)i));
	}
}

#endif
