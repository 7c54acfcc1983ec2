/* etcd.yaml, the cluster file of maestro and maestro_ctrl (maestro.md §6): the cluster
 * name, the etcd members and the optional maestro_members. Errors are located
 * (FILE:LINE:COL) in the caller's struct ldms_err. */
#ifndef MAESTRO_ETCD_YAML_H
#define MAESTRO_ETCD_YAML_H

#include <stddef.h>

struct ldms_err;
struct etcd_client;

struct etcd_yaml_member {
	char *host;
	int port;
	int line, col; /* of the entry, for later error messages */
};

struct etcd_yaml {
	char *path;
	char *cluster; /* NULL when absent (informational only) */
	struct etcd_yaml_member *members;
	size_t nmembers;
	int has_maestro_members; /* the key is present (enables multi-instance mode) */
	struct etcd_yaml_member *maestro_members;
	size_t n_maestro_members;
};

/* 0, -ENOENT/-EACCES (file), -EINVAL (bad content; err located) or -ENOMEM.
 * `members` must be a non-empty list of {host, port} (missing: "missing 'members'",
 * upstream's KeyError 'members'). */
int etcd_yaml_load(const char *path, struct etcd_yaml *out, struct ldms_err *err);
int etcd_yaml_parse(const char *text, size_t len, const char *name, struct etcd_yaml *out,
		    struct ldms_err *err);
void etcd_yaml_free(struct etcd_yaml *y);

/* "http://host:port" (IPv6 literals bracketed), malloc'ed; NULL on ENOMEM. */
char *etcd_yaml_member_url(const struct etcd_yaml_member *m);
/* A client over every member, in file order. */
int etcd_yaml_client(const struct etcd_yaml *y, struct etcd_client **out, struct ldms_err *err);

#endif
