/* The local-file back end of the configuration store (cfgstore.h), for maestro's embedded
 * mode: one JSON file replaced with rename() (readers see the old or the new file),
 * writers serialised by flock() on "<path>.lock", changes noticed by polling stat(). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ldms/ldms_util.h"
#include "cfgstore.h"
#include "etcd_kv.h"

#define FILE_FORMAT "ldms-c cfgstore 1"
#define POLL_MS	    200

struct cfgstore_file {
	struct cfgstore base;
	char *path;
	pthread_mutex_t mu;
	uint64_t last_gen;
	cfgstore_watch_cb cb;
	void *cb_arg;
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_cond_t cv;
};

/* Parses the file; 0, -ENOENT (no file) or -EINVAL/-EIO with err set. out may be NULL
 * (generation only). */
static int load(struct cfgstore_file *s, struct maestro_kvlist *out, uint64_t *gen,
		struct ldms_err *err)
{
	json_error_t je;
	json_t *o = json_load_file(s->path, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		if (access(s->path, F_OK) && errno == ENOENT)
			return ldms_err_set(err, -ENOENT, "%s: no configuration written yet",
					    s->path);
		return ldms_err_set_loc(err, -EINVAL, s->path, je.line, je.column, "%s", je.text);
	}
	int rc = 0;
	json_t *fmt = json_object_get(o, "format"), *g = json_object_get(o, "generation");
	json_t *kvs = json_object_get(o, "kvs");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), FILE_FORMAT) ||
	    !json_is_integer(g) || json_integer_value(g) < 1 || !json_is_array(kvs)) {
		rc = ldms_err_set(err, -EINVAL, "%s: not a maestro configuration store file",
				  s->path);
		goto out;
	}
	size_t i;
	json_t *e;
	json_array_foreach(kvs, i, e)
	{
		json_t *k = json_array_get(e, 0), *v = json_array_get(e, 1);
		if (json_array_size(e) != 2 || !json_is_string(k) || !json_is_string(v)) {
			rc = ldms_err_set(err, -EINVAL, "%s: entry %zu is not a [key, value] pair",
					  s->path, i);
			goto out;
		}
		if (out && maestro_kvlist_add(out, json_string_value(k), json_string_value(v))) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (gen)
		*gen = (uint64_t)json_integer_value(g);
out:
	json_decref(o);
	return rc;
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

static int file_write(struct cfgstore *base, const struct maestro_kvlist *kvs, uint64_t *generation,
		      struct ldms_err *err)
{
	struct cfgstore_file *s = (struct cfgstore_file *)base;
	char *lock = NULL, *tmp = NULL;
	int lfd = -1, rc = 0;
	json_t *o = NULL;
	if (asprintf(&lock, "%s.lock", s->path) < 0 ||
	    asprintf(&tmp, "%s.tmp.%d", s->path, (int)getpid()) < 0) {
		lock = tmp = NULL;
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(lfd, LOCK_EX)) {
		rc = ldms_err_set(err, -errno, "%s: %s", lock, strerror(errno));
		goto out;
	}
	uint64_t g = 0;
	struct ldms_err e2;
	ldms_err_clear(&e2);
	rc = load(s, NULL, &g, &e2);
	if (rc && rc != -ENOENT) { /* never overwrite a file that is not ours */
		*err = e2;
		goto out;
	}
	rc = 0;
	g++;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char tval[48];
	snprintf(tval, sizeof(tval), "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	o = json_object();
	json_t *a = json_array();
	if (!o || !a || json_object_set_new(o, "format", json_string(FILE_FORMAT)) ||
	    json_object_set_new(o, "generation", json_integer((json_int_t)g)) ||
	    json_object_set_new(o, "last_updated", json_string(tval)) ||
	    json_object_set_new(o, "kvs", a)) {
		rc = ldms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < kvs->count; i++) {
		json_t *k = json_string(kvs->kv[i].key), *v = json_string(kvs->kv[i].value);
		json_t *pair = json_array();
		if (!k || !v || !pair) {
			json_decref(k);
			json_decref(v);
			json_decref(pair);
			rc = ldms_err_set(err, -EINVAL, "%s: key or value of %s is not UTF-8 text",
					  s->path, kvs->kv[i].key);
			goto out;
		}
		json_array_append_new(pair, k);
		json_array_append_new(pair, v);
		if (json_array_append_new(a, pair)) {
			rc = ldms_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ldms_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (json_dumpfd(o, fd, JSON_INDENT(1)) || write(fd, "\n", 1) != 1 || fsync(fd)) {
		rc = ldms_err_set(err, errno ? -errno : -EIO, "%s: write failed", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, s->path)) {
		rc = ldms_err_set(err, -errno, "%s: %s", s->path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fsync_dir(s->path);
	if (generation)
		*generation = g;
out:
	json_decref(o);
	if (lfd >= 0)
		close(lfd); /* releases the lock */
	free(lock);
	free(tmp);
	return rc;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct maestro_kv *)a)->key, ((const struct maestro_kv *)b)->key);
}

static int file_read(struct cfgstore *base, struct maestro_kvlist *out, uint64_t *generation,
		     struct ldms_err *err)
{
	struct cfgstore_file *s = (struct cfgstore_file *)base;
	size_t before = out->count;
	uint64_t g = 0;
	int rc = load(s, out, &g, err);
	if (rc)
		return rc;
	/* byte order of keys, as the etcd back end returns them */
	qsort(out->kv + before, out->count - before, sizeof(out->kv[0]), cmp_kv);
	pthread_mutex_lock(&s->mu);
	s->last_gen = g;
	pthread_mutex_unlock(&s->mu);
	if (generation)
		*generation = g;
	return 0;
}

static void *poll_thread(void *arg)
{
	struct cfgstore_file *s = arg;
	struct stat last = {0};
	int have_last = 0, failing = 0;
	while (!atomic_load(&s->stop)) {
		struct stat st;
		int changed;
		if (stat(s->path, &st)) {
			changed = have_last;
			have_last = 0;
		} else {
			changed = !have_last || st.st_ino != last.st_ino ||
				  st.st_size != last.st_size ||
				  st.st_mtim.tv_sec != last.st_mtim.tv_sec ||
				  st.st_mtim.tv_nsec != last.st_mtim.tv_nsec;
			last = st;
			have_last = 1;
		}
		if (changed && have_last) {
			uint64_t g = 0;
			struct ldms_err e;
			ldms_err_clear(&e);
			int rc = load(s, NULL, &g, &e);
			pthread_mutex_lock(&s->mu);
			int news = !rc && g != s->last_gen;
			if (news)
				s->last_gen = g;
			pthread_mutex_unlock(&s->mu);
			if (news || (rc && !failing)) {
				struct cfgstore_event ev = {
				    .generation = g, .rc = rc, .msg = e.msg};
				s->cb(&ev, s->cb_arg);
			}
			failing = rc != 0;
			if (rc) /* look again next time */
				have_last = 0;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->mu);
		if (!atomic_load(&s->stop))
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static int file_watch(struct cfgstore *base, cfgstore_watch_cb cb, void *arg, struct ldms_err *err)
{
	struct cfgstore_file *s = (struct cfgstore_file *)base;
	if (s->started)
		return ldms_err_set(err, -EBUSY, "cfgstore: already watched");
	s->cb = cb;
	s->cb_arg = arg;
	int rc = pthread_create(&s->thread, NULL, poll_thread, s);
	if (rc)
		return ldms_err_set(err, -rc, "cfgstore: cannot start a thread");
	s->started = 1;
	return 0;
}

static void file_close(struct cfgstore *base)
{
	struct cfgstore_file *s = (struct cfgstore_file *)base;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

static const struct cfgstore_ops file_ops = {
    .name = "file",
    .write = file_write,
    .read = file_read,
    .watch = file_watch,
    .close = file_close,
};

int cfgstore_open_file(const char *path, struct cfgstore **out, struct ldms_err *err)
{
	if (!path || !*path)
		return ldms_err_set(err, -EINVAL, "cfgstore: no file name");
	struct cfgstore_file *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	s->base.ops = &file_ops;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	atomic_init(&s->stop, 0);
	*out = &s->base;
	return 0;
}
