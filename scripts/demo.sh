#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds ldms-c and runs a small
# monitoring setup on 127.0.0.1, showing what each part prints. Idempotent; every
# process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh normal
B=$PWD/build
RUN=$PWD/demo-run
rm -rf "$RUN"; mkdir -p "$RUN"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "daemon on port $1 did not come up" >&2; return 1; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Bare daemons (listeners only): 6 samplers, 2 L1 aggregators, 1 L2 with a CSV store.
# Maestro, in its embedded mode, configures all of them from one cluster YAML.
names="samp-1 samp-2 samp-3 samp-4 samp-5 samp-6 l1-1 l1-2 l2"
declare -A P
for n in $names; do P[$n]=$(port); done
start_daemon() { # name
	"$B/sbin/ldmsd" -x sock:"${P[$1]}":127.0.0.1 -l "$RUN/$1.log" -v INFO &
	eval "PID_${1//-/_}=$!"
	pids+=($!)
}
say "9 bare ldmsd daemons: samp-1..6, l1-1, l1-2, l2 (no configuration at all)"
for n in $names; do start_daemon "$n"; done
for n in $names; do wait_port "${P[$n]}"; done

Y=$RUN/cluster.yaml
{
	echo "daemons:"
	for n in $names; do
		printf '  - names: "%s"\n    hosts: "127.0.0.1"\n    endpoints:\n' "$n"
		printf '      - names: "%s-ep"\n        ports: "%s"\n        maestro_comm: true\n        xprt: sock\n' "$n" "${P[$n]}"
	done
	cat <<YAML
aggregators:
  - daemons: "l1-[1-2]"
    peers:
      - daemons: "samp-[1-6]"
        endpoints: "samp-[1-6]-ep"
        reconnect: 1s
        type: active
        updaters:
          - mode: pull
            interval: 1s
            offset: 200ms
  - daemons: "l2"
    peers:
      - daemons: "l1-[1-2]"
        endpoints: "l1-[1-2]-ep"
        reconnect: 1s
        type: active
        updaters:
          - mode: pull
            interval: 1s
            offset: 400ms
plugins:
  meminfo1:
    name: meminfo
    interval: 1s
    offset: 0ms
    config:
      - schema: meminfo
        component_id: "1"
        perm: "0644"
  csv1:
    name: store_csv
    config:
      - path: $RUN/csv
        buffer: 0
samplers:
  - daemons: "samp-[1-6]"
    plugins: [ meminfo1 ]
stores:
  st_meminfo:
    daemons: "l2"
    plugin: csv1
    container: demo
    schema: meminfo
YAML
} >"$Y"
mkdir -p "$RUN/csv"
say "maestro --ldms_config $Y   (embedded mode: no etcd needed)"
"$B/bin/maestro" --ldms_config "$Y" --log "$RUN/maestro.log" >"$RUN/maestro.out" 2>&1 &
pids+=($!)
l2_sets() { "$B/bin/ldms_ls" -h 127.0.0.1 -p "${P[l2]}" 2>/dev/null | grep -c meminfo || true; }
for _ in $(seq 100); do [ "$(l2_sets)" = 6 ] && break; sleep 0.2; done
sleep 1.5
say "maestro --status"
"$B/bin/maestro" --status --ldms_config "$Y"
say "ldms_ls -v on the L2: every sampler's set arrives through the two L1s"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "${P[l2]}" -v
say "ldmsd_controller --cmd prdcr_status on l1-1 (all 6 producers added, its share started)"
"$B/bin/ldmsd_controller" --host 127.0.0.1 --port "${P[l1-1]}" --cmd prdcr_status | grep -v '^    '

say "kill -9 l1-1 ... Maestro moves its producers to l1-2"
kill -9 "$PID_l1_1"
wait "$PID_l1_1" 2>/dev/null || true
sleep 3
"$B/bin/maestro" --status --ldms_config "$Y"
say "prdcr_status on l1-2 now"
"$B/bin/ldmsd_controller" --host 127.0.0.1 --port "${P[l1-2]}" --cmd prdcr_status | grep -v '^    '
say "maestro's log of the failover"
grep -iE "down|lost|rebalanc|mov|start" "$RUN/maestro.log" | tail -8

say "restart l1-1 (bare again): Maestro reconfigures it and gives its share back"
start_daemon l1-1
wait_port "${P[l1-1]}"
sleep 3
"$B/bin/maestro" --status --ldms_config "$Y"
say "CSV stored by the L2: rows per sampler (each sampler keeps arriving through the failover)"
f=$(ls "$RUN"/csv/demo/meminfo* | head -1)
head -1 "$f" | cut -c1-100
tail -n +2 "$f" | cut -d, -f3 | sort | uniq -c
say "done; logs in $RUN"
