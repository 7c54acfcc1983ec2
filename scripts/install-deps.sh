#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test, fuzz and demo ldms-c. Idempotent.
set -euo pipefail
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
libevent-dev libjansson-dev libfyaml-dev libcurl4-openssl-dev libmunge-dev munge
libssl-dev libreadline-dev libcmocka-dev python3 python3-pytest etcd-server etcd-client procps"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi
