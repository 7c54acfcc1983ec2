/* Unit test of the guard that the producer, producer listen, updater and storage policy
 * commands share (cfgobj.c): each kind's reply, errno and wording, for an unknown name, a
 * requester without access and every state a command refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ldmsd.h"
#include "ldmsd_agg.h"
#include "ldmsd_cmd.h"
#include "ldmsd_config.h"

/* uid 0: the daemon's own (a configuration file line); else a peer with that uid in the
 * daemon's group */
static int run(struct ldmsd *d, unsigned uid, const char *line, struct ldmsd_reply *rep)
{
	struct ldms_err e;
	struct ldmsd_origin o = {.kind = LDMSD_ORIGIN_INTERNAL};
	struct ldmsd_req *r = NULL;
	ldms_err_clear(&e);
	int rc = ldmsd_cfg_parse_line(line, strlen(line), &o, &r, &e);
	assert_int_equal(rc, 0);
	if (uid) {
		r->origin.kind = LDMSD_ORIGIN_NET;
		r->origin.uid = uid;
		r->origin.gid = getegid(); /* the daemon lets its group run the command */
	}
	/* a peer's commands wait for the daemon to be up: pretend it is, for this one */
	int st = d->state, inband = d->inband;
	if (uid) {
		d->state = LDMSD_STATE_RUNNING;
		d->inband = 1;
	}
	rc = ldmsd_cmd_exec(d, r, NULL, rep);
	d->state = st;
	d->inband = inband;
	ldmsd_req_free(r);
	return rc;
}

struct step {
	unsigned uid;
	const char *line;
	int rc;
	const char *msg; /* NULL: not checked */
};

static void run_steps(struct ldmsd *d, const struct step *s, size_t n)
{
	struct ldmsd_reply rep;
	ldmsd_reply_init(&rep);
	for (size_t i = 0; i < n; i++) {
		int rc = run(d, s[i].uid, s[i].line, &rep);
		if (rc != s[i].rc)
			fail_msg("'%s': rc %d, want %d (%s)", s[i].line, rc, s[i].rc,
				 rep.msg.s ? rep.msg.s : "");
		if (s[i].msg)
			assert_string_equal(rep.msg.s ? rep.msg.s : "", s[i].msg);
	}
	ldmsd_reply_free(&rep);
}

#define NOENT_P	 "The producer specified does not exist."
#define NOENT_U	 "The updater specified does not exist."
#define NOENT_S	 "The storage policy specified does not exist."
#define EACCES_M "Permission denied."

static void test_producers(void **state)
{
	struct ldmsd *d = ldmsd_new();
	const struct step s[] = {
	    {0, "prdcr_del name=x", -ENOENT, NOENT_P},
	    {0, "prdcr_start name=x", -ENOENT, NOENT_P},
	    {0, "prdcr_stop name=x", -ENOENT, NOENT_P},
	    {0, "prdcr_status name=x", -ENOENT, NOENT_P},
	    {0, "prdcr_set_status producer=x", -ENOENT, NOENT_P},
	    {0,
	     "prdcr_add name=p1 host=127.0.0.1 port=1 xprt=sock type=active reconnect=1s perm=0700",
	     0, NULL},
	    {54321, "prdcr_del name=p1", -EACCES, EACCES_M},
	    {54321, "prdcr_start name=p1", -EACCES, EACCES_M},
	    {54321, "prdcr_stop name=p1", -EACCES, EACCES_M},
	    {0, "prdcr_stop name=p1", -EBUSY, "The producer is already stopped."},
	    {0, "prdcr_status name=p1", 0, NULL},
	};
	run_steps(d, s, sizeof(s) / sizeof(s[0]));
	/* the states a running producer passes through, without a connection */
	struct ldmsd_prdcr *p = ldmsd_prdcr_find(d, "p1");
	assert_non_null(p);
	pthread_mutex_lock(&p->lock);
	p->state = LDMSD_PRDCR_CONNECTED;
	pthread_mutex_unlock(&p->lock);
	const struct step busy[] = {{0, "prdcr_del name=p1", -EBUSY, "The producer is in use."}};
	run_steps(d, busy, 1);
	pthread_mutex_lock(&p->lock);
	p->state = LDMSD_PRDCR_STOPPING;
	pthread_mutex_unlock(&p->lock);
	const struct step stopping[] = {
	    {0, "prdcr_stop name=p1", -EBUSY, "The producer is already stopped."},
	    {0, "prdcr_del name=p1", -EBUSY, "The producer is in use."},
	};
	run_steps(d, stopping, 2);
	pthread_mutex_lock(&p->lock);
	p->state = LDMSD_PRDCR_STOPPED;
	pthread_mutex_unlock(&p->lock);
	const struct step del[] = {
	    {0, "prdcr_del name=p1", 0, NULL},
	    {0, "prdcr_del name=p1", -ENOENT, NOENT_P},
	};
	run_steps(d, del, 2);
	ldmsd_free(d);
}

static void test_listens(void **state)
{
	struct ldmsd *d = ldmsd_new();
	const struct step s[] = {
	    {0, "prdcr_listen_del name=x", -ENOENT, "The producer listen 'x' does not exist."},
	    {0, "prdcr_listen_start name=x", -ENOENT, "The producer listen 'x' does not exist."},
	    {0, "prdcr_listen_add name=l1 regex=.* perm=0700", 0, NULL},
	    {54321, "prdcr_listen_del name=l1", -EACCES, "Permission denied"},
	    {54321, "prdcr_listen_stop name=l1", -EACCES, "Permission denied"},
	    {0, "prdcr_listen_start name=l1", 0, NULL},
	    {0, "prdcr_listen_del name=l1", -EBUSY, "The producer listen 'l1' is in use."},
	    {0, "prdcr_listen_stop name=l1", 0, NULL},
	    {0, "prdcr_listen_del name=l1", 0, NULL},
	};
	run_steps(d, s, sizeof(s) / sizeof(s[0]));
	ldmsd_free(d);
}

static void test_updaters(void **state)
{
	struct ldmsd *d = ldmsd_new();
	const struct step s[] = {
	    {0, "updtr_del name=x", -ENOENT, NOENT_U},
	    {0, "updtr_start name=x", -ENOENT, NOENT_U},
	    {0, "updtr_stop name=x", -ENOENT, NOENT_U},
	    {0, "updtr_prdcr_add name=x regex=.*", -ENOENT, NOENT_U},
	    {0, "updtr_match_add name=x regex=.*", -ENOENT, NOENT_U},
	    {0, "updtr_status name=x", -ENOENT, NOENT_U},
	    {0, "updtr_match_list name=x", -ENOENT, NOENT_U},
	    {0, "updtr_add name=u1 interval=1s perm=0700", 0, NULL},
	    {54321, "updtr_del name=u1", -EACCES, EACCES_M},
	    {54321, "updtr_start name=u1", -EACCES, EACCES_M},
	    {54321, "updtr_stop name=u1", -EACCES, EACCES_M},
	    {54321, "updtr_prdcr_add name=u1 regex=.*", -EACCES, EACCES_M},
	    {0, "updtr_stop name=u1", -EBUSY, "The updater is already stopped."},
	    {0, "updtr_prdcr_del name=u1 regex=a", -ENOENT,
	     "updtr_prdcr_del: the regular expression 'a' is not in the list"},
	    {0, "updtr_match_add name=u1 regex=( match=schema", -EINVAL, NULL},
	    {0, "updtr_match_add name=u1 regex=a match=bad", -EINVAL,
	     "updtr_match_add: invalid match 'bad' (inst or schema)"},
	    {0, "updtr_match_add name=u1 regex=a match=schema", 0, NULL},
	    {0, "updtr_match_list name=u1", 0, NULL},
	};
	run_steps(d, s, sizeof(s) / sizeof(s[0]));
	/* a running (or stopping) updater, without its schedule */
	struct ldmsd_agg *a = ldmsd_agg(d);
	struct ldmsd_updtr *u = TAILQ_FIRST(&a->updtrs);
	assert_string_equal(u->name, "u1");
	u->state = LDMSD_UPDTR_RUNNING;
	const struct step running[] = {
	    {0, "updtr_del name=u1", -EBUSY, "The updater is in use."},
	    {0, "updtr_prdcr_add name=u1 regex=.*", -EBUSY, "The updater is in use."},
	    {0, "updtr_match_del name=u1 regex=a match=schema", -EBUSY, "The updater is in use."},
	    {0, "updtr_start name=u1", -EBUSY, "The updater is already running."},
	};
	run_steps(d, running, sizeof(running) / sizeof(running[0]));
	u->state = LDMSD_UPDTR_STOPPING;
	const struct step stopping[] = {
	    {0, "updtr_stop name=u1", -EBUSY, "The updater is already stopped."},
	    {0, "updtr_start name=u1", -EBUSY, "The updater is already running."},
	};
	run_steps(d, stopping, 2);
	u->state = LDMSD_UPDTR_STOPPED;
	const struct step del[] = {
	    {0, "updtr_del name=u1", 0, NULL},
	    {0, "updtr_status", 0, NULL},
	};
	run_steps(d, del, 2);
	ldmsd_free(d);
}

static void test_policies(void **state)
{
	struct ldmsd *d = ldmsd_new();
	const struct step s[] = {
	    {0, "strgp_del name=x", -ENOENT, NOENT_S},
	    {0, "strgp_start name=x", -ENOENT, NOENT_S},
	    {0, "strgp_stop name=x", -ENOENT, NOENT_S},
	    {0, "strgp_prdcr_add name=x regex=.*", -ENOENT, NOENT_S},
	    {0, "strgp_metric_add name=x metric=m", -ENOENT, NOENT_S},
	    {0, "strgp_status name=x", -ENOENT, NOENT_S},
	    {0, "strgp_add name=s1 plugin=csv container=c schema=meminfo perm=0700", 0, NULL},
	    {54321, "strgp_del name=s1", -EACCES, EACCES_M},
	    {54321, "strgp_start name=s1", -EACCES, EACCES_M},
	    {54321, "strgp_stop name=s1", -EACCES, EACCES_M},
	    {54321, "strgp_metric_add name=s1 metric=m", -EACCES, EACCES_M},
	    {0, "strgp_stop name=s1", -EBUSY, "The storage policy is not running."},
	    {0, "strgp_prdcr_add name=s1 regex=(", -EINVAL, NULL},
	    {0, "strgp_prdcr_del name=s1 regex=a", -ENOENT,
	     "strgp_prdcr_del: the regular expression 'a' is not in the list"},
	    {0, "strgp_prdcr_add name=s1 regex=a", 0, NULL},
	    {0, "strgp_prdcr_del name=s1 regex=a", 0, NULL},
	};
	run_steps(d, s, sizeof(s) / sizeof(s[0]));
	struct ldmsd_agg *a = ldmsd_agg(d);
	struct ldmsd_strgp *sp = TAILQ_FIRST(&a->strgps);
	assert_string_equal(sp->name, "s1");
	sp->state = LDMSD_STRGP_RUNNING;
	const struct step running[] = {
	    {0, "strgp_del name=s1", -EBUSY, "The storage policy is in use."},
	    {0, "strgp_prdcr_add name=s1 regex=.*", -EBUSY, "The storage policy is in use."},
	    {0, "strgp_metric_add name=s1 metric=m", -EBUSY, "The storage policy is in use."},
	    {0, "strgp_start name=s1", -EBUSY, "The storage policy is already running."},
	};
	run_steps(d, running, sizeof(running) / sizeof(running[0]));
	sp->state = LDMSD_STRGP_STOPPING;
	const struct step stopping[] = {
	    {0, "strgp_stop name=s1", -EBUSY, "The storage policy is not running."},
	};
	run_steps(d, stopping, 1);
	sp->state = LDMSD_STRGP_STOPPED;
	const struct step del[] = {
	    {0, "strgp_del name=s1", 0, NULL},
	    {0, "strgp_status", 0, NULL},
	};
	run_steps(d, del, 2);
	ldmsd_free(d);
}

static int setup(void **state)
{
	return ldmsd_cmd_registry_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_producers),
	    cmocka_unit_test(test_listens),
	    cmocka_unit_test(test_updaters),
	    cmocka_unit_test(test_policies),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
