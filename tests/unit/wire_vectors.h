/* Shared by the wire unit tests: loads a golden frame extracted from
 * shared/golden/wire (tests/unit/data/wire/<name>.bin) into a malloc'ed buffer. */
#ifndef WIRE_VECTORS_H
#define WIRE_VECTORS_H

#include <stdio.h>
#include <stdlib.h>

static inline unsigned char *wire_vector(const char *name, size_t *len)
{
	const char *src = getenv("LDMSC_SRC");
	char path[1024];
	unsigned char *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/data/wire/%s.bin", src ? src : ".", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#endif
