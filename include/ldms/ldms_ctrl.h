/* ldmsd_request control protocol (ldms-protocol.md §6.6): command/attribute id tables
 * with per-version wire translation (4.4 / 4.5 / main), the record codec (24-byte BE
 * record header, attribute TLVs, SOM/EOM splitting and reassembly) and a synchronous
 * client over an ldms_t. Used by ldmsd (server side), ldmsd_controller and maestro. */
#ifndef LDMS_CTRL_H
#define LDMS_CTRL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ldms_xprt.h"

/* ==== Id tables ================================================================
 * ldms-c's canonical ids are the 4.5 (b4.5) numbering; translation to and from the
 * wire numbering of a peer happens only at the edge (ldms_ctrl_*_to_wire/_from_wire,
 * or implicitly in the codec when it is given a peer version). */
enum ldmsd_request_id {
	LDMSD_EXAMPLE_REQ = 0x001,
	LDMSD_GREETING_REQ = 0x002,
	LDMSD_CFG_CNTR_REQ = 0x003, /* no verb; reply STRING = decimal counter */
	LDMSD_DUMP_CFG_REQ = 0x004,

	LDMSD_PRDCR_ADD_REQ = 0x100,
	LDMSD_PRDCR_DEL_REQ = 0x101,
	LDMSD_PRDCR_START_REQ = 0x102,
	LDMSD_PRDCR_STOP_REQ = 0x103,
	LDMSD_PRDCR_STATUS_REQ = 0x104,
	LDMSD_PRDCR_START_REGEX_REQ = 0x105,
	LDMSD_PRDCR_STOP_REGEX_REQ = 0x106,
	LDMSD_PRDCR_SET_REQ = 0x107, /* prdcr_set_status */
	LDMSD_PRDCR_HINT_TREE_REQ = 0x108,
	LDMSD_PRDCR_SUBSCRIBE_REQ = 0x109,
	LDMSD_PRDCR_UNSUBSCRIBE_REQ = 0x10a,
	LDMSD_PRDCR_STREAM_STATUS_REQ = 0x10b,
	LDMSD_BRIDGE_ADD_REQ = 0x10c, /* 4.5+: inserted, shifts the rest by one vs 4.4 */
	LDMSD_ADVERTISER_ADD_REQ = 0x10d,
	LDMSD_ADVERTISER_START_REQ = 0x10e,
	LDMSD_ADVERTISER_STOP_REQ = 0x10f,
	LDMSD_ADVERTISER_DEL_REQ = 0x110,
	LDMSD_PRDCR_LISTEN_ADD_REQ = 0x111,
	LDMSD_PRDCR_LISTEN_DEL_REQ = 0x112,
	LDMSD_PRDCR_LISTEN_START_REQ = 0x113,
	LDMSD_PRDCR_LISTEN_STOP_REQ = 0x114,
	LDMSD_PRDCR_LISTEN_STATUS_REQ = 0x115,
	LDMSD_ADVERTISE_REQ = 0x116, /* daemon-to-daemon (sent by advertiser_start) */

	LDMSD_STRGP_ADD_REQ = 0x200,
	LDMSD_STRGP_DEL_REQ = 0x201,
	LDMSD_STRGP_START_REQ = 0x202,
	LDMSD_STRGP_STOP_REQ = 0x203,
	LDMSD_STRGP_STATUS_REQ = 0x204,
	LDMSD_STRGP_PRDCR_ADD_REQ = 0x205,
	LDMSD_STRGP_PRDCR_DEL_REQ = 0x206,
	LDMSD_STRGP_METRIC_ADD_REQ = 0x207,
	LDMSD_STRGP_METRIC_DEL_REQ = 0x208,
	LDMSD_STORE_TIME_STATS_REQ = 0x209,

	LDMSD_UPDTR_ADD_REQ = 0x300,
	LDMSD_UPDTR_DEL_REQ = 0x301,
	LDMSD_UPDTR_START_REQ = 0x302,
	LDMSD_UPDTR_STOP_REQ = 0x303,
	LDMSD_UPDTR_STATUS_REQ = 0x304,
	LDMSD_UPDTR_PRDCR_ADD_REQ = 0x305,
	LDMSD_UPDTR_PRDCR_DEL_REQ = 0x306,
	LDMSD_UPDTR_MATCH_ADD_REQ = 0x307,
	LDMSD_UPDTR_MATCH_DEL_REQ = 0x308,
	LDMSD_UPDTR_TASK_REQ = 0x309,
	LDMSD_UPDTR_MATCH_LIST_REQ = 0x30a,
	LDMSD_UPDATE_TIME_STATS_REQ = 0x30b,

	/* No verb and no handler upstream (samplers are driven by load/config/start). */
	LDMSD_SMPLR_ADD_REQ = 0x400,
	LDMSD_SMPLR_DEL_REQ = 0x401,
	LDMSD_SMPLR_START_REQ = 0x402,
	LDMSD_SMPLR_STOP_REQ = 0x403,

	LDMSD_PLUGN_ADD_REQ = 0x500,   /* no verb */
	LDMSD_PLUGN_DEL_REQ = 0x501,   /* no verb */
	LDMSD_PLUGN_START_REQ = 0x502, /* start */
	LDMSD_PLUGN_STOP_REQ = 0x503,  /* stop */
	LDMSD_PLUGN_STATUS_REQ = 0x504,
	LDMSD_PLUGN_LOAD_REQ = 0x505,	/* load */
	LDMSD_PLUGN_TERM_REQ = 0x506,	/* term */
	LDMSD_PLUGN_CONFIG_REQ = 0x507, /* config */
	LDMSD_PLUGN_USAGE_REQ = 0x508,	/* usage (upstream PLUGN_LIST) */
	LDMSD_PLUGN_SETS_REQ = 0x509,

	LDMSD_SET_UDATA_REQ = 0x600,
	LDMSD_SET_UDATA_REGEX_REQ = 0x601,
	LDMSD_VERBOSE_REQ = 0x602, /* log_level / loglevel */
	LDMSD_DAEMON_STATUS_REQ = 0x603,
	LDMSD_VERSION_REQ = 0x604,
	LDMSD_ENV_REQ = 0x605,
	LDMSD_INCLUDE_REQ = 0x606,
	LDMSD_ONESHOT_REQ = 0x607,
	LDMSD_LOGROTATE_REQ = 0x608,
	LDMSD_EXIT_DAEMON_REQ = 0x609, /* daemon_exit / exit */
	LDMSD_RECORD_LEN_ADVICE_REQ = 0x60a,
	LDMSD_SET_ROUTE_REQ = 0x60b,
	LDMSD_XPRT_STATS_REQ = 0x60c,
	LDMSD_THREAD_STATS_REQ = 0x60d,
	LDMSD_PRDCR_STATS_REQ = 0x60e,
	LDMSD_SET_STATS_REQ = 0x60f,
	LDMSD_LISTEN_REQ = 0x610,
	LDMSD_SET_DEFAULT_AUTHZ_REQ = 0x611,   /* metric_sets_default_authz */
	LDMSD_CMDLINE_OPTIONS_SET_REQ = 0x612, /* option */
	LDMSD_SET_SEC_MOD_REQ = 0x613,
	LDMSD_LOG_STATUS_REQ = 0x614,
	LDMSD_STATS_RESET_REQ = 0x615,
	LDMSD_DEFAULT_AUTH_REQ = 0x616,
	LDMSD_MEMORY_REQ = 0x617, /* set_memory */
	LDMSD_LOG_FILE_REQ = 0x618,
	LDMSD_PUBLISH_KERNEL_REQ = 0x619,
	LDMSD_DAEMON_NAME_SET_REQ = 0x61a,
	LDMSD_WORKER_THR_SET_REQ = 0x61b,
	LDMSD_DEFAULT_QUOTA_REQ = 0x61c,
	LDMSD_PID_FILE_REQ = 0x61d,
	LDMSD_BANNER_MODE_REQ = 0x61e,
	LDMSD_PROFILING_REQ = 0x61f,
	LDMSD_STORAGE_THREADS_REQ = 0x622, /* main only */
	LDMSD_STORAGE_QUEUE_REQ = 0x623,   /* main only */

	LDMSD_FAILOVER_CONFIG_REQ = 0x700,
	LDMSD_FAILOVER_PEERCFG_START_REQ = 0x701,
	LDMSD_FAILOVER_PEERCFG_STOP_REQ = 0x702,
	LDMSD_FAILOVER_MOD_REQ = 0x703,
	LDMSD_FAILOVER_STATUS_REQ = 0x704,
	LDMSD_FAILOVER_PAIR_REQ = 0x705, /* internal ... */
	LDMSD_FAILOVER_RESET_REQ = 0x706,
	LDMSD_FAILOVER_CFGPRDCR_REQ = 0x707,
	LDMSD_FAILOVER_CFGUPDTR_REQ = 0x708,
	LDMSD_FAILOVER_CFGSTRGP_REQ = 0x709,
	LDMSD_FAILOVER_PING_REQ = 0x70a,
	LDMSD_FAILOVER_PEERCFG_REQ = 0x70b, /* ... internal */
	LDMSD_FAILOVER_START_REQ = 0x770,
	LDMSD_FAILOVER_STOP_REQ = 0x771,

	LDMSD_SETGROUP_ADD_REQ = 0x800,
	LDMSD_SETGROUP_MOD_REQ = 0x801,
	LDMSD_SETGROUP_DEL_REQ = 0x802,
	LDMSD_SETGROUP_INS_REQ = 0x803,
	LDMSD_SETGROUP_RM_REQ = 0x804,

	LDMSD_STREAM_PUBLISH_REQ = 0x900,     /* publish */
	LDMSD_STREAM_SUBSCRIBE_REQ = 0x901,   /* subscribe */
	LDMSD_STREAM_UNSUBSCRIBE_REQ = 0x902, /* unsubscribe */
	LDMSD_STREAM_CLIENT_DUMP_REQ = 0x903,
	LDMSD_STREAM_NEW_REQ = 0x904,
	LDMSD_STREAM_STATUS_REQ = 0x905,
	LDMSD_STREAM_DISABLE_REQ = 0x906,
	LDMSD_STREAM_ENABLE_REQ = 0x907,

	LDMSD_AUTH_ADD_REQ = 0xa00,
	LDMSD_AUTH_DEL_REQ = 0xa01,

	LDMSD_QGROUP_CONFIG_REQ = 0xb00,
	LDMSD_QGROUP_MEMBER_ADD_REQ = 0xb01,
	LDMSD_QGROUP_MEMBER_DEL_REQ = 0xb02,
	LDMSD_QGROUP_START_REQ = 0xb03,
	LDMSD_QGROUP_STOP_REQ = 0xb04,
	LDMSD_QGROUP_INFO_REQ = 0xb05,

	LDMSD_MSG_STATS_REQ = 0xc00,
	LDMSD_MSG_CLIENT_STATS_REQ = 0xc01,
	LDMSD_MSG_DISABLE_REQ = 0xc02,
	LDMSD_MSG_ENABLE_REQ = 0xc03,

	LDMSD_SMPLRP_ADD_REQ = 0xd00, /* main only */
	LDMSD_SMPLRP_DEL_REQ = 0xd01,
	LDMSD_SMPLRP_START_REQ = 0xd02,
	LDMSD_SMPLRP_STOP_REQ = 0xd03,
};

/* Attribute ids, 4.5 numbering (§6.6.4). */
enum ldmsd_attr_id {
	LDMSD_ATTR_TERM = 0,
	LDMSD_ATTR_NAME = 1,
	LDMSD_ATTR_INTERVAL = 2,
	LDMSD_ATTR_OFFSET = 3,
	LDMSD_ATTR_REGEX = 4,
	LDMSD_ATTR_TYPE = 5,
	LDMSD_ATTR_PRODUCER = 6,
	LDMSD_ATTR_INSTANCE = 7,
	LDMSD_ATTR_XPRT = 8,
	LDMSD_ATTR_HOST = 9,
	LDMSD_ATTR_PORT = 10,
	LDMSD_ATTR_MATCH = 11,
	LDMSD_ATTR_PLUGIN = 12,
	LDMSD_ATTR_CONTAINER = 13,
	LDMSD_ATTR_SCHEMA = 14,
	LDMSD_ATTR_METRIC = 15,
	LDMSD_ATTR_STRING = 16,
	LDMSD_ATTR_UDATA = 17,
	LDMSD_ATTR_BASE = 18,
	LDMSD_ATTR_INCREMENT = 19,
	LDMSD_ATTR_LEVEL = 20,
	LDMSD_ATTR_PATH = 21,
	LDMSD_ATTR_TIME = 22,
	LDMSD_ATTR_PUSH = 23,
	LDMSD_ATTR_TEST = 24,
	LDMSD_ATTR_REC_LEN = 25, /* value is a BE u32, not a string */
	LDMSD_ATTR_JSON = 26,
	LDMSD_ATTR_PERM = 27,
	LDMSD_ATTR_AUTO_SWITCH = 28,
	LDMSD_ATTR_PEER_NAME = 29,
	LDMSD_ATTR_TIMEOUT_FACTOR = 30,
	LDMSD_ATTR_AUTO_INTERVAL = 31,
	LDMSD_ATTR_UID = 32,
	LDMSD_ATTR_GID = 33,
	LDMSD_ATTR_STREAM = 34,
	LDMSD_ATTR_AUTH = 35,
	LDMSD_ATTR_RESET = 36,
	LDMSD_ATTR_DECOMP = 37,
	LDMSD_ATTR_RAIL = 38,	 /* 4.5+ (inserted: 4.4 numbers everything after by -3) */
	LDMSD_ATTR_QUOTA = 39,	 /* 4.5+ */
	LDMSD_ATTR_RX_RATE = 40, /* 4.5+ */
	LDMSD_ATTR_SUMMARY = 41,
	LDMSD_ATTR_SIZE = 42,
	LDMSD_ATTR_IP = 43,
	LDMSD_ATTR_ASK_INTERVAL = 44,
	LDMSD_ATTR_ASK_MARK = 45,
	LDMSD_ATTR_ASK_AMOUNT = 46,
	LDMSD_ATTR_RESET_INTERVAL = 47,
	LDMSD_ATTR_XTHREAD = 48,
	LDMSD_ATTR_MSG_TAG = 49,
	LDMSD_ATTR_STATE = 50,
	LDMSD_ATTR_HIST_RECAL = 51,
	LDMSD_ATTR_LAST = 52,
};

enum ldms_ctrl_ver {
	LDMS_CTRL_V4_4 = 44,
	LDMS_CTRL_V4_5 = 45,
	LDMS_CTRL_V_MAIN = 46,
};

/* verb or alias (loglevel, exit, ...) -> canonical id; -ENOSYS if unknown.
 * CFG_CNTR and the verb-less ids are not reachable by name. */
int ldms_ctrl_cmd_id(const char *verb);
/* canonical id -> verb (or an internal name for verb-less ids); NULL if unknown */
const char *ldms_ctrl_cmd_name(uint32_t id);
/* attribute name or alias (reconnect/interval/interval_us/flush -> INTERVAL, ...)
 * -> id; -ENOENT if unknown */
int ldms_ctrl_attr_id(const char *name);
/* canonical attribute name; NULL if unknown */
const char *ldms_ctrl_attr_name(uint32_t id);

/* Wire <-> canonical translation for a peer version. Return the translated id, or
 * -ENOTSUP when the command/attribute does not exist in that version (to_wire) or
 * the wire id is unknown in that version (from_wire). */
int ldms_ctrl_cmd_id_to_wire(uint32_t id, enum ldms_ctrl_ver v);
int ldms_ctrl_cmd_id_from_wire(uint32_t wire, enum ldms_ctrl_ver v);
int ldms_ctrl_attr_id_to_wire(uint32_t id, enum ldms_ctrl_ver v);
int ldms_ctrl_attr_id_from_wire(uint32_t wire, enum ldms_ctrl_ver v);

/* Per-command permission and classification bits (§6.6.6, §1.2).
 * Low 9 bits: execute permission as a mode (owner/group/other), checked against
 * the daemon's uid/gid with the connection's credential. Flags above: */
#define LDMS_CTRL_PERM_XUG	 0110u
#define LDMS_CTRL_PERM_XALL	 0111u
#define LDMS_CTRL_PERM_MODE_MASK 0777u
/* configuration-changing: a success increments the CFG_CNTR counter */
#define LDMS_CTRL_PERM_MOD 0010000u
/* served before start-up has completed (mostly status queries); others get EBUSY */
#define LDMS_CTRL_PERM_STARTUP_OK 0020000u
/* daemon-internal request (failover, advertise): not a user verb */
#define LDMS_CTRL_PERM_INTERNAL 0040000u
/* priority pass verb of config files (§1.2) */
#define LDMS_CTRL_F_PRIORITY 0100000u
/* deferred to after all config files were read (prdcr_start*, updtr_start, ...) */
#define LDMS_CTRL_F_DEFERRED 0200000u
/* free-form attributes are folded into one STRING (config, env, auth_add, listen,
 * default_auth, option; §1.1) */
#define LDMS_CTRL_F_FREEFORM 0400000u
/* 0 when the id is unknown */
uint32_t ldms_ctrl_cmd_perm(uint32_t id);

/* ==== Record codec ================================================================
 * Record = 24-byte header (all BE): marker 0xffffffff, type (1 cmd, 2 rsp), flags
 * (SOM 1, EOM 2), msg_no, req_id (cmd) or rsp_err (rsp), rec_len (incl. header);
 * then a slice of the attribute stream. Attribute = discrim BE32 (1), attr_id BE32,
 * attr_len BE32, value; the list ends with discrim 0 (4 bytes) in the EOM record.
 * One record is the payload of one ldms_xprt_send / RECV event. */
#define LDMS_CTRL_MARKER       0xffffffffu
#define LDMS_CTRL_REC_HDR_LEN  24u
#define LDMS_CTRL_ATTR_HDR_LEN 12u
#define LDMS_CTRL_TYPE_CMD     1u
#define LDMS_CTRL_TYPE_RSP     2u
#define LDMS_CTRL_F_SOM	       1u
#define LDMS_CTRL_F_EOM	       2u
/* smallest max_rec accepted by the encoder (header + terminator + 1 payload byte) */
#define LDMS_CTRL_REC_MIN (LDMS_CTRL_REC_HDR_LEN + 8u)

struct ldms_ctrl_rec_hdr {
	uint32_t marker;
	uint32_t type;
	uint32_t flags;
	uint32_t msg_no;
	uint32_t id; /* req_id (cmd) or rsp_err (rsp) */
	uint32_t rec_len;
};
/* 0, or -EINVAL for len < 24 / bad marker / bad type / rec_len outside [24, len] */
int ldms_ctrl_rec_hdr_decode(const void *buf, size_t len, struct ldms_ctrl_rec_hdr *h);
void ldms_ctrl_rec_hdr_encode(void *buf, const struct ldms_ctrl_rec_hdr *h);

/* A whole control message, built or received. Attribute ids and the req_id are
 * canonical (4.5) inside; the encoder/reassembler translate for a peer version. */
struct ldms_ctrl_msg;

struct ldms_ctrl_attr {
	uint32_t id;
	uint32_t len;	   /* attr_len as on the wire (incl. the NUL when present) */
	const char *value; /* len bytes, always followed by an extra '\0' */
};

/* Builders. A request gets its msg_no from ldms_ctrl_request() (client) or from
 * ldms_ctrl_msg_set_msg_no(). */
struct ldms_ctrl_msg *ldms_ctrl_req_new(uint32_t req_id);
/* Response to msg_no with rsp_err = errno value (positive, 0 = success). */
struct ldms_ctrl_msg *ldms_ctrl_rsp_new(uint32_t msg_no, uint32_t rsp_err);
void ldms_ctrl_msg_free(struct ldms_ctrl_msg *m);
/* value NULL = keyword (attr_len 0); otherwise strlen(value)+1 bytes incl. NUL. */
int ldms_ctrl_req_attr_add(struct ldms_ctrl_msg *m, uint32_t attr_id, const char *value);
/* raw bytes, exactly len (e.g. JSON without NUL as upstream status replies) */
int ldms_ctrl_attr_add_bin(struct ldms_ctrl_msg *m, uint32_t attr_id, const void *value,
			   size_t len);
/* REC_LEN style BE u32 value */
int ldms_ctrl_attr_add_u32(struct ldms_ctrl_msg *m, uint32_t attr_id, uint32_t v);
void ldms_ctrl_msg_set_msg_no(struct ldms_ctrl_msg *m, uint32_t msg_no);
void ldms_ctrl_msg_set_rsp_err(struct ldms_ctrl_msg *m, uint32_t rsp_err);

/* Encode into records of at most max_rec bytes each (>= LDMS_CTRL_REC_MIN; use
 * ldms_xprt_msg_max()). Ids are translated for peer version v (-ENOTSUP if the
 * command/an attribute does not exist there). send() is called once per record in
 * order; a non-zero return aborts and is returned. */
typedef int (*ldms_ctrl_send_fn)(void *arg, const void *rec, size_t len);
int ldms_ctrl_msg_send(const struct ldms_ctrl_msg *m, enum ldms_ctrl_ver v, size_t max_rec,
		       ldms_ctrl_send_fn send, void *arg);
/* Same, all records concatenated into one malloc'ed buffer (*buf, *len). */
int ldms_ctrl_req_encode(const struct ldms_ctrl_msg *m, enum ldms_ctrl_ver v, size_t max_rec,
			 uint8_t **buf, size_t *len);

/* Accessors (built or parsed). */
uint32_t ldms_ctrl_msg_type(const struct ldms_ctrl_msg *m);
uint32_t ldms_ctrl_msg_no(const struct ldms_ctrl_msg *m);
uint32_t ldms_ctrl_msg_req_id(const struct ldms_ctrl_msg *m);  /* cmd */
uint32_t ldms_ctrl_msg_rsp_err(const struct ldms_ctrl_msg *m); /* rsp */
size_t ldms_ctrl_msg_attr_count(const struct ldms_ctrl_msg *m);
/* NULL when idx is out of range */
const struct ldms_ctrl_attr *ldms_ctrl_msg_attr_at(const struct ldms_ctrl_msg *m, size_t idx);
/* first attribute with that id, NULL if none */
const struct ldms_ctrl_attr *ldms_ctrl_msg_attr_find(const struct ldms_ctrl_msg *m,
						     uint32_t attr_id);
/* value of the first attribute with that id as a C string ("" for keywords), NULL
 * if absent */
const char *ldms_ctrl_msg_attr_str(const struct ldms_ctrl_msg *m, uint32_t attr_id);
/* reply text: the STRING or JSON attribute value with embedded/trailing NULs
 * stripped (upstream status replies are JSON without NUL, version is STRING with a
 * NUL); NULL if the message has neither. */
const char *ldms_ctrl_msg_text(const struct ldms_ctrl_msg *m);

/* Reassembler (one per connection): collects the records of each msg_no and returns
 * a message once its EOM record arrived and the whole attribute list validated
 * (bounds; for commands, non-empty string values must end in NUL). */
struct ldms_ctrl_reasm;
/* v = peer numbering (ldmsd uses LDMS_CTRL_V4_5); max_msg = byte limit of one
 * reassembled message and of all partial messages held together, so a peer
 * sending SOM records without EOM gets -E2BIG, not memory (0 = defaults:
 * 64 MiB, of which requests at most 8 MiB) */
struct ldms_ctrl_reasm *ldms_ctrl_reasm_new(enum ldms_ctrl_ver v, size_t max_msg);
void ldms_ctrl_reasm_free(struct ldms_ctrl_reasm *r);
void ldms_ctrl_reasm_set_ver(struct ldms_ctrl_reasm *r, enum ldms_ctrl_ver v);
/* Feed one record. Returns 0 with *out NULL (more records needed), 0 with *out = a
 * complete message (caller frees), or a negative errno: -EINVAL malformed record or
 * attribute list, -EADDRINUSE SOM for a msg_no already in progress (that message is
 * kept), -ENOENT continuation without SOM, -E2BIG over max_msg, -ENOBUFS too many
 * messages in progress, -ENOMEM. *hdr_out (if not NULL) receives the decoded header
 * whenever it was readable (hdr_out->marker == LDMS_CTRL_MARKER), so a server can
 * still answer msg_no with an error reply; on other errors the partial message of
 * that msg_no is discarded.
 * Server use: one reassembler per connection (V4_5); feed each RECV payload; for a
 * complete message dispatch on ldms_ctrl_msg_req_id() (canonical ids; unknown wire
 * ids come through raw -> answer ENOSYS), read values with ldms_ctrl_msg_attr_str(),
 * check ldms_ctrl_cmd_perm(), answer with ldms_ctrl_send_rsp_str()/_json() with
 * max_rec = ldms_xprt_msg_max(). */
int ldms_ctrl_reasm_feed(struct ldms_ctrl_reasm *r, const void *rec, size_t len,
			 struct ldms_ctrl_msg **out, struct ldms_ctrl_rec_hdr *hdr_out);
/* Decode a complete single-buffer message (concatenated records of one msg_no). */
int ldms_ctrl_msg_decode(const void *buf, size_t len, enum ldms_ctrl_ver v,
			 struct ldms_ctrl_msg **out);

/* Server helper: reply msg_no with rsp_err and an optional STRING text (NUL
 * included), then terminator, via send(). */
int ldms_ctrl_send_rsp_str(uint32_t msg_no, uint32_t rsp_err, const char *text, size_t max_rec,
			   ldms_ctrl_send_fn send, void *arg);
/* Server helper: reply msg_no with rsp_err and one JSON attribute of exactly len
 * bytes (upstream sends no NUL). */
int ldms_ctrl_send_rsp_json(uint32_t msg_no, uint32_t rsp_err, const char *json, size_t len,
			    size_t max_rec, ldms_ctrl_send_fn send, void *arg);

/* ==== Client ========================================================================
 * Request/response over an ldms_t. Requests carry canonical ids; the client numbers
 * them (msg_no), encodes them for the peer's version and collects the reply records
 * from RECV events. After connecting, the client sends `version` (0x604, stable in
 * every release) and selects the id table from "LDMSD Version": <= 4.4.x -> V4_4;
 * >= 4.5 -> V_MAIN (main only appended to the 4.5 numbering, and b4.5 and main builds
 * both report "4.5.x.N", so the superset is used; a 4.5 daemon answers a main-only
 * command with an error); no usable answer -> V4_5. Thread-safe; several requests may
 * be outstanding. */
struct ldms_ctrl_client;

/* Connect and authenticate (auth NULL = "none"), then probe the version. port is a
 * string ("411"). Returns NULL with err filled (err->rc = -errno) on failure. */
struct ldms_ctrl_client *ldms_ctrl_client_connect(const char *host, const char *port,
						  const char *xprt,
						  const struct ldms_auth_cfg *auth, int timeout_ms,
						  struct ldms_err *err);
/* Close the connection; pending asynchronous requests complete with -ECONNABORTED. */
void ldms_ctrl_client_close(struct ldms_ctrl_client *cli);
enum ldms_ctrl_ver ldms_ctrl_client_ver(struct ldms_ctrl_client *cli);
void ldms_ctrl_client_set_ver(struct ldms_ctrl_client *cli, enum ldms_ctrl_ver v);
/* JSON text of the peer's version reply ("" if unknown); valid until close. */
const char *ldms_ctrl_client_peer_version(struct ldms_ctrl_client *cli);
/* 0 while connected, else the negative errno that ended the connection */
int ldms_ctrl_client_status(struct ldms_ctrl_client *cli);

/* Synchronous request: assigns req's msg_no, sends it and waits up to timeout_ms
 * (<= 0: no limit) for the reply. Returns 0 with *rsp (caller frees; check
 * ldms_ctrl_msg_rsp_err()), or -ETIMEDOUT, -ECONNRESET (connection lost), -ENOTSUP
 * (command/attribute unknown to the peer's version), -errno from the transport. */
int ldms_ctrl_request(struct ldms_ctrl_client *cli, struct ldms_ctrl_msg *req,
		      struct ldms_ctrl_msg **rsp, int timeout_ms);

/* Asynchronous request: cb runs on an I/O thread with the reply (cb owns rsp) and
 * status 0, or rsp NULL and a negative errno when the connection ends first. */
typedef void (*ldms_ctrl_rsp_cb)(struct ldms_ctrl_client *cli, int status,
				 struct ldms_ctrl_msg *rsp, void *arg);
int ldms_ctrl_request_async(struct ldms_ctrl_client *cli, struct ldms_ctrl_msg *req,
			    ldms_ctrl_rsp_cb cb, void *arg);

/* Pick the id table from a version reply text (the JSON of `version`). */
enum ldms_ctrl_ver ldms_ctrl_ver_from_json(const char *json);

/* ==== ldmsd_controller presentation (ctrl_fmt.c) ====================================== */
/* Print the human-readable table upstream's ldmsd_controller shows for a status reply
 * of verb (prdcr_status, updtr_status, strgp_status, plugn_status, version, ...).
 * 0 on success, -ENOENT when verb has no table, -EINVAL when json does not parse or
 * has an unexpected shape (callers then print the raw text). */
int ldms_ctrl_fmt_status(const char *verb, const char *json, FILE *out);
int ldms_ctrl_fmt_has(const char *verb);
/* python json.dumps style output ("a": 1, ", " separators, float repr, ensure_ascii):
 * {"rc": rc, "msg": <msg parsed as JSON, else as a string>}; rc == INT32_MIN prints
 * only the message. indent < 0 = one line. */
int ldms_ctrl_json_print(FILE *out, int rc, const char *msg, int indent);
/* python cmd.Cmd.columnize: words in columns, at most width characters wide */
void ldms_ctrl_fmt_columnize(FILE *out, const char *const *words, size_t n, int width);

#endif /* LDMS_CTRL_H */
