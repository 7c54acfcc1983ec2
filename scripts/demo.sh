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

SP=$(port)
say "sampler ldmsd on 127.0.0.1:$SP (meminfo, vmstat, procstat at 1 s)"
HOSTNAME=node-1 "$B/sbin/ldmsd" -x sock:"$SP":127.0.0.1 -c examples/sampler.conf -l "$RUN/sampler.log" -v INFO &
pids+=($!)
wait_port "$SP"
sleep 1.5
say "ldms_ls -h 127.0.0.1 -p $SP"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "$SP"
say "ldms_ls -v"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "$SP" -v
say "ldms_ls -l node-1/meminfo (first 12 lines)"
"$B/bin/ldms_ls" -h 127.0.0.1 -p "$SP" -l node-1/meminfo | head -12
if [ -x "$B/bin/maestro_ctrl" ] && [ -f examples/cluster.yaml ]; then
	say "maestro_ctrl: per-daemon configs from examples/cluster.yaml"
	"$B/bin/maestro_ctrl" --ldms_config examples/cluster.yaml --generate_config_path "$RUN/generated"
	ls "$RUN/generated"
fi
say "done; logs in $RUN"
