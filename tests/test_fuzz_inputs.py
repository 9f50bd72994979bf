"""Fuzzing the file loaders: whatever bytes a file holds, a loader returns a valid object or raises
:class:`~zonesim.errors.ZonesimInputError` with a one-line message naming the file; never another
exception (a traceback on the command line).

tests/test_config.py fuzzes the dict level (``from_dict``, overrides); here the files themselves
are fuzzed: TOML-ish text built from the schema's own tables and keys with hostile values
(NaN, infinities, huge and negative numbers, wrong types, dates, junk lines), random mutations
of the shipped files, random bytes, and municipality tables with random rows, delimiters and
encodings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonesim.config import (
    Config,
    ZoneConfig,
    from_dict,
    iter_parameters,
    load_config,
    load_policy,
    to_dict,
)
from zonesim.errors import ZonesimInputError
from zonesim.experiment import load_experiment
from zonesim.geography import load_municipalities, zone_from_config
from zonesim.runs.pipeline import load_study

REPO = Path(__file__).resolve().parents[1]
LEAVES = [path for path, _, _ in iter_parameters()]
TABLES = sorted({p.rsplit(".", 1)[0] for p in LEAVES if "." in p})

# TOML literals: in range, at and beyond the bounds, and the wrong kind altogether.
toml_values = st.sampled_from(
    [
        "nan",
        "+nan",
        "inf",
        "-inf",
        "1e999",
        "-1e999",
        "0",
        "-1",
        "1",
        "0.5",
        "1_000_001",
        "9223372036854775807",
        "-9223372036854775808",
        "1e-320",
        "true",
        "false",
        '""',
        '"many"',
        '"0.5"',
        "[]",
        "[0.1, 0.2, 0.3, 0.4]",
        "[0.1, nan, 0.3, 0.4]",
        "[1, 2, 3, 4, 5, 6, 7]",
        '["a", "b"]',
        "[[1], [2]]",
        "{}",
        "{ a = 1 }",
        "1979-05-27",
        "07:32:00",
        "1979-05-27T07:32:00Z",
        '"../../etc/passwd"',
        '"nowhere.csv"',
    ]
) | st.builds(repr, st.floats() | st.integers(min_value=-(10**30), max_value=10**30))
printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=15)
toml_lines = st.one_of(
    st.builds(lambda t: f"[{t}]", st.sampled_from(TABLES) | st.just("zone.extra")),
    st.builds(
        lambda k, v: f"{k} = {v}",
        st.sampled_from([p.rsplit(".", 1)[-1] for p in LEAVES]) | st.sampled_from(LEAVES),
        toml_values,
    ),
    st.builds(lambda k, v: f'"{k}" = {v}', printable.filter(lambda s: '"' not in s), toml_values),
    printable,  # junk
)
toml_docs = st.lists(toml_lines, max_size=12).map("\n".join)


def mutated(text: str) -> st.SearchStrategy[bytes]:
    """``text`` with a few random byte-level edits (replace, insert, cut)."""
    raw = text.encode("utf-8")

    def edit(data: bytes, pos: int, cut: int, insert: bytes) -> bytes:
        pos = pos % (len(data) + 1)
        return data[:pos] + insert + data[pos + cut :]

    one = st.tuples(st.integers(0, 10**6), st.integers(0, 8), st.binary(max_size=6))

    def apply(edits):
        data = raw
        for pos, cut, ins in edits:
            data = edit(data, pos, cut, ins)
        return data

    return st.lists(one, min_size=1, max_size=4).map(apply)


def check_loads(loader, path: Path):
    """``loader(path)``: a result, or a one-line ZonesimInputError naming the file."""
    try:
        return loader(path)
    except ZonesimInputError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg, msg
        assert msg.strip(), "an empty message"
        return None


def write(tmp_path_factory, name: str, data: bytes | str) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / name
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# TOML files: configuration, policy, experiment, study
# ---------------------------------------------------------------------------------------------


@settings(max_examples=150)
@given(doc=toml_docs)
def test_fuzz_config_file(tmp_path_factory, doc):
    path = write(tmp_path_factory, "config.toml", doc)
    cfg = check_loads(load_config, path)
    if cfg is not None:  # accepted: every value is within its domain
        assert isinstance(cfg, Config)
        assert from_dict(Config, to_dict(cfg), source="<check>") == cfg


@settings(max_examples=80)
@given(data=st.data())
def test_fuzz_mutated_shipped_files(tmp_path_factory, data):
    """The shipped zone, policies, experiment and study files with random byte edits."""
    loaders = {
        "configs/zones/default.toml": load_config,
        "configs/policies/integrated.toml": load_policy,
        "configs/scenarios/care_paradox.toml": lambda p: load_config(scenario=str(p)),
        "experiments/default.toml": load_experiment,
        "experiments/sobol_small.toml": load_study,
    }
    rel = data.draw(st.sampled_from(sorted(loaders)), label="file")
    raw = data.draw(mutated((REPO / rel).read_text(encoding="utf-8")), label="bytes")
    path = write(tmp_path_factory, Path(rel).name, raw)
    check_loads(loaders[rel], path)


@settings(max_examples=60)
@given(raw=st.binary(max_size=200), which=st.sampled_from(["config", "policy", "exp", "study"]))
def test_fuzz_random_bytes_as_toml(tmp_path_factory, raw, which):
    loader = {
        "config": load_config,
        "policy": load_policy,
        "exp": load_experiment,
        "study": load_study,
    }[which]
    path = write(tmp_path_factory, f"{which}.toml", raw)
    check_loads(loader, path)


experiment_keys = st.sampled_from(
    [
        "name",
        "scenario",
        "config",
        "policies",
        "baseline",
        "replicates",
        "years",
        "warmup_days",
        "seed",
        "population",
        "overrides",
        "workers",
    ]
)


@settings(max_examples=100)
@given(
    lines=st.lists(
        st.builds(lambda k, v: f"{k} = {v}", experiment_keys, toml_values)
        | st.sampled_from(
            [
                'policies = ["status_quo", "integrated"]',
                'policies = ["status_quo", "nope"]',
                'overrides = ["zone.population=abc"]',
                'overrides = ["scenario.years=nan"]',
                'baseline = "integrated"',
                "[design]",
                'method = "sobol"',
                "n = 4",
                "[design.parameters]",
                '"parameters.gatekeeper.gp_fte_per_100k" = [60.0, 80.0]',
                '"policy.caseload_cap" = [1, 80]',
                '"zone.population" = [1000, 2000000]',
            ]
        ),
        max_size=8,
    ),
    which=st.sampled_from(["exp", "study"]),
)
def test_fuzz_experiment_and_study_files(tmp_path_factory, lines, which):
    """Experiment and study files are resolved too (everything a run needs is checked)."""
    path = write(tmp_path_factory, f"{which}.toml", "\n".join(lines))
    loaded = check_loads(load_experiment if which == "exp" else load_study, path)
    if loaded is None:
        return
    if which == "exp":
        check_loads(lambda _: loaded.resolve(), path)
    else:
        from zonesim.runs.pipeline import resolve_study

        check_loads(lambda _: resolve_study(loaded), path)


# ---------------------------------------------------------------------------------------------
# Municipality tables
# ---------------------------------------------------------------------------------------------

cells = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "4000",
            "4000.0",
            "4000.5",
            "1e3",
            "nan",
            "inf",
            "-inf",
            "1e400",
            "99999999999999999999999",
            "=1+1",
            "@SUM(A1)",
            "__import__('os').system('true')",
            '"quoted, cell"',
            "Liège",
            "zone 1",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=10),
)
headers = st.lists(
    st.sampled_from(
        [
            "id",
            "NIS_code",
            "name",
            "municipality_NL",
            "population",
            "inhabitants",
            "zone",
            "arrondissement",
            "province",
            "region",
            "other",
            "ID",
            "",
        ]
    ),
    min_size=0,
    max_size=6,
)


@st.composite
def tables(draw) -> bytes:
    header = draw(headers)
    width = st.integers(0, max(len(header) + 1, 1))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=draw(width)), min_size=0, max_size=6))
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delim.join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=200)
@given(raw=tables())
def test_fuzz_municipality_table(tmp_path_factory, raw):
    path = write(tmp_path_factory, "munis.csv", raw)
    munis = check_loads(load_municipalities, path)
    if munis is None:
        return
    ids = [m.id for m in munis]
    assert len(set(ids)) == len(ids) and all(ids)
    assert all(isinstance(m.population, int) and m.population >= 0 for m in munis)


@settings(max_examples=60)
@given(raw=st.binary(max_size=300))
def test_fuzz_municipality_random_bytes(tmp_path_factory, raw):
    path = write(tmp_path_factory, "munis.csv", raw)
    check_loads(load_municipalities, path)


@settings(max_examples=60)
@given(raw=tables())
def test_fuzz_zone_from_a_table(tmp_path_factory, raw):
    """A run's zone from any table: a zone of 1 to 1,000,000 inhabitants, or an input error."""
    path = write(tmp_path_factory, "munis.csv", raw)
    zone = check_loads(lambda p: zone_from_config(ZoneConfig(municipalities_csv=str(p))), path)
    if zone is not None:
        assert 1 <= zone.population <= 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        "id,name,population\n1,A,1e400\n",
        "id,name,population\n1,A,99999999999999999999999\n",
        "id,name,population\n1,A,1500000\n",
        "id;name;population\n1;A;nan\n",
        ",",
        ";;\n\t\n",
    ],
)
def test_fuzz_regressions(tmp_path, text):
    """Examples the fuzzers found or draw rarely: huge numbers used to escape as OverflowError,
    a zone over a million inhabitants used to be simulated, a file of only delimiters failed an
    assertion."""
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ZonesimInputError) as info:
        zone_from_config(ZoneConfig(municipalities_csv=str(path)))
    assert str(path) in str(info.value)
