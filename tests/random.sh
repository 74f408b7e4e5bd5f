#!/usr/bin/env bash
# random.sh: settle many small random datasets (tests/reference/randomdata.py: every
# method and modifier, days and headcount, ties, co-financing, ';' files) and require
# summary.csv and every statement line to equal the independent exact computation of
# tests/reference/settle.py. JOS_RANDOM_SEEDS sets how many (default 25).
# Env: JOS_BIN, JOS_RUNNER.
set -u
cd "$(dirname "$0")/.."
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
N=${JOS_RANDOM_SEEDS:-25}
tmp=$(mktemp -d /tmp/jos-random-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
P=$tmp/pki
pass=0 fails=0 statements=0
for seed in $(seq 1 "$N"); do
	d=$tmp/d$seed
	python3 tests/reference/randomdata.py "$seed" "$d"
	if ! $RUN "$JOS_BIN" settle "$d" -o "$d.out" --key "$P/signer.key" --cert "$P/signer.pem" >"$tmp/log" 2>&1; then
		echo "FAILED  seed $seed: settle failed: $(grep -v warning "$tmp/log" | head -3)"
		fails=$((fails + 1))
		continue
	fi
	python3 tests/reference/settle.py "$d" > "$tmp/ref.csv"
	python3 tests/reference/settle.py "$d" --lines > "$tmp/ref-lines.csv"
	shopt -s nullglob
	st=("$d.out"/statements/*.xml)
	shopt -u nullglob
	statements=$((statements + ${#st[@]}))
	python3 tests/reference/xml_lines.py "${st[@]}" > "$tmp/lines.csv"
	if cmp -s "$tmp/ref.csv" "$d.out/summary.csv" && cmp -s "$tmp/ref-lines.csv" "$tmp/lines.csv"; then
		pass=$((pass + 1))
	else
		echo "FAILED  seed $seed differs from the reference:"
		diff "$tmp/ref.csv" "$d.out/summary.csv" | head -8
		diff "$tmp/ref-lines.csv" "$tmp/lines.csv" | head -8
		fails=$((fails + 1))
	fi
done
echo "random.sh: $N random datasets, $statements statements compared"
echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
