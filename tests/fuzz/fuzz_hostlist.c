/* libFuzzer target: hostlist expressions (maestro.md §3.5) must expand or fail with one of
 * upstream's conditions, never crash, hang or leak; sorts must be total and stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_hostlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 512) /* expansion is bounded anyway; keep iterations fast */
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct ldms_hostlist h;
	const char *err = NULL;
	ldms_hostlist_init(&h);
	/* a small bound keeps iterations fast; the bound check itself is covered too */
	if (ldms_hostlist_expand_max(s, &h, 2000, &err) == 0) {
		if (h.count) {
			ldms_hostlist_sort_numeric(&h);
			for (size_t i = 1; i < h.count; i++)
				if (ldms_hostlist_numeric_cmp(h.names[i - 1], h.names[i]) > 0)
					abort();
			ldms_hostlist_sort(&h);
			for (size_t i = 1; i < h.count; i++)
				if (strcmp(h.names[i - 1], h.names[i]) >= 0) /* no duplicates */
					abort();
			if (ldms_hostlist_find_sorted(&h, h.names[h.count / 2]) !=
			    (long)(h.count / 2))
				abort();
		}
	} else if (!err || h.count) {
		abort();
	}
	ldms_hostlist_free(&h);
	free(s);
	return 0;
}
