#!/usr/bin/env bash
# keys.sh: settle's key options end to end (issue 8 item 4; PKCS#11 is tests/pkcs11.sh):
#  - the passphrase from the environment (--key-pass-env NAME) gives the same bytes as
#    from a file (--key-pass-file); an unset variable, or both options: exit 2;
#  - a key file that group or others may access is refused (exit 2, a message that
#    names the mode and the way out, no OUT_DIR) unless --allow-insecure-key-file;
#  - settle --help documents the options.
set -u
cd "$(dirname "$0")/.."
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
tmp=$(mktemp -d /tmp/jos-keys-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fails=0
ok() { echo "ok      $*"; pass=$((pass + 1)); }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
jos() { $RUN "$JOS_BIN" "$@" </dev/null; }
hr=scenarios/holland-rijnland

bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
P=$tmp/pki

# passphrase: file and environment give the same statements
printf 's3cret\n' > "$tmp/pass"
jos settle "$hr" -o "$tmp/file" --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-file "$tmp/pass" \
	2>"$tmp/err" || bad "--key-pass-file: $(cat "$tmp/err")"
JOS_KEY_PASS=s3cret jos settle "$hr" -o "$tmp/env" --key "$P/signer-enc.key" --cert "$P/signer.pem" \
	--key-pass-env JOS_KEY_PASS 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ -f "$tmp/env/SHA256SUMS" ] && diff -r "$tmp/file" "$tmp/env" >/dev/null \
	&& ok "--key-pass-env: same bytes as --key-pass-file" || bad "--key-pass-env: exit $rc, $(cat "$tmp/err")"

expect2() { # NAME GREP ARGS... (env assignments may precede via `env`)
	local name=$1 want=$2
	shift 2
	rm -rf "$tmp/no"
	timeout 60 "$@" </dev/null >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" "$tmp/err" && [ ! -e "$tmp/no" ]; then ok "$name: exit 2"
	else bad "$name: exit $rc, $(tail -2 "$tmp/err")"; fi
}
S="$RUN $JOS_BIN settle $hr -o $tmp/no"
expect2 "wrong passphrase from the environment" "wrong passphrase" \
	env JOS_KEY_PASS=nope $S --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-env JOS_KEY_PASS
expect2 "--key-pass-env naming an unset variable" "JOS_UNSET_PASS is not set" \
	env -u JOS_UNSET_PASS $S --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-env JOS_UNSET_PASS
expect2 "both --key-pass-file and --key-pass-env" "not both" \
	env JOS_KEY_PASS=s3cret $S --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-env JOS_KEY_PASS \
	--key-pass-file "$tmp/pass"
expect2 "encrypted key without a passphrase" "key-pass-env" \
	$S --key "$P/signer-enc.key" --cert "$P/signer.pem"

# key file modes
for mode in 640 604 644 660; do
	cp "$P/signer.key" "$tmp/k$mode.key" && chmod "$mode" "$tmp/k$mode.key"
	expect2 "key file mode $mode refused" "mode 0$mode.*allow-insecure-key-file" \
		$S --key "$tmp/k$mode.key" --cert "$P/signer.pem"
done
jos settle "$hr" -o "$tmp/insecure" --key "$tmp/k644.key" --cert "$P/signer.pem" --allow-insecure-key-file \
	2>"$tmp/err"
rc=$?
[ $rc = 0 ] && diff -r "$tmp/file" "$tmp/insecure" >/dev/null \
	&& ok "--allow-insecure-key-file accepts mode 644 (same bytes)" || bad "--allow-insecure-key-file: exit $rc, $(cat "$tmp/err")"
cp "$P/signer.key" "$tmp/k400.key" && chmod 400 "$tmp/k400.key"
jos settle "$hr" -o "$tmp/k400" --key "$tmp/k400.key" --cert "$P/signer.pem" 2>"$tmp/err" \
	&& ok "key file mode 400 accepted" || bad "mode 400: $(cat "$tmp/err")"
# the passphrase file is not checked (a passphrase alone is no key)
chmod 644 "$tmp/pass"
jos settle "$hr" -o "$tmp/pass644" --key "$P/signer-enc.key" --cert "$P/signer.pem" --key-pass-file "$tmp/pass" \
	2>/dev/null && ok "a passphrase file of mode 644 is read" || bad "passphrase file of mode 644 refused"

help=$("$JOS_BIN" settle --help)
missing=""
for o in --key-pass-file --key-pass-env --allow-insecure-key-file pkcs11: module-path; do
	grep -q -- "$o" <<<"$help" || missing="$missing $o"
done
[ -z "$missing" ] && ok "settle --help documents the key options" || bad "settle --help lacks$missing"

echo "keys.sh: $pass passed, $fails failed"
[ "$fails" = 0 ]
