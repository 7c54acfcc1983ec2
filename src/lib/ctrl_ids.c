/* ldmsd_request id tables: verbs, attribute names and their aliases, per-command
 * permission/classification bits, and wire-id translation for 4.4 / 4.5 / main peers
 * (ldms-protocol.md §1.4, §6.6.4-6.6.6). Name lookups go through hash tables built
 * once (no hand-sorted arrays: upstream's unsorted bsearch table broke verbs, §1.1). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ldms/ldms_ctrl.h"

/* versions in which a command exists on the wire */
#define V44  1u
#define V45  2u
#define VM   4u
#define VALL (V44 | V45 | VM)
#define V45P (V45 | VM)

#define XUG  LDMS_CTRL_PERM_XUG
#define XALL LDMS_CTRL_PERM_XALL
#define MOD  LDMS_CTRL_PERM_MOD
#define SOK  LDMS_CTRL_PERM_STARTUP_OK
#define INT  LDMS_CTRL_PERM_INTERNAL
#define PRI  LDMS_CTRL_F_PRIORITY
#define DEF  LDMS_CTRL_F_DEFERRED
#define FREE LDMS_CTRL_F_FREEFORM

struct cmd_ent {
	uint32_t id;
	const char *name; /* verb (or internal name when perm has INT) */
	uint32_t perm;
	uint32_t vers;
};

/* Permission bits follow upstream's handler table: XALL for status queries, MOD for
 * requests that count as configuration changes (Maestro polls CFG_CNTR). */
static const struct cmd_ent cmd_tbl[] = {
    {LDMSD_EXAMPLE_REQ, "example", XALL, VALL},
    {LDMSD_GREETING_REQ, "greeting", XUG, VALL},
    {LDMSD_CFG_CNTR_REQ, "cfg_cntr", XUG | INT, VALL},
    {LDMSD_DUMP_CFG_REQ, "dump_cfg", XUG, VALL},

    {LDMSD_PRDCR_ADD_REQ, "prdcr_add", XUG | MOD, VALL},
    {LDMSD_PRDCR_DEL_REQ, "prdcr_del", XUG | MOD, VALL},
    {LDMSD_PRDCR_START_REQ, "prdcr_start", XUG | MOD | DEF, VALL},
    {LDMSD_PRDCR_STOP_REQ, "prdcr_stop", XUG | MOD, VALL},
    {LDMSD_PRDCR_STATUS_REQ, "prdcr_status", XALL | SOK, VALL},
    {LDMSD_PRDCR_START_REGEX_REQ, "prdcr_start_regex", XUG | MOD | DEF, VALL},
    {LDMSD_PRDCR_STOP_REGEX_REQ, "prdcr_stop_regex", XUG | MOD, VALL},
    {LDMSD_PRDCR_SET_REQ, "prdcr_set_status", XUG | SOK, VALL},
    {LDMSD_PRDCR_HINT_TREE_REQ, "prdcr_hint_tree", XALL | SOK, VALL},
    {LDMSD_PRDCR_SUBSCRIBE_REQ, "prdcr_subscribe", XUG | SOK | MOD, VALL},
    {LDMSD_PRDCR_UNSUBSCRIBE_REQ, "prdcr_unsubscribe", XUG | SOK | MOD, VALL},
    {LDMSD_PRDCR_STREAM_STATUS_REQ, "prdcr_stream_status", XUG | SOK, VALL},
    {LDMSD_BRIDGE_ADD_REQ, "bridge_add", XUG | MOD, V45P},
    {LDMSD_ADVERTISER_ADD_REQ, "advertiser_add", XUG, VALL},
    {LDMSD_ADVERTISER_START_REQ, "advertiser_start", XUG, VALL},
    {LDMSD_ADVERTISER_STOP_REQ, "advertiser_stop", XUG, VALL},
    {LDMSD_ADVERTISER_DEL_REQ, "advertiser_del", XUG, VALL},
    {LDMSD_PRDCR_LISTEN_ADD_REQ, "prdcr_listen_add", XUG, VALL},
    {LDMSD_PRDCR_LISTEN_DEL_REQ, "prdcr_listen_del", XUG, VALL},
    {LDMSD_PRDCR_LISTEN_START_REQ, "prdcr_listen_start", XUG | MOD, VALL},
    {LDMSD_PRDCR_LISTEN_STOP_REQ, "prdcr_listen_stop", XUG | MOD, VALL},
    {LDMSD_PRDCR_LISTEN_STATUS_REQ, "prdcr_listen_status", XALL, VALL},
    {LDMSD_ADVERTISE_REQ, "advertise", XUG | INT, VALL},

    {LDMSD_STRGP_ADD_REQ, "strgp_add", XUG | MOD, VALL},
    {LDMSD_STRGP_DEL_REQ, "strgp_del", XUG | MOD, VALL},
    {LDMSD_STRGP_START_REQ, "strgp_start", XUG | MOD | DEF, VALL},
    {LDMSD_STRGP_STOP_REQ, "strgp_stop", XUG | MOD, VALL},
    {LDMSD_STRGP_STATUS_REQ, "strgp_status", XALL | SOK, VALL},
    {LDMSD_STRGP_PRDCR_ADD_REQ, "strgp_prdcr_add", XUG | MOD, VALL},
    {LDMSD_STRGP_PRDCR_DEL_REQ, "strgp_prdcr_del", XUG | MOD, VALL},
    {LDMSD_STRGP_METRIC_ADD_REQ, "strgp_metric_add", XUG | MOD, VALL},
    {LDMSD_STRGP_METRIC_DEL_REQ, "strgp_metric_del", XUG | MOD, VALL},
    {LDMSD_STORE_TIME_STATS_REQ, "store_time_stats", XALL, VALL},

    {LDMSD_UPDTR_ADD_REQ, "updtr_add", XUG | MOD, VALL},
    {LDMSD_UPDTR_DEL_REQ, "updtr_del", XUG | MOD, VALL},
    {LDMSD_UPDTR_START_REQ, "updtr_start", XUG | MOD | DEF, VALL},
    {LDMSD_UPDTR_STOP_REQ, "updtr_stop", XUG | MOD, VALL},
    {LDMSD_UPDTR_STATUS_REQ, "updtr_status", XALL | SOK, VALL},
    {LDMSD_UPDTR_PRDCR_ADD_REQ, "updtr_prdcr_add", XUG | MOD, VALL},
    {LDMSD_UPDTR_PRDCR_DEL_REQ, "updtr_prdcr_del", XUG | MOD, VALL},
    {LDMSD_UPDTR_MATCH_ADD_REQ, "updtr_match_add", XUG | MOD, VALL},
    {LDMSD_UPDTR_MATCH_DEL_REQ, "updtr_match_del", XUG | MOD, VALL},
    {LDMSD_UPDTR_TASK_REQ, "updtr_task", XALL | SOK, VALL},
    {LDMSD_UPDTR_MATCH_LIST_REQ, "updtr_match_list", XUG, VALL},
    {LDMSD_UPDATE_TIME_STATS_REQ, "update_time_stats", XALL, VALL},

    {LDMSD_SMPLR_ADD_REQ, "smplr_add_req", XUG | INT, VALL},
    {LDMSD_SMPLR_DEL_REQ, "smplr_del_req", XUG | INT, VALL},
    {LDMSD_SMPLR_START_REQ, "smplr_start_req", XUG | INT, VALL},
    {LDMSD_SMPLR_STOP_REQ, "smplr_stop_req", XUG | INT, VALL},

    {LDMSD_PLUGN_ADD_REQ, "plugn_add_req", XUG | INT, VALL},
    {LDMSD_PLUGN_DEL_REQ, "plugn_del_req", XUG | INT, VALL},
    {LDMSD_PLUGN_START_REQ, "start", XUG | MOD, VALL},
    {LDMSD_PLUGN_STOP_REQ, "stop", XUG | MOD, VALL},
    {LDMSD_PLUGN_STATUS_REQ, "plugn_status", XALL | SOK, VALL},
    {LDMSD_PLUGN_LOAD_REQ, "load", XUG | MOD, VALL},
    {LDMSD_PLUGN_TERM_REQ, "term", XUG | MOD, VALL},
    {LDMSD_PLUGN_CONFIG_REQ, "config", XUG | MOD | FREE, VALL},
    {LDMSD_PLUGN_USAGE_REQ, "usage", XALL, VALL},
    {LDMSD_PLUGN_SETS_REQ, "plugn_sets", XALL, VALL},

    {LDMSD_SET_UDATA_REQ, "udata", XUG | MOD, VALL},
    {LDMSD_SET_UDATA_REGEX_REQ, "udata_regex", XUG | MOD, VALL},
    {LDMSD_VERBOSE_REQ, "log_level", XUG | PRI, VALL},
    {LDMSD_DAEMON_STATUS_REQ, "daemon_status", XALL | SOK, VALL},
    {LDMSD_VERSION_REQ, "version", XALL, VALL},
    {LDMSD_ENV_REQ, "env", XUG | MOD | PRI | FREE, VALL},
    {LDMSD_INCLUDE_REQ, "include", XUG | MOD | PRI, VALL},
    {LDMSD_ONESHOT_REQ, "oneshot", XUG | MOD, VALL},
    {LDMSD_LOGROTATE_REQ, "logrotate", XUG | MOD, VALL},
    {LDMSD_EXIT_DAEMON_REQ, "daemon_exit", XUG | MOD, VALL},
    {LDMSD_RECORD_LEN_ADVICE_REQ, "record_len_advice", XUG | INT, VALL},
    {LDMSD_SET_ROUTE_REQ, "set_route", XUG | INT, VALL},
    {LDMSD_XPRT_STATS_REQ, "xprt_stats", XALL, VALL},
    {LDMSD_THREAD_STATS_REQ, "thread_stats", XALL, VALL},
    {LDMSD_PRDCR_STATS_REQ, "prdcr_stats", XALL, VALL},
    {LDMSD_SET_STATS_REQ, "set_stats", XALL, VALL},
    {LDMSD_LISTEN_REQ, "listen", XUG | MOD | PRI | FREE, VALL},
    {LDMSD_SET_DEFAULT_AUTHZ_REQ, "metric_sets_default_authz", XUG | MOD, VALL},
    {LDMSD_CMDLINE_OPTIONS_SET_REQ, "option", XUG | PRI | FREE, VALL},
    {LDMSD_SET_SEC_MOD_REQ, "set_sec_mod", XUG | MOD, VALL},
    {LDMSD_LOG_STATUS_REQ, "log_status", XUG, V45P},
    {LDMSD_STATS_RESET_REQ, "stats_reset", XALL, V45P},
    {LDMSD_DEFAULT_AUTH_REQ, "default_auth", XUG | PRI | FREE, V45P},
    {LDMSD_MEMORY_REQ, "set_memory", XUG | PRI, V45P},
    {LDMSD_LOG_FILE_REQ, "log_file", XUG | PRI, V45P},
    {LDMSD_PUBLISH_KERNEL_REQ, "publish_kernel", XUG | PRI, V45P},
    {LDMSD_DAEMON_NAME_SET_REQ, "daemon_name", XUG | PRI, V45P},
    {LDMSD_WORKER_THR_SET_REQ, "worker_threads", XUG | PRI, V45P},
    {LDMSD_DEFAULT_QUOTA_REQ, "default_quota", XUG | PRI, V45P},
    {LDMSD_PID_FILE_REQ, "pid_file", XUG | PRI, V45P},
    {LDMSD_BANNER_MODE_REQ, "banner", XUG | PRI, V45P},
    {LDMSD_PROFILING_REQ, "profiling", XALL, V45P},
    {LDMSD_STORAGE_THREADS_REQ, "storage_threads", XUG | PRI, VM},
    {LDMSD_STORAGE_QUEUE_REQ, "storage_queue", XUG | PRI, VM},

    {LDMSD_FAILOVER_CONFIG_REQ, "failover_config", XUG | MOD, VALL},
    {LDMSD_FAILOVER_PEERCFG_START_REQ, "failover_peercfg_start", XUG | SOK | MOD, VALL},
    {LDMSD_FAILOVER_PEERCFG_STOP_REQ, "failover_peercfg_stop", XUG | SOK | MOD, VALL},
    {LDMSD_FAILOVER_MOD_REQ, "failover_mod", XUG | MOD, VALL},
    {LDMSD_FAILOVER_STATUS_REQ, "failover_status", XUG | SOK, VALL},
    {LDMSD_FAILOVER_PAIR_REQ, "failover_pair", XUG | INT, VALL},
    {LDMSD_FAILOVER_RESET_REQ, "failover_reset", XUG | INT, VALL},
    {LDMSD_FAILOVER_CFGPRDCR_REQ, "failover_cfgprdcr", XUG | INT, VALL},
    {LDMSD_FAILOVER_CFGUPDTR_REQ, "failover_cfgupdtr", XUG | INT, VALL},
    {LDMSD_FAILOVER_CFGSTRGP_REQ, "failover_cfgstrgp", XUG | INT, VALL},
    {LDMSD_FAILOVER_PING_REQ, "failover_ping", XUG | INT, VALL},
    {LDMSD_FAILOVER_PEERCFG_REQ, "failover_peercfg", XUG | INT, VALL},
    {LDMSD_FAILOVER_START_REQ, "failover_start", XUG | MOD | DEF, VALL},
    {LDMSD_FAILOVER_STOP_REQ, "failover_stop", XUG | SOK | MOD, VALL},

    {LDMSD_SETGROUP_ADD_REQ, "setgroup_add", XUG | MOD, VALL},
    {LDMSD_SETGROUP_MOD_REQ, "setgroup_mod", XUG | MOD, VALL},
    {LDMSD_SETGROUP_DEL_REQ, "setgroup_del", XUG | MOD, VALL},
    {LDMSD_SETGROUP_INS_REQ, "setgroup_ins", XUG | MOD, VALL},
    {LDMSD_SETGROUP_RM_REQ, "setgroup_rm", XUG | MOD, VALL},

    {LDMSD_STREAM_PUBLISH_REQ, "publish", XALL, VALL},
    {LDMSD_STREAM_SUBSCRIBE_REQ, "subscribe", XUG | MOD, VALL},
    {LDMSD_STREAM_UNSUBSCRIBE_REQ, "unsubscribe", XUG | MOD, VALL},
    {LDMSD_STREAM_CLIENT_DUMP_REQ, "stream_client_dump", XUG, VALL},
    {LDMSD_STREAM_NEW_REQ, "stream_new", XUG | MOD, VALL},
    {LDMSD_STREAM_STATUS_REQ, "stream_status", XALL, VALL},
    {LDMSD_STREAM_DISABLE_REQ, "stream_disable", XUG | MOD | PRI, VALL},
    {LDMSD_STREAM_ENABLE_REQ, "stream_enable", XUG | MOD | PRI, V45P},

    {LDMSD_AUTH_ADD_REQ, "auth_add", XUG | MOD | PRI | FREE, VALL},
    {LDMSD_AUTH_DEL_REQ, "auth_del", XUG, VALL},

    {LDMSD_QGROUP_CONFIG_REQ, "qgroup_config", XUG, V45P},
    {LDMSD_QGROUP_MEMBER_ADD_REQ, "qgroup_member_add", XUG, V45P},
    {LDMSD_QGROUP_MEMBER_DEL_REQ, "qgroup_member_del", XUG, V45P},
    {LDMSD_QGROUP_START_REQ, "qgroup_start", XUG, V45P},
    {LDMSD_QGROUP_STOP_REQ, "qgroup_stop", XUG, V45P},
    {LDMSD_QGROUP_INFO_REQ, "qgroup_info", XUG, V45P},

    {LDMSD_MSG_STATS_REQ, "msg_stats", XALL, V45P},
    {LDMSD_MSG_CLIENT_STATS_REQ, "msg_client_stats", XALL, V45P},
    {LDMSD_MSG_DISABLE_REQ, "msg_disable", XUG | MOD | PRI, V45P},
    {LDMSD_MSG_ENABLE_REQ, "msg_enable", XUG | MOD | PRI, V45P},

    {LDMSD_SMPLRP_ADD_REQ, "smplrp_add", XUG | MOD, VM},
    {LDMSD_SMPLRP_DEL_REQ, "smplrp_del", XUG | MOD, VM},
    {LDMSD_SMPLRP_START_REQ, "smplrp_start", XUG | MOD, VM},
    {LDMSD_SMPLRP_STOP_REQ, "smplrp_stop", XUG | MOD, VM},
};

struct alias_ent {
	const char *name;
	uint32_t id;
};

/* deprecated or alternative verbs */
static const struct alias_ent cmd_alias[] = {
    {"loglevel", LDMSD_VERBOSE_REQ},
    {"exit", LDMSD_EXIT_DAEMON_REQ},
    {"stream_publish", LDMSD_STREAM_PUBLISH_REQ},
    {"stream_subscribe", LDMSD_STREAM_SUBSCRIBE_REQ},
    {"stream_unsubscribe", LDMSD_STREAM_UNSUBSCRIBE_REQ},
    {"storage_queue_depth", LDMSD_STORAGE_QUEUE_REQ},
};

static const char *const attr_names[LDMSD_ATTR_LAST] = {
    [LDMSD_ATTR_TERM] = "TERMINATING",
    [LDMSD_ATTR_NAME] = "name",
    [LDMSD_ATTR_INTERVAL] = "interval",
    [LDMSD_ATTR_OFFSET] = "offset",
    [LDMSD_ATTR_REGEX] = "regex",
    [LDMSD_ATTR_TYPE] = "type",
    [LDMSD_ATTR_PRODUCER] = "producer",
    [LDMSD_ATTR_INSTANCE] = "instance",
    [LDMSD_ATTR_XPRT] = "xprt",
    [LDMSD_ATTR_HOST] = "host",
    [LDMSD_ATTR_PORT] = "port",
    [LDMSD_ATTR_MATCH] = "match",
    [LDMSD_ATTR_PLUGIN] = "plugin",
    [LDMSD_ATTR_CONTAINER] = "container",
    [LDMSD_ATTR_SCHEMA] = "schema",
    [LDMSD_ATTR_METRIC] = "metric",
    [LDMSD_ATTR_STRING] = "string",
    [LDMSD_ATTR_UDATA] = "udata",
    [LDMSD_ATTR_BASE] = "base",
    [LDMSD_ATTR_INCREMENT] = "incr",
    [LDMSD_ATTR_LEVEL] = "level",
    [LDMSD_ATTR_PATH] = "path",
    [LDMSD_ATTR_TIME] = "time",
    [LDMSD_ATTR_PUSH] = "push",
    [LDMSD_ATTR_TEST] = "test",
    [LDMSD_ATTR_REC_LEN] = "REC_LEN",
    [LDMSD_ATTR_JSON] = "json",
    [LDMSD_ATTR_PERM] = "perm",
    [LDMSD_ATTR_AUTO_SWITCH] = "auto_switch",
    [LDMSD_ATTR_PEER_NAME] = "peer_name",
    [LDMSD_ATTR_TIMEOUT_FACTOR] = "timeout_factor",
    [LDMSD_ATTR_AUTO_INTERVAL] = "auto_interval",
    [LDMSD_ATTR_UID] = "uid",
    [LDMSD_ATTR_GID] = "gid",
    [LDMSD_ATTR_STREAM] = "stream",
    [LDMSD_ATTR_AUTH] = "auth",
    [LDMSD_ATTR_RESET] = "reset",
    [LDMSD_ATTR_DECOMP] = "decomposition",
    [LDMSD_ATTR_RAIL] = "rail",
    [LDMSD_ATTR_QUOTA] = "quota",
    [LDMSD_ATTR_RX_RATE] = "rx_rate",
    [LDMSD_ATTR_SUMMARY] = "summary",
    [LDMSD_ATTR_SIZE] = "size",
    [LDMSD_ATTR_IP] = "ip",
    [LDMSD_ATTR_ASK_INTERVAL] = "ask_interval",
    [LDMSD_ATTR_ASK_MARK] = "ask_mark",
    [LDMSD_ATTR_ASK_AMOUNT] = "ask_amount",
    [LDMSD_ATTR_RESET_INTERVAL] = "reset_interval",
    [LDMSD_ATTR_XTHREAD] = "exclusive_thread",
    [LDMSD_ATTR_MSG_TAG] = "message_tag",
    [LDMSD_ATTR_STATE] = "state",
    [LDMSD_ATTR_HIST_RECAL] = "hist_recal",
};

/* §6.6.4: config-file attribute names that share an id */
static const struct alias_ent attr_alias[] = {
    {"reconnect", LDMSD_ATTR_INTERVAL},
    {"interval_us", LDMSD_ATTR_INTERVAL},
    {"flush", LDMSD_ATTR_INTERVAL},
    {"period", LDMSD_ATTR_INTERVAL},
    {"count", LDMSD_ATTR_SIZE},
    {"depth", LDMSD_ATTR_SIZE},
    {"num", LDMSD_ATTR_SIZE},
    {"mode", LDMSD_ATTR_LEVEL},
    {"disable_start", LDMSD_ATTR_AUTO_INTERVAL},
    {"cache_ip", LDMSD_ATTR_IP},
    {"IP", LDMSD_ATTR_IP},
    {"advertiser_xprt", LDMSD_ATTR_XPRT},
    {"advertiser_port", LDMSD_ATTR_PORT},
    {"advertiser_auth", LDMSD_ATTR_AUTH},
    {"message_channel", LDMSD_ATTR_MSG_TAG},
    {"decomp", LDMSD_ATTR_DECOMP},
    {"increment", LDMSD_ATTR_INCREMENT},
    {"set", LDMSD_ATTR_INSTANCE}, /* udata set=, udata_regex set= */
    {"xthread", LDMSD_ATTR_XTHREAD},
};

#define NCMD   (sizeof(cmd_tbl) / sizeof(cmd_tbl[0]))
#define HSIZE  512u /* power of two, > 2 x entries of every table */
#define HEMPTY 0xffffu

/* open addressing; slots hold an index into the source table, or HEMPTY */
static uint16_t verb_h[HSIZE];	/* index into cmd_tbl, or NCMD + alias index */
static uint16_t cmdid_h[HSIZE]; /* index into cmd_tbl */
static uint16_t attr_h[HSIZE];	/* attr id, or LDMSD_ATTR_LAST + alias index */
static pthread_once_t tbl_once = PTHREAD_ONCE_INIT;

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static uint32_t id_hash(uint32_t id)
{
	id ^= id >> 7;
	id *= 0x9e3779b1u;
	return id ^ (id >> 15);
}

static void hput(uint16_t *h, uint32_t hv, uint16_t val)
{
	uint32_t i = hv & (HSIZE - 1);
	while (h[i] != HEMPTY)
		i = (i + 1) & (HSIZE - 1);
	h[i] = val;
}

static void tbl_build(void)
{
	memset(verb_h, 0xff, sizeof(verb_h));
	memset(cmdid_h, 0xff, sizeof(cmdid_h));
	memset(attr_h, 0xff, sizeof(attr_h));
	for (size_t i = 0; i < NCMD; i++) {
		hput(cmdid_h, id_hash(cmd_tbl[i].id), (uint16_t)i);
		if (!(cmd_tbl[i].perm & INT))
			hput(verb_h, str_hash(cmd_tbl[i].name), (uint16_t)i);
	}
	for (size_t i = 0; i < sizeof(cmd_alias) / sizeof(cmd_alias[0]); i++)
		hput(verb_h, str_hash(cmd_alias[i].name), (uint16_t)(NCMD + i));
	for (uint32_t a = 1; a < LDMSD_ATTR_LAST; a++)
		hput(attr_h, str_hash(attr_names[a]), (uint16_t)a);
	for (size_t i = 0; i < sizeof(attr_alias) / sizeof(attr_alias[0]); i++)
		hput(attr_h, str_hash(attr_alias[i].name), (uint16_t)(LDMSD_ATTR_LAST + i));
}

static const struct cmd_ent *cmd_by_id(uint32_t id)
{
	pthread_once(&tbl_once, tbl_build);
	for (uint32_t i = id_hash(id) & (HSIZE - 1); cmdid_h[i] != HEMPTY;
	     i = (i + 1) & (HSIZE - 1)) {
		if (cmd_tbl[cmdid_h[i]].id == id)
			return &cmd_tbl[cmdid_h[i]];
	}
	return NULL;
}

int ldms_ctrl_cmd_id(const char *verb)
{
	if (!verb)
		return -ENOSYS;
	pthread_once(&tbl_once, tbl_build);
	for (uint32_t i = str_hash(verb) & (HSIZE - 1); verb_h[i] != HEMPTY;
	     i = (i + 1) & (HSIZE - 1)) {
		uint16_t v = verb_h[i];
		if (v < NCMD) {
			if (strcmp(cmd_tbl[v].name, verb) == 0)
				return (int)cmd_tbl[v].id;
		} else if (strcmp(cmd_alias[v - NCMD].name, verb) == 0) {
			return (int)cmd_alias[v - NCMD].id;
		}
	}
	return -ENOSYS;
}

const char *ldms_ctrl_cmd_name(uint32_t id)
{
	const struct cmd_ent *c = cmd_by_id(id);
	return c ? c->name : NULL;
}

int ldms_ctrl_attr_id(const char *name)
{
	if (!name)
		return -ENOENT;
	pthread_once(&tbl_once, tbl_build);
	for (uint32_t i = str_hash(name) & (HSIZE - 1); attr_h[i] != HEMPTY;
	     i = (i + 1) & (HSIZE - 1)) {
		uint16_t v = attr_h[i];
		if (v < LDMSD_ATTR_LAST) {
			if (strcmp(attr_names[v], name) == 0)
				return v;
		} else if (strcmp(attr_alias[v - LDMSD_ATTR_LAST].name, name) == 0) {
			return (int)attr_alias[v - LDMSD_ATTR_LAST].id;
		}
	}
	return -ENOENT;
}

const char *ldms_ctrl_attr_name(uint32_t id)
{
	return id < LDMSD_ATTR_LAST ? attr_names[id] : NULL;
}

uint32_t ldms_ctrl_cmd_perm(uint32_t id)
{
	const struct cmd_ent *c = cmd_by_id(id);
	return c ? c->perm : 0;
}

static uint32_t ver_bit(enum ldms_ctrl_ver v)
{
	switch (v) {
	case LDMS_CTRL_V4_4:
		return V44;
	case LDMS_CTRL_V4_5:
		return V45;
	case LDMS_CTRL_V_MAIN:
		return VM;
	}
	return 0;
}

/* 4.4 lacks BRIDGE_ADD (0x10c): the advertiser/prdcr_listen/advertise block sits
 * one lower there. */
int ldms_ctrl_cmd_id_to_wire(uint32_t id, enum ldms_ctrl_ver v)
{
	const struct cmd_ent *c = cmd_by_id(id);
	if (!c || !(c->vers & ver_bit(v)))
		return -ENOTSUP;
	if (v == LDMS_CTRL_V4_4 && id > LDMSD_BRIDGE_ADD_REQ && id <= LDMSD_ADVERTISE_REQ)
		return (int)id - 1;
	return (int)id;
}

int ldms_ctrl_cmd_id_from_wire(uint32_t wire, enum ldms_ctrl_ver v)
{
	uint32_t id = wire;
	const struct cmd_ent *c;
	if (v == LDMS_CTRL_V4_4 && wire >= LDMSD_BRIDGE_ADD_REQ && wire <= LDMSD_ADVERTISE_REQ) {
		if (wire == LDMSD_ADVERTISE_REQ)
			return -ENOTSUP; /* past the end of the 4.4 block */
		id = wire + 1;
	}
	c = cmd_by_id(id);
	if (!c || !(c->vers & ver_bit(v)))
		return -ENOTSUP;
	return (int)id;
}

/* 4.4 lacks RAIL, QUOTA, RX_RATE (38-40): later attributes sit three lower. The
 * qgroup/thread/message attributes after IP never existed in 4.4. */
int ldms_ctrl_attr_id_to_wire(uint32_t id, enum ldms_ctrl_ver v)
{
	if (id >= LDMSD_ATTR_LAST || !ver_bit(v))
		return -ENOTSUP;
	if (v != LDMS_CTRL_V4_4 || id < LDMSD_ATTR_RAIL)
		return (int)id;
	if (id <= LDMSD_ATTR_RX_RATE || id > LDMSD_ATTR_IP)
		return -ENOTSUP;
	return (int)id - 3;
}

int ldms_ctrl_attr_id_from_wire(uint32_t wire, enum ldms_ctrl_ver v)
{
	if (!ver_bit(v))
		return -ENOTSUP;
	if (v != LDMS_CTRL_V4_4)
		return wire < LDMSD_ATTR_LAST ? (int)wire : -ENOTSUP;
	if (wire < LDMSD_ATTR_RAIL)
		return (int)wire;
	if (wire + 3 > LDMSD_ATTR_IP)
		return -ENOTSUP;
	return (int)wire + 3;
}
