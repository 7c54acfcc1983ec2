/* ldmsd_controller presentation: the human-readable tables upstream's controller
 * prints for status replies (shared/golden/ldms/ctl_*.txt), a JSON writer that
 * reproduces python's json.dumps spacing and float repr (ctl_*.json.txt, --json),
 * and python cmd's column layout for `help`. Kept in libldms so tests can reach it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ldms/ldms_ctrl.h"

/* ---- python-compatible scalars ------------------------------------------------ */

/* repr(float): shortest digits that round-trip; fixed notation for 1e-4 <= |x| <
 * 1e16, else d.ddde+XX. */
static void py_float(double d, char *buf, size_t len)
{
	char tmp[40], digits[24];
	int exp10 = 0, nd = 0;

	if (isnan(d)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		snprintf(buf, len, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp = [-]d[.ddd]e[+-]XX */
	const char *s = tmp;
	int neg = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[nd++] = *s;
	exp10 = atoi(s + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;

	char out[64];
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	if (exp10 >= -4 && exp10 < 16) {
		if (exp10 >= 0) {
			for (int i = 0; i <= exp10; i++)
				out[o++] = i < nd ? digits[i] : '0';
			out[o++] = '.';
			if (nd > exp10 + 1)
				for (int i = exp10 + 1; i < nd; i++)
					out[o++] = digits[i];
			else
				out[o++] = '0';
		} else {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -exp10 - 1; i++)
				out[o++] = '0';
			for (int i = 0; i < nd; i++)
				out[o++] = digits[i];
		}
		out[o] = 0;
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (int i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, sizeof(out) - o, "e%c%02d", exp10 < 0 ? '-' : '+',
			 exp10 < 0 ? -exp10 : exp10);
	}
	snprintf(buf, len, "%s", out);
}

/* str(value) of a JSON scalar as python prints it */
static const char *py_str(json_t *v, char *buf, size_t len)
{
	if (!v || json_is_null(v))
		return "None";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		py_float(json_real_value(v), buf, len);
		return buf;
	}
	if (json_is_true(v))
		return "True";
	if (json_is_false(v))
		return "False";
	return "";
}

static double num(json_t *v)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v))
		return strtod(json_string_value(v), NULL);
	return 0;
}

static json_t *get(json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static const char *gets(json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = get(o, k);
	return v ? py_str(v, buf, len) : "";
}

/* ---- python json.dumps ----------------------------------------------------------- */

static void py_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c == '\b') {
			fputs("\\b", f);
		} else if (c == '\f') {
			fputs("\\f", f);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc((int)c, f);
		} else {
			/* ensure_ascii: decode UTF-8, emit \uXXXX (surrogate pairs) */
			unsigned cp = 0, n = 0;
			if ((c & 0xe0) == 0xc0)
				cp = c & 0x1f, n = 1;
			else if ((c & 0xf0) == 0xe0)
				cp = c & 0x0f, n = 2;
			else if ((c & 0xf8) == 0xf0)
				cp = c & 0x07, n = 3;
			else
				cp = 0xfffd;
			for (unsigned i = 0; i < n && (p[1] & 0xc0) == 0x80; i++)
				cp = (cp << 6) | (*++p & 0x3f);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				fprintf(f, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
					0xdc00 + (cp & 0x3ff));
			} else {
				fprintf(f, "\\u%04x", cp);
			}
		}
	}
	fputc('"', f);
}

static void py_json(FILE *f, json_t *v, int indent, int level)
{
	char buf[64];
	size_t i, n;
	const char *k;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0) {
			fputs("{}", f);
			return;
		}
		fputc('{', f);
		i = 0;
		json_object_foreach(v, k, e)
		{
			if (i++)
				fputs(indent >= 0 ? "," : ", ", f);
			if (indent >= 0)
				fprintf(f, "\n%*s", indent * (level + 1), "");
			py_json_str(f, k);
			fputs(": ", f);
			py_json(f, e, indent, level + 1);
		}
		if (indent >= 0)
			fprintf(f, "\n%*s", indent * level, "");
		fputc('}', f);
		return;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n == 0) {
			fputs("[]", f);
			return;
		}
		fputc('[', f);
		for (i = 0; i < n; i++) {
			if (i)
				fputs(indent >= 0 ? "," : ", ", f);
			if (indent >= 0)
				fprintf(f, "\n%*s", indent * (level + 1), "");
			py_json(f, json_array_get(v, i), indent, level + 1);
		}
		if (indent >= 0)
			fprintf(f, "\n%*s", indent * level, "");
		fputc(']', f);
		return;
	case JSON_STRING:
		py_json_str(f, json_string_value(v));
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_NULL:
		fputs("null", f);
		return;
	default:
		fputs(py_str(v, buf, sizeof(buf)), f);
		return;
	}
}

int ldms_ctrl_json_print(FILE *out, int rc, const char *msg, int indent)
{
	json_t *j = NULL;
	if (msg && *msg)
		j = json_loads(msg, JSON_DECODE_ANY, NULL);
	if (rc == INT32_MIN) { /* the message alone */
		if (j)
			py_json(out, j, indent, 0);
		else
			py_json_str(out, msg ? msg : "");
	} else {
		fprintf(out, "{\"rc\": %d, \"msg\": ", rc);
		if (j)
			py_json(out, j, indent, 1);
		else if (msg)
			py_json_str(out, msg);
		else
			fputs("null", out);
		fputc('}', out);
	}
	json_decref(j);
	return 0;
}

/* ---- help: python cmd.Cmd.columnize ------------------------------------------------ */

void ldms_ctrl_fmt_columnize(FILE *out, const char *const *w, size_t n, int width)
{
	size_t nrows, ncols, *cw = NULL;
	if (n == 0) {
		fputs("<empty>\n", out);
		return;
	}
	cw = calloc(n, sizeof(*cw));
	for (nrows = 1; nrows < n; nrows++) {
		ncols = (n + nrows - 1) / nrows;
		long tot = -2; /* python starts at -2: no gap after the last column */
		int fits = 1;
		for (size_t c = 0; c < ncols; c++) {
			size_t m = 0;
			for (size_t r = 0; r < nrows && c * nrows + r < n; r++) {
				size_t l = strlen(w[c * nrows + r]);
				if (l > m)
					m = l;
			}
			cw[c] = m;
			tot += (long)m + 2;
			if (tot > width) {
				fits = 0;
				break;
			}
		}
		if (fits && tot <= width)
			break;
	}
	if (nrows >= n) {
		nrows = n;
		ncols = 1;
		cw[0] = 0;
		for (size_t i = 0; i < n; i++)
			if (strlen(w[i]) > cw[0])
				cw[0] = strlen(w[i]);
	} else {
		ncols = (n + nrows - 1) / nrows;
	}
	for (size_t r = 0; r < nrows; r++) {
		size_t last = 0;
		for (size_t c = 0; c < ncols; c++)
			if (c * nrows + r < n)
				last = c;
		for (size_t c = 0; c <= last; c++) {
			if (c)
				fputs("  ", out);
			fprintf(out, "%-*s", (int)cw[c], w[c * nrows + r]);
		}
		fputc('\n', out);
	}
	free(cw);
}

/* ---- status tables ------------------------------------------------------------------ */

static void dashes(FILE *f, const int *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', f);
		for (int k = 0; k < w[i]; k++)
			fputc('-', f);
	}
	fputc('\n', f);
}

static void rep(FILE *f, char c, int n)
{
	for (int i = 0; i < n; i++)
		fputc(c, f);
}

/* "%m-%d-%y %H:%M:%S [usec]" in local time */
static void ts_str(char *buf, size_t len, long long sec, long long usec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char d[32];
	localtime_r(&t, &tm);
	strftime(d, sizeof(d), "%m-%d-%y %H:%M:%S", &tm);
	snprintf(buf, len, "%s [%lld]", d, usec);
}

static void fmt_version(FILE *f, json_t *j)
{
	const char *k;
	json_t *v;
	char b[64];
	json_object_foreach(j, k, v)
	{
		fprintf(f, "%s: %s\n", k, py_str(v, b, sizeof(b)));
	}
}

static void fmt_daemon_status(FILE *f, json_t *j)
{
	char b[64];
	fprintf(f, "Deamon State: %s\n\n", gets(j, "state", b, sizeof(b)));
	json_t *ts = get(j, "thread_stats");
	if (ts) {
		py_json(f, ts, 1, 0);
		fputc('\n', f);
	}
}

static void fmt_prdcr_status(FILE *f, json_t *j)
{
	static const int w[] = {16, 16, 12, 12, 16, 4, 8, 8, 12, 20};
	char b[10][64];
	size_t i, k;
	json_t *p, *s;
	fprintf(f, "%-16s %-16s %-12s %-12s %-16s %-4s %-8s %-8s %-12s %-20s\n", "Name", "Host",
		"Port", "Transport", "auth", "Rail", "quota", "rx_rate", "State", "Type");
	dashes(f, w, 10);
	json_array_foreach(j, i, p)
	{
		fprintf(f, "%-16s %-16s %12s %-12s %-16s %4s %8s %8s %-12s %-10s\n",
			gets(p, "name", b[0], 64), gets(p, "host", b[1], 64),
			gets(p, "port", b[2], 64), gets(p, "transport", b[3], 64),
			gets(p, "auth", b[4], 64), gets(p, "rail", b[5], 64),
			gets(p, "quota", b[6], 64), gets(p, "rx_rate", b[7], 64),
			gets(p, "state", b[8], 64), gets(p, "type", b[9], 64));
		json_array_foreach(get(p, "sets"), k, s)
		{
			fprintf(f, "    %-16s %-16s %s\n", gets(s, "inst_name", b[0], 64),
				gets(s, "schema_name", b[1], 64), gets(s, "state", b[2], 64));
		}
	}
}

static void fmt_prdcr_set_status(FILE *f, json_t *j)
{
	static const int w[] = {30, 16, 10, 16, 16, 25, 12};
	char b[8][64], ts[64];
	size_t i;
	json_t *s;
	fprintf(f, "%-30s %-16s %-10s %-16s %-16s %-25s %s\n", "Name", "Schema Name", "State",
		"Origin", "Producer", "Timestamp", "Duration(sec)");
	dashes(f, w, 7);
	json_array_foreach(j, i, s)
	{
		ts_str(ts, sizeof(ts), (long long)num(get(s, "timestamp.sec")),
		       (long long)num(get(s, "timestamp.usec")));
		double dur = num(get(s, "duration.sec")) + num(get(s, "duration.usec")) / 1e6;
		fprintf(f, "%-30s %-16s %-10s %-16s %-16s %-25s %-12f\n",
			gets(s, "inst_name", b[0], 64), gets(s, "schema_name", b[1], 64),
			gets(s, "state", b[2], 64), gets(s, "origin", b[3], 64),
			gets(s, "producer", b[4], 64), ts, dur);
	}
}

static void fmt_updtr_status(FILE *f, json_t *j)
{
	static const int w[] = {16, 16, 6, 15, 15};
	char b[8][64], io[96], fi[40], fo[40];
	size_t i, k;
	json_t *u, *p;
	fprintf(f, "%-16s %-16s %-6s %-15s %s\n", "Name", "Interval:Offset", "Auto", "Mode",
		"State");
	dashes(f, w, 5);
	json_array_foreach(j, i, u)
	{
		py_float(num(get(u, "interval")) / 1000000.0, fi, sizeof(fi));
		py_float(num(get(u, "offset")) / 1000.0, fo, sizeof(fo));
		snprintf(io, sizeof(io), "%ss:%sms", fi, fo);
		fprintf(f, "%-16s %-16s %-6s %-15s %-10s\n", gets(u, "name", b[0], 64), io,
			gets(u, "auto", b[1], 64), gets(u, "mode", b[2], 64),
			gets(u, "state", b[3], 64));
		json_array_foreach(get(u, "producers"), k, p)
		{
			fprintf(f, "    %-16s %-16s %12s %-12s %-12s\n", gets(p, "name", b[0], 64),
				gets(p, "host", b[1], 64), gets(p, "port", b[2], 64),
				gets(p, "transport", b[3], 64), gets(p, "state", b[4], 64));
		}
	}
}

static void fmt_updtr_match_list(FILE *f, json_t *j)
{
	static const int w[] = {21, 16, 15};
	char b[4][64];
	size_t i, k;
	json_t *u, *m;
	fprintf(f, "%-21s %-16s %-15s\n", "Updater Name", "Regex", "Selector");
	dashes(f, w, 3);
	json_array_foreach(j, i, u)
	{
		fprintf(f, "%-21s\n", gets(u, "name", b[0], 64));
		json_array_foreach(get(u, "match"), k, m)
		{
			fprintf(f, "%-21s %-16s %-15s\n", "", gets(m, "regex", b[1], 64),
				gets(m, "selector", b[2], 64));
		}
	}
}

static void fmt_strgp_status(FILE *f, json_t *j)
{
	static const int w[] = {16, 16, 16, 16, 16, 16, 10, 20};
	char b[8][64];
	size_t i, k;
	json_t *s, *e;
	fprintf(f, "%-16s %-16s %-16s %-16s %-16s %-16s %-10s %-20s\n", "Name", "Container",
		"Schema", "Regex", "Plugin", "Flush", "State", "Decomposition");
	dashes(f, w, 8);
	json_array_foreach(j, i, s)
	{
		fprintf(f, "%-16s %-16s %-16s %-16s %-16s %-16s %-10s %s\n",
			gets(s, "name", b[0], 64), gets(s, "container", b[1], 64),
			gets(s, "schema", b[2], 64), gets(s, "regex", b[3], 64),
			gets(s, "plugin", b[4], 64), gets(s, "flush", b[5], 64),
			gets(s, "state", b[6], 64), gets(s, "decomp", b[7], 64));
		fputs("    producers: ", f);
		json_array_foreach(get(s, "producers"), k, e)
		{
			fprintf(f, "%s ", py_str(e, b[0], 64));
		}
		fputs("\n    metrics: ", f);
		json_array_foreach(get(s, "metrics"), k, e)
		{
			fprintf(f, "%s ", py_str(e, b[0], 64));
		}
		fputc('\n', f);
	}
}

static void fmt_plugn_status(FILE *f, json_t *j)
{
	static const int w[] = {24, 24, 12, 12};
	char b[4][64];
	size_t i;
	json_t *p;
	fprintf(f, "%-24s %-24s %-12s %s\n", "Config Name", "Plugin Name", "Type", "libpath");
	dashes(f, w, 4);
	json_array_foreach(j, i, p)
	{
		fprintf(f, "%-24s %-24s %-12s %s\n", gets(p, "name", b[0], 64),
			gets(p, "plugin", b[1], 64), gets(p, "type", b[2], 64),
			gets(p, "libpath", b[3], 64));
	}
}

static void fmt_counts(FILE *f, json_t *j, const char *title)
{
	static const int w[] = {20, 16};
	const char *k;
	json_t *v;
	char b[64];
	fprintf(f, "%s - %sus\n", title, gets(j, "compute_time", b, sizeof(b)));
	fprintf(f, "%-20s %-16s\n", "Name", "Count");
	dashes(f, w, 2);
	json_object_foreach(j, k, v)
	{
		if (strcmp(k, "compute_time") == 0)
			continue;
		fprintf(f, "%-20s %16s\n", k, py_str(v, b, sizeof(b)));
	}
}

static void fmt_log_status(FILE *f, json_t *j)
{
	static const int w[] = {40, 30, 30};
	char b[3][128];
	size_t i;
	json_t *l;
	fprintf(f, "%-40s %-30s %s\n", "Name", "Log Level", "Description");
	dashes(f, w, 3);
	json_array_foreach(j, i, l)
	{
		fprintf(f, "%-40s %-30s %s\n", gets(l, "name", b[0], 128),
			gets(l, "level", b[1], 128), gets(l, "desc", b[2], 128));
	}
	rep(f, '-', 102);
	fputs("\nThe loggers with the Log Level as 'default' use the same log level as the "
	      "default logger (ldmsd). When the default log level changes, their log levels "
	      "change accordingly.\n",
	      f);
}

/* one "bytes count first last" row of msg_stats / msg_client_stats */
static void msg_row(FILE *f, const char *label, json_t *st)
{
	char b[2][64], t1[64], t2[64];
	if (num(get(st, "count")) == 0) {
		snprintf(t1, sizeof(t1), "-EMPTY-");
		snprintf(t2, sizeof(t2), "-EMPTY-");
	} else {
		double a = num(get(st, "first_ts")), z = num(get(st, "last_ts"));
		ts_str(t1, sizeof(t1), (long long)a, (long long)((a - floor(a)) * 1e6));
		ts_str(t2, sizeof(t2), (long long)z, (long long)((z - floor(z)) * 1e6));
	}
	fprintf(f, "%-30s %12s %12s %-26s %-26s\n", label, gets(st, "bytes", b[0], 64),
		gets(st, "count", b[1], 64), t1, t2);
}

static void msg_header(FILE *f, const char *first)
{
	static const int w[] = {30, 12, 12, 26, 26};
	fprintf(f, "%-30s %-12s %-12s %-26s %-26s\n", first, "bytes", "count", "first", "last");
	dashes(f, w, 5);
}

static void fmt_msg_stats(FILE *f, json_t *j)
{
	char b[3][256], lbl[512];
	size_t i, k;
	json_t *t, *c;
	msg_header(f, "name");
	json_array_foreach(j, i, t)
	{
		msg_row(f, gets(t, "msg_tag", b[0], 256), get(t, "rx"));
		json_t *src = get(t, "sources");
		if (json_object_size(src)) {
			const char *sk;
			json_t *sv;
			fputs(" - sources:\n", f);
			json_object_foreach(src, sk, sv)
			{
				snprintf(lbl, sizeof(lbl), "   - %s", sk);
				msg_row(f, lbl, sv);
			}
		}
		if (json_array_size(get(t, "clients")))
			fputs(" - clients:\n", f);
		json_array_foreach(get(t, "clients"), k, c)
		{
			snprintf(lbl, sizeof(lbl), "[%s] %s:", gets(c, "client_match", b[1], 256),
				 gets(c, "client_desc", b[2], 256));
			fprintf(f, "   - %-25s\n", lbl);
			msg_row(f, "     - tx", get(c, "tx"));
			msg_row(f, "     - drops", get(c, "drops"));
		}
	}
}

static void fmt_msg_client_stats(FILE *f, json_t *j)
{
	char b[4][256], lbl[512];
	size_t i, k;
	json_t *c, *t;
	msg_header(f, "message_tag");
	json_array_foreach(j, i, c)
	{
		fprintf(f, "[%s] %s %s\n", gets(c, "match", b[0], 256), gets(c, "dest", b[1], 256),
			gets(c, "desc", b[2], 256));
		msg_row(f, " - tx", get(c, "tx"));
		msg_row(f, " - drops", get(c, "drops"));
		if (json_array_size(get(c, "channels")))
			fputs(" - message_tags:\n", f);
		json_array_foreach(get(c, "channels"), k, t)
		{
			snprintf(lbl, sizeof(lbl), "%s:", gets(t, "msg_tag", b[3], 256));
			fprintf(f, "   - %-25s\n", lbl);
			msg_row(f, "     - tx", get(t, "tx"));
			msg_row(f, "     - drops", get(t, "drops"));
		}
	}
}

static const char *or_dash(json_t *o, const char *k, char *b, size_t len)
{
	json_t *v = get(o, k);
	return v ? py_str(v, b, len) : "-";
}

/* upstream prints the publisher first_ts one column wider */
static void stream_row(FILE *f, const char *label, json_t *st, int first_w)
{
	char b[6][64];
	fprintf(f, "%-30s %12s %12s %12s %12s %*s %12s\n", label,
		or_dash(st, "bytes/sec", b[0], 64), or_dash(st, "count/sec", b[1], 64),
		or_dash(st, "total_bytes", b[2], 64), or_dash(st, "count", b[3], 64), first_w,
		or_dash(st, "first_ts", b[4], 64), or_dash(st, "last_ts", b[5], 64));
}

static void fmt_stream_status(FILE *f, json_t *j)
{
	static const int w[] = {30, 12, 12, 12, 12, 12, 12};
	const char *k, *pk;
	json_t *s, *p;
	char b[64], lbl[300];
	fprintf(f, "%-30s %-12s %-12s %-12s %-12s %-12s %-12s\n", "name", "bytes/sec", "count/sec",
		"total bytes", "count", "first msg", "last msg");
	dashes(f, w, 7);
	json_object_foreach(j, k, s)
	{
		if (strcmp(k, "_OVERALL_") == 0)
			continue;
		fprintf(f, "%s (%s)\n", k, gets(s, "mode", b, sizeof(b)));
		stream_row(f, "   published", get(s, "pub"), 13);
		stream_row(f, "   received", get(s, "recv"), 12);
		if (json_object_size(get(s, "publishers")))
			fputs("      Producers\n", f);
		json_object_foreach(get(s, "publishers"), pk, p)
		{
			snprintf(lbl, sizeof(lbl), "               %s", pk);
			stream_row(f, lbl, get(p, "recv"), 12);
		}
	}
}

static void fmt_stream_client_dump(FILE *f, json_t *j)
{
	static const int w[] = {15, 15, 70};
	size_t i, k;
	json_t *s, *c;
	char b[3][256];
	fprintf(f, "%-15s %-15s %-70s\n", "stream", "ctxt", "cb_fn");
	dashes(f, w, 3);
	json_array_foreach(get(j, "streams"), i, s)
	{
		fprintf(f, "%-15s\n", gets(s, "name", b[0], 256));
		json_array_foreach(get(s, "clients"), k, c)
		{
			fprintf(f, "%-15s %-15s %-70s\n", "", gets(c, "ctxt", b[1], 256),
				gets(c, "cb_fn", b[2], 256));
		}
	}
}

/* histogram of update_time_stats / xprt_stats as upstream prints it */
static void fmt_hist(FILE *f, json_t *h)
{
	char range[96], b[64];
	if (json_is_true(get(h, "warmup_in_progress")) && !get(h, "bins")) {
		double n = num(get(h, "n_warmup")), c = num(get(h, "warmup_count"));
		double pct = n > 0 ? c * 100.0 / n : 0;
		fprintf(f, "  Histogram: calibrating (%.0f/%.0f samples, %5.1f%%)\n  [", c, n, pct);
		int fill = (int)(pct * 40 / 100);
		rep(f, '#', fill);
		rep(f, '-', 40 - fill);
		fputs("]\n", f);
		return;
	}
	json_t *bins = get(h, "bins"), *bd = get(h, "boundaries");
	size_t nb = json_array_size(bins);
	double mx = num(get(h, "underflow"));
	if (num(get(h, "overflow")) > mx)
		mx = num(get(h, "overflow"));
	for (size_t i = 0; i < nb; i++)
		if (num(json_array_get(bins, i)) > mx)
			mx = num(json_array_get(bins, i));
	fprintf(f, "\n  Scale: %s\n", gets(h, "scale", b, sizeof(b)));
	fprintf(f, "  %28s  %10s  %s\n", "Range (usec)", "Count", "Bar");
	fputs("  ", f);
	rep(f, '-', 28);
	fputs("  ", f);
	rep(f, '-', 10);
	fputs("  ", f);
	rep(f, '-', 40);
	fputc('\n', f);
	for (size_t i = 0; i <= nb + 1; i++) {
		double c;
		if (i == 0) {
			snprintf(range, sizeof(range), "(-inf, %.2f)", num(json_array_get(bd, 0)));
			c = num(get(h, "underflow"));
		} else if (i == nb + 1) {
			snprintf(range, sizeof(range), "[%.2f, +inf)", num(json_array_get(bd, nb)));
			c = num(get(h, "overflow"));
		} else {
			snprintf(range, sizeof(range), "[%.2f, %.2f)",
				 num(json_array_get(bd, i - 1)), num(json_array_get(bd, i)));
			c = num(json_array_get(bins, i - 1));
		}
		fprintf(f, "  %28s  %10.0f  ", range, c);
		rep(f, '#', mx > 0 ? (int)(c * 40 / mx) : 0);
		fputc('\n', f);
	}
}

static void fmt_update_time_stats(FILE *f, json_t *j)
{
	static const int w[] = {15, 15, 15, 15, 10, 15, 15};
	const char *un, *pn, *sn;
	json_t *u, *p, *s;
	fprintf(f, "%-15s %-15s %-15s %-15s %-10s %-15s %s\n", "Updater", "Min(usec)", "Max(usec)",
		"Average(usec)", "Count", "Skipped Count", "Oversampled Count");
	dashes(f, w, 7);
	json_object_foreach(j, un, u)
	{
		double mn = INFINITY, mx = 0, sum = 0, cnt = 0, sk = 0, ov = 0;
		json_object_foreach(u, pn, p)
		{
			if (strcmp(pn, "histogram") == 0)
				continue;
			json_object_foreach(p, sn, s)
			{
				double c = num(get(s, "cnt"));
				if (num(get(s, "min")) < mn)
					mn = num(get(s, "min"));
				if (num(get(s, "max")) > mx)
					mx = num(get(s, "max"));
				sum += num(get(s, "avg")) * c;
				cnt += c;
				sk += num(get(s, "skipped_cnt"));
				ov += num(get(s, "oversampled_cnt"));
			}
		}
		if (cnt == 0)
			mn = 0;
		fprintf(f, "%-15s %15.4f %15.4f %15.4f %10.0f %15.0f %15.0f\n", un, mn, mx,
			cnt ? sum / cnt : 0, cnt, sk, ov);
		if (get(u, "histogram"))
			fmt_hist(f, get(u, "histogram"));
	}
}

static void fmt_xprt_stats(FILE *f, json_t *j)
{
	static const int w4[] = {12, 12, 12, 12}, w5[] = {12, 12, 12, 12, 12};
	static const int wo[] = {20, 12, 12, 12, 12};
	char t[80], b[5][64];
	const char *k;
	json_t *o;
	snprintf(t, sizeof(t), "Summary over %.2f seconds", num(get(j, "duration")));
	fprintf(f, "%*s%s%*s\n", (int)(64 - strlen(t)) / 2, "", t, (int)(64 - strlen(t) + 1) / 2,
		"");
	fprintf(f, "%-12s %-12s %-12s %-12s\n", "Connected", "Connecting", "Listening", "Close");
	dashes(f, w4, 4);
	fprintf(f, "%12s %12s %12s %12s\n\n", gets(j, "connect_count", b[0], 64),
		gets(j, "connecting_count", b[1], 64), gets(j, "listen_count", b[2], 64),
		gets(j, "close_count", b[3], 64));
	fprintf(f, "%29s%s%29s\n", "", "Rate/s", "");
	fprintf(f, "%-12s %-12s %-12s %-12s %-12s\n", "Connect", "Conn Req", "Disconnect", "Reject",
		"Auth Fail");
	dashes(f, w5, 5);
	fprintf(f, "%12.2f %12.2f %12.2f %12.2f %12.2f \n\n", num(get(j, "connect_rate_s")),
		num(get(j, "connect_request_rate_s")), num(get(j, "disconnect_rate_s")),
		num(get(j, "reject_rate_s")), num(get(j, "auth_fail_rate_s")));
	fprintf(f, "%-20s %-12s %-12s %-12s %-12s\n", "Operation", "Count", "Min(us)", "Mean(us)",
		"Max(us)");
	dashes(f, wo, 5);
	json_object_foreach(get(j, "op_stats"), k, o)
	{
		fprintf(f, "%-20s %12s %12s %12s %12s\n", k, gets(o, "count", b[0], 64),
			gets(o, "min_us", b[1], 64), gets(o, "mean_us", b[2], 64),
			gets(o, "max_us", b[3], 64));
	}
	rep(f, '-', 40);
	fputs("\n\n\n", f);
	double sq = 0;
	size_t i;
	json_t *r, *ep;
	json_array_foreach(get(j, "rails"), i, r)
	{
		json_object_foreach(get(r, "endpoints"), k, ep)
		{
			sq += num(get(ep, "sq_sz"));
		}
	}
	fprintf(f, "Total send-queue depth: %.0f\n", sq);
}

/* ---- thread_stats -------------------------------------------------------------------- */

static void thr_title(FILE *f, const char *what, json_t *arr)
{
	char t[160];
	double rs = num(get(json_array_get(arr, 0), "refresh_us")) / 1e6;
	char b[40];
	py_float(rs, b, sizeof(b));
	/* python prints an int when the value is integral */
	if (strlen(b) > 2 && strcmp(b + strlen(b) - 2, ".0") == 0)
		b[strlen(b) - 2] = 0;
	snprintf(t, sizeof(t), "%s (Utilization of the last %s sec)", what, b);
	fprintf(f, "%s\n", t);
	rep(f, '=', (int)strlen(t));
	fputc('\n', f);
}

static void thr_id(FILE *f, json_t *t)
{
	char b[2][64], tid[64];
	snprintf(tid, sizeof(tid), "%s", gets(t, "tid", b[0], 64));
	int pad = 15 - (int)strlen(tid);
	int left = pad > 0 ? pad / 2 : 0;
	fprintf(f, "%*s%s%*s %-20s %-20s %11.4f%%", left, "", tid, pad > 0 ? pad - left : 0, "",
		gets(t, "thread_id", b[1], 64), gets(t, "name", b[0], 64),
		num(get(t, "utilization")) * 100);
}

static void thr_workers(FILE *f, const char *what, json_t *arr)
{
	static const int w[] = {15, 20, 20, 12, 12};
	char b[64];
	size_t i;
	json_t *t;
	if (!json_array_size(arr)) {
		char n[128];
		snprintf(n, sizeof(n), "%s: None", what);
		fprintf(f, "%s\n", n);
		rep(f, '=', (int)strlen(n));
		fputs("\n\n", f);
		return;
	}
	thr_title(f, what, arr);
	fprintf(f, "%-15s %-20s %-20s %-12s %-12s\n", "Thread ID", "Linux Thread ID", "Name",
		"Utilization", "Event Counts");
	dashes(f, w, 5);
	json_array_foreach(arr, i, t)
	{
		thr_id(f, t);
		fprintf(f, " %12s\n", gets(t, "ev_cnt", b, sizeof(b)));
	}
	char t2[160];
	snprintf(t2, sizeof(t2), "%s (Utilization of the last X sec)", what);
	rep(f, '=', (int)strlen(t2));
	fputs("\n\n", f);
}

struct op_ent {
	const char *name;
	double v;
};

static int op_cmp(const void *a, const void *b)
{
	const struct op_ent *x = a, *y = b;
	return x->v < y->v ? 1 : x->v > y->v ? -1 : 0;
}

static void fmt_thread_stats(FILE *f, json_t *j)
{
	static const int w[] = {15, 20, 20, 12, 16, 12};
	char b[3][64];
	size_t i;
	json_t *t;
	fputc('\n', f);
	thr_workers(f, "LDMSD Worker Thread Statistics", get(j, "worker_threads"));
	thr_workers(f, "Exclusive Worker Thread Statistics", get(j, "xthreads"));
	thr_workers(f, "LDMSD Storage Worker Thread Statistics", get(j, "storage threads"));
	json_t *io = get(j, "io_threads");
	thr_title(f, "IO Thread Statistics", io);
	fprintf(f, "%-15s %-20s %-20s %-12s %-16s %-12s\n", "Thread ID", "Linux Thread ID", "Name",
		"Utilization", "Send Queue Size", "Num of EPs");
	dashes(f, w, 6);
	json_array_foreach(io, i, t)
	{
		thr_id(f, t);
		fprintf(f, " %16s %12s\n", gets(t, "sq_sz", b[0], 64), gets(t, "n_eps", b[1], 64));
	}
	rep(f, '=', (int)strlen("IO Thread Statistics (Utilization of the last X sec)"));
	fputs("\n\n\n", f);
	static const char *ut =
	    "IO Thread Usages of LDMS Operations (Percentages and Absolute Time in microseconds)";
	rep(f, '=', (int)strlen(ut));
	fprintf(f, "\n%s\n", ut);
	rep(f, '=', (int)strlen(ut));
	fputc('\n', f);
	json_array_foreach(io, i, t)
	{
		json_t *ops = get(t, "ldms_xprt");
		size_t n = json_object_size(ops), k = 0;
		struct op_ent *e = calloc(n ? n : 1, sizeof(*e));
		double tot = 0;
		const char *on;
		json_t *ov;
		fprintf(f, "%-10s%-19s%s\n", gets(t, "tid", b[0], 64),
			gets(t, "thread_id", b[1], 64), gets(t, "name", b[2], 64));
		json_object_foreach(ops, on, ov)
		{
			e[k].name = on;
			e[k].v = num(ov);
			tot += e[k++].v;
		}
		/* insertion sort keeps equal values in their order (python's sort is stable) */
		for (size_t a = 1; a < k; a++)
			for (size_t z = a; z > 0 && op_cmp(&e[z - 1], &e[z]) > 0; z--) {
				struct op_ent x = e[z];
				e[z] = e[z - 1];
				e[z - 1] = x;
			}
		for (size_t a = 0; a < k; a++)
			if (e[a].v > 0)
				fprintf(f, "   %-20s%13.4f%%    %.0f\n", e[a].name,
					tot > 0 ? e[a].v * 100 / tot : 0, e[a].v);
		free(e);
		rep(f, '-', 60);
		fputc('\n', f);
	}
}

static void fmt_pretty(FILE *f, json_t *j)
{
	py_json(f, j, 1, 0);
	fputc('\n', f);
}

struct fmt_ent {
	const char *verb;
	void (*fn)(FILE *, json_t *);
	int want; /* JSON type required at the top, -1 any */
};

static const struct fmt_ent fmts[] = {
    {"version", fmt_version, JSON_OBJECT},
    {"daemon_status", fmt_daemon_status, JSON_OBJECT},
    {"prdcr_status", fmt_prdcr_status, JSON_ARRAY},
    {"prdcr_set_status", fmt_prdcr_set_status, JSON_ARRAY},
    {"updtr_status", fmt_updtr_status, JSON_ARRAY},
    {"updtr_match_list", fmt_updtr_match_list, JSON_ARRAY},
    {"strgp_status", fmt_strgp_status, JSON_ARRAY},
    {"plugn_status", fmt_plugn_status, JSON_ARRAY},
    {"prdcr_stats", NULL, JSON_OBJECT},
    {"set_stats", NULL, JSON_OBJECT},
    {"log_status", fmt_log_status, JSON_ARRAY},
    {"msg_stats", fmt_msg_stats, JSON_ARRAY},
    {"msg_client_stats", fmt_msg_client_stats, JSON_ARRAY},
    {"stream_status", fmt_stream_status, JSON_OBJECT},
    {"stream_client_dump", fmt_stream_client_dump, JSON_OBJECT},
    {"update_time_stats", fmt_update_time_stats, JSON_OBJECT},
    {"xprt_stats", fmt_xprt_stats, JSON_OBJECT},
    {"qgroup_info", fmt_pretty, -1},
    {"thread_stats", fmt_thread_stats, JSON_OBJECT},
    {"store_time_stats", fmt_pretty, -1},
    {"prdcr_listen_status", fmt_pretty, -1},
    {"plugn_sets", fmt_pretty, -1},
    {"metric_sets_default_authz", fmt_pretty, -1},
    {"failover_status", fmt_pretty, -1},
    {"prdcr_hint_tree", fmt_pretty, -1},
    {"prdcr_stream_status", fmt_pretty, -1},
    {"updtr_task", fmt_pretty, -1},
    {"set_sec_mod", fmt_pretty, -1},
    {"profiling", fmt_pretty, -1},
};

int ldms_ctrl_fmt_has(const char *verb)
{
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (strcmp(fmts[i].verb, verb) == 0)
			return 1;
	return 0;
}

int ldms_ctrl_fmt_status(const char *verb, const char *json, FILE *out)
{
	const struct fmt_ent *e = NULL;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (strcmp(fmts[i].verb, verb) == 0)
			e = &fmts[i];
	if (!e)
		return -ENOENT;
	json_t *j = json_loads(json ? json : "", JSON_DECODE_ANY, NULL);
	if (!j || (e->want >= 0 && (int)json_typeof(j) != e->want)) {
		json_decref(j);
		return -EINVAL;
	}
	if (strcmp(verb, "prdcr_stats") == 0)
		fmt_counts(out, j, "Producer Stats");
	else if (strcmp(verb, "set_stats") == 0)
		fmt_counts(out, j, "Set Stats");
	else
		e->fn(out, j);
	json_decref(j);
	return 0;
}
