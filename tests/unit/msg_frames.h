/* Shared by the message-service unit tests: reads the frames of a golden
 * frames.txt (shared/golden/wire/<scenario>/frames.txt, located through
 * $LDMSC_GOLDEN) with their titles and hex dumps. */
#ifndef MSG_FRAMES_H
#define MSG_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gframe {
	char title[160]; /* "SENDRECV / MSG" ... */
	uint8_t *b;
	size_t len;
};

static inline int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Every frame of a frames.txt with its hex dump. */
static inline struct gframe *frames_load(const char *scenario, size_t *n)
{
	const char *g = getenv("LDMSC_GOLDEN");
	char path[1024], line[512];
	struct gframe *v = NULL, *cur = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/wire/%s/frames.txt", g ? g : "../shared/golden", scenario);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "frame ", 6)) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			cur = &v[(*n)++];
			memset(cur, 0, sizeof(*cur));
			memcpy(cur->title, line, sizeof(cur->title) - 1);
			cur->b = malloc(2u * 1024 * 1024);
			if (!cur->b)
				abort();
			continue;
		}
		/* "    0000  00 02 00 ...  |....|" */
		if (cur && strlen(line) > 10 && !strncmp(line, "    ", 4) && hexval(line[4]) >= 0 &&
		    hexval(line[7]) >= 0 && line[8] == ' ' && line[9] == ' ') {
			const char *p = line + 10;
			while (hexval(p[0]) >= 0 && hexval(p[1]) >= 0 &&
			       (p[2] == ' ' || p[2] == '\n')) {
				cur->b[cur->len++] = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
				p += 3;
			}
		} else if (line[0] != ' ') {
			cur = NULL;
		}
	}
	fclose(f);
	return v;
}

static inline void frames_free(struct gframe *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].b);
	free(v);
}

/* The k-th (0-based) frame of connection conn (1-based) whose title holds what. */
static inline const struct gframe *frames_find(const struct gframe *v, size_t n, int conn,
					       const char *what, int k)
{
	int c = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strncmp(v[i].title, "frame 1 ", 8))
			c++;
		if (c == conn && strstr(v[i].title, what) && k-- == 0)
			return &v[i];
	}
	return NULL;
}

#endif
