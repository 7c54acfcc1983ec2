/* The daemon object's life cycle: defaults, start-up after the priority pass
 * (transport threads, DEFAULT auth domain, listeners, pid/banner files, scheduler)
 * and the orderly shutdown (samplers stopped, plugins unloaded so they delete their
 * sets, listeners closed, files removed). */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldms/ldms_set.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_dump.h"
#include "ldmsd_options.h"
#include "ldmsd_sched.h"
#include "ldmsd_verbs.h"

struct ldmsd *ldmsd_new(void)
{
	struct ldmsd *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&d->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	TAILQ_INIT(&d->auth_doms);
	TAILQ_INIT(&d->listeners);
	TAILQ_INIT(&d->plugins);
	d->s.log_level = LDMS_LERROR;
	d->s.worker_threads = 1;
	d->s.default_quota = -1;
	d->s.banner = 1;
	d->s.msg_enabled = 1;
	d->s.set_memory = 512 * 1024;
	const char *mem = getenv("LDMSD_MEM_SZ");
	int64_t sz;
	if (mem && !ldms_parse_size(mem, &sz) && sz > 0)
		d->s.set_memory = sz;
	snprintf(d->s.auth_plugin, sizeof(d->s.auth_plugin), "none");
	ldmsd_ctrl_install(d);

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(d->exe_dir, sizeof(d->exe_dir), "%s", dirname(exe));
	} else {
		snprintf(d->exe_dir, sizeof(d->exe_dir), ".");
	}
	return d;
}

static const char *pid_path(struct ldmsd *d)
{
	if (d->s.pid_file)
		return d->s.pid_file;
	const char *e = getenv("LDMSD_PIDFILE");
	return e && *e ? e : NULL;
}

static int write_file(const char *path, const char *text, struct ldms_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return ldms_err_set(err, -errno, "cannot write '%s': %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f))
		return ldms_err_set(err, -errno, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static int pid_files_write(struct ldmsd *d, struct ldms_err *err)
{
	const char *p = pid_path(d);
	if (!p)
		return 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int rc = write_file(p, buf, err);
	if (rc || d->s.banner == 0)
		return rc;
	char *vpath = NULL, *text = NULL;
	size_t tlen = 0;
	if (asprintf(&vpath, "%s.version", p) < 0)
		return ldms_err_set(err, -ENOMEM, "out of memory");
	FILE *m = open_memstream(&text, &tlen);
	if (!m) {
		free(vpath);
		return ldms_err_set(err, -ENOMEM, "out of memory");
	}
	ldmsd_version_print(m);
	fclose(m);
	rc = write_file(vpath, text, err);
	free(text);
	free(vpath);
	return rc;
}

static void pid_files_remove(struct ldmsd *d)
{
	const char *p = pid_path(d);
	if (!p)
		return;
	unlink(p);
	if (d->s.banner == 1) {
		char *vpath;
		if (asprintf(&vpath, "%s.version", p) >= 0) {
			unlink(vpath);
			free(vpath);
		}
	}
}

int ldmsd_start(struct ldmsd *d, struct ldms_err *err)
{
	int rc;
	if (d->state != LDMSD_STATE_STARTUP)
		return ldms_err_set(err, -EALREADY, "ldmsd is already started");
	rc = ldms_init(d->s.worker_threads);
	if (rc)
		return ldms_err_set(err, rc, "cannot start the transport threads: %s",
				    strerror(-rc));
	d->ldms_inited = 1;
	if (!ldmsd_auth_dom_find(d, LDMSD_DEFAULT_AUTH_DOM)) {
		rc = ldmsd_auth_dom_add(d, LDMSD_DEFAULT_AUTH_DOM, d->s.auth_plugin, d->s.auth_argc,
					d->s.auth_args, err);
		if (rc)
			return rc;
	}
	rc = ldmsd_listen_start_all(d, err);
	if (rc)
		return rc;
	if (!d->sched) {
		d->sched = ldmsd_sched_new(err);
		if (!d->sched)
			return err && err->rc ? err->rc : -ENOMEM;
	}
	rc = pid_files_write(d, err);
	if (rc)
		return rc;
	d->state = LDMSD_STATE_RUNNING;
	return 0;
}

void ldmsd_shutdown(struct ldmsd *d)
{
	if (d->state == LDMSD_STATE_STOPPING)
		return;
	int was_running = d->state == LDMSD_STATE_RUNNING;
	d->state = LDMSD_STATE_STOPPING;
	ldmsd_agg_shutdown(d); /* before the store plugins and the scheduler go */
	/* pending oneshots use plugins and the scheduler */
	ldmsd_verbs_shutdown(d);
	pthread_mutex_lock(&d->lock);
	ldmsd_plugins_term_all(d);
	ldmsd_listen_close_all(d);
	pthread_mutex_unlock(&d->lock);
	ldmsd_sched_free(d->sched);
	d->sched = NULL;
	if (was_running)
		pid_files_remove(d);
	ldmsd_auth_doms_free(d);
	if (d->ldms_inited) {
		ldms_fini();
		d->ldms_inited = 0;
	}
}

void ldmsd_request_exit(struct ldmsd *d)
{
	d->exit_requested = 1;
	if (d->wake_main)
		kill(getpid(), SIGTERM);
}

void ldmsd_free(struct ldmsd *d)
{
	if (!d)
		return;
	ldmsd_shutdown(d);
	ldmsd_dump_free(d);
	struct ldmsd_settings *s = &d->s;
	free(s->log_file);
	free(s->log_config_path);
	free(s->daemon_name);
	free(s->pid_file);
	free(s->publish_kernel);
	for (int i = 0; i < s->auth_argc; i++)
		free(s->auth_args[i]);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
