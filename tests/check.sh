#!/usr/bin/env bash
# tests/check.sh: end-to-end `jos-settle check` on the fixtures of tests/data: exit
# status 0 (valid, warnings allowed), 1 (invalid data, every problem as FILE:LINE) and
# 2 (usage and I/O errors), and the exact lines printed.
# Env: JOS_BIN (the binary), JOS_RUNNER (optional, e.g. "valgrind -q ...").
set -u
BIN=${JOS_BIN:?set JOS_BIN to the jos-settle binary}
RUNNER=${JOS_RUNNER:-}
DATA=$(cd "$(dirname "$0")/data" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/jos-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# check EXPECTED_EXIT ARGS...: runs `jos-settle check ARGS`, output in $TMP/out, $TMP/err
check() {
	local want=$1; shift
	# shellcheck disable=SC2086
	$RUNNER "$BIN" check "$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	[ "$got" = "$want" ] || { fail "check $*: exit $got, expected $want"; cat "$TMP/err" >&2; }
}
has_err() { grep -Fxq -- "$1" "$TMP/err" || { fail "stderr lacks: $1"; cat "$TMP/err" >&2; }; }
has_out() { grep -Fxq -- "$1" "$TMP/out" || { fail "stdout lacks: $1"; cat "$TMP/out" >&2; }; }
no_err() { [ ! -s "$TMP/err" ] || { fail "unexpected stderr:"; cat "$TMP/err" >&2; }; }
err_lines() {
	local n; n=$(wc -l <"$TMP/err")
	[ "$n" = "$1" ] || { fail "stderr has $n lines, expected $1"; cat "$TMP/err" >&2; }
}

# valid: exit 0, the summary, nothing on stderr
check 0 "$DATA/valid-small"
no_err
has_out "municipalities: 6 (3 inside the region, 3 outside)"
has_out "schools:        3"
has_out "enrolments:     8"
has_out "pupils:         7 (3 living inside the region, 4 outside)"
has_out "budget:         520000.50 euros"
has_out "cofinancing:    25000.00 euros"
has_out "result:         valid (0 errors, 0 warnings)"

# warnings do not make the data invalid
check 0 "$DATA/check-warning"
has_err "municipalities.csv:1: warning: unknown column 'province' ignored"
err_lines 1

# every problem of every file, sorted by file order and line
check 1 "$DATA/check-invalid"
has_out "result:         INVALID (11 errors, 0 warnings)"
cat >"$TMP/want" <<'WANT'
settlement.ini:17: unknown key parameter 'discont'
settlement.ini:23: [key tarief] has no tariff for school type 'SBO' (schools.csv line 4): add tariff.SBO = ...
municipalities.csv:8: duplicate code 0546 (also at line 2)
municipalities.csv:9: code '12345': a municipality code has at most 4 digits: write GM0546, 0546 or 546
schools.csv:4: school 16XA00 has no row in costs.csv
costs.csv:3: budget '1,800.00': thousands separators are not allowed: write 1800.00
enrolments.csv:10: enrolment overlaps the one at line 2 of the same pupil
enrolments.csv:11: unknown school 02QY09 (not in schools.csv)
enrolments.csv:11: end_date 2025-07-31 is before start_date 2025-08-01
agreements.csv:4: agreement with municipality 0546 (Leiden), which is inside the region: agreements are only for municipalities outside it
agreements.csv:5: unknown key 'standaard' (no [key standaard] in settlement.ini)
WANT
diff "$TMP/want" "$TMP/err" >&2 || fail "check-invalid: stderr differs"

# a missing required file: FILE: missing, exit 1, no cascade
check 1 "$DATA/check-missing-file"
has_err "schools.csv: missing"
err_lines 1

# the problem list is capped at 100 with a count of the rest
mkdir "$TMP/many"
cp "$DATA"/valid-small/* "$TMP/many/"
for i in $(seq 1 150); do echo "X$i,02QY00,0546,2025-08-01,2025-07-01,"; done >>"$TMP/many/enrolments.csv"
check 1 "$TMP/many"
has_err "enrolments.csv:10: end_date 2025-07-01 is before start_date 2025-08-01"
has_err "... and 50 more problems"
err_lines 101

# pupil ids never appear in any output
grep -q "X1[0-9]" "$TMP/out" "$TMP/err" && fail "a pupil id was printed"

# usage and I/O errors: exit 2
check 2
has_err "jos-settle: check: missing DATA_DIR"
check 2 "$DATA/valid-small" "$DATA/valid-small"
has_err "jos-settle: check: too many arguments"
check 2 --frobnicate "$DATA/valid-small"
check 2 "$TMP/does-not-exist"
check 0 --help
has_out "Usage: jos-settle check DATA_DIR"

if [ "$fails" -gt 0 ]; then
	echo "tests/check.sh: $fails failure(s)" >&2
	exit 1
fi
echo "tests/check.sh: ok"
