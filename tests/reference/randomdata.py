#!/usr/bin/env python3
"""randomdata.py SEED OUT_DIR: a small random but valid DATA_DIR that exercises every
rule of the SPEC's arithmetic: days and headcount, all three methods, min_pupils,
discount, phase_in, cap, min_school_share, weights (also 0), co-financing, enrolments
crossing the period's edges or outside it, open ends, movers, ties (equal budgets and
measures), school ids whose byte order differs from their numeric order, codes written
as GM0546 / 0546 / 546, and ';' files with decimal commas. tests/random.sh settles it
and compares with the independent computation of tests/reference/settle.py.
"""
import datetime
import os
import random
import sys


def main():
    seed, out = int(sys.argv[1]), sys.argv[2]
    r = random.Random(seed)
    os.makedirs(out, exist_ok=True)

    year = r.randint(2021, 2027)
    p_start = datetime.date(year, 8, 1)
    p_end = datetime.date(year + 1, 7, 31) if r.random() < 0.8 else p_start + datetime.timedelta(days=r.randint(0, 200))
    D = (p_end - p_start).days + 1
    headcount = r.random() < 0.3
    count_date = p_start + datetime.timedelta(days=r.randint(0, D - 1))

    def fmt_date(d):
        return d.strftime("%d-%m-%Y") if r.random() < 0.2 else d.isoformat()

    codes = r.sample(range(1, 10000), r.randint(4, 14))
    inside = set(r.sample(codes, r.randint(1, max(1, len(codes) // 3))))

    def code_text(c):
        return r.choice(["GM%04d" % c, "%04d" % c, "%d" % c, "gm%04d" % c])

    def money(cents, sep):
        s = "%d.%02d" % divmod(cents, 100)
        if s.endswith("00") and r.random() < 0.3:
            s = s[:-3]
        return s.replace(".", ",") if sep == ";" and r.random() < 0.7 else s

    def write(name, header, rows, sep=","):
        with open(os.path.join(out, name), "w", newline="") as f:
            f.write(sep.join(header) + "\n")
            for row in rows:
                f.write(sep.join(row) + "\n")

    write("municipalities.csv", ["code", "name", "in_region", "inhabitants"],
          [[code_text(c), "Gemeente %d" % c, r.choice(["yes", "ja", "true", "1"]) if c in inside
            else r.choice(["no", "nee", "false", "0"]), str(r.randint(1000, 900000))] for c in codes])

    types = ["SO", "VSO", "SBO", "SO/VSO"]
    nschools = r.randint(1, 8)
    ids = r.sample(["S1", "S10", "S9", "S2", "AB12", "ab12", "Z", "S100", "07XY00", "16XA01"], nschools)
    school_type = {s: r.choice(types) for s in ids}
    write("schools.csv", ["school_id", "name", "municipality_code", "type", "provider"],
          [[s, "School %s" % s, code_text(r.choice(sorted(inside))), school_type[s], "P"] for s in ids])

    csep = r.choice([",", ";"])
    same_budget = r.randint(100000, 99999999)
    rows = []
    for s in ids:
        b = same_budget if r.random() < 0.3 else r.randint(0, 10 ** r.randint(3, 9))
        cof = 0 if r.random() < 0.6 else r.randint(0, b)
        rows.append([s, money(b, csep), money(cof, csep)])
    write("costs.csv", ["school_id", "budget", "cofinancing"], rows, csep)

    cats = ["", "a", "B", "intensief"]
    rows = []
    for p in range(r.randint(5, 120)):
        pid = "P%05d" % r.randint(0, 99999) + "-%d" % p
        t = p_start - datetime.timedelta(days=r.randint(0, 400))
        for _ in range(r.randint(1, 3)):
            start = t + datetime.timedelta(days=r.randint(0, 200))
            end = start + datetime.timedelta(days=r.randint(0, 500))
            open_end = r.random() < 0.3
            rows.append([pid, r.choice(ids), code_text(r.choice(codes)), fmt_date(start),
                         "" if open_end else fmt_date(end), r.choice(cats)])
            if open_end:
                break
            t = end + datetime.timedelta(days=1)
    r.shuffle(rows)
    esep = r.choice([",", ";"])
    write("enrolments.csv", ["pupil_id", "school_id", "residence_code", "start_date", "end_date", "category"],
          rows, esep)

    def frac():
        return r.choice(["0", "1", "0.5", "0.25", "0.333333", "0.1", "0.75", "%d.%06d" % (0, r.randint(0, 999999))])

    keys = []
    ini = ["[settlement]", "name = random %d" % seed, "issuer = Regio", "issuer_id = 0546",
           "period_start = %s" % p_start.isoformat(), "period_end = %s" % p_end.isoformat(),
           "statement_date = %s" % (p_end + datetime.timedelta(days=30)).isoformat(),
           "measure = %s" % ("headcount" if headcount else "days")]
    if headcount:
        ini.append("count_date = %s" % count_date.isoformat())
    for k in range(r.randint(1, 3)):
        name = "k%d" % k
        keys.append(name)
        method = r.choice(["prorata", "pooled", "tariff"])
        ini += ["", "[key %s]" % name, "method = %s" % method,
                "min_pupils = %d" % r.choice([0, 0, 1, 2, 3, 5]),
                "discount = %s" % r.choice(["0", "0", frac()]),
                "phase_in = %s" % r.choice(["1", "1", frac()]),
                "min_school_share = %s" % r.choice(["0", "0", frac()])]
        if r.random() < 0.4:
            ini.append("cap = %s" % money(r.randint(0, 5000000), ","))
        for c in ["a", "B", "intensief"]:
            if r.random() < 0.4:
                ini.append("weight.%s = %s" % (r.choice([c, c.upper()]), r.choice(["0", "1.5", "2", "0.333333", "3"])))
        if method == "tariff" or r.random() < 0.3:
            for t in types:
                ini.append("tariff.%s = %s" % (t.lower() if r.random() < 0.5 else t, money(r.randint(0, 1500000), ",")))
    ini.insert(8, "default_key = %s" % r.choice(keys))
    with open(os.path.join(out, "settlement.ini"), "w") as f:
        f.write("\n".join(ini) + "\n")

    outside = [c for c in codes if c not in inside]
    write("agreements.csv", ["municipality_code", "key", "reference"],
          [[code_text(c), r.choice(keys), r.choice(["", "REF-%d" % c])]
           for c in outside if r.random() < 0.7])


if __name__ == "__main__":
    main()
