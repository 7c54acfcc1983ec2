/* ldmsd_controller command tables and the text-command -> request translation
 * (header-only so the unit tests can check it against upstream's captured bytes).
 * Attribute order follows upstream's python client where it differs from the
 * command line (prdcr_add, load, prdcr_status), so requests are byte-identical. */
#ifndef LDMSD_CONTROLLER_CMDS_H
#define LDMSD_CONTROLLER_CMDS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldms/ldms_ctrl.h"

/* `help` lists these as documented (python cmd: sorted, every do_* with a doc) */
static const char *const ctl_doc_cmds[] = {
    "EOF",
    "advertiser_add",
    "advertiser_del",
    "advertiser_start",
    "advertiser_status",
    "advertiser_stop",
    "auth_add",
    "bridge_add",
    "bridge_del",
    "bridge_start",
    "bridge_status",
    "bridge_stop",
    "comment",
    "config",
    "daemon_exit",
    "daemon_status",
    "dump_cfg",
    "env",
    "failover_config",
    "failover_peercfg_start",
    "failover_peercfg_stop",
    "failover_start",
    "failover_status",
    "failover_stop",
    "greeting",
    "help",
    "include",
    "listen",
    "load",
    "log_level",
    "log_status",
    "loglevel",
    "logrotate",
    "metric_sets_default_authz",
    "msg_client_stats",
    "msg_disable",
    "msg_enable",
    "msg_stats",
    "oneshot",
    "option",
    "plugn_sets",
    "prdcr_add",
    "prdcr_del",
    "prdcr_hint_tree",
    "prdcr_listen_add",
    "prdcr_listen_del",
    "prdcr_listen_start",
    "prdcr_listen_status",
    "prdcr_listen_stop",
    "prdcr_set_status",
    "prdcr_start",
    "prdcr_start_regex",
    "prdcr_stats",
    "prdcr_status",
    "prdcr_stop",
    "prdcr_stop_regex",
    "prdcr_stream_status",
    "prdcr_subscribe",
    "prdcr_unsubscribe",
    "profiling",
    "profiling_disable",
    "profiling_enable",
    "publish",
    "qgroup_config",
    "qgroup_info",
    "qgroup_member_add",
    "qgroup_member_del",
    "qgroup_start",
    "qgroup_stop",
    "quit",
    "say",
    "script",
    "set_sec_mod",
    "set_stats",
    "setgroup_add",
    "setgroup_del",
    "setgroup_ins",
    "setgroup_mod",
    "setgroup_rm",
    "shell",
    "smplrp_add",
    "smplrp_del",
    "smplrp_start",
    "smplrp_stop",
    "source",
    "start",
    "stats_reset",
    "status",
    "stop",
    "store_time_stats",
    "stream_client_dump",
    "stream_disable",
    "stream_enable",
    "stream_status",
    "strgp_add",
    "strgp_del",
    "strgp_metric_add",
    "strgp_metric_del",
    "strgp_plugin_stats",
    "strgp_prdcr_add",
    "strgp_prdcr_del",
    "strgp_start",
    "strgp_status",
    "strgp_stop",
    "subscribe",
    "term",
    "thread_stats",
    "udata",
    "udata_regex",
    "update_time_stats",
    "updtr_add",
    "updtr_del",
    "updtr_match_add",
    "updtr_match_del",
    "updtr_match_list",
    "updtr_prdcr_add",
    "updtr_prdcr_del",
    "updtr_start",
    "updtr_status",
    "updtr_stop",
    "updtr_task",
    "usage",
    "version",
    "xprt_stats",
};
static const char *const ctl_undoc_cmds[] = {"plugn_status"};

/* verbs of the controller that map onto another request */
struct ctl_alias {
	const char *verb;
	const char *as;
	const char *extra; /* extra attribute token appended, or NULL */
};
static const struct ctl_alias ctl_aliases[] = {
    {"bridge_del", "prdcr_del", NULL},
    {"bridge_start", "prdcr_start", NULL},
    {"bridge_stop", "prdcr_stop", NULL},
    {"bridge_status", "prdcr_status", NULL},
    {"advertiser_status", "prdcr_status", NULL},
    {"profiling_enable", "profiling", "enable=true"},
    {"profiling_disable", "profiling", "enable=false"},
};

/* Required/optional attributes (help text) and, where upstream's client sends a
 * fixed order, that order ("order" lists every attribute in sending order). */
struct ctl_cmd_doc {
	const char *verb;
	const char *summary;
	const char *req;   /* space-separated */
	const char *opt;   /* space-separated */
	const char *order; /* NULL: command-line order */
};

/* Rows of the verbs that every configuration object spells the same way, so the
 * table says once what their help is: <obj>_stop / _del (and _start where it has
 * no options) take only name=; <obj>_<thing>_add / _del edit one of its lists. */
// clang-format off
#define CTL_DOC_NAME_ONLY(verb, text) {verb, text, "name", "", NULL}
#define CTL_DOC_BARE(verb, text) {verb, text, "", "", NULL}
#define CTL_DOC_STOP_DEL(obj, noun) \
	CTL_DOC_NAME_ONLY(obj "_stop", "Stop " noun), \
	CTL_DOC_NAME_ONLY(obj "_del", "Delete " noun " (it must be stopped)")
#define CTL_DOC_LIFE(obj, noun) \
	CTL_DOC_NAME_ONLY(obj "_start", "Start " noun), CTL_DOC_STOP_DEL(obj, noun)
#define CTL_DOC_ADD_DEL(list, thing, noun, req, opt) \
	{list "_add", "Add " thing " to " noun, req, opt, NULL}, \
	{list "_del", "Remove " thing " from " noun, req, opt, NULL}
// clang-format on

static const struct ctl_cmd_doc ctl_docs[] = {
    {"prdcr_add", "Add an LDMS Producer to the Aggregator", "name type xprt host port reconnect",
     "auth perm rail quota rx_rate cache_ip",
     "name xprt host port interval type auth perm rail quota rx_rate ip"},
    {"prdcr_start", "Start the specified producer", "name", "reconnect", NULL},
    CTL_DOC_STOP_DEL("prdcr", "the specified producer"),
    {"prdcr_start_regex", "Start all producers matching a regular expression", "regex", "reconnect",
     NULL},
    {"prdcr_stop_regex", "Stop all producers matching a regular expression", "regex", "", NULL},
    {"prdcr_status", "Get status of all producers or the named one", "", "name summary",
     "name summary"},
    {"prdcr_set_status", "Get the status of the sets of producers", "", "producer instance schema",
     NULL},
    {"prdcr_subscribe", "Subscribe to messages/streams from the matching producers", "regex",
     "stream message_tag rx_rate", NULL},
    {"prdcr_unsubscribe", "Unsubscribe from messages/streams of the matching producers", "regex",
     "stream message_tag", NULL},
    {"prdcr_stream_status", "Stream statistics of the matching producers", "regex", "", NULL},
    CTL_DOC_NAME_ONLY("prdcr_hint_tree", "Update hints of the sets of a producer"),
    CTL_DOC_BARE("prdcr_stats", "Producer statistics"),
    {"bridge_add", "Add a bridge producer", "name xprt host port reconnect",
     "auth perm rail quota rx_rate", NULL},
    {"advertiser_add", "Add an advertiser (aggregator to advertise to)",
     "name xprt host port reconnect", "auth perm rail quota rx_rate", NULL},
    {"advertiser_start", "Start advertising", "name",
     "xprt host port auth perm reconnect rail quota rx_rate", NULL},
    CTL_DOC_STOP_DEL("advertiser", "an advertiser"),
    {"prdcr_listen_add", "Accept advertisements matching a hostname regex or an IP range", "name",
     "regex ip disable_start quota rx_rate type advertiser_xprt advertiser_port "
     "advertiser_auth rail reconnect perm",
     NULL},
    CTL_DOC_LIFE("prdcr_listen", "a producer listener"),
    CTL_DOC_BARE("prdcr_listen_status", "Status of the producer listeners"),
    {"updtr_add", "Add an updater", "name interval", "offset push auto_interval perm", NULL},
    {"updtr_start", "Start an updater", "name", "interval offset auto_interval", NULL},
    CTL_DOC_STOP_DEL("updtr", "an updater"),
    CTL_DOC_ADD_DEL("updtr_prdcr", "a producer regex", "an updater", "name regex", ""),
    CTL_DOC_ADD_DEL("updtr_match", "a set regex (instance or schema=)", "an updater", "name regex",
		    "match"),
    {"updtr_match_list", "List the set matches of updaters", "", "name", NULL},
    {"updtr_status", "Get status of all updaters or the named one", "", "name summary reset", NULL},
    CTL_DOC_NAME_ONLY("updtr_task", "Get the tasks of an updater"),
    {"update_time_stats", "Update time statistics", "", "name reset", NULL},
    {"strgp_add", "Add a storage policy", "name plugin container",
     "schema regex decomposition flush perm", NULL},
    CTL_DOC_LIFE("strgp", "a storage policy"),
    CTL_DOC_ADD_DEL("strgp_prdcr", "a producer regex", "a storage policy", "name regex", ""),
    CTL_DOC_ADD_DEL("strgp_metric", "a metric", "a storage policy", "name metric", ""),
    {"strgp_status", "Get status of all storage policies or the named one", "", "name", NULL},
    {"store_time_stats", "Store time statistics", "", "name reset", NULL},
    {"load", "Load a plugin instance", "name", "plugin", "name plugin"},
    CTL_DOC_NAME_ONLY("config", "Configure a plugin instance (other attributes go to the plugin)"),
    {"start", "Start a sampler plugin instance", "name interval", "offset exclusive_thread", NULL},
    CTL_DOC_NAME_ONLY("stop", "Stop a sampler plugin instance"),
    CTL_DOC_NAME_ONLY("term", "Terminate a plugin instance"),
    {"usage", "Show plugin usage", "", "name", NULL},
    {"plugn_status", "Status of the plugin instances", "", "name plugin", NULL},
    {"plugn_sets", "Sets of the sampler plugin instances", "", "name", NULL},
    {"udata", "Set the user data of a metric of a local set", "set metric udata", "", NULL},
    {"udata_regex", "Set the user data of the matching metrics (base, base+incr, ...)",
     "set regex base", "incr", NULL},
    {"daemon_status", "Daemon state", "", "thread_stats", NULL},
    CTL_DOC_BARE("daemon_exit", "Exit the connected LDMS daemon"),
    CTL_DOC_BARE("version", "LDMS versions of the daemon"),
    CTL_DOC_BARE("env", "Set environment variables (NAME=VALUE ...)"),
    {"include", "Process a configuration file", "path", "", NULL},
    CTL_DOC_BARE("option", "Set daemon command-line options"),
    {"oneshot", "Make a sampler sample once at time= (epoch seconds, now or now+N)", "name time",
     "", NULL},
    CTL_DOC_BARE("logrotate", "Rename the log file to <path>-<epoch> and open a new one"),
    {"log_level", "Change the log level", "level", "name regex test", NULL},
    {"loglevel", "Change the log level (deprecated, use log_level)", "level", "name regex test",
     NULL},
    {"log_status", "Loggers and their levels", "", "name", NULL},
    {"listen", "Add a listening endpoint", "xprt port", "host auth quota rx_rate", NULL},
    {"auth_add", "Add an authentication domain", "name", "plugin", NULL},
    {"metric_sets_default_authz", "Default ownership and permission of new sets", "",
     "uid gid perm", NULL},
    {"set_sec_mod", "Change ownership/permission of matching sets", "regex", "uid gid perm", NULL},
    {"set_stats", "Set memory statistics", "", "summary", NULL},
    {"thread_stats", "Thread statistics", "", "reset", NULL},
    {"xprt_stats", "Transport statistics", "", "reset", NULL},
    CTL_DOC_BARE("stats_reset", "Reset statistics"),
    {"profiling", "Profiling of LDMS operations", "", "enable reset", NULL},
    {"greeting", "Protocol test", "", "name offset level test path", NULL},
    {"dump_cfg", "Write the running configuration to a file", "path", "", NULL},
    {"stream_status", "Legacy stream statistics", "", "regex stream reset", NULL},
    CTL_DOC_BARE("stream_client_dump", "Legacy stream clients"),
    CTL_DOC_BARE("stream_enable", "Enable legacy streams"),
    CTL_DOC_BARE("stream_disable", "Disable legacy streams"),
    {"publish", "Publish string= or json= data to a stream", "name", "string json type", NULL},
    CTL_DOC_NAME_ONLY("subscribe", "Subscribe to a stream"),
    CTL_DOC_NAME_ONLY("unsubscribe", "Unsubscribe from a stream"),
    CTL_DOC_NAME_ONLY("stream_new", "Declare a stream (listed by stream_status from now on)"),
    CTL_DOC_BARE("example", "Echo the attributes of the request (protocol example)"),
    {"msg_stats", "LDMS message service statistics", "", "regex stream reset", NULL},
    {"msg_client_stats", "LDMS message client statistics", "", "reset", NULL},
    CTL_DOC_BARE("msg_enable", "Enable the LDMS message service"),
    CTL_DOC_BARE("msg_disable", "Disable the LDMS message service"),
    {"qgroup_config", "Configure the quota group", "",
     "quota ask_interval ask_amount ask_mark reset_interval", NULL},
    {"qgroup_member_add", "Add a quota group member", "xprt host", "port auth", NULL},
    {"qgroup_member_del", "Remove a quota group member", "host", "port", NULL},
    CTL_DOC_BARE("qgroup_start", "Start the quota group"),
    CTL_DOC_BARE("qgroup_stop", "Stop the quota group"),
    CTL_DOC_BARE("qgroup_info", "Quota group information"),
    {"setgroup_add", "Create a set group", "name", "producer interval offset perm", NULL},
    {"setgroup_mod", "Modify a set group", "name", "interval offset", NULL},
    CTL_DOC_NAME_ONLY("setgroup_del", "Delete a set group"),
    {"setgroup_ins", "Insert sets into a set group", "name instance", "", NULL},
    {"setgroup_rm", "Remove sets from a set group", "name instance", "", NULL},
    {"smplrp_add", "Add a sampler policy", "name path", "", NULL},
    CTL_DOC_LIFE("smplrp", "a sampler policy"),
    {"failover_config", "Configure failover (not supported by ldms-c)", "host port xprt",
     "interval peer_name auto_switch timeout_factor", NULL},
    CTL_DOC_BARE("failover_start", "Start failover"),
    CTL_DOC_BARE("failover_stop", "Stop failover"),
    CTL_DOC_BARE("failover_status", "Failover status"),
    CTL_DOC_BARE("failover_peercfg_start", "Start peer configuration"),
    CTL_DOC_BARE("failover_peercfg_stop", "Stop peer configuration"),
};

static const struct ctl_cmd_doc *ctl_doc_find(const char *verb)
{
	for (size_t i = 0; i < sizeof(ctl_docs) / sizeof(ctl_docs[0]); i++)
		if (strcmp(ctl_docs[i].verb, verb) == 0)
			return &ctl_docs[i];
	return NULL;
}

/* position of attribute id in a space-separated order list of names, or -1 */
static int ctl_order_pos(const char *order, int id)
{
	char name[64];
	int pos = 0;
	for (const char *p = order; *p;) {
		size_t n = strcspn(p, " ");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (ldms_ctrl_attr_id(name) == id)
			return pos;
		pos++;
		p += n;
		while (*p == ' ')
			p++;
	}
	return -1;
}

/* which free-form attributes a verb folds into a single STRING (§1.1 of the spec;
 * upstream's controller folds every unknown name the same way) */
static int ctl_folds(const char *verb, const char *name, int id)
{
	if (strcmp(verb, "env") == 0)
		return 1;
	if (strcmp(verb, "config") == 0)
		return strcmp(name, "name") != 0;
	if (strcmp(verb, "auth_add") == 0)
		return strcmp(name, "name") != 0 && strcmp(name, "plugin") != 0;
	if (strcmp(verb, "default_auth") == 0)
		return strcmp(name, "plugin") != 0;
	/* listen folds the attributes it does not name itself (§1.1), daemon_status its
	 * `thread_stats` keyword; every other
	 * command rejects an unknown attribute name (see ctl_build_request). */
	if (strcmp(verb, "listen") == 0 || strcmp(verb, "daemon_status") == 0)
		return id < 0;
	return 0;
}

struct ctl_tok {
	char *name;
	char *value; /* NULL for a keyword */
	int id;
};

/* Build the request for one text command (verb already split off). On error returns
 * a negative errno with a message in err. *id_out receives the request id. */
static int ctl_build_request(const char *verb, const char *args, struct ldms_ctrl_msg **out,
			     char *err, size_t errlen)
{
	const char *extra = NULL;
	const char *rverb = verb;
	char *dup = NULL, *save = NULL, *tok, *fold = NULL;
	struct ctl_tok *toks = NULL;
	size_t ntok = 0, flen = 0;
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; i < sizeof(ctl_aliases) / sizeof(ctl_aliases[0]); i++)
		if (strcmp(ctl_aliases[i].verb, verb) == 0) {
			rverb = ctl_aliases[i].as;
			extra = ctl_aliases[i].extra;
		}
	int cid = ldms_ctrl_cmd_id(rverb);
	if (cid < 0) {
		snprintf(err, errlen, "'%s' is not supported.", verb);
		return -ENOSYS;
	}
	struct ldms_ctrl_msg *m = ldms_ctrl_req_new((uint32_t)cid);
	if (!m)
		return -ENOMEM;

	if (strcmp(rverb, "option") == 0) { /* the remainder is one string */
		while (*args == ' ' || *args == '\t')
			args++;
		if (*args)
			rc = ldms_ctrl_req_attr_add(m, LDMSD_ATTR_STRING, args);
		goto done;
	}
	size_t alen = strlen(args) + (extra ? strlen(extra) + 1 : 0) + 1;
	dup = malloc(alen);
	fold = calloc(1, alen + 1);
	toks = calloc(alen / 2 + 4, sizeof(*toks));
	if (!dup || !fold || !toks) {
		rc = -ENOMEM;
		goto done;
	}
	snprintf(dup, alen, "%s%s%s", args, extra ? " " : "", extra ? extra : "");
	for (tok = strtok_r(dup, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = 0;
		int id = ldms_ctrl_attr_id(tok);
		if (ctl_folds(rverb, tok, id)) {
			if (eq)
				*eq = '=';
			flen += (size_t)snprintf(fold + flen, alen + 1 - flen, "%s%s",
						 flen ? " " : "", tok);
			continue;
		}
		if (id < 0) {
			snprintf(err, errlen, "Invalid attribute '%s'.", tok);
			rc = -EINVAL;
			goto done;
		}
		if (eq && eq[1] == 0) {
			snprintf(err, errlen,
				 "Syntax error, there are attributes for which no value is given.");
			rc = -EINVAL;
			goto done;
		}
		toks[ntok].name = tok;
		toks[ntok].value = eq ? eq + 1 : NULL;
		toks[ntok].id = id;
		ntok++;
	}
	/* upstream defaults of its client */
	const struct ctl_cmd_doc *doc = ctl_doc_find(rverb);
	if (cid == LDMSD_PLUGN_LOAD_REQ) {
		int has_plugin = 0;
		const char *name = NULL;
		for (size_t i = 0; i < ntok; i++) {
			has_plugin |= toks[i].id == LDMSD_ATTR_PLUGIN;
			if (toks[i].id == LDMSD_ATTR_NAME)
				name = toks[i].value;
		}
		if (!has_plugin && name) {
			toks[ntok].name = "plugin";
			toks[ntok].value = (char *)name;
			toks[ntok].id = LDMSD_ATTR_PLUGIN;
			ntok++;
		}
	}
	if (cid == LDMSD_PRDCR_STATUS_REQ) {
		int has = 0;
		for (size_t i = 0; i < ntok; i++)
			has |= toks[i].id == LDMSD_ATTR_SUMMARY;
		if (!has) {
			toks[ntok].name = "summary";
			toks[ntok].value = NULL;
			toks[ntok].id = LDMSD_ATTR_SUMMARY;
			ntok++;
		}
	}
	/* first occurrence wins; then the client's fixed order where it has one */
	for (size_t i = 0; i < ntok; i++)
		for (size_t k = 0; k < i; k++)
			if (toks[k].id == toks[i].id && toks[i].id >= 0) {
				toks[i].id = -2; /* drop */
				break;
			}
	if (doc && doc->order) {
		/* stable insertion sort by position; unlisted ones keep their order after */
		for (size_t i = 1; i < ntok; i++) {
			struct ctl_tok t = toks[i];
			int pt = ctl_order_pos(doc->order, t.id);
			if (pt < 0)
				pt = 1000;
			size_t k = i;
			while (k > 0) {
				int pk = ctl_order_pos(doc->order, toks[k - 1].id);
				if (pk < 0)
					pk = 1000;
				if (pk <= pt)
					break;
				toks[k] = toks[k - 1];
				k--;
			}
			toks[k] = t;
		}
	}
	for (size_t i = 0; i < ntok && !rc; i++)
		if (toks[i].id >= 0)
			rc = ldms_ctrl_req_attr_add(m, (uint32_t)toks[i].id, toks[i].value);
	if (!rc && flen)
		rc = ldms_ctrl_req_attr_add(m, LDMSD_ATTR_STRING, fold);
done:
	free(dup);
	free(fold);
	free(toks);
	if (rc) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-rc));
		ldms_ctrl_msg_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* "Error starting prdcr nosuch: " as upstream's client words it for <obj>_<action> */
static void ctl_err_prefix(const char *verb, const char *args, char *buf, size_t len)
{
	static const struct {
		const char *act, *ing;
	} acts[] = {{"add", "adding"},
		    {"del", "deleting"},
		    {"start", "starting"},
		    {"stop", "stopping"},
		    {"status", "getting status of"}};
	char name[256] = "";
	const char *us = strrchr(verb, '_');
	buf[0] = 0;
	if (!us)
		return;
	const char *n = strstr(args, "name=");
	if (n && (n == args || n[-1] == ' ' || n[-1] == '\t'))
		sscanf(n + 5, "%255s", name);
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (strcmp(us + 1, acts[i].act) == 0 && name[0]) {
			snprintf(buf, len, "Error %s %.*s %s: ", acts[i].ing, (int)(us - verb),
				 verb, name);
			return;
		}
}

#endif
