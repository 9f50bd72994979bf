"""Municipalities, primary care zones and regions.

The rules (MODEL.md section 1): a municipality is indivisible and belongs wholly to one zone; a
zone has 75,000-125,000 inhabitants (the design range; the official minimum is 60,000); several
zones form a region. A city larger than the upper bound is either a zone on its own, flagged as an
exception, or split into districts that the user declares; never silently.

This module offers

- :class:`Municipality`, :class:`Zone`, :class:`Region` (frozen dataclasses);
- :func:`load_municipalities`: a CSV loader with clear, located errors;
- :func:`partition`: groups municipalities into zones within bounds (algorithm below);
- :func:`validate_zoning` and :func:`zones_from_column`: check or use an existing zoning;
- :func:`synthetic_region`: a deterministic generator of Flanders-like municipality sizes;
- :func:`zone_from_config`: the zone a run simulates, from a :class:`~zonesim.config.ZoneConfig`.

Partition algorithm
-------------------
1. Cities above the upper bound are taken out first: each becomes a zone of its own flagged
   ``"large city: ..."``, unless the user declared its districts, which are then zoned among
   themselves (a district is indivisible too) and flagged ``"districts of ..."``.
2. The remaining municipalities are grouped by arrondissement (``group_by``). A group whose total
   cannot be split into zones within bounds at all (no whole number k with
   ``k * min_pop <= total <= k * max_pop``, e.g. a total below the minimum) is merged with a
   neighbour group: one adjacent to it (when ``adjacency`` is given), preferably in the same
   province, else in the same region, the smallest such group first. Merging is ordinary
   (several arrondissements may share a zone), so it is not flagged.
3. Each group is split into k zones, trying the k with mean zone size closest to the middle of
   the bounds first. The first assignment is greedy: largest municipality first into the zone
   with the fewest inhabitants (which alone keeps every zone within one municipality of the
   mean), or, with ``adjacency``, zones grown from spread-out seeds over neighbouring
   municipalities (restarted from other first seeds while zones stay out of bounds). A repair
   step then moves single municipalities or swaps pairs between zones, each step lowering the
   total number of inhabitants out of bounds (ties: towards equal zones); with ``adjacency`` a
   step is taken only if no zone gets split into more pieces.
4. A group that still has zones out of bounds is re-tried merged with a neighbour group; what is
   still out of bounds after that is flagged on the zone (``"below minimum: ..."``).

The result is deterministic (no random numbers), conserves every municipality and inhabitant,
and lists zones and their municipalities in the input order.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import NormalDist

import numpy as np

from . import validation as V
from .config import ZONE_POPULATION_MAX, Config, ZoneConfig
from .errors import ZonesimInputError

__all__ = [
    "FLANDERS_LARGEST",
    "FLANDERS_MEDIAN",
    "FLANDERS_MUNICIPALITIES",
    "FLANDERS_POPULATION",
    "OFFICIAL_MIN",
    "ZONE_MAX",
    "ZONE_MIN",
    "Municipality",
    "Region",
    "Violation",
    "Zone",
    "load_municipalities",
    "municipalities_csv_path",
    "partition",
    "regions_of",
    "settle_zone_population",
    "synthetic_region",
    "validate_zoning",
    "zone_from_config",
    "zone_of_config",
    "zones_from_column",
]

# MODEL.md section 6 (departementzorg.be; Statbel 2020 as compiled in shared/data).
ZONE_MIN = 75_000
ZONE_MAX = 125_000
# No municipality has more inhabitants than this: a larger number in a table is a typo (and
# would overflow the 64-bit sums of a zoning).
MUNICIPALITY_MAX = 100_000_000
# The most inhabitants one simulated zone may have (``zone.population``'s bound): larger areas
# are regions of several zones.
SIMULATED_ZONE_MAX = ZONE_POPULATION_MAX
OFFICIAL_MIN = 60_000
FLANDERS_MUNICIPALITIES = 300
FLANDERS_POPULATION = 6_629_143
FLANDERS_MEDIAN = 15_037
FLANDERS_LARGEST = 529_247


# ---------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Municipality:
    """A municipality (or a declared district of a large city).

    ``id`` is a stable key such as the NIS code; ``zone`` is the zone it belongs to in an
    existing zoning (or in the zoning :func:`partition` made); ``parent`` is set only on a
    district: the id of the municipality it is part of. ``ages`` (optional; from a table with
    ages, such as Statbel's population by age) counts the inhabitants in the 20 five-year age
    bands 0-4, 5-9, ..., 90-94, 95+; the population builder then draws ages from it instead of
    the synthetic default pyramid.
    """

    id: str
    name: str
    population: int
    arrondissement: str | None = None
    province: str | None = None
    region: str | None = None
    zone: str | None = None
    parent: str | None = None
    ages: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.ages is not None:
            ages = tuple(
                V.check_int(a, field=f"{self.id}: ages", source=None, lo=0) for a in self.ages
            )
            if len(ages) != N_AGE_BANDS or sum(ages) != self.population:
                raise ZonesimInputError(
                    f"expected {N_AGE_BANDS} five-year age bands adding up to the population "
                    f"({self.population})",
                    field=f"{self.id}: ages",
                    value=self.ages,
                )
            object.__setattr__(self, "ages", ages)
        if not isinstance(self.id, str) or not self.id.strip():
            raise ZonesimInputError("expected a non-empty id", field="id", value=self.id)
        if not isinstance(self.name, str) or not self.name.strip():
            raise ZonesimInputError("expected a non-empty name", field="name", value=self.name)
        pop = V.check_int(
            self.population,
            field=f"{self.id}: population",
            source=None,
            lo=0,
            expected="expected a whole number of inhabitants >= 0",
        )
        object.__setattr__(self, "population", pop)


@dataclass(frozen=True)
class Zone:
    """A primary care zone: whole municipalities, and an optional exception flag.

    ``exception`` is ``None`` for an ordinary zone within bounds; otherwise it says why the zone
    is special, e.g. ``"large city: ..."`` (a city above the upper bound forming a zone of its
    own), ``"districts of ..."`` (a zone of declared city districts) or ``"below minimum: ..."``
    (no grouping within bounds was found).
    """

    name: str
    municipalities: tuple[Municipality, ...]
    exception: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "municipalities", tuple(self.municipalities))

    @property
    def id(self) -> str:
        """The zone's identifier (its name)."""
        return self.name

    @property
    def population(self) -> int:
        """Inhabitants of the zone."""
        return sum(m.population for m in self.municipalities)

    @property
    def municipality_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.municipalities)

    def __len__(self) -> int:
        return len(self.municipalities)


@dataclass(frozen=True)
class Region:
    """Several zones forming a (regional) zone, e.g. ``"Vlaams Gewest"``."""

    name: str
    zones: tuple[Zone, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones", tuple(self.zones))

    @property
    def population(self) -> int:
        return sum(z.population for z in self.zones)

    @property
    def municipalities(self) -> tuple[Municipality, ...]:
        return tuple(m for z in self.zones for m in z.municipalities)

    def zone(self, name: str) -> Zone:
        """The zone called ``name`` (raises :class:`ZonesimInputError` if unknown)."""
        return _pick_zone(list(self.zones), name, source=self.name, field="zone")


@dataclass(frozen=True)
class Violation:
    """One breach of the zoning rules found by :func:`validate_zoning`.

    ``kind`` is ``"below_min"``, ``"above_max"`` or ``"no_zone"``; ``str()`` gives the message.
    """

    kind: str
    message: str
    zone: str | None = None
    municipality: str | None = None
    population: int | None = None

    def __str__(self) -> str:
        return self.message


def regions_of(zones: Iterable[Zone], default: str = "Region") -> list[Region]:
    """Group zones into regions by their municipalities' ``region`` (most common value).

    Zones whose municipalities carry no region go into one region called ``default``.
    """
    by: dict[str, list[Zone]] = {}
    for z in zones:
        names = Counter(m.region for m in z.municipalities if m.region)
        name = names.most_common(1)[0][0] if names else default
        by.setdefault(name, []).append(z)
    return [Region(name, tuple(zs)) for name, zs in by.items()]


# ---------------------------------------------------------------------------------------------
# CSV loader
# ---------------------------------------------------------------------------------------------

# Five-year age bands of Municipality.ages (the population builder's pyramid): 0-4 ... 95+.
N_AGE_BANDS = 20

# Accepted column names (case-insensitive), first match wins: zonesim's own, then Statbel's
# open population tables (upper-case codes; names in Dutch, else French).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "NIS_code", "CD_REFNIS"),
    "name": (
        "name",
        "municipality_NL",
        "municipality",
        "TX_DESCR_NL",
        "TX_MUNTY_DESCR_NL",
        "municipality_FR",
        "TX_DESCR_FR",
        "TX_MUNTY_DESCR_FR",
    ),
    "population": ("population", "inhabitants", "MS_POPULATION"),
    "arrondissement": (
        "arrondissement",
        "arrondissement_NL",
        "TX_ADM_DSTR_DESCR_NL",
        "arrondissement_FR",
        "TX_ADM_DSTR_DESCR_FR",
    ),
    "province": ("province", "province_NL", "TX_PROV_DESCR_NL", "province_FR", "TX_PROV_DESCR_FR"),
    "region": ("region", "region_NL", "TX_RGN_DESCR_NL", "region_FR", "TX_RGN_DESCR_FR"),
    "zone": ("zone",),
    "age": ("age", "CD_AGE"),
}
_REQUIRED = ("id", "name", "population")


def load_municipalities(path: str | Path) -> list[Municipality]:
    """Read a municipality table (CSV) into municipalities, in the file's order.

    Columns (case-insensitive): id (``id`` or ``NIS_code``), name (``name``,
    ``municipality_NL`` or ``municipality``), population (``population`` or ``inhabitants``);
    optional ``arrondissement``/``arrondissement_NL``, ``province``/``province_NL``,
    ``region``/``region_NL`` and ``zone`` (an existing zoning). Other columns are ignored. The
    delimiter may be a comma, a semicolon, a tab or a pipe; the text must be UTF-8 (a BOM is
    fine). Populations may carry thousands separators (``529.247``, ``529,247``, ``529 247``).

    Statbel's open population tables are read as they are downloaded: ``CD_REFNIS`` (the NIS
    code), ``TX_DESCR_NL`` or ``TX_DESCR_FR`` (names in Dutch, else French; also
    ``TX_MUNTY_DESCR_*``), ``MS_POPULATION``, and optionally ``TX_ADM_DSTR_DESCR_*``,
    ``TX_PROV_DESCR_*``, ``TX_RGN_DESCR_*`` (arrondissement, province, region) and ``CD_AGE``.
    Such a table has one row per municipality and group (age, sex, nationality, ...): the rows of
    one municipality are added up, and with an age column (``CD_AGE`` or ``age``, whole years;
    ``95+`` style open ends accepted) each municipality gets its age structure
    (:attr:`Municipality.ages`). Without an age column an id may appear only once.

    Every problem raises :class:`~zonesim.errors.ZonesimInputError` naming the file and the
    column or row (rows count the file's lines, the header being row 1): a missing or empty
    file, missing columns, empty ids or names, duplicate ids, and populations that are not
    whole numbers >= 0.
    """
    src = str(path)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ZonesimInputError("file not found; expected a municipality CSV", source=src) from None
    except IsADirectoryError:
        raise ZonesimInputError("expected a CSV file, found a folder", source=src) from None
    except OSError as exc:
        raise ZonesimInputError(f"cannot read the file ({exc.strerror})", source=src) from None
    try:
        text = raw.decode("utf-8-sig")  # plain UTF-8, with or without a byte order mark
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ZonesimInputError(
            f"not valid text in encoding utf-8 (byte 0x{raw[exc.start]:02x} in row {line}); "
            "expected a UTF-8 CSV (re-save the table as UTF-8)",
            source=src,
        ) from None
    if not text.strip():
        raise ZonesimInputError(
            "empty file; expected a CSV table with a header row (id, name, population) and "
            "one row per municipality",
            source=src,
        )
    first_line = text.lstrip().splitlines()[0]
    delimiter = max(",;\t|", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:  # only delimiters and blanks, e.g. ",,,"
        raise ZonesimInputError(
            "no header row (only delimiters and blanks); expected a CSV table with a header "
            "row (id, name, population) and one row per municipality",
            source=src,
        )
    lower = {h.lower(): i for i, h in reversed(list(enumerate(header)))}
    col: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for name in names:
            if name.lower() in lower:
                col[key] = lower[name.lower()]
                break
    missing = [k for k in _REQUIRED if k not in col]
    if missing:
        key = missing[0]
        raise ZonesimInputError(
            f"missing column {key!r} (accepted names: {', '.join(_COLUMNS[key])}); "
            f"columns found: {', '.join(header)}",
            source=src,
            field=key,
            show_value=False,
        )
    colname = {k: header[i] for k, i in col.items()}
    with_ages = "age" in col
    ages: dict[str, list[int]] = {}

    out: list[Municipality] = []
    seen: dict[str, int] = {}
    header_line = reader.line_num
    for row in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ZonesimInputError(
                f"expected {len(header)} fields like the header, found {len(row)}",
                source=src,
                field=f"row {n}",
                value=delimiter.join(row),
            )
        cells = {k: row[i].strip() for k, i in col.items()}

        def where(key: str, _n: int = n, _cells: dict = cells) -> dict:
            return {"source": src, "field": f"row {_n}: {colname[key]}", "value": _cells[key]}

        mid = cells["id"]
        if not mid:
            raise ZonesimInputError("expected a non-empty municipality id", **where("id"))
        if not cells["name"]:
            raise ZonesimInputError("expected a non-empty municipality name", **where("name"))
        pop = _parse_population(cells["population"], where("population"))
        if with_ages:  # one row per municipality and age (and sex, ...): add them up
            band = min(_parse_age(cells["age"], where("age")) // 5, N_AGE_BANDS - 1)
            counts = ages.setdefault(mid, [0] * N_AGE_BANDS)
            counts[band] += pop
            if mid in seen:
                k = seen[mid]
                out[k] = replace(out[k], population=out[k].population + pop)
                continue
            seen[mid] = len(out)
        elif mid in seen:
            raise ZonesimInputError(
                f"duplicate id: the same id is in row {seen[mid]} and row {n}; expected each "
                "municipality once",
                **where("id"),
            )
        else:
            seen[mid] = n
        out.append(
            Municipality(
                id=mid,
                name=cells["name"],
                population=pop,
                arrondissement=cells.get("arrondissement") or None,
                province=cells.get("province") or None,
                region=cells.get("region") or None,
                zone=cells.get("zone") or None,
            )
        )
    if not out:
        raise ZonesimInputError(
            f"no data rows after the header (row {header_line}); expected one row per municipality",
            source=src,
        )
    if with_ages:
        out = [replace(m, ages=tuple(ages[m.id])) for m in out]
    return out


# Thousands separators in a count: 529.247 (Dutch), 529,247 (English), 529 247 (French).
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:([.,' \u00a0\u202f])\d{3})(?:\1\d{3})*$")


def _parse_population(text: str, where: dict) -> int:
    expected = f"expected a whole number of inhabitants from 0 to {MUNICIPALITY_MAX:,}"
    if not text:
        raise ZonesimInputError(f"empty population; {expected}", **where)
    if _THOUSANDS_RE.match(text):
        text = re.sub(r"\D", "", text)
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise ZonesimInputError(expected, **where) from None
        if not math.isfinite(f) or not f.is_integer():
            raise ZonesimInputError(expected, **where) from None
        value = int(f)
    if not 0 <= value <= MUNICIPALITY_MAX:
        raise ZonesimInputError(expected, **where)
    return value


def _parse_age(text: str, where: dict) -> int:
    """An age in whole years (``95+`` and ``95 en ouder`` style open ends: their lower bound)."""
    m = re.match(r"^(\d{1,3})(?:\s*\+|\s+\D.*)?$", text)
    if not m:
        raise ZonesimInputError("expected an age in whole years (0, 1, ..., or 95+)", **where)
    return int(m.group(1))


# ---------------------------------------------------------------------------------------------
# Existing zonings
# ---------------------------------------------------------------------------------------------


def _check_bounds(min_pop: int, max_pop: int) -> None:
    for name, v in (("min_pop", min_pop), ("max_pop", max_pop)):
        V.check_int(v, field=name, lo=1, expected="expected a whole number of inhabitants >= 1")
    if max_pop < min_pop:
        raise ZonesimInputError(
            f"expected max_pop >= min_pop ({min_pop:,})",
            source="<argument>",
            field="max_pop",
            value=max_pop,
        )


def _large_city_note(m: Municipality, max_pop: int) -> str:
    return (
        f"large city: {m.name} ({m.population:,} inhabitants > {max_pop:,}) forms a zone "
        "on its own; declare its districts to split it"
    )


def validate_zoning(
    municipalities: Sequence[Municipality],
    min_pop: int = ZONE_MIN,
    max_pop: int = ZONE_MAX,
) -> list[Violation]:
    """Every breach of the zoning rules in the municipalities' ``zone`` values.

    Reports each zone below ``min_pop`` or above ``max_pop`` (a zone that is a single
    municipality above ``max_pop`` is the allowed large-city exception and is not reported) and
    each municipality without a zone. An empty list means the zoning is valid.
    """
    _check_bounds(min_pop, max_pop)
    out: list[Violation] = []
    zones: dict[str, list[Municipality]] = {}
    for m in municipalities:
        if m.zone:
            zones.setdefault(m.zone, []).append(m)
    for name, members in zones.items():
        pop = sum(m.population for m in members)
        if pop < min_pop:
            extra = (
                f" and below the official minimum of {OFFICIAL_MIN:,}"
                if pop < OFFICIAL_MIN <= min_pop
                else ""
            )
            out.append(
                Violation(
                    "below_min",
                    f"zone {name!r}: {pop:,} inhabitants, below the minimum of {min_pop:,}{extra}",
                    zone=name,
                    population=pop,
                )
            )
        elif pop > max_pop and not (len(members) == 1):
            out.append(
                Violation(
                    "above_max",
                    f"zone {name!r}: {pop:,} inhabitants in {len(members)} municipalities, above "
                    f"the maximum of {max_pop:,}",
                    zone=name,
                    population=pop,
                )
            )
    for m in municipalities:
        if not m.zone:
            out.append(
                Violation(
                    "no_zone",
                    f"municipality {m.id} {m.name} ({m.population:,} inhabitants) has no zone",
                    municipality=m.id,
                    population=m.population,
                )
            )
    return out


def zones_from_column(
    municipalities: Sequence[Municipality],
    min_pop: int = ZONE_MIN,
    max_pop: int = ZONE_MAX,
) -> list[Zone]:
    """The zones of an existing zoning (the ``zone`` column), in order of first appearance.

    Municipalities without a zone are left out (:func:`validate_zoning` reports them). A zone
    that is a single municipality above ``max_pop`` is flagged ``"large city: ..."``; other
    zones out of bounds are flagged ``"below minimum: ..."`` / ``"above maximum: ..."``.
    """
    _check_bounds(min_pop, max_pop)
    groups: dict[str, list[Municipality]] = {}
    for m in municipalities:
        if m.zone:
            groups.setdefault(m.zone, []).append(m)
    zones = []
    for name, members in groups.items():
        pop = sum(m.population for m in members)
        note = None
        if len(members) == 1 and pop > max_pop:
            note = _large_city_note(members[0], max_pop)
        elif pop < min_pop:
            note = f"below minimum: {pop:,} < {min_pop:,} inhabitants (existing zoning)"
        elif pop > max_pop:
            note = f"above maximum: {pop:,} > {max_pop:,} inhabitants (existing zoning)"
        zones.append(Zone(name, tuple(members), note))
    return zones


# ---------------------------------------------------------------------------------------------
# Partition
# ---------------------------------------------------------------------------------------------

_GROUP_COLUMNS = ("arrondissement", "province", "region")


@dataclass
class _Group:
    label: str
    members: list[int]  # indices into the working list
    order: int  # first member index, for deterministic choices
    kind: str = "normal"  # "normal" or "districts"
    note: str | None = None  # exception note of a districts group
    province: str | None = None
    region: str | None = None
    result: list[list[int]] = field(default_factory=list)
    violation: int = 0


def partition(
    municipalities: Sequence[Municipality],
    min_pop: int = ZONE_MIN,
    max_pop: int = ZONE_MAX,
    *,
    group_by: str | None = "arrondissement",
    adjacency: Mapping[str, Iterable[str]] | None = None,
    districts: Mapping[str, Sequence[tuple[str, int]]] | None = None,
) -> list[Zone]:
    """Group whole municipalities into zones of ``min_pop``-``max_pop`` inhabitants.

    ``group_by`` keeps the municipalities of one arrondissement (or ``"province"``,
    ``"region"``) together where the table has that column; ``None`` or ``"none"`` zones them
    all together. ``adjacency`` maps a municipality id to its neighbours' ids (made symmetric;
    unknown ids are ignored): zones are then grown over neighbours and kept contiguous.
    ``districts`` maps the id of a city above ``max_pop`` to its ``(district name,
    population)`` pairs, which must add up to the city's population: the city is then zoned as
    those districts (ids ``"<city id>/<n>"``, ``parent`` set to the city's id).

    Returns the zones in the order of their first municipality in the input; every municipality
    (or its districts) is in exactly one zone, with ``zone`` set to the zone's name. Zones are
    within bounds whenever the algorithm (see the module documentation) finds a way; every
    other zone carries an ``exception`` note. Deterministic.
    """
    _check_bounds(min_pop, max_pop)
    if group_by is not None and group_by.lower() == "none":
        group_by = None
    if group_by is not None and group_by not in _GROUP_COLUMNS:
        raise ZonesimInputError(
            f"expected one of: {', '.join(_GROUP_COLUMNS)}, none",
            source="<argument>",
            field="group_by",
            value=group_by,
        )
    munis = list(municipalities)
    ids = Counter(m.id for m in munis)
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        raise ZonesimInputError(
            "expected each municipality once",
            source="<argument>",
            field="municipalities",
            value=dup[0],
        )
    if not munis:
        return []

    # 1. Districts of large cities replace the city; other large cities are zones of their own.
    districts = dict(districts or {})
    by_id = {m.id: m for m in munis}
    for cid in districts:
        if cid not in by_id:
            raise ZonesimInputError(
                "unknown municipality id; districts must be declared for a "
                "municipality of the table",
                source="<argument>",
                field="districts",
                value=cid,
            )
    work: list[Municipality] = []
    groups: list[_Group] = []
    fixed: list[tuple[list[int], str]] = []  # (member indices, exception) of large cities
    plain: list[int] = []
    for m in munis:
        if m.id in districts:
            parts = _district_parts(m, districts[m.id], max_pop)
            start = len(work)
            work.extend(parts)
            note = (
                f"districts of {m.name}: {m.population:,} inhabitants > {max_pop:,}, "
                "split into declared districts"
            )
            groups.append(
                _Group(
                    f"{m.name} districts",
                    list(range(start, len(work))),
                    start,
                    kind="districts",
                    note=note,
                )
            )
        elif m.population > max_pop:
            fixed.append(([len(work)], _large_city_note(m, max_pop)))
            work.append(m)
        else:
            plain.append(len(work))
            work.append(m)
    pops = np.array([m.population for m in work], dtype=np.int64)

    # Adjacency over the working list (districts have none).
    adj: list[set[int]] | None = None
    if adjacency is not None:
        index = {m.id: i for i, m in enumerate(work) if m.parent is None}
        adj = [set() for _ in work]
        for a, nbs in adjacency.items():
            if a not in index:
                continue
            for b in nbs:
                if b in index and b != a:
                    adj[index[a]].add(index[b])
                    adj[index[b]].add(index[a])

    # 2. Groups of the remaining municipalities.
    normal = _make_groups(work, plain, group_by)
    ctx = _Ctx(pops, int(min_pop), int(max_pop), adj)
    normal = _merge_infeasible(normal, ctx)
    # 3. Split each group.
    for g in [*groups, *normal]:
        g.result, g.violation = ctx.split(g.members, use_adj=g.kind == "normal")
    # 4. Re-try groups out of bounds merged with a neighbour.
    normal = _merge_violating(normal, ctx)

    # Build the zones.
    raw: list[tuple[list[int], str, str | None]] = []
    for members, note in fixed:
        raw.append((members, work[members[0]].name, note))
    for g in [*groups, *normal]:
        parts = sorted((sorted(z) for z in g.result), key=lambda z: z[0])
        # Without grouping: "Zone 01", "Zone 02"...; else "<arrondissement> 1"... (one: its name).
        width = max(2, len(str(len(parts)))) if g.label == "Zone" else 0
        for i, z in enumerate(parts, 1):
            if len(parts) == 1 and not width:
                name = g.label
            else:
                name = f"{g.label} {i:0{width}d}" if width else f"{g.label} {i}"
            pop = int(pops[z].sum())
            note = g.note
            if g.kind == "districts" and len(z) == 1 and pop > max_pop:
                note = (
                    f"large district: {work[z[0]].name} ({pop:,} inhabitants > "
                    f"{max_pop:,}) forms a zone on its own"
                )
            elif pop < min_pop:
                note = _join(
                    note,
                    f"below minimum: {pop:,} < {min_pop:,} inhabitants; no "
                    f"grouping of {g.label} within bounds was found",
                )
            elif pop > max_pop:
                note = _join(
                    note,
                    f"above maximum: {pop:,} > {max_pop:,} inhabitants; no "
                    f"grouping of {g.label} within bounds was found",
                )
            raw.append((z, name, note))
    raw.sort(key=lambda t: t[0][0])
    used: Counter[str] = Counter()
    zones = []
    for members, name, note in raw:
        used[name] += 1
        if used[name] > 1:
            name = f"{name} ({used[name]})"
        zones.append(Zone(name, tuple(replace(work[i], zone=name) for i in members), note))
    return zones


def _join(a: str | None, b: str) -> str:
    return b if a is None else f"{a}; {b}"


def _district_parts(
    m: Municipality, parts: Sequence[tuple[str, int]], max_pop: int
) -> list[Municipality]:
    where = {"source": "<argument>", "field": f"districts[{m.id!r}]"}
    if m.population <= max_pop:
        raise ZonesimInputError(
            f"districts may only be declared for a city above the maximum ({max_pop:,}); "
            f"{m.name} has {m.population:,} inhabitants and is indivisible",
            value=m.id,
            **where,
        )
    if not parts:
        raise ZonesimInputError(
            "expected a list of (district name, population)", value=parts, **where
        )
    out = []
    names = set()
    for k, item in enumerate(parts, 1):
        try:
            dname, dpop = item
        except (TypeError, ValueError):
            raise ZonesimInputError(
                "expected (district name, population) pairs", value=item, **where
            ) from None
        if not isinstance(dname, str) or not dname.strip() or dname in names:
            raise ZonesimInputError(
                "expected a non-empty, unique district name", value=dname, **where
            )
        dpop = V.check_int(
            dpop, lo=0, expected="expected a whole number of inhabitants >= 0", **where
        )
        names.add(dname)
        out.append(
            Municipality(
                id=f"{m.id}/{k}",
                name=f"{m.name}: {dname}",
                population=int(dpop),
                arrondissement=m.arrondissement,
                province=m.province,
                region=m.region,
                parent=m.id,
            )
        )
    total = sum(d.population for d in out)
    if total != m.population:
        raise ZonesimInputError(
            f"district populations add up to {total:,}; expected the city's {m.population:,}",
            value=[(d.name, d.population) for d in out],
            **where,
        )
    return out


def _make_groups(work: list[Municipality], plain: list[int], group_by: str | None) -> list[_Group]:
    keys = {i: (getattr(work[i], group_by) if group_by else None) for i in plain}
    if group_by is None or all(k is None for k in keys.values()):
        if not plain:
            return []
        return [
            _Group(
                "Zone",
                list(plain),
                plain[0],
                province=_common(work, plain, "province"),
                region=_common(work, plain, "region"),
            )
        ]
    by: dict[str | None, list[int]] = {}
    for i in plain:
        by.setdefault(keys[i], []).append(i)
    out = []
    for key, members in by.items():
        label = key if key is not None else f"(no {group_by})"
        out.append(
            _Group(
                label,
                members,
                members[0],
                province=_common(work, members, "province"),
                region=_common(work, members, "region"),
            )
        )
    return out


def _common(work: list[Municipality], members: list[int], attr: str) -> str | None:
    c = Counter(getattr(work[i], attr) for i in members if getattr(work[i], attr))
    return c.most_common(1)[0][0] if c else None


def _feasible_total(total: int, lo: int, hi: int) -> bool:
    return total > 0 and -(-total // hi) <= total // lo


def _neighbour(g: _Group, others: list[_Group], ctx: _Ctx) -> _Group | None:
    """The group ``g`` merges with: adjacent, same province, same region, smallest first."""
    others = [o for o in others if o is not g]
    if not others:
        return None
    pools: list[list[_Group]] = []
    if ctx.adj is not None:
        mine = set(g.members)
        touching = [o for o in others if any(ctx.adj[i] & mine for i in o.members)]
        pools += [[o for o in touching if g.province and o.province == g.province], touching]
    pools += [
        [o for o in others if g.province and o.province == g.province],
        [o for o in others if g.region and o.region == g.region],
        others,
    ]
    pool = next(p for p in pools if p)
    return min(pool, key=lambda o: (ctx.total(o.members), o.order))


def _merged(a: _Group, b: _Group) -> _Group:
    first, second = sorted((a, b), key=lambda g: g.order)
    return _Group(
        f"{first.label} + {second.label}",
        sorted(first.members + second.members),
        first.order,
        province=first.province if first.province == second.province else None,
        region=first.region if first.region == second.region else None,
    )


def _merge_infeasible(groups: list[_Group], ctx: _Ctx) -> list[_Group]:
    groups = list(groups)
    while len(groups) > 1:
        bad = [g for g in groups if not _feasible_total(ctx.total(g.members), ctx.lo, ctx.hi)]
        if not bad:
            break
        g = min(bad, key=lambda g: (ctx.total(g.members), g.order))
        nb = _neighbour(g, groups, ctx)
        assert nb is not None
        m = _merged(g, nb)
        groups = sorted(
            [x for x in groups if x is not g and x is not nb] + [m], key=lambda x: x.order
        )
    return groups


def _merge_violating(groups: list[_Group], ctx: _Ctx) -> list[_Group]:
    groups = list(groups)
    changed = True
    while changed:
        changed = False
        for g in groups:
            if g.violation == 0:
                continue
            nb = _neighbour(g, groups, ctx)
            if nb is None:
                continue
            m = _merged(g, nb)
            m.result, m.violation = ctx.split(m.members, use_adj=True)
            if m.violation < g.violation + nb.violation:
                groups = sorted(
                    [x for x in groups if x is not g and x is not nb] + [m], key=lambda x: x.order
                )
                changed = True
                break
    return groups


class _Ctx:
    """Splits one group of municipalities into zones (greedy start, then local repair)."""

    MAX_K_TRIED = 4
    STARTS_WITH_ADJACENCY = 4  # growth restarts from other first seeds while out of bounds

    def __init__(self, pops: np.ndarray, lo: int, hi: int, adj: list[set[int]] | None):
        self.pops, self.lo, self.hi, self.adj = pops, lo, hi, adj

    def total(self, members: list[int]) -> int:
        return int(self.pops[members].sum())

    def viol(self, x):
        return np.maximum(self.lo - x, 0) + np.maximum(x - self.hi, 0)

    def split(self, members: list[int], use_adj: bool) -> tuple[list[list[int]], int]:
        """Zones (lists of member indices) and their total violation (inhabitants)."""
        members = list(members)
        w = self.pops[members]
        n, total = len(members), int(w.sum())
        lo, hi = self.lo, self.hi
        kmin, kmax = max(1, -(-total // hi)), min(n, total // lo)
        ks = list(range(kmin, kmax + 1))
        if not ks:  # no k fits: the k that misses by least
            ks = sorted({max(1, min(n, total // lo)), max(1, min(n, -(-total // hi)))})
        mid = (lo + hi) / 2
        ks.sort(key=lambda k: (abs(total / k - mid), k))
        local_adj = None
        if use_adj and self.adj is not None:
            pos = {g: i for i, g in enumerate(members)}
            local_adj = [{pos[j] for j in self.adj[g] if j in pos} for g in members]
        best: tuple[int, np.ndarray] | None = None
        starts = self.STARTS_WITH_ADJACENCY if local_adj is not None else 1
        for k in ks[: self.MAX_K_TRIED]:
            for start in range(starts):
                assign = _Split(w, k, lo, hi, local_adj, start=start).run()
                tot = np.bincount(assign, weights=w, minlength=k)
                v = int(self.viol(tot.astype(np.int64)).sum())
                if best is None or v < best[0]:
                    best = (v, assign)
                if v == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        v, assign = best
        zones = [[members[i] for i in range(n) if assign[i] == z] for z in range(assign.max() + 1)]
        return [z for z in zones if z], v


class _Split:
    """One attempt: k zones over the weights ``w`` (local indices), optionally contiguous."""

    def __init__(
        self,
        w: np.ndarray,
        k: int,
        lo: int,
        hi: int,
        adj: list[set[int]] | None,
        start: int = 0,
    ):
        self.start = start  # which municipality seeds the first zone: the start-th largest
        self.w = w.astype(np.int64)
        self.n, self.k, self.lo, self.hi = len(w), k, lo, hi
        self.adj = adj if adj is not None and any(adj) else None
        self.free = np.ones(self.n, dtype=bool)
        if self.adj is not None:
            # Vertices in a connected piece too small to be a zone are "free": they may join
            # any zone and do not count for contiguity (enclaves, exclaves, islands).
            for comp in self._components(range(self.n)):
                if int(self.w[comp].sum()) >= lo:
                    self.free[comp] = False

    # -- helpers -----------------------------------------------------------------------------

    def _components(self, nodes: Iterable[int]) -> list[list[int]]:
        nodes = set(nodes)
        seen: set[int] = set()
        comps = []
        for s in sorted(nodes):
            if s in seen:
                continue
            stack, comp = [s], []
            seen.add(s)
            while stack:
                v = stack.pop()
                comp.append(v)
                for u in self.adj[v]:
                    if u in nodes and u not in seen:
                        seen.add(u)
                        stack.append(u)
            comps.append(comp)
        return comps

    def _pieces(self, nodes: Iterable[int]) -> int:
        return len(self._components(i for i in nodes if not self.free[i]))

    def _viol(self, x):
        return np.maximum(self.lo - x, 0) + np.maximum(x - self.hi, 0)

    # -- start -------------------------------------------------------------------------------

    def _lpt(self, assign: np.ndarray, tot: np.ndarray, items: Iterable[int]) -> None:
        for i in sorted(items, key=lambda i: (-self.w[i], i)):
            z = int(np.argmin(tot))
            assign[i] = z
            tot[z] += self.w[i]

    def _grow(self, assign: np.ndarray, tot: np.ndarray) -> None:
        bound = [i for i in range(self.n) if not self.free[i]]
        if not bound:
            return
        inf = self.n + 1

        def bfs(s: int) -> np.ndarray:
            d = np.full(self.n, inf)
            d[s] = 0
            frontier = [s]
            while frontier:
                nxt = []
                for v in frontier:
                    for u in self.adj[v]:
                        if d[u] == inf and not self.free[u]:
                            d[u] = d[v] + 1
                            nxt.append(u)
                frontier = nxt
            return d

        by_size = sorted(bound, key=lambda i: (-self.w[i], i))
        seeds = [by_size[self.start % len(by_size)]]
        dist = bfs(seeds[0])
        while len(seeds) < min(self.k, len(bound)):
            s = max((i for i in bound if i not in seeds), key=lambda i: (dist[i], self.w[i], -i))
            seeds.append(s)
            dist = np.minimum(dist, bfs(s))
        for z, s in enumerate(seeds):
            assign[s] = z
            tot[z] += self.w[s]
        while True:
            grown = False
            for z in np.argsort(tot, kind="stable"):
                members = np.flatnonzero(assign == z)
                cand = {
                    u for v in members for u in self.adj[v] if assign[u] < 0 and not self.free[u]
                }
                if cand:
                    u = max(
                        cand,
                        key=lambda u: (sum(assign[x] == z for x in self.adj[u]), self.w[u], -u),
                    )
                    assign[u] = z
                    tot[z] += self.w[u]
                    grown = True
                    break
            if not grown:
                break

    # -- repair ------------------------------------------------------------------------------

    def run(self) -> np.ndarray:
        k, w = self.k, self.w
        assign = np.full(self.n, -1, dtype=np.int64)
        tot = np.zeros(k, dtype=np.int64)
        if self.adj is not None:
            self._grow(assign, tot)
        self._lpt(assign, tot, np.flatnonzero(assign < 0))
        target = w.sum() / k
        for _ in range(20 * self.n + 100):
            if int(self._viol(tot).sum()) == 0:
                break
            if not self._step(assign, tot, target):
                break
        return assign

    def _step(self, assign: np.ndarray, tot: np.ndarray, target: float) -> bool:
        """Take the best improving move or swap; False if there is none."""
        w, k = self.w, self.k
        a = assign
        count = np.bincount(a, minlength=k)
        v_now = self._viol(tot)
        s_now = (tot - target) ** 2
        # Moves: item i from zone a[i] to zone b.
        src_new = tot[a] - w
        dst_new = tot[None, :] + w[:, None]
        dv_m = (self._viol(src_new) - v_now[a])[:, None] + self._viol(dst_new) - v_now[None, :]
        ds_m = (
            ((src_new - target) ** 2 - s_now[a])[:, None] + (dst_new - target) ** 2 - s_now[None, :]
        )
        ok_m = (np.arange(k)[None, :] != a[:, None]) & (count[a] > 1)[:, None]
        # Swaps: item i (zone a[i]) with item j (zone a[j]).
        diff = w[None, :] - w[:, None]  # w[j] - w[i]
        ai_new = tot[a][:, None] + diff
        aj_new = tot[a][None, :] - diff
        dv_s = self._viol(ai_new) + self._viol(aj_new) - v_now[a][:, None] - v_now[a][None, :]
        ds_s = (
            (ai_new - target) ** 2 + (aj_new - target) ** 2 - s_now[a][:, None] - s_now[a][None, :]
        )
        ok_s = (a[:, None] != a[None, :]) & (diff != 0) & np.triu(np.ones_like(diff, bool), 1)
        if self.adj is not None:
            touch = np.zeros((self.n, k), dtype=bool)
            for i in range(self.n):
                if self.free[i]:
                    touch[i, :] = True
                else:
                    for u in self.adj[i]:
                        touch[i, a[u]] = True
            ok_m &= touch
            ok_s &= touch[:, a].T & touch[:, a]  # i touches a[j] and j touches a[i]
        eps = 1e-9
        cands = []
        for kind, dv, ds, ok in (("m", dv_m, ds_m, ok_m), ("s", dv_s, ds_s, ok_s)):
            good = ok & ((dv < 0) | ((dv == 0) & (ds < -eps)))
            ii, jj = np.nonzero(good)
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                cands.append((int(dv[i, j]), float(ds[i, j]), kind, i, j))
        if not cands:
            return False
        cands.sort()
        for _dv, _ds, kind, i, j in cands[:200]:
            if kind == "m":
                src, dst = int(a[i]), j
                changes = [(i, dst)]
            else:
                src, dst = int(a[i]), int(a[j])
                changes = [(i, dst), (j, src)]
            if self.adj is not None and not self._contiguous_after(a, src, dst, changes):
                continue
            for item, z in changes:
                tot[a[item]] -= w[item]
                tot[z] += w[item]
                a[item] = z
            return True
        return False

    def _contiguous_after(
        self, a: np.ndarray, src: int, dst: int, changes: list[tuple[int, int]]
    ) -> bool:
        new = a.copy()
        for item, z in changes:
            new[item] = z
        for z in (src, dst):
            if self._pieces(np.flatnonzero(new == z)) > self._pieces(np.flatnonzero(a == z)):
                return False
        return True


# ---------------------------------------------------------------------------------------------
# Synthetic municipalities
# ---------------------------------------------------------------------------------------------

# Size distribution of Flemish municipalities (2020, MODEL.md section 6): a lognormal body below
# THRESHOLD spliced with a Pareto tail above it, truncated at CAP. TAIL_SHARE is the observed
# share above the threshold (24 of 300), TAIL_ALPHA the Hill estimate of the tail index above it,
# BODY_MU/BODY_SIGMA were fitted by minimising the Kolmogorov-Smirnov distance between the
# spliced distribution and the 300 Flemish sizes (distance 0.025; model median 15,457 against
# 15,037 observed). CAP keeps the largest municipality of a synthetic region plausible (Belgium's
# largest is 529,247).
SIZE_THRESHOLD = 40_000.0
SIZE_TAIL_SHARE = 0.08
SIZE_TAIL_ALPHA = 1.81
SIZE_BODY_MU = 9.628
SIZE_BODY_SIGMA = 0.619
SIZE_CAP = 1_000_000.0


def _size_quantile(u: float) -> float:
    """Inverse distribution function of the spliced lognormal-Pareto municipality size."""
    body = NormalDist(SIZE_BODY_MU, SIZE_BODY_SIGMA)
    p_body = 1.0 - SIZE_TAIL_SHARE
    if u < p_body:
        f_thr = body.cdf(math.log(SIZE_THRESHOLD))
        q = min(max(u / p_body * f_thr, 1e-12), 1 - 1e-12)
        return math.exp(body.inv_cdf(q))
    v = (u - p_body) / SIZE_TAIL_SHARE
    f_cap = 1.0 - (SIZE_THRESHOLD / SIZE_CAP) ** SIZE_TAIL_ALPHA
    return SIZE_THRESHOLD * (1.0 - v * f_cap) ** (-1.0 / SIZE_TAIL_ALPHA)


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers >= 1 proportional to ``weights`` that add up to ``total`` exactly."""
    n = len(weights)
    spare = total - n
    share = weights / weights.sum() * spare
    out = np.floor(share).astype(np.int64)
    left = spare - int(out.sum())
    order = np.lexsort((np.arange(n), -(share - out)))  # largest remainder, then index
    out[order[:left]] += 1
    return out + 1


def synthetic_region(
    n_municipalities: int | None = None,
    total_population: int | None = None,
    seed: int = 2020,
) -> list[Municipality]:
    """A synthetic region with Flanders' heavy-tailed municipality sizes.

    Sizes follow a lognormal body spliced with a Pareto tail fitted to the 300 Flemish
    municipalities of 2020 (median about 15,000, a few large cities); the quantiles are drawn
    stratified (one uniform per 1/n slice, then shuffled), so even a small sample covers the
    distribution. ``n_municipalities`` defaults to 300; ``total_population`` (if given) rescales
    the sizes to that exact total with every municipality >= 1 inhabitant, else the sizes are
    as drawn (about 6.6 million for 300). Deterministic from ``seed`` (a numpy Generator from a
    SeedSequence). Names are ``"Gemeente 01"``..., ids ``"S0001"``...
    """
    n = FLANDERS_MUNICIPALITIES if n_municipalities is None else n_municipalities
    n = V.check_int(
        n, field="n_municipalities", lo=1, expected="expected a whole number of municipalities >= 1"
    )
    seed = V.check_int(seed, field="seed", lo=0, expected="expected a whole number >= 0")
    if total_population is not None:
        total_population = V.check_int(
            total_population,
            field="total_population",
            lo=n,
            expected=f"expected a whole number of inhabitants >= the number of municipalities "
            f"({n}), so that each has at least one inhabitant",
        )
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    u = (np.arange(n) + rng.random(n)) / n
    rng.shuffle(u)
    sizes = np.array([_size_quantile(float(x)) for x in u])
    if total_population is None:
        pops = np.maximum(1, np.rint(sizes)).astype(np.int64)
    else:
        pops = _apportion(sizes, int(total_population))
    wn, wi = max(2, len(str(n))), max(4, len(str(n)))
    return [
        Municipality(id=f"S{i:0{wi}d}", name=f"Gemeente {i:0{wn}d}", population=int(p))
        for i, p in enumerate(pops.tolist(), 1)
    ]


# ---------------------------------------------------------------------------------------------
# The zone of a run
# ---------------------------------------------------------------------------------------------


def _pick_zone(zones: list[Zone], name: str, *, source: str | None, field: str) -> Zone:
    for z in zones:
        if z.name == name:
            return z
    names = [z.name for z in zones]
    shown = ", ".join(names[:30]) + (f", ... ({len(names)} zones)" if len(names) > 30 else "")
    raise ZonesimInputError(
        f"unknown zone; expected one of: {shown}", source=source, field=field, value=name
    )


def zone_from_config(zone_cfg: ZoneConfig, *, base_dir: str | Path | None = None) -> Zone:
    """The zone a run simulates, as its configuration describes it.

    Without ``municipalities_csv``: a synthetic zone called ``zone_cfg.name`` of
    ``n_municipalities`` municipalities with Flanders-like sizes (seed ``geography_seed``)
    adding up to exactly ``population``. With a CSV (a relative path is taken relative to
    ``base_dir`` when given): its ``zone`` column if it has one, else :func:`partition` of the
    table, and the zone named ``zone_id`` (the first zone when empty); the CSV's populations
    then replace ``zone_cfg.population``.

    The municipalities keep a stable order (the table's, or the generator's); the population
    builder indexes them 0..M-1 in that order. An unknown ``zone_id`` or a zone without
    inhabitants raises :class:`~zonesim.errors.ZonesimInputError`.
    """
    csv_path = (zone_cfg.municipalities_csv or "").strip()
    if not csv_path:
        if zone_cfg.population < 1:
            raise ZonesimInputError(
                "expected a zone with at least one inhabitant",
                field="zone.population",
                value=zone_cfg.population,
            )
        if zone_cfg.population < zone_cfg.n_municipalities:
            raise ZonesimInputError(
                f"expected at least one inhabitant per municipality "
                f"(zone.n_municipalities = {zone_cfg.n_municipalities})",
                field="zone.population",
                value=zone_cfg.population,
            )
        munis = synthetic_region(
            zone_cfg.n_municipalities, zone_cfg.population, seed=zone_cfg.geography_seed
        )
        name = zone_cfg.name
        munis = [replace(m, zone=name) for m in munis]
        note = None
        if not ZONE_MIN <= zone_cfg.population <= ZONE_MAX:
            note = (
                f"synthetic zone of {zone_cfg.population:,} inhabitants, outside the design "
                f"range {ZONE_MIN:,}-{ZONE_MAX:,}"
            )
        return Zone(name, tuple(munis), note)
    path = Path(csv_path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    munis = load_municipalities(path)
    if any(m.zone for m in munis):
        zones = zones_from_column(munis)
    else:
        zones = partition(munis)
    if zone_cfg.zone_id:
        zone = _pick_zone(zones, zone_cfg.zone_id, source=str(path), field="zone.zone_id")
    else:
        zone = zones[0]
    if zone.population == 0:
        raise ZonesimInputError(
            "the zone has no inhabitants; expected a zone with people in it",
            source=str(path),
            field="zone.zone_id",
            value=zone.name,
        )
    if zone.population > SIMULATED_ZONE_MAX:
        raise ZonesimInputError(
            f"the zone has {zone.population:,} inhabitants; expected at most "
            f"{SIMULATED_ZONE_MAX:,} in one simulated zone (simulate a larger area as a "
            "Region of several zones)",
            source=str(path),
            field="zone.zone_id",
            value=zone.name,
        )
    return zone


def _config_dir(config: Config) -> Path | None:
    src = Path(str(config.source))
    return src.parent if src.is_file() else None


def municipalities_csv_path(config: Config) -> Path | None:
    """The municipality table ``config`` simulates (an absolute path), or None (synthetic)."""
    csv = (config.zone.municipalities_csv or "").strip()
    if not csv:
        return None
    path = Path(csv)
    base = _config_dir(config)
    if base is not None and not path.is_absolute():
        path = base / path
    return path.absolute()


def zone_of_config(config: Config) -> Zone:
    """:func:`zone_from_config` of ``config.zone``, a relative CSV path taken relative to the
    configuration file; errors without a source name that file."""
    try:
        return zone_from_config(config.zone, base_dir=_config_dir(config))
    except ZonesimInputError as exc:
        if exc.source is not None:
            raise
        raise ZonesimInputError(
            exc.expected, source=str(config.source), field=exc.field, value=exc.value
        ) from None


def settle_zone_population(config: Config, *, requested: int | None = None) -> Config:
    """``config`` with ``zone.population`` equal to the inhabitants the run will simulate.

    A synthetic zone simulates ``zone.population`` itself: ``config`` comes back unchanged. A
    zone from a municipality CSV simulates the CSV's inhabitants: ``zone.population`` is set to
    them, so every header, figure title, budget and saved configuration states the true
    population. A population asked for (``requested``, or a ``zone.population`` other than the
    default) that the CSV overrides is reported with a :class:`UserWarning`, not dropped
    silently.
    """
    zc = config.zone
    if not (zc.municipalities_csv or "").strip():
        return config
    zone = zone_of_config(config)
    true = zone.population
    ignored = None
    if requested is not None and requested != true:
        ignored = requested
    elif zc.population not in (true, ZoneConfig().population):
        ignored = zc.population
    if ignored is not None:
        import warnings

        warnings.warn(
            f"population {ignored:,} is ignored: the zone comes from "
            f"{zc.municipalities_csv} ({zone.name}, {true:,} inhabitants), which sets it",
            UserWarning,
            stacklevel=3,
        )
    if zc.population == true:
        return config
    return replace(config, zone=replace(zc, population=true))
