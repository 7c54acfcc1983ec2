/* Config generation and the etcd key/values against every valid golden case
 * ($LDMSC_GOLDEN/maestro/<case>): --upstream-compat is byte-identical (generated/,
 * daemon_name.*.stdout, etcd_dump.tsv); the default output says the same per daemon once
 * order and the upstream bugs are normalised away (maestro.md §0, §9, §13); the etcd
 * key/values read back into the same model. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "configgen.h"
#include "etcd_kv.h"
#include "model.h"

static const char *golden_dir(void)
{
	const char *g = getenv("LDMSC_GOLDEN");
	return g ? g : "../shared/golden";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static struct maestro_model *load(const char *dir, int compat)
{
	char path[1200];
	struct maestro_model *m;
	struct ldms_err err = {0};
	struct maestro_build_opts o = {.upstream_compat = compat};
	snprintf(path, sizeof(path), "%s/input.yaml", dir);
	if (maestro_model_load_file(path, &o, &m, &err))
		fail_msg("%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	return m;
}

static char *gen(struct configgen *cg, size_t d)
{
	char *t;
	size_t len;
	struct ldms_err err = {0};
	assert_int_equal(configgen_daemon(cg, d, &t, &len, &err), 0);
	return t;
}

/* ---- normalised comparison
 * ------------------------------------------------------------------------ */

struct lines {
	size_t n;
	char **v;
};

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const struct maestro_updater *find_updater(const struct maestro_model *m, const char *nm)
{
	for (size_t g = 0; g < m->n_ugrp; g++)
		for (size_t i = 0; i < m->ugrp[g].n; i++)
			if (strcmp(m->ugrp[g].u[i].name, nm) == 0)
				return &m->ugrp[g].u[i];
	return NULL;
}

/* One line: verb + sorted attributes, whitespace collapsed. golden: drop what only the
 * upstream bugs produce (auth_add name=None, auto_interval=True on a pull updater); both:
 * drop prdcr_add rail/rx_rate/quota (upstream never writes them), and offset=0 when
 * round-tripping (etcd does not keep a zero offset). */
static char *norm_line(char *line, const struct maestro_model *m, int golden, int roundtrip)
{
	char *tok[256];
	size_t n = 0;
	for (char *t = strtok(line, " "); t && n < 256; t = strtok(NULL, " "))
		tok[n++] = t;
	if (!n)
		return NULL;
	const char *verb = tok[0];
	if (golden && strcmp(verb, "auth_add") == 0 && n > 1 && strcmp(tok[1], "name=None") == 0)
		return NULL;
	const struct maestro_updater *u = NULL;
	if (strcmp(verb, "updtr_add") == 0 && n > 1 && !strncmp(tok[1], "name=", 5))
		u = find_updater(m, tok[1] + 5);
	size_t k = 1;
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(verb, "prdcr_add") &&
		    (!strncmp(tok[i], "rail=", 5) || !strncmp(tok[i], "rx_rate=", 8) ||
		     !strncmp(tok[i], "quota=", 6)))
			continue;
		if (golden && u && !strcmp(tok[i], "auto_interval=True") &&
		    strcmp(u->mode, "auto") && strcmp(u->mode, "auto_interval"))
			continue;
		if (roundtrip && !strcmp(verb, "updtr_add") && !strcmp(tok[i], "offset=0"))
			continue;
		tok[k++] = tok[i];
	}
	qsort(tok + 1, k - 1, sizeof(char *), cmp_strp);
	size_t len = 1;
	for (size_t i = 0; i < k; i++)
		len += strlen(tok[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < k; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, tok[i]);
	}
	return s;
}

static struct lines norm(const char *text, const struct maestro_model *m, int golden, int roundtrip)
{
	struct lines l = {0};
	char *copy = strdup(text), *save = NULL;
	size_t cap = 0;
	for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		char *buf = strdup(ln);
		char *s = norm_line(buf, m, golden, roundtrip);
		free(buf);
		if (!s)
			continue;
		if (l.n == cap)
			l.v = realloc(l.v, (cap = cap ? cap * 2 : 16) * sizeof(char *));
		l.v[l.n++] = s;
	}
	free(copy);
	qsort(l.v, l.n, sizeof(char *), cmp_strp);
	return l;
}

static void same_meaning(const char *what, const char *want, const char *got,
			 const struct maestro_model *m, int golden, int roundtrip)
{
	struct lines a = norm(want, m, golden, roundtrip), b = norm(got, m, 0, roundtrip);
	size_t i = 0, j = 0;
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i], b.v[j]);
		if (c)
			fail_msg("%s: %s \"%s\"", what, c < 0 ? "missing" : "extra",
				 c < 0 ? a.v[i] : b.v[j]);
		i++;
		j++;
	}
	lines_free(&a);
	lines_free(&b);
}

/* ---- per case
 * --------------------------------------------------------------------------------------- */

static int valid_case(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/generate.rc", dir);
	char *rc = slurp(path, NULL);
	snprintf(path, sizeof(path), "%s/generated.list", dir);
	char *list = slurp(path, NULL);
	int ok = rc && list && atoi(rc) == 0;
	free(rc);
	free(list);
	return ok;
}

static void check_compat_files(const char *dir)
{
	struct maestro_model *m = load(dir, 1);
	struct configgen *cg;
	struct configgen_opts o = {.upstream_compat = 1};
	struct ldms_err err = {0};
	char path[1500];
	assert_int_equal(configgen_new(m, &o, NULL, &cg, &err), 0);
	snprintf(path, sizeof(path), "%s/generated.list", dir);
	char *list = slurp(path, NULL);
	size_t files = 0;
	for (size_t d = 0; d < m->n_daemons; d++) {
		char *t = gen(cg, d);
		char fname[300];
		snprintf(fname, sizeof(fname), "%s.conf", m->daemons[d].name);
		char *hit = strstr(list, fname);
		int listed = hit && (hit == list || hit[-1] == '\n') && hit[strlen(fname)] == '\n';
		if (strlen(t) > 1) {
			if (!listed)
				fail_msg("%s: %s written but not in generated.list", dir, fname);
			snprintf(path, sizeof(path), "%s/generated/%s", dir, fname);
			char *want = slurp(path, NULL);
			assert_non_null(want);
			if (strcmp(want, t))
				fail_msg("%s: %s differs from the golden file", dir, fname);
			free(want);
			files++;
		} else if (listed) {
			fail_msg("%s: %s listed but empty", dir, fname);
		}
		free(t);
	}
	size_t listed = 0;
	for (char *p = list; *p; p++)
		listed += *p == '\n';
	assert_int_equal(files, listed);
	free(list);
	/* --daemon_name: the text, then one more newline */
	DIR *dd = opendir(dir);
	struct dirent *e;
	while ((e = readdir(dd))) {
		const char *nm = e->d_name;
		size_t l = strlen(nm);
		if (strncmp(nm, "daemon_name.", 12) || l < 20 || strcmp(nm + l - 7, ".stdout"))
			continue;
		char dname[256];
		snprintf(dname, sizeof(dname), "%.*s", (int)(l - 12 - 7), nm + 12);
		long d = maestro_model_daemon(m, dname);
		assert_true(d >= 0);
		snprintf(path, sizeof(path), "%s/%s", dir, nm);
		char *want = slurp(path, NULL), *t = gen(cg, (size_t)d);
		size_t tl = strlen(t);
		assert_int_equal(strlen(want), tl + 1);
		assert_memory_equal(want, t, tl);
		assert_int_equal(want[tl], '\n');
		free(want);
		free(t);
	}
	closedir(dd);
	configgen_free(cg);
	maestro_model_free(m);
}

static void check_meaning(const char *dir)
{
	struct maestro_model *m = load(dir, 0);
	struct configgen *cg;
	struct ldms_err err = {0};
	char path[1500];
	assert_int_equal(configgen_new(m, NULL, NULL, &cg, &err), 0);
	for (size_t d = 0; d < m->n_daemons; d++) {
		char *t = gen(cg, d);
		snprintf(path, sizeof(path), "%s/generated/%s.conf", dir, m->daemons[d].name);
		char *want = slurp(path, NULL);
		if (!want)
			want = strdup("");
		char what[1600];
		snprintf(what, sizeof(what), "%s (default output)", path);
		same_meaning(what, want, t, m, 1, 0);
		/* the corrections themselves */
		assert_null(strstr(t, "  "));
		assert_null(strstr(t, "name=None"));
		free(want);
		free(t);
	}
	configgen_free(cg);
	maestro_model_free(m);
}

static void check_etcd(const char *dir)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/etcd_load.cmd", dir);
	char *cmd = slurp(path, NULL);
	if (!cmd)
		return;
	char prefix[128];
	char *p = strstr(cmd, "--prefix ");
	assert_non_null(p);
	sscanf(p + 9, "%127s", prefix);
	free(cmd);
	snprintf(path, sizeof(path), "%s/etcd_dump.tsv", dir);
	char *tsv = slurp(path, NULL);
	assert_non_null(tsv);
	struct maestro_model *m = load(dir, 1);
	struct maestro_kvlist kv;
	struct ldms_err err = {0};
	maestro_kvlist_init(&kv);
	assert_int_equal(maestro_model_to_kv(m, prefix, &kv, &err), 0);
	maestro_kvlist_sort(&kv);
	size_t i = 0;
	char *save = NULL;
	for (char *ln = strtok_r(tsv, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(ln, '\t');
		assert_non_null(tab);
		*tab = '\0';
		if (strstr(ln, "/last_updated"))
			continue;
		if (i >= kv.count)
			fail_msg("%s: missing key %s", dir, ln);
		if (strcmp(kv.kv[i].key, ln) || strcmp(kv.kv[i].value, tab + 1))
			fail_msg("%s: key %d: got %s=%s want %s=%s", dir, (int)i, kv.kv[i].key,
				 kv.kv[i].value, ln, tab + 1);
		i++;
	}
	if (i != kv.count)
		fail_msg("%s: extra key %s", dir, kv.kv[i].key);
	free(tsv);
	maestro_kvlist_free(&kv);
	maestro_model_free(m);
}

/* model -> relative kv -> model: same kv again, same configuration per daemon. */
static void check_roundtrip(const char *dir, int compat)
{
	struct maestro_model *m = load(dir, compat), *m2;
	struct maestro_kvlist kv, kv2;
	struct ldms_err err = {0};
	maestro_kvlist_init(&kv);
	maestro_kvlist_init(&kv2);
	assert_int_equal(maestro_model_to_kv(m, NULL, &kv, &err), 0);
	if (maestro_kv_to_model(&kv, NULL, &m2, &err))
		fail_msg("%s: kv_to_model: %s", dir, err.msg);
	assert_int_equal(maestro_model_to_kv(m2, NULL, &kv2, &err), 0);
	maestro_kvlist_sort(&kv);
	maestro_kvlist_sort(&kv2);
	assert_int_equal(kv.count, kv2.count);
	for (size_t i = 0; i < kv.count; i++) {
		assert_string_equal(kv.kv[i].key, kv2.kv[i].key);
		assert_string_equal(kv.kv[i].value, kv2.kv[i].value);
	}
	struct configgen *cg, *cg2;
	struct configgen_opts o = {.upstream_compat = compat};
	assert_int_equal(configgen_new(m, &o, NULL, &cg, &err), 0);
	assert_int_equal(configgen_new(m2, &o, NULL, &cg2, &err), 0);
	assert_int_equal(m->n_daemons, m2->n_daemons);
	for (size_t d = 0; d < m->n_daemons; d++) {
		long d2 = maestro_model_daemon(m2, m->daemons[d].name);
		assert_true(d2 >= 0);
		char *a = gen(cg, d), *b = gen(cg2, (size_t)d2), what[600];
		snprintf(what, sizeof(what), "%s: %s after the etcd round trip", dir,
			 m->daemons[d].name);
		same_meaning(what, a, b, m, 0, 1);
		free(a);
		free(b);
	}
	configgen_free(cg);
	configgen_free(cg2);
	maestro_kvlist_free(&kv);
	maestro_kvlist_free(&kv2);
	maestro_model_free(m);
	maestro_model_free(m2);
}

static void for_each_valid_case(void (*fn)(const char *), size_t min_cases)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/maestro", golden_dir());
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d))) {
		char sub[1400];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (!valid_case(sub))
			continue;
		fn(sub);
		n++;
	}
	closedir(d);
	assert_true(n >= min_cases);
}

static void test_compat_bytes(void **state)
{
	for_each_valid_case(check_compat_files, 4);
}

static void test_default_meaning(void **state)
{
	for_each_valid_case(check_meaning, 4);
}

static void test_etcd_kv(void **state)
{
	for_each_valid_case(check_etcd, 4);
}

static void rt_compat(const char *dir)
{
	check_roundtrip(dir, 1);
}

static void rt_default(const char *dir)
{
	check_roundtrip(dir, 0);
}

static void test_roundtrip(void **state)
{
	for_each_valid_case(rt_compat, 4);
	for_each_valid_case(rt_default, 4);
}

/* The seed README's older schema generates, and reads back from its kv form. */
static void test_seed_readme(void **state)
{
	const char *src = getenv("LDMSC_SRC");
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/tests/data/maestro/seed_readme.yaml", src ? src : ".");
	struct maestro_model *m, *m2;
	struct ldms_err err = {0};
	assert_int_equal(maestro_model_load_file(dir, NULL, &m, &err), 0);
	struct configgen *cg;
	assert_int_equal(configgen_new(m, NULL, NULL, &cg, &err), 0);
	long d = maestro_model_daemon(m, "l1-aggs-11");
	char *t = gen(cg, (size_t)d);
	assert_non_null(
	    strstr(t, "prdcr_listen_add name=node-[1-10]-[10002] reconnect=20000000\n"));
	assert_non_null(strstr(t, "prdcr_add name=node-1-10002 host=node-1 port=10002 xprt=sock "
				  "type=active reconnect=20000000 auth=ovis1 rail=1 rx_rate=-1 "
				  "quota=-1\n"));
	free(t);
	d = maestro_model_daemon(m, "sampler-1");
	t = gen(cg, (size_t)d);
	assert_non_null(strstr(t, "advertiser_add name=sampler-1-node-14 host=node-14 xprt=sock "
				  "port=10101 reconnect=20s auth=munge1\n"));
	assert_non_null(strstr(t, "listen xprt=sock port=10002 auth=ovis1"));
	assert_null(strstr(t, "listen xprt=rdma")); /* same port as the sock endpoint */
	free(t);
	configgen_free(cg);
	struct maestro_kvlist kv;
	maestro_kvlist_init(&kv);
	assert_int_equal(maestro_model_to_kv(m, NULL, &kv, &err), 0);
	assert_int_equal(maestro_kv_to_model(&kv, NULL, &m2, &err), 0);
	d = maestro_model_daemon(m2, "sampler-1");
	assert_true(d >= 0);
	assert_int_equal(m2->daemons[d].n_ep, 2);
	/* etcd order: the escaped "%2F" sorts before "/" */
	assert_string_equal(m2->daemons[d].ep[0].name, "node-1-10002/rdma");
	assert_string_equal(m2->daemons[d].ep[1].name, "node-1-10002");
	maestro_kvlist_free(&kv);
	maestro_model_free(m);
	maestro_model_free(m2);
}

/* A given assignment (as the maestro daemon computes it) decides each aggregator's share. */
static void test_assignment(void **state)
{
	char dir[1100];
	snprintf(dir, sizeof(dir), "%s/maestro/11-uneven-7-over-3-and-single-member-groups",
		 golden_dir());
	struct maestro_model *m = load(dir, 0);
	struct configgen *cg;
	struct ldms_err err = {0};
	long *assign[8] = {0};
	for (size_t g = 0; g < m->n_pgrp; g++) {
		assign[g] = calloc(m->pgrp[g].n ? m->pgrp[g].n : 1, sizeof(long));
		/* a1 down: everything of group a[1-3] on a3 (member index 2) */
		for (size_t p = 0; p < m->pgrp[g].n; p++)
			assign[g][p] = strcmp(m->pgrp[g].group, "a[1-3]") == 0 ? 2 : 0;
	}
	assert_int_equal(configgen_new(m, NULL, (const long *const *)assign, &cg, &err), 0);
	char *a1 = gen(cg, (size_t)maestro_model_daemon(m, "a1"));
	char *a3 = gen(cg, (size_t)maestro_model_daemon(m, "a3"));
	assert_null(strstr(a1, "prdcr_add name=s"));
	assert_non_null(strstr(a3, "prdcr_add name=s1-ep"));
	assert_non_null(strstr(a3, "prdcr_add name=s7-ep"));
	free(a1);
	free(a3);
	configgen_free(cg);
	for (size_t g = 0; g < 8; g++)
		free(assign[g]);
	maestro_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compat_bytes), cmocka_unit_test(test_default_meaning),
	    cmocka_unit_test(test_etcd_kv),	 cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_seed_readme),	 cmocka_unit_test(test_assignment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
