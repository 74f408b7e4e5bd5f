#!/usr/bin/env bash
# demo.sh (test): the parts of `make demo` (scenarios/demo.sh) that stand on their own:
# the throwaway CA and signing certificate (made once, reused, remade when a piece is
# missing) and the summary table; then the whole demo once `jos-settle settle` exists.
# Env: JOS_BIN, BUILD, JOS_RUNNER (unused: the demo runs the binary directly).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOS_BIN=${JOS_BIN:-$ROOT/bin/jos-settle}
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
P=$T/demo

# 1. the PKI
if DEMO_PKI_ONLY=1 BUILD=$T JOS_BIN=$JOS_BIN bash "$ROOT/scenarios/demo.sh" >/dev/null 2>"$T/err"; then
	ok "demo PKI created"
else
	bad "demo PKI: $(cat "$T/err")"
fi
if openssl verify -CAfile "$P/ca.pem" "$P/signer.pem" >/dev/null 2>&1; then
	ok "signing certificate chains to the demo CA"
else
	bad "signing certificate does not chain to the demo CA"
fi
bits=$(openssl pkey -in "$P/signer-key.pem" -noout -text 2>/dev/null | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')
[ "$bits" = 2048 ] && ok "RSA-2048 signing key" || bad "signing key has '$bits' bits"
openssl x509 -in "$P/ca.pem" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' &&
	ok "CA certificate is a CA" || bad "CA certificate lacks CA:TRUE"
openssl x509 -in "$P/signer.pem" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:FALSE' &&
	ok "signing certificate is not a CA" || bad "signing certificate lacks CA:FALSE"
[ "$(stat -c %a "$P/signer-key.pem")" = 600 ] && ok "private key readable by its owner only" ||
	bad "private key mode $(stat -c %a "$P/signer-key.pem")"

before=$(cat "$P"/*.pem | sha256sum)
DEMO_PKI_ONLY=1 BUILD=$T JOS_BIN=$JOS_BIN bash "$ROOT/scenarios/demo.sh" >/dev/null 2>&1 || true
[ "$(cat "$P"/*.pem | sha256sum)" = "$before" ] && ok "PKI reused on a second run" || bad "PKI remade although complete"

rm "$P/signer.pem"
DEMO_PKI_ONLY=1 BUILD=$T JOS_BIN=$JOS_BIN bash "$ROOT/scenarios/demo.sh" >/dev/null 2>&1 || true
if [ -s "$P/signer.pem" ] && openssl verify -CAfile "$P/ca.pem" "$P/signer.pem" >/dev/null 2>&1 &&
   [ "$(cat "$P"/*.pem | sha256sum)" != "$before" ]; then
	ok "a missing piece makes a fresh, consistent PKI"
else
	bad "PKI not remade consistently after losing signer.pem"
fi
ls "$P" | grep -q '^pki\.' && bad "temporary PKI folder left behind" || ok "no temporary folder left behind"

# 2. the summary table
if bash "$ROOT/scenarios/summary_table.sh" "$ROOT/tests/data/demo/summary.csv" > "$T/table.txt" &&
   cmp -s "$T/table.txt" "$ROOT/tests/data/demo/table.txt"; then
	ok "summary table as expected (quoted names, thousands, totals per status)"
else
	bad "summary table differs:"; diff "$ROOT/tests/data/demo/table.txt" "$T/table.txt" | head || true
fi
printf 'municipality_code,municipality_name\n0358,Aalsmeer\n' > "$T/short.csv"
rc=0; bash "$ROOT/scenarios/summary_table.sh" "$T/short.csv" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] && ok "summary without the SPEC columns: exit 2" || bad "summary without columns: exit $rc"

# 3. the whole demo, once settle and verify exist
probe=$("$JOS_BIN" settle "$ROOT/scenarios/holland-rijnland" -o "$T/probe" --key "$P/signer-key.pem" \
	--cert "$P/signer.pem" 2>&1 >/dev/null) || true
if grep -q "not built yet" <<<"$probe"; then
	echo "ok - whole demo: # SKIP jos-settle settle not built yet"
elif BUILD=$T JOS_BIN=$JOS_BIN bash "$ROOT/scenarios/demo.sh" > "$T/demo.out" 2>&1; then
	if grep -q '^All [0-9]* statements are signed and verify' "$T/demo.out" &&
	   grep -q 'capped' "$T/demo.out" && grep -q 'below_threshold' "$T/demo.out"; then
		ok "whole demo: settles, verifies and prints the table"
	else
		bad "whole demo: unexpected output: $(tail -n 5 "$T/demo.out")"
	fi
else
	bad "whole demo failed: $(tail -n 5 "$T/demo.out")"
fi

exit $fail
