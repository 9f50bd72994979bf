"""The documentation stays true to the code.

- docs/odd.md lists every parameter of the configuration schema and every policy lever, with its
  default and its source or the flag that it is an assumption; its generated blocks are up to
  date with the code (scripts/gen_param_tables.py);
- docs/calibration.md lists every calibration target, and says how and when it was generated;
- every scorecard metric is defined in the concepts guide;
- every page is in the navigation and every navigation entry exists; the site builds with
  ``mkdocs build --strict`` (when the docs extra is installed);
- the helpers of the docs build (the docstring converter, the optional-page hook) behave.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from zonesim.config import PolicyConfig, fitted_before, is_assumption, iter_parameters

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ODD = DOCS / "odd.md"


def _load_script(name: str):
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_zonesim_docs_{name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_script("gen_param_tables")


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def _all_parameters():
    return list(iter_parameters()) + list(iter_parameters(PolicyConfig(), "policy."))


def _row(text: str, path: str) -> list[str]:
    """The cells of the table row of parameter ``path`` in odd.md (exactly one row)."""
    rows = [line for line in text.splitlines() if line.startswith(f"| `{path}` |")]
    assert len(rows) == 1, f"docs/odd.md: expected one table row for {path}, found {len(rows)}"
    return [c.strip() for c in re.split(r"(?<!\\)\|", rows[0])[1:-1]]


# --- docs/odd.md -----------------------------------------------------------------------------


def test_every_parameter_and_lever_is_in_the_odd_with_its_default(odd_text):
    params = _all_parameters()
    assert len(params) > 100
    assert any(p.startswith("policy.") for p, _f, _v in params)
    for path, _f, default in params:
        cells = _row(odd_text, path)
        shown = cells[1]
        assert shown.startswith("`") and shown.endswith("`"), (path, shown)
        # The default cell is TOML; read back, it is the schema's default.
        value = tomllib.loads(f"v = {shown.strip('`')}")["v"]
        expected = list(default) if isinstance(default, tuple) else default
        assert value == expected, f"{path}: docs/odd.md shows {shown}, the schema has {default!r}"
        assert type(value) is type(expected) or isinstance(expected, list), (path, value)


def test_every_assumption_is_flagged_and_every_source_cited(odd_text, gen):
    n_assumptions = n_sourced = 0
    for path, f, default in _all_parameters():
        cells = _row(odd_text, path)
        source_cell = cells[4]
        if gen.is_label(f, default):
            assert source_cell == "label", (path, source_cell)
        elif is_assumption(f):
            # a fitted assumption says so, with its value before the fit (config.FITTED_DEFAULTS)
            fitted = "**assumption**, fitted (docs/data/fit; was "
            if fitted_before(path):
                assert source_cell.startswith(fitted), (path, source_cell)
            else:
                assert source_cell == "**assumption**", (path, source_cell)
            n_assumptions += 1
        else:
            assert "assumption" not in source_cell.lower(), (path, source_cell)
            assert f.metadata["source"].replace("|", "\\|") == source_cell, (path, source_cell)
            n_sourced += 1
        assert f.metadata["unit"] in cells[2], (path, cells[2])
    assert n_assumptions > 0
    assert n_sourced > 0


def test_the_generated_blocks_of_the_odd_are_up_to_date(gen, odd_text):
    assert gen.missing_blocks(odd_text) == []
    assert gen.render(odd_text) == odd_text, (
        "docs/odd.md is out of date with the code: run python scripts/gen_param_tables.py"
    )


def test_the_odd_has_every_section_of_the_protocol(odd_text):
    headings = [
        line.lstrip("#").strip().lower() for line in odd_text.splitlines() if line[:1] == "#"
    ]
    for part in (
        "overview",
        "purpose and patterns",
        "entities, state variables and scales",
        "process overview and scheduling",
        "design concepts",
        "details",
        "initialisation",
        "input data",
        "submodels",
    ):
        assert any(part in h for h in headings), f"docs/odd.md lacks a section on {part!r}"
    for concept in (
        "basic principles",
        "emergence",
        "adaptation",
        "objectives",
        "learning",
        "prediction",
        "sensing",
        "interaction",
        "stochasticity",
        "collectives",
        "observation",
    ):
        assert f"**{concept}.**" in odd_text.lower(), f"docs/odd.md: design concept {concept}"


def test_the_odd_describes_every_process_kernel(odd_text):
    core = ROOT / "src" / "zonesim" / "core"
    for module in ("events", "streams", "gatekeeper", "hospital", "switching", "workforce"):
        assert (core / f"{module}.py").is_file()
        assert f"zonesim.core.{module}" in odd_text, f"docs/odd.md never names core/{module}.py"
    # the one-draw-per-patient-day scheme and why exogenous events come first
    assert "One random draw per patient-day" in odd_text
    assert "Why the exogenous events come first" in odd_text


def test_the_population_assumptions_table_covers_the_docstring(gen, odd_text):
    import zonesim.population as pop

    rows = gen.rst_simple_table(pop.__doc__)
    assert len(rows) >= 10
    for item, _assumption in rows:
        assert f"| {item} |" in odd_text, item


# --- docs/calibration.md ---------------------------------------------------------------------


def test_calibration_page_lists_every_target_and_how_it_was_made():
    from zonesim.calibration import TARGETS

    text = (DOCS / "calibration.md").read_text(encoding="utf-8")
    for t in TARGETS:
        assert f"| `{t.metric}` |" in text, f"docs/calibration.md lacks the target {t.metric}"
    assert re.search(r"Generated on \*\*\d{4}-\d{2}-\d{2}\*\*", text), "no generation date"
    assert re.search(r"\*\*seed \d+\*\*", text), "no seed"
    assert "zonesim calibrate --format json" in text
    assert re.search(r"\*\*hold-out targets \(validation\): \d+ of \d+ within tolerance", text)
    # The kinds apart, inputs never shown as validation.
    for head in ("### Inputs", "### Fitting targets", "### Hold-out targets"):
        assert head in text, head
    assert "(not validation)" in text


def test_validation_page_is_generated_and_shows_every_headline_metric_per_year():
    from zonesim.longrun import HEADLINE

    text = (DOCS / "validation.md").read_text(encoding="utf-8")
    assert "Generated by scripts/gen_validation_md.py" in text
    assert re.search(r"Generated on \*\*\d{4}-\d{2}-\d{2}\*\*", text), "no generation date"
    for m in HEADLINE:
        assert f"(`{m}`)" in text, f"docs/validation.md lacks the yearly table of {m}"
    for head in (
        "## The baseline is steady",
        "## The care paradox shows the loop",
        "## Ageing moves as its age structure explains",
        "## Zone size",
        "## Common random numbers hold for years",
    ):
        assert head in text, head
    img = re.search(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert img and (DOCS / img.group(1)).is_file(), "the figure is missing"


def test_the_odd_patterns_list_every_target_with_its_kind(odd_text):
    from zonesim.calibration import TARGETS

    word = {"input": "input", "fit": "fit", "holdout": "hold-out"}
    for t in TARGETS:
        assert f"| {word[t.kind]} | `{t.metric}` |" in odd_text, t.metric


# --- the guide ---------------------------------------------------------------------------------


def test_every_scorecard_metric_is_defined_in_the_concepts_guide():
    from zonesim.metrics import metric_sections

    text = (DOCS / "guide" / "concepts.md").read_text(encoding="utf-8")
    missing = [m for m in metric_sections() if f"`{m}`" not in text]
    assert not missing, f"docs/guide/concepts.md does not define: {', '.join(missing)}"


def test_every_preset_is_described_in_the_policy_guide():
    from zonesim.policies import preset_names

    text = (DOCS / "guide" / "policies.md").read_text(encoding="utf-8")
    for name in preset_names():
        assert f"`{name}`" in text, name


# --- navigation and the build ----------------------------------------------------------------


def _mkdocs_config() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def _nav_files(nav) -> list[str]:
    out: list[str] = []
    if isinstance(nav, list):
        for item in nav:
            out += _nav_files(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            out += _nav_files(value)
    elif isinstance(nav, str):
        out.append(nav)
    return out


def test_every_page_is_in_the_navigation_and_every_entry_exists():
    cfg = _mkdocs_config()
    nav = _nav_files(cfg["nav"])
    optional = set(cfg.get("extra", {}).get("optional_pages", []))
    for page in nav:
        assert (DOCS / page).is_file() or page in optional, f"mkdocs.yml: {page} does not exist"
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    pages = {p for p in pages if ".ipynb_checkpoints" not in p}
    assert not pages - set(nav), f"pages not in mkdocs.yml's nav: {sorted(pages - set(nav))}"


def test_the_notebooks_linked_from_the_guide_exist():
    text = (DOCS / "guide" / "notebooks.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\(\.\./notebooks/([^)]+\.ipynb)\)", text))
    present = {p.name for p in (DOCS / "notebooks").glob("*.ipynb")}
    assert linked == present


def test_the_site_builds_in_strict_mode(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("material")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = tmp_path / "site"
    assert (site / "odd" / "index.html").is_file()
    assert (site / "reference" / "model" / "index.html").is_file()
    html = (site / "reference" / "model" / "index.html").read_text(encoding="utf-8")
    assert "ZoneModel" in html and "run_years" in html
    assert (site / "notebooks" / "02_compare_policies.ipynb").is_file()


# --- helpers of the build --------------------------------------------------------------------


def test_the_docstring_converter_renders_roles_sections_and_tables():
    conv = _load_script("griffe_rst_docstrings").convert
    doc = (
        "Run :func:`~zonesim.experiment.compare` on ``x``.\n\n"
        "Parameters\n----------\n"
        "config: a :class:`zonesim.config.Config`,\n    or None.\n"
        "seed: the seed.\n\n"
        "=====  =====\nitem   what\n=====  =====\nage    a pyramid\n       rescaled\n"
        "=====  =====\n"
    )
    out = conv(doc)
    assert "Run `compare` on `x`." in out
    assert "**Parameters**" in out
    assert "- `config`: a `zonesim.config.Config`," in out
    assert "  or None." in out
    assert "- `seed`: the seed." in out
    assert "| item | what |" in out
    assert "| age | a pyramid rescaled |" in out
    literal = conv("Files::\n\n    a.toml   the :func:`x` file\n\nThen ``y``.")
    assert literal == "Files:\n\n    a.toml   the :func:`x` file\n\nThen `y`."


def test_the_hook_leaves_out_missing_optional_pages():
    hooks = _load_script("mkdocs_hooks")
    nav = [{"Guide": ["a.md", {"Sweeps": "sweeps.md"}]}, {"Dash": "dashboard.md"}]
    assert hooks._prune(nav, {"sweeps.md", "dashboard.md"}) == [{"Guide": ["a.md"]}]
    assert hooks._prune(nav, set()) == nav

    class Page:
        class file:
            src_uri = "guide/x.md"

    hooks._missing.clear()
    hooks._missing.add("sweeps.md")
    try:
        md = "See [sweeps](../sweeps.md#slurm) and [odd](../odd.md)."
        out = hooks.on_page_markdown(md, Page())
        assert out == "See sweeps (being written) and [odd](../odd.md)."
    finally:
        hooks._missing.clear()
