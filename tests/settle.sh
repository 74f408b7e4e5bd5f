#!/usr/bin/env bash
# settle.sh: `jos-settle settle` end to end on the bundled example regions:
#  - summary.csv and every statement (less its ds:Signature) equal the golden files in
#    tests/data/golden/<region>/ (which tests/reference.sh checks independently);
#  - every statement validates against formats/statement.xsd and verifies with the
#    xmlsec1 command; SHA256SUMS passes `sha256sum -c`; two runs give identical bytes;
#  - whole or nothing: a non-empty OUT_DIR is refused (exit 2) without --force and
#    replaced as a whole with it; invalid data (exit 1) and a bad key (exit 2) leave
#    no OUT_DIR; an encrypted key works with --key-pass-file.
# JOS_UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).
set -u
cd "$(dirname "$0")/.."
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
tmp=$(mktemp -d /tmp/jos-settle-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fails=0
ok() { echo "ok      $*"; pass=$((pass + 1)); }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
jos() { $RUN "$JOS_BIN" "$@"; }

bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
P=$tmp/pki
unsigned() { sed '/<ds:Signature/,$d' "$1"; }

for region in holland-rijnland alkmaar; do
	out=$tmp/$region
	if ! jos settle "scenarios/$region" -o "$out" --key "$P/signer.key" --cert "$P/signer.pem" 2>"$tmp/err"; then
		bad "$region: settle failed: $(cat "$tmp/err")"
		continue
	fi
	golden=tests/data/golden/$region
	if [ "${JOS_UPDATE_GOLDEN:-}" = 1 ]; then
		rm -rf "$golden" && mkdir -p "$golden/statements"
		cp "$out/summary.csv" "$golden/"
		for f in "$out"/statements/*.xml; do unsigned "$f" > "$golden/statements/$(basename "$f")"; done
	fi
	if cmp -s "$out/summary.csv" "$golden/summary.csv"; then ok "$region: summary.csv as golden"
	else bad "$region: summary.csv differs: $(diff "$golden/summary.csv" "$out/summary.csv" | head -5)"; fi
	n=0 same=0
	for f in "$out"/statements/*.xml; do
		n=$((n + 1))
		cmp -s <(unsigned "$f") "$golden/statements/$(basename "$f")" && same=$((same + 1))
	done
	ng=$(ls "$golden/statements" | wc -l)
	if [ "$n" -gt 0 ] && [ "$n" = "$same" ] && [ "$n" = "$ng" ]; then ok "$region: $n statements as golden"
	else bad "$region: statements: $same of $n equal to golden ($ng golden)"; fi
	if xmllint --noout --schema formats/statement.xsd "$out"/statements/*.xml 2>"$tmp/xl"; then
		ok "$region: statements validate with xmllint --schema"
	else bad "$region: schema: $(grep -v validates "$tmp/xl" | head -3)"; fi
	v=0
	for f in "$out"/statements/*.xml; do
		xmlsec1 --verify --trusted-pem "$P/ca.pem" "$f" >/dev/null 2>&1 && v=$((v + 1))
	done
	[ "$v" = "$n" ] && ok "$region: $v statements verify with the xmlsec1 command" \
		|| bad "$region: only $v of $n verify with xmlsec1"
	(cd "$out" && sha256sum --quiet -c SHA256SUMS) && ok "$region: SHA256SUMS" || bad "$region: SHA256SUMS"
	jos settle "scenarios/$region" -o "$tmp/again" --key "$P/signer.key" --cert "$P/signer.pem" 2>/dev/null
	diff -r "$out" "$tmp/again" >/dev/null && ok "$region: a second run gives identical bytes" \
		|| bad "$region: a second run differs"
	rm -rf "$tmp/again"
done

# whole or nothing
hr=scenarios/holland-rijnland
mkdir -p "$tmp/full" && echo foreign > "$tmp/full/foreign.txt"
jos settle "$hr" -o "$tmp/full" --key "$P/signer.key" --cert "$P/signer.pem" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q -- "--force" "$tmp/err" && [ -f "$tmp/full/foreign.txt" ] \
	&& ok "non-empty OUT_DIR refused with exit 2" || bad "non-empty OUT_DIR: exit $rc, $(cat "$tmp/err")"
jos settle "$hr" -o "$tmp/full" --key "$P/signer.key" --cert "$P/signer.pem" --force 2>/dev/null
[ ! -e "$tmp/full/foreign.txt" ] && [ -f "$tmp/full/summary.csv" ] \
	&& ok "--force replaces OUT_DIR as a whole" || bad "--force left foreign files or wrote nothing"
# the refusal comes before any data is read: a missing DATA_DIR still gives exit 2
jos settle "$tmp/nowhere" -o "$tmp/full" --key "$P/signer.key" --cert "$P/signer.pem" 2>/dev/null
[ $? = 2 ] && ok "OUT_DIR refused before data is read" || bad "OUT_DIR check after data"

cp -r "$hr" "$tmp/bad" && sed -i '2s/,[0-9-]*,/,2025-13-45,/' "$tmp/bad/enrolments.csv"
jos settle "$tmp/bad" -o "$tmp/o1" --key "$P/signer.key" --cert "$P/signer.pem" 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && [ ! -e "$tmp/o1" ] && grep -q "^enrolments.csv:2: " "$tmp/err" \
	&& ok "invalid data: exit 1, FILE:LINE, nothing written" || bad "invalid data: exit $rc, $(head -3 "$tmp/err")"
jos settle "$hr" -o "$tmp/o2" --key "$P/attacker.key" --cert "$P/signer.pem" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && [ ! -e "$tmp/o2" ] && ok "key not matching the certificate: exit 2, nothing written" \
	|| bad "mismatched key: exit $rc, $(cat "$tmp/err")"
ls -a "$tmp" | grep -q jos-settle-tmp && bad "a temporary folder was left behind" || ok "no temporary folder left behind"
printf 's3cret\n' > "$tmp/pass"
jos settle "$hr" -o "$tmp/o3" --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-file "$tmp/pass" 2>"$tmp/err" \
	&& cmp -s "$tmp/o3/summary.csv" "$tmp/full/summary.csv" && ok "encrypted key with --key-pass-file" \
	|| bad "encrypted key: $(cat "$tmp/err")"
printf 'wrong\n' > "$tmp/pass"
jos settle "$hr" -o "$tmp/o4" --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-file "$tmp/pass" </dev/null 2>/dev/null
rc=$?
[ $rc = 2 ] && [ ! -e "$tmp/o4" ] && ok "wrong passphrase: exit 2, never prompts" || bad "wrong passphrase: exit $rc"

echo "settle.sh: $pass passed, $fails failed"
[ "$fails" = 0 ]
