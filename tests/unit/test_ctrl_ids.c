/* Unit tests of the ldmsd_request id tables: every verb and attribute alias, the
 * reverse mappings, permission bits and the 4.4 wire shifts (BRIDGE_ADD at 0x10c,
 * RAIL/QUOTA/RX_RATE at 38-40). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ldms/ldms_ctrl.h"

struct pair {
	const char *name;
	int id;
};

/* §1.4 verbs with their ids (4.5 numbering) */
static const struct pair verbs[] = {
    {"env", 0x605},
    {"include", 0x606},
    {"option", 0x612},
    {"log_file", 0x618},
    {"log_level", 0x602},
    {"loglevel", 0x602},
    {"set_memory", 0x617},
    {"pid_file", 0x61d},
    {"banner", 0x61e},
    {"worker_threads", 0x61b},
    {"storage_threads", 0x622},
    {"storage_queue", 0x623},
    {"default_auth", 0x616},
    {"default_quota", 0x61c},
    {"daemon_name", 0x61a},
    {"publish_kernel", 0x619},
    {"stream_enable", 0x907},
    {"stream_disable", 0x906},
    {"msg_enable", 0xc03},
    {"msg_disable", 0xc02},
    {"metric_sets_default_authz", 0x611},
    {"auth_add", 0xa00},
    {"listen", 0x610},
    {"load", 0x505},
    {"config", 0x507},
    {"start", 0x502},
    {"stop", 0x503},
    {"term", 0x506},
    {"usage", 0x508},
    {"plugn_status", 0x504},
    {"plugn_sets", 0x509},
    {"prdcr_add", 0x100},
    {"prdcr_start", 0x102},
    {"prdcr_start_regex", 0x105},
    {"prdcr_stop", 0x103},
    {"prdcr_stop_regex", 0x106},
    {"prdcr_del", 0x101},
    {"prdcr_status", 0x104},
    {"prdcr_set_status", 0x107},
    {"prdcr_subscribe", 0x109},
    {"prdcr_unsubscribe", 0x10a},
    {"bridge_add", 0x10c},
    {"advertiser_add", 0x10d},
    {"advertiser_start", 0x10e},
    {"advertiser_stop", 0x10f},
    {"advertiser_del", 0x110},
    {"prdcr_listen_add", 0x111},
    {"prdcr_listen_del", 0x112},
    {"prdcr_listen_start", 0x113},
    {"prdcr_listen_stop", 0x114},
    {"prdcr_listen_status", 0x115},
    {"updtr_add", 0x300},
    {"updtr_prdcr_add", 0x305},
    {"updtr_prdcr_del", 0x306},
    {"updtr_match_add", 0x307},
    {"updtr_match_del", 0x308},
    {"updtr_start", 0x302},
    {"updtr_stop", 0x303},
    {"updtr_del", 0x301},
    {"updtr_status", 0x304},
    {"updtr_match_list", 0x30a},
    {"strgp_add", 0x200},
    {"strgp_prdcr_add", 0x205},
    {"strgp_prdcr_del", 0x206},
    {"strgp_metric_add", 0x207},
    {"strgp_metric_del", 0x208},
    {"strgp_start", 0x202},
    {"strgp_stop", 0x203},
    {"strgp_del", 0x201},
    {"strgp_status", 0x204},
    {"set_sec_mod", 0x613},
    {"daemon_status", 0x603},
    {"version", 0x604},
    {"greeting", 0x002},
    {"set_stats", 0x60f},
    {"stream_status", 0x905},
    {"msg_stats", 0xc00},
    {"msg_client_stats", 0xc01},
    {"daemon_exit", 0x609},
    {"exit", 0x609},
    {"qgroup_config", 0xb00},
    {"qgroup_member_add", 0xb01},
    {"qgroup_member_del", 0xb02},
    {"qgroup_start", 0xb03},
    {"qgroup_stop", 0xb04},
    {"qgroup_info", 0xb05},
    {"smplrp_add", 0xd00},
    {"smplrp_del", 0xd01},
    {"smplrp_start", 0xd02},
    {"smplrp_stop", 0xd03},
    {"failover_config", 0x700},
    {"failover_start", 0x770},
    {"failover_stop", 0x771},
    {"setgroup_add", 0x800},
    {"setgroup_mod", 0x801},
    {"setgroup_del", 0x802},
    {"setgroup_ins", 0x803},
    {"setgroup_rm", 0x804},
    {"log_status", 0x614},
    {"thread_stats", 0x60d},
    {"xprt_stats", 0x60c},
    {"prdcr_stats", 0x60e},
    {"update_time_stats", 0x30b},
    {"store_time_stats", 0x209},
};

static const struct pair attrs[] = {
    {"name", 1},
    {"interval", 2},
    {"reconnect", 2},
    {"interval_us", 2},
    {"flush", 2},
    {"offset", 3},
    {"regex", 4},
    {"type", 5},
    {"producer", 6},
    {"instance", 7},
    {"xprt", 8},
    {"advertiser_xprt", 8},
    {"host", 9},
    {"port", 10},
    {"advertiser_port", 10},
    {"match", 11},
    {"plugin", 12},
    {"container", 13},
    {"schema", 14},
    {"metric", 15},
    {"string", 16},
    {"udata", 17},
    {"base", 18},
    {"incr", 19},
    {"level", 20},
    {"mode", 20},
    {"path", 21},
    {"time", 22},
    {"push", 23},
    {"test", 24},
    {"json", 26},
    {"perm", 27},
    {"auto_switch", 28},
    {"peer_name", 29},
    {"timeout_factor", 30},
    {"auto_interval", 31},
    {"disable_start", 31},
    {"uid", 32},
    {"gid", 33},
    {"stream", 34},
    {"auth", 35},
    {"advertiser_auth", 35},
    {"reset", 36},
    {"decomposition", 37},
    {"rail", 38},
    {"quota", 39},
    {"rx_rate", 40},
    {"summary", 41},
    {"size", 42},
    {"count", 42},
    {"depth", 42},
    {"num", 42},
    {"ip", 43},
    {"cache_ip", 43},
    {"ask_interval", 44},
    {"ask_mark", 45},
    {"ask_amount", 46},
    {"reset_interval", 47},
    {"exclusive_thread", 48},
    {"message_tag", 49},
    {"message_channel", 49},
    {"state", 50},
    {"hist_recal", 51},
};

static void test_verbs(void **state)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		int id = ldms_ctrl_cmd_id(verbs[i].name);
		if (id != verbs[i].id)
			fail_msg("verb %s -> %#x, expected %#x", verbs[i].name, id, verbs[i].id);
		const char *n = ldms_ctrl_cmd_name((uint32_t)id);
		assert_non_null(n);
		assert_int_equal(ldms_ctrl_cmd_id(n), id); /* round trip via canonical */
	}
	assert_string_equal(ldms_ctrl_cmd_name(0x602), "log_level");
	assert_string_equal(ldms_ctrl_cmd_name(0x609), "daemon_exit");
	assert_string_equal(ldms_ctrl_cmd_name(LDMSD_CFG_CNTR_REQ), "cfg_cntr");
	assert_int_equal(ldms_ctrl_cmd_id("nosuch"), -ENOSYS);
	assert_int_equal(ldms_ctrl_cmd_id(""), -ENOSYS);
	assert_int_equal(ldms_ctrl_cmd_id(NULL), -ENOSYS);
	assert_int_equal(ldms_ctrl_cmd_id("smplr_add"), -ENOSYS);
	assert_int_equal(ldms_ctrl_cmd_id("cfg_cntr"), -ENOSYS);  /* no verb */
	assert_int_equal(ldms_ctrl_cmd_id("Prdcr_add"), -ENOSYS); /* case-sensitive */
	assert_null(ldms_ctrl_cmd_name(0x5ff));
}

static void test_attrs(void **state)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		int id = ldms_ctrl_attr_id(attrs[i].name);
		if (id != attrs[i].id)
			fail_msg("attr %s -> %d, expected %d", attrs[i].name, id, attrs[i].id);
		assert_int_equal(ldms_ctrl_attr_id(ldms_ctrl_attr_name((uint32_t)id)), id);
	}
	assert_int_equal(ldms_ctrl_attr_id("nosuch"), -ENOENT);
	assert_int_equal(ldms_ctrl_attr_id("thread_stats"), -ENOENT);
	assert_string_equal(ldms_ctrl_attr_name(LDMSD_ATTR_INTERVAL), "interval");
	assert_string_equal(ldms_ctrl_attr_name(LDMSD_ATTR_MSG_TAG), "message_tag");
	assert_null(ldms_ctrl_attr_name(LDMSD_ATTR_LAST));
}

static void test_perm(void **state)
{
	assert_int_equal(ldms_ctrl_cmd_perm(LDMSD_PRDCR_STATUS_REQ) & LDMS_CTRL_PERM_MODE_MASK,
			 0111);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_PRDCR_STATUS_REQ) & LDMS_CTRL_PERM_STARTUP_OK);
	assert_false(ldms_ctrl_cmd_perm(LDMSD_PRDCR_STATUS_REQ) & LDMS_CTRL_PERM_MOD);
	assert_int_equal(ldms_ctrl_cmd_perm(LDMSD_PRDCR_ADD_REQ) & LDMS_CTRL_PERM_MODE_MASK, 0110);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_PRDCR_ADD_REQ) & LDMS_CTRL_PERM_MOD);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_PLUGN_LOAD_REQ) & LDMS_CTRL_PERM_MOD);
	assert_false(ldms_ctrl_cmd_perm(LDMSD_CFG_CNTR_REQ) & LDMS_CTRL_PERM_MOD);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_ENV_REQ) & LDMS_CTRL_F_PRIORITY);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_VERBOSE_REQ) & LDMS_CTRL_F_PRIORITY);
	assert_false(ldms_ctrl_cmd_perm(LDMSD_PRDCR_ADD_REQ) & LDMS_CTRL_F_PRIORITY);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_PRDCR_START_REGEX_REQ) & LDMS_CTRL_F_DEFERRED);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_UPDTR_START_REQ) & LDMS_CTRL_F_DEFERRED);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_STRGP_START_REQ) & LDMS_CTRL_F_DEFERRED);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_PLUGN_CONFIG_REQ) & LDMS_CTRL_F_FREEFORM);
	assert_true(ldms_ctrl_cmd_perm(LDMSD_LISTEN_REQ) & LDMS_CTRL_F_FREEFORM);
	assert_int_equal(ldms_ctrl_cmd_perm(0x5ff), 0);
}

static void test_cmd_wire(void **state)
{
	/* 4.5 and main: identity */
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		uint32_t id = (uint32_t)verbs[i].id;
		if (id < 0x622 || id > 0x623) {
			if (id < 0xd00)
				assert_int_equal(ldms_ctrl_cmd_id_to_wire(id, LDMS_CTRL_V4_5), id);
		}
		assert_int_equal(ldms_ctrl_cmd_id_to_wire(id, LDMS_CTRL_V_MAIN), id);
		assert_int_equal(ldms_ctrl_cmd_id_from_wire(id, LDMS_CTRL_V_MAIN), id);
	}
	/* 4.4: advertiser/prdcr_listen/advertise one lower; bridge_add absent */
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_BRIDGE_ADD_REQ, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_ADVERTISER_ADD_REQ, LDMS_CTRL_V4_4), 0x10c);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_PRDCR_LISTEN_ADD_REQ, LDMS_CTRL_V4_4),
			 0x110);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_PRDCR_LISTEN_STATUS_REQ, LDMS_CTRL_V4_4),
			 0x114);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_ADVERTISE_REQ, LDMS_CTRL_V4_4), 0x115);
	assert_int_equal(ldms_ctrl_cmd_id_from_wire(0x10c, LDMS_CTRL_V4_4),
			 LDMSD_ADVERTISER_ADD_REQ);
	assert_int_equal(ldms_ctrl_cmd_id_from_wire(0x115, LDMS_CTRL_V4_4), LDMSD_ADVERTISE_REQ);
	assert_int_equal(ldms_ctrl_cmd_id_from_wire(0x116, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_from_wire(0x10c, LDMS_CTRL_V4_5), LDMSD_BRIDGE_ADD_REQ);
	/* stable ids */
	uint32_t stable[] = {0x002, 0x003, 0x100, 0x104, 0x10b, 0x200, 0x209, 0x300, 0x30b, 0x502,
			     0x505, 0x600, 0x604, 0x613, 0x700, 0x800, 0x900, 0x906, 0xa00};
	for (size_t i = 0; i < sizeof(stable) / sizeof(stable[0]); i++) {
		assert_int_equal(ldms_ctrl_cmd_id_to_wire(stable[i], LDMS_CTRL_V4_4), stable[i]);
		assert_int_equal(ldms_ctrl_cmd_id_from_wire(stable[i], LDMS_CTRL_V4_4), stable[i]);
	}
	/* 4.5-only and main-only */
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_QGROUP_INFO_REQ, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_MSG_ENABLE_REQ, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_LOG_FILE_REQ, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_STORAGE_THREADS_REQ, LDMS_CTRL_V4_5),
			 -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_SMPLRP_ADD_REQ, LDMS_CTRL_V4_5), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(0x5ff, LDMS_CTRL_V_MAIN), -ENOTSUP);
	assert_int_equal(ldms_ctrl_cmd_id_to_wire(LDMSD_VERSION_REQ, (enum ldms_ctrl_ver)3),
			 -ENOTSUP);
}

static void test_attr_wire(void **state)
{
	for (uint32_t a = 0; a < LDMSD_ATTR_LAST; a++) {
		assert_int_equal(ldms_ctrl_attr_id_to_wire(a, LDMS_CTRL_V4_5), a);
		assert_int_equal(ldms_ctrl_attr_id_from_wire(a, LDMS_CTRL_V_MAIN), a);
	}
	for (uint32_t a = 0; a <= LDMSD_ATTR_DECOMP; a++) {
		assert_int_equal(ldms_ctrl_attr_id_to_wire(a, LDMS_CTRL_V4_4), a);
		assert_int_equal(ldms_ctrl_attr_id_from_wire(a, LDMS_CTRL_V4_4), a);
	}
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_RAIL, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_QUOTA, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_RX_RATE, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_SUMMARY, LDMS_CTRL_V4_4), 38);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_SIZE, LDMS_CTRL_V4_4), 39);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_IP, LDMS_CTRL_V4_4), 40);
	assert_int_equal(ldms_ctrl_attr_id_from_wire(38, LDMS_CTRL_V4_4), LDMSD_ATTR_SUMMARY);
	assert_int_equal(ldms_ctrl_attr_id_from_wire(39, LDMS_CTRL_V4_4), LDMSD_ATTR_SIZE);
	assert_int_equal(ldms_ctrl_attr_id_from_wire(40, LDMS_CTRL_V4_4), LDMSD_ATTR_IP);
	assert_int_equal(ldms_ctrl_attr_id_from_wire(41, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_MSG_TAG, LDMS_CTRL_V4_4), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_to_wire(LDMSD_ATTR_LAST, LDMS_CTRL_V4_5), -ENOTSUP);
	assert_int_equal(ldms_ctrl_attr_id_from_wire(LDMSD_ATTR_LAST, LDMS_CTRL_V4_5), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),     cmocka_unit_test(test_attrs),
	    cmocka_unit_test(test_perm),      cmocka_unit_test(test_cmd_wire),
	    cmocka_unit_test(test_attr_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
