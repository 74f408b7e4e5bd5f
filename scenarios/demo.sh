#!/usr/bin/env bash
# demo.sh: the main job in one command (`make demo`, after the build).
# Creates a throwaway CA and an RSA-2048 signing certificate under build/demo/ (never
# committed; reused when present), settles the bundled example region Holland Rijnland
# into a fresh build/demo/out, verifies every statement against the CA and the data,
# and prints the summary as a table.
#
# Env: JOS_BIN (default bin/jos-settle), BUILD (default build), DEMO_REGION (default
# scenarios/holland-rijnland).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${JOS_BIN:-bin/jos-settle}
DEMO=${BUILD:-build}/demo
DATA=${DEMO_REGION:-scenarios/holland-rijnland}
OUT=$DEMO/out

die() { echo "demo: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN not built (run: make)"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

# --- 1. a throwaway CA and a signing certificate (never use these for real money) ------
# Made once; delete build/demo to make new ones.
make_pki() {
	local tmp
	tmp=$(mktemp -d "$DEMO/pki.XXXXXX")
	(
		umask 077
		cd "$tmp"
		cat > ca.cnf <<-'EOF'
		[req]
		distinguished_name = dn
		prompt = no
		x509_extensions = v3_ca
		[dn]
		O = jos-settle demo
		CN = jos-settle demo CA (throwaway, not for real statements)
		[v3_ca]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		EOF
		cat > signer.ext <<-'EOF'
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, nonRepudiation
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		EOF
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -config ca.cnf \
			-keyout ca-key.pem -out ca.pem 2>/dev/null
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out signer-key.pem 2>/dev/null
		openssl req -new -key signer-key.pem -sha256 -out signer.csr \
			-subj "/O=Holland Rijnland (demo)/CN=JOS settlement signer (demo)" 2>/dev/null
		openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca-key.pem -set_serial 2 \
			-days 1825 -sha256 -extfile signer.ext -out signer.pem 2>/dev/null
		openssl verify -CAfile ca.pem signer.pem >/dev/null
	) || { rm -rf "$tmp"; die "could not create the demo CA and certificate"; }
	mv "$tmp/ca.pem" "$tmp/ca-key.pem" "$tmp/signer.pem" "$tmp/signer-key.pem" "$DEMO/"
	rm -rf "$tmp"
	echo "demo: created a throwaway CA ($DEMO/ca.pem) and signing certificate ($DEMO/signer.pem)"
}

mkdir -p "$DEMO"
if [ ! -s "$DEMO/ca.pem" ] || [ ! -s "$DEMO/ca-key.pem" ] || [ ! -s "$DEMO/signer.pem" ] ||
   [ ! -s "$DEMO/signer-key.pem" ]; then
	rm -f "$DEMO/ca.pem" "$DEMO/ca-key.pem" "$DEMO/signer.pem" "$DEMO/signer-key.pem"
	make_pki
fi
[ "${DEMO_PKI_ONLY:-}" = 1 ] && exit 0   # for tests of this script

# --- 2. settle -------------------------------------------------------------------------
echo "demo: settling $DATA"
"$BIN" settle "$DATA" -o "$OUT" --key "$DEMO/signer-key.pem" --cert "$DEMO/signer.pem" --force ||
	die "settle failed (exit $?)"

# --- 3. verify every statement, as a receiving municipality would -----------------------
shopt -s nullglob
statements=("$OUT"/statements/*.xml)
shopt -u nullglob
[ ${#statements[@]} -gt 0 ] || die "no statements in $OUT/statements"
vlog=$DEMO/verify.log
if ! "$BIN" verify --trust "$DEMO/ca.pem" --data "$DATA" "${statements[@]}" > "$vlog" 2>&1; then
	grep -v ': OK$' "$vlog" >&2 || true
	die "verification failed (full log: $vlog)"
fi
nok=$(grep -c ': OK$' "$vlog" || true)
[ "$nok" -eq ${#statements[@]} ] || die "verify printed $nok OK lines for ${#statements[@]} statements ($vlog)"
(cd "$OUT" && sha256sum --quiet -c SHA256SUMS) || die "SHA256SUMS does not match $OUT"

# --- 4. the summary as a table ---------------------------------------------------------
echo
bash "$ROOT/scenarios/summary_table.sh" "$OUT/summary.csv"
cat <<EOF

All ${#statements[@]} statements are signed and verify against the demo CA (and recompute
from the data). Files:
  $OUT/summary.csv            one row per municipality with pupils
  $OUT/statements/CODE.xml    signed statements, one per outside municipality with an agreement
  $OUT/SHA256SUMS             checksums of the above
  $DEMO/ca.pem                     the throwaway CA that a receiving municipality would trust
Try:  $BIN verify --trust $DEMO/ca.pem ${statements[0]}
      xmlsec1 --verify --trusted-pem $DEMO/ca.pem ${statements[0]}
      $BIN scenario $DATA $DATA/scenario.ini -o $DEMO/keys.html
EOF
