#!/usr/bin/env bash
# crashsafe.sh: crash safety of `settle` (issue 8 item 3, SPEC "Outputs appear all at
# once or not at all"). `settle --force` on a generated dataset of $JOS_CRASH_N (200000)
# enrolments, which takes a moment (one signed statement per outside municipality, each
# fsync'd), is killed with SIGKILL
#  - after random delays spread over the time of a whole run (timeout -s KILL), and
#  - at chosen write-side calls (write/fsync/open/close/mkdir/rename/unlink/rmdir) of the
#    torture build (tests/torture/fault.c, JOS_FAULT_KIND=kill): the first, 6 spread over
#    the statements, every call of the commit (SHA256SUMS, fsync of the folder, moving
#    the old output aside, the rename into place, the first removals of the old one)
#    and the last.
# After every kill OUT_DIR must be absent or complete (sha256sum -c passes and lists every
# file) and, when complete, be exactly a finished run's output. The leftovers of killed
# runs (".OUT.jos-settle-tmp-PID", ".OUT.jos-settle-old-PID") must be removed by the next
# run, which must give the full output again. Skipped under JOS_RUNNER (valgrind).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
N=${JOS_CRASH_N:-200000}
if [ -n "${JOS_RUNNER:-}" ]; then
	echo "crashsafe.sh: skipped under JOS_RUNNER"
	exit 0
fi
start=$(date +%s)
tmp=$(mktemp -d /tmp/jos-crashsafe-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0 kills=0
ok() { echo "ok      $*"; }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
export ASAN_OPTIONS=detect_leaks=1:exitcode=86

make --no-print-directory -s BUILD="$BUILD" "$BUILD/gen" >/dev/null || { echo "FAILED  cannot build $BUILD/gen"; exit 1; }
bash tests/torture/build.sh "$tmp/jos-fault" || { echo "FAILED  cannot build the torture binary"; exit 1; }
bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
real=tests/data/gen/gemeenten_subset.csv region=(--region 8)
for c in "${JOS_GEMEENTEN:-}" ../shared/data/real/gemeenten_nl_342.csv ../../shared/data/real/gemeenten_nl_342.csv; do
	if [ -n "$c" ] && [ -r "$c" ]; then real=$c region=(); break; fi
done
"$BUILD/gen" "$tmp/data" "$N" 7 --real "$real" "${region[@]}" 2>/dev/null || { echo "FAILED  gen"; exit 1; }
KEYS=(--key "$tmp/pki/signer.key" --cert "$tmp/pki/signer.pem")
D=$tmp/data O=$tmp/w/out
mkdir "$tmp/w"

t0=$(date +%s%N)
"$JOS_BIN" settle "$D" -o "$tmp/ref" "${KEYS[@]}" 2>"$tmp/err" || { echo "FAILED  settle: $(cat "$tmp/err")"; exit 1; }
ms=$((($(date +%s%N) - t0) / 1000000))
nst=$(ls "$tmp/ref/statements" | wc -l)
echo "        a whole run: $ms ms, $nst statements, $N enrolments"

complete() {
	[ -f "$1/SHA256SUMS" ] || return 1
	(cd "$1" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1) || return 1
	[ "$(cd "$1" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort)" = \
		"$(awk '{print $2}' "$1/SHA256SUMS" | sort)" ]
}

# after a kill: OUT_DIR absent, or complete and the same as a finished run
judge() { # WHAT RC
	kills=$((kills + 1))
	if [ -e "$O" ]; then
		if ! complete "$O"; then
			bad "$1 (exit $2): OUT_DIR is incomplete: $(ls "$O" | head -5 | paste -sd' ')"
			return
		fi
		diff -r "$tmp/ref" "$O" >/dev/null || bad "$1 (exit $2): OUT_DIR is complete but not a finished run's output"
	fi
}

# 1. random delays over the time of a whole run (the first runs start with OUT_DIR absent,
#    later ones replace an existing one with --force)
RANDOM=8
exec 3>&2 2>/dev/null # the shell's "Killed" notices
for i in $(seq 1 8); do
	delay=$((RANDOM % (ms + 200)))
	( timeout -s KILL "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))" \
		"$JOS_BIN" settle "$D" -o "$O" "${KEYS[@]}" --force >/dev/null 2>&1 ) 2>/dev/null
	judge "killed after $delay ms" $?
done

# 2. at chosen write-side calls of the torture build
rm -rf "$tmp/w/"* "$tmp/w/".[!.]* 2>/dev/null
cp -r "$tmp/ref" "$O"
JOS_FAULT_KIND=write JOS_FAULT_LOG=$tmp/census "$tmp/jos-fault" settle "$D" -o "$O" "${KEYS[@]}" --force >/dev/null 2>&1 \
	|| { echo "FAILED  census run"; exit 1; }
total=$(awk '$1 == "calls" && $2 == "write" { print $3 }' "$tmp/census")
# the commit: from the last open (SHA256SUMS) through the renames to the first unlink of
# the old output's removal, every call; before it, 6 spread over the statements
tail0=$(awk '$2 == "open" { n = $1 } END { print n + 0 }' "$tmp/census")
tail1=$(awk -v t="$tail0" '$1 > t && $2 == "unlink" { print $1 + 1; exit }' "$tmp/census")
[ "$tail0" -gt 0 ] && [ -n "$tail1" ] || { echo "FAILED  census: no commit sequence found"; exit 1; }
points=$( { echo 1; seq 1 $(((tail0 + 5) / 6)) "$tail0"; seq "$tail0" "$tail1"; echo "$total"; } | sort -nu)
np=0
for n in $points; do
	op=$(awk -v n="$n" '$1 == n { print $2; exit }' "$tmp/census")
	( JOS_FAULT_KIND=kill JOS_FAULT_AT=$n "$tmp/jos-fault" settle "$D" -o "$O" "${KEYS[@]}" --force \
		>/dev/null 2>&1 ) 2>/dev/null
	rc=$?
	[ "$rc" = 137 ] || bad "write call $n ($op): not killed (exit $rc)"
	judge "killed at write call $n of $total ($op)" "$rc"
	np=$((np + 1))
done
exec 2>&3 3>&-
left=$(ls -a "$tmp/w" | grep -c "jos-settle-")
[ "$fails" = 0 ] && ok "$kills kills (8 after random delays, $np at write calls of $total): OUT_DIR absent or complete every time"

# 3. the next run removes what the killed runs left and writes the whole output
"$JOS_BIN" settle "$D" -o "$O" "${KEYS[@]}" --force 2>"$tmp/err" || bad "settle after the kills: $(cat "$tmp/err")"
rest=$(ls -a "$tmp/w" | grep "jos-settle-")
[ -z "$rest" ] && ok "the next run removed the $left leftover folders of killed runs" \
	|| bad "leftovers remain after the next run: $rest"
complete "$O" && diff -r "$tmp/ref" "$O" >/dev/null && ok "the next run wrote the whole output" \
	|| bad "the next run's output is not complete"

echo "crashsafe.sh: $kills kills, $fails failed, $(($(date +%s) - start)) s"
[ "$fails" = 0 ]
