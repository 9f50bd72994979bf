"""Municipalities, zones and regions: loader, partition, validation, synthetic generator."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonesim import geography as geo
from zonesim.config import ZoneConfig
from zonesim.errors import ZonesimInputError
from zonesim.geography import (
    Municipality,
    Region,
    Zone,
    load_municipalities,
    partition,
    synthetic_region,
    validate_zoning,
    zone_from_config,
    zones_from_column,
)

# The public reference table lives next to the repository (../shared/data), never inside it.
REAL_CSV = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "belgian_municipalities_2020.csv"
)
FLANDERS = "Vlaams Gewest"


@pytest.fixture(scope="module")
def real() -> list[Municipality]:
    if not REAL_CSV.is_file():
        pytest.skip(f"reference table {REAL_CSV} is absent")
    return load_municipalities(REAL_CSV)


@pytest.fixture(scope="module")
def flanders(real) -> list[Municipality]:
    return [m for m in real if m.region == FLANDERS]


def munis(sizes, **attrs) -> list[Municipality]:
    return [
        Municipality(id=f"M{i:03d}", name=f"Town {i}", population=int(p), **attrs)
        for i, p in enumerate(sizes)
    ]


def write(tmp_path: Path, text: str | bytes, name: str = "m.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def assert_conserved(zones: list[Zone], source: list[Municipality]) -> None:
    """Every municipality (or its districts) in exactly one zone; every inhabitant counted."""
    members = [m for z in zones for m in z.municipalities]
    ids = [m.id for m in members]
    assert len(ids) == len(set(ids))
    whole = Counter(m.parent or m.id for m in members)
    pop_by_id: Counter[str] = Counter()
    for m in members:
        pop_by_id[m.parent or m.id] += m.population
    assert set(whole) == {m.id for m in source}
    assert all(pop_by_id[m.id] == m.population for m in source)
    assert sum(z.population for z in zones) == sum(m.population for m in source)
    # A municipality is indivisible: only declared districts share a parent.
    assert all(c == 1 for i, c in whole.items() if not any(m.parent == i for m in members))


def assert_bounds_or_flagged(zones: list[Zone], lo: int, hi: int) -> None:
    for z in zones:
        assert lo <= z.population <= hi or z.exception, (z.name, z.population)


# ---------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------


def test_entities():
    ms = munis([10, 20, 30], region="R")
    z = Zone("Z", ms)
    assert isinstance(z.municipalities, tuple)
    assert z.population == 60 and len(z) == 3 and z.id == "Z" and z.exception is None
    r = Region("R", [z, Zone("Y", munis([5]))])
    assert r.population == 65 and len(r.municipalities) == 4
    assert r.zone("Y").population == 5
    with pytest.raises(ZonesimInputError, match="unknown zone"):
        r.zone("nope")
    with pytest.raises(ZonesimInputError):
        Municipality("x", "X", -1)
    with pytest.raises(ZonesimInputError):
        Municipality("", "X", 1)
    with pytest.raises(ZonesimInputError):
        Municipality("x", " ", 1)
    regions = geo.regions_of([z, Zone("N", munis([1]))])
    assert [rg.name for rg in regions] == ["R", "Region"]


# ---------------------------------------------------------------------------------------------
# Loader
# ---------------------------------------------------------------------------------------------


def test_load_plain(tmp_path):
    p = write(tmp_path, "id,name,population\n1,Aa,100\n2,Bb,200\n\n")
    ms = load_municipalities(p)
    assert [(m.id, m.name, m.population) for m in ms] == [("1", "Aa", 100), ("2", "Bb", 200)]
    assert ms[0].arrondissement is None and ms[0].zone is None


def test_load_aliases_semicolon_bom_and_optional_columns(tmp_path):
    text = (
        "\ufeffNIS_code;municipality_NL;inhabitants;arrondissement_NL;province_NL;region_NL;"
        "zone;extra\n"
        "11001;Aartselaar;14427;Antwerpen;Antwerpen;Vlaams Gewest;Z1;x\n"
        '11002;"Sint-Jan; oud";529247.0;Antwerpen;;Vlaams Gewest;;y\n'
    )
    ms = load_municipalities(write(tmp_path, text))
    assert ms[0] == Municipality(
        "11001", "Aartselaar", 14427, "Antwerpen", "Antwerpen", "Vlaams Gewest", "Z1"
    )
    assert ms[1].name == "Sint-Jan; oud" and ms[1].population == 529247
    assert ms[1].province is None and ms[1].zone is None


BAD = {
    "missing column": ("id,name,people\n1,A,5\n", ["'population'", "columns found: id, name"]),
    "duplicate id": ("id,name,population\n7,A,5\n8,B,6\n7,C,7\n", ["'7'", "row 2", "row 4"]),
    "text population": ("id,name,population\n1,A,many\n", ["row 2: population", "many"]),
    "negative population": ("id,name,population\n1,A,5\n2,B,-3\n", ["row 3: population", "-3"]),
    "fractional population": ("id,name,population\n1,A,5.5\n", ["row 2: population"]),
    "empty population": ("id,name,population\n1,A,\n", ["row 2: population"]),
    "empty id": ("id,name,population\n ,A,5\n", ["row 2: id"]),
    "empty name": ("id,name,population\n1,,5\n", ["row 2: name"]),
    "ragged row": ("id,name,population\n1,A,5,9\n", ["row 2", "expected 3 fields"]),
    "empty file": ("", ["empty file"]),
    "blank file": ("  \n\n", ["empty file"]),
    "no data rows": ("id,name,population\n", ["no data rows"]),
    "wrong encoding": (
        "id,name,population\n1,Liège,5\n".encode("latin-1"),
        ["utf-8", "row 2", "0xe8"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_csv(tmp_path, case):
    text, fragments = BAD[case]
    p = write(tmp_path, text, name=f"{case.replace(' ', '_')}.csv")
    with pytest.raises(ZonesimInputError) as info:
        load_municipalities(p)
    msg = str(info.value)
    assert str(p) in msg and info.value.source == str(p)
    for frag in fragments:
        assert frag in msg, (frag, msg)
    assert "\n" not in msg


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ZonesimInputError, match="file not found"):
        load_municipalities(tmp_path / "nope.csv")
    with pytest.raises(ZonesimInputError, match="folder"):
        load_municipalities(tmp_path)


# ---------------------------------------------------------------------------------------------
# Partition
# ---------------------------------------------------------------------------------------------


def test_partition_small_towns_within_bounds_and_deterministic():
    rng = np.random.default_rng(1)
    ms = munis(rng.integers(2_000, 20_000, size=80))
    zones = partition(ms, group_by=None)
    assert_conserved(zones, ms)
    assert all(75_000 <= z.population <= 125_000 and z.exception is None for z in zones)
    assert zones == partition(ms, group_by=None)
    assert len({z.name for z in zones}) == len(zones)
    assert zones[0].name == "Zone 01"
    for z in zones:  # members know their zone and keep the input order
        assert all(m.zone == z.name for m in z.municipalities)
        ids = [m.id for m in z.municipalities]
        assert ids == sorted(ids)
    firsts = [z.municipalities[0].id for z in zones]
    assert firsts == sorted(firsts)


def test_partition_empty_and_bad_arguments():
    assert partition([]) == []
    ms = munis([80_000])
    with pytest.raises(ZonesimInputError, match="max_pop"):
        partition(ms, 100, 50)
    with pytest.raises(ZonesimInputError, match="min_pop"):
        partition(ms, 0, 50)
    with pytest.raises(ZonesimInputError, match="group_by"):
        partition(ms, group_by="postcode")
    with pytest.raises(ZonesimInputError, match="once"):
        partition([*ms, *ms])


def test_large_city_is_flagged_not_silent():
    ms = munis([300_000, 50_000, 40_000, 30_000])
    zones = partition(ms, group_by=None)
    assert_conserved(zones, ms)
    city = next(z for z in zones if z.municipalities[0].id == "M000")
    assert len(city) == 1 and city.exception.startswith("large city: Town 0")
    assert city.name == "Town 0"
    rest = [z for z in zones if z is not city]
    assert [z.population for z in rest] == [120_000] and rest[0].exception is None


def test_districts_split_a_large_city():
    ms = munis([300_000, 50_000, 40_000, 30_000])
    parts = [("North", 100_000), ("South", 90_000), ("East", 60_000), ("West", 50_000)]
    zones = partition(ms, group_by=None, districts={"M000": parts})
    assert_conserved(zones, ms)
    dz = [z for z in zones if any(m.parent == "M000" for m in z.municipalities)]
    assert len(dz) >= 2
    for z in dz:
        assert 75_000 <= z.population <= 125_000
        assert z.exception.startswith("districts of Town 0")
        assert all(m.parent == "M000" for m in z.municipalities)  # districts zone apart
    names = {m.name for z in dz for m in z.municipalities}
    assert names == {f"Town 0: {d}" for d, _ in parts}


@pytest.mark.parametrize(
    ("districts", "match"),
    [
        ({"M000": [("A", 100_000), ("B", 1)]}, "add up to"),
        ({"nope": [("A", 1)]}, "unknown municipality id"),
        ({"M001": [("A", 25_000), ("B", 25_000)]}, "indivisible"),
        ({"M000": []}, "district name"),
        ({"M000": [("A", 150_000), ("A", 150_000)]}, "unique district name"),
        ({"M000": [("A", -1), ("B", 300_001)]}, "whole number"),
    ],
)
def test_bad_districts(districts, match):
    with pytest.raises(ZonesimInputError, match=match):
        partition(munis([300_000, 50_000]), districts=districts)


def test_large_district_is_its_own_flagged_zone():
    ms = munis([400_000])
    zones = partition(ms, districts={"M000": [("Core", 200_000), ("A", 100_000), ("B", 100_000)]})
    assert_conserved(zones, ms)
    core = next(z for z in zones if z.municipalities[0].name == "Town 0: Core")
    assert len(core) == 1 and core.exception.startswith("large district")


def test_arrondissements_kept_together_and_small_one_merged_in_province():
    a = [Municipality(f"A{i}", f"A{i}", 20_000, "ArrA", "P1", "R") for i in range(8)]
    b = [Municipality(f"B{i}", f"B{i}", 25_000, "ArrB", "P2", "R") for i in range(8)]
    c = [Municipality(f"C{i}", f"C{i}", 10_000, "ArrC", "P1", "R") for i in range(3)]
    ms = a + b + c
    zones = partition(ms)
    assert_conserved(zones, ms)
    assert all(z.exception is None for z in zones)
    for z in zones:
        arrs = {m.arrondissement for m in z.municipalities}
        # ArrC (30,000: too small for a zone) joins ArrA, its neighbour in province P1.
        assert arrs in ({"ArrB"}, {"ArrA", "ArrC"}, {"ArrA"}, {"ArrC"})
    b_zones = [z for z in zones if {m.arrondissement for m in z.municipalities} == {"ArrB"}]
    assert sum(z.population for z in b_zones) == 200_000
    ac = [z for z in zones if z not in b_zones]
    assert sum(z.population for z in ac) == 190_000 and len(ac) == 2
    assert [z.name for z in ac] == ["ArrA + ArrC 1", "ArrA + ArrC 2"]
    # Without grouping the same towns are zoned regardless of arrondissement.
    assert_conserved(partition(ms, group_by="none"), ms)


def test_impossible_zone_is_flagged():
    ms = munis([60_000])
    (z,) = partition(ms)
    assert z.exception.startswith("below minimum: 60,000 < 75,000")
    # Two lumps of 70,000 cannot make zones of 75,000-125,000 either way.
    zones = partition(munis([70_000, 70_000]), group_by=None)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    assert any(z.exception for z in zones)


def test_custom_bounds():
    ms = munis([10_000] * 30)
    zones = partition(ms, 60_000, 70_000, group_by=None)
    assert all(60_000 <= z.population <= 70_000 and not z.exception for z in zones)
    assert_conserved(zones, ms)


def grid(n_rows: int, n_cols: int, sizes) -> tuple[list[Municipality], dict[str, set[str]]]:
    ms = [
        Municipality(f"G{r}-{c}", f"G{r}-{c}", int(sizes[r * n_cols + c]))
        for r in range(n_rows)
        for c in range(n_cols)
    ]
    adj: dict[str, set[str]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            nb = {f"G{r + dr}-{c + dc}" for dr, dc in ((0, 1), (1, 0))}
            adj[f"G{r}-{c}"] = {x for x in nb if x in {m.id for m in ms}}
    return ms, adj


def connected(zone: Zone, adj: dict[str, set[str]]) -> bool:
    ids = set(zone.municipality_ids)
    sym: dict[str, set[str]] = {i: set() for i in ids}
    for a, bs in adj.items():
        for b in bs:
            if a in ids and b in ids:
                sym[a].add(b)
                sym[b].add(a)
    start = next(iter(ids))
    seen, stack = {start}, [start]
    while stack:
        for u in sym[stack.pop()]:
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen == ids


def test_adjacency_gives_contiguous_zones():
    rng = np.random.default_rng(7)
    ms, adj = grid(10, 12, rng.integers(3_000, 15_000, size=120))
    zones = partition(ms, group_by=None, adjacency=adj)
    assert_conserved(zones, ms)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    assert all(z.exception is None for z in zones)
    assert all(connected(z, adj) for z in zones)
    assert zones == partition(ms, group_by=None, adjacency=adj)


def test_adjacency_with_an_exclave_and_unknown_ids():
    rng = np.random.default_rng(3)
    ms, adj = grid(6, 6, rng.integers(5_000, 12_000, size=36))
    ms.append(Municipality("X", "Exclave", 2_000))
    adj["X"] = {"elsewhere"}  # its only neighbour is outside the table: ignored
    zones = partition(ms, group_by=None, adjacency=adj)
    assert_conserved(zones, ms)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    for z in zones:
        rest = Zone(z.name, [m for m in z.municipalities if m.id != "X"])
        assert connected(rest, adj)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 200_000), min_size=1, max_size=60),
    labels=st.lists(st.sampled_from(["a", "b", "c"]), min_size=60, max_size=60),
    grouped=st.booleans(),
)
def test_partition_conserves_everyone(sizes, labels, grouped):
    ms = [
        Municipality(f"M{i}", f"M{i}", p, arrondissement=labels[i], province="P")
        for i, p in enumerate(sizes)
    ]
    zones = partition(ms, group_by="arrondissement" if grouped else None)
    assert_conserved(zones, ms)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    assert all(len(z) >= 1 for z in zones)


@settings(deadline=None)
@given(sizes=st.lists(st.integers(1, 20_000), min_size=1, max_size=80))
def test_partition_within_bounds_whenever_small_towns_allow(sizes):
    # If every town is at most s and some k puts the mean zone in [min + s, max - s], greedy
    # balancing alone reaches bounds: no zone may be flagged.
    lo, hi, s, total = 75_000, 125_000, max(sizes), sum(sizes)
    possible = any(lo + s <= total / k <= hi - s for k in range(1, len(sizes) + 1))
    zones = partition(munis(sizes), lo, hi, group_by=None)
    assert_conserved(zones, munis(sizes))
    assert_bounds_or_flagged(zones, lo, hi)
    if possible:
        assert all(lo <= z.population <= hi and z.exception is None for z in zones)


@settings(deadline=None)
@given(sizes=st.lists(st.integers(500, 40_000), min_size=2, max_size=40))
def test_partition_on_a_chain_keeps_zones_contiguous(sizes):
    ms = munis(sizes)
    adj = {ms[i].id: {ms[i + 1].id} for i in range(len(ms) - 1)}
    zones = partition(ms, group_by=None, adjacency=adj)
    assert_conserved(zones, ms)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    if sum(sizes) >= 75_000:
        assert all(connected(z, adj) for z in zones)


# ---------------------------------------------------------------------------------------------
# Existing zonings
# ---------------------------------------------------------------------------------------------


def test_validate_zoning_reports_every_violation():
    ms = [
        Municipality("1", "A", 50_000, zone="Small"),
        Municipality("2", "B", 20_000, zone="Small"),
        Municipality("3", "C", 90_000, zone="Big"),
        Municipality("4", "D", 60_000, zone="Big"),
        Municipality("5", "City", 300_000, zone="City"),
        Municipality("6", "E", 100_000, zone="Fine"),
        Municipality("7", "Lost", 1_000),
        Municipality("8", "Lost too", 2_000),
        Municipality("9", "Tiny", 10_000, zone="Tiny"),
    ]
    v = validate_zoning(ms)
    kinds = Counter(x.kind for x in v)
    assert kinds == {"below_min": 2, "above_max": 1, "no_zone": 2}
    text = [str(x) for x in v]
    assert any("'Small'" in t and "70,000" in t for t in text)
    assert any("'Big'" in t and "150,000" in t for t in text)
    assert any("official minimum" in t and "'Tiny'" in t for t in text)
    assert any("Lost too" in t for t in text)
    assert not any("City" in t for t in text)  # a single large city is the allowed exception
    assert validate_zoning([replace(m, zone="Z") for m in munis([100_000])]) == []
    zones = zones_from_column(ms)
    flags = {z.name: z.exception for z in zones}
    assert flags["City"].startswith("large city")
    assert flags["Small"].startswith("below minimum") and flags["Fine"] is None
    assert flags["Big"].startswith("above maximum")
    assert sum(len(z) for z in zones) == 7


# ---------------------------------------------------------------------------------------------
# Synthetic region
# ---------------------------------------------------------------------------------------------


def test_synthetic_region_is_deterministic_and_named():
    a = synthetic_region()
    assert a == synthetic_region(seed=2020)
    assert a != synthetic_region(seed=2021)
    assert len(a) == 300 and a[0].id == "S0001" and a[0].name == "Gemeente 001"
    assert 5_500_000 < sum(m.population for m in a) < 7_500_000
    small = synthetic_region(7, 110_000, seed=3)
    assert [m.name for m in small][:2] == ["Gemeente 01", "Gemeente 02"]
    assert sum(m.population for m in small) == 110_000
    assert all(m.population >= 1 for m in small)
    tight = synthetic_region(50, 50)
    assert [m.population for m in tight] == [1] * 50
    with pytest.raises(ZonesimInputError, match="total_population"):
        synthetic_region(10, 9)
    with pytest.raises(ZonesimInputError, match="n_municipalities"):
        synthetic_region(0)
    with pytest.raises(ZonesimInputError, match="seed"):
        synthetic_region(5, seed=-1)


def test_synthetic_region_is_heavy_tailed():
    sizes = np.array([m.population for m in synthetic_region()])
    assert abs(np.median(sizes) - geo.FLANDERS_MEDIAN) / geo.FLANDERS_MEDIAN < 0.25
    assert sizes.max() > 125_000  # a few large cities
    assert (sizes > 125_000).sum() <= 10
    assert sizes.mean() > 1.25 * np.median(sizes)  # right-skewed


def ks_2samp(x, y) -> float:
    x, y = np.sort(x), np.sort(y)
    grid_ = np.concatenate([x, y])
    fx = np.searchsorted(x, grid_, side="right") / len(x)
    fy = np.searchsorted(y, grid_, side="right") / len(y)
    return float(np.abs(fx - fy).max())


@pytest.mark.realdata
def test_synthetic_sizes_match_flanders(flanders):
    real = np.array([m.population for m in flanders])
    assert len(real) == geo.FLANDERS_MUNICIPALITIES
    assert abs(np.median(real) - geo.FLANDERS_MEDIAN) <= 0.5  # 15,036.5 as published: 15,037
    # 5% critical value of the two-sample KS test for 300 against 300: 1.358 * sqrt(2 / 300).
    critical = 1.358 * np.sqrt(2 / 300)
    for seed in range(2020, 2030):
        syn = np.array([m.population for m in synthetic_region(seed=seed)])
        assert abs(np.median(syn) - np.median(real)) / np.median(real) < 0.25
        assert ks_2samp(real, syn) < critical, seed
    # Rescaled to Flanders' total, the shape is kept.
    syn = np.array([m.population for m in synthetic_region(300, int(real.sum()))])
    assert syn.sum() == real.sum()
    assert ks_2samp(real, syn) < critical


# ---------------------------------------------------------------------------------------------
# zone_from_config
# ---------------------------------------------------------------------------------------------


def test_zone_from_default_config():
    cfg = ZoneConfig()
    z = zone_from_config(cfg)
    assert z.name == cfg.name and len(z) == cfg.n_municipalities
    assert z.population == cfg.population and z.exception is None
    assert all(m.population >= 1 and m.zone == cfg.name for m in z.municipalities)
    assert zone_from_config(cfg) == z  # stable order and sizes
    other = zone_from_config(replace(cfg, geography_seed=1))
    assert [m.population for m in other.municipalities] != [m.population for m in z.municipalities]
    small = zone_from_config(replace(cfg, population=20_000, n_municipalities=3))
    assert small.population == 20_000 and small.exception.startswith("synthetic zone")
    with pytest.raises(ZonesimInputError, match=r"zone\.population"):
        zone_from_config(replace(cfg, population=5, n_municipalities=7))
    with pytest.raises(ZonesimInputError, match=r"zone\.population"):
        zone_from_config(replace(cfg, population=0))


ZONED_CSV = (
    "id,name,population,zone\n"
    "1,A,60000,North\n2,B,40000,North\n3,C,90000,South\n4,D,10000,\n5,E,0,Ghost\n"
)


def test_zone_from_config_with_a_zoned_csv(tmp_path):
    p = write(tmp_path, ZONED_CSV)
    first = zone_from_config(ZoneConfig(municipalities_csv=str(p)))
    assert first.name == "North" and first.municipality_ids == ("1", "2")
    south = zone_from_config(
        ZoneConfig(municipalities_csv="m.csv", zone_id="South"), base_dir=tmp_path
    )
    assert south.population == 90_000 and south.municipalities[0].name == "C"
    with pytest.raises(ZonesimInputError) as info:
        zone_from_config(ZoneConfig(municipalities_csv=str(p), zone_id="West"))
    msg = str(info.value)
    assert "zone.zone_id" in msg and "'West'" in msg and "North, South, Ghost" in msg
    with pytest.raises(ZonesimInputError, match="no inhabitants"):
        zone_from_config(ZoneConfig(municipalities_csv=str(p), zone_id="Ghost"))
    with pytest.raises(ZonesimInputError, match="file not found"):
        zone_from_config(ZoneConfig(municipalities_csv=str(tmp_path / "none.csv")))


def test_zone_from_config_partitions_an_unzoned_csv(tmp_path):
    rows = "".join(f"{i},T{i},{10_000 + 100 * i}\n" for i in range(30))
    p = write(tmp_path, "id,name,population\n" + rows)
    z = zone_from_config(ZoneConfig(municipalities_csv=str(p)))
    assert z.name == "Zone 01" and 75_000 <= z.population <= 125_000
    ids = [int(i) for i in z.municipality_ids]
    assert ids == sorted(ids)
    assert zone_from_config(ZoneConfig(municipalities_csv=str(p), zone_id="Zone 02")).name == (
        "Zone 02"
    )


# ---------------------------------------------------------------------------------------------
# The real table (skipped where ../shared/data is absent)
# ---------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_table_loads(real, flanders):
    assert len(real) == 581 and len({m.id for m in real}) == 581
    assert len(flanders) == 300
    assert sum(m.population for m in flanders) == geo.FLANDERS_POPULATION
    antwerpen = next(m for m in flanders if m.id == "11002")
    assert (antwerpen.name, antwerpen.population) == ("Antwerpen", geo.FLANDERS_LARGEST)
    assert antwerpen.arrondissement == "Antwerpen" and antwerpen.province == "Antwerpen"


@pytest.mark.realdata
def test_flanders_partitions_into_about_sixty_zones(flanders):
    zones = partition(flanders)
    assert 50 <= len(zones) <= 70
    assert_conserved(zones, flanders)
    ids = [m.id for z in zones for m in z.municipalities]
    assert sorted(ids) == sorted(m.id for m in flanders)  # each id exactly once
    flagged = {z.name: z.exception for z in zones if z.exception}
    assert set(flagged) == {"Antwerpen", "Gent"}
    assert all(note.startswith("large city") for note in flagged.values())
    for z in zones:
        if not z.exception:
            assert 75_000 <= z.population <= 125_000, (z.name, z.population)
            assert len({m.arrondissement for m in z.municipalities}) <= 2
    # Diksmuide (51,696) and Veurne (61,739) are too small alone: merged within West-Vlaanderen.
    for z in zones:
        arrs = {m.arrondissement for m in z.municipalities}
        if "Diksmuide" in arrs or "Veurne" in arrs:
            assert {m.province for m in z.municipalities} == {"West-Vlaanderen"}
    assert validate_zoning([m for z in zones for m in z.municipalities]) == []


@pytest.mark.realdata
def test_flanders_without_grouping(flanders):
    zones = partition(flanders, group_by=None)
    assert_conserved(zones, flanders)
    assert 50 <= len(zones) <= 70
    assert {z.name for z in zones if z.exception} == {"Antwerpen", "Gent"}
    assert_bounds_or_flagged(zones, 75_000, 125_000)


@pytest.mark.realdata
def test_antwerpen_districts_make_zones_within_bounds(flanders):
    # Declared districts (populations illustrative, adding up to the city's 529,247).
    districts = {
        "11002": [
            ("Antwerpen-Noord", 96_000),
            ("Antwerpen-Zuid", 94_247),
            ("Berchem", 42_000),
            ("Borgerhout", 45_000),
            ("Deurne", 80_000),
            ("Ekeren", 25_000),
            ("Hoboken", 39_000),
            ("Merksem", 45_000),
            ("Wilrijk", 42_000),
            ("Berendrecht-Zandvliet-Lillo", 21_000),
        ]
    }
    zones = partition(flanders, districts=districts)
    assert_conserved(zones, flanders)
    city = [z for z in zones if any(m.parent == "11002" for m in z.municipalities)]
    assert len(city) >= 4
    assert all(75_000 <= z.population <= 125_000 for z in city)
    assert sum(z.population for z in city) == geo.FLANDERS_LARGEST
    assert all(z.exception.startswith("districts of Antwerpen") for z in city)
    assert {z.name for z in zones if z.exception and z not in city} == {"Gent"}


@pytest.mark.realdata
def test_belgium_partition_conserves_everyone(real):
    zones = partition(real)
    assert_conserved(zones, real)
    assert_bounds_or_flagged(zones, 75_000, 125_000)
    flagged = {z.name for z in zones if z.exception}
    assert {"Antwerpen", "Gent"} <= flagged
