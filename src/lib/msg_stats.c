/* The message service's statistics as JSON text with upstream's shapes (B.9,
 * golden/ldms/ctl_samp1.json.txt): msg_stats (per tag: rx, sources, clients),
 * msg_client_stats (per client: tx, drops, channels) and the per-connection
 * flow-control observables. Timestamps print as S.NNNNNNNNN; an empty counter
 * has first_ts = 9223372036854775807.999999999 and last_ts = 0.000000000. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"

/* JSON string with escapes; bytes that are not UTF-8 become U+FFFD so that any
 * JSON parser accepts the text whatever a peer put in a tag. */
static void jstr(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		int n = c < 0x80	 ? 1
			: (c >> 5) == 6	 ? 2
			: (c >> 4) == 14 ? 3
			: (c >> 3) == 30 ? 4
					 : 0;
		int ok = n > 0;
		for (int i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
		p++;
	}
	fputc('"', f);
}

static void counters(FILE *f, const struct msg_counters *c)
{
	fprintf(f, "{\"bytes\":%llu,\"count\":%llu,", (unsigned long long)c->bytes,
		(unsigned long long)c->count);
	if (c->count)
		fprintf(f, "\"first_ts\":%lld.%09ld,\"last_ts\":%lld.%09ld}",
			(long long)c->first.tv_sec, c->first.tv_nsec, (long long)c->last.tv_sec,
			c->last.tv_nsec);
	else
		fputs("\"first_ts\":9223372036854775807.999999999,\"last_ts\":0.000000000}", f);
}

static int chan_cmp(const void *a, const void *b)
{
	return strcmp((*(struct msg_chan *const *)a)->tag, (*(struct msg_chan *const *)b)->tag);
}

/* Every channel sorted by tag (lock held); malloc'ed, *n filled. */
static struct msg_chan **chans_sorted(size_t *n)
{
	struct msg_chan **v = calloc(msg_g.n_chans ? msg_g.n_chans : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < MSG_CHAN_BUCKETS; i++)
		for (struct msg_chan *ch = msg_g.chans[i]; ch; ch = ch->hnext)
			if (k < msg_g.n_chans)
				v[k++] = ch;
	qsort(v, k, sizeof(*v), chan_cmp);
	*n = k;
	return v;
}

static void bind_obj(FILE *f, const char *tag, const struct msg_bind *b)
{
	fputs("{\"msg_tag\":", f);
	jstr(f, tag);
	fputs(",\"client_match\":", f);
	jstr(f, b->c->match);
	fputs(",\"client_desc\":", f);
	jstr(f, b->c->desc);
	fprintf(f, ",\"is_regex\":%d,\"drops\":", b->c->is_regex);
	counters(f, &b->drops);
	fputs(",\"tx\":", f);
	counters(f, &b->tx);
	fputc('}', f);
}

static int text_done(FILE *f, char **buf, char **json)
{
	if (fclose(f)) {
		free(*buf);
		return -ENOMEM;
	}
	*json = *buf;
	return 0;
}

int ldms_msg_stats_json(const char *regex, const char *tag, int reset, char **json)
{
	struct ldms_err err;
	struct msg_chan **v;
	regex_t re;
	size_t n = 0, len = 0;
	char *buf = NULL;
	int first = 1;
	FILE *f;

	*json = NULL;
	if (!ldms_msg_is_enabled())
		return -ENOTSUP;
	if (regex) {
		ldms_err_clear(&err);
		if (ldms_regex_check(regex, &err) || regcomp(&re, regex, REG_EXTENDED | REG_NOSUB))
			return -EINVAL;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		if (regex)
			regfree(&re);
		return -ENOMEM;
	}
	pthread_mutex_lock(&msg_g.lock);
	v = chans_sorted(&n);
	fputc('[', f);
	for (size_t i = 0; v && i < n; i++) {
		struct msg_chan *ch = v[i];
		if (tag && strcmp(tag, ch->tag))
			continue;
		if (regex && regexec(&re, ch->tag, 0, NULL, 0))
			continue;
		fputs(first ? "{\"msg_tag\":" : ",{\"msg_tag\":", f);
		first = 0;
		jstr(f, ch->tag);
		fputs(",\"rx\":", f);
		counters(f, &ch->rx);
		fputs(",\"sources\":{", f);
		for (struct msg_src_stat *s = ch->srcs; s; s = s->next) {
			jstr(f, s->src);
			fputc(':', f);
			counters(f, &s->rx);
			if (s->next)
				fputc(',', f);
		}
		fputs("},\"clients\":[", f);
		for (struct msg_bind *b = ch->binds; b; b = b->next) {
			bind_obj(f, ch->tag, b);
			if (b->next)
				fputc(',', f);
		}
		fputs("]}", f);
		if (reset) {
			memset(&ch->rx, 0, sizeof(ch->rx));
			for (struct msg_src_stat *s = ch->srcs; s; s = s->next)
				memset(&s->rx, 0, sizeof(s->rx));
			for (struct msg_bind *b = ch->binds; b; b = b->next) {
				memset(&b->tx, 0, sizeof(b->tx));
				memset(&b->drops, 0, sizeof(b->drops));
			}
		}
	}
	fputc(']', f);
	pthread_mutex_unlock(&msg_g.lock);
	free(v);
	if (regex)
		regfree(&re);
	return text_done(f, &buf, json);
}

static void client_obj(FILE *f, struct ldms_msg_client *c, struct msg_chan **v, size_t n, int reset)
{
	int first = 1;

	fputs("{\"match\":", f);
	jstr(f, c->match);
	fputs(",\"desc\":", f);
	jstr(f, c->desc);
	fputs(",\"dest\":", f);
	jstr(f, c->dest);
	fputs(",\"tx\":", f);
	counters(f, &c->tx);
	fputs(",\"drops\":", f);
	counters(f, &c->drops);
	fputs(",\"channels\":[", f);
	for (size_t i = 0; v && i < n; i++) {
		struct msg_bind *b = msg_bind_find(v[i], c);
		if (!b)
			continue;
		if (!first)
			fputc(',', f);
		first = 0;
		bind_obj(f, v[i]->tag, b);
		if (reset) {
			memset(&b->tx, 0, sizeof(b->tx));
			memset(&b->drops, 0, sizeof(b->drops));
		}
	}
	fputs("]}", f);
	if (reset) {
		memset(&c->tx, 0, sizeof(c->tx));
		memset(&c->drops, 0, sizeof(c->drops));
	}
}

int ldms_msg_client_stats_json(int reset, char **json)
{
	struct msg_chan **v;
	size_t n = 0, len = 0;
	char *buf = NULL;
	int first = 1;
	FILE *f;

	*json = NULL;
	if (!ldms_msg_is_enabled())
		return -ENOTSUP;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&msg_g.lock);
	v = chans_sorted(&n);
	fputc('[', f);
	/* regex clients first, then exact clients (upstream's order) */
	for (int pass = 1; pass >= 0; pass--)
		for (struct ldms_msg_client *c = msg_g.clients; c; c = c->next) {
			if (c->is_regex != pass)
				continue;
			if (!first)
				fputc(',', f);
			first = 0;
			client_obj(f, c, v, n, reset);
		}
	fputc(']', f);
	pthread_mutex_unlock(&msg_g.lock);
	free(v);
	return text_done(f, &buf, json);
}

int ldms_msg_conn_stats_json(char **json)
{
	struct ldms_msg_conn_stats st;
	size_t len = 0;
	char *buf = NULL;
	FILE *f;

	*json = NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputc('[', f);
	pthread_mutex_lock(&msg_g.lock);
	for (struct msg_conn *k = msg_g.conn_list; k; k = k->next) {
		memset(&st, 0, sizeof(st));
		st.send_budget = k->budget;
		st.peer_quota = k->peer_quota;
		st.pending = k->npend;
		st.pending_bytes = k->pend_bytes;
		st.queued = k->queued;
		st.dropped = k->dropped;
		st.deposits = k->deposits;
		st.returned = atomic_load(&k->returned);
		fputs("{\"peer\":", f);
		jstr(f, k->peer);
		fprintf(f,
			",\"send_budget\":%lld,\"peer_quota\":%lld,\"pending\":%llu,"
			"\"pending_bytes\":%llu,\"queued\":%llu,\"dropped\":%llu,\"deposits\":%llu,"
			"\"returned\":%llu,\"closed\":%d}",
			(long long)st.send_budget, (long long)st.peer_quota,
			(unsigned long long)st.pending, (unsigned long long)st.pending_bytes,
			(unsigned long long)st.queued, (unsigned long long)st.dropped,
			(unsigned long long)st.deposits, (unsigned long long)st.returned,
			atomic_load(&k->closed) ? 1 : 0);
		if (k->next)
			fputc(',', f);
	}
	pthread_mutex_unlock(&msg_g.lock);
	fputc(']', f);
	return text_done(f, &buf, json);
}
