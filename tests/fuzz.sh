#!/usr/bin/env bash
# tests/fuzz.sh: fuzz smoke test. Builds every libFuzzer harness (tests/fuzz/fuzz_*.c)
# with clang into build-fuzz/ and runs each for a few seconds on a copy of its seed
# corpus (make fuzz-smoke); any crash, sanitizer report or broken invariant fails.
# Without clang or its fuzzer runtime (Debian: clang libclang-rt-14-dev) it prints
# SKIPPED. FUZZ_SMOKE_SECONDS sets the seconds per harness (default 3).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 ||
   ! "${FUZZ_CC:-clang}" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
	echo "fuzz.sh: SKIPPED (no clang with the libFuzzer runtime: apt-get install clang libclang-rt-14-dev)"
	exit 0
fi

start=$(date +%s)
# A make of its own: not the variables (BUILD, SAN, RUNNER) of a make check/valgrind
# that runs this script.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory fuzz-smoke FUZZ_SMOKE_SECONDS="${FUZZ_SMOKE_SECONDS:-3}" >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	echo "fuzz.sh: FAILED (a harness crashed or broke an invariant; the input is in build-fuzz/artifacts/)"
	exit 1
fi
grep -E '^(== |stat::number_of_executed_units)' "$tmp/out"
echo "fuzz.sh: OK ($(( $(date +%s) - start )) s)"
