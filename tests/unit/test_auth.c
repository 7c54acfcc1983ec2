/* Unit tests of the authentication state machines (src/lib/auth*.c): ovis against
 * the bytes captured from upstream (golden/wire/04-auth-ovis), in-memory handshakes,
 * secret file rules, "none", malformed messages, and munge against a private munged
 * started by the test (skipped only when /usr/sbin/munged is not installed). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <munge.h>

#include "ldms_auth.h"

#define GOLDEN_SECRET "golden-wire-secret-0123"
#define MUNGED	      "/usr/sbin/munged"

static char tmpdir[64];

/* ------------------------------------------------------------------ helpers */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static const char *tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
	return buf;
}

static int cfg_make(struct ldms_auth_cfg *cfg, const char *plugin, const char *arg,
		    struct ldms_err *err)
{
	char *kv[1] = {(char *)arg};
	ldms_err_clear(err);
	return ldms_auth_cfg_init(cfg, plugin, arg ? 1 : 0, kv, err);
}

/* A secret file with the given content (mode 0600) and a cfg pointing at it. */
static void ovis_cfg(struct ldms_auth_cfg *cfg, const char *name, const char *content)
{
	char path[256], arg[300];
	struct ldms_err err;
	write_file(tmp_path(path, sizeof(path), name), content, 0600);
	snprintf(arg, sizeof(arg), "conf=%s", path);
	assert_int_equal(cfg_make(cfg, "ovis", arg, &err), 0);
}

static struct sockaddr_in sin_make(const char *ip, int port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

struct msg {
	uint8_t *data;
	size_t len;
};

struct side {
	struct ldms_auth *a;
	struct msg inbox[8];
	int n_in;
	int status; /* last return: 1 approved, 0 continue, <0 refused */
	struct ldms_err err;
};

static void side_post(struct side *s, uint8_t *data, size_t len)
{
	if (!len) {
		free(data);
		return;
	}
	assert_true(s->n_in < 8);
	s->inbox[s->n_in].data = data;
	s->inbox[s->n_in].len = len;
	s->n_in++;
}

/* Runs both state machines until no message is in flight, the way two transports
 * would; messages are delivered in order, alternating sides. */
static void handshake(struct side *c, struct side *s, const struct sockaddr *caddr,
		      const struct sockaddr *saddr)
{
	uint8_t *out;
	size_t out_len;
	int progress;

	/* The server sends its challenge first in the capture; keep that order. */
	s->status = ldms_auth_begin(s->a, saddr, caddr, &out, &out_len, &s->err);
	side_post(c, out, out_len);
	c->status = ldms_auth_begin(c->a, caddr, saddr, &out, &out_len, &c->err);
	side_post(s, out, out_len);
	do {
		struct side *sides[2] = {s, c};
		progress = 0;
		for (int i = 0; i < 2; i++) {
			struct side *me = sides[i], *other = sides[1 - i];
			if (!me->n_in)
				continue;
			struct msg m = me->inbox[0];
			memmove(me->inbox, me->inbox + 1,
				sizeof(me->inbox[0]) * (size_t)(--me->n_in));
			progress = 1;
			if (me->status < 0) {
				free(m.data);
				continue; /* a refusing transport closes; drop */
			}
			me->status = ldms_auth_recv(me->a, m.data, m.len, &out, &out_len, &me->err);
			free(m.data);
			side_post(other, out, out_len);
		}
	} while (progress);
}

static void side_fini(struct side *s)
{
	for (int i = 0; i < s->n_in; i++)
		free(s->inbox[i].data);
	ldms_auth_free(s->a);
}

/* ------------------------------------------------------- golden frames parser */

struct golden_frame {
	int auth;   /* an AUTH_MSG frame */
	int to_cli; /* server->client */
	uint8_t bytes[512];
	size_t len;
};

/* Reads the hex dumps of frames.txt (lines "    0000  xx xx ...  |...|"). */
static int golden_frames(const char *scenario, struct golden_frame *fr, int max)
{
	const char *g = getenv("LDMSC_GOLDEN");
	char path[512], line[4096];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "%s/wire/%s/frames.txt", g ? g : "../shared/golden", scenario);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open golden capture %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "frame ", 6) == 0) {
			if (++n >= max)
				break;
			memset(&fr[n], 0, sizeof(fr[n]));
			fr[n].auth = strstr(line, "AUTH_MSG") != NULL;
			fr[n].to_cli = strstr(line, "server->client") != NULL;
			continue;
		}
		if (n < 0 || strncmp(line, "    ", 4) != 0 || !isxdigit((unsigned char)line[4]) ||
		    strncmp(line + 8, "  ", 2) != 0)
			continue;
		for (char *p = line + 10;
		     isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) && p[2] == ' ';
		     p += 3) {
			unsigned v;
			sscanf(p, "%2x", &v);
			if (fr[n].len < sizeof(fr[n].bytes))
				fr[n].bytes[fr[n].len++] = (uint8_t)v;
		}
	}
	fclose(f);
	return n >= max ? max : n + 1;
}

/* The AUTH_MSG payload: after zap hdr (20) + data_len (4) + LDMS req hdr (16) + msg_len (4). */
static void auth_payload(const struct golden_frame *fr, const uint8_t **p, size_t *len)
{
	uint32_t msg_len;
	assert_true(fr->len >= 44);
	msg_len = (uint32_t)fr->bytes[40] << 24 | (uint32_t)fr->bytes[41] << 16 |
		  (uint32_t)fr->bytes[42] << 8 | fr->bytes[43];
	assert_int_equal(msg_len, fr->len - 44);
	*p = fr->bytes + 44;
	*len = fr->len - 44;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* --------------------------------------------------------------------- tests */

static void test_ovis_golden(void **state)
{
	struct golden_frame fr[16];
	const uint8_t *chl_s, *chl_c, *rpl_s, *rpl_c;
	size_t l_chl_s, l_chl_c, l_rpl_s, l_rpl_c;
	int n = golden_frames("04-auth-ovis", fr, 16), k = 0;
	struct golden_frame *auth[4];
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	uint8_t *out;
	size_t out_len;

	for (int i = 0; i < n && k < 4; i++)
		if (fr[i].auth)
			auth[k++] = &fr[i];
	assert_int_equal(k, 4);
	/* Capture order: server challenge, client challenge, server reply, client reply. */
	assert_true(auth[0]->to_cli && !auth[1]->to_cli && auth[2]->to_cli && !auth[3]->to_cli);
	auth_payload(auth[0], &chl_s, &l_chl_s);
	auth_payload(auth[1], &chl_c, &l_chl_c);
	auth_payload(auth[2], &rpl_s, &l_rpl_s);
	auth_payload(auth[3], &rpl_c, &l_rpl_c);
	assert_int_equal(l_chl_s, 12);
	assert_int_equal(l_rpl_s, 61);

	ovis_cfg(&cfg, "golden.conf", "# golden capture secret\nsecretword=" GOLDEN_SECRET "\n");

	/* Client side: its challenge bytes, its reply to the server, approval of the server. */
	struct ldms_auth *c = ldms_auth_new(&cfg, 1, &err);
	assert_non_null(c);
	assert_string_equal(ldms_auth_plugin_name(c), "ovis");
	assert_int_equal(ldms_auth_ovis_set_challenge(c, be64(chl_c + 4)), 0);
	assert_int_equal(ldms_auth_begin(c, NULL, NULL, &out, &out_len, &err), 0);
	assert_int_equal(out_len, l_chl_c);
	assert_memory_equal(out, chl_c, l_chl_c);
	free(out);
	assert_int_equal(ldms_auth_recv(c, chl_s, l_chl_s, &out, &out_len, &err), 0);
	assert_int_equal(out_len, l_rpl_c);
	assert_memory_equal(out, rpl_c, l_rpl_c);
	free(out);
	assert_false(ldms_auth_approved(c));
	assert_int_equal(ldms_auth_recv(c, rpl_s, l_rpl_s, &out, &out_len, &err), 1);
	assert_int_equal(out_len, 0);
	assert_true(ldms_auth_approved(c));
	uid_t uid = 1;
	gid_t gid = 1;
	ldms_auth_cred(c, &uid, &gid);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	ldms_auth_free(c);

	/* Server side, the mirror image. */
	struct ldms_auth *s = ldms_auth_new(&cfg, 0, &err);
	assert_non_null(s);
	assert_int_equal(ldms_auth_ovis_set_challenge(s, be64(chl_s + 4)), 0);
	assert_int_equal(ldms_auth_begin(s, NULL, NULL, &out, &out_len, &err), 0);
	assert_int_equal(out_len, l_chl_s);
	assert_memory_equal(out, chl_s, l_chl_s);
	free(out);
	assert_int_equal(ldms_auth_recv(s, chl_c, l_chl_c, &out, &out_len, &err), 0);
	assert_int_equal(out_len, l_rpl_s);
	assert_memory_equal(out, rpl_s, l_rpl_s);
	free(out);
	assert_int_equal(ldms_auth_recv(s, rpl_c, l_rpl_c, &out, &out_len, &err), 1);
	assert_true(ldms_auth_approved(s));
	ldms_auth_free(s);

	/* A server with another secret refuses the captured client reply. */
	struct ldms_auth_cfg cfg2;
	ovis_cfg(&cfg2, "other.conf", "secretword=another-secret-42\n");
	s = ldms_auth_new(&cfg2, 0, &err);
	assert_non_null(s);
	assert_int_equal(ldms_auth_ovis_set_challenge(s, be64(chl_s + 4)), 0);
	assert_int_equal(ldms_auth_begin(s, NULL, NULL, &out, &out_len, &err), 0);
	free(out);
	ldms_err_clear(&err);
	assert_int_equal(ldms_auth_recv(s, rpl_c, l_rpl_c, &out, &out_len, &err), -EACCES);
	assert_string_equal(err.msg, "ovis: authentication failed: peer's reply does not match "
				     "the shared secret");
	assert_false(ldms_auth_approved(s));
	ldms_auth_free(s);
	ldms_auth_cfg_free(&cfg);
	ldms_auth_cfg_free(&cfg2);
}

static void test_ovis_handshake(void **state)
{
	struct ldms_auth_cfg c1, c2, c3;
	struct sockaddr_in ca = sin_make("127.0.0.1", 42352), sa = sin_make("127.0.0.1", 30005);
	struct ldms_err err;

	ovis_cfg(&c1, "a.conf", "secretword=shared-secret-xyz\n");
	/* Same word, written with a trailing comment and leading comment lines. */
	ovis_cfg(&c2, "b.conf", "# comment\n\nsecretword=shared-secret-xyz # the word\n");
	ovis_cfg(&c3, "c.conf", "secretword=different-secret\n");

	struct side c = {0}, s = {0};
	c.a = ldms_auth_new(&c1, 1, &err);
	s.a = ldms_auth_new(&c2, 0, &err);
	assert_non_null(c.a);
	assert_non_null(s.a);
	handshake(&c, &s, (struct sockaddr *)&ca, (struct sockaddr *)&sa);
	assert_int_equal(c.status, 1);
	assert_int_equal(s.status, 1);
	assert_true(ldms_auth_approved(c.a) && ldms_auth_approved(s.a));
	side_fini(&c);
	side_fini(&s);

	/* Different secrets: both sides refuse, with the message users see. */
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.a = ldms_auth_new(&c1, 1, &err);
	s.a = ldms_auth_new(&c3, 0, &err);
	handshake(&c, &s, (struct sockaddr *)&ca, (struct sockaddr *)&sa);
	assert_int_equal(c.status, -EACCES);
	assert_int_equal(s.status, -EACCES);
	assert_string_equal(s.err.msg, "ovis: authentication failed: peer's reply does not "
				       "match the shared secret");
	assert_string_equal(c.err.msg, s.err.msg);
	assert_false(ldms_auth_approved(c.a) || ldms_auth_approved(s.a));
	uid_t uid;
	gid_t gid;
	ldms_auth_cred(s.a, &uid, &gid);
	assert_int_equal(uid, (uid_t)-1);
	side_fini(&c);
	side_fini(&s);

	/* Random challenges: two begins never produce the same challenge. */
	struct ldms_auth *a1 = ldms_auth_new(&c1, 1, &err), *a2 = ldms_auth_new(&c1, 1, &err);
	uint8_t *o1, *o2;
	size_t l1, l2;
	assert_int_equal(ldms_auth_begin(a1, NULL, NULL, &o1, &l1, &err), 0);
	assert_int_equal(ldms_auth_begin(a2, NULL, NULL, &o2, &l2, &err), 0);
	assert_int_equal(l1, 12);
	assert_memory_not_equal(o1, o2, 12);
	free(o1);
	free(o2);
	/* begin twice is refused */
	assert_int_equal(ldms_auth_begin(a1, NULL, NULL, &o1, &l1, &err), -EALREADY);
	ldms_auth_free(a1);
	ldms_auth_free(a2);

	ldms_auth_cfg_free(&c1);
	ldms_auth_cfg_free(&c2);
	ldms_auth_cfg_free(&c3);
}

static void expect_cfg_error(const char *plugin, const char *arg, int rc, const char *msg_part)
{
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	int r = cfg_make(&cfg, plugin, arg, &err);
	if (r != rc || !strstr(err.msg, msg_part))
		fail_msg("%s %s: got %d '%s', expected %d '...%s...'", plugin, arg ? arg : "", r,
			 err.msg, rc, msg_part);
	assert_int_equal(err.rc, rc);
	if (r == 0)
		ldms_auth_cfg_free(&cfg);
}

static void test_ovis_secret_rules(void **state)
{
	char p[256], arg[300], msg[600];
	char longword[600];

	/* group/other readable */
	write_file(tmp_path(p, sizeof(p), "open.conf"), "secretword=abcdefghij\n", 0644);
	snprintf(arg, sizeof(arg), "conf=%s", p);
	snprintf(msg, sizeof(msg),
		 "ovis: secret file '%s' is accessible by group or others "
		 "(mode 0644); it must be 0600 or stricter",
		 p);
	expect_cfg_error("ovis", arg, -EACCES, msg);
	write_file(p, "secretword=abcdefghij\n", 0640);
	expect_cfg_error("ovis", arg, -EACCES, "(mode 0640)");
	write_file(p, "secretword=abcdefghij\n", 0400);
	expect_cfg_error("ovis", arg, 0, "");

	/* no secretword line */
	write_file(p, "# nothing\nsecret=abcdefghij\n", 0600);
	snprintf(msg, sizeof(msg), "ovis: secret file '%s' has no 'secretword=' line", p);
	expect_cfg_error("ovis", arg, -EINVAL, msg);

	/* empty, too short, too long, limits */
	write_file(p, "secretword=\n", 0600);
	expect_cfg_error("ovis", arg, -EINVAL, "is empty");
	write_file(p, "secretword=short7c\n", 0600);
	snprintf(msg, sizeof(msg),
		 "ovis: the secret word in '%s' is 7 characters long; it must "
		 "have 8 to 512 characters",
		 p);
	expect_cfg_error("ovis", arg, -EINVAL, msg);
	write_file(p, "secretword=eight8ch\n", 0600);
	expect_cfg_error("ovis", arg, 0, "");
	memset(longword, 'x', sizeof(longword));
	memcpy(longword, "secretword=", 11);
	strcpy(longword + 11 + 512, "\n");
	write_file(p, longword, 0600);
	expect_cfg_error("ovis", arg, 0, "");
	strcpy(longword + 11 + 513, "\n");
	longword[11 + 512] = 'x';
	write_file(p, longword, 0600);
	expect_cfg_error("ovis", arg, -EINVAL, "513 characters long");

	/* relative path, missing file, directory, empty conf= */
	expect_cfg_error("ovis", "conf=ovis-secret.conf", -EINVAL,
			 "ovis: secret file 'ovis-secret.conf': the path must be absolute");
	snprintf(arg, sizeof(arg), "conf=%s/missing.conf", tmpdir);
	snprintf(msg, sizeof(msg), "ovis: cannot open secret file '%s/missing.conf': No such file",
		 tmpdir);
	expect_cfg_error("ovis", arg, -ENOENT, msg);
	snprintf(arg, sizeof(arg), "conf=%s", tmpdir);
	expect_cfg_error("ovis", arg, -EINVAL, "is not a regular file");
	expect_cfg_error("ovis", "conf=", -EINVAL, "conf= needs a secret file path");

	/* $LDMS_AUTH_FILE is used when conf= is absent, and must then be valid */
	write_file(tmp_path(p, sizeof(p), "env.conf"), "secretword=from-the-env\n", 0600);
	setenv("LDMS_AUTH_FILE", p, 1);
	expect_cfg_error("ovis", NULL, 0, "");
	setenv("LDMS_AUTH_FILE", "relative.conf", 1);
	expect_cfg_error("ovis", NULL, -EINVAL,
			 "'relative.conf': the path must be absolute (file from $LDMS_AUTH_FILE)");
	unsetenv("LDMS_AUTH_FILE");

	/* Nothing anywhere: the message says where to put the secret. Only checkable when
	 * no default secret file exists on this machine. */
	struct passwd *pw = getpwuid(getuid());
	char home_conf[512];
	snprintf(home_conf, sizeof(home_conf), "%s/.ldmsauth.conf", pw ? pw->pw_dir : "/");
	if (access(home_conf, F_OK) && access(LDMSC_SYSCONFDIR "/ldmsauth.conf", F_OK) &&
	    access("/etc/ldmsd/ldmsauth.conf", F_OK) && access("/etc/ldmsauth.conf", F_OK))
		expect_cfg_error(
		    "ovis", NULL, -ENOENT,
		    "ovis: no secret file found: give conf=FILE or set "
		    "$LDMS_AUTH_FILE (also looked for ~/.ldmsauth.conf, " LDMSC_SYSCONFDIR
		    "/ldmsauth.conf, /etc/ldmsd/ldmsauth.conf and /etc/ldmsauth.conf)");
}

static void test_cfg(void **state)
{
	struct ldms_auth_cfg cfg, copy;
	struct ldms_err err;
	char *kv[] = {"socket=/tmp/x.sock", "extra=1"};

	expect_cfg_error("kerberos", NULL, -ENOENT, "unknown authentication plugin 'kerberos'");
	expect_cfg_error("none", "novalue", -EINVAL, "is not NAME=VALUE");
	expect_cfg_error("munge", "socket=", -EINVAL, "socket= needs the munged socket path");

	ldms_err_clear(&err);
	assert_int_equal(ldms_auth_cfg_init(&cfg, "munge", 2, kv, &err), 0);
	assert_string_equal(cfg.plugin, "munge");
	assert_int_equal(cfg.argc, 2);
	assert_string_equal(cfg.argn[0], "socket");
	assert_string_equal(cfg.argv[0], "/tmp/x.sock");
	assert_int_equal(ldms_auth_cfg_copy(&copy, &cfg), 0);
	ldms_auth_cfg_free(&cfg);
	assert_string_equal(copy.plugin, "munge");
	assert_string_equal(copy.argv[1], "1");
	assert_string_equal(ldms_auth_cfg_arg(&copy, "socket"), "/tmp/x.sock");
	ldms_auth_cfg_free(&copy);
	ldms_auth_cfg_free(&copy); /* idempotent */

	/* NULL plugin means none */
	assert_int_equal(ldms_auth_cfg_init(&cfg, NULL, 0, NULL, &err), 0);
	assert_string_equal(cfg.plugin, "none");
	ldms_auth_cfg_free(&cfg);
}

static void test_none(void **state)
{
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	uint8_t *out = (uint8_t *)"x";
	size_t out_len = 99;
	uid_t uid;
	gid_t gid;

	assert_int_equal(cfg_make(&cfg, "none", NULL, &err), 0);
	struct ldms_auth *a = ldms_auth_new(&cfg, 1, &err);
	assert_non_null(a);
	assert_string_equal(ldms_auth_plugin_name(a), "none");
	assert_int_equal(ldms_auth_begin(a, NULL, NULL, &out, &out_len, &err), 1);
	assert_null(out);
	assert_int_equal(out_len, 0);
	assert_true(ldms_auth_approved(a));
	ldms_auth_cred(a, &uid, &gid);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_int_equal(ldms_auth_recv(a, (const uint8_t *)"hi", 2, &out, &out_len, &err),
			 -EPROTO);
	assert_false(ldms_auth_approved(a));
	ldms_auth_free(a);
	ldms_auth_cfg_free(&cfg);
}

/* Each malformed message on a fresh, begun ovis machine; expected errno. */
static void test_ovis_malformed(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int rc;
	} cases[] = {
	    {"", 0, -EPROTO},
	    {"\x01\x00\x00", 3, -EPROTO},
	    {"\x01\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07", 11, -EPROTO},
	    {"\x01\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 13, -EPROTO},
	    {"\x03\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08", 12, -EPROTO},
	    {"\x00\x00\x00\x01\x01\x02\x03\x04\x05\x06\x07\x08", 12, -EPROTO},
	    {"\x02\x00\x00\x00", 4, -EPROTO},
	    {"\x02\x00\x00\x00"
	     "abc",
	     7, -EPROTO},
	    {"\x02\x00\x00\x00"
	     "ab\0c\0",
	     9, -EPROTO},
	    {"\x02\x00\x00\x00"
	     "abc\0",
	     8, -EACCES},
	    {"\x02\x00\x00\x00\0", 5, -EACCES},
	};
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	uint8_t *out;
	size_t out_len;

	ovis_cfg(&cfg, "m.conf", "secretword=malformed-tests\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ldms_auth *a = ldms_auth_new(&cfg, 0, &err);
		assert_non_null(a);
		assert_int_equal(ldms_auth_begin(a, NULL, NULL, &out, &out_len, &err), 0);
		free(out);
		int rc = ldms_auth_recv(a, (const uint8_t *)cases[i].bytes, cases[i].len, &out,
					&out_len, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s), expected %d", i, rc, err.msg, cases[i].rc);
		assert_null(out);
		assert_int_equal(out_len, 0);
		/* a refusal is final */
		rc = ldms_auth_recv(a, (const uint8_t *)"\x01\0\0\0\0\0\0\0\0\0\0\0", 12, &out,
				    &out_len, &err);
		assert_int_equal(rc, cases[i].rc);
		ldms_auth_free(a);
	}

	/* A second challenge, and a reply before our own challenge was sent. */
	struct ldms_auth *a = ldms_auth_new(&cfg, 0, &err);
	const uint8_t chl[12] = {1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(ldms_auth_recv(a, chl, 12, &out, &out_len, &err), 0);
	assert_int_equal(out_len, 61);
	/* the reply can be fed back to a machine that was not begun: refused */
	struct ldms_auth *b = ldms_auth_new(&cfg, 1, &err);
	uint8_t *o2;
	size_t l2;
	assert_int_equal(ldms_auth_recv(b, out, out_len, &o2, &l2, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "before we sent a challenge"));
	free(out);
	assert_int_equal(ldms_auth_recv(a, chl, 12, &out, &out_len, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "second challenge"));
	ldms_auth_free(a);
	ldms_auth_free(b);

	/* overlong */
	a = ldms_auth_new(&cfg, 0, &err);
	uint8_t *big = calloc(1, LDMS_AUTH_MSG_MAX + 1);
	assert_int_equal(ldms_auth_recv(a, big, LDMS_AUTH_MSG_MAX + 1, &out, &out_len, &err),
			 -EPROTO);
	free(big);
	ldms_auth_free(a);
	ldms_auth_cfg_free(&cfg);
}

/* ------------------------------------------------------------------- munge */

static pid_t munged_pid = -1;
static char munge_dir[64];
static char munge_sock[128];

static void munged_stop(void)
{
	if (munged_pid > 0) {
		int st;
		kill(munged_pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(munged_pid, &st, WNOHANG) == munged_pid) {
				munged_pid = -1;
				break;
			}
			usleep(10000);
		}
		if (munged_pid > 0) {
			kill(munged_pid, SIGKILL);
			waitpid(munged_pid, &st, 0);
		}
		munged_pid = -1;
	}
	if (munge_dir[0]) {
		const char *files[] = {"munge.key",  "munge.sock", "munge.sock.lock",
				       "munged.log", "munged.pid", "munged.seed"};
		char p[256];
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", munge_dir, files[i]);
			unlink(p);
		}
		rmdir(munge_dir);
		munge_dir[0] = '\0';
	}
}

/* Starts a private munged (own key and socket) in the foreground; bounded wait
 * for its socket. Returns 0, or -1 if munged is not installed (test skipped). */
static int munged_start(void)
{
	char key[256], logf[256], pidf[256], seed[256], buf[1024];
	int fd, rnd;
	struct stat st;

	if (munged_pid > 0)
		return 0;
	if (access(MUNGED, X_OK) != 0)
		return -1;
	strcpy(munge_dir, "/tmp/ldmsc-munge-XXXXXX");
	assert_non_null(mkdtemp(munge_dir));
	/* munged insists that everyone can reach its socket's directory */
	assert_int_equal(chmod(munge_dir, 0711), 0);
	snprintf(key, sizeof(key), "%s/munge.key", munge_dir);
	snprintf(munge_sock, sizeof(munge_sock), "%s/munge.sock", munge_dir);
	snprintf(logf, sizeof(logf), "%s/munged.log", munge_dir);
	snprintf(pidf, sizeof(pidf), "%s/munged.pid", munge_dir);
	snprintf(seed, sizeof(seed), "%s/munged.seed", munge_dir);
	rnd = open("/dev/urandom", O_RDONLY);
	assert_true(rnd >= 0);
	assert_int_equal(read(rnd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(rnd);
	fd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);

	munged_pid = fork();
	assert_true(munged_pid >= 0);
	if (munged_pid == 0) {
		char a_sock[300], a_key[300], a_pid[300], a_log[300], a_seed[300];
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		snprintf(a_sock, sizeof(a_sock), "--socket=%s", munge_sock);
		snprintf(a_key, sizeof(a_key), "--key-file=%s", key);
		snprintf(a_pid, sizeof(a_pid), "--pid-file=%s", pidf);
		snprintf(a_log, sizeof(a_log), "--log-file=%s", logf);
		snprintf(a_seed, sizeof(a_seed), "--seed-file=%s", seed);
		/* --force: munged refuses /tmp-based paths and running as root otherwise */
		execl(MUNGED, MUNGED, "--foreground", "--force", a_sock, a_key, a_pid, a_log,
		      a_seed, "--num-threads=2", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) { /* at most ~10 s */
		int status;
		if (stat(munge_sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(munged_pid, &status, WNOHANG) == munged_pid) {
			munged_pid = -1;
			fail_msg("munged exited during start-up (see %s)", logf);
		}
		usleep(20000);
	}
	munged_stop();
	fail_msg("munged did not create its socket %s in time", munge_sock);
	return -1;
}

static void munge_cfg(struct ldms_auth_cfg *cfg, const char *sock)
{
	char arg[300];
	struct ldms_err err;
	snprintf(arg, sizeof(arg), "socket=%s", sock);
	assert_int_equal(cfg_make(cfg, "munge", arg, &err), 0);
}

static void test_munge_handshake(void **state)
{
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	struct sockaddr_in ca = sin_make("127.0.0.1", 42352), sa = sin_make("127.0.0.1", 30005);
	uid_t uid;
	gid_t gid;

	if (munged_start()) {
		print_message("munge tests skipped: %s is not installed\n", MUNGED);
		skip();
	}
	munge_cfg(&cfg, munge_sock);
	struct side c = {0}, s = {0};
	c.a = ldms_auth_new(&cfg, 1, &err);
	s.a = ldms_auth_new(&cfg, 0, &err);
	assert_non_null(c.a);
	assert_non_null(s.a);
	assert_string_equal(ldms_auth_plugin_name(c.a), "munge");
	handshake(&c, &s, (struct sockaddr *)&ca, (struct sockaddr *)&sa);
	if (c.status != 1 || s.status != 1)
		fail_msg("munge handshake: client %d '%s', server %d '%s'", c.status, c.err.msg,
			 s.status, s.err.msg);
	ldms_auth_cred(c.a, &uid, &gid);
	assert_int_equal(uid, getuid());
	assert_int_equal(gid, getgid());
	ldms_auth_cred(s.a, &uid, &gid);
	assert_int_equal(uid, getuid());
	assert_int_equal(gid, getgid());
	side_fini(&c);
	side_fini(&s);

	/* Address mismatch (the server believes the client is elsewhere): only logged. */
	struct sockaddr_in other = sin_make("10.1.2.3", 999);
	uint8_t *cred, *out;
	size_t cred_len, out_len;
	struct ldms_auth *a = ldms_auth_new(&cfg, 1, &err), *b = ldms_auth_new(&cfg, 0, &err);
	assert_int_equal(ldms_auth_begin(a, (struct sockaddr *)&ca, (struct sockaddr *)&sa, &cred,
					 &cred_len, &err),
			 0);
	assert_true(cred_len > 6 && memcmp(cred, "MUNGE:", 6) == 0 && cred[cred_len - 1] == 0);
	assert_int_equal(ldms_auth_begin(b, (struct sockaddr *)&sa, (struct sockaddr *)&other, &out,
					 &out_len, &err),
			 0);
	free(out);
	assert_int_equal(ldms_auth_recv(b, cred, cred_len, &out, &out_len, &err), 1);
	assert_int_equal(out_len, 0);
	ldms_auth_free(b);

	/* The same credential again is a replay: refused with munge's reason. */
	b = ldms_auth_new(&cfg, 0, &err);
	assert_int_equal(ldms_auth_begin(b, (struct sockaddr *)&sa, (struct sockaddr *)&ca, &out,
					 &out_len, &err),
			 0);
	free(out);
	ldms_err_clear(&err);
	assert_int_equal(ldms_auth_recv(b, cred, cred_len, &out, &out_len, &err), -EACCES);
	assert_non_null(strstr(err.msg, "munge: unmunge failed: "));
	assert_non_null(strstr(err.msg, "eplayed"));
	assert_false(ldms_auth_approved(b));
	ldms_auth_cred(b, &uid, &gid);
	assert_int_equal(uid, (uid_t)-1);
	ldms_auth_free(b);
	free(cred);
	ldms_auth_free(a);

	/* Garbage and malformed credentials. */
	static const struct {
		const char *bytes;
		size_t len;
		int rc;
	} cases[] = {
	    {"MUNGE:AAAA:", 12, -EACCES}, {"hello", 6, -EACCES}, {"MUNGE:", 6, -EPROTO},
	    {"MUN\0GE:", 8, -EPROTO},	  {"", 0, -EPROTO},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = ldms_auth_new(&cfg, 0, &err);
		ldms_err_clear(&err);
		int rc = ldms_auth_recv(b, (const uint8_t *)cases[i].bytes, cases[i].len, &out,
					&out_len, &err);
		if (rc != cases[i].rc)
			fail_msg("munge case %zu: rc %d (%s), expected %d", i, rc, err.msg,
				 cases[i].rc);
		if (rc == -EACCES)
			assert_non_null(strstr(err.msg, "munge: unmunge failed: "));
		ldms_auth_free(b);
	}
	ldms_auth_cfg_free(&cfg);

	/* munged unreachable: begin fails with a message naming the socket. */
	munge_cfg(&cfg, "/nonexistent/munge.sock");
	a = ldms_auth_new(&cfg, 1, &err);
	assert_non_null(a);
	ldms_err_clear(&err);
	assert_int_equal(ldms_auth_begin(a, NULL, NULL, &out, &out_len, &err), -ENOTCONN);
	assert_non_null(strstr(err.msg, "munge: cannot create a credential: "));
	assert_non_null(strstr(err.msg, "/nonexistent/munge.sock"));
	ldms_auth_free(a);
	ldms_auth_cfg_free(&cfg);
}

/* Decodes a credential made by begin() and returns its payload (caller frees). */
static uint8_t *munge_payload(const struct sockaddr *local, int *len)
{
	struct ldms_auth_cfg cfg;
	struct ldms_err err;
	struct ldms_auth *a;
	uint8_t *cred;
	size_t cred_len;
	void *payload = NULL;
	munge_ctx_t ctx = munge_ctx_create();

	munge_cfg(&cfg, munge_sock);
	a = ldms_auth_new(&cfg, 1, &err);
	assert_int_equal(ldms_auth_begin(a, local, NULL, &cred, &cred_len, &err), 0);
	assert_int_equal(munge_ctx_set(ctx, MUNGE_OPT_SOCKET, munge_sock), EMUNGE_SUCCESS);
	assert_int_equal(munge_decode((char *)cred, ctx, &payload, len, NULL, NULL),
			 EMUNGE_SUCCESS);
	munge_ctx_destroy(ctx);
	free(cred);
	ldms_auth_free(a);
	ldms_auth_cfg_free(&cfg);
	return payload;
}

/* The payload is the sender's own sockaddr_in exactly as in the upstream capture
 * (golden/wire/05-auth-munge/setup.txt: 0200 7535 7f00 0001 0000 0000 0000 0000), and
 * an IPv4-mapped IPv6 address is sent as that same sockaddr_in. */
static void test_munge_payload(void **state)
{
	static const uint8_t golden[16] = {0x02, 0x00, 0x75, 0x35, 0x7f, 0x00, 0x00, 0x01,
					   0,	 0,    0,    0,	   0,	 0,    0,    0};
	struct sockaddr_in sa = sin_make("127.0.0.1", 30005);
	struct sockaddr_in6 sa6;
	uint8_t *p;
	int len = -1;

	if (munged_start()) {
		print_message("munge tests skipped: %s is not installed\n", MUNGED);
		skip();
	}
	p = munge_payload((struct sockaddr *)&sa, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(p, golden, 16);
	free(p);

	memset(&sa6, 0, sizeof(sa6));
	sa6.sin6_family = AF_INET6;
	sa6.sin6_port = htons(30005);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa6.sin6_addr);
	p = munge_payload((struct sockaddr *)&sa6, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(p, golden, 16);
	free(p);
}

static int group_setup(void **state)
{
	strcpy(tmpdir, "/tmp/ldmsc-auth-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	unsetenv("LDMS_AUTH_FILE");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	munged_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ovis_golden),
	    cmocka_unit_test(test_ovis_handshake),
	    cmocka_unit_test(test_ovis_secret_rules),
	    cmocka_unit_test(test_cfg),
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_ovis_malformed),
	    cmocka_unit_test(test_munge_handshake),
	    cmocka_unit_test(test_munge_payload),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
