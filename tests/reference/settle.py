#!/usr/bin/env python3
"""settle.py: an independent, deliberately simple second computation of a settlement.

Reads a *valid* DATA_DIR and prints what the SPEC says OUT_DIR/summary.csv must contain
(or, with --lines, every statement's lines as CSV). Written from the SPEC's text alone,
in exact rational arithmetic (fractions.Fraction), sharing no code with jos-settle, so
that tests can compare the two (tests/reference.sh). It does not validate: run
`jos-settle check` first. Slow but fine up to a few hundred thousand enrolments.

Usage: settle.py DATA_DIR [--lines]
"""
import csv
import datetime
import io
import sys
from fractions import Fraction

FILES = ["settlement.ini", "municipalities.csv", "schools.csv", "costs.csv",
         "enrolments.csv", "agreements.csv"]


def read_text(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8")


def read_csv(path):
    text = read_text(path)
    first = text.split("\n", 1)[0]
    # separator: the more frequent of , and ; outside quotes in the header line
    outside, q = [], False
    for ch in first:
        if ch == '"':
            q = not q
        elif not q:
            outside.append(ch)
    sep = ";" if outside.count(";") > outside.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    header = [h.strip(" \t\r").lower() for h in rows[0]]
    out = []
    for r in rows[1:]:
        r = [v.strip(" \t\r") for v in r]
        if not any(r):
            continue
        out.append(dict(zip(header, r)))
    return out, sep


def code(s):
    s = s.strip()
    if s[:2].lower() == "gm":
        s = s[2:]
    return s.zfill(4)


def cents(s, sep):
    s = s.strip()
    if s == "":
        return 0
    if sep == ";":
        s = s.replace(",", ".")
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    whole, _, frac = s.partition(".")
    v = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -v if neg else v


def date(s):
    s = s.strip()
    if not s:
        return None
    if len(s) == 10 and s[2] == "-":
        return datetime.date(int(s[6:]), int(s[3:5]), int(s[:2]))
    return datetime.date.fromisoformat(s)


def fraction(s):
    return Fraction(s.strip())


def read_ini(path):
    sections, cur = {}, None
    for raw in read_text(path).splitlines():
        line = raw.strip()
        for c in (";", "#"):          # inline comments only after white space
            for ws in (" " + c, "\t" + c):
                i = line.find(ws)
                if i >= 0:
                    line = line[:i].rstrip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            name = line[1:-1].strip()
            word, _, rest = name.partition(" ")
            cur = (word.lower(), rest.strip())
            sections[cur] = {}
            continue
        k, _, v = line.partition("=")
        sections[cur][k.strip().lower()] = v.strip()
    return sections


def half_up(x):
    """Round a non-negative Fraction to an integer, half up."""
    return (x.numerator * 2 + x.denominator) // (x.denominator * 2)


def largest_remainder(total, weights):
    """Split integer total over weights (list, index order = tie-break order)."""
    w = sum(weights)
    if total == 0 or w == 0:
        return [0] * len(weights)
    quotas = [Fraction(total) * x / w for x in weights]
    base = [q.numerator // q.denominator for q in quotas]
    left = total - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return base


class Key:
    def __init__(self, kid, opts):
        self.id = kid
        self.method = opts["method"].lower()
        self.min_pupils = int(opts.get("min_pupils", "0") or 0)
        self.discount = fraction(opts.get("discount", "0") or "0")
        self.phase_in = fraction(opts.get("phase_in", "1") or "1")
        cap = opts.get("cap", "")
        self.cap = cents(cap, ",") if cap else None
        self.mss = fraction(opts.get("min_school_share", "0") or "0")
        self.weights, self.tariffs = {}, {}
        for k, v in opts.items():
            if k.startswith("weight."):
                self.weights[k[7:].strip().lower()] = fraction(v)
            elif k.startswith("tariff."):
                self.tariffs[k[7:].strip().lower()] = cents(v, ",")

    def weight(self, cat):
        return self.weights.get(cat.strip().lower(), Fraction(1))


def main():
    args = sys.argv[1:]
    lines_mode = "--lines" in args
    args = [a for a in args if a != "--lines"]
    if len(args) != 1:
        sys.exit(__doc__)
    d = args[0]
    ini = read_ini(d + "/settlement.ini")
    st = ini[("settlement", "")]
    p_start, p_end = date(st["period_start"]), date(st["period_end"])
    D = (p_end - p_start).days + 1
    headcount = st["measure"].lower() == "headcount"
    count_date = date(st.get("count_date", "")) if headcount else None
    keys = {name: Key(name, o) for (w, name), o in ini.items() if w == "key"}
    default_key = st["default_key"]

    munis_rows, _ = read_csv(d + "/municipalities.csv")
    munis = {code(r["code"]): (r["name"], r["in_region"].strip().lower() in
                               ("yes", "ja", "true", "1")) for r in munis_rows}
    schools_rows, _ = read_csv(d + "/schools.csv")
    schools = {r["school_id"]: r for r in schools_rows}
    costs_rows, csep = read_csv(d + "/costs.csv")
    net = {r["school_id"]: cents(r["budget"], csep) - cents(r.get("cofinancing", ""), csep)
           for r in costs_rows}
    agreements = {}
    try:
        ag_rows, _ = read_csv(d + "/agreements.csv")
        agreements = {code(r["municipality_code"]): r["key"] for r in ag_rows}
    except FileNotFoundError:
        pass
    enr_rows, _ = read_csv(d + "/enrolments.csv")

    # per enrolment: days in the period, counted by the measure or not
    enrolments = []
    for r in enr_rows:
        s, e = date(r["start_date"]), date(r.get("end_date", ""))
        lo = max(s, p_start)
        hi = p_end if e is None or e > p_end else e
        de = max(0, (hi - lo).days + 1)
        if headcount:
            counted = s <= count_date and (e is None or count_date <= e)
        else:
            counted = de > 0
        enrolments.append((r["pupil_id"], r["school_id"], code(r["residence_code"]), de,
                           counted, r.get("category", "")))

    pupils, days = {}, {}
    for pid, sid, m, de, counted, cat in enrolments:
        days[m] = days.get(m, 0) + de
        if counted:
            pupils.setdefault(m, set()).add(pid)

    def shares(key):
        """g[(s, m)] in cents under key; cells with pupils counted by the measure."""
        M = {}
        for pid, sid, m, de, counted, cat in enrolments:
            if not counted:
                continue
            v = key.weight(cat) * (1 if headcount else de)
            M[(sid, m)] = M.get((sid, m), 0) + v
        by_school = {}
        for (sid, m), v in M.items():
            by_school.setdefault(sid, {})[m] = v
        g = {c: 0 for c in M}
        if key.method == "prorata":
            for sid, row in by_school.items():
                ms = sorted(row)
                if sum(row.values()) == 0:
                    continue
                for m, x in zip(ms, largest_remainder(net[sid], [row[m] for m in ms])):
                    g[(sid, m)] = x
        elif key.method == "pooled":
            live = sorted(sid for sid, row in by_school.items() if sum(row.values()) > 0)
            total = sum(net[sid] for sid in live)
            per_m = {}
            for sid in live:
                for m, v in by_school[sid].items():
                    per_m[m] = per_m.get(m, 0) + v
            ms = sorted(per_m)
            for m, tot in zip(ms, largest_remainder(total, [per_m[m] for m in ms])):
                ss = sorted(sid for sid in live if m in by_school[sid])
                for sid, x in zip(ss, largest_remainder(tot, [by_school[sid][m] for sid in ss])):
                    g[(sid, m)] = x
        elif key.method == "tariff":
            for (sid, m), v in M.items():
                t = key.tariffs[schools[sid]["type"].strip().lower()]
                g[(sid, m)] = half_up(t * v if headcount else t * v / D)
        if key.mss > 0:
            for sid, row in by_school.items():
                total = sum(row.values())
                out = sum(v for m, v in row.items() if not munis[m][1])
                if out < key.mss * total:
                    for m in row:
                        if not munis[m][1]:
                            g[(sid, m)] = 0
        return g

    g_by_key = {k: shares(keys[k]) for k in keys}

    gross_by_key = {}
    cells_by_key = {}
    for k, g in g_by_key.items():
        gm, cm = {}, {}
        for (sid, m), v in g.items():
            gm[m] = gm.get(m, 0) + v
            cm.setdefault(m, []).append(sid)
        gross_by_key[k], cells_by_key[k] = gm, cm

    def gross(k, m):
        return gross_by_key[k].get(m, 0)

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if lines_mode:
        w.writerow(["municipality_code", "school_id", "gross_share", "amount"])
    else:
        w.writerow(["municipality_code", "municipality_name", "in_region", "key", "pupils",
                    "pupil_years", "gross", "net", "status"])
    for m in sorted(pupils):
        name, inside = munis[m]
        if inside or m not in agreements:
            k = default_key
            G = gross(k, m)
            n, status = 0, "in_region" if inside else "no_agreement"
        else:
            k = agreements[m]
            key = keys[k]
            G = gross(k, m)
            if len(pupils[m]) < key.min_pupils:
                n, status = 0, "below_threshold"
            else:
                n = half_up(G * (1 - key.discount) * key.phase_in)
                status = "invoiced"
                if key.cap is not None and n > key.cap:
                    n, status = key.cap, "capped"
        if lines_mode:
            if inside or m not in agreements:
                continue
            cells = sorted(cells_by_key[k].get(m, []))
            gs = [g_by_key[k][(sid, m)] for sid in cells]
            for sid, gsh, amt in zip(cells, gs, largest_remainder(n, gs)):
                w.writerow([m, sid, "%d.%02d" % divmod(gsh, 100), "%d.%02d" % divmod(amt, 100)])
            continue
        py = Fraction(days.get(m, 0), D)
        py4 = half_up(py * 10000)
        w.writerow([m, name, "yes" if inside else "no", k, len(pupils[m]),
                    "%d.%04d" % divmod(py4, 10000), "%d.%02d" % divmod(G, 100),
                    "%d.%02d" % divmod(n, 100), status])
    sys.stdout.write(out.getvalue())


if __name__ == "__main__":
    main()
