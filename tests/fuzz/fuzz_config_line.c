/* libFuzzer target for ldmsd's config-language front end: arbitrary bytes are split
 * into logical lines (comments, continuations) and every line is parsed into a
 * request, validated, its values ${VAR}-expanded and its free-form part split into
 * attributes. Nothing is executed; it must never crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

static int on_line(void *arg, const char *line, size_t len, int lineno)
{
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_FILE, .line = lineno};
	struct ldms_err e;
	struct ldmsd_req *r = NULL;
	ldms_err_clear(&e);
	if (ldmsd_cfg_parse_line(line, len, &o, &r, &e))
		return 0;
	ldmsd_cmd_validate(r, &e);
	for (size_t i = 0; i < r->count; i++) {
		free(ldmsd_env_expand(r->attrs[i].value));
		if (r->attrs[i].id == LDMSD_ATTR_STRING) {
			struct ldmsd_attrs a;
			if (!ldmsd_attrs_parse(r->attrs[i].value, &a))
				ldmsd_attrs_free(&a);
		}
	}
	ldmsd_req_free(r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldms_err e;
	ldms_err_clear(&e);
	ldmsd_cfg_lines("fuzz.conf", (const char *)data, size, on_line, NULL, &e);
	return 0;
}
