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

# Four samplers -> two L1 aggregators -> one L2 aggregator with a CSV store.
declare -A P
for n in node-1 node-2 node-3 node-4 l1a l1b l2; do P[$n]=$(port); done
say "4 sampler ldmsds (meminfo, vmstat at 1 s) on ports ${P[node-1]} ${P[node-2]} ${P[node-3]} ${P[node-4]}"
cid=0
for n in node-1 node-2 node-3 node-4; do
	cid=$((cid + 1))
	NODE=$n CID=$cid "$B/sbin/ldmsd" -x sock:"${P[$n]}":127.0.0.1 -c examples/tree/sampler.conf \
		-l "$RUN/$n.log" -v INFO &
	pids+=($!)
done
say "L1 aggregators l1a (node-1, node-2) on ${P[l1a]}, l1b (node-3, node-4) on ${P[l1b]}"
S1=node-1 S1_PORT=${P[node-1]} S2=node-2 S2_PORT=${P[node-2]} \
	"$B/sbin/ldmsd" -x sock:"${P[l1a]}":127.0.0.1 -c examples/tree/l1.conf -l "$RUN/l1a.log" -v INFO &
pids+=($!)
S1=node-3 S1_PORT=${P[node-3]} S2=node-4 S2_PORT=${P[node-4]} \
	"$B/sbin/ldmsd" -x sock:"${P[l1b]}":127.0.0.1 -c examples/tree/l1.conf -l "$RUN/l1b.log" -v INFO &
pids+=($!)
say "L2 aggregator on ${P[l2]}, store_csv into $RUN/csv"
mkdir -p "$RUN/csv"
L1A_PORT=${P[l1a]} L1B_PORT=${P[l1b]} CSV_DIR=$RUN/csv \
	"$B/sbin/ldmsd" -x sock:"${P[l2]}":127.0.0.1 -c examples/tree/l2.conf -l "$RUN/l2.log" -v INFO &
pids+=($!)
for n in node-1 node-2 node-3 node-4 l1a l1b l2; do wait_port "${P[$n]}"; done
sleep 4
say "ldms_ls -h 127.0.0.1 -p ${P[l2]}   (the L2 sees every sampler's sets through the L1s)"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "${P[l2]}"
say "ldms_ls -v on the L2 (R = remote set, C = consistent)"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "${P[l2]}" -v
say "ldms_ls -l node-1/meminfo on the L2 (first 8 lines)"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "${P[l2]}" -l node-1/meminfo | head -8
say "ldmsd_controller --cmd prdcr_status on l1a"
"$B/bin/ldmsd_controller" --host 127.0.0.1 --port "${P[l1a]}" --cmd prdcr_status
say "ldmsd_controller --cmd updtr_status on the L2"
"$B/bin/ldmsd_controller" --host 127.0.0.1 --port "${P[l2]}" --cmd updtr_status
say "ldmsd_controller --cmd strgp_status on the L2"
"$B/bin/ldmsd_controller" --host 127.0.0.1 --port "${P[l2]}" --cmd strgp_status
say "CSV written by the L2 (header and last rows)"
f=$(ls "$RUN"/csv/tree/meminfo* | head -1)
head -1 "$f" | cut -c1-120
tail -4 "$f" | cut -c1-120
if [ -x "$B/bin/maestro_ctrl" ] && [ -f examples/cluster.yaml ]; then
	say "maestro_ctrl: per-daemon configs from examples/cluster.yaml"
	"$B/bin/maestro_ctrl" --ldms_config examples/cluster.yaml --generate_config_path "$RUN/generated"
	ls "$RUN/generated"
fi
say "done; logs in $RUN"
