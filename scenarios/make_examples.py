#!/usr/bin/env python3
"""make_examples.py: regenerates the bundled example regions scenarios/holland-rijnland/
and scenarios/alkmaar/ (every file except README.md and scenario.ini).

The output is committed; this script documents how it was made and reproduces it byte for
byte: a fixed seed, our own splitmix64 generator (never Python's `random`, whose algorithms
may change between versions), no clock, sorted output.

Real: the municipalities (CBS codes, names, inhabitants from the reference list
../shared/data/real/gemeenten_nl_342.csv, every code is checked against it), the
schools, their types, municipalities and the providers named in issue 5, the FTE facts.
Invented: pupils (synthetic, never real people), pupil counts per school, budgets, which
provider works at which school, the residence spread, agreements and contract references.

Usage: python3 scenarios/make_examples.py [--real PATH_TO_gemeenten_nl_342.csv]
"""
import csv
import datetime
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASK = (1 << 64) - 1


class Rng:
    """splitmix64: tiny, fixed, portable."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def permille(self, p):
        return self.below(1000) < p

    def weighted(self, items):
        """items: list of (value, integer weight > 0)."""
        total = sum(w for _, w in items)
        r = self.below(total)
        for v, w in items:
            if r < w:
                return v
            r -= w
        raise AssertionError("unreachable")


# CBS spellings where the reference list uses the colloquial name.
CBS_NAMES = {"0518": "'s-Gravenhage", "0373": "Bergen (NH.)"}


def load_real(path):
    munis = {}
    names_to_code = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["cbs_code"]
            munis[code] = {
                "name": row["gemeentenaam"],
                "pop": int(row["inwoners"]),
                "nbr_names": [n for n in row["buurgemeenten"].split(";") if n],
            }
            names_to_code[row["gemeentenaam"]] = code
    for m in munis.values():
        m["nbrs"] = sorted(names_to_code[n] for n in m["nbr_names"])
    if len(munis) != 342:
        sys.exit("make_examples: expected 342 municipalities in %s" % path)
    return munis


def day(s):
    return datetime.date.fromisoformat(s)


def add_days(d, n):
    return d + datetime.timedelta(days=n)


def rand_date(rng, lo, hi):
    """A date in [lo, hi], both datetime.date."""
    return add_days(lo, rng.below((hi - lo).days + 1))


class Region:
    def __init__(self, cfg, munis):
        self.cfg = cfg
        self.munis = munis
        for code in cfg["members"] + cfg["outside"] + cfg["far"]:
            if code not in munis:
                sys.exit("make_examples: unknown municipality code %s" % code)
        for s in cfg["schools"]:
            if s["muni"] not in cfg["members"]:
                sys.exit("make_examples: school %s outside the region" % s["id"])

    def name(self, code):
        return CBS_NAMES.get(code, self.munis[code]["name"])

    def residence_table(self, school):
        """Weighted residence municipalities for one school's pupils."""
        cfg, munis = self.cfg, self.munis
        home = school["muni"]
        near = set(munis[home]["nbrs"])
        inside, outside, far = [], [], []
        for c in cfg["members"]:
            f = school["home_factor"] if c == home else (4 if c in near else 1)
            inside.append((c, munis[c]["pop"] * f))
        damp = cfg.get("damp", {})       # per mille: big but distant neighbours
        for c in cfg["outside"]:
            f = 5 if c in near else 1
            outside.append((c, munis[c]["pop"] * f * damp.get(c, 1000) // 1000))
        for c in cfg["far"]:
            far.append((c, munis[c]["pop"]))
        return inside, outside, far

    def draw_residence(self, rng, school, tables):
        inside, outside, far = tables
        r = rng.below(1000)
        if r < school["far_pm"]:
            return rng.weighted(far)
        if r < school["far_pm"] + school["out_pm"]:
            return rng.weighted(outside)
        return rng.weighted(inside)


def make_enrolments(region, rng):
    """Returns a list of dicts: pupil, school, res, start, end (date or None), cat."""
    cfg = region.cfg
    count_date = day(cfg["count_date"])
    p_start, p_end = day(cfg["period_start"]), day(cfg["period_end"])
    used_ids = set()
    rows = []

    def new_id():
        while True:
            pid = cfg["id_prefix"] + "%08x" % (rng.next() & 0xFFFFFFFF)
            if pid not in used_ids:
                used_ids.add(pid)
                return pid

    def category(school):
        cats = school["cats"]
        return rng.weighted(cats) if cats else ""

    def start_before_count(school):
        # most pupils entered at the start of some earlier school year
        if rng.permille(800):
            year = 2025 - rng.below(school["years"])
            return datetime.date(year, 8, 18 + rng.below(10))
        return rand_date(rng, datetime.date(2025 - school["years"], 9, 1), day("2025-09-30"))

    for school in cfg["schools"]:
        tables = region.residence_table(school)
        n = school["pupils"]
        # pupils active on the count date: exactly the school's stated pupil count
        for _ in range(n):
            pid = new_id()
            res = region.draw_residence(rng, school, tables)
            cat = category(school)
            start = start_before_count(school)
            end = None
            r = rng.below(1000)
            if r < 90:                      # leaves at the end of the school year
                end = day("2026-07-17")
            elif r < 150:                   # leaves during the year
                end = rand_date(rng, add_days(count_date, 1), day("2026-06-30"))
            if rng.permille(cfg["mover_pm"]):
                # moves house during the year: two enrolments, no overlap, a new residence
                move = rand_date(rng, max(add_days(start, 1), day("2025-09-01")),
                                 day("2026-06-30"))
                if end is not None and move >= end:
                    end = None
                res2 = res
                while res2 == res:
                    res2 = region.draw_residence(rng, school, tables)
                rows.append(dict(pupil=pid, school=school["id"], res=res, start=start,
                                 end=add_days(move, -1), cat=cat))
                rows.append(dict(pupil=pid, school=school["id"], res=res2, start=move,
                                 end=end, cat=cat))
            else:
                rows.append(dict(pupil=pid, school=school["id"], res=res, start=start,
                                 end=end, cat=cat))
        # joiners after the count date
        for _ in range(n * cfg["joiner_pm"] // 1000):
            rows.append(dict(pupil=new_id(), school=school["id"],
                             res=region.draw_residence(rng, school, tables),
                             start=rand_date(rng, add_days(count_date, 1), day("2026-05-31")),
                             end=None, cat=category(school)))
        # early leavers: gone before the count date
        for _ in range(max(1, n * cfg["early_pm"] // 1000)):
            end = rand_date(rng, p_start, add_days(count_date, -1))
            start = min(start_before_count(school), datetime.date(2024, 8, 19))
            rows.append(dict(pupil=new_id(), school=school["id"],
                             res=region.draw_residence(rng, school, tables),
                             start=start, end=end, cat=category(school)))
    # pupils who left before the period: valid rows that count nothing (d_e = 0)
    for school in cfg["schools"][:3]:
        rows.append(dict(pupil=new_id(), school=school["id"],
                         res=region.draw_residence(rng, school, region.residence_table(school)),
                         start=day("2021-08-23"), end=day("2025-07-11"), cat=category(school)))
    # school changers: leave one school, start at another the next day (same residence)
    schools = cfg["schools"]
    for k in range(cfg["changers"]):
        a = schools[rng.below(len(schools))]
        b = schools[rng.below(len(schools))]
        if a is b:
            continue
        pid = new_id()
        res = region.draw_residence(rng, a, region.residence_table(a))
        move = rand_date(rng, day("2025-11-01"), day("2026-04-30"))
        # joined after the count date, so the stated counts per school stay exact
        rows.append(dict(pupil=pid, school=a["id"], res=res, start=day("2025-10-06"),
                         end=add_days(move, -1), cat=category(a)))
        rows.append(dict(pupil=pid, school=b["id"], res=res, start=move, end=None,
                         cat=category(b)))
    assert all(r["end"] is None or r["end"] >= r["start"] for r in rows)
    assert p_end > p_start
    rows.sort(key=lambda r: (r["school"], r["pupil"], r["start"]))
    return rows


def write_csv(path, header, rows, sep=",", crlf=False, bom=False):
    def q(v):
        v = str(v)
        if any(ch in v for ch in (sep, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v

    eol = "\r\n" if crlf else "\n"
    text = eol.join(sep.join(q(v) for v in r) for r in [header] + rows) + eol
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        f.write(text)


def cents_str(c, comma=False):
    s = "%d.%02d" % (c // 100, c % 100)
    return s.replace(".", ",") if comma else s


def date_str(d, dutch=False):
    if d is None:
        return ""
    return d.strftime("%d-%m-%Y") if dutch else d.isoformat()


def write_region(region, rng):
    cfg = region.cfg
    out = os.path.join(ROOT, "scenarios", cfg["dir"])
    os.makedirs(out, exist_ok=True)
    xl = cfg["excel"]          # the file written the way Dutch Excel saves it
    excel = dict(sep=";", crlf=True, bom=True)

    with open(os.path.join(out, "settlement.ini"), "w", encoding="utf-8", newline="") as f:
        f.write(cfg["ini"])

    def code_str(c):
        return cfg["code_style"](c)

    rows = [[code_str(c), region.name(c), "yes", region.munis[c]["pop"]]
            for c in sorted(cfg["members"])]
    rows += [[code_str(c), region.name(c), "no", region.munis[c]["pop"]]
             for c in sorted(cfg["outside"] + cfg["far"])]
    write_csv(os.path.join(out, "municipalities.csv"),
              ["code", "name", "in_region", "inhabitants"], rows,
              **(excel if xl == "municipalities" else {}))

    rows = [[s["id"], s["name"], s["muni"], s["type"], s["provider"]] for s in cfg["schools"]]
    write_csv(os.path.join(out, "schools.csv"),
              ["school_id", "name", "municipality_code", "type", "provider"], rows,
              **(excel if xl == "schools" else {}))

    comma = xl == "costs"
    rows = []
    for s in cfg["schools"]:
        budget, cofin = cfg["budget"](s)
        rows.append([s["id"], cents_str(budget, comma), cents_str(cofin, comma) if cofin else ""])
    write_csv(os.path.join(out, "costs.csv"), ["school_id", "budget", "cofinancing"], rows,
              **(excel if xl == "costs" else {}))

    enr = make_enrolments(region, rng)
    dutch = xl == "enrolments"
    rows = [[e["pupil"], e["school"], cfg["res_style"](e["res"]), date_str(e["start"], dutch),
             date_str(e["end"], dutch), e["cat"]] for e in enr]
    write_csv(os.path.join(out, "enrolments.csv"),
              ["pupil_id", "school_id", "residence_code", "start_date", "end_date", "category"],
              rows, **(excel if xl == "enrolments" else {}))

    rows = [[c, k, ref] for c, k, ref in sorted(cfg["agreements"])]
    for c, _, _ in rows:
        if c not in cfg["outside"] + cfg["far"]:
            sys.exit("make_examples: agreement with %s, not an outside municipality" % c)
    write_csv(os.path.join(out, "agreements.csv"), ["municipality_code", "key", "reference"],
              rows, **(excel if xl == "agreements" else {}))

    # a short account for the README (not committed as data)
    by_res = {}
    for e in enr:
        by_res.setdefault(e["res"], set()).add(e["pupil"])
    outside = sorted(c for c in by_res if c not in cfg["members"])
    print("%s: %d enrolment rows, %d pupils, %d outside pupils from %d municipalities"
          % (cfg["dir"], len(enr), len({e["pupil"] for e in enr}),
             sum(len(by_res[c]) for c in outside), len(outside)))
    for c in outside:
        print("  %s %-24s %4d" % (c, region.name(c), len(by_res[c])))


# ---------------------------------------------------------------- Holland Rijnland

HR_PROVIDERS = ["Ambulante Jeugdhulp", "Cardea", "Inzowijs", "Prodeba", "De Schavuiten"]

# id, name, municipality, type, provider, pupils on 1 Oct 2025, youth-care FTE
# The 11 (V)SO schools: 1,611 pupils and 13.76 FTE together (the reported figures);
# the 4 SBO schools are the ones outside that report (our assumption, with our figures).
HR_SCHOOLS = [
    ("HR01", "Savioschool", "0534", "SBO", "Inzowijs", 138, 0.72),
    ("HR02", "De Leidse Buitenschool", "0537", "SO", "Prodeba", 95, 0.81),
    ("HR03", "SBO de Windvang", "0537", "SBO", "Prodeba", 129, 0.68),
    ("HR04", "Korte Vlietschool", "0546", "SO", "Ambulante Jeugdhulp", 150, 1.28),
    ("HR05", "Leo Kanner College", "0546", "VSO", "Cardea", 210, 1.79),
    ("HR06", "Praktijkcollege Het Metrum", "0546", "VSO", "De Schavuiten", 185, 1.58),
    ("HR07", "De Brug", "0546", "SO", "Ambulante Jeugdhulp", 120, 1.03),
    ("HR08", "SBO De Vlieger", "0546", "SBO", "Ambulante Jeugdhulp", 152, 0.74),
    ("HR09", "De Thermiek", "0546", "SO/VSO", "Cardea", 175, 1.49),
    ("HR10", "Leo Kanner P.C. Hooftcollege", "0547", "VSO", "Cardea", 160, 1.37),
    ("HR11", "Don Bosco school", "0553", "SBO", "Inzowijs", 124, 0.66),
    ("HR12", "SO De Duinpieper", "0575", "SO", "Inzowijs", 110, 0.94),
    ("HR13", "VSO Het Duin", "0575", "VSO", "De Schavuiten", 140, 1.20),
    ("HR14", "Leo Kannerschool SO", "0579", "SO", "Cardea", 126, 1.07),
    ("HR15", "Leo Kannerschool VSO", "0579", "VSO", "Cardea", 140, 1.20),
]
HR_COST_PER_FTE = 9600000        # cents: EUR 96,000 per FTE (salary, overhead, travel)
HR_COST_PER_PUPIL = 1235         # cents: EUR 12.35 per pupil for group activities


def hr_school(t):
    sid, name, muni, typ, prov, pupils, fte = t
    assert prov in HR_PROVIDERS
    # catchment (per mille of pupils from outside / far away), by kind of school
    if typ == "SBO":
        out_pm, far_pm, home, years, cats = 35, 0, 40, 6, [("basis", 9), ("intensief", 1)]
    elif sid == "HR09":                       # mytylschool: wide catchment
        out_pm, far_pm, home, years, cats = 210, 70, 3, 12, [("basis", 6), ("intensief", 4)]
    elif name.startswith("Leo Kanner"):       # autism, regional function
        out_pm, far_pm, home, years, cats = 150, 25, 3, 6, [("basis", 7), ("intensief", 3)]
    else:
        out_pm, far_pm, home, years, cats = 90, 10, 4, 6, [("basis", 8), ("intensief", 2), ("", 1)]
    return dict(id=sid, name=name, muni=muni, type=typ, provider=prov, pupils=pupils,
                fte=fte, out_pm=out_pm, far_pm=far_pm, home_factor=home, years=years, cats=cats)


def hr_budget(s):
    fte_cents = round(s["fte"] * 100)
    return fte_cents * HR_COST_PER_FTE // 100 + s["pupils"] * HR_COST_PER_PUPIL, 0


HR_INI = """\
; JOS Holland Rijnland, school year 2025-2026 (bundled example: pupils are synthetic)
[settlement]
name = JOS Holland Rijnland 2025-2026
issuer = Holland Rijnland
issuer_id = 0546                 ; Leiden, centrumgemeente of the youth-care region
period_start = 2025-08-01
period_end = 2026-07-31
statement_date = 2026-09-15
measure = days
default_key = standard
iban = NL00BANK0123456789        ; placeholder, not a real account
payment_days = 30

; Actual net cost per school, shared by the days pupils were enrolled; pupils with
; an intensive care need weigh 1.5. First year of a two-year glide path: half is charged.
[key standard]
method = prorata
min_pupils = 5
phase_in = 0.5
weight.intensief = 1.5

; A flat rate per pupil-year and school type (as in the Swiss IVSE, method P),
; capped per municipality and year.
[key tarief]
method = tariff
min_pupils = 1
cap = 25000.00
tariff.SO = 850.00
tariff.VSO = 800.00
tariff.SO/VSO = 1100.00
tariff.SBO = 550.00
"""

HR = dict(
    dir="holland-rijnland",
    members=["0484", "0534", "1884", "0537", "0546", "0547", "0553", "0569", "0575", "0579",
             "1525", "0626", "0638"],
    outside=["0629", "1916", "0637", "0394", "1901", "1621", "0627", "1892", "0632", "0736",
             "0451", "0358", "0377", "0473"],
    far=["0518", "0513", "0392", "0503"],
    schools=[hr_school(t) for t in HR_SCHOOLS],
    period_start="2025-08-01", period_end="2026-07-31", count_date="2025-10-01",
    id_prefix="hr-", mover_pm=40, joiner_pm=45, early_pm=15, changers=6,
    excel="costs", code_style=lambda c: c, res_style=lambda c: c,
    budget=hr_budget, ini=HR_INI,
    agreements=[
        ("0629", "standard", "HR-JOS-2025-01 Wassenaar"),
        ("1916", "tarief", "HR-JOS-2025-02 Leidschendam-Voorburg"),
        ("0637", "tarief", "HR-JOS-2025-03 Zoetermeer"),
        ("0394", "standard", "HR-JOS-2025-04 Haarlemmermeer"),
        ("1901", "standard", "HR-JOS-2025-05 Bodegraven-Reeuwijk"),
        ("1621", "standard", "HR-JOS-2025-06 Lansingerland"),
        ("0627", "standard", "HR-JOS-2025-07 Waddinxveen"),
        ("1892", "standard", "HR-JOS-2025-08 Zuidplas"),
        ("0632", "standard", ""),
        ("0513", "standard", "HR-JOS-2025-14 Gouda"),
        ("0736", "standard", "HR-JOS-2025-10 De Ronde Venen"),
        ("0451", "standard", "HR-JOS-2025-11 Uithoorn"),
        ("0377", "standard", "HR-JOS-2025-12 Bloemendaal"),
        ("0518", "tarief", "HR-JOS-2025-13 's-Gravenhage"),
    ],
)
assert sum(s[5] for s in HR_SCHOOLS if s[3] != "SBO") == 1611
assert round(sum(s[6] for s in HR_SCHOOLS if s[3] != "SBO") * 100) == 1376

# ---------------------------------------------------------------- Regio Alkmaar

# id, name, municipality, type, pupils on 1 Oct 2025, team FTE, FTE paid by the SWV
# 14.5 FTE in all, 2.5 of them co-financed by the samenwerkingsverband VO
# Noord-Kennemerland, spread over its 5 schools (0.5 each); each of those schools has a
# preventive ambulant youth worker of 0.8-0.9 FTE inside its team FTE.
AK_SCHOOLS = [
    ("AK01", "Stedelijk Dalton College Alkmaar", "0361", "VO", 1150, 2.00, 0.50),
    ("AK02", "Jan Arentsz", "0361", "VO", 1850, 2.30, 0.50),
    ("AK03", "PCC Oosterhout", "0361", "VO", 900, 1.90, 0.50),
    ("AK04", "De Spinaker", "0361", "VSO", 190, 1.80, 0.50),
    ("AK05", "Focus", "0361", "PRO", 260, 1.60, 0.50),
    ("AK06", "Vonk", "0383", "VO", 800, 1.50, 0.00),
    ("AK07", "Jac. P. Thijsse College", "0383", "VO", 1350, 1.90, 0.00),
    ("AK08", "Bonhoeffer College", "0383", "VO", 1250, 1.50, 0.00),
]
AK_COST_PER_FTE = 9275050        # cents: EUR 92,750.50 per FTE
assert round(sum(s[5] for s in AK_SCHOOLS) * 100) == 1450
assert round(sum(s[6] for s in AK_SCHOOLS) * 100) == 250


def ak_school(t):
    sid, name, muni, typ, pupils, fte, swv = t
    if typ == "VO":
        out_pm, far_pm, home, cats = 110, 6, 3, [("", 17), ("lwoo", 3)]
    else:
        out_pm, far_pm, home, cats = 160, 20, 2, [("", 1)]
    if muni == "0383":
        out_pm += 60                       # Castricum: Heemskerk and Beverwijk next door
    return dict(id=sid, name=name, muni=muni, type=typ, provider="Jeugd- & Schoolteam Regio Alkmaar",
                pupils=pupils, fte=fte, swv=swv, out_pm=out_pm, far_pm=far_pm,
                home_factor=home, years=6, cats=cats)


def ak_budget(s):
    return (round(s["fte"] * 100) * AK_COST_PER_FTE // 100,
            round(s["swv"] * 100) * AK_COST_PER_FTE // 100)


AK_INI = """\
; JOS Regio Alkmaar, school year 2025-2026 (bundled example: pupils are synthetic)
[settlement]
name = JOS Regio Alkmaar 2025-2026
issuer = Regio Alkmaar
issuer_id = 0361                 ; Alkmaar, on behalf of the region
period_start = 2025-08-01
period_end = 2026-07-31
statement_date = 2026-09-15
measure = headcount              ; pupils on the count date, as DUO counts on 1 October
count_date = 2025-10-01
default_key = standard

; Net cost per school (team cost minus the samenwerkingsverband's co-financing),
; shared by the pupils on the count date; lwoo pupils weigh 1.5.
[key standard]
method = prorata
weight.lwoo = 1.5

; One region-wide average cost per pupil; only municipalities with 5 or more pupils pay.
[key regiogemiddelde]
method = pooled
min_pupils = 5
weight.lwoo = 1.5
"""

AK = dict(
    dir="alkmaar",
    members=["0361", "0373", "0383", "1980", "0399", "0450"],
    outside=["0396", "0375", "0441", "1598", "1911", "0479", "0439", "0880", "0432"],
    far=["0400", "0392", "0363"],
    damp={"0479": 250, "0439": 300, "0880": 500},
    schools=[ak_school(t) for t in AK_SCHOOLS],
    period_start="2025-08-01", period_end="2026-07-31", count_date="2025-10-01",
    id_prefix="ak-", mover_pm=25, joiner_pm=25, early_pm=10, changers=8,
    excel="enrolments",
    code_style=lambda c: "GM" + c,              # municipalities.csv as CBS lists it
    res_style=lambda c: str(int(c)),            # leading zeros lost in the spreadsheet
    budget=ak_budget, ini=AK_INI,
    agreements=[
        ("0396", "standard", "RA/JOS/2025/001"),
        ("0375", "standard", "RA/JOS/2025/002"),
        ("0441", "regiogemiddelde", "RA/JOS/2025/003"),
        ("1598", "regiogemiddelde", "RA/JOS/2025/004"),
        ("1911", "regiogemiddelde", "RA/JOS/2025/005"),
        ("0479", "standard", "RA/JOS/2025/006"),
        ("0439", "standard", "RA/JOS/2025/007"),
        ("0432", "regiogemiddelde", ""),
        ("0400", "regiogemiddelde", "RA/JOS/2025/009"),
    ],
)


def main():
    real = os.path.join(os.path.dirname(ROOT), "shared", "data", "real", "gemeenten_nl_342.csv")
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--real":
        real = args[1]
    elif args:
        sys.exit(__doc__)
    munis = load_real(real)
    write_region(Region(HR, munis), Rng(20250801))
    write_region(Region(AK, munis), Rng(20251001))


if __name__ == "__main__":
    main()
