"""End-to-end tests of the control verbs added late (docs/verbs.md), sent with
ldmsd_controller to a sampler daemon and an aggregator over sock on 127.0.0.1:
udata/udata_regex, oneshot, logrotate, example, the legacy stream verbs (publish on
the sampler reaches the aggregator that subscribed with prdcr_subscribe stream=),
a raw peer's STREAM_SUBSCRIBE getting the stream as LDMS messages, prdcr_stream_status,
updtr_task, update_time_stats and store_time_stats, plus the error replies that name
the bad attribute.
"""

import os
import re

from conftest import ldms_ls, wait_for_sets
from tree_util import bare_ldmsd_factory, wait_until  # noqa: F401


def status(d, text):
    msg = d.status(text)
    assert msg is not None, "%s: %r failed" % (d.name, text)
    return msg


def test_verbs_sampler_side(bare_ldmsd_factory, tmp_path):  # noqa: F811
    s = bare_ldmsd_factory("vsamp", start=False)
    log = os.path.join(str(tmp_path), "vsamp.log")
    s.args += ["-l", log, "-v", "INFO"]
    s.start()
    s.source(
        [
            "load name=mi plugin=meminfo",
            "config name=mi producer=vsamp instance=vsamp/mi",
            "load name=vm plugin=vmstat",
            "config name=vm producer=vsamp instance=vsamp/vm",
        ]
    )
    # oneshot: the sets exist but were never sampled until now
    s.cmd("oneshot name=mi time=now")
    wait_for_sets(s.port, ["vsamp/mi"], sampled=True)
    r = s.cmd("oneshot name=vm time=now+1")
    wait_for_sets(s.port, ["vsamp/vm"], sampled=True, timeout=10)
    r = s.cmd("oneshot name=mi time=12", check=False)
    assert "Error 22" in r.stdout and "has passed" in r.stdout

    # udata / udata_regex: visible to ldms_ls -u
    s.cmd("udata set=vsamp/mi metric=MemFree udata=4242")
    s.cmd("udata_regex set=vsamp/mi regex=^Mem(Total|Available)$ base=7 incr=3")
    out = ldms_ls(s.port, "-l", "-u", "vsamp/mi").stdout
    udata = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[3].startswith("0x"):
            udata[f[2]] = int(f[3], 16)
    assert udata["MemFree"] == 4242
    assert udata["MemTotal"] == 7 and udata["MemAvailable"] == 10
    r = s.cmd("udata set=vsamp/mi metric=MemFree udata=abc", check=False)
    assert r.returncode != 0 or "Error 22" in r.stdout
    assert "attribute 'udata'" in r.stdout
    r = s.cmd("udata_regex set=vsamp/mi regex=x", check=False)
    assert "requires attribute 'base'" in r.stdout
    r = s.cmd("udata set=nosuch metric=MemFree udata=1", check=False)
    assert "Error 2" in r.stdout and "nosuch" in r.stdout

    # example echoes the attributes as upstream does
    ex = status(s, "example name=abc regex=x.*")
    assert ex == [
        {"attr_len": 4, "attr_id": 1, "attr_value": "abc"},
        {"attr_len": 4, "attr_id": 4, "attr_value": "x.*"},
    ]

    # logrotate: the old log becomes <log>-<epoch>, the daemon writes a fresh one
    s.cmd("logrotate")
    rotated = [n for n in os.listdir(str(tmp_path)) if re.match(r"vsamp\.log-\d+$", n)]
    assert len(rotated) == 1, os.listdir(str(tmp_path))
    s.cmd("udata set=vsamp/mi metric=MemFree udata=1")  # the daemon lives on
    s.cmd("say hello", check=False)
    with open(os.path.join(str(tmp_path), rotated[0])) as f:
        assert "log rotated" not in f.read()
    with open(log) as f:
        assert "log rotated" in f.read()
    assert s.alive()


def test_verbs_aggregator_side(bare_ldmsd_factory, tmp_path):  # noqa: F811
    s = bare_ldmsd_factory("vs1")
    s.source(
        [
            "load name=meminfo",
            "config name=meminfo producer=vs1 instance=vs1/meminfo",
            "start name=meminfo interval=1s offset=0",
        ]
    )
    a = bare_ldmsd_factory("va1")
    csv = os.path.join(str(tmp_path), "csv")
    os.makedirs(csv)
    a.source(
        [
            "prdcr_add name=vs1 host=127.0.0.1 port=%d xprt=sock type=active reconnect=1s"
            % s.port,
            "prdcr_subscribe regex=.* stream=vstream",
            "prdcr_start name=vs1",
            "updtr_add name=vupd interval=1s offset=200ms",
            "updtr_prdcr_add name=vupd regex=.*",
            "updtr_start name=vupd",
            "load name=csv plugin=store_csv",
            "config name=csv path=%s" % csv,
            "strgp_add name=vcsv plugin=csv container=c schema=meminfo",
            "strgp_start name=vcsv",
        ]
    )

    # updtr_task: the default task on the updater's schedule
    assert status(a, "updtr_task name=vupd") == [
        {"interval_us": "1000000", "offset_us": "200000", "default_task": "true"}
    ]
    r = a.cmd("updtr_task name=nosuch", check=False)
    assert "Error 2" in r.stdout

    def upd_cnt():
        st = status(a, "update_time_stats")
        rec = st.get("vupd", {}).get("vs1", {}).get("vs1/meminfo")
        return st if rec and rec["cnt"] >= 3 else None

    st = wait_until("3 timed updates", upd_cnt, 30)
    rec = st["vupd"]["vs1"]["vs1/meminfo"]
    assert list(rec) == ["min", "max", "avg", "cnt", "skipped_cnt", "oversampled_cnt"]
    assert 0 < rec["min"] <= rec["avg"] <= rec["max"]
    assert st["vupd"]["histogram"]["warmup_in_progress"] is True

    def stored():
        st = status(a, "store_time_stats")
        s1 = st.get("vcsv", {}).get("sets", {}).get("vs1/meminfo")
        return st if s1 and s1["stats"]["count"] >= 2 else None

    st = wait_until("2 timed stores", stored, 30)["vcsv"]
    assert sorted(st) == ["hist_store_time", "producers", "schemas", "sets", "threads"]
    s1 = st["sets"]["vs1/meminfo"]
    assert s1["producer"] == "vs1" and s1["schema"] == "meminfo"
    assert sorted(s1["stage_stats"]) == ["commit", "queue"]
    assert s1["thread_id"] in st["threads"]
    assert sorted(s1["stats"]) == [
        "avg", "count", "end_ts", "max", "max_ts", "min", "min_ts", "start_ts"]
    assert st["hist_store_time"]["n_warmup"] == 200

    # reset returns the values, then starts over (updater stopped: at most the
    # update in flight at the stop completes afterwards)
    a.cmd("updtr_stop name=vupd")
    before = status(a, "update_time_stats name=vupd reset=true")["vupd"]["vs1"]["vs1/meminfo"]
    assert before["cnt"] >= 3
    after = status(a, "update_time_stats name=vupd")["vupd"]["vs1"]["vs1/meminfo"]
    assert after["cnt"] <= 1
    a.cmd("updtr_start name=vupd")
    r = a.cmd("store_time_stats name=nosuch", check=False)
    assert "Error 2" in r.stdout
    r = a.cmd("update_time_stats reset=perhaps", check=False)
    assert "attribute 'reset'" in r.stdout

    # prdcr_stream_status: the producer's subscriptions and its connection
    def pss():
        st = status(a, "prdcr_stream_status regex=^vs1$")
        return st if st and st[0]["state"] == "CONNECTED" and st[0]["conn"] else None

    st = wait_until("connected producer", pss, 20)
    assert st[0]["name"] == "vs1"
    assert st[0]["subscriptions"] == [{"message_tag": "vstream", "is_regex": 0, "rx_rate": -1}]

    # a legacy publish on the sampler reaches the subscribed aggregator
    def delivered():
        s.cmd("publish name=vstream string=hello")
        st = status(a, "stream_status")
        v = st.get("vstream")
        return st if v and v["recv"].get("count", 0) >= 1 else None

    st = wait_until("stream delivered to the aggregator", delivered, 20)
    assert st["vstream"]["recv"]["total_bytes"] >= 6
    ss = status(s, "stream_status stream=vstream")
    assert ss["vstream"]["pub"]["count"] >= 1
    assert ss["vstream"]["mode"] == "subscribed"  # the aggregator's remote client
    dump = status(s, "stream_client_dump")
    assert any(c.get("match") == "vstream" for c in dump)
    r = s.cmd("publish name=vstream", check=False)
    assert "'string' or 'json'" in r.stdout
    assert s.alive() and a.alive()


def test_legacy_subscribe_over_the_wire(bare_ldmsd_factory):  # noqa: F811
    """A peer's `subscribe name=S` (STREAM_SUBSCRIBE 0x901) makes the daemon forward
    stream S to that connection as LDMS messages; `unsubscribe` stops it."""
    import wire_client as w

    d = bare_ldmsd_factory("vwire")
    c = w.Conn(d.port)
    try:
        # the rail conn msg, advertising an enabled message service (last field)
        cm = w.LDMS_VERSION + b"none".ljust(16, b"\0")
        cm += w.struct.pack(">IqqIIIQI", 1, -1, -1, 1, 0, os.getpid() & 0x7FFFFFFF, 1, 1)
        c.send(
            w.zap_hdr(w.CONNECT, 36 + len(cm))
            + w.ZAP_VERSION
            + w.ZAP_SIG
            + w.struct.pack(">I", len(cm))
            + cm
        )
        ftype, _, _, _ = c.recv_frame()
        assert ftype == w.ACCEPTED
        c.send(w.zap_data(w.ACK_ACCEPTED, b""))

        def ctrl(req_id, name, msg_no):
            body = w.attr(1, name) + w.TERM  # NAME
            c.send(w.send_msg(w.record(req_id, body, msg_no=msg_no)))
            while True:
                cmd, _, _, payload = c.recv_ldms()
                if cmd == w.SEND_MSG:
                    rtype, _, no, err, _ = w.parse_record(payload[4:])
                    if rtype == 2 and no == msg_no:
                        return err

        assert ctrl(0x901, "wstream", 1) == 0
        assert ctrl(0x901, "wstream", 2) == 17  # EEXIST: one per connection and stream
        d.cmd("publish name=wstream string=over-the-wire")

        def got_msg(timeout=10.0):
            deadline = w.time.monotonic() + timeout
            while w.time.monotonic() < deadline:
                try:
                    cmd, _, _, payload = c.recv_ldms(timeout=deadline - w.time.monotonic())
                except Exception:
                    return None
                if cmd == 11 and b"over-the-wire" in payload:  # MSG
                    return payload
            return None

        p = got_msg()
        assert p is not None and b"wstream\0" in p
        st = status(d, "stream_status stream=wstream")
        assert st["wstream"]["mode"] == "subscribed"
        assert ctrl(0x902, "wstream", 3) == 0  # unsubscribe
        assert ctrl(0x902, "wstream", 4) == 2  # ENOENT
        st = status(d, "stream_status stream=wstream")
        assert st["wstream"]["mode"] == "not subscribed"
        assert ctrl(0x901, "wstream", 5) == 0
    finally:
        c.close()

    # the subscription ends with its connection
    def gone():
        dump = status(d, "stream_client_dump")
        return not any(x.get("desc") == "legacy stream subscriber" for x in dump)

    wait_until("the closed peer's subscription to go", gone, 10)
    assert d.alive()
