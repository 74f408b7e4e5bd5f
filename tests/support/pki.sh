#!/usr/bin/env bash
# pki.sh DIR: a throw-away test PKI made with the openssl command (no private key is
# ever committed). Certificates get explicit validity windows (openssl ca -startdate /
# -enddate), because verify checks them at the statement's IssueDate, not the clock.
#   ca.pem/ca.key          test CA (EC P-256), valid 2020-01-01 .. 2040-01-01
#   signer.pem/.key        RSA 2048 issued by the CA, 2020 .. 2040
#   signer-enc.key         the same key, AES-encrypted with passphrase "s3cret"
#   signer-ec.pem/.key     EC P-256 issued by the CA, 2020 .. 2040
#   rsa1024.pem/.key       RSA 1024 issued by the CA (too weak)
#   expired.pem/.key       EC, issued by the CA, valid 2020-01-01 .. 2021-01-01
#   notyet.pem/.key        EC, issued by the CA, valid 2030-01-01 .. 2035-01-01
#   attacker.pem/.key      RSA 2048, self-signed (not trusted)
#   other-ca.pem           a second CA (EC), so trust.pem holds two certificates
#   trust.pem              other-ca.pem followed by ca.pem (a bundle: trap 9)
# Usage from other scripts: `bash tests/support/pki.sh "$dir"`. Idempotent per DIR.
set -euo pipefail
dir=${1:?usage: pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f done ] && exit 0
mkdir -p db/new
: > db/index.txt
echo 1000 > db/serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $PWD/db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
CNF
ossl() { openssl "$@" 2>/dev/null; }
eckey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
rsakey() { ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$1"; }
# issue NAME CN START END [CA_PREFIX]
issue() {
	local ca=${5:-ca}
	ossl req -new -key "$1.key" -subj "/CN=$2/O=jos-settle tests" -out "$1.csr"
	ossl ca -batch -config ca.cnf -cert "$ca.pem" -keyfile "$ca.key" -in "$1.csr" -out "$1.pem" \
		-startdate "$3" -enddate "$4" -extensions v3_leaf -notext
}
selfca() {
	ossl req -new -key "$1.key" -subj "/CN=$2/O=jos-settle tests" -out "$1.csr"
	ossl ca -batch -config ca.cnf -selfsign -keyfile "$1.key" -in "$1.csr" -out "$1.pem" \
		-startdate 20200101000000Z -enddate 20400101000000Z -extensions v3_ca -notext
}
eckey ca.key; selfca ca "jos-settle test CA"
eckey other-ca.key; selfca other-ca "jos-settle other CA"
rsakey signer.key 2048; issue signer "Holland Rijnland test signer" 20200101000000Z 20400101000000Z
ossl pkey -in signer.key -aes256 -passout pass:s3cret -out signer-enc.key
eckey signer-ec.key; issue signer-ec "EC test signer" 20200101000000Z 20400101000000Z
rsakey rsa1024.key 1024; issue rsa1024 "weak signer" 20200101000000Z 20400101000000Z
eckey expired.key; issue expired "expired signer" 20200101000000Z 20210101000000Z
eckey notyet.key; issue notyet "future signer" 20300101000000Z 20350101000000Z
rsakey attacker.key 2048
ossl req -new -x509 -key attacker.key -subj "/CN=Holland Rijnland test signer/O=jos-settle tests" \
	-days 7300 -set_serial 4242 -out attacker.pem
cat other-ca.pem ca.pem > trust.pem
rm -f ./*.csr
chmod 600 ./*.key # settle refuses a key file that group or others may access
touch done
