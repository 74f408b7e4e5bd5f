#!/usr/bin/env bash
# gen.sh: end-to-end test of the benchmark generator scenarios/gen (build/gen).
# The same arguments must give byte-identical files, another seed other files, exactly N
# enrolment rows, and data that is valid: an independent awk check of references and
# overlaps, and `jos-settle check` when that command exists.
# Env: JOS_BIN (the binary), BUILD (build dir), JOS_RUNNER (e.g. valgrind ...).
# Municipalities: a 32-row excerpt of the reference list (tests/data/gen/, with an island,
# quoted names, neighbours outside the excerpt), plus the full list when it is found
# (JOS_GEMEENTEN, or ../shared/data/real/ beside the repo or beside its worktree folder).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
JOS_BIN=${JOS_BIN:-$ROOT/bin/jos-settle}
RUNNER=${JOS_RUNNER:-}
GEN=$BUILD/gen
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

make -C "$ROOT" --no-print-directory -s BUILD="$BUILD" "$GEN" >/dev/null || { echo "not ok - build $GEN"; exit 1; }

# Independent validity check (SPEC rules the generator must meet): unique ids, every
# reference resolves, every school has costs, budget >= cofinancing, end >= start, no two
# enrolments of one pupil overlap (inclusive), agreements only outside the region.
awk_check() {
	LC_ALL=C awk -F, '
	FNR == 1 { file++; next }
	file == 1 { if ($1 in mun) { print "dup municipality " $1; bad++ } mun[$1] = 1
		    if ($0 ~ /,yes,[0-9]+$/) inreg[$1] = 1; next }
	file == 2 { n = split($0, f, ","); if (f[n-2] in mun == 0) { print "school muni " $0; bad++ }
		    if ($1 in sch) { print "dup school " $1; bad++ } sch[$1] = 1; next }
	file == 3 { if (!($1 in sch)) { print "costs for unknown " $1; bad++ } cost[$1] = 1
		    if ($3 != "" && $2 + 0 < $3 + 0) { print "cofinancing > budget " $1; bad++ }
		    if ($2 !~ /^[0-9]+\.[0-9][0-9]$/) { print "budget " $2; bad++ } next }
	file == 4 { rows++
		    if (!($2 in sch)) { print "enrolment school " $0; bad++ }
		    if (!($3 in mun)) { print "enrolment residence " $0; bad++ }
		    e = ($5 == "" ? "9999-12-31" : $5)
		    if (e < $4) { print "end before start " $0; bad++ }
		    k = ++cnt[$1]; s[$1, k] = $4; en[$1, k] = e; next }
	file == 5 { if (!($1 in mun) || ($1 in inreg)) { print "agreement " $0; bad++ } next }
	END {
		for (sid in sch) if (!(sid in cost)) { print "no costs " sid; bad++ }
		for (p in cnt) for (i = 1; i <= cnt[p]; i++) for (j = i + 1; j <= cnt[p]; j++)
			if (s[p, i] <= en[p, j] && s[p, j] <= en[p, i]) { print "overlap " p; bad++ }
		print rows
		exit bad > 0
	}' "$1/municipalities.csv" "$1/schools.csv" "$1/costs.csv" "$1/enrolments.csv" \
	   "$1/agreements.csv"
}

files="settlement.ini municipalities.csv schools.csv costs.csv enrolments.csv agreements.csv"

run_case() { # name gemeenten N seed [gen options...]
	local name=$1 real=$2 n=$3 seed=$4
	shift 4
	$RUNNER "$GEN" "$T/$name.a" "$n" "$seed" --real "$real" "$@" 2>"$T/$name.log" ||
		{ bad "$name: gen failed: $(cat "$T/$name.log")"; return; }
	$RUNNER "$GEN" "$T/$name.b" "$n" "$seed" --real "$real" "$@" 2>/dev/null ||
		{ bad "$name: second gen run failed"; return; }
	$RUNNER "$GEN" "$T/$name.c" "$n" $((seed + 1)) --real "$real" "$@" 2>/dev/null ||
		{ bad "$name: third gen run failed"; return; }
	local same=1 f
	for f in $files; do
		[ -s "$T/$name.a/$f" ] || { bad "$name: $f missing or empty"; same=0; continue; }
		cmp -s "$T/$name.a/$f" "$T/$name.b/$f" || { bad "$name: $f differs between runs with the same seed"; same=0; }
	done
	[ $same = 1 ] && ok "$name: same seed, byte-identical output"
	if cmp -s "$T/$name.a/enrolments.csv" "$T/$name.c/enrolments.csv"; then
		bad "$name: another seed gives the same enrolments"
	else
		ok "$name: another seed gives other enrolments"
	fi
	local out rows
	if out=$(awk_check "$T/$name.a"); then
		rows=$(tail -n 1 <<<"$out")
		if [ "$rows" = "$n" ]; then ok "$name: valid (awk check), exactly $n enrolment rows"
		else bad "$name: $rows enrolment rows, asked for $n"; fi
	else
		bad "$name: awk check: $(head -n 5 <<<"$out")"
	fi
	# the generator's own account: movers and leavers exist
	if grep -Eq 'movers [1-9][0-9]*, school changers [0-9]+, leavers [1-9]' "$T/$name.log"; then
		ok "$name: movers and leavers present"
	else
		bad "$name: no movers or leavers: $(cat "$T/$name.log")"
	fi
	local rc=0
	$RUNNER "$JOS_BIN" check "$T/$name.a" >"$T/$name.check" 2>&1 || rc=$?
	case $rc in
	0) ok "$name: jos-settle check accepts the data" ;;
	1) bad "$name: jos-settle check rejects the data: $(head -n 5 "$T/$name.check")" ;;
	*) echo "ok - $name: # SKIP jos-settle check not available (exit $rc)" ;;
	esac
}

run_case subset "$ROOT/tests/data/gen/gemeenten_subset.csv" 3000 11 --region 8

# the awk check itself must be able to fail: a duplicated enrolment row overlaps
if [ -d "$T/subset.a" ]; then
	cp -r "$T/subset.a" "$T/dup"
	sed -n 2p "$T/subset.a/enrolments.csv" >> "$T/dup/enrolments.csv"
	if awk_check "$T/dup" >/dev/null; then bad "awk check misses a duplicate row"
	else ok "awk check catches a duplicate (overlapping) row"; fi
fi

# the full reference list when it is around (as in make bench)
real=""
for c in "${JOS_GEMEENTEN:-}" "$ROOT/../shared/data/real/gemeenten_nl_342.csv" \
	 "$ROOT/../../shared/data/real/gemeenten_nl_342.csv"; do
	if [ -n "$c" ] && [ -r "$c" ]; then real=$c; break; fi
done
if [ -n "$real" ]; then
	run_case national "$real" 20000 1
	nm=$(($(wc -l < "$T/national.a/municipalities.csv") - 1))
	[ "$nm" = 342 ] && ok "national: 342 municipalities" || bad "national: $nm municipalities"
else
	echo "ok - national: # SKIP reference list ../shared/data/real/gemeenten_nl_342.csv not found"
fi

# usage errors exit 2 and write nothing
rc=0; "$GEN" "$T/usage" 0 2>/dev/null || rc=$?
[ $rc = 2 ] && [ ! -e "$T/usage/enrolments.csv" ] && ok "N = 0 is a usage error" || bad "N = 0: exit $rc"
rc=0; "$GEN" "$T/missing" 10 1 --real "$T/nope.csv" 2>/dev/null || rc=$?
[ $rc = 2 ] && ok "missing reference list: exit 2" || bad "missing reference list: exit $rc"

exit $fail
