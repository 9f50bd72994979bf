"""``zonesim zones``: show the zoning of a municipality table (or of the synthetic region).

With ``--municipalities CSV`` the table's own ``zone`` column is shown and checked when it has
one (``--repartition`` ignores it); otherwise the table is partitioned into zones. Without a CSV
the synthetic default region is zoned: 300 municipalities with Flanders' size distribution
(seed 2020), scaled to Flanders' 6,629,143 inhabitants.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap
from typing import TextIO

from .. import geography as geo
from ..errors import ZonesimInputError

FORMATS = ("table", "json", "csv")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``zones`` sub-command."""
    p = subparsers.add_parser(
        "zones",
        help="partition municipalities into primary care zones and show the zoning",
        description=(
            "Show the zoning of a municipality table: its zones, their municipalities and "
            "populations, and the flagged exceptions (cities above the upper bound). A table "
            "with a 'zone' column is checked against the bounds; one without is partitioned. "
            "Without --municipalities, a synthetic Flanders-sized region is zoned."
        ),
    )
    p.add_argument(
        "--municipalities",
        "-m",
        metavar="CSV",
        default=None,
        help="municipality table (columns id/NIS_code, name/municipality_NL, "
        "population/inhabitants; optional arrondissement, province, region, "
        "zone); default: the synthetic region",
    )
    p.add_argument(
        "--region",
        metavar="NAME",
        default=None,
        help="only the municipalities of this region (e.g. 'Vlaams Gewest')",
    )
    p.add_argument(
        "--min",
        dest="min_pop",
        type=int,
        default=geo.ZONE_MIN,
        metavar="N",
        help=f"minimum inhabitants of a zone (default {geo.ZONE_MIN:,}; the "
        f"official minimum is {geo.OFFICIAL_MIN:,})",
    )
    p.add_argument(
        "--max",
        dest="max_pop",
        type=int,
        default=geo.ZONE_MAX,
        metavar="N",
        help=f"maximum inhabitants of a zone (default {geo.ZONE_MAX:,})",
    )
    p.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        default="table",
        help="output: an aligned table (default), one JSON object, or CSV with one "
        "row per municipality",
    )
    p.add_argument(
        "--group-by",
        choices=("arrondissement", "province", "region", "none"),
        default="arrondissement",
        help="keep the municipalities of one arrondissement together (default) or "
        "zone them all together (none)",
    )
    p.add_argument(
        "--repartition",
        action="store_true",
        help="partition the table even if it has a 'zone' column",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=2020,
        help="seed of the synthetic region (default 2020; ignored with a CSV)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Build the zoning the arguments describe and print it."""
    out = out or sys.stdout
    for name, value in (("--min", args.min_pop), ("--max", args.max_pop)):
        if value < 1:
            raise ZonesimInputError(
                "expected a whole number of inhabitants >= 1",
                source="<argument>",
                field=name,
                value=value,
            )
    if args.max_pop < args.min_pop:
        raise ZonesimInputError(
            f"expected --max >= --min ({args.min_pop:,})",
            source="<argument>",
            field="--max",
            value=args.max_pop,
        )
    if args.seed < 0:
        raise ZonesimInputError(
            "expected a whole number >= 0", source="<argument>", field="--seed", value=args.seed
        )
    if args.municipalities:
        source = args.municipalities
        munis = geo.load_municipalities(source)
    else:
        source = f"synthetic region (seed {args.seed})"
        munis = geo.synthetic_region(
            geo.FLANDERS_MUNICIPALITIES, geo.FLANDERS_POPULATION, seed=args.seed
        )
    if args.region is not None:
        regions = list(dict.fromkeys(m.region for m in munis if m.region))
        if not regions:
            raise ZonesimInputError(
                "the table has no region column (region or region_NL)",
                source=source,
                field="--region",
                value=args.region,
            )
        munis = [m for m in munis if m.region == args.region]
        if not munis:
            raise ZonesimInputError(
                f"unknown region; expected one of: {', '.join(regions)}",
                source=source,
                field="--region",
                value=args.region,
            )
    existing = any(m.zone for m in munis) and not args.repartition
    violations: list[geo.Violation] = []
    if existing:
        zones = geo.zones_from_column(munis, args.min_pop, args.max_pop)
        violations = geo.validate_zoning(munis, args.min_pop, args.max_pop)
    else:
        group_by = None if args.group_by == "none" else args.group_by
        zones = geo.partition(munis, args.min_pop, args.max_pop, group_by=group_by)
    info = {
        "source": source,
        "region": args.region,
        "zoning": "existing (zone column)" if existing else "partition",
        "group_by": None if existing else args.group_by,
        "min_pop": args.min_pop,
        "max_pop": args.max_pop,
    }
    {"table": _table, "json": _json, "csv": _csv}[args.format](zones, violations, munis, info, out)
    return 0


def _summary(zones, munis, info) -> dict:
    pops = [z.population for z in zones]
    inside = sum(1 for p in pops if info["min_pop"] <= p <= info["max_pop"])
    return {
        "municipalities": len(munis),
        "population": sum(m.population for m in munis),
        "zones": len(zones),
        "zones_within_bounds": inside,
        "exceptions": sum(1 for z in zones if z.exception),
        "smallest_zone": min(pops) if pops else None,
        "largest_zone": max(pops) if pops else None,
    }


def _table(zones, violations, munis, info, out: TextIO) -> None:
    s = _summary(zones, munis, info)
    where = f"{info['region']} in {info['source']}" if info["region"] else info["source"]
    out.write(f"Zoning of {where} ({info['zoning']})\n")
    out.write(
        f"{s['municipalities']} municipalities, {s['population']:,} inhabitants, "
        f"{s['zones']} zones; bounds {info['min_pop']:,}-{info['max_pop']:,}; "
        f"{s['zones_within_bounds']} zones within bounds, {s['exceptions']} flagged\n\n"
    )
    name_w = max([len("Zone"), *(len(z.name) for z in zones)])
    head = f"{'Zone':<{name_w}}  {'Inhabitants':>12}  {'Munic.':>6}  "
    indent = " " * len(head)
    width = max(100, len(head) + 40)
    out.write(head + "Municipalities\n")
    out.write("-" * width + "\n")
    for z in zones:
        mark = "*" if z.exception else " "
        # Wrap between municipalities only: keep "Name (population)" on one line.
        items = [f"{m.name} ({m.population:,})".replace(" ", "\xa0") for m in z.municipalities]
        lines = textwrap.wrap(", ".join(items), width - len(head), break_on_hyphens=False)
        lines = [line.replace("\xa0", " ") for line in lines] or [""]
        out.write(f"{z.name:<{name_w}}  {z.population:>11,}{mark}  {len(z):>6}  {lines[0]}\n")
        for line in lines[1:]:
            out.write(indent + line + "\n")
    flagged = [z for z in zones if z.exception]
    if flagged:
        out.write("\nFlagged exceptions (*):\n")
        for z in flagged:
            out.write(f"  {z.name}: {z.exception}\n")
    if violations:
        out.write(f"\nViolations of the zoning rules ({len(violations)}):\n")
        for v in violations:
            out.write(f"  {v}\n")


def _json(zones, violations, munis, info, out: TextIO) -> None:
    obj = dict(info)
    obj["summary"] = _summary(zones, munis, info)
    obj["zones"] = [
        {
            "name": z.name,
            "population": z.population,
            "exception": z.exception,
            "municipalities": [
                {"id": m.id, "name": m.name, "population": m.population, "parent": m.parent}
                for m in z.municipalities
            ],
        }
        for z in zones
    ]
    obj["violations"] = [
        {"kind": v.kind, "zone": v.zone, "municipality": v.municipality, "message": str(v)}
        for v in violations
    ]
    json.dump(obj, out, indent=2, ensure_ascii=False)
    out.write("\n")


CSV_COLUMNS = [
    "zone",
    "zone_population",
    "exception",
    "id",
    "name",
    "population",
    "arrondissement",
    "province",
    "region",
    "parent",
]


def _csv(zones, violations, munis, info, out: TextIO) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    zoned = set()
    for z in zones:
        pop = z.population
        for m in z.municipalities:
            zoned.add(m.id)
            w.writerow(
                [
                    z.name,
                    pop,
                    z.exception or "",
                    m.id,
                    m.name,
                    m.population,
                    m.arrondissement or "",
                    m.province or "",
                    m.region or "",
                    m.parent or "",
                ]
            )
    for m in munis:  # municipalities an existing zoning left without a zone
        if m.id not in zoned:
            w.writerow(
                [
                    "",
                    "",
                    "",
                    m.id,
                    m.name,
                    m.population,
                    m.arrondissement or "",
                    m.province or "",
                    m.region or "",
                    "",
                ]
            )
