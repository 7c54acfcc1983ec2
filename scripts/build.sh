#!/usr/bin/env bash
# Configures and builds one flavour of ldms-c: build.sh [normal|asan|fuzz] (default normal).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-normal}
case "$flavour" in
normal) dir=build; opts=() ;;
asan) dir=build-asan; opts=(-DLDMSC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
fuzz) dir=build-fuzz; opts=(-DLDMSC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug) ;;
*) echo "usage: $0 [normal|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
