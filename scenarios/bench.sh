#!/usr/bin/env bash
# bench.sh: the national-scale benchmark (`make bench`, after bin/jos-settle and build/gen).
# For 250k, 1M and 2.5M generated enrolments (cached under build/bench/) it times
# `check`, `settle` (signing every statement), `verify` of all statements and a 100-value
# `scenario` sweep: median wall time of RUNS runs, peak RSS, throughput; and the floor
# measured on the same machine in the same run: reading the input bytes once (cat) plus
# OpenSSL's time for the same number of RSA-2048 signatures (openssl speed). Commands that
# are not built yet (or fail) show as n/a; the benchmark goes on.
#
# Env: JOS_BIN (bin/jos-settle), BUILD (build), BENCH_SIZES ("250000 1000000 2500000"),
# BENCH_RUNS (3), JOS_GEMEENTEN (the municipality list; default ../shared/data/real/...).
# Timing and peak RSS come from python3 (time.perf_counter, getrusage of the child), so
# GNU time is not needed. Regenerate the data with `rm -rf build/bench`.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${JOS_BIN:-bin/jos-settle}
BUILD=${BUILD:-build}
GEN=$BUILD/gen
B=$BUILD/bench
SIZES=${BENCH_SIZES:-250000 1000000 2500000}
RUNS=${BENCH_RUNS:-3}
SEED=1

die() { echo "bench: $*" >&2; exit 2; }
[ -x "$GEN" ] || die "$GEN not built (run: make $GEN)"
command -v python3 >/dev/null || die "python3 is needed for timing"
command -v openssl >/dev/null || die "openssl is needed for the floor"
mkdir -p "$B"

real=""
for c in "${JOS_GEMEENTEN:-}" ../shared/data/real/gemeenten_nl_342.csv \
	 ../../shared/data/real/gemeenten_nl_342.csv; do
	if [ -n "$c" ] && [ -r "$c" ]; then real=$c; break; fi
done

# measure RESULT_FILE CMD...: one run; writes "wall_seconds peak_rss_kb exit_status".
MEASURE_PY='
import os, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
t1 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    f.write("%.6f %d %d\n" % (t1 - t0, rss, rc))
'
measure() { python3 -c "$MEASURE_PY" "$@"; }

# bench NAME CMD...: RUNS runs; sets R_MED (s), R_MIN (s), R_RSS (MB) or R_MED=n/a.
bench() {
	local name=$1 i res times="" rss=0 t k rc
	shift
	R_MED=n/a R_MIN=n/a R_RSS=n/a
	for ((i = 0; i < RUNS; i++)); do
		res=$B/run.res
		measure "$res" "$@" >"$B/$name.log" 2>&1
		t=0 k=0 rc=97
		[ -s "$res" ] && read -r t k rc < "$res"
		if [ "$rc" != 0 ]; then
			echo "bench: $name: exit $rc: $(head -c 300 "$B/$name.log" | head -n 2)" >&2
			return 1
		fi
		times="$times $t"
		[ "$k" -gt "$rss" ] && rss=$k
	done
	R_MED=$(printf '%s\n' $times | sort -g | awk '{a[NR] = $1} END {printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
	R_MIN=$(printf '%s\n' $times | sort -g | awk 'NR == 1 {printf "%.3f", $1}')
	R_RSS=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')
	return 0
}

# --- the PKI for signing (throwaway, like the demo's) --------------------------------
if [ ! -s "$B/ca.pem" ] || [ ! -s "$B/signer.pem" ] || [ ! -s "$B/signer-key.pem" ]; then
	(
		umask 077
		cd "$B" &&
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca-key.pem \
			-out ca.pem -subj "/CN=jos-settle bench CA (throwaway)" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -sha256 -keyout signer-key.pem -out signer.csr \
			-subj "/CN=jos-settle bench signer" 2>/dev/null &&
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' > signer.ext &&
		openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca-key.pem -set_serial 2 \
			-days 1825 -sha256 -extfile signer.ext -out signer.pem 2>/dev/null
	) || die "could not create the bench CA and certificate"
fi

# --- the sweep: 100 values of min_pupils ----------------------------------------------
{
	printf '[scenario]\nname = bench sweep\nbaseline = A\n\n[variant A]\nlabel = prorata\nkey = standard\n\n'
	printf '[variant B]\nlabel = tariff\nkey = tarief\n\n'
	printf '[sweep]\nvariant = A\nparameter = min_pupils\nvalues = 0'
	for ((i = 1; i < 100; i++)); do printf ', %d' "$i"; done
	printf '\n'
} > "$B/sweep.ini"

# --- the floor: OpenSSL's RSA-2048 signing and verifying rate on one core ---------------
speed=$(timeout 60 openssl speed -seconds 1 rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" {print $(NF - 1), $NF}')
SIGN_RATE=${speed% *}
VERIFY_RATE=${speed#* }
[ -n "$SIGN_RATE" ] || die "could not read the RSA-2048 rate from openssl speed"

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
echo "jos-settle benchmark: $(uname -srm), ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
echo "$(openssl version | cut -d' ' -f1-2): RSA-2048 $SIGN_RATE sign/s, $VERIFY_RATE verify/s (one core); median of $RUNS runs"
echo

declare -a TABLE
row() { TABLE+=("$(printf '%-6s %-9s %10s %10s %9s  %-20s %s' "$@")"); }
row "size" "command" "median s" "min s" "RSS MB" "throughput" "vs floor"
row "------" "---------" "--------" "-----" "------" "--------------------" "--------------------------"

fmt_rate() { awk -v n="$1" -v t="$2" -v u="$3" 'BEGIN { r = n / t; if (r >= 1e6) printf "%.2f M %s/s", r / 1e6, u; else if (r >= 1e3) printf "%.1f k %s/s", r / 1e3, u; else printf "%.1f %s/s", r, u }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

for n in $SIZES; do
	D=$B/data-$n
	label=$(awk -v n="$n" 'BEGIN { if (n >= 1e6 && n % 1e5 == 0) printf "%gM", n / 1e6; else if (n >= 1e3) printf "%gk", n / 1e3; else print n }')
	if [ ! -f "$D/.generated" ] || [ "$GEN" -nt "$D/.generated" ]; then
		[ -n "$real" ] || die "municipality list not found (set JOS_GEMEENTEN)"
		rm -rf "$D"
		echo "bench: generating $label enrolments into $D" >&2
		"$GEN" "$D" "$n" "$SEED" --real "$real" 2>"$B/gen-$n.log" || die "gen failed: $(cat "$B/gen-$n.log")"
		echo "$n $SEED" > "$D/.generated"
	fi
	files=("$D"/settlement.ini "$D"/municipalities.csv "$D"/schools.csv "$D"/costs.csv "$D"/enrolments.csv "$D"/agreements.csv)
	bytes=$(cat "${files[@]}" | wc -c)
	mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')

	# floor part 1: read the input bytes once
	bench "cat-$n" bash -c 'cat "$@" > /dev/null' cat "${files[@]}"
	CAT=$R_MED

	bench "check-$n" "$BIN" check "$D"
	row "$label" "check" "$R_MED" "$R_MIN" "$R_RSS" \
		"$([ "$R_MED" = n/a ] && echo n/a || fmt_rate "$n" "$R_MED" rows)" \
		"$([ "$R_MED" = n/a ] && echo n/a || echo "$(ratio "$R_MED" "$CAT") of read")"

	OUT=$B/out-$n
	bench "settle-$n" "$BIN" settle "$D" -o "$OUT" --key "$B/signer-key.pem" --cert "$B/signer.pem" --force
	SETTLE=$R_MED
	nst=0
	if [ "$SETTLE" != n/a ]; then
		nst=$(find "$OUT/statements" -name '*.xml' 2>/dev/null | wc -l)
	fi
	# statements expected: agreements (a municipality with an agreement has pupils here)
	nsig=$nst
	[ "$nsig" -gt 0 ] || nsig=$(($(wc -l < "$D/agreements.csv") - 1))
	SIGN=$(awk -v s="$nsig" -v r="$SIGN_RATE" 'BEGIN {printf "%.6f", s / r}')
	FLOOR=$(awk -v a="$CAT" -v b="$SIGN" 'BEGIN {printf "%.6f", a + b}')
	row "$label" "settle" "$R_MED" "$R_MIN" "$R_RSS" \
		"$([ "$R_MED" = n/a ] && echo n/a || fmt_rate "$n" "$R_MED" rows)" \
		"$([ "$R_MED" = n/a ] && echo n/a || echo "$(ratio "$R_MED" "$FLOOR") of floor")"

	if [ "$SETTLE" != n/a ] && [ "$nst" -gt 0 ]; then
		bench "verify-$n" bash -c 'exec "$0" verify --trust "$1" "$2"/statements/*.xml' "$BIN" "$B/ca.pem" "$OUT"
		VFLOOR=$(awk -v s="$nst" -v r="$VERIFY_RATE" 'BEGIN {printf "%.6f", s / r}')
		row "$label" "verify" "$R_MED" "$R_MIN" "$R_RSS" \
			"$([ "$R_MED" = n/a ] && echo n/a || fmt_rate "$nst" "$R_MED" stmts)" \
			"$([ "$R_MED" = n/a ] && echo n/a || echo "$(ratio "$R_MED" "$VFLOOR") of $nst RSA verifies")"
	else
		row "$label" "verify" n/a n/a n/a n/a "n/a (needs settle)"
	fi

	bench "scenario-$n" "$BIN" scenario "$D" "$B/sweep.ini" -o "$B/sweep-$n.csv"
	row "$label" "scenario" "$R_MED" "$R_MIN" "$R_RSS" \
		"$([ "$R_MED" = n/a ] && echo n/a || fmt_rate "$n" "$R_MED" rows)" \
		"$([ "$R_MED" = n/a ] || [ "$SETTLE" = n/a ] && echo n/a || echo "$(ratio "$R_MED" "$SETTLE") of settle")"

	row "$label" "floor" "$(printf '%.3f' "$FLOOR")" "" "" "$mb MB read" \
		"cat $(printf '%.3f' "$CAT") s + $nsig signs $(printf '%.3f' "$SIGN") s"
	row "" "" "" "" "" "" ""
done

printf '%s\n' "${TABLE[@]}"
cat <<EOF
Targets at 2.5M (issue 7): settle <= 2x floor and <= 1.5 s; RSS <= 256 MB; 250k -> 2.5M within
12x; verify of ~300 statements <= 0.5 s; the 100-value sweep <= 2x one settle.
Data, outputs and logs: $B/
EOF
