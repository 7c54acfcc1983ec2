/* libFuzzer target: the directory JSON decoder (DIR_REPLY / DIR_UPDATE_REPLY text
 * from a peer). Whatever it accepts must be fully populated; everything it
 * rejects must come back as -EPROTO with a message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_util.h"
#include "ldms/ldms_xprt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldms_dir *dir = NULL;
	struct ldms_err err;
	int rc;

	ldms_err_clear(&err);
	rc = ldms_dir_json_parse((const char *)data, size, &dir, &err);
	if (rc) {
		if (dir || (rc != -EPROTO && rc != -ENOMEM) || !err.msg[0])
			abort();
		return 0;
	}
	if (!dir)
		abort();
	for (size_t i = 0; i < dir->set_count; i++) {
		const struct ldms_dir_set *d = &dir->set_data[i];
		if (!d->inst_name || !d->schema_name || !d->inst_name[0] ||
		    strlen(d->digest_str) > 64 || strlen(d->flags) > 3 || d->perm > 0777)
			abort();
		for (size_t k = 0; k < d->info_count; k++)
			if (!d->info[k].key || !d->info[k].value)
				abort();
	}
	ldms_dir_free(dir);
	return 0;
}
