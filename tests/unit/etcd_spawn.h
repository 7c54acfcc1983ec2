/* Starts private etcd servers for the C tests and the benchmark: Debian's /usr/bin/etcd
 * (or $LDMSC_ETCD) on free 127.0.0.1 ports, a temporary data directory, one member or a
 * cluster of several; waits until each answers; etcd_spawn_stop() kills them and removes
 * the directory. Header-only so that tests/unit and bench/ can share it. */
#ifndef LDMSC_ETCD_SPAWN_H
#define LDMSC_ETCD_SPAWN_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ldms/ldms_util.h"
#include "etcd.h"

#define ETCD_SPAWN_MAX 5

struct etcd_spawn {
	int n;
	pid_t pid[ETCD_SPAWN_MAX];
	int client_port[ETCD_SPAWN_MAX], peer_port[ETCD_SPAWN_MAX];
	char url[ETCD_SPAWN_MAX][64];
	char dir[256];
	char cluster[512];
};

static inline const char *etcd_spawn_binary(void)
{
	const char *b = getenv("LDMSC_ETCD");
	return b && *b ? b : "/usr/bin/etcd";
}

static inline int etcd_spawn_available(void)
{
	return access(etcd_spawn_binary(), X_OK) == 0;
}

/* Ports are taken by binding port 0 and closing: good enough on a test machine. Keep all
 * sockets open until every port is chosen so that no two are the same. */
static inline int etcd_spawn_ports(int *ports, int n)
{
	int fds[2 * ETCD_SPAWN_MAX];
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(a);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(fds[i], (struct sockaddr *)&a, &len)) {
			rc = -errno;
			n = i + 1;
			break;
		}
		ports[i] = ntohs(a.sin_port);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

static inline pid_t etcd_spawn_member(struct etcd_spawn *s, int i, const char *cluster)
{
	char name[16], data[300], log[300], curls[64], purls[64];
	snprintf(name, sizeof(name), "m%d", i);
	snprintf(data, sizeof(data), "%s/%s.etcd", s->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", s->dir, name);
	snprintf(curls, sizeof(curls), "http://127.0.0.1:%d", s->client_port[i]);
	snprintf(purls, sizeof(purls), "http://127.0.0.1:%d", s->peer_port[i]);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		execl(etcd_spawn_binary(), "etcd", "--name", name, "--data-dir", data,
		      "--listen-client-urls", curls, "--advertise-client-urls", curls,
		      "--listen-peer-urls", purls, "--initial-advertise-peer-urls", purls,
		      "--initial-cluster", cluster, "--initial-cluster-state", "new",
		      "--initial-cluster-token", s->dir, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static inline void etcd_spawn_stop(struct etcd_spawn *s)
{
	for (int i = 0; i < s->n; i++) {
		if (s->pid[i] <= 0)
			continue;
		kill(s->pid[i], SIGTERM);
		int st;
		for (int k = 0; k < 100 && waitpid(s->pid[i], &st, WNOHANG) == 0; k++)
			usleep(50000);
		if (waitpid(s->pid[i], &st, WNOHANG) == 0) {
			kill(s->pid[i], SIGKILL);
			waitpid(s->pid[i], &st, 0);
		}
		s->pid[i] = 0;
	}
	if (s->dir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd))
			fprintf(stderr, "etcd_spawn: cannot remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}

/* Stops one member (to test failover). */
static inline void etcd_spawn_kill(struct etcd_spawn *s, int i)
{
	if (s->pid[i] > 0) {
		kill(s->pid[i], SIGKILL);
		waitpid(s->pid[i], NULL, 0);
		s->pid[i] = 0;
	}
}

/* Restarts a stopped member on its ports and data (does not wait for it). */
static inline int etcd_spawn_restart(struct etcd_spawn *s, int i)
{
	if (s->pid[i] > 0)
		return 0;
	s->pid[i] = etcd_spawn_member(s, i, s->cluster);
	return s->pid[i] > 0 ? 0 : -EAGAIN;
}

/* Starts n members and waits (up to timeout_s) until each answers a range request. */
static inline int etcd_spawn_start(struct etcd_spawn *s, int n, int timeout_s)
{
	memset(s, 0, sizeof(*s));
	if (n < 1 || n > ETCD_SPAWN_MAX)
		return -EINVAL;
	snprintf(s->dir, sizeof(s->dir), "/tmp/ldmsc-etcd-XXXXXX");
	if (!mkdtemp(s->dir)) {
		s->dir[0] = '\0';
		return -errno;
	}
	int ports[2 * ETCD_SPAWN_MAX];
	int rc = etcd_spawn_ports(ports, 2 * n);
	if (rc)
		return rc;
	char *cluster = s->cluster;
	for (int i = 0; i < n; i++) {
		s->client_port[i] = ports[2 * i];
		s->peer_port[i] = ports[2 * i + 1];
		snprintf(s->url[i], sizeof(s->url[i]), "http://127.0.0.1:%d", s->client_port[i]);
		size_t used = strlen(cluster);
		snprintf(cluster + used, sizeof(s->cluster) - used, "%sm%d=http://127.0.0.1:%d",
			 i ? "," : "", i, s->peer_port[i]);
	}
	s->n = n;
	for (int i = 0; i < n; i++)
		if ((s->pid[i] = etcd_spawn_member(s, i, cluster)) < 0) {
			etcd_spawn_stop(s);
			return -EAGAIN;
		}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		const char *u = s->url[i];
		struct etcd_client *c;
		struct ldms_err err;
		if (etcd_client_new(&u, 1, &c, &err)) {
			etcd_spawn_stop(s);
			return err.rc;
		}
		etcd_client_set_timeouts(c, 200, 1000);
		for (;;) {
			struct etcd_range_result r;
			if (!etcd_range(c, "health", NULL, &r, &err)) {
				etcd_range_result_free(&r);
				break;
			}
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			int st, dead = waitpid(s->pid[i], &st, WNOHANG) > 0;
			if (dead)
				s->pid[i] = 0;
			if (dead || t.tv_sec - t0.tv_sec > timeout_s) {
				etcd_client_free(c);
				fprintf(stderr, "etcd_spawn: member %d not healthy: %s\n", i,
					err.msg);
				etcd_spawn_stop(s);
				return -ETIMEDOUT;
			}
			usleep(50000);
		}
		etcd_client_free(c);
	}
	return 0;
}

#endif
