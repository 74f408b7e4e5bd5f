#!/usr/bin/env bash
# summary_table.sh: prints OUT_DIR/summary.csv (SPEC columns, any order) as a readable
# table: municipality, key, pupils, pupil-years, gross, net, status; then totals.
# Usage: summary_table.sh SUMMARY.csv
set -euo pipefail
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: summary_table.sh SUMMARY.csv" >&2; exit 2; }

LC_ALL=C awk '
# Split one CSV record (RFC 4180, no embedded newlines in summary.csv) into f[1..n].
function csv_split(line, f,    n, i, c, field, inq) {
	n = 0; field = ""; inq = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (inq) {
			if (c == "\"") {
				if (substr(line, i + 1, 1) == "\"") { field = field "\""; i++ }
				else inq = 0
			} else field = field c
		} else if (c == "\"") inq = 1
		else if (c == ",") { f[++n] = field; field = "" }
		else field = field c
	}
	f[++n] = field
	return n
}
# Cents from "1234.56" / "-0.50" without floating point.
function cents(s,    neg, p, whole, frac) {
	neg = (substr(s, 1, 1) == "-"); if (neg) s = substr(s, 2)
	p = index(s, "."); whole = p ? substr(s, 1, p - 1) : s; frac = p ? substr(s, p + 1) : "00"
	while (length(frac) < 2) frac = frac "0"
	return (neg ? -1 : 1) * (whole * 100 + substr(frac, 1, 2))
}
function money(c,    neg, s, out) {
	neg = c < 0; if (neg) c = -c
	s = sprintf("%d", int(c / 100)); out = ""
	while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
	return (neg ? "-" : "") s out "." sprintf("%02d", c % 100)
}
{ sub(/\r$/, "") }
NR == 1 {
	sub(/^\xef\xbb\xbf/, "")
	n = csv_split($0, h)
	for (i = 1; i <= n; i++) col[h[i]] = i
	split("municipality_code municipality_name in_region key pupils pupil_years gross net status", need, " ")
	for (i in need) if (!(need[i] in col)) { print "summary_table: no column " need[i] > "/dev/stderr"; bad = 1; exit 2 }
	printf "%-4s  %-26s %-9s %6s %11s %14s %14s  %s\n", "code", "municipality", "key", "pupils", "pupil-years", "gross", "net", "status"
	printf "%-4s  %-26s %-9s %6s %11s %14s %14s  %s\n", "----", "--------------------------", "---------", "------", "-----------", "--------------", "--------------", "---------------"
	next
}
$0 != "" {
	csv_split($0, f)
	name = f[col["municipality_name"]]; if (length(name) > 26) name = substr(name, 1, 25) "~"
	st = f[col["status"]]; g = cents(f[col["gross"]]); nt = cents(f[col["net"]])
	printf "%-4s  %-26s %-9s %6d %11s %14s %14s  %s\n", f[col["municipality_code"]], name, f[col["key"]], f[col["pupils"]], f[col["pupil_years"]], money(g), money(nt), st
	rows++; count[st]++; net += nt
	if (f[col["in_region"]] == "yes") { inpup += f[col["pupils"]]; ingross += g }
	else { outpup += f[col["pupils"]]; if (st == "no_agreement") noagr += g }
}
END {
	if (bad) exit 2
	printf "\n%d municipalities: ", rows
	sep = ""
	split("in_region invoiced capped below_threshold no_agreement", order, " ")
	for (i = 1; i <= 5; i++) if (count[order[i]]) { printf "%s%d %s", sep, count[order[i]], order[i]; sep = ", " }
	printf "\npupils (summed per municipality): living inside the region %d, outside %d\n", inpup, outpup
	printf "total net invoiced to outside municipalities: EUR %s\n", money(net)
	if (noagr) printf "exposure of municipalities without agreement (default key): EUR %s\n", money(noagr)
}' "$1"
