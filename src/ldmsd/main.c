/* ldmsd's main(): command line, the start-up sequence of ldms-protocol.md §1.2
 * (priority pass over every -c/-y in order, start transports and listeners, normal
 * pass, deferred starts, in-band configuration), signals (they only set flags) and
 * the clean shutdown. -y converts YAML with maestro_ctrl when it is available. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ldmsd_cmd.h"
#include "ldmsd_config.h"
#include "ldmsd.h"
#include "ldmsd_options.h"

static volatile sig_atomic_t sig_exit;
static volatile sig_atomic_t sig_hup;

static void on_exit_signal(int signo)
{
	sig_exit = signo;
}

static void on_hup(int signo)
{
	sig_hup = 1;
}

static void report(struct ldmsd *d, const struct ldms_err *e)
{
	char buf[1200];
	const char *s = ldms_err_str(e, buf, sizeof(buf));
	fprintf(stderr, "ldmsd: %s\n", s);
	/* also in the log, unless the log is the terminal already */
	if (d->s.log_file && strcmp(d->s.log_file, "-"))
		ldms_log(LDMS_LCRITICAL, LDMSD_LOG, "%s", s);
}

/* ---- -y: YAML through maestro_ctrl -------------------------------------------------------- */
static char *find_converter(struct ldmsd *d)
{
	char *p = NULL;
	const char *name = "maestro_ctrl";
	if (asprintf(&p, "%s/../bin/%s", d->exe_dir, name) >= 0 && !access(p, X_OK))
		return p;
	free(p);
	if (asprintf(&p, "%s/%s", d->exe_dir, name) >= 0 && !access(p, X_OK))
		return p;
	free(p);
	const char *path = getenv("PATH");
	char *copy = path ? strdup(path) : NULL, *save = NULL;
	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
	     dir = strtok_r(NULL, ":", &save)) {
		if (asprintf(&p, "%s/%s", dir, name) >= 0 && !access(p, X_OK)) {
			free(copy);
			return p;
		}
		free(p);
	}
	free(copy);
	return NULL;
}

static int yaml_convert(struct ldmsd *d, const char *file, char **text, size_t *len,
			struct ldms_err *err)
{
	if (!d->s.daemon_name)
		return ldms_err_set(err, -EINVAL,
				    "-y %s: the daemon name (-n) is required to "
				    "select this daemon's configuration",
				    file);
	char *conv = find_converter(d);
	if (!conv)
		return ldms_err_set(err, -ENOTSUP,
				    "-y %s: YAML configuration is not supported yet (maestro_ctrl "
				    "was not found next to ldmsd or in PATH)",
				    file);
	int fds[2];
	if (pipe(fds)) {
		free(conv);
		return ldms_err_set(err, -errno, "-y: pipe: %s", strerror(errno));
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		free(conv);
		return ldms_err_set(err, -e, "-y: fork: %s", strerror(e));
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		char *const av[] = {
		    conv, "--ldms_config", (char *)file, "--daemon_name", d->s.daemon_name, NULL};
		execv(conv, av);
		_exit(127);
	}
	close(fds[1]);
	struct ldmsd_buf b = {0};
	char chunk[8192];
	ssize_t n;
	int rc = 0;
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || ldmsd_buf_append(&b, chunk, (size_t)n)) {
			rc = ldms_err_set(err, -EIO, "-y %s: cannot read the converter's output",
					  file);
			break;
		}
	}
	close(fds[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!rc && (!WIFEXITED(st) || WEXITSTATUS(st)))
		rc = ldms_err_set(err, -EINVAL, "-y %s: %s failed (status %d)", file, conv,
				  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	free(conv);
	if (rc) {
		ldmsd_buf_free(&b);
		return rc;
	}
	*text = b.s;
	*len = b.len;
	return 0;
}

static int run_configs(struct ldmsd *d, struct ldmsd_cli *cli, struct ldmsd_cfg_run *run,
		       struct ldms_err *err)
{
	for (int i = 0; i < cli->n_cfgs; i++) {
		const struct ldmsd_cli_cfg *c = &cli->cfgs[i];
		int rc;
		if (c->is_yaml) {
			char *text = NULL;
			size_t len = 0;
			rc = yaml_convert(d, c->path, &text, &len, err);
			if (!rc)
				rc = ldmsd_cfg_run_text(run, c->path, text ? text : "", len, err);
			free(text);
		} else {
			rc = ldmsd_cfg_run_file(run, c->path, err);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct ldmsd_cli cli = {0};
	struct ldms_err err;
	int rc, status = 1;
	ldms_err_clear(&err);
	ldms_log_level_set(LDMS_LERROR);

	struct ldmsd *d = ldmsd_new();
	if (!d) {
		fprintf(stderr, "ldmsd: out of memory\n");
		return 1;
	}
	rc = ldmsd_options_parse(d, argc, argv, 1, &cli, "the command line", &err);
	if (rc) {
		fprintf(stderr, "ldmsd: %s\nTry 'ldmsd -h' for more information.\n", err.msg);
		goto out;
	}
	if (cli.help) {
		ldmsd_usage(stdout, "ldmsd");
		status = 0;
		goto out;
	}
	if (cli.version) {
		ldmsd_version_print(stdout);
		status = 0;
		goto out;
	}
	if (cli.usage_plugin) {
		rc = ldmsd_plugin_usage_print(d, cli.usage_plugin, &err);
		if (rc)
			fprintf(stderr, "ldmsd: %s\n", err.msg);
		status = rc ? 1 : 0;
		goto out;
	}
	if (!cli.n_cfgs && !ldmsd_listen_count(d)) {
		fprintf(stderr, "ldmsd: nothing to do: give a listener (-x) or a configuration "
				"file (-c, -y)\nTry 'ldmsd -h' for more information.\n");
		goto out;
	}

	/* Threads created from here on inherit the blocked mask: only main() sees the
	 * signals, in sigsuspend() below. */
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &orig);
	struct sigaction sa = {0};
	sa.sa_handler = on_exit_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ldmsd_cfg_run *run =
	    ldmsd_cfg_run_new(d, cli.check ? LDMSD_CFG_CHECK : LDMSD_CFG_STARTUP);
	if (!run) {
		fprintf(stderr, "ldmsd: out of memory\n");
		goto out;
	}
	rc = run_configs(d, &cli, run, &err);
	if (rc) {
		report(d, &err);
		ldmsd_cfg_run_free(run);
		goto out;
	}
	if (cli.check) {
		printf("ldmsd: configuration OK\n");
		ldmsd_cfg_run_free(run);
		status = 0;
		goto out;
	}
	rc = ldmsd_start(d, &err);
	if (!rc)
		rc = ldmsd_cfg_run_finish(run, &err);
	ldmsd_cfg_run_free(run);
	if (rc) {
		report(d, &err);
		goto out;
	}
	for (int i = 0; i < cli.n_cfgs; i++)
		ldms_log(LDMS_LINFO, LDMSD_LOG, "Processing the config file '%s' is done.",
			 cli.cfgs[i].path);
	ldms_log(LDMS_LINFO, LDMSD_LOG, "Enabling in-band config");
	d->inband = 1;

	d->wake_main = 1;
	while (!sig_exit && !d->exit_requested) {
		sigsuspend(&orig);
		if (sig_hup) {
			sig_hup = 0;
			if (ldms_log_reopen())
				fprintf(stderr, "ldmsd: cannot reopen the log file\n");
			ldms_log(LDMS_LINFO, LDMSD_LOG, "log file reopened (SIGHUP)");
		}
	}
	if (d->exit_requested)
		ldms_log(LDMS_LINFO, LDMSD_LOG, "exit requested, exiting");
	else
		ldms_log(LDMS_LINFO, LDMSD_LOG, "received signal %d, exiting", (int)sig_exit);
	status = 0;
out:
	ldmsd_free(d);
	ldmsd_cli_free(&cli);
	ldms_log_close();
	return status;
}
