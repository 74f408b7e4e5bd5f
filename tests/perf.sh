#!/usr/bin/env bash
# perf.sh: the fast paths of `settle` (issue 7) give exactly the bytes of the plain ones.
# On the benchmark's 250k data set (build/gen, seed 1; 20k under a JOS_RUNNER such as
# valgrind) settle runs with the statements built and signed on several threads (the
# default, and JOS_THREADS=3), in one thread (JOS_THREADS=1), and through the libxml2
# tree and xmlsec (JOS_SIGN_TREE=1, the code path before the optimisation): the output
# folders must be identical byte for byte (RSA signatures are deterministic). With an
# EC P-256 key (random signatures) everything but the SignatureValue texts must be
# identical and every statement must verify.
# Env: JOS_BIN (the binary), BUILD (build dir), JOS_RUNNER (e.g. valgrind ...).
set -uo pipefail

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

cd "$ROOT"
make --no-print-directory -s BUILD="$BUILD" "$GEN" >/dev/null || { echo "not ok - build $GEN"; exit 1; }
bash tests/support/pki.sh "$T/pki" >/dev/null 2>&1 || { echo "not ok - test PKI"; exit 1; }

N=250000
[ -n "$RUNNER" ] && N=20000
# the municipality list: the full reference list when found, else the test excerpt
real=$ROOT/tests/data/gen/gemeenten_subset.csv
for c in "${JOS_GEMEENTEN:-}" "$ROOT/../shared/data/real/gemeenten_nl_342.csv" \
	 "$ROOT/../../shared/data/real/gemeenten_nl_342.csv"; do
	if [ -n "$c" ] && [ -r "$c" ]; then real=$c; break; fi
done
"$GEN" "$T/data" "$N" 1 --real "$real" 2>"$T/gen.log" || { echo "not ok - gen: $(cat "$T/gen.log")"; exit 1; }

# settle NAME KEY ENV...: OUT in $T/NAME
settle() {
	local name=$1 key=$2
	shift 2
	env "$@" $RUNNER "$JOS_BIN" settle "$T/data" -o "$T/$name" --key "$T/pki/$key.key" \
		--cert "$T/pki/$key.pem" >"$T/$name.log" 2>&1
}

if settle tree signer JOS_SIGN_TREE=1 JOS_THREADS=1; then
	nst=$(ls "$T/tree/statements" | wc -l)
	if [ "$nst" -gt 10 ]; then ok "tree path: $nst statements"; else bad "tree path: only $nst statements"; fi
else
	bad "tree path: settle failed: $(head -3 "$T/tree.log")"
fi
for v in "one JOS_THREADS=1" "default" "three JOS_THREADS=3"; do
	set -- $v
	name=$1
	shift
	if ! settle "$name" signer "$@"; then
		bad "$name: settle failed: $(head -3 "$T/$name.log")"
	elif diff -r "$T/tree" "$T/$name" >"$T/$name.diff"; then
		ok "$name ($*): output identical to the tree path, byte for byte"
	else
		bad "$name ($*): output differs from the tree path: $(head -5 "$T/$name.diff")"
	fi
done

# verify on several threads: the same lines, in argument order, and the same exit code as
# one thread, with a tampered statement and a missing file among the good ones
if [ -d "$T/tree/statements" ]; then
	mkdir -p "$T/vf"
	cp "$T"/tree/statements/*.xml "$T/vf/"
	f=$(ls "$T/vf" | sed -n 5p)
	sed -i '0,/<Amount>/s/<Amount>\([0-9]\)/<Amount>9\1/' "$T/vf/$f"
	set -- "$T"/vf/*.xml
	set -- "$@" "$T/vf/missing.xml" "$T/vf/$(ls "$T/vf" | sed -n 2p)"
	rc1=0; JOS_THREADS=1 $RUNNER "$JOS_BIN" verify --trust "$T/pki/ca.pem" "$@" >"$T/v1.out" 2>&1 || rc1=$?
	rc3=0; JOS_THREADS=3 $RUNNER "$JOS_BIN" verify --trust "$T/pki/ca.pem" "$@" >"$T/v3.out" 2>&1 || rc3=$?
	if [ "$rc1" = 2 ] && [ "$rc3" = 2 ] && cmp -s "$T/v1.out" "$T/v3.out" &&
	   [ "$(grep -c ': FAILED' "$T/v3.out")" = 2 ] && grep -q "^$T/vf/$f: FAILED" "$T/v3.out"; then
		ok "verify on 3 threads: same report and exit code as on one ($# files, 2 failures)"
	else
		bad "verify threads: exit $rc1/$rc3, $(diff "$T/v1.out" "$T/v3.out" | head -3) $(grep FAILED "$T/v3.out" | head -3)"
	fi
fi

# EC: random signatures; the rest must be identical, and everything must verify
strip_sig() { sed -e '/<ds:SignatureValue>/,/<\/ds:SignatureValue>/d' "$1"; }
if settle ectree signer-ec JOS_SIGN_TREE=1 JOS_THREADS=1 && settle ecfast signer-ec JOS_THREADS=2; then
	same=1
	for f in "$T"/ectree/statements/*.xml; do
		b=$(basename "$f")
		if ! cmp -s <(strip_sig "$f") <(strip_sig "$T/ecfast/statements/$b"); then
			same=0
			bad "EC: statements/$b differs beyond its SignatureValue"
			break
		fi
	done
	cmp -s "$T/ectree/summary.csv" "$T/ecfast/summary.csv" || { same=0; bad "EC: summary.csv differs"; }
	[ $same = 1 ] && ok "EC: fast output equals the tree path but for the signature values"
	if $RUNNER "$JOS_BIN" verify --trust "$T/pki/ca.pem" "$T"/ecfast/statements/*.xml >"$T/ecv.log" 2>&1; then
		ok "EC: every fast-path statement verifies"
	else
		bad "EC: verify failed: $(grep -v ': OK$' "$T/ecv.log" | head -3)"
	fi
else
	bad "EC: settle failed: $(head -3 "$T/ectree.log" "$T/ecfast.log")"
fi

[ $fail = 0 ] && echo "perf.sh: all passed"
exit $fail
