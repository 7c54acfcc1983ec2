/* libFuzzer target for the authentication state machines: arbitrary AUTH_MSG
 * payloads fed to ldms_auth_recv for none, ovis (fixed test secret) and munge (only
 * when a munged answers, e.g. LDMSC_MUNGE_SOCKET=path). Input: byte 0 selects the
 * plugin and whether begin() runs first; then messages as [u16 LE length][bytes]. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <munge.h>

#include "ldms_auth.h"

static struct ldms_auth_cfg cfgs[3];
static int have_cfg[3];
static char secret_dir[64];
static char secret_path[128];

static void cleanup(void)
{
	for (int i = 0; i < 3; i++)
		if (have_cfg[i])
			ldms_auth_cfg_free(&cfgs[i]);
	unlink(secret_path);
	rmdir(secret_dir);
}

static int munge_usable(const char *sock)
{
	munge_ctx_t ctx = munge_ctx_create();
	char *cred = NULL;
	int ok;

	if (!ctx)
		return 0;
	if (sock)
		munge_ctx_set(ctx, MUNGE_OPT_SOCKET, sock);
	ok = munge_encode(&cred, ctx, NULL, 0) == EMUNGE_SUCCESS;
	free(cred);
	munge_ctx_destroy(ctx);
	return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ldms_err err;
	char arg[160];
	char *kv[1] = {arg};
	const char *sock = getenv("LDMSC_MUNGE_SOCKET");
	int fd;

	have_cfg[0] = ldms_auth_cfg_init(&cfgs[0], "none", 0, NULL, &err) == 0;

	strcpy(secret_dir, "/tmp/ldmsc-fuzz-auth-XXXXXX");
	if (mkdtemp(secret_dir)) {
		snprintf(secret_path, sizeof(secret_path), "%s/secret.conf", secret_dir);
		fd = open(secret_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			const char *text = "secretword=fuzzing-secret-word\n";
			if (write(fd, text, strlen(text)) == (ssize_t)strlen(text)) {
				snprintf(arg, sizeof(arg), "conf=%s", secret_path);
				have_cfg[1] =
				    ldms_auth_cfg_init(&cfgs[1], "ovis", 1, kv, &err) == 0;
			}
			close(fd);
		}
	}
	if (munge_usable(sock)) {
		snprintf(arg, sizeof(arg), "socket=%s", sock ? sock : "");
		have_cfg[2] = ldms_auth_cfg_init(&cfgs[2], "munge", sock ? 1 : 0, kv, &err) == 0;
	}
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(411)};
	struct sockaddr_in p = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct ldms_err err;
	struct ldms_auth *a;
	uint8_t *out;
	size_t out_len, off = 1;
	int which, rc = 0;

	if (size < 1)
		return 0;
	which = data[0] % 3;
	if (!have_cfg[which])
		which = have_cfg[1] ? 1 : 0;
	if (!have_cfg[which])
		return 0;
	l.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a = ldms_auth_new(&cfgs[which], data[0] & 0x08, &err);
	if (!a)
		return 0;
	if (which == 1 && (data[0] & 0x10))
		ldms_auth_ovis_set_challenge(a, 1491064013844905374ULL);
	if (data[0] & 0x04) {
		rc = ldms_auth_begin(a, (struct sockaddr *)&l, (struct sockaddr *)&p, &out,
				     &out_len, &err);
		free(out);
	}
	for (int n = 0; n < 8 && off + 2 <= size; n++) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		/* a copy of exactly len bytes, so ASan sees any over-read */
		uint8_t *msg = malloc(len ? len : 1);
		if (!msg)
			break;
		memcpy(msg, data + off, len);
		off += len;
		rc = ldms_auth_recv(a, msg, len, &out, &out_len, &err);
		free(msg);
		if (rc < 0 && out)
			__builtin_trap(); /* a refusal must not produce a message */
		free(out);
		if (rc == 1 && !ldms_auth_approved(a))
			__builtin_trap();
	}
	(void)rc;
	ldms_auth_free(a);
	return 0;
}
