#!/usr/bin/env bash
# test.sh -- run every test after `make test` has built build-asan (gcc,
# AddressSanitizer + UndefinedBehaviorSanitizer) and build-fuzz (clang,
# libFuzzer):
#   1. CTest in build-asan: cmocka unit tests, then the API suites against the
#      real kefu binary on SQLite and on a throwaway PostgreSQL server;
#   2. each libFuzzer target for a bounded time (FUZZ_SECONDS, default 30),
#      starting from its seed corpus in tests/fuzz/corpus/<target>/.
# Ends with one line "summary: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# No strict_string_checks: it makes ASan read every string passed to
# strchr/strstr to its end, which turns loading the search dictionaries
# (every kefu process does, and the API suites start hundreds) from 0.3 s
# into 12-15 s per process -- the suites then ran into their time limits.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export KEFU_REQUIRE_PG=1
fuzz_seconds=${FUZZ_SECONDS:-30}

passed=0
failed=0

ctest_log=$(mktemp)
ctest --test-dir build-asan --output-on-failure -j 2 --timeout 1200 2>&1 | tee "$ctest_log"
ctest_rc=${PIPESTATUS[0]}
total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log" | tail -n 1)
bad=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -n 1)
rm -f "$ctest_log"
if [ -z "$total" ]; then
	echo "test.sh: ctest did not report a result" >&2
	failed=$((failed + 1))
else
	passed=$((passed + total - bad))
	failed=$((failed + bad))
fi
[ "$ctest_rc" -eq 0 ] || [ "${bad:-0}" -gt 0 ] || failed=$((failed + 1))

for fuzzer in build-fuzz/fuzz_*; do
	[ -x "$fuzzer" ] || continue
	name=$(basename "$fuzzer")
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	echo "fuzz: $name for ${fuzz_seconds}s"
	if "$fuzzer" -max_total_time="$fuzz_seconds" -print_final_stats=1 -rss_limit_mb=2048 \
		-artifact_prefix="build-fuzz/crash-$name-" "$work" >"$work/log" 2>&1; then
		echo "fuzz: $name ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$') runs)"
		passed=$((passed + 1))
	else
		echo "fuzz: $name FAILED"
		tail -n 60 "$work/log"
		failed=$((failed + 1))
	fi
	rm -rf "$work"
done

echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
