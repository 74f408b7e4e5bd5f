#!/usr/bin/env bash
# reference.sh: jos-settle's summary.csv and statement lines must equal those of an
# independent second computation (tests/reference/settle.py, exact fractions, written from
# the SPEC alone) on both bundled examples and on a generated national dataset.
# Skips (ok # SKIP) while `jos-settle settle` is not built.
# Env: JOS_BIN, BUILD, JOS_RUNNER.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
JOS_BIN=${JOS_BIN:-$ROOT/bin/jos-settle}
RUNNER=${JOS_RUNNER:-}
REF=$ROOT/tests/reference
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

# a throwaway signing key and certificate
(
	cd "$T"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca-key.pem -out ca.pem \
		-subj "/CN=reference test CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -sha256 -keyout key.pem -out req.csr \
		-subj "/CN=reference test signer" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > ext
	openssl x509 -req -in req.csr -CA ca.pem -CAkey ca-key.pem -set_serial 2 -days 1825 \
		-sha256 -extfile ext -out cert.pem 2>/dev/null
)

compare() { # name DATA_DIR
	local name=$1 data=$2 rc=0
	$RUNNER "$JOS_BIN" settle "$data" -o "$T/$name.out" --key "$T/key.pem" --cert "$T/cert.pem" \
		>"$T/$name.log" 2>&1 || rc=$?
	if [ $rc = 2 ] && grep -q "not built yet" "$T/$name.log"; then
		echo "ok - $name: # SKIP jos-settle settle not built yet"
		return
	fi
	[ $rc = 0 ] || { bad "$name: settle exit $rc: $(head -n 3 "$T/$name.log")"; return; }
	python3 "$REF/settle.py" "$data" > "$T/$name.ref.csv"
	if cmp -s "$T/$name.ref.csv" "$T/$name.out/summary.csv"; then
		ok "$name: summary.csv equals the reference computation"
	else
		bad "$name: summary.csv differs from the reference:"
		diff "$T/$name.ref.csv" "$T/$name.out/summary.csv" | head -n 20
	fi
	python3 "$REF/settle.py" "$data" --lines > "$T/$name.ref-lines.csv"
	shopt -s nullglob
	local st=("$T/$name.out"/statements/*.xml)
	shopt -u nullglob
	python3 "$REF/xml_lines.py" "${st[@]}" > "$T/$name.lines.csv"
	if cmp -s "$T/$name.ref-lines.csv" "$T/$name.lines.csv"; then
		ok "$name: ${#st[@]} statements, every line's GrossShare and Amount equal the reference"
	else
		bad "$name: statement lines differ from the reference:"
		diff "$T/$name.ref-lines.csv" "$T/$name.lines.csv" | head -n 20
	fi
}

compare holland-rijnland "$ROOT/scenarios/holland-rijnland"
compare alkmaar "$ROOT/scenarios/alkmaar"

# a national dataset: the generator with the excerpt of the municipality list
make -C "$ROOT" --no-print-directory -s BUILD="$BUILD" "$BUILD/gen" >/dev/null
"$BUILD/gen" "$T/national" 10000 5 --real "$ROOT/tests/data/gen/gemeenten_subset.csv" \
	--region 10 --schools 60 2>/dev/null
compare national-10k "$T/national"

exit $fail
