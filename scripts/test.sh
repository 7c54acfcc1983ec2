#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, and runs every test
# (unit tests normal and ASan+UBSan, end-to-end tests, short fuzz runs, format check).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== format check"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
if [ -n "$files" ]; then
	clang-format --dry-run -Werror $files
fi

echo "== build"
./scripts/build.sh normal
echo "== unit tests"
ctest --test-dir build --output-on-failure -j2

echo "== build (ASan+UBSan)"
./scripts/build.sh asan
echo "== unit tests (ASan+UBSan)"
ctest --test-dir build-asan --output-on-failure -j2

echo "== fuzz (bounded)"
./scripts/build.sh fuzz
shopt -s nullglob
for f in build-fuzz/fuzz/fuzz_*; do
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	mkdir -p "build-fuzz/corpus-$name"
	seeds=()
	[ -d "$corpus" ] && seeds=("$corpus")
	ASAN_OPTIONS=detect_leaks=1 "$f" -max_total_time="${FUZZ_SECONDS:-15}" -rss_limit_mb=2048 \
		"build-fuzz/corpus-$name" "${seeds[@]}" >"build-fuzz/$name.log" 2>&1 ||
		{ tail -50 "build-fuzz/$name.log"; echo "fuzz target $name failed"; exit 1; }
	echo "$name: $(grep -c . "build-fuzz/$name.log") log lines, ok"
done

echo "== end-to-end tests"
LDMSC_BUILD=$PWD/build /usr/bin/python3 -m pytest -q tests/e2e
