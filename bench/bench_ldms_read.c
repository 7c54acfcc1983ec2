/* Set-read driver over loopback, for benchmarks and the e2e robustness test:
 *   -c N  N cycles of connect / dir / lookup + read of every set / disconnect
 *         (what `ldms_ls -l` does), prints cycles per second;
 *   -t S  one connection, every set looked up once, then all sets re-read in
 *         rounds (all updates in flight at once) for S seconds: prints reads/s.
 * Prints figures only; exits non-zero on any protocol error. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldms/ldms_xprt.h>

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int pending;
	int errors;
	ldms_set_t *sets;
	size_t nsets;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void done_one(struct waiter *w, int err)
{
	pthread_mutex_lock(&w->lock);
	if (err)
		w->errors++;
	w->pending--;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->lock);
}

static int wait_all(struct waiter *w, int secs)
{
	struct timespec ts;
	int rc = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&w->lock);
	while (w->pending > 0 && rc == 0)
		rc = pthread_cond_timedwait(&w->cv, &w->lock, &ts);
	pthread_mutex_unlock(&w->lock);
	return w->pending > 0 ? -ETIMEDOUT : (w->errors ? -EIO : 0);
}

static void lookup_cb(ldms_t x, int status, int more, ldms_set_t s, void *arg)
{
	struct waiter *w = arg;
	if (status == 0 && s) {
		pthread_mutex_lock(&w->lock);
		w->sets[w->nsets++] = ldms_set_get(s);
		pthread_mutex_unlock(&w->lock);
	}
	if (status || !more)
		done_one(w, status);
}

static void update_cb(ldms_t x, ldms_set_t s, int status, void *arg)
{
	done_one(arg, status);
}

static int update_all(struct waiter *w)
{
	size_t i;
	pthread_mutex_lock(&w->lock);
	w->pending = (int)w->nsets;
	w->errors = 0;
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->nsets; i++) {
		int rc = ldms_xprt_update(w->sets[i], update_cb, w);
		if (rc) {
			fprintf(stderr, "update: %s\n", strerror(-rc));
			done_one(w, rc);
		}
	}
	return wait_all(w, 30);
}

/* Connects, lists and looks every set up (one lookup request per set, in flight
 * together). Returns the endpoint or NULL. */
static ldms_t open_all(const char *host, const char *port, const struct ldms_auth_cfg *auth,
		       struct waiter *w, size_t max_sets)
{
	struct ldms_err err;
	struct ldms_dir *dir = NULL;
	ldms_t x = ldms_xprt_new("sock", auth, NULL);
	size_t i, n;
	int rc;
	if (!x)
		return NULL;
	rc = ldms_xprt_connect_sync(x, host, port, 10000, &err);
	if (rc) {
		fprintf(stderr, "connect: %s\n", err.msg);
		ldms_xprt_close(x);
		return NULL;
	}
	rc = ldms_xprt_dir_sync(x, &dir, 10000);
	if (rc) {
		fprintf(stderr, "dir: %s\n", strerror(-rc));
		ldms_xprt_close(x);
		return NULL;
	}
	n = dir->set_count < max_sets ? dir->set_count : max_sets;
	w->sets = calloc(n + 1, sizeof(*w->sets));
	w->nsets = 0;
	w->pending = (int)n;
	w->errors = 0;
	for (i = 0; i < n; i++) {
		rc = ldms_xprt_lookup(x, dir->set_data[i].inst_name, LDMS_LOOKUP_BY_INSTANCE,
				      lookup_cb, w);
		if (rc)
			done_one(w, rc);
	}
	ldms_xprt_dir_free(x, dir);
	if (wait_all(w, 30) || w->nsets != n) {
		fprintf(stderr, "lookup failed (%zu of %zu sets)\n", w->nsets, n);
		ldms_xprt_close(x);
		return NULL;
	}
	return x;
}

static void close_all(ldms_t x, struct waiter *w)
{
	for (size_t i = 0; i < w->nsets; i++)
		ldms_set_put(w->sets[i]);
	free(w->sets);
	w->sets = NULL;
	w->nsets = 0;
	ldms_xprt_close(x);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = NULL, *auth_name = "none";
	char *auth_kv[LDMS_AUTH_ARGS_MAX];
	int nauth = 0, op, cycles = 0;
	double seconds = 0;
	size_t max_sets = (size_t)-1;
	struct ldms_auth_cfg auth;
	struct ldms_err err;
	struct waiter w;

	while ((op = getopt(argc, argv, "h:p:a:A:c:t:n:")) != -1) {
		switch (op) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'a':
			auth_name = optarg;
			break;
		case 'A':
			if (nauth < LDMS_AUTH_ARGS_MAX)
				auth_kv[nauth++] = optarg;
			break;
		case 'c':
			cycles = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_sets = (size_t)atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (!port || (cycles <= 0 && seconds <= 0))
		goto usage;
	if (ldms_auth_cfg_init(&auth, auth_name, nauth, auth_kv, &err)) {
		fprintf(stderr, "auth: %s\n", err.msg);
		return 1;
	}
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.sets = NULL;
	w.nsets = 0;

	if (cycles > 0) {
		double t0 = now_s();
		size_t sets = 0;
		for (int c = 0; c < cycles; c++) {
			ldms_t x = open_all(host, port, &auth, &w, max_sets);
			if (!x) {
				fprintf(stderr, "cycle %d failed\n", c);
				return 1;
			}
			if (update_all(&w)) {
				fprintf(stderr, "cycle %d: read failed\n", c);
				return 1;
			}
			sets = w.nsets;
			close_all(x, &w);
		}
		double dt = now_s() - t0;
		printf("cycles %d, sets per cycle %zu, %.2f s, %.0f cycles/s\n", cycles, sets, dt,
		       cycles / dt);
	} else {
		ldms_t x = open_all(host, port, &auth, &w, max_sets);
		long reads = 0, rounds = 0;
		if (!x)
			return 1;
		double t0 = now_s(), dt;
		do {
			if (update_all(&w)) {
				fprintf(stderr, "read failed\n");
				return 1;
			}
			reads += (long)w.nsets;
			rounds++;
			dt = now_s() - t0;
		} while (dt < seconds);
		struct ldms_xprt_stats st;
		ldms_xprt_stats_get(&st);
		printf("sets %zu, rounds %ld, reads %ld in %.2f s: %.0f set reads/s, %.1f MB/s "
		       "received\n",
		       w.nsets, rounds, reads, dt, reads / dt, (double)st.bytes_rx / dt / 1e6);
		close_all(x, &w);
	}
	ldms_auth_cfg_free(&auth);
	ldms_fini();
	return 0;
usage:
	fprintf(stderr,
		"usage: %s [-h host] -p port [-a auth] [-A k=v]... (-c cycles | -t seconds) "
		"[-n max_sets]\n",
		argv[0]);
	return 2;
}
