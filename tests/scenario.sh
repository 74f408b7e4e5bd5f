#!/usr/bin/env bash
# tests/scenario.sh: `jos-settle scenario` end to end on tests/data/scenario-small (the
# example worked by hand in tests/scenarios/runner.c): all four report formats to the
# cent (.csv and .md byte for byte against expected files; .html parsed as well-formed
# and free of external references, its tables checked; .xlsx read back by Debian's
# openpyxl with numbers stored as numbers in a euro format), usage and data errors,
# and whole-or-nothing output.
# Env: JOS_BIN (absolute path of the binary), JOS_RUNNER (e.g. "valgrind ..."), BUILD.
set -u
BIN=${JOS_BIN:?JOS_BIN must name the jos-settle binary}
RUNNER=${JOS_RUNNER:-}
HERE=$(cd "$(dirname "$0")" && pwd)
CASE=$HERE/data/scenario-small
PY=/usr/bin/python3          # Debian's python3 with python3-openpyxl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # check NAME command...
	local name=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/    /' "$TMP/check.out"; fi
}
jos() { $RUNNER "$BIN" "$@"; }

# ---- the four formats ------------------------------------------------------------
for ext in csv md html xlsx; do
	if jos scenario "$CASE/data" "$CASE/scenario.ini" -o "$TMP/report.$ext" >"$TMP/out.$ext" 2>"$TMP/err.$ext"; then
		ok "scenario -o report.$ext exits 0"
	else
		bad "scenario -o report.$ext exits 0"
		sed 's/^/    /' "$TMP/err.$ext"
	fi
done
check "csv: byte for byte as worked by hand" cmp "$CASE/expected.csv" "$TMP/report.csv"
check "md: byte for byte as worked by hand" cmp "$CASE/expected.md" "$TMP/report.md"
check "html: well-formed (XML parser)" xmllint --noout "$TMP/report.html"

check "html: self-contained, tables to the cent" "$PY" - "$TMP/report.html" <<'PYEOF'
import sys, re
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
low = text.lower()
for bad in ("http:", "https:", "//", "src=", "url(", "<script", "<link", "@import", "href="):
    assert bad not in low, "external reference or script: " + bad
VOID = {"meta", "br", "hr", "img", "input", "link"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tables, self.cell, self.svgs = [], [], None, 0
    def handle_starttag(self, tag, attrs):
        if tag == "svg": self.svgs += 1
        if tag == "table": self.tables.append([])
        if tag == "tr": self.tables[-1].append([])
        if tag in ("td", "th"): self.cell = ""
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if tag in VOID: return
        assert self.stack and self.stack[-1] == tag, "unbalanced </%s> after %s" % (tag, self.stack[-3:])
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell.strip()); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P(); p.feed(text); p.close()
assert not p.stack, "unclosed: %s" % p.stack
assert p.svgs == 3, "expected 3 inline SVG charts, got %d" % p.svgs
variants, net, detail, sweep = p.tables
assert variants[1] == ["A (Per school, actual cost)", "prorata from standard", "5833.33", "0.00", "70.00 %", "1", "5833.33", '0200 Alpha & Zee, "Noord"'], variants[1]
assert variants[2][2:7] == ["6428.58", "595.25", "77.14 %", "2", "4821.43"], variants[2]
assert net[1] == ["0200", 'Alpha & Zee, "Noord"', "3", "3.0000", "5833.33", "4821.43", "-1011.90"], net[1]
assert net[2] == ["0300", "Beta <Oost> | West", "1", "1.0000", "0.00", "1607.15", "1607.15"], net[2]
assert net[3][4:] == ["5833.33", "6428.58", "595.25"], net[3]
assert detail[2] == ["A", "0300", "Beta <Oost> | West", "2500.00", "0.00", "below_threshold", "0.00"], detail[2]
assert detail[3][3:] == ["6428.57", "4821.43", "invoiced", "-1011.90"], detail[3]
assert [r[1] for r in sweep[1:]] == ["8333.33", "8333.33", "5833.33", "0.00"], sweep
assert [r[3] for r in sweep[1:]] == ["100.00 %", "100.00 %", "70.00 %", "0.00 %"], sweep
assert "Beta &lt;Oost&gt;" in text and "Alpha &amp; Zee" in text
PYEOF

check "xlsx: read back by openpyxl, numbers as numbers in euros" "$PY" - "$TMP/report.xlsx" <<'PYEOF'
import sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
assert wb.sheetnames == ["About", "Variants", "Net by municipality", "Detail", "Sweep"], wb.sheetnames
def cents(c):
    assert c.data_type == "n" and isinstance(c.value, (int, float)), (c.coordinate, c.value, c.data_type)
    assert "\u20ac" in c.number_format, (c.coordinate, c.number_format)
    return round(c.value * 100)
def rows(name):
    return [list(r) for r in wb[name].iter_rows(min_row=2)]
v = rows("Variants")
assert [cents(v[0][4]), cents(v[0][5]), cents(v[0][8])] == [583333, 0, 583333]
assert [cents(v[1][4]), cents(v[1][5]), cents(v[1][8])] == [642858, 59525, 482143]
assert round(v[0][6].value * 10000) == 7000 and v[0][6].number_format == "0.00%"
assert round(v[1][6].value * 10000) == 7714
assert v[1][7].value == 2 and v[1][9].value == "0200"
n = rows("Net by municipality")
assert [c.value for c in n[0][:2]] == ["0200", 'Alpha & Zee, "Noord"']
assert [cents(c) for c in n[0][4:7]] == [583333, 482143, -101190]
assert [cents(c) for c in n[1][4:7]] == [0, 160715, 160715]
assert n[2][0].value == "TOTAL" and [cents(c) for c in n[2][4:7]] == [583333, 642858, 59525]
assert n[0][2].value == 3 and n[0][3].value == 3
d = rows("Detail")
assert [(r[0].value, r[1].value, cents(r[5]), cents(r[6]), r[7].value, cents(r[8])) for r in d] == [
    ("A", "0200", 583333, 583333, "invoiced", 0),
    ("A", "0300", 250000, 0, "below_threshold", 0),
    ("B", "0200", 642857, 482143, "invoiced", -101190),
    ("B", "0300", 214286, 160715, "invoiced", 160715)], d
s = rows("Sweep")
assert [(r[2].value, cents(r[3]), round(r[5].value * 10000), r[6].value) for r in s] == [
    ("0", 833333, 10000, 2), ("1", 833333, 10000, 2), ("2", 583333, 7000, 1), ("4", 0, 0, 0)]
assert cents(wb["About"]["B8"]) == 833333
PYEOF

check "csv, md, html, xlsx agree on every net amount" "$PY" - "$TMP" <<'PYEOF'
import sys, csv, openpyxl
d = sys.argv[1]
rows = [r for r in csv.DictReader(open(d + "/report.csv", encoding="utf-8")) if r["municipality_code"] not in ("TOTAL", "SWEEP")]
xl = [list(r) for r in openpyxl.load_workbook(d + "/report.xlsx")["Detail"].iter_rows(min_row=2)]
md = open(d + "/report.md", encoding="utf-8").read()
html = open(d + "/report.html", encoding="utf-8").read()
assert len(rows) == len(xl) == 4
for r, x in zip(rows, xl):
    assert r["variant"] == x[0].value and r["municipality_code"] == x[1].value
    assert int(r["net"].replace(".", "")) == round(x[6].value * 100)
    assert int(r["gross"].replace(".", "")) == round(x[5].value * 100)
    assert ("| %s |" % r["net"]) in md and (">%s<" % r["net"]) in html
PYEOF

# ---- a 100-value sweep, and the bundled example regions ------------------------------
{
	printf '[variant A]\nkey = standard\n[sweep]\nvariant = A\nparameter = discount\nvalues = '
	for i in $(seq 0 99); do printf '%s0.%02d' "$([ "$i" -gt 0 ] && echo ', ')" "$i"; done
	printf '\n'
} >"$TMP/sweep100.ini"
jos scenario "$CASE/data" "$TMP/sweep100.ini" -o "$TMP/sweep100.csv" >/dev/null 2>"$TMP/err"
check "100-value sweep: exit 0" test $? -eq 0
check "100-value sweep: 100 SWEEP rows" test "$(grep -c ',SWEEP,' "$TMP/sweep100.csv")" -eq 100
# discount 0.37 on 8333.33 at 0200 (5833.33) and 0300 (2500.00): 3675.00 + 1575.00
check "100-value sweep: discount 0.37 to the cent" grep -q ',SWEEP,,4,4.0000,8333.33,5250.00,.*,discount,0.37$' "$TMP/sweep100.csv"
for ini in "$HERE"/../scenarios/*/scenario.ini; do
	[ -e "$ini" ] || continue
	region=$(dirname "$ini")
	name=$(basename "$region")
	for ext in html xlsx; do
		jos scenario "$region" "$ini" -o "$TMP/$name.$ext" >/dev/null 2>"$TMP/err"
		check "example $name: scenario -o .$ext" test $? -eq 0
	done
	check "example $name: html well-formed" xmllint --noout "$TMP/$name.html"
done

# ---- against the independent reference computation -----------------------------------
# For each example region and each settlement key K: give every outside municipality an
# agreement with K; then tests/reference/settle.py (exact fractions, no shared code)
# must print, for every outside row, the gross, net, status, pupils and pupil-years that
# the scenario's variant `key = K` reports.
check "scenario variants equal the independent reference settlement" "$PY" - "$HERE/.." "$TMP" "$BIN" "$RUNNER" <<'PYEOF'
import csv, io, os, re, shutil, subprocess, sys
root, tmp, binary, runner = sys.argv[1:5]
compared = 0
for region in ("holland-rijnland", "alkmaar"):
    src = os.path.join(root, "scenarios", region)
    if not os.path.exists(os.path.join(src, "settlement.ini")):
        continue
    keys = re.findall(r"^\s*\[key\s+([^\]\s]+)\s*\]", open(os.path.join(src, "settlement.ini")).read(), re.M)
    munis = list(csv.DictReader(open(os.path.join(src, "municipalities.csv"), encoding="utf-8-sig")))
    outside = [m["code"] for m in munis if m["in_region"].strip().lower() in ("no", "nee", "false", "0")]
    ini = os.path.join(tmp, region + "-ref.ini")
    with open(ini, "w") as f:
        for k in keys:
            f.write("[variant %s]\nkey = %s\n" % (k, k))
    out = os.path.join(tmp, region + "-ref.csv")
    subprocess.run(runner.split() + [binary, "scenario", src, ini, "-o", out], check=True,
                   stdout=subprocess.DEVNULL)
    mine = {(r["variant"], r["municipality_code"]): r for r in csv.DictReader(open(out, encoding="utf-8"))
            if r["municipality_code"] not in ("TOTAL", "SWEEP")}
    for k in keys:
        d = os.path.join(tmp, "%s-%s" % (region, k))
        shutil.copytree(src, d)
        with open(os.path.join(d, "agreements.csv"), "w") as f:
            f.write("municipality_code,key,reference\n")
            for c in outside:
                f.write("%s,%s,\n" % (c, k))
        ref = subprocess.run([sys.executable, os.path.join(root, "tests", "reference", "settle.py"), d],
                             check=True, capture_output=True, text=True).stdout
        rows = [r for r in csv.DictReader(io.StringIO(ref)) if r["in_region"] == "no"]
        assert rows, (region, k)
        assert len(rows) == sum(1 for (v, _) in mine if v == k), (region, k, len(rows))
        for r in rows:
            m = mine[(k, r["municipality_code"].zfill(4))]
            for col in ("pupils", "pupil_years", "gross", "net", "status"):
                assert m[col] == r[col], (region, k, r["municipality_code"], col, m[col], r[col])
            compared += 1
assert compared > 0
print("compared", compared, "rows")
PYEOF

# ---- against `settle` itself ---------------------------------------------------------
# One variant per settlement key: every summary.csv row of an outside municipality equals
# the variant of its key (statement rows: gross, net, status; no_agreement rows: the
# exposure under the default key), on the test case and both example regions.
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k.pem" -out "$TMP/c.pem" \
	-subj /CN=jos-scenario-test -days 3650 >/dev/null 2>&1; then
	for dir in "$CASE/data" "$HERE"/../scenarios/*/; do
		[ -e "$dir/settlement.ini" ] || continue
		name=$(basename "$dir")
		sed -n 's/^[[:space:]]*\[key[[:space:]]\{1,\}\([^]]*[^][:space:]]\)[[:space:]]*\].*/[variant \1]\nkey = \1/p' \
			"$dir/settlement.ini" | sed 's/\\n/\n/' >"$TMP/keys-$name.ini"
		rm -rf "$TMP/out-$name"
		if ! jos settle "$dir" -o "$TMP/out-$name" --key "$TMP/k.pem" --cert "$TMP/c.pem" >/dev/null 2>"$TMP/err"; then
			bad "settle $name"
			sed 's/^/    /' "$TMP/err"
			continue
		fi
		jos scenario "$dir" "$TMP/keys-$name.ini" -o "$TMP/keys-$name.csv" >/dev/null 2>"$TMP/err"
		check "settle $name: scenario with one variant per key" test $? -eq 0
		check "settle $name: every outside row equals its key's variant" "$PY" - \
			"$TMP/out-$name/summary.csv" "$TMP/keys-$name.csv" "$dir/settlement.ini" <<'PYEOF'
import csv, re, sys
summary, scen, ini = sys.argv[1:4]
default = re.search(r"^\s*default_key\s*=\s*(\S+)", open(ini).read(), re.M).group(1)
mine = {(r["variant"], r["municipality_code"]): r for r in csv.DictReader(open(scen, encoding="utf-8"))}
n = 0
for r in csv.DictReader(open(summary, encoding="utf-8")):
    if r["in_region"] != "no":
        continue
    m = mine[(r["key"], r["municipality_code"])]
    cols = ("pupils", "pupil_years", "gross")
    if r["status"] != "no_agreement":
        cols += ("net", "status")
    else:
        assert r["key"] == default and r["net"] == "0.00", r
    for c in cols:
        assert m[c] == r[c], (r["municipality_code"], c, m[c], r[c])
    n += 1
assert n > 0
PYEOF
	done
else
	bad "openssl: a throw-away signing certificate"
fi

# ---- usage and data errors -----------------------------------------------------------
jos scenario "$CASE/data" "$CASE/scenario.ini" -o "$TMP/report.txt" >/dev/null 2>"$TMP/err"
check "unknown extension: exit 2" test $? -eq 2
check "unknown extension: nothing written" test ! -e "$TMP/report.txt"
check "unknown extension: says which" grep -q "csv, .md, .html or .xlsx" "$TMP/err"
jos scenario "$CASE/data" "$CASE/scenario.ini" >/dev/null 2>&1
check "missing -o: exit 2" test $? -eq 2
jos scenario "$CASE/data" -o "$TMP/r.csv" >/dev/null 2>&1
check "missing SCENARIO.ini: exit 2" test $? -eq 2

cat >"$TMP/bad.ini" <<'INI'
[scenario]
baseline = Z
[variant A]
key = standard
discont = 0.1
[variant B]
label = no method
INI
echo "previous report" >"$TMP/keep.csv"
jos scenario "$CASE/data" "$TMP/bad.ini" -o "$TMP/keep.csv" >/dev/null 2>"$TMP/err"
check "invalid scenario: exit 1" test $? -eq 1
check "invalid scenario: every problem at its line" grep -qx "$TMP/bad.ini:2: baseline 'Z' is not a variant of this scenario" "$TMP/err"
check "invalid scenario: unknown option at its line" grep -q "^$TMP/bad.ini:5: unknown option 'discont'" "$TMP/err"
check "invalid scenario: missing method at its line" grep -q "^$TMP/bad.ini:6: \[variant B\]: \`method\` is required" "$TMP/err"
check "invalid scenario: the previous report is untouched" grep -qx "previous report" "$TMP/keep.csv"
check "no temporary file left behind" test -z "$(ls -A "$TMP" | grep jos-settle-tmp)"

cp -r "$CASE/data" "$TMP/baddata"
printf 'P9,S9,0200,2025-08-01,,\n' >>"$TMP/baddata/enrolments.csv"
jos scenario "$TMP/baddata" "$CASE/scenario.ini" -o "$TMP/r2.csv" >/dev/null 2>"$TMP/err"
check "invalid data: exit 1" test $? -eq 1
check "invalid data: FILE:LINE" grep -q "enrolments.csv:9: " "$TMP/err"
check "invalid data: no report" test ! -e "$TMP/r2.csv"

echo "$pass passed, $fail failed"
test "$fail" -eq 0
