/* Internals shared by the etcd client files (etcd.c: unary calls, etcd_watch.c: the
 * watch stream): the client structure and the libcurl plumbing. */
#ifndef MAESTRO_ETCD_PRIV_H
#define MAESTRO_ETCD_PRIV_H

#include <pthread.h>
#include <stddef.h>

#include <curl/curl.h>

#include "etcd.h"

struct etcd_client {
	char **urls; /* base URLs without a trailing '/' */
	size_t nurls;
	size_t current; /* the member that answered last: tried first */
	long connect_ms, request_ms;
	size_t max_response;
	pthread_mutex_t lock; /* one request at a time on the shared handle */
	CURL *curl;
	struct curl_slist *hdrs;
};

/* A growing response buffer, always NUL-terminated, capped at max bytes. */
struct etcd_buf {
	char *p;
	size_t len, cap, max;
};
void etcd_buf_free(struct etcd_buf *b);

int etcd_curl_global_init(void);
int etcd_curl_errno(CURLcode rc);
struct curl_slist *etcd_curl_headers(void);
void etcd_curl_setup(CURL *h, struct curl_slist *hdrs, long connect_ms);
/* POST body to path, on each member in turn; 0 with the 200 answer in resp. */
int etcd_call(struct etcd_client *c, const char *path, const char *body, struct etcd_buf *resp,
	      struct ldms_err *err);

#endif
