/* test_sampler: sets of arbitrary schemas for tests and benchmarks, like upstream's
 *   action=add_schema schema= metrics=name:meta|data:type:init:count:unit,... | num_metrics=
 *   action=add_set instance= schema= producer= [component_id=] [job_id=]
 *   action=default [schema=] [base=] num_sets=N num_metrics=M producer= [component_id=]
 * Each sample adds 1 to every DATA value (char arrays become 'a'+v%26), writing the
 * values directly so only transaction_end moves the data gn (as upstream). */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler_base.h"

struct ts_metric {
	char *name;
	char *unit;
	enum ldms_value_type type;
	int meta;
	uint32_t count;
	char init[64]; /* init value text */
};

struct ts_schema {
	char *name;
	struct ldms_schema *schema;
	int card;
	struct ts_metric *m;
	struct ts_schema *next;
};

struct ts_set {
	ldms_set_t set;
	int registered;
	struct ts_set *next;
};

struct test_sampler {
	struct ldmsd_plugin_handle *h;
	struct ts_schema *schemas;
	struct ts_set *sets, **sets_tail;
};

static const char *ts_usage(struct ldmsd_plugin_handle *h)
{
	return "config name=<inst> action=add_schema schema=<schema_name>\n"
	       "       [set_array_card=<n>] [metrics=<metric definitions>]\n"
	       "       [num_metrics=<num_metrics>] [type=<metric type>] [init_value=<v>]\n"
	       "       [delim=<c>]\n"
	       "    metric definition: <name>:<meta|data>:<value type>:<init value>:<array "
	       "size>:<unit>\n"
	       "config name=<inst> action=add_set instance=<set_name> schema=<schema_name>\n"
	       "       producer=<producer> [component_id=<compid>] [job_id=<jobid>]\n"
	       "       [uid=<user>] [gid=<group>] [perm=<octal>]\n"
	       "config name=<inst> action=default [schema=<sname>] [base=<base>]\n"
	       "       producer=<producer> [num_sets=<nsets>] [num_metrics=<nmetrics>]\n"
	       "       [component_id=<compid>]\n"
	       "    creates <nsets> sets named <base><i> (base defaults to <producer>/<sname>)\n";
}

static int ts_init(struct ldmsd_plugin_handle *h)
{
	struct test_sampler *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->h = h;
	ts->sets_tail = &ts->sets;
	h->ctx = ts;
	return 0;
}

static void ts_schema_free(struct ts_schema *s)
{
	if (!s)
		return;
	for (int i = 0; s->m && i < s->card; i++) {
		free(s->m[i].name);
		free(s->m[i].unit);
	}
	free(s->m);
	if (s->schema)
		ldms_schema_delete(s->schema);
	free(s->name);
	free(s);
}

static struct ts_schema *ts_schema_find(struct test_sampler *ts, const char *name)
{
	for (struct ts_schema *s = ts->schemas; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* Splits s at delim keeping empty fields ("a::b" has three). */
static char *field(char **sp, char delim)
{
	char *s = *sp, *d;
	if (!s)
		return NULL;
	d = strchr(s, delim);
	if (d) {
		*d = '\0';
		*sp = d + 1;
	} else {
		*sp = NULL;
	}
	return s;
}

static enum ldms_value_type type_parse(const char *s)
{
	char low[32];
	size_t i, n = strlen(s);
	if (n >= sizeof(low))
		return LDMS_V_NONE;
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	return ldms_metric_str_to_type(low);
}

static int metric_parse(char *def, char delim, struct ts_metric *m, struct ldms_err *err)
{
	char *rest = def;
	char *name = field(&rest, delim), *mtype = field(&rest, delim);
	char *vtype = field(&rest, delim), *init = field(&rest, delim);
	char *count = field(&rest, delim), *unit = field(&rest, delim);

	if (!name || !*name)
		return ldms_err_set(err, -EINVAL, "metrics: a metric definition has no name.");
	if (!mtype || !*mtype)
		return ldms_err_set(err, -EINVAL, "metrics: '%s' has no metric type.", name);
	if (!strcasecmp(mtype, "data") || !strcasecmp(mtype, "d"))
		m->meta = 0;
	else if (!strcasecmp(mtype, "meta") || !strcasecmp(mtype, "m"))
		m->meta = 1;
	else
		return ldms_err_set(err, -EINVAL,
				    "metrics: '%s': metric type '%s' is not meta or data.", name,
				    mtype);
	if (!vtype || !*vtype)
		return ldms_err_set(err, -EINVAL, "metrics: '%s' has no value type.", name);
	m->type = type_parse(vtype);
	if (m->type == LDMS_V_NONE)
		return ldms_err_set(err, -EINVAL, "metrics: '%s': unknown value type '%s'.", name,
				    vtype);
	if (ldms_type_elem_size(m->type) == 0)
		return ldms_err_set(err, -ENOTSUP,
				    "metrics: '%s': value type '%s' is not supported by ldms-c's "
				    "test_sampler.",
				    name, vtype);
	if (!init || !*init)
		return ldms_err_set(err, -EINVAL, "metrics: '%s' has no init value.", name);
	if (strlen(init) >= sizeof(m->init))
		return ldms_err_set(err, -EINVAL, "metrics: '%s': init value too long.", name);
	strcpy(m->init, init);
	m->count = 1;
	if (count && *count) {
		char *end;
		long c = strtol(count, &end, 0);
		if (*end || c < 1 || c > 1 << 20)
			return ldms_err_set(err, -EINVAL, "metrics: '%s': bad array size '%s'.",
					    name, count);
		if (ldms_type_is_array(m->type))
			m->count = (uint32_t)c;
	} else if (ldms_type_is_array(m->type)) {
		m->count = 4; /* upstream's default array length */
	}
	m->name = strdup(name);
	m->unit = (unit && *unit) ? strdup(unit) : NULL;
	if (!m->name || ((unit && *unit) && !m->unit))
		return ldms_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int schema_build(struct ts_schema *s, uint32_t array_card, struct ldms_err *err)
{
	s->schema = ldms_schema_new(s->name);
	if (!s->schema)
		return ldms_err_set(err, -ENOMEM, "schema '%s' could not be created.", s->name);
	for (int i = 0; i < s->card; i++) {
		struct ts_metric *m = &s->m[i];
		int rc;
		if (ldms_type_is_array(m->type))
			rc = m->meta ? ldms_schema_meta_array_add(s->schema, m->name, m->type,
								  m->count, m->unit)
				     : ldms_schema_metric_array_add(s->schema, m->name, m->type,
								    m->count, m->unit);
		else
			rc = m->meta ? ldms_schema_meta_add(s->schema, m->name, m->type, m->unit)
				     : ldms_schema_metric_add(s->schema, m->name, m->type, m->unit);
		if (rc < 0)
			return ldms_err_set(err, rc, "metrics: '%s' could not be added (%s).",
					    m->name, strerror(-rc));
	}
	if (array_card > 1 && ldms_schema_array_card_set(s->schema, array_card) < 0)
		return ldms_err_set(err, -EINVAL, "set_array_card: invalid value %u.", array_card);
	return 0;
}

static int parse_card(const char *v, uint32_t *out, struct ldms_err *err)
{
	char *end;
	long n;
	*out = 1;
	if (!v)
		return 0;
	n = strtol(v, &end, 0);
	if (end == v || *end || n < 1 || n > 65536)
		return ldms_err_set(err, -EINVAL,
				    "set_array_card: '%s' is not a number between 1 "
				    "and 65536.",
				    v);
	*out = (uint32_t)n;
	return 0;
}

static int parse_count(const char *attr, const char *v, long max, long *out, struct ldms_err *err)
{
	char *end;
	long n;
	n = strtol(v, &end, 0);
	if (end == v || *end || n < 0 || n > max)
		return ldms_err_set(err, -EINVAL, "%s: '%s' is not a number between 0 and %ld.",
				    attr, v, max);
	*out = n;
	return 0;
}

static int add_schema(struct test_sampler *ts, const struct ldmsd_attrs *a, struct ldms_err *err)
{
	const char *name = sampler_attr(a, "schema");
	const char *metrics = sampler_attr(a, "metrics");
	const char *num = sampler_attr(a, "num_metrics");
	const char *d = sampler_attr(a, "delim");
	char delim = (d && *d) ? d[0] : ':';
	struct ts_schema *s;
	uint32_t card;
	int rc;

	if (!name || !*name)
		return ldms_err_set(err, -EINVAL, "schema: add_schema needs schema=<name>.");
	if (ts_schema_find(ts, name))
		return ldms_err_set(err, -EEXIST, "schema: '%s' already exists.", name);
	if (!metrics && !num)
		return ldms_err_set(err, -EINVAL,
				    "metrics: either metrics or num_metrics must be given.");
	if ((rc = parse_card(sampler_attr(a, "set_array_card"), &card, err)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	if (metrics) {
		char *copy = strdup(metrics), *rest = copy, *def;
		int n = 1;
		if (!copy) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		for (const char *p = metrics; *p; p++)
			n += *p == ',';
		s->m = calloc((size_t)n, sizeof(*s->m));
		if (!s->m) {
			free(copy);
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		while ((def = field(&rest, ',')) != NULL) {
			rc = metric_parse(def, delim, &s->m[s->card], err);
			if (s->m[s->card].name || s->m[s->card].unit)
				s->card++;
			if (rc) {
				free(copy);
				goto fail;
			}
		}
		free(copy);
	} else {
		long n;
		const char *tv = sampler_attr(a, "type");
		const char *iv = sampler_attr(a, "init_value");
		enum ldms_value_type t = tv ? type_parse(tv) : LDMS_V_U64;
		if ((rc = parse_count("num_metrics", num, 100000, &n, err)))
			goto fail;
		if (t == LDMS_V_NONE || ldms_type_elem_size(t) == 0) {
			rc = ldms_err_set(err, -EINVAL, "type: unsupported value type '%s'.", tv);
			goto fail;
		}
		s->m = calloc((size_t)n + 1, sizeof(*s->m));
		if (!s->m) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		for (long i = 0; i < n; i++) {
			struct ts_metric *m = &s->m[s->card];
			char mname[32];
			snprintf(mname, sizeof(mname), "metric_%ld", i);
			m->name = strdup(mname);
			if (!m->name) {
				rc = ldms_err_set(err, -ENOMEM, "out of memory");
				goto fail;
			}
			s->card++;
			m->type = t;
			m->count = ldms_type_is_array(t) ? 4 : 1;
			snprintf(m->init, sizeof(m->init), "%s", iv ? iv : "0");
		}
	}
	if ((rc = schema_build(s, card, err)))
		goto fail;
	s->next = ts->schemas;
	ts->schemas = s;
	return 0;
fail:
	ts_schema_free(s);
	return rc;
}

/* Little-endian raw stores: set memory is LE (ldms-protocol.md §4.3). */
static void raw_store(void *p, enum ldms_value_type t, uint32_t idx, uint64_t v, double dv,
		      int use_double)
{
	size_t sz = ldms_type_elem_size(t);
	uint8_t *b = (uint8_t *)p + (size_t)idx * sz;
	switch (t) {
	case LDMS_V_F32:
	case LDMS_V_F32_ARRAY: {
		float f = use_double ? (float)dv : (float)v;
		uint32_t x;
		memcpy(&x, &f, 4);
		x = htole32(x);
		memcpy(b, &x, 4);
		return;
	}
	case LDMS_V_D64:
	case LDMS_V_D64_ARRAY: {
		double d = use_double ? dv : (double)v;
		uint64_t x;
		memcpy(&x, &d, 8);
		x = htole64(x);
		memcpy(b, &x, 8);
		return;
	}
	default:
		break;
	}
	switch (sz) {
	case 1:
		b[0] = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = htole16((uint16_t)v);
		memcpy(b, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = htole32((uint32_t)v);
		memcpy(b, &x, 4);
		break;
	}
	case 8: {
		uint64_t x = htole64(v);
		memcpy(b, &x, 8);
		break;
	}
	default:
		break;
	}
}

static uint64_t double_to_u64(double d)
{
	if (!(d > -9.2e18 && d < 1.8e19))
		return 0;
	return d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
}

/* Element 0 of a value as u64 (signed values sign-extended, reals truncated). */
static uint64_t raw_first_u64(const void *p, enum ldms_value_type t)
{
	const uint8_t *b = p;
	uint16_t x16;
	uint32_t x32;
	uint64_t x64;
	switch (t) {
	case LDMS_V_CHAR:
	case LDMS_V_CHAR_ARRAY:
	case LDMS_V_U8:
	case LDMS_V_U8_ARRAY:
		return b[0];
	case LDMS_V_S8:
	case LDMS_V_S8_ARRAY:
		return (uint64_t)(int64_t)(int8_t)b[0];
	case LDMS_V_U16:
	case LDMS_V_U16_ARRAY:
		memcpy(&x16, b, 2);
		return le16toh(x16);
	case LDMS_V_S16:
	case LDMS_V_S16_ARRAY:
		memcpy(&x16, b, 2);
		return (uint64_t)(int64_t)(int16_t)le16toh(x16);
	case LDMS_V_U32:
	case LDMS_V_U32_ARRAY:
		memcpy(&x32, b, 4);
		return le32toh(x32);
	case LDMS_V_S32:
	case LDMS_V_S32_ARRAY:
		memcpy(&x32, b, 4);
		return (uint64_t)(int64_t)(int32_t)le32toh(x32);
	case LDMS_V_F32:
	case LDMS_V_F32_ARRAY: {
		float f;
		memcpy(&x32, b, 4);
		x32 = le32toh(x32);
		memcpy(&f, &x32, 4);
		return double_to_u64(f);
	}
	case LDMS_V_D64:
	case LDMS_V_D64_ARRAY: {
		double d;
		memcpy(&x64, b, 8);
		x64 = le64toh(x64);
		memcpy(&d, &x64, 8);
		return double_to_u64(d);
	}
	default:
		memcpy(&x64, b, 8);
		return le64toh(x64);
	}
}

/* Writes one metric through the set API (each call moves a generation number, like
 * upstream's initialisation). */
static void metric_set_value(ldms_set_t set, int i, enum ldms_value_type t, uint32_t idx,
			     const char *text)
{
	switch (t) {
	case LDMS_V_CHAR:
		ldms_metric_set_char(set, i, text[0]);
		break;
	case LDMS_V_U8:
		ldms_metric_set_u8(set, i, (uint8_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S8:
		ldms_metric_set_s8(set, i, (int8_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U16:
		ldms_metric_set_u16(set, i, (uint16_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S16:
		ldms_metric_set_s16(set, i, (int16_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U32:
		ldms_metric_set_u32(set, i, (uint32_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S32:
		ldms_metric_set_s32(set, i, (int32_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U64:
		ldms_metric_set_u64(set, i, strtoull(text, NULL, 0));
		break;
	case LDMS_V_S64:
		ldms_metric_set_s64(set, i, strtoll(text, NULL, 0));
		break;
	case LDMS_V_F32:
		ldms_metric_set_float(set, i, strtof(text, NULL));
		break;
	case LDMS_V_D64:
		ldms_metric_set_double(set, i, strtod(text, NULL));
		break;
	case LDMS_V_CHAR_ARRAY: {
		char one[2] = {text[0], '\0'};
		ldms_metric_array_set_str(set, i, one);
		break;
	}
	case LDMS_V_U8_ARRAY:
		ldms_metric_array_set_u8(set, i, idx, (uint8_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S8_ARRAY:
		ldms_metric_array_set_s8(set, i, idx, (int8_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U16_ARRAY:
		ldms_metric_array_set_u16(set, i, idx, (uint16_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S16_ARRAY:
		ldms_metric_array_set_s16(set, i, idx, (int16_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U32_ARRAY:
		ldms_metric_array_set_u32(set, i, idx, (uint32_t)strtoull(text, NULL, 0));
		break;
	case LDMS_V_S32_ARRAY:
		ldms_metric_array_set_s32(set, i, idx, (int32_t)strtoll(text, NULL, 0));
		break;
	case LDMS_V_U64_ARRAY:
		ldms_metric_array_set_u64(set, i, idx, strtoull(text, NULL, 0));
		break;
	case LDMS_V_S64_ARRAY:
		ldms_metric_array_set_s64(set, i, idx, strtoll(text, NULL, 0));
		break;
	case LDMS_V_F32_ARRAY:
		ldms_metric_array_set_float(set, i, idx, strtof(text, NULL));
		break;
	case LDMS_V_D64_ARRAY:
		ldms_metric_array_set_double(set, i, idx, strtod(text, NULL));
		break;
	default:
		break;
	}
}

static void metric_set_all(ldms_set_t set, int i, const char *text)
{
	enum ldms_value_type t = ldms_metric_type_get(set, i);
	if (ldms_type_is_array(t) && t != LDMS_V_CHAR_ARRAY) {
		uint32_t n = ldms_metric_array_get_len(set, i);
		for (uint32_t j = 0; j < n; j++)
			metric_set_value(set, i, t, j, text);
	} else {
		metric_set_value(set, i, t, 0, text);
	}
}

static int parse_u64_attr(const char *attr, const char *v, int skip_prefix, uint64_t *out,
			  struct ldms_err *err)
{
	const char *p = v;
	char *end;
	if (skip_prefix)
		while (*p && !isdigit((unsigned char)*p))
			p++;
	errno = 0;
	*out = strtoull(p, &end, 0);
	if (errno || end == p || *end)
		return ldms_err_set(err, -EINVAL, "%s: '%s' is not a number.", attr, v);
	return 0;
}

static int set_create(struct test_sampler *ts, struct ts_schema *s, const char *instance,
		      const char *producer, uint64_t compid, const char *jobid,
		      const struct ldmsd_attrs *a, struct ldms_err *err)
{
	uid_t uid;
	gid_t gid;
	uint32_t perm;
	const char *v;
	struct ts_set *t;
	int rc, i;

	if (!sampler_instance_name_ok(instance))
		return ldms_err_set(err, -EINVAL, "instance: '%s' is not a valid set name.",
				    instance);
	if (strlen(producer) >= LDMS_PRODUCER_NAME_MAX)
		return ldms_err_set(err, -EINVAL, "producer: '%s' is too long.", producer);
	ldms_set_default_authz_get(&uid, &gid, &perm);
	if ((v = sampler_attr(a, "uid")) && ldms_parse_uid(v, &uid))
		return ldms_err_set(err, -EINVAL, "uid: the specified user '%s' does not exist.",
				    v);
	if ((v = sampler_attr(a, "gid")) && ldms_parse_gid(v, &gid))
		return ldms_err_set(err, -EINVAL, "gid: the specified group '%s' does not exist.",
				    v);
	if ((v = sampler_attr(a, "perm")) && ldms_parse_perm_octal(v, &perm))
		return ldms_err_set(err, -EINVAL,
				    "perm: the permission bits must be specified as a non-zero "
				    "octal number <= 777; got '%s'.",
				    v);
	t = calloc(1, sizeof(*t));
	if (!t)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	t->set = ldms_set_new_with_auth(instance, s->schema, uid, gid, perm);
	if (!t->set) {
		rc = errno ? -errno : -ENOMEM;
		free(t);
		return ldms_err_set(err, rc, "instance: cannot create set '%s': %s", instance,
				    strerror(-rc));
	}
	for (i = 0; i < s->card; i++)
		metric_set_all(t->set, i, s->m[i].init);
	if (compid) {
		char txt[32];
		snprintf(txt, sizeof(txt), "%llu", (unsigned long long)compid);
		i = ldms_metric_by_name(t->set, "component_id");
		if (i >= 0)
			metric_set_all(t->set, i, txt);
		else
			ldms_log(LDMS_LWARN, ts->h->log_name,
				 "component_id=%s is given but the set '%s' has no metric "
				 "'component_id'",
				 txt, instance);
	}
	if (jobid) {
		i = ldms_metric_by_name(t->set, "job_id");
		if (i >= 0)
			metric_set_all(t->set, i, jobid);
	}
	ldms_set_producer_name_set(t->set, producer);
	if (ts->h->set_register) {
		rc = ts->h->set_register(ts->h, t->set);
		if (rc) {
			ldms_set_delete(t->set);
			free(t);
			return ldms_err_set(err, rc, "set '%s' could not be registered.", instance);
		}
		t->registered = 1;
	}
	rc = ldms_set_publish(t->set);
	if (rc) {
		if (t->registered && ts->h->set_deregister)
			ts->h->set_deregister(ts->h, t->set);
		ldms_set_delete(t->set);
		free(t);
		rc = rc < 0 ? rc : -rc;
		return ldms_err_set(err, rc, "instance: set '%s' could not be published (%s).",
				    instance, strerror(-rc));
	}
	*ts->sets_tail = t;
	ts->sets_tail = &t->next;
	return 0;
}

static int add_set(struct test_sampler *ts, const struct ldmsd_attrs *a, struct ldms_err *err)
{
	const char *sname = sampler_attr(a, "schema");
	const char *inst = sampler_attr(a, "instance");
	const char *prod = sampler_attr(a, "producer");
	const char *cid = sampler_attr(a, "component_id");
	const char *jid = sampler_attr(a, "job_id");
	struct ts_schema *s;
	uint64_t compid = 0, jobid;
	int rc;

	if (!sname || !*sname)
		return ldms_err_set(err, -EINVAL, "schema: add_set needs schema=<name>.");
	if (!inst || !*inst)
		return ldms_err_set(err, -EINVAL, "instance: add_set needs instance=<set name>.");
	if (!(s = ts_schema_find(ts, sname)))
		return ldms_err_set(err, -EINVAL, "schema: '%s' does not exist.", sname);
	if (!prod || !*prod)
		return ldms_err_set(err, -EINVAL, "producer: add_set needs producer=<name>.");
	if (cid && (rc = parse_u64_attr("component_id", cid, 1, &compid, err)))
		return rc;
	if (jid && (rc = parse_u64_attr("job_id", jid, 0, &jobid, err)))
		return rc;
	return set_create(ts, s, inst, prod, compid, jid, a, err);
}

static int add_default(struct test_sampler *ts, const struct ldmsd_attrs *a, struct ldms_err *err)
{
	const char *sname = sampler_attr(a, "schema");
	const char *base = sampler_attr(a, "base");
	const char *prod = sampler_attr(a, "producer");
	const char *v, *cid = sampler_attr(a, "component_id");
	long nsets = 1, nmetrics = 10;
	uint64_t compid = 0;
	struct ts_schema *s;
	char def[256], name[LDMS_SET_NAME_MAX + 300];
	int rc;

	if (!sname || !*sname)
		sname = "test_sampler";
	if (!prod || !*prod)
		return ldms_err_set(err, -EINVAL,
				    "producer: action=default needs producer=<name>.");
	if ((v = sampler_attr(a, "num_sets")) &&
	    (rc = parse_count("num_sets", v, 100000, &nsets, err)))
		return rc;
	if ((v = sampler_attr(a, "num_metrics")) &&
	    (rc = parse_count("num_metrics", v, 100000, &nmetrics, err)))
		return rc;
	if (cid && (rc = parse_u64_attr("component_id", cid, 1, &compid, err)))
		return rc;
	s = ts_schema_find(ts, sname);
	if (!s) {
		struct ldmsd_attr list[2];
		char num[24];
		snprintf(def, sizeof(def), "%s", sname);
		snprintf(num, sizeof(num), "%ld", nmetrics);
		list[0].name = "schema";
		list[0].value = def;
		list[1].name = "num_metrics";
		list[1].value = num;
		struct ldmsd_attrs sa = {2, list};
		if ((rc = add_schema(ts, &sa, err)))
			return rc;
		s = ts->schemas;
	}
	if (!base || !*base) {
		snprintf(def, sizeof(def), "%s/%s", prod, sname);
		base = def;
	}
	for (long i = 0; i < nsets; i++) {
		int nlen = snprintf(name, sizeof(name), "%s%ld", base, i);
		if (nlen < 0 || nlen >= LDMS_SET_NAME_MAX)
			return ldms_err_set(err, -EINVAL, "base: set name '%s' is too long.", name);
		if ((rc = set_create(ts, s, name, prod, compid, NULL, a, err)))
			return rc;
	}
	return 0;
}

static int ts_config(struct ldmsd_plugin_handle *h, const struct ldmsd_attrs *a,
		     struct ldms_err *err)
{
	struct test_sampler *ts = h->ctx;
	const char *action = sampler_attr(a, "action");
	if (!action) {
		if (sampler_attr(a, "num_sets") || sampler_attr(a, "num_metrics"))
			return add_default(ts, a, err);
		return 0;
	}
	if (strcmp(action, "add_schema") == 0)
		return add_schema(ts, a, err);
	if (strcmp(action, "add_set") == 0)
		return add_set(ts, a, err);
	if (strcmp(action, "default") == 0)
		return add_default(ts, a, err);
	return ldms_err_set(err, -EINVAL, "action: unrecognized action '%s'.", action);
}

static void sample_set(ldms_set_t set)
{
	int card = (int)ldms_set_card_get(set);
	ldms_transaction_begin(set);
	for (int i = 0; i < card; i++) {
		if (!(ldms_metric_flags_get(set, i) & LDMS_MDESC_F_DATA))
			continue;
		enum ldms_value_type t = ldms_metric_type_get(set, i);
		void *p = (void *)ldms_metric_value_ptr(set, i);
		if (!p || ldms_type_elem_size(t) == 0)
			continue;
		uint64_t v = raw_first_u64(p, t) + 1;
		uint32_t n = ldms_type_is_array(t) ? ldms_metric_array_get_len(set, i) : 1;
		if (t == LDMS_V_CHAR || t == LDMS_V_CHAR_ARRAY) {
			char *c = p;
			if (t == LDMS_V_CHAR) {
				c[0] = (char)('a' + v % 26);
				continue;
			}
			for (uint32_t j = 0; j + 1 < n; j++)
				c[j] = (char)('a' + v % 26);
			if (n)
				c[n - 1] = '\0';
			continue;
		}
		for (uint32_t j = 0; j < n; j++)
			raw_store(p, t, j, v, 0, 0);
	}
	ldms_transaction_end(set);
}

static int ts_sample(struct ldmsd_plugin_handle *h)
{
	struct test_sampler *ts = h->ctx;
	if (!ts)
		return -EINVAL;
	for (struct ts_set *t = ts->sets; t; t = t->next)
		sample_set(t->set);
	return 0;
}

static void ts_term(struct ldmsd_plugin_handle *h)
{
	struct test_sampler *ts = h->ctx;
	if (!ts)
		return;
	while (ts->sets) {
		struct ts_set *t = ts->sets;
		ts->sets = t->next;
		if (t->registered && h->set_deregister)
			h->set_deregister(h, t->set);
		ldms_set_delete(t->set);
		free(t);
	}
	while (ts->schemas) {
		struct ts_schema *s = ts->schemas;
		ts->schemas = s->next;
		ts_schema_free(s);
	}
	free(ts);
	h->ctx = NULL;
}

SAMPLER_PLUGIN(ts, "test_sampler", 1, 1)
