#!/usr/bin/env bash
# privacy.sh: no pupil_id leaves the program (issue 8 item 5). On both bundled examples
# (scenarios/holland-rijnland, scenarios/alkmaar) and a generated dataset (scenarios/gen,
# $JOS_PRIVACY_N enrolments, 20000 by default) every output is searched for every
# pupil_id of the inputs:
#  - settle: every file of OUT_DIR (statements/*.xml, summary.csv, SHA256SUMS) and what it
#    prints;
#  - check: stdout and stderr (on valid data, and on invalid data: its messages);
#  - scenario: the report in all four formats (.csv .md .html .xlsx; the xlsx unzipped);
#  - verify (with --data) of the statements: stdout and stderr.
# Matching is by exact token: outputs are split at every character other than
# [A-Za-z0-9_-], less leading and trailing dashes ("<!--id-->"), and each token is
# compared whole with the ids (grep -F -x), so an id
# that happens to be part of a longer number or name is no hit, and an id standing alone
# anywhere (an XML attribute, a CSV field, a spreadsheet cell) is. The test can fail: an
# id planted in a copy of the outputs must be found (self-check).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
N=${JOS_PRIVACY_N:-20000}
[ -n "$RUN" ] && N=${JOS_PRIVACY_N:-2000} # under valgrind
tmp=$(mktemp -d /tmp/jos-privacy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fails=0
ok() { echo "ok      $*"; pass=$((pass + 1)); }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
jos() { $RUN "$JOS_BIN" "$@"; }

bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
KEYS=(--key "$tmp/pki/signer.key" --cert "$tmp/pki/signer.pem")

# ids DATA_DIR > FILE: the pupil_id column of enrolments.csv (either separator, BOM,
# quotes, CRLF)
ids() {
	python3 - "$1/enrolments.csv" <<'PY'
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    head = f.readline()
    sep = ";" if head.count(";") > head.count(",") else ","
    f.seek(0)
    rows = csv.reader(f, delimiter=sep)
    cols = [c.strip().lower() for c in next(rows)]
    k = cols.index("pupil_id")
    seen = set()
    for r in rows:
        if len(r) > k and r[k].strip() and r[k].strip() not in seen:
            seen.add(r[k].strip())
            print(r[k].strip())
PY
}

# tokens FILE...: every token of the files, one per line (xlsx: the unzipped parts)
tokens() {
	local f
	for f in "$@"; do
		case $f in
		*.xlsx) unzip -p "$f" ;;
		*) cat "$f" ;;
		esac
	done | tr -cs 'A-Za-z0-9_-' '\n' | sed -E 's/^-+//; s/-+$//'
}

# search NAME IDS FILE...: fails on any id found as a token of the files
search() {
	local name=$1 idf=$2 hits
	shift 2
	hits=$(tokens "$@" | grep -F -x -f "$idf" | sort -u)
	if [ -n "$hits" ]; then
		bad "$name: $(echo "$hits" | wc -l) pupil ids in the output, e.g. $(echo "$hits" | head -3 | paste -sd' ')"
	else
		ok "$name: none of $(wc -l < "$idf") pupil ids in $# files"
	fi
}

make --no-print-directory -s BUILD="$BUILD" "$BUILD/gen" >/dev/null || { echo "FAILED  cannot build $BUILD/gen"; exit 1; }
real=tests/data/gen/gemeenten_subset.csv region=(--region 8)
for c in "${JOS_GEMEENTEN:-}" ../shared/data/real/gemeenten_nl_342.csv ../../shared/data/real/gemeenten_nl_342.csv; do
	if [ -n "$c" ] && [ -r "$c" ]; then real=$c region=(); break; fi
done
"$BUILD/gen" "$tmp/generated" "$N" 11 --real "$real" "${region[@]}" 2>/dev/null || { echo "FAILED  gen"; exit 1; }
# a scenario file for the generated data: its two keys, a pooled variant and a sweep
cat > "$tmp/generated/scenario.ini" <<'INI'
[scenario]
name = generated
[variant A]
key = standard
[variant B]
key = tarief
[variant C]
method = pooled
min_pupils = 5
[sweep]
variant = A
parameter = min_pupils
values = 0, 3, 10
INI

scenario_works=yes
jos scenario --help 2>&1 | grep -q "REPORT" || scenario_works=no
[ $scenario_works = no ] && echo "note    scenario is not built in this binary: its reports are not searched"

for d in scenarios/holland-rijnland scenarios/alkmaar "$tmp/generated"; do
	name=$(basename "$d")
	out=$tmp/out-$name
	mkdir -p "$out"
	ids "$d" > "$tmp/ids-$name"
	[ -s "$tmp/ids-$name" ] || { bad "$name: no pupil ids read"; continue; }
	files=()
	if jos settle "$d" -o "$out/settled" "${KEYS[@]}" >"$out/settle.out" 2>"$out/settle.err"; then
		mapfile -t -O 0 files < <(find "$out/settled" -type f)
		search "$name: settle" "$tmp/ids-$name" "${files[@]}" "$out/settle.out" "$out/settle.err"
		jos verify --trust "$tmp/pki/ca.pem" --data "$d" "$out"/settled/statements/*.xml >"$out/verify.out" 2>&1
		search "$name: verify --data" "$tmp/ids-$name" "$out/verify.out"
	else
		bad "$name: settle failed: $(head -3 "$out/settle.err")"
	fi
	jos check "$d" >"$out/check.out" 2>&1
	rc=$?
	[ $rc = 0 ] || bad "$name: check exit $rc"
	search "$name: check" "$tmp/ids-$name" "$out/check.out"
	if [ $scenario_works = yes ]; then
		reports=()
		for ext in csv md html xlsx; do
			if jos scenario "$d" "$d/scenario.ini" -o "$out/report.$ext" >"$out/scenario-$ext.out" 2>&1; then
				reports+=("$out/report.$ext" "$out/scenario-$ext.out")
			else
				bad "$name: scenario -o report.$ext: $(head -3 "$out/scenario-$ext.out")"
			fi
		done
		[ ${#reports[@]} -gt 0 ] && search "$name: scenario reports (csv, md, html, xlsx)" "$tmp/ids-$name" "${reports[@]}"
	fi
done

# check on invalid data: the messages name lines, not pupils (an overlapping copy of an
# enrolment, a bad date on another one)
cp -r scenarios/holland-rijnland "$tmp/invalid"
sed -n 2p scenarios/holland-rijnland/enrolments.csv >> "$tmp/invalid/enrolments.csv"
sed -i '3s/,[0-9-]*,\([0-9-]*\),/,2025-13-45,\1,/' "$tmp/invalid/enrolments.csv"
jos check "$tmp/invalid" >"$tmp/check-invalid.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "overlaps" "$tmp/check-invalid.out" || bad "invalid data: check exit $rc: $(tail -3 "$tmp/check-invalid.out")"
search "invalid data: check messages" "$tmp/ids-holland-rijnland" "$tmp/check-invalid.out"

# self-check: the search finds an id planted as a CSV field, in XML text, in an xlsx cell
id=$(sed -n 7p "$tmp/ids-holland-rijnland")
s=$tmp/out-holland-rijnland
sed "2s/\$/,$id/" "$s/settled/summary.csv" > "$tmp/planted.csv"
sed "s|</ds:SignatureValue>|</ds:SignatureValue><!--$id-->|" "$(ls "$s"/settled/statements/*.xml | head -1)" > "$tmp/planted.xml"
found=0
for f in "$tmp/planted.csv" "$tmp/planted.xml"; do
	tokens "$f" | grep -F -x -q -f "$tmp/ids-holland-rijnland" && found=$((found + 1))
done
if [ -f "$s/report.xlsx" ]; then
	python3 - "$s/report.xlsx" "$tmp/planted.xlsx" "$id" <<'PY'
import sys, zipfile
src, dst, pid = sys.argv[1:]
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
    names = zi.namelist()
    part = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else "xl/worksheets/sheet1.xml"
    for n in names:
        data = zi.read(n)
        if n == part:
            data = data.replace(b"</t>", b"</t><t>" + pid.encode() + b"</t>", 1)
        zo.writestr(n, data)
PY
	tokens "$tmp/planted.xlsx" | grep -F -x -q -f "$tmp/ids-holland-rijnland" && found=$((found + 1))
	want=3
else
	want=2
fi
[ "$found" = "$want" ] && ok "self-check: a planted id is found ($found of $want planted)" \
	|| bad "self-check: found $found of $want planted ids"
# and an id inside a longer token is no hit
printf 'x%sy 1%s\n' "$id" "$id" > "$tmp/inner.txt"
tokens "$tmp/inner.txt" | grep -F -x -q -f "$tmp/ids-holland-rijnland" \
	&& bad "self-check: an id inside a longer token counted as a hit" \
	|| ok "self-check: an id inside a longer token is no hit"

echo "privacy.sh: $pass passed, $fails failed"
[ "$fails" = 0 ]
