/* "ovis" shared-secret authentication (ldms-protocol.md §6.3): locating and
 * validating the secret file, and the challenge/reply exchange in which each side
 * proves it knows the secret by returning hex(SHA-224(decimal(challenge) || secret)).
 * Unlike upstream, challenges come from getrandom(), not from the clock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ldms_auth.h"

#ifndef LDMSC_SYSCONFDIR
#define LDMSC_SYSCONFDIR "/usr/local/etc"
#endif

#define OVIS_SECRET_MIN 8
#define OVIS_SECRET_MAX 512
#define OVIS_HASH_HEX	56 /* SHA-224 = 28 bytes */
#define OVIS_CHALLENGE	1
#define OVIS_REPLY	2
#define OVIS_CHL_LEN	12			/* type u32 + challenge BE64 */
#define OVIS_RPL_LEN	(4 + OVIS_HASH_HEX + 1) /* type u32 + hex + NUL */
#define OVIS_ENV_FILE	"LDMS_AUTH_FILE"
#define OVIS_CONF_NAME	"ldmsauth.conf"

struct auth_ovis {
	char *secret;
	uint64_t challenge;
	int challenge_fixed; /* set by the test hook */
	int replied;	     /* we answered the peer's challenge */
	char expect[OVIS_HASH_HEX + 1];
};

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Reads the secret word from one file. Mirrors upstream's rules so the same file
 * works for both: '#' lines and empty lines are skipped, the first line starting with
 * "secretword=" counts, and the word is its first token delimited by '#', space, tab
 * or newline. Every refusal names the file. */
static int ovis_secret_read(const char *path, char **secret, struct ldms_err *err)
{
	struct stat st;
	FILE *f;
	char *line = NULL, *word = NULL;
	size_t cap = 0;
	int fd, rc = 0, found = 0;

	if (path[0] != '/')
		return ldms_err_set(err, -EINVAL,
				    "ovis: secret file '%s': the path must be absolute", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		return ldms_err_set(err, rc, "ovis: cannot open secret file '%s': %s", path,
				    strerror(-rc));
	}
	/* fstat on the opened file so the checked file is the file we read. */
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return ldms_err_set(err, rc, "ovis: cannot stat secret file '%s': %s", path,
				    strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ldms_err_set(err, -EINVAL, "ovis: secret file '%s' is not a regular file",
				    path);
	}
	if (st.st_mode & 0077) {
		close(fd);
		return ldms_err_set(err, -EACCES,
				    "ovis: secret file '%s' is accessible by group or others "
				    "(mode %04o); it must be 0600 or stricter",
				    path, (unsigned)(st.st_mode & 07777));
	}
	f = fdopen(fd, "r");
	if (!f) {
		rc = -errno;
		close(fd);
		return ldms_err_set(err, rc, "ovis: cannot read secret file '%s': %s", path,
				    strerror(-rc));
	}
	while (getline(&line, &cap, f) >= 0) {
		const char *delim = "# \t\n";
		char *p;
		size_t n;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (strncmp(line, "secretword=", 11) != 0)
			continue;
		found = 1;
		p = line + 11;
		p += strspn(p, delim);
		n = strcspn(p, delim);
		if (n == 0) {
			rc = ldms_err_set(err, -EINVAL, "ovis: the secret word in '%s' is empty",
					  path);
		} else if (n < OVIS_SECRET_MIN || n > OVIS_SECRET_MAX) {
			rc =
			    ldms_err_set(err, -EINVAL,
					 "ovis: the secret word in '%s' is %zu characters long; it "
					 "must have %d to %d characters",
					 path, n, OVIS_SECRET_MIN, OVIS_SECRET_MAX);
		} else {
			word = strndup(p, n);
			if (!word)
				rc = ldms_err_set(err, -ENOMEM, "ovis: out of memory");
		}
		break;
	}
	if (ferror(f) && !found)
		rc = ldms_err_set(err, -EIO, "ovis: cannot read secret file '%s'", path);
	else if (!found)
		rc = ldms_err_set(err, -EINVAL, "ovis: secret file '%s' has no 'secretword=' line",
				  path);
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	if (rc) {
		secret_free(word);
		return rc;
	}
	*secret = word;
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Finds the secret the way upstream does: conf=, else $LDMS_AUTH_FILE (both must
 * work when given), else the first existing default location. */
static int ovis_secret_load(const struct ldms_auth_cfg *cfg, char **secret, struct ldms_err *err)
{
	const char *conf = ldms_auth_cfg_arg(cfg, "conf");
	char home_conf[4096];
	const char *defaults[4];
	int n = 0;

	if (conf) {
		if (!conf[0])
			return ldms_err_set(err, -EINVAL, "ovis: conf= needs a secret file path");
		return ovis_secret_read(conf, secret, err);
	}
	conf = getenv(OVIS_ENV_FILE);
	if (conf && conf[0]) {
		int rc = ovis_secret_read(conf, secret, err);
		/* The user may not know the environment chose the file: say so. */
		if (rc && err) {
			size_t n = strlen(err->msg);
			snprintf(err->msg + n, sizeof(err->msg) - n, " (file from $%s)",
				 OVIS_ENV_FILE);
		}
		return rc;
	}

	/* Like upstream, the home directory comes from the password database, not $HOME. */
	{
		struct passwd pw, *pwp = NULL;
		char buf[4096];
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &pwp) == 0 && pwp && pwp->pw_dir) {
			int len = snprintf(home_conf, sizeof(home_conf), "%s/.%s", pwp->pw_dir,
					   OVIS_CONF_NAME);
			if (len > 0 && (size_t)len < sizeof(home_conf))
				defaults[n++] = home_conf;
		}
	}
	defaults[n++] = LDMSC_SYSCONFDIR "/" OVIS_CONF_NAME;
	defaults[n++] = "/etc/ldmsd/" OVIS_CONF_NAME;
	defaults[n++] = "/etc/" OVIS_CONF_NAME;
	for (int i = 0; i < n; i++) {
		if (file_exists(defaults[i]))
			return ovis_secret_read(defaults[i], secret, err);
	}
	return ldms_err_set(err, -ENOENT,
			    "ovis: no secret file found: give conf=FILE or set $" OVIS_ENV_FILE
			    " (also looked for ~/.%s, %s, %s and %s)",
			    OVIS_CONF_NAME, defaults[n - 3], defaults[n - 2], defaults[n - 1]);
}

/* hex(SHA-224(decimal(challenge) || secret)) into out (57 bytes incl. NUL). */
static int ovis_hash(uint64_t challenge, const char *secret, char out[OVIS_HASH_HEX + 1])
{
	char buf[24 + OVIS_SECRET_MAX + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int len;

	len = snprintf(buf, sizeof(buf), "%" PRIu64 "%s", challenge, secret);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -EINVAL;
	if (!EVP_Digest(buf, (size_t)len, md, &md_len, EVP_sha224(), NULL) ||
	    md_len * 2 != OVIS_HASH_HEX) {
		explicit_bzero(buf, sizeof(buf));
		return -EIO;
	}
	explicit_bzero(buf, sizeof(buf));
	for (unsigned int i = 0; i < md_len; i++) {
		static const char hex[] = "0123456789abcdef";
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[OVIS_HASH_HEX] = '\0';
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int ovis_random64(uint64_t *v)
{
	uint8_t b[8];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	*v = get_be64(b);
	return 0;
}

static int ovis_cfg_check(const struct ldms_auth_cfg *cfg, struct ldms_err *err)
{
	char *secret = NULL;
	int rc = ovis_secret_load(cfg, &secret, err);
	secret_free(secret);
	return rc;
}

static int ovis_init(struct ldms_auth *a, const struct ldms_auth_cfg *cfg, struct ldms_err *err)
{
	struct auth_ovis *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return ldms_err_set(err, -ENOMEM, "ovis: out of memory");
	/* Read per connection: cheap, and a changed secret takes effect without restart. */
	rc = ovis_secret_load(cfg, &o->secret, err);
	if (rc) {
		free(o);
		return rc;
	}
	a->priv = o;
	return 0;
}

static void ovis_fini(struct ldms_auth *a)
{
	struct auth_ovis *o = a->priv;
	if (!o)
		return;
	secret_free(o->secret);
	explicit_bzero(o, sizeof(*o));
	free(o);
	a->priv = NULL;
}

static int ovis_begin(struct ldms_auth *a, const struct sockaddr *local,
		      const struct sockaddr *peer, uint8_t **out, size_t *out_len,
		      struct ldms_err *err)
{
	struct auth_ovis *o = a->priv;
	uint8_t *m;
	int rc;

	if (!o->challenge_fixed) {
		rc = ovis_random64(&o->challenge);
		if (rc)
			return ldms_err_set(err, rc, "ovis: cannot draw a random challenge: %s",
					    strerror(-rc));
	}
	rc = ovis_hash(o->challenge, o->secret, o->expect);
	if (rc)
		return ldms_err_set(err, rc, "ovis: cannot compute the SHA-224 hash");
	m = malloc(OVIS_CHL_LEN);
	if (!m)
		return ldms_err_set(err, -ENOMEM, "ovis: out of memory");
	put_le32(m, OVIS_CHALLENGE); /* upstream writes the type in host order */
	put_be64(m + 4, o->challenge);
	*out = m;
	*out_len = OVIS_CHL_LEN;
	return 0;
}

static int ovis_recv_challenge(struct ldms_auth *a, struct auth_ovis *o, const uint8_t *msg,
			       size_t len, uint8_t **out, size_t *out_len, struct ldms_err *err)
{
	uint8_t *m;
	int rc;

	if (len != OVIS_CHL_LEN)
		return ldms_err_set(err, -EPROTO, "ovis: challenge of %zu bytes, expected %d", len,
				    OVIS_CHL_LEN);
	if (o->replied)
		return ldms_err_set(err, -EPROTO, "ovis: peer sent a second challenge");
	m = malloc(OVIS_RPL_LEN);
	if (!m)
		return ldms_err_set(err, -ENOMEM, "ovis: out of memory");
	put_le32(m, OVIS_REPLY);
	rc = ovis_hash(get_be64(msg + 4), o->secret, (char *)m + 4);
	if (rc) {
		free(m);
		return ldms_err_set(err, rc, "ovis: cannot compute the SHA-224 hash");
	}
	o->replied = 1;
	*out = m;
	*out_len = OVIS_RPL_LEN;
	return 0;
}

static int ovis_recv_reply(struct ldms_auth *a, struct auth_ovis *o, const uint8_t *msg, size_t len,
			   struct ldms_err *err)
{
	const uint8_t *hash = msg + 4;
	size_t hash_len;

	if (!a->begun)
		return ldms_err_set(err, -EPROTO, "ovis: peer replied before we sent a challenge");
	if (a->approved)
		return ldms_err_set(err, -EPROTO, "ovis: peer sent a second reply");
	if (len < 5 || msg[len - 1] != '\0')
		return ldms_err_set(err, -EPROTO, "ovis: malformed reply (not NUL-terminated)");
	hash_len = len - 5;
	if (memchr(hash, '\0', hash_len))
		return ldms_err_set(err, -EPROTO, "ovis: malformed reply (embedded NUL)");
	if (hash_len != OVIS_HASH_HEX || CRYPTO_memcmp(hash, o->expect, OVIS_HASH_HEX) != 0)
		return ldms_err_set(err, -EACCES,
				    "ovis: authentication failed: peer's reply "
				    "does not match the shared secret");
	a->approved = 1;
	a->uid = 0;
	a->gid = 0;
	return 1;
}

static int ovis_recv(struct ldms_auth *a, const uint8_t *msg, size_t len, uint8_t **out,
		     size_t *out_len, struct ldms_err *err)
{
	struct auth_ovis *o = a->priv;
	uint32_t type;

	if (len < 4)
		return ldms_err_set(err, -EPROTO, "ovis: message too short (%zu bytes)", len);
	type = get_le32(msg);
	switch (type) {
	case OVIS_CHALLENGE:
		return ovis_recv_challenge(a, o, msg, len, out, out_len, err);
	case OVIS_REPLY:
		return ovis_recv_reply(a, o, msg, len, err);
	default:
		return ldms_err_set(err, -EPROTO, "ovis: unknown message type %" PRIu32, type);
	}
}

int ldms_auth_ovis_set_challenge(struct ldms_auth *a, uint64_t challenge)
{
	struct auth_ovis *o;

	if (!a || a->ops != &ldms_auth_ovis_ops || a->begun)
		return -EINVAL;
	o = a->priv;
	o->challenge = challenge;
	o->challenge_fixed = 1;
	return 0;
}

static const char *const ovis_keys[] = {"conf", NULL};

const struct ldms_auth_ops ldms_auth_ovis_ops = {
    .keys = ovis_keys,
    .name = "ovis",
    .cfg_check = ovis_cfg_check,
    .init = ovis_init,
    .fini = ovis_fini,
    .begin = ovis_begin,
    .recv = ovis_recv,
};
